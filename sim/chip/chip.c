/* The chip: nodes + network, the two-phase cycle loop with active nodes and idle skipping,
 * kernel loading, end-of-run, deadlock and watchdog detection. */
#include "chip.h"

#include "sim/elf/emit.h"
#include "sim/noc/noc.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

/* A packet in flight: the node's packet (payload included) + links for the queues. */
typedef struct slot {
    d1s_pkt pkt;
    uint64_t due; /* direct network: delivery cycle */
    uint32_t next;
} slot;

typedef struct port_ctx {
    d1s_chip *chip;
    uint32_t id;
} port_ctx;

struct d1s_chip {
    const d1_config *cfg;
    d1s_chip_opts opts;
    uint32_t count;
    uint32_t *pos;      /* id -> NoC position id (y * cols + x) */
    uint32_t *id_of;    /* position -> id, NIL when harvested */
    uint32_t npos;
    int cols, rows;
    d1s_node **node;
    port_ctx *pctx;
    uint64_t *next_ev;  /* hot: next event per node */
    uint64_t *act;      /* hot: bitmap of the nodes whose next_ev is not D1S_NO_EVENT */
    uint32_t act_words;
    uint8_t *started;
    d1s_noc *noc;
    uint64_t links;

    slot *pool;
    uint32_t pool_cap, free_head;
    uint32_t *pend_head, *pend_tail; /* per node: arrived, not yet taken */
    uint64_t pending;
    uint32_t dq_head, dq_tail; /* direct network FIFO */
    uint64_t direct_inflight;

    d1s_prog **progs;
    size_t nprogs;

    uint64_t now;
    uint64_t last_progress_cyc;
    uint64_t pkts_delivered;
    int trap_flag; /* a delivery may have trapped a node */
    d1_status host_err;

    d1s_chip_progress_fn progress_fn;
    void *progress_ctx;
    uint64_t progress_every;

    /* multi-chip (sim/tile): placement, packets leaving / arriving, delivery hook */
    d1s_chip_place place;
    d1s_chip_xpkt *out_v, *out_taken;
    size_t out_n, out_cap, out_taken_cap;
    uint64_t out_seq;
    d1s_chip_xpkt *in_heap; /* min-heap on (cyc, seq) */
    size_t in_n, in_cap;
    /* inbound packets due but not yet accepted by their border router: a FIFO of pool slots
     * per node (arrival order), and the nodes that have one */
    uint32_t *inq_head, *inq_tail, *inq_nodes;
    uint8_t *inq_on;
    uint32_t inq_n;
    uint64_t inq_pkts;
    d1s_chip_deliver_fn deliver_fn;
    void *deliver_ctx;
};

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* next_ev[id] = ev, keeping the active bitmap in step. */
static inline void set_ev(d1s_chip *c, uint32_t id, uint64_t ev)
{
    uint64_t bit = 1ull << (id & 63);
    c->next_ev[id] = ev;
    if (ev != D1S_NO_EVENT)
        c->act[id >> 6] |= bit;
    else
        c->act[id >> 6] &= ~bit;
}

/* ---- packet pool ------------------------------------------------------------------------ */

static uint32_t slot_alloc(d1s_chip *c)
{
    if (c->free_head == NIL) {
        uint32_t cap = c->pool_cap ? 2 * c->pool_cap : 1024;
        slot *p = realloc(c->pool, (size_t)cap * sizeof *p);
        if (!p) {
            c->host_err = d1_fail(D1_E_NOMEM, "chip: packet pool of %u", cap);
            return NIL;
        }
        c->pool = p;
        for (uint32_t k = c->pool_cap; k < cap; k++)
            p[k].next = k + 1 < cap ? k + 1 : NIL;
        c->free_head = c->pool_cap;
        c->pool_cap = cap;
    }
    uint32_t s = c->free_head;
    c->free_head = c->pool[s].next;
    c->pool[s].next = NIL;
    return s;
}

static void slot_free(d1s_chip *c, uint32_t s)
{
    c->pool[s].next = c->free_head;
    c->free_head = s;
}

/* ---- delivery --------------------------------------------------------------------------- */

static void progress(d1s_chip *c, uint64_t now) { c->last_progress_cyc = now; }

static void touch(d1s_chip *c, uint32_t id, uint64_t now)
{
    set_ev(c, id, d1s_node_next_event(c->node[id], now));
}

/* A packet reached its destination node at cycle now. Keeps per-pair order: a packet
 * waits behind earlier ones the node has not taken yet. */
