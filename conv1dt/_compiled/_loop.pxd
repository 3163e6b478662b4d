# cython: language_level=3
"""The chunked, interruptible parallel loop that every kernel runs its work items in.

One chunking (:func:`chunks`, :func:`next_chunk`: about ``CHUNK_MACS`` multiply-adds between two
checks for Ctrl-C) in two spellings: ``run_items`` (``_items.pxd``) calls a function per item
with a scratch per thread (the kernels of ``_gemm.pyx``, whose items are C structs); the kernels
on memoryviews write the ``while next_chunk(&ch): for item in prange(...)`` loop around their
block function (a ``prange`` body cannot be handed a fused memoryview through a function
pointer)."""
cimport cython
from cpython.exc cimport PyErr_CheckSignals
from cython.parallel cimport parallel, prange


cdef enum:
    # Work between two checks for Ctrl-C: about this many multiply-adds (tens of milliseconds).
    CHUNK_MACS = 1 << 30
    # ... and at least this many work items per thread where the call has them: each chunk ends
    # in a barrier, so a chunk of one item per thread is a static schedule, and a thread that the
    # OS takes away (another busy process) delays every chunk
    CHUNK_ITEMS_PER_THREAD = 8


@cython.cdivision(True)
cdef inline Py_ssize_t chunk_items(Py_ssize_t items, double macs, int num_threads) noexcept nogil:
    """Work items per chunk: about CHUNK_MACS of work but at least CHUNK_ITEMS_PER_THREAD items
    per thread, a multiple of the thread count. Between chunks the kernels take the GIL back to
    check for signals, so a long call can be interrupted. The items themselves (and so the bits)
    do not depend on the chunking."""
    cdef double per_item = macs / items if items > 0 else 1.0
    cdef Py_ssize_t n = <Py_ssize_t> (CHUNK_MACS / per_item) if per_item > 0 else items
    if n < CHUNK_ITEMS_PER_THREAD * num_threads:
        n = CHUNK_ITEMS_PER_THREAD * num_threads
    return ((n + num_threads - 1) // num_threads) * num_threads


cdef struct Chunks:
    # The work items 0 .. items-1 of a parallel loop, run in chunks [start, stop) of `size` items.
    Py_ssize_t items, size, start, stop


cdef inline Chunks chunks(Py_ssize_t items, double macs, int num_threads) noexcept nogil:
    """The chunks of a kernel's ``items`` work items, ``macs`` multiply-adds in all (see
    :func:`chunk_items`). Every chunked parallel loop of the kernels has this one form::

        cdef Chunks ch = chunks(items, macs, num_threads)
        cdef team crew
        while next_chunk(&ch):
            team_begin(&crew, num_threads)
            for item in prange(ch.start, ch.stop, nogil=True, schedule="dynamic",
                               num_threads=num_threads):
                team_join(&crew, threadid())
                ...   # item's outputs, by item alone
            team_end(&crew)

    (``team_*``, ``_cpu.pxd``: a worker the scheduler woke on the caller's CPU is held on
    another while the region runs, ``src/place.c``.)

    Items are handed out one at a time (``dynamic``), so a thread the OS takes away delays the
    call by one item, not by a static share of the chunk. Each item writes only outputs it owns,
    summed in a fixed order, so the bits depend on neither the thread count nor the schedule."""
    cdef Chunks ch
    ch.items, ch.size, ch.start, ch.stop = items, chunk_items(items, macs, num_threads), 0, 0
    return ch


cdef inline bint next_chunk(Chunks* ch) except -1:
    """Move ``ch`` to its next chunk; False when all are done. Called with the GIL between chunks,
    it checks for signals after each one, so Ctrl-C interrupts a long call (KeyboardInterrupt)."""
    if ch.stop > 0:
        PyErr_CheckSignals()
    ch.start = ch.stop
    if ch.start >= ch.items:
        return False
    ch.stop = ch.start + ch.size if ch.size < ch.items - ch.start else ch.items
    return True
