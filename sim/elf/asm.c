/* The assembler. Pass 1 sizes every statement and defines labels, programs, placements and
 * data images; pass 2 evaluates operands and emits through the kernel emitter (emit.h).
 * Instructions are parsed from the per-format operand table of isa.c, directives and
 * pseudo-instructions from the tables below: no per-instruction code. */
#include "asm.h"

#include "sim/arch/file.h"
#include "sim/arch/formats.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPNDS 64 /* operands of one statement (data lists) */
#define LI_MAX 8     /* words of the longest li expansion */

/* ---- state --------------------------------------------------------------------------- */

enum { SYM_EQU, SYM_CODE, SYM_DATA };

typedef struct sym {
    char *name;
    int kind;
    int prog; /* -1 for .equ */
    uint32_t image; /* SYM_DATA: image ordinal */
    int64_t value;
    int line;
    size_t next; /* next symbol of the same hash bucket, or NO_SYM */
} sym;

#define NO_SYM ((size_t)-1)

typedef struct prog {
    char *name;
    int line;
    uint32_t kidx;
    uint64_t pc; /* bytes emitted so far in this pass */
    char *entry; /* label of .entry, or NULL */
    int entry_line;
} prog;

typedef struct range {
    uint32_t first, last; /* last may be D1S_NODE_LAST */
} range;

typedef struct group { /* one .place */
    int prog;
    int line;
    range *r;
    size_t n;
} group;

typedef struct image {
    int prog;
    int group; /* -1: shared by every placement of the program */
    uint64_t addr, size;
    int line;
    uint32_t kidx;
} image;

typedef struct asm_ctx {
    const char *file;
    int line;
    int pass;
    const d1s_target *t;
    d1s_kernel *k; /* pass 2 */
    sym *syms;
    size_t n_syms, cap_syms;
    size_t *buckets; /* hash of the name -> first symbol of the chain, or NO_SYM */
    size_t n_buckets; /* a power of two >= n_syms, or 0 */
    prog *progs;
    size_t n_progs, cap_progs;
    group *groups;
    size_t n_groups, cap_groups;
    image *images;
    size_t n_images, cap_images;
    /* walk position, reset at the start of each pass */
    int cur;        /* program ordinal, -1 before the first .program */
    int cur_group;  /* last .place of the current program, -1 none */
    int cur_image;  /* image being filled, -1 = code mode */
    size_t prog_ord, group_ord, image_ord;
    /* single-instruction mode (d1s_asm_insn) */
    int single;
    uint64_t single_pc;
    uint32_t single_word;
} asm_ctx;

static d1_status err(asm_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static d1_status err(asm_ctx *c, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->single)
        return d1_fail(D1_E_ASM, "%s", msg);
    return d1_fail(D1_E_ASM, "%s:%d: %s", c->file, c->line, msg);
}

static d1_status grow(asm_ctx *c, void **arr, size_t *cap, size_t need, size_t elem)
{
    (void)c;
    if (need <= *cap)
        return D1_OK;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return d1_fail(D1_E_NOMEM, "assembler: out of memory");
    *arr = p;
    *cap = ncap;
    return D1_OK;
}

static void ctx_free(asm_ctx *c)
{
    for (size_t i = 0; i < c->n_syms; i++)
        free(c->syms[i].name);
    for (size_t i = 0; i < c->n_progs; i++) {
        free(c->progs[i].name);
        free(c->progs[i].entry);
    }
    for (size_t i = 0; i < c->n_groups; i++)
        free(c->groups[i].r);
    free(c->syms);
    free(c->buckets);
    free(c->progs);
    free(c->groups);
    free(c->images);
}

/* ---- small text helpers ------------------------------------------------------------------ */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int is_ident_start(int ch)
{
    return isalpha(ch) || ch == '_';
}

static int is_ident_char(int ch)
{
    return isalnum(ch) || ch == '_' || ch == '.';
}

static int is_ident(const char *s)
{
    if (!is_ident_start((unsigned char)*s))
        return 0;
    for (s++; *s; s++)
        if (!is_ident_char((unsigned char)*s))
            return 0;
    return 1;
}

