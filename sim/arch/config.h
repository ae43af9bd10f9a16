/* Architecture configuration: struct generated from config.def, parser, dump.
 *
 * A config starts from the defaults, then a `key = value` file (`#` comments, blank lines;
 * a key may appear once per file), then `--set key=value` overrides in order. Unknown keys,
 * malformed or out-of-range values, duplicates within one file and inconsistent
 * combinations are D1_E_CONFIG with a message naming the file, line and key. */
#ifndef D1_CONFIG_H
#define D1_CONFIG_H

#include "status.h"

#include <stdint.h>
#include <stdio.h>

#define D1_CFG_CTYPE_I int64_t
#define D1_CFG_CTYPE_F double
#define D1_CFG_CTYPE_S char *

typedef struct d1_config {
#define D1_CFG(type, key, def, min, max, unit, tag, doc) D1_CFG_CTYPE_##type key;
#include "config.def"
#undef D1_CFG
} d1_config;

/* Fill *cfg with the defaults (strings are heap copies: release with d1_config_fini). */
d1_status d1_config_init(d1_config *cfg);
void d1_config_fini(d1_config *cfg);
/* Deep copy; dst must not be initialised (or must have been fini'd). */
d1_status d1_config_copy(d1_config *dst, const d1_config *src);

/* Apply a key=value file. On failure *cfg is unchanged (D1_E_IO: cannot read the file;
 * D1_E_CONFIG: syntax, unknown key, bad or out-of-range value, duplicate key in the file;
 * D1_E_NOMEM). File format: see doc/config.md ("File format"). Files larger than
 * D1_CONFIG_MAX_FILE_BYTES are refused (D1_E_IO). */
#define D1_CONFIG_MAX_FILE_BYTES ((size_t)16 << 20)
d1_status d1_config_load_file(d1_config *cfg, const char *path);
/* Apply one "key=value" override (as given to --set); same value syntax as a file line.
 * On failure *cfg is unchanged. */
d1_status d1_config_set(d1_config *cfg, const char *assignment);
/* Cross-field checks (e.g. link_bytes_per_cyc a multiple of flit_bytes, harvested positions
 * inside the mesh and not repeated). Called by load/set callers once everything is applied. */
d1_status d1_config_validate(const d1_config *cfg);

/* Write every key as `key = value  # unit [tag]` lines (a valid config file that loads back
 * to an equal config), after a header comment carrying the hash. */
void d1_config_dump(const d1_config *cfg, FILE *out);
/* Stable 64-bit hash of the effective values (for ELF notes and caches): FNV-1a 64 over
 * `key=value\n` for every key in table order, values written as d1_config_dump does. Equal
 * configs hash equal on every host; adding a key to config.def changes every hash. */
uint64_t d1_config_hash(const d1_config *cfg);
/* Write the Markdown reference generated from config.def (doc/config.md). */
void d1_config_write_doc(FILE *out);

/* Harvested positions parsed from cfg->harvested: fills up to max (x,y) pairs, returns the
 * count, or -1 (with d1_fail D1_E_CONFIG) if malformed. Malformed = not whitespace-separated
 * `x,y` decimal pairs, outside mesh_cols x mesh_rows, or repeated. Like snprintf, the count
 * returned is the total even when it exceeds max (xy may be NULL when max is 0). */
int d1_config_harvested(const d1_config *cfg, int (*xy)[2], int max);

/* 1 if every key has the same value in a and b, else 0. */
int d1_config_equal(const d1_config *a, const d1_config *b);

/* Cycles <-> seconds at the configured clock. */
static inline double d1_config_cyc_to_s(const d1_config *cfg, uint64_t cyc)
{
    return (double)cyc / ((double)cfg->clock_mhz * 1e6);
}

#endif
