/* `d1 train`: command line, progress lines and summary of the training example. The loop
 * itself is loop.c; the files it leaves are report.c's. */
#include "cli.h"
#include "loop.h"
#include "mnist.h"
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "train"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: d1 train [options]\n"
        "Train an MLP on Fashion-MNIST (or a synthetic set) through the d1r runtime: every op\n"
        "of a step runs on the device; the same program runs on every device.\n"
        "\n"
        "options (--opt VALUE or --opt=VALUE):\n"
        "  --device SPEC     sim:tile (default: the simulated 5x5-chip training tile), sim or\n"
        "                    sim:chip (one simulated D1 chip), sim:<config file>,\n"
        "                    sim:tile:<config file>, or cpu (fast; same numbers bit for bit)\n"
        "  --data DIR        Fashion-MNIST IDX files (default %s,\n"
        "                    Debian package %s)\n"
        "  --synthetic       deterministic synthetic data (10 Gaussian blobs in 784-d, 4096\n"
        "                    train / 1024 test samples from --seed) instead of Fashion-MNIST\n"
        "  --hidden LIST     hidden layer widths, e.g. 512 or 256,128, or none (default 512)\n"
        "  --dtype T         matmul operands: bf16, cfp8 or fp32 (default bf16); master weights\n"
        "                    are fp32; cfp8 = 1-4-3 weights/activations, 1-5-2 gradients, with\n"
        "                    a per-tensor bias chosen at each cast\n"
        "  --sr              stochastic rounding of the casts (weights, activations, gradients)\n"
        "  --optim O         sgd or momentum (default momentum)\n"
        "  --lr X            learning rate (default %g)\n"
        "  --lr-schedule S   const or cosine (decay from --lr to 0 over the run; default cosine)\n"
        "  --momentum MU     momentum in [0, 1) (default 0.9)\n"
        "  --batch N         samples per step (default 128; an epoch's last partial batch is\n"
        "                    dropped)\n"
        "  --epochs N        epochs (default 10)\n"
        "  --steps N         stop after N steps (default 0: run all epochs)\n"
        "  --seed N          initial weights, shuffling, stochastic rounding, synthetic data\n"
        "                    (default 1)\n"
        "  --log-every N     a progress line and a run.csv row every N steps (default 100)\n"
        "  --out DIR         output directory (default ./train-out): run.csv, epochs.csv,\n"
        "                    loss.png, ops.png and their .dat/.gp\n"
        "  --no-plots        write the .dat/.gp files but do not run gnuplot\n"
        "  -h, --help        this help\n"
        "\n"
        "Prints per log interval: step, epoch, mean loss, samples/s (host wall clock), the\n"
        "device statistics of d1r (host time per op) and, on devices that model time (sim),\n"
        "the simulated time per step (matmul / elementwise / data movement), simulated\n"
        "samples/s and matrix-unit utilisation; at the end the test accuracy and the per-op\n"
        "table. The simulated tile takes 0.6-1 s of host time per step (468 steps per\n"
        "epoch): use --steps N, or --device cpu, for a quick look.\n"
        "Exit status: 0 success, 1 bad arguments or failure.\n",
        D1X_MNIST_DIR, D1X_MNIST_PACKAGE, (double)D1X_DEFAULT_LR);
}

typedef struct options {
    d1x_train_cfg cfg;
    const char *out_dir;
    bool plots;
} options;

/* One-line error for bad arguments; returns -1. */
static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "d1 " CMD ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see d1 train --help)\n");
    va_end(ap);
    return -1;
}

static int parse_u64(const char *opt, const char *s, long long lo, long long hi, long long *v)
{
    return d1_cli_parse_i64(CMD, opt, s, lo, hi, v);
}

static int parse_float(const char *opt, const char *s, float lo, float hi, bool lo_open, float *out)
{
    char *end = NULL;
    errno = 0;
    float v = strtof(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < lo || (lo_open && v == lo) || v >= hi)
        return bad("%s: bad value '%s'", opt, s);
    *out = v;
    return 0;
}

