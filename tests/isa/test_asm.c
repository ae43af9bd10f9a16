/* The assembler (sim/elf/asm.c): programs, labels, directives, pseudo-instructions, and
 * every error message with its line number. */
#include "isa_test.h"
#include "test_main.h"

#include "sim/arch/formats.h"
#include "sim/elf/asm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static d1s_kernel *assemble(const char *src)
{
    d1s_kernel *k = NULL;
    d1_status s = d1s_asm_string(src, "t.s", &t_chip, &k);
    ck_assert_msg(s == D1_OK, "%s", d1_last_error());
    return k;
}

static uint32_t word_of(const char *insn)
{
    uint32_t w;
    ck_assert_msg(d1s_asm_insn(insn, 0, &w) == D1_OK, "%s: %s", insn, d1_last_error());
    return w;
}

/* Execute the integer subset used by li/la expansions. */
static int64_t run_scalar(const d1s_program *p, int reg)
{
    uint64_t x[32] = {0};
    for (size_t i = 0; i < p->n_words; i++) {
        d1_insn in;
        ck_assert_int_eq(d1_insn_decode(p->words[i], &in), D1_OK);
        uint64_t r;
        switch (in.op) {
        case D1_OP_ADDI: r = x[in.b] + (uint64_t)in.imm; break;
        case D1_OP_ORI: r = x[in.b] | (uint64_t)in.imm; break;
        case D1_OP_SLLI: r = x[in.b] << (in.imm & 63); break;
        case D1_OP_LUI: r = (uint64_t)in.imm << 13; break;
        case D1_OP_HALT: continue;
        default: ck_abort_msg("unexpected op %d", in.op); return 0;
        }
        if (in.a)
            x[in.a] = r;
    }
    return (int64_t)x[reg];
}

START_TEST(li_expansion_values)
{
    static const int64_t fixed[] = {0, 1, -1, 8191, 8192, -8192, -8193, 0x1fff, 0x2000,
                                    INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1,
                                    (int64_t)INT32_MIN - 1, INT64_MAX, INT64_MIN,
                                    0x123456789abcdef0, -0x123456789abcdef0, 0x3fff << 14};
    uint64_t seed = 99;
    for (int i = 0; i < 400; i++) {
        int64_t v;
        if (i < (int)(sizeof fixed / sizeof fixed[0]))
            v = fixed[i];
        else
            v = (int64_t)(t_rand(&seed) >> (t_rand(&seed) % 64));
        if (i % 2)
            v = (int64_t)(0 - (uint64_t)v);
        char src[160];
        snprintf(src, sizeof src, ".program p\nli x7, %lld\nhalt\n", (long long)v);
        d1s_kernel *k = assemble(src);
        const d1s_program *p = d1s_kernel_program(k, 0);
        ck_assert(p->n_words >= 2 && p->n_words <= 9);
        ck_assert_msg(run_scalar(p, 7) == v, "li %lld", (long long)v);
        d1s_kernel_destroy(k);
    }
}
END_TEST

START_TEST(la_and_labels)
{
    d1s_kernel *k = assemble(".program p\n"
                             ".data 0x4000\n"
                             "d0: .word 1\n"
                             "d1: .word 2\n"
                             ".text\n"
                             "    la x3, d1\n"
                             "    la x4, end\n"
                             "    la x5, d0 + 0x10000\n"
                             "end: halt\n");
    const d1s_program *p = d1s_kernel_program(k, 0);
    ck_assert_uint_eq(p->n_words, 7);
    ck_assert_int_eq(run_scalar(p, 3), 0x4004);
    ck_assert_int_eq(run_scalar(p, 4), 24);
    ck_assert_int_eq(run_scalar(p, 5), 0x14000);
    d1s_kernel_destroy(k);
}
END_TEST

