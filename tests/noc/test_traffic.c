/* Synthetic traffic: definitions, patterns, determinism, saturation reporting. */
#include "noc_harness.h"
#include "test_main.h"

#include "sim/noc/traffic.h"

#include <math.h>
#include <string.h>

START_TEST(pattern_names)
{
    d1s_traffic_pattern p;
    for (int i = 0; i < D1S_TRAFFIC_PATTERNS; i++) {
        ck_assert_int_eq(
            d1s_traffic_parse_pattern(d1s_traffic_pattern_name((d1s_traffic_pattern)i), &p), D1_OK);
        ck_assert_int_eq(p, i);
    }
    ck_assert_int_eq(d1s_traffic_parse_pattern("neighbor", &p), D1_OK);
    ck_assert_int_eq(p, D1S_TRAFFIC_NEIGHBOUR);
    ck_assert_int_eq(d1s_traffic_parse_pattern("tornado", &p), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "unknown traffic pattern 'tornado' (uniform, transpose, "
                                      "bitcomp, hotspot, neighbour)");
}
END_TEST

static d1s_traffic_result run(const d1_config *cfg, const d1s_noc_mesh *mesh,
                              const d1s_traffic_params *p, d1s_noc **keep)
{
    d1s_noc *noc = noc_test_make(cfg, mesh);
    d1s_traffic_result r;
    d1_status s = d1s_traffic_run(noc, p, &r);
    ck_assert_msg(s == D1_OK, "traffic: %s", d1_last_error());
    if (keep)
        *keep = noc;
    else
        d1s_noc_destroy(noc);
    return r;
}

/* At a very low load the mean packet latency is the zero-load latency of the pattern
 * (doc/noc.md), and accepted = offered. */
START_TEST(low_load_matches_zero_load)
{
    d1_config cfg;
    noc_test_cfg(&cfg, NULL);
    static const int holes[][2] = {{2, 2}, {5, 1}};
    d1s_noc_mesh mesh = {8, 6, 2, holes};
    for (int pat = 0; pat < D1S_TRAFFIC_PATTERNS; pat++) {
        d1s_traffic_params p;
        d1s_traffic_params_default(&p);
        p.pattern = (d1s_traffic_pattern)pat;
        p.size_flits = 2;
        p.rate_flits = 0.004;
        p.warmup_cyc = 200;
        p.measure_cyc = 20000;
        d1s_noc *noc;
        d1s_traffic_result r = run(&cfg, &mesh, &p, &noc);
        double zl;
        ck_assert_int_eq(d1s_traffic_zero_load_lat(noc, &p, &zl), D1_OK);
        ck_assert_msg(!r.saturated && r.pkts_measured > 100, "%s",
                      d1s_traffic_pattern_name(p.pattern));
        ck_assert_uint_eq(r.pkts_measured_done, r.pkts_measured);
        /* contention is rare at this load: within 3% of zero-load (sampling noise) */
        ck_assert_msg(fabs(r.pkt_lat_avg_cyc - zl) < 0.03 * zl, "%s: %.2f vs zero-load %.2f",
                      d1s_traffic_pattern_name(p.pattern), r.pkt_lat_avg_cyc, zl);
        ck_assert(r.pkt_lat_avg_cyc >= zl - 0.03 * zl);
        ck_assert_double_eq_tol(r.net_lat_avg_cyc, r.pkt_lat_avg_cyc - 1, 0.5);
        ck_assert_double_eq_tol(r.accepted_flits, r.offered_flits, 0.0015);
        d1s_noc_destroy(noc);
    }
    d1_config_fini(&cfg);
}
END_TEST

