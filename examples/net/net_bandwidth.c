/* d1 net bandwidth: measured bandwidth of the interconnect levels beside the configured
 * (analytical) figure and the published one (D1-FACTS.md). Real DMA programs on the nodes
 * (PUT streams, HBM reads through a DIP); the host -> HBM case runs as a SystemC process when
 * available (sim/io/host.h). */
#include "cli.h"
#include "net_tile_util.h"

#include "sim/arch/isa.h"
#include "sim/chip/chip.h"
#include "sim/engine/scshim.h"
#include "sim/tile/tile_sc.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: d1 net bandwidth [--case NAME[,NAME...]] [options]\n"
    "Measure bandwidth with DMA streams on an otherwise idle system and print each figure\n"
    "beside its analytical expectation (from the configuration) and the published figure\n"
    "(D1-FACTS.md), with both ratios. Cases (default: all):\n"
    "  link            one on-chip mesh link, 4 senders whose XY paths share it\n"
    "  chip-bisection  every node of one chip sends to its mirror across the middle cut\n"
    "  chip-edge       two chips: every node sends to the same position on the other chip\n"
    "  tile-bisection  the chip edges across the middle of the tile (5 on a 5x5 tile)\n"
    "  tile-edge       two tiles side by side (1x5 chips each): the tile-to-tile edge\n"
    "  dip-hbm         all nodes of a west-edge chip read HBM through one DIP\n"
    "  dip-link        the same with HBM bandwidth unlimited: the DIP <-> tile link\n"
    "  pcie            the host writes HBM over PCIe\n"
    "\n"
    "  --case LIST          comma-separated cases\n"
    "  --scale N            bytes per stream x N (default 1; larger = closer to steady state)\n"
    "  --check              exit 2 unless every measurement is within 2% of its "
    "expectation\n" D1N_COMMON_USAGE "\n"
    "Bandwidths are per direction unless the row says otherwise; GB/s = 1e9 B/s.\n";

typedef struct bw_result {
    double bytes, cycles; /* measured: bytes over cycles */
    double expected_bpc;  /* from the configuration */
    char note[128];
} bw_result;

typedef d1_status (*bw_fn)(const d1_config *base, int scale, int threads, bw_result *r);

typedef struct bw_case {
    const char *name;
    const char *published; /* text */
    double published_gbs;  /* per the row's unit */
    double factor;         /* measured x factor is compared with published (2: both directions) */
    bw_fn run;
} bw_case;

static double gbs(const d1_config *cfg, double bpc)
{
    return bpc * (double)cfg->clock_mhz / 1000.0;
}

static d1_status make(const d1_config *base, const char *const *sets, int threads, d1_config *cfg,
                      d1s_tile **t)
{
    d1_status st = d1n_config_with(cfg, base, sets);
    if (st != D1_OK)
        return st;
    d1s_tile_opts o = {D1S_NODE_TIMING_ONLY, threads};
    st = d1s_tile_create(cfg, &o, t);
    if (st != D1_OK)
        d1_config_fini(cfg);
    return st;
}

static void done(d1_config *cfg, d1s_tile *t, d1n_flow *f)
{
    d1s_tile_destroy(t);
    d1_config_fini(cfg);
    free(f);
}

/* Flits over the E links of chip 0 leaving the nodes ids[0][0..n), sampled twice. */
typedef struct cut_sample {
    int k;
    uint64_t flits[2], cyc[2];
    uint32_t ids[1][256];
    int n;
} cut_sample;

static void sample_cut(void *vctx, d1s_tile *t, int k)
{
    cut_sample *c = vctx;
    uint64_t s = 0;
    for (int i = 0; i < c->n; i++)
        if (c->ids[0][i] != UINT32_MAX)
            s += d1s_chip_link_flits(d1s_tile_chip(t, 0), c->ids[0][i], D1S_TILE_E);
    c->flits[k] = s;
    c->cyc[k] = d1s_tile_now(t);
}

