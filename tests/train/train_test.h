/* Shared helpers of the tests/train suites. */
#ifndef D1X_TRAIN_TEST_H
#define D1X_TRAIN_TEST_H

#include "sim/arch/status.h"

#include <check.h>
#include <stddef.h>

#define CK_STATUS(expr, want)                                                                      \
    do {                                                                                           \
        d1_status got_ = (expr);                                                                   \
        ck_assert_msg(got_ == (want), "%s: got %s (%s), want %s", #expr, d1_status_name(got_),     \
                      d1_last_error(), d1_status_name(want));                                      \
    } while (0)
#define CK_OK(expr) CK_STATUS(expr, D1_OK)

/* A fresh directory under $TMPDIR (or /tmp), removed with everything in it by tt_rmdir. */
void tt_mkdtemp(char *buf, size_t size);
void tt_rmdir(const char *dir);
/* Write a file: gzip-compressed when gz, else plain. */
void tt_write(const char *path, const void *data, size_t n, int gz);
/* Read a whole file into a NUL-terminated malloc'ed buffer (NULL if missing). */
char *tt_read(const char *path, size_t *n);

Suite *mnist_suite(void);
Suite *loop_suite(void);
Suite *cli_suite(void);

#endif
