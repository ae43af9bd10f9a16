/* d1s_tile: a system of training tiles (module d1s_tile) -- tiles_x x tiles_y tiles of
 * tile_chips_x x tile_chips_y D1 chips, the SerDes edges between chips, the tile-to-tile
 * edges, the DIPs (sim/io) on tile edges, and the parallel window engine.
 *
 * Geometry. The system is one grid of CX x CY chips (CX = tiles_x * tile_chips_x); chip
 * k = cy * CX + cx. Every chip has the same harvested positions, hence the same count n of
 * usable nodes. Global node id = k * n + local id (local id = the chip's row-major usable
 * numbering); global position (gx, gy) = (cx * mesh_cols + x, cy * mesh_rows + y). DIP i
 * (0..dip_count-1) has the global id node_count + i: HBM DMA descriptors name the DIP index,
 * packets carry the DIP's global id.
 *
 *     chip (0,0)        chip (1,0)         each chip edge: one d1s_xlink per direction
 *   +-----------+     +-----------+        (serdes_bytes_per_cyc, serdes_lat_cyc; a tile
 *   |  18 x 20  |<===>|  18 x 20  | ...    edge: tile_edge_bytes_per_cyc shared by the
 *   +-----------+     +-----------+        chips along it, tile_link_lat_cyc)
 *        ^^
 *   DIP: link into the tile edge (dip_link_*), HBM (hbm_*), PCIe (pcie_*)
 *
 * Routing (doc/tile.md). Across chips, dimension order X then Y: a packet for another chip
 * goes over its chip's NoC to the border node facing the next chip (same row for X moves,
 * the destination's column for Y moves; the nearest usable border node when that position
 * is harvested), leaves through the chip edge link and enters the next chip at the facing
 * border node. On chip the NoC routes (XY with detours around harvested nodes). A crossing
 * is store-and-forward through the border router's local port. Packets for a DIP go to the
 * DIP's chip and leave through its tile-edge border nodes; DIP responses enter the tile at
 * those border nodes, spread round-robin.
 *
 * Parallel engine. Chips advance through windows [T, T + W), W <= the smallest crossing
 * latency, in an OpenMP parallel loop over chips (one parallel region per window; no
 * SystemC and no shared writes inside). At the window edge the packets that left every chip
 * are sorted by (cycle, source chip, sequence) and pushed through the link models and DIPs
 * in that order into the destination chips' inbound queues (arrival >= T + W). Results do
 * not depend on the number of threads. The chips can be partitioned over processes
 * (d1s_tile_partition, MPI: tile_mpi.h) with the same results.
 *
 * Not thread-safe as an object: one caller drives a tile. */
#ifndef D1S_TILE_H
#define D1S_TILE_H

#include "sim/arch/config.h"
#include "sim/arch/status.h"
#include "sim/chip/chip.h"
#include "sim/io/dip.h"
#include "sim/noc/traffic.h"
#include "sim/node/node.h"

#include <stddef.h>
#include <stdint.h>

typedef struct d1s_tile d1s_tile;
typedef struct d1s_kernel d1s_kernel;

enum { D1S_TILE_N = 0, D1S_TILE_E = 1, D1S_TILE_S = 2, D1S_TILE_W = 3 };

/* Probe packets (latency measurement) use this kind; they are consumed at the destination
 * router and never reach a node. */
#define D1S_TILE_PKT_PROBE 0x7f

typedef struct d1s_tile_opts {
    d1s_node_mode mode;
    int threads; /* OpenMP threads per window; 0: cfg->sim_threads (0: OpenMP default) */
} d1s_tile_opts;

typedef struct d1s_tile_result {
    d1s_run_end end;
    uint64_t cycles;  /* last active cycle + 1 */
    d1s_trap trap;    /* end == D1S_END_TRAP: the trap with the lowest (cycle, node) */
    uint64_t windows; /* windows simulated (idle spans skipped) */
    uint64_t xpkts;   /* packets that crossed a chip edge, tile edge or DIP link */
} d1s_tile_result;

