/* Matmul on the chip simulator: kernel cache, launch, statistics (see sim_matmul.h). */
#include "sim_matmul.h"

#include "sim/elf/kelf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

d1_status d1r_sim_config(const char *spec, d1_config *cfg, d1k_target *target)
{
    d1k_target dummy;
    if (!target)
        target = &dummy;
    if (!spec || strncmp(spec, "sim", 3) != 0 || (spec[3] != '\0' && spec[3] != ':'))
        return d1_fail(D1_E_INVAL, "device '%s' is not a simulator (sim, sim:chip, sim:tile, "
                       "sim:<config file>)", spec ? spec : "(null)");
    const char *t = spec[3] ? spec + 4 : "chip";
    if (!*t)
        return d1_fail(D1_E_INVAL, "device 'sim:': empty target (chip, tile or a config file)");
    *target = D1K_TARGET_CHIP;
    const char *file = strcmp(t, "chip") != 0 ? t : NULL;
    if (!strcmp(t, "tile") || !strncmp(t, "tile:", 5)) {
        *target = D1K_TARGET_SYSTEM;
        file = t[4] ? t + 5 : NULL;
        if (file && !*file)
            return d1_fail(D1_E_INVAL, "device '%s': empty config file name", spec);
    }
    d1_status s = d1_config_init(cfg);
    if (s != D1_OK)
        return s;
    if (file && (s = d1_config_load_file(cfg, file)) != D1_OK) {
        d1_config_fini(cfg);
        return s;
    }
    if ((s = d1_config_validate(cfg)) != D1_OK)
        d1_config_fini(cfg);
    return s;
}

/* ---- kernel cache ------------------------------------------------------------------------ */

typedef struct kc_key {
    int64_t M, N, K;
    int a, b, c, round;
    int ta, tb, acc;
    d1k_plan_opts opts;
    uint64_t cfg_hash;
} kc_key;

typedef struct kc_entry {
    kc_key key;
    d1k_plan plan;
    d1s_kernel *kernel;
    uint64_t used; /* LRU clock */
} kc_entry;

struct d1r_kcache {
    kc_entry *e;
    size_t n, cap;
    uint64_t clock, hits, misses;
    d1s_chip *route_tmpl;  /* d1r_kcache_route_template */
    d1_config route_cfg;   /* its configuration (owned copy; valid if route_tmpl) */
    uint64_t route_hash;
};

d1_status d1r_kcache_create(size_t capacity, d1r_kcache **out)
{
    *out = NULL;
    d1r_kcache *kc = calloc(1, sizeof *kc);
    if (!kc || !(kc->e = calloc(capacity ? capacity : 1, sizeof *kc->e))) {
        free(kc);
        return d1_fail(D1_E_NOMEM, "kernel cache: out of memory");
    }
    kc->cap = capacity ? capacity : 1;
    *out = kc;
    return D1_OK;
}

void d1r_kcache_destroy(d1r_kcache *kc)
{
    if (!kc)
        return;
    for (size_t i = 0; i < kc->n; i++)
        d1s_kernel_destroy(kc->e[i].kernel);
    if (kc->route_tmpl) {
        d1s_chip_destroy(kc->route_tmpl);
        d1_config_fini(&kc->route_cfg);
    }
    free(kc->e);
    free(kc);
}

d1_status d1r_kcache_route_template(d1r_kcache *kc, const d1_config *cfg, const d1s_chip **out)
{
    uint64_t h = d1_config_hash(cfg);
    if (kc->route_tmpl && kc->route_hash == h) {
        *out = kc->route_tmpl;
        return D1_OK;
    }
    if (kc->route_tmpl) {
        d1s_chip_destroy(kc->route_tmpl);
        d1_config_fini(&kc->route_cfg);
        kc->route_tmpl = NULL;
    }
    d1_status st = d1_config_copy(&kc->route_cfg, cfg);
    if (st != D1_OK)
        return st;
    d1s_chip_opts co = {D1S_NODE_TIMING_ONLY, D1S_NET_NOC, 1};
    if ((st = d1s_chip_create(&kc->route_cfg, &co, &kc->route_tmpl)) != D1_OK) {
        kc->route_tmpl = NULL;
        d1_config_fini(&kc->route_cfg);
        return st;
    }
    kc->route_hash = h;
    *out = kc->route_tmpl;
    return D1_OK;
}

