/* Helpers of the tile interconnect commands (see net_tile_util.h). */
#include "net_tile_util.h"

#include "sim/elf/asm.h"
#include "sim/elf/emit.h"
#include "sim/trace/plot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int d1n_int(const char *cmd, const char *what, const char *s, long long lo, long long hi,
            long long *out)
{
    if (!s)
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno || !end || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "d1 net %s: %s must be an integer in [%lld, %lld], got '%s'\n", cmd, what,
                lo, hi, s);
        return 1;
    }
    *out = v;
    return 0;
}

int d1n_parse(const char *cmd, int argc, char **argv, const d1n_opt *extra, d1n_opts *o)
{
    memset(o, 0, sizeof *o);
    o->threads = 0;
    d1_status st = d1_config_init(&o->cfg);
    if (st) {
        fprintf(stderr, "d1 net %s: %s\n", cmd, d1_last_error());
        return 1;
    }
    o->pos = calloc((size_t)argc + 1, sizeof *o->pos);
    if (!o->pos) {
        fprintf(stderr, "d1 net %s: out of memory\n", cmd);
        return 1;
    }
    const char *threads = NULL;
    /* pass 0: files and everything else; pass 1: --set overrides (after every file) */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 1; i < argc; i++) {
            const char *a = argv[i];
            static const char *const common[] = {"--config", "--set", "--threads", "--out", NULL};
            const char *name = NULL, *val = NULL;
            const char **dst = NULL;
            int *flag = NULL;
            for (int k = 0; common[k]; k++) {
                size_t l = strlen(common[k]);
                if (!strncmp(a, common[k], l) && (a[l] == '\0' || a[l] == '='))
                    name = common[k];
            }
            for (int k = 0; !name && extra && extra[k].name; k++) {
                size_t l = strlen(extra[k].name);
                if (!strncmp(a, extra[k].name, l) && (a[l] == '\0' || a[l] == '=')) {
                    name = extra[k].name;
                    dst = extra[k].val;
                    flag = extra[k].flag;
                }
            }
            if (name && flag) {
                if (a[strlen(name)] == '=') {
                    fprintf(stderr, "d1 net %s: %s takes no value\n", cmd, name);
                    return 1;
                }
                *flag = 1;
                continue;
            }
            if (name) {
                const char *eq = strchr(a, '=');
                if (eq)
                    val = eq + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else {
                    fprintf(stderr, "d1 net %s: %s needs a value\n", cmd, name);
                    return 1;
                }
                if (!strcmp(name, "--config")) {
                    if (pass == 0 && (st = d1_config_load_file(&o->cfg, val))) {
                        fprintf(stderr, "d1 net %s: %s\n", cmd, d1_last_error());
                        return 1;
                    }
                } else if (!strcmp(name, "--set")) {
                    if (pass == 1 && (st = d1_config_set(&o->cfg, val))) {
                        fprintf(stderr, "d1 net %s: %s\n", cmd, d1_last_error());
                        return 1;
                    }
                } else if (!strcmp(name, "--threads"))
                    threads = val;
                else if (!strcmp(name, "--out"))
                    o->out = val;
                else if (dst)
                    *dst = val;
                continue;
            }
            if (pass == 1)
                continue;
            if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
                o->quiet = 1;
            else if (!strcmp(a, "--no-plot"))
                o->no_plot = 1;
            else if (a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9')) {
                fprintf(stderr, "d1 net %s: unknown option '%s' (see --help)\n", cmd, a);
                return 1;
            } else
                o->pos[o->npos++] = argv[i];
        }
    }
    if (d1n_int(cmd, "--threads", threads, 0, 256, &o->threads))
        return 1;
    if ((st = d1_config_validate(&o->cfg))) {
        fprintf(stderr, "d1 net %s: %s\n", cmd, d1_last_error());
        return 1;
    }
    return 0;
}

void d1n_fini(d1n_opts *o)
{
    d1_config_fini(&o->cfg);
    free(o->pos);
    o->pos = NULL;
}

