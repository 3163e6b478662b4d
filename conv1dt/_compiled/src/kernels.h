/* The C layer of conv1dt: what the Cython kernels call, through conv1dt/_compiled/_cpu.pyx
 * (the one extension it is linked into, so that its dispatch state exists once).
 *
 * Three kernel families, each one implementation file compiled once per instruction set:
 *
 *   direct_impl.h  the direct kernel's strips (few channels), from direct_baseline.c,
 *                  direct_avx2.c and direct_avx512.c;
 *   tiled_impl.h   the register-tiled GEMM micro-kernel (many channels), from tiled_avx2.c and
 *                  tiled_avx512.c (without AVX2 the BLAS kernels run instead);
 *   skinny_impl.h  a GEMM with one short dimension and no packing (inside the im2col kernels
 *                  of _gemm.pyx), and the depthwise kernel's row, from skinny_baseline.c,
 *                  skinny_avx2.c and skinny_avx512.c.
 *
 * dispatch.c picks one instruction set for every kernel, once: the best this CPU has, or the one
 * named by the environment variable CONV1DT_CPU (baseline, avx2 or avx512; capped at what the CPU
 * has). The functions below call that set's variant.
 */
#ifndef CONV1DT_KERNELS_H
#define CONV1DT_KERNELS_H
#include <stddef.h>

/* Instruction sets, in increasing order: each includes the ones before it. */
enum conv1dt_isa { CONV1DT_BASELINE = 0, CONV1DT_AVX2 = 1, CONV1DT_AVX512 = 2 };

/* --- the runtime dispatch (dispatch.c) ----------------------------------------------------- */

/* The instruction set every kernel runs: the best this build and CPU have, lowered by
 * CONV1DT_CPU. Decided at the first call (conv1dt._compiled._cpu makes it at import). */
int conv1dt_cpu_isa(void);
/* The best instruction set of this build and CPU, whatever CONV1DT_CPU says. */
int conv1dt_cpu_isa_detected(void);
/* "" when CONV1DT_CPU is unset or valid, else a message naming its value and the valid ones. */
const char *conv1dt_cpu_isa_error(void);
/* "baseline", "avx2" or "avx512". */
const char *conv1dt_isa_name(int isa);

/* --- the direct kernel (direct_impl.h) -------------------------------------------------------
 *
 * phase_strip: one polyphase component of a strip of outputs,
 *
 *     y[j*ysj + co*ysc] = sum over taps t and ci of w[t][co][ci] * x[ci*ldx + xoff[t] + j]
 *
 * for j in [0, n) and co in [0, cout), where w[t] = f + woff[t] is tap t's [cout][cin] slice and
 * x is a channel-major, zero-padded copy of the input rows the strip reads (columns [ulo, uhi)
 * hold the signal; with klo and khi, columns [klo[t], khi[t]) for tap t, counted like xoff).
 * rows_to_channels: dst[ci*ld + u] = src[u*cin + ci] for u < count.
 * interleave: dst[j*s + r] = src[r*ld + j] for j*s + r < count. */
void conv1dt_phase_strip_f32(float *y, ptrdiff_t ysj, ptrdiff_t ysc, const float *f,
                             const ptrdiff_t *woff, const ptrdiff_t *xoff, ptrdiff_t ntaps,
                             const float *x, ptrdiff_t ldx, ptrdiff_t ulo, ptrdiff_t uhi,
                             const ptrdiff_t *klo, const ptrdiff_t *khi, ptrdiff_t cout,
                             ptrdiff_t cin, ptrdiff_t n);
void conv1dt_phase_strip_f64(double *y, ptrdiff_t ysj, ptrdiff_t ysc, const double *f,
                             const ptrdiff_t *woff, const ptrdiff_t *xoff, ptrdiff_t ntaps,
                             const double *x, ptrdiff_t ldx, ptrdiff_t ulo, ptrdiff_t uhi,
                             const ptrdiff_t *klo, const ptrdiff_t *khi, ptrdiff_t cout,
                             ptrdiff_t cin, ptrdiff_t n);
void conv1dt_rows_to_channels_f32(float *dst, ptrdiff_t ld, const float *src, ptrdiff_t cin,
                                  ptrdiff_t count);
