/* Number formats: every conversion is driven by the d1_fmt_info table (formats.def); the
 * only format-specific code is the BF16 fast path, which the tests hold identical to the
 * generic path. Definitions and the reasons behind them: doc/numerics.md. */
#include "formats.h"

#include "status.h"

#include <math.h>
#include <string.h>

static const d1_fmt_info fmt_table[D1_DTYPE_COUNT] = {
#define D1_FMT(sym, name, bytes, sbits, ebits, mbits, bias, ieee)                                  \
    [sym] = {name, bytes, sbits, ebits, mbits, bias, ieee},
#include "formats.def"
#undef D1_FMT
};

const d1_fmt_info *d1_fmt(d1_dtype t)
{
    /* Compare as unsigned so that negative values of the enum are rejected too. */
    return (unsigned)t < D1_DTYPE_COUNT ? &fmt_table[t] : NULL;
}

size_t d1_dtype_size(d1_dtype t)
{
    const d1_fmt_info *f = d1_fmt(t);
    return f ? (size_t)f->bytes : 0;
}

const char *d1_dtype_name(d1_dtype t)
{
    const d1_fmt_info *f = d1_fmt(t);
    return f ? f->name : NULL;
}

int d1_dtype_from_name(const char *name, d1_dtype *out)
{
    if (!name)
        return -1;
    for (int t = 0; t < D1_DTYPE_COUNT; t++) {
        if (strcmp(name, fmt_table[t].name) == 0) {
            if (out)
                *out = (d1_dtype)t;
            return 0;
        }
    }
    return -1;
}

int d1_fmt_bias(d1_dtype t, int bias)
{
    const d1_fmt_info *f = d1_fmt(t);
    if (!f)
        return -1;
    if (f->fixed_bias >= 0)
        return f->fixed_bias;
    return bias >= 0 && bias <= D1_BIAS_MAX ? bias : -1;
}

/* ---- Random bits for stochastic rounding ---------------------------------------------- */

/* The SplitMix64 output function (Steele, Lea, Flood 2014; constants of Stafford's
 * "Mix13"): a bijection of 64-bit words with full avalanche. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* SplitMix64 evaluated at an arbitrary position: stream key mix64(seed), element `index`
 * is the (index+1)-th Weyl step. Hashing the seed first keeps seeds s and s+1 (or seeds
 * differing by a multiple of the Weyl constant) from yielding shifted copies of one
 * stream. The high half is returned: it is the better-mixed half. */
uint32_t d1_sr_bits(uint64_t seed, uint64_t index)
{
    const uint64_t golden = 0x9e3779b97f4a7c15u;
    return (uint32_t)(mix64(mix64(seed) + (index + 1) * golden) >> 32);
}

/* ---- Generic conversion ---------------------------------------------------------------- */

/* Everything encode/decode need about one (format, bias), derived once from the table. */
typedef struct fmt_params {
    int ieee;
    int sign_bits;
    int man; /* stored mantissa bits */
    int bias;
    int emin;            /* exponent of the smallest normal, 1 - bias */
    uint32_t sign_mask;  /* 0 for unsigned formats */
    uint32_t max_mag;    /* magnitude code of the largest finite value */
    uint32_t width_mask; /* all bits of a code */
} fmt_params;

static fmt_params params_of(d1_dtype t, int bias)
{
    const d1_fmt_info *f = d1_fmt(t);
    /* Callers are our own code (the runtime validates dtypes and biases at tensor creation,
     * kernel binaries carry 6-bit bias fields): a bad value here is a bug. */
    D1_ASSERT(f != NULL);
    int b = d1_fmt_bias(t, bias);
    D1_ASSERT(b >= 0);
    fmt_params p;
    p.ieee = f->ieee;
    p.sign_bits = f->sign_bits;
    p.man = f->man_bits;
    p.bias = b;
    p.emin = 1 - b;
    int mag_bits = f->exp_bits + f->man_bits;
    p.sign_mask = f->sign_bits ? 1u << mag_bits : 0;
    /* CFP: every exponent code is normal, so all ones is the largest value. IEEE: the top
     * exponent code is Inf/NaN, so the largest finite value is one below +Inf. */
    p.max_mag = f->ieee ? ((1u << mag_bits) - (1u << f->man_bits)) - 1 : (1u << mag_bits) - 1;
    p.width_mask = (1u << (mag_bits + f->sign_bits)) - 1;
    return p;
}

static uint32_t f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float f32_from_bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* FP32 -> code for every format but FP32 itself. Works on the magnitude in sign-magnitude
 * form, so rounding (RNE and SR alike) is symmetric about zero. */
