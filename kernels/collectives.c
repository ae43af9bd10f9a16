/* All-reduce kernels: ring and 2-D (see collectives.h). */
#include "collectives.h"

#include "emit_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PH_RS = 0, PH_AG = 1 };
#define MAX_PHASES 4
#define PHASE_BYTES 48 /* n, p, next, prev, base, chunk: 6 x u64 */
#define DESC 0x200
#define ACKD 0x220
#define ACKSRC 0x240
#define ACKDST 0x248
#define TOKDST 0x250
#define TOKD 0x260

typedef struct ring {
    uint32_t n, p, next, prev;
    uint64_t base, chunk, scratch;
} ring;

typedef struct plan {
    int nph;
    int kind[MAX_PHASES];
    int scratch_slot[MAX_PHASES]; /* RS phases: which 2-chunk scratch area */
    int partner[MAX_PHASES];      /* RS phase: the AG phase on the same ring, and back */
} plan;

static void algo_plan(d1k_ar_algo algo, plan *pl)
{
    memset(pl, 0, sizeof *pl);
    if (algo == D1K_AR_RING) {
        pl->nph = 2;
        pl->kind[0] = PH_RS;
        pl->kind[1] = PH_AG;
        pl->partner[0] = 1;
        pl->partner[1] = 0;
    } else {
        pl->nph = 4;
        pl->kind[0] = PH_RS;
        pl->kind[1] = PH_RS;
        pl->kind[2] = PH_AG;
        pl->kind[3] = PH_AG;
        pl->scratch_slot[1] = 1;
        pl->partner[0] = 3;
        pl->partner[3] = 0;
        pl->partner[1] = 2;
        pl->partner[2] = 1;
    }
}

void d1k_allreduce_grid(uint32_t n, uint32_t *rows, uint32_t *cols)
{
    uint32_t r = 1;
    for (uint32_t d = 1; (uint64_t)d * d <= n; d++)
        if (n % d == 0)
            r = d;
    *rows = r;
    *cols = n / r;
}

static void shape(const d1k_allreduce *a, uint32_t *rows, uint32_t *cols)
{
    if (a->rows && a->cols) {
        *rows = a->rows;
        *cols = a->cols;
    } else {
        d1k_allreduce_grid(a->n, rows, cols);
    }
}

uint64_t d1k_allreduce_round_bytes(d1k_ar_algo algo, uint32_t n, uint64_t bytes)
{
    (void)algo;
    uint64_t unit = 64u * (uint64_t)(n ? n : 1);
    return bytes ? (bytes + unit - 1) / unit * unit : unit;
}

uint64_t d1k_allreduce_scratch_bytes(const d1k_allreduce *a)
{
    if (a->algo == D1K_AR_RING)
        return 2 * (a->bytes / a->n);
    uint32_t r, c;
    shape(a, &r, &c);
    return 2 * (a->bytes / c) + 2 * (a->bytes / c / r);
}

