/* CSV and gnuplot data of a training run; scripts and PNGs through the shared plotting
 * helper (sim/trace/plot.h: .gp written, gnuplot run without a shell). */
#include "report.h"

#include "sim/trace/plot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct out_file {
    FILE *f;
    char path[4096];
} out_file;

static d1_status mkdir_p(const char *dir)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf)
        return d1_fail(D1_E_IO, "output directory '%s': empty or too long", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return d1_fail(D1_E_IO, "cannot create directory %s: %s", buf, strerror(errno));
        buf[i] = c;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return d1_fail(D1_E_IO, "output directory %s is not a directory", dir);
    return D1_OK;
}

static d1_status open_out(out_file *o, const char *dir, const char *name, const char *config)
{
    int n = snprintf(o->path, sizeof o->path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof o->path)
        return d1_fail(D1_E_IO, "output path %s/%s too long", dir, name);
    o->f = fopen(o->path, "w");
    if (!o->f)
        return d1_fail(D1_E_IO, "cannot write %s: %s", o->path, strerror(errno));
    fprintf(o->f, "# %s\n", config);
    return D1_OK;
}

static d1_status close_out(out_file *o)
{
    int bad = ferror(o->f);
    if (fclose(o->f) != 0 || bad)
        return d1_fail(D1_E_IO, "error writing %s", o->path);
    return D1_OK;
}

static d1_status write_run_csv(const char *dir, const char *config, const d1x_train_result *r)
{
    out_file o;
    d1_status st = open_out(&o, dir, "run.csv", config);
    if (st != D1_OK)
        return st;
    fprintf(o.f, "step,epoch,loss,lr,samples_per_s,wall_s,xfer_ms");
    for (int op = 0; op < D1R_OP_COUNT; op++)
        fprintf(o.f, ",%s_ms", d1r_op_name((d1r_op)op));
    fprintf(o.f, ",fallbacks");
    for (int c = 0; c < D1R_CLASS_COUNT; c++) {
        char name[32];
        snprintf(name, sizeof name, "%s", d1r_op_class_name((d1r_op_class)c));
        for (char *q = name; *q; q++)
            if (*q == ' ')
                *q = '_';
        fprintf(o.f, ",sim_%s_ms", name);
    }
    fprintf(o.f, ",sim_samples_per_s,mxu_util\n");
    for (size_t i = 0; i < r->nlogs; i++) {
        const d1x_train_log *l = &r->logs[i];
        uint64_t fb = 0;
        fprintf(o.f, "%llu,%d,%.9g,%.9g,%.1f,%.3f,%.3f", (unsigned long long)l->step, l->epoch,
                (double)l->loss, (double)l->lr, l->samples_per_s, l->wall_s, l->xfer_ms);
        for (int op = 0; op < D1R_OP_COUNT; op++) {
            fprintf(o.f, ",%.3f", l->op_ms[op]);
            fb += l->op_fallback[op];
        }
        fprintf(o.f, ",%llu", (unsigned long long)fb);
        double dev = 0.0;
        for (int c = 0; c < D1R_CLASS_COUNT; c++) {
            fprintf(o.f, ",%.6f", l->dev_ms[c]);
            dev += l->dev_ms[c];
        }
        fprintf(o.f, ",%.1f,%.6f\n", dev > 0 ? (double)l->samples * 1e3 / dev : 0.0,
                l->mxu_slots ? (double)l->mxu_ops / (double)l->mxu_slots : 0.0);
    }
    return close_out(&o);
}

static d1_status write_epochs_csv(const char *dir, const char *config, const d1x_train_result *r)
{
    out_file o;
    d1_status st = open_out(&o, dir, "epochs.csv", config);
    if (st != D1_OK)
        return st;
    fprintf(o.f, "epoch,step,train_loss,test_acc,test_loss,wall_s\n");
    for (size_t i = 0; i < r->nepochs; i++) {
        const d1x_train_epoch *e = &r->epochs[i];
        fprintf(o.f, "%d,%llu,%.9g,%.4f,%.6f,%.3f\n", e->epoch, (unsigned long long)e->step,
                (double)e->train_loss, e->test_acc, e->test_loss, e->wall_s);
    }
    return close_out(&o);
}

static d1_status out_path(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        return d1_fail(D1_E_IO, "output path %s/%s too long", dir, name);
    return D1_OK;
}

/* loss.dat: one row per step; the per-interval mean and the test accuracy only on the
 * steps that have them (NaN elsewhere: gnuplot skips those points). */
