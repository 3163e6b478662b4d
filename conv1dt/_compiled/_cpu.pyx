# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled layer's side of the machine: the C layer's entry points, its one runtime CPU
dispatch, the floating-point mode of conv1dt's threads, and how the extensions were built.

* The C layer (``src/``: the direct kernel's strips and the register-tiled micro-kernel, each
  compiled once per instruction set, and ``dispatch.c``) is linked into this extension only, so
  the instruction set its dispatch chose (:func:`cpu_isa`, lowered by ``CONV1DT_CPU``) and the
  tests' limit on the tiles (:func:`_limit_tiled_isa`) exist once per process. The Cython kernels
  call it through the ``cdef`` functions declared in ``_cpu.pxd`` (thin wrappers: one call each).
* Flush-to-zero (:func:`_flush_denormals`, for ``conv1dt/_runtime/denormals.py``): FTZ and DAZ in
  MXCSR, on the calling thread and on the OpenMP team's.
* The build: :func:`have_openmp`, :func:`omp_max_threads` and :func:`compile_flags`, reported by
  ``conv1dt.show_config()``.
"""
from cython.parallel cimport parallel, threadid

cdef extern from "kernels.h" nogil:
    # the C layer (src/): every kernel runs the instruction set dispatch.c chose
    int conv1dt_cpu_isa()
    int conv1dt_cpu_isa_detected()
    const char* conv1dt_cpu_isa_error()
    const char* conv1dt_isa_name(int isa)
    # the direct kernel (direct_impl.h)
    void conv1dt_phase_strip_f32(float* y, Py_ssize_t ysj, Py_ssize_t ysc, const float* f,
                                 const Py_ssize_t* woff, const Py_ssize_t* xoff, Py_ssize_t ntaps,
                                 const float* x, Py_ssize_t ldx, Py_ssize_t ulo, Py_ssize_t uhi,
                                 const Py_ssize_t* klo, const Py_ssize_t* khi, Py_ssize_t cout,
                                 Py_ssize_t cin, Py_ssize_t n)
    void conv1dt_phase_strip_f64(double* y, Py_ssize_t ysj, Py_ssize_t ysc, const double* f,
                                 const Py_ssize_t* woff, const Py_ssize_t* xoff, Py_ssize_t ntaps,
                                 const double* x, Py_ssize_t ldx, Py_ssize_t ulo, Py_ssize_t uhi,
                                 const Py_ssize_t* klo, const Py_ssize_t* khi, Py_ssize_t cout,
                                 Py_ssize_t cin, Py_ssize_t n)
    void conv1dt_rows_to_channels_f32(float* dst, Py_ssize_t ld, const float* src, Py_ssize_t cin,
                                      Py_ssize_t count)
    void conv1dt_rows_to_channels_f64(double* dst, Py_ssize_t ld, const double* src, Py_ssize_t cin,
                                      Py_ssize_t count)
    void conv1dt_interleave_f32(float* dst, const float* src, Py_ssize_t ld, Py_ssize_t s,
                                Py_ssize_t count)
    void conv1dt_interleave_f64(double* dst, const double* src, Py_ssize_t ld, Py_ssize_t s,
                                Py_ssize_t count)
    # the tiled kernel (tiled_impl.h)
    int conv1dt_tiled_available()
    int conv1dt_tiled_isa()
    void conv1dt_limit_isa(int limit)
    int conv1dt_isa_limit
    Py_ssize_t conv1dt_tiled_panel(int isa, int dbl)
    void conv1dt_phase_tiled_f32_(int isa, float* y, Py_ssize_t ldy, const float* x,
                                  Py_ssize_t ldx, Py_ssize_t M, Py_ssize_t cin, const float* w,
                                  Py_ssize_t ntaps, Py_ssize_t c0, Py_ssize_t dc, Py_ssize_t q0,
                                  Py_ssize_t nq, Py_ssize_t cout, int stream)
    void conv1dt_phase_tiled_f64_(int isa, double* y, Py_ssize_t ldy, const double* x,
                                  Py_ssize_t ldx, Py_ssize_t M, Py_ssize_t cin, const double* w,
                                  Py_ssize_t ntaps, Py_ssize_t c0, Py_ssize_t dc, Py_ssize_t q0,
                                  Py_ssize_t nq, Py_ssize_t cout, int stream)
    void conv1dt_pack_f32(int isa, float* dst, const float* src, Py_ssize_t ld, Py_ssize_t cout,
                          Py_ssize_t co0, Py_ssize_t ci0, Py_ssize_t ci1)
    void conv1dt_pack_f64(int isa, double* dst, const double* src, Py_ssize_t ld,
                          Py_ssize_t cout, Py_ssize_t co0, Py_ssize_t ci0, Py_ssize_t ci1)
    # the skinny GEMM (skinny_impl.h)
    void conv1dt_skinny_f32(float* c, Py_ssize_t ldc, const float* p, Py_ssize_t psi,
                            Py_ssize_t pst, const float* q, Py_ssize_t ldq, Py_ssize_t m,
                            Py_ssize_t n, Py_ssize_t t, int accumulate, const float* ahead,
                            Py_ssize_t ahead_bytes)
    void conv1dt_skinny_f64(double* c, Py_ssize_t ldc, const double* p, Py_ssize_t psi,
                            Py_ssize_t pst, const double* q, Py_ssize_t ldq, Py_ssize_t m,
                            Py_ssize_t n, Py_ssize_t t, int accumulate, const double* ahead,
                            Py_ssize_t ahead_bytes)
    void conv1dt_depthwise_rows_f32(float* y, Py_ssize_t ldy, const float* x, const float* f,
                                    Py_ssize_t rows, const Py_ssize_t* xoff,
                                    const Py_ssize_t* foff, const Py_ssize_t* ntaps,
                                    Py_ssize_t xstep, Py_ssize_t fstep, Py_ssize_t C, int mode)
    void conv1dt_depthwise_rows_f64(double* y, Py_ssize_t ldy, const double* x, const double* f,
                                    Py_ssize_t rows, const Py_ssize_t* xoff,
                                    const Py_ssize_t* foff, const Py_ssize_t* ntaps,
                                    Py_ssize_t xstep, Py_ssize_t fstep, Py_ssize_t C, int mode)
    void conv1dt_depthwise_tile_f32(float* y, Py_ssize_t ldy, const float* x, Py_ssize_t xrow,
                                    Py_ssize_t xtap, const float* f, Py_ssize_t ftap,
                                    Py_ssize_t taps, Py_ssize_t rows, Py_ssize_t C, int mode)
    void conv1dt_depthwise_tile_f64(double* y, Py_ssize_t ldy, const double* x, Py_ssize_t xrow,
                                    Py_ssize_t xtap, const double* f, Py_ssize_t ftap,
                                    Py_ssize_t taps, Py_ssize_t rows, Py_ssize_t C, int mode)
    void conv1dt_depthwise_filter_f32(float* df, const float* x, const float* dy, Py_ssize_t L,
                                      Py_ssize_t M, Py_ssize_t C, Py_ssize_t K, Py_ssize_t s,
                                      Py_ssize_t d, Py_ssize_t pad, Py_ssize_t r0, Py_ssize_t r1,
                                      Py_ssize_t j0, Py_ssize_t j1, float* scratch,
                                      Py_ssize_t scratch_elems)
    void conv1dt_depthwise_filter_f64(double* df, const double* x, const double* dy,
                                      Py_ssize_t L, Py_ssize_t M, Py_ssize_t C, Py_ssize_t K,
                                      Py_ssize_t s, Py_ssize_t d, Py_ssize_t pad, Py_ssize_t r0,
                                      Py_ssize_t r1, Py_ssize_t j0, Py_ssize_t j1,
                                      double* scratch, Py_ssize_t scratch_elems)
    void conv1dt_dot_f32(float* c, Py_ssize_t ldc, const float* p, Py_ssize_t ldp,
                         const float* q, Py_ssize_t ldq, Py_ssize_t m, Py_ssize_t n,
                         Py_ssize_t t, int accumulate)
    void conv1dt_dot_f64(double* c, Py_ssize_t ldc, const double* p, Py_ssize_t ldp,
                         const double* q, Py_ssize_t ldq, Py_ssize_t m, Py_ssize_t n,
                         Py_ssize_t t, int accumulate)
    void conv1dt_grouped_f32(float* y, Py_ssize_t ystep, const float* x, const float* f,
                             Py_ssize_t fstep, Py_ssize_t taps, Py_ssize_t ld, Py_ssize_t n,
                             Py_ssize_t t)
    void conv1dt_grouped_f64(double* y, Py_ssize_t ystep, const double* x, const double* f,
                             Py_ssize_t fstep, Py_ssize_t taps, Py_ssize_t ld, Py_ssize_t n,
                             Py_ssize_t t)
    void conv1dt_spread_f32(float* dst, Py_ssize_t ld, const float* src, Py_ssize_t groups,
                            Py_ssize_t cg, Py_ssize_t rep)
    void conv1dt_spread_f64(double* dst, Py_ssize_t ld, const double* src, Py_ssize_t groups,
                            Py_ssize_t cg, Py_ssize_t rep)
    void conv1dt_fir_f32(float* y, const float* w, Py_ssize_t t, const float* x, Py_ssize_t ld,
                         Py_ssize_t n, int accumulate)
    void conv1dt_fir_f64(double* y, const double* w, Py_ssize_t t, const double* x,
                         Py_ssize_t ld, Py_ssize_t n, int accumulate)
    void conv1dt_store_fence()
    int conv1dt_packed_f32(float* c, Py_ssize_t ldc, const float* p, Py_ssize_t psi,
                           Py_ssize_t pst, const float* q, Py_ssize_t qsu, Py_ssize_t qsj,
                           Py_ssize_t m, Py_ssize_t n, Py_ssize_t t, int accumulate)
    int conv1dt_packed_f64(double* c, Py_ssize_t ldc, const double* p, Py_ssize_t psi,
                           Py_ssize_t pst, const double* q, Py_ssize_t qsu, Py_ssize_t qsj,
                           Py_ssize_t m, Py_ssize_t n, Py_ssize_t t, int accumulate)
    int conv1dt_packed_on
    long long conv1dt_packed_calls
    long long conv1dt_streamed_calls
    struct conv1dt_run:
        pass
    int conv1dt_packed_runs_f32(const conv1dt_run* runs, int nruns, Py_ssize_t ldc,
                                const float* q, Py_ssize_t qsu, Py_ssize_t qsj, Py_ssize_t n,
                                Py_ssize_t t, int accumulate)
    int conv1dt_packed_runs_f64(const conv1dt_run* runs, int nruns, Py_ssize_t ldc,
                                const double* q, Py_ssize_t qsu, Py_ssize_t qsj, Py_ssize_t n,
                                Py_ssize_t t, int accumulate)
    void* conv1dt_scratch(int slot, size_t nbytes)
    void conv1dt_scratch_done(int slot, void* block)
    size_t conv1dt_scratch_kept()
    struct conv1dt_team:
        pass
    int conv1dt_team_place
    void conv1dt_team_begin(conv1dt_team* team, int threads)
    void conv1dt_team_join(conv1dt_team* team, int t)
    void conv1dt_team_end(conv1dt_team* team)
    int conv1dt_current_cpu()
    enum:
        CONV1DT_TEAM_MAX

if conv1dt_cpu_isa_error()[0]:     # CONV1DT_CPU names no instruction set: say so at import
    raise ValueError(conv1dt_cpu_isa_error().decode())

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define CONV1DT_HAVE_OPENMP 1
    #else
    #define CONV1DT_HAVE_OPENMP 0
    static int omp_get_max_threads(void) { return 1; }
    #endif
    #ifndef CONV1DT_CFLAGS
    #define CONV1DT_CFLAGS ""
    #endif
    """
    int CONV1DT_HAVE_OPENMP
    const char* CONV1DT_CFLAGS
    int omp_get_max_threads() noexcept nogil

