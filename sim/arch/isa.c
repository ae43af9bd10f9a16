/* The ISA tables and the generic encoder/decoder/disassembler.
 *
 * Everything is driven by two tables: the instruction rows of isa.def (expanded into
 * d1_insn_infos[] and the 256-entry opcode map) and the per-format operand table
 * (d1_insn_fmts[], one row per format of isa.h). No code here knows about a particular
 * instruction. */
#include "isa.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

/* ---- instruction rows ---------------------------------------------------------------- */

static const d1_insn_info d1_insn_infos[D1_OP_COUNT] = {
#define D1_INSN(sym, mnem, opc, fmt, unit, lat, flags)                                     \
    [D1_OP_##sym] = {mnem, opc, D1_F_##fmt, D1_U_##unit, D1_##lat, flags},
#include "isa.def"
#undef D1_INSN
};

/* opcode -> op + 1 (0 = unknown). A duplicated opcode in isa.def is an initializer
 * override, which -Wextra (-Woverride-init) and -Werror turn into a build error. */
static const uint8_t d1_opcode_map[256] = {
#define D1_INSN(sym, mnem, opc, fmt, unit, lat, flags) [opc] = D1_OP_##sym + 1,
#include "isa.def"
#undef D1_INSN
};
_Static_assert(D1_OP_COUNT < 255, "opcode map stores op + 1 in a byte");

/* ---- formats ------------------------------------------------------------------------- */

#define S14_MIN (-8192)
#define S14_MAX 8191
#define U14_MAX 16383
#define S19_MIN (-262144)
#define S19_MAX 262143
#define U19_MAX 524287

#define OPND(k, f) {D1_OPND_##k, D1_FLD_##f}
#define XA OPND(XREG, A)
#define XB OPND(XREG, B)
#define XC OPND(XREG, C)
#define VA OPND(VREG, A)
#define VB OPND(VREG, B)
#define VC OPND(VREG, C)
#define MA OPND(MREG, A)
#define SA OPND(SREG, A)
#define IMM OPND(IMM, IMM)
#define CSR OPND(CSR, IMM)
#define LBL OPND(LABEL, IMM)
#define MEM OPND(MEM, B)

static const d1_insn_fmt d1_insn_fmts[D1_F_COUNT] = {
    [D1_F_N] = {"N", "", 0, {{0}}, 0, 0, 0},
    [D1_F_R] = {"R", "rd, rs1, rs2", 3, {XA, XB, XC}, 0, 0, 0},
    [D1_F_RR] = {"RR", "rs1, rs2", 2, {XB, XC}, 0, 0, 0},
    [D1_F_I] = {"I", "rd, rs1, imm", 3, {XA, XB, IMM}, 14, S14_MIN, S14_MAX},
    [D1_F_IU] = {"IU", "rd, rs1, imm", 3, {XA, XB, IMM}, 14, 0, U14_MAX},
    [D1_F_U] = {"U", "rd, imm", 2, {XA, IMM}, 19, S19_MIN, S19_MAX},
    [D1_F_T] = {"T", "imm", 1, {IMM}, 19, 0, U19_MAX},
    [D1_F_J] = {"J", "rd, label", 2, {XA, LBL}, 19, S19_MIN, S19_MAX},
    [D1_F_B] = {"B", "rs1, rs2, label", 3, {XA, OPND(XREG, B), LBL}, 14, S14_MIN, S14_MAX},
    [D1_F_L] = {"L", "rd, imm(rs1)", 2, {XA, MEM}, 14, S14_MIN, S14_MAX},
    [D1_F_S] = {"S", "rs2, imm(rs1)", 2, {XA, MEM}, 14, S14_MIN, S14_MAX},
    [D1_F_L0] = {"L0", "imm(rs1)", 1, {MEM}, 14, S14_MIN, S14_MAX},
    [D1_F_CR] = {"CR", "rd, csr", 2, {XA, CSR}, 14, 0, U14_MAX},
    [D1_F_CW] = {"CW", "csr, rs1", 2, {CSR, XB}, 14, 0, U14_MAX},
    [D1_F_SEM] = {"SEM", "sN, imm", 2, {SA, IMM}, 14, 1, U14_MAX},
    [D1_F_VL] = {"VL", "vd, imm(rs1)", 2, {VA, MEM}, 14, S14_MIN, S14_MAX},
    [D1_F_VS] = {"VS", "vs, imm(rs1)", 2, {VA, MEM}, 14, S14_MIN, S14_MAX},
    [D1_F_VX] = {"VX", "vd, rs1", 2, {VA, XB}, 0, 0, 0},
    [D1_F_XV] = {"XV", "rd, va, imm", 3, {XA, VB, IMM}, 14, 0, 15},
    [D1_F_XV0] = {"XV0", "rd, va", 2, {XA, VB}, 0, 0, 0},
    [D1_F_V1] = {"V1", "vd, va", 2, {VA, VB}, 0, 0, 0},
    [D1_F_VR] = {"VR", "vd, va, vb", 3, {VA, VB, VC}, 0, 0, 0},
    [D1_F_VQ] = {"VQ", "vd, va, imm", 3, {VA, VB, IMM}, 14, 0, 3},
    [D1_F_M] = {"M", "mN, va, vb", 3, {MA, VB, VC}, 0, 0, 0},
    [D1_F_M0] = {"M0", "mN", 1, {MA}, 0, 0, 0},
    [D1_F_ML] = {"ML", "mN, imm(rs1)", 2, {MA, MEM}, 14, S14_MIN, S14_MAX},
};

#undef OPND
#undef XA
#undef XB
#undef XC
#undef VA
#undef VB
#undef VC
#undef MA
#undef SA
#undef IMM
#undef CSR
#undef LBL
#undef MEM

/* Word layout (isa.h): opcode 31..24, a 23..19, b 18..14, c 13..9, imm14 13..0,
 * imm19 18..0. */
#define SHIFT_A 19
#define SHIFT_B 14
#define SHIFT_C 9
#define MASK_REG 0x1fu

static const uint32_t d1_field_mask[3] = {MASK_REG << SHIFT_A, MASK_REG << SHIFT_B,
                                          MASK_REG << SHIFT_C};
static const unsigned d1_field_shift[3] = {SHIFT_A, SHIFT_B, SHIFT_C};
static const char d1_field_name[3] = {'a', 'b', 'c'};

/* Register class of each register field of a format (0 = field unused). */
static d1_opnd_kind field_class(const d1_insn_fmt *f, int field, int *used)
{
    for (int i = 0; i < f->n_opnds; i++) {
        if (f->opnd[i].kind == D1_OPND_MEM && field == D1_FLD_B) {
            *used = 1;
            return D1_OPND_XREG;
        }
        if ((int)f->opnd[i].field == field && f->opnd[i].kind != D1_OPND_MEM) {
            *used = 1;
            return f->opnd[i].kind;
        }
    }
    *used = 0;
    return D1_OPND_XREG;
}

static unsigned reg_limit(d1_opnd_kind k)
{
    return k == D1_OPND_MREG ? D1_MREGS : 32;
}

static const char reg_prefix[] = {[D1_OPND_XREG] = 'x', [D1_OPND_VREG] = 'v',
                                  [D1_OPND_MREG] = 'm', [D1_OPND_SREG] = 's'};

static uint32_t imm_mask(const d1_insn_fmt *f)
{
    return f->imm_bits ? (1u << f->imm_bits) - 1 : 0;
}

static int fmt_has_csr(const d1_insn_fmt *f)
{
    for (int i = 0; i < f->n_opnds; i++)
        if (f->opnd[i].kind == D1_OPND_CSR)
            return 1;
    return 0;
}

/* ---- CSRs ----------------------------------------------------------------------------- */

#define D1_CSR_MAXNUM 16
static const struct {
    const char *name;
    int writable;
    const char *doc;
} d1_csrs[D1_CSR_MAXNUM] = {
#define D1_CSR_ROW(sym, nm, num, w, dc) [num] = {nm, w, dc},
    D1_CSR_TABLE(D1_CSR_ROW)
#undef D1_CSR_ROW
};

const char *d1_csr_name(int number)
{
    if (number < 0 || number >= D1_CSR_MAXNUM)
        return NULL;
    return d1_csrs[number].name;
}

int d1_csr_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < D1_CSR_MAXNUM; i++)
        if (d1_csrs[i].name && !strcmp(d1_csrs[i].name, name))
            return i;
    return -1;
}