/* (a) one mesh link: senders (0..3, y) -> (5..8, y) share the link (4, y) -> (5, y). */
static d1_status bw_link(const d1_config *base, int scale, int threads, bw_result *r)
{
    static const char *const sets[] = {"tile_chips_x=1", "tile_chips_y=1", "dips_per_edge=0", NULL};
    d1_config cfg;
    d1s_tile *t = NULL;
    d1_status st = make(base, sets, threads, &cfg, &t);
    if (st != D1_OK)
        return st;
    int y = (int)cfg.mesh_rows / 2;
    while (y < (int)cfg.mesh_rows - 1) {
        int ok = 1;
        for (int x = 0; x < 9 && x < (int)cfg.mesh_cols; x++)
            ok &= d1s_tile_node_at(t, x, y) != UINT32_MAX;
        if (ok)
            break;
        y++;
    }
    if (cfg.mesh_cols < 9) {
        done(&cfg, t, NULL);
        return d1_fail(D1_E_CONFIG, "link case needs mesh_cols >= 9");
    }
    d1n_flow f[4];
    uint32_t len = (uint32_t)(256 * 1024 * scale);
    if (len > 1048576)
        len = 1048576;
    for (int i = 0; i < 4; i++) {
        f[i].src = d1s_tile_node_at(t, i, y);
        f[i].kind = D1_DMA_PUT;
        f[i].peer = d1s_tile_node_at(t, i + 5, y);
        f[i].len = len;
        f[i].local_addr = 0x10000;
        f[i].remote_addr = 0x10000;
    }
    d1s_tile_result res;
    double inj = 4.0 * (double)cfg.router_out_bytes_per_cyc;
    r->expected_bpc = fmin((double)cfg.link_bytes_per_cyc, inj);
    cut_sample cs = {0, {0, 0}, {0, 0}, {{0}}, 1};
    cs.ids[0][0] = d1s_tile_node_at(t, 4, y);
    uint64_t T = (uint64_t)(4.0 * len / r->expected_bpc);
    st = d1n_run_flows_sampled(t, f, 4, T / 4, 3 * T / 4, sample_cut, &cs, &res);
    if (st == D1_OK) {
        r->bytes = (double)(cs.flits[1] - cs.flits[0]) * (double)cfg.flit_bytes;
        r->cycles = (double)(cs.cyc[1] - cs.cyc[0]);
        snprintf(r->note, sizeof r->note,
                 "link (4,%d)->(5,%d), 4 x %u B; steady state, cycles %llu..%llu", y, y, len,
                 (unsigned long long)cs.cyc[0], (unsigned long long)cs.cyc[1]);
    }
    done(&cfg, t, NULL);
    return st;
}

/* Every node of chip chips_a[p] sends len bytes to the same local position on chip
 * chips_b[p] and back; run to the end. *f (the flows, for done) and *n are set. */
static d1_status run_mirror(d1s_tile *t, const uint32_t *chips_a, const uint32_t *chips_b,
                            size_t n_pairs, uint32_t len, d1n_flow **fp, size_t *n)
{
    uint32_t npc = d1s_tile_nodes_per_chip(t);
    d1n_flow *f = *fp = calloc(n_pairs * npc * 2, sizeof *f);
    if (!f)
        return d1_fail(D1_E_NOMEM, "flows");
    *n = 0;
    for (size_t p = 0; p < n_pairs; p++)
        for (int dir = 0; dir < 2; dir++)
            for (uint32_t l = 0; l < npc; l++) {
                uint32_t a = dir ? chips_b[p] : chips_a[p], b = dir ? chips_a[p] : chips_b[p];
                d1n_flow *x = &f[(*n)++];
                x->src = a * npc + l;
                x->kind = D1_DMA_PUT;
                x->peer = b * npc + l;
                x->len = len;
                x->local_addr = 0x10000;
                x->remote_addr = 0x10000;
            }
    d1s_tile_result res;
    return d1n_run_flows(t, f, *n, &res);
}

