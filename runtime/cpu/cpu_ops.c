/* CPU ops: the exact formulas of doc/numerics.md, "Operations". Keep every loop in the
 * documented order: a backend that reproduces these bits must be able to follow it.
 * The project compiles with -std=c11, so GCC does not contract a*b+c into an FMA; where a
 * formula is fused it calls fmaf explicitly. */
#include "cpu_ops.h"

#include "gemm.h"

#include <math.h>
#include <stdlib.h>

static float *f32(const d1r_tensor *t)
{
    return (float *)t->data;
}

d1_status d1r_cpu_matmul(const d1r_op_args *a)
{
    const d1r_tensor *A = a->t[0], *B = a->t[1];
    d1r_tensor *C = a->t[2];
    int M = (int)C->shape[0], N = (int)C->shape[1];
    int K = (int)(a->mm.trans_a ? A->shape[0] : A->shape[1]);
    d1r_gemm_operand ga = {A->dtype, A->bias, A->data, (size_t)A->shape[1], a->mm.trans_a};
    d1r_gemm_operand gb = {B->dtype, B->bias, B->data, (size_t)B->shape[1], a->mm.trans_b};

    if (C->dtype == D1_FP32) {
        d1r_cpu_gemm(M, N, K, &ga, &gb, f32(C), (size_t)N, a->mm.accumulate, 0);
        return D1_OK;
    }
    /* BF16 C: accumulate in FP32 (from C decoded when accumulating), round once. */
    float *acc = malloc(C->nelems * sizeof *acc);
    if (!acc)
        return d1_fail(D1_E_NOMEM, "matmul: no memory for a %dx%d FP32 accumulator", M, N);
    if (a->mm.accumulate)
        d1_fmt_decode_array(C->dtype, C->data, C->nelems, C->bias, acc);
    d1r_cpu_gemm(M, N, K, &ga, &gb, acc, (size_t)N, a->mm.accumulate, 0);
    d1_fmt_encode_array(C->dtype, acc, C->nelems, C->bias, a->mm.round, a->mm.seed, 0, C->data,
                        NULL);
    free(acc);
    return D1_OK;
}

d1_status d1r_cpu_bias_add(const d1r_op_args *a)
{
    const float *x = f32(a->t[0]), *b = f32(a->t[1]);
    float *y = f32(a->t[2]);
    size_t rows = (size_t)a->t[0]->shape[0], cols = (size_t)a->t[0]->shape[1];
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            y[r * cols + c] = x[r * cols + c] + b[c];
    return D1_OK;
}

d1_status d1r_cpu_relu(const d1r_op_args *a)
{
    const float *x = f32(a->t[0]);
    float *y = f32(a->t[1]);
    for (size_t i = 0; i < a->t[0]->nelems; i++)
        y[i] = x[i] <= 0.0f ? 0.0f : x[i]; /* -0 -> +0; NaN propagates */
    return D1_OK;
}

d1_status d1r_cpu_relu_backward(const d1r_op_args *a)
{
    const float *x = f32(a->t[0]), *dy = f32(a->t[1]);
    float *dx = f32(a->t[2]);
    for (size_t i = 0; i < a->t[0]->nelems; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
    return D1_OK;
}

static d1_status check_labels(const char *op, const int32_t *lab, size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows; i++)
        if (lab[i] < 0 || (size_t)lab[i] >= cols)
            return d1_fail(D1_E_RANGE, "%s: label %zu is %d, not in 0..%zu", op, i, (int)lab[i],
                           cols - 1);
    return D1_OK;
}

/* Row max (first element, then strictly greater ones in index order) and sum of
 * expf(x_j - m) in index order from +0. */
static void softmax_row(const float *x, size_t cols, float *m_out, float *s_out)
{
    float m = x[0];
    for (size_t j = 1; j < cols; j++)
        if (x[j] > m)
            m = x[j];
    float s = 0.0f;
    for (size_t j = 0; j < cols; j++)
        s = s + expf(x[j] - m);
    *m_out = m;
    *s_out = s;
}

d1_status d1r_cpu_softmax_xent(const d1r_op_args *a)
{
    const float *x = f32(a->t[0]);
    const int32_t *lab = a->t[1]->data;
    size_t rows = (size_t)a->t[0]->shape[0], cols = (size_t)a->t[0]->shape[1];
    d1_status st = check_labels("softmax_xent", lab, rows, cols);
    if (st != D1_OK)
        return st;
    float total = 0.0f;
    for (size_t i = 0; i < rows; i++) {
        const float *row = x + i * cols;
        float m, s;
        softmax_row(row, cols, &m, &s);
        float loss = logf(s) - (row[lab[i]] - m);
        total = total + loss;
    }
    f32(a->t[2])[0] = total / (float)rows;
    return D1_OK;
}

