/* Matmul plan: grid choice, panel depth, SRAM map, predicted cycles. See plan.h. */
#include "plan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Per-block per-panel cost the matrix unit does not hide (accumulator move in/out, loop
 * setup): measured on the node model, see doc/compiler.md. With >= 2 compute threads the
 * other thread keeps the matrix unit busy meanwhile. */
#define BLOCK_OVH_1T 26
#define BLOCK_OVH_2T 3
#define HDR_BYTES 512   /* launch block, descriptor, dummy, masks */
#define SLACK_BYTES 512 /* software-pipelined loads read up to 256 B past a panel */
#define KB_MAX 256
#define CHUNK_BYTES 4096 /* target chunk of the pipelined ring broadcast */
#define MAX_CHUNKS 64
#define HOP_OVH 24      /* DMA-thread cycles per chunk and hop (wait, descriptor, issue) */

/* Semaphores of the kernel besides the 2 x slots FULL ones (matmul.c has the table):
 * A/B READY and A/B DONE per compute thread, CREDA, CREDB, AFWD, BFWD, 4 for HBM. */
static int sems_fixed(int cthreads, bool hbm) { return 4 * cthreads + 4 + (hbm ? 4 : 0); }

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t rup(int64_t a, int64_t b) { return cdiv(a, b) * b; }
static uint64_t max_u(uint64_t a, uint64_t b) { return a > b ? a : b; }

bool d1k_matmul_dtypes_ok(d1_dtype a, d1_dtype b, d1_dtype c)
{
    bool ia = a == D1_BF16 || a == D1_CFP8_143 || a == D1_CFP8_152;
    bool ib = b == D1_BF16 || b == D1_CFP8_143 || b == D1_CFP8_152;
    return ia && ib && (c == D1_FP32 || c == D1_BF16);
}

static bool is_cfp8(d1_dtype t) { return t == D1_CFP8_143 || t == D1_CFP8_152; }

/* Chunk of the ring broadcast: a hop of the first panel costs about a chunk time plus a
 * fixed software/DMA overhead, a chunk about 20 DMA-thread instructions; long rings get
 * smaller chunks. */
static uint64_t chunk_target(const d1k_plan *p, uint32_t forced)
{
    if (forced)
        return forced;
    int ring = p->pc > p->pr ? p->pc : p->pr;
    return ring <= 8 ? CHUNK_BYTES : CHUNK_BYTES / 4;
}

/* Ring geometry of a grid on the target (node ids chip-major, row-major inside a chip, as
 * sim/tile numbers them; harvested positions are ignored for the distances): network
 * latency of every hop of the A rings (node rows) and B rings (node columns), and how many
 * ring hops use each chip edge under the tile's X-then-Y chip routing. Feeds the chain
 * latency (fill and the slots needed to hide it) and the SerDes edge term of predict(). */
typedef struct ring_geo {
    uint64_t chain_a, chain_b; /* network cycles of the worst chain (ring minus its best hop) */
    uint64_t fill_a, fill_b;   /* network cycles of panel 0's chains (owner = ring member 0) */
    int xing_a, xing_b;        /* chip-edge crossings of the worst ring */
    int nedges;                /* chips * 4 directed edges */
    uint32_t *edge_a, *edge_b; /* ring hops per directed chip edge */
} ring_geo;

typedef struct geo_ctx {
    int64_t per_chip, cols, rows, cx_n;
    uint64_t hop_cyc, xing_cyc;
    bool system;
} geo_ctx;

static void node_pos(const geo_ctx *g, uint32_t id, int64_t *gx, int64_t *gy, int64_t *chip)
{
    int64_t k = g->system ? (int64_t)id / g->per_chip : 0, l = (int64_t)id - k * g->per_chip;
    *chip = k;
    *gx = (k % g->cx_n) * g->cols + l % g->cols;
    *gy = (k / g->cx_n) * g->rows + l / g->cols;
}

/* Network latency of one hop u -> v; counts its chip-edge crossings into edges (if given). */
static uint64_t hop_lat(const geo_ctx *g, uint32_t u, uint32_t v, uint32_t *edges, int *xing)
{
    int64_t ux, uy, uk, vx, vy, vk;
    node_pos(g, u, &ux, &uy, &uk);
    node_pos(g, v, &vx, &vy, &vk);
    int64_t d = llabs(ux - vx) + llabs(uy - vy);
    int n = 0;
    if (uk != vk) { /* X then Y at chip level */
        int64_t cx = uk % g->cx_n, cy = uk / g->cx_n, tx = vk % g->cx_n, ty = vk / g->cx_n;
        while (cx != tx || cy != ty) {
            int dir;
            if (cx != tx)
                dir = tx > cx ? 0 : 1, cx += tx > cx ? 1 : -1;
            else
                dir = ty > cy ? 2 : 3, cy += ty > cy ? 1 : -1;
            int64_t from = (cy - (dir == 2 ? 1 : dir == 3 ? -1 : 0)) * g->cx_n +
                           (cx - (dir == 0 ? 1 : dir == 1 ? -1 : 0));
            if (edges)
                edges[from * 4 + dir]++;
            n++;
        }
    }
    if (xing)
        *xing += n;
    return (uint64_t)d * g->hop_cyc + (uint64_t)n * g->xing_cyc + 2;
}

