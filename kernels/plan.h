/* The matmul plan (module d1k_plan): how C[M,N] = op(A)[M,K] op(B)[K,N] is spread over the
 * nodes of a target, before any code is emitted. Pure arithmetic on the configuration.
 *
 * Scheme: output-stationary SUMMA (doc/compiler.md has the pictures).
 *
 *   - Logical grid pr x pc of node blocks. On one chip the rank q = r*pc + c IS the usable
 *     node id (row-major over usable positions); on a system target the grid is chip-blocked
 *     (each chip holds an lr x lc block: d1k_plan_node_id). The shared program finds (r, c)
 *     from CSR nid.
 *     Node (r, c) owns C rows [r*mb, r*mb+mb) x cols [c*nb, c*nb+nb) (the last row/column
 *     of blocks is ragged; padded to 16 x 32 inside the node).
 *   - K (padded to a multiple of 8 with -0 * +0 products, which leave every FP32
 *     accumulator bit-identical) is cut into P panels of kb (the last ragged).
 *     A panel p of row block r is resident on node (r, p mod pc); B panel p of column block
 *     c on node (p mod pr, c). Panel p travels a ring broadcast (DMA PUT chain) along the
 *     node row (A) and the node column (B), starting at its owner, into `slots` receive
 *     slots; one credit per panel flows back upstream. Panels are consumed in ascending p, k ascending
 *     inside a panel: the numerics contract's k order per element holds (no split-K).
 *   - Per node: thread 0 moves data (receive, forward, credits; the B ring on thread
 *     cthreads + 1 with dma_threads = 2), threads 1..cthreads compute
 *     blocks of 16 x 32 outputs (2 x 4 accumulators of 8 x 8) for every panel, C kept in
 *     SRAM as FP32 between panels.
 *
 * Device layouts (per node SRAM; built by the host stager in matmul.c):
 *   A panel: [row pair rp][k step s][2 tiles of 8x4]: tile = 8 rows x 4 k, row-major, one
 *            64 B slot (BF16: 2 B/element; CFP8: 1 B/element in the low 32 B).
 *   B panel: [column quad cq][k step s][4 tiles of 4x8]: tile = 4 k x 8 columns, row-major.
 *   C (FP32): [block (rp, cq)][8 tiles m0..m7 = (row 0/1) x (col 0..3)][8x8 row-major].
 *   C (BF16 output): the same order, 8x8 BF16 tiles of 128 B.
 */
#ifndef D1K_PLAN_H
#define D1K_PLAN_H

#include "sim/arch/config.h"
#include "sim/arch/formats.h"
#include "sim/arch/status.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Receive slots per operand and node at most (the plan picks 2..D1K_MAX_SLOTS from the
 * semaphores and SRAM a node has): panels travel up to slots - 1 panel steps ahead of the
 * compute threads. */
#define D1K_MAX_SLOTS 8

/* The operation (what the kernel cache keys on, plus the launch-time values). */
typedef struct d1k_matmul_desc {
    int64_t M, N, K;
    d1_dtype a_dtype, b_dtype; /* D1_BF16, D1_CFP8_143, D1_CFP8_152 */
    d1_dtype c_dtype;          /* D1_FP32 or D1_BF16 */
    bool trans_a, trans_b, accumulate;
    d1_round round; /* BF16 C only */
    /* launch-time values (not part of the compiled program) */
    int a_bias, b_bias;
    uint64_t seed;
} d1k_matmul_desc;

/* What the kernel runs on: one chip of the config, or the whole configured system
 * (tiles_x x tiles_y tiles of tile_chips_x x tile_chips_y chips; global node id =
 * chip * usable-per-chip + local id). */
typedef enum d1k_target { D1K_TARGET_CHIP = 0, D1K_TARGET_SYSTEM = 1 } d1k_target;

