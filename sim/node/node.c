/* The node: issue stage (threads, scoreboard, issue slots, SRAM port budgets), semaphores
 * and barriers, lazy SRAM, the DMA engine and the GET responder. The pipeline model and its
 * assumptions are described in doc/node.md. */
#include "node_internal.h"

#include <stdlib.h>

static const char *const trap_names[] = {
#define D1S_TRAP_NAME(sym, name, doc) name,
    D1S_TRAP_TABLE(D1S_TRAP_NAME)
#undef D1S_TRAP_NAME
};
static const char *const trap_docs[] = {
#define D1S_TRAP_DOC(sym, name, doc) doc,
    D1S_TRAP_TABLE(D1S_TRAP_DOC)
#undef D1S_TRAP_DOC
};
static const char *const stall_names[] = {
#define D1S_STALL_NAME(sym, name) name,
    D1S_STALL_TABLE(D1S_STALL_NAME)
#undef D1S_STALL_NAME
};

const char *d1s_trap_name(d1s_trap_cause c)
{
    return (unsigned)c < D1S_TRAP_COUNT ? trap_names[c] : "unknown";
}
const char *d1s_trap_doc(d1s_trap_cause c)
{
    return (unsigned)c < D1S_TRAP_COUNT ? trap_docs[c] : "unknown trap";
}
const char *d1s_stall_name(d1s_stall s)
{
    return (unsigned)s < D1S_STALL_COUNT ? stall_names[s] : "unknown";
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}
static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

d1_status d1s_node_create(const d1_config *cfg, uint32_t id, uint32_t x, uint32_t y,
                          d1s_node_mode mode, d1s_node **out)
{
    *out = NULL;
    /* aligned: the hot fields of the node and of each thread share as few cache lines as
     * possible (node_internal.h); sizeof is a multiple of the alignment */
    d1s_node *n = aligned_alloc(_Alignof(d1s_node), sizeof *n);
    if (!n)
        return d1_fail(D1_E_NOMEM, "node %u: out of memory", id);
    memset(n, 0, sizeof *n);
    n->cfg = cfg;
    n->id = id;
    n->gx = x;
    n->gy = y;
    n->mode = mode;
    n->lat[D1_LAT_0] = 0;
    n->lat[D1_LAT_ALU] = (uint16_t)cfg->lat_alu;
    n->lat[D1_LAT_MUL] = (uint16_t)cfg->lat_mul;
    n->lat[D1_LAT_LOAD] = (uint16_t)cfg->lat_load;
    n->lat[D1_LAT_VEC] = (uint16_t)cfg->lat_vec;
    n->lat[D1_LAT_VFP] = (uint16_t)cfg->lat_vfp;
    n->lat[D1_LAT_VLONG] = (uint16_t)cfg->lat_vlong;
    n->lat[D1_LAT_MMA] = (uint16_t)cfg->lat_mma;
    n->lat[D1_LAT_MACC] = (uint16_t)cfg->lat_macc_move;
    n->nthreads = (int)cfg->node_threads;
    if (n->nthreads < 1 || n->nthreads > D1S_NODE_MAX_THREADS)
        n->nthreads = D1S_NODE_MAX_THREADS;
    n->decode_width = (int)cfg->decode_width;
    n->decode_threads = (int)cfg->decode_threads;
    n->alu_issue = (int)cfg->alu_issue;
    n->agu_issue = (int)cfg->agu_issue;
    n->vec_issue = (int)cfg->vec_issue;
    n->units0 = (uint32_t)n->alu_issue << (SLOT_ALU << 3) |
                (uint32_t)n->agu_issue << (SLOT_AGU << 3) |
                (uint32_t)n->vec_issue << (SLOT_VEC << 3) | 1u << SLOTS_MXU_SHIFT;
    n->ld_budget = n->ld_credit = cfg->sram_load_bytes_per_cyc;
    n->st_budget = n->st_credit = cfg->sram_store_bytes_per_cyc;
    n->rin_budget = n->rin_credit = cfg->router_in_bytes_per_cyc;
    n->rout_budget = n->rout_credit = cfg->router_out_bytes_per_cyc;
    n->sram_bytes = (uint64_t)cfg->sram_bytes;
    n->setup_cyc = (uint64_t)cfg->dma_setup_cyc;
    n->nsems = (uint32_t)cfg->node_sems;
    n->npages = (size_t)((n->sram_bytes + D1S_PAGE_BYTES - 1) >> D1S_PAGE_SHIFT);
    n->dq_depth = (uint32_t)cfg->dma_queue_depth;
    n->sems = calloc(n->nsems, sizeof *n->sems);
    n->pages = calloc(n->npages, sizeof *n->pages);
    n->dq = calloc(n->dq_depth, sizeof *n->dq);
    if (!n->sems || !n->pages || !n->dq)
        goto fail_alloc;
    /* functional mode: each thread's v and m registers are allocated when it starts */
    for (int k = 0; k < D1S_NODE_MAX_THREADS; k++) {
        n->t[k].tid = (uint8_t)k;
        n->t[k].stall = D1S_STALL_COUNT;
    }
    n->trap.cause = D1S_TRAP_NONE;
    n->host_status = D1_OK;
    *out = n;
    return D1_OK;

fail_alloc:
    d1s_node_destroy(n);
    return d1_fail(D1_E_NOMEM, "node %u: out of memory", id);
}