/* Register token: class letter + number in range. Returns the number or -1. */
static int parse_reg(const char *s, d1_opnd_kind kind)
{
    static const char prefix[] = {[D1_OPND_XREG] = 'x', [D1_OPND_VREG] = 'v',
                                  [D1_OPND_MREG] = 'm', [D1_OPND_SREG] = 's'};
    int limit = kind == D1_OPND_MREG ? D1_MREGS : 32;
    if (s[0] != prefix[kind] || !isdigit((unsigned char)s[1]))
        return -1;
    if (s[1] == '0' && s[2])
        return -1;
    int v = 0;
    for (const char *p = s + 1; *p; p++) {
        if (!isdigit((unsigned char)*p) || v > 100)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v < limit ? v : -1;
}

static int looks_like_reg(const char *s)
{
    if (!strchr("xvms", s[0]) || !s[1])
        return 0;
    for (const char *p = s + 1; *p; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    return 1;
}

static const char *reg_class_name(d1_opnd_kind k)
{
    switch (k) {
    case D1_OPND_XREG: return "a scalar register x0..x31";
    case D1_OPND_VREG: return "a vector register v0..v31";
    case D1_OPND_MREG: return "an accumulator m0..m7";
    case D1_OPND_SREG: return "a semaphore s0..s31";
    default: return "?";
    }
}

/* ---- symbols ------------------------------------------------------------------------- */

static size_t name_hash(const char *name)
{
    size_t h = 5381;
    for (; *name; name++)
        h = h * 33 + (unsigned char)*name;
    return h;
}

/* The symbol `name` visible from program prog_ord (a .equ or a label of that program);
 * with clash, also a label of any program when prog_ord is -1 (a new .equ may share its
 * name with nothing; labels of different programs may share one). */
static sym *lookup_sym(asm_ctx *c, const char *name, int prog_ord, int clash)
{
    if (!c->n_buckets)
        return NULL;
    for (size_t i = c->buckets[name_hash(name) & (c->n_buckets - 1)]; i != NO_SYM;
         i = c->syms[i].next) {
        sym *s = &c->syms[i];
        if ((s->prog == -1 || s->prog == prog_ord || (clash && prog_ord == -1)) &&
            !strcmp(s->name, name))
            return s;
    }
    return NULL;
}

static sym *find_sym(asm_ctx *c, const char *name, int prog_ord)
{
    return lookup_sym(c, name, prog_ord, 0);
}

/* Append a symbol and index it (the bucket array doubles with the symbol count). */
static d1_status add_sym(asm_ctx *c, sym sy)
{
    d1_status s = grow(c, (void **)&c->syms, &c->cap_syms, c->n_syms + 1, sizeof *c->syms);
    if (s)
        return s;
    c->syms[c->n_syms++] = sy;
    if (c->n_syms > c->n_buckets) {
        size_t nb = c->n_buckets ? c->n_buckets * 2 : 256;
        size_t *b = malloc(nb * sizeof *b);
        if (!b) {
            c->n_syms--;
            return d1_fail(D1_E_NOMEM, "assembler: out of memory");
        }
        free(c->buckets);
        c->buckets = b;
        c->n_buckets = nb;
        for (size_t i = 0; i < nb; i++)
            b[i] = NO_SYM;
        for (size_t i = 0; i < c->n_syms; i++) {
            size_t h = name_hash(c->syms[i].name) & (nb - 1);
            c->syms[i].next = b[h];
            b[h] = i;
        }
    } else {
        size_t h = name_hash(sy.name) & (c->n_buckets - 1);
        c->syms[c->n_syms - 1].next = c->buckets[h];
        c->buckets[h] = c->n_syms - 1;
    }
    return D1_OK;
}

static d1_status define_sym(asm_ctx *c, const char *name, int kind, int64_t value)
{
    if (!is_ident(name))
        return err(c, "bad symbol name '%s'", name);
    if (looks_like_reg(name) || d1_csr_from_name(name) >= 0)
        return err(c, "'%s' is a register or CSR name and cannot be a symbol", name);
    int prog_ord = kind == SYM_EQU ? -1 : c->cur;
    sym *old = lookup_sym(c, name, prog_ord, 1);
    if (c->pass == 2) {
        /* labels were defined in pass 1: their values must not have moved */
        D1_ASSERT(old && old->value == value);
        return D1_OK;
    }
    if (old)
        return err(c, "duplicate symbol '%s' (first defined at line %d)", name, old->line);
    char *copy = strdup(name);
    if (!copy)
        return d1_fail(D1_E_NOMEM, "assembler: out of memory");
    d1_status s = add_sym(c, (sym){copy, kind, prog_ord,
                                   c->cur_image >= 0 ? (uint32_t)c->cur_image : 0, value,
                                   c->line, NO_SYM});
    if (s)
        free(copy);
    return s;
}

/* ---- expressions ----------------------------------------------------------------------- */

typedef struct expr {
    asm_ctx *c;
    const char *p;
    int unknown; /* an undefined symbol was met (pass 1 tolerates it) */
    const char *undefined;
    size_t undefined_len;
    int depth; /* nesting of parentheses and unary operators */
} expr;

#define EX_MAX_DEPTH 200

static d1_status ex_or(expr *e, int64_t *v);

static void ex_ws(expr *e)
{
    while (isspace((unsigned char)*e->p))
        e->p++;
}

static d1_status ex_number(expr *e, int64_t *v)
{
    const char *s = e->p;
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
        base = 2, s += 2;
    uint64_t acc = 0;
    const char *start = s;
    for (;; s++) {
        int d;
        if (isdigit((unsigned char)*s))
            d = *s - '0';
        else if (isxdigit((unsigned char)*s) && base == 16)
            d = tolower((unsigned char)*s) - 'a' + 10;
        else if (*s == '_' && s != start)
            continue;
        else
            break;
        if (d >= base)
            return err(e->c, "bad digit '%c' in number", *s);
        if (acc > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return err(e->c, "number too large");
        acc = acc * (uint64_t)base + (uint64_t)d;
    }
    if (s == start || is_ident_char((unsigned char)*s))
        return err(e->c, "malformed number '%.*s'", (int)strcspn(e->p, " \t,()+-*/"), e->p);
    e->p = s;
    *v = (int64_t)acc;
    return D1_OK;
}

static d1_status ex_primary(expr *e, int64_t *v);

/* ex_primary one level deeper (parentheses, unary operators), with a bounded depth so that
 * no source can overflow the C stack. */
static d1_status ex_nested(expr *e, int paren, int64_t *v)
{
    if (e->depth >= EX_MAX_DEPTH)
        return err(e->c, "expression nested more than %d deep", EX_MAX_DEPTH);
    e->depth++;
    d1_status s = paren ? ex_or(e, v) : ex_primary(e, v);
    e->depth--;
    return s;
}

static d1_status ex_primary(expr *e, int64_t *v)
{
    ex_ws(e);
    char ch = *e->p;
    if (ch == '(') {
        e->p++;
        d1_status s = ex_nested(e, 1, v);
        if (s)
            return s;
        ex_ws(e);
        if (*e->p != ')')
            return err(e->c, "missing ')' in expression");
        e->p++;
        return D1_OK;
    }
    if (ch == '-' || ch == '+' || ch == '~') {
        e->p++;
        d1_status s = ex_nested(e, 0, v);
        if (s)
            return s;
        if (ch == '-')
            *v = (int64_t)(0 - (uint64_t)*v);
        else if (ch == '~')
            *v = ~*v;
        return D1_OK;
    }
    if (isdigit((unsigned char)ch))
        return ex_number(e, v);
    if (is_ident_start((unsigned char)ch)) {
        const char *start = e->p;
        while (is_ident_char((unsigned char)*e->p))
            e->p++;
        char name[256];
        size_t n = (size_t)(e->p - start);
        if (n >= sizeof name)
            return err(e->c, "symbol name too long");
        memcpy(name, start, n);
        name[n] = '\0';
        sym *s = e->c->single ? NULL : find_sym(e->c, name, e->c->cur);
        if (s) {
            *v = s->value;
            return D1_OK;
        }
        if (!e->unknown) {
            e->undefined = start;
            e->undefined_len = n;
        }
        e->unknown = 1;
        *v = 0;
        return D1_OK;
    }
    if (!ch)
        return err(e->c, "missing value");
    return err(e->c, "unexpected '%c' in expression", ch);
}

typedef struct binop {
    const char *tok;
    int level;
} binop;

/* Precedence levels, loosest first: | ^ & shifts additive multiplicative. */
static const binop binops[] = {{"|", 0},  {"^", 1},  {"&", 2}, {"<<", 3}, {">>", 3},
                               {"+", 4},  {"-", 4},  {"*", 5}, {"/", 5},  {"%", 5}};
#define EX_LEVELS 6

static d1_status ex_level(expr *e, int level, int64_t *v)
{
    if (level == EX_LEVELS)
        return ex_primary(e, v);
    d1_status s = ex_level(e, level + 1, v);
    if (s)
        return s;
    for (;;) {
        ex_ws(e);
        const binop *op = NULL;
        for (size_t i = 0; i < sizeof binops / sizeof binops[0]; i++)
            if (binops[i].level == level && !strncmp(e->p, binops[i].tok, strlen(binops[i].tok)))
                op = &binops[i];
        if (!op)
            return D1_OK;
        e->p += strlen(op->tok);
        int64_t r;
        if ((s = ex_level(e, level + 1, &r)))
            return s;
        uint64_t a = (uint64_t)*v, b = (uint64_t)r;
        switch (op->tok[0]) {
        case '|': *v = (int64_t)(a | b); break;
        case '^': *v = (int64_t)(a ^ b); break;
        case '&': *v = (int64_t)(a & b); break;
        case '<': *v = r < 0 || r > 63 ? 0 : (int64_t)(a << r); break;
        case '>': *v = r < 0 || r > 63 ? (*v < 0 ? -1 : 0) : *v >> r; break;
        case '+': *v = (int64_t)(a + b); break;
        case '-': *v = (int64_t)(a - b); break;
        case '*': *v = (int64_t)(a * b); break;
        case '/':
        case '%':
            if (r == 0) {
                if (e->unknown)
                    return D1_OK;
                return err(e->c, "division by zero");
            }
            if (*v == INT64_MIN && r == -1)
                *v = op->tok[0] == '/' ? INT64_MIN : 0;
            else
                *v = op->tok[0] == '/' ? *v / r : *v % r;
            break;
        }
    }
}

static d1_status ex_or(expr *e, int64_t *v)
{
    return ex_level(e, 0, v);
}

/* Evaluate text. *known = 0 when it uses a symbol not (yet) defined: an error in pass 2
 * (and whenever known is NULL). */
static d1_status eval(asm_ctx *c, const char *text, int64_t *v, int *known)
{
    expr e = {.c = c, .p = text};
    d1_status s = ex_or(&e, v);
    if (s)
        return s;
    ex_ws(&e);
    if (*e.p)
        return err(c, "unexpected '%s' after expression", e.p);
    if (e.unknown) {
        if (known && c->pass == 1) {
            *known = 0;
            return D1_OK;
        }
        return err(c, "undefined symbol '%.*s'", (int)e.undefined_len, e.undefined);
    }
    if (known)
        *known = 1;
    return D1_OK;
}

/* ---- suggestions ------------------------------------------------------------------------ */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 31 || lb > 31)
        return 99;
    size_t d[32][32];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

/* ---- pseudo-instructions and directives (tables) ----------------------------------------- */

typedef struct stmt {
    char *opnd[MAX_OPNDS];
    int n;
    const char *mnem;
} stmt;

typedef d1_status (*handler)(asm_ctx *c, stmt *st);

typedef struct pseudo {
    const char *name;
    const char *syntax;
    int n_opnds;
    const char *expansion;
    handler fn;
} pseudo;

typedef struct directive {
    const char *name;
    const char *syntax;
    const char *doc;
    handler fn;
} directive;

static d1_status pseudo_li(asm_ctx *c, stmt *st);
static d1_status pseudo_la(asm_ctx *c, stmt *st);
static d1_status pseudo_simple(asm_ctx *c, stmt *st);

static const pseudo pseudos[] = {
    {"li", "rd, imm", 2,
     "`addi rd, x0, imm` if imm fits 14 bits signed; else `lui` + `ori` (32-bit), "
     "extended by `slli rd, rd, 14` + `ori` steps for 64-bit values (at most 8 words; imm "
     "must be known when the line is reached)",
     pseudo_li},
    {"la", "rd, label", 2,
     "`lui rd, hi` + `ori rd, rd, lo` (always 2 words): a code label's byte offset or a data "
     "label's SRAM address",
     pseudo_la},
    {"mv", "rd, rs", 2, "`addi rd, rs, 0`", pseudo_simple},
    {"j", "label", 1, "`jal x0, label`", pseudo_simple},
    {"call", "label", 1, "`jal x1, label`", pseudo_simple},
    {"ret", "", 0, "`jalr x0, x1, 0`", pseudo_simple},
    {"beqz", "rs, label", 2, "`beq rs, x0, label`", pseudo_simple},
    {"bnez", "rs, label", 2, "`bne rs, x0, label`", pseudo_simple},
};

static d1_status dir_program(asm_ctx *c, stmt *st);
static d1_status dir_entry(asm_ctx *c, stmt *st);
static d1_status dir_place(asm_ctx *c, stmt *st);
static d1_status dir_data(asm_ctx *c, stmt *st);
static d1_status dir_text(asm_ctx *c, stmt *st);
static d1_status dir_int(asm_ctx *c, stmt *st);
static d1_status dir_float(asm_ctx *c, stmt *st);
static d1_status dir_zero(asm_ctx *c, stmt *st);
static d1_status dir_align(asm_ctx *c, stmt *st);
static d1_status dir_equ(asm_ctx *c, stmt *st);

static const directive directives[] = {
    {".program", "NAME", "start program NAME (a code section; labels are scoped to it)",
     dir_program},
    {".entry", "label", "entry point of the current program (default: its first instruction)",
     dir_entry},
    {".place", "NODES", "place the current program on NODES: `all`, `5`, `0-353`, `0-9,20`; "
                        "each node at most once in the kernel",
     dir_place},
    {".data", "ADDR", "following data goes to SRAM address ADDR (a new image) for the nodes "
                      "of the current placement (before any `.place`: of all the program's "
                      "placements)",
     dir_data},
    {".text", "", "back to the current program's code", dir_text},
    {".byte", "v, ...", "8-bit values (-128..255)", dir_int},
    {".half", "v, ...", "16-bit little-endian values", dir_int},
    {".word", "v, ...", "32-bit values; in code: raw instruction words (must decode)", dir_int},
    {".dword", "v, ...", "64-bit values", dir_int},
    {".float", "f, ...", "FP32 values (decimal floating-point literals)", dir_float},
    {".bf16", "f, ...", "BF16 values (rounded to nearest even from the literal's FP32)",
     dir_float},
    {".zero", "N", "N zero bytes", dir_zero},
    {".align", "N", "pad to a multiple of N bytes (power of two): zeros in data, nops in code",
     dir_align},
    {".equ", "NAME, VALUE", "define constant NAME (global, must be defined before use in "
                            "sizes and addresses)",
     dir_equ},
};

/* ---- emission ----------------------------------------------------------------------------- */

static d1_status need_program(asm_ctx *c, const char *what)
{
    if (c->cur < 0)
        return err(c, "%s before any .program", what);
    return D1_OK;
}

/* Account for / emit one instruction in the current program. */
static d1_status emit_insn(asm_ctx *c, const d1_insn *in)
{
    if (c->single) {
        d1_status s = d1_insn_encode(in, &c->single_word);
        if (s) {
            char why[400];
            snprintf(why, sizeof why, "%s", d1_last_error());
            return err(c, "%s", why);
        }
        return D1_OK;
    }
    prog *p = &c->progs[c->cur];
    if (c->pass == 2) {
        d1_status s = d1s_kernel_emit(c->k, p->kidx, in);
        if (s) {
            if (s == D1_E_NOMEM)
                return s;
            char why[400];
            snprintf(why, sizeof why, "%s", d1_last_error());
            return err(c, "%s", why);
        }
    }
    p->pc += D1_INSN_BYTES;
    return D1_OK;
}

static d1_status emit_data(asm_ctx *c, const void *bytes, size_t n)
{
    image *im = &c->images[c->cur_image];
    if (im->addr + im->size + n > c->t->sram_bytes)
        return err(c, "data at 0x%" PRIx64 " ends beyond SRAM (%" PRIu64 " bytes)",
                   im->addr + im->size, c->t->sram_bytes);
    if (c->pass == 2) {
        d1_status s = d1s_kernel_image_append(c->k, im->kidx, bytes, n);
        if (s)
            return s;
    }
    im->size += n;
    return D1_OK;
}

/* ---- instructions ----------------------------------------------------------------------- */

static uint64_t cur_pc(const asm_ctx *c)
{
    return c->single ? c->single_pc : c->progs[c->cur].pc;
}

/* Parse "expr(xN)" into value and base register. */
static d1_status parse_mem(asm_ctx *c, char *text, int64_t *imm, int *known, int *base)
{
    size_t n = strlen(text);
    char *open = strrchr(text, '(');
    if (!n || text[n - 1] != ')' || !open)
        return err(c, "expected a memory operand imm(xN), got '%s'", text);
    text[n - 1] = '\0';
    char *reg = trim(open + 1);
    *base = parse_reg(reg, D1_OPND_XREG);
    if (*base < 0)
        return err(c, "base of a memory operand must be a scalar register x0..x31, got '%s'",
                   reg);
    *open = '\0';
    char *off = trim(text);
    if (!*off) {
        *imm = 0;
        *known = 1;
        return D1_OK;
    }
    return eval(c, off, imm, known);
}

static d1_status check_imm(asm_ctx *c, const d1_insn_fmt *f, int64_t v, const char *mnem)
{
    if (v < f->imm_min || v > f->imm_max)
        return err(c, "immediate %" PRId64 " out of range %" PRId64 "..%" PRId64 " for '%s'", v,
                   f->imm_min, f->imm_max, mnem);
    return D1_OK;
}

static d1_status assemble_insn(asm_ctx *c, int op, stmt *st)
{
    const d1_insn_info *info = d1_insn_info_of((d1_op)op);
    const d1_insn_fmt *f = d1_insn_fmt_of(info->fmt);
    if (st->n != f->n_opnds)
        return err(c, "'%s' takes %d operand%s (%s), got %d", info->mnemonic, f->n_opnds,
                   f->n_opnds == 1 ? "" : "s", f->n_opnds ? f->syntax : "none", st->n);
    d1_insn in = {.op = (d1_op)op};
    uint8_t *fields[3] = {&in.a, &in.b, &in.c};
    int all_known = 1;
    for (int i = 0; i < f->n_opnds; i++) {
        char *text = st->opnd[i];
        d1_opnd_kind kind = f->opnd[i].kind;
        int64_t v = 0;
        int known = 1;
        d1_status s;
        switch (kind) {
        case D1_OPND_XREG:
        case D1_OPND_VREG:
        case D1_OPND_MREG:
        case D1_OPND_SREG: {
            int r = parse_reg(text, kind);
            if (r < 0)
                return err(c, "operand %d of '%s' must be %s, got '%s'", i + 1, info->mnemonic,
                           reg_class_name(kind), text);
            *fields[f->opnd[i].field] = (uint8_t)r;
            break;
        }
        case D1_OPND_CSR: {
            int n = d1_csr_from_name(text);
            if (n < 0)
                return err(c, "unknown CSR '%s'", text);
            if (info->fmt == D1_F_CW && !d1_csr_writable(n))
                return err(c, "CSR '%s' is read-only", text);
            in.imm = n;
            break;
        }
        case D1_OPND_IMM:
            if ((s = eval(c, text, &v, &known)))
                return s;
            if (known && (s = check_imm(c, f, v, info->mnemonic)))
                return s;
            in.imm = v;
            break;
        case D1_OPND_LABEL: {
            if ((s = eval(c, text, &v, &known)))
                return s;
            if (!known)
                break;
            int64_t delta = (int64_t)((uint64_t)v - cur_pc(c));
            if (delta % D1_INSN_BYTES)
                return err(c, "target '%s' (0x%" PRIx64 ") is not 4-byte aligned", text,
                           (uint64_t)v);
            delta /= D1_INSN_BYTES;
            if (delta < f->imm_min || delta > f->imm_max)
                return err(c, "target '%s' out of range for '%s' (%" PRId64
                           " instructions, limit %" PRId64 "..%" PRId64 ")",
                           text, info->mnemonic, delta, f->imm_min, f->imm_max);
            in.imm = delta;
            break;
        }
        case D1_OPND_MEM: {
            int base = 0;
            if ((s = parse_mem(c, text, &v, &known, &base)))
                return s;
            if (known && (s = check_imm(c, f, v, info->mnemonic)))
                return s;
            *fields[f->opnd[i].field] = (uint8_t)base;
            in.imm = v;
            break;
        }
        }
        all_known &= known;
    }
    if (!all_known)
        in.imm = 0; /* pass 1: only the size matters */
    return emit_insn(c, &in);
}

/* li expansion (see the pseudo table). Returns the number of words. */
static int li_seq(int64_t v, uint8_t rd, d1_insn out[LI_MAX])
{
    if (v >= -8192 && v <= 8191) {
        out[0] = (d1_insn){.op = D1_OP_ADDI, .a = rd, .imm = v};
        return 1;
    }
    if (v >= INT32_MIN && v <= INT32_MAX) {
        int n = 0;
        out[n++] = (d1_insn){.op = D1_OP_LUI, .a = rd, .imm = v >> 13};
        if (v & 0x1fff)
            out[n++] = (d1_insn){.op = D1_OP_ORI, .a = rd, .b = rd, .imm = v & 0x1fff};
        return n;
    }
    int n = li_seq(v >> 14, rd, out);
    D1_ASSERT(n + 2 <= LI_MAX);
    out[n++] = (d1_insn){.op = D1_OP_SLLI, .a = rd, .b = rd, .imm = 14};
    if (v & 0x3fff)
        out[n++] = (d1_insn){.op = D1_OP_ORI, .a = rd, .b = rd, .imm = v & 0x3fff};
    return n;
}

static d1_status need_n(asm_ctx *c, stmt *st, int n, const char *syntax)
{
    if (st->n != n)
        return err(c, "'%s' takes %d operand%s (%s), got %d", st->mnem, n, n == 1 ? "" : "s",
                   n ? syntax : "none", st->n);
    return D1_OK;
}

static d1_status reg_opnd(asm_ctx *c, stmt *st, int i, uint8_t *r)
{
    int v = parse_reg(st->opnd[i], D1_OPND_XREG);
    if (v < 0)
        return err(c, "operand %d of '%s' must be %s, got '%s'", i + 1, st->mnem,
                   reg_class_name(D1_OPND_XREG), st->opnd[i]);
    *r = (uint8_t)v;
    return D1_OK;
}

static d1_status pseudo_li(asm_ctx *c, stmt *st)
{
    uint8_t rd = 0;
    int64_t v;
    d1_status s;
    if ((s = need_n(c, st, 2, "rd, imm")) || (s = reg_opnd(c, st, 0, &rd)) ||
        (s = eval(c, st->opnd[1], &v, NULL)))
        return s;
    d1_insn seq[LI_MAX];
    int n = li_seq(v, rd, seq);
    for (int i = 0; i < n; i++)
        if ((s = emit_insn(c, &seq[i])))
            return s;
    return D1_OK;
}

static d1_status pseudo_la(asm_ctx *c, stmt *st)
{
    uint8_t rd = 0;
    int64_t v;
    int known;
    d1_status s;
    if ((s = need_n(c, st, 2, "rd, label")) || (s = reg_opnd(c, st, 0, &rd)) ||
        (s = eval(c, st->opnd[1], &v, &known)))
        return s;
    if (!known)
        v = 0;
    if (v < INT32_MIN || v > INT32_MAX)
        return err(c, "'la' value 0x%" PRIx64 " does not fit in 32 bits (use li)", (uint64_t)v);
    d1_insn hi = {.op = D1_OP_LUI, .a = rd, .imm = v >> 13};
    d1_insn lo = {.op = D1_OP_ORI, .a = rd, .b = rd, .imm = v & 0x1fff};
    if ((s = emit_insn(c, &hi)))
        return s;
    return emit_insn(c, &lo);
}

/* One-word pseudos: rewrite the operands and assemble the real instruction. */
static d1_status pseudo_simple(asm_ctx *c, stmt *st)
{
    static const struct {
        const char *name;
        d1_op op;
        const char *opnds[3]; /* "$0" = operand 0 of the pseudo, "$1" operand 1 */
        int n;
    } map[] = {
        {"mv", D1_OP_ADDI, {"$0", "$1", "0"}, 3},    {"j", D1_OP_JAL, {"x0", "$0"}, 2},
        {"call", D1_OP_JAL, {"x1", "$0"}, 2},        {"ret", D1_OP_JALR, {"x0", "x1", "0"}, 3},
        {"beqz", D1_OP_BEQ, {"$0", "x0", "$1"}, 3},  {"bnez", D1_OP_BNE, {"$0", "x0", "$1"}, 3},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(map[i].name, st->mnem))
            continue;
        const pseudo *p = NULL;
        for (size_t j = 0; j < sizeof pseudos / sizeof pseudos[0]; j++)
            if (!strcmp(pseudos[j].name, st->mnem))
                p = &pseudos[j];
        D1_ASSERT(p);
        d1_status s = need_n(c, st, p->n_opnds, p->syntax);
        if (s)
            return s;
        char bufs[3][8];
        stmt real = {.n = map[i].n, .mnem = d1_insn_info_of(map[i].op)->mnemonic};
        for (int k = 0; k < map[i].n; k++) {
            const char *o = map[i].opnds[k];
            if (o[0] == '$')
                real.opnd[k] = st->opnd[o[1] - '0'];
            else {
                snprintf(bufs[k], sizeof bufs[k], "%s", o);
                real.opnd[k] = bufs[k];
            }
        }
        return assemble_insn(c, (int)map[i].op, &real);
    }
    D1_ASSERT(0 && "pseudo without a mapping");
    return D1_E_INVAL;
}

/* ---- directives ---------------------------------------------------------------------------- */

static d1_status const_opnd(asm_ctx *c, stmt *st, int i, int64_t *v)
{
    return eval(c, st->opnd[i], v, NULL);
}

static d1_status dir_program(asm_ctx *c, stmt *st)
{
    d1_status s = need_n(c, st, 1, "NAME");
    if (s)
        return s;
    const char *name = st->opnd[0];
    if (!is_ident(name))
        return err(c, "bad program name '%s'", name);
    if (c->pass == 1) {
        for (size_t i = 0; i < c->n_progs; i++)
            if (!strcmp(c->progs[i].name, name))
                return err(c, "duplicate program '%s' (first at line %d)", name,
                           c->progs[i].line);
        if ((s = grow(c, (void **)&c->progs, &c->cap_progs, c->n_progs + 1, sizeof *c->progs)))
            return s;
        char *copy = strdup(name);
        if (!copy)
            return d1_fail(D1_E_NOMEM, "assembler: out of memory");
        c->progs[c->n_progs++] = (prog){.name = copy, .line = c->line};
    }
    c->cur = (int)c->prog_ord++;
    prog *p = &c->progs[c->cur];
    p->pc = 0;
    if (c->pass == 2) {
        s = d1s_kernel_add_program(c->k, name, &p->kidx);
        if (s)
            return s == D1_E_NOMEM ? s : err(c, "%s", "cannot create program");
    }
    c->cur_group = -1;
    c->cur_image = -1;
    return D1_OK;
}

static d1_status dir_entry(asm_ctx *c, stmt *st)
{
    d1_status s;
    if ((s = need_program(c, ".entry")) || (s = need_n(c, st, 1, "label")))
        return s;
    prog *p = &c->progs[c->cur];
    if (c->pass == 1) {
        if (p->entry)
            return err(c, "second .entry for program '%s' (first at line %d)", p->name,
                       p->entry_line);
        if (!is_ident(st->opnd[0]))
            return err(c, ".entry takes a label, got '%s'", st->opnd[0]);
        if (!(p->entry = strdup(st->opnd[0])))
            return d1_fail(D1_E_NOMEM, "assembler: out of memory");
        p->entry_line = c->line;
    }
    return D1_OK;
}

/* Parse one node id (number or .equ constant). */
static d1_status node_id(asm_ctx *c, const char *text, uint32_t *out)
{
    int64_t v;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", text);
    d1_status s = eval(c, trim(buf), &v, NULL);
    if (s)
        return s;
    if (v < 0 || v >= (int64_t)c->t->node_count)
        return err(c, "node %" PRId64 " out of range 0-%" PRIu32, v, c->t->node_count - 1);
    *out = (uint32_t)v;
    return D1_OK;
}

static d1_status dir_place(asm_ctx *c, stmt *st)
{
    d1_status s;
    if ((s = need_program(c, ".place")))
        return s;
    if (st->n < 1)
        return err(c, "'.place' needs node ranges (all, N, A-B, lists with commas)");
    if (c->pass == 2) {
        c->cur_group = (int)c->group_ord++;
        c->cur_image = -1;
        return D1_OK;
    }
    if ((s = grow(c, (void **)&c->groups, &c->cap_groups, c->n_groups + 1, sizeof *c->groups)))
        return s;
    group g = {.prog = c->cur, .line = c->line, .r = calloc((size_t)st->n, sizeof(range))};
    if (!g.r)
        return d1_fail(D1_E_NOMEM, "assembler: out of memory");
    for (int i = 0; i < st->n; i++) {
        const char *t = st->opnd[i];
        range r;
        const char *dash = strchr(t, '-');
        if (!strcmp(t, "all")) {
            r = (range){0, D1S_NODE_LAST};
        } else if (dash) {
            char lo[128];
            snprintf(lo, sizeof lo, "%.*s", (int)(dash - t), t);
            if ((s = node_id(c, lo, &r.first)) || (s = node_id(c, dash + 1, &r.last)))
                goto fail;
            if (r.first > r.last) {
                s = err(c, "empty node range '%s'", t);
                goto fail;
            }
        } else {
            if ((s = node_id(c, t, &r.first)))
                goto fail;
            r.last = r.first;
        }
        /* each node once in the whole kernel */
        uint64_t hi = r.last == D1S_NODE_LAST ? c->t->node_count - 1u : r.last;
        for (size_t gi = 0; gi <= c->n_groups; gi++) {
            const group *o = gi < c->n_groups ? &c->groups[gi] : &g;
            size_t cnt = gi < c->n_groups ? o->n : (size_t)g.n;
            for (size_t j = 0; j < cnt; j++) {
                uint64_t ohi = o->r[j].last == D1S_NODE_LAST ? c->t->node_count - 1u
                                                             : o->r[j].last;
                if (r.first <= ohi && o->r[j].first <= hi) {
                    uint32_t node = r.first > o->r[j].first ? r.first : o->r[j].first;
                    s = err(c, "node %" PRIu32 " already placed (program '%s', line %d)", node,
                            c->progs[o->prog].name, o->line);
                    goto fail;
                }
            }
        }
        g.r[g.n++] = r;
    }
    c->groups[c->n_groups++] = g;
    c->cur_group = (int)c->group_ord++;
    c->cur_image = -1;
    return D1_OK;
fail:
    free(g.r);
    return s;
}

static d1_status dir_data(asm_ctx *c, stmt *st)
{
    d1_status s;
    int64_t addr;
    if ((s = need_program(c, ".data")) || (s = need_n(c, st, 1, "ADDR")) ||
        (s = const_opnd(c, st, 0, &addr)))
        return s;
    if (addr < 0 || (uint64_t)addr >= c->t->sram_bytes)
        return err(c, "data address 0x%" PRIx64 " outside SRAM (%" PRIu64 " bytes)",
                   (uint64_t)addr, c->t->sram_bytes);
    if (c->pass == 1) {
        if ((s = grow(c, (void **)&c->images, &c->cap_images, c->n_images + 1,
                      sizeof *c->images)))
            return s;
        c->images[c->n_images++] =
            (image){.prog = c->cur, .group = c->cur_group, .addr = (uint64_t)addr,
                    .line = c->line};
    }
    c->cur_image = (int)c->image_ord++;
    image *im = &c->images[c->cur_image];
    im->size = 0;
    if (c->pass == 2 && (s = d1s_kernel_add_image(c->k, im->addr, NULL, 0, &im->kidx)))
        return s;
    return D1_OK;
}

static d1_status dir_text(asm_ctx *c, stmt *st)
{
    d1_status s;
    if ((s = need_program(c, ".text")) || (s = need_n(c, st, 0, "")))
        return s;
    c->cur_image = -1;
    return D1_OK;
}

static int dir_width(const char *name)
{
    return !strcmp(name, ".byte") ? 1 : !strcmp(name, ".half") ? 2 : !strcmp(name, ".word") ? 4 : 8;
}

static d1_status dir_int(asm_ctx *c, stmt *st)
{
    d1_status s;
    if ((s = need_program(c, st->mnem)))
        return s;
    if (st->n < 1)
        return err(c, "'%s' needs at least one value", st->mnem);
    int w = dir_width(st->mnem);
    if (c->cur_image < 0 && w != 4)
        return err(c, "'%s' outside a .data region", st->mnem);
    for (int i = 0; i < st->n; i++) {
        int64_t v = 0;
        int known = 1;
        if ((s = eval(c, st->opnd[i], &v, &known)))
            return s;
        if (known && w < 8) {
            int64_t lo = -((int64_t)1 << (8 * w - 1)), hi = ((int64_t)1 << (8 * w)) - 1;
            if (v < lo || v > hi)
                return err(c, "value %" PRId64 " does not fit in %d byte%s", v, w,
                           w == 1 ? "" : "s");
        }
        if (c->cur_image < 0) { /* raw instruction word in code */
            if (c->pass == 2) {
                s = d1s_kernel_emit_word(c->k, c->progs[c->cur].kidx, (uint32_t)v);
                if (s) {
                    char why[400];
                    snprintf(why, sizeof why, "%s", d1_last_error());
                    return s == D1_E_NOMEM ? s : err(c, "'.word' in code: %s", why);
                }
            }
            c->progs[c->cur].pc += D1_INSN_BYTES;
            continue;
        }
        uint8_t b[8];
        for (int j = 0; j < w; j++)
            b[j] = (uint8_t)((uint64_t)v >> (8 * j));
        if ((s = emit_data(c, b, (size_t)w)))
            return s;
    }
    return D1_OK;
}

static d1_status dir_float(asm_ctx *c, stmt *st)
{
    d1_status s;
    if ((s = need_program(c, st->mnem)))
        return s;
    if (c->cur_image < 0)
        return err(c, "'%s' outside a .data region", st->mnem);
    if (st->n < 1)
        return err(c, "'%s' needs at least one value", st->mnem);
    int bf16 = !strcmp(st->mnem, ".bf16");
    for (int i = 0; i < st->n; i++) {
        char *end;
        errno = 0;
        float f = strtof(st->opnd[i], &end);
        if (end == st->opnd[i] || *end)
            return err(c, "bad floating-point value '%s'", st->opnd[i]);
        uint8_t b[4];
        uint32_t bits;
        memcpy(&bits, &f, 4);
        if (bf16)
            bits = d1_bf16_from_f32(f);
        for (int j = 0; j < 4; j++)
            b[j] = (uint8_t)(bits >> (8 * j));
        if ((s = emit_data(c, b, bf16 ? 2 : 4)))
            return s;
    }
    return D1_OK;
}

static d1_status dir_zero(asm_ctx *c, stmt *st)
{
    d1_status s;
    int64_t n;
    if ((s = need_program(c, ".zero")) || (s = need_n(c, st, 1, "N")) ||
        (s = const_opnd(c, st, 0, &n)))
        return s;
    if (c->cur_image < 0)
        return err(c, "'.zero' outside a .data region");
    if (n < 0 || (uint64_t)n > c->t->sram_bytes)
        return err(c, "'.zero' count %" PRId64 " out of range", n);
    static const uint8_t zeros[4096];
    while (n > 0) {
        size_t chunk = n > (int64_t)sizeof zeros ? sizeof zeros : (size_t)n;
        if ((s = emit_data(c, zeros, chunk)))
            return s;
        n -= (int64_t)chunk;
    }
    return D1_OK;
}

static d1_status dir_align(asm_ctx *c, stmt *st)
{
    d1_status s;
    int64_t n;
    if ((s = need_program(c, ".align")) || (s = need_n(c, st, 1, "N")) ||
        (s = const_opnd(c, st, 0, &n)))
        return s;
    if (n <= 0 || (n & (n - 1)) || n > (1 << 20))
        return err(c, "'.align' needs a power of two up to 1048576, got %" PRId64, n);
    if (c->cur_image >= 0) {
        image *im = &c->images[c->cur_image];
        uint64_t at = im->addr + im->size, pad = (uint64_t)(-(int64_t)at) & (uint64_t)(n - 1);
        static const uint8_t zeros[1];
        for (uint64_t i = 0; i < pad; i++)
            if ((s = emit_data(c, zeros, 1)))
                return s;
        return D1_OK;
    }
    d1_insn nop = {.op = D1_OP_NOP};
    while (c->progs[c->cur].pc % (uint64_t)n)
        if ((s = emit_insn(c, &nop)))
            return s;
    return D1_OK;
}

static d1_status dir_equ(asm_ctx *c, stmt *st)
{
    d1_status s;
    int64_t v;
    if ((s = need_n(c, st, 2, "NAME, VALUE")))
        return s;
    if (c->pass == 2)
        return D1_OK;
    if ((s = const_opnd(c, st, 1, &v)))
        return s;
    return define_sym(c, st->opnd[0], SYM_EQU, v);
}

/* ---- statements ---------------------------------------------------------------------------- */

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

static d1_status unknown_mnemonic(asm_ctx *c, const char *m)
{
    const char *best = NULL;
    size_t bd = 3;
    for (int i = 0; i < D1_OP_COUNT; i++) {
        size_t d = edit_distance(m, d1_insn_info_of((d1_op)i)->mnemonic);
        if (d < bd)
            bd = d, best = d1_insn_info_of((d1_op)i)->mnemonic;
    }
    for (size_t i = 0; i < sizeof pseudos / sizeof pseudos[0]; i++) {
        size_t d = edit_distance(m, pseudos[i].name);
        if (d < bd)
            bd = d, best = pseudos[i].name;
    }
    if (m[0] == '.') {
        best = NULL, bd = 3;
        for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++) {
            size_t d = edit_distance(m, directives[i].name);
            if (d < bd)
                bd = d, best = directives[i].name;
        }
        if (best)
            return err(c, "unknown directive '%s' (did you mean '%s'?)", m, best);
        return err(c, "unknown directive '%s'", m);
    }
    if (best && strlen(m) > 1)
        return err(c, "unknown mnemonic '%s' (did you mean '%s'?)", m, best);
    return err(c, "unknown mnemonic '%s'", m);
}

