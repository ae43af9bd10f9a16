/* The kernel model: growable arrays of programs, images, placements and symbols. */
#include "emit.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct prog_rec {
    d1s_program pub;
    char *name;
    uint32_t *words;
    size_t cap;
} prog_rec;

typedef struct image_rec {
    d1s_image pub;
    uint8_t *bytes;
    size_t cap;
} image_rec;

typedef struct place_rec {
    d1s_placement pub;
    uint32_t *images;
    size_t cap;
} place_rec;

typedef struct sym_rec {
    d1s_symbol pub;
    char *name;
} sym_rec;

struct d1s_kernel {
    d1s_target target;
    prog_rec *progs;
    size_t n_progs, cap_progs;
    image_rec *images;
    size_t n_images, cap_images;
    place_rec *places;
    size_t n_places, cap_places;
    sym_rec *syms;
    size_t n_syms, cap_syms;
};

/* Grow *arr (elements of size elem) so that it holds at least need elements. */
static d1_status grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return D1_OK;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return d1_fail(D1_E_NOMEM, "kernel: array too large");
        ncap *= 2;
    }
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return d1_fail(D1_E_NOMEM, "kernel: out of memory growing an array to %zu", ncap);
    *arr = p;
    *cap = ncap;
    return D1_OK;
}

static int valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 255)
        return 0;
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (const char *p = s + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.'))
            return 0;
    return 1;
}

d1_status d1s_kernel_create(const d1s_target *t, d1s_kernel **out)
{
    D1_ASSERT(t && out);
    d1s_kernel *k = calloc(1, sizeof *k);
    if (!k)
        return d1_fail(D1_E_NOMEM, "kernel: out of memory");
    k->target = *t;
    *out = k;
    return D1_OK;
}

void d1s_kernel_set_target(d1s_kernel *k, const d1s_target *t)
{
    D1_ASSERT(k && t);
    k->target = *t;
}

void d1s_kernel_destroy(d1s_kernel *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->n_progs; i++) {
        free(k->progs[i].name);
        free(k->progs[i].words);
    }
    for (size_t i = 0; i < k->n_images; i++)
        free(k->images[i].bytes);
    for (size_t i = 0; i < k->n_places; i++)
        free(k->places[i].images);
    for (size_t i = 0; i < k->n_syms; i++)
        free(k->syms[i].name);
    free(k->progs);
    free(k->images);
    free(k->places);
    free(k->syms);
    free(k);
}

/* ---- programs ------------------------------------------------------------------------ */

static prog_rec *prog_at(d1s_kernel *k, uint32_t prog)
{
    return prog < k->n_progs ? &k->progs[prog] : NULL;
}

d1_status d1s_kernel_add_program(d1s_kernel *k, const char *name, uint32_t *index)
{
    D1_ASSERT(k);
    if (!valid_name(name))
        return d1_fail(D1_E_INVAL, "bad program name '%s' (want [A-Za-z_][A-Za-z0-9_.]*)",
                       name ? name : "(null)");
    if (d1s_kernel_find_program(k, name) >= 0)
        return d1_fail(D1_E_INVAL, "duplicate program '%s'", name);
    if (k->n_progs >= UINT32_MAX - 1)
        return d1_fail(D1_E_INVAL, "too many programs");
    d1_status s = grow((void **)&k->progs, &k->cap_progs, k->n_progs + 1, sizeof *k->progs);
    if (s)
        return s;
    char *copy = strdup(name);
    if (!copy)
        return d1_fail(D1_E_NOMEM, "kernel: out of memory");
    prog_rec *p = &k->progs[k->n_progs];
    memset(p, 0, sizeof *p);
    p->name = copy;
    p->pub.name = copy;
    if (index)
        *index = (uint32_t)k->n_progs;
    k->n_progs++;
    return D1_OK;
}

static d1_status append_word(d1s_kernel *k, uint32_t prog, uint32_t word)
{
    prog_rec *p = prog_at(k, prog);
    if (!p)
        return d1_fail(D1_E_INVAL, "no program %" PRIu32, prog);
    d1_status s = grow((void **)&p->words, &p->cap, p->pub.n_words + 1, sizeof *p->words);
    if (s)
        return s;
    p->words[p->pub.n_words++] = word;
    p->pub.words = p->words;
    return D1_OK;
}

