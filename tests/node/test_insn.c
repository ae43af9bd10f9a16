/* Every ISA row: functional result and latency.
 *
 * Each row runs   SETUP...; fence; csrr x30, cycle; OP; fence; csrr x31, cycle; halt
 * on one node with common initial state (x1 = -7, x2 = 3, v1/v2/v3 patterns, SRAM
 * patterns) and checks the result and x31 - x30 = (serial ? 1 : 0) + max(L, 1) + 1, L being
 * the latency of the row's class from the configuration (fence waits for OP to complete). */
#include "harness.h"
#include "test_main.h"

#include "sim/arch/formats.h"

#include <math.h>
#include <string.h>

#define XINIT1 ((uint64_t)-7)
#define XINIT2 3u

static float V1F(int i)
{
    return (float)i * 0.5f - 3.0f;
}
static float V2F(int i)
{
    return 1.25f + (float)i;
}
static float V3F(int i)
{
    return 100.0f - (float)i * 0.75f;
}

static void vset_f(th *h, int reg, float (*f)(int))
{
    float l[16];
    for (int i = 0; i < 16; i++)
        l[i] = f(i);
    d1s_node_set_v(h->n[0], 0, reg, l);
}

static void vget_f(th *h, int reg, float out[16])
{
    d1s_node_get_v(h->n[0], 0, reg, out);
}

static uint64_t X(th *h, int r)
{
    return d1s_node_get_x(h->n[0], 0, r);
}

static uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

typedef struct row {
    d1_op op;
    int a, b, c;
    int64_t imm;
    void (*setup)(th *h); /* emits instructions before the first fence */
    void (*check)(th *h); /* NULL: x3 == expect */
    uint64_t expect;
    int delta; /* 0: formula */
} row;

/* ---- checks -------------------------------------------------------------------------- */
#define VF_CHECK(name, expr)                                                                       \
    static void name(th *h)                                                                        \
    {                                                                                              \
        float r[16];                                                                               \
        vget_f(h, 3, r);                                                                           \
        for (int i = 0; i < 16; i++) {                                                             \
            float a = V1F(i), b = V2F(i), d = V3F(i);                                              \
            (void)a;                                                                               \
            (void)b;                                                                               \
            (void)d;                                                                               \
            float e = (expr);                                                                      \
            ck_assert_msg(f2u(r[i]) == f2u(e), "lane %d: %a != %a", i, (double)r[i], (double)e);   \
        }                                                                                          \
    }
VF_CHECK(ck_vaddf, a + b)
VF_CHECK(ck_vsubf, a - b)
VF_CHECK(ck_vmulf, a *b)
VF_CHECK(ck_vfmaf, fmaf(a, b, d))
VF_CHECK(ck_vmaxf, fmaxf(a, b))
VF_CHECK(ck_vminf, fminf(a, b))
VF_CHECK(ck_vdivf, a / b)
VF_CHECK(ck_vexpf, expf(a))
VF_CHECK(ck_vlogf, logf(b))
VF_CHECK(ck_vmov, a)

#define VI_CHECK(name, expr)                                                                       \
    static void name(th *h)                                                                        \
    {                                                                                              \
        uint32_t r[16];                                                                            \
        d1s_node_get_v(h->n[0], 0, 3, r);                                                          \
        for (int i = 0; i < 16; i++) {                                                             \
            uint32_t a = f2u(V1F(i)), b = f2u(V2F(i));                                             \
            (void)a;                                                                               \
            (void)b;                                                                               \
            ck_assert_uint_eq(r[i], (uint32_t)(expr));                                             \
        }                                                                                          \
    }
VI_CHECK(ck_vand, a &b)
VI_CHECK(ck_vor, a | b)
VI_CHECK(ck_vxor, a ^ b)
VI_CHECK(ck_vaddi, a + b)
VI_CHECK(ck_vcmpgt, V1F(i) > V2F(i) ? 0xffffffffu : 0u)
VI_CHECK(ck_vbcast, (uint32_t)XINIT1)

