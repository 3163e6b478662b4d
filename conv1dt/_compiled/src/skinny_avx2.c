/* The skinny GEMM for the avx2 instruction set: skinny_impl.h with tiles of 4 rows by two
 * 32-byte vectors, compiled by setup.py with this file's flags (see ISA_FLAGS there). */
#include "kernels.h"
#if CONV1DT_X86_VARIANTS

#define CONV1DT_SKINNY_OPS conv1dt_skinny_avx2
#define SKINNY_VBYTES 32
#define SKINNY_ROWS 4
#ifndef PACKED_ROWS
#define PACKED_ROWS 6
#endif
#include "skinny_impl.h"

#endif
