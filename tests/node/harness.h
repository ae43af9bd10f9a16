/* Test harness for the node model: a few nodes joined by a loopback network with a fixed
 * latency, programs built with d1_insn_encode, runs stepped cycle by cycle. */
#ifndef D1_TEST_NODE_HARNESS_H
#define D1_TEST_NODE_HARNESS_H

#include "sim/arch/config.h"
#include "sim/arch/isa.h"
#include "sim/node/node.h"

#include <stdint.h>

#define TH_MAX_NODES 4
#define TH_MAX_WORDS 8192
#define TH_QUEUE 1024
#define TH_NET_LAT 5

typedef struct th_pkt {
    d1s_pkt pkt;
    uint64_t due;
} th_pkt;

typedef struct th {
    d1_config cfg;
    int nn;
    d1s_node *n[TH_MAX_NODES];
    d1s_prog *prog;
    uint32_t w[TH_MAX_WORDS];
    int nw;
    th_pkt q[TH_QUEUE];
    int qn;
    uint64_t now; /* cycle after the run */
    int skip;     /* use next_event to skip idle cycles */
} th;

/* Word of one instruction (aborts the test if it does not encode). */
uint32_t th_enc(d1_op op, int a, int b, int c, int64_t imm);
/* Append an instruction to the program; returns its index. */
int th_emit(th *h, d1_op op, int a, int b, int c, int64_t imm);
#define E(h, op, a, b, c, imm) th_emit((h), D1_OP_##op, (a), (b), (c), (imm))

/* Defaults + `sets` (NULL-terminated "key=value" list, may be NULL). */
void th_init(th *h, d1s_node_mode mode, int nodes, const char *const *sets);
/* Predecode the program and start thread 0 of every node at pc 0. */
void th_start(th *h);
/* Run until every node is halted with nothing in flight, a trap, or max cycles.
 * Returns the number of cycles (the cycle after the last eval that did something). */
uint64_t th_run(th *h, uint64_t max_cyc);
void th_fini(th *h);
/* The trap of any node, or NULL. */
const d1s_trap *th_trap(const th *h);

#endif
