/* The register-tiled kernel for many channels: conv1dt's own GEMM micro-kernel, on AVX-512 or
 * AVX2.
 *
 * One polyphase phase of conv1d_transpose is, for its output rows q (outputs q*s + r),
 *
 *     y[q, co] = sum over the phase's taps t, then ci, of x[q + c0 + t*dc, ci] * w[t, ci, co]
 *
 * with w the phase's filter laid out [T][Cin][Cout] (channels out contiguous; stored in panels
 * of PV vectors, 4 for AVX-512 and 2 for AVX2, see CONV1DT_PHASE_TILED). A tile of R output rows by NV vectors of output
 * channels is accumulated in R*NV vector registers: per (t, ci) it
 * loads NV filter vectors once and broadcasts one input value per row, so each load serves R or
 * NV multiply-adds, and the input rows are read where they lie (no packing, no im2col, no
 * repacking of the same rows once per tap as a per-tap BLAS call does). Each output element is
 * one fused multiply-add chain, taps then input channels in increasing order: its bits depend
 * on neither the tiling nor the thread count.
 *
 * Rows where some tap falls outside the signal are computed one at a time over the taps that
 * land inside (no product with a padding zero). Channels beyond a multiple of the vector width
 * use masked loads and stores.
 *
 * Compiled twice with target attributes, for AVX-512F (tiles of 6 rows x 4 vectors) and for AVX2
 * with FMA (6 x 2: 16 registers), and run for the best the CPU has (conv1dt_tiled_isa); without
 * AVX2 the BLAS kernels run instead.
 */
#ifndef CONV1DT_TILED_H
#define CONV1DT_TILED_H
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CONV1DT_AVX512 __attribute__((target("avx512f,fma")))

#define CONV1DT_AVX2 __attribute__((target("avx2,fma")))

/* Set to anything but "" or "0", the environment variable `name` turns an instruction set off. */
static int conv1dt_env_off(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] && strcmp(v, "0") != 0;
}

/* The tiles this CPU runs: 2 for AVX-512F, 1 for AVX2 with FMA, 0 for none (the BLAS kernels run
 * instead). CONV1DT_DISABLE_AVX512 makes an AVX-512 CPU run the AVX2 tiles, as a CPU without
 * AVX-512 does; CONV1DT_DISABLE_AVX2 runs no tiles at all (for comparisons). Read once. The tests
 * lower the limit to run both sets of tiles in one process. */
static int conv1dt_isa_limit = 2;
static int conv1dt_tiled_isa(void)
{
    static int isa = -1;
    if (isa < 0) {
        __builtin_cpu_init();
        const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                         && !conv1dt_env_off("CONV1DT_DISABLE_AVX2");
        isa = avx2 && __builtin_cpu_supports("avx512f") && !conv1dt_env_off("CONV1DT_DISABLE_AVX512")
                  ? 2 : avx2 ? 1 : 0;
    }
    return isa < conv1dt_isa_limit ? isa : conv1dt_isa_limit;
}
static void conv1dt_limit_isa(int limit) { conv1dt_isa_limit = limit; }

static int conv1dt_tiled_available(void) { return conv1dt_tiled_isa() > 0; }

/* Fully unrolled, so that the accumulators live in registers (GCC otherwise kept them in memory,
 * at half the speed). */
#if defined(__clang__)
#define CONV1DT_UNROLL _Pragma("unroll")
#else
#define CONV1DT_UNROLL _Pragma("GCC unroll 16")
#endif

/* A tile: R rows from y (row stride ldy) and NV vectors of channels from co; rows read x at
 * xq + t*xstep (+ r*ldx for row r), taps tlo .. thi-1 (tap t's filter at w + t*wstep, rows ldw
 * apart) and input channels ci0 .. ci1-1, adding
 * to what y holds when `more` (the sum continues in the same order); mask[v] selects vector v's
 * lanes. */
