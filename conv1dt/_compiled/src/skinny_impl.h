/* The skinny GEMM (a product with one short dimension), for one instruction set.
 *
 * Included by skinny_baseline.c, skinny_avx2.c and skinny_avx512.c, each compiled with its own
 * flags (setup.py) and defining CONV1DT_SKINNY_OPS (the name of its conv1dt_skinny_ops),
 * SKINNY_VBYTES (the bytes of one vector register) and SKINNY_ROWS (the rows of a tile). The file
 * includes itself once per element type (float, then double) for the typed part.
 *
 *     c[i*ldc + j] = (accumulate == SKINNY_ADD ? c[i*ldc + j] : 0)
 *                    + sum over u < t of p[i*psi + u*pst] * q[u*ldq + j]
 *
 * for i < m, j < n, each sum in increasing u (the modes in kernels.h). A BLAS GEMM packs both
 * operands into its own layout before it multiplies; when one of m, n or t is a few dozen at
 * most, each packed element serves only that many multiply-adds, and the packing costs as much
 * as the product (the filter gradient of a one-channel signal with ten taps: 10 x 512 outputs
 * from a 512 x 512 block of the gradient). Here nothing is packed: a tile of SKINNY_ROWS rows of c by two vectors of columns
 * is held in registers (GCC's and Clang's vector types, the loops unrolled by constant bounds)
 * while u runs over the whole inner dimension, each row of q read once per tile, each element of
 * p broadcast once. The columns left over (one vector, then fewer) and the rows left over (fewer
 * than SKINNY_ROWS, in tiles of 4, 2 and 1) take the same loops with smaller bounds; the columns
 * short of a vector go element by element, slowly, so the planner gives the kernel at least one
 * vector of columns.
 *
 * Walking down the columns of a q far larger than the caches, each row would wait for memory (the
 * hardware's prefetchers follow runs of consecutive lines, and a page table walk comes every other
 * row of a wide q): so the callers pass q in blocks of a few hundred rows, and name the next block
 * (`ahead`, `ahead_bytes`), which the first band of tiles asks the memory for, in memory order,
 * two lines per step, while it computes on this one. For a few rows of c under rows of q of
 * 2 KiB and more, SKINNY_BY_ROWS reads q once in memory order instead, a few rows at a time,
 * while a block of c's columns waits in L1 (NAME(by_rows)).
 *
 * The conv1d im2col kernel calls it with the taps inner (t = K*Cw/G, short; m the rows, n the
 * output channels); the filter gradient with the rows inner (m = K*Cw/G short, t the rows).
 *
 * The depthwise rows (outputs of a convolution with one channel per group, a product whose q is
 * diagonal) keep their accumulators in registers across the taps the same way.
 */
#ifndef CONV1DT_SKINNY_T
/* ---- the type-independent part ----------------------------------------------------------- */
#include <stddef.h>
#include <string.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "kernels.h"

/* The packed GEMM's tiles may have more rows than the skinny GEMM's (PACKED_ROWS, at most 8) */
#ifndef PACKED_ROWS
#define PACKED_ROWS SKINNY_ROWS
#endif
#define TILE_ROWS (PACKED_ROWS > SKINNY_ROWS ? PACKED_ROWS : SKINNY_ROWS)

#if defined(__GNUC__) || defined(__clang__)
#define CONV1DT_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define CONV1DT_ALWAYS_INLINE inline
#endif

/* Ask the memory for the line holding byte `at` of [ahead, ahead + bytes), if it is inside. */
static CONV1DT_ALWAYS_INLINE void fetch_line(const char *ahead, ptrdiff_t bytes, ptrdiff_t at)
{
#if defined(__GNUC__) || defined(__clang__)
    if (at < bytes)
        __builtin_prefetch(ahead + at);
#else
    (void)ahead, (void)bytes, (void)at;
#endif
}

/* The positions i of a batch element at which tap k reaches the signal (0 <= i*s + k*d - pad
 * < L), within [lo, hi): *first .. *end - 1 (none where *first >= *end). */
static CONV1DT_ALWAYS_INLINE void tap_positions(ptrdiff_t k, ptrdiff_t s, ptrdiff_t d,
                                                ptrdiff_t pad, ptrdiff_t L, ptrdiff_t lo,
                                                ptrdiff_t hi, ptrdiff_t *first, ptrdiff_t *end)
{
    const ptrdiff_t before = pad - k * d, last = L - 1 + pad - k * d;
    const ptrdiff_t a = before > 0 ? (before + s - 1) / s : 0, b = last < 0 ? 0 : last / s + 1;
    *first = a < lo ? lo : a;
    *end = b > hi ? hi : b;
}

/* depthwise_tile's copies, from DW_COPY_MIN_TAPS taps: chunks of DW_CHUNK rows (or twice the
 * filter's span), a window of DW_WINDOW_BYTES of the input's columns and the filter's column of
 * at most DW_STRIP_TAPS taps (8 KiB with 64-byte vectors). */
#define DW_COPY_MIN_TAPS 8
#define DW_CHUNK 64
#define DW_STRIP_TAPS 128
#define DW_WINDOW_BYTES 32768

/* dot's rows of q held in L1 while p's run past (half of a 32 KiB L1), for rows of at least
 * DOT_LONG_BYTES */
#define DOT_Q_BYTES 16384
#define DOT_LONG_BYTES 2048

#define CONV1DT_CAT_(a, b) a##_##b
#define CONV1DT_CAT(a, b) CONV1DT_CAT_(a, b)
#define NAME(name) CONV1DT_CAT(name, SUF)

#define CONV1DT_SKINNY_T float
#define T float
#define SUF f32
#include "skinny_impl.h"
#undef CONV1DT_SKINNY_T
#undef T
#undef SUF

#define CONV1DT_SKINNY_T double
#define T double
#define SUF f64
#include "skinny_impl.h"

const struct conv1dt_skinny_ops CONV1DT_SKINNY_OPS = {
    .gemm_f32 = skinny_f32,
    .gemm_f64 = skinny_f64,
    .depthwise_rows_f32 = depthwise_rows_f32,
    .depthwise_rows_f64 = depthwise_rows_f64,
    .depthwise_tile_f32 = depthwise_tile_f32,
    .depthwise_tile_f64 = depthwise_tile_f64,
    .depthwise_filter_f32 = depthwise_filter_f32,
    .depthwise_filter_f64 = depthwise_filter_f64,
    .dot_f32 = dot_f32,
    .dot_f64 = dot_f64,
    .grouped_f32 = grouped_f32,
    .grouped_f64 = grouped_f64,
    .spread_f32 = spread_f32,
    .spread_f64 = spread_f64,
    .fir_f32 = fir_f32,
    .fir_f64 = fir_f64,
    .packed_f32 = packed_f32,
    .packed_f64 = packed_f64,
    .packed_runs_f32 = packed_runs_f32,
    .packed_runs_f64 = packed_runs_f64,
};

#else
/* ---- the typed part: T is float or double --------------------------------------------------- */

enum { NAME(VL) = SKINNY_VBYTES / (int)sizeof(T) };   /* elements of one vector register */

/* Rows 0 .. rows-1 of c, columns 0 .. cols-1, element by element: the columns left over after
 * whole vectors (and every column where the compiler has no vector types). Step u asks for the
 * line at byte `at + 64*u` of the block ahead (none when ahead_bytes is 0). */
static CONV1DT_ALWAYS_INLINE void NAME(tile_scalar)(
    T *restrict c, ptrdiff_t ldc, const T *restrict p, ptrdiff_t psi, ptrdiff_t pst,
    const T *restrict q, ptrdiff_t ldq, ptrdiff_t t, int accumulate, int rows, ptrdiff_t cols,
    const char *ahead, ptrdiff_t ahead_bytes, ptrdiff_t at)
{
    for (int i = 0; i < rows; ++i)
        for (ptrdiff_t j = 0; j < cols; ++j) {
            T acc = accumulate == SKINNY_ADD ? c[i * ldc + j] : 0;
            for (ptrdiff_t u = 0; u < t; ++u)
                acc += p[i * psi + u * pst] * q[u * ldq + j];
            c[i * ldc + j] = acc;
        }
    if (ahead_bytes)
        for (ptrdiff_t u = 0; u < t; ++u)
            fetch_line(ahead, ahead_bytes, at + 64 * u);
}

#if defined(__GNUC__) || defined(__clang__)
typedef T NAME(vec) __attribute__((vector_size(SKINNY_VBYTES)));

static CONV1DT_ALWAYS_INLINE NAME(vec) NAME(load)(const T *src)
{
    NAME(vec) v;
    __builtin_memcpy(&v, src, sizeof v);
    return v;
}

static CONV1DT_ALWAYS_INLINE void NAME(store)(T *dst, NAME(vec) v)
{
    __builtin_memcpy(dst, &v, sizeof v);
}

/* x in every lane. Written x - 0, exact for every x (-0.0 included), which the compilers fold
 * into a broadcast (on AVX-512, into the multiply-add's memory operand); 0 + x is no identity (it
 * makes -0.0 +0.0), so it costs an add and a register broadcast per element, which on cores whose
 * 512-bit multiply-adds share a port with the broadcasts (Intel's) slow the tiles' inner loop
 * (docs/planner.rst, "The skinny GEMM on an Intel core"). */
static CONV1DT_ALWAYS_INLINE NAME(vec) NAME(splat)(T x)
{
    return x - (NAME(vec)){0};
}

/* A store that bypasses the caches (the output is far larger than they are and will not be read
 * back soon, so the line need not be read first) where dst is aligned to the vector and the
 * instruction set has such a store; else a plain one. */
static CONV1DT_ALWAYS_INLINE void NAME(store_stream)(T *dst, NAME(vec) v)
{
#if SKINNY_VBYTES == 64 && defined(__AVX512F__)
    if (((size_t)dst & 63) == 0) {
        if (sizeof(T) == 4)
            _mm512_stream_ps((float *)dst, (__m512)v);
        else
            _mm512_stream_pd((double *)dst, (__m512d)v);
        return;
    }
#elif SKINNY_VBYTES == 32 && defined(__AVX__)
    if (((size_t)dst & 31) == 0) {
        if (sizeof(T) == 4)
            _mm256_stream_ps((float *)dst, (__m256)v);
        else
            _mm256_stream_pd((double *)dst, (__m256d)v);
        return;
    }
#endif
    NAME(store)(dst, v);
}