/* The zero-load path of one packet, as the simulator routes it (d1s_tile_zero_load). */
typedef struct d1s_tile_path {
    uint64_t lat_cyc;    /* creation at the source router -> tail ejected at the destination */
    uint32_t hops;       /* router-to-router links on chips */
    uint32_t segments;   /* on-chip legs (crossings + 1) */
    uint32_t serdes;     /* chip-edge crossings inside a tile */
    uint32_t tile_links; /* tile-to-tile crossings */
    uint64_t noc_cyc;    /* cycles on chip NoCs (routers, wires, injection/ejection) */
    uint64_t serial_cyc; /* serialization on crossing links */
    uint64_t xlat_cyc;   /* crossing latencies */
} d1s_tile_path;

/* Per-edge-link counters (bytes/packets carried; first offer .. last departure). */
typedef struct d1s_tile_link_stats {
    int exists;    /* 0 at the system border */
    int tile_link; /* 1: tile-to-tile edge, 0: SerDes inside a tile */
    uint64_t bytes, pkts, first_cyc, last_cyc;
    double bytes_per_cyc; /* configured rate */
} d1s_tile_link_stats;

/* cfg is borrowed and must outlive the tile. Errors: D1_E_CONFIG (bad geometry, window
 * longer than a crossing latency, dip_edges), D1_E_NOMEM. */
d1_status d1s_tile_create(const d1_config *cfg, const d1s_tile_opts *opts, d1s_tile **out);
void d1s_tile_destroy(d1s_tile *t);
/* d1s_tile_create whose chips copy the NoC routing table of `like` (a chip with the chip mesh
 * of cfg: same mesh size and harvested positions; NULL: computed once for chip 0). Only read
 * during the call. For callers that create many tiles (the runtime's sim backend). */
d1_status d1s_tile_create_like(const d1_config *cfg, const d1s_tile_opts *opts,
                               const d1s_chip *like, d1s_tile **out);

/* ---- geometry ---- */
int d1s_tile_chips_x(const d1s_tile *t); /* whole system */
int d1s_tile_chips_y(const d1s_tile *t);
uint32_t d1s_tile_chip_count(const d1s_tile *t);
uint32_t d1s_tile_nodes_per_chip(const d1s_tile *t);
uint32_t d1s_tile_node_count(const d1s_tile *t);
uint32_t d1s_tile_dip_count(const d1s_tile *t);
uint64_t d1s_tile_window_cyc(const d1s_tile *t);
int d1s_tile_threads(const d1s_tile *t);
/* Global position of a node id (-1 if out of range); node id at a global position
 * (UINT32_MAX if harvested or outside). */
int d1s_tile_node_xy(const d1s_tile *t, uint32_t id, int *gx, int *gy);
uint32_t d1s_tile_node_at(const d1s_tile *t, int gx, int gy);
/* Usable node ids of chip k (k < 0: the whole system) in snake order over the global grid:
 * rows top to bottom, left to right on even rows and right to left on odd ones, harvested
 * positions skipped (consecutive nodes are mesh neighbours except around holes). out must
 * hold the node count; returns how many were written. */
size_t d1s_tile_snake(const d1s_tile *t, int k, uint32_t *out);
int d1s_tile_width(const d1s_tile *t); /* global positions in x (CX * mesh_cols) */
int d1s_tile_height(const d1s_tile *t);
d1s_chip *d1s_tile_chip(d1s_tile *t, uint32_t k); /* borrowed */
d1s_node *d1s_tile_node(d1s_tile *t, uint32_t id);
d1s_dip *d1s_tile_dip(d1s_tile *t, uint32_t i);
/* DIP i: its chip, tile edge (D1S_TILE_*), and the node ids where it attaches. */
d1_status d1s_tile_dip_attach(const d1s_tile *t, uint32_t i, uint32_t *chip, int *edge,
                              const uint32_t **nodes, size_t *n_nodes);

