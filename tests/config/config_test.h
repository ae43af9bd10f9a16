/* Helpers shared by the configuration suites. */
#ifndef D1_CONFIG_TEST_H
#define D1_CONFIG_TEST_H

#include "sim/arch/config.h"

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every key of config.def, expanded here the same way the module does. */
typedef struct cfgt_key {
    const char *key;
    char type;               /* 'I', 'F' or 'S' */
    size_t off;              /* offsetof(d1_config, key) */
    const char *def_text;    /* the default as written in config.def */
    int64_t def, min, max;   /* I rows */
    double fdef, fmin, fmax; /* F rows */
    const char *unit, *tag, *doc;
} cfgt_key;

#define CFGT_I(d, lo, hi) (int64_t)(d), (int64_t)(lo), (int64_t)(hi), 0, 0, 0
#define CFGT_F(d, lo, hi) 0, 0, 0, (double)(d), (double)(lo), (double)(hi)
#define CFGT_S(d, lo, hi) 0, 0, 0, 0, 0, 0

#define CFGT_T_I 'I'
#define CFGT_T_F 'F'
#define CFGT_T_S 'S'

__attribute__((unused)) static const cfgt_key cfgt_keys[] = {
#define D1_CFG(type, key, def, min, max, unit, tag, doc)                                           \
    {#key, CFGT_T_##type, offsetof(d1_config, key), #def, CFGT_##type(def, min, max), unit, #tag,  \
     doc},
#include "sim/arch/config.def"
#undef D1_CFG
};
#define CFGT_NKEYS ((int)(sizeof cfgt_keys / sizeof cfgt_keys[0]))

/* Write text to a fresh file under /tmp; returns its path (free + unlink with cfgt_rm). */
static inline char *cfgt_file(const char *text)
{
    char *path = strdup("/tmp/d1cfgXXXXXX");
    ck_assert_ptr_nonnull(path);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t n = strlen(text);
    ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

static inline void cfgt_rm(char *path)
{
    unlink(path);
    free(path);
}

/* Load text as a file over cfg, return the status. */
static inline d1_status cfgt_load(d1_config *cfg, const char *text)
{
    char *path = cfgt_file(text);
    d1_status st = d1_config_load_file(cfg, path);
    cfgt_rm(path);
    return st;
}

/* Set and assert OK (with the detail message on failure). */
#define CFGT_SET_OK(cfg, text)                                                                     \
    do {                                                                                           \
        d1_status st_ = d1_config_set((cfg), (text));                                              \
        ck_assert_msg(st_ == D1_OK, "--set %s: %s", (text), d1_last_error());                      \
    } while (0)

/* Assert an exact status and that the detail message contains a fragment. */
#define CFGT_EXPECT(expr, status, fragment)                                                        \
    do {                                                                                           \
        d1_clear_error();                                                                          \
        d1_status st_ = (expr);                                                                    \
        ck_assert_msg(st_ == (status), "%s: got %d (%s), want %d", #expr, st_, d1_last_error(),    \
                      (status));                                                                   \
        ck_assert_msg(strstr(d1_last_error(), (fragment)) != NULL, "message '%s' lacks '%s'",      \
                      d1_last_error(), (fragment));                                                \
    } while (0)

static inline int64_t cfgt_get_i(const d1_config *c, const cfgt_key *k)
{
    return *(const int64_t *)((const char *)c + k->off);
}
static inline double cfgt_get_f(const d1_config *c, const cfgt_key *k)
{
    return *(const double *)((const char *)c + k->off);
}
static inline const char *cfgt_get_s(const d1_config *c, const cfgt_key *k)
{
    return *(char *const *)((const char *)c + k->off);
}

#endif
