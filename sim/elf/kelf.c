/* Kernel binary writer and validating reader (layout in kelf.h). */
#include "kelf.h"

#include "sim/arch/file.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOTE_NAME "D1"
#define NOTE_NAMESZ 3   /* "D1\0" */
#define NOTE_DESCSZ 24
#define NOTE_BYTES (12 + 4 + NOTE_DESCSZ) /* header, name padded to 4, desc */
#define PROG_ENT 16
#define IMAGE_ENT 16
#define PLACE_ENT 32
#define DLIST_ENT 4
#define MAX_SECTIONS 65000

/* ---- little-endian helpers ------------------------------------------------------------ */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static d1_status elf_init(void)
{
    if (elf_version(EV_CURRENT) == EV_NONE)
        return d1_fail(D1_E_ELF, "libelf: %s", elf_errmsg(-1));
    return D1_OK;
}

/* ---- string table builder ------------------------------------------------------------- */

typedef struct strtab {
    char *buf;
    size_t len, cap;
} strtab;

static d1_status strtab_add(strtab *t, const char *s, uint32_t *off)
{
    size_t n = strlen(s) + 1;
    if (t->len + n > UINT32_MAX)
        return d1_fail(D1_E_UNSUPPORTED, "string table too large");
    if (t->len + n > t->cap) {
        size_t ncap = t->cap ? t->cap : 256;
        while (ncap < t->len + n)
            ncap *= 2;
        char *p = realloc(t->buf, ncap);
        if (!p)
            return d1_fail(D1_E_NOMEM, "kelf: out of memory");
        t->buf = p;
        t->cap = ncap;
    }
    memcpy(t->buf + t->len, s, n);
    *off = (uint32_t)t->len;
    t->len += n;
    return D1_OK;
}

/* ---- writer ---------------------------------------------------------------------------- */

typedef struct wsec {
    const char *name_fixed;
    char name_buf[300];
    Elf64_Word type;
    Elf64_Xword flags, entsize, align;
    Elf64_Addr addr;
    Elf64_Word link, info;
    const void *data;
    size_t size;
    Elf_Type dtype;
} wsec;

