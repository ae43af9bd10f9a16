/* d1 net heatmap: zero-load latency from one source to every node of the tile, measured
 * with probes (spaced so that they never meet) beside the formula, as a heat map. */
#include "cli.h"
#include "net_tile_util.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: d1 net heatmap [--src NODE] [options]\n"
    "Measure the zero-load latency of a probe from NODE (id or x,y; default 0,0) to every\n"
    "node of the tile or system and draw it as a heat map over the global node grid, chip\n"
    "borders white, tile borders black, harvested positions blank. Each measurement is checked "
    "against the\n"
    "formula of doc/tile.md. Probes are sent one after the other, spaced by more than the\n"
    "largest latency, so they never meet.\n"
    "\n"
    "  --src NODE           source node (default 0,0)\n"
    "  --bytes N            payload bytes per probe, 1..64 (default 64)\n" D1N_COMMON_USAGE "\n"
    "Prints min/mean/max latency and the farthest node. Exit status: 0, 1 on bad input, 2\n"
    "when a measurement differs from the formula.\n";

int d1_net_heatmap(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *src_s = NULL, *bytes_s = NULL;
    d1n_opt extra[] = {{"--src", &src_s, NULL}, {"--bytes", &bytes_s, NULL}, {NULL, NULL, NULL}};
    d1n_opts o;
    int rc = 0;
    d1s_tile *t = NULL;
    d1s_tile_probe_req *req = NULL;
    uint64_t *lat = NULL, *formula = NULL;
    d1n_files f = {0};
    long long bytes = 64;
    if (d1n_parse("heatmap", argc, argv, extra, &o) ||
        d1n_int("heatmap", "--bytes", bytes_s, 1, 64, &bytes) || d1n_no_args("heatmap", &o)) {
        rc = 1;
        goto done;
    }
    if (d1n_tile("heatmap", &o, D1S_NODE_TIMING_ONLY, &t)) {
        rc = 1;
        goto done;
    }
    uint32_t src = 0;
    if (d1n_node("heatmap", t, src_s ? src_s : "0,0", &src)) {
        rc = 1;
        goto done;
    }
    uint32_t N = d1s_tile_node_count(t);
    req = calloc(N, sizeof *req);
    lat = calloc(N, sizeof *lat);
    formula = calloc(N, sizeof *formula);
    if (!req || !lat || !formula) {
        rc = 1;
        goto done;
    }
    uint64_t gap = 0;
    for (uint32_t d = 0; d < N; d++) {
        d1s_tile_path p;
        d1_status st = d1s_tile_zero_load(t, src, d, (uint32_t)bytes, &p);
        if (st) {
            rc = d1_cli_fail("net heatmap", st);
            goto done;
        }
        formula[d] = p.lat_cyc;
        if (p.lat_cyc > gap)
            gap = p.lat_cyc;
    }
    gap += 2;
    for (uint32_t d = 0; d < N; d++) {
        req[d].src = src;
        req[d].dst = d;
        req[d].size_bytes = (uint32_t)bytes;
        req[d].offset_cyc = (uint64_t)d * gap;
    }
    d1_status st = d1s_tile_probe_batch(t, req, N, (uint64_t)N * gap + 10 * gap, lat);
    if (st) {
        rc = d1_cli_fail("net heatmap", st);
        goto done;
    }
    uint64_t mn = UINT64_MAX, mx = 0, mismatches = 0;
    double sum = 0;
    uint32_t far = src;
    for (uint32_t d = 0; d < N; d++) {
        mismatches += lat[d] != formula[d];
        if (d == src)
            continue;
        if (lat[d] < mn)
            mn = lat[d];
        if (lat[d] > mx || (lat[d] == mx && d < far)) {
            mx = lat[d];
            far = d;
        }
        sum += (double)lat[d];
    }
    int sx, sy, fx, fy;
    d1s_tile_node_xy(t, src, &sx, &sy);
    d1s_tile_node_xy(t, far, &fx, &fy);
    if (!o.quiet) {
        printf("source %u (%d,%d), %u destinations on a %dx%d grid (%dx%d chips)\n", src, sx, sy, N,
               d1s_tile_width(t), d1s_tile_height(t), d1s_tile_chips_x(t), d1s_tile_chips_y(t));
        printf("latency min %" PRIu64 ", mean %.1f, max %" PRIu64 " cycles (%.1f ns) at node %u "
               "(%d,%d)\n",
               mn, sum / (double)(N > 1 ? N - 1 : 1), mx, d1n_ns(&o.cfg, (double)mx), far, fx, fy);
        printf("formula (doc/tile.md): %" PRIu64 " of %u measurements differ\n", mismatches, N);
    }
    if (d1n_files_open("heatmap", &o, 1, &f)) {
        rc = 1;
        goto done;
    }
    if (f.csv) {
        fputs("node,x,y,chip,formula_cyc,measured_cyc\n", f.csv);
        for (uint32_t d = 0; d < N; d++) {
            int x, y;
            d1s_tile_node_xy(t, d, &x, &y);
            fprintf(f.csv, "%u,%d,%d,%u,%" PRIu64 ",%" PRIu64 "\n", d, x, y,
                    d / d1s_tile_nodes_per_chip(t), formula[d], lat[d]);
        }
    }
    if (f.json) {
        fprintf(f.json,
                "  \"src\": %u, \"src_xy\": [%d, %d], \"nodes\": %u, \"min_cyc\": %" PRIu64
                ", \"mean_cyc\": %.3f, \"max_cyc\": %" PRIu64 ", \"farthest\": %u, "
                "\"mismatches\": %" PRIu64 ",\n  \"measured_cyc\": [",
                src, sx, sy, N, mn, sum / (double)(N > 1 ? N - 1 : 1), mx, far, mismatches);
        for (uint32_t d = 0; d < N; d++)
            fprintf(f.json, "%s%" PRIu64, d ? "," : "", lat[d]);
        fputs("]\n}\n", f.json);
    }
    if (f.gp) {
        int W = d1s_tile_width(t), H = d1s_tile_height(t);
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                uint32_t id = d1s_tile_node_at(t, x, y);
                if (id == UINT32_MAX)
                    fprintf(f.dat, "%d %d NaN\n", x, y);
                else
                    fprintf(f.dat, "%d %d %" PRIu64 "\n", x, y, lat[id]);
            }
            fputc('\n', f.dat);
        }
        int cw = W / d1s_tile_chips_x(t), ch = H / d1s_tile_chips_y(t);
        fprintf(f.gp, "set terminal pngcairo size %d,%d\nset output '%s.png'\n",
                W > H ? 1000 : 200 + 800 * W / H + 100, W > H ? 200 + 800 * H / W : 900, o.out);
        fprintf(f.gp,
                "set title 'Zero-load latency (cycles) from node %u (%d,%d)'\n"
                "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\nset size ratio -1\n"
                "set xlabel 'x'\nset ylabel 'y'\nset cblabel 'cycles'\nset palette rgb 33,13,10\n",
                src, sx, sy, W - 1, H - 1);
        /* chip borders white, tile borders black and thicker */
        int tcx = (int)o.cfg.tile_chips_x, tcy = (int)o.cfg.tile_chips_y;
        for (int cx = 1; cx < d1s_tile_chips_x(t); cx++)
            fprintf(f.gp, "set arrow from %g,-0.5 to %g,%g nohead front lc rgb '%s' lw %s\n",
                    cx * cw - 0.5, cx * cw - 0.5, H - 0.5, cx % tcx ? "white" : "black",
                    cx % tcx ? "1.5" : "3");
        for (int cy = 1; cy < d1s_tile_chips_y(t); cy++)
            fprintf(f.gp, "set arrow from -0.5,%g to %g,%g nohead front lc rgb '%s' lw %s\n",
                    cy * ch - 0.5, W - 0.5, cy * ch - 0.5, cy % tcy ? "white" : "black",
                    cy % tcy ? "1.5" : "3");
        fprintf(f.gp, "plot '%s.dat' using 1:2:3 with image notitle\n", o.out);
        if (d1n_files_plot("heatmap", &o, &f))
            rc = 1;
    }
    if (!rc && mismatches)
        rc = 2;

done:
    d1n_files_close(&f);
    free(req);
    free(lat);
    free(formula);
    d1s_tile_destroy(t);
    d1n_fini(&o);
    return rc;
}
