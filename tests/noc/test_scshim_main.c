/* Check runner of the SystemC shim (one simulation per forked test). */
#include "test_main.h"

Suite *scshim_suite(void);

D1_TEST_MAIN(scshim_suite)
