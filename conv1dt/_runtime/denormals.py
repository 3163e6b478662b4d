"""Opt-in flush-to-zero for conv1dt's kernels: subnormal operands and results read and written as
zeros (MXCSR's FTZ and DAZ), as TensorFlow's CPU threads run, for the duration of a call only."""
import contextlib
import contextvars

from .._compiled import _cpu
from .threads import get_num_threads

__all__ = ["flush_denormals", "set_flush_denormals"]

_enabled = contextvars.ContextVar("conv1dt_flush_denormals", default=False)
ever = False    # until flushing is first enabled, conv1dt/_ops.py does not even look here


def set_flush_denormals(enabled):
    """Make conv1dt's kernels flush subnormal numbers to zero (``True``) or keep IEEE arithmetic
    (``False``, the default), in the current thread (or context); return the previous setting.

    Parameters
    ----------
    enabled : bool

    Returns
    -------
    bool
        The setting before the call.

    Raises
    ------
    TypeError
        If ``enabled`` is not a bool.
    RuntimeError
        If ``enabled`` is True on a CPU without the SSE control register (not x86-64).

    See Also
    --------
    flush_denormals : the same, for a ``with`` block.

    Notes
    -----
    With flushing on, each call sets the FTZ (flush-to-zero) and DAZ (denormals-are-zero) bits of
    MXCSR on its own thread and on the OpenMP threads it runs on, and restores them when it
    returns: NumPy and other code between calls keep IEEE arithmetic. Subnormal inputs (below
    ``1.2e-38`` in float32, ``2.2e-308`` in float64) are then read as zeros and a product or sum
    whose exact value is subnormal is written as zero; normal numbers are computed exactly as
    before. This is how TensorFlow's CPU kernels run (Eigen sets FTZ/DAZ on its threads), so
    flushing brings results on subnormal data to TensorFlow's; without it conv1dt follows IEEE
    754, which agrees with TensorFlow everywhere else. Subnormal operands slow x86 arithmetic by
    50x or more; flushing removes that cost. The setting is per thread (a context variable, like
    ``numpy.errstate``): threads started later, Dask's workers among them, begin with IEEE.

    Examples
    --------
    >>> import numpy as np
    >>> import conv1dt
    >>> x = np.full((1, 1, 1), 1e-20, np.float32)
    >>> f = np.full((1, 1, 1), 1e-20, np.float32)           # the product, 1e-40, is subnormal
    >>> float(conv1dt.conv1d(x, f, 1)[0, 0, 0]) > 0
    True
    >>> previous = conv1dt.set_flush_denormals(True)
    >>> float(conv1dt.conv1d(x, f, 1)[0, 0, 0])
    0.0
    >>> conv1dt.set_flush_denormals(previous)
    True
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be True or False, got {enabled!r}")
    if enabled and _cpu._flush_denormals(False, 1) is None:
        raise RuntimeError("conv1dt cannot flush subnormals on this CPU (no SSE control register)")
    global ever
    ever = ever or enabled
    previous = _enabled.get()
    _enabled.set(enabled)
    return previous


@contextlib.contextmanager
def flush_denormals(enabled=True):
    """A ``with`` block in which conv1dt's kernels flush subnormal numbers to zero (or, with
    ``enabled=False``, keep IEEE arithmetic); the previous setting comes back after it.

    Parameters
    ----------
    enabled : bool, optional
        Default True.

    See Also
    --------
    set_flush_denormals : what flushing does, and its effect on results.

    Examples
    --------
    >>> import numpy as np
    >>> import conv1dt
    >>> x = np.full((1, 1, 1), 1e-20, np.float32)
    >>> with conv1dt.flush_denormals():
    ...     float(conv1dt.conv1d(x, x, 1)[0, 0, 0])
    0.0
    >>> float(conv1dt.conv1d(x, x, 1)[0, 0, 0]) > 0
    True
    """
    previous = set_flush_denormals(enabled)
    try:
        yield
    finally:
        _enabled.set(previous)


def run(fn, *args):
    """``fn(*args)`` with FTZ and DAZ set on the calling thread and its OpenMP threads when
    flushing is enabled in the calling context, restored after; plainly otherwise."""
    if not _enabled.get():
        return fn(*args)
    n = get_num_threads()
    before = _cpu._flush_denormals(True, n)
    try:
        return fn(*args)
    finally:
        _cpu._flush_denormals(bool(before), n)
