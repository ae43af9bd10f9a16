/* Every op of the CPU backend against a straightforward reference written here, bit for bit
 * (the formulas of doc/numerics.md), plus sanity checks of the formulas in double. */
#include "helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void ck_bits_eq(const float *got, const float *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(memcmp(&got[i], &want[i], 4) == 0, "%s[%zu]: %a, want %a", what, i,
                      (double)got[i], (double)want[i]);
}

/* ---- matmul: every input dtype pair x transposes x output dtype x accumulate x rounding */

static const d1_dtype mm_in[] = {D1_FP32, D1_BF16, D1_CFP8_143, D1_CFP8_152};
enum { MM_CASES = 4 * 4 * 4 * 2 * 2 * 2 };

typedef struct mm_case {
    d1_dtype ta, tb, tc;
    bool trans_a, trans_b, accumulate;
    d1_round round;
} mm_case;

static mm_case mm_decode(int i)
{
    mm_case c;
    c.ta = mm_in[i % 4], i /= 4;
    c.tb = mm_in[i % 4], i /= 4;
    c.trans_a = i & 1, c.trans_b = (i >> 1) & 1, i /= 4;
    c.tc = i % 2 ? D1_BF16 : D1_FP32, i /= 2;
    c.accumulate = i % 2, i /= 2;
    c.round = i % 2 ? D1_ROUND_STOCHASTIC : D1_ROUND_RNE;
    return c;
}

static void run_matmul_case(const mm_case *c, int M, int N, int K)
{
    d1r_device *dev = rt_open("cpu");
    float *a = malloc(sizeof(float) * (size_t)M * K), *b = malloc(sizeof(float) * (size_t)K * N);
    float *c0 = malloc(sizeof(float) * (size_t)M * N),
          *want = malloc(sizeof(float) * (size_t)M * N);
    rt_fill(a, (size_t)M * K, 11, -2.0f, 2.0f);
    rt_fill(b, (size_t)K * N, 12, -2.0f, 2.0f);
    rt_fill(c0, (size_t)M * N, 13, -8.0f, 8.0f);
    int ba = d1_fmt(c->ta)->fixed_bias < 0 ? (c->ta == D1_CFP8_143 ? 13 : 29) : 0;
    int bb = d1_fmt(c->tb)->fixed_bias < 0 ? (c->tb == D1_CFP8_143 ? 12 : 30) : 0;
    d1r_tensor *A =
        c->trans_a ? rt_from(dev, c->ta, ba, 2, K, M, a) : rt_from(dev, c->ta, ba, 2, M, K, a);
    d1r_tensor *B =
        c->trans_b ? rt_from(dev, c->tb, bb, 2, N, K, b) : rt_from(dev, c->tb, bb, 2, K, N, b);
    d1r_tensor *C = rt_from(dev, c->tc, 0, 2, M, N, c0);
    /* The reference sees the quantized operands and C as stored. */
    float *qa = rt_get(A), *qb = rt_get(B), *qc = rt_get(C);
    const uint64_t seed = 77;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float acc = c->accumulate ? qc[i * N + j] : 0.0f;
            for (int k = 0; k < K; k++) {
                float x = c->trans_a ? qa[k * M + i] : qa[i * K + k];
                float y = c->trans_b ? qb[j * K + k] : qb[k * N + j];
                acc = fmaf(x, y, acc);
            }
            if (c->tc == D1_BF16) {
                uint32_t rb = d1_sr_bits(seed, (uint64_t)i * N + j);
                acc = d1_fmt_decode(D1_BF16, d1_fmt_encode(D1_BF16, acc, 0, c->round, rb, NULL), 0);
            }
            want[i * N + j] = acc;
        }
    d1r_matmul_opts o = {c->trans_a, c->trans_b, c->accumulate, c->round, seed};
    CK_OK(d1r_matmul(dev, A, B, C, &o));
    float *got = rt_get(C);
    ck_bits_eq(got, want, (size_t)M * N, "C");
    free(a), free(b), free(c0), free(want), free(qa), free(qb), free(qc), free(got);
    d1r_device_close(dev);
}

START_TEST(matmul_small)
{
    mm_case c = mm_decode(_i);
    run_matmul_case(&c, 5, 7, 9);
}
END_TEST