static void geo_free(ring_geo *r)
{
    free(r->edge_a);
    free(r->edge_b);
    memset(r, 0, sizeof *r);
}

/* One family of rings: A (isb 0) rings are the grid rows, B rings the columns. */
static void geo_rings(const geo_ctx *g, const d1k_plan *p, int isb, uint64_t *chain,
                      uint64_t *fill, int *xing, uint32_t *edges)
{
    int nring = isb ? p->pc : p->pr, n = isb ? p->pr : p->pc;
    *chain = *fill = 0;
    *xing = 0;
    if (n < 2)
        return;
    for (int j = 0; j < nring; j++) {
        uint64_t sum = 0, best = UINT64_MAX, last = 0;
        int x = 0;
        for (int i = 0; i < n; i++) {
            int i1 = (i + 1) % n;
            uint32_t u = isb ? d1k_plan_node_id(p, i, j) : d1k_plan_node_id(p, j, i);
            uint32_t v = isb ? d1k_plan_node_id(p, i1, j) : d1k_plan_node_id(p, j, i1);
            uint64_t h = hop_lat(g, u, v, edges, &x);
            sum += h;
            best = h < best ? h : best;
            last = h;
        }
        if (sum - best > *chain)
            *chain = sum - best;
        if (sum - last > *fill)
            *fill = sum - last;
        if (x > *xing)
            *xing = x;
    }
}

static int geo_build(const d1_config *cfg, const d1k_plan *p, ring_geo *r)
{
    memset(r, 0, sizeof *r);
    geo_ctx g = {.per_chip = p->chips > 1 ? p->per_chip : INT32_MAX, .cols = cfg->mesh_cols, .rows = cfg->mesh_rows,
                 .cx_n = cfg->tile_chips_x * cfg->tiles_x,
                 .hop_cyc = (uint64_t)(cfg->router_delay_cyc + cfg->link_delay_cyc),
                 .xing_cyc = (uint64_t)cfg->serdes_lat_cyc + 1,
                 .system = p->chips > 1};
    if (g.cx_n < 1)
        g.cx_n = 1;
    r->nedges = (int)p->chips * 4;
    r->edge_a = calloc((size_t)r->nedges, sizeof *r->edge_a);
    r->edge_b = calloc((size_t)r->nedges, sizeof *r->edge_b);
    if (!r->edge_a || !r->edge_b) {
        geo_free(r);
        return 0;
    }
    geo_rings(&g, p, 0, &r->chain_a, &r->fill_a, &r->xing_a, r->edge_a);
    geo_rings(&g, p, 1, &r->chain_b, &r->fill_b, &r->xing_b, r->edge_b);
    return 1;
}

/* Fill the size/memory fields for grid (pr, pc) and panel depth kb; returns 1 if it fits. */
static int layout(d1k_plan *p, int64_t kb, int slots, uint32_t forced_chunk)
{
    p->kb = kb;
    p->slots = slots;
    p->npanels = (int)cdiv(p->kpad, kb);
    p->kb_last = p->kpad - (int64_t)(p->npanels - 1) * kb;
    p->apanel_bytes = (uint64_t)(p->rp * (kb / 4) * 128);
    p->bpanel_bytes = (uint64_t)(p->cq * (kb / 4) * 256);
    p->ares_panels = (int)cdiv(p->npanels, p->pc);
    p->bres_panels = (int)cdiv(p->npanels, p->pr);
    uint64_t big = p->apanel_bytes > p->bpanel_bytes ? p->apanel_bytes : p->bpanel_bytes;
    p->chunks = (int)(big / chunk_target(p, forced_chunk));
    p->chunks = p->chunks < 1 ? 1 : p->chunks > MAX_CHUNKS ? MAX_CHUNKS : p->chunks;
    p->chunk_a = (uint64_t)rup((int64_t)((p->apanel_bytes + (uint64_t)p->chunks - 1) / (uint64_t)p->chunks), 64);
    p->chunk_b = (uint64_t)rup((int64_t)((p->bpanel_bytes + (uint64_t)p->chunks - 1) / (uint64_t)p->chunks), 64);
    p->cbuf_bytes = (uint64_t)(p->rp * p->cq * 2048);
    p->cout_bytes = p->op.c_dtype == D1_BF16 ? (uint64_t)(p->rp * p->cq * 1024) : 0;
    d1k_sram_map *m = &p->map;
    memset(m, 0, sizeof *m);
    m->launch = 0;
    m->desc = 64;
    m->dummy = 128;
    m->masks = 256;
    m->descb = 448;
    uint64_t a = HDR_BYTES;
    for (int i = 0; i < slots; i++)
        m->abuf[i] = a, a += p->apanel_bytes;
    for (int i = 0; i < slots; i++)
        m->bbuf[i] = a, a += p->bpanel_bytes;
    m->ares = a, a += (uint64_t)p->ares_panels * p->apanel_bytes;
    m->bres = a, a += (uint64_t)p->bres_panels * p->bpanel_bytes;
    m->cbuf = a, a += p->cbuf_bytes;
    if (p->cout_bytes)
        m->cout = a, a += p->cout_bytes;
    m->end = a + SLACK_BYTES;
    return m->end <= (uint64_t)p->sram_bytes;
}

