/* Number formats: exhaustive code round trips, conversions against an independent
 * double-precision reference, stochastic rounding, arrays, bias chooser, lookups.
 *
 * The reference below never calls the code under test: it lists every finite value of a
 * format in double (from the layout parameters written out here, not read from
 * formats.def), then picks neighbours by search. Large loops count mismatches and assert
 * once, because every ck_assert costs a message to the Check parent process. */
#include "test_main.h"

#include "sim/arch/formats.h"

#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* ---- Test helpers ---------------------------------------------------------------------- */

static uint64_t rng_state;

/* xorshift64*: a test-local generator, deliberately unrelated to d1_sr_bits. */
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static uint32_t rng_u32(void)
{
    return (uint32_t)(rng_next() >> 32);
}

static float f32_from_bits(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static uint32_t f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* Mismatch counter with the first few failures kept for the assertion message. */
typedef struct mism {
    long n;
    char first[512];
} mism;

#define MISMATCH(m, ...)                                                                           \
    do {                                                                                           \
        if ((m)->n++ == 0)                                                                         \
            snprintf((m)->first, sizeof(m)->first, __VA_ARGS__);                                   \
    } while (0)

#define ASSERT_NO_MISMATCH(m)                                                                      \
    ck_assert_msg((m).n == 0, "%ld mismatches; first: %s", (m).n, (m).first)

/* ---- Independent reference ------------------------------------------------------------- */

typedef struct ref_spec {
    d1_dtype t;
    const char *name;
    int bytes, sbits, ebits, mbits, fixed_bias, ieee;
} ref_spec;

/* Written from D1-FACTS.md, not from formats.def, so the table is checked too. */
static const ref_spec specs[] = {
    {D1_BF16, "bf16", 2, 1, 8, 7, 127, 1},        {D1_CFP8_143, "cfp8", 1, 1, 4, 3, -1, 0},
    {D1_CFP8_152, "cfp8e5", 1, 1, 5, 2, -1, 0},   {D1_CFP16_SHP, "cfp16", 2, 1, 5, 10, -1, 0},
    {D1_CFP16_UHP, "cfp16u", 2, 0, 6, 10, 31, 0},
};
#define NSPECS (sizeof specs / sizeof specs[0])

static const ref_spec *spec_of(d1_dtype t)
{
    for (size_t i = 0; i < NSPECS; i++)
        if (specs[i].t == t)
            return &specs[i];
    return NULL;
}

typedef struct ref_fmt {
    const ref_spec *sp;
    int bias;
    uint32_t nmag;     /* finite magnitude codes are 0..nmag-1 */
    uint32_t sign;     /* sign bit of a code, 0 if unsigned */
    uint32_t min_norm; /* code of the smallest normal */
    double *val;       /* val[0..nmag]: val[nmag] is the value one ulp above the largest */
} ref_fmt;

static ref_fmt ref_make(d1_dtype t, int bias)
{
    ref_fmt rf;
    rf.sp = spec_of(t);
    ck_assert_ptr_nonnull(rf.sp);
    rf.bias = rf.sp->fixed_bias >= 0 ? rf.sp->fixed_bias : bias;
    int mag_bits = rf.sp->ebits + rf.sp->mbits;
    /* IEEE reserves the top exponent code; CFP uses every code. */
    rf.nmag = rf.sp->ieee ? ((1u << rf.sp->ebits) - 1) << rf.sp->mbits : 1u << mag_bits;
    rf.sign = rf.sp->sbits ? 1u << mag_bits : 0;
    rf.min_norm = 1u << rf.sp->mbits;
    rf.val = malloc((rf.nmag + 1) * sizeof *rf.val);
    ck_assert_ptr_nonnull(rf.val);
    for (uint32_t c = 0; c <= rf.nmag; c++) {
        int e = (int)(c >> rf.sp->mbits);
        double m = (double)(c & (rf.min_norm - 1));
        /* Normal: 1.M x 2^(E-bias); denormal: 0.M x 2^(1-bias) (IEEE-style). */
        rf.val[c] =
            e ? ldexp(1.0 + m / rf.min_norm, e - rf.bias) : ldexp(m / rf.min_norm, 1 - rf.bias);
    }
    return rf;
}

static void ref_free(ref_fmt *rf)
{
    free(rf->val);
}

/* Largest c in 0..nmag with val[c] <= a. */
static uint32_t ref_floor(const ref_fmt *rf, double a)
{
    uint32_t lo = 0, hi = rf->nmag;
    if (a >= rf->val[hi])
        return hi;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (rf->val[mid] <= a)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Expected code and flags for FP32 x; sr selects stochastic rounding with bits r. */
static uint32_t ref_encode(const ref_fmt *rf, float xf, int sr, uint32_t r, unsigned *flags)
{
    const ref_spec *sp = rf->sp;
    uint32_t bits = f32_bits(xf);
    int neg = (bits >> 31) != 0;
    uint32_t sign = neg ? rf->sign : 0;
    uint32_t max_code = rf->nmag - 1;
    double x = xf;
    if (isnan(x)) {
        if (sp->ieee) {
            if (!(bits & 0x400000))
                *flags |= D1_FLAG_INVALID;
            uint32_t payload = (bits & 0x7fffff) >> (23 - sp->mbits);
            return sign | rf->nmag | payload | (1u << (sp->mbits - 1));
        }
        *flags |= D1_FLAG_INVALID;
        return max_code;
    }
    if (neg && !sp->sbits && x != 0) {
        *flags |= D1_FLAG_INVALID;
        return 0;
    }
    if (isinf(x)) {
        if (sp->ieee)
            return sign | rf->nmag;
        *flags |= D1_FLAG_OVERFLOW;
        return sign | max_code;
    }
    double a = fabs(x);
    uint32_t lo = ref_floor(rf, a), c;
    int exact = lo < rf->nmag && rf->val[lo] == a;
    if (lo == rf->nmag) {
        c = rf->nmag; /* at or beyond one ulp past the largest value */
    } else if (exact) {
        c = lo;
    } else if (sr) {
        double frac = (a - rf->val[lo]) / (rf->val[lo + 1] - rf->val[lo]);
        double scaled = floor(ldexp(frac, 32));
        c = scaled + (double)r >= 4294967296.0 ? lo + 1 : lo;
    } else {
        double dlo = a - rf->val[lo], dhi = rf->val[lo + 1] - a;
        if (dlo != dhi)
            c = dlo < dhi ? lo : lo + 1;
        else
            c = (lo & 1) ? lo + 1 : lo;
    }
    if (c == rf->nmag) {
        *flags |= D1_FLAG_OVERFLOW;
        return sign | (sp->ieee ? rf->nmag : max_code);
    }
    if (a < rf->val[rf->min_norm] && !exact)
        *flags |= D1_FLAG_UNDERFLOW;
    if (c != 0 && c < rf->min_norm)
        *flags |= D1_FLAG_DENORMAL;
    return sign | c;
}

/* The (format, bias) pairs the conversion tests sweep. */
typedef struct cfg {
    d1_dtype t;
    int bias;
} cfg;

static size_t all_configs(cfg *out)
{
    static const int shp_biases[] = {0, 1, 15, 30, 47, 63};
    size_t n = 0;
    out[n++] = (cfg){D1_BF16, 0};
    for (int b = 0; b <= D1_BIAS_MAX; b++) {
        out[n++] = (cfg){D1_CFP8_143, b};
        out[n++] = (cfg){D1_CFP8_152, b};
    }
    for (size_t i = 0; i < sizeof shp_biases / sizeof shp_biases[0]; i++)
        out[n++] = (cfg){D1_CFP16_SHP, shp_biases[i]};
    out[n++] = (cfg){D1_CFP16_UHP, 31};
    return n;
}

/* Compare one input under RNE and under SR (with one random r) against the reference. */
static void check_input(const ref_fmt *rf, float x, mism *m)
{
    d1_dtype t = rf->sp->t;
    for (int sr = 0; sr < 2; sr++) {
        uint32_t r = sr ? rng_u32() : 0;
        unsigned ef = 0, gf = 0;
        uint32_t exp = ref_encode(rf, x, sr, r, &ef);
        uint32_t got =
            d1_fmt_encode(t, x, rf->bias, sr ? D1_ROUND_STOCHASTIC : D1_ROUND_RNE, r, &gf);
        if (got != exp || gf != ef)
            MISMATCH(m, "%s bias %d %s x=%a (0x%08x) r=0x%08x: code 0x%x flags %u, want 0x%x %u",
                     rf->sp->name, rf->bias, sr ? "SR" : "RNE", (double)x, f32_bits(x), r, got, gf,
                     exp, ef);
    }
}

/* ---- Tables and lookups ---------------------------------------------------------------- */

START_TEST(dtype_table_and_names)
{
    ck_assert_int_eq(D1_DTYPE_COUNT, 6);
    const d1_fmt_info *f = d1_fmt(D1_FP32);
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(f->name, "fp32");
    ck_assert_int_eq(f->bytes, 4);
    ck_assert_int_eq(f->man_bits, 23);
    for (size_t i = 0; i < NSPECS; i++) {
        const ref_spec *sp = &specs[i];
        f = d1_fmt(sp->t);
        ck_assert_ptr_nonnull(f);
        ck_assert_str_eq(f->name, sp->name);
        ck_assert_int_eq(f->bytes, sp->bytes);
        ck_assert_int_eq(f->sign_bits, sp->sbits);
        ck_assert_int_eq(f->exp_bits, sp->ebits);
        ck_assert_int_eq(f->man_bits, sp->mbits);
        ck_assert_int_eq(f->fixed_bias, sp->fixed_bias);
        ck_assert_int_eq(f->ieee, sp->ieee);
        ck_assert_int_eq(f->sign_bits + f->exp_bits + f->man_bits, 8 * f->bytes);
        ck_assert_uint_eq(d1_dtype_size(sp->t), (size_t)sp->bytes);
        ck_assert_str_eq(d1_dtype_name(sp->t), sp->name);
    }
    for (int t = 0; t < D1_DTYPE_COUNT; t++) {
        d1_dtype got = (d1_dtype)-1;
        ck_assert_int_eq(d1_dtype_from_name(d1_dtype_name((d1_dtype)t), &got), 0);
        ck_assert_int_eq(got, t);
    }
    ck_assert_int_eq(d1_dtype_from_name("cfp8", NULL), 0);
}
END_TEST

START_TEST(dtype_invalid_lookups)
{
    static const char *bad[] = {"", "BF16", "cfp8 ", "fp16", "cfp8_143", "unknown"};
    d1_dtype out = D1_CFP8_152;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(d1_dtype_from_name(bad[i], &out), -1);
        ck_assert_int_eq(out, D1_CFP8_152); /* untouched on failure */
    }
    ck_assert_int_eq(d1_dtype_from_name(NULL, &out), -1);
    static const int bad_t[] = {-1, D1_DTYPE_COUNT, D1_DTYPE_COUNT + 1, 1000};
    for (size_t i = 0; i < sizeof bad_t / sizeof bad_t[0]; i++) {
        d1_dtype t = (d1_dtype)bad_t[i];
        ck_assert_ptr_null(d1_fmt(t));
        ck_assert_uint_eq(d1_dtype_size(t), 0);
        ck_assert_ptr_null(d1_dtype_name(t));
        ck_assert_int_eq(d1_fmt_bias(t, 3), -1);
        ck_assert_int_eq(d1_fmt_choose_bias(t, NULL, 0), -1);
    }
}
END_TEST

START_TEST(effective_bias)
{
    ck_assert_int_eq(d1_fmt_bias(D1_FP32, 5), 127);
    ck_assert_int_eq(d1_fmt_bias(D1_BF16, -7), 127);
    ck_assert_int_eq(d1_fmt_bias(D1_CFP16_UHP, 99), 31);
    static const d1_dtype conf[] = {D1_CFP8_143, D1_CFP8_152, D1_CFP16_SHP};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(d1_fmt_bias(conf[i], 0), 0);
        ck_assert_int_eq(d1_fmt_bias(conf[i], 37), 37);
        ck_assert_int_eq(d1_fmt_bias(conf[i], 63), 63);
        ck_assert_int_eq(d1_fmt_bias(conf[i], 64), -1);
        ck_assert_int_eq(d1_fmt_bias(conf[i], -1), -1);
    }
}
END_TEST

