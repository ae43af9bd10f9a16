/* Architecture configuration: everything here is driven by expanding config.def (the key
 * table below); the only per-key code is the cross-field rules at the end.
 *
 * File format (also written into doc/config.md by d1_config_write_doc):
 *   key = value        one assignment per line; whitespace around tokens is ignored
 *   # comment          from '#' to the end of the line (outside quotes)
 *   integers           [+-]decimal or 0x hex (no octal: 010 is ten); '_' may separate
 *                      digits; keys with unit "B" also take k M G T (x1000^n) and
 *                      Ki Mi Gi Ti (x1024^n) suffixes: sram_bytes = 1280Ki
 *   reals              anything strtod accepts that is finite
 *   strings            "quoted" or bare (bare: up to '#' / end of line, trimmed); no '"'
 * A key may appear once per file; files and --set apply in order, later wins. */
#include "config.h"
#include "file.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- the key table ---------------------------------------------------------------- */

enum { T_I, T_F, T_S };

typedef struct cfg_key {
    const char *key;
    int type;
    size_t off;
    int64_t idef, imin, imax;
    double fdef, fmin, fmax;
    const char *sdef;
    const char *unit, *tag, *doc;
} cfg_key;

#define KI(def, min, max) (int64_t)(def), (int64_t)(min), (int64_t)(max), 0.0, 0.0, 0.0, NULL
#define KF(def, min, max) 0, 0, 0, (double)(def), (double)(min), (double)(max), NULL
#define KS(def, min, max) 0, 0, 0, 0.0, 0.0, 0.0, def

