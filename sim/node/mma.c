/* The matrix unit's arithmetic: m[r][c] = fmaf(a[r][3], b[3][c], ... fmaf(a[r][0], b[0][c],
 * m[r][c])), k ascending, for the 8x8 accumulator m, a 8x4 and b 4x8 (row-major FP32).
 *
 * Each output element is its own chain of fused multiply-adds in k order, so vectorising
 * across the elements (8 columns per AVX2 vector, two rows per AVX-512 vector) changes
 * nothing: a hardware FMA and fmaf() are both correctly rounded (no -ffast-math, no FTZ/DAZ:
 * subnormals are exact). The kernel is chosen once at load time from the host's features;
 * D1S_MMA_ISA=scalar|avx2|avx512 forces one (tests, benchmarks). */
#include "node_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__)
#define D1S_MMA_X86 1
#include <immintrin.h>
#endif

static void mma_scalar(float *m, const float *a, const float *b)
{
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 8; c++) {
            float acc = m[8 * r + c];
            for (int k = 0; k < 4; k++)
                acc = fmaf(a[4 * r + k], b[8 * k + c], acc);
            m[8 * r + c] = acc;
        }
}

#ifdef D1S_MMA_X86
__attribute__((target("avx2,fma"))) static void mma_avx2(float *m, const float *a,
                                                          const float *b)
{
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), b2 = _mm256_loadu_ps(b + 16),
           b3 = _mm256_loadu_ps(b + 24);
    for (int r = 0; r < 8; r++) {
        __m256 acc = _mm256_loadu_ps(m + 8 * r);
        acc = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 4 * r + 0), b0, acc);
        acc = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 4 * r + 1), b1, acc);
        acc = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 4 * r + 2), b2, acc);
        acc = _mm256_fmadd_ps(_mm256_broadcast_ss(a + 4 * r + 3), b3, acc);
        _mm256_storeu_ps(m + 8 * r, acc);
    }
}

/* Two rows per vector: lanes 0-7 row 2p, lanes 8-15 row 2p+1. */
__attribute__((target("avx512f,avx512dq,fma"))) static void mma_avx512(float *m, const float *a,
                                                                        const float *b)
{
    __m512 bk[4];
    for (int k = 0; k < 4; k++)
        bk[k] = _mm512_broadcast_f32x8(_mm256_loadu_ps(b + 8 * k));
    __m512 alo = _mm512_loadu_ps(a), ahi = _mm512_loadu_ps(a + 16);
    for (int p = 0; p < 4; p++) {
        __m512 src = p < 2 ? alo : ahi;
        int r0 = 4 * ((2 * p) & 3), r1 = 4 * ((2 * p + 1) & 3);
        __m512 acc = _mm512_loadu_ps(m + 16 * p);
        for (int k = 0; k < 4; k++) {
            __m512i idx = _mm512_set_epi32(r1 + k, r1 + k, r1 + k, r1 + k, r1 + k, r1 + k,
                                           r1 + k, r1 + k, r0 + k, r0 + k, r0 + k, r0 + k,
                                           r0 + k, r0 + k, r0 + k, r0 + k);
            acc = _mm512_fmadd_ps(_mm512_permutexvar_ps(idx, src), bk[k], acc);
        }
        _mm512_storeu_ps(m + 16 * p, acc);
    }
}
#endif

/* bf16 operands (32 + 32 little-endian codes): a bf16 code c is the FP32 with bits c << 16
 * (d1_bf16_to_f32), so decoding is exact in every kernel. */
static void bf16_decode32(float *out, const uint8_t *in)
{
    for (int k = 0; k < 32; k++) {
        uint32_t u = (uint32_t)in[2 * k] << 16 | (uint32_t)in[2 * k + 1] << 24;
        memcpy(&out[k], &u, 4);
    }
}

static void mma_bf16_scalar(float *m, const uint8_t *va, const uint8_t *vb)
{
    float a[32], b[32];
    bf16_decode32(a, va);
    bf16_decode32(b, vb);
    mma_scalar(m, a, b);
}

#ifdef D1S_MMA_X86
__attribute__((target("avx2,fma"))) static void mma_bf16_avx2(float *m, const uint8_t *va,
                                                               const uint8_t *vb)
{
    float a[32], b[32];
    for (int h = 0; h < 4; h++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(va + 16 * h));
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(vb + 16 * h));
        _mm256_storeu_ps(a + 8 * h,
                         _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(x), 16)));
        _mm256_storeu_ps(b + 8 * h,
                         _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(y), 16)));
    }
    mma_avx2(m, a, b);
}

__attribute__((target("avx512f,avx512dq,fma"))) static void
mma_bf16_avx512(float *m, const uint8_t *va, const uint8_t *vb)
{
    float a[32], b[32];
    for (int h = 0; h < 2; h++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(va + 32 * h));
        __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(vb + 32 * h));
        _mm512_storeu_ps(a + 16 * h,
                         _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(x), 16)));
        _mm512_storeu_ps(b + 16 * h,
                         _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(y), 16)));
    }
    mma_avx512(m, a, b);
}
#endif

typedef void (*mma_fn)(float *m, const float *a, const float *b);
typedef void (*mma_bf16_fn)(float *m, const uint8_t *va, const uint8_t *vb);
static mma_fn mma_impl = mma_scalar;
static mma_bf16_fn mma_bf16_impl = mma_bf16_scalar;
static const char *mma_name = "scalar";

static void mma_pick(void)
{
#ifdef D1S_MMA_X86
    const char *want = getenv("D1S_MMA_ISA");
    __builtin_cpu_init();
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int has512 = has2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    if (want && !strcmp(want, "scalar"))
        return;
    if (has512 && (!want || !strcmp(want, "avx512"))) {
        mma_impl = mma_avx512;
        mma_bf16_impl = mma_bf16_avx512;
        mma_name = "avx512";
    } else if (has2) {
        mma_impl = mma_avx2;
        mma_bf16_impl = mma_bf16_avx2;
        mma_name = "avx2";
    }
#endif
}

#ifdef D1S_MMA_X86
/* Chosen before main (chips may run in parallel threads: no lazy initialisation race). */
__attribute__((constructor)) static void mma_init(void)
{
    mma_pick();
}
#endif

void d1s_mma_f32(float *m, const float *a, const float *b)
{
    mma_impl(m, a, b);
}

void d1s_mma_bf16(float *m, const uint8_t *va, const uint8_t *vb)
{
    mma_bf16_impl(m, va, vb);
}

const char *d1s_mma_isa(void)
{
    return mma_name;
}
