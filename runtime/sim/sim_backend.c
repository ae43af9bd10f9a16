/* The simulator backend: tensors as host images of device memory, matmul and the
 * elementwise ops on the simulator, the rest declined (CPU fallback). See sim_backend.h. */
#include "sim_backend.h"

#include "sim_ew.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct sim_ctx {
    d1_config cfg;
    d1r_kcache *kc;
    d1s_node_mode mode;
    d1k_plan_opts opts; /* target kind + overrides */
    d1r_sim_totals tot;
    uint64_t dev_nodes; /* usable nodes of the whole target (chip or system) */
    d1r_op_cost last;   /* cost of the last run() */
} sim_ctx;

static uint64_t cyc_to_ns(const d1_config *cfg, uint64_t cyc)
{
    return (uint64_t)(d1_config_cyc_to_s(cfg, cyc) * 1e9 + 0.5);
}

static void sim_free(void *ctx)
{
    sim_ctx *s = ctx;
    if (!s)
        return;
    d1r_kcache_destroy(s->kc);
    d1_config_fini(&s->cfg);
    free(s);
}

static d1_status sim_tensor_alloc(void *ctx, d1r_tensor *t)
{
    (void)ctx;
    t->data = calloc(1, t->nbytes);
    if (!t->data)
        return d1_fail(D1_E_NOMEM, "sim: no memory for a tensor of %zu bytes", t->nbytes);
    return D1_OK;
}

static void sim_tensor_free(void *ctx, d1r_tensor *t)
{
    (void)ctx;
    free(t->data);
    t->data = NULL;
}

static d1_status sim_tensor_set(void *ctx, d1r_tensor *t, const void *src, size_t offset,
                                size_t size)
{
    (void)ctx;
    memcpy((char *)t->data + offset, src, size);
    return D1_OK;
}

static d1_status sim_tensor_get(void *ctx, const d1r_tensor *t, void *dst, size_t offset,
                                size_t size)
{
    (void)ctx;
    memcpy(dst, (const char *)t->data + offset, size);
    return D1_OK;
}

/* The matmul of checked args as a kernel description. */
static void mm_desc(const d1r_op_args *a, d1k_matmul_desc *d)
{
    const d1r_tensor *A = a->t[0], *B = a->t[1], *C = a->t[2];
    memset(d, 0, sizeof *d);
    d->M = C->shape[0];
    d->N = C->shape[1];
    d->K = a->mm.trans_a ? A->shape[0] : A->shape[1];
    d->a_dtype = A->dtype;
    d->b_dtype = B->dtype;
    d->c_dtype = C->dtype;
    d->a_bias = A->bias;
    d->b_bias = B->bias;
    d->trans_a = a->mm.trans_a;
    d->trans_b = a->mm.trans_b;
    d->accumulate = a->mm.accumulate;
    d->round = a->mm.round;
    d->seed = a->mm.seed;
}

static bool sim_supports(void *ctx, const d1r_op_args *a)
{
    sim_ctx *s = ctx;
    if (a->op != D1R_OP_MATMUL)
        return s->mode == D1S_NODE_FUNCTIONAL && d1r_sim_ew_supported(&s->cfg, a);
    d1k_matmul_desc d;
    mm_desc(a, &d);
    if (!d1k_matmul_dtypes_ok(d.a_dtype, d.b_dtype, d.c_dtype))
        return false;
    d1k_plan p; /* cheap (no emission); declines shapes that do not fit in SRAM */
    return d1k_plan_matmul(&s->cfg, &d, &s->opts, &p) == D1_OK;
}

static d1_status sim_run(void *ctx, const d1r_op_args *a)
{
    sim_ctx *s = ctx;
    if (a->op != D1R_OP_MATMUL) {
        uint64_t cyc = 0;
        d1_status st = d1r_sim_ew_run(&s->cfg, s->kc, a, &cyc);
        if (st == D1_OK) {
            s->tot.op_launches[a->op]++;
            s->tot.op_cycles[a->op] += cyc;
            s->last.device_ns = cyc_to_ns(&s->cfg, cyc);
            s->last.mxu_ops = 0;
            s->last.mxu_slots = cyc * s->dev_nodes;
        }
        return st;
    }
    d1k_matmul_desc d;
    mm_desc(a, &d);
    const d1r_tensor *A = a->t[0], *B = a->t[1];
    d1r_tensor *C = a->t[2];
    d1k_operand oa = {A->dtype, A->bias, A->data, (size_t)A->shape[1], d.trans_a};
    d1k_operand ob = {B->dtype, B->bias, B->data, (size_t)B->shape[1], d.trans_b};
    d1r_sim_launch ls;
    d1_status st = d1r_sim_matmul(&s->cfg, s->kc, &d, &s->opts, &oa, &ob,
                                  C->data, (size_t)d.N, s->mode, &ls);
    if (st != D1_OK)
        return st;
    s->tot.launches++;
    s->tot.cycles += ls.cycles;
    s->tot.op_launches[D1R_OP_MATMUL]++;
    s->tot.op_cycles[D1R_OP_MATMUL] += ls.cycles;
    s->tot.sim_seconds += ls.sim_seconds;
    s->tot.mma += ls.mma;
    s->tot.noc_bytes += ls.noc_bytes;
    s->tot.link_flits += ls.link_flits;
    s->tot.host_ns += ls.compile_ns + ls.stage_ns + ls.run_ns + ls.gather_ns;
    s->tot.last = ls;
    s->last.device_ns = cyc_to_ns(&s->cfg, ls.cycles);
    s->last.mxu_ops = ls.mma;
    s->last.mxu_slots = ls.cycles * s->dev_nodes;
    return D1_OK;
}

