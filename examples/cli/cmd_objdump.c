/* d1 objdump: show a kernel binary: header, placements, images, disassembly. */
#include "cli.h"
#include "sim/elf/kelf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: d1 objdump [--data] FILE.elf\n"
    "Validate a kernel binary (every check of the loader, against the target recorded in\n"
    "the file) and print its target, placements, data images and, per program, the\n"
    "disassembly with byte offsets, raw words and labels.\n"
    "  --data   also hex-dump the data images\n";

static void print_nodes(uint32_t first, uint32_t last)
{
    char buf[32];
    if (last == D1S_NODE_LAST)
        snprintf(buf, sizeof buf, "%" PRIu32 "-last", first);
    else if (first == last)
        snprintf(buf, sizeof buf, "%" PRIu32, first);
    else
        snprintf(buf, sizeof buf, "%" PRIu32 "-%" PRIu32, first, last);
    printf("  %-15s", buf);
}

static void hexdump(const d1s_image *im)
{
    for (size_t i = 0; i < im->size; i += 16) {
        printf("    %08" PRIx64 ": ", im->addr + i);
        for (size_t j = i; j < i + 16 && j < im->size; j++)
            printf("%02x%s", im->bytes[j], j % 4 == 3 ? " " : "");
        printf("\n");
    }
}

/* The kernel's symbols sorted by (kind, program/image, value, order in the file), so that
 * the labels of one address are found by binary search (kernels may have 100k labels). */
typedef struct sym_ref {
    const d1s_symbol *sy;
    size_t order; /* position in the file */
} sym_ref;

typedef struct sym_index {
    sym_ref *s;
    size_t n;
} sym_index;

static int sym_key_cmp(const d1s_symbol *a, d1s_sym_kind kind, uint32_t index, uint64_t value)
{
    if (a->kind != kind)
        return a->kind < kind ? -1 : 1;
    if (a->index != index)
        return a->index < index ? -1 : 1;
    return a->value < value ? -1 : a->value > value;
}

static int sym_cmp(const void *x, const void *y)
{
    const sym_ref *a = x, *b = y;
    int c = sym_key_cmp(a->sy, b->sy->kind, b->sy->index, b->sy->value);
    return c ? c : (a->order > b->order) - (a->order < b->order);
}

/* Position of the first symbol of (kind, index) with value >= value. */
static size_t sym_lower(const sym_index *ix, d1s_sym_kind kind, uint32_t index, uint64_t value)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sym_key_cmp(ix->s[mid].sy, kind, index, value) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First code label of program pi at pc (in file order), or NULL. */
static const char *code_label(const sym_index *ix, uint32_t pi, uint64_t pc)
{
    size_t i = sym_lower(ix, D1S_SYM_CODE, pi, pc);
    return i < ix->n && !sym_key_cmp(ix->s[i].sy, D1S_SYM_CODE, pi, pc) ? ix->s[i].sy->name : NULL;
}

static void disassemble(const d1s_kernel *k, const sym_index *ix, uint32_t pi)
{
    const d1s_program *p = d1s_kernel_program(k, pi);
    printf("\nProgram '%s' (.text.%s): %zu instructions, entry 0x%" PRIx64 "\n", p->name,
           p->name, p->n_words, p->entry);
    for (size_t w = 0; w < p->n_words; w++) {
        uint64_t pc = w * D1_INSN_BYTES;
        for (size_t s = sym_lower(ix, D1S_SYM_CODE, pi, pc);
             s < ix->n && !sym_key_cmp(ix->s[s].sy, D1S_SYM_CODE, pi, pc); s++)
            printf("%s:\n", ix->s[s].sy->name);
        d1_insn in = {0};
        char text[128];
        int ok = d1_insn_decode(p->words[w], &in) == D1_OK; /* the loader rejects others */
        if (!ok)
            snprintf(text, sizeof text, ".word 0x%08" PRIx32, p->words[w]);
        else
            d1_insn_disasm(&in, pc, text, sizeof text);
        printf("  %6" PRIx64 ":  %08" PRIx32 "  %s", pc, p->words[w], text);
        if (ok &&
            (d1_insn_info_of(in.op)->fmt == D1_F_B || d1_insn_info_of(in.op)->fmt == D1_F_J)) {
            const char *l = code_label(ix, pi, pc + (uint64_t)in.imm * D1_INSN_BYTES);
            if (l)
                printf(" <%s>", l);
        }
        printf("\n");
    }
}

