/* The ISA: generated from isa.def. Ours: Tesla published no encoding.
 *
 * Instruction word (32 bits, little-endian in memory):
 *
 *   31      24 23   19 18   14 13    9 8        0
 *  +----------+-------+-------+-------+----------+
 *  |  opcode  |   a   |   b   |   c   |    f     |
 *  +----------+-------+-------+-------+----------+
 *                             |<---- imm14 ----->|   bits 13..0
 *                     |<-------- imm19 --------->|   bits 18..0
 *
 * Registers: x0..x31 scalar 64-bit (x0 reads 0); v0..v31 vector 64 B; m0..m7 matrix
 * accumulators of 8x8 FP32; s0..s31 node semaphores (shared by the node's threads).
 *
 * Formats (assembly operand syntax -> fields). Offsets of B/J are in instructions,
 * relative to the branch; memory offsets are bytes. imm14/imm19 are signed unless noted.
 *   N    (none)
 *   R    rd, rs1, rs2      a=rd b=rs1 c=rs2
 *   RR   rs1, rs2          b=rs1 c=rs2
 *   I    rd, rs1, imm      a=rd b=rs1 imm14
 *   IU   rd, rs1, imm      a=rd b=rs1 imm14 unsigned (0..16383)
 *   U    rd, imm           a=rd imm19            (lui: rd = sext(imm19) << 13)
 *   T    imm               imm19 unsigned        (trap code)
 *   J    rd, label         a=rd imm19
 *   B    rs1, rs2, label   a=rs1 b=rs2 imm14
 *   L    rd, imm(rs1)      a=rd b=rs1 imm14
 *   S    rs2, imm(rs1)     a=rs2 b=rs1 imm14
 *   L0   imm(rs1)          b=rs1 imm14
 *   CR   rd, csr           a=rd imm14 = CSR number (written by name)
 *   CW   csr, rs1          b=rs1 imm14 = CSR number
 *   SEM  sN, imm           a=semaphore imm14 unsigned count (1..16383)
 *   VL   vd, imm(rs1)      a=vd b=rs1 imm14 (address 64 B aligned)
 *   VS   vs, imm(rs1)      a=vs b=rs1 imm14
 *   VX   vd, rs1           a=vd b=rs1
 *   XV   rd, va, imm       a=rd b=va imm14 unsigned lane 0..15
 *   XV0  rd, va            a=rd b=va
 *   V1   vd, va            a=vd b=va
 *   VR   vd, va, vb        a=vd b=va c=vb
 *   VQ   vd, va, imm       a=vd b=va imm14 unsigned part 0..3
 *   M    mN, va, vb        a=accumulator b=va c=vb
 *   M0   mN                a=accumulator
 *   ML   mN, imm(rs1)      a=accumulator b=rs1 imm14 (address 64 B aligned)
 *
 * Key semantics (full text in doc/isa.md):
 *   mma.bf16 m, va, vb: va = A, 8x4 BF16 row-major (A[i][k] at bytes 2*(4i+k));
 *     vb = B, 4x8 BF16 row-major (B[k][j] at bytes 2*(8k+j));
 *     m[i][j] = fmaf(A[i][3],B[3][j], fmaf(A[i][2],B[2][j], fmaf(A[i][1],B[1][j],
 *               fmaf(A[i][0],B[0][j], m[i][j]))))   -- k ascending, FP32 RNE, no FTZ.
 *   mma.cfp8: the same with CFP8 bytes (A[i][k] at byte 4i+k, B[k][j] at byte 8k+j of the
 *     low 32 B), formats and biases from CSR mfmt.
 *   vcvt.bf16 vd, va, q: 16 FP32 lanes of va -> 16 BF16 into bytes 32q..32q+31 of vd (q 0..1),
 *     rest of vd unchanged; vcvt.f32.bf16 vd, va, q: the reverse. vcvt.cfp8 / vcvt.f32.cfp8
 *     the same with 16 B quarters (q 0..3), format/bias from CSR cvtfmt. .sr variants round
 *     stochastically: lane i uses d1_sr_bits(srseed, sridx + i), then sridx += 16.
 *   vrsum.f / vrmax.f rd, va: sequential over lanes 0..15 (acc = lane0; acc = acc + lane i).
 *   vexp.f / vlog.f: expf / logf of each lane (the C library's, as the CPU backend uses).
 *   swait sN, c: block until s >= c, then s -= c.   spost sN, c: s += c.
 *   bar: wait until every running (not halted) thread of the node reaches a bar.
 *   tstart rs1, rs2: start thread rs1 (1..3) at byte address rs2.  halt: stop this thread.
 *   dma imm(rs1): enqueue the 32-byte descriptor at SRAM[rs1+imm] (copied at issue). */