/* Rows 0 .. rows-1 of c, columns 0 .. nv*VL - 1 (nv is 1 or 2 vectors): rows x nv accumulators
 * in registers while u runs. Called with constant rows and nv, so the loops unroll. Step u asks
 * for the nv lines at byte `at + 64*nv*u` of the block ahead. */
static CONV1DT_ALWAYS_INLINE void NAME(tile)(
    T *restrict c, ptrdiff_t ldc, const T *restrict p, ptrdiff_t psi, ptrdiff_t pst,
    const T *restrict q, ptrdiff_t ldq, ptrdiff_t t, int accumulate, int rows, int nv,
    const char *ahead, ptrdiff_t ahead_bytes, ptrdiff_t at)
{
    NAME(vec) acc[TILE_ROWS][2];
    for (int i = 0; i < rows; ++i)
        for (int v = 0; v < nv; ++v)
            acc[i][v] = (accumulate & SKINNY_ADD) ? NAME(load)(c + i * ldc + v * NAME(VL))
                                                  : (NAME(vec)){0};
    for (ptrdiff_t u = 0; u < t; ++u) {
        const T *restrict qu = q + u * ldq;
        const T *restrict pu = p + u * pst;
        NAME(vec) qv[2];
        for (int v = 0; v < nv; ++v) {
            qv[v] = NAME(load)(qu + v * NAME(VL));
            if (ahead_bytes)
                fetch_line(ahead, ahead_bytes, at + 64 * (nv * u + v));
        }
        for (int i = 0; i < rows; ++i) {
            const NAME(vec) a = NAME(splat)(pu[i * psi]);
            for (int v = 0; v < nv; ++v)
                acc[i][v] += a * qv[v];
        }
    }
    for (int i = 0; i < rows; ++i)
        for (int v = 0; v < nv; ++v)
            if (accumulate & SKINNY_STREAM)
                NAME(store_stream)(c + i * ldc + v * NAME(VL), acc[i][v]);
            else
                NAME(store)(c + i * ldc + v * NAME(VL), acc[i][v]);
}

/* The columns `keep` .. VL-1 of one vector of columns of rows 0 .. rows-1 (rows constant): the
 * last columns of c, short of a whole vector, computed as the vector that ends at the last column
 * (the columns before `keep`, already done, computed again and not stored). Each stored sum is
 * the same as the vector tiles' (from c's value, then u in order), in vector lanes instead of
 * one element at a time. */
static CONV1DT_ALWAYS_INLINE void NAME(tile_tail)(
    T *restrict c, ptrdiff_t ldc, const T *restrict p, ptrdiff_t psi, ptrdiff_t pst,
    const T *restrict q, ptrdiff_t ldq, ptrdiff_t t, int accumulate, int rows, int keep)
{
    NAME(vec) acc[SKINNY_ROWS];
    for (int i = 0; i < rows; ++i)
        acc[i] = accumulate == SKINNY_ADD ? NAME(load)(c + i * ldc) : (NAME(vec)){0};
    for (ptrdiff_t u = 0; u < t; ++u) {
        const NAME(vec) qv = NAME(load)(q + u * ldq);
        const T *restrict pu = p + u * pst;
        for (int i = 0; i < rows; ++i)
            acc[i] += NAME(splat)(pu[i * psi]) * qv;
    }
    for (int i = 0; i < rows; ++i) {
        T lane[NAME(VL)];
        __builtin_memcpy(lane, &acc[i], sizeof lane);
        for (int l = keep; l < NAME(VL); ++l)
            c[i * ldc + l] = lane[l];
    }
}
#endif

/* Rows 0 .. rows-1 of c (rows constant) across all n columns: tiles of two vectors, then one,
 * then the columns left (as the last vector's lanes where n has a whole vector, else one by
 * one). The tiles together ask for the block ahead, in memory order. */
static CONV1DT_ALWAYS_INLINE void NAME(band)(
    T *restrict c, ptrdiff_t ldc, const T *restrict p, ptrdiff_t psi, ptrdiff_t pst,
    const T *restrict q, ptrdiff_t ldq, ptrdiff_t n, ptrdiff_t t, int accumulate, int rows,
    const char *ahead, ptrdiff_t ahead_bytes)
{
    ptrdiff_t j = 0, at = 0;
#if defined(__GNUC__) || defined(__clang__)
    for (; j + 2 * NAME(VL) <= n; j += 2 * NAME(VL), at += 128 * t)
        NAME(tile)(c + j, ldc, p, psi, pst, q + j, ldq, t, accumulate, rows, 2, ahead,
                   ahead_bytes, at);
    if (j + NAME(VL) <= n) {
        NAME(tile)(c + j, ldc, p, psi, pst, q + j, ldq, t, accumulate, rows, 1, ahead,
                   ahead_bytes, at);
        j += NAME(VL);
        at += 64 * t;
    }
    if (j < n && n >= NAME(VL)) {
        NAME(tile_tail)(c + n - NAME(VL), ldc, p, psi, pst, q + n - NAME(VL), ldq, t, accumulate,
                        rows, (int)(j - (n - NAME(VL))));
        j = n;
    }
#endif
    if (j < n)
        NAME(tile_scalar)(c + j, ldc, p, psi, pst, q + j, ldq, t, accumulate, rows, n - j, ahead,
                          ahead_bytes, at);
}

/* SKINNY_BY_ROWS: the bytes of c's block of columns kept in L1 while q's rows pass (half of a
 * 32 KiB L1), and the rows of q each vector of c gains between its load and its store */
#define BY_ROWS_C_BYTES 16384
#define BY_ROWS_U 8

#if defined(__GNUC__) || defined(__clang__)
/* SKINNY_BY_ROWS: the vector of columns j .. j+VL-1 of c's rows 0 .. rows-1 plus the products
 * of nu rows of q (a: the rows' elements of p, broadcast), its lanes from `keep` on stored (0:
 * the whole vector). */
static CONV1DT_ALWAYS_INLINE void NAME(by_rows_vec)(
    T *restrict c, ptrdiff_t ldc, const T *restrict q, ptrdiff_t ldq,
    NAME(vec) (*a)[BY_ROWS_U], int rows, int nu, ptrdiff_t j, int keep)
{
    NAME(vec) qv[BY_ROWS_U];
    for (int u = 0; u < nu; ++u)
        qv[u] = NAME(load)(q + u * ldq + j);
    for (int i = 0; i < rows; ++i) {
        NAME(vec) acc = NAME(load)(c + i * ldc + j);
        for (int u = 0; u < nu; ++u)
            acc += a[i][u] * qv[u];
        if (keep == 0) {
            NAME(store)(c + i * ldc + j, acc);
        } else {
            T lane[NAME(VL)];
            __builtin_memcpy(lane, &acc, sizeof lane);
            for (int l = keep; l < NAME(VL); ++l)
                c[i * ldc + j + l] = lane[l];
        }
    }
}
#endif

/* SKINNY_BY_ROWS: c's rows 0 .. rows-1 (rows constant, at most 8), columns 0 .. n-1, plus the
 * products of nu (constant, at most BY_ROWS_U) consecutive rows of q: each vector of c loaded,
 * the nu products added in increasing u, stored; the columns short of a vector as the tiles
 * take them (the lanes of the vector that ends at the last column, the lanes before them done
 * and not stored again; or one by one below a vector). The nu rows of q are read once, in
 * memory order, for all of c's rows. */
static CONV1DT_ALWAYS_INLINE void NAME(by_rows_step)(
    T *restrict c, ptrdiff_t ldc, const T *restrict p, ptrdiff_t psi, ptrdiff_t pst,
    const T *restrict q, ptrdiff_t ldq, ptrdiff_t n, int rows, int nu)
{
    ptrdiff_t j = 0;
#if defined(__GNUC__) || defined(__clang__)
    NAME(vec) a[8][BY_ROWS_U];
    for (int i = 0; i < rows; ++i)
        for (int u = 0; u < nu; ++u)
            a[i][u] = NAME(splat)(p[i * psi + u * pst]);
    for (; j + NAME(VL) <= n; j += NAME(VL))
        NAME(by_rows_vec)(c, ldc, q, ldq, a, rows, nu, j, 0);
    if (j < n && n >= NAME(VL)) {
        NAME(by_rows_vec)(c, ldc, q, ldq, a, rows, nu, n - NAME(VL), (int)(j - (n - NAME(VL))));
        j = n;
    }
#endif
    for (; j < n; ++j)
        for (int i = 0; i < rows; ++i) {
            T acc = c[i * ldc + j];
            for (int u = 0; u < nu; ++u)
                acc += p[i * psi + u * pst] * q[u * ldq + j];
            c[i * ldc + j] = acc;
        }
}

/* The skinny GEMM with SKINNY_BY_ROWS: for a q far larger than the caches, read once in memory
 * order (BY_ROWS_U rows at a time, each a run of consecutive lines the prefetchers follow) while
 * a block of c's columns (BY_ROWS_C_BYTES, bands of at most 8 rows; of 5 to 8, two bands on the
 * same rows of q) stays in L1 and gains their products, each vector of c loaded and stored once
 * for them. The tiles walk down q's columns instead, whose lines, far apart, each wait for memory
 * (docs/planner.rst). Each sum runs from c's value (or 0) over u in increasing order, as the
 * tiles' do. */