void conv1dt_rows_to_channels_f64(double *dst, ptrdiff_t ld, const double *src, ptrdiff_t cin,
                                  ptrdiff_t count);
void conv1dt_interleave_f32(float *dst, const float *src, ptrdiff_t ld, ptrdiff_t s,
                            ptrdiff_t count);
void conv1dt_interleave_f64(double *dst, const double *src, ptrdiff_t ld, ptrdiff_t s,
                            ptrdiff_t count);

struct conv1dt_direct_ops {          /* one instruction set's direct kernel */
    void (*phase_strip_f32)(float *, ptrdiff_t, ptrdiff_t, const float *, const ptrdiff_t *,
                            const ptrdiff_t *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t,
                            ptrdiff_t, const ptrdiff_t *, const ptrdiff_t *, ptrdiff_t, ptrdiff_t,
                            ptrdiff_t);
    void (*phase_strip_f64)(double *, ptrdiff_t, ptrdiff_t, const double *, const ptrdiff_t *,
                            const ptrdiff_t *, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t,
                            ptrdiff_t, const ptrdiff_t *, const ptrdiff_t *, ptrdiff_t, ptrdiff_t,
                            ptrdiff_t);
    void (*rows_to_channels_f32)(float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t);
    void (*rows_to_channels_f64)(double *, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t);
    void (*interleave_f32)(float *, const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t);
    void (*interleave_f64)(double *, const double *, ptrdiff_t, ptrdiff_t, ptrdiff_t);
};
extern const struct conv1dt_direct_ops conv1dt_direct_baseline, conv1dt_direct_avx2,
    conv1dt_direct_avx512;

/* --- the tiled kernel (tiled_impl.h) ---------------------------------------------------------
 *
 * `isa` is conv1dt_tiled_isa(), read once per call by the caller: it sizes the filter layout
 * (conv1dt_tiled_panel output channels per panel) that conv1dt_pack_* writes and
 * conv1dt_phase_tiled_* reads.
 *
 * phase_tiled: one polyphase phase's rows q0 .. q0+nq-1 of one batch element,
 *     y[q, co] = sum over the phase's taps t, then ci, of x[q + c0 + t*dc, ci] * w[t, ci, co],
 * y at output row q0 (rows ldy apart), x at the element's first input row (M rows, ldx apart),
 * w the phase's filter in panels; with `stream` (an output far larger than the caches), stored
 * past them where each output is stored once (tiled_impl.h), and those runs counted in
 * conv1dt_streamed_calls. pack: dst[ci][j] = src[(co0 + j)*ld + ci] for ci in
 * [ci0, ci1) and j < the panel width, zero where co0 + j >= cout. */
int conv1dt_tiled_isa(void);                /* the active set, 0 (none) with baseline */
int conv1dt_tiled_available(void);
extern int conv1dt_isa_limit;               /* a test hook: tiles of at most this set */
void conv1dt_limit_isa(int limit);
ptrdiff_t conv1dt_tiled_panel(int isa, int dbl);
void conv1dt_phase_tiled_f32_(int isa, float *y, ptrdiff_t ldy, const float *x, ptrdiff_t ldx,
                              ptrdiff_t M, ptrdiff_t cin, const float *w, ptrdiff_t ntaps,
                              ptrdiff_t c0, ptrdiff_t dc, ptrdiff_t q0, ptrdiff_t nq,
                              ptrdiff_t cout, int stream);
void conv1dt_phase_tiled_f64_(int isa, double *y, ptrdiff_t ldy, const double *x, ptrdiff_t ldx,
                              ptrdiff_t M, ptrdiff_t cin, const double *w, ptrdiff_t ntaps,
                              ptrdiff_t c0, ptrdiff_t dc, ptrdiff_t q0, ptrdiff_t nq,
                              ptrdiff_t cout, int stream);
void conv1dt_pack_f32(int isa, float *dst, const float *src, ptrdiff_t ld, ptrdiff_t cout,
                      ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1);
void conv1dt_pack_f64(int isa, double *dst, const double *src, ptrdiff_t ld, ptrdiff_t cout,
                      ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1);