void d1s_node_destroy(d1s_node *n)
{
    if (!n)
        return;
    if (n->pages)
        for (size_t k = 0; k < n->npages; k++)
            free(n->pages[k]);
    free(n->pages);
    free(n->sems);
    free(n->dq);
    for (int k = 0; k < D1S_NODE_MAX_THREADS; k++)
        free(n->t[k].v); /* v and m share one block */
    free(n->c8tab);
    free(n->arr);
    free(n);
}

void d1s_node_set_port(d1s_node *n, const d1s_net_port *port)
{
    if (port)
        n->port = *port;
    else
        memset(&n->port, 0, sizeof n->port);
}

void d1s_node_set_hbm_port(d1s_node *n, const d1s_hbm_port *port)
{
    if (port)
        n->hbm = *port;
    else
        memset(&n->hbm, 0, sizeof n->hbm);
}

void d1s_node_set_trace(d1s_node *n, d1s_node_trace_fn fn, void *ctx)
{
    n->trace_fn = fn;
    n->trace_ctx = ctx;
}

static inline void trace(d1s_node *n, d1s_node_ev_kind kind, int thread, uint64_t cyc, uint64_t pc,
                         uint32_t count, int cause, uint64_t bytes, uint32_t peer)
{
    if (!n->trace_fn)
        return;
    d1s_node_ev ev = {kind, n->id, thread, cyc, pc, count, cause, bytes, peer};
    n->trace_fn(n->trace_ctx, &ev);
}

/* Functional mode: allocate thread t's vector and accumulator registers (zeros) on first
 * use, so that host memory follows the threads actually started. 0, or -1 on allocation
 * failure (host error recorded, the node stops). */
static int thr_regs(d1s_node *n, d1s_thr *t)
{
    if (t->v || n->mode != D1S_NODE_FUNCTIONAL)
        return 0;
    uint8_t *base = calloc(1, 32 * 64 + 8 * 64 * sizeof(float));
    if (!base) {
        n->host_status = d1_fail(D1_E_NOMEM, "node %u: register file", n->id);
        n->trapped = 1;
        return -1;
    }
    t->v = (uint8_t(*)[64])base;
    t->m = (float(*)[64])(void *)(base + 32 * 64);
    return 0;
}

int d1s_node_thread_start(d1s_node *n, d1s_thr *t, uint64_t pc, uint64_t now)
{
    if (thr_regs(n, t) != 0)
        return -1;
    memset(t->x, 0, sizeof t->x);
    memset(t->rdy, 0, sizeof t->rdy);
    t->busy_until = now;
    n->wake[t->tid] = now;
    t->start_cyc = now;
    t->pc = pc;
    d1s_thr_set_state(n, t, TS_RUN);
    t->stall = D1S_STALL_COUNT;
    t->srseed = t->sridx = t->cvtfmt = t->mfmt = t->fflags = 0;
    n->started = 1;
    return 0;
}

d1_status d1s_node_start(d1s_node *n, const d1s_prog *prog, uint64_t entry_pc, uint64_t now)
{
    if (!prog || entry_pc & 3 || entry_pc / 4 >= prog->n)
        return d1_fail(D1_E_INVAL, "node %u: entry pc 0x%llx outside the program", n->id,
                       (unsigned long long)entry_pc);
    if (thr_regs(n, &n->t[0]) != 0) {
        n->trapped = 0;
        n->host_status = D1_OK;
        return d1_fail(D1_E_NOMEM, "node %u: register file", n->id);
    }
    if (prog->n > UINT32_MAX)
        return d1_fail(D1_E_INVAL, "node %u: program of %zu instructions is too long", n->id,
                       prog->n);
    n->prog = prog;
    n->insn = prog->insn;
    n->plen = (uint32_t)prog->n;
    n->credit_cyc = now;
    d1s_node_thread_start(n, &n->t[0], entry_pc, now);
    return D1_OK;
}

/* ---- SRAM ------------------------------------------------------------------------------- */

int d1s_sram_wr_slow(d1s_node *n, uint64_t addr, const void *src, size_t len)
{
    const uint8_t *s = src;
    while (len) {
        size_t pg = (size_t)(addr >> D1S_PAGE_SHIFT), off = (size_t)(addr & (D1S_PAGE_BYTES - 1));
        size_t chunk = min_u64(len, D1S_PAGE_BYTES - off);
        if (!n->pages[pg]) {
            n->pages[pg] = calloc(1, D1S_PAGE_BYTES);
            if (!n->pages[pg]) {
                n->host_status = d1_fail(D1_E_NOMEM, "node %u: SRAM page allocation", n->id);
                n->trapped = 1;
                return -1;
            }
        }
        memcpy(n->pages[pg] + off, s, chunk);
        s += chunk;
        addr += chunk;
        len -= chunk;
    }
    return 0;
}

void d1s_sram_rd_slow(const d1s_node *n, uint64_t addr, void *dst, size_t len)
{
    uint8_t *d = dst;
    while (len) {
        size_t pg = (size_t)(addr >> D1S_PAGE_SHIFT), off = (size_t)(addr & (D1S_PAGE_BYTES - 1));
        size_t chunk = min_u64(len, D1S_PAGE_BYTES - off);
        if (n->pages[pg])
            memcpy(d, n->pages[pg] + off, chunk);
        else
            memset(d, 0, chunk);
        d += chunk;
        addr += chunk;
        len -= chunk;
    }
}

