"""How many threads the kernels use: one helper decides, :func:`get_num_threads`.

Three things set the count, from the outside in:

1. OpenMP's own maximum, ``omp_get_max_threads()``: all CPUs, or ``OMP_NUM_THREADS``. This is the
   default. ``threadpoolctl.threadpool_limits`` lowers (or raises) it for the calling thread by
   calling ``omp_set_num_threads`` in the OpenMP runtime conv1dt loaded.
2. :func:`set_num_threads` (process-wide) and :func:`threads` (this thread, a ``with`` block)
   replace the default by a count of one's own.
3. A limit set at run time (1.'s ``threadpool_limits``, or any ``omp_set_num_threads`` call) stays
   a ceiling over 2.: the count is ``min(chosen, limit)``. A limit is recognised by
   ``omp_get_max_threads()`` differing in this thread from its value in a thread that never set
   one (read once, in a new thread), so ``OMP_NUM_THREADS`` alone is a default, which 2.
   overrides, as OpenMP's ``num_threads`` clause does. The price: a limit equal to that default
   (``threadpool_limits(1)`` under ``OMP_NUM_THREADS=1``) cannot be told from no limit, and a
   larger count of 2. then stands.

The kernels take the count as an argument (Cython's ``prange(..., num_threads=n)``), so this is
the one place that decides it.
"""
import operator
import threading
import warnings
from contextlib import contextmanager
from typing import Iterator, Optional

from . import _kernels

__all__ = ["get_num_threads", "set_num_threads", "threads"]

_requested: Optional[int] = None   # set_num_threads: the whole process
_local = threading.local()         # threads(n): .n, this thread only
_UNSET = object()
_default: Optional[int] = None     # omp_get_max_threads() in a thread that never set a limit


def _openmp_default() -> int:
    """OpenMP's maximum in a thread where nobody called ``omp_set_num_threads``.

    OpenMP keeps the thread count per thread (an internal control variable each thread copies from
    the process-wide default the first time it sets its own), so a new thread sees the default
    (``OMP_NUM_THREADS``, else the CPUs available) whatever limits other threads hold.
    """
    global _default
    if _default is None:
        seen = []
        reader = threading.Thread(target=lambda: seen.append(_kernels.omp_max_threads()),
                                  name="conv1dt-openmp-default")
        reader.start()
        reader.join()
        _default = seen[0] if seen else _kernels.omp_max_threads()
    return _default


def _check_count(n, name: str = "n") -> Optional[int]:
    """``n`` as a positive int or None; ValueError naming ``name`` otherwise."""
    if n is None:
        return None
    try:
        if isinstance(n, bool):
            raise TypeError
        n = operator.index(n)
    except TypeError:
        raise ValueError(f"{name} must be a positive integer or None, got {n!r}") from None
    if n < 1:
        raise ValueError(f"{name} must be a positive integer or None, got {n}")
    return n


def _warn_if_serial(n: Optional[int], where: str) -> None:
    if n is not None and n > 1 and not _kernels.have_openmp():
        warnings.warn(f"conv1dt was built without OpenMP: its kernels run on one thread, so {where}({n}) "
                      "has no effect (see conv1dt.show_config() and the installation notes)",
                      RuntimeWarning, stacklevel=3)


def set_num_threads(n: Optional[int]) -> None:
    """Set the number of threads conv1dt's kernels use, for the whole process.

    Parameters
    ----------
    n : int or None
        A positive thread count, or ``None`` to go back to the default: OpenMP's
        ``omp_get_max_threads()``, which is all cores unless ``OMP_NUM_THREADS`` or a
        ``threadpoolctl.threadpool_limits`` block says otherwise.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or None.

    Warns
    -----
    RuntimeWarning
        If ``n > 1`` and conv1dt was built without OpenMP (its kernels then run on one thread).

    See Also
    --------
    get_num_threads, threads

    Notes
    -----
    The result does not depend on the thread count: every output element is summed in one fixed
    order by one thread.

    A count chosen here replaces the default (``OMP_NUM_THREADS`` included), but a limit set at
    run time by ``threadpoolctl.threadpool_limits`` stays a ceiling: inside
    ``threadpool_limits(1)`` the kernels run on one thread whatever was set here. A
    :func:`threads` block in the calling thread takes precedence over this setting.

    Examples
    --------
    >>> import conv1dt
    >>> conv1dt.set_num_threads(1)
    >>> conv1dt.get_num_threads()
    1
    >>> conv1dt.set_num_threads(None)
    """
    global _requested
    n = _check_count(n)
    _warn_if_serial(n, "set_num_threads")
    _requested = n


@contextmanager
def threads(n: Optional[int]) -> Iterator[int]:
    """Run the body with conv1dt's kernels on ``n`` threads, in this thread only.

    Parameters
    ----------
    n : int or None
        A positive thread count for the calls this thread makes inside the ``with`` block, or
        ``None`` for the default (OpenMP's ``omp_get_max_threads()``) whatever
        :func:`set_num_threads` says.

    Yields
    ------
    int
        The number of threads a call in the block will use (:func:`get_num_threads`).

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or None.

    Warns
    -----
    RuntimeWarning
        If ``n > 1`` and conv1dt was built without OpenMP.

    See Also
    --------
    set_num_threads, get_num_threads

    Notes
    -----
    The setting is thread-local: other threads (a thread pool, dask's workers) keep theirs, and
    it is undone when the block exits, also by an exception. Blocks nest. As with
    :func:`set_num_threads`, an enclosing ``threadpoolctl.threadpool_limits`` stays a ceiling.
    Usable as a decorator too.

    Examples
    --------
    >>> import numpy as np
    >>> import conv1dt
    >>> x, f = np.ones((1, 4, 1)), np.ones((3, 1, 1))
    >>> with conv1dt.threads(1) as n:
    ...     y = conv1dt.conv1d_transpose(x, f, [1, 8, 1], 2)
    >>> n
    1
    >>> y[0, :, 0]
    array([1., 1., 2., 1., 2., 1., 2., 1.])
    """
    n = _check_count(n)
    _warn_if_serial(n, "threads")
    saved = _local.__dict__.get("n", _UNSET)
    _local.n = n
    try:
        yield get_num_threads()
    finally:
        if saved is _UNSET:
            del _local.n
        else:
            _local.n = saved


def get_num_threads() -> int:
    """Return the number of threads the next call from this thread will use.

    Returns
    -------
    int
        1 when conv1dt was built without OpenMP. Otherwise the count of an enclosing
        :func:`threads` block, else the one given to :func:`set_num_threads`, else
        ``omp_get_max_threads()``; a ``threadpoolctl.threadpool_limits`` limit in this thread caps
        the first two.

    See Also
    --------
    set_num_threads, threads

    Examples
    --------
    >>> import conv1dt
    >>> from threadpoolctl import threadpool_limits
    >>> conv1dt.set_num_threads(2)
    >>> with threadpool_limits(1):
    ...     conv1dt.get_num_threads()
    1
    >>> conv1dt.set_num_threads(None)
    """
    if not _kernels.have_openmp():
        return 1
    omp = _kernels.omp_max_threads()
    n = _local.__dict__.get("n", _UNSET)
    if n is _UNSET:
        n = _requested
    if n is None:
        return omp
    return n if omp == _openmp_default() else min(n, omp)