static const cfg_key keys[] = {
#define D1_CFG(type, key, def, min, max, unit, tag, doc)                                           \
    {#key, T_##type, offsetof(d1_config, key), K##type(def, min, max), unit, #tag, doc},
#include "config.def"
#undef D1_CFG
};

#define NKEYS ((int)(sizeof keys / sizeof keys[0]))

static int64_t *fld_i(d1_config *c, const cfg_key *k)
{
    return (int64_t *)((char *)c + k->off);
}
static double *fld_f(d1_config *c, const cfg_key *k)
{
    return (double *)((char *)c + k->off);
}
static char **fld_s(d1_config *c, const cfg_key *k)
{
    return (char **)((char *)c + k->off);
}
static int64_t get_i(const d1_config *c, const cfg_key *k)
{
    return *(const int64_t *)((const char *)c + k->off);
}
static double get_f(const d1_config *c, const cfg_key *k)
{
    return *(const double *)((const char *)c + k->off);
}
static const char *get_s(const d1_config *c, const cfg_key *k)
{
    const char *s = *(char *const *)((const char *)c + k->off);
    return s ? s : "";
}

static const cfg_key *find_key(const char *name, size_t len)
{
    for (int i = 0; i < NKEYS; i++)
        if (strlen(keys[i].key) == len && !memcmp(keys[i].key, name, len))
            return &keys[i];
    return NULL;
}

/* ---- lifecycle -------------------------------------------------------------------- */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void d1_config_fini(d1_config *cfg)
{
    if (!cfg)
        return;
    for (int i = 0; i < NKEYS; i++)
        if (keys[i].type == T_S) {
            free(*fld_s(cfg, &keys[i]));
            *fld_s(cfg, &keys[i]) = NULL;
        }
}

d1_status d1_config_init(d1_config *cfg)
{
    D1_ASSERT(cfg);
    memset(cfg, 0, sizeof *cfg);
    for (int i = 0; i < NKEYS; i++) {
        const cfg_key *k = &keys[i];
        switch (k->type) {
        case T_I:
            *fld_i(cfg, k) = k->idef;
            break;
        case T_F:
            *fld_f(cfg, k) = k->fdef;
            break;
        default:
            if (!(*fld_s(cfg, k) = dup_str(k->sdef))) {
                d1_config_fini(cfg);
                return d1_fail(D1_E_NOMEM, "config: out of memory for key '%s'", k->key);
            }
        }
    }
    return D1_OK;
}

d1_status d1_config_copy(d1_config *dst, const d1_config *src)
{
    D1_ASSERT(dst && src && dst != src);
    memcpy(dst, src, sizeof *dst);
    for (int i = 0; i < NKEYS; i++)
        if (keys[i].type == T_S)
            *fld_s(dst, &keys[i]) = NULL;
    for (int i = 0; i < NKEYS; i++)
        if (keys[i].type == T_S && !(*fld_s(dst, &keys[i]) = dup_str(get_s(src, &keys[i])))) {
            d1_config_fini(dst);
            return d1_fail(D1_E_NOMEM, "config: out of memory copying key '%s'", keys[i].key);
        }
    return D1_OK;
}

int d1_config_equal(const d1_config *a, const d1_config *b)
{
    for (int i = 0; i < NKEYS; i++) {
        const cfg_key *k = &keys[i];
        if ((k->type == T_I && get_i(a, k) != get_i(b, k)) ||
            (k->type == T_F && get_f(a, k) != get_f(b, k)) ||
            (k->type == T_S && strcmp(get_s(a, k), get_s(b, k))))
            return 0;
    }
    return 1;
}

/* ---- values <-> text ---------------------------------------------------------------- */

static int is_byte_key(const cfg_key *k)
{
    return !strcmp(k->unit, "B");
}

/* Shortest "%.Ng" that reads back to exactly v. */
static void fmt_f(double v, char *buf, size_t n)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* Text of a numeric value as dump writes it (strings are handled by callers). */
static void fmt_num(const cfg_key *k, int64_t i, double f, char *buf, size_t n)
{
    if (k->type == T_I)
        snprintf(buf, n, "%" PRId64, i);
    else
        fmt_f(f, buf, n);
}

static const struct {
    const char *sfx;
    int64_t mul;
} suffixes[] = {
    {"Ki", INT64_C(1) << 10},   {"Mi", INT64_C(1) << 20},      {"Gi", INT64_C(1) << 30},
    {"Ti", INT64_C(1) << 40},   {"k", INT64_C(1000)},          {"M", INT64_C(1000000)},
    {"G", INT64_C(1000000000)}, {"T", INT64_C(1000000000000)},
};

/* Parse a whole integer; on failure write the reason to why and return -1. */
static int parse_int(const cfg_key *k, const char *s, int64_t *out, char *why, size_t wn)
{
    const char *p = s;
    int neg = 0, base = 10, ndig = 0;
    uint64_t v = 0;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (;; p++) {
        int d;
        if (*p == '_' && ndig && isxdigit((unsigned char)p[1]))
            continue;
        if (isdigit((unsigned char)*p))
            d = *p - '0';
        else if (base == 16 && isxdigit((unsigned char)*p))
            d = tolower((unsigned char)*p) - 'a' + 10;
        else
            break;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) {
            snprintf(why, wn, "'%s' is too large", s);
            return -1;
        }
        v = v * (uint64_t)base + (uint64_t)d;
        ndig++;
    }
    if (!ndig) {
        snprintf(why, wn, "'%s' is not an integer", s);
        return -1;
    }
    uint64_t mul = 1;
    if (*p) {
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
            if (!strcmp(p, suffixes[i].sfx))
                mul = (uint64_t)suffixes[i].mul;
        if (mul == 1) {
            snprintf(why, wn, "'%s' is not an integer%s", s,
                     is_byte_key(k) ? " (size suffixes: k M G T Ki Mi Gi Ti)" : "");
            return -1;
        }
        if (!is_byte_key(k)) {
            snprintf(why, wn, "'%s': size suffixes are only accepted for byte-sized keys", s);
            return -1;
        }
    }
    if (v > (uint64_t)INT64_MAX / mul) {
        snprintf(why, wn, "'%s' is too large", s);
        return -1;
    }
    v *= mul;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* Convert text to the key's type, check its range and store it. loc prefixes messages. */
static d1_status assign(d1_config *cfg, const cfg_key *k, const char *val, int quoted,
                        const char *loc)
{
    char why[256], lo[64], hi[64];
    if (k->type == T_S) {
        char *d = dup_str(val);
        if (!d)
            return d1_fail(D1_E_NOMEM, "%s: out of memory for key '%s'", loc, k->key);
        free(*fld_s(cfg, k));
        *fld_s(cfg, k) = d;
        return D1_OK;
    }
    if (quoted)
        return d1_fail(D1_E_CONFIG,
                       "%s: key '%s': \"%s\": quotes are for strings; write the "
                       "number bare",
                       loc, k->key, val);
    if (k->type == T_I) {
        int64_t v;
        if (parse_int(k, val, &v, why, sizeof why))
            return d1_fail(D1_E_CONFIG, "%s: key '%s': %s", loc, k->key, why);
        if (v < k->imin || v > k->imax)
            return d1_fail(D1_E_CONFIG,
                           "%s: key '%s': %" PRId64 " is out of range [%" PRId64 ", %" PRId64
                           "]%s%s",
                           loc, k->key, v, k->imin, k->imax, *k->unit ? " " : "", k->unit);
        *fld_i(cfg, k) = v;
        return D1_OK;
    }
    char *end = NULL;
    errno = 0;
    double f = strtod(val, &end);
    if (end == val || *end || !isfinite(f))
        return d1_fail(D1_E_CONFIG, "%s: key '%s': '%s' is not a finite number", loc, k->key, val);
    if (f < k->fmin || f > k->fmax) {
        fmt_f(k->fmin, lo, sizeof lo);
        fmt_f(k->fmax, hi, sizeof hi);
        return d1_fail(D1_E_CONFIG, "%s: key '%s': %s is out of range [%s, %s]%s%s", loc, k->key,
                       val, lo, hi, *k->unit ? " " : "", k->unit);
    }
    *fld_f(cfg, k) = f;
    return D1_OK;
}

/* ---- the line parser ------------------------------------------------------------------ */

static int lower(int c)
{
    return tolower((unsigned char)c);
}

/* Case-insensitive Levenshtein distance (keys are short). */
static int edit_distance(const char *a, size_t la, const char *b)
{
    size_t lb = strlen(b);
    int row[128];
    if (la >= 127 || lb >= 127)
        return 1000;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (lower(a[i - 1]) != lower(b[j - 1]));
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static int contains_ci(const char *hay, const char *needle, size_t nl)
{
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && lower(hay[i]) == lower(needle[i]))
            i++;
        if (i == nl)
            return 1;
    }
    return 0;
}

