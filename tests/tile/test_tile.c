/* Tile: geometry, routing across chips, zero-load latency formula (exact), parallel windows
 * (1 vs 2 threads identical), DIP/HBM DMA. */
#include "test_main.h"
#include "tile_progs.h"

#include "sim/arch/config.h"
#include "sim/elf/asm.h"
#include "sim/elf/emit.h"
#include "sim/tile/tile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static d1_config cfg;

static void cfg_default(void)
{
    ck_assert_int_eq(d1_config_init(&cfg), D1_OK);
}

static void cfg_set(const char *kv)
{
    ck_assert_msg(d1_config_set(&cfg, kv) == D1_OK, "%s", kv);
}

/* A small system for fast runs: 6x5 chips with one harvested node, chips_x x chips_y. */
static void cfg_small(int cx, int cy)
{
    cfg_default();
    char b[64];
    cfg_set("mesh_cols=6");
    cfg_set("mesh_rows=5");
    cfg_set("harvested=2,2");
    snprintf(b, sizeof b, "tile_chips_x=%d", cx);
    cfg_set(b);
    snprintf(b, sizeof b, "tile_chips_y=%d", cy);
    cfg_set(b);
    ck_assert_int_eq(d1_config_validate(&cfg), D1_OK);
}

static d1s_tile *make(int threads, d1s_node_mode mode)
{
    d1s_tile_opts o = {mode, threads};
    d1s_tile *t = NULL;
    ck_assert_msg(d1s_tile_create(&cfg, &o, &t) == D1_OK, "%s", d1_last_error());
    return t;
}

/* ---- geometry ---- */

START_TEST(geometry_default)
{
    cfg_default();
    d1s_tile *t = make(1, D1S_NODE_TIMING_ONLY);
    ck_assert_uint_eq(d1s_tile_chip_count(t), 25);
    ck_assert_uint_eq(d1s_tile_nodes_per_chip(t), 354);
    ck_assert_uint_eq(d1s_tile_node_count(t), 8850);
    ck_assert_uint_eq(d1s_tile_dip_count(t), 5);
    ck_assert_int_eq(d1s_tile_width(t), 90);
    ck_assert_int_eq(d1s_tile_height(t), 100);
    ck_assert_uint_eq(d1s_tile_window_cyc(t), 100);
    for (uint32_t id = 0; id < 8850; id += 7) {
        int x, y;
        ck_assert_int_eq(d1s_tile_node_xy(t, id, &x, &y), 0);
        ck_assert_uint_eq(d1s_tile_node_at(t, x, y), id);
    }
    /* harvested (3,2) of chip (1,1) has no id */
    ck_assert_uint_eq(d1s_tile_node_at(t, 18 + 3, 20 + 2), UINT32_MAX);
    uint32_t chip;
    int edge;
    const uint32_t *nodes;
    size_t n;
    ck_assert_int_eq(d1s_tile_dip_attach(t, 3, &chip, &edge, &nodes, &n), D1_OK);
    ck_assert_uint_eq(chip, 15); /* chip (0,3) */
    ck_assert_int_eq(edge, D1S_TILE_W);
    ck_assert_uint_eq(n, 20);
    d1s_tile_destroy(t);
    d1_config_fini(&cfg);
}
END_TEST

START_TEST(bad_config)
{
    cfg_default();
    cfg_set("window_cyc=101");
    d1s_tile_opts o = {D1S_NODE_TIMING_ONLY, 1};
    d1s_tile *t = NULL;
    ck_assert_int_eq(d1s_tile_create(&cfg, &o, &t), D1_E_CONFIG);
    ck_assert_ptr_null(t);
    d1_config_fini(&cfg);
    cfg_default();
    cfg_set("dip_edges=wx");
    ck_assert_int_eq(d1s_tile_create(&cfg, &o, &t), D1_E_CONFIG);
    d1_config_fini(&cfg);
}
END_TEST

/* ---- zero-load latency: measured == formula, exactly ---- */

