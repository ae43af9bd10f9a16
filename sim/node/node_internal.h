/* Private to sim/node: the node's state, shared by node.c (pipeline, DMA) and exec.c
 * (per-instruction semantics). */
#ifndef D1S_NODE_INTERNAL_H
#define D1S_NODE_INTERNAL_H

#include "node.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Operand kinds of the predecoded instruction. */
enum { OPK_NONE = 0, OPK_X = 1, OPK_V = 2, OPK_M = 3 };

#define D1S_OP_ILLEGAL ((uint8_t)D1_OP_COUNT)

/* A predecoded instruction: everything the issue stage needs without looking at the
 * format again. */
typedef struct d1s_pinsn {
    uint8_t op, a, b, c;
    uint8_t unit, lat;
    uint16_t flags;
    uint8_t nsrc;
    uint8_t src_kind[3], src_reg[3];
    uint8_t dst_kind, dst_reg;
    uint8_t is_mxu;    /* occupies the matrix unit (mma.*, mzero) */
    uint8_t is_mma;    /* mma.*: accumulator forwarding */
    uint16_t ld_bytes; /* SRAM load-port bytes */
    uint16_t st_bytes; /* SRAM store-port bytes */
    /* precomputed for the issue stage (indices into d1s_thr.rdy, see RDY_*) */
    uint8_t cls;        /* issue slot class: SLOT_ALU, SLOT_AGU, SLOT_VEC */
    uint8_t serial;     /* D1_IF_SERIAL */
    uint8_t xchk;       /* uses an SRAM port (ld_bytes/st_bytes) or is dma: extra issue checks */
    uint8_t tnop;       /* exec is a no-op without vector registers (timing-only mode) */
    uint8_t nchk;       /* scoreboard entries that must be ready (sources, then WAW on dst) */
    uint8_t chk[4];     /* the nchk entries, then RDY_ZERO */
    uint8_t wb, wb_fwd; /* written at writeback (RDY_NONE / RDY_NONE_FWD: nothing) */
    uint32_t udec;      /* packed issue slots taken: 1 << (cls << 3), matrix unit 1 << 24 */
    int64_t imm;
    uint32_t word;
} d1s_pinsn;

/* Scoreboard: one array of ready cycles per thread, ordered by how often the entries are
 * used: for each accumulator k its full-latency entry (RDY_M + 2k) next to its matrix-unit
 * forwarding entry (RDY_MFWD + 2k; the 16 entries are one 128-byte block), two dummies
 * written by instructions without a destination, an entry that stays 0 (unused checks),
 * x registers, v registers. */
enum {
    RDY_M = 0,
    RDY_MFWD = 1,
    RDY_NONE = 16,
    RDY_NONE_FWD = 17,
    RDY_ZERO = 18,
    RDY_X = 19,
    RDY_V = 51,
    RDY_COUNT = 83
};
enum { SLOT_ALU = 0, SLOT_AGU = 1, SLOT_VEC = 2 };
#define SLOTS_MXU_SHIFT 24 /* packed issue slots: bytes SLOT_* << 3 and the matrix unit */
/* A slot count is at most 8 (config), so `units - udec` sets a byte's top bit exactly when
 * a needed slot is used up (the borrow only reaches bytes that are then marked as well). */
#define SLOTS_EMPTY 0x80808080u

struct d1s_prog {
    size_t n;
    d1s_pinsn *insn;
};

enum { TS_IDLE = 0, TS_RUN, TS_SEM, TS_BAR, TS_HALT };

