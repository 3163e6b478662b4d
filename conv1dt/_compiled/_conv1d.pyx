# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The kernels of conv1d and conv1d_backprop_filter (its gradient with respect to the filter) that
loop over taps in Cython: a direct gather for few channels, one GEMM per tap for many.

Memoryviews and ints in, the output memoryview filled, nothing else. Validation lives in the
pure-Python layer; every kernel here gets C-contiguous arrays in the internal NWC layout, filters
``f [K, Cw/G, Cn]`` with ``G`` groups (group ``j`` links wide channels ``j*Cw/G ..`` to narrow
channels ``j*Cn/G ..`` through the filter columns ``[:, :, j*Cn/G ..]``), and plain ints that have
been checked. ``x`` is a kernel's input and ``y`` its output: conv1d reads the wide ``x [N, L, Cw]``
into the narrow ``y [N, M, Cn]``; the filter gradient reads the wide ``x`` and the narrow ``dy``.

Index algebra (shared by the whole family): narrow sample ``i`` and wide sample ``o`` meet at
tap ``k`` when ``o = i*s + k*d - pad_before``. For one tap the narrow rows ``i`` that meet the
signal are ``first_row(off, s) <= i < end_row(off, s, L)`` with ``off = k*d - pad_before``, and
the wide rows they meet are every ``s``-th one from ``i*s + off``: a matrix with leading
dimension ``s*Cw``, which is what lets one GEMM per tap do a whole block of rows.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memset

from ._blas cimport gemm
from ._index cimport end_row, first_row
from ._loop cimport Chunks, chunks, next_chunk

import numpy as np

# Narrow rows per work item of the direct conv1d kernel.
cdef enum:
    BLOCK = 64


# --- conv1d ----------------------------------------------------------------------------------

cdef void _conv1d_block(const floating[:, :, ::1] x, const floating[:, :, ::1] f,
                        floating[:, :, ::1] y, Py_ssize_t n, Py_ssize_t i0, Py_ssize_t i1,
                        Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad, Py_ssize_t groups) noexcept nogil:
    """Narrow rows ``i0 .. i1 - 1`` of batch ``n``, directly.

    ``y[n, i, j*Cng + q] = sum over k, then c, of x[n, i*s + k*d - pad, j*Cwg + c] * f[k, c, j*Cng + q]``:
    each output element sums its taps in increasing ``k`` and, per tap, its wide channels in
    increasing ``c``; the innermost loop runs along the contiguous output channels ``q``.
    """
    cdef Py_ssize_t L = x.shape[1], K = f.shape[0], cwg = f.shape[1], cn = f.shape[2]
    cdef Py_ssize_t cng = cn // groups
    cdef Py_ssize_t i, k, off, lo, hi, j, c, q
    cdef floating xv
    cdef floating* yrow
    cdef const floating* xrow
    cdef const floating* frow
    memset(&y[n, i0, 0], 0, (i1 - i0) * cn * sizeof(floating))
    for k in range(K):
        off = k * d - pad
        lo = max(i0, first_row(off, s))
        hi = min(i1, end_row(off, s, L))
        for i in range(lo, hi):
            yrow = &y[n, i, 0]
            xrow = &x[n, i * s + off, 0]
            if cwg == 1 and cng == 1:          # depthwise: one product per channel
                frow = &f[k, 0, 0]
                for j in range(groups):
                    yrow[j] += xrow[j] * frow[j]
                continue
            for j in range(groups):
                for c in range(cwg):
                    xv = xrow[j * cwg + c]
                    frow = &f[k, c, j * cng]
                    for q in range(cng):
                        yrow[j * cng + q] += xv * frow[q]