/* Sum of bytes over the links leaving chips `from[i]` through side d, over the span from the
 * first offer to the last departure. */
static void link_rate(const d1s_tile *t, const uint32_t *from, size_t n, int d, bw_result *r,
                      double *cfg_bpc)
{
    uint64_t first = UINT64_MAX, last = 0;
    double bytes = 0, rate = 0;
    for (size_t i = 0; i < n; i++) {
        d1s_tile_link_stats s;
        d1s_tile_get_link_stats(t, from[i], d, &s);
        if (!s.exists)
            continue;
        bytes += (double)s.bytes;
        rate += s.bytes_per_cyc;
        if (s.first_cyc < first)
            first = s.first_cyc;
        if (s.last_cyc > last)
            last = s.last_cyc;
    }
    r->bytes = bytes;
    r->cycles = last > first ? (double)(last - first) : 1;
    *cfg_bpc = rate;
}

/* (b) chip bisection: (x, y) -> (x + C/2, y) and back, one chip; the cut between columns
 * C/2 - 1 and C/2. */
static d1_status bw_chip_bisection(const d1_config *base, int scale, int threads, bw_result *r)
{
    static const char *const sets[] = {"tile_chips_x=1", "tile_chips_y=1", "dips_per_edge=0", NULL};
    d1_config cfg;
    d1s_tile *t = NULL;
    d1_status st = make(base, sets, threads, &cfg, &t);
    if (st != D1_OK)
        return st;
    int C = (int)cfg.mesh_cols, R = (int)cfg.mesh_rows, h = C / 2;
    d1n_flow *f = calloc((size_t)(C * R), sizeof *f);
    if (!f) {
        done(&cfg, t, NULL);
        return d1_fail(D1_E_NOMEM, "flows");
    }
    size_t n = 0;
    uint32_t len = (uint32_t)(64 * 1024 * scale);
    for (int y = 0; y < R; y++)
        for (int x = 0; x < 2 * h; x++) {
            uint32_t a = d1s_tile_node_at(t, x, y),
                     b = d1s_tile_node_at(t, x < h ? x + h : x - h, y);
            if (a == UINT32_MAX || b == UINT32_MAX)
                continue;
            f[n].src = a;
            f[n].kind = D1_DMA_PUT;
            f[n].peer = b;
            f[n].len = len;
            f[n].local_addr = 0x10000;
            f[n].remote_addr = 0x10000;
            n++;
        }
    d1s_tile_result res;
    r->expected_bpc = (double)R * (double)cfg.link_bytes_per_cyc;
    cut_sample cs = {0, {0, 0}, {0, 0}, {{0}}, R < 256 ? R : 256};
    for (int y = 0; y < cs.n; y++)
        cs.ids[0][y] = d1s_tile_node_at(t, h - 1, y);
    uint64_t T = (uint64_t)((double)n / 2 * len / r->expected_bpc);
    st = d1n_run_flows_sampled(t, f, n, T / 4, T / 2, sample_cut, &cs, &res);
    if (st == D1_OK) {
        r->bytes = (double)(cs.flits[1] - cs.flits[0]) * (double)cfg.flit_bytes;
        r->cycles = (double)(cs.cyc[1] - cs.cyc[0]);
        int nh = d1_config_harvested(&cfg, NULL, 0);
        snprintf(r->note, sizeof r->note,
                 "%zu streams of %u B; %d links cross the cut, west -> east; %d harvested "
                 "positions; steady state",
                 n, len, R, nh);
    }
    done(&cfg, t, f);
    return st;
}