int d1_cmd_objdump(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *file = NULL;
    int data = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data"))
            data = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "d1 objdump: unknown option '%s' (see d1 objdump --help)\n", argv[i]);
            return 1;
        } else if (file) {
            fprintf(stderr, "d1 objdump: more than one file ('%s', '%s')\n", file, argv[i]);
            return 1;
        } else
            file = argv[i];
    }
    if (!file) {
        fprintf(stderr, "d1 objdump: missing FILE.elf (see d1 objdump --help)\n");
        return 1;
    }
    d1s_kernel *k;
    d1_status st = d1s_kelf_read_file(file, NULL, &k);
    if (st)
        return d1_cli_fail("objdump", st);
    sym_index ix = {malloc((d1s_kernel_symbol_count(k) + 1) * sizeof *ix.s), 0};
    if (!ix.s) {
        d1s_kernel_destroy(k);
        return d1_cli_fail("objdump", d1_fail(D1_E_NOMEM, "symbol index: out of memory"));
    }
    for (; ix.n < d1s_kernel_symbol_count(k); ix.n++)
        ix.s[ix.n] = (sym_ref){d1s_kernel_symbol(k, ix.n), ix.n};
    qsort(ix.s, ix.n, sizeof *ix.s, sym_cmp);
    const d1s_target *t = d1s_kernel_target(k);
    printf("%s: D1 kernel binary, format version %u, machine 0x%x\n", file, D1S_KELF_VERSION,
           D1S_KELF_EM);
    printf("target: %" PRIu32 " nodes, SRAM %" PRIu64 " bytes per node, config hash 0x%016" PRIx64
           "\n",
           t->node_count, t->sram_bytes, t->config_hash);
    printf("%zu programs, %zu data images, %zu placements, %zu symbols\n",
           d1s_kernel_program_count(k), d1s_kernel_image_count(k),
           d1s_kernel_placement_count(k), d1s_kernel_symbol_count(k));
    printf("\nPlacements:\n  %-15s%-20s%-10s%s\n", "nodes", "program", "entry", "images");
    for (size_t i = 0; i < d1s_kernel_placement_count(k); i++) {
        const d1s_placement *pl = d1s_kernel_placement(k, i);
        print_nodes(pl->node_first, pl->node_last);
        printf("%-20s0x%-8" PRIx64, d1s_kernel_program(k, pl->program)->name, pl->entry);
        for (size_t j = 0; j < pl->n_images; j++)
            printf("%s%" PRIu32, j ? " " : "", pl->images[j]);
        printf("%s\n", pl->n_images ? "" : "-");
    }
    printf("\nData images:\n  %-6s%-14s%-10s%s\n", "image", "SRAM address", "bytes", "labels");
    for (size_t i = 0; i < d1s_kernel_image_count(k); i++) {
        const d1s_image *im = d1s_kernel_image(k, i);
        printf("  %-6zu0x%-12" PRIx64 "%-10zu", i, im->addr, im->size);
        for (size_t s = sym_lower(&ix, D1S_SYM_DATA, (uint32_t)i, 0);
             s < ix.n && ix.s[s].sy->kind == D1S_SYM_DATA && ix.s[s].sy->index == i; s++)
            printf("%s=0x%" PRIx64 " ", ix.s[s].sy->name, ix.s[s].sy->value);
        printf("\n");
        if (data)
            hexdump(im);
    }
    for (uint32_t i = 0; i < d1s_kernel_program_count(k); i++)
        disassemble(k, &ix, i);
    free(ix.s);
    d1s_kernel_destroy(k);
    return 0;
}
