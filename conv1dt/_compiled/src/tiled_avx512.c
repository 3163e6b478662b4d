/* The tiled kernel for AVX-512 (F, with FMA): panels of 4 vectors (64 float32 or 32 float64
 * output channels), tiles of 6 rows x 4 vectors (24 accumulators of 32 registers) and 12 x 2 for
 * a narrow last panel; the filter layout by transposes in registers. tiled_impl.h, compiled by
 * setup.py with this file's flags (see ISA_FLAGS there). */
#include "kernels.h"
#if CONV1DT_X86_VARIANTS
#include <immintrin.h>

#define PANEL_VECTORS 4
#define HAVE_VECTOR_PACK 1
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

/* The filter layout (see kernels.h) by transposing blocks in registers (tiled_impl.h's
 * pack_transpose): 16 rows of 16 input channels (8 x 8 in float64), each row one load of 64
 * bytes, become 16 rows of output channels, each one aligned store. Gathering each vector of 16
 * channels from 16 rows ld apart (the layout until the thirty-eighth round) took 1.6x as long
 * with the filter in cache. transpose_block_SUF: r[i] becomes column i of the block. */
static inline void transpose_block_f32(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
        const __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int b = 0; b < 16; b += 8)
        for (int j = 0; j < 4; ++j) {
            t[b + j] = _mm512_shuffle_f32x4(r[b + j], r[b + 4 + j], 0x88);
            t[b + 4 + j] = _mm512_shuffle_f32x4(r[b + j], r[b + 4 + j], 0xdd);
        }
    for (int j = 0; j < 8; ++j) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
        r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
    }
}

static inline void transpose_block_f64(__m512d r[8])
{
    __m512d u[8];
    for (int b = 0; b < 8; b += 4) {
        const __m512d t0 = _mm512_unpacklo_pd(r[b], r[b + 1]);
        const __m512d t1 = _mm512_unpackhi_pd(r[b], r[b + 1]);
        const __m512d t2 = _mm512_unpacklo_pd(r[b + 2], r[b + 3]);
        const __m512d t3 = _mm512_unpackhi_pd(r[b + 2], r[b + 3]);
        u[b] = _mm512_shuffle_f64x2(t0, t2, 0x88);
        u[b + 1] = _mm512_shuffle_f64x2(t1, t3, 0x88);
        u[b + 2] = _mm512_shuffle_f64x2(t0, t2, 0xdd);
        u[b + 3] = _mm512_shuffle_f64x2(t1, t3, 0xdd);
    }
    for (int j = 0; j < 4; ++j) {
        r[j] = _mm512_shuffle_f64x2(u[j], u[4 + j], 0x88);
        r[4 + j] = _mm512_shuffle_f64x2(u[j], u[4 + j], 0xdd);
    }
}

#include "tiled_impl.h"

#endif
