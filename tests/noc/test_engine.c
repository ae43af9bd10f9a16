/* Engine: two-phase clock with idle skipping, window scheduler. */
#include "noc_harness.h"
#include "test_main.h"

#include "sim/engine/clock.h"
#include "sim/engine/window.h"

#include <string.h>

/* ---- the NoC under the clock: skipping idle spans changes nothing ------------------- */

typedef struct sparse_src {
    d1s_noc *noc;
    uint64_t rng;
    uint32_t n_sent;
    uint64_t next_send; /* cycle of the next injection burst */
} sparse_src;

/* A traffic source as a component: bursts of packets separated by long idle gaps. */
static void src_eval(void *ctx, uint64_t now)
{
    sparse_src *s = ctx;
    if (now != s->next_send || s->n_sent >= 300)
        return;
    int cols = d1s_noc_cols(s->noc), n = cols * d1s_noc_rows(s->noc);
    for (int k = 0; k < 3; k++) {
        uint32_t a, b;
        do {
            s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
            a = (uint32_t)((s->rng >> 33) % (uint64_t)n);
            b = (uint32_t)((s->rng >> 13) % (uint64_t)n);
        } while (!d1s_noc_is_node(s->noc, (int)a % cols, (int)a / cols) ||
                 !d1s_noc_is_node(s->noc, (int)b % cols, (int)b / cols));
        if (d1s_noc_inject(s->noc, a, b, 1 + (uint32_t)(s->rng % 5), s->n_sent, now) == D1_OK)
            s->n_sent++;
    }
    s->next_send = now + 50 + (s->rng >> 40) % 400;
}
static void src_commit(void *ctx, uint64_t now)
{
    (void)ctx;
    (void)now;
}
static uint64_t src_next(void *ctx, uint64_t now)
{
    sparse_src *s = ctx;
    return s->n_sent >= 300 ? UINT64_MAX : (s->next_send > now ? s->next_send : now);
}

static void noc_eval_c(void *ctx, uint64_t now)
{
    d1s_noc_eval(ctx, now);
}
static void noc_commit_c(void *ctx, uint64_t now)
{
    d1s_noc_commit(ctx, now);
}
static uint64_t noc_next_c(void *ctx, uint64_t now)
{
    return d1s_noc_next_event(ctx, now);
}

typedef struct ejlog {
    uint32_t n;
    uint64_t v[1024];
} ejlog;

static void log_eject(void *user, const d1s_noc_pkt *p, uint64_t now)
{
    ejlog *l = user;
    ck_assert_uint_lt(l->n, 1024);
    l->v[l->n++] = p->tag << 32 ^ now ^ (uint64_t)p->head_inject_cyc << 16;
}

static uint64_t run_sparse(int skip, ejlog *l, uint64_t *stepped)
{
    d1_config cfg;
    noc_test_cfg(&cfg, NULL);
    d1s_noc *noc = noc_test_make(&cfg, NULL);
    d1s_noc_set_eject_cb(noc, log_eject, l);
    sparse_src src = {noc, 5, 0, 10};
    d1s_clock *clk;
    ck_assert_int_eq(d1s_clock_create(&clk), D1_OK);
    d1s_component cs = {"src", &src, src_eval, src_commit, src_next};
    d1s_component cn = {"noc", noc, noc_eval_c, noc_commit_c, noc_next_c};
    ck_assert_int_eq(d1s_clock_add(clk, &cs), D1_OK);
    ck_assert_int_eq(d1s_clock_add(clk, &cn), D1_OK);
    d1s_clock_set_skip_idle(clk, skip);
    *stepped = d1s_clock_run_until(clk, 200000);
    ck_assert_uint_eq(d1s_clock_now(clk), 200000);
    ck_assert_uint_eq(d1s_clock_next_event(clk), UINT64_MAX);
    d1s_noc_stats st;
    d1s_noc_get_stats(noc, &st);
    ck_assert_uint_eq(st.pkts_in_flight, 0);
    d1s_clock_destroy(clk);
    d1s_noc_destroy(noc);
    d1_config_fini(&cfg);
    return st.link_flits;
}

START_TEST(idle_skipping_changes_nothing)
{
    static ejlog a, b;
    uint64_t sa, sb;
    uint64_t fa = run_sparse(1, &a, &sa), fb = run_sparse(0, &b, &sb);
    ck_assert_uint_eq(a.n, 300);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert(memcmp(a.v, b.v, a.n * sizeof a.v[0]) == 0);
    ck_assert_uint_eq(fa, fb);
    ck_assert_uint_eq(sb, 200000);
    ck_assert_uint_lt(sa, sb / 4); /* most cycles were skipped */
}
END_TEST

/* ---- a toy component: eval reads, commit writes ------------------------------------- */

typedef struct toggler {
    uint64_t period, value, pending, evals;
} toggler;
static void tg_eval(void *ctx, uint64_t now)
{
    toggler *t = ctx;
    t->evals++;
    if (now % t->period == 0)
        t->pending = t->value + now;
}
static void tg_commit(void *ctx, uint64_t now)
{
    toggler *t = ctx;
    if (now % t->period == 0)
        t->value = t->pending;
}
static uint64_t tg_next(void *ctx, uint64_t now)
{
    toggler *t = ctx;
    return (now + t->period - 1) / t->period * t->period;
}

