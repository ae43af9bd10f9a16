/* Devices, tensors, the op dispatcher (argument checks once, supports() or CPU fallback)
 * and per-op statistics. */
#include "backend.h"
#include "sim/sim_backend.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct d1r_device {
    char name[64];
    d1r_backend be;  /* the backend ops are issued to */
    d1r_backend cpu; /* always present: the fallback */
    d1r_tensor *tensors;
    d1r_op_stats stats[D1R_OP_COUNT];
};

typedef d1_status (*check_fn)(const d1r_op_args *a);

typedef struct op_info {
    const char *name;
    int ntensors;
    unsigned outmask;
    const char *operands; /* "A,B,C" */
    check_fn check;
} op_info;

#define D1R_OP(sym, name, ntensors, outmask, operands)                                             \
    static d1_status check_##name(const d1r_op_args *a);
#include "ops.def"
#undef D1R_OP

static const op_info ops[D1R_OP_COUNT] = {
#define D1R_OP(sym, name, ntensors, outmask, operands)                                             \
    [D1R_OP_##sym] = {#name, ntensors, outmask, operands, check_##name},
#include "ops.def"
#undef D1R_OP
};

const char *d1r_op_name(d1r_op op)
{
    return (unsigned)op < D1R_OP_COUNT ? ops[op].name : NULL;
}

d1r_op_class d1r_op_class_of(d1r_op op)
{
    if ((unsigned)op >= D1R_OP_COUNT)
        return D1R_CLASS_COUNT;
    if (op == D1R_OP_MATMUL)
        return D1R_CLASS_MATMUL;
    return op == D1R_OP_CAST ? D1R_CLASS_DATA_MOVEMENT : D1R_CLASS_ELEMENTWISE;
}

const char *d1r_op_class_name(d1r_op_class c)
{
    static const char *const names[D1R_CLASS_COUNT] = {"matmul", "elementwise", "data movement"};
    return (unsigned)c < D1R_CLASS_COUNT ? names[c] : NULL;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- devices ------------------------------------------------------------------------- */

d1_status d1r_device_open_backend(const char *name, d1r_backend be, d1r_device **out)
{
    if (!be.iface)
        return d1_fail(D1_E_INVAL, "device: backend interface is NULL");
    if (!name || !out) {
        be.iface->free(be.ctx);
        return d1_fail(D1_E_INVAL, "device: NULL name or output pointer");
    }
    d1r_device *dev = calloc(1, sizeof *dev);
    if (!dev) {
        be.iface->free(be.ctx);
        return d1_fail(D1_E_NOMEM, "device '%s': no memory", name);
    }
    snprintf(dev->name, sizeof dev->name, "%s", name);
    dev->be = be;
    d1_status st = d1r_cpu_backend_init(&dev->cpu);
    if (st != D1_OK) {
        be.iface->free(be.ctx);
        free(dev);
        return st;
    }
    *out = dev;
    return D1_OK;
}

d1_status d1r_device_open(const char *spec, d1r_device **out)
{
    if (!spec || !out)
        return d1_fail(D1_E_INVAL, "device: NULL device string or output pointer");
    if (strcmp(spec, "cpu") == 0) {
        d1r_backend be;
        d1_status st = d1r_cpu_backend_init(&be);
        if (st != D1_OK)
            return st;
        return d1r_device_open_backend("cpu", be, out);
    }
    if (strcmp(spec, "sim") == 0 || strncmp(spec, "sim:", 4) == 0) {
        if (spec[3] == ':' && spec[4] == '\0')
            return d1_fail(D1_E_INVAL, "device 'sim:': empty target (chip, tile or a config "
                                       "file)");
        return d1r_sim_device_open(spec, out, NULL); /* runtime/sim/sim_backend.h */
    }
    return d1_fail(D1_E_INVAL,
                   "unknown device '%s' (expected cpu, sim, sim:chip, sim:tile or "
                   "sim:<config file>)",
                   spec);
}

void d1r_device_close(d1r_device *dev)
{
    if (!dev)
        return;
    while (dev->tensors)
        d1r_tensor_destroy(dev->tensors);
    dev->be.iface->free(dev->be.ctx);
    dev->cpu.iface->free(dev->cpu.ctx);
    free(dev);
}

const char *d1r_device_backend_name(const d1r_device *dev)
{
    return dev ? dev->be.iface->name : NULL;
}

d1_status d1r_device_sync(d1r_device *dev)
{
    if (!dev)
        return d1_fail(D1_E_INVAL, "sync: device is NULL");
    if (dev->be.iface->synchronize)
        return dev->be.iface->synchronize(dev->be.ctx);
    return D1_OK;
}

/* ---- statistics ---------------------------------------------------------------------- */

d1_status d1r_device_stats(const d1r_device *dev, d1r_op op, d1r_op_stats *out)
{
    if (!dev || !out)
        return d1_fail(D1_E_INVAL, "stats: NULL device or output pointer");
    if ((unsigned)op >= D1R_OP_COUNT)
        return d1_fail(D1_E_INVAL, "stats: %d is not an op", (int)op);
    *out = dev->stats[op];
    return D1_OK;
}

void d1r_device_stats_reset(d1r_device *dev)
{
    if (dev)
        memset(dev->stats, 0, sizeof dev->stats);
}

void d1r_device_stats_print(const d1r_device *dev, FILE *f)
{
    if (!dev || !f)
        return;
    const char *be = dev->be.iface->name;
    fprintf(f, "%-22s %-20s %10s %10s %12s %12s\n", "op", "ran on", "count", "fallback", "total_ms",
            "mean_us");
    for (int op = 0; op < D1R_OP_COUNT; op++) {
        const d1r_op_stats *s = &dev->stats[op];
        if (s->count == 0)
            continue;
        char where[64];
        if (s->fallback_count == 0)
            snprintf(where, sizeof where, "%s", be);
        else if (s->fallback_count == s->count)
            snprintf(where, sizeof where, "cpu (fallback)");
        else
            snprintf(where, sizeof where, "%s+cpu (fallback)", be);
        fprintf(f, "%-22s %-20s %10" PRIu64 " %10" PRIu64 " %12.3f %12.3f\n", ops[op].name, where,
                s->count, s->fallback_count, (double)s->host_ns / 1e6,
                (double)s->host_ns / 1e3 / (double)s->count);
    }
    if (dev->be.iface->stats_print)
        dev->be.iface->stats_print(dev->be.ctx, f);
}

/* ---- tensors ------------------------------------------------------------------------- */

static size_t elem_size(d1_dtype t)
{
    return t == D1R_INT32 ? 4 : d1_dtype_size(t);
}

static const char *dtype_name(d1_dtype t)
{
    if (t == D1R_INT32)
        return "int32";
    const char *n = (unsigned)t < D1_DTYPE_COUNT ? d1_dtype_name(t) : NULL;
    return n ? n : "?";
}

static bool bias_configurable(d1_dtype t)
{
    const d1_fmt_info *fi = t == D1R_INT32 ? NULL : d1_fmt(t);
    return fi && fi->fixed_bias < 0;
}

d1_status d1r_tensor_create(d1r_device *dev, d1_dtype dtype, int ndim, const int64_t *shape,
                            int bias, d1r_tensor **out)
{
    if (!dev || !shape || !out)
        return d1_fail(D1_E_INVAL, "tensor_create: NULL device, shape or output pointer");
    if ((unsigned)dtype > (unsigned)D1R_INT32)
        return d1_fail(D1_E_DTYPE, "tensor_create: %d is not a dtype", (int)dtype);
    if (ndim < 1 || ndim > D1R_MAX_DIMS)
        return d1_fail(D1_E_INVAL, "tensor_create: %d dimensions (1..%d)", ndim, D1R_MAX_DIMS);
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0)
            return d1_fail(D1_E_INVAL, "tensor_create: dimension %d is %" PRId64 " (must be >= 1)",
                           i, shape[i]);
        if (shape[i] > D1R_DIM_MAX)
            return d1_fail(D1_E_RANGE,
                           "tensor_create: dimension %d is %" PRId64 " (limit %" PRId64 ")", i,
                           shape[i], D1R_DIM_MAX);
        if (n > D1R_TENSOR_MAX_ELEMS / (uint64_t)shape[i])
            return d1_fail(D1_E_RANGE, "tensor_create: more than %" PRIu64 " elements",
                           D1R_TENSOR_MAX_ELEMS);
        n *= (uint64_t)shape[i];
    }
    size_t esize = elem_size(dtype);
    if (n > SIZE_MAX / esize)
        return d1_fail(D1_E_RANGE, "tensor_create: %" PRIu64 " elements do not fit memory", n);

    int eff_bias;
    bool bias_auto = false;
    if (bias_configurable(dtype)) {
        if (bias == D1R_BIAS_AUTO) {
            bias_auto = true;
            eff_bias = 0;
        } else if (bias < 0 || bias > D1_BIAS_MAX) {
            return d1_fail(D1_E_RANGE, "tensor_create: bias %d of %s not in 0..%d", bias,
                           dtype_name(dtype), D1_BIAS_MAX);
        } else {
            eff_bias = bias;
        }
    } else {
        int fixed = dtype == D1R_INT32 ? 0 : d1_fmt_bias(dtype, 0);
        if (bias != 0 && bias != fixed)
            return d1_fail(D1_E_RANGE, "tensor_create: %s has the fixed bias %d, not %d",
                           dtype_name(dtype), fixed, bias);
        eff_bias = fixed;
    }

    d1r_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return d1_fail(D1_E_NOMEM, "tensor_create: no memory");
    t->dev = dev;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->nelems = (size_t)n;
    t->nbytes = (size_t)n * esize;
    t->bias = eff_bias;
    t->bias_auto = bias_auto;
    d1_status st = dev->be.iface->tensor_alloc(dev->be.ctx, t);
    if (st != D1_OK) {
        free(t);
        return st;
    }
    t->next = dev->tensors;
    if (dev->tensors)
        dev->tensors->prev = t;
    dev->tensors = t;
    *out = t;
    return D1_OK;
}