static d1_status write_fd(const d1s_kernel *k, int fd)
{
    d1_status s = elf_init();
    if (s)
        return s;
    s = d1s_kernel_validate(k);
    if (s) {
        char why[400];
        snprintf(why, sizeof why, "%s", d1_last_error());
        return d1_fail(D1_E_ELF, "refusing to write an invalid kernel: %s", why);
    }
    const d1s_target *t = d1s_kernel_target(k);
    size_t np = d1s_kernel_program_count(k), ni = d1s_kernel_image_count(k);
    size_t npl = d1s_kernel_placement_count(k), nsym = d1s_kernel_symbol_count(k);
    if (np + ni + 9 > MAX_SECTIONS)
        return d1_fail(D1_E_UNSUPPORTED, "kernel needs %zu sections (more than %d)", np + ni + 9,
                       MAX_SECTIONS);

    /* Section indices: 1 note, 2.. texts, then images, then the fixed tables. */
    size_t x_text = 2, x_data = x_text + np, x_prog = x_data + ni;
    size_t x_image = x_prog + 1, x_place = x_image + 1, x_dlist = x_place + 1;
    size_t x_symtab = x_dlist + 1, x_strtab = x_symtab + 1, x_shstr = x_strtab + 1;
    size_t nsec = x_shstr + 1;

    size_t n_dlist = 0;
    for (size_t i = 0; i < npl; i++)
        n_dlist += d1s_kernel_placement(k, i)->n_images;

    wsec *sec = calloc(nsec, sizeof *sec);
    uint8_t *note = calloc(1, NOTE_BYTES);
    uint8_t *progt = calloc(np ? np : 1, PROG_ENT);
    uint8_t *imaget = calloc(ni ? ni : 1, IMAGE_ENT);
    uint8_t *placet = calloc(npl ? npl : 1, PLACE_ENT);
    uint8_t *dlist = calloc(n_dlist ? n_dlist : 1, DLIST_ENT);
    Elf64_Sym *syms = calloc(nsym + np + 1, sizeof *syms);
    strtab str = {0}, shstr = {0};
    uint32_t *code_le = NULL;
    Elf *e = NULL;
    if (!sec || !note || !progt || !imaget || !placet || !dlist || !syms) {
        s = d1_fail(D1_E_NOMEM, "kelf: out of memory");
        goto out_free;
    }

    /* note */
    put32(note, NOTE_NAMESZ);
    put32(note + 4, NOTE_DESCSZ);
    put32(note + 8, D1S_NT_KERNEL);
    memcpy(note + 12, NOTE_NAME, NOTE_NAMESZ);
    put32(note + 16, D1S_KELF_VERSION);
    put32(note + 20, t->node_count);
    put64(note + 24, t->config_hash);
    put64(note + 32, t->sram_bytes);
    sec[1] = (wsec){.name_fixed = ".note.d1", .type = SHT_NOTE, .flags = SHF_ALLOC, .align = 4,
                    .data = note, .size = NOTE_BYTES, .dtype = ELF_T_BYTE};

    uint32_t off;
    if ((s = strtab_add(&str, "", &off)))
        goto out_free;
    /* code: words stored little-endian */
    size_t total_words = 0;
    for (size_t i = 0; i < np; i++)
        total_words += d1s_kernel_program(k, i)->n_words;
    code_le = malloc((total_words ? total_words : 1) * sizeof *code_le);
    if (!code_le) {
        s = d1_fail(D1_E_NOMEM, "kelf: out of memory");
        goto out_free;
    }
    size_t wpos = 0;
    for (size_t i = 0; i < np; i++) {
        const d1s_program *p = d1s_kernel_program(k, i);
        wsec *w = &sec[x_text + i];
        *w = (wsec){.type = SHT_PROGBITS, .flags = SHF_ALLOC | SHF_EXECINSTR, .align = 4,
                    .entsize = 4, .data = code_le + wpos, .size = p->n_words * 4,
                    .dtype = ELF_T_BYTE};
        snprintf(w->name_buf, sizeof w->name_buf, ".text.%s", p->name);
        for (size_t j = 0; j < p->n_words; j++)
            put32((uint8_t *)&code_le[wpos + j], p->words[j]);
        wpos += p->n_words;
        if ((s = strtab_add(&str, p->name, &off)))
            goto out_free;
        put32(progt + i * PROG_ENT, off);
        put32(progt + i * PROG_ENT + 4, (uint32_t)(x_text + i));
        put64(progt + i * PROG_ENT + 8, p->entry);
    }
    for (size_t i = 0; i < ni; i++) {
        const d1s_image *im = d1s_kernel_image(k, i);
        wsec *w = &sec[x_data + i];
        *w = (wsec){.type = SHT_PROGBITS, .flags = SHF_ALLOC | SHF_WRITE, .align = 1,
                    .addr = im->addr, .data = im->bytes, .size = im->size,
                    .dtype = ELF_T_BYTE};
        snprintf(w->name_buf, sizeof w->name_buf, ".data.%zu", i);
        put32(imaget + i * IMAGE_ENT, (uint32_t)(x_data + i));
        put64(imaget + i * IMAGE_ENT + 8, im->addr);
    }
    size_t dpos = 0;
    for (size_t i = 0; i < npl; i++) {
        const d1s_placement *pl = d1s_kernel_placement(k, i);
        uint8_t *r = placet + i * PLACE_ENT;
        put32(r, pl->node_first);
        put32(r + 4, pl->node_last);
        put32(r + 8, pl->program);
        put32(r + 12, (uint32_t)dpos);
        put32(r + 16, (uint32_t)pl->n_images);
        put64(r + 24, pl->entry);
        for (size_t j = 0; j < pl->n_images; j++)
            put32(dlist + (dpos + j) * DLIST_ENT, pl->images[j]);
        dpos += pl->n_images;
    }
    /* symbols: labels (local) first, then one global per program */
    size_t ns = 1;
    for (size_t i = 0; i < nsym; i++, ns++) {
        const d1s_symbol *sy = d1s_kernel_symbol(k, i);
        if ((s = strtab_add(&str, sy->name, &off)))
            goto out_free;
        syms[ns].st_name = off;
        syms[ns].st_value = sy->value;
        if (sy->kind == D1S_SYM_CODE) {
            syms[ns].st_info = ELF64_ST_INFO(STB_LOCAL, STT_NOTYPE);
            syms[ns].st_shndx = (Elf64_Section)(x_text + sy->index);
        } else {
            syms[ns].st_info = ELF64_ST_INFO(STB_LOCAL, STT_OBJECT);
            syms[ns].st_shndx = (Elf64_Section)(x_data + sy->index);
        }
    }
    size_t first_global = ns;
    for (size_t i = 0; i < np; i++, ns++) {
        const d1s_program *p = d1s_kernel_program(k, i);
        syms[ns].st_name = get32(progt + i * PROG_ENT); /* same string */
        syms[ns].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
        syms[ns].st_shndx = (Elf64_Section)(x_text + i);
        syms[ns].st_size = p->n_words * 4;
    }
    sec[x_prog] = (wsec){.name_fixed = ".d1.prog", .type = SHT_PROGBITS, .align = 8,
                         .entsize = PROG_ENT, .link = (Elf64_Word)x_strtab, .data = progt,
                         .size = np * PROG_ENT, .dtype = ELF_T_BYTE};
    sec[x_image] = (wsec){.name_fixed = ".d1.image", .type = SHT_PROGBITS, .align = 8,
                          .entsize = IMAGE_ENT, .data = imaget, .size = ni * IMAGE_ENT,
                          .dtype = ELF_T_BYTE};
    sec[x_place] = (wsec){.name_fixed = ".d1.place", .type = SHT_PROGBITS, .align = 8,
                          .entsize = PLACE_ENT, .data = placet, .size = npl * PLACE_ENT,
                          .dtype = ELF_T_BYTE};
    sec[x_dlist] = (wsec){.name_fixed = ".d1.dlist", .type = SHT_PROGBITS, .align = 4,
                          .entsize = DLIST_ENT, .data = dlist, .size = n_dlist * DLIST_ENT,
                          .dtype = ELF_T_BYTE};
    sec[x_symtab] = (wsec){.name_fixed = ".symtab", .type = SHT_SYMTAB, .align = 8,
                           .entsize = sizeof(Elf64_Sym), .link = (Elf64_Word)x_strtab,
                           .info = (Elf64_Word)first_global, .data = syms,
                           .size = ns * sizeof(Elf64_Sym), .dtype = ELF_T_SYM};
    sec[x_strtab] = (wsec){.name_fixed = ".strtab", .type = SHT_STRTAB, .align = 1,
                           .dtype = ELF_T_BYTE};
    sec[x_shstr] = (wsec){.name_fixed = ".shstrtab", .type = SHT_STRTAB, .align = 1,
                          .dtype = ELF_T_BYTE};

    uint32_t *sh_names = calloc(nsec, sizeof *sh_names);
    if (!sh_names) {
        s = d1_fail(D1_E_NOMEM, "kelf: out of memory");
        goto out_free;
    }
    if ((s = strtab_add(&shstr, "", &off)))
        goto out_names;
    for (size_t i = 1; i < nsec; i++)
        if ((s = strtab_add(&shstr, sec[i].name_fixed ? sec[i].name_fixed : sec[i].name_buf,
                            &sh_names[i])))
            goto out_names;
    sec[x_strtab].data = str.buf;
    sec[x_strtab].size = str.len;
    sec[x_shstr].data = shstr.buf;
    sec[x_shstr].size = shstr.len;

    e = elf_begin(fd, ELF_C_WRITE, NULL);
    if (!e) {
        s = d1_fail(D1_E_ELF, "libelf: elf_begin: %s", elf_errmsg(-1));
        goto out_names;
    }
    Elf64_Ehdr *eh = elf64_newehdr(e);
    if (!eh || !elf64_newphdr(e, 1)) {
        s = d1_fail(D1_E_ELF, "libelf: %s", elf_errmsg(-1));
        goto out_names;
    }
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_OSABI] = ELFOSABI_STANDALONE;
    eh->e_type = ET_EXEC;
    eh->e_machine = D1S_KELF_EM;
    eh->e_version = EV_CURRENT;
    eh->e_entry = 0;
    eh->e_shstrndx = (Elf64_Half)x_shstr;
    for (size_t i = 1; i < nsec; i++) {
        Elf_Scn *scn = elf_newscn(e);
        Elf_Data *d = scn ? elf_newdata(scn) : NULL;
        Elf64_Shdr *sh = scn ? elf64_getshdr(scn) : NULL;
        if (!d || !sh) {
            s = d1_fail(D1_E_ELF, "libelf: new section: %s", elf_errmsg(-1));
            goto out_names;
        }
        d->d_buf = (void *)sec[i].data;
        d->d_size = sec[i].size;
        d->d_type = sec[i].dtype;
        d->d_align = sec[i].align;
        d->d_version = EV_CURRENT;
        sh->sh_name = sh_names[i];
        sh->sh_type = sec[i].type;
        sh->sh_flags = sec[i].flags;
        sh->sh_addr = sec[i].addr;
        sh->sh_entsize = sec[i].entsize;
        sh->sh_link = sec[i].link;
        sh->sh_info = sec[i].info;
        sh->sh_addralign = sec[i].align;
    }
    if (elf_update(e, ELF_C_NULL) < 0) {
        s = d1_fail(D1_E_ELF, "libelf: layout: %s", elf_errmsg(-1));
        goto out_names;
    }
    {
        Elf64_Shdr *nsh = elf64_getshdr(elf_getscn(e, 1));
        Elf64_Phdr *ph = elf64_getphdr(e);
        if (!nsh || !ph) {
            s = d1_fail(D1_E_ELF, "libelf: %s", elf_errmsg(-1));
            goto out_names;
        }
        ph->p_type = PT_NOTE;
        ph->p_flags = PF_R;
        ph->p_offset = nsh->sh_offset;
        ph->p_filesz = nsh->sh_size;
        ph->p_memsz = nsh->sh_size;
        ph->p_align = 4;
        elf_flagphdr(e, ELF_C_SET, ELF_F_DIRTY);
    }
    if (elf_update(e, ELF_C_WRITE) < 0) {
        s = d1_fail(D1_E_IO, "writing the kernel binary: %s", elf_errmsg(-1));
        goto out_names;
    }
