/* Tensors: creation limits, accessors, upload/download with conversion. */
#include "helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

START_TEST(create_and_accessors)
{
    d1r_device *dev = rt_open("cpu");
    int64_t shape[4] = {2, 3, 4, 5};
    d1r_tensor *t = NULL;
    CK_OK(d1r_tensor_create(dev, D1_BF16, 4, shape, 0, &t));
    ck_assert_ptr_eq(d1r_tensor_device(t), dev);
    ck_assert_int_eq(d1r_tensor_dtype(t), D1_BF16);
    ck_assert_int_eq(d1r_tensor_ndim(t), 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(d1r_tensor_dim(t, i), shape[i]);
    ck_assert_int_eq(d1r_tensor_dim(t, 4), 0);
    ck_assert_int_eq(d1r_tensor_dim(t, -1), 0);
    ck_assert_uint_eq(d1r_tensor_nelems(t), 120);
    ck_assert_uint_eq(d1r_tensor_nbytes(t), 240);
    ck_assert_int_eq(d1r_tensor_bias(t), 127);
    /* contents start as zero bits */
    float *x = rt_get(t);
    for (int i = 0; i < 120; i++)
        ck_assert(x[i] == 0.0f && !signbit(x[i]));
    free(x);

    d1r_tensor *l = rt_tensor(dev, D1R_INT32, 0, 1, 9, 0);
    ck_assert_uint_eq(d1r_tensor_nbytes(l), 36);
    d1r_tensor *c = rt_tensor(dev, D1_CFP8_152, 40, 1, 3, 0);
    ck_assert_int_eq(d1r_tensor_bias(c), 40);
    ck_assert_uint_eq(d1r_tensor_nbytes(c), 3);
    d1r_tensor *b = rt_tensor(dev, D1_BF16, 127, 1, 3, 0); /* the fixed bias is accepted */
    ck_assert_int_eq(d1r_tensor_bias(b), 127);
    d1r_device_close(dev);
}
END_TEST

typedef struct create_case {
    d1_dtype dtype;
    int ndim;
    int64_t shape[5];
    int bias;
    d1_status want;
} create_case;

#define BIG INT64_C(2147483647)
static const create_case create_cases[] = {
    {D1_FP32, 0, {1}, 0, D1_E_INVAL},
    {D1_FP32, -1, {1}, 0, D1_E_INVAL},
    {D1_FP32, 5, {1, 1, 1, 1, 1}, 0, D1_E_INVAL},
    {D1_FP32, 2, {3, 0}, 0, D1_E_INVAL},
    {D1_FP32, 2, {-3, 4}, 0, D1_E_INVAL},
    {D1_FP32, 1, {BIG + 1}, 0, D1_E_RANGE},
    {D1_FP32, 2, {INT64_MAX, 2}, 0, D1_E_RANGE},
    {D1_FP32, 3, {65536, 65536, 2}, 0, D1_E_RANGE},    /* 2^33 > the 2^32 limit */
    {D1_FP32, 4, {BIG, BIG, BIG, BIG}, 0, D1_E_RANGE}, /* would overflow 64 bits */
    {(d1_dtype)(D1_DTYPE_COUNT + 1), 1, {4}, 0, D1_E_DTYPE},
    {(d1_dtype)-1, 1, {4}, 0, D1_E_DTYPE},
    {D1_CFP8_143, 1, {4}, 64, D1_E_RANGE},
    {D1_CFP8_143, 1, {4}, -2, D1_E_RANGE},
    {D1_CFP16_SHP, 1, {4}, 99, D1_E_RANGE},
    {D1_BF16, 1, {4}, 5, D1_E_RANGE},
    {D1_FP32, 1, {4}, D1R_BIAS_AUTO, D1_E_RANGE},
    {D1R_INT32, 1, {4}, 1, D1_E_RANGE},
};

START_TEST(create_errors)
{
    const create_case *c = &create_cases[_i];
    d1r_device *dev = rt_open("cpu");
    d1r_tensor *t = (d1r_tensor *)&t;
    CK_STATUS(d1r_tensor_create(dev, c->dtype, c->ndim, c->shape, c->bias, &t), c->want);
    ck_assert_ptr_eq(t, (d1r_tensor *)&t);
    ck_assert(d1_last_error()[0] != '\0');
    CK_STATUS(d1r_tensor_create(NULL, D1_FP32, 1, c->shape, 0, &t), D1_E_INVAL);
    CK_STATUS(d1r_tensor_create(dev, D1_FP32, 1, NULL, 0, &t), D1_E_INVAL);
    CK_STATUS(d1r_tensor_create(dev, D1_FP32, 1, c->shape, 0, NULL), D1_E_INVAL);
    d1r_device_close(dev);
}
END_TEST

/* Values with ties, overflow, denormals, signed zeros and NaN for the format tests. */
static void special_values(float *x, size_t n)
{
    rt_fill(x, n, 7, -3.0f, 3.0f);
    const float sp[] = {0.0f,     -0.0f,   1.0f,     -1.0f,     1.5f,
                        1e-30f,   -1e-30f, 300.0f,   -5e5f,     1.00390625f /* bf16 tie */,
                        65504.0f, 1e38f,   INFINITY, -INFINITY, NAN,
                        0.0625f,  3.0e-5f};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0] && i < n; i++)
        x[i * 3] = sp[i];
}

