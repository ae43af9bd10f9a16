#include "stats.h"

#include <inttypes.h>
#include <string.h>

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

void d1s_stats_config_json(FILE *out, const d1_config *cfg)
{
    const char *sep = "";
    fputc('{', out);
#define D1_CFG_JSON_I(key) fprintf(out, "%s\"" #key "\": %" PRId64, sep, cfg->key)
#define D1_CFG_JSON_F(key) fprintf(out, "%s\"" #key "\": %.17g", sep, cfg->key)
#define D1_CFG_JSON_S(key)                                                                         \
    do {                                                                                           \
        fprintf(out, "%s\"" #key "\": ", sep);                                                     \
        json_str(out, cfg->key);                                                                   \
    } while (0)
#define D1_CFG(type, key, def, min, max, unit, tag, doc)                                           \
    D1_CFG_JSON_##type(key);                                                                       \
    sep = ", ";
#include "sim/arch/config.def"
#undef D1_CFG
    fputc('}', out);
}

static double ratio(uint64_t a, uint64_t b)
{
    return b ? (double)a / (double)b : 0.0;
}

static const char *end_name(d1s_run_end e)
{
    switch (e) {
    case D1S_END_HALTED:
        return "halted";
    case D1S_END_TRAP:
        return "trap";
    case D1S_END_MAX_CYCLES:
        return "max-cycles";
    }
    return "unknown";
}

void d1s_stats_trap_line(FILE *out, const d1s_chip *c, const d1s_trap *t)
{
    int x = -1, y = -1;
    d1s_chip_node_xy(c, t->node, &x, &y);
    fprintf(out, "guest trap '%s' at node %u (%d,%d)", d1s_trap_name(t->cause), t->node, x, y);
    if (t->thread >= 0)
        fprintf(out, " thread %d pc 0x%" PRIx64, t->thread, t->pc);
    fprintf(out, " cycle %" PRIu64 " detail 0x%" PRIx64 ": %s\n", t->cycle, t->detail,
            d1s_trap_doc(t->cause));
}

static void link_figures(const d1s_chip *c, const d1s_chip_stats *st, uint64_t cycles,
                         double *bytes, double *util)
{
    const d1_config *cfg = d1s_chip_config(c);
    double flits_per_link = (double)(cfg->link_bytes_per_cyc / cfg->flit_bytes);
    *bytes = (double)st->link_flits * (double)cfg->flit_bytes;
    double cap = (double)st->links * flits_per_link * (double)cycles;
    *util = cap > 0 ? (double)st->link_flits / cap : 0.0;
}

void d1s_stats_print(FILE *out, const d1s_chip *c, const d1s_chip_result *res,
                     const d1s_run_info *info)
{
    d1s_chip_stats st;
    d1s_chip_get_stats(c, &st);
    const d1_config *cfg = d1s_chip_config(c);
    uint64_t cyc = res->cycles;
    double link_bytes, link_util;
    link_figures(c, &st, cyc, &link_bytes, &link_util);
    fprintf(out, "program            %s (%s, %s network)\n",
            info && info->program ? info->program : "-",
            d1s_chip_mode(c) == D1S_NODE_TIMING_ONLY ? "timing-only" : "functional",
            info && info->network ? info->network : "noc");
    fprintf(out, "end                %s\n", end_name(res->end));
    fprintf(out, "cycles             %" PRIu64 " (%.3f us at %" PRId64 " MHz)\n", cyc,
            d1_config_cyc_to_s(cfg, cyc) * 1e6, cfg->clock_mhz);
    fprintf(out, "nodes started      %" PRIu64 " of %u\n", st.nodes_started,
            d1s_chip_node_count(c));
    fprintf(out, "instructions       %" PRIu64 "\n", st.insns);
    fprintf(out, "IPC                %.3f per node (%.3f chip)\n",
            ratio(st.insns, cyc * (st.nodes_started ? st.nodes_started : 1)), ratio(st.insns, cyc));
    fprintf(out, "matrix unit        %" PRIu64 " mma = %" PRIu64 " MAC, utilization %.2f%%\n",
            st.mma, st.mma * 256,
            100.0 * ratio(st.mma, cyc * (st.nodes_started ? st.nodes_started : 1)));
    fprintf(out, "SRAM               %" PRIu64 " B loaded, %" PRIu64 " B stored\n",
            st.sram_load_bytes, st.sram_store_bytes);
    fprintf(out,
            "DMA                %" PRIu64 " B sent, %" PRIu64 " B received, %" PRIu64 " packets\n",
            st.dma_out_bytes, st.dma_in_bytes, st.pkts);
    fprintf(out, "links              %.0f B over %" PRIu64 " links, utilization %.3f%%\n",
            link_bytes, st.links, 100.0 * link_util);
    fprintf(out, "stall cycles       ");
    for (int k = 0; k < D1S_STALL_COUNT; k++)
        fprintf(out, "%s%s %" PRIu64, k ? ", " : "", d1s_stall_name((d1s_stall)k), st.stall_cyc[k]);
    fprintf(out, " (of %" PRIu64 " thread-cycles)\n", st.thread_cycles);
    if (res->end == D1S_END_TRAP)
        d1s_stats_trap_line(out, c, &res->trap);
}

static void stalls_json(FILE *out, const uint64_t *v)
{
    fputc('{', out);
    for (int k = 0; k < D1S_STALL_COUNT; k++)
        fprintf(out, "%s\"%s\": %" PRIu64, k ? ", " : "", d1s_stall_name((d1s_stall)k), v[k]);
    fputc('}', out);
}

d1_status d1s_stats_write_json(FILE *out, const d1s_chip *c, const d1s_chip_result *res,
                               const d1s_run_info *info)
{
    d1s_chip_stats st;
    d1s_chip_get_stats(c, &st);
    const d1_config *cfg = d1s_chip_config(c);
    uint64_t cyc = res->cycles, nodes = st.nodes_started ? st.nodes_started : 1;
    double link_bytes, link_util;
    link_figures(c, &st, cyc, &link_bytes, &link_util);
    fprintf(out, "{\n\"config\": ");
    d1s_stats_config_json(out, cfg);
    fprintf(out, ",\n\"config_hash\": \"0x%016" PRIx64 "\",\n", d1_config_hash(cfg));
    fprintf(out, "\"run\": {\"program\": ");
    json_str(out, info && info->program ? info->program : "");
    fprintf(out, ", \"mode\": \"%s\", \"network\": ",
            d1s_chip_mode(c) == D1S_NODE_TIMING_ONLY ? "timing-only" : "functional");
    json_str(out, info && info->network ? info->network : "noc");
    fprintf(out, ", \"end\": \"%s\", \"cycles\": %" PRIu64 ", \"seconds\": %.9g, \"trap\": ",
            end_name(res->end), cyc, d1_config_cyc_to_s(cfg, cyc));
    if (res->end == D1S_END_TRAP)
        fprintf(out,
                "{\"cause\": \"%s\", \"node\": %u, \"thread\": %d, \"pc\": %" PRIu64
                ", \"detail\": %" PRIu64 ", \"cycle\": %" PRIu64 "}",
                d1s_trap_name(res->trap.cause), res->trap.node, res->trap.thread, res->trap.pc,
                res->trap.detail, res->trap.cycle);
    else
        fprintf(out, "null");
    fprintf(out,
            "},\n\"totals\": {\"nodes_started\": %" PRIu64 ", \"instructions\": %" PRIu64
            ", \"ipc_per_node\": %.6f, \"mma\": %" PRIu64 ", \"macs\": %" PRIu64
            ", \"mxu_utilization\": %.6f, \"sram_load_bytes\": %" PRIu64
            ", \"sram_store_bytes\": %" PRIu64 ", \"dma_out_bytes\": %" PRIu64
            ", \"dma_in_bytes\": %" PRIu64 ", \"packets\": %" PRIu64 ", \"links\": %" PRIu64
            ", \"link_flits\": %" PRIu64
            ", \"link_bytes\": %.0f, \"link_utilization\": %.6f, \"thread_cycles\": %" PRIu64
            ", \"stall_cycles\": ",
            st.nodes_started, st.insns, ratio(st.insns, cyc * nodes), st.mma, st.mma * 256,
            ratio(st.mma, cyc * nodes), st.sram_load_bytes, st.sram_store_bytes, st.dma_out_bytes,
            st.dma_in_bytes, st.pkts, st.links, st.link_flits, link_bytes, link_util,
            st.thread_cycles);
    stalls_json(out, st.stall_cyc);
    fprintf(out, "},\n\"nodes\": [");
    const char *sep = "\n";
    for (uint32_t id = 0; id < d1s_chip_node_count(c); id++) {
        const d1s_node_stats *s = d1s_node_get_stats(d1s_chip_node((d1s_chip *)c, id));
        if (!s->insns && !s->pkts_in && !s->pkts_out)
            continue;
        int x = 0, y = 0;
        d1s_chip_node_xy(c, id, &x, &y);
        fprintf(out,
                "%s{\"id\": %u, \"x\": %d, \"y\": %d, \"cycles\": %" PRIu64
                ", \"instructions\": %" PRIu64 ", \"ipc\": %.6f, \"mma\": %" PRIu64
                ", \"mxu_utilization\": %.6f, \"sram_load_bytes\": %" PRIu64
                ", \"sram_store_bytes\": %" PRIu64 ", \"dma_descriptors\": %" PRIu64
                ", \"dma_out_bytes\": %" PRIu64 ", \"dma_in_bytes\": %" PRIu64
                ", \"packets_out\": %" PRIu64 ", \"packets_in\": %" PRIu64 ", \"threads\": [",
                sep, id, x, y, s->cycles, s->insns, ratio(s->insns, s->cycles), s->mma,
                ratio(s->mma, s->cycles), s->sram_load_bytes, s->sram_store_bytes, s->dma_descs,
                s->dma_out_bytes, s->dma_in_bytes, s->pkts_out, s->pkts_in);
        for (int t = 0; t < cfg->node_threads && t < D1S_NODE_MAX_THREADS; t++) {
            const d1s_thread_stats *ts = &s->thread[t];
            fprintf(out,
                    "%s{\"thread\": %d, \"cycles\": %" PRIu64 ", \"instructions\": %" PRIu64
                    ", \"ipc\": %.6f, \"stall_cycles\": ",
                    t ? ", " : "", t, ts->cycles, ts->insns, ratio(ts->insns, ts->cycles));
            stalls_json(out, ts->stall_cyc);
            fprintf(out, ", \"limited_cycles\": ");
            stalls_json(out, ts->limit_cyc);
            fputc('}', out);
        }
        fprintf(out, "]}");
        sep = ",\n";
    }
    fprintf(out, "\n]\n}\n");
    if (ferror(out))
        return d1_fail(D1_E_IO, "writing statistics JSON failed");
    return D1_OK;
}