static void sim_stats_print(void *ctx, FILE *f) { d1r_sim_backend_print(ctx, f); }

static void sim_last_cost(void *ctx, d1r_op_cost *out) { *out = ((const sim_ctx *)ctx)->last; }

static const d1r_backend_iface sim_iface = {
    .name = "sim",
    .free = sim_free,
    .tensor_alloc = sim_tensor_alloc,
    .tensor_free = sim_tensor_free,
    .tensor_set = sim_tensor_set,
    .tensor_get = sim_tensor_get,
    .supports = sim_supports,
    .run = sim_run,
    .synchronize = NULL,
    .stats_print = sim_stats_print,
    .last_cost = sim_last_cost,
};

d1_status d1r_sim_backend_create(const char *spec, d1r_backend *out, void **ctx_out)
{
    sim_ctx *s = calloc(1, sizeof *s);
    if (!s)
        return d1_fail(D1_E_NOMEM, "sim: out of memory");
    d1_status st = d1r_sim_config(spec, &s->cfg, &s->opts.target);
    if (st != D1_OK) {
        free(s);
        return st;
    }
    if ((st = d1r_kcache_create(16, &s->kc)) != D1_OK) {
        d1_config_fini(&s->cfg);
        free(s);
        return st;
    }
    s->mode = D1S_NODE_FUNCTIONAL;
    {
        int h = d1_config_harvested(&s->cfg, NULL, 0);
        uint64_t per_chip = (uint64_t)(s->cfg.mesh_cols * s->cfg.mesh_rows - (h > 0 ? h : 0));
        s->dev_nodes = per_chip;
        if (s->opts.target == D1K_TARGET_SYSTEM)
            s->dev_nodes *= (uint64_t)(s->cfg.tile_chips_x * s->cfg.tiles_x) *
                            (uint64_t)(s->cfg.tile_chips_y * s->cfg.tiles_y);
    }
    out->iface = &sim_iface;
    out->ctx = s;
    if (ctx_out)
        *ctx_out = s;
    return D1_OK;
}

d1_status d1r_sim_device_open(const char *spec, d1r_device **dev, void **ctx_out)
{
    d1r_backend be;
    d1_status st = d1r_sim_backend_create(spec, &be, ctx_out);
    if (st != D1_OK)
        return st;
    return d1r_device_open_backend("sim", be, dev);
}

const d1r_sim_totals *d1r_sim_backend_totals(const void *ctx)
{
    return &((const sim_ctx *)ctx)->tot;
}

const d1_config *d1r_sim_backend_config(const void *ctx) { return &((const sim_ctx *)ctx)->cfg; }

void d1r_sim_backend_set_mode(void *ctx, d1s_node_mode mode) { ((sim_ctx *)ctx)->mode = mode; }

void d1r_sim_backend_set_plan_opts(void *ctx, const d1k_plan_opts *opts)
{
    sim_ctx *s = ctx;
    d1k_target t = s->opts.target;
    memset(&s->opts, 0, sizeof s->opts);
    if (opts)
        s->opts = *opts;
    s->opts.target = t;
}

void d1r_sim_backend_print(const void *ctx, FILE *f)
{
    const sim_ctx *s = ctx;
    const d1r_sim_totals *t = &s->tot;
    const d1r_sim_launch *l = &t->last;
    fprintf(f, "sim backend: %" PRIu64 " matmul launch(es), %" PRIu64 " simulated matmul cycles "
               "(%.3f us), host %.3f s; kernel cache %" PRIu64 " hits, %" PRIu64 " misses\n",
            t->launches, t->cycles, t->sim_seconds * 1e6, (double)t->host_ns / 1e9,
            d1r_kcache_hits(s->kc), d1r_kcache_misses(s->kc));
    double hz = (double)s->cfg.clock_mhz * 1e6;
    for (int op = 0; op < D1R_OP_COUNT; op++)
        if (t->op_launches[op])
            fprintf(f, "  %-22s %8" PRIu64 " launch(es) on the simulator, %12" PRIu64
                       " cycles = %10.3f us simulated\n",
                    d1r_op_name((d1r_op)op), t->op_launches[op], t->op_cycles[op],
                    (double)t->op_cycles[op] / hz * 1e6);
    if (!t->launches)
        return;
    fprintf(f, "last matmul launch: %" PRIu64 " cycles (%.3f us) on %u nodes, %.2f TFLOPS = %.1f%% of "
               "peak, matrix unit %.1f%% busy, NoC %" PRIu64 " B (%" PRIu64 " link flits), "
               "SerDes %" PRIu64 " B, HBM %" PRIu64 " B; predicted %" PRIu64 " cycles, bound %s\n",
            l->cycles, l->sim_seconds * 1e6, l->nodes, l->tflops, l->pct_peak,
            100.0 * l->mxu_util, l->noc_bytes, l->link_flits, l->serdes_bytes, l->hbm_bytes,
            l->pred_cycles, l->bound ? l->bound : "-");
}
