/* Per-instruction semantics: one tiny exec_<sym> function per row of isa.def, dispatched
 * through d1s_exec_table (expanded from isa.def: a missing function is a build error).
 *
 * Timing (scoreboard, issue slots, port budgets) is the issue stage's business (node.c);
 * these functions only compute and check. In timing-only mode the vector/matrix register
 * files do not exist (t->v == NULL): vector/matrix data is not computed, scalar results
 * derived from vector data read as 0, and vector/matrix SRAM contents are not touched. */
#include "node_internal.h"

#include "sim/arch/formats.h"

#include <math.h>
#include <stdlib.h>

#define XR(r) ((r) ? t->x[(r)] : 0u)
#define XS(r) ((int64_t)XR(r))
#define XW(r, val)                                                                                 \
    do {                                                                                           \
        if (r)                                                                                     \
            t->x[(r)] = (uint64_t)(val);                                                           \
    } while (0)

#define EXEC(sym) static int exec_##sym(d1s_node *n, d1s_thr *t, const d1s_pinsn *i, uint64_t now)
#define UNUSED_ARGS                                                                                \
    do {                                                                                           \
        (void)n;                                                                                   \
        (void)t;                                                                                   \
        (void)i;                                                                                   \
        (void)now;                                                                                 \
    } while (0)

/* ---- helpers ------------------------------------------------------------------------- */

static int trap(d1s_node *n, d1s_thr *t, d1s_trap_cause c, uint64_t detail, uint64_t now)
{
    d1s_node_trap_at(n, t, c, detail, now);
    return X_TRAP;
}

/* Range and alignment check of an SRAM access; 0 = fine, X_TRAP otherwise. */
static int mem_check(d1s_node *n, d1s_thr *t, uint64_t addr, uint64_t size, uint64_t align,
                     uint64_t now)
{
    if (addr & (align - 1))
        return trap(n, t, D1S_TRAP_MISALIGNED, addr, now);
    if (addr >= n->sram_bytes || size > n->sram_bytes - addr)
        return trap(n, t, D1S_TRAP_SRAM_RANGE, addr, now);
    return 0;
}

static int store(d1s_node *n, d1s_thr *t, uint64_t addr, const void *src, size_t len, uint64_t now)
{
    if (d1s_sram_wr(n, addr, src, len) != 0) {
        (void)t;
        (void)now;
        return X_TRAP; /* host allocation failure, recorded by d1s_sram_wr */
    }
    return X_NEXT;
}

static float lanef(const uint8_t *v, int i)
{
    float f;
    memcpy(&f, v + 4 * i, 4);
    return f;
}
static void set_lanef(uint8_t *v, int i, float f)
{
    memcpy(v + 4 * i, &f, 4);
}
static uint32_t lanei(const uint8_t *v, int i)
{
    uint32_t u;
    memcpy(&u, v + 4 * i, 4);
    return u;
}
static void set_lanei(uint8_t *v, int i, uint32_t u)
{
    memcpy(v + 4 * i, &u, 4);
}

static int jump(d1s_node *n, d1s_thr *t, uint64_t target, uint64_t now)
{
    if (target & 3)
        return trap(n, t, D1S_TRAP_MISALIGNED, target, now);
    t->pc = target; /* range is checked when the target is fetched */
    return X_JUMP;
}

static int branch(d1s_node *n, d1s_thr *t, const d1s_pinsn *i, int taken, uint64_t now)
{
    if (!taken)
        return X_NEXT;
    return jump(n, t, t->pc + (uint64_t)(i->imm * 4), now);
}

/* ---- scalar integer ------------------------------------------------------------------ */
#define RR_OP(sym, expr)                                                                           \
    EXEC(sym)                                                                                      \
    {                                                                                              \
        UNUSED_ARGS;                                                                               \
        uint64_t a = XR(i->b), b = XR(i->c);                                                       \
        (void)a;                                                                                   \
        (void)b;                                                                                   \
        XW(i->a, (expr));                                                                          \
        return X_NEXT;                                                                             \
    }

