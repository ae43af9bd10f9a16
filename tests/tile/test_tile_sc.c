/* Tile under SystemC: host -> HBM over PCIe as a SystemC process, exact completion time, data
 * visible to node DMA afterwards. One SystemC simulation per process: each test runs in its
 * own fork (Check's default). */
#include "test_main.h"

#include "sim/arch/config.h"
#include "sim/elf/asm.h"
#include "sim/elf/emit.h"
#include "sim/engine/scshim.h"
#include "sim/tile/tile_sc.h"

#include <stdlib.h>
#include <string.h>

#define LEN (8u << 20)

static int body_host_write(void *user)
{
    (void)user;
    d1_config cfg;
    ck_assert_int_eq(d1_config_init(&cfg), D1_OK);
    ck_assert_int_eq(d1_config_set(&cfg, "tile_chips_x=1"), D1_OK);
    ck_assert_int_eq(d1_config_set(&cfg, "tile_chips_y=1"), D1_OK);
    ck_assert_int_eq(d1_config_set(&cfg, "dips_per_edge=1"), D1_OK);
    d1s_tile_opts o = {D1S_NODE_FUNCTIONAL, 1};
    d1s_tile *t = NULL;
    ck_assert_int_eq(d1s_tile_create(&cfg, &o, &t), D1_OK);
    uint8_t *buf = malloc(LEN);
    ck_assert_ptr_nonnull(buf);
    for (uint32_t i = 0; i < LEN; i++)
        buf[i] = (uint8_t)(i * 13 + (i >> 12));
    d1s_host_xfer x = {0, 1, 0x100000, buf, LEN, 0, 0, D1_OK};
    d1s_tile_result r;
    ck_assert_int_eq(d1s_tile_sc_run(t, &x, 1, 0, 0, &r), D1_OK);
    ck_assert_int_eq(x.status, D1_OK);
    /* 8 chunks of 1 MiB at 16 B/cyc, then 2000 cyc PCIe latency, then the last chunk's
     * ceil(2^20 / 400) = 2622 cyc on the HBM port */
    ck_assert_uint_eq(x.done_cyc, 8 * 65536 + 2000 + 2622);
    ck_assert_uint_ge(d1s_sc_now_cyc(), x.done_cyc);
    uint8_t *back = malloc(LEN);
    ck_assert_int_eq(d1s_hbm_read(d1s_dip_hbm(d1s_tile_dip(t, 0)), 0x100000, back, LEN), D1_OK);
    ck_assert_int_eq(memcmp(back, buf, LEN), 0);

    /* a node reads 4 KiB of it back through HBM DMA */
    static const char src[] = ".program main\n.place all\n"
                              "        li   x8, 0x00ff0102\n"
                              "        li   x9, 4096\n"
                              "        slli x9, x9, 32\n"
                              "        or   x8, x8, x9\n"
                              "        sd   x8, 0x200(x0)\n"
                              "        sd   x0, 0x208(x0)\n"
                              "        li   x8, 0x20000\n"
                              "        sd   x8, 0x210(x0)\n"
                              "        li   x8, 0x101000\n"
                              "        sd   x8, 0x218(x0)\n"
                              "        dma  0x200(x0)\n"
                              "        swait s1, 1\n"
                              "        halt\n";
    d1s_target tg = {d1s_tile_node_count(t), (uint64_t)cfg.sram_bytes, 0};
    d1s_kernel *k = NULL;
    ck_assert_int_eq(d1s_asm_string(src, "rd", &tg, &k), D1_OK);
    const d1s_program *pr = d1s_kernel_program(k, 0);
    ck_assert_int_eq(d1s_tile_load_program(t, 200, 200, pr->words, pr->n_words, 0), D1_OK);
    ck_assert_int_eq(d1s_tile_run(t, 0, &r), D1_OK);
    ck_assert_int_eq(r.end, D1S_END_HALTED);
    ck_assert_int_eq(d1s_node_sram_read(d1s_tile_node(t, 200), 0x20000, back, 4096), D1_OK);
    ck_assert_int_eq(memcmp(back, buf + 0x1000, 4096), 0);
    d1s_kernel_destroy(k);
    free(back);
    free(buf);
    d1s_tile_destroy(t);
    d1_config_fini(&cfg);
    return 0;
}

START_TEST(host_write_pcie)
{
    char arg0[] = "test_tile_sc";
    char *argv[] = {arg0, NULL};
    ck_assert_int_eq(d1s_sc_main(1, argv, body_host_write, NULL), 0);
}
END_TEST

static Suite *tile_sc_suite(void)
{
    Suite *s = suite_create("tile_sc");
    TCase *tc = tcase_create("host_write_pcie");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, host_write_pcie);
    suite_add_tcase(s, tc);
    return s;
}

D1_TEST_MAIN(tile_sc_suite)