/* Overrides for experiments (0 = choose), and the target kind. */
typedef struct d1k_plan_opts {
    d1k_target target;
    int pr, pc;     /* grid */
    int64_t kb;     /* panel depth (multiple of 8) */
    int cthreads;   /* compute threads per node, 1..3 */
    uint32_t max_nodes; /* use at most this many nodes */
    uint32_t chunk_bytes; /* target chunk of the ring broadcast (multiple of 64) */
    int slots;      /* receive slots per operand, 2..D1K_MAX_SLOTS */
    int dma_threads; /* 1 (default): thread 0 serves both rings; 2: the B ring gets thread
                      * cthreads + 1 (needs cthreads + 2 node threads) */
    bool hbm; /* operands staged in DIP HBM and streamed in by their owners (system target) */
} d1k_plan_opts;

/* SRAM map of a node (byte addresses, 64-aligned). */
typedef struct d1k_sram_map {
    uint64_t launch;   /* 64 B: u64 srseed, u64 mfmt (written per launch) */
    uint64_t desc;     /* 32 B DMA descriptor scratch of the comm thread */
    uint64_t dummy;    /* 64 B: credit PUT source/target */
    uint64_t masks;    /* 128 B: byte masks for the stochastic BF16 epilogue */
    uint64_t descb;    /* 32 B DMA descriptor scratch of the B ring's DMA thread */
    uint64_t abuf[D1K_MAX_SLOTS], bbuf[D1K_MAX_SLOTS]; /* receive slots (plan.slots used) */
    uint64_t ares, bres; /* resident (owned) panels, panel_stride apart */
    uint64_t cbuf;     /* FP32 C block (also the resident C for FP32 output) */
    uint64_t cout;     /* BF16 C block (BF16 output), else 0 */
    uint64_t end;      /* first byte after the map (+ slack for loop over-reads) */
} d1k_sram_map;

typedef struct d1k_plan {
    d1k_matmul_desc op;
    /* target */
    uint32_t usable_nodes; /* of the target (all chips for a system target) */
    uint32_t chips;
    uint64_t config_hash;
    double clock_hz;
    int64_t sram_bytes;
    /* grid and blocking */
    int pr, pc;
    uint32_t nodes; /* pr * pc nodes run the kernel */
    /* Placement of the logical grid on node ids (system targets: chip-blocked). The grid is
     * cr x cc chips, each holding an lr x lc block of it: node (r, c) has id
     * ((r / lr) * cc + c / lc) * per_chip + (r % lr) * lc + c % lc, so a ring stays on one
     * chip for lr or lc hops and crosses one chip edge per chip. One chip (or a flat grid):
     * cr = cc = 1, lr = pr, lc = pc, id = r * pc + c. */
    int cr, cc, lr, lc;
    uint32_t per_chip; /* node id stride between chips */
    uint32_t span;     /* highest node id used + 1 */
    uint64_t magic_chip, magic_lr, magic_lc, magic_cc; /* exact reciprocals */
    int64_t mb, nb; /* C rows / columns per node block (last ones ragged) */
    int64_t rp, cq; /* row pairs (16 rows) and column quads (32 columns) per node */
    int64_t kpad;   /* K rounded up to a multiple of 8 */
    int64_t kb;     /* panel depth */
    int npanels;
    int64_t kb_last;
    int cthreads;
    int slots;      /* receive slots per operand (panels in flight ahead of compute) */
    bool dma_b;     /* the B ring has its own DMA thread (thread cthreads + 1) */
    uint64_t magic_slots; /* exact reciprocal of slots (compute threads find p mod slots) */
    bool cfp8;      /* mma.cfp8 (both operands CFP8); else mma.bf16 (CFP8 widened exactly) */
    uint64_t magic; /* r = (nid * magic) >> 32 == nid / pc for every nid < nodes */
    /* sizes (bytes) */
    uint64_t apanel_bytes, bpanel_bytes; /* full panel */
    int ares_panels, bres_panels;        /* owned panels per node (max) */
    int chunks;                          /* DMA chunks per panel in the ring broadcast */
    uint64_t chunk_a, chunk_b;           /* chunk bytes (multiples of 64) */
    uint64_t cbuf_bytes, cout_bytes;
    d1k_sram_map map;
    /* HBM staging (opts.hbm): node id's resident panels ([A slots][B slots], as in SRAM
     * from map.ares) live in DIP (id mod ndips) at hbm_base + (id / ndips) * hbm_region.
     * The DMA thread reads owned panel q with DMA_HBM_RD two panel steps ahead. */
    bool hbm;
    int ndips;
    uint64_t hbm_base, hbm_region;
    uint64_t magic_dips, magic_pr; /* exact reciprocals of ndips and pr (as magic for pc) */
    uint64_t hbm_lat_cyc, hbm_bytes_per_cyc; /* per DIP */
    uint64_t hbm_bytes;      /* operand panel bytes read from HBM (all owners) */
    /* predictions (cycles, per node critical path) */
    uint64_t flops;          /* 2*M*N*K */
    uint64_t mma_per_node;   /* padded, on the busiest node */
    uint64_t cyc_compute;    /* mma_per_node (1 per cycle) + block overheads */
    uint64_t cyc_sram;       /* SRAM port time */
    uint64_t cyc_noc;        /* router port time of panel forwarding */
    uint64_t cyc_hbm;        /* HBM staging: all operand bytes through every DIP (0 if none) */
    uint64_t cyc_chain;      /* ring broadcast: panel steps x chain latency / (slots - 1) */
    uint64_t lat_chain_a, lat_chain_b; /* one panel down the longest A / B chain */
    int serdes_a, serdes_b;  /* chip-edge crossings of the worst A / B ring */
    uint64_t cyc_serdes;     /* ring bytes through the busiest chip edge (system target) */
    uint64_t cyc_fill;       /* first panel down the longest chain */
    uint64_t cyc_epilogue;
    uint64_t cyc_pred;
    uint64_t noc_bytes;      /* payload bytes over the NoC (all nodes) */
    uint64_t stage_bytes;    /* operand bytes placed in SRAM before the run (A, B, C in) */
    uint64_t hbm_cyc_if_streamed; /* staging from DIP HBM (future tile target), cycles */
    const char *bound;       /* "compute", "sram", "noc", "hbm", "chain", "serdes" */
    double pred_tflops, pred_pct_peak;
} d1k_plan;

