/* The chip: kernels assembled from text, run over the NoC (or the direct network);
 * golden cycle counts (tests/data/node/golden.txt), timing-only equality, deadlock and
 * watchdog traps, DMA across the mesh. */
#include "test_main.h"

#include "sim/chip/chip.h"
#include "sim/elf/asm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef D1_TEST_DATA_DIR
#define D1_TEST_DATA_DIR "tests/data"
#endif

typedef struct run {
    d1_config cfg;
    d1s_chip *chip;
    d1s_kernel *k;
    d1s_chip_result res;
} run;

static void setup(run *r, d1s_node_mode mode, d1s_net_kind net, const char *const *sets)
{
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(d1_config_init(&r->cfg), D1_OK);
    for (int i = 0; sets && sets[i]; i++)
        ck_assert_msg(d1_config_set(&r->cfg, sets[i]) == D1_OK, "%s", d1_last_error());
    d1s_chip_opts o = {mode, net, 3};
    ck_assert_msg(d1s_chip_create(&r->cfg, &o, &r->chip) == D1_OK, "%s", d1_last_error());
}

static d1s_target target(run *r)
{
    d1s_target t = {d1s_chip_node_count(r->chip), (uint64_t)r->cfg.sram_bytes, 0};
    return t;
}

static void load_text(run *r, const char *text)
{
    d1s_target t = target(r);
    ck_assert_msg(d1s_asm_string(text, "test", &t, &r->k) == D1_OK, "%s", d1_last_error());
    ck_assert_msg(d1s_chip_load_kernel(r->chip, r->k) == D1_OK, "%s", d1_last_error());
}

static void load_file(run *r, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/node/%s", D1_TEST_DATA_DIR, name);
    d1s_target t = target(r);
    ck_assert_msg(d1s_asm_file(path, &t, &r->k) == D1_OK, "%s", d1_last_error());
    ck_assert_msg(d1s_chip_load_kernel(r->chip, r->k) == D1_OK, "%s", d1_last_error());
}

static void go(run *r, uint64_t max)
{
    ck_assert_int_eq(d1s_chip_run(r->chip, max, &r->res), D1_OK);
}

static void teardown(run *r)
{
    d1s_chip_destroy(r->chip);
    d1s_kernel_destroy(r->k);
    d1_config_fini(&r->cfg);
}

/* ---- golden cycle counts --------------------------------------------------------------- */

typedef struct golden {
    char file[64], net[16];
    unsigned long long cycles, insns;
} golden;

static int read_golden(golden *g, int max)
{
    char path[512], line[256];
    snprintf(path, sizeof path, "%s/node/golden.txt", D1_TEST_DATA_DIR);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        ck_assert_int_eq(
            sscanf(line, "%63s %15s %llu %llu", g[n].file, g[n].net, &g[n].cycles, &g[n].insns), 4);
        n++;
    }
    fclose(f);
    return n;
}

static void golden_run(d1s_node_mode mode)
{
    golden g[32];
    int n = read_golden(g, 32);
    ck_assert_int_gt(n, 0);
    for (int i = 0; i < n; i++) {
        run r;
        setup(&r, mode, strcmp(g[i].net, "direct") ? D1S_NET_NOC : D1S_NET_DIRECT, NULL);
        load_file(&r, g[i].file);
        go(&r, 10000000);
        d1s_chip_stats st;
        d1s_chip_get_stats(r.chip, &st);
        ck_assert_msg(r.res.end == D1S_END_HALTED, "%s: end %d trap %s", g[i].file, (int)r.res.end,
                      d1s_trap_name(r.res.trap.cause));
        if (getenv("D1_GOLDEN_PRINT")) { /* regenerate: prints the measured lines */
            printf("%-17s %-8s %llu %llu\n", g[i].file, g[i].net, (unsigned long long)r.res.cycles,
                   (unsigned long long)st.insns);
            fflush(stdout);
            teardown(&r);
            continue;
        }
        ck_assert_msg(r.res.cycles == g[i].cycles, "%s (%s): %llu cycles, golden %llu", g[i].file,
                      g[i].net, (unsigned long long)r.res.cycles, g[i].cycles);
        ck_assert_msg(st.insns == g[i].insns, "%s: %llu instructions, golden %llu", g[i].file,
                      (unsigned long long)st.insns, g[i].insns);
        teardown(&r);
    }
}

START_TEST(golden_cycles)
{
    golden_run(D1S_NODE_FUNCTIONAL);
}
END_TEST
START_TEST(golden_cycles_timing_only)
{
    golden_run(D1S_NODE_TIMING_ONLY);
}
END_TEST

/* ---- functional results through the chip ------------------------------------------------ */