static void arrive(d1s_chip *c, uint32_t s, uint64_t now)
{
    uint32_t dst = c->pool[s].pkt.dst - c->place.id_base;
    c->pkts_delivered++;
    progress(c, now);
    if (c->deliver_fn && c->deliver_fn(c->deliver_ctx, &c->pool[s].pkt, now)) {
        slot_free(c, s);
        return;
    }
    if (c->pend_head[dst] == NIL && d1s_node_deliver(c->node[dst], &c->pool[s].pkt, now)) {
        slot_free(c, s);
        touch(c, dst, now);
        c->trap_flag |= d1s_node_trap(c->node[dst]) != NULL;
        return;
    }
    c->pool[s].next = NIL;
    if (c->pend_head[dst] == NIL)
        c->pend_head[dst] = s;
    else
        c->pool[c->pend_tail[dst]].next = s;
    c->pend_tail[dst] = s;
    c->pending++;
}

static void retry_pending(d1s_chip *c, uint64_t now)
{
    if (!c->pending)
        return;
    for (uint32_t id = 0; id < c->count; id++) {
        int took = 0;
        while (c->pend_head[id] != NIL) {
            uint32_t s = c->pend_head[id];
            if (!d1s_node_deliver(c->node[id], &c->pool[s].pkt, now))
                break;
            c->pend_head[id] = c->pool[s].next;
            c->pending--;
            slot_free(c, s);
            took = 1;
        }
        if (took) {
            touch(c, id, now);
            c->trap_flag |= d1s_node_trap(c->node[id]) != NULL;
        }
    }
}

static void leave(d1s_chip *c, uint32_t s, uint32_t border, uint64_t now);

static void on_eject(void *user, const d1s_noc_pkt *pkt, uint64_t now)
{
    d1s_chip *c = user;
    uint32_t s = (uint32_t)pkt->tag;
    if (c->pool[s].pkt.dst - c->place.id_base >= c->count) {
        leave(c, s, c->id_of[pkt->dst], now);
        return;
    }
    arrive(c, s, now);
}

/* ---- the node's network port ------------------------------------------------------------- */

static int port_node_ok(void *ctx, uint32_t node)
{
    const port_ctx *p = ctx;
    const d1s_chip *c = p->chip;
    if (c->place.node_ok)
        return c->place.node_ok(c->place.ctx, node);
    return node - c->place.id_base < c->count;
}

