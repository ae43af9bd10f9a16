/* Harness for the elementwise kernels: build a small chip, generate an op's kernel, stage
 * random inputs (with edge values), run it on the simulator (functional mode) and run the
 * same op through the CPU backend (runtime/cpu/cpu_ops.h). */
#ifndef D1_TEST_EW_HARNESS_H
#define D1_TEST_EW_HARNESS_H

#include "kernels/elementwise.h"
#include "sim/chip/chip.h"

#include <stdint.h>

typedef struct ew_case {
    d1k_ew_kind kind;
    int64_t rows, cols;
    d1_dtype in, out; /* cast only */
    d1_round round;   /* cast only */
    int in_bias, out_bias;
    uint32_t node_first; /* first node of the range (0: node 0) */
    int inplace;         /* the output at the address of an input (ops that allow it) */
    int threads;         /* op->threads (0: default) */
} ew_case;

typedef struct ew_result {
    int mismatches;   /* operands whose bytes differ */
    char detail[256]; /* first difference */
    uint64_t cycles;
    uint64_t insns;
    uint32_t nodes; /* nodes the op ran on */
    uint64_t predicted;
} ew_result;

/* Run case c on a chip configured by sets (NULL-terminated "key=value"), with inputs from
 * seed; edge: include edge values (-0, denormals, huge, BF16 ties); nan 1: also many NaN
 * and Inf (elementwise), 2: one NaN and one -Inf per FP32 operand (reductions). The simulated
 * outputs are compared byte for byte with the CPU backend. Failures of the machinery
 * (emit, load, trap) fail the Check test directly. */
/* Set by a program that is not a Check runner: failures print and exit(2). */
extern int ew_standalone;
/* Place on d1k_ew_suggest_nodes() nodes instead of every node of the chip. */
extern int ew_suggest;

void ew_run(const char *const *sets, const ew_case *c, uint64_t seed, int edge, int nan,
            ew_result *res);

/* The same in a chosen node mode; D1S_NODE_TIMING_ONLY fills only res->cycles. */
void ew_run_mode(const char *const *sets, const ew_case *c, uint64_t seed, int edge, int nan,
                 d1s_node_mode mode, ew_result *res);

#endif
