/* All-reduce kernels: ring, 2-D and hierarchical, as nests of ring levels (see collectives.h). */
#include "collectives.h"

#include "emit_util.h"

#include <stdlib.h>
#include <string.h>

enum { PH_RS = 0, PH_AG = 1 };
#define MAX_PHASES (2 * D1K_AR_MAX_LEVELS)
#define PHASE_BYTES 56 /* n, p, next, prev, base, chunk, scratch: 7 x u64 */
#define PARAM_BYTES 512
#define DESC 0x300
#define ACKD 0x320
#define ACKSRC 0x340
#define ACKDST 0x348
#define TOKDST 0x350
#define TOKD 0x360

typedef struct ring {
    uint32_t n, p, next, prev;
    uint64_t base, chunk, scratch;
} ring;

void d1k_allreduce_grid(uint32_t n, uint32_t *rows, uint32_t *cols)
{
    uint32_t r = 1;
    for (uint32_t d = 1; (uint64_t)d * d <= n; d++)
        if (n % d == 0)
            r = d;
    *rows = r;
    *cols = n / r;
}

int d1k_allreduce_levels(const d1k_allreduce *a, uint32_t size[D1K_AR_MAX_LEVELS],
                         uint32_t stride[D1K_AR_MAX_LEVELS])
{
    if (a->n < 1)
        return 0;
    if (a->algo == D1K_AR_RING) {
        size[0] = a->n;
        stride[0] = 1;
        return 1;
    }
    if (a->algo != D1K_AR_2D && a->algo != D1K_AR_HIER)
        return 0;
    uint32_t g = a->algo == D1K_AR_HIER ? a->groups : 1;
    if (g < 1 || a->n % g)
        return 0;
    uint32_t m = a->n / g, r, c;
    if (a->rows && a->cols) {
        r = a->rows;
        c = a->cols;
    } else {
        d1k_allreduce_grid(m, &r, &c);
    }
    if ((uint64_t)r * c != m)
        return 0;
    size[0] = c;
    stride[0] = 1;
    size[1] = r;
    stride[1] = c;
    if (a->algo == D1K_AR_2D)
        return 2;
    size[2] = g;
    stride[2] = m;
    return 3;
}

static uint32_t digit(uint32_t i, uint32_t size, uint32_t stride)
{
    return i / stride % size;
}

uint32_t d1k_allreduce_next(const d1k_allreduce *a, int l, uint32_t i)
{
    uint32_t sz[D1K_AR_MAX_LEVELS], st[D1K_AR_MAX_LEVELS];
    int nl = d1k_allreduce_levels(a, sz, st);
    if (l < 0 || l >= nl || i >= a->n)
        return i;
    uint32_t d = digit(i, sz[l], st[l]);
    return i - d * st[l] + (d + 1) % sz[l] * st[l];
}

uint64_t d1k_allreduce_round_bytes(d1k_ar_algo algo, uint32_t n, uint64_t bytes)
{
    (void)algo;
    uint64_t unit = 64u * (uint64_t)(n ? n : 1);
    return bytes ? (bytes + unit - 1) / unit * unit : unit;
}

uint64_t d1k_allreduce_scratch_bytes(const d1k_allreduce *a)
{
    uint32_t sz[D1K_AR_MAX_LEVELS], st[D1K_AR_MAX_LEVELS];
    int nl = d1k_allreduce_levels(a, sz, st);
    uint64_t c = a->bytes, total = 0;
    for (int l = 0; l < nl; l++) {
        c /= sz[l];
        total += 2 * c;
    }
    return total;
}

/* Ring parameters of node index i for phase k (reduce-scatter on level k for k < nl, then
 * all-gather on level 2 nl - 1 - k). Level l works on the chunk node i owns after the
 * reduce-scatter of level l - 1 (node p of a ring owns chunk p + 1 mod size). */
static ring ring_of(const d1k_allreduce *a, int k, uint32_t i)
{
    uint32_t sz[D1K_AR_MAX_LEVELS], st[D1K_AR_MAX_LEVELS];
    int nl = d1k_allreduce_levels(a, sz, st);
    int l = k < nl ? k : 2 * nl - 1 - k;
    ring g;
    g.base = a->buf_addr;
    g.scratch = a->scratch_addr;
    g.chunk = a->bytes;
    for (int j = 0; j < l; j++) {
        g.chunk /= sz[j];
        g.base += (digit(i, sz[j], st[j]) + 1) % sz[j] * g.chunk;
        g.scratch += 2 * g.chunk;
    }
    g.chunk /= sz[l];
    uint32_t d = digit(i, sz[l], st[l]);
    g.n = sz[l];
    g.p = d;
    g.next = a->nodes[i - d * st[l] + (d + 1) % sz[l] * st[l]];
    g.prev = a->nodes[i - d * st[l] + (d + sz[l] - 1) % sz[l] * st[l]];
    return g;
}

