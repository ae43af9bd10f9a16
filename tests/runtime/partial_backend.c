/* A test-only backend that supports some ops, registered through d1r_device_open_backend.
 * Its storage is scrambled (every byte XOR 0x5A), so an op that read device memory without
 * going through tensor_get/tensor_set (a broken fallback) would compute garbage. */
#include "helpers.h"

#include "runtime/cpu/cpu_ops.h"

#include <stdlib.h>
#include <string.h>

enum { SCRAMBLE = 0x5A };

static void scramble(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    for (size_t i = 0; i < n; i++)
        d[i] = s[i] ^ SCRAMBLE;
}

static void partial_free(void *ctx)
{
    free(ctx);
}

static d1_status partial_tensor_alloc(void *ctx, d1r_tensor *t)
{
    if (((rt_partial *)ctx)->fail_alloc)
        return d1_fail(D1_E_NOMEM, "partial: injected allocation failure");
    t->data = malloc(t->nbytes);
    if (!t->data)
        return d1_fail(D1_E_NOMEM, "partial: no memory");
    memset(t->data, SCRAMBLE, t->nbytes); /* zero bits, scrambled */
    return D1_OK;
}

static void partial_tensor_free(void *ctx, d1r_tensor *t)
{
    (void)ctx;
    free(t->data);
    t->data = NULL;
}

static d1_status partial_tensor_set(void *ctx, d1r_tensor *t, const void *src, size_t offset,
                                    size_t size)
{
    (void)ctx;
    scramble((char *)t->data + offset, src, size);
    return D1_OK;
}

static d1_status partial_tensor_get(void *ctx, const d1r_tensor *t, void *dst, size_t offset,
                                    size_t size)
{
    if (((rt_partial *)ctx)->fail_get)
        return d1_fail(D1_E_IO, "partial: injected read error");
    scramble(dst, (const char *)t->data + offset, size);
    return D1_OK;
}

static bool partial_supports(void *ctx, const d1r_op_args *a)
{
    ((rt_partial *)ctx)->queries++;
    switch (a->op) {
    case D1R_OP_RELU:
    case D1R_OP_SCALE:
        return true;
    case D1R_OP_MATMUL:
        return a->t[2]->dtype == D1_FP32;
    default:
        return false;
    }
}

/* Runs a supported op: unscramble into host copies (one per distinct tensor), compute with
 * the CPU kernels, scramble every operand back (inputs come back unchanged). */
static d1_status partial_run(void *ctx, const d1r_op_args *a)
{
    (void)ctx;
    ck_assert(a->op == D1R_OP_RELU || a->op == D1R_OP_SCALE || a->op == D1R_OP_MATMUL);
    d1r_tensor host[D1R_OP_MAX_TENSORS];
    d1r_op_args c = *a;
    for (int i = 0; i < a->ntensors; i++) {
        int j = 0;
        while (j < i && a->t[j] != a->t[i])
            j++;
        if (j < i) {
            c.t[i] = c.t[j];
            continue;
        }
        host[i] = *a->t[i];
        host[i].data = malloc(a->t[i]->nbytes);
        ck_assert_ptr_nonnull(host[i].data);
        scramble(host[i].data, a->t[i]->data, a->t[i]->nbytes);
        c.t[i] = &host[i];
    }
    d1_status st = d1r_cpu_run(&c);
    for (int i = 0; i < a->ntensors; i++) {
        if (c.t[i] != &host[i])
            continue;
        scramble(a->t[i]->data, host[i].data, a->t[i]->nbytes);
        free(host[i].data);
    }
    return st;
}

static const d1r_backend_iface partial_iface = {
    .name = "partial",
    .free = partial_free,
    .tensor_alloc = partial_tensor_alloc,
    .tensor_free = partial_tensor_free,
    .tensor_set = partial_tensor_set,
    .tensor_get = partial_tensor_get,
    .supports = partial_supports,
    .run = partial_run,
    .synchronize = NULL,
};

d1r_device *rt_open_partial_ctl(rt_partial **ctl)
{
    rt_partial *p = calloc(1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    d1r_device *dev = NULL;
    CK_OK(d1r_device_open_backend("partial", (d1r_backend){&partial_iface, p}, &dev));
    if (ctl)
        *ctl = p;
    return dev;
}

d1r_device *rt_open_partial(void)
{
    return rt_open_partial_ctl(NULL);
}