void d1r_tensor_destroy(d1r_tensor *t)
{
    if (!t)
        return;
    d1r_device *dev = t->dev;
    dev->be.iface->tensor_free(dev->be.ctx, t);
    if (t->prev)
        t->prev->next = t->next;
    else
        dev->tensors = t->next;
    if (t->next)
        t->next->prev = t->prev;
    free(t);
}

d1r_device *d1r_tensor_device(const d1r_tensor *t)
{
    return t ? t->dev : NULL;
}
d1_dtype d1r_tensor_dtype(const d1r_tensor *t)
{
    return t ? t->dtype : D1_FP32;
}
int d1r_tensor_ndim(const d1r_tensor *t)
{
    return t ? t->ndim : 0;
}
size_t d1r_tensor_nelems(const d1r_tensor *t)
{
    return t ? t->nelems : 0;
}
size_t d1r_tensor_nbytes(const d1r_tensor *t)
{
    return t ? t->nbytes : 0;
}
int d1r_tensor_bias(const d1r_tensor *t)
{
    return t ? t->bias : 0;
}

int64_t d1r_tensor_dim(const d1r_tensor *t, int i)
{
    return t && i >= 0 && i < t->ndim ? t->shape[i] : 0;
}

d1_status d1r_tensor_upload(d1r_tensor *t, const float *src, size_t n, d1_round mode, uint64_t seed,
                            unsigned *flags)
{
    if (!t || !src)
        return d1_fail(D1_E_INVAL, "upload: NULL tensor or source");
    if (t->dtype == D1R_INT32)
        return d1_fail(D1_E_DTYPE, "upload: int32 tensors take raw data (upload_raw)");
    if (n != t->nelems)
        return d1_fail(D1_E_SHAPE, "upload: %zu values for a tensor of %zu elements", n, t->nelems);
    if (mode != D1_ROUND_RNE && mode != D1_ROUND_STOCHASTIC)
        return d1_fail(D1_E_INVAL, "upload: %d is not a rounding mode", (int)mode);
    const d1r_backend *be = &t->dev->be;
    if (t->dtype == D1_FP32)
        return be->iface->tensor_set(be->ctx, t, src, 0, t->nbytes);

    int bias = t->bias_auto ? d1_fmt_choose_bias(t->dtype, src, n) : t->bias;
    void *codes = malloc(t->nbytes);
    if (!codes)
        return d1_fail(D1_E_NOMEM, "upload: no memory for %zu bytes", t->nbytes);
    d1_fmt_encode_array(t->dtype, src, n, bias, mode, seed, 0, codes, flags);
    d1_status st = be->iface->tensor_set(be->ctx, t, codes, 0, t->nbytes);
    if (st == D1_OK)
        t->bias = bias;
    free(codes);
    return st;
}