static int parse_hidden(const char *s, d1x_train_cfg *cfg)
{
    cfg->nhidden = 0;
    if (!strcmp(s, "none"))
        return 0;
    const char *p = s;
    for (;;) {
        char *end = NULL;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 1 || v > 65536 || (*end && *end != ','))
            return bad("--hidden: bad layer list '%s' (widths 1..65536, comma-separated)", s);
        if (cfg->nhidden == D1X_MLP_MAX_LAYERS - 1)
            return bad("--hidden: '%s' has more than %d layers", s, D1X_MLP_MAX_LAYERS - 1);
        cfg->hidden[cfg->nhidden++] = (int)v;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

/* Returns 0, 1 (help printed) or -1 (error printed). */
static int parse(int argc, char **argv, options *o)
{
    d1x_train_cfg_defaults(&o->cfg);
    o->out_dir = "train-out";
    o->plots = true;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0)
            return bad("unexpected argument '%s'", arg);
        char name[64];
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len >= sizeof name)
            return bad("unknown option '%s'", arg);
        memcpy(name, arg, len);
        name[len] = '\0';

        /* flags */
        if (!strcmp(name, "--synthetic") || !strcmp(name, "--sr") || !strcmp(name, "--no-plots")) {
            if (eq)
                return bad("%s takes no value", name);
            if (!strcmp(name, "--synthetic"))
                o->cfg.synthetic = true;
            else if (!strcmp(name, "--sr"))
                o->cfg.sr = true;
            else
                o->plots = false;
            continue;
        }
        static const char *const valued[] = {
            "--device", "--data",   "--hidden", "--dtype", "--optim",     "--lr",  "--momentum",
            "--batch",  "--epochs", "--steps",  "--seed",  "--log-every", "--out", "--lr-schedule"};
        bool known = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            known |= !strcmp(name, valued[k]);
        if (!known)
            return bad("unknown option '%s'", name);
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val)
            return bad("%s needs a value", name);

        long long v = 0;
        if (!strcmp(name, "--device")) {
            if (!*val)
                return bad("--device: empty device");
            o->cfg.device = val;
        } else if (!strcmp(name, "--data")) {
            o->cfg.data_dir = val;
        } else if (!strcmp(name, "--out")) {
            if (!*val)
                return bad("--out: empty directory");
            o->out_dir = val;
        } else if (!strcmp(name, "--hidden")) {
            if (parse_hidden(val, &o->cfg))
                return -1;
        } else if (!strcmp(name, "--dtype")) {
            if (!strcmp(val, "bf16"))
                o->cfg.dtype = D1_BF16;
            else if (!strcmp(val, "cfp8"))
                o->cfg.dtype = D1_CFP8_143;
            else if (!strcmp(val, "fp32"))
                o->cfg.dtype = D1_FP32;
            else
                return bad("--dtype: '%s' is not bf16, cfp8 or fp32", val);
        } else if (!strcmp(name, "--optim")) {
            if (!strcmp(val, "sgd"))
                o->cfg.optim = D1X_OPTIM_SGD;
            else if (!strcmp(val, "momentum"))
                o->cfg.optim = D1X_OPTIM_MOMENTUM;
            else
                return bad("--optim: '%s' is not sgd or momentum", val);
        } else if (!strcmp(name, "--lr-schedule")) {
            if (!strcmp(val, "const"))
                o->cfg.schedule = D1X_LR_CONST;
            else if (!strcmp(val, "cosine"))
                o->cfg.schedule = D1X_LR_COSINE;
            else
                return bad("--lr-schedule: '%s' is not const or cosine", val);
        } else if (!strcmp(name, "--lr")) {
            if (parse_float("--lr", val, 0.0f, 1e6f, true, &o->cfg.lr))
                return -1;
        } else if (!strcmp(name, "--momentum")) {
            if (parse_float("--momentum", val, 0.0f, 1.0f, false, &o->cfg.mu))
                return -1;
        } else if (!strcmp(name, "--batch")) {
            if (parse_u64("--batch", val, 1, 1 << 20, &v))
                return -1;
            o->cfg.batch = (int)v;
        } else if (!strcmp(name, "--epochs")) {
            if (parse_u64("--epochs", val, 1, 100000, &v))
                return -1;
            o->cfg.epochs = (int)v;
        } else if (!strcmp(name, "--steps")) {
            if (parse_u64("--steps", val, 0, (long long)1 << 40, &v))
                return -1;
            o->cfg.max_steps = (uint64_t)v;
        } else if (!strcmp(name, "--seed")) {
            if (parse_u64("--seed", val, 0, INT64_MAX, &v))
                return -1;
            o->cfg.seed = (uint64_t)v;
        } else if (!strcmp(name, "--log-every")) {
            if (parse_u64("--log-every", val, 1, 1 << 30, &v))
                return -1;
            o->cfg.log_every = (int)v;
        }
    }
    return 0;
}

