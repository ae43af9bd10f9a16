/* Elementwise and reduction kernel generators (module d1k_ew): every non-matmul op of a
 * training step as a node program for the vector units, bit-exact with the CPU backend
 * (doc/numerics.md "Operations"; schedules and cycle counts in doc/kernels.md).
 *
 * ---- Device tensor layout contract (d1k_tensor_place) ----------------------------------
 *
 * A tensor X[rows, cols] lives on the consecutive node ids node_first .. node_first+nodes-1
 * at the same SRAM byte address `addr` (64 B aligned) on each of them:
 *
 *   D1K_LAYOUT_ROWS  split by rows: node node_first+k holds rows [k*rpn, min(rows,(k+1)*rpn))
 *                    row-major; local row i starts at addr + i*ld*esize. ld (elements) is
 *                    a multiple of 64/esize (every row starts on a 64 B vector) and >= cols.
 *
 *        node k:  addr -> | row k*rpn     : cols elements | pad to ld |
 *                         | row k*rpn + 1 : ...                       |
 *
 *   D1K_LAYOUT_COLS  split by rows like ROWS, but each node block is stored column-major
 *                    ("rows in lanes"): element (k*rpn + i, c) is at addr + (c*ld + i)*esize,
 *                    ld a multiple of 16 and >= rpn. A 64 B vector = 16 consecutive rows of
 *                    one column, so per-row reductions run lane-parallel in column order.
 *
 *   D1K_LAYOUT_REPL  the whole tensor, row-major (ld as for ROWS), on every node of the range
 *                    (a bias vector), or on one node (nodes = 1: a result such as col_sums
 *                    or the mean loss, on the last node of its operand's range).
 *
 * Padding elements (row ends, rows past the tensor in the last 16-row group) are scratch:
 * an op may write anything there; the stager writes zeros. Every node block is rounded up
 * to 256 B (d1k_place_block_bytes) so that 4-vector loops may run over the block's end.
 * The bytes of a block are those of d1_fmt codes (FP32/BF16/CFP8) or int32 (labels).
 *
 * ---- Ops -----------------------------------------------------------------------------
 *
 * Operands in d1r order (runtime/ops.def); the required layouts are in the table below
 * (d1k_ew_info). Elementwise ops need every operand placed alike (same node range, rows
 * per node, ld, layout). Sums over rows keep the index order across nodes: col_sums runs a
 * DMA chain (node k starts from the running sums of node k-1, adds its rows in order, passes
 * them on; pipelined by column chunks), the mean loss gathers the per-row losses on the last
 * node, which adds them in row order (doc/kernels.md: a sum in index order cannot be split
 * into partial sums added later).
 *
 * One program per op, placed on the operand's node range; thread 0 starts threads 1..3 that
 * share the node's rows (op->threads); semaphores 0..5 (gather, join, col_sums chains).
 * Per-node scratch at op->scratch (d1k_ew_scratch_bytes): the 64 B launch block (alpha,
 * beta, seed, CFP8 formats: written per launch with d1k_ew_launch_block, so one compiled
 * kernel serves every learning rate and seed), constant masks, DMA descriptors, chain
 * buffers. */
#ifndef D1K_ELEMENTWISE_H
#define D1K_ELEMENTWISE_H

#include "kernels/matmul.h" /* d1k_sram_io */
#include "sim/arch/formats.h"
#include "sim/elf/emit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* int32 elements (labels); the same value as the runtime's D1R_INT32. */
#define D1K_INT32 ((d1_dtype)D1_DTYPE_COUNT)

typedef enum d1k_layout {
    D1K_LAYOUT_ROWS = 0,
    D1K_LAYOUT_COLS = 1,
    D1K_LAYOUT_REPL = 2,
} d1k_layout;

