/* The register-tiled kernel for many channels: conv1dt's own GEMM micro-kernel, for one
 * instruction set.
 *
 * Included by tiled_avx2.c and tiled_avx512.c, compiled with their own flags (setup.py). Before
 * including it, such a file defines, for each element type SUF (f32 and f64): the vector type
 * vec_SUF and its lanes VL_SUF; the mask type mask_SUF; the static inline operations vzero_SUF,
 * vload_SUF, vmload_SUF (lanes off in the mask read as zero), vset1_SUF, vfma_SUF (a*b + c, one
 * rounding), vstore_SUF, vmstore_SUF, vstream_SUF (a store past the caches, to an address
 * aligned to the vector) with vfence_SUF (after such stores) and vmask_SUF(lanes) (the first
 * `lanes` lanes on); with HAVE_VECTOR_PACK, transpose_block_SUF (a block of VL x VL elements
 * transposed in registers) for the template's filter layout pack_transpose_SUF (else its scalar
 * pack_plain_SUF is used); and PANEL_VECTORS, the vectors of a panel of output channels (4 for
 * AVX-512, 2 for AVX2's 16 registers); and CONV1DT_TILED_OPS, the name of its conv1dt_tiled_ops.
 * The file includes itself once per element type for the typed part.
 *
 * One polyphase phase of conv1d_transpose is, for its output rows q (outputs q*s + r),
 *
 *     y[q, co] = sum over the phase's taps t, then ci, of x[q + c0 + t*dc, ci] * w[t, ci, co]
 *
 * with w the phase's filter laid out [T][Cin][Cout] (channels out contiguous; stored in panels of
 * PANEL_VECTORS vectors). A tile of R output rows by NV vectors of output channels is accumulated
 * in R*NV vector registers: per (t, ci) it loads NV filter vectors once and broadcasts one input
 * value per row, so each load serves R or NV multiply-adds, and the input rows are read where
 * they lie (no packing, no im2col, no repacking of the same rows once per tap as a per-tap BLAS
 * call does). Each output element is one fused multiply-add chain, taps then input channels in
 * increasing order: its bits depend on neither the tiling, the instruction set nor the thread
 * count.
 *
 * Rows where some tap falls outside the signal are computed one at a time over the taps that land
 * inside (no product with a padding zero). Channels beyond a multiple of the vector width use
 * masked loads and stores.
 */
#ifndef CONV1DT_TILED_T
/* ---- the type-independent part ----------------------------------------------------------- */
#include <stddef.h>

#include "kernels.h"

#if defined(__clang__)
#define CONV1DT_UNROLL _Pragma("unroll")
#else
#define CONV1DT_UNROLL _Pragma("GCC unroll 16")
#endif
#define CONV1DT_ALWAYS_INLINE inline __attribute__((always_inline))

/* Input channels per chunk: 128 x 4 vectors of filter (32 KiB) stay in a 48 KiB L1. */
#define CONV1DT_KC 128

/* Rows per tile: the main tile of a wide panel (PANEL_VECTORS vectors) and of a narrow one (half
 * as many), and the rows left over, tiled by the largest tile that fits. */
#define WIDE_ROWS 6
#define NARROW_ROWS 12

static inline int leftover_rows(int wide, ptrdiff_t rest)
{
    if (!wide && rest >= 8)
        return 8;
    return rest >= 4 ? 4 : rest >= 2 ? 2 : 1;
}

#define CONV1DT_CAT_(a, b) a##_##b
#define CONV1DT_CAT(a, b) CONV1DT_CAT_(a, b)
#define NAME(name) CONV1DT_CAT(name, SUF)

#define CONV1DT_TILED_T float
#define T float
#define SUF f32
#include "tiled_impl.h"
#undef CONV1DT_TILED_T
#undef T
#undef SUF

#define CONV1DT_TILED_T double
#define T double
#define SUF f64
#include "tiled_impl.h"

const struct conv1dt_tiled_ops CONV1DT_TILED_OPS = {
    .panel_f32 = PANEL_VECTORS * VL_f32,
    .panel_f64 = PANEL_VECTORS * VL_f64,
    .phase_f32 = phase_f32,
    .phase_f64 = phase_f64,
#if defined(HAVE_VECTOR_PACK)
    .pack_f32 = pack_transpose_f32,
    .pack_f64 = pack_transpose_f64,
#else
    .pack_f32 = pack_plain_f32,
    .pack_f64 = pack_plain_f64,
#endif
};