struct conv1dt_tiled_ops {           /* one instruction set's tiled kernel */
    ptrdiff_t panel_f32, panel_f64;  /* output channels per filter panel */
    int (*phase_f32)(float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                     const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                     ptrdiff_t, int);
    int (*phase_f64)(double *, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                     const double *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                     ptrdiff_t, int);
    void (*pack_f32)(float *, const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                     ptrdiff_t);
    void (*pack_f64)(double *, const double *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                     ptrdiff_t);
};
extern const struct conv1dt_tiled_ops conv1dt_tiled_avx2, conv1dt_tiled_avx512;

/* --- the skinny GEMM (skinny_impl.h) ---------------------------------------------------------
 *
 * skinny: c[i*ldc + j] = (accumulate == SKINNY_ADD ? c[i*ldc + j] : 0) + sum over u < t, in
 * increasing u, of p[i*psi + u*pst] * q[u*ldq + j], for i < m and j < n: a GEMM with one short
 * dimension, without the packing a BLAS GEMM does (see skinny_impl.h for when that matters).
 * `ahead` names the ahead_bytes bytes the caller reads next (the next block of q; 0 bytes for
 * none), which the kernel asks the memory for while it computes. SKINNY_OVERWRITE writes c with
 * plain stores, SKINNY_STREAM with stores that bypass the caches (for an output far larger
 * than they are; where c's rows are not aligned to a vector, plain ones). SKINNY_ADD_STREAM
 * (the packed GEMM's last block of u, inside skinny_impl.h only) adds, then stores so.
 * SKINNY_BY_ROWS, with SKINNY_OVERWRITE or SKINNY_ADD, is for a q far larger than the caches
 * and a few rows of c: q read once, row after row, while c's columns wait in L1 (plain stores;
 * `ahead` unused); the same sums. */
enum { SKINNY_OVERWRITE = 0, SKINNY_ADD = 1, SKINNY_STREAM = 2,
       SKINNY_ADD_STREAM = SKINNY_ADD | SKINNY_STREAM, SKINNY_BY_ROWS = 4 };
void conv1dt_skinny_f32(float *c, ptrdiff_t ldc, const float *p, ptrdiff_t psi, ptrdiff_t pst,
                        const float *q, ptrdiff_t ldq, ptrdiff_t m, ptrdiff_t n, ptrdiff_t t,
                        int accumulate, const float *ahead, ptrdiff_t ahead_bytes);
void conv1dt_skinny_f64(double *c, ptrdiff_t ldc, const double *p, ptrdiff_t psi, ptrdiff_t pst,
                        const double *q, ptrdiff_t ldq, ptrdiff_t m, ptrdiff_t n, ptrdiff_t t,
                        int accumulate, const double *ahead, ptrdiff_t ahead_bytes);
extern long long conv1dt_streamed_calls;   /* runs with SKINNY_STREAM so far (for the tests) */

/* depthwise_rows: y[r*ldy + j] = sum over u < ntaps[r], in increasing u, of
 * x[xoff[r] + u*xstep + j] * f[foff[r] + u*fstep + j], for r < rows and j < C: rows of a
 * convolution with one channel per group, each output's taps evenly spaced in x and in f. mode
 * is SKINNY_OVERWRITE or SKINNY_STREAM (no fence: the caller fences once after its rows). */
void conv1dt_depthwise_rows_f32(float *y, ptrdiff_t ldy, const float *x, const float *f,
                                ptrdiff_t rows, const ptrdiff_t *xoff, const ptrdiff_t *foff,
                                const ptrdiff_t *ntaps, ptrdiff_t xstep, ptrdiff_t fstep,
                                ptrdiff_t C, int mode);
void conv1dt_depthwise_rows_f64(double *y, ptrdiff_t ldy, const double *x, const double *f,
                                ptrdiff_t rows, const ptrdiff_t *xoff, const ptrdiff_t *foff,
                                const ptrdiff_t *ntaps, ptrdiff_t xstep, ptrdiff_t fstep,
                                ptrdiff_t C, int mode);
/* depthwise_tile: y[r*ldy + j] = sum over u < taps, in increasing u, of
 * x[r*xrow + u*xtap + j] * f[u*ftap + j], for r < rows and j < C: rows of a convolution with
 * one channel per group where every tap reaches the signal. mode as for depthwise_rows. */
void conv1dt_depthwise_tile_f32(float *y, ptrdiff_t ldy, const float *x, ptrdiff_t xrow,
                                ptrdiff_t xtap, const float *f, ptrdiff_t ftap, ptrdiff_t taps,
                                ptrdiff_t rows, ptrdiff_t C, int mode);
