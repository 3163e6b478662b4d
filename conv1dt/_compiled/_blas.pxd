# cython: language_level=3
"""BLAS for the kernels: SciPy's (``scipy.linalg.cython_blas``), whatever the vendor, or a newer
OpenBLAS with 64-bit integers found in the process (NumPy's), when conv1dt/_runtime/blas_pick.py
chooses it; the caller keeps it on one thread (conv1dt/_runtime/blas_threads.py)."""
from cython cimport floating
from libc.stdint cimport int64_t
from scipy.linalg.cython_blas cimport dgemm, dgemv, sgemm, sgemv

from ._cpu cimport SKINNY_ADD, SKINNY_OVERWRITE, packed_f32, packed_f64, packed_enabled

# Fortran BLAS with 64-bit integers (ILP64): ?gemm and ?gemv, scalars and arrays by pointer
ctypedef void (*gemm64_t)(const char*, const char*, const int64_t*, const int64_t*,
                          const int64_t*, const void*, const void*, const int64_t*, const void*,
                          const int64_t*, const void*, void*, const int64_t*) noexcept nogil
ctypedef void (*gemv64_t)(const char*, const int64_t*, const int64_t*, const void*, const void*,
                          const int64_t*, const void*, const int64_t*, const void*, void*,
                          const int64_t*) noexcept nogil

cdef extern from *:
    """
    /* sgemm, dgemm, sgemv, dgemv of the ILP64 BLAS the kernels call instead of SciPy's (all NULL:
       SciPy's); one copy per extension module, set at import by _use_blas64 */
    static void* c1dt_blas64[4] = {0, 0, 0, 0};
    """
    void* c1dt_blas64[4]


cdef inline void use_blas64(size_t sgemm64, size_t dgemm64, size_t sgemv64,
                            size_t dgemv64) noexcept:
    """Call the ILP64 BLAS at these addresses from now on (all zero: SciPy's again)."""
    c1dt_blas64[0] = <void*> sgemm64
    c1dt_blas64[1] = <void*> dgemm64
    c1dt_blas64[2] = <void*> sgemv64
    c1dt_blas64[3] = <void*> dgemv64


cdef inline void _gemv(char tr, int rows, int cols, const floating* mat, int ldm,
                       const floating* vec, int inc, floating beta, floating* c,
                       int incc) noexcept nogil:
    """``c = op(mat) vec + beta c`` by the chosen BLAS."""
    cdef floating one = 1
    cdef int64_t r = rows, k = cols, l = ldm, i = inc, ic = incc
    cdef void* fn = c1dt_blas64[2 if floating is float else 3]
    if fn != NULL:
        (<gemv64_t> fn)(&tr, &r, &k, &one, mat, &l, vec, &i, &beta, c, &ic)
    elif floating is float:
        sgemv(&tr, &rows, &cols, &one, <float*> mat, &ldm, <float*> vec, &inc, &beta, c, &incc)
    else:
        dgemv(&tr, &rows, &cols, &one, <double*> mat, &ldm, <double*> vec, &inc, &beta, c, &incc)


cdef inline bint _packed(char ta, char tb, int m, int n, int k, const floating* a, int lda,
                         const floating* b, int ldb, floating beta, floating* c,
                         int ldc) noexcept nogil:
    """``C = op(A) op(B) + beta C`` (beta 0 or 1) by the packed GEMM where it is on (``src/
    skinny_impl.h``; conv1dt/_runtime/blas_pick.py turns it on where the BLAS's kernels use a
    narrower vector than this CPU's), C fills its vectors and has 4 columns, and the inner
    dimension has 16 steps: True when done. In its row-major terms C^T is ``c``, op(B)
    the broadcast operand, op(A) the one laid out in blocks."""
    if not packed_enabled():
        return False
    return packed_gemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc)


