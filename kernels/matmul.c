/* Matmul kernel: host staging, plain C reference, and the per-node program (see matmul.h).
 *
 * Semaphores (per node; D = plan slots, T = compute threads, lane t = thread t + 1):
 *   AFULL[s] = s, BFULL[s] = D + s     chunk arrivals in receive slot s (upstream's PUTs)
 *   AREADY[t] = 2D + t, BREADY[t]       panel usable by lane t (one post per panel)
 *   ADONE[t] = 2D + 2T + t, BDONE[t]    lane t is done with a panel (one post per panel)
 *   CREDA = 2D + 4T, CREDB              downstream released a panel (one credit per panel)
 *   AFWD, BFWD                          a forward of this node has left (DMA completion)
 *   HBMA[q&1], HBMB[q&1]                HBM staging: owned panel q has arrived from HBM
 * (sem_* below; plan.c's sems_fixed counts them.) */
#include "matmul.h"

#include "emit_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* SRAM scratch of the DMA thread (HBM staging): next A/B fetch (SRAM destination, HBM
 * source) and the node's DIP index. */
enum { SC_AFETCH = 96, SC_BFETCH = 112, SC_DIP = 160 };

/* ---- operands ------------------------------------------------------------------------ */

static uint32_t raw_elem(const d1k_operand *x, size_t idx)
{
    switch (d1_dtype_size(x->dtype)) {
    case 1: return ((const uint8_t *)x->p)[idx];
    case 2: {
        uint16_t v;
        memcpy(&v, (const uint8_t *)x->p + 2 * idx, 2);
        return v;
    }
    default: {
        uint32_t v;
        memcpy(&v, (const uint8_t *)x->p + 4 * idx, 4);
        return v;
    }
    }
}

uint32_t d1k_operand_code(const d1k_operand *x, int64_t row, int64_t col, bool cfp8)
{
    size_t idx = x->trans ? (size_t)col * x->ld + (size_t)row : (size_t)row * x->ld + (size_t)col;
    uint32_t raw = raw_elem(x, idx);
    if (cfp8 || x->dtype == D1_BF16)
        return raw;
    /* CFP8 into a BF16 kernel: exact (3 or 2 mantissa bits, exponents within BF16 range) */
    return d1_bf16_from_f32(d1_fmt_decode(x->dtype, raw, x->bias));
}

static void put_code(uint8_t *dst, uint32_t code, int esz)
{
    if (esz == 1)
        dst[0] = (uint8_t)code;
    else {
        uint16_t v = (uint16_t)code;
        memcpy(dst, &v, 2);
    }
}

void d1k_matmul_launch_block(const d1k_plan *p, uint8_t out[64])
{
    memset(out, 0, 64);
    uint64_t seed = p->op.seed;
    uint64_t mfmt = 0;
    if (p->cfp8) {
        mfmt = (uint64_t)(p->op.a_bias & 63) | (p->op.a_dtype == D1_CFP8_152 ? 64u : 0u);
        mfmt |= ((uint64_t)(p->op.b_bias & 63) | (p->op.b_dtype == D1_CFP8_152 ? 64u : 0u)) << 8;
    }
    memcpy(out, &seed, 8);
    memcpy(out + 8, &mfmt, 8);
}

/* Build A panel q of row block r into buf (rp * ks * 128 bytes). */
static void pack_a(const d1k_plan *p, const d1k_operand *a, int r, int q, uint8_t *buf)
{
    int esz = p->cfp8 ? 1 : 2;
    int64_t ks = d1k_plan_panel_ksteps(p, q);
    uint32_t negz = p->cfp8 ? 0x80u : 0x8000u;
    memset(buf, 0, (size_t)(p->rp * ks * 128));
    for (int64_t rp = 0; rp < p->rp; rp++)
        for (int64_t s = 0; s < ks; s++)
            for (int t = 0; t < 2; t++) {
                uint8_t *tile = buf + ((rp * ks + s) * 2 + t) * 64;
                for (int row = 0; row < 8; row++) {
                    int64_t i = r * p->mb + rp * 16 + t * 8 + row;
                    if (i >= p->op.M)
                        continue;
                    for (int kk = 0; kk < 4; kk++) {
                        int64_t k = (int64_t)q * p->kb + s * 4 + kk;
                        uint32_t code = k < p->op.K ? d1k_operand_code(a, i, k, p->cfp8) : negz;
                        put_code(tile + (row * 4 + kk) * esz, code, esz);
                    }
                }
            }
}

/* Build B panel q of column block c into buf (cq * ks * 256 bytes). */
static void pack_b(const d1k_plan *p, const d1k_operand *b, int c, int q, uint8_t *buf)
{
    int esz = p->cfp8 ? 1 : 2;
    int64_t ks = d1k_plan_panel_ksteps(p, q);
    memset(buf, 0, (size_t)(p->cq * ks * 256));
    for (int64_t cq = 0; cq < p->cq; cq++)
        for (int64_t s = 0; s < ks; s++)
            for (int t = 0; t < 4; t++) {
                uint8_t *tile = buf + ((cq * ks + s) * 4 + t) * 64;
                for (int kk = 0; kk < 4; kk++) {
                    int64_t k = (int64_t)q * p->kb + s * 4 + kk;
                    if (k >= p->op.K)
                        continue; /* +0 */
                    for (int col = 0; col < 8; col++) {
                        int64_t j = c * p->nb + cq * 32 + t * 8 + col;
                        if (j < p->op.N)
                            put_code(tile + (kk * 8 + col) * esz,
                                     d1k_operand_code(b, k, j, p->cfp8), esz);
                    }
                }
            }
}

/* Offset of C element (row, col) of a node block in the block-major tile layout, in
 * elements. */
static size_t c_off(const d1k_plan *p, int64_t row, int64_t col)
{
    int64_t rp = row / 16, rt = (row / 8) % 2, r8 = row % 8;
    int64_t cq = col / 32, ct = (col / 8) % 4, c8 = col % 8;
    return (size_t)((((rp * p->cq + cq) * 8 + rt * 4 + ct) * 64) + r8 * 8 + c8);
}

/* A resident panel at SRAM address addr of node id: there, or (hbm staging) at the same
 * offset of the node's HBM region. */
static d1_status put_panel(const d1k_plan *p, const d1k_sram_io *io, const d1k_hbm_io *hbm,
                           uint32_t id, uint64_t addr, const void *buf, size_t len)
{
    if (!p->hbm)
        return io->write(io->ctx, id, addr, buf, len);
    if (!hbm)
        return d1_fail(D1_E_INVAL, "matmul stage: HBM staging without HBM access");
    uint64_t h = p->hbm_base + (uint64_t)(id / (uint32_t)p->ndips) * p->hbm_region +
                 (addr - p->map.ares);
    return hbm->write(hbm->ctx, id % (uint32_t)p->ndips, h, buf, len);
}

static d1_status get_panel(const d1k_plan *p, const d1k_sram_io *io, const d1k_hbm_io *hbm,
                           uint32_t id, uint64_t addr, void *buf, size_t len)
{
    if (!p->hbm)
        return io->read(io->ctx, id, addr, buf, len);
    if (!hbm)
        return d1_fail(D1_E_INVAL, "matmul ref: HBM staging without HBM access");
    uint64_t h = p->hbm_base + (uint64_t)(id / (uint32_t)p->ndips) * p->hbm_region +
                 (addr - p->map.ares);
    return hbm->read(hbm->ctx, id % (uint32_t)p->ndips, h, buf, len);
}

