#include "harness.h"

#include <check.h>
#include <string.h>

uint32_t th_enc(d1_op op, int a, int b, int c, int64_t imm)
{
    d1_insn in = {op, (uint8_t)a, (uint8_t)b, (uint8_t)c, imm};
    uint32_t w = 0;
    d1_status s = d1_insn_encode(&in, &w);
    ck_assert_msg(s == D1_OK, "encode %s: %s", d1_insn_info_of(op)->mnemonic, d1_last_error());
    return w;
}

int th_emit(th *h, d1_op op, int a, int b, int c, int64_t imm)
{
    ck_assert_int_lt(h->nw, TH_MAX_WORDS);
    h->w[h->nw] = th_enc(op, a, b, c, imm);
    return h->nw++;
}

static int net_send(void *ctx, const d1s_pkt *pkt, uint64_t now)
{
    th *h = ctx;
    if (h->qn >= TH_QUEUE)
        return 0;
    h->q[h->qn].pkt = *pkt;
    h->q[h->qn].due = now + TH_NET_LAT;
    h->qn++;
    return 1;
}

static int net_ok(void *ctx, uint32_t node)
{
    th *h = ctx;
    return node < (uint32_t)h->nn;
}

void th_init(th *h, d1s_node_mode mode, int nodes, const char *const *sets)
{
    memset(h, 0, sizeof *h);
    ck_assert_int_eq(d1_config_init(&h->cfg), D1_OK);
    for (int k = 0; sets && sets[k]; k++)
        ck_assert_msg(d1_config_set(&h->cfg, sets[k]) == D1_OK, "%s", d1_last_error());
    h->nn = nodes;
    d1s_net_port port = {h, net_send, net_ok};
    for (int k = 0; k < nodes; k++) {
        ck_assert_int_eq(d1s_node_create(&h->cfg, (uint32_t)k, (uint32_t)k, 0, mode, &h->n[k]),
                         D1_OK);
        d1s_node_set_port(h->n[k], &port);
    }
}

void th_start(th *h)
{
    ck_assert_int_eq(d1s_prog_create(h->w, (size_t)h->nw, &h->prog), D1_OK);
    for (int k = 0; k < h->nn; k++)
        ck_assert_int_eq(d1s_node_start(h->n[k], h->prog, 0, 0), D1_OK);
}

const d1s_trap *th_trap(const th *h)
{
    for (int k = 0; k < h->nn; k++)
        if (d1s_node_trap(h->n[k]))
            return d1s_node_trap(h->n[k]);
    return NULL;
}

static int done(const th *h)
{
    if (h->qn)
        return 0;
    for (int k = 0; k < h->nn; k++)
        if (!d1s_node_all_halted(h->n[k]) || !d1s_node_dma_idle(h->n[k]))
            return 0;
    return 1;
}

uint64_t th_run(th *h, uint64_t max_cyc)
{
    uint64_t now = 0;
    while (now < max_cyc) {
        for (int k = 0; k < h->nn; k++)
            d1s_node_eval(h->n[k], now);
        /* commit: deliver what is due, in order */
        int kept = 0;
        for (int i = 0; i < h->qn; i++) {
            th_pkt *p = &h->q[i];
            if (p->due <= now && d1s_node_deliver(h->n[p->pkt.dst], &p->pkt, now))
                continue;
            h->q[kept++] = *p;
        }
        h->qn = kept;
        if (th_trap(h) || done(h))
            break;
        uint64_t next = now + 1;
        if (h->skip) {
            next = D1S_NO_EVENT;
            for (int k = 0; k < h->nn; k++) {
                uint64_t e = d1s_node_next_event(h->n[k], now);
                next = e < next ? e : next;
            }
            for (int i = 0; i < h->qn; i++) {
                uint64_t e = h->q[i].due > now ? h->q[i].due : now + 1;
                next = e < next ? e : next;
            }
            if (next == D1S_NO_EVENT)
                break; /* deadlock: the caller checks */
        }
        now = next;
    }
    for (int k = 0; k < h->nn; k++)
        d1s_node_finish(h->n[k], now + 1);
    h->now = now + 1;
    return d1s_node_get_stats(h->n[0])->cycles;
}

void th_fini(th *h)
{
    for (int k = 0; k < h->nn; k++)
        d1s_node_destroy(h->n[k]);
    d1s_prog_destroy(h->prog);
    d1_config_fini(&h->cfg);
}
