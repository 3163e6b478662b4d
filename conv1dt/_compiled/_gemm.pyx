# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Kernels whose cost grows only with their useful work: the family as blocks of GEMMs, and the
depthwise convolutions as vector loops across the channels.

Three GEMM kernels, one per side of the family, each a loop over work items that a thread owns whole
(so every output element is summed by one item, in an order fixed by the shape, and the bits do
not depend on the thread count), handed to the threads dynamically by ``run_items`` (``_items.pxd``):

* ``conv1d_im2col``: conv1d (any stride, dilation, groups, layout). Per item ``(block of
  rows, group)`` and per block of taps, the taps' input samples of the block's rows are gathered
  into a cache-sized column matrix (only the kept outputs: no stride-1 result is computed) and one
  GEMM with the filter's rows for those taps adds them into the output rows, which are written
  in place in either layout.
* ``backprop_filter_im2col``: conv1d_backprop_filter. Per item ``(chunk of rows, group, block of
  taps)`` the same column matrix of a block of rows times the block's output gradient, summed over
  the chunk's rows into the chunk's partial filter; the partials are added in chunk order.
* ``transpose_ola``: conv1d_transpose with many inputs and few outputs (GEMM, then overlap-add).
  Per item ``(n, block of output samples)`` and per block of taps, the input rows that reach the
  block times all the block's taps in one GEMM (inner dimension ``Cin``, outer ``taps*Cout``),
  then each row of products added to the outputs it reaches, rows in order.

``depthwise`` runs conv1d and conv1d_transpose with one channel per group: per item (batch, block
of outputs), each output sums its taps in order, one vector loop over the channels per tap.

``conv1d_fir`` runs conv1d of one channel to one (a FIR filter, decimating at a stride), or of
each channel of a depthwise call, by the input's residues modulo the stride: per item (batch,
channel, block of outputs) and residue, the samples the block reads through that residue's
taps, then the C layer's FIR over them (only the kept outputs, each tap once, the sums in
vector registers along the outputs). ``backprop_filter_fir`` is its filter gradient at dilation
1: per item (chunk of rows, channel, block of taps), the taps in vector registers while the
gradient's rows run.

Every operand is a C-contiguous 3-D array in NWC or NCW, read and written in place (BLAS's
leading dimensions and transposes absorb the layout). Index algebra as in ``_conv1d.pyx``: narrow
sample ``i`` and wide sample ``o`` meet at tap ``k`` when ``o = i*s + k*d - pad``.

