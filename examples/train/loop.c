/* The training loop: epochs of shuffled minibatches, log rows with per-op device statistics,
 * evaluation on the test split. */
#include "loop.h"

#include "mnist.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void d1x_train_cfg_defaults(d1x_train_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->device = D1X_DEFAULT_DEVICE;
    cfg->data_dir = D1X_MNIST_DIR;
    cfg->synthetic_train = 4096;
    cfg->synthetic_test = 1024;
    cfg->nhidden = 1;
    cfg->hidden[0] = 512;
    cfg->dtype = D1_BF16;
    cfg->optim = D1X_OPTIM_MOMENTUM;
    cfg->lr = D1X_DEFAULT_LR;
    cfg->mu = 0.9f;
    cfg->schedule = D1X_LR_COSINE;
    cfg->batch = 128;
    cfg->epochs = 10;
    cfg->seed = 1;
    cfg->log_every = 100;
}

d1_dtype d1x_grad_dtype(d1_dtype dtype)
{
    return dtype == D1_CFP8_143 ? D1_CFP8_152 : dtype;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Everything the loop holds while it runs; released by run_fini. */
typedef struct run {
    const d1x_train_cfg *cfg;
    const d1x_train_hooks *hooks;
    d1x_train_result *res;
    d1r_device *dev;
    d1x_dataset train, test;
    d1x_mlp *mlp;
    size_t *perm;
    float *xb;
    int32_t *yb;
    size_t cap_logs, cap_epochs;
    uint64_t total_steps; /* planned: epochs * steps per epoch, or max_steps if fewer */
    float lr;             /* of the last step */
    /* interval bookkeeping */
    d1r_op_stats prev[D1R_OP_COUNT];
    uint64_t prev_xfer_ns, interval_steps;
    double interval_t0, interval_loss, epoch_loss, train_s;
} run;

static d1_status load_data(run *r)
{
    const d1x_train_cfg *c = r->cfg;
    d1_status st;
    if (c->synthetic) {
        if ((st = d1x_synthetic(c->seed, 0, c->synthetic_train, &r->train)) != D1_OK)
            return st;
        return d1x_synthetic(c->seed, 1, c->synthetic_test, &r->test);
    }
    if ((st = d1x_mnist_load(c->data_dir, "train", &r->train)) != D1_OK)
        return st;
    return d1x_mnist_load(c->data_dir, "test", &r->test);
}

static d1_status check_cfg(const d1x_train_cfg *c)
{
    if (!c->device || (!c->synthetic && !c->data_dir))
        return d1_fail(D1_E_INVAL, "train: no device or data directory");
    if (c->nhidden < 0 || c->nhidden > D1X_MLP_MAX_LAYERS - 1)
        return d1_fail(D1_E_INVAL, "train: %d hidden layers, at most %d", c->nhidden,
                       D1X_MLP_MAX_LAYERS - 1);
    if (c->batch < 1 || c->epochs < 1 || c->log_every < 1)
        return d1_fail(D1_E_INVAL, "train: batch, epochs and log interval must be positive");
    if (!(c->lr > 0.0f) || !(c->mu >= 0.0f && c->mu < 1.0f))
        return d1_fail(D1_E_INVAL, "train: need lr > 0 and momentum in [0, 1)");
    if (c->schedule != D1X_LR_CONST && c->schedule != D1X_LR_COSINE)
        return d1_fail(D1_E_INVAL, "train: %d is not a learning-rate schedule", (int)c->schedule);
    return D1_OK;
}

static d1_status grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return D1_OK;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return d1_fail(D1_E_NOMEM, "train: no memory for the run record");
    *p = q;
    *cap = n;
    return D1_OK;
}

static void stats_now(const run *r, d1r_op_stats *out)
{
    for (int op = 0; op < D1R_OP_COUNT; op++)
        if (d1r_device_stats(r->dev, (d1r_op)op, &out[op]) != D1_OK)
            memset(&out[op], 0, sizeof out[op]);
}

