/* Runner for the runtime suites (d1r API, dispatcher and fallback, CPU ops). */
#include "test_main.h"

Suite *device_suite(void);
Suite *tensor_suite(void);
Suite *ops_suite(void);
Suite *errors_suite(void);
Suite *fallback_suite(void);

D1_TEST_MAIN(device_suite, tensor_suite, ops_suite, errors_suite, fallback_suite)
