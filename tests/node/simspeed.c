/* simspeed: simulator speed benchmark of the node/chip engine (not a test; built as an
 * executable only). Cases, each in functional and timing-only mode:
 *   mma1    one node of a chip streams mma.bf16 (8 accumulators, unrolled loop)
 *   mma354  all 354 nodes of the chip stream mma.bf16
 *   ring    every node PUTs 1 KiB to the next node id, waits for its neighbour, repeats
 * Prints ns per node-cycle (node-cycles = simulated cycles x started nodes; median of
 * --runs runs of d1s_chip_run only, process CPU time since the host is shared) and a checksum of the results (cycles, instructions,
 * accumulators of thread 0) so that optimisations can be checked for bit-identity.
 *
 *   build-perf/tests/node/simspeed [--runs 5] [--case mma1|mma354|ring|all]
 *                                  [--mode func|timing|both] [--scale S] */
#include "sim/arch/config.h"
#include "sim/arch/isa.h"
#include "sim/chip/chip.h"
#include "sim/node/node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAXW 256

typedef struct prog {
    uint32_t w[MAXW];
    int n;
} prog;

static int emit(prog *p, d1_op op, int a, int b, int c, int64_t imm)
{
    d1_insn in = {op, (uint8_t)a, (uint8_t)b, (uint8_t)c, imm};
    if (p->n >= MAXW || d1_insn_encode(&in, &p->w[p->n]) != D1_OK) {
        fprintf(stderr, "simspeed: cannot encode instruction %d: %s\n", (int)op, d1_last_error());
        exit(2);
    }
    return p->n++;
}
#define E(p, op, a, b, c, imm) emit((p), D1_OP_##op, (a), (b), (c), (imm))

/* x[r] = v for 0 <= v < 2^31 */
static void li(prog *p, int r, uint64_t v)
{
    if (v < 8192) {
        E(p, ADDI, r, 0, 0, (int64_t)v);
        return;
    }
    E(p, LUI, r, 0, 0, (int64_t)(v >> 13));
    if (v & 8191)
        E(p, ADDI, r, r, 0, (int64_t)(v & 8191));
}

/* v1, v2 <- SRAM 0x1000, 0x1040; loop iters: 8 x mma.bf16 m0..m7, v1, v2 */
static void prog_mma(prog *p, uint64_t iters)
{
    E(p, VLD, 1, 0, 0, 0x1000);
    E(p, VLD, 2, 0, 0, 0x1040);
    li(p, 1, iters);
    int loop = E(p, ADDI, 1, 1, 0, -1);
    for (int m = 0; m < 8; m++)
        E(p, MMABF, m, 1, 2, 0);
    int here = p->n;
    E(p, BNE, 1, 0, 0, loop - here);
    E(p, HALT, 0, 0, 0, 0);
}

/* every node: rounds x { PUT 1 KiB to nid+1 (mod count), swait s1 (own), swait s2 (in) } */
static void prog_ring(prog *p, uint32_t nodes, uint64_t rounds)
{
    E(p, CSRR, 5, 0, 0, D1_CSR_NID);
    E(p, ADDI, 6, 5, 0, 1);
    li(p, 7, nodes);
    E(p, BNE, 6, 7, 0, 2);
    E(p, ADDI, 6, 0, 0, 0);
    /* descriptor at 0x200: kind PUT, sem_local 1, sem_remote 2, len 1024 */
    li(p, 8, 0x00020100);
    E(p, ADDI, 9, 0, 0, 1024);
    E(p, SLLI, 9, 9, 0, 32);
    E(p, OR, 8, 8, 9, 0);
    E(p, SD, 8, 0, 0, 0x200);
    E(p, SD, 6, 0, 0, 0x208);
    li(p, 8, 0x10000);
    E(p, SD, 8, 0, 0, 0x210);
    li(p, 8, 0x20000);
    E(p, SD, 8, 0, 0, 0x218);
    li(p, 1, rounds);
    int loop = E(p, DMA, 0, 0, 0, 0x200);
    E(p, SWAIT, 1, 0, 0, 1);
    E(p, SWAIT, 2, 0, 0, 1);
    E(p, ADDI, 1, 1, 0, -1);
    int here = p->n;
    E(p, BNE, 1, 0, 0, loop - here);
    E(p, HALT, 0, 0, 0, 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the host is shared */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++)
        h = (h ^ b[k]) * 0x100000001b3ull;
    return h;
}

typedef struct result {
    double secs;
    uint64_t cycles, node_cycles, check;
} result;

