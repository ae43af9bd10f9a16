/* d1 net report: the interconnect validation table of doc/validation.md -- every published
 * figure beside what the simulator measures, the latency of representative paths, and which
 * inputs are assumptions. One command regenerates the whole document. */
#include "cli.h"
#include "net_tile_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: d1 net report [--md FILE] [options]\n"
    "Measure every published interconnect figure (bisection, chip edge, tile edge, tile, DIP\n"
    "HBM, DIP link, PCIe) and the latency of representative paths (neighbour, across a chip,\n"
    "one chip edge, corner to corner of the tile, HBM to the farthest node), and write the\n"
    "Markdown of doc/validation.md (stdout, or FILE with --md): measured beside published and\n"
    "configured, with the assumptions that enter each figure.\n"
    "\n"
    "  --md FILE            write the Markdown there instead of stdout\n"
    "  --scale N            bytes per bandwidth stream x N (default 1)\n" D1N_COMMON_USAGE "\n"
    "Regenerate the document with: d1 net report --md doc/validation.md\n";

/* The inputs behind the figures: D1-FACTS tag and value. */
static const struct {
    const char *key, *tag, *what;
} inputs[] = {
    {"mesh_cols", "A", "node columns per chip (18 x 20 grid widely reported, unconfirmed)"},
    {"mesh_rows", "A", "node rows per chip"},
    {"harvested", "A", "which 6 positions per chip are disabled"},
    {"link_bytes_per_cyc", "P", "mesh link, per direction (512 GB/s)"},
    {"router_delay_cyc", "A", "router pipeline per hop"},
    {"link_delay_cyc", "A", "wire delay per hop"},
    {"noc_vcs", "A", "virtual channels per port"},
    {"noc_vc_buf_flits", "A", "buffer per virtual channel"},
    {"router_out_bytes_per_cyc", "P", "node -> router port (DMA injection)"},
    {"serdes_bytes_per_cyc", "D", "chip edge, per direction (4 TB/s per edge read as 2 + 2)"},
    {"serdes_lat_cyc", "A", "chip-to-chip crossing latency"},
    {"tile_edge_bytes_per_cyc", "D", "tile edge, per direction (9 TB/s)"},
    {"tile_link_lat_cyc", "A", "tile-to-tile crossing latency"},
    {"dip_edges", "A", "tile edges with DIPs"},
    {"dips_per_edge", "P", "DIPs per populated edge"},
    {"dip_link_bytes_per_cyc", "D", "DIP <-> tile link (900 GB/s)"},
    {"dip_link_lat_cyc", "A", "DIP link latency"},
    {"hbm_bytes_per_cyc", "D", "HBM per DIP (800 GB/s)"},
    {"hbm_lat_cyc", "A", "HBM access latency"},
    {"pcie_bytes_per_cyc", "D", "PCIe Gen4 x16 (32 GB/s)"},
    {"pcie_lat_cyc", "A", "PCIe latency"},
    {"clock_mhz", "P", "node clock"},
};