static void ck_vext(th *h)
{
    ck_assert_uint_eq(X(h, 3), f2u(V1F(5)));
}
static void ck_vrsum(th *h)
{
    float acc = V1F(0);
    for (int i = 1; i < 16; i++)
        acc = acc + V1F(i);
    ck_assert_uint_eq(X(h, 3), f2u(acc));
}
static void ck_vrmax(th *h)
{
    float acc = V1F(0);
    for (int i = 1; i < 16; i++)
        acc = fmaxf(acc, V1F(i));
    ck_assert_uint_eq(X(h, 3), f2u(acc));
}

static uint8_t sram_pat(uint64_t a)
{
    return (uint8_t)(a * 7 + 3);
}

static void ck_sram(th *h, uint64_t addr, const void *want, size_t n)
{
    uint8_t got[256];
    ck_assert_int_eq(d1s_node_sram_read(h->n[0], addr, got, n), D1_OK);
    ck_assert_mem_eq(got, want, n);
}

static void ck_vld(th *h)
{
    uint8_t v[64], e[64];
    d1s_node_get_v(h->n[0], 0, 3, v);
    for (int i = 0; i < 64; i++)
        e[i] = sram_pat(0x400 + (uint64_t)i);
    ck_assert_mem_eq(v, e, 64);
}
static void ck_vst(th *h)
{
    float e[16];
    for (int i = 0; i < 16; i++)
        e[i] = V1F(i);
    ck_sram(h, 0x100 - 7 + 0x47, e, 64); /* x1 = -7: address -7 + 0x147 = 0x140 */
}

/* stores: x1 = 0x100 set by setup */
static void set_x1_base(th *h)
{
    E(h, ADDI, 1, 0, 0, 0x100);
}
static void ck_sd(th *h)
{
    uint64_t v = XINIT2;
    ck_sram(h, 0x108, &v, 8);
}
static void ck_sw(th *h)
{
    uint32_t v = XINIT2;
    ck_sram(h, 0x104, &v, 4);
}
static void ck_sh(th *h)
{
    uint16_t v = XINIT2;
    ck_sram(h, 0x102, &v, 2);
}
static void ck_sb(th *h)
{
    uint8_t v = XINIT2;
    ck_sram(h, 0x101, &v, 1);
}

/* csr rows */
static void ck_csrw(th *h)
{
    ck_assert_uint_eq(d1s_node_get_csr(h->n[0], 0, D1_CSR_SRSEED), XINIT2);
}
static void ck_tstart_setup(th *h)
{
    E(h, ADDI, 1, 0, 0, 1);      /* thread 1 */
    E(h, ADDI, 2, 0, 0, 4 * 10); /* the extra halt after the main program */
}
static void ck_tstart(th *h)
{
    ck_assert_uint_eq(d1s_node_get_stats(h->n[0])->thread[1].insns, 1);
    ck_assert_uint_eq(d1s_node_get_pc(h->n[0], 1), 40);
}
static void swait_setup(th *h)
{
    E(h, SPOST, 3, 0, 0, 2);
}
static void ck_swait(th *h)
{
    ck_assert_uint_eq(d1s_node_get_sem(h->n[0], 3), 1);
}
static void ck_spost(th *h)
{
    ck_assert_uint_eq(d1s_node_get_sem(h->n[0], 4), 5);
}
static void ck_bar(th *h)
{
    ck_assert_uint_eq(d1s_node_get_stats(h->n[0])->insns, 6);
}
static void ck_nothing(th *h)
{
    (void)h;
}

/* dma: PUT 100 bytes 0x1000 -> node 0 @ 0x3000, sem_local 1, sem_remote 2 */
static void dma_setup(th *h)
{
    uint8_t d[32] = {0};
    d[0] = D1_DMA_PUT;
    d[1] = 1;
    d[2] = 2;
    uint32_t len = 100, node = 0;
    uint64_t la = 0x1000, ra = 0x3000;
    memcpy(d + 4, &len, 4);
    memcpy(d + 8, &node, 4);
    memcpy(d + 16, &la, 8);
    memcpy(d + 24, &ra, 8);
    /* descriptor built by scalar stores, as a program would */
    for (int k = 0; k < 8; k++) {
        uint32_t v;
        memcpy(&v, d + 4 * k, 4);
        E(h, ADDI, 9, 0, 0, (int64_t)(v & 0x1fff));
        if (v >> 13) {
            E(h, LUI, 10, 0, 0, (int64_t)(v >> 13));
            E(h, OR, 9, 9, 10, 0);
        }
        E(h, SW, 9, 0, 0, 0x200 + 4 * k);
    }
    E(h, ADDI, 1, 0, 0, 0x200);
}
static void ck_dma(th *h)
{
    uint8_t e[100];
    for (int i = 0; i < 100; i++)
        e[i] = sram_pat(0x1000 + (uint64_t)i);
    ck_sram(h, 0x3000, e, 100);
    ck_assert_uint_eq(d1s_node_get_sem(h->n[0], 1), 1);
    ck_assert_uint_eq(d1s_node_get_sem(h->n[0], 2), 1);
}

