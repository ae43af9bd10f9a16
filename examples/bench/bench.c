/* `d1 bench`: dispatch to a sub-benchmark by name (rows of benches.def). */
#include "bench.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} benches[] = {
#define D1_BENCH(name, fn, summary) {name, fn, summary},
#include "benches.def"
#undef D1_BENCH
};

static void usage(FILE *f)
{
    fprintf(f, "usage: d1 bench <benchmark> [options]   (d1 bench <benchmark> --help)\n\n"
               "Benchmarks print medians of several runs and ratios measured side by side.\n\n"
               "benchmarks:\n");
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        fprintf(f, "  %-12s %s\n", benches[i].name, benches[i].summary);
}

int d1_cmd_bench(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        if (!strcmp(argv[1], benches[i].name))
            return benches[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "d1 bench: unknown benchmark '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
