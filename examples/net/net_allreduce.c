/* d1 net allreduce: all-reduce time across the nodes of a chip and of the tile with the ring
 * and 2-D kernels of kernels/collectives.h (real node programs), beside an alpha-beta model. */
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
    "the whole tile, with the ring (snake path) and 2-D (reduce-scatter along rows, all-reduce\n"
    "along columns, all-gather along rows) kernels, and print the simulated time beside the\n"
    "alpha-beta model: T = sum over phases of steps x (2 alpha + 2 chunk / beta + chunk / gamma)\n"
    "(doc/tile.md). On a chip the result is checked against the host reference, bit for bit.\n"
    "\n"
    "  --scope chip|tile|both   nodes taking part (default chip)\n"
    "  --algo ring|2d|both      algorithms (default both; on the tile the ring, 2 x 8849\n"
    "                           steps, is only modelled unless --algo ring is given: it takes\n"
    "                           hours to simulate, the 2-D one minutes)\n"
    "  --bytes N                vector bytes per node, rounded up to 64 x nodes (default 1 MiB\n"
    "                           on a chip; the tile uses the smallest legal size unless given)\n"
    "  --functional             compute data on the tile too (default: timing only "
    "there)\n" D1N_COMMON_USAGE;

typedef struct ar_row {
    const char *scope, *algo;
    uint32_t nodes, rows, cols;
    uint64_t bytes, cycles;
    double model_cyc, alpha_cyc, beta, gamma, wall_s;
    int verified; /* 1 ok, 0 not checked, -1 differs */
} ar_row;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Largest zero-load latency between ring neighbours (i -> i + stride within groups). */
static uint64_t max_link_lat(const d1s_tile *t, const uint32_t *nodes, uint32_t n, uint32_t R,
                             uint32_t C, int rows)
{
    uint64_t mx = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = i / C, x = i % C, j;
        if (rows)
            j = r * C + (x + 1) % C;
        else
            j = ((r + 1) % R) * C + x;
        d1s_tile_path p;
        if (j != i && d1s_tile_zero_load(t, nodes[i], nodes[j], 64, &p) == D1_OK && p.lat_cyc > mx)
            mx = p.lat_cyc;
    }
    return mx;
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
    float **in = NULL;
    d1s_tile_opts to = {functional ? D1S_NODE_FUNCTIONAL : D1S_NODE_TIMING_ONLY, (int)o->threads};
    if ((st = d1s_tile_create(&cfg, &to, &t))) {
        rc = d1_cli_fail("net allreduce", st);
        goto done;
    }
    uint32_t N = d1s_tile_node_count(t);
    nodes = malloc(N * sizeof *nodes);
    if (!nodes) {
        rc = 1;
        goto done;
    }
    d1s_tile_snake(t, -1, nodes);
    d1k_allreduce a;
    memset(&a, 0, sizeof a);
    a.algo = algo;
    a.nodes = nodes;
    a.n = N;
    a.bytes = d1k_allreduce_round_bytes(algo, N, (uint64_t)(bytes_req > 0 ? bytes_req : 1));
    a.buf_addr = 0x10000;
    a.scratch_addr = 0x10000 + a.bytes;
    a.target_nodes = N;
    a.sram_bytes = (uint64_t)cfg.sram_bytes;
    d1k_allreduce_grid(N, &a.rows, &a.cols);
    if ((st = d1k_allreduce_build(&a, &k))) {
        rc = d1_cli_fail("net allreduce", st);
        goto done;
    }
    size_t nf = (size_t)(a.bytes / 4);
    if (functional) {
        in = calloc(N, sizeof *in);
        if (!in) {
            rc = 1;
            goto done;
        }
        uint64_t s = 1;
        for (uint32_t i = 0; i < N; i++) {
            in[i] = malloc((size_t)a.bytes);
            if (!in[i]) {
                rc = 1;
                goto done;
            }
            for (size_t f = 0; f < nf; f++) {
                s = s * 6364136223846793005u + 1442695040888963407u;
                in[i][f] = (float)((int32_t)(s >> 40) % 4096) / 1024.0f;
            }
            d1s_tile_load_image(t, nodes[i], a.buf_addr, in[i], (size_t)a.bytes);
        }
    }
    d1s_tile_result r;
    memset(&r, 0, sizeof r);
    r.end = D1S_END_HALTED;
    if (simulate && (st = d1s_tile_load_kernel(t, k))) {
        rc = d1_cli_fail("net allreduce", st);
        goto done;
    }
    double w0 = now_s();
    if (simulate && (st = d1s_tile_run(t, 0, &r))) {
        rc = d1_cli_fail("net allreduce", st);
        goto done;
    }
    row->wall_s = now_s() - w0;
    if (r.end != D1S_END_HALTED) {
        fprintf(stderr, "d1 net allreduce: %s %s: the kernel stopped: %s at node %u\n", scope,
                algo == D1K_AR_RING ? "ring" : "2d", d1s_trap_name(r.trap.cause), r.trap.node);
        rc = 3;
        goto done;
    }
    row->scope = chip ? "chip" : "tile";
    row->algo = algo == D1K_AR_RING ? "ring" : "2d";
    row->nodes = N;
    row->rows = algo == D1K_AR_RING ? 1 : a.rows;
    row->cols = algo == D1K_AR_RING ? N : a.cols;
    row->bytes = a.bytes;
    row->cycles = r.cycles;
    /* alpha: DMA set-up + the slowest ring link + semaphore/loop overhead (an assumption of
     * ~24 cycles: about 30 instructions per step on one thread); beta: the node's router port;
     * gamma: the vector add loop (8 instructions per 64 B, ~8 cycles) */
    uint64_t lat_row = max_link_lat(t, nodes, N, row->rows, row->cols, 1);
    uint64_t lat_col = algo == D1K_AR_2D ? max_link_lat(t, nodes, N, row->rows, row->cols, 0) : 0;
    double overhead = 24, gamma = 8;
    double beta = (double)cfg.router_out_bytes_per_cyc;
    double a_row = (double)cfg.dma_setup_cyc + (double)lat_row + overhead;
    double a_col = (double)cfg.dma_setup_cyc + (double)lat_col + overhead;
    if (algo == D1K_AR_RING)
        row->model_cyc = d1k_allreduce_model_cyc(algo, N, 1, N, a.bytes, a_row, beta, gamma);
    else
        row->model_cyc =
            d1k_allreduce_model_cyc(algo, N, a.rows, a.cols, a.bytes, a_row, beta, gamma) -
            d1k_allreduce_model_cyc(algo, N, a.rows, a.cols, 0, a_row, beta, gamma) +
            (a.cols - 1) * 2 * a_row + (a.rows - 1) * 2 * a_col;
    row->alpha_cyc = algo == D1K_AR_RING ? a_row : (a_row + a_col) / 2;
    row->beta = beta;
    row->gamma = gamma;
    row->verified = 0;
    if (functional && simulate) {
        float *ref = malloc((size_t)a.bytes), *got = malloc((size_t)a.bytes);
        if (ref && got) {
            d1k_allreduce_ref(&a, (const float *const *)in, ref);
            row->verified = 1;
            for (uint32_t i = 0; i < N && row->verified == 1; i++) {
                d1s_node_sram_read(d1s_tile_node(t, nodes[i]), a.buf_addr, got, (size_t)a.bytes);
                if (memcmp(got, ref, (size_t)a.bytes))
                    row->verified = -1;
            }
        }
        free(ref);
        free(got);
    }