/* Split "a, b(c), d" at top-level commas into st (in place). */
static d1_status split_operands(asm_ctx *c, char *s, stmt *st)
{
    st->n = 0;
    s = trim(s);
    if (!*s)
        return D1_OK;
    for (;;) {
        int depth = 0;
        char *p = s;
        while (*p && !(*p == ',' && depth == 0)) {
            depth += *p == '(';
            depth -= *p == ')';
            p++;
        }
        int last = !*p;
        *p = '\0';
        if (st->n == MAX_OPNDS)
            return err(c, "too many operands (max %d per line)", MAX_OPNDS);
        char *o = trim(s);
        if (!*o)
            return err(c, "empty operand");
        st->opnd[st->n++] = o;
        if (last)
            return D1_OK;
        s = p + 1;
    }
}

static d1_status statement(asm_ctx *c, char *text)
{
    stmt st = {0};
    char *m = text;
    size_t mlen = strcspn(m, " \t");
    char *rest = m + mlen;
    if (*rest)
        *rest++ = '\0';
    lower(m);
    st.mnem = m;
    d1_status s = split_operands(c, rest, &st);
    if (s)
        return s;
    if (m[0] == '.') {
        for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++)
            if (!strcmp(directives[i].name, m))
                return directives[i].fn(c, &st);
        return unknown_mnemonic(c, m);
    }
    if ((s = need_program(c, "instruction")))
        return s;
    if (c->cur_image >= 0)
        return err(c, "instruction '%s' inside a .data region (use .text)", m);
    int op = d1_op_from_mnemonic(m);
    if (op >= 0)
        return assemble_insn(c, op, &st);
    for (size_t i = 0; i < sizeof pseudos / sizeof pseudos[0]; i++)
        if (!strcmp(pseudos[i].name, m))
            return pseudos[i].fn(c, &st);
    return unknown_mnemonic(c, m);
}

