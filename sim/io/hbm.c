/* Sparse HBM store: open addressing (linear probing) from page number to a 64 KiB page. */
#include "hbm.h"

#include <stdlib.h>
#include <string.h>

typedef struct page_ent {
    uint64_t pno; /* page number + 1; 0 = empty */
    uint8_t *data;
} page_ent;

struct d1s_hbm {
    uint64_t size;
    page_ent *tab;
    size_t cap, n; /* cap is a power of two */
};

static size_t slot_of(uint64_t pno, size_t cap)
{
    pno *= 0x9e3779b97f4a7c15u;
    return (size_t)(pno >> 32) & (cap - 1);
}

d1_status d1s_hbm_create(uint64_t size_bytes, d1s_hbm **out)
{
    *out = NULL;
    if (size_bytes == 0)
        return d1_fail(D1_E_INVAL, "HBM of 0 bytes");
    d1s_hbm *h = calloc(1, sizeof *h);
    if (!h)
        return d1_fail(D1_E_NOMEM, "HBM");
    h->size = size_bytes;
    *out = h;
    return D1_OK;
}

void d1s_hbm_destroy(d1s_hbm *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->cap; i++)
        free(h->tab[i].data);
    free(h->tab);
    free(h);
}

uint64_t d1s_hbm_size(const d1s_hbm *h)
{
    return h->size;
}
size_t d1s_hbm_resident_bytes(const d1s_hbm *h)
{
    return h->n * (size_t)D1S_HBM_PAGE_BYTES;
}

static uint8_t *find(const d1s_hbm *h, uint64_t pno)
{
    if (!h->cap)
        return NULL;
    for (size_t i = slot_of(pno, h->cap);; i = (i + 1) & (h->cap - 1)) {
        if (h->tab[i].pno == pno + 1)
            return h->tab[i].data;
        if (!h->tab[i].pno)
            return NULL;
    }
}

static d1_status grow(d1s_hbm *h)
{
    size_t cap = h->cap ? 2 * h->cap : 64;
    page_ent *t = calloc(cap, sizeof *t);
    if (!t)
        return d1_fail(D1_E_NOMEM, "HBM page table of %zu", cap);
    for (size_t i = 0; i < h->cap; i++) {
        if (!h->tab[i].pno)
            continue;
        size_t j = slot_of(h->tab[i].pno - 1, cap);
        while (t[j].pno)
            j = (j + 1) & (cap - 1);
        t[j] = h->tab[i];
    }
    free(h->tab);
    h->tab = t;
    h->cap = cap;
    return D1_OK;
}

static uint8_t *get_page(d1s_hbm *h, uint64_t pno)
{
    uint8_t *p = find(h, pno);
    if (p)
        return p;
    if (2 * (h->n + 1) > h->cap && grow(h) != D1_OK)
        return NULL;
    p = calloc(1, (size_t)D1S_HBM_PAGE_BYTES);
    if (!p) {
        d1_fail(D1_E_NOMEM, "HBM page");
        return NULL;
    }
    size_t i = slot_of(pno, h->cap);
    while (h->tab[i].pno)
        i = (i + 1) & (h->cap - 1);
    h->tab[i].pno = pno + 1;
    h->tab[i].data = p;
    h->n++;
    return p;
}

static d1_status range(const d1s_hbm *h, uint64_t addr, size_t len)
{
    if (addr > h->size || len > h->size - addr)
        return d1_fail(D1_E_RANGE, "HBM access [0x%llx, +%zu) outside %llu bytes",
                       (unsigned long long)addr, len, (unsigned long long)h->size);
    return D1_OK;
}

d1_status d1s_hbm_write(d1s_hbm *h, uint64_t addr, const void *src, size_t len)
{
    d1_status st = range(h, addr, len);
    if (st != D1_OK)
        return st;
    const uint8_t *s = src;
    while (len) {
        uint64_t off = addr % D1S_HBM_PAGE_BYTES;
        size_t k = (size_t)(D1S_HBM_PAGE_BYTES - off);
        if (k > len)
            k = len;
        uint8_t *p = get_page(h, addr / D1S_HBM_PAGE_BYTES);
        if (!p)
            return D1_E_NOMEM;
        memcpy(p + off, s, k);
        s += k;
        addr += k;
        len -= k;
    }
    return D1_OK;
}

d1_status d1s_hbm_read(const d1s_hbm *h, uint64_t addr, void *dst, size_t len)
{
    d1_status st = range(h, addr, len);
    if (st != D1_OK)
        return st;
    uint8_t *d = dst;
    while (len) {
        uint64_t off = addr % D1S_HBM_PAGE_BYTES;
        size_t k = (size_t)(D1S_HBM_PAGE_BYTES - off);
        if (k > len)
            k = len;
        const uint8_t *p = find(h, addr / D1S_HBM_PAGE_BYTES);
        if (p)
            memcpy(d, p + off, k);
        else
            memset(d, 0, k);
        d += k;
        addr += k;
        len -= k;
    }
    return D1_OK;
}
