/* MLP on a d1r device: parameters, per-batch-size workspaces, the training step and the
 * evaluation pass. Only d1r calls touch the device. */
#include "mlp.h"

#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVAL_CHUNK 1000

/* Tags of the tensors whose casts get their own SR stream (seed per step and tag). */
enum { TAG_W = 1, TAG_H = 16, TAG_G = 32, TAGS_PER_STEP = 64 };

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        d1_status try_st_ = (expr);                                                                \
        if (try_st_ != D1_OK)                                                                      \
            return try_st_;                                                                        \
    } while (0)

/* Tensors that depend on the batch size. zq/gq are NULL when their dtype is FP32 (the FP32
 * tensor is used directly); g/gq exist in the training workspace only. */
typedef struct workspace {
    int batch;
    d1r_tensor *x;                      /* [B, d0] dtype: the input */
    d1r_tensor *labels;                 /* int32 [B] */
    d1r_tensor *loss;                   /* fp32 [1] */
    d1r_tensor *pred;                   /* int32 [B]: argmax of the logits (evaluation) */
    d1r_tensor *z[D1X_MLP_MAX_LAYERS];  /* fp32 [B, d_l+1]: Z, then H = relu(Z) in place */
    d1r_tensor *zq[D1X_MLP_MAX_LAYERS]; /* dtype copy of H_l (hidden layers) */
    d1r_tensor *g[D1X_MLP_MAX_LAYERS];  /* fp32 [B, d_l+1]: dLoss/dZ_l */
    d1r_tensor *gq[D1X_MLP_MAX_LAYERS]; /* grad_dtype copy of G_l */
} workspace;