static uint32_t encode_one(const fmt_params *p, float x, d1_round mode, uint32_t rbits,
                           unsigned *flags)
{
    uint32_t u = f32_bits(x);
    uint32_t neg = u >> 31;
    uint32_t exp_field = (u >> 23) & 0xff, frac = u & 0x7fffff;
    uint32_t sign = p->sign_mask & (0u - neg); /* no branch: signs are random */

    if (exp_field == 0xff) {
        if (frac) { /* NaN */
            if (p->ieee) {
                /* Quiet the NaN, keep the sign and the top payload bits. Only a signaling
                 * NaN raises Invalid, as in IEEE 754 format conversion. */
                if (!(frac & 0x400000))
                    *flags |= D1_FLAG_INVALID;
                uint32_t qbit = 1u << (p->man - 1);
                uint32_t payload = frac >> (23 - p->man);
                return sign | (p->max_mag + 1) | payload | qbit;
            }
            *flags |= D1_FLAG_INVALID;
            return p->max_mag; /* +max: a NaN has no meaningful sign */
        }
        if (!p->sign_bits && neg) { /* -Inf to an unsigned format */
            *flags |= D1_FLAG_INVALID;
            return 0;
        }
        if (p->ieee)
            return sign | (p->max_mag + 1); /* Inf is exact: no flag */
        *flags |= D1_FLAG_OVERFLOW;
        return sign | p->max_mag;
    }
    if (exp_field == 0 && frac == 0)
        return sign; /* +-0 is exact; -0 to an unsigned format is just 0 */
    if (!p->sign_bits && neg) {
        *flags |= D1_FLAG_INVALID;
        return 0;
    }

    /* |x| = m * 2^e with m < 2^24. The unbiased exponent ex of an FP32 denormal only needs
     * to be below every format's emin (>= -126), so -127 stands in for it. */
    uint32_t m;
    int e, ex;
    if (exp_field) {
        m = frac | 0x800000;
        e = (int)exp_field - 150;
        ex = (int)exp_field - 127;
    } else {
        m = frac;
        e = -149;
        ex = -127;
    }
    int tiny = ex < p->emin;
    int eq = tiny ? p->emin : ex;
    /* Quantum (ulp) of the destination at |x| is 2^(eq - man); s is how many bits of m lie
     * below it. s >= 13 for every format (at most 10 mantissa bits) so m never shifts left. */
    int s = eq - p->man - e;
    int inexact = s >= 24 || (m & ((1u << s) - 1)) != 0;

    /* w = |x| / ulp in 32.32 fixed point, truncated below 2^-32 (only reached when s > 32,
     * where the value is under half an ulp and the truncation cannot change an RNE result;
     * for SR it is the stated 2^-32 resolution). */
    uint64_t w = s <= 32 ? (uint64_t)m << (32 - s) : (s - 32 < 64 ? (uint64_t)m >> (s - 32) : 0);
    uint64_t k;
    if (mode == D1_ROUND_STOCHASTIC) {
        k = (w + rbits) >> 32;
    } else {
        /* Ties to even without a branch (ties are data-dependent, so a branch mispredicts):
         * adding half-minus-one plus the kept LSB carries exactly when the discarded part is
         * above half, or equal to half with an odd kept part. */
        k = (w + 0x7fffffffu + ((w >> 32) & 1)) >> 32;
    }

    /* Magnitude code: exponent-code offset plus k (which includes the hidden bit for
     * normals). A carry out of the mantissa bumps the exponent for free, and a denormal
     * rounding up to 2^emin becomes the smallest normal code. */
    uint64_t mag = ((uint64_t)(eq - p->emin) << p->man) + k;
    if (mag > p->max_mag) {
        *flags |= D1_FLAG_OVERFLOW;
        /* IEEE rounds past the largest finite value to Inf; CFP saturates. */
        return sign | (p->ieee ? p->max_mag + 1 : p->max_mag);
    }
    /* Underflow is IEEE's "tiny and inexact", tininess detected before rounding. */
    if (tiny && inexact)
        *flags |= D1_FLAG_UNDERFLOW;
    if (mag != 0 && mag < (1u << p->man))
        *flags |= D1_FLAG_DENORMAL;
    return sign | (uint32_t)mag;
}

static float decode_one(const fmt_params *p, uint32_t code)
{
    code &= p->width_mask;
    uint32_t neg = p->sign_mask && (code & p->sign_mask);
    uint32_t mag = code & ~p->sign_mask;
    uint32_t ecode = mag >> p->man, mcode = mag & ((1u << p->man) - 1);
    uint32_t sign = neg << 31;
    if (p->ieee && mag > p->max_mag) /* Inf and NaN: keep the payload bits in place */
        return f32_from_bits(sign | 0x7f800000u | (mcode << (23 - p->man)));
    if (ecode == 0) {
        /* Zero or denormal, 0.M x 2^(1-bias); ldexpf is exact (M has <= 10 bits and the
         * result is at least FP32's smallest denormal). */
        float v = ldexpf((float)mcode, p->emin - p->man);
        return neg ? -v : v;
    }
    /* Every normal value of every format is an FP32 normal (exponents -126..32), so the
     * FP32 bits are assembled directly. */
    uint32_t e32 = (uint32_t)((int)ecode - p->bias + 127);
    return f32_from_bits(sign | (e32 << 23) | (mcode << (23 - p->man)));
}