#ifndef D1_ISA_H
#define D1_ISA_H

#include <stdint.h>

typedef enum d1_fmt_kind {
    D1_F_N, D1_F_R, D1_F_RR, D1_F_I, D1_F_IU, D1_F_U, D1_F_T, D1_F_J, D1_F_B, D1_F_L, D1_F_S,
    D1_F_L0, D1_F_CR, D1_F_CW, D1_F_SEM, D1_F_VL, D1_F_VS, D1_F_VX, D1_F_XV, D1_F_XV0,
    D1_F_V1, D1_F_VR, D1_F_VQ, D1_F_M, D1_F_M0, D1_F_ML,
    D1_F_COUNT
} d1_fmt_kind;

typedef enum d1_unit { D1_U_ALU, D1_U_AGU, D1_U_VEC, D1_U_MXU, D1_U_DMA, D1_U_SYS } d1_unit;

/* Latency classes: each maps to a config key (LAT_0: the instruction writes no register). */
typedef enum d1_lat {
    D1_LAT_0, D1_LAT_ALU, D1_LAT_MUL, D1_LAT_LOAD, D1_LAT_VEC, D1_LAT_VFP, D1_LAT_VLONG,
    D1_LAT_MMA, D1_LAT_MACC
} d1_lat;

enum {
    D1_IF_BRANCH = 1u << 0, /* may change the pc */
    D1_IF_LOAD = 1u << 1,   /* reads local SRAM */
    D1_IF_STORE = 1u << 2,  /* writes local SRAM */
    D1_IF_SERIAL = 1u << 3, /* waits for this thread's older instructions to complete */
};

typedef enum d1_op {
#define D1_INSN(sym, mnem, opc, fmt, unit, lat, flags) D1_OP_##sym,
#include "isa.def"
#undef D1_INSN
    D1_OP_COUNT
} d1_op;

/* Control and status registers: D1_CSR(sym, name, number, writable, doc). */
#define D1_CSR_TABLE(X)                                                                     \
    X(CYCLE, "cycle", 0, 0, "cycle counter of the node")                                    \
    X(TID, "tid", 1, 0, "hardware thread id 0..3")                                          \
    X(NID, "nid", 2, 0, "global node id")                                                   \
    X(NX, "nx", 3, 0, "global node column")                                                 \
    X(NY, "ny", 4, 0, "global node row")                                                    \
    X(SRSEED, "srseed", 5, 1, "stochastic-rounding seed")                                   \
    X(SRIDX, "sridx", 6, 1, "stochastic-rounding element index of the next lane 0")         \
    X(CVTFMT, "cvtfmt", 7, 1, "vcvt CFP8: bits 5..0 bias, bit 6 variant (0 1-4-3, 1 1-5-2)") \
    X(MFMT, "mfmt", 8, 1, "mma.cfp8: bits 5..0/6 A bias/variant, bits 13..8/14 B")          \
    X(FFLAGS, "fflags", 9, 1, "sticky conversion flags (D1_FLAG_*)")

typedef enum d1_csr {
#define D1_CSR_ENUM(sym, name, num, w, doc) D1_CSR_##sym = num,
    D1_CSR_TABLE(D1_CSR_ENUM)
#undef D1_CSR_ENUM
} d1_csr;

/* DMA descriptor in SRAM, 32 bytes, 8-byte aligned, little-endian. */
typedef struct d1_dma_desc {
    uint8_t kind;       /* D1_DMA_* */
    uint8_t sem_local;  /* semaphore posted (by 1) on this node when done, 0xff = none */
    uint8_t sem_remote; /* PUT: semaphore posted at the destination on arrival, 0xff = none */
    uint8_t pad0;
    uint32_t len_bytes; /* multiple of 64 is fastest; any length >= 1 is legal */
    uint32_t node;      /* remote global node id (PUT/GET), or DIP index (HBM_*) */
    uint32_t pad1;
    uint64_t local_addr;  /* this node's SRAM */
    uint64_t remote_addr; /* remote node's SRAM or HBM byte address */
} d1_dma_desc;

