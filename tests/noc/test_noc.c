/* Network on chip: zero-load formula, link bandwidth, flow control, deadlock freedom,
 * routing errors, determinism, delivery API. */
#include "noc_harness.h"
#include "test_main.h"

#include "sim/noc/noc.h"

#include <stdlib.h>
#include <string.h>

/* ck_assert records every passing check (a write per call); hot loops use this instead. */
#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

void noc_test_cfg(d1_config *cfg, const char *const *sets)
{
    ck_assert_int_eq(d1_config_init(cfg), D1_OK);
    for (; sets && *sets; sets++) {
        d1_status s = d1_config_set(cfg, *sets);
        ck_assert_msg(s == D1_OK, "--set %s: %s", *sets, d1_last_error());
    }
}

d1s_noc *noc_test_make(const d1_config *cfg, const d1s_noc_mesh *mesh)
{
    d1s_noc *noc = NULL;
    d1_status s = d1s_noc_create(cfg, mesh, &noc);
    ck_assert_msg(s == D1_OK, "create: %s", d1_last_error());
    return noc;
}

/* Step from *now until dst delivers a packet (polled), skipping idle cycles; returns it. */
static d1s_noc_pkt deliver_one(d1s_noc *noc, uint32_t dst, uint64_t *now)
{
    d1s_noc_pkt p;
    for (uint64_t guard = 0; guard < 100000; guard++) {
        uint64_t ne = d1s_noc_next_event(noc, *now);
        REQUIRE(ne != UINT64_MAX, "network idle before delivery");
        if (ne > *now)
            *now = ne;
        d1s_noc_eval(noc, *now);
        d1s_noc_commit(noc, *now);
        (*now)++;
        if (d1s_noc_poll(noc, dst, *now, &p))
            return p;
    }
    ck_abort_msg("packet not delivered");
    return p;
}

/* Every ordered pair of nodes, one packet at a time in an empty network: measured latencies
 * equal the formula of doc/noc.md exactly, hop counts equal the route table's. */
/* doc/noc.md: network latency (head injection -> tail ejection) at zero load
 *   = (h + 1) * router_delay + h * link_delay + ceil(F / k) - 1,
 * k = min(injection, ejection, link (if h > 0)) flits per cycle; packet latency = that + 1. */
static uint64_t formula(const d1_config *cfg, uint32_t h, uint32_t f)
{
    int64_t k = cfg->router_out_bytes_per_cyc < cfg->router_in_bytes_per_cyc
                    ? cfg->router_out_bytes_per_cyc
                    : cfg->router_in_bytes_per_cyc;
    if (h > 0 && cfg->link_bytes_per_cyc < k)
        k = cfg->link_bytes_per_cyc;
    k /= cfg->flit_bytes;
    return (uint64_t)((h + 1) * cfg->router_delay_cyc + h * cfg->link_delay_cyc + (f + k - 1) / k -
                      1);
}