/* conversions */
static void csr_seed_setup(th *h)
{
    E(h, ADDI, 7, 0, 0, 1234);
    E(h, CSRW, 0, 7, 0, D1_CSR_SRSEED);
    E(h, ADDI, 7, 0, 0, 40);
    E(h, CSRW, 0, 7, 0, D1_CSR_SRIDX);
    E(h, ADDI, 7, 0, 0, 10 | 0); /* cfp8 1-4-3 bias 10 */
    E(h, CSRW, 0, 7, 0, D1_CSR_CVTFMT);
    E(h, ADDI, 7, 0, 0, 9 | (0x40) | (12 << 8)); /* A: 1-5-2 bias 9; B: 1-4-3 bias 12 */
    E(h, CSRW, 0, 7, 0, D1_CSR_MFMT);
}

static void ck_cvt_to(th *h, d1_dtype t, int bias, int q, int sr)
{
    uint8_t v[64], e[64];
    float v3[16];
    for (int i = 0; i < 16; i++)
        v3[i] = V3F(i);
    memcpy(e, v3, 64);
    int es = (int)d1_dtype_size(t);
    for (int i = 0; i < 16; i++) {
        uint32_t r = sr ? d1_sr_bits(1234, 40 + (uint64_t)i) : 0;
        uint32_t code = d1_fmt_encode(t, V1F(i) * 1.37f, bias,
                                      sr ? D1_ROUND_STOCHASTIC : D1_ROUND_RNE, r, NULL);
        memcpy(e + q * 16 * es + i * es, &code, (size_t)es);
    }
    d1s_node_get_v(h->n[0], 0, 3, v);
    ck_assert_mem_eq(v, e, 64);
    ck_assert_uint_eq(d1s_node_get_csr(h->n[0], 0, D1_CSR_SRIDX), sr ? 56 : 40);
}
static void scale_setup(th *h)
{
    csr_seed_setup(h);
    /* v1 *= 1.37 so that rounding matters: done by the test init (see run_row) */
}
static void ck_cvtbf(th *h)
{
    ck_cvt_to(h, D1_BF16, 127, 1, 0);
}
static void ck_cvtbfs(th *h)
{
    ck_cvt_to(h, D1_BF16, 127, 0, 1);
}
static void ck_cvtc8(th *h)
{
    ck_cvt_to(h, D1_CFP8_143, 10, 2, 0);
}
static void ck_cvtc8s(th *h)
{
    ck_cvt_to(h, D1_CFP8_143, 10, 3, 1);
}

static void ck_cvt_from(th *h, d1_dtype t, int bias, int q)
{
    uint8_t src[64];
    float v[16];
    for (int i = 0; i < 16; i++) {
        float f = V1F(i) * 1.37f;
        memcpy(src + 4 * i, &f, 4);
    }
    int es = (int)d1_dtype_size(t);
    d1s_node_get_v(h->n[0], 0, 3, v);
    for (int i = 0; i < 16; i++) {
        uint32_t code = 0;
        memcpy(&code, src + q * 16 * es + i * es, (size_t)es);
        ck_assert_uint_eq(f2u(v[i]), f2u(d1_fmt_decode(t, code, bias)));
    }
}
static void ck_cvtfb(th *h)
{
    ck_cvt_from(h, D1_BF16, 127, 1);
}
static void ck_cvtfc(th *h)
{
    ck_cvt_from(h, D1_CFP8_143, 10, 3);
}

