/* CPU matrix multiply under the numerics contract (doc/numerics.md, "Matmul").
 *
 *   C[i][j] = fmaf(a(i,K-1), b(K-1,j), ... fmaf(a(i,0), b(0,j), c0) ...)
 *
 * with c0 = C[i][j] when accumulating, else +0.0f; k strictly ascending, FP32, RNE, no
 * flush-to-zero. a(i,k) is op(A)[i][k] decoded to FP32 (exact for BF16/CFP8), where
 * op(A) = A or A^T. The fast kernel is byte-identical to the reference for every shape,
 * thread count and instruction set, because every output element sees the same sequence
 * of fmaf operations. */
#ifndef D1R_CPU_GEMM_H
#define D1R_CPU_GEMM_H

#include "sim/arch/formats.h"
#include "sim/arch/status.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct d1r_gemm_operand {
    d1_dtype dtype; /* D1_FP32, D1_BF16, D1_CFP8_143 or D1_CFP8_152 */
    int bias;       /* for CFP8 */
    const void *p;  /* row-major storage of the matrix as stored (before op()) */
    size_t ld;      /* leading dimension of the stored matrix, in elements */
    bool trans;     /* op(X) = X^T */
} d1r_gemm_operand;

/* op(A) is M x K, op(B) is K x N, C is M x N FP32 row-major with leading dimension ldc.
 * nthreads <= 0 means the OpenMP default. Inputs are trusted (the runtime validates). */
void d1r_cpu_gemm(int M, int N, int K, const d1r_gemm_operand *A, const d1r_gemm_operand *B,
                  float *C, size_t ldc, bool accumulate, int nthreads);

/* Naive triple loop with the same contract: the reference the fast kernel is tested against. */
void d1r_cpu_gemm_ref(int M, int N, int K, const d1r_gemm_operand *A,
                      const d1r_gemm_operand *B, float *C, size_t ldc, bool accumulate);

/* Name of the instruction-set path chosen at run time ("avx512", "avx2", "portable"). */
const char *d1r_cpu_gemm_isa(void);

/* The path is chosen once: the environment variable D1_GEMM_ISA=avx512|avx2|portable if
 * this CPU can run it, else the best the CPU supports. For tests and benchmarks: */

/* Whether this CPU can run path `name` (false for unknown names). */
bool d1r_cpu_gemm_isa_supported(const char *name);

/* Use path `name` from now on, or the automatic choice for NULL. D1_E_INVAL for an unknown
 * name, D1_E_UNSUPPORTED if this CPU cannot run it (the path is then unchanged). Call it
 * between GEMMs, not during one. */
d1_status d1r_cpu_gemm_force_isa(const char *name);

#endif