START_TEST(zero_load_hand)
{
    cfg_default();
    d1s_tile *t = make(1, D1S_NODE_TIMING_ONLY);
    /* (17,0) of chip 0 -> (0,0) of chip 1: both on the border, one SerDes crossing:
     * (R + 1) + (ceil(64 / 1000) + 100) + (R + 1) = 2 + 101 + 2 */
    uint32_t a = d1s_tile_node_at(t, 17, 0), b = d1s_tile_node_at(t, 18, 0);
    d1s_tile_path p;
    ck_assert_int_eq(d1s_tile_zero_load(t, a, b, 64, &p), D1_OK);
    ck_assert_uint_eq(p.lat_cyc, 105);
    ck_assert_uint_eq(p.serdes, 1);
    ck_assert_uint_eq(p.hops, 0);
    uint64_t lat;
    ck_assert_int_eq(d1s_tile_probe(t, a, b, 64, &lat), D1_OK);
    ck_assert_uint_eq(lat, 105);
    /* neighbours on one chip: (R + L) per hop + R + 1 = 4 */
    a = d1s_tile_node_at(t, 5, 5);
    b = d1s_tile_node_at(t, 6, 5);
    ck_assert_int_eq(d1s_tile_probe(t, a, b, 64, &lat), D1_OK);
    ck_assert_uint_eq(lat, 4);
    d1s_tile_destroy(t);
    d1_config_fini(&cfg);
}
END_TEST

static void check_pairs(d1s_tile *t, int n_pairs, uint32_t seed)
{
    uint32_t N = d1s_tile_node_count(t);
    uint64_t s = seed;
    for (int i = 0; i < n_pairs; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        uint32_t a = (uint32_t)(s >> 33) % N;
        s = s * 6364136223846793005u + 1442695040888963407u;
        uint32_t b = (uint32_t)(s >> 33) % N;
        d1s_tile_path p;
        uint64_t lat = 0;
        ck_assert_int_eq(d1s_tile_zero_load(t, a, b, 64, &p), D1_OK);
        ck_assert_msg(d1s_tile_probe(t, a, b, 64, &lat) == D1_OK, "%s", d1_last_error());
        ck_assert_msg(lat == p.lat_cyc, "%u -> %u: measured %llu, formula %llu", a, b,
                      (unsigned long long)lat, (unsigned long long)p.lat_cyc);
        ck_assert_uint_eq(p.lat_cyc, p.noc_cyc + p.serial_cyc + p.xlat_cyc);
    }
}

START_TEST(zero_load_random_tile)
{
    cfg_default();
    d1s_tile *t = make(2, D1S_NODE_TIMING_ONLY);
    check_pairs(t, 150, 1);
    /* corner to corner: 88 + 98 hops... every leg and 8 SerDes crossings */
    d1s_tile_path p;
    uint32_t a = d1s_tile_node_at(t, 0, 0), b = d1s_tile_node_at(t, 89, 99);
    ck_assert_int_eq(d1s_tile_zero_load(t, a, b, 64, &p), D1_OK);
    ck_assert_uint_eq(p.serdes, 8);
    ck_assert_uint_eq(p.hops + p.serdes, 89 + 99);
    uint64_t lat;
    ck_assert_int_eq(d1s_tile_probe(t, a, b, 64, &lat), D1_OK);
    ck_assert_uint_eq(lat, p.lat_cyc);
    d1s_tile_destroy(t);
    d1_config_fini(&cfg);
}
END_TEST

START_TEST(zero_load_multi_tile)
{
    cfg_small(2, 2);
    cfg_set("tiles_x=2");
    cfg_set("tiles_y=2");
    d1s_tile *t = make(2, D1S_NODE_TIMING_ONLY);
    ck_assert_uint_eq(d1s_tile_chip_count(t), 16);
    check_pairs(t, 200, 7);
    /* across the tile edge: one tile link (4500 / 2 B/cyc per chip edge, 200 cyc) */
    uint32_t a = d1s_tile_node_at(t, 11, 0), b = d1s_tile_node_at(t, 12, 0);
    d1s_tile_path p;
    ck_assert_int_eq(d1s_tile_zero_load(t, a, b, 64, &p), D1_OK);
    ck_assert_uint_eq(p.tile_links, 1);
    ck_assert_uint_eq(p.lat_cyc, 2 + 1 + 200 + 2);
    d1s_tile_destroy(t);
    d1_config_fini(&cfg);
}
END_TEST

