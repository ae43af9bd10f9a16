/* Window scheduler: the seam for parallel chips (module d1s_sched).
 *
 * A system is split into partitions (one per chip), each with its own d1s_clock. Partitions
 * only talk through messages whose delivery time is at least one window after they are sent
 * (cross-chip SerDes latency >= window length W). The scheduler advances every partition
 * through the window [T, T+W) on its own (in any order, or in parallel: nothing is shared
 * inside a window), then, at the window edge, delivers the messages posted during the window
 * in a fixed order -- sorted by (deliver_cyc, src_part, port, seq) -- so results do not depend
 * on the order or the thread partitions ran in. This implementation runs partitions one
 * after another on the calling thread; an OpenMP/MPI version keeps this API.
 *
 * Timeline of one window:
 *   run_until(T+W) on every partition   -> components call d1s_sched_post(...)
 *   exchange: sort all outboxes, call deliver(dst ctx, msg) in order (dst queues it and
 *             acts on it at msg->deliver_cyc >= T+W)
 * Idle skipping: when every partition is idle and no message is pending, T jumps to the
 * window containing the earliest next event.
 *
 * Ownership: the scheduler borrows the clocks and contexts; it owns the message buffers. */
#ifndef D1S_WINDOW_H
#define D1S_WINDOW_H

#include "clock.h"

#include <stdint.h>

typedef struct d1s_xmsg {
    uint64_t deliver_cyc; /* >= end of the window it is posted in */
    uint32_t src_part, dst_part;
    uint32_t port;    /* sender-defined (e.g. chip edge and lane) */
    uint32_t seq;     /* set by d1s_sched_post: per source partition, in posting order */
    uint64_t data[4]; /* opaque payload (e.g. packet id, tag, size) */
} d1s_xmsg;

/* Called at the window edge for each message, in the fixed order, with the context given to
 * d1s_sched_add_part for msg->dst_part. The receiver keeps the message (copy it) and must
 * report a next_event <= msg->deliver_cyc from then on, so idle skipping wakes it up. */
typedef void (*d1s_deliver_fn)(void *ctx, const d1s_xmsg *msg);

typedef struct d1s_sched d1s_sched;

/* window_cyc >= 1. D1_E_INVAL, D1_E_NOMEM. */
d1_status d1s_sched_create(uint64_t window_cyc, d1s_sched **out);
void d1s_sched_destroy(d1s_sched *s);
/* Register a partition stepped by clk (borrowed); its id (0, 1, ...) goes to *part. */
d1_status d1s_sched_add_part(d1s_sched *s, d1s_clock *clk, d1s_deliver_fn deliver, void *ctx,
                             uint32_t *part);
/* Post a message from msg->src_part during a window (from inside a component). D1_E_INVAL
 * if a partition id is unknown or deliver_cyc is before the end of the current window (a
 * latency shorter than the window would break the conservative synchronisation);
 * D1_E_NOMEM. */
d1_status d1s_sched_post(d1s_sched *s, const d1s_xmsg *msg);

uint64_t d1s_sched_window_cyc(const d1s_sched *s);
/* Start of the next window to run. */
uint64_t d1s_sched_now(const d1s_sched *s);
/* Run one window [now, now + W) on every partition, then exchange. */
d1_status d1s_sched_run_window(d1s_sched *s);
/* Run windows until now >= end_cyc (end_cyc is rounded up to a window edge); skips windows
 * where nothing can happen. */
d1_status d1s_sched_run_until(d1s_sched *s, uint64_t end_cyc);
/* Messages delivered so far (all windows). */
uint64_t d1s_sched_delivered(const d1s_sched *s);

#endif
