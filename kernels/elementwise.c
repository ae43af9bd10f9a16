/* Elementwise and reduction kernels (see elementwise.h; schedules in doc/kernels.md).
 *
 * Every program runs on the nodes of t[0]'s range. Thread 0 starts threads 1..T-1 at pc 0
 * (T = op->threads, default 4); each finds its node index k from CSR nid, the node's row
 * count (rows_per_node, or fewer on the last node) by one branch, and its share of the
 * node's units (vectors, rows or 16-row groups) from CSR tid. Everything else is static.
 * Per element the vector code evaluates exactly the FP32 expression of
 * runtime/cpu/cpu_ops.c, with the same operand order.
 *
 * Registers (scalar): x1 k, x2/x3 temporaries, x4 units left, x5 scratch base,
 * x6 rows of this node, x7 SR element index, x8/x9 cvtfmt in/out, x10..x15 pointers,
 * x16 groups left, x17 tail mask, x20 running FP32 bits, x21 mask address, x22 nodes - 1,
 * x23 nid + 1, x24 tid, x25 first unit of the thread, x26 units of the later threads.
 * Vector constants (prologue): v31 +0, v30 0x7fffffff, v29 0x00800000, v28 alpha (softmax:
 * -0), v27 beta (softmax: lane-0 mask), v26 -alpha, v25 1.0f, v24 all ones, v23 int 1,
 * v22 (float)rows. v0..v21 are temporaries.
 *
 * Semaphores: 0 loss gather (softmax_xent), 1 join (helper threads done),
 * 2 + t col_sums chain arrivals of thread t's chunks. */
#include "elementwise.h"

#include "emit_util.h"

#include <stdlib.h>
#include <string.h>

/* ---- scratch map ------------------------------------------------------------------------ */
enum {
    LB_ALPHA = 0,
    LB_BETA = 4,
    LB_NALPHA = 8,
    LB_ROWS = 12,
    LB_SEED = 16,
    LB_CVT_IN = 24,
    LB_CVT_OUT = 32,
    LB_BIAS = 40,                 /* cast with a chosen bias: the cvtfmt used (bias in bits 5..0) */
    LB_FLAGS = 48,                /* u32 per thread: cast conversion flags */
    SC_MASKS = 64,                /* 17 x 64 B: mask n has lanes 0..n-1 all ones */
    SC_DESC = SC_MASKS + 17 * 64, /* DMA descriptors, 32 B each */
};
/* col_sums: vectors per chain chunk. On one node, 8 (4 threads work on 4 chunks at once);
 * on a chain of nodes, 4 with one thread (the wavefront moves on after each small chunk:
 * measured best for 128 x 512 on 4x4, doc/kernels.md). */
#define CHUNK_VECS (op->t[0].nodes > 1 ? 4 : 8)
#define S_CHAIN 0
#define S_JOIN 1  /* a helper thread is done */
#define S_COLS 2  /* col_sums: 2 + t = chain arrivals of thread t's chunks */
#define S_AMAX 6  /* cast, chosen bias: max |x| of a node arrived (last node) */
#define S_BIAS 7  /* cast, chosen bias: the bias arrived (from the last node) */
#define S_LOCAL 8 /* cast, chosen bias: thread 0 has the bias (helper threads) */
#ifndef EW_THREADS
#define EW_THREADS 4 /* threads sharing a node's work: 1, 2 or 4 */
#endif

/* clang-format off */
enum {
    X_K = 1, X_T0 = 2, X_T1 = 3, X_CNT = 4, X_SC = 5, X_ROWS = 6, X_SRIDX = 7, X_CVTI = 8,
    X_CVTO = 9, X_P0 = 10, X_P1 = 11, X_P2 = 12, X_Q0 = 13, X_Q1 = 14, X_Q2 = 15, X_G = 16,
    X_TAIL = 17, X_ACC = 20, X_MASK = 21, X_LASTK = 22, X_NEXT = 23, X_TID = 24, X_OFF = 25,
    X_OTHER = 26
};
enum {
    V_ZERO = 31, V_ABS = 30, V_C800 = 29, V_ALPHA = 28, V_NEG0 = 28, V_BETA = 27, V_LANE0 = 27,
    V_NALPHA = 26, V_ONE = 25, V_ALL1 = 24, V_IONE = 23, V_ROWS = 22
};

/* clang-format on */

/* ---- op table ------------------------------------------------------------------------- */
#define R_ D1K_LAYOUT_ROWS
#define C_ D1K_LAYOUT_COLS
#define P_ D1K_LAYOUT_REPL
static const d1k_ew_info ew_info[D1K_EW_COUNT] = {
    [D1K_EW_BIAS_ADD] = {"bias_add", 3, {R_, P_, R_}, 0x3, 0x4, "Y[r,c] = X[r,c] + b[c]"},
    [D1K_EW_RELU] = {"relu", 2, {R_, R_, R_}, 0x1, 0x2, "Y = (X <= 0) ? +0 : X"},
    [D1K_EW_RELU_BACKWARD] = {"relu_backward", 3, {R_, R_, R_}, 0x3, 0x4, "dX = (X > 0) ? dY : +0"},
    [D1K_EW_SOFTMAX_XENT] = {"softmax_xent",
                             3,
                             {C_, C_, P_},
                             0x3,
                             0x4,
                             "per row: m, s = sum expf(x - m), loss_i = logf(s) - (x_L - m); "
                             "loss = (sum from +0 of loss_i, i ascending) / B"},
    [D1K_EW_SOFTMAX_XENT_BACKWARD] = {"softmax_xent_backward",
                                      3,
                                      {C_, C_, C_},
                                      0x3,
                                      0x4,
                                      "dX = (expf(x - m) / s - (j == L)) / B"},
    [D1K_EW_ROW_SUMS] =
        {"row_sums", 2, {C_, C_, C_}, 0x1, 0x2, "y[r] = sum from +0 of X[r,c], c ascending"},
    [D1K_EW_COL_SUMS] =
        {"col_sums", 2, {R_, P_, R_}, 0x1, 0x2, "y[c] = sum from +0 of X[r,c], r ascending"},
    [D1K_EW_SCALE] = {"scale", 2, {R_, R_, R_}, 0x1, 0x2, "Y = a * X"},
    [D1K_EW_AXPY] = {"axpy", 2, {R_, R_, R_}, 0x3, 0x2, "Y = fma(a, X, Y)"},
    [D1K_EW_SGD] = {"sgd", 2, {R_, R_, R_}, 0x3, 0x1, "W = fma(-lr, G, W)"},
    [D1K_EW_SGD_MOMENTUM] =
        {"sgd_momentum", 3, {R_, R_, R_}, 0x7, 0x5, "V = fma(mu, V, G); W = fma(-lr, V, W)"},
    [D1K_EW_CAST] =
        {"cast", 2, {R_, R_, R_}, 0x1, 0x2, "Y = encode(decode(X)), SR bits d1_sr_bits(seed, i)"},
    [D1K_EW_ARGMAX] = {"argmax",
                       2,
                       {C_, C_, C_},
                       0x1,
                       0x2,
                       "first index of the maximum; NaN never wins; all-NaN row gives 0"},
};
#undef R_
#undef C_
#undef P_

const d1k_ew_info *d1k_ew_info_of(d1k_ew_kind kind)
{
    return (unsigned)kind < D1K_EW_COUNT ? &ew_info[kind] : NULL;
}

/* ---- placement ------------------------------------------------------------------------ */

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}
static uint64_t round_up(uint64_t a, uint64_t m)
{
    return (a + m - 1) / m * m;
}

size_t d1k_place_esize(const d1k_tensor_place *p)
{
    return p->dtype == D1K_INT32 ? 4 : d1_dtype_size(p->dtype);
}

static bool is_cfp8(d1_dtype t)
{
    return t == D1_CFP8_143 || t == D1_CFP8_152;
}

static bool dtype_ok(d1_dtype t)
{
    return t == D1_FP32 || t == D1_BF16 || t == D1_CFP8_143 || t == D1_CFP8_152 || t == D1K_INT32;
}

d1_status d1k_place_init(d1k_tensor_place *p, d1k_layout layout, d1_dtype dtype, int64_t rows,
                         int64_t cols, uint32_t node_first, uint32_t max_nodes, uint64_t addr)
{
    memset(p, 0, sizeof *p);
    if (rows < 1 || cols < 1)
        return d1_fail(D1_E_SHAPE, "placement: shape %lldx%lld", (long long)rows, (long long)cols);
    if (!dtype_ok(dtype))
        return d1_fail(D1_E_DTYPE, "placement: dtype %d not placeable", (int)dtype);
    if (max_nodes == 0 || (addr & 63))
        return d1_fail(D1_E_INVAL, "placement: %u nodes, address 0x%llx", max_nodes,
                       (unsigned long long)addr);
    p->layout = layout;
    p->dtype = dtype;
    p->rows = rows;
    p->cols = cols;
    p->node_first = node_first;
    p->addr = addr;
    size_t es = d1k_place_esize(p);
    if (layout == D1K_LAYOUT_REPL) {
        p->nodes = max_nodes;
        p->rows_per_node = rows;
    } else {
        p->rows_per_node = ceil_div(rows, max_nodes);
        p->nodes = (uint32_t)ceil_div(rows, p->rows_per_node);
    }
    if (layout == D1K_LAYOUT_COLS)
        p->ld = (int64_t)round_up((uint64_t)p->rows_per_node, 16);
    else
        p->ld = (int64_t)round_up((uint64_t)cols, 64 / es);
    return D1_OK;
}

uint64_t d1k_place_block_bytes(const d1k_tensor_place *p)
{
    size_t es = d1k_place_esize(p);
    uint64_t n = p->layout == D1K_LAYOUT_COLS ? (uint64_t)p->ld * (uint64_t)p->cols
                                              : (uint64_t)p->ld * (uint64_t)p->rows_per_node;
    return round_up(n * es, 256);
}

int64_t d1k_place_node_rows(const d1k_tensor_place *p, uint32_t k)
{
    if (p->layout == D1K_LAYOUT_REPL)
        return p->rows;
    int64_t r0 = (int64_t)k * p->rows_per_node, n = p->rows - r0;
    return n < 0 ? 0 : n < p->rows_per_node ? n : p->rows_per_node;
}

/* Host <-> block of node k: dir 0 pack host into blk, 1 unpack blk into host. */
static void block_xfer(const d1k_tensor_place *p, uint32_t k, uint8_t *blk, uint8_t *host, int dir)
{
    size_t es = d1k_place_esize(p);
    int64_t nr = d1k_place_node_rows(p, k);
    int64_t r0 = p->layout == D1K_LAYOUT_REPL ? 0 : (int64_t)k * p->rows_per_node;
    for (int64_t i = 0; i < nr; i++) {
        uint8_t *h = host + (size_t)(r0 + i) * (size_t)p->cols * es;
        if (p->layout != D1K_LAYOUT_COLS) {
            uint8_t *b = blk + (size_t)i * (size_t)p->ld * es;
            if (dir == 0)
                memcpy(b, h, (size_t)p->cols * es);
            else
                memcpy(h, b, (size_t)p->cols * es);
            continue;
        }
        for (int64_t c = 0; c < p->cols; c++) {
            uint8_t *b = blk + ((size_t)c * (size_t)p->ld + (size_t)i) * es;
            if (dir == 0)
                memcpy(b, h + (size_t)c * es, es);
            else
                memcpy(h + (size_t)c * es, b, es);
        }
    }
}

