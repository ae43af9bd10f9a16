/* SystemC shim: a C model run for a few windows under SystemC, time, events, VCD.
 * Each test elaborates one simulation: Check's fork mode gives each its own process. */
#include "test_main.h"

#include "sim/engine/clock.h"
#include "sim/engine/scshim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A C model: a counter that increments every cycle, stepped by a d1s_clock. */
typedef struct counter {
    uint64_t value, pending;
} counter;
static void c_eval(void *ctx, uint64_t now)
{
    counter *c = ctx;
    c->pending = c->value + 1 + 0 * now;
}
static void c_commit(void *ctx, uint64_t now)
{
    counter *c = ctx;
    (void)now;
    c->value = c->pending;
}

typedef struct world {
    d1s_clock *clk;
    counter cnt;
    uint64_t windows[16][3]; /* t0, t1, SystemC time at the call */
    int n_windows;
    d1s_sc_event *ev;
    uint64_t woke_at;
    char vcd[256];
} world;

static void run_window(void *user, uint64_t t0, uint64_t t1)
{
    world *w = user;
    ck_assert_int_lt(w->n_windows, 16);
    w->windows[w->n_windows][0] = t0;
    w->windows[w->n_windows][1] = t1;
    w->windows[w->n_windows][2] = d1s_sc_now_cyc();
    w->n_windows++;
    d1s_clock_run_until(w->clk, t1);
}

static void notifier(void *user)
{
    world *w = user;
    d1s_sc_wait_cyc(7);
    d1s_sc_event_notify_cyc(w->ev, 3);
    d1s_sc_event_notify_cyc(w->ev, 30); /* later than the pending one: dropped */
}

static void waiter(void *user)
{
    world *w = user;
    d1s_sc_wait_event(w->ev);
    w->woke_at = d1s_sc_now_cyc();
}

static int body(void *user)
{
    world *w = user;
    ck_assert_int_eq(d1s_sc_set_clock_mhz(2000), D1_OK);
    ck_assert_uint_eq(d1s_sc_cyc_ps(), 500);
    ck_assert_int_eq(d1s_sc_trace_open(w->vcd), D1_OK);
    ck_assert_int_eq(d1s_sc_trace_u64("counter", &w->cnt.value), D1_OK);
    w->ev = d1s_sc_event_create("wake");
    ck_assert_int_eq(d1s_sc_spawn("notifier", notifier, w), D1_OK);
    ck_assert_int_eq(d1s_sc_spawn("waiter", waiter, w), D1_OK);
    ck_assert_int_eq(d1s_sc_spawn_window_loop(10, 50, run_window, w), D1_OK);

    ck_assert_int_eq(d1s_sc_run_cyc(25), D1_OK);
    ck_assert_uint_eq(d1s_sc_now_cyc(), 25);
    /* half-open: windows starting at 0, 10, 20 ran; the one at 30 did not */
    ck_assert_int_eq(w->n_windows, 3);
    ck_assert_uint_eq(w->cnt.value, 30);
    ck_assert_uint_eq(w->woke_at, 10);
    /* too late for elaboration-time calls */
    ck_assert_int_eq(d1s_sc_set_clock_mhz(1000), D1_E_STATE);
    ck_assert_int_eq(d1s_sc_trace_u64("late", &w->cnt.value), D1_E_STATE);

    ck_assert_int_eq(d1s_sc_run_cyc(5), D1_OK); /* exactly up to the next window edge */
    ck_assert_uint_eq(d1s_sc_now_cyc(), 30);
    ck_assert_int_eq(w->n_windows, 3);
    ck_assert_int_eq(d1s_sc_run_cyc(30), D1_OK);
    ck_assert_uint_eq(d1s_sc_now_cyc(), 60);
    ck_assert_int_eq(w->n_windows, 5);
    for (int k = 0; k < 5; k++) {
        ck_assert_uint_eq(w->windows[k][0], 10 * (uint64_t)k);
        ck_assert_uint_eq(w->windows[k][1], 10 * (uint64_t)k + 10);
        ck_assert_uint_eq(w->windows[k][2], 10 * (uint64_t)k);
    }
    ck_assert_uint_eq(w->cnt.value, 50);
    return 42;
}

START_TEST(c_model_windows_under_systemc)
{
    static world w;
    memset(&w, 0, sizeof w);
    ck_assert_int_eq(d1s_clock_create(&w.clk), D1_OK);
    d1s_component c = {"counter", &w.cnt, c_eval, c_commit, NULL};
    ck_assert_int_eq(d1s_clock_add(w.clk, &c), D1_OK);
    char dir[] = "/tmp/d1_scshim_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(w.vcd, sizeof w.vcd, "%s/trace", dir);

    char arg0[] = "test_noc";
    char *argv[] = {arg0, NULL};
    ck_assert_int_eq(d1s_sc_main(1, argv, body, &w), 42);
    ck_assert_int_eq(d1s_sc_main(1, argv, body, &w), 1); /* once per process */

    /* the VCD has the traced value and its changes at window edges (10, 20, ... cycles =
     * 5000, 10000, ... ps): the counter reads 10 after the first window */
    char path[300];
    snprintf(path, sizeof path, "%s.vcd", w.vcd);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "$timescale"));
    ck_assert_ptr_nonnull(strstr(text, "counter"));
    ck_assert_ptr_nonnull(strstr(text, "\n#5000\n"));
    ck_assert_ptr_nonnull(strstr(text, "b1010 "));   /* 10 */
    ck_assert_ptr_nonnull(strstr(text, "b101000 ")); /* 40 */
    remove(path);
    rmdir(dir);
    d1s_clock_destroy(w.clk);
}
END_TEST

Suite *scshim_suite(void)
{
    Suite *s = suite_create("scshim");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, c_model_windows_under_systemc);
    suite_add_tcase(s, tc);
    return s;
}
