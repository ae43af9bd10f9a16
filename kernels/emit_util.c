/* d1k_em: sticky-status emitter helpers (see emit_util.h). */
#include "emit_util.h"

#include <string.h>

void d1k_em_init(d1k_em *e, d1s_kernel *k, uint32_t prog)
{
    memset(e, 0, sizeof *e);
    e->k = k;
    e->prog = prog;
    e->st = D1_OK;
}

uint64_t d1k_em_pc(const d1k_em *e) { return d1s_kernel_pc(e->k, e->prog); }

void d1k_em_raw(d1k_em *e, d1_op op, int a, int b, int c, int64_t imm)
{
    if (e->st != D1_OK)
        return;
    d1_insn in = {op, (uint8_t)a, (uint8_t)b, (uint8_t)c, imm};
    e->st = d1s_kernel_emit(e->k, e->prog, &in);
}

static int fits_signed(int64_t v, int bits)
{
    int64_t lim = INT64_C(1) << (bits - 1);
    return v >= -lim && v < lim;
}

void d1k_li(d1k_em *e, int rd, int64_t v)
{
    if (fits_signed(v, 14)) {
        d1k_i(e, D1_OP_ADDI, rd, 0, v);
        return;
    }
    if (v >= 0 && v < (INT64_C(1) << 31)) {
        d1k_em_raw(e, D1_OP_LUI, rd, 0, 0, v >> 13);
        if (v & 0x1fff)
            d1k_i(e, D1_OP_ORI, rd, rd, v & 0x1fff);
        return;
    }
    /* general: high part, shift, or in 13 bits (arithmetic shift keeps negative values) */
    d1k_li(e, rd, v >> 13);
    d1k_i(e, D1_OP_SLLI, rd, rd, 13);
    if (v & 0x1fff)
        d1k_i(e, D1_OP_ORI, rd, rd, v & 0x1fff);
}

void d1k_addi_any(d1k_em *e, int rd, int rs1, int64_t v, int tmp)
{
    if (fits_signed(v, 14)) {
        if (v || rd != rs1)
            d1k_i(e, D1_OP_ADDI, rd, rs1, v);
        return;
    }
    d1k_li(e, tmp, v);
    d1k_r(e, D1_OP_ADD, rd, rs1, tmp);
}

int d1k_label(d1k_em *e)
{
    if (e->nlabels >= D1K_EM_MAX_LABELS) {
        if (e->st == D1_OK)
            e->st = d1_fail(D1_E_RANGE, "emitter: too many labels");
        return 0;
    }
    e->label_pc[e->nlabels] = UINT64_MAX;
    return e->nlabels++;
}

void d1k_bind(d1k_em *e, int label) { e->label_pc[label] = d1k_em_pc(e); }

static void branch_to(d1k_em *e, d1_insn in, int label)
{
    if (e->st != D1_OK)
        return;
    uint64_t pc = d1k_em_pc(e);
    if (e->label_pc[label] != UINT64_MAX) {
        in.imm = ((int64_t)e->label_pc[label] - (int64_t)pc) / 4;
        e->st = d1s_kernel_emit(e->k, e->prog, &in);
        return;
    }
    if (e->nfix >= D1K_EM_MAX_FIXUPS) {
        e->st = d1_fail(D1_E_RANGE, "emitter: too many forward branches");
        return;
    }
    e->fix[e->nfix].pc = pc;
    e->fix[e->nfix].label = label;
    e->fix[e->nfix].in = in;
    e->nfix++;
    in.imm = 0;
    e->st = d1s_kernel_emit(e->k, e->prog, &in);
}

void d1k_branch(d1k_em *e, d1_op op, int rs1, int rs2, int label)
{
    d1_insn in = {op, (uint8_t)rs1, (uint8_t)rs2, 0, 0};
    branch_to(e, in, label);
}

void d1k_jump(d1k_em *e, int label)
{
    d1_insn in = {D1_OP_JAL, 0, 0, 0, 0};
    branch_to(e, in, label);
}

d1_status d1k_em_finish(d1k_em *e)
{
    for (int i = 0; i < e->nfix && e->st == D1_OK; i++) {
        uint64_t target = e->label_pc[e->fix[i].label];
        if (target == UINT64_MAX) {
            e->st = d1_fail(D1_E_INVAL, "emitter: branch to an unbound label");
            break;
        }
        d1_insn in = e->fix[i].in;
        in.imm = ((int64_t)target - (int64_t)e->fix[i].pc) / 4;
        e->st = d1s_kernel_patch(e->k, e->prog, e->fix[i].pc, &in);
    }
    e->nfix = 0;
    return e->st;
}
