/* Shared helpers of the runtime tests. Every helper asserts success (ck_assert). */
#ifndef D1_TEST_RT_HELPERS_H
#define D1_TEST_RT_HELPERS_H

#include "runtime/backend.h"

#include <check.h>

#define CK_OK(expr)                                                                                \
    do {                                                                                           \
        d1_status ck_st_ = (expr);                                                                 \
        ck_assert_msg(ck_st_ == D1_OK, "%s -> %s: %s", #expr, d1_status_name(ck_st_),              \
                      d1_last_error());                                                            \
    } while (0)

/* The exact status, with the detail message in the failure report. */
#define CK_STATUS(expr, want)                                                                      \
    do {                                                                                           \
        d1_status ck_st_ = (expr);                                                                 \
        ck_assert_msg(ck_st_ == (want), "%s -> %s (%s), expected %s", #expr,                       \
                      d1_status_name(ck_st_), d1_last_error(), d1_status_name(want));              \
    } while (0)

d1r_device *rt_open(const char *spec);
d1r_tensor *rt_tensor(d1r_device *dev, d1_dtype dt, int bias, int ndim, int64_t d0, int64_t d1);
/* Deterministic pseudo-random floats in [lo, hi). */
void rt_fill(float *x, size_t n, uint32_t seed, float lo, float hi);
/* Create and upload (RNE) a tensor from host values. */
d1r_tensor *rt_from(d1r_device *dev, d1_dtype dt, int bias, int ndim, int64_t d0, int64_t d1,
                    const float *x);
/* Download as FP32 into a new malloc'd array. */
float *rt_get(const d1r_tensor *t);
/* Raw bytes into a new malloc'd array. */
void *rt_raw(const d1r_tensor *t);

/* Partial test backend (partial_backend.c): stores every byte XOR 0x5A, supports relu, scale,
 * and matmul with an FP32 output; everything else must fall back to the CPU. */
d1r_device *rt_open_partial(void);

/* Its context, to inject failures and count supports() queries. */
typedef struct rt_partial {
    int queries;     /* supports() calls */
    bool fail_alloc; /* tensor_alloc -> D1_E_NOMEM */
    bool fail_get;   /* tensor_get -> D1_E_IO */
} rt_partial;
d1r_device *rt_open_partial_ctl(rt_partial **ctl);

#endif
