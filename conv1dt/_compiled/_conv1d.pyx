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
from cython.parallel cimport prange, threadid
from libc.stdlib cimport free, malloc
from libc.string cimport memset

from ._blas cimport gemm, use_blas64
from ._cpu cimport (SKINNY_ADD, grouped_f32, grouped_f64, scratch as thread_scratch, scratch_done,
                    skinny_f32, skinny_f64, spread_row, team, team_begin, team_end, team_join)
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


cdef void _conv1d_reduce(const floating[:, :, ::1] x, const floating* fe,
                         floating[:, :, ::1] y, Py_ssize_t n, Py_ssize_t i0, Py_ssize_t i1,
                         Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad, Py_ssize_t K,
                         Py_ssize_t groups, floating* acc) noexcept nogil:
    """Narrow rows ``i0 .. i1 - 1`` of batch ``n`` for groups of one output channel each.

    ``fe[k, j*Cwg + c] = f[k, c, j]`` (the filter along the input's channels): each tap's
    products with the input row ``x[n, i*s + k*d - pad, :]`` go into ``acc`` (one element per
    input channel) in a vector loop over the row, taps in increasing ``k``; then
    ``y[n, i, j]`` sums its group's ``Cwg`` elements of ``acc`` in increasing ``c``. The
    elementwise loop replaces the gather's chain of scalar updates of one output element
    (``Cwg*K`` of them, each waiting on the last).
    """
    cdef Py_ssize_t L = x.shape[1], cw = x.shape[2], cwg = cw // groups
    cdef Py_ssize_t i, k, r, c, j
    cdef floating t
    cdef const floating* xrow
    cdef const floating* frow
    for i in range(i0, i1):
        memset(acc, 0, cw * sizeof(floating))
        for k in range(K):
            r = i * s + k * d - pad
            if r < 0 or r >= L:
                continue
            xrow = &x[n, r, 0]
            frow = fe + k * cw
            for c in range(cw):
                acc[c] += xrow[c] * frow[c]
        for j in range(groups):
            t = 0
            for c in range(j * cwg, (j + 1) * cwg):
                t = t + acc[c]
            y[n, i, j] = t


# The spread path of the direct kernel takes strides up to this (a table of s entries).
cdef enum:
    SPREAD_MAX_STRIDE = 64
    SPREAD_SLOT = 2          # its per-thread rows: a slot of the calling thread's kept scratch