START_TEST(vec_pipeline_result)
{
    run r;
    setup(&r, D1S_NODE_FUNCTIONAL, D1S_NET_NOC, NULL);
    load_file(&r, "vec_pipeline.s");
    go(&r, 1000000);
    ck_assert_int_eq(r.res.end, D1S_END_HALTED);
    for (uint32_t id = 0; id < 4; id++) {
        float y[8];
        ck_assert_int_eq(d1s_node_sram_read(d1s_chip_node(r.chip, id), 0x4000, y, sizeof y), D1_OK);
        for (int i = 0; i < 8; i++) {
            float x = (float)(i + 1);
            ck_assert_float_eq(y[i], x * x + x);
        }
    }
    teardown(&r);
}
END_TEST

/* ring of PUTs over all 354 nodes: every node receives its neighbour's 1 KiB */
START_TEST(dma_ring_data)
{
    run r;
    setup(&r, D1S_NODE_FUNCTIONAL, D1S_NET_NOC, NULL);
    load_file(&r, "dma_ring.s");
    uint32_t n = d1s_chip_node_count(r.chip);
    ck_assert_uint_eq(n, 354);
    for (uint32_t id = 0; id < n; id++) {
        uint32_t v[256];
        for (int i = 0; i < 256; i++)
            v[i] = id * 1000u + (uint32_t)i;
        ck_assert_int_eq(d1s_chip_load_image(r.chip, id, 0x10000, v, sizeof v), D1_OK);
    }
    go(&r, 1000000);
    ck_assert_msg(r.res.end == D1S_END_HALTED, "trap %s", d1s_trap_name(r.res.trap.cause));
    for (uint32_t id = 0; id < n; id++) {
        uint32_t v[256], from = (id + n - 1) % n;
        d1s_node_sram_read(d1s_chip_node(r.chip, id), 0x20000, v, sizeof v);
        for (int i = 0; i < 256; i++)
            ck_assert_uint_eq(v[i], from * 1000u + (uint32_t)i);
    }
    d1s_chip_stats st;
    d1s_chip_get_stats(r.chip, &st);
    ck_assert_uint_eq(st.dma_out_bytes, 1024ull * n);
    ck_assert_uint_gt(st.link_flits, 16ull * n); /* 16 flits per transfer, >= 1 hop each */
    teardown(&r);
}
END_TEST