/* ---- programs: cross-chip DMA, 1 vs 2 threads ---- */

/* Every node writes its id at 0x10000 and PUTs 256 B to node (nid + step) mod N, then waits
 * for its own completion and the data from its upstream node. */
static d1s_kernel *ring_kernel(uint32_t n_nodes, uint32_t step)
{
    char src[2048];
    snprintf(src, sizeof src,
             ".program main\n.place all\n"
             "        csrr x5, nid\n"
             "        li   x10, 0x10000\n"
             "        sd   x5, 0(x10)\n"
             "        li   x7, %u\n"
             "        li   x6, %u\n"
             "        add  x6, x5, x6\n"
             "        blt  x6, x7, ok\n"
             "        sub  x6, x6, x7\n"
             "ok:     li   x8, 0x00020100\n"
             "        li   x9, 256\n"
             "        slli x9, x9, 32\n"
             "        or   x8, x8, x9\n"
             "        sd   x8, 0x200(x0)\n"
             "        sd   x6, 0x208(x0)\n"
             "        li   x8, 0x10000\n"
             "        sd   x8, 0x210(x0)\n"
             "        li   x8, 0x20000\n"
             "        sd   x8, 0x218(x0)\n"
             "        dma  0x200(x0)\n"
             "        swait s1, 1\n"
             "        swait s2, 1\n"
             "        halt\n",
             n_nodes, step);
    d1s_target tg = {n_nodes, (uint64_t)cfg.sram_bytes, 0};
    d1s_kernel *k = NULL;
    ck_assert_msg(d1s_asm_string(src, "ring", &tg, &k) == D1_OK, "%s", d1_last_error());
    return k;
}

typedef struct run_out {
    d1s_tile_result r;
    d1s_chip_stats st;
    uint64_t *recv;
} run_out;

static void run_ring(int threads, d1s_node_mode mode, run_out *o)
{
    d1s_tile *t = make(threads, mode);
    uint32_t N = d1s_tile_node_count(t);
    d1s_kernel *k = ring_kernel(N, d1s_tile_nodes_per_chip(t) * 5 + 3);
    ck_assert_int_eq(d1s_tile_load_kernel(t, k), D1_OK);
    ck_assert_int_eq(d1s_tile_run(t, 0, &o->r), D1_OK);
    d1s_tile_chip_stats(t, &o->st);
    o->recv = calloc(N, sizeof *o->recv);
    for (uint32_t id = 0; id < N; id++)
        d1s_node_sram_read(d1s_tile_node(t, id), 0x20000, &o->recv[id], 8);
    d1s_kernel_destroy(k);
    d1s_tile_destroy(t);
}

START_TEST(threads_identical)
{
    cfg_small(4, 3);
    run_out a, b, c;
    run_ring(1, D1S_NODE_FUNCTIONAL, &a);
    run_ring(2, D1S_NODE_FUNCTIONAL, &b);
    run_ring(2, D1S_NODE_FUNCTIONAL, &c);
    ck_assert_int_eq(a.r.end, D1S_END_HALTED);
    ck_assert_uint_gt(a.r.xpkts, 0);
    uint32_t N = 12 * 29;
    for (uint32_t id = 0; id < N; id++) {
        uint32_t up = (id + N - (29 * 5 + 3) % N) % N;
        ck_assert_uint_eq(a.recv[id], up);
    }
    run_out *o[2] = {&b, &c};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(o[i]->r.end, a.r.end);
        ck_assert_uint_eq(o[i]->r.cycles, a.r.cycles);
        ck_assert_uint_eq(o[i]->r.windows, a.r.windows);
        ck_assert_uint_eq(o[i]->r.xpkts, a.r.xpkts);
        ck_assert_int_eq(memcmp(&o[i]->st, &a.st, sizeof a.st), 0);
        ck_assert_int_eq(memcmp(o[i]->recv, a.recv, N * sizeof *a.recv), 0);
    }
    /* timing-only: same cycles */
    run_out d;
    run_ring(2, D1S_NODE_TIMING_ONLY, &d);
    ck_assert_uint_eq(d.r.cycles, a.r.cycles);
    free(a.recv);
    free(b.recv);
    free(c.recv);
    free(d.recv);
    d1_config_fini(&cfg);
}
END_TEST

