#!/bin/sh
# Check that doc/config.md is what `d1 config doc` generates from sim/arch/config.def.
# usage: doc_current.sh D1 DOC_FILE
d1=$1
doc=$2
tmp=$(mktemp /tmp/d1-config-doc.XXXXXX) || exit 1
trap 'rm -f "$tmp"' EXIT
if ! "$d1" config doc > "$tmp"; then
    echo "FAIL: '$d1 config doc' failed" >&2
    exit 1
fi
if ! cmp -s "$tmp" "$doc"; then
    diff -u "$doc" "$tmp" | head -n 60 >&2
    echo "FAIL: $doc is out of date with sim/arch/config.def (diff above: - file, + generated)." >&2
    echo "Regenerate it with:  $d1 config doc > $doc" >&2
    exit 1
fi
echo "ok: $doc is current"
