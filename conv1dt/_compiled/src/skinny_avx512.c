/* The skinny GEMM for the avx512 instruction set: skinny_impl.h with tiles of 8 rows by two
 * 64-byte vectors, compiled by setup.py with this file's flags (see ISA_FLAGS there). */
#include "kernels.h"
#if CONV1DT_X86_VARIANTS

#define CONV1DT_SKINNY_OPS conv1dt_skinny_avx512
#define SKINNY_VBYTES 64
#define SKINNY_ROWS 8
#include "skinny_impl.h"

#endif