typedef struct d1k_tensor_place {
    d1k_layout layout;
    d1_dtype dtype; /* FP32, BF16, CFP8_143, CFP8_152 or D1K_INT32 */
    int64_t rows, cols;
    uint32_t node_first; /* node ids node_first .. node_first + nodes - 1 */
    uint32_t nodes;
    int64_t rows_per_node; /* rpn (REPL: rows) */
    int64_t ld;            /* elements, see above */
    uint64_t addr;         /* SRAM byte address of the block on every node, 64 B aligned */
} d1k_tensor_place;

/* Fill p for a [rows, cols] tensor split over at most max_nodes nodes from node_first
 * (rows_per_node = ceil(rows / max_nodes), nodes = ceil(rows / rpn): every node of the range
 * has at least one row). REPL: the whole tensor on max_nodes nodes. ld is the smallest legal.
 * D1_E_SHAPE (rows or cols < 1), D1_E_DTYPE, D1_E_INVAL (max_nodes 0, addr unaligned). */
d1_status d1k_place_init(d1k_tensor_place *p, d1k_layout layout, d1_dtype dtype, int64_t rows,
                         int64_t cols, uint32_t node_first, uint32_t max_nodes, uint64_t addr);
/* Bytes of one node block (rounded up to 256). */
uint64_t d1k_place_block_bytes(const d1k_tensor_place *p);
/* Rows held by node k of the range (0 <= k < nodes). */
int64_t d1k_place_node_rows(const d1k_tensor_place *p, uint32_t k);
size_t d1k_place_esize(const d1k_tensor_place *p);

/* Host row-major [rows, cols] array <-> the nodes' blocks (padding written as zeros).
 * REPL tensors are written to every node and read from node_first. Errors from io. */
d1_status d1k_tensor_stage(const d1k_tensor_place *p, const void *host, const d1k_sram_io *io);
d1_status d1k_tensor_unstage(const d1k_tensor_place *p, void *host, const d1k_sram_io *io);

/* ---- ops: X(sym, name, number of operands); layouts etc. in d1k_ew_info ------------- */
#define D1K_EW_TABLE(X)                                                                            \
    X(BIAS_ADD, "bias_add", 3)                                                                     \
    X(RELU, "relu", 2)                                                                             \
    X(RELU_BACKWARD, "relu_backward", 3)                                                           \
    X(SOFTMAX_XENT, "softmax_xent", 3)                                                             \
    X(SOFTMAX_XENT_BACKWARD, "softmax_xent_backward", 3)                                           \
    X(ROW_SUMS, "row_sums", 2)                                                                     \
    X(COL_SUMS, "col_sums", 2)                                                                     \
    X(SCALE, "scale", 2)                                                                           \
    X(AXPY, "axpy", 2)                                                                             \
    X(SGD, "sgd", 2)                                                                               \
    X(SGD_MOMENTUM, "sgd_momentum", 3)                                                             \
    X(CAST, "cast", 2)                                                                             \
    X(ARGMAX, "argmax", 2)

typedef enum d1k_ew_kind {
#define D1K_EW_ENUM(sym, name, n) D1K_EW_##sym,
    D1K_EW_TABLE(D1K_EW_ENUM)
#undef D1K_EW_ENUM
        D1K_EW_COUNT
} d1k_ew_kind;

typedef struct d1k_ew_op {
    d1k_ew_kind kind;
    d1k_tensor_place t[3]; /* operands in d1r order (ops.def) */
    uint64_t scratch;      /* SRAM address of the per-node scratch, 64 B aligned */
    int threads;           /* hardware threads per node sharing the work: 1, 2, 4; 0 = 4
                            * (col_sums on a chain: 1); needs node_threads >= threads */
    d1_round round;        /* cast to BF16/CFP8: RNE or stochastic (compiled in) */
    bool out_bias_auto;    /* cast FP32 -> CFP8: choose Y's bias on the device as
                            * d1_fmt_choose_bias does (compiled in; out_bias ignored) */
    /* launch-time values (launch block; not part of the compiled program) */
    float alpha, beta;     /* scale/axpy: a; sgd: lr; sgd_momentum: lr, mu */
    uint64_t seed;         /* cast, stochastic: element i uses d1_sr_bits(seed, i) */
    int in_bias, out_bias; /* cast: CFP8 biases of X and Y (0..63) */
} d1k_ew_op;

