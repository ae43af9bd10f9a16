/* d1s_trace: Chrome/Perfetto trace JSON of selected nodes (open in ui.perfetto.dev or
 * chrome://tracing).
 *
 * One process per node ("node N (x,y)"), one track per hardware thread and one for the DMA
 * engine. Slices: "issue" (consecutive cycles in which the thread issued; args: insns),
 * "stall:<cause>" (scoreboard, port, issue, sem, bar, dmaq), "PUT"/"GET" transfers on the
 * DMA track; instants: "halt". Timestamps are microseconds of simulated time (cycle /
 * clock). The file is bounded: after max_events events the trace stops and its metadata
 * says "truncated". */
#ifndef D1S_TRACE_H
#define D1S_TRACE_H

#include "sim/chip/chip.h"

#include <stdio.h>

typedef struct d1s_trace d1s_trace;

/* Open `path` and attach to nodes whose id is in `ids` (n ids). D1_E_IO, D1_E_NOMEM. */
d1_status d1s_trace_open(d1s_trace **out, const char *path, d1s_chip *c, const uint32_t *ids,
                         size_t n, uint64_t max_events);
/* Close open slices at cycle end_cyc, finish the JSON and close the file. D1_E_IO. */
d1_status d1s_trace_close(d1s_trace *t, uint64_t end_cyc);
uint64_t d1s_trace_events(const d1s_trace *t);

/* Parse a node list "0,5,10-20" into ids (< count); returns how many, or -1 (D1_E_INVAL
 * with detail) if malformed. At most max ids are stored. */
long d1s_trace_parse_nodes(const char *list, uint32_t count, uint32_t *ids, size_t max);

#endif
