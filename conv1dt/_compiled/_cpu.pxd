# cython: language_level=3
# The C layer's entry points (src/kernels.h) for the Cython kernels, defined in _cpu.pyx: the C
# layer is linked into conv1dt._compiled._cpu alone, so its dispatch state exists once.
# tiled_isa_index: the tiled kernel's instruction set (0 for none, 1 AVX2, 2 AVX-512), read once
# per call (it sizes the filter layout); tiled_panel: output channels per filter panel of that set.
from cython cimport floating

cdef int tiled_isa_index() noexcept nogil
cdef Py_ssize_t tiled_panel(int isa, int dbl) noexcept nogil
cdef void phase_strip_f32(float* y, Py_ssize_t ysj, Py_ssize_t ysc, const float* f,
                          const Py_ssize_t* woff, const Py_ssize_t* xoff, Py_ssize_t ntaps,
                          const float* x, Py_ssize_t ldx, Py_ssize_t ulo, Py_ssize_t uhi,
                          const Py_ssize_t* klo, const Py_ssize_t* khi, Py_ssize_t cout,
                          Py_ssize_t cin, Py_ssize_t n) noexcept nogil
cdef void phase_strip_f64(double* y, Py_ssize_t ysj, Py_ssize_t ysc, const double* f,
                          const Py_ssize_t* woff, const Py_ssize_t* xoff, Py_ssize_t ntaps,
                          const double* x, Py_ssize_t ldx, Py_ssize_t ulo, Py_ssize_t uhi,
                          const Py_ssize_t* klo, const Py_ssize_t* khi, Py_ssize_t cout,
                          Py_ssize_t cin, Py_ssize_t n) noexcept nogil
cdef void rows_to_channels_f32(float* dst, Py_ssize_t ld, const float* src, Py_ssize_t cin,
                               Py_ssize_t count) noexcept nogil
cdef void rows_to_channels_f64(double* dst, Py_ssize_t ld, const double* src, Py_ssize_t cin,
                               Py_ssize_t count) noexcept nogil
cdef void interleave_f32(float* dst, const float* src, Py_ssize_t ld, Py_ssize_t s,
                         Py_ssize_t count) noexcept nogil
cdef void interleave_f64(double* dst, const double* src, Py_ssize_t ld, Py_ssize_t s,
                         Py_ssize_t count) noexcept nogil
cdef void phase_tiled_f32(int isa, float* y, Py_ssize_t ldy, const float* x, Py_ssize_t ldx,
                          Py_ssize_t M, Py_ssize_t cin, const float* w, Py_ssize_t ntaps,
                          Py_ssize_t c0, Py_ssize_t dc, Py_ssize_t q0, Py_ssize_t nq,
                          Py_ssize_t cout, int stream) noexcept nogil
cdef void phase_tiled_f64(int isa, double* y, Py_ssize_t ldy, const double* x, Py_ssize_t ldx,
                          Py_ssize_t M, Py_ssize_t cin, const double* w, Py_ssize_t ntaps,
                          Py_ssize_t c0, Py_ssize_t dc, Py_ssize_t q0, Py_ssize_t nq,
                          Py_ssize_t cout, int stream) noexcept nogil
cdef void pack_f32(int isa, float* dst, const float* src, Py_ssize_t ld, Py_ssize_t cout,
                   Py_ssize_t co0, Py_ssize_t ci0, Py_ssize_t ci1) noexcept nogil
cdef void pack_f64(int isa, double* dst, const double* src, Py_ssize_t ld, Py_ssize_t cout,
                   Py_ssize_t co0, Py_ssize_t ci0, Py_ssize_t ci1) noexcept nogil
cdef enum:
    # the skinny GEMM's modes (src/kernels.h): overwrite, add, overwrite bypassing the caches;
    # with either of the first two, q read row after row (a q far larger than the caches)
    SKINNY_OVERWRITE = 0
    SKINNY_ADD = 1
    SKINNY_STREAM = 2
    SKINNY_BY_ROWS = 4

cdef bint packed_enabled() noexcept nogil
# a run of rows of the packed GEMM (packed_runs): m rows of c from c, their p from p (rows psi
# apart, steps pst apart), of the function's element type; the layout of src/kernels.h's
# struct conv1dt_run
cdef struct run:
    void* c
    const void* p
    Py_ssize_t psi, pst, m
