/* The dispatcher's CPU fallback, through a partial backend (partial_backend.c: scrambled
 * storage; relu, scale and FP32-output matmul only): the same training-step sequence on
 * `cpu` and on the partial device gives byte-identical tensors, and the statistics say which
 * ops fell back. */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

enum { B = 8, IN = 20, HID = 16, OUT = 10 };

enum seq_tensor {
    X,
    W1,
    B1,
    LAB,
    W2,
    H,
    HB,
    A1,
    LOGITS,
    LOSS,
    DLOG,
    DW2,
    DA1,
    DB1,
    RS,
    VB1,
    W1Q,
    PRED,
    NSEQ
};

static void run_sequence(d1r_device *dev, d1r_tensor *t[NSEQ])
{
    float x[B * IN], w1[IN * HID], b1[HID], w2[HID * OUT];
    int32_t lab[B] = {0, 9, 3, 3, 5, 1, 7, 2};
    rt_fill(x, B * IN, 61, -1.0f, 1.0f);
    rt_fill(w1, IN * HID, 62, -0.5f, 0.5f);
    rt_fill(b1, HID, 63, -0.1f, 0.1f);
    rt_fill(w2, HID * OUT, 64, -0.5f, 0.5f);
    t[X] = rt_from(dev, D1_FP32, 0, 2, B, IN, x);
    t[W1] = rt_tensor(dev, D1_CFP8_143, D1R_BIAS_AUTO, 2, IN, HID);
    CK_OK(d1r_tensor_upload(t[W1], w1, IN * HID, D1_ROUND_STOCHASTIC, 5, NULL));
    t[B1] = rt_from(dev, D1_FP32, 0, 1, HID, 0, b1);
    t[LAB] = rt_tensor(dev, D1R_INT32, 0, 1, B, 0);
    CK_OK(d1r_tensor_upload_raw(t[LAB], lab, sizeof lab));
    t[W2] = rt_from(dev, D1_BF16, 0, 2, HID, OUT, w2);
    t[H] = rt_tensor(dev, D1_FP32, 0, 2, B, HID);
    t[HB] = rt_tensor(dev, D1_BF16, 0, 2, B, HID);
    t[A1] = rt_tensor(dev, D1_FP32, 0, 2, B, HID);
    t[LOGITS] = rt_tensor(dev, D1_FP32, 0, 2, B, OUT);
    t[LOSS] = rt_tensor(dev, D1_FP32, 0, 1, 1, 0);
    t[DLOG] = rt_tensor(dev, D1_FP32, 0, 2, B, OUT);
    t[DW2] = rt_tensor(dev, D1_FP32, 0, 2, HID, OUT);
    t[DA1] = rt_tensor(dev, D1_FP32, 0, 2, B, HID);
    t[DB1] = rt_tensor(dev, D1_FP32, 0, 1, HID, 0);
    t[RS] = rt_tensor(dev, D1_FP32, 0, 1, B, 0);
    t[VB1] = rt_from(dev, D1_FP32, 0, 1, HID, 0, b1);

    t[W1Q] = rt_tensor(dev, D1_CFP8_152, D1R_BIAS_AUTO, 2, IN, HID);
    t[PRED] = rt_tensor(dev, D1R_INT32, 0, 1, B, 0);

    const d1r_matmul_opts sr = {.round = D1_ROUND_STOCHASTIC, .seed = 9};
    const d1r_matmul_opts sr_acc = {.round = D1_ROUND_STOCHASTIC, .seed = 10, .accumulate = true};
    CK_OK(d1r_matmul(dev, t[X], t[W1], t[H], NULL));     /* partial */
    CK_OK(d1r_matmul(dev, t[X], t[W1], t[HB], &sr));     /* fallback: BF16 output */
    CK_OK(d1r_matmul(dev, t[X], t[W1], t[HB], &sr_acc)); /* fallback, reads C */
    CK_OK(d1r_bias_add(dev, t[H], t[B1], t[H]));         /* fallback, in place */
    CK_OK(d1r_relu(dev, t[H], t[A1]));                   /* partial */
    CK_OK(d1r_matmul(dev, t[A1], t[W2], t[LOGITS], NULL));
    CK_OK(d1r_softmax_xent(dev, t[LOGITS], t[LAB], t[LOSS]));
    CK_OK(d1r_softmax_xent_backward(dev, t[LOGITS], t[LAB], t[DLOG]));
    CK_OK(d1r_matmul(dev, t[A1], t[DLOG], t[DW2], &(d1r_matmul_opts){.trans_a = true}));
    CK_OK(d1r_matmul(dev, t[DLOG], t[W2], t[DA1], &(d1r_matmul_opts){.trans_b = true}));
    CK_OK(d1r_relu_backward(dev, t[H], t[DA1], t[DA1])); /* fallback, dX is dY */
    CK_OK(d1r_col_sums(dev, t[DA1], t[DB1]));
    CK_OK(d1r_row_sums(dev, t[DA1], t[RS]));
    CK_OK(d1r_scale(dev, 0.5f, t[DW2], t[DW2])); /* partial, in place */
    CK_OK(d1r_axpy(dev, 0.25f, t[DW2], t[DW2])); /* fallback, X is Y */
    CK_OK(d1r_sgd(dev, 0.1f, t[B1], t[DB1]));
    CK_OK(d1r_sgd_momentum(dev, 0.1f, 0.9f, t[VB1], t[DB1], t[B1]));
    CK_OK(d1r_cast(dev, t[HB], t[H], D1_ROUND_RNE, 0, NULL));           /* fallback */
    CK_OK(d1r_cast(dev, t[W1], t[W1Q], D1_ROUND_STOCHASTIC, 12, NULL)); /* auto bias */
    CK_OK(d1r_argmax(dev, t[LOGITS], t[PRED]));
    CK_OK(d1r_device_sync(dev));
}