d1_status d1s_node_sram_write(d1s_node *n, uint64_t addr, const void *src, size_t len)
{
    if (addr > n->sram_bytes || len > n->sram_bytes - addr)
        return d1_fail(D1_E_RANGE, "node %u: SRAM write [0x%llx, +%zu) outside %llu bytes", n->id,
                       (unsigned long long)addr, len, (unsigned long long)n->sram_bytes);
    if (d1s_sram_wr(n, addr, src, len) != 0) {
        n->trapped = 0;
        n->host_status = D1_OK;
        return d1_fail(D1_E_NOMEM, "node %u: SRAM page allocation", n->id);
    }
    return D1_OK;
}

d1_status d1s_node_sram_read(const d1s_node *n, uint64_t addr, void *dst, size_t len)
{
    if (addr > n->sram_bytes || len > n->sram_bytes - addr)
        return d1_fail(D1_E_RANGE, "node %u: SRAM read [0x%llx, +%zu) outside %llu bytes", n->id,
                       (unsigned long long)addr, len, (unsigned long long)n->sram_bytes);
    d1s_sram_rd(n, addr, dst, len);
    return D1_OK;
}

size_t d1s_node_sram_resident_bytes(const d1s_node *n)
{
    size_t k = 0;
    for (size_t p = 0; p < n->npages; p++)
        k += n->pages[p] != NULL;
    return k * D1S_PAGE_BYTES;
}

/* ---- traps, semaphores, barriers --------------------------------------------------------- */

void d1s_node_trap_at(d1s_node *n, d1s_thr *t, d1s_trap_cause c, uint64_t detail, uint64_t now)
{
    if (n->trapped)
        return;
    n->trapped = 1;
    n->trap.cause = c;
    n->trap.node = n->id;
    n->trap.thread = t ? t->tid : -1;
    n->trap.pc = t ? t->pc : 0;
    n->trap.detail = detail;
    n->trap.cycle = now;
}

void d1s_node_raise(d1s_node *n, d1s_trap_cause cause, int thread, uint64_t detail, uint64_t now)
{
    d1s_thr *t = thread >= 0 && thread < n->nthreads ? &n->t[thread] : NULL;
    d1s_node_trap_at(n, t, cause, detail, now);
}

int d1s_node_sem_post(d1s_node *n, d1s_thr *by, uint32_t sem, uint32_t count, uint64_t now)
{
    if (count > UINT32_MAX - n->sems[sem]) { /* a wrapped count would fake a deadlock */
        d1s_node_trap_at(n, by, D1S_TRAP_SEM_OVERFLOW, sem, now);
        return 0;
    }
    n->sems[sem] += count;
    for (int k = 0; k < n->nthreads; k++) {
        d1s_thr *t = &n->t[k];
        if (t->state == TS_SEM && t->wait_sem == sem && n->sems[sem] >= t->wait_count) {
            d1s_thr_set_state(n, t, TS_RUN); /* re-executes its swait */
            n->wake[k] = now + 1;
        }
    }
    return 1;
}

/* Release the barrier if every running thread has reached it; returns 1 if released. */
int d1s_node_barrier_check(d1s_node *n, uint64_t now)
{
    int waiting = 0;
    for (int k = 0; k < n->nthreads; k++) {
        uint8_t s = n->t[k].state;
        if (s == TS_BAR)
            waiting++;
        else if (s == TS_RUN || s == TS_SEM)
            return 0;
    }
    if (!waiting)
        return 0;
    for (int k = 0; k < n->nthreads; k++) {
        d1s_thr *t = &n->t[k];
        if (t->state != TS_BAR)
            continue;
        d1s_thr_set_state(n, t, TS_RUN);
        t->pc += 4;
        n->wake[k] = now + 1;
        t->busy_until = max_u64(t->busy_until, now + 1);
        n->p_insns++;
        t->p_insns++;
    }
    return 1;
}

/* ---- stall accounting ------------------------------------------------------------------- */

static void stall_end(d1s_node *n, d1s_thr *t, uint64_t now)
{
    if (t->stall < D1S_STALL_COUNT) {
        n->st.thread[t->tid].stall_cyc[t->stall] += now - t->stall_since;
        t->stall = D1S_STALL_COUNT;
    }
}

static void stall_begin(d1s_node *n, d1s_thr *t, int cause, uint64_t now)
{
    if (t->stall == cause)
        return;
    stall_end(n, t, now);
    t->stall = (uint8_t)cause;
    t->stall_since = now;
    trace(n, D1S_EV_STALL, t->tid, now, t->pc, 0, cause, 0, 0);
}

static void thread_halt(d1s_node *n, d1s_thr *t, uint64_t now)
{
    stall_end(n, t, now);
    d1s_thr_set_state(n, t, TS_HALT);
    n->st.thread[t->tid].cycles += now + 1 - t->start_cyc;
    n->last_halt_cyc = max_u64(n->last_halt_cyc, now + 1);
    trace(n, D1S_EV_HALT, t->tid, now, t->pc, 0, 0, 0, 0);
    d1s_node_barrier_check(n, now);
}

/* ---- issue ----------------------------------------------------------------------------------- */

/* Issue slots left in this cycle, one byte each (never negative: a slot is taken only when
 * its byte is non-zero): ALU, AGU, VEC (SLOT_* << 3 is the shift), matrix unit. */
typedef struct slots {
    int dec, thr;
    uint32_t units;
} slots;

/* Cycle from which every operand (and the destination, WAW) of `p` is ready: always four
 * entries, the unused ones RDY_ZERO (branch-free). */
static inline uint64_t operands_ready(const d1s_thr *t, const d1s_pinsn *p)
{
    uint64_t a = t->rdy[p->chk[0]], b = t->rdy[p->chk[1]];
    uint64_t c = t->rdy[p->chk[2]], d = t->rdy[p->chk[3]];
    a = a > b ? a : b;
    c = c > d ? c : d;
    return a > c ? a : c;
}