/* Closest key name to an unknown one, or NULL if nothing is close. */
static const char *suggest(const char *name, size_t len)
{
    const char *best = NULL, *sub = NULL;
    int bestd = 1000, nsub = 0;
    for (int i = 0; i < NKEYS; i++) {
        int d = edit_distance(name, len, keys[i].key);
        if (d < bestd) {
            bestd = d;
            best = keys[i].key;
        }
        if (len >= 3 && contains_ci(keys[i].key, name, len)) {
            sub = keys[i].key;
            nsub++;
        }
    }
    int limit = (int)len / 3 > 2 ? (int)len / 3 : 2;
    if (bestd <= limit)
        return best;
    return nsub == 1 ? sub : NULL;
}

static int is_key_char(int c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Parse one line (text is modified). Returns D1_OK with *k == NULL for blank/comment lines.
 * seen (per key index: line number of the first assignment, 0 = none) may be NULL. */
static d1_status parse_line(d1_config *cfg, char *text, const char *loc, int lineno, int *seen)
{
    char *p = text, *e = text + strlen(text);
    while (e > p && isspace((unsigned char)e[-1]))
        *--e = '\0'; /* newline, CR, trailing blanks */
    while (isspace((unsigned char)*p))
        p++;
    if (!*p || *p == '#')
        return D1_OK;
    char *eq = p;
    while (*eq && *eq != '=' && *eq != '#')
        eq++;
    e = eq;
    while (e > p && isspace((unsigned char)e[-1]))
        e--;
    size_t klen = (size_t)(e - p);
    if (*eq != '=')
        return d1_fail(D1_E_CONFIG, "%s: missing '=' (expected 'key = value', got '%.*s')", loc,
                       (int)klen, p);
    if (!klen)
        return d1_fail(D1_E_CONFIG, "%s: missing key before '='", loc);
    for (size_t i = 0; i < klen; i++)
        if (!is_key_char(p[i]))
            return d1_fail(D1_E_CONFIG, "%s: malformed key '%.*s' (letters, digits and '_')", loc,
                           (int)klen, p);
    const cfg_key *k = find_key(p, klen);
    if (!k) {
        const char *s = suggest(p, klen);
        if (s)
            return d1_fail(D1_E_CONFIG, "%s: unknown key '%.*s' (did you mean '%s'?)", loc,
                           (int)klen, p, s);
        return d1_fail(D1_E_CONFIG, "%s: unknown key '%.*s' (list: d1 config doc)", loc, (int)klen,
                       p);
    }
    int idx = (int)(k - keys);
    if (seen && seen[idx])
        return d1_fail(D1_E_CONFIG, "%s: duplicate key '%s' (first set on line %d)", loc, k->key,
                       seen[idx]);

    char *v = eq + 1, *vend;
    int quoted = 0;
    while (isspace((unsigned char)*v))
        v++;
    if (*v == '"') {
        quoted = 1;
        v++;
        vend = strchr(v, '"');
        if (!vend)
            return d1_fail(D1_E_CONFIG, "%s: key '%s': unterminated string (missing '\"')", loc,
                           k->key);
        char *rest = vend + 1;
        while (isspace((unsigned char)*rest))
            rest++;
        if (*rest && *rest != '#')
            return d1_fail(D1_E_CONFIG, "%s: key '%s': unexpected text '%s' after the string", loc,
                           k->key, rest);
    } else {
        vend = v;
        while (*vend && *vend != '#')
            vend++;
        while (vend > v && isspace((unsigned char)vend[-1]))
            vend--;
        if (vend == v)
            return d1_fail(D1_E_CONFIG, "%s: key '%s': missing value after '='%s", loc, k->key,
                           k->type == T_S ? " (write \"\" for an empty string)" : "");
        for (char *q = v; q < vend; q++)
            if (*q == '"')
                return d1_fail(D1_E_CONFIG, "%s: key '%s': malformed value (stray '\"')", loc,
                               k->key);
    }
    *vend = '\0';
    for (char *q = v; *q; q++)
        if (iscntrl((unsigned char)*q) && *q != '\t')
            return d1_fail(D1_E_CONFIG, "%s: key '%s': control character in value", loc, k->key);
    d1_status st = assign(cfg, k, v, quoted, loc);
    if (st == D1_OK && seen)
        seen[idx] = lineno;
    return st;
}

d1_status d1_config_load_file(d1_config *cfg, const char *path)
{
    D1_ASSERT(cfg && path);
    char *text;
    size_t size;
    d1_status st = d1_file_read(path, D1_CONFIG_MAX_FILE_BYTES, D1_READ_TEXT, NULL, 0, &text,
                                &size);
    if (st)
        return st;
    d1_config tmp;
    if ((st = d1_config_copy(&tmp, cfg)))
        goto free_text;
    int seen[NKEYS];
    memset(seen, 0, sizeof seen);
    char loc[4200];
    int lineno = 0;
    for (char *line = text; line < text + size;) {
        lineno++;
        char *nl = memchr(line, '\n', (size_t)(text + size - line));
        char *end = nl ? nl : text + size;
        if (memchr(line, '\0', (size_t)(end - line))) {
            st = d1_fail(D1_E_CONFIG, "%s:%d: NUL byte in line (not a text file?)", path, lineno);
            goto fini_tmp;
        }
        *end = '\0';
        if (lineno == 1 && !strncmp(line, "\xEF\xBB\xBF", 3))
            line += 3; /* UTF-8 byte-order mark */
        snprintf(loc, sizeof loc, "%s:%d", path, lineno);
        if ((st = parse_line(&tmp, line, loc, lineno, seen)))
            goto fini_tmp;
        line = end + 1;
    }
    d1_config_fini(cfg);
    *cfg = tmp;
    free(text);
    return D1_OK;

fini_tmp:
    d1_config_fini(&tmp);
free_text:
    free(text);
    return st;
}

d1_status d1_config_set(d1_config *cfg, const char *assignment)
{
    D1_ASSERT(cfg && assignment);
    char *text = dup_str(assignment);
    char loc[300];
    if (!text)
        return d1_fail(D1_E_NOMEM, "--set: out of memory");
    snprintf(loc, sizeof loc, "--set '%.256s'", assignment);
    d1_status st;
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p || *p == '#')
        st = d1_fail(D1_E_CONFIG, "%s: expected key=value", loc);
    else
        st = parse_line(cfg, text, loc, 0, NULL);
    free(text);
    return st;
}

