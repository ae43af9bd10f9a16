/* DIP: HBM + links, evaluated in the tile's serial window exchange (see dip.h). */
#include "dip.h"

#include <stdlib.h>
#include <string.h>

struct d1s_dip {
    uint32_t id;
    int functional;
    d1s_hbm *hbm;
    d1s_xlink in, out, port, pcie;
    uint64_t hbm_lat, pcie_lat;
    d1s_dip_stats st;
};

d1_status d1s_dip_create(const d1_config *cfg, uint32_t global_id, int functional, d1s_dip **out)
{
    *out = NULL;
    d1s_dip *d = calloc(1, sizeof *d);
    if (!d)
        return d1_fail(D1_E_NOMEM, "DIP");
    d1_status st = d1s_hbm_create((uint64_t)cfg->hbm_bytes, &d->hbm);
    if (st != D1_OK) {
        free(d);
        return st;
    }
    d->id = global_id;
    d->functional = functional;
    d1s_xlink_init(&d->in, (uint64_t)cfg->dip_link_bytes_per_cyc, 1,
                   (uint64_t)cfg->dip_link_lat_cyc);
    d1s_xlink_init(&d->out, (uint64_t)cfg->dip_link_bytes_per_cyc, 1,
                   (uint64_t)cfg->dip_link_lat_cyc);
    d1s_xlink_init(&d->port, (uint64_t)cfg->hbm_bytes_per_cyc, 1, 0);
    d1s_xlink_init(&d->pcie, (uint64_t)cfg->pcie_bytes_per_cyc, 1, 0);
    d->hbm_lat = (uint64_t)cfg->hbm_lat_cyc;
    d->pcie_lat = (uint64_t)cfg->pcie_lat_cyc;
    *out = d;
    return D1_OK;
}

void d1s_dip_destroy(d1s_dip *d)
{
    if (!d)
        return;
    d1s_hbm_destroy(d->hbm);
    free(d);
}

uint32_t d1s_dip_id(const d1s_dip *d)
{
    return d->id;
}
d1s_hbm *d1s_dip_hbm(d1s_dip *d)
{
    return d->hbm;
}
void d1s_dip_get_stats(const d1s_dip *d, d1s_dip_stats *out)
{
    *out = d->st;
}
const d1s_xlink *d1s_dip_link_in(const d1s_dip *d)
{
    return &d->in;
}
const d1s_xlink *d1s_dip_link_out(const d1s_dip *d)
{
    return &d->out;
}
const d1s_xlink *d1s_dip_hbm_port(const d1s_dip *d)
{
    return &d->port;
}
const d1s_xlink *d1s_dip_pcie(const d1s_dip *d)
{
    return &d->pcie;
}

static uint64_t wire_bytes(const d1s_pkt *pkt)
{
    /* one 64 B flit per packet on every link (a GETREQ carries no payload but a header) */
    (void)pkt;
    return D1S_PKT_BYTES;
}

uint64_t d1s_dip_from_tile(d1s_dip *d, const d1s_pkt *pkt, uint64_t leave_cyc, d1s_dip_emit_fn emit,
                           void *ctx)
{
    uint64_t ta = d1s_xlink_send(&d->in, leave_cyc, wire_bytes(pkt));
    d->st.reqs++;
    if (pkt->kind == D1S_PKT_PUT) {
        if (pkt->addr > d1s_hbm_size(d->hbm) || pkt->len_bytes > d1s_hbm_size(d->hbm) - pkt->addr) {
            d->st.errors++;
            return ta;
        }
        d1s_xlink_depart(&d->port, ta, pkt->len_bytes);
        d->st.hbm_write_bytes += pkt->len_bytes;
        if (d->functional)
            (void)d1s_hbm_write(d->hbm, pkt->addr, pkt->data, pkt->len_bytes);
        return ta;
    }
    if (pkt->kind != D1S_PKT_GETREQ) {
        d->st.errors++;
        return ta;
    }
    if (pkt->addr > d1s_hbm_size(d->hbm) || pkt->len_bytes > d1s_hbm_size(d->hbm) - pkt->addr) {
        d->st.errors++;
        return ta;
    }
    d1s_pkt r;
    memset(&r, 0, sizeof r);
    r.kind = D1S_PKT_GETRSP;
    r.sem = pkt->sem;
    r.src = d->id;
    r.dst = pkt->src;
    r.xfer_id = pkt->xfer_id;
    r.xfer_len = pkt->len_bytes;
    for (uint32_t off = 0; off < pkt->len_bytes; off += D1S_PKT_BYTES) {
        uint32_t len = pkt->len_bytes - off < D1S_PKT_BYTES ? pkt->len_bytes - off : D1S_PKT_BYTES;
        uint64_t t = d1s_xlink_depart(&d->port, ta, len) + d->hbm_lat;
        r.len_bytes = len;
        r.last = off + len == pkt->len_bytes;
        r.addr = pkt->ret_addr + off;
        r.inject_cyc = t;
        if (d->functional)
            (void)d1s_hbm_read(d->hbm, pkt->addr + off, r.data, len);
        uint64_t arrive = d1s_xlink_send(&d->out, t, wire_bytes(&r));
        d->st.hbm_read_bytes += len;
        d->st.rsp_pkts++;
        emit(ctx, &r, arrive);
    }
    return ta;
}

uint64_t d1s_dip_zero_load_read_cyc(const d1s_dip *d, uint64_t len_bytes)
{
    /* request over the link; the HBM streams len bytes; the last chunk crosses the link */
    uint64_t ta = d1s_xlink_zero_load_cyc(&d->in, D1S_PKT_BYTES);
    uint64_t port = (len_bytes * d->port.den + d->port.num - 1) / d->port.num;
    return ta + port + d->hbm_lat + d1s_xlink_zero_load_cyc(&d->out, D1S_PKT_BYTES);
}

static d1_status host_xfer(d1s_dip *d, uint64_t addr, size_t len, uint64_t start_cyc,
                           uint64_t *done_cyc)
{
    if (addr > d1s_hbm_size(d->hbm) || len > d1s_hbm_size(d->hbm) - addr)
        return d1_fail(D1_E_RANGE, "host transfer [0x%llx, +%zu) outside the HBM",
                       (unsigned long long)addr, len);
    uint64_t t = d1s_xlink_depart(&d->pcie, start_cyc, len) + d->pcie_lat;
    t = d1s_xlink_depart(&d->port, t, len);
    d->st.pcie_bytes += len;
    if (done_cyc)
        *done_cyc = t;
    return D1_OK;
}

d1_status d1s_dip_host_write(d1s_dip *d, uint64_t addr, const void *src, size_t len,
                             uint64_t start_cyc, uint64_t *done_cyc)
{
    d1_status st = host_xfer(d, addr, len, start_cyc, done_cyc);
    if (st == D1_OK && d->functional && src)
        st = d1s_hbm_write(d->hbm, addr, src, len);
    if (st == D1_OK)
        d->st.hbm_write_bytes += len;
    return st;
}

d1_status d1s_dip_host_read(d1s_dip *d, uint64_t addr, void *dst, size_t len, uint64_t start_cyc,
                            uint64_t *done_cyc)
{
    d1_status st = host_xfer(d, addr, len, start_cyc, done_cyc);
    if (st == D1_OK && dst)
        st = d->functional ? d1s_hbm_read(d->hbm, addr, dst, len) : (memset(dst, 0, len), D1_OK);
    if (st == D1_OK)
        d->st.hbm_read_bytes += len;
    return st;
}
