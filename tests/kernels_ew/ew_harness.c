/* Harness: simulator run of one elementwise kernel vs the CPU backend (ew_harness.h). */
#include "ew_harness.h"

#include "runtime/cpu/cpu_ops.h"
#include "test_main.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ew_standalone;
int ew_suggest;

static void ew_fail(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (ew_standalone) {
        fprintf(stderr, "ew: %s\n", buf);
        exit(2);
    }
    ck_abort_msg("%s", buf);
}
#define REQ(cond, ...)                                                                             \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ew_fail(__VA_ARGS__);                                                                  \
    } while (0)

/* ---- random inputs ------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static float bits_f(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* A value: mostly N(0,2)-ish uniform, sometimes an edge value. */
static float gen_value(uint64_t *s, int edge, int nan, float scale)
{
    uint64_t r = rng_next(s);
    uint32_t sign = (uint32_t)(r >> 63) << 31;
    if (edge) {
        switch (r % 23) {
        case 0:
            return bits_f(sign); /* +-0 */
        case 1:
            return bits_f(sign | ((uint32_t)(r >> 8) & 0x007fffffu)); /* denormal */
        case 2:
            return bits_f(sign | (0x7e000000u + ((uint32_t)(r >> 8) & 0x00ffffffu))); /* huge */
        case 3: /* a BF16 tie: low 16 bits 0x8000 */
            return bits_f((((uint32_t)(r >> 12) & 0x3fff0000u) + 0x30000000u) | 0x8000u | sign);
        case 4:
            return bits_f(sign | 0x00800000u); /* smallest normal */
        case 5:
            return nan ? bits_f(0x7fc00000u | ((uint32_t)r & 0xffffu) | sign)
                       : bits_f(sign | 0x3f800000u);
        case 6:
            return nan ? bits_f(sign | 0x7f800000u) : 1.0f; /* Inf */
        default:
            break;
        }
    }
    double u = (double)(r >> 11) / 9007199254740992.0; /* [0,1) */
    return (float)((u * 2.0 - 1.0) * scale);
}

/* ---- simulator I/O ----------------------------------------------------------------------- */

static d1_status chip_write(void *ctx, uint32_t node, uint64_t addr, const void *src, size_t len)
{
    d1s_node *n = d1s_chip_node(ctx, node);
    return n ? d1s_node_sram_write(n, addr, src, len) : D1_E_INVAL;
}
static d1_status chip_read(void *ctx, uint32_t node, uint64_t addr, void *dst, size_t len)
{
    d1s_node *n = d1s_chip_node(ctx, node);
    return n ? d1s_node_sram_read(n, addr, dst, len) : D1_E_INVAL;
}

/* ---- the CPU side -------------------------------------------------------------------------- */

static void cpu_tensor(d1r_tensor *t, d1_dtype dt, int bias, int64_t d0, int64_t d1, void *data)
{
    memset(t, 0, sizeof *t);
    t->dtype = dt;
    t->ndim = d1 ? 2 : 1;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->nelems = (size_t)d0 * (size_t)(d1 ? d1 : 1);
    size_t es = dt == D1R_INT32 ? 4 : d1_dtype_size(dt);
    t->nbytes = t->nelems * es;
    t->bias = bias;
    t->data = data;
}

static d1r_op cpu_op_of(d1k_ew_kind k)
{
    static const d1r_op map[D1K_EW_COUNT] = {
        [D1K_EW_BIAS_ADD] = D1R_OP_BIAS_ADD,
        [D1K_EW_RELU] = D1R_OP_RELU,
        [D1K_EW_RELU_BACKWARD] = D1R_OP_RELU_BACKWARD,
        [D1K_EW_SOFTMAX_XENT] = D1R_OP_SOFTMAX_XENT,
        [D1K_EW_SOFTMAX_XENT_BACKWARD] = D1R_OP_SOFTMAX_XENT_BACKWARD,
        [D1K_EW_ROW_SUMS] = D1R_OP_ROW_SUMS,
        [D1K_EW_COL_SUMS] = D1R_OP_COL_SUMS,
        [D1K_EW_SCALE] = D1R_OP_SCALE,
        [D1K_EW_AXPY] = D1R_OP_AXPY,
        [D1K_EW_SGD] = D1R_OP_SGD,
        [D1K_EW_SGD_MOMENTUM] = D1R_OP_SGD_MOMENTUM,
        [D1K_EW_CAST] = D1R_OP_CAST,
        [D1K_EW_ARGMAX] = D1R_OP_ARGMAX,
    };
    return map[k];
}