START_TEST(matmul_blocked)
{
    /* Sizes past any micro-kernel block, with ragged edges; fewer dtype combinations. */
    mm_case c = mm_decode(_i * 7 % MM_CASES);
    run_matmul_case(&c, 37, 45, 131);
}
END_TEST

START_TEST(matmul_default_opts)
{
    d1r_device *dev = rt_open("cpu");
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1};
    d1r_tensor *A = rt_from(dev, D1_FP32, 0, 2, 2, 3, a), *B = rt_from(dev, D1_FP32, 0, 2, 3, 2, b);
    d1r_tensor *C = rt_tensor(dev, D1_FP32, 0, 2, 2, 2);
    CK_OK(d1r_matmul(dev, A, B, C, NULL));
    float *c = rt_get(C);
    const float want[4] = {4, 5, 10, 11};
    ck_bits_eq(c, want, 4, "C");
    free(c);
    d1r_device_close(dev);
}
END_TEST

/* ---- elementwise ops and reductions ------------------------------------------------------ */

enum { R = 6, CC = 11, NE = R * CC };

typedef struct fixture {
    d1r_device *dev;
    float x[NE], y[NE], z[NE];
} fixture;

static void fx_init(fixture *f)
{
    f->dev = rt_open("cpu");
    rt_fill(f->x, NE, 21, -4.0f, 4.0f);
    rt_fill(f->y, NE, 22, -4.0f, 4.0f);
    rt_fill(f->z, NE, 23, -1.0f, 1.0f);
    f->x[0] = -0.0f, f->x[1] = 0.0f, f->x[2] = NAN, f->x[3] = INFINITY, f->x[4] = -INFINITY;
    f->x[5] = 1e-40f, f->x[6] = -1e-40f;
}

START_TEST(bias_add)
{
    fixture f;
    fx_init(&f);
    d1r_tensor *X = rt_from(f.dev, D1_FP32, 0, 2, R, CC, f.x);
    d1r_tensor *b = rt_from(f.dev, D1_FP32, 0, 1, CC, 0, f.y);
    d1r_tensor *Y = rt_tensor(f.dev, D1_FP32, 0, 2, R, CC);
    float want[NE];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < CC; c++)
            want[r * CC + c] = f.x[r * CC + c] + f.y[c];
    CK_OK(d1r_bias_add(f.dev, X, b, Y));
    float *got = rt_get(Y);
    ck_bits_eq(got, want, NE, "Y");
    free(got);
    CK_OK(d1r_bias_add(f.dev, X, b, X)); /* in place */
    got = rt_get(X);
    ck_bits_eq(got, want, NE, "X in place");
    free(got);
    d1r_device_close(f.dev);
}
END_TEST

START_TEST(relu_and_backward)
{
    fixture f;
    fx_init(&f);
    d1r_tensor *X = rt_from(f.dev, D1_FP32, 0, 2, R, CC, f.x);
    d1r_tensor *dY = rt_from(f.dev, D1_FP32, 0, 2, R, CC, f.y);
    d1r_tensor *Y = rt_tensor(f.dev, D1_FP32, 0, 2, R, CC);
    float want[NE], wantd[NE];
    for (int i = 0; i < NE; i++) {
        want[i] = isnan(f.x[i]) ? f.x[i] : (f.x[i] > 0 ? f.x[i] : 0.0f);
        wantd[i] = f.x[i] > 0 ? f.y[i] : 0.0f;
    }
    CK_OK(d1r_relu(f.dev, X, Y));
    float *got = rt_get(Y);
    ck_bits_eq(got, want, NE, "relu");
    ck_assert(!signbit(got[0])); /* relu(-0) = +0 */
    ck_assert(isnan(got[2]));    /* NaN propagates */
    free(got);
    CK_OK(d1r_relu_backward(f.dev, X, dY, Y));
    got = rt_get(Y);
    ck_bits_eq(got, wantd, NE, "relu_backward");
    free(got);
    CK_OK(d1r_relu_backward(f.dev, X, dY, dY)); /* dX may be dY */
    got = rt_get(dY);
    ck_bits_eq(got, wantd, NE, "relu_backward in place");
    free(got);
    CK_OK(d1r_relu(f.dev, X, X));
    got = rt_get(X);
    ck_bits_eq(got, want, NE, "relu in place");
    free(got);
    d1r_device_close(f.dev);
}
END_TEST

