/* Counter-based random numbers for the training example: every value is a pure function of
 * (seed, index) through d1_sr_bits (sim/arch/formats.h), so data, initial weights, shuffles
 * and stochastic-rounding seeds are reproducible and independent of call order. */
#ifndef D1X_RNG_H
#define D1X_RNG_H

#include "sim/arch/formats.h"

#include <stdint.h>

/* A 64-bit seed for sub-stream `tag` of `seed` (e.g. one per layer, per epoch, per step). */
static inline uint64_t d1x_seed_mix(uint64_t seed, uint64_t tag)
{
    return ((uint64_t)d1_sr_bits(seed, 2 * tag) << 32) | d1_sr_bits(seed, 2 * tag + 1);
}

/* Uniform in [0, 1), 24 random bits (exact in FP32). */
static inline float d1x_uniform(uint64_t seed, uint64_t index)
{
    return (float)(d1_sr_bits(seed, index) >> 8) * (1.0f / 16777216.0f);
}

/* Uniform integer in [0, n) by multiply-shift (bias below 2^-32 * n, irrelevant here). */
static inline uint32_t d1x_below(uint64_t seed, uint64_t index, uint32_t n)
{
    return (uint32_t)(((uint64_t)d1_sr_bits(seed, index) * n) >> 32);
}

#endif
