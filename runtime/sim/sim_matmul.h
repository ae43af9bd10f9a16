/* Running a matmul on the chip simulator (module d1r_simmm): kernel cache, compile
 * (plan + emit), load, stage the operands into node SRAM, run, gather C, statistics.
 * Used by the sim backend (sim_backend.c), the `d1 bench matmul` benchmark and the tests.
 *
 * Data placement today: operands are SRAM-resident. The host stager writes every node's
 * owned A/B panels in the device layout (kernels/plan.h) before the run; that layout
 * conversion is host work (reported as stage_ns) and is not simulated. HBM staging (the
 * tile target) will replace it with DMA_HBM_RD streams into the same resident slots; the
 * plan already reports what that would cost (d1k_plan.hbm_cyc_if_streamed). */
#ifndef D1R_SIM_MATMUL_H
#define D1R_SIM_MATMUL_H

#include "kernels/matmul.h"
#include "kernels/plan.h"
#include "sim/chip/chip.h"
#include "sim/tile/tile.h"

#include <stdint.h>

/* Configuration and target of a sim device string: "sim", "sim:chip" = one default chip;
 * "sim:tile" = the default system (a 5x5-chip tile, DIPs); "sim:<file>" = one chip of the
 * defaults + that config file; "sim:tile:<file>" = the whole system of that config (e.g. 2x2
 * chips of 4x4 nodes). cfg must not be initialised; d1_config_fini it. D1_E_INVAL for a spec
 * that is not sim..., config errors as d1_config_load_file. target may be NULL. */
d1_status d1r_sim_config(const char *spec, d1_config *cfg, d1k_target *target);

/* Compiled kernels keyed by (op, shape, dtypes, transposes, accumulate, output rounding,
 * plan overrides, target config hash). Seed and biases are launch values, not keys. */
typedef struct d1r_kcache d1r_kcache;

d1_status d1r_kcache_create(size_t capacity, d1r_kcache **out);
void d1r_kcache_destroy(d1r_kcache *kc);
/* Plan and kernel of op on cfg (borrowed from the cache; valid until the cache evicts it,
 * i.e. until the next lookup). *hit says whether it was cached. */
d1_status d1r_kcache_get(d1r_kcache *kc, const d1_config *cfg, const d1k_matmul_desc *op,
                         const d1k_plan_opts *opts, const d1k_plan **plan,
                         const d1s_kernel **kernel, int *hit);
/* The chip that launches on cfg copy their NoC routing tables from (d1s_noc_create_like):
 * a chip of cfg's chip mesh, created on the first call for that configuration and kept by the
 * cache. Computing the tables dominated the creation of a chip (about 0.1 s for 354 nodes);
 * copying them makes a fresh chip or tile per launch cheap. Results are unchanged: the
 * tables depend on the mesh only. */
d1_status d1r_kcache_route_template(d1r_kcache *kc, const d1_config *cfg, const d1s_chip **out);
uint64_t d1r_kcache_hits(const d1r_kcache *kc);
uint64_t d1r_kcache_misses(const d1r_kcache *kc);

/* Statistics of one launch. */
typedef struct d1r_sim_launch {
    uint64_t cycles;       /* simulated cycles of the kernel */
    double sim_seconds;    /* cycles at the configured clock */
    double tflops;         /* 2*M*N*K / sim_seconds */
    double pct_peak;       /* of the target's peak (usable nodes x 1 mma/cycle) */
    double mxu_util;       /* mma issued / (cycles x nodes used) */
    uint64_t mma;
    uint64_t noc_bytes;    /* DMA payload sent over the NoC */
    uint64_t link_flits;   /* flits over router-to-router links */
    uint64_t hbm_bytes, serdes_bytes; /* 0 on a chip target with SRAM-resident operands */
    uint64_t pred_cycles;  /* plan prediction */
    const char *bound;     /* predicted limiter */
    uint32_t nodes;        /* nodes the plan uses */
    uint32_t target_nodes; /* usable nodes of the chip or system it ran on */
    int pr, pc;            /* node grid */
    int cache_hit;
    uint64_t compile_ns, stage_ns, run_ns, gather_ns; /* host wall time */
    int trapped;           /* guest trap (details printed into trap_msg) */
    char trap_msg[160];
} d1r_sim_launch;

/* Run op on a fresh chip (opts NULL or opts->target CHIP) or system (SYSTEM) of cfg (its NoC
 * routing tables copied from d1r_kcache_route_template). a, b: operands; c: C in (accumulate) and out, in
 * op->c_dtype codes, row-major with ldc. mode: functional (C computed) or timing-only (C
 * untouched). D1_E_TRAP when the guest trapped (st->trap_msg), plan errors as
 * d1k_plan_matmul. */
d1_status d1r_sim_matmul(const d1_config *cfg, d1r_kcache *kc, const d1k_matmul_desc *op,
                         const d1k_plan_opts *opts, const d1k_operand *a, const d1k_operand *b,
                         void *c, size_t ldc, d1s_node_mode mode, d1r_sim_launch *st);

#endif