/* (d) one chip edge, both directions: 2 chips. */
static d1_status bw_chip_edge(const d1_config *base, int scale, int threads, bw_result *r)
{
    static const char *const sets[] = {"tile_chips_x=2", "tile_chips_y=1", "dips_per_edge=0", NULL};
    d1_config cfg;
    d1s_tile *t = NULL;
    d1_status st = make(base, sets, threads, &cfg, &t);
    if (st != D1_OK)
        return st;
    uint32_t a = 0, b = 1;
    size_t n = 0;
    uint32_t len = (uint32_t)(8 * 1024 * scale);
    d1n_flow *f = NULL;
    st = run_mirror(t, &a, &b, 1, len, &f, &n);
    if (st == D1_OK) {
        bw_result back;
        double c0, c1;
        link_rate(t, &a, 1, D1S_TILE_E, r, &c0);
        link_rate(t, &b, 1, D1S_TILE_W, &back, &c1);
        r->bytes += back.bytes;
        r->cycles = fmax(r->cycles, back.cycles);
        r->expected_bpc = c0 + c1;
        snprintf(r->note, sizeof r->note, "both directions; %zu streams of %u B", n, len);
    }
    done(&cfg, t, f);
    return st;
}

/* (c) tile bisection: chip columns 2 <-> 3 of the configured tile (5x5 by default). */
static d1_status bw_tile_bisection(const d1_config *base, int scale, int threads, bw_result *r)
{
    static const char *const sets[] = {"dips_per_edge=0", "tiles_x=1", "tiles_y=1", NULL};
    d1_config cfg;
    d1s_tile *t = NULL;
    d1_status st = make(base, sets, threads, &cfg, &t);
    if (st != D1_OK)
        return st;
    int CX = d1s_tile_chips_x(t), CY = d1s_tile_chips_y(t);
    if (CX < 2) {
        done(&cfg, t, NULL);
        return d1_fail(D1_E_CONFIG, "tile bisection needs tile_chips_x >= 2");
    }
    uint32_t a[64] = {0}, b[64] = {0}; /* tile_chips_y <= 16 */
    int cut = CX / 2;
    for (int y = 0; y < CY && y < 64; y++) {
        a[y] = (uint32_t)(y * CX + cut - 1);
        b[y] = (uint32_t)(y * CX + cut);
    }
    size_t n = 0;
    uint32_t len = (uint32_t)(8 * 1024 * scale);
    d1n_flow *f = NULL;
    st = run_mirror(t, a, b, (size_t)CY, len, &f, &n);
    if (st == D1_OK) {
        link_rate(t, a, (size_t)CY, D1S_TILE_E, r, &r->expected_bpc);
        snprintf(r->note, sizeof r->note,
                 "%d chip edges between chip columns %d and %d, west -> east; %zu streams", CY,
                 cut - 1, cut, n);
    }
    done(&cfg, t, f);
    return st;
}

/* (d') tile edge: two tiles of 1 x tile_chips_y chips side by side. */
static d1_status bw_tile_edge(const d1_config *base, int scale, int threads, bw_result *r)
{
    static const char *const sets[] = {"tile_chips_x=1", "tiles_x=2", "tiles_y=1",
                                       "dips_per_edge=0", NULL};
    d1_config cfg;
    d1s_tile *t = NULL;
    d1_status st = make(base, sets, threads, &cfg, &t);
    if (st != D1_OK)
        return st;
    int CY = d1s_tile_chips_y(t);
    uint32_t a[64] = {0}, b[64] = {0}; /* tile_chips_y <= 16 */
    for (int y = 0; y < CY && y < 64; y++) {
        a[y] = (uint32_t)(y * 2);
        b[y] = (uint32_t)(y * 2 + 1);
    }
    size_t n = 0;
    uint32_t len = (uint32_t)(8 * 1024 * scale);
    d1n_flow *f = NULL;
    st = run_mirror(t, a, b, (size_t)CY, len, &f, &n);
    if (st == D1_OK) {
        link_rate(t, a, (size_t)CY, D1S_TILE_E, r, &r->expected_bpc);
        snprintf(r->note, sizeof r->note, "%d chip edges on the tile edge, one direction", CY);
    }
    done(&cfg, t, f);
    return st;
}

