/* d1r: the runtime's public API. One device API, several backends (`cpu` now, `sim` later).
 *
 *   d1r_device_open("cpu", &dev);
 *   d1r_tensor_create(dev, D1_BF16, 2, (int64_t[]){64, 784}, 0, &w);
 *   d1r_tensor_upload(w, host, n, D1_ROUND_RNE, 0, NULL);
 *   d1r_matmul(dev, x, w, y, &(d1r_matmul_opts){.trans_b = true});
 *   d1r_tensor_download(y, out, m);
 *   d1r_device_stats_print(dev, stdout);
 *   d1r_device_close(dev);  // also destroys the tensors still alive
 *
 * Every call returns a d1_status and sets d1_last_error() on failure; bad input never
 * aborts. Common codes: D1_E_INVAL (NULL pointer, bad rounding mode or op, tensor of another
 * device, ndim outside 1..4, a dimension <= 0, forbidden aliasing), D1_E_SHAPE (shapes or
 * element counts do not fit the op), D1_E_DTYPE (not a dtype, or one the op does not take),
 * D1_E_RANGE (size over the limits below, bias out of 0..63, label out of range),
 * D1_E_NOMEM, D1_E_UNSUPPORTED (device not built); backends may pass up others (D1_E_IO).
 *
 * A device and its tensors are used from one thread at a time (ops are synchronous on `cpu`).
 *
 * Numerics: every op has an exact FP32 formula and evaluation order, written in
 * doc/numerics.md ("Operations"), so every backend gives the same bits. */
#ifndef D1R_H
#define D1R_H

#include "sim/arch/formats.h"
#include "sim/arch/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct d1r_device d1r_device;
typedef struct d1r_tensor d1r_tensor;

/* Element types are the number formats of formats.h plus 32-bit signed integers, used for
 * class labels (no conversion: upload/download them with the _raw calls). */
#define D1R_INT32 ((d1_dtype)D1_DTYPE_COUNT)

/* Limits. A tensor has 1..D1R_MAX_DIMS dimensions, each 1..D1R_DIM_MAX, and at most
 * D1R_TENSOR_MAX_ELEMS elements; beyond that: D1_E_RANGE. */
#define D1R_MAX_DIMS 4
#define D1R_DIM_MAX INT64_C(2147483647)          /* 2^31 - 1: matmul sizes are int */
#define D1R_TENSOR_MAX_ELEMS (UINT64_C(1) << 32) /* 16 GiB of FP32 */

/* `bias` argument of d1r_tensor_create: choose the bias of a CFP8/CFP16-SHP tensor at each
 * upload from the data (d1_fmt_choose_bias). */
#define D1R_BIAS_AUTO (-1)

typedef enum d1r_op {
#define D1R_OP(sym, name, ntensors, outmask, operands) D1R_OP_##sym,
#include "ops.def"
#undef D1R_OP
    D1R_OP_COUNT
} d1r_op;

const char *d1r_op_name(d1r_op op); /* "matmul", ...; NULL if not an op */

/* ---- devices ---------------------------------------------------------------------------
 * spec: "cpu"; "sim", "sim:chip", "sim:tile", "sim:<config file>", "sim:tile:<config file>"
 * (the simulator backend, runtime/sim); anything else D1_E_INVAL. *out is set only on
 * success. */
d1_status d1r_device_open(const char *spec, d1r_device **out);
/* Destroys the device and every tensor of it still alive. NULL is a no-op. */
void d1r_device_close(d1r_device *dev);
/* Name of the backend ops run on ("cpu", ...); borrowed. */
const char *d1r_device_backend_name(const d1r_device *dev);
/* Wait until every op issued on the device has finished (the cpu backend is synchronous). */
d1_status d1r_device_sync(d1r_device *dev);

/* ---- statistics ------------------------------------------------------------------------
 * Per op, counted when the op ran successfully. host_ns is wall time on the host inside the
 * d1r_ call after argument checks, including the copies of a fallback. The device_ns and
 * mxu_ fields are filled by backends that model the device's time (the sim backend: the
 * simulated cycles of the kernel at the configured clock); they stay 0 on cpu and for
 * fallback runs. Matrix-unit utilisation over a set of ops = sum mxu_ops / sum mxu_slots. */