d1_status d1k_tensor_stage(const d1k_tensor_place *p, const void *host, const d1k_sram_io *io)
{
    uint64_t bytes = d1k_place_block_bytes(p);
    uint8_t *blk = malloc(bytes);
    if (!blk)
        return d1_fail(D1_E_NOMEM, "stage: %llu bytes", (unsigned long long)bytes);
    d1_status st = D1_OK;
    for (uint32_t k = 0; k < p->nodes && st == D1_OK; k++) {
        memset(blk, 0, bytes);
        block_xfer(p, p->layout == D1K_LAYOUT_REPL ? 0 : k, blk, (uint8_t *)(uintptr_t)host, 0);
        st = io->write(io->ctx, p->node_first + k, p->addr, blk, bytes);
    }
    free(blk);
    return st;
}

d1_status d1k_tensor_unstage(const d1k_tensor_place *p, void *host, const d1k_sram_io *io)
{
    uint64_t bytes = d1k_place_block_bytes(p);
    uint8_t *blk = malloc(bytes);
    if (!blk)
        return d1_fail(D1_E_NOMEM, "unstage: %llu bytes", (unsigned long long)bytes);
    d1_status st = D1_OK;
    uint32_t n = p->layout == D1K_LAYOUT_REPL ? 1 : p->nodes;
    for (uint32_t k = 0; k < n && st == D1_OK; k++) {
        st = io->read(io->ctx, p->node_first + k, p->addr, blk, bytes);
        if (st == D1_OK)
            block_xfer(p, k, blk, host, 1);
    }
    free(blk);
    return st;
}

/* ---- op placement and checks ------------------------------------------------------------ */

/* softmax_xent: the losses of all rows, one FP32 each, padded with -0 to 16 */
static uint64_t dense_bytes(const d1k_ew_op *op)
{
    return 4 * round_up((uint64_t)op->t[0].rows, 16);
}

/* cast with a chosen bias: the 64 largest values (bias 0..63), then max |x| per node */
static bool auto_bias(const d1k_ew_op *op)
{
    return op->kind == D1K_EW_CAST && op->out_bias_auto;
}

static uint64_t chain_bytes(const d1k_ew_op *op)
{
    if (auto_bias(op)) /* T[b]; per-thread maxima; per-node maxima (last node) */
        return 256 + 256 + 4 * round_up(op->t[0].nodes, 16);
    if (op->kind == D1K_EW_COL_SUMS)
        return round_up((uint64_t)ceil_div(op->t[0].cols, 16) * 64, 64);
    if (op->kind == D1K_EW_SOFTMAX_XENT) /* own group losses, then all losses densely */
        return 64 * (uint64_t)ceil_div(op->t[0].rows_per_node, 16) + dense_bytes(op);
    return 0;
}

static int n_chunks(const d1k_ew_op *op)
{
    return op->kind == D1K_EW_COL_SUMS ? (int)ceil_div(ceil_div(op->t[0].cols, 16), CHUNK_VECS)
           : op->kind == D1K_EW_SOFTMAX_XENT ? 1
           : auto_bias(op)                   ? 2
                                             : 0;
}

/* col_sums: one thread per chunk, at most op->threads */
static int col_threads(const d1k_ew_op *op)
{
    if (op->t[0].nodes > 1)
        return 1;
    int t = op->threads ? op->threads : EW_THREADS, n = n_chunks(op);
    return n < t ? n : t;
}

static uint64_t sc_chain(const d1k_ew_op *op)
{
    return SC_DESC + round_up(32 * (uint64_t)n_chunks(op), 64);
}

uint64_t d1k_ew_scratch_bytes(const d1k_ew_op *op)
{
    return sc_chain(op) + chain_bytes(op);
}

uint32_t d1k_ew_suggest_nodes(d1k_ew_kind kind, int64_t rows, int64_t cols, uint32_t max_nodes)
{
    if (kind == D1K_EW_COL_SUMS && cols >= 1 && rows >= 1) {
        /* the chain pays ~60 cycles per hop: give every node at least ~120 cycles of rows
         * (rows x vectors / 2 AGU issues); measured best on 4x4, doc/kernels.md */
        int64_t min_rpn = ceil_div(240, ceil_div(cols, 16));
        int64_t n = ceil_div(rows, min_rpn);
        if ((int64_t)max_nodes > n)
            max_nodes = (uint32_t)n;
    }
    return max_nodes ? max_nodes : 1;
}

d1_status d1k_ew_place(d1k_ew_op *op, d1k_ew_kind kind, int64_t rows, int64_t cols,
                       d1_dtype in_dtype, d1_dtype out_dtype, uint32_t max_nodes)
{
    const d1k_ew_info *inf = d1k_ew_info_of(kind);
    if (!inf)
        return d1_fail(D1_E_INVAL, "ew: unknown op %d", (int)kind);
    op->kind = kind;
    memset(op->t, 0, sizeof op->t);
    uint64_t addr = 0;
    d1_status st;
    for (int i = 0; i < inf->ntensors; i++) {
        d1_dtype dt = D1_FP32;
        int64_t r = rows, c = cols;
        uint32_t first = 0, n = max_nodes;
        if (kind == D1K_EW_CAST)
            dt = i == 0 ? in_dtype : out_dtype;
        if (i > 0) {
            const d1k_tensor_place *x = &op->t[0];
            switch (kind) {
            case D1K_EW_BIAS_ADD:
                if (i == 1) {
                    r = 1;
                    n = x->nodes;
                }
                break;
            case D1K_EW_COL_SUMS:
                r = 1;
                first = x->node_first + x->nodes - 1;
                n = 1;
                break;
            case D1K_EW_SOFTMAX_XENT:
            case D1K_EW_SOFTMAX_XENT_BACKWARD:
                if (i == 1) {
                    c = 1;
                    dt = D1K_INT32;
                } else if (kind == D1K_EW_SOFTMAX_XENT) {
                    r = 1;
                    c = 1;
                    first = x->node_first + x->nodes - 1;
                    n = 1;
                }
                break;
            case D1K_EW_ROW_SUMS:
                c = 1;
                break;
            case D1K_EW_ARGMAX:
                c = 1;
                dt = D1K_INT32;
                break;
            default:
                break;
            }
        }
        st = d1k_place_init(&op->t[i], inf->layout[i], dt, r, c, first, n, addr);
        if (st != D1_OK)
            return st;
        addr += d1k_place_block_bytes(&op->t[i]);
    }
    op->scratch = addr;
    return D1_OK;
}

static bool same_split(const d1k_tensor_place *a, const d1k_tensor_place *b)
{
    return a->node_first == b->node_first && a->nodes == b->nodes && a->rows == b->rows &&
           a->rows_per_node == b->rows_per_node;
}

d1_status d1k_ew_check(const d1k_ew_op *op, const d1s_target *t)
{
    const d1k_ew_info *inf = d1k_ew_info_of(op->kind);
    if (!inf)
        return d1_fail(D1_E_INVAL, "ew: unknown op %d", (int)op->kind);
    const d1k_tensor_place *x = &op->t[0];
    for (int i = 0; i < inf->ntensors; i++) {
        const d1k_tensor_place *p = &op->t[i];
        if (p->layout != inf->layout[i])
            return d1_fail(D1_E_INVAL, "%s: operand %d must have layout %d", inf->name, i,
                           (int)inf->layout[i]);
        if (!dtype_ok(p->dtype) || p->rows < 1 || p->cols < 1 || p->nodes < 1 ||
            p->rows_per_node < 1 || (p->addr & 63))
            return d1_fail(D1_E_INVAL, "%s: operand %d badly placed", inf->name, i);
        if (op->kind != D1K_EW_CAST && i == 0 && p->dtype != D1_FP32)
            return d1_fail(D1_E_DTYPE, "%s: FP32 operands only", inf->name);
        size_t es = d1k_place_esize(p);
        if (p->layout != D1K_LAYOUT_REPL && (ceil_div(p->rows, p->rows_per_node) != p->nodes))
            return d1_fail(D1_E_INVAL, "%s: operand %d: every node needs rows", inf->name, i);
        if (p->layout == D1K_LAYOUT_COLS ? (p->ld % 16 || p->ld < p->rows_per_node)
                                         : (p->ld % (int64_t)(64 / es) || p->ld < p->cols))
            return d1_fail(D1_E_INVAL, "%s: operand %d: bad ld %lld", inf->name, i,
                           (long long)p->ld);
        if ((uint64_t)p->node_first + p->nodes > t->node_count)
            return d1_fail(D1_E_INVAL, "%s: operand %d on nodes %u..%u, target has %u", inf->name,
                           i, p->node_first, p->node_first + p->nodes - 1, t->node_count);
        if (p->addr + d1k_place_block_bytes(p) > t->sram_bytes)
            return d1_fail(D1_E_INVAL, "%s: operand %d past SRAM", inf->name, i);
    }
    if ((op->scratch & 63) || op->scratch + d1k_ew_scratch_bytes(op) > t->sram_bytes)
        return d1_fail(D1_E_INVAL, "%s: scratch at 0x%llx", inf->name,
                       (unsigned long long)op->scratch);
    const d1k_tensor_place *y = &op->t[1], *z = &op->t[2];
    uint32_t lastnode = x->node_first + x->nodes - 1;
    switch (op->kind) {
    case D1K_EW_RELU:
    case D1K_EW_SCALE:
    case D1K_EW_AXPY:
    case D1K_EW_SGD:
    case D1K_EW_RELU_BACKWARD:
    case D1K_EW_SGD_MOMENTUM:
    case D1K_EW_CAST:
        for (int i = 1; i < inf->ntensors; i++) {
            const d1k_tensor_place *p = &op->t[i];
            if (!same_split(x, p) || p->cols != x->cols ||
                (op->kind != D1K_EW_CAST && (p->ld != x->ld || p->dtype != D1_FP32)))
                return d1_fail(D1_E_SHAPE, "%s: operand %d not placed like operand 0", inf->name,
                               i);
        }
        if (op->threads != 0 && op->threads != 1 && op->threads != 2 && op->threads != 4)
            return d1_fail(D1_E_INVAL, "%s: %d threads (0 = default, 1, 2, 4)", inf->name,
                           op->threads);
        if (op->kind == D1K_EW_CAST && op->round != D1_ROUND_RNE &&
            op->round != D1_ROUND_STOCHASTIC)
            return d1_fail(D1_E_INVAL, "cast: rounding mode %d", (int)op->round);
        if (op->kind == D1K_EW_CAST && (y->dtype == D1K_INT32 || x->dtype == D1K_INT32))
            return d1_fail(D1_E_DTYPE, "cast: int32");
        if (auto_bias(op) && (x->dtype != D1_FP32 || !is_cfp8(y->dtype)))
            return d1_fail(D1_E_UNSUPPORTED, "cast: a chosen bias needs FP32 -> CFP8");
        break;
    case D1K_EW_BIAS_ADD:
        if (y->rows != 1 || y->cols != x->cols || y->node_first != x->node_first ||
            y->nodes != x->nodes || !same_split(x, z) || z->cols != x->cols || z->ld != x->ld ||
            y->dtype != D1_FP32 || z->dtype != D1_FP32)
            return d1_fail(D1_E_SHAPE, "bias_add: b must be [1, C] on every node, Y like X");
        break;
    case D1K_EW_COL_SUMS:
        if (y->rows != 1 || y->cols != x->cols || y->nodes != 1 || y->node_first != lastnode ||
            y->dtype != D1_FP32)
            return d1_fail(D1_E_SHAPE, "col_sums: y must be [1, C] on the last node");
        break;
    case D1K_EW_ROW_SUMS:
    case D1K_EW_ARGMAX:
        if (!same_split(x, y) || y->cols != 1 ||
            y->dtype != (op->kind == D1K_EW_ARGMAX ? D1K_INT32 : D1_FP32))
            return d1_fail(D1_E_SHAPE, "%s: output must be [R, 1] placed like X", inf->name);
        break;
    case D1K_EW_SOFTMAX_XENT:
    case D1K_EW_SOFTMAX_XENT_BACKWARD:
        if (!same_split(x, y) || y->cols != 1 || y->dtype != D1K_INT32)
            return d1_fail(D1_E_SHAPE, "%s: labels must be int32 [R, 1] placed like X", inf->name);
        if (op->kind == D1K_EW_SOFTMAX_XENT && (z->rows != 1 || z->cols != 1 || z->nodes != 1 ||
                                                z->node_first != lastnode || z->dtype != D1_FP32))
            return d1_fail(D1_E_SHAPE, "softmax_xent: loss must be [1, 1] on the last node");
        if (op->kind == D1K_EW_SOFTMAX_XENT_BACKWARD &&
            (!same_split(x, z) || z->cols != x->cols || z->ld != x->ld || z->dtype != D1_FP32))
            return d1_fail(D1_E_SHAPE, "softmax_xent_backward: dX must be placed like X");
        break;
    default:
        break;
    }
    return D1_OK;
}

