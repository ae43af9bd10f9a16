/* Runner for the configuration suites (sim/arch/config.*). */
#include "test_main.h"

Suite *config_table_suite(void);
Suite *config_parse_suite(void);
Suite *config_validate_suite(void);

D1_TEST_MAIN(config_table_suite, config_parse_suite, config_validate_suite)
