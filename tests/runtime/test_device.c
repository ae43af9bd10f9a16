/* Devices: open strings, close, sync, backend names. */
#include "helpers.h"

#include <string.h>

START_TEST(open_cpu)
{
    d1r_device *dev = rt_open("cpu");
    ck_assert_str_eq(d1r_device_backend_name(dev), "cpu");
    CK_OK(d1r_device_sync(dev));
    d1r_device_close(dev);
    d1r_device_close(NULL);
}
END_TEST

static const char *const sim_specs[] = {"sim", "sim:chip", "sim:tile", "sim:configs/d1.cfg"};

/* The sim backend (runtime/sim): the chip and tile specs open; a config file that does not
 * exist is D1_E_IO and leaves *out untouched. */
START_TEST(open_sim)
{
    d1r_device *dev = (d1r_device *)&dev; /* must stay untouched on failure */
    if (_i == 3) {
        CK_STATUS(d1r_device_open(sim_specs[_i], &dev), D1_E_IO);
        ck_assert_ptr_eq(dev, (d1r_device *)&dev);
        ck_assert_ptr_nonnull(strstr(d1_last_error(), "configs/d1.cfg"));
        return;
    }
    CK_OK(d1r_device_open(sim_specs[_i], &dev));
    ck_assert_str_eq(d1r_device_backend_name(dev), "sim");
    d1r_device_close(dev);
}
END_TEST

static const char *const bad_specs[] = {"", "gpu", "cpu:0", "CPU", "cpux", "simx", "sim:", " cpu"};

START_TEST(open_unknown)
{
    d1r_device *dev = NULL;
    CK_STATUS(d1r_device_open(bad_specs[_i], &dev), D1_E_INVAL);
    ck_assert_ptr_null(dev);
}
END_TEST

START_TEST(open_null)
{
    d1r_device *dev = NULL;
    CK_STATUS(d1r_device_open(NULL, &dev), D1_E_INVAL);
    CK_STATUS(d1r_device_open("cpu", NULL), D1_E_INVAL);
    CK_STATUS(d1r_device_sync(NULL), D1_E_INVAL);
    ck_assert_ptr_null(d1r_device_backend_name(NULL));
}
END_TEST

/* Closing a device destroys its live tensors (ASan/valgrind would report a leak). */
START_TEST(close_with_live_tensors)
{
    d1r_device *dev = rt_open("cpu");
    d1r_tensor *a = rt_tensor(dev, D1_FP32, 0, 2, 3, 4);
    rt_tensor(dev, D1_BF16, 0, 1, 7, 0);
    rt_tensor(dev, D1_CFP8_143, 5, 2, 2, 2);
    d1r_tensor_destroy(a);
    d1r_tensor_destroy(NULL);
    d1r_device_close(dev);
}
END_TEST

START_TEST(op_names)
{
    ck_assert_str_eq(d1r_op_name(D1R_OP_MATMUL), "matmul");
    ck_assert_str_eq(d1r_op_name(D1R_OP_SOFTMAX_XENT_BACKWARD), "softmax_xent_backward");
    ck_assert_str_eq(d1r_op_name(D1R_OP_SGD_MOMENTUM), "sgd_momentum");
    ck_assert_ptr_null(d1r_op_name(D1R_OP_COUNT));
    ck_assert_ptr_null(d1r_op_name((d1r_op)-1));
    for (int op = 0; op < D1R_OP_COUNT; op++)
        ck_assert_ptr_nonnull(d1r_op_name((d1r_op)op));
}
END_TEST

/* Op classes for time breakdowns: matmul, cast = data movement, the rest elementwise. */
START_TEST(op_classes)
{
    ck_assert_int_eq(d1r_op_class_of(D1R_OP_MATMUL), D1R_CLASS_MATMUL);
    ck_assert_int_eq(d1r_op_class_of(D1R_OP_CAST), D1R_CLASS_DATA_MOVEMENT);
    ck_assert_int_eq(d1r_op_class_of(D1R_OP_RELU), D1R_CLASS_ELEMENTWISE);
    ck_assert_int_eq(d1r_op_class_of(D1R_OP_SGD_MOMENTUM), D1R_CLASS_ELEMENTWISE);
    ck_assert_int_eq(d1r_op_class_of(D1R_OP_COUNT), D1R_CLASS_COUNT);
    ck_assert_str_eq(d1r_op_class_name(D1R_CLASS_MATMUL), "matmul");
    ck_assert_str_eq(d1r_op_class_name(D1R_CLASS_ELEMENTWISE), "elementwise");
    ck_assert_str_eq(d1r_op_class_name(D1R_CLASS_DATA_MOVEMENT), "data movement");
    ck_assert_ptr_null(d1r_op_class_name(D1R_CLASS_COUNT));
}
END_TEST

/* The cpu device models no device time: device_ns and the mxu_ counters stay 0. */
START_TEST(cpu_no_device_time)
{
    d1r_device *dev = rt_open("cpu");
    d1r_tensor *x = rt_tensor(dev, D1_FP32, 0, 2, 4, 8);
    d1r_tensor *y = rt_tensor(dev, D1_FP32, 0, 2, 4, 8);
    CK_OK(d1r_relu(dev, x, y));
    d1r_op_stats s;
    CK_OK(d1r_device_stats(dev, D1R_OP_RELU, &s));
    ck_assert_uint_eq(s.count, 1);
    ck_assert_uint_eq(s.device_ns, 0);
    ck_assert_uint_eq(s.mxu_ops, 0);
    ck_assert_uint_eq(s.mxu_slots, 0);
    d1r_device_close(dev);
}
END_TEST

Suite *device_suite(void)
{
    Suite *s = suite_create("device");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, open_cpu);
    tcase_add_loop_test(tc, open_sim, 0, sizeof sim_specs / sizeof sim_specs[0]);
    tcase_add_loop_test(tc, open_unknown, 0, sizeof bad_specs / sizeof bad_specs[0]);
    tcase_add_test(tc, open_null);
    tcase_add_test(tc, close_with_live_tensors);
    tcase_add_test(tc, op_names);
    tcase_add_test(tc, op_classes);
    tcase_add_test(tc, cpu_no_device_time);
    suite_add_tcase(s, tc);
    return s;
}