static uint64_t image_bytes(const d1k_ew_op *op);
static void scratch_image(const d1k_ew_op *op, uint8_t *sc);

/* ---- staging of an op ---------------------------------------------------------------- */

d1_status d1k_ew_stage(const d1k_ew_op *op, const void *const host[3], const d1k_sram_io *io)
{
    const d1k_ew_info *inf = d1k_ew_info_of(op->kind);
    if (!inf)
        return d1_fail(D1_E_INVAL, "ew: unknown op %d", (int)op->kind);
    uint64_t nb = image_bytes(op);
    uint8_t *sc = calloc(1, nb);
    if (!sc)
        return d1_fail(D1_E_NOMEM, "ew: scratch image");
    scratch_image(op, sc);
    d1_status st = D1_OK;
    for (uint32_t k = 0; k < op->t[0].nodes && st == D1_OK; k++)
        st = io->write(io->ctx, op->t[0].node_first + k, op->scratch, sc, nb);
    free(sc);
    for (int i = 0; i < inf->ntensors && st == D1_OK; i++)
        if (inf->reads & (1u << i))
            st = d1k_tensor_stage(&op->t[i], host[i], io);
    return st;
}

d1_status d1k_ew_unstage(const d1k_ew_op *op, void *const host[3], const d1k_sram_io *io,
                         unsigned *flags)
{
    const d1k_ew_info *inf = d1k_ew_info_of(op->kind);
    if (!inf)
        return d1_fail(D1_E_INVAL, "ew: unknown op %d", (int)op->kind);
    d1_status st = D1_OK;
    for (int i = 0; i < inf->ntensors && st == D1_OK; i++)
        if (inf->writes & (1u << i))
            st = d1k_tensor_unstage(&op->t[i], host[i], io);
    if (flags && op->kind == D1K_EW_CAST)
        for (uint32_t k = 0; k < op->t[0].nodes && st == D1_OK; k++) {
            uint32_t f[4];
            st = io->read(io->ctx, op->t[0].node_first + k, op->scratch + LB_FLAGS, f, sizeof f);
            for (int t = 0; t < 4 && st == D1_OK; t++)
                *flags |= f[t];
        }
    return st;
}

d1_status d1k_ew_cast_bias(const d1k_ew_op *op, const d1k_sram_io *io, int *bias)
{
    if (!auto_bias(op)) {
        *bias = d1_fmt_bias(op->t[1].dtype, op->out_bias);
        return D1_OK;
    }
    uint64_t v = 0;
    d1_status st = io->read(io->ctx, op->t[0].node_first, op->scratch + LB_BIAS, &v, 8);
    *bias = (int)(v & 63);
    return st;
}

/* ---- launch block ----------------------------------------------------------------------- */

static uint64_t cvtfmt_of(d1_dtype t, int bias)
{
    if (t != D1_CFP8_143 && t != D1_CFP8_152)
        return 0;
    return (uint64_t)(bias & 63) | (t == D1_CFP8_152 ? 64u : 0u);
}

void d1k_ew_launch_block(const d1k_ew_op *op, uint8_t out[64])
{
    memset(out, 0, 64);
    uint32_t a, b, na;
    memcpy(&a, &op->alpha, 4);
    memcpy(&b, &op->beta, 4);
    na = a ^ 0x80000000u; /* -lr: an exact sign flip */
    float rows = (float)op->t[0].rows;
    uint64_t ci = cvtfmt_of(op->t[0].dtype, op->in_bias);
    uint64_t co = cvtfmt_of(op->t[1].dtype, op->out_bias);
    memcpy(out + LB_ALPHA, &a, 4);
    memcpy(out + LB_BETA, &b, 4);
    memcpy(out + LB_NALPHA, &na, 4);
    memcpy(out + LB_ROWS, &rows, 4);
    memcpy(out + LB_SEED, &op->seed, 8);
    memcpy(out + LB_CVT_IN, &ci, 8);
    memcpy(out + LB_CVT_OUT, &co, 8);
}

/* ---- emission helpers ------------------------------------------------------------------- */

typedef struct gen {
    d1k_em e;
    const d1k_ew_op *op;
    int skip;    /* label after the group loop */
    int threads; /* 1, or 2: threads 0 and 1 share the rows/vectors/groups of the node */
    int64_t rows_full, rows_last; /* rows of a full node and of the last node */
} gen;

static void vr(gen *g, d1_op op, int d, int a, int b)
{
    d1k_em_raw(&g->e, op, d, a, b, 0);
}
static void mv(gen *g, int rd, int rs)
{
    d1k_i(&g->e, D1_OP_ADDI, rd, rs, 0);
}
static void li(gen *g, int rd, int64_t v)
{
    d1k_li(&g->e, rd, v);
}
static void addi(gen *g, int rd, int rs, int64_t v)
{
    d1k_addi_any(&g->e, rd, rs, v, X_T1);
}

/* A pointer register whose value is tracked so that immediate offsets stay in range. */
typedef struct vptr {
    int reg;
    int64_t at; /* byte offset (from the start) the register points at */
} vptr;

static void vmem(gen *g, d1_op op, int v, vptr *p, int64_t off)
{
    if (off - p->at > 8191 - 64 || off - p->at < -8192) {
        addi(g, p->reg, p->reg, off - p->at);
        p->at = off;
    }
    d1k_mem(&g->e, op, v, p->reg, off - p->at);
}
/* rd = (k == nodes-1) ? last : full */
static void role_li(gen *g, int rd, int64_t full, int64_t last)
{
    li(g, rd, full);
    if (full == last)
        return;
    int l = d1k_label(&g->e);
    d1k_branch(&g->e, D1_OP_BNE, X_K, X_LASTK, l);
    li(g, rd, last);
    d1k_bind(&g->e, l);
}

/* Work sharing: X_CNT units (iterations, rows, groups) of this node -> this thread's share
 * (h = ceil(n / threads) each, in thread order; the last ones may get fewer or none);
 * X_OFF = index of the thread's first unit; X_OTHER = units of the threads after it. */
static void thread_split(gen *g)
{
    li(g, X_OFF, 0);
    li(g, X_OTHER, 0);
    if (g->threads < 2)
        return;
    int sh = g->threads == 2 ? 1 : 2;
    addi(g, X_T0, X_CNT, g->threads - 1);
    d1k_i(&g->e, D1_OP_SRLI, X_T0, X_T0, sh);       /* h */
    d1k_r(&g->e, D1_OP_MUL, X_OFF, X_TID, X_T0);    /* first unit */
    d1k_r(&g->e, D1_OP_SUB, X_OTHER, X_CNT, X_OFF); /* units from here on */
    d1k_r(&g->e, D1_OP_MAX, X_OTHER, X_OTHER, 0);
    d1k_r(&g->e, D1_OP_MIN, X_CNT, X_OTHER, X_T0);    /* this thread's share */
    d1k_r(&g->e, D1_OP_SUB, X_OTHER, X_OTHER, X_CNT); /* the later threads' */
}

/* reg += X_OFF * stride (bytes per unit) */
static void thread_offset(gen *g, int reg, int64_t stride)
{
    if (g->threads < 2)
        return;
    li(g, X_T0, stride);
    d1k_r(&g->e, D1_OP_MUL, X_T0, X_OFF, X_T0);
    d1k_r(&g->e, D1_OP_ADD, reg, reg, X_T0);
}

/* End of the shared part: helper threads report and halt; thread 0 continues (join: once
 * every helper's stores are complete: spost waits for the thread's older instructions). */
static void thread_join(gen *g, bool join)
{
    if (g->threads < 2)
        return;
    int l0 = d1k_label(&g->e);
    d1k_branch(&g->e, D1_OP_BEQ, X_TID, 0, l0);
    d1k_sem(&g->e, D1_OP_SPOST, S_JOIN, 1);
    d1k_em_raw(&g->e, D1_OP_HALT, 0, 0, 0, 0);
    d1k_bind(&g->e, l0);
    if (join)
        d1k_sem(&g->e, D1_OP_SWAIT, S_JOIN, g->threads - 1);
}

static void bcast_imm(gen *g, int v, uint32_t bits)
{
    li(g, X_T0, (int64_t)(int32_t)bits);
    vr(g, D1_OP_VBCAST, v, X_T0, 0);
}
static void bcast_lb(gen *g, int v, int off)
{
    d1k_mem(&g->e, D1_OP_LWU, X_T0, X_SC, off);
    vr(g, D1_OP_VBCAST, v, X_T0, 0);
}