/* (e) HBM reads through one DIP by every node of its chip. */
static d1_status bw_dip(const d1_config *base, int scale, int threads, int unlimited_hbm,
                        bw_result *r)
{
    const char *sets[] = {"tile_chips_x=1",
                          "tile_chips_y=1",
                          "tiles_x=1",
                          "tiles_y=1",
                          "dip_edges=w",
                          "dips_per_edge=1",
                          unlimited_hbm ? "hbm_bytes_per_cyc=100000" : NULL,
                          NULL};
    d1_config cfg;
    d1s_tile *t = NULL;
    d1_status st = make(base, sets, threads, &cfg, &t);
    if (st != D1_OK)
        return st;
    uint32_t N = d1s_tile_node_count(t);
    d1n_flow *f = calloc(N, sizeof *f);
    if (!f) {
        done(&cfg, t, NULL);
        return d1_fail(D1_E_NOMEM, "flows");
    }
    uint32_t len = (uint32_t)(8 * 1024 * scale);
    for (uint32_t i = 0; i < N; i++) {
        f[i].src = i;
        f[i].kind = D1_DMA_HBM_RD;
        f[i].peer = 0;
        f[i].len = len;
        f[i].local_addr = 0x10000;
        f[i].remote_addr = (uint64_t)i * len;
    }
    d1s_tile_result res;
    st = d1n_run_flows(t, f, N, &res);
    if (st == D1_OK) {
        d1s_dip *d = d1s_tile_dip(t, 0);
        const d1s_xlink *out = d1s_dip_link_out(d);
        r->bytes = (double)out->bytes;
        r->cycles = (double)(out->last_cyc - out->first_cyc);
        r->expected_bpc = fmin((double)cfg.hbm_bytes_per_cyc, (double)cfg.dip_link_bytes_per_cyc);
        snprintf(r->note, sizeof r->note, "%u nodes read %u B each%s", N, len,
                 unlimited_hbm ? "; HBM rate unlimited" : "");
    }
    done(&cfg, t, f);
    return st;
}

static d1_status bw_dip_hbm(const d1_config *b, int s, int th, bw_result *r)
{
    return bw_dip(b, s, th, 0, r);
}

static d1_status bw_dip_link(const d1_config *b, int s, int th, bw_result *r)
{
    return bw_dip(b, s, th, 1, r);
}

/* (f) host -> HBM over PCIe: the host is a SystemC process (sim/tile/tile_sc.h) writing 1 MiB
 * chunks back to back. */
typedef struct pcie_ctx {
    const d1_config *base;
    int scale, threads;
    bw_result *r;
    d1_status st;
} pcie_ctx;

static int pcie_body(void *user)
{
    pcie_ctx *p = user;
    static const char *const sets[] = {
        "tile_chips_x=1", "tile_chips_y=1",  "tiles_x=1", "tiles_y=1",
        "dip_edges=w",    "dips_per_edge=1", NULL};
    d1_config cfg;
    d1s_tile *t = NULL;
    p->st = make(p->base, sets, p->threads, &cfg, &t);
    if (p->st != D1_OK)
        return 0;
    uint64_t total = (uint64_t)64 << 20;
    total *= (uint64_t)p->scale;
    d1s_host_xfer x = {0, 1, 0, NULL, total, 0, 0, D1_OK};
    d1s_tile_result res;
    p->st = d1s_tile_sc_run(t, &x, 1, 1u << 20, 0, &res);
    if (p->st == D1_OK)
        p->st = x.status;
    if (p->st == D1_OK) {
        const d1s_xlink *l = d1s_dip_pcie(d1s_tile_dip(t, 0));
        p->r->bytes = (double)l->bytes;
        p->r->cycles = (double)(l->last_cyc - l->first_cyc);
        p->r->expected_bpc = (double)cfg.pcie_bytes_per_cyc;
        snprintf(p->r->note, sizeof p->r->note,
                 "host SystemC process, %" PRIu64 " MiB in 1 MiB chunks; last byte in HBM at "
                 "cycle %" PRIu64,
                 total >> 20, x.done_cyc);
    }
    done(&cfg, t, NULL);
    return 0;
}