d1_status d1r_tensor_download(const d1r_tensor *t, float *dst, size_t n)
{
    if (!t || !dst)
        return d1_fail(D1_E_INVAL, "download: NULL tensor or destination");
    if (t->dtype == D1R_INT32)
        return d1_fail(D1_E_DTYPE, "download: int32 tensors give raw data (download_raw)");
    if (n != t->nelems)
        return d1_fail(D1_E_SHAPE, "download: room for %zu values, tensor has %zu", n, t->nelems);
    const d1r_backend *be = &t->dev->be;
    if (t->dtype == D1_FP32)
        return be->iface->tensor_get(be->ctx, t, dst, 0, t->nbytes);
    void *codes = malloc(t->nbytes);
    if (!codes)
        return d1_fail(D1_E_NOMEM, "download: no memory for %zu bytes", t->nbytes);
    d1_status st = be->iface->tensor_get(be->ctx, t, codes, 0, t->nbytes);
    if (st == D1_OK)
        d1_fmt_decode_array(t->dtype, codes, n, t->bias, dst);
    free(codes);
    return st;
}

d1_status d1r_tensor_upload_raw(d1r_tensor *t, const void *src, size_t size_bytes)
{
    if (!t || !src)
        return d1_fail(D1_E_INVAL, "upload_raw: NULL tensor or source");
    if (size_bytes != t->nbytes)
        return d1_fail(D1_E_SHAPE, "upload_raw: %zu bytes for a tensor of %zu", size_bytes,
                       t->nbytes);
    const d1r_backend *be = &t->dev->be;
    return be->iface->tensor_set(be->ctx, t, src, 0, size_bytes);
}

