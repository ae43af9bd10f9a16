/* Cross-field rules of d1_config_validate, one test per rule, plus harvested parsing. */
#include "config_test.h"
#include "test_main.h"

/* Start from the defaults, apply the --set list (NULL-terminated), validate. */
static d1_status validate_with(const char *const *sets)
{
    d1_config c;
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    for (; *sets; sets++)
        CFGT_SET_OK(&c, *sets);
    d1_clear_error();
    d1_status st = d1_config_validate(&c);
    d1_config_fini(&c);
    return st;
}

#define SETS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define VALID(...) CFGT_EXPECT(validate_with(SETS(__VA_ARGS__)), D1_OK, "")
#define INVALID(frag, ...) CFGT_EXPECT(validate_with(SETS(__VA_ARGS__)), D1_E_CONFIG, frag)

START_TEST(rule_link_multiple_of_flit)
{
    VALID("link_bytes_per_cyc=64");
    VALID("link_bytes_per_cyc=512", "flit_bytes=128", "router_in_bytes_per_cyc=128",
          "router_out_bytes_per_cyc=128");
    INVALID("link_bytes_per_cyc (96) must be a multiple of flit_bytes (64)",
            "link_bytes_per_cyc=96");
    INVALID("multiple of flit_bytes", "flit_bytes=512");
}
END_TEST

START_TEST(rule_router_ports)
{
    INVALID("router_in_bytes_per_cyc (32) must be at least flit_bytes (64)",
            "router_in_bytes_per_cyc=32");
    INVALID("router_out_bytes_per_cyc (8) must be at least flit_bytes",
            "router_out_bytes_per_cyc=8");
    VALID("router_in_bytes_per_cyc=32", "router_out_bytes_per_cyc=32", "flit_bytes=32");
}
END_TEST

START_TEST(rule_harvested_positions)
{
    VALID("harvested=\"\"");
    VALID("harvested=  17,19\t0,0 ");
    INVALID("harvested: '3;2' is not a position 'x,y'", "harvested=3;2");
    INVALID("'3,' is not a position", "harvested=3, 2");
    INVALID("'1,2,3' is not a position", "harvested=1,2,3");
    INVALID("'-1,2' is not a position", "harvested=-1,2");
    INVALID("'a,b' is not a position", "harvested=a,b");
    INVALID("position 18,0 is outside the 18x20 mesh", "harvested=18,0");
    INVALID("position 0,20 is outside", "harvested=0,20");
    INVALID("is outside the 4x4 mesh", "mesh_cols=4", "mesh_rows=4"); /* defaults no longer fit */
    INVALID("position 1,1 is listed twice", "harvested=1,1 2,2 1,1");
    INVALID("all 1 node positions of the 1x1 mesh are harvested", "mesh_cols=1", "mesh_rows=1",
            "harvested=0,0");
    INVALID("all 2 node positions", "mesh_cols=2", "mesh_rows=1", "harvested=0,0 1,0");
    VALID("mesh_cols=2", "mesh_rows=1", "harvested=0,0");
    INVALID("cut the mesh in pieces", "mesh_cols=3", "mesh_rows=1", "harvested=1,0");
    INVALID("cut the mesh in pieces", "mesh_cols=3", "mesh_rows=3", "harvested=1,0 0,1");
    VALID("mesh_cols=3", "mesh_rows=3", "harvested=1,0 1,1");
}
END_TEST

START_TEST(harvested_list)
{
    d1_config c;
    int xy[3][2];
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    ck_assert_int_eq(d1_config_harvested(&c, xy, 3), 6); /* total, first 3 filled */
    ck_assert_int_eq(xy[0][0], 3);
    ck_assert_int_eq(xy[0][1], 2);
    ck_assert_int_eq(xy[2][0], 8);
    ck_assert_int_eq(xy[2][1], 9);
    CFGT_SET_OK(&c, "harvested=\"\"");
    ck_assert_int_eq(d1_config_harvested(&c, NULL, 0), 0);
    CFGT_SET_OK(&c, "harvested=x");
    CFGT_EXPECT(d1_config_harvested(&c, xy, 3) < 0 ? D1_E_CONFIG : D1_OK, D1_E_CONFIG,
                "'x' is not a position");
    d1_config_fini(&c);
}
END_TEST