static void prologue(gen *g)
{
    const d1k_ew_op *op = g->op;
    const d1k_tensor_place *x = &op->t[0];
    if (g->threads > 1) { /* thread 0 starts threads 1.. at pc 0 too */
        d1k_csrr(&g->e, X_TID, D1_CSR_TID);
        int l = d1k_label(&g->e);
        d1k_branch(&g->e, D1_OP_BNE, X_TID, 0, l);
        for (int t = 1; t < g->threads; t++) {
            li(g, X_T0, t);
            d1k_em_raw(&g->e, D1_OP_TSTART, 0, X_T0, 0, 0);
        }
        d1k_bind(&g->e, l);
    }
    d1k_csrr(&g->e, X_K, D1_CSR_NID);
    addi(g, X_K, X_K, -(int64_t)x->node_first);
    li(g, X_LASTK, (int64_t)x->nodes - 1);
    li(g, X_SC, (int64_t)op->scratch);
    d1k_csrr(&g->e, X_NEXT, D1_CSR_NID);
    addi(g, X_NEXT, X_NEXT, 1);
    vr(g, D1_OP_VBCAST, V_ZERO, 0, 0);
    bcast_imm(g, V_ABS, 0x7fffffffu);
    bcast_imm(g, V_C800, 0x00800000u);
    bcast_imm(g, V_ONE, 0x3f800000u);
    bcast_imm(g, V_ALL1, 0xffffffffu);
    bcast_imm(g, V_IONE, 1);
    bcast_lb(g, V_ROWS, LB_ROWS);
    if (op->kind == D1K_EW_SOFTMAX_XENT) {
        bcast_imm(g, V_NEG0, 0x80000000u);
        d1k_mem(&g->e, D1_OP_VLD, V_LANE0, X_SC, SC_MASKS + 64);
    } else {
        bcast_lb(g, V_ALPHA, LB_ALPHA);
        bcast_lb(g, V_BETA, LB_BETA);
    }
    bcast_lb(g, V_NALPHA, LB_NALPHA);
    role_li(g, X_ROWS, g->rows_full, g->rows_last);
}

/* isnan mask of v into d (uses t): abs(v) + 0x00800000 is a negative nonzero float exactly
 * when abs(v) > 0x7f800000, so 0 > it. */
static void isnan_mask(gen *g, int d, int v, int t)
{
    vr(g, D1_OP_VAND, t, v, V_ABS);
    vr(g, D1_OP_VADDI, t, t, V_C800);
    vr(g, D1_OP_VCMPGT, d, V_ZERO, t);
}

/* d = mask ? a : b  (bitwise; d may equal b, t is a temporary distinct from all) */
static void vsel(gen *g, int d, int mask, int a, int b, int t)
{
    vr(g, D1_OP_VXOR, t, b, a);
    vr(g, D1_OP_VAND, t, t, mask);
    vr(g, D1_OP_VXOR, d, b, t);
}

/* ---- flat elementwise ops (table of micro-ops, 4 vectors per iteration) ------------------ */

#define UNROLL 4
#define TSLOT 5          /* temporaries per unrolled vector: v(5u) .. v(5u+4) */
#define K(v) (100 + (v)) /* a constant register in a micro-op */

typedef struct ew_uop {
    d1_op op;
    int d, a, b;
} ew_uop;
typedef struct ew_flat {
    int nload, load_t[3], load_r[3];
    int nuop;
    ew_uop uop[8];
    int nstore, store_t[3], store_r[3];
} ew_flat;

/* clang-format off */
static const ew_flat flat_ops[D1K_EW_COUNT] = {
    /* relu: keep = x > 0 or isnan(x); y = x & keep (+0 otherwise) */
    [D1K_EW_RELU] = {1, {0}, {0}, 6,
                     {{D1_OP_VCMPGT, 1, 0, K(V_ZERO)},
                      {D1_OP_VAND, 2, 0, K(V_ABS)},
                      {D1_OP_VADDI, 2, 2, K(V_C800)},
                      {D1_OP_VCMPGT, 2, K(V_ZERO), 2},
                      {D1_OP_VOR, 1, 1, 2},
                      {D1_OP_VAND, 1, 0, 1}},
                     1, {1}, {1}},
    /* relu_backward: dx = dy & (x > 0) */
    [D1K_EW_RELU_BACKWARD] = {2, {0, 1}, {0, 1}, 2,
                              {{D1_OP_VCMPGT, 2, 0, K(V_ZERO)}, {D1_OP_VAND, 2, 1, 2}},
                              1, {2}, {2}},
    /* scale: y = a * x */
    [D1K_EW_SCALE] = {1, {0}, {0}, 1, {{D1_OP_VMULF, 1, K(V_ALPHA), 0}}, 1, {1}, {1}},
    /* axpy: y = fmaf(a, x, y) */
    [D1K_EW_AXPY] = {2, {0, 1}, {0, 1}, 1, {{D1_OP_VFMAF, 1, K(V_ALPHA), 0}}, 1, {1}, {1}},
    /* sgd: w = fmaf(-lr, g, w) */
    [D1K_EW_SGD] = {2, {0, 1}, {0, 1}, 1, {{D1_OP_VFMAF, 0, K(V_NALPHA), 1}}, 1, {0}, {0}},
    /* momentum: v = fmaf(mu, v, g) (in the g register); w = fmaf(-lr, v, w) */
    [D1K_EW_SGD_MOMENTUM] = {3, {0, 1, 2}, {0, 1, 2}, 2,
                             {{D1_OP_VFMAF, 1, K(V_BETA), 2}, {D1_OP_VFMAF, 0, K(V_NALPHA), 1}},
                             2, {2, 0}, {1, 0}},
};

/* clang-format on */

static int ureg(int u, int r)
{
    return r >= 100 ? r - 100 : TSLOT * u + r;
}

static void gen_flat(gen *g)
{
    const d1k_ew_op *op = g->op;
    const ew_flat *f = &flat_ops[op->kind];
    const d1k_tensor_place *x = &op->t[0];
    int nt = d1k_ew_info_of(op->kind)->ntensors;
    int64_t vecs_full = ceil_div(g->rows_full * x->ld * 4, 64);
    int64_t vecs_last = ceil_div(g->rows_last * x->ld * 4, 64);
    role_li(g, X_CNT, ceil_div(vecs_full, UNROLL), ceil_div(vecs_last, UNROLL));
    thread_split(g);
    for (int i = 0; i < nt; i++) {
        li(g, X_P0 + i, (int64_t)op->t[i].addr);
        thread_offset(g, X_P0 + i, 64 * UNROLL);
    }
    int loop = d1k_label(&g->e), skip = d1k_label(&g->e);
    d1k_branch(&g->e, D1_OP_BEQ, X_CNT, 0, skip);
    d1k_bind(&g->e, loop);
    for (int l = 0; l < f->nload; l++)
        for (int u = 0; u < UNROLL; u++)
            d1k_mem(&g->e, D1_OP_VLD, ureg(u, f->load_r[l]), X_P0 + f->load_t[l], 64 * u);
    for (int s = 0; s < f->nuop; s++)
        for (int u = 0; u < UNROLL; u++)
            vr(g, f->uop[s].op, ureg(u, f->uop[s].d), ureg(u, f->uop[s].a), ureg(u, f->uop[s].b));
    for (int l = 0; l < f->nstore; l++)
        for (int u = 0; u < UNROLL; u++)
            d1k_mem(&g->e, D1_OP_VST, ureg(u, f->store_r[l]), X_P0 + f->store_t[l], 64 * u);
    for (int i = 0; i < nt; i++)
        addi(g, X_P0 + i, X_P0 + i, 64 * UNROLL);
    addi(g, X_CNT, X_CNT, -1);
    d1k_branch(&g->e, D1_OP_BNE, X_CNT, 0, loop);
    d1k_bind(&g->e, skip);
    thread_join(g, false);
}

/* ---- bias_add: per row, b chunk by chunk ------------------------------------------------ */

static void gen_bias_add(gen *g)
{
    const d1k_ew_op *op = g->op;
    const d1k_tensor_place *x = &op->t[0];
    int64_t nv = ceil_div(x->cols, 16), rowb = x->ld * 4;
    mv(g, X_CNT, X_ROWS);
    thread_split(g);
    li(g, X_P0, (int64_t)x->addr);
    li(g, X_P2, (int64_t)op->t[2].addr);
    thread_offset(g, X_P0, rowb);
    thread_offset(g, X_P2, rowb);
    int loop = d1k_label(&g->e), skip = d1k_label(&g->e);
    d1k_branch(&g->e, D1_OP_BEQ, X_CNT, 0, skip);
    d1k_bind(&g->e, loop);
    mv(g, X_Q0, X_P0);
    li(g, X_Q1, (int64_t)op->t[1].addr);
    mv(g, X_Q2, X_P2);
    vptr px = {X_Q0, 0}, pb = {X_Q1, 0}, py = {X_Q2, 0};
    for (int64_t c0 = 0; c0 < nv; c0 += UNROLL) {
        int n = (int)(nv - c0 < UNROLL ? nv - c0 : UNROLL);
        for (int u = 0; u < n; u++) {
            vmem(g, D1_OP_VLD, 2 * u, &px, 64 * (c0 + u));
            vmem(g, D1_OP_VLD, 2 * u + 1, &pb, 64 * (c0 + u));
        }
        for (int u = 0; u < n; u++)
            vr(g, D1_OP_VADDF, 2 * u, 2 * u, 2 * u + 1); /* x + b */
        for (int u = 0; u < n; u++)
            vmem(g, D1_OP_VST, 2 * u, &py, 64 * (c0 + u));
    }
    addi(g, X_P0, X_P0, rowb);
    addi(g, X_P2, X_P2, rowb);
    addi(g, X_CNT, X_CNT, -1);
    d1k_branch(&g->e, D1_OP_BNE, X_CNT, 0, loop);
    d1k_bind(&g->e, skip);
    thread_join(g, false);
}

/* ---- cast: per row (SR index r*C + c), FP32 groups of 16 ------------------------------- */

/* d1_fmt_choose_bias on the device, before the conversion (FP32 X, CFP8 Y):
 *   1. every node: m = max |x| over its block with vmax.f (threads share it; C fmaxf: on values
 *      >= +0 it is the exact maximum, and a NaN operand yields the other, so NaN is ignored
 *      as in d1_fmt_choose_bias; padding is +0), 4 lane-wise accumulators, then vrmax.f
 *      over the lanes; max is order-free, so any split works;
 *   2. every node PUTs m (4 B) to the last node's slot k; the last node takes the maximum
 *      of the slots (the tail is +0 from the image);
 *   3. bias = the largest b in 0..63 whose largest value T[b] >= m: the T[b] decrease with b,
 *      so bias = max(63 - #{b : m > T[b]}, 0) (a table of 64 values, 4 compares);
 *   4. the last node PUTs the cvtfmt word to every other node; every node keeps it in the
 *      launch block (LB_BIAS, read back by the host) and thread 0 hands it to the helpers.
 * Result in X_CVTO on every thread. */