d1_status d1r_tensor_download_raw(const d1r_tensor *t, void *dst, size_t size_bytes)
{
    if (!t || !dst)
        return d1_fail(D1_E_INVAL, "download_raw: NULL tensor or destination");
    if (size_bytes != t->nbytes)
        return d1_fail(D1_E_SHAPE, "download_raw: room for %zu bytes, tensor has %zu", size_bytes,
                       t->nbytes);
    const d1r_backend *be = &t->dev->be;
    return be->iface->tensor_get(be->ctx, t, dst, 0, size_bytes);
}

/* ---- argument checks ----------------------------------------------------------------- */

/* i-th name of the op's operand list ("A,B,C"). */
static const char *operand(const d1r_op_args *a, int i, char *buf, size_t size)
{
    const char *p = ops[a->op].operands;
    for (int k = 0; k < i && p; k++) {
        p = strchr(p, ',');
        if (p)
            p++;
    }
    if (!p)
        return "?";
    size_t len = strcspn(p, ",");
    snprintf(buf, size, "%.*s", (int)len, p);
    return buf;
}

static const char *shape_str(const d1r_tensor *t, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->ndim && off < size; i++)
        off += (size_t)snprintf(buf + off, size - off, "%s%" PRId64, i ? "x" : "", t->shape[i]);
    return buf;
}

#define OPNAME(a) (ops[(a)->op].name)

static d1_status need_dtype(const d1r_op_args *a, int i, d1_dtype want)
{
    if (a->t[i]->dtype == want)
        return D1_OK;
    char nb[16];
    return d1_fail(D1_E_DTYPE, "%s: %s is %s, the op takes %s", OPNAME(a),
                   operand(a, i, nb, sizeof nb), dtype_name(a->t[i]->dtype), dtype_name(want));
}

static d1_status need_ndim(const d1r_op_args *a, int i, int ndim)
{
    if (a->t[i]->ndim == ndim)
        return D1_OK;
    char nb[16], sb[96];
    return d1_fail(D1_E_SHAPE, "%s: %s must be %d-D, is %s", OPNAME(a),
                   operand(a, i, nb, sizeof nb), ndim, shape_str(a->t[i], sb, sizeof sb));
}

