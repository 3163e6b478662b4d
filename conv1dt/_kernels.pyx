# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernels: typed memoryviews and ints in, the output memoryview filled, nothing else.

Validation lives in the pure-Python layer; every kernel here gets C-contiguous arrays in the
internal NWC layout, filters ``[K, Cout, Cin]``, and plain ints that have already been checked.

Index algebra (shared by the whole family): narrow sample ``i`` and wide sample ``o`` meet at
tap ``k`` when ``o = i*s + k*d - pad_before``.
"""
from cython cimport floating
from cython.parallel cimport prange

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define CONV1DT_HAVE_OPENMP 1
    #else
    #define CONV1DT_HAVE_OPENMP 0
    static int omp_get_max_threads(void) { return 1; }
    #endif
    #ifndef CONV1DT_CFLAGS
    #define CONV1DT_CFLAGS ""
    #endif
    """
    int CONV1DT_HAVE_OPENMP
    const char* CONV1DT_CFLAGS
    int omp_get_max_threads() noexcept nogil

# Outputs per work item: small enough to balance a few long rows over the threads, large enough
# that scheduling costs nothing next to the arithmetic.
cdef enum:
    BLOCK = 64


def have_openmp():
    """True when the extension was compiled with OpenMP (``prange`` runs in parallel)."""
    return bool(CONV1DT_HAVE_OPENMP)


def omp_max_threads():
    """``omp_get_max_threads()``: honours ``OMP_NUM_THREADS`` and threadpoolctl; 1 without OpenMP."""
    return omp_get_max_threads()


def compile_flags():
    """The compiler flags the kernels were built with."""
    return CONV1DT_CFLAGS.decode()


cdef inline floating _dot(const floating* a, const floating* b, Py_ssize_t n) noexcept nogil:
    """``sum(a[j] * b[j])`` in order ``j = 0 .. n-1``."""
    cdef floating acc = 0
    cdef Py_ssize_t j
    for j in range(n):
        acc = acc + a[j] * b[j]
    return acc


cdef inline void _transpose_gather_block(
    const floating[:, :, ::1] x, const floating[:, :, ::1] f, floating[:, :, ::1] y,
    Py_ssize_t n, Py_ssize_t o0, Py_ssize_t o1,
    Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad,
) noexcept nogil:
    """Fill ``y[n, o0:o1, :]`` by gathering, for each output, the taps that reach it."""
    cdef Py_ssize_t M = x.shape[1], cin = x.shape[2]
    cdef Py_ssize_t K = f.shape[0], cout = f.shape[1]
    cdef Py_ssize_t o, p, k, kmin, kmax, q, i, co
    cdef floating* yrow
    cdef const floating* xrow
    cdef const floating* frow
    for o in range(o0, o1):
        yrow = &y[n, o, 0]
        for co in range(cout):
            yrow[co] = 0
        # o = i*s + k*d - pad  <=>  i*s = p - k*d  with p = o + pad, and 0 <= i < M:
        # k <= p / d, and k >= (p - (M-1)*s) / d.
        p = o + pad
        if p < 0:
            continue
        kmax = p // d
        if kmax > K - 1:
            kmax = K - 1
        q = p - (M - 1) * s
        kmin = 0 if q <= 0 else (q + d - 1) // d
        # Taps in decreasing k, i.e. increasing input position i: each output sums its
        # contributions in the order a scatter over i would add them.
        k = kmax
        while k >= kmin:
            q = p - k * d
            if q % s == 0:
                i = q // s
                xrow = &x[n, i, 0]
                frow = &f[k, 0, 0]
                for co in range(cout):
                    yrow[co] = yrow[co] + _dot(xrow, frow + co * cin, cin)
            k = k - 1


def transpose_gather(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] y,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    int num_threads,
):
    """conv1d_transpose by gathering: ``y[n, o, co] = sum x[n, i, ci] * f[k, co, ci]``.

    ``x`` is ``[N, M, Cin]``, ``f`` is ``[K, Cout, Cin]``, ``y`` is ``[N, L, Cout]`` and is
    overwritten. Work items are (batch, block of outputs); each thread owns its outputs, so there
    are no races and each element is summed in one fixed order, whatever the thread count.
    """
    cdef Py_ssize_t N = y.shape[0], L = y.shape[1]
    cdef Py_ssize_t nblocks = (L + BLOCK - 1) // BLOCK
    cdef Py_ssize_t item, n, o0, o1
    if N == 0 or L == 0:
        return
    for item in prange(N * nblocks, nogil=True, schedule="static", num_threads=num_threads):
        n = item // nblocks
        o0 = (item % nblocks) * BLOCK
        o1 = o0 + BLOCK
        if o1 > L:
            o1 = L
        _transpose_gather_block(x, f, y, n, o0, o1, stride, dilation, pad_before)
