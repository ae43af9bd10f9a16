/* Network on chip: routers, links, routing (see noc.h and doc/noc.md).
 *
 * Hot state is a set of flat arrays indexed by router id r (= node id), input VC
 * i = (r * PORTS + port) * V + vc, output VC o (same layout, mesh ports only) and link
 * l = r * 4 + port (the link leaving r through mesh port `port`).
 *
 * Phases: eval(now) reads a router's own buffers and credit counters and writes only into
 * the link queues leaving it, the credit queues going back upstream and its own state;
 * commit(now) moves link and credit queue entries that have arrived into the downstream
 * router's own state. Hence no router reads in a phase what another router wrote in the same
 * phase, and the order routers are visited in never matters. */
#include "noc.h"

#include <stdlib.h>
#include <string.h>

#define P D1S_NOC_PORTS
#define LOCAL D1S_NOC_LOCAL
#define NO_ROUTE (-1)
#define DIRECT_TABLE_MAX 1024 /* positions up to which (src, dst) -> mid is a table */

typedef struct flit {
    uint64_t ready_cyc; /* may leave the buffer from this cycle on (arrival + router delay) */
    uint32_t pkt, seq;
} flit;

typedef struct lflit {
    uint64_t arrive_cyc; /* enters the downstream buffer at this cycle */
    uint32_t pkt, seq, vc;
} lflit;

typedef struct credit {
    uint64_t arrive_cyc;
    uint32_t vc;
} credit;

typedef struct pkt {
    d1s_noc_pkt u;
    uint32_t mid;   /* intermediate node (== dst: plain XY) */
    uint8_t detour; /* mid != dst */
    uint8_t phase;  /* 0: XY towards mid on lower VCs; 1: XY towards dst on upper VCs */
    uint32_t next_free;
} pkt;

struct d1s_noc {
    int cols, rows, n;
    uint8_t *present;
    int16_t *xs, *ys;           /* [n] position of router r (no division on the hot path) */
    int32_t *nbr;               /* [n * 4] neighbour router through mesh port, or -1 */
    int32_t *mid_tab;           /* [n * n] or NULL: intermediate node per (src, dst), NO_ROUTE */
    int32_t *row_pre, *col_pre; /* harvested positions before x in row y / before y in col x */

    int V, vlo, B, R, L, Lc, k_link, k_inj, k_ej, inj_q, ej_q;
    int flit_bytes;

    /* input VCs */
    flit *buf;
    uint16_t *ivc_head, *ivc_count;
    int8_t *ivc_oport; /* output port of the packet at the front (-1: not routed yet) */
    int8_t *ivc_ovc;   /* output VC held by the packet at the front (-1: none) */
    uint32_t *rbuf;    /* flits buffered per router */
    uint64_t *ivc_nz;  /* [n] bit li = port * V + vc set when that input VC holds a flit */
    uint8_t li_port[64], li_vc[64]; /* li -> (port, vc) without a division */
    /* output VCs of mesh ports */
    int32_t *ovc_owner; /* input VC index holding it, or -1 */
    int16_t *ovc_credits;
    uint16_t *rr; /* [n * P] round-robin pointer per output port over the P * V input VCs */

    /* links (latency queues) and credit queues (reverse direction of the same link) */
    lflit *lq;
    uint32_t *lq_head, *lq_count;
    int lq_cap;
    credit *cq;
    uint32_t *cq_head, *cq_count;
    int cq_cap;
    uint64_t *link_flits, *router_flits;

    /* injection: per node a queue of packet ids, the front one being serialized */
    uint32_t *srcq, *srcq_head, *srcq_count;
    uint32_t *inj_seq;
    int8_t *inj_vc;
    int16_t *inj_credits, *inj_pending; /* [n * V] local input VC credits */

    /* ejection */
    uint32_t *ejq, *ejq_head, *ejq_count, *ej_reserved;
    uint32_t *ej_now; /* packets whose tail was ejected in this cycle's eval, in grant order */
    uint32_t n_ej_now;
    /* the same per destination router: ej_list[r * k_ej ..] (ej_cnt[r] of them) and a bitmap
     * of the routers with one (words ej_wmin..ej_wmax), to put many in dst order quickly */
    uint32_t *ej_list, *ej_cnt;
    uint64_t *ej_bits;
    uint32_t ej_wmin, ej_wmax;
    d1s_noc_eject_fn cb;
    void *cb_user;

    /* packet pool */
    pkt *pk;
    uint32_t pk_cap, pk_free;

    /* activity: work[r] counts everything that needs r stepped (buffered flits, flits and
     * credits travelling to r, queued packets, pending injection credits) */
    uint32_t *work, *active;
    uint32_t *cwork; /* [n] flits and credits travelling to r + pending injection credits:
                      * what router_commit of r has to look at */
    uint8_t *in_active;
    uint32_t n_active;
    uint64_t n_buf, n_src, n_link, n_cred, n_injp;

    d1s_noc_stats st;
};

static inline int px(const d1s_noc *noc, uint32_t r)
{
    return (int)(r % (uint32_t)noc->cols);
}
static inline int py(const d1s_noc *noc, uint32_t r)
{
    return (int)(r / (uint32_t)noc->cols);
}
static inline int opp(int p)
{
    return p ^ 2;
}
static inline int iabs(int v)
{
    return v < 0 ? -v : v;
}

/* (a + b) mod m for a < m, b <= m: a ring-buffer index without a division. */
static inline uint32_t wrap_add(uint32_t a, uint32_t b, uint32_t m)
{
    uint32_t s = a + b;
    return s >= m ? s - m : s;
}

static inline void work_add(d1s_noc *noc, uint32_t r, uint32_t d)
{
    noc->work[r] += d;
    if (!noc->in_active[r]) {
        noc->in_active[r] = 1;
        noc->active[noc->n_active++] = r;
    }
}

/* ---- routing ------------------------------------------------------------------------ */

/* 1 if every position of the XY path a -> b (both ends included) has a router: O(1) with
 * per-row and per-column prefix counts of harvested positions. */
static int xy_clear(const d1s_noc *noc, uint32_t a, uint32_t b)
{
    int ax = noc->xs[a], ay = noc->ys[a], bx = noc->xs[b], by = noc->ys[b];
    int x0 = ax < bx ? ax : bx, x1 = ax < bx ? bx : ax;
    int y0 = ay < by ? ay : by, y1 = ay < by ? by : ay;
    const int32_t *row = noc->row_pre + (size_t)ay * (size_t)(noc->cols + 1);
    const int32_t *col = noc->col_pre + (size_t)bx * (size_t)(noc->rows + 1);
    return row[x1 + 1] == row[x0] && col[y1 + 1] == col[y0];
}

static int dist(const d1s_noc *noc, uint32_t a, uint32_t b)
{
    return iabs(noc->xs[a] - noc->xs[b]) + iabs(noc->ys[a] - noc->ys[b]);
}

