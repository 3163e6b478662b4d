/* The tiled kernel for AVX-512 (F, with FMA): panels of 4 vectors (64 float32 or 32 float64
 * output channels), tiles of 6 rows x 4 vectors (24 accumulators of 32 registers) and 12 x 2 for
 * a narrow last panel; the filter layout by gathers. tiled_impl.h, compiled by setup.py with
 * this file's flags (see ISA_FLAGS there). */
#include "kernels.h"
#if CONV1DT_X86_VARIANTS
#include <immintrin.h>

#define PANEL_VECTORS 4
#define HAVE_GATHER_PACK 1
#define CONV1DT_TILED_OPS conv1dt_tiled_avx512

/* float32: 16 lanes */
typedef __m512 vec_f32;
typedef __mmask16 mask_f32;
enum { VL_f32 = 16 };
static inline vec_f32 vzero_f32(void) { return _mm512_setzero_ps(); }
static inline vec_f32 vload_f32(const float *p) { return _mm512_loadu_ps(p); }
static inline vec_f32 vmload_f32(mask_f32 m, const float *p)
{
    return _mm512_mask_loadu_ps(_mm512_setzero_ps(), m, p);
}
static inline vec_f32 vset1_f32(float a) { return _mm512_set1_ps(a); }
static inline vec_f32 vfma_f32(vec_f32 a, vec_f32 b, vec_f32 c) { return _mm512_fmadd_ps(a, b, c); }
static inline void vstore_f32(float *p, vec_f32 v) { _mm512_storeu_ps(p, v); }
static inline void vstream_f32(float *p, vec_f32 v) { _mm512_stream_ps(p, v); }
static inline void vfence_f32(void) { _mm_sfence(); }
static inline void vmstore_f32(float *p, mask_f32 m, vec_f32 v) { _mm512_mask_storeu_ps(p, m, v); }
static inline mask_f32 vmask_f32(ptrdiff_t lanes)
{
    return lanes >= 16 ? (mask_f32)0xffff : lanes <= 0 ? 0 : (mask_f32)((1u << lanes) - 1);
}

/* float64: 8 lanes */
typedef __m512d vec_f64;
typedef __mmask8 mask_f64;
enum { VL_f64 = 8 };
static inline vec_f64 vzero_f64(void) { return _mm512_setzero_pd(); }
static inline vec_f64 vload_f64(const double *p) { return _mm512_loadu_pd(p); }
static inline vec_f64 vmload_f64(mask_f64 m, const double *p)
{
    return _mm512_mask_loadu_pd(_mm512_setzero_pd(), m, p);
}
static inline vec_f64 vset1_f64(double a) { return _mm512_set1_pd(a); }
static inline vec_f64 vfma_f64(vec_f64 a, vec_f64 b, vec_f64 c) { return _mm512_fmadd_pd(a, b, c); }
static inline void vstore_f64(double *p, vec_f64 v) { _mm512_storeu_pd(p, v); }
static inline void vstream_f64(double *p, vec_f64 v) { _mm512_stream_pd(p, v); }
static inline void vfence_f64(void) { _mm_sfence(); }
static inline void vmstore_f64(double *p, mask_f64 m, vec_f64 v) { _mm512_mask_storeu_pd(p, m, v); }
static inline mask_f64 vmask_f64(ptrdiff_t lanes)
{
    return lanes >= 8 ? (mask_f64)0xff : lanes <= 0 ? 0 : (mask_f64)((1u << lanes) - 1);
}

/* The filter layout (see kernels.h): a gather per vector of 16 or 8 output channels, rows ld
 * apart (32-bit offsets: the caller keeps 15*ld under 2**31); dst rows 4 vectors apart, 64-byte
 * aligned. Faster than the scalar transposition (kept for AVX2, whose panels are narrower). */
static void pack_gather_f32(float *restrict dst, const float *restrict src, ptrdiff_t ld, ptrdiff_t cout,
                     ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1)
{
    const __m512i idx = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)ld));
    for (int v = 0; v < 4; ++v) {
        const ptrdiff_t c = co0 + v * 16;
        const mask_f32 m = vmask_f32(cout - c);
        for (ptrdiff_t ci = ci0; ci < ci1; ++ci)
            _mm512_store_ps(dst + ci * 64 + v * 16,
                            m ? _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx,
                                                         src + c * ld + ci, sizeof(float))
                              : _mm512_setzero_ps());
    }
}

static void pack_gather_f64(double *restrict dst, const double *restrict src, ptrdiff_t ld,
                     ptrdiff_t cout, ptrdiff_t co0, ptrdiff_t ci0, ptrdiff_t ci1)
{
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                           _mm256_set1_epi32((int)ld));
    for (int v = 0; v < 4; ++v) {
        const ptrdiff_t c = co0 + v * 8;
        const mask_f64 m = vmask_f64(cout - c);
        for (ptrdiff_t ci = ci0; ci < ci1; ++ci)
            _mm512_store_pd(dst + ci * 32 + v * 8,
                            m ? _mm512_mask_i32gather_pd(_mm512_setzero_pd(), m, idx,
                                                         src + c * ld + ci, sizeof(double))
                              : _mm512_setzero_pd());
    }
}

#include "tiled_impl.h"

#endif
