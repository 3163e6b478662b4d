/* The skinny GEMM for the baseline instruction set: skinny_impl.h with tiles of 4 rows by two
 * 16-byte vectors, compiled by setup.py with this file's flags (see ISA_FLAGS there). */
#include "kernels.h"

#define CONV1DT_SKINNY_OPS conv1dt_skinny_baseline
#define SKINNY_VBYTES 16
#define SKINNY_ROWS 4
#include "skinny_impl.h"