#else
/* ---- the typed part: T is float or double --------------------------------------------------- */
#define V NAME(vec)
#define MASK NAME(mask)
#define VL NAME(VL)

/* A tile's operands: rows from y (row stride ldy); rows read x at xq + t*xstep (+ r*ldx for row
 * r), taps tlo .. thi-1 (tap t's filter at w + t*wstep, rows ldw apart) and input channels
 * ci0 .. ci1-1, adding to what y holds when `more` (the sum continues in the same order). */
struct NAME(tile_args) {
    T *y;
    ptrdiff_t ldy;
    const T *xq;
    ptrdiff_t xstep, ldx;
    const T *w;
    ptrdiff_t wstep, ldw, tlo, thi, ci0, ci1;
    int more, stream;        /* add to y (a chunk after the first); store past the caches */
};

/* The tile of R rows by NV vectors; with a mask (mask[v] selects vector v's lanes) the loads and
 * stores are masked. Called with constants, fully unrolled, so that the accumulators live in
 * registers. */
static CONV1DT_ALWAYS_INLINE void NAME(tile)(const struct NAME(tile_args) *a, int R, int NV,
                                            const MASK *mask)
{
    T *restrict y = a->y;
    const T *restrict xq = a->xq;
    const T *restrict w = a->w;
    const ptrdiff_t ldy = a->ldy, ldx = a->ldx, ldw = a->ldw;
    V acc[NARROW_ROWS][PANEL_VECTORS];
    CONV1DT_UNROLL
    for (int r = 0; r < R; ++r)
        CONV1DT_UNROLL
        for (int v = 0; v < NV; ++v)
            acc[r][v] = !a->more ? NAME(vzero)()
                        : mask ? NAME(vmload)(mask[v], y + r * ldy + v * VL)
                               : NAME(vload)(y + r * ldy + v * VL);
    for (ptrdiff_t t = a->tlo; t < a->thi; ++t) {
        const T *restrict xt = xq + t * a->xstep;
        const T *restrict wt = w + t * a->wstep;
        for (ptrdiff_t ci = a->ci0; ci < a->ci1; ++ci) {
            V wv[PANEL_VECTORS];
            CONV1DT_UNROLL
            for (int v = 0; v < NV; ++v)
                wv[v] = mask ? NAME(vmload)(mask[v], wt + ci * ldw + v * VL)
                             : NAME(vload)(wt + ci * ldw + v * VL);
            CONV1DT_UNROLL
            for (int r = 0; r < R; ++r) {
                const V b = NAME(vset1)(xt[r * ldx + ci]);
                CONV1DT_UNROLL
                for (int v = 0; v < NV; ++v)
                    acc[r][v] = NAME(vfma)(b, wv[v], acc[r][v]);
            }
        }
    }
    CONV1DT_UNROLL
    for (int r = 0; r < R; ++r)
        CONV1DT_UNROLL
        for (int v = 0; v < NV; ++v) {
            if (mask)
                NAME(vmstore)(y + r * ldy + v * VL, mask[v], acc[r][v]);
            else if (a->stream)
                NAME(vstream)(y + r * ldy + v * VL, acc[r][v]);
            else
                NAME(vstore)(y + r * ldy + v * VL, acc[r][v]);
        }
}

/* The tiles, by name: a wide panel has PANEL_VECTORS vectors of output channels, a narrow one
 * (the last, when no more than half a panel of channels remains) half as many. Tiles of whole
 * panels load and store without masks (the masks cost a load each); the masked ones take the
 * mask as an argument, so that one cannot be called, or listed, in place of the other. */
typedef void (*NAME(tile_fn))(const struct NAME(tile_args) *a);
typedef void (*NAME(masked_tile_fn))(const struct NAME(tile_args) *a, const MASK *mask);

struct NAME(tiles) {
    NAME(tile_fn) wide_6, wide_4, wide_2, wide_1;
    NAME(masked_tile_fn) wide_6_masked, wide_4_masked, wide_2_masked, wide_1_masked;
    NAME(tile_fn) narrow_12;
    NAME(masked_tile_fn) narrow_12_masked, narrow_8_masked, narrow_4_masked, narrow_2_masked,
        narrow_1_masked;
};

