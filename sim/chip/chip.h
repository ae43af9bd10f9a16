/* d1s_chip: the nodes of one D1 chip and the network that joins them.
 *
 * Node ids: the usable (not harvested) positions of the mesh_cols x mesh_rows grid,
 * numbered in row-major order, 0..count-1 (354 by default). This is the numbering of
 * kernel placements (sim/elf: target node_count) and of DMA descriptors. A harvested
 * position has no id, so a DMA naming an id >= count traps (dma-node). CSR nid reads the
 * id, nx/ny the position. (The global id of a multi-chip system will add the chip offset.)
 *
 * Network: the NoC of sim/noc (routers, links, credits) or, for tests and comparison, a
 * direct network that delivers every packet after a fixed latency (D1S_NET_DIRECT).
 *
 * Clocking: two-phase per cycle -- eval of every node that has an event, NoC eval; NoC
 * commit (deliveries into the nodes). Only nodes with events are visited and idle spans are
 * skipped. A run ends when every started thread has halted and nothing is in flight, on a
 * guest trap (including deadlock: every thread blocked and nothing in flight; watchdog:
 * watchdog_cyc cycles without an instruction or a packet), or at max_cycles. */
#ifndef D1S_CHIP_H
#define D1S_CHIP_H

#include "sim/arch/config.h"
#include "sim/arch/status.h"
#include "sim/node/node.h"

#include <stddef.h>
#include <stdint.h>

typedef struct d1s_chip d1s_chip;
typedef struct d1s_kernel d1s_kernel; /* sim/elf/emit.h */

typedef enum d1s_net_kind { D1S_NET_NOC = 0, D1S_NET_DIRECT = 1 } d1s_net_kind;

typedef struct d1s_chip_opts {
    d1s_node_mode mode;
    d1s_net_kind net;
    uint64_t direct_lat_cyc; /* D1S_NET_DIRECT: delivery latency (>= 1) */
} d1s_chip_opts;

typedef enum d1s_run_end {
    D1S_END_HALTED = 0, /* every started thread halted, nothing in flight */
    D1S_END_TRAP,       /* a guest trap (see trap) */
    D1S_END_MAX_CYCLES, /* max_cycles reached */
} d1s_run_end;

typedef struct d1s_chip_result {
    d1s_run_end end;
    uint64_t cycles; /* cycles simulated: the last active cycle + 1 */
    d1s_trap trap;   /* valid when end == D1S_END_TRAP */
} d1s_chip_result;

/* Totals over the chip (per node: d1s_node_get_stats). */
typedef struct d1s_chip_stats {
    uint64_t nodes_started;
    uint64_t insns, mma, sram_load_bytes, sram_store_bytes, dma_out_bytes, dma_in_bytes;
    uint64_t pkts;                /* packets delivered */
    uint64_t link_flits;          /* flits over router-to-router links (NoC only) */
    uint64_t links;               /* directed router-to-router links */
    uint64_t stall_cyc[D1S_STALL_COUNT];
    uint64_t thread_cycles;       /* sum of per-thread active cycles */
    uint64_t max_node_cycles;
} d1s_chip_stats;

/* cfg is borrowed and must outlive the chip. D1_E_CONFIG (bad harvested list or NoC
 * parameters), D1_E_NOMEM. */
d1_status d1s_chip_create(const d1_config *cfg, const d1s_chip_opts *opts, d1s_chip **out);
void d1s_chip_destroy(d1s_chip *c);

uint32_t d1s_chip_node_count(const d1s_chip *c);
d1s_node *d1s_chip_node(d1s_chip *c, uint32_t id); /* borrowed; NULL if id out of range */
/* Position of node id; -1 if out of range. */
int d1s_chip_node_xy(const d1s_chip *c, uint32_t id, int *x, int *y);

/* Load a program (predecoded once, shared) on node ids [first, last] with thread 0 at
 * entry. D1_E_INVAL (ids, entry), D1_E_NOMEM. */
d1_status d1s_chip_load_program(d1s_chip *c, uint32_t first, uint32_t last,
                                const uint32_t *words, size_t n_words, uint64_t entry);
/* Write an initial SRAM image on node id. D1_E_RANGE, D1_E_NOMEM. */
d1_status d1s_chip_load_image(d1s_chip *c, uint32_t id, uint64_t addr, const void *bytes,
                              size_t size);
/* Load every placement of a kernel (programs, images, entries). Placements must fit this
 * chip's node ids (D1S_NODE_LAST = the last node of the chip). D1_E_INVAL otherwise. */
d1_status d1s_chip_load_kernel(d1s_chip *c, const d1s_kernel *k);

/* Trace events of node id go to fn (NULL: off). */
void d1s_chip_set_node_trace(d1s_chip *c, uint32_t id, d1s_node_trace_fn fn, void *ctx);
/* Called about every `every_cyc` simulated cycles during a run (progress line). */
typedef void (*d1s_chip_progress_fn)(void *ctx, uint64_t now, uint64_t insns);
void d1s_chip_set_progress(d1s_chip *c, d1s_chip_progress_fn fn, void *ctx,
                           uint64_t every_cyc);

/* Run from the current cycle until the end condition or cycle max_cycles (0: no limit).
 * Returns D1_OK with *res filled for every guest outcome (traps included); a host error
 * (D1_E_NOMEM while running) otherwise. */
d1_status d1s_chip_run(d1s_chip *c, uint64_t max_cycles, d1s_chip_result *res);

void d1s_chip_get_stats(const d1s_chip *c, d1s_chip_stats *out);
/* Flits that left node id's router through mesh port (0 N, 1 E, 2 S, 3 W); 0 without NoC. */
uint64_t d1s_chip_link_flits(const d1s_chip *c, uint32_t id, int port);
const d1_config *d1s_chip_config(const d1s_chip *c);
d1s_node_mode d1s_chip_mode(const d1s_chip *c);

