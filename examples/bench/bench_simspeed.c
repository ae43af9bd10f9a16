/* d1 bench sim-speed: simulator speed in node-cycles per second -- an MMA-bound program on
 * every node plus cross-chip DMA traffic, on one chip and on the whole tile, with 1 and 2
 * OpenMP threads for the tile windows; parallel efficiency and peak memory. */
#include "bench.h"
#include "cli.h"

#include "sim/arch/config.h"
#include "sim/elf/asm.h"
#include "sim/elf/emit.h"
#include "sim/tile/tile.h"
#ifdef D1_HAVE_MPI
#include "sim/tile/tile_mpi.h"
#endif

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char usage[] =
    "usage: d1 bench sim-speed [options]\n"
    "Simulator speed: every node runs 8 independent mma.bf16 per loop iteration on thread 0\n"
    "(the matrix unit busy every cycle) while thread 1 DMA-PUTs 1 KiB blocks to a node one chip\n"
    "further (cross-chip SerDes traffic). Timing-only mode. Reports node-cycles per second of\n"
    "wall time (median of --repeat runs) for one chip and for the tile with 1 and 2 threads,\n"
    "the parallel efficiency (rate with 2 threads / 2 x rate with 1) and the peak resident\n"
    "memory. Targets: >= 1e8 node-cycles/s per thread, efficiency >= 80%, tile < 2 GB.\n"
    "\n"
    "  --case chip|tile|both  (default both)\n"
    "  --cycles N             simulated cycles per run, about (default 20000)\n"
    "  --repeat N             runs per configuration, the median is reported (default 3)\n"
    "  --config FILE, --set key=value   as everywhere (tile shape: tile_chips_x/y)\n"
    "  --mpi                  the tile only, its chips partitioned over the MPI ranks\n"
    "                         (mpirun -np P d1 bench sim-speed --mpi ...; doc/tile.md): rate =\n"
    "                         node-cycles / wall time of the slowest rank; results are the\n"
    "                         same for any P (cycles, packets, statistics digest)\n"
    "  --threads N            OpenMP threads per rank with --mpi (default 1)\n";

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct sp_run {
    double rate;     /* node-cycles per second of wall time */
    double cpu_rate; /* node-cycles per CPU-second (all threads): robust on a shared machine */
    uint64_t cycles, nodes, xpkts, mma;
    uint64_t digest; /* FNV-1a of the result and the summed chip statistics */
} sp_run;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

#ifdef D1_HAVE_MPI
static int g_mpi; /* --mpi: partition the tile over the MPI ranks */
#endif

