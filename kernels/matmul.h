/* The matmul kernel generator (module d1k_matmul): plan (plan.h) -> per-node program in a
 * d1s_kernel, host staging of operands into the device layouts, and a plain C reference of
 * what every node computes (BLIS style: the reference beside the generated kernel).
 *
 * Kernel contract (one program, shared by every node 0..plan.nodes-1, one placement):
 *   - thread 0 (entry): the DMA thread. Finds (r, c) from CSR nid (d1k_plan_node_id
 *     inverted), posts its initial credits (one per receive slot), starts compute threads
 *     1..cthreads at pc 0 (and the B ring's DMA thread with dma_threads = 2), then for every
 *     panel p: releases panel p - slots (compute threads done with it, own forwards gone,
 *     a credit upstream), waits for a credit from downstream, waits for the A/B panel chunk
 *     by chunk (unless it owns it) and forwards each chunk to the next node of the ring
 *     (unless that node owns the panel), then tells the compute threads.
 *   - threads 1..cthreads: compute. Block b = (rp, cq) of 16 x 32 outputs belongs to thread
 *     1 + b mod cthreads. Per panel: accumulators in (mzero / mld from C), kb/4 k steps of
 *     8 mma each (k ascending), accumulators out (mst), and after the last panel the BF16
 *     conversion (RNE, or stochastic with index i*N + j per element).
 *   - SRAM: see d1k_sram_map in plan.h. The launch block (SRAM 0) holds u64 srseed and u64
 *     mfmt; the runtime writes it per launch (d1k_matmul_launch_block), so one compiled
 *     kernel serves every seed and bias.
 *   - Semaphores: 2 x slots + 4 x cthreads + 4 (+ 4 with HBM staging), table in matmul.c.
 *     Kernel images: the launch block defaults and the byte masks of the stochastic epilogue
 *     (shared by every node; one placement per chip on chip-blocked grids).
 */
#ifndef D1K_MATMUL_H
#define D1K_MATMUL_H

#include "plan.h"
#include "sim/elf/emit.h"

#include <stddef.h>

/* Generate the kernel of plan p for target t (node_count must cover p->nodes). */
d1_status d1k_matmul_emit(const d1k_plan *p, const d1s_target *t, d1s_kernel **out);

/* The 64-byte launch block of an op (srseed, mfmt). */
void d1k_matmul_launch_block(const d1k_plan *p, uint8_t out[64]);

/* A host matrix as stored (before op()). */
typedef struct d1k_operand {
    d1_dtype dtype;
    int bias;
    const void *p;
    size_t ld; /* leading dimension of the stored matrix, in elements */
    bool trans;
} d1k_operand;

/* Access to node SRAM (a simulated chip, or host arrays for the reference). */
typedef struct d1k_sram_io {
    void *ctx;
    d1_status (*write)(void *ctx, uint32_t node, uint64_t addr, const void *src, size_t len);
    d1_status (*read)(void *ctx, uint32_t node, uint64_t addr, void *dst, size_t len);
} d1k_sram_io;

/* Access to DIP HBM (plans with hbm staging). */
typedef struct d1k_hbm_io {
    void *ctx;
    d1_status (*write)(void *ctx, uint32_t dip, uint64_t addr, const void *src, size_t len);
    d1_status (*read)(void *ctx, uint32_t dip, uint64_t addr, void *dst, size_t len);
} d1k_hbm_io;

/* Place the launch block and the resident operands on every node: A and B panels at their
 * owners (in DIP HBM through hbm for a plan with hbm staging: the kernel reads them in;
 * hbm may be NULL otherwise) (layouts in plan.h; CFP8 widened exactly to BF16 when the plan uses mma.bf16;
 * K padding -0 in A, +0 in B), and C when accumulating (c: dtype FP32/BF16, row-major,
 * ldc; may be NULL otherwise). Returns the first write error. */
d1_status d1k_matmul_stage(const d1k_plan *p, const d1k_operand *a, const d1k_operand *b,
                           const void *c, size_t ldc, const d1k_sram_io *io,
                           const d1k_hbm_io *hbm);
/* Gather C (p->op.c_dtype codes, row-major, ldc) from the nodes. */
d1_status d1k_matmul_unstage(const d1k_plan *p, void *c, size_t ldc, const d1k_sram_io *io);

/* Reference of the kernel: runs what every node computes, panel by panel, reading the
 * panels from their owners' resident storage and writing C where the kernel writes it
 * (cbuf, cout). Same fmaf sequence as mma.*: stage -> ref -> unstage must equal the CPU
 * backend bit for bit. */
d1_status d1k_matmul_ref(const d1k_plan *p, const d1k_sram_io *io, const d1k_hbm_io *hbm);

/* Operand element (i, k) of op(X) (A: i row, k column; B: k row, j column), as the code
 * of the matrix unit's input format (BF16, or the CFP8 byte when cfp8). */
uint32_t d1k_operand_code(const d1k_operand *x, int64_t row, int64_t col, bool cfp8);

#endif
