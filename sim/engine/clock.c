/* Two-phase cycle stepping with idle skipping (see clock.h). */
#include "clock.h"

#include <stdlib.h>

struct d1s_clock {
    d1s_component *c;
    uint32_t n, cap;
    uint32_t *due; /* components due this cycle (active list, rebuilt per cycle) */
    uint64_t now;
    int skip_idle;
};

d1_status d1s_clock_create(d1s_clock **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return d1_fail(D1_E_NOMEM, "clock");
    (*out)->skip_idle = 1;
    return D1_OK;
}

void d1s_clock_destroy(d1s_clock *clk)
{
    if (!clk)
        return;
    free(clk->c);
    free(clk->due);
    free(clk);
}

d1_status d1s_clock_add(d1s_clock *clk, const d1s_component *c)
{
    if (!c || !c->eval || !c->commit)
        return d1_fail(D1_E_INVAL, "component '%s' without eval or commit",
                       c && c->name ? c->name : "?");
    if (clk->n == clk->cap) {
        uint32_t cap = clk->cap ? clk->cap * 2 : 8;
        d1s_component *nc = realloc(clk->c, cap * sizeof *nc);
        if (!nc)
            return d1_fail(D1_E_NOMEM, "clock components");
        clk->c = nc;
        uint32_t *nd = realloc(clk->due, cap * sizeof *nd);
        if (!nd)
            return d1_fail(D1_E_NOMEM, "clock components");
        clk->due = nd;
        clk->cap = cap;
    }
    clk->c[clk->n++] = *c;
    return D1_OK;
}

void d1s_clock_set_skip_idle(d1s_clock *clk, int on)
{
    clk->skip_idle = on;
}

uint64_t d1s_clock_now(const d1s_clock *clk)
{
    return clk->now;
}

static uint64_t comp_next(const d1s_component *c, uint64_t now)
{
    if (!c->next_event)
        return now;
    uint64_t t = c->next_event(c->ctx, now);
    return t < now ? now : t;
}

uint64_t d1s_clock_next_event(const d1s_clock *clk)
{
    uint64_t t = UINT64_MAX;
    for (uint32_t i = 0; i < clk->n; i++) {
        uint64_t e = comp_next(&clk->c[i], clk->now);
        if (e < t)
            t = e;
    }
    return t;
}

/* One cycle at clk->now over the due components (all of them without idle skipping). */
static void step(d1s_clock *clk)
{
    uint32_t nd = 0;
    for (uint32_t i = 0; i < clk->n; i++)
        if (!clk->skip_idle || comp_next(&clk->c[i], clk->now) <= clk->now)
            clk->due[nd++] = i;
    for (uint32_t k = 0; k < nd; k++)
        clk->c[clk->due[k]].eval(clk->c[clk->due[k]].ctx, clk->now);
    for (uint32_t k = 0; k < nd; k++)
        clk->c[clk->due[k]].commit(clk->c[clk->due[k]].ctx, clk->now);
    clk->now++;
}

uint64_t d1s_clock_run_until(d1s_clock *clk, uint64_t end_cyc)
{
    uint64_t stepped = 0;
    while (clk->now < end_cyc) {
        if (clk->skip_idle) {
            uint64_t t = d1s_clock_next_event(clk);
            if (t > clk->now) {
                clk->now = t < end_cyc ? t : end_cyc;
                continue;
            }
        }
        step(clk);
        stepped++;
    }
    return stepped;
}

int d1s_clock_run_until_idle(d1s_clock *clk, uint64_t limit_cyc)
{
    for (;;) {
        uint64_t t = d1s_clock_next_event(clk);
        if (t == UINT64_MAX)
            return 1;
        if (t >= limit_cyc) {
            if (clk->now < limit_cyc)
                clk->now = limit_cyc;
            return 0;
        }
        if (t > clk->now)
            clk->now = t;
        step(clk);
    }
}
