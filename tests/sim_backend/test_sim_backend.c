/* The sim backend through the d1r API: same program on "cpu" and on a sim device gives the
 * same bytes; unsupported ops and dtypes fall back to the CPU and are counted; launch
 * statistics; device strings. */
#include "runtime/sim/sim_backend.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OK(expr)                                                                             \
    do {                                                                                     \
        d1_status st_ = (expr);                                                              \
        ck_assert_msg(st_ == D1_OK, "%s -> %s: %s", #expr, d1_status_name(st_),              \
                      d1_last_error());                                                      \
    } while (0)

/* A 4x4-node chip config file (what CI uses: sim:<file>). */
static const char *small_cfg_path(void)
{
    static char path[64];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/d1_sim_backend_%d.cfg", (int)getpid());
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "# 4x4 nodes, none harvested\nmesh_cols = 4\nmesh_rows = 4\nharvested = \"\"\n");
        fclose(f);
    }
    return path;
}

static d1r_device *open_sim(void **ctx)
{
    char spec[96];
    snprintf(spec, sizeof spec, "sim:%s", small_cfg_path());
    d1r_device *dev;
    OK(d1r_sim_device_open(spec, &dev, ctx));
    return dev;
}

static void fill(float *x, size_t n, uint32_t seed)
{
    uint32_t s = seed * 747796405u + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        x[i] = (s % 17 == 0) ? -0.0f : ((float)(s >> 8) / 16777216.0f) * 2.0f - 1.0f;
    }
}

/* The same short program on a device: upload, matmul (+ accumulate), relu, download. */
static void program(d1r_device *dev, d1_dtype ta, d1_dtype tb, d1_dtype tc, bool trans,
                    d1_round rnd, uint8_t **out, size_t *nout)
{
    const int64_t M = 37, N = 45, K = 29;
    float *x = malloc(sizeof(float) * (size_t)(M * K + K * N + M * N));
    ck_assert_ptr_nonnull(x);
    fill(x, (size_t)(M * K + K * N + M * N), 5);
    d1r_tensor *A, *B, *C, *Y;
    int bias_a = ta == D1_BF16 || ta == D1_FP32 ? 0 : D1R_BIAS_AUTO;
    int bias_b = tb == D1_BF16 || tb == D1_FP32 ? 0 : D1R_BIAS_AUTO;
    OK(d1r_tensor_create(dev, ta, 2, trans ? (int64_t[]){K, M} : (int64_t[]){M, K}, bias_a, &A));
    OK(d1r_tensor_create(dev, tb, 2, trans ? (int64_t[]){N, K} : (int64_t[]){K, N}, bias_b, &B));
    OK(d1r_tensor_create(dev, tc, 2, (int64_t[]){M, N}, 0, &C));
    OK(d1r_tensor_create(dev, D1_FP32, 2, (int64_t[]){M, N}, 0, &Y));
    OK(d1r_tensor_upload(A, x, (size_t)(M * K), D1_ROUND_RNE, 0, NULL));
    OK(d1r_tensor_upload(B, x + M * K, (size_t)(K * N), D1_ROUND_RNE, 0, NULL));
    OK(d1r_tensor_upload(C, x + M * K + K * N, (size_t)(M * N), D1_ROUND_RNE, 0, NULL));
    d1r_matmul_opts o = {trans, trans, false, rnd, 77};
    OK(d1r_matmul(dev, A, B, C, &o));
    o.accumulate = true;
    o.seed = 78;
    OK(d1r_matmul(dev, A, B, C, &o));
    if (tc == D1_FP32)
        OK(d1r_relu(dev, C, Y));
    *nout = d1r_tensor_nbytes(C) + (tc == D1_FP32 ? d1r_tensor_nbytes(Y) : 0);
    *out = malloc(*nout);
    ck_assert_ptr_nonnull(*out);
    OK(d1r_tensor_download_raw(C, *out, d1r_tensor_nbytes(C)));
    if (tc == D1_FP32)
        OK(d1r_tensor_download_raw(Y, *out + d1r_tensor_nbytes(C), d1r_tensor_nbytes(Y)));
    free(x);
}