static d1_status line(asm_ctx *c, char *text)
{
    text[strcspn(text, "#;")] = '\0';
    char *p = trim(text);
    /* labels */
    for (;;) {
        char *q = p;
        if (!is_ident_start((unsigned char)*q))
            break;
        while (is_ident_char((unsigned char)*q))
            q++;
        char *colon = q;
        while (*colon == ' ' || *colon == '\t')
            colon++;
        if (*colon != ':')
            break;
        *q = '\0';
        d1_status s = need_program(c, "label");
        if (s)
            return s;
        if (c->cur_image >= 0) {
            image *im = &c->images[c->cur_image];
            s = define_sym(c, p, SYM_DATA, (int64_t)(im->addr + im->size));
        } else {
            s = define_sym(c, p, SYM_CODE, (int64_t)c->progs[c->cur].pc);
        }
        if (s)
            return s;
        p = trim(colon + 1);
    }
    if (!*p)
        return D1_OK;
    return statement(c, p);
}

static d1_status run_pass(asm_ctx *c, const char *text)
{
    c->cur = -1;
    c->cur_group = -1;
    c->cur_image = -1;
    c->prog_ord = c->group_ord = c->image_ord = 0;
    c->line = 0;
    const char *p = text;
    d1_status s = D1_OK;
    while (*p) {
        size_t n = strcspn(p, "\n");
        c->line++;
        char *buf = malloc(n + 1);
        if (!buf)
            return d1_fail(D1_E_NOMEM, "assembler: out of memory");
        memcpy(buf, p, n);
        buf[n] = '\0';
        if (memchr(buf, '\0', n))
            s = err(c, "NUL byte in source");
        else
            s = line(c, buf);
        free(buf);
        if (s)
            return s;
        p += n;
        if (*p == '\n')
            p++;
    }
    return D1_OK;
}

