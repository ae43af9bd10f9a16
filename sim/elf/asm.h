/* The D1 assembler (module d1s_asm): text -> kernel (emit.h), two passes.
 *
 * Source: one statement per line; `label:` prefixes; comments from `#` or `;` to the end of
 * the line. Registers x0..x31, v0..v31, m0..m7, s0..s31; CSRs by name; immediates are
 * expressions over decimal/0x hex/0b binary numbers, `.equ` names and labels with
 * + - * / % << >> & | ^ ~ and parentheses. Branch/jump targets are labels or absolute byte
 * addresses. Labels are scoped to their program: in code a label is a byte offset in the
 * program, after `.data ADDR` an SRAM address.
 *
 * Directives and pseudo-instructions are listed by d1s_asm_write_doc (doc/isa.md).
 * Placement rules: `.place NODES` binds the current program to nodes; data images defined in
 * a program before its first `.place` are loaded on every node of every placement of the
 * program, images after a `.place` only on the nodes of that `.place`.
 *
 * Errors are D1_E_ASM with "FILE:LINE: message" as the detail (the first error stops the
 * assembly); D1_E_IO if the file cannot be read; D1_E_NOMEM. */
#ifndef D1S_ASM_H
#define D1S_ASM_H

#include "emit.h"

#include <stdio.h>

/* Assemble text (NUL-terminated; `name` is used in messages) for target t. On success the
 * new kernel (validated) goes to *out; release it with d1s_kernel_destroy. */
d1_status d1s_asm_string(const char *text, const char *name, const d1s_target *t,
                         d1s_kernel **out);
/* Sources larger than D1S_ASM_MAX_SOURCE_BYTES are refused (D1_E_IO). */
#define D1S_ASM_MAX_SOURCE_BYTES ((size_t)256 << 20)
d1_status d1s_asm_file(const char *path, const d1s_target *t, d1s_kernel **out);

/* Assemble one machine instruction (no labels, no pseudo-instructions: branch targets are
 * absolute addresses) as if it stood at byte offset pc. Errors: D1_E_ASM ("<insn>: ..."). */
d1_status d1s_asm_insn(const char *text, uint64_t pc, uint32_t *word);

/* Markdown sections on the assembly language (directives, pseudo-instructions). */
void d1s_asm_write_doc(FILE *out);

#endif