/* Expected (count, fallback count) per op on the partial device. */
static const struct {
    d1r_op op;
    uint64_t count, fallback;
} expect[] = {
    {D1R_OP_MATMUL, 6, 2},        {D1R_OP_BIAS_ADD, 1, 1},     {D1R_OP_RELU, 1, 0},
    {D1R_OP_RELU_BACKWARD, 1, 1}, {D1R_OP_SOFTMAX_XENT, 1, 1}, {D1R_OP_SOFTMAX_XENT_BACKWARD, 1, 1},
    {D1R_OP_ROW_SUMS, 1, 1},      {D1R_OP_COL_SUMS, 1, 1},     {D1R_OP_SCALE, 1, 0},
    {D1R_OP_AXPY, 1, 1},          {D1R_OP_SGD, 1, 1},          {D1R_OP_SGD_MOMENTUM, 1, 1},
    {D1R_OP_CAST, 2, 2},          {D1R_OP_ARGMAX, 1, 1},
};

START_TEST(fallback_matches_cpu)
{
    d1r_device *cpu = rt_open("cpu"), *part = rt_open_partial();
    ck_assert_str_eq(d1r_device_backend_name(part), "partial");
    d1r_tensor *tc[NSEQ], *tp[NSEQ];
    run_sequence(cpu, tc);
    run_sequence(part, tp);
    for (int i = 0; i < NSEQ; i++) {
        ck_assert_uint_eq(d1r_tensor_nbytes(tc[i]), d1r_tensor_nbytes(tp[i]));
        ck_assert_int_eq(d1r_tensor_bias(tc[i]), d1r_tensor_bias(tp[i]));
        void *a = rt_raw(tc[i]), *b = rt_raw(tp[i]);
        ck_assert_msg(memcmp(a, b, d1r_tensor_nbytes(tc[i])) == 0, "tensor %d differs", i);
        free(a);
        free(b);
    }
    ck_assert_int_gt(d1r_tensor_bias(tp[W1Q]), 0); /* chosen by the fallback cast */
    float loss;
    CK_OK(d1r_tensor_download(tc[LOSS], &loss, 1));
    ck_assert(loss > 1.0f && loss < 4.0f); /* about log(10) for a random net */

    ck_assert_uint_eq(sizeof expect / sizeof expect[0], D1R_OP_COUNT);
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        d1r_op_stats sc, sp;
        CK_OK(d1r_device_stats(cpu, expect[i].op, &sc));
        CK_OK(d1r_device_stats(part, expect[i].op, &sp));
        const char *n = d1r_op_name(expect[i].op);
        ck_assert_msg(sc.count == expect[i].count && sc.fallback_count == 0, "cpu %s", n);
        ck_assert_msg(sp.count == expect[i].count && sp.fallback_count == expect[i].fallback,
                      "partial %s: count %llu fallback %llu", n, (unsigned long long)sp.count,
                      (unsigned long long)sp.fallback_count);
        ck_assert(sp.fallback_ns <= sp.host_ns);
        if (expect[i].fallback == 0)
            ck_assert_uint_eq(sp.fallback_ns, 0);
    }
    d1r_device_close(part);
    d1r_device_close(cpu);
}
END_TEST

