/* The CPU backend's ops: the numeric reference of the runtime (doc/numerics.md,
 * "Operations"). Arguments are checked by the dispatcher (d1r.c); tensor data are host
 * pointers. Only data-dependent errors are reported here (labels out of range). */
#ifndef D1R_CPU_OPS_H
#define D1R_CPU_OPS_H

#include "runtime/backend.h"

#define D1R_OP(sym, name, ntensors, outmask, operands)                                             \
    d1_status d1r_cpu_##name(const d1r_op_args *a);
#include "runtime/ops.def"
#undef D1R_OP

/* Run any op (table dispatch over the functions above). */
d1_status d1r_cpu_run(const d1r_op_args *a);

#endif
