/* A tile under SystemC: the window loop and host processes (see tile_sc.h). */
#include "tile_sc.h"

#include "sim/engine/scshim.h"

#include <stdlib.h>
#include <string.h>

typedef struct host_proc {
    d1s_tile *t;
    d1s_host_xfer *x;
    size_t n;
    uint32_t dip;
    uint64_t chunk;
    int done;
} host_proc;

typedef struct tile_proc {
    d1s_tile *t;
    uint64_t limit;
    d1s_tile_result res;
    d1_status st;
    int done;
} tile_proc;

static void wait_until(uint64_t cyc)
{
    uint64_t now = d1s_sc_now_cyc();
    if (cyc > now)
        d1s_sc_wait_cyc(cyc - now);
}

static void host_main(void *user)
{
    host_proc *h = user;
    d1s_dip *d = d1s_tile_dip(h->t, h->dip);
    for (size_t i = 0; i < h->n; i++) {
        d1s_host_xfer *x = &h->x[i];
        if (x->dip != h->dip)
            continue;
        wait_until(x->start_cyc);
        x->status = D1_OK;
        x->done_cyc = d1s_sc_now_cyc();
        for (uint64_t off = 0; off < x->len && x->status == D1_OK; off += h->chunk) {
            uint64_t len = x->len - off < h->chunk ? x->len - off : h->chunk, done = 0;
            uint8_t *buf = x->host_buf ? (uint8_t *)x->host_buf + off : NULL;
            x->status = x->to_hbm ? d1s_dip_host_write(d, x->hbm_addr + off, buf, (size_t)len,
                                                       d1s_sc_now_cyc(), &done)
                                  : d1s_dip_host_read(d, x->hbm_addr + off, buf, (size_t)len,
                                                      d1s_sc_now_cyc(), &done);
            if (done > x->done_cyc)
                x->done_cyc = done;
            /* the next chunk goes when PCIe has sent this one */
            wait_until(d1s_dip_pcie(d)->last_cyc);
        }
        wait_until(x->done_cyc);
    }
    h->done = 1;
}

static void tile_main(void *user)
{
    tile_proc *p = user;
    uint64_t W = d1s_tile_window_cyc(p->t);
    for (;;) {
        uint64_t now = d1s_sc_now_cyc();
        uint64_t t1 = now + W;
        if (p->limit && t1 > p->limit)
            t1 = p->limit;
        p->st = d1s_tile_run(p->t, t1, &p->res);
        if (p->st != D1_OK || p->res.end != D1S_END_MAX_CYCLES || (p->limit && t1 >= p->limit))
            break;
        wait_until(t1);
    }
    p->done = 1;
}

d1_status d1s_tile_sc_run(d1s_tile *t, d1s_host_xfer *xfers, size_t n, uint64_t chunk_bytes,
                          uint64_t max_cycles, d1s_tile_result *res)
{
    uint32_t nd = d1s_tile_dip_count(t);
    for (size_t i = 0; i < n; i++)
        if (xfers[i].dip >= nd)
            return d1_fail(D1_E_INVAL, "host transfer %zu: DIP %u of %u", i, xfers[i].dip, nd);
    host_proc *hp = calloc(nd ? nd : 1, sizeof *hp);
    if (!hp)
        return d1_fail(D1_E_NOMEM, "host processes");
    tile_proc tp;
    memset(&tp, 0, sizeof tp);
    tp.t = t;
    tp.limit = max_cycles;
    d1_status st = d1s_sc_spawn("tile", tile_main, &tp);
    for (uint32_t d = 0; d < nd && st == D1_OK; d++) {
        int any = 0;
        for (size_t i = 0; i < n; i++)
            any |= xfers[i].dip == d;
        hp[d].done = !any;
        if (!any)
            continue;
        hp[d].t = t;
        hp[d].x = xfers;
        hp[d].n = n;
        hp[d].dip = d;
        hp[d].chunk = chunk_bytes ? chunk_bytes : (1u << 20);
        char name[32];
        snprintf(name, sizeof name, "host_dip%u", d);
        st = d1s_sc_spawn(name, host_main, &hp[d]);
    }
    while (st == D1_OK) {
        int all = tp.done;
        for (uint32_t d = 0; d < nd; d++)
            all &= hp[d].done;
        if (all)
            break;
        st = d1s_sc_run_cyc(d1s_tile_window_cyc(t));
    }
    free(hp);
    if (st != D1_OK)
        return st;
    if (tp.st != D1_OK)
        return tp.st;
    *res = tp.res;
    return D1_OK;
}
