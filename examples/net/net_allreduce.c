/* d1 net allreduce: all-reduce time across the nodes of a chip and of the tile with the ring,
 * 2-D and hierarchical kernels of kernels/collectives.h (real node programs), beside an
 * alpha-beta model. */
#include "cli.h"
#include "net_tile_util.h"

#include "kernels/collectives.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: d1 net allreduce [options]\n"
    "Run an FP32 all-reduce (sum) of --bytes per node over every node of one chip and/or of\n"
    "the whole tile with the kernels of kernels/collectives.h and print the simulated time\n"
    "beside the alpha-beta model T = sum over ring levels of\n"
    "(members - 1) x (2 alpha + 2 chunk / beta + chunk / gamma) (doc/tile.md):\n"
    "  ring  one ring over a snake path through every node\n"
    "  2d    reduce-scatter along rows, all-reduce along columns, all-gather along rows\n"
    "  hier  per chip 2-D reduce-scatter, a ring across the chips between corresponding\n"
    "        nodes, per chip 2-D all-gather (on one chip the same as 2d)\n"
    "On a chip the result is checked against the host reference, bit for bit.\n"
    "\n"
    "  --scope chip|tile|both   nodes taking part (default chip)\n"
    "  --algo LIST              comma-separated ring, 2d, hier, or all (default all); on the\n"
    "                           tile the ring (2 x 8849 steps, hours to simulate) is only\n"
    "                           modelled unless named in LIST\n"
    "  --bytes N                vector bytes per node, rounded up to 64 x nodes (default 1 MiB\n"
    "                           on a chip; the tile uses the smallest legal size unless given)\n"
    "  --functional             compute and check data on the tile too (default: timing only\n"
    "                           there; needs about nodes x bytes of host memory)\n"
    D1N_COMMON_USAGE;

static const char *const algo_names[] = {"ring", "2d", "hier"};
#define N_ALGOS 3

typedef struct ar_row {
    const char *scope, *algo;
    uint32_t nodes, groups, rows, cols;
    uint64_t bytes, cycles;
    double model_cyc, alpha_cyc[D1K_AR_MAX_LEVELS], beta[D1K_AR_MAX_LEVELS], gamma;
    double wall_s, cpu_s; /* host time of the simulation (CPU: all threads) */
    int levels;
    int verified; /* 1 ok, 0 not checked, -1 differs */
} ar_row;

static double now_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Largest zero-load latency between ring neighbours of level l. */
static uint64_t max_link_lat(const d1s_tile *t, const d1k_allreduce *a, int l)
{
    uint64_t mx = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        uint32_t j = d1k_allreduce_next(a, l, i);
        d1s_tile_path p;
        if (j != i && d1s_tile_zero_load(t, a->nodes[i], a->nodes[j], 64, &p) == D1_OK &&
            p.lat_cyc > mx)
            mx = p.lat_cyc;
    }
    return mx;
}

/* Node order. ring, 2d: the snake over the whole grid. hier: the chips in snake order over
 * the chip grid, each chip's nodes in its own snake order, node l of every chip at the same
 * local position (global id = chip x nodes per chip + local id). */
static void node_order(const d1s_tile *t, d1k_ar_algo algo, uint32_t *nodes)
{
    if (algo != D1K_AR_HIER) {
        d1s_tile_snake(t, -1, nodes);
        return;
    }
    uint32_t m = d1s_tile_nodes_per_chip(t), g = 0;
    int cx = d1s_tile_chips_x(t), cy = d1s_tile_chips_y(t);
    d1s_tile_snake(t, 0, nodes); /* chip 0: global id = local id */
    for (int y = 0; y < cy; y++)
        for (int i = 0; i < cx; i++, g++) {
            uint32_t k = (uint32_t)(y * cx + (y % 2 ? cx - 1 - i : i));
            for (uint32_t l = 0; l < m; l++)
                nodes[g * m + l] = k * m + nodes[l];
        }
}