static void NAME(by_rows)(T *c, ptrdiff_t ldc, const T *p, ptrdiff_t psi, ptrdiff_t pst,
                          const T *q, ptrdiff_t ldq, ptrdiff_t m, ptrdiff_t n, ptrdiff_t t,
                          int accumulate)
{
    for (ptrdiff_t i0 = 0; i0 < m; i0 += 8) {
        const int rows = m - i0 < 8 ? (int)(m - i0) : 8;
        ptrdiff_t jb = BY_ROWS_C_BYTES / (ptrdiff_t)sizeof(T) / rows / NAME(VL) * NAME(VL);
        if (jb < NAME(VL))
            jb = NAME(VL);
        T *ci = c + i0 * ldc;
        const T *pi = p + i0 * psi;
        for (ptrdiff_t j0 = 0; j0 < n; j0 += jb) {
            const ptrdiff_t nc = n - j0 < jb ? n - j0 : jb;
            if (!(accumulate & SKINNY_ADD))
                for (int i = 0; i < rows; ++i)
                    memset(ci + i * ldc + j0, 0, (size_t)nc * sizeof(T));
            /* rows constant in each case, so that the step's loops unroll */
            T *cb = ci + j0;
            ptrdiff_t u = 0;
            switch (rows) {
#define CONV1DT_BY_ROWS(R) \
            case R: \
                for (; u + BY_ROWS_U <= t; u += BY_ROWS_U) { \
                    NAME(by_rows_step)(cb, ldc, pi + u * pst, psi, pst, q + u * ldq + j0, ldq, \
                                       nc, R, BY_ROWS_U); \
                } \
                for (; u < t; ++u) \
                    NAME(by_rows_step)(cb, ldc, pi + u * pst, psi, pst, q + u * ldq + j0, ldq, \
                                       nc, R, 1); \
                break;
/* 5 to 8 rows: 4 of them, then the others, on each step's rows of q (again, from the caches) */
#define CONV1DT_BY_ROWS2(R) \
            case R: \
                for (; u + BY_ROWS_U <= t; u += BY_ROWS_U) { \
                    NAME(by_rows_step)(cb, ldc, pi + u * pst, psi, pst, q + u * ldq + j0, ldq, \
                                       nc, 4, BY_ROWS_U); \
                    NAME(by_rows_step)(cb + 4 * ldc, ldc, pi + 4 * psi + u * pst, psi, pst, \
                                       q + u * ldq + j0, ldq, nc, R - 4, BY_ROWS_U); \
                } \
                for (; u < t; ++u) { \
                    NAME(by_rows_step)(cb, ldc, pi + u * pst, psi, pst, q + u * ldq + j0, ldq, \
                                       nc, 4, 1); \
                    NAME(by_rows_step)(cb + 4 * ldc, ldc, pi + 4 * psi + u * pst, psi, pst, \
                                       q + u * ldq + j0, ldq, nc, R - 4, 1); \
                } \
                break;
            CONV1DT_BY_ROWS(1) CONV1DT_BY_ROWS(2) CONV1DT_BY_ROWS(3) CONV1DT_BY_ROWS(4)
            CONV1DT_BY_ROWS2(5) CONV1DT_BY_ROWS2(6) CONV1DT_BY_ROWS2(7) CONV1DT_BY_ROWS2(8)
#undef CONV1DT_BY_ROWS2
#undef CONV1DT_BY_ROWS
            default: break;
            }
        }
    }
}

static void NAME(skinny)(T *c, ptrdiff_t ldc, const T *p, ptrdiff_t psi, ptrdiff_t pst,
                         const T *q, ptrdiff_t ldq, ptrdiff_t m, ptrdiff_t n, ptrdiff_t t,
                         int accumulate, const T *ahead, ptrdiff_t ahead_bytes)
{
    const char *next = (const char *)ahead;
    ptrdiff_t i = 0;
    if (accumulate & SKINNY_BY_ROWS) {
        NAME(by_rows)(c, ldc, p, psi, pst, q, ldq, m, n, t, accumulate & SKINNY_ADD);
        return;
    }
    if (m < SKINNY_ROWS && m != 4 && m != 2 && m != 1) {
        /* 3, 5, 6 or 7 rows in one band of that many, so that q is read once (in bands of 4, 2
         * and 1 it would be read two or three times, from memory when it is large) */
        switch (m) {
        case 3:
            NAME(band)(c, ldc, p, psi, pst, q, ldq, n, t, accumulate, 3, next, ahead_bytes);
            break;
#if SKINNY_ROWS > 4
        case 5:
            NAME(band)(c, ldc, p, psi, pst, q, ldq, n, t, accumulate, 5, next, ahead_bytes);
            break;
        case 6:
            NAME(band)(c, ldc, p, psi, pst, q, ldq, n, t, accumulate, 6, next, ahead_bytes);
            break;
        case 7:
            NAME(band)(c, ldc, p, psi, pst, q, ldq, n, t, accumulate, 7, next, ahead_bytes);
            break;
#endif
        }
        i = m;
    }
    for (; i + SKINNY_ROWS <= m; i += SKINNY_ROWS, ahead_bytes = 0)
        NAME(band)(c + i * ldc, ldc, p + i * psi, psi, pst, q, ldq, n, t, accumulate, SKINNY_ROWS,
                   next, ahead_bytes);
    if (SKINNY_ROWS > 4 && m - i >= 4) {
        NAME(band)(c + i * ldc, ldc, p + i * psi, psi, pst, q, ldq, n, t, accumulate, 4, next,
                   ahead_bytes);
        i += 4;
        ahead_bytes = 0;
    }
    if (m - i >= 2) {
        NAME(band)(c + i * ldc, ldc, p + i * psi, psi, pst, q, ldq, n, t, accumulate, 2, next,
                   ahead_bytes);
        i += 2;
        ahead_bytes = 0;
    }
    if (m - i >= 1)
        NAME(band)(c + i * ldc, ldc, p + i * psi, psi, pst, q, ldq, n, t, accumulate, 1, next,
                   ahead_bytes);
#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
    if (accumulate == SKINNY_STREAM)
        _mm_sfence();     /* the streaming stores done before anyone reads c */
#endif
}

#if defined(__GNUC__) || defined(__clang__)
/* The sum of the lanes of v, in a fixed order (the same for every call, so the bits of a result
 * never depend on how the work was split). */
static CONV1DT_ALWAYS_INLINE T NAME(hsum)(NAME(vec) v)
{
#if SKINNY_VBYTES == 64 && defined(__AVX512F__)
    if (sizeof(T) == 4)
        return _mm512_reduce_add_ps((__m512)v);
    return _mm512_reduce_add_pd((__m512d)v);
#else
    T lane[NAME(VL)];
    __builtin_memcpy(lane, &v, sizeof v);
    for (int w = NAME(VL) / 2; w >= 1; w /= 2)
        for (int l = 0; l < w; ++l)
            lane[l] += lane[l + w];
    return lane[0];
#endif
}

/* R x CC outputs of dot (R <= 8, CC <= 4 constant, so the loops unroll): R x CC vectors of partial sums
 * while u runs over whole vectors, each partial sum then added across its lanes, then the u
 * left over one by one. */
static CONV1DT_ALWAYS_INLINE void NAME(dot_tile)(
    T *restrict c, ptrdiff_t ldc, const T *restrict p, ptrdiff_t ldp, const T *restrict q,
    ptrdiff_t ldq, ptrdiff_t t, int accumulate, int R, int CC, const T *restrict next)
{
    NAME(vec) acc[8][4];
    ptrdiff_t tv = t - t % NAME(VL);
    for (int i = 0; i < R; ++i)
        for (int j = 0; j < CC; ++j)
            acc[i][j] = (NAME(vec)){0};
    for (ptrdiff_t u = 0; u < tv; u += NAME(VL)) {
        NAME(vec) pv[8], qv[4];
        for (int i = 0; i < R; ++i)
            pv[i] = NAME(load)(p + i * ldp + u);
        for (int j = 0; j < CC; ++j)
            qv[j] = NAME(load)(q + j * ldq + u);
        if (next != NULL)
            for (int i = 0; i < R; ++i)
                __builtin_prefetch(next + i * ldp + u, 0, 3);
        for (int i = 0; i < R; ++i)
            for (int j = 0; j < CC; ++j)
                acc[i][j] += pv[i] * qv[j];
    }
    for (int i = 0; i < R; ++i)
        for (int j = 0; j < CC; ++j) {
            T sum = NAME(hsum)(acc[i][j]);
            for (ptrdiff_t u = tv; u < t; ++u)
                sum += p[i * ldp + u] * q[j * ldq + u];
            c[i * ldc + j] = accumulate == SKINNY_ADD ? c[i * ldc + j] + sum : sum;
        }
}
#endif

/* Rows r .. r + R-1 (R constant, so the loops unroll) of one vector of channels j of
 * depthwise_tile: R sums in registers, each tap's filter vector loaded once for all of them. */
static CONV1DT_ALWAYS_INLINE void NAME(dw_tile)(
    T *restrict y, ptrdiff_t ldy, const T *restrict x, ptrdiff_t xrow, ptrdiff_t xtap,
    const T *restrict f, ptrdiff_t ftap, ptrdiff_t taps, int R, int mode)
{
#if defined(__GNUC__) || defined(__clang__)
    NAME(vec) acc[8];
    for (int r = 0; r < R; ++r)
        acc[r] = (NAME(vec)){0};
    for (ptrdiff_t u = 0; u < taps; ++u) {
        const NAME(vec) fv = NAME(load)(f + u * ftap);
        for (int r = 0; r < R; ++r)
            acc[r] += NAME(load)(x + r * xrow + u * xtap) * fv;
    }
    for (int r = 0; r < R; ++r)
        if (mode == SKINNY_STREAM)
            NAME(store_stream)(y + r * ldy, acc[r]);
        else
            NAME(store)(y + r * ldy, acc[r]);
#else
    (void)y, (void)ldy, (void)x, (void)xrow, (void)xtap, (void)f, (void)ftap, (void)taps;
    (void)R, (void)mode;
#endif
}

/* 8 rows of one vector of channels of depthwise_tile where consecutive outputs read consecutive
 * rows (a stride-1 convolution at dilation 1): y[r*ldy] = sum over u < taps of x[(r + u)*step]
 * * f[u*ftap], for r < 8, in increasing u. Taps u .. u+7 of the 8 sums read the 15 rows u ..
 * u+14, so the rows stay in registers across them: 8 rows and 8 filter vectors loaded per 64
 * multiply-adds, where dw_tile loads a row for each. (A negative step with y's rows reversed
 * serves the transpose, whose output r reads row r - u.) */