uint64_t d1r_kcache_hits(const d1r_kcache *kc) { return kc->hits; }
uint64_t d1r_kcache_misses(const d1r_kcache *kc) { return kc->misses; }

/* Keys are compared with memcmp: built in place after a memset (a struct copy need not
 * copy padding), options field by field. */
static void make_key(kc_key *k, const d1_config *cfg, const d1k_matmul_desc *op,
                     const d1k_plan_opts *o)
{
    memset(k, 0, sizeof *k);
    k->M = op->M, k->N = op->N, k->K = op->K;
    k->a = (int)op->a_dtype, k->b = (int)op->b_dtype, k->c = (int)op->c_dtype;
    k->round = op->c_dtype == D1_BF16 ? (int)op->round : 0;
    k->ta = op->trans_a, k->tb = op->trans_b, k->acc = op->accumulate;
    if (o) {
        k->opts.pr = o->pr, k->opts.pc = o->pc, k->opts.kb = o->kb;
        k->opts.cthreads = o->cthreads, k->opts.max_nodes = o->max_nodes;
        k->opts.chunk_bytes = o->chunk_bytes, k->opts.target = o->target;
        k->opts.hbm = o->hbm; /* a different kernel (HBM reads) for the same shape */
        k->opts.slots = o->slots, k->opts.dma_threads = o->dma_threads;
    }
    k->cfg_hash = d1_config_hash(cfg);
}

d1_status d1r_kcache_get(d1r_kcache *kc, const d1_config *cfg, const d1k_matmul_desc *op,
                         const d1k_plan_opts *opts, const d1k_plan **plan,
                         const d1s_kernel **kernel, int *hit)
{
    kc_key key;
    make_key(&key, cfg, op, opts);
    kc->clock++;
    for (size_t i = 0; i < kc->n; i++)
        if (memcmp(&kc->e[i].key, &key, sizeof key) == 0) {
            kc->e[i].used = kc->clock;
            kc->e[i].plan.op = *op; /* launch values (seed, biases) of this call */
            *plan = &kc->e[i].plan;
            *kernel = kc->e[i].kernel;
            *hit = 1;
            kc->hits++;
            return D1_OK;
        }
    d1k_plan p;
    d1_status st = d1k_plan_matmul(cfg, op, opts, &p);
    if (st != D1_OK)
        return st;
    d1s_target t;
    if ((st = d1s_target_from_config(cfg, &t)) != D1_OK)
        return st;
    d1s_kernel *k;
    if ((st = d1k_matmul_emit(&p, &t, &k)) != D1_OK)
        return st;
    size_t slot = kc->n;
    if (kc->n == kc->cap) {
        slot = 0;
        for (size_t i = 1; i < kc->n; i++)
            if (kc->e[i].used < kc->e[slot].used)
                slot = i;
        d1s_kernel_destroy(kc->e[slot].kernel);
    } else {
        kc->n++;
    }
    memcpy(&kc->e[slot].key, &key, sizeof key);
    kc->e[slot].plan = p;
    kc->e[slot].kernel = k;
    kc->e[slot].used = kc->clock;
    *plan = &kc->e[slot].plan;
    *kernel = k;
    *hit = 0;
    kc->misses++;
    return D1_OK;
}

/* ---- launch ------------------------------------------------------------------------------ */

/* A chip or a system of chips (sim/tile), behind one small interface. */
typedef struct runner {
    d1s_chip *chip;
    d1s_tile *tile;
} runner;

