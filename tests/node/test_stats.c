/* Statistics JSON and trace JSON writers (sim/trace). */
#include "test_main.h"

#include "sim/chip/chip.h"
#include "sim/elf/asm.h"
#include "sim/trace/stats.h"
#include "sim/trace/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog = ".program main\n.place 0-1\n"
                          "  li x1, 20\n"
                          "l: addi x1, x1, -1\n  mma.bf16 m0, v1, v2\n  bne x1, x0, l\n"
                          "  swait s0, 1\n  halt\n"
                          ".program helper\n.place 2\n  spost s0, 1\n  halt\n";

static void run_prog(d1_config *cfg, d1s_chip **chip, d1s_kernel **k, d1s_chip_result *res,
                     d1s_trace **tr, const char *trace_path, uint64_t max_events)
{
    ck_assert_int_eq(d1_config_init(cfg), D1_OK);
    d1s_chip_opts o = {D1S_NODE_FUNCTIONAL, D1S_NET_NOC, 0};
    ck_assert_int_eq(d1s_chip_create(cfg, &o, chip), D1_OK);
    d1s_target t = {d1s_chip_node_count(*chip), (uint64_t)cfg->sram_bytes, 0};
    ck_assert_msg(d1s_asm_string(prog, "t", &t, k) == D1_OK, "%s", d1_last_error());
    ck_assert_int_eq(d1s_chip_load_kernel(*chip, *k), D1_OK);
    if (trace_path) {
        uint32_t ids[3];
        ck_assert_int_eq(d1s_trace_parse_nodes("0-1,2", d1s_chip_node_count(*chip), ids, 3), 3);
        ck_assert_int_eq(d1s_trace_open(tr, trace_path, *chip, ids, 3, max_events), D1_OK);
    }
    ck_assert_int_eq(d1s_chip_run(*chip, 0, res), D1_OK);
}

/* node 0 and 1 wait on s0 that only node 2 posts (to itself): a deadlock after the loop */
START_TEST(stats_json_has_config_first)
{
    d1_config cfg;
    d1s_chip *chip;
    d1s_kernel *k;
    d1s_chip_result res;
    run_prog(&cfg, &chip, &k, &res, NULL, NULL, 0);
    ck_assert_int_eq(res.end, D1S_END_TRAP);
    ck_assert_int_eq(res.trap.cause, D1S_TRAP_DEADLOCK);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    d1s_run_info info = {"t.s", "noc"};
    ck_assert_int_eq(d1s_stats_write_json(f, chip, &res, &info), D1_OK);
    fclose(f);
    ck_assert_msg(!strncmp(buf, "{\n\"config\": {\"clock_mhz\": 2000,", 31), "%.60s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "\"end\": \"trap\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"cause\": \"deadlock\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"mma\": 40,"));
    ck_assert_ptr_nonnull(strstr(buf, "\"harvested\": \"3,2 14,5"));
    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &len);
    d1s_stats_print(f, chip, &res, &info);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "matrix unit        40 mma = 10240 MAC"));
    ck_assert_ptr_nonnull(strstr(buf, "guest trap 'deadlock' at node 0 (0,0) thread 0"));
    free(buf);
    d1s_chip_destroy(chip);
    d1s_kernel_destroy(k);
    d1_config_fini(&cfg);
}
END_TEST

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc(1, (size_t)n + 1);
    ck_assert_int_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return b;
}

static void trace_case(uint64_t max_events, int truncated)
{
    char path[] = "/tmp/d1trace_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    d1_config cfg;
    d1s_chip *chip;
    d1s_kernel *k;
    d1s_chip_result res;
    d1s_trace *tr = NULL;
    run_prog(&cfg, &chip, &k, &res, &tr, path, max_events);
    uint64_t ev = d1s_trace_events(tr);
    ck_assert_int_eq(d1s_trace_close(tr, res.cycles), D1_OK);
    char *b = slurp(path);
    ck_assert_ptr_nonnull(strstr(b, "\"traceEvents\":["));
    ck_assert_ptr_nonnull(strstr(b, "\"name\":\"node 2 (2,0)\""));
    ck_assert_ptr_nonnull(strstr(b, truncated ? "\"truncated\":true" : "\"truncated\":false"));
    if (!truncated) {
        ck_assert_ptr_nonnull(strstr(b, "\"name\":\"issue\""));
        ck_assert_ptr_nonnull(strstr(b, "\"name\":\"stall:sem\""));
        ck_assert_ptr_nonnull(strstr(b, "\"name\":\"halt\""));
    } else {
        ck_assert_uint_eq(ev, max_events);
    }
    free(b);
    unlink(path);
    d1s_chip_destroy(chip);
    d1s_kernel_destroy(k);
    d1_config_fini(&cfg);
}

START_TEST(trace_json)
{
    trace_case(1000000, 0);
}
END_TEST
START_TEST(trace_bounded)
{
    trace_case(3, 1);
}
END_TEST

START_TEST(trace_node_list)
{
    uint32_t ids[8];
    ck_assert_int_eq(d1s_trace_parse_nodes("1,3-5", 10, ids, 8), 4);
    ck_assert_uint_eq(ids[3], 5);
    ck_assert_int_eq(d1s_trace_parse_nodes("1,x", 10, ids, 8), -1);
    ck_assert_int_eq(d1s_trace_parse_nodes("5-12", 10, ids, 8), -1);
    ck_assert_int_eq(d1s_trace_parse_nodes("", 10, ids, 8), -1);
}
END_TEST

Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");
    tcase_add_test(tc, stats_json_has_config_first);
    tcase_add_test(tc, trace_json);
    tcase_add_test(tc, trace_bounded);
    tcase_add_test(tc, trace_node_list);
    suite_add_tcase(s, tc);
    return s;
}
