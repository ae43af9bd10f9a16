/* Two-phase cycle stepping of plain-C components (module d1s_clock).
 *
 * A component is a context plus eval/commit/next_event functions. Per cycle the clock calls
 * eval(now) of every component that is due, then commit(now) of the same set (BookSim's
 * discipline: eval reads inputs and computes, commit makes the results visible; nothing reads
 * in one phase what another component wrote in the same phase, so the visiting order never
 * changes results). A component is due at `now` if next_event(now) <= now; when no component
 * is due, the clock jumps to the earliest next event (idle skipping).
 *
 * Contract for components: next_event(now) returns the earliest cycle >= now at which
 * eval/commit could change its state (UINT64_MAX when idle); stepping it at a cycle before
 * that must be a no-op. Input handed to a component during cycle t (by another component's
 * eval or commit) is acted on from cycle t + 1, so it needs no stepping at t; the clock asks
 * every component for next_event again after each cycle.
 *
 * Ownership: the clock copies the component descriptors, never owns the contexts.
 * Single-threaded; one clock per partition (chip) for the window scheduler (window.h). */
#ifndef D1S_CLOCK_H
#define D1S_CLOCK_H

#include "sim/arch/status.h"

#include <stdint.h>

typedef struct d1s_component {
    const char *name; /* borrowed, for diagnostics */
    void *ctx;
    void (*eval)(void *ctx, uint64_t now);
    void (*commit)(void *ctx, uint64_t now);
    /* NULL: always due (stepped every cycle, the clock never skips). */
    uint64_t (*next_event)(void *ctx, uint64_t now);
} d1s_component;

typedef struct d1s_clock d1s_clock;

/* D1_E_NOMEM. The clock starts at cycle 0 with idle skipping on. */
d1_status d1s_clock_create(d1s_clock **out);
void d1s_clock_destroy(d1s_clock *clk);
/* Add a component (copied). D1_E_INVAL if eval or commit is NULL; D1_E_NOMEM. */
d1_status d1s_clock_add(d1s_clock *clk, const d1s_component *c);
/* 1: jump over idle spans (default); 0: step every cycle (for tests and debugging). */
void d1s_clock_set_skip_idle(d1s_clock *clk, int on);

/* Next cycle to execute (all cycles before it are done). */
uint64_t d1s_clock_now(const d1s_clock *clk);
/* Earliest next event over all components at the current cycle (UINT64_MAX: all idle). */
uint64_t d1s_clock_next_event(const d1s_clock *clk);
/* Execute cycles [now, end_cyc); afterwards now == end_cyc. Returns the cycles actually
 * stepped (eval+commit executed), which is less than end_cyc - now when spans were skipped. */
uint64_t d1s_clock_run_until(d1s_clock *clk, uint64_t end_cyc);
/* Run until every component is idle, but not past limit_cyc. Returns 1 if idle (now is
 * then the cycle after the last one stepped), 0 if the limit was reached first. */
int d1s_clock_run_until_idle(d1s_clock *clk, uint64_t limit_cyc);

#endif