def conv1d_direct(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] y,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t groups,
    int num_threads,
):
    """conv1d for few channels: a gather, each narrow output summing its taps in place.

    ``x`` ``[N, L, Cw]``, ``f`` ``[K, Cw/G, Cn]``, ``y`` ``[N, M, Cn]`` (overwritten). Work items
    are (batch, block of ``BLOCK`` narrow rows), each owned by one thread; the blocks depend on the
    shape only, so the bits do not depend on the thread count.
    """
    cdef Py_ssize_t N = y.shape[0], M = y.shape[1]
    cdef Py_ssize_t nblocks = (M + BLOCK - 1) // BLOCK
    cdef Py_ssize_t item, i0
    if N == 0 or M == 0 or y.shape[2] == 0:
        return
    cdef Py_ssize_t items = N * nblocks
    cdef Chunks ch = chunks(items, <double> N * M * f.shape[0] * f.shape[1] * y.shape[2],
                            num_threads)
    while next_chunk(&ch):
        for item in prange(ch.start, ch.stop, nogil=True, schedule="dynamic", num_threads=num_threads):
            i0 = (item % nblocks) * BLOCK
            _conv1d_block(x, f, y, item // nblocks, i0, min(i0 + BLOCK, M), stride, dilation,
                          pad_before, groups)


def conv1d_blas(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] y,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t groups,
    Py_ssize_t rows,
    int num_threads,
):
    """conv1d for many channels: per (block, tap, group) one GEMM into the owned output rows.

    ``x`` ``[N, L, Cw]``, ``f`` ``[K, Cw/G, Cn]``, ``y`` ``[N, M, Cn]`` (overwritten). Work items
    are (batch, block of ``rows`` narrow rows). Tap ``k`` reads wide row ``i*s + off`` for narrow
    row ``i``, so its input rows are every ``s``-th one: ``y[i, group j] += x[i*s + off, group j]
    @ f[k, :, group j]`` is one GEMM whose input has leading dimension ``s*Cw``. Taps go in
    increasing ``k``; the blocks depend on the shape only, so the bits do not depend on the
    thread count. BLAS must run single-threaded inside (the caller arranges it).
    """
    cdef Py_ssize_t N = y.shape[0], M = y.shape[1], cn = y.shape[2]
    cdef Py_ssize_t L = x.shape[1], cw = x.shape[2]
    cdef Py_ssize_t K = f.shape[0], cwg = f.shape[1]
    cdef Py_ssize_t cng = cn // groups
    cdef Py_ssize_t nblocks = (M + rows - 1) // rows
    cdef Py_ssize_t item, n, i0, i1, k, off, lo, hi, j
    if N == 0 or M == 0 or cn == 0:
        return
    cdef Py_ssize_t items = N * nblocks
    cdef Chunks ch = chunks(items, <double> N * M * K * cwg * cn, num_threads)
    while next_chunk(&ch):
        for item in prange(ch.start, ch.stop, nogil=True, schedule="dynamic", num_threads=num_threads):
            n = item // nblocks
            i0 = (item % nblocks) * rows
            i1 = min(i0 + rows, M)
            memset(&y[n, i0, 0], 0, (i1 - i0) * cn * sizeof(floating))
            if cwg == 0:
                continue
            for k in range(K):
                off = k * dilation - pad_before
                lo = max(i0, first_row(off, stride))
                hi = min(i1, end_row(off, stride, L))
                if lo >= hi:
                    continue
                for j in range(groups):
                    # column-major: y^T[cng x rows] += f[k]^T[cng x cwg] @ x^T[cwg x rows]
                    gemm(c'N', c'N', <int> cng, <int> (hi - lo), <int> cwg, &f[k, 0, j * cng],
                         <int> cn, &x[n, lo * stride + off, j * cwg], <int> (stride * cw), 1,
                         &y[n, lo, j * cng], <int> cn)


# --- conv1d_backprop_filter ------------------------------------------------------------------

