/* d1s_dip: a Dojo Interface Processor (module d1s_dip): HBM (sparse store + bandwidth +
 * latency), the link into the tile edge (one d1s_xlink per direction) and PCIe to the host.
 *
 * The tile calls the DIP only from its serial window exchange, in a fixed order, so a DIP
 * needs no locking and its results do not depend on the number of threads.
 *
 * Requests from nodes are network packets (sim/node d1s_pkt) addressed to the DIP's global
 * id: PUT = HBM write of the payload at pkt->addr; GETREQ = HBM read of pkt->len_bytes at
 * pkt->addr, answered by GETRSP packets (64 B each) to pkt->src at pkt->ret_addr. Timing:
 *   request: tile -> DIP link (link_in), HBM port (hbm: rate, + hbm_lat_cyc for reads);
 *   response packets: HBM -> DIP -> tile link (link_out).
 * Host transfers go over PCIe (pcie) and the HBM port. */
#ifndef D1S_DIP_H
#define D1S_DIP_H

#include "hbm.h"
#include "link.h"
#include "sim/arch/config.h"
#include "sim/node/node.h"

typedef struct d1s_dip d1s_dip;

/* A response packet for the tile: enters the tile edge at cycle arrive_cyc. */
typedef void (*d1s_dip_emit_fn)(void *ctx, const d1s_pkt *pkt, uint64_t arrive_cyc);

typedef struct d1s_dip_stats {
    uint64_t hbm_read_bytes, hbm_write_bytes;
    uint64_t reqs;     /* packets received from the tile */
    uint64_t rsp_pkts; /* packets sent to the tile */
    uint64_t pcie_bytes;
    uint64_t errors; /* requests outside the HBM (dropped; the requester waits) */
} d1s_dip_stats;

/* functional = 0: no data stored or returned (timing-only). cfg is read during the call.
 * D1_E_NOMEM. */
d1_status d1s_dip_create(const d1_config *cfg, uint32_t global_id, int functional, d1s_dip **out);
void d1s_dip_destroy(d1s_dip *d);
uint32_t d1s_dip_id(const d1s_dip *d);
d1s_hbm *d1s_dip_hbm(d1s_dip *d); /* borrowed */

/* A packet that left the tile edge towards this DIP at cycle leave_cyc. Responses go to
 * emit (in order). Returns the cycle the request reached the DIP. */
uint64_t d1s_dip_from_tile(d1s_dip *d, const d1s_pkt *pkt, uint64_t leave_cyc, d1s_dip_emit_fn emit,
                           void *ctx);
/* Host <-> HBM over PCIe starting at cycle start_cyc: data moved now (functional mode),
 * returns the completion cycle. D1_E_RANGE outside the HBM. */
d1_status d1s_dip_host_write(d1s_dip *d, uint64_t addr, const void *src, size_t len,
                             uint64_t start_cyc, uint64_t *done_cyc);
d1_status d1s_dip_host_read(d1s_dip *d, uint64_t addr, void *dst, size_t len, uint64_t start_cyc,
                            uint64_t *done_cyc);

void d1s_dip_get_stats(const d1s_dip *d, d1s_dip_stats *out);
const d1s_xlink *d1s_dip_link_in(const d1s_dip *d);  /* tile -> DIP */
const d1s_xlink *d1s_dip_link_out(const d1s_dip *d); /* DIP -> tile */
const d1s_xlink *d1s_dip_hbm_port(const d1s_dip *d);
const d1s_xlink *d1s_dip_pcie(const d1s_dip *d);
/* Zero-load cycles of an HBM read of len bytes, from the request leaving the tile edge to
 * the last response byte entering it (request 1 flit). */
uint64_t d1s_dip_zero_load_read_cyc(const d1s_dip *d, uint64_t len_bytes);

#endif