static CONV1DT_ALWAYS_INLINE void NAME(dw_slide)(
    T *restrict y, ptrdiff_t ldy, const T *restrict x, ptrdiff_t step,
    const T *restrict f, ptrdiff_t ftap, ptrdiff_t taps, int mode)
{
#if defined(__GNUC__) || defined(__clang__)
    NAME(vec) acc[8], xv[16];
    for (int r = 0; r < 8; ++r) {
        acc[r] = (NAME(vec)){0};
        xv[r] = NAME(load)(x + r * step);
    }
    ptrdiff_t u = 0;
    for (; u + 8 <= taps; u += 8) {
        /* xv[i] holds row u + i: rows u + 8 .. u + 14 for these taps */
        for (int i = 8; i < 15; ++i)
            xv[i] = NAME(load)(x + (u + i) * step);
        for (int t = 0; t < 8; ++t) {
            const NAME(vec) fv = NAME(load)(f + (u + t) * ftap);
            for (int r = 0; r < 8; ++r)
                acc[r] += xv[r + t] * fv;
        }
        for (int i = 0; i < 7; ++i)
            xv[i] = xv[i + 8];
        if (u + 8 < taps)             /* row u + 15, the next taps' row 7 */
            xv[7] = NAME(load)(x + (u + 15) * step);
    }
    for (; u < taps; ++u) {
        const NAME(vec) fv = NAME(load)(f + u * ftap);
        for (int r = 0; r < 8; ++r)
            acc[r] += NAME(load)(x + (r + u) * step) * fv;
    }
    for (int r = 0; r < 8; ++r)
        if (mode == SKINNY_STREAM)
            NAME(store_stream)(y + r * ldy, acc[r]);
        else
            NAME(store)(y + r * ldy, acc[r]);
#else
    (void)y, (void)ldy, (void)x, (void)step, (void)f, (void)ftap, (void)taps, (void)mode;
#endif
}

/* Rows of a depthwise convolution (one channel per group) where every tap reaches the signal
 * (the interior of a conv1d, or of a transpose with stride 1), all C channels:
 *
 *     y[r*ldy + j] = sum over u < taps of x[r*xrow + u*xtap + j] * f[u*ftap + j]
 *
 * for r < rows, j < C, each sum in increasing u. Tiles of 8 rows by one vector of channels: the
 * filter's vector of each tap serves 8 outputs, so the loop needs little more than one load per
 * multiply-add, and 8 independent sums hide the latency of the multiply-adds.
 *
 * From DW_COPY_MIN_TAPS taps, chunks of DW_CHUNK rows (more for a long filter) go through a
 * block of a few vectors of channels at a time, each vector's column of x (`x` has rows of C
 * elements; xrow and xtap are whole rows) and of f first copied next to each other. Read in
 * place, a column's rows lie C elements apart: with 256 or 512 channels 1 or 2 KiB, so that
 * the 8 + (taps-1)*d rows a tile reads and the filter's taps fall in the same few sets of L1 and
 * evict each other (1.5-2x the time with 33 taps). The chunk's rows are read from memory once,
 * a block after the other, while they stay in L2. With fewer taps, or a window beyond
 * DW_WINDOW_BYTES for 8 rows (a filter spanning thousands of rows), x is read in place, 8 rows
 * of all channels at a time. */
static void NAME(depthwise_tile)(T *y, ptrdiff_t ldy, const T *x, ptrdiff_t xrow, ptrdiff_t xtap,
                                 const T *f, ptrdiff_t ftap, ptrdiff_t taps, ptrdiff_t rows,
                                 ptrdiff_t C, int mode)
{
    ptrdiff_t r = 0, j = 0;
#if defined(__GNUC__) || defined(__clang__)
    enum { VL = NAME(VL), WINDOW = DW_WINDOW_BYTES / sizeof(T) / NAME(VL) };
    /* x's rows as multiples of C: tap u of output r reads row r*a + u*b */
    const ptrdiff_t a = C ? xrow / C : 0, b = C ? xtap / C : 0, vectors = C / VL;
    const ptrdiff_t span = (taps - 1) * (b < 0 ? -b : b);
    ptrdiff_t chunk = span > DW_CHUNK / 2 ? 2 * span : DW_CHUNK;
    if (a > 0 && (chunk - 1) * a + span + 1 > WINDOW)
        chunk = (WINDOW - 1 - span) / a + 1;
    chunk -= chunk % 8;
    if (taps < DW_COPY_MIN_TAPS || taps > DW_STRIP_TAPS || !(C && a * C == xrow && b * C == xtap
            && a >= 0 && span < WINDOW && chunk >= 8 && vectors)) {
        for (; r + 8 <= rows; r += 8)
            for (j = 0; j + VL <= C; j += VL)
                NAME(dw_tile)(y + r * ldy + j, ldy, x + r * xrow + j, xrow, xtap, f + j, ftap,
                              taps, 8, mode);
        for (; r < rows; ++r)
            for (j = 0; j + VL <= C; j += VL)
                NAME(dw_tile)(y + r * ldy + j, ldy, x + r * xrow + j, xrow, xtap, f + j, ftap,
                              taps, 1, mode);
    } else {
        T strip[DW_STRIP_TAPS * VL] __attribute__((aligned(64)));
        T window[WINDOW * VL] __attribute__((aligned(64)));
        const ptrdiff_t most = (chunk - 1) * a + span + 1;        /* a chunk's window rows */
        const ptrdiff_t block = WINDOW / most < vectors ? WINDOW / most : vectors;
        for (ptrdiff_t r0 = 0; r0 < rows; r0 += chunk) {
            const ptrdiff_t n = rows - r0 < chunk ? rows - r0 : chunk;
            /* the window: x's rows lo .. lo + len - 1 */
            const ptrdiff_t lo = r0 * a + (b < 0 ? (taps - 1) * b : 0);
            const ptrdiff_t len = (n - 1) * a + span + 1;
            for (ptrdiff_t v0 = 0; v0 < vectors; v0 += block) {
                const ptrdiff_t nv = vectors - v0 < block ? vectors - v0 : block;
                for (ptrdiff_t i = 0; i < len; ++i)
                    for (ptrdiff_t v = 0; v < nv; ++v)
                        NAME(store)(window + (v * len + i) * VL,
                                    NAME(load)(x + (lo + i) * C + (v0 + v) * VL));
                for (ptrdiff_t v = 0; v < nv; ++v) {
                    j = (v0 + v) * VL;
                    for (ptrdiff_t u = 0; u < taps; ++u)
                        NAME(store)(strip + u * VL, NAME(load)(f + u * ftap + j));
                    const T *xw = window + (v * len + r0 * a - lo) * VL;
                    r = 0;
                    if (a == 1 && b == 1)           /* output r, tap u: row r + u */
                        for (; r + 8 <= n; r += 8)
                            NAME(dw_slide)(y + (r0 + r) * ldy + j, ldy, xw + r * VL, VL, strip,
                                           VL, taps, mode);
                    else if (a == 1 && b == -1)     /* row r - u: the rows from r + 7 down */
                        for (; r + 8 <= n; r += 8)
                            NAME(dw_slide)(y + (r0 + r + 7) * ldy + j, -ldy,
                                           xw + (r + 7) * VL, -VL, strip, VL, taps, mode);
                    for (; r + 8 <= n; r += 8)
                        NAME(dw_tile)(y + (r0 + r) * ldy + j, ldy, xw + r * a * VL, a * VL,
                                      b * VL, strip, VL, taps, 8, mode);
                    for (; r < n; ++r)
                        NAME(dw_tile)(y + (r0 + r) * ldy + j, ldy, xw + r * a * VL, a * VL,
                                      b * VL, strip, VL, taps, 1, mode);
                }
            }
        }
    }
    j = C - C % VL;
#endif
    for (r = 0; r < rows; ++r)
        for (ptrdiff_t jj = j; jj < C; ++jj) {
            T acc = 0;
            for (ptrdiff_t u = 0; u < taps; ++u)
                acc += x[r * xrow + u * xtap + jj] * f[u * ftap + jj];
            y[r * ldy + jj] = acc;
        }
}

/* Rows of a depthwise convolution (one channel per group), all C channels:
 *
 *     y[r*ldy + j] = sum over u < ntaps[r] of x[xoff[r] + u*xstep + j] * f[foff[r] + u*fstep + j]
 *
 * for r < rows, j < C, each sum in increasing u: the taps of output r that reach the signal,
 * whose input rows and filter rows are evenly spaced (the caller works out the first of each and
 * their count). The same product as the skinny GEMM with a diagonal q: for each block of four
 * vectors of channels the rows run in turn, their sums held in registers across the taps, so
 * that the few rows of x and f a block reads stay in L1 from one output to the next, and y is
 * written once (past the caches with SKINNY_STREAM; the caller fences). */
static void NAME(depthwise_rows)(T *y, ptrdiff_t ldy, const T *x, const T *f, ptrdiff_t rows,
                                 const ptrdiff_t *xoff, const ptrdiff_t *foff,
                                 const ptrdiff_t *ntaps, ptrdiff_t xstep, ptrdiff_t fstep,
                                 ptrdiff_t C, int mode)
{
    ptrdiff_t j = 0;
#if defined(__GNUC__) || defined(__clang__)
    for (; j + 4 * NAME(VL) <= C; j += 4 * NAME(VL))
        for (ptrdiff_t r = 0; r < rows; ++r) {
            const T *xu = x + xoff[r] + j, *fu = f + foff[r] + j;
            NAME(vec) acc[4] = {{0}, {0}, {0}, {0}};
            for (ptrdiff_t u = 0; u < ntaps[r]; ++u, xu += xstep, fu += fstep)
                for (int v = 0; v < 4; ++v)
                    acc[v] += NAME(load)(xu + v * NAME(VL)) * NAME(load)(fu + v * NAME(VL));
            for (int v = 0; v < 4; ++v)
                if (mode == SKINNY_STREAM)
                    NAME(store_stream)(y + r * ldy + j + v * NAME(VL), acc[v]);
                else
                    NAME(store)(y + r * ldy + j + v * NAME(VL), acc[v]);
        }
    for (; j + NAME(VL) <= C; j += NAME(VL))
        for (ptrdiff_t r = 0; r < rows; ++r) {
            const T *xu = x + xoff[r] + j, *fu = f + foff[r] + j;
            NAME(vec) acc = {0};
            for (ptrdiff_t u = 0; u < ntaps[r]; ++u, xu += xstep, fu += fstep)
                acc += NAME(load)(xu) * NAME(load)(fu);
            NAME(store)(y + r * ldy + j, acc);
        }
#endif
    for (ptrdiff_t r = 0; r < rows; ++r)
        for (ptrdiff_t jj = j; jj < C; ++jj) {
            const T *xu = x + xoff[r] + jj, *fu = f + foff[r] + jj;
            T acc = 0;
            for (ptrdiff_t u = 0; u < ntaps[r]; ++u, xu += xstep, fu += fstep)
                acc += *xu * *fu;
            y[r * ldy + jj] = acc;
        }
}