#define CONV1DT_TILE_KERNEL(NAME, TGT, T, V, VL, MASK, LOAD, MLOAD, SET1, ZERO, FMA, STORE, MSTORE, \
                            R, NV, MASKED)                                                         \
    TGT static inline void NAME(                                                                   \
        T *restrict y, ptrdiff_t ldy, const T *restrict xq, ptrdiff_t xstep, ptrdiff_t ldx,        \
        const T *restrict w, ptrdiff_t wstep, ptrdiff_t ldw, ptrdiff_t tlo, ptrdiff_t thi,         \
        ptrdiff_t ci0, ptrdiff_t ci1, int more, const MASK *mask)                                  \
    {                                                                                              \
        V acc[R][NV];                                                                              \
        CONV1DT_UNROLL                                                                             \
        for (int r = 0; r < (R); ++r)                                                              \
            CONV1DT_UNROLL                                                                         \
            for (int v = 0; v < (NV); ++v)                                                         \
                acc[r][v] = more ? MLOAD(ZERO(), mask[v], y + r * ldy + v * (VL)) : ZERO();        \
        for (ptrdiff_t t = tlo; t < thi; ++t) {                                                    \
            const T *restrict xt = xq + t * xstep;                                                 \
            const T *restrict wt = w + t * wstep;                                                  \
            for (ptrdiff_t ci = ci0; ci < ci1; ++ci) {                                             \
                V wv[NV];                                                                          \
                CONV1DT_UNROLL                                                                     \
                for (int v = 0; v < (NV); ++v)                                                     \
                    wv[v] = (MASKED) ? MLOAD(ZERO(), mask[v], wt + ci * ldw + v * (VL))            \
                                     : LOAD(wt + ci * ldw + v * (VL));                             \
                CONV1DT_UNROLL                                                                     \
                for (int r = 0; r < (R); ++r) {                                                    \
                    const V b = SET1(xt[r * ldx + ci]);                                            \
                    CONV1DT_UNROLL                                                                 \
                    for (int v = 0; v < (NV); ++v)                                                 \
                        acc[r][v] = FMA(b, wv[v], acc[r][v]);                                      \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        CONV1DT_UNROLL                                                                             \
        for (int r = 0; r < (R); ++r)                                                              \
            CONV1DT_UNROLL                                                                         \
            for (int v = 0; v < (NV); ++v)                                                         \
                if (MASKED)                                                                        \
                    MSTORE(y + r * ldy + v * (VL), mask[v], acc[r][v]);                            \
                else                                                                               \
                    STORE(y + r * ldy + v * (VL), acc[r][v]);                                      \
    }

/* Input channels per chunk: 128 x 4 vectors of filter (32 KiB) stay in a 48 KiB L1. */
#define CONV1DT_KC 128

#define CONV1DT_F32_OPS CONV1DT_AVX512, float, __m512, 16, __mmask16, _mm512_loadu_ps,               \
    _mm512_mask_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_fmadd_ps, _mm512_storeu_ps,   \
    _mm512_mask_storeu_ps
#define CONV1DT_F64_OPS CONV1DT_AVX512, double, __m512d, 8, __mmask8, _mm512_loadu_pd,               \
    _mm512_mask_loadu_pd, _mm512_set1_pd, _mm512_setzero_pd, _mm512_fmadd_pd, _mm512_storeu_pd,   \
    _mm512_mask_storeu_pd
#define CONV1DT_TILE_KERNEL_(...) CONV1DT_TILE_KERNEL(__VA_ARGS__)

/* 6 rows x 4 vectors (24 accumulators) for wide panels; 12 x 2 for a panel of at most two
 * vectors; 4, 2 and 1 x 4 and 8, 4, 2 and 1 x 2 for the interior rows left over (a 1-row tile
 * runs at a quarter of the speed: up to a tenth of the rows were left over when a phase has few
 * rows); 1 x 4 and 1 x 2 for the rows at the signal's edges. The tiles of whole panels load and
 * store without masks (the masks cost a load each). */
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_6x4, CONV1DT_F32_OPS, 6, 4, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_12x2, CONV1DT_F32_OPS, 12, 2, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_6x4m, CONV1DT_F32_OPS, 6, 4, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_12x2m, CONV1DT_F32_OPS, 12, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_1x4m, CONV1DT_F32_OPS, 1, 4, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_1x2m, CONV1DT_F32_OPS, 1, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_4x4m, CONV1DT_F32_OPS, 4, 4, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_2x4m, CONV1DT_F32_OPS, 2, 4, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_8x2m, CONV1DT_F32_OPS, 8, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_4x2m, CONV1DT_F32_OPS, 4, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_2x2m, CONV1DT_F32_OPS, 2, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_1x4, CONV1DT_F32_OPS, 1, 4, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_4x4, CONV1DT_F32_OPS, 4, 4, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f32_2x4, CONV1DT_F32_OPS, 2, 4, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_6x4, CONV1DT_F64_OPS, 6, 4, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_12x2, CONV1DT_F64_OPS, 12, 2, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_6x4m, CONV1DT_F64_OPS, 6, 4, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_12x2m, CONV1DT_F64_OPS, 12, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_1x4m, CONV1DT_F64_OPS, 1, 4, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_1x2m, CONV1DT_F64_OPS, 1, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_4x4m, CONV1DT_F64_OPS, 4, 4, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_2x4m, CONV1DT_F64_OPS, 2, 4, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_8x2m, CONV1DT_F64_OPS, 8, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_4x2m, CONV1DT_F64_OPS, 4, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_2x2m, CONV1DT_F64_OPS, 2, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_1x4, CONV1DT_F64_OPS, 1, 4, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_4x4, CONV1DT_F64_OPS, 4, 4, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile_f64_2x4, CONV1DT_F64_OPS, 2, 4, 0)

/* AVX2 (16 ymm registers): panels of 2 vectors (16 float32 or 8 float64 channels), tiles of 6 x 2
 * and 12 x 1 (12 accumulators), leftovers of 4, 2, 1 x 2 and 8, 4, 2, 1 x 1. Masked loads and
 * stores through AVX2's integer-vector masks. */
CONV1DT_AVX2 static inline __m256 conv1dt_mload_ps8(__m256 src, __m256i m, const float *p)
{
    (void)src;
    return _mm256_maskload_ps(p, m);
}
CONV1DT_AVX2 static inline void conv1dt_mstore_ps8(float *p, __m256i m, __m256 v)
{
    _mm256_maskstore_ps(p, m, v);
}
CONV1DT_AVX2 static inline __m256d conv1dt_mload_pd4(__m256d src, __m256i m, const double *p)
{
    (void)src;
    return _mm256_maskload_pd(p, m);
}
CONV1DT_AVX2 static inline void conv1dt_mstore_pd4(double *p, __m256i m, __m256d v)
{
    _mm256_maskstore_pd(p, m, v);
}
#define CONV1DT_F32_OPS2 CONV1DT_AVX2, float, __m256, 8, __m256i, _mm256_loadu_ps, conv1dt_mload_ps8, \
    _mm256_set1_ps, _mm256_setzero_ps, _mm256_fmadd_ps, _mm256_storeu_ps, conv1dt_mstore_ps8
#define CONV1DT_F64_OPS2 CONV1DT_AVX2, double, __m256d, 4, __m256i, _mm256_loadu_pd,                \
    conv1dt_mload_pd4, _mm256_set1_pd, _mm256_setzero_pd, _mm256_fmadd_pd, _mm256_storeu_pd,     \
    conv1dt_mstore_pd4
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_6x2, CONV1DT_F32_OPS2, 6, 2, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_12x1, CONV1DT_F32_OPS2, 12, 1, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_6x2m, CONV1DT_F32_OPS2, 6, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_12x1m, CONV1DT_F32_OPS2, 12, 1, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_1x2m, CONV1DT_F32_OPS2, 1, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_1x1m, CONV1DT_F32_OPS2, 1, 1, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_4x2m, CONV1DT_F32_OPS2, 4, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_2x2m, CONV1DT_F32_OPS2, 2, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_8x1m, CONV1DT_F32_OPS2, 8, 1, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_4x1m, CONV1DT_F32_OPS2, 4, 1, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_2x1m, CONV1DT_F32_OPS2, 2, 1, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_1x2, CONV1DT_F32_OPS2, 1, 2, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_4x2, CONV1DT_F32_OPS2, 4, 2, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f32_2x2, CONV1DT_F32_OPS2, 2, 2, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_6x2, CONV1DT_F64_OPS2, 6, 2, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_12x1, CONV1DT_F64_OPS2, 12, 1, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_6x2m, CONV1DT_F64_OPS2, 6, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_12x1m, CONV1DT_F64_OPS2, 12, 1, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_1x2m, CONV1DT_F64_OPS2, 1, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_1x1m, CONV1DT_F64_OPS2, 1, 1, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_4x2m, CONV1DT_F64_OPS2, 4, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_2x2m, CONV1DT_F64_OPS2, 2, 2, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_8x1m, CONV1DT_F64_OPS2, 8, 1, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_4x1m, CONV1DT_F64_OPS2, 4, 1, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_2x1m, CONV1DT_F64_OPS2, 2, 1, 1)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_1x2, CONV1DT_F64_OPS2, 1, 2, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_4x2, CONV1DT_F64_OPS2, 4, 2, 0)
CONV1DT_TILE_KERNEL_(conv1dt_tile2_f64_2x2, CONV1DT_F64_OPS2, 2, 2, 0)