/* Walk the XY path a -> b calling fn(link id) for each link (link = router * 4 + port). */
#define XY_WALK(noc, a, b, LINK_STMT)                                                              \
    do {                                                                                           \
        int wx_ = noc->xs[a], wy_ = noc->ys[a], bx_ = noc->xs[b], by_ = noc->ys[b];              \
        while (wx_ != bx_ || wy_ != by_) {                                                         \
            int port_;                                                                             \
            if (wx_ != bx_)                                                                        \
                port_ = bx_ > wx_ ? D1S_NOC_E : D1S_NOC_W;                                         \
            else                                                                                   \
                port_ = by_ > wy_ ? D1S_NOC_S : D1S_NOC_N;                                         \
            size_t link = (size_t)(wy_ * noc->cols + wx_) * 4 + (size_t)port_;                     \
            LINK_STMT;                                                                             \
            if (port_ == D1S_NOC_E)                                                                \
                wx_++;                                                                             \
            else if (port_ == D1S_NOC_W)                                                           \
                wx_--;                                                                             \
            else if (port_ == D1S_NOC_S)                                                           \
                wy_++;                                                                             \
            else                                                                                   \
                wy_--;                                                                             \
        }                                                                                          \
    } while (0)

static uint32_t mix32(uint32_t s, uint32_t d, uint32_t m)
{
    uint64_t z = ((uint64_t)s << 42) ^ ((uint64_t)d << 21) ^ m;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)(z ^ (z >> 31));
}

/* Fewest hops dist(s, m) + dist(m, d) over nodes m with both XY legs clear; -1 if none. */
static int min_detour_cost(const d1s_noc *noc, uint32_t s, uint32_t d)
{
    int best = -1;
    for (uint32_t m = 0; m < (uint32_t)noc->n; m++) {
        if (!noc->present[m])
            continue;
        int cost = dist(noc, s, m) + dist(noc, m, d);
        if ((best < 0 || cost < best) && xy_clear(noc, s, m) && xy_clear(noc, m, d))
            best = cost;
    }
    return best;
}

/* Without a route table (large meshes): plain XY if clear, else a fewest-hops intermediate
 * node chosen by a hash of (s, d, m), which spreads detours over the candidates. */
static int32_t compute_mid(const d1s_noc *noc, uint32_t s, uint32_t d)
{
    if (xy_clear(noc, s, d))
        return (int32_t)d;
    int cost = min_detour_cost(noc, s, d);
    if (cost < 0)
        return NO_ROUTE;
    int32_t best = NO_ROUTE;
    uint32_t best_h = 0;
    for (uint32_t m = 0; m < (uint32_t)noc->n; m++) {
        if (!noc->present[m] || dist(noc, s, m) + dist(noc, m, d) != cost || !xy_clear(noc, s, m) ||
            !xy_clear(noc, m, d))
            continue;
        uint32_t h = mix32(s, d, m);
        if (best == NO_ROUTE || h < best_h) {
            best = (int32_t)m;
            best_h = h;
        }
    }
    return best;
}

/* The route table: plain XY for every pair whose XY path avoids harvested positions; then,
 * for the other pairs in (src, dst) order, the fewest-hops intermediate node whose path has
 * the smallest maximum (then total) link load, counting one unit per (src, dst) pair already
 * routed (i.e. balanced for uniform traffic); lowest id on full ties. */
static d1_status build_routes(d1s_noc *noc)
{
    size_t n = (size_t)noc->n;
    uint32_t *load = calloc(n * 4, sizeof *load);
    uint32_t *cand = malloc(n * sizeof *cand);
    if (!load || !cand) {
        free(load);
        free(cand);
        return d1_fail(D1_E_NOMEM, "route table load counters");
    }
    for (uint32_t s = 0; s < n; s++)
        for (uint32_t d = 0; d < n; d++) {
            int32_t *t = &noc->mid_tab[s * n + d];
            *t = NO_ROUTE;
            if (noc->present[s] && noc->present[d] && xy_clear(noc, s, d)) {
                *t = (int32_t)d;
                XY_WALK(noc, s, d, load[link]++);
            }
        }
    for (uint32_t s = 0; s < n; s++)
        for (uint32_t d = 0; d < n; d++) {
            if (!noc->present[s] || !noc->present[d] || noc->mid_tab[s * n + d] != NO_ROUTE)
                continue;
            /* the fewest-hops intermediate nodes with both legs clear, in increasing id
             * order (one pass: min_detour_cost's minimum and its candidates together) */
            int cost = -1;
            uint32_t nc = 0;
            for (uint32_t m = 0; m < n; m++) {
                if (!noc->present[m])
                    continue;
                int c = dist(noc, s, m) + dist(noc, m, d);
                if ((cost >= 0 && c > cost) || !xy_clear(noc, s, m) || !xy_clear(noc, m, d))
                    continue;
                if (cost < 0 || c < cost) {
                    cost = c;
                    nc = 0;
                }
                cand[nc++] = m;
            }
            if (cost < 0)
                continue;
            int32_t best = NO_ROUTE;
            uint64_t best_max = 0, best_sum = 0;
            for (uint32_t k = 0; k < nc; k++) {
                uint32_t m = cand[k];
                uint64_t mx = 0, sum = 0;
                XY_WALK(noc, s, m, {
                    sum += load[link];
                    if (load[link] > mx)
                        mx = load[link];
                });
                XY_WALK(noc, m, d, {
                    sum += load[link];
                    if (load[link] > mx)
                        mx = load[link];
                });
                if (best == NO_ROUTE || mx < best_max || (mx == best_max && sum < best_sum)) {
                    best = (int32_t)m;
                    best_max = mx;
                    best_sum = sum;
                }
            }
            noc->mid_tab[s * n + d] = best;
            XY_WALK(noc, s, (uint32_t)best, load[link]++);
            XY_WALK(noc, (uint32_t)best, d, load[link]++);
        }
    free(load);
    free(cand);
    return D1_OK;
}

static int32_t route_mid(const d1s_noc *noc, uint32_t s, uint32_t d)
{
    if (noc->mid_tab)
        return noc->mid_tab[(size_t)s * (size_t)noc->n + d];
    return compute_mid(noc, s, d);
}

d1_status d1s_noc_route(const d1s_noc *noc, uint32_t src, uint32_t dst, uint32_t *hops,
                        uint32_t *mid)
{
    uint32_t ids[2] = {src, dst};
    for (int k = 0; k < 2; k++) {
        if (ids[k] >= (uint32_t)noc->n)
            return d1_fail(D1_E_RANGE, "node id %u outside the %dx%d mesh", ids[k], noc->cols,
                           noc->rows);
    }
    if (!noc->present[src])
        return d1_fail(D1_E_INVAL, "route from harvested position (%d,%d)", px(noc, src),
                       py(noc, src));
    if (!noc->present[dst])
        return d1_fail(D1_E_INVAL, "route to harvested position (%d,%d)", px(noc, dst),
                       py(noc, dst));
    int32_t m = route_mid(noc, src, dst);
    if (m == NO_ROUTE)
        return d1_fail(D1_E_INVAL, "no route from (%d,%d) to (%d,%d) around harvested positions",
                       px(noc, src), py(noc, src), px(noc, dst), py(noc, dst));
    if (hops)
        *hops = (uint32_t)(dist(noc, src, (uint32_t)m) + dist(noc, (uint32_t)m, dst));
    if (mid)
        *mid = (uint32_t)m;
    return D1_OK;
}

