/* d1 bench matmul: compiled matmul kernels on the chip simulator. A sweep of square and
 * transformer-like shapes (timing-only simulation: the cycle count does not depend on the
 * data, doc/node.md), achieved TFLOPS and % of peak against the plan's prediction, host
 * wall time and simulation speed, a roofline plot; before the sweep a functional run
 * checks the simulator's bytes against the cpu backend, and a CFP8 run reports the error
 * against an FP64 reference. */
#include "bench.h"
#include "cli.h"

#include "runtime/d1r.h"
#include "runtime/sim/sim_matmul.h"

#include "sim/trace/plot.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CMD "bench matmul"

typedef struct shape {
    const char *name;
    int64_t M, N, K;
} shape;

/* Transformer-like: d_model 2048-4096, tokens per step 1024-4096 (QKV projection, MLP up
 * and down, an attention score block). */
static const shape transformer[] = {
    {"qkv 2048x6144x2048", 2048, 6144, 2048},
    {"mlp-up 2048x8192x2048", 2048, 8192, 2048},
    {"mlp-down 2048x2048x8192", 2048, 2048, 8192},
    {"scores 4096x4096x128", 4096, 4096, 128},
    {"proj 4096x4096x1024", 4096, 4096, 1024},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: d1 bench matmul [options]\n"
            "Compile matmul kernels for a simulated target and run them on the chip simulator.\n"
            "Reports per shape: node grid, simulated cycles and time, achieved TFLOPS and %% of\n"
            "peak, matrix-unit utilization, NoC bytes, the plan's predicted cycles and bound,\n"
            "host wall time and simulation speed. Sweep runs are timing-only (cycle counts do\n"
            "not depend on data); a functional run first checks the simulator against the cpu\n"
            "backend byte for byte (exit 1 if they differ), and a CFP8 run reports its error\n"
            "against an FP64 reference.\n\n"
            "options:\n"
            "  --device D       sim, sim:chip (default), sim:<config file> (one chip),\n"
            "                   sim:tile or sim:tile:<config file> (the configured system)\n"
            "  --set key=value  configuration override (repeatable)\n"
            "  --sizes LIST     square sizes (default 256,512,1024,2048,4096)\n"
            "  --shapes S       square, transformer or all (default all)\n"
            "  --dtype T        bf16 (default) or cfp8 (both operands)\n"
            "  --out DIR        write matmul.csv, roofline.dat/.gp and roofline.png (gnuplot)\n"
            "  --hbm            operands staged in DIP HBM and streamed in by the kernel\n"
            "                   (sim:tile targets)\n"
            "  --no-check       skip the functional byte check and the CFP8 error report\n");
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void fill(float *x, size_t n, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++)
        x[i] = ((float)(rnd(&s) >> 8) / 16777216.0f) * 2.0f - 1.0f;
}