/* ---- program ------------------------------------------------------------------------------ */

enum {
    XN = 10,
    XP,
    XNEXT,
    XPREV,
    XBASE,
    XC,
    XSTEPS,
    XS,
    XCS,
    XLOC,
    XT0,
    XT1,
    XREM,
    XCR,
    XDST,
    XSLOT,
    XOFF,
    XSCR,
    XTWO
};

/* Semaphores: 1 = local DMA sent; per phase k: 2 + 3k / 3 + 3k data of an even / odd step
 * arrived, 4 + 3k slot credit (the next node consumed a step); 20 + k: the ring's next node
 * finished its reduce-scatter (all-gather phase k may write into it).
 * The network may reorder packets of different transfers, so two transfers to one receiver
 * may complete in either order: the credit keeps at most two in flight and their parity
 * tells them apart. */
static void emit_phase(d1k_em *e, int k, int kind, int partner)
{
    uint64_t prm = D1K_COLL_PARAM + (uint64_t)k * PHASE_BYTES;
    int dsem = 2 + 3 * k, asem = 4 + 3 * k, tsem = 20 + (kind == PH_RS ? partner : k);
    d1k_mem(e, D1_OP_LD, XN, 0, (int64_t)prm);
    d1k_mem(e, D1_OP_LD, XP, 0, (int64_t)prm + 8);
    d1k_mem(e, D1_OP_LD, XNEXT, 0, (int64_t)prm + 16);
    d1k_mem(e, D1_OP_LD, XPREV, 0, (int64_t)prm + 24);
    d1k_mem(e, D1_OP_LD, XBASE, 0, (int64_t)prm + 32);
    d1k_mem(e, D1_OP_LD, XC, 0, (int64_t)prm + 40);
    d1k_mem(e, D1_OP_LD, XSCR, 0, (int64_t)prm + 48);
    d1k_i(e, D1_OP_ADDI, XSTEPS, XN, -1);
    d1k_i(e, D1_OP_ADDI, XS, 0, 0);
    d1k_i(e, D1_OP_ADDI, XTWO, 0, 2);
    int end = d1k_label(e), loop = d1k_label(e);
    d1k_branch(e, D1_OP_BGE, XS, XSTEPS, end);
    /* the acknowledgement descriptor: 8 bytes to prev, posting asem there */
    d1k_li(e, XT0, (int64_t)(0xffu << 8 | (uint64_t)asem << 16 | (uint64_t)8 << 32));
    d1k_mem(e, D1_OP_SD, XT0, 0, ACKD);
    d1k_mem(e, D1_OP_SD, XPREV, 0, ACKD + 8);
    d1k_li(e, XT0, ACKSRC);
    d1k_mem(e, D1_OP_SD, XT0, 0, ACKD + 16);
    d1k_li(e, XT0, ACKDST);
    d1k_mem(e, D1_OP_SD, XT0, 0, ACKD + 24);
    if (kind == PH_AG) /* next must have finished adding into the chunks we overwrite */
        d1k_sem(e, D1_OP_SWAIT, tsem, 1);
    d1k_bind(e, loop);
    int ok1 = d1k_label(e), ok1b = d1k_label(e), nocredit = d1k_label(e);
    d1k_branch(e, D1_OP_BLT, XS, XTWO, nocredit);
    d1k_sem(e, D1_OP_SWAIT, asem, 1); /* next has consumed step s - 2 */
    d1k_bind(e, nocredit);
    if (kind == PH_RS) {
        d1k_r(e, D1_OP_SUB, XCS, XP, XS); /* cs = p - s mod n */
    } else {
        d1k_i(e, D1_OP_ADDI, XCS, XP, 1); /* cs = p + 1 - s mod n */
        d1k_r(e, D1_OP_SUB, XCS, XCS, XS);
        d1k_branch(e, D1_OP_BLT, XCS, XN, ok1b);
        d1k_r(e, D1_OP_SUB, XCS, XCS, XN);
        d1k_bind(e, ok1b);
    }
    d1k_branch(e, D1_OP_BGE, XCS, 0, ok1);
    d1k_r(e, D1_OP_ADD, XCS, XCS, XN);
    d1k_bind(e, ok1);
    d1k_r(e, D1_OP_MUL, XLOC, XCS, XC);
    d1k_r(e, D1_OP_ADD, XLOC, XLOC, XBASE);
    if (kind == PH_RS) {
        d1k_i(e, D1_OP_ANDI, XT1, XS, 1); /* slot = scratch + (s & 1) * C */
        d1k_r(e, D1_OP_MUL, XT1, XT1, XC);
        d1k_r(e, D1_OP_ADD, XREM, XSCR, XT1);
    } else {
        d1k_i(e, D1_OP_ADDI, XREM, XLOC, 0);
    }
    /* data descriptor: PUT, sem_local 1, sem_remote dsem + (s & 1), len C */
    d1k_i(e, D1_OP_ANDI, XT0, XS, 1);
    d1k_i(e, D1_OP_ADDI, XT0, XT0, dsem);
    d1k_i(e, D1_OP_SLLI, XT0, XT0, 16);
    d1k_i(e, D1_OP_ORI, XT0, XT0, 1 << 8);
    d1k_i(e, D1_OP_SLLI, XT1, XC, 32);
    d1k_r(e, D1_OP_OR, XT0, XT0, XT1);
    d1k_mem(e, D1_OP_SD, XT0, 0, DESC);
    d1k_mem(e, D1_OP_SD, XNEXT, 0, DESC + 8);
    d1k_mem(e, D1_OP_SD, XLOC, 0, DESC + 16);
    d1k_mem(e, D1_OP_SD, XREM, 0, DESC + 24);
    d1k_em_raw(e, D1_OP_DMA, 0, 0, 0, DESC);
    d1k_sem(e, D1_OP_SWAIT, 1, 1); /* sent */
    int odd = d1k_label(e), got = d1k_label(e);
    d1k_i(e, D1_OP_ANDI, XT1, XS, 1); /* prev's step-s transfer arrived */
    d1k_branch(e, D1_OP_BNE, XT1, 0, odd);
    d1k_sem(e, D1_OP_SWAIT, dsem, 1);
    d1k_jump(e, got);
    d1k_bind(e, odd);
    d1k_sem(e, D1_OP_SWAIT, dsem + 1, 1);
    d1k_bind(e, got);
    if (kind == PH_RS) {
        int ok2 = d1k_label(e), add = d1k_label(e);
        d1k_i(e, D1_OP_ADDI, XCR, XCS, -1); /* cr = cs - 1 mod n */
        d1k_branch(e, D1_OP_BGE, XCR, 0, ok2);
        d1k_r(e, D1_OP_ADD, XCR, XCR, XN);
        d1k_bind(e, ok2);
        d1k_r(e, D1_OP_MUL, XDST, XCR, XC);
        d1k_r(e, D1_OP_ADD, XDST, XDST, XBASE);
        d1k_i(e, D1_OP_ADDI, XSLOT, XREM, 0);
        d1k_i(e, D1_OP_ADDI, XOFF, 0, 0);
        d1k_bind(e, add); /* buf[cr] = buf[cr] + slot, 64 B per iteration */
        d1k_mem(e, D1_OP_VLD, 1, XSLOT, 0);
        d1k_mem(e, D1_OP_VLD, 2, XDST, 0);
        d1k_r(e, D1_OP_VADDF, 2, 2, 1);
        d1k_mem(e, D1_OP_VST, 2, XDST, 0);
        d1k_i(e, D1_OP_ADDI, XSLOT, XSLOT, 64);
        d1k_i(e, D1_OP_ADDI, XDST, XDST, 64);
        d1k_i(e, D1_OP_ADDI, XOFF, XOFF, 64);
        d1k_branch(e, D1_OP_BLT, XOFF, XC, add);
    }
    d1k_em_raw(e, D1_OP_DMA, 0, 0, 0, ACKD); /* step s consumed: prev may send step s + 2 */
    d1k_i(e, D1_OP_ADDI, XS, XS, 1);
    d1k_branch(e, D1_OP_BLT, XS, XSTEPS, loop);
    if (kind == PH_RS) {
        /* tell prev that our reduce-scatter on this ring is over: its all-gather may write */
        d1k_li(e, XT0, (int64_t)(0xffu << 8 | (uint64_t)tsem << 16 | (uint64_t)8 << 32));
        d1k_mem(e, D1_OP_SD, XT0, 0, TOKD);
        d1k_mem(e, D1_OP_SD, XPREV, 0, TOKD + 8);
        d1k_li(e, XT0, ACKSRC);
        d1k_mem(e, D1_OP_SD, XT0, 0, TOKD + 16);
        d1k_li(e, XT0, TOKDST);
        d1k_mem(e, D1_OP_SD, XT0, 0, TOKD + 24);
        d1k_em_raw(e, D1_OP_DMA, 0, 0, 0, TOKD);
    }
    d1k_bind(e, end);
}