static inline void writeback_time(d1s_node *n, d1s_thr *t, const d1s_pinsn *p, uint64_t now)
{
    uint64_t lat = n->lat[p->lat];
    uint64_t done = now + lat;
    t->rdy[p->wb] = done;
    t->rdy[p->wb_fwd] = p->is_mxu ? now + 1 : done;
    uint64_t b = now + (lat ? lat : 1);
    t->busy_until = b > t->busy_until ? b : t->busy_until;
}

static int port_busy(d1s_node *n, const d1s_pinsn *p, uint64_t now);

/* Issue as many instructions of thread t as the cycle allows; returns how many. */
static int issue_thread(d1s_node *n, d1s_thr *t, uint64_t now, slots *s)
{
    int count = 0, halted = 0, traced = 0, mmas = 0;
    uint64_t first_pc = t->pc;
    const d1s_pinsn *insn = n->insn;
    const uint64_t plen = n->plen;
    uint32_t units = s->units;
    int dec = s->dec;
    while (dec > 0) {
        uint64_t pc = t->pc;
        if (pc / 4 >= plen) {
            d1s_node_trap_at(n, t, D1S_TRAP_PC_RANGE, pc, now);
            traced = 1; /* a trap ends the cycle without an issue event */
            break;
        }
        const d1s_pinsn *p = &insn[pc / 4];
        int cause = -1;
        uint64_t rdy = operands_ready(t, p);
        if (rdy > now) {
            cause = D1S_STALL_SCOREBOARD;
            if (count == 0)
                n->wake[t->tid] = rdy;
        } else if (p->serial && t->busy_until > now) {
            cause = D1S_STALL_SCOREBOARD;
            if (count == 0)
                n->wake[t->tid] = t->busy_until;
        } else if ((units - p->udec) & SLOTS_EMPTY) {
            cause = D1S_STALL_ISSUE;
        } else if (p->xchk) {              /* rare: illegal word, SRAM port budget, DMA queue */
            if (p->op == D1S_OP_ILLEGAL) { /* nothing stalls it (prog.c) */
                d1s_node_trap_at(n, t, D1S_TRAP_ILLEGAL, p->word, now);
                traced = 1;
                break;
            }
            if ((p->ld_bytes | p->st_bytes) && port_busy(n, p, now))
                cause = D1S_STALL_PORT;
            else if (p->op == D1_OP_DMA && n->dq_count >= n->dq_depth)
                cause = D1S_STALL_DMAQ;
        }
        if (cause >= 0) {
            if (count == 0)
                stall_begin(n, t, cause, now);
            else
                t->p_limit[cause]++;
            break;
        }
        /* vector/matrix data ops compute nothing in timing-only mode (t->v == NULL) */
        int r = p->tnop && !t->v ? X_NEXT : d1s_exec_table[p->op](n, t, p, now);
        if (r == X_TRAP) {
            traced = 1;
            break;
        }
        if (r == X_BLOCK) {
            /* if it issued older instructions this cycle, the wait starts next cycle */
            if (count) {
                n->p_insns += (uint64_t)count;
                t->p_insns += (uint64_t)count;
                n->p_mma += (uint64_t)mmas;
                count = -count; /* flushed */
                trace(n, D1S_EV_ISSUE, t->tid, now, first_pc, (uint32_t)-count, 0, 0, 0);
                traced = 1;
            }
            stall_begin(n, t, t->state == TS_BAR ? D1S_STALL_BAR : D1S_STALL_SEM,
                        count ? now + 1 : now);
            break;
        }
        /* issued */
        if (count == 0)
            stall_end(n, t, now);
        count++;
        dec--;
        units -= p->udec;
        if (p->xchk) {
            n->ld_credit -= p->ld_bytes;
            n->st.sram_load_bytes += p->ld_bytes;
            n->st_credit -= p->st_bytes;
            n->st.sram_store_bytes += p->st_bytes;
        }
        mmas += p->is_mma;
        writeback_time(n, t, p, now);
        if (r == X_NEXT)
            t->pc = pc + 4;
        if (r == X_HALT) {
            halted = 1;
            break;
        }
        if (r == X_JUMP || p->serial)
            break; /* taken branch: fetch resumes at the target next cycle */
    }
    s->units = units;
    s->dec = dec;
    if (count < 0) /* flushed before a block */
        return -count;
    if (count) {
        n->p_insns += (uint64_t)count;
        t->p_insns += (uint64_t)count;
        n->p_mma += (uint64_t)mmas;
        if (!traced)
            trace(n, D1S_EV_ISSUE, t->tid, now, first_pc, (uint32_t)count, 0, 0, 0);
    }
    if (halted)
        thread_halt(n, t, now);
    return count;
}

/* Port credits: at the start of each cycle credit = min(credit + budget, budget). Applied
 * lazily for the k cycles since the last refill; the result does not depend on how the
 * cycles are split between calls because a credit never drops below -63 x budget (accesses
 * start only with a positive credit and take at most 256 bytes; budgets are >= 8), so the
 * k >= 64 shortcut equals the exact sum. */
