/* The ISA table, encoder, decoder and disassembler (sim/arch/isa.c), iterated over every
 * row of isa.def, plus the assembler's single-instruction path for the round trip. */
#include "isa_test.h"
#include "test_main.h"

#include "sim/elf/asm.h"

#include <string.h>

static int reg_limit(d1_opnd_kind k)
{
    return k == D1_OPND_MREG ? 8 : 32;
}

d1_insn t_random_insn(d1_op op, uint64_t *seed)
{
    const d1_insn_fmt *f = d1_insn_fmt_of(d1_insn_info_of(op)->fmt);
    d1_insn in = {.op = op};
    uint8_t *fld[3] = {&in.a, &in.b, &in.c};
    for (int i = 0; i < f->n_opnds; i++) {
        d1_opnd_kind k = f->opnd[i].kind;
        uint64_t r = t_rand(seed);
        switch (k) {
        case D1_OPND_XREG:
        case D1_OPND_VREG:
        case D1_OPND_MREG:
        case D1_OPND_SREG:
            *fld[f->opnd[i].field] = (uint8_t)(r % (uint64_t)reg_limit(k));
            break;
        case D1_OPND_MEM:
            *fld[f->opnd[i].field] = (uint8_t)(r % 32);
            r = t_rand(seed);
            /* fall through */
        case D1_OPND_IMM:
        case D1_OPND_LABEL: {
            uint64_t span = (uint64_t)(f->imm_max - f->imm_min) + 1;
            switch (r % 8) { /* edges often */
            case 0: in.imm = f->imm_min; break;
            case 1: in.imm = f->imm_max; break;
            default: in.imm = f->imm_min + (int64_t)(t_rand(seed) % span); break;
            }
            break;
        }
        case D1_OPND_CSR: {
            int n;
            do
                n = (int)(r++ % 16);
            while (!d1_csr_name(n) || (f == d1_insn_fmt_of(D1_F_CW) && !d1_csr_writable(n)));
            in.imm = n;
            break;
        }
        }
    }
    return in;
}

/* Bits of the word a format uses (fields a/b/c, immediate). */
static uint32_t used_mask(const d1_insn_fmt *f)
{
    static const uint32_t fm[3] = {0x1fu << 19, 0x1fu << 14, 0x1fu << 9};
    uint32_t m = 0;
    for (int i = 0; i < f->n_opnds; i++) {
        if (f->opnd[i].kind == D1_OPND_MEM)
            m |= fm[D1_FLD_B];
        else if (f->opnd[i].field != D1_FLD_IMM)
            m |= fm[f->opnd[i].field];
    }
    if (f->imm_bits)
        m |= (1u << f->imm_bits) - 1;
    return m;
}

START_TEST(table_rows_are_consistent)
{
    for (int op = 0; op < D1_OP_COUNT; op++) {
        const d1_insn_info *in = d1_insn_info_of((d1_op)op);
        ck_assert_ptr_nonnull(in);
        ck_assert_int_eq(d1_op_from_mnemonic(in->mnemonic), op);
        ck_assert_int_eq(d1_op_from_opcode(in->opcode), op);
        ck_assert_ptr_nonnull(d1_insn_fmt_of(in->fmt));
        ck_assert_ptr_nonnull(d1_fmt_syntax(in->fmt));
        ck_assert_ptr_nonnull(d1_unit_name(in->unit));
        ck_assert_ptr_nonnull(d1_lat_name(in->lat));
        ck_assert_msg(in->lat == D1_LAT_0 || d1_lat_config_key(in->lat), "%s", in->mnemonic);
        const char *sem = d1_insn_semantics((d1_op)op);
        ck_assert_msg(sem && *sem, "no semantics line for '%s' in isa.c d1_insn_doc[]",
                      in->mnemonic);
    }
    ck_assert_ptr_null(d1_insn_info_of(D1_OP_COUNT));
    ck_assert_ptr_null(d1_insn_semantics(D1_OP_COUNT));
    ck_assert_int_eq(d1_op_from_mnemonic("vaddf"), -1);
    ck_assert_int_eq(d1_op_from_mnemonic(NULL), -1);
    ck_assert_ptr_null(d1_insn_fmt_of(D1_F_COUNT));
    int known = 0;
    for (int opc = 0; opc < 256; opc++)
        known += d1_op_from_opcode((uint8_t)opc) >= 0;
    ck_assert_int_eq(known, D1_OP_COUNT);
}
END_TEST