static void check_all_pairs(const d1_config *cfg, d1s_noc *noc, uint32_t size_flits,
                            uint32_t *detours)
{
    int n = d1s_noc_cols(noc) * d1s_noc_rows(noc), cols = d1s_noc_cols(noc);
    uint64_t now = 0;
    uint32_t pairs = 0;
    *detours = 0;
    for (uint32_t a = 0; a < (uint32_t)n; a++) {
        if (!d1s_noc_is_node(noc, (int)a % cols, (int)a / cols))
            continue;
        for (uint32_t b = 0; b < (uint32_t)n; b++) {
            if (!d1s_noc_is_node(noc, (int)b % cols, (int)b / cols))
                continue;
            uint32_t hops, mid;
            REQUIRE(d1s_noc_route(noc, a, b, &hops, &mid) == D1_OK, "route %u->%u", a, b);
            uint32_t manhattan =
                (uint32_t)(abs((int)(a % (uint32_t)cols) - (int)(b % (uint32_t)cols)) +
                           abs((int)(a / (uint32_t)cols) - (int)(b / (uint32_t)cols)));
            /* detours may be minimal (XY blocked, another staircase is not) */
            REQUIRE(mid == b ? hops == manhattan : hops >= manhattan, "hops %u->%u", a, b);
            *detours += mid != b;
            uint64_t net, pkt;
            REQUIRE(d1s_noc_zero_load_lat(noc, a, b, size_flits, &net, &pkt) == D1_OK, "lat");
            REQUIRE(net == formula(cfg, hops, size_flits) && pkt == net + 1, "formula");
            uint64_t t0 = now;
            REQUIRE(d1s_noc_inject(noc, a, b, size_flits, 7, t0) == D1_OK, "inject");
            d1s_noc_pkt p = deliver_one(noc, b, &now);
            REQUIRE(p.src == a && p.tag == 7 && p.create_cyc == t0, "packet fields");
            REQUIRE(p.head_inject_cyc == t0 + 1, "head injected at %llu, created at %llu",
                    (unsigned long long)p.head_inject_cyc, (unsigned long long)t0);
            REQUIRE(p.tail_eject_cyc - p.head_inject_cyc == net,
                    "%u->%u (%u flits, %u hops): network latency %llu, formula %llu", a, b,
                    size_flits, hops, (unsigned long long)(p.tail_eject_cyc - p.head_inject_cyc),
                    (unsigned long long)net);
            REQUIRE(p.tail_eject_cyc - p.create_cyc == pkt, "packet latency %u->%u", a, b);
            REQUIRE(p.hops == hops, "hops taken %u, route %u", p.hops, hops);
            /* let credits settle: the next packet starts in an empty network */
            for (uint64_t ne; (ne = d1s_noc_next_event(noc, now)) != UINT64_MAX; now = ne + 1) {
                d1s_noc_eval(noc, ne);
                d1s_noc_commit(noc, ne);
            }
            pairs++;
        }
    }
    ck_assert_uint_gt(pairs, 0);
}

START_TEST(zero_load_every_pair_default_chip)
{
    d1_config cfg;
    noc_test_cfg(&cfg, NULL);
    d1s_noc *noc = noc_test_make(&cfg, NULL);
    /* the formula with the defaults: (h+1)*1 + h*1 + ceil(F/1) - 1 */
    uint64_t net;
    ck_assert_int_eq(d1s_noc_zero_load_lat(noc, 0, d1s_noc_node_id(noc, 17, 19), 4, &net, NULL),
                     D1_OK);
    ck_assert_uint_eq(net, 36 + 1 + 36 + 3);
    uint32_t detours;
    check_all_pairs(&cfg, noc, _i == 0 ? 1 : 4, &detours);
    ck_assert_uint_gt(detours, 1000); /* the harvested positions force many detours */
    d1s_noc_destroy(noc);
    d1_config_fini(&cfg);
}
END_TEST

START_TEST(zero_load_every_pair_small_meshes)
{
    static const char *const variants[][6] = {
        {NULL},
        {"router_delay_cyc=3", "link_delay_cyc=2", "noc_credit_delay_cyc=2", NULL},
        {"link_bytes_per_cyc=64", NULL},
        {"router_out_bytes_per_cyc=256", "router_in_bytes_per_cyc=128", NULL},
        {"noc_vcs=4", "noc_vc_buf_flits=16", "link_delay_cyc=3", NULL},
    };
    static const int holes[][2] = {{2, 1}, {4, 3}, {1, 3}};
    d1s_noc_mesh mesh = {6, 5, 3, holes};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        d1_config cfg;
        noc_test_cfg(&cfg, variants[v]);
        for (int with_holes = 0; with_holes < 2; with_holes++) {
            mesh.n_harvested = with_holes ? 3 : 0;
            d1s_noc *noc = noc_test_make(&cfg, &mesh);
            for (uint32_t f = 1; f <= 9; f += 4) {
                uint32_t detours;
                check_all_pairs(&cfg, noc, f, &detours);
                ck_assert(with_holes ? detours > 0 : detours == 0);
            }
            d1s_noc_destroy(noc);
        }
        d1_config_fini(&cfg);
    }
}
END_TEST

/* A row of 10 nodes, node i -> i + 5 for i < 5, every source injecting as fast as it can:
 * five flows share the link 4 -> 5, which then moves exactly link_bytes_per_cyc per cycle. */