static void predict(d1k_plan *p, const ring_geo *g, uint64_t serdes_bpc)
{
    int64_t blocks = p->rp * p->cq;
    int64_t ks = p->kpad / 4;
    p->mma_per_node = (uint64_t)(blocks * ks * 8);
    uint64_t ovh = (uint64_t)blocks * (uint64_t)p->npanels *
                   (p->cthreads >= 2 ? BLOCK_OVH_2T : BLOCK_OVH_1T);
    p->cyc_compute = p->mma_per_node + ovh;
    uint64_t ld = (uint64_t)(blocks * ks * 384) + (uint64_t)(blocks * p->npanels * 2048);
    uint64_t st = (uint64_t)(blocks * p->npanels * 2048);
    p->cyc_sram = max_u(ld / 200, st / 135);
    uint64_t per_panel = (p->pc > 1 ? p->apanel_bytes : 0) + (p->pr > 1 ? p->bpanel_bytes : 0);
    p->cyc_noc = (uint64_t)p->npanels * per_panel / 64;
    /* chains: per hop and chunk the router port time, the DMA thread's overhead and the
     * network latency (geo); one DMA thread serving both rings couples them */
    uint64_t ha = p->chunk_a / 64 + HOP_OVH, hb = p->chunk_b / 64 + HOP_OVH;
    if (!p->dma_b)
        ha = hb = (p->pc > 1 ? p->chunk_a : 0) / 64 + (p->pr > 1 ? p->chunk_b : 0) / 64 + HOP_OVH;
    uint64_t la = p->pc > 1 ? (uint64_t)(p->pc - 1) * ha + g->chain_a : 0;
    uint64_t lb = p->pr > 1 ? (uint64_t)(p->pr - 1) * hb + g->chain_b : 0;
    uint64_t fa = p->pc > 1 ? (uint64_t)(p->pc - 1) * ha + g->fill_a + p->apanel_bytes / 64 : 0;
    uint64_t fb = p->pr > 1 ? (uint64_t)(p->pr - 1) * hb + g->fill_b + p->bpanel_bytes / 64 : 0;
    p->lat_chain_a = la, p->lat_chain_b = lb;
    p->serdes_a = g->xing_a, p->serdes_b = g->xing_b;
    uint64_t lat = p->dma_b ? max_u(la, lb) : la + lb;
    p->cyc_fill = (p->dma_b ? max_u(fa, fb) : fa + fb) + 64;
    /* a panel must cross its chain within slots - 1 panel steps of the nodes' compute */
    p->cyc_chain = (uint64_t)p->npanels * lat / (uint64_t)(p->slots - 1);
    /* every ring hop carries all panels but those owned by its destination */
    uint64_t abytes = p->pc > 1 ? (uint64_t)(p->kpad / 4 * p->rp * 128) * (uint64_t)(p->pc - 1) /
                                      (uint64_t)p->pc : 0;
    uint64_t bbytes = p->pr > 1 ? (uint64_t)(p->kpad / 4 * p->cq * 256) * (uint64_t)(p->pr - 1) /
                                      (uint64_t)p->pr : 0;
    uint64_t edge = 0;
    for (int e = 0; e < g->nedges; e++)
        edge = max_u(edge, (uint64_t)g->edge_a[e] * abytes + (uint64_t)g->edge_b[e] * bbytes);
    p->cyc_serdes = serdes_bpc ? edge / serdes_bpc : 0;
    if (p->hbm) /* panel 0 (and 1) of every owner through the DIPs first */
        p->cyc_fill += p->hbm_lat_cyc + 2 * ((uint64_t)p->pr * p->apanel_bytes +
                                             (uint64_t)p->pc * p->bpanel_bytes) /
                                            ((uint64_t)p->ndips * p->hbm_bytes_per_cyc);
    uint64_t tiles = (uint64_t)blocks * 8;
    p->cyc_epilogue = p->op.c_dtype == D1_BF16
                          ? tiles * (p->op.round == D1_ROUND_STOCHASTIC ? 44 : 10) /
                                (uint64_t)p->cthreads
                          : 0;
    if (p->op.accumulate && p->op.c_dtype == D1_BF16)
        p->cyc_epilogue += tiles * 10 / (uint64_t)p->cthreads;
    uint64_t steady = p->cyc_compute;
    p->bound = "compute";
    if (p->cyc_hbm > steady)
        steady = p->cyc_hbm, p->bound = "hbm";
    if (p->cyc_sram > steady)
        steady = p->cyc_sram, p->bound = "sram";
    if (p->cyc_noc > steady)
        steady = p->cyc_noc, p->bound = "noc";
    if (p->cyc_serdes > steady)
        steady = p->cyc_serdes, p->bound = "serdes";
    if (p->cyc_chain > steady)
        steady = p->cyc_chain, p->bound = "chain";
    p->cyc_pred = p->cyc_fill + steady + p->cyc_epilogue;
    /* payload over the NoC: each panel goes to every node of its ring but the owner */
    p->noc_bytes = 0;
    for (int q = 0; q < p->npanels; q++) {
        uint64_t ks_q = (uint64_t)d1k_plan_panel_ksteps(p, q);
        p->noc_bytes += (uint64_t)p->pr * (uint64_t)(p->pc - 1) * (uint64_t)p->rp * ks_q * 128;
        p->noc_bytes += (uint64_t)p->pc * (uint64_t)(p->pr - 1) * (uint64_t)p->cq * ks_q * 256;
    }
    double secs = (double)p->cyc_pred / p->clock_hz;
    p->pred_tflops = secs > 0 ? (double)p->flops / secs / 1e12 : 0;
    double peak = (double)p->usable_nodes * 512.0 * p->clock_hz / 1e12;
    p->pred_pct_peak = peak > 0 ? 100.0 * p->pred_tflops / peak : 0;
}

