"""How many threads the kernels use: one helper decides, :func:`get_num_threads`; a cap, a forked
child and Dask's tasks bound it.

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
the one place that decides it. Whatever the source, the count is at most
:func:`max_num_threads`; it is 1 on the thread that forked in a forked child, and, unless a count
was chosen, in a task of ``conv1dt.dask`` or of a Dask distributed worker.
"""
import contextlib
import operator
import os
import sys
import threading
import warnings
from contextlib import contextmanager
from typing import Iterator, Optional

from .._compiled import _cpu

__all__ = ["get_num_threads", "set_num_threads", "threads", "max_num_threads"]

_requested: Optional[int] = None   # set_num_threads: the whole process
_local = threading.local()         # threads(n): .n, this thread only
_UNSET = object()
_default: Optional[int] = None     # omp_get_max_threads() in a thread that never set a limit


_MAX_THREADS = 4 * (os.cpu_count() or 1)   # os.cpu_count() costs microseconds: read once


def max_num_threads():
    """The most threads conv1dt will start: ``4 * os.cpu_count()``.

    More would only oversubscribe the cores, and a count the system cannot honour makes GNU
    libgomp print "Thread creation failed" and exit the process; so :func:`set_num_threads`
    refuses counts beyond it and a larger ``OMP_NUM_THREADS`` is clipped to it.
    """
    return _MAX_THREADS


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

# --- where the threads run ----------------------------------------------------------------------
# With another busy process on the machine, the scheduler wakes OpenMP's sleeping worker on the
# CPU of the thread that woke it, and the call's two threads share one core (src/place.c). While a
# kernel's parallel region runs, each worker that is not on a CPU of its own is held on one, then
# let go. Not where the user placed OpenMP's threads, nor under CONV1DT_PLACE=0.
_PLACEMENT_VARIABLES = ("OMP_PROC_BIND", "OMP_PLACES", "GOMP_CPU_AFFINITY")


def _placement(environ=os.environ) -> str:
    """Why the kernels' workers are (``'on'``) or are not held on CPUs of their own, from the
    environment: ``'off (CONV1DT_PLACE=0)'``, ``'off (OMP_PROC_BIND is set)'``, ..."""
    if environ.get("CONV1DT_PLACE", "").strip() == "0":
        return "off (CONV1DT_PLACE=0)"
    for name in _PLACEMENT_VARIABLES:
        if environ.get(name, "").strip():
            return f"off ({name} is set)"
    return "on" if sys.platform.startswith("linux") else "off (Linux only)"


def placement() -> str:
    """A line for :func:`conv1dt.show_config`: whether each worker of a parallel region is held
    on a CPU other than the caller's while the region runs."""
    if not _cpu.team_place_on():
        return _placement()
    return "workers held off the caller's CPU while a region runs (CONV1DT_PLACE=0: never)"


_cpu._set_team_place(_placement() == "on")

# --- a per-thread limit (conv1dt.dask's tasks) -------------------------------------------------
# (``_local.limit``, the same thread-local object as ``threads``)


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


def _openmp_default() -> int:
    """OpenMP's maximum in a thread where nobody called ``omp_set_num_threads``.

    OpenMP keeps the thread count per thread (an internal control variable each thread copies from
    the process-wide default the first time it sets its own), so a new thread sees the default
    (``OMP_NUM_THREADS``, else the CPUs available) whatever limits other threads hold.
    """
    global _default
    if _default is None:
        seen = []
        reader = threading.Thread(target=lambda: seen.append(_cpu.omp_max_threads()),
                                  name="conv1dt-openmp-default")
        reader.start()
        reader.join()
        _default = seen[0] if seen else _cpu.omp_max_threads()
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
    if n > max_num_threads():
        raise ValueError(f"{name} is {n}, but conv1dt starts at most 4 * os.cpu_count() = "
                         f"{max_num_threads()} threads")
    return n


def _warn_if_serial(n: Optional[int], where: str) -> None:
    if n is not None and n > 1 and not _cpu.have_openmp():
        warnings.warn(f"conv1dt was built without OpenMP: its kernels run on one thread, so {where}({n}) "
                      "has no effect (see conv1dt.show_config() and the installation notes)",
                      RuntimeWarning, stacklevel=3)


def set_num_threads(n: Optional[int]) -> None:
    """Set the number of threads conv1dt's kernels use, for the whole process.

    Parameters
    ----------
    n : int or None
        A thread count from 1 to ``4 * os.cpu_count()``, or ``None`` to go back to the default:
        OpenMP's ``omp_get_max_threads()``, which is all cores unless ``OMP_NUM_THREADS`` or a
        ``threadpoolctl.threadpool_limits`` block says otherwise (clipped to the same cap).

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or None, or is above ``4 * os.cpu_count()``.

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
        ``omp_get_max_threads()`` clipped to ``4 * os.cpu_count()``; a
        ``threadpoolctl.threadpool_limits`` limit in this thread caps the first two. 1 on the
        thread that called ``fork()`` in a forked child, and, unless a count was chosen, in a
        task of :func:`conv1dt.dask.conv1d_transpose` or of a Dask distributed worker.

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
    if not _cpu.have_openmp():
        return 1
    if _fork_thread is not None and _fork_thread == threading.get_ident():
        return 1
    raw = _cpu.omp_max_threads()
    omp = min(raw, _MAX_THREADS)
    n = _local.__dict__.get("n", _UNSET)
    if n is _UNSET:
        n = _requested
    if n is None:
        limit = _local.__dict__.get("limit")   # getattr on a miss raises inside: 0.8 us
        if limit is None and _in_distributed_task():
            limit = 1
        return omp if limit is None else min(omp, limit)
    return n if raw == _openmp_default() else min(n, omp)


# OpenMP's default is read now, at import: read first inside a threadpoolctl limit, it would be
# the limit itself (GNU libgomp's initial thread sets the default that new threads copy), and a
# limit would then look like no limit.
if _cpu.have_openmp():
    try:
        _openmp_default()
    except RuntimeError:     # no threads here (an isolated sub-interpreter): read when first asked
        pass
