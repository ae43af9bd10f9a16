/* The tile: chips, chip-edge and tile-edge links, DIPs, routing across chips, and the
 * parallel window engine (see tile.h, doc/tile.md). */
#include "tile.h"

#include "sim/elf/emit.h"
#include "sim/noc/noc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define NIL UINT32_MAX

enum { LINK_NONE = 0, LINK_SERDES = 1, LINK_TILE = 2 };

typedef struct chip_ctx {
    d1s_tile *t;
    uint32_t k;
    int cx, cy;
    /* synthetic traffic delivered on this chip (d1s_tile_traffic_run) */
    uint64_t tr_done, tr_lat_sum, tr_lat_max, tr_win_flits;
    /* probes delivered on this chip (written only by the thread stepping the chip) */
    uint64_t probe_pkts, probe_bytes, probe_first_cyc, probe_last_cyc;
} chip_ctx;

typedef struct dip_info {
    d1s_dip *dip;
    uint32_t chip;
    int edge;
    int a, b;        /* border line indices [a, b) of the chip edge it attaches to */
    uint32_t *nodes; /* global ids of the usable attach nodes (deduplicated) */
    size_t n_nodes, rr;
} dip_info;

typedef struct xref {
    uint64_t cyc, seq;
    uint32_t k;
    const d1s_chip_xpkt *x;
} xref;

/* A packet delivered into a chip by the exchange, as sent between processes (partitioned
 * tile). Key: (cyc, k, seq) of the packet that left chip k, then sub = which delivery of it
 * (0: over a link; 0, 1, ...: DIP responses) -- the order one process pushes them in. */
typedef struct xdel {
    uint64_t cyc, seq;
    uint32_t k, sub;
    uint32_t dk, border; /* destination chip, entry border node (local id) */
    uint64_t arrive;
    d1s_pkt pkt;
} xdel;

struct d1s_tile {
    const d1_config *cfg;
    d1s_tile_opts opts;
    const d1s_chip *like; /* during create only: routing table source of chip 0 */
    int cols, rows;       /* nodes per chip */
    int tcx, tcy;         /* chips per tile */
    int CX, CY;           /* chips in the system */
    uint32_t K, npc, nodes;
    d1s_chip **chip;
    chip_ctx *ctx;
    int *lx, *ly;        /* local id -> local position (same on every chip) */
    uint32_t *border[4]; /* side -> line index -> local id of the nearest usable node, NIL */
    d1s_xlink *link;     /* [K * 4] */
    uint8_t *link_kind;
    dip_info *dips;
    uint32_t ndips;
    uint64_t W;
    int threads;

    uint64_t now;
    uint64_t *next;
    d1s_chip_result *cres;
    d1_status *cst;
    xref *xs;
    size_t xs_cap;
    const d1s_chip_xpkt **xlists; /* [K] exchange: each chip's outbound list and count */
    size_t *xcounts;
    uint64_t xseq;
    uint64_t xpkts, dropped;
    d1_status xerr;
    d1_config noc_cfg; /* cfg with the routers' local ports as wide as a mesh link */
    int noc_cfg_ok;
    uint64_t tr_m0, tr_m1;   /* synthetic traffic: measurement window */
    uint64_t hbm_probe_cyc;  /* arrival of the HBM probe's response */
    uint64_t *probe_arrival; /* during d1s_tile_probe_batch: arrival cycle per probe */
    size_t n_probes;
    /* partitioning (d1s_tile_partition); unpartitioned: k0 = 0, k1 = K */
    int part, loaded;
    d1s_tile_comm comm;
    uint32_t k0, k1;
    int *owner; /* [K] rank stepping chip k */
    xdel *del;  /* this window's deliveries, then what arrived here */
    size_t del_n, del_cap;
    unsigned char *sbuf; /* deliveries sorted by destination rank */
    size_t sbuf_cap;
    size_t *scount, *rcount; /* [size] bytes */
    size_t *soff;            /* [size + 1] */
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}
static int opp(int d)
{
    return d ^ 2;
}

/* ---- geometry and routing ------------------------------------------------------------- */

static int line_len(const d1s_tile *t, int side)
{
    return side == D1S_TILE_N || side == D1S_TILE_S ? t->cols : t->rows;
}

/* Local id of the usable node nearest to line index i on border `side` (lower index first
 * on ties), NIL when the whole border line is harvested. */
static uint32_t border_search(const d1s_chip *c, int cols, int rows, int side, int i)
{
    int len = side == D1S_TILE_N || side == D1S_TILE_S ? cols : rows;
    for (int o = 0; o < len; o++) {
        for (int sgn = -1; sgn <= 1; sgn += 2) {
            int j = i + sgn * o;
            if (j < 0 || j >= len)
                continue;
            int x =
                side == D1S_TILE_N || side == D1S_TILE_S ? j : (side == D1S_TILE_E ? cols - 1 : 0);
            int y =
                side == D1S_TILE_W || side == D1S_TILE_E ? j : (side == D1S_TILE_S ? rows - 1 : 0);
            uint32_t id = d1s_chip_id_at(c, x, y);
            if (id != NIL)
                return id;
            if (o == 0)
                break;
        }
    }
    return NIL;
}

static int chip_of_dip(const d1s_tile *t, uint32_t dst, const dip_info **di)
{
    if (dst < t->nodes || dst - t->nodes >= t->ndips)
        return -1;
    *di = &t->dips[dst - t->nodes];
    return (int)(*di)->chip;
}

/* Target chip (tcx, tcy) and, for Y moves, the column to travel on. 0 on success. */
static int target_of(const d1s_tile *t, uint32_t src_local, uint32_t dst, int *tcx, int *tcy,
                     int *col, const dip_info **dip)
{
    *dip = NULL;
    if (dst < t->nodes) {
        uint32_t k = dst / t->npc;
        *tcx = (int)(k % (uint32_t)t->CX);
        *tcy = (int)(k / (uint32_t)t->CX);
        *col = t->lx[dst % t->npc];
        return 0;
    }
    const dip_info *di;
    if (chip_of_dip(t, dst, &di) < 0)
        return -1;
    *dip = di;
    *tcx = (int)(di->chip % (uint32_t)t->CX);
    *tcy = (int)(di->chip / (uint32_t)t->CX);
    int sx = t->lx[src_local];
    *col = di->edge == D1S_TILE_W ? 0
           : di->edge == D1S_TILE_E
               ? t->cols - 1
               : (sx >= di->a && sx < di->b ? sx : di->a + sx % (di->b - di->a));
    return 0;
}

/* Border node (local id) through which a packet at local node `cur` of chip (cx, cy)
 * leaves towards dst, with the side it leaves through (4 = into the DIP). */
static uint32_t route_exit(const d1s_tile *t, int cx, int cy, uint32_t cur, uint32_t dst, int *side)
{
    int tcx, tcy, col;
    const dip_info *di;
    if (target_of(t, cur, dst, &tcx, &tcy, &col, &di) < 0)
        return NIL;
    if (tcx != cx) {
        *side = tcx > cx ? D1S_TILE_E : D1S_TILE_W;
        return t->border[*side][t->ly[cur]];
    }
    if (tcy != cy) {
        *side = tcy > cy ? D1S_TILE_S : D1S_TILE_N;
        return t->border[*side][col];
    }
    if (!di)
        return NIL; /* on this chip: no exit */
    *side = 4;
    int s = di->edge == D1S_TILE_W || di->edge == D1S_TILE_E ? t->ly[cur] : t->lx[cur];
    int i = s >= di->a && s < di->b ? s : di->a + s % (di->b - di->a);
    return t->border[di->edge][i];
}

static uint32_t cb_exit_node(void *vctx, uint32_t src_local, uint32_t dst)
{
    const chip_ctx *cc = vctx;
    int side;
    return route_exit(cc->t, cc->cx, cc->cy, src_local, dst, &side);
}

static int cb_node_ok(void *vctx, uint32_t dst)
{
    const chip_ctx *cc = vctx;
    return dst < cc->t->nodes;
}

#define HBM_PROBE_SEM 0xfe

static int cb_deliver(void *vctx, const d1s_pkt *pkt, uint64_t now)
{
    chip_ctx *cc = vctx;
    if (pkt->kind == D1S_PKT_GETRSP && pkt->sem == HBM_PROBE_SEM && pkt->xfer_id == UINT32_MAX) {
        cc->t->hbm_probe_cyc = now; /* one probe in flight: one writer */
        return 1;
    }
    if (pkt->kind != D1S_TILE_PKT_PROBE)
        return 0;
    if (pkt->last == 2) { /* synthetic traffic: pad = measured */
        uint64_t lat = now - pkt->inject_cyc;
        if (pkt->pad) {
            cc->tr_done++;
            cc->tr_lat_sum += lat;
            if (lat > cc->tr_lat_max)
                cc->tr_lat_max = lat;
        }
        if (now >= cc->t->tr_m0 && now < cc->t->tr_m1)
            cc->tr_win_flits += (pkt->len_bytes + 63) / 64;
        return 1;
    }
    if (!cc->probe_pkts)
        cc->probe_first_cyc = now;
    cc->probe_pkts++;
    cc->probe_bytes += pkt->len_bytes;
    cc->probe_last_cyc = now;
    if (pkt->xfer_id < cc->t->n_probes)
        cc->t->probe_arrival[pkt->xfer_id] = now; /* distinct index per probe: no race */
    return 1;
}