/* Functional run of a ragged shape on the simulator vs the cpu backend. */
static int byte_check(const d1_config *cfg, d1r_kcache *kc, d1_dtype dt,
                      const d1k_plan_opts *po)
{
    const int64_t M = 45, N = 77, K = 70;
    d1r_device *dev;
    d1r_tensor *A, *B, *C;
    float *x = malloc(sizeof(float) * (size_t)(M * K + K * N));
    if (!x || d1r_device_open("cpu", &dev) != D1_OK)
        return 1;
    fill(x, (size_t)(M * K + K * N), 7);
    int bias = dt == D1_BF16 ? 0 : D1R_BIAS_AUTO;
    d1r_tensor_create(dev, dt, 2, (int64_t[]){M, K}, bias, &A);
    d1r_tensor_create(dev, dt, 2, (int64_t[]){K, N}, bias, &B);
    d1r_tensor_create(dev, D1_BF16, 2, (int64_t[]){M, N}, 0, &C);
    d1r_tensor_upload(A, x, (size_t)(M * K), D1_ROUND_RNE, 0, NULL);
    d1r_tensor_upload(B, x + M * K, (size_t)(K * N), D1_ROUND_RNE, 0, NULL);
    d1r_matmul_opts o = {.round = D1_ROUND_STOCHASTIC, .seed = 42};
    d1_status st = d1r_matmul(dev, A, B, C, &o);
    size_t ea = d1_dtype_size(dt);
    uint8_t *a = malloc((size_t)(M * K) * ea), *b = malloc((size_t)(K * N) * ea);
    uint16_t *want = malloc(sizeof(uint16_t) * (size_t)(M * N));
    uint16_t *got = calloc((size_t)(M * N), sizeof(uint16_t));
    int bad = 1;
    if (st == D1_OK && a && b && want && got) {
        d1r_tensor_download_raw(A, a, (size_t)(M * K) * ea);
        d1r_tensor_download_raw(B, b, (size_t)(K * N) * ea);
        d1r_tensor_download_raw(C, want, sizeof(uint16_t) * (size_t)(M * N));
        d1k_matmul_desc d = {M, N, K, dt, dt, D1_BF16, false, false, false,
                             D1_ROUND_STOCHASTIC, d1r_tensor_bias(A), d1r_tensor_bias(B), 42};
        d1k_operand oa = {dt, d.a_bias, a, (size_t)K, false};
        d1k_operand ob = {dt, d.b_bias, b, (size_t)N, false};
        d1r_sim_launch ls;
        st = d1r_sim_matmul(cfg, kc, &d, po, &oa, &ob, got, (size_t)N, D1S_NODE_FUNCTIONAL, &ls);
        if (st != D1_OK)
            fprintf(stderr, "d1 %s: functional check failed: %s\n", CMD, d1_last_error());
        else
            bad = memcmp(got, want, sizeof(uint16_t) * (size_t)(M * N)) != 0;
        printf("check: %ldx%ldx%ld %s -> bf16 (stochastic) on the simulator vs cpu backend: %s\n",
               (long)M, (long)N, (long)K, d1_dtype_name(dt), bad ? "DIFFERENT" : "byte-identical");
    }
    free(x), free(a), free(b), free(want), free(got);
    d1r_device_close(dev);
    return bad;
}

/* Host FP32 -> CFP8 (chosen bias) -> simulated matmul -> FP32, error vs FP64. */
static void cfp8_error(const d1_config *cfg, d1r_kcache *kc, const d1k_plan_opts *po)
{
    const int64_t M = 64, N = 96, K = 256;
    size_t na = (size_t)(M * K), nb = (size_t)(K * N), nc = (size_t)(M * N);
    float *x = malloc(sizeof(float) * (na + nb));
    uint8_t *a = malloc(na), *b = malloc(nb);
    uint16_t *a16 = malloc(2 * na), *b16 = malloc(2 * nb);
    float *c8 = calloc(nc, sizeof(float)), *c16 = calloc(nc, sizeof(float));
    if (!x || !a || !b || !a16 || !b16 || !c8 || !c16)
        goto done;
    fill(x, na + nb, 3);
    int ba = d1_fmt_choose_bias(D1_CFP8_143, x, na), bb = d1_fmt_choose_bias(D1_CFP8_143, x + na, nb);
    d1_fmt_encode_array(D1_CFP8_143, x, na, ba, D1_ROUND_RNE, 0, 0, a, NULL);
    d1_fmt_encode_array(D1_CFP8_143, x + na, nb, bb, D1_ROUND_RNE, 0, 0, b, NULL);
    d1_fmt_encode_array(D1_BF16, x, na, 0, D1_ROUND_RNE, 0, 0, a16, NULL);
    d1_fmt_encode_array(D1_BF16, x + na, nb, 0, D1_ROUND_RNE, 0, 0, b16, NULL);
    d1k_matmul_desc d = {M, N, K, D1_CFP8_143, D1_CFP8_143, D1_FP32, false, false, false,
                         D1_ROUND_RNE, ba, bb, 0};
    d1k_operand oa = {D1_CFP8_143, ba, a, (size_t)K, false}, ob = {D1_CFP8_143, bb, b, (size_t)N, false};
    d1r_sim_launch ls;
    if (d1r_sim_matmul(cfg, kc, &d, po, &oa, &ob, c8, (size_t)N, D1S_NODE_FUNCTIONAL, &ls))
        goto done;
    d.a_dtype = d.b_dtype = D1_BF16;
    d1k_operand pa = {D1_BF16, 0, a16, (size_t)K, false}, pb = {D1_BF16, 0, b16, (size_t)N, false};
    if (d1r_sim_matmul(cfg, kc, &d, po, &pa, &pb, c16, (size_t)N, D1S_NODE_FUNCTIONAL, &ls))
        goto done;
    double e8 = 0, e16 = 0, ref2 = 0, m8 = 0, m16 = 0;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double r = 0;
            for (int64_t k = 0; k < K; k++)
                r += (double)x[i * K + k] * (double)x[na + (size_t)(k * N + j)];
            double d8 = c8[i * N + j] - r, d16 = c16[i * N + j] - r;
            e8 += d8 * d8, e16 += d16 * d16, ref2 += r * r;
            m8 = fmax(m8, fabs(d8)), m16 = fmax(m16, fabs(d16));
        }
    double rms = sqrt(ref2 / (double)nc);
    printf("cfp8: %ldx%ldx%ld, FP32 data in [-1,1) -> CFP8 1-4-3 (bias A %d, B %d) -> simulated "
           "matmul -> FP32\n"
           "      error vs FP64 reference: relative RMS %.3e, max |err| / RMS(C) %.3e   "
           "(BF16 operands: %.3e, %.3e)\n",
           (long)M, (long)N, (long)K, ba, bb, sqrt(e8 / ref2), m8 / rms, sqrt(e16 / ref2),
           m16 / rms);
