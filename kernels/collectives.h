/* Collective kernels: all-reduce (FP32 sum) over a set of nodes (module d1k_coll).
 *
 * Algorithms (doc/tile.md, "All-reduce"):
 *   D1K_AR_RING  ring over the nodes in the given order (a snake path over the mesh keeps
 *                every ring step between neighbours): reduce-scatter (n-1 steps) then
 *                all-gather (n-1 steps), chunks of bytes/n.
 *   D1K_AR_2D    the nodes in the given order form a logical rows x cols grid (row-major):
 *                reduce-scatter along rows, all-reduce (reduce-scatter + all-gather) along
 *                columns on the row-chunk each node owns, all-gather along rows.
 * Every node runs the same program (one d1s_program); its ring neighbours, positions and
 * addresses come from a 256-byte parameter image at D1K_COLL_PARAM placed on it. A ring step
 * is a DMA PUT of one chunk to the next node (remote semaphore = data arrived); in a
 * reduce-scatter the receiver adds the chunk into its buffer with vadd.f and acknowledges
 * with an 8-byte PUT (the sender double-buffers and waits for that credit two steps later).
 *
 * SRAM layout on every node: the vector at buf_addr (bytes), scratch at scratch_addr
 * (2 x chunk per phase, see d1k_allreduce_scratch_bytes), D1K_COLL_PARAM..+256 parameters,
 * 0x200..0x280 descriptors and the ack word.
 *
 * The sum order is fixed by the algorithm; d1k_allreduce_ref computes bit-identical results
 * on the host (the same FP32 adds in the same order). */
#ifndef D1K_COLLECTIVES_H
#define D1K_COLLECTIVES_H

#include "sim/arch/status.h"
#include "sim/elf/emit.h"

#include <stddef.h>
#include <stdint.h>

#define D1K_COLL_PARAM 0x100u

typedef enum d1k_ar_algo { D1K_AR_RING = 0, D1K_AR_2D = 1 } d1k_ar_algo;

typedef struct d1k_allreduce {
    d1k_ar_algo algo;
    const uint32_t *nodes; /* n global node ids: ring order / row-major logical grid */
    uint32_t n;
    uint32_t rows, cols;   /* D1K_AR_2D: rows * cols == n (0, 0: chosen by d1k_allreduce_grid) */
    uint64_t bytes;        /* FP32 vector; a multiple of 64 * n (RING) or 64 * n (2D) */
    uint64_t buf_addr;     /* 64-aligned */
    uint64_t scratch_addr; /* 64-aligned, d1k_allreduce_scratch_bytes long */
    uint32_t target_nodes; /* node count of the kernel target */
    uint64_t sram_bytes;
} d1k_allreduce;

/* rows x cols with rows * cols == n, rows <= cols, rows the largest divisor <= sqrt(n). */
void d1k_allreduce_grid(uint32_t n, uint32_t *rows, uint32_t *cols);
uint64_t d1k_allreduce_scratch_bytes(const d1k_allreduce *a);
/* Smallest legal vector size >= bytes. */
uint64_t d1k_allreduce_round_bytes(d1k_ar_algo algo, uint32_t n, uint64_t bytes);
/* Build the kernel (one program, one placement + parameter image per node). D1_E_INVAL for a
 * bad size, alignment, grid or node list (duplicates), D1_E_NOMEM. */
d1_status d1k_allreduce_build(const d1k_allreduce *a, d1s_kernel **out);
/* Host reference: in[i] is node i's vector (n vectors of bytes/4 floats); out receives the
 * result every node holds (bit-identical to the kernel's). */
void d1k_allreduce_ref(const d1k_allreduce *a, const float *const *in, float *out);
/* Alpha-beta estimate in cycles: steps x (alpha + chunk / beta) + reduce cost, with
 * alpha_cyc the per-step start-up (DMA setup, hop latency, semaphores), beta the per-node
 * injection bandwidth and gamma the vector add rate, both in bytes/cycle. */
double d1k_allreduce_model_cyc(d1k_ar_algo algo, uint32_t n, uint32_t rows, uint32_t cols,
                               uint64_t bytes, double alpha_cyc, double beta_bytes_per_cyc,
                               double gamma_bytes_per_cyc);

#endif