static uint32_t cb_dip_node(void *vctx, uint32_t dip)
{
    const d1s_tile *t = vctx;
    return dip < t->ndips ? t->nodes + dip : NIL;
}

/* Neighbour chip through side d of chip k, or -1. */
static int64_t neighbour(const d1s_tile *t, uint32_t k, int d)
{
    int cx = (int)(k % (uint32_t)t->CX), cy = (int)(k / (uint32_t)t->CX);
    static const int dx[4] = {0, 1, 0, -1}, dy[4] = {-1, 0, 1, 0};
    int nx = cx + dx[d], ny = cy + dy[d];
    if (nx < 0 || ny < 0 || nx >= t->CX || ny >= t->CY)
        return -1;
    return (int64_t)ny * t->CX + nx;
}

/* Entry node (local id on the neighbour) of a packet leaving side d at local node b. */
static uint32_t entry_of(const d1s_tile *t, int d, uint32_t b)
{
    int i = d == D1S_TILE_E || d == D1S_TILE_W ? t->ly[b] : t->lx[b];
    return t->border[opp(d)][i];
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static d1_status setup_dips(d1s_tile *t)
{
    const char *edges = t->cfg->dip_edges ? t->cfg->dip_edges : "";
    static const char names[4] = {'n', 'e', 's', 'w'};
    int has[4] = {0};
    for (const char *p = edges; *p; p++) {
        int found = 0;
        for (int d = 0; d < 4; d++)
            if (*p == names[d] || *p == names[d] - 'a' + 'A') {
                if (has[d])
                    return d1_fail(D1_E_CONFIG, "dip_edges = \"%s\": edge '%c' repeated", edges,
                                   *p);
                has[d] = found = 1;
            }
        if (!found)
            return d1_fail(D1_E_CONFIG, "dip_edges = \"%s\": '%c' is not one of n, e, s, w", edges,
                           *p);
    }
    int D = (int)t->cfg->dips_per_edge;
    uint32_t ntiles = (uint32_t)(t->cfg->tiles_x * t->cfg->tiles_y);
    uint32_t nedges = (uint32_t)(has[0] + has[1] + has[2] + has[3]);
    t->ndips = ntiles * nedges * (uint32_t)D;
    if (!t->ndips)
        return D1_OK;
    t->dips = calloc(t->ndips, sizeof *t->dips);
    if (!t->dips)
        return d1_fail(D1_E_NOMEM, "tile: DIPs");
    uint32_t i = 0;
    for (int ty = 0; ty < (int)t->cfg->tiles_y; ty++)
        for (int tx = 0; tx < (int)t->cfg->tiles_x; tx++)
            for (int e = 0; e < 4; e++) {
                if (!has[e])
                    continue;
                int along = e == D1S_TILE_N || e == D1S_TILE_S ? t->tcx : t->tcy;
                for (int d = 0; d < D; d++, i++) {
                    dip_info *di = &t->dips[i];
                    int j = d * along / D; /* chip along the edge */
                    int first = 0, cnt = 0;
                    for (int q = 0; q < D; q++)
                        if (q * along / D == j) {
                            if (!cnt)
                                first = q;
                            cnt++;
                        }
                    int len = line_len(t, e), s = d - first;
                    di->a = s * len / cnt;
                    di->b = (s + 1) * len / cnt;
                    if (di->b <= di->a)
                        di->b = di->a + 1;
                    int ccx, ccy;
                    if (e == D1S_TILE_N || e == D1S_TILE_S) {
                        ccx = tx * t->tcx + j;
                        ccy = ty * t->tcy + (e == D1S_TILE_N ? 0 : t->tcy - 1);
                    } else {
                        ccy = ty * t->tcy + j;
                        ccx = tx * t->tcx + (e == D1S_TILE_W ? 0 : t->tcx - 1);
                    }
                    di->chip = (uint32_t)(ccy * t->CX + ccx);
                    di->edge = e;
                    di->nodes = calloc((size_t)(di->b - di->a), sizeof *di->nodes);
                    if (!di->nodes)
                        return d1_fail(D1_E_NOMEM, "tile: DIP attach list");
                    for (int l = di->a; l < di->b; l++) {
                        uint32_t b = t->border[e][l];
                        if (b == NIL)
                            continue;
                        uint32_t g = di->chip * t->npc + b;
                        int dup = 0;
                        for (size_t m = 0; m < di->n_nodes; m++)
                            dup |= di->nodes[m] == g;
                        if (!dup)
                            di->nodes[di->n_nodes++] = g;
                    }
                    if (!di->n_nodes)
                        return d1_fail(D1_E_CONFIG, "DIP %u: every attach position is harvested",
                                       i);
                    d1_status st = d1s_dip_create(t->cfg, t->nodes + i,
                                                  t->opts.mode == D1S_NODE_FUNCTIONAL, &di->dip);
                    if (st != D1_OK)
                        return st;
                }
            }
    return D1_OK;
}

static d1_status create_chip(d1s_tile *t, const d1s_chip_opts *co, uint32_t k)
{
    chip_ctx *cc = &t->ctx[k];
    d1s_chip_place pl;
    memset(&pl, 0, sizeof pl);
    pl.id_base = k * t->npc;
    pl.gx0 = cc->cx * t->cols;
    pl.gy0 = cc->cy * t->rows;
    pl.ctx = cc;
    pl.exit_node = cb_exit_node;
    pl.node_ok = cb_node_ok;
    pl.like = k ? t->chip[0] : t->like;
    pl.noc_cfg = &t->noc_cfg;
    d1_status st = d1s_chip_create_placed(t->cfg, co, &pl, &t->chip[k]);
    if (st == D1_OK)
        d1s_chip_set_deliver_hook(t->chip[k], cb_deliver, cc);
    return st;
}

d1_status d1s_tile_create(const d1_config *cfg, const d1s_tile_opts *opts, d1s_tile **out)
{
    return d1s_tile_create_like(cfg, opts, NULL, out);
}

d1_status d1s_tile_create_like(const d1_config *cfg, const d1s_tile_opts *opts,
                               const d1s_chip *like, d1s_tile **out)
{
    *out = NULL;
    d1_status st = D1_OK;
    d1s_tile *t = calloc(1, sizeof *t);
    if (!t)
        return d1_fail(D1_E_NOMEM, "tile");
    t->cfg = cfg;
    if (opts)
        t->opts = *opts;
    t->like = like;
    st = d1_config_copy(&t->noc_cfg, cfg);
    if (st != D1_OK)
        goto fail;
    t->noc_cfg_ok = 1;
    t->noc_cfg.router_in_bytes_per_cyc = cfg->link_bytes_per_cyc;
    t->noc_cfg.router_out_bytes_per_cyc = cfg->link_bytes_per_cyc;
    t->cols = (int)cfg->mesh_cols;
    t->rows = (int)cfg->mesh_rows;
    t->tcx = (int)cfg->tile_chips_x;
    t->tcy = (int)cfg->tile_chips_y;
    t->CX = t->tcx * (int)cfg->tiles_x;
    t->CY = t->tcy * (int)cfg->tiles_y;
    t->K = (uint32_t)(t->CX * t->CY);
    if (t->K > 65536) {
        st = d1_fail(D1_E_CONFIG, "%u chips: too many for one process", t->K);
        goto fail;
    }
    t->chip = calloc(t->K, sizeof *t->chip);
    t->ctx = calloc(t->K, sizeof *t->ctx);
    t->next = calloc(t->K, sizeof *t->next);
    t->cres = calloc(t->K, sizeof *t->cres);
    t->cst = calloc(t->K, sizeof *t->cst);
    t->link = calloc((size_t)t->K * 4, sizeof *t->link);
    t->link_kind = calloc((size_t)t->K * 4, 1);
    t->xlists = calloc(t->K, sizeof *t->xlists);
    t->xcounts = calloc(t->K, sizeof *t->xcounts);
    if (!t->chip || !t->ctx || !t->next || !t->cres || !t->cst || !t->link || !t->link_kind ||
        !t->xlists || !t->xcounts) {
        st = d1_fail(D1_E_NOMEM, "tile");
        goto fail;
    }
    d1s_chip_opts co = {t->opts.mode, D1S_NET_NOC, 1};
    /* chip 0 first (it fixes the node count per chip), then the others in parallel: building
     * a chip's routing tables dominates creation */
    for (uint32_t k = 0; k < t->K; k++) {
        chip_ctx *cc = &t->ctx[k];
        cc->t = t;
        cc->k = k;
        cc->cx = (int)(k % (uint32_t)t->CX);
        cc->cy = (int)(k / (uint32_t)t->CX);
    }
    st = create_chip(t, &co, 0);
    if (st != D1_OK)
        goto fail;
    t->npc = d1s_chip_node_count(t->chip[0]);
    t->nodes = t->npc * t->K;
    {
        int K = (int)t->K, nt = t->opts.threads > 0 ? t->opts.threads : (int)cfg->sim_threads;
        if (nt <= 0)
            nt = 2;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int k = 1; k < K; k++)
            t->cst[k] = create_chip(t, &co, (uint32_t)k);
        for (int k = 1; k < K; k++)
            if (t->cst[k] != D1_OK) {
                st = t->cst[k];
                goto fail;
            }
    }
    t->lx = calloc(t->npc + 1, sizeof *t->lx);
    t->ly = calloc(t->npc + 1, sizeof *t->ly);
    if (!t->lx || !t->ly) {
        st = d1_fail(D1_E_NOMEM, "tile");
        goto fail;
    }
    for (uint32_t id = 0; id < t->npc; id++)
        d1s_chip_node_xy(t->chip[0], id, &t->lx[id], &t->ly[id]);
    for (int d = 0; d < 4; d++) {
        int len = line_len(t, d);
        t->border[d] = malloc((size_t)len * sizeof *t->border[d]);
        if (!t->border[d]) {
            st = d1_fail(D1_E_NOMEM, "tile");
            goto fail;
        }
        for (int i = 0; i < len; i++)
            t->border[d][i] = border_search(t->chip[0], t->cols, t->rows, d, i);
    }
    /* edge links */
    uint64_t wmin = UINT64_MAX;
    for (uint32_t k = 0; k < t->K; k++)
        for (int d = 0; d < 4; d++) {
            int64_t nb = neighbour(t, k, d);
            if (nb < 0)
                continue;
            int cx = (int)(k % (uint32_t)t->CX), cy = (int)(k / (uint32_t)t->CX);
            int ncx = (int)(nb % t->CX), ncy = (int)(nb / t->CX);
            int same = cx / t->tcx == ncx / t->tcx && cy / t->tcy == ncy / t->tcy;
            size_t l = (size_t)k * 4 + (size_t)d;
            if (same) {
                t->link_kind[l] = LINK_SERDES;
                d1s_xlink_init(&t->link[l], (uint64_t)cfg->serdes_bytes_per_cyc, 1,
                               (uint64_t)cfg->serdes_lat_cyc);
                wmin = min_u64(wmin, (uint64_t)cfg->serdes_lat_cyc);
            } else {
                t->link_kind[l] = LINK_TILE;
                uint64_t along = (uint64_t)(d == D1S_TILE_E || d == D1S_TILE_W ? t->tcy : t->tcx);
                d1s_xlink_init(&t->link[l], (uint64_t)cfg->tile_edge_bytes_per_cyc, along,
                               (uint64_t)cfg->tile_link_lat_cyc);
                wmin = min_u64(wmin, (uint64_t)cfg->tile_link_lat_cyc);
            }
        }
    st = setup_dips(t);
    if (st != D1_OK)
        goto fail;
    if (t->ndips) {
        d1s_hbm_port hp = {t, cb_dip_node, (uint64_t)cfg->hbm_bytes};
        for (uint32_t id = 0; id < t->nodes; id++)
            d1s_node_set_hbm_port(d1s_tile_node(t, id), &hp);
    }
    if (t->ndips)
        wmin = min_u64(wmin, (uint64_t)cfg->dip_link_lat_cyc);
    if (wmin == UINT64_MAX)
        wmin = (uint64_t)cfg->serdes_lat_cyc;
    if (cfg->window_cyc > 0) {
        if ((uint64_t)cfg->window_cyc > wmin) {
            st =
                d1_fail(D1_E_CONFIG, "window_cyc = %lld exceeds the smallest crossing latency %llu",
                        (long long)cfg->window_cyc, (unsigned long long)wmin);
            goto fail;
        }
        wmin = (uint64_t)cfg->window_cyc;
    }
    t->W = wmin;
    t->k0 = 0;
    t->k1 = t->K;
    t->threads = t->opts.threads > 0 ? t->opts.threads : (int)cfg->sim_threads;
#ifdef _OPENMP
    if (t->threads <= 0)
        t->threads = omp_get_max_threads();
#else
    t->threads = 1;
#endif
    t->like = NULL;
    *out = t;
    return D1_OK;

fail:
    d1s_tile_destroy(t);
    return st;
}

