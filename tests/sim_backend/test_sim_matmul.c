/* Matmul on the chip simulator vs the cpu backend, byte for byte (the numerics contract),
 * on a 4x4-node chip; kernel cache; launch statistics. */
#include "../kernels/mm_case.h"
#include "runtime/sim/sim_matmul.h"
#include "test_main.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OK(expr)                                                                             \
    do {                                                                                     \
        d1_status st_ = (expr);                                                              \
        ck_assert_msg(st_ == D1_OK, "%s -> %s: %s", #expr, d1_status_name(st_),              \
                      d1_last_error());                                                      \
    } while (0)

static d1k_matmul_desc desc(int64_t M, int64_t N, int64_t K, d1_dtype a, d1_dtype b, d1_dtype c)
{
    d1k_matmul_desc d;
    memset(&d, 0, sizeof d);
    d.M = M, d.N = N, d.K = K;
    d.a_dtype = a, d.b_dtype = b, d.c_dtype = c;
    d.a_bias = a == D1_CFP8_152 ? 16 : a == D1_CFP8_143 ? 8 : 127;
    d.b_bias = b == D1_CFP8_152 ? 16 : b == D1_CFP8_143 ? 10 : 127;
    return d;
}

static void sim_case(const d1_config *cfg, d1r_kcache *kc, const d1k_matmul_desc *d,
                     const d1k_plan_opts *o, uint32_t seed, d1r_sim_launch *ls)
{
    mm_case mc;
    mm_case_init(&mc, d, seed);
    size_t n = mm_case_c_bytes(&mc);
    uint8_t *got = malloc(n);
    ck_assert_ptr_nonnull(got);
    memcpy(got, mc.c0, n);
    d1k_operand a = mm_case_a(&mc), b = mm_case_b(&mc);
    OK(d1r_sim_matmul(cfg, kc, d, o, &a, &b, got, mc.ldc, D1S_NODE_FUNCTIONAL, ls));
    size_t bad = n;
    for (size_t i = 0; i < n; i++)
        if (got[i] != ((uint8_t *)mc.want)[i]) {
            bad = i;
            break;
        }
    ck_assert_msg(bad == n,
                  "%ldx%ldx%ld %s x %s -> %s ta %d tb %d acc %d round %d: byte %zu differs",
                  (long)d->M, (long)d->N, (long)d->K, d1_dtype_name(d->a_dtype),
                  d1_dtype_name(d->b_dtype), d1_dtype_name(d->c_dtype), d->trans_a, d->trans_b,
                  d->accumulate, d->round, bad);
    free(got);
    mm_case_fini(&mc);
}

START_TEST(sim_tiny)
{
    d1_config cfg;
    mm_small_config(&cfg, 4, 4);
    d1r_kcache *kc;
    OK(d1r_kcache_create(4, &kc));
    d1r_sim_launch ls;
    d1k_matmul_desc d = desc(5, 7, 3, D1_BF16, D1_BF16, D1_FP32);
    sim_case(&cfg, kc, &d, NULL, 1, &ls);
    ck_assert_uint_gt(ls.cycles, 0);
    d1r_kcache_destroy(kc);
    d1_config_fini(&cfg);
}
END_TEST

/* every dtype / transpose / accumulate / rounding combination over a grid of shapes:
 * tiny, ragged, tall-skinny, K=1, multi-node, several panels */
START_TEST(sim_grid)
{
    static const int64_t shapes[][3] = {
        {1, 1, 1}, {17, 33, 9}, {40, 8, 1}, {70, 64, 45}, {3, 100, 20}, {200, 24, 16},
    };
    static const d1_dtype dts[][2] = {
        {D1_BF16, D1_BF16}, {D1_CFP8_143, D1_CFP8_152}, {D1_CFP8_152, D1_BF16},
    };
    d1_config cfg;
    mm_small_config(&cfg, 4, 4);
    d1r_kcache *kc;
    OK(d1r_kcache_create(8, &kc));
    d1r_sim_launch ls;
    uint32_t seed = 11;
    int i = _i;
    for (size_t t = 0; t < 3; t++)
        for (int v = 0; v < 8; v++) {
            d1k_matmul_desc d = desc(shapes[i][0], shapes[i][1], shapes[i][2], dts[t][0],
                                     dts[t][1], (v & 1) ? D1_BF16 : D1_FP32);
            d.trans_a = (v >> 1) & 1;
            d.trans_b = (v >> 2) & 1;
            d.accumulate = (v & 3) == 3 || v == 4;
            d.round = (v & 1) && (v & 4) ? D1_ROUND_STOCHASTIC : D1_ROUND_RNE;
            d.seed = 1234567 + (uint64_t)v;
            sim_case(&cfg, kc, &d, NULL, seed++, &ls);
        }
    d1r_kcache_destroy(kc);
    d1_config_fini(&cfg);
}
END_TEST

/* shapes larger than one node's share, small panels (many credits round the rings), one
 * and two compute threads, forced grids with empty blocks */