The block sizes are the planner's (``conv1dt/_plan.py``), from the shape alone. BLAS must run
single-threaded inside (the caller arranges it); the planner keeps every size BLAS sees below
``2**31``.
"""
from math import gcd

from cython cimport floating
from libc.math cimport isfinite
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from ._blas cimport gemm, packed_gemm, use_blas64
from ._cpu cimport (SKINNY_ADD, SKINNY_BY_ROWS, SKINNY_OVERWRITE, SKINNY_STREAM,
                   depthwise_filter_f32, depthwise_filter_f64, depthwise_rows_f32,
                   depthwise_rows_f64, depthwise_tile_f32, depthwise_tile_f64, dot_f32, dot_f64,
                   fir_f32, fir_f64, packed_runs_f32, packed_runs_f64, run, skinny_f32,
                   skinny_f64, store_fence)
from ._index cimport floordiv
from ._items cimport run_items as _run_items
from ._loop cimport CHUNK_MACS


cdef inline void _skinny(floating* c, Py_ssize_t ldc, const floating* p, Py_ssize_t psi,
                         Py_ssize_t pst, const floating* q, Py_ssize_t ldq, Py_ssize_t m,
                         Py_ssize_t n, Py_ssize_t t, int accumulate, const floating* ahead,
                         Py_ssize_t ahead_elems) noexcept nogil:
    """``c[i, j] (+)= sum_u p[i*psi + u*pst] * q[u*ldq + j]``, u in order: the C layer's GEMM
    for one short dimension (``src/skinny_impl.h``), which packs nothing; it asks the memory for
    the ``ahead_elems`` elements at ``ahead`` (what the caller reads next) meanwhile."""
    if floating is float:
        skinny_f32(c, ldc, p, psi, pst, q, ldq, m, n, t, accumulate, ahead,
                   ahead_elems * sizeof(float))
    else:
        skinny_f64(c, ldc, p, psi, pst, q, ldq, m, n, t, accumulate, ahead,
                   ahead_elems * sizeof(double))


cdef inline void _dot(floating* c, Py_ssize_t ldc, const floating* p, Py_ssize_t ldp,
                      const floating* q, Py_ssize_t ldq, Py_ssize_t m, Py_ssize_t n, Py_ssize_t t,
                      int accumulate) noexcept nogil:
    """``c[i, j] (+)= sum_u p[i*ldp + u] * q[j*ldq + u]``: the C layer's dot GEMM (both operands
    along ``u``, read where they are)."""
    if floating is float:
        dot_f32(c, ldc, p, ldp, q, ldq, m, n, t, accumulate)
    else:
        dot_f64(c, ldc, p, ldp, q, ldq, m, n, t, accumulate)


cdef enum:
    # the rows of a filter streamed past a few rows of outputs from which it is read in memory
    # order (shorter runs of lines than this the prefetchers barely start on)
    BY_ROWS_MIN_BYTES = 2048
    # ... and the rows of outputs it keeps in one band while it does (more would read it again)
    BY_ROWS_MAX_ROWS = 8


cdef inline void _skinny_streamed(floating* c, Py_ssize_t ldc, const floating* p, Py_ssize_t psi,
                                  const floating* q, Py_ssize_t ldq, Py_ssize_t m, Py_ssize_t n,
                                  Py_ssize_t t, bint add) noexcept nogil:
    """``c[i, j] (+)= sum_u p[i*psi + u] * q[u*ldq + j]`` for a few rows ``m`` (at most a tile's)
    and a ``q`` far larger than the caches (a filter read once for them). One row is BLAS's
    matrix-vector product. Up to ``BY_ROWS_MAX_ROWS`` rows of ``c``, rows of ``q`` of
    ``BY_ROWS_MIN_BYTES`` or more are read in memory order, eight at a time, while a block of
    ``c``'s columns stays in L1 (``SKINNY_BY_ROWS``); shorter ones, runs too short for the
    prefetchers (and more rows of ``c``), go by the tiles on blocks of ``q``'s rows of about
    128 KiB in L2, each block asking the memory for the next while it computes. Each sum still
    runs over ``u`` in order."""
    cdef Py_ssize_t ub, u0 = 0, u1
    if m == 1:
        # column-major: c^T [n x 1] (+)= q^T [n x t] @ p^T [t x 1]
        gemm(c'N', c'N', <int> n, 1, <int> t, q, <int> ldq, p, <int> t, 1 if add else 0, c,
             <int> n)
        return
    if m <= BY_ROWS_MAX_ROWS and n * <Py_ssize_t> sizeof(floating) >= BY_ROWS_MIN_BYTES:
        _skinny(c, ldc, p, psi, 1, q, ldq, m, n, t,
                (SKINNY_ADD if add else SKINNY_OVERWRITE) | SKINNY_BY_ROWS, q, 0)
        return
    ub = max(16, (1 << 17) // (ldq * sizeof(floating)))
    while u0 < t:
        u1 = min(t, u0 + ub)
        _skinny(c, ldc, p + u0, psi, 1, q + u0 * ldq, ldq, m, n, u1 - u0,
                SKINNY_ADD if add or u0 > 0 else SKINNY_OVERWRITE, q + u1 * ldq,
                (min(t, u1 + ub) - u1) * ldq)
        u0 = u1


def skinny(floating[:, ::1] c, const floating[:, ::1] p, const floating[:, ::1] q,
           bint p_transposed, int accumulate):
    """``c (+)= p @ q`` by the skinny GEMM (tests): ``p`` is ``[m, t]``, or ``[t, m]`` read
    transposed when ``p_transposed``; ``q`` is ``[t, n]`` and ``c`` ``[m, n]``. ``accumulate``:
    0 overwrites ``c``, 1 adds to it, 2 overwrites it by stores that bypass the caches; 4 and 5
    overwrite and add reading ``q`` row after row (the modes of ``src/kernels.h``)."""
    cdef Py_ssize_t m = c.shape[0], n = c.shape[1], t = q.shape[0]
    if (p.shape[1] if p_transposed else p.shape[0]) != m or q.shape[1] != n or (
            p.shape[0] if p_transposed else p.shape[1]) != t:
        raise ValueError("skinny: shapes do not match")
    if m == 0 or n == 0:
        return
    cdef floating zero = 0
    with nogil:
        _skinny(&c[0, 0], n, &p[0, 0] if t else &zero, 1 if p_transposed else t,
                m if p_transposed else 1, &q[0, 0] if t else &zero, n, m, n, t, accumulate,
                &zero, 0)


def dot(floating[:, ::1] c, const floating[:, ::1] p, const floating[:, ::1] q, int accumulate):
    """``c (+)= p @ q.T`` by the dot GEMM (tests): ``p`` is ``[m, t]``, ``q`` ``[n, t]`` and ``c``
    ``[m, n]``; ``accumulate`` 0 overwrites ``c``, 1 adds to it."""
    cdef Py_ssize_t m = c.shape[0], n = c.shape[1], t = p.shape[1]
    if p.shape[0] != m or q.shape[0] != n or q.shape[1] != t:
        raise ValueError("dot: shapes do not match")
    if m == 0 or n == 0:
        return
    cdef floating zero = 0
    with nogil:
        _dot(&c[0, 0], n, &p[0, 0] if t else &zero, t, &q[0, 0] if t else &zero, t, m, n, t,
             accumulate)


def blas_gemm(floating[:, ::1] c, const floating[:, ::1] a, const floating[:, ::1] b,
              bint a_transposed, bint b_transposed, floating beta):
    """``c = a' @ b' + beta * c`` by the kernels' GEMM (tests; ``a'`` is ``a`` or its transpose
    ``a.T`` when ``a_transposed``, alike ``b'``): the packed GEMM where it is on
    (``_cpu._set_packed``), else the BLAS, as the kernels call it; ``beta`` is 0 or 1 (the two
    the kernels use)."""
    cdef Py_ssize_t m = c.shape[0], n = c.shape[1]
    cdef Py_ssize_t k = a.shape[0] if a_transposed else a.shape[1]
    if ((a.shape[1] if a_transposed else a.shape[0]) != m or
            (b.shape[0] if b_transposed else b.shape[1]) != n or
            (b.shape[1] if b_transposed else b.shape[0]) != k):
        raise ValueError("blas_gemm: shapes do not match")
    if m == 0 or n == 0 or k == 0:
        raise ValueError("blas_gemm: empty operands")
    with nogil:
        # c^T = b'^T a'^T in BLAS's column-major terms
        gemm(c'T' if b_transposed else c'N', c'T' if a_transposed else c'N', <int> n, <int> m,
             <int> k, &b[0, 0], <int> (k if b_transposed else n), &a[0, 0],
             <int> (m if a_transposed else k), beta, &c[0, 0], <int> n)


cdef inline Py_ssize_t _cdiv(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """``ceil(a / b)`` for ``b > 0``, any sign of ``a``."""
    return -floordiv(-a, b)


cdef inline void _on_signal(Py_ssize_t L, Py_ssize_t M, Py_ssize_t K, Py_ssize_t s,
                            Py_ssize_t d, Py_ssize_t pad, Py_ssize_t* lo,
                            Py_ssize_t* hi) noexcept nogil:
    """``[lo, hi)``: the conv1d outputs ``o < M`` all of whose taps read the signal of ``L``
    samples, ``0 <= o*s - pad`` and ``o*s + (K-1)*d - pad <= L - 1`` (empty: ``lo == hi``)."""
    lo[0] = min(max(0, _cdiv(pad, s)), M)
    hi[0] = min(M, max(lo[0], floordiv(L - 1 - (K - 1) * d + pad, s) + 1))


cdef inline void _taps_on_signal(Py_ssize_t L, Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad,
                                 Py_ssize_t i, Py_ssize_t rows, Py_ssize_t M, Py_ssize_t k0,
                                 Py_ssize_t k1, Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    """``[lo, hi)``: the taps of ``k0 .. k1 - 1`` that reach the signal of ``L`` samples
    (``0 <= o*s + k*d - pad < L``) from some of the ``rows`` outputs at positions ``i, i + 1,
    ...`` (all ``M`` positions when they run past ``M``, into the next batch element); empty
    when ``hi <= lo``."""
    cdef Py_ssize_t ia = i, ib = i + rows - 1
    if ib >= M:
        ia, ib = 0, M - 1
    lo[0] = max(k0, _cdiv(pad - ib * s, d))
    hi[0] = min(k1, _cdiv(L + pad - ia * s, d))


# --- the column matrix --------------------------------------------------------------------------

cdef struct _Signal:
    # a wide signal [N, L, C] (NWC) or [N, C, L] (NCW): element (n, o, c) at n*sn + o*sw + c*sc
    const void* data
    Py_ssize_t L, sn, sw, sc


cdef inline void _column_taps(const _Signal* w, floating* row, const floating* x, Py_ssize_t o,
                              Py_ssize_t taps, Py_ssize_t cg, Py_ssize_t d) noexcept nogil:
    """``row[k*cg + c] = x[(o + k*d)*sw + c*sc]`` for ``k < taps``, ``c < cg``: one row's taps,
    all on the signal."""
    cdef Py_ssize_t k, c, step = d * w.sw
    cdef const floating* src = x + o * w.sw
    if (w.sc == 1 and step == cg) or (cg == 1 and step == 1):
        # consecutive (tap, channel) pairs one element apart: one run of the signal (a short
        # one copied inline: a call of memcpy would cost more than the copy)
        if taps * cg <= 8:
            for k in range(taps * cg):
                row[k] = src[k]
        else:
            memcpy(row, src, taps * cg * sizeof(floating))
    elif cg == 1:                       # one channel, dilated: a strided copy
        for k in range(taps):
            row[k] = src[k * step]
    elif w.sc == 1 and cg <= 8:         # few channels, dilated: short runs, copied inline
        for k in range(taps):
            for c in range(cg):
                row[k * cg + c] = src[k * step + c]
    elif w.sc == 1:
        for k in range(taps):
            memcpy(row + k * cg, src + k * step, cg * sizeof(floating))
    else:
        for k in range(taps):
            for c in range(cg):
                row[k * cg + c] = src[k * step + c * w.sc]


cdef void _columns(const _Signal* w, floating* col, Py_ssize_t r0, Py_ssize_t rows, Py_ssize_t M,
                   Py_ssize_t c0, Py_ssize_t cg, Py_ssize_t k0, Py_ssize_t k1, Py_ssize_t s,
                   Py_ssize_t d, Py_ssize_t pad) noexcept nogil:
    """``col[r, (k - k0)*cg + c] = w[n, i*s + k*d - pad, c0 + c]`` (zero off the signal), where
    ``(n, i) = divmod(r0 + r, M)``, for ``r < rows``, ``k0 <= k < k1``, ``c < cg``: the im2col
    matrix of one block of (batch, narrow position) rows, which may span batch elements. Each
    batch element's rows whose taps all reach the signal are copied without a test; only the
    rows at its edges have their taps on the signal worked out one by one."""
    cdef Py_ssize_t kc = (k1 - k0) * cg, L = w.L
    cdef Py_ssize_t r, o, lo, hi, n, i, cnt, ia, ib, ii
    cdef floating* row
    cdef const floating* x
    r = 0
    while r < rows:
        n = (r0 + r) // M
        i = (r0 + r) % M
        cnt = min(rows - r, M - i)          # this batch element's rows of the block
        x = <const floating*> w.data + n * w.sn + c0 * w.sc
        # the rows ia .. ib - 1 whose taps k0 .. k1 - 1 all read the signal
        ia = min(max(i, _cdiv(pad - k0 * d, s)), i + cnt)
        ib = max(ia, min(i + cnt, floordiv(L - 1 + pad - (k1 - 1) * d, s) + 1))
        for ii in range(i, i + cnt):
            row = col + (r + ii - i) * kc
            if ia <= ii < ib:
                _column_taps(w, row, x, ii * s + k0 * d - pad, k1 - k0, cg, d)
                continue
            _taps_on_signal(L, s, d, pad, ii, 1, M, k0, k1, &lo, &hi)
            if hi <= lo:
                memset(row, 0, kc * sizeof(floating))
                continue
            memset(row, 0, (lo - k0) * cg * sizeof(floating))
            memset(row + (hi - k0) * cg, 0, (k1 - hi) * cg * sizeof(floating))
            o = ii * s + lo * d - pad            # the sample of tap lo
            _column_taps(w, row + (lo - k0) * cg, x, o, hi - lo, cg, d)
        r = r + cnt


# --- conv1d ------------------------------------------------------------------------------------

cdef enum:
    GROUP_BYTES = 256   # of each output row a grouped work item writes, at least (4 lines) ...
    GROUP_ITEMS = 8     # ... while the items are at least this many
    ALL_GROUPS_ITEMS = 16   # other items (row blocks, ...) from which an item takes every group


cdef inline Py_ssize_t _group_block(Py_ssize_t groups, Py_ssize_t row_bytes,
                                    Py_ssize_t others) noexcept nogil:
    """Adjacent groups per work item of a grouped kernel whose items write ``row_bytes`` of
    each output row a group, with ``others`` items for each block of groups (blocks of rows,
    of taps, chunks). Adjacent groups share the cache lines of each row where a group's part is
    narrower than a few lines, and two threads then write them in turn (92 groups of 6 float32
    outputs, filter gradient: 3.5 times slower on two threads than on one): every group in one
    item where the others give ``ALL_GROUPS_ITEMS`` items, else blocks of ``GROUP_BYTES`` of a
    row while the items stay at least ``GROUP_ITEMS`` (at least one group). A function of the
    shape alone; each output element is summed by one item, in the same order, whatever it is."""
    if others >= ALL_GROUPS_ITEMS:
        return groups
    cdef Py_ssize_t most = groups // ((GROUP_ITEMS + others - 1) // others)
    return max(1, min(GROUP_BYTES // max(row_bytes, 1), most))


cdef struct _Conv1d:
    _Signal w           # the wide input
    const void* f       # [K, Cw/G, Cn]
    void* z             # the narrow output, [N, M, Cn] or [N, Cn, M]
    bint ncw
    Py_ssize_t N, M, cn, cwg, K, s, d, pad, groups, rows, taps, nblocks
    Py_ssize_t gb, njb   # groups per work item (adjacent groups), and the items' blocks of them
    Py_ssize_t cnb, ncb  # output channels of a group per item, and the items a group's take
    Py_ssize_t few       # NWC blocks of at most this many rows: the skinny GEMM, streamed
    bint dbl, skinny, stream, implicit, packed
    bint dot            # implicit by the dot GEMM, the filter's rows ``ft`` [Cn, K*Cw]
    const void* ft
    Py_ssize_t ksplit   # NWC: each block's reaching taps in ksplit chunks, each a work item whose
    void* part          # partial outputs go to part [ksplit, N*M, Cn], then summed in order
    Py_ssize_t ilo, ihi  # implicit: the outputs whose window lies on the signal
    Py_ssize_t edge      # implicit: rows of the column matrix of the edges' outputs


cdef inline void _reaching(const _Conv1d* p, Py_ssize_t i, Py_ssize_t rows, Py_ssize_t* klo,
                           Py_ssize_t* khi) noexcept nogil:
    """``[klo, khi)``: the taps that reach the signal from some of ``rows`` outputs from position
    ``i`` (:func:`_taps_on_signal`; one tap, whose columns are zeros, when none does). The other
    taps' columns would be zeros: a GEMM's worth of them where the padding is wide."""
    _taps_on_signal(p.w.L, p.s, p.d, p.pad, i, rows, p.M, 0, p.K, klo, khi)
    if khi[0] <= klo[0]:
        klo[0] = min(klo[0], p.K - 1)
        khi[0] = klo[0] + 1


cdef enum:
    EDGE_TILE = 8   # rows of the skinny GEMM's tile: the edges' rows gathered together, at least
    EDGE_PANEL_BYTES = 1 << 20   # the filter's rows the edges read beyond this: in blocks
    RUNS = 48       # runs of rows (three a batch element at most) in one packed GEMM

cdef void _edge_block(const _Conv1d* p, const Py_ssize_t (*seg)[2], Py_ssize_t j, Py_ssize_t a,
                      Py_ssize_t e, floating* dst, Py_ssize_t ldd, floating* col, int mode,
                      Py_ssize_t c0, Py_ssize_t cols) noexcept nogil:
    """``e`` edge rows, from row ``a`` of segment ``j`` of ``seg`` (each a first row and a count
    of consecutive rows of one batch element) on, output channels ``c0 .. c0 + cols - 1``, into
    ``dst`` (rows ``ldd`` apart): their windows gathered into the column matrix ``col`` for the
    taps that reach the signal from any of them, in blocks of taps that fit it (one block where
    it holds ``e`` whole windows), multiplied by the skinny GEMM in order, each block adding to
    the sums of the ones before, the first stored as ``mode`` says where it is the only one.
    A block of the filter's rows beyond ``EDGE_PANEL_BYTES`` goes in pieces that stay in L2
    (``_skinny_streamed``). Each sum is the same, whatever the blocks (the zeros a row gathers
    off the signal add nothing to a finite sum)."""
    cdef Py_ssize_t klo = p.K, khi = 0, lo, hi, h = j, i = a, cnt, got = 0, chunk, k0, k1, kc
    cdef const floating* f = <const floating*> p.f
    cdef const floating* fk
    cdef bint large
    while got < e:
        cnt = min(seg[h][1] - i, e - got)
        _reaching(p, (seg[h][0] + i) % p.M, cnt, &lo, &hi)
        klo, khi = min(klo, lo), max(khi, hi)
        got, i = got + cnt, i + cnt
        if i == seg[h][1]:
            h, i = h + 1, 0
    chunk = max(1, p.edge * p.K // e)      # taps a block: e * chunk * Cw within col
    large = (khi - klo) * p.cwg * cols * sizeof(floating) > EDGE_PANEL_BYTES
    k0 = klo
    while k0 < khi:
        k1 = min(khi, k0 + chunk)
        kc = (k1 - k0) * p.cwg
        got, h, i = 0, j, a
        while got < e:
            cnt = min(seg[h][1] - i, e - got)
            _columns(&p.w, col + got * kc, seg[h][0] + i, cnt, p.M, 0, p.cwg, k0, k1, p.s, p.d,
                     p.pad)
            got, i = got + cnt, i + cnt
            if i == seg[h][1]:
                h, i = h + 1, 0
        fk = f + k0 * p.cwg * p.cn + c0
        if large:
            _skinny_streamed(dst, ldd, col, kc, fk, p.cn, e, cols, kc, k0 > klo)
        else:
            _skinny(dst, ldd, col, kc, 1, fk, p.cn, e, cols, kc,
                    SKINNY_ADD if k0 > klo else (mode if k1 == khi else SKINNY_OVERWRITE), f, 0)
        k0 = k1


cdef inline void _implicit_edge(const _Conv1d* p, Py_ssize_t r, Py_ssize_t rows, floating* col,
                                int mode, Py_ssize_t c0, Py_ssize_t cols) noexcept nogil:
    """Rows ``r .. r + rows - 1`` (of one batch element), output channels ``c0 .. c0 + cols -
    1``, of the implicit kernel whose windows leave the signal: through the column matrix
    ``col``, by the same skinny GEMM (:func:`_edge_block`), in blocks of the rows it holds;
    where it holds fewer than a tile of the GEMM and more are left, a tile's rows (as many as it
    holds of one tap) go together, their taps in blocks: the filter is read once for the tile
    rather than once for each row."""
    cdef Py_ssize_t kc, e
    cdef Py_ssize_t seg[1][2]
    while rows > 0:
        # in blocks of at most ``edge`` rows (the column matrix's)
        e = min(rows, p.edge)
        if p.dot:
            # the whole window, zeros and all: each output then sums the same products into the
            # same lanes as on the signal, however the rows were cut into blocks
            kc = p.K * p.cwg
            _columns(&p.w, col, r, e, p.M, 0, p.cwg, 0, p.K, p.s, p.d, p.pad)
            _dot(<floating*> p.z + r * p.cn + c0, p.cn, col, kc,
                 <const floating*> p.ft + c0 * kc, kc, e, cols, kc, SKINNY_OVERWRITE)
            r = r + e
            rows = rows - e
            continue
        if e < rows and e < EDGE_TILE:
            e = min(rows, EDGE_TILE, p.edge * p.K)
        seg[0][0], seg[0][1] = r, e
        _edge_block(p, seg, 0, 0, e, <floating*> p.z + r * p.cn + c0, p.cn, col, mode, c0, cols)
        r = r + e
        rows = rows - e


cdef Py_ssize_t _implicit_runs(const _Conv1d* p, Py_ssize_t r, Py_ssize_t r1, floating* col,
                               Py_ssize_t c0, Py_ssize_t cols, int mode) noexcept nogil:
    """Rows from ``r`` (not past ``r1``; output channels ``c0 .. c0 + cols - 1``) by one packed
    GEMM whose blocks of the filter serve them all, for as many batch elements as ``RUNS`` runs
    hold: each element's rows whose windows lie on the signal read in place, its edges' rows
    gathered whole into ``col`` (zeros off the signal) while they fit; an element's edges that
    do not go after it, a few rows at a time (:func:`_implicit_edge`); all stored as ``mode``
    says (``SKINNY_STREAM``: past the caches). Returns the
    row after the last one done: ``r`` itself, having done nothing, where the GEMM's scratch
    cannot be had."""
    cdef Py_ssize_t kc = p.K * p.cwg, sw = p.w.sw, k = 0, used = 0, e = 0, q = r
    cdef Py_ssize_t n, i, iend, a, b, left, right
    cdef Py_ssize_t pst = 1 if p.d * sw == p.cwg else p.d
    cdef const floating* x = <const floating*> p.w.data
    cdef floating* z
    cdef bint done
    cdef run runs[RUNS]
    cdef Py_ssize_t late[RUNS][4]     # (first row, rows) of an element's edges done after it
    cdef Py_ssize_t nlate = 0
    while q < r1 and k + 3 <= RUNS and nlate < RUNS:
        n = q // p.M
        i = q % p.M
        iend = min(p.M, i + (r1 - q))
        a = min(max(i, p.ilo), iend)
        b = max(min(iend, p.ihi), a)
        left, right = a - i, iend - b
        if used + left + right > p.edge:
            if k > 0 and left + right <= p.edge:
                break           # this element's edges fit a column matrix of their own
            late[nlate][0], late[nlate][1], late[nlate][2], late[nlate][3] = n * p.M + i, left, \
                n * p.M + b, right
            nlate = nlate + 1
            left = right = 0
        z = <floating*> p.z + n * p.M * p.cn + c0
        if left > 0:
            _columns(&p.w, col + used * kc, n * p.M + i, left, p.M, 0, p.cwg, 0, p.K, p.s, p.d,
                     p.pad)
            runs[k].c, runs[k].p, runs[k].psi, runs[k].pst = z + i * p.cn, col + used * kc, kc, 1
            runs[k].m = left
            used = used + left
            k = k + 1
        if b > a:
            runs[k].c, runs[k].p = z + a * p.cn, x + n * p.w.sn + (a * p.s - p.pad) * sw
            runs[k].psi, runs[k].pst, runs[k].m = p.s * sw, pst, b - a
            k = k + 1
        if right > 0:
            _columns(&p.w, col + used * kc, n * p.M + b, right, p.M, 0, p.cwg, 0, p.K, p.s,
                     p.d, p.pad)
            runs[k].c, runs[k].p, runs[k].psi, runs[k].pst = z + b * p.cn, col + used * kc, kc, 1
            runs[k].m = right
            used = used + right
            k = k + 1
        q = q + (iend - i)
    if k == 0:
        done = True
    elif floating is float:
        done = packed_runs_f32(runs, <int> k, p.cn, <const float*> p.f + c0, p.cn, 1, cols, kc,
                               mode) != 0
    else:
        done = packed_runs_f64(runs, <int> k, p.cn, <const double*> p.f + c0, p.cn, 1, cols, kc,
                               mode) != 0
    if not done:
        return r
    _late_edges(p, late, nlate, col, mode, c0, cols)
    return q


cdef void _late_edges(const _Conv1d* p, Py_ssize_t (*late)[4], Py_ssize_t nlate, floating* col,
                      int mode, Py_ssize_t c0, Py_ssize_t cols) noexcept nogil:
    """The edges' rows that did not join their elements' packed GEMM (``late``: first row and
    rows of each element's two edges), output channels ``c0 .. c0 + cols - 1``. Where the
    column matrix holds a tile of rows (``EDGE_TILE``) of one tap, up to a tile of them, from
    any elements and edges, go together through a tile of outputs after the column matrix
    (``EDGE_TILE * cols`` elements), their windows gathered in blocks of taps that fit it and
    multiplied in order, each block adding to the sums of the ones before, then copied out: the
    filter, larger than the caches where the matrix holds less than a tile of whole windows, is
    read once for a tile of rows rather than for each edge (three batch elements with two edges
    of two rows, 1527 -> 320 channels, K=25: six reads of its 47 MiB). Each sum is the same
    as by :func:`_implicit_edge` (the zeros a row gathers off the signal add nothing to a finite
    sum; a filter that is not finite has its edges computed again by the definition)."""
    cdef Py_ssize_t seg[2 * RUNS][2]
    cdef Py_ssize_t nseg = 0, j, h, e, used, cnt, a, i
    cdef floating* tile = col + p.edge * p.K * p.cwg     # after the column matrix
    for j in range(nlate):
        for h in range(2):
            if late[j][2 * h + 1] > 0:
                seg[nseg][0], seg[nseg][1] = late[j][2 * h], late[j][2 * h + 1]
                nseg = nseg + 1
    if p.edge * p.K < EDGE_TILE or p.K * p.cwg * cols * sizeof(floating) <= EDGE_PANEL_BYTES:
        for j in range(nseg):
            _implicit_edge(p, seg[j][0], seg[j][1], col, mode, c0, cols)
        return
    j, a = 0, 0          # the next row: of segment j, its a-th
    while j < nseg:
        # a tile's rows: from row a of segment j on
        e, h, i = 0, j, a
        while h < nseg and e < EDGE_TILE:
            cnt = min(seg[h][1] - i, EDGE_TILE - e)
            e, i = e + cnt, i + cnt
            if i == seg[h][1]:
                h, i = h + 1, 0
        _edge_block(p, seg, j, a, e, tile, cols, col, SKINNY_OVERWRITE, c0, cols)
        # the tile's outputs to their rows
        used = 0
        while used < e:
            cnt = min(seg[j][1] - a, e - used)
            for i in range(cnt):
                memcpy(<floating*> p.z + (seg[j][0] + a + i) * p.cn + c0, tile + (used + i) * cols,
                       cols * sizeof(floating))
            used = used + cnt
            a = a + cnt
            if a == seg[j][1]:
                j, a = j + 1, 0


cdef void _conv1d_implicit(const _Conv1d* p, Py_ssize_t r0, Py_ssize_t rows, floating* col,
                           Py_ssize_t c0, Py_ssize_t cols) noexcept nogil:
    """Rows ``r0 .. r0 + rows - 1`` of the (batch, position) rows, output channels ``c0 .. c0
    + cols - 1``, NWC, one group, where each output's window of ``K*Cw`` (tap, channel) pairs is
    one run of the signal, evenly spaced (dilation 1, or one channel): the outputs whose window
    lies on the signal multiply it where it is, a matrix whose rows are ``s*Cw`` elements apart,
    by the skinny GEMM (no column matrix, no packing), or with ``packed`` by the packed GEMM
    (the filter laid out in cache-sized blocks, once for the rows of up to 16 batch elements:
    long windows, whose panel of the filter the skinny GEMM would read from beyond L2 for every
    tile of 8 outputs); the outputs at the edges, through the column matrix. Each output is one
    sum over its window in order, either way."""
    cdef Py_ssize_t kc = p.K * p.cwg, r = r0, r1 = r0 + rows, n, i, iend, a, b, done
    cdef Py_ssize_t sw = p.w.sw, pst = 1 if p.d * sw == p.cwg else p.d
    cdef const floating* x = <const floating*> p.w.data
    cdef int mode = SKINNY_STREAM if p.stream else SKINNY_OVERWRITE
    while r < r1:
        if p.packed:
            done = _implicit_runs(p, r, r1, col, c0, cols, mode)
            if done > r:
                r = done
                continue
        n = r // p.M
        i = r % p.M
        iend = min(p.M, i + (r1 - r))
        a = min(max(i, p.ilo), iend)
        b = max(min(iend, p.ihi), a)
        _implicit_edge(p, n * p.M + i, a - i, col, mode, c0, cols)
        if b > a and p.dot:
            _dot(<floating*> p.z + (n * p.M + a) * p.cn + c0, p.cn,
                 x + n * p.w.sn + (a * p.s - p.pad) * sw, p.s * sw,
                 <const floating*> p.ft + c0 * kc, kc, b - a, cols, kc, SKINNY_OVERWRITE)
        elif b > a:
            _skinny(<floating*> p.z + (n * p.M + a) * p.cn + c0, p.cn,
                    x + n * p.w.sn + (a * p.s - p.pad) * sw, p.s * sw, pst,
                    <const floating*> p.f + c0, p.cn, b - a, cols, kc, mode,
                    <const floating*> p.f, 0)
        _implicit_edge(p, n * p.M + b, iend - b, col, mode, c0, cols)
        r = r + (iend - i)


cdef void _conv1d_block(const _Conv1d* p, Py_ssize_t item, floating* col) noexcept nogil:
    """Work item ``item``: a block of output channels, a block of ``gb`` adjacent groups, a block
    of rows (and in NCW a batch element)."""
    cdef Py_ssize_t kq = item % p.ksplit
    item = item // p.ksplit
    cdef Py_ssize_t cb = item % p.ncb
    item = item // p.ncb
    cdef Py_ssize_t jb = item % p.njb
    cdef Py_ssize_t b = (item // p.njb) % p.nblocks
    cdef Py_ssize_t n = item // (p.njb * p.nblocks)
    cdef Py_ssize_t j
    for j in range(jb * p.gb, min(p.groups, (jb + 1) * p.gb)):
        _conv1d_group(p, n, b, j, cb, kq, col)


cdef void _conv1d_group(const _Conv1d* p, Py_ssize_t n, Py_ssize_t b, Py_ssize_t j,
                        Py_ssize_t cb, Py_ssize_t kq, floating* col) noexcept nogil:
    """Channel block ``cb`` of group ``j`` on row block ``b`` (of batch element ``n`` in NCW),
    chunk ``kq`` of the taps (into its partial outputs where the taps are split)."""
    # the item's block of the group's output channels: c0 .. c0 + cng - 1 of group j
    cdef Py_ssize_t c0 = cb * p.cnb
    cdef Py_ssize_t cng = min(p.cnb, p.cn // p.groups - c0)
    cdef Py_ssize_t jc = j * (p.cn // p.groups) + c0     # its first output channel
    # NWC: blocks of the flattened (batch, position) rows; NCW: blocks within one batch element
    cdef Py_ssize_t i0 = b * p.rows
    cdef Py_ssize_t rows = min(p.rows, (p.M if p.ncw else p.N * p.M) - i0)
    cdef Py_ssize_t k0, k1, kc, klo, khi, r
    cdef const floating* f = <const floating*> p.f
    cdef floating* z = <floating*> p.z
    cdef floating beta = 0
    if p.implicit:
        _conv1d_implicit(p, i0, rows, col, jc, cng)
        return
    # the taps that reach the signal from some output of the block
    _reaching(p, i0 % p.M, rows, &klo, &khi)
    if p.ksplit > 1:
        # this chunk of the block's reaching taps only, into its own partial outputs (laid out
        # as z, NWC)
        z = <floating*> p.part + kq * p.N * p.M * p.cn
        k0 = (khi - klo + p.ksplit - 1) // p.ksplit
        klo = klo + kq * k0
        khi = min(khi, klo + k0)
        if klo >= khi:
            for r in range(rows):
                memset(z + (i0 + r) * p.cn + jc, 0, cng * sizeof(floating))
            return
    k0 = klo
    while k0 < khi:
        k1 = min(khi, k0 + p.taps)
        kc = (k1 - k0) * p.cwg
        _columns(&p.w, col, n * p.M + i0, rows, p.M, j * p.cwg, p.cwg, k0, k1, p.s, p.d, p.pad)
        if p.ncw:
            # column-major: z[n, group j, i0..]^T [rows x cng] (+)= col [rows x kc] @ f [kc x cng]
            gemm(c'T', c'T', <int> rows, <int> cng, <int> kc, col, <int> kc,
                 f + k0 * p.cwg * p.cn + jc, <int> p.cn, beta,
                 z + (n * p.cn + jc) * p.M + i0, <int> p.M)
        elif rows <= p.few:
            # a few rows (batch elements of one or two outputs): the filter, read once for them,
            # where BLAS would pack it for them
            _skinny_streamed(z + (n * p.M + i0) * p.cn + jc, p.cn, col, kc,
                             f + k0 * p.cwg * p.cn + jc, p.cn, rows, cng, kc, beta != 0)
        elif p.skinny:
            # z[n, i0.., group j] [rows x cng] (+)= col [rows x kc] @ f [kc x cng]
            _skinny(z + (n * p.M + i0) * p.cn + jc, p.cn, col, kc, 1,
                    f + k0 * p.cwg * p.cn + jc, p.cn, rows, cng, kc,
                    SKINNY_ADD if beta != 0 else (SKINNY_STREAM if p.stream else SKINNY_OVERWRITE),
                    f, 0)
        else:
            # column-major: z[n, i0.., group j]^T [cng x rows] (+)= f^T [cng x kc] @ col^T [kc x rows]
            gemm(c'N', c'N', <int> cng, <int> rows, <int> kc, f + k0 * p.cwg * p.cn + jc,
                 <int> p.cn, col, <int> kc, beta, z + (n * p.M + i0) * p.cn + jc, <int> p.cn)
        beta = 1
        k0 = k1


cdef void _conv1d_item(const void* ctx, Py_ssize_t item, void* scratch) noexcept nogil:
    cdef const _Conv1d* p = <const _Conv1d*> ctx
    if p.dbl:
        _conv1d_block(p, item, <double*> scratch)
    else:
        _conv1d_block(p, item, <float*> scratch)


cdef _Signal _signal(const floating[:, :, ::1] a, bint ncw):
    cdef _Signal w
    w.data = &a[0, 0, 0]
    w.sn = a.shape[1] * a.shape[2]
    if ncw:
        w.L, w.sw, w.sc = a.shape[2], 1, a.shape[2]
    else:
        w.L, w.sw, w.sc = a.shape[1], a.shape[2], 1
    return w


def conv1d_im2col(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] z,
    bint ncw,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t groups,
    Py_ssize_t rows,
    Py_ssize_t taps,
    int num_threads,
    bint skinny=False,
    bint stream=False,
    bint implicit=False,
    Py_ssize_t few=0,
    Py_ssize_t channels=0,
    bint packed=False,
    Py_ssize_t edge=0,
    const floating[:, ::1] ft=None,
    Py_ssize_t ksplit=1,
    floating[:, :, ::1] part=None,
):
    """conv1d by blocks of im2col and GEMM; ``z`` is overwritten.

    ``x`` is the wide input and ``z`` the narrow output, both ``[N, W, C]`` (NWC) or ``[N, C, W]``
    (``ncw``); ``f`` is ``[K, Cw/G, Cn]``. Work items are (block of ``rows`` outputs, group),
    the blocks cut from the (batch, position) rows taken together in NWC and from each batch
    element's in NCW; each sums its taps in blocks of ``taps`` (in increasing order) with one GEMM per
    block, over a per-thread column matrix of ``rows * taps * Cw/G`` elements. With ``skinny``
    (NWC only) the GEMM is the C layer's for a short inner dimension instead of BLAS's. With
    ``implicit`` (NWC, one group, dilation 1 or one channel: each output's window is one run of
    the signal) the skinny GEMM reads the windows on the signal where they are, all taps at once,
    and only the edges go through the column matrix (in blocks of at most ``edge`` rows, when
    given); with ``packed`` too, the packed GEMM
    multiplies the windows on the signal (the filter laid out in cache-sized blocks for each
    item). A block of at most ``few`` rows (NWC) is
    multiplied by the skinny GEMM too, the filter read once in blocks that stream from memory.
    With ``channels`` (not with ``implicit`` unless ``packed``), each group's output channels
    are cut into blocks of that many, one work item each (every item gathers or lays out its
    block of rows or of the filter): work for the threads where the rows are few and the
    filter large. With ``ft``, the filter's rows ``[Cn, K*Cw]`` (``implicit`` at dilation 1,
    not ``packed``), the dot GEMM multiplies each output's window by them, vectorised along
    the window (few output channels, which the skinny GEMM's vectors of channels would leave
    mostly empty); the edges' windows are gathered whole, so each output is the same sum of
    the same lanes wherever its block began. With ``ksplit`` above 1 (NWC, not ``implicit``)
    each block's taps that reach the signal go in ``ksplit`` chunks (of the same length but
    the last), each a work item (each thread reading its own part of the filter: a few rows
    under a large filter),
    into ``part`` ``[ksplit, N*M, Cn]``, then summed chunk by chunk in order into ``z``: the
    bits depend on ``ksplit`` (the shape's), not on the threads.
    """
    cdef _Conv1d p
    cdef Py_ssize_t N = z.shape[0]
    if N == 0 or z.shape[1] == 0 or z.shape[2] == 0:
        return
    p.ncw = ncw
    p.M, p.cn = (z.shape[2], z.shape[1]) if ncw else (z.shape[1], z.shape[2])
    p.cwg, p.K = f.shape[1], f.shape[0]
    if p.cwg == 0 or p.K == 0:
        memset(&z[0, 0, 0], 0, N * z.shape[1] * z.shape[2] * sizeof(floating))
        return
    p.w = _signal(x, ncw)
    p.f, p.z = &f[0, 0, 0], &z[0, 0, 0]
    p.s, p.d, p.pad, p.groups = stride, dilation, pad_before, groups
    p.rows, p.taps = rows, min(taps, p.K)
    p.N = N
    p.nblocks = (p.M + rows - 1) // rows if ncw else (N * p.M + rows - 1) // rows
    p.dbl = floating is double
    p.skinny = skinny and not ncw
    p.few = 0 if ncw else few
    p.stream = stream
    p.implicit = (implicit and not ncw and groups == 1
                  and (dilation == 1 or p.cwg == 1))
    p.packed = packed and p.implicit
    p.dot = ft is not None and p.implicit and not p.packed and (dilation == 1 or p.K == 1)
    if ft is not None and not p.dot:
        raise ValueError("conv1d_im2col: the filter's rows serve the implicit kernel at "
                         "dilation 1 only")
    if p.dot:
        if ft.shape[0] != p.cn or ft.shape[1] != p.K * p.cwg:
            raise ValueError("conv1d_im2col: ft must be [Cn, K*Cw]")
        p.ft = &ft[0, 0]
    p.cnb = p.cn // groups
    if channels > 0 and (p.packed or p.dot or not p.implicit):
        p.cnb = min(p.cnb, channels)
    p.ncb = (p.cn // groups + p.cnb - 1) // p.cnb
    # adjacent groups' outputs share the cache lines of each output row in NWC (_group_block)
    p.gb = 1
    if not ncw and p.ncb == 1:
        p.gb = _group_block(groups, p.cnb * sizeof(floating), p.nblocks)
    p.njb = (groups + p.gb - 1) // p.gb
    p.edge = rows
    if p.implicit:
        p.taps = p.K
        p.edge = min(rows, edge) if edge > 0 else rows
        _on_signal(p.w.L, p.M, p.K, stride, dilation, pad_before, &p.ilo, &p.ihi)
    p.ksplit = 1
    if ksplit > 1 and not ncw and not p.implicit:
        if part is None or part.shape[0] < ksplit or part.shape[1] != N * p.M or \
                part.shape[2] != p.cn:
            raise ValueError("conv1d_im2col: part must be [ksplit, N*M, Cn]")
        p.ksplit = min(ksplit, p.K)
        p.part = &part[0, 0, 0]
    _run_items(_conv1d_item, &p, (N if ncw else 1) * p.nblocks * p.njb * p.ncb * p.ksplit,
               <double> N * p.M * p.K * p.cwg * p.cn,
               (p.edge * p.taps * p.cwg + (EDGE_TILE * p.cnb if p.packed else 0))
               * sizeof(floating), num_threads)
    if p.ksplit > 1:
        _sum_parts(&z[0, 0, 0], <const floating*> p.part, p.ksplit, N * p.M * p.cn)


cdef void _sum_parts(floating* z, const floating* part, Py_ssize_t chunks,
                     Py_ssize_t size) noexcept nogil:
    """``z[e] = part[0, e] + part[1, e] + ...`` for ``e < size``, the chunks added in order."""
    cdef Py_ssize_t e, q
    cdef floating acc
    for e in range(size):
        acc = part[e]
        for q in range(1, chunks):
            acc = acc + part[q * size + e]
        z[e] = acc


# --- conv1d_backprop_filter --------------------------------------------------------------------

cdef struct _Filter:
    _Signal w           # the wide input x
    const void* dy      # the narrow gradient, [N, M, Cn] or [N, Cn, M]
    void* part          # [chunks, K, Cw/G, Cn] partial filters
    bint ncw
    Py_ssize_t N, M, cn, cwg, K, s, d, pad, groups, rows, taps, ntb, chunks, per
    Py_ssize_t gb, njb   # groups per work item (adjacent groups), and the items' blocks of them
    Py_ssize_t seg0, seg    # this round's rows of each chunk: seg0 .. seg0 + seg - 1
    bint dbl, skinny, inplace
    bint gemv           # one matrix-vector product per column of the gathered block
    bint across         # the skinny GEMM vectorised across the taps (``df^T += dy^T @ col``)
    bint window         # rows whose taps all read the signal: their columns read in place
    Py_ssize_t step     # in place, the elements between consecutive (tap, channel) columns
    Py_ssize_t wrows    # rows of a block with ``window`` (the edge rows gathered ``rows`` at a time)
    Py_ssize_t cb, ncb  # in place, output channels of a group per work item, and their blocks
    Py_ssize_t wb, nwb  # in place, input channels of a group per work item, and their blocks
    bint packed         # the gathered blocks' GEMMs by the packed GEMM (else the BLAS's)
    bint stream         # a chunk's one block of rows (its GEMMs overwrite the gradient) by the
                        # skinny GEMM, written once past the caches (NWC)


cdef void _filter_taps(const _Filter* p, floating* df, Py_ssize_t r, Py_ssize_t r1, Py_ssize_t j,
                       Py_ssize_t k0, Py_ssize_t k1, Py_ssize_t c0, Py_ssize_t cb,
                       Py_ssize_t w0, Py_ssize_t wb) noexcept nogil:
    """Rows ``r .. r1-1`` of the filter gradient's sum for taps ``k0 .. k1-1``, group ``j``, its
    output channels ``c0 .. c0+cb-1`` (``df`` at that group's channel ``c0``) and its input
    channels ``w0 .. w0+wb-1``, NWC, with no gather: tap ``k``'s input rows ``i*s + k*d - pad``
    are one matrix in place (leading dimension ``s*Cw``), so per block of rows of one batch
    element each tap is one GEMM ``df[k]^T [cb x wb] += dy^T [cb x rows] @ x_k [rows x wb]``
    over the rows whose sample is on the signal."""
    cdef const floating* x = <const floating*> p.w.data
    cdef const floating* dy = <const floating*> p.dy
    cdef Py_ssize_t cng = p.cn // p.groups, L = p.w.L, sw = p.w.sw
    cdef Py_ssize_t n, i0, rows, k, off, ilo, ihi
    while r < r1:
        n = r // p.M
        i0 = r % p.M
        rows = min(p.rows, r1 - r, p.M - i0)
        for k in range(k0, k1):
            off = k * p.d - p.pad
            ilo = max(i0, _cdiv(-off, p.s))                 # first row on the signal
            ihi = min(i0 + rows, _cdiv(L - off, p.s))       # first row past it
            if ilo < ihi:
                gemm(c'N', c'T', <int> cb, <int> wb, <int> (ihi - ilo),
                     dy + (n * p.M + ilo) * p.cn + j * cng + c0, <int> p.cn,
                     x + n * p.w.sn + (ilo * p.s + off) * sw + j * p.cwg + w0, <int> (p.s * sw),
                     1, df + ((k - k0) * p.cwg + w0) * p.cn, <int> p.cn)
        r = r + rows


cdef void _filter_skinny(const _Filter* p, floating* dk, floating* dft, const floating* a,
                         Py_ssize_t ast, Py_ssize_t step, const floating* dy, Py_ssize_t rows,
                         Py_ssize_t kr) noexcept nogil:
    """``dk [kr x Cn/G] += a^T @ dy`` for one run of ``rows`` rows by the skinny GEMM: ``a`` the
    rows' columns (column ``c`` of row ``u`` at ``a[u*ast + c*step]``: the gathered block, with
    ``step = 1``, or the signal itself), ``dy`` their gradient rows (``Cn`` apart). Vectorised
    along the gradient's channels, or with ``across`` (``step = 1``) along the columns, into
    ``dft [Cn/G x kr]``, then added to ``dk``: for a few output channels, whose vectors would
    be mostly empty."""
    cdef Py_ssize_t cng = p.cn // p.groups, c, e
    if not p.across:
        _skinny(dk, p.cn, a, step, ast, dy, p.cn, kr, cng, rows, SKINNY_ADD, NULL, 0)
        return
    _skinny(dft, kr, dy, 1, p.cn, a, ast, cng, kr, rows, SKINNY_OVERWRITE, NULL, 0)
    for c in range(kr):
        for e in range(cng):
            dk[c * p.cn + e] = dk[c * p.cn + e] + dft[e * kr + c]


cdef void _filter_window(const _Filter* p, floating* dk, floating* col, Py_ssize_t n,
                         Py_ssize_t i0, Py_ssize_t rows, Py_ssize_t j, Py_ssize_t k0,
                         Py_ssize_t k1) noexcept nogil:
    """Rows ``i0 .. i0 + rows - 1`` of batch element ``n`` (group ``j``, taps ``k0 .. k1-1``,
    NWC) by the skinny GEMM, the rows whose taps all read the signal with their columns in
    place (row ``i``'s are the run of the signal from sample ``i*s + k0*d - pad``, ``step``
    apart), the rows at the edges gathered first (``rows`` at a time), rows in order. Along
    the gradient's channels the rows in place go ``rows`` at a time too, each block asking for
    the next one's rows of ``dy`` (as the gathered blocks do): a block of many channels read
    from memory as the tiles need it ran twice as slow (4 x 32000 x 1 -> 512, K=16, s=8)."""
    cdef const floating* x = <const floating*> p.w.data
    cdef const floating* dy = <const floating*> p.dy
    cdef Py_ssize_t cng = p.cn // p.groups, L = p.w.L, sw = p.w.sw
    cdef Py_ssize_t kr = (k1 - k0) * p.cwg, i1 = i0 + rows
    cdef floating* dft = col + p.rows * p.taps * p.cwg
    cdef Py_ssize_t ia = min(max(i0, _cdiv(p.pad - k0 * p.d, p.s)), i1)
    cdef Py_ssize_t ib = max(ia, min(i1, floordiv(L - 1 - (k1 - 1) * p.d + p.pad, p.s) + 1))
    cdef const floating* g = dy + n * p.M * p.cn + j * cng
    cdef const floating* a = x + n * p.w.sn + (ia * p.s + k0 * p.d - p.pad) * sw + j * p.cwg
    cdef Py_ssize_t i = ia, cnt
    _filter_gathered(p, dk, dft, col, n, i0, ia, j, k0, k1)
    if ib > ia and p.across:
        _filter_skinny(p, dk, dft, a, p.s * sw, p.step, g + ia * p.cn, ib - ia, kr)
    while i < ib and not p.across:
        cnt = min(p.rows, ib - i)
        _skinny(dk, p.cn, a + (i - ia) * p.s * sw, p.step, p.s * sw, g + i * p.cn, p.cn, kr,
                cng, cnt, SKINNY_ADD, g + (i + cnt) * p.cn, min(p.rows, ib - i - cnt) * p.cn)
        i = i + cnt
    _filter_gathered(p, dk, dft, col, n, ib, i1, j, k0, k1)


cdef inline void _filter_gathered(const _Filter* p, floating* dk, floating* dft, floating* col,
                                  Py_ssize_t n, Py_ssize_t i, Py_ssize_t i1, Py_ssize_t j,
                                  Py_ssize_t k0, Py_ssize_t k1) noexcept nogil:
    """Rows ``i .. i1-1`` of batch element ``n`` gathered ``rows`` at a time, each block then
    by the skinny GEMM (:func:`_filter_skinny`)."""
    cdef Py_ssize_t kr = (k1 - k0) * p.cwg, cnt
    cdef const floating* g = <const floating*> p.dy + n * p.M * p.cn + j * (p.cn // p.groups)
    while i < i1:
        cnt = min(p.rows, i1 - i)
        _columns(&p.w, col, n * p.M + i, cnt, p.M, j * p.cwg, p.cwg, k0, k1, p.s, p.d, p.pad)
        _filter_skinny(p, dk, dft, col, kr, 1, g + i * p.cn, cnt, kr)
        i = i + cnt


cdef void _filter_block(const _Filter* p, Py_ssize_t item, floating* col) noexcept nogil:
    """Work item ``item``: block ``b`` of each group's output channels and block ``w`` of its
    input channels (in place), tap block ``t``, a block of ``gb`` adjacent groups, chunk
    ``ch``."""
    cdef Py_ssize_t b = item % p.ncb
    cdef Py_ssize_t w = item // p.ncb % p.nwb
    cdef Py_ssize_t t = item // (p.ncb * p.nwb) % p.ntb
    cdef Py_ssize_t jb = (item // (p.ncb * p.nwb * p.ntb)) % p.njb
    cdef Py_ssize_t ch = item // (p.ncb * p.nwb * p.ntb * p.njb)
    cdef Py_ssize_t j
    for j in range(jb * p.gb, min(p.groups, (jb + 1) * p.gb)):
        _filter_group(p, t, j, ch, col, b * p.cb, w * p.wb)


cdef void _filter_group(const _Filter* p, Py_ssize_t t, Py_ssize_t j, Py_ssize_t ch,
                        floating* col, Py_ssize_t c0, Py_ssize_t w0) noexcept nogil:
    """Tap block ``t`` of group ``j`` for chunk ``ch``, its output channels from ``c0`` (a block
    of ``cb``, in place or gathered for BLAS's or the packed GEMM; all of them otherwise) and
    its input channels from ``w0`` (a block of ``wb``, in place; all of them otherwise): this
    round's rows added into ``part[ch]``."""
    cdef Py_ssize_t cng = p.cn // p.groups
    cdef Py_ssize_t cb = min(p.cb, cng - c0)
    cdef Py_ssize_t wb = min(p.wb, p.cwg - w0)
    cdef Py_ssize_t k0 = t * p.taps, k1 = min(p.K, k0 + p.taps)
    cdef Py_ssize_t kc = (k1 - k0) * p.cwg
    cdef Py_ssize_t size = p.K * p.cwg * p.cn
    cdef floating* df = <floating*> p.part + ch * size + k0 * p.cwg * p.cn + j * cng + c0
    cdef floating* dk
    cdef const floating* dy = <const floating*> p.dy
    cdef Py_ssize_t r = ch * p.per + p.seg0
    cdef Py_ssize_t r1 = min(p.N * p.M, (ch + 1) * p.per, r + p.seg)
    cdef Py_ssize_t n, i0, rows, c, klo, khi, kr
    cdef int mode
    cdef floating beta = 1
    if (p.seg0 == 0 and not p.inplace and not p.window and not p.gemv and not p.across
            and not p.skinny and 0 < r1 - r <= p.rows and (not p.ncw or r1 - r <= p.M - r % p.M)):
        # one block of rows in all (few rows under a large filter): its GEMM overwrites the taps
        # that reach the signal, and only the others are zeroed, instead of zeroing them all and
        # then reading them back to add the product (the gradient's traffic, the whole cost
        # where the rows are few: docs/planner.rst, "Short gathered blocks of the filter
        # gradient")
        _taps_on_signal(p.w.L, p.s, p.d, p.pad, r % p.M, r1 - r, p.M, k0, k1, &klo, &khi)
        khi = max(khi, klo)
        for c in range(kc):
            if c < (klo - k0) * p.cwg or c >= (khi - k0) * p.cwg:
                memset(df + c * p.cn, 0, cb * sizeof(floating))
        beta = 0
    elif p.seg0 == 0:
        for c in range(kc):
            if w0 <= c % p.cwg < w0 + wb:       # (in place, this item's input channels)
                memset(df + c * p.cn, 0, cb * sizeof(floating))
    if p.inplace:
        _filter_taps(p, df, r, r1, j, k0, k1, c0, cb, w0, wb)
        return
    while r < r1:
        # a block of rows, within one batch element in NCW (dy's rows of two batch elements are
        # not one stride apart there) or where the columns are read in place
        n = r // p.M
        i0 = r % p.M
        if p.window:
            rows = min(p.wrows, r1 - r, p.M - i0)
            _filter_window(p, df, col, n, i0, rows, j, k0, k1)
            r = r + rows
            continue
        rows = min(p.rows, r1 - r, p.M - i0) if p.ncw else min(p.rows, r1 - r)
        # the block's taps that reach the signal from one of its rows: the others' columns
        # would be zeros, most of them where the padding is wide
        _taps_on_signal(p.w.L, p.s, p.d, p.pad, i0, rows, p.M, k0, k1, &klo, &khi)
        if klo < khi:
            kr = (khi - klo) * p.cwg
            dk = df + (klo - k0) * p.cwg * p.cn
            _columns(&p.w, col, r, rows, p.M, j * p.cwg, p.cwg, klo, khi, p.s, p.d, p.pad)
            if p.ncw:
                # column-major: df^T [cng x kr] += dy[n, group j, i0..] [cng x rows] @ col [rows x kr]
                gemm(c'T', c'T', <int> cng, <int> kr, <int> rows,
                     dy + (n * p.cn + j * cng) * p.M + i0, <int> p.M, col, <int> kr, beta, dk,
                     <int> p.cn)
            elif p.gemv:
                # df [kr x cng] += col^T [kr x rows] @ dy[n, i0.., group j] [rows x cng]: one
                # matrix-vector product per column (BLAS's GEMV streams the block of dy)
                for c in range(kr):
                    gemm(c'N', c'T', <int> cng, 1, <int> rows,
                         dy + (n * p.M + i0) * p.cn + j * cng, <int> p.cn, col + c, <int> kr, 1,
                         dk + c * p.cn, <int> p.cn)
            elif p.across:
                _filter_skinny(p, dk, col + p.rows * p.taps * p.cwg, col, kr, 1,
                               dy + (n * p.M + i0) * p.cn + j * cng, rows, kr)
            elif p.skinny:
                # df [kr x cng] += col^T [kr x rows] @ dy[n, i0.., group j] [rows x cng]
                # the next block's rows of dy (in this chunk and round) asked for meanwhile;
                # rows of dy of BY_ROWS_MIN_BYTES and more for up to 16 gradient rows (two
                # bands) read in memory order instead, the gradient's block waiting in L1
                mode = SKINNY_ADD
                if kr <= 2 * BY_ROWS_MAX_ROWS and cng * <Py_ssize_t> sizeof(floating) >= \
                        BY_ROWS_MIN_BYTES:
                    mode = SKINNY_ADD | SKINNY_BY_ROWS
                _skinny(dk, p.cn, col, 1, kr, dy + (n * p.M + i0) * p.cn + j * cng, p.cn, kr, cng,
                        rows, mode, dy + (n * p.M + i0 + rows) * p.cn,
                        max(0, min(p.rows, r1 - r - rows)) * p.cn)
            elif beta == 0 and p.stream:
                # df [kr x cng] = col^T [kr x rows] @ dy[n, i0.., group j] [rows x cng], each
                # element written once, past the caches: a few rows under a gradient of many
                # megabytes, whose writes are the whole cost (a store that first reads its line
                # moves each byte twice)
                _skinny(dk, p.cn, col, 1, kr, dy + (n * p.M + i0) * p.cn + j * cng, p.cn, kr, cng,
                        rows, SKINNY_STREAM, NULL, 0)
            elif not (p.packed and packed_gemm(
                    c'N', c'T', <int> cb, <int> kr, <int> rows,
                    dy + (n * p.M + i0) * p.cn + j * cng + c0, <int> p.cn, col, <int> kr, beta,
                    dk, <int> p.cn)):
                # (this item's output channels c0 .. c0 + cb - 1: all of the group's but
                # where the planner cut them into blocks for the threads)
                gemm(c'N', c'T', <int> cb, <int> kr, <int> rows,
                     dy + (n * p.M + i0) * p.cn + j * cng + c0, <int> p.cn, col, <int> kr, beta,
                     dk, <int> p.cn)
        r = r + rows


cdef void _filter_item(const void* ctx, Py_ssize_t item, void* scratch) noexcept nogil:
    cdef const _Filter* p = <const _Filter*> ctx
    if p.dbl:
        _filter_block(p, item, <double*> scratch)
    else:
        _filter_block(p, item, <float*> scratch)


def backprop_filter_im2col(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] dy,
    floating[:, :, :, ::1] part,
    bint ncw,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t groups,
    Py_ssize_t rows,
    Py_ssize_t taps,
    int num_threads,
    Py_ssize_t round_rows=0,
    bint skinny=False,
    bint inplace=False,
    bint across=False,
    bint window=False,
    Py_ssize_t window_rows=0,
    bint gemv=False,
    Py_ssize_t channels=0,
    bint packed=False,
    bint stream=False,
    Py_ssize_t wide_channels=0,
):
    """conv1d_backprop_filter by blocks of im2col and GEMM, into ``part`` (overwritten).

    ``x`` is the wide input and ``dy`` the narrow gradient, both NWC or NCW (``ncw``); ``part``
    is ``[chunks, K, Cw/G, Cn]``: the ``N*M`` (batch, position) rows are cut into ``chunks``
    consecutive chunks, and chunk ``c``'s rows are summed, in order, in blocks of ``rows`` into
    ``part[c]``. Work items are (chunk, group, block of ``taps`` taps). The rows of every chunk
    go in rounds of about ``CHUNK_MACS`` multiply-adds in all (so that signals are checked between
    them), each round adding to what the previous ones left. The caller adds the partials in chunk
    order. ``round_rows`` sets the rows of a round (tests). With ``skinny`` (NWC only) the GEMM
    is the C layer's for a short outer dimension (``taps*Cw/G``) instead of BLAS's. With
    ``inplace`` (NWC only) nothing is gathered: one GEMM per tap reads the input in place
    (:func:`_filter_taps`), in blocks of ``rows`` rows of one batch element. With ``across``
    (NWC only) the skinny GEMM runs along the block's ``taps*Cw/G`` columns instead of the
    output channels (for a few of them). With ``window`` (NWC, and a block's (tap, channel)
    columns evenly spaced on the signal: one group at dilation 1, or one input channel a group)
    the skinny GEMM reads the columns of the rows whose taps all reach the signal in place,
    only the rows at its edges gathered (``rows`` at a time), in blocks of ``window_rows`` rows
    (``rows`` when 0) of one batch element. With ``gemv`` (NWC, gathered) the product is one
    BLAS matrix-vector product per column of the block (a few columns ``taps*Cw/G``, many output
    channels: each streams the block of the gradient, which stays in L2 between them, where a
    GEMM of so few columns runs at a fraction of the speed). ``channels`` (0: all) cuts each
    group's output channels into blocks, each a work item of its own (in place, and NWC
    gathered for BLAS's GEMMs or the packed GEMM), and in place ``wide_channels`` (0: all) its
    input channels: a gradient of a few taps and groups then splits over the threads without
    partial filters. With ``packed``
    (NWC, gathered) the blocks' GEMMs are the C layer's packed GEMM where their shapes suit it
    (``_blas.packed_gemm``), else BLAS's. With ``stream`` (NWC, gathered), where a chunk's rows
    are one block, its GEMMs are the skinny GEMM writing past the caches (a few rows under a
    large gradient, whose writes are the cost).
    """
    cdef _Filter p
    cdef Py_ssize_t chunks = part.shape[0]
    p.K, p.cwg, p.cn = part.shape[1], part.shape[2], part.shape[3]
    if chunks == 0 or p.K * p.cwg * p.cn == 0:
        return
    p.N = dy.shape[0]
    p.ncw = ncw
    p.M = dy.shape[2] if ncw else dy.shape[1]
    if p.N * p.M == 0:
        memset(&part[0, 0, 0, 0], 0, chunks * p.K * p.cwg * p.cn * sizeof(floating))
        return
    p.w = _signal(x, ncw)
    p.dy, p.part = &dy[0, 0, 0], &part[0, 0, 0, 0]
    p.s, p.d, p.pad, p.groups = stride, dilation if p.K > 1 else 1, pad_before, groups
    p.rows, p.taps = rows, min(taps, p.K)
    p.ntb = (p.K + p.taps - 1) // p.taps
    # adjacent groups' outputs share the cache lines of each row of the gradient (_group_block)
    p.gb = _group_block(groups, (p.cn // groups) * sizeof(floating), chunks * p.ntb)
    p.njb = (groups + p.gb - 1) // p.gb
    p.chunks = chunks
    p.per = (p.N * p.M + chunks - 1) // chunks
    p.dbl = floating is double
    p.inplace = inplace and not ncw
    p.skinny = skinny and not ncw
    p.packed = packed and not ncw
    p.stream = stream and not ncw
    p.across = across and not ncw and not inplace
    p.gemv = gemv and not ncw and not inplace and not p.across
    p.step = p.w.sw * p.d if p.cwg == 1 else 1
    p.wrows = window_rows if window_rows > 0 else rows
    p.cb = p.cn // groups
    if ((p.inplace or not (ncw or p.skinny or p.across or p.gemv or p.stream or window))
            and 0 < channels < p.cb):
        p.cb = channels
    p.ncb = (p.cn // groups + p.cb - 1) // p.cb
    p.wb = p.cwg
    if p.inplace and 0 < wide_channels < p.cwg:
        p.wb = wide_channels
    p.nwb = (p.cwg + p.wb - 1) // p.wb
    p.window = (window and not ncw and not inplace and (p.skinny or p.across)
                and (p.cwg == 1 or (groups == 1 and p.d == 1))
                and (p.step == 1 or not p.across))
    cdef double row_macs = <double> p.K * p.cwg * p.cn * chunks
    p.seg = round_rows if round_rows > 0 else max(rows, <Py_ssize_t> (CHUNK_MACS / row_macs) // rows * rows)
    p.seg0 = 0
    while p.seg0 < p.per:
        _run_items(_filter_item, &p, chunks * p.njb * p.ntb * p.ncb * p.nwb,
                   row_macs * min(p.seg, p.per - p.seg0),
                   0 if p.inplace else (rows + (p.cn // groups if p.across else 0)) * p.taps
                   * p.cwg * sizeof(floating),
                   num_threads)
        p.seg0 += p.seg


# --- conv1d_transpose: GEMM, then overlap-add --------------------------------------------------

cdef struct _Ola:
    const void* x       # the narrow input, [N, M, Cin] or [N, Cin, M]
    const void* f       # [K, Cout/G, Cin]
    void* y             # the wide output, [N, L, Cout] or [N, Cout, L]
    bint ncw
    Py_ssize_t N, M, L, cin, cout, K, s, d, pad, width, taps, nblocks, batch, rows
    Py_ssize_t groups, cig, cog   # groups, and the input and output channels of one
    bint dot            # the products by the C layer's dot GEMM (nothing packed), not BLAS
    bint dbl


cdef void _ola_block(const _Ola* p, Py_ssize_t item, floating* prod) noexcept nogil:
    cdef Py_ssize_t b = item % p.nblocks, n0 = item // p.nblocks * p.batch
    cdef Py_ssize_t n1 = min(p.N, n0 + p.batch)
    cdef Py_ssize_t o0 = b * p.width, o1 = min(p.L, o0 + p.width)
    cdef Py_ssize_t co = p.cout
    cdef Py_ssize_t n, c, j
    cdef floating* y
    for n in range(n0, n1):
        y = <floating*> p.y + n * p.L * co
        if p.ncw:
            for c in range(co):
                memset(y + c * p.L + o0, 0, (o1 - o0) * sizeof(floating))
        else:
            memset(y + o0 * co, 0, (o1 - o0) * co * sizeof(floating))
    for j in range(p.groups):
        _ola_group(p, j, n0, n1, o0, o1, prod)


cdef void _ola_group(const _Ola* p, Py_ssize_t j, Py_ssize_t n0, Py_ssize_t n1, Py_ssize_t o0,
                     Py_ssize_t o1, floating* prod) noexcept nogil:
    """Group ``j``'s outputs ``o0 .. o1 - 1`` of batch elements ``n0 .. n1 - 1`` (zeroed by the
    caller): its input channels ``j*Cin/G ..`` read where they are (rows ``Cin`` apart), its
    filter's rows too (``Cin`` apart), its output channels ``j*Cout/G ..`` added to."""
    cdef Py_ssize_t co = p.cog, ci = p.cig, cin = p.cin, cout = p.cout
    cdef Py_ssize_t ysw = 1 if p.ncw else cout, ysc = p.L if p.ncw else 1
    cdef const floating* f = <const floating*> p.f + j * ci
    cdef Py_ssize_t k0, k1, kc, lo, hi, i, k, o, c, n, ka, kb, ldx
    cdef floating* y
    cdef const floating* x
    cdef floating* xs
    cdef floating* xrow
    cdef floating* prow
    cdef floating* yrow
    k0 = 0
    while k0 < p.K:
        k1 = min(p.K, k0 + p.taps)
        kc = (k1 - k0) * co
        # the input rows whose taps k0 .. k1 - 1 land in [o0, o1), in each batch element
        lo = max(0, _cdiv(o0 + p.pad - (k1 - 1) * p.d, p.s))
        hi = min(p.M, floordiv(o1 - 1 + p.pad - k0 * p.d, p.s) + 1)
        if lo < hi:
            # column-major: prod [kc x rows] = f[k0..k1]^T-as-[kc x cin] @ x[lo..hi]^T [cin x rows],
            # the rows of the item's batch elements one after another: in one GEMM where they
            # are one run of rows in memory (NWC, all of each element's rows), else one each
            if not p.ncw and (hi - lo == p.M or n1 - n0 == 1):
                x = <const floating*> p.x + (n0 * p.M + lo) * cin + j * ci
                ldx = cin
            else:
                # the elements' rows gathered into one matrix [rows, Cin/G] (Cin/G multiply-adds
                # per element copied, then kc of them per element of the copy)
                xs = prod + p.batch * p.rows * p.taps * co
                for n in range(n0, n1):
                    for i in range(lo, hi):
                        xrow = xs + ((n - n0) * (hi - lo) + i - lo) * ci
                        if p.ncw:
                            for c in range(ci):
                                xrow[c] = (<const floating*> p.x)[(n * cin + j * ci + c) * p.M + i]
                        else:
                            memcpy(xrow, <const floating*> p.x + (n * p.M + i) * cin + j * ci,
                                   ci * sizeof(floating))
                x = xs
                ldx = ci
            if p.dot:
                # prod[rows x kc] = x[rows x cin] . f[k0..k1] as [kc x cin], along cin
                _dot(prod, kc, x, ldx, f + k0 * co * cin, cin, (n1 - n0) * (hi - lo), kc, ci, 0)
            else:
                gemm(c'T', c'N', <int> kc, <int> ((n1 - n0) * (hi - lo)), <int> ci,
                     f + k0 * co * cin, <int> cin, x, <int> ldx, 0, prod, <int> kc)
            # each row's products added to the outputs its taps k0 .. k1 - 1 reach in [o0, o1)
            # (taps ka .. kb - 1), rows in increasing order; in NWC at dilation 1 with one group
            # they are one run of (kb - ka) * Cout outputs, added as one run
            for n in range(n0, n1):
                y = <floating*> p.y + n * p.L * cout + j * co * ysc
                for i in range(lo, hi):
                    prow = prod + ((n - n0) * (hi - lo) + i - lo) * kc
                    o = i * p.s - p.pad          # the output of tap 0
                    ka = max(k0, _cdiv(o0 - o, p.d))
                    kb = min(k1, floordiv(o1 - 1 - o, p.d) + 1)
                    if ka >= kb:
                        continue
                    if p.d == 1 and not p.ncw and p.groups == 1:
                        yrow = y + (o + ka) * co
                        prow = prow + (ka - k0) * co
                        for c in range((kb - ka) * co):
                            yrow[c] += prow[c]
                        continue
                    for k in range(ka, kb):
                        yrow = y + (o + k * p.d) * ysw
                        for c in range(co):
                            yrow[c * ysc] += prow[(k - k0) * co + c]
        k0 = k1


cdef void _ola_item(const void* ctx, Py_ssize_t item, void* scratch) noexcept nogil:
    cdef const _Ola* p = <const _Ola*> ctx
    if p.dbl:
        _ola_block(p, item, <double*> scratch)
    else:
        _ola_block(p, item, <float*> scratch)


def transpose_ola(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] y,
    bint ncw,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t width,
    Py_ssize_t taps,
    int num_threads,
    Py_ssize_t batch=1,
    bint dot=False,
    Py_ssize_t groups=1,
):
    """conv1d_transpose by GEMM, then overlap-add; ``y`` is overwritten.

    ``x`` ``[N, M, Cin]`` and ``y`` ``[N, L, Cout]`` (or both NCW with ``ncw``), ``f``
    ``[K, Cout/G, Cin]`` with ``G = groups``. Work items are (block of ``batch`` batch elements,
    block of ``width`` outputs), each computing every group's outputs of its block, group by
    group, each group's channels read and written where they are. Per group and block of
    ``taps`` taps, one GEMM multiplies the input rows that reach the
    item's outputs (at most ``(width - 1 + (taps - 1)*d) // s + 2`` per batch element; the
    elements' rows together, gathered where they are not one run in memory, so that a short
    input read by a long filter still makes a GEMM of many rows) by those taps of the filter,
    then the products are added to the outputs, rows in increasing order. With ``dot`` the GEMM
    is the C layer's dot GEMM, which reads the rows and the filter where they are (BLAS packs
    the block of rows for a product of only ``taps*Cout`` columns).
    """
    cdef _Ola p
    cdef Py_ssize_t N = y.shape[0]
    if N == 0 or y.shape[1] == 0 or y.shape[2] == 0:
        return
    p.ncw = ncw
    p.L, p.cout = (y.shape[2], y.shape[1]) if ncw else (y.shape[1], y.shape[2])
    p.M, p.cin = (x.shape[2], x.shape[1]) if ncw else (x.shape[1], x.shape[2])
    p.K = f.shape[0]
    if p.M == 0 or p.cin == 0 or p.K == 0:
        memset(&y[0, 0, 0], 0, N * y.shape[1] * y.shape[2] * sizeof(floating))
        return
    if groups < 1 or p.cin % groups or p.cout % groups or f.shape[1] * groups != p.cout \
            or f.shape[2] != p.cin:
        raise ValueError("transpose_ola: the filter's and the groups' channels do not match")
    p.x, p.f, p.y = &x[0, 0, 0], &f[0, 0, 0], &y[0, 0, 0]
    p.N = N
    p.s, p.d, p.pad = stride, dilation, pad_before
    p.width, p.taps = width, min(taps, p.K)
    p.batch = max(1, min(batch, N))
    p.dot = dot
    p.groups, p.cig, p.cog = groups, p.cin // groups, p.cout // groups
    p.nblocks = (p.L + width - 1) // width
    p.dbl = floating is double
    p.rows = min(p.M, (width - 1 + (p.taps - 1) * dilation) // stride + 2)
    _run_items(_ola_item, &p, (N + p.batch - 1) // p.batch * p.nblocks,
               <double> N * p.M * p.K * p.cig * p.cout,
               p.batch * p.rows * (p.taps * p.cog + p.cig) * sizeof(floating), num_threads)


# --- depthwise: one channel per group, vector loops across the channels ------------------------

cdef struct _Depthwise:
    const void* x       # the op's input: conv1d's wide [N, L, C], the transpose's narrow [N, M, C]
    const void* f       # [K, 1, C]
    void* y             # the op's output: conv1d's narrow [N, M, C], the transpose's wide [N, L, C]
    bint ncw, transpose
    Py_ssize_t xw, yw, C, K, s, d, pad, rows, nblocks
    Py_ssize_t period, di  # s/gcd(s, d), d/gcd(s, d): a transpose's taps of one residue step
                           # by period in k and by -di in the input sample
    Py_ssize_t interior_lo, interior_hi  # the outputs all of whose taps reach the signal
    Py_ssize_t padded   # NWC: the edges' outputs by the interior's tiles, this many at a time on
                        # a copy of their input rows with zeros for the padding (0: each output
                        # with the taps it has; see _depthwise_padded)
    int mode            # SKINNY_OVERWRITE, or SKINNY_STREAM for an output far larger than the caches
    bint dbl


cdef enum:
    DW_EDGE_BYTES = 262144    # a thread's padded copy of the edges' input rows, at most
    DW_EDGE_MIN_TAPS = 8      # taps from which the edges take the interior's tiles


cdef inline Py_ssize_t _source(const _Depthwise* p, Py_ssize_t o, Py_ssize_t k) noexcept nogil:
    """The input sample that output ``o`` reads through tap ``k`` (``o = i*s + k*d - pad``, the
    transpose's; conv1d's the other way round), or -1 when there is none."""
    cdef Py_ssize_t t, i
    if p.transpose:
        t = o + p.pad - k * p.d          # = i*s for the input sample i it reads
        if t < 0 or t % p.s != 0:
            return -1
        i = t // p.s
    else:
        i = o * p.s + k * p.d - p.pad
    return i if 0 <= i < p.xw else -1


cdef inline Py_ssize_t _taps(const _Depthwise* p, Py_ssize_t o, Py_ssize_t* xoff,
                             Py_ssize_t* foff) noexcept nogil:
    """The taps of output ``o`` that reach the signal, in increasing ``k``: return their count,
    with the first one's input sample (``xoff``) and tap (``foff``), the others evenly spaced
    after it. For conv1d ``i = o*s + k*d - pad``, every tap; for the
    transpose ``o = i*s + k*d - pad``: the taps ``k = k0 + u*P`` of one residue, ``P = s/gcd(s,
    d)``, reading ``i = i0 - u*d/gcd(s, d)``."""
    cdef Py_ssize_t k0, klo, khi, i0, di, P, ulo, uhi, t
    xoff[0] = foff[0] = 0                           # an output no tap reaches
    if not p.transpose:
        i0 = o * p.s - p.pad                        # the input sample of tap 0
        klo = 0 if i0 >= 0 else _cdiv(-i0, p.d)
        khi = min(p.K, floordiv(p.xw - 1 - i0, p.d) + 1)
        xoff[0], foff[0] = i0 + klo * p.d, klo
        return max(khi - klo, 0)
    P, di = p.period, p.di
    t = o + p.pad
    for k0 in range(min(P, p.K)):                   # the first tap of the residue o reads
        if (t - k0 * p.d) % p.s == 0:
            break
    else:
        return 0
    i0 = floordiv(t - k0 * p.d, p.s)
    ulo = 0 if i0 < p.xw else -floordiv(p.xw - 1 - i0, di)     # i <= xw - 1
    uhi = min(-floordiv(k0 - p.K, P), floordiv(i0, di) + 1)    # k < K, i >= 0
    xoff[0], foff[0] = i0 - ulo * di, k0 + ulo * P
    return max(uhi - ulo, 0)


cdef inline void _depthwise_rows(floating* y, Py_ssize_t ldy, const floating* x,
                                 const floating* f, Py_ssize_t rows, const Py_ssize_t* xoff,
                                 const Py_ssize_t* foff, const Py_ssize_t* ntaps,
                                 Py_ssize_t xstep, Py_ssize_t fstep, Py_ssize_t C,
                                 int mode) noexcept nogil:
    """Rows of a depthwise convolution by the C layer (``src/skinny_impl.h``)."""
    if floating is float:
        depthwise_rows_f32(y, ldy, x, f, rows, xoff, foff, ntaps, xstep, fstep, C, mode)
    else:
        depthwise_rows_f64(y, ldy, x, f, rows, xoff, foff, ntaps, xstep, fstep, C, mode)


cdef inline void _depthwise_tile(floating* y, Py_ssize_t ldy, const floating* x,
                                 Py_ssize_t xrow, Py_ssize_t xtap, const floating* f,
                                 Py_ssize_t ftap, Py_ssize_t taps, Py_ssize_t rows, Py_ssize_t C,
                                 int mode) noexcept nogil:
    """Rows of a depthwise convolution whose taps all reach the signal, by the C layer."""
    if floating is float:
        depthwise_tile_f32(y, ldy, x, xrow, xtap, f, ftap, taps, rows, C, mode)
    else:
        depthwise_tile_f64(y, ldy, x, xrow, xtap, f, ftap, taps, rows, C, mode)


cdef void _depthwise_edge(const _Depthwise* p, const floating* x, floating* y, Py_ssize_t o0,
                          Py_ssize_t o1, Py_ssize_t* xoff) noexcept nogil:
    """NWC outputs ``o0 .. o1 - 1`` of one batch element, each with the taps that reach the
    signal (listed in ``xoff``, a scratch of ``3*(o1 - o0)``): the C layer's depthwise rows."""
    cdef Py_ssize_t o, C = p.C
    cdef Py_ssize_t* foff = xoff + (o1 - o0)
    cdef Py_ssize_t* ntaps = foff + (o1 - o0)
    if o1 <= o0:
        return
    for o in range(o0, o1):
        ntaps[o - o0] = _taps(p, o, &xoff[o - o0], &foff[o - o0])
        xoff[o - o0] *= C
        foff[o - o0] *= C
    _depthwise_rows(y + o0 * C, C, x, <const floating*> p.f, o1 - o0, xoff, foff, ntaps,
                    (-p.di if p.transpose else p.d) * C,
                    (p.period if p.transpose else 1) * C, C, p.mode)


cdef void _depthwise_padded(const _Depthwise* p, const floating* x, floating* y, Py_ssize_t o0,
                            Py_ssize_t o1, floating* rows) noexcept nogil:
    """NWC outputs ``o0 .. o1 - 1`` of one batch element at the signal's edges, ``p.padded`` at a
    time, by the interior's tiles on a copy of the input rows they read (``rows``, a scratch of
    ``(p.padded - 1)*s + (K-1)*d + 1`` rows) with zeros for the samples past the signal. Only
    for a finite filter: each padding tap then adds ``0*f``, a zero, to a sum that started at
    +0 (the same bits as the taps that reach the signal alone, in the same order; an infinite
    or NaN filter value would make that term NaN, as the definition does not)."""
    cdef Py_ssize_t a = o0, b, lo, hi, i, C = p.C, span = (p.K - 1) * p.d
    cdef const floating* f = <const floating*> p.f
    while a < o1:
        b = min(o1, a + p.padded)
        if p.transpose:      # stride 1: output o reads i = o + pad - k*d
            lo, hi = a + p.pad - span, b + p.pad
        else:                # output o reads i = o*s + k*d - pad
            lo, hi = a * p.s - p.pad, (b - 1) * p.s - p.pad + span + 1
        for i in range(lo, hi):
            if 0 <= i < p.xw:
                memcpy(rows + (i - lo) * C, x + i * C, C * sizeof(floating))
            else:
                memset(rows + (i - lo) * C, 0, C * sizeof(floating))
        if p.transpose:
            _depthwise_tile(y + a * C, C, rows + (a + p.pad - lo) * C, C, -p.d * C, f, C, p.K,
                            b - a, C, p.mode)
        else:
            _depthwise_tile(y + a * C, C, rows, p.s * C, p.d * C, f, C, p.K, b - a, C, p.mode)
        a = b


cdef void _depthwise_block(const _Depthwise* p, Py_ssize_t item, floating* scratch) noexcept nogil:
    cdef Py_ssize_t b = item % p.nblocks, n = item // p.nblocks
    cdef Py_ssize_t o0 = b * p.rows, o1 = min(p.yw, o0 + p.rows)
    cdef Py_ssize_t C = p.C, xs_c = p.xw if p.ncw else 1, ys_c = p.yw if p.ncw else 1
    cdef const floating* x = <const floating*> p.x + n * p.xw * C
    cdef const floating* f = <const floating*> p.f
    cdef floating* y = <floating*> p.y + n * p.yw * C
    cdef Py_ssize_t o, k, i, c, lo, hi
    cdef const floating* frow
    if not p.ncw:
        # NWC: the outputs all of whose taps reach the signal (a conv1d's, or a stride-1
        # transpose's, between the edges) in tiles; the others each with the taps it has
        lo, hi = p.interior_lo, p.interior_hi
        if lo < o0:
            lo = o0
        if hi > o1:
            hi = o1
        if lo >= hi:
            lo = hi = o1
        if p.padded:
            _depthwise_padded(p, x, y, o0, lo, scratch)
        else:
            _depthwise_edge(p, x, y, o0, lo, <Py_ssize_t*> scratch)
        if lo < hi:
            if p.transpose:      # stride 1: output o reads i = o + pad - k*d
                _depthwise_tile(y + lo * C, C, x + (lo + p.pad) * C, C, -p.d * C, f, C, p.K,
                                hi - lo, C, p.mode)
            else:                # output o reads i = o*s + k*d - pad
                _depthwise_tile(y + lo * C, C, x + (lo * p.s - p.pad) * C, p.s * C, p.d * C, f,
                                C, p.K, hi - lo, C, p.mode)
        if p.padded:
            _depthwise_padded(p, x, y, hi, o1, scratch)
        else:
            _depthwise_edge(p, x, y, hi, o1, <Py_ssize_t*> scratch)
        if p.mode == SKINNY_STREAM:
            store_fence()
        return
    # NCW: each channel a signal of its own, each output's taps in increasing k
    for c in range(C):
        for o in range(o0, o1):
            y[c * ys_c + o] = 0
        for k in range(p.K):
            frow = f + k * C
            for o in range(o0, o1):
                i = _source(p, o, k)
                if i >= 0:
                    y[c * ys_c + o] = y[c * ys_c + o] + x[c * xs_c + i] * frow[c]


cdef bint _finite(const floating[:, :, ::1] f) noexcept nogil:
    """Whether every element of ``f`` is finite."""
    cdef Py_ssize_t i, n = f.shape[0] * f.shape[1] * f.shape[2]
    cdef const floating* v = &f[0, 0, 0]
    for i in range(n):
        if not isfinite(v[i]):
            return False
    return True


cdef void _depthwise_item(const void* ctx, Py_ssize_t item, void* scratch) noexcept nogil:
    cdef const _Depthwise* p = <const _Depthwise*> ctx
    if p.dbl:
        _depthwise_block(p, item, <double*> scratch)
    else:
        _depthwise_block(p, item, <float*> scratch)


def depthwise(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] y,
    bint ncw,
    bint transpose,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t rows,
    int num_threads,
    bint stream=False,
):
    """conv1d or conv1d_transpose with one channel per group (``groups = C``); ``y`` is
    overwritten (in NWC with ``stream``, by stores that bypass the caches).

    ``x`` and ``y`` are ``[N, W, C]`` (or ``[N, C, W]`` with ``ncw``), ``f`` is ``[K, 1, C]``.
    conv1d (``transpose`` false) reads the wide ``x`` into the narrow ``y``, the transpose the
    narrow ``x`` into the wide ``y``. Work items are (batch, block of ``rows`` output samples);
    each output sums its taps in increasing ``k``, the same order as the grouped direct kernels:
    in NWC by the C layer's depthwise rows (each output's first tap and count in a scratch of
    ``3*rows`` integers, the sums in vector registers across the channels), in NCW channel by
    channel.
    """
    cdef _Depthwise p
    cdef Py_ssize_t N = y.shape[0]
    if N == 0 or y.shape[1] == 0 or y.shape[2] == 0:
        return
    p.ncw, p.transpose = ncw, transpose
    p.C = y.shape[1] if ncw else y.shape[2]
    p.yw = y.shape[2] if ncw else y.shape[1]
    p.xw = x.shape[2] if ncw else x.shape[1]
    p.K = f.shape[0]
    if p.xw == 0 or p.K == 0:
        memset(&y[0, 0, 0], 0, N * y.shape[1] * y.shape[2] * sizeof(floating))
        return
    p.x, p.f, p.y = &x[0, 0, 0], &f[0, 0, 0], &y[0, 0, 0]
    p.s, p.d, p.pad, p.rows = stride, dilation, pad_before, rows
    p.nblocks = (p.yw + rows - 1) // rows
    p.dbl = floating is double
    p.mode = SKINNY_STREAM if stream else SKINNY_OVERWRITE
    p.period = stride // gcd(stride, dilation)
    p.di = dilation // gcd(stride, dilation)
    if not transpose:
        _on_signal(p.xw, p.yw, p.K, stride, dilation, pad_before, &p.interior_lo,
                   &p.interior_hi)
    elif stride == 1:    # o + pad - (K-1)*d >= 0 and o + pad <= xw - 1
        p.interior_lo = min(max((p.K - 1) * dilation - pad_before, 0), p.yw)
        p.interior_hi = min(max(p.xw - pad_before, p.interior_lo), p.yw)
    else:                # a strided transpose's outputs each have the taps of their residue
        p.interior_lo = p.interior_hi = 0
    # the edges by the interior's tiles on padded copies of their rows (a finite filter, the
    # tiles' strides: conv1d, or a transpose at stride 1), as many outputs at a time as fit
    # DW_EDGE_BYTES; from DW_EDGE_MIN_TAPS taps (with fewer, the interior's tiles read the rows
    # in place and gain little on the edges' own sums)
    cdef Py_ssize_t span = (p.K - 1) * dilation
    p.padded = 0
    if (not ncw and (not transpose or stride == 1) and p.K >= DW_EDGE_MIN_TAPS
            and (p.interior_lo > 0 or p.interior_hi < p.yw) and _finite(f)):
        p.padded = min(rows, (DW_EDGE_BYTES // (p.C * sizeof(floating)) - span - 1) // stride + 1)
        p.padded = max(p.padded, 0)
    _run_items(_depthwise_item, &p, N * p.nblocks, <double> N * p.yw * p.K * p.C,
               0 if ncw else (((p.padded - 1) * stride + span + 1) * p.C * sizeof(floating)
                              if p.padded else 3 * rows * sizeof(Py_ssize_t)), num_threads)


# --- the filter gradient of a depthwise convolution ---------------------------------------------

# A thread's scratch for the windows of x and columns of dy the C layer copies (within L2).
cdef enum:
    DW_FILTER_SCRATCH = 393216

cdef struct _DepthwiseFilter:
    const void* x
    const void* dy
    void* part
    Py_ssize_t L, M, C, K, s, d, pad
    Py_ssize_t rows, per, block, nblocks
    bint dbl


cdef void _depthwise_filter_item(const void* ctx, Py_ssize_t item, void* scratch) noexcept nogil:
    cdef const _DepthwiseFilter* p = <const _DepthwiseFilter*> ctx
    cdef Py_ssize_t chunk = item // p.nblocks, b = item % p.nblocks
    cdef Py_ssize_t r0 = chunk * p.per, r1 = min(p.rows, r0 + p.per)
    cdef Py_ssize_t j0 = b * p.block, j1 = min(p.C, j0 + p.block)
    cdef Py_ssize_t off = chunk * p.K * p.C
    if p.dbl:
        depthwise_filter_f64(<double*> p.part + off, <const double*> p.x, <const double*> p.dy,
                             p.L, p.M, p.C, p.K, p.s, p.d, p.pad, r0, r1, j0, j1,
                             <double*> scratch, DW_FILTER_SCRATCH // sizeof(double))
    else:
        depthwise_filter_f32(<float*> p.part + off, <const float*> p.x, <const float*> p.dy,
                             p.L, p.M, p.C, p.K, p.s, p.d, p.pad, r0, r1, j0, j1,
                             <float*> scratch, DW_FILTER_SCRATCH // sizeof(float))


def backprop_filter_depthwise(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] dy,
    floating[:, :, ::1] part,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t block,
    int num_threads,
):
    """conv1d_backprop_filter with one channel per group (``groups = C``), NWC, by the C
    layer's depthwise filter gradient.

    ``x`` ``[N, L, C]``, ``dy`` ``[N, M, C]``; ``part`` ``[chunks, K, C]`` is overwritten with
    the gradient of each of ``chunks`` consecutive runs of the ``N*M`` (batch, position) rows
    (one chunk: the gradient itself; the caller adds the partials in chunk order, and fixes their
    number from the shape alone). Work items are (chunk, block of ``block`` channels, a
    multiple of 16): each filter element sums its chunk's rows in increasing order, so the bits
    do not depend on the thread count.
    """
    cdef _DepthwiseFilter p
    cdef Py_ssize_t nchunks = part.shape[0]
    p.L, p.M, p.C, p.K = x.shape[1], dy.shape[1], x.shape[2], part.shape[1]
    if part.shape[0] == 0 or p.K == 0 or p.C == 0:
        return
    if block <= 0 or block % 16:
        raise ValueError(f"block must be a positive multiple of 16, not {block}")
    p.rows = dy.shape[0] * p.M
    if p.rows == 0 or p.L == 0:
        memset(&part[0, 0, 0], 0, nchunks * p.K * p.C * sizeof(floating))
        return
    p.x, p.dy, p.part = &x[0, 0, 0], &dy[0, 0, 0], &part[0, 0, 0]
    p.s, p.d, p.pad = stride, dilation, pad_before
    p.per = (p.rows + nchunks - 1) // nchunks
    p.block = block
    p.nblocks = (p.C + block - 1) // block
    p.dbl = floating is double
    _run_items(_depthwise_filter_item, &p, nchunks * p.nblocks, <double> p.rows * p.K * p.C,
               DW_FILTER_SCRATCH, num_threads)


# --- FIR: conv1d of one channel to one (each channel of a depthwise call), by the residues ----

# The most samples of one window of the input (a thread's scratch): taps beyond it go in chunks.
cdef enum:
    FIR_WINDOW = 32768

cdef struct _Fir:
    const void* x       # [N, L, C] or [N, C, L]: sample o of channel c at n*xn + c*xc + o*xw
    const void* w       # channel c's taps at w[c*K:], in the residues' order
    void* y             # [N, M, C] or [N, C, M]: likewise with yn, yc, yw
    const Py_ssize_t* res   # per residue e: r, its first tap's index in w, its tap count, q0
    Py_ssize_t nres, C, K, L, M, s, step, rows, nblocks, xn, xc, xw, yn, yc, yw
    Py_ssize_t chunk     # taps a window at most (it stays within FIR_WINDOW samples)
    Py_ssize_t pad, reach    # pad_before, (K-1)*d
    bint nonfinite       # the filter has an infinity or a NaN
    bint dbl


cdef inline void _fir(floating* y, const floating* w, Py_ssize_t t, const floating* x,
                      Py_ssize_t ld, Py_ssize_t n, int accumulate) noexcept nogil:
    """The C layer's FIR (``src/skinny_impl.h``)."""
    if floating is float:
        fir_f32(y, w, t, x, ld, n, accumulate)
    else:
        fir_f64(y, w, t, x, ld, n, accumulate)


cdef void _fir_block(const _Fir* p, Py_ssize_t item, floating* xs) noexcept nogil:
    cdef Py_ssize_t b = item % p.nblocks, c = item // p.nblocks % p.C
    cdef Py_ssize_t n = item // p.nblocks // p.C, i0 = b * p.rows
    cdef Py_ssize_t m = min(p.rows, p.M - i0)
    cdef const floating* x = <const floating*> p.x + n * p.xn + c * p.xc
    cdef const floating* w = <const floating*> p.w + c * p.K
    cdef floating* yo = <floating*> p.y + n * p.yn + c * p.yc + i0 * p.yw
    cdef floating* y = yo if p.yw == 1 else xs + FIR_WINDOW   # strided rows: through a buffer
    cdef Py_ssize_t e, r, a, lo, span, t, tlo, thi, u1, vlo, vhi, ulo, uhi
    cdef Py_ssize_t s = p.s, step = p.step, xw = p.xw
    cdef bint added = False
    cdef const floating* src
    for e in range(p.nres):
        r = p.res[4 * e]
        # x_r[j] = x[j*s + r] lies on the signal for vlo <= j < vhi; output i0 + jj reads
        # x_r[a + u*step + jj] through the residue's tap u: only the taps that reach the signal
        vlo, vhi = _cdiv(-r, s), _cdiv(p.L - r, s)
        a = i0 + p.res[4 * e + 3]
        ulo = max(0, _cdiv(vlo - a - m + 1, step))
        uhi = min(p.res[4 * e + 2], floordiv(vhi - 1 - a, step) + 1)
        while ulo < uhi:                        # in chunks of at most p.chunk taps
            u1 = min(uhi, ulo + p.chunk)
            lo = a + ulo * step                 # the window: x_r[lo .. lo + span - 1]
            span = m + (u1 - ulo - 1) * step
            if s == 1 and xw == 1 and lo >= vlo and lo + span <= vhi:
                src = x + lo                    # a run of the signal: read in place
            else:
                tlo = min(max(vlo - lo, 0), span)
                thi = max(min(vhi - lo, span), tlo)
                for t in range(tlo):
                    xs[t] = 0
                for t in range(tlo, thi):
                    xs[t] = x[((lo + t) * s + r) * xw]
                for t in range(thi, span):
                    xs[t] = 0
                src = xs
            _fir(y, w + p.res[4 * e + 1] + ulo, u1 - ulo, src, step, m, added)
            added = True
            ulo = u1
    if not added:
        memset(y, 0, m * sizeof(floating))
    if p.nonfinite and (i0 * s - p.pad < 0 or (i0 + m - 1) * s + p.reach - p.pad >= p.L):
        _fir_exact(p, x, w, y, i0, m)
    if p.yw != 1:
        for t in range(m):
            yo[t * p.yw] = y[t]


cdef void _fir_exact(const _Fir* p, const floating* x, const floating* w, floating* y,
                     Py_ssize_t i0, Py_ssize_t m) noexcept nogil:
    """Outputs ``i0 .. i0 + m - 1`` of one channel again, each with only the terms of the taps
    that reach the signal (in the same order): a filter with an infinity or a NaN would turn the
    zeros read past the signal into NaNs, where the definition has no term at all."""
    cdef Py_ssize_t jj, e, u, j, r, q0, first
    cdef floating acc
    cdef bint any_term
    for jj in range(m):
        acc = 0
        any_term = False
        for e in range(p.nres):
            r, first, q0 = p.res[4 * e], p.res[4 * e + 1], p.res[4 * e + 3]
            for u in range(p.res[4 * e + 2]):
                j = (i0 + jj + q0 + u * p.step) * p.s + r
                if 0 <= j < p.L:
                    acc = acc + w[first + u] * x[j * p.xw]
                    any_term = True
        y[jj] = acc if any_term else 0


cdef void _fir_item(const void* ctx, Py_ssize_t item, void* scratch) noexcept nogil:
    cdef const _Fir* p = <const _Fir*> ctx
    if p.dbl:
        _fir_block(p, item, <double*> scratch)
    else:
        _fir_block(p, item, <float*> scratch)


def conv1d_fir(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] y,
    bint ncw,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t rows,
    int num_threads,
):
    """conv1d of one channel to one, or of ``C`` channels each on its own (depthwise: ``C``
    groups of one channel each way), ``y[n, i, c] = sum_k f[k, 0, c] x[n, i*s + k*d - pad, c]``
    (the taps past the signal add nothing); ``y`` is overwritten.

    ``x`` is ``[N, L, C]`` and ``y`` ``[N, M, C]`` (``[N, C, L]`` and ``[N, C, M]`` with ``ncw``),
    ``f`` ``[K, 1, C]``. Tap ``k`` reads residue ``r = (k*d - pad) mod s`` of the input, ``x_r[j] =
    x[j*s + r]``, at ``j = i + q_k``; the taps of one residue are every ``s/gcd(s, d)``-th, their
    ``q_k`` stepping by ``d/gcd(s, d)``. Work items are (batch, channel, block of ``rows``
    outputs); per item and residue (in increasing first tap) the window of ``x_r`` the block reads
    is gathered into the thread's scratch (read in place where it is one run of the signal) and
    the C layer's FIR adds that residue's taps to the block, in increasing ``k`` (through a
    buffer where the outputs are not contiguous). Each output thus sums its taps residue by
    residue, in an order fixed by the shape: the bits do not depend on the thread count.
    """
    cdef _Fir p
    cdef Py_ssize_t N = y.shape[0], K = f.shape[0], k, k0, c, r, period, cnt, pos = 0, most = 0
    cdef Py_ssize_t* res = NULL
    cdef floating* w = NULL
    p.C = f.shape[2]
    p.L, p.M = (x.shape[2], y.shape[2]) if ncw else (x.shape[1], y.shape[1])
    if N == 0 or p.M == 0 or p.C == 0:
        return
    p.K, p.s, p.rows = K, stride, rows
    p.xn, p.yn = p.L * p.C, p.M * p.C
    if ncw or p.C == 1:
        p.xc, p.xw, p.yc, p.yw = p.L, 1, p.M, 1
    else:
        p.xc, p.xw, p.yc, p.yw = 1, p.C, 1, p.C
    period, p.step = stride // gcd(stride, dilation), dilation // gcd(stride, dilation)
    p.nres = min(period, K) if p.L else 0
    p.nblocks = (p.M + rows - 1) // rows
    p.dbl = floating is double
    try:
        res = <Py_ssize_t*> malloc(4 * max(p.nres, 1) * sizeof(Py_ssize_t))
        w = <floating*> malloc(max(K * p.C, 1) * sizeof(floating))
        if res == NULL or w == NULL:
            raise MemoryError("conv1dt: no memory for the FIR's taps")
        for k0 in range(p.nres):            # residues in increasing first tap
            r = floordiv(k0 * dilation - pad_before, stride)
            r = k0 * dilation - pad_before - r * stride
            cnt = (K - 1 - k0) // period + 1
            res[4 * k0], res[4 * k0 + 1], res[4 * k0 + 2] = r, pos, cnt
            res[4 * k0 + 3] = floordiv(k0 * dilation - pad_before, stride)
            for c in range(p.C):
                for k in range(cnt):
                    w[c * K + pos + k] = f[k0 + k * period, 0, c]
            pos += cnt
            most = max(most, cnt)
        p.res, p.w = res, w
        p.pad, p.reach, p.nonfinite = pad_before, (K - 1) * dilation, False
        for k in range(K * p.C):
            if not isfinite(w[k]):
                p.nonfinite = True
        p.x, p.y = &x[0, 0, 0] if p.L else NULL, &y[0, 0, 0]
        p.chunk = max(1, min(most, (FIR_WINDOW - rows) // p.step + 1))
        # scratch: the window, then (strided outputs) the block's sums at FIR_WINDOW
        _run_items(_fir_item, &p, N * p.C * p.nblocks, <double> N * p.M * K * p.C,
                   (FIR_WINDOW + rows if p.yw != 1 else rows + (p.chunk - 1) * p.step)
                   * sizeof(floating), num_threads)
    finally:
        free(res)
        free(w)


# --- FIR filter gradient: one channel to one (each channel of a depthwise call) ---------------

cdef struct _FirGrad:
    const void* x       # [N, L, C] or [N, C, L]: sample o of channel c at n*xn + c*xc + o*xw
    const void* dy      # [N, M, C] or [N, C, M]: likewise with dn, dc, dw
    void* part          # [chunks, K, C]: chunk q's sum over its rows
    Py_ssize_t N, L, M, K, C, s, d, pad, taps, ntb, per, xn, xc, xw, dn, dc, dw
    Py_ssize_t cd       # with cross: the gradient's channels (part's C is x's times these)
    bint cross
    Py_ssize_t span     # rows a window at most (its samples stay within FIR_WINDOW)
    bint dbl


cdef inline void _gather(floating* dst, const floating* src, Py_ssize_t n,
                         Py_ssize_t step) noexcept nogil:
    """``dst[t] = src[t*step]`` for ``t < n``: one channel's samples out of interleaved rows."""
    cdef Py_ssize_t t
    for t in range(n):
        dst[t] = src[t * step]


cdef void _fir_grad_block(const _FirGrad* p, Py_ssize_t item, floating* xs) noexcept nogil:
    # one channel (one each way, or one a group); the pairs of a few channels: _fir_cross_block
    cdef Py_ssize_t b = item % p.ntb, c = item // p.ntb % p.C, q = item // p.ntb // p.C
    cdef Py_ssize_t k0 = b * p.taps, kb = min(p.taps, p.K - k0), s = p.s, d = p.d
    cdef Py_ssize_t reach = (kb - 1) * d + 1        # the signal's samples one row's taps span
    cdef floating* df = xs                          # the block's sums, then the windows
    cdef floating* ws = xs + p.taps                 # the gradient's rows (strided: gathered)
    cdef floating* win = ws + p.span                # the signal's window (strided: gathered)
    cdef Py_ssize_t r0 = q * p.per, r1 = min(p.N * p.M, r0 + p.per)
    cdef Py_ssize_t n, i0, i1, ia, ib, ja, jb, i, k, o, t, lo, cnt
    cdef const floating* x
    cdef const floating* dy
    cdef const floating* w
    cdef const floating* src
    memset(df, 0, kb * sizeof(floating))
    while r0 < r1:                              # the chunk's rows, one batch element at a time
        n, i0 = r0 // p.M, r0 % p.M
        i1 = min(p.M, i0 + r1 - r0)
        x = <const floating*> p.x + n * p.xn + c * p.xc
        dy = <const floating*> p.dy + n * p.dn + c * p.dc
        # rows ia <= i < ib read the signal through every tap of the block:
        # 0 <= i*s - pad + k0*d and i*s - pad + k0*d + reach - 1 <= L - 1
        ia = min(max(i0, _cdiv(p.pad - k0 * d, s)), i1)
        ib = max(min(i1, floordiv(p.L - reach + p.pad - k0 * d, s) + 1), ia)
        ja = ia
        while ja < ib:                          # df[k0 + j] += sum_i dy[i] x[i*s - pad + (k0+j)*d]
            jb = min(ib, ja + p.span)
            cnt, lo = jb - ja, ja * s - p.pad + k0 * d
            if p.dw == 1:
                w = dy + ja
            else:
                _gather(ws, dy + ja * p.dw, cnt, p.dw)
                w = ws
            if p.xw == 1:
                src = x + lo
            else:
                _gather(win, x + lo * p.xw, (cnt - 1) * s + reach, p.xw)
                src = win
            if d == 1:                          # a FIR of the block's taps over these rows
                _fir(df, w, cnt, src, s, kb, 1)
            else:                               # (dilated: tap by tap)
                for k in range(kb):
                    _fir(df + k, w, cnt, src + k * d, s, 1, 1)
            ja = jb
        i = i0
        while i < i1:                           # the rows at the edges (before ia, from ib),
            if i == ia:                         # each with its taps on the signal
                i = ib
                if i == i1:
                    break
            for k in range(kb):
                o = i * s - p.pad + (k0 + k) * d
                if 0 <= o < p.L:
                    df[k] = df[k] + dy[i * p.dw] * x[o * p.xw]
            i += 1
        r0 += i1 - i0
    for k in range(kb):
        (<floating*> p.part)[(q * p.K + k0 + k) * p.C + c] = df[k]


cdef void _fir_cross_block(const _FirGrad* p, Py_ssize_t item, floating* xs) noexcept nogil:
    # every pair of channels of one chunk and block of taps: the windows of each channel
    # gathered once (in NWC) and read by all its pairs
    cdef Py_ssize_t b = item % p.ntb, q = item // p.ntb, cn = p.cd, cw = p.C // p.cd
    cdef Py_ssize_t k0 = b * p.taps, kb = min(p.taps, p.K - k0), s = p.s, d = p.d
    cdef Py_ssize_t reach = (kb - 1) * d + 1, wlen = (p.span - 1) * s + (p.taps - 1) * d + 1
    cdef floating* df = xs                          # [pairs, taps] the block's sums
    cdef floating* ws = xs + p.C * p.taps           # [Cn, span] the gradient's rows (NWC)
    cdef floating* win = ws + cn * p.span           # [Cw, wlen] the signal's windows (NWC)
    cdef Py_ssize_t r0 = q * p.per, r1 = min(p.N * p.M, r0 + p.per)
    cdef Py_ssize_t n, i0, i1, ia, ib, ja, jb, i, k, o, t, lo, cnt, a, c, wn
    cdef const floating* x
    cdef const floating* dy
    cdef const floating* w
    cdef const floating* src
    memset(df, 0, p.C * p.taps * sizeof(floating))
    while r0 < r1:                              # the chunk's rows, one batch element at a time
        n, i0 = r0 // p.M, r0 % p.M
        i1 = min(p.M, i0 + r1 - r0)
        x = <const floating*> p.x + n * p.xn
        dy = <const floating*> p.dy + n * p.dn
        ia = min(max(i0, _cdiv(p.pad - k0 * d, s)), i1)
        ib = max(min(i1, floordiv(p.L - reach + p.pad - k0 * d, s) + 1), ia)
        ja = ia
        while ja < ib:
            jb = min(ib, ja + p.span)
            cnt, lo = jb - ja, ja * s - p.pad + k0 * d
            wn = (cnt - 1) * s + reach
            if p.dw != 1:
                for c in range(cn):
                    _gather(ws + c * p.span, dy + ja * p.dw + c, cnt, p.dw)
            if p.xw != 1:
                for a in range(cw):
                    _gather(win + a * wlen, x + lo * p.xw + a, wn, p.xw)
            for a in range(cw):
                src = x + a * p.xc + lo if p.xw == 1 else win + a * wlen
                for c in range(cn):
                    w = dy + c * p.dc + ja if p.dw == 1 else ws + c * p.span
                    if d == 1:
                        _fir(df + (a * cn + c) * p.taps, w, cnt, src, s, kb, 1)
                    else:
                        for k in range(kb):
                            _fir(df + (a * cn + c) * p.taps + k, w, cnt, src + k * d, s, 1, 1)
            ja = jb
        i = i0
        while i < i1:                           # the rows at the edges, term by term
            if i == ia:
                i = ib
                if i == i1:
                    break
            for a in range(cw):
                for c in range(cn):
                    for k in range(kb):
                        o = i * s - p.pad + (k0 + k) * d
                        if 0 <= o < p.L:
                            df[(a * cn + c) * p.taps + k] += (dy[i * p.dw + c * p.dc]
                                                              * x[o * p.xw + a * p.xc])
            i += 1
        r0 += i1 - i0
    for c in range(p.C):
        for k in range(kb):
            (<floating*> p.part)[(q * p.K + k0 + k) * p.C + c] = df[c * p.taps + k]


cdef void _fir_grad_item(const void* ctx, Py_ssize_t item, void* scratch) noexcept nogil:
    cdef const _FirGrad* p = <const _FirGrad*> ctx
    if p.cross and p.dbl:
        _fir_cross_block(p, item, <double*> scratch)
    elif p.cross:
        _fir_cross_block(p, item, <float*> scratch)
    elif p.dbl:
        _fir_grad_block(p, item, <double*> scratch)
    else:
        _fir_grad_block(p, item, <float*> scratch)


def backprop_filter_fir(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] dy,
    floating[:, :, ::1] part,
    bint ncw,
    Py_ssize_t stride,
    Py_ssize_t pad_before,
    Py_ssize_t taps,
    int num_threads,
    bint cross=False,
    Py_ssize_t dilation=1,
):
    """conv1d_backprop_filter of one channel to one, or of ``C`` channels each on its own
    (depthwise), or with ``cross`` of every pair of a few channels each way, into ``part``
    (overwritten): ``part[q, k, c]`` is the sum over chunk ``q``'s (batch, position) rows ``i``
    of ``dy[n, i, c] * x[n, i*s + k*d - pad, c]`` (only the terms on the signal); with
    ``cross``, ``part[q, k, a*Cn + b]`` that of ``dy[n, i, b] * x[n, i*s + k*d - pad, a]`` (``Cw``
    channels of ``x``, ``Cn`` of ``dy``: the whole filter gradient, each pair a FIR's). The
    caller adds the chunks in order.

    ``x`` is ``[N, L, Cw]`` and ``dy`` ``[N, M, Cn]`` (``[N, Cw, L]``, ``[N, Cn, M]`` with
    ``ncw``), ``part`` ``[chunks, K, C]`` (``C = Cw = Cn``, or ``Cw*Cn`` with ``cross``): the
    ``N*M`` rows are cut into ``chunks`` consecutive chunks. Work items are (chunk, channel,
    block of ``taps`` taps), with ``cross`` (chunk, block of taps) for all the pairs, each
    channel's windows gathered once for all its pairs; per batch element of its chunk, the rows that read the signal
    through all the block's taps are FIRs of the gradient (``fir`` of ``src/skinny_impl.h``: the
    block's taps in vector registers, the signal at lags ``i*s``, read in place where a
    channel's samples are one run, else gathered in windows; at a dilation ``d`` above 1 tap by
    tap, each a dot product), the rows at the signal's edges
    term by term, in an order fixed by the shape: the bits do not depend on the thread count.
    """
    cdef _FirGrad p
    cdef Py_ssize_t chunks = part.shape[0], cw = x.shape[1 if ncw else 2], reach
    cdef Py_ssize_t cn = dy.shape[1 if ncw else 2]
    p.K, p.C = part.shape[1], part.shape[2]
    if (cross and p.C != cw * cn) or (not cross and not (p.C == cw == cn)):
        raise ValueError("backprop_filter_fir: part's channels do not match x's and dy's")
    if chunks == 0 or p.K == 0 or p.C == 0:
        return
    p.N = dy.shape[0]
    p.L, p.M = (x.shape[2], dy.shape[2]) if ncw else (x.shape[1], dy.shape[1])
    if p.N * p.M == 0 or p.L == 0:
        memset(&part[0, 0, 0], 0, chunks * p.K * p.C * sizeof(floating))
        return
    p.x, p.dy, p.part = &x[0, 0, 0], &dy[0, 0, 0], &part[0, 0, 0]
    p.xn, p.dn = p.L * cw, p.M * cn
    p.cross, p.cd = cross, cn
    if ncw:
        p.xc, p.xw, p.dc, p.dw = p.L, 1, p.M, 1
    else:
        p.xc, p.xw, p.dc, p.dw = 1, cw, 1, cn
    p.s, p.d, p.pad = stride, dilation, pad_before
    p.taps = max(1, min(taps, p.K))
    reach = (p.taps - 1) * dilation + 1
    if stride < 1 or dilation < 1 or reach * (cw if cross else 1) > FIR_WINDOW // (8 if cross else 2):
        raise ValueError("backprop_filter_fir: a block of taps spans more than its window")
    p.ntb = (p.K + p.taps - 1) // p.taps
    p.per = (p.N * p.M + chunks - 1) // chunks
    p.dbl = floating is double
    if cross:       # items (chunk, block of taps), all pairs: Cn rows and Cw windows a span
        p.span = max(1, (FIR_WINDOW // 4 - cw * reach) // (cn + cw * stride))
        _run_items(_fir_grad_item, &p, chunks * p.ntb, <double> p.N * p.M * p.K * p.C,
                   (p.C * p.taps + cn * p.span + cw * ((p.span - 1) * stride + reach))
                   * sizeof(floating), num_threads)
    else:
        p.span = max(1, (FIR_WINDOW - reach) // stride)
        _run_items(_fir_grad_item, &p, chunks * p.C * p.ntb, <double> p.N * p.M * p.K * p.C,
                   (p.taps + p.span + FIR_WINDOW) * sizeof(floating), num_threads)


def _use_blas64(size_t sgemm64, size_t dgemm64, size_t sgemv64, size_t dgemv64):
    """Have this module's kernels call the ILP64 BLAS at these addresses (all zero: SciPy's);
    conv1dt/_runtime/blas_pick.py, once, at import."""
    use_blas64(sgemm64, dgemm64, sgemv64, dgemv64)