/* ---- finishing ------------------------------------------------------------------------------ */

static int overlap(const image *a, const image *b)
{
    return a->size && b->size && a->addr < b->addr + b->size && b->addr < a->addr + a->size;
}

static d1_status finish(asm_ctx *c)
{
    d1_status s;
    for (size_t i = 0; i < c->n_progs; i++) {
        prog *p = &c->progs[i];
        c->line = p->line;
        if (p->pc == 0)
            return err(c, "program '%s' has no instructions", p->name);
        uint64_t entry = 0;
        if (p->entry) {
            c->line = p->entry_line;
            sym *sy = find_sym(c, p->entry, (int)i);
            if (!sy)
                return err(c, "undefined entry label '%s'", p->entry);
            if (sy->kind != SYM_CODE)
                return err(c, "entry '%s' is not a code label of program '%s'", p->entry,
                           p->name);
            if ((uint64_t)sy->value >= p->pc)
                return err(c, "entry '%s' is past the end of program '%s'", p->entry, p->name);
            entry = (uint64_t)sy->value;
        }
        if ((s = d1s_kernel_set_entry(c->k, p->kidx, entry)))
            return s;
    }
    /* images loaded on the same nodes must not overlap */
    for (size_t g = 0; g < c->n_groups; g++)
        for (size_t a = 0; a < c->n_images; a++)
            for (size_t b = a + 1; b < c->n_images; b++) {
                const image *x = &c->images[a], *y = &c->images[b];
                int gx = x->prog == c->groups[g].prog && (x->group == -1 || x->group == (int)g);
                int gy = y->prog == c->groups[g].prog && (y->group == -1 || y->group == (int)g);
                if (gx && gy && overlap(x, y)) {
                    c->line = y->line;
                    return err(c, "data [0x%" PRIx64 ", 0x%" PRIx64 ") overlaps data of line %d "
                               "on the same nodes",
                               y->addr, y->addr + y->size, x->line);
                }
            }
    for (size_t g = 0; g < c->n_groups; g++) {
        const group *gr = &c->groups[g];
        const prog *p = &c->progs[gr->prog];
        for (size_t r = 0; r < gr->n; r++) {
            uint32_t pl;
            if ((s = d1s_kernel_add_placement(c->k, gr->r[r].first, gr->r[r].last, p->kidx,
                                              d1s_kernel_program(c->k, p->kidx)->entry, &pl)))
                return s;
            for (size_t i = 0; i < c->n_images; i++) {
                const image *im = &c->images[i];
                if (im->prog == gr->prog && (im->group == -1 || im->group == (int)g) &&
                    (s = d1s_kernel_placement_add_image(c->k, pl, im->kidx)))
                    return s;
            }
        }
    }
    for (size_t i = 0; i < c->n_syms; i++) {
        const sym *sy = &c->syms[i];
        if (sy->kind == SYM_EQU)
            continue;
        s = d1s_kernel_add_symbol(c->k, sy->name,
                                  sy->kind == SYM_CODE ? D1S_SYM_CODE : D1S_SYM_DATA,
                                  sy->kind == SYM_CODE ? c->progs[sy->prog].kidx
                                                       : c->images[sy->image].kidx,
                                  (uint64_t)sy->value);
        if (s)
            return s;
    }
    if ((s = d1s_kernel_validate(c->k))) {
        char why[400];
        snprintf(why, sizeof why, "%s", d1_last_error());
        return s == D1_E_NOMEM ? s : d1_fail(D1_E_ASM, "%s: %s", c->file, why);
    }
    return D1_OK;
}

