/* d1 net sweep: latency and accepted throughput vs offered load under synthetic traffic
 * (BookSim2 definitions, see doc/noc.md), as a table, CSV and a gnuplot PNG. */
#include "net.h"

#include "cli.h"
#include "sim/arch/config.h"
#include "sim/noc/noc.h"
#include "sim/noc/traffic.h"
#include "sim/tile/tile.h"
#include "sim/trace/plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "net sweep"
#define MAX_RATES 256
#define MAX_SETS 64

static void help(void)
{
    printf("usage: d1 net sweep [options]\n"
           "Offered load sweep on the network on chip: for each injection rate, warm up, measure,\n"
           "drain; print packet/network latency and accepted throughput, and the saturation\n"
           "point (first rate where latency > 3x zero-load, accepted < 95%% of offered, or the\n"
           "drain does not finish).\n\n"
           "  --mesh WxH        mesh of W x H nodes without harvested positions (default: the\n"
           "                    chip, mesh_cols x mesh_rows with `harvested`)\n"
           "  --pattern P       uniform (default), transpose, bitcomp, hotspot, neighbour\n"
           "  --size FLITS      packet size in flits (default 1)\n"
           "  --rates SPEC      offered loads in flits/node/cycle: a:b:step or a,b,c\n"
           "                    (default 0.05:1:0.05)\n"
           "  --warmup N        warm-up cycles per rate (default 1000)\n"
           "  --measure N       measurement cycles per rate (default 3000)\n"
           "  --drain-max N     drain limit in cycles; beyond it the rate is saturated (5000)\n"
           "  --seed S          PRNG seed (default 1)\n"
           "  --hotspot X,Y     hotspot node (default: nearest the centre)\n"
           "  --hotspot-frac F  fraction of packets to the hotspot (default 0.2)\n"
           "  --tile            the whole tile (tile_chips_x x tile_chips_y chips, tiles_x x\n"
           "                    tiles_y tiles; doc/tile.md): the patterns over the global node\n"
           "                    grid, packets crossing chip edges; network latency and hops are\n"
           "                    not measured there (0)\n"
           "  --all             keep going after saturation (default: stop after two\n"
           "                    saturated rates)\n"
           "  --config FILE     configuration file (key = value)\n"
           "  --set KEY=VALUE   configuration override (repeatable, after --mesh)\n"
           "  --csv FILE        write the results as CSV (configuration as '#' lines first)\n"
           "  --png FILE        plot with gnuplot (FILE.dat and FILE.gp are written beside)\n");
}

static int parse_double(const char *s, double lo, double hi, const char *what, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "d1 " CMD ": %s must be a number in [%g, %g], got '%s'\n", what, lo, hi,
                s ? s : "(missing)");
        return -1;
    }
    *out = v;
    return 0;
}

/* "a:b:step" (inclusive of b within rounding) or "a,b,c". Returns the count or -1. */
static int parse_rates(const char *spec, double *rates, int max)
{
    char buf[1024];
    if (!spec || strlen(spec) >= sizeof buf) {
        fprintf(stderr, "d1 " CMD ": --rates needs a:b:step or a,b,c\n");
        return -1;
    }
    strcpy(buf, spec);
    int n = 0;
    if (strchr(buf, ':')) {
        char *b = strchr(buf, ':');
        *b++ = '\0';
        char *st = strchr(b, ':');
        if (!st) {
            fprintf(stderr, "d1 " CMD ": --rates '%s': expected a:b:step\n", spec);
            return -1;
        }
        *st++ = '\0';
        double lo, hi, step;
        if (parse_double(buf, 1e-9, 1e6, "--rates start", &lo) ||
            parse_double(b, 1e-9, 1e6, "--rates end", &hi) ||
            parse_double(st, 1e-9, 1e6, "--rates step", &step))
            return -1;
        for (int k = 0; lo + k * step <= hi * (1 + 1e-9); k++) {
            if (n == max) {
                fprintf(stderr, "d1 " CMD ": --rates gives more than %d rates\n", max);
                return -1;
            }
            rates[n++] = lo + k * step;
        }
    } else {
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            if (n == max) {
                fprintf(stderr, "d1 " CMD ": --rates gives more than %d rates\n", max);
                return -1;
            }
            if (parse_double(tok, 1e-9, 1e6, "a rate", &rates[n++]))
                return -1;
        }
    }
    if (!n) {
        fprintf(stderr, "d1 " CMD ": --rates '%s' has no rate\n", spec);
        return -1;
    }
    return n;
}