static const char *dtype_label(d1_dtype t)
{
    return t == D1_CFP8_143 ? "cfp8-143" : t == D1_CFP8_152 ? "cfp8-152" : d1_dtype_name(t);
}

static void describe(const options *o, char *buf, size_t size)
{
    const d1x_train_cfg *c = &o->cfg;
    char hidden[128] = "";
    size_t n = 0;
    for (int i = 0; i < c->nhidden && n < sizeof hidden; i++)
        n += (size_t)snprintf(hidden + n, sizeof hidden - n, "%d-", c->hidden[i]);
    snprintf(buf, size,
             "d1 train device=%s data=%s model=784-%s10 dtype=%s grad_dtype=%s sr=%d optim=%s "
             "lr=%g schedule=%s momentum=%g batch=%d epochs=%d steps=%llu seed=%llu",
             c->device, c->synthetic ? "synthetic" : c->data_dir, hidden, dtype_label(c->dtype),
             dtype_label(d1x_grad_dtype(c->dtype)), c->sr ? 1 : 0,
             c->optim == D1X_OPTIM_SGD ? "sgd" : "momentum", (double)c->lr,
             c->schedule == D1X_LR_CONST ? "const" : "cosine",
             c->optim == D1X_OPTIM_SGD ? 0.0 : (double)c->mu, c->batch, c->epochs,
             (unsigned long long)c->max_steps, (unsigned long long)c->seed);
}

static void on_ready(const d1x_train_result *res, void *user)
{
    (void)user;
    printf("backend %s: %zu training samples, %zu test samples\n", res->backend, res->ntrain,
           res->ntest);
    fflush(stdout);
}

/* One progress line: the generic d1r statistics as ms per step of the three heaviest ops,
 * the rest, and the program's host transfers. */
static void on_log(const d1x_train_log *row, void *user)
{
    (void)user;
    double total = row->xfer_ms;
    uint64_t fallbacks = 0;
    int top[3] = {-1, -1, -1};
    for (int op = 0; op < D1R_OP_COUNT; op++) {
        total += row->op_ms[op];
        fallbacks += row->op_fallback[op];
        if (row->op_count[op] == 0)
            continue;
        for (int k = 0; k < 3; k++)
            if (top[k] < 0 || row->op_ms[op] > row->op_ms[top[k]]) {
                for (int j = 2; j > k; j--)
                    top[j] = top[j - 1];
                top[k] = op;
                break;
            }
    }
    double per = 1.0 / (double)row->steps, rest = total - row->xfer_ms;
    printf("step %6llu  epoch %2d  loss %.5f  lr %.4g  %7.0f samples/s  ms/step:",
           (unsigned long long)row->step, row->epoch, (double)row->loss, (double)row->lr,
           row->samples_per_s);
    for (int k = 0; k < 3 && top[k] >= 0; k++) {
        printf(" %s %.2f", d1r_op_name((d1r_op)top[k]), row->op_ms[top[k]] * per);
        rest -= row->op_ms[top[k]];
    }
    printf(" other %.2f host-xfer %.2f", rest * per, row->xfer_ms * per);
    if (fallbacks)
        printf(" cpu-fallbacks %llu", (unsigned long long)fallbacks);
    printf("\n");
    /* What the device models, if anything (simulated time; nothing on cpu). */
    double dev = 0.0;
    for (int c = 0; c < D1R_CLASS_COUNT; c++)
        dev += row->dev_ms[c];
    if (dev > 0.0) {
        printf("    simulated: %.2f us/step (", dev * per * 1e3);
        for (int c = 0; c < D1R_CLASS_COUNT; c++)
            printf("%s%s %.2f", c ? ", " : "", d1r_op_class_name((d1r_op_class)c),
                   row->dev_ms[c] * per * 1e3);
        printf("), %.0f samples/s", (double)row->samples * 1e3 / dev);
        if (row->mxu_slots)
            printf(", matrix units %.2f%% busy",
                   100.0 * (double)row->mxu_ops / (double)row->mxu_slots);
        printf("\n");
    }
    fflush(stdout);
}

static void on_epoch(const d1x_train_epoch *ep, void *user)
{
    (void)user;
    printf("epoch %2d done: step %llu, train loss %.5f, test accuracy %.4f, test loss %.5f, "
           "%.2f s\n",
           ep->epoch, (unsigned long long)ep->step, (double)ep->train_loss, ep->test_acc,
           ep->test_loss, ep->wall_s);
    fflush(stdout);
}