static d1_status bw_pcie(const d1_config *base, int scale, int threads, bw_result *r)
{
    pcie_ctx p = {base, scale, threads, r, D1_OK};
    char arg0[] = "d1";
    char *argv[] = {arg0, NULL};
    if (d1s_sc_main(1, argv, pcie_body, &p) != 0 && p.st == D1_OK)
        return d1_fail(D1_E_STATE, "SystemC simulation failed (one per process)");
    return p.st;
}

static const bw_case cases[] = {
    {"link", "512 GB/s per link per direction", 512, 1, bw_link},
    {"chip-bisection", "10 TB/s on-chip bisection", 10000, 1, bw_chip_bisection},
    {"chip-edge", "4 TB/s per chip edge (both directions)", 4000, 1, bw_chip_edge},
    {"tile-bisection", "10 TB/s on-tile bisection", 10000, 1, bw_tile_bisection},
    {"tile-edge", "9 TB/s per tile edge", 9000, 1, bw_tile_edge},
    {"dip-hbm", "800 GB/s HBM per DIP", 800, 1, bw_dip_hbm},
    {"dip-link", "900 GB/s DIP <-> tile link", 900, 1, bw_dip_link},
    {"pcie", "32 GB/s PCIe Gen4 x16 to the host", 32, 1, bw_pcie},
};

int d1n_bandwidth_rows(const d1_config *cfg, const char *only, int scale, int threads,
                       d1n_bw_row *rows, size_t *n_rows)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (only) {
            const char *p = strstr(only, cases[i].name);
            size_t l = strlen(cases[i].name);
            int hit = 0;
            while (p) {
                if ((p == only || p[-1] == ',') && (p[l] == '\0' || p[l] == ','))
                    hit = 1;
                p = strstr(p + 1, cases[i].name);
            }
            if (!hit)
                continue;
        }
        bw_result r;
        memset(&r, 0, sizeof r);
        d1_status st = cases[i].run(cfg, scale, threads, &r);
        if (st != D1_OK) {
            fprintf(stderr, "d1 net bandwidth: %s: %s: %s\n", cases[i].name, d1_status_name(st),
                    d1_last_error());
            return 1;
        }
        d1n_bw_row *w = &rows[n++];
        w->name = cases[i].name;
        w->published = cases[i].published;
        w->published_gbs = cases[i].published_gbs;
        w->measured_gbs = gbs(cfg, r.bytes / r.cycles);
        w->expected_gbs = gbs(cfg, r.expected_bpc);
        snprintf(w->note, sizeof w->note, "%s", r.note);
        if (!strcmp(cases[i].name, "tile-edge") && n < 16) {
            /* derived: a tile has four edges */
            d1n_bw_row *x = &rows[n++];
            x->name = "tile-total";
            x->published = "36 TB/s per tile (4 edges)";
            x->published_gbs = 36000;
            x->measured_gbs = 4 * w->measured_gbs;
            x->expected_gbs = 4 * w->expected_gbs;
            snprintf(x->note, sizeof x->note, "derived: 4 x tile-edge");
        }
    }
    if (!n) {
        fprintf(stderr, "d1 net bandwidth: no case matches '%s' (see --help)\n", only);
        return 1;
    }
    *n_rows = n;
    return 0;
}