static bool same_shape(const d1r_tensor *x, const d1r_tensor *y)
{
    if (x->ndim != y->ndim)
        return false;
    for (int i = 0; i < x->ndim; i++)
        if (x->shape[i] != y->shape[i])
            return false;
    return true;
}

static d1_status need_same_shape(const d1r_op_args *a, int i, int j)
{
    if (same_shape(a->t[i], a->t[j]))
        return D1_OK;
    char n1[16], n2[16], s1[96], s2[96];
    return d1_fail(D1_E_SHAPE, "%s: %s is %s but %s is %s", OPNAME(a), operand(a, i, n1, sizeof n1),
                   shape_str(a->t[i], s1, sizeof s1), operand(a, j, n2, sizeof n2),
                   shape_str(a->t[j], s2, sizeof s2));
}

/* Operand i must have the given extent along dimension d. */
static d1_status need_dim(const d1r_op_args *a, int i, int d, int64_t want, const char *what)
{
    if (a->t[i]->shape[d] == want)
        return D1_OK;
    char nb[16], sb[96];
    return d1_fail(D1_E_SHAPE, "%s: %s is %s, dimension %d must be %" PRId64 " (%s)", OPNAME(a),
                   operand(a, i, nb, sizeof nb), shape_str(a->t[i], sb, sizeof sb), d, want, what);
}

static d1_status need_distinct(const d1r_op_args *a, int i, int j)
{
    if (a->t[i] != a->t[j])
        return D1_OK;
    char n1[16], n2[16];
    return d1_fail(D1_E_INVAL, "%s: %s and %s must be different tensors", OPNAME(a),
                   operand(a, i, n1, sizeof n1), operand(a, j, n2, sizeof n2));
}

static d1_status all_f32(const d1r_op_args *a)
{
    for (int i = 0; i < a->ntensors; i++) {
        d1_status st = need_dtype(a, i, D1_FP32);
        if (st != D1_OK)
            return st;
    }
    return D1_OK;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        d1_status try_st_ = (expr);                                                                \
        if (try_st_ != D1_OK)                                                                      \
            return try_st_;                                                                        \
    } while (0)

static bool mm_input_dtype(d1_dtype t)
{
    return t == D1_FP32 || t == D1_BF16 || t == D1_CFP8_143 || t == D1_CFP8_152;
}

static d1_status check_matmul(const d1r_op_args *a)
{
    const d1r_tensor *A = a->t[0], *B = a->t[1], *C = a->t[2];
    char nb[16];
    for (int i = 0; i < 2; i++)
        if (!mm_input_dtype(a->t[i]->dtype))
            return d1_fail(D1_E_DTYPE,
                           "matmul: %s is %s; inputs are fp32, bf16, cfp8 or "
                           "cfp8e5",
                           operand(a, i, nb, sizeof nb), dtype_name(a->t[i]->dtype));
    if (C->dtype != D1_FP32 && C->dtype != D1_BF16)
        return d1_fail(D1_E_DTYPE, "matmul: C is %s; the output is fp32 or bf16",
                       dtype_name(C->dtype));
    if (a->mm.round != D1_ROUND_RNE && a->mm.round != D1_ROUND_STOCHASTIC)
        return d1_fail(D1_E_INVAL, "matmul: %d is not a rounding mode", (int)a->mm.round);
    for (int i = 0; i < 3; i++)
        TRY(need_ndim(a, i, 2));
    TRY(need_distinct(a, 2, 0));
    TRY(need_distinct(a, 2, 1));
    int64_t M = a->mm.trans_a ? A->shape[1] : A->shape[0];
    int64_t KA = a->mm.trans_a ? A->shape[0] : A->shape[1];
    int64_t KB = a->mm.trans_b ? B->shape[1] : B->shape[0];
    int64_t N = a->mm.trans_b ? B->shape[0] : B->shape[1];
    if (KA != KB)
        return d1_fail(D1_E_SHAPE,
                       "matmul: op(A) has %" PRId64 " columns, op(B) has %" PRId64 " rows", KA, KB);
    TRY(need_dim(a, 2, 0, M, "rows of op(A)"));
    TRY(need_dim(a, 2, 1, N, "columns of op(B)"));
    return D1_OK;
}