void conv1dt_depthwise_tile_f64(double *y, ptrdiff_t ldy, const double *x, ptrdiff_t xrow,
                                ptrdiff_t xtap, const double *f, ptrdiff_t ftap, ptrdiff_t taps,
                                ptrdiff_t rows, ptrdiff_t C, int mode);
/* depthwise_filter: df[k*C + j] = sum over r0 <= r < r1 (r = n*M + i), in increasing r, of
 * x[(n*L + i*s + k*d - pad)*C + j] * dy[r*C + j] over the rows of x on the signal, for k < K
 * and j0 <= j < j1 (df overwritten there): the filter gradient of a depthwise convolution.
 * scratch (64-byte aligned, or NULL) holds scratch_elems elements of copied windows. */
void conv1dt_depthwise_filter_f32(float *df, const float *x, const float *dy, ptrdiff_t L,
                                  ptrdiff_t M, ptrdiff_t C, ptrdiff_t K, ptrdiff_t s, ptrdiff_t d,
                                  ptrdiff_t pad, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t j0,
                                  ptrdiff_t j1, float *scratch, ptrdiff_t scratch_elems);
void conv1dt_depthwise_filter_f64(double *df, const double *x, const double *dy, ptrdiff_t L,
                                  ptrdiff_t M, ptrdiff_t C, ptrdiff_t K, ptrdiff_t s, ptrdiff_t d,
                                  ptrdiff_t pad, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t j0,
                                  ptrdiff_t j1, double *scratch, ptrdiff_t scratch_elems);
/* dot: c[i*ldc + j] = (accumulate == SKINNY_ADD ? c[i*ldc + j] : 0) + sum over u < t of
 * p[i*ldp + u] * q[j*ldq + u], for i < m and j < n (both operands along u; accumulate is
 * SKINNY_OVERWRITE or SKINNY_ADD): a product with the second operand transposed, unpacked. */
void conv1dt_dot_f32(float *c, ptrdiff_t ldc, const float *p, ptrdiff_t ldp, const float *q,
                     ptrdiff_t ldq, ptrdiff_t m, ptrdiff_t n, ptrdiff_t t, int accumulate);
void conv1dt_dot_f64(double *c, ptrdiff_t ldc, const double *p, ptrdiff_t ldp, const double *q,
                     ptrdiff_t ldq, ptrdiff_t m, ptrdiff_t n, ptrdiff_t t, int accumulate);
/* grouped: y[k*ystep + j] += the sum over u < t, in increasing u, of x[u*ld + j] *
 * f[k*fstep + u*ld + j], for k < taps and j < n (each sum first, then its addition): taps rows
 * of the grouped transpose from one input row spread to the output's channels. */
void conv1dt_grouped_f32(float *y, ptrdiff_t ystep, const float *x, const float *f,
                         ptrdiff_t fstep, ptrdiff_t taps, ptrdiff_t ld, ptrdiff_t n, ptrdiff_t t);
void conv1dt_grouped_f64(double *y, ptrdiff_t ystep, const double *x, const double *f,
                         ptrdiff_t fstep, ptrdiff_t taps, ptrdiff_t ld, ptrdiff_t n, ptrdiff_t t);
/* spread: dst[c*ld + j*rep + q] = src[j*cg + c] for c < cg, j < groups, q < rep: one row of a
 * grouped call spread to the other side's channels (for grouped), in whole vectors. */
void conv1dt_spread_f32(float *dst, ptrdiff_t ld, const float *src, ptrdiff_t groups,
                        ptrdiff_t cg, ptrdiff_t rep);
void conv1dt_spread_f64(double *dst, ptrdiff_t ld, const double *src, ptrdiff_t groups,
                        ptrdiff_t cg, ptrdiff_t rep);
/* fir: y[j] = (accumulate ? y[j] : 0) + the sum over u < t, in increasing u, of
 * w[u] * x[u*ld + j], for j < n: a one-channel filter over a signal read at lags u*ld. */
void conv1dt_fir_f32(float *y, const float *w, ptrdiff_t t, const float *x, ptrdiff_t ld,
                     ptrdiff_t n, int accumulate);