/* Bad dtype or bias reaching an encoder is a caller bug: D1_ASSERT aborts. */
START_TEST(encode_bad_bias_aborts)
{
    (void)d1_fmt_encode(D1_CFP8_143, 1.0f, 64, D1_ROUND_RNE, 0, NULL);
}
END_TEST

START_TEST(decode_bad_dtype_aborts)
{
    (void)d1_fmt_decode((d1_dtype)D1_DTYPE_COUNT, 0, 0);
}
END_TEST

/* ---- Every code: decode matches the reference, encode(decode(c)) == c --------------------- */

/* Checks all codes of (t, bias); returns via m. */
static void check_all_codes(d1_dtype t, int bias, mism *m)
{
    ref_fmt rf = ref_make(t, bias);
    uint32_t ncodes = 1u << (8 * rf.sp->bytes);
    for (uint32_t c = 0; c < ncodes; c++) {
        uint32_t mag = c & ~rf.sign;
        int neg = rf.sign && (c & rf.sign);
        float v = d1_fmt_decode(t, c, bias);
        unsigned fl = 0, fl_sr = 0;
        uint32_t back = d1_fmt_encode(t, v, bias, D1_ROUND_RNE, 0, &fl);
        /* Exact values are unaffected by SR, whatever the random bits. */
        uint32_t back_sr = d1_fmt_encode(t, v, bias, D1_ROUND_STOCHASTIC, 0xffffffffu, &fl_sr);
        uint32_t want = c;
        unsigned want_fl = mag != 0 && mag < rf.min_norm ? D1_FLAG_DENORMAL : 0;
        if (mag < rf.nmag) {
            double exp = neg ? -rf.val[mag] : rf.val[mag];
            if ((double)v != exp || (signbit(v) != 0) != (neg != 0))
                MISMATCH(m, "%s bias %d code 0x%x decodes to %a, want %a", rf.sp->name, bias, c,
                         (double)v, exp);
        } else if (mag == rf.nmag) { /* BF16 Inf */
            if (!isinf(v) || (signbit(v) != 0) != (neg != 0))
                MISMATCH(m, "%s code 0x%x decodes to %a, want Inf", rf.sp->name, c, (double)v);
        } else { /* BF16 NaN: same bits in FP32; a signaling NaN comes back quieted */
            if (f32_bits(v) != c << 16)
                MISMATCH(m, "%s code 0x%x decodes to bits 0x%08x", rf.sp->name, c, f32_bits(v));
            if (!(c & 0x40)) {
                want = c | 0x40;
                want_fl = D1_FLAG_INVALID;
            }
        }
        if (back != want || back_sr != want || fl != want_fl || fl_sr != want_fl)
            MISMATCH(m, "%s bias %d code 0x%x -> %a -> 0x%x/0x%x flags %u/%u, want 0x%x %u",
                     rf.sp->name, bias, c, (double)v, back, back_sr, fl, fl_sr, want, want_fl);
    }
    ref_free(&rf);
}