START_TEST(cross_backend)
{
    static const d1_dtype ops[][3] = {
        {D1_BF16, D1_BF16, D1_FP32},         {D1_BF16, D1_BF16, D1_BF16},
        {D1_CFP8_143, D1_CFP8_152, D1_FP32}, {D1_CFP8_143, D1_CFP8_143, D1_BF16},
        {D1_BF16, D1_CFP8_152, D1_BF16},     {D1_FP32, D1_BF16, D1_FP32},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        for (int v = 0; v < 4; v++) {
            bool trans = v & 1;
            d1_round rnd = (v & 2) ? D1_ROUND_STOCHASTIC : D1_ROUND_RNE;
            d1r_device *cpu, *sim;
            void *ctx;
            OK(d1r_device_open("cpu", &cpu));
            sim = open_sim(&ctx);
            uint8_t *a, *b;
            size_t na, nb;
            program(cpu, ops[i][0], ops[i][1], ops[i][2], trans, rnd, &a, &na);
            program(sim, ops[i][0], ops[i][1], ops[i][2], trans, rnd, &b, &nb);
            ck_assert_uint_eq(na, nb);
            ck_assert_msg(memcmp(a, b, na) == 0, "case %zu/%d: sim differs from cpu", i, v);
            /* matmul ran on the simulator unless an operand is FP32 */
            d1r_op_stats ms, rs;
            OK(d1r_device_stats(sim, D1R_OP_MATMUL, &ms));
            ck_assert_uint_eq(ms.count, 2);
            ck_assert_uint_eq(ms.fallback_count, ops[i][0] == D1_FP32 ? 2 : 0);
            ck_assert_uint_eq(d1r_sim_backend_totals(ctx)->launches, ops[i][0] == D1_FP32 ? 0 : 2);
            OK(d1r_device_stats(sim, D1R_OP_RELU, &rs));
            ck_assert_uint_eq(rs.fallback_count, 0); /* a d1k_ew kernel on the simulator */
            ck_assert_uint_eq(d1r_sim_backend_totals(ctx)->op_launches[D1R_OP_RELU], rs.count);
            free(a);
            free(b);
            d1r_device_close(cpu);
            d1r_device_close(sim);
        }
}
END_TEST

START_TEST(launch_stats)
{
    void *ctx;
    d1r_device *sim = open_sim(&ctx);
    ck_assert_str_eq(d1r_device_backend_name(sim), "sim");
    d1r_tensor *A, *B, *C;
    OK(d1r_tensor_create(sim, D1_BF16, 2, (int64_t[]){128, 256}, 0, &A));
    OK(d1r_tensor_create(sim, D1_BF16, 2, (int64_t[]){256, 128}, 0, &B));
    OK(d1r_tensor_create(sim, D1_FP32, 2, (int64_t[]){128, 128}, 0, &C));
    OK(d1r_matmul(sim, A, B, C, NULL));
    OK(d1r_matmul(sim, A, B, C, NULL)); /* same kernel: cache hit */
    const d1r_sim_totals *t = d1r_sim_backend_totals(ctx);
    ck_assert_uint_eq(t->launches, 2);
    const d1r_sim_launch *l = &t->last;
    ck_assert(l->cache_hit);
    ck_assert_uint_gt(l->cycles, 0);
    ck_assert_uint_eq(l->mma, 16ull * 16 * 64 * 1); /* 128x128 outputs / 64 x 256/4 k steps */
    ck_assert_double_gt(l->tflops, 0);
    ck_assert_double_le(l->pct_peak, 100.0);
    ck_assert_double_gt(l->mxu_util, 0.2);
    ck_assert_double_le(l->mxu_util, 1.0);
    ck_assert_uint_gt(l->noc_bytes, 0);
    ck_assert_uint_eq(l->hbm_bytes, 0);
    ck_assert_str_eq(l->bound, "compute");
    /* the prediction is within 25% of the simulated cycles */
    ck_assert_double_lt((double)l->pred_cycles, 1.25 * (double)l->cycles);
    ck_assert_double_gt((double)l->pred_cycles, 0.75 * (double)l->cycles);
    char buf[2048];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    d1r_sim_backend_print(ctx, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "TFLOPS"));
    d1r_device_close(sim);
}
END_TEST

