/* d1 bench gemm: our CPU GEMM (BF16, CFP8, FP32 operands, FP32 accumulation under the
 * numerics contract) against OpenBLAS cblas_sgemm on the same square shapes and thread
 * count. Prints GFLOPS (2*M*N*K / median time) and the ratio ours / OpenBLAS. */
#include "bench.h"
#include "cli.h"

#include "runtime/cpu/gemm.h"
#include "sim/arch/formats.h"

#include <cblas.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CMD "bench gemm"

enum { MAX_SIZES = 32 };
enum { DT_BF16, DT_CFP8, DT_FP32, NDT };
static const char *const dt_names[NDT] = {"bf16", "cfp8", "fp32"};
static const d1_dtype dt_types[NDT] = {D1_BF16, D1_CFP8_143, D1_FP32};

/* Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not recognise Zen 5 or recent Xeons and
 * falls back to slow generic kernels; its best kernels here are the SkylakeX (AVX-512)
 * ones. It reads OPENBLAS_CORETYPE when the library loads, i.e. before main, so the only
 * way to set it from inside is to set it and exec ourselves again. */
#define CORETYPE "SkylakeX"
#define FORCED_MARK "D1_BENCH_CORETYPE_FORCED"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: d1 bench gemm [options]\n"
            "Square GEMMs C = A*B (M = N = K = size) with our CPU kernel for each operand\n"
            "dtype (FP32 accumulation, byte-identical to the reference) and OpenBLAS\n"
            "cblas_sgemm on FP32 data, same thread count. Reports GFLOPS = 2*size^3 / median\n"
            "time and ours/OpenBLAS. Before timing, checks our result against the reference\n"
            "byte for byte on a small ragged shape (exit 1 if it differs).\n\n"
            "options:\n"
            "  --sizes LIST    comma-separated sizes (default 256,512,1024,2048,4096)\n"
            "  --threads N     threads for ours and for OpenBLAS (default 2)\n"
            "  --reps R        timed runs per measurement, median reported (default 5;\n"
            "                  one untimed warm-up run precedes them)\n"
            "  --dtypes LIST   our operand dtypes, subset of bf16,cfp8,fp32 (default all;\n"
            "                  cfp8 is the 1-4-3 format with a per-tensor bias)\n"
            "  --isa NAME      force our instruction-set path: avx512, avx2, portable\n"
            "                  (default: the best this CPU supports)\n"
            "  --csv FILE      also write the results as CSV\n"
            "  -h, --help      this text\n\n"
            "OpenBLAS runs with OPENBLAS_CORETYPE=" CORETYPE " unless the variable is already\n"
            "set (the benchmark re-executes itself to apply it).\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t rng_next(uint64_t *s) /* SplitMix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Operands of one size in every dtype, encoded from the same FP32 values in [-1, 1). */
typedef struct operands {
    int n;
    float *f32[2];
    void *code[NDT][2];
    int bias[NDT][2];
} operands;

static void operands_free(operands *o)
{
    for (int m = 0; m < 2; m++) {
        free(o->f32[m]);
        for (int d = 0; d < NDT; d++)
            if (d != DT_FP32)
                free(o->code[d][m]);
    }
    memset(o, 0, sizeof *o);
}

static int operands_make(operands *o, int m_, int k_, int n_, uint64_t seed)
{
    memset(o, 0, sizeof *o);
    size_t sz[2] = {(size_t)m_ * k_, (size_t)k_ * n_};
    for (int m = 0; m < 2; m++) {
        o->f32[m] = malloc(sz[m] * sizeof(float));
        o->code[DT_BF16][m] = malloc(sz[m] * 2);
        o->code[DT_CFP8][m] = malloc(sz[m]);
        if (!o->f32[m] || !o->code[DT_BF16][m] || !o->code[DT_CFP8][m]) {
            operands_free(o);
            return -1;
        }
        for (size_t i = 0; i < sz[m]; i++)
            o->f32[m][i] = (float)((double)(rng_next(&seed) >> 11) * 0x1p-52 - 1.0);
        o->code[DT_FP32][m] = o->f32[m];
        for (int d = 0; d < NDT; d++) {
            if (d == DT_FP32)
                continue;
            o->bias[d][m] = d1_fmt_choose_bias(dt_types[d], o->f32[m], sz[m]);
            d1_fmt_encode_array(dt_types[d], o->f32[m], sz[m], o->bias[d][m], D1_ROUND_RNE, 0,
                                0, o->code[d][m], NULL);
        }
    }
    return 0;
}

