/* IDX reader on good and malformed files made here, the data directory, synthetic data. */
#include "mnist.h"
#include "train_test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char dir[4096];

static void setup(void)
{
    tt_mkdtemp(dir, sizeof dir);
}
static void teardown(void)
{
    tt_rmdir(dir);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* An image file of n images rows x cols with pixel (i, j) = (i * 7 + j) & 255; `extra`
 * bytes appended (negative: that many bytes cut from the end). */
static size_t make_images(unsigned char **out, uint32_t magic, uint32_t n, uint32_t rows,
                          uint32_t cols, long extra)
{
    size_t data = (size_t)n * rows * cols, size = 16 + data + (extra > 0 ? (size_t)extra : 0);
    unsigned char *b = calloc(size, 1);
    ck_assert_ptr_nonnull(b);
    put32(b, magic);
    put32(b + 4, n);
    put32(b + 8, rows);
    put32(b + 12, cols);
    for (size_t i = 0; i < data; i++)
        b[16 + i] = (unsigned char)((i / (rows * cols)) * 7 + i % (rows * cols));
    *out = b;
    return extra < 0 ? size - (size_t)-extra : size;
}

static size_t make_labels(unsigned char **out, uint32_t magic, uint32_t n, long extra)
{
    size_t size = 8 + n + (extra > 0 ? (size_t)extra : 0);
    unsigned char *b = calloc(size, 1);
    ck_assert_ptr_nonnull(b);
    put32(b, magic);
    put32(b + 4, n);
    for (uint32_t i = 0; i < n; i++)
        b[8 + i] = (unsigned char)(i % 10);
    *out = b;
    return extra < 0 ? size - (size_t)-extra : size;
}

static const char *path(const char *name)
{
    static char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static d1_status read_images_file(const unsigned char *b, size_t n, int gz)
{
    const char *p = path("img.gz");
    tt_write(p, b, n, gz);
    uint8_t *pix = (uint8_t *)&pix;
    size_t count = 12345;
    d1_status st = d1x_idx_read_images(p, &pix, &count);
    if (st == D1_OK) {
        free(pix);
    } else {
        ck_assert_ptr_eq(pix, (uint8_t *)&pix); /* untouched on failure */
        ck_assert_uint_eq(count, 12345);
        ck_assert_ptr_nonnull(strstr(d1_last_error(), p)); /* the message names the file */
    }
    return st;
}

static d1_status read_labels_file(const unsigned char *b, size_t n, int gz)
{
    const char *p = path("lab.gz");
    tt_write(p, b, n, gz);
    uint8_t *lab = NULL;
    size_t count = 0;
    d1_status st = d1x_idx_read_labels(p, &lab, &count);
    if (st == D1_OK)
        free(lab);
    else
        ck_assert_ptr_nonnull(strstr(d1_last_error(), p));
    return st;
}

START_TEST(images_good)
{
    unsigned char *b;
    size_t n = make_images(&b, D1X_IDX_MAGIC_IMAGES, 3, 28, 28, 0);
    tt_write(path("img.gz"), b, n, 1);
    uint8_t *pix = NULL;
    size_t count = 0;
    CK_OK(d1x_idx_read_images(path("img.gz"), &pix, &count));
    ck_assert_uint_eq(count, 3);
    ck_assert_mem_eq(pix, b + 16, 3 * 784);
    free(pix);
    free(b);
}
END_TEST

START_TEST(labels_good)
{
    unsigned char *b;
    size_t n = make_labels(&b, D1X_IDX_MAGIC_LABELS, 25, 0);
    tt_write(path("lab.gz"), b, n, 1);
    uint8_t *lab = NULL;
    size_t count = 0;
    CK_OK(d1x_idx_read_labels(path("lab.gz"), &lab, &count));
    ck_assert_uint_eq(count, 25);
    ck_assert_mem_eq(lab, b + 8, 25);
    free(lab);
    free(b);
}
END_TEST

/* Malformed image files: (magic, n, rows, cols, extra bytes, gzip?) -> status. */
static const struct bad_image {
    const char *what;
    uint32_t magic, n, rows, cols;
    long extra;
    int gz;
    d1_status want;
    const char *msg;
} bad_images[] = {
    {"bad magic", 0x00000804, 2, 28, 28, 0, 1, D1_E_FORMAT, "bad IDX magic"},
    {"label magic", D1X_IDX_MAGIC_LABELS, 2, 28, 28, 0, 1, D1_E_FORMAT, "label file"},
    {"truncated data", D1X_IDX_MAGIC_IMAGES, 2, 28, 28, -1, 1, D1_E_FORMAT, "truncated"},
    {"truncated header", D1X_IDX_MAGIC_IMAGES, 2, 28, 28, -(2 * 784 + 5), 1, D1_E_FORMAT,
     "truncated"},
    {"trailing bytes", D1X_IDX_MAGIC_IMAGES, 2, 28, 28, 3, 1, D1_E_FORMAT, "trailing"},
    {"not 28x28", D1X_IDX_MAGIC_IMAGES, 2, 27, 28, 0, 1, D1_E_SHAPE, "27x28"},
    {"zero count", D1X_IDX_MAGIC_IMAGES, 0, 28, 28, 0, 1, D1_E_RANGE, "count"},
    {"not gzip", D1X_IDX_MAGIC_IMAGES, 2, 28, 28, 0, 0, D1_E_FORMAT, "not a gzip"},
};

START_TEST(images_bad)
{
    const struct bad_image *c = &bad_images[_i];
    unsigned char *b;
    size_t n = make_images(&b, c->magic, c->n, c->rows, c->cols, c->extra);
    d1_status st = read_images_file(b, n, c->gz);
    ck_assert_msg(st == c->want, "%s: got %s (%s)", c->what, d1_status_name(st), d1_last_error());
    ck_assert_msg(strstr(d1_last_error(), c->msg), "%s: message '%s'", c->what, d1_last_error());
    free(b);
}
END_TEST

START_TEST(labels_bad)
{
    unsigned char *b;
    size_t n = make_labels(&b, D1X_IDX_MAGIC_IMAGES, 4, 0);
    CK_STATUS(read_labels_file(b, n, 1), D1_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(d1_last_error(), "image file"));
    free(b);

    n = make_labels(&b, D1X_IDX_MAGIC_LABELS, 4, 0);
    b[8 + 2] = 10; /* label out of 0..9 */
    CK_STATUS(read_labels_file(b, n, 1), D1_E_RANGE);
    ck_assert_ptr_nonnull(strstr(d1_last_error(), "label 2 is 10"));
    CK_STATUS(read_labels_file(b, n - 1, 1), D1_E_FORMAT); /* truncated */
    CK_STATUS(read_labels_file(b, 6, 1), D1_E_FORMAT);     /* truncated header */
    CK_STATUS(read_labels_file(b, 0, 1), D1_E_FORMAT);     /* empty stream */
    CK_STATUS(read_labels_file(b, n, 0), D1_E_FORMAT);     /* not gzip */
    CK_STATUS(read_labels_file(b, 1, 0), D1_E_FORMAT);     /* one byte, not gzip */
    free(b);
}
END_TEST

/* A gzip stream cut short, and one with corrupted deflate data. */
START_TEST(corrupt_gzip)
{
    unsigned char *b;
    size_t n = make_images(&b, D1X_IDX_MAGIC_IMAGES, 5, 28, 28, 0);
    tt_write(path("full.gz"), b, n, 1);
    size_t gzn = 0;
    char *gz = tt_read(path("full.gz"), &gzn);
    ck_assert_ptr_nonnull(gz);
    ck_assert_uint_gt(gzn, 40);

    tt_write(path("img.gz"), gz, gzn / 2, 0); /* cut in the middle */
    uint8_t *pix = NULL;
    size_t count = 0;
    CK_STATUS(d1x_idx_read_images(path("img.gz"), &pix, &count), D1_E_FORMAT);

    for (size_t i = 12; i < gzn - 8; i++) /* garble the deflate stream */
        gz[i] = (char)(gz[i] ^ 0x5a);
    tt_write(path("img.gz"), gz, gzn, 0);
    CK_STATUS(d1x_idx_read_images(path("img.gz"), &pix, &count), D1_E_FORMAT);
    free(gz);
    free(b);
}
END_TEST

START_TEST(missing_file)
{
    uint8_t *p = NULL;
    size_t n = 0;
    CK_STATUS(d1x_idx_read_images(path("nope.gz"), &p, &n), D1_E_IO);
    ck_assert_ptr_nonnull(strstr(d1_last_error(), "nope.gz"));
    CK_STATUS(d1x_idx_read_labels(path("nope.gz"), &p, &n), D1_E_IO);
    CK_STATUS(d1x_idx_read_images(NULL, &p, &n), D1_E_INVAL);
}
END_TEST

static void write_split(const char *prefix, uint32_t nimg, uint32_t nlab)
{
    char p[4200];
    unsigned char *b;
    size_t n = make_images(&b, D1X_IDX_MAGIC_IMAGES, nimg, 28, 28, 0);
    snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    tt_write(p, b, n, 1);
    free(b);
    n = make_labels(&b, D1X_IDX_MAGIC_LABELS, nlab, 0);
    snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    tt_write(p, b, n, 1);
    free(b);
}

START_TEST(load_dir)
{
    write_split("train", 4, 4);
    write_split("t10k", 3, 2);
    d1x_dataset ds = {0};
    CK_OK(d1x_mnist_load(dir, "train", &ds));
    ck_assert_uint_eq(ds.n, 4);
    ck_assert_int_eq(ds.dim, 784);
    ck_assert_int_eq(ds.nclasses, 10);
    /* pixel (1, 5) = 1 * 7 + 5 = 12 -> 12 / 255 */
    ck_assert_float_eq(ds.x[784 + 5], 12.0f / 255.0f);
    ck_assert_int_eq(ds.y[3], 3);
    for (size_t i = 0; i < ds.n * 784; i++)
        ck_assert(ds.x[i] >= 0.0f && ds.x[i] <= 1.0f);
    d1x_dataset_fini(&ds);
    ck_assert_ptr_null(ds.x);
    d1x_dataset_fini(&ds); /* twice is fine */

    CK_STATUS(d1x_mnist_load(dir, "test", &ds), D1_E_SHAPE); /* 3 images, 2 labels */
    ck_assert_ptr_nonnull(strstr(d1_last_error(), "3 images"));
    ck_assert_ptr_nonnull(strstr(d1_last_error(), "2 labels"));
    CK_STATUS(d1x_mnist_load(dir, "valid", &ds), D1_E_INVAL);
}
END_TEST

START_TEST(missing_dir)
{
    d1x_dataset ds = {0};
    char p[4200];
    snprintf(p, sizeof p, "%s/no-such-dir", dir);
    CK_STATUS(d1x_mnist_load(p, "train", &ds), D1_E_IO);
    ck_assert_ptr_nonnull(strstr(d1_last_error(), "dataset-fashion-mnist"));
    ck_assert_ptr_nonnull(strstr(d1_last_error(), p));
    /* the directory exists but lacks the files */
    CK_STATUS(d1x_mnist_load(dir, "train", &ds), D1_E_IO);
    ck_assert_ptr_nonnull(strstr(d1_last_error(), "train-images-idx3-ubyte.gz"));
}
END_TEST

START_TEST(synthetic)
{
    d1x_dataset a = {0}, b = {0}, c = {0}, t = {0};
    CK_OK(d1x_synthetic(7, 0, 300, &a));
    CK_OK(d1x_synthetic(7, 0, 300, &b));
    CK_OK(d1x_synthetic(8, 0, 300, &c));
    CK_OK(d1x_synthetic(7, 1, 300, &t));
    ck_assert_uint_eq(a.n, 300);
    ck_assert_mem_eq(a.x, b.x, 300 * 784 * sizeof(float));
    ck_assert_mem_eq(a.y, b.y, 300);
    ck_assert(memcmp(a.x, c.x, 300 * 784 * sizeof(float)) != 0);
    ck_assert(memcmp(a.x, t.x, 300 * 784 * sizeof(float)) != 0);
    int seen[10] = {0};
    for (size_t i = 0; i < a.n; i++) {
        ck_assert_uint_lt(a.y[i], 10);
        seen[a.y[i]]++;
    }
    for (int k = 0; k < 10; k++)
        ck_assert_int_gt(seen[k], 0);
    for (size_t i = 0; i < a.n * 784; i++)
        ck_assert(a.x[i] >= 0.0f && a.x[i] <= 1.0f);
    CK_STATUS(d1x_synthetic(7, 2, 300, &c), D1_E_INVAL);
    CK_STATUS(d1x_synthetic(7, 0, 0, &c), D1_E_RANGE);
    d1x_dataset_fini(&a);
    d1x_dataset_fini(&b);
    d1x_dataset_fini(&c);
    d1x_dataset_fini(&t);
}
END_TEST

/* The installed data set, when the Debian package is there (skipped otherwise). */
START_TEST(installed_fashion_mnist)
{
    d1x_dataset ds = {0};
    d1_status st = d1x_mnist_load(D1X_MNIST_DIR, "test", &ds);
    if (st == D1_E_IO)
        return;
    CK_OK(st);
    ck_assert_uint_eq(ds.n, 10000);
    d1x_dataset_fini(&ds);
}
END_TEST

Suite *mnist_suite(void)
{
    Suite *s = suite_create("mnist");
    TCase *tc = tcase_create("idx");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, images_good);
    tcase_add_test(tc, labels_good);
    tcase_add_loop_test(tc, images_bad, 0, (int)(sizeof bad_images / sizeof bad_images[0]));
    tcase_add_test(tc, labels_bad);
    tcase_add_test(tc, corrupt_gzip);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, load_dir);
    tcase_add_test(tc, missing_dir);
    tcase_add_test(tc, synthetic);
    tcase_add_test(tc, installed_fashion_mnist);
    suite_add_tcase(s, tc);
    return s;
}