static d1_status check_bias_add(const d1r_op_args *a)
{
    TRY(all_f32(a));
    TRY(need_ndim(a, 0, 2));
    TRY(need_ndim(a, 1, 1));
    TRY(need_dim(a, 1, 0, a->t[0]->shape[1], "columns of X"));
    return need_same_shape(a, 2, 0);
}

static d1_status check_relu(const d1r_op_args *a)
{
    TRY(all_f32(a));
    return need_same_shape(a, 1, 0);
}

static d1_status check_relu_backward(const d1r_op_args *a)
{
    TRY(all_f32(a));
    TRY(need_same_shape(a, 1, 0));
    return need_same_shape(a, 2, 0);
}

static d1_status check_xent_common(const d1r_op_args *a)
{
    TRY(need_dtype(a, 0, D1_FP32));
    TRY(need_dtype(a, 1, D1R_INT32));
    TRY(need_dtype(a, 2, D1_FP32));
    TRY(need_ndim(a, 0, 2));
    TRY(need_ndim(a, 1, 1));
    return need_dim(a, 1, 0, a->t[0]->shape[0], "rows of X");
}

static d1_status check_softmax_xent(const d1r_op_args *a)
{
    TRY(check_xent_common(a));
    TRY(need_distinct(a, 2, 0));
    if (a->t[2]->nelems != 1) {
        char sb[96];
        return d1_fail(D1_E_SHAPE, "softmax_xent: loss is %s, must have one element",
                       shape_str(a->t[2], sb, sizeof sb));
    }
    return D1_OK;
}

static d1_status check_softmax_xent_backward(const d1r_op_args *a)
{
    TRY(check_xent_common(a));
    return need_same_shape(a, 2, 0);
}

static d1_status check_row_sums(const d1r_op_args *a)
{
    TRY(all_f32(a));
    TRY(need_ndim(a, 0, 2));
    TRY(need_ndim(a, 1, 1));
    return need_dim(a, 1, 0, a->t[0]->shape[0], "rows of X");
}

static d1_status check_col_sums(const d1r_op_args *a)
{
    TRY(all_f32(a));
    TRY(need_ndim(a, 0, 2));
    TRY(need_ndim(a, 1, 1));
    return need_dim(a, 1, 0, a->t[0]->shape[1], "columns of X");
}

static d1_status check_scale(const d1r_op_args *a)
{
    TRY(all_f32(a));
    return need_same_shape(a, 1, 0);
}

static d1_status check_axpy(const d1r_op_args *a)
{
    return check_scale(a);
}
static d1_status check_sgd(const d1r_op_args *a)
{
    return check_scale(a);
}

static d1_status check_sgd_momentum(const d1r_op_args *a)
{
    TRY(all_f32(a));
    TRY(need_same_shape(a, 1, 0));
    return need_same_shape(a, 2, 0);
}

static d1_status check_cast(const d1r_op_args *a)
{
    char nb[16];
    for (int i = 0; i < 2; i++)
        if (a->t[i]->dtype == D1R_INT32)
            return d1_fail(D1_E_DTYPE, "cast: %s is int32; cast converts number formats",
                           operand(a, i, nb, sizeof nb));
    if (a->mm.round != D1_ROUND_RNE && a->mm.round != D1_ROUND_STOCHASTIC)
        return d1_fail(D1_E_INVAL, "cast: %d is not a rounding mode", (int)a->mm.round);
    TRY(need_same_shape(a, 1, 0));
    return need_distinct(a, 1, 0);
}

static d1_status check_argmax(const d1r_op_args *a)
{
    TRY(need_dtype(a, 0, D1_FP32));
    TRY(need_dtype(a, 1, D1R_INT32));
    TRY(need_ndim(a, 0, 2));
    TRY(need_ndim(a, 1, 1));
    return need_dim(a, 1, 0, a->t[0]->shape[0], "rows of X");
}

/* ---- dispatch ------------------------------------------------------------------------ */

