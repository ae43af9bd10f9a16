#!/bin/sh
# `d1 config` behaviour: --help exits 0; bad input exits 1 with exactly one line on stderr.
# usage: cli_config.sh D1
d1=$1
. "$(dirname "$0")/../cli_lib.sh"

for sub in "" dump check doc; do
    expect 0 0 config $sub --help
done
expect 1 1 config
expect 1 1 config frob
expect 0 0 config doc
expect 1 1 config doc extra
expect 0 0 config dump
expect 0 0 config dump --set noc_vcs=4 --set=mesh_cols=17
expect 1 1 config dump --set
expect 1 1 config dump --set mesh_col=4
expect 1 1 config dump --set noc_vcs=99
expect 1 1 config dump --set link_bytes_per_cyc=96
expect 1 1 config dump --bogus
expect 1 1 config dump extra
expect 1 1 config dump --config "$dir/none.cfg"
expect 1 1 config check
expect 1 1 config check "$dir/none.cfg"

# dump -> check round trip, with overrides applied after the file
"$d1" config dump --set noc_vcs=3 > "$dir/a.cfg" || fails=$((fails + 1))
expect 0 0 config check "$dir/a.cfg"
grep -q '^noc_vcs  *= 3  # \[A\]$' "$dir/a.cfg" ||
    { echo "FAIL: dump line" >&2; fails=$((fails + 1)); }
expect 0 0 config dump --config "$dir/a.cfg" --set noc_vcs=5
grep -q '^noc_vcs  *= 5 ' "$dir/out" ||
    { echo "FAIL: --set after --config" >&2; fails=$((fails + 1)); }
expect 1 1 config check "$dir/a.cfg" --set window_cyc=500
expect 1 1 config check "$dir/a.cfg" "$dir/a.cfg"
printf 'clock_mhz = 1000\nclock_mhz = 1000\n' > "$dir/dup.cfg"
expect 1 1 config check "$dir/dup.cfg"
grep -q 'dup.cfg:2: duplicate key' "$dir/err" ||
    { echo "FAIL: dup message" >&2; fails=$((fails + 1)); }

cli_end "d1 config command line"