START_TEST(branches_forward_and_back)
{
    d1s_kernel *k = assemble(".program p   # comment\n"
                             "top:\n"
                             "  beq x1, x2, fwd ; comment\n"
                             "  nop\n"
                             "fwd: bne x1, x2, top\n"
                             "  jal x1, top\n"
                             "  j fwd\n"
                             "  BLT x3, x4, 0x0\n"
                             "  halt\n");
    const d1s_program *p = d1s_kernel_program(k, 0);
    ck_assert_uint_eq(p->n_words, 7);
    ck_assert_uint_eq(p->words[0], word_of("beq x1, x2, 8"));
    uint32_t w;
    ck_assert_int_eq(d1s_asm_insn("bne x1, x2, 0", 8, &w), D1_OK);
    ck_assert_uint_eq(p->words[2], w);
    ck_assert_int_eq(d1s_asm_insn("jal x1, 0", 12, &w), D1_OK);
    ck_assert_uint_eq(p->words[3], w);
    ck_assert_int_eq(d1s_asm_insn("jal x0, 8", 16, &w), D1_OK);
    ck_assert_uint_eq(p->words[4], w);
    ck_assert_int_eq(d1s_asm_insn("blt x3, x4, 0", 20, &w), D1_OK);
    ck_assert_uint_eq(p->words[5], w);
    ck_assert_str_eq(d1s_kernel_code_label(k, 0, 0), "top");
    ck_assert_str_eq(d1s_kernel_code_label(k, 0, 8), "fwd");
    d1s_kernel_destroy(k);
}
END_TEST

START_TEST(pseudo_instructions)
{
    d1s_kernel *k = assemble(".program p\n"
                             "a: mv x3, x4\n"
                             "   j a\n"
                             "   call a\n"
                             "   ret\n"
                             "   beqz x5, a\n"
                             "   bnez x6, a\n");
    const d1s_program *p = d1s_kernel_program(k, 0);
    ck_assert_uint_eq(p->n_words, 6);
    ck_assert_uint_eq(p->words[0], word_of("addi x3, x4, 0"));
    uint32_t w;
    ck_assert_int_eq(d1s_asm_insn("jal x0, 0", 4, &w), D1_OK);
    ck_assert_uint_eq(p->words[1], w);
    ck_assert_int_eq(d1s_asm_insn("jal x1, 0", 8, &w), D1_OK);
    ck_assert_uint_eq(p->words[2], w);
    ck_assert_uint_eq(p->words[3], word_of("jalr x0, x1, 0"));
    ck_assert_int_eq(d1s_asm_insn("beq x5, x0, 0", 16, &w), D1_OK);
    ck_assert_uint_eq(p->words[4], w);
    ck_assert_int_eq(d1s_asm_insn("bne x6, x0, 0", 20, &w), D1_OK);
    ck_assert_uint_eq(p->words[5], w);
    d1s_kernel_destroy(k);
}
END_TEST