/* ---- loading (global node ids) ---- */
d1_status d1s_tile_load_program(d1s_tile *t, uint32_t first, uint32_t last, const uint32_t *words,
                                size_t n_words, uint64_t entry);
d1_status d1s_tile_load_image(d1s_tile *t, uint32_t id, uint64_t addr, const void *bytes,
                              size_t size);
/* Placements in global ids (D1S_NODE_LAST = the last node of the system). */
d1_status d1s_tile_load_kernel(d1s_tile *t, const d1s_kernel *k);

/* ---- running ---- */
/* Run windows until every started node halted with nothing in flight, a guest trap
 * (deadlock: nothing can happen and something is unfinished; watchdog) or max_cycles
 * (0: none). D1_OK for every guest outcome; host errors (D1_E_NOMEM) otherwise. */
d1_status d1s_tile_run(d1s_tile *t, uint64_t max_cycles, d1s_tile_result *res);
uint64_t d1s_tile_now(const d1s_tile *t);

/* Send one probe packet of size_bytes (1..64) src -> dst (node ids) at the current cycle,
 * run until it arrives and return its latency (creation at src's router -> tail ejected
 * at dst). Meant for an otherwise idle tile. D1_E_INVAL (ids), D1_E_STATE (not delivered
 * within 10^7 cycles). */
d1_status d1s_tile_probe(d1s_tile *t, uint32_t src, uint32_t dst, uint32_t size_bytes,
                         uint64_t *lat_cyc);
/* Many probes in one run: probe i is sent at the current cycle + req[i].offset_cyc; lat_cyc[i]
 * receives its latency (UINT64_MAX if it did not arrive within max_cycles of the start).
 * Probes sent far enough apart (offsets > the largest zero-load latency) never meet, so
 * each measures the zero-load latency. D1_E_INVAL (ids, sizes), D1_E_NOMEM. */
typedef struct d1s_tile_probe_req {
    uint32_t src, dst, size_bytes;
    uint64_t offset_cyc;
} d1s_tile_probe_req;
d1_status d1s_tile_probe_batch(d1s_tile *t, const d1s_tile_probe_req *req, size_t n,
                               uint64_t max_cycles, uint64_t *lat_cyc);
/* The analytical zero-load latency of that probe, with the path breakdown. Same errors
 * as the routing (D1_E_INVAL: unreachable). */
d1_status d1s_tile_zero_load(const d1s_tile *t, uint32_t src, uint32_t dst, uint32_t size_bytes,
                             d1s_tile_path *out);

/* Zero-load HBM read of 64 bytes by node from DIP dip: a read request leaves the node's
 * router at the current cycle; *lat_cyc = cycles until the response's tail is ejected at the
 * node (measured), *formula_cyc = the same from the formula (request path + DIP link + HBM
 * port + HBM latency + DIP link + response path from the attach node the DIP uses next).
 * Meant for an idle tile. D1_E_INVAL (ids), D1_E_STATE (no response). */
d1_status d1s_tile_hbm_probe(d1s_tile *t, uint32_t node, uint32_t dip, uint64_t *lat_cyc,
                             uint64_t *formula_cyc);

/* Synthetic traffic over the whole system: the patterns of sim/noc/traffic.h on the global
 * node grid (transpose (x, y) -> (y, x), bit complement (W-1-x, H-1-y), neighbour = next
 * node east wrapping in the row, hotspot at global (hotspot_x, hotspot_y), -1: the centre),
 * Bernoulli sources (per-node seeded generators), unbounded source queues, warm-up /
 * measurement / drain phases and BookSim's packet latency (creation -> tail ejection, source
 * queueing included); packets of size_flits flits cross chip edges like any packet. Call on
 * a fresh tile (nothing loaded, nothing in flight); traffic still in flight at the end stays
 * there. net_lat_* and hops_avg are not measured (0). D1_E_INVAL for bad parameters. */