static d1_status one_run(const d1_config *cfg, int threads, uint64_t cycles, sp_run *out)
{
    d1s_tile_opts o = {D1S_NODE_TIMING_ONLY, threads};
    d1s_tile *t = NULL;
    d1_status st = d1s_tile_create(cfg, &o, &t);
    if (st != D1_OK)
        return st;
#ifdef D1_HAVE_MPI
    if (g_mpi && (st = d1s_tile_mpi_partition(t)) != D1_OK) {
        d1s_tile_destroy(t);
        return st;
    }
#endif
    uint32_t N = d1s_tile_node_count(t), npc = d1s_tile_nodes_per_chip(t);
    uint64_t iters = cycles / 8, ndma = cycles / 1000 + 1;
    char src[2048];
    snprintf(src, sizeof src,
             ".program main\n.place all\n"
             "        csrr    x5, nid\n"
             "        li      x7, %u\n"
             "        li      x6, %u\n"
             "        add     x6, x5, x6\n"
             "        blt     x6, x7, ok\n"
             "        sub     x6, x6, x7\n"
             "ok:     li      x8, 0x00ff0100\n"
             "        li      x9, 1024\n"
             "        slli    x9, x9, 32\n"
             "        or      x8, x8, x9\n"
             "        sd      x8, 0x200(x0)\n"
             "        sd      x6, 0x208(x0)\n"
             "        li      x8, 0x10000\n"
             "        sd      x8, 0x210(x0)\n"
             "        li      x8, 0x20000\n"
             "        sd      x8, 0x218(x0)\n"
             "        li      x1, 1\n"
             "        la      x2, dmathr\n"
             "        tstart  x1, x2\n"
             "        li      x1, %" PRIu64 "\n"
             "loop:   addi    x1, x1, -1\n"
             "        mma.bf16 m0, v1, v2\n"
             "        mma.bf16 m1, v1, v2\n"
             "        mma.bf16 m2, v1, v2\n"
             "        mma.bf16 m3, v1, v2\n"
             "        mma.bf16 m4, v1, v2\n"
             "        mma.bf16 m5, v1, v2\n"
             "        mma.bf16 m6, v1, v2\n"
             "        mma.bf16 m7, v1, v2\n"
             "        bne     x1, x0, loop\n"
             "        halt\n"
             "dmathr: li      x3, %" PRIu64 "\n"
             "dl:     dma     0x200(x0)\n"
             "        swait   s1, 1\n"
             "        addi    x3, x3, -1\n"
             "        bne     x3, x0, dl\n"
             "        halt\n",
             N, N > npc ? npc + 7 : 7, iters, ndma);
    d1s_target tg = {N, (uint64_t)cfg->sram_bytes, 0};
    d1s_kernel *k = NULL;
    st = d1s_asm_string(src, "simspeed", &tg, &k);
    if (st == D1_OK)
        st = d1s_tile_load_kernel(t, k);
    d1s_tile_result r;
#ifdef D1_HAVE_MPI
    if (g_mpi && st == D1_OK)
        st = d1s_mpi_barrier();
#endif
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (st == D1_OK)
        st = d1s_tile_run(t, 0, &r);
    double dt = clock_s(CLOCK_MONOTONIC) - t0, dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
#ifdef D1_HAVE_MPI
    if (g_mpi && st == D1_OK) { /* the slowest rank's wall time, every rank's CPU time */
        if ((st = d1s_mpi_allreduce_f64(&dt, 1, D1S_TILE_MAX)) == D1_OK)
            st = d1s_mpi_allreduce_f64(&dc, 1, D1S_TILE_SUM);
    }
#endif
    if (st == D1_OK && r.end != D1S_END_HALTED)
        st = d1_fail(D1_E_TRAP, "the benchmark program stopped: %s at node %u",
                     d1s_trap_name(r.trap.cause), r.trap.node);
    if (st == D1_OK) {
        d1s_chip_stats cs;
        d1s_tile_chip_stats(t, &cs);
        out->cycles = r.cycles;
        out->nodes = N;
        out->xpkts = r.xpkts;
        out->mma = cs.mma;
        uint64_t h = 0xcbf29ce484222325u;
        h = fnv(h, &r.cycles, sizeof r.cycles);
        h = fnv(h, &r.windows, sizeof r.windows);
        h = fnv(h, &r.xpkts, sizeof r.xpkts);
        out->digest = fnv(h, &cs, sizeof cs);
        out->rate = (double)N * (double)r.cycles / dt;
        out->cpu_rate = (double)N * (double)r.cycles / dc;
    }
    d1s_kernel_destroy(k);
    d1s_tile_destroy(t);
    return st;
}

static int measure(const char *name, const d1_config *cfg, int threads, uint64_t cycles, int repeat,
                   sp_run *med)
{
    double rates[64], cpu[64];
    sp_run r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < repeat; i++) {
        d1_status st = one_run(cfg, threads, cycles, &r);
        if (st != D1_OK) {
            fprintf(stderr, "d1 bench sim-speed: %s: %s: %s\n", name, d1_status_name(st),
                    d1_last_error());
            return 1;
        }
        if (i && r.cycles != med->cycles) {
            fprintf(stderr,
                    "d1 bench sim-speed: %s: runs differ (%" PRIu64 " vs %" PRIu64 " cycles)\n",
                    name, r.cycles, med->cycles);
            return 1;
        }
        *med = r;
        rates[i] = r.rate;
        cpu[i] = r.cpu_rate;
    }
    qsort(rates, (size_t)repeat, sizeof *rates, cmp_d);
    qsort(cpu, (size_t)repeat, sizeof *cpu, cmp_d);
    med->rate = rates[repeat / 2];
    med->cpu_rate = cpu[repeat / 2];
    return 0;
}

