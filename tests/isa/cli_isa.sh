#!/bin/sh
# `d1 as`, `d1 objdump`, `d1 isa`: --help exits 0; bad input exits 1 with exactly one line on
# stderr; a sample assembles, dumps, and passes readelf (when installed).
# usage: cli_isa.sh D1 DATA_DIR
d1=$1
data=$2
. "$(dirname "$0")/../cli_lib.sh"

for c in as objdump isa; do
    expect 0 0 $c --help
done
expect 1 1 as
expect 1 1 as "$data/hello.s"
expect 1 1 as -o "$dir/x.elf"
expect 1 1 as "$data/hello.s" "$data/hello.s" -o "$dir/x.elf"
expect 1 1 as --bogus "$data/hello.s" -o "$dir/x.elf"
expect 1 1 as "$dir/missing.s" -o "$dir/x.elf"
expect 1 1 as "$data/hello.s" -o "$dir/x.elf" --set mesh_col=3
printf '.program p\n  vaddf v1, v2, v3\n' > "$dir/bad.s"
expect 1 1 as "$dir/bad.s" -o "$dir/x.elf"
grep_in err "bad.s:2: unknown mnemonic 'vaddf' (did you mean 'vadd.f'?)"
[ -e "$dir/x.elf" ] && { echo "FAIL: output written on error" >&2; fails=$((fails + 1)); }
# one chip (354 nodes): hello.s places nodes up to 8849
expect 1 1 as "$data/hello.s" -o "$dir/x.elf" --set tile_chips_x=1 --set tile_chips_y=1
grep_in err "node 8839 out of range 0-353"

expect 0 0 as "$data/hello.s" -o "$dir/hello.elf"
expect 0 0 objdump "$dir/hello.elf"
grep_in out "Program 'hello'"
grep_in out "bne x6, x0, 0x8 <loop>"
grep_in out "0-8839 *hello"
expect 0 0 objdump --data "$dir/hello.elf"
grep_in out "00001000: 0000803f"
expect 1 1 objdump
expect 1 1 objdump --frob "$dir/hello.elf"
expect 1 1 objdump "$dir/none.elf"
printf 'not an elf' > "$dir/junk.elf"
expect 1 1 objdump "$dir/junk.elf"
grep_in err "not an ELF file"
head -c 200 "$dir/hello.elf" > "$dir/cut.elf"
expect 1 1 objdump "$dir/cut.elf"

expect 0 0 isa doc
grep_in out "| 0x70 | \`vadd.f\` |"
expect 1 1 isa
expect 1 1 isa frob
expect 1 1 isa doc extra
expect 0 0 isa decode 01288c00 40000000
grep_in out "01288c00  add x5, x2, x6"
expect 1 1 isa decode ff000000
expect 1 1 isa decode zz
expect 0 0 isa encode "add x5, x2, x6"
grep_in out "01288c00"
expect 1 1 isa encode "add x5, x2"

if command -v readelf > /dev/null 2>&1; then
    if ! readelf -a -W "$dir/hello.elf" > "$dir/re.out" 2> "$dir/re.err"; then
        echo "FAIL: readelf -a exit status" >&2; fails=$((fails + 1))
    fi
    if grep -qi -e warning -e error "$dir/re.err" "$dir/re.out"; then
        echo "FAIL: readelf complains:" >&2; cat "$dir/re.err" >&2; fails=$((fails + 1))
    fi
    grep_in re.out "Machine: *<unknown>: 0x9d1a"
    grep_in re.out "^  NOTE  "
fi

cli_end "d1 as/objdump/isa command lines"
