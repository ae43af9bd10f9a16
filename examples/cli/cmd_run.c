/* d1 run: load a kernel binary onto a simulated D1 chip and run it (sim/chip, sim/trace). */
#include "cli.h"
#include "sim/arch/config.h"
#include "sim/chip/chip.h"
#include "sim/elf/asm.h"
#include "sim/elf/kelf.h"
#include "sim/engine/scshim.h"
#include "sim/trace/stats.h"
#include "sim/trace/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: d1 run PROG.elf [options]\n"
    "Load a kernel binary (or an assembly source ending in .s) onto one simulated D1 chip\n"
    "and run it until every thread halts, a guest trap, or --max-cycles.\n"
    "\n"
    "  --config FILE        apply a configuration file (repeatable, in order)\n"
    "  --set key=value      override one configuration key (repeatable, after files)\n"
    "  --timing-only        do not compute data (scalar integer state only; doc/node.md)\n"
    "  --net noc|direct     network: the mesh NoC (default) or fixed-latency direct delivery\n"
    "  --max-cycles N       stop after N cycles (default 1000000000; 0 = no limit)\n"
    "  --stats OUT.json     write statistics as JSON (the effective config first)\n"
    "  --trace OUT.json     write a Perfetto/Chrome trace of the nodes of --trace-nodes\n"
    "  --trace-nodes LIST   nodes to trace, e.g. 0,5,10-20 (default 0)\n"
    "  --trace-max-events N bound the trace size (default 1000000 events)\n"
    "  --vcd OUT.vcd        VCD (through SystemC) of counters of the --trace-nodes nodes:\n"
    "                       instructions, mma, SRAM and DMA bytes, sampled every window\n"
    "  --vcd-window N       VCD sampling period in cycles (default 1)\n"
    "  -q, --quiet          no summary on stdout\n"
    "\n"
    "Prints cycles, instructions, IPC, matrix-unit utilization, SRAM and link traffic and\n"
    "stall cycles by cause. Exit status: 0 halted, 1 error, 3 guest trap (the trap is\n"
    "reported on stderr), 4 --max-cycles reached.\n";

typedef struct progress_ctx {
    struct timespec last;
    uint64_t max;
} progress_ctx;

