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
 *   KC: C is read and written once per K block, so a larger KC means less C traffic; the
 *       B micro-panel (KC x NR) need not stay in L1 as long as L2 feeds it.
 *   MC: the packed A block (MC x KC) stays in L2; larger means fewer re-reads of the
 *       B panel.
 *   NC: the packed B panel (KC x NC, shared by the team); larger saves A re-packing.
 * AVX-512 row: chosen on a 2-core Xeon VM (48 KiB L1d, 2 MiB L2 per core, an L3 shared
 *   with busy neighbours): the 12x32 kernel runs at 170-180 GFLOPS per core from L2 with
 *   KC 256 or 512 alike, and the larger KC halves the C traffic that dominates once C is
 *   out of L2. AVX2 row: the usual Haswell-class sizes (256 KiB L2). */

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
    {"avx512", d1r_gemm_ukr_avx512_12x32, 12, 32, 384, 512, 4096, have_avx512},
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

/* Packing: decode an operand to FP32 micro-panels. "v" is the dimension the micro-kernel
 * vectorises or broadcasts over (i for A, j for B); micro-panels are w = MR or NR wide. */

typedef enum src_kind { SRC_FP32, SRC_BF16, SRC_LUT8 } src_kind;

typedef struct gemm_src {
    src_kind kind;
    const void *p;
    size_t esize;   /* bytes per stored element */
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
        s->esize = 4;
        break;
    case D1_BF16:
        s->kind = SRC_BF16;
        s->esize = 2;
        break;
    case D1_CFP8_143:
    case D1_CFP8_152:
        s->kind = SRC_LUT8;
        s->esize = 1;
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

/* Pack micro-panels [vb, ve) (vb, ve multiples of w, or ve the padded end) of the block
 * v in [v0, v0+vn), k in [k0, k0+kn):  dst[p*kn + k*w + v] = X(v0 + p + v, k0 + k) for the
 * panel starting at p, zero for p + v >= vn. Inlined per kind so the decode folds away.
 * Loops run along whichever dimension is contiguous in memory, so reads stream. */
static inline __attribute__((always_inline)) void
pack_kind(const gemm_src *s, src_kind kind, size_t v0, int vn, int vb, int ve, size_t k0,
          int kn, int w, float *dst)
{
    if (s->sv == 1) { /* contiguous along v: each k is a row across all our panels */
        for (int k = 0; k < kn; k++) {
            size_t o = v0 + (k0 + k) * s->sk;
            for (int p = vb; p < ve; p += w) {
                float *d = dst + (size_t)p * kn + (size_t)k * w;
                int pv = vn - p < w ? vn - p : w;
                for (int v = 0; v < pv; v++)
                    d[v] = src_at(s, kind, o + p + v);
                for (int v = pv < 0 ? 0 : pv; v < w; v++)
                    d[v] = 0.0f;
            }
        }
        return;
    }
    /* contiguous along k: one stream per v, short (kn elements); prefetch the streams of
     * the next panel while this one is packed, since each is too short for the hardware
     * prefetcher to pick up. */
    const char *base = s->p;
    size_t line_elems = 64 / s->esize;
    for (int p = vb; p < ve; p += w) {
        float *d = dst + (size_t)p * kn;
        int pv = vn - p < w ? vn - p : w;
        int nv = vn - (p + w) < w ? vn - (p + w) : w;
        for (int v = 0; v < nv; v++)
            for (size_t k = 0; k < (size_t)kn; k += line_elems)
                __builtin_prefetch(base + ((v0 + p + w + v) * s->sv + (k0 + k) * s->sk) *
                                              s->esize);
        for (int v = 0; v < pv; v++) {
            size_t o = (v0 + p + v) * s->sv + k0 * s->sk;
            for (int k = 0; k < kn; k++)
                d[(size_t)k * w + v] = src_at(s, kind, o + k * s->sk);
        }
        for (int k = 0; k < kn; k++)
            for (int v = pv < 0 ? 0 : pv; v < w; v++)
                d[(size_t)k * w + v] = 0.0f;
    }
}

static void pack(const gemm_src *s, size_t v0, int vn, int vb, int ve, size_t k0, int kn,
                 int w, float *dst)
{
    switch (s->kind) {
    case SRC_FP32:
        pack_kind(s, SRC_FP32, v0, vn, vb, ve, k0, kn, w, dst);
        break;
    case SRC_BF16:
        pack_kind(s, SRC_BF16, v0, vn, vb, ve, k0, kn, w, dst);
        break;
    case SRC_LUT8:
        pack_kind(s, SRC_LUT8, v0, vn, vb, ve, k0, kn, w, dst);
        break;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Driver.
 *
 * Threads: one parallel region. For each (jc, pc) block the team packs the B panel
 * together into one shared buffer (each micro-panel once), then each thread computes its
 * rectangle of the block: rows split tm ways, micro-panel columns tn ways (tm * tn =
 * threads), packing its own A blocks. Two barriers per (jc, pc) block. Every C element is
 * owned by one thread and sees its K blocks in ascending order, so the result does not
 * depend on the thread count. */

typedef struct gemm_job {
    int M, N, K;
    const gemm_src *a, *b;
    float *C;
    size_t ldc;
    bool accumulate;
    const d1r_gemm_blocking *bk;
    int mc, kc, nc;   /* blocks used: the table's, clipped to the problem */
    float *bp;        /* shared packed B panel, kc x nc */
    float **ap;       /* per-thread packed A block, mc x kc */
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

/* The micro-kernel must start each chain from the stored C, so a C tile that is not in
 * cache stalls its first FMAs. Fetch the next tile's C (the next ir step, else the top of
 * the next jr column) while this one computes: a kernel call is thousands of cycles. */
static void prefetch_next_c(const gemm_job *job, int ic, int mc, int jc, int jr, int jr_end,
                            int ir)
{
    const d1r_gemm_blocking *bk = job->bk;
    ir += bk->mr;
    if (ir >= mc) {
        ir = 0;
        jr += bk->nr;
        if (jr >= jr_end)
            return;
    }
    int rows = imin(bk->mr, mc - ir), cols = imin(bk->nr, job->N - (jc + jr));
    const float *c = job->C + (size_t)(ic + ir) * job->ldc + (size_t)(jc + jr);
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < cols; q += 16) /* 16 floats: one 64-byte line */
            __builtin_prefetch(c + (size_t)r * job->ldc + q, 1, 3);
}

/* Thread grid: the factorisation tm x tn of nthr with the least estimated time per thread:
 * its micro-tiles (FMA-bound) plus packing its A rows (every thread in a grid row packs
 * the same A rows again, so splitting M is preferred when it balances as well). */
static void grid_choose(const gemm_job *job, int nthr, int *tm, int *tn)
{
    const d1r_gemm_blocking *bk = job->bk;
    long mt = (job->M + bk->mr - 1) / bk->mr, nt = (job->N + bk->nr - 1) / bk->nr;
    double best = -1;
    for (int f = 1; f <= nthr; f++) {
        if (nthr % f)
            continue;
        long rows = (mt + f - 1) / f, cols = (nt + nthr / f - 1) / (nthr / f);
        /* per k: MR*NR FMAs per tile at ~32 per cycle; ~2 packed A elements per cycle */
        double cost = (double)rows * cols * bk->mr * bk->nr / 32.0 + rows * bk->mr / 2.0;
        if (best < 0 || cost < best) {
            best = cost;
            *tm = f;
            *tn = nthr / f;
        }
    }
}

static void gemm_team(const gemm_job *job, int t, int nthr)
{
    const d1r_gemm_blocking *bk = job->bk;
    int tm = 1, tn = 1;
    grid_choose(job, nthr, &tm, &tn);
    int ti = t / tn, tj = t % tn;
    long mt = (job->M + bk->mr - 1) / bk->mr;
    int m0 = (int)(mt * ti / tm) * bk->mr, m1 = imin(job->M, (int)(mt * (ti + 1) / tm) * bk->mr);
    float *ap = job->ap[t];
    for (int jc = 0; jc < job->N; jc += job->nc) {
        int nc = imin(job->nc, job->N - jc);
        int nq = (nc + bk->nr - 1) / bk->nr;                  /* micro-panels in the block */
        int jr0 = nq * tj / tn * bk->nr, jr1 = nq * (tj + 1) / tn * bk->nr; /* ours */
        int pb0 = nq * t / nthr * bk->nr, pb1 = nq * (t + 1) / nthr * bk->nr; /* we pack */
        /* K blocks in ascending order; C holds the exact partial chain between them. */
        for (int pc = 0; pc < job->K; pc += job->kc) {
            int kc = imin(job->kc, job->K - pc);
            bool load_c = job->accumulate || pc > 0;
            pack(job->b, (size_t)jc, nc, pb0, pb1, (size_t)pc, kc, bk->nr, job->bp);
#pragma omp barrier
            for (int ic = m0; ic < m1 && jr0 < jr1; ic += job->mc) {
                int mc = imin(job->mc, m1 - ic);
                pack(job->a, (size_t)ic, mc, 0, round_up(mc, bk->mr), (size_t)pc, kc, bk->mr,
                     ap);
                for (int jr = jr0; jr < jr1; jr += bk->nr)
                    for (int ir = 0; ir < mc; ir += bk->mr) {
                        if (load_c)
                            prefetch_next_c(job, ic, mc, jc, jr, jr1, ir);
                        tile(job, kc, ap + (size_t)ir * kc, job->bp + (size_t)jr * kc, ic + ir,
                             jc + jr, imin(bk->mr, mc - ir), imin(bk->nr, nc - jr), load_c);
                    }
            }
            /* the next block's packing overwrites the panel everyone is reading */
#pragma omp barrier
        }
    }
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
    const d1r_gemm_blocking *bk = gemm_select();
    gemm_job job = {M, N, K, &a, &b, C, ldc, accumulate, bk, 0, 0, 0, NULL, NULL};

    long tiles = (long)((M + bk->mr - 1) / bk->mr) * ((N + bk->nr - 1) / bk->nr);
    int nthr = nthreads > 0 ? nthreads : omp_get_max_threads();
    if ((double)M * N * K < (double)GEMM_SERIAL_FMAS)
        nthr = 1;
    if (nthr > tiles)
        nthr = (int)tiles;

    job.kc = imin(bk->kc, K);
    job.nc = imin(bk->nc, round_up(N, bk->nr));
    job.mc = imin(bk->mc, round_up(M, bk->mr));
    job.bp = alloc_panel((size_t)job.kc * job.nc);
    job.ap = calloc((size_t)nthr, sizeof *job.ap);
    bool ok = job.bp && job.ap;
    for (int t = 0; ok && t < nthr; t++)
        ok = (job.ap[t] = alloc_panel((size_t)job.mc * job.kc)) != NULL;
    if (!ok) {
        /* Out of memory is not an error here: the reference gives the same bytes. */
        d1r_cpu_gemm_ref(M, N, K, A, B, C, ldc, accumulate);
    } else if (nthr == 1) {
        gemm_team(&job, 0, 1);
    } else {
        /* One parallel region; the team may be smaller than asked, so split by its size. */
#pragma omp parallel num_threads(nthr)
        gemm_team(&job, omp_get_thread_num(), omp_get_num_threads());
    }
    for (int t = 0; job.ap && t < nthr; t++)
        free(job.ap[t]);
    free(job.ap);
    free(job.bp);
}