# --- flush-to-zero (conv1dt/_runtime/denormals.py): FTZ and DAZ in MXCSR, per thread -------------------
cdef extern from *:
    """
    #if defined(__x86_64__) || defined(_M_X64) || (defined(__i386__) && defined(__SSE2__))
    #include <xmmintrin.h>
    #define CONV1DT_HAVE_MXCSR 1
    static unsigned int conv1dt_getcsr(void) { return _mm_getcsr(); }
    static void conv1dt_setcsr(unsigned int v) { _mm_setcsr(v); }
    #else
    #define CONV1DT_HAVE_MXCSR 0
    static unsigned int conv1dt_getcsr(void) { return 0; }
    static void conv1dt_setcsr(unsigned int v) { (void) v; }
    #endif
    """
    int CONV1DT_HAVE_MXCSR
    unsigned int conv1dt_getcsr() noexcept nogil
    void conv1dt_setcsr(unsigned int v) noexcept nogil

cdef enum:
    FTZ_DAZ = 0x8040        # MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6)


cdef inline void _set_ftz(bint on) noexcept nogil:
    cdef unsigned int v = conv1dt_getcsr()
    conv1dt_setcsr((v | FTZ_DAZ) if on else (v & ~(<unsigned int> FTZ_DAZ)))


def _flush_denormals(bint on, int num_threads):
    """Set (``on``) or clear FTZ and DAZ on the calling thread and on the ``num_threads`` threads
    of its OpenMP team (one parallel region, so the pool's threads that the next regions of up to
    ``num_threads`` threads use). Returns whether the calling thread had them set before, or None
    where the CPU has no MXCSR (then nothing is changed)."""
    if not CONV1DT_HAVE_MXCSR:
        return None
    cdef bint before = (conv1dt_getcsr() & FTZ_DAZ) == FTZ_DAZ
    _set_ftz(on)
    if num_threads > 1:
        with nogil, parallel(num_threads=num_threads):
            _set_ftz(on)
    return before