void d1s_tile_destroy(d1s_tile *t)
{
    if (!t)
        return;
    for (uint32_t k = 0; t->chip && k < t->K; k++)
        d1s_chip_destroy(t->chip[k]);
    for (uint32_t i = 0; t->dips && i < t->ndips; i++) {
        d1s_dip_destroy(t->dips[i].dip);
        free(t->dips[i].nodes);
    }
    for (int d = 0; d < 4; d++)
        free(t->border[d]);
    free(t->dips);
    free(t->chip);
    free(t->ctx);
    free(t->next);
    free(t->cres);
    free(t->cst);
    free(t->link);
    free(t->link_kind);
    free(t->lx);
    free(t->ly);
    free(t->xs);
    free(t->xlists);
    free(t->xcounts);
    free(t->owner);
    free(t->del);
    free(t->sbuf);
    free(t->scount);
    free(t->rcount);
    free(t->soff);
    if (t->noc_cfg_ok)
        d1_config_fini(&t->noc_cfg);
    free(t);
}

int d1s_tile_chips_x(const d1s_tile *t)
{
    return t->CX;
}
int d1s_tile_chips_y(const d1s_tile *t)
{
    return t->CY;
}
uint32_t d1s_tile_chip_count(const d1s_tile *t)
{
    return t->K;
}
uint32_t d1s_tile_nodes_per_chip(const d1s_tile *t)
{
    return t->npc;
}
uint32_t d1s_tile_node_count(const d1s_tile *t)
{
    return t->nodes;
}
uint32_t d1s_tile_dip_count(const d1s_tile *t)
{
    return t->ndips;
}
uint64_t d1s_tile_window_cyc(const d1s_tile *t)
{
    return t->W;
}
int d1s_tile_threads(const d1s_tile *t)
{
    return t->threads;
}
int d1s_tile_width(const d1s_tile *t)
{
    return t->CX * t->cols;
}
int d1s_tile_height(const d1s_tile *t)
{
    return t->CY * t->rows;
}
uint64_t d1s_tile_now(const d1s_tile *t)
{
    return t->now;
}
d1s_chip *d1s_tile_chip(d1s_tile *t, uint32_t k)
{
    return k < t->K ? t->chip[k] : NULL;
}
d1s_dip *d1s_tile_dip(d1s_tile *t, uint32_t i)
{
    return i < t->ndips ? t->dips[i].dip : NULL;
}

d1s_node *d1s_tile_node(d1s_tile *t, uint32_t id)
{
    return id < t->nodes ? d1s_chip_node(t->chip[id / t->npc], id % t->npc) : NULL;
}

int d1s_tile_node_xy(const d1s_tile *t, uint32_t id, int *gx, int *gy)
{
    if (id >= t->nodes)
        return -1;
    uint32_t k = id / t->npc, l = id % t->npc;
    *gx = (int)(k % (uint32_t)t->CX) * t->cols + t->lx[l];
    *gy = (int)(k / (uint32_t)t->CX) * t->rows + t->ly[l];
    return 0;
}

uint32_t d1s_tile_node_at(const d1s_tile *t, int gx, int gy)
{
    if (gx < 0 || gy < 0 || gx >= t->CX * t->cols || gy >= t->CY * t->rows)
        return NIL;
    uint32_t k = (uint32_t)(gy / t->rows * t->CX + gx / t->cols);
    uint32_t l = d1s_chip_id_at(t->chip[k], gx % t->cols, gy % t->rows);
    return l == NIL ? NIL : k * t->npc + l;
}

size_t d1s_tile_snake(const d1s_tile *t, int k, uint32_t *out)
{
    int x0 = 0, y0 = 0, w = t->CX * t->cols, h = t->CY * t->rows;
    if (k >= 0) {
        if ((uint32_t)k >= t->K)
            return 0;
        x0 = k % t->CX * t->cols;
        y0 = k / t->CX * t->rows;
        w = t->cols;
        h = t->rows;
    }
    size_t n = 0;
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w; i++) {
            int x = y % 2 ? w - 1 - i : i;
            uint32_t id = d1s_tile_node_at(t, x0 + x, y0 + y);
            if (id != NIL)
                out[n++] = id;
        }
    return n;
}

d1_status d1s_tile_dip_attach(const d1s_tile *t, uint32_t i, uint32_t *chip, int *edge,
                              const uint32_t **nodes, size_t *n_nodes)
{
    if (i >= t->ndips)
        return d1_fail(D1_E_RANGE, "DIP %u of %u", i, t->ndips);
    if (chip)
        *chip = t->dips[i].chip;
    if (edge)
        *edge = t->dips[i].edge;
    if (nodes)
        *nodes = t->dips[i].nodes;
    if (n_nodes)
        *n_nodes = t->dips[i].n_nodes;
    return D1_OK;
}

/* ---- loading ------------------------------------------------------------------------------ */