static int port_try_send(void *ctx, const d1s_pkt *pkt, uint64_t now)
{
    const port_ctx *p = ctx;
    d1s_chip *c = p->chip;
    uint32_t to = pkt->dst - c->place.id_base; /* local id of the destination or exit */
    if (to >= c->count) {
        to = c->place.exit_node && c->opts.net == D1S_NET_NOC
                 ? c->place.exit_node(c->place.ctx, p->id, pkt->dst)
                 : NIL;
        if (to >= c->count) {
            d1s_node_raise(c->node[p->id], D1S_TRAP_DMA_NODE, -1, pkt->dst, now);
            return 0;
        }
    }
    uint32_t s = slot_alloc(c);
    if (s == NIL)
        return 0;
    c->pool[s].pkt = *pkt;
    if (c->opts.net == D1S_NET_DIRECT) {
        c->pool[s].due = now + c->opts.direct_lat_cyc;
        c->pool[s].next = NIL;
        if (c->dq_head == NIL)
            c->dq_head = s;
        else
            c->pool[c->dq_tail].next = s;
        c->dq_tail = s;
        c->direct_inflight++;
        return 1;
    }
    uint32_t payload = pkt->kind == D1S_PKT_GETREQ ? 0 : pkt->len_bytes;
    uint32_t flits = d1s_noc_flits_for_bytes(c->noc, payload);
    d1_status st = d1s_noc_inject(c->noc, c->pos[p->id], c->pos[to], flits, s, now);
    if (st == D1_OK)
        return 1;
    slot_free(c, s);
    if (st != D1_E_STATE) /* no route: a guest fault of the sender */
        d1s_node_raise(c->node[p->id], D1S_TRAP_DMA_NODE, -1, pkt->dst, now);
    return 0;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

d1_status d1s_chip_create(const d1_config *cfg, const d1s_chip_opts *opts, d1s_chip **out)
{
    return d1s_chip_create_placed(cfg, opts, NULL, out);
}

d1_status d1s_chip_create_placed(const d1_config *cfg, const d1s_chip_opts *opts,
                                 const d1s_chip_place *place, d1s_chip **out)
{
    *out = NULL;
    d1_status st = D1_OK;
    d1s_chip *c = calloc(1, sizeof *c);
    if (!c)
        return d1_fail(D1_E_NOMEM, "chip: out of memory");
    c->cfg = cfg;
    if (place)
        c->place = *place;
    if (opts)
        c->opts = *opts;
    if (c->opts.direct_lat_cyc == 0)
        c->opts.direct_lat_cyc = 1;
    c->cols = (int)cfg->mesh_cols;
    c->rows = (int)cfg->mesh_rows;
    c->npos = (uint32_t)(c->cols * c->rows);
    c->free_head = NIL;
    c->dq_head = c->dq_tail = NIL;
    int nh = d1_config_harvested(cfg, NULL, 0);
    if (nh < 0) {
        st = D1_E_CONFIG;
        goto fail;
    }
    int(*hv)[2] = calloc((size_t)nh + 1, sizeof *hv);
    c->id_of = malloc(c->npos * sizeof *c->id_of);
    c->pos = malloc(c->npos * sizeof *c->pos);
    if (!hv || !c->id_of || !c->pos) {
        free(hv);
        st = d1_fail(D1_E_NOMEM, "chip: out of memory");
        goto fail;
    }
    d1_config_harvested(cfg, hv, nh);
    for (uint32_t p = 0; p < c->npos; p++)
        c->id_of[p] = 0;
    for (int k = 0; k < nh; k++)
        c->id_of[(uint32_t)hv[k][1] * (uint32_t)c->cols + (uint32_t)hv[k][0]] = NIL;
    free(hv);
    for (uint32_t p = 0; p < c->npos; p++)
        if (c->id_of[p] != NIL) {
            c->pos[c->count] = p;
            c->id_of[p] = c->count++;
        }
    c->node = calloc(c->count, sizeof *c->node);
    c->pctx = calloc(c->count, sizeof *c->pctx);
    c->next_ev = malloc(c->count * sizeof *c->next_ev);
    c->act_words = (c->count + 63) / 64;
    c->act = calloc(c->act_words ? c->act_words : 1, sizeof *c->act);
    c->started = calloc(c->count, 1);
    c->pend_head = malloc(c->count * sizeof *c->pend_head);
    c->pend_tail = malloc(c->count * sizeof *c->pend_tail);
    if (!c->node || !c->pctx || !c->next_ev || !c->act || !c->started || !c->pend_head ||
        !c->pend_tail) {
        st = d1_fail(D1_E_NOMEM, "chip: out of memory");
        goto fail;
    }
    for (uint32_t id = 0; id < c->count; id++) {
        uint32_t p = c->pos[id];
        st = d1s_node_create(cfg, c->place.id_base + id,
                             (uint32_t)c->place.gx0 + p % (uint32_t)c->cols,
                             (uint32_t)c->place.gy0 + p / (uint32_t)c->cols, c->opts.mode,
                             &c->node[id]);
        if (st != D1_OK)
            goto fail;
        c->pctx[id].chip = c;
        c->pctx[id].id = id;
        d1s_net_port port = {&c->pctx[id], port_try_send, port_node_ok};
        d1s_node_set_port(c->node[id], &port);
        c->next_ev[id] = D1S_NO_EVENT;
        c->pend_head[id] = c->pend_tail[id] = NIL;
    }
    /* directed links between usable neighbours */
    for (uint32_t id = 0; id < c->count; id++) {
        int x = (int)(c->pos[id] % (uint32_t)c->cols), y = (int)(c->pos[id] / (uint32_t)c->cols);
        const int dx[4] = {0, 1, 0, -1}, dy[4] = {-1, 0, 1, 0};
        for (int d = 0; d < 4; d++) {
            int nx = x + dx[d], ny = y + dy[d];
            if (nx >= 0 && ny >= 0 && nx < c->cols && ny < c->rows &&
                c->id_of[(uint32_t)ny * (uint32_t)c->cols + (uint32_t)nx] != NIL)
                c->links++;
        }
    }
    if (c->opts.net == D1S_NET_NOC) {
        const d1_config *ncfg = c->place.noc_cfg ? c->place.noc_cfg : cfg;
        if (c->place.like && c->place.like->noc)
            st = d1s_noc_create_like(ncfg, c->place.like->noc, &c->noc);
        else
            st = d1s_noc_create(ncfg, NULL, &c->noc);
        if (st != D1_OK)
            goto fail;
        d1s_noc_set_eject_cb(c->noc, on_eject, c);
    }
    *out = c;
    return D1_OK;

fail:
    d1s_chip_destroy(c);
    return st;
}

void d1s_chip_destroy(d1s_chip *c)
{
    if (!c)
        return;
    if (c->node)
        for (uint32_t id = 0; id < c->count; id++)
            d1s_node_destroy(c->node[id]);
    for (size_t k = 0; k < c->nprogs; k++)
        d1s_prog_destroy(c->progs[k]);
    free(c->progs);
    d1s_noc_destroy(c->noc);
    free(c->node);
    free(c->pctx);
    free(c->next_ev);
    free(c->act);
    free(c->started);
    free(c->pend_head);
    free(c->pend_tail);
    free(c->pool);
    free(c->pos);
    free(c->id_of);
    free(c->out_v);
    free(c->out_taken);
    free(c->in_heap);
    free(c->inq_head);
    free(c->inq_tail);
    free(c->inq_nodes);
    free(c->inq_on);
    free(c);
}

uint32_t d1s_chip_node_count(const d1s_chip *c) { return c->count; }
d1s_node *d1s_chip_node(d1s_chip *c, uint32_t id) { return id < c->count ? c->node[id] : NULL; }
const d1_config *d1s_chip_config(const d1s_chip *c) { return c->cfg; }
d1s_node_mode d1s_chip_mode(const d1s_chip *c) { return c->opts.mode; }

int d1s_chip_node_xy(const d1s_chip *c, uint32_t id, int *x, int *y)
{
    if (id >= c->count)
        return -1;
    *x = (int)(c->pos[id] % (uint32_t)c->cols);
    *y = (int)(c->pos[id] / (uint32_t)c->cols);
    return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

static d1_status add_prog(d1s_chip *c, const uint32_t *words, size_t n, d1s_prog **out)
{
    d1s_prog **np = realloc(c->progs, (c->nprogs + 1) * sizeof *np);
    if (!np)
        return d1_fail(D1_E_NOMEM, "chip: out of memory");
    c->progs = np;
    d1_status st = d1s_prog_create(words, n, &np[c->nprogs]);
    if (st != D1_OK)
        return st;
    *out = np[c->nprogs++];
    return D1_OK;
}

static d1_status start_range(d1s_chip *c, uint32_t first, uint32_t last, const d1s_prog *p,
                             uint64_t entry)
{
    if (first > last || last >= c->count)
        return d1_fail(D1_E_INVAL, "nodes %u..%u outside this chip's %u nodes", first, last,
                       c->count);
    for (uint32_t id = first; id <= last; id++) {
        d1_status st = d1s_node_start(c->node[id], p, entry, c->now);
        if (st != D1_OK)
            return st;
        c->started[id] = 1;
        set_ev(c, id, c->now);
    }
    return D1_OK;
}

d1_status d1s_chip_load_program(d1s_chip *c, uint32_t first, uint32_t last,
                                const uint32_t *words, size_t n_words, uint64_t entry)
{
    d1s_prog *p = NULL;
    d1_status st = add_prog(c, words, n_words, &p);
    if (st != D1_OK)
        return st;
    return start_range(c, first, last, p, entry);
}

d1_status d1s_chip_load_image(d1s_chip *c, uint32_t id, uint64_t addr, const void *bytes,
                              size_t size)
{
    if (id >= c->count)
        return d1_fail(D1_E_INVAL, "node %u outside this chip's %u nodes", id, c->count);
    return d1s_node_sram_write(c->node[id], addr, bytes, size);
}

d1_status d1s_chip_load_kernel(d1s_chip *c, const d1s_kernel *k)
{
    size_t np = d1s_kernel_program_count(k), base = c->nprogs;
    for (size_t i = 0; i < np; i++) {
        const d1s_program *pr = d1s_kernel_program(k, i);
        d1s_prog *p = NULL;
        d1_status st = add_prog(c, pr->words, pr->n_words, &p);
        if (st != D1_OK)
            return st;
    }
    size_t npl = d1s_kernel_placement_count(k);
    for (size_t i = 0; i < npl; i++) {
        const d1s_placement *pl = d1s_kernel_placement(k, i);
        uint32_t last = pl->node_last == D1S_NODE_LAST ? c->count - 1 : pl->node_last;
        if (pl->program >= np)
            return d1_fail(D1_E_INVAL, "placement %zu: no program %u", i, pl->program);
        if (pl->node_first > last || last >= c->count)
            return d1_fail(D1_E_INVAL,
                           "placement %zu: nodes %u..%u outside this chip's %u nodes", i,
                           pl->node_first, last, c->count);
        for (uint32_t id = pl->node_first; id <= last; id++)
            for (size_t m = 0; m < pl->n_images; m++) {
                const d1s_image *img = d1s_kernel_image(k, pl->images[m]);
                if (!img)
                    return d1_fail(D1_E_INVAL, "placement %zu: no image %u", i, pl->images[m]);
                d1_status st = d1s_node_sram_write(c->node[id], img->addr, img->bytes, img->size);
                if (st != D1_OK)
                    return st;
            }
        d1_status st = start_range(c, pl->node_first, last, c->progs[base + pl->program],
                                   pl->entry);
        if (st != D1_OK)
            return st;
    }
    return D1_OK;
}

void d1s_chip_set_node_trace(d1s_chip *c, uint32_t id, d1s_node_trace_fn fn, void *ctx)
{
    if (id < c->count)
        d1s_node_set_trace(c->node[id], fn, ctx);
}

void d1s_chip_set_progress(d1s_chip *c, d1s_chip_progress_fn fn, void *ctx, uint64_t every_cyc)
{
    c->progress_fn = fn;
    c->progress_ctx = ctx;
    c->progress_every = every_cyc ? every_cyc : 1;
}

/* ---- running ------------------------------------------------------------------------------ */

static int net_idle(const d1s_chip *c)
{
    if (c->pending || c->direct_inflight)
        return 0;
    return c->noc ? d1s_noc_idle(c->noc) : 1;
}

static int all_done(const d1s_chip *c)
{
    if (!net_idle(c))
        return 0;
    for (uint32_t id = 0; id < c->count; id++)
        if (!d1s_node_all_halted(c->node[id]) || !d1s_node_dma_idle(c->node[id]))
            return 0;
    return 1;
}

static const d1s_trap *find_trap(const d1s_chip *c)
{
    for (uint32_t id = 0; id < c->count; id++) {
        const d1s_trap *t = d1s_node_trap(c->node[id]);
        if (t)
            return t;
    }
    return NULL;
}

/* Deadlock or watchdog: blame the first node with a blocked (else unfinished) thread. */
static void raise_stuck(d1s_chip *c, d1s_trap_cause cause, uint64_t now)
{
    for (uint32_t id = 0; id < c->count; id++) {
        if (!c->started[id])
            continue;
        uint64_t pc = 0;
        int sem = -1;
        int t = d1s_node_first_blocked(c->node[id], &pc, &sem);
        if (t >= 0) {
            d1s_node_raise(c->node[id], cause, t, sem >= 0 ? (uint64_t)sem : UINT64_MAX, now);
            return;
        }
    }
    for (uint32_t id = 0; id < c->count; id++)
        if (c->started[id] &&
            (!d1s_node_all_halted(c->node[id]) || !d1s_node_dma_idle(c->node[id]))) {
            d1s_node_raise(c->node[id], cause, -1, UINT64_MAX, now);
            return;
        }
    d1s_node_raise(c->node[0], cause, -1, UINT64_MAX, now);
}

/* Eval phase: step every active node whose event is due, in id order (only the active
 * bitmap is scanned: idle and halted nodes cost nothing). Returns 1 if a node trapped. */
static int eval_nodes(d1s_chip *c, uint64_t now)
{
    int trapped = 0;
    for (uint32_t w = 0; w < c->act_words; w++) {
        uint64_t m = c->act[w];
        while (m) {
            unsigned b = (unsigned)__builtin_ctzll(m);
            uint32_t id = w * 64 + b;
            if (c->next_ev[id] <= now) {
                unsigned f;
                uint64_t ev = d1s_node_step(c->node[id], now, &f);
                if (f & D1S_STEP_PROGRESS)
                    progress(c, now);
                if (f & D1S_STEP_TRAP)
                    trapped = 1;
                set_ev(c, id, ev);
            }
            /* re-read: later bits of the word as they are now */
            m = c->act[w] & ~((2ull << b) - 1);
        }
    }
    return trapped;
}

/* Earliest next event of the nodes (D1S_NO_EVENT: none). */
static uint64_t nodes_next(const d1s_chip *c)
{
    uint64_t next = D1S_NO_EVENT;
    for (uint32_t w = 0; w < c->act_words; w++)
        for (uint64_t m = c->act[w]; m; m &= m - 1)
            next = min_u64(next, c->next_ev[w * 64 + (uint32_t)__builtin_ctzll(m)]);
    return next;
}

static void finish(d1s_chip *c, uint64_t end)
{
    for (uint32_t id = 0; id < c->count; id++)
        if (c->started[id])
            d1s_node_finish(c->node[id], end);
}

d1_status d1s_chip_run(d1s_chip *c, uint64_t max_cycles, d1s_chip_result *res)
{
    memset(res, 0, sizeof *res);
    uint64_t now = c->now, limit = max_cycles ? max_cycles : UINT64_MAX;
    uint64_t watchdog = (uint64_t)c->cfg->watchdog_cyc;
    uint64_t next_progress = c->progress_fn ? now + c->progress_every : UINT64_MAX;
    c->trap_flag |= c->pending != 0; /* a node may have trapped before: look once */
    for (;;) {
        if (now >= limit) {
            res->end = D1S_END_MAX_CYCLES;
            res->cycles = limit;
            break;
        }
        /* eval */
        int trapped = eval_nodes(c, now);
        int noc_step = c->noc && d1s_noc_next_event(c->noc, now) <= now;
        if (noc_step)
            d1s_noc_eval(c->noc, now);
        /* commit */
        retry_pending(c, now);
        if (noc_step)
            d1s_noc_commit(c->noc, now);
        while (c->dq_head != NIL && c->pool[c->dq_head].due <= now) {
            uint32_t s = c->dq_head;
            c->dq_head = c->pool[s].next;
            if (c->dq_head == NIL)
                c->dq_tail = NIL;
            c->direct_inflight--;
            arrive(c, s, now);
        }
        if (c->host_err != D1_OK) {
            d1_status e = c->host_err;
            c->host_err = D1_OK;
            return e;
        }
        for (uint32_t id = 0; trapped && id < c->count; id++)
            if (d1s_node_host_status(c->node[id]) != D1_OK)
                return d1s_node_host_status(c->node[id]);
        const d1s_trap *t = trapped || c->trap_flag ? find_trap(c) : NULL;
        c->trap_flag = 0;
        if (t) {
            res->end = D1S_END_TRAP;
            res->trap = *t;
            res->cycles = now + 1;
            break;
        }
        /* next event */
        uint64_t next = nodes_next(c);
        if (c->pending)
            next = min_u64(next, now + 1);
        if (c->dq_head != NIL)
            next = min_u64(next, c->pool[c->dq_head].due);
        if (c->noc)
            next = min_u64(next, d1s_noc_next_event(c->noc, now + 1));
        if (next == D1S_NO_EVENT) {
            res->cycles = now + 1;
            if (all_done(c)) {
                res->end = D1S_END_HALTED;
            } else {
                raise_stuck(c, D1S_TRAP_DEADLOCK, now);
                res->end = D1S_END_TRAP;
                res->trap = *find_trap(c);
            }
            break;
        }
        if (next > c->last_progress_cyc + watchdog && c->last_progress_cyc + watchdog < limit) {
            uint64_t at = c->last_progress_cyc + watchdog;
            raise_stuck(c, D1S_TRAP_WATCHDOG, at);
            res->end = D1S_END_TRAP;
            res->trap = *find_trap(c);
            res->cycles = at + 1;
            break;
        }
        if (next >= next_progress) {
            uint64_t insns = 0;
            for (uint32_t id = 0; id < c->count; id++)
                insns += d1s_node_get_stats(c->node[id])->insns;
            c->progress_fn(c->progress_ctx, next, insns);
            next_progress = next + c->progress_every;
        }
        now = next < now + 1 ? now + 1 : next;
    }
    c->now = res->cycles;
    finish(c, res->cycles);
    return D1_OK;
}

void d1s_chip_get_stats(const d1s_chip *c, d1s_chip_stats *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t id = 0; id < c->count; id++) {
        if (!c->started[id])
            continue;
        const d1s_node_stats *s = d1s_node_get_stats(c->node[id]);
        out->nodes_started++;
        out->insns += s->insns;
        out->mma += s->mma;
        out->sram_load_bytes += s->sram_load_bytes;
        out->sram_store_bytes += s->sram_store_bytes;
        out->dma_out_bytes += s->dma_out_bytes;
        out->dma_in_bytes += s->dma_in_bytes;
        if (s->cycles > out->max_node_cycles)
            out->max_node_cycles = s->cycles;
        for (int t = 0; t < D1S_NODE_MAX_THREADS; t++) {
            out->thread_cycles += s->thread[t].cycles;
            for (int k = 0; k < D1S_STALL_COUNT; k++)
                out->stall_cyc[k] += s->thread[t].stall_cyc[k];
        }
    }
    out->pkts = c->pkts_delivered;
    out->links = c->links;
    if (c->noc) {
        d1s_noc_stats ns;
        d1s_noc_get_stats(c->noc, &ns);
        out->link_flits = ns.link_flits;
    }
}

uint64_t d1s_chip_link_flits(const d1s_chip *c, uint32_t id, int port)
{
    if (!c->noc || id >= c->count)
        return 0;
    return d1s_noc_link_flits(c->noc, c->pos[id], port);
}

/* ---- multi-chip systems (sim/tile) --------------------------------------------------------- */

void d1s_chip_set_deliver_hook(d1s_chip *c, d1s_chip_deliver_fn fn, void *ctx)
{
    c->deliver_fn = fn;
    c->deliver_ctx = ctx;
}

d1s_noc *d1s_chip_noc(d1s_chip *c) { return c->noc; }
uint64_t d1s_chip_last_progress(const d1s_chip *c) { return c->last_progress_cyc; }
uint64_t d1s_chip_now(const d1s_chip *c) { return c->now; }
const d1s_trap *d1s_chip_trap(const d1s_chip *c) { return find_trap(c); }
void d1s_chip_finish(d1s_chip *c, uint64_t end) { finish(c, end); }

uint32_t d1s_chip_id_at(const d1s_chip *c, int x, int y)
{
    if (x < 0 || y < 0 || x >= c->cols || y >= c->rows)
        return NIL;
    return c->id_of[(uint32_t)y * (uint32_t)c->cols + (uint32_t)x];
}

/* The tail of packet slot s was ejected at border node `border`: it leaves the chip. */
static void leave(d1s_chip *c, uint32_t s, uint32_t border, uint64_t now)
{
    if (c->out_n == c->out_cap) {
        size_t cap = c->out_cap ? 2 * c->out_cap : 256;
        d1s_chip_xpkt *v = realloc(c->out_v, cap * sizeof *v);
        if (!v) {
            c->host_err = d1_fail(D1_E_NOMEM, "chip: outbound queue of %zu", cap);
            slot_free(c, s);
            return;
        }
        c->out_v = v;
        c->out_cap = cap;
    }
    d1s_chip_xpkt *x = &c->out_v[c->out_n++];
    x->pkt = c->pool[s].pkt;
    x->border = border;
    x->aux = 0;
    x->cyc = now;
    x->seq = c->out_seq++;
    slot_free(c, s);
    progress(c, now);
}

const d1s_chip_xpkt *d1s_chip_take_outbound(d1s_chip *c, size_t *count)
{
    /* swap the buffers: the caller reads the old one while the chip refills the other */
    d1s_chip_xpkt *v = c->out_v;
    size_t cap = c->out_cap;
    *count = c->out_n;
    c->out_v = c->out_taken;
    c->out_cap = c->out_taken_cap;
    c->out_taken = v;
    c->out_taken_cap = cap;
    c->out_n = 0;
    return v;
}

static int xless(const d1s_chip_xpkt *a, const d1s_chip_xpkt *b)
{
    return a->cyc != b->cyc ? a->cyc < b->cyc : a->seq < b->seq;
}

static d1_status heap_push(d1s_chip *c, const d1s_chip_xpkt *x)
{
    if (c->in_n == c->in_cap) {
        size_t cap = c->in_cap ? 2 * c->in_cap : 256;
        d1s_chip_xpkt *h = realloc(c->in_heap, cap * sizeof *h);
        if (!h)
            return d1_fail(D1_E_NOMEM, "chip: inbound queue of %zu", cap);
        c->in_heap = h;
        c->in_cap = cap;
    }
    size_t i = c->in_n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!xless(x, &c->in_heap[up]))
            break;
        c->in_heap[i] = c->in_heap[up];
        i = up;
    }
    c->in_heap[i] = *x;
    return D1_OK;
}