START_TEST(bf16_all_codes)
{
    mism m = {0};
    check_all_codes(D1_BF16, 0, &m);
    ASSERT_NO_MISMATCH(m);
}
END_TEST

START_TEST(cfp8_all_codes_all_biases)
{
    mism m = {0};
    for (int b = 0; b <= D1_BIAS_MAX; b++) {
        check_all_codes(D1_CFP8_143, b, &m);
        check_all_codes(D1_CFP8_152, b, &m);
    }
    ASSERT_NO_MISMATCH(m);
}
END_TEST

START_TEST(cfp16_all_codes)
{
    static const int biases[] = {0, 1, 15, 31, 47, 63};
    mism m = {0};
    for (size_t i = 0; i < sizeof biases / sizeof biases[0]; i++)
        check_all_codes(D1_CFP16_SHP, biases[i], &m);
    check_all_codes(D1_CFP16_UHP, 31, &m);
    /* UHP ignores the bias argument (fixed 31). */
    check_all_codes(D1_CFP16_UHP, 5, &m);
    ASSERT_NO_MISMATCH(m);
}
END_TEST

START_TEST(fp32_is_bit_copy)
{
    static const uint32_t bits[] = {0,           0x80000000u, 0x3f800000u, 0x7f800001u,
                                    0xffc00000u, 0x00000001u, 0x7f7fffffu};
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        unsigned fl = 0;
        float x = f32_from_bits(bits[i]);
        ck_assert_uint_eq(d1_fmt_encode(D1_FP32, x, 0, D1_ROUND_STOCHASTIC, 123, &fl), bits[i]);
        ck_assert_uint_eq(fl, 0);
        ck_assert_uint_eq(f32_bits(d1_fmt_decode(D1_FP32, bits[i], 0)), bits[i]);
    }
}
END_TEST

/* ---- Hand-checked values (readable anchors for the exhaustive tests) --------------------- */

typedef struct known {
    d1_dtype t;
    int bias;
    float x;
    uint32_t code;
    unsigned flags;
} known;

enum {
    INV = D1_FLAG_INVALID,
    DEN = D1_FLAG_DENORMAL,
    OVF = D1_FLAG_OVERFLOW,
    UNF = D1_FLAG_UNDERFLOW
};

