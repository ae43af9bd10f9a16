/* Backend interface (private to the runtime and its tests). ggml's shape: a backend is a
 * table of function pointers plus a context. The dispatcher in d1r.c checks every argument
 * once, then asks the device's backend supports(); if it says no, the op runs on the
 * device's CPU backend (always present) on copies of the tensors, the written tensors are
 * copied back, and the statistics count a fallback.
 *
 * An op that writes a tensor's bias (cast into a D1R_BIAS_AUTO tensor) sets t->bias; the
 * fallback copies the bias back with the data.
 *
 * Backends receive only checked arguments (shapes, dtypes, devices, aliasing as in d1r.h);
 * data-dependent errors (a label out of range) are theirs to report. */
#ifndef D1R_BACKEND_H
#define D1R_BACKEND_H

#include "d1r.h"

#define D1R_OP_MAX_TENSORS 3

struct d1r_tensor {
    d1r_device *dev;
    d1_dtype dtype;
    int ndim;
    int64_t shape[D1R_MAX_DIMS];
    size_t nelems, nbytes;
    int bias; /* effective bias (d1_fmt_bias); an op writing a bias_auto tensor (cast) sets it */
    bool bias_auto;
    void *data;              /* backend storage: a host pointer for the cpu backend */
    d1r_tensor *prev, *next; /* the device's list of live tensors */
};

/* One op call with its checked operands, in ops.def order. */
typedef struct d1r_op_args {
    d1r_op op;
    d1r_tensor *t[D1R_OP_MAX_TENSORS];
    int ntensors;
    float alpha;        /* scale/axpy: a; sgd, sgd_momentum: lr */
    float beta;         /* sgd_momentum: mu */
    d1r_matmul_opts mm; /* matmul; cast uses .round and .seed */
    unsigned *flags;    /* cast: conversion flags are OR-ed here (may be NULL) */
} d1r_op_args;

/* Device-side cost of one op run (backends that model time). */
typedef struct d1r_op_cost {
    uint64_t device_ns, mxu_ops, mxu_slots; /* as in d1r_op_stats */
} d1r_op_cost;

typedef struct d1r_backend_iface {
    const char *name;
    void (*free)(void *ctx);
    /* Storage for t (all fields but data are set; t->nbytes > 0), zero-filled. */
    d1_status (*tensor_alloc)(void *ctx, d1r_tensor *t);
    void (*tensor_free)(void *ctx, d1r_tensor *t);
    /* Raw bytes [offset, offset+size) of the tensor's storage (range checked by caller). */
    d1_status (*tensor_set)(void *ctx, d1r_tensor *t, const void *src, size_t offset, size_t size);
    d1_status (*tensor_get)(void *ctx, const d1r_tensor *t, void *dst, size_t offset, size_t size);
    bool (*supports)(void *ctx, const d1r_op_args *args);
    d1_status (*run)(void *ctx, const d1r_op_args *args);
    d1_status (*synchronize)(void *ctx); /* may be NULL: synchronous backend */
    /* May be NULL: backend statistics appended by d1r_device_stats_print (the sim backend:
     * simulated cycles and time per op, launch statistics). */
    void (*stats_print)(void *ctx, FILE *f);
    /* May be NULL (no modelled time): the cost of the op the last successful run() call
     * executed, added to that op's d1r_op_stats. */
    void (*last_cost)(void *ctx, d1r_op_cost *out);
} d1r_backend_iface;

typedef struct d1r_backend {
    const d1r_backend_iface *iface;
    void *ctx;
} d1r_backend;

/* Registration hook: open a device on a given backend (used for the sim backend later and
 * by tests for a partial backend). The device takes ownership of be.ctx (iface->free at
 * close, also when this call fails). The CPU fallback backend is created here. */
d1_status d1r_device_open_backend(const char *name, d1r_backend be, d1r_device **out);

/* The CPU backend (runtime/cpu/cpu_backend.c). */
d1_status d1r_cpu_backend_init(d1r_backend *out);

#endif
