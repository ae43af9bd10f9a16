/* d1s_node: one D1 training node -- 4 SMT threads issuing in order, a register scoreboard,
 * SRAM port budgets, the 8x8x4 matrix unit, 64 B SIMD, semaphores/barriers and a DMA
 * engine that talks to other nodes only through a network port (d1s_net_port).
 *
 * Clocking (two-phase, see doc/node.md): the owner calls d1s_node_eval(n, now) for every
 * cycle in which the node may do something (d1s_node_next_event tells when); packets that
 * arrive from the network are handed over with d1s_node_deliver() in the commit phase.
 * A node never reads or writes another node's state; everything crosses the port.
 *
 * Modes: D1S_NODE_FUNCTIONAL computes everything; D1S_NODE_TIMING_ONLY computes scalar
 * integer state (x registers, CSRs, semaphores, scalar loads/stores to SRAM, DMA
 * descriptors) but no vector/matrix register data, no vector/matrix SRAM data and no
 * DMA payloads. Programs whose control flow depends only on scalar state take exactly
 * the same number of cycles in both modes.
 *
 * Guest faults never abort: they stop the node with a d1s_trap record. */
#ifndef D1S_NODE_H
#define D1S_NODE_H

#include "sim/arch/config.h"
#include "sim/arch/isa.h"
#include "sim/arch/status.h"

#include <stddef.h>
#include <stdint.h>

typedef struct d1s_node d1s_node;
typedef struct d1s_prog d1s_prog;

#define D1S_NODE_MAX_THREADS 4
#define D1S_NO_EVENT UINT64_MAX

typedef enum d1s_node_mode { D1S_NODE_FUNCTIONAL = 0, D1S_NODE_TIMING_ONLY = 1 } d1s_node_mode;

/* ---- traps: D1S_TRAP(sym, name, doc) ------------------------------------------------ */
#define D1S_TRAP_TABLE(X)                                                                          \
    X(NONE, "none", "no trap")                                                                     \
    X(ILLEGAL, "illegal-insn", "undecodable word, bad operand (register, CSR, lane, thread)")      \
    X(PC_RANGE, "pc-range", "pc outside the program")                                              \
    X(SRAM_RANGE, "sram-range", "SRAM access outside the node's SRAM")                             \
    X(MISALIGNED, "misaligned", "misaligned SRAM access or jump target")                           \
    X(DMA_NODE, "dma-node", "DMA to a harvested or non-existent node")                             \
    X(DMA_DESC, "dma-desc", "malformed DMA descriptor")                                            \
    X(UNSUPPORTED, "unsupported", "operation not supported by this model (HBM DMA)")               \
    X(GUEST, "trap", "trap instruction executed")                                                  \
    X(SEM_OVERFLOW, "sem-overflow", "semaphore count would exceed 2^32-1")                         \
    X(DEADLOCK, "deadlock", "every thread blocked and nothing in flight anywhere")                 \
    X(WATCHDOG, "watchdog", "no progress for watchdog_cyc cycles")

typedef enum d1s_trap_cause {
#define D1S_TRAP_ENUM(sym, name, doc) D1S_TRAP_##sym,
    D1S_TRAP_TABLE(D1S_TRAP_ENUM)
#undef D1S_TRAP_ENUM
        D1S_TRAP_COUNT
} d1s_trap_cause;

typedef struct d1s_trap {
    d1s_trap_cause cause;
    uint32_t node;   /* global node id */
    int thread;      /* -1 when not attributable to a thread */
    uint64_t pc;     /* byte address in the thread's program */
    uint64_t detail; /* cause-specific: address, trap code, semaphore, node id... */
    uint64_t cycle;
} d1s_trap;

const char *d1s_trap_name(d1s_trap_cause c);
const char *d1s_trap_doc(d1s_trap_cause c);

/* ---- stall causes: D1S_STALL(sym, name) ---------------------------------------------- */
#define D1S_STALL_TABLE(X)                                                                         \
    X(SCOREBOARD, "scoreboard") /* operand or destination not ready; serial insn draining */       \
    X(PORT, "port")             /* SRAM load/store port budget used up */                          \
    X(ISSUE, "issue")           /* unit issue width, decode width/threads, matrix unit busy */     \
    X(SEM, "sem")               /* swait on a semaphore */                                         \
    X(BAR, "bar")               /* barrier */                                                      \
    X(DMAQ, "dmaq")             /* DMA descriptor queue full */

typedef enum d1s_stall {
#define D1S_STALL_ENUM(sym, name) D1S_STALL_##sym,
    D1S_STALL_TABLE(D1S_STALL_ENUM)
#undef D1S_STALL_ENUM
        D1S_STALL_COUNT
} d1s_stall;

const char *d1s_stall_name(d1s_stall s);

