/* The tiled kernel for AVX2 with FMA (16 registers): panels of 2 vectors (16 float32 or 8
 * float64 output channels), tiles of 6 rows x 2 vectors and 12 x 1 (12 accumulators); masked
 * loads and stores through integer-vector masks; the filter layout by a scalar transposition.
 * tiled_impl.h, compiled by setup.py with this file's flags (see ISA_FLAGS there). */
#include "kernels.h"
#if CONV1DT_X86_VARIANTS
#include <immintrin.h>

#define PANEL_VECTORS 2
#define CONV1DT_TILED_OPS conv1dt_tiled_avx2

/* float32: 8 lanes */
typedef __m256 vec_f32;
typedef __m256i mask_f32;
enum { VL_f32 = 8 };
static inline vec_f32 vzero_f32(void) { return _mm256_setzero_ps(); }
static inline vec_f32 vload_f32(const float *p) { return _mm256_loadu_ps(p); }
static inline vec_f32 vmload_f32(mask_f32 m, const float *p) { return _mm256_maskload_ps(p, m); }
static inline vec_f32 vset1_f32(float a) { return _mm256_set1_ps(a); }
static inline vec_f32 vfma_f32(vec_f32 a, vec_f32 b, vec_f32 c) { return _mm256_fmadd_ps(a, b, c); }
static inline void vstore_f32(float *p, vec_f32 v) { _mm256_storeu_ps(p, v); }
static inline void vstream_f32(float *p, vec_f32 v) { _mm256_stream_ps(p, v); }
static inline void vfence_f32(void) { _mm_sfence(); }
static inline void vmstore_f32(float *p, mask_f32 m, vec_f32 v) { _mm256_maskstore_ps(p, m, v); }
static inline mask_f32 vmask_f32(ptrdiff_t lanes)
{
    const int n = lanes < 0 ? 0 : lanes > 8 ? 8 : (int)lanes;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* float64: 4 lanes */
typedef __m256d vec_f64;
typedef __m256i mask_f64;
enum { VL_f64 = 4 };
static inline vec_f64 vzero_f64(void) { return _mm256_setzero_pd(); }
static inline vec_f64 vload_f64(const double *p) { return _mm256_loadu_pd(p); }
static inline vec_f64 vmload_f64(mask_f64 m, const double *p) { return _mm256_maskload_pd(p, m); }
static inline vec_f64 vset1_f64(double a) { return _mm256_set1_pd(a); }
static inline vec_f64 vfma_f64(vec_f64 a, vec_f64 b, vec_f64 c) { return _mm256_fmadd_pd(a, b, c); }
static inline void vstore_f64(double *p, vec_f64 v) { _mm256_storeu_pd(p, v); }
static inline void vstream_f64(double *p, vec_f64 v) { _mm256_stream_pd(p, v); }
static inline void vfence_f64(void) { _mm_sfence(); }
static inline void vmstore_f64(double *p, mask_f64 m, vec_f64 v) { _mm256_maskstore_pd(p, m, v); }
static inline mask_f64 vmask_f64(ptrdiff_t lanes)
{
    const long long n = lanes < 0 ? 0 : lanes > 4 ? 4 : (long long)lanes;
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}

#include "tiled_impl.h"

#endif