/* matrix: m1 loaded from SRAM 0x800 (64 floats m0[i] = i * 0.25) in setup */
static float minit(int i)
{
    return (float)i * 0.25f - 4.0f;
}
static void mld_setup(th *h)
{
    E(h, MLD, 1, 0, 0, 0x800);
}
static void mld_cfg_setup(th *h)
{
    csr_seed_setup(h);
    mld_setup(h);
}
static void ck_m(th *h, const float *e)
{
    float m[64];
    d1s_node_get_m(h->n[0], 0, 1, m);
    for (int i = 0; i < 64; i++)
        ck_assert_msg(f2u(m[i]) == f2u(e[i]), "elem %d: %a != %a", i, (double)m[i], (double)e[i]);
}
static void ck_mld(th *h)
{
    float e[64];
    for (int i = 0; i < 64; i++)
        e[i] = minit(i);
    ck_m(h, e);
}
static void ck_mzero(th *h)
{
    float e[64] = {0};
    ck_m(h, e);
}
static void ck_mst(th *h)
{
    float e[64];
    for (int i = 0; i < 64; i++)
        e[i] = minit(i);
    ck_sram(h, 0xc00, e, 256);
}
static void ck_mma(th *h, int cfp8)
{
    uint8_t va[64], vb[64];
    float a[8][4], b[4][8], e[64];
    float f1[16], f2[16];
    for (int i = 0; i < 16; i++) {
        f1[i] = V1F(i) * 1.37f;
        f2[i] = V2F(i);
    }
    memcpy(va, f1, 64);
    memcpy(vb, f2, 64);
    for (int k = 0; k < 32; k++) {
        if (cfp8) {
            a[k / 4][k % 4] = d1_fmt_decode(D1_CFP8_152, va[k], 9);
            b[k / 8][k % 8] = d1_fmt_decode(D1_CFP8_143, vb[k], 12);
        } else {
            uint16_t x, y;
            memcpy(&x, va + 2 * k, 2);
            memcpy(&y, vb + 2 * k, 2);
            a[k / 4][k % 4] = d1_bf16_to_f32(x);
            b[k / 8][k % 8] = d1_bf16_to_f32(y);
        }
    }
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            float acc = minit(8 * i + j);
            for (int k = 0; k < 4; k++)
                acc = fmaf(a[i][k], b[k][j], acc);
            e[8 * i + j] = acc;
        }
    ck_m(h, e);
}
static void ck_mmabf(th *h)
{
    ck_mma(h, 0);
}
static void ck_mmac8(th *h)
{
    ck_mma(h, 1);
}

static void ck_jal(th *h)
{
    ck_assert_uint_eq(X(h, 3), 4 * 2 + 4);
    ck_assert_uint_eq(X(h, 5), 0); /* skipped */
}
static void jalr_setup(th *h)
{
    E(h, ADDI, 1, 0, 0, 0);
} /* patched in run_row */
static void ck_jalr(th *h)
{
    ck_assert_uint_eq(X(h, 3), 4 * 3 + 4);
    ck_assert_uint_eq(X(h, 5), 0);
}

#define S(op, expect)                                                                              \
    {                                                                                              \
        D1_OP_##op, 3, 1, 2, 0, NULL, NULL, (uint64_t)(expect), 0                                  \
    }
#define SI(op, imm, expect)                                                                        \
    {                                                                                              \
        D1_OP_##op, 3, 1, 0, imm, NULL, NULL, (uint64_t)(expect), 0                                \
    }
#define LD(op, imm, expect)                                                                        \
    {                                                                                              \
        D1_OP_##op, 3, 1, 0, imm, set_x1_base, NULL, (uint64_t)(expect), 0                         \
    }
#define BR(op, taken)                                                                              \
    {                                                                                              \
        D1_OP_##op, 1, 2, 0, 2, NULL, NULL, (uint64_t) !(taken), (taken) ? 2 : 3                   \
    }
#define C(op, a, b, c, imm, setup, check)                                                          \
    {                                                                                              \
        D1_OP_##op, a, b, c, imm, setup, check, 0, 0                                               \
    }

/* little-endian SRAM pattern at 0x100: byte k = sram_pat(0x100 + k) */
static uint64_t pat(uint64_t addr, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | sram_pat(addr + (uint64_t)i);
    return v;
}
static int64_t sext(uint64_t v, int bytes)
{
    int sh = 64 - 8 * bytes;
    return (int64_t)(v << sh) >> sh;
}

