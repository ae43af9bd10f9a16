/* d1 plan: explain how the kernel compiler maps an op onto a target (kernels/plan.h). */
#include "cli.h"
#include "kernels/matmul.h"
#include "kernels/plan.h"
#include "runtime/sim/sim_matmul.h"
#include "sim/elf/kelf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: d1 plan matmul M N K [options]\n"
    "Explain how C[M,N] = op(A)[M,K] op(B)[K,N] is compiled for a simulated target: node\n"
    "grid and per-node blocks, panels, SRAM use, bytes moved, predicted cycles and the bound\n"
    "(compute / SRAM / NoC / HBM). Nothing is simulated (d1 bench matmul runs it).\n"
    "\n"
    "  --dtype T          operand format(s): bf16 (default), cfp8, cfp8e5, or A,B (bf16,cfp8)\n"
    "  --out fp32|bf16    C format (default fp32)\n"
    "  --ta, --tb         op(A) = A^T, op(B) = B^T\n"
    "  --acc              accumulate into C\n"
    "  --sr               stochastic rounding of a BF16 C (default RNE)\n"
    "  --device D         sim, sim:chip (default), sim:<config file> (one chip), sim:tile or\n"
    "                     sim:tile:<config file> (every chip of the configured system)\n"
    "  --set key=value    override a configuration key (repeatable)\n"
    "  --kb N             panel depth (multiple of 8)\n"
    "  --grid RxC         node grid\n"
    "  --threads N        compute threads per node (1..3)\n"
    "  --chunk BYTES      chunk of the ring broadcasts (multiple of 64)\n"
    "  --hbm              operands in DIP HBM, streamed in by their owners (sim:tile...)\n"
    "  --emit-elf PATH    also compile the kernel and write its ELF (see d1 objdump)\n"
    "  --json             one JSON line instead of the explanation\n";

static int parse_dtypes(const char *s, d1_dtype *a, d1_dtype *b)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    char *comma = strchr(buf, ',');
    if (comma)
        *comma = '\0';
    if (d1_dtype_from_name(buf, a) != 0 || d1_dtype_from_name(comma ? comma + 1 : buf, b) != 0)
        return -1;
    return 0;
}