void conv1dt_fir_f64(double *y, const double *w, ptrdiff_t t, const double *x, ptrdiff_t ld,
                     ptrdiff_t n, int accumulate);
/* packed: c[i*ldc + j] = (accumulate == SKINNY_ADD ? c[i*ldc + j] : 0) + the sum over u < t, in
 * increasing u, of p[i*psi + u*pst] * q[u*qsu + j*qsj], for i < m and j < n: a GEMM of any
 * size, q laid out in cache-sized blocks (skinny_impl.h); SKINNY_STREAM stores the sums past
 * the caches (each block of u before the last adds to c, which stays in them) and fences after
 * them. Returns 0, having done nothing, when
 * its scratch cannot be had (the caller's BLAS then runs it), else 1. The BLAS GEMM of the
 * kernels (_blas.pxd) calls it instead of the BLAS where conv1dt_packed_on is set; conv1d's
 * implicit kernel calls it for long windows (_gemm.pyx), whatever the flag. */
int conv1dt_packed_f32(float *c, ptrdiff_t ldc, const float *p, ptrdiff_t psi, ptrdiff_t pst,
                       const float *q, ptrdiff_t qsu, ptrdiff_t qsj, ptrdiff_t m, ptrdiff_t n,
                       ptrdiff_t t, int accumulate);
int conv1dt_packed_f64(double *c, ptrdiff_t ldc, const double *p, ptrdiff_t psi, ptrdiff_t pst,
                       const double *q, ptrdiff_t qsu, ptrdiff_t qsj, ptrdiff_t m, ptrdiff_t n,
                       ptrdiff_t t, int accumulate);
/* packed_runs: the packed GEMM on runs of rows that share q (each block of q laid out once for
 * all of them): for each run, m rows of c from c (ldc apart), their p from p (rows psi apart,
 * steps pst apart), c and p of the function's element type. Returns as conv1dt_packed_f32. */
struct conv1dt_run {
    void *c;
    const void *p;
    ptrdiff_t psi, pst, m;
};
int conv1dt_packed_runs_f32(const struct conv1dt_run *runs, int nruns, ptrdiff_t ldc,
                            const float *q, ptrdiff_t qsu, ptrdiff_t qsj, ptrdiff_t n,
                            ptrdiff_t t, int accumulate);
int conv1dt_packed_runs_f64(const struct conv1dt_run *runs, int nruns, ptrdiff_t ldc,
                            const double *q, ptrdiff_t qsu, ptrdiff_t qsj, ptrdiff_t n,
                            ptrdiff_t t, int accumulate);
extern int conv1dt_packed_on;      /* set once at import (conv1dt/_runtime/blas_pick.py) */
extern long long conv1dt_packed_calls;   /* runs of the packed GEMM so far (for the tests) */
#define CONV1DT_PACKED_SLOT 3      /* the scratch slot of its blocks */
#define CONV1DT_PACKED_BYTES ((size_t)256 << 10)

/* Scratch kept by the calling thread between calls (scratch.c): a 64-byte aligned block of at
 * least `bytes` in `slot` (0 .. CONV1DT_SCRATCH_SLOTS - 1: one per buffer a thread holds at
 * once), NULL when it cannot be had; conv1dt_scratch_done(slot, block) when the call is done
 * with it (a large block is then let go). Never two users of one slot on one thread at once. */
#define CONV1DT_SCRATCH_SLOTS 4
void *conv1dt_scratch(int slot, size_t bytes);
void conv1dt_scratch_done(int slot, void *block);
size_t conv1dt_scratch_kept(void);     /* bytes the calling thread keeps in its slots */

/* Where a parallel region's threads run (place.c): conv1dt_team_begin, on the calling thread
 * before a region of `threads` threads, notes the CPUs it may run on; each thread t of the region
 * calls conv1dt_team_join(team, t) at each work item (it acts once): thread t >= 1 (below
 * CONV1DT_TEAM_MAX) is then held on the t-th of those CPUs after the caller's; the caller calls
 * conv1dt_team_end(team) after the region, which lets them go. Nothing moves unless
 * conv1dt_team_place is set (at import), on Linux. */