/* Any window length up to the smallest crossing latency gives the same results: packets are
 * exchanged in time order, so where the window edges fall changes nothing. */
START_TEST(window_independent)
{
    cfg_small(4, 3);
    run_out a, b;
    run_ring(2, D1S_NODE_FUNCTIONAL, &a);
    cfg_set("window_cyc=7");
    run_ring(2, D1S_NODE_FUNCTIONAL, &b);
    ck_assert_int_eq(a.r.end, D1S_END_HALTED);
    ck_assert_uint_eq(b.r.cycles, a.r.cycles);
    ck_assert_uint_eq(b.r.xpkts, a.r.xpkts);
    ck_assert_uint_gt(b.r.windows, a.r.windows);
    ck_assert_int_eq(memcmp(&b.st, &a.st, sizeof a.st), 0);
    ck_assert_int_eq(memcmp(b.recv, a.recv, 12 * 29 * sizeof *a.recv), 0);
    free(a.recv);
    free(b.recv);
    d1_config_fini(&cfg);
}
END_TEST

START_TEST(deadlock_across_chips)
{
    cfg_small(2, 1);
    d1s_tile *t = make(1, D1S_NODE_TIMING_ONLY);
    static const char *src = ".program main\n.place all\n swait s3, 1\n halt\n";
    d1s_target tg = {d1s_tile_node_count(t), (uint64_t)cfg.sram_bytes, 0};
    d1s_kernel *k = NULL;
    ck_assert_int_eq(d1s_asm_string(src, "dl", &tg, &k), D1_OK);
    ck_assert_int_eq(d1s_tile_load_kernel(t, k), D1_OK);
    d1s_tile_result r;
    ck_assert_int_eq(d1s_tile_run(t, 0, &r), D1_OK);
    ck_assert_int_eq(r.end, D1S_END_TRAP);
    ck_assert_int_eq(r.trap.cause, D1S_TRAP_DEADLOCK);
    d1s_kernel_destroy(k);
    d1s_tile_destroy(t);
    d1_config_fini(&cfg);
}
END_TEST

/* ---- HBM DMA through a DIP (hbm_src: tile_progs.h) ---- */

static uint64_t run_hbm(int threads, uint8_t *back, uint8_t *in_hbm)
{
    d1s_tile *t = make(threads, D1S_NODE_FUNCTIONAL);
    ck_assert_uint_eq(d1s_tile_dip_count(t), 5);
    uint32_t N = d1s_tile_node_count(t), id = N - 1; /* far from the west edge */
    d1s_target tg = {N, (uint64_t)cfg.sram_bytes, 0};
    d1s_kernel *k = NULL;
    ck_assert_msg(d1s_asm_string(hbm_src, "hbm", &tg, &k) == D1_OK, "%s", d1_last_error());
    const d1s_program *pr = d1s_kernel_program(k, 0);
    uint8_t pat[4096];
    for (int i = 0; i < 4096; i++)
        pat[i] = (uint8_t)(i * 7 + 3);
    ck_assert_int_eq(d1s_tile_load_image(t, id, 0x10000, pat, sizeof pat), D1_OK);
    ck_assert_int_eq(d1s_tile_load_program(t, id, id, pr->words, pr->n_words, 0), D1_OK);
    d1s_tile_result r;
    ck_assert_int_eq(d1s_tile_run(t, 0, &r), D1_OK);
    ck_assert_msg(r.end == D1S_END_HALTED, "end %d trap %s", r.end, d1s_trap_name(r.trap.cause));
    d1s_node_sram_read(d1s_tile_node(t, id), 0x30000, back, 4096);
    d1s_hbm_read(d1s_dip_hbm(d1s_tile_dip(t, 4)), 0x40000000, in_hbm, 4096);
    ck_assert_int_eq(memcmp(back, pat, 4096), 0);
    ck_assert_int_eq(memcmp(in_hbm, pat, 4096), 0);
    /* sparse: only the touched page is resident */
    ck_assert_uint_eq(d1s_hbm_resident_bytes(d1s_dip_hbm(d1s_tile_dip(t, 4))), 65536);
    d1s_dip_stats ds;
    d1s_dip_get_stats(d1s_tile_dip(t, 4), &ds);
    ck_assert_uint_eq(ds.hbm_write_bytes, 4096);
    ck_assert_uint_eq(ds.hbm_read_bytes, 4096);
    d1s_kernel_destroy(k);
    d1s_tile_destroy(t);
    return r.cycles;
}