/* Input data: a hash of (node index, float index), values k / 1024 for |k| < 4096. */
static void input16(void *ctx, uint32_t i, uint64_t f, float v[16])
{
    (void)ctx;
    for (int q = 0; q < 16; q++) {
        uint64_t s = ((uint64_t)i << 40 ^ (f + (uint64_t)q)) * 0x9e3779b97f4a7c15u;
        s ^= s >> 29;
        s *= 0xbf58476d1ce4e5b9u;
        s ^= s >> 32;
        v[q] = (float)((int32_t)(s >> 40) % 4096) / 1024.0f;
    }
}

static int run_case(const char *scope, d1k_ar_algo algo, const d1n_opts *o, long long bytes_req,
                    int functional, int simulate, ar_row *row)
{
    int chip = !strcmp(scope, "chip");
    static const char *const chip_sets[] = {"tile_chips_x=1", "tile_chips_y=1", "tiles_x=1",
                                            "tiles_y=1", NULL};
    d1_config cfg;
    d1_status st = d1n_config_with(&cfg, &o->cfg, chip ? chip_sets : NULL);
    if (st)
        return d1_cli_fail("net allreduce", st);
    int rc = 0;
    d1s_tile *t = NULL;
    uint32_t *nodes = NULL;
    d1s_kernel *k = NULL;
    float *buf = NULL, *ref = NULL;
    d1s_tile_opts to = {functional ? D1S_NODE_FUNCTIONAL : D1S_NODE_TIMING_ONLY, (int)o->threads};
    if ((st = d1s_tile_create(&cfg, &to, &t))) {
        rc = d1_cli_fail("net allreduce", st);
        goto done;
    }
    uint32_t N = d1s_tile_node_count(t), m = d1s_tile_nodes_per_chip(t);
    nodes = malloc(N * sizeof *nodes);
    if (!nodes) {
        rc = d1_cli_fail("net allreduce", d1_fail(D1_E_NOMEM, "node list"));
        goto done;
    }
    node_order(t, algo, nodes);
    d1k_allreduce a;
    memset(&a, 0, sizeof a);
    a.algo = algo;
    a.nodes = nodes;
    a.n = N;
    a.groups = algo == D1K_AR_HIER ? N / m : 1;
    a.bytes = d1k_allreduce_round_bytes(algo, N, (uint64_t)(bytes_req > 0 ? bytes_req : 1));
    a.buf_addr = 0x10000;
    a.scratch_addr = 0x10000 + a.bytes;
    a.target_nodes = N;
    a.sram_bytes = (uint64_t)cfg.sram_bytes;
    if (algo != D1K_AR_RING)
        d1k_allreduce_grid(algo == D1K_AR_HIER ? m : N, &a.rows, &a.cols);
    if ((st = d1k_allreduce_build(&a, &k))) {
        rc = d1_cli_fail("net allreduce", st);
        goto done;
    }
    size_t nf = (size_t)(a.bytes / 4);
    if (functional) {
        buf = malloc((size_t)a.bytes);
        if (!buf) {
            rc = d1_cli_fail("net allreduce", d1_fail(D1_E_NOMEM, "vector"));
            goto done;
        }
        for (uint32_t i = 0; i < N; i++) {
            for (size_t f = 0; f < nf; f += 16)
                input16(NULL, i, f, buf + f);
            if ((st = d1s_tile_load_image(t, nodes[i], a.buf_addr, buf, (size_t)a.bytes))) {
                rc = d1_cli_fail("net allreduce", st);
                goto done;
            }
        }
    }
    d1s_tile_result r;
    memset(&r, 0, sizeof r);
    r.end = D1S_END_HALTED;
    if (simulate && (st = d1s_tile_load_kernel(t, k))) {
        rc = d1_cli_fail("net allreduce", st);
        goto done;
    }
    double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    if (simulate && (st = d1s_tile_run(t, 0, &r))) {
        rc = d1_cli_fail("net allreduce", st);
        goto done;
    }
    row->wall_s = now_s(CLOCK_MONOTONIC) - w0;
    row->cpu_s = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (r.end != D1S_END_HALTED) {
        fprintf(stderr, "d1 net allreduce: %s %s: the kernel stopped: %s at node %u\n", scope,
                algo_names[algo], d1s_trap_name(r.trap.cause), r.trap.node);
        rc = 3;
        goto done;
    }
    uint32_t sz[D1K_AR_MAX_LEVELS], stride[D1K_AR_MAX_LEVELS];
    row->scope = chip ? "chip" : "tile";
    row->algo = algo_names[algo];
    row->nodes = N;
    row->levels = d1k_allreduce_levels(&a, sz, stride);
    row->groups = algo == D1K_AR_HIER ? a.groups : 1;
    row->rows = algo == D1K_AR_RING ? 1 : a.rows;
    row->cols = algo == D1K_AR_RING ? N : a.cols;
    row->bytes = a.bytes;
    row->cycles = r.cycles;
    /* alpha of a level: DMA set-up + its slowest ring link + semaphore/loop overhead (an
     * assumption of ~24 cycles: about 30 instructions per step on one thread); beta: the
     * node's router port, on the level across chips the chip edge shared by the chip's m
     * nodes that send at once; gamma: the vector add loop (8 instructions per 64 B, ~8
     * cycles) */
    row->gamma = 8;
    for (int l = 0; l < row->levels; l++) {
        row->alpha_cyc[l] = (double)cfg.dma_setup_cyc + (double)max_link_lat(t, &a, l) + 24;
        row->beta[l] = (double)cfg.router_out_bytes_per_cyc;
        if (algo == D1K_AR_HIER && l == 2 && (double)cfg.serdes_bytes_per_cyc / m < row->beta[l])
            row->beta[l] = (double)cfg.serdes_bytes_per_cyc / m;
    }
    row->model_cyc = d1k_allreduce_model_cyc(&a, row->alpha_cyc, row->beta, row->gamma);
    row->verified = 0;
    if (functional && simulate) {
        ref = malloc((size_t)a.bytes);
        if (!ref) {
            rc = d1_cli_fail("net allreduce", d1_fail(D1_E_NOMEM, "reference"));
            goto done;
        }
        d1k_allreduce_ref_gen(&a, input16, NULL, ref);
        row->verified = 1;
        for (uint32_t i = 0; i < N && row->verified == 1; i++) {
            d1s_node_sram_read(d1s_tile_node(t, nodes[i]), a.buf_addr, buf, (size_t)a.bytes);
            if (memcmp(buf, ref, (size_t)a.bytes))
                row->verified = -1;
        }
    }

done:
    free(buf);
    free(ref);
    d1s_kernel_destroy(k);
    free(nodes);
    d1s_tile_destroy(t);
    d1_config_fini(&cfg);
    return rc;
}