START_TEST(sim_panels)
{
    d1_config cfg;
    mm_small_config(&cfg, 4, 4);
    d1r_kcache *kc;
    OK(d1r_kcache_create(8, &kc));
    d1r_sim_launch ls;
    d1k_matmul_desc d = desc(150, 230, 200, D1_BF16, D1_BF16, D1_BF16);
    d.accumulate = true;
    d.round = D1_ROUND_STOCHASTIC;
    d.seed = 5;
    d1k_plan_opts o = {.kb = 8};
    sim_case(&cfg, kc, &d, &o, 21, &ls);
    ck_assert_uint_gt(ls.noc_bytes, 0);
    o = (d1k_plan_opts){.kb = 16, .cthreads = 1};
    sim_case(&cfg, kc, &d, &o, 22, &ls);
    /* receive slots: the fewest, an odd count, the most; the B ring on its own DMA thread */
    o = (d1k_plan_opts){.kb = 8, .slots = 2};
    sim_case(&cfg, kc, &d, &o, 25, &ls);
    o = (d1k_plan_opts){.kb = 8, .slots = 3, .dma_threads = 2};
    sim_case(&cfg, kc, &d, &o, 26, &ls);
    o = (d1k_plan_opts){.kb = 16, .slots = D1K_MAX_SLOTS, .dma_threads = 2};
    sim_case(&cfg, kc, &d, &o, 27, &ls);
    /* chunked ring broadcast; the short last panel has fewer chunks */
    o = (d1k_plan_opts){.kb = 128};
    d = desc(150, 230, 300, D1_BF16, D1_CFP8_143, D1_FP32);
    d.trans_b = true;
    sim_case(&cfg, kc, &d, &o, 24, &ls);
    o = (d1k_plan_opts){.pr = 3, .pc = 5, .kb = 24};
    d = desc(33, 70, 101, D1_CFP8_143, D1_CFP8_143, D1_FP32);
    sim_case(&cfg, kc, &d, &o, 23, &ls);
    d1r_kcache_destroy(kc);
    d1_config_fini(&cfg);
}
END_TEST

/* A system of 2x2 chips of 4x4 nodes: rings cross chip edges (SerDes). */
START_TEST(sim_multichip)
{
    static const int64_t shapes[][3] = {{150, 230, 300}, {17, 200, 9}, {64, 64, 1}};
    d1_config cfg;
    mm_small_system_config(&cfg, 4, 4, 2, 2);
    d1r_kcache *kc;
    OK(d1r_kcache_create(8, &kc));
    d1r_sim_launch ls;
    d1k_plan_opts o = {.target = D1K_TARGET_SYSTEM};
    for (int i = 0; i < 3; i++)
        for (int v = 0; v < 4; v++) {
            d1k_matmul_desc d = desc(shapes[i][0], shapes[i][1], shapes[i][2],
                                     v & 1 ? D1_CFP8_143 : D1_BF16, v & 1 ? D1_CFP8_152 : D1_BF16,
                                     v & 2 ? D1_BF16 : D1_FP32);
            d.trans_a = v == 1;
            d.trans_b = v == 2;
            d.accumulate = v == 3;
            d.round = v == 2 ? D1_ROUND_STOCHASTIC : D1_ROUND_RNE;
            d.seed = 3;
            sim_case(&cfg, kc, &d, &o, 40 + (uint32_t)(i * 4 + v), &ls);
            if (i == 0)
                ck_assert_uint_gt(ls.serdes_bytes, 0);
        }
    o.kb = 64; /* several chunked panels over the chip edges */
    d1k_matmul_desc d = desc(200, 300, 250, D1_BF16, D1_BF16, D1_BF16);
    sim_case(&cfg, kc, &d, &o, 60, &ls);
    ck_assert_uint_gt(ls.serdes_bytes, 0);
    ck_assert_uint_eq(ls.hbm_bytes, 0);
    /* operands staged in DIP HBM, read in by their owners two panel steps ahead */
    o = (d1k_plan_opts){.target = D1K_TARGET_SYSTEM, .hbm = true};
    for (int v = 0; v < 4; v++) {
        d = desc(v & 1 ? 70 : 150, v & 2 ? 33 : 230, v == 3 ? 1 : 300, v & 1 ? D1_CFP8_143 : D1_BF16,
                 v & 1 ? D1_CFP8_143 : D1_BF16, v & 2 ? D1_BF16 : D1_FP32);
        d.accumulate = v == 2;
        d.trans_a = v == 1;
        o.kb = v == 0 ? 16 : 0; /* many panels per owner: several HBM reads in flight */
        sim_case(&cfg, kc, &d, &o, 70 + (uint32_t)v, &ls);
        ck_assert_uint_gt(ls.hbm_bytes, 0);
    }
    /* 2 DMA threads, odd and minimal slot counts, over the chip edges (with and without HBM) */
    d = desc(150, 230, 300, D1_BF16, D1_BF16, D1_FP32);
    o = (d1k_plan_opts){.target = D1K_TARGET_SYSTEM, .kb = 16, .slots = 5, .dma_threads = 2};
    sim_case(&cfg, kc, &d, &o, 75, &ls);
    o = (d1k_plan_opts){.target = D1K_TARGET_SYSTEM, .kb = 16, .slots = 2, .hbm = true,
                        .dma_threads = 2};
    sim_case(&cfg, kc, &d, &o, 76, &ls);
    ck_assert_uint_gt(ls.hbm_bytes, 0);
    o = (d1k_plan_opts){.target = D1K_TARGET_SYSTEM, .hbm = true};
    o.pr = 1, o.pc = 1, o.kb = 8; /* one node owns every panel */
    d = desc(20, 20, 60, D1_BF16, D1_BF16, D1_FP32);
    sim_case(&cfg, kc, &d, &o, 80, &ls);
    d1r_kcache_destroy(kc);
    d1_config_fini(&cfg);
}
END_TEST

static Suite *sim_suite(void)
{
    Suite *s = suite_create("sim_matmul");
    TCase *tc = tcase_create("bytes");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sim_tiny);
    tcase_add_loop_test(tc, sim_grid, 0, 6);
    tcase_add_test(tc, sim_panels);
    tcase_add_test(tc, sim_multichip);
    suite_add_tcase(s, tc);
    return s;
}

Suite *sim_backend_suite(void);

D1_TEST_MAIN(sim_suite, sim_backend_suite)