static void refill(d1s_node *n, uint64_t now)
{
    if (now <= n->credit_cyc)
        return;
    uint64_t k = now - n->credit_cyc;
    n->credit_cyc = now;
#define REFILL(c, b)                                                                               \
    do {                                                                                           \
        if (k >= 64 || n->c + (int64_t)k * n->b >= n->b)                                           \
            n->c = n->b;                                                                           \
        else                                                                                       \
            n->c += (int64_t)k * n->b;                                                             \
    } while (0)
    REFILL(ld_credit, ld_budget);
    REFILL(st_credit, st_budget);
    REFILL(rin_credit, rin_budget);
    REFILL(rout_credit, rout_budget);
#undef REFILL
}

/* 1 if the SRAM port budget stops p (which loads and/or stores) this cycle. */
static int port_busy(d1s_node *n, const d1s_pinsn *p, uint64_t now)
{
    refill(n, now);
    return (p->ld_bytes && n->ld_credit <= 0) || (p->st_bytes && n->st_credit <= 0);
}

/* ---- DMA engine ------------------------------------------------------------------------------ */

int d1s_node_dma_enqueue(d1s_node *n, const d1_dma_desc *d, uint64_t now)
{
    if (n->dq_count >= n->dq_depth)
        return -1;
    d1s_dma_slot *s = &n->dq[(n->dq_head + n->dq_count) % n->dq_depth];
    s->d = *d;
    s->ready_cyc = now + n->setup_cyc; /* descriptor parse overlaps earlier transfers */
    s->off = 0;
    s->started = 0;
    s->started_send = 0;
    n->dq_count++;
    n->st.dma_descs++;
    return 0;
}

static void dma_pop(d1s_node *n, uint64_t now)
{
    n->dq_head = (n->dq_head + 1) % n->dq_depth;
    n->dq_count--;
    n->dq_free_cyc = now + 1;
}

/* Send one data packet of a PUT or of a GET response; returns 1 if accepted. */
static int send_data(d1s_node *n, uint8_t kind, uint32_t to, uint64_t src_addr, uint64_t dst_addr,
                     uint32_t len, int last, uint8_t sem, uint32_t xfer_id, uint32_t xfer_len,
                     uint64_t now)
{
    d1s_pkt pkt;
    pkt.kind = kind;
    pkt.sem = sem;
    pkt.last = (uint8_t)last;
    pkt.pad = 0;
    pkt.len_bytes = len;
    pkt.src = n->id;
    pkt.dst = to;
    pkt.xfer_id = xfer_id;
    pkt.xfer_len = xfer_len;
    pkt.addr = dst_addr;
    pkt.ret_addr = 0;
    pkt.inject_cyc = now;
    if (n->mode == D1S_NODE_FUNCTIONAL)
        d1s_sram_rd(n, src_addr, pkt.data, len);
    else
        memset(pkt.data, 0, sizeof pkt.data);
    if (!n->port.try_send || !n->port.try_send(n->port.ctx, &pkt, now))
        return 0;
    n->rout_credit -= len;
    n->st.dma_out_bytes += len;
    n->st.pkts_out++;
    n->pkts_moved++;
    return 1;
}

static void dma_desc_step(d1s_node *n, uint64_t now)
{
    if (!n->dq_count)
        return;
    d1s_dma_slot *s = &n->dq[n->dq_head];
    if (now < s->ready_cyc || now < n->dq_free_cyc)
        return;
    if (!s->started) {
        s->started = 1;
        trace(n, D1S_EV_DMA_BEGIN, -1, now, 0, 0, s->d.kind, s->d.len_bytes, s->d.node);
    }
    if (s->d.kind == D1_DMA_GET) {
        d1s_pkt pkt;
        memset(&pkt, 0, sizeof pkt);
        pkt.kind = D1S_PKT_GETREQ;
        pkt.sem = s->d.sem_local;
        pkt.last = 1;
        pkt.len_bytes = s->d.len_bytes;
        pkt.xfer_id = n->xfer_seq++;
        pkt.xfer_len = s->d.len_bytes;
        pkt.src = n->id;
        pkt.dst = s->d.node;
        pkt.addr = s->d.remote_addr;
        pkt.ret_addr = s->d.local_addr;
        pkt.inject_cyc = now;
        if (!n->port.try_send || !n->port.try_send(n->port.ctx, &pkt, now))
            return;
        n->st.pkts_out++;
        n->pkts_moved++;
        n->gets_outstanding++;
        trace(n, D1S_EV_DMA_END, -1, now, 0, 0, s->d.kind, s->d.len_bytes, s->d.node);
        dma_pop(n, now);
        return;
    }
    while (s->off < s->d.len_bytes && n->rout_credit > 0) {
        uint32_t len = (uint32_t)min_u64(D1S_PKT_BYTES, s->d.len_bytes - s->off);
        int last = s->off + len == s->d.len_bytes;
        if (s->off == 0 && !s->started_send) {
            s->xfer_id = n->xfer_seq++;
            s->started_send = 1;
        }
        if (!send_data(n, D1S_PKT_PUT, s->d.node, s->d.local_addr + s->off,
                       s->d.remote_addr + s->off, len, last, s->d.sem_remote, s->xfer_id,
                       s->d.len_bytes, now))
            return;
        s->off += len;
    }
    if (s->off == s->d.len_bytes) {
        if (s->d.sem_local != D1_DMA_NO_SEM)
            d1s_node_sem_post(n, NULL, s->d.sem_local, 1, now);
        trace(n, D1S_EV_DMA_END, -1, now, 0, 0, s->d.kind, s->d.len_bytes, s->d.node);
        dma_pop(n, now);
    }
}