d1_status d1s_tile_load_program(d1s_tile *t, uint32_t first, uint32_t last, const uint32_t *words,
                                size_t n_words, uint64_t entry)
{
    if (first > last || last >= t->nodes)
        return d1_fail(D1_E_INVAL, "nodes %u..%u outside the %u nodes", first, last, t->nodes);
    t->loaded = 1;
    for (uint32_t k = first / t->npc; k <= last / t->npc; k++) {
        if (k < t->k0 || k >= t->k1)
            continue; /* another process's chip */
        uint32_t lo = k * t->npc, hi = lo + t->npc - 1;
        uint32_t a = first > lo ? first : lo, b = last < hi ? last : hi;
        d1_status st = d1s_chip_load_program(t->chip[k], a - lo, b - lo, words, n_words, entry);
        if (st != D1_OK)
            return st;
        t->next[k] = min_u64(t->next[k], t->now);
    }
    return D1_OK;
}

d1_status d1s_tile_load_image(d1s_tile *t, uint32_t id, uint64_t addr, const void *bytes,
                              size_t size)
{
    if (id >= t->nodes)
        return d1_fail(D1_E_INVAL, "node %u outside the %u nodes", id, t->nodes);
    t->loaded = 1;
    if (id / t->npc < t->k0 || id / t->npc >= t->k1)
        return D1_OK; /* another process's chip */
    return d1s_chip_load_image(t->chip[id / t->npc], id % t->npc, addr, bytes, size);
}

d1_status d1s_tile_load_kernel(d1s_tile *t, const d1s_kernel *k)
{
    /* images first; then every run of adjacent placements with the same program and entry is
     * started with one load (collective kernels place one program on thousands of single
     * nodes, each with its own parameter image: one predecoded copy per chip, not per node) */
    size_t npl = d1s_kernel_placement_count(k);
    uint32_t run_first = 0, run_last = 0, run_prog = 0;
    uint64_t run_entry = 0;
    int have_run = 0;
    for (size_t i = 0; i <= npl; i++) {
        const d1s_placement *pl = i < npl ? d1s_kernel_placement(k, i) : NULL;
        uint32_t last = 0;
        if (pl) {
            last = pl->node_last == D1S_NODE_LAST ? t->nodes - 1 : pl->node_last;
            if (!d1s_kernel_program(k, pl->program))
                return d1_fail(D1_E_INVAL, "placement %zu: no program %u", i, pl->program);
            if (pl->node_first > last || last >= t->nodes)
                return d1_fail(D1_E_INVAL, "placement %zu: nodes %u..%u outside the %u nodes", i,
                               pl->node_first, last, t->nodes);
            for (uint32_t id = pl->node_first; id <= last; id++)
                for (size_t m = 0; m < pl->n_images; m++) {
                    const d1s_image *img = d1s_kernel_image(k, pl->images[m]);
                    if (!img)
                        return d1_fail(D1_E_INVAL, "placement %zu: no image %u", i, pl->images[m]);
                    d1_status st = d1s_tile_load_image(t, id, img->addr, img->bytes, img->size);
                    if (st != D1_OK)
                        return st;
                }
            if (have_run && pl->program == run_prog && pl->entry == run_entry &&
                pl->node_first == run_last + 1) {
                run_last = last;
                continue;
            }
        }
        if (have_run) {
            const d1s_program *pr = d1s_kernel_program(k, run_prog);
            d1_status st =
                d1s_tile_load_program(t, run_first, run_last, pr->words, pr->n_words, run_entry);
            if (st != D1_OK)
                return st;
        }
        if (pl) {
            have_run = 1;
            run_first = pl->node_first;
            run_last = last;
            run_prog = pl->program;
            run_entry = pl->entry;
        }
    }
    return D1_OK;
}

/* ---- window exchange ------------------------------------------------------------------------ */

