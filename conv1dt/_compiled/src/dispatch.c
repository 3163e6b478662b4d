/* The runtime CPU dispatch: one instruction set for every kernel, chosen once.
 *
 * The best set this build and CPU have (x86-64 with GCC or Clang: AVX-512 with F, CD, BW, DQ and
 * VL; else AVX2 with FMA; else the baseline, SSE2 on x86-64), lowered by the environment variable
 * CONV1DT_CPU = baseline | avx2 | avx512, so that every variant can be run and tested on one
 * machine (a set above what the CPU has is capped at what it has). An unknown value leaves the
 * best set and is reported by conv1dt_cpu_isa_error(), which conv1dt._compiled._cpu raises at import.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#endif
#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#include <emmintrin.h>
#endif

static const char *const isa_names[] = {"baseline", "avx2", "avx512"};

const char *conv1dt_isa_name(int isa)
{
    return isa >= CONV1DT_BASELINE && isa <= CONV1DT_AVX512 ? isa_names[isa] : "unknown";
}

int conv1dt_cpu_isa_detected(void)
{
#if CONV1DT_X86_VARIANTS
    __builtin_cpu_init();
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd")
                       && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
                       && __builtin_cpu_supports("avx512vl");
    return avx2 && avx512 ? CONV1DT_AVX512 : avx2 ? CONV1DT_AVX2 : CONV1DT_BASELINE;
#else
    return CONV1DT_BASELINE;
#endif
}

static int chosen = -1;
static char error[128];

int conv1dt_cpu_isa(void)
{
    if (chosen < 0) {
        int isa = conv1dt_cpu_isa_detected();
        const char *want = getenv("CONV1DT_CPU");
        if (want && want[0]) {
            int named = -1;
            for (int i = CONV1DT_BASELINE; i <= CONV1DT_AVX512; ++i)
                if (strcmp(want, isa_names[i]) == 0)
                    named = i;
            if (named < 0)
                snprintf(error, sizeof error,
                         "CONV1DT_CPU is '%.40s'; set it to baseline, avx2 or avx512, or unset it",
                         want);
            else if (named < isa)
                isa = named;
        }
        chosen = isa;
    }
    return chosen;
}

const char *conv1dt_cpu_isa_error(void)
{
    conv1dt_cpu_isa();
    return error;
}

/* --- the direct kernel ------------------------------------------------------------------------ */

static const struct conv1dt_direct_ops *direct(void)
{
#if CONV1DT_X86_VARIANTS
    switch (conv1dt_cpu_isa()) {
    case CONV1DT_AVX512: return &conv1dt_direct_avx512;
    case CONV1DT_AVX2: return &conv1dt_direct_avx2;
    default: break;
    }
#endif
    return &conv1dt_direct_baseline;
}

void conv1dt_phase_strip_f32(float *y, ptrdiff_t ysj, ptrdiff_t ysc, const float *f,
                             const ptrdiff_t *woff, const ptrdiff_t *xoff, ptrdiff_t ntaps,
                             const float *x, ptrdiff_t ldx, ptrdiff_t ulo, ptrdiff_t uhi,
                             const ptrdiff_t *klo, const ptrdiff_t *khi, ptrdiff_t cout,
                             ptrdiff_t cin, ptrdiff_t n)
{
    direct()->phase_strip_f32(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, klo, khi,
                              cout, cin, n);
}

void conv1dt_phase_strip_f64(double *y, ptrdiff_t ysj, ptrdiff_t ysc, const double *f,
                             const ptrdiff_t *woff, const ptrdiff_t *xoff, ptrdiff_t ntaps,
                             const double *x, ptrdiff_t ldx, ptrdiff_t ulo, ptrdiff_t uhi,
                             const ptrdiff_t *klo, const ptrdiff_t *khi, ptrdiff_t cout,
                             ptrdiff_t cin, ptrdiff_t n)
{
    direct()->phase_strip_f64(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, klo, khi,
                              cout, cin, n);
}

