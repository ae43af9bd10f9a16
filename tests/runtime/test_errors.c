/* Bad input to every op: the exact status, a detail message, no statistics counted. Table of
 * (op, operands from a pool of tensors, options) -> expected status. */
#include "helpers.h"

#include <string.h>

// clang-format off
enum pool_id {
    F43, F43B, F43C, F34, F3, F4, F1, F44, F33, F11, F12, F431, /* fp32 */
    B43, C43, H43,                                              /* bf16, cfp8, cfp16 */
    L4, L3, L1,                                                 /* int32 */
    O43,                                                        /* fp32 on another device */
    POOL_N,
    NUL = -1
};
// clang-format on

typedef struct pool {
    d1r_device *dev, *other;
    d1r_tensor *t[POOL_N];
} pool;

static void pool_init(pool *p)
{
    static const struct {
        d1_dtype dt;
        int ndim;
        int64_t d[3];
    } spec[POOL_N] = {
        [F43] = {D1_FP32, 2, {4, 3}},      [F43B] = {D1_FP32, 2, {4, 3}},
        [F43C] = {D1_FP32, 2, {4, 3}},     [F34] = {D1_FP32, 2, {3, 4}},
        [F3] = {D1_FP32, 1, {3}},          [F4] = {D1_FP32, 1, {4}},
        [F1] = {D1_FP32, 1, {1}},          [F44] = {D1_FP32, 2, {4, 4}},
        [F33] = {D1_FP32, 2, {3, 3}},      [F11] = {D1_FP32, 2, {1, 1}},
        [F12] = {D1_FP32, 1, {12}},        [F431] = {D1_FP32, 3, {4, 3, 1}},
        [B43] = {D1_BF16, 2, {4, 3}},      [C43] = {D1_CFP8_143, 2, {4, 3}},
        [H43] = {D1_CFP16_SHP, 2, {4, 3}}, [L4] = {D1R_INT32, 1, {4}},
        [L3] = {D1R_INT32, 1, {3}},        [L1] = {D1R_INT32, 1, {1}},
        [O43] = {D1_FP32, 2, {4, 3}},
    };
    p->dev = rt_open("cpu");
    p->other = rt_open("cpu");
    for (int i = 0; i < POOL_N; i++) {
        int bias = d1_fmt(spec[i].dt) && d1_fmt(spec[i].dt)->fixed_bias < 0 ? 10 : 0;
        CK_OK(d1r_tensor_create(i == O43 ? p->other : p->dev, spec[i].dt, spec[i].ndim, spec[i].d,
                                bias, &p->t[i]));
    }
}

enum { NONE = 0, TA = 1, TB = 2, ACC = 4, BADROUND = 8, NODEV = 16 };

typedef struct err_case {
    d1r_op op;
    int t[3];
    int flags;
    d1_status want;
} err_case;

#define OK D1_OK
#define INVAL D1_E_INVAL
#define SHAPE D1_E_SHAPE
#define DTYPE D1_E_DTYPE

