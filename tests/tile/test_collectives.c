/* All-reduce kernels (kernels/collectives.h) on the tile simulator: results bit-identical to
 * the host reference, ring, 2-D and hierarchical, on one chip and across chips. */
#include "test_main.h"

#include "kernels/collectives.h"
#include "sim/arch/config.h"
#include "sim/tile/tile.h"

#include <stdlib.h>
#include <string.h>

static void run_allreduce(const char *const *sets, d1k_ar_algo algo, uint32_t mult)
{
    d1_config cfg;
    ck_assert_int_eq(d1_config_init(&cfg), D1_OK);
    for (int i = 0; sets[i]; i++)
        ck_assert_msg(d1_config_set(&cfg, sets[i]) == D1_OK, "%s", sets[i]);
    d1s_tile_opts o = {D1S_NODE_FUNCTIONAL, 2};
    d1s_tile *t = NULL;
    ck_assert_int_eq(d1s_tile_create(&cfg, &o, &t), D1_OK);
    uint32_t N = d1s_tile_node_count(t);
    uint32_t *nodes = malloc(N * sizeof *nodes);
    d1k_allreduce a;
    memset(&a, 0, sizeof a);
    if (algo == D1K_AR_HIER) {
        /* chips in row-major order (any order works), corresponding snake positions */
        uint32_t m = d1s_tile_nodes_per_chip(t), g = d1s_tile_chip_count(t);
        ck_assert_uint_eq(d1s_tile_snake(t, 0, nodes), m);
        for (uint32_t k = 1; k < g; k++)
            for (uint32_t l = 0; l < m; l++)
                nodes[k * m + l] = k * m + nodes[l];
        a.groups = g;
    } else {
        ck_assert_uint_eq(d1s_tile_snake(t, -1, nodes), N);
    }
    a.algo = algo;
    a.nodes = nodes;
    a.n = N;
    a.bytes = 64ull * N * mult;
    a.buf_addr = 0x10000;
    a.scratch_addr = 0x10000 + a.bytes;
    a.target_nodes = N;
    a.sram_bytes = (uint64_t)cfg.sram_bytes;
    d1s_kernel *k = NULL;
    ck_assert_msg(d1k_allreduce_build(&a, &k) == D1_OK, "%s", d1_last_error());
    uint32_t sz[D1K_AR_MAX_LEVELS], st[D1K_AR_MAX_LEVELS];
    int nl = d1k_allreduce_levels(&a, sz, st);
    ck_assert_int_eq(nl, algo == D1K_AR_RING ? 1 : algo == D1K_AR_2D ? 2 : 3);
    ck_assert_uint_eq(sz[0] * (nl > 1 ? sz[1] : 1) * (nl > 2 ? sz[2] : 1), N);
    size_t nf = a.bytes / 4;
    float **in = malloc(N * sizeof *in);
    uint64_t s = 12345;
    for (uint32_t i = 0; i < N; i++) {
        in[i] = malloc(a.bytes);
        for (size_t f = 0; f < nf; f++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            in[i][f] = (float)((int32_t)(s >> 40) % 2000) / 997.0f;
        }
        ck_assert_int_eq(d1s_tile_load_image(t, nodes[i], a.buf_addr, in[i], a.bytes), D1_OK);
    }
    ck_assert_int_eq(d1s_tile_load_kernel(t, k), D1_OK);
    d1s_tile_result r;
    ck_assert_int_eq(d1s_tile_run(t, 0, &r), D1_OK);
    ck_assert_msg(r.end == D1S_END_HALTED, "end %d: %s at node %u pc %llu", r.end,
                  d1s_trap_name(r.trap.cause), r.trap.node, (unsigned long long)r.trap.pc);
    float *ref = malloc(a.bytes), *got = malloc(a.bytes);
    d1k_allreduce_ref(&a, (const float *const *)in, ref);
    /* sanity: the reference is a sum (any order) */
    for (size_t f = 0; f < nf; f += 97) {
        double sum = 0;
        for (uint32_t i = 0; i < N; i++)
            sum += in[i][f];
        ck_assert_double_eq_tol(ref[f], sum, 1e-3 + 1e-5 * N);
    }
    for (uint32_t i = 0; i < N; i++) {
        ck_assert_int_eq(d1s_node_sram_read(d1s_tile_node(t, nodes[i]), a.buf_addr, got, a.bytes),
                         D1_OK);
        ck_assert_msg(memcmp(got, ref, a.bytes) == 0, "node %u differs from the reference",
                      nodes[i]);
    }
    for (uint32_t i = 0; i < N; i++)
        free(in[i]);
    free(in);
    free(ref);
    free(got);
    free(nodes);
    d1s_kernel_destroy(k);
    d1s_tile_destroy(t);
    d1_config_fini(&cfg);
}

static const char *const small2x2[] = {"mesh_cols=6",    "mesh_rows=5",    "harvested=2,2",
                                       "tile_chips_x=2", "tile_chips_y=2", NULL};