static void choose_bias(gen *g)
{
    const d1k_ew_op *op = g->op;
    const d1k_tensor_place *x = &op->t[0];
    uint64_t table = op->scratch + sc_chain(op), tslots = table + 256, slots = tslots + 256;
    int lhelp = d1k_label(&g->e), ldone = d1k_label(&g->e), llast = d1k_label(&g->e),
        lhave = d1k_label(&g->e), loop = d1k_label(&g->e), lmax = d1k_label(&g->e),
        lfan = d1k_label(&g->e), lskip = d1k_label(&g->e);
    /* 1. max |x| over this thread's share of the node block (4-vector steps) */
    d1k_r(&g->e, D1_OP_ADD, 27, X_CNT, 0); /* keep the row split of the cast */
    d1k_r(&g->e, D1_OP_ADD, 28, X_OFF, 0);
    d1k_r(&g->e, D1_OP_ADD, 29, X_OTHER, 0);
    for (int u = 0; u < 4; u++)
        vr(g, D1_OP_VMOV, u, V_ZERO, 0);
    int64_t vf = ceil_div(g->rows_full * x->ld * 4, 64);
    int64_t vl = ceil_div(g->rows_last * x->ld * 4, 64);
    role_li(g, X_CNT, ceil_div(vf, 4), ceil_div(vl, 4));
    thread_split(g);
    mv(g, X_G, X_CNT);
    li(g, X_Q0, (int64_t)x->addr);
    thread_offset(g, X_Q0, 256);
    d1k_branch(&g->e, D1_OP_BEQ, X_G, 0, lskip);
    d1k_bind(&g->e, loop);
    for (int u = 0; u < 4; u++)
        d1k_mem(&g->e, D1_OP_VLD, 4 + u, X_Q0, 64 * u);
    for (int u = 0; u < 4; u++)
        vr(g, D1_OP_VAND, 4 + u, 4 + u, V_ABS);
    for (int u = 0; u < 4; u++) /* fmaxf: a NaN operand yields the other (ignored) */
        vr(g, D1_OP_VMAXF, u, u, 4 + u);
    addi(g, X_Q0, X_Q0, 256);
    addi(g, X_G, X_G, -1);
    d1k_branch(&g->e, D1_OP_BNE, X_G, 0, loop);
    d1k_bind(&g->e, lskip);
    for (int u = 1; u < 4; u++)
        vr(g, D1_OP_VMAXF, 0, 0, u);
    mv(g, X_CNT, 27);
    mv(g, X_OFF, 28);
    mv(g, X_OTHER, 29);
    if (g->threads > 1) { /* the threads' maxima: slot tid; thread 0 combines them */
        d1k_i(&g->e, D1_OP_SLLI, X_T1, X_TID, 6);
        li(g, X_T0, (int64_t)tslots);
        d1k_r(&g->e, D1_OP_ADD, X_T0, X_T0, X_T1);
        d1k_mem(&g->e, D1_OP_VST, 0, X_T0, 0);
        int l0 = d1k_label(&g->e);
        d1k_branch(&g->e, D1_OP_BEQ, X_TID, 0, l0);
        d1k_sem(&g->e, D1_OP_SPOST, S_JOIN, 1);
        d1k_jump(&g->e, lhelp);
        d1k_bind(&g->e, l0);
        d1k_sem(&g->e, D1_OP_SWAIT, S_JOIN, g->threads - 1);
        li(g, X_T0, (int64_t)tslots);
        for (int t = 1; t < g->threads; t++) {
            d1k_mem(&g->e, D1_OP_VLD, 1, X_T0, 64 * t);
            vr(g, D1_OP_VMAXF, 0, 0, 1);
        }
    }
    d1k_em_raw(&g->e, D1_OP_VRMAXF, X_ACC, 0, 0, 0);
    /* 2. into slot k of the last node */
    li(g, X_T0, (int64_t)slots);
    d1k_i(&g->e, D1_OP_SLLI, X_T1, X_K, 2);
    d1k_r(&g->e, D1_OP_ADD, X_T0, X_T0, X_T1);
    d1k_mem(&g->e, D1_OP_SW, X_ACC, X_T0, 0);
    d1k_branch(&g->e, D1_OP_BEQ, X_K, X_LASTK, llast);
    d1k_mem(&g->e, D1_OP_SD, X_T0, X_SC, SC_DESC + 16);
    d1k_mem(&g->e, D1_OP_SD, X_T0, X_SC, SC_DESC + 24);
    d1k_mem(&g->e, D1_OP_DMA, 0, X_SC, SC_DESC);
    d1k_sem(&g->e, D1_OP_SWAIT, S_BIAS, 1); /* 4. the bias from the last node */
    d1k_jump(&g->e, lhave);
    d1k_bind(&g->e, llast);
    if (x->nodes > 1)
        d1k_sem(&g->e, D1_OP_SWAIT, S_AMAX, (int)(x->nodes - 1));
    vr(g, D1_OP_VMOV, 0, V_ZERO, 0);
    li(g, X_G, ceil_div(x->nodes, 16));
    li(g, X_Q0, (int64_t)slots);
    d1k_bind(&g->e, lmax);
    d1k_mem(&g->e, D1_OP_VLD, 1, X_Q0, 0);
    vr(g, D1_OP_VMAXF, 0, 0, 1);
    addi(g, X_Q0, X_Q0, 64);
    addi(g, X_G, X_G, -1);
    d1k_branch(&g->e, D1_OP_BNE, X_G, 0, lmax);
    d1k_em_raw(&g->e, D1_OP_VRMAXF, X_ACC, 0, 0, 0);
    /* 3. count the T[b] below m */
    vr(g, D1_OP_VBCAST, 1, X_ACC, 0);
    vr(g, D1_OP_VMOV, 2, V_ZERO, 0);
    li(g, X_Q0, (int64_t)table);
    for (int i = 0; i < 4; i++) {
        d1k_mem(&g->e, D1_OP_VLD, 3, X_Q0, 64 * i);
        vr(g, D1_OP_VCMPGT, 4, 1, 3);
        vr(g, D1_OP_VADDI, 2, 2, 4); /* -1 per T[b] < m */
    }
    li(g, X_T0, 63);
    for (int l = 0; l < 16; l++) {
        d1k_em_raw(&g->e, D1_OP_VEXT, X_T1, 2, 0, l);
        d1k_r(&g->e, D1_OP_ADD, X_T0, X_T0, X_T1);
    }
    d1k_i(&g->e, D1_OP_SLLI, X_T0, X_T0, 32); /* 63 - count, modulo 2^32, sign-extended */
    d1k_i(&g->e, D1_OP_SRAI, X_T0, X_T0, 32);
    d1k_r(&g->e, D1_OP_MAX, X_T0, X_T0, 0);
    if (op->t[1].dtype == D1_CFP8_152)
        d1k_i(&g->e, D1_OP_ORI, X_T0, X_T0, 64);
    d1k_mem(&g->e, D1_OP_SD, X_T0, X_SC, LB_BIAS);
    /* 4. to every other node of the range */
    if (x->nodes > 1) {
        li(g, X_Q1, (int64_t)x->node_first);
        d1k_bind(&g->e, lfan);
        d1k_mem(&g->e, D1_OP_SW, X_Q1, X_SC, SC_DESC + 32 + 8);
        d1k_mem(&g->e, D1_OP_DMA, 0, X_SC, SC_DESC + 32);
        addi(g, X_Q1, X_Q1, 1);
        li(g, X_T1, (int64_t)(x->node_first + x->nodes - 1));
        d1k_branch(&g->e, D1_OP_BNE, X_Q1, X_T1, lfan);
    }
    d1k_bind(&g->e, lhave);
    if (g->threads > 1) {
        d1k_sem(&g->e, D1_OP_SPOST, S_LOCAL, g->threads - 1);
        d1k_jump(&g->e, ldone);
        d1k_bind(&g->e, lhelp);
        d1k_sem(&g->e, D1_OP_SWAIT, S_LOCAL, 1);
    }
    d1k_bind(&g->e, ldone);
    d1k_mem(&g->e, D1_OP_LD, X_CVTO, X_SC, LB_BIAS);
}

static void gen_cast(gen *g)
{
    const d1k_ew_op *op = g->op;
    const d1k_tensor_place *x = &op->t[0], *y = &op->t[1];
    d1_dtype ti = x->dtype, to = y->dtype;
    bool sr = op->round == D1_ROUND_STOCHASTIC && to != D1_FP32;
    bool swap = is_cfp8(ti) && is_cfp8(to); /* two CFP8 formats: switch cvtfmt */
    int pin = 4 / (int)d1_dtype_size(ti), pout = 4 / (int)d1_dtype_size(to); /* parts/vector */
    int64_t nvi = ceil_div(x->cols, 16);
    d1_op dec = ti == D1_BF16 ? D1_OP_VCVTFB : D1_OP_VCVTFC;
    d1_op enc =
        to == D1_BF16 ? (sr ? D1_OP_VCVTBFS : D1_OP_VCVTBF) : (sr ? D1_OP_VCVTC8S : D1_OP_VCVTC8);
    mv(g, X_CNT, X_ROWS);
    thread_split(g);
    if (sr) { /* index of the thread's first element: (k * rpn + first row) * C */
        d1k_mem(&g->e, D1_OP_LD, X_T0, X_SC, LB_SEED);
        d1k_csrw(&g->e, D1_CSR_SRSEED, X_T0);
        li(g, X_T0, x->rows_per_node);
        d1k_r(&g->e, D1_OP_MUL, X_SRIDX, X_K, X_T0);
        d1k_r(&g->e, D1_OP_ADD, X_SRIDX, X_SRIDX, X_OFF);
        li(g, X_T0, x->cols);
        d1k_r(&g->e, D1_OP_MUL, X_SRIDX, X_SRIDX, X_T0);
    }
    d1k_mem(&g->e, D1_OP_LD, X_CVTI, X_SC, LB_CVT_IN);
    d1k_mem(&g->e, D1_OP_LD, X_CVTO, X_SC, LB_CVT_OUT);
    if (auto_bias(op))
        choose_bias(g); /* X_CVTO = the chosen format */
    if (is_cfp8(ti) && !swap)
        d1k_csrw(&g->e, D1_CSR_CVTFMT, X_CVTI);
    if (is_cfp8(to) && !swap)
        d1k_csrw(&g->e, D1_CSR_CVTFMT, X_CVTO);
    li(g, X_P0, (int64_t)x->addr);
    li(g, X_P1, (int64_t)y->addr);
    thread_offset(g, X_P0, x->ld * (int64_t)d1_dtype_size(ti));
    thread_offset(g, X_P1, y->ld * (int64_t)d1_dtype_size(to));
    int loop = d1k_label(&g->e), skip = d1k_label(&g->e);
    d1k_branch(&g->e, D1_OP_BEQ, X_CNT, 0, skip);
    d1k_bind(&g->e, loop);
    if (sr) {
        d1k_csrw(&g->e, D1_CSR_SRIDX, X_SRIDX);
        addi(g, X_SRIDX, X_SRIDX, x->cols);
    }
    mv(g, X_Q0, X_P0);
    mv(g, X_Q1, X_P1);
    vptr px = {X_Q0, 0}, py = {X_Q1, 0};
    /* Blocks of up to 4 output vectors: FP32 groups first, then the conversions part-major so
     * that no conversion waits for the previous one into the same register. Stochastic
     * rounding takes the random bits in instruction order (sridx += 16): one output vector
     * per block keeps the element order. */
    int64_t blk = sr ? pout : 4 * (int64_t)pout;
    for (int64_t b0 = 0; b0 < nvi; b0 += blk) {
        int64_t n = nvi - b0 < blk ? nvi - b0 : blk, nout = ceil_div(n, pout);
        for (int64_t gi = b0; gi < b0 + n; gi++) {
            int vf = (int)(gi - b0), vs = 20 + (int)((gi / pin) % 2);
            if (ti == D1_FP32) {
                vmem(g, D1_OP_VLD, vf, &px, 64 * gi);
                continue;
            }
            if (gi % pin == 0 || gi == b0)
                vmem(g, D1_OP_VLD, vs, &px, 64 * (gi / pin));
            if (swap)
                d1k_csrw(&g->e, D1_CSR_CVTFMT, X_CVTI);
            d1k_em_raw(&g->e, dec, vf, vs, 0, gi % pin);
        }
        if (to == D1_FP32) {
            for (int64_t gi = b0; gi < b0 + n; gi++)
                vmem(g, D1_OP_VST, (int)(gi - b0), &py, 64 * gi);
            continue;
        }
        for (int64_t j = 0; j < nout; j++)
            if (nvi - (b0 + j * pout) < pout)
                vr(g, D1_OP_VMOV, 16 + (int)j, V_ZERO, 0); /* partial: zero padding */
        for (int q = 0; q < pout; q++)
            for (int64_t j = 0; j < nout; j++) {
                int64_t gi = b0 + j * pout + q;
                if (gi >= b0 + n)
                    continue;
                if (swap)
                    d1k_csrw(&g->e, D1_CSR_CVTFMT, X_CVTO);
                d1k_em_raw(&g->e, enc, 16 + (int)j, (int)(gi - b0), 0, q);
            }
        for (int64_t j = 0; j < nout; j++)
            vmem(g, D1_OP_VST, 16 + (int)j, &py, 64 * ((b0 / pout) + j));
    }
    addi(g, X_P0, X_P0, x->ld * (int64_t)d1_dtype_size(ti));
    addi(g, X_P1, X_P1, y->ld * (int64_t)d1_dtype_size(to));
    addi(g, X_CNT, X_CNT, -1);
    d1k_branch(&g->e, D1_OP_BNE, X_CNT, 0, loop);
    d1k_bind(&g->e, skip);
    /* this thread's conversion flags -> launch block + LB_FLAGS + 4 * tid */
    d1k_csrr(&g->e, X_T0, D1_CSR_FFLAGS);
    d1k_i(&g->e, D1_OP_SLLI, X_T1, X_TID, 2);
    d1k_r(&g->e, D1_OP_ADD, X_T1, X_T1, X_SC);
    d1k_mem(&g->e, D1_OP_SW, X_T0, X_T1, LB_FLAGS);
    thread_join(g, false);
}