typedef struct d1s_thread_stats {
    uint64_t cycles; /* cycles the thread was started and not halted */
    uint64_t insns;
    uint64_t stall_cyc[D1S_STALL_COUNT]; /* cycles with nothing issued, by first cause */
    uint64_t limit_cyc[D1S_STALL_COUNT]; /* cycles with something issued, then cut short */
} d1s_thread_stats;

typedef struct d1s_node_stats {
    uint64_t cycles; /* cycles from start to the last halt (or to the end of the run) */
    uint64_t insns;
    uint64_t mma;              /* mma.* issued (each 8x8x4 = 256 MAC) */
    uint64_t sram_load_bytes;  /* by instructions (incl. DMA descriptor reads) */
    uint64_t sram_store_bytes; /* by instructions */
    uint64_t dma_descs;
    uint64_t dma_out_bytes; /* payload sent to the router (PUT data, GET responses) */
    uint64_t dma_in_bytes;  /* payload received from the router */
    uint64_t pkts_out, pkts_in;
    d1s_thread_stats thread[D1S_NODE_MAX_THREADS];
} d1s_node_stats;

/* ---- network port -------------------------------------------------------------------- */
enum {
    D1S_PKT_PUT = 0,    /* data to write at the receiver (PUT payload) */
    D1S_PKT_GETREQ = 1, /* read request: the receiver streams GETRSP packets back */
    D1S_PKT_GETRSP = 2, /* data answering a GETREQ */
};
#define D1S_PKT_BYTES 64

/* One packet (one 64 B flit of payload plus header). The network may reorder packets:
 * the receiver counts the bytes of each transfer (xfer_id, xfer_len) and posts `sem` when
 * the whole transfer has arrived. */
typedef struct d1s_pkt {
    uint8_t kind; /* D1S_PKT_* */
    uint8_t sem;  /* semaphore posted at the receiver when the transfer is complete */
    uint8_t last; /* last packet sent of its transfer (informative) */
    uint8_t pad;
    uint32_t len_bytes; /* payload bytes 0..64 (GETREQ: total requested) */
    uint32_t src, dst;  /* node ids */
    uint32_t xfer_id;   /* PUT: sender's transfer number; GETREQ/GETRSP: requester's */
    uint32_t xfer_len;  /* total bytes of the transfer */
    uint64_t addr;      /* PUT/GETRSP: receiver SRAM address; GETREQ: address at receiver */
    uint64_t ret_addr;  /* GETREQ: requester SRAM address for the responses */
    uint64_t inject_cyc;
    uint8_t data[D1S_PKT_BYTES]; /* payload (not filled in timing-only mode) */
} d1s_pkt;

/* Callbacks the owner (chip) provides. try_send: offer a packet at cycle `now` (copied on
 * acceptance); returns 1 if accepted, 0 for back-pressure (the node retries next cycle).
 * node_ok: 1 if `node` is a usable node id reachable by DMA. */
typedef struct d1s_net_port {
    void *ctx;
    int (*try_send)(void *ctx, const d1s_pkt *pkt, uint64_t now);
    int (*node_ok)(void *ctx, uint32_t node);
} d1s_net_port;

/* HBM DMA (descriptor kinds HBM_RD / HBM_WR, sim/tile): dip_node maps the descriptor's DIP
 * index to the global id its packets go to (UINT32_MAX: no such DIP); an HBM_RD then works
 * as a GET and an HBM_WR as a PUT addressed to that id, HBM addresses below hbm_bytes.
 * Without an HBM port (the default) those kinds trap as unsupported. */
typedef struct d1s_hbm_port {
    void *ctx;
    uint32_t (*dip_node)(void *ctx, uint32_t dip);
    uint64_t hbm_bytes;
} d1s_hbm_port;

/* ---- trace hook (optional) ------------------------------------------------------------ */
typedef enum d1s_node_ev_kind {
    D1S_EV_ISSUE,     /* thread issued `count` instructions at cycle, first at pc */
    D1S_EV_STALL,     /* thread begins a stall of `cause` (ends at its next ISSUE) */
    D1S_EV_HALT,      /* thread halted */
    D1S_EV_DMA_BEGIN, /* descriptor starts moving data (bytes = len, detail = kind) */
    D1S_EV_DMA_END,   /* descriptor done */
} d1s_node_ev_kind;

typedef struct d1s_node_ev {
    d1s_node_ev_kind kind;
    uint32_t node;
    int thread;
    uint64_t cycle;
    uint64_t pc;
    uint32_t count;
    int cause;
    uint64_t bytes;
    uint32_t peer;
} d1s_node_ev;

typedef void (*d1s_node_trace_fn)(void *ctx, const d1s_node_ev *ev);

/* ---- programs --------------------------------------------------------------------------- */
/* Predecode `n` instruction words (copied). Undecodable words are kept as illegal and trap
 * only when executed. D1_E_NOMEM. */
d1_status d1s_prog_create(const uint32_t *words, size_t n, d1s_prog **out);
void d1s_prog_destroy(d1s_prog *p);
size_t d1s_prog_len(const d1s_prog *p); /* instructions */

