/* The training loop on synthetic data: determinism, learning, dtype variants, errors. */
#include "loop.h"
#include "train_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A small, fast configuration: 784-32-10 on 1024 synthetic samples. */
static void small_cfg(d1x_train_cfg *c)
{
    d1x_train_cfg_defaults(c);
    c->device = "cpu";
    c->synthetic = true;
    c->synthetic_train = 1024;
    c->synthetic_test = 256;
    c->hidden[0] = 32;
    c->batch = 64;
    c->epochs = 2;
    c->log_every = 5;
    c->seed = 42;
    c->keep_params = true;
}

static const struct variant {
    d1_dtype dtype;
    bool sr;
    d1x_optim optim;
} variants[] = {
    {D1_FP32, false, D1X_OPTIM_MOMENTUM},     {D1_BF16, false, D1X_OPTIM_MOMENTUM},
    {D1_CFP8_143, false, D1X_OPTIM_MOMENTUM}, {D1_BF16, true, D1X_OPTIM_MOMENTUM},
    {D1_CFP8_143, true, D1X_OPTIM_SGD},       {D1_FP32, false, D1X_OPTIM_SGD},
};

static void variant_cfg(d1x_train_cfg *c, int i)
{
    small_cfg(c);
    c->dtype = variants[i].dtype;
    c->sr = variants[i].sr;
    c->optim = variants[i].optim;
    if (c->optim == D1X_OPTIM_SGD)
        c->lr = 0.1f;
}

/* Same seed, two runs: identical loss bytes and final weights, for every variant. */
START_TEST(deterministic)
{
    d1x_train_cfg c;
    variant_cfg(&c, _i);
    c.max_steps = 20;
    d1x_train_result a, b;
    CK_OK(d1x_train_run(&c, NULL, &a));
    CK_OK(d1x_train_run(&c, NULL, &b));
    ck_assert_uint_eq(a.steps, 20);
    ck_assert_uint_eq(b.steps, 20);
    ck_assert_mem_eq(a.losses, b.losses, 20 * sizeof(float));
    ck_assert_uint_eq(a.nparams, (size_t)784 * 32 + 32 + 32 * 10 + 10);
    ck_assert_uint_eq(b.nparams, a.nparams);
    ck_assert_mem_eq(a.params, b.params, a.nparams * sizeof(float));
    ck_assert(a.test_acc == b.test_acc);
    for (uint64_t s = 0; s < a.steps; s++)
        ck_assert(isfinite(a.losses[s]));

    /* another seed gives another run */
    c.seed = 43;
    d1x_train_result o;
    CK_OK(d1x_train_run(&c, NULL, &o));
    ck_assert(memcmp(a.params, o.params, a.nparams * sizeof(float)) != 0);
    d1x_train_result_fini(&a);
    d1x_train_result_fini(&b);
    d1x_train_result_fini(&o);
}
END_TEST

