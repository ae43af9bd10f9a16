#!/bin/sh
# Check that doc/isa.md is what `d1 isa doc` generates from sim/arch/isa.def (and the
# semantics/format tables of sim/arch/isa.c, the assembler tables of sim/elf/asm.c).
# usage: doc_current.sh D1 DOC_FILE
d1=$1
. "$(dirname "$0")/../cli_lib.sh"
doc_current isa "$2" "the ISA tables"
