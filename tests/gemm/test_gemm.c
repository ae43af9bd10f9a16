/* CPU GEMM: the fast kernel is byte-identical to the reference (numerics contract, gemm.h)
 * for every shape, transpose, dtype, accumulate mode, thread count and instruction-set path
 * this machine can run; and the reference itself follows the contract on known values. */
#include "test_main.h"

#include "runtime/cpu/gemm.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const isas[] = {"avx512", "avx2", "portable"};
enum { NISA = sizeof isas / sizeof isas[0] };

/* ---- deterministic inputs ------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s) /* SplitMix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef enum dist {
    DIST_NORMAL, /* magnitudes 2^-7..2^8: every FMA rounds, order errors would show */
    DIST_MIXED,  /* +-0, denormals, tiny, huge (no overflow to Inf) and normal values */
    DIST_ZEROS,  /* +-0 and +-1: the sign of zero through the chain */
} dist;

static uint32_t f32_bits_random(uint64_t *s, dist d)
{
    uint64_t r = rng_next(s);
    uint32_t sign = (uint32_t)(r & 1) << 31, man = (uint32_t)(r >> 8) & 0x7fffff;
    uint32_t e;
    if (d == DIST_ZEROS)
        return sign | ((r >> 1) & 1 ? 0x3f800000u : 0);
    if (d == DIST_NORMAL)
        e = 120 + (uint32_t)(r >> 40) % 16;
    else
        switch ((r >> 40) % 10) {
        case 0:
            return sign; /* +-0 */
        case 1:
            e = 0; /* denormal */
            break;
        case 2:
            e = 1 + (uint32_t)(r >> 48) % 40; /* tiny: products are denormal or zero */
            break;
        case 3:
            e = 150 + (uint32_t)(r >> 48) % 20; /* up to 2^43: products stay finite */
            break;
        default:
            e = 110 + (uint32_t)(r >> 48) % 30;
        }
    return sign | e << 23 | man;
}

typedef struct gemm_case {
    const char *name;
    d1_dtype ta;
    int bias_a;
    d1_dtype tb;
    int bias_b;
    dist d;
} gemm_case;

static const gemm_case cases[] = {
    {"fp32 normal", D1_FP32, 0, D1_FP32, 0, DIST_NORMAL},
    {"fp32 mixed", D1_FP32, 0, D1_FP32, 0, DIST_MIXED},
    {"fp32 zeros", D1_FP32, 0, D1_FP32, 0, DIST_ZEROS},
    {"bf16 normal", D1_BF16, 0, D1_BF16, 0, DIST_NORMAL},
    {"bf16 mixed", D1_BF16, 0, D1_BF16, 0, DIST_MIXED},
    {"bf16 zeros", D1_BF16, 0, D1_BF16, 0, DIST_ZEROS},
    {"cfp8 143 bias 0", D1_CFP8_143, 0, D1_CFP8_143, 0, DIST_MIXED},
    {"cfp8 143 bias 7/31", D1_CFP8_143, 7, D1_CFP8_143, 31, DIST_MIXED},
    {"cfp8 143 bias 63", D1_CFP8_143, 63, D1_CFP8_143, 63, DIST_MIXED},
    {"cfp8 152 bias 15", D1_CFP8_152, 15, D1_CFP8_152, 15, DIST_MIXED},
    {"cfp8 152 bias 0/63", D1_CFP8_152, 0, D1_CFP8_152, 63, DIST_MIXED},
    {"bf16 x cfp8 143 bias 10", D1_BF16, 0, D1_CFP8_143, 10, DIST_MIXED},
    {"cfp8 152 bias 20 x fp32", D1_CFP8_152, 20, D1_FP32, 0, DIST_MIXED},
};
enum { NCASES = sizeof cases / sizeof cases[0] };

/* Stored matrix rows x cols (before op()), leading dimension ld >= cols. CFP8 codes are
 * uniform over all 256 (every code is a finite value); BF16 is the top half of an FP32. */
static void *make_matrix(d1_dtype t, int rows, int cols, size_t ld, dist d, uint64_t *s)
{
    size_t n = (size_t)rows * ld, sz = d1_dtype_size(t);
    unsigned char *p = malloc(n * sz + 1);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) {
        uint32_t f = f32_bits_random(s, d);
        if (t == D1_FP32)
            memcpy(p + 4 * i, &f, 4);
        else if (t == D1_BF16) {
            uint16_t h = (uint16_t)(f >> 16);
            memcpy(p + 2 * i, &h, 2);
        } else {
            uint8_t c = (uint8_t)rng_next(s);
            if (d == DIST_ZEROS)
                c &= 0x80; /* +-0 */
            p[i] = c;
        }
    }
    (void)cols;
    return p;
}