def have_openmp():
    """True when the extension was compiled with OpenMP (``prange`` runs in parallel)."""
    return bool(CONV1DT_HAVE_OPENMP)


def omp_max_threads():
    """``omp_get_max_threads()``: honours ``OMP_NUM_THREADS`` and threadpoolctl; 1 without OpenMP."""
    return omp_get_max_threads()


def cpu_isa():
    """The instruction set every compiled kernel runs: ``'avx512'``, ``'avx2'`` or ``'baseline'``.

    The best one this build and CPU have, lowered by the environment variable ``CONV1DT_CPU``
    (``baseline``, ``avx2`` or ``avx512``; a set the CPU lacks is capped at what it has), read
    once, at import."""
    return conv1dt_isa_name(conv1dt_cpu_isa()).decode()


def cpu_isa_detected():
    """The best instruction set of this build and CPU, whatever ``CONV1DT_CPU`` says."""
    return conv1dt_isa_name(conv1dt_cpu_isa_detected()).decode()


def tiled_available():
    """True when the register-tiled kernel can run: the instruction set is AVX2 or AVX-512 (see
    :func:`cpu_isa`); with the baseline the BLAS kernels run instead."""
    return bool(conv1dt_tiled_available())


def tiled_isa():
    """The tiled kernel's instruction set: ``'avx512'``, ``'avx2'`` or ``None`` (:func:`cpu_isa`,
    ``None`` for the baseline; lowered by :func:`_limit_tiled_isa`)."""
    return {2: "avx512", 1: "avx2"}.get(conv1dt_tiled_isa())