d1_status d1k_matmul_stage(const d1k_plan *p, const d1k_operand *a, const d1k_operand *b,
                           const void *c, size_t ldc, const d1k_sram_io *io,
                           const d1k_hbm_io *hbm)
{
    size_t maxpanel = p->apanel_bytes > p->bpanel_bytes ? p->apanel_bytes : p->bpanel_bytes;
    size_t cb = p->op.c_dtype == D1_BF16 ? p->cout_bytes : p->cbuf_bytes;
    uint8_t *buf = malloc(maxpanel > cb ? maxpanel : cb);
    if (!buf)
        return d1_fail(D1_E_NOMEM, "matmul stage: out of memory");
    d1_status st = D1_OK;
    uint8_t launch[64];
    d1k_matmul_launch_block(p, launch);
    for (uint32_t rank = 0; rank < p->nodes && st == D1_OK; rank++) {
        int r = (int)(rank / (uint32_t)p->pc), cc = (int)(rank % (uint32_t)p->pc);
        uint32_t id = d1k_plan_node_id(p, r, cc);
        st = io->write(io->ctx, id, p->map.launch, launch, 64);
        for (int q = cc; q < p->npanels && st == D1_OK; q += p->pc) {
            pack_a(p, a, r, q, buf);
            st = put_panel(p, io, hbm, id, p->map.ares + (uint64_t)(q / p->pc) * p->apanel_bytes, buf,
                           (size_t)(p->rp * d1k_plan_panel_ksteps(p, q) * 128));
        }
        for (int q = r; q < p->npanels && st == D1_OK; q += p->pr) {
            pack_b(p, b, cc, q, buf);
            st = put_panel(p, io, hbm, id, p->map.bres + (uint64_t)(q / p->pr) * p->bpanel_bytes, buf,
                           (size_t)(p->cq * d1k_plan_panel_ksteps(p, q) * 256));
        }
        if (p->op.accumulate && c && st == D1_OK) {
            int64_t i0, mi, j0, nj;
            d1k_plan_node_block(p, rank, &i0, &mi, &j0, &nj);
            memset(buf, 0, cb);
            bool bf = p->op.c_dtype == D1_BF16;
            for (int64_t i = 0; i < mi; i++)
                for (int64_t j = 0; j < nj; j++) {
                    size_t src = (size_t)(i0 + i) * ldc + (size_t)(j0 + j), o = c_off(p, i, j);
                    if (bf)
                        memcpy(buf + 2 * o, (const uint8_t *)c + 2 * src, 2);
                    else
                        memcpy(buf + 4 * o, (const uint8_t *)c + 4 * src, 4);
                }
            st = io->write(io->ctx, id, bf ? p->map.cout : p->map.cbuf, buf, cb);
        }
    }
    free(buf);
    return st;
}

d1_status d1k_matmul_unstage(const d1k_plan *p, void *c, size_t ldc, const d1k_sram_io *io)
{
    bool bf = p->op.c_dtype == D1_BF16;
    size_t cb = bf ? p->cout_bytes : p->cbuf_bytes;
    uint8_t *buf = malloc(cb);
    if (!buf)
        return d1_fail(D1_E_NOMEM, "matmul unstage: out of memory");
    d1_status st = D1_OK;
    for (uint32_t rank = 0; rank < p->nodes && st == D1_OK; rank++) {
        int64_t i0, mi, j0, nj;
        d1k_plan_node_block(p, rank, &i0, &mi, &j0, &nj);
        if (!mi || !nj)
            continue;
        uint32_t id = d1k_plan_node_id(p, (int)(rank / (uint32_t)p->pc), (int)(rank % (uint32_t)p->pc));
        st = io->read(io->ctx, id, bf ? p->map.cout : p->map.cbuf, buf, cb);
        for (int64_t i = 0; i < mi && st == D1_OK; i++)
            for (int64_t j = 0; j < nj; j++) {
                size_t dst = (size_t)(i0 + i) * ldc + (size_t)(j0 + j), o = c_off(p, i, j);
                if (bf)
                    memcpy((uint8_t *)c + 2 * dst, buf + 2 * o, 2);
                else
                    memcpy((uint8_t *)c + 4 * dst, buf + 4 * o, 4);
            }
    }
    free(buf);
    return st;
}

/* ---- reference ----------------------------------------------------------------------- */

static float dec(const d1k_plan *p, const uint8_t *tile, int idx, bool is_a)
{
    if (p->cfp8)
        return d1_fmt_decode(is_a ? p->op.a_dtype : p->op.b_dtype, tile[idx],
                             is_a ? p->op.a_bias : p->op.b_bias);
    uint16_t v;
    memcpy(&v, tile + 2 * idx, 2);
    return d1_bf16_to_f32(v);
}

d1_status d1k_matmul_ref(const d1k_plan *p, const d1k_sram_io *io, const d1k_hbm_io *hbm)
{
    bool bf = p->op.c_dtype == D1_BF16;
    size_t nelem = (size_t)(p->rp * p->cq * 512);
    float *acc = malloc(nelem * sizeof *acc);
    uint8_t *pa = malloc(p->apanel_bytes), *pb = malloc(p->bpanel_bytes);
    uint16_t *cbf = malloc(nelem * sizeof *cbf);
    d1_status st = D1_OK;
    if (!acc || !pa || !pb || !cbf) {
        st = d1_fail(D1_E_NOMEM, "matmul ref: out of memory");
        goto done;
    }
    for (uint32_t rank = 0; rank < p->nodes && st == D1_OK; rank++) {
        int r = (int)(rank / (uint32_t)p->pc), c = (int)(rank % (uint32_t)p->pc);
        uint32_t id = d1k_plan_node_id(p, r, c);
        if (!p->op.accumulate)
            memset(acc, 0, nelem * sizeof *acc);
        else if (!bf)
            st = io->read(io->ctx, id, p->map.cbuf, acc, nelem * sizeof *acc);
        else {
            st = io->read(io->ctx, id, p->map.cout, cbf, nelem * sizeof *cbf);
            for (size_t e = 0; e < nelem; e++)
                acc[e] = d1_bf16_to_f32(cbf[e]);
        }
        for (int q = 0; q < p->npanels && st == D1_OK; q++) {
            int sa, sb;
            uint32_t oa = d1k_plan_a_owner(p, r, q, &sa), ob = d1k_plan_b_owner(p, c, q, &sb);
            int64_t ks = d1k_plan_panel_ksteps(p, q);
            st = get_panel(p, io, hbm, oa, p->map.ares + (uint64_t)sa * p->apanel_bytes, pa,
                           (size_t)(p->rp * ks * 128));
            if (st == D1_OK)
                st = get_panel(p, io, hbm, ob, p->map.bres + (uint64_t)sb * p->bpanel_bytes, pb,
                               (size_t)(p->cq * ks * 256));
            for (int64_t rp = 0; rp < p->rp && st == D1_OK; rp++)
                for (int64_t cq = 0; cq < p->cq; cq++)
                    for (int m = 0; m < 8; m++) {
                        int rt = m / 4, ct = m % 4;
                        float *t = acc + ((rp * p->cq + cq) * 8 + m) * 64;
                        for (int64_t s = 0; s < ks; s++) {
                            const uint8_t *at = pa + ((rp * ks + s) * 2 + rt) * 64;
                            const uint8_t *bt = pb + ((cq * ks + s) * 4 + ct) * 64;
                            for (int i = 0; i < 8; i++)
                                for (int j = 0; j < 8; j++) {
                                    float x = t[i * 8 + j];
                                    for (int kk = 0; kk < 4; kk++)
                                        x = fmaf(dec(p, at, i * 4 + kk, true),
                                                 dec(p, bt, kk * 8 + j, false), x);
                                    t[i * 8 + j] = x;
                                }
                        }
                    }
        }
        if (st != D1_OK)
            break;
        if (!bf) {
            st = io->write(io->ctx, id, p->map.cbuf, acc, nelem * sizeof *acc);
            continue;
        }
        int64_t i0, mi, j0, nj;
        d1k_plan_node_block(p, rank, &i0, &mi, &j0, &nj);
        for (int64_t i = 0; i < p->rp * 16; i++)
            for (int64_t j = 0; j < p->cq * 32; j++) {
                size_t o = c_off(p, i, j);
                uint64_t idx = (uint64_t)(i0 + i) * (uint64_t)p->op.N + (uint64_t)(j0 + j);
                uint32_t rb = p->op.round == D1_ROUND_STOCHASTIC ? d1_sr_bits(p->op.seed, idx) : 0;
                cbf[o] = (uint16_t)d1_fmt_encode(D1_BF16, acc[o], 0, p->op.round, rb, NULL);
            }
        st = io->write(io->ctx, id, p->map.cout, cbf, nelem * sizeof *cbf);
    }
done:
    free(acc);
    free(pa);
    free(pb);
    free(cbf);
    return st;
}