/* ---- the shape table ------------------------------------------------------------------ */

static const struct {
    int M, N, K;
} shapes[] = {
    /* tiny */
    {1, 1, 1}, {1, 1, 5}, {3, 2, 1}, {2, 3, 4}, {7, 5, 3}, {12, 32, 1}, {12, 32, 8},
    {13, 33, 2}, {6, 16, 3}, {4, 16, 2},
    /* ragged: primes, not multiples of any MR/NR/MC/KC */
    {11, 31, 17}, {29, 37, 41}, {61, 67, 1}, {1, 97, 23}, {53, 1, 19}, {97, 89, 31},
    /* several K blocks (KC = 512 for AVX-512, 256 for the others) */
    {13, 35, 300}, {5, 70, 521}, {7, 35, 1031},
    /* several M blocks (MC = 384 for AVX-512, 144 for AVX2); from here on large enough
     * (M*N*K > 2^18) to run threaded */
    {389, 17, 11}, {200, 70, 19}, {131, 139, 15},
    /* N split across threads; N past NC = 4096 in one thread */
    {67, 300, 14}, {2, 4133, 3},
};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

static int run_fast(int M, int N, int K, const d1r_gemm_operand *a, const d1r_gemm_operand *b,
                    const float *c0, const float *want, size_t csize, size_t ldc, bool acc,
                    int nthreads, float *got)
{
    memcpy(got, c0, csize * sizeof(float));
    d1r_cpu_gemm(M, N, K, a, b, got, ldc, acc, nthreads);
    return memcmp(got, want, csize * sizeof(float));
}

/* For one dtype case: every shape, every transpose pair, both accumulate modes, against
 * one reference result. The best path runs every combination with 1, 2 and 3 threads; the
 * others (same driver, slower kernels) with 2 threads on half of the combinations, chosen
 * so that across the cases every combination meets every path (keeps the sanitizer build
 * quick). Padding columns of C (ldc > N) hold a sentinel that must survive. */
START_TEST(fast_matches_reference)
{
    const gemm_case *gc = &cases[_i];
    uint64_t seed = 0x5eed0000u + (uint64_t)_i;
    long compared = 0;
    for (int s = 0; s < NSHAPES; s++) {
        int M = shapes[s].M, N = shapes[s].N, K = shapes[s].K;
        for (int t = 0; t < 4; t++) {
            bool ta = t & 1, tb = t & 2;
            bool acc = (s + t) & 1;
            /* stored A is M x K or K x M; stored B is K x N or N x K */
            int ar = ta ? K : M, acl = ta ? M : K, br = tb ? N : K, bcl = tb ? K : N;
            size_t lda = (size_t)acl + (size_t)(s % 3), ldb = (size_t)bcl + (size_t)(t % 2) * 5;
            size_t ldc = (size_t)N + (size_t)(s % 2) * 3, csize = (size_t)M * ldc;
            void *pa = make_matrix(gc->ta, ar, acl, lda, gc->d, &seed);
            void *pb = make_matrix(gc->tb, br, bcl, ldb, gc->d, &seed);
            float *c0 = malloc(csize * sizeof(float)), *want = malloc(csize * sizeof(float));
            float *got = malloc(csize * sizeof(float));
            ck_assert(c0 && want && got);
            for (size_t i = 0; i < csize; i++) {
                dist dc = gc->d == DIST_ZEROS ? DIST_ZEROS : DIST_MIXED;
                uint32_t u = f32_bits_random(&seed, dc);
                if (i % ldc >= (size_t)N)
                    u = 0x7fc0dead; /* sentinel in the padding: a NaN nobody computes */
                memcpy(&c0[i], &u, 4);
            }
            d1r_gemm_operand a = {gc->ta, gc->bias_a, pa, lda, ta};
            d1r_gemm_operand b = {gc->tb, gc->bias_b, pb, ldb, tb};
            memcpy(want, c0, csize * sizeof(float));
            d1r_cpu_gemm_ref(M, N, K, &a, &b, want, ldc, acc);
            bool best = true;
            for (int x = 0; x < NISA; x++) {
                if (!d1r_cpu_gemm_isa_supported(isas[x]) || (!best && (s + t + _i) % 2))
                    continue;
                ck_assert_int_eq(d1r_cpu_gemm_force_isa(isas[x]), D1_OK);
                for (int nt = best ? 1 : 2; nt <= (best ? 3 : 2); nt++) {
                    int diff = run_fast(M, N, K, &a, &b, c0, want, csize, ldc, acc, nt, got);
                    if (diff) {
                        size_t i = 0;
                        while (!memcmp(&got[i], &want[i], 4))
                            i++;
                        ck_abort_msg("%s: %s M=%d N=%d K=%d transA=%d transB=%d acc=%d "
                                     "threads=%d: C[%zu][%zu] = %a, reference %a",
                                     gc->name, isas[x], M, N, K, ta, tb, acc, nt, i / ldc,
                                     i % ldc, (double)got[i], (double)want[i]);
                    }
                    compared++;
                }
                best = false;
            }
            free(pa);
            free(pb);
            free(c0);
            free(want);
            free(got);
        }
    }
    ck_assert_int_gt(compared, 0);
}
END_TEST