int d1_csr_writable(int number)
{
    if (!d1_csr_name(number))
        return -1;
    return d1_csrs[number].writable;
}

const char *d1_csr_doc(int number)
{
    return d1_csr_name(number) ? d1_csrs[number].doc : NULL;
}

/* ---- lookups -------------------------------------------------------------------------- */

const d1_insn_info *d1_insn_info_of(d1_op op)
{
    if ((unsigned)op >= D1_OP_COUNT)
        return NULL;
    return &d1_insn_infos[op];
}

int d1_op_from_mnemonic(const char *mnemonic)
{
    if (!mnemonic)
        return -1;
    for (int i = 0; i < D1_OP_COUNT; i++)
        if (!strcmp(d1_insn_infos[i].mnemonic, mnemonic))
            return i;
    return -1;
}

int d1_op_from_opcode(uint8_t opcode)
{
    return (int)d1_opcode_map[opcode] - 1;
}

const d1_insn_fmt *d1_insn_fmt_of(d1_fmt_kind f)
{
    if ((unsigned)f >= D1_F_COUNT)
        return NULL;
    return &d1_insn_fmts[f];
}

const char *d1_fmt_syntax(d1_fmt_kind f)
{
    const d1_insn_fmt *d = d1_insn_fmt_of(f);
    return d ? d->syntax : NULL;
}

