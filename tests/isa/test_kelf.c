/* The kernel model/emitter (emit.c) and the ELF kernel binary (kelf.c): write -> read round
 * trips, and malformed files, each rejected with D1_E_ELF and a message, never a crash. */
#include "isa_test.h"
#include "test_main.h"

#include "sim/elf/asm.h"
#include "sim/elf/kelf.h"

#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char sample[] = ".equ N, 4\n"
                             ".program main\n"
                             ".data 0x100\n"
                             "shared: .word 1, 2, 3, 4\n"
                             ".place 0-99\n"
                             ".data 0x200\n"
                             "own: .dword -1\n"
                             ".place 100-199\n"
                             ".text\n"
                             "start: li x1, N\n"
                             "loop: addi x1, x1, -1\n"
                             "      bnez x1, loop\n"
                             "      halt\n"
                             ".entry loop\n"
                             ".program other\n"
                             ".place 300-all_end\n"
                             "      trap 1\n";

static d1s_kernel *sample_kernel(void)
{
    d1s_kernel *k = NULL;
    /* "all_end" is not a number: use a concrete range instead */
    char src[sizeof sample + 16];
    snprintf(src, sizeof src, "%s", sample);
    char *p = strstr(src, "300-all_end");
    memcpy(p, "300-353    ", 11);
    d1_status s = d1s_asm_string(src, "sample.s", &t_chip, &k);
    ck_assert_msg(s == D1_OK, "%s", d1_last_error());
    return k;
}

static void *write_mem(const d1s_kernel *k, size_t *n)
{
    void *buf = NULL;
    d1_status s = d1s_kelf_write_mem(k, &buf, n);
    ck_assert_msg(s == D1_OK, "%s", d1_last_error());
    return buf;
}

