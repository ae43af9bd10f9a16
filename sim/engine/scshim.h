/* C interface to SystemC (module d1s_sc; the only C++ in the project is scshim.cc).
 *
 * SystemC owns simulated time and runs the coarse components (host, PCIe, DIP, HBM) as
 * processes; the fine-grained C models (nodes, routers) are stepped by d1s_clock inside
 * windows that a SystemC process drives (d1s_sc_spawn_window_loop).
 *
 * Time: cycles of the node clock. One cycle = 1e6 / clock_mhz picoseconds (500 ps at
 * 2000 MHz), rounded to the 1 ps time resolution. Windows are half-open: d1s_sc_run_cyc(n)
 * from cycle T executes every process activation at cycles [T, T + n) and leaves the time at
 * T + n; activations at exactly T + n run in the next call.
 *
 * Life cycle, once per process (a SystemC simulation cannot be elaborated twice; tests rely
 * on Check's fork mode):
 *   d1s_sc_main(argc, argv, body, user)  -> sets SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1, routes
 *       SystemC reports to stderr, runs sc_elab_and_sim -> sc_main (defined in the shim) ->
 *       body(user). In body: d1s_sc_set_clock_mhz, d1s_sc_trace_*, d1s_sc_spawn* (the
 *       elaboration part), then d1s_sc_run_cyc as often as needed (the simulation part).
 * Events: an sc_event keeps only its earliest pending notification, so a later notify
 * while one is pending is dropped; use one event per inbox plus a C queue.
 * Ownership: events and traced values live until the simulation ends (d1s_sc_main returns);
 * traced variables are borrowed and must stay valid that long. */
#ifndef D1S_SCSHIM_H
#define D1S_SCSHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "sim/arch/status.h"

/* Run a SystemC simulation; returns body's return value, or 1 if SystemC reported an error
 * (message on stderr). Call at most once per process (D1_E_STATE-like misuse returns 1). */
int d1s_sc_main(int argc, char **argv, int (*body)(void *user), void *user);

/* Clock (before the first d1s_sc_run_cyc; default 2000 MHz). D1_E_INVAL out of range
 * [1, 1000000] MHz, D1_E_STATE once simulation has started. */
d1_status d1s_sc_set_clock_mhz(uint64_t mhz);
uint64_t d1s_sc_cyc_ps(void);
/* Current simulated time in cycles (rounded down). */
uint64_t d1s_sc_now_cyc(void);

/* A SystemC thread process running fn(user); it may call d1s_sc_wait_*. Spawned during
 * elaboration it starts at time 0; spawned from a running process it starts in the next
 * delta cycle. D1_E_INVAL for a NULL fn. */
d1_status d1s_sc_spawn(const char *name, void (*fn)(void *user), void *user);
/* In a process: suspend for cyc cycles (cyc >= 1) / until ev is notified. */
void d1s_sc_wait_cyc(uint64_t cyc);
typedef struct d1s_sc_event d1s_sc_event;
d1s_sc_event *d1s_sc_event_create(const char *name);
void d1s_sc_wait_event(d1s_sc_event *ev);
/* Notify after delay_cyc cycles (0: next delta cycle). */
void d1s_sc_event_notify_cyc(d1s_sc_event *ev, uint64_t delay_cyc);

/* Advance the simulation by cyc cycles (from body, never from a process). D1_E_STATE if
 * SystemC stopped (sc_stop) or reported an error. */
d1_status d1s_sc_run_cyc(uint64_t cyc);

/* VCD tracing: open `path` (".vcd" is appended by SystemC) during elaboration, then register
 * C-owned 64-bit values; each gets an sc_signal that d1s_sc_trace_sample() (called by the
 * window loop at every window edge) updates from the variable. D1_E_STATE after elaboration
 * or without an open file; D1_E_IO if the file cannot be created. The file is closed when
 * the simulation ends. */
d1_status d1s_sc_trace_open(const char *path);
d1_status d1s_sc_trace_u64(const char *name, const uint64_t *var);
void d1s_sc_trace_sample(void);

/* The main window loop as a SystemC process: for T = 0, W, 2W, ... < end_cyc it calls
 * run_window(user, T, min(T + W, end_cyc)) at simulated time T (the C models advance through
 * that window), waits until the window end, then samples the traces (so a VCD value stamped
 * at cycle T + W is the C state after cycle T + W - 1). */
d1_status d1s_sc_spawn_window_loop(uint64_t window_cyc, uint64_t end_cyc,
                                   void (*run_window)(void *user, uint64_t t0, uint64_t t1),
                                   void *user);

#ifdef __cplusplus
}
#endif

#endif