START_TEST(format_table_is_sane)
{
    for (int f = 0; f < D1_F_COUNT; f++) {
        const d1_insn_fmt *d = d1_insn_fmt_of((d1_fmt_kind)f);
        ck_assert(d->n_opnds <= 3);
        ck_assert(d->imm_bits == 0 || d->imm_bits == 14 || d->imm_bits == 19);
        int imm_opnds = 0;
        for (int i = 0; i < d->n_opnds; i++)
            imm_opnds += d->opnd[i].kind >= D1_OPND_IMM;
        ck_assert_int_eq(imm_opnds, d->imm_bits ? 1 : 0);
        if (d->imm_bits) {
            int64_t lo = d->imm_min < 0 ? -((int64_t)1 << (d->imm_bits - 1)) : 0;
            int64_t hi = d->imm_min < 0 ? ((int64_t)1 << (d->imm_bits - 1)) - 1
                                        : ((int64_t)1 << d->imm_bits) - 1;
            ck_assert(d->imm_min >= lo && d->imm_max <= hi && d->imm_min <= d->imm_max);
        }
    }
}
END_TEST

START_TEST(csr_table)
{
    ck_assert_str_eq(d1_csr_name(D1_CSR_CYCLE), "cycle");
    ck_assert_int_eq(d1_csr_from_name("srseed"), D1_CSR_SRSEED);
    ck_assert_int_eq(d1_csr_from_name("nope"), -1);
    ck_assert_int_eq(d1_csr_writable(D1_CSR_CYCLE), 0);
    ck_assert_int_eq(d1_csr_writable(D1_CSR_FFLAGS), 1);
    ck_assert_int_eq(d1_csr_writable(99), -1);
    ck_assert_ptr_null(d1_csr_name(-1));
    ck_assert_ptr_null(d1_csr_name(1000));
    ck_assert_ptr_nonnull(d1_csr_doc(D1_CSR_MFMT));
}
END_TEST

/* encode -> decode -> disassemble -> assemble -> same word, for every row (_i = op). */
START_TEST(round_trip_every_op)
{
    uint64_t seed = 0x9d1a0000u + (uint64_t)_i * 7919u + 1;
    for (int it = 0; it < 300; it++) {
        d1_insn in = t_random_insn((d1_op)_i, &seed);
        uint64_t pc = (t_rand(&seed) % (1u << 24)) * 4;
        uint32_t w, w2;
        d1_insn out;
        ck_assert_int_eq(d1_insn_encode(&in, &w), D1_OK);
        ck_assert_uint_eq(w >> 24, d1_insn_info_of((d1_op)_i)->opcode);
        ck_assert_int_eq(d1_insn_decode(w, &out), D1_OK);
        ck_assert_int_eq(out.op, in.op);
        ck_assert_uint_eq(out.a, in.a);
        ck_assert_uint_eq(out.b, in.b);
        ck_assert_uint_eq(out.c, in.c);
        ck_assert_int_eq(out.imm, in.imm);
        char text[128];
        int n = d1_insn_disasm(&out, pc, text, sizeof text);
        ck_assert_int_eq(n, (int)strlen(text));
        d1_status s = d1s_asm_insn(text, pc, &w2);
        ck_assert_msg(s == D1_OK, "'%s' at 0x%llx: %s", text, (unsigned long long)pc,
                      d1_last_error());
        ck_assert_msg(w2 == w, "'%s': %08x != %08x", text, w2, w);
    }
}
END_TEST

START_TEST(encode_range_errors_every_op)
{
    uint64_t seed = 42 + (uint64_t)_i;
    const d1_insn_fmt *f = d1_insn_fmt_of(d1_insn_info_of((d1_op)_i)->fmt);
    d1_insn base = t_random_insn((d1_op)_i, &seed);
    uint32_t w;
    int used[3] = {0, 0, 0};
    for (int i = 0; i < f->n_opnds; i++) {
        d1_opnd_kind k = f->opnd[i].kind;
        if (k == D1_OPND_MEM)
            used[D1_FLD_B] = 32;
        else if (f->opnd[i].field != D1_FLD_IMM)
            used[f->opnd[i].field] = reg_limit(k);
    }
    for (int fld = 0; fld < 3; fld++) {
        d1_insn bad = base;
        uint8_t *p = fld == 0 ? &bad.a : fld == 1 ? &bad.b : &bad.c;
        *p = used[fld] ? (uint8_t)used[fld] : 1; /* first value out of range / unused */
        d1_clear_error();
        ck_assert_int_eq(d1_insn_encode(&bad, &w), D1_E_RANGE);
        ck_assert_str_ne(d1_last_error(), "");
        *p = 255;
        ck_assert_int_eq(d1_insn_encode(&bad, &w), D1_E_RANGE);
    }
    d1_insn bad = base;
    if (f->imm_bits) {
        bad.imm = f->imm_max + 1;
        ck_assert_int_eq(d1_insn_encode(&bad, &w), D1_E_RANGE);
        bad.imm = f->imm_min - 1;
        ck_assert_int_eq(d1_insn_encode(&bad, &w), D1_E_RANGE);
        bad.imm = INT64_MIN;
        ck_assert_int_eq(d1_insn_encode(&bad, &w), D1_E_RANGE);
    } else {
        bad.imm = 1;
        ck_assert_int_eq(d1_insn_encode(&bad, &w), D1_E_RANGE);
    }
}
END_TEST