/* ---- harvested positions and cross-field rules ------------------------------------------ */

int d1_config_harvested(const d1_config *cfg, int (*xy)[2], int max)
{
    const char *s = cfg->harvested ? cfg->harvested : "";
    int64_t cols = cfg->mesh_cols, rows = cfg->mesh_rows;
    unsigned char *used = NULL;
    if (cols > 0 && rows > 0 && cols <= 4096 && rows <= 4096)
        used = calloc((size_t)(cols * rows), 1);
    if (!used) {
        d1_fail(D1_E_CONFIG, "harvested: mesh %" PRId64 "x%" PRId64 " is not usable", cols, rows);
        return -1;
    }
    int count = 0;
    const char *p = s;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        int tl = (int)(p - tok);
        long v[2] = {-1, -1};
        const char *q = tok;
        for (int c = 0; c < 2; c++) {
            if (!isdigit((unsigned char)*q))
                break;
            long x = 0;
            while (q < p && isdigit((unsigned char)*q) && x < 1000000)
                x = x * 10 + (*q++ - '0');
            v[c] = x;
            if (c == 0) {
                if (*q != ',') {
                    v[0] = -1;
                    break;
                }
                q++;
            }
        }
        if (v[0] < 0 || v[1] < 0 || q != p) {
            d1_fail(D1_E_CONFIG,
                    "harvested: '%.*s' is not a position 'x,y' (expected "
                    "e.g. \"3,2 14,5\")",
                    tl, tok);
            count = -1;
            break;
        }
        if (v[0] >= cols || v[1] >= rows) {
            d1_fail(D1_E_CONFIG,
                    "harvested: position %.*s is outside the %" PRId64 "x%" PRId64
                    " mesh (x < mesh_cols, y < mesh_rows)",
                    tl, tok, cols, rows);
            count = -1;
            break;
        }
        if (used[v[1] * cols + v[0]]++) {
            d1_fail(D1_E_CONFIG, "harvested: position %.*s is listed twice", tl, tok);
            count = -1;
            break;
        }
        if (count < max && xy) {
            xy[count][0] = (int)v[0];
            xy[count][1] = (int)v[1];
        }
        count++;
    }
    free(used);
    return count;
}

