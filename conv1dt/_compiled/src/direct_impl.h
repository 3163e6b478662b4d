/* The direct kernel (conv1d_transpose with few channels): its strips, for one instruction set.
 *
 * Included by direct_baseline.c, direct_avx2.c and direct_avx512.c, each compiled with its own
 * flags (setup.py) and defining CONV1DT_DIRECT_OPS, the name of its conv1dt_direct_ops.
 * The file includes itself once per element type (float, then double) for the typed part.
 *
 * phase_strip computes one polyphase component of a strip of outputs (see kernels.h) from `x`,
 * a channel-major, zero-padded copy of the input rows the strip reads, so the loop has no bounds
 * checks and no multiply by an inserted zero. Outputs are computed up to 2*CH positions by up to
 * 4 channels at a time in a local array the compiler keeps in vector registers across all taps
 * and input channels (each x vector loaded once serves 4 channels). Each output sums its terms in
 * one fixed order, taps as given and then ci ascending, whatever the vector width.
 *
 * float32: one accumulator per output, fused multiply-adds where the instruction set has them
 * (the fastest form; TensorFlow's float32 kernels (oneDNN) differ in their own ways anyway).
 * float64: per tap, the dot product over the input channels first, then its addition to the
 * output, with every product and sum rounded on its own (no fused multiply-add, on every
 * instruction set): the order and rounding of TensorFlow's float64 CPU kernel (a GEMM over the
 * channels, then col2im adding the taps in increasing input position), so small-channel float64
 * results match it bit for bit. With one input channel the dot product is the product itself, so
 * the plain form rounds the same way and the dot buffers are skipped.
 */
#ifndef CONV1DT_DIRECT_T
/* ---- the type-independent part ----------------------------------------------------------- */
#include <stddef.h>

#include "kernels.h"

#define CONV1DT_CH 32                 /* positions per tile (two tiles for one output channel) */

#if defined(__GNUC__) || defined(__clang__)
#define CONV1DT_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define CONV1DT_ALWAYS_INLINE inline
#endif

/* No contraction of products into sums, for float64: GCC's function attribute; Clang has none,
 * and its pragma, first in a function body, scopes the same to that function. */
#if defined(__GNUC__) && !defined(__clang__)
#define CONV1DT_NO_FMA_FN __attribute__((optimize("fp-contract=off")))
#else
#define CONV1DT_NO_FMA_FN
#endif
#if defined(__clang__)
#define CONV1DT_NO_FMA_BODY _Pragma("clang fp contract(off)")
#else
#define CONV1DT_NO_FMA_BODY
#endif

/* The columns of x that hold the signal for tap k: [klo[k], khi[k]) where the caller gives
 * bounds per tap (the strided conv1d's input phases end at different columns), else [ulo, uhi). */
#define TAP_LO(k) (klo ? klo[k] : ulo)
#define TAP_HI(k) (khi ? khi[k] : uhi)

/* Whether every tap of the tile (positions j0 .. j0+m-1) reads inside the signal. */
static inline int interior(const ptrdiff_t *xoff, ptrdiff_t ntaps, ptrdiff_t j0, ptrdiff_t m,
                           ptrdiff_t ulo, ptrdiff_t uhi, const ptrdiff_t *klo,
                           const ptrdiff_t *khi)
{
    for (ptrdiff_t k = 0; k < ntaps; ++k)
        if (xoff[k] + j0 < TAP_LO(k) || xoff[k] + j0 + m > TAP_HI(k))
            return 0;
    return 1;
}

/* Storing a tile of 4 output channels into NWC rows (channels contiguous): a 4 x 4 transpose in
 * SSE registers per 4 positions, one 16- or 32-byte store per position, instead of a scalar store
 * per element (the stores, not the multiply-adds, bounded few-channel tiles). acc[c*ld + t]. */