static const err_case cases[] = {
    /* matmul: A, B, C */
    {D1R_OP_MATMUL, {F43, F34, F44}, NONE, OK},
    {D1R_OP_MATMUL, {F34, F34, F44}, TA, OK},
    {D1R_OP_MATMUL, {F43, F43, F44}, TB, OK},
    {D1R_OP_MATMUL, {F34, F43, F44}, TA | TB | ACC, OK},
    {D1R_OP_MATMUL, {B43, C43, F44}, TB, OK},
    {D1R_OP_MATMUL, {F43, F34, F44}, NODEV, INVAL},
    {D1R_OP_MATMUL, {NUL, F34, F44}, NONE, INVAL},
    {D1R_OP_MATMUL, {F43, NUL, F44}, NONE, INVAL},
    {D1R_OP_MATMUL, {F43, F34, NUL}, NONE, INVAL},
    {D1R_OP_MATMUL, {O43, F34, F44}, NONE, INVAL},
    {D1R_OP_MATMUL, {F43, F43, F44}, NONE, SHAPE},
    {D1R_OP_MATMUL, {F43, F34, F44}, TA, SHAPE},
    {D1R_OP_MATMUL, {F43, F34, F43B}, NONE, SHAPE},
    {D1R_OP_MATMUL, {F43, F34, F33}, NONE, SHAPE},
    {D1R_OP_MATMUL, {F4, F34, F44}, NONE, SHAPE},
    {D1R_OP_MATMUL, {F431, F34, F44}, NONE, SHAPE},
    {D1R_OP_MATMUL, {H43, F34, F44}, NONE, DTYPE},
    {D1R_OP_MATMUL, {F43, L3, F44}, NONE, DTYPE},
    {D1R_OP_MATMUL, {F43, F33, C43}, NONE, DTYPE},
    {D1R_OP_MATMUL, {F43, F33, H43}, NONE, DTYPE},
    {D1R_OP_MATMUL, {F44, F44, F44}, NONE, INVAL},
    {D1R_OP_MATMUL, {F33, F33, F33}, ACC, INVAL},
    {D1R_OP_MATMUL, {F43, F34, F44}, BADROUND, INVAL},
    /* bias_add: X, b, Y */
    {D1R_OP_BIAS_ADD, {F43, F3, F43B}, NONE, OK},
    {D1R_OP_BIAS_ADD, {F43, F3, F43}, NONE, OK},
    {D1R_OP_BIAS_ADD, {F43, F3, F43B}, NODEV, INVAL},
    {D1R_OP_BIAS_ADD, {F43, NUL, F43B}, NONE, INVAL},
    {D1R_OP_BIAS_ADD, {F43, F3, O43}, NONE, INVAL},
    {D1R_OP_BIAS_ADD, {F43, F4, F43B}, NONE, SHAPE},
    {D1R_OP_BIAS_ADD, {F43, F11, F43B}, NONE, SHAPE},
    {D1R_OP_BIAS_ADD, {F43, F3, F34}, NONE, SHAPE},
    {D1R_OP_BIAS_ADD, {F12, F3, F12}, NONE, SHAPE},
    {D1R_OP_BIAS_ADD, {B43, F3, F43B}, NONE, DTYPE},
    {D1R_OP_BIAS_ADD, {F43, F3, B43}, NONE, DTYPE},
    /* relu: X, Y */
    {D1R_OP_RELU, {F43, F43B}, NONE, OK},
    {D1R_OP_RELU, {F43, F43}, NONE, OK},
    {D1R_OP_RELU, {F431, F431}, NONE, OK},
    {D1R_OP_RELU, {F43, F43B}, NODEV, INVAL},
    {D1R_OP_RELU, {NUL, F43B}, NONE, INVAL},
    {D1R_OP_RELU, {F43, NUL}, NONE, INVAL},
    {D1R_OP_RELU, {O43, F43B}, NONE, INVAL},
    {D1R_OP_RELU, {F43, F34}, NONE, SHAPE},
    {D1R_OP_RELU, {F43, F12}, NONE, SHAPE},
    {D1R_OP_RELU, {F43, F431}, NONE, SHAPE},
    {D1R_OP_RELU, {B43, F43}, NONE, DTYPE},
    {D1R_OP_RELU, {F43, C43}, NONE, DTYPE},
    /* relu_backward: X, dY, dX */
    {D1R_OP_RELU_BACKWARD, {F43, F43B, F43C}, NONE, OK},
    {D1R_OP_RELU_BACKWARD, {F43, F43B, F43B}, NONE, OK},
    {D1R_OP_RELU_BACKWARD, {F43, F43B, F43C}, NODEV, INVAL},
    {D1R_OP_RELU_BACKWARD, {F43, NUL, F43C}, NONE, INVAL},
    {D1R_OP_RELU_BACKWARD, {F43, F34, F43C}, NONE, SHAPE},
    {D1R_OP_RELU_BACKWARD, {F43, F43B, F12}, NONE, SHAPE},
    {D1R_OP_RELU_BACKWARD, {F43, B43, F43C}, NONE, DTYPE},
    /* softmax_xent: X, labels, loss */
    {D1R_OP_SOFTMAX_XENT, {F43, L4, F1}, NONE, OK},
    {D1R_OP_SOFTMAX_XENT, {F43, L4, F11}, NONE, OK},
    {D1R_OP_SOFTMAX_XENT, {F43, L4, F1}, NODEV, INVAL},
    {D1R_OP_SOFTMAX_XENT, {F43, NUL, F1}, NONE, INVAL},
    {D1R_OP_SOFTMAX_XENT, {F43, L4, O43}, NONE, INVAL},
    {D1R_OP_SOFTMAX_XENT, {F11, L1, F11}, NONE, INVAL},
    {D1R_OP_SOFTMAX_XENT, {F43, L3, F1}, NONE, SHAPE},
    {D1R_OP_SOFTMAX_XENT, {F43, L4, F4}, NONE, SHAPE},
    {D1R_OP_SOFTMAX_XENT, {F12, L4, F1}, NONE, SHAPE},
    {D1R_OP_SOFTMAX_XENT, {F431, L4, F1}, NONE, SHAPE},
    {D1R_OP_SOFTMAX_XENT, {F43, F4, F1}, NONE, DTYPE},
    {D1R_OP_SOFTMAX_XENT, {B43, L4, F1}, NONE, DTYPE},
    {D1R_OP_SOFTMAX_XENT, {F43, L4, L1}, NONE, DTYPE},
    /* softmax_xent_backward: X, labels, dX */
    {D1R_OP_SOFTMAX_XENT_BACKWARD, {F43, L4, F43B}, NONE, OK},
    {D1R_OP_SOFTMAX_XENT_BACKWARD, {F43, L4, F43}, NONE, OK},
    {D1R_OP_SOFTMAX_XENT_BACKWARD, {F43, L4, F43B}, NODEV, INVAL},
    {D1R_OP_SOFTMAX_XENT_BACKWARD, {F43, L4, NUL}, NONE, INVAL},
    {D1R_OP_SOFTMAX_XENT_BACKWARD, {F43, L3, F43B}, NONE, SHAPE},
    {D1R_OP_SOFTMAX_XENT_BACKWARD, {F43, L4, F34}, NONE, SHAPE},
    {D1R_OP_SOFTMAX_XENT_BACKWARD, {F43, L4, B43}, NONE, DTYPE},
    /* row_sums / col_sums: X, y */
    {D1R_OP_ROW_SUMS, {F43, F4}, NONE, OK},
    {D1R_OP_ROW_SUMS, {F43, F4}, NODEV, INVAL},
    {D1R_OP_ROW_SUMS, {F43, NUL}, NONE, INVAL},
    {D1R_OP_ROW_SUMS, {O43, F4}, NONE, INVAL},
    {D1R_OP_ROW_SUMS, {F43, F3}, NONE, SHAPE},
    {D1R_OP_ROW_SUMS, {F43, F43B}, NONE, SHAPE},
    {D1R_OP_ROW_SUMS, {F12, F12}, NONE, SHAPE},
    {D1R_OP_ROW_SUMS, {B43, F4}, NONE, DTYPE},
    {D1R_OP_ROW_SUMS, {F43, L4}, NONE, DTYPE},
    {D1R_OP_COL_SUMS, {F43, F3}, NONE, OK},
    {D1R_OP_COL_SUMS, {F43, F4}, NONE, SHAPE},
    {D1R_OP_COL_SUMS, {F431, F3}, NONE, SHAPE},
    {D1R_OP_COL_SUMS, {C43, F3}, NONE, DTYPE},
    {D1R_OP_COL_SUMS, {NUL, F3}, NONE, INVAL},
    /* scale / axpy: X, Y */
    {D1R_OP_SCALE, {F43, F43B}, NONE, OK},
    {D1R_OP_SCALE, {F43, F43}, NONE, OK},
    {D1R_OP_SCALE, {F43, F43B}, NODEV, INVAL},
    {D1R_OP_SCALE, {F43, F34}, NONE, SHAPE},
    {D1R_OP_SCALE, {H43, F43B}, NONE, DTYPE},
    {D1R_OP_AXPY, {F43, F43B}, NONE, OK},
    {D1R_OP_AXPY, {F43, F43}, NONE, OK},
    {D1R_OP_AXPY, {F43, O43}, NONE, INVAL},
    {D1R_OP_AXPY, {F43, F43B}, NODEV, INVAL},
    {D1R_OP_AXPY, {F43, F12}, NONE, SHAPE},
    {D1R_OP_AXPY, {F43, B43}, NONE, DTYPE},
    /* sgd: W, G;  sgd_momentum: W, G, V */
    {D1R_OP_SGD, {F43, F43B}, NONE, OK},
    {D1R_OP_SGD, {F43, F43B}, NODEV, INVAL},
    {D1R_OP_SGD, {NUL, F43B}, NONE, INVAL},
    {D1R_OP_SGD, {F43, F12}, NONE, SHAPE},
    {D1R_OP_SGD, {B43, F43B}, NONE, DTYPE},
    {D1R_OP_SGD_MOMENTUM, {F43, F43B, F43C}, NONE, OK},
    {D1R_OP_SGD_MOMENTUM, {F43, F43, F43C}, NONE, OK},
    {D1R_OP_SGD_MOMENTUM, {F43, F43B, F43}, NONE, INVAL},
    {D1R_OP_SGD_MOMENTUM, {F43, F43B, F43C}, NODEV, INVAL},
    {D1R_OP_SGD_MOMENTUM, {F43, F43B, O43}, NONE, INVAL},
    {D1R_OP_SGD_MOMENTUM, {F43, F43B, F34}, NONE, SHAPE},
    {D1R_OP_SGD_MOMENTUM, {F43, F12, F43C}, NONE, SHAPE},
    {D1R_OP_SGD_MOMENTUM, {F43, F43B, B43}, NONE, DTYPE},
    /* cast: X, Y */
    {D1R_OP_CAST, {F43, B43}, NONE, OK},
    {D1R_OP_CAST, {C43, H43}, NONE, OK},
    {D1R_OP_CAST, {F43, F43B}, NONE, OK},
    {D1R_OP_CAST, {F43, B43}, NODEV, INVAL},
    {D1R_OP_CAST, {F43, F43}, NONE, INVAL},
    {D1R_OP_CAST, {F43, B43}, BADROUND, INVAL},
    {D1R_OP_CAST, {O43, B43}, NONE, INVAL},
    {D1R_OP_CAST, {F12, B43}, NONE, SHAPE},
    {D1R_OP_CAST, {F34, B43}, NONE, SHAPE},
    {D1R_OP_CAST, {L4, F4}, NONE, DTYPE},
    {D1R_OP_CAST, {F4, L4}, NONE, DTYPE},
    /* argmax: X, idx */
    {D1R_OP_ARGMAX, {F43, L4}, NONE, OK},
    {D1R_OP_ARGMAX, {F43, L4}, NODEV, INVAL},
    {D1R_OP_ARGMAX, {F43, NUL}, NONE, INVAL},
    {D1R_OP_ARGMAX, {F43, L3}, NONE, SHAPE},
    {D1R_OP_ARGMAX, {F12, L4}, NONE, SHAPE},
    {D1R_OP_ARGMAX, {F43, F4}, NONE, DTYPE},
    {D1R_OP_ARGMAX, {B43, L4}, NONE, DTYPE},
};

