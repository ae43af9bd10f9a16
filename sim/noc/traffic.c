/* Synthetic traffic: Bernoulli sources, BookSim2-style warm-up / measure / drain. */
#include "traffic.h"

#include <stdlib.h>
#include <string.h>

static const char *const pattern_names[D1S_TRAFFIC_PATTERNS] = {"uniform", "transpose", "bitcomp",
                                                                "hotspot", "neighbour"};

const char *d1s_traffic_pattern_name(d1s_traffic_pattern p)
{
    return (unsigned)p < D1S_TRAFFIC_PATTERNS ? pattern_names[p] : "unknown";
}

d1_status d1s_traffic_parse_pattern(const char *name, d1s_traffic_pattern *out)
{
    for (int i = 0; i < D1S_TRAFFIC_PATTERNS; i++)
        if (name && !strcmp(name, pattern_names[i])) {
            *out = (d1s_traffic_pattern)i;
            return D1_OK;
        }
    if (name && !strcmp(name, "neighbor")) {
        *out = D1S_TRAFFIC_NEIGHBOUR;
        return D1_OK;
    }
    return d1_fail(D1_E_INVAL,
                   "unknown traffic pattern '%s' (uniform, transpose, bitcomp, hotspot, "
                   "neighbour)",
                   name ? name : "");
}

void d1s_traffic_params_default(d1s_traffic_params *p)
{
    memset(p, 0, sizeof *p);
    p->pattern = D1S_TRAFFIC_UNIFORM;
    p->size_flits = 1;
    p->rate_flits = 0.1;
    p->seed = 1;
    p->warmup_cyc = 1000;
    p->measure_cyc = 4000;
    p->drain_max_cyc = 20000;
    p->hotspot_frac = 0.2;
    p->hotspot_x = -1; /* -1: the node nearest the centre */
    p->hotspot_y = -1;
}

/* splitmix64: small, fast, good enough for Bernoulli draws; one stream per run. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_u01(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
    uint32_t v = (uint32_t)(rng_u01(s) * (double)n);
    return v < n ? v : n - 1;
}

/* Everything a run needs to know about where packets go. */
typedef struct plan {
    uint32_t n_nodes; /* present nodes */
    uint32_t *nodes;  /* their ids, ascending */
    int32_t *fixed;   /* per position: fixed destination (-1: none / not a source) */
    uint8_t *source;  /* per position: creates traffic */
    uint32_t sources;
    uint32_t hotspot;
} plan;

static void plan_free(plan *pl)
{
    free(pl->nodes);
    free(pl->fixed);
    free(pl->source);
}