#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#define HAVE_STORE4 1
static inline void store4_f32(float *restrict yo, ptrdiff_t ysj, const float *acc, ptrdiff_t ld,
                              ptrdiff_t m)
{
    ptrdiff_t t = 0;
    for (; t + 4 <= m; t += 4) {
        __m128 r0 = _mm_loadu_ps(acc + t), r1 = _mm_loadu_ps(acc + ld + t);
        __m128 r2 = _mm_loadu_ps(acc + 2 * ld + t), r3 = _mm_loadu_ps(acc + 3 * ld + t);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(yo + t * ysj, r0);
        _mm_storeu_ps(yo + (t + 1) * ysj, r1);
        _mm_storeu_ps(yo + (t + 2) * ysj, r2);
        _mm_storeu_ps(yo + (t + 3) * ysj, r3);
    }
    for (; t < m; ++t)
        for (int c = 0; c < 4; ++c)
            yo[t * ysj + c] = acc[c * ld + t];
}

static inline void store4_f64(double *restrict yo, ptrdiff_t ysj, const double *acc,
                              ptrdiff_t ld, ptrdiff_t m)
{
    ptrdiff_t t = 0;
    for (; t + 2 <= m; t += 2) {
        __m128d a0 = _mm_loadu_pd(acc + t), a1 = _mm_loadu_pd(acc + ld + t);
        __m128d a2 = _mm_loadu_pd(acc + 2 * ld + t), a3 = _mm_loadu_pd(acc + 3 * ld + t);
        _mm_storeu_pd(yo + t * ysj, _mm_unpacklo_pd(a0, a1));
        _mm_storeu_pd(yo + t * ysj + 2, _mm_unpacklo_pd(a2, a3));
        _mm_storeu_pd(yo + (t + 1) * ysj, _mm_unpackhi_pd(a0, a1));
        _mm_storeu_pd(yo + (t + 1) * ysj + 2, _mm_unpackhi_pd(a2, a3));
    }
    for (; t < m; ++t)
        for (int c = 0; c < 4; ++c)
            yo[t * ysj + c] = acc[c * ld + t];
}
#else
#define HAVE_STORE4 0
#endif

#define CONV1DT_CAT_(a, b) a##_##b
#define CONV1DT_CAT(a, b) CONV1DT_CAT_(a, b)
#define NAME(name) CONV1DT_CAT(name, SUF)

#define CONV1DT_DIRECT_T float
#define T float
#define SUF f32
#define EXACT 0
#define EXACT_FN
#define EXACT_BODY
#include "direct_impl.h"
#undef CONV1DT_DIRECT_T
#undef T
#undef SUF
#undef EXACT
#undef EXACT_FN
#undef EXACT_BODY

#define CONV1DT_DIRECT_T double
#define T double
#define SUF f64
#define EXACT 1
#define EXACT_FN CONV1DT_NO_FMA_FN
#define EXACT_BODY CONV1DT_NO_FMA_BODY
#include "direct_impl.h"

const struct conv1dt_direct_ops CONV1DT_DIRECT_OPS = {
    .phase_strip_f32 = phase_strip_f32,
    .phase_strip_f64 = phase_strip_f64,
    .rows_to_channels_f32 = rows_to_channels_f32,
    .rows_to_channels_f64 = rows_to_channels_f64,
    .interleave_f32 = interleave_f32,
    .interleave_f64 = interleave_f64,
};

#else
/* ---- the typed part: T is float or double --------------------------------------------------- */

/* The tile's outputs, acc[c*ld + t] to yo[t*ysj + c*ysc], for c < nc and t < m. */
static CONV1DT_ALWAYS_INLINE void NAME(store_tile)(T *restrict yo, ptrdiff_t ysj, ptrdiff_t ysc,
                                                  const T *acc, ptrdiff_t ld, int nc, ptrdiff_t m)
{
#if HAVE_STORE4
    if (nc == 4 && ysc == 1) {
        NAME(store4)(yo, ysj, acc, ld, m);
        return;
    }
#endif
    for (ptrdiff_t t = 0; t < m; ++t)
        for (int c = 0; c < nc; ++c)
            yo[t * ysj + c * ysc] = acc[c * ld + t];
}

/* Output channels co0 .. co0+nc-1 (nc is 4 or 1), positions j0 .. j0+m-1 (m at most CH with
 * nc = 4, 2*CH with nc = 1), every tap reading inside the signal.
 *
 * With `dot` the last input channel's product goes into the dot product and the dot product
 * into the output in one statement (the same two roundings): the dot product then never leaves
 * the registers. Called with constant nc and dot (and m for whole tiles), so that the loops
 * unroll and the accumulators stay in registers. */