static d1r_gemm_operand operand(const operands *o, int d, int m, size_t ld)
{
    d1r_gemm_operand x = {dt_types[d], o->bias[d][m], o->code[d][m], ld, false};
    return x;
}

/* Byte-for-byte check of the fast kernel against the reference on a ragged shape with
 * several K blocks, for each dtype benchmarked: a broken kernel must not be timed. */
static int check_correctness(const int *dts, int ndt, int threads)
{
    enum { M = 61, N = 67, K = 300 };
    operands o;
    float *want = malloc(sizeof(float) * M * N), *got = malloc(sizeof(float) * M * N);
    if (!want || !got || operands_make(&o, M, K, N, 42) != 0) {
        free(want);
        free(got);
        fprintf(stderr, "d1 " CMD ": out of memory\n");
        return -1;
    }
    int bad = 0;
    for (int i = 0; i < ndt; i++) {
        int d = dts[i];
        d1r_gemm_operand a = operand(&o, d, 0, K), b = operand(&o, d, 1, N);
        d1r_cpu_gemm_ref(M, N, K, &a, &b, want, N, false);
        memset(got, 0xff, sizeof(float) * M * N);
        d1r_cpu_gemm(M, N, K, &a, &b, got, N, false, threads);
        int same = !memcmp(got, want, sizeof(float) * M * N);
        printf("check: %s %dx%dx%d, %d threads: %s\n", dt_names[d], M, N, K, threads,
               same ? "byte-identical to the reference" : "DIFFERS from the reference");
        bad |= !same;
    }
    operands_free(&o);
    free(want);
    free(got);
    return bad ? -1 : 0;
}

/* Median seconds of `reps` runs after one warm-up. which < NDT: ours with that dtype;
 * which == NDT: OpenBLAS sgemm on the FP32 data. */
static double time_gemm(const operands *o, int which, int threads, int reps, float *C)
{
    int n = o->n;
    double t[64];
    for (int r = -1; r < reps; r++) {
        double t0 = now_s();
        if (which == NDT) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, o->f32[0], n,
                        o->f32[1], n, 0.0f, C, n);
        } else {
            d1r_gemm_operand a = operand(o, which, 0, (size_t)n);
            d1r_gemm_operand b = operand(o, which, 1, (size_t)n);
            d1r_cpu_gemm(n, n, n, &a, &b, C, (size_t)n, false, threads);
        }
        double dt = now_s() - t0;
        if (r >= 0)
            t[r] = dt;
    }
    return median(t, reps);
}

/* Comma-separated list of integers in [lo, hi]. */
static int parse_sizes(const char *s, int *out, int *n)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 1 || v > 16384 || (*end && *end != ',') ||
            *n == MAX_SIZES) {
            fprintf(stderr,
                    "d1 " CMD ": --sizes wants up to %d comma-separated integers in "
                    "[1, 16384], got '%s'\n",
                    MAX_SIZES, s);
            return -1;
        }
        out[(*n)++] = (int)v;
        p = *end ? end + 1 : end;
        if (*end && !*p) {
            fprintf(stderr, "d1 " CMD ": --sizes has a trailing comma: '%s'\n", s);
            return -1;
        }
    }
    if (*n == 0) {
        fprintf(stderr, "d1 " CMD ": --sizes is empty\n");
        return -1;
    }
    return 0;
}

static int parse_dtypes(const char *s, int *out, int *n)
{
    int seen[NDT] = {0};
    *n = 0;
    char buf[256];
    if (strlen(s) >= sizeof buf || !*s) {
        fprintf(stderr, "d1 " CMD ": bad --dtypes '%s'\n", s);
        return -1;
    }
    strcpy(buf, s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int d = 0;
        while (d < NDT && strcmp(tok, dt_names[d]))
            d++;
        if (d == NDT) {
            fprintf(stderr, "d1 " CMD ": unknown dtype '%s' in --dtypes (bf16, cfp8, fp32)\n",
                    tok);
            return -1;
        }
        if (!seen[d]++)
            out[(*n)++] = d;
    }
    if (*n == 0) {
        fprintf(stderr, "d1 " CMD ": --dtypes is empty\n");
        return -1;
    }
    return 0;
}