void conv1dt_rows_to_channels_f32(float *dst, ptrdiff_t ld, const float *src, ptrdiff_t cin,
                                  ptrdiff_t count)
{
    direct()->rows_to_channels_f32(dst, ld, src, cin, count);
}

void conv1dt_rows_to_channels_f64(double *dst, ptrdiff_t ld, const double *src, ptrdiff_t cin,
                                  ptrdiff_t count)
{
    direct()->rows_to_channels_f64(dst, ld, src, cin, count);
}

void conv1dt_interleave_f32(float *dst, const float *src, ptrdiff_t ld, ptrdiff_t s,
                            ptrdiff_t count)
{
    direct()->interleave_f32(dst, src, ld, s, count);
}

void conv1dt_interleave_f64(double *dst, const double *src, ptrdiff_t ld, ptrdiff_t s,
                            ptrdiff_t count)
{
    direct()->interleave_f64(dst, src, ld, s, count);
}

/* --- the tiled kernel ------------------------------------------------------------------------- */

int conv1dt_isa_limit = CONV1DT_AVX512;

void conv1dt_limit_isa(int limit) { conv1dt_isa_limit = limit; }

int conv1dt_tiled_isa(void)
{
    const int isa = conv1dt_cpu_isa();
    return isa < conv1dt_isa_limit ? isa : conv1dt_isa_limit;
}

int conv1dt_tiled_available(void) { return conv1dt_tiled_isa() > CONV1DT_BASELINE; }

/* The tiles of `isa`; NULL for the baseline, where the callers run BLAS kernels instead. */
static const struct conv1dt_tiled_ops *tiled(int isa)
{
#if CONV1DT_X86_VARIANTS
    if (isa == CONV1DT_AVX512)
        return &conv1dt_tiled_avx512;
    if (isa == CONV1DT_AVX2)
        return &conv1dt_tiled_avx2;
#endif
    (void)isa;
    return NULL;
}

ptrdiff_t conv1dt_tiled_panel(int isa, int dbl)
{
    const struct conv1dt_tiled_ops *ops = tiled(isa);
    if (ops == NULL)
        return dbl ? 8 : 16;           /* never used for packing: a harmless size */
    return dbl ? ops->panel_f64 : ops->panel_f32;
}

static void count(long long *calls);      /* below: one more run in *calls, from any thread */

void conv1dt_phase_tiled_f32_(int isa, float *y, ptrdiff_t ldy, const float *x, ptrdiff_t ldx,
                              ptrdiff_t M, ptrdiff_t cin, const float *w, ptrdiff_t ntaps,
                              ptrdiff_t c0, ptrdiff_t dc, ptrdiff_t q0, ptrdiff_t nq,
                              ptrdiff_t cout, int stream)
{
    const struct conv1dt_tiled_ops *ops = tiled(isa);
    if (ops && ops->phase_f32(y, ldy, x, ldx, M, cin, w, ntaps, c0, dc, q0, nq, cout, stream))
        count(&conv1dt_streamed_calls);
}

void conv1dt_phase_tiled_f64_(int isa, double *y, ptrdiff_t ldy, const double *x, ptrdiff_t ldx,
                              ptrdiff_t M, ptrdiff_t cin, const double *w, ptrdiff_t ntaps,
                              ptrdiff_t c0, ptrdiff_t dc, ptrdiff_t q0, ptrdiff_t nq,
                              ptrdiff_t cout, int stream)
{
    const struct conv1dt_tiled_ops *ops = tiled(isa);
    if (ops && ops->phase_f64(y, ldy, x, ldx, M, cin, w, ntaps, c0, dc, q0, nq, cout, stream))
        count(&conv1dt_streamed_calls);
}

