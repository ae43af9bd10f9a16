/* d1 isa: the instruction set reference and single-instruction tools. */
#include "cli.h"
#include "sim/arch/isa.h"
#include "sim/elf/asm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: d1 isa doc                 print the Markdown ISA reference (doc/isa.md)\n"
    "       d1 isa decode WORD...      disassemble 32-bit instruction words (hex)\n"
    "       d1 isa encode 'INSN'       assemble one instruction (targets absolute, pc 0)\n"
    "The ISA comes from one table, sim/arch/isa.def.\n";

int d1_cmd_isa(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "d1 isa: missing subcommand: doc, decode or encode (see d1 isa --help)\n");
        return 1;
    }
    if (!strcmp(argv[1], "doc")) {
        if (argc > 2) {
            fprintf(stderr, "d1 isa doc: unexpected argument '%s'\n", argv[2]);
            return 1;
        }
        d1_isa_write_doc(stdout);
        d1s_asm_write_doc(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "decode")) {
        if (argc < 3) {
            fprintf(stderr, "d1 isa decode: missing WORD\n");
            return 1;
        }
        for (int i = 2; i < argc; i++) {
            const char *hex = argv[i];
            if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
                hex += 2;
            size_t nd = strspn(hex, "0123456789abcdefABCDEF");
            char *end;
            errno = 0;
            unsigned long long w = nd ? strtoull(hex, &end, 16) : 0;
            if (!nd || hex[nd] || errno || w > 0xffffffffull) {
                fprintf(stderr, "d1 isa decode: '%s' is not a 32-bit hex word\n", argv[i]);
                return 1;
            }
            d1_insn in;
            d1_status st = d1_insn_decode((uint32_t)w, &in);
            if (st)
                return d1_cli_fail("isa decode", st);
            char text[128];
            d1_insn_disasm(&in, 0, text, sizeof text);
            printf("%08llx  %s\n", w, text);
        }
        return 0;
    }
    if (!strcmp(argv[1], "encode")) {
        if (argc != 3) {
            fprintf(stderr, "d1 isa encode: want one quoted instruction\n");
            return 1;
        }
        uint32_t w;
        d1_status st = d1s_asm_insn(argv[2], 0, &w);
        if (st)
            return d1_cli_fail("isa encode", st);
        printf("%08" PRIx32 "\n", w);
        return 0;
    }
    fprintf(stderr, "d1 isa: unknown subcommand '%s': doc, decode or encode\n", argv[1]);
    return 1;
}