static void heap_pop(d1s_chip *c, d1s_chip_xpkt *out)
{
    *out = c->in_heap[0];
    d1s_chip_xpkt last = c->in_heap[--c->in_n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const d1s_chip_xpkt *best = &last;
        if (l < c->in_n && xless(&c->in_heap[l], best)) {
            m = l;
            best = &c->in_heap[l];
        }
        if (l + 1 < c->in_n && xless(&c->in_heap[l + 1], best))
            m = l + 1;
        if (m == i)
            break;
        c->in_heap[i] = c->in_heap[m];
        i = m;
    }
    if (c->in_n)
        c->in_heap[i] = last;
}

d1_status d1s_chip_push_inbound(d1s_chip *c, const d1s_chip_xpkt *x)
{
    if (x->border >= c->count)
        return d1_fail(D1_E_INVAL, "inbound packet at node %u outside the chip", x->border);
    return heap_push(c, x);
}

/* Inject the packet of pool slot s at local node `at` towards its destination or its next
 * exit at cycle now; the slot is freed unless the network took it. */
static d1_status inject_slot(d1s_chip *c, uint32_t s, uint32_t at, uint64_t now)
{
    const d1s_pkt *pkt = &c->pool[s].pkt;
    uint32_t to = pkt->dst - c->place.id_base;
    if (to >= c->count)
        to = c->place.exit_node ? c->place.exit_node(c->place.ctx, at, pkt->dst) : NIL;
    if (to >= c->count || !c->noc) {
        uint32_t dst = pkt->dst;
        slot_free(c, s);
        return d1_fail(D1_E_INVAL, "no route to node %u", dst);
    }
    uint32_t payload = pkt->kind == D1S_PKT_GETREQ ? 0 : pkt->len_bytes;
    d1_status st = d1s_noc_inject(c->noc, c->pos[at], c->pos[to],
                                  d1s_noc_flits_for_bytes(c->noc, payload), s, now);
    return st;
}