void conv1dt_pack_f32(int isa, float *dst, const float *src, ptrdiff_t ld, ptrdiff_t cout,
                      ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1)
{
    const struct conv1dt_tiled_ops *ops = tiled(isa);
    if (ops)
        ops->pack_f32(dst, src, ld, cout, co0, ci0, ci1);
}

void conv1dt_pack_f64(int isa, double *dst, const double *src, ptrdiff_t ld, ptrdiff_t cout,
                      ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1)
{
    const struct conv1dt_tiled_ops *ops = tiled(isa);
    if (ops)
        ops->pack_f64(dst, src, ld, cout, co0, ci0, ci1);
}

/* Runs of the skinny and packed GEMMs with streaming stores so far, for the tests (as
 * conv1dt_packed_calls below: a plan's flag that does not reach the kernel gives the same
 * values by BLAS or plain stores). */
long long conv1dt_streamed_calls = 0;

/* One more run in *calls, from any thread */
static void count(long long *calls)
{
#if defined(__GNUC__) || defined(__clang__)
    __atomic_fetch_add(calls, 1, __ATOMIC_RELAXED);
#elif defined(_MSC_VER)
    _InterlockedIncrement64(calls);
#else
    ++*calls;
#endif
}

/* --- the skinny GEMM -------------------------------------------------------------------------- */

static const struct conv1dt_skinny_ops *skinny(void)
{
#if CONV1DT_X86_VARIANTS
    switch (conv1dt_cpu_isa()) {
    case CONV1DT_AVX512: return &conv1dt_skinny_avx512;
    case CONV1DT_AVX2: return &conv1dt_skinny_avx2;
    default: break;
    }
#endif
    return &conv1dt_skinny_baseline;
}

void conv1dt_skinny_f32(float *c, ptrdiff_t ldc, const float *p, ptrdiff_t psi, ptrdiff_t pst,
                        const float *q, ptrdiff_t ldq, ptrdiff_t m, ptrdiff_t n, ptrdiff_t t,
                        int accumulate, const float *ahead, ptrdiff_t ahead_bytes)
{
    skinny()->gemm_f32(c, ldc, p, psi, pst, q, ldq, m, n, t, accumulate, ahead, ahead_bytes);
    if (accumulate == SKINNY_STREAM)
        count(&conv1dt_streamed_calls);
}

void conv1dt_skinny_f64(double *c, ptrdiff_t ldc, const double *p, ptrdiff_t psi, ptrdiff_t pst,
                        const double *q, ptrdiff_t ldq, ptrdiff_t m, ptrdiff_t n, ptrdiff_t t,
                        int accumulate, const double *ahead, ptrdiff_t ahead_bytes)
{
    skinny()->gemm_f64(c, ldc, p, psi, pst, q, ldq, m, n, t, accumulate, ahead, ahead_bytes);
    if (accumulate == SKINNY_STREAM)
        count(&conv1dt_streamed_calls);
}

void conv1dt_depthwise_rows_f32(float *y, ptrdiff_t ldy, const float *x, const float *f,
                                ptrdiff_t rows, const ptrdiff_t *xoff, const ptrdiff_t *foff,
                                const ptrdiff_t *ntaps, ptrdiff_t xstep, ptrdiff_t fstep,
                                ptrdiff_t C, int mode)
{
    skinny()->depthwise_rows_f32(y, ldy, x, f, rows, xoff, foff, ntaps, xstep, fstep, C, mode);
}

void conv1dt_depthwise_rows_f64(double *y, ptrdiff_t ldy, const double *x, const double *f,
                                ptrdiff_t rows, const ptrdiff_t *xoff, const ptrdiff_t *foff,
                                const ptrdiff_t *ntaps, ptrdiff_t xstep, ptrdiff_t fstep,
                                ptrdiff_t C, int mode)
{
    skinny()->depthwise_rows_f64(y, ldy, x, f, rows, xoff, foff, ntaps, xstep, fstep, C, mode);
}