START_TEST(known_values_rne)
{
    const known cases[] = {
        {D1_BF16, 0, 1.0f, 0x3f80, 0},
        {D1_BF16, 0, 1.0f + 0x1p-8f, 0x3f80, 0},            /* tie, even stays */
        {D1_BF16, 0, 1.0f + 0x3p-8f, 0x3f82, 0},            /* tie, odd rounds up */
        {D1_BF16, 0, 1.0f + 0x1p-8f + 0x1p-23f, 0x3f81, 0}, /* just above the tie */
        {D1_BF16, 0, -2.5f, 0xc020, 0},
        {D1_BF16, 0, FLT_MAX, 0x7f80, OVF},   /* rounds past max to Inf */
        {D1_BF16, 0, 0x1.fep127f, 0x7f7f, 0}, /* largest finite BF16 */
        {D1_BF16, 0, -INFINITY, 0xff80, 0},   /* Inf is exact */
        {D1_BF16, 0, -0.0f, 0x8000, 0},
        {D1_BF16, 0, 0x1p-133f, 0x0001, DEN}, /* smallest denormal, exact */
        {D1_BF16, 0, 0x1p-134f, 0x0000, UNF}, /* tie to even: zero */
        {D1_BF16, 0, -0x1.8p-134f, 0x8001, DEN | UNF},
        {D1_BF16, 0, 0x1p-126f, 0x0080, 0},      /* smallest normal */
        {D1_BF16, 0, 0x1.fep-127f, 0x0080, UNF}, /* tiny, rounds to normal */
        {D1_CFP8_143, 0, 1.0f, 0x04, DEN},       /* 0.5 x 2^1: denormal at bias 0 */
        {D1_CFP8_143, 0, 2.0f, 0x08, 0},
        {D1_CFP8_143, 0, 61440.0f, 0x7f, 0},   /* 1.875 x 2^15 */
        {D1_CFP8_143, 0, 63487.0f, 0x7f, 0},   /* below the overflow tie */
        {D1_CFP8_143, 0, 63488.0f, 0x7f, OVF}, /* tie; all-ones is odd -> up */
        {D1_CFP8_143, 0, -1e30f, 0xff, OVF},
        {D1_CFP8_143, 0, INFINITY, 0x7f, OVF},
        {D1_CFP8_143, 0, -INFINITY, 0xff, OVF},
        {D1_CFP8_143, 0, NAN, 0x7f, INV},
        {D1_CFP8_143, 0, -NAN, 0x7f, INV},
        {D1_CFP8_143, 0, -0.0f, 0x80, 0},
        {D1_CFP8_143, 0, 0.125f, 0x00, UNF}, /* half the smallest denormal */
        {D1_CFP8_143, 0, -0.1f, 0x80, UNF},  /* sign kept on underflow */
        {D1_CFP8_143, 0, 0.13f, 0x01, DEN | UNF},
        {D1_CFP8_143, 7, 480.0f, 0x7f, 0}, /* 1.875 x 2^8 */
        {D1_CFP8_143, 7, 0x1p-6f, 0x08, 0},
        {D1_CFP8_143, 7, 0x1p-9f, 0x01, DEN},
        {D1_CFP8_143, 7, 3.3f, 0x45, 0},       /* 3.25 */
        {D1_CFP8_152, 15, 114688.0f, 0x7f, 0}, /* 1.75 x 2^16 */
        {D1_CFP8_152, 15, 0x1p-16f, 0x01, DEN},
        {D1_CFP8_152, 0, 0x1.cp31f, 0x7f, 0},
        {D1_CFP16_SHP, 15, 131008.0f, 0x7fff, 0}, /* (2 - 2^-10) x 2^16 */
        {D1_CFP16_SHP, 15, 65504.0f, 0x7bff, 0},  /* IEEE half's max, E=30 here */
        {D1_CFP16_SHP, 15, 0x1p-24f, 0x0001, DEN},
        {D1_CFP16_SHP, 15, -1.0f, 0xbc00, 0},
        {D1_CFP16_UHP, 31, 1.0f, 0x7c00, 0},
        {D1_CFP16_UHP, 31, 0x1.ffcp32f, 0xffff, 0},
        {D1_CFP16_UHP, 31, 0x1p-40f, 0x0001, DEN},
        {D1_CFP16_UHP, 31, -1.0f, 0x0000, INV}, /* unsigned: negative -> 0 */
        {D1_CFP16_UHP, 31, -0x1p-60f, 0x0000, INV},
        {D1_CFP16_UHP, 31, -0.0f, 0x0000, 0},
        {D1_CFP16_UHP, 31, -INFINITY, 0x0000, INV},
        {D1_CFP16_UHP, 31, INFINITY, 0xffff, OVF},
        {D1_CFP16_UHP, 31, NAN, 0xffff, INV},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const known *k = &cases[i];
        unsigned fl = 0;
        uint32_t c = d1_fmt_encode(k->t, k->x, k->bias, D1_ROUND_RNE, 0, &fl);
        ck_assert_msg(c == k->code && fl == k->flags,
                      "case %zu (%s %a): 0x%x flags %u, want 0x%x %u", i, d1_dtype_name(k->t),
                      (double)k->x, c, fl, k->code, k->flags);
    }
    /* NaN to BF16: quiet, sign and top payload kept; only a signaling NaN is Invalid. */
    unsigned fl = 0;
    ck_assert_uint_eq(d1_fmt_encode(D1_BF16, f32_from_bits(0x7fc00000u), 0, 0, 0, &fl), 0x7fc0);
    ck_assert_uint_eq(fl, 0);
    ck_assert_uint_eq(d1_fmt_encode(D1_BF16, f32_from_bits(0xffa50000u), 0, 0, 0, &fl), 0xffe5);
    ck_assert_uint_eq(fl, INV);
    ck_assert_uint_eq(d1_fmt_encode(D1_BF16, f32_from_bits(0x7f800001u), 0, 0, 0, NULL), 0x7fc0);
}
END_TEST