int d1_cmd_plan(int argc, char **argv)
{
    if (d1_cli_wants_help(argc, argv) || argc < 2) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    if (strcmp(argv[1], "matmul") != 0) {
        fprintf(stderr, "d1 plan: unknown op '%s' (only matmul is compiled today)\n", argv[1]);
        return 1;
    }
    d1k_matmul_desc op;
    memset(&op, 0, sizeof op);
    op.a_dtype = op.b_dtype = D1_BF16;
    op.c_dtype = D1_FP32;
    op.a_bias = op.b_bias = -1;
    d1k_plan_opts po;
    memset(&po, 0, sizeof po);
    const char *device = "sim:chip", *elf = NULL;
    const char *sets[64];
    int nsets = 0, json = 0, npos = 0;
    long long dims[3];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        long long v;
        if (!strcmp(a, "--ta")) op.trans_a = true;
        else if (!strcmp(a, "--tb")) op.trans_b = true;
        else if (!strcmp(a, "--acc")) op.accumulate = true;
        else if (!strcmp(a, "--sr")) op.round = D1_ROUND_STOCHASTIC;
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--hbm")) po.hbm = true;
        else if (a[0] == '-' && a[1] == '-' && !val) {
            fprintf(stderr, "d1 plan: %s needs a value (or is unknown; see --help)\n", a);
            return 1;
        } else if (!strcmp(a, "--dtype")) {
            if (parse_dtypes(val, &op.a_dtype, &op.b_dtype)) {
                fprintf(stderr, "d1 plan: bad --dtype '%s'\n", val);
                return 1;
            }
            i++;
        } else if (!strcmp(a, "--out")) {
            if (d1_dtype_from_name(val, &op.c_dtype)) {
                fprintf(stderr, "d1 plan: bad --out '%s'\n", val);
                return 1;
            }
            i++;
        } else if (!strcmp(a, "--device")) device = val, i++;
        else if (!strcmp(a, "--emit-elf")) elf = val, i++;
        else if (!strcmp(a, "--set")) {
            if (nsets < 64)
                sets[nsets++] = val;
            i++;
        } else if (!strcmp(a, "--kb")) {
            if (d1_cli_parse_i64("plan", "--kb", val, 8, 1 << 20, &v))
                return 1;
            po.kb = v;
            i++;
        } else if (!strcmp(a, "--threads")) {
            if (d1_cli_parse_i64("plan", "--threads", val, 1, 3, &v))
                return 1;
            po.cthreads = (int)v;
            i++;
        } else if (!strcmp(a, "--chunk")) {
            if (d1_cli_parse_i64("plan", "--chunk", val, 64, 1 << 24, &v))
                return 1;
            if (v % 64) {
                fprintf(stderr, "d1 plan: --chunk must be a multiple of 64\n");
                return 1;
            }
            po.chunk_bytes = (uint32_t)v;
            i++;
        } else if (!strcmp(a, "--grid")) {
            int r, c;
            if (sscanf(val, "%dx%d", &r, &c) != 2 || r < 1 || c < 1) {
                fprintf(stderr, "d1 plan: bad --grid '%s' (RxC)\n", val);
                return 1;
            }
            po.pr = r, po.pc = c;
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "d1 plan: unknown option '%s' (see d1 plan --help)\n", a);
            return 1;
        } else if (npos < 3) {
            if (d1_cli_parse_i64("plan", "a dimension", a, 1, 2147483647LL, &dims[npos]))
                return 1;
            npos++;
        } else {
            fprintf(stderr, "d1 plan: unexpected argument '%s'\n", a);
            return 1;
        }
    }
    if (npos != 3) {
        fprintf(stderr, "d1 plan: matmul needs M N K (see d1 plan --help)\n");
        return 1;
    }
    op.M = dims[0], op.N = dims[1], op.K = dims[2];
    op.a_bias = d1_fmt_bias(op.a_dtype, 0) >= 0 && d1_fmt(op.a_dtype)->fixed_bias < 0 ? 8 : 127;
    op.b_bias = d1_fmt_bias(op.b_dtype, 0) >= 0 && d1_fmt(op.b_dtype)->fixed_bias < 0 ? 8 : 127;
    d1_config cfg;
    d1_status st = d1r_sim_config(device, &cfg, &po.target);
    if (st != D1_OK)
        return d1_cli_fail("plan", st);
    int rc = 0;
    for (int i = 0; i < nsets && !rc; i++)
        if ((st = d1_config_set(&cfg, sets[i])) != D1_OK)
            rc = d1_cli_fail("plan", st);
    if (!rc && (st = d1_config_validate(&cfg)) != D1_OK)
        rc = d1_cli_fail("plan", st);
    d1k_plan p;
    if (!rc && (st = d1k_plan_matmul(&cfg, &op, &po, &p)) != D1_OK)
        rc = d1_cli_fail("plan", st);
    if (!rc) {
        if (json)
            d1k_plan_print_json(&p, stdout);
        else
            d1k_plan_print(&p, stdout);
    }
    if (!rc && elf) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        d1s_target t;
        d1s_kernel *k = NULL;
        if ((st = d1s_target_from_config(&cfg, &t)) != D1_OK ||
            (st = d1k_matmul_emit(&p, &t, &k)) != D1_OK ||
            (st = d1s_kelf_write_file(k, elf)) != D1_OK)
            rc = d1_cli_fail("plan", st);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (!rc && !json)
            printf("\nkernel: %s, %zu instructions in 1 program on %u nodes, compiled in %.2f ms\n",
                   elf, d1s_kernel_program(k, 0)->n_words, p.nodes,
                   (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
        d1s_kernel_destroy(k);
    }
    d1_config_fini(&cfg);
    return rc;
}