/* Run on the CPU backend on copies of the operands (one copy per distinct tensor), then copy
 * the written operands back to the device's backend. */
static d1_status run_fallback(d1r_device *dev, const d1r_op_args *a)
{
    d1r_tensor shadow[D1R_OP_MAX_TENSORS];
    bool made[D1R_OP_MAX_TENSORS] = {false};
    d1r_op_args c = *a;
    d1_status st = D1_OK;

    for (int i = 0; i < a->ntensors; i++) {
        int j = 0;
        while (j < i && a->t[j] != a->t[i])
            j++;
        if (j < i) {
            c.t[i] = c.t[j];
            continue;
        }
        shadow[i] = *a->t[i];
        shadow[i].data = NULL;
        shadow[i].prev = shadow[i].next = NULL;
        st = dev->cpu.iface->tensor_alloc(dev->cpu.ctx, &shadow[i]);
        if (st != D1_OK)
            goto free_shadows;
        made[i] = true;
        st = dev->be.iface->tensor_get(dev->be.ctx, a->t[i], shadow[i].data, 0, a->t[i]->nbytes);
        if (st != D1_OK)
            goto free_shadows;
        c.t[i] = &shadow[i];
    }
    st = dev->cpu.iface->run(dev->cpu.ctx, &c);
    if (st != D1_OK)
        goto free_shadows;
    for (int i = 0; i < a->ntensors; i++) {
        if (!(ops[a->op].outmask & (1u << i)))
            continue;
        st = dev->be.iface->tensor_set(dev->be.ctx, a->t[i], c.t[i]->data, 0, a->t[i]->nbytes);
        if (st != D1_OK)
            goto free_shadows;
        a->t[i]->bias = c.t[i]->bias; /* cast into a D1R_BIAS_AUTO tensor chooses it */
    }

free_shadows:
    for (int i = 0; i < a->ntensors; i++)
        if (made[i])
            dev->cpu.iface->tensor_free(dev->cpu.ctx, &shadow[i]);
    return st;
}

static d1_status dispatch(d1r_device *dev, d1r_op_args *a)
{
    const op_info *info = &ops[a->op];
    char nb[16];
    a->ntensors = info->ntensors;
    if (!dev)
        return d1_fail(D1_E_INVAL, "%s: device is NULL", info->name);
    for (int i = 0; i < info->ntensors; i++) {
        if (!a->t[i])
            return d1_fail(D1_E_INVAL, "%s: %s is NULL", info->name, operand(a, i, nb, sizeof nb));
        if (a->t[i]->dev != dev)
            return d1_fail(D1_E_INVAL, "%s: %s belongs to another device", info->name,
                           operand(a, i, nb, sizeof nb));
    }
    for (int i = 0; i < info->ntensors; i++)
        for (int j = i + 1; j < info->ntensors; j++)
            if ((info->outmask >> i & 1u) && (info->outmask >> j & 1u))
                TRY(need_distinct(a, i, j));
    TRY(info->check(a));

    uint64_t t0 = now_ns();
    bool fallback = !dev->be.iface->supports(dev->be.ctx, a);
    d1_status st = fallback ? run_fallback(dev, a) : dev->be.iface->run(dev->be.ctx, a);
    uint64_t dt = now_ns() - t0;
    if (st != D1_OK)
        return st;
    d1r_op_stats *s = &dev->stats[a->op];
    s->count++;
    s->host_ns += dt;
    if (fallback) {
        s->fallback_count++;
        s->fallback_ns += dt;
    } else if (dev->be.iface->last_cost) {
        d1r_op_cost c = {0, 0, 0};
        dev->be.iface->last_cost(dev->be.ctx, &c);
        s->device_ns += c.device_ns;
        s->mxu_ops += c.mxu_ops;
        s->mxu_slots += c.mxu_slots;
    }
    return D1_OK;
}

/* ---- ops ----------------------------------------------------------------------------- */

#define T(x) ((d1r_tensor *)(x)) /* inputs are never written: ops.def outmask */