static uint64_t magic_of(uint64_t d) { return ((UINT64_C(1) << 32) + d - 1) / d; }

static int magic_ok(uint64_t magic, uint64_t d, uint64_t n)
{
    for (uint64_t x = 0; x < n; x++)
        if (((x * magic) >> 32) != x / d)
            return 0;
    return 1;
}

static int count_dips(const d1_config *cfg)
{
    int e = 0;
    for (const char *s = cfg->dip_edges; s && *s; s++)
        e += *s == 'n' || *s == 's' || *s == 'e' || *s == 'w';
    return e * (int)cfg->dips_per_edge;
}

d1_status d1k_plan_matmul(const d1_config *cfg, const d1k_matmul_desc *op,
                          const d1k_plan_opts *opts, d1k_plan *out)
{
    static const d1k_plan_opts none;
    if (!opts)
        opts = &none;
    if (!cfg || !op || !out)
        return d1_fail(D1_E_INVAL, "plan: NULL argument");
    memset(out, 0, sizeof *out);
    if (op->M < 1 || op->N < 1 || op->K < 1 || op->M > INT32_MAX || op->N > INT32_MAX ||
        op->K > INT32_MAX)
        return d1_fail(D1_E_SHAPE, "plan: matmul %" PRId64 "x%" PRId64 "x%" PRId64
                       ": dimensions must be 1..2^31-1", op->M, op->N, op->K);
    if (!d1k_matmul_dtypes_ok(op->a_dtype, op->b_dtype, op->c_dtype))
        return d1_fail(D1_E_DTYPE, "plan: matmul %s x %s -> %s: the matrix unit takes BF16/CFP8 "
                       "operands and writes FP32/BF16",
                       d1_dtype_name(op->a_dtype) ? d1_dtype_name(op->a_dtype) : "?",
                       d1_dtype_name(op->b_dtype) ? d1_dtype_name(op->b_dtype) : "?",
                       d1_dtype_name(op->c_dtype) ? d1_dtype_name(op->c_dtype) : "?");
    if (d1_fmt_bias(op->a_dtype, op->a_bias) < 0 || d1_fmt_bias(op->b_dtype, op->b_bias) < 0)
        return d1_fail(D1_E_RANGE, "plan: operand bias out of 0..63");
    if (opts->cthreads < 0 || opts->cthreads > 3 || opts->pr < 0 || opts->pc < 0 ||
        opts->kb < 0 || (opts->kb % 8) != 0 || (opts->chunk_bytes % 64) != 0 ||
        opts->slots < 0 || opts->slots == 1 || opts->slots > D1K_MAX_SLOTS)
        return d1_fail(D1_E_INVAL, "plan: bad override (cthreads 1..3, kb multiple of 8, "
                       "chunk multiple of 64, slots 2..%d)", D1K_MAX_SLOTS);

    int n_harv = d1_config_harvested(cfg, NULL, 0);
    if (n_harv < 0)
        return D1_E_CONFIG;
    int64_t usable = cfg->mesh_cols * cfg->mesh_rows - n_harv;
    if (usable < 1)
        return d1_fail(D1_E_CONFIG, "plan: no usable node");
    int64_t chips = 1;
    if (opts->target == D1K_TARGET_SYSTEM)
        chips = cfg->tile_chips_x * cfg->tile_chips_y * cfg->tiles_x * cfg->tiles_y;
    int64_t per_chip = usable;
    usable *= chips;
    if (cfg->node_sems < 16)
        return d1_fail(D1_E_UNSUPPORTED, "plan: the matmul kernel needs >= 16 semaphores");
    if (cfg->node_threads < 2)
        return d1_fail(D1_E_UNSUPPORTED, "plan: the matmul kernel needs >= 2 node threads");
    int64_t maxn = usable;
    if (opts->max_nodes && opts->max_nodes < maxn)
        maxn = opts->max_nodes;

    d1k_plan best;
    int have = 0;
    d1k_plan c;
    memset(&c, 0, sizeof c);
    c.op = *op;
    c.usable_nodes = (uint32_t)usable;
    c.chips = (uint32_t)chips;
    c.config_hash = d1_config_hash(cfg);
    c.clock_hz = (double)cfg->clock_mhz * 1e6;
    c.sram_bytes = cfg->sram_bytes;
    c.kpad = rup(op->K, 8);
    c.cfp8 = is_cfp8(op->a_dtype) && is_cfp8(op->b_dtype);
    c.flops = 2ull * (uint64_t)op->M * (uint64_t)op->N * (uint64_t)op->K;
    if (opts->hbm) {
        c.hbm = true;
        c.ndips = count_dips(cfg);
        c.hbm_lat_cyc = (uint64_t)cfg->hbm_lat_cyc;
        c.hbm_bytes_per_cyc = (uint64_t)cfg->hbm_bytes_per_cyc;
        if (opts->target != D1K_TARGET_SYSTEM || c.ndips < 1)
            return d1_fail(D1_E_UNSUPPORTED, "plan: HBM staging needs a system target "
                           "(sim:tile...) with DIPs");
        if (cfg->node_sems < 20)
            return d1_fail(D1_E_UNSUPPORTED, "plan: HBM staging needs >= 20 semaphores");
    }
    int maxct = (int)cfg->node_threads - 1;
    c.cthreads = opts->cthreads ? opts->cthreads : (maxct >= 2 ? 2 : 1);
    if (c.cthreads > maxct)
        return d1_fail(D1_E_INVAL, "plan: %d compute threads need %d node threads", c.cthreads,
                       c.cthreads + 1);
    /* the B ring on its own DMA thread only on request: measured on one chip, the second
     * DMA thread cost 10-18% (it takes issue slots from the compute threads) and gained
     * nothing on 2 chips (doc/performance.md) */
    if (opts->dma_threads < 0 || opts->dma_threads > 2)
        return d1_fail(D1_E_INVAL, "plan: dma_threads is 1 or 2");
    c.dma_b = opts->dma_threads == 2;
    if (c.dma_b && (int)cfg->node_threads < c.cthreads + 2)
        return d1_fail(D1_E_INVAL, "plan: 2 DMA threads and %d compute threads need %d node "
                       "threads", c.cthreads, c.cthreads + 2);
    int smax = ((int)cfg->node_sems - sems_fixed(c.cthreads, c.hbm)) / 2;
    if (smax > D1K_MAX_SLOTS)
        smax = D1K_MAX_SLOTS;
    if (smax < 2)
        return d1_fail(D1_E_UNSUPPORTED, "plan: the matmul kernel needs %d semaphores for %d "
                       "compute thread(s)%s", sems_fixed(c.cthreads, c.hbm) + 4, c.cthreads,
                       c.hbm ? " and HBM staging" : "");
    int smin = 2;
    if (opts->slots) {
        if (c.hbm && (opts->slots & 1))
            return d1_fail(D1_E_INVAL, "plan: HBM staging needs an even slot count");
        if (opts->slots > smax)
            return d1_fail(D1_E_INVAL, "plan: %d slots need %d semaphores (the node has %u)",
                           opts->slots, 2 * opts->slots + sems_fixed(c.cthreads, c.hbm),
                           (unsigned)cfg->node_sems);
        smax = smin = opts->slots;
    }

    /* System targets: chip-blocked grids (each chip holds an lr x lc block of the grid, see
     * plan.h), so rings cross one chip edge per chip; otherwise (one chip, or a forced grid
     * or node count) flat grids over the node ids. */
    int cr = (int)(cfg->tile_chips_y * cfg->tiles_y), cc = (int)(cfg->tile_chips_x * cfg->tiles_x);
    bool blocked = opts->target == D1K_TARGET_SYSTEM && chips > 1 && !opts->pr && !opts->pc &&
                   !opts->max_nodes && (int64_t)cr * cc == chips;
    int64_t pr_hi = cdiv(op->M, 16) < maxn ? cdiv(op->M, 16) : maxn;
    if (blocked) {
        pr_hi = cdiv(op->M, 16) / cr;
        pr_hi = pr_hi < 1 ? 1 : pr_hi > per_chip ? per_chip : pr_hi;
    }
    for (int64_t it = 1; it <= pr_hi; it++) {
        int64_t pr = it, pc;
        if (blocked) {
            int64_t lc = per_chip / it, want = cdiv(cdiv(op->N, 32), cc);
            lc = lc < want ? lc : want < 1 ? 1 : want;
            pr = cr * it;
            pc = cc * lc;
            c.cr = cr, c.cc = cc, c.lr = (int)it, c.lc = (int)lc;
            c.per_chip = (uint32_t)per_chip;
            c.pr = (int)pr, c.pc = (int)pc;
            c.mb = rup(cdiv(op->M, pr), 16);
            c.nb = rup(cdiv(op->N, pc), 32);
            c.span = (uint32_t)((chips - 1) * per_chip + it * lc);
        } else {
            if (opts->pr && pr != opts->pr)
                continue;
            pc = maxn / pr;
            if (cdiv(op->N, 32) < pc)
                pc = cdiv(op->N, 32);
            if (opts->pc)
                pc = opts->pc;
            if (pc < 1 || pr * pc > maxn)
                continue;
            c.mb = rup(cdiv(op->M, pr), 16);
            c.nb = rup(cdiv(op->N, pc), 32);
            int64_t epr = cdiv(op->M, c.mb), epc = cdiv(op->N, c.nb); /* drop empty blocks */
            if (!opts->pr)
                c.pr = (int)epr;
            else
                c.pr = (int)pr;
            c.pc = opts->pc ? (int)pc : (int)epc;
            c.cr = c.cc = 1, c.lr = c.pr, c.lc = c.pc;
            c.per_chip = (uint32_t)(c.pr * c.pc);
            c.span = c.per_chip;
        }
        c.nodes = (uint32_t)(c.pr * c.pc);
        c.rp = c.mb / 16;
        c.cq = c.nb / 32;
        ring_geo geo;
        if (!geo_build(cfg, &c, &geo))
            return d1_fail(D1_E_NOMEM, "plan: out of memory");
        /* the deepest panel that fits, with the best slot count (ties: more slots) */
        int64_t kb = opts->kb ? opts->kb : (c.kpad < KB_MAX ? c.kpad : KB_MAX);
        int fits = 0;
        for (; kb >= 8 && !fits; kb = opts->kb ? 0 : (kb / 2) / 8 * 8) {
            int shi = smax;
            while (shi > smin && shi > (int)cdiv(c.kpad, kb) + 1) /* more slots than panels: no use */
                shi--;
            for (int sl = shi; sl >= smin; sl--) {
                if (c.hbm && (sl & 1)) /* HBM semaphores alternate with the slots' parity */
                    continue;
                if (!layout(&c, kb, sl, opts->chunk_bytes))
                    continue;
                if (c.hbm) {
                    c.hbm_region = (uint64_t)c.ares_panels * c.apanel_bytes +
                                   (uint64_t)c.bres_panels * c.bpanel_bytes;
                    uint64_t per_dip = (c.span + (uint32_t)c.ndips - 1) / (uint32_t)c.ndips;
                    if (per_dip * c.hbm_region > (uint64_t)cfg->hbm_bytes)
                        continue;
                    uint64_t bytes = (uint64_t)c.pr * (uint64_t)c.kpad / 4 * (uint64_t)c.rp * 128 +
                                     (uint64_t)c.pc * (uint64_t)c.kpad / 4 * (uint64_t)c.cq * 256;
                    c.hbm_bytes = bytes;
                    c.cyc_hbm = bytes / ((uint64_t)c.ndips * (uint64_t)cfg->hbm_bytes_per_cyc) +
                                (uint64_t)cfg->hbm_lat_cyc;
                }
                fits = 1;
                predict(&c, &geo, (uint64_t)cfg->serdes_bytes_per_cyc);
                if (!have || c.cyc_pred < best.cyc_pred ||
                    (c.cyc_pred == best.cyc_pred && c.nodes < best.nodes)) {
                    best = c;
                    have = 1;
                }
            }
        }
        geo_free(&geo);
    }
    if (!have)
        return d1_fail(D1_E_UNSUPPORTED,
                       "plan: matmul %" PRId64 "x%" PRId64 "x%" PRId64
                       " does not fit in SRAM on %" PRId64 " nodes (HBM streaming: not yet)",
                       op->M, op->N, op->K, maxn);
    /* exact reciprocals for the kernel's index arithmetic (node id -> chip, local, r, c) */
    best.magic = magic_of((uint64_t)best.pc);
    best.magic_pr = magic_of((uint64_t)best.pr);
    best.magic_slots = magic_of((uint64_t)best.slots);
    best.magic_chip = magic_of((uint64_t)best.per_chip);
    best.magic_lr = magic_of((uint64_t)best.lr);
    best.magic_lc = magic_of((uint64_t)best.lc);
    best.magic_cc = magic_of((uint64_t)best.cc);
    uint64_t pn = (uint64_t)best.npanels + 2;
    if (!magic_ok(best.magic, (uint64_t)best.pc, best.pc > (int)pn ? (uint64_t)best.pc : pn) ||
        !magic_ok(best.magic_pr, (uint64_t)best.pr, best.pr > (int)pn ? (uint64_t)best.pr : pn) ||
        !magic_ok(best.magic_slots, (uint64_t)best.slots, pn) ||
        !magic_ok(best.magic_chip, best.per_chip, best.span) ||
        !magic_ok(best.magic_lr, (uint64_t)best.lr, (uint64_t)best.pr) ||
        !magic_ok(best.magic_lc, (uint64_t)best.lc, best.per_chip > (uint32_t)best.pc ? best.per_chip : (uint64_t)best.pc) ||
        !magic_ok(best.magic_cc, (uint64_t)best.cc, (uint64_t)best.cr * (uint64_t)best.cc))
        return d1_fail(D1_E_UNSUPPORTED, "plan: no exact reciprocal for the %dx%d grid", best.pr,
                       best.pc);
    if (best.hbm) {
        best.magic_dips = magic_of((uint64_t)best.ndips);
        if (!magic_ok(best.magic_dips, (uint64_t)best.ndips, best.span))
            return d1_fail(D1_E_UNSUPPORTED, "plan: no exact reciprocal of %d", best.ndips);
        best.hbm_base = 0;
    }
    /* bytes placed in SRAM before the run and what streaming them from HBM would cost */
    size_t ea = d1_dtype_size(op->a_dtype), eb = d1_dtype_size(op->b_dtype);
    best.stage_bytes = (uint64_t)(op->M * op->K) * ea + (uint64_t)(op->K * op->N) * eb;
    if (op->accumulate)
        best.stage_bytes += (uint64_t)(op->M * op->N) * d1_dtype_size(op->c_dtype);
    int dips = count_dips(cfg);
    uint64_t hbm_bw = (uint64_t)(dips > 0 ? dips : 1) * (uint64_t)cfg->hbm_bytes_per_cyc;
    best.hbm_cyc_if_streamed =
        (best.stage_bytes + (uint64_t)(op->M * op->N) * d1_dtype_size(op->c_dtype)) / hbm_bw +
        (uint64_t)cfg->hbm_lat_cyc;
    *out = best;
    return D1_OK;
}

