/* The key = value parser: syntax accepted, every error kind with its exact status. */
#include "config_test.h"
#include "test_main.h"

START_TEST(file_syntax_accepted)
{
    d1_config c;
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    d1_status st = cfgt_load(&c, "\xEF\xBB\xBF# header comment\n"
                                 "\n"
                                 "   \t\n"
                                 "clock_mhz=1500\n"
                                 "  mesh_cols\t =  0x10   # hex, trailing comment\n"
                                 "mesh_rows = 1_6\r\n"
                                 "sram_bytes = 1280Ki\n"
                                 "hbm_bytes = 16Gi\n"
                                 "harvested = \"1,1 2,2  # not a comment\"\n"
                                 "dip_edges = ns # bare string\n"
                                 "window_cyc = +50\n"
                                 "tile_link_lat_cyc = 010\n"
                                 "# last line without newline\n"
                                 "noc_vcs = 3");
    ck_assert_msg(st == D1_OK, "%s", d1_last_error());
    ck_assert_int_eq(c.clock_mhz, 1500);
    ck_assert_int_eq(c.mesh_cols, 16);
    ck_assert_int_eq(c.mesh_rows, 16);
    ck_assert_int_eq(c.sram_bytes, 1310720);
    ck_assert_int_eq(c.hbm_bytes, INT64_C(16) << 30);
    ck_assert_str_eq(c.harvested, "1,1 2,2  # not a comment");
    ck_assert_str_eq(c.dip_edges, "ns");
    ck_assert_int_eq(c.window_cyc, 50);
    ck_assert_int_eq(c.tile_link_lat_cyc, 10); /* decimal, not octal */
    ck_assert_int_eq(c.noc_vcs, 3);
    d1_config_fini(&c);
}
END_TEST

START_TEST(size_suffixes)
{
    static const struct {
        const char *set;
        int64_t want;
    } ok[] = {
        {"sram_bytes=2M", 2000000},          {"sram_bytes=64Ki", 65536},
        {"sram_bytes=1Mi", 1 << 20},         {"hbm_bytes=1T", INT64_C(1000000000000)},
        {"hbm_bytes=1Ti", INT64_C(1) << 40}, {"sram_bytes = 0x40Ki", 65536},
    };
    d1_config c;
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CFGT_SET_OK(&c, ok[i].set);
        int64_t got = strstr(ok[i].set, "sram") ? c.sram_bytes : c.hbm_bytes;
        ck_assert_msg(got == ok[i].want, "%s -> %lld", ok[i].set, (long long)got);
    }
    CFGT_EXPECT(d1_config_set(&c, "clock_mhz=2k"), D1_E_CONFIG, "only accepted for byte-sized");
    CFGT_EXPECT(d1_config_set(&c, "sram_bytes=2K"), D1_E_CONFIG, "size suffixes: k M G T");
    CFGT_EXPECT(d1_config_set(&c, "sram_bytes=2KiB"), D1_E_CONFIG, "not an integer");
    CFGT_EXPECT(d1_config_set(&c, "sram_bytes=1Gi"), D1_E_CONFIG, "out of range");
    CFGT_EXPECT(d1_config_set(&c, "hbm_bytes=9999999Ti"), D1_E_CONFIG, "too large");
    d1_config_fini(&c);
}
END_TEST

START_TEST(unknown_key_suggests)
{
    d1_config c;
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    char *path = cfgt_file("clock_mhz = 1000\nmesh_col = 3\n");
    CFGT_EXPECT(d1_config_load_file(&c, path), D1_E_CONFIG,
                "unknown key 'mesh_col' (did you mean 'mesh_cols'?)");
    char want[64];
    snprintf(want, sizeof want, "%s:2: ", path);
    ck_assert_msg(strstr(d1_last_error(), want), "%s lacks %s", d1_last_error(), want);
    ck_assert_int_eq(c.clock_mhz, 2000); /* a failed load changes nothing */
    cfgt_rm(path);
    CFGT_EXPECT(d1_config_set(&c, "CLOCK_MHZ=5"), D1_E_CONFIG, "did you mean 'clock_mhz'");
    CFGT_EXPECT(d1_config_set(&c, "harvest=1,1"), D1_E_CONFIG, "did you mean 'harvested'");
    CFGT_EXPECT(d1_config_set(&c, "vcs=4"), D1_E_CONFIG, "did you mean 'noc_vcs'");
    CFGT_EXPECT(d1_config_set(&c, "frobnicate=1"), D1_E_CONFIG,
                "unknown key 'frobnicate' (list: d1 config doc)");
    d1_config_fini(&c);
}
END_TEST

START_TEST(duplicate_key)
{
    d1_config c;
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    char *path = cfgt_file("# x\nnoc_vcs = 3\nmesh_cols = 4\nnoc_vcs=3\n");
    CFGT_EXPECT(d1_config_load_file(&c, path), D1_E_CONFIG,
                "duplicate key 'noc_vcs' (first set on line 2)");
    ck_assert_ptr_nonnull(strstr(d1_last_error(), ":4: "));
    ck_assert_int_eq(c.mesh_cols, 18);
    cfgt_rm(path);
    /* across files and --set, later wins */
    ck_assert_int_eq(cfgt_load(&c, "noc_vcs = 3\n"), D1_OK);
    ck_assert_int_eq(cfgt_load(&c, "noc_vcs = 4\n"), D1_OK);
    ck_assert_int_eq(c.noc_vcs, 4);
    CFGT_SET_OK(&c, "noc_vcs=5");
    CFGT_SET_OK(&c, "noc_vcs=6");
    ck_assert_int_eq(c.noc_vcs, 6);
    d1_config_fini(&c);
}
END_TEST