def tiled_panel_channels(itemsize):
    """Output channels in one panel of the tiled kernel's filter layout for elements of
    ``itemsize`` bytes (4 or 8) with the tiles that run now (0 with none): the C layer's own
    figure (``conv1dt_tiled_panel``), which the planner's lane count reads."""
    return conv1dt_tiled_panel(conv1dt_tiled_isa(), itemsize == 8)


def _limit_tiled_isa(isa):
    """Run at most the tiles of ``isa`` (``'avx512'``, ``'avx2'`` or None) from now on; returns
    the previous limit. For the tests, which run both sets of tiles in one process on an AVX-512
    CPU (the other kernels follow ``CONV1DT_CPU`` only). A call reads the limit once, when it
    starts; not thread-safe beyond that (calls starting meanwhile may see either)."""
    names = {2: "avx512", 1: "avx2", 0: None}
    old = names[conv1dt_isa_limit]
    conv1dt_limit_isa({v: k for k, v in names.items()}[isa])
    return old


def compile_flags():
    """The compiler flags the kernels were built with."""
    return CONV1DT_CFLAGS.decode()


# --- the C layer's entry points for the Cython kernels (declared in _cpu.pxd) -------------------

cdef int tiled_isa_index() noexcept nogil:
    return conv1dt_tiled_isa()


cdef Py_ssize_t tiled_panel(int isa, int dbl) noexcept nogil:
    return conv1dt_tiled_panel(isa, dbl)


cdef void phase_strip_f32(float* y, Py_ssize_t ysj, Py_ssize_t ysc, const float* f,
                          const Py_ssize_t* woff, const Py_ssize_t* xoff, Py_ssize_t ntaps,
                          const float* x, Py_ssize_t ldx, Py_ssize_t ulo, Py_ssize_t uhi,
                          const Py_ssize_t* klo, const Py_ssize_t* khi, Py_ssize_t cout,
                          Py_ssize_t cin, Py_ssize_t n) noexcept nogil:
    conv1dt_phase_strip_f32(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, klo, khi, cout,
                            cin, n)


