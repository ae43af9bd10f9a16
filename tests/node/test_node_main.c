#include "test_main.h"

Suite *insn_suite(void);
Suite *timing_suite(void);
Suite *timing2_suite(void);
Suite *trap_suite(void);
Suite *chip_suite(void);
Suite *stats_suite(void);

D1_TEST_MAIN(insn_suite, timing_suite, timing2_suite, trap_suite, chip_suite, stats_suite)