typedef struct d1s_thr {
    /* hot: read every cycle the thread issues (one 128-byte block, then the scoreboard) */
    _Alignas(128) uint8_t state;
    uint8_t tid;
    uint8_t stall; /* D1S_STALL_* or D1S_STALL_COUNT = not stalled */
    uint32_t wait_sem;
    uint64_t pc;
    uint64_t busy_until; /* every issued instruction of the thread has completed */
    uint8_t (*v)[64];    /* 32 vector registers, NULL in timing-only mode and until started */
    /* statistics not yet added to d1s_node.st (stats_fold in node.c) */
    uint64_t p_insns;
    uint64_t p_limit[D1S_STALL_COUNT];
    float (*m)[64]; /* 8 accumulators (same block as v) */
    uint64_t stall_since;
    uint64_t start_cyc;
    uint32_t wait_count;
    _Alignas(128) uint64_t rdy[RDY_COUNT]; /* scoreboard: cycle each register is ready (RDY_*) */
    uint64_t x[32];
    uint64_t srseed, sridx, cvtfmt, mfmt, fflags;
} d1s_thr;

typedef struct d1s_dma_slot {
    d1_dma_desc d;
    uint64_t ready_cyc;
    uint64_t off;
    uint32_t xfer_id;
    uint8_t started, started_send;
} d1s_dma_slot;

typedef struct d1s_rsp_slot {
    uint32_t to;
    uint32_t xfer_id;
    uint8_t sem;
    uint32_t len, off;
    uint64_t src_addr, dst_addr;
} d1s_rsp_slot;

/* Transfers partly arrived at this node: bytes counted per (source, kind, transfer id). */
typedef struct d1s_arrival {
    uint64_t key;
    uint32_t bytes;
    uint8_t used;
} d1s_arrival;

#define D1S_RSPQ 32
#define D1S_PAGE_SHIFT 16
#define D1S_PAGE_BYTES ((size_t)1 << D1S_PAGE_SHIFT)

struct d1s_node {
    /* hot: read every cycle the node is evaluated (the first two cache lines) */
    _Alignas(128) uint8_t trapped; /* stopped: a guest trap or a host error (host_status) */
    uint8_t run_mask;              /* threads in TS_RUN */
    uint8_t rr;
    uint8_t started;
    int nthreads;
    int decode_width, decode_threads;
    uint32_t units0;                     /* issue slots at the start of a cycle, packed (node.c) */
    uint32_t plen;                       /* prog->n */
    const d1s_pinsn *insn;               /* prog->insn */
    uint64_t wake[D1S_NODE_MAX_THREADS]; /* earliest cycle worth trying to issue */
    uint32_t dq_count, rq_count;
    /* statistics not yet added to st (stats_fold in node.c) */
    uint64_t p_insns, p_mma;
    uint64_t pkts_moved;
    d1s_node_trace_fn trace_fn;
    uint16_t lat[D1_LAT_MACC + 1]; /* latency by class (d1_lat); config values <= 256 */
    d1_status host_status;
    d1s_node_stats st;
    d1s_thr t[D1S_NODE_MAX_THREADS];

    const d1s_prog *prog;
    const d1_config *cfg;
    uint32_t id, gx, gy;
    d1s_node_mode mode;
    int alu_issue, agu_issue, vec_issue;
    int64_t ld_budget, st_budget, rin_budget, rout_budget;
    int64_t ld_credit, st_credit, rin_credit, rout_credit;
    uint64_t credit_cyc;
    uint64_t sram_bytes;
    uint64_t setup_cyc;

    uint32_t nsems;
    uint32_t *sems;

    size_t npages;
    uint8_t **pages;

    uint32_t dq_depth, dq_head;
    d1s_dma_slot *dq;
    uint64_t dq_free_cyc; /* the engine may start the next descriptor from this cycle */
    d1s_rsp_slot rq[D1S_RSPQ];
    uint32_t rq_head;
    uint32_t gets_outstanding;
    uint32_t xfer_seq;
    d1s_arrival *arr; /* open addressing, linear probing; grows (rarely) */
    uint32_t arr_cap, arr_count;

    d1s_net_port port;
    d1s_hbm_port hbm; /* HBM DMA (sim/tile); dip_node NULL: HBM kinds trap */
    void *trace_ctx;

    d1s_trap trap;
    uint64_t last_halt_cyc;

    float *c8tab; /* mma.cfp8 decoding tables (2 x 256), allocated on first use */
    uint32_t c8key[2];
};