START_TEST(rule_vcs_with_harvesting)
{
    INVALID("noc_vcs (1) must be at least 2 when nodes are harvested (6 listed)", "noc_vcs=1");
    VALID("noc_vcs=1", "harvested=\"\"");
}
END_TEST

START_TEST(rule_window)
{
    VALID("window_cyc=0");
    VALID("window_cyc=100");
    INVALID("window_cyc (101) must not exceed the smallest cross-chip latency "
            "min(serdes_lat_cyc, tile_link_lat_cyc) = 100",
            "window_cyc=101");
    INVALID("= 150", "serdes_lat_cyc=300", "tile_link_lat_cyc=150", "window_cyc=151");
    VALID("serdes_lat_cyc=300", "tile_link_lat_cyc=150", "window_cyc=150");
}
END_TEST

START_TEST(rule_dip_edges)
{
    VALID("dip_edges=nsew");
    VALID("dip_edges=\"\"");
    VALID("dip_edges=en");
    INVALID("dip_edges: 'x' in \"x\" is not one of n, s, e, w", "dip_edges=x");
    INVALID("'W' in \"W\" is not one of", "dip_edges=W");
    INVALID("',' in \"n,s\"", "dip_edges=n,s");
    INVALID("' ' in \"n s\"", "dip_edges=n s");
    INVALID("dip_edges: 'w' appears twice in \"ww\"", "dip_edges=ww");
}
END_TEST

START_TEST(rule_decode_threads)
{
    INVALID("decode_threads (3) must not exceed node_threads (2)", "node_threads=2",
            "decode_threads=3");
    VALID("node_threads=1", "decode_threads=1");
}
END_TEST

START_TEST(rule_sram_multiple_of_flit)
{
    INVALID("sram_bytes (1310721) must be a multiple of flit_bytes (64)", "sram_bytes=1310721");
    VALID("sram_bytes=1M"); /* 1000000 = 15625 x 64 */
}
END_TEST

START_TEST(rule_watchdog)
{
    INVALID("watchdog_cyc (1000) must exceed pcie_lat_cyc (2000)", "watchdog_cyc=1000");
    INVALID("must exceed dip_eth_lat_cyc (2600)", "watchdog_cyc=2600");
    VALID("watchdog_cyc=2601");
    INVALID("must exceed hbm_lat_cyc (5000)", "hbm_lat_cyc=5000", "watchdog_cyc=5000");
}
END_TEST

START_TEST(rule_node_count)
{
    VALID("tiles_x=64", "tiles_y=64"); /* 36.9 M positions */
    INVALID("at most 2147483647 fit a 32-bit node id", "tiles_x=64", "tiles_y=64",
            "tile_chips_x=16", "tile_chips_y=16", "mesh_cols=256", "mesh_rows=256");
}
END_TEST

START_TEST(ranges_rechecked)
{
    d1_config c;
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    c.clock_mhz = 5;
    CFGT_EXPECT(d1_config_validate(&c), D1_E_CONFIG,
                "key 'clock_mhz': 5 is out of range [100, 10000]");
    c.clock_mhz = 2000;
    free(c.dip_edges);
    c.dip_edges = NULL; /* treated as "" */
    CFGT_EXPECT(d1_config_validate(&c), D1_OK, "");
    d1_config_fini(&c);
}
END_TEST

Suite *config_validate_suite(void)
{
    Suite *s = suite_create("config_validate");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, rule_link_multiple_of_flit);
    tcase_add_test(tc, rule_router_ports);
    tcase_add_test(tc, rule_harvested_positions);
    tcase_add_test(tc, harvested_list);
    tcase_add_test(tc, rule_vcs_with_harvesting);
    tcase_add_test(tc, rule_window);
    tcase_add_test(tc, rule_dip_edges);
    tcase_add_test(tc, rule_decode_threads);
    tcase_add_test(tc, rule_sram_multiple_of_flit);
    tcase_add_test(tc, rule_watchdog);
    tcase_add_test(tc, rule_node_count);
    tcase_add_test(tc, ranges_rechecked);
    suite_add_tcase(s, tc);
    return s;
}