static d1_status call(d1r_op op, d1r_device *dev, d1r_tensor *const *t, int flags)
{
    d1r_matmul_opts o = {.trans_a = flags & TA,
                         .trans_b = flags & TB,
                         .accumulate = flags & ACC,
                         .round = flags & BADROUND ? (d1_round)7 : D1_ROUND_RNE};
    switch (op) {
    case D1R_OP_MATMUL:
        return d1r_matmul(dev, t[0], t[1], t[2], &o);
    case D1R_OP_BIAS_ADD:
        return d1r_bias_add(dev, t[0], t[1], t[2]);
    case D1R_OP_RELU:
        return d1r_relu(dev, t[0], t[1]);
    case D1R_OP_RELU_BACKWARD:
        return d1r_relu_backward(dev, t[0], t[1], t[2]);
    case D1R_OP_SOFTMAX_XENT:
        return d1r_softmax_xent(dev, t[0], t[1], t[2]);
    case D1R_OP_SOFTMAX_XENT_BACKWARD:
        return d1r_softmax_xent_backward(dev, t[0], t[1], t[2]);
    case D1R_OP_ROW_SUMS:
        return d1r_row_sums(dev, t[0], t[1]);
    case D1R_OP_COL_SUMS:
        return d1r_col_sums(dev, t[0], t[1]);
    case D1R_OP_SCALE:
        return d1r_scale(dev, 2.0f, t[0], t[1]);
    case D1R_OP_AXPY:
        return d1r_axpy(dev, 2.0f, t[0], t[1]);
    case D1R_OP_SGD:
        return d1r_sgd(dev, 0.1f, t[0], t[1]);
    case D1R_OP_SGD_MOMENTUM:
        return d1r_sgd_momentum(dev, 0.1f, 0.9f, t[0], t[1], t[2]);
    case D1R_OP_CAST:
        return d1r_cast(dev, t[0], t[1], o.round, 3, NULL);
    case D1R_OP_ARGMAX:
        return d1r_argmax(dev, t[0], t[1]);
    case D1R_OP_COUNT:
        break;
    }
    ck_abort_msg("op %d not handled", (int)op);
    return D1_E_INVAL;
}

