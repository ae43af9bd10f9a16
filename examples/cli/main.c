/* d1: one command-line tool for the simulator, runtime and benchmarks (like git). */
#include "cli.h"

#include <ctype.h>
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

int d1_cli_opt(const char *cmd, const char *opt, int argc, char **argv, int *i,
               const char **val)
{
    const char *a = argv[*i];
    size_t l = strlen(opt);
    if (strncmp(a, opt, l) || (a[l] != '\0' && a[l] != '='))
        return 0;
    if (a[l] == '=')
        *val = a + l + 1;
    else if (*i + 1 < argc)
        *val = argv[++*i];
    else {
        fprintf(stderr, "d1 %s: %s needs a value\n", cmd, opt);
        return -1;
    }
    return 1;
}

int d1_cli_parse_i64(const char *cmd, const char *what, const char *s, long long lo,
                     long long hi, long long *out)
{
    /* decimal (a leading 0 is not octal: 010 is ten, as in config files) or 0x hex; no
     * blanks, no '+' */
    char *end = NULL;
    long long v = 0;
    int ok = s && (s[0] == '-' ? isdigit((unsigned char)s[1]) : isdigit((unsigned char)s[0]));
    if (ok) {
        const char *digits = s[0] == '-' ? s + 1 : s;
        int hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
        errno = 0;
        v = strtoll(s, &end, hex ? 16 : 10);
        ok = !*end && !errno && (!hex || isxdigit((unsigned char)digits[2]));
    }
    if (!ok || v < lo || v > hi) {
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

/* Output written to a full disk or a closed descriptor is an error, not a silent success. */
static int check_stdout(int rc)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "d1: error writing standard output%s%s\n", errno ? ": " : "",
                errno ? strerror(errno) : "");
        return rc ? rc : 1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "help") && argc == 3) { /* d1 help CMD = d1 CMD --help */
        char *args[] = {argv[2], "--help", NULL};
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[2], commands[i].name))
                return check_stdout(commands[i].fn(2, args));
        fprintf(stderr, "d1 help: unknown command '%s'\n", argv[2]);
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        if (argc > 2 && strcmp(argv[1], "help")) {
            fprintf(stderr, "d1: unexpected argument '%s' after %s\n", argv[2], argv[1]);
            return 2;
        }
        if (argc > 3) {
            fprintf(stderr, "d1 help: want at most one command, got '%s' '%s'\n", argv[2],
                    argv[3]);
            return 2;
        }
        usage(stdout);
        return check_stdout(0);
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return check_stdout(commands[i].fn(argc - 1, argv + 1));
    fprintf(stderr, "d1: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
