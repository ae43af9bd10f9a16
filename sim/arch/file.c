#include "file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

d1_status d1_file_read(const char *path, size_t max_bytes, unsigned flags, const void *magic,
                       size_t magic_len, char **buf, size_t *size)
{
    D1_ASSERT(path && buf && size && (magic || !magic_len));
    *buf = NULL;
    *size = 0;
    char *b = NULL;
    size_t n = 0, cap = 0;
    if (!*path)
        return d1_fail(D1_E_IO, "empty file name");
    FILE *f = fopen(path, "rb");
    if (!f)
        return d1_fail(D1_E_IO, "%s: %s", path, strerror(errno));
    d1_status s = D1_OK;
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        s = d1_fail(D1_E_IO, "%s: %s", path, strerror(EISDIR));
        goto close_file;
    }
    for (;;) {
        if (n + 1 >= cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (max_bytes < SIZE_MAX - 2 && ncap > max_bytes + 2)
                ncap = max_bytes + 2; /* room for one byte too many, and the NUL */
            char *p = realloc(b, ncap);
            if (!p) {
                s = d1_fail(D1_E_NOMEM, "%s: out of memory", path);
                goto free_buf;
            }
            b = p;
            cap = ncap;
        }
        errno = 0;
        size_t got = fread(b + n, 1, cap - n - 1, f);
        if (got == 0) {
            if (ferror(f)) {
                s = d1_fail(D1_E_IO, "%s: read error: %s", path,
                            strerror(errno ? errno : EIO));
                goto free_buf;
            }
            break;
        }
        size_t old = n;
        n += got;
        if (n > max_bytes) {
            s = d1_fail(D1_E_IO, "%s: larger than the limit of %zu bytes", path, max_bytes);
            goto free_buf;
        }
        if ((flags & D1_READ_TEXT) && memchr(b + old, '\0', got))
            break; /* the caller reports the NUL byte */
        if (magic && old < magic_len &&
            memcmp(b, magic, n < magic_len ? n : magic_len) != 0)
            break; /* not this format: the caller reports it */
    }
    b[n] = '\0';
    *buf = b;
    *size = n;
    fclose(f);
    return D1_OK;

free_buf:
    free(b);
close_file:
    fclose(f);
    return s;
}
