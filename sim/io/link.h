/* d1s_xlink: a first-come-first-served serial link (SerDes edge, tile-to-tile edge, DIP link,
 * HBM port, PCIe) as a rate + latency server. Plain data, caller-owned (init/no fini).
 *
 * Rate = num / den bytes per cycle (exact rational: 4500 B/cyc shared by 5 chip edges is
 * num 4500, den 5). Busy time is kept in units where one cycle = num units and one byte =
 * den units, so back-to-back packets never lose fractions of a cycle. A packet of b bytes
 * offered at cycle t starts at max(t, link free), its last byte leaves at
 * ceil(finish) and it arrives lat_cyc later:
 *     zero load: arrive = t + ceil(b * den / num) + lat_cyc. */
#ifndef D1S_XLINK_H
#define D1S_XLINK_H

#include <stdint.h>

typedef struct d1s_xlink {
    uint64_t num, den, lat_cyc;
    uint64_t busy_units;          /* the link is busy until this time (units above) */
    uint64_t bytes, pkts;         /* carried so far */
    uint64_t first_cyc, last_cyc; /* first offer, last departure (utilisation window) */
} d1s_xlink;

static inline void d1s_xlink_init(d1s_xlink *l, uint64_t num, uint64_t den, uint64_t lat_cyc)
{
    l->num = num ? num : 1;
    l->den = den ? den : 1;
    l->lat_cyc = lat_cyc;
    l->busy_units = 0;
    l->bytes = l->pkts = 0;
    l->first_cyc = UINT64_MAX;
    l->last_cyc = 0;
}

/* Cycle at which the last byte of a b-byte packet offered at cycle t has left the sender. */
static inline uint64_t d1s_xlink_depart(d1s_xlink *l, uint64_t t, uint64_t b)
{
    uint64_t start = t * l->num;
    if (start < l->busy_units)
        start = l->busy_units;
    l->busy_units = start + b * l->den;
    uint64_t done = (l->busy_units + l->num - 1) / l->num;
    l->bytes += b;
    l->pkts++;
    if (t < l->first_cyc)
        l->first_cyc = t;
    if (done > l->last_cyc)
        l->last_cyc = done;
    return done;
}

/* Arrival cycle at the far end of a b-byte packet offered at cycle t. */
static inline uint64_t d1s_xlink_send(d1s_xlink *l, uint64_t t, uint64_t b)
{
    return d1s_xlink_depart(l, t, b) + l->lat_cyc;
}

/* Zero-load arrival - offer (no state change). */
static inline uint64_t d1s_xlink_zero_load_cyc(const d1s_xlink *l, uint64_t b)
{
    return (b * l->den + l->num - 1) / l->num + l->lat_cyc;
}

#endif