static CONV1DT_ALWAYS_INLINE EXACT_FN void NAME(tile)(
    T *restrict y, ptrdiff_t ysj, ptrdiff_t ysc, const T *restrict f,
    const ptrdiff_t *restrict woff, const ptrdiff_t *restrict xoff, ptrdiff_t ntaps,
    const T *restrict x, ptrdiff_t ldx, ptrdiff_t cin, ptrdiff_t co0, ptrdiff_t j0, int nc,
    ptrdiff_t m, int dot)
{
    EXACT_BODY
    T acc[4][2 * CONV1DT_CH];
    /* (only the m outputs kept are summed, zeroed and stored) */
    for (int c = 0; c < nc; ++c)
        for (ptrdiff_t t = 0; t < m; ++t)
            acc[c][t] = 0;
    for (ptrdiff_t k = 0; k < ntaps; ++k) {
        const T *restrict wk = f + woff[k] + co0 * cin;
        const T *restrict xk = x + xoff[k] + j0;
        T dotp[4][2 * CONV1DT_CH];
        if (dot)
            for (int c = 0; c < nc; ++c)
                for (ptrdiff_t t = 0; t < m; ++t)
                    dotp[c][t] = 0;
        for (ptrdiff_t ci = 0; ci < cin - dot; ++ci) {
            const T *restrict xr = xk + ci * ldx;
            for (int c = 0; c < nc; ++c) {
                const T wv = wk[c * cin + ci];
                for (ptrdiff_t t = 0; t < m; ++t) {
                    if (dot)
                        dotp[c][t] += wv * xr[t];
                    else
                        acc[c][t] += wv * xr[t];
                }
            }
        }
        if (dot) {
            const T *restrict xr = xk + (cin - 1) * ldx;
            for (int c = 0; c < nc; ++c) {
                const T wv = wk[c * cin + cin - 1];
                for (ptrdiff_t t = 0; t < m; ++t)
                    acc[c][t] += dotp[c][t] + wv * xr[t];
            }
        }
    }
    NAME(store_tile)(y + co0 * ysc + j0 * ysj, ysj, ysc, &acc[0][0], 2 * CONV1DT_CH, nc, m);
}

/* A tile at the signal's edge: tap k only reads x columns inside its bounds (the signal itself),
 * so a tap that reaches past the signal adds no term at all, as in the definition, rather than a
 * product with a padding zero (which an infinite or NaN filter value would turn into NaN). */
static CONV1DT_ALWAYS_INLINE EXACT_FN void NAME(edge_tile)(
    T *restrict y, ptrdiff_t ysj, ptrdiff_t ysc, const T *restrict f,
    const ptrdiff_t *restrict woff, const ptrdiff_t *restrict xoff, ptrdiff_t ntaps,
    const T *restrict x, ptrdiff_t ldx, ptrdiff_t ulo, ptrdiff_t uhi, const ptrdiff_t *klo,
    const ptrdiff_t *khi, ptrdiff_t cin, ptrdiff_t co0, ptrdiff_t j0, int nc, ptrdiff_t m,
    int dot)
{
    EXACT_BODY
    T acc[4][2 * CONV1DT_CH];
    /* (only the m outputs kept are summed, zeroed and stored) */
    for (int c = 0; c < nc; ++c)
        for (ptrdiff_t t = 0; t < m; ++t)
            acc[c][t] = 0;
    for (ptrdiff_t k = 0; k < ntaps; ++k) {
        const ptrdiff_t base = xoff[k] + j0;
        const ptrdiff_t tlo = TAP_LO(k) - base > 0 ? TAP_LO(k) - base : 0;
        const ptrdiff_t thi = TAP_HI(k) - base < m ? TAP_HI(k) - base : m;
        const T *restrict wk = f + woff[k] + co0 * cin;
        T dotp[4][2 * CONV1DT_CH];
        if (dot)
            for (int c = 0; c < nc; ++c)
                for (ptrdiff_t t = tlo; t < thi; ++t)
                    dotp[c][t] = 0;
        for (ptrdiff_t ci = 0; ci < cin; ++ci) {
            const T *restrict xr = x + base + ci * ldx;
            for (int c = 0; c < nc; ++c) {
                const T wv = wk[c * cin + ci];
                for (ptrdiff_t t = tlo; t < thi; ++t) {
                    if (dot)
                        dotp[c][t] += wv * xr[t];
                    else
                        acc[c][t] += wv * xr[t];
                }
            }
        }
        if (dot)
            for (int c = 0; c < nc; ++c)
                for (ptrdiff_t t = tlo; t < thi; ++t)
                    acc[c][t] += dotp[c][t];
    }
    NAME(store_tile)(y + co0 * ysc + j0 * ysj, ysj, ysc, &acc[0][0], 2 * CONV1DT_CH, nc, m);
}