/* Plan op on the chip described by cfg. D1_E_DTYPE (operand/output dtypes the matrix unit
 * cannot take: FP32 A/B), D1_E_SHAPE (a dimension < 1), D1_E_RANGE (biases),
 * D1_E_UNSUPPORTED (does not fit in SRAM even with the smallest panels: needs HBM
 * streaming, a later target), D1_E_CONFIG. opts may be NULL. */
d1_status d1k_plan_matmul(const d1_config *cfg, const d1k_matmul_desc *op,
                          const d1k_plan_opts *opts, d1k_plan *out);

/* Whether the sim backend can run (a_dtype, b_dtype, c_dtype) at all. */
bool d1k_matmul_dtypes_ok(d1_dtype a, d1_dtype b, d1_dtype c);

/* Rows/cols of C owned by grid rank q = r*pc + c (0 <= q < nodes): [*i0, *i0 + *mi) x
 * [*j0, *j0 + *nj). *mi or *nj is 0 for a node whose block lies past the matrix edge. */
void d1k_plan_node_block(const d1k_plan *p, uint32_t q, int64_t *i0, int64_t *mi, int64_t *j0,
                         int64_t *nj);
/* Node id of grid node (r, c). */
uint32_t d1k_plan_node_id(const d1k_plan *p, int r, int c);
/* k steps (of 4) in panel q, and its first k. */
int64_t d1k_plan_panel_ksteps(const d1k_plan *p, int q);
/* Owner node of A panel q of row block r / of B panel q of column block c, and the
 * resident slot index on that node. */
uint32_t d1k_plan_a_owner(const d1k_plan *p, int r, int q, int *slot);
uint32_t d1k_plan_b_owner(const d1k_plan *p, int c, int q, int *slot);

/* Human-readable explanation (d1 plan). */
void d1k_plan_print(const d1k_plan *p, FILE *f);
/* One-line JSON object. */
void d1k_plan_print_json(const d1k_plan *p, FILE *f);

#endif