out_names:
    free(sh_names);
out_free:
    if (e)
        elf_end(e);
    free(code_le);
    free(str.buf);
    free(shstr.buf);
    free(syms);
    free(dlist);
    free(placet);
    free(imaget);
    free(progt);
    free(note);
    free(sec);
    return s;
}

d1_status d1s_kelf_write_file(const d1s_kernel *k, const char *path)
{
    D1_ASSERT(k && path);
    /* libelf needs a seekable file: lay the binary out in memory, then copy it, so that
     * pipes and devices (/dev/stdout) work too. */
    void *buf;
    size_t size;
    d1_status s = d1s_kelf_write_mem(k, &buf, &size);
    if (s)
        return s;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        s = d1_fail(D1_E_IO, "%s: %s", path, strerror(errno));
        goto free_buf;
    }
    struct stat sb;
    int regular = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
    for (size_t done = 0; done < size && !s;) {
        ssize_t n = write(fd, (const char *)buf + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            s = d1_fail(D1_E_IO, "%s: %s", path, n < 0 ? strerror(errno) : "short write");
        else
            done += (size_t)n;
    }
    if (close(fd) != 0 && s == D1_OK)
        s = d1_fail(D1_E_IO, "%s: %s", path, strerror(errno));
    if (s && regular)
        unlink(path); /* no partial binary; never a device or pipe the user named */
free_buf:
    free(buf);
    return s;
}