d1_status d1s_noc_zero_load_lat(const d1s_noc *noc, uint32_t src, uint32_t dst, uint32_t size_flits,
                                uint64_t *net_lat_cyc, uint64_t *pkt_lat_cyc)
{
    uint32_t h;
    d1_status s = d1s_noc_route(noc, src, dst, &h, NULL);
    if (s != D1_OK)
        return s;
    if (size_flits == 0)
        return d1_fail(D1_E_INVAL, "packet of 0 flits");
    uint64_t k = (uint64_t)(noc->k_inj < noc->k_ej ? noc->k_inj : noc->k_ej);
    if (h > 0 && (uint64_t)noc->k_link < k)
        k = (uint64_t)noc->k_link;
    uint64_t net = (uint64_t)(h + 1) * (uint64_t)noc->R + (uint64_t)h * (uint64_t)noc->L +
                   (size_flits + k - 1) / k - 1;
    if (net_lat_cyc)
        *net_lat_cyc = net;
    if (pkt_lat_cyc)
        *pkt_lat_cyc = net + 1;
    return D1_OK;
}

/* Output port for the packet whose head is at the front of an input VC of router r.
 * Crossing the intermediate node switches the packet to phase 1 (done once per router
 * visit: the result is cached in ivc_oport until the tail leaves). */