cdef void phase_strip_f64(double* y, Py_ssize_t ysj, Py_ssize_t ysc, const double* f,
                          const Py_ssize_t* woff, const Py_ssize_t* xoff, Py_ssize_t ntaps,
                          const double* x, Py_ssize_t ldx, Py_ssize_t ulo, Py_ssize_t uhi,
                          const Py_ssize_t* klo, const Py_ssize_t* khi, Py_ssize_t cout,
                          Py_ssize_t cin, Py_ssize_t n) noexcept nogil:
    conv1dt_phase_strip_f64(y, ysj, ysc, f, woff, xoff, ntaps, x, ldx, ulo, uhi, klo, khi, cout,
                            cin, n)


cdef void rows_to_channels_f32(float* dst, Py_ssize_t ld, const float* src, Py_ssize_t cin,
                               Py_ssize_t count) noexcept nogil:
    conv1dt_rows_to_channels_f32(dst, ld, src, cin, count)


cdef void rows_to_channels_f64(double* dst, Py_ssize_t ld, const double* src, Py_ssize_t cin,
                               Py_ssize_t count) noexcept nogil:
    conv1dt_rows_to_channels_f64(dst, ld, src, cin, count)


cdef void interleave_f32(float* dst, const float* src, Py_ssize_t ld, Py_ssize_t s,
                         Py_ssize_t count) noexcept nogil:
    conv1dt_interleave_f32(dst, src, ld, s, count)


cdef void interleave_f64(double* dst, const double* src, Py_ssize_t ld, Py_ssize_t s,
                         Py_ssize_t count) noexcept nogil:
    conv1dt_interleave_f64(dst, src, ld, s, count)


cdef void phase_tiled_f32(int isa, float* y, Py_ssize_t ldy, const float* x, Py_ssize_t ldx,
                          Py_ssize_t M, Py_ssize_t cin, const float* w, Py_ssize_t ntaps,
                          Py_ssize_t c0, Py_ssize_t dc, Py_ssize_t q0, Py_ssize_t nq,
                          Py_ssize_t cout, int stream) noexcept nogil:
    conv1dt_phase_tiled_f32_(isa, y, ldy, x, ldx, M, cin, w, ntaps, c0, dc, q0, nq, cout, stream)


cdef void phase_tiled_f64(int isa, double* y, Py_ssize_t ldy, const double* x, Py_ssize_t ldx,
                          Py_ssize_t M, Py_ssize_t cin, const double* w, Py_ssize_t ntaps,
                          Py_ssize_t c0, Py_ssize_t dc, Py_ssize_t q0, Py_ssize_t nq,
                          Py_ssize_t cout, int stream) noexcept nogil:
    conv1dt_phase_tiled_f64_(isa, y, ldy, x, ldx, M, cin, w, ntaps, c0, dc, q0, nq, cout, stream)


cdef void pack_f32(int isa, float* dst, const float* src, Py_ssize_t ld, Py_ssize_t cout,
                   Py_ssize_t co0, Py_ssize_t ci0, Py_ssize_t ci1) noexcept nogil:
    conv1dt_pack_f32(isa, dst, src, ld, cout, co0, ci0, ci1)


cdef void pack_f64(int isa, double* dst, const double* src, Py_ssize_t ld, Py_ssize_t cout,
                   Py_ssize_t co0, Py_ssize_t ci0, Py_ssize_t ci1) noexcept nogil:
    conv1dt_pack_f64(isa, dst, src, ld, cout, co0, ci0, ci1)


cdef void skinny_f32(float* c, Py_ssize_t ldc, const float* p, Py_ssize_t psi, Py_ssize_t pst,
                     const float* q, Py_ssize_t ldq, Py_ssize_t m, Py_ssize_t n, Py_ssize_t t,
                     int accumulate, const float* ahead, Py_ssize_t ahead_bytes) noexcept nogil:
    conv1dt_skinny_f32(c, ldc, p, psi, pst, q, ldq, m, n, t, accumulate, ahead, ahead_bytes)


cdef void skinny_f64(double* c, Py_ssize_t ldc, const double* p, Py_ssize_t psi, Py_ssize_t pst,
                     const double* q, Py_ssize_t ldq, Py_ssize_t m, Py_ssize_t n, Py_ssize_t t,
                     int accumulate, const double* ahead, Py_ssize_t ahead_bytes) noexcept nogil:
    conv1dt_skinny_f64(c, ldc, p, psi, pst, q, ldq, m, n, t, accumulate, ahead, ahead_bytes)


cdef void depthwise_rows_f32(float* y, Py_ssize_t ldy, const float* x, const float* f,
                             Py_ssize_t rows, const Py_ssize_t* xoff, const Py_ssize_t* foff,
                             const Py_ssize_t* ntaps, Py_ssize_t xstep, Py_ssize_t fstep,
                             Py_ssize_t C, int mode) noexcept nogil:
    conv1dt_depthwise_rows_f32(y, ldy, x, f, rows, xoff, foff, ntaps, xstep, fstep, C, mode)