static int xref_cmp(const void *pa, const void *pb)
{
    const xref *a = pa, *b = pb;
    if (a->cyc != b->cyc)
        return a->cyc < b->cyc ? -1 : 1;
    if (a->k != b->k)
        return a->k < b->k ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void push_in(d1s_tile *t, uint32_t k, const d1s_pkt *pkt, uint32_t border, uint64_t cyc)
{
    d1s_chip_xpkt y;
    y.pkt = *pkt;
    y.border = border;
    y.aux = 0;
    y.cyc = cyc;
    y.seq = t->xseq++;
    d1_status st = d1s_chip_push_inbound(t->chip[k], &y);
    if (st != D1_OK && t->xerr == D1_OK)
        t->xerr = st;
    t->next[k] = min_u64(t->next[k], cyc);
}

/* Deliver a packet into chip dk at border node `border`, arriving at `arrive`: the `sub`-th
 * delivery caused by the packet r that left a chip. One process pushes it at once (the
 * packets are processed in key order); a partitioned tile collects it for the exchange
 * between processes (exchange_part). */
static void deliver(d1s_tile *t, const xref *r, uint32_t sub, uint32_t dk, const d1s_pkt *pkt,
                    uint32_t border, uint64_t arrive)
{
    if (!t->part) {
        push_in(t, dk, pkt, border, arrive);
        return;
    }
    if (t->del_n == t->del_cap) {
        size_t cap = t->del_cap ? t->del_cap * 2 : 1024;
        xdel *v = realloc(t->del, cap * sizeof *v);
        if (!v) {
            if (t->xerr == D1_OK)
                t->xerr = d1_fail(D1_E_NOMEM, "tile: exchange of %zu packets", cap);
            return;
        }
        t->del = v;
        t->del_cap = cap;
    }
    xdel *d = &t->del[t->del_n++];
    memset(d, 0, sizeof *d);
    d->cyc = r->cyc;
    d->seq = r->seq;
    d->k = r->k;
    d->sub = sub;
    d->dk = dk;
    d->border = border;
    d->arrive = arrive;
    d->pkt = *pkt;
}

typedef struct emit_ctx {
    d1s_tile *t;
    dip_info *di;
    const xref *r;
    uint32_t sub;
} emit_ctx;

static void dip_emit(void *vctx, const d1s_pkt *pkt, uint64_t arrive_cyc)
{
    emit_ctx *e = vctx;
    uint32_t g = e->di->nodes[e->di->rr++ % e->di->n_nodes];
    deliver(e->t, e->r, e->sub++, g / e->t->npc, pkt, g % e->t->npc, arrive_cyc);
}

/* Bytes a packet occupies on a crossing link: whole flits (a read request is one flit). */
static uint64_t wire_bytes(const d1s_tile *t, const d1s_pkt *p)
{
    uint64_t fb = (uint64_t)t->cfg->flit_bytes;
    uint64_t b = p->kind == D1S_PKT_GETREQ ? 0 : p->len_bytes;
    uint64_t f = (b + fb - 1) / fb;
    return (f ? f : 1) * fb;
}

static int xdel_cmp(const void *pa, const void *pb)
{
    const xdel *a = pa, *b = pb;
    if (a->cyc != b->cyc)
        return a->cyc < b->cyc ? -1 : 1;
    if (a->k != b->k)
        return a->k < b->k ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return a->sub < b->sub ? -1 : a->sub > b->sub;
}

/* Partitioned tile: send every collected delivery to the process owning its destination
 * chip (one alltoallv), then push what arrived here in key order -- the order one process
 * pushes them in, so each chip's inbound queue sees the same (cycle, order) sequence. Always
 * called by every process (collective), even after a local error. */
static d1_status exchange_part(d1s_tile *t)
{
    const int S = t->comm.size;
    size_t n = t->del_n;
    for (int r = 0; r < S; r++)
        t->scount[r] = 0;
    for (size_t i = 0; i < n; i++)
        t->scount[t->owner[t->del[i].dk]] += sizeof(xdel);
    if (n * sizeof(xdel) > t->sbuf_cap) {
        size_t cap = n * sizeof(xdel) * 2;
        unsigned char *v = realloc(t->sbuf, cap);
        if (!v) {
            if (t->xerr == D1_OK)
                t->xerr = d1_fail(D1_E_NOMEM, "tile: exchange of %zu packets", n);
            for (int r = 0; r < S; r++)
                t->scount[r] = 0;
            n = 0;
        } else {
            t->sbuf = v;
            t->sbuf_cap = cap;
        }
    }
    /* stable counting sort by destination rank: each rank's block stays in key order */
    size_t *off = t->soff;
    off[0] = 0;
    for (int r = 0; r < S; r++)
        off[r + 1] = off[r] + t->scount[r];
    for (size_t i = 0; i < n; i++) {
        int r = t->owner[t->del[i].dk];
        memcpy(t->sbuf + off[r], &t->del[i], sizeof(xdel));
        off[r] += sizeof(xdel);
    }
    const void *recv = NULL;
    d1_status st = t->comm.alltoallv(t->comm.ctx, t->sbuf, t->scount, &recv, t->rcount);
    t->del_n = 0;
    if (st != D1_OK)
        return st;
    size_t bytes = 0;
    for (int r = 0; r < S; r++)
        bytes += t->rcount[r];
    size_t m = bytes / sizeof(xdel);
    if (m > t->del_cap) {
        xdel *v = realloc(t->del, m * sizeof *v);
        if (!v)
            return d1_fail(D1_E_NOMEM, "tile: exchange of %zu packets", m);
        t->del = v;
        t->del_cap = m;
    }
    if (m)
        memcpy(t->del, recv, m * sizeof(xdel));
    if (m > 1)
        qsort(t->del, m, sizeof *t->del, xdel_cmp);
    for (size_t i = 0; i < m; i++) {
        const xdel *d = &t->del[i];
        if (d->dk < t->k0 || d->dk >= t->k1)
            return d1_fail(D1_E_STATE, "tile: packet for chip %u reached the wrong process", d->dk);
        push_in(t, d->dk, &d->pkt, d->border, d->arrive);
    }
    return D1_OK;
}

static d1_status exchange(d1s_tile *t)
{
    size_t n = 0;
    /* gather (the chips' lists stay valid until they are stepped again) */
    size_t total = 0;
    const d1s_chip_xpkt **lists = t->xlists;
    size_t *counts = t->xcounts;
    for (uint32_t k = t->k0; k < t->k1; k++) {
        lists[k] = d1s_chip_take_outbound(t->chip[k], &counts[k]);
        total += counts[k];
    }
    if (total > t->xs_cap) {
        size_t cap = total * 2;
        xref *v = realloc(t->xs, cap * sizeof *v);
        if (!v) {
            d1_status st = d1_fail(D1_E_NOMEM, "tile: exchange of %zu packets", total);
            if (t->part)
                exchange_part(t); /* the others wait for this process */
            return st;
        }
        t->xs = v;
        t->xs_cap = cap;
    }
    for (uint32_t k = t->k0; k < t->k1; k++)
        for (size_t i = 0; i < counts[k]; i++) {
            xref *r = &t->xs[n++];
            r->cyc = lists[k][i].cyc;
            r->seq = lists[k][i].seq;
            r->k = k;
            r->x = &lists[k][i];
        }
    if (n > 1)
        qsort(t->xs, n, sizeof *t->xs, xref_cmp);
    /* the links and DIPs a packet uses belong to the chip it left: a process touches only
     * its own, in the same relative order as one process */
    for (size_t i = 0; i < n; i++) {
        const xref *xr = &t->xs[i];
        const d1s_chip_xpkt *x = xr->x;
        uint32_t k = xr->k;
        int side = -1;
        int cx = (int)(k % (uint32_t)t->CX), cy = (int)(k / (uint32_t)t->CX);
        uint32_t b = route_exit(t, cx, cy, x->border, x->pkt.dst, &side);
        t->xpkts++;
        if (b == NIL) {
            t->dropped++;
            continue;
        }
        if (side == 4) {
            dip_info *di = &t->dips[x->pkt.dst - t->nodes];
            emit_ctx e = {t, di, xr, 0};
            d1s_dip_from_tile(di->dip, &x->pkt, x->cyc, dip_emit, &e);
            continue;
        }
        int64_t nb = neighbour(t, k, side);
        size_t l = (size_t)k * 4 + (size_t)side;
        if (nb < 0 || !t->link_kind[l]) {
            t->dropped++;
            continue;
        }
        uint64_t arrive = d1s_xlink_send(&t->link[l], x->cyc, wire_bytes(t, &x->pkt));
        uint32_t e = entry_of(t, side, x->border);
        if (e == NIL) {
            t->dropped++;
            continue;
        }
        deliver(t, xr, 0, (uint32_t)nb, &x->pkt, e, arrive);
    }
    d1_status st = t->part ? exchange_part(t) : D1_OK;
    if (st == D1_OK)
        st = t->xerr;
    t->xerr = D1_OK;
    return st;
}

/* ---- partitioning ------------------------------------------------------------------------ */

d1_status d1s_tile_partition(d1s_tile *t, const d1s_tile_comm *comm)
{
    if (t->part)
        return d1_fail(D1_E_STATE, "tile: already partitioned");
    if (t->loaded || t->now)
        return d1_fail(D1_E_STATE, "tile: partition before loading or running anything");
    if (!comm || comm->size < 1 || comm->rank < 0 || comm->rank >= comm->size || !comm->alltoallv ||
        !comm->allreduce || !comm->bcast)
        return d1_fail(D1_E_INVAL, "tile: bad communicator");
    if ((uint32_t)comm->size > t->K)
        return d1_fail(D1_E_CONFIG,
                       "%d processes for %u chips: at most one process per chip (use fewer "
                       "ranks or a larger system)",
                       comm->size, t->K);
    t->owner = malloc((size_t)t->K * sizeof *t->owner);
    t->scount = calloc((size_t)comm->size, sizeof *t->scount);
    t->rcount = calloc((size_t)comm->size, sizeof *t->rcount);
    t->soff = calloc((size_t)comm->size + 1, sizeof *t->soff);
    if (!t->owner || !t->scount || !t->rcount || !t->soff)
        return d1_fail(D1_E_NOMEM, "tile: partition");
    uint64_t S = (uint64_t)comm->size, K = t->K;
    for (uint64_t r = 0; r < S; r++)
        for (uint64_t k = r * K / S; k < (r + 1) * K / S; k++)
            t->owner[k] = (int)r;
    t->comm = *comm;
    t->k0 = (uint32_t)((uint64_t)comm->rank * K / S);
    t->k1 = (uint32_t)((uint64_t)(comm->rank + 1) * K / S);
    t->part = 1;
    return D1_OK;
}

void d1s_tile_own_chips(const d1s_tile *t, uint32_t *first, uint32_t *end)
{
    *first = t->k0;
    *end = t->k1;
}

static d1_status single_process(const d1s_tile *t, const char *what)
{
    return t->part
               ? d1_fail(D1_E_STATE, "tile: %s runs in one process only (partitioned tile)", what)
               : D1_OK;
}

/* ---- running -------------------------------------------------------------------------------- */

static int trap_less(const d1s_trap *a, const d1s_trap *b)
{
    return a->cycle != b->cycle ? a->cycle < b->cycle : a->node < b->node;
}

/* What every process needs at a window edge; MIN-reduced over the processes (largest values
 * stored as UINT64_MAX - x). */
enum { G_NEXT, G_LP, G_TRAPC, G_ERR, G_N };

static d1_status sync_window(d1s_tile *t, uint64_t *g, d1_status st, const d1s_trap *first,
                             uint64_t last_progress)
{
    g[G_NEXT] = D1S_NO_EVENT;
    for (uint32_t k = t->k0; k < t->k1; k++)
        g[G_NEXT] = min_u64(g[G_NEXT], t->next[k]);
    g[G_LP] = UINT64_MAX - last_progress;
    g[G_TRAPC] = first ? first->cycle : UINT64_MAX;
    g[G_ERR] = st == D1_OK ? UINT64_MAX : (uint64_t)(uint32_t)st;
    d1_status cs = t->part ? t->comm.allreduce(t->comm.ctx, g, G_N, D1S_TILE_MIN) : D1_OK;
    if (st != D1_OK)
        return st; /* this process's own error (and message) */
    if (cs != D1_OK)
        return cs;
    if (g[G_ERR] != UINT64_MAX)
        return d1_fail((d1_status)(int32_t)(uint32_t)g[G_ERR],
                       "tile: another process of the partitioned tile failed");
    return D1_OK;
}

/* The trap with the lowest (cycle, node) over the processes, given this process's own first
 * trap (NULL: none). 1 and *out if there is one. */
static int global_first_trap(d1s_tile *t, const d1s_trap *mine, d1s_trap *out, d1_status *st)
{
    *st = D1_OK;
    if (!t->part) {
        if (mine)
            *out = *mine;
        return mine != NULL;
    }
    uint64_t v = mine ? mine->cycle : UINT64_MAX;
    if ((*st = t->comm.allreduce(t->comm.ctx, &v, 1, D1S_TILE_MIN)) != D1_OK || v == UINT64_MAX)
        return 0;
    uint64_t cyc = v;
    v = mine && mine->cycle == cyc ? mine->node : UINT64_MAX;
    if ((*st = t->comm.allreduce(t->comm.ctx, &v, 1, D1S_TILE_MIN)) != D1_OK)
        return 0;
    uint32_t k = (uint32_t)(v / t->npc);
    int root = k < t->K ? t->owner[k] : 0;
    if (root == t->comm.rank && mine)
        *out = *mine;
    *st = t->comm.bcast(t->comm.ctx, out, sizeof *out, root);
    return *st == D1_OK;
}

/* Blame the first stuck chip (lowest id) of the whole system. */
static d1_status raise_first(d1s_tile *t, d1s_trap_cause cause, uint64_t at)
{
    for (int r = 0; r < (t->part ? t->comm.size : 1); r++) {
        uint64_t v = UINT64_MAX;
        if (!t->part || r == t->comm.rank)
            for (uint32_t k = t->k0; k < t->k1; k++)
                if (d1s_chip_raise_stuck(t->chip[k], cause, at)) {
                    v = 0;
                    break;
                }
        if (t->part) {
            d1_status st = t->comm.allreduce(t->comm.ctx, &v, 1, D1S_TILE_MIN);
            if (st != D1_OK)
                return st;
        }
        if (!v)
            break;
    }
    return D1_OK;
}

d1_status d1s_tile_run(d1s_tile *t, uint64_t max_cycles, d1s_tile_result *res)
{
    memset(res, 0, sizeof *res);
    uint64_t limit = max_cycles ? max_cycles : UINT64_MAX;
    uint64_t watchdog = (uint64_t)t->cfg->watchdog_cyc;
    uint64_t last_progress = t->now;
    uint64_t x0 = t->xpkts, cyc_max = 0, cyc_fix = 0;
    int has_fix = 0;
    d1_status st = D1_OK;
    for (uint32_t k = t->k0; k < t->k1 && st == D1_OK; k++) {
        d1s_chip_result r;
        st = d1s_chip_advance(t->chip[k], t->now, &r, &t->next[k]);
    }
    uint64_t g[G_N];
    const d1s_trap *first = NULL;
    if ((st = sync_window(t, g, st, NULL, last_progress)) != D1_OK)
        return st;
    const int nthreads = t->threads;
    for (;;) {
        uint64_t T = g[G_NEXT];
        last_progress = UINT64_MAX - g[G_LP];
        if (g[G_TRAPC] != UINT64_MAX) { /* a guest trap in the last window */
            d1s_trap tr;
            memset(&tr, 0, sizeof tr);
            if (!global_first_trap(t, first, &tr, &st))
                return st != D1_OK ? st : d1_fail(D1_E_STATE, "tile: trap lost");
            res->end = D1S_END_TRAP;
            res->trap = tr;
            cyc_fix = tr.cycle + 1;
            has_fix = 1;
            break;
        }
        if (T == D1S_NO_EVENT) {
            uint64_t busy = UINT64_MAX;
            for (uint32_t k = t->k0; k < t->k1 && busy; k++)
                busy = d1s_chip_quiescent(t->chip[k]) ? UINT64_MAX : 0;
            if (t->part && (st = t->comm.allreduce(t->comm.ctx, &busy, 1, D1S_TILE_MIN)) != D1_OK)
                return st;
            if (busy) {
                res->end = D1S_END_HALTED;
                break;
            }
            if ((st = raise_first(t, D1S_TRAP_DEADLOCK, t->now > 0 ? t->now - 1 : 0)) != D1_OK)
                return st;
            res->end = D1S_END_TRAP;
            break;
        }
        if (T >= limit) {
            res->end = D1S_END_MAX_CYCLES;
            cyc_fix = limit;
            has_fix = 1;
            if (limit > t->now)
                t->now = limit; /* nothing happens before limit: the tile is there */
            break;
        }
        if (T > last_progress + watchdog) {
            if ((st = raise_first(t, D1S_TRAP_WATCHDOG, last_progress + watchdog)) != D1_OK)
                return st;
            res->end = D1S_END_TRAP;
            break;
        }
        uint64_t t_end = T + t->W < limit ? T + t->W : limit;
        const uint64_t *next = t->next;
        d1s_chip **chip = t->chip;
        d1s_chip_result *cres = t->cres;
        d1_status *cst = t->cst;
        int k0 = (int)t->k0, k1 = (int)t->k1, active = 0;
        for (int k = k0; k < k1 && active < 2; k++)
            active += next[k] < t_end;
            /* a window with one busy chip is not worth waking the other threads */
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) if (active > 1 && nthreads > 1)
        for (int k = k0; k < k1; k++) {
            if (next[k] < t_end)
                cst[k] = d1s_chip_advance(chip[k], t_end, &cres[k], &t->next[k]);
            else {
                cst[k] = D1_OK;
                cres[k].end = D1S_END_MAX_CYCLES;
                cres[k].cycles = 0;
            }
        }
        res->windows++;
        first = NULL;
        st = D1_OK;
        for (uint32_t k = t->k0; k < t->k1; k++) {
            if (t->cst[k] != D1_OK) {
                st = t->cst[k];
                break;
            }
            if (t->cres[k].cycles > cyc_max)
                cyc_max = t->cres[k].cycles;
            if (t->cres[k].end == D1S_END_TRAP && (!first || trap_less(&t->cres[k].trap, first)))
                first = &t->cres[k].trap;
            uint64_t lp = d1s_chip_last_progress(t->chip[k]);
            if (lp > last_progress)
                last_progress = lp;
        }
        t->now = t_end;
        if (st == D1_OK || t->part) { /* partitioned: the others wait in the exchange */
            d1_status xs = exchange(t);
            if (st == D1_OK)
                st = xs;
        }
        if ((st = sync_window(t, g, st, first, last_progress)) != D1_OK)
            return st;
    }
    if (t->part && (st = t->comm.allreduce(t->comm.ctx, &cyc_max, 1, D1S_TILE_MAX)) != D1_OK)
        return st;
    res->cycles = has_fix ? cyc_fix : cyc_max;
    if (res->end == D1S_END_TRAP && !res->trap.cause) {
        const d1s_trap *mine = NULL;
        for (uint32_t k = t->k0; k < t->k1; k++) {
            const d1s_trap *tr = d1s_chip_trap(t->chip[k]);
            if (tr && (!mine || trap_less(tr, mine)))
                mine = tr;
        }
        d1s_trap tr;
        memset(&tr, 0, sizeof tr);
        if (global_first_trap(t, mine, &tr, &st)) {
            res->trap = tr;
            res->cycles = tr.cycle + 1;
        } else if (st != D1_OK)
            return st;
    }
    for (uint32_t k = t->k0; k < t->k1; k++)
        d1s_chip_finish(t->chip[k], res->cycles);
    res->xpkts = t->xpkts - x0;
    if (t->part && (st = t->comm.allreduce(t->comm.ctx, &res->xpkts, 1, D1S_TILE_SUM)) != D1_OK)
        return st;
    return D1_OK;
}

