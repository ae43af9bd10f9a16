#include "status.h"

#include <stdarg.h>
#include <string.h>

static _Thread_local char last_error[512];

const char *d1_status_name(d1_status s)
{
    switch (s) {
#define D1_STATUS(sym, val, name, msg) case sym: return name;
#include "status.def"
#undef D1_STATUS
    }
    return "unknown";
}

const char *d1_status_message(d1_status s)
{
    switch (s) {
#define D1_STATUS(sym, val, name, msg) case sym: return msg;
#include "status.def"
#undef D1_STATUS
    }
    return "unknown status";
}

d1_status d1_fail(d1_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

const char *d1_last_error(void) { return last_error; }

void d1_clear_error(void) { last_error[0] = '\0'; }