static void dma_rsp_step(d1s_node *n, uint64_t now)
{
    while (n->rq_count && n->rout_credit > 0) {
        d1s_rsp_slot *r = &n->rq[n->rq_head];
        uint32_t len = (uint32_t)min_u64(D1S_PKT_BYTES, r->len - r->off);
        int last = r->off + len == r->len;
        if (!send_data(n, D1S_PKT_GETRSP, r->to, r->src_addr + r->off, r->dst_addr + r->off, len,
                       last, r->sem, r->xfer_id, r->len, now))
            return;
        r->off += len;
        if (last) {
            n->rq_head = (n->rq_head + 1) % D1S_RSPQ;
            n->rq_count--;
        }
    }
}

/* ---- clocking -------------------------------------------------------------------------------- */

static void eval_dma(d1s_node *n, uint64_t now);

static inline void eval_body(d1s_node *n, uint64_t now)
{
    if (n->trapped)
        return;
    /* Port credits are refilled lazily, where they are read (refill() is exact for any
     * split of the elapsed cycles, see there). Threads: those running and awake, visited
     * round-robin from rr. */
    const unsigned rm = n->run_mask;
    int first = -1;
    if (rm && !(rm & (rm - 1u))) {
        /* one running thread (the common case): no round-robin; decode_width and
         * decode_threads are >= 1, so the thread always gets its turn */
        int idx = __builtin_ctz(rm);
        if (n->wake[idx] <= now) {
            slots s = {n->decode_width, n->decode_threads, n->units0};
            int got = issue_thread(n, &n->t[idx], now, &s);
            if (n->trapped)
                return;
            if (got > 0)
                first = idx;
        }
    } else if (rm) {
        unsigned cand = 0;
        for (unsigned m = rm; m; m &= m - 1) {
            unsigned k = (unsigned)__builtin_ctz(m);
            cand |= (unsigned)(n->wake[k] <= now) << k;
        }
        const int nt = n->nthreads, rr = n->rr;
        unsigned full = (1u << nt) - 1, rot = (cand >> rr | cand << (nt - rr)) & full;
        slots s = {n->decode_width, n->decode_threads, n->units0};
        for (; rot; rot &= rot - 1) {
            int idx = (int)__builtin_ctz(rot) + rr;
            if (idx >= nt)
                idx -= nt;
            if (!(n->run_mask >> idx & 1) || n->wake[idx] > now)
                continue;
            d1s_thr *t = &n->t[idx];
            if (s.thr <= 0 || s.dec <= 0) {
                stall_begin(n, t, D1S_STALL_ISSUE, now);
                continue;
            }
            int got = issue_thread(n, t, now, &s);
            if (n->trapped)
                return;
            if (got > 0) {
                s.thr--;
                if (first < 0)
                    first = idx;
            }
        }
    }
    if (first >= 0)
        n->rr = (uint8_t)(first + 1 == n->nthreads ? 0 : first + 1);
    if (n->dq_count || n->rq_count)
        eval_dma(n, now);
}

/* The DMA engine and the GET responder, after the threads of the cycle. */
static void eval_dma(d1s_node *n, uint64_t now)
{
    /* The engine and the responder share the router-out port; alternate who goes first. */
    refill(n, now);
    if (now & 1) {
        dma_rsp_step(n, now);
        dma_desc_step(n, now);
    } else {
        dma_desc_step(n, now);
        dma_rsp_step(n, now);
    }
}

void d1s_node_eval(d1s_node *n, uint64_t now)
{
    eval_body(n, now);
}

static inline uint64_t next_event_body(const d1s_node *n, uint64_t now)
{
    if (n->trapped)
        return D1S_NO_EVENT;
    uint64_t e = D1S_NO_EVENT;
    for (unsigned m = n->run_mask; m; m &= m - 1) {
        uint64_t w = n->wake[__builtin_ctz(m)];
        e = min_u64(e, max_u64(w, now + 1));
    }
    if (n->dq_count)
        e = min_u64(e, max_u64(now + 1, max_u64(n->dq[n->dq_head].ready_cyc, n->dq_free_cyc)));
    if (n->rq_count)
        e = min_u64(e, now + 1);
    return e;
}

uint64_t d1s_node_step(d1s_node *n, uint64_t now, unsigned *flags)
{
    uint64_t before = n->p_insns + n->pkts_moved;
    const unsigned rm = n->run_mask;
    if (rm && !(rm & (rm - 1u)) && !n->trapped && !(n->dq_count | n->rq_count)) {
        /* the common case, one running thread and an idle DMA engine and responder:
         * eval_body and next_event_body without their loops (same results) */
        const int k = __builtin_ctz(rm);
        if (n->wake[k] <= now) {
            slots s = {n->decode_width, n->decode_threads, n->units0};
            int got = issue_thread(n, &n->t[k], now, &s);
            if (got > 0 && !n->trapped)
                n->rr = (uint8_t)(k + 1 == n->nthreads ? 0 : k + 1);
        }
        if (n->trapped || n->run_mask != rm || (n->dq_count | n->rq_count)) {
            /* the issue changed the node's shape: finish the cycle the general way */
            if (!n->trapped && (n->dq_count | n->rq_count))
                eval_dma(n, now);
        } else {
            *flags = n->p_insns + n->pkts_moved != before ? D1S_STEP_PROGRESS : 0u;
            return max_u64(n->wake[k], now + 1);
        }
    } else
        eval_body(n, now);
    unsigned f = n->p_insns + n->pkts_moved != before ? D1S_STEP_PROGRESS : 0u;
    /* a host error (host_status) always sets trapped */
    if (n->trapped && (n->trap.cause != D1S_TRAP_NONE || n->host_status != D1_OK))
        f |= D1S_STEP_TRAP;
    *flags = f;
    return next_event_body(n, now);
}