static d1s_node *runner_node(runner *r, uint32_t id)
{
    return r->chip ? d1s_chip_node(r->chip, id) : d1s_tile_node(r->tile, id);
}

static uint32_t runner_nodes(const runner *r)
{
    return r->chip ? d1s_chip_node_count(r->chip) : d1s_tile_node_count(r->tile);
}

static d1_status runner_write(void *ctx, uint32_t node, uint64_t addr, const void *src,
                              size_t len)
{
    d1s_node *n = runner_node(ctx, node);
    if (!n)
        return d1_fail(D1_E_INVAL, "sim matmul: no node %u", node);
    return d1s_node_sram_write(n, addr, src, len);
}

static d1_status runner_hbm_write(void *ctx, uint32_t dip, uint64_t addr, const void *src,
                                  size_t len)
{
    runner *r = ctx;
    d1s_dip *d = r->tile ? d1s_tile_dip(r->tile, dip) : NULL;
    if (!d)
        return d1_fail(D1_E_INVAL, "sim matmul: no DIP %u", dip);
    return d1s_hbm_write(d1s_dip_hbm(d), addr, src, len);
}

static d1_status runner_hbm_read(void *ctx, uint32_t dip, uint64_t addr, void *dst, size_t len)
{
    runner *r = ctx;
    d1s_dip *d = r->tile ? d1s_tile_dip(r->tile, dip) : NULL;
    if (!d)
        return d1_fail(D1_E_INVAL, "sim matmul: no DIP %u", dip);
    return d1s_hbm_read(d1s_dip_hbm(d), addr, dst, len);
}

static d1_status runner_read(void *ctx, uint32_t node, uint64_t addr, void *dst, size_t len)
{
    d1s_node *n = runner_node(ctx, node);
    if (!n)
        return d1_fail(D1_E_INVAL, "sim matmul: no node %u", node);
    return d1s_node_sram_read(n, addr, dst, len);
}