/* ---- chain helpers: receive / send the running value ------------------------------------ */

/* PUT `bytes` at scratch chain + off to the same address on node nid+1 (descriptor d). */
static void chain_send(gen *g, int d)
{
    d1k_mem(&g->e, D1_OP_SW, X_NEXT, X_SC, SC_DESC + 32 * d + 8);
    d1k_mem(&g->e, D1_OP_DMA, 0, X_SC, SC_DESC + 32 * d);
}

static void desc_image(const d1k_ew_op *op, uint8_t *img, int d, uint64_t off, uint32_t bytes,
                       int sem)
{
    uint8_t *p = img + SC_DESC + 32 * d;
    uint64_t a = op->scratch + sc_chain(op) + off;
    p[0] = D1_DMA_PUT;
    p[1] = D1_DMA_NO_SEM;
    p[2] = (uint8_t)sem;
    memcpy(p + 4, &bytes, 4);
    memcpy(p + 16, &a, 8);
    memcpy(p + 24, &a, 8);
}

/* ---- col_sums: lanes = columns, rows ascending, chunks chained node to node ------------- */

static void gen_col_sums(gen *g)
{
    const d1k_ew_op *op = g->op;
    const d1k_tensor_place *x = &op->t[0], *y = &op->t[1];
    int64_t nv = ceil_div(x->cols, 16);
    int nch = n_chunks(op), T = g->threads;
    uint64_t chain = op->scratch + sc_chain(op);
    /* thread t: chunks t, t + T, ...; semaphore 2 + t counts its arrivals */
    for (int t = 0; t < T; t++) {
        uint64_t guard = d1k_em_pc(&g->e);
        if (T > 1) {
            li(g, X_T0, t);
            d1k_em_raw(&g->e, D1_OP_BNE, X_TID, X_T0, 0, 0); /* patched below */
            guard = d1k_em_pc(&g->e) - 4;
        }
        for (int ch = t; ch < nch; ch += T) {
            int n = (int)(nv - ch * CHUNK_VECS < CHUNK_VECS ? nv - ch * CHUNK_VECS : CHUNK_VECS);
            int64_t off = 64 * (int64_t)CHUNK_VECS * ch;
            int lrecv = d1k_label(&g->e), lgo = d1k_label(&g->e), llast = d1k_label(&g->e),
                lend = d1k_label(&g->e), loop = d1k_label(&g->e);
            d1k_branch(&g->e, D1_OP_BNE, X_K, 0, lrecv);
            for (int u = 0; u < n; u++)
                vr(g, D1_OP_VMOV, u, V_ZERO, 0); /* sum from +0 */
            d1k_jump(&g->e, lgo);
            d1k_bind(&g->e, lrecv);
            d1k_sem(&g->e, D1_OP_SWAIT, S_COLS + t, 1);
            li(g, X_Q0, (int64_t)(chain + (uint64_t)off));
            for (int u = 0; u < n; u++)
                d1k_mem(&g->e, D1_OP_VLD, u, X_Q0, 64 * u);
            d1k_bind(&g->e, lgo);
            mv(g, X_CNT, X_ROWS);
            li(g, X_P0, (int64_t)(x->addr + (uint64_t)off));
            d1k_bind(&g->e, loop);
            for (int u = 0; u < n; u++)
                d1k_mem(&g->e, D1_OP_VLD, 8 + u, X_P0, 64 * u);
            for (int u = 0; u < n; u++)
                vr(g, D1_OP_VADDF, u, u, 8 + u); /* acc + x, rows ascending */
            addi(g, X_P0, X_P0, x->ld * 4);
            addi(g, X_CNT, X_CNT, -1);
            d1k_branch(&g->e, D1_OP_BNE, X_CNT, 0, loop);
            d1k_branch(&g->e, D1_OP_BEQ, X_K, X_LASTK, llast);
            li(g, X_Q0, (int64_t)(chain + (uint64_t)off));
            for (int u = 0; u < n; u++)
                d1k_mem(&g->e, D1_OP_VST, u, X_Q0, 64 * u);
            chain_send(g, ch);
            d1k_jump(&g->e, lend);
            d1k_bind(&g->e, llast);
            li(g, X_Q0, (int64_t)(y->addr + (uint64_t)off));
            for (int u = 0; u < n; u++)
                d1k_mem(&g->e, D1_OP_VST, u, X_Q0, 64 * u);
            d1k_bind(&g->e, lend);
            if (d1k_em_finish(&g->e) != D1_OK) /* resolve this chunk's labels */
                return;
            g->e.nlabels = 0;
        }
        if (T > 1) {
            d1k_em_raw(&g->e, D1_OP_HALT, 0, 0, 0, 0);
            d1_insn in = {D1_OP_BNE, X_TID, X_T0, 0, (int64_t)(d1k_em_pc(&g->e) - guard) / 4};
            if (g->e.st == D1_OK)
                g->e.st = d1s_kernel_patch(g->e.k, g->e.prog, guard, &in);
        }
    }
}

/* ---- rows in lanes (COLS layout): loops over 16-row groups ------------------------------- */

/* Column j of the current group: resident register or a load into `tmp`. */
typedef struct cols_ctx {
    gen *g;
    vptr p;       /* X_Q0 walks the columns of the group */
    int64_t colb; /* bytes between columns */
    bool resident;
} cols_ctx;

#define RESIDENT_MAX 12

static int col(cols_ctx *c, int64_t j, int tmp)
{
    if (c->resident)
        return (int)j;
    vmem(c->g, D1_OP_VLD, tmp, &c->p, j * c->colb);
    return tmp;
}

/* Before the loop: X_G = groups left, X_TAIL = mask of the last group, pointers. Then the
 * caller binds *loop and calls group_loop_head. */
static void group_loop_begin(gen *g, int *loop)
{
    int64_t gf = ceil_div(g->rows_full, 16), gl = ceil_div(g->rows_last, 16);
    role_li(g, X_CNT, gf, gl);
    thread_split(g);
    mv(g, X_G, X_CNT);
    int64_t tf = g->rows_full - 16 * (gf - 1), tl = g->rows_last - 16 * (gl - 1);
    role_li(g, X_TAIL, (int64_t)(g->op->scratch + SC_MASKS + 64 * (uint64_t)tf),
            (int64_t)(g->op->scratch + SC_MASKS + 64 * (uint64_t)tl));
    int keep = d1k_label(&g->e); /* later threads have groups: not the tail */
    d1k_branch(&g->e, D1_OP_BEQ, X_OTHER, 0, keep);
    li(g, X_TAIL, (int64_t)(g->op->scratch + SC_MASKS + 64 * 16));
    d1k_bind(&g->e, keep);
    li(g, X_P0, (int64_t)g->op->t[0].addr);
    li(g, X_P1, (int64_t)g->op->t[1].addr);
    thread_offset(g, X_P0, 64);
    thread_offset(g, X_P1, 64);
    if (g->op->kind != D1K_EW_SOFTMAX_XENT) {
        li(g, X_P2, (int64_t)g->op->t[2].addr);
        thread_offset(g, X_P2, 64);
    }
    *loop = d1k_label(&g->e);
    g->skip = d1k_label(&g->e);
    d1k_branch(&g->e, D1_OP_BEQ, X_G, 0, g->skip);
}

/* X_MASK = mask of the current group (all lanes unless it is the last); X_Q0 = X_P0. */
static void group_loop_head(gen *g)
{
    li(g, X_MASK, (int64_t)(g->op->scratch + SC_MASKS + 64 * 16));
    li(g, X_T0, 1);
    int l = d1k_label(&g->e);
    d1k_branch(&g->e, D1_OP_BNE, X_G, X_T0, l);
    mv(g, X_MASK, X_TAIL);
    d1k_bind(&g->e, l);
    mv(g, X_Q0, X_P0);
}

static void group_loop_end(gen *g, int loop)
{
    addi(g, X_P0, X_P0, 64);
    addi(g, X_P1, X_P1, 64);
    addi(g, X_P2, X_P2, 64);
    addi(g, X_G, X_G, -1);
    d1k_branch(&g->e, D1_OP_BNE, X_G, 0, loop);
    d1k_bind(&g->e, g->skip);
}

static void load_resident(cols_ctx *c, int64_t C)
{
    if (!c->resident)
        return;
    for (int64_t j = 0; j < C; j++)
        vmem(c->g, D1_OP_VLD, (int)j, &c->p, j * c->colb);
}

static void gen_row_sums(gen *g)
{
    const d1k_tensor_place *x = &g->op->t[0];
    int loop;
    group_loop_begin(g, &loop);
    d1k_bind(&g->e, loop);
    group_loop_head(g);
    cols_ctx c = {g, {X_Q0, 0}, x->ld * 4, false};
    /* acc = +0; acc = acc + x_j, j ascending */
    for (int64_t j = 0; j < x->cols; j++) {
        int r = col(&c, j, (int)(1 + j % 8));
        vr(g, D1_OP_VADDF, 0, j == 0 ? V_ZERO : 0, r);
    }
    d1k_mem(&g->e, D1_OP_VST, 0, X_P1, 0);
    group_loop_end(g, loop);
    thread_join(g, false);
}