/* The value of key as d1_config_dump writes it. */
static void value_of(const d1_config *cfg, const char *key, char *out, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    snprintf(out, n, "?");
    if (!m)
        return;
    d1_config_dump(cfg, m);
    fclose(m);
    size_t kl = strlen(key);
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (!strncmp(line, key, kl) && (line[kl] == ' ' || line[kl] == '=')) {
            char *eq = strchr(line, '=');
            char *hash = strchr(line, '#');
            if (eq) {
                if (hash)
                    *hash = '\0';
                eq++;
                while (*eq == ' ')
                    eq++;
                size_t l = strlen(eq);
                while (l && eq[l - 1] == ' ')
                    eq[--l] = '\0';
                snprintf(out, n, "%s", eq);
            }
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(buf);
}

int d1_net_report(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    const char *md_path = NULL, *scale_s = NULL;
    d1n_opt extra[] = {{"--md", &md_path, NULL}, {"--scale", &scale_s, NULL}, {NULL, NULL, NULL}};
    d1n_opts o;
    int rc = 0;
    long long scale = 1;
    d1s_tile *t = NULL;
    FILE *md = stdout;
    d1n_files f = {0};
    d1n_bw_row bw[16];
    size_t nbw = 0;
    d1n_lat_row lat[8];
    if (d1n_parse("report", argc, argv, extra, &o) ||
        d1n_int("report", "--scale", scale_s, 1, 64, &scale) || d1n_no_args("report", &o)) {
        rc = 1;
        goto done;
    }
    /* latency: representative paths + HBM to the farthest node */
    if (d1n_tile("report", &o, D1S_NODE_TIMING_ONLY, &t)) {
        rc = 1;
        goto done;
    }
    size_t nlat = d1n_representative_pairs(t, lat);
    d1_status st = d1n_measure_pairs(t, lat, nlat, 64);
    uint64_t hbm_meas = 0, hbm_form = 0;
    uint32_t far = 0;
    int fx = 0, fy = 0, have_hbm = d1s_tile_dip_count(t) > 0;
    if (st == D1_OK && have_hbm) {
        uint64_t worst = 0;
        const uint32_t *att;
        size_t natt;
        d1s_tile_dip_attach(t, 0, NULL, NULL, &att, &natt);
        for (uint32_t id = 0; id < d1s_tile_node_count(t); id++) {
            d1s_tile_path a, b;
            if (d1s_tile_zero_load(t, id, d1s_tile_node_count(t), 64, &a) == D1_OK &&
                d1s_tile_zero_load(t, att[0], id, 64, &b) == D1_OK &&
                a.lat_cyc + b.lat_cyc > worst) {
                worst = a.lat_cyc + b.lat_cyc;
                far = id;
            }
        }
        d1s_tile_node_xy(t, far, &fx, &fy);
        st = d1s_tile_hbm_probe(t, far, 0, &hbm_meas, &hbm_form);
    }
    if (st) {
        rc = d1_cli_fail("net report", st);
        goto done;
    }
    if (d1n_bandwidth_rows(&o.cfg, NULL, (int)scale, (int)o.threads, bw, &nbw)) {
        rc = 1;
        goto done;
    }
    if (md_path && !(md = fopen(md_path, "w"))) {
        fprintf(stderr, "d1 net report: cannot write %s\n", md_path);
        md = stdout;
        rc = 1;
        goto done;
    }
    double mhz = (double)o.cfg.clock_mhz;
    fprintf(md,
            "# Interconnect validation\n\n"
            "<!-- Generated by `d1 net report --md doc/validation.md`; do not edit by hand. -->\n\n"
            "Every published interconnect figure of D1-FACTS.md beside what the simulator "
            "measures with real DMA programs on an otherwise idle system, and the latency of "
            "representative paths beside the zero-load formula of doc/tile.md. Configuration: "
            "the defaults (config hash `0x%016llx`), %d x %d chips per tile, %lld MHz.\n\n",
            (unsigned long long)d1_config_hash(&o.cfg), (int)o.cfg.tile_chips_x,
            (int)o.cfg.tile_chips_y, (long long)o.cfg.clock_mhz);
    fputs("## Bandwidth\n\n"
          "| figure | published | configured (expected) | measured | measured / published | "
          "how it is measured |\n|---|---:|---:|---:|---:|---|\n",
          md);
    for (size_t i = 0; i < nbw; i++)
        fprintf(md, "| %s | %.0f GB/s | %.1f GB/s | %.1f GB/s | %.3f | %s |\n", bw[i].published,
                bw[i].published_gbs, bw[i].expected_gbs, bw[i].measured_gbs,
                bw[i].measured_gbs / bw[i].published_gbs, bw[i].note);
    fputs("\nGB/s = 10^9 B/s, per direction unless the row says otherwise. *Configured* is the "
          "analytical figure from the configuration (link widths x counts); a measured/configured "
          "ratio below 1 comes from the model (e.g. detours around harvested nodes), one against "
          "*published* also from reading the published figure (e.g. 4 TB/s per chip edge as 2 TB/s "
          "per direction).\n\n",
          md);
    fputs("## Latency (zero load)\n\n"
          "| path | from (x,y) | to (x,y) | router hops | chip edges | formula (cyc) | measured "
          "(cyc) | measured (ns) |\n|---|---|---|---:|---:|---:|---:|---:|\n",
          md);
    for (size_t i = 0; i < nlat; i++)
        fprintf(md,
                "| %s | %u (%d,%d) | %u (%d,%d) | %u | %u | %" PRIu64 " | %" PRIu64 " | %.1f |\n",
                lat[i].name, lat[i].src, lat[i].sx, lat[i].sy, lat[i].dst, lat[i].dx, lat[i].dy,
                lat[i].path.hops, lat[i].path.serdes + lat[i].path.tile_links, lat[i].path.lat_cyc,
                lat[i].measured_cyc, lat[i].measured_cyc * 1000.0 / mhz);
    if (have_hbm)
        fprintf(md,
                "| HBM (DIP 0) to the farthest node, 64 B read, request to response | DIP 0 | "
                "%u (%d,%d) | | | %" PRIu64 " | %" PRIu64 " | %.1f |\n",
                far, fx, fy, hbm_form, hbm_meas, hbm_meas * 1000.0 / mhz);
    fputs("\nLatency = packet creation at the source router to tail ejection at the destination "
          "(BookSim's packet latency); one 64 B flit. Formula: per on-chip leg (hops + 1) x router "
          "+ hops x wire + 1, per crossing ceil(64 B / link rate) + crossing latency "
          "(doc/tile.md). Reproduce one row with `d1 net latency SRC DST`.\n\n",
          md);
    fputs("## Inputs and which are assumptions\n\n| key | value | tag | meaning "
          "|\n|---|---|---|---|\n",
          md);
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char v[128];
        value_of(&o.cfg, inputs[i].key, v, sizeof v);
        fprintf(md, "| `%s` | %s | %s | %s |\n", inputs[i].key, v, inputs[i].tag, inputs[i].what);
    }
    fputs("\nTags (D1-FACTS.md): P published, D derived from published figures, A assumption -- "
          "nothing was published, so every latency above depends on the A rows. Modelling "
          "choices (doc/tile.md): a chip-edge crossing is store-and-forward through the border "
          "router, whose local port is as wide as a mesh link; DIP, HBM and PCIe are rate + "
          "latency servers; the host is a SystemC process.\n",
          md);
    if (d1n_files_open("report", &o, 0, &f)) {
        rc = 1;
        goto done;
    }
    if (f.csv) {
        fputs("kind,name,published,expected,measured,unit\n", f.csv);
        for (size_t i = 0; i < nbw; i++)
            fprintf(f.csv, "bandwidth,%s,%.0f,%.3f,%.3f,GB/s\n", bw[i].name, bw[i].published_gbs,
                    bw[i].expected_gbs, bw[i].measured_gbs);
        for (size_t i = 0; i < nlat; i++)
            fprintf(f.csv, "latency,\"%s\",,%" PRIu64 ",%" PRIu64 ",cyc\n", lat[i].name,
                    lat[i].path.lat_cyc, lat[i].measured_cyc);
        if (have_hbm)
            fprintf(f.csv, "latency,\"HBM to farthest node\",,%" PRIu64 ",%" PRIu64 ",cyc\n",
                    hbm_form, hbm_meas);
    }
    if (f.json) {
        fputs("  \"bandwidth\": [\n", f.json);
        for (size_t i = 0; i < nbw; i++)
            fprintf(f.json,
                    "    {\"case\": \"%s\", \"published_gbs\": %.0f, \"expected_gbs\": %.3f, "
                    "\"measured_gbs\": %.3f}%s\n",
                    bw[i].name, bw[i].published_gbs, bw[i].expected_gbs, bw[i].measured_gbs,
                    i + 1 < nbw ? "," : "");
        fputs("  ],\n  \"latency\": [\n", f.json);
        for (size_t i = 0; i < nlat; i++)
            fprintf(f.json,
                    "    {\"path\": \"%s\", \"formula_cyc\": %" PRIu64
                    ", \"measured_cyc\": %" PRIu64 "},\n",
                    lat[i].name, lat[i].path.lat_cyc, lat[i].measured_cyc);
        fprintf(f.json,
                "    {\"path\": \"HBM to farthest node\", \"formula_cyc\": %" PRIu64
                ", \"measured_cyc\": %" PRIu64 "}\n  ]\n}\n",
                hbm_form, hbm_meas);
    }

done:
    if (md && md != stdout)
        fclose(md);
    d1n_files_close(&f);
    d1s_tile_destroy(t);
    d1n_fini(&o);
    return rc;
}
