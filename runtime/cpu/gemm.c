/* CPU GEMM: the reference triple loop, and the packed, cache-blocked, multi-threaded driver
 * around the micro-kernels of gemm_kernels.h (which also describes the loop structure and
 * the micro-kernel contract). Numerics contract: gemm.h. */
#include "gemm.h"

#include "gemm_kernels.h"
#include "sim/arch/status.h"

#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* Blocking sizes, one row per instruction-set path, best first (the automatic choice is
 * the first row this machine supports). MC is a multiple of MR, NC of NR.
 *   KC: the B micro-panel (KC x NR FP32) and the streamed A micro-panel stay in L1.
 *   MC: the packed A block (MC x KC) stays in L2.
 *   NC: the packed B panel (KC x NC) per thread; larger only saves A re-packing. */

#if defined(__x86_64__) || defined(__i386__)
static int have_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
static int have_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
static int have_avx512(void)
{
    return 0;
}
static int have_avx2(void)
{
    return 0;
}
#endif
static int have_portable(void)
{
    return 1;
}

static const d1r_gemm_blocking gemm_blocking[] = {
    /* isa        micro-kernel                 MR  NR   MC   KC    NC */
    {"avx512", d1r_gemm_ukr_avx512_12x32, 12, 32, 192, 256, 4096, have_avx512},
    {"avx2", d1r_gemm_ukr_avx2_6x16, 6, 16, 144, 256, 4096, have_avx2},
    {"portable", d1r_gemm_ukr_portable_4x16, 4, 16, 64, 256, 1024, have_portable},
};
enum { GEMM_NISA = sizeof gemm_blocking / sizeof gemm_blocking[0] };

/* Below this many multiply-adds a parallel region costs more than it saves. */
#define GEMM_SERIAL_FMAS (1L << 18)

static int isa_index(const char *name)
{
    for (int i = 0; i < GEMM_NISA; i++)
        if (!strcmp(name, gemm_blocking[i].isa))
            return i;
    return -1;
}

/* D1_GEMM_ISA=<name> picks a path if this machine supports it; otherwise the best one. */
static int isa_auto(void)
{
    const char *env = getenv("D1_GEMM_ISA");
    int i = env ? isa_index(env) : -1;
    if (i >= 0 && gemm_blocking[i].supported())
        return i;
    for (i = 0; i < GEMM_NISA; i++)
        if (gemm_blocking[i].supported())
            return i;
    D1_ASSERT(!"no GEMM path supported");
    return GEMM_NISA - 1;
}

static atomic_int gemm_isa = -1; /* index into gemm_blocking, -1 until first use */

static const d1r_gemm_blocking *gemm_select(void)
{
    int i = atomic_load(&gemm_isa);
    if (i < 0) {
        i = isa_auto(); /* two racing first calls compute the same value */
        atomic_store(&gemm_isa, i);
    }
    return &gemm_blocking[i];
}

const char *d1r_cpu_gemm_isa(void)
{
    return gemm_select()->isa;
}

bool d1r_cpu_gemm_isa_supported(const char *name)
{
    int i = name ? isa_index(name) : -1;
    return i >= 0 && gemm_blocking[i].supported();
}

