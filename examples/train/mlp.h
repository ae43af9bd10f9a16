/* The model of the training example: a multi-layer perceptron (ReLU hidden layers, softmax
 * cross-entropy) whose parameters, activations and gradients all live on a d1r device, and
 * whose every step is a sequence of d1r ops -- the same code runs on any backend.
 *
 * Layer l (0-based) maps dims[l] -> dims[l+1] with W_l [dims[l], dims[l+1]] and b_l:
 *
 *   forward   Z_l = in_l . W_l + b_l;  H_l = relu(Z_l) (hidden layers);  loss = xent(Z_L-1)
 *   backward  G_L-1 = dxent;  dW_l = in_l^T . G_l;  db_l = colsum(G_l);
 *             G_l-1 = relu'(H_l-1) * (G_l . W_l^T)
 *   update    W -= lr * dW (sgd)  or  V = mu V + dW; W -= lr V (momentum), same for b
 *
 * Precision: master weights, biases, Z/H, G and the optimizer state are FP32. The matmul
 * operands are cast each step to `dtype` (inputs, weights, hidden activations) and to
 * `grad_dtype` (G), CFP8 tensors with a per-tensor bias chosen from the data at each cast
 * (d1_fmt_choose_bias). With `sr`, the casts of weights, activations and gradients round
 * stochastically with seed d1x_seed_mix(seed', step * 64 + tensor) (inputs always RNE). */
#ifndef D1X_MLP_H
#define D1X_MLP_H

#include "runtime/d1r.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define D1X_MLP_MAX_LAYERS 8 /* weight layers */

typedef struct d1x_mlp d1x_mlp;

typedef struct d1x_mlp_cfg {
    int nlayers;                      /* weight layers, 1..D1X_MLP_MAX_LAYERS */
    int dims[D1X_MLP_MAX_LAYERS + 1]; /* dims[0] inputs, ..., dims[nlayers] classes */
    d1_dtype dtype;                   /* D1_FP32, D1_BF16 or D1_CFP8_143 (any matmul input) */
    d1_dtype grad_dtype;              /* the same set, D1_CFP8_152 too */
    bool sr;                          /* stochastic rounding of the casts */
    uint64_t seed;                    /* Glorot-uniform init and SR seeds */
    int batch;                        /* training batch size */
} d1x_mlp_cfg;

typedef enum d1x_optim { D1X_OPTIM_SGD, D1X_OPTIM_MOMENTUM } d1x_optim;

/* Create the model on dev (borrowed: must outlive the model) with Glorot-uniform weights
 * and zero biases. Errors: D1_E_INVAL (bad cfg), the device's codes (NOMEM, ...). */
d1_status d1x_mlp_create(d1r_device *dev, const d1x_mlp_cfg *cfg, d1x_mlp **out);
void d1x_mlp_destroy(d1x_mlp *m); /* NULL is a no-op */

/* One optimizer step on one batch: x [batch, dims[0]] and y [batch] (0..classes-1) on the
 * host (uploaded as the step's input). step numbers the SR seeds. *loss: the batch's mean
 * loss (downloaded). */
d1_status d1x_mlp_train_step(d1x_mlp *m, const float *x, const int32_t *y, uint64_t step,
                             d1x_optim optim, float lr, float mu, float *loss);

/* Forward pass over n samples (in chunks of up to 1000) with RNE casts: *correct = number
 * of rows whose largest logit (first on ties) is the label, *loss_sum = sum of per-sample
 * losses. */
d1_status d1x_mlp_evaluate(d1x_mlp *m, const float *x, const uint8_t *y, size_t n, size_t *correct,
                           double *loss_sum);

/* All FP32 master parameters, W_0, b_0, W_1, b_1, ... (n must be d1x_mlp_nparams). */
size_t d1x_mlp_nparams(const d1x_mlp *m);
d1_status d1x_mlp_params_download(const d1x_mlp *m, float *dst, size_t n);

/* Host wall time spent in uploads/downloads (inputs, labels, loss, predictions), and the OR
 * of the conversion flags of every cast and input conversion. */
uint64_t d1x_mlp_xfer_ns(const d1x_mlp *m);
unsigned d1x_mlp_cast_flags(const d1x_mlp *m);

#endif
