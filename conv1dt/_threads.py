"""How many threads the kernels use."""
import operator

from . import _kernels

__all__ = ["get_num_threads", "set_num_threads"]

_requested = None


def set_num_threads(n):
    """Set the number of threads conv1dt's kernels use.

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

    Notes
    -----
    The result does not depend on the thread count: every output element is summed in one fixed
    order by one thread.

    Examples
    --------
    >>> import conv1dt
    >>> conv1dt.set_num_threads(1)
    >>> conv1dt.get_num_threads()
    1
    >>> conv1dt.set_num_threads(None)
    """
    global _requested
    if n is not None:
        try:
            if isinstance(n, bool):
                raise TypeError
            n = operator.index(n)
        except TypeError:
            raise ValueError(f"n must be a positive integer or None, got {n!r}") from None
        if n < 1:
            raise ValueError(f"n must be a positive integer or None, got {n}")
    _requested = n


def get_num_threads():
    """Return the number of threads the next call will use.

    Returns
    -------
    int
        The count given to :func:`set_num_threads`, else ``omp_get_max_threads()`` (1 when
        conv1dt was built without OpenMP).

    See Also
    --------
    set_num_threads

    Examples
    --------
    >>> import conv1dt
    >>> conv1dt.get_num_threads() >= 1
    True
    >>> conv1dt.set_num_threads(1)
    >>> conv1dt.get_num_threads()
    1
    >>> conv1dt.set_num_threads(None)             # back to the default
    """
    if not _kernels.have_openmp():
        return 1
    return _requested if _requested is not None else _kernels.omp_max_threads()