static d1_status check(const d1k_allreduce *a)
{
    if (!a->nodes || a->n < 1)
        return d1_fail(D1_E_INVAL, "all-reduce over no nodes");
    if (a->algo != D1K_AR_RING && a->algo != D1K_AR_2D && a->algo != D1K_AR_HIER)
        return d1_fail(D1_E_INVAL, "unknown all-reduce algorithm %d", (int)a->algo);
    if (a->algo == D1K_AR_HIER && (a->groups < 1 || a->n % a->groups))
        return d1_fail(D1_E_INVAL, "%u groups do not divide %u nodes", a->groups, a->n);
    uint32_t sz[D1K_AR_MAX_LEVELS], stv[D1K_AR_MAX_LEVELS];
    if (!d1k_allreduce_levels(a, sz, stv))
        return d1_fail(D1_E_INVAL, "grid %ux%u does not hold %u nodes", a->rows, a->cols,
                       a->algo == D1K_AR_HIER ? a->n / a->groups : a->n);
    if (a->bytes == 0 || a->bytes % (64u * (uint64_t)a->n))
        return d1_fail(D1_E_INVAL, "all-reduce of %llu bytes: must be a multiple of 64 x %u",
                       (unsigned long long)a->bytes, a->n);
    if (a->buf_addr % 64 || a->scratch_addr % 64 || a->buf_addr < 0x400 || a->scratch_addr < 0x400)
        return d1_fail(D1_E_INVAL, "all-reduce buffers must be 64-aligned and above 0x400");
    uint64_t sb = d1k_allreduce_scratch_bytes(a);
    uint64_t b0 = a->buf_addr, b1 = b0 + a->bytes, s0 = a->scratch_addr, s1 = s0 + sb;
    if (b1 > a->sram_bytes || s1 > a->sram_bytes || (b0 < s1 && s0 < b1))
        return d1_fail(D1_E_INVAL, "all-reduce buffer/scratch overlap or exceed SRAM");
    for (uint32_t i = 0; i < a->n; i++)
        if (a->nodes[i] >= a->target_nodes)
            return d1_fail(D1_E_INVAL, "node %u outside the %u-node target", a->nodes[i],
                           a->target_nodes);
    return D1_OK;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static const char *const algo_name[] = {"allreduce_ring", "allreduce_2d", "allreduce_hier"};

d1_status d1k_allreduce_build(const d1k_allreduce *a, d1s_kernel **out)
{
    *out = NULL;
    d1_status st = check(a);
    if (st != D1_OK)
        return st;
    /* placements must be ordered and disjoint: sort the nodes, keep each one's index */
    uint64_t *keyed = malloc((size_t)a->n * sizeof *keyed);
    if (!keyed)
        return d1_fail(D1_E_NOMEM, "all-reduce");
    for (uint32_t i = 0; i < a->n; i++)
        keyed[i] = (uint64_t)a->nodes[i] << 32 | i;
    qsort(keyed, a->n, sizeof *keyed, cmp_u64);
    for (uint32_t i = 1; i < a->n; i++)
        if (keyed[i] >> 32 == keyed[i - 1] >> 32) {
            uint32_t dup = (uint32_t)(keyed[i] >> 32);
            free(keyed);
            return d1_fail(D1_E_INVAL, "node %u listed twice", dup);
        }
    d1s_target tg = {a->target_nodes, a->sram_bytes, 0};
    d1s_kernel *k = NULL;
    uint32_t prog = 0;
    st = d1s_kernel_create(&tg, &k);
    if (st == D1_OK)
        st = d1s_kernel_add_program(k, algo_name[a->algo], &prog);
    if (st == D1_OK) {
        uint32_t sz[D1K_AR_MAX_LEVELS], stv[D1K_AR_MAX_LEVELS];
        int nph = 2 * d1k_allreduce_levels(a, sz, stv);
        d1k_em e;
        d1k_em_init(&e, k, prog);
        for (int ph = 0; ph < nph; ph++)
            emit_phase(&e, ph, ph < nph / 2 ? PH_RS : PH_AG, nph - 1 - ph);
        d1k_em_raw(&e, D1_OP_HALT, 0, 0, 0, 0);
        st = d1k_em_finish(&e);
        for (uint32_t j = 0; j < a->n && st == D1_OK; j++) {
            uint32_t i = (uint32_t)keyed[j], node = (uint32_t)(keyed[j] >> 32);
            uint64_t prm[PARAM_BYTES / 8];
            memset(prm, 0, sizeof prm);
            for (int ph = 0; ph < nph; ph++) {
                ring g = ring_of(a, ph, i);
                uint64_t *q = prm + ph * (PHASE_BYTES / 8);
                q[0] = g.n;
                q[1] = g.p;
                q[2] = g.next;
                q[3] = g.prev;
                q[4] = g.base;
                q[5] = g.chunk;
                q[6] = g.scratch;
            }
            uint32_t img = 0, place = 0;
            st = d1s_kernel_add_image(k, D1K_COLL_PARAM, prm, PARAM_BYTES, &img);
            if (st == D1_OK)
                st = d1s_kernel_add_placement(k, node, node, prog, 0, &place);
            if (st == D1_OK)
                st = d1s_kernel_placement_add_image(k, place, img);
        }
    }
    free(keyed);
    if (st != D1_OK) {
        d1s_kernel_destroy(k);
        return st;
    }
    *out = k;
    return D1_OK;
}

/* ---- host reference: the same adds in the same order ---------------------------------------- */

/* In a ring reduce-scatter over m members, chunk c starts at member c and travels forward;
 * each receiver adds its own chunk into the arriving partial sum (dst + in). So the owner's
 * value is acc = v[c]; acc = v[c + j] + acc for j = 1 .. m - 1 (member indices mod m). Level
 * l folds the level l - 1 results of its ring the same way; the all-gathers only copy. */
typedef struct ref_ctx {
    d1k_ar_input16 in;
    void *ctx;
    int nl;
    uint32_t sz[D1K_AR_MAX_LEVELS], st[D1K_AR_MAX_LEVELS], c[D1K_AR_MAX_LEVELS];
} ref_ctx;

/* The level-l reduce-scatter result for floats f .. f + 15 on the ring whose members have
 * the digits above l given by `hi` (index part). */
static void ref_fold(const ref_ctx *r, int l, uint32_t hi, uint64_t f, float acc[16])
{
    float v[16];
    for (uint32_t j = 0; j < r->sz[l]; j++) {
        uint32_t i = hi + (r->c[l] + j) % r->sz[l] * r->st[l];
        if (l == 0)
            r->in(r->ctx, i, f, v);
        else
            ref_fold(r, l - 1, i, f, v);
        for (int q = 0; q < 16; q++)
            acc[q] = j ? v[q] + acc[q] : v[q];
    }
}

void d1k_allreduce_ref_gen(const d1k_allreduce *a, d1k_ar_input16 in, void *ctx, float *out)
{
    ref_ctx r;
    r.in = in;
    r.ctx = ctx;
    r.nl = d1k_allreduce_levels(a, r.sz, r.st);
    if (!r.nl || a->bytes % (64u * (uint64_t)a->n))
        return;
    for (uint64_t f = 0; f < a->bytes / 4; f += 16) {
        /* the chunk f lies in on every level (64-byte blocks never straddle a chunk) */
        uint64_t off = 4 * f, chunk = a->bytes;
        for (int l = 0; l < r.nl; l++) {
            chunk /= r.sz[l];
            r.c[l] = (uint32_t)(off / chunk);
            off %= chunk;
        }
        ref_fold(&r, r.nl - 1, 0, f, out + f);
    }
}

static void input_arrays(void *ctx, uint32_t i, uint64_t f, float v[16])
{
    memcpy(v, ((const float *const *)ctx)[i] + f, 16 * sizeof *v);
}

void d1k_allreduce_ref(const d1k_allreduce *a, const float *const *in, float *out)
{
    d1k_allreduce_ref_gen(a, input_arrays, (void *)in, out);
}

double d1k_allreduce_model_cyc(const d1k_allreduce *a, const double *alpha_cyc,
                               const double *beta_bytes_per_cyc, double gamma_bytes_per_cyc)
{
    uint32_t sz[D1K_AR_MAX_LEVELS], st[D1K_AR_MAX_LEVELS];
    int nl = d1k_allreduce_levels(a, sz, st);
    double c = (double)a->bytes, t = 0;
    for (int l = 0; l < nl; l++) {
        c /= sz[l];
        t += (sz[l] - 1) * (2 * alpha_cyc[l] + 2 * c / beta_bytes_per_cyc[l] +
                            c / gamma_bytes_per_cyc);
    }
    return t;
}