void conv1dt_depthwise_tile_f32(float *y, ptrdiff_t ldy, const float *x, ptrdiff_t xrow,
                                ptrdiff_t xtap, const float *f, ptrdiff_t ftap, ptrdiff_t taps,
                                ptrdiff_t rows, ptrdiff_t C, int mode)
{
    skinny()->depthwise_tile_f32(y, ldy, x, xrow, xtap, f, ftap, taps, rows, C, mode);
}

void conv1dt_depthwise_tile_f64(double *y, ptrdiff_t ldy, const double *x, ptrdiff_t xrow,
                                ptrdiff_t xtap, const double *f, ptrdiff_t ftap, ptrdiff_t taps,
                                ptrdiff_t rows, ptrdiff_t C, int mode)
{
    skinny()->depthwise_tile_f64(y, ldy, x, xrow, xtap, f, ftap, taps, rows, C, mode);
}

void conv1dt_depthwise_filter_f32(float *df, const float *x, const float *dy, ptrdiff_t L,
                                  ptrdiff_t M, ptrdiff_t C, ptrdiff_t K, ptrdiff_t s, ptrdiff_t d,
                                  ptrdiff_t pad, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t j0,
                                  ptrdiff_t j1, float *scratch, ptrdiff_t scratch_elems)
{
    skinny()->depthwise_filter_f32(df, x, dy, L, M, C, K, s, d, pad, r0, r1, j0, j1, scratch,
                                   scratch_elems);
}

void conv1dt_depthwise_filter_f64(double *df, const double *x, const double *dy, ptrdiff_t L,
                                  ptrdiff_t M, ptrdiff_t C, ptrdiff_t K, ptrdiff_t s, ptrdiff_t d,
                                  ptrdiff_t pad, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t j0,
                                  ptrdiff_t j1, double *scratch, ptrdiff_t scratch_elems)
{
    skinny()->depthwise_filter_f64(df, x, dy, L, M, C, K, s, d, pad, r0, r1, j0, j1, scratch,
                                   scratch_elems);
}

void conv1dt_dot_f32(float *c, ptrdiff_t ldc, const float *p, ptrdiff_t ldp, const float *q,
                     ptrdiff_t ldq, ptrdiff_t m, ptrdiff_t n, ptrdiff_t t, int accumulate)
{
    skinny()->dot_f32(c, ldc, p, ldp, q, ldq, m, n, t, accumulate);
}

void conv1dt_dot_f64(double *c, ptrdiff_t ldc, const double *p, ptrdiff_t ldp, const double *q,
                     ptrdiff_t ldq, ptrdiff_t m, ptrdiff_t n, ptrdiff_t t, int accumulate)
{
    skinny()->dot_f64(c, ldc, p, ldp, q, ldq, m, n, t, accumulate);
}

void conv1dt_grouped_f32(float *y, ptrdiff_t ystep, const float *x, const float *f,
                         ptrdiff_t fstep, ptrdiff_t taps, ptrdiff_t ld, ptrdiff_t n, ptrdiff_t t)
{
    skinny()->grouped_f32(y, ystep, x, f, fstep, taps, ld, n, t);
}

void conv1dt_grouped_f64(double *y, ptrdiff_t ystep, const double *x, const double *f,
                         ptrdiff_t fstep, ptrdiff_t taps, ptrdiff_t ld, ptrdiff_t n, ptrdiff_t t)
{
    skinny()->grouped_f64(y, ystep, x, f, fstep, taps, ld, n, t);
}

void conv1dt_spread_f32(float *dst, ptrdiff_t ld, const float *src, ptrdiff_t groups,
                        ptrdiff_t cg, ptrdiff_t rep)
{
    skinny()->spread_f32(dst, ld, src, groups, cg, rep);
}

void conv1dt_spread_f64(double *dst, ptrdiff_t ld, const double *src, ptrdiff_t groups,
                        ptrdiff_t cg, ptrdiff_t rep)
{
    skinny()->spread_f64(dst, ld, src, groups, cg, rep);
}