static void on_progress(void *ctx, uint64_t now, uint64_t insns)
{
    progress_ctx *p = ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double dt =
        (double)(ts.tv_sec - p->last.tv_sec) + 1e-9 * (double)(ts.tv_nsec - p->last.tv_nsec);
    if (dt < 0.25)
        return;
    p->last = ts;
    if (p->max)
        fprintf(stderr, "\rd1 run: cycle %" PRIu64 " / %" PRIu64 ", %" PRIu64 " instructions ", now,
                p->max, insns);
    else
        fprintf(stderr, "\rd1 run: cycle %" PRIu64 ", %" PRIu64 " instructions ", now, insns);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* --vcd: the run goes through the SystemC shim, which owns time and samples the traced
 * counters at every window edge; the chip advances window by window. */
typedef struct vcd_run {
    d1s_chip *chip;
    const char *path;
    const uint32_t *ids;
    size_t n;
    uint64_t window, max;
    d1s_chip_result res;
    d1_status st;
    int done;
} vcd_run;

static void vcd_window(void *user, uint64_t t0, uint64_t t1)
{
    vcd_run *v = user;
    (void)t0;
    if (v->done)
        return;
    uint64_t lim = v->max && v->max < t1 ? v->max : t1;
    v->st = d1s_chip_run(v->chip, lim, &v->res);
    if (v->st || v->res.end != D1S_END_MAX_CYCLES || (v->max && lim >= v->max))
        v->done = 1;
}

static int vcd_body(void *user)
{
    vcd_run *v = user;
    char base[4096];
    snprintf(base, sizeof base, "%s", v->path);
    size_t l = strlen(base);
    if (l > 4 && !strcmp(base + l - 4, ".vcd"))
        base[l - 4] = '\0'; /* SystemC appends .vcd */
    d1_status st = d1s_sc_set_clock_mhz((uint64_t)d1s_chip_config(v->chip)->clock_mhz);
    if (!st)
        st = d1s_sc_trace_open(base);
    for (size_t k = 0; !st && k < v->n; k++) {
        const d1s_node_stats *ns = d1s_node_get_stats(d1s_chip_node(v->chip, v->ids[k]));
        static const char *const what[] = {
            "insns", "mma", "sram_load_bytes", "sram_store_bytes", "dma_out_bytes", "dma_in_bytes"};
        const uint64_t *var[] = {&ns->insns,           &ns->mma,
                                 &ns->sram_load_bytes, &ns->sram_store_bytes,
                                 &ns->dma_out_bytes,   &ns->dma_in_bytes};
        for (int w = 0; !st && w < 6; w++) {
            char name[64];
            snprintf(name, sizeof name, "node%u_%s", v->ids[k], what[w]);
            st = d1s_sc_trace_u64(name, var[w]);
        }
    }
    if (!st)
        st = d1s_sc_spawn_window_loop(v->window, v->max ? v->max : UINT64_MAX / 2, vcd_window, v);
    while (!st && !v->done)
        st = d1s_sc_run_cyc(v->window * 1024);
    if (st && !v->st)
        v->st = st;
    return 0;
}

static d1_status run_with_vcd(vcd_run *v, char *argv0)
{
    char *args[] = {argv0, NULL};
    if (d1s_sc_main(1, args, vcd_body, v) != 0 && !v->st)
        v->st = d1_fail(D1_E_IO, "SystemC simulation failed (see messages above)");
    return v->st;
}

int d1_cmd_run(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *in = NULL, *stats_path = NULL, *trace_path = NULL, *trace_nodes = "0";
    const char *vcd_path = NULL, *net = "noc";
    long long max_cycles = 1000000000LL, trace_max = 1000000, vcd_window = 1;
    int timing_only = 0, quiet = 0, rc = 0;
    d1_config cfg;
    d1_status st = d1_config_init(&cfg);
    if (st)
        return d1_cli_fail("run", st);
    /* config files first, then --set overrides, whatever their order on the line */
    for (int pass = 0; pass < 2 && !rc; pass++) {
        for (int i = 1; i < argc && !rc; i++) {
            const char *a = argv[i], *val = NULL;
            static const char *const valued[] = {"--config",
                                                 "--set",
                                                 "--stats",
                                                 "--trace",
                                                 "--trace-nodes",
                                                 "--trace-max-events",
                                                 "--vcd",
                                                 "--vcd-window",
                                                 "--max-cycles",
                                                 "--net",
                                                 NULL};
            int k, m = 0;
            for (k = 0; valued[k] && !(m = d1_cli_opt("run", valued[k], argc, argv, &i, &val));
                 k++)
                ;
            if (m < 0) {
                rc = 1;
                break;
            }
            if (m) {
                const char *o = valued[k];
                if (!strcmp(o, "--config")) {
                    if (pass == 0 && (st = d1_config_load_file(&cfg, val)))
                        rc = d1_cli_fail("run", st);
                } else if (!strcmp(o, "--set")) {
                    if (pass == 1 && (st = d1_config_set(&cfg, val)))
                        rc = d1_cli_fail("run", st);
                } else if (pass == 1) {
                    continue;
                } else if (!strcmp(o, "--stats"))
                    stats_path = val;
                else if (!strcmp(o, "--trace"))
                    trace_path = val;
                else if (!strcmp(o, "--trace-nodes"))
                    trace_nodes = val;
                else if (!strcmp(o, "--vcd"))
                    vcd_path = val;
                else if (!strcmp(o, "--net")) {
                    net = val;
                    if (strcmp(net, "noc") && strcmp(net, "direct")) {
                        fprintf(stderr, "d1 run: --net must be noc or direct, got '%s'\n", val);
                        rc = 1;
                    }
                } else if (!strcmp(o, "--max-cycles")) {
                    if (d1_cli_parse_i64("run", "--max-cycles", val, 0, INT64_MAX, &max_cycles))
                        rc = 1;
                } else if (!strcmp(o, "--vcd-window")) {
                    if (d1_cli_parse_i64("run", "--vcd-window", val, 1, 1000000000, &vcd_window))
                        rc = 1;
                } else if (!strcmp(o, "--trace-max-events")) {
                    if (d1_cli_parse_i64("run", "--trace-max-events", val, 1, INT64_MAX,
                                         &trace_max))
                        rc = 1;
                }
            } else if (pass == 1) {
                continue;
            } else if (!strcmp(a, "--timing-only")) {
                timing_only = 1;
            } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
                quiet = 1;
            } else if (a[0] == '-' && a[1]) {
                fprintf(stderr, "d1 run: unknown option '%s' (see d1 run --help)\n", a);
                rc = 1;
            } else if (in) {
                fprintf(stderr, "d1 run: more than one program ('%s', '%s')\n", in, a);
                rc = 1;
            } else {
                in = a;
            }
        }
    }
    if (!rc && !in) {
        fprintf(stderr, "d1 run: missing PROG.elf (see d1 run --help)\n");
        rc = 1;
    }
    if (!rc && (st = d1_config_validate(&cfg)))
        rc = d1_cli_fail("run", st);

    d1s_chip *chip = NULL;
    d1s_kernel *k = NULL;
    d1s_trace *trace = NULL;
    d1s_chip_result res;
    memset(&res, 0, sizeof res);
    if (!rc) {
        d1s_chip_opts o = {timing_only ? D1S_NODE_TIMING_ONLY : D1S_NODE_FUNCTIONAL,
                           strcmp(net, "direct") ? D1S_NET_NOC : D1S_NET_DIRECT,
                           (uint64_t)(cfg.router_delay_cyc + cfg.link_delay_cyc)};
        if ((st = d1s_chip_create(&cfg, &o, &chip)))
            rc = d1_cli_fail("run", st);
    }
    if (!rc) {
        if (ends_with(in, ".s")) {
            d1s_target t = {d1s_chip_node_count(chip), (uint64_t)cfg.sram_bytes,
                            d1_config_hash(&cfg)};
            st = d1s_asm_file(in, &t, &k);
        } else {
            st = d1s_kelf_read_file(in, NULL, &k);
        }
        if (st || (st = d1s_chip_load_kernel(chip, k)))
            rc = d1_cli_fail("run", st);
        const d1s_target *kt = k ? d1s_kernel_target(k) : NULL;
        if (!rc && kt && kt->config_hash && kt->config_hash != d1_config_hash(&cfg))
            fprintf(stderr,
                    "d1 run: note: %s was built for config hash 0x%016" PRIx64
                    ", running with 0x%016" PRIx64 "\n",
                    in, kt->config_hash, d1_config_hash(&cfg));
    }
    uint32_t *ids = NULL;
    size_t n_ids = 0;
    if (!rc) { /* checked even without --trace/--vcd: a bad list is never silently ignored */
        uint32_t count = d1s_chip_node_count(chip);
        ids = malloc(count * sizeof *ids);
        long n = ids ? d1s_trace_parse_nodes(trace_nodes, count, ids, count) : -1;
        if (!ids)
            rc = d1_cli_fail("run", d1_fail(D1_E_NOMEM, "trace node list"));
        else if (n < 0)
            rc = d1_cli_fail("run", D1_E_INVAL);
        else
            n_ids = (size_t)(n < (long)count ? n : (long)count);
    }
    FILE *stats_f = NULL; /* opened before the run: a bad path fails fast */
    if (!rc && stats_path && !(stats_f = fopen(stats_path, "w")))
        rc = d1_cli_fail("run", d1_fail(D1_E_IO, "cannot write '%s': %s", stats_path,
                                        strerror(errno)));
    if (!rc && trace_path &&
        (st = d1s_trace_open(&trace, trace_path, chip, ids, n_ids, (uint64_t)trace_max)))
        rc = d1_cli_fail("run", st);
    progress_ctx pc;
    memset(&pc, 0, sizeof pc);
    if (!rc && isatty(2)) {
        clock_gettime(CLOCK_MONOTONIC, &pc.last);
        pc.max = (uint64_t)max_cycles;
        d1s_chip_set_progress(chip, on_progress, &pc, 1u << 14);
    }
    if (!rc && vcd_path) {
        vcd_run v = {chip,
                     vcd_path,
                     ids,
                     n_ids,
                     (uint64_t)vcd_window,
                     (uint64_t)max_cycles,
                     {0, 0, {0, 0, 0, 0, 0, 0}},
                     D1_OK,
                     0};
        if ((st = run_with_vcd(&v, argv[0])))
            rc = d1_cli_fail("run", st);
        res = v.res;
    } else if (!rc && (st = d1s_chip_run(chip, (uint64_t)max_cycles, &res)))
        rc = d1_cli_fail("run", st);
    if (pc.last.tv_sec)
        fprintf(stderr, "\r%60s\r", "");
    if (trace) {
        if ((st = d1s_trace_close(trace, res.cycles)) && !rc)
            rc = d1_cli_fail("run", st);
        trace = NULL;
    }
    if (!rc) {
        d1s_run_info info = {in, net};
        if (!quiet)
            d1s_stats_print(stdout, chip, &res, &info);
        if (stats_f) {
            st = d1s_stats_write_json(stats_f, chip, &res, &info);
            int closed = fclose(stats_f);
            stats_f = NULL;
            if (closed != 0 && !st)
                st = d1_fail(D1_E_IO, "writing '%s' failed: %s", stats_path, strerror(errno));
            if (st)
                rc = d1_cli_fail("run", st);
        }
        if (!rc && res.end == D1S_END_TRAP) {
            fprintf(stderr, "d1 run: ");
            d1s_stats_trap_line(stderr, chip, &res.trap);
            rc = 3;
        } else if (!rc && res.end == D1S_END_MAX_CYCLES) {
            fprintf(stderr, "d1 run: stopped at --max-cycles %lld (raise it, or 0 for no limit)\n",
                    max_cycles);
            rc = 4;
        }
    }
    d1s_trace_close(trace, 0);
    if (stats_f) /* an error before the statistics: the file stays empty */
        fclose(stats_f);
    free(ids);
    d1s_chip_destroy(chip);
    d1s_kernel_destroy(k);
    d1_config_fini(&cfg);
    return rc;
}