static const d1_dtype conv_dtypes[] = {D1_FP32,     D1_BF16,      D1_CFP8_143,
                                       D1_CFP8_152, D1_CFP16_SHP, D1_CFP16_UHP};

/* Upload equals d1_fmt_encode element by element (RNE and SR with d1_sr_bits(seed, i)),
 * download equals d1_fmt_decode, and the flags are the OR of the element flags. */
START_TEST(upload_download_conversion)
{
    enum { N = 96 };
    d1_dtype dt = conv_dtypes[_i];
    d1r_device *dev = rt_open("cpu");
    float x[N], y[N];
    special_values(x, N);
    const int bias = d1_fmt(dt)->fixed_bias < 0 ? 9 : 0;
    const size_t es = d1_dtype_size(dt);
    for (int mode = D1_ROUND_RNE; mode <= D1_ROUND_STOCHASTIC; mode++) {
        const uint64_t seed = 0x1234u;
        d1r_tensor *t = rt_tensor(dev, dt, bias, 2, 8, 12);
        unsigned flags = 0, want_flags = 0;
        CK_OK(d1r_tensor_upload(t, x, N, (d1_round)mode, seed, &flags));
        unsigned char *raw = rt_raw(t);
        CK_OK(d1r_tensor_download(t, y, N));
        int eb = d1r_tensor_bias(t);
        for (size_t i = 0; i < N; i++) {
            uint32_t rb = mode == D1_ROUND_STOCHASTIC ? d1_sr_bits(seed, i) : 0;
            uint32_t want = d1_fmt_encode(dt, x[i], eb, (d1_round)mode, rb, &want_flags);
            uint32_t got = 0;
            memcpy(&got, raw + i * es, es); /* little-endian host */
            ck_assert_msg(got == want, "%s mode %d elem %zu (%g): code %#x, want %#x",
                          d1_dtype_name(dt), mode, i, (double)x[i], got, want);
            float dec = d1_fmt_decode(dt, want, eb);
            ck_assert(memcmp(&dec, &y[i], 4) == 0 || (isnan(dec) && isnan(y[i])));
        }
        ck_assert_uint_eq(flags, want_flags);
        if (dt == D1_FP32)
            ck_assert_int_eq(memcmp(raw, x, sizeof x), 0);
        free(raw);
        d1r_tensor_destroy(t);
    }
    d1r_device_close(dev);
}
END_TEST

START_TEST(stochastic_rounding_depends_on_seed)
{
    enum { N = 256 };
    d1r_device *dev = rt_open("cpu");
    float x[N];
    rt_fill(x, N, 3, -1.0f, 1.0f);
    d1r_tensor *a = rt_tensor(dev, D1_BF16, 0, 1, N, 0), *b = rt_tensor(dev, D1_BF16, 0, 1, N, 0);
    CK_OK(d1r_tensor_upload(a, x, N, D1_ROUND_STOCHASTIC, 1, NULL));
    CK_OK(d1r_tensor_upload(b, x, N, D1_ROUND_STOCHASTIC, 1, NULL));
    void *ra = rt_raw(a), *rb = rt_raw(b);
    ck_assert_int_eq(memcmp(ra, rb, 2 * N), 0); /* same seed: same bits */
    free(rb);
    CK_OK(d1r_tensor_upload(b, x, N, D1_ROUND_STOCHASTIC, 2, NULL));
    rb = rt_raw(b);
    ck_assert_int_ne(memcmp(ra, rb, 2 * N), 0);
    free(ra);
    free(rb);
    d1r_device_close(dev);
}
END_TEST

