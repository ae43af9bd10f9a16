/* d1 net latency: one-way and round-trip latency between nodes of the tile, with the
 * analytical zero-load figure and its breakdown beside each measurement. */
#include "cli.h"
#include "net_tile_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: d1 net latency [SRC DST | SRC:DST ...] [options]\n"
    "Send probe packets between nodes of the tile (or multi-tile system) one at a time, on\n"
    "an idle network, and print the measured one-way and round-trip latency beside the\n"
    "zero-load formula (doc/tile.md) and its breakdown: router hops on chips, SerDes and\n"
    "tile-link crossings, serialization. A node is an id (0..N-1) or a global position x,y.\n"
    "Without nodes: the representative paths (neighbour, across a chip, one chip edge,\n"
    "corner to corner).\n"
    "\n"
    "  --bytes N            payload bytes per probe, 1..64 (default 64: one "
    "flit)\n" D1N_COMMON_USAGE "\n"
    "Exit status: 0, 1 on bad input, 2 when a measurement differs from the formula.\n";

static void xy(const d1s_tile *t, d1n_lat_row *r)
{
    d1s_tile_node_xy(t, r->src, &r->sx, &r->sy);
    d1s_tile_node_xy(t, r->dst, &r->dx, &r->dy);
}

size_t d1n_representative_pairs(const d1s_tile *t, d1n_lat_row *rows)
{
    int W = d1s_tile_width(t), H = d1s_tile_height(t);
    int cols = W / d1s_tile_chips_x(t), rows_per_chip = H / d1s_tile_chips_y(t);
    struct {
        const char *name;
        int sx, sy, dx, dy;
    } p[4] = {
        {"neighbour", 0, 0, 1, 0},
        {"across a chip", 0, 0, cols - 1, rows_per_chip - 1},
        {"one chip edge", cols - 1, rows_per_chip / 2, cols, rows_per_chip / 2},
        {"corner to corner", 0, 0, W - 1, H - 1},
    };
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (p[i].dx >= W || p[i].dy >= H)
            continue;
        /* harvested corner positions: step inwards to the nearest usable node */
        uint32_t a = UINT32_MAX, b = UINT32_MAX;
        for (int o = 0; o < 4 && (a == UINT32_MAX || b == UINT32_MAX); o++) {
            if (a == UINT32_MAX)
                a = d1s_tile_node_at(t, p[i].sx + (p[i].sx ? -o : o), p[i].sy);
            if (b == UINT32_MAX)
                b = d1s_tile_node_at(t, p[i].dx + (p[i].dx > p[i].sx ? -o : o), p[i].dy);
        }
        if (a == UINT32_MAX || b == UINT32_MAX)
            continue;
        memset(&rows[n], 0, sizeof rows[n]);
        snprintf(rows[n].name, sizeof rows[n].name, "%s", p[i].name);
        rows[n].src = a;
        rows[n].dst = b;
        n++;
    }
    return n;
}

d1_status d1n_measure_pairs(d1s_tile *t, d1n_lat_row *rows, size_t n, uint32_t bytes)
{
    for (size_t i = 0; i < n; i++) {
        d1n_lat_row *r = &rows[i];
        xy(t, r);
        d1_status st = d1s_tile_zero_load(t, r->src, r->dst, bytes, &r->path);
        if (st == D1_OK)
            st = d1s_tile_probe(t, r->src, r->dst, bytes, &r->measured_cyc);
        if (st == D1_OK)
            st = d1s_tile_probe(t, r->dst, r->src, bytes, &r->back_cyc);
        if (st != D1_OK)
            return st;
    }
    return D1_OK;
}