/* The usable (not harvested) nodes of a chip must form one 4-connected region, or routing
 * between some of them is impossible. */
static d1_status rule_harvested(const d1_config *c)
{
    int64_t cols = c->mesh_cols, rows = c->mesh_rows, cells = cols * rows;
    int n = d1_config_harvested(c, NULL, 0);
    if (n < 0)
        return D1_E_CONFIG;
    if (n >= cells)
        return d1_fail(D1_E_CONFIG,
                       "harvested: all %" PRId64 " node positions of the %" PRId64 "x%" PRId64
                       " mesh are harvested; at least one must be usable",
                       cells, cols, rows);
    if (!n)
        return D1_OK;
    int(*xy)[2] = malloc((size_t)n * sizeof *xy);
    unsigned char *state = calloc((size_t)cells, 1); /* 1 harvested, 2 reached */
    int32_t *queue = malloc((size_t)cells * sizeof *queue);
    d1_status st = D1_OK;
    if (!xy || !state || !queue) {
        st = d1_fail(D1_E_NOMEM, "harvested: out of memory");
        goto out;
    }
    d1_config_harvested(c, xy, n);
    for (int i = 0; i < n; i++)
        state[xy[i][1] * cols + xy[i][0]] = 1;
    int64_t start = 0, head = 0, tail = 0;
    while (state[start])
        start++;
    state[start] = 2;
    queue[tail++] = (int32_t)start;
    while (head < tail) {
        int64_t id = queue[head++], x = id % cols, y = id / cols;
        int64_t nb[4][2] = {{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}};
        for (int d = 0; d < 4; d++) {
            if (nb[d][0] < 0 || nb[d][0] >= cols || nb[d][1] < 0 || nb[d][1] >= rows)
                continue;
            int64_t j = nb[d][1] * cols + nb[d][0];
            if (!state[j]) {
                state[j] = 2;
                queue[tail++] = (int32_t)j;
            }
        }
    }
    if (tail != cells - n) {
        int64_t j = 0;
        while (state[j])
            j++;
        st = d1_fail(D1_E_CONFIG,
                     "harvested: the positions cut the mesh in pieces (node %" PRId64 ",%" PRId64
                     " cannot reach node %" PRId64 ",%" PRId64 ")",
                     j % cols, j / cols, start % cols, start / cols);
    }
out:
    free(queue);
    free(state);
    free(xy);
    return st;
}

static d1_status rule_link_width(const d1_config *c)
{
    if (c->link_bytes_per_cyc % c->flit_bytes)
        return d1_fail(D1_E_CONFIG,
                       "link_bytes_per_cyc (%" PRId64 ") must be a multiple of "
                       "flit_bytes (%" PRId64 ")",
                       c->link_bytes_per_cyc, c->flit_bytes);
    return D1_OK;
}

static d1_status rule_router_ports(const d1_config *c)
{
    if (c->router_in_bytes_per_cyc < c->flit_bytes)
        return d1_fail(D1_E_CONFIG,
                       "router_in_bytes_per_cyc (%" PRId64 ") must be at least "
                       "flit_bytes (%" PRId64 ")",
                       c->router_in_bytes_per_cyc, c->flit_bytes);
    if (c->router_out_bytes_per_cyc < c->flit_bytes)
        return d1_fail(D1_E_CONFIG,
                       "router_out_bytes_per_cyc (%" PRId64 ") must be at least "
                       "flit_bytes (%" PRId64 ")",
                       c->router_out_bytes_per_cyc, c->flit_bytes);
    return D1_OK;
}

static d1_status rule_sram_flits(const d1_config *c)
{
    if (c->sram_bytes % c->flit_bytes)
        return d1_fail(D1_E_CONFIG,
                       "sram_bytes (%" PRId64 ") must be a multiple of flit_bytes "
                       "(%" PRId64 ")",
                       c->sram_bytes, c->flit_bytes);
    return D1_OK;
}

