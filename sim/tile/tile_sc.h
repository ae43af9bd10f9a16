/* d1s_tile_sc: a tile run under SystemC (module d1s_tile_sc) -- the window loop and the host
 * as SystemC processes, through the C shim (sim/engine/scshim.h).
 *
 * Processes: "tile" advances the chips window by window (d1s_tile_run up to the window end;
 * the parallel region and the exchange run inside it, no SystemC call inside the region);
 * one "host_dipN" process per DIP with transfers moves data between host memory and that
 * DIP's HBM over PCIe: chunk by chunk, each chunk offered when PCIe is free, the data written
 * into HBM when its chunk lands (d1s_dip_host_write / read). DIP/HBM timing of node DMA is
 * evaluated in the window exchange; host transfers are offered at their SystemC time, so
 * host and node traffic share PCIe and HBM in (window, process) order -- deterministic.
 *
 * Call d1s_tile_sc_run from the body given to d1s_sc_main (once per process). */
#ifndef D1S_TILE_SC_H
#define D1S_TILE_SC_H

#include "tile.h"

typedef struct d1s_host_xfer {
    uint32_t dip; /* DIP index */
    int to_hbm;   /* 1: host -> HBM, 0: HBM -> host */
    uint64_t hbm_addr;
    void *host_buf; /* len bytes (NULL: timing only) */
    uint64_t len;
    uint64_t start_cyc; /* earliest start */
    uint64_t done_cyc;  /* out: last byte in HBM (or in host memory) */
    d1_status status;   /* out */
} d1s_host_xfer;

/* Run the tile and the host transfers (in order per DIP) until the tile is done and every
 * transfer completed, or max_cycles (0: no limit). chunk_bytes: PCIe transfer unit (0: 1 MiB).
 * D1_OK (res filled; a transfer error is in its status), D1_E_STATE outside d1s_sc_main's
 * body, host errors of the tile. */
d1_status d1s_tile_sc_run(d1s_tile *t, d1s_host_xfer *xfers, size_t n, uint64_t chunk_bytes,
                          uint64_t max_cycles, d1s_tile_result *res);

#endif
