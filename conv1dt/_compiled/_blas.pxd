# cython: language_level=3
"""BLAS for the kernels, by SciPy's (``scipy.linalg.cython_blas``), whatever the vendor; the
caller keeps it on one thread (conv1dt/_runtime/blas_threads.py)."""
from cython cimport floating
from scipy.linalg.cython_blas cimport dgemm, dgemv, sgemm, sgemv


cdef inline void gemm(char ta, char tb, int m, int n, int k, const floating* a, int lda,
                      const floating* b, int ldb, floating beta, floating* c, int ldc) noexcept nogil:
    """``C[m x n] = op(A) op(B) + beta C`` in BLAS's column-major terms, by SciPy's BLAS. A
    product with one row or one column is a matrix-vector product (BLAS's GEMM ran it 2.5-4x
    slower than its GEMV: a GEMM packs its operands for a microkernel whose tile is mostly
    empty)."""
    cdef floating one = 1
    cdef char tr
    cdef int rows, cols, inc, ldm, incc, i
    cdef const floating* mat
    cdef const floating* vec
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
        if floating is float:
            sgemv(&tr, &rows, &cols, &one, <float*> mat, &ldm, <float*> vec, &inc, &one, c, &incc)
        else:
            dgemv(&tr, &rows, &cols, &one, <double*> mat, &ldm, <double*> vec, &inc, &one, c,
                  &incc)
        return
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
