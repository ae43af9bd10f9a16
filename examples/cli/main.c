/* d1: one command-line tool for the simulator, runtime and benchmarks (like git). */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
#define D1_CMD(name, fn, summary) {name, fn, summary},
#include "commands.def"
#undef D1_CMD
};

static void usage(FILE *f)
{
    fprintf(f, "usage: d1 <command> [options]   (d1 <command> --help for details)\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
}

int d1_cli_fail(const char *cmd, d1_status s)
{
    const char *detail = d1_last_error();
    fprintf(stderr, "d1 %s: %s%s%s\n", cmd, d1_status_message(s), detail[0] ? ": " : "",
            detail);
    return 1;
}

int d1_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    return 0;
}

int d1_cli_parse_i64(const char *cmd, const char *what, const char *s, long long lo,
                     long long hi, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = s ? strtoll(s, &end, 0) : 0;
    if (!s || !*s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "d1 %s: %s must be an integer in [%lld, %lld], got '%s'\n", cmd, what,
                lo, hi, s ? s : "(missing)");
        return -1;
    }
    *out = v;
    return 0;
}

int d1_cmd_version(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        printf("usage: d1 version\nPrint the version of the d1 tool.\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "d1 version: unexpected argument '%s'\n", argv[1]);
        return 1;
    }
    printf("d1 %s\n", D1_VERSION);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "d1: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