static d1_status rule_vcs(const d1_config *c)
{
    int n = d1_config_harvested(c, NULL, 0);
    if (n < 0)
        return D1_E_CONFIG;
    if (n > 0 && c->noc_vcs < 2)
        return d1_fail(D1_E_CONFIG,
                       "noc_vcs (%" PRId64 ") must be at least 2 when nodes are "
                       "harvested (%d listed): detours need an escape channel",
                       c->noc_vcs, n);
    return D1_OK;
}

static d1_status rule_decode_threads(const d1_config *c)
{
    if (c->decode_threads > c->node_threads)
        return d1_fail(D1_E_CONFIG,
                       "decode_threads (%" PRId64 ") must not exceed node_threads "
                       "(%" PRId64 ")",
                       c->decode_threads, c->node_threads);
    return D1_OK;
}

static d1_status rule_window(const d1_config *c)
{
    int64_t lat =
        c->serdes_lat_cyc < c->tile_link_lat_cyc ? c->serdes_lat_cyc : c->tile_link_lat_cyc;
    if (c->window_cyc > lat)
        return d1_fail(D1_E_CONFIG,
                       "window_cyc (%" PRId64 ") must not exceed the smallest "
                       "cross-chip latency min(serdes_lat_cyc, tile_link_lat_cyc) = %" PRId64
                       " (0 picks it)",
                       c->window_cyc, lat);
    return D1_OK;
}

static d1_status rule_dip_edges(const d1_config *c)
{
    const char *s = c->dip_edges ? c->dip_edges : "";
    for (const char *p = s; *p; p++) {
        if (!strchr("nsew", *p))
            return d1_fail(D1_E_CONFIG,
                           "dip_edges: '%c' in \"%s\" is not one of n, s, e, w "
                           "(write e.g. \"w\" or \"ns\")",
                           *p, s);
        if (strchr(p + 1, *p))
            return d1_fail(D1_E_CONFIG, "dip_edges: '%c' appears twice in \"%s\"", *p, s);
    }
    return D1_OK;
}

static d1_status rule_watchdog(const d1_config *c)
{
    static const struct {
        const char *name;
        size_t off;
    } lats[] = {
        {"serdes_lat_cyc", offsetof(d1_config, serdes_lat_cyc)},
        {"tile_link_lat_cyc", offsetof(d1_config, tile_link_lat_cyc)},
        {"hbm_lat_cyc", offsetof(d1_config, hbm_lat_cyc)},
        {"pcie_lat_cyc", offsetof(d1_config, pcie_lat_cyc)},
        {"dip_eth_lat_cyc", offsetof(d1_config, dip_eth_lat_cyc)},
        {"lat_vlong", offsetof(d1_config, lat_vlong)},
    };
    for (size_t i = 0; i < sizeof lats / sizeof lats[0]; i++) {
        int64_t v = *(const int64_t *)((const char *)c + lats[i].off);
        if (c->watchdog_cyc <= v)
            return d1_fail(D1_E_CONFIG,
                           "watchdog_cyc (%" PRId64 ") must exceed %s (%" PRId64
                           "), or a waiting node looks deadlocked",
                           c->watchdog_cyc, lats[i].name, v);
    }
    return D1_OK;
}

static d1_status rule_node_count(const d1_config *c)
{
    /* Every factor is range-limited, so this product cannot overflow int64. */
    int64_t n =
        c->tiles_x * c->tiles_y * c->tile_chips_x * c->tile_chips_y * c->mesh_cols * c->mesh_rows;
    if (n > INT32_MAX)
        return d1_fail(D1_E_CONFIG,
                       "the system has %" PRId64 " node positions (tiles_x * "
                       "tiles_y * tile_chips_x * tile_chips_y * mesh_cols * mesh_rows); at most "
                       "%d fit a 32-bit node id",
                       n, INT32_MAX);
    return D1_OK;
}