static d1_status write_loss_dat(const char *dir, const char *config, const d1x_train_result *r)
{
    out_file o;
    d1_status st = open_out(&o, dir, "loss.dat", config);
    if (st != D1_OK)
        return st;
    fprintf(o.f, "# step loss mean_loss_of_interval test_acc\n");
    size_t li = 0, ei = 0;
    for (uint64_t s = 1; s <= r->steps; s++) {
        fprintf(o.f, "%llu %.9g", (unsigned long long)s, (double)r->losses[s - 1]);
        if (li < r->nlogs && r->logs[li].step == s)
            fprintf(o.f, " %.9g", (double)r->logs[li++].loss);
        else
            fprintf(o.f, " NaN");
        if (ei < r->nepochs && r->epochs[ei].step == s)
            fprintf(o.f, " %.4f\n", r->epochs[ei++].test_acc);
        else
            fprintf(o.f, " NaN\n");
    }
    return close_out(&o);
}

/* Whether the device modelled time (sim): any simulated time in the run. */
static bool modelled(const d1x_train_result *r)
{
    for (int op = 0; op < D1R_OP_COUNT; op++)
        if (r->op_total[op].device_ns)
            return true;
    return false;
}

/* ops.dat: per log interval, ms per step of each op that ran, then the program's own host
 * transfers, then (devices that model time) the simulated us per step of each op. Column
 * names use '-' for '_' (gnuplot's enhanced text subscripts '_'). */
static d1_status write_ops_dat(const char *dir, const char *config, const d1x_train_result *r,
                               int *ops, int *nops)
{
    *nops = 0;
    for (int op = 0; op < D1R_OP_COUNT; op++)
        if (r->op_total[op].count)
            ops[(*nops)++] = op;
    out_file o;
    d1_status st = open_out(&o, dir, "ops.dat", config);
    if (st != D1_OK)
        return st;
    fprintf(o.f, "# step");
    for (int k = 0; k < *nops; k++)
        fprintf(o.f, " %s_ms_per_step", d1r_op_name((d1r_op)ops[k]));
    fprintf(o.f, " host_xfer_ms_per_step");
    bool sim = modelled(r);
    for (int k = 0; sim && k < *nops; k++)
        fprintf(o.f, " %s_simulated_us_per_step", d1r_op_name((d1r_op)ops[k]));
    fprintf(o.f, "\n");
    for (size_t i = 0; i < r->nlogs; i++) {
        const d1x_train_log *l = &r->logs[i];
        double per = 1.0 / (double)l->steps;
        fprintf(o.f, "%llu", (unsigned long long)l->step);
        for (int k = 0; k < *nops; k++)
            fprintf(o.f, " %.6f", l->op_ms[ops[k]] * per);
        fprintf(o.f, " %.6f", l->xfer_ms * per);
        for (int k = 0; sim && k < *nops; k++)
            fprintf(o.f, " %.6f", l->op_dev_ms[ops[k]] * per * 1e3);
        fprintf(o.f, "\n");
    }
    return close_out(&o);
}

/* Plotting is optional: a missing or failing gnuplot is a warning, not an error. */
static void plot_warn(FILE *warn, const char *png)
{
    if (warn)
        fprintf(warn, "d1 train: warning: %s not drawn (%s); its .dat/.gp are written\n", png,
                d1_last_error());
}

/* Scripts through the shared helper (sim/trace/plot.h); gnuplot runs only when `run`. */
static d1_status plot_loss(const char *dir, const d1x_train_result *r, bool run, FILE *warn)
{
    char png[4200], dat[4200], gp[4200];
    d1_status st;
    if ((st = out_path(png, sizeof png, dir, "loss.png")) != D1_OK ||
        (st = out_path(dat, sizeof dat, dir, "loss.dat")) != D1_OK ||
        (st = out_path(gp, sizeof gp, dir, "loss.gp")) != D1_OK)
        return st;
    const d1s_plot_series loss[] = {
        {"1:2", "loss per step", "lines lw 1 lc rgb '#9bb7d4'"},
        {"1:3", "mean over the log interval", "points pt 7 ps 0.8 lc rgb '#1f4e79'"},
    };
    const d1s_plot_series acc[] = {
        {"1:4", "test accuracy", "points pt 5 ps 1.2 lc rgb '#c0392b'"},
    };
    /* A fixed accuracy range around the measured values (gnuplot warns on a flat one). */
    double lo = 1.0, hi = 0.0;
    for (size_t i = 0; i < r->nepochs; i++) {
        lo = r->epochs[i].test_acc < lo ? r->epochs[i].test_acc : lo;
        hi = r->epochs[i].test_acc > hi ? r->epochs[i].test_acc : hi;
    }
    lo = lo > hi ? 0.0 : lo - 0.02 < 0.0 ? 0.0 : lo - 0.02;
    hi = hi + 0.02 > 1.0 ? 1.0 : hi + 0.02;
    const d1s_plot_panel panels[] = {
        {.title = "training loss",
         .xlabel = "step",
         .ylabel = "loss",
         .logy = 1,
         .series = loss,
         .n_series = 2},
        {.title = "test accuracy after each epoch",
         .xlabel = "step",
         .ylabel = "accuracy",
         .ymin = lo,
         .ymax = hi,
         .series = acc,
         .n_series = 1},
    };
    const d1s_plot p = {.png_path = png, .dat_path = dat, .panels = panels, .n_panels = 2};
    if ((st = d1s_plot_write_script(&p, gp)) != D1_OK)
        return st;
    if (run && (st = d1s_plot_run(gp)) != D1_OK)
        plot_warn(warn, png);
    return D1_OK;
}