void d1k_plan_node_block(const d1k_plan *p, uint32_t q, int64_t *i0, int64_t *mi, int64_t *j0,
                         int64_t *nj)
{
    int64_t r = q / (uint32_t)p->pc, c = q % (uint32_t)p->pc;
    *i0 = r * p->mb;
    *j0 = c * p->nb;
    int64_t m = p->op.M - *i0, n = p->op.N - *j0;
    *mi = m < 0 ? 0 : (m < p->mb ? m : p->mb);
    *nj = n < 0 ? 0 : (n < p->nb ? n : p->nb);
}

int64_t d1k_plan_panel_ksteps(const d1k_plan *p, int q)
{
    return (q == p->npanels - 1 ? p->kb_last : p->kb) / 4;
}

uint32_t d1k_plan_node_id(const d1k_plan *p, int r, int c)
{
    uint32_t k = (uint32_t)(r / p->lr) * (uint32_t)p->cc + (uint32_t)(c / p->lc);
    return k * p->per_chip + (uint32_t)(r % p->lr) * (uint32_t)p->lc + (uint32_t)(c % p->lc);
}

uint32_t d1k_plan_a_owner(const d1k_plan *p, int r, int q, int *slot)
{
    if (slot)
        *slot = q / p->pc;
    return d1k_plan_node_id(p, r, q % p->pc);
}