START_TEST(hbm_dma)
{
    cfg_small(3, 2);
    uint8_t a[4096], b[4096];
    uint64_t c1 = run_hbm(1, a, b);
    uint64_t c2 = run_hbm(2, a, b);
    ck_assert_uint_eq(c1, c2);
    d1_config_fini(&cfg);
}
END_TEST

START_TEST(hbm_unsupported_without_dips)
{
    cfg_small(2, 1);
    cfg_set("dips_per_edge=0");
    d1s_tile *t = make(1, D1S_NODE_FUNCTIONAL);
    ck_assert_uint_eq(d1s_tile_dip_count(t), 0);
    d1s_target tg = {d1s_tile_node_count(t), (uint64_t)cfg.sram_bytes, 0};
    d1s_kernel *k = NULL;
    ck_assert_int_eq(d1s_asm_string(hbm_src, "hbm", &tg, &k), D1_OK);
    const d1s_program *pr = d1s_kernel_program(k, 0);
    ck_assert_int_eq(d1s_tile_load_program(t, 3, 3, pr->words, pr->n_words, 0), D1_OK);
    d1s_tile_result r;
    ck_assert_int_eq(d1s_tile_run(t, 0, &r), D1_OK);
    ck_assert_int_eq(r.end, D1S_END_TRAP);
    ck_assert_int_eq(r.trap.cause, D1S_TRAP_UNSUPPORTED);
    ck_assert_uint_eq(r.trap.node, 3);
    d1s_kernel_destroy(k);
    d1s_tile_destroy(t);
    d1_config_fini(&cfg);
}
END_TEST

START_TEST(hbm_zero_load)
{
    cfg_default();
    d1s_tile *t = make(2, D1S_NODE_TIMING_ONLY);
    /* every DIP to the farthest corner and to a node next to it */
    for (uint32_t d = 0; d < d1s_tile_dip_count(t); d++) {
        uint32_t nodes[2] = {d1s_tile_node_at(t, 89, 99), d1s_tile_node_at(t, 0, 20 * d + 3)};
        for (int i = 0; i < 2; i++) {
            uint64_t lat = 0, f = 0;
            ck_assert_msg(d1s_tile_hbm_probe(t, nodes[i], d, &lat, &f) == D1_OK, "%s",
                          d1_last_error());
            ck_assert_msg(lat == f, "DIP %u -> node %u: measured %llu, formula %llu", d, nodes[i],
                          (unsigned long long)lat, (unsigned long long)f);
        }
    }
    d1s_tile_destroy(t);
    d1_config_fini(&cfg);
}
END_TEST

START_TEST(hbm_sparse_store)
{
    d1s_hbm *h = NULL;
    uint64_t size = 32ull << 30;
    ck_assert_int_eq(d1s_hbm_create(size, &h), D1_OK);
    uint8_t w[200], r[200];
    for (int i = 0; i < 200; i++)
        w[i] = (uint8_t)(i + 1);
    /* across a page boundary near the top of 32 GB */
    ck_assert_int_eq(d1s_hbm_write(h, size - 65536 - 100, w, 200), D1_OK);
    ck_assert_uint_eq(d1s_hbm_resident_bytes(h), 2 * 65536);
    ck_assert_int_eq(d1s_hbm_read(h, size - 65536 - 100, r, 200), D1_OK);
    ck_assert_int_eq(memcmp(r, w, 200), 0);
    ck_assert_int_eq(d1s_hbm_read(h, 12345, r, 200), D1_OK); /* untouched: zeros */
    for (int i = 0; i < 200; i++)
        ck_assert_uint_eq(r[i], 0);
    ck_assert_int_eq(d1s_hbm_write(h, size - 100, w, 200), D1_E_RANGE);
    ck_assert_int_eq(d1s_hbm_read(h, size, r, 1), D1_E_RANGE);
    for (uint64_t p = 0; p < 1000; p++) /* the page table grows */
        ck_assert_int_eq(d1s_hbm_write(h, p * (size / 1000), w, 8), D1_OK);
    ck_assert_int_eq(d1s_hbm_read(h, 999 * (size / 1000), r, 8), D1_OK);
    ck_assert_int_eq(memcmp(r, w, 8), 0);
    d1s_hbm_destroy(h);
}
END_TEST