/* Cross-field rules, in the order they are checked; the doc lists them from here. */
static const struct {
    d1_status (*check)(const d1_config *);
    const char *doc;
} rules[] = {
    {rule_harvested, "`harvested` is a whitespace-separated list of `x,y` positions inside "
                     "the `mesh_cols` x `mesh_rows` mesh, none repeated; at least one node "
                     "stays usable and the usable nodes form one connected region"},
    {rule_vcs, "`noc_vcs` >= 2 when any position is harvested (detours need an escape "
               "channel)"},
    {rule_link_width, "`link_bytes_per_cyc` is a multiple of `flit_bytes`"},
    {rule_router_ports, "`router_in_bytes_per_cyc` and `router_out_bytes_per_cyc` are at least "
                        "`flit_bytes`"},
    {rule_sram_flits, "`sram_bytes` is a multiple of `flit_bytes`"},
    {rule_decode_threads, "`decode_threads` <= `node_threads`"},
    {rule_window, "`window_cyc` <= min(`serdes_lat_cyc`, `tile_link_lat_cyc`): the parallel "
                  "window never exceeds the smallest cross-chip latency"},
    {rule_dip_edges, "`dip_edges` is a subset of `nsew`, each letter at most once (\"\" = no "
                     "DIPs)"},
    {rule_watchdog, "`watchdog_cyc` exceeds every latency a node can wait on (`serdes_lat_cyc`, "
                    "`tile_link_lat_cyc`, `hbm_lat_cyc`, `pcie_lat_cyc`, `dip_eth_lat_cyc`, "
                    "`lat_vlong`)"},
    {rule_node_count, "the whole system has at most 2^31-1 node positions (32-bit node ids)"},
};

d1_status d1_config_validate(const d1_config *cfg)
{
    D1_ASSERT(cfg);
    char lo[64], hi[64], v[64];
    /* Ranges again: code may have filled the struct without the parser. */
    for (int i = 0; i < NKEYS; i++) {
        const cfg_key *k = &keys[i];
        if (k->type == T_I && (get_i(cfg, k) < k->imin || get_i(cfg, k) > k->imax))
            return d1_fail(D1_E_CONFIG,
                           "key '%s': %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                           k->key, get_i(cfg, k), k->imin, k->imax);
        if (k->type == T_F && !(get_f(cfg, k) >= k->fmin && get_f(cfg, k) <= k->fmax)) {
            fmt_f(get_f(cfg, k), v, sizeof v);
            fmt_f(k->fmin, lo, sizeof lo);
            fmt_f(k->fmax, hi, sizeof hi);
            return d1_fail(D1_E_CONFIG, "key '%s': %s is out of range [%s, %s]", k->key, v, lo, hi);
        }
        if (k->type == T_S && strchr(get_s(cfg, k), '"'))
            return d1_fail(D1_E_CONFIG, "key '%s': strings may not contain '\"'", k->key);
    }
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        d1_status st = rules[i].check(cfg);
        if (st)
            return st;
    }
    return D1_OK;
}

/* ---- dump, hash, doc -------------------------------------------------------------------- */

static void fnv(uint64_t *h, const char *s)
{
    for (; *s; s++) {
        *h ^= (unsigned char)*s;
        *h *= UINT64_C(0x100000001b3);
    }
}

/* FNV-1a 64 over `key=value\n` for every key in table order, values as dump writes them. */
uint64_t d1_config_hash(const d1_config *cfg)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    char buf[64];
    for (int i = 0; i < NKEYS; i++) {
        const cfg_key *k = &keys[i];
        fnv(&h, k->key);
        fnv(&h, "=");
        if (k->type == T_S) {
            fnv(&h, "\"");
            fnv(&h, get_s(cfg, k));
            fnv(&h, "\"");
        } else {
            fmt_num(k, k->type == T_I ? get_i(cfg, k) : 0, k->type == T_F ? get_f(cfg, k) : 0, buf,
                    sizeof buf);
            fnv(&h, buf);
        }
        fnv(&h, "\n");
    }
    return h;
}

void d1_config_dump(const d1_config *cfg, FILE *out)
{
    int w = 0;
    char buf[64];
    for (int i = 0; i < NKEYS; i++)
        if ((int)strlen(keys[i].key) > w)
            w = (int)strlen(keys[i].key);
    fprintf(out,
            "# d1 architecture configuration: %d keys, hash 0x%016" PRIx64 "\n"
            "# A valid config file (--config FILE). Reference: doc/config.md\n",
            NKEYS, d1_config_hash(cfg));
    for (int i = 0; i < NKEYS; i++) {
        const cfg_key *k = &keys[i];
        if (k->type == T_S) {
            fprintf(out, "%-*s = \"%s\"", w, k->key, get_s(cfg, k));
        } else {
            fmt_num(k, k->type == T_I ? get_i(cfg, k) : 0, k->type == T_F ? get_f(cfg, k) : 0, buf,
                    sizeof buf);
            fprintf(out, "%-*s = %s", w, k->key, buf);
        }
        fprintf(out, "  # %s%s[%s]\n", k->unit, *k->unit ? " " : "", k->tag);
    }
}

/* Markdown-safe copy of a table cell ('|' escaped). */
static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s, out);
    }
}