static void ref_softmax_row(const float *x, int n, float *m, float *s)
{
    *m = x[0];
    for (int j = 1; j < n; j++)
        if (x[j] > *m)
            *m = x[j];
    *s = 0.0f;
    for (int j = 0; j < n; j++)
        *s = *s + expf(x[j] - *m);
}

START_TEST(softmax_xent)
{
    fixture f;
    fx_init(&f);
    rt_fill(f.x, NE, 31, -6.0f, 6.0f);
    int32_t lab[R] = {0, 10, 3, 3, 7, 1};
    d1r_tensor *X = rt_from(f.dev, D1_FP32, 0, 2, R, CC, f.x);
    d1r_tensor *L = rt_tensor(f.dev, D1R_INT32, 0, 1, R, 0);
    CK_OK(d1r_tensor_upload_raw(L, lab, sizeof lab));
    d1r_tensor *loss = rt_tensor(f.dev, D1_FP32, 0, 1, 1, 0);
    d1r_tensor *dX = rt_tensor(f.dev, D1_FP32, 0, 2, R, CC);

    float total = 0.0f, wantd[NE];
    double dtotal = 0.0;
    for (int i = 0; i < R; i++) {
        const float *row = f.x + i * CC;
        float m, s;
        ref_softmax_row(row, CC, &m, &s);
        total = total + (logf(s) - (row[lab[i]] - m));
        double ds = 0.0;
        for (int j = 0; j < CC; j++) {
            ds += exp((double)row[j]);
            float p = expf(row[j] - m) / s;
            wantd[i * CC + j] = (p - (j == lab[i] ? 1.0f : 0.0f)) / (float)R;
        }
        dtotal += log(ds) - row[lab[i]];
    }
    float want = total / (float)R;
    CK_OK(d1r_softmax_xent(f.dev, X, L, loss));
    float got;
    CK_OK(d1r_tensor_download(loss, &got, 1));
    ck_bits_eq(&got, &want, 1, "loss");
    ck_assert(fabs(got - dtotal / R) < 1e-5 * fabs(dtotal / R) + 1e-6); /* the formula is right */

    CK_OK(d1r_softmax_xent_backward(f.dev, X, L, dX));
    float *gd = rt_get(dX);
    ck_bits_eq(gd, wantd, NE, "dX");
    for (int i = 0; i < R; i++) { /* rows of the gradient sum to ~0 */
        double s = 0;
        for (int j = 0; j < CC; j++)
            s += gd[i * CC + j];
        ck_assert(fabs(s) < 1e-6);
    }
    free(gd);
    CK_OK(d1r_softmax_xent_backward(f.dev, X, L, X)); /* in place */
    gd = rt_get(X);
    ck_bits_eq(gd, wantd, NE, "dX in place");
    free(gd);

    /* uniform logits: loss = log(C) */
    float u[NE] = {0};
    CK_OK(d1r_tensor_upload(X, u, NE, D1_ROUND_RNE, 0, NULL));
    CK_OK(d1r_softmax_xent(f.dev, X, L, loss));
    CK_OK(d1r_tensor_download(loss, &got, 1));
    ck_assert(fabsf(got - logf((float)CC)) < 1e-6f);

    /* labels out of range: D1_E_RANGE, data-dependent, from the backend */
    for (int bad = 0; bad < 2; bad++) {
        lab[4] = bad ? CC : -1;
        CK_OK(d1r_tensor_upload_raw(L, lab, sizeof lab));
        CK_STATUS(d1r_softmax_xent(f.dev, X, L, loss), D1_E_RANGE);
        CK_STATUS(d1r_softmax_xent_backward(f.dev, X, L, dX), D1_E_RANGE);
    }
    d1r_device_close(f.dev);
}
END_TEST

