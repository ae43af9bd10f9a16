/* The tile partitioned over MPI ranks gives byte-identical results to one process: run under
 * `mpirun -np P test_tile_mpi THREADS`. Rank 0 first runs every case in one process (not
 * partitioned, 1 thread) as the reference; then all ranks run it partitioned with THREADS
 * OpenMP threads each, and rank 0 compares the run result (end, cycles, windows, crossing
 * packets, trap), the summed statistics, every chip's and every node's statistics and the
 * data every node received. Cases: a cross-chip DMA ring on 4 x 3 chips, the same ring over 2 tiles
 * of 2 x 2 chips (tile links), HBM write + read-back through a DIP, a deadlock (same trap), and
 * more ranks than chips (a clear error). Plain main, no Check: Check's fork mode and MPI do not
 * mix. Exit 0: all identical; 1: a difference or an error. */
#include "sim/arch/config.h"
#include "sim/elf/asm.h"
#include "sim/elf/emit.h"
#include "sim/tile/tile.h"
#include "sim/tile/tile_mpi.h"

#include <inttypes.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tile_progs.h"

static int g_rank, g_size, g_fail;

_Static_assert(sizeof(d1s_node_stats) % 8 == 0, "node statistics are summed as 64-bit words");

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "rank %d: %s:%d: check '%s' failed: ", g_rank, __FILE__, __LINE__,     \
                    #cond);                                                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            g_fail = 1;                                                                            \
        }                                                                                          \
    } while (0)