RR_OP(ADD, a + b)
RR_OP(SUB, a - b)
RR_OP(AND, a &b)
RR_OP(OR, a | b)
RR_OP(XOR, a ^ b)
RR_OP(SLL, a << (b & 63))
RR_OP(SRL, a >> (b & 63))
RR_OP(SRA, (uint64_t)((int64_t)a >> (b & 63)))
RR_OP(SLT, (int64_t)a < (int64_t)b)
RR_OP(SLTU, a < b)
RR_OP(MUL, a *b)
RR_OP(MIN, (int64_t)a < (int64_t)b ? a : b)
RR_OP(MAX, (int64_t)a > (int64_t)b ? a : b)

#define RI_OP(sym, expr)                                                                           \
    EXEC(sym)                                                                                      \
    {                                                                                              \
        UNUSED_ARGS;                                                                               \
        uint64_t a = XR(i->b), imm = (uint64_t)i->imm;                                             \
        (void)a;                                                                                   \
        XW(i->a, (expr));                                                                          \
        return X_NEXT;                                                                             \
    }

RI_OP(ADDI, a + imm)
RI_OP(ANDI, a &imm)
RI_OP(ORI, a | imm)
RI_OP(XORI, a ^ imm)
RI_OP(SLLI, a << (imm & 63))
RI_OP(SRLI, a >> (imm & 63))
RI_OP(SRAI, (uint64_t)((int64_t)a >> (imm & 63)))
RI_OP(SLTI, (int64_t)a < (int64_t)imm)
RI_OP(MULI, a *imm)
RI_OP(LUI, imm << 13)

/* ---- control flow -------------------------------------------------------------------- */
EXEC(BEQ)
{
    return branch(n, t, i, XR(i->a) == XR(i->b), now);
}
EXEC(BNE)
{
    return branch(n, t, i, XR(i->a) != XR(i->b), now);
}
EXEC(BLT)
{
    return branch(n, t, i, XS(i->a) < XS(i->b), now);
}
EXEC(BGE)
{
    return branch(n, t, i, XS(i->a) >= XS(i->b), now);
}
EXEC(BLTU)
{
    return branch(n, t, i, XR(i->a) < XR(i->b), now);
}
EXEC(BGEU)
{
    return branch(n, t, i, XR(i->a) >= XR(i->b), now);
}
EXEC(JAL)
{
    uint64_t link = t->pc + 4;
    int r = jump(n, t, t->pc + (uint64_t)(i->imm * 4), now);
    XW(i->a, link);
    return r;
}
EXEC(JALR)
{
    uint64_t link = t->pc + 4, target = XR(i->b) + (uint64_t)i->imm;
    int r = jump(n, t, target, now);
    if (r == X_JUMP)
        XW(i->a, link);
    return r;
}

/* ---- scalar load/store (computed in both modes: scalar state) --------------------------- */
#define LOAD_OP(sym, ctype, size)                                                                  \
    EXEC(sym)                                                                                      \
    {                                                                                              \
        uint64_t addr = XR(i->b) + (uint64_t)i->imm;                                               \
        if (mem_check(n, t, addr, size, size, now))                                                \
            return X_TRAP;                                                                         \
        ctype v;                                                                                   \
        d1s_sram_rd(n, addr, &v, size);                                                            \
        XW(i->a, v);                                                                               \
        return X_NEXT;                                                                             \
    }
/* Casting through the signed C type sign-extends, through the unsigned one zero-extends. */
LOAD_OP(LD, uint64_t, 8)
LOAD_OP(LW, int32_t, 4)
LOAD_OP(LWU, uint32_t, 4)
LOAD_OP(LH, int16_t, 2)
LOAD_OP(LHU, uint16_t, 2)
LOAD_OP(LB, int8_t, 1)
LOAD_OP(LBU, uint8_t, 1)