/* ---- program ---------------------------------------------------------------------------- */

enum { X0 = 0 };

/* x2 = r, x3 = c from CSR nid (x1 = nid): chip k = nid / per_chip, local = nid - k*per_chip,
 * r = (k / cc)*lr + local / lc, c = (k mod cc)*lc + local mod lc. Clobbers x28-x31. */
static void emit_rc(d1k_em *e, const d1k_plan *p)
{
    d1k_csrr(e, 1, D1_CSR_NID);
    if (p->cr * p->cc > 1) {
        d1k_li(e, 28, (int64_t)p->magic_chip);
        d1k_r(e, D1_OP_MUL, 28, 1, 28);
        d1k_i(e, D1_OP_SRLI, 28, 28, 32);
        d1k_li(e, 29, p->per_chip);
        d1k_r(e, D1_OP_MUL, 29, 28, 29);
        d1k_r(e, D1_OP_SUB, 29, 1, 29);
        d1k_li(e, 30, (int64_t)p->magic_cc);
        d1k_r(e, D1_OP_MUL, 30, 28, 30);
        d1k_i(e, D1_OP_SRLI, 30, 30, 32);
        d1k_li(e, 31, p->cc);
        d1k_r(e, D1_OP_MUL, 31, 30, 31);
        d1k_r(e, D1_OP_SUB, 28, 28, 31);
    } else {
        d1k_i(e, D1_OP_ADDI, 29, 1, 0);
        d1k_i(e, D1_OP_ADDI, 30, X0, 0);
        d1k_i(e, D1_OP_ADDI, 28, X0, 0);
    }
    d1k_li(e, 2, (int64_t)p->magic_lc);
    d1k_r(e, D1_OP_MUL, 2, 29, 2);
    d1k_i(e, D1_OP_SRLI, 2, 2, 32);
    d1k_li(e, 31, p->lc);
    d1k_r(e, D1_OP_MUL, 31, 2, 31);
    d1k_r(e, D1_OP_SUB, 3, 29, 31);
    d1k_li(e, 31, p->lr);
    d1k_r(e, D1_OP_MUL, 31, 30, 31);
    d1k_r(e, D1_OP_ADD, 2, 2, 31);
    d1k_li(e, 31, p->lc);
    d1k_r(e, D1_OP_MUL, 31, 28, 31);
    d1k_r(e, D1_OP_ADD, 3, 3, 31);
}

/* rd = node id of grid node (x_rr, x_rc) (d1k_plan_node_id). Clobbers x24, x25, x28, x29,
 * x31; rd may be rr or rc. */
static void emit_node_id(d1k_em *e, const d1k_plan *p, int rd, int rr, int rc)
{
    d1k_li(e, 24, (int64_t)p->magic_lr);
    d1k_r(e, D1_OP_MUL, 24, rr, 24);
    d1k_i(e, D1_OP_SRLI, 24, 24, 32);
    d1k_li(e, 31, p->lr);
    d1k_r(e, D1_OP_MUL, 31, 24, 31);
    d1k_r(e, D1_OP_SUB, 25, rr, 31);
    d1k_li(e, 28, (int64_t)p->magic_lc);
    d1k_r(e, D1_OP_MUL, 28, rc, 28);
    d1k_i(e, D1_OP_SRLI, 28, 28, 32);
    d1k_li(e, 31, p->lc);
    d1k_r(e, D1_OP_MUL, 31, 28, 31);
    d1k_r(e, D1_OP_SUB, 29, rc, 31);
    d1k_li(e, 31, p->cc);
    d1k_r(e, D1_OP_MUL, 24, 24, 31);
    d1k_r(e, D1_OP_ADD, 24, 24, 28);
    d1k_li(e, 31, p->per_chip);
    d1k_r(e, D1_OP_MUL, 24, 24, 31);
    d1k_li(e, 31, p->lc);
    d1k_r(e, D1_OP_MUL, 25, 25, 31);
    d1k_r(e, D1_OP_ADD, 25, 25, 29);
    d1k_r(e, D1_OP_ADD, rd, 24, 25);
}

/* rd = (ra == rb) ? 0 : 1 */
static void emit_ne(d1k_em *e, int rd, int ra, int rb)
{
    d1k_r(e, D1_OP_XOR, rd, ra, rb);
    d1k_r(e, D1_OP_SLTU, rd, X0, rd);
}

/* Increment ctr modulo n (n in no register: immediate compare through tmp). */
static void emit_inc_mod(d1k_em *e, int ctr, int64_t n, int tmp)
{
    d1k_i(e, D1_OP_ADDI, ctr, ctr, 1);
    d1k_li(e, tmp, n);
    int l = d1k_label(e);
    d1k_branch(e, D1_OP_BNE, ctr, tmp, l);
    d1k_i(e, D1_OP_ADDI, ctr, X0, 0);
    d1k_bind(e, l);
}

/* DMA descriptor at x14: word0 in w0, node in nd, local in lo, remote in re; then dma. */
static void emit_dma(d1k_em *e, int w0, int nd, int lo, int re)
{
    d1k_mem(e, D1_OP_SD, w0, 14, 0);
    d1k_mem(e, D1_OP_SD, nd, 14, 8);
    d1k_mem(e, D1_OP_SD, lo, 14, 16);
    d1k_mem(e, D1_OP_SD, re, 14, 24);
    d1k_em_raw(e, D1_OP_DMA, 0, 14, 0, 0);
}

static int64_t desc_w0(int sem_local, int sem_remote)
{
    return (int64_t)(D1_DMA_PUT | (unsigned)sem_local << 8 | (unsigned)sem_remote << 16);
}

/* Semaphore numbers of a plan (D = slots, T = cthreads; lanes t = 0..T-1 are compute
 * threads 1..T): AFULL[s] = s, BFULL[s] = D + s, AREADY[t] = 2D + t, BREADY[t] = 2D + T + t,
 * ADONE[t] = 2D + 2T + t, BDONE[t] = 2D + 3T + t, then CREDA, CREDB, AFWD, BFWD, HBMA[2],
 * HBMB[2]. Counting semaphores are consumed in panel order by one thread each (a lane's
 * READY/DONE, a ring's credits), so only the chunk arrivals need one per slot. */
