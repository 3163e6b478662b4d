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
 * two lines per step, while it computes on this one.
 *
 * The conv1d im2col kernel calls it with the taps inner (t = K*Cw/G, short; m the rows, n the
 * output channels); the filter gradient with the rows inner (m = K*Cw/G short, t the rows).
 */
#ifndef CONV1DT_SKINNY_T
/* ---- the type-independent part ----------------------------------------------------------- */
#include <stddef.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "kernels.h"

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
    NAME(vec) acc[SKINNY_ROWS][2];
    for (int i = 0; i < rows; ++i)
        for (int v = 0; v < nv; ++v)
            acc[i][v] = accumulate == SKINNY_ADD ? NAME(load)(c + i * ldc + v * NAME(VL))
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
            const NAME(vec) a = (NAME(vec)){0} + pu[i * psi];
            for (int v = 0; v < nv; ++v)
                acc[i][v] += a * qv[v];
        }
    }
    for (int i = 0; i < rows; ++i)
        for (int v = 0; v < nv; ++v)
            if (accumulate == SKINNY_STREAM)
                NAME(store_stream)(c + i * ldc + v * NAME(VL), acc[i][v]);
            else
                NAME(store)(c + i * ldc + v * NAME(VL), acc[i][v]);
}
#endif

/* Rows 0 .. rows-1 of c (rows constant) across all n columns: tiles of two vectors, then one,
 * then the columns left. The tiles together ask for the block ahead, in memory order. */
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
#endif
    if (j < n)
        NAME(tile_scalar)(c + j, ldc, p, psi, pst, q + j, ldq, t, accumulate, rows, n - j, ahead,
                          ahead_bytes, at);
}

static void NAME(skinny)(T *c, ptrdiff_t ldc, const T *p, ptrdiff_t psi, ptrdiff_t pst,
                         const T *q, ptrdiff_t ldq, ptrdiff_t m, ptrdiff_t n, ptrdiff_t t,
                         int accumulate, const T *ahead, ptrdiff_t ahead_bytes)
{
    const char *next = (const char *)ahead;
    ptrdiff_t i = 0;
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

#endif