#define OK(call)                                                                                   \
    do {                                                                                           \
        d1_status st_ = (call);                                                                    \
        if (st_ != D1_OK) {                                                                        \
            fprintf(stderr, "rank %d: %s:%d: %s: %s: %s\n", g_rank, __FILE__, __LINE__, #call,     \
                    d1_status_name(st_), d1_last_error());                                         \
            d1s_mpi_finalize();                                                                    \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

typedef enum { P_RING, P_HBM, P_DEADLOCK } prog_kind;

typedef struct tcase {
    const char *name;
    const char *sets[8];
    prog_kind prog;
    d1s_run_end end; /* expected end of the run */
} tcase;

static const tcase cases[] = {
    {"ring 4x3 chips",
     {"mesh_cols=6", "mesh_rows=5", "harvested=2,2", "tile_chips_x=4", "tile_chips_y=3", NULL},
     P_RING,
     D1S_END_HALTED},
    {"ring 2x1 tiles of 2x2 chips",
     {"mesh_cols=6", "mesh_rows=5", "harvested=2,2", "tile_chips_x=2", "tile_chips_y=2",
      "tiles_x=2", NULL},
     P_RING,
     D1S_END_HALTED},
    {"HBM write + read-back, DIP 4, 3x2 chips",
     {"mesh_cols=6", "mesh_rows=5", "harvested=2,2", "tile_chips_x=3", "tile_chips_y=2", NULL},
     P_HBM,
     D1S_END_HALTED},
    {"deadlock on 4x3 chips",
     {"mesh_cols=6", "mesh_rows=5", "harvested=2,2", "tile_chips_x=4", "tile_chips_y=3", NULL},
     P_DEADLOCK,
     D1S_END_TRAP},
};

/* Every node writes its id at 0x10000 and PUTs 256 B to node (nid + step) mod N, then waits
 * for its own completion and the data from its upstream node (as tests/tile/test_tile.c). */
static d1s_kernel *ring_kernel(const d1_config *cfg, uint32_t n_nodes, uint32_t step)
{
    char src[2048];
    snprintf(src, sizeof src,
             ".program main\n.place all\n"
             "        csrr x5, nid\n"
             "        li   x10, 0x10000\n"
             "        sd   x5, 0(x10)\n"
             "        li   x7, %u\n"
             "        li   x6, %u\n"
             "        add  x6, x5, x6\n"
             "        blt  x6, x7, ok\n"
             "        sub  x6, x6, x7\n"
             "ok:     li   x8, 0x00020100\n"
             "        li   x9, 256\n"
             "        slli x9, x9, 32\n"
             "        or   x8, x8, x9\n"
             "        sd   x8, 0x200(x0)\n"
             "        sd   x6, 0x208(x0)\n"
             "        li   x8, 0x10000\n"
             "        sd   x8, 0x210(x0)\n"
             "        li   x8, 0x20000\n"
             "        sd   x8, 0x218(x0)\n"
             "        dma  0x200(x0)\n"
             "        swait s1, 1\n"
             "        swait s2, 1\n"
             "        halt\n",
             n_nodes, step);
    d1s_target tg = {n_nodes, (uint64_t)cfg->sram_bytes, 0};
    d1s_kernel *k = NULL;
    OK(d1s_asm_string(src, "ring", &tg, &k));
    return k;
}

/* Everything compared between the runs. */
typedef struct outcome {
    d1s_tile_result r;
    d1s_chip_stats total;
    d1s_chip_stats *chip; /* [K] */
    d1s_node_stats *node; /* [nodes]: gathered on rank 0 */
    uint8_t *data;        /* [nodes * data_bytes] */
    uint32_t K, nodes;
    size_t data_bytes;
    uint64_t data_addr;
} outcome;

static void run_case(const tcase *tc, int partitioned, int threads, outcome *o)
{
    d1_config cfg;
    OK(d1_config_init(&cfg));
    for (int i = 0; tc->sets[i]; i++)
        OK(d1_config_set(&cfg, tc->sets[i]));
    d1s_tile_opts opt = {D1S_NODE_FUNCTIONAL, threads};
    d1s_tile *t = NULL;
    OK(d1s_tile_create(&cfg, &opt, &t));
    if (partitioned)
        OK(d1s_tile_mpi_partition(t));
    uint32_t N = d1s_tile_node_count(t);
    memset(o, 0, sizeof *o);
    o->K = d1s_tile_chip_count(t);
    o->nodes = N;
    d1s_kernel *k = NULL;
    d1s_target tg = {N, (uint64_t)cfg.sram_bytes, 0};
    uint8_t pat[4096];
    for (int i = 0; i < 4096; i++)
        pat[i] = (uint8_t)(i * 7 + 3);
    switch (tc->prog) {
    case P_RING:
        k = ring_kernel(&cfg, N, d1s_tile_nodes_per_chip(t) * 5 + 3);
        OK(d1s_tile_load_kernel(t, k));
        o->data_addr = 0x20000;
        o->data_bytes = 8;
        break;
    case P_HBM: {
        OK(d1s_asm_string(hbm_src, "hbm", &tg, &k));
        const d1s_program *pr = d1s_kernel_program(k, 0);
        /* node 0 (chip 0) and the last node, both through DIP 4 (chip 3) */
        uint32_t who[2] = {0, N - 1};
        for (int w = 0; w < 2; w++) {
            OK(d1s_tile_load_image(t, who[w], 0x10000, pat, sizeof pat));
            OK(d1s_tile_load_program(t, who[w], who[w], pr->words, pr->n_words, 0));
        }
        o->data_addr = 0x30000;
        o->data_bytes = 4096;
        break;
    }
    case P_DEADLOCK:
        OK(d1s_asm_string(".program main\n.place all\n swait s3, 1\n halt\n", "dl", &tg, &k));
        OK(d1s_tile_load_kernel(t, k));
        o->data_addr = 0;
        o->data_bytes = 64;
        break;
    }
    OK(d1s_tile_run(t, 0, &o->r));
    d1s_tile_chip_stats(t, &o->total);
    o->chip = calloc(o->K, sizeof *o->chip);
    o->data = calloc((size_t)N, o->data_bytes);
    o->node = calloc((size_t)N, sizeof *o->node);
    if (!o->chip || !o->data || !o->node)
        OK(d1_fail(D1_E_NOMEM, "outcome"));
    for (uint32_t c = 0; c < o->K; c++)
        OK(d1s_tile_chip_stats_of(t, c, &o->chip[c]));
    for (uint32_t id = 0; id < N; id++)
        OK(d1s_tile_read(t, id, o->data_addr, o->data + (size_t)id * o->data_bytes, o->data_bytes));
    /* every node's statistics (cycles, instructions, stalls per thread...): each rank fills
     * its own chips' nodes, zeros elsewhere; a sum over the ranks gathers them on rank 0 */
    uint32_t k0, k1;
    d1s_tile_own_chips(t, &k0, &k1);
    uint32_t npc = d1s_tile_nodes_per_chip(t);
    for (uint32_t id = k0 * npc; id < k1 * npc; id++)
        memcpy(&o->node[id], d1s_node_get_stats(d1s_tile_node(t, id)), sizeof *o->node);
    if (partitioned) {
        size_t words = (size_t)N * sizeof *o->node / 8;
        int rc = MPI_Reduce(g_rank ? o->node : MPI_IN_PLACE, o->node, (int)words, MPI_UINT64_T,
                            MPI_SUM, 0, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            OK(d1_fail(D1_E_IO, "MPI_Reduce of the node statistics"));
    }
    if (tc->prog == P_HBM) {
        CHECK(!memcmp(o->data, pat, 4096), "%s: HBM read-back of node 0 differs", tc->name);
        CHECK(!memcmp(o->data + (size_t)(N - 1) * 4096, pat, 4096),
              "%s: HBM read-back of node %u differs", tc->name, N - 1);
    }
    if (tc->prog == P_RING)
        for (uint32_t id = 0; id < N; id++) {
            uint64_t got;
            memcpy(&got, o->data + (size_t)id * 8, 8);
            uint32_t step = d1s_tile_nodes_per_chip(t) * 5 + 3;
            uint64_t up = (id + N - step % N) % N;
            CHECK(got == up, "%s: node %u received %" PRIu64 ", expected %" PRIu64, tc->name, id,
                  got, up);
        }
    d1s_kernel_destroy(k);
    d1s_tile_destroy(t);
    d1_config_fini(&cfg);
}

static void free_outcome(outcome *o)
{
    free(o->node);
    free(o->chip);
    free(o->data);
}

int main(int argc, char **argv)
{
    OK(d1s_mpi_init(&argc, &argv, &g_rank, &g_size));
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "usage: mpirun -np P test_tile_mpi THREADS (1..64)\n");
        d1s_mpi_finalize();
        return 1;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tcase *tc = &cases[i];
        outcome ref, got;
        memset(&ref, 0, sizeof ref);
        if (g_rank == 0)
            run_case(tc, 0, 1, &ref);
        run_case(tc, 1, threads, &got);
        if (g_rank == 0) {
            CHECK(ref.r.end == tc->end, "%s: end %d", tc->name, (int)ref.r.end);
            CHECK(ref.r.xpkts > 0 || tc->prog == P_DEADLOCK, "%s: no crossing packets", tc->name);
            CHECK(got.r.end == ref.r.end, "%s: end %d vs %d", tc->name, (int)got.r.end,
                  (int)ref.r.end);
            CHECK(got.r.cycles == ref.r.cycles, "%s: %" PRIu64 " vs %" PRIu64 " cycles", tc->name,
                  got.r.cycles, ref.r.cycles);
            CHECK(got.r.windows == ref.r.windows, "%s: windows %" PRIu64 " vs %" PRIu64, tc->name,
                  got.r.windows, ref.r.windows);
            CHECK(got.r.xpkts == ref.r.xpkts, "%s: crossing packets %" PRIu64 " vs %" PRIu64,
                  tc->name, got.r.xpkts, ref.r.xpkts);
            CHECK(!memcmp(&got.r.trap, &ref.r.trap, sizeof ref.r.trap),
                  "%s: trap %s at node %u cycle %" PRIu64 " vs %s at node %u cycle %" PRIu64,
                  tc->name, d1s_trap_name(got.r.trap.cause), got.r.trap.node, got.r.trap.cycle,
                  d1s_trap_name(ref.r.trap.cause), ref.r.trap.node, ref.r.trap.cycle);
            CHECK(!memcmp(&got.total, &ref.total, sizeof ref.total), "%s: summed statistics",
                  tc->name);
            for (uint32_t c = 0; c < ref.K; c++)
                CHECK(!memcmp(&got.chip[c], &ref.chip[c], sizeof ref.chip[c]),
                      "%s: statistics of chip %u", tc->name, c);
            for (uint32_t id = 0; id < ref.nodes; id++)
                CHECK(!memcmp(&got.node[id], &ref.node[id], sizeof ref.node[id]),
                      "%s: statistics of node %u (cycles %" PRIu64 " vs %" PRIu64 ")", tc->name, id,
                      got.node[id].cycles, ref.node[id].cycles);
            CHECK(!memcmp(got.data, ref.data, (size_t)ref.nodes * ref.data_bytes),
                  "%s: received data", tc->name);
            printf("%-46s %d rank(s) x %d thread(s): %" PRIu64 " cycles, %" PRIu64
                   " windows, %" PRIu64 " crossing packets, %" PRIu64 " insns: %s\n",
                   tc->name, g_size, threads, got.r.cycles, got.r.windows, got.r.xpkts,
                   got.total.insns, g_fail ? "DIFFER" : "identical");
        }
        free_outcome(&ref);
        free_outcome(&got);
    }
    /* more ranks than chips: a clear error on every rank */
    if (g_size > 1) {
        d1_config cfg;
        OK(d1_config_init(&cfg));
        OK(d1_config_set(&cfg, "tile_chips_x=1"));
        OK(d1_config_set(&cfg, "tile_chips_y=1"));
        OK(d1_config_set(&cfg, "mesh_cols=6"));
        OK(d1_config_set(&cfg, "mesh_rows=5"));
        OK(d1_config_set(&cfg, "harvested=\"\""));
        d1s_tile_opts opt = {D1S_NODE_TIMING_ONLY, 1};
        d1s_tile *t = NULL;
        OK(d1s_tile_create(&cfg, &opt, &t));
        d1_status st = d1s_tile_mpi_partition(t);
        CHECK(st == D1_E_CONFIG, "1 chip over %d ranks: %s", g_size, d1_status_name(st));
        CHECK(strstr(d1_last_error(), "at most one process per chip") != NULL, "message '%s'",
              d1_last_error());
        d1s_tile_destroy(t);
        d1_config_fini(&cfg);
    }
    /* every rank's verdict */
    double f = g_fail;
    OK(d1s_mpi_allreduce_f64(&f, 1, D1S_TILE_MAX));
    d1s_mpi_finalize();
    if (g_rank == 0)
        printf("%s\n", f ? "FAIL" : "PASS: partitioned runs identical to one process");
    return f ? 1 : 0;
}