/* NT taps (NT constant, so the loops unroll) of one vector of channels of depthwise_filter,
 * over positions ia .. i1-1 of one batch element at which all of them reach the signal:
 * acc_out[t*ldacc] += w[(first + (i - ia)*s + t*d)*ws] * g[(i - i0)*VL], in increasing i
 * (first: the window row that position ia's first tap reads; g's column starts at i0). */
static CONV1DT_ALWAYS_INLINE void NAME(dwf_taps)(
    T *restrict acc_out, ptrdiff_t ldacc, const T *restrict w, ptrdiff_t ws, const T *restrict g,
    ptrdiff_t i0, ptrdiff_t i1, ptrdiff_t ia, ptrdiff_t s, ptrdiff_t d, ptrdiff_t first, int NT)
{
#if defined(__GNUC__) || defined(__clang__)
    NAME(vec) acc[8];
    for (int t = 0; t < NT; ++t)
        acc[t] = NAME(load)(acc_out + t * ldacc);
    const T *gi = g + (ia - i0) * NAME(VL);
    const T *wi = w + first * ws;
    for (ptrdiff_t i = ia; i < i1; ++i, gi += NAME(VL), wi += s * ws) {
        const NAME(vec) gv = NAME(load)(gi);
        for (int t = 0; t < NT; ++t)
            acc[t] += NAME(load)(wi + t * d * ws) * gv;
    }
    for (int t = 0; t < NT; ++t)
        NAME(store)(acc_out + t * ldacc, acc[t]);
#else
    (void)acc_out, (void)ldacc, (void)w, (void)ws, (void)g, (void)i0, (void)i1, (void)ia;
    (void)s, (void)d, (void)first, (void)NT;
#endif
}

/* dwf_taps for 8 taps where position i + 1 of tap t reads the row of position i of tap t + 1
 * (the stride equals the dilation): acc_out[t*ldacc] += w[(i + t)*step] * g[i*VL] for i < n,
 * in increasing i. Positions i .. i+7 of the 8 taps read the 15 rows i .. i+14, so the rows stay in
 * registers across them: 8 rows of w and 8 of g loaded per 64 multiply-adds (dw_slide's
 * registers, for the gradient). */
static CONV1DT_ALWAYS_INLINE void NAME(dwf_slide)(
    T *restrict acc_out, ptrdiff_t ldacc, const T *restrict w, ptrdiff_t step,
    const T *restrict g, ptrdiff_t n)
{
#if defined(__GNUC__) || defined(__clang__)
    NAME(vec) acc[8], xv[15];
    for (int t = 0; t < 8; ++t)
        acc[t] = NAME(load)(acc_out + t * ldacc);
    ptrdiff_t i = 0;
    if (n >= 8)
        for (int q = 0; q < 7; ++q)
            xv[q] = NAME(load)(w + q * step);
    for (; i + 8 <= n; i += 8) {
        /* xv[q] holds row i + q: rows i + 7 .. i + 14 for these positions */
        for (int q = 7; q < 15; ++q)
            xv[q] = NAME(load)(w + (i + q) * step);
        for (int r = 0; r < 8; ++r) {
            const NAME(vec) gv = NAME(load)(g + (i + r) * NAME(VL));
            for (int t = 0; t < 8; ++t)
                acc[t] += xv[r + t] * gv;
        }
        for (int q = 0; q < 7; ++q)
            xv[q] = xv[q + 8];
    }
    for (; i < n; ++i) {
        const NAME(vec) gv = NAME(load)(g + i * NAME(VL));
        for (int t = 0; t < 8; ++t)
            acc[t] += NAME(load)(w + (i + t) * step) * gv;
    }
    for (int t = 0; t < 8; ++t)
        NAME(store)(acc_out + t * ldacc, acc[t]);
#else
    (void)acc_out, (void)ldacc, (void)w, (void)step, (void)g, (void)n;
#endif
}

/* Taps k0 .. k0+nt-1 of one vector of channels of depthwise_filter, each over its own
 * positions within [from, to) (the chunk's positions where only some of a block's taps reach
 * the signal), one tap at a time; dwf_taps's other arguments, lo the window's first row. */
static CONV1DT_ALWAYS_INLINE void NAME(dwf_edge)(
    T *df, ptrdiff_t C, const T *w, ptrdiff_t ws, const T *g, ptrdiff_t c0, ptrdiff_t from,
    ptrdiff_t to, ptrdiff_t k0, int nt, ptrdiff_t s, ptrdiff_t d, ptrdiff_t pad, ptrdiff_t L,
    ptrdiff_t lo)
{
    for (int t = 0; t < nt; ++t) {
        const ptrdiff_t k = k0 + t;
        ptrdiff_t ka, kb;
        tap_positions(k, s, d, pad, L, from, to, &ka, &kb);
        if (ka < kb)
            NAME(dwf_taps)(df + k * C, C, w, ws, g, c0, kb, ka, s, d,
                           ka * s + k * d - pad - lo, 1);
    }
}

/* The filter gradient of a depthwise convolution (one channel per group), channels j0 .. j1-1
 * (j0 a multiple of the vector's lanes; j1 one too, or C), over rows r0 .. r1-1 of the
 * flattened (batch, position):
 *
 *     df[k*C + j] = sum over r = n*M + i, r0 <= r < r1, in increasing r, of
 *                   x[(n*L + i*s + k*d - pad)*C + j] * dy[r*C + j]
 *
 * for k < K, over the terms whose row of x is on the signal (0 <= i*s + k*d - pad < L; no term,
 * not a zero, for the others). df is overwritten for those channels.
 *
 * In place, the column of one vector of channels has its rows C elements apart (1 or 2 KiB with
 * 256 or 512 channels), so that the rows a tap block reads fall in a few sets of L1 and evict
 * each other (depthwise_tile's trouble). So chunks of DW_CHUNK positions go through a block of
 * vectors at a time: the chunk's window of x (the rows its taps read) and its rows of dy, each
 * row read whole for the block, are copied into columns of the caller's scratch (an odd number
 * of vectors apart, so that a row's stores fall in different sets); then blocks of 8 taps (4, 2,
 * 1 for the rest) keep their sums in registers while the chunk's positions run: one load of x
 * per multiply-add and one of dy per 8, or with the stride equal to the dilation 8 rows of x
 * and 8 of dy per 64 (dwf_slide). The taps' first and last positions, where some of a block's
 * taps reach past the signal, go tap by tap. Without a scratch, where one vector's window does
 * not fit in it (a filter spanning thousands of rows) or where the stride passes rows that no
 * tap reads, x is read in place. The channels after the last whole vector go element by
 * element. */