/* --algo LIST into want[N_ALGOS] (1 = named, 2 = by "all"); 1 on a bad name (printed). */
static int parse_algos(const char *s, int want[N_ALGOS])
{
    memset(want, 0, N_ALGOS * sizeof *want);
    size_t total = strlen(s);
    if (!total || s[total - 1] == ',') {
        fprintf(stderr, "d1 net allreduce: empty algorithm in --algo '%s'\n", s);
        return 1;
    }
    while (*s) {
        size_t len = strcspn(s, ",");
        int hit = 0;
        if (len == 3 && !strncmp(s, "all", 3)) {
            for (int i = 0; i < N_ALGOS; i++)
                if (!want[i])
                    want[i] = 2;
            hit = 1;
        }
        for (int i = 0; i < N_ALGOS; i++)
            if (strlen(algo_names[i]) == len && !strncmp(s, algo_names[i], len))
                want[i] = hit = 1;
        if (!hit || !len) {
            fprintf(stderr, "d1 net allreduce: unknown algorithm '%.*s' in --algo (ring, 2d, "
                            "hier, all)\n",
                    (int)len, s);
            return 1;
        }
        s += len + (s[len] == ',');
    }
    return 0;
}

int d1_net_allreduce(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *scope = "chip", *algo = "all", *bytes_s = NULL;
    int functional = 0;
    d1n_opt extra[] = {{"--scope", &scope, NULL},
                       {"--algo", &algo, NULL},
                       {"--bytes", &bytes_s, NULL},
                       {"--functional", NULL, &functional},
                       {NULL, NULL, NULL}};
    d1n_opts o;
    int rc = 0, want[N_ALGOS];
    long long bytes = -1;
    ar_row rows[2 * N_ALGOS];
    size_t n = 0;
    d1n_files f = {0};
    memset(rows, 0, sizeof rows);
    if (d1n_parse("allreduce", argc, argv, extra, &o)) {
        rc = 1;
        goto done;
    }
    if (d1n_int("allreduce", "--bytes", bytes_s, 1, 1 << 20, &bytes) ||
        parse_algos(algo, want) || d1n_no_args("allreduce", &o)) {
        rc = 1;
        goto done;
    }
    int sc_chip = !strcmp(scope, "chip") || !strcmp(scope, "both");
    int sc_tile = !strcmp(scope, "tile") || !strcmp(scope, "both");
    if (!sc_chip && !sc_tile) {
        fprintf(stderr, "d1 net allreduce: --scope chip|tile|both (see --help)\n");
        rc = 1;
        goto done;
    }
    for (int s = 0; s < 2 && !rc; s++) {
        if ((s == 0 && !sc_chip) || (s == 1 && !sc_tile))
            continue;
        for (int al = 0; al < N_ALGOS && !rc; al++) {
            if (!want[al])
                continue;
            long long b = bytes > 0 ? bytes : (s == 0 ? 1 << 20 : 1);
            /* the tile ring only when named: 2 x 8849 steps take hours to simulate */
            int simulate = !(s == 1 && al == D1K_AR_RING && want[al] == 2);
            rc = run_case(s == 0 ? "chip" : "tile", (d1k_ar_algo)al, &o, b,
                          s == 0 || functional, simulate, &rows[n]);
            if (!rc)
                n++;
        }
    }
    if (rc)
        goto done;
    if (!o.quiet) {
        printf("%-5s %-5s %6s %10s %9s %10s %10s %7s %8s %7s %7s %s\n", "scope", "algo",
               "nodes", "grid", "bytes", "cycles", "model", "err%", "us", "wall_s", "cpu_s",
               "check");
        for (size_t i = 0; i < n; i++) {
            char grid[40];
            if (rows[i].groups > 1)
                snprintf(grid, sizeof grid, "%ux%ux%u", rows[i].groups, rows[i].rows,
                         rows[i].cols);
            else
                snprintf(grid, sizeof grid, "%ux%u", rows[i].rows, rows[i].cols);
            if (!rows[i].cycles)
                printf("%-5s %-5s %6u %10s %9" PRIu64
                       " %10s %10.0f %7s %8.2f %7s %7s model only\n",
                       rows[i].scope, rows[i].algo, rows[i].nodes, grid, rows[i].bytes, "-",
                       rows[i].model_cyc, "-", d1n_ns(&o.cfg, rows[i].model_cyc) / 1000.0, "-",
                       "-");
            else
                printf("%-5s %-5s %6u %10s %9" PRIu64 " %10" PRIu64 " %10.0f %+7.1f %8.2f %7.1f "
                       "%7.1f %s\n",
                       rows[i].scope, rows[i].algo, rows[i].nodes, grid, rows[i].bytes,
                       rows[i].cycles, rows[i].model_cyc,
                       100.0 * (rows[i].model_cyc - (double)rows[i].cycles) /
                           (double)rows[i].cycles,
                       d1n_ns(&o.cfg, (double)rows[i].cycles) / 1000.0, rows[i].wall_s,
                       rows[i].cpu_s,
                       rows[i].verified > 0   ? "bit-exact"
                       : rows[i].verified < 0 ? "DIFFERS"
                                              : "timing only");
        }
        printf("model: per ring level (members - 1)(2 alpha + 2 chunk / beta + chunk / gamma); "
               "alpha = DMA set-up + slowest ring link + 24 cyc [A], beta = %lld B/cyc (across "
               "chips: chip edge / nodes per chip), gamma = 8 B/cyc [A]; err%% = (model - "
               "cycles) / cycles\n",
               (long long)o.cfg.router_out_bytes_per_cyc);
    }
    for (size_t i = 0; i < n; i++)
        if (rows[i].verified < 0)
            rc = 2;
    if (d1n_files_open("allreduce", &o, 1, &f)) {
        rc = 1;
        goto done;
    }
    if (f.csv) {
        fputs("scope,algo,nodes,groups,rows,cols,bytes,cycles,model_cyc,alpha0_cyc,alpha1_cyc,"
              "alpha2_cyc,beta0,beta1,beta2,gamma,verified,wall_s,cpu_s\n",
              f.csv);
        for (size_t i = 0; i < n; i++)
            fprintf(f.csv,
                    "%s,%s,%u,%u,%u,%u,%" PRIu64 ",%" PRIu64
                    ",%.1f,%.1f,%.1f,%.1f,%.2f,%.2f,%.2f,%.1f,%d,%.1f,%.1f\n",
                    rows[i].scope, rows[i].algo, rows[i].nodes, rows[i].groups, rows[i].rows,
                    rows[i].cols, rows[i].bytes, rows[i].cycles, rows[i].model_cyc,
                    rows[i].alpha_cyc[0], rows[i].alpha_cyc[1], rows[i].alpha_cyc[2],
                    rows[i].beta[0], rows[i].beta[1], rows[i].beta[2], rows[i].gamma,
                    rows[i].verified, rows[i].wall_s, rows[i].cpu_s);
    }
    if (f.json) {
        fputs("  \"runs\": [\n", f.json);
        for (size_t i = 0; i < n; i++)
            fprintf(f.json,
                    "    {\"scope\": \"%s\", \"algo\": \"%s\", \"nodes\": %u, "
                    "\"groups\": %u, "
                    "\"rows\": %u, \"cols\": %u, \"bytes\": %" PRIu64 ", \"cycles\": %" PRIu64
                    ", \"model_cyc\": %.1f, \"verified\": %d, \"wall_s\": %.1f, "
                    "\"cpu_s\": %.1f}%s\n",
                    rows[i].scope, rows[i].algo, rows[i].nodes, rows[i].groups, rows[i].rows,
                    rows[i].cols, rows[i].bytes, rows[i].cycles, rows[i].model_cyc,
                    rows[i].verified, rows[i].wall_s, rows[i].cpu_s, i + 1 < n ? "," : "");
        fputs("  ]\n}\n", f.json);
    }
    if (f.gp) {
        fputs("# idx label cycles model\n", f.dat);
        for (size_t i = 0; i < n; i++)
            fprintf(f.dat, "%zu %s-%s %" PRIu64 " %.0f\n", i, rows[i].scope, rows[i].algo,
                    rows[i].cycles, rows[i].model_cyc);
        fprintf(f.gp,
                "set terminal pngcairo size 800,450\nset output '%s.png'\n"
                "set title 'All-reduce: simulated vs alpha-beta model'\n"
                "set style data histograms\nset style histogram clustered gap 1\n"
                "set style fill solid 0.8 border -1\nset logscale y\nset ylabel 'cycles'\n"
                "plot '%s.dat' using 3:xtic(2) title 'simulated', '' using 4 title 'model'\n",
                o.out, o.out);
        if (d1n_files_plot("allreduce", &o, &f))
            rc = 1;
    }

done:
    d1n_files_close(&f);
    d1n_fini(&o);
    return rc;
}