START_TEST(device_strings)
{
    d1r_device *dev;
    ck_assert_int_eq(d1r_sim_device_open("sim:tile:", &dev, NULL), D1_E_INVAL);
    ck_assert_int_eq(d1r_sim_device_open("sim:", &dev, NULL), D1_E_INVAL);
    ck_assert_int_eq(d1r_sim_device_open("simx", &dev, NULL), D1_E_INVAL);
    ck_assert_int_eq(d1r_sim_device_open("sim:/nonexistent/x.cfg", &dev, NULL), D1_E_IO);
    OK(d1r_sim_device_open("sim", &dev, NULL));
    d1r_device_close(dev);
    OK(d1r_sim_device_open("sim:chip", &dev, NULL));
    d1r_device_close(dev);
}
END_TEST

/* CFP8 end to end: FP32 -> CFP8 (auto bias) -> sim matmul -> FP32, error vs FP64 bounded. */
START_TEST(cfp8_error)
{
    const int64_t M = 32, N = 40, K = 96;
    void *ctx;
    d1r_device *sim = open_sim(&ctx);
    float *x = malloc(sizeof(float) * (size_t)(M * K + K * N)), *c = malloc(sizeof(float) * (size_t)(M * N));
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(c);
    fill(x, (size_t)(M * K + K * N), 9);
    d1r_tensor *A, *B, *C;
    OK(d1r_tensor_create(sim, D1_CFP8_143, 2, (int64_t[]){M, K}, D1R_BIAS_AUTO, &A));
    OK(d1r_tensor_create(sim, D1_CFP8_143, 2, (int64_t[]){K, N}, D1R_BIAS_AUTO, &B));
    OK(d1r_tensor_create(sim, D1_FP32, 2, (int64_t[]){M, N}, 0, &C));
    OK(d1r_tensor_upload(A, x, (size_t)(M * K), D1_ROUND_RNE, 0, NULL));
    OK(d1r_tensor_upload(B, x + M * K, (size_t)(K * N), D1_ROUND_RNE, 0, NULL));
    OK(d1r_matmul(sim, A, B, C, NULL));
    ck_assert_uint_eq(d1r_sim_backend_totals(ctx)->launches, 1);
    OK(d1r_tensor_download(C, c, (size_t)(M * N)));
    double e2 = 0, r2 = 0;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double r = 0;
            for (int64_t k = 0; k < K; k++)
                r += (double)x[i * K + k] * (double)x[M * K + k * N + j];
            e2 += (c[i * N + j] - r) * (c[i * N + j] - r);
            r2 += r * r;
        }
    /* 3 mantissa bits: unit roundoff 2^-4 per operand; random signs average it down */
    double rel = sqrt(e2 / r2);
    ck_assert_msg(rel < 0.06, "CFP8 relative RMS error %g", rel);
    ck_assert_msg(rel > 1e-3, "CFP8 error %g suspiciously small", rel);
    free(x);
    free(c);
    d1r_device_close(sim);
}
END_TEST

/* Every op of a training step, on cpu and on sim, same bytes (and the same bias chosen by
 * an auto-bias cast, the same conversion flags). */