typedef struct d1r_op_stats {
    uint64_t count;          /* runs, on the device backend or on the CPU fallback */
    uint64_t fallback_count; /* of which ran on the CPU because the backend lacks the op */
    uint64_t host_ns;        /* total host time */
    uint64_t fallback_ns;    /* of which in fallback runs */
    uint64_t device_ns;      /* modelled (simulated) device time; 0 if the device has none */
    uint64_t mxu_ops;        /* matrix-unit operations issued (sim: mma instructions) */
    uint64_t mxu_slots;      /* matrix-unit issue slots of the whole device during those runs
                              * (sim: usable nodes x simulated cycles) */
} d1r_op_stats;

/* Class of an op, for time breakdowns: matmul; elementwise (bias add, activations, loss,
 * reductions, optimizer updates, argmax); data movement (cast: a whole-tensor format
 * conversion that moves operands into the matrix unit's formats). Host<->device transfers
 * (upload/download) are not ops. */
typedef enum d1r_op_class {
    D1R_CLASS_MATMUL = 0,
    D1R_CLASS_ELEMENTWISE,
    D1R_CLASS_DATA_MOVEMENT,
    D1R_CLASS_COUNT
} d1r_op_class;

d1r_op_class d1r_op_class_of(d1r_op op);       /* D1R_CLASS_COUNT if op is not an op */
const char *d1r_op_class_name(d1r_op_class c); /* "matmul", "elementwise", "data movement" */

d1_status d1r_device_stats(const d1r_device *dev, d1r_op op, d1r_op_stats *out);
void d1r_device_stats_reset(d1r_device *dev);
/* One row per op that ran: op, backend that ran it ("<backend>", "cpu (fallback)" or
 * both), count, fallback count, total and mean time. */
void d1r_device_stats_print(const d1r_device *dev, FILE *f);

/* ---- tensors ---------------------------------------------------------------------------
 * Dense, row-major, shape[0] outermost. `bias`: 0..63 for CFP8 / CFP16-SHP, or
 * D1R_BIAS_AUTO; for fixed-bias dtypes 0 or the fixed bias (anything else D1_E_RANGE).
 * Contents start as zero bits. The device owns the tensor. */
d1_status d1r_tensor_create(d1r_device *dev, d1_dtype dtype, int ndim, const int64_t *shape,
                            int bias, d1r_tensor **out);
void d1r_tensor_destroy(d1r_tensor *t); /* NULL is a no-op */

d1r_device *d1r_tensor_device(const d1r_tensor *t);
d1_dtype d1r_tensor_dtype(const d1r_tensor *t);
int d1r_tensor_ndim(const d1r_tensor *t);
int64_t d1r_tensor_dim(const d1r_tensor *t, int i); /* 0 if i is out of range */
size_t d1r_tensor_nelems(const d1r_tensor *t);
size_t d1r_tensor_nbytes(const d1r_tensor *t);
int d1r_tensor_bias(const d1r_tensor *t); /* effective bias (after the last auto choice) */

/* Convert n FP32 values (n must equal the element count, else D1_E_SHAPE) to the tensor's
 * dtype with `mode`; stochastic rounding of element i uses d1_sr_bits(seed, i). Flags of the
 * conversion are OR-ed into *flags (may be NULL). INT32 tensors: D1_E_DTYPE. */
d1_status d1r_tensor_upload(d1r_tensor *t, const float *src, size_t n, d1_round mode, uint64_t seed,
                            unsigned *flags);
/* Decode the tensor to n FP32 values (exact). INT32 tensors: D1_E_DTYPE. */
d1_status d1r_tensor_download(const d1r_tensor *t, float *dst, size_t n);
/* Raw element codes, little-endian, d1r_tensor_nbytes() bytes (else D1_E_SHAPE). */
d1_status d1r_tensor_upload_raw(d1r_tensor *t, const void *src, size_t size_bytes);
d1_status d1r_tensor_download_raw(const d1r_tensor *t, void *dst, size_t size_bytes);

