/* Kernel generators: plan invariants, staging + reference vs the CPU backend, emission. */
#include "mm_case.h"
#include "test_main.h"

#include "sim/elf/kelf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define OK(expr)                                                                             \
    do {                                                                                     \
        d1_status st_ = (expr);                                                              \
        ck_assert_msg(st_ == D1_OK, "%s -> %s: %s", #expr, d1_status_name(st_),              \
                      d1_last_error());                                                      \
    } while (0)

static d1k_matmul_desc desc(int64_t M, int64_t N, int64_t K, d1_dtype a, d1_dtype b, d1_dtype c)
{
    d1k_matmul_desc d;
    memset(&d, 0, sizeof d);
    d.M = M, d.N = N, d.K = K;
    d.a_dtype = a, d.b_dtype = b, d.c_dtype = c;
    d.a_bias = a == D1_BF16 ? 127 : 8;
    d.b_bias = b == D1_BF16 ? 127 : 10;
    if (a == D1_CFP8_152)
        d.a_bias = 16;
    return d;
}

/* ---- plan ----------------------------------------------------------------------------- */

static void check_plan(const d1k_plan *p, const d1_config *cfg)
{
    const d1k_matmul_desc *o = &p->op;
    ck_assert_int_ge(p->pr, 1);
    ck_assert_int_ge(p->pc, 1);
    ck_assert_uint_le(p->nodes, p->usable_nodes);
    ck_assert_uint_eq(p->nodes, (uint32_t)(p->pr * p->pc));
    /* every output element owned by exactly one node */
    int64_t rows = 0, cols = 0;
    for (int r = 0; r < p->pr; r++) {
        int64_t i0, mi, j0, nj;
        d1k_plan_node_block(p, (uint32_t)(r * p->pc), &i0, &mi, &j0, &nj);
        ck_assert_int_eq(i0, r * p->mb);
        if (mi) /* blocks past the edge (chip-blocked grids) own nothing */
            ck_assert_int_eq(i0, rows);
        rows += mi;
    }
    for (int c = 0; c < p->pc; c++) {
        int64_t i0, mi, j0, nj;
        d1k_plan_node_block(p, (uint32_t)c, &i0, &mi, &j0, &nj);
        ck_assert_int_eq(j0, c * p->nb);
        if (nj)
            ck_assert_int_eq(j0, cols);
        cols += nj;
    }
    ck_assert_int_eq(rows, o->M);
    ck_assert_int_eq(cols, o->N);
    ck_assert_int_ge(p->rp * 16, p->mb);
    ck_assert_int_ge(p->cq * 32, p->nb);
    /* panels cover K in ascending order, each an even number of k steps */
    int64_t k = 0;
    for (int q = 0; q < p->npanels; q++) {
        int64_t ks = d1k_plan_panel_ksteps(p, q);
        ck_assert_int_gt(ks, 0);
        ck_assert_int_eq(ks % 2, 0);
        k += ks * 4;
    }
    ck_assert_int_eq(k, p->kpad);
    ck_assert_int_ge(p->kpad, o->K);
    ck_assert_int_lt(p->kpad - o->K, 8);
    /* every panel has an owner inside its ring, slots inside the resident area */
    for (int q = 0; q < p->npanels; q++) {
        int slot;
        uint32_t own = d1k_plan_a_owner(p, p->pr - 1, q, &slot);
        ck_assert_uint_lt(own, p->nodes);
        ck_assert_int_lt(slot, p->ares_panels);
        own = d1k_plan_b_owner(p, p->pc - 1, q, &slot);
        ck_assert_uint_lt(own, p->nodes);
        ck_assert_int_lt(slot, p->bres_panels);
    }
    /* SRAM map: ordered, non-overlapping, fits */
    const d1k_sram_map *m = &p->map;
    ck_assert_int_ge(p->slots, 2);
    ck_assert_int_le(p->slots, D1K_MAX_SLOTS);
    /* the kernel's semaphores: 2 x slots FULL, 4 per compute thread, 4 (+4 with HBM) */
    ck_assert_int_le(2 * p->slots + 4 * p->cthreads + 4 + (p->hbm ? 4 : 0), (int)cfg->node_sems);
    uint64_t seq[] = {m->abuf[0], m->bbuf[0], m->ares, m->bres, m->cbuf};
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        ck_assert_uint_eq(seq[i] % 64, 0);
    ck_assert_uint_ge(m->abuf[0], 512);
    ck_assert_uint_ge(m->descb, m->masks + 128);
    ck_assert_uint_le(m->descb + 32, m->abuf[0]);
    for (int s = 1; s < p->slots; s++) {
        ck_assert_uint_eq(m->abuf[s] - m->abuf[s - 1], p->apanel_bytes);
        ck_assert_uint_eq(m->bbuf[s] - m->bbuf[s - 1], p->bpanel_bytes);
    }
    ck_assert_uint_eq(m->bbuf[0], m->abuf[p->slots - 1] + p->apanel_bytes);
    ck_assert_uint_eq(m->ares, m->bbuf[p->slots - 1] + p->bpanel_bytes);
    ck_assert_uint_eq(m->cbuf - m->ares,
                      p->ares_panels * p->apanel_bytes + p->bres_panels * p->bpanel_bytes);
    ck_assert_uint_le(m->end, (uint64_t)cfg->sram_bytes);
    /* predictions are consistent */
    ck_assert_uint_ge(p->cyc_pred, p->mma_per_node);
    ck_assert_uint_eq(p->mma_per_node, (uint64_t)(p->rp * p->cq * (p->kpad / 4) * 8));
    ck_assert_ptr_nonnull(p->bound);
}

