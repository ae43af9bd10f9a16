/* Window scheduler (see window.h). */
#include "window.h"

#include <stdlib.h>
#include <string.h>

typedef struct part {
    d1s_clock *clk;
    d1s_deliver_fn deliver;
    void *ctx;
    d1s_xmsg *out; /* outbox of this window (only this partition appends: thread-safe later) */
    uint32_t n_out, cap_out;
    uint32_t seq;
} part;

struct d1s_sched {
    uint64_t W, now;
    part *p;
    uint32_t n, cap;
    d1s_xmsg *all; /* exchange buffer */
    uint32_t cap_all;
    uint64_t delivered;
};

d1_status d1s_sched_create(uint64_t window_cyc, d1s_sched **out)
{
    *out = NULL;
    if (window_cyc < 1)
        return d1_fail(D1_E_INVAL, "window length must be >= 1 cycle");
    d1s_sched *s = calloc(1, sizeof *s);
    if (!s)
        return d1_fail(D1_E_NOMEM, "window scheduler");
    s->W = window_cyc;
    *out = s;
    return D1_OK;
}

void d1s_sched_destroy(d1s_sched *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n; i++)
        free(s->p[i].out);
    free(s->p);
    free(s->all);
    free(s);
}

d1_status d1s_sched_add_part(d1s_sched *s, d1s_clock *clk, d1s_deliver_fn deliver, void *ctx,
                             uint32_t *id)
{
    if (!clk || !deliver)
        return d1_fail(D1_E_INVAL, "partition without clock or deliver function");
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 4;
        part *np = realloc(s->p, cap * sizeof *np);
        if (!np)
            return d1_fail(D1_E_NOMEM, "partitions");
        s->p = np;
        s->cap = cap;
    }
    part *p = &s->p[s->n];
    memset(p, 0, sizeof *p);
    p->clk = clk;
    p->deliver = deliver;
    p->ctx = ctx;
    *id = s->n++;
    return D1_OK;
}

uint64_t d1s_sched_window_cyc(const d1s_sched *s)
{
    return s->W;
}
uint64_t d1s_sched_now(const d1s_sched *s)
{
    return s->now;
}
uint64_t d1s_sched_delivered(const d1s_sched *s)
{
    return s->delivered;
}

d1_status d1s_sched_post(d1s_sched *s, const d1s_xmsg *msg)
{
    if (msg->src_part >= s->n || msg->dst_part >= s->n)
        return d1_fail(D1_E_INVAL, "message between unknown partitions %u -> %u", msg->src_part,
                       msg->dst_part);
    if (msg->deliver_cyc < s->now + s->W)
        return d1_fail(D1_E_INVAL,
                       "message for cycle %llu posted in the window ending at %llu: cross-"
                       "partition latency must be >= the window (%llu cycles)",
                       (unsigned long long)msg->deliver_cyc, (unsigned long long)(s->now + s->W),
                       (unsigned long long)s->W);
    part *p = &s->p[msg->src_part];
    if (p->n_out == p->cap_out) {
        uint32_t cap = p->cap_out ? p->cap_out * 2 : 64;
        d1s_xmsg *no = realloc(p->out, cap * sizeof *no);
        if (!no)
            return d1_fail(D1_E_NOMEM, "outbox");
        p->out = no;
        p->cap_out = cap;
    }
    d1s_xmsg *m = &p->out[p->n_out++];
    *m = *msg;
    m->seq = p->seq++;
    return D1_OK;
}

static int msg_cmp(const void *a, const void *b)
{
    const d1s_xmsg *x = a, *y = b;
    if (x->deliver_cyc != y->deliver_cyc)
        return x->deliver_cyc < y->deliver_cyc ? -1 : 1;
    if (x->src_part != y->src_part)
        return x->src_part < y->src_part ? -1 : 1;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return 0;
}

static d1_status exchange(d1s_sched *s)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < s->n; i++)
        total += s->p[i].n_out;
    if (!total)
        return D1_OK;
    if (total > s->cap_all) {
        d1s_xmsg *na = realloc(s->all, total * sizeof *na);
        if (!na)
            return d1_fail(D1_E_NOMEM, "exchange buffer");
        s->all = na;
        s->cap_all = total;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->p[i].n_out)
            memcpy(s->all + k, s->p[i].out, s->p[i].n_out * sizeof *s->all);
        k += s->p[i].n_out;
        s->p[i].n_out = 0;
    }
    qsort(s->all, total, sizeof *s->all, msg_cmp); /* keys are unique: order is total */
    for (uint32_t i = 0; i < total; i++) {
        const d1s_xmsg *m = &s->all[i];
        s->p[m->dst_part].deliver(s->p[m->dst_part].ctx, m);
    }
    s->delivered += total;
    return D1_OK;
}

d1_status d1s_sched_run_window(d1s_sched *s)
{
    uint64_t end = s->now + s->W;
    for (uint32_t i = 0; i < s->n; i++)
        d1s_clock_run_until(s->p[i].clk, end);
    s->now = end;
    return exchange(s);
}

d1_status d1s_sched_run_until(d1s_sched *s, uint64_t end_cyc)
{
    while (s->now < end_cyc) {
        /* skip whole windows in which no partition has anything to do */
        uint64_t t = UINT64_MAX;
        for (uint32_t i = 0; i < s->n; i++) {
            uint64_t e = d1s_clock_next_event(s->p[i].clk);
            if (e < t)
                t = e;
        }
        if (t > s->now + s->W) {
            uint64_t target = t == UINT64_MAX ? end_cyc : t;
            uint64_t skip = (target - s->now) / s->W * s->W;
            uint64_t max_skip = (end_cyc - s->now + s->W - 1) / s->W * s->W;
            if (skip > max_skip)
                skip = max_skip;
            if (skip) {
                s->now += skip;
                for (uint32_t i = 0; i < s->n; i++)
                    d1s_clock_run_until(s->p[i].clk, s->now); /* all idle: just moves time */
                continue;
            }
        }
        d1_status st = d1s_sched_run_window(s);
        if (st != D1_OK)
            return st;
    }
    return D1_OK;
}
