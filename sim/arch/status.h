/* Status codes and error detail shared by every module (prefix d1_).
 *
 * Library functions return a d1_status. On failure they also set a detail message
 * (thread-local) where the failure happened; callers pass the code up unchanged and
 * the CLI prints d1_last_error(). */
#ifndef D1_STATUS_H
#define D1_STATUS_H

#include <stdio.h>
#include <stdlib.h>

typedef enum d1_status {
#define D1_STATUS(sym, val, name, msg) sym = val,
#include "status.def"
#undef D1_STATUS
} d1_status;

/* Short stable name ("inval") and generic message for a code; "unknown" if not a code. */
const char *d1_status_name(d1_status s);
const char *d1_status_message(d1_status s);

/* Record `s` with a printf-style detail and return `s` (use: return d1_fail(...)). */
d1_status d1_fail(d1_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Detail of the most recent failure on this thread ("" if none). */
const char *d1_last_error(void);
void d1_clear_error(void);

/* Bugs in our code (never bad input): always on, abort with file:line. */
#define D1_ASSERT(cond)                                                                   \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: internal error: assertion '%s' failed\n", __FILE__,   \
                    __LINE__, #cond);                                                     \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

#endif
