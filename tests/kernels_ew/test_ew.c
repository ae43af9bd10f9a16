/* Elementwise and reduction kernels (kernels/elementwise.c) on the simulator vs the CPU
 * backend, byte for byte: every op, ragged shapes (w.r.t. 16 lanes and the node count),
 * edge values, three chip sizes (4x4, 3x2, 1 node). */
#include "ew_harness.h"
#include "test_main.h"

#include <stdio.h>
#include <string.h>

static const char *const cfg_4x4[] = {"mesh_cols=4", "mesh_rows=4", "harvested=\"\"", NULL};
static const char *const cfg_3x2[] = {"mesh_cols=3", "mesh_rows=2", "harvested=\"\"", NULL};
static const char *const cfg_1[] = {"mesh_cols=1", "mesh_rows=1", "harvested=\"\"", NULL};
static const char *const *const configs[] = {cfg_4x4, cfg_3x2, cfg_1};
#define NCONFIGS 3

/* Shapes: one element, a row shorter than a vector, ragged in both, the logits of a batch,
 * rows over several vectors, fewer rows than nodes. */
static const int64_t shapes[][2] = {{1, 1}, {7, 10}, {37, 23}, {128, 10}, {20, 130}, {3, 17}};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static const d1k_ew_kind plain_ops[] = {
    D1K_EW_BIAS_ADD,
    D1K_EW_RELU,
    D1K_EW_RELU_BACKWARD,
    D1K_EW_SOFTMAX_XENT,
    D1K_EW_SOFTMAX_XENT_BACKWARD,
    D1K_EW_ROW_SUMS,
    D1K_EW_COL_SUMS,
    D1K_EW_SCALE,
    D1K_EW_AXPY,
    D1K_EW_SGD,
    D1K_EW_SGD_MOMENTUM,
    D1K_EW_ARGMAX,
};
#define NPLAIN (int)(sizeof plain_ops / sizeof plain_ops[0])

static void check_case(const char *const *cfg, const ew_case *c, uint64_t seed, int edge, int nan)
{
    ew_result r;
    ew_run(cfg, c, seed, edge, nan, &r);
    ck_assert_msg(r.mismatches == 0, "%s", r.detail);
}

/* _i = op * NCONFIGS + config */
START_TEST(op_matches_cpu)
{
    d1k_ew_kind kind = plain_ops[_i / NCONFIGS];
    const char *const *cfg = configs[_i % NCONFIGS];
    for (size_t s = 0; s < NSHAPES; s++) {
        ew_case c = {kind, shapes[s][0], shapes[s][1], D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0,
                     0};
        check_case(cfg, &c, 1000 + s, 1, 0);
    }
}
END_TEST

/* NaN and Inf inputs where the formula says how they propagate (one NaN per operation,
 * so the payload is the input's). */
static const d1k_ew_kind nan_ops[] = {
    D1K_EW_BIAS_ADD, D1K_EW_RELU,  D1K_EW_RELU_BACKWARD, D1K_EW_COL_SUMS,
    D1K_EW_ROW_SUMS, D1K_EW_SCALE, D1K_EW_SGD,           D1K_EW_ARGMAX,
};
START_TEST(op_nan_inf)
{
    ew_case c = {nan_ops[_i], 37, 23, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0};
    check_case(cfg_3x2, &c, 77, 1, 2);
}
END_TEST

/* The batch sizes of the training step on a 4x4 chip: 128 x 512 hidden, 128 x 10 logits. */
START_TEST(op_training_shapes)
{
    d1k_ew_kind kind = plain_ops[_i];
    int64_t cols =
        kind == D1K_EW_SOFTMAX_XENT || kind == D1K_EW_SOFTMAX_XENT_BACKWARD || kind == D1K_EW_ARGMAX
            ? 10
            : 512;
    ew_case c = {kind, 128, cols, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0};
    check_case(cfg_4x4, &c, 4242, 0, 0);
}
END_TEST

/* ---- casts ---------------------------------------------------------------------------- */