typedef struct point {
    double rate;
    d1s_traffic_result r;
    const char *why; /* saturation reason, NULL if stable */
} point;

/* The effective configuration as '#' comment lines. */
static void config_comment(FILE *out, const d1_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return;
    d1_config_dump(cfg, m);
    fclose(m);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(out, "%s%s\n", line[0] == '#' ? "" : "# ", line);
    free(text);
}

static int write_csv(const char *path, const d1_config *cfg, const char *desc, double zl,
                     const point *pts, int n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "d1 " CMD ": cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# d1 net sweep: %s\n# zero-load packet latency: %.3f cycles\n", desc, zl);
    config_comment(f, cfg);
    fprintf(f, "rate_flits_per_node_cyc,offered_flits_per_node_cyc,accepted_flits_per_node_cyc,"
               "pkt_lat_avg_cyc,net_lat_avg_cyc,pkt_lat_max_cyc,hops_avg,pkts_measured,"
               "pkts_delivered,saturated,reason\n");
    for (int k = 0; k < n; k++) {
        const d1s_traffic_result *r = &pts[k].r;
        fprintf(f, "%.6g,%.6f,%.6f,%.3f,%.3f,%llu,%.3f,%llu,%llu,%d,%s\n", pts[k].rate,
                r->offered_flits, r->accepted_flits, r->pkt_lat_avg_cyc, r->net_lat_avg_cyc,
                (unsigned long long)r->pkt_lat_max_cyc, r->hops_avg,
                (unsigned long long)r->pkts_measured, (unsigned long long)r->pkts_measured_done,
                pts[k].why != NULL, pts[k].why ? pts[k].why : "");
    }
    if (fclose(f)) {
        fprintf(stderr, "d1 " CMD ": cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int plot(const char *png, const char *desc, double zl, const point *pts, int n, int sat_idx)
{
    char dat[4096], gp[4096];
    if (d1s_plot_sibling_path(png, ".dat", dat, sizeof dat) != D1_OK ||
        d1s_plot_sibling_path(png, ".gp", gp, sizeof gp) != D1_OK)
        return d1_cli_fail(CMD, D1_E_RANGE);
    FILE *f = fopen(dat, "w");
    if (!f) {
        fprintf(stderr, "d1 " CMD ": cannot write %s: %s\n", dat, strerror(errno));
        return 1;
    }
    fprintf(f,
            "# d1 net sweep: %s\n# offered accepted pkt_lat net_lat (flits/node/cycle, "
            "cycles) saturated\n",
            desc);
    for (int k = 0; k < n; k++)
        fprintf(f, "%.6f %.6f %.3f %.3f %d\n", pts[k].r.offered_flits, pts[k].r.accepted_flits,
                pts[k].r.pkt_lat_avg_cyc, pts[k].r.net_lat_avg_cyc, pts[k].why != NULL);
    fclose(f);

    char zl_using[64], title[512], mark[64];
    snprintf(zl_using, sizeof zl_using, "1:(%.3f)", zl);
    snprintf(title, sizeof title, "d1 net sweep: %s", desc);
    double sat_x = sat_idx >= 0 ? pts[sat_idx].r.offered_flits : 0;
    snprintf(mark, sizeof mark, "saturation %.3g", sat_x);
    d1s_plot_series lat[] = {
        {"1:3", "packet latency (creation to tail ejection)", NULL},
        {"1:4", "network latency (head injection to tail ejection)", NULL},
        {zl_using, "zero-load packet latency", "lines dt 3 lw 2 lc rgb 'gray40'"},
    };
    d1s_plot_series acc[] = {
        {"1:2", "accepted throughput", NULL},
        {"1:1", "accepted = offered", "lines dt 2 lw 1 lc rgb 'gray40'"},
    };
    d1s_plot_panel panels[] = {
        {"Latency vs offered load", "offered load (flits/node/cycle)",
         "average latency (cycles, log scale)", 1, 0, 0, sat_x, sat_idx >= 0 ? mark : NULL, lat, 3},
        {"Accepted vs offered load", "offered load (flits/node/cycle)",
         "accepted throughput (flits/node/cycle)", 0, 0, 0, sat_x, sat_idx >= 0 ? mark : NULL, acc,
         2},
    };
    d1s_plot p = {png, dat, title, 0, 0, panels, 2};
    d1_status s = d1s_plot_write_script(&p, gp);
    if (s != D1_OK)
        return d1_cli_fail(CMD, s);
    s = d1s_plot_run(gp);
    if (s == D1_E_UNSUPPORTED) {
        fprintf(stderr, "d1 " CMD ": %s: wrote %s and %s, no PNG\n", d1_last_error(), dat, gp);
        return 0;
    }
    if (s != D1_OK)
        return d1_cli_fail(CMD, s);
    printf("plot: %s (data %s, script %s)\n", png, dat, gp);
    return 0;
}

int d1_net_sweep(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        help();
        return 0;
    }
    d1s_traffic_params tp;
    d1s_traffic_params_default(&tp);
    tp.measure_cyc = 3000;
    tp.drain_max_cyc = 5000;
    const char *rates_spec = "0.05:1:0.05", *cfg_path = NULL, *csv = NULL, *png = NULL;
    const char *sets[MAX_SETS];
    int nsets = 0, all = 0, mesh_w = 0, mesh_h = 0, tile = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long x;
        int takes = 1;
        if (!strcmp(a, "--all")) {
            all = 1;
            takes = 0;
        } else if (!strcmp(a, "--tile")) {
            tile = 1;
            takes = 0;
        } else if (!v) {
            static const char *const known[] = {
                "--mesh",    "--pattern",   "--size", "--rates",   "--warmup",
                "--measure", "--drain-max", "--seed", "--hotspot", "--hotspot-frac",
                "--config",  "--set",       "--csv",  "--png"};
            int is_known = 0;
            for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
                is_known |= !strcmp(a, known[k]);
            if (is_known)
                fprintf(stderr, "d1 " CMD ": %s needs a value\n", a);
            else
                fprintf(stderr, "d1 " CMD ": unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (!strcmp(a, "--mesh")) {
            char tail;
            if (sscanf(v, "%dx%d%c", &mesh_w, &mesh_h, &tail) != 2 || mesh_w < 1 || mesh_h < 1 ||
                mesh_w > 256 || mesh_h > 256) {
                fprintf(stderr, "d1 " CMD ": --mesh must be WxH with 1 <= W, H <= 256, got '%s'\n",
                        v);
                return 2;
            }
        } else if (!strcmp(a, "--pattern")) {
            if (d1s_traffic_parse_pattern(v, &tp.pattern) != D1_OK)
                return d1_cli_fail(CMD, D1_E_INVAL);
        } else if (!strcmp(a, "--size")) {
            if (d1_cli_parse_i64(CMD, "--size", v, 1, 65536, &x))
                return 2;
            tp.size_flits = (uint32_t)x;
        } else if (!strcmp(a, "--rates")) {
            rates_spec = v;
        } else if (!strcmp(a, "--warmup")) {
            if (d1_cli_parse_i64(CMD, "--warmup", v, 0, 100000000, &x))
                return 2;
            tp.warmup_cyc = (uint64_t)x;
        } else if (!strcmp(a, "--measure")) {
            if (d1_cli_parse_i64(CMD, "--measure", v, 1, 100000000, &x))
                return 2;
            tp.measure_cyc = (uint64_t)x;
        } else if (!strcmp(a, "--drain-max")) {
            if (d1_cli_parse_i64(CMD, "--drain-max", v, 0, 100000000, &x))
                return 2;
            tp.drain_max_cyc = (uint64_t)x;
        } else if (!strcmp(a, "--seed")) {
            if (d1_cli_parse_i64(CMD, "--seed", v, 0, INT64_MAX, &x))
                return 2;
            tp.seed = (uint64_t)x;
        } else if (!strcmp(a, "--hotspot")) {
            char tail;
            if (sscanf(v, "%d,%d%c", &tp.hotspot_x, &tp.hotspot_y, &tail) != 2 ||
                tp.hotspot_x < 0 || tp.hotspot_y < 0) {
                fprintf(stderr, "d1 " CMD ": --hotspot must be X,Y, got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--hotspot-frac")) {
            if (parse_double(v, 0, 1, "--hotspot-frac", &tp.hotspot_frac))
                return 2;
        } else if (!strcmp(a, "--config")) {
            cfg_path = v;
        } else if (!strcmp(a, "--set")) {
            if (nsets == MAX_SETS) {
                fprintf(stderr, "d1 " CMD ": more than %d --set options\n", MAX_SETS);
                return 2;
            }
            sets[nsets++] = v;
        } else if (!strcmp(a, "--csv")) {
            csv = v;
        } else if (!strcmp(a, "--png")) {
            png = v;
        } else {
            fprintf(stderr, "d1 " CMD ": unknown option '%s' (see --help)\n", a);
            return 2;
        }
        i += takes;
    }
    static double rates[MAX_RATES];
    int nrates = parse_rates(rates_spec, rates, MAX_RATES);
    if (nrates < 0)
        return 2;

    d1_config cfg;
    d1_status s = d1_config_init(&cfg);
    if (s != D1_OK)
        return d1_cli_fail(CMD, s);
    int rc = 1;
    point *pts = NULL;
    if (cfg_path && (s = d1_config_load_file(&cfg, cfg_path)) != D1_OK)
        goto fail;
    if (mesh_w) {
        char buf[64];
        snprintf(buf, sizeof buf, "mesh_cols=%d", mesh_w);
        if ((s = d1_config_set(&cfg, buf)) != D1_OK)
            goto fail;
        snprintf(buf, sizeof buf, "mesh_rows=%d", mesh_h);
        if ((s = d1_config_set(&cfg, buf)) != D1_OK ||
            (s = d1_config_set(&cfg, "harvested=\"\"")) != D1_OK)
            goto fail;
    }
    for (int k = 0; k < nsets; k++)
        if ((s = d1_config_set(&cfg, sets[k])) != D1_OK)
            goto fail;
    if ((s = d1_config_validate(&cfg)) != D1_OK)
        goto fail;

    d1s_noc *noc = NULL;
    d1s_tile *tl = NULL;
    d1s_tile_opts topts = {D1S_NODE_TIMING_ONLY, 0};
    if ((s = d1s_noc_create(&cfg, NULL, &noc)) != D1_OK)
        goto fail;
    int holes = 0;
    for (int y = 0; y < d1s_noc_rows(noc); y++)
        for (int x = 0; x < d1s_noc_cols(noc); x++)
            holes += !d1s_noc_is_node(noc, x, y);
    double zl = 0;
    tp.rate_flits = rates[0] <= tp.size_flits ? rates[0] : 1;
    s = d1s_traffic_zero_load_lat(noc, &tp, &zl);
    double max_rate = d1s_noc_inj_flits_per_cyc(noc);
    d1s_noc_destroy(noc);
    if (s != D1_OK)
        goto fail;
    if (tile) { /* the zero-load latency over the whole system (sampled sources) */
        if ((s = d1s_tile_create(&cfg, &topts, &tl)) != D1_OK)
            goto fail;
        s = d1s_tile_traffic_zero_load(tl, &tp, 2000, &zl);
        d1s_tile_destroy(tl);
        if (s != D1_OK)
            goto fail;
    }
    char desc[256];
    if (tile)
        snprintf(desc, sizeof desc,
                 "%s, %u-flit packets, tile of %lldx%lld chips x %lldx%lld tiles (%dx%d mesh, %d "
                 "harvested per chip), SerDes %lld B/cycle per edge",
                 d1s_traffic_pattern_name(tp.pattern), tp.size_flits, (long long)cfg.tile_chips_x,
                 (long long)cfg.tile_chips_y, (long long)cfg.tiles_x, (long long)cfg.tiles_y,
                 (int)cfg.mesh_cols, (int)cfg.mesh_rows, holes,
                 (long long)cfg.serdes_bytes_per_cyc);
    else
        snprintf(desc, sizeof desc,
                 "%s, %u-flit packets, %dx%d mesh (%d harvested), link %lld B/cycle",
                 d1s_traffic_pattern_name(tp.pattern), tp.size_flits, (int)cfg.mesh_cols,
                 (int)cfg.mesh_rows, holes, (long long)cfg.link_bytes_per_cyc);
    printf("# d1 net sweep: %s\n# zero-load packet latency %.2f cycles; warm-up %llu, measure "
           "%llu, drain <= %llu cycles; seed %llu\n",
           desc, zl, (unsigned long long)tp.warmup_cyc, (unsigned long long)tp.measure_cyc,
           (unsigned long long)tp.drain_max_cyc, (unsigned long long)tp.seed);
    printf("%10s %10s %10s %10s %10s %8s  %s\n", "offered", "accepted", "pkt_lat", "net_lat",
           "max_lat", "hops", "(flits/node/cycle, cycles)");

    pts = calloc((size_t)nrates, sizeof *pts);
    if (!pts) {
        s = d1_fail(D1_E_NOMEM, "results");
        goto fail;
    }
    int n = 0, sat_idx = -1, sat_count = 0;
    for (int k = 0; k < nrates; k++) {
        if (rates[k] > max_rate || rates[k] > tp.size_flits) {
            printf("# rate %g skipped: above the injection port (%g flits/node/cycle)\n", rates[k],
                   max_rate);
            continue;
        }
        tp.rate_flits = rates[k];
        point *pt = &pts[n];
        pt->rate = rates[k];
        if (tile) { /* a fresh tile per load point */
            if ((s = d1s_tile_create(&cfg, &topts, &tl)) != D1_OK)
                goto fail;
            s = d1s_tile_traffic_run(tl, &tp, &pt->r);
            d1s_tile_destroy(tl);
        } else {
            if ((s = d1s_noc_create(&cfg, NULL, &noc)) != D1_OK)
                goto fail;
            s = d1s_traffic_run(noc, &tp, &pt->r);
            d1s_noc_destroy(noc);
        }
        if (s != D1_OK)
            goto fail;
        const d1s_traffic_result *r = &pt->r;
        if (r->saturated)
            pt->why = "drain did not finish";
        else if (r->accepted_flits < 0.95 * r->offered_flits)
            pt->why = "accepted < 95% of offered";
        else if (r->pkt_lat_avg_cyc > 3 * zl)
            pt->why = "latency > 3x zero-load";
        printf("%10.4f %10.4f %10.1f %10.1f %10llu %8.2f  %s\n", r->offered_flits,
               r->accepted_flits, r->pkt_lat_avg_cyc, r->net_lat_avg_cyc,
               (unsigned long long)r->pkt_lat_max_cyc, r->hops_avg, pt->why ? pt->why : "");
        fflush(stdout);
        n++;
        if (pt->why) {
            if (sat_idx < 0)
                sat_idx = n - 1;
            if (++sat_count >= 2 && !all)
                break;
        }
    }
    double best_acc = 0;
    for (int k = 0; k < n; k++)
        if (pts[k].r.accepted_flits > best_acc)
            best_acc = pts[k].r.accepted_flits;
    if (sat_idx >= 0)
        printf("saturation: offered %.4f flits/node/cycle (%s); last stable %s%.4f; "
               "max accepted %.4f flits/node/cycle\n",
               pts[sat_idx].r.offered_flits, pts[sat_idx].why, sat_idx > 0 ? "" : "(none) ",
               sat_idx > 0 ? pts[sat_idx - 1].r.offered_flits : 0.0, best_acc);
    else
        printf("saturation: not reached up to %.4f flits/node/cycle; max accepted %.4f\n",
               n ? pts[n - 1].r.offered_flits : 0.0, best_acc);

    rc = 0;
    if (csv && write_csv(csv, &cfg, desc, zl, pts, n))
        rc = 1;
    if (png && n && plot(png, desc, zl, pts, n, sat_idx))
        rc = 1;
    free(pts);
    d1_config_fini(&cfg);
    return rc;

fail:
    free(pts);
    d1_config_fini(&cfg);
    return d1_cli_fail(CMD, s);
}
