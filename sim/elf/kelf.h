/* The kernel binary: ELF64 written and read with libelf (module d1s_kelf).
 *
 * ELF header: ELFCLASS64, ELFDATA2LSB, EI_OSABI = ELFOSABI_STANDALONE, ET_EXEC,
 * e_machine = D1S_KELF_EM (private, from the high unofficial range glibc's elf.h advises),
 * e_entry = 0 (entries are per placement). One program header, PT_NOTE, covers .note.d1.
 *
 * Sections (all multi-byte fields little-endian):
 *
 *   .note.d1     SHT_NOTE, one note: name "D1", type D1S_NT_KERNEL, desc (24 bytes)
 *                  u32 format version (D1S_KELF_VERSION)   u32 node count
 *                  u64 target config hash (d1_config_hash; 0 = unknown)
 *                  u64 SRAM bytes per node
 *   .text.NAME   SHT_PROGBITS, AX, align 4: code of program NAME (32-bit words)
 *   .data.N      SHT_PROGBITS, WA, sh_addr = SRAM address: initial image N
 *   .d1.prog     table, 16-byte entries, sh_link = .strtab:
 *                  u32 name (.strtab offset)  u32 section index of .text.NAME  u64 entry
 *   .d1.image    table, 16-byte entries:
 *                  u32 section index of .data.N  u32 0  u64 SRAM address
 *   .d1.place    table, 32-byte entries:
 *                  u32 node_first  u32 node_last (0xffffffff = last node of the target)
 *                  u32 program index  u32 first .d1.dlist entry  u32 .d1.dlist count  u32 0
 *                  u64 entry (byte offset in the program)
 *   .d1.dlist    u32 image indices, the per-placement image lists
 *   .symtab      local symbols: labels (STT_NOTYPE in .text.NAME, value = byte offset;
 *                STT_OBJECT in .data.N, value = SRAM address); global STT_FUNC symbol per
 *                program (value 0, size = code bytes)
 *   .strtab, .shstrtab
 *
 * The reader checks every field and rejects bad files with D1_E_ELF and a message naming
 * the problem (truncated, not ELF, wrong class/endianness/machine/OS ABI/type, bad note or
 * version, config hash mismatch, misaligned or out-of-file sections, bad tables,
 * placements referencing missing programs or images, overlapping or out-of-range node
 * ranges, images outside SRAM, entries outside their program, words that do not decode
 * (program + offset)). */
#ifndef D1S_KELF_H
#define D1S_KELF_H

#include "emit.h"
#include "sim/arch/config.h"

#include <stddef.h>

#define D1S_KELF_EM 0x9d1a   /* private e_machine */
#define D1S_KELF_VERSION 1u  /* format version in the note */
#define D1S_NT_KERNEL 0x4431 /* note type ("D1") */

/* Validate k (d1s_kernel_validate, as D1_E_ELF) and write it. D1_E_IO if the file cannot be
 * written, D1_E_UNSUPPORTED beyond 65,000 sections. */
d1_status d1s_kelf_write_file(const d1s_kernel *k, const char *path);
/* The same into a malloc'ed buffer (*buf, *size; release with free()). */
d1_status d1s_kelf_write_mem(const d1s_kernel *k, void **buf, size_t *size);

/* Read and validate a kernel binary. expect (may be NULL): the target that will run it;
 * node ids and image addresses are checked against it, and a config hash different from
 * the file's (both nonzero) is an error. Without expect, the file's own note is the target.
 * The returned kernel's target is the file's note. D1_E_ELF on any defect, D1_E_IO if the
 * file cannot be read or is larger than D1S_KELF_MAX_FILE_BYTES. */
#define D1S_KELF_MAX_FILE_BYTES ((size_t)UINT32_MAX)
d1_status d1s_kelf_read_file(const char *path, const d1s_target *expect, d1s_kernel **out);
d1_status d1s_kelf_read_mem(const void *buf, size_t size, const d1s_target *expect,
                            d1s_kernel **out);

/* Target of a configuration: node count of the whole configured system (tiles x chips x
 * usable nodes per chip), SRAM bytes per node, d1_config_hash. D1_E_CONFIG if the harvested
 * list is malformed. */
d1_status d1s_target_from_config(const d1_config *cfg, d1s_target *t);

#endif