static void saturate_one_link(const char *link_set, uint64_t expect_bytes_per_cyc)
{
    const char *sets[] = {link_set, NULL};
    d1_config cfg;
    noc_test_cfg(&cfg, sets);
    d1s_noc_mesh mesh = {10, 1, 0, NULL};
    d1s_noc *noc = noc_test_make(&cfg, &mesh);
    const uint64_t warm = 500, window = 20000;
    uint64_t f0 = 0;
    for (uint64_t t = 0; t < warm + window; t++) {
        if (t == warm)
            f0 = d1s_noc_link_flits(noc, 4, D1S_NOC_E);
        for (uint32_t i = 0; i < 5; i++) {
            while (d1s_noc_inject_space(noc, i))
                ck_assert_int_eq(d1s_noc_inject(noc, i, i + 5, 1, 0, t), D1_OK);
        }
        d1s_noc_eval(noc, t);
        d1s_noc_commit(noc, t);
        d1s_noc_pkt p;
        for (uint32_t d = 5; d < 10; d++)
            while (d1s_noc_poll(noc, d, t + 1, &p))
                ;
    }
    uint64_t bytes = (d1s_noc_link_flits(noc, 4, D1S_NOC_E) - f0) * (uint64_t)cfg.flit_bytes;
    ck_assert_uint_eq(bytes, expect_bytes_per_cyc * window);
    d1s_noc_stats st;
    d1s_noc_get_stats(noc, &st);
    ck_assert_uint_le(st.buf_max_flits, (uint64_t)cfg.noc_vc_buf_flits);
    d1s_noc_destroy(noc);
    d1_config_fini(&cfg);
}

START_TEST(saturated_link_moves_link_bytes_per_cycle)
{
    saturate_one_link("link_bytes_per_cyc=256", 256);
    saturate_one_link("link_bytes_per_cyc=64", 64);
    saturate_one_link("link_bytes_per_cyc=128", 128);
}
END_TEST

/* Random traffic far beyond saturation on a mesh with harvested positions, 1-flit and
 * multi-flit packets, small buffers; then injection stops: everything must be delivered (no
 * deadlock), and no buffer ever held more than its depth (credit flow control). */
static void flood_then_drain(const char *const *sets, const d1s_noc_mesh *mesh, uint32_t size)
{
    d1_config cfg;
    noc_test_cfg(&cfg, sets);
    d1s_noc *noc = noc_test_make(&cfg, mesh);
    int cols = d1s_noc_cols(noc), n = cols * d1s_noc_rows(noc);
    uint64_t rng = 99;
    uint64_t injected = 0;
    for (uint64_t t = 0; t < 2000; t++) {
        for (int s = 0; s < n; s++) {
            if (!d1s_noc_is_node(noc, s % cols, s / cols))
                continue;
            while (d1s_noc_inject_space(noc, (uint32_t)s)) {
                uint32_t d;
                do {
                    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                    d = (uint32_t)((rng >> 33) % (uint64_t)n);
                } while (d1s_noc_route(noc, (uint32_t)s, d, NULL, NULL) != D1_OK);
                uint32_t f = size ? size : 1 + (uint32_t)((rng >> 20) % 6);
                ck_assert_int_eq(d1s_noc_inject(noc, (uint32_t)s, d, f, 0, t), D1_OK);
                injected++;
            }
        }
        d1s_noc_eval(noc, t);
        d1s_noc_commit(noc, t);
        d1s_noc_pkt p;
        for (int d = 0; d < n; d++)
            while (d1s_noc_poll(noc, (uint32_t)d, t + 1, &p))
                ;
    }
    uint64_t t = 2000;
    for (; t < 2000 + 200000 && !d1s_noc_idle(noc); t++) {
        d1s_noc_eval(noc, t);
        d1s_noc_commit(noc, t);
        d1s_noc_pkt p;
        for (int d = 0; d < n; d++)
            while (d1s_noc_poll(noc, (uint32_t)d, t + 1, &p))
                ;
    }
    d1s_noc_stats st;
    d1s_noc_get_stats(noc, &st);
    ck_assert_msg(d1s_noc_idle(noc), "deadlock: %llu packets stuck",
                  (unsigned long long)st.pkts_in_flight);
    ck_assert_uint_eq(st.pkts_in_flight, 0);
    ck_assert_uint_eq(st.pkts_ejected, injected);
    ck_assert_uint_eq(st.buf_max_flits, (uint64_t)cfg.noc_vc_buf_flits); /* buffers did fill */
    d1s_noc_destroy(noc);
    d1_config_fini(&cfg);
}