d1_status d1r_sim_matmul(const d1_config *cfg, d1r_kcache *kc, const d1k_matmul_desc *op,
                         const d1k_plan_opts *opts, const d1k_operand *a, const d1k_operand *b,
                         void *c, size_t ldc, d1s_node_mode mode, d1r_sim_launch *st)
{
    memset(st, 0, sizeof *st);
    uint64_t t0 = now_ns();
    const d1k_plan *p;
    const d1s_kernel *k;
    d1_status s = d1r_kcache_get(kc, cfg, op, opts, &p, &k, &st->cache_hit);
    if (s != D1_OK)
        return s;
    uint64_t t1 = now_ns();
    st->compile_ns = t1 - t0;
    runner rn = {NULL, NULL};
    const d1s_chip *like;
    if ((s = d1r_kcache_route_template(kc, cfg, &like)) != D1_OK)
        return s;
    bool system = opts && opts->target == D1K_TARGET_SYSTEM;
    if (system) {
        d1s_tile_opts to = {mode, 0};
        s = d1s_tile_create_like(cfg, &to, like, &rn.tile);
    } else {
        d1s_chip_opts co = {mode, D1S_NET_NOC, 1};
        d1s_chip_place pl;
        memset(&pl, 0, sizeof pl);
        pl.like = like;
        s = d1s_chip_create_placed(cfg, &co, &pl, &rn.chip);
    }
    if (s != D1_OK)
        return s;
    if (runner_nodes(&rn) < p->span) {
        s = d1_fail(D1_E_INVAL, "sim matmul: plan needs %u nodes, target has %u", p->span,
                    runner_nodes(&rn));
        goto out;
    }
    s = rn.chip ? d1s_chip_load_kernel(rn.chip, k) : d1s_tile_load_kernel(rn.tile, k);
    if (s != D1_OK)
        goto out;
    d1k_sram_io io = {&rn, runner_write, runner_read};
    d1k_hbm_io hio = {&rn, runner_hbm_write, runner_hbm_read};
    if (mode == D1S_NODE_FUNCTIONAL) {
        s = d1k_matmul_stage(p, a, b, c, ldc, &io, &hio);
    } else {
        uint8_t launch[64];
        d1k_matmul_launch_block(p, launch);
        for (uint32_t q = 0; q < p->nodes && s == D1_OK; q++)
            s = runner_write(&rn, d1k_plan_node_id(p, (int)(q / (uint32_t)p->pc), (int)(q % (uint32_t)p->pc)),
                             p->map.launch, launch, 64);
    }
    if (s != D1_OK)
        goto out;
    uint64_t t2 = now_ns();
    st->stage_ns = t2 - t1;
    d1s_chip_result res;
    if (rn.chip) {
        s = d1s_chip_run(rn.chip, 0, &res);
    } else {
        d1s_tile_result tr;
        s = d1s_tile_run(rn.tile, 0, &tr);
        res.end = tr.end;
        res.cycles = tr.cycles;
        res.trap = tr.trap;
    }
    if (s != D1_OK)
        goto out;
    uint64_t t3 = now_ns();
    st->run_ns = t3 - t2;
    if (res.end != D1S_END_HALTED) {
        st->trapped = 1;
        if (res.end == D1S_END_TRAP)
            snprintf(st->trap_msg, sizeof st->trap_msg,
                     "trap %s at node %u thread %d pc 0x%" PRIx64 " cycle %" PRIu64
                     " detail 0x%" PRIx64,
                     d1s_trap_name(res.trap.cause), res.trap.node, res.trap.thread, res.trap.pc,
                     res.trap.cycle, res.trap.detail);
        else
            snprintf(st->trap_msg, sizeof st->trap_msg, "stopped at max cycles");
        s = d1_fail(D1_E_TRAP, "sim matmul: %s", st->trap_msg);
        goto out;
    }
    if (mode == D1S_NODE_FUNCTIONAL && (s = d1k_matmul_unstage(p, c, ldc, &io)) != D1_OK)
        goto out;
    st->gather_ns = now_ns() - t3;
    d1s_chip_stats cs;
    if (rn.chip) {
        d1s_chip_get_stats(rn.chip, &cs);
    } else {
        d1s_tile_chip_stats(rn.tile, &cs);
        for (uint32_t ch = 0; ch < d1s_tile_chip_count(rn.tile); ch++)
            for (int dir = 0; dir < 4; dir++) {
                d1s_tile_link_stats ls;
                d1s_tile_get_link_stats(rn.tile, ch, dir, &ls);
                if (ls.exists)
                    st->serdes_bytes += ls.bytes;
            }
        for (uint32_t i = 0; i < d1s_tile_dip_count(rn.tile); i++) {
            d1s_dip_stats ds;
            d1s_dip_get_stats(d1s_tile_dip(rn.tile, i), &ds);
            st->hbm_bytes += ds.hbm_read_bytes + ds.hbm_write_bytes;
        }
    }
    st->cycles = res.cycles;
    st->sim_seconds = d1_config_cyc_to_s(cfg, res.cycles);
    st->tflops = st->sim_seconds > 0 ? (double)p->flops / st->sim_seconds / 1e12 : 0;
    double peak = (double)runner_nodes(&rn) * 512.0 * (double)cfg->clock_mhz * 1e6;
    st->pct_peak = 100.0 * st->tflops * 1e12 / peak;
    st->mma = cs.mma;
    st->mxu_util = res.cycles ? (double)cs.mma / ((double)res.cycles * p->nodes) : 0;
    st->noc_bytes = cs.dma_out_bytes;
    st->link_flits = cs.link_flits;
    st->pred_cycles = p->cyc_pred;
    st->bound = p->bound;
    st->nodes = p->nodes;
    st->target_nodes = runner_nodes(&rn);
    st->pr = p->pr;
    st->pc = p->pc;
out:
    d1s_chip_destroy(rn.chip);
    d1s_tile_destroy(rn.tile);
    return s;
}
