/* The sim backend's elementwise/reduction ops: d1r op -> d1k_ew kernel (kernels/elementwise.h)
 * on a fresh simulated chip (routing tables copied from the kernel cache's template). On a
 * system target the op runs on one chip of the system's chip configuration. Declined (CPU
 * fallback) when the kernel generator declines the shape and for ops without a d1k_ew
 * kernel. */
#include "sim_ew.h"

#include "kernels/elementwise.h"
#include "sim/chip/chip.h"
#include "sim/elf/kelf.h"

#include <stdlib.h>
#include <string.h>

/* d1k_ew kind of a d1r op (same names), or -1. */
static int ew_kind(d1r_op op)
{
    const char *name = d1r_op_name(op);
    for (int k = 0; k < D1K_EW_COUNT && name; k++)
        if (!strcmp(d1k_ew_info_of((d1k_ew_kind)k)->name, name))
            return k;
    return -1;
}

static d1_status chip_write(void *ctx, uint32_t node, uint64_t addr, const void *src, size_t len)
{
    d1s_node *n = d1s_chip_node(ctx, node);
    return n ? d1s_node_sram_write(n, addr, src, len)
             : d1_fail(D1_E_INVAL, "sim: no node %u", node);
}

static d1_status chip_read(void *ctx, uint32_t node, uint64_t addr, void *dst, size_t len)
{
    d1s_node *n = d1s_chip_node(ctx, node);
    return n ? d1s_node_sram_read(n, addr, dst, len)
             : d1_fail(D1_E_INVAL, "sim: no node %u", node);
}

static uint32_t chip_nodes(const d1_config *cfg)
{
    int h = d1_config_harvested(cfg, NULL, 0);
    return (uint32_t)(cfg->mesh_cols * cfg->mesh_rows - (h > 0 ? h : 0));
}

/* Place the op; D1_OK only if every placed operand has the d1r tensor's element count. */
static d1_status place(const d1_config *cfg, const d1r_op_args *a, d1k_ew_op *op)
{
    int kind = ew_kind(a->op);
    if (kind < 0)
        return d1_fail(D1_E_UNSUPPORTED, "sim: no kernel for %s", d1r_op_name(a->op));
    const d1r_tensor *x = a->t[0];
    int64_t rows = 1, cols = x->shape[x->ndim - 1];
    for (int i = 0; i + 1 < x->ndim; i++)
        rows *= x->shape[i];
    d1_dtype out = a->ntensors > 1 ? a->t[1]->dtype : x->dtype;
    memset(op, 0, sizeof *op);
    uint32_t maxn = d1k_ew_suggest_nodes((d1k_ew_kind)kind, rows, cols, chip_nodes(cfg));
    d1_status st = d1k_ew_place(op, (d1k_ew_kind)kind, rows, cols, x->dtype, out, maxn);
    if (st != D1_OK)
        return st;
    for (int i = 0; i < a->ntensors; i++) {
        const d1k_tensor_place *p = &op->t[i];
        d1_dtype want = a->t[i]->dtype == D1R_INT32 ? D1K_INT32 : a->t[i]->dtype;
        if ((size_t)(p->rows * p->cols) != a->t[i]->nelems || p->dtype != want)
            return d1_fail(D1_E_UNSUPPORTED, "sim: %s operand %d does not map", d1r_op_name(a->op),
                           i);
    }
    d1s_target t;
    if ((st = d1s_target_from_config(cfg, &t)) != D1_OK)
        return st;
    t.node_count = chip_nodes(cfg);
    return d1k_ew_check(op, &t);
}

bool d1r_sim_ew_supported(const d1_config *cfg, const d1r_op_args *a)
{
    d1k_ew_op op;
    return place(cfg, a, &op) == D1_OK;
}

static d1_status check_labels(const d1r_op_args *a)
{
    if (a->op != D1R_OP_SOFTMAX_XENT && a->op != D1R_OP_SOFTMAX_XENT_BACKWARD)
        return D1_OK;
    const int32_t *lab = a->t[1]->data;
    size_t rows = (size_t)a->t[0]->shape[0], cols = (size_t)a->t[0]->shape[1];
    for (size_t i = 0; i < rows; i++)
        if (lab[i] < 0 || (size_t)lab[i] >= cols)
            return d1_fail(D1_E_RANGE, "%s: label %zu is %d, not in 0..%zu", d1r_op_name(a->op),
                           i, (int)lab[i], cols - 1);
    return D1_OK;
}

d1_status d1r_sim_ew_run(const d1_config *cfg, d1r_kcache *kc, const d1r_op_args *a,
                         uint64_t *cycles)
{
    d1k_ew_op op;
    d1_status st = place(cfg, a, &op);
    if (st != D1_OK || (st = check_labels(a)) != D1_OK)
        return st;
    op.round = a->mm.round;
    op.seed = a->mm.seed;
    op.alpha = a->alpha;
    op.beta = a->beta;
    if (a->op == D1R_OP_CAST) {
        op.in_bias = a->t[0]->bias;
        op.out_bias = a->t[1]->bias_auto ? 0 : a->t[1]->bias;
        op.out_bias_auto = a->t[1]->bias_auto;
    }
    d1s_target t;
    if ((st = d1s_target_from_config(cfg, &t)) != D1_OK)
        return st;
    t.node_count = chip_nodes(cfg);
    d1s_kernel *k = NULL;
    if ((st = d1k_ew_emit(&op, &t, &k)) != D1_OK)
        return st;
    d1s_chip_opts co = {D1S_NODE_FUNCTIONAL, D1S_NET_NOC, 1};
    d1s_chip *chip = NULL;
    d1s_chip_place pl;
    memset(&pl, 0, sizeof pl);
    if ((st = d1r_kcache_route_template(kc, cfg, &pl.like)) != D1_OK)
        goto out;
    if ((st = d1s_chip_create_placed(cfg, &co, &pl, &chip)) != D1_OK)
        goto out;
    if ((st = d1s_chip_load_kernel(chip, k)) != D1_OK)
        goto out;
    d1k_sram_io io = {chip, chip_write, chip_read};
    const void *in[3] = {0};
    void *outp[3] = {0};
    for (int i = 0; i < a->ntensors; i++) {
        in[i] = a->t[i]->data;
        outp[i] = a->t[i]->data;
    }
    if ((st = d1k_ew_stage(&op, in, &io)) != D1_OK)
        goto out;
    d1s_chip_result res;
    if ((st = d1s_chip_run(chip, 0, &res)) != D1_OK)
        goto out;
    if (res.end != D1S_END_HALTED) {
        st = d1_fail(D1_E_TRAP, "sim: %s kernel stopped (%s at node %u pc 0x%llx)",
                     d1r_op_name(a->op),
                     res.end == D1S_END_TRAP ? d1s_trap_name(res.trap.cause) : "max cycles",
                     res.trap.node, (unsigned long long)res.trap.pc);
        goto out;
    }
    unsigned flags = 0;
    if ((st = d1k_ew_unstage(&op, outp, &io, &flags)) != D1_OK)
        goto out;
    if (a->op == D1R_OP_CAST) {
        if (a->flags)
            *a->flags |= flags;
        int bias;
        if ((st = d1k_ew_cast_bias(&op, &io, &bias)) != D1_OK)
            goto out;
        if (a->t[1]->bias_auto)
            a->t[1]->bias = bias;
    }
    *cycles = res.cycles;
out:
    d1s_chip_destroy(chip);
    d1s_kernel_destroy(k);
    return st;
}
