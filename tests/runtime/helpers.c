#include "helpers.h"

#include <stdlib.h>

d1r_device *rt_open(const char *spec)
{
    d1r_device *dev = NULL;
    CK_OK(d1r_device_open(spec, &dev));
    return dev;
}

d1r_tensor *rt_tensor(d1r_device *dev, d1_dtype dt, int bias, int ndim, int64_t d0, int64_t d1)
{
    int64_t shape[2] = {d0, d1};
    d1r_tensor *t = NULL;
    CK_OK(d1r_tensor_create(dev, dt, ndim, shape, bias, &t));
    return t;
}

void rt_fill(float *x, size_t n, uint32_t seed, float lo, float hi)
{
    uint32_t s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * (float)(s >> 8) / 16777216.0f;
    }
}

d1r_tensor *rt_from(d1r_device *dev, d1_dtype dt, int bias, int ndim, int64_t d0, int64_t d1,
                    const float *x)
{
    d1r_tensor *t = rt_tensor(dev, dt, bias, ndim, d0, d1);
    CK_OK(d1r_tensor_upload(t, x, d1r_tensor_nelems(t), D1_ROUND_RNE, 0, NULL));
    return t;
}

float *rt_get(const d1r_tensor *t)
{
    size_t n = d1r_tensor_nelems(t);
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    CK_OK(d1r_tensor_download(t, x, n));
    return x;
}

void *rt_raw(const d1r_tensor *t)
{
    void *p = malloc(d1r_tensor_nbytes(t));
    ck_assert_ptr_nonnull(p);
    CK_OK(d1r_tensor_download_raw(t, p, d1r_tensor_nbytes(t)));
    return p;
}