int d1n_tile(const char *cmd, d1n_opts *o, d1s_node_mode mode, d1s_tile **t)
{
    d1s_tile_opts to = {mode, (int)o->threads};
    d1_status st = d1s_tile_create(&o->cfg, &to, t);
    if (st) {
        fprintf(stderr, "d1 net %s: %s: %s\n", cmd, d1_status_name(st), d1_last_error());
        return 1;
    }
    return 0;
}

int d1n_node(const char *cmd, const d1s_tile *t, const char *s, uint32_t *id)
{
    char *end = NULL;
    long x = strtol(s, &end, 10);
    if (end && *end == ',') {
        char *end2 = NULL;
        long y = strtol(end + 1, &end2, 10);
        if (end2 && !*end2 && end2 != end + 1) {
            *id = d1s_tile_node_at(t, (int)x, (int)y);
            if (*id == UINT32_MAX) {
                fprintf(stderr,
                        "d1 net %s: position (%ld,%ld) is harvested or outside the %dx%d grid\n",
                        cmd, x, y, d1s_tile_width(t), d1s_tile_height(t));
                return 1;
            }
            return 0;
        }
    } else if (end && !*end && end != s && x >= 0 && (uint32_t)x < d1s_tile_node_count(t)) {
        *id = (uint32_t)x;
        return 0;
    }
    fprintf(stderr, "d1 net %s: '%s' is not a node (id 0..%u or x,y)\n", cmd, s,
            d1s_tile_node_count(t) - 1);
    return 1;
}

FILE *d1n_open(const char *cmd, const d1n_opts *o, const char *ext, int *err)
{
    if (!o->out)
        return NULL;
    size_t l = strlen(o->out) + strlen(ext) + 2;
    char *p = malloc(l);
    if (!p) {
        *err = 1;
        return NULL;
    }
    snprintf(p, l, "%s.%s", o->out, ext);
    FILE *f = fopen(p, "w");
    if (!f) {
        fprintf(stderr, "d1 net %s: cannot write %s: %s\n", cmd, p, strerror(errno));
        *err = 1;
    }
    free(p);
    return f;
}

/* The d1_config_dump text (malloc'd; NULL on failure). */
static char *config_text(const d1_config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    d1_config_dump(cfg, m);
    fclose(m);
    return buf;
}

void d1n_config_comment(FILE *f, const d1_config *cfg)
{
    char *buf = config_text(cfg);
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        fprintf(f, "%s%s\n", line[0] == '#' ? "" : "# ", line);
        line = nl ? nl + 1 : NULL;
    }
    free(buf);
}