START_TEST(malformed_lines)
{
    static const struct {
        const char *text, *fragment;
    } bad[] = {
        {"clock_mhz 2000\n", "missing '=' (expected 'key = value', got 'clock_mhz 2000')"},
        {"clock_mhz\n", "missing '='"},
        {"clock_mhz # = 5\n", "missing '='"},
        {"= 5\n", "missing key before '='"},
        {"mesh cols = 5\n", "malformed key 'mesh cols'"},
        {"clock_mhz =\n", "key 'clock_mhz': missing value"},
        {"clock_mhz = # nothing\n", "missing value"},
        {"harvested =\n", "write \"\" for an empty string"},
        {"clock_mhz = 2GHz\n", "'2GHz' is not an integer"},
        {"clock_mhz = 20 00\n", "is not an integer"},
        {"clock_mhz = 0x\n", "is not an integer"},
        {"clock_mhz = -\n", "is not an integer"},
        {"clock_mhz = 2e3\n", "is not an integer"},
        {"clock_mhz = 99999999999999999999999\n", "too large"},
        {"clock_mhz = \"2000\"\n", "quotes are for strings"},
        {"clock_mhz = 50\n", "50 is out of range [100, 10000] MHz"},
        {"window_cyc = -1\n", "-1 is out of range [0, 1000000] cyc"},
        {"harvested = \"1,1\n", "unterminated string"},
        {"harvested = \"1,1\" 2,2\n", "unexpected text '2,2' after the string"},
        {"harvested = 1,1\"\n", "stray '\"'"},
        {"dip_edges = \"w\x01\"\n", "control character"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d1_config c;
        ck_assert_int_eq(d1_config_init(&c), D1_OK);
        d1_clear_error();
        d1_status st = cfgt_load(&c, bad[i].text);
        ck_assert_msg(st == D1_E_CONFIG, "'%s': status %d (%s)", bad[i].text, st, d1_last_error());
        ck_assert_msg(strstr(d1_last_error(), bad[i].fragment), "'%s': message '%s' lacks '%s'",
                      bad[i].text, d1_last_error(), bad[i].fragment);
        ck_assert_msg(strstr(d1_last_error(), ":1: "), "no line in '%s'", d1_last_error());
        d1_config_fini(&c);
    }
}
END_TEST

START_TEST(nul_byte_rejected)
{
    d1_config c;
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    char *path = cfgt_file("clock_mhz = 1000\n");
    FILE *f = fopen(path, "a");
    ck_assert_ptr_nonnull(f);
    fwrite("noc_vcs\0= 3\n", 1, 12, f);
    fclose(f);
    CFGT_EXPECT(d1_config_load_file(&c, path), D1_E_CONFIG, ":2: NUL byte");
    cfgt_rm(path);
    d1_config_fini(&c);
}
END_TEST

START_TEST(missing_file_is_io)
{
    d1_config c;
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    CFGT_EXPECT(d1_config_load_file(&c, "/tmp/d1-no-such-dir/none.cfg"), D1_E_IO,
                "/tmp/d1-no-such-dir/none.cfg: No such file");
    CFGT_EXPECT(d1_config_load_file(&c, "/tmp"), D1_E_IO, "/tmp");
    ck_assert_int_eq(cfgt_load(&c, ""), D1_OK); /* an empty file is fine */
    d1_config_fini(&c);
}
END_TEST

START_TEST(set_syntax)
{
    d1_config c;
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    CFGT_SET_OK(&c, "harvested=1,1 2,2");
    ck_assert_str_eq(c.harvested, "1,1 2,2");
    CFGT_SET_OK(&c, " dip_edges = \"\" ");
    ck_assert_str_eq(c.dip_edges, "");
    CFGT_EXPECT(d1_config_set(&c, ""), D1_E_CONFIG, "--set '': expected key=value");
    CFGT_EXPECT(d1_config_set(&c, "# c"), D1_E_CONFIG, "expected key=value");
    CFGT_EXPECT(d1_config_set(&c, "noc_vcs"), D1_E_CONFIG,
                "--set 'noc_vcs': missing '=' (expected");
    CFGT_EXPECT(d1_config_set(&c, "noc_vcs=0"), D1_E_CONFIG,
                "--set 'noc_vcs=0': key 'noc_vcs': 0 is out of range [1, 16]");
    ck_assert_int_eq(c.noc_vcs, 2);
    d1_config_fini(&c);
}
END_TEST

Suite *config_parse_suite(void)
{
    Suite *s = suite_create("config_parse");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, file_syntax_accepted);
    tcase_add_test(tc, size_suffixes);
    tcase_add_test(tc, unknown_key_suggests);
    tcase_add_test(tc, duplicate_key);
    tcase_add_test(tc, malformed_lines);
    tcase_add_test(tc, nul_byte_rejected);
    tcase_add_test(tc, missing_file_is_io);
    tcase_add_test(tc, set_syntax);
    suite_add_tcase(s, tc);
    return s;
}
