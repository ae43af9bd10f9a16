/* d1s_hbm: the contents of one DIP's HBM (module d1s_hbm), a sparse byte store.
 *
 * A 32 GB HBM costs nothing until written: memory is a hash map of 64 KiB pages allocated on
 * first write; reading an untouched byte gives 0. Not thread-safe (the tile touches HBM only
 * in the serial window exchange). Timing lives in dip.h, not here. */
#ifndef D1S_HBM_H
#define D1S_HBM_H

#include "sim/arch/status.h"

#include <stddef.h>
#include <stdint.h>

typedef struct d1s_hbm d1s_hbm;

#define D1S_HBM_PAGE_BYTES ((uint64_t)1 << 16)

/* size_bytes >= 1. D1_E_NOMEM. */
d1_status d1s_hbm_create(uint64_t size_bytes, d1s_hbm **out);
void d1s_hbm_destroy(d1s_hbm *h);
uint64_t d1s_hbm_size(const d1s_hbm *h);
/* D1_E_RANGE when [addr, addr + len) leaves the HBM, D1_E_NOMEM. */
d1_status d1s_hbm_write(d1s_hbm *h, uint64_t addr, const void *src, size_t len);
d1_status d1s_hbm_read(const d1s_hbm *h, uint64_t addr, void *dst, size_t len);
/* Bytes of host memory held by allocated pages. */
size_t d1s_hbm_resident_bytes(const d1s_hbm *h);

#endif