static d1_status inject_at(d1s_chip *c, const d1s_pkt *pkt, uint32_t at, uint64_t now)
{
    uint32_t s = slot_alloc(c);
    if (s == NIL)
        return c->host_err;
    c->pool[s].pkt = *pkt;
    d1_status st = inject_slot(c, s, at, now);
    if (st == D1_E_STATE)
        slot_free(c, s);
    return st;
}

d1_status d1s_chip_send(d1s_chip *c, const d1s_pkt *pkt, uint64_t now)
{
    uint32_t src = pkt->src - c->place.id_base;
    if (src >= c->count)
        return d1_fail(D1_E_INVAL, "send from node %u: not on this chip", pkt->src);
    return inject_at(c, pkt, src, now);
}

/* Packets due at cycle now join their border node's FIFO; every FIFO then injects until its
 * router's injection queue is full (the rest retries next cycle, in order). */
static d1_status inbound_step(d1s_chip *c, uint64_t now)
{
    if (!c->inq_head) {
        c->inq_head = malloc(c->count * sizeof *c->inq_head);
        c->inq_tail = malloc(c->count * sizeof *c->inq_tail);
        c->inq_nodes = malloc(c->count * sizeof *c->inq_nodes);
        c->inq_on = calloc(c->count, 1);
        if (!c->inq_head || !c->inq_tail || !c->inq_nodes || !c->inq_on)
            return d1_fail(D1_E_NOMEM, "chip: inbound queues");
        for (uint32_t id = 0; id < c->count; id++)
            c->inq_head[id] = c->inq_tail[id] = NIL;
    }
    while (c->in_n && c->in_heap[0].cyc <= now) {
        d1s_chip_xpkt x;
        heap_pop(c, &x);
        uint32_t s = slot_alloc(c);
        if (s == NIL)
            return c->host_err;
        c->pool[s].pkt = x.pkt;
        c->pool[s].next = NIL;
        uint32_t b = x.border;
        if (c->inq_head[b] == NIL)
            c->inq_head[b] = s;
        else
            c->pool[c->inq_tail[b]].next = s;
        c->inq_tail[b] = s;
        c->inq_pkts++;
        if (!c->inq_on[b]) {
            c->inq_on[b] = 1;
            c->inq_nodes[c->inq_n++] = b;
        }
    }
    uint32_t w = 0;
    for (uint32_t k = 0; k < c->inq_n; k++) {
        uint32_t b = c->inq_nodes[k];
        while (c->inq_head[b] != NIL) {
            uint32_t s = c->inq_head[b], nx = c->pool[s].next;
            d1_status st = inject_slot(c, s, b, now);
            if (st == D1_E_STATE)
                break;
            c->inq_head[b] = nx;
            c->inq_pkts--;
            if (st != D1_OK)
                return st;
            progress(c, now);
        }
        if (c->inq_head[b] != NIL)
            c->inq_nodes[w++] = b;
        else
            c->inq_on[b] = 0;
    }
    c->inq_n = w;
    return D1_OK;
}