int d1_net_bandwidth(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *only = NULL, *scale_s = NULL;
    int check = 0;
    d1n_opt extra[] = {{"--case", &only, NULL},
                       {"--scale", &scale_s, NULL},
                       {"--check", NULL, &check},
                       {NULL, NULL, NULL}};
    d1n_opts o;
    int rc = 0;
    long long scale = 1;
    d1n_files f = {0};
    d1n_bw_row rows[16];
    size_t n = 0;
    if (d1n_parse("bandwidth", argc, argv, extra, &o) ||
        d1n_int("bandwidth", "--scale", scale_s, 1, 64, &scale) || d1n_no_args("bandwidth", &o)) {
        rc = 1;
        goto done;
    }
    if (d1n_bandwidth_rows(&o.cfg, only, (int)scale, (int)o.threads, rows, &n)) {
        rc = 1;
        goto done;
    }
    int off = 0;
    if (!o.quiet)
        printf("%-15s %11s %11s %7s %11s %7s  %s\n", "case", "measured", "expected", "ratio",
               "published", "ratio", "notes");
    for (size_t i = 0; i < n; i++) {
        double re = rows[i].measured_gbs / rows[i].expected_gbs;
        double rp = rows[i].measured_gbs / rows[i].published_gbs;
        off |= fabs(re - 1.0) > 0.02;
        if (!o.quiet)
            printf("%-15s %9.1f   %9.1f   %6.3f %9.0f   %6.3f  %s; published: %s\n", rows[i].name,
                   rows[i].measured_gbs, rows[i].expected_gbs, re, rows[i].published_gbs, rp,
                   rows[i].note, rows[i].published);
    }
    if (!o.quiet)
        printf("GB/s; expected = from the configuration (doc/tile.md), published = D1-FACTS.md\n");
    if (d1n_files_open("bandwidth", &o, 1, &f)) {
        rc = 1;
        goto done;
    }
    if (f.csv) {
        fputs("case,measured_gbs,expected_gbs,ratio_expected,published_gbs,ratio_published,"
              "published,notes\n",
              f.csv);
        for (size_t i = 0; i < n; i++)
            fprintf(f.csv, "%s,%.3f,%.3f,%.4f,%.0f,%.4f,\"%s\",\"%s\"\n", rows[i].name,
                    rows[i].measured_gbs, rows[i].expected_gbs,
                    rows[i].measured_gbs / rows[i].expected_gbs, rows[i].published_gbs,
                    rows[i].measured_gbs / rows[i].published_gbs, rows[i].published, rows[i].note);
    }
    if (f.json) {
        fputs("  \"cases\": [\n", f.json);
        for (size_t i = 0; i < n; i++)
            fprintf(f.json,
                    "    {\"case\": \"%s\", \"measured_gbs\": %.3f, \"expected_gbs\": %.3f, "
                    "\"published_gbs\": %.0f, \"published\": \"%s\", \"notes\": \"%s\"}%s\n",
                    rows[i].name, rows[i].measured_gbs, rows[i].expected_gbs, rows[i].published_gbs,
                    rows[i].published, rows[i].note, i + 1 < n ? "," : "");
        fputs("  ]\n}\n", f.json);
    }
    if (f.gp) {
        fputs("# idx case measured expected published (GB/s)\n", f.dat);
        for (size_t i = 0; i < n; i++)
            fprintf(f.dat, "%zu %s %.3f %.3f %.0f\n", i, rows[i].name, rows[i].measured_gbs,
                    rows[i].expected_gbs, rows[i].published_gbs);
        fprintf(f.gp,
                "set terminal pngcairo size 1000,500\nset output '%s.png'\n"
                "set title 'Bandwidth: measured vs configuration vs published'\n"
                "set style data histograms\nset style histogram clustered gap 1\n"
                "set style fill solid 0.8 border -1\nset logscale y\nset ylabel 'GB/s'\n"
                "set xtics rotate by -25\nset key top right\n"
                "plot '%s.dat' using 3:xtic(2) title 'measured', '' using 4 title 'expected "
                "(config)', '' using 5 title 'published'\n",
                o.out, o.out);
        if (d1n_files_plot("bandwidth", &o, &f))
            rc = 1;
    }
    if (!rc && check && off)
        rc = 2;

done:
    d1n_files_close(&f);
    d1n_fini(&o);
    return rc;
}