START_TEST(known_values_sr)
{
    /* CFP8 1-4-3 bias 0: 2.1 lies between 2.0 (0x08) and 2.25 (0x09), 0.4 of the way up
     * (FP32 2.1f is slightly above 2.1: the threshold is computed from its exact value). */
    float x = 2.1f;
    uint64_t above = (uint64_t)ldexp(((double)x - 2.0) / 0.25, 32); /* floor(frac * 2^32) */
    uint32_t r_up = (uint32_t)(4294967296.0 - (double)above);
    unsigned fl = 0;
    ck_assert_uint_eq(d1_fmt_encode(D1_CFP8_143, x, 0, D1_ROUND_STOCHASTIC, r_up, &fl), 0x09);
    ck_assert_uint_eq(d1_fmt_encode(D1_CFP8_143, x, 0, D1_ROUND_STOCHASTIC, r_up - 1, &fl), 0x08);
    ck_assert_uint_eq(d1_fmt_encode(D1_CFP8_143, -x, 0, D1_ROUND_STOCHASTIC, r_up, &fl), 0x89);
    ck_assert_uint_eq(d1_fmt_encode(D1_CFP8_143, x, 0, D1_ROUND_STOCHASTIC, 0, &fl), 0x08);
    ck_assert_uint_eq(fl, 0);
    /* Between the largest value and the next binade: both outcomes give max, rounding up
     * raises Overflow. Beyond it: always max. */
    fl = 0;
    ck_assert_uint_eq(d1_fmt_encode(D1_CFP8_143, 62000.0f, 0, D1_ROUND_STOCHASTIC, 0, &fl), 0x7f);
    ck_assert_uint_eq(fl, 0);
    ck_assert_uint_eq(d1_fmt_encode(D1_CFP8_143, 62000.0f, 0, D1_ROUND_STOCHASTIC, ~0u, &fl), 0x7f);
    ck_assert_uint_eq(fl, OVF);
    fl = 0;
    ck_assert_uint_eq(d1_fmt_encode(D1_CFP8_143, 1e9f, 0, D1_ROUND_STOCHASTIC, 0, &fl), 0x7f);
    ck_assert_uint_eq(fl, OVF);
    /* BF16 follows IEEE: rounding up past the largest finite value gives Inf. */
    fl = 0;
    ck_assert_uint_eq(d1_fmt_encode(D1_BF16, FLT_MAX, 0, D1_ROUND_STOCHASTIC, ~0u, &fl), 0x7f80);
    ck_assert_uint_eq(fl, OVF);
    fl = 0;
    ck_assert_uint_eq(d1_fmt_encode(D1_BF16, FLT_MAX, 0, D1_ROUND_STOCHASTIC, 0, &fl), 0x7f7f);
    ck_assert_uint_eq(fl, 0);
    /* Denormal range: 0.3 of the smallest denormal (0.25 at bias 0) rounds up only with
     * large r, and is tiny and inexact either way. */
    fl = 0;
    ck_assert_uint_eq(d1_fmt_encode(D1_CFP8_143, 0.075f, 0, D1_ROUND_STOCHASTIC, 0, &fl), 0x00);
    ck_assert_uint_eq(fl, UNF);
    fl = 0;
    ck_assert_uint_eq(d1_fmt_encode(D1_CFP8_143, 0.075f, 0, D1_ROUND_STOCHASTIC, ~0u, &fl), 0x01);
    ck_assert_uint_eq(fl, UNF | DEN);
}
END_TEST

/* ---- Conversions against the reference ---------------------------------------------------- */

/* Every value, every midpoint between adjacent values (exact ties) and their FP32
 * neighbours, both signs, under RNE and SR. */
START_TEST(encode_midpoints_vs_reference)
{
    cfg cfgs[256];
    size_t ncfg = all_configs(cfgs);
    mism m = {0};
    rng_state = 0x9d2c5680u;
    for (size_t i = 0; i < ncfg; i++) {
        ref_fmt rf = ref_make(cfgs[i].t, cfgs[i].bias);
        for (uint32_t c = 0; c < rf.nmag; c++) {
            double mid = (rf.val[c] + rf.val[c + 1]) / 2;
            float fm = (float)mid, fv = (float)rf.val[c];
            if ((double)fm != mid || (double)fv != rf.val[c])
                MISMATCH(&m, "%s bias %d: midpoint/value of code 0x%x not an FP32 value",
                         rf.sp->name, rf.bias, c);
            const float xs[] = {fm, nextafterf(fm, 0.0f),     nextafterf(fm, INFINITY),
                                fv, nextafterf(fv, INFINITY), nextafterf(fv, 0.0f)};
            for (size_t k = 0; k < sizeof xs / sizeof xs[0]; k++) {
                check_input(&rf, xs[k], &m);
                check_input(&rf, -xs[k], &m);
            }
        }
        ref_free(&rf);
    }
    ASSERT_NO_MISMATCH(m);
}
END_TEST

/* Random FP32 inputs: uniformly random bit patterns (covers NaN payloads, FP32 denormals,
 * Inf) and log-uniform values spanning each format's range with a few binades either side. */
START_TEST(encode_random_vs_reference)
{
    cfg cfgs[256];
    size_t ncfg = all_configs(cfgs);
    mism m = {0};
    rng_state = 0x1234567887654321u;
    for (size_t i = 0; i < ncfg; i++) {
        ref_fmt rf = ref_make(cfgs[i].t, cfgs[i].bias);
        int n = rf.sp->bytes == 1 ? 20000 : 300000;
        int emin = 1 - rf.bias - rf.sp->mbits - 3;
        int emax = (int)((rf.nmag - 1) >> rf.sp->mbits) - rf.bias + 3;
        for (int k = 0; k < n; k++) {
            check_input(&rf, f32_from_bits(rng_u32()), &m);
            uint32_t u = rng_u32();
            int e = emin + (int)(rng_u32() % (uint32_t)(emax - emin + 1));
            float x = ldexpf(1.0f + (float)(u & 0x7fffff) * 0x1p-23f, e);
            check_input(&rf, (u >> 31) ? -x : x, &m);
        }
        ref_free(&rf);
    }
    ASSERT_NO_MISMATCH(m);
}
END_TEST

/* ---- Stochastic rounding ------------------------------------------------------------------ */

/* The generator's documented definition, restated here so a change to it fails a test. */
static uint64_t ref_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

START_TEST(sr_bits_definition)
{
    /* SplitMix64's published first output for state 0 anchors the finalizer. */
    ck_assert_uint_eq(ref_mix64(0x9e3779b97f4a7c15u), 0xe220a8397b1dcdafu);
    mism m = {0};
    rng_state = 77;
    for (int k = 0; k < 100000; k++) {
        uint64_t seed = k < 50 ? (uint64_t)k : rng_next(), index = k < 50 ? 0 : rng_next();
        uint32_t want =
            (uint32_t)(ref_mix64(ref_mix64(seed) + (index + 1) * 0x9e3779b97f4a7c15u) >> 32);
        uint32_t got = d1_sr_bits(seed, index);
        if (got != want || d1_sr_bits(seed, index) != got)
            MISMATCH(&m, "seed %llu index %llu: 0x%08x want 0x%08x", (unsigned long long)seed,
                     (unsigned long long)index, got, want);
    }
    ASSERT_NO_MISMATCH(m);
}
END_TEST