/* corner to corner: node 0 GETs 8 KiB from the last node */
START_TEST(dma_get_across_chip)
{
    static const char *src = ".program main\n.place 0\n"
                             "  dma 0x200(x0)\n  swait s3, 1\n  halt\n"
                             ".data 0x200\n  .byte 1, 3, 0xff, 0\n  .word 8192, 353, 0\n"
                             "  .dword 0x8000, 0x40000\n";
    run r;
    setup(&r, D1S_NODE_FUNCTIONAL, D1S_NET_NOC, NULL);
    load_text(&r, src);
    static uint8_t data[8192], got[8192];
    for (int i = 0; i < 8192; i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    ck_assert_int_eq(d1s_chip_load_image(r.chip, 353, 0x40000, data, sizeof data), D1_OK);
    go(&r, 1000000);
    ck_assert_msg(r.res.end == D1S_END_HALTED, "trap %s", d1s_trap_name(r.res.trap.cause));
    d1s_node_sram_read(d1s_chip_node(r.chip, 0), 0x8000, got, sizeof got);
    ck_assert_mem_eq(got, data, sizeof data);
    /* 128 packets at one 64 B flit per cycle after setup and the request's trip */
    ck_assert_uint_ge(r.res.cycles, 128 + (uint64_t)r.cfg.dma_setup_cyc);
    ck_assert_uint_le(r.res.cycles, 128 + (uint64_t)r.cfg.dma_setup_cyc + 200);
    teardown(&r);
}
END_TEST

/* ---- traps at chip level ----------------------------------------------------------------- */

START_TEST(deadlock_trap)
{
    /* two nodes wait for each other's semaphore: nobody posts */
    static const char *src = ".program main\n.place 0-1\n  li x1, 5\n  swait s7, 1\n  halt\n";
    run r;
    setup(&r, D1S_NODE_FUNCTIONAL, D1S_NET_NOC, NULL);
    load_text(&r, src);
    go(&r, 0);
    ck_assert_int_eq(r.res.end, D1S_END_TRAP);
    ck_assert_int_eq(r.res.trap.cause, D1S_TRAP_DEADLOCK);
    ck_assert_uint_eq(r.res.trap.node, 0);
    ck_assert_int_eq(r.res.trap.thread, 0);
    ck_assert_uint_eq(r.res.trap.pc, 4);
    ck_assert_uint_eq(r.res.trap.detail, 7);
    ck_assert_uint_lt(r.res.cycles, 10); /* detected at once, not after the watchdog */
    teardown(&r);
}
END_TEST

START_TEST(watchdog_trap)
{
    /* a PUT whose packet takes longer than watchdog_cyc to arrive (direct network) */
    static const char *src = ".program main\n.place 0\n"
                             "  dma 0x200(x0)\n  swait s3, 1\n  halt\n"
                             ".data 0x200\n  .byte 0, 0xff, 3, 0\n  .word 64, 0, 0\n"
                             "  .dword 0x1000, 0x2000\n";
    const char *sets[] = {"watchdog_cyc=1000", NULL};
    run r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(d1_config_init(&r.cfg), D1_OK);
    ck_assert_int_eq(d1_config_set(&r.cfg, sets[0]), D1_OK);
    d1s_chip_opts o = {D1S_NODE_FUNCTIONAL, D1S_NET_DIRECT, 5000};
    ck_assert_int_eq(d1s_chip_create(&r.cfg, &o, &r.chip), D1_OK);
    load_text(&r, src);
    go(&r, 0);
    ck_assert_int_eq(r.res.end, D1S_END_TRAP);
    ck_assert_int_eq(r.res.trap.cause, D1S_TRAP_WATCHDOG);
    ck_assert_uint_eq(r.res.trap.detail, 3);
    ck_assert_uint_lt(r.res.cycles, 1100);
    teardown(&r);
}
END_TEST

START_TEST(dma_to_missing_node_traps)
{
    static const char *src = ".program main\n.place 0\n  nop\n  dma 0x200(x0)\n  halt\n"
                             ".data 0x200\n  .byte 0, 0xff, 0xff, 0\n  .word 64, 354, 0\n"
                             "  .dword 0x1000, 0x2000\n";
    run r;
    setup(&r, D1S_NODE_FUNCTIONAL, D1S_NET_NOC, NULL);
    load_text(&r, src);
    go(&r, 0);
    ck_assert_int_eq(r.res.end, D1S_END_TRAP);
    ck_assert_int_eq(r.res.trap.cause, D1S_TRAP_DMA_NODE);
    ck_assert_uint_eq(r.res.trap.detail, 354);
    ck_assert_uint_eq(r.res.trap.pc, 4);
    teardown(&r);
}
END_TEST

START_TEST(max_cycles_stops)
{
    static const char *src = ".program main\n.place 0\nl: j l\n";
    run r;
    setup(&r, D1S_NODE_FUNCTIONAL, D1S_NET_NOC, NULL);
    load_text(&r, src);
    go(&r, 5000);
    ck_assert_int_eq(r.res.end, D1S_END_MAX_CYCLES);
    ck_assert_uint_eq(r.res.cycles, 5000);
    teardown(&r);
}
END_TEST

/* positions and ids: row-major over usable positions; harvested (3,2) has no id */
START_TEST(node_ids)
{
    run r;
    setup(&r, D1S_NODE_TIMING_ONLY, D1S_NET_NOC, NULL);
    int x, y;
    ck_assert_int_eq(d1s_chip_node_xy(r.chip, 0, &x, &y), 0);
    ck_assert(x == 0 && y == 0);
    ck_assert_int_eq(d1s_chip_node_xy(r.chip, 2 * 18 + 3, &x, &y), 0);
    ck_assert(x == 4 && y == 2); /* (3,2) is harvested: the id moves on to (4,2) */
    ck_assert_int_eq(d1s_chip_node_xy(r.chip, 353, &x, &y), 0);
    ck_assert(x == 17 && y == 19);
    ck_assert_int_eq(d1s_chip_node_xy(r.chip, 354, &x, &y), -1);
    teardown(&r);
}
END_TEST

/* Two runs of the same kernel: identical cycles and per-node statistics. */
START_TEST(chip_deterministic)
{
    static d1s_node_stats first[354];
    uint64_t cyc[2];
    for (int r = 0; r < 2; r++) {
        run x;
        setup(&x, D1S_NODE_FUNCTIONAL, D1S_NET_NOC, NULL);
        load_file(&x, "dma_ring.s");
        go(&x, 0);
        cyc[r] = x.res.cycles;
        for (uint32_t id = 0; id < d1s_chip_node_count(x.chip); id++) {
            const d1s_node_stats *st = d1s_node_get_stats(d1s_chip_node(x.chip, id));
            if (r == 0)
                first[id] = *st;
            else
                ck_assert_mem_eq(&first[id], st, sizeof *st);
        }
        teardown(&x);
    }
    ck_assert_uint_eq(cyc[0], cyc[1]);
}
END_TEST

Suite *chip_suite(void)
{
    Suite *s = suite_create("chip");
    TCase *tc = tcase_create("chip");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, golden_cycles);
    tcase_add_test(tc, golden_cycles_timing_only);
    tcase_add_test(tc, vec_pipeline_result);
    tcase_add_test(tc, dma_ring_data);
    tcase_add_test(tc, dma_get_across_chip);
    tcase_add_test(tc, deadlock_trap);
    tcase_add_test(tc, watchdog_trap);
    tcase_add_test(tc, dma_to_missing_node_traps);
    tcase_add_test(tc, max_cycles_stops);
    tcase_add_test(tc, node_ids);
    tcase_add_test(tc, chip_deterministic);
    suite_add_tcase(s, tc);
    return s;
}