/* Operands the op writes (bit i: operand i), from the runtime's table. */
static unsigned out_mask(d1r_op op)
{
    static const unsigned m[] = {
#define D1R_OP(sym, name, ntensors, outmask, operands) [D1R_OP_##sym] = outmask,
#include "runtime/ops.def"
#undef D1R_OP
    };
    return m[op];
}

void ew_run_mode(const char *const *sets, const ew_case *c, uint64_t seed, int edge, int nan,
                 d1s_node_mode mode, ew_result *res)
{
    memset(res, 0, sizeof *res);
    d1_config cfg;
    REQ(d1_config_init(&cfg) == D1_OK, "config");
    for (int i = 0; sets && sets[i]; i++)
        REQ(d1_config_set(&cfg, sets[i]) == D1_OK, "%s", d1_last_error());
    d1s_chip_opts o = {mode, D1S_NET_NOC, 1};
    d1s_chip *chip;
    REQ(d1s_chip_create(&cfg, &o, &chip) == D1_OK, "%s", d1_last_error());
    d1s_target tg = {d1s_chip_node_count(chip), (uint64_t)cfg.sram_bytes, 0};

    d1k_ew_op op;
    memset(&op, 0, sizeof op);
    uint32_t maxn = tg.node_count - c->node_first;
    if (ew_suggest)
        maxn = d1k_ew_suggest_nodes(c->kind, c->rows, c->cols, maxn);
    REQ(d1k_ew_place(&op, c->kind, c->rows, c->cols, c->in, c->out, maxn) == D1_OK, "%s",
        d1_last_error());
    for (int i = 0; i < 3; i++)
        op.t[i].node_first += c->node_first;
    op.threads = c->threads;
    if (c->inplace) { /* output operand -> the address of the input it may alias */
        static const int8_t alias[D1K_EW_COUNT][2] = {
            [D1K_EW_BIAS_ADD] = {2, 0},      [D1K_EW_RELU] = {1, 0},
            [D1K_EW_RELU_BACKWARD] = {2, 1}, [D1K_EW_SOFTMAX_XENT_BACKWARD] = {2, 0},
            [D1K_EW_SCALE] = {1, 0},
        };
        REQ(alias[c->kind][0] != 0, "in-place case for an op without aliasing");
        op.t[alias[c->kind][0]].addr = op.t[alias[c->kind][1]].addr;
    }
    op.round = c->round;
    /* compiled with other launch-time values than those of the launch: the kernel must
     * take them from the launch block that d1k_ew_stage writes */
    op.alpha = 0.25f;
    op.beta = 0.5f;
    op.seed = 1;
    op.in_bias = (c->in_bias + 1) % 64;
    op.out_bias = (c->out_bias + 7) & 63;
    op.out_bias_auto = c->out_bias < 0; /* chosen on the device */
    d1s_kernel *k;
    REQ(d1k_ew_emit(&op, &tg, &k) == D1_OK, "%s", d1_last_error());
    op.alpha = c->kind == D1K_EW_SGD || c->kind == D1K_EW_SGD_MOMENTUM ? 0.1f : -1.7f;
    op.beta = 0.9f;
    op.seed = seed * 77 + 5;
    op.in_bias = c->in_bias;
    op.out_bias = c->out_bias;
    REQ(d1s_chip_load_kernel(chip, k) == D1_OK, "%s", d1_last_error());
    d1k_sram_io io = {chip, chip_write, chip_read};

    /* host operands: generate, stage, and keep a CPU copy */
    const d1k_ew_info *inf = d1k_ew_info_of(c->kind);
    d1r_op cop = cpu_op_of(c->kind);
    unsigned outs = out_mask(cop);
    void *host[3] = {0}, *cpu[3] = {0}, *sim[3] = {0};
    size_t bytes[3] = {0};
    d1r_tensor ct[3];
    uint64_t s = seed;
    for (int i = 0; i < inf->ntensors; i++) {
        const d1k_tensor_place *p = &op.t[i];
        size_t es = d1k_place_esize(p), n = (size_t)(p->rows * p->cols);
        bytes[i] = n * es;
        host[i] = calloc(n, es);
        cpu[i] = calloc(n, es);
        sim[i] = calloc(n, es);
        REQ(host[i] && cpu[i] && sim[i], "no memory");
        if (p->dtype == D1K_INT32) { /* labels */
            int32_t *l = host[i];
            for (size_t j = 0; j < n; j++)
                l[j] = (int32_t)(rng_next(&s) % (uint64_t)c->cols);
        } else if (p->dtype == D1_FP32) {
            float *f = host[i];
            float scale = c->kind == D1K_EW_SOFTMAX_XENT || c->kind == D1K_EW_SOFTMAX_XENT_BACKWARD
                              ? 12.0f
                              : 4.0f;
            if (c->kind == D1K_EW_CAST && c->out_bias < 0) /* spread the chosen biases */
                scale = ldexpf(1.0f, (int)(seed % 48) - 24);
            for (size_t j = 0; j < n; j++)
                f[j] = gen_value(&s, edge, nan == 1, scale);
            if (nan == 2) { /* one NaN and one Inf per tensor: no two NaNs meet */
                f[rng_next(&s) % n] = bits_f(0x7fc01234u);
                f[rng_next(&s) % n] = bits_f(0xff800000u);
            }
        } else {
            uint8_t *b = host[i];
            for (size_t j = 0; j < bytes[i]; j++)
                b[j] = (uint8_t)rng_next(&s);
        }
        memcpy(cpu[i], host[i], bytes[i]);
        int64_t d0 = p->rows, d1 = p->cols;
        if (i > 0 && p->cols == 1 && c->kind != D1K_EW_CAST) /* vectors [R] (labels, sums, idx) */
            d1 = 0;
        if (c->kind == D1K_EW_COL_SUMS && i == 1)
            d0 = p->cols, d1 = 0;
        if (c->kind == D1K_EW_BIAS_ADD && i == 1)
            d0 = p->cols, d1 = 0;
        cpu_tensor(&ct[i], p->dtype == D1K_INT32 ? D1R_INT32 : p->dtype,
                   i == 0 ? c->in_bias : c->out_bias, d0, d1, cpu[i]);
    }
    /* the op's inputs (the table says which) and the launch block */
    REQ(d1k_ew_stage(&op, (const void *const *)host, &io) == D1_OK, "%s", d1_last_error());
    if (c->kind == D1K_EW_CAST) { /* effective biases, as the runtime keeps them */
        ct[0].bias = d1_fmt_bias(c->in, c->in_bias);
        ct[1].bias = c->out_bias < 0 ? 0 : d1_fmt_bias(c->out, c->out_bias);
        ct[1].bias_auto = c->out_bias < 0;
    }

    if (mode == D1S_NODE_TIMING_ONLY) { /* no data: only the cycles */
        d1s_chip_result rt;
        REQ(d1s_chip_run(chip, 50000000, &rt) == D1_OK, "run: %s", d1_last_error());
        REQ(rt.end == D1S_END_HALTED, "timing-only run ended %d", (int)rt.end);
        res->cycles = rt.cycles;
        for (int i = 0; i < 3; i++) {
            free(host[i]);
            free(cpu[i]);
            free(sim[i]);
        }
        d1s_kernel_destroy(k);
        d1s_chip_destroy(chip);
        d1_config_fini(&cfg);
        return;
    }
    d1s_chip_result r;
    REQ(d1s_chip_run(chip, 50000000, &r) == D1_OK, "run: %s", d1_last_error());
    REQ(r.end == D1S_END_HALTED, "run ended %d (trap %s at node %u pc %llu)", (int)r.end,
        d1s_trap_name(r.trap.cause), r.trap.node, (unsigned long long)r.trap.pc);
    d1s_chip_stats st;
    d1s_chip_get_stats(chip, &st);
    res->cycles = r.cycles;
    res->insns = st.insns;
    res->nodes = op.t[0].nodes;
    res->predicted = d1k_ew_predict_cycles(&op, &cfg);

    d1r_op_args a;
    memset(&a, 0, sizeof a);
    a.op = cop;
    a.ntensors = inf->ntensors;
    for (int i = 0; i < inf->ntensors; i++)
        a.t[i] = &ct[i];
    a.alpha = op.alpha;
    a.beta = op.beta;
    a.mm.round = op.round;
    a.mm.seed = op.seed;
    unsigned cpu_flags = 0, sim_flags = 0;
    a.flags = &cpu_flags;
    REQ(d1r_cpu_run(&a) == D1_OK, "%s", d1_last_error());

    REQ(d1k_ew_unstage(&op, sim, &io, &sim_flags) == D1_OK, "%s", d1_last_error());
    if (c->kind == D1K_EW_CAST) {
        int sb = -1;
        REQ(d1k_ew_cast_bias(&op, &io, &sb) == D1_OK, "%s", d1_last_error());
        if (sb != d1_fmt_bias(c->out, ct[1].bias)) {
            res->mismatches++;
            snprintf(res->detail, sizeof res->detail, "%s %lldx%lld: bias sim %d cpu %d", inf->name,
                     (long long)c->rows, (long long)c->cols, sb, ct[1].bias);
        }
    }
    if (sim_flags != cpu_flags) {
        res->mismatches++;
        snprintf(res->detail, sizeof res->detail, "%s %lldx%lld: flags sim 0x%x cpu 0x%x",
                 inf->name, (long long)c->rows, (long long)c->cols, sim_flags, cpu_flags);
    }
    for (int i = 0; i < inf->ntensors; i++) {
        if (!(outs & (1u << i)))
            continue;
        if (memcmp(sim[i], cpu[i], bytes[i]) == 0)
            continue;
        res->mismatches++;
        size_t es = d1k_place_esize(&op.t[i]);
        for (size_t j = 0; j < bytes[i] / es; j++) {
            uint32_t a32 = 0, b32 = 0, x32 = 0;
            memcpy(&a32, (uint8_t *)sim[i] + j * es, es);
            memcpy(&b32, (uint8_t *)cpu[i] + j * es, es);
            if (a32 == b32)
                continue;
            if (op.t[0].dtype == D1_FP32 && j < (size_t)(op.t[0].rows * op.t[0].cols))
                memcpy(&x32, (uint8_t *)host[0] + j * 4, 4);
            snprintf(res->detail, sizeof res->detail,
                     "%s %lldx%lld operand %d element %zu: sim 0x%08x cpu 0x%08x (x 0x%08x)",
                     inf->name, (long long)c->rows, (long long)c->cols, i, j, a32, b32, x32);
            break;
        }
    }
    for (int i = 0; i < 3; i++) {
        free(host[i]);
        free(cpu[i]);
        free(sim[i]);
    }
    d1s_kernel_destroy(k);
    d1s_chip_destroy(chip);
    d1_config_fini(&cfg);
}

void ew_run(const char *const *sets, const ew_case *c, uint64_t seed, int edge, int nan,
            ew_result *res)
{
    ew_run_mode(sets, c, seed, edge, nan, D1S_NODE_FUNCTIONAL, res);
}