uint32_t d1k_plan_b_owner(const d1k_plan *p, int c, int q, int *slot)
{
    if (slot)
        *slot = q / p->pr;
    return d1k_plan_node_id(p, q % p->pr, c);
}

static const char *dn(d1_dtype t) { return d1_dtype_name(t) ? d1_dtype_name(t) : "?"; }

void d1k_plan_print(const d1k_plan *p, FILE *f)
{
    const d1k_matmul_desc *o = &p->op;
    double us = (double)p->cyc_pred / p->clock_hz * 1e6;
    fprintf(f, "matmul C[%" PRId64 ",%" PRId64 "] %s= op(A)[%" PRId64 ",%" PRId64 "] op(B)[%" PRId64
               ",%" PRId64 "]   A %s%s  B %s%s  C %s%s\n",
            o->M, o->N, o->accumulate ? "+" : "", o->M, o->K, o->K, o->N, dn(o->a_dtype),
            o->trans_a ? " (transposed)" : "", dn(o->b_dtype), o->trans_b ? " (transposed)" : "",
            dn(o->c_dtype),
            o->c_dtype == D1_BF16 ? (o->round == D1_ROUND_STOCHASTIC ? " (stochastic)" : " (RNE)")
                                  : "");
    fprintf(f, "target: %u chip(s), %u usable nodes, config hash %016" PRIx64 ", SRAM %" PRId64 " B/node\n",
            p->chips, p->usable_nodes, p->config_hash, p->sram_bytes);
    fprintf(f, "\npartition (output-stationary SUMMA)\n");
    if (p->cr * p->cc > 1)
        fprintf(f, "  node grid      %d x %d = %u nodes (%.1f%% of usable), chip-blocked: %d x %d "
                   "chips of %d x %d, node id = chip*%u + (r mod %d)*%d + c mod %d\n",
                p->pr, p->pc, p->nodes, 100.0 * p->nodes / p->usable_nodes, p->cr, p->cc, p->lr,
                p->lc, p->per_chip, p->lr, p->lc, p->lc);
    else
        fprintf(f, "  node grid      %d x %d = %u nodes (%.1f%% of usable), node id = r*%d + c\n",
                p->pr, p->pc, p->nodes, 100.0 * p->nodes / p->usable_nodes, p->pc);
    fprintf(f, "  C block/node   %" PRId64 " x %" PRId64 " (padded to %" PRId64 " x %" PRId64
               "; last row/col of blocks ragged)\n",
            p->mb, p->nb, p->rp * 16, p->cq * 32);
    fprintf(f, "  matrix unit    %s, %" PRId64 " blocks of 16x32 (2x4 accumulators) per node, "
               "%d compute thread(s) + 1 DMA thread\n",
            p->cfp8 ? "mma.cfp8" : "mma.bf16", p->rp * p->cq, p->cthreads);
    fprintf(f, "  K              %" PRId64 " (padded to %" PRId64 "), %d panel(s) of %" PRId64
               " (last %" PRId64 "), k ascending per element\n",
            o->K, p->kpad, p->npanels, p->kb, p->kb_last);
    fprintf(f, "  staging        A panel q of row r resident on node (r, q mod %d); B panel q of "
               "col c on node (q mod %d, c)\n",
            p->pc, p->pr);
    fprintf(f, "  broadcast      ring PUT chains: A along node rows, B along node columns, "
               "%d slots per operand, credits upstream\n", p->slots);
    fprintf(f, "  DMA threads    %s\n", p->dma_b ? "2 (thread 0: A ring, thread cthreads+1: B ring)"
                                                 : "1 (thread 0: both rings)");
    fprintf(f, "  chains         A %d hops, %d chip-edge crossings, %" PRIu64
               " cycles; B %d hops, %d crossings, %" PRIu64 " cycles (one panel, worst ring)\n",
            p->pc - 1, p->serdes_a, p->lat_chain_a, p->pr - 1, p->serdes_b, p->lat_chain_b);
    fprintf(f, "\nSRAM per node (bytes)\n");
    fprintf(f, "  A slots %d x %" PRIu64 "  B slots %d x %" PRIu64 "  A resident %d x %" PRIu64
               "  B resident %d x %" PRIu64 "\n",
            p->slots, p->apanel_bytes, p->slots, p->bpanel_bytes, p->ares_panels, p->apanel_bytes, p->bres_panels,
            p->bpanel_bytes);
    fprintf(f, "  C fp32 %" PRIu64 "  C bf16 %" PRIu64 "  total %" PRIu64 " of %" PRId64
               " (%.0f%%)\n",
            p->cbuf_bytes, p->cout_bytes, p->map.end, p->sram_bytes,
            100.0 * (double)p->map.end / (double)p->sram_bytes);
    fprintf(f, "\nbytes moved\n");
    fprintf(f, "  staged into SRAM before the run  %" PRIu64 " (host layout conversion)\n",
            p->stage_bytes);
    fprintf(f, "  over the NoC (panel broadcasts)  %" PRIu64 "\n", p->noc_bytes);
    if (p->hbm)
        fprintf(f, "  HBM                              %" PRIu64 " (owners read their panels from "
                   "%d DIPs, 2 panel steps ahead)\n",
                p->hbm_bytes, p->ndips);
    else
        fprintf(f, "  HBM                              0 (operands SRAM-resident; streaming them "
                   "from DIP HBM would take %" PRIu64 " cycles)\n",
                p->hbm_cyc_if_streamed);
    fprintf(f, "\npredicted cycles (busiest node)\n");
    fprintf(f, "  compute  %12" PRIu64 "  (%" PRIu64 " mma at 1/cycle + block overheads)\n",
            p->cyc_compute, p->mma_per_node);
    fprintf(f, "  sram     %12" PRIu64 "  (load 200 B/cyc, store 135 B/cyc)\n", p->cyc_sram);
    fprintf(f, "  noc      %12" PRIu64 "  (panel forwarding through the 64 B/cyc router port)\n",
            p->cyc_noc);
    if (p->hbm)
        fprintf(f, "  hbm      %12" PRIu64 "  (operand panels through %d DIPs)\n", p->cyc_hbm,
                p->ndips);
    fprintf(f, "  chain    %12" PRIu64 "  (%d panels x longest chain / %d slots ahead)\n",
            p->cyc_chain, p->npanels, p->slots - 1);
    if (p->chips > 1)
        fprintf(f, "  serdes   %12" PRIu64 "  (ring bytes through the busiest chip edge)\n",
                p->cyc_serdes);
    fprintf(f, "  fill     %12" PRIu64 "  (first panel down the longest ring)\n", p->cyc_fill);
    fprintf(f, "  epilogue %12" PRIu64 "\n", p->cyc_epilogue);
    fprintf(f, "  total    %12" PRIu64 "  = %.2f us, %.2f TFLOPS, %.1f%% of peak; bound: %s\n",
            p->cyc_pred, us, p->pred_tflops, p->pred_pct_peak, p->bound);
}

