# cython: language_level=3
"""BLAS for the kernels, by SciPy's (``scipy.linalg.cython_blas``), whatever the vendor; the
caller keeps it on one thread (conv1dt/_runtime/blas_threads.py)."""
from cython cimport floating
from scipy.linalg.cython_blas cimport dgemm, dgemv, sgemm, sgemv


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