/* ---- lifecycle ---------------------------------------------------------------------- */
/* Create a node with global id `id` at global position (x, y). `cfg` is borrowed and must
 * outlive the node. SRAM pages are allocated on first write. D1_E_NOMEM. */
d1_status d1s_node_create(const d1_config *cfg, uint32_t id, uint32_t x, uint32_t y,
                          d1s_node_mode mode, d1s_node **out);
void d1s_node_destroy(d1s_node *n);
void d1s_node_set_port(d1s_node *n, const d1s_net_port *port);
void d1s_node_set_trace(d1s_node *n, d1s_node_trace_fn fn, void *ctx);
void d1s_node_set_hbm_port(d1s_node *n, const d1s_hbm_port *port); /* NULL: none */

/* Attach a program (borrowed, may be shared by many nodes) and start thread 0 at byte
 * address entry_pc at cycle `now`. D1_E_INVAL if entry_pc is outside the program. */
d1_status d1s_node_start(d1s_node *n, const d1s_prog *prog, uint64_t entry_pc, uint64_t now);

/* Host access to SRAM (loading images, reading results). D1_E_RANGE outside SRAM,
 * D1_E_NOMEM. Reads of untouched memory return zeros. */
d1_status d1s_node_sram_write(d1s_node *n, uint64_t addr, const void *src, size_t len);
d1_status d1s_node_sram_read(const d1s_node *n, uint64_t addr, void *dst, size_t len);
size_t d1s_node_sram_resident_bytes(const d1s_node *n); /* pages actually allocated */

/* ---- clocking ----------------------------------------------------------------------- */
/* Evaluate cycle `now` (issue, DMA engine). Calls port->try_send. */
void d1s_node_eval(d1s_node *n, uint64_t now);
/* Commit phase: hand over one packet that arrived at cycle `now`. Returns 1 if taken, 0 if
 * the node cannot take it this cycle (router-in budget, response queue full): retry. */
int d1s_node_deliver(d1s_node *n, const d1s_pkt *pkt, uint64_t now);
/* Earliest cycle > now at which eval may do something; D1S_NO_EVENT if the node only waits
 * for packets (or is halted/trapped). */
uint64_t d1s_node_next_event(const d1s_node *n, uint64_t now);
/* d1s_node_eval + d1s_node_next_event in one call (the chip's hot loop): evaluates cycle
 * `now`, sets *flags (D1S_STEP_PROGRESS: d1s_node_progress changed; D1S_STEP_TRAP:
 * d1s_node_trap != NULL or a host error) and returns the next event. */
#define D1S_STEP_PROGRESS 1u
#define D1S_STEP_TRAP 2u
uint64_t d1s_node_step(d1s_node *n, uint64_t now, unsigned *flags);
/* Close the statistics at cycle `now` (end of run). */
void d1s_node_finish(d1s_node *n, uint64_t now);

/* ---- state -------------------------------------------------------------------------- */
int d1s_node_all_halted(const d1s_node *n); /* every started thread halted */
int d1s_node_dma_idle(const d1s_node *n);   /* no descriptor, response or GET pending */
int d1s_node_blocked(const d1s_node *n);    /* running threads exist, all in swait/bar */
/* Total instructions issued + packets moved: grows while the node makes progress. */
uint64_t d1s_node_progress(const d1s_node *n);
const d1s_trap *d1s_node_trap(const d1s_node *n); /* NULL if not trapped */
/* Raise a trap from outside (deadlock / watchdog detected by the owner). */
void d1s_node_raise(d1s_node *n, d1s_trap_cause cause, int thread, uint64_t detail, uint64_t now);
/* First thread blocked in swait/bar (or -1), with its pc and semaphore (-1 for bar). */
int d1s_node_first_blocked(const d1s_node *n, uint64_t *pc, int *sem);
/* Host error (allocation failure while running), D1_OK normally. */
d1_status d1s_node_host_status(const d1s_node *n);

uint32_t d1s_node_id(const d1s_node *n);
const d1s_node_stats *d1s_node_get_stats(const d1s_node *n);
uint64_t d1s_node_get_x(const d1s_node *n, int thread, int reg);
void d1s_node_set_x(d1s_node *n, int thread, int reg, uint64_t v);
/* 64 bytes of v register / 256 bytes (8x8 FP32 row-major) of an accumulator; zeros in
 * timing-only mode. */
void d1s_node_get_v(const d1s_node *n, int thread, int reg, void *out64);
void d1s_node_set_v(d1s_node *n, int thread, int reg, const void *in64);
void d1s_node_get_m(const d1s_node *n, int thread, int acc, float out[64]);
uint32_t d1s_node_get_sem(const d1s_node *n, int sem);
uint64_t d1s_node_get_pc(const d1s_node *n, int thread);
uint64_t d1s_node_get_csr(const d1s_node *n, int thread, int csr);

#endif