/* The strip: its tiles, four output channels at a time, then one at a time. */
static CONV1DT_ALWAYS_INLINE EXACT_FN void NAME(strip)(
    T *restrict y, ptrdiff_t ysj, ptrdiff_t ysc, const T *restrict f,
    const ptrdiff_t *restrict woff, const ptrdiff_t *restrict xoff, ptrdiff_t ntaps,
    const T *restrict x, ptrdiff_t ldx, ptrdiff_t ulo, ptrdiff_t uhi, const ptrdiff_t *klo,
    const ptrdiff_t *khi, ptrdiff_t cout, ptrdiff_t cin, ptrdiff_t n, int dot)
{
    const int ch = CONV1DT_CH;
    ptrdiff_t co0 = 0;
    for (; co0 + 4 <= cout; co0 += 4)
        for (ptrdiff_t j0 = 0; j0 < n; j0 += ch) {
            const ptrdiff_t m = n - j0 < ch ? n - j0 : ch;
            if (!interior(xoff, ntaps, j0, m, ulo, uhi, klo, khi))
                NAME(edge_tile)(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, klo, khi,
                                cin, co0, j0, 4, m, dot);
            else if (m == ch)
                NAME(tile)(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, cin, co0, j0, 4, ch, dot);
            else
                NAME(tile)(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, cin, co0, j0, 4, m, dot);
        }
    for (; co0 < cout; ++co0) {
        ptrdiff_t j0 = 0;
        for (; j0 + 2 * ch <= n && interior(xoff, ntaps, j0, 2 * ch, ulo, uhi, klo, khi);
             j0 += 2 * ch)
            NAME(tile)(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, cin, co0, j0, 1, 2 * ch, dot);
        for (; j0 < n; j0 += ch) {
            const ptrdiff_t m = n - j0 < ch ? n - j0 : ch;
            if (!interior(xoff, ntaps, j0, m, ulo, uhi, klo, khi))
                NAME(edge_tile)(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, klo, khi,
                                cin, co0, j0, 1, m, dot);
            else
                NAME(tile)(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, cin, co0, j0, 1, m, dot);
        }
    }
}

/* One strip form per function: with the dot and the plain form in one function, GCC no longer
 * kept the tiles' accumulators in registers. */
static EXACT_FN void NAME(strip_plain)(
    T *restrict y, ptrdiff_t ysj, ptrdiff_t ysc, const T *restrict f,
    const ptrdiff_t *restrict woff, const ptrdiff_t *restrict xoff, ptrdiff_t ntaps,
    const T *restrict x, ptrdiff_t ldx, ptrdiff_t ulo, ptrdiff_t uhi, const ptrdiff_t *klo,
    const ptrdiff_t *khi, ptrdiff_t cout, ptrdiff_t cin, ptrdiff_t n)
{
    EXACT_BODY
    NAME(strip)(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, klo, khi, cout, cin, n, 0);
}

static EXACT_FN void NAME(strip_dot)(
    T *restrict y, ptrdiff_t ysj, ptrdiff_t ysc, const T *restrict f,
    const ptrdiff_t *restrict woff, const ptrdiff_t *restrict xoff, ptrdiff_t ntaps,
    const T *restrict x, ptrdiff_t ldx, ptrdiff_t ulo, ptrdiff_t uhi, const ptrdiff_t *klo,
    const ptrdiff_t *khi, ptrdiff_t cout, ptrdiff_t cin, ptrdiff_t n)
{
    EXACT_BODY
    NAME(strip)(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, klo, khi, cout, cin, n, 1);
}

/* The strip in its form: float64 with several input channels takes the dot-product form (see
 * the top of the file), everything else the plain one. */