START_TEST(op_errors)
{
    const err_case *c = &cases[_i];
    pool p;
    pool_init(&p);
    d1r_tensor *t[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++)
        t[i] = c->t[i] >= 0 ? p.t[c->t[i]] : NULL;
    d1_clear_error();
    d1_status st = call(c->op, c->flags & NODEV ? NULL : p.dev, t, c->flags);
    ck_assert_msg(st == c->want, "case %d (%s): %s (%s), expected %s", _i, d1r_op_name(c->op),
                  d1_status_name(st), d1_last_error(), d1_status_name(c->want));
    if (c->want != D1_OK)
        ck_assert_msg(strstr(d1_last_error(), d1r_op_name(c->op)) == d1_last_error(),
                      "message '%s' does not start with the op name", d1_last_error());
    d1r_op_stats s;
    CK_OK(d1r_device_stats(p.dev, c->op, &s));
    ck_assert_uint_eq(s.count, c->want == D1_OK ? 1 : 0);
    ck_assert_uint_eq(s.fallback_count, 0);
    d1r_device_close(p.other);
    d1r_device_close(p.dev);
}
END_TEST

/* Every op is in the table with at least one OK and one NULL-device row. */
START_TEST(table_covers_every_op)
{
    for (int op = 0; op < D1R_OP_COUNT; op++) {
        bool ok = false, nodev = false;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            if (cases[i].op == (d1r_op)op) {
                ok |= cases[i].want == D1_OK;
                nodev |= cases[i].flags & NODEV || cases[i].t[0] == NUL;
            }
        ck_assert_msg(ok && nodev, "%s lacks error-table rows", d1r_op_name((d1r_op)op));
    }
}
END_TEST

START_TEST(stats_errors)
{
    d1r_device *dev = rt_open("cpu");
    d1r_op_stats s;
    CK_STATUS(d1r_device_stats(NULL, D1R_OP_RELU, &s), D1_E_INVAL);
    CK_STATUS(d1r_device_stats(dev, D1R_OP_RELU, NULL), D1_E_INVAL);
    CK_STATUS(d1r_device_stats(dev, D1R_OP_COUNT, &s), D1_E_INVAL);
    CK_STATUS(d1r_device_stats(dev, (d1r_op)-1, &s), D1_E_INVAL);
    d1r_device_stats_reset(NULL);
    d1r_device_stats_print(NULL, stdout);
    d1r_device_close(dev);
}
END_TEST

Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, op_errors, 0, sizeof cases / sizeof cases[0]);
    tcase_add_test(tc, table_covers_every_op);
    tcase_add_test(tc, stats_errors);
    suite_add_tcase(s, tc);
    return s;
}