static void NAME(depthwise_filter)(T *df, const T *x, const T *dy, ptrdiff_t L, ptrdiff_t M,
                                   ptrdiff_t C, ptrdiff_t K, ptrdiff_t s, ptrdiff_t d,
                                   ptrdiff_t pad, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t j0,
                                   ptrdiff_t j1, T *scratch, ptrdiff_t scratch_elems)
{
    for (ptrdiff_t k = 0; k < K; ++k)
        memset(df + k * C + j0, 0, (size_t)(j1 - j0) * sizeof(T));
    ptrdiff_t j = j0;
#if defined(__GNUC__) || defined(__clang__)
    enum { VL = NAME(VL) };
    const ptrdiff_t span = (K - 1) * d, vectors = (j1 - j0) / VL;
    /* the scratch holds, for each of a block of vectors, the chunk's window of x and column of
     * dy: chunks of at most DW_CHUNK positions where one vector's fit */
    const ptrdiff_t cap = scratch ? scratch_elems / VL : 0;
    ptrdiff_t chunk = DW_CHUNK;
    while (chunk > 1 && (chunk - 1) * s + span + chunk + 3 > cap)
        chunk /= 2;
    /* (a stride beyond the filter's span would copy rows that no tap reads) */
    const int copy = s <= span + 1 && (chunk - 1) * s + span + chunk + 3 <= cap;
    if (!copy)
        chunk = DW_CHUNK;
    T gcol[DW_CHUNK * VL] __attribute__((aligned(64)));
    for (ptrdiff_t r = r0; r < r1;) {
        const ptrdiff_t n = r / M, i0 = r % M;
        const ptrdiff_t i1 = (n + 1) * M <= r1 ? M : r1 - n * M;
        for (ptrdiff_t c0 = i0; c0 < i1; c0 += chunk) {
            const ptrdiff_t c1 = c0 + chunk < i1 ? c0 + chunk : i1;
            /* x's rows lo .. hi-1 on the signal that the chunk reads */
            ptrdiff_t lo = c0 * s - pad, hi = (c1 - 1) * s + span - pad + 1;
            lo = lo < 0 ? 0 : lo;
            hi = hi > L ? L : hi;
            const ptrdiff_t len = hi > lo ? hi - lo : 0, cn = c1 - c0;
            /* the columns an odd number of vectors apart: a row's stores into the columns then
             * fall in different sets of L1 (an even stride such as 64 puts them all in one) */
            const ptrdiff_t lw = len | 1, lg = cn | 1;
            ptrdiff_t block = copy ? cap / (lw + lg) : 1;
            block = block < vectors ? block : vectors;
            block = block < 1 ? 1 : block;
            T *window = scratch, *gbuf = copy ? scratch + block * lw * VL : gcol;
            for (ptrdiff_t v0 = 0; v0 < vectors; v0 += block) {
                const ptrdiff_t nv = vectors - v0 < block ? vectors - v0 : block;
                const T *xn = x + (n * L + lo) * C + j0 + v0 * VL;
                if (copy) {
                    /* the rows of the block's vectors, each read whole, into columns */
                    for (ptrdiff_t q = 0; q < len; ++q)
                        for (ptrdiff_t v = 0; v < nv; ++v)
                            NAME(store)(window + (v * lw + q) * VL,
                                        NAME(load)(xn + q * C + v * VL));
                    for (ptrdiff_t i = c0; i < c1; ++i)
                        for (ptrdiff_t v = 0; v < nv; ++v)
                            NAME(store)(gbuf + (v * lg + i - c0) * VL,
                                        NAME(load)(dy + (n * M + i) * C + j0 + (v0 + v) * VL));
                }
                for (ptrdiff_t v = 0; v < nv; ++v) {
                    const ptrdiff_t jv = j0 + (v0 + v) * VL;
                    const T *w = copy ? window + v * lw * VL : xn + v * VL;
                    const ptrdiff_t ws = copy ? VL : C;
                    const T *gv = copy ? gbuf + v * lg * VL : gcol;
                    if (!copy)
                        for (ptrdiff_t i = c0; i < c1; ++i)
                            NAME(store)(gcol + (i - c0) * VL,
                                        NAME(load)(dy + (n * M + i) * C + jv));
                    for (ptrdiff_t k0 = 0; k0 < K;) {
                        const int nt = K - k0 >= 8 ? 8 : K - k0 >= 4 ? 4 : K - k0 >= 2 ? 2 : 1;
                        /* the block's taps all reach the signal from its first tap's first
                         * position to its last tap's last */
                        ptrdiff_t ia, ib, unused;
                        tap_positions(k0, s, d, pad, L, c0, c1, &ia, &unused);
                        tap_positions(k0 + nt - 1, s, d, pad, L, c0, c1, &unused, &ib);
                        if (ia >= ib)
                            ia = ib = c1;
                        /* the positions before ia and from ib, where only some of them do,
                         * tap by tap: each sum still in increasing i */
                        NAME(dwf_edge)(df + jv, C, w, ws, gv, c0, c0, ia, k0, nt, s, d, pad, L,
                                       lo);
                        if (ia < ib) {
                            T *acc = df + k0 * C + jv;
                            const ptrdiff_t first = ia * s + k0 * d - pad - lo;
                            if (nt == 8 && s == d && SKINNY_VBYTES == 64)
                                NAME(dwf_slide)(acc, C, w + first * ws, s * ws,
                                                gv + (ia - c0) * VL, ib - ia);
                            else if (nt == 8)
                                NAME(dwf_taps)(acc, C, w, ws, gv, c0, ib, ia, s, d, first, 8);
                            else if (nt == 4)
                                NAME(dwf_taps)(acc, C, w, ws, gv, c0, ib, ia, s, d, first, 4);
                            else if (nt == 2)
                                NAME(dwf_taps)(acc, C, w, ws, gv, c0, ib, ia, s, d, first, 2);
                            else
                                NAME(dwf_taps)(acc, C, w, ws, gv, c0, ib, ia, s, d, first, 1);
                        }
                        NAME(dwf_edge)(df + jv, C, w, ws, gv, c0, ib, c1, k0, nt, s, d, pad, L,
                                       lo);
                        k0 += nt;
                    }
                }
            }
        }
        r = n * M + i1;
    }
    j = j0 + vectors * VL;
#endif
    /* the channels after the last whole vector: element by element, in the same order */
    for (ptrdiff_t r = r0; r < r1; ++r) {
        const ptrdiff_t n = r / M, i = r % M;
        for (ptrdiff_t k = 0; k < K; ++k) {
            const ptrdiff_t o = i * s + k * d - pad;
            if (o < 0 || o >= L)
                continue;
            for (ptrdiff_t jj = j; jj < j1; ++jj)
                df[k * C + jj] += x[(n * L + o) * C + jj] * dy[r * C + jj];
        }
    }
}

/* The dot GEMM: c[i*ldc + j] = (accumulate == SKINNY_ADD ? c[i*ldc + j] : 0) + the sum over
 * u < t of p[i*ldp + u] * q[j*ldq + u], for i < m and j < n: both operands run along u (a
 * product with the second operand transposed, as a filter [Cout, Cin] is to the transpose's
 * rows [rows, Cin]). Nothing is packed: tiles of 4 x 4 outputs (2 x 4 with narrower vectors)
 * hold vectors of partial sums while u runs, reading 8 vectors per 16 multiply-adds, and each
 * output's lanes are added in a fixed order at the end. */
static void NAME(dot)(T *c, ptrdiff_t ldc, const T *p, ptrdiff_t ldp, const T *q, ptrdiff_t ldq,
                      ptrdiff_t m, ptrdiff_t n, ptrdiff_t t, int accumulate)
{
#if defined(__GNUC__) || defined(__clang__)
    enum { DR = SKINNY_VBYTES == 64 ? 4 : 2 };
    /* Long rows (DOT_LONG_BYTES or more) and more of p than L1 holds (the overlap-add's
     * products of a few taps of a many-to-few filter: hundreds of input rows, each of Cin
     * samples, by Cout*taps rows of the filter): jb rows of q at a time, as many as
     * DOT_Q_BYTES hold (a multiple of 4), which stay in L1 while p's rows run past them in
     * tiles of DR, each tile read from memory once for them and the next tile's fetched
     * ahead while the first 4 rows of q multiply this one's. Each output is the same sum as
     * by the loops below, whose order (q outer) reads each row of q from memory once where q
     * is the larger operand, and p's rows again from cache for every 4 of q's. */
    const ptrdiff_t jb = (DOT_Q_BYTES / ((ptrdiff_t)sizeof(T) * (t > 0 ? t : 1))) / 4 * 4;
    if (SKINNY_VBYTES == 64 && jb >= 4 && m >= 2 * DR && t * (ptrdiff_t)sizeof(T) >= DOT_LONG_BYTES
        && m * t * (ptrdiff_t)sizeof(T) > 2 * DOT_Q_BYTES) {
        for (ptrdiff_t j0 = 0; j0 < n; j0 += jb) {
            const ptrdiff_t j1 = n - j0 < jb ? n : j0 + jb;
            ptrdiff_t i = 0;
            for (; i + DR <= m; i += DR) {
                const T *next = i + 2 * DR <= m ? p + (i + DR) * ldp : NULL;
                ptrdiff_t j = j0;
                for (; j + 4 <= j1; j += 4) {
                    NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                                   accumulate, DR, 4, j == j0 ? next : NULL);
                }
                for (; j < j1; ++j)
                    NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                                   accumulate, DR, 1, NULL);
            }
            for (; i < m; ++i) {
                ptrdiff_t j = j0;
                for (; j + 4 <= j1; j += 4)
                    NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                                   accumulate, 1, 4, NULL);
                for (; j < j1; ++j)
                    NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                                   accumulate, 1, 1, NULL);
            }
        }
        return;
    }
    /* q (the filter, the larger operand) in the outer loop: each of its rows is read from
     * memory once, while the few rows of p are read again from cache for every 4 of them */
    ptrdiff_t j = 0;
    if (SKINNY_VBYTES == 32 && (m % 3 == 0 || m >= 8)) {
        /* 16 vector registers: tiles of 3 x 3 (9 sums, 6 loads per 9 multiply-adds), where
         * the rows left over (1 x 3 tiles, 3 sums) are none or few */
        for (; j + 3 <= n; j += 3) {
            ptrdiff_t i = 0;
            for (; i + 3 <= m; i += 3)
                NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                               accumulate, 3, 3, NULL);
            for (; i < m; ++i)
                NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                               accumulate, 1, 3, NULL);
        }
    }
    for (; j + 4 <= n; j += 4) {
        ptrdiff_t i = 0;
        for (; i + DR <= m; i += DR)
            NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                           accumulate, DR, 4, NULL);
        for (; i < m; ++i)
            NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                           accumulate, 1, 4, NULL);
    }
    if (SKINNY_VBYTES == 64 && j < n) {
        /* the 1-3 columns left (all of them, for conv1d's few output channels by dot
         * products) together, in taller tiles: 8 x 1 or 8 x 2 sums (8 or 16 chains of
         * multiply-adds, enough to cover their latency, where 4 x 1 tiles' 4 left the unit
         * idle half the time), 4 x 3 for three */
        const int rem = (int)(n - j);
        ptrdiff_t i = 0;
        if (rem == 1)
            for (; i + 8 <= m; i += 8)
                NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                               accumulate, 8, 1, NULL);
        else if (rem == 2)
            for (; i + 8 <= m; i += 8)
                NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                               accumulate, 8, 2, NULL);
        else
            for (; i + 4 <= m; i += 4)
                NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                               accumulate, 4, 3, NULL);
        for (; i < m; ++i) {
            if (rem == 1)
                NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                               accumulate, 1, 1, NULL);
            else if (rem == 2)
                NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                               accumulate, 1, 2, NULL);
            else
                NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                               accumulate, 1, 3, NULL);
        }
        return;
    }
    for (; j < n; ++j) {
        ptrdiff_t i = 0;
        for (; i + DR <= m; i += DR)
            NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                           accumulate, DR, 1, NULL);
        for (; i < m; ++i)
            NAME(dot_tile)(c + i * ldc + j, ldc, p + i * ldp, ldp, q + j * ldq, ldq, t,
                           accumulate, 1, 1, NULL);
    }
#else
    for (ptrdiff_t i = 0; i < m; ++i)
        for (ptrdiff_t j = 0; j < n; ++j) {
            T sum = 0;
            for (ptrdiff_t u = 0; u < t; ++u)
                sum += p[i * ldp + u] * q[j * ldq + u];
            c[i * ldc + j] = accumulate == SKINNY_ADD ? c[i * ldc + j] + sum : sum;
        }
