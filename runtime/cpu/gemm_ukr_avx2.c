/* AVX2 + FMA micro-kernel, 6 x 16 (contract: gemm_kernels.h).
 *
 * Each row of the C tile is two ymm accumulators (16 columns); per k the kernel loads
 * the 16 packed B values once and broadcasts each of the 6 A values: 12 independent FMA
 * chains, enough to cover FMA latency x 2 ports, and 15 of the 16 ymm registers. Lanes run
 * across columns of C, never across k, so each lane is exactly the scalar fmaf chain.
 * Compiled for AVX2+FMA through a target attribute; only called when the CPU has both. */
#include "gemm_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

enum { MR = 6, NR = 16 };

__attribute__((target("avx2,fma"))) void
d1r_gemm_ukr_avx2_6x16(int kc, const float *a, const float *b, float *c, size_t ldc,
                       int load_c)
{
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
        c0[r] = load_c ? _mm256_loadu_ps(c + r * ldc) : _mm256_setzero_ps();
        c1[r] = load_c ? _mm256_loadu_ps(c + r * ldc + 8) : _mm256_setzero_ps();
    }
#pragma GCC unroll 4
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        _mm_prefetch((const char *)(a + 8 * MR), _MM_HINT_T0);
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            __m256 ar = _mm256_broadcast_ss(a + r);
            c0[r] = _mm256_fmadd_ps(ar, b0, c0[r]);
            c1[r] = _mm256_fmadd_ps(ar, b1, c1[r]);
        }
        a += MR;
        b += NR;
    }
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
        _mm256_storeu_ps(c + r * ldc, c0[r]);
        _mm256_storeu_ps(c + r * ldc + 8, c1[r]);
    }
}
#else
/* Not an x86 build: never selected (its `supported` is false), but must link. */
void d1r_gemm_ukr_avx2_6x16(int kc, const float *a, const float *b, float *c, size_t ldc,
                            int load_c)
{
    (void)kc, (void)a, (void)b, (void)c, (void)ldc, (void)load_c;
}
#endif
