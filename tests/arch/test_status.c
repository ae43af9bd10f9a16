#include "test_main.h"

#include "sim/arch/status.h"

#include <string.h>

START_TEST(status_names_and_messages)
{
    ck_assert_str_eq(d1_status_name(D1_OK), "ok");
    ck_assert_str_eq(d1_status_name(D1_E_CONFIG), "config");
    ck_assert_str_eq(d1_status_message(D1_E_NOMEM), "out of memory");
    ck_assert_str_eq(d1_status_name((d1_status)12345), "unknown");
}
END_TEST

START_TEST(fail_sets_detail)
{
    d1_clear_error();
    ck_assert_str_eq(d1_last_error(), "");
    ck_assert_int_eq(d1_fail(D1_E_SHAPE, "A is %dx%d", 3, 4), D1_E_SHAPE);
    ck_assert_str_eq(d1_last_error(), "A is 3x4");
}
END_TEST

Suite *status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, status_names_and_messages);
    tcase_add_test(tc, fail_sets_detail);
    suite_add_tcase(s, tc);
    return s;
}
