/* A matmul test case: random operands (with signed zeros), the CPU backend's answer, and
 * helpers shared by the kernel and sim-backend tests. */
#ifndef D1_TEST_MM_CASE_H
#define D1_TEST_MM_CASE_H

#include "kernels/matmul.h"
#include "kernels/plan.h"
#include "sim/arch/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mm_case {
    d1k_matmul_desc op;
    void *a, *b, *c0;   /* stored operands (raw codes); c0 = C before (accumulate) */
    void *want;         /* C after, from the cpu backend (raw codes) */
    size_t lda, ldb, ldc;
} mm_case;

/* Build a case (asserts on failure). seed varies the data. */
void mm_case_init(mm_case *mc, const d1k_matmul_desc *op, uint32_t seed);
void mm_case_fini(mm_case *mc);
size_t mm_case_c_bytes(const mm_case *mc);
d1k_operand mm_case_a(const mm_case *mc);
d1k_operand mm_case_b(const mm_case *mc);

/* Host-array SRAM for nodes 0..n-1 (each `bytes` long), as a d1k_sram_io. */
typedef struct mm_sram {
    uint32_t n;
    size_t bytes;
    uint8_t **mem;
} mm_sram;
void mm_sram_init(mm_sram *s, uint32_t n, size_t bytes);
void mm_sram_fini(mm_sram *s);
d1k_sram_io mm_sram_io(mm_sram *s);

/* A small chip config: cols x rows nodes, no harvested positions (asserts). */
void mm_small_config(d1_config *cfg, int cols, int rows);
/* The same chips, cx x cy of them in one tile (a D1K_TARGET_SYSTEM target). */
void mm_small_system_config(d1_config *cfg, int cols, int rows, int cx, int cy);

#endif
