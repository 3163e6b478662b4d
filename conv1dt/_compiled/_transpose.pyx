# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The kernels of conv1d_transpose: typed memoryviews and ints in, the output memoryview filled,
nothing else.

Validation lives in the pure-Python layer; every kernel here gets C-contiguous arrays in the
internal NWC layout, filters ``[K, Cout, Cin]``, and plain ints that have already been checked.
The planner (``conv1dt/_plan.py``) chooses among them: ``transpose_direct`` (few channels; with
``_SmallDirect``, its plan for tiny calls), ``transpose_blas``, ``transpose_col2im``,
``transpose_phase``, ``transpose_tiled`` (the C layer's register-tiled micro-kernel, through
``_cpu.pxd``) and ``transpose_grouped`` (groups of few channels); and ``conv1d_strided``, conv1d
for few channels at a stride on the direct kernel's strips.

Index algebra (shared by the whole family): narrow sample ``i`` and wide sample ``o`` meet at
tap ``k`` when ``o = i*s + k*d - pad_before``.
"""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from ._cpu cimport (SKINNY_ADD, prefetch_lines, SKINNY_OVERWRITE, dot_f32, dot_f64, grouped_f32, grouped_f64, interleave_f32, interleave_f64, pack_f32,
                    pack_f64, phase_strip_f32, phase_strip_f64, phase_tiled_f32, phase_tiled_f64,
                    rows_to_channels_f32, rows_to_channels_f64, scratch as thread_scratch,
                    scratch_done, spread_row, team, team_begin, team_end, team_join,
                    tiled_isa_index, tiled_panel)
from ._blas cimport gemm, gemv_t, use_blas64
from ._index cimport end_row, first_row, floordiv
from ._loop cimport Chunks, chunks, next_chunk

import numpy as np
cimport numpy as cnp

cnp.import_array()

# Scratch elements a small direct call keeps on the stack (8 KiB in float64); more are malloc'ed.
cdef enum:
    SMALL_SCRATCH = 1024

# The longest filter row (input channels, or a group's row) the tiled kernel lays out: a bound
# from its AVX-512 layout's former gathers (32-bit offsets of 15 rows), kept as the tested range.
cdef enum:
    PACK_MAX_CIN = 1 << 27
    # ... and a layout of fewer elements is written by one thread (256 KiB in float32)
    PACK_SERIAL_ELEMS = 1 << 16

TILED_MAX_ROW = PACK_MAX_CIN   # the longest filter row (Cin, or a group's row) the tiled kernel takes



# A call's large buffers (a filter layout, the threads' scratch) are blocks the calling thread
# keeps between calls (src/scratch.c): slot 1 for the filter's layout, slot 2 for the scratch.
cdef enum:
    LAYOUT_SLOT = 1
    SCRATCH_SLOT = 2


cdef void* _call_scratch(int slot, size_t nbytes, str what) except NULL:
    """The calling thread's kept block of at least ``nbytes`` in ``slot`` (64-byte aligned), or
    MemoryError naming ``what``; :func:`scratch_done` when the call is done with it."""
    cdef void* block = thread_scratch(slot, nbytes)
    if block == NULL:
        raise MemoryError(f"conv1dt: no memory for {what} ({nbytes} bytes)")
    return block


cdef inline void _phase_strip(floating* y, Py_ssize_t ysj, Py_ssize_t ysc, const floating* f,
                              const Py_ssize_t* woff, const Py_ssize_t* xoff, Py_ssize_t ntaps,
                              const floating* x, Py_ssize_t ldx, Py_ssize_t ulo, Py_ssize_t uhi,
                              const Py_ssize_t* klo, const Py_ssize_t* khi, Py_ssize_t cout,
                              Py_ssize_t cin, Py_ssize_t n) noexcept nogil:
    if floating is float:
        phase_strip_f32(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, klo, khi, cout, cin, n)
    else:
        phase_strip_f64(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, klo, khi, cout, cin, n)


cdef Py_ssize_t _phase_taps(Py_ssize_t K, Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad,
                            Py_ssize_t* counts, Py_ssize_t* ks, Py_ssize_t* cs, Py_ssize_t maxt) noexcept nogil:
    """Fill the polyphase tap table; return the most taps of one phase (the table's width).

    Output ``o`` with ``o % s == r`` (in blocks that start at a multiple of ``s``) is reached by
    the taps ``k`` with ``(r + pad - k*d) % s == 0``, reading input ``o // s + c`` with
    ``c = (r + pad - k*d) / s``. Row ``r`` of ``ks``/``cs`` (``maxt`` wide) lists them in
    decreasing ``k`` (increasing input position). With ``maxt == 0`` only ``counts`` is filled.
    O(K + s).
    """
    cdef Py_ssize_t k, r, most = 0
    for r in range(s):
        counts[r] = 0
    for k in range(K - 1, -1, -1):
        r = (k * d - pad) % s
        if r < 0:
            r = r + s
        if maxt:
            ks[r * maxt + counts[r]] = k
            cs[r * maxt + counts[r]] = (r + pad - k * d) // s
        counts[r] += 1
        if counts[r] > most:
            most = counts[r]
    return most


def phase_taps(Py_ssize_t taps, Py_ssize_t stride, Py_ssize_t dilation, Py_ssize_t pad_before):
    """The polyphase tap table as arrays ``(counts[s], k[s, maxt], c[s, maxt])`` (for tests and
    teaching; the kernels build it in C)."""
    counts = np.zeros(stride, dtype=np.intp)
    cdef Py_ssize_t[::1] cv = counts
    cdef Py_ssize_t maxt = max(_phase_taps(taps, stride, dilation, pad_before, &cv[0], NULL, NULL, 0), 1)
    ks = np.zeros((stride, maxt), dtype=np.intp)
    cs = np.zeros((stride, maxt), dtype=np.intp)
    cdef Py_ssize_t[:, ::1] kv = ks, csv = cs
    _phase_taps(taps, stride, dilation, pad_before, &cv[0], &kv[0, 0], &csv[0, 0], maxt)
    return counts, ks, cs


cdef class _TapTable:
    """The polyphase tap table in C memory, as offsets the kernels read: per phase ``r`` and tap,
    ``ks = k*tapsize`` (the direct kernel's filter slice with ``tapsize = Cout*Cin``; the tap
    itself with ``tapsize = 1``) and ``cs = c - cmin`` (the tap's first input row
    relative to the block's). Freed with the object."""
    cdef Py_ssize_t s, maxt, cmin, cmax, dc
    cdef Py_ssize_t* counts
    cdef Py_ssize_t* ks
    cdef Py_ssize_t* cs

    def __cinit__(self, Py_ssize_t K, Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad, Py_ssize_t tapsize):
        cdef Py_ssize_t r, t, g = d, rem = s
        while rem:                      # g = gcd(s, d)
            g, rem = rem, g % rem
        self.dc = d // g                # consecutive taps of a phase read every dc-th input row
        self.s = s
        self.counts = <Py_ssize_t*> malloc(s * sizeof(Py_ssize_t))
        if self.counts == NULL:
            raise MemoryError("conv1dt: no memory for the tap table")
        self.maxt = max(_phase_taps(K, s, d, pad, self.counts, NULL, NULL, 0), 1)
        self.ks = <Py_ssize_t*> malloc(s * self.maxt * sizeof(Py_ssize_t))
        self.cs = <Py_ssize_t*> malloc(s * self.maxt * sizeof(Py_ssize_t))
        if self.ks == NULL or self.cs == NULL:
            raise MemoryError("conv1dt: no memory for the tap table")
        _phase_taps(K, s, d, pad, self.counts, self.ks, self.cs, self.maxt)
        self.cmin = self.cmax = 0
        for r in range(s):
            for t in range(self.counts[r]):
                if (r == 0 and t == 0) or self.cs[r * self.maxt + t] < self.cmin:
                    self.cmin = self.cs[r * self.maxt + t]
                if (r == 0 and t == 0) or self.cs[r * self.maxt + t] > self.cmax:
                    self.cmax = self.cs[r * self.maxt + t]
        # from here on: ks holds filter offsets, cs holds offsets into the block's input copy
        for r in range(s):
            for t in range(self.counts[r]):
                self.ks[r * self.maxt + t] *= tapsize
                self.cs[r * self.maxt + t] -= self.cmin

    def __dealloc__(self):
        free(self.counts)
        free(self.ks)
        free(self.cs)


cdef void _direct_block(
    const floating* x, bint x_ncw, Py_ssize_t M, Py_ssize_t cin, const floating* f,
    Py_ssize_t cout, floating* y, bint y_ncw, Py_ssize_t L, floating* xs, floating* ybuf,
    Py_ssize_t span, Py_ssize_t cmin, const Py_ssize_t* ntaps, const Py_ssize_t* woff,
    const Py_ssize_t* xoff, Py_ssize_t maxt, Py_ssize_t b, Py_ssize_t s, Py_ssize_t strip,
    bint sparse,
) noexcept nogil:
    """Outputs ``b*s*strip .. (b+1)*s*strip - 1`` of one batch entry: ``x`` is its ``[M, Cin]``
    (``[Cin, M]`` when ``x_ncw``) input, ``y`` its ``[L, Cout]`` (``[Cout, L]``) output, both
    C-contiguous; ``f`` is ``[K, Cout, Cin]``.

    With ``ybuf`` (one output channel and a stride above 1), each phase's strip goes to
    ``ybuf + r*strip`` in whole vectors and the block is then interleaved into ``y`` (a phase
    written in place would be one scalar store per output, ``s`` apart).

    First the input rows the block reads, ``i = b*strip + cmin .. + span - 1``, are copied
    channel-major into ``xs``, zeros outside the signal. Then each of the ``s`` polyphase
    components (outputs ``ob, ob + s, ...``, ``ob = b*s*strip + r``) is an ordinary correlation
    of ``xs`` with the taps of phase ``r``: no multiply touches an inserted zero.

    With ``sparse`` (half the phases or more have no tap: a few taps at a large stride) the
    block's outputs are zeroed first, whole rows at a time, and only the phases with taps are
    computed, in place (an empty phase would be a strip of zeros stored an output at a time).
    """
    cdef Py_ssize_t o0 = b * s * strip, ibase = b * strip + cmin
    cdef Py_ssize_t u, i, ci, r, ob, cnt
    # rows ibase + ulo .. ibase + uhi - 1 lie inside the signal; the rest of xs is zero
    cdef Py_ssize_t ulo = -ibase if ibase < 0 else 0
    cdef Py_ssize_t uhi = M - ibase if M - ibase < span else span
    if uhi < ulo:
        uhi = ulo
    for ci in range(cin):
        memset(xs + ci * span, 0, ulo * sizeof(floating))
        memset(xs + ci * span + uhi, 0, (span - uhi) * sizeof(floating))
        if (x_ncw or cin == 1) and uhi > ulo:
            memcpy(xs + ci * span + ulo, x + (ci * M + ibase + ulo if x_ncw else ibase + ulo),
                   (uhi - ulo) * sizeof(floating))
    if not x_ncw and cin > 1 and uhi > ulo:
        if floating is float:
            rows_to_channels_f32(xs + ulo, span, x + (ibase + ulo) * cin, cin, uhi - ulo)
        else:
            rows_to_channels_f64(xs + ulo, span, x + (ibase + ulo) * cin, cin, uhi - ulo)
    if sparse:                          # zeroed whole: the phases without taps are done
        cnt = L - o0 if L - o0 < s * strip else s * strip
        if y_ncw:
            for ci in range(cout):
                memset(y + ci * L + o0, 0, cnt * sizeof(floating))
        else:
            memset(y + o0 * cout, 0, cnt * cout * sizeof(floating))
    if ybuf != NULL:                    # one output channel: phases into ybuf, then interleaved
        for r in range(s):
            ob = o0 + r
            if ob >= L:
                break
            cnt = (L - ob + s - 1) // s
            _phase_strip(ybuf + r * strip, 1, 1, f, woff + r * maxt, xoff + r * maxt,
                         ntaps[r], xs, span, ulo, uhi, NULL, NULL, cout, cin,
                         cnt if cnt < strip else strip)
        cnt = L - o0 if L - o0 < s * strip else s * strip
        if floating is float:
            interleave_f32(y + o0, ybuf, strip, s, cnt)
        else:
            interleave_f64(y + o0, ybuf, strip, s, cnt)
        return
    for r in range(s):
        ob = o0 + r
        if ob >= L:
            break
        if sparse and ntaps[r] == 0:
            continue
        cnt = (L - ob + s - 1) // s
        if cnt > strip:
            cnt = strip
        if y_ncw:
            _phase_strip(y + ob, s, L, f, woff + r * maxt, xoff + r * maxt, ntaps[r],
                         xs, span, ulo, uhi, NULL, NULL, cout, cin, cnt)
        else:
            _phase_strip(y + ob * cout, s * cout, 1, f, woff + r * maxt, xoff + r * maxt,
                         ntaps[r], xs, span, ulo, uhi, NULL, NULL, cout, cin, cnt)


cdef struct _Direct:
    # one direct-kernel call: the shapes, the blocks and the tap table (borrowed from a _TapTable)
    Py_ssize_t M, cin, cout, L, s, strip, nblocks, span, per
    bint x_ncw, y_ncw, interleave, sparse
    Py_ssize_t cmin, maxt
    Py_ssize_t* counts
    Py_ssize_t* ks
    Py_ssize_t* cs


cdef _TapTable _direct_setup(_Direct* p, Py_ssize_t M, Py_ssize_t cin, Py_ssize_t cout,
                             Py_ssize_t K, Py_ssize_t L, bint x_ncw, bint y_ncw, Py_ssize_t s,
                             Py_ssize_t d, Py_ssize_t pad, Py_ssize_t strip):
    """Fill ``p`` for a call; return the tap table it borrows (keep it alive while ``p`` is used).
    ``p.per`` is the scratch one thread needs: the block's input copy, and with ``interleave``
    the phases' strips after it."""
    cdef _TapTable table = _TapTable(K, s, d, pad, cout * cin)
    p.M, p.cin, p.cout, p.L, p.s, p.strip = M, cin, cout, L, s, strip
    p.x_ncw, p.y_ncw = x_ncw, y_ncw
    p.nblocks = (L + s * strip - 1) // (s * strip)
    p.span = strip + table.cmax - table.cmin
    cdef Py_ssize_t r, reached = 0
    for r in range(s):
        reached += table.counts[r] > 0
    p.sparse = 2 * reached <= s
    p.interleave = cout == 1 and s > 1 and not p.sparse
    p.per = max(cin * p.span, 1) + (s * strip if p.interleave else 0)
    p.cmin, p.maxt, p.counts, p.ks, p.cs = table.cmin, table.maxt, table.counts, table.ks, table.cs
    return table


cdef inline void _direct_item(const _Direct* p, const floating* x, const floating* f, floating* y,
                              floating* xs, Py_ssize_t item) noexcept nogil:
    """Work item ``item`` (batch ``item // nblocks``, block ``item % nblocks``) of a call on the
    whole ``x`` and ``y``, with ``xs`` the thread's ``p.per`` scratch elements."""
    cdef Py_ssize_t n = item // p.nblocks
    _direct_block(x + n * p.M * p.cin, p.x_ncw, p.M, p.cin, f, p.cout, y + n * p.L * p.cout,
                  p.y_ncw, p.L, xs, xs + max(p.cin * p.span, 1) if p.interleave else NULL,
                  p.span, p.cmin, p.counts, p.ks, p.cs, p.maxt, item % p.nblocks, p.s, p.strip,
                  p.sparse)


def transpose_direct(
    const floating[:, :, ::1] x,
    bint x_ncw,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] y,
    bint y_ncw,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t strip,
    int num_threads,
):
    """conv1d_transpose for few channels: polyphase, vectorised along the width, in either layout.

    ``x`` is ``[N, M, Cin]`` (or ``[N, Cin, M]`` when ``x_ncw``); ``f`` is ``[K, Cout, Cin]``;
    ``y`` is ``[N, L, Cout]`` (or ``[N, Cout, L]`` when ``y_ncw``) and is overwritten. Work items
    are (batch, block of ``stride*strip`` outputs), each owned by one thread; the blocks depend
    on the shape only, so the bits do not depend on the thread count.
    """
    cdef team crew
    cdef Py_ssize_t N = x.shape[0]
    cdef Py_ssize_t L = y.shape[2] if y_ncw else y.shape[1]
    cdef Py_ssize_t cin = x.shape[1] if x_ncw else x.shape[2]
    cdef Py_ssize_t M = x.shape[2] if x_ncw else x.shape[1]
    cdef Py_ssize_t item, items
    cdef Chunks ch
    cdef _Direct p
    cdef floating* scratch
    if N == 0 or L == 0:
        return
    table = _direct_setup(&p, M, cin, f.shape[1], f.shape[0], L, x_ncw, y_ncw, stride, dilation,
                          pad_before, strip)
    scratch = <floating*> _call_scratch(SCRATCH_SLOT, num_threads * p.per * sizeof(floating),
                                        f"{num_threads} x {p.per} scratch elements")
    items = N * p.nblocks
    ch = chunks(items, <double> N * M * f.shape[0] * cin * p.cout, num_threads)
    try:
        while next_chunk(&ch):
            if num_threads == 1:  # no parallel region: small calls pay nothing for threads
                with nogil:
                    for item in range(ch.start, ch.stop):
                        _direct_item(&p, &x[0, 0, 0], &f[0, 0, 0], &y[0, 0, 0], scratch, item)
            else:
                team_begin(&crew, num_threads)
                with nogil, parallel(num_threads=num_threads):
                    for item in prange(ch.start, ch.stop, schedule="dynamic"):
                        team_join(&crew, threadid())
                        _direct_item(&p, &x[0, 0, 0], &f[0, 0, 0], &y[0, 0, 0],
                                     scratch + threadid() * p.per, item)
                team_end(&crew)
    finally:
        scratch_done(SCRATCH_SLOT, scratch)


cdef inline Py_ssize_t _phase_copy(const floating* x, bint x_ncw, Py_ssize_t L, Py_ssize_t cin,
                                   floating* xs, Py_ssize_t span, Py_ssize_t gbase,
                                   Py_ssize_t s) noexcept nogil:
    """Copy the groups of ``s`` frames ``gbase .. gbase + span - 1`` of one batch element's input
    ``x`` (``[L, Cin]``, ``[Cin, L]`` when ``x_ncw``) into ``xs`` by phase, channel-major: row
    ``r*Cin + ci``, column ``g - gbase``, holds ``x[g*s + r, ci]``, zero outside the signal.
    Returns the first column of a group >= 0 (the phases' common lower bound)."""
    cdef Py_ssize_t rows = s * cin
    cdef Py_ssize_t glo = -gbase if gbase < 0 else 0            # columns of groups >= 0 ...
    cdef Py_ssize_t ghi = (L + s - 1) // s - gbase              # ... and of groups < ceil(L/s)
    cdef Py_ssize_t gfull = L // s - gbase                      # ... and of whole groups
    cdef Py_ssize_t u, c, r, ci, frame
    if ghi > span:
        ghi = span
    if ghi < glo:
        ghi = glo
    if gfull > ghi:
        gfull = ghi
    if gfull < glo:
        gfull = glo
    for c in range(rows):
        memset(xs + c * span, 0, glo * sizeof(floating))
        memset(xs + c * span + ghi, 0, (span - ghi) * sizeof(floating))
    if x_ncw:
        for r in range(s):
            for ci in range(cin):
                for u in range(glo, ghi):
                    frame = (gbase + u) * s + r
                    xs[(r * cin + ci) * span + u] = x[ci * L + frame] if frame < L else 0
    else:
        if gfull > glo:
            if floating is float:
                rows_to_channels_f32(xs + glo, span, x + (gbase + glo) * rows, rows, gfull - glo)
            else:
                rows_to_channels_f64(xs + glo, span, x + (gbase + glo) * rows, rows, gfull - glo)
        for u in range(gfull, ghi):                              # the last group, in part
            for c in range(rows):
                frame = (gbase + u) * s + c // cin
                xs[c * span + u] = x[frame * cin + c % cin] if frame < L else 0
    return glo


cdef inline Py_ssize_t _phase_end(Py_ssize_t L, Py_ssize_t r, Py_ssize_t s, Py_ssize_t gbase,
                                  Py_ssize_t lo, Py_ssize_t span) noexcept nogil:
    """The column after phase ``r``'s last frame in a copy of :func:`_phase_copy` (its frames
    end at ``(L - 1 - r) // s``: the phases end at different columns when ``s`` does not divide
    ``L``), within ``[lo, span]``."""
    cdef Py_ssize_t hi = floordiv(L - 1 - r, s) + 1 - gbase
    if hi > span:
        hi = span
    return hi if hi > lo else lo


cdef void _strided_block(
    const floating* x, bint x_ncw, Py_ssize_t L, Py_ssize_t cin, const floating* f,
    Py_ssize_t cout, floating* y, bint y_ncw, Py_ssize_t M, floating* xs, Py_ssize_t* bounds,
    Py_ssize_t span, Py_ssize_t qmin, Py_ssize_t ntaps, const Py_ssize_t* woff,
    const Py_ssize_t* xoff, const Py_ssize_t* phase, Py_ssize_t b, Py_ssize_t s,
    Py_ssize_t strip,
) noexcept nogil:
    """Outputs ``b*strip .. (b+1)*strip - 1`` of one batch entry of :func:`conv1d_strided`:
    ``x`` is its ``[L, Cin]`` (``[Cin, L]`` when ``x_ncw``) input, ``y`` its ``[M, Cout]``
    (``[Cout, M]``) output; ``bounds`` holds ``2*ntaps`` elements of the thread's own.

    The input frames the block reads, the groups ``g = b*strip + qmin .. + span - 1`` of ``s``
    frames, are copied by phase (:func:`_phase_copy`). Tap ``k``'s columns are its phase's
    rows, from ``xoff[k]``; each tap gets its phase's bounds (:func:`_phase_end`), and the
    strips skip every term outside them as the transpose's do.
    """
    cdef Py_ssize_t i0 = b * strip, gbase = b * strip + qmin
    cdef Py_ssize_t n = M - i0 if M - i0 < strip else strip
    cdef Py_ssize_t k, r, lo
    lo = _phase_copy(x, x_ncw, L, cin, xs, span, gbase, s)
    for k in range(ntaps):
        r = phase[k]
        bounds[k] = r * cin * span + lo
        bounds[ntaps + k] = r * cin * span + _phase_end(L, r, s, gbase, lo, span)
    if y_ncw:
        _phase_strip(y + i0, 1, M, f, woff, xoff, ntaps, xs, span, 0, 0, bounds, bounds + ntaps,
                     cout, cin, n)
    else:
        _phase_strip(y + i0 * cout, cout, 1, f, woff, xoff, ntaps, xs, span, 0, 0, bounds,
                     bounds + ntaps, cout, cin, n)


cdef Py_ssize_t _phase_span(Py_ssize_t K, Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad,
                            Py_ssize_t strip, Py_ssize_t itemsize, Py_ssize_t* qmin) noexcept nogil:
    """The columns of a block's copy (:func:`_phase_copy`) for ``strip`` outputs: ``strip`` plus
    the taps' reach in groups, in whole 64-byte lines and not a multiple of 2 KiB (rows 4 KiB
    apart fall on the same L1 sets: a strip of 1024 outputs ran 2.7x slower than one of 256).
    Sets ``qmin``, the group offset of the first tap reached."""
    cdef Py_ssize_t k, e, lo = 0, hi = 0, span
    for k in range(K):
        e = floordiv(k * d - pad, s)
        if k == 0 or e < lo:
            lo = e
        if k == 0 or e > hi:
            hi = e
    qmin[0] = lo
    span = (strip + hi - lo + 15) // 16 * 16
    if span * itemsize % 2048 == 0:
        span += 16
    return span


def conv1d_strided(
    const floating[:, :, ::1] x,
    bint x_ncw,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] y,
    bint y_ncw,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t strip,
    int num_threads,
):
    """conv1d for few channels at a stride: only the kept outputs, by the direct kernel's strips.

    ``x`` is ``[N, L, Cin]`` (``[N, Cin, L]`` when ``x_ncw``); ``f`` is conv1d's filter with its
    channel axes swapped, ``[K, Cout, Cin]`` (taps in order); ``y`` is ``[N, M, Cout]`` (``[N,
    Cout, M]`` when ``y_ncw``) and is overwritten. Output ``i`` adds tap ``k``'s term at frame
    ``i*s + k*d - p = (i + q_k)*s + r_k``, ``r_k = (k*d - p) mod s``: with the input grouped by
    ``s`` frames and each phase ``r`` a row of its own (:func:`_strided_block`), every tap reads
    consecutive columns, ``q_k`` on, for consecutive outputs, a stride-1 correlation that the
    transpose's direct strips compute. Taps in increasing ``k``, then the channels in increasing
    order (float64: a dot product over the channels per tap): the sums, bit for bit, of
    ``flip-direct`` at stride 1 at the kept outputs. Work items are (batch, block of ``strip``
    outputs); the bits do not depend on the thread count.
    """
    cdef team crew
    cdef Py_ssize_t N = x.shape[0], K = f.shape[0]
    cdef Py_ssize_t L = x.shape[2] if x_ncw else x.shape[1]
    cdef Py_ssize_t cin = x.shape[1] if x_ncw else x.shape[2]
    cdef Py_ssize_t M = y.shape[2] if y_ncw else y.shape[1]
    cdef Py_ssize_t cout = f.shape[1], s = stride
    cdef Py_ssize_t k, e, qmin = 0, span, per, copy, nblocks, item
    cdef Chunks ch
    if N == 0 or M == 0 or K == 0:
        return
    if cin == 0:
        y[...] = 0
        return
    woff = np.empty(K, dtype=np.intp)
    xoff = np.empty(K, dtype=np.intp)
    phase = np.empty(K, dtype=np.intp)
    cdef Py_ssize_t[::1] wv = woff, xv = xoff, pv = phase
    span = _phase_span(K, s, dilation, pad_before, strip, sizeof(floating), &qmin)
    for k in range(K):
        e = k * dilation - pad_before
        pv[k] = e - floordiv(e, s) * s
        xv[k] = pv[k] * cin * span + floordiv(e, s) - qmin
        wv[k] = k * cout * cin
    # a thread's scratch: the copy, then its taps' bounds, in whole lines of its own (bounds
    # that shared a line between the threads, written at every item, made 2 threads slower
    # than 1)
    copy = s * cin * span
    per = copy + (2 * K * sizeof(Py_ssize_t) + 63) // 64 * (64 // sizeof(floating))
    nblocks = (M + strip - 1) // strip
    cdef floating* scratch = <floating*> _call_scratch(
        SCRATCH_SLOT, num_threads * per * sizeof(floating),
        f"{num_threads} x {per} scratch elements")
    cdef Py_ssize_t xsn = L * cin, ysn = M * cout
    ch = chunks(N * nblocks, <double> N * M * K * cin * cout, num_threads)
    try:
        while next_chunk(&ch):
            if num_threads == 1:
                with nogil:
                    for item in range(ch.start, ch.stop):
                        _strided_block(&x[0, 0, 0] + (item // nblocks) * xsn, x_ncw, L, cin,
                                       &f[0, 0, 0], cout, &y[0, 0, 0] + (item // nblocks) * ysn,
                                       y_ncw, M, scratch, <Py_ssize_t*> (scratch + copy), span,
                                       qmin, K, &wv[0], &xv[0], &pv[0], item % nblocks, s, strip)
            else:
                team_begin(&crew, num_threads)
                with nogil, parallel(num_threads=num_threads):
                    for item in prange(ch.start, ch.stop, schedule="dynamic"):
                        team_join(&crew, threadid())
                        _strided_block(&x[0, 0, 0] + (item // nblocks) * xsn, x_ncw, L, cin,
                                       &f[0, 0, 0], cout, &y[0, 0, 0] + (item // nblocks) * ysn,
                                       y_ncw, M, scratch + threadid() * per,
                                       <Py_ssize_t*> (scratch + threadid() * per + copy), span,
                                       qmin, K, &wv[0], &xv[0], &pv[0], item % nblocks, s, strip)
                team_end(&crew)
    finally:
        scratch_done(SCRATCH_SLOT, scratch)


cdef int _small_direct(const _Direct* p, Py_ssize_t items, const floating* x, const floating* f,
                       floating* y) except -1:
    """All ``items`` of a small direct call on the calling thread, the scratch on the stack."""
    cdef floating stack[SMALL_SCRATCH]
    cdef floating* xs = stack
    cdef Py_ssize_t item
    if p.per > SMALL_SCRATCH:
        xs = <floating*> malloc(p.per * sizeof(floating))
        if xs == NULL:
            raise MemoryError(f"conv1dt: no memory for {p.per} scratch elements")
    with nogil:
        for item in range(items):
            _direct_item(p, x, f, y, xs, item)
    if xs != stack:
        free(xs)
    return 0


cdef cnp.ndarray _flip_filter(cnp.ndarray f):
    """conv1d's filter ``[K, Cin, Cout]`` (C-contiguous, float32 or float64) as the transpose's
    ``[K, Cout, Cin]`` with the taps reversed: ``h[k, o, c] = f[K-1-k, c, o]``."""
    cdef cnp.npy_intp dims[3]
    cdef Py_ssize_t K = f.shape[0], ci = f.shape[1], co = f.shape[2], k, c, o
    dims[0], dims[1], dims[2] = K, co, ci
    h = cnp.PyArray_EMPTY(3, dims, cnp.PyArray_TYPE(f), 0)
    cdef char* src = <char*> cnp.PyArray_DATA(f)
    cdef char* dst = <char*> cnp.PyArray_DATA(h)
    if cnp.PyArray_TYPE(f) == cnp.NPY_FLOAT:
        for k in range(K):
            for c in range(ci):
                for o in range(co):
                    (<float*> dst)[(k * co + o) * ci + c] = (<float*> src)[((K - 1 - k) * ci + c) * co + o]
    else:
        for k in range(K):
            for c in range(ci):
                for o in range(co):
                    (<double*> dst)[(k * co + o) * ci + c] = (<double*> src)[((K - 1 - k) * ci + c) * co + o]
    return h


cdef class _SmallDirect:
    """A planned small conv1d_transpose on the direct kernel, on the calling thread.

    The tap table is built once, with the plan, and a call takes the operands' data pointers as
    they are (no memoryviews), which matters for tiny calls. Called with ``x`` and
    ``f`` of the planned shapes and dtype, it returns a new output (operands that are not
    C-contiguous, aligned and in native byte order are copied first); operands of another shape
    or dtype raise ValueError. With ``flip``, ``f`` is conv1d's filter ``[K, Cin, Cout]`` (``fshape``
    is still the transpose's, ``[K, Cout, Cin]``), reversed and transposed into the transpose's
    at each call: conv1d at stride 1 run as the transpose (``flip-direct``).
    """
    cdef _Direct p
    cdef _TapTable table
    cdef Py_ssize_t items
    cdef int typenum
    cdef object dtype
    cdef bint flip
    cdef cnp.npy_intp dims[9]        # x's, f's (as called) and y's shapes

    def __cinit__(self, xshape, fshape, yshape, dtype, bint ncw, Py_ssize_t stride,
                  Py_ssize_t dilation, Py_ssize_t pad_before, Py_ssize_t strip, bint flip=False):
        cdef int j
        if len(xshape) != 3 or len(fshape) != 3 or len(yshape) != 3:
            raise ValueError("conv1dt: a small plan takes three 3-d shapes")
        cdef Py_ssize_t cin = xshape[1] if ncw else xshape[2], M = xshape[2] if ncw else xshape[1]
        cdef Py_ssize_t ych = yshape[1] if ncw else yshape[2], L = yshape[2] if ncw else yshape[1]
        if (yshape[0] != xshape[0] or fshape[2] != cin or fshape[1] != ych or min(xshape) < 0
                or min(fshape) < 0 or min(yshape) < 0):
            raise ValueError(f"conv1dt: shapes {tuple(xshape)}, {tuple(fshape)} and "
                             f"{tuple(yshape)} do not make one conv1d_transpose")
        if stride < 1 or dilation < 1 or strip < 1:
            raise ValueError("conv1dt: stride, dilation and strip must be positive")
        for j in range(3):
            self.dims[j], self.dims[3 + j], self.dims[6 + j] = xshape[j], fshape[j], yshape[j]
        self.flip = flip
        if flip:
            self.dims[4], self.dims[5] = fshape[2], fshape[1]
        self.dtype = np.dtype(dtype)
        self.typenum = self.dtype.num
        if self.typenum != cnp.NPY_FLOAT and self.typenum != cnp.NPY_DOUBLE:
            raise TypeError(f"conv1dt: the direct kernel takes float32 or float64, not {dtype}")
        self.table = _direct_setup(&self.p, M, cin, ych, fshape[0], L, ncw, ncw, stride, dilation,
                                   pad_before, strip)
        self.items = xshape[0] * self.p.nblocks

    def __call__(self, cnp.ndarray x not None, cnp.ndarray f not None):
        cdef int j
        if x.ndim != 3 or f.ndim != 3:
            raise ValueError("conv1dt: operands of another rank than the plan's")
        for j in range(3):
            if x.shape[j] != self.dims[j] or f.shape[j] != self.dims[3 + j]:
                raise ValueError("conv1dt: operands of other shapes than the plan's")
        if cnp.PyArray_TYPE(x) != self.typenum or cnp.PyArray_TYPE(f) != self.typenum:
            raise ValueError("conv1dt: operands of another dtype than the plan's")
        if not cnp.PyArray_ISCARRAY_RO(x):    # unaligned, byte-swapped or strided: a copy
            x = np.require(x, self.dtype, "CA")
        if not cnp.PyArray_ISCARRAY_RO(f):
            f = np.require(f, self.dtype, "CA")
        if self.flip:
            f = _flip_filter(f)
        y = cnp.PyArray_EMPTY(3, self.dims + 6, self.typenum, 0)
        if self.typenum == cnp.NPY_FLOAT:
            _small_direct(&self.p, self.items, <float*> cnp.PyArray_DATA(x),
                          <float*> cnp.PyArray_DATA(f), <float*> cnp.PyArray_DATA(y))
        else:
            _small_direct(&self.p, self.items, <double*> cnp.PyArray_DATA(x),
                          <double*> cnp.PyArray_DATA(f), <double*> cnp.PyArray_DATA(y))
        return y


def transpose_blas(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] y,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t rows,
    Py_ssize_t cblock,
    bint dot,
    Py_ssize_t batches,
    int num_threads,
):
    """conv1d_transpose for many channels: one GEMM per (block, tap), straight into the output.

    ``x`` ``[N, M, Cin]``, ``f`` ``[K, Cout, Cin]``, ``y`` ``[N, L, Cout]`` (overwritten). Tap
    ``k`` sends input row ``i`` to output row ``o = i*s + k*d - pad``, so the rows it writes are
    every ``s``-th one, those of residue ``(k*d - pad) mod s``: a GEMM ``y[o, c] += x[i, :] @
    f[k, c].T`` with leading dimension ``s*Cout`` accumulates in place. Work items are (residue,
    batch, block of ``rows*stride`` outputs, block of ``cblock`` output channels): an item zeroes
    its outputs and adds its residue's taps in decreasing ``k``, so each output is summed by one
    item in an order fixed by the shape, and the bits do not depend on the thread count. The
    residues and channel blocks split a call with a short input (batch 1, a few frames) over the
    threads. An item takes ``batches`` batch elements, one tap at a time for all of them, so that
    the tap's block of the filter is read from memory once for them all (a few frames a batch
    element: each GEMM then has a few rows). BLAS must run single-threaded inside (the caller
    arranges it). With ``dot`` the GEMMs are the C layer's dot GEMM (``src/skinny_impl.h``),
    which packs nothing: for a few rows a block, where BLAS would pack the filter's block for
    only those rows.
    """
    cdef Py_ssize_t N = x.shape[0], cout = f.shape[1], L = y.shape[1], K = f.shape[0]
    cdef Py_ssize_t B = rows * stride
    cdef Py_ssize_t nblocks = (L + B - 1) // B
    cdef Py_ssize_t ncb = (cout + cblock - 1) // cblock
    if batches < 1:
        batches = 1
    cdef Py_ssize_t nbg = (N + batches - 1) // batches
    cdef Py_ssize_t r, nres = 0
    cdef Py_ssize_t* residues = NULL
    cdef bint zeroed
    if N == 0 or L == 0:
        return
    # The residues mod s that taps reach (the tap table's counts, _phase_taps). Where half of
    # them or more have none (a short filter at a large stride, one tap), the output is zeroed
    # block by block, whole rows at a time, and only the reached residues are items: zeroing
    # the others residue by residue would be one short store per row, s apart, every cache line
    # fetched once per residue (2 x 7509 frames, 166 -> 13, K=1, s=8: 1.4 of 2.9 ms).
    residues = <Py_ssize_t*> malloc(stride * sizeof(Py_ssize_t))
    if residues == NULL:
        raise MemoryError(f"conv1dt: no memory for a table of {stride} residues")
    try:
        _phase_taps(K, stride, dilation, pad_before, residues, NULL, NULL, 0)
        for r in range(stride):
            nres += residues[r] > 0
        zeroed = 2 * nres <= stride
        nres = 0
        for r in range(stride):             # the item's residues, in place (nres <= r)
            if residues[r] > 0 or not zeroed:
                residues[nres] = r
                nres += 1
        _blas_items(x, f, y, residues, nres, zeroed, stride, dilation, pad_before, B, nblocks,
                    cblock, ncb, batches, nbg, dot, num_threads)
    finally:
        free(residues)


cdef void _blas_items(
    const floating[:, :, ::1] x, const floating[:, :, ::1] f, floating[:, :, ::1] y,
    const Py_ssize_t* residues, Py_ssize_t nres, bint zeroed, Py_ssize_t stride,
    Py_ssize_t dilation, Py_ssize_t pad_before, Py_ssize_t B, Py_ssize_t nblocks,
    Py_ssize_t cblock, Py_ssize_t ncb, Py_ssize_t batches, Py_ssize_t nbg, bint dot,
    int num_threads,
) except *:
    """:func:`transpose_blas`'s items, over the residues ``residues[:nres]`` (all of them, or
    with ``zeroed`` those that taps reach, the output first zeroed by (batch, block) items)."""
    cdef team crew
    cdef Py_ssize_t N = x.shape[0], cout = f.shape[1], L = y.shape[1]
    cdef Py_ssize_t item, n, o0, o1
    cdef Chunks ch
    if zeroed:
        ch = chunks(N * nblocks, <double> N * L * cout, num_threads)
        while next_chunk(&ch):
            team_begin(&crew, num_threads)
            for item in prange(ch.start, ch.stop, nogil=True, schedule="dynamic",
                               num_threads=num_threads):
                team_join(&crew, threadid())
                n = item // nblocks
                o0 = item % nblocks * B
                o1 = min(o0 + B, L)
                memset(&y[n, o0, 0], 0, (o1 - o0) * cout * sizeof(floating))
            team_end(&crew)
    ch = chunks(nbg * nblocks * nres * ncb,
                <double> N * x.shape[1] * f.shape[0] * x.shape[2] * cout, num_threads)
    # the residue varies slowest: consecutive items, which the threads run at the same time,
    # are other blocks or batch elements of one residue, not the residues of one block, whose
    # outputs interleave in every cache line of a narrow output row (21 -> 1 channel, K=252,
    # s=4: 0.32 ms on one thread, 0.48 on two)
    cdef Py_ssize_t per_residue = nbg * nblocks * ncb
    while next_chunk(&ch):
        team_begin(&crew, num_threads)
        for item in prange(ch.start, ch.stop, nogil=True, schedule="dynamic", num_threads=num_threads):
            team_join(&crew, threadid())
            _blas_block(x, f, y, item % per_residue // (nblocks * ncb) * batches, batches,
                        item % per_residue // ncb % nblocks,
                        residues[item // per_residue],
                        item % ncb * cblock, cblock, B, stride, dilation, pad_before, dot, zeroed)
        team_end(&crew)


cdef void _blas_block(
    const floating[:, :, ::1] x, const floating[:, :, ::1] f, floating[:, :, ::1] y,
    Py_ssize_t n0, Py_ssize_t nb, Py_ssize_t b, Py_ssize_t r, Py_ssize_t c0, Py_ssize_t cb,
    Py_ssize_t B, Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad, bint dot, bint zeroed,
) noexcept nogil:
    """Outputs ``b*B .. (b+1)*B - 1`` of residue ``r`` modulo ``s`` in batch elements ``n0 ..
    n0+nb-1``, channels ``c0 .. c0+cb-1``: zero them (not with ``zeroed``: they are), then one
    GEMM per tap of that residue and batch element, taps in decreasing ``k`` (BLAS's, or the dot
    GEMM with ``dot``)."""
    cdef Py_ssize_t N = x.shape[0], M = x.shape[1], cin = x.shape[2]
    cdef Py_ssize_t K = f.shape[0], cout = f.shape[1], L = y.shape[1]
    cdef Py_ssize_t o0 = b * B, o1 = o0 + B, k, khi, klo, off, ilo, ihi, o, ofirst, n
    cdef Py_ssize_t kfirst = -1
    cdef floating beta
    cdef int mode
    if o1 > L:
        o1 = L
    if cb > cout - c0:
        cb = cout - c0
    if nb > N - n0:
        nb = N - n0
    # only the taps that reach the block: i*s + k*d - pad in [o0, o1) for some i in [0, M)
    # (an item scans its own taps, not all K: with a short input and a long filter the blocks
    # are many and each is reached by a few taps)
    khi = min(K - 1, floordiv(o1 - 1 + pad, d))
    klo = max(0, -floordiv(-(o0 + pad - (M - 1) * s), d))
    # the residue's first tap: where its rows reach every output of the residue in the block,
    # by the dot GEMM or into fewer channels than a 64-byte vector holds, its GEMMs overwrite
    # them and nothing is zeroed first (as in conv1d's BLAS kernel, conv1dt/_compiled/_conv1d.pyx)
    ofirst = o0 + (r - o0 % s + s) % s     # the block's first output of residue r
    k = khi
    while k >= klo:
        off = k * d - pad
        if (off % s + s) % s == r:
            if (cin > 0 and (dot or cb * <Py_ssize_t> sizeof(floating) < 64) and ofirst < o1
                    and ofirst >= off and floordiv(o1 - 1 - off, s) < M):
                kfirst = k
            break
        k = k - 1
    if kfirst < 0 and not zeroed:
        for n in range(n0, n0 + nb):
            o = ofirst
            while o < o1:
                memset(&y[n, o, c0], 0, cb * sizeof(floating))
                o = o + s
    k = khi
    while k >= klo:
        off = k * d - pad
        if (off % s + s) % s == r:
            # rows i with o0 <= i*s + off < o1 and 0 <= i < M
            ilo = floordiv(o0 - off + s - 1, s)
            ihi = floordiv(o1 - 1 - off, s) + 1
            if ilo < 0:
                ilo = 0
            if ihi > M:
                ihi = M
            beta = 0 if k == kfirst else 1
            mode = SKINNY_OVERWRITE if k == kfirst else SKINNY_ADD
            for n in range(n0, n0 + nb):
                if ilo < ihi and dot:
                    # y[n, i*s + off, c0 + j] (+)= sum_u x[n, i, u] * f[k, c0 + j, u]
                    if floating is float:
                        dot_f32(&y[n, ilo * s + off, c0], s * cout, &x[n, ilo, 0], cin,
                                &f[k, c0, 0], cin, ihi - ilo, cb, cin, mode)
                    else:
                        dot_f64(&y[n, ilo * s + off, c0], s * cout, &x[n, ilo, 0], cin,
                                &f[k, c0, 0], cin, ihi - ilo, cb, cin, mode)
                elif ilo < ihi:
                    gemm(c'T', c'N', <int> cb, <int> (ihi - ilo), <int> cin, &f[k, c0, 0],
                         <int> cin, &x[n, ilo, 0], <int> cin, beta, &y[n, ilo * s + off, c0],
                         <int> (s * cout))
        k = k - 1


cdef void _col2im_block(
    int isa, const floating[:, :, ::1] x, const floating[:, :, ::1] f, const floating* w,
    floating[:, :, ::1] y, floating* z, Py_ssize_t n, Py_ssize_t b, Py_ssize_t rows, Py_ssize_t s,
    Py_ssize_t d, Py_ssize_t pad,
) noexcept nogil:
    """Outputs ``b*rows*s .. (b+1)*rows*s - 1`` of batch ``n``: one GEMM, then the sums.

    ``z[i - ilo, k*Cout + co] = x[n, i, :] . f[k, co, :]`` for every input row ``i`` the block
    reads (one GEMM with ``K*Cout`` columns, efficient however few output channels there are);
    by the tiled kernel when ``w`` (the filter in its panel layout, ``[Cin, K*Cout]``) is given,
    else by BLAS. Then row ``i`` of ``z`` is added to the outputs ``i*s + k*d - pad`` of the
    block, rows in increasing order: each output sums its taps in decreasing ``k``, reading
    ``z`` and writing ``y`` sequentially (a gather per output would read ``z`` one cache line
    per term).
    """
    cdef Py_ssize_t M = x.shape[1], cin = x.shape[2]
    cdef Py_ssize_t K = f.shape[0], cout = f.shape[1], L = y.shape[1]
    cdef Py_ssize_t kc = K * cout
    cdef Py_ssize_t o0 = b * rows * s, o1 = o0 + rows * s
    cdef Py_ssize_t ilo, ihi, i, k, klo, khi, co, base
    cdef floating* yo
    cdef const floating* zi
    if o1 > L:
        o1 = L
    ilo = floordiv(o0 + pad - (K - 1) * d + s - 1, s)
    ihi = floordiv(o1 - 1 + pad, s) + 1
    if ilo < 0:
        ilo = 0
    if ihi > M:
        ihi = M
    if ilo < ihi and w != NULL:             # the tiled kernel as the GEMM: one "tap", K*Cout columns
        if floating is float:
            phase_tiled_f32(isa, z, kc, &x[n, 0, 0], cin, M, cin, w, 1, 0, 1, ilo, ihi - ilo, kc,
                            False)
        else:
            phase_tiled_f64(isa, z, kc, &x[n, 0, 0], cin, M, cin, w, 1, 0, 1, ilo, ihi - ilo, kc,
                            False)
    elif ilo < ihi:
        gemm(c'T', c'N', <int> kc, <int> (ihi - ilo), <int> cin, &f[0, 0, 0], <int> cin,
             &x[n, ilo, 0], <int> cin, 0, z, <int> kc)
    memset(&y[n, o0, 0], 0, (o1 - o0) * cout * sizeof(floating))
    for i in range(ilo, ihi):
        base = i * s - pad                  # row i reaches outputs base + k*d
        klo = floordiv(o0 - base + d - 1, d)
        khi = floordiv(o1 - 1 - base, d) + 1
        if klo < 0:
            klo = 0
        if khi > K:
            khi = K
        if klo >= khi:
            continue
        zi = z + (i - ilo) * kc
        if d == 1:                          # a contiguous stretch of outputs
            yo = &y[n, base + klo, 0]
            for k in range((khi - klo) * cout):
                yo[k] = yo[k] + zi[klo * cout + k]
        else:
            for k in range(klo, khi):
                yo = &y[n, base + k * d, 0]
                for co in range(cout):
                    yo[co] = yo[co] + zi[k * cout + co]


def transpose_col2im(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] y,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t rows,
    int num_threads,
):
    """conv1d_transpose for few output channels and many taps or input channels: per block of
    ``rows*stride`` outputs, one GEMM of the input rows with all taps at once, then a gather.
    The GEMM is the tiled kernel where it runs (AVX2 or AVX-512, ``_cpu.tiled_available()``; the
    filter laid out once as its ``[Cin, K*Cout]`` panels), else BLAS.

    ``x`` ``[N, M, Cin]``, ``f`` ``[K, Cout, Cin]``, ``y`` ``[N, L, Cout]`` (overwritten). Blocks
    are fixed by the shape; rows shared by two blocks are multiplied in both (a fraction
    ``Keff / (rows*stride)`` of the work), so each thread owns its outputs. BLAS must run
    single-threaded inside (the caller arranges it).
    """
    cdef team crew
    cdef Py_ssize_t N = x.shape[0], K = f.shape[0], cout = f.shape[1], L = y.shape[1]
    cdef Py_ssize_t B = rows * stride
    cdef Py_ssize_t nblocks = (L + B - 1) // B
    cdef Py_ssize_t zrows = rows + ((K - 1) * dilation) // stride + 2
    cdef Py_ssize_t item
    if N == 0 or L == 0:
        return
    cdef Py_ssize_t per = (zrows * K * cout + 15) // 16 * 16     # each thread's on a cache line
    cdef floating* scratch = NULL
    cdef Py_ssize_t items = N * nblocks
    cdef Chunks ch = chunks(items, <double> N * x.shape[1] * K * x.shape[2] * cout, num_threads)
    cdef int isa = tiled_isa_index()      # read once: it sizes the filter layout
    cdef Py_ssize_t cin = f.shape[2], pw = tiled_panel(isa, floating is double)
    cdef Py_ssize_t base = 0, step = cin * pw
    cdef floating* w = NULL
    cdef const floating[:, :, :] fk = np.asarray(f).reshape(1, K * cout, cin)
    try:
        scratch = <floating*> _call_scratch(SCRATCH_SLOT, num_threads * per * sizeof(floating),
                                            f"{num_threads} x {per} scratch elements")
        if isa > 0 and x.shape[1] > 0 and cin < PACK_MAX_CIN:
            w = <floating*> _call_scratch(
                LAYOUT_SLOT, max(((K * cout + pw - 1) // pw) * pw * cin, 1) * sizeof(floating),
                "the filter layout")
            with nogil:
                _pack_panels(isa, fk, w, &base, &step, pw, num_threads)
        while next_chunk(&ch):
            team_begin(&crew, num_threads)
            with nogil, parallel(num_threads=num_threads):
                for item in prange(ch.start, ch.stop, schedule="dynamic"):
                    team_join(&crew, threadid())
                    _col2im_block(isa, x, f, w, y, scratch + threadid() * per, item // nblocks,
                                  item % nblocks, rows, stride, dilation, pad_before)
            team_end(&crew)
    finally:
        if w != NULL:
            scratch_done(LAYOUT_SLOT, w)
        if scratch != NULL:
            scratch_done(SCRATCH_SLOT, scratch)


cdef inline void _phase_edge_row(
    const floating[:, :, ::1] x, const floating* hr, floating[:, :, ::1] y, floating* a,
    Py_ssize_t T, Py_ssize_t c0, Py_ssize_t dc, Py_ssize_t n, Py_ssize_t q, Py_ssize_t r,
    Py_ssize_t s,
) noexcept nogil:
    """Output ``q*s + r`` where some of the phase's ``T`` taps read past the signal: one GEMV
    over the taps ``tlo .. thi - 1`` that land inside, zeros if none does."""
    cdef Py_ssize_t M = x.shape[1], cin = x.shape[2], cout = y.shape[2], kc = T * cin
    cdef Py_ssize_t t, tlo = 0, thi = T, first = q + c0, room = M - 1 - q - c0
    if first < 0:
        tlo = (-first + dc - 1) // dc
    if room < 0:
        thi = 0
    elif room // dc + 1 < T:
        thi = room // dc + 1
    if thi <= tlo:
        memset(&y[n, q * s + r, 0], 0, cout * sizeof(floating))
        return
    for t in range(tlo, thi):
        memcpy(a + t * cin, &x[n, first + t * dc, 0], cin * sizeof(floating))
    gemv_t(<int> ((thi - tlo) * cin), <int> cout, hr + tlo * cin, <int> kc, a + tlo * cin,
           &y[n, q * s + r, 0])


cdef void _phase_block(
    const floating[:, :, ::1] x, const floating* h, const Py_ssize_t* hoff, floating[:, :, ::1] y,
    floating* a, const Py_ssize_t* ntaps, const Py_ssize_t* cs, Py_ssize_t maxt, Py_ssize_t cmin,
    Py_ssize_t dc, Py_ssize_t n, Py_ssize_t b, Py_ssize_t rows, Py_ssize_t s,
) noexcept nogil:
    """Outputs ``q*s + r`` for ``q`` in ``b*rows .. (b+1)*rows - 1`` and every phase ``r`` of
    batch ``n``: per phase one GEMM over all its taps at once.

    Output ``q*s + r`` reads input rows ``q + c_t`` (``c_t = c_0 + t*dc``, from the tap table)
    through the phase's taps ``t``, so it is the row ``[x[q + c_0], x[q + c_1], ...]`` (``T*Cin``
    long, copied into ``a``) times the phase's stacked filter ``h_r`` (``[Cout, T*Cin]``): one
    GEMM with inner dimension ``T*Cin`` writes the phase's rows, leading dimension ``s*Cout``.
    Rows where some tap reaches past the signal (at most a few at each end) take one GEMV each
    over the taps that land inside, so no product with a padding zero is formed.
    """
    cdef Py_ssize_t M = x.shape[1], cin = x.shape[2]
    cdef Py_ssize_t cout = y.shape[2], L = y.shape[1]
    cdef Py_ssize_t r, q, t, T, kc, c0, qa, qb, lo, hi
    cdef const floating* hr
    for r in range(s):
        qa = b * rows
        qb = (L - r + s - 1) // s          # outputs q*s + r < L
        if qb > qa + rows:
            qb = qa + rows
        if qb <= qa:
            break
        T = ntaps[r]
        if T == 0:                          # no tap reaches this phase: zeros
            for q in range(qa, qb):
                memset(&y[n, q * s + r, 0], 0, cout * sizeof(floating))
            continue
        kc = T * cin
        hr = h + hoff[r]
        c0 = cs[r * maxt] + cmin
        # interior rows [lo, hi): every tap inside the signal, 0 <= q + c_0, q + c_{T-1} < M
        lo = min(max(qa, -c0), qb)
        hi = max(min(qb, M - c0 - (T - 1) * dc), lo)
        for q in range(qa, lo):
            _phase_edge_row(x, hr, y, a, T, c0, dc, n, q, r, s)
        for q in range(hi, qb):
            _phase_edge_row(x, hr, y, a, T, c0, dc, n, q, r, s)
        if hi <= lo:
            continue
        if T == 1:
            gemm(c'T', c'N', <int> cout, <int> (hi - lo), <int> cin, hr, <int> cin,
                 &x[n, lo + c0, 0], <int> cin, 0, &y[n, lo * s + r, 0], <int> (s * cout))
            continue
        for q in range(lo, hi):
            if dc == 1:
                memcpy(a + (q - lo) * kc, &x[n, q + c0, 0], kc * sizeof(floating))
            else:
                for t in range(T):
                    memcpy(a + (q - lo) * kc + t * cin, &x[n, q + c0 + t * dc, 0], cin * sizeof(floating))
        gemm(c'T', c'N', <int> cout, <int> (hi - lo), <int> kc, hr, <int> kc, a, <int> kc, 0,
             &y[n, lo * s + r, 0], <int> (s * cout))


def transpose_phase(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] y,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t rows,
    int num_threads,
):
    """conv1d_transpose for many channels: one GEMM per (block, polyphase phase), the phase's
    taps stacked along the inner dimension.

    ``x`` ``[N, M, Cin]``, ``f`` ``[K, Cout, Cin]``, ``y`` ``[N, L, Cout]`` (overwritten). The
    filter is first laid out phase by phase, ``h_r[co, t*Cin + ci] = f[k_t, co, ci]`` (one copy of
    the filter). Work items are (batch, block of ``rows`` outputs per phase); each thread copies
    the input rows its GEMM reads into a buffer of ``rows * T * Cin`` elements, so the inner
    dimension is ``T*Cin`` rather than ``Cin`` and each output row is written once, not once per
    tap. The blocks depend on the shape only, so the bits do not depend on the thread count.
    BLAS must run single-threaded inside (the caller arranges it).
    """
    cdef team crew
    cdef Py_ssize_t N = x.shape[0], M = x.shape[1], cin = x.shape[2]
    cdef Py_ssize_t K = f.shape[0], cout = f.shape[1], L = y.shape[1]
    cdef Py_ssize_t Q = (L + stride - 1) // stride
    cdef Py_ssize_t nblocks = (Q + rows - 1) // rows
    cdef Py_ssize_t item, items = N * nblocks
    cdef Py_ssize_t r, t, co, kc, off = 0
    cdef Chunks ch = chunks(items, <double> N * M * K * cin * cout, num_threads)
    cdef _TapTable table
    cdef floating* h = NULL
    cdef floating* scratch = NULL
    cdef Py_ssize_t* hoff = NULL
    if N == 0 or L == 0:
        return
    table = _TapTable(K, stride, dilation, pad_before, 1)
    try:
        hoff = <Py_ssize_t*> malloc(stride * sizeof(Py_ssize_t))
        if hoff == NULL:
            raise MemoryError("conv1dt: no memory for the phases' offsets")
        h = <floating*> _call_scratch(LAYOUT_SLOT, max(K * cout * cin, 1) * sizeof(floating),
                                      "the stacked filter")
        scratch = <floating*> _call_scratch(
            SCRATCH_SLOT, num_threads * rows * table.maxt * cin * sizeof(floating),
            f"{num_threads} x {rows * table.maxt * cin} scratch elements")
        with nogil:
            for r in range(stride):
                hoff[r] = off
                kc = table.counts[r] * cin
                for co in range(cout):
                    for t in range(table.counts[r]):
                        memcpy(h + off + co * kc + t * cin, &f[table.ks[r * table.maxt + t], co, 0],
                               cin * sizeof(floating))
                off = off + cout * kc
        while next_chunk(&ch):
            team_begin(&crew, num_threads)
            with nogil, parallel(num_threads=num_threads):
                for item in prange(ch.start, ch.stop, schedule="dynamic"):
                    team_join(&crew, threadid())
                    _phase_block(x, h, hoff, y, scratch + threadid() * rows * table.maxt * cin,
                                 table.counts, table.cs, table.maxt, table.cmin, table.dc,
                                 item // nblocks, item % nblocks, rows, stride)
            team_end(&crew)
    finally:
        free(hoff)
        if h != NULL:
            scratch_done(LAYOUT_SLOT, h)
        if scratch != NULL:
            scratch_done(SCRATCH_SLOT, scratch)


cdef inline void _pack_item(int isa, const floating[:, :, :] f, floating* w, const Py_ssize_t* base,
                            const Py_ssize_t* step, Py_ssize_t pw, Py_ssize_t k, Py_ssize_t p,
                            Py_ssize_t ci0) noexcept nogil:
    """Input channels ``ci0 .. ci0 + 63`` of tap ``k``'s panel ``p`` (see :func:`_pack_panels`)."""
    cdef Py_ssize_t cout = f.shape[1], cin = f.shape[2], ld = f.strides[1] // sizeof(floating)
    cdef Py_ssize_t ci1 = min(ci0 + 64, cin)
    if floating is float:
        pack_f32(isa, w + base[k] + p * step[k], &f[k, 0, 0], ld, cout, p * pw, ci0, ci1)
    else:
        pack_f64(isa, w + base[k] + p * step[k], &f[k, 0, 0], ld, cout, p * pw, ci0, ci1)


cdef void _pack_panels(int isa, const floating[:, :, :] f, floating* w, const Py_ssize_t* base,
                       const Py_ssize_t* step, Py_ssize_t pw, int num_threads) noexcept nogil:
    """The filter ``f`` ``[K, C, Cin]`` in the tiled kernel's layout: tap ``k``'s panel ``p`` at
    ``w + base[k] + p*step[k]``, ``[Cin][pw]``, holding ``f[k, p*pw + j, ci]`` (zero past ``C``).
    In parallel, per (tap, panel, block of 64 input channels): the 64 destination rows being
    filled stay in L1. By the instruction set's layout (AVX-512 transposes, src/tiled_avx512.c;
    a scalar transposition for AVX2): only where the tiled kernel runs, and for rows of ``f``
    (``Cin``, or longer for a group's slice) under ``PACK_MAX_CIN``. A layout of fewer than
    ``PACK_SERIAL_ELEMS`` elements is written by the calling thread alone (a region of one
    thread): a team costs more than it saves there, and its barrier is one more that a thread
    the OS takes away (another busy process) holds up. The items go out in guided chunks: runs
    of neighbouring items per thread, shrinking towards the end (handed out one at a time, two
    threads took turns on neighbouring blocks, and laying out 10.8 MiB took 3.2 ms on two
    threads, 2.1 on one; in runs, 1.2)."""
    cdef team crew
    cdef Py_ssize_t K = f.shape[0], cout = f.shape[1], cin = f.shape[2]
    cdef Py_ssize_t panels = (cout + pw - 1) // pw, cblocks = (cin + 63) // 64
    cdef Py_ssize_t item
    if K * panels * pw * cin < PACK_SERIAL_ELEMS:
        num_threads = 1
    team_begin(&crew, num_threads)
    with parallel(num_threads=num_threads):
        for item in prange(K * panels * cblocks, schedule="guided"):
            team_join(&crew, threadid())
            _pack_item(isa, f, w, base, step, pw, item // (panels * cblocks),
                       (item // cblocks) % panels, (item % cblocks) * 64)
    team_end(&crew)


cdef void _pack_phase(int isa, const floating[:, :, :] f, floating* w, const Py_ssize_t* base,
                      const Py_ssize_t* step, Py_ssize_t pw, const Py_ssize_t* ks,
                      Py_ssize_t count) noexcept nogil:
    """The ``count`` taps ``ks[0 .. count-1]`` of one phase in the layout of :func:`_pack_panels`,
    on the calling thread (``w + base[k]`` is where tap ``k``'s first panel goes)."""
    cdef Py_ssize_t panels = (f.shape[1] + pw - 1) // pw, t, p, ci0
    for t in range(count):
        for p in range(panels):
            for ci0 in range(0, f.shape[2], 64):
                _pack_item(isa, f, w, base, step, pw, ks[t], p, ci0)


cdef void _tiled_block(
    int isa, const floating[:, :, :] x, const floating* w, floating[:, :, :] y,
    const Py_ssize_t* ntaps, const Py_ssize_t* cs, Py_ssize_t maxt, Py_ssize_t cmin, Py_ssize_t dc,
    Py_ssize_t r, Py_ssize_t n, Py_ssize_t b, Py_ssize_t rows, Py_ssize_t s, bint stream,
) noexcept nogil:
    """Outputs ``q*s + r`` of batch ``n`` for ``q`` in ``b*rows .. (b+1)*rows - 1``, through the
    register-tiled kernel (src/tiled_impl.h), with ``w`` phase ``r``'s filter in its layout
    (``stream``: stored past the caches where the kernel can). Rows of ``x`` and ``y`` may be
    longer than their channels (a group's slice of the channels)."""
    cdef Py_ssize_t M = x.shape[1], cin = x.shape[2], cout = y.shape[2], L = y.shape[1]
    cdef Py_ssize_t ldx = x.strides[1] // sizeof(floating)
    cdef Py_ssize_t ldy = s * (y.strides[1] // sizeof(floating))
    cdef Py_ssize_t q, qa = b * rows, qb = (L - r + s - 1) // s     # outputs q*s + r < L
    if qb > qa + rows:
        qb = qa + rows
    if qb <= qa:
        return
    if ntaps[r] == 0:                       # no tap reaches this phase: zeros
        for q in range(qa, qb):
            memset(&y[n, q * s + r, 0], 0, cout * sizeof(floating))
    elif floating is float:
        phase_tiled_f32(isa, &y[n, qa * s + r, 0], ldy, &x[n, 0, 0], ldx, M, cin,
                        w, ntaps[r], cs[r * maxt] + cmin, dc, qa, qb - qa, cout, stream)
    else:
        phase_tiled_f64(isa, &y[n, qa * s + r, 0], ldy, &x[n, 0, 0], ldx, M, cin,
                        w, ntaps[r], cs[r * maxt] + cmin, dc, qa, qb - qa, cout, stream)


def transpose_tiled(
    const floating[:, :, :] x,
    const floating[:, :, :] f,
    floating[:, :, :] y,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t rows,
    int num_threads,
    bint stream=False,
):
    """conv1d_transpose for many channels by conv1dt's own AVX-512 micro-kernel (only where
    ``_cpu.tiled_available()``).

    ``x`` ``[N, M, Cin]`` (at least one row), ``f`` ``[K, Cout, Cin]``, ``y`` ``[N, L, Cout]``
    (overwritten); each may be a slice of the channels of a longer array (one group's, read and
    written in place). The filter is laid out phase by phase in panels of 4 vectors of output
    channels, ``w_r[panel, t, ci, j] = f[k_t, panel*pw + j, ci]``: the whole filter first, or
    one phase at a time in each thread (below). Work items are (batch, block of ``rows`` outputs
    per phase), all phases of a block in one item so that a thread writes whole stretches of the
    output; with more than 1 MiB of filter, (phase, batch, block), phase outermost, so that a
    thread's consecutive items share one phase's filter in cache, and with at least two phases
    per thread each thread lays out the phase of its items itself, into a buffer of its own. The
    items are fixed by the shape, each owned by one thread; every output is one multiply-add
    chain in a fixed order, so the bits do not depend on the thread count. With ``stream`` (an
    output far larger than the caches, not read back by conv1dt), the outputs that are stored
    once (each phase's taps and input channels in one chunk of the kernel's) go past the
    caches.
    """
    cdef team crew
    cdef Py_ssize_t N = x.shape[0], M = x.shape[1], cin = x.shape[2]
    cdef Py_ssize_t K = f.shape[0], cout = f.shape[1], L = y.shape[1]
    cdef Py_ssize_t Q = (L + stride - 1) // stride
    cdef Py_ssize_t nblocks = (Q + rows - 1) // rows
    cdef Py_ssize_t item, items, phase
    # phase-major work items when the filter is larger than the L2 cache can keep for a thread
    cdef bint major = K * cin * cout * sizeof(floating) > (1 << 20)
    items = (stride if major else 1) * N * nblocks
    cdef Py_ssize_t r, t, k, off = 0
    cdef int isa = tiled_isa_index()      # read once: it sizes the filter layout
    cdef Py_ssize_t pw = tiled_panel(isa, floating is double)   # channels per panel
    cdef Py_ssize_t panels = (cout + pw - 1) // pw
    cdef Chunks ch = chunks(items, <double> N * M * K * cin * cout, num_threads)
    cdef _TapTable table
    cdef floating* w = NULL
    cdef Py_ssize_t* woff = NULL
    cdef Py_ssize_t* slot = NULL
    cdef Py_ssize_t* tap = NULL
    cdef Py_ssize_t* cur = NULL
    cdef floating* wt
    if N == 0 or L == 0:
        return
    if (x.strides[2] != sizeof(floating) or f.strides[2] != sizeof(floating)
            or y.strides[2] != sizeof(floating)):
        raise ValueError("conv1dt: the tiled kernel needs channels contiguous in x, f and y")
    if M == 0 or isa == 0 or f.strides[1] // sizeof(floating) >= PACK_MAX_CIN:
        raise ValueError("conv1dt: the tiled kernel needs an input row, an AVX2 CPU and "
                         "filter rows under 2**27 elements")
    table = _TapTable(K, stride, dilation, pad_before, 1)
    # The filter layout: all phases, laid out by all threads before the items run; or, with
    # phase-major items and at least two phases per thread, one phase per thread, laid out by the
    # thread when its items reach a new phase, so that it stays in the thread's L2 cache (a phase
    # whose items two threads share is laid out by both: at most one phase per thread and chunk).
    cdef bint local = major and (stride >= 2 * num_threads or num_threads == 1)
    cdef Py_ssize_t per = table.maxt * cin * panels * pw
    per = (per + 63) // 64 * 64                     # each thread's copy starts on a cache line
    cdef Py_ssize_t size = num_threads * per if local else K * panels * pw * cin
    try:
        woff = <Py_ssize_t*> malloc(stride * sizeof(Py_ssize_t))
        slot = <Py_ssize_t*> malloc(K * sizeof(Py_ssize_t))
        tap = <Py_ssize_t*> malloc(K * sizeof(Py_ssize_t))
        cur = <Py_ssize_t*> malloc(num_threads * sizeof(Py_ssize_t))
        if woff == NULL or slot == NULL or tap == NULL or cur == NULL:
            raise MemoryError("conv1dt: no memory for the filter layout's tables")
        w = <floating*> _call_scratch(LAYOUT_SLOT, max(size, 1) * sizeof(floating),
                                      f"the {size}-element filter layout")
        for r in range(stride):
            woff[r] = 0 if local else off
            for t in range(table.counts[r]):
                slot[table.ks[r * table.maxt + t]] = r
                tap[table.ks[r * table.maxt + t]] = t
            off = off + table.counts[r] * cin * panels * pw
        for k in range(K):   # tap k's panel p starts at slot[k] + p * tap[k]
            r = slot[k]
            slot[k] = woff[r] + tap[k] * cin * pw
            tap[k] = table.counts[r] * cin * pw
        for t in range(num_threads):
            cur[t] = -1                             # the phase in each thread's copy
        if not local:
            with nogil:
                _pack_panels(isa, f, w, slot, tap, pw, num_threads)
        while next_chunk(&ch):
            team_begin(&crew, num_threads)
            with nogil, parallel(num_threads=num_threads):
                for item in prange(ch.start, ch.stop, schedule="dynamic"):
                    team_join(&crew, threadid())
                    if major:
                        phase = item // (N * nblocks)
                        wt = w + woff[phase]
                        if local:
                            wt = w + threadid() * per
                            if cur[threadid()] != phase:
                                _pack_phase(isa, f, wt, slot, tap, pw,
                                            table.ks + phase * table.maxt, table.counts[phase])
                                cur[threadid()] = phase
                        _tiled_block(isa, x, wt, y, table.counts, table.cs, table.maxt, table.cmin,
                                     table.dc, phase, item // nblocks % N, item % nblocks, rows,
                                     stride, stream)
                    else:
                        for phase in range(stride):
                            _tiled_block(isa, x, w + woff[phase], y, table.counts, table.cs,
                                         table.maxt, table.cmin, table.dc, phase,
                                         item // nblocks % N, item % nblocks, rows, stride,
                                         stream)
            team_end(&crew)
    finally:
        free(woff)
        free(slot)
        free(tap)
        free(cur)
        if w != NULL:
            scratch_done(LAYOUT_SLOT, w)


# --- conv1d_transpose with groups of few channels ----------------------------------------------

# Wide rows per work item of the grouped transpose kernel, and the input channels a group from
# which it sums each tap's channels by the dot GEMM.
cdef enum:
    WIDE_BLOCK = 256
    DOT_MIN_CNG = 20
    SPREAD_AHEAD = 8                # input rows spread before the first is read, at most ...
    SPREAD_AHEAD_BYTES = 1 << 15    # ... within this much of a thread's scratch

GROUPED_DOT_MIN_CIN = DOT_MIN_CNG


cdef void _transpose_group_block(const floating[:, :, ::1] x, const floating[:, :, ::1] f,
                                 floating[:, :, ::1] y, Py_ssize_t n, Py_ssize_t o0, Py_ssize_t o1,
                                 Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad,
                                 Py_ssize_t groups) noexcept nogil:
    """Wide rows ``o0 .. o1 - 1`` of batch ``n``.

    ``y[n, o, j*Cwg + q] = sum over k, then c, of x[n, i, j*Cng + c] * f[k, q, j*Cng + c]`` over the
    links ``o = i*s + k*d - pad``. For tap ``k`` the narrow rows whose ``o`` falls in the block are
    ``first_row(off - o0, s) <= i < end_row(off, s, o1)``; each output element adds its taps in
    increasing ``k``, each tap's channels summed first: for groups of ``DOT_MIN_CNG`` channels
    and more, by the dot GEMM (``src/skinny_impl.h``) per tap and group, its rows ``s*Cw`` apart
    in the output (the channel sums then in vectors, their lanes added in a fixed order).
    """
    cdef Py_ssize_t M = x.shape[1], cn = x.shape[2], K = f.shape[0], cwg = f.shape[1]
    cdef Py_ssize_t cw = y.shape[2], cng = cn // groups
    cdef Py_ssize_t k, off, lo, hi, i, j, q, c
    cdef floating acc
    cdef floating* yrow
    cdef const floating* xrow
    cdef const floating* frow
    memset(&y[n, o0, 0], 0, (o1 - o0) * cw * sizeof(floating))
    for k in range(K):
        off = k * d - pad
        lo = first_row(off - o0, s)
        hi = min(M, end_row(off, s, o1))
        if cng >= DOT_MIN_CNG and lo < hi:
            for j in range(groups):
                # y[n, i*s + off, j*Cwg + q] += sum_c x[n, i, j*Cng + c] * f[k, q, j*Cng + c]
                if floating is float:
                    dot_f32(&y[n, lo * s + off, j * cwg], s * cw, &x[n, lo, j * cng], cn,
                            &f[k, 0, j * cng], cn, hi - lo, cwg, cng, SKINNY_ADD)
                else:
                    dot_f64(&y[n, lo * s + off, j * cwg], s * cw, &x[n, lo, j * cng], cn,
                            &f[k, 0, j * cng], cn, hi - lo, cwg, cng, SKINNY_ADD)
            continue
        for i in range(lo, hi):
            yrow = &y[n, i * s + off, 0]
            xrow = &x[n, i, 0]
            if cwg == 1 and cng == 1:          # depthwise: one product per channel
                frow = &f[k, 0, 0]
                for j in range(groups):
                    yrow[j] += xrow[j] * frow[j]
                continue
            for j in range(groups):
                for q in range(cwg):
                    frow = &f[k, q, j * cng]
                    acc = 0
                    for c in range(cng):
                        acc += xrow[j * cng + c] * frow[c]
                    yrow[j * cwg + q] += acc


cdef void _transpose_group_spread(const floating[:, :, ::1] x, const floating* w,
                                  floating[:, :, ::1] y, Py_ssize_t n, Py_ssize_t o0,
                                  Py_ssize_t o1, Py_ssize_t K, Py_ssize_t s, Py_ssize_t d,
                                  Py_ssize_t pad, Py_ssize_t groups, floating* xs,
                                  Py_ssize_t per, Py_ssize_t ahead, Py_ssize_t ka) noexcept nogil:
    """Wide rows ``o0 .. o1 - 1`` of batch ``n``, for groups of fewer than ``DOT_MIN_CNG`` input
    channels (not one each way): each input row ``i`` spread to the output's channels,
    ``xs[c*Cw + j*Cwg + q] = x[n, i, j*Cng + c]``, then its taps' output rows added whole by
    ``grouped`` (``src/skinny_impl.h``) from the filter laid out the same way, ``w[k - ka, c,
    j*Cwg + q] = f[k, q, j*Cng + c]`` from tap ``ka`` (the first that reaches an output from any
    input row; the caller lays out only those). The rows run from the last down, so each output
    adds its taps in increasing ``k``, each tap's channels summed first. ``ahead`` rows are
    spread (``per`` elements apart in ``xs``) before the first of them is read: a vector load
    of values a few stores old waits for those stores to leave the store queue, one small row
    at a time.
    """
    cdef Py_ssize_t M = x.shape[1], cn = x.shape[2], cw = y.shape[2]
    cdef Py_ssize_t cng = cn // groups, cwg = cw // groups, row = cng * cw
    cdef Py_ssize_t i, ii, b, nb, ilo, ihi, base, klo, khi
    memset(&y[n, o0, 0], 0, (o1 - o0) * cw * sizeof(floating))
    ilo = max(0, -floordiv(-(o0 + pad - (K - 1) * d), s))
    ihi = min(M - 1, floordiv(o1 - 1 + pad, s))
    i = ihi
    while i >= ilo:
        nb = min(ahead, i - ilo + 1)
        if i - nb >= ilo:
            # the next rows down, asked for while these are spread and summed: the spread reads
            # a row a channel at a time, a stride the prefetchers do not follow
            b = min(nb, i - nb - ilo + 1)
            prefetch_lines(&x[n, i - nb - b + 1, 0], b * cn * sizeof(floating))
        for b in range(nb):
            spread_row(xs + b * per, cw, &x[n, i - b, 0], groups, cng, cwg)
        for b in range(nb):
            ii = i - b
            base = ii * s - pad                  # tap k reaches output base + k*d
            klo = max(0, -floordiv(-(o0 - base), d))
            khi = min(K - 1, floordiv(o1 - 1 - base, d))
            if klo > khi:
                continue
            if floating is float:
                grouped_f32(&y[n, base + klo * d, 0], d * cw, xs + b * per,
                            w + (klo - ka) * row, row, khi - klo + 1, cw, cw, cng)
            else:
                grouped_f64(&y[n, base + klo * d, 0], d * cw, xs + b * per,
                            w + (klo - ka) * row, row, khi - klo + 1, cw, cw, cng)
        i -= nb


def transpose_grouped(
    const floating[:, :, ::1] x,
    const floating[:, :, ::1] f,
    floating[:, :, ::1] y,
    Py_ssize_t stride,
    Py_ssize_t dilation,
    Py_ssize_t pad_before,
    Py_ssize_t groups,
    int num_threads,
    Py_ssize_t rows=0,
):
    """conv1d_transpose with groups of few channels (depthwise and the like), all groups at once.

    ``x`` ``[N, M, Cn]``, ``f`` ``[K, Cw/G, Cn]``, ``y`` ``[N, L, Cw]`` (overwritten). Work items
    are (batch, block of ``rows`` wide rows, ``WIDE_BLOCK`` when 0), each owned by one thread,
    which adds into its own rows only; each output sums its taps and channels in one order
    whatever the block it falls in, so the bits depend neither on the blocks nor on the thread
    count. Groups of fewer than ``DOT_MIN_CNG`` input channels (not one each way) go through
    the filter laid out for whole output rows (``_transpose_group_spread``); the others through
    ``_transpose_group_block``.
    """
    cdef team crew
    cdef Py_ssize_t N = y.shape[0], L = y.shape[1], K = f.shape[0], cw = y.shape[2]
    cdef Py_ssize_t cn = x.shape[2], cwg = f.shape[1], cng = cn // groups
    cdef Py_ssize_t block = rows if rows > 0 else WIDE_BLOCK
    cdef Py_ssize_t nblocks = (L + block - 1) // block
    cdef Py_ssize_t item, o0, k, j, c, q, per, ahead
    cdef floating* w = NULL
    cdef floating* xs = NULL
    if N == 0 or L == 0 or cw == 0:
        return
    cdef Py_ssize_t items = N * nblocks
    cdef Chunks ch = chunks(items, <double> N * x.shape[1] * K * cwg * cn, num_threads)
    cdef bint spread = cng < DOT_MIN_CNG and cng * cwg > 1 and x.shape[1] > 0
    if not spread:
        while next_chunk(&ch):
            team_begin(&crew, num_threads)
            for item in prange(ch.start, ch.stop, nogil=True, schedule="dynamic",
                               num_threads=num_threads):
                team_join(&crew, threadid())
                o0 = (item % nblocks) * block
                _transpose_group_block(x, f, y, item // nblocks, o0, min(o0 + block, L),
                                       stride, dilation, pad_before, groups)
            team_end(&crew)
        return
    # only the taps ka .. kb that reach an output from some input row are laid out (a few frames
    # under a long filter reach few of them; none at all: the output is zeros)
    cdef Py_ssize_t M = x.shape[1], ka = K, kb = -1, off
    for k in range(K):
        off = k * dilation - pad_before
        if first_row(off, stride) < min(M, end_row(off, stride, L)):
            ka, kb = min(ka, k), k
    if kb < ka:
        memset(&y[0, 0, 0], 0, N * L * cw * sizeof(floating))
        return
    per = (cng * cw + 15) // 16 * 16             # each row starts on a cache line
    ahead = max(1, min(SPREAD_AHEAD, SPREAD_AHEAD_BYTES // (per * sizeof(floating))))
    try:
        w = <floating*> _call_scratch(LAYOUT_SLOT, (kb - ka + 1) * cng * cw * sizeof(floating),
                                      f"the {(kb - ka + 1) * cng * cw}-element filter layout")
        xs = <floating*> _call_scratch(SCRATCH_SLOT,
                                       num_threads * ahead * per * sizeof(floating),
                                       f"{num_threads} x {ahead * per} scratch elements")
        with nogil:
            for k in range(ka, kb + 1):
                for c in range(cng):
                    for j in range(groups):
                        for q in range(cwg):
                            w[((k - ka) * cng + c) * cw + j * cwg + q] = f[k, q, j * cng + c]
        while next_chunk(&ch):
            team_begin(&crew, num_threads)
            for item in prange(ch.start, ch.stop, nogil=True, schedule="dynamic",
                               num_threads=num_threads):
                team_join(&crew, threadid())
                o0 = (item % nblocks) * block
                _transpose_group_spread(x, w, y, item // nblocks, o0, min(o0 + block, L), K,
                                        stride, dilation, pad_before, groups,
                                        xs + threadid() * ahead * per, per, ahead, ka)
            team_end(&crew)
    finally:
        if w != NULL:
            scratch_done(LAYOUT_SLOT, w)
        if xs != NULL:
            scratch_done(SCRATCH_SLOT, xs)


def _use_blas64(size_t sgemm64, size_t dgemm64, size_t sgemv64, size_t dgemv64):
    """Have this module's kernels call the ILP64 BLAS at these addresses (all zero: SciPy's);
    conv1dt/_runtime/blas_pick.py, once, at import."""
    use_blas64(sgemm64, dgemm64, sgemv64, dgemv64)