static void step(d1r_device *dev, uint8_t **out, size_t *n, unsigned *flags)
{
    const int64_t B = 24, C = 37, H = 40;
    float *x = malloc(sizeof(float) * (size_t)(B * H + H * C + C + B * C));
    ck_assert_ptr_nonnull(x);
    fill(x, (size_t)(B * H + H * C + C + B * C), 13);
    int32_t lab[24];
    for (int i = 0; i < B; i++)
        lab[i] = (i * 7 + 3) % (int)C;
    d1r_tensor *X, *W, *b, *Z, *A, *L, *lo, *dZ, *dA, *rs, *cs, *V, *Wq, *Xq, *idx;
    OK(d1r_tensor_create(dev, D1_FP32, 2, (int64_t[]){B, H}, 0, &X));
    OK(d1r_tensor_create(dev, D1_FP32, 2, (int64_t[]){H, C}, 0, &W));
    OK(d1r_tensor_create(dev, D1_FP32, 1, (int64_t[]){C}, 0, &b));
    OK(d1r_tensor_create(dev, D1_FP32, 2, (int64_t[]){B, C}, 0, &Z));
    OK(d1r_tensor_create(dev, D1_FP32, 2, (int64_t[]){B, C}, 0, &A));
    OK(d1r_tensor_create(dev, D1R_INT32, 1, (int64_t[]){B}, 0, &L));
    OK(d1r_tensor_create(dev, D1_FP32, 1, (int64_t[]){1}, 0, &lo));
    OK(d1r_tensor_create(dev, D1_FP32, 2, (int64_t[]){B, C}, 0, &dZ));
    OK(d1r_tensor_create(dev, D1_FP32, 2, (int64_t[]){B, C}, 0, &dA));
    OK(d1r_tensor_create(dev, D1_FP32, 1, (int64_t[]){B}, 0, &rs));
    OK(d1r_tensor_create(dev, D1_FP32, 1, (int64_t[]){C}, 0, &cs));
    OK(d1r_tensor_create(dev, D1_FP32, 2, (int64_t[]){H, C}, 0, &V));
    OK(d1r_tensor_create(dev, D1_BF16, 2, (int64_t[]){H, C}, 0, &Wq));
    OK(d1r_tensor_create(dev, D1_CFP8_143, 2, (int64_t[]){B, H}, D1R_BIAS_AUTO, &Xq));
    OK(d1r_tensor_create(dev, D1R_INT32, 1, (int64_t[]){B}, 0, &idx));
    OK(d1r_tensor_upload(X, x, (size_t)(B * H), D1_ROUND_RNE, 0, NULL));
    OK(d1r_tensor_upload(W, x + B * H, (size_t)(H * C), D1_ROUND_RNE, 0, NULL));
    OK(d1r_tensor_upload(b, x + B * H + H * C, (size_t)C, D1_ROUND_RNE, 0, NULL));
    OK(d1r_tensor_upload_raw(L, lab, sizeof lab));
    OK(d1r_cast(dev, W, Wq, D1_ROUND_STOCHASTIC, 5, flags));
    OK(d1r_cast(dev, X, Xq, D1_ROUND_RNE, 0, flags));
    OK(d1r_matmul(dev, Xq, Wq, Z, NULL));
    OK(d1r_bias_add(dev, Z, b, Z));
    OK(d1r_relu(dev, Z, A));
    OK(d1r_softmax_xent(dev, A, L, lo));
    OK(d1r_softmax_xent_backward(dev, A, L, dA));
    OK(d1r_relu_backward(dev, Z, dA, dZ));
    OK(d1r_row_sums(dev, dZ, rs));
    OK(d1r_col_sums(dev, dZ, cs));
    OK(d1r_argmax(dev, A, idx));
    OK(d1r_scale(dev, 0.5f, dZ, dZ));
    OK(d1r_axpy(dev, -0.25f, dA, dZ));
    OK(d1r_sgd(dev, 0.1f, b, cs));
    OK(d1r_sgd_momentum(dev, 0.05f, 0.9f, W, W, V));
    d1r_tensor *all[] = {Z, A, lo, dZ, dA, rs, cs, V, W, b, Wq, Xq, idx};
    *n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        *n += d1r_tensor_nbytes(all[i]) + sizeof(int);
    *out = malloc(*n);
    ck_assert_ptr_nonnull(*out);
    size_t o = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        OK(d1r_tensor_download_raw(all[i], *out + o, d1r_tensor_nbytes(all[i])));
        o += d1r_tensor_nbytes(all[i]);
        int bias = d1r_tensor_bias(all[i]);
        memcpy(*out + o, &bias, sizeof bias);
        o += sizeof bias;
    }
    free(x);
}