cdef int packed_runs_f32(const run* runs, int nruns, Py_ssize_t ldc, const float* q,
                         Py_ssize_t qsu, Py_ssize_t qsj, Py_ssize_t n, Py_ssize_t t,
                         int accumulate) noexcept nogil
cdef int packed_runs_f64(const run* runs, int nruns, Py_ssize_t ldc, const double* q,
                         Py_ssize_t qsu, Py_ssize_t qsj, Py_ssize_t n, Py_ssize_t t,
                         int accumulate) noexcept nogil
cdef int packed_f32(float* c, Py_ssize_t ldc, const float* p, Py_ssize_t psi, Py_ssize_t pst,
                    const float* q, Py_ssize_t qsu, Py_ssize_t qsj, Py_ssize_t m, Py_ssize_t n,
                    Py_ssize_t t, int accumulate) noexcept nogil
cdef int packed_f64(double* c, Py_ssize_t ldc, const double* p, Py_ssize_t psi, Py_ssize_t pst,
                    const double* q, Py_ssize_t qsu, Py_ssize_t qsj, Py_ssize_t m, Py_ssize_t n,
                    Py_ssize_t t, int accumulate) noexcept nogil
cdef void skinny_f32(float* c, Py_ssize_t ldc, const float* p, Py_ssize_t psi, Py_ssize_t pst,
                     const float* q, Py_ssize_t ldq, Py_ssize_t m, Py_ssize_t n, Py_ssize_t t,
                     int accumulate, const float* ahead, Py_ssize_t ahead_bytes) noexcept nogil
cdef void skinny_f64(double* c, Py_ssize_t ldc, const double* p, Py_ssize_t psi, Py_ssize_t pst,
                     const double* q, Py_ssize_t ldq, Py_ssize_t m, Py_ssize_t n, Py_ssize_t t,
                     int accumulate, const double* ahead, Py_ssize_t ahead_bytes) noexcept nogil
cdef void depthwise_rows_f32(float* y, Py_ssize_t ldy, const float* x, const float* f,
                             Py_ssize_t rows, const Py_ssize_t* xoff, const Py_ssize_t* foff,
                             const Py_ssize_t* ntaps, Py_ssize_t xstep, Py_ssize_t fstep,
                             Py_ssize_t C, int mode) noexcept nogil
cdef void depthwise_rows_f64(double* y, Py_ssize_t ldy, const double* x, const double* f,
                             Py_ssize_t rows, const Py_ssize_t* xoff, const Py_ssize_t* foff,
                             const Py_ssize_t* ntaps, Py_ssize_t xstep, Py_ssize_t fstep,
                             Py_ssize_t C, int mode) noexcept nogil
cdef void depthwise_tile_f32(float* y, Py_ssize_t ldy, const float* x, Py_ssize_t xrow,
                             Py_ssize_t xtap, const float* f, Py_ssize_t ftap, Py_ssize_t taps,
                             Py_ssize_t rows, Py_ssize_t C, int mode) noexcept nogil
cdef void depthwise_tile_f64(double* y, Py_ssize_t ldy, const double* x, Py_ssize_t xrow,
                             Py_ssize_t xtap, const double* f, Py_ssize_t ftap, Py_ssize_t taps,
                             Py_ssize_t rows, Py_ssize_t C, int mode) noexcept nogil
cdef void depthwise_filter_f32(float* df, const float* x, const float* dy, Py_ssize_t L,
                               Py_ssize_t M, Py_ssize_t C, Py_ssize_t K, Py_ssize_t s,
                               Py_ssize_t d, Py_ssize_t pad, Py_ssize_t r0, Py_ssize_t r1,
                               Py_ssize_t j0, Py_ssize_t j1, float* scratch,
                               Py_ssize_t scratch_elems) noexcept nogil
cdef void depthwise_filter_f64(double* df, const double* x, const double* dy, Py_ssize_t L,
                               Py_ssize_t M, Py_ssize_t C, Py_ssize_t K, Py_ssize_t s,
                               Py_ssize_t d, Py_ssize_t pad, Py_ssize_t r0, Py_ssize_t r1,
                               Py_ssize_t j0, Py_ssize_t j1, double* scratch,
                               Py_ssize_t scratch_elems) noexcept nogil