/* The lanes of a vector that hold one of the first `lanes` channels of a panel's vector */
CONV1DT_AVX512 static inline __mmask16 conv1dt_mask16(ptrdiff_t lanes)
{
    return lanes >= 16 ? (__mmask16)0xffff : lanes <= 0 ? 0 : (__mmask16)((1u << lanes) - 1);
}
CONV1DT_AVX512 static inline __mmask8 conv1dt_mask8(ptrdiff_t lanes)
{
    return lanes >= 8 ? (__mmask8)0xff : lanes <= 0 ? 0 : (__mmask8)((1u << lanes) - 1);
}
CONV1DT_AVX2 static inline __m256i conv1dt_mask_ps8(ptrdiff_t lanes)
{
    const int n = lanes < 0 ? 0 : lanes > 8 ? 8 : (int)lanes;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
CONV1DT_AVX2 static inline __m256i conv1dt_mask_pd4(ptrdiff_t lanes)
{
    const long long n = lanes < 0 ? 0 : lanes > 4 ? 4 : (long long)lanes;
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* A tile's call in CONV1DT_PHASE_TILED, from its locals; and a leftover tile of n rows */
#define CONV1DT_CALL(K, yq, xq, w, t0, t1, c0, c1, more)                                           \
    K(yq, ldy, xq, xstep, ldx, w, wstep, ldw, t0, t1, c0, c1, more, mask)
#define CONV1DT_STEP(K, n)                                                                         \
    if (rest >= (n)) {                                                                             \
        CONV1DT_CALL(K, yq, xq, wp, t, t1, c, c1, more);                                           \
        p += (n);                                                                                  \
    }

/* One phase's rows q0 .. q0+nq-1 of one batch element. y points at output row q0 (stride ldy,
 * s*Cout for a whole output); x at the batch element's first input row (M rows of Cin, ldx
 * apart: a group's channels are a slice of longer rows); w at the phase's filter, in
 * panels of 4*VL output channels, [panel][T][Cin][4*VL] (each panel contiguous, zeros past
 * Cout: a panel read with the row stride Cout would use a fraction of the L1 cache's sets when
 * Cout is a multiple of 256); the phase's taps read input rows q + c0 + t*dc. */
#define CONV1DT_PHASE_TILED(NAME, TGT, T, VL, PV, MASK, MKMASK, K64, K32, K64M, K32M, K1W, K1N, R4W, \
                            R2W, R8N, R4N, R2N, K1F, R4F, R2F)                                     \
    TGT static void NAME(                                                                          \
        T *restrict y, ptrdiff_t ldy, const T *restrict x, ptrdiff_t ldx, ptrdiff_t M,             \
        ptrdiff_t cin, const T *restrict w, ptrdiff_t ntaps, ptrdiff_t c0, ptrdiff_t dc,           \
        ptrdiff_t q0, ptrdiff_t nq, ptrdiff_t cout)                                                \
    {                                                                                              \
        const ptrdiff_t ldw = (PV) * (VL), wstep = cin * ldw, xstep = dc * ldx;                    \
        /* interior rows [lo, hi): every tap inside the signal */                                  \
        ptrdiff_t lo = -c0 > q0 ? -c0 : q0;                                                        \
        ptrdiff_t hi = M - c0 - (ntaps - 1) * dc;                                                  \
        if (hi > q0 + nq) hi = q0 + nq;                                                            \
        if (lo > q0 + nq) lo = q0 + nq;                                                            \
        if (hi < lo) hi = lo;                                                                      \
        for (ptrdiff_t co = 0; co < cout; co += ldw) {                                             \
            /* panels of PV vectors; the last one narrow (PV/2 vectors) when no more than PV/2     \
             * remain, lanes past Cout masked off */                                               \
            const ptrdiff_t left = cout - co;                                                      \
            const int nv = left > (PV) / 2 * (VL) ? (PV) : (PV) / 2;                               \
            const int full = left >= nv * (VL);                                                    \
            /* the panel's filter: [T][Cin][PV*VL], contiguous */                                  \
            const T *wp = w + co / ldw * ntaps * wstep;                                            \
            MASK mask[PV];                                                                         \
            for (int v = 0; v < (PV); ++v)                                                         \
                mask[v] = MKMASK(left - v * (VL));                                                 \
            for (ptrdiff_t q = q0; q < q0 + nq; ++q) {                                             \
                if (q == lo && hi > lo) {  /* the interior */                                      \
                    const int rows = nv > (PV) / 2 ? 6 : 12;                                       \
                    const ptrdiff_t end = lo + (hi - lo) / rows * rows;  /* whole tiles */         \
                    /* taps and input channels in chunks of KC, each over all the tiles, so the    \
                     * chunk's filter panel (KC x 4 vectors) stays in L1 while the tiles use it */ \
                    /* (all the taps at once when T*Cin is at most KC) */                          \
                    const int one = ntaps * cin <= CONV1DT_KC;                                     \
                    for (ptrdiff_t t = 0; t < (one ? 1 : ntaps); ++t)                              \
                        for (ptrdiff_t c = 0; c < cin; c += CONV1DT_KC) {                          \
                            const ptrdiff_t c1 = c + CONV1DT_KC < cin ? c + CONV1DT_KC : cin;      \
                            const ptrdiff_t t1 = one ? ntaps : t + 1;                              \
                            const int more = t > 0 || c > 0;                                       \
                            for (ptrdiff_t p = lo; p < end; p += rows) {                           \
                                T *yq = y + (p - q0) * ldy + co;                                   \
                                const T *xq = x + (p + c0) * ldx;                                  \
                                if (nv > (PV) / 2 && full)                                         \
                                    CONV1DT_CALL(K64, yq, xq, wp, t, t1, c, c1, more);             \
                                else if (nv > (PV) / 2)                                            \
                                    CONV1DT_CALL(K64M, yq, xq, wp, t, t1, c, c1, more);            \
                                else if (full)                                                     \
                                    CONV1DT_CALL(K32, yq, xq, wp, t, t1, c, c1, more);             \
                                else                                                               \
                                    CONV1DT_CALL(K32M, yq, xq, wp, t, t1, c, c1, more);            \
                            }                                                                      \
                            /* the rows left over, in the same chunk (same order of the sum) */    \
                            for (ptrdiff_t p = end; p < hi;) {                                     \
                                T *yq = y + (p - q0) * ldy + co;                                   \
                                const T *xq = x + (p + c0) * ldx;                                  \
                                const ptrdiff_t rest = hi - p;                                     \
                                if (nv > (PV) / 2 && full) {                                       \
                                    CONV1DT_STEP(R4F, 4) else CONV1DT_STEP(R2F, 2)                 \
                                    else CONV1DT_STEP(K1F, 1)                                      \
                                } else if (nv > (PV) / 2) {                                        \
                                    CONV1DT_STEP(R4W, 4) else CONV1DT_STEP(R2W, 2)                 \
                                    else CONV1DT_STEP(K1W, 1)                                      \
                                } else {                                                           \
                                    CONV1DT_STEP(R8N, 8) else CONV1DT_STEP(R4N, 4)                 \
                                    else CONV1DT_STEP(R2N, 2) else CONV1DT_STEP(K1N, 1)            \
                                }                                                                  \
                            }                                                                      \
                        }                                                                          \
                    q = hi;                                                                        \
                    if (q >= q0 + nq)                                                              \
                        break;                                                                     \
                }                                                                                  \
                /* one row: the taps t with 0 <= q + c0 + t*dc < M */                              \
                ptrdiff_t tlo = 0, thi = ntaps;                                                    \
                const ptrdiff_t first = q + c0, room = M - 1 - q - c0;                             \
                if (first < 0) tlo = (-first + dc - 1) / dc;                                       \
                if (room < 0) thi = 0;                                                             \
                else if (room / dc + 1 < ntaps) thi = room / dc + 1;                               \
                if (thi < tlo) thi = tlo;                                                          \
                T *yq = y + (q - q0) * ldy + co;                                                   \
                const T *xq = x + (first + tlo * dc) * ldx;   /* tap tlo's row */                  \
                const T *wq = wp + tlo * wstep;                                                    \
                if (nv > (PV) / 2 && full)                                                         \
                    CONV1DT_CALL(K1F, yq, xq, wq, 0, thi - tlo, 0, cin, 0);                        \
                else if (nv > (PV) / 2)                                                            \
                    CONV1DT_CALL(K1W, yq, xq, wq, 0, thi - tlo, 0, cin, 0);                        \
                else                                                                               \
                    CONV1DT_CALL(K1N, yq, xq, wq, 0, thi - tlo, 0, cin, 0);                        \
            }                                                                                      \
        }                                                                                          \
    }

CONV1DT_PHASE_TILED(conv1dt_phase512_f32, CONV1DT_AVX512, float, 16, 4, __mmask16, conv1dt_mask16,
                    conv1dt_tile_f32_6x4,
                    conv1dt_tile_f32_12x2, conv1dt_tile_f32_6x4m, conv1dt_tile_f32_12x2m,
                    conv1dt_tile_f32_1x4m, conv1dt_tile_f32_1x2m, conv1dt_tile_f32_4x4m,
                    conv1dt_tile_f32_2x4m, conv1dt_tile_f32_8x2m, conv1dt_tile_f32_4x2m,
                    conv1dt_tile_f32_2x2m, conv1dt_tile_f32_1x4, conv1dt_tile_f32_4x4,
                    conv1dt_tile_f32_2x4)
CONV1DT_PHASE_TILED(conv1dt_phase512_f64, CONV1DT_AVX512, double, 8, 4, __mmask8, conv1dt_mask8,
                    conv1dt_tile_f64_6x4,
                    conv1dt_tile_f64_12x2, conv1dt_tile_f64_6x4m, conv1dt_tile_f64_12x2m,
                    conv1dt_tile_f64_1x4m, conv1dt_tile_f64_1x2m, conv1dt_tile_f64_4x4m,
                    conv1dt_tile_f64_2x4m, conv1dt_tile_f64_8x2m, conv1dt_tile_f64_4x2m,
                    conv1dt_tile_f64_2x2m, conv1dt_tile_f64_1x4, conv1dt_tile_f64_4x4,
                    conv1dt_tile_f64_2x4)

CONV1DT_PHASE_TILED(conv1dt_phase2_f32, CONV1DT_AVX2, float, 8, 2, __m256i, conv1dt_mask_ps8,
                    conv1dt_tile2_f32_6x2, conv1dt_tile2_f32_12x1, conv1dt_tile2_f32_6x2m,
                    conv1dt_tile2_f32_12x1m, conv1dt_tile2_f32_1x2m, conv1dt_tile2_f32_1x1m,
                    conv1dt_tile2_f32_4x2m, conv1dt_tile2_f32_2x2m, conv1dt_tile2_f32_8x1m,
                    conv1dt_tile2_f32_4x1m, conv1dt_tile2_f32_2x1m, conv1dt_tile2_f32_1x2,
                    conv1dt_tile2_f32_4x2, conv1dt_tile2_f32_2x2)
CONV1DT_PHASE_TILED(conv1dt_phase2_f64, CONV1DT_AVX2, double, 4, 2, __m256i, conv1dt_mask_pd4,
                    conv1dt_tile2_f64_6x2, conv1dt_tile2_f64_12x1, conv1dt_tile2_f64_6x2m,
                    conv1dt_tile2_f64_12x1m, conv1dt_tile2_f64_1x2m, conv1dt_tile2_f64_1x1m,
                    conv1dt_tile2_f64_4x2m, conv1dt_tile2_f64_2x2m, conv1dt_tile2_f64_8x1m,
                    conv1dt_tile2_f64_4x1m, conv1dt_tile2_f64_2x1m, conv1dt_tile2_f64_1x2,
                    conv1dt_tile2_f64_4x2, conv1dt_tile2_f64_2x2)

/* Filter layout: dst[ci][j] = src[(co0 + j) * ld + ci] for ci in ci0 .. ci1-1 and j < PV*VL,
 * zero where co0 + j >= cout (src is one tap's Cout rows of Cin, ld apart; dst rows PV*VL apart,
 * 64-byte aligned). For AVX-512 a gather per vector of 16 or 8 output channels: the scalar
 * transposition (kept for AVX2, whose panels are narrower) took 1.6 ms (6 % of the call) for a
 * 16 x 256 x 512 float32 filter. */
#define CONV1DT_PACK(NAME, T, V, VL, MASK, MKMASK, IDX, SETIDX, GATHER, STORE, ZERO)               \
    CONV1DT_AVX512 static void NAME(T *restrict dst, const T *restrict src, ptrdiff_t ld,         \
                                    ptrdiff_t cout, ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1)   \
    {                                                                                              \
        const IDX idx = SETIDX(ld);                                                                \
        for (int v = 0; v < 4; ++v) {                                                              \
            const ptrdiff_t c = co0 + v * (VL), lanes = cout - c;                                  \
            const MASK m = MKMASK(lanes);                                                          \
            for (ptrdiff_t ci = ci0; ci < ci1; ++ci)                                               \
                STORE(dst + ci * 4 * (VL) + v * (VL),                                              \
                      m ? GATHER(ZERO(), m, idx, src + c * ld + ci, sizeof(T)) : ZERO());          \
        }                                                                                          \
    }

CONV1DT_AVX512 static inline __m512i conv1dt_idx16(ptrdiff_t ld)
{
    return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                              _mm512_set1_epi32((int)ld));
}
CONV1DT_AVX512 static inline __m256i conv1dt_idx8(ptrdiff_t ld)
{
    return _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)ld));
}
CONV1DT_PACK(conv1dt_pack512_f32, float, __m512, 16, __mmask16, conv1dt_mask16, __m512i, conv1dt_idx16,
             _mm512_mask_i32gather_ps, _mm512_store_ps, _mm512_setzero_ps)
