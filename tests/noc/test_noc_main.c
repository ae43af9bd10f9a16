/* Check runner of the noc area: network, traffic, engine (clock, windows),
 * plotting. */
#include "test_main.h"

Suite *noc_suite(void);
Suite *traffic_suite(void);
Suite *engine_suite(void);
Suite *plot_suite(void);

D1_TEST_MAIN(noc_suite, traffic_suite, engine_suite, plot_suite)