START_TEST(no_deadlock_at_saturation_with_harvested)
{
    const char *chip[] = {NULL};
    flood_then_drain(chip, NULL, 1);
    flood_then_drain(chip, NULL, 4);
    const char *tight[] = {"noc_vc_buf_flits=2", "link_bytes_per_cyc=64", NULL};
    flood_then_drain(tight, NULL, 0);
    static const int holes[][2] = {{1, 1}, {3, 1}, {2, 3}, {4, 4}, {0, 5}, {5, 2}};
    d1s_noc_mesh mesh = {6, 6, 6, holes};
    const char *tiny[] = {"noc_vc_buf_flits=1", "noc_ej_queue_pkts=1", NULL};
    flood_then_drain(tiny, &mesh, 0);
    const char *four[] = {"noc_vcs=4", "noc_vc_buf_flits=3", NULL};
    flood_then_drain(four, &mesh, 0);
}
END_TEST

START_TEST(route_errors_are_exact)
{
    d1_config cfg;
    noc_test_cfg(&cfg, NULL);
    d1s_noc *noc = noc_test_make(&cfg, NULL);
    uint32_t hole = d1s_noc_node_id(noc, 3, 2), ok = d1s_noc_node_id(noc, 0, 0);
    ck_assert(!d1s_noc_is_node(noc, 3, 2));
    d1_clear_error();
    ck_assert_int_eq(d1s_noc_inject(noc, ok, hole, 1, 0, 0), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "route to harvested position (3,2)");
    ck_assert_int_eq(d1s_noc_route(noc, hole, ok, NULL, NULL), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "route from harvested position (3,2)");
    ck_assert_int_eq(d1s_noc_inject(noc, ok, 360, 1, 0, 0), D1_E_RANGE);
    ck_assert_str_eq(d1_last_error(), "node id 360 outside the 18x20 mesh");
    ck_assert_int_eq(d1s_noc_inject(noc, ok, 1, 0, 0, 0), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "packet of 0 flits");
    d1s_noc_stats st;
    d1s_noc_get_stats(noc, &st);
    ck_assert_uint_eq(st.pkts_injected, 0);
    d1s_noc_destroy(noc);

    /* a node walled in by harvested positions has no route */
    static const int wall[][2] = {{1, 0}, {0, 1}};
    d1s_noc_mesh m = {3, 3, 2, wall};
    noc = noc_test_make(&cfg, &m);
    ck_assert_int_eq(d1s_noc_route(noc, 0, 8, NULL, NULL), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "no route from (0,0) to (2,2) around harvested positions");
    d1s_noc_destroy(noc);

    /* detours need two VC classes */
    const char *one_vc[] = {"noc_vcs=1", NULL};
    d1_config_fini(&cfg);
    noc_test_cfg(&cfg, one_vc);
    ck_assert_int_eq(d1s_noc_create(&cfg, NULL, &noc), D1_E_CONFIG);
    ck_assert_str_eq(d1_last_error(),
                     "noc_vcs = 1: detours around harvested positions need at least 2");
    d1s_noc_mesh plain = {4, 4, 0, NULL};
    noc = noc_test_make(&cfg, &plain); /* fine without holes */
    d1s_noc_destroy(noc);
    d1_config_fini(&cfg);

    const char *odd[] = {"link_bytes_per_cyc=96", NULL};
    noc_test_cfg(&cfg, odd);
    ck_assert_int_eq(d1s_noc_create(&cfg, NULL, &noc), D1_E_CONFIG);
    ck_assert_str_eq(d1_last_error(),
                     "link_bytes_per_cyc = 96 must be a multiple of flit_bytes = 64");
    d1_config_fini(&cfg);
}
END_TEST