static double mean(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

/* Two epochs (32 steps) on the synthetic set: the loss falls well below its start (ln 10
 * ~ 2.3 for a fresh net) and the test split is mostly classified right. */
START_TEST(loss_decreases)
{
    d1x_train_cfg c;
    variant_cfg(&c, _i);
    d1x_train_result r;
    CK_OK(d1x_train_run(&c, NULL, &r));
    ck_assert_uint_eq(r.steps, 2 * (1024 / 64));
    double first = mean(r.losses, 4), last = mean(r.losses + r.steps - 4, 4);
    ck_assert_msg(last < 0.5 * first, "loss %g -> %g", first, last);
    ck_assert_msg(r.test_acc > 0.8, "test accuracy %g", r.test_acc);
    ck_assert_uint_eq(r.nepochs, 2);
    ck_assert_uint_eq(r.epochs[1].step, r.steps);
    ck_assert_uint_eq(r.ntest, 256);
    d1x_train_result_fini(&r);
}
END_TEST

struct log_count {
    int logs, epochs, ready;
    uint64_t last_step;
};

static void count_log(const d1x_train_log *row, void *user)
{
    struct log_count *lc = user;
    lc->logs++;
    ck_assert_uint_gt(row->step, lc->last_step);
    ck_assert_uint_gt(row->steps, 0);
    lc->last_step = row->step;
    /* every step runs at least the matmuls on the device, counted by d1r */
    ck_assert_uint_ge(row->op_count[D1R_OP_MATMUL], 3 * row->steps);
    ck_assert_uint_eq(row->op_fallback[D1R_OP_MATMUL], 0);
}
static void count_epoch(const d1x_train_epoch *ep, void *user)
{
    (void)ep;
    ((struct log_count *)user)->epochs++;
}
static void count_ready(const d1x_train_result *res, void *user)
{
    ck_assert_str_eq(res->backend, "cpu");
    ((struct log_count *)user)->ready++;
}

/* Log rows every 5 steps plus one at each epoch end; --steps stops mid-epoch and still
 * evaluates; two hidden layers work. */
START_TEST(logs_and_steps)
{
    d1x_train_cfg c;
    small_cfg(&c);
    c.nhidden = 2;
    c.hidden[0] = 24;
    c.hidden[1] = 16;
    c.max_steps = 23; /* 16 steps per epoch: stops in epoch 1 */
    struct log_count lc = {0};
    d1x_train_hooks h = {count_log, count_epoch, count_ready, &lc};
    d1x_train_result r;
    CK_OK(d1x_train_run(&c, &h, &r));
    ck_assert_uint_eq(r.steps, 23);
    /* rows at 5, 10, 15, 16 (epoch end), 20, 23 (stop) */
    ck_assert_int_eq(lc.logs, 6);
    ck_assert_uint_eq(r.nlogs, 6);
    ck_assert_uint_eq(r.logs[3].step, 16);
    ck_assert_int_eq(r.logs[4].epoch, 1);
    ck_assert_int_eq(lc.epochs, 2);
    ck_assert_int_eq(lc.ready, 1);
    ck_assert_uint_eq(r.nparams, (size_t)784 * 24 + 24 + 24 * 16 + 16 + 16 * 10 + 10);
    ck_assert_uint_gt(r.op_total[D1R_OP_SOFTMAX_XENT_BACKWARD].count, 0);
    /* cosine schedule over the 23 planned steps: falling, above 0 */
    ck_assert(r.logs[0].lr < c.lr && r.logs[0].lr > r.logs[5].lr && r.logs[5].lr > 0.0f);
    d1x_train_result_fini(&r);

    c.schedule = D1X_LR_CONST;
    CK_OK(d1x_train_run(&c, NULL, &r));
    ck_assert(r.logs[0].lr == c.lr && r.logs[5].lr == c.lr);
    d1x_train_result_fini(&r);

    c.nhidden = 0; /* logistic regression */
    CK_OK(d1x_train_run(&c, NULL, &r));
    ck_assert_uint_eq(r.nparams, (size_t)784 * 10 + 10);
    d1x_train_result_fini(&r);
}
END_TEST

START_TEST(errors)
{
    d1x_train_cfg c;
    d1x_train_result r;
    small_cfg(&c);
    /* the default device is the simulated tile; a bad simulator config fails cleanly */
    d1x_train_cfg_defaults(&c);
    ck_assert_str_eq(c.device, "sim:tile");
    small_cfg(&c);
    c.device = "sim:/nonexistent/d1.cfg";
    ck_assert_int_ne(d1x_train_run(&c, NULL, &r), D1_OK);
    d1x_train_result_fini(&r);
    c.device = "gpu";
    CK_STATUS(d1x_train_run(&c, NULL, &r), D1_E_INVAL);
    d1x_train_result_fini(&r);

    small_cfg(&c);
    c.batch = 2000; /* more than the 1024 samples */
    CK_STATUS(d1x_train_run(&c, NULL, &r), D1_E_INVAL);
    d1x_train_result_fini(&r);

    small_cfg(&c);
    c.synthetic = false;
    c.data_dir = "/nonexistent/fashion-mnist";
    CK_STATUS(d1x_train_run(&c, NULL, &r), D1_E_IO);
    ck_assert_ptr_nonnull(strstr(d1_last_error(), "dataset-fashion-mnist"));
    d1x_train_result_fini(&r);

    small_cfg(&c);
    c.lr = 0.0f;
    CK_STATUS(d1x_train_run(&c, NULL, &r), D1_E_INVAL);
    small_cfg(&c);
    c.nhidden = 8;
    CK_STATUS(d1x_train_run(&c, NULL, &r), D1_E_INVAL);
    CK_STATUS(d1x_train_run(NULL, NULL, &r), D1_E_INVAL);
}
END_TEST

/* The numerics contract end to end: N steps on a simulator device give the same loss bytes,
 * final weights and test accuracy as on cpu, for fp32, bf16 and cfp8 (RNE and stochastic
 * rounding) on one chip, and bf16 on the tile. On the simulator every op of the bf16/cfp8
 * steps runs on the device (no fallbacks; fp32 matmuls fall back, their operands are not a
 * matrix-unit format) and the device reports simulated time; cpu reports none. */
static const struct sim_variant {
    const char *device;
    d1_dtype dtype;
    bool sr;
    int steps;
} sim_variants[] = {
    {"sim:chip", D1_FP32, false, 20},     {"sim:chip", D1_BF16, false, 20},
    {"sim:chip", D1_CFP8_143, false, 20}, {"sim:chip", D1_CFP8_143, true, 20},
    {"sim:tile", D1_BF16, false, 5},
};

START_TEST(cpu_vs_sim)
{
    const struct sim_variant *v = &sim_variants[_i];
    d1x_train_cfg c;
    small_cfg(&c);
    c.dtype = v->dtype;
    c.sr = v->sr;
    c.batch = 32;
    c.max_steps = (uint64_t)v->steps;
    c.synthetic_test = 64;
    size_t n = (size_t)v->steps;
    d1x_train_result a, b;
    CK_OK(d1x_train_run(&c, NULL, &a));
    c.device = v->device;
    CK_OK(d1x_train_run(&c, NULL, &b));
    ck_assert_uint_eq(b.steps, n);
    ck_assert_mem_eq(a.losses, b.losses, n * sizeof(float));
    ck_assert_uint_eq(a.nparams, b.nparams);
    ck_assert_mem_eq(a.params, b.params, a.nparams * sizeof(float));
    ck_assert(a.test_acc == b.test_acc);
    uint64_t fb = 0, dev_a = 0;
    for (int op = 0; op < D1R_OP_COUNT; op++) {
        dev_a += a.op_total[op].device_ns;
        if (op != D1R_OP_MATMUL || v->dtype != D1_FP32)
            fb += b.op_total[op].fallback_count;
        if (b.op_total[op].count > b.op_total[op].fallback_count)
            ck_assert_msg(b.op_total[op].device_ns > 0, "%s: no simulated time",
                          d1r_op_name((d1r_op)op));
    }
    ck_assert_uint_eq(fb, 0);
    ck_assert_uint_eq(dev_a, 0);
    if (v->dtype != D1_FP32) {
        ck_assert_uint_gt(b.op_total[D1R_OP_MATMUL].mxu_ops, 0);
        ck_assert_uint_gt(b.op_total[D1R_OP_MATMUL].mxu_slots, b.op_total[D1R_OP_MATMUL].mxu_ops);
    }
    d1x_train_result_fini(&a);
    d1x_train_result_fini(&b);
}
END_TEST

Suite *loop_suite(void)
{
    Suite *s = suite_create("loop");
    TCase *tc = tcase_create("synthetic");
    tcase_set_timeout(tc, 300);
    int nv = (int)(sizeof variants / sizeof variants[0]);
    tcase_add_loop_test(tc, deterministic, 0, nv);
    tcase_add_loop_test(tc, loss_decreases, 0, nv);
    tcase_add_test(tc, logs_and_steps);
    tcase_add_test(tc, errors);
    tcase_add_loop_test(tc, cpu_vs_sim, 0, (int)(sizeof sim_variants / sizeof sim_variants[0]));
    suite_add_tcase(s, tc);
    return s;
}