static int sem_full(const d1k_plan *p, int isb, int s) { return isb * p->slots + s; }
static int sem_ready(const d1k_plan *p, int isb, int t) { return 2 * p->slots + isb * p->cthreads + t; }
static int sem_done(const d1k_plan *p, int isb, int t) { return 2 * p->slots + (2 + isb) * p->cthreads + t; }
static int sem_cred(const d1k_plan *p, int isb) { return 2 * p->slots + 4 * p->cthreads + isb; }
static int sem_fwd(const d1k_plan *p, int isb) { return 2 * p->slots + 4 * p->cthreads + 2 + isb; }
static int sem_hbm(const d1k_plan *p, int isb, int par) { return 2 * p->slots + 4 * p->cthreads + 4 + 2 * isb + par; }

/* DMA thread registers: x1 B chunk offset, x2 r, x3 c, x4 R, x5 L, x6 D, x7 U, x8 p, x9 P-1,
 * x10 p mod pc, x11 p mod pr, x12 ares ptr, x13 bres ptr, x14 desc, x15 A chunk offset,
 * x16 lenA, x17 lenB, x18 notownA, x19 fwdA, x20 notownB, x21 fwdB, x22 (p-D) mod pc,
 * x23 (p-D) mod pr, x26 (c+1) mod pc, x27 (r+1) mod pr, x28..x31 temporaries.
 *
 * A DMA thread serves the operands in `ops` (bit 0 A, bit 1 B): thread 0 the A ring (and
 * the B ring when the node has no thread to spare), thread cthreads+1 the B ring. Per panel
 * p (slot s = p mod D): release panel p-D (wait until every compute thread is done with it
 * and this node's forwards of it have left, then send a credit upstream), wait for a credit
 * from downstream (its slot s is free: it released panel p-D), then chunk by chunk wait for
 * the panel (unless owned) and forward it (unless the next node owns it), and post READY to
 * every compute thread. A credit is sent and consumed for every panel, owned or not, so the
 * counts match panel for panel. Deadlock freedom: every wait of panel p depends on panel p
 * at a node nearer its owner (the chain ends before the owner), or on panels < p.
 *
 * A panel moves in chunks (p->chunk_a / chunk_b bytes): a node forwards chunk j as soon as
 * it has arrived, so the first panel fills a ring of n nodes in about n chunk times plus
 * one panel time instead of n panel times; with D slots a panel can cross its chain up to
 * D - 1 panel steps before the compute threads need it. */
static void emit_fetches(d1k_em *e, const d1k_plan *p, int ops, int ahead, int parity);
static void emit_hbm_wait(d1k_em *e, const d1k_plan *p, int isb, int s);

static int ring_of(const d1k_plan *p, int isb) { return isb ? p->pr : p->pc; }

static void emit_comm_flags(d1k_em *e, const d1k_plan *p, int isb)
{
    int own = isb ? 11 : 10, me = isb ? 2 : 3, nxt = isb ? 27 : 26;
    int notown = isb ? 20 : 18, fw = isb ? 21 : 19;
    if (ring_of(p, isb) == 1) {
        d1k_i(e, D1_OP_ADDI, notown, X0, 0);
        d1k_i(e, D1_OP_ADDI, fw, X0, 0);
        return;
    }
    emit_ne(e, notown, own, me);
    emit_ne(e, fw, nxt, own);
}

/* One chunk of the A (isb 0) or B panel of slot s: wait for it, forward it. */
static void emit_comm_chunk(d1k_em *e, const d1k_plan *p, int s, int isb)
{
    if (ring_of(p, isb) == 1)
        return;
    int full = sem_full(p, isb, s), fwd = sem_fwd(p, isb);
    int notown = isb ? 20 : 18, fw = isb ? 21 : 19, len = isb ? 17 : 16, res = isb ? 13 : 12;
    int off = isb ? 1 : 15, peer = isb ? 6 : 4;
    uint64_t slot = isb ? p->map.bbuf[s] : p->map.abuf[s];
    int64_t chunk = (int64_t)(isb ? p->chunk_b : p->chunk_a);
    int skip = d1k_label(e), l1 = d1k_label(e), l3 = d1k_label(e), l4 = d1k_label(e);
    d1k_r(e, D1_OP_SUB, 28, len, off);
    d1k_branch(e, D1_OP_BGE, X0, 28, skip); /* nothing left of a short panel */
    d1k_li(e, 29, chunk);
    d1k_r(e, D1_OP_MIN, 28, 28, 29);
    d1k_branch(e, D1_OP_BEQ, notown, X0, l1);
    d1k_sem(e, D1_OP_SWAIT, full, 1);
    d1k_bind(e, l1);
    d1k_branch(e, D1_OP_BEQ, fw, X0, skip);
    d1k_i(e, D1_OP_SLLI, 29, 28, 32);
    d1k_li(e, 30, desc_w0(fwd, full));
    d1k_r(e, D1_OP_OR, 29, 29, 30);
    d1k_li(e, 31, (int64_t)slot);
    d1k_r(e, D1_OP_ADD, 31, 31, off);
    d1k_branch(e, D1_OP_BNE, notown, X0, l3);
    d1k_r(e, D1_OP_ADD, 30, res, off);
    d1k_jump(e, l4);
    d1k_bind(e, l3);
    d1k_i(e, D1_OP_ADDI, 30, 31, 0);
    d1k_bind(e, l4);
    emit_dma(e, 29, peer, 30, 31);
    d1k_bind(e, skip);
}

/* After the chunks: tell every compute thread, advance the resident pointer. */
static void emit_comm_done(d1k_em *e, const d1k_plan *p, int isb)
{
    int notown = isb ? 20 : 18, res = isb ? 13 : 12;
    uint64_t pbytes = isb ? p->bpanel_bytes : p->apanel_bytes;
    for (int t = 0; t < p->cthreads; t++)
        d1k_sem(e, D1_OP_SPOST, sem_ready(p, isb, t), 1);
    if (ring_of(p, isb) == 1)
        return;
    int l = d1k_label(e);
    d1k_branch(e, D1_OP_BNE, notown, X0, l);
    d1k_addi_any(e, res, res, (int64_t)pbytes, 31);
    d1k_bind(e, l);
}

/* Release panel q = p - D (x22/x23 = q mod pc/pr): every compute thread done with it, this
 * node's forwards of it gone, then a credit upstream. */
static void emit_comm_release(d1k_em *e, const d1k_plan *p, int isb)
{
    if (ring_of(p, isb) == 1)
        return;
    int qm = isb ? 23 : 22, nxt = isb ? 27 : 26, up = isb ? 7 : 5;
    for (int t = 0; t < p->cthreads; t++)
        d1k_sem(e, D1_OP_SWAIT, sem_done(p, isb, t), 1);
    /* chunks of a full panel (a released panel is never the last one) */
    uint64_t pb = isb ? p->bpanel_bytes : p->apanel_bytes, ch = isb ? p->chunk_b : p->chunk_a;
    int nch = (int)((pb + ch - 1) / ch);
    int l1 = d1k_label(e);
    emit_ne(e, 28, nxt, qm); /* forwarded q: the next node does not own it */
    d1k_branch(e, D1_OP_BEQ, 28, X0, l1);
    d1k_sem(e, D1_OP_SWAIT, sem_fwd(p, isb), nch);
    d1k_bind(e, l1);
    d1k_li(e, 29, desc_w0(D1_DMA_NO_SEM, sem_cred(p, isb)) | (INT64_C(8) << 32));
    d1k_li(e, 28, (int64_t)p->map.dummy);
    emit_dma(e, 29, up, 28, 28);
}