d1_status d1r_cpu_softmax_xent_backward(const d1r_op_args *a)
{
    const float *x = f32(a->t[0]);
    const int32_t *lab = a->t[1]->data;
    float *dx = f32(a->t[2]);
    size_t rows = (size_t)a->t[0]->shape[0], cols = (size_t)a->t[0]->shape[1];
    d1_status st = check_labels("softmax_xent_backward", lab, rows, cols);
    if (st != D1_OK)
        return st;
    float fb = (float)rows;
    for (size_t i = 0; i < rows; i++) {
        const float *row = x + i * cols;
        float *drow = dx + i * cols; /* may be row itself: x_j is read before dx_j is written */
        float m, s;
        softmax_row(row, cols, &m, &s);
        for (size_t j = 0; j < cols; j++) {
            float p = expf(row[j] - m) / s;
            float t = p - ((size_t)lab[i] == j ? 1.0f : 0.0f);
            drow[j] = t / fb;
        }
    }
    return D1_OK;
}

d1_status d1r_cpu_row_sums(const d1r_op_args *a)
{
    const float *x = f32(a->t[0]);
    float *y = f32(a->t[1]);
    size_t rows = (size_t)a->t[0]->shape[0], cols = (size_t)a->t[0]->shape[1];
    for (size_t r = 0; r < rows; r++) {
        float acc = 0.0f;
        for (size_t c = 0; c < cols; c++)
            acc = acc + x[r * cols + c];
        y[r] = acc;
    }
    return D1_OK;
}

d1_status d1r_cpu_col_sums(const d1r_op_args *a)
{
    const float *x = f32(a->t[0]);
    float *y = f32(a->t[1]);
    size_t rows = (size_t)a->t[0]->shape[0], cols = (size_t)a->t[0]->shape[1];
    for (size_t c = 0; c < cols; c++)
        y[c] = 0.0f;
    /* Row by row for locality; each y[c] still sums its rows in ascending order. */
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            y[c] = y[c] + x[r * cols + c];
    return D1_OK;
}

d1_status d1r_cpu_scale(const d1r_op_args *a)
{
    const float *x = f32(a->t[0]);
    float *y = f32(a->t[1]);
    for (size_t i = 0; i < a->t[0]->nelems; i++)
        y[i] = a->alpha * x[i];
    return D1_OK;
}

d1_status d1r_cpu_axpy(const d1r_op_args *a)
{
    const float *x = f32(a->t[0]);
    float *y = f32(a->t[1]);
    for (size_t i = 0; i < a->t[0]->nelems; i++)
        y[i] = fmaf(a->alpha, x[i], y[i]);
    return D1_OK;
}

d1_status d1r_cpu_sgd(const d1r_op_args *a)
{
    float *w = f32(a->t[0]);
    const float *g = f32(a->t[1]);
    float nlr = -a->alpha;
    for (size_t i = 0; i < a->t[0]->nelems; i++)
        w[i] = fmaf(nlr, g[i], w[i]);
    return D1_OK;
}

d1_status d1r_cpu_sgd_momentum(const d1r_op_args *a)
{
    float *w = f32(a->t[0]), *v = f32(a->t[2]);
    const float *g = f32(a->t[1]);
    float nlr = -a->alpha, mu = a->beta;
    for (size_t i = 0; i < a->t[0]->nelems; i++) {
        v[i] = fmaf(mu, v[i], g[i]);
        w[i] = fmaf(nlr, v[i], w[i]);
    }
    return D1_OK;
}

d1_status d1r_cpu_cast(const d1r_op_args *a)
{
    const d1r_tensor *X = a->t[0];
    d1r_tensor *Y = a->t[1];
    float *tmp = NULL;
    const float *x = X->data;
    if (X->dtype != D1_FP32) {
        tmp = malloc(X->nelems * sizeof *tmp);
        if (!tmp)
            return d1_fail(D1_E_NOMEM, "cast: no memory for %zu FP32 values", X->nelems);
        d1_fmt_decode_array(X->dtype, X->data, X->nelems, X->bias, tmp);
        x = tmp;
    }
    if (Y->bias_auto)
        Y->bias = d1_fmt_choose_bias(Y->dtype, x, X->nelems);
    d1_fmt_encode_array(Y->dtype, x, X->nelems, Y->bias, a->mm.round, a->mm.seed, 0, Y->data,
                        a->flags);
    free(tmp);
    return D1_OK;
}

d1_status d1r_cpu_argmax(const d1r_op_args *a)
{
    const float *x = f32(a->t[0]);
    int32_t *idx = a->t[1]->data;
    size_t rows = (size_t)a->t[0]->shape[0], cols = (size_t)a->t[0]->shape[1];
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * cols;
        size_t best = 0;
        for (size_t j = 1; j < cols; j++)
            if (row[j] > row[best] || (isnan(row[best]) && !isnan(row[j])))
                best = j;
        idx[r] = (int32_t)best;
    }
    return D1_OK;
}

static d1_status (*const cpu_ops[D1R_OP_COUNT])(const d1r_op_args *) = {
#define D1R_OP(sym, name, ntensors, outmask, operands) [D1R_OP_##sym] = d1r_cpu_##name,
#include "runtime/ops.def"
#undef D1R_OP
};

d1_status d1r_cpu_run(const d1r_op_args *a)
{
    D1_ASSERT((unsigned)a->op < D1R_OP_COUNT);
    return cpu_ops[a->op](a);
}