/* Re-execute with OPENBLAS_CORETYPE and OMP_WAIT_POLICY set if they are not. Returns only
 * if no re-exec happened (variables already set, or exec failed: then the libraries keep
 * their own choices). */
static void ensure_coretype(int argc, char **argv)
{
    /* Also make our OpenMP threads sleep rather than spin while waiting: on a shared
     * 2-core machine spinning threads steal the core the other thread needs (OpenBLAS's
     * own threads already yield). Both variables are read when the libraries load. */
    int need_omp = getenv("OMP_WAIT_POLICY") == NULL;
    if (getenv("OPENBLAS_CORETYPE") && !need_omp)
        return;
    char **nargv = calloc((size_t)argc + 3, sizeof *nargv);
    if (!nargv)
        return;
    nargv[0] = "d1";
    nargv[1] = "bench";
    for (int i = 0; i < argc; i++)
        nargv[i + 2] = argv[i];
    if (need_omp && setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0)
        need_omp = 0;
    if ((getenv("OPENBLAS_CORETYPE") || (setenv("OPENBLAS_CORETYPE", CORETYPE, 1) == 0 &&
                                         setenv(FORCED_MARK, "1", 1) == 0))) {
        fflush(NULL);
        execv("/proc/self/exe", nargv);
        fprintf(stderr, "d1 " CMD ": warning: could not re-execute to set OPENBLAS_CORETYPE "
                        "(%s); OpenBLAS uses its own core choice\n",
                strerror(errno));
    }
    if (getenv(FORCED_MARK)) { /* exec failed: undo only what we set */
        unsetenv("OPENBLAS_CORETYPE");
        unsetenv(FORCED_MARK);
    }
    free(nargv);
}