static row rows[] = {
    S(ADD, -4),
    S(SUB, -10),
    S(AND, 1),
    S(OR, -5),
    S(XOR, -6),
    S(SLL, -56),
    S(SRL, 0x1fffffffffffffffu),
    S(SRA, -1),
    S(SLT, 1),
    S(SLTU, 0),
    S(MUL, -21),
    S(MIN, -7),
    S(MAX, 3),
    SI(ADDI, 5, -2),
    SI(ANDI, 0xff, 0xf9),
    SI(ORI, 6, -1),
    SI(XORI, 0xff, 0xffffffffffffff06u),
    SI(SLLI, 4, -112),
    SI(SRLI, 60, 0xf),
    SI(SRAI, 1, -4),
    SI(SLTI, -8, 0),
    SI(MULI, -3, 21),
    {D1_OP_LUI, 3, 0, 0, -1, NULL, NULL, (uint64_t)-8192, 0},
    BR(BEQ, 0),
    BR(BNE, 1),
    BR(BLT, 1),
    BR(BGE, 0),
    BR(BLTU, 0),
    BR(BGEU, 1),
    C(JAL, 3, 0, 0, 2, NULL, ck_jal),
    C(JALR, 3, 1, 0, 0, jalr_setup, ck_jalr),
    LD(LD, 8, 0),
    LD(LW, 4, 0),
    LD(LWU, 4, 0),
    LD(LH, 2, 0),
    LD(LHU, 2, 0),
    LD(LB, 1, 0),
    LD(LBU, 1, 0),
    C(SD, 2, 1, 0, 8, set_x1_base, ck_sd),
    C(SW, 2, 1, 0, 4, set_x1_base, ck_sw),
    C(SH, 2, 1, 0, 2, set_x1_base, ck_sh),
    C(SB, 2, 1, 0, 1, set_x1_base, ck_sb),
    C(NOP, 0, 0, 0, 0, NULL, ck_nothing),
    {D1_OP_CSRR, 3, 0, 0, D1_CSR_NID, NULL, NULL, 0, 0},
    C(CSRW, 0, 2, 0, D1_CSR_SRSEED, NULL, ck_csrw),
    C(TSTART, 0, 1, 2, 0, ck_tstart_setup, ck_tstart),
    C(SWAIT, 3, 0, 0, 1, swait_setup, ck_swait),
    C(SPOST, 4, 0, 0, 5, NULL, ck_spost),
    C(BAR, 0, 0, 0, 0, NULL, ck_bar),
    C(FENCE, 0, 0, 0, 0, NULL, ck_nothing),
    C(DMA, 0, 1, 0, 0, dma_setup, ck_dma),
    C(VLD, 3, 1, 0, 0x3c0 + 7 + 0x40, NULL, ck_vld), /* -7 + 0x3c7 + 0x40 = 0x400 */
    C(VST, 1, 1, 0, 0x147, NULL, ck_vst),
    C(VBCAST, 3, 1, 0, 0, NULL, ck_vbcast),
    C(VEXT, 3, 1, 0, 5, NULL, ck_vext),
    C(VMOV, 3, 1, 0, 0, NULL, ck_vmov),
    C(VAND, 3, 1, 2, 0, NULL, ck_vand),
    C(VOR, 3, 1, 2, 0, NULL, ck_vor),
    C(VXOR, 3, 1, 2, 0, NULL, ck_vxor),
    C(VADDI, 3, 1, 2, 0, NULL, ck_vaddi),
    C(VADDF, 3, 1, 2, 0, NULL, ck_vaddf),
    C(VSUBF, 3, 1, 2, 0, NULL, ck_vsubf),
    C(VMULF, 3, 1, 2, 0, NULL, ck_vmulf),
    C(VFMAF, 3, 1, 2, 0, NULL, ck_vfmaf),
    C(VMAXF, 3, 1, 2, 0, NULL, ck_vmaxf),
    C(VMINF, 3, 1, 2, 0, NULL, ck_vminf),
    C(VDIVF, 3, 1, 2, 0, NULL, ck_vdivf),
    C(VCMPGT, 3, 1, 2, 0, NULL, ck_vcmpgt),
    C(VEXPF, 3, 1, 0, 0, NULL, ck_vexpf),
    C(VLOGF, 3, 2, 0, 0, NULL, ck_vlogf),
    C(VRSUMF, 3, 1, 0, 0, NULL, ck_vrsum),
    C(VRMAXF, 3, 1, 0, 0, NULL, ck_vrmax),
    C(VCVTBF, 3, 1, 0, 1, scale_setup, ck_cvtbf),
    C(VCVTBFS, 3, 1, 0, 0, scale_setup, ck_cvtbfs),
    C(VCVTFB, 3, 1, 0, 1, scale_setup, ck_cvtfb),
    C(VCVTC8, 3, 1, 0, 2, scale_setup, ck_cvtc8),
    C(VCVTC8S, 3, 1, 0, 3, scale_setup, ck_cvtc8s),
    C(VCVTFC, 3, 1, 0, 3, scale_setup, ck_cvtfc),
    C(MMABF, 1, 1, 2, 0, mld_setup, ck_mmabf),
    C(MMAC8, 1, 1, 2, 0, mld_cfg_setup, ck_mmac8),
    C(MZERO, 1, 0, 0, 0, mld_setup, ck_mzero),
    C(MLD, 1, 0, 0, 0x800, NULL, ck_mld),
    C(MST, 1, 0, 0, 0xc00, mld_setup, ck_mst),
};
#define NROWS (int)(sizeof rows / sizeof rows[0])