cdef void dot_f32(float* c, Py_ssize_t ldc, const float* p, Py_ssize_t ldp, const float* q,
                  Py_ssize_t ldq, Py_ssize_t m, Py_ssize_t n, Py_ssize_t t,
                  int accumulate) noexcept nogil
cdef void dot_f64(double* c, Py_ssize_t ldc, const double* p, Py_ssize_t ldp, const double* q,
                  Py_ssize_t ldq, Py_ssize_t m, Py_ssize_t n, Py_ssize_t t,
                  int accumulate) noexcept nogil
cdef void grouped_f32(float* y, Py_ssize_t ystep, const float* x, const float* f,
                      Py_ssize_t fstep, Py_ssize_t taps, Py_ssize_t ld, Py_ssize_t n,
                      Py_ssize_t t) noexcept nogil
cdef void grouped_f64(double* y, Py_ssize_t ystep, const double* x, const double* f,
                      Py_ssize_t fstep, Py_ssize_t taps, Py_ssize_t ld, Py_ssize_t n,
                      Py_ssize_t t) noexcept nogil
cdef void spread_f32(float* dst, Py_ssize_t ld, const float* src, Py_ssize_t groups,
                     Py_ssize_t cg, Py_ssize_t rep) noexcept nogil
cdef void spread_f64(double* dst, Py_ssize_t ld, const double* src, Py_ssize_t groups,
                     Py_ssize_t cg, Py_ssize_t rep) noexcept nogil
cdef void fir_f32(float* y, const float* w, Py_ssize_t t, const float* x, Py_ssize_t ld,
                  Py_ssize_t n, int accumulate) noexcept nogil
cdef void fir_f64(double* y, const double* w, Py_ssize_t t, const double* x, Py_ssize_t ld,
                  Py_ssize_t n, int accumulate) noexcept nogil
cdef void store_fence() noexcept nogil
# scratch a thread keeps between calls (src/scratch.c): slot 0 is a work item's, per thread
# (run_items); slots 1 .. 3 are a call's, on the calling thread
cdef void* scratch(int slot, size_t nbytes) noexcept nogil
cdef void scratch_done(int slot, void* block) noexcept nogil
# where a parallel region's threads run (src/place.c): team_begin on the calling thread before
# the region, team_join by each thread at each work item, team_end on the calling thread after
# it; the layout of src/kernels.h's struct conv1dt_team
cdef struct team:
    int on
    int first
    int cpu[64]
    int tid[64]
    unsigned long long mask[16]
cdef void team_begin(team* t, int threads) noexcept nogil
cdef void team_join(team* t, int thread) noexcept nogil
cdef void team_end(team* t) noexcept nogil


cdef extern from *:
    """
    static inline void conv1dt_prefetch_lines(const void *p, Py_ssize_t nbytes)
    {
    #if defined(__GNUC__) || defined(__clang__)
        for (Py_ssize_t b = 0; b < nbytes; b += 64)
            __builtin_prefetch((const char *) p + b);
    #endif
    }
    """
    void prefetch_lines "conv1dt_prefetch_lines"(const void* p, Py_ssize_t nbytes) noexcept nogil

cdef inline void spread_row(floating* dst, Py_ssize_t ld, const floating* src, Py_ssize_t groups,
                            Py_ssize_t cg, Py_ssize_t rep) noexcept nogil:
    """``dst[c*ld + j*rep + q] = src[j*cg + c]`` for ``c < cg``, ``j < groups``, ``q < rep``: a row
    of a grouped call (``cg`` channels a group) spread to the other side's channels (``rep`` a
    group), each channel's values a row of ``dst``, so that whole rows of the other side can be
    added from it in vectors (``grouped``). With one channel a group there, a transpose of the row
    (``rows_to_channels``, vector shuffles for 2, 4 or 8 channels); else ``spread`` (whole
    vectors of each group's value)."""
    if rep == 1:
        if floating is float:
            rows_to_channels_f32(dst, ld, src, cg, groups)
        else:
            rows_to_channels_f64(dst, ld, src, cg, groups)
    elif floating is float:
        spread_f32(dst, ld, src, groups, cg, rep)
    else:
        spread_f64(dst, ld, src, groups, cg, rep)
