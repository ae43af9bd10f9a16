/* Data sets for the training example: Fashion-MNIST read from the IDX files of the Debian
 * package dataset-fashion-mnist (gzip, read with zlib), and a deterministic synthetic set
 * for tests that must not depend on installed data.
 *
 * IDX file layout (big-endian 32-bit integers):
 *
 *   images: magic 0x00000803 | count | rows | cols | count*rows*cols bytes (row-major)
 *   labels: magic 0x00000801 | count | count bytes (0..9)
 *
 * Errors (d1_status, detail naming the file in d1_last_error()):
 *   D1_E_IO      file missing or unreadable (for the data directory: names the package)
 *   D1_E_FORMAT  not gzip-compressed, corrupt gzip stream, wrong magic, truncated file,
 *                trailing bytes after the declared data
 *   D1_E_SHAPE   images not 28x28, image and label counts differ
 *   D1_E_RANGE   a label outside 0..9, a count of 0 or above D1X_IDX_MAX_COUNT
 *   D1_E_NOMEM   out of memory */
#ifndef D1X_MNIST_H
#define D1X_MNIST_H

#include "sim/arch/status.h"

#include <stddef.h>
#include <stdint.h>

#define D1X_MNIST_DIR "/usr/share/datasets/fashion-mnist"
#define D1X_MNIST_PACKAGE "dataset-fashion-mnist"
#define D1X_MNIST_ROWS 28
#define D1X_MNIST_COLS 28
#define D1X_MNIST_PIXELS (D1X_MNIST_ROWS * D1X_MNIST_COLS)
#define D1X_MNIST_CLASSES 10
#define D1X_IDX_MAX_COUNT 1000000u

#define D1X_IDX_MAGIC_IMAGES 0x00000803u
#define D1X_IDX_MAGIC_LABELS 0x00000801u

/* A labelled data set, caller-owned storage (d1x_dataset_fini frees it).
 * x: n * dim floats, row-major; y: n labels in 0..nclasses-1. */
typedef struct d1x_dataset {
    size_t n;
    int dim;
    int nclasses;
    float *x;
    uint8_t *y;
} d1x_dataset;

void d1x_dataset_fini(d1x_dataset *ds); /* frees and zeroes; NULL or empty is fine */

/* Read one gzip-compressed IDX file. On success *pixels / *labels is malloc'ed (caller
 * frees) and the counts are set; on failure nothing is allocated. Images must be 28x28,
 * labels 0..9. */
d1_status d1x_idx_read_images(const char *path, uint8_t **pixels, size_t *count);
d1_status d1x_idx_read_labels(const char *path, uint8_t **labels, size_t *count);

/* Load split "train" (60k) or "test" (10k) from dir (the package's files
 * train-images-idx3-ubyte.gz, ... / t10k-...). Pixels become x/255.0f in [0,1]. */
d1_status d1x_mnist_load(const char *dir, const char *split, d1x_dataset *out);

/* Deterministic synthetic set: 10 classes of Gaussian blobs in 784-d around class centres
 * drawn from `seed` (pure function of seed, split and n, via d1_sr_bits); values clamped to
 * [0,1]. split 0 = train, 1 = test: same centres, independent samples. Labels cycle over
 * the classes in a seeded order. */
d1_status d1x_synthetic(uint64_t seed, int split, size_t n, d1x_dataset *out);

#endif