#define STORE_OP(sym, ctype, size)                                                                 \
    EXEC(sym)                                                                                      \
    {                                                                                              \
        uint64_t addr = XR(i->b) + (uint64_t)i->imm;                                               \
        if (mem_check(n, t, addr, size, size, now))                                                \
            return X_TRAP;                                                                         \
        ctype v = (ctype)XR(i->a);                                                                 \
        return store(n, t, addr, &v, size, now);                                                   \
    }
STORE_OP(SD, uint64_t, 8)
STORE_OP(SW, uint32_t, 4)
STORE_OP(SH, uint16_t, 2)
STORE_OP(SB, uint8_t, 1)

/* ---- system, threads, synchronisation ------------------------------------------------- */
EXEC(NOP)
{
    UNUSED_ARGS;
    return X_NEXT;
}
EXEC(HALT)
{
    UNUSED_ARGS;
    return X_HALT;
}
EXEC(TRAP)
{
    return trap(n, t, D1S_TRAP_GUEST, (uint64_t)i->imm, now);
}

EXEC(CSRR)
{
    uint64_t v;
    switch (i->imm) {
    case D1_CSR_CYCLE:
        v = now;
        break;
    case D1_CSR_TID:
        v = t->tid;
        break;
    case D1_CSR_NID:
        v = n->id;
        break;
    case D1_CSR_NX:
        v = n->gx;
        break;
    case D1_CSR_NY:
        v = n->gy;
        break;
    case D1_CSR_SRSEED:
        v = t->srseed;
        break;
    case D1_CSR_SRIDX:
        v = t->sridx;
        break;
    case D1_CSR_CVTFMT:
        v = t->cvtfmt;
        break;
    case D1_CSR_MFMT:
        v = t->mfmt;
        break;
    case D1_CSR_FFLAGS:
        v = t->fflags;
        break;
    default:
        return trap(n, t, D1S_TRAP_ILLEGAL, i->word, now);
    }
    XW(i->a, v);
    return X_NEXT;
}

EXEC(CSRW)
{
    uint64_t v = XR(i->b);
    switch (i->imm) {
    case D1_CSR_SRSEED:
        t->srseed = v;
        break;
    case D1_CSR_SRIDX:
        t->sridx = v;
        break;
    case D1_CSR_CVTFMT:
        t->cvtfmt = v & 0x7f;
        break;
    case D1_CSR_MFMT:
        t->mfmt = v & 0x7f7f;
        break;
    case D1_CSR_FFLAGS:
        t->fflags = v & 0xf;
        break;
    default:
        return trap(n, t, D1S_TRAP_ILLEGAL, i->word, now); /* unknown or read-only */
    }
    return X_NEXT;
}

EXEC(TSTART)
{
    uint64_t tid = XR(i->b), pc = XR(i->c);
    if (tid == 0 || tid >= (uint64_t)n->nthreads)
        return trap(n, t, D1S_TRAP_ILLEGAL, tid, now);
    d1s_thr *nt = &n->t[tid];
    if (nt->state != TS_IDLE && nt->state != TS_HALT)
        return trap(n, t, D1S_TRAP_ILLEGAL, tid, now);
    if (pc & 3)
        return trap(n, t, D1S_TRAP_MISALIGNED, pc, now);
    if (pc / 4 >= n->plen)
        return trap(n, t, D1S_TRAP_PC_RANGE, pc, now);
    if (d1s_node_thread_start(n, nt, pc, now + 1) != 0)
        return X_TRAP; /* host allocation failure, recorded */
    return X_NEXT;
}

EXEC(SWAIT)
{
    uint32_t s = i->a, c = (uint32_t)i->imm;
    if (s >= n->nsems)
        return trap(n, t, D1S_TRAP_ILLEGAL, s, now);
    if (n->sems[s] >= c) {
        n->sems[s] -= c;
        return X_NEXT;
    }
    d1s_thr_set_state(n, t, TS_SEM);
    t->wait_sem = s;
    t->wait_count = c;
    return X_BLOCK;
}