static d1_status plan_make(const d1s_noc *noc, const d1s_traffic_params *p, plan *pl)
{
    memset(pl, 0, sizeof *pl);
    int cols = d1s_noc_cols(noc), rows = d1s_noc_rows(noc);
    size_t n = (size_t)cols * (size_t)rows;
    pl->nodes = malloc(n * sizeof *pl->nodes);
    pl->fixed = malloc(n * sizeof *pl->fixed);
    pl->source = calloc(n, 1);
    if (!pl->nodes || !pl->fixed || !pl->source) {
        plan_free(pl);
        return d1_fail(D1_E_NOMEM, "traffic plan");
    }
    for (int y = 0; y < rows; y++)
        for (int x = 0; x < cols; x++)
            if (d1s_noc_is_node(noc, x, y))
                pl->nodes[pl->n_nodes++] = d1s_noc_node_id(noc, x, y);
    if (!pl->n_nodes) {
        plan_free(pl);
        return d1_fail(D1_E_INVAL, "traffic: the mesh has no nodes");
    }
    if (p->pattern == D1S_TRAFFIC_HOTSPOT) {
        int hx = p->hotspot_x, hy = p->hotspot_y;
        if (hx < 0 || hy < 0) {
            /* nearest present node to the centre, lowest id on ties */
            double best = 1e300;
            for (uint32_t k = 0; k < pl->n_nodes; k++) {
                double dx = (double)(pl->nodes[k] % (uint32_t)cols) - (cols - 1) / 2.0;
                double dy = (double)(pl->nodes[k] / (uint32_t)cols) - (rows - 1) / 2.0;
                if (dx * dx + dy * dy < best) {
                    best = dx * dx + dy * dy;
                    hx = (int)(pl->nodes[k] % (uint32_t)cols);
                    hy = (int)(pl->nodes[k] / (uint32_t)cols);
                }
            }
        }
        if (!d1s_noc_is_node(noc, hx, hy)) {
            plan_free(pl);
            return d1_fail(D1_E_INVAL, "traffic: hotspot (%d,%d) is not a node of the %dx%d mesh",
                           hx, hy, cols, rows);
        }
        pl->hotspot = d1s_noc_node_id(noc, hx, hy);
    }
    for (size_t r = 0; r < n; r++) {
        int x = (int)(r % (size_t)cols), y = (int)(r / (size_t)cols);
        pl->fixed[r] = -1;
        if (!d1s_noc_is_node(noc, x, y))
            continue;
        int dx = -1, dy = -1;
        switch (p->pattern) {
        case D1S_TRAFFIC_UNIFORM:
        case D1S_TRAFFIC_HOTSPOT:
        case D1S_TRAFFIC_PATTERNS:
            pl->source[r] = 1;
            break;
        case D1S_TRAFFIC_TRANSPOSE:
            dx = y;
            dy = x;
            break;
        case D1S_TRAFFIC_BITCOMP:
            dx = cols - 1 - x;
            dy = rows - 1 - y;
            break;
        case D1S_TRAFFIC_NEIGHBOUR:
            for (int k = 1; k <= cols; k++) {
                int nx = (x + k) % cols;
                if (d1s_noc_is_node(noc, nx, y)) {
                    dx = nx;
                    dy = y;
                    break;
                }
            }
            break;
        }
        if (dx >= 0 && d1s_noc_is_node(noc, dx, dy)) {
            pl->fixed[r] = (int32_t)d1s_noc_node_id(noc, dx, dy);
            pl->source[r] = 1;
        }
        pl->sources += pl->source[r];
    }
    return D1_OK;
}

static uint32_t pick_dst(const plan *pl, const d1s_traffic_params *p, uint32_t src, uint64_t *rng)
{
    if (pl->fixed[src] >= 0)
        return (uint32_t)pl->fixed[src];
    if (p->pattern == D1S_TRAFFIC_HOTSPOT && rng_u01(rng) < p->hotspot_frac)
        return pl->hotspot;
    return pl->nodes[rng_below(rng, pl->n_nodes)];
}

static d1_status check_params(const d1s_traffic_params *p)
{
    if ((unsigned)p->pattern >= D1S_TRAFFIC_PATTERNS)
        return d1_fail(D1_E_INVAL, "traffic: pattern %d out of range", (int)p->pattern);
    if (p->size_flits < 1 || p->size_flits > 65536)
        return d1_fail(D1_E_INVAL, "traffic: size_flits = %u must be in [1, 65536]", p->size_flits);
    if (!(p->rate_flits > 0) || p->rate_flits > (double)p->size_flits)
        return d1_fail(D1_E_INVAL, "traffic: rate %g flits/node/cycle must be in (0, %u]",
                       p->rate_flits, p->size_flits);
    if (p->measure_cyc < 1)
        return d1_fail(D1_E_INVAL, "traffic: measure_cyc must be >= 1");
    if (p->pattern == D1S_TRAFFIC_HOTSPOT && !(p->hotspot_frac >= 0 && p->hotspot_frac <= 1))
        return d1_fail(D1_E_INVAL, "traffic: hotspot fraction %g must be in [0, 1]",
                       p->hotspot_frac);
    return D1_OK;
}

