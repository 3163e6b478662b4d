# cython: language_level=3
"""The parallel loop of the kernels whose work items are C structs (``_gemm.pyx``): a function
per item, with a scratch per thread that the thread keeps between calls (``src/scratch.c``), in
the chunks of ``_loop.pxd``. Apart from ``_loop.pxd`` so that only the modules that use it load
the C layer's scratch functions."""
from cython.parallel cimport parallel, prange, threadid

from ._cpu cimport scratch as thread_scratch, scratch_done, team, team_begin, team_end, team_join
from ._loop cimport Chunks, chunks, next_chunk


ctypedef void (*item_fn)(const void* ctx, Py_ssize_t item, void* scratch) noexcept nogil


cdef inline int run_items(item_fn fn, const void* ctx, Py_ssize_t items, double macs,
                          size_t scratch_bytes, int num_threads) except -1:
    """Call ``fn(ctx, item, scratch)`` for ``item`` in ``0 .. items - 1`` on ``num_threads``, in
    the chunks of :func:`chunks` (``macs`` is the whole call's multiply-adds).

    Items are handed out one at a time as threads free up (``schedule(dynamic)``), so a thread
    that the OS takes away delays the call by one item. Each thread has its own ``scratch`` of
    ``scratch_bytes`` (64-byte aligned): the block the thread keeps from call to call in its
    slot 0 (``src/scratch.c``), so that a call does not fault in fresh pages. A scratch that
    cannot be allocated raises MemoryError after the chunk (the output is then incomplete).
    """
    cdef Chunks ch = chunks(items, macs, num_threads)
    cdef Py_ssize_t item
    cdef int failed = 0
    cdef int* failp = &failed
    cdef void* scratch
    cdef team crew
    # one thread or one item: on the calling thread, in the same chunks and items (an OpenMP
    # region of one thread costs as much as a small call's kernel; the bits are the items')
    cdef bint here = num_threads == 1 or items == 1
    while next_chunk(&ch):
        if here:
            with nogil:
                failed = _items_here(fn, ctx, ch.start, ch.stop, scratch_bytes)
        else:
            team_begin(&crew, num_threads)
            with nogil, parallel(num_threads=num_threads):
                scratch = NULL
                if scratch_bytes:
                    scratch = thread_scratch(0, scratch_bytes)
                for item in prange(ch.start, ch.stop, schedule="dynamic", chunksize=1):
                    team_join(&crew, threadid())
                    if scratch_bytes and scratch == NULL:
                        failp[0] = 1
                    else:
                        fn(ctx, item, scratch)
                if scratch != NULL:
                    scratch_done(0, scratch)
            team_end(&crew)
        if failed:
            raise MemoryError(f"conv1dt: cannot allocate {scratch_bytes} bytes of scratch per thread")
    return 0


cdef inline int _items_here(item_fn fn, const void* ctx, Py_ssize_t start, Py_ssize_t stop,
                            size_t scratch_bytes) noexcept nogil:
    """Items ``start .. stop - 1`` of :func:`run_items` on the calling thread, with its scratch;
    1 (nothing run) where the scratch cannot be allocated."""
    cdef void* scratch = NULL
    cdef Py_ssize_t item
    if scratch_bytes:
        scratch = thread_scratch(0, scratch_bytes)
        if scratch == NULL:
            return 1
    for item in range(start, stop):
        fn(ctx, item, scratch)
    if scratch != NULL:
        scratch_done(0, scratch)
    return 0