static void emit_comm_panel(d1k_em *e, const d1k_plan *p, int ops, int s)
{
    int lrel = d1k_label(e);
    d1k_li(e, 31, p->slots);
    d1k_branch(e, D1_OP_BLT, 8, 31, lrel);
    for (int isb = 0; isb < 2; isb++)
        if (ops & (1 << isb))
            emit_comm_release(e, p, isb);
    d1k_bind(e, lrel);
    for (int isb = 0; isb < 2; isb++)
        if (ops & (1 << isb))
            emit_comm_flags(e, p, isb);
    if (p->hbm) {
        if ((ops & 1) && p->pc == 1)
            d1k_i(e, D1_OP_ADDI, 18, X0, 0); /* flags say "own" */
        if ((ops & 2) && p->pr == 1)
            d1k_i(e, D1_OP_ADDI, 20, X0, 0);
        emit_fetches(e, p, ops, 2, s & 1); /* panel p+2 has the parity of p */
        for (int isb = 0; isb < 2; isb++)
            if (ops & (1 << isb))
                emit_hbm_wait(e, p, isb, s & 1);
    }
    int lead = -1; /* the operand whose offset drives the chunk loop */
    for (int isb = 0; isb < 2; isb++)
        if ((ops & (1 << isb)) && ring_of(p, isb) > 1) {
            d1k_sem(e, D1_OP_SWAIT, sem_cred(p, isb), 1); /* downstream slot s is free */
            if (lead < 0)
                lead = isb;
        }
    if (lead >= 0) {
        int top = d1k_label(e);
        d1k_i(e, D1_OP_ADDI, 15, X0, 0);
        d1k_i(e, D1_OP_ADDI, 1, X0, 0);
        d1k_bind(e, top);
        for (int isb = 0; isb < 2; isb++)
            if (ops & (1 << isb))
                emit_comm_chunk(e, p, s, isb);
        d1k_addi_any(e, 15, 15, (int64_t)p->chunk_a, 31);
        d1k_addi_any(e, 1, 1, (int64_t)p->chunk_b, 31);
        uint64_t ch = lead ? p->chunk_b : p->chunk_a;
        d1k_li(e, 31, (int64_t)(ch * (uint64_t)p->chunks));
        d1k_branch(e, D1_OP_BLT, lead ? 1 : 15, 31, top);
    }
    for (int isb = 0; isb < 2; isb++)
        if (ops & (1 << isb))
            emit_comm_done(e, p, isb);
}

/* HBM staging: if panel q (in x28) is owned (q mod ring == me), read it from HBM into its
 * resident slot, posting HBMA/HBMB[q & 1] (parity known at emit time). Clobbers x28-x31. */
static void emit_fetch(d1k_em *e, const d1k_plan *p, int isb, int parity)
{
    int ring = isb ? p->pr : p->pc, me = isb ? 2 : 3;
    uint64_t magic = isb ? p->magic_pr : p->magic;
    uint64_t full = isb ? p->bpanel_bytes : p->apanel_bytes;
    uint64_t last = isb ? (uint64_t)(p->cq * (p->kb_last / 4) * 256)
                        : (uint64_t)(p->rp * (p->kb_last / 4) * 128);
    int sc = isb ? SC_BFETCH : SC_AFETCH;
    int skip = d1k_label(e), l = d1k_label(e);
    d1k_branch(e, D1_OP_BLT, 9, 28, skip); /* q > P-1 */
    d1k_li(e, 30, (int64_t)magic);
    d1k_r(e, D1_OP_MUL, 29, 28, 30);
    d1k_i(e, D1_OP_SRLI, 29, 29, 32);
    d1k_li(e, 30, ring);
    d1k_r(e, D1_OP_MUL, 29, 29, 30);
    d1k_r(e, D1_OP_SUB, 29, 28, 29);
    d1k_branch(e, D1_OP_BNE, 29, me, skip);
    d1k_li(e, 31, (int64_t)full);
    d1k_branch(e, D1_OP_BNE, 28, 9, l);
    d1k_li(e, 31, (int64_t)last);
    d1k_bind(e, l);
    d1k_i(e, D1_OP_SLLI, 31, 31, 32);
    d1k_li(e, 29, (int64_t)(D1_DMA_HBM_RD | (unsigned)sem_hbm(p, isb, parity) << 8 |
                            D1_DMA_NO_SEM << 16));
    d1k_r(e, D1_OP_OR, 31, 31, 29);
    d1k_mem(e, D1_OP_LD, 29, X0, sc);
    d1k_mem(e, D1_OP_LD, 30, X0, sc + 8);
    d1k_mem(e, D1_OP_LD, 28, X0, SC_DIP);
    emit_dma(e, 31, 28, 29, 30);
    d1k_addi_any(e, 29, 29, (int64_t)full, 31);
    d1k_addi_any(e, 30, 30, (int64_t)full, 31);
    d1k_mem(e, D1_OP_SD, 29, X0, sc);
    d1k_mem(e, D1_OP_SD, 30, X0, sc + 8);
    d1k_bind(e, skip);
}

/* Fetches of panel x8 + ahead (ahead 0/1 in the prologue, 2 in the loop). */
static void emit_fetches(d1k_em *e, const d1k_plan *p, int ops, int ahead, int parity)
{
    for (int isb = 0; isb < 2; isb++) {
        if (!(ops & (1 << isb)))
            continue;
        d1k_i(e, D1_OP_ADDI, 28, 8, ahead);
        emit_fetch(e, p, isb, parity);
    }
}

/* Before using an owned panel of parity s: wait for its HBM read. */
static void emit_hbm_wait(d1k_em *e, const d1k_plan *p, int isb, int s)
{
    int notown = isb ? 20 : 18;
    int l = d1k_label(e);
    d1k_branch(e, D1_OP_BNE, notown, X0, l);
    d1k_sem(e, D1_OP_SWAIT, sem_hbm(p, isb, s), 1);
    d1k_bind(e, l);
}

static void emit_panel_len(d1k_em *e, const d1k_plan *p)
{
    /* x16/x17 = bytes of panel x8 (the last one is shorter) */
    int l = d1k_label(e), d = d1k_label(e);
    d1k_branch(e, D1_OP_BEQ, 8, 9, l);
    d1k_li(e, 16, (int64_t)p->apanel_bytes);
    d1k_li(e, 17, (int64_t)p->bpanel_bytes);
    d1k_jump(e, d);
    d1k_bind(e, l);
    d1k_li(e, 16, p->rp * (p->kb_last / 4) * 128);
    d1k_li(e, 17, p->cq * (p->kb_last / 4) * 256);
    d1k_bind(e, d);
}

/* A DMA thread for the operands in ops; thread 0 (b_pc != UINT64_MAX) also starts the
 * compute threads and, at b_pc, the B ring's thread. */