d1_status d1s_traffic_zero_load_lat(const d1s_noc *noc, const d1s_traffic_params *p,
                                    double *pkt_lat_cyc)
{
    d1_status s = check_params(p);
    if (s != D1_OK)
        return s;
    plan pl;
    if ((s = plan_make(noc, p, &pl)) != D1_OK)
        return s;
    double sum = 0;
    uint64_t lat;
    for (uint32_t k = 0; k < pl.n_nodes && s == D1_OK; k++) {
        uint32_t src = pl.nodes[k];
        if (!pl.source[src])
            continue;
        if (pl.fixed[src] >= 0) {
            s = d1s_noc_zero_load_lat(noc, src, (uint32_t)pl.fixed[src], p->size_flits, NULL, &lat);
            sum += (double)lat;
            continue;
        }
        double u = 0, h = 0;
        for (uint32_t j = 0; j < pl.n_nodes && s == D1_OK; j++) {
            s = d1s_noc_zero_load_lat(noc, src, pl.nodes[j], p->size_flits, NULL, &lat);
            u += (double)lat;
        }
        u /= pl.n_nodes;
        if (p->pattern == D1S_TRAFFIC_HOTSPOT && s == D1_OK) {
            s = d1s_noc_zero_load_lat(noc, src, pl.hotspot, p->size_flits, NULL, &lat);
            h = (double)lat;
            u = p->hotspot_frac * h + (1 - p->hotspot_frac) * u;
        }
        sum += u;
    }
    if (s == D1_OK)
        *pkt_lat_cyc = pl.sources ? sum / pl.sources : 0;
    plan_free(&pl);
    return s;
}

/* Source queue entry: destination and creation cycle. */
typedef struct sq_ent {
    uint64_t create_cyc;
    uint32_t dst;
} sq_ent;

typedef struct run {
    const d1s_traffic_params *p;
    uint64_t win_lo, win_hi; /* measurement window [lo, hi) */
    uint64_t ej_flits_window;
    uint64_t measured, measured_done;
    double pkt_lat_sum, net_lat_sum, hops_sum;
    uint64_t pkt_lat_max, net_lat_max;
} run;

#define TAG_MEASURED (1ull << 63)

static void on_eject(void *user, const d1s_noc_pkt *pk, uint64_t now)
{
    run *r = user;
    if (now >= r->win_lo && now < r->win_hi)
        r->ej_flits_window += pk->size_flits;
    if (pk->tag & TAG_MEASURED) {
        uint64_t created = pk->tag & ~TAG_MEASURED;
        uint64_t pl = now - created, nl = now - pk->head_inject_cyc;
        r->measured_done++;
        r->pkt_lat_sum += (double)pl;
        r->net_lat_sum += (double)nl;
        r->hops_sum += pk->hops;
        if (pl > r->pkt_lat_max)
            r->pkt_lat_max = pl;
        if (nl > r->net_lat_max)
            r->net_lat_max = nl;
    }
}