/* ---- probes and the zero-load formula -------------------------------------------------------- */

d1_status d1s_tile_probe_batch(d1s_tile *t, const d1s_tile_probe_req *req, size_t n,
                               uint64_t max_cycles, uint64_t *lat_cyc)
{
    if (t->part)
        return single_process(t, "a probe");
    if (n > UINT32_MAX)
        return d1_fail(D1_E_INVAL, "%zu probes: too many", n);
    for (size_t i = 0; i < n; i++) {
        if (req[i].src >= t->nodes || req[i].dst >= t->nodes)
            return d1_fail(D1_E_INVAL, "probe %u -> %u: node ids are below %u", req[i].src,
                           req[i].dst, t->nodes);
        if (req[i].size_bytes < 1 || req[i].size_bytes > D1S_PKT_BYTES)
            return d1_fail(D1_E_INVAL, "probe of %u bytes (1..64)", req[i].size_bytes);
    }
    uint64_t *arr = malloc((n ? n : 1) * sizeof *arr);
    if (!arr)
        return d1_fail(D1_E_NOMEM, "probes");
    for (size_t i = 0; i < n; i++)
        arr[i] = UINT64_MAX;
    t->probe_arrival = arr;
    t->n_probes = n;
    uint64_t t0 = t->now;
    for (size_t i = 0; i < n; i++) {
        d1s_pkt p;
        memset(&p, 0, sizeof p);
        p.kind = D1S_TILE_PKT_PROBE;
        p.len_bytes = req[i].size_bytes;
        p.src = req[i].src;
        p.dst = req[i].dst;
        p.xfer_id = (uint32_t)i;
        p.xfer_len = req[i].size_bytes;
        p.inject_cyc = t0 + req[i].offset_cyc;
        push_in(t, req[i].src / t->npc, &p, req[i].src % t->npc, p.inject_cyc);
    }
    d1s_tile_result r;
    d1_status st = t->xerr;
    t->xerr = D1_OK;
    if (st == D1_OK)
        st = d1s_tile_run(t, t0 + max_cycles, &r);
    for (size_t i = 0; i < n; i++)
        lat_cyc[i] = arr[i] == UINT64_MAX ? UINT64_MAX : arr[i] - (t0 + req[i].offset_cyc);
    t->probe_arrival = NULL;
    t->n_probes = 0;
    free(arr);
    return st;
}

d1_status d1s_tile_probe(d1s_tile *t, uint32_t src, uint32_t dst, uint32_t size_bytes,
                         uint64_t *lat_cyc)
{
    d1s_tile_probe_req q = {src, dst, size_bytes, 0};
    d1_status st = d1s_tile_probe_batch(t, &q, 1, 10000000, lat_cyc);
    if (st == D1_OK && *lat_cyc == UINT64_MAX)
        return d1_fail(D1_E_STATE, "probe %u -> %u not delivered", src, dst);
    return st;
}