EXEC(SPOST)
{
    uint32_t s = i->a;
    if (s >= n->nsems)
        return trap(n, t, D1S_TRAP_ILLEGAL, s, now);
    return d1s_node_sem_post(n, t, s, (uint32_t)i->imm, now) ? X_NEXT : X_TRAP;
}

EXEC(BAR)
{
    UNUSED_ARGS;
    d1s_thr_set_state(n, t, TS_BAR);
    d1s_node_barrier_check(n, now);
    return X_BLOCK;
}

EXEC(FENCE)
{
    UNUSED_ARGS;
    return X_NEXT; /* serial: issue waited for every older instruction */
}

/* ---- DMA ------------------------------------------------------------------------------- */
EXEC(DMA)
{
    uint64_t addr = XR(i->b) + (uint64_t)i->imm;
    if (mem_check(n, t, addr, sizeof(d1_dma_desc), 8, now))
        return X_TRAP;
    uint8_t raw[32];
    d1s_sram_rd(n, addr, raw, sizeof raw);
    d1_dma_desc d;
    d.kind = raw[0];
    d.sem_local = raw[1];
    d.sem_remote = raw[2];
    d.pad0 = raw[3];
    memcpy(&d.len_bytes, raw + 4, 4);
    memcpy(&d.node, raw + 8, 4);
    memcpy(&d.pad1, raw + 12, 4);
    memcpy(&d.local_addr, raw + 16, 8);
    memcpy(&d.remote_addr, raw + 24, 8);
    if (d.kind == D1_DMA_HBM_RD || d.kind == D1_DMA_HBM_WR) {
        if (!n->hbm.dip_node)
            return trap(n, t, D1S_TRAP_UNSUPPORTED, d.kind, now);
        uint32_t dip = n->hbm.dip_node(n->hbm.ctx, d.node);
        if (dip == UINT32_MAX)
            return trap(n, t, D1S_TRAP_DMA_NODE, d.node, now);
        if (d.len_bytes == 0 || d.local_addr >= n->sram_bytes ||
            d.len_bytes > n->sram_bytes - d.local_addr || d.remote_addr >= n->hbm.hbm_bytes ||
            d.len_bytes > n->hbm.hbm_bytes - d.remote_addr ||
            (d.sem_local != D1_DMA_NO_SEM && d.sem_local >= n->nsems))
            return trap(n, t, D1S_TRAP_DMA_DESC, addr, now);
        /* an HBM read is a GET answered by the DIP, a write a PUT to it */
        d.kind = d.kind == D1_DMA_HBM_RD ? D1_DMA_GET : D1_DMA_PUT;
        d.node = dip;
        d.sem_remote = D1_DMA_NO_SEM;
        d1s_node_dma_enqueue(n, &d, now);
        return X_NEXT;
    }
    if (d.kind != D1_DMA_PUT && d.kind != D1_DMA_GET)
        return trap(n, t, D1S_TRAP_DMA_DESC, addr, now);
    if (d.len_bytes == 0 || d.local_addr >= n->sram_bytes ||
        d.len_bytes > n->sram_bytes - d.local_addr || d.remote_addr >= n->sram_bytes ||
        d.len_bytes > n->sram_bytes - d.remote_addr)
        return trap(n, t, D1S_TRAP_DMA_DESC, addr, now);
    if ((d.sem_local != D1_DMA_NO_SEM && d.sem_local >= n->nsems) ||
        (d.sem_remote != D1_DMA_NO_SEM && d.sem_remote >= n->nsems))
        return trap(n, t, D1S_TRAP_DMA_DESC, addr, now);
    if (!n->port.node_ok || !n->port.node_ok(n->port.ctx, d.node))
        return trap(n, t, D1S_TRAP_DMA_NODE, d.node, now);
    d1s_node_dma_enqueue(n, &d, now);
    return X_NEXT;
}

