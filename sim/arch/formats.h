/* Number formats of D1 (CFloat white paper) and conversions to and from FP32.
 *
 * Bit layouts, MSB first:
 *   FP32      s:1 e:8 m:23          bias 127, IEEE
 *   BF16      s:1 e:8 m:7           bias 127, IEEE-like (Inf, NaN, denormals)
 *   CFP8 143  s:1 e:4 m:3           bias 0..63 per tensor, no Inf/NaN
 *   CFP8 152  s:1 e:5 m:2           bias 0..63 per tensor, no Inf/NaN
 *   CFP16 SHP s:1 e:5 m:10          bias 0..63, no Inf/NaN
 *   CFP16 UHP     e:6 m:10          bias 31, unsigned, no Inf/NaN
 * CFP formats: every exponent code is a normal number; E=0 is zero/denormal with IEEE-style
 * gradual underflow 0.M x 2^(1-bias). Overflow, +-Inf and NaN saturate to the largest
 * magnitude (NaN raises Invalid). Negative values to the unsigned UHP saturate to 0 (Invalid).
 *
 * Rounding: round-to-nearest-even, or stochastic: 32 random bits r from
 * d1_sr_bits(seed, index) are added below the kept bits before truncation, so a value
 * rounds up with probability equal to its distance from the lower neighbour. */
#ifndef D1_FORMATS_H
#define D1_FORMATS_H

#include <stddef.h>
#include <stdint.h>

typedef enum d1_dtype {
#define D1_FMT(sym, name, bytes, sbits, ebits, mbits, bias, ieee) sym,
#include "formats.def"
#undef D1_FMT
    D1_DTYPE_COUNT
} d1_dtype;

typedef struct d1_fmt_info {
    const char *name;
    int bytes, sign_bits, exp_bits, man_bits;
    int fixed_bias; /* -1: configurable 0..63 per tensor */
    int ieee;       /* has Inf/NaN */
} d1_fmt_info;

typedef enum d1_round { D1_ROUND_RNE = 0, D1_ROUND_STOCHASTIC = 1 } d1_round;

enum {
    D1_FLAG_INVALID = 1u << 0,
    D1_FLAG_DENORMAL = 1u << 1,
    D1_FLAG_OVERFLOW = 1u << 2,
    D1_FLAG_UNDERFLOW = 1u << 3,
};

#define D1_BIAS_MAX 63

const d1_fmt_info *d1_fmt(d1_dtype t); /* NULL if t is not a dtype */
size_t d1_dtype_size(d1_dtype t);      /* bytes per element, 0 if not a dtype */
const char *d1_dtype_name(d1_dtype t);
int d1_dtype_from_name(const char *name, d1_dtype *out); /* 0 ok, -1 unknown */
/* Effective bias: the fixed one for FP32/BF16/UHP, `bias` for configurable formats. */
int d1_fmt_bias(d1_dtype t, int bias);

/* Counter-based random bits: a pure function of (seed, index). The only source of
 * stochastic-rounding randomness in the project (CPU backend and simulator alike). */
uint32_t d1_sr_bits(uint64_t seed, uint64_t index);

/* FP32 -> code of format t. `rbits` is used only for D1_ROUND_STOCHASTIC. Flags raised are
 * OR-ed into *flags (may be NULL). For FP32 itself the code is the bit pattern. */
uint32_t d1_fmt_encode(d1_dtype t, float x, int bias, d1_round mode, uint32_t rbits,
                       unsigned *flags);
/* Code of format t -> FP32 (exact: every value of every format is an FP32 value). */
float d1_fmt_decode(d1_dtype t, uint32_t code, int bias);

/* Arrays: element i uses random bits d1_sr_bits(seed, index0 + i). `out`/`in` hold
 * elements of d1_dtype_size(t) bytes, little-endian. */
void d1_fmt_encode_array(d1_dtype t, const float *x, size_t n, int bias, d1_round mode,
                         uint64_t seed, uint64_t index0, void *out, unsigned *flags);
void d1_fmt_decode_array(d1_dtype t, const void *in, size_t n, int bias, float *out);

/* BF16 fast paths (RNE), identical in result to d1_fmt_encode/decode. */
uint16_t d1_bf16_from_f32(float x);
float d1_bf16_to_f32(uint16_t b);

/* Per-tensor bias for a configurable format: the largest bias in 0..63 whose largest
 * finite value is >= max|x| (so nothing saturates while keeping most precision);
 * 0 if even bias 0 saturates. NaN elements are ignored. */
int d1_fmt_choose_bias(d1_dtype t, const float *x, size_t n);

#endif