d1_status d1s_kernel_emit(d1s_kernel *k, uint32_t prog, const d1_insn *in)
{
    D1_ASSERT(k && in);
    uint32_t w;
    d1_status s = d1_insn_encode(in, &w);
    if (s)
        return s;
    return append_word(k, prog, w);
}

d1_status d1s_kernel_emit_word(d1s_kernel *k, uint32_t prog, uint32_t word)
{
    D1_ASSERT(k);
    d1_insn in;
    d1_status s = d1_insn_decode(word, &in);
    if (s)
        return s;
    return append_word(k, prog, word);
}

uint64_t d1s_kernel_pc(const d1s_kernel *k, uint32_t prog)
{
    D1_ASSERT(k && prog < k->n_progs);
    return (uint64_t)k->progs[prog].pub.n_words * D1_INSN_BYTES;
}

d1_status d1s_kernel_patch(d1s_kernel *k, uint32_t prog, uint64_t pc, const d1_insn *in)
{
    D1_ASSERT(k && in);
    prog_rec *p = prog_at(k, prog);
    if (!p)
        return d1_fail(D1_E_INVAL, "no program %" PRIu32, prog);
    if (pc % D1_INSN_BYTES || pc / D1_INSN_BYTES >= p->pub.n_words)
        return d1_fail(D1_E_INVAL, "patch: pc 0x%" PRIx64 " outside program '%s'", pc,
                       p->name);
    uint32_t w;
    d1_status s = d1_insn_encode(in, &w);
    if (s)
        return s;
    p->words[pc / D1_INSN_BYTES] = w;
    return D1_OK;
}

d1_status d1s_kernel_set_entry(d1s_kernel *k, uint32_t prog, uint64_t entry)
{
    D1_ASSERT(k);
    prog_rec *p = prog_at(k, prog);
    if (!p)
        return d1_fail(D1_E_INVAL, "no program %" PRIu32, prog);
    p->pub.entry = entry; /* checked by validate: the code may not be emitted yet */
    return D1_OK;
}

/* ---- images -------------------------------------------------------------------------- */

d1_status d1s_kernel_add_image(d1s_kernel *k, uint64_t addr, const void *bytes, size_t size,
                               uint32_t *index)
{
    D1_ASSERT(k);
    if (k->n_images >= UINT32_MAX - 1)
        return d1_fail(D1_E_INVAL, "too many data images");
    d1_status s = grow((void **)&k->images, &k->cap_images, k->n_images + 1, sizeof *k->images);
    if (s)
        return s;
    image_rec *im = &k->images[k->n_images];
    memset(im, 0, sizeof *im);
    im->pub.addr = addr;
    uint32_t idx = (uint32_t)k->n_images++;
    if (index)
        *index = idx;
    return d1s_kernel_image_append(k, idx, bytes, size);
}

d1_status d1s_kernel_image_append(d1s_kernel *k, uint32_t img, const void *bytes, size_t size)
{
    D1_ASSERT(k);
    if (img >= k->n_images)
        return d1_fail(D1_E_INVAL, "no data image %" PRIu32, img);
    image_rec *im = &k->images[img];
    if (size > SIZE_MAX - im->pub.size)
        return d1_fail(D1_E_NOMEM, "data image too large");
    d1_status s = grow((void **)&im->bytes, &im->cap, im->pub.size + size, 1);
    if (s)
        return s;
    if (size) {
        if (bytes)
            memcpy(im->bytes + im->pub.size, bytes, size);
        else
            memset(im->bytes + im->pub.size, 0, size);
    }
    im->pub.size += size;
    im->pub.bytes = im->bytes;
    return D1_OK;
}

/* ---- placements and symbols ---------------------------------------------------------- */