d1_status d1s_kelf_write_mem(const d1s_kernel *k, void **buf, size_t *size)
{
    D1_ASSERT(k && buf && size);
    FILE *f = tmpfile();
    if (!f)
        return d1_fail(D1_E_IO, "tmpfile: %s", strerror(errno));
    d1_status s = write_fd(k, fileno(f));
    if (s)
        goto out_close;
    if (fseek(f, 0, SEEK_END) != 0) {
        s = d1_fail(D1_E_IO, "tmpfile: %s", strerror(errno));
        goto out_close;
    }
    long n = ftell(f);
    rewind(f);
    void *p = malloc(n > 0 ? (size_t)n : 1);
    if (!p) {
        s = d1_fail(D1_E_NOMEM, "kelf: out of memory");
        goto out_close;
    }
    if (n < 0 || fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        s = d1_fail(D1_E_IO, "tmpfile: short read");
        goto out_close;
    }
    *buf = p;
    *size = (size_t)n;
out_close:
    fclose(f);
    return s;
}

/* ---- reader ---------------------------------------------------------------------------- */

typedef struct rsec {
    GElf_Shdr sh;
    const char *name;
    const uint8_t *bytes; /* raw file bytes of the section (NULL for NOBITS) */
    int role;             /* R_* below */
    uint32_t index;       /* program / image index for texts and images */
    int used;
} rsec;

enum { R_OTHER, R_NOTE, R_TEXT, R_DATA, R_PROG, R_IMAGE, R_PLACE, R_DLIST, R_SYMTAB, R_STRTAB };

typedef struct reader {
    const char *what; /* file name for messages */
    const uint8_t *buf;
    size_t size;
    Elf *e;
    rsec *sec;
    size_t nsec;
    size_t x[R_STRTAB + 1]; /* section index of each single-instance role (0 = missing) */
} reader;

#define BAD(...) d1_fail(D1_E_ELF, __VA_ARGS__)

/* Re-raise the current detail as D1_E_ELF prefixed with the file name. */
static d1_status rewrap(const reader *r)
{
    char why[512];
    snprintf(why, sizeof why, "%s", d1_last_error());
    return BAD("%s: %s", r->what, why);
}

static const struct {
    const char *name;
    int role;
    Elf64_Word type;
    Elf64_Xword entsize;
} fixed_secs[] = {
    {".note.d1", R_NOTE, SHT_NOTE, 0},          {".d1.prog", R_PROG, SHT_PROGBITS, PROG_ENT},
    {".d1.image", R_IMAGE, SHT_PROGBITS, IMAGE_ENT},
    {".d1.place", R_PLACE, SHT_PROGBITS, PLACE_ENT},
    {".d1.dlist", R_DLIST, SHT_PROGBITS, DLIST_ENT},
    {".symtab", R_SYMTAB, SHT_SYMTAB, sizeof(Elf64_Sym)},
    {".strtab", R_STRTAB, SHT_STRTAB, 0},
};

static d1_status check_header(reader *r)
{
    const uint8_t *b = r->buf;
    if (r->size < EI_NIDENT || memcmp(b, ELFMAG, SELFMAG) != 0)
        return BAD("%s: not an ELF file", r->what);
    if (b[EI_CLASS] != ELFCLASS64)
        return BAD("%s: not ELF64 (class %u)", r->what, b[EI_CLASS]);
    if (b[EI_DATA] != ELFDATA2LSB)
        return BAD("%s: not little-endian (data encoding %u)", r->what, b[EI_DATA]);
    if (b[EI_VERSION] != EV_CURRENT)
        return BAD("%s: unsupported ELF version %u", r->what, b[EI_VERSION]);
    if (b[EI_OSABI] != ELFOSABI_STANDALONE)
        return BAD("%s: OS ABI %u is not ELFOSABI_STANDALONE (%u)", r->what, b[EI_OSABI],
                   ELFOSABI_STANDALONE);
    if (r->size < sizeof(Elf64_Ehdr))
        return BAD("%s: truncated ELF header (%zu of %zu bytes)", r->what, r->size,
                   sizeof(Elf64_Ehdr));
    uint16_t type = get16(b + 16), machine = get16(b + 18);
    if (type != ET_EXEC)
        return BAD("%s: ELF type %u is not ET_EXEC", r->what, type);
    if (machine != D1S_KELF_EM)
        return BAD("%s: machine 0x%x is not D1 (0x%x)", r->what, machine, D1S_KELF_EM);
    if (get32(b + 20) != EV_CURRENT)
        return BAD("%s: unsupported ELF version %u", r->what, get32(b + 20));
    uint64_t phoff = get64(b + 32), shoff = get64(b + 40);
    uint16_t ehsize = get16(b + 52), phentsize = get16(b + 54), phnum = get16(b + 56);
    uint16_t shentsize = get16(b + 58), shnum = get16(b + 60), shstrndx = get16(b + 62);
    if (ehsize != sizeof(Elf64_Ehdr))
        return BAD("%s: bad ELF header size %u", r->what, ehsize);
    if (shnum == 0 || shoff == 0)
        return BAD("%s: no section headers (extended numbering unsupported)", r->what);
    if (shentsize != sizeof(Elf64_Shdr))
        return BAD("%s: bad section header size %u", r->what, shentsize);
    if (shoff % 8)
        return BAD("%s: misaligned section header table (offset 0x%" PRIx64 ")", r->what, shoff);
    if (shoff > r->size || (uint64_t)shnum * shentsize > r->size - shoff)
        return BAD("%s: truncated: section headers end past the end of the file (%zu bytes)",
                   r->what, r->size);
    if (shstrndx == 0 || shstrndx >= shnum)
        return BAD("%s: bad section name table index %u", r->what, shstrndx);
    if (phnum != 1 || phentsize != sizeof(Elf64_Phdr))
        return BAD("%s: expected one program header (PT_NOTE), found %u", r->what, phnum);
    if (phoff % 8 || phoff > r->size || sizeof(Elf64_Phdr) > r->size - phoff)
        return BAD("%s: truncated or misaligned program header table", r->what);
    return D1_OK;
}

