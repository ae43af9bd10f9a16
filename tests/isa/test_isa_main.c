/* Runner for the ISA tools suites: table/encoder/decoder/disassembler, assembler, ELF. */
#include "test_main.h"

Suite *isa_suite(void);
Suite *asm_suite(void);
Suite *kelf_suite(void);

D1_TEST_MAIN(isa_suite, asm_suite, kelf_suite)