#define CONV1DT_TEAM_MAX 64
struct conv1dt_team {
    int on;
    int first;                        /* the caller's CPU */
    int cpu[CONV1DT_TEAM_MAX];        /* thread t's CPU, or -1 */
    int tid[CONV1DT_TEAM_MAX];        /* thread t's Linux thread id once held there, else 0 */
    unsigned long long mask[16];      /* the caller's CPUs (a cpu_set_t of 1024 bits) */
};
extern int conv1dt_team_place;
void conv1dt_team_begin(struct conv1dt_team *team, int threads);
void conv1dt_team_join(struct conv1dt_team *team, int t);
void conv1dt_team_end(struct conv1dt_team *team);
int conv1dt_current_cpu(void);        /* the calling thread's CPU, -1 where unknown */
/* The fence after streaming stores, before their data is read (a no-op without SSE2). */
void conv1dt_store_fence(void);

struct conv1dt_skinny_ops {          /* one instruction set's skinny GEMM */
    void (*gemm_f32)(float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t, const float *,
                     ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, int, const float *, ptrdiff_t);
    void (*gemm_f64)(double *, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t, const double *,
                     ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, int, const double *, ptrdiff_t);
    void (*depthwise_rows_f32)(float *, ptrdiff_t, const float *, const float *, ptrdiff_t,
                               const ptrdiff_t *, const ptrdiff_t *, const ptrdiff_t *, ptrdiff_t,
                               ptrdiff_t, ptrdiff_t, int);
    void (*depthwise_rows_f64)(double *, ptrdiff_t, const double *, const double *, ptrdiff_t,
                               const ptrdiff_t *, const ptrdiff_t *, const ptrdiff_t *, ptrdiff_t,
                               ptrdiff_t, ptrdiff_t, int);
    void (*depthwise_tile_f32)(float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t,
                               const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, int);
    void (*depthwise_tile_f64)(double *, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t,
                               const double *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, int);
    void (*depthwise_filter_f32)(float *, const float *, const float *, ptrdiff_t, ptrdiff_t,
                                 ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                                 ptrdiff_t, ptrdiff_t, ptrdiff_t, float *, ptrdiff_t);
    void (*depthwise_filter_f64)(double *, const double *, const double *, ptrdiff_t, ptrdiff_t,
                                 ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                                 ptrdiff_t, ptrdiff_t, ptrdiff_t, double *, ptrdiff_t);
    void (*dot_f32)(float *, ptrdiff_t, const float *, ptrdiff_t, const float *, ptrdiff_t,
                    ptrdiff_t, ptrdiff_t, ptrdiff_t, int);
    void (*dot_f64)(double *, ptrdiff_t, const double *, ptrdiff_t, const double *, ptrdiff_t,
                    ptrdiff_t, ptrdiff_t, ptrdiff_t, int);
    void (*grouped_f32)(float *, ptrdiff_t, const float *, const float *, ptrdiff_t, ptrdiff_t,
                        ptrdiff_t, ptrdiff_t, ptrdiff_t);
    void (*grouped_f64)(double *, ptrdiff_t, const double *, const double *, ptrdiff_t, ptrdiff_t,
                        ptrdiff_t, ptrdiff_t, ptrdiff_t);
    void (*spread_f32)(float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t);
    void (*spread_f64)(double *, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t, ptrdiff_t);
    void (*fir_f32)(float *, const float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t, int);
    void (*fir_f64)(double *, const double *, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t,
                    int);
    void (*packed_f32)(float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t, const float *,
                       ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, int, float *);
    void (*packed_f64)(double *, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t, const double *,
                       ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, int, double *);
    void (*packed_runs_f32)(const struct conv1dt_run *, int, ptrdiff_t, const float *, ptrdiff_t,
                            ptrdiff_t, ptrdiff_t, ptrdiff_t, int, float *);
    void (*packed_runs_f64)(const struct conv1dt_run *, int, ptrdiff_t, const double *,
                            ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, int, double *);
};
extern const struct conv1dt_skinny_ops conv1dt_skinny_baseline, conv1dt_skinny_avx2,
    conv1dt_skinny_avx512;

/* Whether this build has the AVX2 and AVX-512 variants: x86-64 with GCC or Clang (setup.py
 * compiles their files under the same condition; elsewhere they compile to nothing). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CONV1DT_X86_VARIANTS 1
#else
#define CONV1DT_X86_VARIANTS 0
#endif

#endif