typedef struct d1k_ew_info {
    const char *name;
    int ntensors;
    d1k_layout layout[3];   /* required layout per operand */
    unsigned reads, writes; /* operands (bit i = operand i) the kernel reads / writes */
    const char *formula;    /* per element / per row, doc/numerics.md */
} d1k_ew_info;

const d1k_ew_info *d1k_ew_info_of(d1k_ew_kind kind); /* NULL if not a kind */

/* Bytes of scratch the op needs on every node (multiple of 64). */
uint64_t d1k_ew_scratch_bytes(const d1k_ew_op *op);

/* How many of max_nodes nodes to use for op on [rows, cols]: max_nodes, except col_sums,
 * whose chain wants enough rows per node to pay for each hop (doc/kernels.md). */
uint32_t d1k_ew_suggest_nodes(d1k_ew_kind kind, int64_t rows, int64_t cols, uint32_t max_nodes);

/* Place every operand of op for the target: `main` rows x cols (X, or W for the optimizer),
 * split over at most max_nodes nodes from node 0; the other operands follow from the op
 * (bias and results replicated/on the last node as the table says); SRAM from address 0
 * upward in operand order, then the scratch. out_dtype: cast's Y (else ignored). Fills
 * op->kind, op->t, op->scratch; leaves the launch-time values. */
d1_status d1k_ew_place(d1k_ew_op *op, d1k_ew_kind kind, int64_t rows, int64_t cols,
                       d1_dtype in_dtype, d1_dtype out_dtype, uint32_t max_nodes);

/* Check op against the layout table and the target. D1_E_INVAL / D1_E_SHAPE / D1_E_DTYPE
 * with a detail. */
d1_status d1k_ew_check(const d1k_ew_op *op, const d1s_target *t);

/* Generate the kernel (one program placed on t[0]'s node range, plus the scratch image).
 * Errors of d1k_ew_check, D1_E_NOMEM, D1_E_UNSUPPORTED (a shape past the generator's
 * limits). */
d1_status d1k_ew_emit(const d1k_ew_op *op, const d1s_target *t, d1s_kernel **out);

/* Before a launch: the scratch image (launch block, constants, descriptors) on every node
 * of the range, and every operand the op reads (host[i]: row-major [rows, cols] of
 * operand i, NULL for the others). The kernel trusts its inputs: labels must be in 0..C-1
 * (check them on the host first, D1_E_RANGE, as the CPU backend does). Errors from io. */
d1_status d1k_ew_stage(const d1k_ew_op *op, const void *const host[3], const d1k_sram_io *io);
/* After the run: every operand the op writes into host[i]; for cast, the conversion flags
 * (D1_FLAG_*, OR over every element, as d1_fmt_encode_array reports them) are OR-ed into
 * *flags (may be NULL). Exact when the row padding of X holds zeros (as staged). */
d1_status d1k_ew_unstage(const d1k_ew_op *op, void *const host[3], const d1k_sram_io *io,
                         unsigned *flags);

/* After a cast: the effective bias of Y (d1_fmt_bias: chosen on the device when
 * out_bias_auto, else op->out_bias; the fixed one for FP32/BF16). Errors from io. */
d1_status d1k_ew_cast_bias(const d1k_ew_op *op, const d1k_sram_io *io, int *bias);

/* The 64 B launch block of op (at op->scratch on every node; d1k_ew_stage writes it). */
void d1k_ew_launch_block(const d1k_ew_op *op, uint8_t out[64]);

/* Predicted cycles of the busiest node (simple issue/port model, doc/kernels.md). */
uint64_t d1k_ew_predict_cycles(const d1k_ew_op *op, const d1_config *cfg);

#endif