static char *print_stats(const d1r_device *dev)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    d1r_device_stats_print(dev, f);
    fclose(f);
    return buf;
}

/* The row of `op` in a printed table (the line starting with the op name and a space). */
static const char *row_of(const char *table, const char *op, char *line, size_t size)
{
    size_t n = strlen(op);
    for (const char *p = table; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
        if (strncmp(p, op, n) == 0 && p[n] == ' ') {
            size_t l = strcspn(p, "\n");
            snprintf(line, size, "%.*s", (int)l, p);
            return line;
        }
    return NULL;
}

START_TEST(stats_table)
{
    d1r_device *part = rt_open_partial();
    d1r_tensor *t[NSEQ];
    run_sequence(part, t);
    char *table = print_stats(part), line[256];
    ck_assert_ptr_nonnull(strstr(table, "ran on"));
    ck_assert_ptr_nonnull(row_of(table, "matmul", line, sizeof line));
    ck_assert_ptr_nonnull(strstr(line, "partial+cpu (fallback)"));
    ck_assert_ptr_nonnull(row_of(table, "relu", line, sizeof line));
    ck_assert_ptr_null(strstr(line, "fallback"));
    ck_assert_ptr_nonnull(strstr(line, "partial"));
    ck_assert_ptr_nonnull(row_of(table, "sgd_momentum", line, sizeof line));
    ck_assert_ptr_nonnull(strstr(line, " cpu (fallback)"));
    free(table);

    d1r_device_stats_reset(part);
    table = print_stats(part);
    ck_assert_ptr_null(row_of(table, "matmul", line, sizeof line)); /* ops that never ran */
    free(table);
    d1r_op_stats s;
    CK_OK(d1r_device_stats(part, D1R_OP_MATMUL, &s));
    ck_assert_uint_eq(s.count, 0);
    ck_assert_uint_eq(s.host_ns, 0);
    d1r_device_close(part);
}
END_TEST

/* A data-dependent failure inside a fallback run: exact status, nothing counted, no leak. */
START_TEST(fallback_error)
{
    d1r_device *part = rt_open_partial();
    d1r_tensor *x = rt_tensor(part, D1_FP32, 0, 2, 2, 3);
    d1r_tensor *l = rt_tensor(part, D1R_INT32, 0, 1, 2, 0);
    d1r_tensor *loss = rt_tensor(part, D1_FP32, 0, 1, 1, 0);
    int32_t lab[2] = {1, 3};
    CK_OK(d1r_tensor_upload_raw(l, lab, sizeof lab));
    CK_STATUS(d1r_softmax_xent(part, x, l, loss), D1_E_RANGE);
    d1r_op_stats s;
    CK_OK(d1r_device_stats(part, D1R_OP_SOFTMAX_XENT, &s));
    ck_assert_uint_eq(s.count, 0);
    d1r_device_close(part);
}
END_TEST

/* The dispatcher asks supports() exactly once per op that passed the argument checks. */
START_TEST(supports_asked_once)
{
    rt_partial *ctl;
    d1r_device *part = rt_open_partial_ctl(&ctl);
    d1r_tensor *t[NSEQ];
    run_sequence(part, t);
    uint64_t ops = 0;
    for (int op = 0; op < D1R_OP_COUNT; op++) {
        d1r_op_stats s;
        CK_OK(d1r_device_stats(part, (d1r_op)op, &s));
        ops += s.count;
    }
    ck_assert_uint_eq((uint64_t)ctl->queries, ops);
    CK_STATUS(d1r_relu(part, t[X], t[H]), D1_E_SHAPE); /* rejected before supports() */
    ck_assert_uint_eq((uint64_t)ctl->queries, ops);
    d1r_device_close(part);
}
END_TEST

/* Failures of the device backend are passed up unchanged, nothing leaks or is counted. */
START_TEST(backend_failures)
{
    rt_partial *ctl;
    d1r_device *part = rt_open_partial_ctl(&ctl);
    d1r_tensor *x = rt_tensor(part, D1_FP32, 0, 2, 2, 3), *y = rt_tensor(part, D1_FP32, 0, 2, 2, 3);
    ctl->fail_alloc = true;
    d1r_tensor *t = (d1r_tensor *)&t;
    CK_STATUS(d1r_tensor_create(part, D1_FP32, 1, (int64_t[]){4}, 0, &t), D1_E_NOMEM);
    ck_assert_ptr_eq(t, (d1r_tensor *)&t);
    ctl->fail_alloc = false;
    ctl->fail_get = true;
    float v[6];
    CK_STATUS(d1r_tensor_download(x, v, 6), D1_E_IO);
    CK_STATUS(d1r_bias_add(part, x, rt_tensor(part, D1_FP32, 0, 1, 3, 0), y), D1_E_IO);
    CK_STATUS(d1r_axpy(part, 1.0f, x, y), D1_E_IO); /* fallback: copies fail */
    CK_STATUS(d1r_tensor_download(rt_tensor(part, D1_BF16, 0, 1, 3, 0), v, 3), D1_E_IO);
    d1r_op_stats s;
    CK_OK(d1r_device_stats(part, D1R_OP_AXPY, &s));
    ck_assert_uint_eq(s.count, 0);
    ctl->fail_get = false;
    CK_OK(d1r_axpy(part, 1.0f, x, y));
    d1r_device_close(part);
}
END_TEST

START_TEST(cross_device_and_registration)
{
    d1r_device *cpu = rt_open("cpu"), *part = rt_open_partial();
    d1r_tensor *a = rt_tensor(cpu, D1_FP32, 0, 2, 2, 2), *b = rt_tensor(part, D1_FP32, 0, 2, 2, 2);
    CK_STATUS(d1r_relu(part, a, b), D1_E_INVAL);
    CK_STATUS(d1r_relu(cpu, a, b), D1_E_INVAL);
    CK_STATUS(d1r_matmul(cpu, a, a, b, NULL), D1_E_INVAL);
    CK_OK(d1r_relu(part, b, b));

    d1r_backend be;
    CK_OK(d1r_cpu_backend_init(&be));
    d1r_device *dev = (d1r_device *)&dev;
    CK_STATUS(d1r_device_open_backend("x", be, NULL), D1_E_INVAL);
    CK_STATUS(d1r_device_open_backend(NULL, be, &dev), D1_E_INVAL);
    CK_STATUS(d1r_device_open_backend("x", (d1r_backend){NULL, NULL}, &dev), D1_E_INVAL);
    ck_assert_ptr_eq(dev, (d1r_device *)&dev);
    d1r_device_close(part);
    d1r_device_close(cpu);
}
END_TEST

Suite *fallback_suite(void)
{
    Suite *s = suite_create("fallback");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, fallback_matches_cpu);
    tcase_add_test(tc, stats_table);
    tcase_add_test(tc, fallback_error);
    tcase_add_test(tc, supports_asked_once);
    tcase_add_test(tc, backend_failures);
    tcase_add_test(tc, cross_device_and_registration);
    suite_add_tcase(s, tc);
    return s;
}
