/* Guest faults: each gives the exact trap cause, thread, pc and detail; never a host crash. */
#include "harness.h"
#include "test_main.h"

#include <string.h>

static th h;

static const d1s_trap *run_expect(d1s_trap_cause cause, uint64_t pc, uint64_t detail)
{
    th_start(&h);
    th_run(&h, 10000);
    const d1s_trap *t = th_trap(&h);
    ck_assert_ptr_nonnull(t);
    ck_assert_msg(t->cause == cause, "cause %s, want %s", d1s_trap_name(t->cause),
                  d1s_trap_name(cause));
    ck_assert_uint_eq(t->pc, pc);
    ck_assert_uint_eq(t->detail, detail);
    ck_assert_int_eq(t->node, 0);
    return t;
}

START_TEST(trap_illegal_word)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, NOP, 0, 0, 0, 0);
    h.w[h.nw++] = 0xffffffffu; /* opcode 0xff: not an instruction */
    run_expect(D1S_TRAP_ILLEGAL, 4, 0xffffffffu);
    th_fini(&h);
}
END_TEST

START_TEST(trap_pc_out_of_program)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, ADDI, 1, 0, 0, 1);
    E(&h, ADDI, 1, 0, 0, 2); /* falls off the end */
    run_expect(D1S_TRAP_PC_RANGE, 8, 8);
    th_fini(&h);
}
END_TEST

START_TEST(trap_branch_out_of_program)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, BEQ, 0, 0, 0, -5);
    run_expect(D1S_TRAP_PC_RANGE, (uint64_t)-20, (uint64_t)-20);
    th_fini(&h);
}
END_TEST

START_TEST(trap_jump_misaligned)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, ADDI, 1, 0, 0, 6);
    E(&h, JALR, 0, 1, 0, 0);
    run_expect(D1S_TRAP_MISALIGNED, 4, 6);
    th_fini(&h);
}
END_TEST

START_TEST(trap_sram_range)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, LUI, 1, 0, 0, h.cfg.sram_bytes >> 13); /* x1 = sram_bytes */
    E(&h, LD, 3, 1, 0, -8);                      /* last 8 bytes: fine */
    E(&h, LD, 3, 1, 0, 0);
    run_expect(D1S_TRAP_SRAM_RANGE, 8, (uint64_t)h.cfg.sram_bytes);
    th_fini(&h);
}
END_TEST

START_TEST(trap_sram_range_vector_store)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, LUI, 1, 0, 0, h.cfg.sram_bytes >> 13);
    E(&h, MST, 0, 1, 0, -192); /* 256 B from sram_bytes - 192: crosses the end */
    run_expect(D1S_TRAP_SRAM_RANGE, 4, (uint64_t)h.cfg.sram_bytes - 192);
    th_fini(&h);
}
END_TEST

START_TEST(trap_misaligned_scalar)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, LW, 3, 0, 0, 8);
    E(&h, LD, 3, 0, 0, 4);
    run_expect(D1S_TRAP_MISALIGNED, 4, 4);
    th_fini(&h);
}
END_TEST

START_TEST(trap_misaligned_vector)
{
    th_init(&h, D1S_NODE_TIMING_ONLY, 1, NULL); /* checked in timing-only mode too */
    E(&h, VLD, 3, 0, 0, 32);
    run_expect(D1S_TRAP_MISALIGNED, 0, 32);
    th_fini(&h);
}
END_TEST

static void desc(uint8_t kind, uint32_t len, uint32_t node, uint8_t sem)
{
    uint8_t d[32] = {0};
    d[0] = kind;
    d[1] = sem;
    d[2] = 0xff;
    memcpy(d + 4, &len, 4);
    memcpy(d + 8, &node, 4);
    uint64_t la = 0x1000, ra = 0x2000;
    memcpy(d + 16, &la, 8);
    memcpy(d + 24, &ra, 8);
    ck_assert_int_eq(d1s_node_sram_write(h.n[0], 0x200, d, 32), D1_OK);
}

static void dma_prog(void)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 2, NULL);
    E(&h, NOP, 0, 0, 0, 0);
    E(&h, DMA, 0, 0, 0, 0x200);
    E(&h, HALT, 0, 0, 0, 0);
}

START_TEST(trap_dma_nonexistent_node)
{
    dma_prog();
    desc(D1_DMA_PUT, 64, 7, 0xff);
    run_expect(D1S_TRAP_DMA_NODE, 4, 7);
    th_fini(&h);
}
END_TEST

START_TEST(trap_dma_bad_descriptor)
{
    dma_prog();
    desc(D1_DMA_PUT, 0, 1, 0xff); /* zero length */
    run_expect(D1S_TRAP_DMA_DESC, 4, 0x200);
    th_fini(&h);
}
END_TEST

START_TEST(trap_dma_bad_kind)
{
    dma_prog();
    desc(9, 64, 1, 0xff);
    run_expect(D1S_TRAP_DMA_DESC, 4, 0x200);
    th_fini(&h);
}
END_TEST

START_TEST(trap_dma_bad_sem)
{
    dma_prog();
    desc(D1_DMA_PUT, 64, 1, 200);
    run_expect(D1S_TRAP_DMA_DESC, 4, 0x200);
    th_fini(&h);
}
END_TEST

START_TEST(trap_dma_hbm_unsupported)
{
    dma_prog();
    desc(D1_DMA_HBM_RD, 64, 0, 0xff);
    run_expect(D1S_TRAP_UNSUPPORTED, 4, D1_DMA_HBM_RD);
    th_fini(&h);
}
END_TEST