d1_status d1s_kernel_add_placement(d1s_kernel *k, uint32_t node_first, uint32_t node_last,
                                   uint32_t prog, uint64_t entry, uint32_t *index)
{
    D1_ASSERT(k);
    if (prog >= k->n_progs)
        return d1_fail(D1_E_INVAL, "placement of nodes %" PRIu32 "-%" PRIu32
                       " references missing program %" PRIu32, node_first, node_last, prog);
    if (node_first > node_last)
        return d1_fail(D1_E_INVAL, "placement: empty node range %" PRIu32 "-%" PRIu32,
                       node_first, node_last);
    d1_status s = grow((void **)&k->places, &k->cap_places, k->n_places + 1, sizeof *k->places);
    if (s)
        return s;
    place_rec *pl = &k->places[k->n_places];
    memset(pl, 0, sizeof *pl);
    pl->pub.node_first = node_first;
    pl->pub.node_last = node_last;
    pl->pub.program = prog;
    pl->pub.entry = entry;
    if (index)
        *index = (uint32_t)k->n_places;
    k->n_places++;
    return D1_OK;
}

d1_status d1s_kernel_placement_add_image(d1s_kernel *k, uint32_t pl, uint32_t img)
{
    D1_ASSERT(k);
    if (pl >= k->n_places)
        return d1_fail(D1_E_INVAL, "no placement %" PRIu32, pl);
    if (img >= k->n_images)
        return d1_fail(D1_E_INVAL, "placement %" PRIu32 " references missing data image %" PRIu32,
                       pl, img);
    place_rec *p = &k->places[pl];
    d1_status s = grow((void **)&p->images, &p->cap, p->pub.n_images + 1, sizeof *p->images);
    if (s)
        return s;
    p->images[p->pub.n_images++] = img;
    p->pub.images = p->images;
    return D1_OK;
}

d1_status d1s_kernel_add_symbol(d1s_kernel *k, const char *name, d1s_sym_kind kind,
                                uint32_t index, uint64_t value)
{
    D1_ASSERT(k);
    if (!valid_name(name))
        return d1_fail(D1_E_INVAL, "bad symbol name '%s'", name ? name : "(null)");
    if (kind != D1S_SYM_CODE && kind != D1S_SYM_DATA)
        return d1_fail(D1_E_INVAL, "bad symbol kind %d", (int)kind);
    d1_status s = grow((void **)&k->syms, &k->cap_syms, k->n_syms + 1, sizeof *k->syms);
    if (s)
        return s;
    char *copy = strdup(name);
    if (!copy)
        return d1_fail(D1_E_NOMEM, "kernel: out of memory");
    sym_rec *r = &k->syms[k->n_syms++];
    r->name = copy;
    r->pub = (d1s_symbol){copy, kind, index, value};
    return D1_OK;
}

/* ---- validation ---------------------------------------------------------------------- */

typedef struct range {
    uint64_t lo, hi; /* inclusive */
    size_t idx;
} range;

