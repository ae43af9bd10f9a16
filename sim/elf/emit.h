/* The kernel model and its emitter (module d1s_kernel).
 *
 * A kernel is what a kernel binary (ELF, kelf.h) holds, in memory:
 *
 *   programs    name, code words, default entry (byte offset of the first instruction)
 *   images      initial SRAM contents: (SRAM byte address, bytes)
 *   placements  node range [node_first, node_last] -> program, entry, list of images
 *   symbols     labels: code (program index, byte offset) or data (image, SRAM address)
 *   target      node count, SRAM size and config hash the kernel was built for
 *
 * Code lives in its own address space per program: a pc is a byte offset into the
 * program's code (4 bytes per instruction), not an SRAM address. A program is written once
 * and placed on any number of nodes (a tile has 8,850 nodes, a pod a million).
 *
 * The assembler (asm.h), the kernel compiler and the ELF reader all build a kernel through
 * these calls, so there is one path and one set of checks. Errors: D1_E_INVAL for bad
 * arguments (unknown program index, bad name), D1_E_RANGE from the encoder, D1_E_NOMEM. */
#ifndef D1S_EMIT_H
#define D1S_EMIT_H

#include "sim/arch/isa.h"
#include "sim/arch/status.h"

#include <stddef.h>
#include <stdint.h>

typedef struct d1s_kernel d1s_kernel;

/* What the kernel is built for (from the config: d1s_target_from_config in kelf.h). */
typedef struct d1s_target {
    uint32_t node_count; /* valid node ids are 0..node_count-1 */
    uint64_t sram_bytes; /* data images must fit in [0, sram_bytes) */
    uint64_t config_hash; /* d1_config_hash of the target config; 0 = unknown */
} d1s_target;

/* node_last value meaning "through the last node of whatever target runs the kernel"
 * (assembler: `.place all`). */
#define D1S_NODE_LAST UINT32_MAX

typedef struct d1s_program {
    const char *name; /* [A-Za-z_][A-Za-z0-9_.]*, unique in the kernel */
    const uint32_t *words;
    size_t n_words;
    uint64_t entry; /* byte offset of the default entry */
} d1s_program;

typedef struct d1s_image {
    uint64_t addr; /* SRAM byte address */
    const uint8_t *bytes;
    size_t size;
} d1s_image;

typedef struct d1s_placement {
    uint32_t node_first, node_last; /* inclusive; node_last may be D1S_NODE_LAST */
    uint32_t program;
    uint64_t entry; /* byte offset where thread 0 starts */
    const uint32_t *images; /* image indices loaded on each node of the range */
    size_t n_images;
} d1s_placement;

typedef enum d1s_sym_kind { D1S_SYM_CODE, D1S_SYM_DATA } d1s_sym_kind;

typedef struct d1s_symbol {
    const char *name;
    d1s_sym_kind kind;
    uint32_t index; /* program (CODE) or image (DATA) */
    uint64_t value; /* byte offset in the program (CODE) or SRAM address (DATA) */
} d1s_symbol;

/* ---- lifecycle -------------------------------------------------------------------------- */

/* An empty kernel for target t (copied). */
d1_status d1s_kernel_create(const d1s_target *t, d1s_kernel **out);
void d1s_kernel_destroy(d1s_kernel *k);
/* Replace the target (the ELF reader validates against the runner's target, then records
 * the file's). */
void d1s_kernel_set_target(d1s_kernel *k, const d1s_target *t);

/* ---- emitter ---------------------------------------------------------------------------- */

/* New empty program; its index goes to *index. Duplicate or malformed name: D1_E_INVAL. */
d1_status d1s_kernel_add_program(d1s_kernel *k, const char *name, uint32_t *index);
/* Encode `in` (d1_insn_encode: D1_E_RANGE) and append it to program prog. */
d1_status d1s_kernel_emit(d1s_kernel *k, uint32_t prog, const d1_insn *in);
/* Append a raw word; it must decode (D1_E_INVAL otherwise). */
d1_status d1s_kernel_emit_word(d1s_kernel *k, uint32_t prog, uint32_t word);
/* Byte offset of the next instruction of prog (for labels and branch offsets). */
uint64_t d1s_kernel_pc(const d1s_kernel *k, uint32_t prog);
/* Re-encode the instruction at byte offset pc (forward branches). */
d1_status d1s_kernel_patch(d1s_kernel *k, uint32_t prog, uint64_t pc, const d1_insn *in);
d1_status d1s_kernel_set_entry(d1s_kernel *k, uint32_t prog, uint64_t entry);

/* New data image at SRAM address addr, a copy of size bytes (bytes may be NULL: zeros). */
d1_status d1s_kernel_add_image(d1s_kernel *k, uint64_t addr, const void *bytes, size_t size,
                               uint32_t *index);
/* Append bytes to image img (the assembler grows an image directive by directive). */
d1_status d1s_kernel_image_append(d1s_kernel *k, uint32_t img, const void *bytes, size_t size);

/* Place program prog on nodes node_first..node_last, starting at entry. */
d1_status d1s_kernel_add_placement(d1s_kernel *k, uint32_t node_first, uint32_t node_last,
                                   uint32_t prog, uint64_t entry, uint32_t *index);
/* Load image img on the nodes of placement pl. */
d1_status d1s_kernel_placement_add_image(d1s_kernel *k, uint32_t pl, uint32_t img);

d1_status d1s_kernel_add_symbol(d1s_kernel *k, const char *name, d1s_sym_kind kind,
                                uint32_t index, uint64_t value);

/* Every rule the loader enforces (kelf.h), on the model: placements reference existing
 * programs and images, node ranges ordered, below node_count and disjoint, entries inside
 * their program and 4-aligned, images inside SRAM and not overlapping within a placement,
 * every word decodes, symbols inside their program/image. D1_E_INVAL with a detail. */
d1_status d1s_kernel_validate(const d1s_kernel *k);

/* ---- reading (borrowed pointers, valid until the kernel changes or is destroyed) -------- */

const d1s_target *d1s_kernel_target(const d1s_kernel *k);
size_t d1s_kernel_program_count(const d1s_kernel *k);
const d1s_program *d1s_kernel_program(const d1s_kernel *k, size_t i); /* NULL if out of range */
int d1s_kernel_find_program(const d1s_kernel *k, const char *name); /* index or -1 */
size_t d1s_kernel_image_count(const d1s_kernel *k);
const d1s_image *d1s_kernel_image(const d1s_kernel *k, size_t i);
size_t d1s_kernel_placement_count(const d1s_kernel *k);
const d1s_placement *d1s_kernel_placement(const d1s_kernel *k, size_t i);
/* Placement covering node (node_count resolves D1S_NODE_LAST), or -1. Linear scan. */
int d1s_kernel_find_placement(const d1s_kernel *k, uint32_t node, uint32_t node_count);
size_t d1s_kernel_symbol_count(const d1s_kernel *k);
const d1s_symbol *d1s_kernel_symbol(const d1s_kernel *k, size_t i);
/* First code symbol of program prog at byte offset pc, or NULL (objdump labels). */
const char *d1s_kernel_code_label(const d1s_kernel *k, uint32_t prog, uint64_t pc);

/* Deep equality of two kernels (tests: write -> read round trip). */
int d1s_kernel_equal(const d1s_kernel *a, const d1s_kernel *b);

#endif