static const char *const d1_unit_names[] = {
    [D1_U_ALU] = "ALU", [D1_U_AGU] = "AGU", [D1_U_VEC] = "VEC",
    [D1_U_MXU] = "MXU", [D1_U_DMA] = "DMA", [D1_U_SYS] = "SYS",
};

const char *d1_unit_name(d1_unit u)
{
    if ((unsigned)u >= sizeof d1_unit_names / sizeof d1_unit_names[0])
        return NULL;
    return d1_unit_names[u];
}

static const struct {
    const char *name, *key;
} d1_lats[] = {
    [D1_LAT_0] = {"LAT_0", NULL},
    [D1_LAT_ALU] = {"LAT_ALU", "lat_alu"},
    [D1_LAT_MUL] = {"LAT_MUL", "lat_mul"},
    [D1_LAT_LOAD] = {"LAT_LOAD", "lat_load"},
    [D1_LAT_VEC] = {"LAT_VEC", "lat_vec"},
    [D1_LAT_VFP] = {"LAT_VFP", "lat_vfp"},
    [D1_LAT_VLONG] = {"LAT_VLONG", "lat_vlong"},
    [D1_LAT_MMA] = {"LAT_MMA", "lat_mma"},
    [D1_LAT_MACC] = {"LAT_MACC", "lat_macc_move"},
};

const char *d1_lat_name(d1_lat l)
{
    if ((unsigned)l >= sizeof d1_lats / sizeof d1_lats[0])
        return NULL;
    return d1_lats[l].name;
}

const char *d1_lat_config_key(d1_lat l)
{
    if ((unsigned)l >= sizeof d1_lats / sizeof d1_lats[0])
        return NULL;
    return d1_lats[l].key;
}

/* ---- decode / encode ------------------------------------------------------------------ */

/* Checks shared by decode and encode: register classes and immediate ranges. Returns
 * 0 and writes a message into msg on failure. */
static int check_fields(const d1_insn_fmt *f, const d1_insn *in, char *msg, size_t n)
{
    const uint8_t regs[3] = {in->a, in->b, in->c};
    for (int fld = 0; fld < 3; fld++) {
        int used;
        d1_opnd_kind k = field_class(f, fld, &used);
        if (!used) {
            if (regs[fld]) {
                snprintf(msg, n, "field %c is unused by format %s and must be 0 (got %u)",
                         d1_field_name[fld], f->name, regs[fld]);
                return 0;
            }
        } else if (regs[fld] >= reg_limit(k)) {
            snprintf(msg, n, "register %c%u out of range (%c0..%c%u) in field %c",
                     reg_prefix[k], regs[fld], reg_prefix[k], reg_prefix[k],
                     reg_limit(k) - 1, d1_field_name[fld]);
            return 0;
        }
    }
    if (!f->imm_bits) {
        if (in->imm) {
            snprintf(msg, n, "format %s has no immediate (got %" PRId64 ")", f->name, in->imm);
            return 0;
        }
        return 1;
    }
    if (in->imm < f->imm_min || in->imm > f->imm_max) {
        snprintf(msg, n, "immediate %" PRId64 " out of range %" PRId64 "..%" PRId64
                 " of format %s", in->imm, f->imm_min, f->imm_max, f->name);
        return 0;
    }
    if (fmt_has_csr(f)) {
        if (!d1_csr_name((int)in->imm)) {
            snprintf(msg, n, "unknown CSR number %" PRId64, in->imm);
            return 0;
        }
        if (f == &d1_insn_fmts[D1_F_CW] && !d1_csr_writable((int)in->imm)) {
            snprintf(msg, n, "CSR '%s' is read-only", d1_csr_name((int)in->imm));
            return 0;
        }
    }
    return 1;
}

static uint32_t used_bits(const d1_insn_fmt *f)
{
    uint32_t m = 0;
    for (int fld = 0; fld < 3; fld++) {
        int used;
        (void)field_class(f, fld, &used);
        if (used)
            m |= d1_field_mask[fld];
    }
    return m | imm_mask(f);
}