/* ---- multi-chip systems (used by sim/tile) -------------------------------------------------
 * A chip inside a tile gets global node ids (id_base + local id) and global positions
 * (gx0 + x, gy0 + y). A packet whose destination is not on this chip is routed over the NoC
 * to the border node exit_node() names; when its tail is ejected there it leaves the chip
 * into the outbound list (d1s_chip_take_outbound). Packets arriving from outside are queued
 * with d1s_chip_push_inbound and injected at their border node on their arrival cycle (or
 * later when the node's injection queue is full). exit_node is called from the thread that
 * steps the chip: it must only read shared state. */
typedef struct d1s_chip_place {
    uint32_t id_base; /* global id of local node 0 */
    int gx0, gy0;     /* global position of local position (0, 0) */
    void *ctx;
    /* Local id of the border node that a packet from local node src to global destination dst
     * (not on this chip) leaves through; UINT32_MAX: unreachable (the sender traps dma-node). */
    uint32_t (*exit_node)(void *ctx, uint32_t src_local, uint32_t dst);
    /* 1 if dst is a valid global destination of a remote PUT/GET. */
    int (*node_ok)(void *ctx, uint32_t dst);
    /* A chip of the same configuration whose NoC routing tables are copied (faster), or NULL. */
    const struct d1s_chip *like;
    /* Configuration of the NoC only (NULL: cfg). sim/tile widens the routers' local ports to
     * a mesh link, since a border router's local port doubles as its chip-edge port; the
     * nodes still limit themselves to router_in/out_bytes_per_cyc. Borrowed, must outlive. */
    const d1_config *noc_cfg;
} d1s_chip_place;

/* A packet crossing the chip boundary. */
typedef struct d1s_chip_xpkt {
    d1s_pkt pkt;
    uint32_t border; /* local id of the border node it leaves from / enters at */
    uint32_t aux;    /* owner's use (tile: link index) */
    uint64_t cyc;    /* leaving: tail ejected at the border; entering: arrival cycle */
    uint64_t seq;    /* leaving: order of leaving on this chip; entering: owner's order key */
} d1s_chip_xpkt;

/* Called when a packet reaches its destination node on this chip (before the node takes it).
 * Return 1 to consume it (the node never sees it: probes), 0 to deliver it normally. */
typedef int (*d1s_chip_deliver_fn)(void *ctx, const d1s_pkt *pkt, uint64_t now);

/* d1s_chip_create with a placement (place == NULL: same as d1s_chip_create). Requires the
 * NoC network for off-chip destinations. place is copied. */
d1_status d1s_chip_create_placed(const d1_config *cfg, const d1s_chip_opts *opts,
                                 const d1s_chip_place *place, d1s_chip **out);
void d1s_chip_set_deliver_hook(d1s_chip *c, d1s_chip_deliver_fn fn, void *ctx);
/* Offer a packet as if node pkt->src (global id on this chip) sent it at cycle now:
 * D1_OK, D1_E_STATE (injection queue full: retry later), D1_E_INVAL (bad src/dst). */
d1_status d1s_chip_send(d1s_chip *c, const d1s_pkt *pkt, uint64_t now);
/* Queue a packet arriving at border node x->border at cycle x->cyc (>= the chip's current
 * cycle). Packets are injected in (cyc, seq) order. D1_E_NOMEM. */
d1_status d1s_chip_push_inbound(d1s_chip *c, const d1s_chip_xpkt *x);
/* Borrow the packets that left since the last call (in leaving order) and forget them:
 * the array stays valid until the next step of the chip. */
const d1s_chip_xpkt *d1s_chip_take_outbound(d1s_chip *c, size_t *count);
/* Simulate every cycle with work in [current cycle, t_end) and stop at t_end (no end,
 * deadlock or watchdog detection: the owner decides). *next_cyc = earliest cycle >= t_end
 * with work (D1S_NO_EVENT: none). res->end = D1S_END_TRAP with res->trap on a guest trap
 * (the chip then stays at the trap cycle), else D1S_END_MAX_CYCLES; res->cycles = last
 * active cycle + 1 (0 if none). Host errors as d1s_chip_run. */
d1_status d1s_chip_advance(d1s_chip *c, uint64_t t_end, d1s_chip_result *res,
                           uint64_t *next_cyc);
/* 1 if every started node halted with DMA idle, nothing is in the network, inbound or
 * outbound. */
int d1s_chip_quiescent(const d1s_chip *c);
/* Last cycle at which a node issued or a packet moved; the current cycle. */
uint64_t d1s_chip_last_progress(const d1s_chip *c);
uint64_t d1s_chip_now(const d1s_chip *c);
/* Blame a stuck node (deadlock / watchdog) at cycle now; 1 if a node of this chip was
 * started and not finished (and got the trap), else 0. */
int d1s_chip_raise_stuck(d1s_chip *c, d1s_trap_cause cause, uint64_t now);
/* First trap of the chip's nodes (lowest local id), NULL if none. */
const d1s_trap *d1s_chip_trap(const d1s_chip *c);
/* Close the node statistics at cycle end (end of a multi-chip run). */
void d1s_chip_finish(d1s_chip *c, uint64_t end);
/* Local id of the node at local position (x, y), UINT32_MAX if harvested or outside. */
uint32_t d1s_chip_id_at(const d1s_chip *c, int x, int y);
/* The chip's NoC (NULL with the direct network), borrowed. */
struct d1s_noc *d1s_chip_noc(d1s_chip *c);

#endif