/* ---- targeted properties -------------------------------------------------------------- */

/* k ascending from 0: with a = [1, 2^-24, 2^-24, ...] and b = 1, each later term is a tie
 * that rounds back to 1 (even), so the result is exactly 1. Any other order or split of K
 * (partial sums added at the end) gives more than 1. K spans several K blocks. */
START_TEST(k_order_is_ascending)
{
    enum { M = 13, N = 35, K = 700 };
    static float A[M * K], B[K * N], C[M * N];
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++)
            A[i * K + k] = k == 0 ? 1.0f : 0x1p-24f;
    for (int i = 0; i < K * N; i++)
        B[i] = 1.0f;
    d1r_gemm_operand a = {D1_FP32, 0, A, K, false}, b = {D1_FP32, 0, B, N, false};
    d1r_cpu_gemm_ref(M, N, K, &a, &b, C, N, false);
    for (int i = 0; i < M * N; i++)
        ck_assert_float_eq(C[i], 1.0f);
    for (int x = 0; x < NISA; x++) {
        if (d1r_cpu_gemm_force_isa(isas[x]) != D1_OK)
            continue;
        for (int nt = 0; nt <= 2; nt += 2) { /* 0: the OpenMP default */
            memset(C, 0xff, sizeof C);
            d1r_cpu_gemm(M, N, K, &a, &b, C, N, false, nt);
            for (int i = 0; i < M * N; i++)
                ck_assert_msg(C[i] == 1.0f, "%s: C[%d] = %a", isas[x], i, (double)C[i]);
        }
    }
}
END_TEST

/* Signed zeros: overwrite starts from +0 (so -0 * 1 gives +0); accumulate starts from C
 * (-0 + -0 stays -0; -0 + +0 is +0). */
START_TEST(signed_zeros)
{
    enum { M = 13, N = 33, K = 3 };
    float A[M * K], B[K * N], C[M * N], R[M * N];
    for (int i = 0; i < M * K; i++)
        A[i] = -0.0f;
    for (int i = 0; i < K * N; i++)
        B[i] = (i % N) % 2 ? 1.0f : -1.0f; /* odd columns: products -0, even: +0 */
    d1r_gemm_operand a = {D1_FP32, 0, A, K, false}, b = {D1_FP32, 0, B, N, false};
    for (int x = 0; x < NISA; x++) {
        if (d1r_cpu_gemm_force_isa(isas[x]) != D1_OK)
            continue;
        for (int acc = 0; acc < 2; acc++) {
            for (int i = 0; i < M * N; i++)
                C[i] = R[i] = -0.0f;
            d1r_cpu_gemm_ref(M, N, K, &a, &b, R, N, acc);
            d1r_cpu_gemm(M, N, K, &a, &b, C, N, acc, 1);
            for (int i = 0; i < M * N; i++) {
                bool neg = acc && (i % N) % 2;
                ck_assert_msg(R[i] == 0.0f && (signbit(R[i]) != 0) == neg, "ref acc=%d C[%d]",
                              acc, i);
                ck_assert_msg(!memcmp(&C[i], &R[i], 4), "%s acc=%d C[%d]", isas[x], acc, i);
            }
        }
    }
}
END_TEST