void d1k_plan_print_json(const d1k_plan *p, FILE *f)
{
    fprintf(f,
            "{\"M\":%" PRId64 ",\"N\":%" PRId64 ",\"K\":%" PRId64 ",\"a\":\"%s\",\"b\":\"%s\","
            "\"c\":\"%s\",\"pr\":%d,\"pc\":%d,\"nodes\":%u,\"mb\":%" PRId64 ",\"nb\":%" PRId64
            ",\"kb\":%" PRId64 ",\"panels\":%d,\"sram_bytes\":%" PRIu64 ",\"noc_bytes\":%" PRIu64
            ",\"cyc_compute\":%" PRIu64 ",\"cyc_sram\":%" PRIu64 ",\"cyc_noc\":%" PRIu64
            ",\"slots\":%d,\"cyc_chain\":%" PRIu64 ",\"cyc_serdes\":%" PRIu64
            ",\"cyc_fill\":%" PRIu64 ",\"cyc_pred\":%" PRIu64 ",\"tflops\":%.3f,\"pct_peak\":%.2f,\"bound\":\"%s\"}\n",
            p->op.M, p->op.N, p->op.K, dn(p->op.a_dtype), dn(p->op.b_dtype), dn(p->op.c_dtype),
            p->pr, p->pc, p->nodes, p->mb, p->nb, p->kb, p->npanels, p->map.end, p->noc_bytes,
            p->cyc_compute, p->cyc_sram, p->cyc_noc, p->slots, p->cyc_chain, p->cyc_serdes,
            p->cyc_fill, p->cyc_pred, p->pred_tflops,
            p->pred_pct_peak, p->bound);
}