cdef void _filter_chunk(const floating[:, :, ::1] x, const floating[:, :, ::1] dy, floating* part,
                        Py_ssize_t cwg, Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t K, Py_ssize_t s,
                        Py_ssize_t d, Py_ssize_t pad, Py_ssize_t groups) noexcept nogil:
    """Add rows ``r0 .. r1 - 1`` of the flattened (batch, narrow position) into ``part``.

    Row ``r`` is ``(n, i) = divmod(r, M)``; for each tap ``k`` that reaches the signal it adds
    ``x[n, i*s + k*d - pad, j*Cwg + c] * dy[n, i, j*Cng + q]`` to ``part[k, c, j*Cng + q]``
    (``part`` is a ``[K, Cwg, Cn]`` block), rows in increasing ``r``.
    """
    cdef Py_ssize_t M = dy.shape[1], cn = dy.shape[2], L = x.shape[1]
    cdef Py_ssize_t cng = cn // groups
    cdef Py_ssize_t r, n, i, k, o, j, c, q
    cdef floating xv
    cdef floating* prow
    cdef const floating* xrow
    cdef const floating* dyrow
    for r in range(r0, r1):
        n = r // M
        i = r % M
        dyrow = &dy[n, i, 0]
        for k in range(K):
            o = i * s + k * d - pad
            if o < 0 or o >= L:
                continue
            xrow = &x[n, o, 0]
            if cwg == 1 and cng == 1:          # depthwise: one product per channel
                prow = part + k * cn
                for j in range(groups):
                    prow[j] += xrow[j] * dyrow[j]
                continue
            for j in range(groups):
                for c in range(cwg):
                    xv = xrow[j * cwg + c]
                    prow = part + (k * cwg + c) * cn + j * cng
                    for q in range(cng):
                        prow[q] += xv * dyrow[j * cng + q]


def backprop_filter_direct(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] dy,
    floating[:, :, ::1] df,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t groups,
    Py_ssize_t nchunks,
    int num_threads,
):
    """conv1d_backprop_filter for few channels: a chunked reduction with a fixed order.

    ``x`` ``[N, L, Cw]``, ``dy`` ``[N, M, Cn]``, ``df`` ``[K, Cw/G, Cn]`` (overwritten). The
    ``N*M`` rows (batch, narrow position) are cut into ``nchunks`` consecutive chunks, a number the
    caller fixes from the shape alone. Each chunk is a work item that sums its rows, in order, into
    its own partial filter; then each filter element, owned by one thread, adds the partials in
    chunk order. So every element is summed in one order whatever the thread count.
    """
    cdef Py_ssize_t N = dy.shape[0], M = dy.shape[1]
    cdef Py_ssize_t K = df.shape[0], cwg = df.shape[1], cn = df.shape[2]
    cdef Py_ssize_t size = K * cwg * cn
    cdef Py_ssize_t rows = N * M
    cdef Py_ssize_t per, chunk, r0, e, t
    cdef floating acc
    if size == 0:
        return
    if nchunks <= 1:
        # one chunk: its partial is the result (0 + p == p), summed in place, on this thread
        memset(&df[0, 0, 0], 0, size * sizeof(floating))
        with nogil:
            _filter_chunk(x, dy, &df[0, 0, 0], cwg, 0, rows, K, stride, dilation, pad_before,
                          groups)
        return
    per = (rows + nchunks - 1) // nchunks
    partials = np.zeros((nchunks, size), dtype=np.float32 if floating is float else np.float64)
    cdef floating[:, ::1] part = partials
    cdef floating* out = &df[0, 0, 0]
    cdef Chunks ch = chunks(nchunks, <double> rows * K * cwg * cn, num_threads)
    while next_chunk(&ch):
        for chunk in prange(ch.start, ch.stop, nogil=True, schedule="dynamic", num_threads=num_threads):
            r0 = chunk * per
            _filter_chunk(x, dy, &part[chunk, 0], cwg, r0, min(r0 + per, rows), K, stride, dilation,
                          pad_before, groups)
    for e in prange(size, nogil=True, schedule="static", num_threads=num_threads):
        acc = 0
        for t in range(nchunks):
            acc = acc + part[t, e]
        out[e] = acc