START_TEST(same_seed_same_result)
{
    d1_config cfg;
    noc_test_cfg(&cfg, NULL);
    d1s_traffic_params p;
    d1s_traffic_params_default(&p);
    p.size_flits = 4;
    p.rate_flits = 0.3;
    p.warmup_cyc = 300;
    p.measure_cyc = 600;
    p.drain_max_cyc = 3000;
    p.seed = 42;
    d1s_noc *a, *b;
    d1s_traffic_result ra = run(&cfg, NULL, &p, &a), rb = run(&cfg, NULL, &p, &b);
    ck_assert(memcmp(&ra, &rb, sizeof ra) == 0);
    d1s_noc_stats sa, sb;
    d1s_noc_get_stats(a, &sa);
    d1s_noc_get_stats(b, &sb);
    ck_assert(memcmp(&sa, &sb, sizeof sa) == 0);
    for (uint32_t r = 0; r < 360; r++) {
        ck_assert_uint_eq(d1s_noc_router_flits(a, r), d1s_noc_router_flits(b, r));
        for (int port = 0; port < 4; port++)
            ck_assert_uint_eq(d1s_noc_link_flits(a, r, port), d1s_noc_link_flits(b, r, port));
    }
    p.seed = 43;
    d1s_traffic_result rc = run(&cfg, NULL, &p, NULL);
    ck_assert(memcmp(&ra, &rc, sizeof ra) != 0);
    d1s_noc_destroy(a);
    d1s_noc_destroy(b);
    d1_config_fini(&cfg);
}
END_TEST

/* Neighbour traffic at full injection over 1-flit links: every link of every row carries
 * exactly one flit per cycle, so each node accepts one flit per cycle. */
START_TEST(neighbour_full_rate)
{
    const char *sets[] = {"link_bytes_per_cyc=64", NULL};
    d1_config cfg;
    noc_test_cfg(&cfg, sets);
    d1s_noc_mesh mesh = {6, 3, 0, NULL};
    d1s_traffic_params p;
    d1s_traffic_params_default(&p);
    p.pattern = D1S_TRAFFIC_NEIGHBOUR;
    p.rate_flits = 1.0;
    p.warmup_cyc = 200;
    p.measure_cyc = 2000;
    d1s_noc *noc;
    d1s_traffic_result r = run(&cfg, &mesh, &p, &noc);
    ck_assert_double_eq(r.offered_flits, 1.0);
    ck_assert_double_eq(r.accepted_flits, 1.0);
    ck_assert_int_eq(r.saturated, 0);
    d1s_noc_destroy(noc);
    d1_config_fini(&cfg);
}
END_TEST

START_TEST(saturation_is_reported)
{
    d1_config cfg;
    noc_test_cfg(&cfg, NULL);
    d1s_noc_mesh mesh = {6, 6, 0, NULL};
    d1s_traffic_params p;
    d1s_traffic_params_default(&p);
    p.pattern = D1S_TRAFFIC_HOTSPOT;
    p.hotspot_frac = 0.5;
    p.rate_flits = 0.5; /* the hotspot can eject 1 flit per cycle, it is offered ~9 */
    p.warmup_cyc = 100;
    p.measure_cyc = 500;
    p.drain_max_cyc = 300;
    d1s_traffic_result r = run(&cfg, &mesh, &p, NULL);
    ck_assert_int_eq(r.saturated, 1);
    ck_assert_uint_lt(r.pkts_measured_done, r.pkts_measured);
    ck_assert_uint_eq(r.end_cyc, 100 + 500 + 300);
    ck_assert(r.accepted_flits < 0.9 * r.offered_flits);

    p.rate_flits = 0;
    d1s_noc *noc = noc_test_make(&cfg, &mesh);
    ck_assert_int_eq(d1s_traffic_run(noc, &p, &r), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "traffic: rate 0 flits/node/cycle must be in (0, 1]");
    d1s_noc_destroy(noc);
    d1_config_fini(&cfg);
}
END_TEST

Suite *traffic_suite(void)
{
    Suite *s = suite_create("traffic");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, pattern_names);
    tcase_add_test(tc, low_load_matches_zero_load);
    tcase_add_test(tc, same_seed_same_result);
    tcase_add_test(tc, neighbour_full_rate);
    tcase_add_test(tc, saturation_is_reported);
    suite_add_tcase(s, tc);
    return s;
}