static double peak_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* --mpi: the tile partitioned over the ranks; rank 0 prints. */
static int run_mpi(int *argc, char ***argv, const d1_config *cfg, uint64_t cycles, int repeat,
                   int threads)
{
#ifdef D1_HAVE_MPI
    int rank = 0, size = 1;
    d1_status st = d1s_mpi_init(argc, argv, &rank, &size);
    if (st != D1_OK) {
        fprintf(stderr, "d1 bench sim-speed --mpi: %s: %s\n", d1_status_name(st), d1_last_error());
        return 1;
    }
    g_mpi = 1;
    char name[96];
    snprintf(name, sizeof name, "tile over MPI, rank %d of %d", rank, size);
    sp_run r;
    memset(&r, 0, sizeof r);
    int rc = measure(name, cfg, threads, cycles, repeat, &r);
    double mb = peak_mb();
    if (!rc && d1s_mpi_allreduce_f64(&mb, 1, D1S_TILE_MAX) != D1_OK)
        rc = 1;
    if (!rc && rank == 0) {
        printf("tile   %5" PRIu64 " nodes  %8" PRIu64 " cycles  %d rank(s) x %d thread(s): %.3g "
               "node-cycles/s wall (slowest rank), %.3g per CPU-second (all ranks)\n",
               r.nodes, r.cycles, size, threads, r.rate, r.cpu_rate);
        printf("results: %" PRIu64 " cycles, %" PRIu64 " cross-chip packets, %" PRIu64
               " mma, digest %016" PRIx64 " (the same for any number of ranks and threads)\n",
               r.cycles, r.xpkts, r.mma, r.digest);
        printf("peak resident memory: %.0f MB per rank (largest)\n", mb);
    }
    d1s_mpi_finalize();
    return rc;
#else
    (void)argc;
    (void)argv;
    (void)cfg;
    (void)cycles;
    (void)repeat;
    (void)threads;
    fprintf(stderr, "d1 bench sim-speed: --mpi: this d1 was built without MPI (meson option "
                    "mpi; needs libopenmpi-dev)\n");
    return 1;
#endif
}

