#!/bin/sh
# Check that doc/isa.md is what `d1 isa doc` generates from sim/arch/isa.def (and the
# semantics/format tables of sim/arch/isa.c, the assembler tables of sim/elf/asm.c).
# usage: doc_current.sh D1 DOC_FILE
d1=$1
doc=$2
tmp=$(mktemp /tmp/d1-isa-doc.XXXXXX) || exit 1
trap 'rm -f "$tmp"' EXIT
if ! "$d1" isa doc > "$tmp"; then
    echo "FAIL: '$d1 isa doc' failed" >&2
    exit 1
fi
if ! cmp -s "$tmp" "$doc"; then
    diff -u "$doc" "$tmp" | head -n 60 >&2
    echo "FAIL: $doc is out of date with the ISA tables (diff above: - file, + generated)." >&2
    echo "Regenerate it with:  $d1 isa doc > $doc" >&2
    exit 1
fi
echo "ok: $doc is current"