int d1_bench_gemm(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    int sizes[MAX_SIZES] = {256, 512, 1024, 2048, 4096}, nsizes = 5;
    int dts[NDT] = {DT_BF16, DT_CFP8, DT_FP32}, ndt = NDT;
    long long threads = 2, reps = 5;
    const char *csv_path = NULL, *isa = NULL;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = NULL;
        char name[32];
        const char *eq = strchr(opt, '=');
        if (!strncmp(opt, "--", 2) && eq && (size_t)(eq - opt) < sizeof name) {
            memcpy(name, opt, (size_t)(eq - opt));
            name[eq - opt] = '\0';
            opt = name;
            val = eq + 1;
        }
        int takes = !strcmp(opt, "--sizes") || !strcmp(opt, "--threads") ||
                    !strcmp(opt, "--reps") || !strcmp(opt, "--dtypes") ||
                    !strcmp(opt, "--csv") || !strcmp(opt, "--isa");
        if (!takes) {
            fprintf(stderr, "d1 " CMD ": unknown option '%s' (see d1 bench gemm --help)\n",
                    argv[i]);
            return 2;
        }
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "d1 " CMD ": %s needs a value\n", opt);
                return 2;
            }
            val = argv[++i];
        }
        if (!strcmp(opt, "--sizes")) {
            if (parse_sizes(val, sizes, &nsizes))
                return 2;
        } else if (!strcmp(opt, "--threads")) {
            if (d1_cli_parse_i64(CMD, "--threads", val, 1, 1024, &threads))
                return 2;
        } else if (!strcmp(opt, "--reps")) {
            if (d1_cli_parse_i64(CMD, "--reps", val, 1, 64, &reps))
                return 2;
        } else if (!strcmp(opt, "--dtypes")) {
            if (parse_dtypes(val, dts, &ndt))
                return 2;
        } else if (!strcmp(opt, "--csv")) {
            csv_path = val;
        } else {
            isa = val;
        }
    }
    if (isa) {
        d1_status st = d1r_cpu_gemm_force_isa(isa);
        if (st != D1_OK) {
            d1_cli_fail(CMD, st);
            return 2;
        }
    }
    /* Arguments are valid: from here on OpenBLAS must see the core type. */
    ensure_coretype(argc, argv);

    FILE *csv = NULL;
    if (csv_path && !(csv = fopen(csv_path, "w"))) {
        fprintf(stderr, "d1 " CMD ": cannot write '%s': %s\n", csv_path, strerror(errno));
        return 1;
    }

    const char *ct = getenv("OPENBLAS_CORETYPE");
    if (getenv(FORCED_MARK))
        printf("OpenBLAS: OPENBLAS_CORETYPE=%s (forced; Debian's 0.3.21 doesn't detect Zen 5 "
               "or recent Xeons)\n",
               ct);
    else
        printf("OpenBLAS: OPENBLAS_CORETYPE=%s (from the environment)\n", ct ? ct : "(unset)");
    openblas_set_num_threads((int)threads);
    printf("OpenBLAS: core %s, %d threads; config: %s\n", openblas_get_corename(),
           openblas_get_num_threads(), openblas_get_config());
    const char *wp = getenv("OMP_WAIT_POLICY");
    printf("ours: %s path, %lld threads, OMP_WAIT_POLICY=%s; median of %lld runs after 1 "
           "warm-up\n",
           d1r_cpu_gemm_isa(), threads, wp ? wp : "(unset)", reps);
    if (check_correctness(dts, ndt, (int)threads) != 0) {
        fprintf(stderr, "d1 " CMD ": our kernel does not match the reference; not timing it\n");
        if (csv)
            fclose(csv);
        return 1;
    }

    printf("\nGFLOPS (2*n^3 / median time); ratio = ours / OpenBLAS sgemm\n");
    printf("%6s", "n");
    for (int i = 0; i < ndt; i++)
        printf(" %9s", dt_names[dts[i]]);
    printf(" %9s", "openblas");
    for (int i = 0; i < ndt; i++)
        printf("  %4s/OB", dt_names[dts[i]]);
    printf("\n");
    if (csv) {
        fprintf(csv, "n,threads,isa,reps");
        for (int i = 0; i < ndt; i++)
            fprintf(csv, ",%s_gflops", dt_names[dts[i]]);
        fprintf(csv, ",openblas_sgemm_gflops");
        for (int i = 0; i < ndt; i++)
            fprintf(csv, ",%s_ratio", dt_names[dts[i]]);
        fprintf(csv, "\n");
    }

    int status = 0;
    for (int s = 0; s < nsizes; s++) {
        int n = sizes[s];
        operands o;
        float *C = malloc((size_t)n * n * sizeof(float));
        if (!C || operands_make(&o, n, n, n, 1000 + (uint64_t)n) != 0) {
            free(C);
            fprintf(stderr, "d1 " CMD ": out of memory at n = %d\n", n);
            status = 1;
            break;
        }
        o.n = n;
        double flop = 2.0 * n * (double)n * n, gf[NDT + 1];
        /* Idle thread pools spin for a while after their last job (OpenBLAS much longer
         * than OpenMP); pause so one library's spinning does not steal the other's cores. */
        sleep_ms(300);
        for (int i = 0; i < ndt; i++)
            gf[i] = flop / time_gemm(&o, dts[i], (int)threads, (int)reps, C) * 1e-9;
        sleep_ms(50);
        gf[NDT] = flop / time_gemm(&o, NDT, (int)threads, (int)reps, C) * 1e-9;
        printf("%6d", n);
        for (int i = 0; i < ndt; i++)
            printf(" %9.1f", gf[i]);
        printf(" %9.1f", gf[NDT]);
        for (int i = 0; i < ndt; i++)
            printf("  %7.2f", gf[i] / gf[NDT]);
        printf("\n");
        fflush(stdout);
        if (csv) {
            fprintf(csv, "%d,%lld,%s,%lld", n, threads, d1r_cpu_gemm_isa(), reps);
            for (int i = 0; i < ndt; i++)
                fprintf(csv, ",%.2f", gf[i]);
            fprintf(csv, ",%.2f", gf[NDT]);
            for (int i = 0; i < ndt; i++)
                fprintf(csv, ",%.3f", gf[i] / gf[NDT]);
            fprintf(csv, "\n");
        }
        operands_free(&o);
        free(C);
    }
    if (csv && fclose(csv) != 0) {
        fprintf(stderr, "d1 " CMD ": error writing '%s'\n", csv_path);
        status = 1;
    }
    return status;
}