static int popcount32(uint32_t v)
{
    int n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

/* Statistical sanity at 5 sigma: per-bit balance along an index stream and along a seed
 * stream, Hamming distance between neighbours, and no collisions between nearby seeds. */
START_TEST(sr_bits_quality)
{
    enum { N = 1 << 16 };
    static int ones_idx[32], ones_seed[32];
    double ham_idx = 0, ham_seed = 0;
    uint32_t prev_i = d1_sr_bits(42, 0), prev_s = d1_sr_bits(0, 42);
    for (uint32_t k = 1; k <= N; k++) {
        uint32_t a = d1_sr_bits(42, k), b = d1_sr_bits(k, 42);
        for (int j = 0; j < 32; j++) {
            ones_idx[j] += (a >> j) & 1;
            ones_seed[j] += (b >> j) & 1;
        }
        ham_idx += popcount32(a ^ prev_i);
        ham_seed += popcount32(b ^ prev_s);
        prev_i = a;
        prev_s = b;
    }
    double sigma = sqrt(N * 0.25);
    for (int j = 0; j < 32; j++) {
        ck_assert_msg(fabs(ones_idx[j] - N / 2.0) < 5 * sigma, "index stream bit %d: %d", j,
                      ones_idx[j]);
        ck_assert_msg(fabs(ones_seed[j] - N / 2.0) < 5 * sigma, "seed stream bit %d: %d", j,
                      ones_seed[j]);
    }
    /* Hamming distance of independent words: mean 16, sd 2 per pair. */
    double ham_sigma = 2.0 / sqrt(N);
    ck_assert_msg(fabs(ham_idx / N - 16) < 5 * ham_sigma, "index neighbours %f", ham_idx / N);
    ck_assert_msg(fabs(ham_seed / N - 16) < 5 * ham_sigma, "seed neighbours %f", ham_seed / N);
    /* Different seeds give different streams (and not shifted copies of each other). */
    int same = 0, shifted = 0;
    for (uint64_t s = 1; s < 8; s++)
        for (uint64_t i = 0; i < 4096; i++) {
            same += d1_sr_bits(s, i) == d1_sr_bits(s + 1, i);
            shifted += d1_sr_bits(s, i + 1) == d1_sr_bits(s + 1, i);
        }
    ck_assert_int_le(same, 1);
    ck_assert_int_le(shifted, 1);
}
END_TEST

/* Mean of N stochastically rounded samples is within 5 standard errors of x, the standard
 * error coming from the Bernoulli variance p(1-p) ulp^2 / N with p the exact distance of x
 * from its lower neighbour in ulps. Also: every sample is one of the two neighbours. */
START_TEST(sr_unbiased)
{
    enum { N = 40000 };
    typedef struct sr_case {
        d1_dtype t;
        int bias;
        float x;
    } sr_case;
    const sr_case cases[] = {
        {D1_CFP8_143, 0, 2.1f},
        {D1_CFP8_143, 0, -2.1f},
        {D1_CFP8_143, 7, 0.3f},
        {D1_CFP8_143, 7, 100.0f / 3},
        {D1_CFP8_143, 0, 0.0625f}, /* quarter denormal */
        {D1_CFP8_143, 40, 1e-12f},
        {D1_CFP8_152, 15, 1.0f / 3},
        {D1_CFP8_152, 3, 5e3f},
        {D1_CFP8_152, 15, 0x1.8p-17f}, /* 3/4 of the smallest denormal */
        {D1_BF16, 0, 1.0f / 3},
        {D1_BF16, 0, -3.14159265f},
        {D1_BF16, 0, 1.0f + 0x1p-12f},
        {D1_BF16, 0, 0x1.4p-134f},
        {D1_CFP16_SHP, 15, 0.1f},
        {D1_CFP16_SHP, 40, 1e-9f},
        {D1_CFP16_UHP, 31, 12345.678f},
        {D1_CFP16_UHP, 31, 1.25e-12f},     /* UHP denormal */
        {D1_CFP8_143, 0, 2.0f + 0x1p-20f}, /* p = 2^-18: rarely rounds up */
    };
    static float xs[N], back[N];
    static uint16_t codes[N];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const sr_case *c = &cases[i];
        ref_fmt rf = ref_make(c->t, c->bias);
        double a = fabs((double)c->x);
        uint32_t lo = ref_floor(&rf, a);
        ck_assert_uint_lt(lo + 1, rf.nmag); /* the cases stay clear of saturation */
        double vlo = rf.val[lo], vhi = rf.val[lo + 1], ulp = vhi - vlo;
        double p = (a - vlo) / ulp;
        ref_free(&rf);

        for (int k = 0; k < N; k++)
            xs[k] = c->x;
        unsigned fl = 0;
        d1_fmt_encode_array(c->t, xs, N, c->bias, D1_ROUND_STOCHASTIC, 1000 + i, 7 * i, codes, &fl);
        /* codes holds 1- or 2-byte elements; decode_array reads them the same way. */
        d1_fmt_decode_array(c->t, codes, N, c->bias, back);
        double sum = 0;
        int others = 0;
        for (int k = 0; k < N; k++) {
            double v = fabs((double)back[k]);
            others += v != vlo && v != vhi;
            sum += v;
        }
        ck_assert_msg(others == 0, "case %zu: %d samples not a neighbour", i, others);
        double mean = sum / N, se = ulp * sqrt(p * (1 - p) / N);
        /* Floor the bound at the 2^-32 resolution of the random bits. */
        double bound = 5 * se + ulp * 0x1p-32;
        ck_assert_msg(fabs(mean - a) <= bound, "case %zu (%s %a): mean %.10g, x %.10g, bound %g", i,
                      d1_dtype_name(c->t), (double)c->x, mean, a, bound);
        /* Also check that both outcomes occur when both are likely. */
        if (p > 0.01 && p < 0.99)
            ck_assert(fabs(mean - vlo) > 0 && fabs(mean - vhi) > 0);
    }
}
END_TEST

/* SR with the same seed and index is reproducible; another seed gives other roundings. */
START_TEST(sr_seed_reproducible)
{
    enum { N = 4096 };
    static float x[N];
    static uint8_t a[N], b[N], c[N];
    rng_state = 99;
    for (int i = 0; i < N; i++)
        x[i] = ldexpf((float)(rng_u32() >> 8), -20); /* 0..16, mostly between codes */
    d1_fmt_encode_array(D1_CFP8_143, x, N, 10, D1_ROUND_STOCHASTIC, 5, 0, a, NULL);
    d1_fmt_encode_array(D1_CFP8_143, x, N, 10, D1_ROUND_STOCHASTIC, 5, 0, b, NULL);
    d1_fmt_encode_array(D1_CFP8_143, x, N, 10, D1_ROUND_STOCHASTIC, 6, 0, c, NULL);
    ck_assert_mem_eq(a, b, N);
    int differ = 0;
    for (int i = 0; i < N; i++)
        differ += a[i] != c[i];
    ck_assert_int_gt(differ, N / 10);
    /* Element i of a window starting at index0 equals the scalar encode with its index. */
    d1_fmt_encode_array(D1_CFP8_143, x + 100, 50, 10, D1_ROUND_STOCHASTIC, 5, 100, c, NULL);
    ck_assert_mem_eq(a + 100, c, 50);
}
END_TEST

