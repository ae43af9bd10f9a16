#!/bin/sh
# `d1 plan` and `d1 bench matmul` on the command line: help, errors (exit 1, one line on
# stderr), a plan, --emit-elf + d1 objdump, a tiny benchmark on a 4x4-node config.
# usage: cli_plan.sh D1
d1=$1
. "$(dirname "$0")/../cli_lib.sh"

printf 'mesh_cols = 4\nmesh_rows = 4\nharvested = ""\n' > "$dir/c44.cfg"

expect 0 0 plan --help
expect 1 - plan
expect 1 1 plan conv 1 2 3
expect 1 1 plan matmul 1 2
expect 1 1 plan matmul 0 2 3
expect 1 1 plan matmul 4 4 4 --dtype fp32
expect 0 0 plan matmul 4096 4096 4096 --device sim:tile
grep_in out "25 chip"
expect 1 1 plan matmul 4 4 4 --frob
expect 1 1 plan matmul 1048576 1048576 64
expect 0 0 plan matmul 4096 4096 4096
grep_in out "bound: compute"
grep_in out "node grid"
expect 0 0 plan matmul 4096 4096 4096 --device sim:tile --hbm
grep_in out "bound: hbm"
expect 1 1 plan matmul 64 64 64 --hbm
expect 0 0 plan matmul 100 200 300 --dtype bf16,cfp8 --out bf16 --sr --ta --acc --json
grep_in out '"bound"'
expect 0 0 plan matmul 300 200 100 --device "sim:$dir/c44.cfg" --kb 16 --grid 2x8 --threads 1 --emit-elf "$dir/mm.elf"
grep_in out "kernel: "
expect 0 0 objdump "$dir/mm.elf"
grep_in out "mma.bf16"
grep_in out "dma_thread"
expect 0 0 bench matmul --help
expect 0 0 bench matmul --device "sim:$dir/c44.cfg" --sizes 64,100 --shapes square
grep_in out "byte-identical"
grep_in out "square 100"
expect 1 1 bench matmul --dtype fp32

cli_end "d1 plan and d1 bench matmul command lines"