static d1_status read_sections(reader *r)
{
    if (elf_getshdrnum(r->e, &r->nsec) != 0)
        return BAD("%s: %s", r->what, elf_errmsg(-1));
    size_t shstrndx;
    if (elf_getshdrstrndx(r->e, &shstrndx) != 0)
        return BAD("%s: %s", r->what, elf_errmsg(-1));
    r->sec = calloc(r->nsec, sizeof *r->sec);
    if (!r->sec)
        return d1_fail(D1_E_NOMEM, "kelf: out of memory");
    /* bounds first: names live in a section too */
    for (size_t i = 0; i < r->nsec; i++) {
        Elf_Scn *scn = elf_getscn(r->e, i);
        rsec *s = &r->sec[i];
        if (!scn || !gelf_getshdr(scn, &s->sh))
            return BAD("%s: section %zu: %s", r->what, i, elf_errmsg(-1));
        if (i == 0)
            continue;
        if (s->sh.sh_type != SHT_NOBITS &&
            (s->sh.sh_offset > r->size || s->sh.sh_size > r->size - s->sh.sh_offset))
            return BAD("%s: truncated: section %zu [0x%" PRIx64 ", +0x%" PRIx64
                       ") ends past the end of the file (%zu bytes)",
                       r->what, i, (uint64_t)s->sh.sh_offset, (uint64_t)s->sh.sh_size,
                       r->size);
        uint64_t al = s->sh.sh_addralign;
        if (al & (al - 1))
            return BAD("%s: section %zu: alignment %" PRIu64 " is not a power of two", r->what,
                       i, al);
        if (al > 1 && s->sh.sh_offset % al)
            return BAD("%s: misaligned section %zu (offset 0x%" PRIx64 ", alignment %" PRIu64
                       ")",
                       r->what, i, (uint64_t)s->sh.sh_offset, al);
        if (s->sh.sh_type != SHT_NOBITS)
            s->bytes = r->buf + s->sh.sh_offset;
    }
    const rsec *ss = &r->sec[shstrndx];
    if (ss->sh.sh_type != SHT_STRTAB || ss->sh.sh_size == 0 ||
        ss->bytes[ss->sh.sh_size - 1] != '\0')
        return BAD("%s: bad section name table", r->what);
    for (size_t i = 1; i < r->nsec; i++) {
        rsec *s = &r->sec[i];
        if (s->sh.sh_name >= ss->sh.sh_size)
            return BAD("%s: section %zu: name offset out of range", r->what, i);
        s->name = (const char *)ss->bytes + s->sh.sh_name;
        if (i == shstrndx)
            continue;
        if (!strncmp(s->name, ".text.", 6)) {
            s->role = R_TEXT;
            continue;
        }
        if (!strncmp(s->name, ".data.", 6)) {
            s->role = R_DATA;
            continue;
        }
        int found = 0;
        for (size_t f = 0; f < sizeof fixed_secs / sizeof fixed_secs[0]; f++) {
            if (strcmp(s->name, fixed_secs[f].name))
                continue;
            found = 1;
            int role = fixed_secs[f].role;
            if (r->x[role])
                return BAD("%s: duplicate section %s", r->what, s->name);
            if (s->sh.sh_type != fixed_secs[f].type)
                return BAD("%s: section %s has type %u, expected %u", r->what, s->name,
                           (unsigned)s->sh.sh_type, (unsigned)fixed_secs[f].type);
            if (fixed_secs[f].entsize &&
                (s->sh.sh_entsize != fixed_secs[f].entsize ||
                 s->sh.sh_size % fixed_secs[f].entsize))
                return BAD("%s: section %s: entry size %" PRIu64 " / size %" PRIu64
                           " do not match %" PRIu64 "-byte entries",
                           r->what, s->name, (uint64_t)s->sh.sh_entsize,
                           (uint64_t)s->sh.sh_size, (uint64_t)fixed_secs[f].entsize);
            s->role = role;
            r->x[role] = i;
        }
        if (!found)
            return BAD("%s: unexpected section '%s'", r->what, s->name);
    }
    for (size_t f = 0; f < sizeof fixed_secs / sizeof fixed_secs[0]; f++)
        if (!r->x[fixed_secs[f].role])
            return BAD("%s: missing section %s", r->what, fixed_secs[f].name);
    const rsec *st = &r->sec[r->x[R_STRTAB]];
    if (st->sh.sh_size == 0 || st->bytes[st->sh.sh_size - 1] != '\0')
        return BAD("%s: .strtab is not NUL-terminated", r->what);
    return D1_OK;
}

