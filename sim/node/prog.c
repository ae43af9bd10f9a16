/* Predecoding: words -> d1s_pinsn with operand lists, unit, latency class, port bytes. */
#include "node_internal.h"

#include <stdlib.h>

static void src(d1s_pinsn *p, int kind, int reg)
{
    if (kind == OPK_X && reg == 0)
        return; /* x0 is always ready */
    p->src_kind[p->nsrc] = (uint8_t)kind;
    p->src_reg[p->nsrc] = (uint8_t)reg;
    p->nsrc++;
}

static void dst(d1s_pinsn *p, int kind, int reg)
{
    if (kind == OPK_X && reg == 0)
        return; /* writes to x0 are dropped */
    p->dst_kind = (uint8_t)kind;
    p->dst_reg = (uint8_t)reg;
}

/* Fill the operand lists from the format; 0 ok, -1 if an operand is out of range. */
static int operands(d1s_pinsn *p, const d1_insn_info *info)
{
    int a = p->a, b = p->b, c = p->c;
    switch (info->fmt) {
    case D1_F_N:
    case D1_F_T:
    case D1_F_SEM:
        break;
    case D1_F_R:
        dst(p, OPK_X, a);
        src(p, OPK_X, b);
        src(p, OPK_X, c);
        break;
    case D1_F_RR:
        src(p, OPK_X, b);
        src(p, OPK_X, c);
        break;
    case D1_F_I:
    case D1_F_IU:
    case D1_F_L:
        dst(p, OPK_X, a);
        src(p, OPK_X, b);
        break;
    case D1_F_U:
    case D1_F_J:
    case D1_F_CR:
        dst(p, OPK_X, a);
        break;
    case D1_F_B:
    case D1_F_S:
        src(p, OPK_X, a);
        src(p, OPK_X, b);
        break;
    case D1_F_L0:
    case D1_F_CW:
        src(p, OPK_X, b);
        break;
    case D1_F_VL:
        dst(p, OPK_V, a);
        src(p, OPK_X, b);
        break;
    case D1_F_VS:
        src(p, OPK_V, a);
        src(p, OPK_X, b);
        break;
    case D1_F_VX:
        dst(p, OPK_V, a);
        src(p, OPK_X, b);
        break;
    case D1_F_XV:
    case D1_F_XV0:
        dst(p, OPK_X, a);
        src(p, OPK_V, b);
        break;
    case D1_F_V1:
        dst(p, OPK_V, a);
        src(p, OPK_V, b);
        break;
    case D1_F_VR:
        dst(p, OPK_V, a);
        src(p, OPK_V, b);
        src(p, OPK_V, c);
        if (p->op == D1_OP_VFMAF)
            src(p, OPK_V, a); /* vd = va * vb + vd */
        break;
    case D1_F_VQ: /* vd is merged (the other parts are kept) */
        dst(p, OPK_V, a);
        src(p, OPK_V, b);
        src(p, OPK_V, a);
        break;
    case D1_F_M:
        if (a > 7)
            return -1;
        dst(p, OPK_M, a);
        src(p, OPK_V, b);
        src(p, OPK_V, c);
        break;
    case D1_F_M0:
        if (a > 7)
            return -1;
        dst(p, OPK_M, a);
        break;
    case D1_F_ML:
        if (a > 7)
            return -1;
        if (p->op == D1_OP_MST)
            src(p, OPK_M, a);
        else
            dst(p, OPK_M, a);
        src(p, OPK_X, b);
        break;
    default:
        return -1;
    }
    return 0;
}

static uint16_t access_bytes(int op)
{
    switch (op) {
    case D1_OP_LD:
    case D1_OP_SD:
        return 8;
    case D1_OP_LW:
    case D1_OP_LWU:
    case D1_OP_SW:
        return 4;
    case D1_OP_LH:
    case D1_OP_LHU:
    case D1_OP_SH:
        return 2;
    case D1_OP_LB:
    case D1_OP_LBU:
    case D1_OP_SB:
        return 1;
    case D1_OP_VLD:
    case D1_OP_VST:
        return 64;
    case D1_OP_MLD:
    case D1_OP_MST:
        return 256;
    case D1_OP_DMA:
        return (uint16_t)sizeof(d1_dma_desc);
    default:
        return 0;
    }
}

static uint8_t rdy_index(int kind, int reg)
{
    return (uint8_t)(kind == OPK_X ? RDY_X + reg : kind == OPK_V ? RDY_V + reg : RDY_M + 2 * reg);
}