d1_status d1s_traffic_run(d1s_noc *noc, const d1s_traffic_params *p, d1s_traffic_result *out)
{
    memset(out, 0, sizeof *out);
    d1_status s = check_params(p);
    if (s != D1_OK)
        return s;
    if (!d1s_noc_idle(noc) || d1s_noc_next_event(noc, 0) != UINT64_MAX)
        return d1_fail(D1_E_STATE, "traffic: the network is not idle");
    plan pl;
    if ((s = plan_make(noc, p, &pl)) != D1_OK)
        return s;

    size_t n = (size_t)d1s_noc_cols(noc) * (size_t)d1s_noc_rows(noc);
    /* per-node source queues: rings that grow (doubling) only when full */
    sq_ent **q = calloc(n, sizeof *q);
    uint32_t *qcap = calloc(n, sizeof *qcap), *qhead = calloc(n, sizeof *qhead),
             *qcnt = calloc(n, sizeof *qcnt);
    if (!q || !qcap || !qhead || !qcnt) {
        s = d1_fail(D1_E_NOMEM, "traffic source queues");
        goto out_free;
    }

    run r = {0};
    r.p = p;
    r.win_lo = p->warmup_cyc;
    r.win_hi = p->warmup_cyc + p->measure_cyc;
    d1s_noc_set_eject_cb(noc, on_eject, &r);
    d1s_noc_stats_reset(noc);

    uint64_t rng = p->seed ^ 0xd1d1d1d1d1d1d1d1ull;
    double prob = p->rate_flits / (double)p->size_flits;
    uint64_t created_window_flits = 0;
    uint64_t end = r.win_hi + p->drain_max_cyc;
    uint64_t t = 0;
    for (; t < end; t++) {
        if (t >= r.win_hi && r.measured_done == r.measured)
            break;
        int measuring = t >= r.win_lo && t < r.win_hi;
        for (uint32_t k = 0; k < pl.n_nodes; k++) {
            uint32_t src = pl.nodes[k];
            if (!pl.source[src])
                continue;
            if (rng_u01(&rng) < prob) {
                uint32_t dst = pick_dst(&pl, p, src, &rng);
                if (qcnt[src] == qcap[src]) {
                    uint32_t nc = qcap[src] ? qcap[src] * 2 : 16;
                    sq_ent *nq = malloc((size_t)nc * sizeof *nq);
                    if (!nq) {
                        s = d1_fail(D1_E_NOMEM, "traffic source queue of %u", nc);
                        goto out_free;
                    }
                    for (uint32_t j = 0; j < qcnt[src]; j++)
                        nq[j] = q[src][(qhead[src] + j) % qcap[src]];
                    free(q[src]);
                    q[src] = nq;
                    qcap[src] = nc;
                    qhead[src] = 0;
                }
                sq_ent *e = &q[src][(qhead[src] + qcnt[src]) % qcap[src]];
                e->create_cyc = t;
                e->dst = dst;
                qcnt[src]++;
                if (measuring) {
                    r.measured++;
                    created_window_flits += p->size_flits;
                }
            }
            while (qcnt[src] && d1s_noc_inject_space(noc, src)) {
                sq_ent *e = &q[src][qhead[src]];
                uint64_t tag = e->create_cyc;
                if (e->create_cyc >= r.win_lo && e->create_cyc < r.win_hi)
                    tag |= TAG_MEASURED;
                s = d1s_noc_inject(noc, src, e->dst, p->size_flits, tag, t);
                if (s != D1_OK)
                    goto out_free;
                qhead[src] = (qhead[src] + 1) % qcap[src];
                qcnt[src]--;
            }
        }
        d1s_noc_eval(noc, t);
        d1s_noc_commit(noc, t);
    }

    out->sources = pl.sources;
    double denom = (double)pl.sources * (double)p->measure_cyc;
    out->offered_flits = denom > 0 ? (double)created_window_flits / denom : 0;
    out->accepted_flits = denom > 0 ? (double)r.ej_flits_window / denom : 0;
    out->pkts_measured = r.measured;
    out->pkts_measured_done = r.measured_done;
    if (r.measured_done) {
        out->pkt_lat_avg_cyc = r.pkt_lat_sum / (double)r.measured_done;
        out->net_lat_avg_cyc = r.net_lat_sum / (double)r.measured_done;
        out->hops_avg = r.hops_sum / (double)r.measured_done;
    }
    out->pkt_lat_max_cyc = r.pkt_lat_max;
    out->net_lat_max_cyc = r.net_lat_max;
    out->end_cyc = t;
    out->saturated = r.measured_done != r.measured;
    /* let returning credits settle so an unsaturated network can be reused */
    for (uint64_t ne;
         !out->saturated && d1s_noc_idle(noc) && (ne = d1s_noc_next_event(noc, t)) != UINT64_MAX;
         t = ne + 1) {
        d1s_noc_eval(noc, ne);
        d1s_noc_commit(noc, ne);
    }

out_free:
    d1s_noc_set_eject_cb(noc, NULL, NULL);
    if (q)
        for (size_t i = 0; i < n; i++)
            free(q[i]);
    free(q);
    free(qcap);
    free(qhead);
    free(qcnt);
    plan_free(&pl);
    return s;
}
