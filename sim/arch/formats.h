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
 * BF16 follows IEEE 754: NaN stays a quiet NaN, overflow goes to Inf.
 *
 * Flags (OR-ed into *flags by the encoders):
 *   INVALID   NaN to a CFP format (result +max), signaling NaN to BF16, negative nonzero
 *             value or -Inf to UHP (result 0)
 *   DENORMAL  the result is a nonzero denormal
 *   OVERFLOW  the rounded magnitude exceeds the largest finite value (CFP: saturated,
 *             BF16: Inf), or +-Inf to a CFP format
 *   UNDERFLOW |x| is nonzero, below the smallest normal, and not exactly representable
 *             (IEEE "tiny and inexact", tininess before rounding)
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
const char *d1_dtype_name(d1_dtype t); /* "bf16", ...; NULL if t is not a dtype */
int d1_dtype_from_name(const char *name, d1_dtype *out); /* 0 ok, -1 unknown (or NULL) */
/* Effective bias: the fixed one for FP32/BF16/UHP, `bias` for configurable formats.
 * -1 if t is not a dtype or a configurable format gets a bias outside 0..63. */
int d1_fmt_bias(d1_dtype t, int bias);

/* Counter-based random bits: a pure function of (seed, index). The only source of
 * stochastic-rounding randomness in the project (CPU backend and simulator alike).
 * Definition (frozen: changing it changes every SR result): SplitMix64 with stream key
 * mix64(seed), i.e. the high 32 bits of mix64(mix64(seed) + (index + 1) * 0x9e3779b97f4a7c15),
 * mix64 being SplitMix64's finalizer. See doc/numerics.md. */
uint32_t d1_sr_bits(uint64_t seed, uint64_t index);

/* FP32 -> code of format t. `rbits` is used only for D1_ROUND_STOCHASTIC. Flags raised are
 * OR-ed into *flags (may be NULL). For FP32 itself the code is the bit pattern (no flags).
 * Encoders and decoders require a valid dtype and, for configurable formats, a bias in
 * 0..63 (d1_fmt_bias(t, bias) >= 0): anything else is a caller bug and aborts (D1_ASSERT);
 * validate user input with d1_fmt_bias first. */
uint32_t d1_fmt_encode(d1_dtype t, float x, int bias, d1_round mode, uint32_t rbits,
                       unsigned *flags);
/* Code of format t -> FP32 (exact: every value of every format is an FP32 value). Bits
 * above the format's width are ignored. */
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
 * 0 if even bias 0 saturates (or an element is +-Inf), 63 if all elements are zero or NaN
 * (or n == 0). NaN elements are ignored. Fixed-bias formats return their fixed bias; -1 if
 * t is not a dtype. */
int d1_fmt_choose_bias(d1_dtype t, const float *x, size_t n);

#endif