done:
    if (in)
        for (uint32_t i = 0; i < d1s_tile_node_count(t); i++)
            free(in[i]);
    free(in);
    d1s_kernel_destroy(k);
    free(nodes);
    d1s_tile_destroy(t);
    d1_config_fini(&cfg);
    return rc;
}

int d1_net_allreduce(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *scope = "chip", *algo = "both", *bytes_s = NULL;
    int functional = 0;
    d1n_opt extra[] = {{"--scope", &scope, NULL},
                       {"--algo", &algo, NULL},
                       {"--bytes", &bytes_s, NULL},
                       {"--functional", NULL, &functional},
                       {NULL, NULL, NULL}};
    d1n_opts o;
    int rc = 0;
    long long bytes = -1;
    ar_row rows[4];
    size_t n = 0;
    d1n_files f = {0};
    if (d1n_parse("allreduce", argc, argv, extra, &o) ||
        d1n_int("allreduce", "--bytes", bytes_s, 1, 1 << 20, &bytes)) {
        rc = 1;
        goto done;
    }
    int sc_chip = !strcmp(scope, "chip") || !strcmp(scope, "both");
    int sc_tile = !strcmp(scope, "tile") || !strcmp(scope, "both");
    int al_ring = !strcmp(algo, "ring") || !strcmp(algo, "both");
    int al_2d = !strcmp(algo, "2d") || !strcmp(algo, "both");
    if ((!sc_chip && !sc_tile) || (!al_ring && !al_2d) || o.npos) {
        fprintf(stderr, "d1 net allreduce: --scope chip|tile|both, --algo ring|2d|both (see "
                        "--help)\n");
        rc = 1;
        goto done;
    }
    for (int s = 0; s < 2 && !rc; s++) {
        if ((s == 0 && !sc_chip) || (s == 1 && !sc_tile))
            continue;
        for (int al = 0; al < 2 && !rc; al++) {
            if ((al == 0 && !al_ring) || (al == 1 && !al_2d))
                continue;
            long long b = bytes > 0 ? bytes : (s == 0 ? 1 << 20 : 1);
            int simulate = !(s == 1 && al == 0 && strcmp(algo, "ring"));
            rc = run_case(s == 0 ? "chip" : "tile", al == 0 ? D1K_AR_RING : D1K_AR_2D, &o, b,
                          s == 0 || functional, simulate, &rows[n]);
            if (!rc)
                n++;
        }
    }
    if (rc)
        goto done;
    if (!o.quiet) {
        printf("%-5s %-5s %6s %9s %9s %10s %10s %6s %7s %s\n", "scope", "algo", "nodes", "grid",
               "bytes", "cycles", "model", "ratio", "us", "check");
        for (size_t i = 0; i < n; i++) {
            char grid[24];
            snprintf(grid, sizeof grid, "%ux%u", rows[i].rows, rows[i].cols);
            if (!rows[i].cycles)
                printf("%-5s %-5s %6u %9s %9" PRIu64 " %10s %10.0f %6s %7.2f model only\n",
                       rows[i].scope, rows[i].algo, rows[i].nodes, grid, rows[i].bytes, "-",
                       rows[i].model_cyc, "-", d1n_ns(&o.cfg, rows[i].model_cyc) / 1000.0);
            else
                printf("%-5s %-5s %6u %9s %9" PRIu64 " %10" PRIu64 " %10.0f %6.3f %7.2f %s\n",
                       rows[i].scope, rows[i].algo, rows[i].nodes, grid, rows[i].bytes,
                       rows[i].cycles, rows[i].model_cyc,
                       (double)rows[i].cycles / rows[i].model_cyc,
                       d1n_ns(&o.cfg, (double)rows[i].cycles) / 1000.0,
                       rows[i].verified > 0   ? "bit-exact"
                       : rows[i].verified < 0 ? "DIFFERS"
                                              : "timing only");
        }
        printf("model: alpha = DMA set-up + slowest ring link + 24 cyc [A], beta = %lld B/cyc, "
               "gamma = 8 B/cyc [A]\n",
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
        fputs("scope,algo,nodes,rows,cols,bytes,cycles,model_cyc,alpha_cyc,beta,gamma,verified\n",
              f.csv);
        for (size_t i = 0; i < n; i++)
            fprintf(f.csv, "%s,%s,%u,%u,%u,%" PRIu64 ",%" PRIu64 ",%.1f,%.1f,%.1f,%.1f,%d\n",
                    rows[i].scope, rows[i].algo, rows[i].nodes, rows[i].rows, rows[i].cols,
                    rows[i].bytes, rows[i].cycles, rows[i].model_cyc, rows[i].alpha_cyc,
                    rows[i].beta, rows[i].gamma, rows[i].verified);
    }
    if (f.json) {
        fputs("  \"runs\": [\n", f.json);
        for (size_t i = 0; i < n; i++)
            fprintf(f.json,
                    "    {\"scope\": \"%s\", \"algo\": \"%s\", \"nodes\": %u, \"rows\": %u, "
                    "\"cols\": %u, \"bytes\": %" PRIu64 ", \"cycles\": %" PRIu64
                    ", \"model_cyc\": %.1f, \"verified\": %d}%s\n",
                    rows[i].scope, rows[i].algo, rows[i].nodes, rows[i].rows, rows[i].cols,
                    rows[i].bytes, rows[i].cycles, rows[i].model_cyc, rows[i].verified,
                    i + 1 < n ? "," : "");
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