static d1_status read_note(reader *r, d1s_target *t)
{
    const rsec *n = &r->sec[r->x[R_NOTE]];
    if (n->sh.sh_size != NOTE_BYTES)
        return BAD("%s: bad .note.d1: size %" PRIu64 ", expected %d", r->what,
                   (uint64_t)n->sh.sh_size, NOTE_BYTES);
    const uint8_t *p = n->bytes;
    if (get32(p) != NOTE_NAMESZ || memcmp(p + 12, NOTE_NAME, NOTE_NAMESZ) != 0 ||
        p[15] != 0)
        return BAD("%s: bad .note.d1: owner name is not \"D1\"", r->what);
    if (get32(p + 4) != NOTE_DESCSZ || get32(p + 8) != D1S_NT_KERNEL)
        return BAD("%s: bad .note.d1: descriptor size %u, type 0x%x", r->what, get32(p + 4),
                   get32(p + 8));
    uint32_t version = get32(p + 16);
    if (version != D1S_KELF_VERSION)
        return BAD("%s: unsupported kernel format version %u (this reader: %u)", r->what,
                   version, D1S_KELF_VERSION);
    t->node_count = get32(p + 20);
    t->config_hash = get64(p + 24);
    t->sram_bytes = get64(p + 32);
    if (t->node_count == 0 || t->node_count == D1S_NODE_LAST)
        return BAD("%s: bad .note.d1: node count %u", r->what, t->node_count);
    /* the program header must describe the note */
    GElf_Phdr ph;
    if (!gelf_getphdr(r->e, 0, &ph))
        return BAD("%s: program header: %s", r->what, elf_errmsg(-1));
    if (ph.p_type != PT_NOTE || ph.p_offset != n->sh.sh_offset || ph.p_filesz != n->sh.sh_size ||
        ph.p_memsz != ph.p_filesz)
        return BAD("%s: program header does not describe .note.d1", r->what);
    return D1_OK;
}

static const char *strtab_at(const reader *r, uint64_t off)
{
    const rsec *st = &r->sec[r->x[R_STRTAB]];
    return off < st->sh.sh_size ? (const char *)st->bytes + off : NULL;
}