START_TEST(row_and_col_sums)
{
    fixture f;
    fx_init(&f);
    rt_fill(f.x, NE, 41, -100.0f, 100.0f);
    d1r_tensor *X = rt_from(f.dev, D1_FP32, 0, 2, R, CC, f.x);
    d1r_tensor *yr = rt_tensor(f.dev, D1_FP32, 0, 1, R, 0);
    d1r_tensor *yc = rt_tensor(f.dev, D1_FP32, 0, 1, CC, 0);
    float wr[R], wc[CC];
    for (int r = 0; r < R; r++) {
        float acc = 0.0f;
        for (int c = 0; c < CC; c++)
            acc = acc + f.x[r * CC + c];
        wr[r] = acc;
    }
    for (int c = 0; c < CC; c++) {
        float acc = 0.0f;
        for (int r = 0; r < R; r++)
            acc = acc + f.x[r * CC + c];
        wc[c] = acc;
    }
    CK_OK(d1r_row_sums(f.dev, X, yr));
    CK_OK(d1r_col_sums(f.dev, X, yc));
    float *gr = rt_get(yr), *gc = rt_get(yc);
    ck_bits_eq(gr, wr, R, "row sums");
    ck_bits_eq(gc, wc, CC, "col sums");
    free(gr), free(gc);
    d1r_device_close(f.dev);
}
END_TEST

START_TEST(scale_axpy)
{
    fixture f;
    fx_init(&f);
    const float a = -0.37f;
    d1r_tensor *X = rt_from(f.dev, D1_FP32, 0, 2, R, CC, f.x);
    d1r_tensor *Y = rt_from(f.dev, D1_FP32, 0, 2, R, CC, f.y);
    float ws[NE], wa[NE];
    for (int i = 0; i < NE; i++) {
        ws[i] = a * f.x[i];
        wa[i] = fmaf(a, f.x[i], f.y[i]);
    }
    CK_OK(d1r_axpy(f.dev, a, X, Y));
    float *g = rt_get(Y);
    ck_bits_eq(g, wa, NE, "axpy");
    free(g);
    CK_OK(d1r_scale(f.dev, a, X, Y));
    g = rt_get(Y);
    ck_bits_eq(g, ws, NE, "scale");
    free(g);
    CK_OK(d1r_scale(f.dev, a, X, X));
    g = rt_get(X);
    ck_bits_eq(g, ws, NE, "scale in place");
    free(g);
    d1r_device_close(f.dev);
}
END_TEST

START_TEST(sgd)
{
    fixture f;
    fx_init(&f);
    rt_fill(f.x, NE, 51, -1.0f, 1.0f);
    const float lr = 0.05f, mu = 0.9f;
    d1r_tensor *W = rt_from(f.dev, D1_FP32, 0, 2, R, CC, f.x);
    d1r_tensor *G = rt_from(f.dev, D1_FP32, 0, 2, R, CC, f.y);
    d1r_tensor *V = rt_from(f.dev, D1_FP32, 0, 2, R, CC, f.z);
    float w[NE], v[NE];
    for (int i = 0; i < NE; i++)
        w[i] = fmaf(-lr, f.y[i], f.x[i]);
    CK_OK(d1r_sgd(f.dev, lr, W, G));
    float *g = rt_get(W);
    ck_bits_eq(g, w, NE, "sgd");
    free(g);
    for (int step = 0; step < 3; step++) {
        for (int i = 0; i < NE; i++) {
            v[i] = fmaf(mu, step ? v[i] : f.z[i], f.y[i]);
            w[i] = fmaf(-lr, v[i], w[i]);
        }
        CK_OK(d1r_sgd_momentum(f.dev, lr, mu, W, G, V));
    }
    float *gw = rt_get(W), *gv = rt_get(V);
    ck_bits_eq(gw, w, NE, "momentum W");
    ck_bits_eq(gv, v, NE, "momentum V");
    free(gw), free(gv);
    d1r_device_close(f.dev);
}
END_TEST

static const d1_dtype cast_dtypes[] = {D1_FP32,     D1_BF16,      D1_CFP8_143,
                                       D1_CFP8_152, D1_CFP16_SHP, D1_CFP16_UHP};
enum { NCAST = sizeof cast_dtypes / sizeof cast_dtypes[0] };

