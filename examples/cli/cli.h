/* Shared helpers for d1 subcommands. */
#ifndef D1_CLI_H
#define D1_CLI_H

#include "sim/arch/status.h"

#define D1_CMD(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef D1_CMD

/* Print "d1 <cmd>: <message>: <d1_last_error()>" to stderr and return exit code 1. */
int d1_cli_fail(const char *cmd, d1_status s);
/* True if argv contains -h or --help. */
int d1_cli_wants_help(int argc, char **argv);
/* Option OPT with a value, as `OPT VALUE` or `OPT=VALUE`, at argv[*i]: 1 with *val set
 * (and *i advanced past a separate value), 0 if argv[*i] is something else, -1 if the value
 * is missing (message printed). */
int d1_cli_opt(const char *cmd, const char *opt, int argc, char **argv, int *i,
               const char **val);
/* Parse a whole decimal (leading zeros allowed, not octal) or 0x-hex integer in [lo, hi];
 * on error print a message, return -1. */
int d1_cli_parse_i64(const char *cmd, const char *what, const char *s, long long lo,
                     long long hi, long long *out);

#endif