static void traffic_once(int threads, double rate, d1s_traffic_result *r, double *zl)
{
    d1s_tile *t = make(threads, D1S_NODE_TIMING_ONLY);
    d1s_traffic_params p;
    d1s_traffic_params_default(&p);
    p.rate_flits = rate;
    p.warmup_cyc = 300;
    p.measure_cyc = 1500;
    p.drain_max_cyc = 20000;
    if (rate > 0.5) { /* saturating: keep the run short */
        p.warmup_cyc = 100;
        p.measure_cyc = 300;
        p.drain_max_cyc = 1000;
    }
    ck_assert_int_eq(d1s_tile_traffic_run(t, &p, r), D1_OK);
    if (zl)
        ck_assert_int_eq(d1s_tile_traffic_zero_load(t, &p, 0, zl), D1_OK);
    d1s_tile_destroy(t);
}

START_TEST(traffic_low_load)
{
    cfg_small(3, 2);
    d1s_traffic_result a, b, c;
    double zl = 0;
    traffic_once(1, 0.02, &a, &zl);
    traffic_once(2, 0.02, &b, NULL);
    ck_assert(!a.saturated);
    ck_assert_uint_eq(a.sources, 6 * 29);
    ck_assert_uint_gt(a.pkts_measured, 1000);
    ck_assert_uint_eq(a.pkts_measured_done, a.pkts_measured);
    ck_assert_double_eq_tol(a.accepted_flits, a.offered_flits, 0.1 * a.offered_flits);
    /* at low load the latency is the zero-load latency plus a little queueing */
    ck_assert_double_ge(a.pkt_lat_avg_cyc, zl * 0.97);
    ck_assert_double_le(a.pkt_lat_avg_cyc, zl * 1.2);
    /* threads do not change anything */
    ck_assert_uint_eq(b.pkts_measured, a.pkts_measured);
    ck_assert_double_eq(b.pkt_lat_avg_cyc, a.pkt_lat_avg_cyc);
    ck_assert_uint_eq(b.pkt_lat_max_cyc, a.pkt_lat_max_cyc);
    ck_assert_uint_eq(b.end_cyc, a.end_cyc);
    /* far above what the chip edges carry: saturates */
    traffic_once(2, 0.9, &c, NULL);
    ck_assert(c.saturated || c.accepted_flits < 0.8 * c.offered_flits);
    d1_config_fini(&cfg);
}
END_TEST

static Suite *tile_suite(void)
{
    Suite *s = suite_create("tile");
    /* one case per test: CK_RUN_CASE=<name> runs one */
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"geometry_default", geometry_default},
        {"bad_config", bad_config},
        {"zero_load_hand", zero_load_hand},
        {"zero_load_random_tile", zero_load_random_tile},
        {"zero_load_multi_tile", zero_load_multi_tile},
        {"threads_identical", threads_identical},
        {"window_independent", window_independent},
        {"deadlock_across_chips", deadlock_across_chips},
        {"traffic_low_load", traffic_low_load},
        {"hbm_dma", hbm_dma},
        {"hbm_sparse_store", hbm_sparse_store},
        {"hbm_zero_load", hbm_zero_load},
        {"hbm_unsupported_without_dips", hbm_unsupported_without_dips},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

D1_TEST_MAIN(tile_suite)