/* " (1.25 MiB)" for byte keys that are a whole number of KiB. */
static void md_bytes_hint(FILE *out, const cfg_key *k, int64_t v)
{
    static const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (!is_byte_key(k) || v < 1024 || v % 1024)
        return;
    double x = (double)v / 1024;
    int u = 0;
    while (x >= 1024 && u < 3) {
        x /= 1024;
        u++;
    }
    fprintf(out, " (%g %s)", x, units[u]);
}

void d1_config_write_doc(FILE *out)
{
    char a[64], b[64];
    fprintf(
        out,
        "# Architecture configuration reference\n"
        "\n"
        "<!-- Generated from sim/arch/config.def by `d1 config doc`; do not edit by hand.\n"
        "     Regenerate: <builddir>/examples/d1 config doc > doc/config.md -->\n"
        "\n"
        "Every parameter of the simulated machine is one row of `sim/arch/config.def`; this\n"
        "page is generated from that table, so it lists every key there is. Defaults describe\n"
        "one D1 chip in a 5x5 training tile (figures and sources: D1-FACTS.md in the design\n"
        "notes).\n"
        "\n"
        "A configuration starts from the defaults below, then applies config files\n"
        "(`--config FILE`) and `--set key=value` overrides in the order given; the last value\n"
        "wins. `d1 config dump` prints the effective configuration as a valid config file;\n"
        "`d1 config check FILE` validates one. Unknown keys are errors, never ignored.\n"
        "\n"
        "## Tags: where a default comes from\n"
        "\n"
        "- **P** published by Tesla (Hot Chips 34, AI Day 2021/2022, CFloat white paper).\n"
        "- **D** derived by arithmetic from published figures (e.g. GB/s divided by the\n"
        "  2 GHz clock to get bytes per cycle).\n"
        "- **A** an assumption of ours: nothing was published. A values are knobs to vary,\n"
        "  not facts: when a result depends on one, sweep it and report the range.\n"
        "\n"
        "Bandwidths and latencies are per node clock cycle. They were derived at the default\n"
        "2 GHz; changing `clock_mhz` does not rescale them.\n"
        "\n"
        "## File format\n"
        "\n"
        "```\n"
        "# a comment, from '#' to the end of the line\n"
        "mesh_cols = 18\n"
        "sram_bytes = 1280Ki          # 1.25 MiB\n"
        "harvested = \"3,2 14,5\"       # strings may be quoted\n"
        "dip_edges = ew\n"
        "```\n"
        "\n"
        "- One `key = value` per line; blank lines and whitespace around tokens are ignored.\n"
        "  A key may appear only once per file.\n"
        "- Integers: decimal or `0x` hex, optional sign, `_` between digits allowed (no octal:\n"
        "  `010` is ten). Keys whose unit is `B` also accept the suffixes `k M G T` (powers of\n"
        "  1000) and `Ki Mi Gi Ti` (powers of 1024).\n"
        "- Real numbers: decimal or exponent notation, finite.\n"
        "- Strings: `\"quoted\"` (may contain `#`) or bare (up to `#` or the end of the line,\n"
        "  trimmed); `\"\"` is the empty string. A string cannot contain `\"`.\n"
        "- Errors (exit status 1, message `FILE:LINE: ...` naming the key): unknown key (the\n"
        "  closest key is suggested), malformed value, value out of range (the range is\n"
        "  printed), duplicate key, missing `=`; an unreadable file is an I/O error.\n"
        "\n"
        "## Keys\n"
        "\n"
        "| key | default | range | unit | tag | description |\n"
        "|---|---|---|---|---|---|\n");
    for (int i = 0; i < NKEYS; i++) {
        const cfg_key *k = &keys[i];
        fprintf(out, "| `%s` | ", k->key);
        if (k->type == T_S) {
            fputc('`', out);
            fputc('"', out);
            md_cell(out, k->sdef);
            fputs("\"` | string | ", out);
        } else {
            fmt_num(k, k->idef, k->fdef, a, sizeof a);
            fputs(a, out);
            if (k->type == T_I)
                md_bytes_hint(out, k, k->idef);
            fmt_num(k, k->imin, k->fmin, a, sizeof a);
            fmt_num(k, k->imax, k->fmax, b, sizeof b);
            fprintf(out, " | %s .. %s | ", a, b);
        }
        md_cell(out, k->unit);
        fprintf(out, " | %s | ", k->tag);
        md_cell(out, k->doc);
        fputs(" |\n", out);
    }
    fprintf(out, "\n## Consistency rules\n\n"
                 "Checked after every file and override is applied (`d1 config check`); a\n"
                 "violation is a configuration error naming the keys involved.\n\n");
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        fprintf(out, "- %s.\n", rules[i].doc);
}