cdef inline bint packed_gemm(char ta, char tb, int m, int n, int k, const floating* a, int lda,
                             const floating* b, int ldb, floating beta, floating* c,
                             int ldc) noexcept nogil:
    """:func:`_packed` whether or not the packed GEMM is on for every GEMM: for a kernel whose
    plan chose it (the filter gradient's gathered blocks, ``_plan.filter_packed``)."""
    cdef int mode, lanes = 64 // <int> sizeof(floating)
    if m < lanes or n < 4 or k < 16 or 4 * ((lanes - m % lanes) % lanes) > m:
        # fewer rows of C than one 64-byte vector holds, more than a fifth of its vectors'
        # lanes empty (the BLAS's narrower tiles waste fewer: 18 or 24 rows of float32 ran up
        # to 2x slower so), fewer than 4 columns, or a short inner dimension (C's loads and
        # stores, a few multiply-adds each, then cost most: 3 steps ran 2x slower)
        return False
    if beta == 0:
        mode = SKINNY_OVERWRITE
    elif beta == 1:
        mode = SKINNY_ADD
    else:
        return False
    cdef bint an = ta == c'N' or ta == c'n'
    cdef bint bn = tb == c'N' or tb == c'n'
    if floating is float:
        return packed_f32(c, ldc, b, ldb if bn else 1, 1 if bn else ldb, a, lda if an else 1,
                          1 if an else lda, n, m, k, mode) != 0
    else:
        return packed_f64(c, ldc, b, ldb if bn else 1, 1 if bn else ldb, a, lda if an else 1,
                          1 if an else lda, n, m, k, mode) != 0


cdef inline void gemm(char ta, char tb, int m, int n, int k, const floating* a, int lda,
                      const floating* b, int ldb, floating beta, floating* c, int ldc) noexcept nogil:
    """``C[m x n] = op(A) op(B) + beta C`` in BLAS's column-major terms, by the chosen BLAS. A
    product with one row or one column is a matrix-vector product (BLAS's GEMM ran it 2.5-4x
    slower than its GEMV: a GEMM packs its operands for a microkernel whose tile is mostly
    empty)."""
    cdef floating one = 1
    cdef char tr
    cdef int rows, cols, inc, ldm, incc, i
    cdef const floating* mat
    cdef const floating* vec
    cdef void* fn = c1dt_blas64[0 if floating is float else 1]
    cdef int64_t m64 = m, n64 = n, k64 = k, lda64 = lda, ldb64 = ldb, ldc64 = ldc
    if k > 0 and (m == 1 or n == 1):
        if m == 1:
            # C[0, j] = sum_u op(A)[0, u] op(B)[u, j]: op(B)^T times the row of op(A)
            vec, inc = a, (1 if ta == c'T' or ta == c't' else lda)
            mat, ldm, incc = b, ldb, ldc
            if tb == c'N' or tb == c'n':
                tr, rows, cols = c'T', k, n       # B stored k x n
            else:
                tr, rows, cols = c'N', n, k       # B stored n x k
            i = n
        else:
            # C[i, 0] = sum_u op(A)[i, u] op(B)[u, 0]
            vec, inc = b, (1 if tb == c'N' or tb == c'n' else ldb)
            mat, ldm, incc = a, lda, 1
            if ta == c'N' or ta == c'n':
                tr, rows, cols = c'N', m, k       # A stored m x k
            else:
                tr, rows, cols = c'T', k, m       # A stored k x m
            i = m
        if beta == 0:
            # (BLAS may scale C by the zero, which keeps a NaN there: C is the output only)
            while i > 0:
                i -= 1
                c[i * incc] = 0
        _gemv(tr, rows, cols, mat, ldm, vec, inc, one, c, incc)
        return
    if _packed(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc):
        return
    if fn != NULL:
        (<gemm64_t> fn)(&ta, &tb, &m64, &n64, &k64, &one, a, &lda64, b, &ldb64, &beta, c, &ldc64)
    elif floating is float:
        sgemm(&ta, &tb, &m, &n, &k, &one, <float*> a, &lda, <float*> b, &ldb, &beta, c, &ldc)
    else:
        dgemm(&ta, &tb, &m, &n, &k, &one, <double*> a, &lda, <double*> b, &ldb, &beta, c, &ldc)


cdef inline void gemv_t(int m, int n, const floating* a, int lda, const floating* x,
                        floating* y) noexcept nogil:
    """``y[n] = A[m x n]^T x[m]`` in BLAS's column-major terms (``lda >= m``), by the chosen BLAS."""
    _gemv(c'T', m, n, a, lda, x, 1, 0, y, 1)