enum { D1_DMA_PUT = 0, D1_DMA_GET = 1, D1_DMA_HBM_RD = 2, D1_DMA_HBM_WR = 3 };
#define D1_DMA_NO_SEM 0xffu

/* Static description of one instruction (from isa.def). */
typedef struct d1_insn_info {
    const char *mnemonic;
    uint8_t opcode;
    d1_fmt_kind fmt;
    d1_unit unit;
    d1_lat lat;
    unsigned flags;
} d1_insn_info;

/* A decoded instruction: fields extracted by format; imm is sign- or zero-extended. */
typedef struct d1_insn {
    d1_op op;
    uint8_t a, b, c;
    int64_t imm;
} d1_insn;

#include "status.h"

#include <stddef.h>

/* Table lookups (NULL / -1 when unknown). */
const d1_insn_info *d1_insn_info_of(d1_op op);
int d1_op_from_mnemonic(const char *mnemonic); /* d1_op, or -1 */
int d1_op_from_opcode(uint8_t opcode);         /* d1_op, or -1 */
const char *d1_fmt_syntax(d1_fmt_kind f);      /* operand syntax, e.g. "rd, rs1, imm" */
const char *d1_csr_name(int number);
int d1_csr_from_name(const char *name); /* number, or -1 */

/* word -> fields. D1_E_INVAL (with detail) for an unknown opcode or nonzero unused bits. */
d1_status d1_insn_decode(uint32_t word, d1_insn *out);
/* fields -> word. D1_E_RANGE (with detail) when a field does not fit its format. */
d1_status d1_insn_encode(const d1_insn *in, uint32_t *word);
/* Assembly text of one instruction at byte address pc (branch targets shown absolute). */
int d1_insn_disasm(const d1_insn *in, uint64_t pc, char *buf, size_t n);


/* ---- helpers (added by the ISA tools module; the contract above is unchanged) ---------- */

#include <stdio.h>

/* Operand kinds of the assembly syntax. MEM is `imm(rs1)`: imm field + x register in b. */
typedef enum d1_opnd_kind {
    D1_OPND_XREG,  /* x0..x31 */
    D1_OPND_VREG,  /* v0..v31 */
    D1_OPND_MREG,  /* m0..m7 */
    D1_OPND_SREG,  /* s0..s31 */
    D1_OPND_IMM,   /* immediate (range in d1_insn_fmt) */
    D1_OPND_CSR,   /* CSR name (number in the imm field) */
    D1_OPND_LABEL, /* branch/jump target: imm = offset in instructions */
    D1_OPND_MEM    /* imm(rs1) */
} d1_opnd_kind;

typedef enum d1_field { D1_FLD_A, D1_FLD_B, D1_FLD_C, D1_FLD_IMM } d1_field;

/* Static description of one format: which fields it uses and how operands map onto them. */
typedef struct d1_insn_fmt {
    const char *name;   /* "R", "IU", ... */
    const char *syntax; /* "rd, rs1, imm" */
    uint8_t n_opnds;
    struct {
        d1_opnd_kind kind;
        d1_field field; /* register field (MEM: base register field) or D1_FLD_IMM */
    } opnd[3];
    uint8_t imm_bits; /* 0 (no immediate), 14 or 19 */
    int64_t imm_min, imm_max; /* allowed immediate values (after sign/zero extension) */
} d1_insn_fmt;

#define D1_MREGS 8
#define D1_INSN_BYTES 4

const d1_insn_fmt *d1_insn_fmt_of(d1_fmt_kind f); /* NULL if not a format */
const char *d1_unit_name(d1_unit u);               /* "ALU", ... */
const char *d1_lat_name(d1_lat l);                 /* "LAT_ALU", ... */
const char *d1_lat_config_key(d1_lat l);           /* "lat_alu", NULL for LAT_0 */
int d1_csr_writable(int number);                   /* 1, 0, or -1 if not a CSR */
const char *d1_csr_doc(int number);                /* NULL if not a CSR */
/* One-line semantics of an instruction (doc/isa.md); NULL if op is not an op or missing. */
const char *d1_insn_semantics(d1_op op);
/* Write the Markdown ISA reference (doc/isa.md) generated from the tables. */
void d1_isa_write_doc(FILE *out);

#endif