/* Every (source, destination) pair, RNE and SR, fixed and automatic destination bias. */
START_TEST(cast)
{
    d1_dtype from = cast_dtypes[_i % NCAST], to = cast_dtypes[_i / NCAST % NCAST];
    d1_round mode = _i / (NCAST * NCAST) % 2 ? D1_ROUND_STOCHASTIC : D1_ROUND_RNE;
    bool autob = _i / (NCAST * NCAST * 2) && d1_fmt(to)->fixed_bias < 0;
    fixture f;
    fx_init(&f);
    for (int i = 0; i < NE; i++)
        f.x[i] = f.x[i] * 0.01f;
    int bfrom = d1_fmt(from)->fixed_bias < 0 ? 20 : 0;
    int bto = d1_fmt(to)->fixed_bias < 0 ? (autob ? D1R_BIAS_AUTO : 17) : 0;
    d1r_tensor *X = rt_from(f.dev, from, bfrom, 2, R, CC, f.x);
    d1r_tensor *Y = rt_tensor(f.dev, to, bto, 2, R, CC);
    float *xq = rt_get(X); /* X as stored */
    int eb = autob ? d1_fmt_choose_bias(to, xq, NE) : d1_fmt_bias(to, bto);
    unsigned flags = 0, want_flags = 0;
    const uint64_t seed = 99;
    CK_OK(d1r_cast(f.dev, X, Y, mode, seed, &flags));
    ck_assert_int_eq(d1r_tensor_bias(Y), eb);
    unsigned char *raw = rt_raw(Y);
    size_t es = d1_dtype_size(to);
    for (size_t i = 0; i < NE; i++) {
        uint32_t rb = mode == D1_ROUND_STOCHASTIC ? d1_sr_bits(seed, i) : 0;
        uint32_t want = d1_fmt_encode(to, xq[i], eb, mode, rb, &want_flags), got = 0;
        memcpy(&got, raw + i * es, es);
        ck_assert_msg(got == want, "%s -> %s elem %zu: %#x want %#x", d1_dtype_name(from),
                      d1_dtype_name(to), i, got, want);
    }
    ck_assert_uint_eq(flags, want_flags);
    free(raw);
    free(xq);
    d1r_device_close(f.dev);
}
END_TEST

START_TEST(argmax)
{
    fixture f;
    fx_init(&f);
    rt_fill(f.x, NE, 71, -5.0f, 5.0f);
    f.x[0 * CC + 4] = f.x[0 * CC + 7] = 100.0f; /* tie: the first wins */
    for (int j = 0; j < CC; j++)
        f.x[1 * CC + j] = NAN; /* all NaN: 0 */
    f.x[2 * CC + 0] = NAN;     /* NaN never wins */
    f.x[2 * CC + 5] = 50.0f;
    f.x[3 * CC + 10] = INFINITY;
    d1r_tensor *X = rt_from(f.dev, D1_FP32, 0, 2, R, CC, f.x);
    d1r_tensor *idx = rt_tensor(f.dev, D1R_INT32, 0, 1, R, 0);
    CK_OK(d1r_argmax(f.dev, X, idx));
    int32_t got[R];
    CK_OK(d1r_tensor_download_raw(idx, got, sizeof got));
    for (int r = 0; r < R; r++) {
        int best = 0;
        for (int j = 1; j < CC; j++)
            if (f.x[r * CC + j] > f.x[r * CC + best] ||
                (isnan(f.x[r * CC + best]) && !isnan(f.x[r * CC + j])))
                best = j;
        ck_assert_int_eq(got[r], best);
    }
    ck_assert_int_eq(got[0], 4);
    ck_assert_int_eq(got[1], 0);
    ck_assert_int_eq(got[2], 5);
    ck_assert_int_eq(got[3], 10);
    d1r_device_close(f.dev);
}
END_TEST

Suite *ops_suite(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, matmul_small, 0, MM_CASES);
    tcase_add_loop_test(tc, matmul_blocked, 0, 16);
    tcase_add_test(tc, matmul_default_opts);
    tcase_add_test(tc, bias_add);
    tcase_add_test(tc, relu_and_backward);
    tcase_add_test(tc, softmax_xent);
    tcase_add_test(tc, row_and_col_sums);
    tcase_add_test(tc, scale_axpy);
    tcase_add_test(tc, sgd);
    tcase_add_loop_test(tc, cast, 0, NCAST * NCAST * 4);
    tcase_add_test(tc, argmax);
    suite_add_tcase(s, tc);
    return s;
}
