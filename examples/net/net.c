/* d1 net: dispatch to the sub-commands of nets.def. */
#include "net.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} nets[] = {
#define D1_NET(name, fn, summary) {name, fn, summary},
#include "nets.def"
#undef D1_NET
};

static void usage(FILE *f)
{
    fprintf(f, "usage: d1 net <sub-command> [options]   (d1 net <sub-command> --help)\n\n"
               "Interconnect benchmarks on the simulated network on chip.\n\nsub-commands:\n");
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        fprintf(f, "  %-10s %s\n", nets[i].name, nets[i].summary);
}

int d1_cmd_net(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        if (!strcmp(argv[1], nets[i].name))
            return nets[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "d1 net: unknown sub-command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
