"""How many threads the kernels use: the user's count, a cap, a forked child, a Dask task."""
import contextlib
import operator
import os
import sys
import threading

from . import _kernels

__all__ = ["get_num_threads", "set_num_threads", "max_num_threads"]

_requested = None


def max_num_threads():
    """The most threads conv1dt will start: ``4 * os.cpu_count()``.

    More would only oversubscribe the cores, and a count the system cannot honour makes GNU
    libgomp print "Thread creation failed" and exit the process; so :func:`set_num_threads`
    refuses counts beyond it and a larger ``OMP_NUM_THREADS`` is clipped to it.
    """
    return 4 * (os.cpu_count() or 1)


# --- fork -------------------------------------------------------------------------------------
# GNU libgomp keeps a pool of threads per thread that started a parallel region; after fork() the
# child has the memory of that pool but none of its threads, and the first parallel region of
# more than one thread waits for them forever. So in a forked child the thread that called fork()
# (the only one the child has; multiprocessing's workers run their tasks on it) runs the kernels
# on one thread. Threads started in the child have pools of their own and keep the usual count.
_fork_thread = None


def _after_fork_in_child():
    global _fork_thread
    _fork_thread = threading.get_ident()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

# --- a per-thread limit (conv1dt.dask's tasks) -------------------------------------------------
_local = threading.local()


@contextlib.contextmanager
def _limit(n):
    """Within the block, calls from this thread use at most ``n`` threads (unless the user has
    called :func:`set_num_threads`, whose count then applies)."""
    old = getattr(_local, "limit", None)
    _local.limit = n
    try:
        yield
    finally:
        _local.limit = old


def _in_distributed_task():
    """Whether this thread runs a task of a Dask distributed worker (``distributed`` marks its
    task threads with the task's key in ``distributed.utils.thread_state`` while they run)."""
    utils = sys.modules.get("distributed.utils")
    return utils is not None and getattr(getattr(utils, "thread_state", None), "key", None) is not None


def set_num_threads(n):
    """Set the number of threads conv1dt's kernels use.

    Parameters
    ----------
    n : int or None
        A thread count from 1 to ``4 * os.cpu_count()``, or ``None`` to go back to the
        default: OpenMP's ``omp_get_max_threads()``, which is all cores unless
        ``OMP_NUM_THREADS`` or a ``threadpoolctl.threadpool_limits`` block says otherwise
        (clipped to the same cap).

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or None, or is above ``4 * os.cpu_count()``.

    Notes
    -----
    The result does not depend on the thread count: every output element is summed in one fixed
    order by one thread.

    In a child made by ``os.fork()`` (``multiprocessing``'s 'fork' start method, a 'fork'
    ``Pool``, ``ProcessPoolExecutor`` on Linux before Python 3.14), the thread that forked runs
    the kernels on one thread whatever the count, because GNU libgomp's thread pool does not
    survive fork: a parallel region there would wait forever for threads the child does not
    have. Threads the child starts itself (a ``threading.Thread``, a ``ThreadPoolExecutor``)
    use the count set here; so do processes started with 'spawn' or 'forkserver'.

    Inside a task of :func:`conv1dt.dask.conv1d_transpose`, and inside any task of a Dask
    distributed worker, the kernels use one thread unless a count was set here (Dask runs one
    task per core already, as its nanny's ``OMP_NUM_THREADS=1`` says). A call of your own in a
    task of Dask's local threaded scheduler cannot be told from one in any other thread: set a
    count there, or use ``threadpoolctl.threadpool_limits(1)``.

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
        if n > max_num_threads():
            raise ValueError(f"n is {n}, but conv1dt starts at most 4 * os.cpu_count() = "
                             f"{max_num_threads()} threads")
    _requested = n


def get_num_threads():
    """Return the number of threads the next call will use.

    Returns
    -------
    int
        The count given to :func:`set_num_threads`, else ``omp_get_max_threads()`` clipped to
        ``4 * os.cpu_count()`` (1 when conv1dt was built without OpenMP). 1 on the thread that
        called ``fork()`` in a forked child, and, unless a count was set, in a task of
        :func:`conv1dt.dask.conv1d_transpose` or of a Dask distributed worker.

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
    if _fork_thread is not None and _fork_thread == threading.get_ident():
        return 1
    if _requested is not None:
        return _requested
    limit = getattr(_local, "limit", None)
    if limit is None and _in_distributed_task():
        limit = 1
    n = min(_kernels.omp_max_threads(), max_num_threads())
    return n if limit is None else min(n, limit)