d1_status d1_insn_decode(uint32_t word, d1_insn *out)
{
    D1_ASSERT(out);
    uint8_t opcode = (uint8_t)(word >> 24);
    int op = d1_op_from_opcode(opcode);
    if (op < 0)
        return d1_fail(D1_E_INVAL, "unknown opcode 0x%02x in word 0x%08" PRIx32, opcode, word);
    const d1_insn_info *info = &d1_insn_infos[op];
    const d1_insn_fmt *f = &d1_insn_fmts[info->fmt];
    uint32_t extra = word & 0x00ffffffu & ~used_bits(f);
    if (extra)
        return d1_fail(D1_E_INVAL,
                       "nonzero unused bits 0x%06" PRIx32 " in word 0x%08" PRIx32
                       " (%s, format %s)",
                       extra, word, info->mnemonic, f->name);
    d1_insn d = {.op = (d1_op)op};
    uint8_t *regs[3] = {&d.a, &d.b, &d.c};
    for (int fld = 0; fld < 3; fld++) {
        int used;
        (void)field_class(f, fld, &used);
        if (used)
            *regs[fld] = (uint8_t)((word >> d1_field_shift[fld]) & MASK_REG);
    }
    if (f->imm_bits) {
        uint32_t raw = word & imm_mask(f);
        if (f->imm_min < 0 && (raw >> (f->imm_bits - 1)))
            d.imm = (int64_t)raw - ((int64_t)1 << f->imm_bits);
        else
            d.imm = raw;
    }
    char msg[160];
    if (!check_fields(f, &d, msg, sizeof msg))
        return d1_fail(D1_E_INVAL, "word 0x%08" PRIx32 " (%s): %s", word, info->mnemonic, msg);
    *out = d;
    return D1_OK;
}

d1_status d1_insn_encode(const d1_insn *in, uint32_t *word)
{
    D1_ASSERT(in && word);
    if ((unsigned)in->op >= D1_OP_COUNT)
        return d1_fail(D1_E_INVAL, "not an instruction op: %d", (int)in->op);
    const d1_insn_info *info = &d1_insn_infos[in->op];
    const d1_insn_fmt *f = &d1_insn_fmts[info->fmt];
    char msg[160];
    if (!check_fields(f, in, msg, sizeof msg))
        return d1_fail(D1_E_RANGE, "%s: %s", info->mnemonic, msg);
    uint32_t w = (uint32_t)info->opcode << 24;
    w |= (uint32_t)in->a << SHIFT_A | (uint32_t)in->b << SHIFT_B | (uint32_t)in->c << SHIFT_C;
    w |= (uint32_t)in->imm & imm_mask(f);
    *word = w;
    return D1_OK;
}

/* ---- disassembly ---------------------------------------------------------------------- */

/* snprintf into buf at *len, keeping the total length like snprintf does. */
static void put(char *buf, size_t n, int *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t n, int *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t at = (size_t)*len;
    int r = vsnprintf(at < n ? buf + at : NULL, at < n ? n - at : 0, fmt, ap);
    va_end(ap);
    if (r > 0)
        *len += r;
}

int d1_insn_disasm(const d1_insn *in, uint64_t pc, char *buf, size_t n)
{
    if (buf && n)
        buf[0] = '\0';
    if (!buf)
        n = 0;
    if (!in || (unsigned)in->op >= D1_OP_COUNT)
        return -1;
    const d1_insn_info *info = &d1_insn_infos[in->op];
    const d1_insn_fmt *f = &d1_insn_fmts[info->fmt];
    const uint8_t regs[3] = {in->a, in->b, in->c};
    int len = 0;
    put(buf, n, &len, "%s", info->mnemonic);
    for (int i = 0; i < f->n_opnds; i++) {
        put(buf, n, &len, "%s", i ? ", " : " ");
        d1_opnd_kind k = f->opnd[i].kind;
        switch (k) {
        case D1_OPND_XREG:
        case D1_OPND_VREG:
        case D1_OPND_MREG:
        case D1_OPND_SREG:
            put(buf, n, &len, "%c%u", reg_prefix[k], regs[f->opnd[i].field]);
            break;
        case D1_OPND_IMM:
            put(buf, n, &len, "%" PRId64, in->imm);
            break;
        case D1_OPND_CSR: {
            const char *name = d1_csr_name((int)in->imm);
            if (name)
                put(buf, n, &len, "%s", name);
            else
                put(buf, n, &len, "%" PRId64, in->imm);
            break;
        }
        case D1_OPND_LABEL: {
            uint64_t target = pc + (uint64_t)in->imm * D1_INSN_BYTES;
            put(buf, n, &len, "0x%" PRIx64, target);
            break;
        }
        case D1_OPND_MEM:
            put(buf, n, &len, "%" PRId64 "(x%u)", in->imm, regs[f->opnd[i].field]);
            break;
        }
    }
    return len;
}