d1_status d1r_matmul(d1r_device *dev, const d1r_tensor *A, const d1r_tensor *B, d1r_tensor *C,
                     const d1r_matmul_opts *opts)
{
    d1r_op_args a = {.op = D1R_OP_MATMUL, .t = {T(A), T(B), C}};
    if (opts)
        a.mm = *opts;
    return dispatch(dev, &a);
}

d1_status d1r_bias_add(d1r_device *dev, const d1r_tensor *X, const d1r_tensor *b, d1r_tensor *Y)
{
    d1r_op_args a = {.op = D1R_OP_BIAS_ADD, .t = {T(X), T(b), Y}};
    return dispatch(dev, &a);
}

d1_status d1r_relu(d1r_device *dev, const d1r_tensor *X, d1r_tensor *Y)
{
    d1r_op_args a = {.op = D1R_OP_RELU, .t = {T(X), Y}};
    return dispatch(dev, &a);
}

d1_status d1r_relu_backward(d1r_device *dev, const d1r_tensor *X, const d1r_tensor *dY,
                            d1r_tensor *dX)
{
    d1r_op_args a = {.op = D1R_OP_RELU_BACKWARD, .t = {T(X), T(dY), dX}};
    return dispatch(dev, &a);
}

d1_status d1r_softmax_xent(d1r_device *dev, const d1r_tensor *X, const d1r_tensor *labels,
                           d1r_tensor *loss)
{
    d1r_op_args a = {.op = D1R_OP_SOFTMAX_XENT, .t = {T(X), T(labels), loss}};
    return dispatch(dev, &a);
}

d1_status d1r_softmax_xent_backward(d1r_device *dev, const d1r_tensor *X, const d1r_tensor *labels,
                                    d1r_tensor *dX)
{
    d1r_op_args a = {.op = D1R_OP_SOFTMAX_XENT_BACKWARD, .t = {T(X), T(labels), dX}};
    return dispatch(dev, &a);
}

d1_status d1r_row_sums(d1r_device *dev, const d1r_tensor *X, d1r_tensor *y)
{
    d1r_op_args a = {.op = D1R_OP_ROW_SUMS, .t = {T(X), y}};
    return dispatch(dev, &a);
}

d1_status d1r_col_sums(d1r_device *dev, const d1r_tensor *X, d1r_tensor *y)
{
    d1r_op_args a = {.op = D1R_OP_COL_SUMS, .t = {T(X), y}};
    return dispatch(dev, &a);
}

d1_status d1r_scale(d1r_device *dev, float alpha, const d1r_tensor *X, d1r_tensor *Y)
{
    d1r_op_args a = {.op = D1R_OP_SCALE, .t = {T(X), Y}, .alpha = alpha};
    return dispatch(dev, &a);
}

d1_status d1r_axpy(d1r_device *dev, float alpha, const d1r_tensor *X, d1r_tensor *Y)
{
    d1r_op_args a = {.op = D1R_OP_AXPY, .t = {T(X), Y}, .alpha = alpha};
    return dispatch(dev, &a);
}

d1_status d1r_sgd(d1r_device *dev, float lr, d1r_tensor *W, const d1r_tensor *G)
{
    d1r_op_args a = {.op = D1R_OP_SGD, .t = {W, T(G)}, .alpha = lr};
    return dispatch(dev, &a);
}

d1_status d1r_sgd_momentum(d1r_device *dev, float lr, float mu, d1r_tensor *W, const d1r_tensor *G,
                           d1r_tensor *V)
{
    d1r_op_args a = {.op = D1R_OP_SGD_MOMENTUM, .t = {W, T(G), V}, .alpha = lr, .beta = mu};
    return dispatch(dev, &a);
}

d1_status d1r_cast(d1r_device *dev, const d1r_tensor *X, d1r_tensor *Y, d1_round mode,
                   uint64_t seed, unsigned *flags)
{
    d1r_op_args a = {.op = D1R_OP_CAST, .t = {T(X), Y}, .flags = flags};
    a.mm.round = mode;
    a.mm.seed = seed;
    return dispatch(dev, &a);
}

d1_status d1r_argmax(d1r_device *dev, const d1r_tensor *X, d1r_tensor *idx)
{
    d1r_op_args a = {.op = D1R_OP_ARGMAX, .t = {T(X), idx}};
    return dispatch(dev, &a);
}
