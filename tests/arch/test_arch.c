/* Runner for the sim/arch suites. Each module adds its suite here. */
#include "test_main.h"

Suite *status_suite(void);
Suite *formats_suite(void);

D1_TEST_MAIN(status_suite, formats_suite)