static const ew_case casts[] = {
    {D1K_EW_CAST, 0, 0, D1_FP32, D1_BF16, D1_ROUND_RNE, 0, 0, 0, 0, 0},
    {D1K_EW_CAST, 0, 0, D1_FP32, D1_BF16, D1_ROUND_STOCHASTIC, 0, 0, 0, 0, 0},
    {D1K_EW_CAST, 0, 0, D1_FP32, D1_CFP8_143, D1_ROUND_RNE, 0, 13, 0, 0, 0},
    {D1K_EW_CAST, 0, 0, D1_FP32, D1_CFP8_143, D1_ROUND_STOCHASTIC, 0, 15, 0, 0, 0},
    {D1K_EW_CAST, 0, 0, D1_FP32, D1_CFP8_152, D1_ROUND_RNE, 0, 20, 0, 0, 0},
    {D1K_EW_CAST, 0, 0, D1_FP32, D1_CFP8_152, D1_ROUND_STOCHASTIC, 0, 31, 0, 0, 0},
    {D1K_EW_CAST, 0, 0, D1_BF16, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
    {D1K_EW_CAST, 0, 0, D1_CFP8_143, D1_FP32, D1_ROUND_RNE, 9, 0, 0, 0, 0},
    {D1K_EW_CAST, 0, 0, D1_CFP8_152, D1_BF16, D1_ROUND_STOCHASTIC, 40, 0, 0, 0, 0},
    {D1K_EW_CAST, 0, 0, D1_BF16, D1_CFP8_143, D1_ROUND_STOCHASTIC, 0, 3, 0, 0, 0},
    {D1K_EW_CAST, 0, 0, D1_CFP8_143, D1_CFP8_152, D1_ROUND_RNE, 20, 11, 0, 0, 0},
    {D1K_EW_CAST, 0, 0, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
    /* Y's bias chosen on the device (out_bias -1), as d1_fmt_choose_bias */
    {D1K_EW_CAST, 0, 0, D1_FP32, D1_CFP8_143, D1_ROUND_RNE, 0, -1, 0, 0, 0},
    {D1K_EW_CAST, 0, 0, D1_FP32, D1_CFP8_152, D1_ROUND_STOCHASTIC, 0, -1, 0, 0, 0},
};
#define NCASTS (int)(sizeof casts / sizeof casts[0])

START_TEST(cast_matches_cpu)
{
    ew_case c = casts[_i / NCONFIGS];
    const char *const *cfg = configs[_i % NCONFIGS];
    for (size_t s = 0; s < NSHAPES; s++) {
        c.rows = shapes[s][0];
        c.cols = shapes[s][1];
        check_case(cfg, &c, 500 + s, 1, 1);
    }
}
END_TEST

/* A range that does not start at node 0; 1, 2 and 4 threads; outputs over their inputs. */
static const ew_case variants[] = {
    {D1K_EW_SGD_MOMENTUM, 37, 23, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 3, 0, 0},
    {D1K_EW_COL_SUMS, 37, 150, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 5, 0, 0},
    {D1K_EW_SOFTMAX_XENT, 50, 10, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 7, 0, 0},
    {D1K_EW_CAST, 20, 70, D1_FP32, D1_BF16, D1_ROUND_STOCHASTIC, 0, 0, 9, 0, 0},
    {D1K_EW_ROW_SUMS, 100, 20, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 1, 0, 1},
    {D1K_EW_SOFTMAX_XENT, 100, 10, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 2},
    {D1K_EW_CAST, 70, 33, D1_FP32, D1_CFP8_143, D1_ROUND_RNE, 0, 9, 0, 0, 1},
    {D1K_EW_COL_SUMS, 70, 300, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 2},
    {D1K_EW_BIAS_ADD, 37, 23, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 1, 0},
    {D1K_EW_RELU, 37, 23, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 1, 0},
    {D1K_EW_RELU_BACKWARD, 37, 23, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 1, 0},
    {D1K_EW_SCALE, 37, 23, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 1, 0},
    {D1K_EW_SOFTMAX_XENT_BACKWARD, 37, 23, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 1, 0},
    {D1K_EW_SOFTMAX_XENT_BACKWARD, 37, 10, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 2, 1, 0},
};

START_TEST(op_variants)
{
    check_case(cfg_4x4, &variants[_i], 31 + (uint64_t)_i, 1, 0);
}
END_TEST

/* Control flow depends only on scalar state: timing-only mode takes the same cycles. */
START_TEST(timing_only_same_cycles)
{
    d1k_ew_kind kind = plain_ops[_i];
    ew_case c = {kind, 37, 23, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0};
    ew_result f, t;
    ew_run_mode(cfg_3x2, &c, 5, 0, 0, D1S_NODE_FUNCTIONAL, &f);
    ew_run_mode(cfg_3x2, &c, 5, 0, 0, D1S_NODE_TIMING_ONLY, &t);
    ck_assert_int_eq(f.mismatches, 0);
    ck_assert_uint_eq(f.cycles, t.cycles);
}
END_TEST

/* The bias chosen on the device over magnitudes from 2^-24 to 2^23 (no Inf/NaN: with
 * them the bias is 0, covered above), every rounding. */
START_TEST(cast_auto_bias)
{
    ew_case c = {D1K_EW_CAST,
                 37,
                 45,
                 D1_FP32,
                 _i % 2 ? D1_CFP8_152 : D1_CFP8_143,
                 _i % 3 ? D1_ROUND_RNE : D1_ROUND_STOCHASTIC,
                 0,
                 -1,
                 0,
                 0,
                 0};
    for (uint64_t seed = 0; seed < 48; seed += 5)
        check_case(configs[_i % NCONFIGS], &c, seed + 48 * (uint64_t)_i, _i % 2, 0);
}
END_TEST

/* ---- generator checks ----------------------------------------------------------------- */

START_TEST(check_rejects)
{
    d1s_target t = {16, 1310720, 0};
    d1k_ew_op op;
    memset(&op, 0, sizeof op);
    ck_assert_int_eq(d1k_ew_place(&op, D1K_EW_RELU, 0, 5, D1_FP32, D1_FP32, 16), D1_E_SHAPE);
    ck_assert_int_eq(d1k_ew_place(&op, D1K_EW_RELU, 40, 5, D1_FP32, D1_FP32, 16), D1_OK);
    ck_assert_int_eq(d1k_ew_check(&op, &t), D1_OK);
    op.t[1].ld = 32; /* Y not placed like X */
    ck_assert_int_eq(d1k_ew_check(&op, &t), D1_E_SHAPE);
    op.t[1].ld = 16;
    op.t[1].layout = D1K_LAYOUT_COLS;
    ck_assert_int_eq(d1k_ew_check(&op, &t), D1_E_INVAL);
    op.t[1].layout = D1K_LAYOUT_ROWS;
    op.scratch += 8; /* unaligned scratch */
    ck_assert_int_eq(d1k_ew_check(&op, &t), D1_E_INVAL);
    op.scratch -= 8;
    t.node_count = 4; /* the range does not fit the target */
    ck_assert_int_eq(d1k_ew_check(&op, &t), D1_E_INVAL);
    /* col_sums: y must be on the last node */
    ck_assert_int_eq(d1k_ew_place(&op, D1K_EW_COL_SUMS, 40, 5, D1_FP32, D1_FP32, 16), D1_OK);
    t.node_count = 16;
    ck_assert_int_eq(d1k_ew_check(&op, &t), D1_OK);
    op.t[1].node_first = 0;
    ck_assert_int_eq(d1k_ew_check(&op, &t), D1_E_SHAPE);
    /* FP32 only outside cast */
    ck_assert_int_eq(d1k_ew_place(&op, D1K_EW_SCALE, 4, 4, D1_FP32, D1_FP32, 2), D1_OK);
    op.t[0].dtype = D1_BF16;
    ck_assert_int_eq(d1k_ew_check(&op, &t), D1_E_DTYPE);
}
END_TEST

START_TEST(place_layouts)
{
    d1k_tensor_place p;
    ck_assert_int_eq(d1k_place_init(&p, D1K_LAYOUT_ROWS, D1_FP32, 37, 23, 0, 16, 0), D1_OK);
    ck_assert_int_eq(p.rows_per_node, 3);
    ck_assert_int_eq(p.nodes, 13);
    ck_assert_int_eq(p.ld, 32);
    ck_assert_int_eq(d1k_place_node_rows(&p, 12), 1);
    ck_assert_int_eq(d1k_place_block_bytes(&p), 512);
    ck_assert_int_eq(d1k_place_init(&p, D1K_LAYOUT_COLS, D1_FP32, 37, 23, 0, 2, 64), D1_OK);
    ck_assert_int_eq(p.rows_per_node, 19);
    ck_assert_int_eq(p.ld, 32);
    ck_assert_int_eq(d1k_place_init(&p, D1K_LAYOUT_ROWS, D1_CFP8_143, 3, 65, 0, 1, 0), D1_OK);
    ck_assert_int_eq(p.ld, 128);
    ck_assert_int_eq(d1k_place_init(&p, D1K_LAYOUT_ROWS, D1_FP32, 3, 3, 0, 1, 32), D1_E_INVAL);
}
END_TEST

static Suite *ew_suite(void)
{
    Suite *s = suite_create("kernels_ew");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, op_matches_cpu, 0, NPLAIN * NCONFIGS);
    tcase_add_loop_test(tc, op_nan_inf, 0, (int)(sizeof nan_ops / sizeof nan_ops[0]));
    tcase_add_loop_test(tc, op_training_shapes, 0, NPLAIN);
    tcase_add_loop_test(tc, cast_matches_cpu, 0, NCASTS * NCONFIGS);
    tcase_add_loop_test(tc, timing_only_same_cycles, 0, NPLAIN);
    tcase_add_loop_test(tc, cast_auto_bias, 0, 6);
    tcase_add_loop_test(tc, op_variants, 0, (int)(sizeof variants / sizeof variants[0]));
    suite_add_tcase(s, tc);
    TCase *tg = tcase_create("generator");
    tcase_add_test(tg, check_rejects);
    tcase_add_test(tg, place_layouts);
    suite_add_tcase(s, tg);
    return s;
}

D1_TEST_MAIN(ew_suite)