CONV1DT_PACK(conv1dt_pack512_f64, double, __m512d, 8, __mmask8, conv1dt_mask8, __m256i, conv1dt_idx8,
             _mm512_mask_i32gather_pd, _mm512_store_pd, _mm512_setzero_pd)

#define CONV1DT_PACK_PLAIN(NAME, T)                                                                \
    static void NAME(T *restrict dst, const T *restrict src, ptrdiff_t ld, ptrdiff_t cout,         \
                     ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1, ptrdiff_t pw)                    \
    {                                                                                              \
        for (ptrdiff_t j = 0; j < pw; ++j)                                                         \
            for (ptrdiff_t ci = ci0; ci < ci1; ++ci)                                               \
                dst[ci * pw + j] = co0 + j < cout ? src[(co0 + j) * ld + ci] : (T)0;               \
    }
CONV1DT_PACK_PLAIN(conv1dt_pack_plain_f32, float)
CONV1DT_PACK_PLAIN(conv1dt_pack_plain_f64, double)

/* The entry points, for the tiles of `isa` (conv1dt_tiled_isa(), read once per call by the caller,
 * which sizes the filter layout by conv1dt_tiled_panel(isa, ...)): output channels per filter
 * panel, the filter layout, and one phase's rows (CONV1DT_PHASE_TILED). */