#define WIDE PANEL_VECTORS
#define NARROW (PANEL_VECTORS / 2)
static void NAME(wide_6)(const struct NAME(tile_args) *a) { NAME(tile)(a, 6, WIDE, NULL); }
static void NAME(wide_4)(const struct NAME(tile_args) *a) { NAME(tile)(a, 4, WIDE, NULL); }
static void NAME(wide_2)(const struct NAME(tile_args) *a) { NAME(tile)(a, 2, WIDE, NULL); }
static void NAME(wide_1)(const struct NAME(tile_args) *a) { NAME(tile)(a, 1, WIDE, NULL); }
static void NAME(narrow_12)(const struct NAME(tile_args) *a) { NAME(tile)(a, 12, NARROW, NULL); }
static void NAME(wide_6_masked)(const struct NAME(tile_args) *a, const MASK *mask)
{
    NAME(tile)(a, 6, WIDE, mask);
}
static void NAME(wide_4_masked)(const struct NAME(tile_args) *a, const MASK *mask)
{
    NAME(tile)(a, 4, WIDE, mask);
}
static void NAME(wide_2_masked)(const struct NAME(tile_args) *a, const MASK *mask)
{
    NAME(tile)(a, 2, WIDE, mask);
}
static void NAME(wide_1_masked)(const struct NAME(tile_args) *a, const MASK *mask)
{
    NAME(tile)(a, 1, WIDE, mask);
}
static void NAME(narrow_12_masked)(const struct NAME(tile_args) *a, const MASK *mask)
{
    NAME(tile)(a, 12, NARROW, mask);
}
static void NAME(narrow_8_masked)(const struct NAME(tile_args) *a, const MASK *mask)
{
    NAME(tile)(a, 8, NARROW, mask);
}
static void NAME(narrow_4_masked)(const struct NAME(tile_args) *a, const MASK *mask)
{
    NAME(tile)(a, 4, NARROW, mask);
}
static void NAME(narrow_2_masked)(const struct NAME(tile_args) *a, const MASK *mask)
{
    NAME(tile)(a, 2, NARROW, mask);
}
static void NAME(narrow_1_masked)(const struct NAME(tile_args) *a, const MASK *mask)
{
    NAME(tile)(a, 1, NARROW, mask);
}
#undef WIDE
#undef NARROW

static const struct NAME(tiles) NAME(the_tiles) = {
    .wide_6 = NAME(wide_6), .wide_4 = NAME(wide_4), .wide_2 = NAME(wide_2),
    .wide_1 = NAME(wide_1),
    .wide_6_masked = NAME(wide_6_masked), .wide_4_masked = NAME(wide_4_masked),
    .wide_2_masked = NAME(wide_2_masked), .wide_1_masked = NAME(wide_1_masked),
    .narrow_12 = NAME(narrow_12),
    .narrow_12_masked = NAME(narrow_12_masked), .narrow_8_masked = NAME(narrow_8_masked),
    .narrow_4_masked = NAME(narrow_4_masked), .narrow_2_masked = NAME(narrow_2_masked),
    .narrow_1_masked = NAME(narrow_1_masked),
};

/* The tile of `rows` rows (a main or a leftover size) for a wide or narrow panel; a panel of
 * whole vectors (`full`) takes the unmasked tiles where there are any (a narrow panel's leftover
 * rows always take the masked ones, whose mask is then all lanes). */
static CONV1DT_ALWAYS_INLINE void NAME(run_tile)(const struct NAME(tiles) *tl, int wide, int full,
                                                int rows, const struct NAME(tile_args) *a,
                                                const MASK *mask)
{
    if (wide && full) {
        switch (rows) {
        case 6: tl->wide_6(a); return;
        case 4: tl->wide_4(a); return;
        case 2: tl->wide_2(a); return;
        default: tl->wide_1(a); return;
        }
    }
    if (wide) {
        switch (rows) {
        case 6: tl->wide_6_masked(a, mask); return;
        case 4: tl->wide_4_masked(a, mask); return;
        case 2: tl->wide_2_masked(a, mask); return;
        default: tl->wide_1_masked(a, mask); return;
        }
    }
    if (full && rows == NARROW_ROWS) {
        tl->narrow_12(a);
        return;
    }
    switch (rows) {
    case 12: tl->narrow_12_masked(a, mask); return;
    case 8: tl->narrow_8_masked(a, mask); return;
    case 4: tl->narrow_4_masked(a, mask); return;
    case 2: tl->narrow_2_masked(a, mask); return;
    default: tl->narrow_1_masked(a, mask); return;
    }
}