/* ---- Arrays and BF16 fast paths ----------------------------------------------------------- */

START_TEST(arrays_match_scalar)
{
    enum { N = 3000 };
    static float x[N], out[N];
    static unsigned char buf[4 * N];
    /* Edge inputs first (each raises its own flags), then half random bit patterns, half
     * ordinary magnitudes around 1. */
    static const uint32_t edges[] = {
        0x00000001u, 0x00000080u, 0x00008000u, 0x00018000u, 0x003fffffu, 0x00400000u,
        0x00700001u, 0x007f8000u, 0x007fffffu, 0x00800000u, 0x80000000u, 0x807fffffu,
        0x7f7f7fffu, 0x7f7f8000u, 0x7f7fffffu, 0xff7fffffu, 0x7f800000u, 0xff800000u,
        0x7fc00000u, 0x7f800001u, 0xffa50000u, 0x3f800000u, 0xbf800000u, 0x2a800001u,
        0x1f000000u, 0x1e800001u, 0x47700000u, 0x47780000u, 0x4f800000u, 0xcf800000u,
    };
    enum { NEDGE = sizeof edges / sizeof edges[0] };
    rng_state = 2024;
    for (int i = 0; i < N; i++) {
        if (i < NEDGE)
            x[i] = f32_from_bits(edges[i]);
        else if (i < 4 * NEDGE) /* FP32 denormals and smallest normals */
            x[i] = f32_from_bits((rng_u32() & 0x80ffffffu) >> (rng_u32() % 2));
        else
            x[i] = (i & 1) ? f32_from_bits(rng_u32())
                           : ldexpf((float)(int32_t)rng_u32(), -28 - (int)(rng_u32() % 24));
    }
    mism m = {0};
    for (int t = 0; t < D1_DTYPE_COUNT; t++) {
        size_t bytes = d1_dtype_size((d1_dtype)t);
        for (int mode = 0; mode < 2; mode++) {
            const int bias = 9;
            unsigned fl_arr = 0, fl_sc = 0;
            uint64_t seed = 0xabcdef, index0 = 1u << 20;
            d1_fmt_encode_array((d1_dtype)t, x, N, bias, (d1_round)mode, seed, index0, buf,
                                &fl_arr);
            for (size_t i = 0; i < N; i++) {
                uint32_t r = d1_sr_bits(seed, index0 + i);
                uint32_t want = d1_fmt_encode((d1_dtype)t, x[i], bias, (d1_round)mode, r, &fl_sc);
                uint32_t got = 0;
                for (size_t k = 0; k < bytes; k++) /* little-endian */
                    got |= (uint32_t)buf[i * bytes + k] << (8 * k);
                if (got != want)
                    MISMATCH(&m, "%s mode %d element %zu: 0x%x want 0x%x",
                             d1_dtype_name((d1_dtype)t), mode, i, got, want);
            }
            if (fl_arr != fl_sc)
                MISMATCH(&m, "%s mode %d flags %u want %u", d1_dtype_name((d1_dtype)t), mode,
                         fl_arr, fl_sc);
            /* Flags are OR-ed over an array, so compare them element by element too. */
            for (size_t i = 0; i < 4 * NEDGE; i++) {
                unsigned fa = 0, fs = 0;
                unsigned char one[4];
                d1_fmt_encode_array((d1_dtype)t, x + i, 1, bias, (d1_round)mode, seed, index0 + i,
                                    one, &fa);
                (void)d1_fmt_encode((d1_dtype)t, x[i], bias, (d1_round)mode,
                                    d1_sr_bits(seed, index0 + i), &fs);
                if (fa != fs)
                    MISMATCH(&m, "%s mode %d x=%a: array flags %u, scalar %u",
                             d1_dtype_name((d1_dtype)t), mode, (double)x[i], fa, fs);
            }
            /* Decode: long arrays (table path for CFP8) and short ones (direct). */
            static const size_t lens[] = {1, 63, N};
            for (size_t li = 0; li < 3; li++) {
                size_t n = lens[li];
                d1_fmt_decode_array((d1_dtype)t, buf, n, bias, out);
                for (size_t i = 0; i < n; i++) {
                    uint32_t code = 0;
                    for (size_t k = 0; k < bytes; k++)
                        code |= (uint32_t)buf[i * bytes + k] << (8 * k);
                    float want = d1_fmt_decode((d1_dtype)t, code, bias);
                    if (f32_bits(out[i]) != f32_bits(want))
                        MISMATCH(&m, "%s decode n=%zu element %zu", d1_dtype_name((d1_dtype)t), n,
                                 i);
                }
            }
        }
    }
    ASSERT_NO_MISMATCH(m);
    /* Byte layout: BF16 1.0 is 0x3f80, stored low byte first. */
    const float one = 1.0f;
    d1_fmt_encode_array(D1_BF16, &one, 1, 0, D1_ROUND_RNE, 0, 0, buf, NULL);
    ck_assert_uint_eq(buf[0], 0x80);
    ck_assert_uint_eq(buf[1], 0x3f);
    /* n == 0 writes nothing and raises nothing. */
    unsigned fl = 0;
    buf[0] = 0x5a;
    d1_fmt_encode_array(D1_CFP8_143, x, 0, 0, D1_ROUND_RNE, 0, 0, buf, &fl);
    ck_assert_uint_eq(buf[0], 0x5a);
    ck_assert_uint_eq(fl, 0);
}
END_TEST

START_TEST(bf16_fast_paths_match_generic)
{
    mism m = {0};
    for (uint32_t c = 0; c < 0x10000; c++)
        if (f32_bits(d1_bf16_to_f32((uint16_t)c)) != f32_bits(d1_fmt_decode(D1_BF16, c, 0)))
            MISMATCH(&m, "decode 0x%04x", c);
    /* Random bit patterns plus every FP32 exponent with edge mantissas. */
    rng_state = 31337;
    for (uint32_t k = 0; k < 2000000; k++) {
        uint32_t u =
            k < 512 * 4 ? ((k / 4) << 23) | (uint32_t[]){0, 1, 0x7fff, 0x8000}[k % 4] : rng_u32();
        float x = f32_from_bits(u);
        uint32_t want = d1_fmt_encode(D1_BF16, x, 0, D1_ROUND_RNE, 0, NULL);
        if (d1_bf16_from_f32(x) != want)
            MISMATCH(&m, "encode 0x%08x: 0x%04x want 0x%04x", u, d1_bf16_from_f32(x), want);
    }
    ASSERT_NO_MISMATCH(m);
}
END_TEST