void conv1dt_fir_f32(float *y, const float *w, ptrdiff_t t, const float *x, ptrdiff_t ld,
                     ptrdiff_t n, int accumulate)
{
    skinny()->fir_f32(y, w, t, x, ld, n, accumulate);
}

void conv1dt_fir_f64(double *y, const double *w, ptrdiff_t t, const double *x, ptrdiff_t ld,
                     ptrdiff_t n, int accumulate)
{
    skinny()->fir_f64(y, w, t, x, ld, n, accumulate);
}

void conv1dt_store_fence(void)
{
#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
    _mm_sfence();
#endif
}

/* --- the packed GEMM: the skinny GEMM's tiles on blocks of q laid out for the cache ----------- */

int conv1dt_packed_on = 0;

/* Runs of the packed GEMM so far, for the tests: that a plan's choice of it reaches the kernel
 * (a flag set in the wrong kernel's struct once passed every test of values). */
long long conv1dt_packed_calls = 0;

/* The calling thread's block for the packed GEMM, or NULL when none can be had */
static void *packed_block(void)
{
    return conv1dt_scratch(CONV1DT_PACKED_SLOT, CONV1DT_PACKED_BYTES);
}

int conv1dt_packed_f32(float *c, ptrdiff_t ldc, const float *p, ptrdiff_t psi, ptrdiff_t pst,
                       const float *q, ptrdiff_t qsu, ptrdiff_t qsj, ptrdiff_t m, ptrdiff_t n,
                       ptrdiff_t t, int accumulate)
{
    float *buf = packed_block();
    if (buf != NULL) {
        skinny()->packed_f32(c, ldc, p, psi, pst, q, qsu, qsj, m, n, t, accumulate, buf);
        count(&conv1dt_packed_calls);
        if (accumulate == SKINNY_STREAM)
            count(&conv1dt_streamed_calls);
    }
    return buf != NULL;
}

int conv1dt_packed_f64(double *c, ptrdiff_t ldc, const double *p, ptrdiff_t psi, ptrdiff_t pst,
                       const double *q, ptrdiff_t qsu, ptrdiff_t qsj, ptrdiff_t m, ptrdiff_t n,
                       ptrdiff_t t, int accumulate)
{
    double *buf = packed_block();
    if (buf != NULL) {
        skinny()->packed_f64(c, ldc, p, psi, pst, q, qsu, qsj, m, n, t, accumulate, buf);
        count(&conv1dt_packed_calls);
        if (accumulate == SKINNY_STREAM)
            count(&conv1dt_streamed_calls);
    }
    return buf != NULL;
}

int conv1dt_packed_runs_f32(const struct conv1dt_run *runs, int nruns, ptrdiff_t ldc,
                            const float *q, ptrdiff_t qsu, ptrdiff_t qsj, ptrdiff_t n,
                            ptrdiff_t t, int accumulate)
{
    float *buf = packed_block();
    if (buf != NULL) {
        skinny()->packed_runs_f32(runs, nruns, ldc, q, qsu, qsj, n, t, accumulate, buf);
        count(&conv1dt_packed_calls);
        if (accumulate == SKINNY_STREAM)
            count(&conv1dt_streamed_calls);
    }
    return buf != NULL;
}

int conv1dt_packed_runs_f64(const struct conv1dt_run *runs, int nruns, ptrdiff_t ldc,
                            const double *q, ptrdiff_t qsu, ptrdiff_t qsj, ptrdiff_t n,
                            ptrdiff_t t, int accumulate)
{
    double *buf = packed_block();
    if (buf != NULL) {
        skinny()->packed_runs_f64(runs, nruns, ldc, q, qsu, qsj, n, t, accumulate, buf);
        count(&conv1dt_packed_calls);
        if (accumulate == SKINNY_STREAM)
            count(&conv1dt_streamed_calls);
    }
    return buf != NULL;
}