START_TEST(trap_instruction)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, NOP, 0, 0, 0, 0);
    E(&h, TRAP, 0, 0, 0, 4242);
    E(&h, HALT, 0, 0, 0, 0);
    const d1s_trap *t = run_expect(D1S_TRAP_GUEST, 4, 4242);
    ck_assert_int_eq(t->thread, 0);
    th_fini(&h);
}
END_TEST

START_TEST(trap_write_read_only_csr)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    /* the assembler refuses it: build the word by hand (imm14 = CSR number 0) */
    uint32_t w = th_enc(D1_OP_CSRW, 0, 0, 0, D1_CSR_SRSEED) & ~0x3fffu;
    h.w[h.nw++] = w;
    run_expect(D1S_TRAP_ILLEGAL, 0, w);
    th_fini(&h);
}
END_TEST

/* 262161 x spost 16383 > 2^32 - 1: the count must not wrap (which would later look like a
 * deadlock); the post that would overflow traps. */
START_TEST(trap_sem_overflow)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, LUI, 1, 0, 0, 32);      /* x1 = 32 << 13 = 262144 */
    E(&h, ADDI, 1, 1, 0, 17);     /* x1 = 262161 */
    E(&h, SPOST, 0, 0, 0, 16383); /* pc 8 */
    E(&h, ADDI, 1, 1, 0, -1);
    E(&h, BNE, 1, 0, 0, -2);
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    th_run(&h, 5000000);
    const d1s_trap *t = th_trap(&h);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(d1s_trap_name(t->cause), "sem-overflow");
    ck_assert_uint_eq(t->pc, 8);
    ck_assert_uint_eq(t->detail, 0);
    ck_assert_uint_eq(d1s_node_get_sem(h.n[0], 0), 262160u * 16383u);
    th_fini(&h);
}
END_TEST

START_TEST(trap_tstart_bad_thread)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, TSTART, 0, 0, 0, 0); /* thread 0 is running */
    run_expect(D1S_TRAP_ILLEGAL, 0, 0);
    th_fini(&h);
}
END_TEST

START_TEST(trap_in_thread_1)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, ADDI, 1, 0, 0, 2);
    E(&h, ADDI, 2, 0, 0, 16);
    E(&h, TSTART, 0, 1, 2, 0);
    E(&h, HALT, 0, 0, 0, 0);
    E(&h, TRAP, 0, 0, 0, 7);
    const d1s_trap *t = run_expect(D1S_TRAP_GUEST, 16, 7);
    ck_assert_int_eq(t->thread, 2);
    th_fini(&h);
}
END_TEST

START_TEST(halt_stops_thread)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, HALT, 0, 0, 0, 0);
    E(&h, TRAP, 0, 0, 0, 1); /* never reached */
    th_start(&h);
    uint64_t cyc = th_run(&h, 100);
    ck_assert_ptr_null(th_trap(&h));
    ck_assert(d1s_node_all_halted(h.n[0]));
    ck_assert_uint_eq(cyc, 1);
    ck_assert_uint_eq(d1s_node_get_stats(h.n[0])->insns, 1);
    th_fini(&h);
}
END_TEST

/* swait with nothing to post it: the node reports blocked with nothing in flight and no
 * event (the chip turns this into a deadlock trap, see the chip suite). */
START_TEST(blocked_node_reports_no_event)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    h.skip = 1;
    E(&h, SWAIT, 5, 0, 0, 1);
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    th_run(&h, 1000000);
    ck_assert(d1s_node_blocked(h.n[0]));
    ck_assert(d1s_node_dma_idle(h.n[0]));
    ck_assert_uint_eq(d1s_node_next_event(h.n[0], h.now), D1S_NO_EVENT);
    uint64_t pc;
    int sem;
    ck_assert_int_eq(d1s_node_first_blocked(h.n[0], &pc, &sem), 0);
    ck_assert_int_eq(sem, 5);
    ck_assert_uint_lt(h.now, 10); /* skipped, not spun */
    d1s_node_raise(h.n[0], D1S_TRAP_DEADLOCK, 0, 5, h.now);
    ck_assert_int_eq(d1s_node_trap(h.n[0])->cause, D1S_TRAP_DEADLOCK);
    th_fini(&h);
}
END_TEST

Suite *trap_suite(void)
{
    Suite *s = suite_create("node_trap");
    TCase *tc = tcase_create("traps");
    tcase_add_test(tc, trap_illegal_word);
    tcase_add_test(tc, trap_pc_out_of_program);
    tcase_add_test(tc, trap_branch_out_of_program);
    tcase_add_test(tc, trap_jump_misaligned);
    tcase_add_test(tc, trap_sram_range);
    tcase_add_test(tc, trap_sram_range_vector_store);
    tcase_add_test(tc, trap_misaligned_scalar);
    tcase_add_test(tc, trap_misaligned_vector);
    tcase_add_test(tc, trap_dma_nonexistent_node);
    tcase_add_test(tc, trap_dma_bad_descriptor);
    tcase_add_test(tc, trap_dma_bad_kind);
    tcase_add_test(tc, trap_dma_bad_sem);
    tcase_add_test(tc, trap_dma_hbm_unsupported);
    tcase_add_test(tc, trap_instruction);
    tcase_add_test(tc, trap_write_read_only_csr);
    tcase_add_test(tc, trap_tstart_bad_thread);
    tcase_add_test(tc, trap_sem_overflow);
    tcase_add_test(tc, trap_in_thread_1);
    tcase_add_test(tc, halt_stops_thread);
    tcase_add_test(tc, blocked_node_reports_no_event);
    suite_add_tcase(s, tc);
    return s;
}