struct d1x_mlp {
    d1r_device *dev;
    d1x_mlp_cfg cfg;
    uint64_t sr_seed;
    d1r_tensor *w[D1X_MLP_MAX_LAYERS], *b[D1X_MLP_MAX_LAYERS];
    d1r_tensor *wq[D1X_MLP_MAX_LAYERS]; /* dtype copy of W (NULL for FP32) */
    d1r_tensor *dw[D1X_MLP_MAX_LAYERS], *db[D1X_MLP_MAX_LAYERS];
    d1r_tensor *vw[D1X_MLP_MAX_LAYERS], *vb[D1X_MLP_MAX_LAYERS]; /* momentum */
    workspace train, eval, eval_rest;
    float *host;   /* scratch for initial weights and downloads */
    size_t host_n; /* floats */
    int32_t *host_labels;
    uint64_t xfer_ns;
    unsigned cast_flags;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static d1_status tensor2(d1r_device *dev, d1_dtype t, int64_t r, int64_t c, d1r_tensor **out)
{
    bool cfg_bias = d1_fmt(t) && d1_fmt(t)->fixed_bias < 0;
    return d1r_tensor_create(dev, t, 2, (int64_t[]){r, c}, cfg_bias ? D1R_BIAS_AUTO : 0, out);
}

static d1_status tensor1(d1r_device *dev, d1_dtype t, int64_t n, d1r_tensor **out)
{
    return d1r_tensor_create(dev, t, 1, (int64_t[]){n}, 0, out);
}

/* ---- host scratch and casts -------------------------------------------------------------- */

static d1_status ensure_host(d1x_mlp *m, size_t n)
{
    if (n <= m->host_n)
        return D1_OK;
    float *p = realloc(m->host, n * sizeof *p);
    if (!p)
        return d1_fail(D1_E_NOMEM, "mlp: no memory for %zu floats of host scratch", n);
    m->host = p;
    m->host_n = n;
    return D1_OK;
}

/* dst = convert(src) with mode/seed on the device; a CFP8 dst (D1R_BIAS_AUTO) chooses its
 * bias from the data at each cast. */
static d1_status cast(d1x_mlp *m, const d1r_tensor *src, d1r_tensor *dst, d1_round mode,
                      uint64_t seed)
{
    return d1r_cast(m->dev, src, dst, mode, seed, &m->cast_flags);
}

static uint64_t cast_seed(const d1x_mlp *m, uint64_t step, int tag)
{
    return d1x_seed_mix(m->sr_seed, step * TAGS_PER_STEP + (uint64_t)tag);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static void ws_fini(workspace *ws)
{
    d1r_tensor_destroy(ws->x);
    d1r_tensor_destroy(ws->labels);
    d1r_tensor_destroy(ws->loss);
    d1r_tensor_destroy(ws->pred);
    for (int l = 0; l < D1X_MLP_MAX_LAYERS; l++) {
        d1r_tensor_destroy(ws->z[l]);
        d1r_tensor_destroy(ws->zq[l]);
        d1r_tensor_destroy(ws->g[l]);
        d1r_tensor_destroy(ws->gq[l]);
    }
    memset(ws, 0, sizeof *ws);
}

static d1_status ws_init(d1x_mlp *m, workspace *ws, int batch, bool train)
{
    const d1x_mlp_cfg *c = &m->cfg;
    d1_status st;
    memset(ws, 0, sizeof *ws);
    ws->batch = batch;
    if ((st = tensor2(m->dev, c->dtype, batch, c->dims[0], &ws->x)) != D1_OK ||
        (st = tensor1(m->dev, D1R_INT32, batch, &ws->labels)) != D1_OK ||
        (st = tensor1(m->dev, D1_FP32, 1, &ws->loss)) != D1_OK)
        goto undo;
    if (!train && (st = tensor1(m->dev, D1R_INT32, batch, &ws->pred)) != D1_OK)
        goto undo;
    for (int l = 0; l < c->nlayers; l++) {
        int d = c->dims[l + 1];
        bool hidden = l + 1 < c->nlayers;
        if ((st = tensor2(m->dev, D1_FP32, batch, d, &ws->z[l])) != D1_OK)
            goto undo;
        if (hidden && c->dtype != D1_FP32 &&
            (st = tensor2(m->dev, c->dtype, batch, d, &ws->zq[l])) != D1_OK)
            goto undo;
        if (!train)
            continue;
        if ((st = tensor2(m->dev, D1_FP32, batch, d, &ws->g[l])) != D1_OK)
            goto undo;
        if (c->grad_dtype != D1_FP32 &&
            (st = tensor2(m->dev, c->grad_dtype, batch, d, &ws->gq[l])) != D1_OK)
            goto undo;
    }
    return D1_OK;
undo:
    ws_fini(ws);
    return st;
}

static bool mm_dtype(d1_dtype t, bool grad)
{
    return t == D1_FP32 || t == D1_BF16 || t == D1_CFP8_143 || (grad && t == D1_CFP8_152);
}

static d1_status init_weights(d1x_mlp *m)
{
    for (int l = 0; l < m->cfg.nlayers; l++) {
        int fan_in = m->cfg.dims[l], fan_out = m->cfg.dims[l + 1];
        size_t n = (size_t)fan_in * (size_t)fan_out;
        TRY(ensure_host(m, n));
        /* Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)). */
        float a = sqrtf(6.0f / (float)(fan_in + fan_out));
        uint64_t s = d1x_seed_mix(m->cfg.seed, 100 + (uint64_t)l);
        for (size_t i = 0; i < n; i++)
            m->host[i] = (2.0f * d1x_uniform(s, i) - 1.0f) * a;
        /* Initial weights are host data like a checkpoint; biases start as zero bits. */
        TRY(d1r_tensor_upload(m->w[l], m->host, n, D1_ROUND_RNE, 0, NULL));
    }
    return D1_OK;
}

d1_status d1x_mlp_create(d1r_device *dev, const d1x_mlp_cfg *cfg, d1x_mlp **out)
{
    if (!dev || !cfg || !out)
        return d1_fail(D1_E_INVAL, "mlp: NULL argument");
    if (cfg->nlayers < 1 || cfg->nlayers > D1X_MLP_MAX_LAYERS)
        return d1_fail(D1_E_INVAL, "mlp: %d layers, expected 1..%d", cfg->nlayers,
                       D1X_MLP_MAX_LAYERS);
    for (int l = 0; l <= cfg->nlayers; l++)
        if (cfg->dims[l] < 1)
            return d1_fail(D1_E_INVAL, "mlp: layer width %d must be positive", cfg->dims[l]);
    if (cfg->batch < 1)
        return d1_fail(D1_E_INVAL, "mlp: batch %d must be positive", cfg->batch);
    if (!mm_dtype(cfg->dtype, false) || !mm_dtype(cfg->grad_dtype, true))
        return d1_fail(D1_E_DTYPE, "mlp: matmul dtypes must be fp32, bf16 or cfp8");

    d1x_mlp *m = calloc(1, sizeof *m);
    if (!m)
        return d1_fail(D1_E_NOMEM, "mlp: no memory");
    m->dev = dev;
    m->cfg = *cfg;
    m->sr_seed = d1x_seed_mix(cfg->seed, 0x5352); /* "SR" */
    d1_status st;
    for (int l = 0; l < cfg->nlayers; l++) {
        int64_t r = cfg->dims[l], c = cfg->dims[l + 1];
        if ((st = tensor2(dev, D1_FP32, r, c, &m->w[l])) != D1_OK ||
            (st = tensor1(dev, D1_FP32, c, &m->b[l])) != D1_OK ||
            (st = tensor2(dev, D1_FP32, r, c, &m->dw[l])) != D1_OK ||
            (st = tensor1(dev, D1_FP32, c, &m->db[l])) != D1_OK ||
            (st = tensor2(dev, D1_FP32, r, c, &m->vw[l])) != D1_OK ||
            (st = tensor1(dev, D1_FP32, c, &m->vb[l])) != D1_OK)
            goto destroy;
        if (cfg->dtype != D1_FP32 && (st = tensor2(dev, cfg->dtype, r, c, &m->wq[l])) != D1_OK)
            goto destroy;
    }
    if ((st = ws_init(m, &m->train, cfg->batch, true)) != D1_OK)
        goto destroy;
    if ((st = init_weights(m)) != D1_OK)
        goto destroy;
    *out = m;
    return D1_OK;
destroy:
    d1x_mlp_destroy(m);
    return st;
}

void d1x_mlp_destroy(d1x_mlp *m)
{
    if (!m)
        return;
    ws_fini(&m->train);
    ws_fini(&m->eval);
    ws_fini(&m->eval_rest);
    for (int l = 0; l < D1X_MLP_MAX_LAYERS; l++) {
        d1r_tensor_destroy(m->w[l]);
        d1r_tensor_destroy(m->b[l]);
        d1r_tensor_destroy(m->wq[l]);
        d1r_tensor_destroy(m->dw[l]);
        d1r_tensor_destroy(m->db[l]);
        d1r_tensor_destroy(m->vw[l]);
        d1r_tensor_destroy(m->vb[l]);
    }
    free(m->host);
    free(m->host_labels);
    free(m);
}

/* ---- steps -------------------------------------------------------------------------------- */

/* The matmul operand for layer l's weights / input. */
static const d1r_tensor *w_op(const d1x_mlp *m, int l)
{
    return m->wq[l] ? m->wq[l] : m->w[l];
}

static const d1r_tensor *in_op(const workspace *ws, int l)
{
    if (l == 0)
        return ws->x;
    return ws->zq[l - 1] ? ws->zq[l - 1] : ws->z[l - 1];
}

static d1_status upload_batch(d1x_mlp *m, workspace *ws, const float *x, const int32_t *y)
{
    size_t b = (size_t)ws->batch;
    uint64_t t0 = now_ns();
    /* Inputs are converted once, RNE (the data set itself, not a training-time cast). */
    TRY(d1r_tensor_upload(ws->x, x, b * (size_t)m->cfg.dims[0], D1_ROUND_RNE, 0, &m->cast_flags));
    unsigned char *raw = malloc(b * 4);
    if (!raw)
        return d1_fail(D1_E_NOMEM, "mlp: no memory for %zu labels", b);
    for (size_t i = 0; i < b; i++) { /* INT32 tensors are little-endian */
        uint32_t v = (uint32_t)y[i];
        raw[4 * i] = (unsigned char)v;
        raw[4 * i + 1] = (unsigned char)(v >> 8);
        raw[4 * i + 2] = (unsigned char)(v >> 16);
        raw[4 * i + 3] = (unsigned char)(v >> 24);
    }
    d1_status st = d1r_tensor_upload_raw(ws->labels, raw, b * 4);
    free(raw);
    m->xfer_ns += now_ns() - t0;
    return st;
}

static d1_status cast_weights(d1x_mlp *m, d1_round mode, uint64_t step)
{
    for (int l = 0; l < m->cfg.nlayers; l++)
        if (m->wq[l])
            TRY(cast(m, m->w[l], m->wq[l], mode, cast_seed(m, step, TAG_W + l)));
    return D1_OK;
}

/* Logits in ws->z[L-1]; loss in ws->loss. */
static d1_status forward(d1x_mlp *m, workspace *ws, d1_round mode, uint64_t step)
{
    for (int l = 0; l < m->cfg.nlayers; l++) {
        TRY(d1r_matmul(m->dev, in_op(ws, l), w_op(m, l), ws->z[l], NULL));
        TRY(d1r_bias_add(m->dev, ws->z[l], m->b[l], ws->z[l]));
        if (l + 1 < m->cfg.nlayers) {
            TRY(d1r_relu(m->dev, ws->z[l], ws->z[l]));
            if (ws->zq[l])
                TRY(cast(m, ws->z[l], ws->zq[l], mode, cast_seed(m, step, TAG_H + l)));
        }
    }
    return d1r_softmax_xent(m->dev, ws->z[m->cfg.nlayers - 1], ws->labels, ws->loss);
}

static d1_status backward(d1x_mlp *m, workspace *ws, d1_round mode, uint64_t step)
{
    int last = m->cfg.nlayers - 1;
    TRY(d1r_softmax_xent_backward(m->dev, ws->z[last], ws->labels, ws->g[last]));
    for (int l = last; l >= 0; l--) {
        const d1r_tensor *g = ws->g[l];
        if (ws->gq[l]) {
            TRY(cast(m, ws->g[l], ws->gq[l], mode, cast_seed(m, step, TAG_G + l)));
            g = ws->gq[l];
        }
        TRY(d1r_matmul(m->dev, in_op(ws, l), g, m->dw[l], &(d1r_matmul_opts){.trans_a = true}));
        TRY(d1r_col_sums(m->dev, ws->g[l], m->db[l]));
        if (l > 0) {
            TRY(d1r_matmul(m->dev, g, w_op(m, l), ws->g[l - 1],
                           &(d1r_matmul_opts){.trans_b = true}));
            /* H > 0 exactly where Z > 0, so the post-ReLU tensor serves as the mask. */
            TRY(d1r_relu_backward(m->dev, ws->z[l - 1], ws->g[l - 1], ws->g[l - 1]));
        }
    }
    return D1_OK;
}

static d1_status update(d1x_mlp *m, d1x_optim optim, float lr, float mu)
{
    for (int l = 0; l < m->cfg.nlayers; l++) {
        if (optim == D1X_OPTIM_MOMENTUM) {
            TRY(d1r_sgd_momentum(m->dev, lr, mu, m->w[l], m->dw[l], m->vw[l]));
            TRY(d1r_sgd_momentum(m->dev, lr, mu, m->b[l], m->db[l], m->vb[l]));
        } else {
            TRY(d1r_sgd(m->dev, lr, m->w[l], m->dw[l]));
            TRY(d1r_sgd(m->dev, lr, m->b[l], m->db[l]));
        }
    }
    return D1_OK;
}

d1_status d1x_mlp_train_step(d1x_mlp *m, const float *x, const int32_t *y, uint64_t step,
                             d1x_optim optim, float lr, float mu, float *loss)
{
    if (!m || !x || !y || !loss)
        return d1_fail(D1_E_INVAL, "mlp: NULL argument");
    if (optim != D1X_OPTIM_SGD && optim != D1X_OPTIM_MOMENTUM)
        return d1_fail(D1_E_INVAL, "mlp: %d is not an optimizer", (int)optim);
    d1_round mode = m->cfg.sr ? D1_ROUND_STOCHASTIC : D1_ROUND_RNE;
    TRY(upload_batch(m, &m->train, x, y));
    TRY(cast_weights(m, mode, step));
    TRY(forward(m, &m->train, mode, step));
    TRY(backward(m, &m->train, mode, step));
    TRY(update(m, optim, lr, mu));
    uint64_t t0 = now_ns();
    TRY(d1r_tensor_download(m->train.loss, loss, 1));
    m->xfer_ns += now_ns() - t0;
    return D1_OK;
}

/* Predictions come from d1r_argmax on the device; only the B indices are downloaded and
 * compared with the labels on the host (a count over B integers). */
static d1_status eval_chunk(d1x_mlp *m, workspace *ws, const float *x, const int32_t *y,
                            size_t *correct, double *loss_sum)
{
    size_t b = (size_t)ws->batch;
    TRY(upload_batch(m, ws, x, y));
    TRY(forward(m, ws, D1_ROUND_RNE, 0));
    TRY(d1r_argmax(m->dev, ws->z[m->cfg.nlayers - 1], ws->pred));
    TRY(ensure_host(m, b));
    float loss = 0.0f;
    uint64_t t0 = now_ns();
    unsigned char *raw = (unsigned char *)m->host; /* b int32 fit in b floats */
    TRY(d1r_tensor_download_raw(ws->pred, raw, b * 4));
    TRY(d1r_tensor_download(ws->loss, &loss, 1));
    m->xfer_ns += now_ns() - t0;
    for (size_t i = 0; i < b; i++) { /* INT32 tensors are little-endian */
        uint32_t v = (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
                     (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
        *correct += (int32_t)v == y[i];
    }
    *loss_sum += (double)loss * (double)b;
    return D1_OK;
}

static d1_status eval_ws(d1x_mlp *m, workspace *ws, int batch)
{
    if (ws->batch == batch)
        return D1_OK;
    ws_fini(ws);
    return ws_init(m, ws, batch, false);
}

d1_status d1x_mlp_evaluate(d1x_mlp *m, const float *x, const uint8_t *y, size_t n, size_t *correct,
                           double *loss_sum)
{
    if (!m || !x || !y || !correct || !loss_sum || n == 0)
        return d1_fail(D1_E_INVAL, "mlp: NULL argument or no samples to evaluate");
    *correct = 0;
    *loss_sum = 0.0;
    size_t chunk = n < EVAL_CHUNK ? n : EVAL_CHUNK, d0 = (size_t)m->cfg.dims[0];
    free(m->host_labels);
    m->host_labels = malloc(chunk * sizeof *m->host_labels);
    if (!m->host_labels)
        return d1_fail(D1_E_NOMEM, "mlp: no memory for %zu labels", chunk);
    TRY(cast_weights(m, D1_ROUND_RNE, 0));
    for (size_t i = 0; i < n; i += chunk) {
        size_t b = n - i < chunk ? n - i : chunk;
        workspace *ws = b == chunk ? &m->eval : &m->eval_rest;
        TRY(eval_ws(m, ws, (int)b));
        for (size_t k = 0; k < b; k++)
            m->host_labels[k] = y[i + k];
        TRY(eval_chunk(m, ws, x + i * d0, m->host_labels, correct, loss_sum));
    }
    return D1_OK;
}

size_t d1x_mlp_nparams(const d1x_mlp *m)
{
    size_t n = 0;
    for (int l = 0; m && l < m->cfg.nlayers; l++)
        n += d1r_tensor_nelems(m->w[l]) + d1r_tensor_nelems(m->b[l]);
    return n;
}

d1_status d1x_mlp_params_download(const d1x_mlp *m, float *dst, size_t n)
{
    if (!m || !dst)
        return d1_fail(D1_E_INVAL, "mlp: NULL argument");
    if (n != d1x_mlp_nparams(m))
        return d1_fail(D1_E_SHAPE, "mlp: room for %zu parameters, model has %zu", n,
                       d1x_mlp_nparams(m));
    for (int l = 0; l < m->cfg.nlayers; l++) {
        size_t nw = d1r_tensor_nelems(m->w[l]), nb = d1r_tensor_nelems(m->b[l]);
        TRY(d1r_tensor_download(m->w[l], dst, nw));
        TRY(d1r_tensor_download(m->b[l], dst + nw, nb));
        dst += nw + nb;
    }
    return D1_OK;
}

uint64_t d1x_mlp_xfer_ns(const d1x_mlp *m)
{
    return m ? m->xfer_ns : 0;
}
unsigned d1x_mlp_cast_flags(const d1x_mlp *m)
{
    return m ? m->cast_flags : 0;
}