cdef void depthwise_rows_f64(double* y, Py_ssize_t ldy, const double* x, const double* f,
                             Py_ssize_t rows, const Py_ssize_t* xoff, const Py_ssize_t* foff,
                             const Py_ssize_t* ntaps, Py_ssize_t xstep, Py_ssize_t fstep,
                             Py_ssize_t C, int mode) noexcept nogil:
    conv1dt_depthwise_rows_f64(y, ldy, x, f, rows, xoff, foff, ntaps, xstep, fstep, C, mode)


cdef void depthwise_tile_f32(float* y, Py_ssize_t ldy, const float* x, Py_ssize_t xrow,
                             Py_ssize_t xtap, const float* f, Py_ssize_t ftap, Py_ssize_t taps,
                             Py_ssize_t rows, Py_ssize_t C, int mode) noexcept nogil:
    conv1dt_depthwise_tile_f32(y, ldy, x, xrow, xtap, f, ftap, taps, rows, C, mode)


cdef void depthwise_tile_f64(double* y, Py_ssize_t ldy, const double* x, Py_ssize_t xrow,
                             Py_ssize_t xtap, const double* f, Py_ssize_t ftap, Py_ssize_t taps,
                             Py_ssize_t rows, Py_ssize_t C, int mode) noexcept nogil:
    conv1dt_depthwise_tile_f64(y, ldy, x, xrow, xtap, f, ftap, taps, rows, C, mode)


cdef void depthwise_filter_f32(float* df, const float* x, const float* dy, Py_ssize_t L,
                               Py_ssize_t M, Py_ssize_t C, Py_ssize_t K, Py_ssize_t s,
                               Py_ssize_t d, Py_ssize_t pad, Py_ssize_t r0, Py_ssize_t r1,
                               Py_ssize_t j0, Py_ssize_t j1, float* scratch,
                               Py_ssize_t scratch_elems) noexcept nogil:
    conv1dt_depthwise_filter_f32(df, x, dy, L, M, C, K, s, d, pad, r0, r1, j0, j1, scratch,
                                 scratch_elems)


cdef void depthwise_filter_f64(double* df, const double* x, const double* dy, Py_ssize_t L,
                               Py_ssize_t M, Py_ssize_t C, Py_ssize_t K, Py_ssize_t s,
                               Py_ssize_t d, Py_ssize_t pad, Py_ssize_t r0, Py_ssize_t r1,
                               Py_ssize_t j0, Py_ssize_t j1, double* scratch,
                               Py_ssize_t scratch_elems) noexcept nogil:
    conv1dt_depthwise_filter_f64(df, x, dy, L, M, C, K, s, d, pad, r0, r1, j0, j1, scratch,
                                 scratch_elems)


cdef void dot_f32(float* c, Py_ssize_t ldc, const float* p, Py_ssize_t ldp, const float* q,
                  Py_ssize_t ldq, Py_ssize_t m, Py_ssize_t n, Py_ssize_t t,
                  int accumulate) noexcept nogil:
    conv1dt_dot_f32(c, ldc, p, ldp, q, ldq, m, n, t, accumulate)


cdef void dot_f64(double* c, Py_ssize_t ldc, const double* p, Py_ssize_t ldp, const double* q,
                  Py_ssize_t ldq, Py_ssize_t m, Py_ssize_t n, Py_ssize_t t,
                  int accumulate) noexcept nogil:
    conv1dt_dot_f64(c, ldc, p, ldp, q, ldq, m, n, t, accumulate)


cdef void grouped_f32(float* y, Py_ssize_t ystep, const float* x, const float* f,
                      Py_ssize_t fstep, Py_ssize_t taps, Py_ssize_t ld, Py_ssize_t n,
                      Py_ssize_t t) noexcept nogil:
    conv1dt_grouped_f32(y, ystep, x, f, fstep, taps, ld, n, t)


cdef void grouped_f64(double* y, Py_ssize_t ystep, const double* x, const double* f,
                      Py_ssize_t fstep, Py_ssize_t taps, Py_ssize_t ld, Py_ssize_t n,
                      Py_ssize_t t) noexcept nogil:
    conv1dt_grouped_f64(y, ystep, x, f, fstep, taps, ld, n, t)