/* ---- vector ------------------------------------------------------------------------------ */
/* VLD/MLD and VST/MST: len bytes at x[b] + imm (64-byte aligned) into or from reg, which is
 * NULL in timing-only mode (the access is still checked). */
static int load_block(d1s_node *n, d1s_thr *t, const d1s_pinsn *i, void *reg, size_t len,
                      uint64_t now)
{
    uint64_t addr = XR(i->b) + (uint64_t)i->imm;
    if (mem_check(n, t, addr, len, 64, now))
        return X_TRAP;
    if (reg)
        d1s_sram_rd(n, addr, reg, len);
    return X_NEXT;
}

static int store_block(d1s_node *n, d1s_thr *t, const d1s_pinsn *i, const void *reg, size_t len,
                       uint64_t now)
{
    uint64_t addr = XR(i->b) + (uint64_t)i->imm;
    if (mem_check(n, t, addr, len, 64, now))
        return X_TRAP;
    if (!reg)
        return X_NEXT;
    return store(n, t, addr, reg, len, now);
}

EXEC(VLD)
{
    return load_block(n, t, i, t->v ? t->v[i->a] : NULL, 64, now);
}

EXEC(VST)
{
    return store_block(n, t, i, t->v ? t->v[i->a] : NULL, 64, now);
}

EXEC(VBCAST)
{
    UNUSED_ARGS;
    if (t->v)
        for (int l = 0; l < 16; l++)
            set_lanei(t->v[i->a], l, (uint32_t)XR(i->b));
    return X_NEXT;
}

EXEC(VEXT)
{
    if (i->imm > 15)
        return trap(n, t, D1S_TRAP_ILLEGAL, i->word, now);
    XW(i->a, t->v ? lanei(t->v[i->b], (int)i->imm) : 0u);
    return X_NEXT;
}

EXEC(VMOV)
{
    UNUSED_ARGS;
    if (t->v)
        memmove(t->v[i->a], t->v[i->b], 64);
    return X_NEXT;
}

#define VBIT_OP(sym, expr)                                                                         \
    EXEC(sym)                                                                                      \
    {                                                                                              \
        UNUSED_ARGS;                                                                               \
        if (!t->v)                                                                                 \
            return X_NEXT;                                                                         \
        uint8_t r[64];                                                                             \
        for (int l = 0; l < 16; l++) {                                                             \
            uint32_t a = lanei(t->v[i->b], l), b = lanei(t->v[i->c], l);                           \
            set_lanei(r, l, (expr));                                                               \
        }                                                                                          \
        memcpy(t->v[i->a], r, 64);                                                                 \
        return X_NEXT;                                                                             \
    }
VBIT_OP(VAND, a &b)
VBIT_OP(VOR, a | b)
VBIT_OP(VXOR, a ^ b)
VBIT_OP(VADDI, a + b)

#define VF_OP(sym, expr)                                                                           \
    EXEC(sym)                                                                                      \
    {                                                                                              \
        UNUSED_ARGS;                                                                               \
        if (!t->v)                                                                                 \
            return X_NEXT;                                                                         \
        uint8_t r[64];                                                                             \
        for (int l = 0; l < 16; l++) {                                                             \
            float a = lanef(t->v[i->b], l), b = lanef(t->v[i->c], l);                              \
            float d = lanef(t->v[i->a], l);                                                        \
            (void)b;                                                                               \
            (void)d;                                                                               \
            set_lanef(r, l, (expr));                                                               \
        }                                                                                          \
        memcpy(t->v[i->a], r, 64);                                                                 \
        return X_NEXT;                                                                             \
    }
VF_OP(VADDF, a + b)
VF_OP(VSUBF, a - b)
VF_OP(VMULF, a *b)
VF_OP(VFMAF, fmaf(a, b, d))
VF_OP(VMAXF, fmaxf(a, b))
VF_OP(VMINF, fminf(a, b))
VF_OP(VDIVF, a / b)
VF_OP(VEXPF, expf(a))
VF_OP(VLOGF, logf(a))

