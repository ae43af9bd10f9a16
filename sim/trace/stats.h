/* d1s_stats: run statistics of a chip as a table (text) and as JSON.
 *
 * JSON layout (every output file starts with the effective configuration):
 *   { "config": {every config.def key: value}, "config_hash": "0x...",
 *     "run": {program, mode, network, end, cycles, seconds, trap|null},
 *     "totals": {...}, "nodes": [{id, x, y, ..., "threads": [...]}] }
 * Definitions (doc/node.md "Statistics"): IPC = instructions / cycles; matrix-unit
 * utilization = mma / cycles (peak 1 mma = 256 MAC per node per cycle); chip totals use the
 * run's cycles x nodes started; link utilization = flits / (links x flits per link per cycle
 * x cycles). */
#ifndef D1S_STATS_H
#define D1S_STATS_H

#include "sim/chip/chip.h"

#include <stdio.h>

typedef struct d1s_run_info {
    const char *program; /* file name shown in the output */
    const char *network; /* "noc" / "direct" */
} d1s_run_info;

/* Human-readable summary (cycles, instructions, IPC, matrix-unit utilization, SRAM and
 * link traffic, stalls, the trap if any). */
void d1s_stats_print(FILE *out, const d1s_chip *c, const d1s_chip_result *res,
                     const d1s_run_info *info);
/* JSON document as described above. D1_E_IO if writing fails. */
d1_status d1s_stats_write_json(FILE *out, const d1s_chip *c, const d1s_chip_result *res,
                               const d1s_run_info *info);
/* The effective configuration as a JSON object (no trailing newline). */
void d1s_stats_config_json(FILE *out, const d1_config *cfg);
/* One-line trap description: "trap dma-node at node 3 (x,y) thread 0 pc 0x10: ..." */
void d1s_stats_trap_line(FILE *out, const d1s_chip *c, const d1s_trap *t);

#endif