START_TEST(data_directives)
{
    d1s_kernel *k = assemble(".equ BASE, 0x100\n"
                             ".equ TWO, 1 + 1\n"
                             ".program p\n"
                             ".place all\n"
                             ".data BASE * 2\n"
                             "b: .byte 1, -1, 255, TWO\n"
                             "   .half 0x1234, -2\n"
                             "   .align 8\n"
                             "w: .word 0xdeadbeef, -1\n"
                             "   .dword -2, (1 << 40) | 5\n"
                             "   .float 1.5, -0.0\n"
                             "   .bf16 1.0, 3.0e38\n"
                             "   .zero 3\n"
                             "   .align 4\n"
                             "e:\n"
                             ".text\n"
                             "   .word 0x40000000\n"
                             "   nop\n"
                             "   .align 16\n"
                             "   halt\n");
    ck_assert_uint_eq(d1s_kernel_image_count(k), 1);
    const d1s_image *im = d1s_kernel_image(k, 0);
    ck_assert_uint_eq(im->addr, 0x200);
    static const uint8_t want[] = {
        1, 0xff, 0xff, 2, 0x34, 0x12, 0xfe, 0xff,             /* bytes, halves */
        0xef, 0xbe, 0xad, 0xde, 0xff, 0xff, 0xff, 0xff,       /* words */
        0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,       /* dword -2 */
        5, 0, 0, 0, 0, 1, 0, 0,                               /* dword */
        0, 0, 0xc0, 0x3f, 0, 0, 0, 0x80,                      /* floats */
        0x80, 0x3f, 0x62, 0x7f,                               /* bf16 1.0, 3e38 (RNE) */
        0, 0, 0, 0};                                          /* zero 3 + align 4 */
    ck_assert_uint_eq(im->size, sizeof want);
    ck_assert_uint_eq(d1_bf16_from_f32(3.0e38f), 0x7f62);
    ck_assert_mem_eq(im->bytes, want, sizeof want);
    const d1s_program *p = d1s_kernel_program(k, 0);
    ck_assert_uint_eq(p->n_words, 5); /* word, nop, 2 nops of padding, halt */
    ck_assert_uint_eq(p->words[0], 0x40000000);
    ck_assert_uint_eq(p->words[2], 0);
    ck_assert_uint_eq(p->words[4], 0x40000000);
    /* data labels are SRAM addresses */
    int found = 0;
    for (size_t i = 0; i < d1s_kernel_symbol_count(k); i++) {
        const d1s_symbol *s = d1s_kernel_symbol(k, i);
        if (!strcmp(s->name, "w")) {
            ck_assert_int_eq(s->kind, D1S_SYM_DATA);
            ck_assert_uint_eq(s->value, 0x208);
            found++;
        }
        if (!strcmp(s->name, "e")) {
            ck_assert_uint_eq(s->value, 0x200 + sizeof want);
            found++;
        }
    }
    ck_assert_int_eq(found, 2);
    const d1s_placement *pl = d1s_kernel_placement(k, 0);
    ck_assert_uint_eq(pl->node_first, 0);
    ck_assert_uint_eq(pl->node_last, D1S_NODE_LAST);
    d1s_kernel_destroy(k);
}
END_TEST

START_TEST(placements_and_image_sharing)
{
    d1s_kernel *k = assemble(".program a\n"
                             ".data 0x0\n"
                             "  .word 1            # shared by both .place of a\n"
                             ".place 0-9, 20\n"
                             ".data 0x100\n"
                             "  .word 2            # only nodes 0-9 and 20\n"
                             ".place 30-39\n"
                             ".data 0x100\n"
                             "  .word 3            # only nodes 30-39 (may reuse 0x100)\n"
                             ".text\n"
                             "  nop\n"
                             "s: halt\n"
                             ".entry s\n"
                             ".program b\n"
                             ".place 10-19, 21-29, 40\n"
                             "  halt\n");
    ck_assert_uint_eq(d1s_kernel_program_count(k), 2);
    ck_assert_uint_eq(d1s_kernel_program(k, 0)->entry, 4);
    ck_assert_uint_eq(d1s_kernel_placement_count(k), 6);
    static const struct {
        uint32_t first, last, prog;
        uint64_t entry;
        size_t n;
        uint32_t img[2];
    } want[] = {{0, 9, 0, 4, 2, {0, 1}},   {20, 20, 0, 4, 2, {0, 1}}, {30, 39, 0, 4, 2, {0, 2}},
                {10, 19, 1, 0, 0, {0, 0}}, {21, 29, 1, 0, 0, {0, 0}}, {40, 40, 1, 0, 0, {0, 0}}};
    for (size_t i = 0; i < 6; i++) {
        const d1s_placement *pl = d1s_kernel_placement(k, i);
        ck_assert_uint_eq(pl->node_first, want[i].first);
        ck_assert_uint_eq(pl->node_last, want[i].last);
        ck_assert_uint_eq(pl->program, want[i].prog);
        ck_assert_uint_eq(pl->entry, want[i].entry);
        ck_assert_uint_eq(pl->n_images, want[i].n);
        for (size_t j = 0; j < want[i].n; j++)
            ck_assert_uint_eq(pl->images[j], want[i].img[j]);
    }
    ck_assert_int_eq(d1s_kernel_find_placement(k, 20, 354), 1);
    ck_assert_int_eq(d1s_kernel_find_placement(k, 25, 354), 4);
    ck_assert_int_eq(d1s_kernel_find_placement(k, 41, 354), -1);
    d1s_kernel_destroy(k);
}
END_TEST

