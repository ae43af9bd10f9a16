/* Shared helpers of the tile interconnect commands (d1 net latency, heatmap, bandwidth,
 * allreduce, report): option parsing, tile creation, node names, output files and gnuplot.
 * Prefix d1n_. */
#ifndef D1N_TILE_UTIL_H
#define D1N_TILE_UTIL_H

#include "sim/arch/config.h"
#include "sim/tile/tile.h"

#include <stdio.h>

/* Options every command takes (NET_COMMON_USAGE documents them). */
#define D1N_COMMON_USAGE                                                                           \
    "  --config FILE        apply a configuration file (repeatable, in order)\n"                   \
    "  --set key=value      override one configuration key (repeatable, after files)\n"            \
    "  --threads N          OpenMP threads for the chip windows (default: sim_threads)\n"          \
    "  --out PREFIX         write PREFIX.csv, PREFIX.json, PREFIX.dat/.gp and PREFIX.png\n"        \
    "  --no-plot            do not run gnuplot (the .dat/.gp files are still written)\n"           \
    "  -q, --quiet          no table on stdout\n"

typedef struct d1n_opts {
    d1_config cfg;
    const char *out;
    long long threads;
    int quiet, no_plot;
    int npos;
    char **pos; /* positional arguments (borrowed from argv) */
} d1n_opts;

/* A command-specific option: valued (val != NULL) or a flag (flag != NULL). */
typedef struct d1n_opt {
    const char *name;
    const char **val;
    int *flag;
} d1n_opt;

/* Parse argv (argv[0] = command name). extra: NULL-name-terminated table or NULL.
 * Returns 0, or 1 after printing the reason. On 0 the caller owns o->cfg (d1n_fini). */
int d1n_parse(const char *cmd, int argc, char **argv, const d1n_opt *extra, d1n_opts *o);
void d1n_fini(d1n_opts *o);
/* Create the tile; prints the reason and returns 1 on failure. */
int d1n_tile(const char *cmd, d1n_opts *o, d1s_node_mode mode, d1s_tile **t);
/* A node: decimal id, or "x,y" global position. Prints the reason, returns 1 if bad. */
int d1n_node(const char *cmd, const d1s_tile *t, const char *s, uint32_t *id);
/* Parse an integer option value in [lo, hi] (NULL: keep *out). 1 on error (printed). */
int d1n_int(const char *cmd, const char *what, const char *s, long long lo, long long hi,
            long long *out);
/* Open PREFIX.ext for writing (NULL when o->out is NULL); prints the reason on failure and
 * sets *err. Files that hold data begin with the effective configuration (d1n_config_*). */
FILE *d1n_open(const char *cmd, const d1n_opts *o, const char *ext, int *err);
void d1n_config_comment(FILE *f, const d1_config *cfg); /* "# key = value" lines */
void d1n_config_json(FILE *f, const d1_config *cfg);    /* "config": {...}, (no brace) */
/* Run `gnuplot PREFIX.gp` without a shell unless --no-plot; 0 ok or skipped (gnuplot
 * absent: a note on stderr), 1 if gnuplot failed. */
int d1n_plot(const char *cmd, const d1n_opts *o);

/* The files of --out PREFIX (all NULL without --out). */
typedef struct d1n_files {
    FILE *csv, *json, *dat, *gp;
} d1n_files;
/* Open PREFIX.csv and PREFIX.json, and PREFIX.dat and PREFIX.gp if plot; the CSV begins with
 * the configuration comment, the JSON with "{" and the configuration fields. Returns 1 after
 * printing the reason (d1n_files_close closes what was opened). */
int d1n_files_open(const char *cmd, const d1n_opts *o, int plot, d1n_files *f);
/* Close PREFIX.dat and PREFIX.gp and run gnuplot (d1n_plot); 1 if gnuplot failed. */
int d1n_files_plot(const char *cmd, const d1n_opts *o, d1n_files *f);
void d1n_files_close(d1n_files *f);
/* Reject positional arguments: 1 after printing the first one. */
int d1n_no_args(const char *cmd, const d1n_opts *o);
double d1n_ns(const d1_config *cfg, double cyc); /* cycles -> ns */

/* A DMA stream for bandwidth runs: node src runs one descriptor (kind D1_DMA_*: PUT to node
 * `peer`, HBM_RD / HBM_WR with DIP index `peer`) of len bytes, waits for its completion
 * semaphore and halts. At most one flow per source node. */
typedef struct d1n_flow {
    uint32_t src;
    uint8_t kind;
    uint32_t peer;
    uint32_t len;
    uint64_t local_addr, remote_addr;
} d1n_flow;
/* Load the flows on t (at its current cycle) and run to the end. D1_OK with *res filled,
 * or the first error; a guest trap is D1_E_TRAP with the cause in d1_last_error(). */
d1_status d1n_run_flows(d1s_tile *t, const d1n_flow *f, size_t n, d1s_tile_result *res);
/* The same, calling sample(ctx, t, 0) at cycle t_a and sample(ctx, t, 1) at cycle t_b
 * (steady-state measurements; t_a < t_b, both 0: no sampling). */
d1_status d1n_run_flows_sampled(d1s_tile *t, const d1n_flow *f, size_t n, uint64_t t_a,
                                uint64_t t_b, void (*sample)(void *ctx, d1s_tile *t, int k),
                                void *ctx, d1s_tile_result *res);
/* A copy of base with `k=v` overrides applied (NULL-terminated list). */
d1_status d1n_config_with(d1_config *dst, const d1_config *base, const char *const *sets);

/* One bandwidth case (net_bandwidth.c): published, configured and measured GB/s. */
typedef struct d1n_bw_row {
    const char *name, *published;
    double published_gbs, measured_gbs, expected_gbs;
    char note[128];
} d1n_bw_row;
/* Run the cases named in only (comma-separated; NULL: all) into rows. Returns 0, or 1 after
 * printing the reason. */
int d1n_bandwidth_rows(const d1_config *cfg, const char *only, int scale, int threads,
                       d1n_bw_row *rows, size_t *n_rows);

/* One measured path (net_latency.c). */
typedef struct d1n_lat_row {
    char name[48];
    uint32_t src, dst;
    int sx, sy, dx, dy;
    d1s_tile_path path;    /* formula */
    uint64_t measured_cyc; /* one way */
    uint64_t back_cyc;     /* dst -> src */
} d1n_lat_row;
/* Measure one-way latency both ways for n pairs, sequentially (zero load), and the formula.
 * Returns D1_OK or the first error. */
d1_status d1n_measure_pairs(d1s_tile *t, d1n_lat_row *rows, size_t n, uint32_t bytes);
/* The representative paths of doc/validation.md: neighbour, across a chip, one chip edge,
 * corner to corner of the system. Fills up to 4 rows (names and ids), returns the count. */
size_t d1n_representative_pairs(const d1s_tile *t, d1n_lat_row *rows);

#endif