d1_status d1s_asm_string(const char *text, const char *name, const d1s_target *t,
                         d1s_kernel **out)
{
    D1_ASSERT(text && t && out);
    asm_ctx c = {.file = name ? name : "<input>", .t = t, .pass = 1};
    d1_status s = run_pass(&c, text);
    if (s)
        goto out;
    if (c.n_progs == 0) {
        s = d1_fail(D1_E_ASM, "%s: no .program in the source", c.file);
        goto out;
    }
    if ((s = d1s_kernel_create(t, &c.k)))
        goto out;
    c.pass = 2;
    if ((s = run_pass(&c, text)) || (s = finish(&c)))
        goto out;
    *out = c.k;
    c.k = NULL;
out:
    d1s_kernel_destroy(c.k);
    ctx_free(&c);
    return s;
}

d1_status d1s_asm_file(const char *path, const d1s_target *t, d1s_kernel **out)
{
    D1_ASSERT(path && t && out);
    char *buf;
    size_t n;
    d1_status s = d1_file_read(path, D1S_ASM_MAX_SOURCE_BYTES, D1_READ_TEXT, NULL, 0, &buf, &n);
    if (s)
        return s;
    if (strlen(buf) != n)
        s = d1_fail(D1_E_ASM, "%s: NUL byte in source (not a text file?)", path);
    else
        s = d1s_asm_string(buf, path, t, out);
    free(buf);
    return s;
}

