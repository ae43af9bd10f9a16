/* Runner boilerplate shared by every Check executable.
 * Define the suites with `Suite *name(void)` and list them in D1_TEST_MAIN(...). */
#ifndef D1_TEST_MAIN_H
#define D1_TEST_MAIN_H

#include <check.h>
#include <stdlib.h>

#define D1_TEST_MAIN(...)                                                                  \
    int main(void)                                                                         \
    {                                                                                      \
        Suite *(*suites[])(void) = {__VA_ARGS__};                                          \
        SRunner *sr = srunner_create(NULL);                                                \
        for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)                      \
            srunner_add_suite(sr, suites[i]());                                            \
        srunner_run_all(sr, CK_ENV);                                                       \
        int run = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);              \
        srunner_free(sr);                                                                  \
        if (run == 0)                                                                      \
            return 77;                                                                     \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                                       \
    }

#endif
