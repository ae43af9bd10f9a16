/* The CPU backend: tensors in host memory (64-byte aligned), every op (cpu_ops.c),
 * synchronous. Always present on every device as the fallback. */
#include "cpu_ops.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { CPU_ALIGN = 64 };

static void cpu_free(void *ctx)
{
    (void)ctx;
}

/* calloc (not aligned_alloc + memset): large tensors get lazily zeroed pages from the
 * kernel, so creating a big tensor does not touch its memory. The pointer calloc returned
 * is kept just below the aligned data. */
static d1_status cpu_tensor_alloc(void *ctx, d1r_tensor *t)
{
    (void)ctx;
    if (t->nbytes > SIZE_MAX - CPU_ALIGN)
        return d1_fail(D1_E_NOMEM, "cpu: tensor of %zu bytes", t->nbytes);
    char *raw = calloc(1, t->nbytes + CPU_ALIGN);
    if (!raw)
        return d1_fail(D1_E_NOMEM, "cpu: no memory for a tensor of %zu bytes", t->nbytes);
    uintptr_t aligned = ((uintptr_t)raw + CPU_ALIGN) & ~(uintptr_t)(CPU_ALIGN - 1);
    void **data = (void **)aligned;
    data[-1] = raw; /* malloc alignment >= 8 leaves room for it below `aligned` */
    t->data = data;
    return D1_OK;
}

static void cpu_tensor_free(void *ctx, d1r_tensor *t)
{
    (void)ctx;
    if (t->data)
        free(((void **)t->data)[-1]);
    t->data = NULL;
}

static d1_status cpu_tensor_set(void *ctx, d1r_tensor *t, const void *src, size_t offset,
                                size_t size)
{
    (void)ctx;
    memcpy((char *)t->data + offset, src, size);
    return D1_OK;
}

static d1_status cpu_tensor_get(void *ctx, const d1r_tensor *t, void *dst, size_t offset,
                                size_t size)
{
    (void)ctx;
    memcpy(dst, (const char *)t->data + offset, size);
    return D1_OK;
}

static bool cpu_supports(void *ctx, const d1r_op_args *args)
{
    (void)ctx;
    (void)args;
    return true;
}

static d1_status cpu_run(void *ctx, const d1r_op_args *args)
{
    (void)ctx;
    return d1r_cpu_run(args);
}

static const d1r_backend_iface cpu_iface = {
    .name = "cpu",
    .free = cpu_free,
    .tensor_alloc = cpu_tensor_alloc,
    .tensor_free = cpu_tensor_free,
    .tensor_set = cpu_tensor_set,
    .tensor_get = cpu_tensor_get,
    .supports = cpu_supports,
    .run = cpu_run,
    .synchronize = NULL,
};

d1_status d1r_cpu_backend_init(d1r_backend *out)
{
    out->iface = &cpu_iface;
    out->ctx = NULL;
    return D1_OK;
}
