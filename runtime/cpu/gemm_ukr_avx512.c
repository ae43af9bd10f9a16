/* AVX-512F micro-kernel, 12 x 32 (contract: gemm_kernels.h).
 *
 * Each row of the C tile is two zmm accumulators (32 columns): 24 independent FMA chains
 * (covering 4-cycle FMA latency on 2 ports with room to spare), 2 registers for the packed
 * B row and 1-2 for broadcast A values, within the 32 zmm registers. Per k: 2 vector
 * loads + 12 broadcasts for 24 FMAs, so the loads stay under the FMA throughput.
 * Lanes run across columns of C, never across k: each lane is the scalar fmaf chain.
 * Compiled for AVX-512F through a target attribute; only called when the CPU has it. */
#include "gemm_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

enum { MR = 12, NR = 32 };

__attribute__((target("avx512f"))) void
d1r_gemm_ukr_avx512_12x32(int kc, const float *a, const float *b, float *c, size_t ldc,
                          int load_c)
{
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
        c0[r] = load_c ? _mm512_loadu_ps(c + r * ldc) : _mm512_setzero_ps();
        c1[r] = load_c ? _mm512_loadu_ps(c + r * ldc + 16) : _mm512_setzero_ps();
    }
#pragma GCC unroll 4
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        _mm_prefetch((const char *)(a + 8 * MR), _MM_HINT_T0);
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) {
            __m512 ar = _mm512_set1_ps(a[r]);
            c0[r] = _mm512_fmadd_ps(ar, b0, c0[r]);
            c1[r] = _mm512_fmadd_ps(ar, b1, c1[r]);
        }
        a += MR;
        b += NR;
    }
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
        _mm512_storeu_ps(c + r * ldc, c0[r]);
        _mm512_storeu_ps(c + r * ldc + 16, c1[r]);
    }
}
#else
void d1r_gemm_ukr_avx512_12x32(int kc, const float *a, const float *b, float *c, size_t ldc,
                               int load_c)
{
    (void)kc, (void)a, (void)b, (void)c, (void)ldc, (void)load_c;
}
#endif
