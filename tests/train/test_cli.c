/* `d1 train` end to end: help, one-line errors with exit 1, a short run on the default (sim)
 * device, a short
 * synthetic run and its files. Runs the executable named by $D1_EXE (set by meson). */
#include "train_test.h"

#include "runtime/d1r.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char dir[4096];
static char *out_text, *err_text;

static void setup(void)
{
    tt_mkdtemp(dir, sizeof dir);
}
static void teardown(void)
{
    tt_rmdir(dir);
    free(out_text);
    free(err_text);
    out_text = err_text = NULL;
}

/* Run d1 train with the NULL-terminated arguments; returns the exit status and leaves
 * stdout/stderr in out_text/err_text. */
static int run(const char *arg, ...)
{
    const char *exe = getenv("D1_EXE");
    ck_assert_msg(exe && *exe, "D1_EXE is not set (run through meson test)");
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)exe;
    argv[n++] = "train";
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a; a = va_arg(ap, const char *)) {
        ck_assert_int_lt(n, 62);
        argv[n++] = (char *)a;
    }
    va_end(ap);
    argv[n] = NULL;

    char outp[4200], errp[4200];
    snprintf(outp, sizeof outp, "%s/stdout", dir);
    snprintf(errp, sizeof errp, "%s/stderr", dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    ck_assert_int_eq(posix_spawn(&pid, exe, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    free(out_text);
    free(err_text);
    out_text = tt_read(outp, NULL);
    err_text = tt_read(errp, NULL);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(help)
{
    ck_assert_int_eq(run("--help", NULL), 0);
    static const char *const opts[] = {
        "--device", "--data",      "--synthetic", "--hidden",   "--dtype",      "--sr",
        "--optim",  "--lr",        "--momentum",  "--batch",    "--epochs",     "--steps",
        "--seed",   "--log-every", "--out",       "--no-plots", "--lr-schedule"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        ck_assert_msg(strstr(out_text, opts[i]), "help lacks %s", opts[i]);
    ck_assert_str_eq(err_text, "");
}
END_TEST

static const char *const bad_args[][3] = {
    {"--dtype", "int4", NULL},
    {"--optim", "adam", NULL},
    {"--hidden", "0", NULL},
    {"--hidden", "64,", NULL},
    {"--hidden", "1,2,3,4,5,6,7,8", NULL},
    {"--lr", "-1", NULL},
    {"--lr", "abc", NULL},
    {"--momentum", "1", NULL},
    {"--batch", "0", NULL},
    {"--epochs", "x", NULL},
    {"--steps", "-3", NULL},
    {"--bogus", NULL, NULL},
    {"--batch", NULL, NULL},
    {"stray", NULL, NULL},
    {"--sr=1", NULL, NULL},
    {"--log-every=0", NULL, NULL},
    {"--device", "", NULL},
    {"--device", "gpu", NULL},
    {"--lr-schedule", "linear", NULL},
};

START_TEST(bad_arguments)
{
    const char *const *a = bad_args[_i];
    ck_assert_int_eq(run(a[0], a[1], "--synthetic", NULL), 1);
    ck_assert_msg(lines(err_text) == 1, "stderr: '%s'", err_text);
    ck_assert_msg(!strncmp(err_text, "d1 train: ", 10), "stderr: '%s'", err_text);
}
END_TEST

/* The default device is the simulated tile; a short run on a simulator device prints the
 * simulated time split, simulated samples/s and matrix-unit utilisation, with no CPU
 * fallbacks; a bad simulator config is a one-line error. */
START_TEST(sim_device)
{
    char out[4200];
    snprintf(out, sizeof out, "%s/out", dir);
    ck_assert_int_eq(run("--synthetic", "--hidden", "16", "--batch", "32", "--steps", "2",
                         "--log-every", "1", "--out", out, "--no-plots", NULL),
                     0);
    ck_assert_msg(strstr(out_text, "device=sim:tile"), "stdout: %s", out_text);
    ck_assert_msg(strstr(out_text, "simulated:"), "stdout: %s", out_text);
    ck_assert_msg(strstr(out_text, "data movement"), "stdout: %s", out_text);
    ck_assert_msg(strstr(out_text, "matrix units"), "stdout: %s", out_text);
    ck_assert_msg(!strstr(out_text, "cpu-fallbacks"), "stdout: %s", out_text);
    ck_assert_int_eq(run("--device", "sim:/nonexistent/d1.cfg", "--synthetic", NULL), 1);
    ck_assert_msg(!strncmp(err_text, "d1 train: ", 10), "stderr: '%s'", err_text);
    ck_assert_int_eq(lines(err_text), 1);
}
END_TEST

START_TEST(missing_data)
{
    ck_assert_int_eq(run("--data", "/nonexistent/fm", NULL), 1);
    ck_assert_msg(strstr(err_text, "apt-get install dataset-fashion-mnist"), "stderr: '%s'",
                  err_text);
    ck_assert_int_eq(lines(err_text), 1);
}
END_TEST

static int exists(const char *name)
{
    char p[4200];
    struct stat sb;
    snprintf(p, sizeof p, "%s/out/%s", dir, name);
    return stat(p, &sb) == 0 && sb.st_size > 0;
}

START_TEST(synthetic_run)
{
    static const char *const dtypes[] = {"fp32", "bf16", "cfp8"};
    char out[4200];
    snprintf(out, sizeof out, "%s/out", dir);
    ck_assert_int_eq(run("--device", "cpu", "--synthetic", "--hidden", "32", "--batch=64",
                         "--steps", "12", "--log-every", "4", "--dtype", dtypes[_i], "--out", out,
                         "--no-plots", NULL),
                     0);
    ck_assert_msg(strstr(out_text, "test accuracy"), "stdout: %s", out_text);
    ck_assert_msg(!strstr(out_text, "simulated:"), "stdout: %s", out_text); /* cpu: no model */
    ck_assert_msg(strstr(out_text, "matmul"), "stdout: %s", out_text);
    ck_assert(exists("run.csv") && exists("epochs.csv") && exists("loss.dat") &&
              exists("loss.gp") && exists("ops.dat") && exists("ops.gp"));
    char p[4300];
    snprintf(p, sizeof p, "%s/run.csv", out);
    char *csv = tt_read(p, NULL);
    ck_assert_ptr_nonnull(csv);
    ck_assert_ptr_nonnull(strstr(csv, "\nstep,epoch,loss,lr,samples_per_s,"));
    ck_assert_ptr_nonnull(strstr(csv, "\n12,0,")); /* the last row: step 12 of epoch 0 */
    ck_assert_int_eq(lines(csv), 2 + 3);           /* config, header, steps 4, 8, 12 */
    free(csv);
}
END_TEST

/* With gnuplot installed the PNGs appear (skipped when it is not). */
START_TEST(plots)
{
    if (access("/usr/bin/gnuplot", X_OK) != 0)
        return;
    char out[4200];
    snprintf(out, sizeof out, "%s/out", dir);
    ck_assert_int_eq(
        run("--device", "cpu", "--synthetic", "--hidden", "16", "--steps", "5", "--out", out, NULL),
        0);
    ck_assert_msg(exists("loss.png") && exists("ops.png"), "stderr: %s", err_text);
}
END_TEST

Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("d1 train");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, help);
    tcase_add_loop_test(tc, bad_arguments, 0, (int)(sizeof bad_args / sizeof bad_args[0]));
    tcase_add_test(tc, sim_device);
    tcase_add_test(tc, missing_data);
    tcase_add_loop_test(tc, synthetic_run, 0, 3);
    tcase_add_test(tc, plots);
    suite_add_tcase(s, tc);
    return s;
}