/* Every bit outside the format's fields must make the word invalid; every in-format
 * value of a field either decodes to the same word or is rejected (m8.., csr numbers). */
START_TEST(decode_unused_bits_every_op)
{
    uint64_t seed = 77 + (uint64_t)_i;
    const d1_insn_fmt *f = d1_insn_fmt_of(d1_insn_info_of((d1_op)_i)->fmt);
    uint32_t mask = used_mask(f);
    for (int it = 0; it < 20; it++) {
        d1_insn in = t_random_insn((d1_op)_i, &seed);
        uint32_t w, w2;
        ck_assert_int_eq(d1_insn_encode(&in, &w), D1_OK);
        for (int b = 0; b < 24; b++) {
            uint32_t x = w ^ (1u << b);
            d1_insn out;
            d1_status s = d1_insn_decode(x, &out);
            if (!(mask & (1u << b))) {
                ck_assert_int_eq(s, D1_E_INVAL);
                ck_assert_ptr_nonnull(strstr(d1_last_error(), "unused bits"));
            } else if (s == D1_OK) {
                ck_assert_int_eq(d1_insn_encode(&out, &w2), D1_OK);
                ck_assert_uint_eq(w2, x);
            } else {
                ck_assert_int_eq(s, D1_E_INVAL);
            }
        }
    }
}
END_TEST

START_TEST(decode_unknown_opcodes)
{
    uint64_t seed = 5;
    int unknown = 0;
    for (int opc = 0; opc < 256; opc++) {
        if (d1_op_from_opcode((uint8_t)opc) >= 0)
            continue;
        unknown++;
        for (int it = 0; it < 4; it++) {
            uint32_t w = (uint32_t)opc << 24 | (uint32_t)(it ? t_rand(&seed) & 0xffffff : 0);
            d1_insn out;
            d1_clear_error();
            ck_assert_int_eq(d1_insn_decode(w, &out), D1_E_INVAL);
            ck_assert_ptr_nonnull(strstr(d1_last_error(), "unknown opcode"));
        }
    }
    ck_assert_int_eq(unknown, 256 - D1_OP_COUNT);
}
END_TEST

START_TEST(decode_rejects_bad_values)
{
    d1_insn out;
    /* mzero m8 */
    ck_assert_int_eq(d1_insn_decode(0x92u << 24 | 8u << 19, &out), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(),
                     "word 0x92400000 (mzero): register m8 out of range (m0..m7) in field a");
    /* csrw cycle, x1: read-only CSR */
    ck_assert_int_eq(d1_insn_decode(0x43u << 24 | 1u << 14 | D1_CSR_CYCLE, &out), D1_E_INVAL);
    ck_assert_ptr_nonnull(strstr(d1_last_error(), "read-only"));
    /* csrr x1, csr 100 */
    ck_assert_int_eq(d1_insn_decode(0x42u << 24 | 1u << 19 | 100, &out), D1_E_INVAL);
    ck_assert_ptr_nonnull(strstr(d1_last_error(), "unknown CSR number 100"));
    /* swait s0, 0 */
    ck_assert_int_eq(d1_insn_decode(0x45u << 24, &out), D1_E_INVAL);
    /* vext x1, v1, 16 */
    ck_assert_int_eq(d1_insn_decode(0x63u << 24 | 1u << 19 | 1u << 14 | 16, &out), D1_E_INVAL);
    /* the all-zero word is nop */
    ck_assert_int_eq(d1_insn_decode(0, &out), D1_OK);
    ck_assert_int_eq(out.op, D1_OP_NOP);
    ck_assert_int_eq(d1_insn_decode(0x01000001, &out), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(),
                     "nonzero unused bits 0x000001 in word 0x01000001 (add, format R)");
    d1_insn bad = {.op = D1_OP_COUNT};
    uint32_t w;
    ck_assert_int_eq(d1_insn_encode(&bad, &w), D1_E_INVAL);
}
END_TEST