int d1_net_latency(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *bytes_s = NULL;
    d1n_opt extra[] = {{"--bytes", &bytes_s, NULL}, {NULL, NULL, NULL}};
    d1n_opts o;
    int rc = 0;
    d1s_tile *t = NULL;
    d1n_lat_row *rows = NULL;
    d1n_files f = {0};
    long long bytes = 64;
    if (d1n_parse("latency", argc, argv, extra, &o) ||
        d1n_int("latency", "--bytes", bytes_s, 1, 64, &bytes)) {
        rc = 1;
        goto done;
    }
    if (d1n_tile("latency", &o, D1S_NODE_TIMING_ONLY, &t)) {
        rc = 1;
        goto done;
    }
    rows = calloc((size_t)o.npos + 4, sizeof *rows);
    if (!rows) {
        rc = 1;
        goto done;
    }
    size_t n = 0;
    if (o.npos == 0) {
        n = d1n_representative_pairs(t, rows);
    } else if (o.npos == 2 && !strchr(o.pos[0], ':') && !strchr(o.pos[1], ':')) {
        if (d1n_node("latency", t, o.pos[0], &rows[0].src) ||
            d1n_node("latency", t, o.pos[1], &rows[0].dst)) {
            rc = 1;
            goto done;
        }
        snprintf(rows[0].name, sizeof rows[0].name, "%s -> %s", o.pos[0], o.pos[1]);
        n = 1;
    } else {
        for (int i = 0; i < o.npos; i++) {
            char *colon = strchr(o.pos[i], ':');
            if (!colon) {
                fprintf(stderr, "d1 net latency: '%s': pairs are SRC:DST\n", o.pos[i]);
                rc = 1;
                goto done;
            }
            *colon = '\0';
            int bad = d1n_node("latency", t, o.pos[i], &rows[n].src) ||
                      d1n_node("latency", t, colon + 1, &rows[n].dst);
            snprintf(rows[n].name, sizeof rows[n].name, "%s -> %s", o.pos[i], colon + 1);
            *colon = ':';
            if (bad) {
                rc = 1;
                goto done;
            }
            n++;
        }
    }
    d1_status st = d1n_measure_pairs(t, rows, n, (uint32_t)bytes);
    if (st) {
        rc = d1_cli_fail("net latency", st);
        goto done;
    }
    int mismatch = 0;
    if (!o.quiet) {
        printf("%-22s %-13s %-13s %5s %4s %4s %7s %7s %7s %9s %9s %9s %8s\n", "path", "src(x,y)",
               "dst(x,y)", "hops", "sdes", "tlnk", "noc", "serial", "xlat", "formula", "measured",
               "round", "ns");
    }
    for (size_t i = 0; i < n; i++) {
        d1n_lat_row *r = &rows[i];
        mismatch |= r->measured_cyc != r->path.lat_cyc;
        if (o.quiet)
            continue;
        char a[24], b[24];
        snprintf(a, sizeof a, "%u(%d,%d)", r->src, r->sx, r->sy);
        snprintf(b, sizeof b, "%u(%d,%d)", r->dst, r->dx, r->dy);
        printf("%-22s %-13s %-13s %5u %4u %4u %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %9" PRIu64
               " %9" PRIu64 " %9" PRIu64 " %8.1f\n",
               r->name, a, b, r->path.hops, r->path.serdes, r->path.tile_links, r->path.noc_cyc,
               r->path.serial_cyc, r->path.xlat_cyc, r->path.lat_cyc, r->measured_cyc,
               r->measured_cyc + r->back_cyc, d1n_ns(&o.cfg, (double)r->measured_cyc));
    }
    if (!o.quiet)
        printf("cycles at %lld MHz; formula = zero-load latency (doc/tile.md): %s\n",
               (long long)o.cfg.clock_mhz, mismatch ? "MISMATCH" : "every measurement equals it");
    if (d1n_files_open("latency", &o, 1, &f)) {
        rc = 1;
        goto done;
    }
    if (f.csv) {
        fprintf(f.csv, "path,src,src_x,src_y,dst,dst_x,dst_y,hops,serdes,tile_links,noc_cyc,"
                       "serial_cyc,xlat_cyc,formula_cyc,measured_cyc,roundtrip_cyc,measured_ns\n");
        for (size_t i = 0; i < n; i++) {
            d1n_lat_row *r = &rows[i];
            fprintf(f.csv,
                    "\"%s\",%u,%d,%d,%u,%d,%d,%u,%u,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                    ",%" PRIu64 ",%" PRIu64 ",%.2f\n",
                    r->name, r->src, r->sx, r->sy, r->dst, r->dx, r->dy, r->path.hops,
                    r->path.serdes, r->path.tile_links, r->path.noc_cyc, r->path.serial_cyc,
                    r->path.xlat_cyc, r->path.lat_cyc, r->measured_cyc,
                    r->measured_cyc + r->back_cyc, d1n_ns(&o.cfg, (double)r->measured_cyc));
        }
    }
    if (f.json) {
        fprintf(f.json, "  \"bytes\": %lld,\n  \"paths\": [\n", bytes);
        for (size_t i = 0; i < n; i++) {
            d1n_lat_row *r = &rows[i];
            fprintf(f.json,
                    "    {\"path\": \"%s\", \"src\": %u, \"src_xy\": [%d, %d], \"dst\": %u, "
                    "\"dst_xy\": [%d, %d], \"hops\": %u, \"serdes\": %u, \"tile_links\": %u, "
                    "\"noc_cyc\": %" PRIu64 ", \"serial_cyc\": %" PRIu64 ", \"xlat_cyc\": %" PRIu64
                    ", \"formula_cyc\": %" PRIu64 ", \"measured_cyc\": %" PRIu64
                    ", \"roundtrip_cyc\": %" PRIu64 "}%s\n",
                    r->name, r->src, r->sx, r->sy, r->dst, r->dx, r->dy, r->path.hops,
                    r->path.serdes, r->path.tile_links, r->path.noc_cyc, r->path.serial_cyc,
                    r->path.xlat_cyc, r->path.lat_cyc, r->measured_cyc,
                    r->measured_cyc + r->back_cyc, i + 1 < n ? "," : "");
        }
        fputs("  ]\n}\n", f.json);
    }
    if (f.gp) {
        fputs("# idx name noc_cyc serial_cyc xlat_cyc measured_cyc\n", f.dat);
        for (size_t i = 0; i < n; i++)
            fprintf(f.dat, "%zu \"%s\" %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", i,
                    rows[i].name, rows[i].path.noc_cyc, rows[i].path.serial_cyc,
                    rows[i].path.xlat_cyc, rows[i].measured_cyc);
        fprintf(f.gp,
                "set terminal pngcairo size 900,500\nset output '%s.png'\n"
                "set title 'Zero-load one-way latency: formula breakdown (bars) and measured "
                "(points)'\n"
                "set style data histograms\nset style histogram rowstacked\n"
                "set style fill solid 0.8 border -1\nset boxwidth 0.6\n"
                "set ylabel 'cycles'\nset xtics rotate by -20\nset key top left\n"
                "set yrange [0:*]\n"
                "plot '%s.dat' using 3:xtic(2) title 'on-chip NoC', '' using 4 title "
                "'serialization', '' using 5 title 'crossing latency', '' using 1:6 with points "
                "pt 7 ps 1.5 lc rgb 'black' title 'measured'\n",
                o.out, o.out);
        if (d1n_files_plot("latency", &o, &f))
            rc = 1;
    }
    if (!rc && mismatch)
        rc = 2;

done:
    d1n_files_close(&f);
    free(rows);
    d1s_tile_destroy(t);
    d1n_fini(&o);
    return rc;
}
