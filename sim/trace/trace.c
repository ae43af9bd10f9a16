#include "trace.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { SL_NONE = 0, SL_ISSUE, SL_STALL };

typedef struct track {
    int kind;
    int cause;
    uint64_t start, last;
    uint64_t insns;
} track;

typedef struct dma_track {
    int open;
    int kind;
    uint64_t start, bytes;
    uint32_t peer;
} dma_track;

struct d1s_trace {
    FILE *f;
    d1s_chip *chip;
    double us_per_cyc;
    uint64_t max_events, events;
    int truncated;
    uint32_t count;
    int32_t *slot; /* node id -> index into tracks, -1 if not traced */
    track (*thr)[D1S_NODE_MAX_THREADS];
    dma_track *dma;
    uint32_t *ids;
    size_t n;
};

static int emit_ok(d1s_trace *t)
{
    if (t->events >= t->max_events) {
        t->truncated = 1;
        return 0;
    }
    t->events++;
    return 1;
}

static void slice(d1s_trace *t, uint32_t node, int tid, const char *name, uint64_t start,
                  uint64_t end, const char *args)
{
    if (!emit_ok(t))
        return;
    fprintf(
        t->f,
        ",\n{\"name\":\"%s\",\"ph\":\"X\",\"pid\":%u,\"tid\":%d,\"ts\":%.4f,\"dur\":%.4f%s%s%s}",
        name, node, tid, (double)start * t->us_per_cyc, (double)(end - start) * t->us_per_cyc,
        args ? ",\"args\":{" : "", args ? args : "", args ? "}" : "");
}

static void close_track(d1s_trace *t, uint32_t node, int tid, track *k, uint64_t end)
{
    if (k->kind == SL_ISSUE) {
        char a[64];
        snprintf(a, sizeof a, "\"insns\":%" PRIu64, k->insns);
        slice(t, node, tid, "issue", k->start, k->last + 1, a);
    } else if (k->kind == SL_STALL && end > k->start) {
        char name[32];
        snprintf(name, sizeof name, "stall:%s", d1s_stall_name((d1s_stall)k->cause));
        slice(t, node, tid, name, k->start, end, NULL);
    }
    k->kind = SL_NONE;
}

static void on_event(void *ctx, const d1s_node_ev *ev)
{
    d1s_trace *t = ctx;
    if (ev->node >= t->count || t->slot[ev->node] < 0)
        return;
    int32_t s = t->slot[ev->node];
    if (ev->kind == D1S_EV_DMA_BEGIN) {
        dma_track *d = &t->dma[s];
        d->open = 1;
        d->kind = ev->cause;
        d->start = ev->cycle;
        d->bytes = ev->bytes;
        d->peer = ev->peer;
        return;
    }
    if (ev->kind == D1S_EV_DMA_END) {
        dma_track *d = &t->dma[s];
        char a[96];
        snprintf(a, sizeof a, "\"bytes\":%" PRIu64 ",\"peer\":%u", d->bytes, d->peer);
        slice(t, ev->node, D1S_NODE_MAX_THREADS, d->kind == 1 ? "GET" : "PUT", d->start,
              ev->cycle + 1, a);
        d->open = 0;
        return;
    }
    if (ev->thread < 0 || ev->thread >= D1S_NODE_MAX_THREADS)
        return;
    track *k = &t->thr[s][ev->thread];
    switch (ev->kind) {
    case D1S_EV_ISSUE:
        if (k->kind == SL_ISSUE && ev->cycle == k->last + 1) {
            k->last = ev->cycle;
            k->insns += ev->count;
            return;
        }
        close_track(t, ev->node, ev->thread, k, ev->cycle);
        k->kind = SL_ISSUE;
        k->start = k->last = ev->cycle;
        k->insns = ev->count;
        return;
    case D1S_EV_STALL:
        close_track(t, ev->node, ev->thread, k, ev->cycle);
        k->kind = SL_STALL;
        k->cause = ev->cause;
        k->start = ev->cycle;
        return;
    case D1S_EV_HALT:
        close_track(t, ev->node, ev->thread, k, ev->cycle);
        if (emit_ok(t))
            fprintf(
                t->f,
                ",\n{\"name\":\"halt\",\"ph\":\"i\",\"s\":\"t\",\"pid\":%u,\"tid\":%d,\"ts\":%.4f}",
                ev->node, ev->thread, (double)ev->cycle * t->us_per_cyc);
        return;
    default:
        return;
    }
}