static int cmp_range(const void *a, const void *b)
{
    const range *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static d1_status check_entry(const d1s_program *p, uint64_t entry, const char *what)
{
    if (entry % D1_INSN_BYTES || entry / D1_INSN_BYTES >= p->n_words)
        return d1_fail(D1_E_INVAL, "%s entry 0x%" PRIx64 " outside program '%s' (%zu bytes)",
                       what, entry, p->name, p->n_words * D1_INSN_BYTES);
    return D1_OK;
}

d1_status d1s_kernel_validate(const d1s_kernel *k)
{
    D1_ASSERT(k);
    const d1s_target *t = &k->target;
    d1_status s = D1_OK;
    range *r = NULL;
    if (t->node_count == 0 || t->node_count == D1S_NODE_LAST)
        return d1_fail(D1_E_INVAL, "target node count %" PRIu32 " invalid", t->node_count);
    for (size_t i = 0; i < k->n_progs; i++) {
        const d1s_program *p = &k->progs[i].pub;
        if (p->n_words == 0)
            return d1_fail(D1_E_INVAL, "program '%s' has no instructions", p->name);
        if ((s = check_entry(p, p->entry, "program")))
            return s;
        for (size_t w = 0; w < p->n_words; w++) {
            d1_insn in;
            if (d1_insn_decode(p->words[w], &in)) {
                char why[400];
                snprintf(why, sizeof why, "%s", d1_last_error());
                return d1_fail(D1_E_INVAL, "program '%s' offset 0x%zx: %s", p->name,
                               w * D1_INSN_BYTES, why);
            }
        }
    }
    for (size_t i = 0; i < k->n_images; i++) {
        const d1s_image *im = &k->images[i].pub;
        if (im->addr > t->sram_bytes || im->size > t->sram_bytes - im->addr)
            return d1_fail(D1_E_INVAL,
                           "data image %zu [0x%" PRIx64 ", +%zu) outside SRAM (%" PRIu64
                           " bytes)",
                           i, im->addr, im->size, t->sram_bytes);
    }
    if (k->n_places) {
        r = malloc(k->n_places * sizeof *r);
        if (!r)
            return d1_fail(D1_E_NOMEM, "kernel: out of memory");
    }
    for (size_t i = 0; i < k->n_places; i++) {
        const d1s_placement *pl = &k->places[i].pub;
        if (pl->program >= k->n_progs) {
            s = d1_fail(D1_E_INVAL, "placement %zu references missing program %" PRIu32, i,
                        pl->program);
            goto out_free;
        }
        uint64_t last = pl->node_last == D1S_NODE_LAST ? t->node_count - 1u : pl->node_last;
        if (pl->node_first > last || last >= t->node_count) {
            s = d1_fail(D1_E_INVAL,
                        "placement %zu: node range %" PRIu32 "-%" PRIu32
                        " outside nodes 0-%" PRIu32,
                        i, pl->node_first, pl->node_last, t->node_count - 1);
            goto out_free;
        }
        char what[64];
        snprintf(what, sizeof what, "placement %zu", i);
        if ((s = check_entry(&k->progs[pl->program].pub, pl->entry, what)))
            goto out_free;
        for (size_t a = 0; a < pl->n_images; a++) {
            uint32_t ia = pl->images[a];
            if (ia >= k->n_images) {
                s = d1_fail(D1_E_INVAL, "placement %zu references missing data image %" PRIu32,
                            i, ia);
                goto out_free;
            }
            const d1s_image *x = &k->images[ia].pub;
            for (size_t b = 0; b < a; b++) {
                const d1s_image *y = &k->images[pl->images[b]].pub;
                if (pl->images[b] == ia) {
                    s = d1_fail(D1_E_INVAL, "placement %zu lists data image %" PRIu32 " twice",
                                i, ia);
                    goto out_free;
                }
                if (x->size && y->size && x->addr < y->addr + y->size &&
                    y->addr < x->addr + x->size) {
                    s = d1_fail(D1_E_INVAL,
                                "placement %zu: data images %" PRIu32 " and %" PRIu32
                                " overlap in SRAM",
                                i, pl->images[b], ia);
                    goto out_free;
                }
            }
        }
        r[i] = (range){pl->node_first, last, i};
    }
    if (k->n_places > 1) {
        qsort(r, k->n_places, sizeof *r, cmp_range);
        for (size_t i = 1; i < k->n_places; i++)
            if (r[i].lo <= r[i - 1].hi) {
                s = d1_fail(D1_E_INVAL,
                            "placements %zu and %zu overlap: node %" PRIu64 " placed twice",
                            r[i - 1].idx, r[i].idx, r[i].lo);
                goto out_free;
            }
    }
    for (size_t i = 0; i < k->n_syms; i++) {
        const d1s_symbol *sy = &k->syms[i].pub;
        if (sy->kind == D1S_SYM_CODE) {
            if (sy->index >= k->n_progs ||
                sy->value > k->progs[sy->index].pub.n_words * (uint64_t)D1_INSN_BYTES) {
                s = d1_fail(D1_E_INVAL, "code symbol '%s' outside its program", sy->name);
                goto out_free;
            }
        } else {
            const d1s_image *im = sy->index < k->n_images ? &k->images[sy->index].pub : NULL;
            if (!im || sy->value < im->addr || sy->value - im->addr > im->size) {
                s = d1_fail(D1_E_INVAL, "data symbol '%s' outside its image", sy->name);
                goto out_free;
            }
        }
    }
out_free:
    free(r);
    return s;
}

/* ---- reading ------------------------------------------------------------------------- */

const d1s_target *d1s_kernel_target(const d1s_kernel *k)
{
    return &k->target;
}

size_t d1s_kernel_program_count(const d1s_kernel *k)
{
    return k->n_progs;
}

const d1s_program *d1s_kernel_program(const d1s_kernel *k, size_t i)
{
    return i < k->n_progs ? &k->progs[i].pub : NULL;
}

int d1s_kernel_find_program(const d1s_kernel *k, const char *name)
{
    for (size_t i = 0; i < k->n_progs; i++)
        if (!strcmp(k->progs[i].name, name))
            return (int)i;
    return -1;
}

size_t d1s_kernel_image_count(const d1s_kernel *k)
{
    return k->n_images;
}

const d1s_image *d1s_kernel_image(const d1s_kernel *k, size_t i)
{
    return i < k->n_images ? &k->images[i].pub : NULL;
}

size_t d1s_kernel_placement_count(const d1s_kernel *k)
{
    return k->n_places;
}

const d1s_placement *d1s_kernel_placement(const d1s_kernel *k, size_t i)
{
    return i < k->n_places ? &k->places[i].pub : NULL;
}

int d1s_kernel_find_placement(const d1s_kernel *k, uint32_t node, uint32_t node_count)
{
    for (size_t i = 0; i < k->n_places; i++) {
        const d1s_placement *pl = &k->places[i].pub;
        uint64_t last = pl->node_last == D1S_NODE_LAST ? (uint64_t)node_count - 1 : pl->node_last;
        if (node >= pl->node_first && node <= last)
            return (int)i;
    }
    return -1;
}

size_t d1s_kernel_symbol_count(const d1s_kernel *k)
{
    return k->n_syms;
}

const d1s_symbol *d1s_kernel_symbol(const d1s_kernel *k, size_t i)
{
    return i < k->n_syms ? &k->syms[i].pub : NULL;
}

const char *d1s_kernel_code_label(const d1s_kernel *k, uint32_t prog, uint64_t pc)
{
    for (size_t i = 0; i < k->n_syms; i++) {
        const d1s_symbol *s = &k->syms[i].pub;
        if (s->kind == D1S_SYM_CODE && s->index == prog && s->value == pc)
            return s->name;
    }
    return NULL;
}

int d1s_kernel_equal(const d1s_kernel *a, const d1s_kernel *b)
{
    if (a->target.node_count != b->target.node_count ||
        a->target.sram_bytes != b->target.sram_bytes ||
        a->target.config_hash != b->target.config_hash || a->n_progs != b->n_progs ||
        a->n_images != b->n_images || a->n_places != b->n_places || a->n_syms != b->n_syms)
        return 0;
    for (size_t i = 0; i < a->n_progs; i++) {
        const d1s_program *x = &a->progs[i].pub, *y = &b->progs[i].pub;
        if (strcmp(x->name, y->name) || x->n_words != y->n_words || x->entry != y->entry ||
            (x->n_words && memcmp(x->words, y->words, x->n_words * sizeof *x->words)))
            return 0;
    }
    for (size_t i = 0; i < a->n_images; i++) {
        const d1s_image *x = &a->images[i].pub, *y = &b->images[i].pub;
        if (x->addr != y->addr || x->size != y->size ||
            (x->size && memcmp(x->bytes, y->bytes, x->size)))
            return 0;
    }
    for (size_t i = 0; i < a->n_places; i++) {
        const d1s_placement *x = &a->places[i].pub, *y = &b->places[i].pub;
        if (x->node_first != y->node_first || x->node_last != y->node_last ||
            x->program != y->program || x->entry != y->entry || x->n_images != y->n_images ||
            (x->n_images && memcmp(x->images, y->images, x->n_images * sizeof *x->images)))
            return 0;
    }
    for (size_t i = 0; i < a->n_syms; i++) {
        const d1s_symbol *x = &a->syms[i].pub, *y = &b->syms[i].pub;
        if (strcmp(x->name, y->name) || x->kind != y->kind || x->index != y->index ||
            x->value != y->value)
            return 0;
    }
    return 1;
}