void d1n_config_json(FILE *f, const d1_config *cfg)
{
    char *buf = config_text(cfg);
    if (!buf)
        return;
    fprintf(f, "  \"config_hash\": \"0x%016llx\",\n  \"config\": \"",
            (unsigned long long)d1_config_hash(cfg));
    for (const char *c = buf; c && *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(f, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", f);
        else if ((unsigned char)*c >= 0x20)
            fputc(*c, f);
    }
    fputs("\",\n", f);
    free(buf);
}

int d1n_plot(const char *cmd, const d1n_opts *o)
{
    if (!o->out || o->no_plot)
        return 0;
    size_t l = strlen(o->out) + 4;
    char *gp = malloc(l);
    if (!gp)
        return 1;
    snprintf(gp, l, "%s.gp", o->out);
    d1_status st = d1s_plot_run(gp);
    int rc = 0;
    if (st == D1_E_UNSUPPORTED)
        fprintf(stderr, "d1 net %s: %s: %s written, no PNG\n", cmd, d1_last_error(), gp);
    else if (st != D1_OK) {
        fprintf(stderr, "d1 net %s: %s\n", cmd, d1_last_error());
        rc = 1;
    }
    free(gp);
    return rc;
}

int d1n_files_open(const char *cmd, const d1n_opts *o, int plot, d1n_files *f)
{
    int err = 0;
    f->csv = d1n_open(cmd, o, "csv", &err);
    f->json = d1n_open(cmd, o, "json", &err);
    f->dat = plot ? d1n_open(cmd, o, "dat", &err) : NULL;
    f->gp = plot ? d1n_open(cmd, o, "gp", &err) : NULL;
    if (err)
        return 1;
    if (f->csv)
        d1n_config_comment(f->csv, &o->cfg);
    if (f->json) {
        fputs("{\n", f->json);
        d1n_config_json(f->json, &o->cfg);
    }
    return 0;
}

static void close_file(FILE **f)
{
    if (*f)
        fclose(*f);
    *f = NULL;
}

int d1n_files_plot(const char *cmd, const d1n_opts *o, d1n_files *f)
{
    close_file(&f->dat);
    close_file(&f->gp);
    return d1n_plot(cmd, o);
}

void d1n_files_close(d1n_files *f)
{
    close_file(&f->csv);
    close_file(&f->json);
    close_file(&f->dat);
    close_file(&f->gp);
}

int d1n_no_args(const char *cmd, const d1n_opts *o)
{
    if (!o->npos)
        return 0;
    fprintf(stderr, "d1 net %s: unexpected argument '%s' (see --help)\n", cmd, o->pos[0]);
    return 1;
}

double d1n_ns(const d1_config *cfg, double cyc)
{
    return cyc * 1000.0 / (double)cfg->clock_mhz;
}

d1_status d1n_config_with(d1_config *dst, const d1_config *base, const char *const *sets)
{
    d1_status st = d1_config_copy(dst, base);
    for (size_t i = 0; st == D1_OK && sets && sets[i]; i++)
        st = d1_config_set(dst, sets[i]);
    if (st == D1_OK)
        st = d1_config_validate(dst);
    if (st != D1_OK)
        d1_config_fini(dst);
    return st;
}

d1_status d1n_run_flows(d1s_tile *t, const d1n_flow *f, size_t n, d1s_tile_result *res)
{
    return d1n_run_flows_sampled(t, f, n, 0, 0, NULL, NULL, res);
}

d1_status d1n_run_flows_sampled(d1s_tile *t, const d1n_flow *f, size_t n, uint64_t t_a,
                                uint64_t t_b, void (*sample)(void *ctx, d1s_tile *t, int k),
                                void *ctx, d1s_tile_result *res)
{
    static const char src[] = ".program stream\n.place all\n"
                              "        dma   0x200(x0)\n"
                              "        swait s1, 1\n"
                              "        halt\n";
    d1s_target tg = {d1s_tile_node_count(t), 1u << 20, 0};
    d1s_kernel *kern = NULL;
    d1_status st = d1s_asm_string(src, "stream", &tg, &kern);
    if (st != D1_OK)
        return st;
    const d1s_program *pr = d1s_kernel_program(kern, 0);
    for (size_t i = 0; i < n && st == D1_OK; i++) {
        uint8_t d[32];
        memset(d, 0, sizeof d);
        d[0] = f[i].kind;
        d[1] = 1;    /* sem_local */
        d[2] = 0xff; /* no remote semaphore */
        memcpy(d + 4, &f[i].len, 4);
        memcpy(d + 8, &f[i].peer, 4);
        memcpy(d + 16, &f[i].local_addr, 8);
        memcpy(d + 24, &f[i].remote_addr, 8);
        st = d1s_tile_load_image(t, f[i].src, 0x200, d, sizeof d);
        if (st == D1_OK)
            st = d1s_tile_load_program(t, f[i].src, f[i].src, pr->words, pr->n_words, 0);
    }
    d1s_kernel_destroy(kern);
    if (st != D1_OK)
        return st;
    uint64_t stops[2] = {t_a, t_b};
    for (int k = 0; sample && k < 2 && st == D1_OK; k++) {
        st = d1s_tile_run(t, stops[k], res);
        if (st == D1_OK && res->end != D1S_END_MAX_CYCLES)
            return d1_fail(D1_E_STATE, "the streams ended before the sampling point %llu",
                           (unsigned long long)stops[k]);
        sample(ctx, t, k);
    }
    if (st == D1_OK)
        st = d1s_tile_run(t, 0, res);
    if (st == D1_OK && res->end == D1S_END_TRAP)
        return d1_fail(D1_E_TRAP, "node %u trapped: %s", res->trap.node,
                       d1s_trap_name(res->trap.cause));
    return st;
}