long d1s_trace_parse_nodes(const char *list, uint32_t count, uint32_t *ids, size_t max)
{
    long n = 0;
    const char *p = list;
    if (!p || !*p) {
        d1_fail(D1_E_INVAL, "empty node list");
        return -1;
    }
    while (*p) {
        char *end;
        unsigned long a = strtoul(p, &end, 10), b;
        if (end == p)
            goto bad;
        b = a;
        p = end;
        if (*p == '-') {
            b = strtoul(p + 1, &end, 10);
            if (end == p + 1)
                goto bad;
            p = end;
        }
        if (a > b || b >= count) {
            d1_fail(D1_E_INVAL, "node range %lu-%lu outside 0-%u", a, b, count - 1);
            return -1;
        }
        for (unsigned long k = a; k <= b; k++) {
            if ((size_t)n < max)
                ids[n] = (uint32_t)k;
            n++;
        }
        if (*p == ',')
            p++;
        else if (*p)
            goto bad;
    }
    return n;
bad:
    d1_fail(D1_E_INVAL, "malformed node list '%s' (want e.g. 0,5,10-20)", list);
    return -1;
}

d1_status d1s_trace_open(d1s_trace **out, const char *path, d1s_chip *c, const uint32_t *ids,
                         size_t n, uint64_t max_events)
{
    *out = NULL;
    d1s_trace *t = calloc(1, sizeof *t);
    if (!t)
        return d1_fail(D1_E_NOMEM, "trace: out of memory");
    t->chip = c;
    t->count = d1s_chip_node_count(c);
    t->max_events = max_events ? max_events : 1000000;
    t->us_per_cyc = 1.0 / (double)d1s_chip_config(c)->clock_mhz;
    t->slot = malloc(t->count * sizeof *t->slot);
    t->thr = calloc(n ? n : 1, sizeof *t->thr);
    t->dma = calloc(n ? n : 1, sizeof *t->dma);
    t->ids = calloc(n ? n : 1, sizeof *t->ids);
    if (!t->slot || !t->thr || !t->dma || !t->ids) {
        d1s_trace_close(t, 0);
        return d1_fail(D1_E_NOMEM, "trace: out of memory");
    }
    t->f = fopen(path, "w");
    if (!t->f) {
        d1s_trace_close(t, 0);
        return d1_fail(D1_E_IO, "cannot write trace '%s'", path);
    }
    for (uint32_t k = 0; k < t->count; k++)
        t->slot[k] = -1;
    fprintf(t->f, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n"
                  "{\"name\":\"d1 run\",\"ph\":\"M\",\"pid\":0,\"args\":{}}");
    for (size_t k = 0; k < n; k++) {
        uint32_t id = ids[k];
        if (id >= t->count || t->slot[id] >= 0)
            continue;
        t->slot[id] = (int32_t)t->n;
        t->ids[t->n++] = id;
        int x = 0, y = 0;
        d1s_chip_node_xy(c, id, &x, &y);
        fprintf(t->f,
                ",\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,\"args\":{\"name\":\"node "
                "%u (%d,%d)\"}}",
                id, id, x, y);
        for (int th = 0; th <= D1S_NODE_MAX_THREADS; th++)
            fprintf(t->f,
                    ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%d,\"args\":{"
                    "\"name\":\"%s%d\"}}",
                    id, th, th < D1S_NODE_MAX_THREADS ? "thread " : "dma",
                    th < D1S_NODE_MAX_THREADS ? th : 0);
        d1s_chip_set_node_trace(c, id, on_event, t);
    }
    *out = t;
    return D1_OK;
}

d1_status d1s_trace_close(d1s_trace *t, uint64_t end_cyc)
{
    if (!t)
        return D1_OK;
    d1_status st = D1_OK;
    if (t->f) {
        for (size_t s = 0; s < t->n; s++) {
            for (int th = 0; th < D1S_NODE_MAX_THREADS; th++)
                close_track(t, t->ids[s], th, &t->thr[s][th], end_cyc);
            d1s_chip_set_node_trace(t->chip, t->ids[s], NULL, NULL);
        }
        fprintf(t->f, "\n],\"metadata\":{\"events\":%" PRIu64 ",\"truncated\":%s}}\n", t->events,
                t->truncated ? "true" : "false");
        if (ferror(t->f))
            st = d1_fail(D1_E_IO, "writing the trace failed");
        if (fclose(t->f) != 0 && st == D1_OK)
            st = d1_fail(D1_E_IO, "closing the trace failed");
    }
    free(t->slot);
    free(t->thr);
    free(t->dma);
    free(t->ids);
    free(t);
    return st;
}

uint64_t d1s_trace_events(const d1s_trace *t)
{
    return t->events;
}