static void emit_comm(d1k_em *e, const d1k_plan *p, int ops, uint64_t b_pc)
{
    emit_rc(e, p);
    /* neighbours: R/L along the row, D/U along the column (node ids of the grid nodes) */
    d1k_i(e, D1_OP_ADDI, 26, 3, 0); /* (c+1) mod pc */
    emit_inc_mod(e, 26, p->pc, 31);
    emit_node_id(e, p, 4, 2, 26);
    d1k_i(e, D1_OP_ADDI, 5, 3, -1); /* (c-1) mod pc */
    {
        int l = d1k_label(e);
        d1k_branch(e, D1_OP_BGE, 5, X0, l);
        d1k_li(e, 5, p->pc - 1);
        d1k_bind(e, l);
    }
    emit_node_id(e, p, 5, 2, 5);
    d1k_i(e, D1_OP_ADDI, 27, 2, 0); /* (r+1) mod pr */
    emit_inc_mod(e, 27, p->pr, 31);
    emit_node_id(e, p, 6, 27, 3);
    d1k_i(e, D1_OP_ADDI, 7, 2, -1); /* (r-1) mod pr */
    {
        int l = d1k_label(e);
        d1k_branch(e, D1_OP_BGE, 7, X0, l);
        d1k_li(e, 7, p->pr - 1);
        d1k_bind(e, l);
    }
    emit_node_id(e, p, 7, 7, 3);
    /* initial credits: every slot of the downstream nodes is free */
    for (int isb = 0; isb < 2; isb++)
        if ((ops & (1 << isb)) && ring_of(p, isb) > 1)
            d1k_sem(e, D1_OP_SPOST, sem_cred(p, isb), p->slots);
    if (b_pc != UINT64_MAX) {
        /* compute threads start at pc 0, the B ring's DMA thread at b_pc */
        for (int t = 1; t <= p->cthreads; t++) {
            d1k_li(e, 28, t);
            d1k_em_raw(e, D1_OP_TSTART, 0, 28, 0, 0);
        }
        if (p->dma_b) {
            d1k_li(e, 28, p->cthreads + 1);
            d1k_li(e, 29, (int64_t)b_pc);
            d1k_em_raw(e, D1_OP_TSTART, 0, 28, 29, 0);
        }
    }
    d1k_i(e, D1_OP_ADDI, 8, X0, 0);
    d1k_li(e, 9, p->npanels - 1);
    d1k_i(e, D1_OP_ADDI, 10, X0, 0);
    d1k_i(e, D1_OP_ADDI, 11, X0, 0);
    d1k_li(e, 22, (p->pc - p->slots % p->pc) % p->pc); /* (0 - D) mod pc */
    d1k_li(e, 23, (p->pr - p->slots % p->pr) % p->pr);
    d1k_li(e, 12, (int64_t)p->map.ares);
    d1k_li(e, 13, (int64_t)p->map.bres);
    d1k_li(e, 14, (int64_t)(ops == 2 ? p->map.descb : p->map.desc));
    if (p->hbm) {
        /* DIP = nid mod ndips; HBM region at hbm_base + (nid / ndips) * hbm_region */
        d1k_csrr(e, 28, D1_CSR_NID);
        d1k_li(e, 30, (int64_t)p->magic_dips);
        d1k_r(e, D1_OP_MUL, 29, 28, 30);
        d1k_i(e, D1_OP_SRLI, 29, 29, 32);
        d1k_li(e, 30, p->ndips);
        d1k_r(e, D1_OP_MUL, 30, 29, 30);
        d1k_r(e, D1_OP_SUB, 30, 28, 30);
        d1k_mem(e, D1_OP_SD, 30, X0, SC_DIP); /* both DMA threads store the same value */
        d1k_li(e, 30, (int64_t)p->hbm_region);
        d1k_r(e, D1_OP_MUL, 29, 29, 30);
        d1k_addi_any(e, 29, 29, (int64_t)p->hbm_base, 31);
        if (ops & 1) {
            d1k_mem(e, D1_OP_SD, 12, X0, SC_AFETCH);
            d1k_mem(e, D1_OP_SD, 29, X0, SC_AFETCH + 8);
        }
        if (ops & 2) {
            d1k_mem(e, D1_OP_SD, 13, X0, SC_BFETCH);
            d1k_addi_any(e, 29, 29, (int64_t)(p->map.bres - p->map.ares), 31);
            d1k_mem(e, D1_OP_SD, 29, X0, SC_BFETCH + 8);
        }
        emit_fetches(e, p, ops, 0, 0);
        emit_fetches(e, p, ops, 1, 1);
    }
    emit_panel_len(e, p);
    int top = d1k_label(e), done = d1k_label(e);
    d1k_bind(e, top);
    for (int s = 0; s < p->slots; s++) {
        emit_comm_panel(e, p, ops, s);
        emit_inc_mod(e, 10, p->pc, 31);
        emit_inc_mod(e, 11, p->pr, 31);
        emit_inc_mod(e, 22, p->pc, 31);
        emit_inc_mod(e, 23, p->pr, 31);
        d1k_i(e, D1_OP_ADDI, 8, 8, 1);
        d1k_branch(e, D1_OP_BLT, 9, 8, done);
        emit_panel_len(e, p);
    }
    d1k_jump(e, top);
    d1k_bind(e, done);
    d1k_em_raw(e, D1_OP_HALT, 0, 0, 0, 0);
}

/* Compute thread registers: x1 lane, x2 r, x3 c, x4 N, x5 block SR index, x6 node SR base,
 * x7 row-pair SR base, x8 p, x9 P-1, x10 p mod pc, x11 p mod pr, x12 ares ptr, x13 bres ptr,
 * x14 A base, x15 B base, x16 ks, x17 A row-pair stride, x18 B column-quad stride,
 * x19 row-pair counter, x20 column-quad counter, x21 block lane rotor, x22 C block,
 * x23 pa, x24 pb, x25 k loop counter, x26 A row-pair base, x27 B column-quad base,
 * x28 C bf16 block, x29/x31 temporaries, x30 2N. Vector: v0-v5 / v6-v11 operand sets,
 * v12-v17 epilogue, v24/v25 stochastic masks. */

static void emit_kloop(d1k_em *e, d1_op mma)
{
    d1k_mem(e, D1_OP_VLD, 0, 23, 0);
    d1k_mem(e, D1_OP_VLD, 1, 23, 64);
    for (int t = 0; t < 4; t++)
        d1k_mem(e, D1_OP_VLD, 2 + t, 24, 64 * t);
    d1k_i(e, D1_OP_SRLI, 25, 16, 1);
    int top = d1k_label(e);
    d1k_bind(e, top);
    for (int h = 0; h < 2; h++) {
        int cur = h ? 6 : 0, nx = h ? 0 : 6;
        int64_t aoff = h ? 256 : 128, boff = h ? 512 : 256;
        for (int m = 0; m < 8; m++) {
            d1k_mma(e, mma, m, cur + m / 4, cur + 2 + m % 4);
            if (m < 2)
                d1k_mem(e, D1_OP_VLD, nx + m, 23, aoff + 64 * m);
            else if (m < 6)
                d1k_mem(e, D1_OP_VLD, nx + m, 24, boff + 64 * (m - 2));
            else if (h == 1 && m == 6)
                d1k_i(e, D1_OP_ADDI, 23, 23, 256);
            else if (h == 1 && m == 7) {
                d1k_i(e, D1_OP_ADDI, 24, 24, 512);
                d1k_i(e, D1_OP_ADDI, 25, 25, -1);
            }
        }
    }
    d1k_branch(e, D1_OP_BNE, 25, X0, top);
}

