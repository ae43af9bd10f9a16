#!/bin/sh
# `d1 plan` and `d1 bench matmul` on the command line: help, errors (exit 1, one line on
# stderr), a plan, --emit-elf + d1 objdump, a tiny benchmark on a 4x4-node config.
# usage: cli_plan.sh D1
d1=$1
dir=$(mktemp -d /tmp/d1-plan-cli.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
fails=0

expect() {
    code=$1; lines=$2; shift 2
    "$d1" "$@" > "$dir/out" 2> "$dir/err"
    got=$?
    n=$(wc -l < "$dir/err")
    if [ "$got" -ne "$code" ] || { [ "$lines" != - ] && [ "$n" -ne "$lines" ]; }; then
        echo "FAIL: d1 $*: exit $got (want $code), $n stderr lines (want $lines)" >&2
        cat "$dir/err" >&2
        fails=$((fails + 1))
    fi
}
grep_out() {
    if ! grep -q "$1" "$dir/out"; then
        echo "FAIL: output lacks '$1'" >&2
        cat "$dir/out" >&2
        fails=$((fails + 1))
    fi
}

printf 'mesh_cols = 4\nmesh_rows = 4\nharvested = ""\n' > "$dir/c44.cfg"

expect 0 0 plan --help
expect 1 - plan
expect 1 1 plan conv 1 2 3
expect 1 1 plan matmul 1 2
expect 1 1 plan matmul 0 2 3
expect 1 1 plan matmul 4 4 4 --dtype fp32
expect 0 0 plan matmul 4096 4096 4096 --device sim:tile
grep_out "25 chip"
expect 1 1 plan matmul 4 4 4 --frob
expect 1 1 plan matmul 1048576 1048576 64
expect 0 0 plan matmul 4096 4096 4096
grep_out "bound: compute"
grep_out "node grid"
expect 0 0 plan matmul 4096 4096 4096 --device sim:tile --hbm
grep_out "bound: hbm"
expect 1 1 plan matmul 64 64 64 --hbm
expect 0 0 plan matmul 100 200 300 --dtype bf16,cfp8 --out bf16 --sr --ta --acc --json
grep_out '"bound"'
expect 0 0 plan matmul 300 200 100 --device "sim:$dir/c44.cfg" --kb 16 --grid 2x8 --threads 1 --emit-elf "$dir/mm.elf"
grep_out "kernel: "
expect 0 0 objdump "$dir/mm.elf"
grep_out "mma.bf16"
grep_out "dma_thread"
expect 0 0 bench matmul --help
expect 0 0 bench matmul --device "sim:$dir/c44.cfg" --sizes 64,100 --shapes square
grep_out "byte-identical"
grep_out "square 100"
expect 1 1 bench matmul --dtype fp32

[ "$fails" -eq 0 ] || exit 1