START_TEST(disasm_text)
{
    static const struct {
        d1_insn in;
        uint64_t pc;
        const char *text;
    } cases[] = {
        {{D1_OP_ADD, 1, 2, 3, 0}, 0, "add x1, x2, x3"},
        {{D1_OP_ADDI, 5, 0, 0, -1}, 0, "addi x5, x0, -1"},
        {{D1_OP_LD, 5, 2, 0, -8}, 0, "ld x5, -8(x2)"},
        {{D1_OP_SB, 7, 31, 0, 8191}, 0, "sb x7, 8191(x31)"},
        {{D1_OP_BEQ, 1, 2, 0, -4}, 0x20, "beq x1, x2, 0x10"},
        {{D1_OP_JAL, 0, 0, 0, 3}, 0x100, "jal x0, 0x10c"},
        {{D1_OP_CSRR, 5, 0, 0, D1_CSR_CYCLE}, 0, "csrr x5, cycle"},
        {{D1_OP_CSRW, 0, 3, 0, D1_CSR_SRSEED}, 0, "csrw srseed, x3"},
        {{D1_OP_TSTART, 0, 1, 2, 0}, 0, "tstart x1, x2"},
        {{D1_OP_SWAIT, 3, 0, 0, 2}, 0, "swait s3, 2"},
        {{D1_OP_DMA, 0, 4, 0, 32}, 0, "dma 32(x4)"},
        {{D1_OP_VLD, 1, 2, 0, 64}, 0, "vld v1, 64(x2)"},
        {{D1_OP_VBCAST, 1, 2, 0, 0}, 0, "vbcast v1, x2"},
        {{D1_OP_VEXT, 1, 2, 0, 15}, 0, "vext x1, v2, 15"},
        {{D1_OP_VRSUMF, 1, 2, 0, 0}, 0, "vrsum.f x1, v2"},
        {{D1_OP_VCVTBF, 1, 2, 0, 1}, 0, "vcvt.bf16 v1, v2, 1"},
        {{D1_OP_MMABF, 7, 1, 2, 0}, 0, "mma.bf16 m7, v1, v2"},
        {{D1_OP_MZERO, 3, 0, 0, 0}, 0, "mzero m3"},
        {{D1_OP_MST, 3, 4, 0, 256}, 0, "mst m3, 256(x4)"},
        {{D1_OP_LUI, 9, 0, 0, -262144}, 0, "lui x9, -262144"},
        {{D1_OP_TRAP, 0, 0, 0, 524287}, 0, "trap 524287"},
        {{D1_OP_HALT, 0, 0, 0, 0}, 0, "halt"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        d1_insn_disasm(&cases[i].in, cases[i].pc, buf, sizeof buf);
        ck_assert_str_eq(buf, cases[i].text);
    }
    /* truncation: full length returned, output NUL-terminated */
    char small[6];
    d1_insn add = {D1_OP_ADD, 1, 2, 3, 0};
    ck_assert_int_eq(d1_insn_disasm(&add, 0, small, sizeof small), 14);
    ck_assert_str_eq(small, "add x");
    ck_assert_int_eq(d1_insn_disasm(&add, 0, NULL, 0), 14);
    d1_insn bad = {.op = D1_OP_COUNT};
    ck_assert_int_eq(d1_insn_disasm(&bad, 0, small, sizeof small), -1);
}
END_TEST

START_TEST(doc_mentions_every_op)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    ck_assert_ptr_nonnull(f);
    d1_isa_write_doc(f);
    fclose(f);
    for (int op = 0; op < D1_OP_COUNT; op++) {
        char key[64];
        snprintf(key, sizeof key, "| `%s` |", d1_insn_info_of((d1_op)op)->mnemonic);
        ck_assert_msg(strstr(buf, key), "doc lacks %s", key);
    }
    ck_assert_ptr_null(strstr(buf, "(undocumented)"));
    free(buf);
}
END_TEST

Suite *isa_suite(void)
{
    Suite *s = suite_create("isa");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, table_rows_are_consistent);
    tcase_add_test(tc, format_table_is_sane);
    tcase_add_test(tc, csr_table);
    tcase_add_test(tc, doc_mentions_every_op);
    suite_add_tcase(s, tc);
    tc = tcase_create("codec");
    tcase_add_loop_test(tc, round_trip_every_op, 0, D1_OP_COUNT);
    tcase_add_loop_test(tc, encode_range_errors_every_op, 0, D1_OP_COUNT);
    tcase_add_loop_test(tc, decode_unused_bits_every_op, 0, D1_OP_COUNT);
    tcase_add_test(tc, decode_unknown_opcodes);
    tcase_add_test(tc, decode_rejects_bad_values);
    tcase_add_test(tc, disasm_text);
    suite_add_tcase(s, tc);
    return s;
}