/* BF16 output of one block: accumulators were stored at x22 (FP32 tiles); write x28. */
static void emit_bf16_out(d1k_em *e, const d1k_plan *p)
{
    bool sr = p->op.round == D1_ROUND_STOCHASTIC;
    for (int m = 0; m < 8; m++) {
        int rt = m / 4, ct = m % 4;
        for (int v = 0; v < 4; v++)
            d1k_mem(e, D1_OP_VLD, 12 + v, 22, m * 256 + v * 64);
        if (!sr) {
            d1k_em_raw(e, D1_OP_VCVTBF, 16, 12, 0, 0);
            d1k_em_raw(e, D1_OP_VCVTBF, 16, 13, 0, 1);
            d1k_em_raw(e, D1_OP_VCVTBF, 17, 14, 0, 0);
            d1k_em_raw(e, D1_OP_VCVTBF, 17, 15, 0, 1);
            d1k_mem(e, D1_OP_VST, 16, 28, m * 128);
            d1k_mem(e, D1_OP_VST, 17, 28, m * 128 + 64);
            continue;
        }
        /* x29 = index of the tile's element (0,0): x5 + rt*8N + ct*8 */
        d1k_i(e, D1_OP_ADDI, 29, 5, ct * 8);
        if (rt) {
            d1k_i(e, D1_OP_SLLI, 31, 30, 2);
            d1k_r(e, D1_OP_ADD, 29, 29, 31);
        }
        for (int half = 0; half < 2; half++) {
            for (int v = 0; v < 2; v++) {
                int src = 12 + half * 2 + v;
                /* rows 2k (lanes 0-7) with index a, rows 2k+1 (lanes 8-15) with a + N - 8 */
                d1k_csrw(e, D1_CSR_SRIDX, 29);
                d1k_em_raw(e, D1_OP_VCVTBFS, 16, src, 0, v);
                d1k_r(e, D1_OP_ADD, 31, 29, 4);
                d1k_i(e, D1_OP_ADDI, 31, 31, -8);
                d1k_csrw(e, D1_CSR_SRIDX, 31);
                d1k_em_raw(e, D1_OP_VCVTBFS, 17, src, 0, v);
                d1k_r(e, D1_OP_ADD, 29, 29, 30);
            }
            d1k_r(e, D1_OP_VAND, 16, 16, 24);
            d1k_r(e, D1_OP_VAND, 17, 17, 25);
            d1k_r(e, D1_OP_VOR, 16, 16, 17);
            d1k_mem(e, D1_OP_VST, 16, 28, m * 128 + half * 64);
        }
    }
}

/* BF16 C in (accumulate): x28 block -> FP32 tiles at x22. */
static void emit_bf16_in(d1k_em *e)
{
    for (int m = 0; m < 8; m++) {
        d1k_mem(e, D1_OP_VLD, 12, 28, m * 128);
        d1k_mem(e, D1_OP_VLD, 13, 28, m * 128 + 64);
        d1k_em_raw(e, D1_OP_VCVTFB, 14, 12, 0, 0);
        d1k_em_raw(e, D1_OP_VCVTFB, 15, 12, 0, 1);
        d1k_em_raw(e, D1_OP_VCVTFB, 16, 13, 0, 0);
        d1k_em_raw(e, D1_OP_VCVTFB, 17, 13, 0, 1);
        for (int v = 0; v < 4; v++)
            d1k_mem(e, D1_OP_VST, 14 + v, 22, m * 256 + v * 64);
    }
}

/* Compute lane x1 (0..cthreads-1): sem op on sems[lane] (sems base + lane). Clobbers x31. */
static void emit_lane_sem(d1k_em *e, const d1k_plan *p, d1_op op, int base)
{
    if (p->cthreads == 1) {
        d1k_sem(e, op, base, 1);
        return;
    }
    int end = d1k_label(e);
    for (int t = 0; t < p->cthreads; t++) {
        int next = d1k_label(e);
        if (t + 1 < p->cthreads) {
            d1k_li(e, 31, t);
            d1k_branch(e, D1_OP_BNE, 1, 31, next);
        }
        d1k_sem(e, op, base + t, 1);
        if (t + 1 < p->cthreads)
            d1k_jump(e, end);
        d1k_bind(e, next);
    }
    d1k_bind(e, end);
}

static void emit_compute_panel(d1k_em *e, const d1k_plan *p)
{
    bool bf = p->op.c_dtype == D1_BF16;
    d1_op mma = p->cfp8 ? D1_OP_MMAC8 : D1_OP_MMABF;
    emit_lane_sem(e, p, D1_OP_SWAIT, sem_ready(p, 0, 0));
    emit_lane_sem(e, p, D1_OP_SWAIT, sem_ready(p, 1, 0));
    /* x31 = p mod slots */
    d1k_li(e, 29, (int64_t)p->magic_slots);
    d1k_r(e, D1_OP_MUL, 31, 8, 29);
    d1k_i(e, D1_OP_SRLI, 31, 31, 32);
    d1k_li(e, 29, p->slots);
    d1k_r(e, D1_OP_MUL, 31, 31, 29);
    d1k_r(e, D1_OP_SUB, 31, 8, 31);
    /* panel bases: the owned panel, or slot p mod slots */
    for (int isb = 0; isb < 2; isb++) {
        int own = isb ? 11 : 10, me = isb ? 2 : 3, base = isb ? 15 : 14, res = isb ? 13 : 12;
        uint64_t slot0 = isb ? p->map.bbuf[0] : p->map.abuf[0];
        uint64_t pb = isb ? p->bpanel_bytes : p->apanel_bytes;
        int l_not = d1k_label(e), l_d = d1k_label(e);
        d1k_branch(e, D1_OP_BNE, own, me, l_not);
        d1k_i(e, D1_OP_ADDI, base, res, 0);
        d1k_addi_any(e, res, res, (int64_t)pb, 29);
        d1k_jump(e, l_d);
        d1k_bind(e, l_not);
        d1k_li(e, 29, (int64_t)pb);
        d1k_r(e, D1_OP_MUL, 29, 31, 29);
        d1k_li(e, base, (int64_t)slot0);
        d1k_r(e, D1_OP_ADD, base, base, 29);
        d1k_bind(e, l_d);
    }
    {
        int l = d1k_label(e), d = d1k_label(e);
        d1k_branch(e, D1_OP_BEQ, 8, 9, l);
        d1k_li(e, 16, p->kb / 4);
        d1k_jump(e, d);
        d1k_bind(e, l);
        d1k_li(e, 16, p->kb_last / 4);
        d1k_bind(e, d);
    }
    d1k_i(e, D1_OP_SLLI, 17, 16, 7);
    d1k_i(e, D1_OP_SLLI, 18, 16, 8);
    d1k_li(e, 19, p->rp);
    d1k_i(e, D1_OP_ADDI, 26, 14, 0);
    d1k_li(e, 22, (int64_t)p->map.cbuf);
    if (bf)
        d1k_li(e, 28, (int64_t)p->map.cout);
    d1k_i(e, D1_OP_ADDI, 7, 6, 0);
    d1k_i(e, D1_OP_ADDI, 21, X0, 0);
    int rp_top = d1k_label(e), cq_top = d1k_label(e), skip = d1k_label(e);
    d1k_bind(e, rp_top);
    d1k_li(e, 20, p->cq);
    d1k_i(e, D1_OP_ADDI, 27, 15, 0);
    d1k_i(e, D1_OP_ADDI, 5, 7, 0);
    d1k_bind(e, cq_top);
    d1k_branch(e, D1_OP_BNE, 21, 1, skip);
    /* accumulators in */
    {
        int l_ld = d1k_label(e), l_go = d1k_label(e);
        d1k_branch(e, D1_OP_BNE, 8, X0, l_ld);
        if (!p->op.accumulate) {
            for (int m = 0; m < 8; m++)
                d1k_em_raw(e, D1_OP_MZERO, m, 0, 0, 0);
            d1k_jump(e, l_go);
        } else if (bf) {
            emit_bf16_in(e);
        }
        d1k_bind(e, l_ld);
        for (int m = 0; m < 8; m++)
            d1k_mem(e, D1_OP_MLD, m, 22, m * 256);
        d1k_bind(e, l_go);
    }
    d1k_i(e, D1_OP_ADDI, 23, 26, 0);
    d1k_i(e, D1_OP_ADDI, 24, 27, 0);
    emit_kloop(e, mma);
    for (int m = 0; m < 8; m++)
        d1k_mem(e, D1_OP_MST, m, 22, m * 256);
    if (bf) {
        int l = d1k_label(e);
        d1k_branch(e, D1_OP_BNE, 8, 9, l);
        emit_bf16_out(e, p);
        d1k_bind(e, l);
    }
    d1k_bind(e, skip);
    emit_inc_mod(e, 21, p->cthreads, 31);
    d1k_addi_any(e, 22, 22, 2048, 31);
    if (bf)
        d1k_addi_any(e, 28, 28, 1024, 31);
    d1k_r(e, D1_OP_ADD, 27, 27, 18);
    d1k_i(e, D1_OP_ADDI, 5, 5, 32);
    d1k_i(e, D1_OP_ADDI, 20, 20, -1);
    d1k_branch(e, D1_OP_BNE, 20, X0, cq_top);
    d1k_r(e, D1_OP_ADD, 26, 26, 17);
    d1k_i(e, D1_OP_SLLI, 31, 30, 3); /* 16N */
    d1k_r(e, D1_OP_ADD, 7, 7, 31);
    d1k_i(e, D1_OP_ADDI, 19, 19, -1);
    d1k_branch(e, D1_OP_BNE, 19, X0, rp_top);
    emit_lane_sem(e, p, D1_OP_SPOST, sem_done(p, 0, 0));
    emit_lane_sem(e, p, D1_OP_SPOST, sem_done(p, 1, 0));
    emit_inc_mod(e, 10, p->pc, 31);
    emit_inc_mod(e, 11, p->pr, 31);
    d1k_i(e, D1_OP_ADDI, 8, 8, 1);
}