cdef inline bint _spreads(Py_ssize_t groups, Py_ssize_t cwg, Py_ssize_t cn, Py_ssize_t itemsize,
                          Py_ssize_t M, Py_ssize_t K, Py_ssize_t s, Py_ssize_t d,
                          Py_ssize_t pad_before) noexcept nogil:
    """Whether the direct kernels (conv1d's and the filter gradient's) take the spread path:
    groups (not one channel each way) whose output rows ``Cn`` fill a vector, a stride the
    residue table takes, and each input row read by about 2 (row, tap) pairs or more: its taps
    step by ``s/gcd(s, d)`` and its rows by ``d/gcd(s, d)``, so it has about ``min(K, M*s/d) *
    gcd(s, d)/s`` of them (with one output row each input row is read once: spreading it would
    cost as much as its products), or one input channel a group (a channel multiplier, whose
    sums without the spread run over a few outputs at a time)."""
    cdef Py_ssize_t g = s, b = d, tmp
    while b:
        tmp = g % b
        g = b
        b = tmp
    return (groups > 1 and cwg * (cn // groups) > 1 and cn * itemsize >= 64
            and s <= SPREAD_MAX_STRIDE and pad_before >= 0
            and (cwg == 1 or (K * g >= 2 * s and M * g >= 2 * d)))


def spreads(Py_ssize_t groups, Py_ssize_t cwg, Py_ssize_t cn, Py_ssize_t itemsize, Py_ssize_t M,
            Py_ssize_t K, Py_ssize_t stride, Py_ssize_t dilation, Py_ssize_t pad_before):
    """:func:`_spreads` for the dispatch (which need not repeat a channel multiplier's input for
    a kernel that spreads its rows anyway)."""
    return _spreads(groups, cwg, cn, itemsize, M, K, stride, dilation, pad_before)


cdef void _conv1d_spread(const floating[:, :, ::1] x, const floating[:, :, ::1] f,
                         floating[:, :, ::1] y, Py_ssize_t n, Py_ssize_t i0, Py_ssize_t i1,
                         Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad, Py_ssize_t groups,
                         const Py_ssize_t* first, floating* xs) noexcept nogil:
    """Narrow rows ``i0 .. i1 - 1`` of batch ``n`` for groups of few channels: each input row
    ``o`` the rows read, spread to the output's channels (``xs[c*Cn + j*Cng + q] = x[n, o, j*Cwg +
    c]``), then the output rows it reaches added whole by ``grouped`` (``src/skinny_impl.h``),
    ``y[n, i, :] += sum over c of xs[c, :] * f[k, c, :]`` for each tap ``k`` with ``o = i*s + k*d -
    pad``. The input rows run in increasing ``o``, so each output adds its taps in increasing
    ``k``, each tap's channels summed first. ``first[r]`` is the least tap ``k`` with ``k*d = r``
    modulo ``s`` (-1 for none); the taps of a row then step by ``s/gcd(s, d)``, their outputs by
    ``-d/gcd(s, d)``.
    """
    cdef Py_ssize_t L = x.shape[1], K = f.shape[0], cwg = f.shape[1], cn = f.shape[2]
    cdef Py_ssize_t cng = cn // groups, g = s, b = d, tmp
    cdef Py_ssize_t o, olo, ohi, k0, ik, tlo, thi, kstep, istep
    while b:
        tmp = g % b
        g = b
        b = tmp
    kstep = s // g
    istep = d // g
    memset(&y[n, i0, 0], 0, (i1 - i0) * cn * sizeof(floating))
    olo = max(0, i0 * s - pad)
    ohi = min(L - 1, (i1 - 1) * s + (K - 1) * d - pad)
    for o in range(olo, ohi + 1):
        k0 = first[(o + pad) % s]
        if k0 < 0 or k0 >= K:
            continue
        ik = (o + pad - k0 * d) // s            # the output tap k0 reaches from row o
        tlo = 0 if ik < i1 else (ik - i1 + istep) // istep
        thi = min((K - 1 - k0) // kstep, (ik - i0) // istep) if ik >= i0 else -1
        if tlo > thi:
            continue
        spread_row(xs, cn, &x[n, o, 0], groups, cwg, cng)
        if floating is float:
            grouped_f32(&y[n, ik - tlo * istep, 0], -istep * cn, xs,
                        &f[k0 + tlo * kstep, 0, 0], kstep * cwg * cn, thi - tlo + 1, cn, cn, cwg)
        else:
            grouped_f64(&y[n, ik - tlo * istep, 0], -istep * cn, xs,
                        &f[k0 + tlo * kstep, 0, 0], kstep * cwg * cn, thi - tlo + 1, cn, cn, cwg)


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
    shape only, so the bits do not depend on the thread count. Groups (not one channel each way)
    whose output rows fill a vector, at strides up to ``SPREAD_MAX_STRIDE``, go through
    ``_conv1d_spread`` (whole output rows in vectors); other groups of one output channel each
    through ``_conv1d_reduce`` (each tap's products along the input row in a vector loop, then
    each group's sum); the rest through ``_conv1d_block``.
    """
    cdef team crew
    cdef Py_ssize_t N = y.shape[0], M = y.shape[1], cn = y.shape[2], cwg = f.shape[1]
    cdef Py_ssize_t nblocks = (M + BLOCK - 1) // BLOCK
    cdef Py_ssize_t item, i0, r, k, per
    cdef Py_ssize_t* first = NULL
    cdef floating* xs = NULL
    if N == 0 or M == 0 or cn == 0:
        return
    cdef Py_ssize_t items = N * nblocks
    cdef Chunks ch = chunks(items, <double> N * M * f.shape[0] * cwg * cn, num_threads)
    cdef bint spread = _spreads(groups, cwg, cn, sizeof(floating), M, f.shape[0], stride,
                                dilation, pad_before)
    cdef Py_ssize_t K = f.shape[0], cw = x.shape[2], j, c
    cdef floating* fe = NULL
    # the path: 0 the gather (_conv1d_block), 1 groups of one output each by their sums
    # (_conv1d_reduce, where the rows are not spread), 2 the spread rows (_conv1d_spread)
    cdef int path = 2 if spread else (1 if groups > 1 and cn == groups and cwg > 1 else 0)
    per = ((cw if path == 1 else cwg * cn) + 15) // 16 * 16   # a thread's rows: a cache line
    try:
        if path:
            xs = <floating*> thread_scratch(SPREAD_SLOT, num_threads * per * sizeof(floating))
            if xs == NULL:
                raise MemoryError(f"conv1dt: no memory for {num_threads} x {per} scratch "
                                  "elements")
        if path == 1:
            fe = <floating*> malloc(K * cw * sizeof(floating))
            if fe == NULL:
                raise MemoryError(f"conv1dt: no memory for {K} x {cw} filter elements")
            for k in range(K):
                for j in range(groups):
                    for c in range(cwg):
                        fe[k * cw + j * cwg + c] = f[k, c, j]
        if path == 2:
            first = <Py_ssize_t*> malloc(stride * sizeof(Py_ssize_t))
            if first == NULL:
                raise MemoryError(f"conv1dt: no memory for a table of {stride} entries")
            for r in range(stride):
                first[r] = -1
            for k in range(min(K, stride) - 1, -1, -1):
                first[(k * dilation) % stride] = k
        while next_chunk(&ch):
            team_begin(&crew, num_threads)
            for item in prange(ch.start, ch.stop, nogil=True, schedule="dynamic",
                               num_threads=num_threads):
                team_join(&crew, threadid())
                i0 = (item % nblocks) * BLOCK
                if path == 0:
                    _conv1d_block(x, f, y, item // nblocks, i0, min(i0 + BLOCK, M), stride,
                                  dilation, pad_before, groups)
                elif path == 1:
                    _conv1d_reduce(x, fe, y, item // nblocks, i0, min(i0 + BLOCK, M), stride,
                                   dilation, pad_before, K, groups, xs + threadid() * per)
                else:
                    _conv1d_spread(x, f, y, item // nblocks, i0, min(i0 + BLOCK, M), stride,
                                   dilation, pad_before, groups, first, xs + threadid() * per)
            team_end(&crew)
    finally:
        free(fe)
        free(first)
        if xs != NULL:
            scratch_done(SPREAD_SLOT, xs)


cdef void _stacked_taps(const floating[:, :, ::1] x, const floating[:, :, ::1] f,
                        floating[:, :, ::1] y, Py_ssize_t n, Py_ssize_t i0, Py_ssize_t i1,
                        Py_ssize_t c0, Py_ssize_t cb, Py_ssize_t s, Py_ssize_t pad) noexcept nogil:
    """Add rows ``i0 .. i1-1`` of batch element ``n``, output channels ``c0 .. c0+cb-1``, of
    conv1d at stride ``s``, dilation 1, one group (:func:`conv1d_blas`, ``stacked``): taps in
    blocks ``[b, b+s)``, in order; each block's rows with all its taps on the signal one GEMM of
    inner dimension ``tb*Cw`` on the input in place, the rows before and after them tap by tap.
    The blocks and the edge rows depend on the geometry only (not on ``i0``, ``i1``)."""
    cdef Py_ssize_t K = f.shape[0], cw = x.shape[2], cn = y.shape[2], L = x.shape[1]
    cdef Py_ssize_t b = 0, tb, off, lo, hi, k, a, e, side
    while b < K:
        tb = min(s, K - b)
        off = b - pad
        lo = max(i0, first_row(off, s))
        hi = min(i1, end_row(off + tb - 1, s, L))
        if lo < hi:
            # column-major: y^T[cb x rows] += f[b:b+tb]^T[cb x tb*Cw] @ windows[tb*Cw x rows]
            gemm(c'N', c'N', <int> cb, <int> (hi - lo), <int> (tb * cw), &f[b, 0, c0], <int> cn,
                 &x[n, lo * s + off, 0], <int> (s * cw), 1, &y[n, lo, c0], <int> cn)
        else:
            lo = hi = i1
        for k in range(b, b + tb):
            # tap by tap, the rows before the block's whole windows (side 0), then those after
            for side in range(2):
                a = max(hi if side else i0, first_row(k - pad, s))
                e = min(i1 if side else lo, end_row(k - pad, s, L))
                if a < e:
                    gemm(c'N', c'N', <int> cb, <int> (e - a), <int> cw, &f[k, 0, c0], <int> cn,
                         &x[n, a * s + k - pad, 0], <int> (s * cw), 1, &y[n, a, c0], <int> cn)
        b = b + tb


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
    Py_ssize_t cblock=0,
    Py_ssize_t gblock=0,
    bint flipped=False,
    bint stacked=True,
):
    """conv1d for many channels: per (block, tap, group) one GEMM into the owned output rows.

    ``x`` ``[N, L, Cw]``, ``f`` ``[K, Cw/G, Cn]``, ``y`` ``[N, M, Cn]`` (overwritten). Work items
    are (batch, block of ``rows`` narrow rows, block of ``gblock`` adjacent groups, block of
    ``cblock`` of each of their output channels; all groups or channels when ``gblock`` or
    ``cblock`` is 0). With ``flipped``, ``f`` is ``[K, Cn/G, Cw]`` and tap ``k`` is its
    ``f[K-1-k]`` transposed: conv1d_transpose at stride 1 (the transpose of ``x`` by ``f`` is
    this conv1d of ``x`` with the taps reversed and ``pad_before`` ``(K-1)*d - p``), its filter
    read in place. Tap ``k`` reads wide row ``i*s + off`` for
    narrow row ``i``, so its input rows are every ``s``-th one: ``y[i, group j] += x[i*s + off,
    group j] @ f[k, :, group j]`` is one GEMM whose input has leading dimension ``s*Cw``. Taps go
    in increasing ``k``; the blocks depend on the shape only, so the bits do not depend on the
    thread count. BLAS must run single-threaded inside (the caller arranges it).

    With ``stacked`` (one group, dilation 1, stride ``s > 1``, not ``flipped``), the taps go
    ``s`` at a time: taps ``k .. k+s-1`` of narrow row ``i`` read the run of ``s*Cw`` samples
    from wide row ``i*s + k - pad``, and row ``i+1``'s run starts ``s*Cw`` later, so the rows
    where all of them lie on the signal are one GEMM of inner dimension ``s*Cw`` on the input
    in place (leading dimension ``s*Cw``, the filter's ``s`` taps one ``[s*Cw, Cn]`` block),
    instead of ``s`` GEMMs of ``Cw``; the rows at the edges take the block's taps one by one.
    """
    cdef team crew
    cdef Py_ssize_t N = y.shape[0], M = y.shape[1], cn = y.shape[2]
    cdef Py_ssize_t L = x.shape[1], cw = x.shape[2]
    cdef Py_ssize_t K = f.shape[0], cwg = cw // groups
    cdef Py_ssize_t cng = cn // groups
    cdef Py_ssize_t nblocks = (M + rows - 1) // rows
    cdef Py_ssize_t item, n, i0, i1, k, off, lo, hi, j, c0, cb, i, k0, j0, j1
    cdef floating beta
    if N == 0 or M == 0 or cn == 0:
        return
    if cblock <= 0 or cblock > cng:
        cblock = cng
    if gblock <= 0 or gblock > groups:
        gblock = groups
    cdef Py_ssize_t ncb = (cng + cblock - 1) // cblock
    cdef Py_ssize_t ngb = (groups + gblock - 1) // gblock
    cdef Py_ssize_t items = N * nblocks * ngb * ncb
    cdef Chunks ch = chunks(items, <double> N * M * K * cwg * cn, num_threads)
    while next_chunk(&ch):
        team_begin(&crew, num_threads)
        for item in prange(ch.start, ch.stop, nogil=True, schedule="dynamic", num_threads=num_threads):
            team_join(&crew, threadid())
            n = item // (nblocks * ngb * ncb)
            i0 = (item // (ngb * ncb) % nblocks) * rows
            i1 = min(i0 + rows, M)
            j0 = (item // ncb % ngb) * gblock
            j1 = min(j0 + gblock, groups)
            c0 = item % ncb * cblock
            cb = min(cblock, cng - c0)
            # the first tap that reaches the block's rows: where it reaches all of them and the
            # block's channels are fewer than a 64-byte vector holds, its GEMMs overwrite them
            # (beta 0) and nothing is zeroed first: OpenBLAS's GEMM adding into 2-8 columns
            # with a short inner dimension ran 2.5-5x slower than writing them, while writing
            # 31-256 columns ran up to 1.5x slower than adding (docs/planner.rst)
            k0 = 0
            lo = hi = 0
            while k0 < K:
                lo = first_row(k0 * dilation - pad_before, stride)
                hi = end_row(k0 * dilation - pad_before, stride, L)
                if max(i0, lo) < min(i1, hi):
                    break
                k0 = k0 + 1
            beta = 1
            if (cwg > 0 and k0 < K and cb * <Py_ssize_t> sizeof(floating) < 64 and lo <= i0
                    and hi >= i1):
                beta = 0
            elif cb == cng and j1 - j0 == groups:     # whole rows: one stretch
                memset(&y[n, i0, 0], 0, (i1 - i0) * cn * sizeof(floating))
            elif cb == cng:     # the groups' run of each row
                for i in range(i0, i1):
                    memset(&y[n, i, j0 * cng], 0, (j1 - j0) * cng * sizeof(floating))
            else:
                for i in range(i0, i1):
                    for j in range(j0, j1):
                        memset(&y[n, i, j * cng + c0], 0, cb * sizeof(floating))
            if cwg == 0:
                continue
            if (stacked and stride > 1 and dilation == 1 and groups == 1 and not flipped
                    and beta == 1):
                _stacked_taps(x, f, y, n, i0, i1, c0, cb, stride, pad_before)
                continue
            for k in range(k0, K):
                off = k * dilation - pad_before
                lo = max(i0, first_row(off, stride))
                hi = min(i1, end_row(off, stride, L))
                if lo >= hi:
                    continue
                for j in range(j0, j1):
                    # column-major: y^T[cb x rows] (+)= f[k]^T[cb x cwg] @ x^T[cwg x rows]
                    # (flipped: f[K-1-k] is [Cn/G, Cw], its rows c0.., columns of group j)
                    gemm(c'T' if flipped else c'N', c'N', <int> cb, <int> (hi - lo), <int> cwg,
                         &f[K - 1 - k, c0, j * cwg] if flipped else &f[k, 0, j * cng + c0],
                         <int> (cw if flipped else cn),
                         &x[n, lo * stride + off, j * cwg], <int> (stride * cw),
                         beta if k == k0 else 1, &y[n, lo, j * cng + c0], <int> cn)
        team_end(&crew)


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


cdef void _filter_chunk_rows(const floating[:, :, ::1] x, const floating[:, :, ::1] dy,
                             floating* part, Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t K,
                             Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad) noexcept nogil:
    """``_filter_chunk`` for one group whose output rows fill a vector: per batch element and
    tap, the rows ``i`` whose sample is on the signal are one product ``part[k] [Cw x Cn] +=
    x_k^T dy`` read in place (``x_k``'s rows ``s*Cw`` apart), by the skinny GEMM
    (``src/skinny_impl.h``), which keeps a tile of ``part[k]`` in registers while it adds the
    rows in increasing ``i``: each element's sum in the order of ``_filter_chunk``."""
    cdef Py_ssize_t M = dy.shape[1], cn = dy.shape[2], L = x.shape[1], cw = x.shape[2]
    cdef Py_ssize_t r = r0, n, i0, i1, k, off, ilo, ihi
    while r < r1:
        n = r // M
        i0 = r % M
        i1 = min(M, i0 + (r1 - r))
        for k in range(K):
            off = k * d - pad
            ilo = max(i0, first_row(off, s))
            ihi = min(i1, end_row(off, s, L))
            if ilo < ihi:
                if floating is float:
                    skinny_f32(part + k * cw * cn, cn, &x[n, ilo * s + off, 0], 1, s * cw,
                               &dy[n, ilo, 0], cn, cw, cn, ihi - ilo, SKINNY_ADD, NULL, 0)
                else:
                    skinny_f64(part + k * cw * cn, cn, &x[n, ilo * s + off, 0], 1, s * cw,
                               &dy[n, ilo, 0], cn, cw, cn, ihi - ilo, SKINNY_ADD, NULL, 0)
        r = r + (i1 - i0)


cdef void _filter_chunk_spread(const floating[:, :, ::1] x, const floating[:, :, ::1] dy,
                               floating* part, Py_ssize_t cwg, Py_ssize_t r0, Py_ssize_t r1,
                               Py_ssize_t K, Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad,
                               Py_ssize_t groups, const Py_ssize_t* first,
                               floating* xs) noexcept nogil:
    """``_filter_chunk`` for groups of few channels: per batch element, each input row ``o`` the
    chunk's rows read, spread to the output's channels (``xs[c*Cn + j*Cng + q] = x[n, o, j*Cwg +
    c]``), then ``part[k, c, :] += xs[c, :] * dy[n, i, :]`` for each of its (row ``i``, tap ``k``)
    pairs, whole rows of ``Cn`` in vectors by ``grouped`` (``src/skinny_impl.h``). The input rows
    run in increasing ``o``, so each tap's rows ``i`` are added in increasing order, as in
    ``_filter_chunk``. ``first`` as for ``_conv1d_spread``.
    """
    cdef Py_ssize_t M = dy.shape[1], cn = dy.shape[2], L = x.shape[1]
    cdef Py_ssize_t cng = cn // groups, g = s, b = d, tmp, row = cwg * cn
    cdef Py_ssize_t n, ia, ib, o, olo, ohi, k0, ik, tlo, thi, c, kstep, istep, r
    while b:
        tmp = g % b
        g = b
        b = tmp
    kstep = s // g
    istep = d // g
    r = r0
    while r < r1:
        n = r // M
        ia = r % M
        ib = min(M, ia + (r1 - r))
        r = r + (ib - ia)
        olo = max(0, ia * s - pad)
        ohi = min(L - 1, (ib - 1) * s + (K - 1) * d - pad)
        for o in range(olo, ohi + 1):
            k0 = first[(o + pad) % s]
            if k0 < 0:
                continue
            ik = (o + pad - k0 * d) // s        # the row whose tap k0 reads input row o
            tlo = 0 if ik < ib else (ik - ib + istep) // istep
            thi = min((K - 1 - k0) // kstep, (ik - ia) // istep) if ik >= ia else -1
            if tlo > thi:
                continue
            spread_row(xs, cn, &x[n, o, 0], groups, cwg, cng)
            for c in range(cwg):
                if floating is float:
                    grouped_f32(part + (k0 + tlo * kstep) * row + c * cn, kstep * row,
                                xs + c * cn, &dy[n, ik - tlo * istep, 0], -istep * cn,
                                thi - tlo + 1, cn, cn, 1)
                else:
                    grouped_f64(part + (k0 + tlo * kstep) * row + c * cn, kstep * row,
                                xs + c * cn, &dy[n, ik - tlo * istep, 0], -istep * cn,
                                thi - tlo + 1, cn, cn, 1)


cdef void _filter_direct_spread(const floating[:, :, ::1] x, const floating[:, :, ::1] dy,
                               floating[:, :, ::1] df, Py_ssize_t stride, Py_ssize_t dilation,
                               Py_ssize_t pad_before, Py_ssize_t groups, Py_ssize_t nchunks,
                               int num_threads):
    """``backprop_filter_direct`` by ``_filter_chunk_spread``: the same chunks and partial
    filters, each chunk's input rows spread to the output's channels in its thread's rows of a
    kept scratch block."""
    cdef team crew
    cdef Py_ssize_t N = dy.shape[0], M = dy.shape[1], L = x.shape[1]
    cdef Py_ssize_t K = df.shape[0], cwg = df.shape[1], cn = df.shape[2]
    cdef Py_ssize_t size = K * cwg * cn, rows = N * M
    cdef Py_ssize_t per, chunk, r0, e, t, k, xper = (cwg * cn + 15) // 16 * 16
    cdef floating acc
    cdef Py_ssize_t* first = NULL
    cdef floating* xs = NULL
    cdef floating[:, ::1] part
    cdef floating* out = &df[0, 0, 0]
    cdef Chunks ch
    try:
        first = <Py_ssize_t*> malloc(stride * sizeof(Py_ssize_t))
        xs = <floating*> thread_scratch(SPREAD_SLOT, num_threads * xper * sizeof(floating))
        if first == NULL or xs == NULL:
            raise MemoryError(f"conv1dt: no memory for {num_threads} x {xper} scratch elements")
        for t in range(stride):
            first[t] = -1
        for k in range(min(K, stride) - 1, -1, -1):
            first[(k * dilation) % stride] = k
        if nchunks <= 1:
            # one chunk: its partial is the result (0 + p == p), summed in place, on this thread
            memset(out, 0, size * sizeof(floating))
            with nogil:
                _filter_chunk_spread(x, dy, out, cwg, 0, rows, K, stride, dilation, pad_before,
                                     groups, first, xs)
            return
        per = (rows + nchunks - 1) // nchunks
        part = np.zeros((nchunks, size), dtype=np.float32 if floating is float else np.float64)
        ch = chunks(nchunks, <double> rows * K * cwg * cn, num_threads)
        while next_chunk(&ch):
            team_begin(&crew, num_threads)
            for chunk in prange(ch.start, ch.stop, nogil=True, schedule="dynamic",
                                num_threads=num_threads):
                team_join(&crew, threadid())
                r0 = chunk * per
                _filter_chunk_spread(x, dy, &part[chunk, 0], cwg, r0, min(r0 + per, rows), K,
                                     stride, dilation, pad_before, groups, first,
                                     xs + threadid() * xper)
            team_end(&crew)
    finally:
        free(first)
        if xs != NULL:
            scratch_done(SPREAD_SLOT, xs)
    for e in prange(size, nogil=True, schedule="static", num_threads=num_threads):
        acc = 0
        for t in range(nchunks):
            acc = acc + part[t, e]
        out[e] = acc


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
    chunk order. So every element is summed in one order whatever the thread count. With one
    group, a vector of output channels (64 bytes) and 2 rows a batch element or more, a chunk's
    rows are added by the skinny GEMM per batch element and tap (:func:`_filter_chunk_rows`), in
    the same order.
    """
    cdef team crew
    cdef Py_ssize_t N = dy.shape[0], M = dy.shape[1]
    cdef Py_ssize_t K = df.shape[0], cwg = df.shape[1], cn = df.shape[2]
    cdef Py_ssize_t size = K * cwg * cn
    cdef Py_ssize_t rows = N * M
    cdef Py_ssize_t per, chunk, r0, e, t
    cdef floating acc
    if size == 0:
        return
    if _spreads(groups, cwg, cn, sizeof(floating), M, K, stride, dilation, pad_before):
        # groups of few channels whose output rows fill a vector: the input rows spread
        _filter_direct_spread(x, dy, df, stride, dilation, pad_before, groups, nchunks,
                              num_threads)
        return
    # one group whose output rows fill a 64-byte vector, 2+ rows a batch element: the rows by
    # the skinny GEMM (with one, a call of it per element and tap, for one product each)
    cdef bint by_rows = groups == 1 and cn * <Py_ssize_t> sizeof(floating) >= 64 and M >= 2
    if nchunks <= 1:
        # one chunk: its partial is the result (0 + p == p), summed in place, on this thread
        memset(&df[0, 0, 0], 0, size * sizeof(floating))
        with nogil:
            if by_rows:
                _filter_chunk_rows(x, dy, &df[0, 0, 0], 0, rows, K, stride, dilation, pad_before)
            else:
                _filter_chunk(x, dy, &df[0, 0, 0], cwg, 0, rows, K, stride, dilation, pad_before,
                              groups)
        return
    per = (rows + nchunks - 1) // nchunks
    partials = np.zeros((nchunks, size), dtype=np.float32 if floating is float else np.float64)
    cdef floating[:, ::1] part = partials
    cdef floating* out = &df[0, 0, 0]
    cdef Chunks ch = chunks(nchunks, <double> rows * K * cwg * cn, num_threads)
    while next_chunk(&ch):
        team_begin(&crew, num_threads)
        for chunk in prange(ch.start, ch.stop, nogil=True, schedule="dynamic", num_threads=num_threads):
            team_join(&crew, threadid())
            r0 = chunk * per
            if by_rows:
                _filter_chunk_rows(x, dy, &part[chunk, 0], r0, min(r0 + per, rows), K, stride,
                                   dilation, pad_before)
            else:
                _filter_chunk(x, dy, &part[chunk, 0], cwg, r0, min(r0 + per, rows), K, stride,
                              dilation, pad_before, groups)
        team_end(&crew)
    for e in prange(size, nogil=True, schedule="static", num_threads=num_threads):
        acc = 0
        for t in range(nchunks):
            acc = acc + part[t, e]
        out[e] = acc


def _use_blas64(size_t sgemm64, size_t dgemm64, size_t sgemv64, size_t dgemv64):
    """Have this module's kernels call the ILP64 BLAS at these addresses (all zero: SciPy's);
    conv1dt/_runtime/blas_pick.py, once, at import."""
    use_blas64(sgemm64, dgemm64, sgemv64, dgemv64)