/* Offset in the file of section `name`'s header (hdr) and data (data). */
static void find_section(const void *buf, size_t n, const char *name, size_t *hdr, size_t *data)
{
    ck_assert(elf_version(EV_CURRENT) != EV_NONE);
    char *copy = malloc(n);
    memcpy(copy, buf, n);
    Elf *e = elf_memory(copy, n);
    ck_assert_ptr_nonnull(e);
    size_t shstrndx, shnum;
    ck_assert_int_eq(elf_getshdrstrndx(e, &shstrndx), 0);
    ck_assert_int_eq(elf_getshdrnum(e, &shnum), 0);
    GElf_Ehdr eh;
    ck_assert_ptr_nonnull(gelf_getehdr(e, &eh));
    int found = 0;
    for (size_t i = 1; i < shnum; i++) {
        GElf_Shdr sh;
        gelf_getshdr(elf_getscn(e, i), &sh);
        if (!strcmp(elf_strptr(e, shstrndx, sh.sh_name), name)) {
            *hdr = eh.e_shoff + i * sizeof(Elf64_Shdr);
            *data = sh.sh_offset;
            found = 1;
        }
    }
    elf_end(e);
    free(copy);
    ck_assert_msg(found, "no section %s", name);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* Read buf and expect D1_E_ELF with `want` in the message. */
static void expect_bad(const void *buf, size_t n, const d1s_target *t, const char *want)
{
    d1s_kernel *k = NULL;
    d1_clear_error();
    d1_status s = d1s_kelf_read_mem(buf, n, t, &k);
    ck_assert_msg(s == D1_E_ELF, "status %d (%s), want '%s'", s, d1_last_error(), want);
    ck_assert_ptr_null(k);
    ck_assert_msg(strstr(d1_last_error(), want), "message '%s' lacks '%s'", d1_last_error(),
                  want);
}

START_TEST(round_trip_sample)
{
    d1s_kernel *k = sample_kernel(), *r = NULL;
    size_t n;
    void *buf = write_mem(k, &n);
    ck_assert_int_eq(d1s_kelf_read_mem(buf, n, &t_chip, &r), D1_OK);
    ck_assert(d1s_kernel_equal(k, r));
    d1s_kernel_destroy(r);
    r = NULL;
    ck_assert_int_eq(d1s_kelf_read_mem(buf, n, NULL, &r), D1_OK);
    ck_assert(d1s_kernel_equal(k, r));
    d1s_kernel_destroy(r);
    free(buf);
    d1s_kernel_destroy(k);
}
END_TEST

START_TEST(round_trip_file_and_hello)
{
    d1s_target tile = {8850, 1310720, 77};
    d1s_kernel *k = NULL, *r = NULL;
    ck_assert_int_eq(d1s_asm_file(D1_TEST_DATA "/hello.s", &tile, &k), D1_OK);
    char path[] = "/tmp/d1-kelf-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(d1s_kelf_write_file(k, path), D1_OK);
    ck_assert_int_eq(d1s_kelf_read_file(path, &tile, &r), D1_OK);
    ck_assert(d1s_kernel_equal(k, r));
    d1s_kernel_destroy(r);
    unlink(path);
    ck_assert_int_eq(d1s_kelf_read_file(path, &tile, &r), D1_E_IO);
    ck_assert_int_eq(d1s_kelf_write_file(k, "/nonexistent-dir/x.elf"), D1_E_IO);
    d1s_kernel_destroy(k);
}
END_TEST

/* A kernel built with the emitter only (the compiler's path), including the edge cases:
 * a program-wide placement, an empty image, symbols in data, patched branches. */
START_TEST(round_trip_emitter)
{
    d1s_target t = {1000, 65536, 0};
    d1s_kernel *k, *r = NULL;
    ck_assert_int_eq(d1s_kernel_create(&t, &k), D1_OK);
    uint32_t p0, p1, i0, i1, pl;
    ck_assert_int_eq(d1s_kernel_add_program(k, "gemm_8x8", &p0), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_program(k, "comm.thread", &p1), D1_OK);
    uint64_t seed = 1;
    for (int i = 0; i < 500; i++) {
        d1_insn in = t_random_insn((d1_op)(t_rand(&seed) % D1_OP_COUNT), &seed);
        ck_assert_int_eq(d1s_kernel_emit(k, i % 3 ? p0 : p1, &in), D1_OK);
    }
    d1_insn br = {.op = D1_OP_BEQ, .a = 1, .b = 2, .imm = 3};
    ck_assert_int_eq(d1s_kernel_patch(k, p0, 8, &br), D1_OK);
    ck_assert_int_eq(d1s_kernel_set_entry(k, p1, 12), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_image(k, 0x100, "abc", 3, &i0), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_image(k, 0x8000, NULL, 0, &i1), D1_OK);
    ck_assert_int_eq(d1s_kernel_image_append(k, i1, NULL, 100), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_placement(k, 0, 499, p0, 0, &pl), D1_OK);
    ck_assert_int_eq(d1s_kernel_placement_add_image(k, pl, i0), D1_OK);
    ck_assert_int_eq(d1s_kernel_placement_add_image(k, pl, i1), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_placement(k, 500, D1S_NODE_LAST, p1, 4, &pl), D1_OK);
    ck_assert_int_eq(d1s_kernel_placement_add_image(k, pl, i1), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_symbol(k, "buf", D1S_SYM_DATA, i1, 0x8010), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_symbol(k, "top", D1S_SYM_CODE, p0, 0), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_symbol(k, "top", D1S_SYM_CODE, p1, 4), D1_OK);
    ck_assert_int_eq(d1s_kernel_validate(k), D1_OK);
    size_t n;
    void *buf = write_mem(k, &n);
    ck_assert_int_eq(d1s_kelf_read_mem(buf, n, NULL, &r), D1_OK);
    ck_assert(d1s_kernel_equal(k, r));
    ck_assert_int_eq(d1s_kernel_find_placement(r, 999, 1000), 1);
    /* a smaller runner: the "last node" placement still fits, node 499 does not matter */
    d1s_target small = {600, 65536, 0};
    d1s_kernel_destroy(r);
    r = NULL;
    ck_assert_int_eq(d1s_kelf_read_mem(buf, n, &small, &r), D1_OK);
    d1s_kernel_destroy(r);
    free(buf);
    d1s_kernel_destroy(k);
}
END_TEST

START_TEST(emitter_errors)
{
    d1s_target t = {10, 4096, 0};
    d1s_kernel *k;
    uint32_t p, img, pl;
    ck_assert_int_eq(d1s_kernel_create(&t, &k), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_program(k, "9bad", &p), D1_E_INVAL);
    ck_assert_int_eq(d1s_kernel_add_program(k, "", &p), D1_E_INVAL);
    ck_assert_int_eq(d1s_kernel_add_program(k, "p", &p), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_program(k, "p", &p), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "duplicate program 'p'");
    /* empty program */
    ck_assert_int_eq(d1s_kernel_validate(k), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "program 'p' has no instructions");
    d1_insn bad = {.op = D1_OP_ADD, .a = 32};
    ck_assert_int_eq(d1s_kernel_emit(k, 0, &bad), D1_E_RANGE);
    ck_assert_int_eq(d1s_kernel_emit_word(k, 0, 0xff000000u), D1_E_INVAL);
    ck_assert_int_eq(d1s_kernel_emit_word(k, 5, 0), D1_E_INVAL);
    ck_assert_int_eq(d1s_kernel_emit_word(k, 0, 0x40000000u), D1_OK);
    d1_insn nop = {.op = D1_OP_NOP};
    ck_assert_int_eq(d1s_kernel_patch(k, 0, 4, &nop), D1_E_INVAL);
    ck_assert_int_eq(d1s_kernel_add_placement(k, 0, 4, 3, 0, &pl), D1_E_INVAL);
    ck_assert_int_eq(d1s_kernel_add_placement(k, 4, 0, 0, 0, &pl), D1_E_INVAL);
    ck_assert_int_eq(d1s_kernel_add_placement(k, 0, 4, 0, 0, &pl), D1_OK);
    ck_assert_int_eq(d1s_kernel_placement_add_image(k, pl, 0), D1_E_INVAL);
    ck_assert_int_eq(d1s_kernel_add_symbol(k, "a b", D1S_SYM_CODE, 0, 0), D1_E_INVAL);
    ck_assert_int_eq(d1s_kernel_validate(k), D1_OK);

    /* each rule of validate, then the writer refuses */
    ck_assert_int_eq(d1s_kernel_add_placement(k, 4, 6, 0, 0, &pl), D1_OK);
    ck_assert_int_eq(d1s_kernel_validate(k), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "placements 0 and 1 overlap: node 4 placed twice");
    void *buf;
    size_t n;
    ck_assert_int_eq(d1s_kelf_write_mem(k, &buf, &n), D1_E_ELF);
    d1s_kernel_destroy(k);

    ck_assert_int_eq(d1s_kernel_create(&t, &k), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_program(k, "p", &p), D1_OK);
    ck_assert_int_eq(d1s_kernel_emit(k, p, &nop), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_placement(k, 5, 10, p, 0, &pl), D1_OK);
    ck_assert_int_eq(d1s_kernel_validate(k), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "placement 0: node range 5-10 outside nodes 0-9");
    d1s_kernel_destroy(k);

    ck_assert_int_eq(d1s_kernel_create(&t, &k), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_program(k, "p", &p), D1_OK);
    ck_assert_int_eq(d1s_kernel_emit(k, p, &nop), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_placement(k, 0, 0, p, 4, &pl), D1_OK);
    ck_assert_int_eq(d1s_kernel_validate(k), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "placement 0 entry 0x4 outside program 'p' (4 bytes)");
    d1s_kernel_destroy(k);

    ck_assert_int_eq(d1s_kernel_create(&t, &k), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_program(k, "p", &p), D1_OK);
    ck_assert_int_eq(d1s_kernel_emit(k, p, &nop), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_image(k, 4000, NULL, 100, &img), D1_OK);
    ck_assert_int_eq(d1s_kernel_validate(k), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "data image 0 [0xfa0, +100) outside SRAM (4096 bytes)");
    d1s_kernel_destroy(k);

    ck_assert_int_eq(d1s_kernel_create(&t, &k), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_program(k, "p", &p), D1_OK);
    ck_assert_int_eq(d1s_kernel_emit(k, p, &nop), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_image(k, 0, NULL, 8, &img), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_image(k, 4, NULL, 8, &img), D1_OK);
    ck_assert_int_eq(d1s_kernel_add_placement(k, 0, 0, p, 0, &pl), D1_OK);
    ck_assert_int_eq(d1s_kernel_placement_add_image(k, pl, 0), D1_OK);
    ck_assert_int_eq(d1s_kernel_placement_add_image(k, pl, 1), D1_OK);
    ck_assert_int_eq(d1s_kernel_validate(k), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "placement 0: data images 0 and 1 overlap in SRAM");
    d1s_kernel_destroy(k);
}
END_TEST

START_TEST(readelf_fields)
{
    d1s_kernel *k = sample_kernel();
    size_t n;
    uint8_t *b = write_mem(k, &n);
    ck_assert_uint_eq(b[EI_CLASS], ELFCLASS64);
    ck_assert_uint_eq(b[EI_DATA], ELFDATA2LSB);
    ck_assert_uint_eq(b[EI_OSABI], ELFOSABI_STANDALONE);
    ck_assert_uint_eq(b[16] | b[17] << 8, ET_EXEC);
    ck_assert_uint_eq(b[18] | b[19] << 8, D1S_KELF_EM);
    size_t h, d;
    find_section(b, n, ".note.d1", &h, &d);
    ck_assert_mem_eq(b + d + 12, "D1\0", 4);
    find_section(b, n, ".text.main", &h, &d);
    find_section(b, n, ".text.other", &h, &d);
    find_section(b, n, ".data.1", &h, &d);
    ck_assert_uint_eq(b[d], 0xff);
    free(b);
    d1s_kernel_destroy(k);
}
END_TEST

START_TEST(truncated_everywhere)
{
    d1s_kernel *k = sample_kernel();
    size_t n;
    uint8_t *b = write_mem(k, &n);
    for (size_t len = 0; len < n; len++) {
        uint8_t *cut = malloc(len ? len : 1); /* exact size: ASan sees any overread */
        memcpy(cut, b, len);
        d1s_kernel *r = NULL;
        d1_status s = d1s_kelf_read_mem(cut, len, &t_chip, &r);
        /* the tail after the last section header may be padding: a cut there must still
         * fail because the section header table is last */
        ck_assert_msg(s == D1_E_ELF, "truncated at %zu of %zu: status %d", len, n, s);
        ck_assert_ptr_null(r);
        free(cut);
    }
    free(b);
    d1s_kernel_destroy(k);
}
END_TEST

START_TEST(byte_flips_never_crash)
{
    d1s_kernel *k = sample_kernel();
    size_t n;
    uint8_t *b = write_mem(k, &n);
    uint8_t *x = malloc(n);
    int ok = 0, bad = 0;
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < n; i++)
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(x, b, n);
            x[i] ^= masks[m];
            d1s_kernel *r = NULL;
            d1_status s = d1s_kelf_read_mem(x, n, &t_chip, &r);
            ck_assert_msg(s == D1_OK || s == D1_E_ELF, "flip at %zu: status %d", i, s);
            if (s == D1_OK)
                ok++, d1s_kernel_destroy(r);
            else
                bad++;
        }
    ck_assert_int_gt(bad, 0);
    free(x);
    free(b);
    d1s_kernel_destroy(k);
}
END_TEST

