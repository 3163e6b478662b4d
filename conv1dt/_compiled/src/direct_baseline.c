/* The direct kernel for the baseline instruction set: direct_impl.h, compiled by setup.py with
 * this file's flags (see ISA_FLAGS there). */
#include "kernels.h"

#define CONV1DT_DIRECT_OPS conv1dt_direct_baseline
#include "direct_impl.h"