/* Ring parameters of node index i for phase k. */
static ring ring_of(const d1k_allreduce *a, int k, uint32_t i)
{
    ring g;
    uint64_t scr0 = a->scratch_addr;
    if (a->algo == D1K_AR_RING) {
        g.n = a->n;
        g.p = i;
        g.next = a->nodes[(i + 1) % a->n];
        g.prev = a->nodes[(i + a->n - 1) % a->n];
        g.base = a->buf_addr;
        g.chunk = a->bytes / a->n;
        g.scratch = scr0;
        return g;
    }
    uint32_t R, C;
    shape(a, &R, &C);
    uint32_t r = i / C, x = i % C;
    uint64_t rowc = a->bytes / C;
    if (k == 0 || k == 3) { /* along the row */
        g.n = C;
        g.p = x;
        g.next = a->nodes[r * C + (x + 1) % C];
        g.prev = a->nodes[r * C + (x + C - 1) % C];
        g.base = a->buf_addr;
        g.chunk = rowc;
        g.scratch = scr0;
    } else { /* along the column, on the row-chunk this node owns after the row phase */
        uint32_t owned = (x + 1) % C;
        g.n = R;
        g.p = r;
        g.next = a->nodes[((r + 1) % R) * C + x];
        g.prev = a->nodes[((r + R - 1) % R) * C + x];
        g.base = a->buf_addr + owned * rowc;
        g.chunk = rowc / R;
        g.scratch = scr0 + 2 * rowc;
    }
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
 * arrived, 4 + 3k slot credit (the next node consumed a step); 16 + k: the ring's next node
 * finished its reduce-scatter (all-gather phase k may write into it).
 * The network may reorder packets of different transfers, so two transfers to one receiver
 * may complete in either order: the credit keeps at most two in flight and their parity
 * tells them apart. */
static void emit_phase(d1k_em *e, int k, int kind, int partner)
{
    uint64_t prm = D1K_COLL_PARAM + (uint64_t)k * PHASE_BYTES;
    int dsem = 2 + 3 * k, asem = 4 + 3 * k, tsem = 16 + (kind == PH_RS ? partner : k);
    d1k_mem(e, D1_OP_LD, XN, 0, (int64_t)prm);
    d1k_mem(e, D1_OP_LD, XP, 0, (int64_t)prm + 8);
    d1k_mem(e, D1_OP_LD, XNEXT, 0, (int64_t)prm + 16);
    d1k_mem(e, D1_OP_LD, XPREV, 0, (int64_t)prm + 24);
    d1k_mem(e, D1_OP_LD, XBASE, 0, (int64_t)prm + 32);
    d1k_mem(e, D1_OP_LD, XC, 0, (int64_t)prm + 40);
    d1k_mem(e, D1_OP_LD, XSCR, 0, (int64_t)(D1K_COLL_PARAM + MAX_PHASES * PHASE_BYTES + 8 * k));
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
    if (a->bytes == 0 || a->bytes % (64u * (uint64_t)a->n))
        return d1_fail(D1_E_INVAL, "all-reduce of %llu bytes: must be a multiple of 64 x %u",
                       (unsigned long long)a->bytes, a->n);
    if (a->buf_addr % 64 || a->scratch_addr % 64 || a->buf_addr < 0x400 || a->scratch_addr < 0x400)
        return d1_fail(D1_E_INVAL, "all-reduce buffers must be 64-aligned and above 0x400");
    uint64_t sb = d1k_allreduce_scratch_bytes(a);
    uint64_t b0 = a->buf_addr, b1 = b0 + a->bytes, s0 = a->scratch_addr, s1 = s0 + sb;
    if (b1 > a->sram_bytes || s1 > a->sram_bytes || (b0 < s1 && s0 < b1))
        return d1_fail(D1_E_INVAL, "all-reduce buffer/scratch overlap or exceed SRAM");
    if (a->algo == D1K_AR_2D) {
        uint32_t r, c;
        shape(a, &r, &c);
        if ((uint64_t)r * c != a->n)
            return d1_fail(D1_E_INVAL, "grid %ux%u does not hold %u nodes", r, c, a->n);
    } else if (a->algo != D1K_AR_RING) {
        return d1_fail(D1_E_INVAL, "unknown all-reduce algorithm %d", (int)a->algo);
    }
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
        st = d1s_kernel_add_program(k, a->algo == D1K_AR_RING ? "allreduce_ring" : "allreduce_2d",
                                    &prog);
    if (st == D1_OK) {
        plan pl;
        algo_plan(a->algo, &pl);
        d1k_em e;
        d1k_em_init(&e, k, prog);
        for (int ph = 0; ph < pl.nph; ph++)
            emit_phase(&e, ph, pl.kind[ph], pl.partner[ph]);
        d1k_em_raw(&e, D1_OP_HALT, 0, 0, 0, 0);
        st = d1k_em_finish(&e);
        for (uint32_t j = 0; j < a->n && st == D1_OK; j++) {
            uint32_t i = (uint32_t)keyed[j], node = (uint32_t)(keyed[j] >> 32);
            uint64_t prm[32];
            memset(prm, 0, sizeof prm);
            for (int ph = 0; ph < pl.nph; ph++) {
                ring g = ring_of(a, ph, i);
                uint64_t *q = prm + ph * (PHASE_BYTES / 8);
                q[0] = g.n;
                q[1] = g.p;
                q[2] = g.next;
                q[3] = g.prev;
                q[4] = g.base;
                q[5] = g.chunk;
                prm[MAX_PHASES * PHASE_BYTES / 8 + ph] = g.scratch;
            }
            uint32_t img = 0, place = 0;
            st = d1s_kernel_add_image(k, D1K_COLL_PARAM, prm, 256, &img);
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

/* One ring phase over the ring members idx[0..m) (positions 0..m-1), on every member's vector
 * v[idx[p]] between byte offsets base .. base + m * chunk. */
static void ref_phase(float **v, const uint32_t *idx, uint32_t m, uint64_t base, uint64_t chunk,
                      int kind, float *tmp)
{
    size_t nf = (size_t)(chunk / 4);
    for (uint32_t s = 0; s + 1 < m; s++) {
        /* every member sends first (the values after its previous step), then receives */
        for (uint32_t p = 0; p < m; p++) {
            uint32_t cs = kind == PH_RS ? (p + m - s % m) % m : (p + 1 + m - s % m) % m;
            memcpy(tmp + (size_t)p * nf, (char *)v[idx[p]] + base + cs * chunk, (size_t)chunk);
        }
        for (uint32_t p = 0; p < m; p++) {
            uint32_t q = (p + m - 1) % m; /* prev */
            uint32_t cs = kind == PH_RS ? (q + m - s % m) % m : (q + 1 + m - s % m) % m;
            float *dst = (float *)((char *)v[idx[p]] + base + cs * chunk);
            const float *in = tmp + (size_t)q * nf;
            if (kind == PH_RS)
                for (size_t f = 0; f < nf; f++)
                    dst[f] = dst[f] + in[f];
            else
                memcpy(dst, in, (size_t)chunk);
        }
    }
}

void d1k_allreduce_ref(const d1k_allreduce *a, const float *const *in, float *out)
{
    size_t nf = (size_t)(a->bytes / 4);
    float **v = malloc((size_t)a->n * sizeof *v);
    float *tmp = malloc((size_t)a->n * (size_t)a->bytes);
    uint32_t *idx = malloc((size_t)a->n * sizeof *idx);
    if (!v || !tmp || !idx)
        goto done;
    for (uint32_t i = 0; i < a->n; i++) {
        v[i] = malloc((size_t)a->bytes);
        if (!v[i]) {
            for (uint32_t j = 0; j < i; j++)
                free(v[j]);
            goto done;
        }
        memcpy(v[i], in[i], (size_t)a->bytes);
    }
    if (a->algo == D1K_AR_RING) {
        for (uint32_t i = 0; i < a->n; i++)
            idx[i] = i;
        ref_phase(v, idx, a->n, 0, a->bytes / a->n, PH_RS, tmp);
        ref_phase(v, idx, a->n, 0, a->bytes / a->n, PH_AG, tmp);
    } else {
        uint32_t R, C;
        shape(a, &R, &C);
        uint64_t rowc = a->bytes / C;
        for (uint32_t r = 0; r < R; r++) {
            for (uint32_t x = 0; x < C; x++)
                idx[x] = r * C + x;
            ref_phase(v, idx, C, 0, rowc, PH_RS, tmp);
        }
        for (int kind = PH_RS; kind <= PH_AG; kind++)
            for (uint32_t x = 0; x < C; x++) {
                for (uint32_t r = 0; r < R; r++)
                    idx[r] = r * C + x;
                ref_phase(v, idx, R, ((x + 1) % C) * rowc, rowc / R, kind, tmp);
            }
        for (uint32_t r = 0; r < R; r++) {
            for (uint32_t x = 0; x < C; x++)
                idx[x] = r * C + x;
            ref_phase(v, idx, C, 0, rowc, PH_AG, tmp);
        }
    }
    memcpy(out, v[0], nf * sizeof *out);
    for (uint32_t i = 0; i < a->n; i++)
        free(v[i]);
done:
    free(v);
    free(tmp);
    free(idx);
}

double d1k_allreduce_model_cyc(d1k_ar_algo algo, uint32_t n, uint32_t rows, uint32_t cols,
                               uint64_t bytes, double alpha_cyc, double beta_bytes_per_cyc,
                               double gamma_bytes_per_cyc)
{
    double B = (double)bytes;
    if (algo == D1K_AR_RING) {
        double c = B / n;
        return (n - 1) * (2 * alpha_cyc + 2 * c / beta_bytes_per_cyc + c / gamma_bytes_per_cyc);
    }
    double c1 = B / cols, c2 = c1 / rows;
    double row =
        (cols - 1) * (2 * alpha_cyc + 2 * c1 / beta_bytes_per_cyc + c1 / gamma_bytes_per_cyc);
    double col =
        (rows - 1) * (2 * alpha_cyc + 2 * c2 / beta_bytes_per_cyc + c2 / gamma_bytes_per_cyc);
    return row + col;
}