START_TEST(inject_busy_and_ejection_backpressure)
{
    const char *sets[] = {"noc_inj_queue_pkts=3", "noc_ej_queue_pkts=2", NULL};
    d1_config cfg;
    noc_test_cfg(&cfg, sets);
    d1s_noc_mesh mesh = {4, 1, 0, NULL};
    d1s_noc *noc = noc_test_make(&cfg, &mesh);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(d1s_noc_inject(noc, 0, 3, 1, (uint64_t)k, 0), D1_OK);
    ck_assert_uint_eq(d1s_noc_inject_space(noc, 0), 0);
    d1_clear_error();
    ck_assert_int_eq(d1s_noc_inject(noc, 0, 3, 1, 9, 0), D1_E_STATE);
    ck_assert_str_eq(d1_last_error(), ""); /* busy is not an error: no detail */
    for (uint64_t t = 0; t < 100; t++) {
        d1s_noc_eval(noc, t);
        d1s_noc_commit(noc, t);
    }
    /* only two fit the ejection queue; the third waits in the router */
    d1s_noc_stats st;
    d1s_noc_get_stats(noc, &st);
    ck_assert_uint_eq(st.pkts_ejected, 2);
    d1s_noc_pkt p;
    ck_assert_int_eq(d1s_noc_poll(noc, 3, 100, &p), 1);
    ck_assert_uint_eq(p.tag, 0);
    ck_assert_int_eq(d1s_noc_poll(noc, 3, 100, &p), 1);
    ck_assert_uint_eq(p.tag, 1);
    ck_assert_int_eq(d1s_noc_poll(noc, 3, 100, &p), 0);
    for (uint64_t t = 100; t < 110; t++) {
        d1s_noc_eval(noc, t);
        d1s_noc_commit(noc, t);
    }
    ck_assert_int_eq(d1s_noc_poll(noc, 3, 110, &p), 1);
    ck_assert_uint_eq(p.tag, 2);
    ck_assert_uint_eq(p.tail_eject_cyc, 100); /* ejected as soon as a slot was free */
    ck_assert(d1s_noc_idle(noc));
    d1s_noc_destroy(noc);
    d1_config_fini(&cfg);
}
END_TEST

/* Callback delivery order is by destination within a cycle, independent of anything else. */
typedef struct rec {
    uint32_t n;
    uint32_t dst[64];
    uint64_t cyc[64];
} rec;

static void record(void *user, const d1s_noc_pkt *p, uint64_t now)
{
    rec *r = user;
    ck_assert_uint_eq(p->tail_eject_cyc, now);
    if (r->n < 64) {
        r->dst[r->n] = p->dst;
        r->cyc[r->n++] = now;
    }
}

START_TEST(callback_delivery_in_dst_order)
{
    d1_config cfg;
    noc_test_cfg(&cfg, NULL);
    d1s_noc_mesh mesh = {5, 5, 0, NULL};
    d1s_noc *noc = noc_test_make(&cfg, &mesh);
    rec r = {0};
    d1s_noc_set_eject_cb(noc, record, &r);
    /* four packets with equal distance, injected in reverse destination order */
    uint32_t src[4] = {24, 20, 4, 0}, dst[4] = {23, 21, 3, 1};
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(d1s_noc_inject(noc, src[k], dst[k], 1, 0, 0), D1_OK);
    for (uint64_t t = 0; t < 50; t++) {
        d1s_noc_eval(noc, t);
        d1s_noc_commit(noc, t);
    }
    ck_assert_uint_eq(r.n, 4);
    for (int k = 0; k < 4; k++)
        ck_assert_uint_eq(r.cyc[k], r.cyc[0]);
    ck_assert_uint_eq(r.dst[0], 1);
    ck_assert_uint_eq(r.dst[1], 3);
    ck_assert_uint_eq(r.dst[2], 21);
    ck_assert_uint_eq(r.dst[3], 23);
    d1s_noc_destroy(noc);
    d1_config_fini(&cfg);
}
END_TEST

Suite *noc_suite(void)
{
    Suite *s = suite_create("noc");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, zero_load_every_pair_default_chip, 0, 2);
    tcase_add_test(tc, zero_load_every_pair_small_meshes);
    tcase_add_test(tc, saturated_link_moves_link_bytes_per_cycle);
    tcase_add_test(tc, no_deadlock_at_saturation_with_harvested);
    tcase_add_test(tc, route_errors_are_exact);
    tcase_add_test(tc, inject_busy_and_ejection_backpressure);
    tcase_add_test(tc, callback_delivery_in_dst_order);
    suite_add_tcase(s, tc);
    return s;
}