static ptrdiff_t conv1dt_tiled_panel(int isa, int dbl)
{
    return isa == 2 ? (dbl ? 32 : 64) : (dbl ? 8 : 16);
}
#define CONV1DT_ENTRIES(SUF, T, PW2)                                                               \
    static void conv1dt_pack_##SUF(int isa, T *dst, const T *src, ptrdiff_t ld, ptrdiff_t cout,     \
                                   ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1)                    \
    {                                                                                              \
        if (isa == 2)                                                                              \
            conv1dt_pack512_##SUF(dst, src, ld, cout, co0, ci0, ci1);                              \
        else                                                                                       \
            conv1dt_pack_plain_##SUF(dst, src, ld, cout, co0, ci0, ci1, PW2);                      \
    }                                                                                              \
    static void conv1dt_phase_tiled_##SUF##_(int isa, T *y, ptrdiff_t ldy, const T *x,             \
        ptrdiff_t ldx, ptrdiff_t M, ptrdiff_t cin, const T *w, ptrdiff_t ntaps, ptrdiff_t c0,      \
        ptrdiff_t dc, ptrdiff_t q0, ptrdiff_t nq, ptrdiff_t cout)                                  \
    {                                                                                              \
        if (isa == 2)                                                                              \
            conv1dt_phase512_##SUF(y, ldy, x, ldx, M, cin, w, ntaps, c0, dc, q0, nq, cout);        \
        else                                                                                       \
            conv1dt_phase2_##SUF(y, ldy, x, ldx, M, cin, w, ntaps, c0, dc, q0, nq, cout);          \
    }