static void print_flags(unsigned f)
{
    if (!f)
        return;
    printf("conversion flags raised by the casts:%s%s%s%s\n", f & D1_FLAG_INVALID ? " invalid" : "",
           f & D1_FLAG_OVERFLOW ? " overflow" : "", f & D1_FLAG_UNDERFLOW ? " underflow" : "",
           f & D1_FLAG_DENORMAL ? " denormal" : "");
}

int d1_cmd_train(int argc, char **argv)
{
    options o;
    int p = parse(argc, argv, &o);
    if (p != 0)
        return p > 0 ? 0 : 1;
    char config[1024];
    describe(&o, config, sizeof config);
    printf("%s\n", config);
    fflush(stdout);

    d1x_train_result res;
    d1x_train_hooks hooks = {on_log, on_epoch, on_ready, NULL};
    d1_status st = d1x_train_run(&o.cfg, &hooks, &res);
    if (st != D1_OK) {
        d1x_train_result_fini(&res);
        return d1_cli_fail(CMD, st);
    }
    double sps = res.train_wall_s > 0 ? (double)res.steps * o.cfg.batch / res.train_wall_s : 0.0;
    printf("\ntest accuracy %.4f (%zu samples), test loss %.5f\n", res.test_acc, res.ntest,
           res.test_loss);
    printf("%llu steps in %.2f s of training (%.0f samples/s host wall)\n",
           (unsigned long long)res.steps, res.train_wall_s, sps);
    {
        /* What the device models, over the training steps (the log rows). */
        double dev = 0.0, cls[D1R_CLASS_COUNT] = {0};
        uint64_t mo = 0, ms = 0, samples = 0;
        for (size_t i = 0; i < res.nlogs; i++) {
            for (int c = 0; c < D1R_CLASS_COUNT; c++) {
                cls[c] += res.logs[i].dev_ms[c];
                dev += res.logs[i].dev_ms[c];
            }
            mo += res.logs[i].mxu_ops;
            ms += res.logs[i].mxu_slots;
            samples += res.logs[i].samples;
        }
        if (dev > 0.0 && res.steps) {
            double per = 1.0 / (double)res.steps;
            printf("simulated device time of the training steps: %.3f ms (%.2f us/step: ", dev,
                   dev * per * 1e3);
            for (int c = 0; c < D1R_CLASS_COUNT; c++)
                printf("%s%s %.2f", c ? ", " : "", d1r_op_class_name((d1r_op_class)c),
                       cls[c] * per * 1e3);
            printf("), %.0f samples/s simulated", (double)samples * 1e3 / dev);
            if (ms)
                printf(", matrix units %.2f%% busy", 100.0 * (double)mo / (double)ms);
            printf("\n");
        }
    }
    print_flags(res.cast_flags);
    printf("\nd1r statistics (whole run, evaluation included):\n");
    /* The table is printed from the result so that it survives the device. */
    bool modelled = false;
    for (int op = 0; op < D1R_OP_COUNT; op++)
        modelled |= res.op_total[op].device_ns > 0;
    printf("%-22s %10s %10s %12s %12s%s\n", "op", "count", "fallback", "total_ms", "mean_us",
           modelled ? "   simulated_us" : "");
    for (int op = 0; op < D1R_OP_COUNT; op++) {
        const d1r_op_stats *s = &res.op_total[op];
        if (!s->count)
            continue;
        printf("%-22s %10llu %10llu %12.3f %12.3f", d1r_op_name((d1r_op)op),
               (unsigned long long)s->count, (unsigned long long)s->fallback_count,
               (double)s->host_ns / 1e6, (double)s->host_ns / 1e3 / (double)s->count);
        if (modelled)
            printf(" %15.3f", (double)s->device_ns / 1e3);
        printf("\n");
    }
    printf("%-22s %10s %10s %12.3f %12s\n", "(host transfers)", "-", "-", (double)res.xfer_ns / 1e6,
           "-");

    st = d1x_report_write(o.out_dir, config, &res, o.plots, stderr);
    d1x_train_result_fini(&res);
    if (st != D1_OK)
        return d1_cli_fail(CMD, st);
    printf("\nwrote %s/run.csv, epochs.csv%s\n", o.out_dir,
           o.plots ? ", loss.png, ops.png" : " (plots skipped)");
    return 0;
}