/* Earliest cycle >= now with work. */
static uint64_t chip_next(const d1s_chip *c, uint64_t now)
{
    uint64_t next = nodes_next(c);
    if (c->pending)
        next = min_u64(next, now);
    if (c->dq_head != NIL)
        next = min_u64(next, c->pool[c->dq_head].due);
    if (c->noc)
        next = min_u64(next, d1s_noc_next_event(c->noc, now));
    if (c->in_n)
        next = min_u64(next, c->in_heap[0].cyc);
    if (c->inq_pkts)
        next = min_u64(next, now);
    return next < now ? now : next;
}

d1_status d1s_chip_advance(d1s_chip *c, uint64_t t_end, d1s_chip_result *res,
                           uint64_t *next_cyc)
{
    memset(res, 0, sizeof *res);
    res->end = D1S_END_MAX_CYCLES;
    uint64_t now = c->now;
    c->trap_flag |= c->pending != 0; /* a node may have trapped before: look once */
    for (;;) {
        now = chip_next(c, now);
        if (now >= t_end) {
            c->now = t_end > c->now ? t_end : c->now;
            *next_cyc = now;
            return D1_OK;
        }
        d1_status st = inbound_step(c, now);
        if (st != D1_OK)
            return st;
        int trapped = eval_nodes(c, now);
        int noc_step = c->noc && d1s_noc_next_event(c->noc, now) <= now;
        if (noc_step)
            d1s_noc_eval(c->noc, now);
        retry_pending(c, now);
        if (noc_step)
            d1s_noc_commit(c->noc, now);
        while (c->dq_head != NIL && c->pool[c->dq_head].due <= now) {
            uint32_t s = c->dq_head;
            c->dq_head = c->pool[s].next;
            if (c->dq_head == NIL)
                c->dq_tail = NIL;
            c->direct_inflight--;
            arrive(c, s, now);
        }
        if (c->host_err != D1_OK) {
            st = c->host_err;
            c->host_err = D1_OK;
            return st;
        }
        for (uint32_t id = 0; trapped && id < c->count; id++)
            if (d1s_node_host_status(c->node[id]) != D1_OK)
                return d1s_node_host_status(c->node[id]);
        res->cycles = now + 1;
        const d1s_trap *t = trapped || c->trap_flag ? find_trap(c) : NULL;
        c->trap_flag = 0;
        if (t) {
            res->end = D1S_END_TRAP;
            res->trap = *t;
            c->now = now + 1;
            *next_cyc = D1S_NO_EVENT;
            return D1_OK;
        }
        now++;
        c->now = now;
    }
}

int d1s_chip_quiescent(const d1s_chip *c)
{
    return !c->in_n && !c->inq_pkts && !c->out_n && all_done(c);
}

int d1s_chip_raise_stuck(d1s_chip *c, d1s_trap_cause cause, uint64_t now)
{
    for (uint32_t id = 0; id < c->count; id++)
        if (c->started[id] &&
            (!d1s_node_all_halted(c->node[id]) || !d1s_node_dma_idle(c->node[id]))) {
            raise_stuck(c, cause, now);
            return 1;
        }
    return 0;
}