#endif
}

/* The grouped rows: y[k*ystep + j] += the sum over u < t, in increasing u, of x[u*ld + j] *
 * f[k*fstep + u*ld + j], for k < taps and j < n; each sum first, then its addition to y. One
 * input row of the grouped transpose (x: its channels spread to the output's, u running over a
 * group's input channels) times taps rows of the filter laid out the same way: whole output rows
 * in vectors, whatever the groups' sizes (the per-group sums of a few channels would each be a
 * scalar loop). */
static void NAME(grouped)(T *y, ptrdiff_t ystep, const T *x, const T *f, ptrdiff_t fstep,
                          ptrdiff_t taps, ptrdiff_t ld, ptrdiff_t n, ptrdiff_t t)
{
    for (ptrdiff_t k = 0; k < taps; ++k) {
        T *restrict yk = y + k * ystep;
        const T *restrict fk = f + k * fstep;
        ptrdiff_t j = 0;
#if defined(__GNUC__) || defined(__clang__)
        for (; j + 2 * NAME(VL) <= n; j += 2 * NAME(VL)) {
            NAME(vec) a0 = NAME(load)(x + j) * NAME(load)(fk + j);
            NAME(vec) a1 = NAME(load)(x + j + NAME(VL)) * NAME(load)(fk + j + NAME(VL));
            for (ptrdiff_t u = 1; u < t; ++u) {
                a0 += NAME(load)(x + u * ld + j) * NAME(load)(fk + u * ld + j);
                a1 += NAME(load)(x + u * ld + j + NAME(VL)) * NAME(load)(fk + u * ld + j + NAME(VL));
            }
            NAME(store)(yk + j, NAME(load)(yk + j) + a0);
            NAME(store)(yk + j + NAME(VL), NAME(load)(yk + j + NAME(VL)) + a1);
        }
        for (; j + NAME(VL) <= n; j += NAME(VL)) {
            NAME(vec) a0 = NAME(load)(x + j) * NAME(load)(fk + j);
            for (ptrdiff_t u = 1; u < t; ++u)
                a0 += NAME(load)(x + u * ld + j) * NAME(load)(fk + u * ld + j);
            NAME(store)(yk + j, NAME(load)(yk + j) + a0);
        }
#endif
        for (; j < n; ++j) {
            T acc = x[j] * fk[j];
            for (ptrdiff_t u = 1; u < t; ++u)
                acc += x[u * ld + j] * fk[u * ld + j];
            yk[j] += acc;
        }
    }
}


/* The spread row: dst[c*ld + j*rep + q] = src[j*cg + c] for c < cg, j < groups, q < rep (one
 * input row of a grouped call, cg channels a group, spread to the other side's channels, rep a
 * group, for grouped above). Each group's value is stored as whole vectors: with rep shorter
 * than a vector, one vector a group in increasing j, whose lanes past the group are the next
 * groups', which their own stores then overwrite (one store a group, not rep); else vectors
 * from the group's start and one ending at its end. Nothing is written past a row's n = groups
 * * rep elements. */
static void NAME(spread)(T *restrict dst, ptrdiff_t ld, const T *restrict src, ptrdiff_t groups,
                         ptrdiff_t cg, ptrdiff_t rep)
{
    const ptrdiff_t n = groups * rep;
    for (ptrdiff_t c = 0; c < cg; ++c) {
        T *restrict d = dst + c * ld;
        ptrdiff_t j = 0;
#if defined(__GNUC__) || defined(__clang__)
        if (rep < NAME(VL)) {
            for (; j * rep + NAME(VL) <= n; ++j)
                NAME(store)(d + j * rep, NAME(splat)(src[j * cg + c]));
        } else {
            for (; j < groups; ++j) {
                const NAME(vec) v = NAME(splat)(src[j * cg + c]);
                T *restrict g = d + j * rep;
                ptrdiff_t q = 0;
                for (; q + NAME(VL) <= rep; q += NAME(VL))
                    NAME(store)(g + q, v);
                if (q < rep)
                    NAME(store)(g + rep - NAME(VL), v);
            }
        }
#endif
        for (; j < groups; ++j) {
            const T v = src[j * cg + c];
            for (ptrdiff_t q = 0; q < rep; ++q)
                d[j * rep + q] = v;
        }
    }
}


#if defined(__GNUC__) || defined(__clang__)
/* Outputs 0 .. nv*VL - 1 of fir (nv constant, at most 8, so the loops unroll): nv accumulators
 * in registers while u runs, one broadcast of w[u] and nv loads of x per step. */
static CONV1DT_ALWAYS_INLINE void NAME(fir_tile)(T *restrict y, const T *restrict w,
                                                 ptrdiff_t t, const T *restrict x, ptrdiff_t ld,
                                                 int accumulate, int nv)
{
    NAME(vec) acc[8];
    for (int v = 0; v < nv; ++v)
        acc[v] = accumulate ? NAME(load)(y + v * NAME(VL)) : (NAME(vec)){0};
    for (ptrdiff_t u = 0; u < t; ++u) {
        const NAME(vec) a = NAME(splat)(w[u]);
        const T *restrict xu = x + u * ld;
        for (int v = 0; v < nv; ++v)
            acc[v] += a * NAME(load)(xu + v * NAME(VL));
    }
    for (int v = 0; v < nv; ++v)
        NAME(store)(y + v * NAME(VL), acc[v]);
}
#endif

/* The FIR filter: y[j] = (accumulate ? y[j] : 0) + the sum over u < t, in increasing u, of
 * w[u] * x[u*ld + j], for j < n. One row of the skinny GEMM with the rows of x overlapping (a
 * signal read at lags u*ld): tiles of 8 vectors of outputs (then 4, 2, 1, the last vector's
 * lanes, and one by one where n is short of a vector) keep their sums in registers while u runs.
 * Where the window the tiles read, t*ld elements, is beyond the first-level cache, u runs in
 * chunks over all the tiles (the sums stored and loaded between chunks, which leaves every
 * rounding as it was). */
static void NAME(fir)(T *y, const T *w, ptrdiff_t t, const T *x, ptrdiff_t ld, ptrdiff_t n,
                      int accumulate)
{
#if defined(__GNUC__) || defined(__clang__)
    if (n < NAME(VL) && ld == 1 && t >= 4 * NAME(VL)) {
        /* fewer outputs than a vector's lanes, on a signal read at consecutive lags: each output
         * a dot product along u in vectors, its lanes added in a fixed order at the end */
        for (ptrdiff_t j = 0; j < n; ++j) {
            NAME(vec) acc[4] = {{0}, {0}, {0}, {0}};
            ptrdiff_t u = 0;
            for (; u + 4 * NAME(VL) <= t; u += 4 * NAME(VL))
                for (int v = 0; v < 4; ++v)
                    acc[v] += NAME(load)(w + u + v * NAME(VL)) * NAME(load)(x + u + v * NAME(VL) + j);
            T sum = NAME(hsum)((acc[0] + acc[1]) + (acc[2] + acc[3]));
            for (; u < t; ++u)
                sum += w[u] * x[u + j];
            y[j] = accumulate ? y[j] + sum : sum;
        }
        return;
    }
#endif
    if (n < NAME(VL)) {
        /* fewer outputs than a vector's lanes otherwise (a filter gradient's taps on a signal read
         * at a stride): each output a dot product along u with eight sums in flight, so that the
         * multiply-adds do not wait on one another, added in a fixed order at the end */
        for (ptrdiff_t j = 0; j < n; ++j) {
            const T *restrict xj = x + j;
            T a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            ptrdiff_t u = 0;
            for (; u + 8 <= t; u += 8)
                for (int v = 0; v < 8; ++v)
                    a[v] += w[u + v] * xj[(u + v) * ld];
            T sum = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
            for (; u < t; ++u)
                sum += w[u] * xj[u * ld];
            y[j] = accumulate ? y[j] + sum : sum;
        }
        return;
    }
    const ptrdiff_t window = 4096 / (ptrdiff_t)sizeof(T);      /* 16 KiB of x a chunk */
    ptrdiff_t chunk = ld > 0 && t * ld > window ? window / ld : t;
    if (chunk < 16)
        chunk = 16;
    for (ptrdiff_t u0 = 0; u0 < t; u0 += chunk) {
        const ptrdiff_t tc = t - u0 < chunk ? t - u0 : chunk;
        const int add = accumulate || u0 > 0;
        const T *restrict wc = w + u0;
        const T *restrict xc = x + u0 * ld;
        ptrdiff_t j = 0;
#if defined(__GNUC__) || defined(__clang__)
        for (; j + 8 * NAME(VL) <= n; j += 8 * NAME(VL))
            NAME(fir_tile)(y + j, wc, tc, xc + j, ld, add, 8);
        if (j + 4 * NAME(VL) <= n) {
            NAME(fir_tile)(y + j, wc, tc, xc + j, ld, add, 4);
            j += 4 * NAME(VL);
        }
        if (j + 2 * NAME(VL) <= n) {
            NAME(fir_tile)(y + j, wc, tc, xc + j, ld, add, 2);
            j += 2 * NAME(VL);
        }
        if (j + NAME(VL) <= n) {
            NAME(fir_tile)(y + j, wc, tc, xc + j, ld, add, 1);
            j += NAME(VL);
        }
        if (j < n && n >= NAME(VL)) {
            /* the last vector, ending at the last output: its first lanes (done) not stored */
            const ptrdiff_t j0 = n - NAME(VL);
            NAME(vec) acc = add ? NAME(load)(y + j0) : (NAME(vec)){0};
            for (ptrdiff_t u = 0; u < tc; ++u)
                acc += NAME(splat)(wc[u]) * NAME(load)(xc + u * ld + j0);
            T lane[NAME(VL)];
            __builtin_memcpy(lane, &acc, sizeof lane);
            for (; j < n; ++j)
                y[j] = lane[j - j0];
        }
#endif
        for (; j < n; ++j) {
            T acc = add ? y[j] : 0;
            for (ptrdiff_t u = 0; u < tc; ++u)
                acc += wc[u] * xc[u * ld + j];
            y[j] = acc;
        }
    }
}