static int route_port(d1s_noc *noc, uint32_t r, pkt *p)
{
    if (p->phase == 0 && r == p->mid)
        p->phase = 1;
    uint32_t t = p->phase == 0 ? p->mid : p->u.dst;
    int x = noc->xs[r], y = noc->ys[r], tx = noc->xs[t], ty = noc->ys[t];
    if (tx > x)
        return D1S_NOC_E;
    if (tx < x)
        return D1S_NOC_W;
    if (ty > y)
        return D1S_NOC_S;
    if (ty < y)
        return D1S_NOC_N;
    D1_ASSERT(t == p->u.dst);
    return LOCAL;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static int rate_flits(const d1_config *cfg, int64_t bytes, const char *key, int *out)
{
    if (bytes < cfg->flit_bytes || bytes % cfg->flit_bytes != 0) {
        d1_fail(D1_E_CONFIG, "%s = %lld must be a multiple of flit_bytes = %lld", key,
                (long long)bytes, (long long)cfg->flit_bytes);
        return -1;
    }
    *out = (int)(bytes / cfg->flit_bytes);
    return 0;
}

#define ALLOC(ptr, count)                                                                          \
    do {                                                                                           \
        (ptr) = calloc((size_t)(count) + 1, sizeof *(ptr));                                        \
        if (!(ptr))                                                                                \
            goto fail_nomem;                                                                       \
    } while (0)

static d1_status noc_create(const d1_config *cfg, const d1s_noc_mesh *mesh, const d1s_noc *like,
                            d1s_noc **out);

d1_status d1s_noc_create(const d1_config *cfg, const d1s_noc_mesh *mesh, d1s_noc **out)
{
    *out = NULL;
    d1s_noc_mesh m;
    if (mesh)
        return noc_create(cfg, mesh, NULL, out);
    int nh = d1_config_harvested(cfg, NULL, 0);
    if (nh < 0)
        return D1_E_CONFIG;
    int(*hv)[2] = malloc((size_t)(nh ? nh : 1) * sizeof *hv);
    if (!hv)
        return d1_fail(D1_E_NOMEM, "harvested list");
    d1_config_harvested(cfg, hv, nh);
    m.cols = (int)cfg->mesh_cols;
    m.rows = (int)cfg->mesh_rows;
    m.n_harvested = nh;
    m.harvested = (const int(*)[2])hv;
    d1_status s = noc_create(cfg, &m, NULL, out);
    free(hv);
    return s;
}

/* Same mesh as `like` (the chip mesh of a multi-chip system): the routing table is copied
 * instead of recomputed (that computation dominates creation). */
d1_status d1s_noc_create_like(const d1_config *cfg, const d1s_noc *like, d1s_noc **out)
{
    *out = NULL;
    int nh = 0;
    for (int r = 0; r < like->n; r++)
        nh += !like->present[r];
    int(*hv)[2] = malloc((size_t)(nh ? nh : 1) * sizeof *hv);
    if (!hv)
        return d1_fail(D1_E_NOMEM, "harvested list");
    nh = 0;
    for (int r = 0; r < like->n; r++)
        if (!like->present[r]) {
            hv[nh][0] = r % like->cols;
            hv[nh++][1] = r / like->cols;
        }
    d1s_noc_mesh m = {like->cols, like->rows, nh, (const int(*)[2])hv};
    d1_status s = noc_create(cfg, &m, like, out);
    free(hv);
    return s;
}

static d1_status noc_create(const d1_config *cfg, const d1s_noc_mesh *mesh, const d1s_noc *like,
                            d1s_noc **out)
{
    d1s_noc_mesh m = *mesh;
    if (m.cols < 1 || m.rows < 1 || m.cols > 4096 || m.rows > 4096 ||
        (int64_t)m.cols * m.rows > (1 << 24))
        return d1_fail(D1_E_CONFIG, "mesh %dx%d out of range", m.cols, m.rows);
    if (m.n_harvested > 0 && cfg->noc_vcs < 2)
        return d1_fail(D1_E_CONFIG,
                       "noc_vcs = %lld: detours around harvested positions need at least 2",
                       (long long)cfg->noc_vcs);
    if (cfg->noc_vcs > 12)
        return d1_fail(D1_E_CONFIG, "noc_vcs = %lld: the router model supports at most 12",
                       (long long)cfg->noc_vcs);
    if (cfg->noc_vc_buf_flits > 30000)
        return d1_fail(D1_E_CONFIG, "noc_vc_buf_flits = %lld: at most 30000",
                       (long long)cfg->noc_vc_buf_flits);

    d1s_noc *noc = calloc(1, sizeof *noc);
    if (!noc)
        return d1_fail(D1_E_NOMEM, "network allocation");
    noc->cols = m.cols;
    noc->rows = m.rows;
    noc->n = m.cols * m.rows;
    noc->flit_bytes = (int)cfg->flit_bytes;
    if (rate_flits(cfg, cfg->link_bytes_per_cyc, "link_bytes_per_cyc", &noc->k_link) ||
        rate_flits(cfg, cfg->router_out_bytes_per_cyc, "router_out_bytes_per_cyc", &noc->k_inj) ||
        rate_flits(cfg, cfg->router_in_bytes_per_cyc, "router_in_bytes_per_cyc", &noc->k_ej)) {
        free(noc);
        return D1_E_CONFIG;
    }
    noc->V = (int)cfg->noc_vcs;
    noc->vlo = noc->V >= 2 ? noc->V / 2 : 1;
    noc->B = (int)cfg->noc_vc_buf_flits;
    noc->R = (int)cfg->router_delay_cyc;
    noc->L = (int)cfg->link_delay_cyc;
    noc->Lc = (int)cfg->noc_credit_delay_cyc;
    noc->inj_q = (int)cfg->noc_inj_queue_pkts;
    noc->ej_q = (int)cfg->noc_ej_queue_pkts;
    if (noc->R < 1 || noc->L < 1 || noc->Lc < 1 || noc->inj_q < 1 || noc->ej_q < 1 || noc->B < 1 ||
        noc->V < 1) {
        free(noc);
        return d1_fail(D1_E_CONFIG, "network delays, queues and buffers must be >= 1");
    }

    size_t n = (size_t)noc->n, V = (size_t)noc->V, B = (size_t)noc->B;
    size_t nivc = n * P * V;
    ALLOC(noc->present, n);
    memset(noc->present, 1, n);
    for (int k = 0; k < m.n_harvested; k++) {
        int x = m.harvested[k][0], y = m.harvested[k][1];
        if (x < 0 || y < 0 || x >= m.cols || y >= m.rows) {
            d1s_noc_destroy(noc);
            return d1_fail(D1_E_CONFIG, "harvested position (%d,%d) outside the %dx%d mesh", x, y,
                           m.cols, m.rows);
        }
        if (!noc->present[y * m.cols + x]) {
            d1s_noc_destroy(noc);
            return d1_fail(D1_E_CONFIG, "harvested position (%d,%d) listed twice", x, y);
        }
        noc->present[y * m.cols + x] = 0;
    }
    ALLOC(noc->row_pre, (size_t)m.rows * (size_t)(m.cols + 1));
    ALLOC(noc->col_pre, (size_t)m.cols * (size_t)(m.rows + 1));
    for (int y = 0; y < m.rows; y++)
        for (int x = 0; x < m.cols; x++) {
            int hole = !noc->present[y * m.cols + x];
            noc->row_pre[(size_t)y * (size_t)(m.cols + 1) + (size_t)x + 1] =
                noc->row_pre[(size_t)y * (size_t)(m.cols + 1) + (size_t)x] + hole;
        }
    for (int x = 0; x < m.cols; x++)
        for (int y = 0; y < m.rows; y++) {
            int hole = !noc->present[y * m.cols + x];
            noc->col_pre[(size_t)x * (size_t)(m.rows + 1) + (size_t)y + 1] =
                noc->col_pre[(size_t)x * (size_t)(m.rows + 1) + (size_t)y] + hole;
        }
    ALLOC(noc->xs, n);
    ALLOC(noc->ys, n);
    for (size_t r = 0; r < n; r++) {
        noc->xs[r] = (int16_t)px(noc, (uint32_t)r);
        noc->ys[r] = (int16_t)py(noc, (uint32_t)r);
    }
    ALLOC(noc->nbr, n * 4);
    for (size_t r = 0; r < n; r++) {
        int x = px(noc, (uint32_t)r), y = py(noc, (uint32_t)r);
        static const int dx[4] = {0, 1, 0, -1}, dy[4] = {-1, 0, 1, 0};
        for (int p = 0; p < 4; p++) {
            int nx = x + dx[p], ny = y + dy[p];
            int ok = noc->present[r] && nx >= 0 && ny >= 0 && nx < m.cols && ny < m.rows &&
                     noc->present[ny * m.cols + nx];
            noc->nbr[r * 4 + (size_t)p] = ok ? ny * m.cols + nx : -1;
        }
    }
    if (n <= DIRECT_TABLE_MAX) {
        ALLOC(noc->mid_tab, n * n);
        int copied = like && like->mid_tab && like->n == noc->n;
        if (copied)
            memcpy(noc->mid_tab, like->mid_tab, n * n * sizeof *noc->mid_tab);
        if (!copied) {
            d1_status st = build_routes(noc);
            if (st != D1_OK) {
                d1s_noc_destroy(noc);
                return st;
            }
        }
    }

    ALLOC(noc->buf, nivc * B);
    ALLOC(noc->ivc_head, nivc);
    ALLOC(noc->ivc_count, nivc);
    ALLOC(noc->ivc_oport, nivc);
    ALLOC(noc->ivc_ovc, nivc);
    memset(noc->ivc_oport, -1, nivc);
    memset(noc->ivc_ovc, -1, nivc);
    ALLOC(noc->rbuf, n);
    ALLOC(noc->ivc_nz, n);
    for (int li = 0; li < P * noc->V; li++) {
        noc->li_port[li] = (uint8_t)(li / noc->V);
        noc->li_vc[li] = (uint8_t)(li % noc->V);
    }
    ALLOC(noc->ovc_owner, nivc);
    ALLOC(noc->ovc_credits, nivc);
    for (size_t i = 0; i < nivc; i++) {
        noc->ovc_owner[i] = -1;
        noc->ovc_credits[i] = (int16_t)noc->B;
    }
    ALLOC(noc->rr, n * P);

    noc->lq_cap = noc->L * noc->k_link;
    noc->cq_cap = noc->Lc * noc->k_link;
    ALLOC(noc->lq, n * 4 * (size_t)noc->lq_cap);
    ALLOC(noc->lq_head, n * 4);
    ALLOC(noc->lq_count, n * 4);
    ALLOC(noc->cq, n * 4 * (size_t)noc->cq_cap);
    ALLOC(noc->cq_head, n * 4);
    ALLOC(noc->cq_count, n * 4);
    ALLOC(noc->link_flits, n * 4);
    ALLOC(noc->router_flits, n);

    ALLOC(noc->srcq, n * (size_t)noc->inj_q);
    ALLOC(noc->srcq_head, n);
    ALLOC(noc->srcq_count, n);
    ALLOC(noc->inj_seq, n);
    ALLOC(noc->inj_vc, n);
    memset(noc->inj_vc, -1, n);
    ALLOC(noc->inj_credits, n * V);
    ALLOC(noc->inj_pending, n * V);
    for (size_t i = 0; i < n * V; i++)
        noc->inj_credits[i] = (int16_t)noc->B;

    ALLOC(noc->ejq, n * (size_t)noc->ej_q);
    ALLOC(noc->ejq_head, n);
    ALLOC(noc->ejq_count, n);
    ALLOC(noc->ej_reserved, n);
    ALLOC(noc->ej_now, n * (size_t)noc->k_ej);
    ALLOC(noc->ej_list, n * (size_t)noc->k_ej);
    ALLOC(noc->ej_cnt, n);
    ALLOC(noc->ej_bits, (n + 63) / 64);
    noc->ej_wmin = UINT32_MAX;

    noc->pk_cap = 0;
    noc->pk_free = UINT32_MAX;
    ALLOC(noc->work, n);
    ALLOC(noc->cwork, n);
    ALLOC(noc->active, n);
    ALLOC(noc->in_active, n);
    *out = noc;
    return D1_OK;

fail_nomem:
    d1s_noc_destroy(noc);
    return d1_fail(D1_E_NOMEM, "network state for a %dx%d mesh", m.cols, m.rows);
}

void d1s_noc_destroy(d1s_noc *noc)
{
    if (!noc)
        return;
    void *ptrs[] = {
        noc->present,    noc->row_pre,      noc->col_pre,     noc->nbr,         noc->mid_tab,
        noc->buf,        noc->ivc_head,     noc->ivc_count,   noc->ivc_oport,   noc->ivc_ovc,
        noc->rbuf,       noc->ovc_owner,    noc->ovc_credits, noc->rr,          noc->lq,
        noc->lq_head,    noc->lq_count,     noc->cq,          noc->cq_head,     noc->cq_count,
        noc->link_flits, noc->router_flits, noc->srcq,        noc->srcq_head,   noc->srcq_count,
        noc->inj_seq,    noc->inj_vc,       noc->inj_credits, noc->inj_pending, noc->ejq,
        noc->ejq_head,   noc->ejq_count,    noc->ej_reserved, noc->ej_now,      noc->pk,
        noc->work,       noc->active,       noc->in_active,   noc->ivc_nz,      noc->cwork,
        noc->xs,         noc->ys,           noc->ej_list,     noc->ej_cnt,
        noc->ej_bits};
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
        free(ptrs[i]);
    free(noc);
}

int d1s_noc_cols(const d1s_noc *noc)
{
    return noc->cols;
}
int d1s_noc_rows(const d1s_noc *noc)
{
    return noc->rows;
}
int d1s_noc_link_flits_per_cyc(const d1s_noc *noc)
{
    return noc->k_link;
}
int d1s_noc_inj_flits_per_cyc(const d1s_noc *noc)
{
    return noc->k_inj;
}
int d1s_noc_ej_flits_per_cyc(const d1s_noc *noc)
{
    return noc->k_ej;
}

int d1s_noc_is_node(const d1s_noc *noc, int x, int y)
{
    return x >= 0 && y >= 0 && x < noc->cols && y < noc->rows && noc->present[y * noc->cols + x];
}

uint32_t d1s_noc_flits_for_bytes(const d1s_noc *noc, uint64_t size_bytes)
{
    uint64_t f = (size_bytes + (uint64_t)noc->flit_bytes - 1) / (uint64_t)noc->flit_bytes;
    return f ? (uint32_t)f : 1;
}

/* ---- injection and delivery --------------------------------------------------------- */

uint32_t d1s_noc_inject_space(const d1s_noc *noc, uint32_t src)
{
    if (src >= (uint32_t)noc->n)
        return 0;
    return (uint32_t)noc->inj_q - noc->srcq_count[src];
}

static d1_status pkt_alloc(d1s_noc *noc, uint32_t *id)
{
    if (noc->pk_free == UINT32_MAX) {
        uint32_t cap = noc->pk_cap ? noc->pk_cap * 2 : 1024;
        pkt *np = realloc(noc->pk, (size_t)cap * sizeof *np);
        if (!np)
            return d1_fail(D1_E_NOMEM, "packet pool of %u", cap);
        for (uint32_t i = noc->pk_cap; i < cap; i++)
            np[i].next_free = i + 1 < cap ? i + 1 : UINT32_MAX;
        noc->pk_free = noc->pk_cap;
        noc->pk = np;
        noc->pk_cap = cap;
    }
    *id = noc->pk_free;
    noc->pk_free = noc->pk[*id].next_free;
    return D1_OK;
}

static void pkt_release(d1s_noc *noc, uint32_t id)
{
    noc->pk[id].next_free = noc->pk_free;
    noc->pk_free = id;
}

d1_status d1s_noc_inject(d1s_noc *noc, uint32_t src, uint32_t dst, uint32_t size_flits,
                         uint64_t tag, uint64_t now)
{
    uint32_t hops, mid;
    d1_status s = d1s_noc_route(noc, src, dst, &hops, &mid);
    if (s != D1_OK)
        return s;
    if (size_flits == 0)
        return d1_fail(D1_E_INVAL, "packet of 0 flits");
    if (noc->srcq_count[src] >= (uint32_t)noc->inj_q)
        return D1_E_STATE;
    uint32_t id = 0;
    if ((s = pkt_alloc(noc, &id)) != D1_OK)
        return s;
    pkt *p = &noc->pk[id];
    p->u.src = src;
    p->u.dst = dst;
    p->u.size_flits = size_flits;
    p->u.hops = 0;
    p->u.tag = tag;
    p->u.create_cyc = now;
    p->u.head_inject_cyc = UINT64_MAX;
    p->u.tail_eject_cyc = UINT64_MAX;
    p->mid = mid;
    p->detour = mid != dst;
    p->phase = 0;
    uint32_t q = (noc->srcq_head[src] + noc->srcq_count[src]) % (uint32_t)noc->inj_q;
    noc->srcq[(size_t)src * (size_t)noc->inj_q + q] = id;
    noc->srcq_count[src]++;
    noc->n_src++;
    work_add(noc, src, 1);
    noc->st.pkts_injected++;
    noc->st.pkts_in_flight++;
    return D1_OK;
}

void d1s_noc_set_eject_cb(d1s_noc *noc, d1s_noc_eject_fn fn, void *user)
{
    noc->cb = fn;
    noc->cb_user = user;
}

int d1s_noc_poll(d1s_noc *noc, uint32_t dst, uint64_t now, d1s_noc_pkt *out)
{
    if (dst >= (uint32_t)noc->n || noc->ejq_count[dst] == 0)
        return 0;
    uint32_t id = noc->ejq[(size_t)dst * (size_t)noc->ej_q + noc->ejq_head[dst]];
    if (noc->pk[id].u.tail_eject_cyc >= now)
        return 0;
    *out = noc->pk[id].u;
    noc->ejq_head[dst] = (noc->ejq_head[dst] + 1) % (uint32_t)noc->ej_q;
    noc->ejq_count[dst]--;
    pkt_release(noc, id);
    return 1;
}

/* ---- eval --------------------------------------------------------------------------- */

/* Pick the output VC for a head at input VC i (port ip, vc iv) of router r leaving through
 * mesh port o: a free VC of the allowed range with credit, most credits first, lowest index
 * on ties; -1 if none. Ranges (doc/noc.md, deadlock freedom): detour packets use the lower
 * VCs before their intermediate node and the upper VCs after it; plain XY packets may use
 * any VC but never step down from an upper VC to a lower one. */
static int pick_ovc(const d1s_noc *noc, uint32_t r, int ip, int iv, int o, const pkt *p)
{
    int lo = 0, hi = noc->V;
    if (p->detour) {
        if (p->phase == 0)
            hi = noc->vlo;
        else
            lo = noc->vlo;
    } else if (ip != LOCAL && iv >= noc->vlo) {
        lo = noc->vlo;
    }
    size_t base = ((size_t)r * P + (size_t)o) * (size_t)noc->V;
    int best = -1, best_cr = 0;
    for (int v = lo; v < hi; v++) {
        if (noc->ovc_owner[base + (size_t)v] >= 0)
            continue;
        int cr = noc->ovc_credits[base + (size_t)v];
        if (cr > best_cr) {
            best = v;
            best_cr = cr;
        }
    }
    return best;
}

/* Output port wanted by the front flit of input VC i if it is ready, else -1. */
static inline int front_request(d1s_noc *noc, uint32_t r, size_t i, uint64_t now)
{
    if (!noc->ivc_count[i])
        return -1;
    const flit *f = &noc->buf[i * (size_t)noc->B + noc->ivc_head[i]];
    if (f->ready_cyc > now)
        return -1;
    if (noc->ivc_oport[i] < 0)
        noc->ivc_oport[i] = (int8_t)route_port(noc, r, &noc->pk[f->pkt]);
    return noc->ivc_oport[i];
}

/* Next set bit of mask at or after position `from` (wrapping); mask != 0. */
static inline int rr_pick(uint64_t mask, int from)
{
    uint64_t hi = from < 64 ? mask & (~0ull << from) : 0;
    return __builtin_ctzll(hi ? hi : mask);
}

/* Switch traversal of router r at cycle now. Each input VC whose front flit is ready requests
 * one output port (bit li = port * V + vc in req[port]); each output port grants up to its
 * width in flits per cycle, round-robin over the requesting input VCs, each grant subject to
 * the input port's width, a credit and (for a head) a free output VC. A grant exposes the next
 * flit of that input VC, which may request another port in the same cycle (a multi-flit-wide
 * switch), so outputs are revisited until no new request appears. */
static void switch_alloc(d1s_noc *noc, uint32_t r, uint64_t now)
{
    const int V = noc->V, PV = P * V;
    const size_t ibase = (size_t)r * P * (size_t)V;
    uint64_t req[P] = {0};
    /* only the non-empty input VCs can request (empty ones: front_request == -1) */
    for (uint64_t nz = noc->ivc_nz[r]; nz; nz &= nz - 1) {
        int li = __builtin_ctzll(nz);
        int o = front_request(noc, r, ibase + (size_t)li, now);
        if (o >= 0)
            req[o] |= 1ull << li;
    }
    _Static_assert(P == 5, "ports N E S W LOCAL");
    if (!(req[0] | req[1] | req[2] | req[3] | req[4]))
        return; /* nothing ready */
    const int32_t *nb = &noc->nbr[(size_t)r * 4];
    const int kl = noc->k_link;
    int budget_in[P] = {kl, kl, kl, kl, noc->k_inj};
    int budget_out[P] = {nb[0] >= 0 ? kl : 0, nb[1] >= 0 ? kl : 0, nb[2] >= 0 ? kl : 0,
                         nb[3] >= 0 ? kl : 0, noc->k_ej};
    const int o0 = (int)(now % P);
    for (int again = 1; again;) {
        again = 0;
        for (int oi = 0; oi < P; oi++) {
            int o = o0 + oi >= P ? o0 + oi - P : o0 + oi;
            if (!req[o] || budget_out[o] <= 0)
                continue;
            uint16_t *rrp = &noc->rr[(size_t)r * P + (size_t)o];
            while (budget_out[o] > 0 && req[o]) {
                int li = rr_pick(req[o], *rrp);
                int ip = noc->li_port[li], iv = noc->li_vc[li];
                size_t i = ibase + (size_t)li;
                int gvc = -1;
                /* req bits are only set for ready fronts that want o */
                if (budget_in[ip] > 0) {
                    const flit *fr = &noc->buf[i * (size_t)noc->B + noc->ivc_head[i]];
                    if (noc->ivc_ovc[i] >= 0) {
                        if (o == LOCAL || noc->ovc_credits[((size_t)r * P + (size_t)o) * (size_t)V +
                                                           (size_t)noc->ivc_ovc[i]] > 0)
                            gvc = noc->ivc_ovc[i];
                    } else if (o == LOCAL) {
                        if (noc->cb ||
                            noc->ejq_count[r] + noc->ej_reserved[r] < (uint32_t)noc->ej_q)
                            gvc = 0;
                    } else {
                        gvc = pick_ovc(noc, r, ip, iv, o, &noc->pk[fr->pkt]);
                    }
                }
                req[o] &= ~(1ull << li);
                if (gvc < 0)
                    continue; /* cannot go this cycle (nothing it waits for frees up in eval) */
                int granted = li;
                *rrp = (uint16_t)(granted + 1 == PV ? 0 : granted + 1);
                /* move the front flit of input VC `granted` to output o, VC gvc */
                flit f = noc->buf[i * (size_t)noc->B + noc->ivc_head[i]];
                noc->ivc_head[i] = (uint16_t)wrap_add(noc->ivc_head[i], 1, (uint32_t)noc->B);
                if (--noc->ivc_count[i] == 0)
                    noc->ivc_nz[r] &= ~(1ull << li);
                noc->rbuf[r]--;
                noc->n_buf--;
                noc->work[r]--;
                budget_in[ip]--;
                budget_out[o]--;
                noc->router_flits[r]++;
                pkt *p = &noc->pk[f.pkt];
                int head = f.seq == 0, tail = f.seq + 1 == p->u.size_flits;

                /* the freed slot goes back upstream as a credit */
                if (ip == LOCAL) {
                    noc->inj_pending[(size_t)r * (size_t)V + (size_t)iv]++;
                    noc->n_injp++;
                    noc->cwork[r]++;
                    work_add(noc, r, 1);
                } else {
                    uint32_t u = (uint32_t)noc->nbr[(size_t)r * 4 + (size_t)ip];
                    size_t l = (size_t)u * 4 + (size_t)opp(ip);
                    D1_ASSERT(noc->cq_count[l] < (uint32_t)noc->cq_cap);
                    credit *c = &noc->cq[l * (size_t)noc->cq_cap +
                                         wrap_add(noc->cq_head[l], noc->cq_count[l],
                                                  (uint32_t)noc->cq_cap)];
                    c->arrive_cyc = now + (uint64_t)noc->Lc;
                    c->vc = (uint32_t)iv;
                    noc->cq_count[l]++;
                    noc->n_cred++;
                    noc->cwork[u]++;
                    work_add(noc, u, 1);
                }

                if (head) {
                    noc->ivc_ovc[i] = (int8_t)gvc;
                    if (o == LOCAL) {
                        if (!noc->cb)
                            noc->ej_reserved[r]++;
                    } else {
                        noc->ovc_owner[((size_t)r * P + (size_t)o) * (size_t)V + (size_t)gvc] =
                            (int32_t)i;
                        p->u.hops++;
                    }
                }
                if (o == LOCAL) {
                    noc->st.flits_ejected++;
                    if (tail) {
                        p->u.tail_eject_cyc = now;
                        noc->ej_now[noc->n_ej_now++] = f.pkt;
                        noc->ej_list[(size_t)r * (size_t)noc->k_ej + noc->ej_cnt[r]++] = f.pkt;
                        noc->ej_bits[r >> 6] |= 1ull << (r & 63);
                        if (r >> 6 < noc->ej_wmin)
                            noc->ej_wmin = r >> 6;
                        if (r >> 6 > noc->ej_wmax)
                            noc->ej_wmax = r >> 6;
                    }
                } else {
                    size_t ov = ((size_t)r * P + (size_t)o) * (size_t)V + (size_t)gvc;
                    noc->ovc_credits[ov]--;
                    D1_ASSERT(noc->ovc_credits[ov] >= 0);
                    size_t l = (size_t)r * 4 + (size_t)o;
                    D1_ASSERT(noc->lq_count[l] < (uint32_t)noc->lq_cap);
                    lflit *lf = &noc->lq[l * (size_t)noc->lq_cap +
                                         wrap_add(noc->lq_head[l], noc->lq_count[l],
                                                  (uint32_t)noc->lq_cap)];
                    lf->arrive_cyc = now + (uint64_t)noc->L;
                    lf->pkt = f.pkt;
                    lf->seq = f.seq;
                    lf->vc = (uint32_t)gvc;
                    noc->lq_count[l]++;
                    noc->n_link++;
                    noc->link_flits[l]++;
                    noc->st.link_flits++;
                    noc->cwork[noc->nbr[l]]++;
                    work_add(noc, (uint32_t)noc->nbr[l], 1);
                    if (tail)
                        noc->ovc_owner[ov] = -1;
                }
                if (tail) {
                    noc->ivc_oport[i] = -1;
                    noc->ivc_ovc[i] = -1;
                }
                int o2 = front_request(noc, r, i, now);
                if (o2 >= 0) {
                    req[o2] |= 1ull << granted;
                    again |= o2 != o; /* revisit the outputs once more */
                }
            }
        }
    }
}

/* Serialize queued packets into the local input port, up to k_inj flits per cycle. */
static void inject_stage(d1s_noc *noc, uint32_t r, uint64_t now)
{
    const size_t V = (size_t)noc->V;
    int budget = noc->k_inj;
    while (budget > 0 && noc->srcq_count[r] > 0) {
        uint32_t id = noc->srcq[(size_t)r * (size_t)noc->inj_q + noc->srcq_head[r]];
        pkt *p = &noc->pk[id];
        if (p->u.create_cyc >= now)
            break;
        if (noc->inj_vc[r] < 0) {
            int best = -1, best_cr = 0;
            for (size_t v = 0; v < V; v++)
                if (noc->inj_credits[r * V + v] > best_cr) {
                    best = (int)v;
                    best_cr = noc->inj_credits[r * V + v];
                }
            if (best < 0)
                break;
            noc->inj_vc[r] = (int8_t)best;
        }
        size_t v = (size_t)noc->inj_vc[r];
        if (noc->inj_credits[r * V + v] <= 0)
            break;
        noc->inj_credits[r * V + v]--;
        size_t i = ((size_t)r * P + LOCAL) * V + v;
        D1_ASSERT(noc->ivc_count[i] < noc->B);
        flit *f = &noc->buf[i * (size_t)noc->B +
                            wrap_add(noc->ivc_head[i], noc->ivc_count[i], (uint32_t)noc->B)];
        f->ready_cyc = now + (uint64_t)noc->R;
        f->pkt = id;
        f->seq = noc->inj_seq[r];
        noc->ivc_count[i]++;
        noc->ivc_nz[r] |= 1ull << (LOCAL * V + v);
        if (noc->ivc_count[i] > noc->st.buf_max_flits)
            noc->st.buf_max_flits = noc->ivc_count[i];
        noc->rbuf[r]++;
        noc->n_buf++;
        work_add(noc, r, 1);
        noc->st.flits_injected++;
        if (f->seq == 0)
            p->u.head_inject_cyc = now;
        budget--;
        if (++noc->inj_seq[r] == p->u.size_flits) {
            noc->srcq_head[r] = wrap_add(noc->srcq_head[r], 1, (uint32_t)noc->inj_q);
            noc->srcq_count[r]--;
            noc->n_src--;
            noc->work[r]--;
            noc->inj_seq[r] = 0;
            noc->inj_vc[r] = -1;
        }
    }
}

/* Forget this cycle's ejection lists (their packets are in ej_now). */
static void ej_clear(d1s_noc *noc)
{
    for (uint32_t a = 0; a < noc->n_ej_now; a++)
        noc->ej_cnt[noc->pk[noc->ej_now[a]].u.dst] = 0;
    for (uint32_t w = noc->ej_wmin; w <= noc->ej_wmax && noc->n_ej_now; w++)
        noc->ej_bits[w] = 0;
    noc->ej_wmin = UINT32_MAX;
    noc->ej_wmax = 0;
}

void d1s_noc_eval(d1s_noc *noc, uint64_t now)
{
    if (noc->n_ej_now) /* eval without commit: the original drops them too */
        ej_clear(noc);
    noc->n_ej_now = 0;
    uint32_t cnt = noc->n_active; /* routers activated during this phase have nothing ready */
    for (uint32_t k = 0; k < cnt; k++) {
        uint32_t r = noc->active[k];
        if (!noc->work[r])
            continue;
        if (noc->rbuf[r])
            switch_alloc(noc, r, now);
        if (noc->srcq_count[r])
            inject_stage(noc, r, now);
    }
}

/* ---- commit ------------------------------------------------------------------------- */

static void router_commit(d1s_noc *noc, uint32_t r, uint64_t now)
{
    if (!noc->cwork[r])
        return; /* nothing travelling to r and no pending injection credit */
    const size_t V = (size_t)noc->V;
    const uint32_t B = (uint32_t)noc->B;
    uint32_t done = 0;
    for (int p = 0; p < 4; p++) {
        int32_t u = noc->nbr[(size_t)r * 4 + (size_t)p];
        if (u < 0)
            continue;
        /* flits arriving from neighbour u (its port opp(p)) into input port p */
        size_t l = (size_t)u * 4 + (size_t)opp(p);
        while (noc->lq_count[l]) {
            lflit *lf = &noc->lq[l * (size_t)noc->lq_cap + noc->lq_head[l]];
            if (lf->arrive_cyc > now + 1)
                break;
            size_t i = ((size_t)r * P + (size_t)p) * V + lf->vc;
            /* credit flow control guarantees space: overflowing here is a bug */
            D1_ASSERT(noc->ivc_count[i] < noc->B);
            flit *f = &noc->buf[i * (size_t)B + wrap_add(noc->ivc_head[i], noc->ivc_count[i], B)];
            f->ready_cyc = lf->arrive_cyc + (uint64_t)noc->R;
            f->pkt = lf->pkt;
            f->seq = lf->seq;
            noc->ivc_count[i]++;
            noc->ivc_nz[r] |= 1ull << ((size_t)p * V + lf->vc);
            if (noc->ivc_count[i] > noc->st.buf_max_flits)
                noc->st.buf_max_flits = noc->ivc_count[i];
            noc->rbuf[r]++;
            noc->lq_head[l] = wrap_add(noc->lq_head[l], 1, (uint32_t)noc->lq_cap);
            noc->lq_count[l]--;
            noc->n_link--;
            noc->n_buf++;
            done++;
        }
        /* credits coming back for r's own output link through port p */
        l = (size_t)r * 4 + (size_t)p;
        while (noc->cq_count[l]) {
            credit *c = &noc->cq[l * (size_t)noc->cq_cap + noc->cq_head[l]];
            if (c->arrive_cyc > now + 1)
                break;
            size_t ov = ((size_t)r * P + (size_t)p) * V + c->vc;
            noc->ovc_credits[ov]++;
            D1_ASSERT(noc->ovc_credits[ov] <= noc->B);
            noc->cq_head[l] = wrap_add(noc->cq_head[l], 1, (uint32_t)noc->cq_cap);
            noc->cq_count[l]--;
            noc->n_cred--;
            noc->work[r]--;
            done++;
        }
    }
    for (size_t v = 0; v < V; v++) {
        int16_t c = noc->inj_pending[r * V + v];
        if (c) {
            noc->inj_credits[r * V + v] = (int16_t)(noc->inj_credits[r * V + v] + c);
            D1_ASSERT(noc->inj_credits[r * V + v] <= noc->B);
            noc->inj_pending[r * V + v] = 0;
            noc->n_injp -= (uint64_t)c;
            noc->work[r] -= (uint32_t)c;
            done += (uint32_t)c;
        }
    }
    D1_ASSERT(done <= noc->cwork[r]);
    noc->cwork[r] -= done;
}

void d1s_noc_commit(d1s_noc *noc, uint64_t now)
{
    for (uint32_t k = 0; k < noc->n_active; k++)
        router_commit(noc, noc->active[k], now);

    /* deliveries in dst order (stable), independent of the active-list order */
    /* (a router only ejects packets addressed to itself, in grant order: dst order = router
     * order, stable) */
    uint32_t *e = noc->ej_now;
    if (noc->n_ej_now <= 16) {
        for (uint32_t a = 1; a < noc->n_ej_now; a++) {
            uint32_t id = e[a], b = a;
            for (; b > 0 && noc->pk[e[b - 1]].u.dst > noc->pk[id].u.dst; b--)
                e[b] = e[b - 1];
            e[b] = id;
        }
        ej_clear(noc);
    } else {
        uint32_t a = 0;
        for (uint32_t w = noc->ej_wmin; w <= noc->ej_wmax; w++) {
            for (uint64_t m = noc->ej_bits[w]; m; m &= m - 1) {
                uint32_t r = w * 64 + (uint32_t)__builtin_ctzll(m);
                const uint32_t *l = &noc->ej_list[(size_t)r * (size_t)noc->k_ej];
                for (uint32_t j = 0; j < noc->ej_cnt[r]; j++)
                    e[a++] = l[j];
                noc->ej_cnt[r] = 0;
            }
            noc->ej_bits[w] = 0;
        }
        D1_ASSERT(a == noc->n_ej_now);
        noc->ej_wmin = UINT32_MAX;
        noc->ej_wmax = 0;
    }
    uint32_t n_ej = noc->n_ej_now;
    noc->n_ej_now = 0;
    for (uint32_t a = 0; a < n_ej; a++) {
        uint32_t id = e[a];
        noc->st.pkts_ejected++;
        noc->st.pkts_in_flight--;
        if (noc->cb) {
            d1s_noc_pkt copy = noc->pk[id].u;
            pkt_release(noc, id);
            noc->cb(noc->cb_user, &copy, now);
        } else {
            uint32_t d = noc->pk[id].u.dst;
            D1_ASSERT(noc->ej_reserved[d] > 0 && noc->ejq_count[d] < (uint32_t)noc->ej_q);
            noc->ej_reserved[d]--;
            noc->ejq[(size_t)d * (size_t)noc->ej_q +
                     (noc->ejq_head[d] + noc->ejq_count[d]) % (uint32_t)noc->ej_q] = id;
            noc->ejq_count[d]++;
        }
    }

    uint32_t w = 0;
    for (uint32_t k = 0; k < noc->n_active; k++) {
        uint32_t r = noc->active[k];
        if (noc->work[r])
            noc->active[w++] = r;
        else
            noc->in_active[r] = 0;
    }
    noc->n_active = w;
    noc->st.cycles_stepped++;
}

uint64_t d1s_noc_next_event(const d1s_noc *noc, uint64_t now)
{
    if (noc->n_buf || noc->n_src || noc->n_injp)
        return now;
    if (!noc->n_link && !noc->n_cred)
        return UINT64_MAX;
    uint64_t t = UINT64_MAX;
    for (uint32_t k = 0; k < noc->n_active; k++) {
        uint32_t r = noc->active[k];
        for (int p = 0; p < 4; p++) {
            /* flits travel to r on its incoming links; credits on its outgoing ones */
            int32_t u = noc->nbr[(size_t)r * 4 + (size_t)p];
            size_t l = u >= 0 ? (size_t)u * 4 + (size_t)opp(p) : 0;
            if (u >= 0 && noc->lq_count[l]) {
                uint64_t a = noc->lq[l * (size_t)noc->lq_cap + noc->lq_head[l]].arrive_cyc;
                if (a - 1 < t)
                    t = a - 1;
            }
            l = (size_t)r * 4 + (size_t)p;
            if (noc->cq_count[l]) {
                uint64_t a = noc->cq[l * (size_t)noc->cq_cap + noc->cq_head[l]].arrive_cyc;
                if (a - 1 < t)
                    t = a - 1;
            }
        }
    }
    return t < now ? now : t;
}

int d1s_noc_idle(const d1s_noc *noc)
{
    return !noc->n_buf && !noc->n_src && !noc->n_link && !noc->n_ej_now;
}

/* ---- statistics --------------------------------------------------------------------- */

void d1s_noc_get_stats(const d1s_noc *noc, d1s_noc_stats *out)
{
    *out = noc->st;
}

uint64_t d1s_noc_link_flits(const d1s_noc *noc, uint32_t node, int port)
{
    if (node >= (uint32_t)noc->n || port < 0 || port >= 4)
        return 0;
    return noc->link_flits[(size_t)node * 4 + (size_t)port];
}

uint64_t d1s_noc_router_flits(const d1s_noc *noc, uint32_t node)
{
    return node < (uint32_t)noc->n ? noc->router_flits[node] : 0;
}

void d1s_noc_stats_reset(d1s_noc *noc)
{
    uint64_t inflight = noc->st.pkts_in_flight;
    memset(&noc->st, 0, sizeof noc->st);
    noc->st.pkts_in_flight = inflight;
    memset(noc->link_flits, 0, (size_t)noc->n * 4 * sizeof *noc->link_flits);
    memset(noc->router_flits, 0, (size_t)noc->n * sizeof *noc->router_flits);
}
