/* Helpers shared by the noc-area test files. */
#ifndef D1_TEST_NOC_HARNESS_H
#define D1_TEST_NOC_HARNESS_H

#include "sim/noc/noc.h"

/* Defaults plus "key=value" overrides (NULL-terminated list, may be NULL). */
void noc_test_cfg(d1_config *cfg, const char *const *sets);
/* d1s_noc_create that must succeed. */
d1s_noc *noc_test_make(const d1_config *cfg, const d1s_noc_mesh *mesh);

#endif