START_TEST(hello_sample)
{
    d1s_kernel *k = NULL;
    d1s_target tile = {8850, 1310720, 0};
    d1_status s = d1s_asm_file(D1_TEST_DATA "/hello.s", &tile, &k);
    ck_assert_msg(s == D1_OK, "%s", d1_last_error());
    ck_assert_uint_eq(d1s_kernel_program_count(k), 2);
    ck_assert_int_eq(d1s_kernel_find_program(k, "tail"), 1);
    ck_assert_uint_eq(d1s_kernel_placement_count(k), 2);
    ck_assert_uint_eq(d1s_kernel_placement(k, 1)->node_last, 8849);
    d1s_kernel_destroy(k);
    ck_assert_int_eq(d1s_asm_file(D1_TEST_DATA "/no-such-file.s", &tile, &k), D1_E_IO);
}
END_TEST

/* The example of the assembler's doc section assembles. */
START_TEST(doc_example_assembles)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    ck_assert_ptr_nonnull(f);
    d1s_asm_write_doc(f);
    fclose(f);
    char *start = strstr(buf, "### Example\n\n```\n");
    ck_assert_ptr_nonnull(start);
    start += strlen("### Example\n\n```\n");
    char *end = strstr(start, "```");
    ck_assert_ptr_nonnull(end);
    *end = '\0';
    d1s_kernel *k = assemble(start);
    ck_assert_uint_eq(d1s_kernel_program_count(k), 1);
    d1s_kernel_destroy(k);
    free(buf);
}
END_TEST

START_TEST(single_insn_errors)
{
    uint32_t w;
    ck_assert_int_eq(d1s_asm_insn("nop x1", 0, &w), D1_E_ASM);
    ck_assert_str_eq(d1_last_error(), "'nop' takes 0 operands (none), got 1");
    ck_assert_int_eq(d1s_asm_insn("li x1, 5", 0, &w), D1_E_ASM);
    ck_assert_str_eq(d1_last_error(),
                     "'li' is a pseudo-instruction (only machine instructions here)");
}
END_TEST