/* ---- the packed GEMM: c[i*ldc + j] = (accumulate == SKINNY_ADD ? c[i*ldc + j] : 0) + the sum
 * over u < t, in increasing u, of p[i*psi + u*pst] * q[u*qsu + j*qsj], for i < m, j < n.
 *
 * The skinny GEMM's tiles inside the loops of a BLAS GEMM (Goto's): blocks of PT steps of u by
 * PN columns of q (256 KiB), each laid out in buf as strips of PW columns (two vectors, zero
 * past n) by the block's steps, 128 contiguous bytes a step, which a tile reads from L1 while it
 * broadcasts the elements of PM rows of p (64 KiB in float32) where they are. q is read through
 * any strides, its transpose included. (Laying out p's block too, for a p whose steps are rows
 * apart, ran up to 1.8x slower: not done.) Each sum runs over u in increasing order, the blocks
 * of u one after the other into c, so c's bits are the skinny GEMM's, however it is blocked. */
enum { NAME(PW) = 2 * NAME(VL),                                   /* columns of a strip */
       NAME(PT) = 256,                                            /* steps of u a block */
       NAME(PN) = (256 << 10) / (256 * (int)sizeof(T)),          /* columns a block */
       NAME(PM) = 8 * PACKED_ROWS };                              /* rows of p a block */

/* buf[(s*kc + u)*PW + jj] = q[u*qsu + (s*PW + jj)*qsj] for u < kc and s*PW + jj < nc, else 0 */
static void NAME(pack_strips)(T *restrict buf, const T *restrict q, ptrdiff_t qsu, ptrdiff_t qsj,
                              ptrdiff_t kc, ptrdiff_t nc)
{
    const ptrdiff_t W = NAME(PW);
    if (qsj == 1) {
        /* row by row: each row of the block is one run of memory, which the hardware's
         * prefetchers follow (strip by strip, consecutive reads are a row of q apart) */
        for (ptrdiff_t u = 0; u < kc; ++u)
            for (ptrdiff_t j0 = 0; j0 < nc; j0 += W) {
                T *restrict dst = buf + j0 * kc + u * W;
                const ptrdiff_t w = nc - j0 < W ? nc - j0 : W;
                if (w == W) {
                    /* of a constant size: two vector moves (a size known only at run time is a
                     * call of memcpy or a string move, either costing more than the copy) */
                    memcpy(dst, q + u * qsu + j0, sizeof(T) * NAME(PW));
                    continue;
                }
                memcpy(dst, q + u * qsu + j0, (size_t)w * sizeof(T));
                for (ptrdiff_t jj = w; jj < W; ++jj)
                    dst[jj] = 0;
            }
        return;
    }
    for (ptrdiff_t j0 = 0; j0 < nc; j0 += W) {
        T *restrict dst = buf + j0 * kc;
        const T *restrict src = q + j0 * qsj;
        const ptrdiff_t w = nc - j0 < W ? nc - j0 : W;
        for (ptrdiff_t jj = 0; jj < w; ++jj)
            for (ptrdiff_t u = 0; u < kc; ++u)
                dst[u * W + jj] = src[u * qsu + jj * qsj];
        for (ptrdiff_t u = 0; u < kc && w < W; ++u)
            for (ptrdiff_t jj = w; jj < W; ++jj)
                dst[u * W + jj] = 0;
    }
}

#if defined(__GNUC__) || defined(__clang__)
/* rows (constant) rows of c by w <= PW columns from one packed strip: straight into c for a
 * whole strip, else through a tile of its own whose first w columns are c's. */
static CONV1DT_ALWAYS_INLINE void NAME(packed_tile)(
    T *restrict c, ptrdiff_t ldc, const T *restrict p, ptrdiff_t psi, ptrdiff_t pst,
    const T *restrict strip, ptrdiff_t kc, int accumulate, int rows, ptrdiff_t w)
{
    const ptrdiff_t W = NAME(PW);
    if (w == W) {
        NAME(tile)(c, ldc, p, psi, pst, strip, W, kc, accumulate, rows, 2, NULL, 0, 0);
        return;
    }
    T part[PACKED_ROWS * NAME(PW)] __attribute__((aligned(64)));
    const int nv = w <= NAME(VL) ? 1 : 2;
    const int add = accumulate & SKINNY_ADD;      /* plain stores into part */
    if (add)
        for (int i = 0; i < rows; ++i)
            for (ptrdiff_t jj = 0; jj < W; ++jj)
                part[i * W + jj] = jj < w ? c[i * ldc + jj] : 0;
    if (nv == 1)
        NAME(tile)(part, W, p, psi, pst, strip, W, kc, add, rows, 1, NULL, 0, 0);
    else
        NAME(tile)(part, W, p, psi, pst, strip, W, kc, add, rows, 2, NULL, 0, 0);
    for (int i = 0; i < rows; ++i)
        for (ptrdiff_t jj = 0; jj < w; ++jj)
            c[i * ldc + jj] = part[i * W + jj];
}

static void NAME(packed_band)(T *c, ptrdiff_t ldc, const T *p, ptrdiff_t psi, ptrdiff_t pst,
                              const T *strip, ptrdiff_t kc, int accumulate, ptrdiff_t rows,
                              ptrdiff_t w)
{
    switch (rows) {
#define CONV1DT_PACKED_ROWS(r) \
    case r: NAME(packed_tile)(c, ldc, p, psi, pst, strip, kc, accumulate, r, w); break;
    CONV1DT_PACKED_ROWS(1) CONV1DT_PACKED_ROWS(2) CONV1DT_PACKED_ROWS(3) CONV1DT_PACKED_ROWS(4)
#if PACKED_ROWS > 4
    CONV1DT_PACKED_ROWS(5) CONV1DT_PACKED_ROWS(6)
#endif
#if PACKED_ROWS > 6
    CONV1DT_PACKED_ROWS(7) CONV1DT_PACKED_ROWS(8)
#endif
#undef CONV1DT_PACKED_ROWS
    default: break;
    }
}
#endif

/* The packed GEMM on runs of rows that share q: each block of q is laid out once for all of
 * them (conv1d's implicit kernel: a batch element's rows whose windows lie on the signal, read
 * in place, and the rows at its edges, gathered). With SKINNY_STREAM, the blocks of u before
 * the last write and add to c with plain stores (it is read again) and the last one adds and
 * stores past the caches. */
static void NAME(packed_runs)(const struct conv1dt_run *runs, int nruns,
                              ptrdiff_t ldc, const T *q, ptrdiff_t qsu, ptrdiff_t qsj,
                              ptrdiff_t n, ptrdiff_t t, int accumulate, T *buf)
{
    if (t <= 0) {
        if (accumulate != SKINNY_ADD)
            for (int k = 0; k < nruns; ++k)
                for (ptrdiff_t i = 0; i < runs[k].m; ++i)
                    for (ptrdiff_t j = 0; j < n; ++j)
                        ((T *)runs[k].c)[i * ldc + j] = 0;
        return;
    }
    for (ptrdiff_t j0 = 0; j0 < n; j0 += NAME(PN)) {
        const ptrdiff_t nc = n - j0 < NAME(PN) ? n - j0 : NAME(PN);
        for (ptrdiff_t u0 = 0; u0 < t; u0 += NAME(PT)) {
            const ptrdiff_t kc = t - u0 < NAME(PT) ? t - u0 : NAME(PT);
            const int last = u0 + kc >= t;
            int mode = u0 == 0 ? accumulate : SKINNY_ADD;
            if (accumulate == SKINNY_STREAM)
                mode = (u0 == 0 ? SKINNY_OVERWRITE : SKINNY_ADD) | (last ? SKINNY_STREAM : 0);
            NAME(pack_strips)(buf, q + u0 * qsu + j0 * qsj, qsu, qsj, kc, nc);
            for (int k = 0; k < nruns; ++k) {
                T *c = (T *)runs[k].c;
                const T *p = (const T *)runs[k].p;
                const ptrdiff_t psi = runs[k].psi, pst = runs[k].pst, m = runs[k].m;
                for (ptrdiff_t i0 = 0; i0 < m; i0 += NAME(PM)) {
                    const ptrdiff_t i1 = m - i0 < NAME(PM) ? m : i0 + NAME(PM);
                    const T *pb = p + i0 * psi + u0 * pst;
                    for (ptrdiff_t s = 0; s < nc; s += NAME(PW)) {
                        const ptrdiff_t w = nc - s < NAME(PW) ? nc - s : NAME(PW);
                        for (ptrdiff_t i = i0; i < i1; i += PACKED_ROWS) {
                            const ptrdiff_t rows = i1 - i < PACKED_ROWS ? i1 - i : PACKED_ROWS;
                            const T *pi = pb + (i - i0) * psi;
#if defined(__GNUC__) || defined(__clang__)
                            NAME(packed_band)(c + i * ldc + j0 + s, ldc, pi, psi, pst,
                                              buf + s * kc, kc, mode, rows, w);
#else
                            NAME(skinny)(c + i * ldc + j0 + s, ldc, pi, psi, pst, buf + s * kc,
                                         NAME(PW), rows, w, kc,
                                         (mode & SKINNY_ADD) ? SKINNY_ADD : mode, NULL, 0);
#endif
                        }
                    }
                }
            }
        }
    }
#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
    if (accumulate == SKINNY_STREAM)
        _mm_sfence();     /* the streaming stores done before anyone reads c */
#endif
}

static void NAME(packed)(T *c, ptrdiff_t ldc, const T *p, ptrdiff_t psi, ptrdiff_t pst,
                         const T *q, ptrdiff_t qsu, ptrdiff_t qsj, ptrdiff_t m, ptrdiff_t n,
                         ptrdiff_t t, int accumulate, T *buf)
{
    const struct conv1dt_run run = {c, p, psi, pst, m};
    NAME(packed_runs)(&run, 1, ldc, q, qsu, qsj, n, t, accumulate, buf);
}

#endif
