/* Network on chip: a 2D mesh of input-queued wormhole routers (module d1s_noc).
 *
 * Geometry: positions (x, y), 0 <= x < cols, 0 <= y < rows; node id = y * cols + x. A
 * harvested position has neither router nor node. Ports: N = (x, y-1), E = (x+1, y),
 * S = (x, y+1), W = (x-1, y), LOCAL = the node's SRAM port.
 *
 *      y=0  +---+---+---+          each arrow is one directed link (a latency queue of
 *           | 0 | 1 | 2 |  -> x    link_delay_cyc, up to link_flits_per_cyc flits per
 *      y=1  +---+---+---+          cycle) paired with a credit queue going back
 *           | 3 | 4 | 5 |
 *           v y
 *
 * Routers: V virtual channels x B-flit buffers per input port, credit flow control,
 * routing = XY to an intermediate node m (lower VCs) then XY from m to the destination
 * (upper VCs), m = dst when the plain XY path avoids harvested positions (doc/noc.md has the
 * deadlock-freedom argument and the zero-load latency formula).
 *
 * Timing contract (two-phase, BookSim style): per simulated cycle `now` call
 * d1s_noc_eval(now) then d1s_noc_commit(now), with now strictly increasing (cycles may be
 * skipped when now < d1s_noc_next_event()). A packet injected at cycle c (during any phase
 * of cycle c, or between cycles) enters the router no earlier than cycle c + 1, so the order
 * in which components call each other within a phase never changes results.
 *
 * Ownership: the d1s_noc owns every router, link and packet slot; all returned pointers
 * are borrowed and valid until the next call that mutates the network. Not thread-safe:
 * one network per thread (a chip is stepped by one thread). No allocation per cycle
 * (only inject may grow the packet pool). */
#ifndef D1S_NOC_H
#define D1S_NOC_H

#include "sim/arch/config.h"
#include "sim/arch/status.h"

#include <stdint.h>

typedef struct d1s_noc d1s_noc;

enum d1s_noc_port {
    D1S_NOC_N = 0,
    D1S_NOC_E = 1,
    D1S_NOC_S = 2,
    D1S_NOC_W = 3,
    D1S_NOC_LOCAL = 4,
    D1S_NOC_PORTS = 5
};

/* A mesh other than the chip's: cols x rows with an explicit harvested list (n_harvested
 * (x, y) pairs, copied by create). */
typedef struct d1s_noc_mesh {
    int cols, rows;
    int n_harvested;
    const int (*harvested)[2];
} d1s_noc_mesh;

/* A packet as seen by the user. Times are cycles; *_cyc fields the network has not reached
 * yet are UINT64_MAX. */
typedef struct d1s_noc_pkt {
    uint32_t src, dst;        /* node ids */
    uint32_t size_flits;      /* head..tail, >= 1 */
    uint32_t hops;            /* router-to-router links the head crossed */
    uint64_t tag;             /* opaque to the network (e.g. a DMA descriptor handle) */
    uint64_t create_cyc;      /* cycle passed to d1s_noc_inject */
    uint64_t head_inject_cyc; /* head flit written into the source router's input buffer */
    uint64_t tail_eject_cyc;  /* tail flit left the destination router to the node */
} d1s_noc_pkt;

/* Called in d1s_noc_commit(now) once per delivered packet, in increasing dst order, with
 * now == pkt->tail_eject_cyc. The packet is released after the call returns. The callback
 * may call d1s_noc_inject (with the same now: the packet enters at now + 1 or later) and the
 * query functions; it must not step the network. */
typedef void (*d1s_noc_eject_fn)(void *user, const d1s_noc_pkt *pkt, uint64_t now);

/* Per-network totals since create (or the last d1s_noc_stats_reset). */
typedef struct d1s_noc_stats {
    uint64_t pkts_injected, pkts_ejected; /* packets accepted by inject / delivered */
    uint64_t flits_injected, flits_ejected;
    uint64_t link_flits;     /* flits moved over router-to-router links (all links) */
    uint64_t pkts_in_flight; /* accepted, not yet delivered (never reset) */
    uint64_t cycles_stepped; /* commits executed (idle cycles skipped are not counted) */
    uint64_t buf_max_flits;  /* highest occupancy seen in any input VC buffer (<= B) */
} d1s_noc_stats;

/* Build the chip mesh (mesh == NULL: mesh_cols x mesh_rows with cfg->harvested) or the given
 * mesh, with the timing of cfg (flit_bytes, link_bytes_per_cyc, router_in/out_bytes_per_cyc,
 * router_delay_cyc, link_delay_cyc, noc_*). cfg is only read during the call.
 * Errors: D1_E_CONFIG (byte rates not multiples of flit_bytes, harvested position outside
 * the mesh or repeated, fewer than 2 VCs with harvested positions), D1_E_NOMEM. */
