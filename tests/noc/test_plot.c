/* gnuplot helper: script content, sibling paths, running gnuplot (or its absence). */
#include "test_main.h"

#include "sim/trace/plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(sibling_paths)
{
    char b[64];
    ck_assert_int_eq(d1s_plot_sibling_path("out/sweep.png", ".dat", b, sizeof b), D1_OK);
    ck_assert_str_eq(b, "out/sweep.dat");
    ck_assert_int_eq(d1s_plot_sibling_path("a.b/c", ".gp", b, sizeof b), D1_OK);
    ck_assert_str_eq(b, "a.b/c.gp");
    ck_assert_int_eq(d1s_plot_sibling_path(".hidden", ".gp", b, sizeof b), D1_OK);
    ck_assert_str_eq(b, ".hidden.gp");
    ck_assert_int_eq(d1s_plot_sibling_path("x.png", ".dat", b, 5), D1_E_RANGE);
}
END_TEST

static void write_plot(const char *dir, char *png, char *gp, size_t size)
{
    char dat[256];
    snprintf(dat, sizeof dat, "%s/it's.dat", dir);
    snprintf(png, size, "%s/it's.png", dir);
    snprintf(gp, size, "%s/it's.gp", dir);
    FILE *f = fopen(dat, "w");
    ck_assert_ptr_nonnull(f);
    fputs("# x y\n0.1 10\n0.2 12\n0.3 30\n", f);
    fclose(f);
    d1s_plot_series se[] = {{"1:2", "latency", NULL}};
    d1s_plot_panel pa[] = {{"panel", "offered load (flits/node/cycle)", "latency (cycles)", 1, 0, 0,
                            0.25, "saturation", se, 1}};
    d1s_plot p = {png, dat, "it's a test", 0, 0, pa, 1};
    ck_assert_int_eq(d1s_plot_write_script(&p, gp), D1_OK);
}

START_TEST(script_and_run)
{
    char dir[] = "/tmp/d1_plot_XXXXXX", png[256], gp[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    write_plot(dir, png, gp, sizeof png);
    FILE *f = fopen(gp, "r");
    static char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "set terminal pngcairo"));
    ck_assert_ptr_nonnull(strstr(text, "set xlabel 'offered load (flits/node/cycle)'"));
    ck_assert_ptr_nonnull(strstr(text, "title 'it''s a test'"));
    ck_assert_ptr_nonnull(strstr(text, "set logscale y"));
    if (d1s_plot_have_gnuplot()) {
        ck_assert_int_eq(d1s_plot_run(gp), D1_OK);
        FILE *img = fopen(png, "rb");
        ck_assert_ptr_nonnull(img);
        unsigned char magic[8];
        ck_assert_uint_eq(fread(magic, 1, 8, img), 8);
        fclose(img);
        ck_assert(memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0);
        remove(png);
    }
    setenv("PATH", "/nonexistent", 1); /* forked test: does not leak */
    ck_assert_int_eq(d1s_plot_have_gnuplot(), 0);
    ck_assert_int_eq(d1s_plot_run(gp), D1_E_UNSUPPORTED);
    ck_assert_str_eq(d1_last_error(), "gnuplot not found in PATH");
    char dat[300];
    snprintf(dat, sizeof dat, "%s/it's.dat", dir);
    remove(dat);
    remove(gp);
    rmdir(dir);
}
END_TEST

Suite *plot_suite(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sibling_paths);
    tcase_add_test(tc, script_and_run);
    suite_add_tcase(s, tc);
    return s;
}