CONV1DT_ENTRIES(f32, float, 16)
CONV1DT_ENTRIES(f64, double, 8)

#else  /* not x86-64 with GCC or Clang: never called (conv1dt_tiled_isa() is 0) */
static int conv1dt_tiled_isa(void) { return 0; }
static int conv1dt_isa_limit = 0;
static void conv1dt_limit_isa(int limit) { (void)limit; }
static int conv1dt_tiled_available(void) { return 0; }
static ptrdiff_t conv1dt_tiled_panel(int isa, int dbl) { (void)isa; return dbl ? 8 : 16; }
static void conv1dt_phase_tiled_f32_(int isa, float *y, ptrdiff_t ldy, const float *x,
    ptrdiff_t ldx, ptrdiff_t M, ptrdiff_t cin, const float *w, ptrdiff_t ntaps, ptrdiff_t c0,
    ptrdiff_t dc, ptrdiff_t q0, ptrdiff_t nq, ptrdiff_t cout) {}
static void conv1dt_phase_tiled_f64_(int isa, double *y, ptrdiff_t ldy, const double *x,
    ptrdiff_t ldx, ptrdiff_t M, ptrdiff_t cin, const double *w, ptrdiff_t ntaps, ptrdiff_t c0,
    ptrdiff_t dc, ptrdiff_t q0, ptrdiff_t nq, ptrdiff_t cout) {}
static void conv1dt_pack_f32(int isa, float *dst, const float *src, ptrdiff_t ld, ptrdiff_t cout,
    ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1) {}
static void conv1dt_pack_f64(int isa, double *dst, const double *src, ptrdiff_t ld, ptrdiff_t cout,
    ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1) {}
#endif
#endif