EXEC(VCMPGT)
{
    UNUSED_ARGS;
    if (!t->v)
        return X_NEXT;
    uint8_t r[64];
    for (int l = 0; l < 16; l++)
        set_lanei(r, l, lanef(t->v[i->b], l) > lanef(t->v[i->c], l) ? 0xffffffffu : 0u);
    memcpy(t->v[i->a], r, 64);
    return X_NEXT;
}

static uint64_t reduce(const d1s_thr *t, const d1s_pinsn *i, int is_max)
{
    if (!t->v)
        return 0;
    float acc = lanef(t->v[i->b], 0);
    for (int l = 1; l < 16; l++)
        acc = is_max ? fmaxf(acc, lanef(t->v[i->b], l)) : acc + lanef(t->v[i->b], l);
    uint32_t u;
    memcpy(&u, &acc, 4);
    return u; /* FP32 bits, zero-extended */
}
EXEC(VRSUMF)
{
    UNUSED_ARGS;
    XW(i->a, reduce(t, i, 0));
    return X_NEXT;
}
EXEC(VRMAXF)
{
    UNUSED_ARGS;
    XW(i->a, reduce(t, i, 1));
    return X_NEXT;
}

/* Conversions. FP32 -> narrow: 16 lanes of va into part q of vd (rest of vd unchanged). */
static d1_dtype cfp8_type(uint64_t fmt)
{
    return (fmt >> 6) & 1 ? D1_CFP8_152 : D1_CFP8_143;
}

static int cvt_to(d1s_node *n, d1s_thr *t, const d1s_pinsn *i, uint64_t now, d1_dtype ty, int bias,
                  int sr)
{
    int esize = (int)d1_dtype_size(ty), parts = 64 / (16 * esize);
    if (i->imm >= parts)
        return trap(n, t, D1S_TRAP_ILLEGAL, i->word, now);
    if (!t->v) {
        if (sr)
            t->sridx += 16; /* scalar state: kept in both modes */
        return X_NEXT;
    }
    uint8_t out[64];
    memcpy(out, t->v[i->a], 64);
    unsigned flags = 0;
    for (int l = 0; l < 16; l++) {
        uint32_t r = sr ? d1_sr_bits(t->srseed, t->sridx + (uint64_t)l) : 0;
        uint32_t code = d1_fmt_encode(ty, lanef(t->v[i->b], l), bias,
                                      sr ? D1_ROUND_STOCHASTIC : D1_ROUND_RNE, r, &flags);
        memcpy(out + i->imm * 16 * esize + l * esize, &code, (size_t)esize); /* LE host */
    }
    if (sr)
        t->sridx += 16;
    t->fflags |= flags;
    memcpy(t->v[i->a], out, 64);
    return X_NEXT;
}

static int cvt_from(d1s_node *n, d1s_thr *t, const d1s_pinsn *i, uint64_t now, d1_dtype ty,
                    int bias)
{
    int esize = (int)d1_dtype_size(ty), parts = 64 / (16 * esize);
    if (i->imm >= parts)
        return trap(n, t, D1S_TRAP_ILLEGAL, i->word, now);
    if (!t->v)
        return X_NEXT;
    uint8_t out[64];
    for (int l = 0; l < 16; l++) {
        uint32_t code = 0;
        memcpy(&code, t->v[i->b] + i->imm * 16 * esize + l * esize, (size_t)esize);
        set_lanef(out, l, d1_fmt_decode(ty, code, bias));
    }
    memcpy(t->v[i->a], out, 64);
    return X_NEXT;
}

