/* The simulator backend of the runtime (module d1r_sim): device strings "sim",
 * "sim:chip", "sim:<config file>" (one chip), "sim:tile", "sim:tile:<config file>" (the
 * configured system of chips, sim/tile).
 *
 * Storage: a tensor's bytes are a host image of device memory (on a tile target: DIP HBM).
 * Ops: matmul with BF16/CFP8 operands (any mix) and an FP32/BF16 C runs as a compiled
 * kernel on a simulated chip or system (runtime/sim/sim_matmul.h); the operands are staged
 * into node SRAM for each launch (host layout conversion, reported as stage time, not
 * simulated). The other ops run as d1k_ew kernels (sim_ew.h) on one chip (on a system
 * target: a chip of its chip configuration). Everything the generators decline -- FP32
 * matmul operands, shapes too large for SRAM -- runs on the CPU fallback of the device.
 * Each op reports its simulated time and matrix-unit use to d1r (d1r_op_stats.device_ns,
 * mxu_ops, mxu_slots; slots = usable nodes of the whole target x simulated cycles). */
#ifndef D1R_SIM_BACKEND_H
#define D1R_SIM_BACKEND_H

#include "backend.h"
#include "sim_matmul.h"

#include <stdio.h>

/* Totals over the launches of one sim backend. */
typedef struct d1r_sim_totals {
    uint64_t op_launches[D1R_OP_COUNT]; /* per op: launches on the simulator */
    uint64_t op_cycles[D1R_OP_COUNT];   /* per op: simulated cycles */
    uint64_t launches;     /* matmul launches */
    uint64_t cycles;       /* matmul simulated cycles, summed */
    double sim_seconds;
    uint64_t mma, noc_bytes, link_flits;
    uint64_t host_ns;      /* compile + stage + run + gather */
    d1r_sim_launch last;   /* statistics of the last launch */
} d1r_sim_totals;

/* Create the backend of device string spec (see d1r_sim_config). *ctx_out (may be NULL)
 * receives the backend context for d1r_sim_backend_totals / _print; it is owned by the
 * backend (freed with the device). */
d1_status d1r_sim_backend_create(const char *spec, d1r_backend *out, void **ctx_out);
/* Open a device on a new sim backend (what d1r_device_open("sim...") does). */
d1_status d1r_sim_device_open(const char *spec, d1r_device **dev, void **ctx_out);

const d1r_sim_totals *d1r_sim_backend_totals(const void *ctx);
const d1_config *d1r_sim_backend_config(const void *ctx);
/* Last launch and totals as text (simulated cycles/time, TFLOPS, % of peak, matrix-unit
 * utilization, bytes over NoC/SerDes/HBM, bound). */
void d1r_sim_backend_print(const void *ctx, FILE *f);
/* Node-mode for later launches (timing-only: C is not computed; for benchmarks). */
void d1r_sim_backend_set_mode(void *ctx, d1s_node_mode mode);
/* Plan overrides for later launches (NULL: automatic; the target kind stays the device's). */
void d1r_sim_backend_set_plan_opts(void *ctx, const d1k_plan_opts *opts);

#endif
