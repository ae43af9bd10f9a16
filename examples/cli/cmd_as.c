/* d1 as: assemble a kernel source into an ELF kernel binary (sim/elf/asm.h, kelf.h). */
#include "cli.h"
#include "sim/arch/config.h"
#include "sim/elf/asm.h"
#include "sim/elf/kelf.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: d1 as IN.s -o OUT.elf [--config FILE ...] [--set key=value ...]\n"
    "Assemble IN.s into a kernel binary (ELF64, see doc/isa.md). The target (node count,\n"
    "SRAM size, config hash recorded in the binary) comes from the configuration: defaults,\n"
    "then each --config FILE, then each --set override, in order.\n"
    "Errors are printed as one line, FILE:LINE: message; exit 1.\n";

int d1_cmd_as(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *in = NULL, *out = NULL;
    d1_config cfg;
    d1_status st = d1_config_init(&cfg);
    if (st)
        return d1_cli_fail("as", st);
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        static const char *const valued[] = {"-o", "--set", "--config"};
        const char *a = argv[i], *val = NULL;
        int k = 0, m = 0;
        while (k < 3 && !(m = d1_cli_opt("as", valued[k], argc, argv, &i, &val)))
            k++;
        if (m < 0)
            rc = 1;
        else if (m && k == 0)
            out = val;
        else if (m && (st = k == 1 ? d1_config_set(&cfg, val) : d1_config_load_file(&cfg, val)))
            rc = d1_cli_fail("as", st);
        else if (m)
            continue;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "d1 as: unknown option '%s' (see d1 as --help)\n", a);
            rc = 1;
        } else if (in) {
            fprintf(stderr, "d1 as: more than one input file ('%s', '%s')\n", in, a);
            rc = 1;
        } else {
            in = a;
        }
    }
    if (!rc && (!in || !out)) {
        fprintf(stderr, "d1 as: %s (see d1 as --help)\n",
                !in ? "missing input file" : "missing -o OUT.elf");
        rc = 1;
    }
    struct stat si, so;
    if (!rc && stat(in, &si) == 0 && stat(out, &so) == 0 && si.st_dev == so.st_dev &&
        si.st_ino == so.st_ino) {
        fprintf(stderr, "d1 as: output '%s' is the input file\n", out);
        rc = 1;
    }
    d1s_target t;
    d1s_kernel *k = NULL;
    if (!rc && (st = d1_config_validate(&cfg)))
        rc = d1_cli_fail("as", st);
    if (!rc && (st = d1s_target_from_config(&cfg, &t)))
        rc = d1_cli_fail("as", st);
    if (!rc && (st = d1s_asm_file(in, &t, &k)))
        rc = d1_cli_fail("as", st);
    if (!rc && (st = d1s_kelf_write_file(k, out)))
        rc = d1_cli_fail("as", st);
    d1s_kernel_destroy(k);
    d1_config_fini(&cfg);
    return rc;
}
