/* d1 config: print, document and check the architecture configuration (sim/arch/config.h). */
#include "cli.h"
#include "sim/arch/config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char usage_all[] =
    "usage: d1 config dump [--config FILE ...] [--set key=value ...]\n"
    "       d1 config check FILE [--set key=value ...]\n"
    "       d1 config doc\n"
    "\n"
    "Architecture configuration: defaults, then config files, then --set overrides, in\n"
    "the order given. Keys, defaults and the file format: d1 config doc (doc/config.md).\n"
    "  dump    print the effective configuration as a config file\n"
    "  check   validate FILE (syntax, ranges, consistency rules)\n"
    "  doc     print the Markdown reference of every key (doc/config.md)\n";

static const char usage_dump[] =
    "usage: d1 config dump [--config FILE ...] [--set key=value ...]\n"
    "Print the effective configuration (defaults, then each --config FILE, then each\n"
    "--set override, in order) as `key = value  # unit [tag]` lines: a valid config file.\n"
    "The header comment carries the configuration hash. Exit 1 if the result is invalid.\n";

static const char usage_check[] =
    "usage: d1 config check FILE [--set key=value ...]\n"
    "Load FILE over the defaults (then any --set overrides) and check syntax, ranges and\n"
    "the consistency rules. Prints \"FILE: ok (hash 0x...)\" or one error line; exit 0/1.\n";

static const char usage_doc[] =
    "usage: d1 config doc\n"
    "Print the Markdown reference of every configuration key, generated from\n"
    "sim/arch/config.def (the content of doc/config.md).\n";

/* Apply --config FILE / --set k=v options (both also as --opt=value) from argv[1..] in
 * order; cfg NULL = only check the command line. Positional arguments are stored in *pos
 * (at most npos). Returns 0 or the exit code (message printed). */
static int apply_args(const char *cmd, d1_config *cfg, int argc, char **argv, int allow_config,
                      const char **pos, int npos, int *got)
{
    *got = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        int is_set = 1, m = d1_cli_opt(cmd, "--set", argc, argv, &i, &val);
        if (!m && allow_config) {
            is_set = 0;
            m = d1_cli_opt(cmd, "--config", argc, argv, &i, &val);
        }
        if (m < 0)
            return 1;
        if (!m && a[0] == '-' && a[1]) {
            fprintf(stderr, "d1 %s: unknown option '%s' (see d1 %s --help)\n", cmd, a, cmd);
            return 1;
        }
        if (!m) {
            if (*got >= npos) {
                fprintf(stderr, "d1 %s: unexpected argument '%s' (see d1 %s --help)\n", cmd, a,
                        cmd);
                return 1;
            }
            pos[(*got)++] = a;
            continue;
        }
        if (!cfg)
            continue; /* dry run: syntax of the command line only */
        d1_status st = is_set ? d1_config_set(cfg, val) : d1_config_load_file(cfg, val);
        if (st)
            return d1_cli_fail(cmd, st);
    }
    return 0;
}

static int cmd_dump(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage_dump, stdout);
        return 0;
    }
    d1_config cfg;
    int got, rc;
    d1_status st = d1_config_init(&cfg);
    if (st)
        return d1_cli_fail("config dump", st);
    rc = apply_args("config dump", &cfg, argc, argv, 1, NULL, 0, &got);
    if (!rc && (st = d1_config_validate(&cfg)))
        rc = d1_cli_fail("config dump", st);
    if (!rc)
        d1_config_dump(&cfg, stdout);
    d1_config_fini(&cfg);
    return rc;
}

static int cmd_check(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage_check, stdout);
        return 0;
    }
    d1_config cfg;
    const char *file = NULL;
    int got, rc;
    d1_status st = d1_config_init(&cfg);
    if (st)
        return d1_cli_fail("config check", st);
    /* FILE is loaded first so that every --set overrides it. */
    rc = apply_args("config check", NULL, argc, argv, 0, &file, 1, &got);
    if (!rc && !got) {
        fprintf(stderr, "d1 config check: missing FILE (see d1 config check --help)\n");
        rc = 1;
    }
    if (!rc && (st = d1_config_load_file(&cfg, file)))
        rc = d1_cli_fail("config check", st);
    if (!rc)
        rc = apply_args("config check", &cfg, argc, argv, 0, &file, 1, &got);
    if (!rc && (st = d1_config_validate(&cfg)))
        rc = d1_cli_fail("config check", st);
    if (!rc)
        printf("%s: ok (hash 0x%016" PRIx64 ")\n", file, d1_config_hash(&cfg));
    d1_config_fini(&cfg);
    return rc;
}

static int cmd_doc(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage_doc, stdout);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "d1 config doc: unexpected argument '%s' (see d1 config doc --help)\n",
                argv[1]);
        return 1;
    }
    d1_config_write_doc(stdout);
    return 0;
}

int d1_cmd_config(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
    } subs[] = {{"check", cmd_check}, {"doc", cmd_doc}, {"dump", cmd_dump}};
    if (argc < 2) {
        fprintf(stderr, "d1 config: missing subcommand: dump, check or doc (see d1 config "
                        "--help)\n");
        return 1;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        fputs(usage_all, stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(argv[1], subs[i].name))
            return subs[i].fn(argc - 1, argv + 1);
    fprintf(stderr,
            "d1 config: unknown subcommand '%s': dump, check or doc (see d1 config "
            "--help)\n",
            argv[1]);
    return 1;
}