/* Arrival table: add `bytes` to transfer `key`; 1 when it reached `total` (the entry is
 * removed), 0 while incomplete, -1 on allocation failure (host error recorded). */
static uint32_t arr_slot(uint64_t key, uint32_t cap)
{
    key ^= key >> 29;
    key *= 0xbf58476d1ce4e5b9u;
    return (uint32_t)(key >> 32) & (cap - 1);
}

static int arrival_grow(d1s_node *n)
{
    uint32_t cap = n->arr_cap ? 2 * n->arr_cap : 64;
    d1s_arrival *a = calloc(cap, sizeof *a);
    if (!a) {
        n->host_status = d1_fail(D1_E_NOMEM, "node %u: arrival table", n->id);
        n->trapped = 1;
        return -1;
    }
    for (uint32_t k = 0; k < n->arr_cap; k++) {
        if (!n->arr[k].used)
            continue;
        uint32_t i = arr_slot(n->arr[k].key, cap);
        while (a[i].used)
            i = (i + 1) & (cap - 1);
        a[i] = n->arr[k];
    }
    free(n->arr);
    n->arr = a;
    n->arr_cap = cap;
    return 0;
}

static int arrival_add(d1s_node *n, uint64_t key, uint32_t bytes, uint32_t total)
{
    if (2 * (n->arr_count + 1) > n->arr_cap && arrival_grow(n) < 0)
        return -1;
    uint32_t mask = n->arr_cap - 1, i = arr_slot(key, n->arr_cap);
    while (n->arr[i].used && n->arr[i].key != key)
        i = (i + 1) & mask;
    if (!n->arr[i].used) {
        n->arr[i].used = 1;
        n->arr[i].key = key;
        n->arr[i].bytes = 0;
        n->arr_count++;
    }
    n->arr[i].bytes += bytes;
    if (n->arr[i].bytes < total)
        return 0;
    /* remove with backward shift (linear probing keeps no tombstones) */
    n->arr[i].used = 0;
    n->arr_count--;
    for (uint32_t j = (i + 1) & mask; n->arr[j].used; j = (j + 1) & mask) {
        uint32_t h = arr_slot(n->arr[j].key, n->arr_cap);
        /* move j into the hole at i if its home h is not in (i, j] cyclically */
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            n->arr[i] = n->arr[j];
            n->arr[j].used = 0;
            i = j;
        }
    }
    return 1;
}

int d1s_node_deliver(d1s_node *n, const d1s_pkt *pkt, uint64_t now)
{
    refill(n, now);
    if (pkt->kind == D1S_PKT_GETREQ) {
        if (n->rq_count >= D1S_RSPQ)
            return 0;
        d1s_rsp_slot *r = &n->rq[(n->rq_head + n->rq_count) % D1S_RSPQ];
        r->to = pkt->src;
        r->xfer_id = pkt->xfer_id;
        r->sem = pkt->sem;
        r->len = pkt->len_bytes;
        r->off = 0;
        r->src_addr = pkt->addr;
        r->dst_addr = pkt->ret_addr;
        n->rq_count++;
        n->st.pkts_in++;
        n->pkts_moved++;
        return 1;
    }
    if (n->rin_credit <= 0)
        return 0;
    n->rin_credit -= pkt->len_bytes;
    n->st.pkts_in++;
    n->st.dma_in_bytes += pkt->len_bytes;
    n->pkts_moved++;
    if (pkt->len_bytes > D1S_PKT_BYTES || pkt->addr >= n->sram_bytes ||
        pkt->len_bytes > n->sram_bytes - pkt->addr) {
        d1s_node_trap_at(n, NULL, D1S_TRAP_DMA_DESC, pkt->addr, now);
        return 1;
    }
    if (n->mode == D1S_NODE_FUNCTIONAL && !n->trapped)
        d1s_sram_wr(n, pkt->addr, pkt->data, pkt->len_bytes);
    int is_rsp = pkt->kind == D1S_PKT_GETRSP;
    if (!is_rsp && pkt->sem == D1_DMA_NO_SEM)
        return 1; /* nobody waits for this PUT */
    int done = pkt->len_bytes >= pkt->xfer_len;
    if (!done) {
        uint64_t key = (uint64_t)pkt->src << 33 | (uint64_t)is_rsp << 32 | pkt->xfer_id;
        done = arrival_add(n, key, pkt->len_bytes, pkt->xfer_len);
        if (done < 0)
            return 1; /* host allocation failure, recorded */
    }
    if (done) {
        if (pkt->sem != D1_DMA_NO_SEM && pkt->sem < n->nsems)
            d1s_node_sem_post(n, NULL, pkt->sem, 1, now);
        if (is_rsp && n->gets_outstanding)
            n->gets_outstanding--;
    }
    return 1;
}

uint64_t d1s_node_next_event(const d1s_node *n, uint64_t now)
{
    return next_event_body(n, now);
}

void d1s_node_finish(d1s_node *n, uint64_t now)
{
    uint64_t last = n->last_halt_cyc;
    for (int k = 0; k < n->nthreads; k++) {
        d1s_thr *t = &n->t[k];
        if (t->state == TS_IDLE || t->state == TS_HALT)
            continue;
        if (t->stall < D1S_STALL_COUNT && now > t->stall_since) {
            /* flush, keep the cause: the run may continue (windows) */
            n->st.thread[k].stall_cyc[t->stall] += now - t->stall_since;
            t->stall_since = now;
        }
        if (now > t->start_cyc)
            n->st.thread[k].cycles += now - t->start_cyc;
        t->start_cyc = now;
        last = max_u64(last, now);
    }
    n->st.cycles = last;
}