cdef void spread_f32(float* dst, Py_ssize_t ld, const float* src, Py_ssize_t groups,
                     Py_ssize_t cg, Py_ssize_t rep) noexcept nogil:
    conv1dt_spread_f32(dst, ld, src, groups, cg, rep)


cdef void spread_f64(double* dst, Py_ssize_t ld, const double* src, Py_ssize_t groups,
                     Py_ssize_t cg, Py_ssize_t rep) noexcept nogil:
    conv1dt_spread_f64(dst, ld, src, groups, cg, rep)


cdef void fir_f32(float* y, const float* w, Py_ssize_t t, const float* x, Py_ssize_t ld,
                  Py_ssize_t n, int accumulate) noexcept nogil:
    conv1dt_fir_f32(y, w, t, x, ld, n, accumulate)


cdef void fir_f64(double* y, const double* w, Py_ssize_t t, const double* x, Py_ssize_t ld,
                  Py_ssize_t n, int accumulate) noexcept nogil:
    conv1dt_fir_f64(y, w, t, x, ld, n, accumulate)


cdef void store_fence() noexcept nogil:
    conv1dt_store_fence()


cdef bint packed_enabled() noexcept nogil:
    return conv1dt_packed_on != 0


cdef int packed_f32(float* c, Py_ssize_t ldc, const float* p, Py_ssize_t psi, Py_ssize_t pst,
                    const float* q, Py_ssize_t qsu, Py_ssize_t qsj, Py_ssize_t m, Py_ssize_t n,
                    Py_ssize_t t, int accumulate) noexcept nogil:
    return conv1dt_packed_f32(c, ldc, p, psi, pst, q, qsu, qsj, m, n, t, accumulate)


cdef int packed_f64(double* c, Py_ssize_t ldc, const double* p, Py_ssize_t psi, Py_ssize_t pst,
                    const double* q, Py_ssize_t qsu, Py_ssize_t qsj, Py_ssize_t m, Py_ssize_t n,
                    Py_ssize_t t, int accumulate) noexcept nogil:
    return conv1dt_packed_f64(c, ldc, p, psi, pst, q, qsu, qsj, m, n, t, accumulate)


cdef int packed_runs_f32(const run* runs, int nruns, Py_ssize_t ldc, const float* q,
                         Py_ssize_t qsu, Py_ssize_t qsj, Py_ssize_t n, Py_ssize_t t,
                         int accumulate) noexcept nogil:
    return conv1dt_packed_runs_f32(<const conv1dt_run*> runs, nruns, ldc, q, qsu, qsj, n, t,
                                   accumulate)


cdef int packed_runs_f64(const run* runs, int nruns, Py_ssize_t ldc, const double* q,
                         Py_ssize_t qsu, Py_ssize_t qsj, Py_ssize_t n, Py_ssize_t t,
                         int accumulate) noexcept nogil:
    return conv1dt_packed_runs_f64(<const conv1dt_run*> runs, nruns, ldc, q, qsu, qsj, n, t,
                                   accumulate)


def packed_on():
    """Whether the kernels' GEMMs run the packed GEMM (``src/skinny_impl.h``) instead of the BLAS."""
    return bool(conv1dt_packed_on)


def _packed_calls():
    """How many times the packed GEMM has run in this process (each GEMM, each set of runs):
    for the tests, which check that a plan that chose it reaches it."""
    return conv1dt_packed_calls


def _streamed_calls():
    """How many times the skinny GEMM has run with streaming stores in this process: for the
    tests, which check that a plan's ``stream`` reaches it."""
    return conv1dt_streamed_calls


def _set_packed(bint on):
    """Run the kernels' GEMMs by the packed GEMM (on) or by the BLAS (off), from now on: set
    once at import by conv1dt/_runtime/blas_pick.py (and by tests, between calls)."""
    global conv1dt_packed_on
    conv1dt_packed_on = 1 if on else 0


cdef void* scratch(int slot, size_t nbytes) noexcept nogil:
    return conv1dt_scratch(slot, nbytes)


cdef void scratch_done(int slot, void* block) noexcept nogil:
    conv1dt_scratch_done(slot, block)


def scratch_kept():
    """Bytes of scratch the calling thread keeps between calls (``src/scratch.c``)."""
    return conv1dt_scratch_kept()


if sizeof(team) != sizeof(conv1dt_team) or CONV1DT_TEAM_MAX != 64:
    raise ImportError("conv1dt: _cpu.pxd's struct team is not src/kernels.h's conv1dt_team")


cdef void team_begin(team* t, int threads) noexcept nogil:
    conv1dt_team_begin(<conv1dt_team*> t, threads)