/* ---- semantics one-liners (doc/isa.md) ------------------------------------------------
 * Indexed by op with designated initializers: a row of isa.def without a line here is
 * caught by the isa test (every op must have one). x = scalar registers, v = vector,
 * m = accumulators, s = semaphores, SRAM = this node's local memory, pc = byte address. */
static const char *const d1_insn_doc[D1_OP_COUNT] = {
    [D1_OP_ADD] = "rd = rs1 + rs2 (64-bit, wraps)",
    [D1_OP_SUB] = "rd = rs1 - rs2",
    [D1_OP_AND] = "rd = rs1 & rs2",
    [D1_OP_OR] = "rd = rs1 | rs2",
    [D1_OP_XOR] = "rd = rs1 ^ rs2",
    [D1_OP_SLL] = "rd = rs1 << (rs2 & 63)",
    [D1_OP_SRL] = "rd = rs1 >> (rs2 & 63), logical",
    [D1_OP_SRA] = "rd = rs1 >> (rs2 & 63), arithmetic",
    [D1_OP_SLT] = "rd = (signed) rs1 < rs2 ? 1 : 0",
    [D1_OP_SLTU] = "rd = (unsigned) rs1 < rs2 ? 1 : 0",
    [D1_OP_MUL] = "rd = low 64 bits of rs1 * rs2",
    [D1_OP_MIN] = "rd = signed minimum of rs1, rs2",
    [D1_OP_MAX] = "rd = signed maximum of rs1, rs2",
    [D1_OP_ADDI] = "rd = rs1 + sext(imm)",
    [D1_OP_ANDI] = "rd = rs1 & zext(imm)",
    [D1_OP_ORI] = "rd = rs1 | zext(imm)",
    [D1_OP_XORI] = "rd = rs1 ^ zext(imm)",
    [D1_OP_SLLI] = "rd = rs1 << (imm & 63)",
    [D1_OP_SRLI] = "rd = rs1 >> (imm & 63), logical",
    [D1_OP_SRAI] = "rd = rs1 >> (imm & 63), arithmetic",
    [D1_OP_SLTI] = "rd = (signed) rs1 < sext(imm) ? 1 : 0",
    [D1_OP_MULI] = "rd = low 64 bits of rs1 * sext(imm)",
    [D1_OP_LUI] = "rd = sext(imm19) << 13",
    [D1_OP_BEQ] = "if rs1 == rs2: pc += 4 * offset",
    [D1_OP_BNE] = "if rs1 != rs2: pc += 4 * offset",
    [D1_OP_BLT] = "if (signed) rs1 < rs2: pc += 4 * offset",
    [D1_OP_BGE] = "if (signed) rs1 >= rs2: pc += 4 * offset",
    [D1_OP_BLTU] = "if (unsigned) rs1 < rs2: pc += 4 * offset",
    [D1_OP_BGEU] = "if (unsigned) rs1 >= rs2: pc += 4 * offset",
    [D1_OP_JAL] = "rd = pc + 4; pc += 4 * offset",
    [D1_OP_JALR] = "t = rs1 + sext(imm) (must be 4-byte aligned); rd = pc + 4; pc = t",
    [D1_OP_LD] = "rd = 64-bit SRAM[rs1 + imm]",
    [D1_OP_LW] = "rd = sext(32-bit SRAM[rs1 + imm])",
    [D1_OP_LWU] = "rd = zext(32-bit SRAM[rs1 + imm])",
    [D1_OP_LH] = "rd = sext(16-bit SRAM[rs1 + imm])",
    [D1_OP_LHU] = "rd = zext(16-bit SRAM[rs1 + imm])",
    [D1_OP_LB] = "rd = sext(8-bit SRAM[rs1 + imm])",
    [D1_OP_LBU] = "rd = zext(8-bit SRAM[rs1 + imm])",
    [D1_OP_SD] = "64-bit SRAM[rs1 + imm] = rs2",
    [D1_OP_SW] = "32-bit SRAM[rs1 + imm] = low 32 bits of rs2",
    [D1_OP_SH] = "16-bit SRAM[rs1 + imm] = low 16 bits of rs2",
    [D1_OP_SB] = "8-bit SRAM[rs1 + imm] = low 8 bits of rs2",
    [D1_OP_NOP] = "no operation (the all-zero word)",
    [D1_OP_HALT] = "stop this thread",
    [D1_OP_TRAP] = "stop the program with a guest trap carrying code imm",
    [D1_OP_CSRR] = "rd = CSR",
    [D1_OP_CSRW] = "CSR = rs1 (writable CSRs only)",
    [D1_OP_TSTART] = "start hardware thread rs1 (1..3) at byte address rs2",
    [D1_OP_SWAIT] = "block until sN >= imm, then sN -= imm",
    [D1_OP_SPOST] = "sN += imm",
    [D1_OP_BAR] = "wait until every running (not halted) thread of the node reaches a bar",
    [D1_OP_FENCE] = "wait until this thread's older instructions have completed",
    [D1_OP_DMA] = "enqueue the 32-byte DMA descriptor at SRAM[rs1 + imm] (copied at issue)",
    [D1_OP_VLD] = "vd = 64 bytes SRAM[rs1 + imm] (64 B aligned)",
    [D1_OP_VST] = "64 bytes SRAM[rs1 + imm] = vs (64 B aligned)",
    [D1_OP_VBCAST] = "every 32-bit lane of vd = low 32 bits of rs1",
    [D1_OP_VEXT] = "rd = zext(32-bit lane imm of va)",
    [D1_OP_VMOV] = "vd = va",
    [D1_OP_VAND] = "vd = va & vb",
    [D1_OP_VOR] = "vd = va | vb",
    [D1_OP_VXOR] = "vd = va ^ vb",
    [D1_OP_VADDI] = "16 x 32-bit integer lanes: vd = va + vb (wraps)",
    [D1_OP_VADDF] = "16 x FP32 lanes: vd = va + vb (RNE)",
    [D1_OP_VSUBF] = "16 x FP32 lanes: vd = va - vb",
    [D1_OP_VMULF] = "16 x FP32 lanes: vd = va * vb",
    [D1_OP_VFMAF] = "16 x FP32 lanes: vd = fmaf(va, vb, vd)",
    [D1_OP_VMAXF] = "16 x FP32 lanes: vd = fmaxf(va, vb)",
    [D1_OP_VMINF] = "16 x FP32 lanes: vd = fminf(va, vb)",
    [D1_OP_VDIVF] = "16 x FP32 lanes: vd = va / vb",
    [D1_OP_VCMPGT] = "16 lanes: vd = va > vb (FP32) ? 0xffffffff : 0",
    [D1_OP_VEXPF] = "16 x FP32 lanes: vd = expf(va)",
    [D1_OP_VLOGF] = "16 x FP32 lanes: vd = logf(va)",
    [D1_OP_VRSUMF] = "rd = FP32 bits of the sum of va's lanes, sequential 0..15",
    [D1_OP_VRMAXF] = "rd = FP32 bits of the maximum of va's lanes, sequential 0..15",
    [D1_OP_VCVTBF] = "16 FP32 lanes of va -> BF16 (RNE) into bytes 32q..32q+31 of vd (q 0..1)",
    [D1_OP_VCVTBFS] = "as vcvt.bf16, stochastic rounding (srseed, sridx; sridx += 16)",
    [D1_OP_VCVTFB] = "16 BF16 from bytes 32q..32q+31 of va -> 16 FP32 lanes of vd (q 0..1)",
    [D1_OP_VCVTC8] =
        "16 FP32 lanes of va -> CFP8 (RNE, format cvtfmt) into bytes 16q..16q+15 of vd",
    [D1_OP_VCVTC8S] = "as vcvt.cfp8, stochastic rounding (srseed, sridx; sridx += 16)",
    [D1_OP_VCVTFC] =
        "16 CFP8 (format cvtfmt) from bytes 16q..16q+15 of va -> 16 FP32 lanes of vd",
    [D1_OP_MMABF] = "mN[i][j] += sum over k=0..3 of A[i][k]*B[k][j]; A = va 8x4 BF16, "
                    "B = vb 4x8 BF16; fmaf chain, k ascending",
    [D1_OP_MMAC8] =
        "as mma.bf16 with CFP8 operands (low 32 B of va, vb; formats and biases from mfmt)",
    [D1_OP_MZERO] = "mN = 0 (8x8 FP32)",
    [D1_OP_MLD] = "mN = 256 bytes SRAM[rs1 + imm], 8x8 FP32 row-major (64 B aligned)",
    [D1_OP_MST] = "256 bytes SRAM[rs1 + imm] = mN, 8x8 FP32 row-major (64 B aligned)",
};

