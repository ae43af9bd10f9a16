/* Portable micro-kernel: plain C, one fmaf per element per k. It runs on any machine and
 * is the reference the vector kernels are read against (contract: gemm_kernels.h). */
#include "gemm_kernels.h"

#include <math.h>

enum { MR = 4, NR = 16 };

void d1r_gemm_ukr_portable_4x16(int kc, const float *a, const float *b, float *c, size_t ldc,
                                int load_c)
{
    float acc[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++)
            acc[r][j] = load_c ? c[r * ldc + j] : 0.0f;
    for (int k = 0; k < kc; k++) {
        const float *ak = a + (size_t)k * MR, *bk = b + (size_t)k * NR;
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++)
                acc[r][j] = fmaf(ak[r], bk[j], acc[r][j]);
    }
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++)
            c[r * ldc + j] = acc[r][j];
}