static void gen_argmax(gen *g)
{
    const d1k_tensor_place *x = &g->op->t[0];
    int loop;
    group_loop_begin(g, &loop);
    d1k_bind(&g->e, loop);
    group_loop_head(g);
    cols_ctx c = {g, {X_Q0, 0}, x->ld * 4, x->cols <= RESIDENT_MAX};
    load_resident(&c, x->cols);
    /* v12 best value, v13 best index, v14 index j, v15.. temps */
    int bv = 12, bi = 13, jv = 14;
    vr(g, D1_OP_VMOV, bv, col(&c, 0, 16), 0);
    vr(g, D1_OP_VMOV, bi, V_ZERO, 0);
    vr(g, D1_OP_VMOV, jv, V_ZERO, 0);
    for (int64_t j = 1; j < x->cols; j++) {
        int xj = col(&c, j, 16);
        vr(g, D1_OP_VADDI, jv, jv, V_IONE);
        vr(g, D1_OP_VCMPGT, 17, xj, bv);   /* x_j > best */
        isnan_mask(g, 18, bv, 19);         /* best is NaN */
        isnan_mask(g, 20, xj, 19);         /* x_j is NaN */
        vr(g, D1_OP_VXOR, 20, 20, V_ALL1); /* x_j not NaN */
        vr(g, D1_OP_VAND, 18, 18, 20);
        vr(g, D1_OP_VOR, 17, 17, 18);
        vsel(g, bv, 17, xj, bv, 19);
        vsel(g, bi, 17, jv, bi, 19);
    }
    d1k_mem(&g->e, D1_OP_VST, bi, X_P1, 0);
    group_loop_end(g, loop);
    thread_join(g, false);
}

/* softmax: m (v12) and s (v15) of the group's 16 rows. */
static void softmax_ms(gen *g, cols_ctx *c, int64_t C)
{
    int m = 12, s = 15;
    vr(g, D1_OP_VMOV, m, col(c, 0, 16), 0);
    for (int64_t j = 1; j < C; j++) {
        int xj = col(c, j, (int)(16 + j % 2));
        vr(g, D1_OP_VCMPGT, 13, xj, m); /* if x_j > m then m = x_j */
        vsel(g, m, 13, xj, m, 14);
    }
    for (int64_t j = 0; j < C; j++) {
        int e = 18 + (int)(j % 4);
        int xj = col(c, j, 16 + (int)(j % 2));
        vr(g, D1_OP_VSUBF, e, xj, m);
        vr(g, D1_OP_VEXPF, e, e, 0);
        vr(g, D1_OP_VADDF, s, j == 0 ? V_ZERO : s, e); /* s = +0; s = s + e */
    }
}

/* 13 = (label != j) mask, from the label vector lab and the index vector jv. */
static void label_ne(gen *g, int lab, int jv)
{
    vr(g, D1_OP_VXOR, 13, lab, jv);
    vr(g, D1_OP_VCMPGT, 13, 13, V_ZERO); /* labels < 2^23: the xor is 0 or a positive denormal */
}

static void gen_softmax(gen *g)
{
    const d1k_ew_op *op = g->op;
    const d1k_tensor_place *x = &op->t[0];
    bool fwd = op->kind == D1K_EW_SOFTMAX_XENT;
    uint64_t chain = op->scratch + sc_chain(op);
    int64_t C = x->cols;
    int loop;
    group_loop_begin(g, &loop);
    int64_t gfull = ceil_div(g->rows_full, 16);
    uint64_t dense = chain + 64 * (uint64_t)gfull;
    /* the last node's rows start on a vector of the dense array: its groups go there */
    uint64_t own_last = dense + 4 * (uint64_t)(x->nodes - 1) * (uint64_t)x->rows_per_node;
    bool direct = own_last % 64 == 0;
    if (fwd) { /* the node's group losses, 64 B each: its rows' losses, in row order */
        role_li(g, X_P2, (int64_t)chain, (int64_t)(direct ? own_last : chain));
        thread_offset(g, X_P2, 64);
    }
    d1k_bind(&g->e, loop);
    group_loop_head(g);
    cols_ctx c = {g, {X_Q0, 0}, x->ld * 4, C <= RESIDENT_MAX};
    load_resident(&c, C);
    softmax_ms(g, &c, C);
    int m = 12, s = 15, lab = 17, jv = 20;
    d1k_mem(&g->e, D1_OP_VLD, lab, X_P1, 0);
    vr(g, D1_OP_VMOV, jv, V_ZERO, 0);
    if (fwd) {
        int xl = 21;
        vr(g, D1_OP_VMOV, xl, V_ZERO, 0);
        for (int64_t j = 0; j < C; j++) {
            int xj = col(&c, j, 16);
            label_ne(g, lab, jv);
            vsel(g, xl, 13, xl, xj, 14); /* xl = (L != j) ? xl : x_j */
            vr(g, D1_OP_VADDI, jv, jv, V_IONE);
        }
        /* loss = logf(s) - (x_L - m); rows past the node's end: -0 (adds nothing) */
        vr(g, D1_OP_VLOGF, 18, s, 0);
        vr(g, D1_OP_VSUBF, 19, xl, m);
        vr(g, D1_OP_VSUBF, 18, 18, 19);
        d1k_mem(&g->e, D1_OP_VLD, 19, X_MASK, 0);
        vsel(g, 18, 19, 18, V_NEG0, 14);
        d1k_mem(&g->e, D1_OP_VST, 18, X_P2, 0);
    } else if (c.resident) {
        /* stage by stage over the columns (in place in v0..v(C-1)): independent chains */
        vptr pd = {X_Q1, 0};
        mv(g, X_Q1, X_P2);
        for (int64_t j = 0; j < C; j++)
            vr(g, D1_OP_VSUBF, (int)j, (int)j, m);
        for (int64_t j = 0; j < C; j++)
            vr(g, D1_OP_VEXPF, (int)j, (int)j, 0);
        for (int64_t j = 0; j < C; j++)
            vr(g, D1_OP_VDIVF, (int)j, (int)j, s); /* p = expf(x - m) / s */
        for (int64_t j = 0; j < C; j++) {
            static const int ohr[4] = {16, 18, 19, 21}; /* not lab (17), jv (20) */
            int oh = ohr[j % 4];
            label_ne(g, lab, jv);
            vr(g, D1_OP_VXOR, 13, 13, V_ALL1);
            vr(g, D1_OP_VAND, oh, 13, V_ONE); /* (j == L) ? 1 : +0 */
            vr(g, D1_OP_VSUBF, (int)j, (int)j, oh);
            vr(g, D1_OP_VADDI, jv, jv, V_IONE);
        }
        for (int64_t j = 0; j < C; j++)
            vr(g, D1_OP_VDIVF, (int)j, (int)j, V_ROWS); /* t / (float)B */
        for (int64_t j = 0; j < C; j++)
            vmem(g, D1_OP_VST, (int)j, &pd, j * x->ld * 4);
    } else {
        vptr pd = {X_Q1, 0};
        mv(g, X_Q1, X_P2);
        for (int64_t j = 0; j < C; j++) {
            int e = j % 2 ? 18 : 21, oh = 19;
            int xj = col(&c, j, 16);
            vr(g, D1_OP_VSUBF, e, xj, m);
            vr(g, D1_OP_VEXPF, e, e, 0);
            vr(g, D1_OP_VDIVF, e, e, s); /* p = expf(x - m) / s */
            label_ne(g, lab, jv);
            vr(g, D1_OP_VXOR, 13, 13, V_ALL1);
            vr(g, D1_OP_VAND, oh, 13, V_ONE); /* (j == L) ? 1 : +0 */
            vr(g, D1_OP_VSUBF, e, e, oh);
            vr(g, D1_OP_VDIVF, e, e, V_ROWS); /* t / (float)B */
            vmem(g, D1_OP_VST, e, &pd, j * x->ld * 4);
            vr(g, D1_OP_VADDI, jv, jv, V_IONE);
        }
    }
    group_loop_end(g, loop);
    thread_join(g, fwd);
    if (!fwd)
        return;
    /* Gather, then one sequential sum: every other node PUTs its rows' losses (4 B each)
     * into the last node's dense array at its first row; the last node copies its own,
     * waits for all the others and adds every row in index order from +0 (lane 0 of w =
     * total + loss_0, and vrsum.f adds lanes 1..15 in order; the array's tail is -0 from
     * the kernel image, which adds nothing). */
    int llast = d1k_label(&g->e), lend = d1k_label(&g->e), acc = d1k_label(&g->e);
    d1k_branch(&g->e, D1_OP_BEQ, X_K, X_LASTK, llast);
    li(g, X_T0, (int64_t)dense);
    li(g, X_T1, 4 * x->rows_per_node);
    d1k_r(&g->e, D1_OP_MUL, X_T1, X_K, X_T1);
    d1k_r(&g->e, D1_OP_ADD, X_T0, X_T0, X_T1);
    d1k_mem(&g->e, D1_OP_SD, X_T0, X_SC, SC_DESC + 24);
    d1k_mem(&g->e, D1_OP_DMA, 0, X_SC, SC_DESC);
    d1k_jump(&g->e, lend);
    d1k_bind(&g->e, llast);
    if (!direct) {
        int cp = d1k_label(&g->e);
        li(g, X_CNT, g->rows_last);
        li(g, X_Q0, (int64_t)chain);
        li(g, X_Q1, (int64_t)(dense + 4 * (uint64_t)(x->nodes - 1) * (uint64_t)x->rows_per_node));
        d1k_bind(&g->e, cp);
        d1k_mem(&g->e, D1_OP_LWU, X_T0, X_Q0, 0);
        d1k_mem(&g->e, D1_OP_SW, X_T0, X_Q1, 0);
        addi(g, X_Q0, X_Q0, 4);
        addi(g, X_Q1, X_Q1, 4);
        addi(g, X_CNT, X_CNT, -1);
        d1k_branch(&g->e, D1_OP_BNE, X_CNT, 0, cp);
    }
    if (x->nodes > 1)
        d1k_sem(&g->e, D1_OP_SWAIT, S_CHAIN, (int)(x->nodes - 1));
    li(g, X_ACC, 0); /* +0 */
    li(g, X_G, ceil_div(x->rows, 16));
    li(g, X_P2, (int64_t)dense);
    d1k_bind(&g->e, acc);
    d1k_mem(&g->e, D1_OP_VLD, 18, X_P2, 0);
    vr(g, D1_OP_VBCAST, 19, X_ACC, 0);
    vr(g, D1_OP_VADDF, 19, 19, 18);
    vsel(g, 19, V_LANE0, 19, 18, 14);
    d1k_em_raw(&g->e, D1_OP_VRSUMF, X_ACC, 19, 0, 0);
    addi(g, X_P2, X_P2, 64);
    addi(g, X_G, X_G, -1);
    d1k_branch(&g->e, D1_OP_BNE, X_G, 0, acc);
    vr(g, D1_OP_VBCAST, 18, X_ACC, 0);
    vr(g, D1_OP_VDIVF, 18, 18, V_ROWS); /* total / (float)B */
    li(g, X_T0, (int64_t)op->t[2].addr);
    d1k_mem(&g->e, D1_OP_VST, 18, X_T0, 0);
    d1k_bind(&g->e, lend);
}

