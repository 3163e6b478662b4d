/* The inner loop of conv1dt's direct kernel, compiled for several instruction sets.
 *
 * The build is portable (no -march), so on its own the compiler may only use SSE2. On GCC and
 * Clang for x86-64 Linux, `target_clones` compiles phase_strip once per listed instruction-set
 * level and picks the best one for the running CPU when the module loads (an ifunc): AVX-512
 * (x86-64-v4) or AVX2+FMA (x86-64-v3) where the hardware has them, SSE2 anywhere. Elsewhere it is
 * compiled once, for whatever the compiler targets.
 *
 * phase_strip: one polyphase component of a strip of outputs,
 *
 *     y[j*ysj + co*ysc] = sum over taps t and ci of w[t][co][ci] * x[ci*ldx + xoff[t] + j]
 *
 * for j in [0, n) and co in [0, cout), where w[t] = f + woff[t] is tap t's [cout][cin] slice and
 * `x` is a channel-major, zero-padded copy of the input rows the strip reads, so the loop has no
 * bounds checks and no multiply by an inserted zero. Outputs are computed CH positions by up to
 * NC channels at a time in a local array the compiler keeps in vector registers across all taps
 * and input channels (each x vector loaded once serves NC channels). Each output sums its terms
 * in one fixed order, taps as given and then ci ascending, whatever the vector width.
 */
#ifndef CONV1DT_SIMD_H
#define CONV1DT_SIMD_H
#include <stddef.h>

#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define CONV1DT_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CONV1DT_CLONES
#endif

#define CONV1DT_CH 32

/* Storing a tile of 4 output channels into NWC rows (channels contiguous): a 4 x 4 transpose
 * in SSE registers per 4 positions, one 16- or 32-byte store per position, instead of a scalar
 * store per element (the stores, not the multiply-adds, bounded few-channel tiles). */
#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
static inline void conv1dt_store4_float(float *restrict yo, ptrdiff_t ysj, const float *acc,
                                        ptrdiff_t ld, ptrdiff_t m)
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

