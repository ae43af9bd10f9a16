#include "mm_case.h"

#include "runtime/d1r.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OK(expr)                                                                             \
    do {                                                                                     \
        d1_status st_ = (expr);                                                              \
        ck_assert_msg(st_ == D1_OK, "%s -> %s: %s", #expr, d1_status_name(st_),              \
                      d1_last_error());                                                      \
    } while (0)

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void fill(float *x, size_t n, uint32_t *s)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rnd(s);
        if (r % 23 == 0)
            x[i] = (r & 1) ? -0.0f : 0.0f;
        else
            x[i] = ((float)(r >> 8) / 16777216.0f) * 4.0f - 2.0f;
    }
}

static d1r_tensor *make(d1r_device *dev, d1_dtype dt, int bias, int64_t r, int64_t c,
                        uint32_t *s, void **raw)
{
    d1r_tensor *t;
    OK(d1r_tensor_create(dev, dt, 2, (int64_t[]){r, c}, bias, &t));
    size_t n = (size_t)(r * c);
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    fill(x, n, s);
    OK(d1r_tensor_upload(t, x, n, D1_ROUND_RNE, 0, NULL));
    free(x);
    *raw = malloc(d1r_tensor_nbytes(t));
    ck_assert_ptr_nonnull(*raw);
    OK(d1r_tensor_download_raw(t, *raw, d1r_tensor_nbytes(t)));
    return t;
}

void mm_case_init(mm_case *mc, const d1k_matmul_desc *op, uint32_t seed)
{
    memset(mc, 0, sizeof *mc);
    mc->op = *op;
    uint32_t s = seed * 2654435761u + 12345u;
    d1r_device *dev;
    OK(d1r_device_open("cpu", &dev));
    int64_t M = op->M, N = op->N, K = op->K;
    d1r_tensor *A = make(dev, op->a_dtype, op->a_bias, op->trans_a ? K : M, op->trans_a ? M : K,
                         &s, &mc->a);
    d1r_tensor *B = make(dev, op->b_dtype, op->b_bias, op->trans_b ? N : K, op->trans_b ? K : N,
                         &s, &mc->b);
    d1r_tensor *C = make(dev, op->c_dtype, 0, M, N, &s, &mc->c0);
    mc->lda = (size_t)(op->trans_a ? M : K);
    mc->ldb = (size_t)(op->trans_b ? K : N);
    mc->ldc = (size_t)N;
    d1r_matmul_opts o = {op->trans_a, op->trans_b, op->accumulate, op->round, op->seed};
    OK(d1r_matmul(dev, A, B, C, &o));
    mc->want = malloc(d1r_tensor_nbytes(C));
    ck_assert_ptr_nonnull(mc->want);
    OK(d1r_tensor_download_raw(C, mc->want, d1r_tensor_nbytes(C)));
    d1r_device_close(dev);
}

void mm_case_fini(mm_case *mc)
{
    free(mc->a);
    free(mc->b);
    free(mc->c0);
    free(mc->want);
}

size_t mm_case_c_bytes(const mm_case *mc)
{
    return (size_t)(mc->op.M * mc->op.N) * d1_dtype_size(mc->op.c_dtype);
}

d1k_operand mm_case_a(const mm_case *mc)
{
    return (d1k_operand){mc->op.a_dtype, mc->op.a_bias, mc->a, mc->lda, mc->op.trans_a};
}

d1k_operand mm_case_b(const mm_case *mc)
{
    return (d1k_operand){mc->op.b_dtype, mc->op.b_bias, mc->b, mc->ldb, mc->op.trans_b};
}

static d1_status s_write(void *ctx, uint32_t node, uint64_t addr, const void *src, size_t len)
{
    mm_sram *s = ctx;
    ck_assert_uint_lt(node, s->n);
    ck_assert_uint_le(addr + len, s->bytes);
    if (!s->mem[node]) {
        s->mem[node] = calloc(1, s->bytes);
        ck_assert_ptr_nonnull(s->mem[node]);
    }
    memcpy(s->mem[node] + addr, src, len);
    return D1_OK;
}

static d1_status s_read(void *ctx, uint32_t node, uint64_t addr, void *dst, size_t len)
{
    mm_sram *s = ctx;
    ck_assert_uint_lt(node, s->n);
    ck_assert_uint_le(addr + len, s->bytes);
    if (!s->mem[node])
        memset(dst, 0, len);
    else
        memcpy(dst, s->mem[node] + addr, len);
    return D1_OK;
}

void mm_sram_init(mm_sram *s, uint32_t n, size_t bytes)
{
    s->n = n;
    s->bytes = bytes;
    s->mem = calloc(n, sizeof *s->mem);
    ck_assert_ptr_nonnull(s->mem);
}

void mm_sram_fini(mm_sram *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        free(s->mem[i]);
    free(s->mem);
}

d1k_sram_io mm_sram_io(mm_sram *s) { return (d1k_sram_io){s, s_write, s_read}; }

void mm_small_config(d1_config *cfg, int cols, int rows)
{
    char buf[64];
    OK(d1_config_init(cfg));
    snprintf(buf, sizeof buf, "mesh_cols=%d", cols);
    OK(d1_config_set(cfg, buf));
    snprintf(buf, sizeof buf, "mesh_rows=%d", rows);
    OK(d1_config_set(cfg, buf));
    OK(d1_config_set(cfg, "harvested=\"\""));
    OK(d1_config_validate(cfg));
}

void mm_small_system_config(d1_config *cfg, int cols, int rows, int cx, int cy)
{
    char buf[64];
    mm_small_config(cfg, cols, rows);
    snprintf(buf, sizeof buf, "tile_chips_x=%d", cx);
    OK(d1_config_set(cfg, buf));
    snprintf(buf, sizeof buf, "tile_chips_y=%d", cy);
    OK(d1_config_set(cfg, buf));
    OK(d1_config_validate(cfg));
}