/* Decoding in the reference: BF16 is the top half of FP32, CFP8 through the format table. */
START_TEST(reference_decodes_operands)
{
    uint16_t A[2] = {0x3fc0, 0xc000}; /* 1.5, -2 */
    uint8_t B[2] = {0x38, 0x40};      /* cfp8 143: e=7 -> 1.0 and e=8 -> 2.0 at bias 7 */
    float C = 0.5f;
    d1r_gemm_operand a = {D1_BF16, 0, A, 2, false}, b = {D1_CFP8_143, 7, B, 1, false};
    ck_assert_float_eq(d1_fmt_decode(D1_CFP8_143, 0x38, 7), 1.0f);
    ck_assert_float_eq(d1_fmt_decode(D1_CFP8_143, 0x40, 7), 2.0f);
    d1r_cpu_gemm_ref(1, 1, 2, &a, &b, &C, 1, true); /* 0.5 + 1.5*1 - 2*2 */
    ck_assert_float_eq(C, -2.0f);
    C = 0.5f;
    d1r_cpu_gemm(1, 1, 2, &a, &b, &C, 1, false, 1);
    ck_assert_float_eq(C, -2.5f);
}
END_TEST

/* K = 0: overwrite gives +0, accumulate leaves C alone. */
START_TEST(empty_k)
{
    float A[1] = {1}, B[1] = {1}, C[6];
    d1r_gemm_operand a = {D1_FP32, 0, A, 1, false}, b = {D1_FP32, 0, B, 1, false};
    for (int i = 0; i < 6; i++)
        C[i] = -3.0f;
    d1r_cpu_gemm(2, 3, 0, &a, &b, C, 3, true, 2);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(C[i], -3.0f);
    d1r_cpu_gemm(2, 3, 0, &a, &b, C, 3, false, 2);
    for (int i = 0; i < 6; i++)
        ck_assert(C[i] == 0.0f && !signbit(C[i]));
}
END_TEST

START_TEST(isa_selection)
{
    ck_assert(d1r_cpu_gemm_isa_supported("portable"));
    ck_assert(!d1r_cpu_gemm_isa_supported("sse9"));
    ck_assert(!d1r_cpu_gemm_isa_supported(NULL));
    ck_assert_int_eq(d1r_cpu_gemm_force_isa("sse9"), D1_E_INVAL);
    ck_assert_int_eq(d1r_cpu_gemm_force_isa("portable"), D1_OK);
    ck_assert_str_eq(d1r_cpu_gemm_isa(), "portable");
    for (int x = 0; x < NISA; x++)
        if (!d1r_cpu_gemm_isa_supported(isas[x])) {
            ck_assert_int_eq(d1r_cpu_gemm_force_isa(isas[x]), D1_E_UNSUPPORTED);
            ck_assert_str_eq(d1r_cpu_gemm_isa(), "portable"); /* unchanged */
        }
    /* automatic choice: the first (best) supported path, unless D1_GEMM_ISA says */
    ck_assert_int_eq(setenv("D1_GEMM_ISA", "", 1), 0);
    ck_assert_int_eq(d1r_cpu_gemm_force_isa(NULL), D1_OK);
    int best = 0;
    while (!d1r_cpu_gemm_isa_supported(isas[best]))
        best++;
    ck_assert_str_eq(d1r_cpu_gemm_isa(), isas[best]);
    ck_assert_int_eq(setenv("D1_GEMM_ISA", "portable", 1), 0);
    ck_assert_int_eq(d1r_cpu_gemm_force_isa(NULL), D1_OK);
    ck_assert_str_eq(d1r_cpu_gemm_isa(), "portable");
    printf("gemm: this machine's best path is %s\n", isas[best]);
}
END_TEST

Suite *gemm_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("fast_vs_ref");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, fast_matches_reference, 0, NCASES);
    suite_add_tcase(s, tc);
    TCase *tp = tcase_create("properties");
    tcase_set_timeout(tp, 120);
    tcase_add_test(tp, k_order_is_ascending);
    tcase_add_test(tp, signed_zeros);
    tcase_add_test(tp, reference_decodes_operands);
    tcase_add_test(tp, empty_k);
    tcase_add_test(tp, isa_selection);
    suite_add_tcase(s, tp);
    return s;
}

D1_TEST_MAIN(gemm_suite)