const char *d1_insn_semantics(d1_op op)
{
    if ((unsigned)op >= D1_OP_COUNT)
        return NULL;
    return d1_insn_doc[op];
}

/* ---- doc/isa.md ------------------------------------------------------------------------ */

/* Name of operand i in the syntax string of f ("rd, imm(rs1)" -> "rd", "rs1"); for MEM the
 * base register name, for immediates "imm"/"label"/"csr". */
static void opnd_name(const d1_insn_fmt *f, int i, char *out, size_t n)
{
    const char *p = f->syntax;
    for (int k = 0; k < i && p; k++) {
        p = strstr(p, ", ");
        if (p)
            p += 2;
    }
    out[0] = '\0';
    if (!p)
        return;
    size_t len = strcspn(p, ",");
    if (f->opnd[i].kind == D1_OPND_MEM) {
        const char *l = memchr(p, '(', len);
        if (l) {
            len -= (size_t)(l + 1 - p);
            p = l + 1;
            if (len && p[len - 1] == ')')
                len--;
        }
    }
    snprintf(out, n, "%.*s", (int)len, p);
}

static void doc_formats(FILE *out)
{
    fprintf(out, "| format | syntax | 31..24 | 23..19 | 18..14 | 13..9 | 8..0 | immediate |\n"
                 "|---|---|---|---|---|---|---|---|\n");
    for (int fk = 0; fk < D1_F_COUNT; fk++) {
        const d1_insn_fmt *f = &d1_insn_fmts[fk];
        char cell[3][16] = {"-", "-", "-"};
        for (int i = 0; i < f->n_opnds; i++) {
            if (f->opnd[i].kind == D1_OPND_MEM || f->opnd[i].field != D1_FLD_IMM)
                opnd_name(f, i, cell[f->opnd[i].field], sizeof cell[0]);
        }
        const char *imm = f->imm_bits == 19 ? "imm19" : f->imm_bits == 14 ? "imm14" : NULL;
        fprintf(out, "| %s | %s%s%s | opcode | %s | %s | %s | %s | ", f->name,
                f->n_opnds ? "`" : "-", f->syntax, f->n_opnds ? "`" : "", cell[0],
                f->imm_bits == 19 ? imm : cell[1],
                imm ? imm : cell[2], imm ? imm : "0");
        if (!f->imm_bits)
            fprintf(out, "- |\n");
        else
            fprintf(out, "%s %" PRId64 "..%" PRId64 "%s |\n",
                    f->imm_min < 0 ? "signed" : "unsigned", f->imm_min, f->imm_max,
                    fmt_has_csr(f) ? " (CSR number)" : "");
    }
}