static uint64_t lat_of(const th *h, d1_lat l)
{
    switch (l) {
    case D1_LAT_0:
        return 0;
    case D1_LAT_ALU:
        return (uint64_t)h->cfg.lat_alu;
    case D1_LAT_MUL:
        return (uint64_t)h->cfg.lat_mul;
    case D1_LAT_LOAD:
        return (uint64_t)h->cfg.lat_load;
    case D1_LAT_VEC:
        return (uint64_t)h->cfg.lat_vec;
    case D1_LAT_VFP:
        return (uint64_t)h->cfg.lat_vfp;
    case D1_LAT_VLONG:
        return (uint64_t)h->cfg.lat_vlong;
    case D1_LAT_MMA:
        return (uint64_t)h->cfg.lat_mma;
    case D1_LAT_MACC:
        return (uint64_t)h->cfg.lat_macc_move;
    }
    return 0;
}

static void run_row(const row *r, d1s_node_mode mode, uint64_t *delta_out)
{
    static th h; /* large: keep it off the stack */
    const char *sets[] = {"lat_alu=1", NULL};
    th_init(&h, mode, 1, sets);
    if (r->setup)
        r->setup(&h);
    E(&h, FENCE, 0, 0, 0, 0);
    int at = E(&h, CSRR, 30, 0, 0, D1_CSR_CYCLE);
    int opi = h.nw;
    th_emit(&h, r->op, r->a, r->b, r->c, r->imm);
    if (r->op == D1_OP_JAL || r->op == D1_OP_JALR || (d1_insn_info_of(r->op)->flags & D1_IF_BRANCH))
        E(&h, ADDI, 5, 0, 0, 1); /* skipped when taken */
    E(&h, FENCE, 0, 0, 0, 0);
    E(&h, CSRR, 31, 0, 0, D1_CSR_CYCLE);
    E(&h, HALT, 0, 0, 0, 0);
    while (h.nw < 10)
        E(&h, NOP, 0, 0, 0, 0);
    E(&h, HALT, 0, 0, 0, 0); /* pc 40: thread started by the tstart row */
    if (r->op == D1_OP_JAL)
        h.w[opi] = th_enc(D1_OP_JAL, 3, 0, 0, 2);
    if (r->op == D1_OP_JALR) /* x1 = pc of the fence after the marker */
        h.w[0] = th_enc(D1_OP_ADDI, 1, 0, 0, 4 * (opi + 2));
    (void)at;
    th_start(&h);
    /* common initial state */
    d1s_node_set_x(h.n[0], 0, 1, XINIT1);
    d1s_node_set_x(h.n[0], 0, 2, XINIT2);
    float v1[16];
    for (int i = 0; i < 16; i++)
        v1[i] = V1F(i) * (r->setup == scale_setup || r->op == D1_OP_MMABF || r->op == D1_OP_MMAC8
                              ? 1.37f
                              : 1.0f);
    d1s_node_set_v(h.n[0], 0, 1, v1);
    vset_f(&h, 2, V2F);
    vset_f(&h, 3, V3F);
    uint8_t sram[0x1200];
    for (int i = 0; i < (int)sizeof sram; i++)
        sram[i] = sram_pat((uint64_t)i);
    float m[64];
    for (int i = 0; i < 64; i++)
        m[i] = minit(i);
    memcpy(sram + 0x800, m, sizeof m);
    memset(sram + 0x200, 0, 32);
    ck_assert_int_eq(d1s_node_sram_write(h.n[0], 0, sram, sizeof sram), D1_OK);
    th_run(&h, 10000);
    const d1s_trap *t = th_trap(&h);
    ck_assert_msg(!t, "%s trapped: %s detail 0x%llx", d1_insn_info_of(r->op)->mnemonic,
                  t ? d1s_trap_name(t->cause) : "", t ? (unsigned long long)t->detail : 0ull);
    ck_assert(d1s_node_all_halted(h.n[0]));
    if (mode == D1S_NODE_FUNCTIONAL) {
        if (r->check)
            r->check(&h);
        else if (d1_insn_info_of(r->op)->flags & D1_IF_BRANCH)
            ck_assert_uint_eq(X(&h, 5), r->expect);
        else if (r->op >= D1_OP_LD && r->op <= D1_OP_LBU) {
            int bytes = r->op == D1_OP_LD ? 8 : r->op <= D1_OP_LWU ? 4 : r->op <= D1_OP_LHU ? 2 : 1;
            uint64_t v = pat(0x100 + (uint64_t)r->imm, bytes);
            int sign = r->op == D1_OP_LW || r->op == D1_OP_LH || r->op == D1_OP_LB;
            ck_assert_uint_eq(X(&h, 3), sign ? (uint64_t)sext(v, bytes) : v);
        } else
            ck_assert_msg(X(&h, 3) == r->expect, "%s: x3 = 0x%llx, want 0x%llx",
                          d1_insn_info_of(r->op)->mnemonic, (unsigned long long)X(&h, 3),
                          (unsigned long long)r->expect);
    }
    uint64_t delta = X(&h, 31) - X(&h, 30);
    const d1_insn_info *info = d1_insn_info_of(r->op);
    uint64_t L = lat_of(&h, info->lat);
    uint64_t want =
        r->delta ? (uint64_t)r->delta : ((info->flags & D1_IF_SERIAL) ? 1u : 0u) + (L ? L : 1) + 1;
    ck_assert_msg(delta == want, "%s: latency probe %llu cycles, want %llu", info->mnemonic,
                  (unsigned long long)delta, (unsigned long long)want);
    if (delta_out)
        *delta_out = delta;
    th_fini(&h);
}