static d1_status plot_ops(const char *dir, const char *backend, const int *ops, int nops, bool sim,
                          bool run, FILE *warn)
{
    char png[4200], dat[4200], gp[4200], title[128];
    d1_status st;
    if ((st = out_path(png, sizeof png, dir, "ops.png")) != D1_OK ||
        (st = out_path(dat, sizeof dat, dir, "ops.dat")) != D1_OK ||
        (st = out_path(gp, sizeof gp, dir, "ops.gp")) != D1_OK)
        return st;
    d1s_plot_series series[D1R_OP_COUNT + 1];
    char cols[D1R_OP_COUNT + 1][16], names[D1R_OP_COUNT + 1][40], with[D1R_OP_COUNT + 1][64];
    int n = 0;
    for (int k = 0; k <= nops; k++, n++) {
        const char *name = k < nops ? d1r_op_name((d1r_op)ops[k]) : "host transfers (program)";
        snprintf(cols[n], sizeof cols[n], "1:%d", k + 2);
        snprintf(names[n], sizeof names[n], "%s", name);
        for (char *c = names[n]; *c; c++)
            if (*c == '_')
                *c = '-';
        /* gnuplot's colours repeat after 8 line types: dashes tell the second round apart */
        snprintf(with[n], sizeof with[n], "linespoints lw 2 pt %d ps 0.8 lc %d dt %d", 4 + k % 4,
                 k % 8 + 1, k / 8 + 1);
        series[n] = (d1s_plot_series){cols[n], names[n], with[n]};
    }
    snprintf(title, sizeof title, "time per step by op (device backend %s, host wall clock)",
             backend);
    /* second panel (devices that model time): simulated us per step of each op */
    d1s_plot_series sser[D1R_OP_COUNT];
    char scols[D1R_OP_COUNT][16];
    for (int k = 0; sim && k < nops; k++) {
        snprintf(scols[k], sizeof scols[k], "1:%d", nops + 3 + k);
        sser[k] = (d1s_plot_series){scols[k], names[k], with[k]};
    }
    const d1s_plot_panel panels[2] = {
        {.title = title,
         .xlabel = "step",
         .ylabel = "ms per step",
         .series = series,
         .n_series = n},
        {.title = "simulated device time per step by op",
         .xlabel = "step",
         .ylabel = "us per step (simulated)",
         .series = sser,
         .n_series = nops},
    };
    const d1s_plot p = {.png_path = png,
                        .dat_path = dat,
                        .panels = panels,
                        .n_panels = sim ? 2 : 1,
                        .height_px = sim ? 960 : 540};
    if ((st = d1s_plot_write_script(&p, gp)) != D1_OK)
        return st;
    if (run && (st = d1s_plot_run(gp)) != D1_OK)
        plot_warn(warn, png);
    return D1_OK;
}

d1_status d1x_report_write(const char *dir, const char *config, const d1x_train_result *res,
                           bool plots, FILE *warn)
{
    if (!dir || !config || !res)
        return d1_fail(D1_E_INVAL, "report: NULL argument");
    int ops[D1R_OP_COUNT], nops = 0;
    d1_status st;
    if ((st = mkdir_p(dir)) != D1_OK || (st = write_run_csv(dir, config, res)) != D1_OK ||
        (st = write_epochs_csv(dir, config, res)) != D1_OK ||
        (st = write_loss_dat(dir, config, res)) != D1_OK ||
        (st = write_ops_dat(dir, config, res, ops, &nops)) != D1_OK ||
        (st = plot_loss(dir, res, plots, warn)) != D1_OK ||
        (st = plot_ops(dir, res->backend, ops, nops, modelled(res), plots, warn)) != D1_OK)
        return st;
    return D1_OK;
}