static void emit_compute(d1k_em *e, const d1k_plan *p)
{
    /* launch block: stochastic-rounding seed, matrix-unit CFP8 formats */
    d1k_li(e, 29, (int64_t)p->map.launch);
    d1k_mem(e, D1_OP_LD, 31, 29, 0);
    d1k_csrw(e, D1_CSR_SRSEED, 31);
    d1k_mem(e, D1_OP_LD, 31, 29, 8);
    d1k_csrw(e, D1_CSR_MFMT, 31);
    d1k_li(e, 29, (int64_t)p->map.masks);
    d1k_mem(e, D1_OP_VLD, 24, 29, 0);
    d1k_mem(e, D1_OP_VLD, 25, 29, 64);
    d1k_csrr(e, 1, D1_CSR_TID);
    d1k_i(e, D1_OP_ADDI, 1, 1, -1);
    /* r, c into x2, x3 (emit_rc uses x1: save the lane in x15 meanwhile) */
    d1k_i(e, D1_OP_ADDI, 15, 1, 0);
    emit_rc(e, p);
    d1k_i(e, D1_OP_ADDI, 1, 15, 0);
    /* SR index of the node block's (0,0): (r*mb)*N + c*nb */
    d1k_li(e, 4, p->op.N);
    d1k_i(e, D1_OP_SLLI, 30, 4, 1);
    d1k_li(e, 31, p->mb);
    d1k_r(e, D1_OP_MUL, 6, 2, 31);
    d1k_r(e, D1_OP_MUL, 6, 6, 4);
    d1k_li(e, 31, p->nb);
    d1k_r(e, D1_OP_MUL, 31, 3, 31);
    d1k_r(e, D1_OP_ADD, 6, 6, 31);
    d1k_i(e, D1_OP_ADDI, 8, X0, 0);
    d1k_li(e, 9, p->npanels - 1);
    d1k_i(e, D1_OP_ADDI, 10, X0, 0);
    d1k_i(e, D1_OP_ADDI, 11, X0, 0);
    d1k_li(e, 12, (int64_t)p->map.ares);
    d1k_li(e, 13, (int64_t)p->map.bres);
    int top = d1k_label(e), done = d1k_label(e);
    d1k_bind(e, top);
    emit_compute_panel(e, p);
    d1k_branch(e, D1_OP_BLT, 9, 8, done);
    d1k_jump(e, top);
    d1k_bind(e, done);
    d1k_em_raw(e, D1_OP_HALT, 0, 0, 0, 0);
}

d1_status d1k_matmul_emit(const d1k_plan *p, const d1s_target *t, d1s_kernel **out)
{
    *out = NULL;
    if (t->node_count < p->span)
        return d1_fail(D1_E_INVAL, "matmul emit: plan uses node ids < %u, target has %u", p->span,
                       t->node_count);
    d1s_kernel *k = NULL;
    d1_status st = d1s_kernel_create(t, &k);
    if (st != D1_OK)
        return st;
    uint32_t prog, img, pl;
    st = d1s_kernel_add_program(k, "matmul", &prog);
    if (st != D1_OK)
        goto fail;
    d1k_em e;
    d1k_em_init(&e, k, prog);
    emit_compute(&e, p);
    st = d1k_em_finish(&e);
    if (st != D1_OK)
        goto fail;
    uint64_t b_pc = 0;
    if (p->dma_b) { /* the B ring's DMA thread */
        b_pc = d1s_kernel_pc(k, prog);
        d1k_em_init(&e, k, prog);
        emit_comm(&e, p, 2, UINT64_MAX);
        st = d1k_em_finish(&e);
        if (st != D1_OK)
            goto fail;
    }
    uint64_t comm_pc = d1s_kernel_pc(k, prog);
    d1k_em_init(&e, k, prog);
    emit_comm(&e, p, p->dma_b ? 1 : 3, b_pc);
    st = d1k_em_finish(&e);
    if (st != D1_OK)
        goto fail;
    /* images: launch block defaults + stochastic masks (one image, shared by all nodes) */
    uint8_t hdr[384];
    memset(hdr, 0, sizeof hdr);
    d1k_matmul_launch_block(p, hdr);
    uint8_t *masks = hdr + p->map.masks;
    for (int b = 0; b < 64; b++) {
        masks[b] = (b % 32) < 16 ? 0xff : 0;
        masks[64 + b] = (b % 32) < 16 ? 0 : 0xff;
    }
    if ((st = d1s_kernel_set_entry(k, prog, comm_pc)) != D1_OK ||
        (st = d1s_kernel_add_image(k, 0, hdr, sizeof hdr, &img)) != D1_OK ||
        (st = d1s_kernel_add_placement(k, 0, (uint32_t)(p->lr * p->lc) - 1, prog, comm_pc, &pl)) != D1_OK ||
        (st = d1s_kernel_placement_add_image(k, pl, img)) != D1_OK ||
        (st = d1s_kernel_add_symbol(k, "compute", D1S_SYM_CODE, prog, 0)) != D1_OK ||
        (st = d1s_kernel_add_symbol(k, "dma_thread", D1S_SYM_CODE, prog, comm_pc)) != D1_OK ||
        (st = d1s_kernel_validate(k)) != D1_OK)
        goto fail;
    /* chip-blocked grids: the same program and image on every chip's block */
    for (int ch = 1; ch < p->cr * p->cc; ch++) {
        uint32_t first = (uint32_t)ch * p->per_chip;
        if ((st = d1s_kernel_add_placement(k, first, first + (uint32_t)(p->lr * p->lc) - 1, prog,
                                           comm_pc, &pl)) != D1_OK ||
            (st = d1s_kernel_placement_add_image(k, pl, img)) != D1_OK)
            goto fail;
    }
    if (p->cr * p->cc > 1 && (st = d1s_kernel_validate(k)) != D1_OK)
        goto fail;
    *out = k;
    return D1_OK;
fail:
    d1s_kernel_destroy(k);
    return st;
}
