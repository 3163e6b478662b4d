/* The register-tiled kernel for many channels: conv1dt's own GEMM micro-kernel, on AVX-512.
 *
 * One polyphase phase of conv1d_transpose is, for its output rows q (outputs q*s + r),
 *
 *     y[q, co] = sum over the phase's taps t, then ci, of x[q + c0 + t*dc, ci] * w[t, ci, co]
 *
 * with w the phase's filter laid out [T][Cin][Cout] (channels out contiguous; stored in panels
 * of 4 vectors, see CONV1DT_PHASE_TILED). A tile of R output rows by NV vectors of output
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
 * Compiled for AVX-512F with a target attribute, used only when the running CPU has it
 * (conv1dt_tiled_available); elsewhere the BLAS kernels run instead.
 */
#ifndef CONV1DT_TILED_H
#define CONV1DT_TILED_H
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CONV1DT_TILED 1
#define CONV1DT_AVX512 __attribute__((target("avx512f,fma")))

/* The CPU has AVX-512F, and the environment variable CONV1DT_DISABLE_AVX512 is unset, empty or
 * "0" (set, it makes this CPU run what one without AVX-512 runs: for tests and comparisons).
 * Read once. */
static int conv1dt_tiled_available(void)
{
    static int known = -1;
    if (known < 0) {
        const char *off = getenv("CONV1DT_DISABLE_AVX512");
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512f") && !(off && off[0] && strcmp(off, "0") != 0);
    }
    return known;
}

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
#define CONV1DT_TILE_KERNEL(NAME, T, V, VL, MASK, LOAD, MLOAD, SET1, ZERO, FMA, STORE, MSTORE, R, NV, \
                            MASKED)                                                                \
    CONV1DT_AVX512 static inline void NAME(                                                        \
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

#define CONV1DT_F32_OPS float, __m512, 16, __mmask16, _mm512_loadu_ps, _mm512_mask_loadu_ps,       \
    _mm512_set1_ps, _mm512_setzero_ps, _mm512_fmadd_ps, _mm512_storeu_ps, _mm512_mask_storeu_ps
#define CONV1DT_F64_OPS double, __m512d, 8, __mmask8, _mm512_loadu_pd, _mm512_mask_loadu_pd,       \
    _mm512_set1_pd, _mm512_setzero_pd, _mm512_fmadd_pd, _mm512_storeu_pd, _mm512_mask_storeu_pd
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

/* A tile's call in CONV1DT_PHASE_TILED, from its locals */
#define CONV1DT_CALL(K, yq, xq, w, t0, t1, c0, c1, more)                                           \
    K(yq, ldy, xq, xstep, ldx, w, wstep, ldw, t0, t1, c0, c1, more, mask)

/* One phase's rows q0 .. q0+nq-1 of one batch element. y points at output row q0 (stride ldy,
 * s*Cout for a whole output); x at the batch element's first input row (M rows of Cin, ldx
 * apart: a group's channels are a slice of longer rows); w at the phase's filter, in
 * panels of 4*VL output channels, [panel][T][Cin][4*VL] (each panel contiguous, zeros past
 * Cout: a panel read with the row stride Cout would use a fraction of the L1 cache's sets when
 * Cout is a multiple of 256); the phase's taps read input rows q + c0 + t*dc. */
#define CONV1DT_PHASE_TILED(NAME, T, VL, MASK, K64, K32, K64M, K32M, K1W, K1N, R4W, R2W, R8N, R4N, \
                            R2N)                                                                   \
    CONV1DT_AVX512 static void NAME(                                                               \
        T *restrict y, ptrdiff_t ldy, const T *restrict x, ptrdiff_t ldx, ptrdiff_t M,             \
        ptrdiff_t cin, const T *restrict w, ptrdiff_t ntaps, ptrdiff_t c0, ptrdiff_t dc,           \
        ptrdiff_t q0, ptrdiff_t nq, ptrdiff_t cout)                                                \
    {                                                                                              \
        const ptrdiff_t ldw = 4 * (VL), wstep = cin * ldw, xstep = dc * ldx;                       \
        /* interior rows [lo, hi): every tap inside the signal */                                  \
        ptrdiff_t lo = -c0 > q0 ? -c0 : q0;                                                        \
        ptrdiff_t hi = M - c0 - (ntaps - 1) * dc;                                                  \
        if (hi > q0 + nq) hi = q0 + nq;                                                            \
        if (lo > q0 + nq) lo = q0 + nq;                                                            \
        if (hi < lo) hi = lo;                                                                      \
        for (ptrdiff_t co = 0; co < cout; co += (cout - co > 2 * (VL) ? 4 : 2) * (VL)) {           \
            /* panels of 4 vectors while more than 2 remain, then one of 2; lanes past Cout        \
             * masked off (a 3-vector remainder runs as 4 with the last one empty) */              \
            const ptrdiff_t left = cout - co;                                                      \
            const int nv = left > 2 * (VL) ? 4 : 2;                                                \
            const int full = left >= nv * (VL);                                                    \
            /* the panel's filter: [T][Cin][4*VL], contiguous */                                   \
            const T *wp = w + co / ldw * ntaps * wstep;                                            \
            MASK mask[4];                                                                          \
            for (int v = 0; v < 4; ++v) {                                                          \
                const ptrdiff_t lanes = left - v * (VL);                                           \
                mask[v] = lanes >= (VL) ? (MASK)~(MASK)0                                           \
                          : lanes <= 0 ? (MASK)0 : (MASK)(((MASK)1 << lanes) - 1);                 \
            }                                                                                      \
            for (ptrdiff_t q = q0; q < q0 + nq; ++q) {                                             \
                if (q == lo && hi > lo) {  /* the interior */                                      \
                    const int rows = nv > 2 ? 6 : 12;                                              \
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
                                if (nv > 2 && full)                                                \
                                    CONV1DT_CALL(K64, yq, xq, wp, t, t1, c, c1, more);             \
                                else if (nv > 2)                                                   \
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
                                if (nv > 2) {                                                      \
                                    if (rest >= 4) {                                               \
                                        CONV1DT_CALL(R4W, yq, xq, wp, t, t1, c, c1, more);         \
                                        p += 4;                                                    \
                                    } else if (rest >= 2) {                                        \
                                        CONV1DT_CALL(R2W, yq, xq, wp, t, t1, c, c1, more);         \
                                        p += 2;                                                    \
                                    } else {                                                       \
                                        CONV1DT_CALL(K1W, yq, xq, wp, t, t1, c, c1, more);         \
                                        p += 1;                                                    \
                                    }                                                              \
                                } else if (rest >= 8) {                                            \
                                    CONV1DT_CALL(R8N, yq, xq, wp, t, t1, c, c1, more);             \
                                    p += 8;                                                        \
                                } else if (rest >= 4) {                                            \
                                    CONV1DT_CALL(R4N, yq, xq, wp, t, t1, c, c1, more);             \
                                    p += 4;                                                        \
                                } else if (rest >= 2) {                                            \
                                    CONV1DT_CALL(R2N, yq, xq, wp, t, t1, c, c1, more);             \
                                    p += 2;                                                        \
                                } else {                                                           \
                                    CONV1DT_CALL(K1N, yq, xq, wp, t, t1, c, c1, more);             \
                                    p += 1;                                                        \
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
                if (nv > 2)                                                                        \
                    CONV1DT_CALL(K1W, yq, xq, wq, 0, thi - tlo, 0, cin, 0);                        \
                else                                                                               \
                    CONV1DT_CALL(K1N, yq, xq, wq, 0, thi - tlo, 0, cin, 0);                        \
            }                                                                                      \
        }                                                                                          \
    }

CONV1DT_PHASE_TILED(conv1dt_phase_tiled_f32_, float, 16, __mmask16, conv1dt_tile_f32_6x4,
                    conv1dt_tile_f32_12x2, conv1dt_tile_f32_6x4m, conv1dt_tile_f32_12x2m,
                    conv1dt_tile_f32_1x4m, conv1dt_tile_f32_1x2m, conv1dt_tile_f32_4x4m,
                    conv1dt_tile_f32_2x4m, conv1dt_tile_f32_8x2m, conv1dt_tile_f32_4x2m,
                    conv1dt_tile_f32_2x2m)
CONV1DT_PHASE_TILED(conv1dt_phase_tiled_f64_, double, 8, __mmask8, conv1dt_tile_f64_6x4,
                    conv1dt_tile_f64_12x2, conv1dt_tile_f64_6x4m, conv1dt_tile_f64_12x2m,
                    conv1dt_tile_f64_1x4m, conv1dt_tile_f64_1x2m, conv1dt_tile_f64_4x4m,
                    conv1dt_tile_f64_2x4m, conv1dt_tile_f64_8x2m, conv1dt_tile_f64_4x2m,
                    conv1dt_tile_f64_2x2m)

/* Filter layout: dst[ci][j] = src[(co0 + j) * ld + ci] for ci in ci0 .. ci1-1 and j < 4*VL,
 * zero where co0 + j >= cout (src is one tap's Cout rows of Cin, ld apart; dst rows 4*VL apart,
 * 64-byte aligned). A gather per vector of 16 or 8 output channels: the scalar transposition it
 * replaces took 1.6 ms (6 % of the call) for a 16 x 256 x 512 float32 filter. */
#define CONV1DT_PACK(NAME, T, V, VL, MASK, IDX, SETIDX, GATHER, STORE, ZERO)                       \
    CONV1DT_AVX512 static void NAME(T *restrict dst, const T *restrict src, ptrdiff_t ld,         \
                                    ptrdiff_t cout, ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1)   \
    {                                                                                              \
        const IDX idx = SETIDX(ld);                                                                \
        for (int v = 0; v < 4; ++v) {                                                              \
            const ptrdiff_t c = co0 + v * (VL), lanes = cout - c;                                  \
            const MASK m = lanes >= (VL) ? (MASK)~(MASK)0                                          \
                           : lanes <= 0 ? (MASK)0 : (MASK)(((MASK)1 << lanes) - 1);                \
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
CONV1DT_PACK(conv1dt_pack_f32, float, __m512, 16, __mmask16, __m512i, conv1dt_idx16,
             _mm512_mask_i32gather_ps, _mm512_store_ps, _mm512_setzero_ps)
CONV1DT_PACK(conv1dt_pack_f64, double, __m512d, 8, __mmask8, __m256i, conv1dt_idx8,
             _mm512_mask_i32gather_pd, _mm512_store_pd, _mm512_setzero_pd)

#else  /* no AVX-512 build: never called (conv1dt_tiled_available() is 0) */
#define CONV1DT_TILED 0
static int conv1dt_tiled_available(void) { return 0; }
static void conv1dt_phase_tiled_f32_(float *y, ptrdiff_t ldy, const float *x, ptrdiff_t ldx,
    ptrdiff_t M, ptrdiff_t cin, const float *w, ptrdiff_t ntaps, ptrdiff_t c0, ptrdiff_t dc,
    ptrdiff_t q0, ptrdiff_t nq, ptrdiff_t cout) {}
static void conv1dt_phase_tiled_f64_(double *y, ptrdiff_t ldy, const double *x, ptrdiff_t ldx,
    ptrdiff_t M, ptrdiff_t cin, const double *w, ptrdiff_t ntaps, ptrdiff_t c0, ptrdiff_t dc,
    ptrdiff_t q0, ptrdiff_t nq, ptrdiff_t cout) {}
static void conv1dt_pack_f32(float *dst, const float *src, ptrdiff_t ld, ptrdiff_t cout,
    ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1) {}
static void conv1dt_pack_f64(double *dst, const double *src, ptrdiff_t ld, ptrdiff_t cout,
    ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1) {}
#endif
#endif