/* ---- the scratch image ------------------------------------------------------------------ */

/* Bytes of the scratch that start with fixed contents (the rest is written by the kernel). */
static uint64_t image_bytes(const d1k_ew_op *op)
{
    return op->kind == D1K_EW_SOFTMAX_XENT || auto_bias(op) ? d1k_ew_scratch_bytes(op)
                                                            : sc_chain(op);
}

/* Launch block, masks, DMA descriptors (fields the program does not set), and for
 * softmax_xent the -0 tail of the dense loss array. sc: image_bytes(op) bytes, zeroed. */
static void scratch_image(const d1k_ew_op *op, uint8_t *sc)
{
    const d1k_tensor_place *x = &op->t[0];
    d1k_ew_launch_block(op, sc);
    for (int n = 0; n <= 16; n++)
        memset(sc + SC_MASKS + 64 * n, 0xff, 4 * (size_t)n);
    if (op->kind == D1K_EW_COL_SUMS) {
        int64_t nv = ceil_div(x->cols, 16);
        for (int ch = 0; ch < n_chunks(op); ch++) {
            int64_t n = nv - ch * CHUNK_VECS < CHUNK_VECS ? nv - ch * CHUNK_VECS : CHUNK_VECS;
            desc_image(op, sc, ch, 64 * (uint64_t)CHUNK_VECS * (uint64_t)ch, (uint32_t)(64 * n),
                       S_COLS + ch % col_threads(op));
        }
    } else if (auto_bias(op)) {
        uint64_t t0 = sc_chain(op), lb = op->scratch + LB_BIAS;
        d1_dtype to = op->t[1].dtype;
        for (int b = 0; b < 64; b++) { /* largest value at bias b */
            float f = d1_fmt_decode(to, 0x7f, b);
            memcpy(sc + t0 + 4 * (uint64_t)b, &f, 4);
        }
        uint32_t last = x->node_first + x->nodes - 1;
        desc_image(op, sc, 0, 0, 4, S_AMAX); /* addresses set by the program */
        memcpy(sc + SC_DESC + 8, &last, 4);
        uint8_t *d = sc + SC_DESC + 32; /* the bias, to node (set by the program) */
        uint32_t len = 8;
        d[0] = D1_DMA_PUT;
        d[1] = D1_DMA_NO_SEM;
        d[2] = S_BIAS;
        memcpy(d + 4, &len, 4);
        memcpy(d + 16, &lb, 8);
        memcpy(d + 24, &lb, 8);
    } else if (op->kind == D1K_EW_SOFTMAX_XENT) {
        uint64_t scb = d1k_ew_scratch_bytes(op);
        uint32_t last = x->node_first + x->nodes - 1, neg0 = 0x80000000u;
        desc_image(op, sc, 0, 0, (uint32_t)(4 * x->rows_per_node), S_CHAIN);
        memcpy(sc + SC_DESC + 8, &last, 4); /* the remote address is set by the program */
        for (uint64_t o = scb - dense_bytes(op); o < scb; o += 4)
            memcpy(sc + o, &neg0, 4);
    }
}

/* ---- emit ---------------------------------------------------------------------------------- */

d1_status d1k_ew_emit(const d1k_ew_op *op, const d1s_target *t, d1s_kernel **out)
{
    *out = NULL;
    d1_status st = d1k_ew_check(op, t);
    if (st != D1_OK)
        return st;
    const d1k_tensor_place *x = &op->t[0];
    if (op->kind == D1K_EW_COL_SUMS && n_chunks(op) > 64)
        return d1_fail(D1_E_UNSUPPORTED, "col_sums: more than %d columns",
                       (int)(64 * CHUNK_VECS * 16));
    d1s_kernel *k;
    if ((st = d1s_kernel_create(t, &k)) != D1_OK)
        return st;
    uint32_t prog, img, pl;
    gen *g = calloc(1, sizeof *g);
    uint64_t scb = d1k_ew_scratch_bytes(op);
    uint8_t *sc = calloc(1, scb);
    if (!g || !sc) {
        st = d1_fail(D1_E_NOMEM, "ew: generator state");
        goto fail;
    }
    if ((st = d1s_kernel_add_program(k, d1k_ew_info_of(op->kind)->name, &prog)) != D1_OK)
        goto fail;
    d1k_em_init(&g->e, k, prog);
    g->op = op;
    g->threads = op->kind == D1K_EW_COL_SUMS ? col_threads(op)
                 : op->threads               ? op->threads
                                             : EW_THREADS;
    g->rows_full = x->rows_per_node;
    g->rows_last = d1k_place_node_rows(x, x->nodes - 1);
    prologue(g);
    switch (op->kind) {
    case D1K_EW_BIAS_ADD:
        gen_bias_add(g);
        break;
    case D1K_EW_CAST:
        gen_cast(g);
        break;
    case D1K_EW_COL_SUMS:
        gen_col_sums(g);
        break;
    case D1K_EW_ROW_SUMS:
        gen_row_sums(g);
        break;
    case D1K_EW_ARGMAX:
        gen_argmax(g);
        break;
    case D1K_EW_SOFTMAX_XENT:
    case D1K_EW_SOFTMAX_XENT_BACKWARD:
        gen_softmax(g);
        break;
    default:
        gen_flat(g);
        break;
    }
    d1k_em_raw(&g->e, D1_OP_HALT, 0, 0, 0, 0);
    if ((st = d1k_em_finish(&g->e)) != D1_OK)
        goto fail;
    scratch_image(op, sc);
    uint64_t imgb = image_bytes(op);
    if ((st = d1s_kernel_add_image(k, op->scratch, sc, imgb, &img)) != D1_OK)
        goto fail;
    if ((st = d1s_kernel_add_placement(k, x->node_first, x->node_first + x->nodes - 1, prog, 0,
                                       &pl)) != D1_OK)
        goto fail;
    if ((st = d1s_kernel_placement_add_image(k, pl, img)) != D1_OK)
        goto fail;
    if ((st = d1s_kernel_validate(k)) != D1_OK)
        goto fail;
    free(g);
    free(sc);
    *out = k;
    return D1_OK;
fail:
    free(g);
    free(sc);
    d1s_kernel_destroy(k);
    return st;
}

/* ---- prediction ------------------------------------------------------------------------- */

uint64_t d1k_ew_predict_cycles(const d1k_ew_op *op, const d1_config *cfg)
{
    const d1k_tensor_place *x = &op->t[0];
    double agu = cfg->agu_issue, vec = cfg->vec_issue;
    double ldb = cfg->sram_load_bytes_per_cyc, stb = cfg->sram_store_bytes_per_cyc;
    double lf = cfg->lat_vfp, lv = cfg->lat_vec, ll = cfg->lat_vlong;
    int T = op->threads ? op->threads : EW_THREADS;
    int64_t rows = x->rows_per_node, nv = ceil_div(x->cols, 16), C = x->cols;
    double vecs = (double)rows * (double)nv;             /* ROWS: vectors of X per node */
    double ng = (double)ceil_div(rows, 16);              /* COLS: 16-row groups per node */
    double gt = (double)ceil_div(ceil_div(rows, 16), T); /* groups per thread */
    double groups = ng * (double)C;                      /* COLS: column vectors per node */
    double l = 0, s = 0, v = 0, floor = 0, fixed = 0;    /* loads, stores, vector ops, latency */
    switch (op->kind) {
    case D1K_EW_RELU:
        l = vecs, s = vecs, v = 6 * vecs;
        break;
    case D1K_EW_RELU_BACKWARD:
        l = 2 * vecs, s = vecs, v = 2 * vecs;
        break;
    case D1K_EW_SCALE:
        l = vecs, s = vecs, v = vecs;
        break;
    case D1K_EW_AXPY:
    case D1K_EW_SGD:
        l = 2 * vecs, s = vecs, v = vecs;
        break;
    case D1K_EW_SGD_MOMENTUM:
        l = 3 * vecs, s = 2 * vecs, v = 2 * vecs;
        break;
    case D1K_EW_BIAS_ADD:
        l = 2 * vecs, s = vecs, v = vecs;
        break;
    case D1K_EW_CAST: {
        double ei = (double)d1_dtype_size(x->dtype), eo = (double)d1_dtype_size(op->t[1].dtype);
        l = vecs * ei / 4, s = vecs * eo / 4, v = vecs * (1 + (ei < 4) + (eo < 4)) / 2;
        if (auto_bias(op)) /* max |x| on thread 0 (1 load, 2 vector ops per vector), gather,
                            * fan-out */
            fixed = vecs / agu / 2 + (double)x->nodes * 12 + 150;
        if (op->round == D1_ROUND_STOCHASTIC && eo < 4) /* one output vector at a time */
            floor = (double)rows * (double)ceil_div(nv * (int64_t)eo, 4) *
                    (cfg->lat_load + lf * 4 / eo) / T;
        break;
    }
    case D1K_EW_ROW_SUMS: /* a chain of C adds per group */
        l = groups, s = ng, v = groups, floor = gt * (double)C * lf;
        break;
    case D1K_EW_ARGMAX: /* compare + select chain per column */
        l = groups, s = ng, v = 15 * groups, floor = gt * (double)C * (lf + 3 * lv);
        break;
    case D1K_EW_SOFTMAX_XENT_BACKWARD:
        l = groups + ng, s = groups, v = 11 * groups;
        floor = gt * ((double)C * (lf + 3 * lv) + (double)C * lf + 3 * ll + 2 * lf);
        break;
    case D1K_EW_SOFTMAX_XENT:
        l = groups + ng, s = ng, v = 11 * groups;
        floor = gt * ((double)C * (lf + 3 * lv) + (double)C * lf + 2 * ll + 2 * lf);
        /* gather to the last node, which adds every row in order (vrsum.f chain) */
        fixed = (double)ceil_div(x->rows, 16) * (lf + 4 * lv + ll) +
                (x->nodes > 1 ? cfg->dma_setup_cyc + 40 : 0);
        break;
    case D1K_EW_COL_SUMS: {
        /* a wavefront: node k starts chunk c when node k-1 has sent it */
        double cv = (double)CHUNK_VECS, nch = (double)n_chunks(op);
        double per_chunk = (double)rows * (cv / agu > lf ? cv / agu : lf);
        if (x->nodes == 1) { /* col_threads chunks at a time, sharing the AGUs */
            double lat = (double)ceil_div(n_chunks(op), col_threads(op)) * (double)rows * lf;
            double iss = vecs / agu;
            return (uint64_t)((lat > iss ? lat : iss) + 40);
        }
        return (uint64_t)((x->nodes - 1 + nch) * per_chunk +
                          (double)(x->nodes - 1) * (cfg->dma_setup_cyc + cv + 30) + 40);
    }
    default:
        break;
    }
    double c = (l + s) / agu;
    if (v / vec > c)
        c = v / vec;
    if (l * 64 / ldb > c)
        c = l * 64 / ldb;
    if (s * 64 / stb > c)
        c = s * 64 / stb;
    if (floor > c)
        c = floor;
    return (uint64_t)(c + fixed + 40); /* + prologue */
}