EXEC(VCVTBF)
{
    return cvt_to(n, t, i, now, D1_BF16, 127, 0);
}
EXEC(VCVTBFS)
{
    return cvt_to(n, t, i, now, D1_BF16, 127, 1);
}
EXEC(VCVTFB)
{
    return cvt_from(n, t, i, now, D1_BF16, 127);
}
EXEC(VCVTC8)
{
    return cvt_to(n, t, i, now, cfp8_type(t->cvtfmt), (int)(t->cvtfmt & 63), 0);
}
EXEC(VCVTC8S)
{
    return cvt_to(n, t, i, now, cfp8_type(t->cvtfmt), (int)(t->cvtfmt & 63), 1);
}
EXEC(VCVTFC)
{
    return cvt_from(n, t, i, now, cfp8_type(t->cvtfmt), (int)(t->cvtfmt & 63));
}

/* ---- matrix unit ------------------------------------------------------------------------ */
/* m[i][j] = fmaf(A[i][3],B[3][j], ... fmaf(A[i][0],B[0][j], m[i][j])): k ascending
 * (d1s_mma_f32, mma.c: vectorised across the outputs, bit-identical to fmaf). */

EXEC(MMABF)
{
    UNUSED_ARGS;
    if (!t->v)
        return X_NEXT;
    d1s_mma_bf16(t->m[i->a], t->v[i->b], t->v[i->c]); /* decodes as d1_bf16_to_f32 */
    return X_NEXT;
}

/* Decoding table of a CFP8 format (type, bias): cached per node, one slot per operand
 * (d1_fmt_decode is a pure function of its arguments). NULL on allocation failure. */
static const float *c8_table(d1s_node *n, int slot, d1_dtype ty, int bias)
{
    uint32_t key = ((uint32_t)ty << 8 | (uint32_t)bias) + 1;
    if (!n->c8tab) {
        n->c8tab = malloc(2 * 256 * sizeof *n->c8tab);
        if (!n->c8tab)
            return NULL;
        n->c8key[0] = n->c8key[1] = 0;
    }
    float *tab = n->c8tab + 256 * slot;
    if (n->c8key[slot] != key) {
        for (uint32_t c = 0; c < 256; c++)
            tab[c] = d1_fmt_decode(ty, c, bias);
        n->c8key[slot] = key;
    }
    return tab;
}

EXEC(MMAC8)
{
    UNUSED_ARGS;
    if (!t->v)
        return X_NEXT;
    float a[32], b[32];
    const uint8_t *va = t->v[i->b], *vb = t->v[i->c];
    d1_dtype ta = (t->mfmt >> 6) & 1 ? D1_CFP8_152 : D1_CFP8_143;
    d1_dtype tb = (t->mfmt >> 14) & 1 ? D1_CFP8_152 : D1_CFP8_143;
    int ba = (int)(t->mfmt & 63), bb = (int)((t->mfmt >> 8) & 63);
    const float *xa = c8_table(n, 0, ta, ba), *xb = c8_table(n, 1, tb, bb);
    if (xa && xb) {
        for (int k = 0; k < 32; k++) {
            a[k] = xa[va[k]];
            b[k] = xb[vb[k]];
        }
    } else {
        for (int k = 0; k < 32; k++) {
            a[k] = d1_fmt_decode(ta, va[k], ba);
            b[k] = d1_fmt_decode(tb, vb[k], bb);
        }
    }
    d1s_mma_f32(t->m[i->a], a, b);
    return X_NEXT;
}

EXEC(MZERO)
{
    UNUSED_ARGS;
    if (t->m)
        memset(t->m[i->a], 0, sizeof t->m[0]);
    return X_NEXT;
}

EXEC(MLD)
{
    return load_block(n, t, i, t->m ? t->m[i->a] : NULL, sizeof t->m[0], now);
}

EXEC(MST)
{
    return store_block(n, t, i, t->m ? t->m[i->a] : NULL, sizeof t->m[0], now);
}

/* ---- dispatch table ----------------------------------------------------------------------- */
const d1s_exec_fn d1s_exec_table[D1_OP_COUNT] = {
#define D1_INSN(sym, mnem, opc, fmt, unit, lat, flags) [D1_OP_##sym] = exec_##sym,
#include "sim/arch/isa.def"
#undef D1_INSN
};