done:
    free(x), free(a), free(b), free(a16), free(b16), free(c8), free(c16);
}

static void gp_write(const char *dir, double peak, double noc_bw, double hbm_bw)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/roofline.gp", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "set terminal pngcairo size 900,600\nset output '%s/roofline.png'\n", dir);
    fprintf(f, "set logscale xy\nset xlabel 'arithmetic intensity (FLOP per byte)'\n"
               "set ylabel 'TFLOPS'\nset key right bottom box opaque\nset grid\n"
               "set title 'd1 bench matmul: simulated D1 chip (roofline)'\n");
    fprintf(f, "peak = %g\nnoc = %g\nhbm = %g\n", peak, noc_bw, hbm_bw);
    fprintf(f, "set xrange [1:10000]\nset yrange [1:%g]\n", peak * 3);
    fprintf(f, "plot (x*noc < peak ? x*noc : peak) w l lw 2 t 'roof: peak / NoC router ports', \\\n"
               "     (x*hbm < peak ? x*hbm : peak) w l lw 2 dt 2 t 'roof: DIP HBM (streamed operands)', \\\n"
               "     '%s/roofline.dat' u 2:4 w p pt 7 ps 1.5 t 'measured (NoC intensity)', \\\n"
               "     '%s/roofline.dat' u 3:4 w p pt 6 ps 1.5 t 'measured (HBM intensity if streamed)'\n",
            dir, dir);
    fclose(f);
    /* the shared helper runs gnuplot without a shell (its panels have no log-x axis or
     * function roofs, so this script is written here) */
    d1_status st = d1s_plot_run(path);
    if (st != D1_OK)
        fprintf(stderr, "warning: %s: %s written, no PNG\n", d1_last_error(), path);
}