/* Close the current interval: a log row (if it has steps) and a fresh start. */
static d1_status log_row(run *r, int epoch)
{
    d1x_train_result *res = r->res;
    if (r->interval_steps == 0)
        return D1_OK;
    d1_status st = d1r_device_sync(r->dev);
    if (st != D1_OK)
        return st;
    double t = now_s(), dt = t - r->interval_t0;
    r->train_s += dt;
    if ((st = grow((void **)&res->logs, &r->cap_logs, res->nlogs + 1, sizeof *res->logs)) != D1_OK)
        return st;
    d1x_train_log *row = &res->logs[res->nlogs++];
    memset(row, 0, sizeof *row);
    row->step = res->steps;
    row->epoch = epoch;
    row->steps = r->interval_steps;
    row->samples = r->interval_steps * (uint64_t)r->cfg->batch;
    row->loss = (float)(r->interval_loss / (double)r->interval_steps);
    row->lr = r->lr;
    row->samples_per_s = dt > 0 ? (double)r->interval_steps * r->cfg->batch / dt : 0.0;
    row->wall_s = r->train_s;
    d1r_op_stats cur[D1R_OP_COUNT];
    stats_now(r, cur);
    for (int op = 0; op < D1R_OP_COUNT; op++) {
        row->op_ms[op] = (double)(cur[op].host_ns - r->prev[op].host_ns) / 1e6;
        row->op_count[op] = cur[op].count - r->prev[op].count;
        row->op_fallback[op] = cur[op].fallback_count - r->prev[op].fallback_count;
        double dev = (double)(cur[op].device_ns - r->prev[op].device_ns) / 1e6;
        row->op_dev_ms[op] = dev;
        row->dev_ms[d1r_op_class_of((d1r_op)op)] += dev;
        row->mxu_ops += cur[op].mxu_ops - r->prev[op].mxu_ops;
        row->mxu_slots += cur[op].mxu_slots - r->prev[op].mxu_slots;
    }
    uint64_t xfer = d1x_mlp_xfer_ns(r->mlp);
    row->xfer_ms = (double)(xfer - r->prev_xfer_ns) / 1e6;
    if (r->hooks && r->hooks->on_log)
        r->hooks->on_log(row, r->hooks->user);
    r->interval_steps = 0;
    r->interval_loss = 0.0;
    memcpy(r->prev, cur, sizeof cur);
    r->prev_xfer_ns = xfer;
    r->interval_t0 = now_s();
    return D1_OK;
}

/* Evaluate on the test split and record an epoch row; the time it takes is kept out of the
 * training intervals and the per-op deltas of the next log row. */
static d1_status evaluate(run *r, int epoch, uint64_t epoch_steps, double epoch_s)
{
    d1x_train_result *res = r->res;
    size_t correct = 0;
    double loss_sum = 0.0;
    d1_status st = d1x_mlp_evaluate(r->mlp, r->test.x, r->test.y, r->test.n, &correct, &loss_sum);
    if (st != D1_OK)
        return st;
    if ((st = grow((void **)&res->epochs, &r->cap_epochs, res->nepochs + 1, sizeof *res->epochs)) !=
        D1_OK)
        return st;
    d1x_train_epoch *ep = &res->epochs[res->nepochs++];
    ep->epoch = epoch;
    ep->step = res->steps;
    ep->train_loss = epoch_steps ? (float)(r->epoch_loss / (double)epoch_steps) : 0.0f;
    ep->wall_s = epoch_s;
    ep->test_acc = (double)correct / (double)r->test.n;
    ep->test_loss = loss_sum / (double)r->test.n;
    res->test_acc = ep->test_acc;
    res->test_loss = ep->test_loss;
    if (r->hooks && r->hooks->on_epoch)
        r->hooks->on_epoch(ep, r->hooks->user);
    stats_now(r, r->prev);
    r->prev_xfer_ns = d1x_mlp_xfer_ns(r->mlp);
    r->interval_t0 = now_s();
    return D1_OK;
}