d1_status d1s_asm_insn(const char *text, uint64_t pc, uint32_t *word)
{
    D1_ASSERT(text && word);
    static const d1s_target none = {1, 0, 0};
    asm_ctx c = {.file = "<insn>", .t = &none, .pass = 2, .single = 1, .single_pc = pc,
                 .cur = 0, .cur_image = -1};
    char *buf = strdup(text);
    if (!buf)
        return d1_fail(D1_E_NOMEM, "assembler: out of memory");
    buf[strcspn(buf, "#;\n")] = '\0';
    char *p = trim(buf);
    d1_status s;
    stmt st = {0};
    size_t mlen = strcspn(p, " \t");
    char *rest = p + mlen;
    if (*rest)
        *rest++ = '\0';
    lower(p);
    st.mnem = p;
    int op = d1_op_from_mnemonic(p);
    if (!*p)
        s = err(&c, "empty instruction");
    else if (op < 0) {
        s = D1_OK;
        for (size_t i = 0; i < sizeof pseudos / sizeof pseudos[0] && !s; i++)
            if (!strcmp(pseudos[i].name, p))
                s = err(&c, "'%s' is a pseudo-instruction (only machine instructions here)", p);
        if (!s)
            s = unknown_mnemonic(&c, p);
    }
    else if (!(s = split_operands(&c, rest, &st)))
        s = assemble_insn(&c, op, &st);
    if (!s)
        *word = c.single_word;
    free(buf);
    return s;
}

