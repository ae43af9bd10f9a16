/* Synthetic traffic for the network on chip (module d1s_traffic).
 *
 * One run = one offered load on a fresh network: every node that has a destination under the
 * pattern creates packets by a Bernoulli process (probability rate / size_flits per cycle,
 * seeded PRNG) into an unbounded source queue, from which they enter the network's injection
 * queue as soon as it has space. Phases (BookSim2's): warm-up, measurement, drain. Only
 * packets created during the measurement window are measured; traffic keeps being generated
 * during the drain, which ends when every measured packet is delivered or after
 * drain_max_cyc (then the run reports saturation).
 *
 * Definitions (BookSim2's):
 *   packet latency   = tail ejection - creation (includes source queueing)
 *   network latency  = tail ejection - head injection into the source router
 *   offered load     = flits created per source node per cycle
 *   accepted load    = flits ejected per source node per cycle during the measurement window
 * "Per node" divides by the number of source nodes (nodes the pattern gives a destination).
 *
 * Patterns on a cols x rows mesh, node (x, y); a source whose destination is harvested or
 * outside the mesh sends nothing:
 *   uniform     destination uniform over all nodes (the source included, as BookSim)
 *   transpose   (x, y) -> (y, x)
 *   bitcomp     (x, y) -> (cols-1-x, rows-1-y)   (= bit complement on power-of-two meshes)
 *   hotspot     with probability hotspot_frac to the hotspot node, else uniform
 *   neighbour   the next node east in the same row, wrapping to the row's first node */
#ifndef D1S_TRAFFIC_H
#define D1S_TRAFFIC_H

#include "noc.h"

#include <stdint.h>

typedef enum d1s_traffic_pattern {
    D1S_TRAFFIC_UNIFORM,
    D1S_TRAFFIC_TRANSPOSE,
    D1S_TRAFFIC_BITCOMP,
    D1S_TRAFFIC_HOTSPOT,
    D1S_TRAFFIC_NEIGHBOUR,
    D1S_TRAFFIC_PATTERNS
} d1s_traffic_pattern;

typedef struct d1s_traffic_params {
    d1s_traffic_pattern pattern;
    uint32_t size_flits; /* flits per packet, >= 1 */
    double rate_flits;   /* offered flits per source node per cycle, (0, size_flits] */
    uint64_t seed;
    uint64_t warmup_cyc, measure_cyc, drain_max_cyc;
    double hotspot_frac; /* hotspot: fraction of packets to the hotspot node */
    int hotspot_x, hotspot_y;
} d1s_traffic_params;

/* Defaults: uniform, 1 flit, rate 0.1, seed 1, 1000 / 4000 / 20000 cycles, hotspot 0.2 to
 * the node nearest the mesh centre. */
void d1s_traffic_params_default(d1s_traffic_params *p);

typedef struct d1s_traffic_result {
    uint32_t sources;      /* nodes that created traffic */
    double offered_flits;  /* flits created per source per cycle in the window */
    double accepted_flits; /* flits ejected per source per cycle in the window */
    double pkt_lat_avg_cyc, net_lat_avg_cyc, hops_avg;
    uint64_t pkt_lat_max_cyc, net_lat_max_cyc;
    uint64_t pkts_measured;      /* created in the measurement window */
    uint64_t pkts_measured_done; /* of those, delivered */
    uint64_t end_cyc;            /* last simulated cycle + 1 */
    int saturated;               /* 1 if the drain did not finish within drain_max_cyc */
} d1s_traffic_result;

const char *d1s_traffic_pattern_name(d1s_traffic_pattern p);
/* D1_E_INVAL "unknown traffic pattern 'x' (uniform, transpose, bitcomp, hotspot,
 * neighbour)". */
d1_status d1s_traffic_parse_pattern(const char *name, d1s_traffic_pattern *out);

/* Run one load point on noc, which must be idle; the run starts at cycle 0 of its own
 * clock, installs its own eject callback and resets the network's statistics.
 * D1_E_INVAL for bad parameters (detail names the field), D1_E_NOMEM. Saturation is not an
 * error: it is reported in out->saturated. */
d1_status d1s_traffic_run(d1s_noc *noc, const d1s_traffic_params *p, d1s_traffic_result *out);

/* Average zero-load packet latency (creation -> tail ejection) of the pattern, weighting
 * every source equally and every destination by its probability (uniform: all nodes). */
d1_status d1s_traffic_zero_load_lat(const d1s_noc *noc, const d1s_traffic_params *p,
                                    double *pkt_lat_cyc);

#endif