START_TEST(clock_skips_to_next_event)
{
    d1s_clock *clk;
    ck_assert_int_eq(d1s_clock_create(&clk), D1_OK);
    toggler t = {1000, 0, 0, 0};
    d1s_component c = {"t", &t, tg_eval, tg_commit, tg_next};
    ck_assert_int_eq(d1s_clock_add(clk, &c), D1_OK);
    ck_assert_uint_eq(d1s_clock_run_until(clk, 10001), 11);
    ck_assert_uint_eq(t.evals, 11);
    ck_assert_uint_eq(t.value, 55000);
    d1s_component bad = {"bad", NULL, NULL, tg_commit, NULL};
    ck_assert_int_eq(d1s_clock_add(clk, &bad), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "component 'bad' without eval or commit");
    d1s_clock_destroy(clk);
}
END_TEST

/* ---- window scheduler: two partitions exchanging messages ---------------------------- */

typedef struct pp {
    d1s_sched *s;
    uint32_t id, peer;
    uint64_t inbox[64]; /* deliver cycles waiting */
    uint32_t n_in;
    uint64_t got[64]; /* cycles at which messages were consumed */
    uint32_t n_got;
    uint64_t lat;
} pp;

static void pp_eval(void *ctx, uint64_t now)
{
    pp *p = ctx;
    for (uint32_t k = 0; k < p->n_in; k++) {
        if (p->inbox[k] != now)
            continue;
        p->got[p->n_got++] = now;
        p->inbox[k--] = p->inbox[--p->n_in];
        if (now < 3000) { /* bounce it back */
            d1s_xmsg m = {now + p->lat, p->id, p->peer, 0, 0, {now, 0, 0, 0}};
            ck_assert_int_eq(d1s_sched_post(p->s, &m), D1_OK);
        }
    }
}
static void pp_commit(void *ctx, uint64_t now)
{
    (void)ctx;
    (void)now;
}
static uint64_t pp_next(void *ctx, uint64_t now)
{
    pp *p = ctx;
    uint64_t t = UINT64_MAX;
    for (uint32_t k = 0; k < p->n_in; k++)
        if (p->inbox[k] < t)
            t = p->inbox[k];
    return t < now ? now : t;
}
static void pp_deliver(void *ctx, const d1s_xmsg *m)
{
    pp *p = ctx;
    ck_assert_uint_eq(m->dst_part, p->id);
    p->inbox[p->n_in++] = m->deliver_cyc;
}

START_TEST(window_exchange)
{
    d1s_sched *s;
    ck_assert_int_eq(d1s_sched_create(100, &s), D1_OK);
    static pp a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    d1s_clock *ca, *cb;
    ck_assert_int_eq(d1s_clock_create(&ca), D1_OK);
    ck_assert_int_eq(d1s_clock_create(&cb), D1_OK);
    d1s_component xa = {"a", &a, pp_eval, pp_commit, pp_next};
    d1s_component xb = {"b", &b, pp_eval, pp_commit, pp_next};
    d1s_clock_add(ca, &xa);
    d1s_clock_add(cb, &xb);
    ck_assert_int_eq(d1s_sched_add_part(s, ca, pp_deliver, &a, &a.id), D1_OK);
    ck_assert_int_eq(d1s_sched_add_part(s, cb, pp_deliver, &b, &b.id), D1_OK);
    a.s = b.s = s;
    a.peer = b.id;
    b.peer = a.id;
    a.lat = b.lat = 150;   /* >= window */
    a.inbox[a.n_in++] = 5; /* start: a consumes at cycle 5 and bounces */
    ck_assert_int_eq(d1s_sched_run_until(s, 100000), D1_OK);
    ck_assert_uint_eq(d1s_sched_now(s), 100000);
    /* a at 5, b at 155, a at 305, ... exactly latency apart */
    ck_assert_uint_eq(a.n_got + b.n_got, 21);
    for (uint32_t k = 0; k < a.n_got; k++)
        ck_assert_uint_eq(a.got[k], 5 + 300 * k);
    for (uint32_t k = 0; k < b.n_got; k++)
        ck_assert_uint_eq(b.got[k], 155 + 300 * k);
    ck_assert_uint_eq(d1s_sched_delivered(s), 20);
    /* too short a latency would break the window contract */
    d1s_xmsg m = {d1s_sched_now(s) + 50, 0, 1, 0, 0, {0}};
    ck_assert_int_eq(d1s_sched_post(s, &m), D1_E_INVAL);
    ck_assert_str_eq(d1_last_error(), "message for cycle 100050 posted in the window ending at "
                                      "100100: cross-partition latency must be >= the window "
                                      "(100 cycles)");
    d1s_sched_destroy(s);
    d1s_clock_destroy(ca);
    d1s_clock_destroy(cb);
}
END_TEST

Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, idle_skipping_changes_nothing);
    tcase_add_test(tc, clock_skips_to_next_event);
    tcase_add_test(tc, window_exchange);
    suite_add_tcase(s, tc);
    return s;
}
