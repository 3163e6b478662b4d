# cython: language_level=3
"""Inline helpers shared by the kernel modules (``_kernels.pyx``, ``_family.pyx``)."""
cimport cython
from cython cimport floating
from cpython.exc cimport PyErr_CheckSignals
from scipy.linalg.cython_blas cimport dgemm, dgemv, sgemm, sgemv


cdef enum:
    # Work between two checks for Ctrl-C: about this many multiply-adds (tens of milliseconds).
    CHUNK_MACS = 1 << 28


@cython.cdivision(True)
cdef inline Py_ssize_t chunk_items(Py_ssize_t items, double macs, int num_threads) noexcept nogil:
    """Work items per chunk: about CHUNK_MACS of work, a multiple of the thread count. Between
    chunks the kernels take the GIL back to check for signals, so a long call can be interrupted.
    The items themselves (and so the bits) do not depend on the chunking."""
    cdef double per_item = macs / items if items > 0 else 1.0
    cdef Py_ssize_t n = <Py_ssize_t> (CHUNK_MACS / per_item) if per_item > 0 else items
    if n < 1:
        n = 1
    return ((n + num_threads - 1) // num_threads) * num_threads


cdef struct Chunks:
    # The work items 0 .. items-1 of a parallel loop, run in chunks [start, stop) of `size` items.
    Py_ssize_t items, size, start, stop


cdef inline Chunks chunks(Py_ssize_t items, double macs, int num_threads) noexcept nogil:
    """The chunks of a kernel's ``items`` work items, ``macs`` multiply-adds in all (see
    :func:`chunk_items`). Every chunked parallel loop of the kernels has this one form::

        cdef Chunks ch = chunks(items, macs, num_threads)
        while next_chunk(&ch):
            for item in prange(ch.start, ch.stop, nogil=True, schedule="dynamic",
                               num_threads=num_threads):
                ...   # item's outputs, by item alone

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


cdef inline Py_ssize_t floordiv(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """Python's ``a // b`` for ``b > 0``. Written with non-negative operands only, where C's and
    Python's division agree (a ``cdivision`` decorator on an inline function of a .pxd is not
    applied, so ``a // b`` here is Python's, and C's truncation cannot be assumed either way)."""
    if a >= 0:
        return a // b
    return -((-a + b - 1) // b)


cdef inline void gemm(char ta, char tb, int m, int n, int k, const floating* a, int lda,
                      const floating* b, int ldb, floating beta, floating* c, int ldc) noexcept nogil:
    """``C[m x n] = op(A) op(B) + beta C`` in BLAS's column-major terms, by SciPy's BLAS."""
    cdef floating one = 1
    if floating is float:
        sgemm(&ta, &tb, &m, &n, &k, &one, <float*> a, &lda, <float*> b, &ldb, &beta, c, &ldc)
    else:
        dgemm(&ta, &tb, &m, &n, &k, &one, <double*> a, &lda, <double*> b, &ldb, &beta, c, &ldc)


cdef inline void gemv_t(int m, int n, const floating* a, int lda, const floating* x,
                        floating* y) noexcept nogil:
    """``y[n] = A[m x n]^T x[m]`` in BLAS's column-major terms (``lda >= m``), by SciPy's BLAS."""
    cdef char t = c'T'
    cdef int one = 1
    cdef floating alpha = 1, beta = 0
    if floating is float:
        sgemv(&t, &m, &n, &alpha, <float*> a, &lda, <float*> x, &one, &beta, y, &one)
    else:
        dgemv(&t, &m, &n, &alpha, <double*> a, &lda, <double*> x, &one, &beta, y, &one)