START_TEST(all_ops)
{
    d1r_device *cpu, *sim;
    void *ctx;
    OK(d1r_device_open("cpu", &cpu));
    sim = open_sim(&ctx);
    uint8_t *a, *b;
    size_t na, nb;
    unsigned fa = 0, fb = 0;
    step(cpu, &a, &na, &fa);
    step(sim, &b, &nb, &fb);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(a, b, na) == 0, "a training step on sim differs from cpu");
    ck_assert_uint_eq(fa, fb);
    /* every op ran on the simulator */
    const d1r_sim_totals *t = d1r_sim_backend_totals(ctx);
    for (int op = 0; op < D1R_OP_COUNT; op++) {
        d1r_op_stats st;
        OK(d1r_device_stats(sim, (d1r_op)op, &st));
        ck_assert_msg(st.fallback_count == 0, "%s fell back", d1r_op_name((d1r_op)op));
        ck_assert_uint_eq(t->op_launches[op], st.count);
        /* d1r carries the simulated time: the op's cycles at the configured clock */
        double want =
            (double)t->op_cycles[op] * 1e3 / (double)d1r_sim_backend_config(ctx)->clock_mhz;
        ck_assert_msg(st.device_ns + 1.0 * (double)st.count >= want &&
                          (double)st.device_ns <= want + (double)st.count,
                      "%s: device_ns %llu, cycles say %.1f", d1r_op_name((d1r_op)op),
                      (unsigned long long)st.device_ns, want);
        if (st.count)
            ck_assert_uint_gt(st.mxu_slots, 0);
    }
    d1r_op_stats mm;
    OK(d1r_device_stats(sim, D1R_OP_MATMUL, &mm));
    ck_assert_uint_eq(mm.mxu_ops, t->mma);
    /* the device statistics include the simulated time per op (backend stats hook) */
    char buf[4096];
    FILE *mf = fmemopen(buf, sizeof buf, "w");
    d1r_device_stats_print(sim, mf);
    fclose(mf);
    ck_assert_ptr_nonnull(strstr(buf, "us simulated"));
    ck_assert_ptr_nonnull(strstr(buf, "softmax_xent"));
    /* d1r_device_open routes sim devices to this backend */
    d1r_device *d2;
    char spec[96];
    snprintf(spec, sizeof spec, "sim:%s", small_cfg_path());
    OK(d1r_device_open(spec, &d2));
    ck_assert_str_eq(d1r_device_backend_name(d2), "sim");
    d1r_device_close(d2);
    /* a bad label is reported as the CPU backend reports it */
    d1r_tensor *X, *L, *lo;
    int32_t bad[2] = {0, 9};
    OK(d1r_tensor_create(sim, D1_FP32, 2, (int64_t[]){2, 4}, 0, &X));
    OK(d1r_tensor_create(sim, D1R_INT32, 1, (int64_t[]){2}, 0, &L));
    OK(d1r_tensor_create(sim, D1_FP32, 1, (int64_t[]){1}, 0, &lo));
    OK(d1r_tensor_upload_raw(L, bad, sizeof bad));
    ck_assert_int_eq(d1r_softmax_xent(sim, X, L, lo), D1_E_RANGE);
    free(a);
    free(b);
    d1r_device_close(cpu);
    d1r_device_close(sim);
}
END_TEST

Suite *sim_backend_suite(void);
Suite *sim_backend_suite(void)
{
    Suite *s = suite_create("sim_backend");
    TCase *tc = tcase_create("backend");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cross_backend);
    tcase_add_test(tc, launch_stats);
    tcase_add_test(tc, device_strings);
    tcase_add_test(tc, cfp8_error);
    tcase_add_test(tc, all_ops);
    suite_add_tcase(s, tc);
    return s;
}