d1_status d1s_tile_traffic_run(d1s_tile *t, const d1s_traffic_params *p, d1s_traffic_result *out);
/* Average zero-load packet latency of the pattern (sampled over at most `samples` sources
 * for uniform and hotspot destinations; exact sources otherwise). */
d1_status d1s_tile_traffic_zero_load(const d1s_tile *t, const d1s_traffic_params *p,
                                     uint32_t samples, double *avg_cyc);

/* ---- partitioning over processes (MPI: sim/tile/tile_mpi.h) ---- */
/* Collective operations of a group of processes, each driving its own copy of the same tile
 * (same configuration, same calls in the same order). tile.c does not depend on MPI: the
 * caller supplies these (tile_mpi.c wraps MPI_COMM_WORLD). Every function is collective. */
typedef enum d1s_tile_redop { D1S_TILE_MIN, D1S_TILE_MAX, D1S_TILE_SUM } d1s_tile_redop;
typedef struct d1s_tile_comm {
    void *ctx;
    int rank, size;
    /* Byte all-to-all: send holds size blocks, scount[r] bytes for rank r, in rank order.
     * *recv receives what every rank sent here, in rank order (rcount[r] bytes from rank r);
     * the buffer belongs to the comm and stays valid until the next call. */
    d1_status (*alltoallv)(void *ctx, const void *send, const size_t *scount, const void **recv,
                           size_t *rcount);
    /* Element-wise reduction of n values; every rank gets the result in v. */
    d1_status (*allreduce)(void *ctx, uint64_t *v, size_t n, d1s_tile_redop op);
    /* len bytes of buf from rank root to every rank. */
    d1_status (*bcast)(void *ctx, void *buf, size_t len, int root);
} d1s_tile_comm;

/* Partition the chips over comm->size processes: rank r steps chips [r K / size,
 * (r + 1) K / size) (contiguous, sizes differ by at most one). Call right after creation,
 * before loading anything; comm is copied (its ctx must outlive the tile). Afterwards every
 * process creates the same tile and makes the same calls: loading touches only the own
 * chips; d1s_tile_run, d1s_tile_chip_stats, d1s_tile_chip_stats_of and d1s_tile_read are
 * collective and return the same (whole-system) results on every rank, identical to one
 * process; d1s_tile_get_link_stats is valid on the rank owning `chip`. The exchange of every
 * window is one alltoallv of the crossing packets plus one allreduce (next event, progress,
 * traps, errors). Probes, HBM probes and synthetic traffic are single-process only
 * (D1_E_STATE). D1_E_CONFIG: more ranks than chips; D1_E_STATE: already partitioned or
 * something loaded. */
d1_status d1s_tile_partition(d1s_tile *t, const d1s_tile_comm *comm);
/* This process's chips [*first, *end) (the whole system when not partitioned). */
void d1s_tile_own_chips(const d1s_tile *t, uint32_t *first, uint32_t *end);
/* Statistics of chip k (collective when partitioned: from the owner). */
d1_status d1s_tile_chip_stats_of(d1s_tile *t, uint32_t k, d1s_chip_stats *out);
/* Copy n bytes of node id's SRAM at addr (collective when partitioned: from the owner). */
d1_status d1s_tile_read(d1s_tile *t, uint32_t id, uint64_t addr, void *buf, size_t n);

/* ---- statistics ---- */
void d1s_tile_get_link_stats(const d1s_tile *t, uint32_t chip, int dir, d1s_tile_link_stats *out);
/* Sum of the chips' statistics (max_node_cycles: the largest). Collective when partitioned;
 * d1s_tile_chip_stats returns the same on every rank then (a host error of the reduction
 * leaves the own chips' sum and sets d1_last_error). */
void d1s_tile_chip_stats(const d1s_tile *t, d1s_chip_stats *out);
/* Host memory held by the simulation state that grows with use (SRAM pages, HBM pages). */
size_t d1s_tile_resident_bytes(const d1s_tile *t);

#endif
