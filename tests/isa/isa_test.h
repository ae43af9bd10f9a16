/* Shared helpers of the ISA tools tests. */
#ifndef D1_ISA_TEST_H
#define D1_ISA_TEST_H

#include "sim/arch/isa.h"
#include "sim/elf/emit.h"

#include <stdint.h>

/* Deterministic generator (xorshift64*). */
static inline uint64_t t_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

/* A random valid instruction of op (fields in range for its format). */
d1_insn t_random_insn(d1_op op, uint64_t *seed);

/* Default test target: one D1 chip. */
static const d1s_target t_chip = {354, 1310720, 0x1234abcd5678ef00ull};

#endif