int d1_bench_matmul(int argc, char **argv)
{
    const char *device = "sim:chip", *out = NULL, *sizes = "256,512,1024,2048,4096";
    const char *shapes = "all";
    const char *sets[64];
    int nsets = 0, check = 1, hbm = 0;
    d1_dtype dt = D1_BF16;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--no-check")) {
            check = 0;
            continue;
        } else if (!strcmp(a, "--hbm")) {
            hbm = 1;
            continue;
        }
        if (!v || a[0] != '-') {
            fprintf(stderr, "d1 %s: bad argument '%s' (see --help)\n", CMD, a);
            return 1;
        }
        i++;
        if (!strcmp(a, "--device")) device = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--sizes")) sizes = v;
        else if (!strcmp(a, "--shapes")) shapes = v;
        else if (!strcmp(a, "--set") && nsets < 64) sets[nsets++] = v;
        else if (!strcmp(a, "--dtype")) {
            if (!strcmp(v, "bf16")) dt = D1_BF16;
            else if (!strcmp(v, "cfp8")) dt = D1_CFP8_143;
            else {
                fprintf(stderr, "d1 %s: --dtype bf16 or cfp8\n", CMD);
                return 1;
            }
        } else {
            fprintf(stderr, "d1 %s: unknown option '%s'\n", CMD, a);
            return 1;
        }
    }
    bool sq = !strcmp(shapes, "all") || !strcmp(shapes, "square");
    bool tr = !strcmp(shapes, "all") || !strcmp(shapes, "transformer");
    if (!sq && !tr) {
        fprintf(stderr, "d1 %s: --shapes square, transformer or all\n", CMD);
        return 1;
    }
    d1_config cfg;
    d1k_plan_opts po;
    memset(&po, 0, sizeof po);
    d1_status st = d1r_sim_config(device, &cfg, &po.target);
    po.hbm = hbm;
    if (st != D1_OK)
        return d1_cli_fail(CMD, st);
    for (int i = 0; i < nsets; i++)
        if ((st = d1_config_set(&cfg, sets[i])) != D1_OK) {
            d1_config_fini(&cfg);
            return d1_cli_fail(CMD, st);
        }
    if ((st = d1_config_validate(&cfg)) != D1_OK) {
        d1_config_fini(&cfg);
        return d1_cli_fail(CMD, st);
    }
    shape list[64];
    char names[32][32];
    int n = 0;
    if (sq) {
        const char *s = sizes;
        while (*s && n < 32) {
            char *end;
            long long v = strtoll(s, &end, 10);
            if (end == s || v < 1 || v > 65536 || (*end && *end != ',')) {
                fprintf(stderr, "d1 %s: bad --sizes '%s'\n", CMD, sizes);
                d1_config_fini(&cfg);
                return 1;
            }
            snprintf(names[n], sizeof names[n], "square %lld", v);
            list[n] = (shape){names[n], v, v, v};
            n++;
            s = *end ? end + 1 : end;
        }
    }
    if (tr)
        for (size_t i = 0; i < sizeof transformer / sizeof transformer[0]; i++)
            list[n++] = transformer[i];
    d1r_kcache *kc;
    if ((st = d1r_kcache_create(8, &kc)) != D1_OK) {
        d1_config_fini(&cfg);
        return d1_cli_fail(CMD, st);
    }
    int rc = 0;
    if (check) {
        if (byte_check(&cfg, kc, dt, &po))
            rc = 1;
        cfp8_error(&cfg, kc, &po);
    }
    double clock = (double)cfg.clock_mhz * 1e6;
    int nh = d1_config_harvested(&cfg, NULL, 0);
    double nodes_all = (double)(cfg.mesh_cols * cfg.mesh_rows - (nh > 0 ? nh : 0));
    if (po.target == D1K_TARGET_SYSTEM)
        nodes_all *= (double)(cfg.tile_chips_x * cfg.tile_chips_y * cfg.tiles_x * cfg.tiles_y);
    double peak = nodes_all * 512.0 * clock / 1e12;
    printf("target %s: %.0f nodes, peak %.1f TFLOPS (%s operands); sweep runs are timing-only\n",
           device, nodes_all, peak, d1_dtype_name(dt));
    printf("%-26s %9s %11s %9s %8s %7s %6s %11s %9s %11s %6s %-8s %8s %9s\n", "shape", "grid",
           "cycles", "sim_us", "TFLOPS", "%peak", "mxu", "noc_MB", "hbm_MB", "predicted", "p/m",
           "bound", "host_s", "Mncyc/s");
    FILE *csv = NULL, *dat = NULL;
    if (out) {
        mkdir(out, 0777);
        char path[4096];
        snprintf(path, sizeof path, "%s/matmul.csv", out);
        csv = fopen(path, "w");
        snprintf(path, sizeof path, "%s/roofline.dat", out);
        dat = fopen(path, "w");
        if (csv)
            fprintf(csv, "# %s, config hash %016llx\nshape,M,N,K,pr,pc,cycles,sim_us,tflops,"
                         "pct_peak,mxu_util,noc_bytes,pred_cycles,bound,host_s,node_cyc_per_s\n",
                    device, (unsigned long long)d1_config_hash(&cfg));
        if (dat)
            fprintf(dat, "# shape noc_intensity hbm_intensity tflops\n");
    }
    for (int i = 0; i < n; i++) {
        d1k_matmul_desc d = {list[i].M, list[i].N, list[i].K, dt, dt, D1_FP32, false, false,
                             false, D1_ROUND_RNE, dt == D1_BF16 ? 127 : 8, dt == D1_BF16 ? 127 : 8,
                             0};
        d1r_sim_launch ls;
        uint64_t t0 = now_ns();
        st = d1r_sim_matmul(&cfg, kc, &d, &po, NULL, NULL, NULL, 0, D1S_NODE_TIMING_ONLY, &ls);
        double host = (double)(now_ns() - t0) / 1e9;
        if (st != D1_OK) {
            printf("%-26s  %s\n", list[i].name, d1_last_error());
            continue;
        }
        char grid[32];
        snprintf(grid, sizeof grid, "%dx%d", ls.pr, ls.pc);
        double ncs = (double)ls.cycles * ls.nodes / (ls.run_ns / 1e9);
        printf("%-26s %9s %11llu %9.1f %8.1f %6.1f%% %6.3f %11.1f %9.1f %11llu %6.3f %-8s %8.2f "
               "%9.2f\n",
               list[i].name, grid, (unsigned long long)ls.cycles, ls.sim_seconds * 1e6, ls.tflops,
               ls.pct_peak, ls.mxu_util, (double)ls.noc_bytes / 1e6, (double)ls.hbm_bytes / 1e6,
               (unsigned long long)ls.pred_cycles, (double)ls.pred_cycles / (double)ls.cycles,
               ls.bound, host, ncs / 1e6);
        double flops = 2.0 * (double)d.M * (double)d.N * (double)d.K;
        double opbytes = (double)(d.M * d.K + d.K * d.N) * (double)d1_dtype_size(dt) +
                         (double)(d.M * d.N) * 4.0;
        if (csv)
            fprintf(csv, "%s,%lld,%lld,%lld,%d,%d,%llu,%.3f,%.3f,%.2f,%.4f,%llu,%llu,%s,%.3f,%.0f\n",
                    list[i].name, (long long)d.M, (long long)d.N, (long long)d.K, ls.pr, ls.pc,
                    (unsigned long long)ls.cycles, ls.sim_seconds * 1e6, ls.tflops, ls.pct_peak,
                    ls.mxu_util, (unsigned long long)ls.noc_bytes,
                    (unsigned long long)ls.pred_cycles, ls.bound, host, ncs);
        if (dat)
            fprintf(dat, "\"%s\" %.3f %.3f %.3f\n", list[i].name,
                    ls.noc_bytes ? flops / (double)ls.noc_bytes : 1e5, flops / opbytes, ls.tflops);
        fflush(stdout);
    }
    if (csv)
        fclose(csv);
    if (dat) {
        fclose(dat);
        int dips = 0;
        for (const char *e = cfg.dip_edges; *e; e++)
            dips += (int)cfg.dips_per_edge;
        gp_write(out, peak, nodes_all * (double)cfg.router_out_bytes_per_cyc * clock / 1e12,
                 (double)dips * (double)cfg.hbm_bytes_per_cyc * clock / 1e12);
    }
    printf("kernel cache: %llu hits, %llu misses\n", (unsigned long long)d1r_kcache_hits(kc),
           (unsigned long long)d1r_kcache_misses(kc));
    d1r_kcache_destroy(kc);
    d1_config_fini(&cfg);
    return rc;
}
