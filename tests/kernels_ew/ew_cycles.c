/* Simulated cycles of every elementwise/reduction kernel at the training-step sizes
 * (batch 128 x 512 hidden, 128 x 10 logits), with the prediction of
 * d1k_ew_predict_cycles, as a Markdown table (doc/kernels.md). Not a test: a measurement.
 *   ew_cycles [mesh_cols mesh_rows [rows]] | ew_cycles chip */
#include "ew_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    ew_standalone = 1;
    ew_suggest = 1;
    char c0[32], c1[32];
    snprintf(c0, sizeof c0, "mesh_cols=%s", argc > 2 ? argv[1] : "4");
    snprintf(c1, sizeof c1, "mesh_rows=%s", argc > 2 ? argv[2] : "4");
    int64_t rows = argc > 3 ? atoll(argv[3]) : 128;
    const char *small[] = {c0, c1, "harvested=\"\"", NULL};
    const char *const *sets = small;
    if (argc == 2 && strcmp(argv[1], "chip") == 0)
        sets = NULL; /* the default chip: 18 x 20, 6 harvested, 354 nodes */
    static const ew_case cases[] = {
        {D1K_EW_BIAS_ADD, 0, 512, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_RELU, 0, 512, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_RELU_BACKWARD, 0, 512, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_COL_SUMS, 0, 512, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_COL_SUMS, 0, 10, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_ROW_SUMS, 0, 512, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_SOFTMAX_XENT, 0, 10, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_SOFTMAX_XENT_BACKWARD, 0, 10, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_ARGMAX, 0, 10, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_SCALE, 0, 512, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_AXPY, 0, 512, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_SGD, 0, 512, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_SGD_MOMENTUM, 0, 512, D1_FP32, D1_FP32, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_CAST, 0, 512, D1_FP32, D1_BF16, D1_ROUND_RNE, 0, 0, 0, 0, 0},
        {D1K_EW_CAST, 0, 512, D1_FP32, D1_BF16, D1_ROUND_STOCHASTIC, 0, 0, 0, 0, 0},
        {D1K_EW_CAST, 0, 512, D1_FP32, D1_CFP8_143, D1_ROUND_RNE, 0, 15, 0, 0, 0},
        {D1K_EW_CAST, 0, 512, D1_FP32, D1_CFP8_143, D1_ROUND_RNE, 0, -1, 0, 0, 0},
    };
    printf("| op | shape | nodes | cycles | predicted | instructions | bit-exact |\n");
    printf("|---|---|---|---|---|---|---|\n");
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ew_case c = cases[i];
        c.rows = rows;
        ew_result r;
        ew_run(sets, &c, 99, 0, 0, &r);
        const char *name = d1k_ew_info_of(c.kind)->name;
        char nm[64];
        if (c.kind == D1K_EW_CAST)
            snprintf(nm, sizeof nm, "%s fp32->%s%s%s", name, d1_dtype_name(c.out),
                     c.round == D1_ROUND_STOCHASTIC ? " SR" : "",
                     c.out_bias < 0 ? " (bias chosen on the device)" : "");
        else
            snprintf(nm, sizeof nm, "%s", name);
        printf("| %s | %lldx%lld | %u | %llu | %llu | %llu | %s |\n", nm, (long long)c.rows,
               (long long)c.cols, r.nodes, (unsigned long long)r.cycles,
               (unsigned long long)r.predicted, (unsigned long long)r.insns,
               r.mismatches ? "NO" : "yes");
        bad += r.mismatches != 0;
    }
    return bad ? 1 : 0;
}