START_TEST(insn_row)
{
    run_row(&rows[_i], D1S_NODE_FUNCTIONAL, NULL);
}
END_TEST

/* Timing-only mode: the same rows take the same cycles. */
START_TEST(insn_row_timing_only)
{
    run_row(&rows[_i], D1S_NODE_TIMING_ONLY, NULL);
}
END_TEST

/* Every row of isa.def has a test row (halt and trap are tested by the trap suite). */
START_TEST(every_isa_row_covered)
{
    for (int op = 0; op < D1_OP_COUNT; op++) {
        if (op == D1_OP_HALT || op == D1_OP_TRAP)
            continue;
        int found = 0;
        for (int k = 0; k < NROWS; k++)
            found |= (int)rows[k].op == op;
        ck_assert_msg(found, "no test row for %s", d1_insn_info_of((d1_op)op)->mnemonic);
    }
}
END_TEST

Suite *insn_suite(void)
{
    Suite *s = suite_create("node_insn");
    TCase *tc = tcase_create("rows");
    tcase_add_test(tc, every_isa_row_covered);
    tcase_add_loop_test(tc, insn_row, 0, NROWS);
    tcase_add_loop_test(tc, insn_row_timing_only, 0, NROWS);
    suite_add_tcase(s, tc);
    return s;
}
