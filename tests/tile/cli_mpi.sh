#!/bin/sh
# `mpirun -np P d1 bench sim-speed --mpi` end to end: the same results line (cycles, packets,
# mma, statistics digest) with 1, 2 and 3 ranks (3: an uneven split of 5 chips) and 2 threads
# per rank; more ranks than chips: exit 1 with a clear message.
# usage: cli_mpi.sh MPIRUN D1   (the Open MPI environment comes from tests/tile/meson.build)
mpirun=$1
d1exe=$2
d1=$mpirun
. "$(dirname "$0")/../cli_lib.sh"

small="--set tile_chips_x=5 --set tile_chips_y=1 --set mesh_cols=6 --set mesh_rows=5 --set harvested=2,2"
for run in "1 1" "2 1" "3 1" "2 2"; do
    set -- $run
    expect 0 0 --oversubscribe -np "$1" "$d1exe" bench sim-speed --mpi --case tile --cycles 3000 \
        --repeat 1 --threads "$2" $small
    grep_in out "$1 rank(s) x $2 thread(s)"
    grep '^results:' "$dir/out" > "$dir/results.$1.$2"
done
for f in "$dir"/results.*; do
    if ! cmp -s "$dir/results.1.1" "$f" || ! [ -s "$f" ]; then
        echo "FAIL: results differ: $(cat "$dir/results.1.1") vs $(cat "$f") ($f)" >&2
        fails=$((fails + 1))
    fi
done
cat "$dir/results.1.1"

expect 1 - --oversubscribe -np 2 "$d1exe" bench sim-speed --mpi --case tile --repeat 1 \
    --set tile_chips_x=1 --set tile_chips_y=1
grep_in err "2 processes for 1 chips: at most one process per chip"
d1=$d1exe
expect 1 1 bench sim-speed --case tile --threads 2
grep_in err "threads goes with --mpi"
cli_end "d1 bench sim-speed --mpi: identical results for 1, 2, 3 ranks"