/* 28 nodes per chip (a 4 x 7 grid, two holes), 6 chips: every level of hier has rings */
static const char *const small3x2[] = {"mesh_cols=6",    "mesh_rows=5",    "harvested=2,2 4,1",
                                       "tile_chips_x=3", "tile_chips_y=2", NULL};
static const char *const chip[] = {"tile_chips_x=1", "tile_chips_y=1", NULL};

START_TEST(ring_small_tile)
{
    run_allreduce(small2x2, D1K_AR_RING, 2);
}
END_TEST
START_TEST(grid2d_small_tile)
{
    run_allreduce(small2x2, D1K_AR_2D, 3);
}
END_TEST
START_TEST(hier_small_tile)
{
    run_allreduce(small3x2, D1K_AR_HIER, 2);
}
END_TEST
START_TEST(hier_chip)
{
    run_allreduce(chip, D1K_AR_HIER, 1);
}
END_TEST
START_TEST(ring_chip)
{
    run_allreduce(chip, D1K_AR_RING, 1);
}
END_TEST
START_TEST(grid2d_chip)
{
    run_allreduce(chip, D1K_AR_2D, 1);
}
END_TEST

START_TEST(bad_sizes)
{
    uint32_t nodes[3] = {0, 1, 1};
    d1k_allreduce a;
    memset(&a, 0, sizeof a);
    a.algo = D1K_AR_RING;
    a.nodes = nodes;
    a.n = 3;
    a.bytes = 100;
    a.buf_addr = 0x10000;
    a.scratch_addr = 0x20000;
    a.target_nodes = 10;
    a.sram_bytes = 1 << 20;
    d1s_kernel *k = NULL;
    ck_assert_int_eq(d1k_allreduce_build(&a, &k), D1_E_INVAL); /* not a multiple of 192 */
    a.bytes = 192;
    ck_assert_int_eq(d1k_allreduce_build(&a, &k), D1_E_INVAL); /* node 1 twice */
    nodes[2] = 2;
    ck_assert_int_eq(d1k_allreduce_build(&a, &k), D1_OK);
    d1s_kernel_destroy(k);
    ck_assert_uint_eq(d1k_allreduce_round_bytes(D1K_AR_RING, 3, 100), 192);
    uint32_t r, c;
    d1k_allreduce_grid(354, &r, &c);
    ck_assert_uint_eq(r * c, 354);
    ck_assert_uint_eq(r, 6);
    /* hierarchical: groups must divide the nodes, the per-group grid hold a group */
    uint32_t six[6] = {0, 1, 2, 3, 4, 5};
    a.algo = D1K_AR_HIER;
    a.nodes = six;
    a.n = 6;
    a.bytes = 64 * 6;
    a.groups = 4;
    ck_assert_int_eq(d1k_allreduce_build(&a, &k), D1_E_INVAL);
    a.groups = 0;
    ck_assert_int_eq(d1k_allreduce_build(&a, &k), D1_E_INVAL);
    a.groups = 2;
    a.rows = 2;
    a.cols = 2;
    ck_assert_int_eq(d1k_allreduce_build(&a, &k), D1_E_INVAL);
    a.rows = 1;
    a.cols = 3;
    ck_assert_int_eq(d1k_allreduce_build(&a, &k), D1_OK);
    d1s_kernel_destroy(k);
    /* levels: 3 columns (stride 1), 1 row, 2 groups (stride 3); node 2's next on level 0 is
     * node 0, on level 2 node 5 */
    uint32_t sz[D1K_AR_MAX_LEVELS], st[D1K_AR_MAX_LEVELS];
    ck_assert_int_eq(d1k_allreduce_levels(&a, sz, st), 3);
    ck_assert_uint_eq(sz[0], 3);
    ck_assert_uint_eq(sz[1], 1);
    ck_assert_uint_eq(sz[2], 2);
    ck_assert_uint_eq(st[2], 3);
    ck_assert_uint_eq(d1k_allreduce_next(&a, 0, 2), 0);
    ck_assert_uint_eq(d1k_allreduce_next(&a, 2, 2), 5);
    /* model: (3 - 1)(2 alpha + 2 c / beta + c / gamma) with c = 128, then (2 - 1)(...) with
     * c = 64 on level 2; level 1 has one member and costs nothing */
    double al[3] = {10, 20, 30}, be[3] = {64, 64, 8};
    ck_assert_double_eq_tol(d1k_allreduce_model_cyc(&a, al, be, 8),
                            2 * (20 + 4 + 16) + 1 * (60 + 16 + 8), 1e-9);
}
END_TEST

static Suite *coll_suite(void)
{
    Suite *s = suite_create("collectives");
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {{"ring_small_tile", ring_small_tile},
                 {"grid2d_small_tile", grid2d_small_tile},
                 {"hier_small_tile", hier_small_tile},
                 {"hier_chip", hier_chip},
                 {"ring_chip", ring_chip},
                 {"grid2d_chip", grid2d_chip},
                 {"bad_sizes", bad_sizes}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

D1_TEST_MAIN(coll_suite)
