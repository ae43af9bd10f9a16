/* Reading a whole host file (config files, assembly sources, kernel binaries) with the
 * checks every reader needs: missing file, directory, read errors, and a size limit so
 * that endless inputs (/dev/zero, a pipe from `yes`) fail instead of hanging. */
#ifndef D1_FILE_H
#define D1_FILE_H

#include "status.h"

#include <stddef.h>

/* d1_file_read flags */
#define D1_READ_TEXT 1u /* stop reading at the first NUL byte (the caller rejects it) */

/* Read the file at path into *buf (malloc'ed, owned by the caller, NUL-terminated: the
 * terminator is not counted in *size). With magic (magic_len bytes), reading stops as soon
 * as the file is known not to start with it, so the caller's format check fails fast.
 * Errors: D1_E_IO "PATH: <strerror>" (missing, a directory, read error, empty path), D1_E_IO
 * when the file exceeds max_bytes, D1_E_NOMEM. On error *buf is NULL. */
d1_status d1_file_read(const char *path, size_t max_bytes, unsigned flags, const void *magic,
                       size_t magic_len, char **buf, size_t *size);

#endif