d1_status d1s_noc_create(const d1_config *cfg, const d1s_noc_mesh *mesh, d1s_noc **out);
void d1s_noc_destroy(d1s_noc *noc);
/* A network with the mesh (size, harvested positions) of `like` and the timing of cfg; the
 * routing table is copied from `like` (fast creation of the many chips of a tile). */
d1_status d1s_noc_create_like(const d1_config *cfg, const d1s_noc *like, d1s_noc **out);

int d1s_noc_cols(const d1s_noc *noc);
int d1s_noc_rows(const d1s_noc *noc);
/* 1 if (x, y) is inside the mesh and not harvested. */
int d1s_noc_is_node(const d1s_noc *noc, int x, int y);
static inline uint32_t d1s_noc_node_id(const d1s_noc *noc, int x, int y)
{
    return (uint32_t)y * (uint32_t)d1s_noc_cols(noc) + (uint32_t)x;
}
/* Flits per cycle: router-to-router link, node -> router (injection), router -> node. */
int d1s_noc_link_flits_per_cyc(const d1s_noc *noc);
int d1s_noc_inj_flits_per_cyc(const d1s_noc *noc);
int d1s_noc_ej_flits_per_cyc(const d1s_noc *noc);
/* Flits needed for size_bytes of payload (at least 1). */
uint32_t d1s_noc_flits_for_bytes(const d1s_noc *noc, uint64_t size_bytes);

/* Route of src -> dst: hop count (router-to-router links) and the intermediate node (== dst
 * for plain XY). Errors (also returned by inject, with the same message):
 * D1_E_RANGE "node id N outside the WxH mesh", D1_E_INVAL "route to harvested position
 * (x,y)" / "route from harvested position (x,y)", D1_E_INVAL "no route from (x,y) to (x,y)
 * around harvested positions". */
d1_status d1s_noc_route(const d1s_noc *noc, uint32_t src, uint32_t dst, uint32_t *hops,
                        uint32_t *mid);
/* Zero-load latency of a size_flits packet src -> dst (doc/noc.md, asserted by tests):
 * net = head inject -> tail eject, pkt = create -> tail eject (= net + 1). */
d1_status d1s_noc_zero_load_lat(const d1s_noc *noc, uint32_t src, uint32_t dst, uint32_t size_flits,
                                uint64_t *net_lat_cyc, uint64_t *pkt_lat_cyc);

/* Packets src's injection queue can still accept (0 = inject would report busy). */
uint32_t d1s_noc_inject_space(const d1s_noc *noc, uint32_t src);
/* Queue a packet at src's local port at cycle now (>= the last stepped cycle).
 * D1_OK; D1_E_STATE when the injection queue is full (busy: retry later; no detail
 * message is set, so this is cheap); routing errors as d1s_noc_route; D1_E_INVAL for
 * size_flits == 0; D1_E_NOMEM. */
d1_status d1s_noc_inject(d1s_noc *noc, uint32_t src, uint32_t dst, uint32_t size_flits,
                         uint64_t tag, uint64_t now);

/* Delivery: with a callback set, every delivered packet goes to it (never queued). Without
 * one, delivered packets wait in dst's ejection queue (noc_ej_queue_pkts deep; when it is
 * full the router stops ejecting new packets to dst) and d1s_noc_poll takes the oldest one
 * whose tail was ejected before cycle now: returns 1 and fills *out, or 0. */
void d1s_noc_set_eject_cb(d1s_noc *noc, d1s_noc_eject_fn fn, void *user);
int d1s_noc_poll(d1s_noc *noc, uint32_t dst, uint64_t now, d1s_noc_pkt *out);

/* Two-phase step of cycle now (see the timing contract above). */
void d1s_noc_eval(d1s_noc *noc, uint64_t now);
void d1s_noc_commit(d1s_noc *noc, uint64_t now);
/* Earliest cycle >= now at which eval/commit can change anything; UINT64_MAX when the
 * network is empty. Stepping is only needed for cycles >= this. */
uint64_t d1s_noc_next_event(const d1s_noc *noc, uint64_t now);
/* 1 if no packet is queued, in a buffer or on a link. */
int d1s_noc_idle(const d1s_noc *noc);

/* Statistics. Per-link counters: flits that left router `node` through mesh port `port`
 * (0 when there is no link). Per-router: flits that crossed the router's crossbar. */
void d1s_noc_get_stats(const d1s_noc *noc, d1s_noc_stats *out);
uint64_t d1s_noc_link_flits(const d1s_noc *noc, uint32_t node, int port);
uint64_t d1s_noc_router_flits(const d1s_noc *noc, uint32_t node);
/* Zero the counters (not pkts_in_flight). */
void d1s_noc_stats_reset(d1s_noc *noc);

#endif
