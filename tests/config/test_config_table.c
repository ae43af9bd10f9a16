/* Table-driven tests: every key of config.def, its range, dump -> load, hash, doc. */
#include "config_test.h"
#include "test_main.h"

#include <ctype.h>
#include <inttypes.h>

START_TEST(table_is_sane)
{
    for (int i = 0; i < CFGT_NKEYS; i++) {
        const cfgt_key *k = &cfgt_keys[i];
        ck_assert_msg(k->key[0] && islower((unsigned char)k->key[0]), "%s", k->key);
        for (const char *p = k->key; *p; p++)
            ck_assert_msg(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_',
                          "key %s: bad character", k->key);
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(k->key, cfgt_keys[j].key), "key %s twice", k->key);
        ck_assert_msg(!strcmp(k->tag, "P") || !strcmp(k->tag, "D") || !strcmp(k->tag, "A"),
                      "key %s: tag %s", k->key, k->tag);
        ck_assert_msg(strlen(k->doc) > 5, "key %s: no description", k->key);
        ck_assert_msg(!strchr(k->doc, '\n') && !strchr(k->unit, '\n'), "%s", k->key);
        if (k->type == 'I') {
            ck_assert_msg(k->min <= k->def && k->def <= k->max,
                          "key %s: default %" PRId64 " outside [%" PRId64 ", %" PRId64 "]", k->key,
                          k->def, k->min, k->max);
        } else if (k->type == 'F') {
            ck_assert_msg(k->fmin <= k->fdef && k->fdef <= k->fmax, "key %s", k->key);
        } else {
            ck_assert_int_eq(k->type, 'S');
            /* def_text is the quoted literal; inside it no further quote */
            ck_assert_msg(!strchr(k->def_text + 1, '"') ||
                              strchr(k->def_text + 1, '"') == k->def_text + strlen(k->def_text) - 1,
                          "key %s: quote in default", k->key);
        }
    }
}
END_TEST

START_TEST(defaults_load_and_validate)
{
    d1_config c;
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    ck_assert_msg(d1_config_validate(&c) == D1_OK, "%s", d1_last_error());
    /* spot checks against D1-FACTS.md */
    ck_assert_int_eq(c.clock_mhz, 2000);
    ck_assert_int_eq(c.sram_bytes, 1310720);
    ck_assert_int_eq(c.link_bytes_per_cyc, 256);
    ck_assert_int_eq(c.mesh_cols * c.mesh_rows - d1_config_harvested(&c, NULL, 0), 354);
    ck_assert_str_eq(c.dip_edges, "w");
    d1_config_fini(&c);
    d1_config_fini(&c); /* idempotent */
}
END_TEST

/* Loop test over keys: min and max are accepted, one step outside is D1_E_CONFIG. */
START_TEST(range_edges)
{
    const cfgt_key *k = &cfgt_keys[_i];
    d1_config c;
    char a[256];
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    if (k->type == 'I') {
        snprintf(a, sizeof a, "%s=%" PRId64, k->key, k->min);
        CFGT_SET_OK(&c, a);
        ck_assert_int_eq(cfgt_get_i(&c, k), k->min);
        snprintf(a, sizeof a, "%s = %" PRId64, k->key, k->max);
        CFGT_SET_OK(&c, a);
        ck_assert_int_eq(cfgt_get_i(&c, k), k->max);
        snprintf(a, sizeof a, "%s=%" PRId64, k->key, k->min - 1);
        CFGT_EXPECT(d1_config_set(&c, a), D1_E_CONFIG, "out of range");
        ck_assert_msg(strstr(d1_last_error(), k->key), "%s", d1_last_error());
        snprintf(a, sizeof a, "[%" PRId64 ", %" PRId64 "]", k->min, k->max);
        ck_assert_msg(strstr(d1_last_error(), a), "%s lacks %s", d1_last_error(), a);
        snprintf(a, sizeof a, "%s=%" PRId64, k->key, k->max + 1);
        CFGT_EXPECT(d1_config_set(&c, a), D1_E_CONFIG, "out of range");
        ck_assert_int_eq(cfgt_get_i(&c, k), k->max); /* failed set changes nothing */
        snprintf(a, sizeof a, "%s=1.5", k->key);
        CFGT_EXPECT(d1_config_set(&c, a), D1_E_CONFIG, "not an integer");
        snprintf(a, sizeof a, "%s=%#" PRIx64, k->key, k->max);
        CFGT_SET_OK(&c, a); /* hex */
        ck_assert_int_eq(cfgt_get_i(&c, k), k->max);
    } else if (k->type == 'F') {
        snprintf(a, sizeof a, "%s=%.17g", k->key, k->fmin);
        CFGT_SET_OK(&c, a);
        ck_assert(cfgt_get_f(&c, k) == k->fmin);
        snprintf(a, sizeof a, "%s=%.17g", k->key, k->fmax);
        CFGT_SET_OK(&c, a);
        ck_assert(cfgt_get_f(&c, k) == k->fmax);
        snprintf(a, sizeof a, "%s=%.17g", k->key, k->fmin - 1);
        CFGT_EXPECT(d1_config_set(&c, a), D1_E_CONFIG, "out of range");
        snprintf(a, sizeof a, "%s=%.17g", k->key, k->fmax + 1);
        CFGT_EXPECT(d1_config_set(&c, a), D1_E_CONFIG, "out of range");
        snprintf(a, sizeof a, "%s=nan", k->key);
        CFGT_EXPECT(d1_config_set(&c, a), D1_E_CONFIG, "not a finite number");
    } else {
        snprintf(a, sizeof a, "%s=\"a b # c\"", k->key);
        CFGT_SET_OK(&c, a);
        ck_assert_str_eq(cfgt_get_s(&c, k), "a b # c");
        snprintf(a, sizeof a, "%s = \"\"", k->key);
        CFGT_SET_OK(&c, a);
        ck_assert_str_eq(cfgt_get_s(&c, k), "");
    }
    d1_config_fini(&c);
}
END_TEST

