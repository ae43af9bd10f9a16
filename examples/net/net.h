/* d1 net: interconnect benchmarks on the simulated network on chip.
 * Sub-commands are rows of nets.def; each is int fn(int argc, char **argv) with
 * argv[0] = the sub-command name, handles --help itself and returns the exit code. */
#ifndef D1_NET_H
#define D1_NET_H

#define D1_NET(name, fn, summary) int fn(int argc, char **argv);
#include "nets.def"
#undef D1_NET

#endif