static d1_status read_tables(reader *r, d1s_kernel *k)
{
    d1_status s;
    /* programs */
    const rsec *pt = &r->sec[r->x[R_PROG]];
    if (pt->sh.sh_link != r->x[R_STRTAB])
        return BAD("%s: .d1.prog is not linked to .strtab", r->what);
    size_t np = pt->sh.sh_size / PROG_ENT;
    for (size_t i = 0; i < np; i++) {
        const uint8_t *e = pt->bytes + i * PROG_ENT;
        const char *name = strtab_at(r, get32(e));
        uint32_t x = get32(e + 4);
        if (!name)
            return BAD("%s: program %zu: name offset out of range", r->what, i);
        if (x == 0 || x >= r->nsec || r->sec[x].role != R_TEXT)
            return BAD("%s: program %zu ('%s'): section %u is not a .text section", r->what, i,
                       name, x);
        rsec *ts = &r->sec[x];
        if (ts->used++)
            return BAD("%s: program %zu: section %s used twice", r->what, i, ts->name);
        if (strcmp(ts->name + 6, name))
            return BAD("%s: program %zu: name '%s' does not match section %s", r->what, i, name,
                       ts->name);
        if (ts->sh.sh_type != SHT_PROGBITS || !(ts->sh.sh_flags & SHF_EXECINSTR))
            return BAD("%s: section %s is not executable PROGBITS", r->what, ts->name);
        if (ts->sh.sh_offset % 4 || ts->sh.sh_size % 4)
            return BAD("%s: misaligned section %s (offset 0x%" PRIx64 ", size %" PRIu64 ")",
                       r->what, ts->name, (uint64_t)ts->sh.sh_offset, (uint64_t)ts->sh.sh_size);
        if (ts->sh.sh_size == 0)
            return BAD("%s: program '%s' has no instructions", r->what, name);
        uint32_t idx;
        if ((s = d1s_kernel_add_program(k, name, &idx)))
            return rewrap(r);
        ts->index = idx;
        for (uint64_t off = 0; off < ts->sh.sh_size; off += 4) {
            uint32_t w = get32(ts->bytes + off);
            if (d1s_kernel_emit_word(k, idx, w) != D1_OK) {
                char why[400];
                snprintf(why, sizeof why, "%s", d1_last_error());
                return BAD("%s: program '%s' offset 0x%" PRIx64 ": undecodable word: %s",
                           r->what, name, off, why);
            }
        }
        uint64_t entry = get64(e + 8);
        if (entry % 4 || entry >= ts->sh.sh_size)
            return BAD("%s: program '%s': entry 0x%" PRIx64 " outside the program (%" PRIu64
                       " bytes)",
                       r->what, name, entry, (uint64_t)ts->sh.sh_size);
        d1s_kernel_set_entry(k, idx, entry);
    }
    /* images */
    const rsec *it = &r->sec[r->x[R_IMAGE]];
    size_t ni = it->sh.sh_size / IMAGE_ENT;
    for (size_t i = 0; i < ni; i++) {
        const uint8_t *e = it->bytes + i * IMAGE_ENT;
        uint32_t x = get32(e);
        uint64_t addr = get64(e + 8);
        if (get32(e + 4))
            return BAD("%s: data image %zu: reserved field not zero", r->what, i);
        if (x == 0 || x >= r->nsec || r->sec[x].role != R_DATA)
            return BAD("%s: data image %zu: section %u is not a .data section", r->what, i, x);
        rsec *ds = &r->sec[x];
        if (ds->used++)
            return BAD("%s: data image %zu: section %s used twice", r->what, i, ds->name);
        if (ds->sh.sh_type != SHT_PROGBITS || ds->sh.sh_addr != addr)
            return BAD("%s: data image %zu: section %s type/address mismatch", r->what, i,
                       ds->name);
        uint32_t idx;
        if ((s = d1s_kernel_add_image(k, addr, ds->bytes, ds->sh.sh_size, &idx)))
            return s == D1_E_NOMEM ? s : rewrap(r);
        ds->index = idx;
    }
    for (size_t i = 1; i < r->nsec; i++)
        if ((r->sec[i].role == R_TEXT || r->sec[i].role == R_DATA) && !r->sec[i].used)
            return BAD("%s: section %s is not in the program/image tables", r->what,
                       r->sec[i].name);
    /* placements */
    const rsec *plt = &r->sec[r->x[R_PLACE]], *dl = &r->sec[r->x[R_DLIST]];
    size_t npl = plt->sh.sh_size / PLACE_ENT, ndl = dl->sh.sh_size / DLIST_ENT;
    for (size_t i = 0; i < npl; i++) {
        const uint8_t *e = plt->bytes + i * PLACE_ENT;
        uint32_t first = get32(e), last = get32(e + 4), prog = get32(e + 8);
        uint32_t dfirst = get32(e + 12), dcount = get32(e + 16);
        uint64_t entry = get64(e + 24);
        if (get32(e + 20))
            return BAD("%s: placement %zu: reserved field not zero", r->what, i);
        if (prog >= np)
            return BAD("%s: placement %zu references missing program %u (%zu programs)",
                       r->what, i, prog, np);
        if (first > last)
            return BAD("%s: placement %zu: empty node range %u-%u", r->what, i, first, last);
        if (dfirst > ndl || dcount > ndl - dfirst)
            return BAD("%s: placement %zu: image list [%u, +%u) outside .d1.dlist", r->what, i,
                       dfirst, dcount);
        uint32_t idx;
        if ((s = d1s_kernel_add_placement(k, first, last, prog, entry, &idx)))
            return s == D1_E_NOMEM ? s : rewrap(r);
        for (uint32_t j = 0; j < dcount; j++) {
            uint32_t img = get32(dl->bytes + (size_t)(dfirst + j) * DLIST_ENT);
            if (img >= ni)
                return BAD("%s: placement %zu references missing data image %u", r->what, i,
                           img);
            if ((s = d1s_kernel_placement_add_image(k, idx, img)))
                return s == D1_E_NOMEM ? s : rewrap(r);
        }
    }
    return D1_OK;
}

static d1_status read_symbols(reader *r, d1s_kernel *k)
{
    const rsec *st = &r->sec[r->x[R_SYMTAB]];
    if (st->sh.sh_link != r->x[R_STRTAB])
        return BAD("%s: .symtab is not linked to .strtab", r->what);
    Elf_Data *d = elf_getdata(elf_getscn(r->e, r->x[R_SYMTAB]), NULL);
    if (!d)
        return BAD("%s: .symtab: %s", r->what, elf_errmsg(-1));
    size_t n = st->sh.sh_size / sizeof(Elf64_Sym);
    size_t np = d1s_kernel_program_count(k);
    if (n < 1 + np || st->sh.sh_info > n)
        return BAD("%s: .symtab too short", r->what);
    char *seen = calloc(np ? np : 1, 1);
    if (!seen)
        return d1_fail(D1_E_NOMEM, "kelf: out of memory");
    d1_status s = D1_OK;
    for (size_t i = 1; i < n; i++) {
        GElf_Sym sym;
        if (!gelf_getsym(d, (int)i, &sym)) {
            s = BAD("%s: symbol %zu: %s", r->what, i, elf_errmsg(-1));
            goto out;
        }
        const char *name = strtab_at(r, sym.st_name);
        unsigned bind = GELF_ST_BIND(sym.st_info), type = GELF_ST_TYPE(sym.st_info);
        if (!name || (bind == STB_LOCAL) != (i < st->sh.sh_info)) {
            s = BAD("%s: symbol %zu: bad name or binding", r->what, i);
            goto out;
        }
        const rsec *in = sym.st_shndx > 0 && sym.st_shndx < r->nsec ? &r->sec[sym.st_shndx]
                                                                    : NULL;
        if (bind == STB_GLOBAL && type == STT_FUNC && in && in->role == R_TEXT) {
            if (sym.st_value != 0 || sym.st_size != in->sh.sh_size ||
                strcmp(name, d1s_kernel_program(k, in->index)->name) || seen[in->index]++) {
                s = BAD("%s: symbol '%s' does not match its program", r->what, name);
                goto out;
            }
        } else if (bind == STB_LOCAL && type == STT_NOTYPE && in && in->role == R_TEXT) {
            if ((s = d1s_kernel_add_symbol(k, name, D1S_SYM_CODE, in->index, sym.st_value)))
                goto out_bad;
        } else if (bind == STB_LOCAL && type == STT_OBJECT && in && in->role == R_DATA) {
            if ((s = d1s_kernel_add_symbol(k, name, D1S_SYM_DATA, in->index, sym.st_value)))
                goto out_bad;
        } else {
            s = BAD("%s: symbol %zu ('%s'): unexpected binding/type/section", r->what, i, name);
            goto out;
        }
    }
    for (size_t i = 0; i < np; i++)
        if (!seen[i]) {
            s = BAD("%s: program '%s' has no symbol", r->what, d1s_kernel_program(k, i)->name);
            goto out;
        }
    goto out;
out_bad:
    if (s != D1_E_NOMEM)
        s = rewrap(r);
out:
    free(seen);
    return s;
}

