/* `d1 bench <name>`: the sub-benchmark table (benches.def) and their entry points. */
#ifndef D1_BENCH_H
#define D1_BENCH_H

#define D1_BENCH(name, fn, summary) int fn(int argc, char **argv);
#include "benches.def"
#undef D1_BENCH

#endif