/* ---- ops -------------------------------------------------------------------------------
 * All tensors must belong to `dev`. Elementwise ops, reductions and the optimizer take FP32
 * tensors only (D1_E_DTYPE otherwise); matmul and cast take the formats listed below. An
 * output may be the same tensor as an input of the same shape for the elementwise ops
 * (relu, relu_backward, bias_add's X, scale, axpy, sgd, sgd_momentum's G,
 * softmax_xent_backward's X); two outputs of one op must differ; matmul's C must differ from
 * A and B, cast's Y from X, softmax_xent's loss from X (D1_E_INVAL). */

typedef struct d1r_matmul_opts {
    bool trans_a, trans_b; /* op(A) = A^T, op(B) = B^T */
    bool accumulate;       /* C = C + op(A) op(B) (summed onto C, see numerics.md) */
    d1_round round;        /* rounding of a BF16 C */
    uint64_t seed;         /* for stochastic rounding: element (i,j) uses index i*N + j */
} d1r_matmul_opts;

/* C[M,N] = op(A)[M,K] op(B)[K,N]. A, B: FP32, BF16, CFP8_143 or CFP8_152 (may differ).
 * C: FP32 or BF16. opts NULL: no transposes, overwrite, RNE. */
d1_status d1r_matmul(d1r_device *dev, const d1r_tensor *A, const d1r_tensor *B, d1r_tensor *C,
                     const d1r_matmul_opts *opts);
/* Y[R,C] = X[R,C] + b[C] (b added to every row). */
d1_status d1r_bias_add(d1r_device *dev, const d1r_tensor *X, const d1r_tensor *b, d1r_tensor *Y);
/* Y = max(X, 0) elementwise (see numerics.md for -0 and NaN). */
d1_status d1r_relu(d1r_device *dev, const d1r_tensor *X, d1r_tensor *Y);
/* dX = X > 0 ? dY : 0 elementwise. */
d1_status d1r_relu_backward(d1r_device *dev, const d1r_tensor *X, const d1r_tensor *dY,
                            d1r_tensor *dX);
/* loss[1] = mean over the B rows of X[B,C] of -log softmax(X)[label]; labels: INT32 [B],
 * each in 0..C-1 (else D1_E_RANGE). */
d1_status d1r_softmax_xent(d1r_device *dev, const d1r_tensor *X, const d1r_tensor *labels,
                           d1r_tensor *loss);
/* dX[B,C] = (softmax(X) - onehot(labels)) / B. */
d1_status d1r_softmax_xent_backward(d1r_device *dev, const d1r_tensor *X, const d1r_tensor *labels,
                                    d1r_tensor *dX);
/* y[R] = sum over columns of X[R,C];  y[C] = sum over rows of X[R,C]. */
d1_status d1r_row_sums(d1r_device *dev, const d1r_tensor *X, d1r_tensor *y);
d1_status d1r_col_sums(d1r_device *dev, const d1r_tensor *X, d1r_tensor *y);
/* Y = a*X;  Y = a*X + Y (one fused rounding). X and Y of the same shape. */
d1_status d1r_scale(d1r_device *dev, float a, const d1r_tensor *X, d1r_tensor *Y);
d1_status d1r_axpy(d1r_device *dev, float a, const d1r_tensor *X, d1r_tensor *Y);
/* Y = X converted to Y's dtype: X decoded to FP32 (exact), then encoded with `mode`
 * (stochastic: element i uses d1_sr_bits(seed, i)); a D1R_BIAS_AUTO Y first takes the bias
 * d1_fmt_choose_bias of the decoded X. Any float dtypes, same shape, Y != X. Conversion
 * flags are OR-ed into *flags (may be NULL). */
d1_status d1r_cast(d1r_device *dev, const d1r_tensor *X, d1r_tensor *Y, d1_round mode,
                   uint64_t seed, unsigned *flags);
/* idx[B] (INT32) = index of the largest element of each row of X[B,C]: the first one on
 * ties; NaN never wins unless the whole row is NaN (then 0). */
d1_status d1r_argmax(d1r_device *dev, const d1r_tensor *X, d1r_tensor *idx);
/* W -= lr*G;  with momentum: V = mu*V + G; W -= lr*V (W, G, V of one shape). */
d1_status d1r_sgd(d1r_device *dev, float lr, d1r_tensor *W, const d1r_tensor *G);
d1_status d1r_sgd_momentum(d1r_device *dev, float lr, float mu, d1r_tensor *W, const d1r_tensor *G,
                           d1r_tensor *V);

#endif