/* ---- Bias chooser ------------------------------------------------------------------------- */

START_TEST(choose_bias_cases)
{
    typedef struct bias_case {
        d1_dtype t;
        float x[3];
        size_t n;
        int want;
    } bias_case;
    const bias_case cases[] = {
        /* CFP8 1-4-3: max = 1.875 x 2^(15 - bias). */
        {D1_CFP8_143, {1.0f}, 1, 15},
        {D1_CFP8_143, {1.875f}, 1, 15}, /* exactly the max: no saturation */
        {D1_CFP8_143, {1.9f}, 1, 14},
        {D1_CFP8_143, {-2.0f, 0.5f}, 2, 14}, /* sign ignored */
        {D1_CFP8_143, {61440.0f}, 1, 0},
        {D1_CFP8_143, {61441.0f}, 1, 0}, /* saturates even at bias 0 */
        {D1_CFP8_143, {INFINITY, 1.0f}, 2, 0},
        {D1_CFP8_143, {NAN, 1.0f, NAN}, 3, 15}, /* NaN ignored */
        {D1_CFP8_143, {NAN}, 1, 63},
        {D1_CFP8_143, {0.0f, -0.0f}, 2, 63},
        {D1_CFP8_143, {0}, 0, 63},
        {D1_CFP8_143, {1e-30f}, 1, 63},
        /* CFP8 1-5-2: max = 1.75 x 2^(31 - bias). */
        {D1_CFP8_152, {1.0f}, 1, 31},
        {D1_CFP8_152, {1.75f}, 1, 31},
        {D1_CFP8_152, {1.76f}, 1, 30},
        {D1_CFP8_152, {0x1p-32f}, 1, 63},
        /* CFP16 SHP: max = (2 - 2^-10) x 2^(31 - bias). */
        {D1_CFP16_SHP, {0x1.ffcp0f}, 1, 31},
        {D1_CFP16_SHP, {0x1.ffep0f}, 1, 30},
        {D1_CFP16_SHP, {-65504.0f}, 1, 16},
        /* Fixed-bias formats report their bias. */
        {D1_BF16, {1e30f}, 1, 127},
        {D1_FP32, {1.0f}, 1, 127},
        {D1_CFP16_UHP, {1.0f}, 1, 31},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(d1_fmt_choose_bias(cases[i].t, cases[i].x, cases[i].n) == cases[i].want,
                      "case %zu: got %d want %d", i,
                      d1_fmt_choose_bias(cases[i].t, cases[i].x, cases[i].n), cases[i].want);
}
END_TEST

/* Property against the reference: the chosen bias holds max|x|, the next one would not. */
START_TEST(choose_bias_property)
{
    static const d1_dtype conf[] = {D1_CFP8_143, D1_CFP8_152, D1_CFP16_SHP};
    double maxv[3][D1_BIAS_MAX + 1];
    for (int f = 0; f < 3; f++)
        for (int b = 0; b <= D1_BIAS_MAX; b++) {
            ref_fmt rf = ref_make(conf[f], b);
            maxv[f][b] = rf.val[rf.nmag - 1];
            ref_free(&rf);
        }
    rng_state = 4242;
    float x[16];
    mism m = {0};
    for (int k = 0; k < 20000; k++) {
        int f = k % 3;
        size_t n = 1 + rng_u32() % 16;
        double amax = 0;
        for (size_t i = 0; i < n; i++) {
            x[i] = ldexpf((float)(int32_t)rng_u32(), -31 + (int)(rng_u32() % 140) - 70);
            amax = fmax(amax, fabs((double)x[i]));
        }
        int b = d1_fmt_choose_bias(conf[f], x, n);
        int ok = b >= 0 && b <= D1_BIAS_MAX;
        if (ok && b > 0)
            ok = maxv[f][b] >= amax && (b == D1_BIAS_MAX || maxv[f][b + 1] < amax);
        if (ok && b == 0)
            ok = maxv[f][1] < amax;
        if (!ok)
            MISMATCH(&m, "format %d amax %a: bias %d", f, amax, b);
    }
    ASSERT_NO_MISMATCH(m);
}
END_TEST

Suite *formats_suite(void)
{
    Suite *s = suite_create("formats");
    TCase *tc = tcase_create("lookups");
    tcase_add_test(tc, dtype_table_and_names);
    tcase_add_test(tc, dtype_invalid_lookups);
    tcase_add_test(tc, effective_bias);
    tcase_add_test_raise_signal(tc, encode_bad_bias_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, decode_bad_dtype_aborts, SIGABRT);
    suite_add_tcase(s, tc);

    tc = tcase_create("codes");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, bf16_all_codes);
    tcase_add_test(tc, cfp8_all_codes_all_biases);
    tcase_add_test(tc, cfp16_all_codes);
    tcase_add_test(tc, fp32_is_bit_copy);
    suite_add_tcase(s, tc);

    tc = tcase_create("convert");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, known_values_rne);
    tcase_add_test(tc, known_values_sr);
    tcase_add_test(tc, encode_midpoints_vs_reference);
    tcase_add_test(tc, encode_random_vs_reference);
    suite_add_tcase(s, tc);

    tc = tcase_create("stochastic");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sr_bits_definition);
    tcase_add_test(tc, sr_bits_quality);
    tcase_add_test(tc, sr_unbiased);
    tcase_add_test(tc, sr_seed_reproducible);
    suite_add_tcase(s, tc);

    tc = tcase_create("arrays");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, arrays_match_scalar);
    tcase_add_test(tc, bf16_fast_paths_match_generic);
    suite_add_tcase(s, tc);

    tc = tcase_create("bias");
    tcase_add_test(tc, choose_bias_cases);
    tcase_add_test(tc, choose_bias_property);
    suite_add_tcase(s, tc);
    return s;
}