/* Static issue information: slot class, scoreboard entries to check and to write. */
static void issue_info(d1s_pinsn *p)
{
    switch (p->unit) {
    case D1_U_ALU:
    case D1_U_SYS:
        p->cls = SLOT_ALU;
        break;
    case D1_U_AGU:
    case D1_U_DMA:
        p->cls = SLOT_AGU;
        break;
    default:
        p->cls = SLOT_VEC;
        break;
    }
    p->serial = (p->flags & D1_IF_SERIAL) != 0;
    p->xchk = p->ld_bytes || p->st_bytes || p->op == D1_OP_DMA;
    switch (p->op) { /* exec_* returns X_NEXT at once when t->v == NULL (no checks) */
    case D1_OP_VBCAST:
    case D1_OP_VMOV:
    case D1_OP_VAND:
    case D1_OP_VOR:
    case D1_OP_VXOR:
    case D1_OP_VADDI:
    case D1_OP_VADDF:
    case D1_OP_VSUBF:
    case D1_OP_VMULF:
    case D1_OP_VFMAF:
    case D1_OP_VMAXF:
    case D1_OP_VMINF:
    case D1_OP_VDIVF:
    case D1_OP_VCMPGT:
    case D1_OP_VEXPF:
    case D1_OP_VLOGF:
    case D1_OP_MMABF:
    case D1_OP_MMAC8:
    case D1_OP_MZERO:
        p->tnop = 1;
        break;
    default:
        break;
    }
    p->udec = (1u << (p->cls << 3)) + ((uint32_t)p->is_mxu << SLOTS_MXU_SHIFT);
    p->nchk = 0;
    for (int k = 0; k < 4; k++)
        p->chk[k] = RDY_ZERO;
    for (int k = 0; k < p->nsrc; k++)
        if (p->src_kind[k] != OPK_NONE)
            p->chk[p->nchk++] = rdy_index(p->src_kind[k], p->src_reg[k]);
    p->wb = RDY_NONE;
    p->wb_fwd = RDY_NONE_FWD;
    if (p->dst_kind != OPK_NONE) {
        p->wb = rdy_index(p->dst_kind, p->dst_reg);
        /* WAW; matrix-unit ops chain through the accumulator forwarding path */
        p->chk[p->nchk++] =
            p->dst_kind == OPK_M && p->is_mxu ? (uint8_t)(RDY_MFWD + 2 * p->dst_reg) : p->wb;
        if (p->dst_kind == OPK_M)
            p->wb_fwd = (uint8_t)(RDY_MFWD + 2 * p->dst_reg);
    }
}

/* An undecodable word: it traps when fetched. Nothing stalls it (operands RDY_ZERO, no
 * issue slot), so it reaches the issue stage's rare-case branch (xchk), which traps. */
static void illegal(uint32_t word, d1s_pinsn *p)
{
    memset(p, 0, sizeof *p);
    p->word = word;
    p->op = D1S_OP_ILLEGAL;
    for (int k = 0; k < 4; k++)
        p->chk[k] = RDY_ZERO;
    p->wb = RDY_NONE;
    p->wb_fwd = RDY_NONE_FWD;
    p->xchk = 1;
}

static void predecode(uint32_t word, d1s_pinsn *p)
{
    illegal(word, p);
    d1_insn in;
    if (d1_insn_decode(word, &in) != D1_OK)
        return;
    const d1_insn_info *info = d1_insn_info_of(in.op);
    if (!info)
        return;
    memset(p, 0, sizeof *p);
    p->word = word;
    p->op = (uint8_t)in.op;
    p->a = in.a;
    p->b = in.b;
    p->c = in.c;
    p->imm = in.imm;
    p->unit = (uint8_t)info->unit;
    p->lat = (uint8_t)info->lat;
    p->flags = (uint16_t)info->flags;
    p->is_mma = in.op == D1_OP_MMABF || in.op == D1_OP_MMAC8;
    p->is_mxu = p->is_mma || in.op == D1_OP_MZERO;
    uint16_t bytes = access_bytes(in.op);
    if (info->flags & D1_IF_LOAD)
        p->ld_bytes = bytes;
    if (info->flags & D1_IF_STORE)
        p->st_bytes = bytes;
    if (in.op == D1_OP_DMA)
        p->ld_bytes = bytes; /* the descriptor is read through the load port */
    if (operands(p, info) != 0) {
        illegal(word, p);
        return;
    }
    issue_info(p);
}

d1_status d1s_prog_create(const uint32_t *words, size_t n, d1s_prog **out)
{
    *out = NULL;
    if (!words && n)
        return d1_fail(D1_E_INVAL, "program: no words");
    d1s_prog *p = calloc(1, sizeof *p);
    if (!p)
        return d1_fail(D1_E_NOMEM, "program: out of memory");
    p->n = n;
    p->insn = calloc(n ? n : 1, sizeof *p->insn);
    if (!p->insn) {
        free(p);
        return d1_fail(D1_E_NOMEM, "program: out of memory (%zu instructions)", n);
    }
    for (size_t k = 0; k < n; k++)
        predecode(words[k], &p->insn[k]);
    *out = p;
    return D1_OK;
}

void d1s_prog_destroy(d1s_prog *p)
{
    if (!p)
        return;
    free(p->insn);
    free(p);
}

size_t d1s_prog_len(const d1s_prog *p)
{
    return p ? p->n : 0;
}