/* ---- state ----------------------------------------------------------------------------------- */

int d1s_node_all_halted(const d1s_node *n)
{
    for (int k = 0; k < n->nthreads; k++)
        if (n->t[k].state != TS_IDLE && n->t[k].state != TS_HALT)
            return 0;
    return 1;
}

int d1s_node_dma_idle(const d1s_node *n)
{
    return n->dq_count == 0 && n->rq_count == 0 && n->gets_outstanding == 0;
}

int d1s_node_blocked(const d1s_node *n)
{
    int blocked = 0;
    for (int k = 0; k < n->nthreads; k++) {
        uint8_t s = n->t[k].state;
        if (s == TS_RUN)
            return 0;
        blocked |= s == TS_SEM || s == TS_BAR;
    }
    return blocked;
}

int d1s_node_first_blocked(const d1s_node *n, uint64_t *pc, int *sem)
{
    for (int k = 0; k < n->nthreads; k++) {
        const d1s_thr *t = &n->t[k];
        if (t->state == TS_SEM || t->state == TS_BAR) {
            if (pc)
                *pc = t->pc;
            if (sem)
                *sem = t->state == TS_SEM ? (int)t->wait_sem : -1;
            return k;
        }
    }
    return -1;
}

uint64_t d1s_node_progress(const d1s_node *n)
{
    return n->st.insns + n->p_insns + n->pkts_moved;
}
const d1s_trap *d1s_node_trap(const d1s_node *n)
{
    return n->trapped && n->trap.cause != D1S_TRAP_NONE ? &n->trap : NULL;
}
d1_status d1s_node_host_status(const d1s_node *n)
{
    return n->host_status;
}
uint32_t d1s_node_id(const d1s_node *n)
{
    return n->id;
}
/* Add the counters kept next to the hot state (p_*) to st. Nodes are never const objects
 * (d1s_node_create allocates them), so the const reader may fold. */
static void stats_fold(d1s_node *n)
{
    n->st.insns += n->p_insns;
    n->st.mma += n->p_mma;
    n->p_insns = n->p_mma = 0;
    for (int k = 0; k < D1S_NODE_MAX_THREADS; k++) {
        d1s_thr *t = &n->t[k];
        n->st.thread[k].insns += t->p_insns;
        t->p_insns = 0;
        for (int c = 0; c < D1S_STALL_COUNT; c++) {
            n->st.thread[k].limit_cyc[c] += t->p_limit[c];
            t->p_limit[c] = 0;
        }
    }
}

const d1s_node_stats *d1s_node_get_stats(const d1s_node *n)
{
    stats_fold((d1s_node *)n);
    return &n->st;
}

static const d1s_thr *thr(const d1s_node *n, int k)
{
    return k >= 0 && k < n->nthreads ? &n->t[k] : NULL;
}

uint64_t d1s_node_get_x(const d1s_node *n, int thread, int reg)
{
    const d1s_thr *t = thr(n, thread);
    return t && reg > 0 && reg < 32 ? t->x[reg] : 0;
}

void d1s_node_set_x(d1s_node *n, int thread, int reg, uint64_t v)
{
    if (thread >= 0 && thread < n->nthreads && reg > 0 && reg < 32)
        n->t[thread].x[reg] = v;
}

void d1s_node_get_v(const d1s_node *n, int thread, int reg, void *out64)
{
    const d1s_thr *t = thr(n, thread);
    if (t && t->v && reg >= 0 && reg < 32)
        memcpy(out64, t->v[reg], 64);
    else
        memset(out64, 0, 64);
}

void d1s_node_set_v(d1s_node *n, int thread, int reg, const void *in64)
{
    if (thread >= 0 && thread < n->nthreads && reg >= 0 && reg < 32 &&
        n->mode == D1S_NODE_FUNCTIONAL && thr_regs(n, &n->t[thread]) == 0)
        memcpy(n->t[thread].v[reg], in64, 64);
}

void d1s_node_get_m(const d1s_node *n, int thread, int acc, float out[64])
{
    const d1s_thr *t = thr(n, thread);
    if (t && t->m && acc >= 0 && acc < 8)
        memcpy(out, t->m[acc], 64 * sizeof(float));
    else
        memset(out, 0, 64 * sizeof(float));
}

uint32_t d1s_node_get_sem(const d1s_node *n, int sem)
{
    return sem >= 0 && (uint32_t)sem < n->nsems ? n->sems[sem] : 0;
}

uint64_t d1s_node_get_pc(const d1s_node *n, int thread)
{
    const d1s_thr *t = thr(n, thread);
    return t ? t->pc : 0;
}

uint64_t d1s_node_get_csr(const d1s_node *n, int thread, int csr)
{
    const d1s_thr *t = thr(n, thread);
    if (!t)
        return 0;
    switch (csr) {
    case D1_CSR_TID:
        return t->tid;
    case D1_CSR_NID:
        return n->id;
    case D1_CSR_NX:
        return n->gx;
    case D1_CSR_NY:
        return n->gy;
    case D1_CSR_SRSEED:
        return t->srseed;
    case D1_CSR_SRIDX:
        return t->sridx;
    case D1_CSR_CVTFMT:
        return t->cvtfmt;
    case D1_CSR_MFMT:
        return t->mfmt;
    case D1_CSR_FFLAGS:
        return t->fflags;
    default:
        return 0;
    }
}