static int run_once(const d1_config *cfg, const char *cs, d1s_node_mode mode, double scale,
                    result *out)
{
    d1s_chip_opts o = {mode, D1S_NET_NOC, 3};
    d1s_chip *c = NULL;
    if (d1s_chip_create(cfg, &o, &c) != D1_OK) {
        fprintf(stderr, "simspeed: chip: %s\n", d1_last_error());
        return -1;
    }
    uint32_t count = d1s_chip_node_count(c), last = 0;
    prog p = {{0}, 0};
    if (!strcmp(cs, "mma1")) {
        prog_mma(&p, (uint64_t)(32768 * scale));
    } else if (!strcmp(cs, "mma354")) {
        prog_mma(&p, (uint64_t)(1024 * scale));
        last = count - 1;
    } else {
        prog_ring(&p, count, (uint64_t)(64 * scale));
        last = count - 1;
    }
    /* v operands: small bf16 values (deterministic) */
    uint16_t img[64];
    uint32_t s = 12345;
    for (int k = 0; k < 64; k++) {
        s = s * 1103515245u + 12345u;
        float f = ((float)(s >> 8 & 0xffff) / 65536.0f - 0.5f) * 0.25f;
        uint32_t u;
        memcpy(&u, &f, 4);
        img[k] = (uint16_t)(u >> 16);
    }
    for (uint32_t id = 0; id <= last; id++)
        if (d1s_chip_load_image(c, id, 0x1000, img, sizeof img) != D1_OK) {
            fprintf(stderr, "simspeed: image: %s\n", d1_last_error());
            return -1;
        }
    if (d1s_chip_load_program(c, 0, last, p.w, (size_t)p.n, 0) != D1_OK) {
        fprintf(stderr, "simspeed: load: %s\n", d1_last_error());
        return -1;
    }
    d1s_chip_result r;
    double t0 = now_s();
    d1_status st = d1s_chip_run(c, 0, &r);
    double t1 = now_s();
    if (st != D1_OK || r.end != D1S_END_HALTED) {
        fprintf(stderr, "simspeed: run %s: status %d end %d trap %s\n", cs, (int)st, (int)r.end,
                d1s_trap_name(r.trap.cause));
        return -1;
    }
    d1s_chip_stats cst;
    d1s_chip_get_stats(c, &cst);
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv(h, &r.cycles, sizeof r.cycles);
    h = fnv(h, &cst.insns, sizeof cst.insns);
    h = fnv(h, &cst.pkts, sizeof cst.pkts);
    h = fnv(h, &cst.link_flits, sizeof cst.link_flits);
    h = fnv(h, cst.stall_cyc, sizeof cst.stall_cyc);
    for (uint32_t id = 0; id <= last; id++) {
        float m[64];
        for (int a = 0; a < 8; a++) {
            d1s_node_get_m(d1s_chip_node(c, id), 0, a, m);
            h = fnv(h, m, sizeof m);
        }
        const d1s_node_stats *ns = d1s_node_get_stats(d1s_chip_node(c, id));
        h = fnv(h, &ns->cycles, sizeof ns->cycles);
    }
    out->secs = t1 - t0;
    out->cycles = r.cycles;
    out->node_cycles = r.cycles * (uint64_t)(last + 1);
    out->check = h;
    d1s_chip_destroy(c);
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int runs = 5;
    const char *only = "all", *mode = "both";
    double scale = 1.0;
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "--runs") && k + 1 < argc)
            runs = atoi(argv[++k]);
        else if (!strcmp(argv[k], "--case") && k + 1 < argc)
            only = argv[++k];
        else if (!strcmp(argv[k], "--mode") && k + 1 < argc)
            mode = argv[++k];
        else if (!strcmp(argv[k], "--scale") && k + 1 < argc)
            scale = atof(argv[++k]);
        else {
            fprintf(stderr, "usage: %s [--runs N] [--case mma1|mma354|ring|all] "
                            "[--mode func|timing|both] [--scale S]\n",
                    argv[0]);
            return 2;
        }
    }
    if (runs < 1 || runs > 99)
        runs = 5;
    d1_config cfg;
    if (d1_config_init(&cfg) != D1_OK)
        return 1;
    const char *cases[] = {"mma1", "mma354", "ring"};
    printf("%-7s %-6s %12s %14s %10s %14s  %s\n", "case", "mode", "cycles", "node-cycles",
           "ns/nc", "nc/s", "checksum");
    for (int ci = 0; ci < 3; ci++) {
        if (strcmp(only, "all") && strcmp(only, cases[ci]))
            continue;
        for (int mi = 0; mi < 2; mi++) {
            if ((mi == 0 && !strcmp(mode, "timing")) || (mi == 1 && !strcmp(mode, "func")))
                continue;
            d1s_node_mode md = mi ? D1S_NODE_TIMING_ONLY : D1S_NODE_FUNCTIONAL;
            double t[99];
            result r = {0, 0, 0, 0};
            for (int k = 0; k < runs; k++) {
                if (run_once(&cfg, cases[ci], md, scale, &r) != 0)
                    return 1;
                t[k] = r.secs;
            }
            qsort(t, (size_t)runs, sizeof t[0], cmp_d);
            double med = t[runs / 2], ns = med * 1e9 / (double)r.node_cycles;
            printf("%-7s %-6s %12llu %14llu %10.2f %14.3e  %016llx\n", cases[ci],
                   mi ? "timing" : "func", (unsigned long long)r.cycles,
                   (unsigned long long)r.node_cycles, ns, 1e9 / ns, (unsigned long long)r.check);
            fflush(stdout);
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("max RSS %ld KiB\n", ru.ru_maxrss);
    d1_config_fini(&cfg);
    return 0;
}