static void NAME(phase_strip)(T *restrict y, ptrdiff_t ysj, ptrdiff_t ysc, const T *restrict f,
                              const ptrdiff_t *restrict woff, const ptrdiff_t *restrict xoff,
                              ptrdiff_t ntaps, const T *restrict x, ptrdiff_t ldx, ptrdiff_t ulo,
                              ptrdiff_t uhi, const ptrdiff_t *klo, const ptrdiff_t *khi,
                              ptrdiff_t cout, ptrdiff_t cin, ptrdiff_t n)
{
    if (EXACT && cin > 1)
        NAME(strip_dot)(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, klo, khi, cout, cin,
                        n);
    else
        NAME(strip_plain)(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, klo, khi, cout,
                          cin, n);
}

/* dst[c*ld + u] = src[u*C + c] for u < count, with C a constant at the call (vector shuffles). */
static CONV1DT_ALWAYS_INLINE void NAME(deinterleave)(T *restrict dst, ptrdiff_t ld,
                                                    const T *restrict src, int C, ptrdiff_t count)
{
    for (ptrdiff_t u = 0; u < count; ++u)
        for (int c = 0; c < C; ++c)
            dst[c * ld + u] = src[u * C + c];
}

/* rows_to_channels: `count` NWC input rows copied channel-major. For 2, 4 and 8 channels the
 * stride is a constant, which lets the compiler de-interleave with vector shuffles; otherwise
 * tiles of 64 rows keep the source in L1. */
static void NAME(rows_to_channels)(T *restrict dst, ptrdiff_t ld, const T *restrict src,
                                   ptrdiff_t cin, ptrdiff_t count)
{
    if (cin == 2 || cin == 4 || cin == 8) {
        if (cin == 2)
            NAME(deinterleave)(dst, ld, src, 2, count);
        if (cin == 4)
            NAME(deinterleave)(dst, ld, src, 4, count);
        if (cin == 8)
            NAME(deinterleave)(dst, ld, src, 8, count);
        return;
    }
    for (ptrdiff_t u0 = 0; u0 < count; u0 += 64) {
        const ptrdiff_t m = count - u0 < 64 ? count - u0 : 64;
#if defined(__GNUC__) || defined(__clang__)
        /* the tile's lines asked for at once, in order: the channel loops below read them a
         * channel at a time, a stride the prefetchers do not follow, each line's miss in turn */
        for (ptrdiff_t b = 0; b < m * cin * (ptrdiff_t) sizeof(T); b += 64)
            __builtin_prefetch((const char *) (src + u0 * cin) + b);
#endif
        for (ptrdiff_t ci = 0; ci < cin; ++ci) {
            T *restrict d = dst + ci * ld + u0;
            const T *restrict sp = src + u0 * cin + ci;
            for (ptrdiff_t u = 0; u < m; ++u)
                d[u] = sp[u * cin];
        }
    }
}

/* dst[j*S + r] = src[r*ld + j] for whole groups of S outputs (a constant S at the call lets the
 * compiler use vector shuffles); returns the outputs written. */
static CONV1DT_ALWAYS_INLINE ptrdiff_t NAME(interleave_by)(T *restrict dst, const T *restrict src,
                                                          ptrdiff_t ld, ptrdiff_t S, ptrdiff_t count)
{
    for (ptrdiff_t j = 0; j * S + S <= count; ++j)
        for (ptrdiff_t r = 0; r < S; ++r)
            dst[j * S + r] = src[r * ld + j];
    return count / S * S;
}

/* interleave: the s phases of a block of one output channel, computed apart, put back in order
 * (for 2, 4 and 8 phases with a constant stride, which lets the compiler use vector shuffles;
 * other strides by whole groups of s, the division left to the last group). */
static void NAME(interleave)(T *restrict dst, const T *restrict src, ptrdiff_t ld, ptrdiff_t s,
                             ptrdiff_t count)
{
    ptrdiff_t done = 0;
    if (s == 2)
        done = NAME(interleave_by)(dst, src, ld, 2, count);
    else if (s == 4)
        done = NAME(interleave_by)(dst, src, ld, 4, count);
    else if (s == 8)
        done = NAME(interleave_by)(dst, src, ld, 8, count);
    else
        done = NAME(interleave_by)(dst, src, ld, s, count);    /* no division per output */
    for (ptrdiff_t o = done; o < count; ++o)
        dst[o] = src[(o % s) * ld + o / s];
}
#endif
