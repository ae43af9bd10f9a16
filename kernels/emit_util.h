/* Small conveniences over the d1s_kernel emitter for kernel generators (module d1k_em).
 *
 * A d1k_em wraps one program of a kernel with a sticky status: after the first failure
 * every call is a no-op and d1k_em_status() reports the first error, so a generator emits
 * straight-line code and checks once at the end. Labels are forward-patchable. */
#ifndef D1K_EMIT_UTIL_H
#define D1K_EMIT_UTIL_H

#include "sim/arch/isa.h"
#include "sim/elf/emit.h"

#include <stdint.h>

#define D1K_EM_MAX_FIXUPS 1024
#define D1K_EM_MAX_LABELS 512

typedef struct d1k_em {
    d1s_kernel *k;
    uint32_t prog;
    d1_status st;
    uint64_t label_pc[D1K_EM_MAX_LABELS]; /* UINT64_MAX: not bound yet */
    int nlabels;
    struct {
        uint64_t pc;
        int label;
        d1_insn in; /* imm is replaced by the offset */
    } fix[D1K_EM_MAX_FIXUPS];
    int nfix;
} d1k_em;

void d1k_em_init(d1k_em *e, d1s_kernel *k, uint32_t prog);
/* Resolve forward branches; returns the first error of the whole emission. */
d1_status d1k_em_finish(d1k_em *e);

void d1k_em_raw(d1k_em *e, d1_op op, int a, int b, int c, int64_t imm);
/* Common shapes. */
static inline void d1k_r(d1k_em *e, d1_op op, int rd, int rs1, int rs2) { d1k_em_raw(e, op, rd, rs1, rs2, 0); }
static inline void d1k_i(d1k_em *e, d1_op op, int rd, int rs1, int64_t imm) { d1k_em_raw(e, op, rd, rs1, 0, imm); }
/* loads: rd/vd/m, imm(rs1); stores: rs2/vs/m, imm(rs1) */
static inline void d1k_mem(d1k_em *e, d1_op op, int reg, int base, int64_t off) { d1k_em_raw(e, op, reg, base, 0, off); }
static inline void d1k_sem(d1k_em *e, d1_op op, int sem, int count) { d1k_em_raw(e, op, sem, 0, 0, count); }
static inline void d1k_mma(d1k_em *e, d1_op op, int acc, int va, int vb) { d1k_em_raw(e, op, acc, va, vb, 0); }
static inline void d1k_csrr(d1k_em *e, int rd, int csr) { d1k_em_raw(e, D1_OP_CSRR, rd, 0, 0, csr); }
static inline void d1k_csrw(d1k_em *e, int csr, int rs1) { d1k_em_raw(e, D1_OP_CSRW, 0, rs1, 0, csr); }
/* rd = v (any 64-bit value; 1-5 instructions). */
void d1k_li(d1k_em *e, int rd, int64_t v);
/* rd = rs1 + v for any v (uses `tmp` when v does not fit 14 bits). */
void d1k_addi_any(d1k_em *e, int rd, int rs1, int64_t v, int tmp);

/* Labels: new (unbound), bind at the current pc, branch to (B format: rs1, rs2). */
int d1k_label(d1k_em *e);
void d1k_bind(d1k_em *e, int label);
void d1k_branch(d1k_em *e, d1_op op, int rs1, int rs2, int label);
void d1k_jump(d1k_em *e, int label); /* jal x0 */
uint64_t d1k_em_pc(const d1k_em *e);

#endif