cdef void team_join(team* t, int thread) noexcept nogil:
    conv1dt_team_join(<conv1dt_team*> t, thread)


cdef void team_end(team* t) noexcept nogil:
    conv1dt_team_end(<conv1dt_team*> t)


def _set_team_place(bint on):
    """Hold each worker of the kernels' parallel regions on a CPU of its own while the region
    runs (on) or leave them where the scheduler puts them (off) (``src/place.c``): set once at
    import by conv1dt/_runtime/threads.py (and by tests)."""
    global conv1dt_team_place
    conv1dt_team_place = 1 if on else 0


def team_place_on():
    """Whether the kernels' parallel regions hold their workers on CPUs of their own."""
    return conv1dt_team_place != 0


def _team_probe(int threads=2):
    """For the tests: one parallel region of ``threads`` threads (at most 64) placed as the
    kernels' are. Returns ``(first, planned, seen, held)``: the caller's CPU at the region's
    start, each thread's planned CPU (None where nothing is placed), the CPU each thread ran on
    after joining, and the Linux thread id of each thread held (0 where none was)."""
    cdef team crew
    cdef int seen[64]
    cdef int t
    threads = max(1, min(threads, 64))
    for t in range(64):
        seen[t] = -2
    team_begin(&crew, threads)
    planned = [crew.cpu[t] for t in range(threads)] if crew.on else None
    first = crew.first if crew.on else conv1dt_current_cpu()
    with nogil, parallel(num_threads=threads):
        t = threadid()
        team_join(&crew, t)
        seen[t] = conv1dt_current_cpu()
    held = [max(crew.tid[t], 0) if crew.on else 0 for t in range(threads)]
    team_end(&crew)
    return first, planned, [seen[t] for t in range(threads)], held


# --- the BLAS thread guard's save and restore (conv1dt/_runtime/blas_threads.py) -------------

ctypedef int (*_get_int)() noexcept nogil
ctypedef void (*_set_int)(int) noexcept nogil
ctypedef long long (*_get_i64)() noexcept nogil
ctypedef void (*_set_i64)(long long) noexcept nogil

cdef enum:
    _MAX_BLAS = 8


cdef class BlasThreads:
    """One thread for the BLAS libraries whose thread-count functions are at the given addresses,
    while entered: ``libs`` is ``[(get, set, wide), ...]``, ``int get(void)`` and ``void
    set(int)`` (``long long`` with ``wide``: BLIS's ``dim_t``). :meth:`enter` saves each count
    that is not 1 and sets it to 1, :meth:`leave` puts them back; nested entries share one save
    and restore. Both run with the GIL held and call C directly (no ctypes, no lock: the GIL
    makes each of them one step for Python's threads), a tenth of the guard's time through
    ctypes (``single_threaded_blas`` is entered by every guarded kernel call)."""
    cdef size_t gets[_MAX_BLAS]
    cdef size_t sets[_MAX_BLAS]
    cdef bint wide[_MAX_BLAS]
    cdef bint changed[_MAX_BLAS]
    cdef long long old[_MAX_BLAS]
    cdef int n
    cdef readonly int depth

    def __cinit__(self, libs):
        self.n = 0
        self.depth = 0
        for get, set_, wide in libs:
            if self.n == _MAX_BLAS:
                raise ValueError(f"conv1dt: at most {_MAX_BLAS} BLAS libraries to guard")
            if not get or not set_:
                raise ValueError("conv1dt: a BLAS thread function at address 0")
            self.gets[self.n], self.sets[self.n], self.wide[self.n] = get, set_, wide
            self.n += 1

    def enter(self):
        cdef int j
        cdef long long v
        if self.depth == 0:
            for j in range(self.n):
                v = (<_get_i64> self.gets[j])() if self.wide[j] else (<_get_int> self.gets[j])()
                self.changed[j] = v != 1
                if v != 1:
                    self.old[j] = v
                    if self.wide[j]:
                        (<_set_i64> self.sets[j])(1)
                    else:
                        (<_set_int> self.sets[j])(1)
        self.depth += 1

    def leave(self):
        cdef int j
        if self.depth == 0:
            raise RuntimeError("conv1dt: the BLAS guard left more often than entered")
        self.depth -= 1
        if self.depth == 0:
            for j in range(self.n):
                if self.changed[j]:
                    if self.wide[j]:
                        (<_set_i64> self.sets[j])(self.old[j])
                    else:
                        (<_set_int> self.sets[j])(<int> self.old[j])