static d1_status read_any(const char *what, const void *buf, size_t size,
                          const d1s_target *expect, d1s_kernel **out)
{
    d1_status s = elf_init();
    if (s)
        return s;
    reader r = {.what = what, .size = size};
    d1s_kernel *k = NULL;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return d1_fail(D1_E_NOMEM, "kelf: out of memory (%zu bytes)", size);
    if (size)
        memcpy(copy, buf, size);
    r.buf = copy;
    if ((s = check_header(&r)))
        goto out;
    r.e = elf_memory((char *)copy, size);
    if (!r.e || elf_kind(r.e) != ELF_K_ELF) {
        s = BAD("%s: libelf: %s", what, elf_errmsg(-1));
        goto out;
    }
    if ((s = read_sections(&r)))
        goto out;
    d1s_target note, eff;
    if ((s = read_note(&r, &note)))
        goto out;
    eff = note;
    if (expect) {
        if (expect->config_hash && note.config_hash && expect->config_hash != note.config_hash) {
            s = BAD("%s: built for another configuration (config hash 0x%016" PRIx64
                    ", target 0x%016" PRIx64 ")",
                    what, note.config_hash, expect->config_hash);
            goto out;
        }
        eff.node_count = expect->node_count;
        eff.sram_bytes = expect->sram_bytes;
    }
    if ((s = d1s_kernel_create(&eff, &k)))
        goto out;
    if ((s = read_tables(&r, k)) || (s = read_symbols(&r, k)))
        goto out;
    if ((s = d1s_kernel_validate(k))) {
        s = s == D1_E_NOMEM ? s : rewrap(&r);
        goto out;
    }
    d1s_kernel_set_target(k, &note);
    *out = k;
    k = NULL;
out:
    d1s_kernel_destroy(k);
    if (r.e)
        elf_end(r.e);
    free(r.sec);
    free(copy);
    return s;
}

d1_status d1s_kelf_read_mem(const void *buf, size_t size, const d1s_target *expect,
                            d1s_kernel **out)
{
    D1_ASSERT(out && (buf || !size));
    return read_any("kernel binary", buf, size, expect, out);
}

d1_status d1s_kelf_read_file(const char *path, const d1s_target *expect, d1s_kernel **out)
{
    D1_ASSERT(path && out);
    char *buf;
    size_t n;
    d1_status s = d1_file_read(path, D1S_KELF_MAX_FILE_BYTES, 0, ELFMAG, SELFMAG, &buf, &n);
    if (s)
        return s;
    s = read_any(path, buf, n, expect, out);
    free(buf);
    return s;
}

d1_status d1s_target_from_config(const d1_config *cfg, d1s_target *t)
{
    D1_ASSERT(cfg && t);
    int64_t positions = cfg->mesh_cols * cfg->mesh_rows;
    int (*xy)[2] = malloc((size_t)(positions + 1) * sizeof *xy);
    if (!xy)
        return d1_fail(D1_E_NOMEM, "out of memory");
    int harvested = d1_config_harvested(cfg, xy, (int)positions + 1);
    free(xy);
    if (harvested < 0)
        return D1_E_CONFIG;
    int64_t chips = cfg->tile_chips_x * cfg->tile_chips_y * cfg->tiles_x * cfg->tiles_y;
    int64_t nodes = chips * (positions - harvested);
    if (nodes <= 0 || nodes >= (int64_t)D1S_NODE_LAST)
        return d1_fail(D1_E_CONFIG, "configuration has %" PRId64 " nodes", nodes);
    t->node_count = (uint32_t)nodes;
    t->sram_bytes = (uint64_t)cfg->sram_bytes;
    t->config_hash = d1_config_hash(cfg);
    return D1_OK;
}