START_TEST(plan_grid)
{
    static const int64_t shapes[][3] = {
        {1, 1, 1},     {7, 5, 3},       {16, 32, 8},    {17, 33, 9},   {100, 200, 300},
        {4096, 32, 64}, {32, 4096, 64}, {64, 64, 1},    {1000, 1000, 1000},
        {4096, 4096, 4096}, {8192, 8192, 512}, {3, 5000, 7},
    };
    d1_config def, small;
    OK(d1_config_init(&def));
    mm_small_config(&small, 4, 4);
    const d1_config *cfgs[] = {&def, &small};
    for (size_t ci = 0; ci < 2; ci++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            for (int dt = 0; dt < 2; dt++) {
                d1k_matmul_desc d = desc(shapes[i][0], shapes[i][1], shapes[i][2],
                                         dt ? D1_CFP8_143 : D1_BF16, dt ? D1_CFP8_152 : D1_BF16,
                                         dt ? D1_BF16 : D1_FP32);
                d1k_plan p;
                d1_status st = d1k_plan_matmul(cfgs[ci], &d, NULL, &p);
                if (st == D1_E_UNSUPPORTED)
                    continue; /* too large for SRAM on the small config */
                OK(st);
                check_plan(&p, cfgs[ci]);
            }
    d1_config_fini(&def);
    d1_config_fini(&small);
}
END_TEST

START_TEST(plan_choices)
{
    d1_config def;
    OK(d1_config_init(&def));
    d1k_plan p;
    d1k_matmul_desc d = desc(1, 1, 1, D1_BF16, D1_BF16, D1_FP32);
    OK(d1k_plan_matmul(&def, &d, NULL, &p));
    ck_assert_uint_eq(p.nodes, 1); /* tiny shapes use few nodes */
    d = desc(4096, 4096, 4096, D1_BF16, D1_BF16, D1_FP32);
    OK(d1k_plan_matmul(&def, &d, NULL, &p));
    ck_assert_uint_ge(p.nodes, 330); /* large shapes use (nearly) every node */
    ck_assert_str_eq(p.bound, "compute");
    ck_assert_double_ge(p.pred_pct_peak, 85.0);
    /* overrides */
    d1k_plan_opts o = {.pr = 2, .pc = 3, .kb = 16, .cthreads = 1};
    d = desc(512, 512, 512, D1_BF16, D1_BF16, D1_FP32);
    OK(d1k_plan_matmul(&def, &d, &o, &p));
    ck_assert_int_eq(p.pr, 2);
    ck_assert_int_eq(p.pc, 3);
    ck_assert_int_eq(p.cthreads, 1);
    /* errors */
    d = desc(4, 4, 4, D1_FP32, D1_BF16, D1_FP32);
    ck_assert_int_eq(d1k_plan_matmul(&def, &d, NULL, &p), D1_E_DTYPE);
    d = desc(0, 4, 4, D1_BF16, D1_BF16, D1_FP32);
    ck_assert_int_eq(d1k_plan_matmul(&def, &d, NULL, &p), D1_E_SHAPE);
    d = desc(4, 4, 4, D1_CFP8_143, D1_BF16, D1_FP32);
    d.a_bias = 64;
    ck_assert_int_eq(d1k_plan_matmul(&def, &d, NULL, &p), D1_E_RANGE);
    d = desc(1 << 20, 1 << 20, 64, D1_BF16, D1_BF16, D1_FP32);
    ck_assert_int_eq(d1k_plan_matmul(&def, &d, NULL, &p), D1_E_UNSUPPORTED);
    /* receive slots and DMA threads */
    d = desc(512, 512, 512, D1_BF16, D1_BF16, D1_FP32);
    o = (d1k_plan_opts){.slots = 3, .dma_threads = 2};
    OK(d1k_plan_matmul(&def, &d, &o, &p));
    ck_assert_int_eq(p.slots, 3);
    ck_assert(p.dma_b);
    check_plan(&p, &def);
    OK(d1k_plan_matmul(&def, &d, NULL, &p));
    ck_assert(!p.dma_b);
    ck_assert_int_ge(p.slots, 2);
    o = (d1k_plan_opts){.slots = 1};
    ck_assert_int_eq(d1k_plan_matmul(&def, &d, &o, &p), D1_E_INVAL);
    o = (d1k_plan_opts){.slots = D1K_MAX_SLOTS + 1};
    ck_assert_int_eq(d1k_plan_matmul(&def, &d, &o, &p), D1_E_INVAL);
    o = (d1k_plan_opts){.cthreads = 3, .dma_threads = 2}; /* 5 threads on a 4-thread node */
    ck_assert_int_eq(d1k_plan_matmul(&def, &d, &o, &p), D1_E_INVAL);
    o = (d1k_plan_opts){.target = D1K_TARGET_SYSTEM, .hbm = true, .slots = 3};
    ck_assert_int_eq(d1k_plan_matmul(&def, &d, &o, &p), D1_E_INVAL);
    d1_config_fini(&def);
}
END_TEST

/* System targets: chip-blocked grids, each ring crosses one chip edge per chip. */
START_TEST(plan_system)
{
    d1_config sys;
    mm_small_system_config(&sys, 4, 4, 2, 2);
    d1k_plan p;
    d1k_plan_opts o = {.target = D1K_TARGET_SYSTEM};
    d1k_matmul_desc d = desc(200, 300, 250, D1_BF16, D1_BF16, D1_FP32);
    OK(d1k_plan_matmul(&sys, &d, &o, &p));
    check_plan(&p, &sys);
    ck_assert_int_eq(p.cr, 2);
    ck_assert_int_eq(p.cc, 2);
    ck_assert_int_eq(p.pr, p.cr * p.lr);
    ck_assert_int_eq(p.pc, p.cc * p.lc);
    ck_assert_uint_le((uint32_t)(p.lr * p.lc), p.per_chip);
    ck_assert_uint_le(p.span, p.usable_nodes);
    uint8_t *seen = calloc(p.span, 1);
    ck_assert_ptr_nonnull(seen);
    for (int r = 0; r < p.pr; r++)
        for (int c = 0; c < p.pc; c++) {
            uint32_t id = d1k_plan_node_id(&p, r, c);
            ck_assert_uint_lt(id, p.span);
            ck_assert(!seen[id]);
            seen[id] = 1;
            ck_assert_uint_eq(id / p.per_chip, (uint32_t)((r / p.lr) * p.cc + c / p.lc));
            ck_assert_uint_lt(id % p.per_chip, (uint32_t)(p.lr * p.lc));
        }
    free(seen);
    /* every ring: one edge to the next chip, one back (the wrap) */
    ck_assert_int_eq(p.serdes_a, 2);
    ck_assert_int_eq(p.serdes_b, 2);
    ck_assert_uint_gt(p.cyc_serdes, 0);
    d1_config_fini(&sys);
    /* the default 5 x 5-chip tile: 4 edges east and 4 back west (X-then-Y chip routing) */
    OK(d1_config_init(&sys));
    d = desc(4096, 4096, 4096, D1_BF16, D1_BF16, D1_FP32);
    OK(d1k_plan_matmul(&sys, &d, &o, &p));
    check_plan(&p, &sys);
    ck_assert_int_eq(p.cr * p.cc, 25);
    ck_assert_int_eq(p.serdes_a, 8);
    ck_assert_int_eq(p.serdes_b, 8);
    ck_assert_uint_ge(p.nodes, 8000);
    d1_config_fini(&sys);
}
END_TEST

/* ---- reference ------------------------------------------------------------------------ */

static void ref_case(const d1_config *cfg, const d1k_matmul_desc *d, const d1k_plan_opts *o,
                     uint32_t seed)
{
    mm_case mc;
    mm_case_init(&mc, d, seed);
    d1k_plan p;
    OK(d1k_plan_matmul(cfg, d, o, &p));
    mm_sram s;
    mm_sram_init(&s, p.span, (size_t)p.map.end);
    d1k_sram_io io = mm_sram_io(&s);
    d1k_operand a = mm_case_a(&mc), b = mm_case_b(&mc);
    OK(d1k_matmul_stage(&p, &a, &b, mc.c0, mc.ldc, &io, NULL));
    OK(d1k_matmul_ref(&p, &io, NULL));
    size_t n = mm_case_c_bytes(&mc);
    uint8_t *got = malloc(n);
    ck_assert_ptr_nonnull(got);
    OK(d1k_matmul_unstage(&p, got, mc.ldc, &io));
    ck_assert_msg(memcmp(got, mc.want, n) == 0,
                  "%ldx%ldx%ld %s x %s -> %s ta %d tb %d acc %d round %d: differs from cpu",
                  (long)d->M, (long)d->N, (long)d->K, d1_dtype_name(d->a_dtype),
                  d1_dtype_name(d->b_dtype), d1_dtype_name(d->c_dtype), d->trans_a, d->trans_b,
                  d->accumulate, d->round);
    free(got);
    mm_sram_fini(&s);
    mm_case_fini(&mc);
}

START_TEST(ref_matches_cpu)
{
    static const int64_t shapes[][3] = {
        {1, 1, 1}, {5, 7, 3}, {17, 33, 9}, {40, 8, 1}, {64, 70, 45}, {3, 100, 20},
    };
    static const d1_dtype dts[][2] = {
        {D1_BF16, D1_BF16}, {D1_CFP8_143, D1_CFP8_152}, {D1_BF16, D1_CFP8_143},
    };
    d1_config cfg;
    mm_small_config(&cfg, 4, 4);
    uint32_t seed = 1;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (size_t t = 0; t < 3; t++)
            for (int v = 0; v < 8; v++) {
                d1k_matmul_desc d = desc(shapes[i][0], shapes[i][1], shapes[i][2], dts[t][0],
                                         dts[t][1], (v & 1) ? D1_BF16 : D1_FP32);
                d.trans_a = (v >> 1) & 1;
                d.trans_b = (v >> 2) & 1;
                d.accumulate = (v & 3) == 3 || v == 4;
                d.round = (v & 1) && (v & 4) ? D1_ROUND_STOCHASTIC : D1_ROUND_RNE;
                d.seed = 99 + (uint64_t)v;
                ref_case(&cfg, &d, NULL, seed++);
            }
    /* several panels, small panels, one compute thread, forced grids */
    d1k_plan_opts o = {.kb = 8};
    d1k_matmul_desc d = desc(50, 70, 61, D1_BF16, D1_BF16, D1_BF16);
    d.accumulate = true;
    d.round = D1_ROUND_STOCHASTIC;
    ref_case(&cfg, &d, &o, 7);
    o = (d1k_plan_opts){.pr = 3, .pc = 2, .kb = 16, .cthreads = 1};
    ref_case(&cfg, &d, &o, 8);
    d1_config_fini(&cfg);
}
END_TEST

/* ---- emission ------------------------------------------------------------------------- */

START_TEST(emit_kernel)
{
    d1_config def;
    OK(d1_config_init(&def));
    d1s_target t;
    OK(d1s_target_from_config(&def, &t));
    for (int v = 0; v < 4; v++) {
        d1k_matmul_desc d = desc(4096, 4096, 4096, v & 1 ? D1_CFP8_143 : D1_BF16,
                                 v & 1 ? D1_CFP8_143 : D1_BF16, v & 2 ? D1_BF16 : D1_FP32);
        d.round = v == 3 ? D1_ROUND_STOCHASTIC : D1_ROUND_RNE;
        d.accumulate = v == 2;
        d1k_plan p;
        OK(d1k_plan_matmul(&def, &d, NULL, &p));
        d1s_kernel *k;
        OK(d1k_matmul_emit(&p, &t, &k));
        /* one program, one placement: the ELF does not grow with the node count */
        ck_assert_uint_eq(d1s_kernel_program_count(k), 1);
        ck_assert_uint_eq(d1s_kernel_placement_count(k), 1);
        ck_assert_uint_lt(d1s_kernel_program(k, 0)->n_words, 4096);
        void *buf;
        size_t size;
        OK(d1s_kelf_write_mem(k, &buf, &size));
        ck_assert_uint_lt(size, 64 * 1024);
        d1s_kernel *back;
        OK(d1s_kelf_read_mem(buf, size, &t, &back));
        ck_assert(d1s_kernel_equal(k, back));
        d1s_kernel_destroy(back);
        free(buf);
        d1s_kernel_destroy(k);
    }
    d1_config_fini(&def);
}
END_TEST

static Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, plan_grid);
    tcase_add_test(tc, plan_choices);
    tcase_add_test(tc, plan_system);
    suite_add_tcase(s, tc);
    return s;
}

static Suite *matmul_suite(void)
{
    Suite *s = suite_create("matmul");
    TCase *tc = tcase_create("matmul");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ref_matches_cpu);
    tcase_add_test(tc, emit_kernel);
    suite_add_tcase(s, tc);
    return s;
}

D1_TEST_MAIN(plan_suite, matmul_suite)
