/* IDX reader (zlib) and the synthetic data set. Every failure returns a d1_status with a
 * detail naming the file and what is wrong; nothing here aborts on bad input. */
#include "mnist.h"

#include "rng.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

void d1x_dataset_fini(d1x_dataset *ds)
{
    if (!ds)
        return;
    free(ds->x);
    free(ds->y);
    memset(ds, 0, sizeof *ds);
}

/* ---- IDX files ------------------------------------------------------------------------ */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Open a gzip file, rejecting files that are not gzip (zlib would read them as raw). */
static d1_status gz_open(const char *path, gzFile *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return d1_fail(D1_E_IO, "%s: %s", path, strerror(errno));
    unsigned char magic[2] = {0, 0};
    size_t got = fread(magic, 1, 2, f);
    fclose(f);
    if (got < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        return d1_fail(D1_E_FORMAT, "%s: not a gzip-compressed file", path);
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return d1_fail(D1_E_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "zlib");
    *out = gz;
    return D1_OK;
}

/* Read exactly n bytes; short read = truncated file (or corrupt stream). */
static d1_status gz_read_exact(gzFile gz, const char *path, void *buf, size_t n, const char *what)
{
    unsigned char *p = buf;
    size_t done = 0;
    while (done < n) {
        size_t chunk = n - done > (size_t)INT_MAX / 2 ? (size_t)INT_MAX / 2 : n - done;
        int r = gzread(gz, p + done, (unsigned)chunk);
        if (r < 0) {
            int zerr = 0;
            const char *msg = gzerror(gz, &zerr);
            if (zerr == Z_ERRNO)
                return d1_fail(D1_E_IO, "%s: read error: %s", path, strerror(errno));
            return d1_fail(D1_E_FORMAT, "%s: corrupt gzip data (%s)", path, msg);
        }
        if (r == 0) {
            int zerr = 0;
            const char *msg = gzerror(gz, &zerr);
            if (zerr != Z_OK && zerr != Z_BUF_ERROR)
                return d1_fail(D1_E_FORMAT, "%s: corrupt gzip data (%s)", path, msg);
            return d1_fail(D1_E_FORMAT, "%s: truncated file: %s ends after %zu of %zu bytes", path,
                           what, done, n);
        }
        done += (size_t)r;
    }
    return D1_OK;
}

static d1_status gz_expect_end(gzFile gz, const char *path)
{
    unsigned char extra;
    int r = gzread(gz, &extra, 1);
    if (r > 0)
        return d1_fail(D1_E_FORMAT, "%s: trailing bytes after the declared data", path);
    if (r < 0) {
        int zerr = 0;
        const char *msg = gzerror(gz, &zerr);
        return d1_fail(D1_E_FORMAT, "%s: corrupt gzip data (%s)", path, msg);
    }
    return D1_OK;
}

static d1_status check_magic(const char *path, uint32_t got, uint32_t want)
{
    if (got == want)
        return D1_OK;
    const char *hint = got == D1X_IDX_MAGIC_IMAGES   ? " (an image file, not labels)"
                       : got == D1X_IDX_MAGIC_LABELS ? " (a label file, not images)"
                                                     : "";
    return d1_fail(D1_E_FORMAT, "%s: bad IDX magic 0x%08x, expected 0x%08x%s", path, (unsigned)got,
                   (unsigned)want, hint);
}

static d1_status check_count(const char *path, uint32_t count)
{
    if (count == 0 || count > D1X_IDX_MAX_COUNT)
        return d1_fail(D1_E_RANGE, "%s: item count %u not in 1..%u", path, (unsigned)count,
                       D1X_IDX_MAX_COUNT);
    return D1_OK;
}

/* One IDX file: magic, item count, then `ndims` dimensions (images: 28 x 28; labels: none),
 * then count * item_bytes bytes and nothing after them. */
typedef struct idx_kind {
    uint32_t magic;
    int ndims;
    size_t item_bytes;
    const char *data_what; /* "the pixel data" */
} idx_kind;

static const idx_kind idx_images = {D1X_IDX_MAGIC_IMAGES, 2, D1X_MNIST_PIXELS, "the pixel data"};
static const idx_kind idx_labels = {D1X_IDX_MAGIC_LABELS, 0, 1, "the label data"};

static d1_status idx_read(const char *path, const idx_kind *k, uint8_t **out, size_t *count)
{
    if (!path || !out || !count)
        return d1_fail(D1_E_INVAL, "idx: NULL argument");
    gzFile gz = NULL;
    d1_status st = gz_open(path, &gz);
    if (st != D1_OK)
        return st;
    unsigned char hdr[16];
    uint8_t *data = NULL;
    if ((st = gz_read_exact(gz, path, hdr, 4, "the header")) != D1_OK)
        goto close_file;
    if ((st = check_magic(path, be32(hdr), k->magic)) != D1_OK)
        goto close_file;
    if ((st = gz_read_exact(gz, path, hdr + 4, 4 * (size_t)(1 + k->ndims), "the header")) != D1_OK)
        goto close_file;
    uint32_t n = be32(hdr + 4);
    if ((st = check_count(path, n)) != D1_OK)
        goto close_file;
    if (k->ndims == 2) {
        uint32_t rows = be32(hdr + 8), cols = be32(hdr + 12);
        if (rows != D1X_MNIST_ROWS || cols != D1X_MNIST_COLS) {
            st = d1_fail(D1_E_SHAPE, "%s: images are %ux%u, expected %dx%d", path,
                         (unsigned)rows, (unsigned)cols, D1X_MNIST_ROWS, D1X_MNIST_COLS);
            goto close_file;
        }
    }
    size_t bytes = (size_t)n * k->item_bytes;
    data = malloc(bytes);
    if (!data) {
        st = d1_fail(D1_E_NOMEM, "%s: no memory for %zu bytes of %s", path, bytes,
                     k->data_what);
        goto close_file;
    }
    if ((st = gz_read_exact(gz, path, data, bytes, k->data_what)) != D1_OK)
        goto free_data;
    if ((st = gz_expect_end(gz, path)) != D1_OK)
        goto free_data;
    gzclose(gz);
    *out = data;
    *count = n;
    return D1_OK;

free_data:
    free(data);
close_file:
    gzclose(gz);
    return st;
}

d1_status d1x_idx_read_images(const char *path, uint8_t **pixels, size_t *count)
{
    return idx_read(path, &idx_images, pixels, count);
}

d1_status d1x_idx_read_labels(const char *path, uint8_t **labels, size_t *count)
{
    uint8_t *data;
    size_t n;
    d1_status st = idx_read(path, &idx_labels, &data, &n);
    if (st != D1_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        if (data[i] >= D1X_MNIST_CLASSES) {
            st = d1_fail(D1_E_RANGE, "%s: label %zu is %u, not in 0..%d", path, i,
                         (unsigned)data[i], D1X_MNIST_CLASSES - 1);
            free(data);
            return st;
        }
    *labels = data;
    *count = n;
    return D1_OK;
}

d1_status d1x_mnist_load(const char *dir, const char *split, d1x_dataset *out)
{
    if (!dir || !split || !out)
        return d1_fail(D1_E_INVAL, "mnist: NULL argument");
    const char *prefix = !strcmp(split, "train") ? "train" : !strcmp(split, "test") ? "t10k" : NULL;
    if (!prefix)
        return d1_fail(D1_E_INVAL, "mnist: split '%s' is neither train nor test", split);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return d1_fail(D1_E_IO,
                       "data directory %s not found: install the Debian package %s "
                       "(apt-get install %s), point --data at a copy, or use --synthetic",
                       dir, D1X_MNIST_PACKAGE, D1X_MNIST_PACKAGE);

    char ipath[4096], lpath[4096];
    int a = snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    int b = snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    if (a < 0 || b < 0 || (size_t)a >= sizeof ipath || (size_t)b >= sizeof lpath)
        return d1_fail(D1_E_INVAL, "mnist: data directory path too long");

    uint8_t *pix = NULL, *lab = NULL;
    size_t ni = 0, nl = 0;
    d1_status st = d1x_idx_read_images(ipath, &pix, &ni);
    if (st != D1_OK)
        return st;
    if ((st = d1x_idx_read_labels(lpath, &lab, &nl)) != D1_OK)
        goto free_pix;
    if (ni != nl) {
        st = d1_fail(D1_E_SHAPE, "%s has %zu images but %s has %zu labels", ipath, ni, lpath, nl);
        goto free_lab;
    }
    float *x = malloc(ni * D1X_MNIST_PIXELS * sizeof *x);
    if (!x) {
        st = d1_fail(D1_E_NOMEM, "%s: no memory for %zu images", ipath, ni);
        goto free_lab;
    }
    for (size_t i = 0; i < ni * D1X_MNIST_PIXELS; i++)
        x[i] = (float)pix[i] / 255.0f;
    free(pix);
    out->n = ni;
    out->dim = D1X_MNIST_PIXELS;
    out->nclasses = D1X_MNIST_CLASSES;
    out->x = x;
    out->y = lab;
    return D1_OK;

free_lab:
    free(lab);
free_pix:
    free(pix);
    return st;
}

/* ---- synthetic data ------------------------------------------------------------------- */

/* Approximately standard normal: Irwin-Hall sum of 4 uniforms, centred and scaled to unit
 * variance. Plain arithmetic, so identical on every machine. */
static float normal(uint64_t seed, uint64_t index)
{
    float s = 0.0f;
    for (uint64_t k = 0; k < 4; k++)
        s += d1x_uniform(seed, 4 * index + k);
    return (s - 2.0f) * 1.7320508f;
}

d1_status d1x_synthetic(uint64_t seed, int split, size_t n, d1x_dataset *out)
{
    if (!out || (split != 0 && split != 1))
        return d1_fail(D1_E_INVAL, "synthetic: NULL output or split not 0/1");
    if (n == 0 || n > D1X_IDX_MAX_COUNT)
        return d1_fail(D1_E_RANGE, "synthetic: %zu samples not in 1..%u", n, D1X_IDX_MAX_COUNT);
    const int dim = D1X_MNIST_PIXELS, ncls = D1X_MNIST_CLASSES;
    float *centres = malloc((size_t)ncls * dim * sizeof *centres);
    float *x = malloc(n * dim * sizeof *x);
    uint8_t *y = malloc(n);
    if (!centres || !x || !y) {
        free(centres);
        free(x);
        free(y);
        return d1_fail(D1_E_NOMEM, "synthetic: no memory for %zu samples", n);
    }
    uint64_t s_centre = d1x_seed_mix(seed, 1), s_noise = d1x_seed_mix(seed, 2 + (uint64_t)split);
    uint64_t s_label = d1x_seed_mix(seed, 4 + (uint64_t)split);
    /* Like small images: about half of the pixels of a centre are dark (0), the others a
     * grey level in (0, 1); classes overlap in many pixels but differ over the whole. */
    for (size_t i = 0; i < (size_t)ncls * dim; i++) {
        float u = d1x_uniform(s_centre, i);
        centres[i] = u < 0.5f ? 0.0f : 2.0f * (u - 0.5f);
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)d1x_below(s_label, i, (uint32_t)ncls);
        y[i] = c;
        for (int j = 0; j < dim; j++) {
            float v = centres[(size_t)c * dim + j] + 0.25f * normal(s_noise, i * dim + j);
            x[i * dim + j] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
    }
    free(centres);
    out->n = n;
    out->dim = dim;
    out->nclasses = ncls;
    out->x = x;
    out->y = y;
    return D1_OK;
}