_Static_assert(offsetof(struct d1s_node, st) <= 128, "the hot node fields fit one 128-byte block");
_Static_assert(offsetof(d1s_thr, rdy) <= 128, "the hot thread fields fit one 128-byte block");

static inline void d1s_thr_set_state(d1s_node *n, d1s_thr *t, uint8_t state)
{
    t->state = state;
    if (state == TS_RUN)
        n->run_mask = (uint8_t)(n->run_mask | 1u << t->tid);
    else
        n->run_mask = (uint8_t)(n->run_mask & ~(1u << t->tid));
}

/* Result of an exec_* function. */
enum {
    X_NEXT = 0, /* pc += 4 */
    X_JUMP,     /* pc already set (taken branch / jump) */
    X_BLOCK,    /* not issued: the thread is now blocked (swait/bar) */
    X_TRAP,     /* trap recorded; the node stops */
    X_HALT,     /* thread halted */
};

typedef int (*d1s_exec_fn)(d1s_node *n, d1s_thr *t, const d1s_pinsn *i, uint64_t now);
extern const d1s_exec_fn d1s_exec_table[D1_OP_COUNT];

/* node.c services used by exec.c */
void d1s_node_trap_at(d1s_node *n, d1s_thr *t, d1s_trap_cause c, uint64_t detail, uint64_t now);
/* Add count to semaphore sem and wake its waiters. A count that would pass 2^32-1 traps
 * (sem-overflow, attributed to t, NULL for DMA completions) and returns 0; else 1. */
int d1s_node_sem_post(d1s_node *n, d1s_thr *t, uint32_t sem, uint32_t count, uint64_t now);
int d1s_node_barrier_check(d1s_node *n, uint64_t now);
int d1s_node_dma_enqueue(d1s_node *n, const d1_dma_desc *d, uint64_t now);
/* 0, or -1 on a host allocation failure (recorded; the node stops). */
int d1s_node_thread_start(d1s_node *n, d1s_thr *t, uint64_t pc, uint64_t now);

/* mma.c: m (8x8) += a (8x4) x b (4x8), FP32 row-major, each output an fmaf chain in k
 * order; the kernel (scalar, AVX2, AVX-512) is picked at load time. */
void d1s_mma_f32(float *m, const float *a, const float *b);
/* The same with a and b given as 32 bf16 codes each (64 bytes, little-endian). */
void d1s_mma_bf16(float *m, const uint8_t *va, const uint8_t *vb);
const char *d1s_mma_isa(void);

/* SRAM (lazy pages). The caller has range-checked [addr, addr+len). The inline versions
 * handle an access inside one allocated page (the common case: a constant-size memcpy);
 * the _slow ones split at page boundaries, allocate pages (write) or read zeros. */
int d1s_sram_wr_slow(d1s_node *n, uint64_t addr, const void *src, size_t len);
void d1s_sram_rd_slow(const d1s_node *n, uint64_t addr, void *dst, size_t len);

static inline int d1s_sram_wr(d1s_node *n, uint64_t addr, const void *src, size_t len)
{
    size_t off = (size_t)(addr & (D1S_PAGE_BYTES - 1));
    uint8_t *pg = n->pages[addr >> D1S_PAGE_SHIFT];
    if (pg && len <= D1S_PAGE_BYTES - off) {
        memcpy(pg + off, src, len);
        return 0;
    }
    return d1s_sram_wr_slow(n, addr, src, len);
}

static inline void d1s_sram_rd(const d1s_node *n, uint64_t addr, void *dst, size_t len)
{
    size_t off = (size_t)(addr & (D1S_PAGE_BYTES - 1));
    const uint8_t *pg = n->pages[addr >> D1S_PAGE_SHIFT];
    if (pg && len <= D1S_PAGE_BYTES - off) {
        memcpy(dst, pg + off, len);
        return;
    }
    d1s_sram_rd_slow(n, addr, dst, len);
}

#endif