uint32_t d1_fmt_encode(d1_dtype t, float x, int bias, d1_round mode, uint32_t rbits,
                       unsigned *flags)
{
    unsigned dummy = 0;
    if (t == D1_FP32) {
        D1_ASSERT(d1_fmt(t) != NULL);
        return f32_bits(x);
    }
    fmt_params p = params_of(t, bias);
    return encode_one(&p, x, mode, rbits, flags ? flags : &dummy);
}

float d1_fmt_decode(d1_dtype t, uint32_t code, int bias)
{
    if (t == D1_FP32)
        return f32_from_bits(code);
    fmt_params p = params_of(t, bias);
    return decode_one(&p, code);
}

/* ---- BF16 fast paths ------------------------------------------------------------------- */

uint16_t d1_bf16_from_f32(float x)
{
    uint32_t u = f32_bits(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: quiet it, keep sign and top payload */
        return (uint16_t)((u >> 16) | 0x0040);
    /* RNE on the low 16 bits; a carry into the exponent gives the next binade or Inf. */
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

float d1_bf16_to_f32(uint16_t b)
{
    return f32_from_bits((uint32_t)b << 16);
}

/* ---- Arrays ------------------------------------------------------------------------------ */

static void store_code(unsigned char *out, size_t i, size_t bytes, uint32_t c)
{
    unsigned char *q = out + i * bytes;
    for (size_t k = 0; k < bytes; k++) /* little-endian whatever the host */
        q[k] = (unsigned char)(c >> (8 * k));
}

static uint32_t load_code(const unsigned char *in, size_t i, size_t bytes)
{
    const unsigned char *q = in + i * bytes;
    uint32_t c = 0;
    for (size_t k = 0; k < bytes; k++)
        c |= (uint32_t)q[k] << (8 * k);
    return c;
}

void d1_fmt_encode_array(d1_dtype t, const float *x, size_t n, int bias, d1_round mode,
                         uint64_t seed, uint64_t index0, void *out, unsigned *flags)
{
    unsigned char *o = out;
    size_t bytes = d1_dtype_size(t);
    D1_ASSERT(bytes != 0);
    if (t == D1_FP32) {
        for (size_t i = 0; i < n; i++)
            store_code(o, i, 4, f32_bits(x[i]));
        return;
    }
    fmt_params p = params_of(t, bias);
    unsigned fl = 0;
    if (t == D1_BF16 && mode == D1_ROUND_RNE) {
        /* Fast path for the common case; flags still come from the generic rules, but only
         * elements that can raise one (NaN/denormal range/overflow) pay for them. */
        for (size_t i = 0; i < n; i++) {
            uint16_t c = d1_bf16_from_f32(x[i]);
            uint32_t a = f32_bits(x[i]) & 0x7fffffffu;
            if (a < 0x00800000u || (c & 0x7f80u) == 0x7f80u)
                (void)encode_one(&p, x[i], mode, 0, &fl);
            store_code(o, i, 2, c);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            uint32_t r = mode == D1_ROUND_STOCHASTIC ? d1_sr_bits(seed, index0 + i) : 0;
            store_code(o, i, bytes, encode_one(&p, x[i], mode, r, &fl));
        }
    }
    if (flags)
        *flags |= fl;
}

void d1_fmt_decode_array(d1_dtype t, const void *in, size_t n, int bias, float *out)
{
    const unsigned char *src = in;
    size_t bytes = d1_dtype_size(t);
    D1_ASSERT(bytes != 0);
    if (t == D1_FP32) {
        for (size_t i = 0; i < n; i++)
            out[i] = f32_from_bits(load_code(src, i, 4));
        return;
    }
    if (t == D1_BF16) {
        for (size_t i = 0; i < n; i++)
            out[i] = d1_bf16_to_f32((uint16_t)load_code(src, i, 2));
        return;
    }
    fmt_params p = params_of(t, bias);
    if (bytes == 1 && n >= 64) {
        /* 256-entry table per call: building it costs about as much as decoding 256
         * elements, and a per-call table needs no locking or cache invalidation. */
        float table[256];
        for (uint32_t c = 0; c < 256; c++)
            table[c] = decode_one(&p, c);
        for (size_t i = 0; i < n; i++)
            out[i] = table[src[i]];
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = decode_one(&p, load_code(src, i, bytes));
}

/* ---- Bias chooser ------------------------------------------------------------------------ */

int d1_fmt_choose_bias(d1_dtype t, const float *x, size_t n)
{
    const d1_fmt_info *f = d1_fmt(t);
    if (!f)
        return -1;
    if (f->fixed_bias >= 0)
        return f->fixed_bias;
    float amax = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > amax) /* false for NaN, so NaN is ignored */
            amax = a;
    }
    /* The largest value halves with each bias step, so scan from the most precise end. */
    for (int b = D1_BIAS_MAX; b > 0; b--) {
        fmt_params p = params_of(t, b);
        if (decode_one(&p, p.max_mag) >= amax)
            return b;
    }
    return 0;
}
