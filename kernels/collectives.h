/* Collective kernels: all-reduce (FP32 sum) over a set of nodes (module d1k_coll).
 *
 * Every algorithm is a nest of ring levels (doc/tile.md, "All-reduce"): node index i (its
 * place in the node list) has one digit per level; a level's rings join the nodes that
 * differ only in that digit. The kernel runs a ring reduce-scatter on each level, innermost
 * first, every level on the chunk the node owns after the level below, then the ring
 * all-gathers in the reverse order.
 *   D1K_AR_RING  one level: a ring over the nodes in the given order (a snake path over the
 *                mesh keeps every ring step between neighbours); chunks of bytes/n.
 *   D1K_AR_2D    the nodes in the given order form a logical rows x cols grid (row-major):
 *                levels row (cols members), column (rows members).
 *   D1K_AR_HIER  hierarchical: the node list is `groups` groups (chips) of m = n / groups
 *                nodes, group-major (nodes[g * m + l]); each group is a rows x cols grid as
 *                in D1K_AR_2D, and the nodes with the same l in every group form the third
 *                level, a ring across the groups (chips) on the chunk each node owns after its
 *                chip's 2-D reduce-scatter (bytes / n per step). One group is D1K_AR_2D.
 * Every node runs the same program (one d1s_program); its ring neighbours, positions and
 * addresses come from a 512-byte parameter image at D1K_COLL_PARAM placed on it. A ring step
 * is a DMA PUT of one chunk to the next node (remote semaphore = data arrived); in a
 * reduce-scatter the receiver adds the chunk into its buffer with vadd.f and acknowledges
 * with an 8-byte PUT (the sender double-buffers and waits for that credit two steps later).
 *
 * SRAM layout on every node: the vector at buf_addr (bytes), scratch at scratch_addr
 * (2 x chunk per level, see d1k_allreduce_scratch_bytes), D1K_COLL_PARAM..+512 parameters,
 * 0x300..0x380 descriptors and the ack word. Semaphores s1..s25 (node_sems >= 26).
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
#define D1K_AR_MAX_LEVELS 3

typedef enum d1k_ar_algo { D1K_AR_RING = 0, D1K_AR_2D = 1, D1K_AR_HIER = 2 } d1k_ar_algo;

typedef struct d1k_allreduce {
    d1k_ar_algo algo;
    const uint32_t *nodes; /* n global node ids: ring order / row-major grid / group-major */
    uint32_t n;
    uint32_t rows, cols;   /* 2D: rows * cols == n; HIER: == n / groups (0, 0: chosen by
                              d1k_allreduce_grid) */
    uint32_t groups;       /* HIER: groups (chips) >= 1 dividing n; ignored otherwise */
    uint64_t bytes;        /* FP32 vector; a multiple of 64 * n */
    uint64_t buf_addr;     /* 64-aligned, >= 0x400 */
    uint64_t scratch_addr; /* 64-aligned, >= 0x400, d1k_allreduce_scratch_bytes long */
    uint32_t target_nodes; /* node count of the kernel target */
    uint64_t sram_bytes;
} d1k_allreduce;

/* rows x cols with rows * cols == n, rows <= cols, rows the largest divisor <= sqrt(n). */
void d1k_allreduce_grid(uint32_t n, uint32_t *rows, uint32_t *cols);
/* The ring levels, innermost first: members per ring (size[l]) and the index distance
 * between ring neighbours' digits (stride[l]). Returns the level count (1..3), 0 for an
 * algorithm or shape d1k_allreduce_build would reject. */
int d1k_allreduce_levels(const d1k_allreduce *a, uint32_t size[D1K_AR_MAX_LEVELS],
                         uint32_t stride[D1K_AR_MAX_LEVELS]);
/* Index (into nodes) of the next member of node index i's ring on level l. */
uint32_t d1k_allreduce_next(const d1k_allreduce *a, int l, uint32_t i);
uint64_t d1k_allreduce_scratch_bytes(const d1k_allreduce *a);
/* Smallest legal vector size >= bytes. */
uint64_t d1k_allreduce_round_bytes(d1k_ar_algo algo, uint32_t n, uint64_t bytes);
/* Build the kernel (one program, one placement + parameter image per node). D1_E_INVAL for a
 * bad size, alignment, grid, group count or node list (duplicates), D1_E_NOMEM. */
d1_status d1k_allreduce_build(const d1k_allreduce *a, d1s_kernel **out);
/* Host reference: in[i] is node i's vector (n vectors of bytes/4 floats); out receives the
 * result every node holds (bit-identical to the kernel's). */
void d1k_allreduce_ref(const d1k_allreduce *a, const float *const *in, float *out);
/* The same with generated inputs (no n x bytes of host memory): in(ctx, i, f, v) writes
 * node index i's floats f .. f + 15 (f a multiple of 16) into v. */
typedef void (*d1k_ar_input16)(void *ctx, uint32_t i, uint64_t f, float v[16]);
void d1k_allreduce_ref_gen(const d1k_allreduce *a, d1k_ar_input16 in, void *ctx, float *out);
/* Alpha-beta estimate in cycles: sum over levels l of
 *   (size[l] - 1) x (2 alpha[l] + 2 chunk[l] / beta[l] + chunk[l] / gamma),
 * chunk[l] = bytes / (size[0] x ... x size[l]); alpha[l] the per-step start-up of level l
 * (DMA set-up, its slowest ring link, semaphores), beta[l] the bandwidth a node gets on that
 * level's links, gamma the vector add rate (bytes/cycle). 0 when the shape is invalid. */
double d1k_allreduce_model_cyc(const d1k_allreduce *a, const double *alpha_cyc,
                               const double *beta_bytes_per_cyc, double gamma_bytes_per_cyc);

#endif