d1_status d1s_tile_zero_load(const d1s_tile *t, uint32_t src, uint32_t dst, uint32_t size_bytes,
                             d1s_tile_path *out)
{
    memset(out, 0, sizeof *out);
    if (src >= t->nodes || (dst >= t->nodes && dst - t->nodes >= t->ndips))
        return d1_fail(D1_E_INVAL, "path %u -> %u: no such node or DIP", src, dst);
    uint32_t k = src / t->npc, cur = src % t->npc;
    for (uint32_t guard = 0; guard <= 4 * t->K + 4; guard++) {
        d1s_noc *noc = d1s_chip_noc(t->chip[k]);
        int cx = (int)(k % (uint32_t)t->CX), cy = (int)(k / (uint32_t)t->CX);
        int side = -1;
        uint32_t to = dst < t->nodes && dst / t->npc == k ? dst % t->npc
                                                          : route_exit(t, cx, cy, cur, dst, &side);
        if (to == NIL)
            return d1_fail(D1_E_INVAL, "no route from node %u to %u", src, dst);
        uint32_t a = d1s_noc_node_id(noc, t->lx[cur], t->ly[cur]);
        uint32_t b = d1s_noc_node_id(noc, t->lx[to], t->ly[to]);
        uint32_t hops = 0;
        uint64_t net = 0, pkt = 0;
        uint32_t flits = d1s_noc_flits_for_bytes(noc, size_bytes);
        d1_status st = d1s_noc_route(noc, a, b, &hops, NULL);
        if (st == D1_OK)
            st = d1s_noc_zero_load_lat(noc, a, b, flits, &net, &pkt);
        if (st != D1_OK)
            return st;
        out->hops += hops;
        out->segments++;
        out->noc_cyc += pkt;
        out->lat_cyc += pkt;
        if (side < 0)
            return D1_OK;
        uint64_t wire = (uint64_t)flits * (uint64_t)t->cfg->flit_bytes;
        if (side == 4) {
            const d1s_xlink *l = d1s_dip_link_in(t->dips[dst - t->nodes].dip);
            uint64_t ser = (wire * l->den + l->num - 1) / l->num;
            out->serial_cyc += ser;
            out->xlat_cyc += l->lat_cyc;
            out->lat_cyc += ser + l->lat_cyc;
            return D1_OK;
        }
        size_t li = (size_t)k * 4 + (size_t)side;
        int64_t nb = neighbour(t, k, side);
        if (nb < 0 || !t->link_kind[li])
            return d1_fail(D1_E_INVAL, "no route from node %u to %u", src, dst);
        const d1s_xlink *l = &t->link[li];
        uint64_t ser = (wire * l->den + l->num - 1) / l->num;
        out->serial_cyc += ser;
        out->xlat_cyc += l->lat_cyc;
        out->lat_cyc += ser + l->lat_cyc;
        if (t->link_kind[li] == LINK_TILE)
            out->tile_links++;
        else
            out->serdes++;
        cur = entry_of(t, side, to);
        k = (uint32_t)nb;
        if (cur == NIL)
            return d1_fail(D1_E_INVAL, "no route from node %u to %u", src, dst);
    }
    return d1_fail(D1_E_INVAL, "route from node %u to %u does not end", src, dst);
}

d1_status d1s_tile_hbm_probe(d1s_tile *t, uint32_t node, uint32_t dip, uint64_t *lat_cyc,
                             uint64_t *formula_cyc)
{
    if (t->part)
        return single_process(t, "an HBM probe");
    if (node >= t->nodes || dip >= t->ndips)
        return d1_fail(D1_E_INVAL, "HBM probe: node %u / DIP %u out of range", node, dip);
    dip_info *di = &t->dips[dip];
    /* formula first: it depends on which attach node the DIP uses next */
    d1s_tile_path req, rsp;
    uint32_t a = di->nodes[di->rr % di->n_nodes];
    d1_status st = d1s_tile_zero_load(t, node, t->nodes + dip, D1S_PKT_BYTES, &req);
    if (st == D1_OK)
        st = d1s_tile_zero_load(t, a, node, D1S_PKT_BYTES, &rsp);
    if (st != D1_OK)
        return st;
    const d1s_xlink *port = d1s_dip_hbm_port(di->dip), *out = d1s_dip_link_out(di->dip);
    *formula_cyc = req.lat_cyc + (D1S_PKT_BYTES * port->den + port->num - 1) / port->num +
                   (uint64_t)t->cfg->hbm_lat_cyc + d1s_xlink_zero_load_cyc(out, D1S_PKT_BYTES) +
                   rsp.lat_cyc;
    d1s_pkt p;
    memset(&p, 0, sizeof p);
    p.kind = D1S_PKT_GETREQ;
    p.sem = HBM_PROBE_SEM;
    p.len_bytes = D1S_PKT_BYTES;
    p.src = node;
    p.dst = t->nodes + dip;
    p.xfer_id = UINT32_MAX;
    p.xfer_len = D1S_PKT_BYTES;
    uint64_t t0 = t->now;
    p.inject_cyc = t0;
    t->hbm_probe_cyc = UINT64_MAX;
    push_in(t, node / t->npc, &p, node % t->npc, t0);
    d1s_tile_result r;
    st = d1s_tile_run(t, t0 + 10000000, &r);
    if (st != D1_OK)
        return st;
    if (t->hbm_probe_cyc == UINT64_MAX)
        return d1_fail(D1_E_STATE, "HBM probe %u <- DIP %u: no response", node, dip);
    *lat_cyc = t->hbm_probe_cyc - t0;
    return D1_OK;
}

/* ---- synthetic traffic ------------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double unit(uint64_t *x)
{
    return (double)(splitmix(x) >> 11) * (1.0 / 9007199254740992.0);
}

/* Destination of a packet from src under the pattern (NIL: src sends nothing). */
static uint32_t pattern_dst(const d1s_tile *t, const d1s_traffic_params *p, uint32_t hotspot,
                            uint32_t src, uint64_t *rng)
{
    int W = t->CX * t->cols, H = t->CY * t->rows, x, y;
    d1s_tile_node_xy(t, src, &x, &y);
    switch (p->pattern) {
    case D1S_TRAFFIC_UNIFORM:
        return (uint32_t)(splitmix(rng) % t->nodes);
    case D1S_TRAFFIC_TRANSPOSE:
        return d1s_tile_node_at(t, y, x);
    case D1S_TRAFFIC_BITCOMP:
        return d1s_tile_node_at(t, W - 1 - x, H - 1 - y);
    case D1S_TRAFFIC_HOTSPOT:
        return unit(rng) < p->hotspot_frac ? hotspot : (uint32_t)(splitmix(rng) % t->nodes);
    case D1S_TRAFFIC_NEIGHBOUR:
        return d1s_tile_node_at(t, (x + 1) % W, y);
    default:
        return NIL;
    }
}

static d1_status traffic_check(const d1s_tile *t, const d1s_traffic_params *p, uint32_t *hotspot)
{
    if (p->pattern >= D1S_TRAFFIC_PATTERNS || p->size_flits < 1 || p->size_flits > 64 ||
        !(p->rate_flits > 0) || p->rate_flits > p->size_flits || !p->measure_cyc)
        return d1_fail(D1_E_INVAL, "traffic: bad pattern, size (1..64 flits), rate (0, size] "
                                   "or measurement window");
    int hx = p->hotspot_x < 0 ? t->CX * t->cols / 2 : p->hotspot_x;
    int hy = p->hotspot_y < 0 ? t->CY * t->rows / 2 : p->hotspot_y;
    *hotspot = d1s_tile_node_at(t, hx, hy);
    if (p->pattern == D1S_TRAFFIC_HOTSPOT && *hotspot == NIL)
        return d1_fail(D1_E_INVAL, "traffic: hotspot (%d,%d) is not a node", hx, hy);
    return D1_OK;
}

d1_status d1s_tile_traffic_run(d1s_tile *t, const d1s_traffic_params *p, d1s_traffic_result *out)
{
    memset(out, 0, sizeof *out);
    if (t->part)
        return single_process(t, "synthetic traffic");
    uint32_t hotspot = NIL;
    d1_status st = traffic_check(t, p, &hotspot);
    if (st != D1_OK)
        return st;
    uint64_t *rng = malloc((size_t)t->nodes * sizeof *rng);
    uint8_t *src_ok = malloc(t->nodes);
    if (!rng || !src_ok) {
        free(rng);
        free(src_ok);
        return d1_fail(D1_E_NOMEM, "traffic");
    }
    uint32_t sources = 0;
    for (uint32_t i = 0; i < t->nodes; i++) {
        rng[i] = p->seed * 0x9e3779b97f4a7c15u + i;
        uint64_t probe = rng[i];
        src_ok[i] = pattern_dst(t, p, hotspot, i, &probe) != NIL;
        sources += src_ok[i];
    }
    for (uint32_t k = 0; k < t->K; k++)
        t->ctx[k].tr_done = t->ctx[k].tr_lat_sum = t->ctx[k].tr_lat_max = t->ctx[k].tr_win_flits =
            0;
    uint64_t t0 = t->now, m0 = t0 + p->warmup_cyc, m1 = m0 + p->measure_cyc;
    uint64_t dmax = m1 + p->drain_max_cyc, created = 0, created_flits = 0;
    t->tr_m0 = m0;
    t->tr_m1 = m1;
    double prob = p->rate_flits / (double)p->size_flits;
    d1s_pkt pk;
    memset(&pk, 0, sizeof pk);
    pk.kind = D1S_TILE_PKT_PROBE;
    pk.last = 2;
    pk.len_bytes = p->size_flits * (uint32_t)t->cfg->flit_bytes;
    pk.xfer_len = pk.len_bytes;
    pk.xfer_id = UINT32_MAX - 1;
    for (;;) {
        uint64_t T = t->now, T1 = T + t->W;
        /* generate this window's packets (serially: deterministic) */
        for (uint32_t i = 0; i < t->nodes; i++) {
            if (!src_ok[i])
                continue;
            for (uint64_t c = T; c < T1; c++) {
                if (unit(&rng[i]) >= prob)
                    continue;
                uint32_t d = pattern_dst(t, p, hotspot, i, &rng[i]);
                if (d == NIL)
                    continue;
                pk.src = i;
                pk.dst = d;
                pk.inject_cyc = c;
                pk.pad = c >= m0 && c < m1;
                if (pk.pad) {
                    created++;
                    created_flits += p->size_flits;
                }
                push_in(t, i / t->npc, &pk, i % t->npc, c);
            }
        }
        d1s_tile_result r;
        st = d1s_tile_run(t, T1, &r);
        if (st == D1_OK && (st = t->xerr) != D1_OK)
            t->xerr = D1_OK;
        if (st != D1_OK)
            break;
        uint64_t done = 0;
        for (uint32_t k = 0; k < t->K; k++)
            done += t->ctx[k].tr_done;
        if (T1 >= m1 && done == created)
            break;
        if (T1 >= dmax) {
            out->saturated = 1;
            break;
        }
    }
    free(rng);
    free(src_ok);
    if (st != D1_OK)
        return st;
    uint64_t done = 0, lat = 0, mx = 0, win = 0;
    for (uint32_t k = 0; k < t->K; k++) {
        done += t->ctx[k].tr_done;
        lat += t->ctx[k].tr_lat_sum;
        win += t->ctx[k].tr_win_flits;
        if (t->ctx[k].tr_lat_max > mx)
            mx = t->ctx[k].tr_lat_max;
    }
    double denom = (double)(sources ? sources : 1) * (double)p->measure_cyc;
    out->sources = sources;
    out->offered_flits = (double)created_flits / denom;
    out->accepted_flits = (double)win / denom;
    out->pkt_lat_avg_cyc = done ? (double)lat / (double)done : 0;
    out->pkt_lat_max_cyc = mx;
    out->pkts_measured = created;
    out->pkts_measured_done = done;
    out->end_cyc = t->now;
    return D1_OK;
}