/* Every assembler error: source, exact message. */
static const struct {
    const char *src;
    const char *msg;
} errors[] = {
    {".program p\n  vaddf v1, v2, v3\n",
     "t.s:2: unknown mnemonic 'vaddf' (did you mean 'vadd.f'?)"},
    {".program p\n  frobnicate x1\n", "t.s:2: unknown mnemonic 'frobnicate'"},
    {".program p\n.palce 1\n", "t.s:2: unknown directive '.palce' (did you mean '.place'?)"},
    {".program p\n  add x1, x2\n", "t.s:2: 'add' takes 3 operands (rd, rs1, rs2), got 2"},
    {".program p\n  halt x1\n", "t.s:2: 'halt' takes 0 operands (none), got 1"},
    {".program p\n  add x1, v3, x2\n",
     "t.s:2: operand 2 of 'add' must be a scalar register x0..x31, got 'v3'"},
    {".program p\n  add x1, x32, x2\n",
     "t.s:2: operand 2 of 'add' must be a scalar register x0..x31, got 'x32'"},
    {".program p\n  mzero m8\n",
     "t.s:2: operand 1 of 'mzero' must be an accumulator m0..m7, got 'm8'"},
    {".program p\n  vadd.f v1, x2, v3\n",
     "t.s:2: operand 2 of 'vadd.f' must be a vector register v0..v31, got 'x2'"},
    {".program p\n  swait x1, 1\n",
     "t.s:2: operand 1 of 'swait' must be a semaphore s0..s31, got 'x1'"},
    {".program p\n  addi x1, x2, 9000\n",
     "t.s:2: immediate 9000 out of range -8192..8191 for 'addi'"},
    {".program p\n  andi x1, x2, -1\n",
     "t.s:2: immediate -1 out of range 0..16383 for 'andi'"},
    {".program p\n  swait s1, 0\n", "t.s:2: immediate 0 out of range 1..16383 for 'swait'"},
    {".program p\n  vext x1, v2, 16\n", "t.s:2: immediate 16 out of range 0..15 for 'vext'"},
    {".program p\n  ld x1, 8192(x2)\n", "t.s:2: immediate 8192 out of range -8192..8191 for 'ld'"},
    {".program p\n  ld x1, 8(v2)\n",
     "t.s:2: base of a memory operand must be a scalar register x0..x31, got 'v2'"},
    {".program p\n  ld x1, x2\n", "t.s:2: expected a memory operand imm(xN), got 'x2'"},
    {".program p\n  csrr x1, bogus\n", "t.s:2: unknown CSR 'bogus'"},
    {".program p\n  csrw cycle, x1\n", "t.s:2: CSR 'cycle' is read-only"},
    {".program p\n  beq x1, x2, nowhere\n", "t.s:2: undefined symbol 'nowhere'"},
    {".program p\n  beq x1, x2, 6\n", "t.s:2: target '6' (0x6) is not 4-byte aligned"},
    {".program p\n  beq x1, x2, 0x10000\n",
     "t.s:2: target '0x10000' out of range for 'beq' (16384 instructions, limit -8192..8191)"},
    {".program p\n  addi x1, x2, 1 +\n", "t.s:2: missing value"},
    {".program p\n  addi x1, x2, 1 / 0\n", "t.s:2: division by zero"},
    {".program p\n  addi x1, x2, (1\n", "t.s:2: missing ')' in expression"},
    {".program p\n  addi x1, x2, 12ab\n", "t.s:2: malformed number '12ab'"},
    {".program p\n  addi x1, x2, 1 2\n", "t.s:2: unexpected '2' after expression"},
    {".program p\n  add x1,, x2\n", "t.s:2: empty operand"},
    {".program p\na: nop\n\na: halt\n", "t.s:4: duplicate symbol 'a' (first defined at line 2)"},
    {".equ a, 1\n.program p\na: halt\n",
     "t.s:3: duplicate symbol 'a' (first defined at line 1)"},
    {".program p\nx3: halt\n", "t.s:2: 'x3' is a register or CSR name and cannot be a symbol"},
    {"  nop\n", "t.s:1: instruction before any .program"},
    {"a: nop\n", "t.s:1: label before any .program"},
    {".place 0\n", "t.s:1: .place before any .program"},
    {"# nothing\n", "t.s: no .program in the source"},
    {".program p\n.program p\n", "t.s:2: duplicate program 'p' (first at line 1)"},
    {".program 9p\n", "t.s:1: bad program name '9p'"},
    {".program p\n.program q\n  halt\n", "t.s:1: program 'p' has no instructions"},
    {".program p\n.place 354\n  halt\n", "t.s:2: node 354 out of range 0-353"},
    {".program p\n.place 5-2\n  halt\n", "t.s:2: empty node range '5-2'"},
    {".program p\n.place 0-9\n.program q\n.place 5\n  halt\n",
     "t.s:4: node 5 already placed (program 'p', line 2)"},
    {".program p\n.place 3, 1-4\n  halt\n", "t.s:2: node 3 already placed (program 'p', line 2)"},
    {".program p\n.place all\n.program q\n.place 300\n  halt\n",
     "t.s:4: node 300 already placed (program 'p', line 2)"},
    {".program p\n.place\n", "t.s:2: '.place' needs node ranges (all, N, A-B, lists with commas)"},
    {".program p\n.data 0x140000\n", "t.s:2: data address 0x140000 outside SRAM (1310720 bytes)"},
    {".program p\n.data 0x13fffe\n.word 1\n",
     "t.s:3: data at 0x13fffe ends beyond SRAM (1310720 bytes)"},
    {".program p\n.byte 1\n", "t.s:2: '.byte' outside a .data region"},
    {".program p\n.data 0\n.byte 256\n", "t.s:3: value 256 does not fit in 1 byte"},
    {".program p\n.data 0\n.half -32769\n", "t.s:3: value -32769 does not fit in 2 bytes"},
    {".program p\n.data 0\n.float 1.0x\n", "t.s:3: bad floating-point value '1.0x'"},
    {".program p\n.data 0\n.word\n", "t.s:3: '.word' needs at least one value"},
    {".program p\n.data 0\n  nop\n", "t.s:3: instruction 'nop' inside a .data region (use .text)"},
    {".program p\n.word 0xff000000\n",
     "t.s:2: '.word' in code: unknown opcode 0xff in word 0xff000000"},
    {".program p\n.align 3\n", "t.s:2: '.align' needs a power of two up to 1048576, got 3"},
    {".program p\n.place 0\n.data 0x10\n.zero 8\n.data 0x14\n.word 1\n.text\nhalt\n",
     "t.s:5: data [0x14, 0x18) overlaps data of line 3 on the same nodes"},
    {".program p\n.entry start\n  halt\n", "t.s:2: undefined entry label 'start'"},
    {".program p\n.data 0\nd: .word 0\n.text\n.entry d\n  halt\n",
     "t.s:5: entry 'd' is not a code label of program 'p'"},
    {".program p\n.entry a\n.entry a\na: halt\n",
     "t.s:3: second .entry for program 'p' (first at line 2)"},
    {".program p\n  halt\nend:\n.entry end\n", "t.s:4: entry 'end' is past the end of program 'p'"},
    {".program p\n  li x1, later\nlater: halt\n", "t.s:2: undefined symbol 'later'"},
    {".program p\n  la x1, 0x100000000\n",
     "t.s:2: 'la' value 0x100000000 does not fit in 32 bits (use li)"},
    {".program p\n  mv x1\n", "t.s:2: 'mv' takes 2 operands (rd, rs), got 1"},
    {".program p\n  ret x1\n", "t.s:2: 'ret' takes 0 operands (none), got 1"},
    {".equ N\n", "t.s:1: '.equ' takes 2 operands (NAME, VALUE), got 1"},
    {".equ N, M\n", "t.s:1: undefined symbol 'M'"},
    {".program p\n.data 0\n.zero -1\n", "t.s:3: '.zero' count -1 out of range"},
    {".program p\n  addi x1, x2, 0x1_0000_0000_0000_0000\n", "t.s:2: number too large"},
};

START_TEST(error_messages)
{
    d1s_kernel *k = NULL;
    d1_clear_error();
    d1_status s = d1s_asm_string(errors[_i].src, "t.s", &t_chip, &k);
    ck_assert_msg(s == D1_E_ASM, "case %d: status %d (%s)", _i, s, d1_last_error());
    ck_assert_ptr_null(k);
    ck_assert_str_eq(d1_last_error(), errors[_i].msg);
}
END_TEST

Suite *asm_suite(void)
{
    Suite *s = suite_create("asm");
    TCase *tc = tcase_create("assemble");
    tcase_add_test(tc, li_expansion_values);
    tcase_add_test(tc, la_and_labels);
    tcase_add_test(tc, branches_forward_and_back);
    tcase_add_test(tc, pseudo_instructions);
    tcase_add_test(tc, data_directives);
    tcase_add_test(tc, placements_and_image_sharing);
    tcase_add_test(tc, hello_sample);
    tcase_add_test(tc, single_insn_errors);
    tcase_add_test(tc, doc_example_assembles);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_loop_test(tc, error_messages, 0, (int)(sizeof errors / sizeof errors[0]));
    suite_add_tcase(s, tc);
    return s;
}