/* A value different from the default, as a --set assignment. */
static void other_value(const cfgt_key *k, char *a, size_t n)
{
    if (k->type == 'I')
        snprintf(a, n, "%s=%" PRId64, k->key, k->def != k->max ? k->max : k->min);
    else if (k->type == 'F')
        snprintf(a, n, "%s=%.17g", k->key, k->fdef != k->fmax ? k->fmax : k->fmin);
    else
        snprintf(a, n, "%s=\"%s\"", k->key, strcmp(k->def_text, "\"x 1,1\"") ? "x 1,1" : "y");
}

START_TEST(hash_follows_every_key)
{
    const cfgt_key *k = &cfgt_keys[_i];
    d1_config c, d;
    char a[256];
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    uint64_t h0 = d1_config_hash(&c);
    ck_assert_int_eq(d1_config_copy(&d, &c), D1_OK);
    ck_assert(d1_config_hash(&d) == h0);
    ck_assert(d1_config_equal(&c, &d));
    other_value(k, a, sizeof a);
    CFGT_SET_OK(&c, a);
    ck_assert_msg(d1_config_hash(&c) != h0, "hash ignores %s", k->key);
    ck_assert(!d1_config_equal(&c, &d));
    d1_config_fini(&c);
    d1_config_fini(&d);
}
END_TEST

START_TEST(hash_is_stable)
{
    /* The hash goes into ELF notes and caches: equal values, equal hash, whatever the
     * history of the struct (a key set to its current value changes nothing). */
    d1_config a, b;
    ck_assert_int_eq(d1_config_init(&a), D1_OK);
    ck_assert_int_eq(d1_config_init(&b), D1_OK);
    ck_assert(d1_config_hash(&a) == d1_config_hash(&b));
    CFGT_SET_OK(&b, "mesh_cols=18");
    ck_assert(d1_config_hash(&a) == d1_config_hash(&b));
    CFGT_SET_OK(&b, "mesh_cols=17");
    ck_assert(d1_config_hash(&a) != d1_config_hash(&b));
    d1_config_fini(&a);
    d1_config_fini(&b);
}
END_TEST

/* dump -> load gives the same config and hash; run with defaults and with every key moved
 * to a non-default value (_i = 0 / 1). */
START_TEST(dump_load_round_trip)
{
    d1_config c, d;
    char a[256];
    ck_assert_int_eq(d1_config_init(&c), D1_OK);
    if (_i)
        for (int i = 0; i < CFGT_NKEYS; i++) {
            other_value(&cfgt_keys[i], a, sizeof a);
            CFGT_SET_OK(&c, a);
        }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    d1_config_dump(&c, f);
    fclose(f);
    char *path = cfgt_file(buf);
    ck_assert_int_eq(d1_config_init(&d), D1_OK);
    d1_status st = d1_config_load_file(&d, path);
    ck_assert_msg(st == D1_OK, "%s\n%s", d1_last_error(), buf);
    ck_assert(d1_config_equal(&c, &d));
    ck_assert(d1_config_hash(&c) == d1_config_hash(&d));
    /* every key is written once, as `key = value  # unit [tag]` */
    for (int i = 0; i < CFGT_NKEYS; i++) {
        const cfgt_key *k = &cfgt_keys[i];
        char want[160];
        snprintf(want, sizeof want, "\n%s ", k->key);
        const char *line = strstr(buf, want);
        ck_assert_msg(line, "dump lacks %s", k->key);
        ck_assert_msg(!strstr(line + 1, want), "dump has %s twice", k->key);
        snprintf(want, sizeof want, "# %s%s[%s]\n", k->unit, *k->unit ? " " : "", k->tag);
        const char *eol = strchr(line + 1, '\n');
        ck_assert_msg(eol && !strncmp(eol - strlen(want) + 1, want, strlen(want)),
                      "dump line of %s lacks '%s'", k->key, want);
    }
    if (!_i)
        ck_assert_int_eq(d1_config_validate(&d), D1_OK);
    cfgt_rm(path);
    free(buf);
    d1_config_fini(&c);
    d1_config_fini(&d);
}
END_TEST

START_TEST(doc_lists_every_key)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    d1_config_write_doc(f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "| key | default | range | unit | tag | description |"));
    ck_assert_ptr_nonnull(strstr(buf, "**A** an assumption"));
    for (int i = 0; i < CFGT_NKEYS; i++) {
        char want[160];
        snprintf(want, sizeof want, "\n| `%s` | ", cfgt_keys[i].key);
        ck_assert_msg(strstr(buf, want), "doc lacks %s", cfgt_keys[i].key);
    }
    ck_assert_ptr_nonnull(strstr(buf, "| `sram_bytes` | 1310720 (1.25 MiB) | 65536 .. "));
    free(buf);
}
END_TEST

Suite *config_table_suite(void)
{
    Suite *s = suite_create("config_table");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, table_is_sane);
    tcase_add_test(tc, defaults_load_and_validate);
    tcase_add_loop_test(tc, range_edges, 0, CFGT_NKEYS);
    tcase_add_loop_test(tc, hash_follows_every_key, 0, CFGT_NKEYS);
    tcase_add_test(tc, hash_is_stable);
    tcase_add_loop_test(tc, dump_load_round_trip, 0, 2);
    tcase_add_test(tc, doc_lists_every_key);
    suite_add_tcase(s, tc);
    return s;
}