/* One phase's rows q0 .. q0+nq-1 of one batch element (see kernels.h). w is the phase's filter
 * in panels of PANEL_VECTORS*VL output channels, [panel][T][Cin][PANEL_VECTORS*VL] (each panel
 * contiguous, zeros past Cout: a panel read with the row stride Cout would use a fraction of the
 * L1 cache's sets when Cout is a multiple of 256). With `stream`, where each output is stored
 * once (the phase's taps and input channels in one chunk) and the rows are aligned to 64 bytes,
 * the whole panels' stores bypass the caches (one fence after them); returns whether they did. */
static int NAME(phase)(T *restrict y, ptrdiff_t ldy, const T *restrict x, ptrdiff_t ldx,
                       ptrdiff_t M, ptrdiff_t cin, const T *restrict w, ptrdiff_t ntaps,
                       ptrdiff_t c0, ptrdiff_t dc, ptrdiff_t q0, ptrdiff_t nq, ptrdiff_t cout,
                       int stream)
{
    const struct NAME(tiles) *tl = &NAME(the_tiles);
    const ptrdiff_t ldw = PANEL_VECTORS * VL, wstep = cin * ldw, xstep = dc * ldx;
    const int streamed = stream && ntaps * cin <= CONV1DT_KC && ((size_t)y & 63) == 0
                         && (ldy * (ptrdiff_t)sizeof(T)) % 64 == 0;
    /* interior rows [lo, hi): every tap inside the signal */
    ptrdiff_t lo = -c0 > q0 ? -c0 : q0;
    ptrdiff_t hi = M - c0 - (ntaps - 1) * dc;
    if (hi > q0 + nq)
        hi = q0 + nq;
    if (lo > q0 + nq)
        lo = q0 + nq;
    if (hi < lo)
        hi = lo;
    for (ptrdiff_t co = 0; co < cout; co += ldw) {
        /* the last panel is narrow when no more than half a panel of channels remains; lanes
         * past Cout are masked off */
        const ptrdiff_t left = cout - co;
        const int wide = left > PANEL_VECTORS / 2 * VL;
        const int nv = wide ? PANEL_VECTORS : PANEL_VECTORS / 2;
        const int full = left >= nv * VL;
        const T *wp = w + co / ldw * ntaps * wstep;      /* [T][Cin][ldw], contiguous */
        MASK mask[PANEL_VECTORS];
        for (int v = 0; v < PANEL_VECTORS; ++v)
            mask[v] = NAME(vmask)(left - v * VL);
        struct NAME(tile_args) a = {.ldy = ldy, .xstep = xstep, .ldx = ldx, .wstep = wstep,
                                    .ldw = ldw, .stream = streamed};
        for (ptrdiff_t q = q0; q < q0 + nq; ++q) {
            if (q == lo && hi > lo) {  /* the interior */
                const int rows = wide ? WIDE_ROWS : NARROW_ROWS;
                const ptrdiff_t end = lo + (hi - lo) / rows * rows;   /* whole tiles */
                /* (tap, input channel) rows in chunks of at most KC, each over all the tiles,
                 * so the chunk's filter panel (KC x 4 vectors) stays in L1 while the tiles use
                 * it: whole taps, KC / Cin of them, where a tap's channels fit (all the taps at
                 * once when T*Cin is at most KC), else a tap's channels KC at a time. Each
                 * chunk after the first adds to y, the sum in the same order (chunks of one tap
                 * would store and load a tile per row of Cin multiply-adds: per one, at Cin=1) */
                const ptrdiff_t tc = cin <= CONV1DT_KC ? CONV1DT_KC / cin : 1;
                a.w = wp;
                for (ptrdiff_t t = 0; t < ntaps; t += tc)
                    for (ptrdiff_t c = 0; c < cin; c += CONV1DT_KC) {
                        a.tlo = t;
                        a.thi = t + tc < ntaps ? t + tc : ntaps;
                        a.ci0 = c;
                        a.ci1 = c + CONV1DT_KC < cin ? c + CONV1DT_KC : cin;
                        a.more = t > 0 || c > 0;
                        for (ptrdiff_t p = lo; p < end; p += rows) {
                            a.y = y + (p - q0) * ldy + co;
                            a.xq = x + (p + c0) * ldx;
                            NAME(run_tile)(tl, wide, full, rows, &a, mask);
                        }
                        /* the rows left over, in the same chunk (same order of the sum) */
                        for (ptrdiff_t p = end; p < hi;) {
                            const int n = leftover_rows(wide, hi - p);
                            a.y = y + (p - q0) * ldy + co;
                            a.xq = x + (p + c0) * ldx;
                            NAME(run_tile)(tl, wide, full, n, &a, mask);
                            p += n;
                        }
                    }
                q = hi;
                if (q >= q0 + nq)
                    break;
            }
            /* one row: the taps t with 0 <= q + c0 + t*dc < M */
            ptrdiff_t tlo = 0, thi = ntaps;
            const ptrdiff_t first = q + c0, room = M - 1 - q - c0;
            if (first < 0)
                tlo = (-first + dc - 1) / dc;
            if (room < 0)
                thi = 0;
            else if (room / dc + 1 < ntaps)
                thi = room / dc + 1;
            if (thi < tlo)
                thi = tlo;
            a.y = y + (q - q0) * ldy + co;
            a.xq = x + (first + tlo * dc) * ldx;          /* tap tlo's row */
            a.w = wp + tlo * wstep;
            a.tlo = 0;
            a.thi = thi - tlo;
            a.ci0 = 0;
            a.ci1 = cin;
            a.more = 0;
            NAME(run_tile)(tl, wide, full, 1, &a, mask);
        }
    }
    if (streamed)
        NAME(vfence)();       /* the streaming stores done before anyone reads y */
    return streamed;
}