d1_status d1s_tile_traffic_zero_load(const d1s_tile *t, const d1s_traffic_params *p,
                                     uint32_t samples, double *avg_cyc)
{
    uint32_t hotspot = NIL;
    d1_status st = traffic_check(t, p, &hotspot);
    if (st != D1_OK)
        return st;
    int random = p->pattern == D1S_TRAFFIC_UNIFORM || p->pattern == D1S_TRAFFIC_HOTSPOT;
    uint32_t step = random && samples && t->nodes > samples ? t->nodes / samples : 1;
    double sum = 0;
    uint64_t n = 0, rng = p->seed;
    for (uint32_t i = 0; i < t->nodes; i += step) {
        uint32_t d = pattern_dst(t, p, hotspot, i, &rng);
        if (d == NIL)
            continue;
        d1s_tile_path path;
        st = d1s_tile_zero_load(t, i, d, p->size_flits * (uint32_t)t->cfg->flit_bytes, &path);
        if (st != D1_OK)
            return st;
        sum += (double)path.lat_cyc;
        n++;
    }
    *avg_cyc = n ? sum / (double)n : 0;
    return D1_OK;
}

/* ---- statistics ------------------------------------------------------------------------------ */

void d1s_tile_get_link_stats(const d1s_tile *t, uint32_t chip, int dir, d1s_tile_link_stats *out)
{
    memset(out, 0, sizeof *out);
    if (chip >= t->K || dir < 0 || dir > 3)
        return;
    size_t l = (size_t)chip * 4 + (size_t)dir;
    if (!t->link_kind[l])
        return;
    const d1s_xlink *x = &t->link[l];
    out->exists = 1;
    out->tile_link = t->link_kind[l] == LINK_TILE;
    out->bytes = x->bytes;
    out->pkts = x->pkts;
    out->first_cyc = x->first_cyc;
    out->last_cyc = x->last_cyc;
    out->bytes_per_cyc = (double)x->num / (double)x->den;
}

/* The fields of d1s_chip_stats summed over chips, as a table: offset, 1 = largest instead. */
static const struct {
    size_t off;
    int max;
} stat_fields[] = {
    {offsetof(d1s_chip_stats, nodes_started), 0},
    {offsetof(d1s_chip_stats, insns), 0},
    {offsetof(d1s_chip_stats, mma), 0},
    {offsetof(d1s_chip_stats, sram_load_bytes), 0},
    {offsetof(d1s_chip_stats, sram_store_bytes), 0},
    {offsetof(d1s_chip_stats, dma_out_bytes), 0},
    {offsetof(d1s_chip_stats, dma_in_bytes), 0},
    {offsetof(d1s_chip_stats, pkts), 0},
    {offsetof(d1s_chip_stats, link_flits), 0},
    {offsetof(d1s_chip_stats, links), 0},
    {offsetof(d1s_chip_stats, thread_cycles), 0},
    {offsetof(d1s_chip_stats, max_node_cycles), 1},
};
enum { N_STAT_FIELDS = sizeof stat_fields / sizeof stat_fields[0] };

static uint64_t *stat_at(d1s_chip_stats *s, size_t off)
{
    return (uint64_t *)(void *)((char *)s + off);
}

static void stats_add(d1s_chip_stats *out, const d1s_chip_stats *s)
{
    for (size_t i = 0; i < N_STAT_FIELDS; i++) {
        uint64_t *o = stat_at(out, stat_fields[i].off);
        uint64_t v = *stat_at((d1s_chip_stats *)(uintptr_t)s, stat_fields[i].off);
        *o = stat_fields[i].max ? (v > *o ? v : *o) : *o + v;
    }
    for (int i = 0; i < D1S_STALL_COUNT; i++)
        out->stall_cyc[i] += s->stall_cyc[i];
}

void d1s_tile_chip_stats(const d1s_tile *t, d1s_chip_stats *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t k = t->k0; k < t->k1; k++) {
        d1s_chip_stats s;
        d1s_chip_get_stats(t->chip[k], &s);
        stats_add(out, &s);
    }
    if (!t->part)
        return;
    uint64_t sum[N_STAT_FIELDS + D1S_STALL_COUNT], mx[N_STAT_FIELDS];
    for (size_t i = 0; i < N_STAT_FIELDS; i++) {
        sum[i] = stat_fields[i].max ? 0 : *stat_at(out, stat_fields[i].off);
        mx[i] = stat_fields[i].max ? *stat_at(out, stat_fields[i].off) : 0;
    }
    for (int i = 0; i < D1S_STALL_COUNT; i++)
        sum[N_STAT_FIELDS + i] = out->stall_cyc[i];
    if (t->comm.allreduce(t->comm.ctx, sum, N_STAT_FIELDS + D1S_STALL_COUNT, D1S_TILE_SUM) !=
            D1_OK ||
        t->comm.allreduce(t->comm.ctx, mx, N_STAT_FIELDS, D1S_TILE_MAX) != D1_OK)
        return;
    for (size_t i = 0; i < N_STAT_FIELDS; i++)
        *stat_at(out, stat_fields[i].off) = stat_fields[i].max ? mx[i] : sum[i];
    for (int i = 0; i < D1S_STALL_COUNT; i++)
        out->stall_cyc[i] = sum[N_STAT_FIELDS + i];
}

d1_status d1s_tile_chip_stats_of(d1s_tile *t, uint32_t k, d1s_chip_stats *out)
{
    memset(out, 0, sizeof *out);
    if (k >= t->K)
        return d1_fail(D1_E_INVAL, "chip %u of %u", k, t->K);
    if (k >= t->k0 && k < t->k1)
        d1s_chip_get_stats(t->chip[k], out);
    return t->part ? t->comm.bcast(t->comm.ctx, out, sizeof *out, t->owner[k]) : D1_OK;
}

d1_status d1s_tile_read(d1s_tile *t, uint32_t id, uint64_t addr, void *buf, size_t n)
{
    if (id >= t->nodes)
        return d1_fail(D1_E_INVAL, "node %u outside the %u nodes", id, t->nodes);
    uint32_t k = id / t->npc;
    d1_status st = D1_OK;
    if (k >= t->k0 && k < t->k1)
        st = d1s_node_sram_read(d1s_tile_node(t, id), addr, buf, n);
    if (!t->part)
        return st;
    /* the owner's status travels with the data: every rank returns the same */
    int32_t code = (int32_t)st;
    d1_status cs = t->comm.bcast(t->comm.ctx, &code, sizeof code, t->owner[k]);
    if (cs == D1_OK && code == D1_OK)
        cs = t->comm.bcast(t->comm.ctx, buf, n, t->owner[k]);
    if (cs != D1_OK)
        return cs;
    if (code != D1_OK && st == D1_OK)
        return d1_fail((d1_status)code, "node %u: SRAM read at 0x%llx failed on its process", id,
                       (unsigned long long)addr);
    return (d1_status)code;
}

size_t d1s_tile_resident_bytes(const d1s_tile *t)
{
    size_t b = 0;
    for (uint32_t id = 0; id < t->nodes; id++)
        b += d1s_node_sram_resident_bytes(d1s_chip_node(t->chip[id / t->npc], id % t->npc));
    for (uint32_t i = 0; i < t->ndips; i++)
        b += d1s_hbm_resident_bytes(d1s_dip_hbm(t->dips[i].dip));
    return b;
}