/* ---- doc ------------------------------------------------------------------------------------ */

void d1s_asm_write_doc(FILE *out)
{
    fprintf(out,
            "\n## Assembly language (`d1 as`)\n\n"
            "One statement per line; `label:` prefixes; comments start with `#` or `;`. "
            "Mnemonics are case-insensitive. Registers `x0..x31`, `v0..v31`, `m0..m7`, "
            "`s0..s31`; CSRs by name. Immediates are expressions over numbers (decimal, `0x` "
            "hex, `0b` binary), `.equ` constants and labels with `+ - * / %% << >> & | ^ ~` and "
            "parentheses. A branch or jump target is a label or an absolute byte address. "
            "Labels belong to their program: in code a label is a byte offset in the "
            "program, after `.data` an SRAM address. Errors name the file and line.\n\n"
            "### Directives\n\n| directive | operands | meaning |\n|---|---|---|\n");
    for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++)
        fprintf(out, "| `%s` | %s%s%s | %s |\n", directives[i].name,
                directives[i].syntax[0] ? "`" : "-", directives[i].syntax,
                directives[i].syntax[0] ? "`" : "", directives[i].doc);
    fprintf(out, "\n### Pseudo-instructions\n\n| pseudo | operands | expands to |\n"
                 "|---|---|---|\n");
    for (size_t i = 0; i < sizeof pseudos / sizeof pseudos[0]; i++)
        fprintf(out, "| `%s` | %s%s%s | %s |\n", pseudos[i].name,
                pseudos[i].syntax[0] ? "`" : "-", pseudos[i].syntax,
                pseudos[i].syntax[0] ? "`" : "", pseudos[i].expansion);
    fprintf(out, "\n### Example\n\n```\n"
                 ".equ N, 16\n"
                 ".program scale            # one program, placed on every node\n"
                 ".place all\n"
                 ".data 0x1000\n"
                 "vals:  .float 1.0, 2.0, 3.0, 4.0\n"
                 "       .zero 48\n"
                 ".text\n"
                 "start: la   x1, vals\n"
                 "       vld  v1, 0(x1)\n"
                 "       vadd.f v2, v1, v1\n"
                 "       vst  v2, 64(x1)\n"
                 "       halt\n"
                 ".entry start\n"
                 "```\n");
}