d1_status d1r_cpu_gemm_force_isa(const char *name)
{
    if (!name) {
        atomic_store(&gemm_isa, isa_auto());
        return D1_OK;
    }
    int i = isa_index(name);
    if (i < 0)
        return d1_fail(D1_E_INVAL, "unknown GEMM instruction set '%s' (avx512, avx2, portable)",
                       name);
    if (!gemm_blocking[i].supported())
        return d1_fail(D1_E_UNSUPPORTED, "this CPU cannot run the %s GEMM path", name);
    atomic_store(&gemm_isa, i);
    return D1_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Reference. Deliberately shares nothing with the packed path (element access, decoding)
 * so that the byte-for-byte tests compare two independent implementations. */

static float ref_elem(const d1r_gemm_operand *x, size_t r, size_t c)
{
    size_t off = x->trans ? c * x->ld + r : r * x->ld + c;
    switch (x->dtype) {
    case D1_FP32:
        return ((const float *)x->p)[off];
    case D1_BF16:
        return d1_fmt_decode(D1_BF16, ((const uint16_t *)x->p)[off], 0);
    case D1_CFP8_143:
    case D1_CFP8_152:
        return d1_fmt_decode(x->dtype, ((const uint8_t *)x->p)[off], x->bias);
    default:
        D1_ASSERT(!"gemm: operand dtype must be fp32, bf16 or cfp8");
        return 0.0f;
    }
}

static void ref_rect(int m0, int m1, int n0, int n1, int K, const d1r_gemm_operand *A,
                     const d1r_gemm_operand *B, float *C, size_t ldc, bool accumulate)
{
    for (int i = m0; i < m1; i++)
        for (int j = n0; j < n1; j++) {
            float acc = accumulate ? C[(size_t)i * ldc + j] : 0.0f;
            for (int k = 0; k < K; k++)
                acc = fmaf(ref_elem(A, i, k), ref_elem(B, k, j), acc);
            C[(size_t)i * ldc + j] = acc;
        }
}

void d1r_cpu_gemm_ref(int M, int N, int K, const d1r_gemm_operand *A,
                      const d1r_gemm_operand *B, float *C, size_t ldc, bool accumulate)
{
    ref_rect(0, M, 0, N, K, A, B, C, ldc, accumulate);
}

/* ------------------------------------------------------------------------------------ */
/* Packing: decode an operand to FP32 micro-panels. "v" is the dimension the micro-kernel
 * vectorises or broadcasts over (i for A, j for B); micro-panels are w = MR or NR wide. */

typedef enum src_kind { SRC_FP32, SRC_BF16, SRC_LUT8 } src_kind;

typedef struct gemm_src {
    src_kind kind;
    const void *p;
    size_t sv, sk;  /* element strides of the stored matrix along v and along k */
    float lut[256]; /* CFP8 code -> FP32 for this operand's (format, bias) */
} gemm_src;

static void src_init(gemm_src *s, const d1r_gemm_operand *x, bool is_a)
{
    /* op(A)(i,k) = A[i*ld + k] (A[k*ld + i] transposed); op(B)(k,j) = B[k*ld + j]
     * (B[j*ld + k] transposed). */
    bool v_is_row = is_a ? !x->trans : x->trans;
    s->p = x->p;
    s->sv = v_is_row ? x->ld : 1;
    s->sk = v_is_row ? 1 : x->ld;
    switch (x->dtype) {
    case D1_FP32:
        s->kind = SRC_FP32;
        break;
    case D1_BF16:
        s->kind = SRC_BF16;
        break;
    case D1_CFP8_143:
    case D1_CFP8_152:
        s->kind = SRC_LUT8;
        for (uint32_t c = 0; c < 256; c++)
            s->lut[c] = d1_fmt_decode(x->dtype, c, x->bias);
        break;
    default:
        D1_ASSERT(!"gemm: operand dtype must be fp32, bf16 or cfp8");
    }
}

static inline float src_at(const gemm_src *s, src_kind kind, size_t off)
{
    switch (kind) {
    case SRC_FP32:
        return ((const float *)s->p)[off];
    case SRC_BF16: {
        /* BF16 is the high half of an FP32: exact, and no call per element. */
        uint32_t u = (uint32_t)((const uint16_t *)s->p)[off] << 16;
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
    default:
        return s->lut[((const uint8_t *)s->p)[off]];
    }
}

/* dst = micro-panels of width w covering v in [v0, v0+vn), k in [k0, k0+kn):
 * panel p holds dst[p*w*kn + k*w + v] = X(v0 + p*w + v, k0 + k), zero past vn.
 * Inlined per kind so the decode switch folds away. */
static inline __attribute__((always_inline)) void
pack_kind(const gemm_src *s, src_kind kind, size_t v0, int vn, size_t k0, int kn, int w,
          float *dst)
{
    for (int p = 0; p < vn; p += w) {
        int pv = vn - p < w ? vn - p : w;
        float *d = dst + (size_t)p * kn;
        size_t base = (v0 + p) * s->sv + k0 * s->sk;
        if (s->sv == 1) { /* contiguous along v: read rows of the panel */
            for (int k = 0; k < kn; k++) {
                size_t o = base + k * s->sk;
                for (int v = 0; v < pv; v++)
                    d[k * w + v] = src_at(s, kind, o + v);
                for (int v = pv; v < w; v++)
                    d[k * w + v] = 0.0f;
            }
        } else { /* contiguous along k: read columns of the panel */
            for (int v = 0; v < pv; v++) {
                size_t o = base + v * s->sv;
                for (int k = 0; k < kn; k++)
                    d[k * w + v] = src_at(s, kind, o + k * s->sk);
            }
            for (int k = 0; k < kn; k++)
                for (int v = pv; v < w; v++)
                    d[k * w + v] = 0.0f;
        }
    }
}

static void pack(const gemm_src *s, size_t v0, int vn, size_t k0, int kn, int w, float *dst)
{
    switch (s->kind) {
    case SRC_FP32:
        pack_kind(s, SRC_FP32, v0, vn, k0, kn, w, dst);
        break;
    case SRC_BF16:
        pack_kind(s, SRC_BF16, v0, vn, k0, kn, w, dst);
        break;
    case SRC_LUT8:
        pack_kind(s, SRC_LUT8, v0, vn, k0, kn, w, dst);
        break;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Driver */

typedef struct gemm_job {
    int M, N, K;
    const d1r_gemm_operand *A, *B; /* for the reference fallback */
    const gemm_src *a, *b;
    float *C;
    size_t ldc;
    bool accumulate;
    const d1r_gemm_blocking *bk;
} gemm_job;

static int imin(int x, int y)
{
    return x < y ? x : y;
}

static int round_up(int x, int m)
{
    return (x + m - 1) / m * m;
}

static float *alloc_panel(size_t nfloats)
{
    size_t bytes = (nfloats * sizeof(float) + 63) / 64 * 64;
    return aligned_alloc(64, bytes);
}

/* One micro-tile of C at (i, j) with mr x nr valid elements. Edge tiles run on a full
 * MR x NR scratch tile so the kernels never need masks; its padded outputs are dropped. */
static void tile(const gemm_job *job, int kc, const float *ap, const float *bp, int i, int j,
                 int mr, int nr, bool load_c)
{
    const d1r_gemm_blocking *bk = job->bk;
    float *c = job->C + (size_t)i * job->ldc + j;
    if (mr == bk->mr && nr == bk->nr) {
        bk->ukr(kc, ap, bp, c, job->ldc, load_c);
        return;
    }
    float t[D1R_GEMM_MR_MAX * D1R_GEMM_NR_MAX];
    if (load_c)
        for (int r = 0; r < bk->mr; r++)
            for (int q = 0; q < bk->nr; q++)
                t[r * bk->nr + q] = r < mr && q < nr ? c[(size_t)r * job->ldc + q] : 0.0f;
    bk->ukr(kc, ap, bp, t, (size_t)bk->nr, load_c);
    for (int r = 0; r < mr; r++)
        memcpy(c + (size_t)r * job->ldc, t + r * bk->nr, (size_t)nr * sizeof(float));
}

/* C[m0:m1, n0:n1] with this thread's own packing buffers (m0, n0 multiples of MR, NR). */
static void gemm_rect(const gemm_job *job, int m0, int m1, int n0, int n1)
{
    const d1r_gemm_blocking *bk = job->bk;
    int mc_max = imin(bk->mc, round_up(m1 - m0, bk->mr));
    int nc_max = imin(bk->nc, round_up(n1 - n0, bk->nr));
    int kc_max = imin(bk->kc, job->K);
    float *ap = alloc_panel((size_t)mc_max * kc_max);
    float *bp = alloc_panel((size_t)kc_max * nc_max);
    if (!ap || !bp) {
        /* Out of memory is not an error here: the reference gives the same bytes. */
        ref_rect(m0, m1, n0, n1, job->K, job->A, job->B, job->C, job->ldc, job->accumulate);
        goto free_panels;
    }
    for (int jc = n0; jc < n1; jc += nc_max) {
        int nc = imin(nc_max, n1 - jc);
        /* K blocks in ascending order; C holds the exact partial chain between them. */
        for (int pc = 0; pc < job->K; pc += kc_max) {
            int kc = imin(kc_max, job->K - pc);
            bool load_c = job->accumulate || pc > 0;
            pack(job->b, (size_t)jc, nc, (size_t)pc, kc, bk->nr, bp);
            for (int ic = m0; ic < m1; ic += mc_max) {
                int mc = imin(mc_max, m1 - ic);
                pack(job->a, (size_t)ic, mc, (size_t)pc, kc, bk->mr, ap);
                for (int jr = 0; jr < nc; jr += bk->nr)
                    for (int ir = 0; ir < mc; ir += bk->mr)
                        tile(job, kc, ap + (size_t)ir * kc, bp + (size_t)jr * kc, ic + ir,
                             jc + jr, imin(bk->mr, mc - ir), imin(bk->nr, nc - jr), load_c);
            }
        }
    }
free_panels:
    free(ap);
    free(bp);
}

/* Split C into a tm x tn grid of rectangles, one per thread, whole micro-tiles each:
 * the factorisation of nthr with the smallest largest rectangle; ties split N (each thread
 * then packs all of A but only its columns of B). */
static void gemm_thread(const gemm_job *job, int t, int nthr)
{
    const d1r_gemm_blocking *bk = job->bk;
    long mt = (job->M + bk->mr - 1) / bk->mr, nt = (job->N + bk->nr - 1) / bk->nr;
    int tm = 1, tn = nthr;
    long best = -1;
    for (int f = 1; f <= nthr; f++) {
        if (nthr % f)
            continue;
        long cost = ((mt + f - 1) / f) * ((nt + nthr / f - 1) / (nthr / f));
        if (best < 0 || cost < best) {
            best = cost;
            tm = f;
            tn = nthr / f;
        }
    }
    int ti = t / tn, tj = t % tn;
    int m0 = (int)(mt * ti / tm) * bk->mr, m1 = imin(job->M, (int)(mt * (ti + 1) / tm) * bk->mr);
    int n0 = (int)(nt * tj / tn) * bk->nr, n1 = imin(job->N, (int)(nt * (tj + 1) / tn) * bk->nr);
    if (m0 < m1 && n0 < n1)
        gemm_rect(job, m0, m1, n0, n1);
}

void d1r_cpu_gemm(int M, int N, int K, const d1r_gemm_operand *A, const d1r_gemm_operand *B,
                  float *C, size_t ldc, bool accumulate, int nthreads)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) { /* empty chains: C stays, or becomes +0 */
        if (!accumulate)
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++)
                    C[(size_t)i * ldc + j] = 0.0f;
        return;
    }
    gemm_src a, b;
    src_init(&a, A, true);
    src_init(&b, B, false);
    gemm_job job = {M, N, K, A, B, &a, &b, C, ldc, accumulate, gemm_select()};

    long tiles = (long)((M + job.bk->mr - 1) / job.bk->mr) * ((N + job.bk->nr - 1) / job.bk->nr);
    int nthr = nthreads > 0 ? nthreads : omp_get_max_threads();
    if ((double)M * N * K < (double)GEMM_SERIAL_FMAS)
        nthr = 1;
    if (nthr > tiles)
        nthr = (int)tiles;
    if (nthr <= 1) {
        gemm_thread(&job, 0, 1);
        return;
    }
    /* One parallel region; the team may be smaller than asked, so split by its size. */
#pragma omp parallel num_threads(nthr)
    gemm_thread(&job, omp_get_thread_num(), omp_get_num_threads());
}
