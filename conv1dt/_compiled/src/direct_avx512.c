/* The direct kernel for the avx512 instruction set: direct_impl.h, compiled by setup.py with
 * this file's flags (see ISA_FLAGS there). */
#include "kernels.h"
#if CONV1DT_X86_VARIANTS

#define CONV1DT_DIRECT_OPS conv1dt_direct_avx512
#include "direct_impl.h"

#endif