START_TEST(auto_bias)
{
    enum { N = 64 };
    d1r_device *dev = rt_open("cpu");
    float x[N];
    rt_fill(x, N, 5, -0.01f, 0.01f);
    d1r_tensor *t = rt_tensor(dev, D1_CFP8_143, D1R_BIAS_AUTO, 1, N, 0);
    CK_OK(d1r_tensor_upload(t, x, N, D1_ROUND_RNE, 0, NULL));
    ck_assert_int_eq(d1r_tensor_bias(t), d1_fmt_choose_bias(D1_CFP8_143, x, N));
    for (int i = 0; i < N; i++)
        x[i] *= 1000.0f;
    CK_OK(d1r_tensor_upload(t, x, N, D1_ROUND_RNE, 0, NULL));
    ck_assert_int_eq(d1r_tensor_bias(t), d1_fmt_choose_bias(D1_CFP8_143, x, N));
    float *y = rt_get(t);
    for (int i = 0; i < N; i++)
        ck_assert(fabsf(y[i] - x[i]) <= fabsf(x[i]) / 16.0f);
    free(y);
    d1r_device_close(dev);
}
END_TEST

START_TEST(raw_and_int32)
{
    d1r_device *dev = rt_open("cpu");
    d1r_tensor *l = rt_tensor(dev, D1R_INT32, 0, 1, 4, 0);
    int32_t in[4] = {3, -1, 0, 2147483647}, out[4];
    float f[4] = {0};
    CK_OK(d1r_tensor_upload_raw(l, in, sizeof in));
    CK_OK(d1r_tensor_download_raw(l, out, sizeof out));
    ck_assert_int_eq(memcmp(in, out, sizeof in), 0);
    CK_STATUS(d1r_tensor_upload(l, f, 4, D1_ROUND_RNE, 0, NULL), D1_E_DTYPE);
    CK_STATUS(d1r_tensor_download(l, f, 4), D1_E_DTYPE);
    CK_STATUS(d1r_tensor_upload_raw(l, in, sizeof in - 1), D1_E_SHAPE);
    CK_STATUS(d1r_tensor_download_raw(l, out, sizeof out + 4), D1_E_SHAPE);
    CK_STATUS(d1r_tensor_upload_raw(NULL, in, sizeof in), D1_E_INVAL);
    CK_STATUS(d1r_tensor_upload_raw(l, NULL, sizeof in), D1_E_INVAL);
    CK_STATUS(d1r_tensor_download_raw(NULL, out, sizeof out), D1_E_INVAL);
    CK_STATUS(d1r_tensor_download_raw(l, NULL, sizeof out), D1_E_INVAL);
    d1r_device_close(dev);
}
END_TEST

START_TEST(upload_errors)
{
    d1r_device *dev = rt_open("cpu");
    d1r_tensor *t = rt_tensor(dev, D1_BF16, 0, 2, 2, 3);
    float x[6] = {1, 2, 3, 4, 5, 6};
    CK_STATUS(d1r_tensor_upload(t, x, 5, D1_ROUND_RNE, 0, NULL), D1_E_SHAPE);
    CK_STATUS(d1r_tensor_upload(t, x, 7, D1_ROUND_RNE, 0, NULL), D1_E_SHAPE);
    CK_STATUS(d1r_tensor_upload(t, x, 6, (d1_round)2, 0, NULL), D1_E_INVAL);
    CK_STATUS(d1r_tensor_upload(NULL, x, 6, D1_ROUND_RNE, 0, NULL), D1_E_INVAL);
    CK_STATUS(d1r_tensor_upload(t, NULL, 6, D1_ROUND_RNE, 0, NULL), D1_E_INVAL);
    CK_STATUS(d1r_tensor_download(t, x, 5), D1_E_SHAPE);
    CK_STATUS(d1r_tensor_download(NULL, x, 6), D1_E_INVAL);
    CK_STATUS(d1r_tensor_download(t, NULL, 6), D1_E_INVAL);
    d1r_device_close(dev);
}
END_TEST

Suite *tensor_suite(void)
{
    Suite *s = suite_create("tensor");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, create_and_accessors);
    tcase_add_loop_test(tc, create_errors, 0, sizeof create_cases / sizeof create_cases[0]);
    tcase_add_loop_test(tc, upload_download_conversion, 0,
                        sizeof conv_dtypes / sizeof conv_dtypes[0]);
    tcase_add_test(tc, stochastic_rounding_depends_on_seed);
    tcase_add_test(tc, auto_bias);
    tcase_add_test(tc, raw_and_int32);
    tcase_add_test(tc, upload_errors);
    suite_add_tcase(s, tc);
    return s;
}