static inline void conv1dt_store4_double(double *restrict yo, ptrdiff_t ysj, const double *acc,
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
#define CONV1DT_HAVE_STORE4 1
#else
#define CONV1DT_HAVE_STORE4 0
#endif
#define CONV1DT_STORE4_(T) conv1dt_store4_##T
#define CONV1DT_STORE4(T) CONV1DT_STORE4_(T)

/* The tile's outputs, acc[c][t] to yo[t*ysj + c*ysc]. */
#define CONV1DT_STORE_TILE(T, NC, M)                                                         \
    do {                                                                                     \
        T *restrict yo = y + co0 * ysc + j0 * ysj;                                           \
        if (CONV1DT_HAVE_STORE4 && (NC) == 4 && ysc == 1)                                    \
            CONV1DT_STORE4(T)(yo, ysj, &acc[0][0], sizeof(acc[0]) / sizeof(T), (M));         \
        else                                                                                 \
            for (ptrdiff_t t = 0; t < (M); ++t)                                              \
                for (int c = 0; c < NC; ++c)                                                 \
                    yo[t * ysj + c * ysc] = acc[c][t];                                       \
    } while (0)

/* NC output channels co0 .. co0+NC-1, positions j0 .. j0+M-1 (M a constant or a variable). */
#define CONV1DT_TILE(T, NC, CHN, M, DOT)                                                     \
    do {                                                                                     \
        T acc[NC][CHN];                                                                      \
        for (int c = 0; c < NC; ++c)                                                         \
            for (int t = 0; t < CHN; ++t)                                                    \
                acc[c][t] = 0;                                                               \
        for (ptrdiff_t k = 0; k < ntaps; ++k) {                                              \
            const T *restrict wk = f + woff[k] + co0 * cin;                                  \
            const T *restrict xk = x + xoff[k] + j0;                                         \
            T dot[NC][CHN];                                                                  \
            if (DOT)                                                                         \
                for (int c = 0; c < NC; ++c)                                                 \
                    for (int t = 0; t < CHN; ++t)                                            \
                        dot[c][t] = 0;                                                       \
            /* with DOT the last input channel's product goes into the dot product and the  \
             * dot product into the output in one statement (the same two roundings): the   \
             * dot product then never leaves the registers */                               \
            for (ptrdiff_t ci = 0; ci < cin - (DOT); ++ci) {                                 \
                const T *restrict xr = xk + ci * ldx;                                        \
                for (int c = 0; c < NC; ++c) {                                               \
                    const T wv = wk[c * cin + ci];                                           \
                    for (ptrdiff_t t = 0; t < (M); ++t) {                                    \
                        if (DOT)                                                             \
                            dot[c][t] += wv * xr[t];                                         \
                        else                                                                 \
                            acc[c][t] += wv * xr[t];                                         \
                    }                                                                        \
                }                                                                            \
            }                                                                                \
            if (DOT) {                                                                       \
                const T *restrict xr = xk + (cin - 1) * ldx;                                 \
                for (int c = 0; c < NC; ++c) {                                               \
                    const T wv = wk[c * cin + cin - 1];                                      \
                    for (ptrdiff_t t = 0; t < (M); ++t)                                      \
                        acc[c][t] += dot[c][t] + wv * xr[t];                                 \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
        CONV1DT_STORE_TILE(T, NC, (M));                                                      \
    } while (0)

/* A tile at the signal's edge: tap k only reads x columns inside [ulo, uhi) (the signal itself),
 * so a tap that reaches past the signal adds no term at all, as in the definition, rather than
 * a product with a padding zero (which an infinite or NaN filter value would turn into NaN). */
#define CONV1DT_TILE_EDGE(T, NC, CHN, M, DOT)                                                \
    do {                                                                                     \
        T acc[NC][CHN];                                                                      \
        for (int c = 0; c < NC; ++c)                                                         \
            for (int t = 0; t < CHN; ++t)                                                    \
                acc[c][t] = 0;                                                               \
        for (ptrdiff_t k = 0; k < ntaps; ++k) {                                              \
            const ptrdiff_t base = xoff[k] + j0;                                             \
            const ptrdiff_t tlo = ulo - base > 0 ? ulo - base : 0;                           \
            const ptrdiff_t thi = uhi - base < (M) ? uhi - base : (M);                       \
            const T *restrict wk = f + woff[k] + co0 * cin;                                  \
            T dot[NC][CHN];                                                                  \
            for (int c = 0; c < NC; ++c)                                                     \
                for (int t = 0; t < CHN; ++t)                                                \
                    dot[c][t] = 0;                                                           \
            for (ptrdiff_t ci = 0; ci < cin; ++ci) {                                         \
                const T *restrict xr = x + base + ci * ldx;                                  \
                for (int c = 0; c < NC; ++c) {                                               \
                    const T wv = wk[c * cin + ci];                                           \
                    for (ptrdiff_t t = tlo; t < thi; ++t) {                                  \
                        if (DOT)                                                             \
                            dot[c][t] += wv * xr[t];                                         \
                        else                                                                 \
                            acc[c][t] += wv * xr[t];                                         \
                    }                                                                        \
                }                                                                            \
            }                                                                                \
            if (DOT)                                                                         \
                for (int c = 0; c < NC; ++c)                                                 \
                    for (ptrdiff_t t = tlo; t < thi; ++t)                                    \
                        acc[c][t] += dot[c][t];                                              \
        }                                                                                    \
        CONV1DT_STORE_TILE(T, NC, (M));                                                      \
    } while (0)

/* Whether every tap of the tile (positions j0 .. j0+m-1) reads inside the signal. */
static inline int conv1dt_interior(const ptrdiff_t *xoff, ptrdiff_t ntaps, ptrdiff_t j0,
                                   ptrdiff_t m, ptrdiff_t ulo, ptrdiff_t uhi)
{
    for (ptrdiff_t k = 0; k < ntaps; ++k)
        if (xoff[k] + j0 < ulo || xoff[k] + j0 + m > uhi)
            return 0;
    return 1;
}

/* The strip, as a statement: its tiles, four output channels at a time, then one at a time. */
#define CONV1DT_STRIP_BODY(T, DOT, CH)                                                       \
    do {                                                                                     \
        ptrdiff_t co0 = 0;                                                                   \
        for (; co0 + 4 <= cout; co0 += 4)                                                    \
            for (ptrdiff_t j0 = 0; j0 < n; j0 += CH) {                                       \
                const ptrdiff_t m = n - j0 < CH ? n - j0 : CH;                               \
                if (!conv1dt_interior(xoff, ntaps, j0, m, ulo, uhi))                         \
                    CONV1DT_TILE_EDGE(T, 4, CH, m, DOT);                                     \
                else if (m == CH)                                                            \
                    CONV1DT_TILE(T, 4, CH, CH, DOT);                                         \
                else                                                                         \
                    CONV1DT_TILE(T, 4, CH, m, DOT);                                          \
            }                                                                                \
        for (; co0 < cout; ++co0) {                                                          \
            ptrdiff_t j0 = 0;                                                                \
            for (; j0 + 2 * CH <= n                                                          \
                   && conv1dt_interior(xoff, ntaps, j0, 2 * CH, ulo, uhi);                   \
                 j0 += 2 * CH)                                                               \
                CONV1DT_TILE(T, 1, 2 * CH, 2 * CH, DOT);                                     \
            for (; j0 < n; j0 += CH) {                                                       \
                const ptrdiff_t m = n - j0 < CH ? n - j0 : CH;                               \
                if (!conv1dt_interior(xoff, ntaps, j0, m, ulo, uhi))                         \
                    CONV1DT_TILE_EDGE(T, 1, CH, m, DOT);                                     \
                else                                                                         \
                    CONV1DT_TILE(T, 1, CH, m, DOT);                                          \
            }                                                                                \
        }                                                                                    \
    } while (0)

/* One strip body per function: with the dot and the plain form in one function, GCC no longer
 * kept the tiles' accumulators in registers (float64 with 4 channels ran 4x slower). */
#define CONV1DT_PHASE_STRIP(NAME, T, DOT, ATTR, PRAGMA)                                      \
    CONV1DT_CLONES ATTR static void NAME(                                                    \
        T *restrict y, ptrdiff_t ysj, ptrdiff_t ysc, const T *restrict f,                    \
        const ptrdiff_t *restrict woff, const ptrdiff_t *restrict xoff, ptrdiff_t ntaps,     \
        const T *restrict x, ptrdiff_t ldx, ptrdiff_t ulo, ptrdiff_t uhi, ptrdiff_t cout,    \
        ptrdiff_t cin, ptrdiff_t n)                                                          \
    {                                                                                        \
        PRAGMA                                                                               \
        CONV1DT_STRIP_BODY(T, DOT, CONV1DT_CH);                                              \
    }

/* float32: one accumulator per output, fused multiply-adds where the CPU has them (the fastest
 * form; TensorFlow's float32 kernels (oneDNN) differ in their own ways anyway).
 * float64: per tap, the dot product over the input channels first, then its addition to the
 * output, with every product and sum rounded on its own (no fused multiply-add): the order and
 * rounding of TensorFlow's float64 CPU kernel (a GEMM over the channels, then col2im adding the
 * taps in increasing input position), so small-channel float64 results match it bit for bit.
 * With one input channel the dot product is the product itself, so the plain form rounds the
 * same way and the dot buffers are skipped. */
#if defined(__GNUC__) && !defined(__clang__)
#define CONV1DT_NO_FMA __attribute__((optimize("fp-contract=off")))
#else
#define CONV1DT_NO_FMA
#endif
/* Clang has no such attribute; its pragma, first in the function body, scopes the same to it
 * (Clang 14 otherwise fused products into sums in the x86-64-v4 clones). */
#if defined(__clang__)
#define CONV1DT_NO_CONTRACT _Pragma("clang fp contract(off)")
#else
#define CONV1DT_NO_CONTRACT
#endif
CONV1DT_PHASE_STRIP(conv1dt_phase_strip_f32, float, 0, , )
CONV1DT_PHASE_STRIP(conv1dt_phase_strip_f64_one, double, 0, CONV1DT_NO_FMA, CONV1DT_NO_CONTRACT)
CONV1DT_PHASE_STRIP(conv1dt_phase_strip_f64_dot, double, 1, CONV1DT_NO_FMA, CONV1DT_NO_CONTRACT)

static inline void conv1dt_phase_strip_f64(
    double *restrict y, ptrdiff_t ysj, ptrdiff_t ysc, const double *restrict f,
    const ptrdiff_t *restrict woff, const ptrdiff_t *restrict xoff, ptrdiff_t ntaps,
    const double *restrict x, ptrdiff_t ldx, ptrdiff_t ulo, ptrdiff_t uhi, ptrdiff_t cout,
    ptrdiff_t cin, ptrdiff_t n)
{
    if (cin > 1)
        conv1dt_phase_strip_f64_dot(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, cout, cin, n);
    else
        conv1dt_phase_strip_f64_one(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, cout, cin, n);
}

/* rows_to_channels: dst[ci*ld + u] = src[u*cin + ci] for u in [0, count): `count` NWC input rows
 * copied channel-major. For 2, 4 and 8 channels the stride is a constant, which lets the compiler
 * de-interleave with vector shuffles; otherwise tiles of 64 rows keep the source in L1. */
#define CONV1DT_DEINTERLEAVE(T, C)                                                           \
    for (ptrdiff_t u = 0; u < count; ++u)                                                    \
        for (int c = 0; c < (C); ++c)                                                        \
            dst[c * ld + u] = src[u * (C) + c];

#define CONV1DT_ROWS_TO_CHANNELS(NAME, T)                                                    \
    CONV1DT_CLONES static void NAME(T *restrict dst, ptrdiff_t ld, const T *restrict src,    \
                                    ptrdiff_t cin, ptrdiff_t count)                          \
    {                                                                                        \
        if (cin == 2) { CONV1DT_DEINTERLEAVE(T, 2) return; }                                 \
        if (cin == 4) { CONV1DT_DEINTERLEAVE(T, 4) return; }                                 \
        if (cin == 8) { CONV1DT_DEINTERLEAVE(T, 8) return; }                                 \
        for (ptrdiff_t u0 = 0; u0 < count; u0 += 64) {                                       \
            const ptrdiff_t m = count - u0 < 64 ? count - u0 : 64;                           \
            for (ptrdiff_t ci = 0; ci < cin; ++ci) {                                         \
                T *restrict d = dst + ci * ld + u0;                                          \
                const T *restrict sp = src + u0 * cin + ci;                                  \
                for (ptrdiff_t u = 0; u < m; ++u)                                            \
                    d[u] = sp[u * cin];                                                      \
            }                                                                                \
        }                                                                                    \
    }

CONV1DT_ROWS_TO_CHANNELS(conv1dt_rows_to_channels_f32, float)
CONV1DT_ROWS_TO_CHANNELS(conv1dt_rows_to_channels_f64, double)


/* interleave: dst[j*s + r] = src[r*ld + j] for j*s + r < count: the s phases of a block of one
 * output channel, computed apart, put back in order. For 2 and 4 phases the stride is a
 * constant, which lets the compiler interleave with vector shuffles. */
#define CONV1DT_INTERLEAVE_S(S)                                                              \
    for (ptrdiff_t j = 0; j * (S) + (S) <= count; ++j)                                       \
        for (int r = 0; r < (S); ++r)                                                        \
            dst[j * (S) + r] = src[r * ld + j];

#define CONV1DT_INTERLEAVE(NAME, T)                                                          \
    CONV1DT_CLONES static void NAME(T *restrict dst, const T *restrict src, ptrdiff_t ld,    \
                                    ptrdiff_t s, ptrdiff_t count)                            \
    {                                                                                        \
        ptrdiff_t done = 0;                                                                  \
        if (s == 2) { CONV1DT_INTERLEAVE_S(2) done = count / 2 * 2; }                        \
        else if (s == 4) { CONV1DT_INTERLEAVE_S(4) done = count / 4 * 4; }                   \
        for (ptrdiff_t o = done; o < count; ++o)                                             \
            dst[o] = src[(o % s) * ld + o / s];                                              \
    }

CONV1DT_INTERLEAVE(conv1dt_interleave_f32, float)
CONV1DT_INTERLEAVE(conv1dt_interleave_f64, double)

#endif