/* Targeted corruptions, each with its message. */
START_TEST(malformed_cases)
{
    d1s_kernel *k = sample_kernel();
    size_t n, h, d;
    uint8_t *b = write_mem(k, &n);
    uint8_t *x = malloc(n);
#define FRESH() memcpy(x, b, n)

    FRESH();
    expect_bad(x, 3, NULL, "not an ELF file");
    FRESH();
    x[1] = 'X';
    expect_bad(x, n, NULL, "not an ELF file");
    FRESH();
    x[EI_CLASS] = ELFCLASS32;
    expect_bad(x, n, NULL, "not ELF64");
    FRESH();
    x[EI_DATA] = ELFDATA2MSB;
    expect_bad(x, n, NULL, "not little-endian");
    FRESH();
    x[EI_OSABI] = ELFOSABI_NONE;
    expect_bad(x, n, NULL, "OS ABI 0 is not ELFOSABI_STANDALONE");
    FRESH();
    x[18] = 0x3e, x[19] = 0; /* EM_X86_64 */
    expect_bad(x, n, NULL, "machine 0x3e is not D1");
    FRESH();
    x[16] = ET_DYN;
    expect_bad(x, n, NULL, "ELF type 3 is not ET_EXEC");
    FRESH();
    expect_bad(x, 40, NULL, "truncated ELF header");

    /* note */
    find_section(b, n, ".note.d1", &h, &d);
    FRESH();
    x[d + 12] = 'X';
    expect_bad(x, n, NULL, "owner name is not \"D1\"");
    FRESH();
    put32(x + d + 16, 2);
    expect_bad(x, n, NULL, "unsupported kernel format version 2");
    FRESH();
    put32(x + d + 8, 1);
    expect_bad(x, n, NULL, "bad .note.d1: descriptor size 24, type 0x1");
    FRESH();
    put32(x + d + 20, 0);
    expect_bad(x, n, NULL, "node count 0");
    FRESH();
    {
        d1s_target other = t_chip;
        other.config_hash ^= 1;
        expect_bad(x, n, &other, "built for another configuration");
        other.config_hash = 0; /* unknown: not checked */
        d1s_kernel *r = NULL;
        ck_assert_int_eq(d1s_kelf_read_mem(x, n, &other, &r), D1_OK);
        d1s_kernel_destroy(r);
    }
    /* node count / SRAM of the runner */
    {
        d1s_target small = t_chip;
        small.node_count = 150;
        expect_bad(x, n, &small, "node range 100-199 outside nodes 0-149");
        small = t_chip;
        small.sram_bytes = 0x204;
        expect_bad(x, n, &small, "outside SRAM (516 bytes)");
    }

    /* placements: layout u32 first, last, program, dfirst, dcount, 0, u64 entry */
    find_section(b, n, ".d1.place", &h, &d);
    FRESH();
    put32(x + d + 8, 5);
    expect_bad(x, n, NULL, "placement 0 references missing program 5");
    FRESH();
    put32(x + d + 32, 50); /* placement 1 starts inside placement 0 */
    expect_bad(x, n, NULL, "placements 0 and 1 overlap: node 50 placed twice");
    FRESH();
    put32(x + d + 4, 400);
    expect_bad(x, n, NULL, "node range 0-400 outside nodes 0-353");
    FRESH();
    put64(x + d + 24, 0x1000);
    expect_bad(x, n, NULL, "entry 0x1000 outside program 'main'");
    FRESH();
    put64(x + d + 24, 2);
    expect_bad(x, n, NULL, "entry 0x2 outside program 'main'");
    FRESH();
    put32(x + d + 16, 1000);
    expect_bad(x, n, NULL, "outside .d1.dlist");
    FRESH();
    put32(x + d + 20, 1);
    expect_bad(x, n, NULL, "reserved field not zero");
    find_section(b, n, ".d1.dlist", &h, &d);
    FRESH();
    put32(x + d, 9);
    expect_bad(x, n, NULL, "references missing data image 9");

    /* programs and code */
    find_section(b, n, ".d1.prog", &h, &d);
    FRESH();
    put64(x + d + 8, 400);
    expect_bad(x, n, NULL, "program 'main': entry 0x190 outside the program");
    FRESH();
    put32(x + d + 4, 1);
    expect_bad(x, n, NULL, "section 1 is not a .text section");
    find_section(b, n, ".text.main", &h, &d);
    FRESH();
    put32(x + d + 4, 0xff000000u);
    expect_bad(x, n, NULL,
               "program 'main' offset 0x4: undecodable word: unknown opcode 0xff in word "
               "0xff000000");
    FRESH();
    put32(x + d, 0x01000001u);
    expect_bad(x, n, NULL, "program 'main' offset 0x0: undecodable word: nonzero unused bits");
    /* misaligned section: shift the code section's file offset by 2 */
    FRESH();
    put64(x + h + 24, d + 2);
    expect_bad(x, n, NULL, "misaligned section");
    /* section data past the end of the file */
    FRESH();
    put64(x + h + 32, n);
    expect_bad(x, n, NULL, "ends past the end of the file");

    /* images: the table address must match the section */
    find_section(b, n, ".d1.image", &h, &d);
    FRESH();
    put64(x + d + 8, 0x10);
    expect_bad(x, n, NULL, "type/address mismatch");
    /* image outside SRAM: table and section header together */
    {
        size_t h1, d1;
        find_section(b, n, ".data.0", &h1, &d1);
        FRESH();
        put64(x + d + 8, 0x13fffc);
        put64(x + h1 + 16, 0x13fffc); /* sh_addr */
        expect_bad(x, n, NULL, "data image 0 [0x13fffc, +16) outside SRAM (1310720 bytes)");
    }

    /* symbol table / string table */
    find_section(b, n, ".strtab", &h, &d);
    FRESH();
    {
        size_t sz = 0;
        /* size of .strtab: read back from the header */
        for (int i = 0; i < 8; i++)
            sz |= (size_t)x[h + 32 + i] << (8 * i);
        x[d + sz - 1] = 'x';
        expect_bad(x, n, NULL, ".strtab is not NUL-terminated");
    }
    find_section(b, n, ".symtab", &h, &d);
    FRESH();
    put32(x + h + 40, 3); /* sh_link */
    expect_bad(x, n, NULL, ".symtab is not linked to .strtab");

    /* a required section renamed away */
    find_section(b, n, ".shstrtab", &h, &d);
    FRESH();
    {
        uint8_t *p = memmem(x + d, n - d, ".d1.place", 9);
        ck_assert_ptr_nonnull(p);
        p[1] = 'X';
        expect_bad(x, n, NULL, "unexpected section '.X1.place'");
    }
    /* section header table out of the file */
    FRESH();
    put64(x + 40, n);
    expect_bad(x, n, NULL, "section headers end past the end of the file");
    FRESH();
    put64(x + 40, 0x41);
    expect_bad(x, n, NULL, "misaligned section header table");
    FRESH();
    x[60] = 0, x[61] = 0;
    expect_bad(x, n, NULL, "no section headers");
    FRESH();
    x[56] = 2;
    expect_bad(x, n, NULL, "expected one program header");
#undef FRESH
    free(x);
    free(b);
    d1s_kernel_destroy(k);
}
END_TEST

Suite *kelf_suite(void)
{
    Suite *s = suite_create("kelf");
    TCase *tc = tcase_create("roundtrip");
    tcase_add_test(tc, round_trip_sample);
    tcase_add_test(tc, round_trip_file_and_hello);
    tcase_add_test(tc, round_trip_emitter);
    tcase_add_test(tc, emitter_errors);
    tcase_add_test(tc, readelf_fields);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, truncated_everywhere);
    tcase_add_test(tc, byte_flips_never_crash);
    tcase_add_test(tc, malformed_cases);
    suite_add_tcase(s, tc);
    return s;
}