#if defined(HAVE_VECTOR_PACK)
/* The filter layout by blocks of VL x VL transposed in registers (the instruction set's
 * transpose_block_SUF): dst[ci*pw + j] = src[(co0 + j)*ld + ci] as pack_plain below, each block
 * VL loads of VL input channels of VL rows (zero past Cout) and VL aligned stores. */
static void NAME(pack_transpose)(T *restrict dst, const T *restrict src, ptrdiff_t ld,
                                 ptrdiff_t cout, ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1)
{
    const ptrdiff_t pw = PANEL_VECTORS * VL;
    for (int v = 0; v < PANEL_VECTORS; ++v) {
        const ptrdiff_t c = co0 + v * VL;
        const ptrdiff_t rows = cout - c < VL ? cout - c : VL;
        for (ptrdiff_t ci = ci0; ci < ci1; ci += VL) {
            const ptrdiff_t n = ci1 - ci < VL ? ci1 - ci : VL;
            const MASK m = NAME(vmask)(n);
            V r[VL];
            for (int j = 0; j < VL; ++j)
                r[j] = j < rows ? NAME(vmload)(m, src + (c + j) * ld + ci) : NAME(vzero)();
            NAME(transpose_block)(r);
            for (int j = 0; j < n; ++j)
                NAME(vstore)(dst + (ci + j) * pw + v * VL, r[j]);
        }
    }
}
#endif

/* The filter layout in scalar code: dst[ci*pw + j] = src[(co0 + j)*ld + ci] for ci in
 * ci0 .. ci1-1 and j < pw = PANEL_VECTORS*VL, zero where co0 + j >= cout. */
static inline void NAME(pack_plain)(T *restrict dst, const T *restrict src, ptrdiff_t ld,
                                    ptrdiff_t cout, ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1)
{
    const ptrdiff_t pw = PANEL_VECTORS * VL;
    for (ptrdiff_t j = 0; j < pw; ++j)
        for (ptrdiff_t ci = ci0; ci < ci1; ++ci)
            dst[ci * pw + j] = co0 + j < cout ? src[(co0 + j) * ld + ci] : (T)0;
}

#undef V
#undef MASK
#undef VL
#endif
