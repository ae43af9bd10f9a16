/* The training loop: open the device, load the data, build the MLP, run minibatch SGD for
 * some epochs (or steps), evaluate on the test split, and collect what the output module
 * writes. Talks to the device only through d1r (via mlp.h); knows nothing of files or of
 * the command line. */
#ifndef D1X_LOOP_H
#define D1X_LOOP_H

#include "mlp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Learning rate over the run: constant, or cosine decay from lr to 0 over the planned steps
 * (lr_t = lr * (1 + cos(pi * t / T)) / 2 for step t = 0..T-1). */
typedef enum d1x_lr_schedule { D1X_LR_CONST, D1X_LR_COSINE } d1x_lr_schedule;

typedef struct d1x_train_cfg {
    const char *device;   /* d1r device spec: cpu, sim, sim:chip, sim:tile, sim:<config> */
    const char *data_dir; /* Fashion-MNIST IDX files (ignored when synthetic) */
    bool synthetic;       /* d1x_synthetic data instead of Fashion-MNIST */
    size_t synthetic_train, synthetic_test; /* sizes of the synthetic splits */
    int nhidden;                            /* hidden layers, 0..D1X_MLP_MAX_LAYERS-1 */
    int hidden[D1X_MLP_MAX_LAYERS - 1];     /* their widths */
    d1_dtype dtype;                         /* D1_FP32, D1_BF16, D1_CFP8_143 */
    bool sr;                                /* stochastic rounding of the casts */
    d1x_optim optim;
    float lr, mu;
    d1x_lr_schedule schedule;
    int batch; /* samples per step; the last partial batch of an epoch is dropped */
    int epochs;
    uint64_t max_steps; /* stop after this many steps (0: no limit) */
    uint64_t seed;      /* init, shuffles, SR; synthetic data */
    int log_every;      /* steps between log rows (the last step always gets one) */
    bool keep_params;   /* download the final master parameters into the result */
} d1x_train_cfg;

/* Defaults: sim:tile (D1X_DEFAULT_DEVICE), 784-512-10, bf16, momentum 0.9, lr D1X_DEFAULT_LR
 * with cosine decay, batch 128, 10 epochs, seed 1, log every 100 steps, synthetic sizes
 * 4096/1024. */
#define D1X_DEFAULT_LR 0.05f
#define D1X_DEFAULT_DEVICE "sim:tile"
void d1x_train_cfg_defaults(d1x_train_cfg *cfg);

/* Grad dtype used with a given operand dtype: CFP8 1-4-3 operands get 1-5-2 gradients
 * (wider range); others use the same dtype. */
d1_dtype d1x_grad_dtype(d1_dtype dtype);

/* One log row: the interval since the previous row. */
typedef struct d1x_train_log {
    uint64_t step;                      /* steps done so far */
    int epoch;                          /* 0-based epoch of the last step */
    uint64_t steps;                     /* steps in the interval */
    uint64_t samples;                   /* training samples in the interval */
    float loss;                         /* mean training loss over the interval */
    float lr;                           /* learning rate of the interval's last step */
    double samples_per_s;               /* host wall clock, training steps only */
    double wall_s;                      /* training wall time since the start */
    double op_ms[D1R_OP_COUNT];         /* d1r per-op host time in the interval */
    uint64_t op_count[D1R_OP_COUNT];    /* d1r per-op runs in the interval */
    uint64_t op_fallback[D1R_OP_COUNT]; /* of which CPU fallbacks */
    double xfer_ms;                     /* host time in uploads/downloads in the interval */
    /* What the device models (all 0 on a device without modelled time, e.g. cpu): simulated
     * time of the interval's ops, per op and per op class (d1r_op_class_of), and the
     * matrix-unit issue count and slots (utilisation = mxu_ops / mxu_slots). */
    double op_dev_ms[D1R_OP_COUNT];
    double dev_ms[D1R_CLASS_COUNT];
    uint64_t mxu_ops, mxu_slots;
} d1x_train_log;

typedef struct d1x_train_epoch {
    int epoch;        /* 0-based */
    uint64_t step;    /* steps done at its end */
    float train_loss; /* mean over its steps */
    double wall_s;    /* wall time of its training steps (evaluation excluded) */
    double test_acc, test_loss;
} d1x_train_epoch;

typedef struct d1x_train_result {
    char backend[32];
    size_t ntrain, ntest;
    uint64_t steps;
    float *losses; /* per step, `steps` values */
    d1x_train_log *logs;
    size_t nlogs;
    d1x_train_epoch *epochs; /* one per evaluation (end of epoch, or early stop) */
    size_t nepochs;
    double test_acc, test_loss;          /* the final evaluation */
    double train_wall_s;                 /* training steps only */
    d1r_op_stats op_total[D1R_OP_COUNT]; /* whole run, evaluation included */
    uint64_t xfer_ns;
    unsigned cast_flags;
    float *params; /* keep_params: the final FP32 parameters, W_0, b_0, W_1, ... */
    size_t nparams;
} d1x_train_result;

/* Called after each log row / evaluation (may be NULL). */
typedef struct d1x_train_hooks {
    void (*on_log)(const d1x_train_log *row, void *user);
    void (*on_epoch)(const d1x_train_epoch *ep, void *user);
    void (*on_ready)(const d1x_train_result *res, void *user); /* data loaded, model built */
    void *user;
} d1x_train_hooks;

/* Run the whole training. *res is filled (also partially on failure: free it with
 * d1x_train_result_fini in every case). Errors: the device's (D1_E_INVAL for a bad spec,
 * config errors of a sim:<file>), the data
 * loader's (mnist.h), D1_E_INVAL for a bad cfg (batch larger than the training set, ...). */
d1_status d1x_train_run(const d1x_train_cfg *cfg, const d1x_train_hooks *hooks,
                        d1x_train_result *res);
void d1x_train_result_fini(d1x_train_result *res);

#endif