/* Text inside a Markdown table cell: '|' must be escaped. */
static void doc_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s, out);
    }
}

static void doc_flags(FILE *out, unsigned flags)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{D1_IF_BRANCH, "branch"},
                 {D1_IF_LOAD, "load"},
                 {D1_IF_STORE, "store"},
                 {D1_IF_SERIAL, "serial"}};
    int any = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (flags & names[i].bit)
            fprintf(out, "%s%s", any++ ? ", " : "", names[i].name);
    if (!any)
        fprintf(out, "-");
}

void d1_isa_write_doc(FILE *out)
{
    fprintf(out,
            "# D1 instruction set\n\n"
            "<!-- Generated by `d1 isa doc` from sim/arch/isa.def and sim/arch/isa.c. "
            "Do not edit: change the tables and regenerate. -->\n\n"
            "Tesla published no encoding for D1: this one is ours (see D1-FACTS.md). "
            "Instruction words are 32 bits, little-endian in memory; pc is a byte address and "
            "advances by 4.\n\n"
            "## Instruction word\n\n"
            "```\n"
            "  31      24 23   19 18   14 13    9 8        0\n"
            " +----------+-------+-------+-------+----------+\n"
            " |  opcode  |   a   |   b   |   c   |    f     |\n"
            " +----------+-------+-------+-------+----------+\n"
            "                            |<---- imm14 ----->|   bits 13..0\n"
            "                    |<-------- imm19 --------->|   bits 18..0\n"
            "```\n\n"
            "Bits a format does not use must be zero: the decoder rejects the word otherwise, "
            "as it rejects unknown opcodes and out-of-range fields (m8..m31, unknown CSR "
            "numbers, writes to read-only CSRs, immediates outside the format's range).\n\n"
            "## Registers\n\n"
            "| name | count | width | notes |\n"
            "|---|---|---|---|\n"
            "| x0..x31 | 32 per thread | 64 bit | scalar; x0 reads 0, writes to x0 are dropped |\n"
            "| v0..v31 | 32 per thread | 64 B | vector: 16 x FP32 (`.f`) or 16 x 32-bit integer "
            "(`.i`) lanes |\n"
            "| m0..m7 | 8 per thread | 8x8 FP32 | matrix accumulators |\n"
            "| s0..s31 | node_sems per node | counter | semaphores shared by the node's threads |\n"
            "\n"
            "## Formats\n\n"
            "Offsets of B/J formats (`label`) count instructions relative to the branch "
            "itself; the assembler takes a label or an absolute address and the disassembler "
            "prints the absolute address. Memory offsets `imm(rs1)` are bytes.\n\n");
    doc_formats(out);
    fprintf(out, "\n## Control and status registers\n\n"
                 "| number | name | access | meaning |\n|---|---|---|---|\n");
    for (int i = 0; i < D1_CSR_MAXNUM; i++)
        if (d1_csrs[i].name) {
            fprintf(out, "| %d | `%s` | %s | ", i, d1_csrs[i].name,
                    d1_csrs[i].writable ? "read/write" : "read-only");
            doc_cell(out, d1_csrs[i].doc);
            fprintf(out, " |\n");
        }
    fprintf(out, "\n## Instructions\n\n"
                 "Unit: issue class. Latency: class, and the config key that sets it in cycles "
                 "(`-`: the instruction writes no register). Flags: `branch` may change the pc, "
                 "`load`/`store` read/write local SRAM, `serial` waits for the thread's older "
                 "instructions.\n\n"
                 "| opcode | mnemonic | format | operands | unit | latency | flags | semantics |\n"
                 "|---|---|---|---|---|---|---|---|\n");
    for (int opc = 0; opc < 256; opc++) {
        int op = d1_op_from_opcode((uint8_t)opc);
        if (op < 0)
            continue;
        const d1_insn_info *in = &d1_insn_infos[op];
        const d1_insn_fmt *f = &d1_insn_fmts[in->fmt];
        const char *key = d1_lat_config_key(in->lat);
        fprintf(out, "| 0x%02x | `%s` | %s | %s%s%s | %s | %s | ", opc, in->mnemonic, f->name,
                f->n_opnds ? "`" : "-", f->syntax, f->n_opnds ? "`" : "", d1_unit_name(in->unit),
                key ? key : "-");
        doc_flags(out, in->flags);
        fprintf(out, " | ");
        doc_cell(out, d1_insn_doc[op] ? d1_insn_doc[op] : "(undocumented)");
        fprintf(out, " |\n");
    }
    fprintf(out,
            "\n## Key semantics\n\n"
            "- `mma.bf16 m, va, vb`: va = A, 8x4 BF16 row-major (A[i][k] at bytes 2*(4i+k)); "
            "vb = B, 4x8 BF16 row-major (B[k][j] at bytes 2*(8k+j)); "
            "m[i][j] = fmaf(A[i][3],B[3][j], fmaf(A[i][2],B[2][j], fmaf(A[i][1],B[1][j], "
            "fmaf(A[i][0],B[0][j], m[i][j])))): k ascending, FP32 round-to-nearest-even, no "
            "flush-to-zero.\n"
            "- `mma.cfp8`: the same with CFP8 bytes (A[i][k] at byte 4i+k, B[k][j] at byte "
            "8k+j of the low 32 B), formats and biases from CSR `mfmt`.\n"
            "- `vcvt.*`: `.sr` variants round stochastically: lane i uses "
            "d1_sr_bits(srseed, sridx + i), then sridx += 16.\n"
            "- `vrsum.f` / `vrmax.f`: sequential over lanes 0..15 (acc = lane 0; "
            "acc = acc op lane i).\n"
            "- `vexp.f` / `vlog.f`: the C library's expf / logf, as the CPU backend uses.\n"
            "- `swait sN, c`: block until s >= c, then s -= c; `spost sN, c`: s += c.\n"
            "- `dma imm(rs1)`: the descriptor is copied at issue.\n\n"
            "## DMA descriptor (32 bytes in SRAM, 8-byte aligned, little-endian)\n\n"
            "| offset | size | field | meaning |\n|---|---|---|---|\n"
            "| 0 | 1 | kind | 0 PUT (local -> remote node), 1 GET (remote node -> local), "
            "2 HBM_RD (HBM -> local), 3 HBM_WR (local -> HBM) |\n"
            "| 1 | 1 | sem_local | semaphore posted (by 1) on this node when done; 0xff none |\n"
            "| 2 | 1 | sem_remote | PUT: semaphore posted at the destination on arrival; "
            "0xff none |\n"
            "| 3 | 1 | pad0 | 0 |\n"
            "| 4 | 4 | len_bytes | length >= 1 (multiples of 64 are fastest) |\n"
            "| 8 | 4 | node | remote global node id (PUT/GET) or DIP index (HBM_*) |\n"
            "| 12 | 4 | pad1 | 0 |\n"
            "| 16 | 8 | local_addr | this node's SRAM byte address |\n"
            "| 24 | 8 | remote_addr | remote SRAM or HBM byte address |\n");
}