int d1_bench_simspeed(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *which = "both";
    long long cycles = 20000, repeat = 3, threads = 1;
    int mpi = 0;
    d1_config cfg;
    if (d1_config_init(&cfg))
        return d1_cli_fail("bench sim-speed", D1_E_NOMEM);
    int rc = 0;
    for (int pass = 0; pass < 2 && !rc; pass++)
        for (int i = 1; i < argc && !rc; i++) {
            const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
            if (!strcmp(a, "--mpi")) {
                mpi = 1;
                continue;
            }
            int valued = !strcmp(a, "--case") || !strcmp(a, "--cycles") || !strcmp(a, "--repeat") ||
                         !strcmp(a, "--config") || !strcmp(a, "--set") || !strcmp(a, "--threads");
            if (valued && !v) {
                fprintf(stderr, "d1 bench sim-speed: %s needs a value\n", a);
                rc = 1;
                break;
            }
            if (!valued) {
                fprintf(stderr, "d1 bench sim-speed: unknown argument '%s' (see --help)\n", a);
                rc = 1;
                break;
            }
            i++;
            if (!strcmp(a, "--config") && pass == 0 && d1_config_load_file(&cfg, v))
                rc = d1_cli_fail("bench sim-speed", D1_E_CONFIG);
            else if (!strcmp(a, "--set") && pass == 1 && d1_config_set(&cfg, v))
                rc = d1_cli_fail("bench sim-speed", D1_E_CONFIG);
            else if (pass == 0 && !strcmp(a, "--case"))
                which = v;
            else if (pass == 0 && !strcmp(a, "--cycles") &&
                     d1_cli_parse_i64("bench sim-speed", "--cycles", v, 100, 100000000, &cycles))
                rc = 1;
            else if (pass == 0 && !strcmp(a, "--repeat") &&
                     d1_cli_parse_i64("bench sim-speed", "--repeat", v, 1, 63, &repeat))
                rc = 1;
            else if (pass == 0 && !strcmp(a, "--threads") &&
                     d1_cli_parse_i64("bench sim-speed", "--threads", v, 1, 256, &threads))
                rc = 1;
        }
    if (!rc && !mpi && threads != 1) {
        fprintf(stderr, "d1 bench sim-speed: --threads goes with --mpi (without it the tile is "
                        "measured with 1 and 2 threads)\n");
        rc = 1;
    }
    if (!rc && mpi) {
        if (strcmp(which, "tile") && strcmp(which, "both")) {
            fprintf(stderr, "d1 bench sim-speed: --mpi measures the tile (--case tile)\n");
            rc = 1;
        } else
            rc = run_mpi(&argc, &argv, &cfg, (uint64_t)cycles, (int)repeat, (int)threads);
        d1_config_fini(&cfg);
        return rc;
    }
    int do_chip = !strcmp(which, "chip") || !strcmp(which, "both");
    int do_tile = !strcmp(which, "tile") || !strcmp(which, "both");
    if (!rc && !do_chip && !do_tile) {
        fprintf(stderr, "d1 bench sim-speed: --case chip|tile|both\n");
        rc = 1;
    }
    if (!rc && do_chip) {
        d1_config c1;
        sp_run r;
        static const char *const sets[] = {"tile_chips_x=1", "tile_chips_y=1", "tiles_x=1",
                                           "tiles_y=1", NULL};
        int bad = d1_config_copy(&c1, &cfg) != D1_OK;
        for (int i = 0; !bad && sets[i]; i++)
            bad = d1_config_set(&c1, sets[i]) != D1_OK;
        if (bad || measure("chip", &c1, 1, (uint64_t)cycles, (int)repeat, &r))
            rc = 1;
        else
            printf("chip   %5" PRIu64 " nodes  %8" PRIu64 " cycles  1 thread : %.3g node-cycles/s "
                   "wall, %.3g per CPU-second (target >= 1e8)\n",
                   r.nodes, r.cycles, r.rate, r.cpu_rate);
        if (!bad)
            d1_config_fini(&c1);
    }
    if (!rc && do_tile) {
        sp_run r1, r2;
        if (measure("tile, 1 thread", &cfg, 1, (uint64_t)cycles, (int)repeat, &r1) ||
            measure("tile, 2 threads", &cfg, 2, (uint64_t)cycles, (int)repeat, &r2))
            rc = 1;
        else {
            printf("tile   %5" PRIu64 " nodes  %8" PRIu64 " cycles  1 thread : %.3g node-cycles/s "
                   "wall, %.3g per CPU-second; %" PRIu64 " cross-chip packets\n",
                   r1.nodes, r1.cycles, r1.rate, r1.cpu_rate, r1.xpkts);
            printf("tile   %5" PRIu64 " nodes  %8" PRIu64 " cycles  2 threads: %.3g node-cycles/s "
                   "wall (%.3g per thread), %.3g per CPU-second\n",
                   r2.nodes, r2.cycles, r2.rate, r2.rate / 2, r2.cpu_rate);
            printf("parallel efficiency (2 threads): %.0f%% of wall-time speed-up (target >= 80%%; "
                   "needs 2 idle cores), %.0f%% of CPU efficiency; results %s\n",
                   100.0 * r2.rate / (2.0 * r1.rate), 100.0 * r2.cpu_rate / r1.cpu_rate,
                   r1.cycles == r2.cycles && r1.xpkts == r2.xpkts && r1.mma == r2.mma
                       ? "identical (cycles, packets, mma)"
                       : "DIFFER");
            if (r1.cycles != r2.cycles)
                rc = 2;
        }
    }
    if (!rc)
        printf("peak resident memory: %.0f MB (target for the tile < 2048 MB)\n", peak_mb());
    d1_config_fini(&cfg);
    return rc;
}