static void shuffle(size_t *perm, size_t n, uint64_t seed, int epoch)
{
    uint64_t s = d1x_seed_mix(seed, 1000 + (uint64_t)epoch);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = d1x_below(s, i, (uint32_t)(i + 1));
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static float lr_at(const d1x_train_cfg *c, uint64_t step, uint64_t total)
{
    if (c->schedule == D1X_LR_CONST || total == 0)
        return c->lr;
    double f = 0.5 * (1.0 + cos(3.14159265358979323846 * (double)step / (double)total));
    return (float)((double)c->lr * f);
}

static d1_status train(run *r)
{
    const d1x_train_cfg *c = r->cfg;
    d1x_train_result *res = r->res;
    size_t b = (size_t)c->batch, dim = (size_t)r->train.dim;
    uint64_t per_epoch = r->train.n / b;
    d1_status st;
    r->interval_t0 = now_s();
    stats_now(r, r->prev);
    for (int epoch = 0; epoch < c->epochs; epoch++) {
        shuffle(r->perm, r->train.n, c->seed, epoch);
        double train_s0 = r->train_s;
        uint64_t done = 0;
        r->epoch_loss = 0.0;
        for (uint64_t k = 0; k < per_epoch; k++) {
            for (size_t i = 0; i < b; i++) {
                size_t src = r->perm[k * b + i];
                memcpy(r->xb + i * dim, r->train.x + src * dim, dim * sizeof *r->xb);
                r->yb[i] = r->train.y[src];
            }
            float loss = 0.0f;
            r->lr = lr_at(c, res->steps, r->total_steps);
            st =
                d1x_mlp_train_step(r->mlp, r->xb, r->yb, res->steps, c->optim, r->lr, c->mu, &loss);
            if (st != D1_OK)
                return st;
            res->losses[res->steps++] = loss;
            r->interval_loss += loss;
            r->epoch_loss += loss;
            r->interval_steps++;
            done++;
            bool stop = c->max_steps && res->steps >= c->max_steps;
            if (res->steps % (uint64_t)c->log_every == 0 || stop || k + 1 == per_epoch)
                if ((st = log_row(r, epoch)) != D1_OK)
                    return st;
            if (stop)
                return evaluate(r, epoch, done, r->train_s - train_s0);
        }
        if ((st = evaluate(r, epoch, done, r->train_s - train_s0)) != D1_OK)
            return st;
    }
    return D1_OK;
}

static void run_fini(run *r)
{
    d1x_mlp_destroy(r->mlp);
    d1r_device_close(r->dev);
    d1x_dataset_fini(&r->train);
    d1x_dataset_fini(&r->test);
    free(r->perm);
    free(r->xb);
    free(r->yb);
}

d1_status d1x_train_run(const d1x_train_cfg *cfg, const d1x_train_hooks *hooks,
                        d1x_train_result *res)
{
    if (!cfg || !res)
        return d1_fail(D1_E_INVAL, "train: NULL argument");
    memset(res, 0, sizeof *res);
    d1_status st = check_cfg(cfg);
    if (st != D1_OK)
        return st;
    run r = {.cfg = cfg, .hooks = hooks, .res = res};
    /* The device first: an unavailable device fails before seconds of data loading. */
    if ((st = d1r_device_open(cfg->device, &r.dev)) != D1_OK)
        return st;
    snprintf(res->backend, sizeof res->backend, "%s", d1r_device_backend_name(r.dev));
    if ((st = load_data(&r)) != D1_OK)
        goto out;
    res->ntrain = r.train.n;
    res->ntest = r.test.n;
    size_t b = (size_t)cfg->batch;
    if (b > r.train.n) {
        st = d1_fail(D1_E_INVAL, "train: batch %zu larger than the training set (%zu)", b,
                     r.train.n);
        goto out;
    }
    d1x_mlp_cfg mc = {.nlayers = cfg->nhidden + 1,
                      .dtype = cfg->dtype,
                      .grad_dtype = d1x_grad_dtype(cfg->dtype),
                      .sr = cfg->sr,
                      .seed = cfg->seed,
                      .batch = cfg->batch};
    mc.dims[0] = r.train.dim;
    for (int i = 0; i < cfg->nhidden; i++)
        mc.dims[i + 1] = cfg->hidden[i];
    mc.dims[cfg->nhidden + 1] = r.train.nclasses;
    if ((st = d1x_mlp_create(r.dev, &mc, &r.mlp)) != D1_OK)
        goto out;

    uint64_t total = (uint64_t)(r.train.n / b) * (uint64_t)cfg->epochs;
    if (cfg->max_steps && cfg->max_steps < total)
        total = cfg->max_steps;
    r.total_steps = total;
    r.perm = malloc(r.train.n * sizeof *r.perm);
    r.xb = malloc(b * (size_t)r.train.dim * sizeof *r.xb);
    r.yb = malloc(b * sizeof *r.yb);
    res->losses = malloc((total ? total : 1) * sizeof *res->losses);
    if (!r.perm || !r.xb || !r.yb || !res->losses) {
        st = d1_fail(D1_E_NOMEM, "train: no memory for batches");
        goto out;
    }
    if (hooks && hooks->on_ready)
        hooks->on_ready(res, hooks->user);
    d1r_device_stats_reset(r.dev);
    if ((st = train(&r)) != D1_OK)
        goto out;
    res->train_wall_s = r.train_s;
    stats_now(&r, res->op_total);
    res->xfer_ns = d1x_mlp_xfer_ns(r.mlp);
    res->cast_flags = d1x_mlp_cast_flags(r.mlp);
    if (cfg->keep_params) {
        res->nparams = d1x_mlp_nparams(r.mlp);
        res->params = malloc(res->nparams * sizeof *res->params);
        if (!res->params)
            st = d1_fail(D1_E_NOMEM, "train: no memory for %zu parameters", res->nparams);
        else
            st = d1x_mlp_params_download(r.mlp, res->params, res->nparams);
    }
out:
    run_fini(&r);
    return st;
}

void d1x_train_result_fini(d1x_train_result *res)
{
    if (!res)
        return;
    free(res->losses);
    free(res->logs);
    free(res->epochs);
    free(res->params);
    memset(res, 0, sizeof *res);
}
