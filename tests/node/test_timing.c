/* Timing properties from simulated cycles (formulas, never wall time): matrix-unit
 * streaming, SRAM port budgets, issue widths, SMT, DMA, timing-only equality, skipping
 * idle cycles, determinism. */
#include "harness.h"
#include "test_main.h"

#include <string.h>

static th h; /* large: off the stack */

/* x1 = n; loop: addi x1,-1; mma x per_iter (accumulator acc or k % 8); bne; halt */
static void emit_mma_loop(th *t, int n, int per_iter, int same_acc)
{
    E(t, ADDI, 1, 0, 0, n);
    int top = t->nw;
    E(t, ADDI, 1, 1, 0, -1);
    for (int k = 0; k < per_iter; k++)
        E(t, MMABF, same_acc ? 0 : k % 8, 1 + k % 2, 3, 0);
    int br = t->nw;
    E(t, BNE, 1, 0, 0, top - br);
    E(t, HALT, 0, 0, 0, 0);
}

static void mma_stream(d1s_node_mode mode, int same_acc)
{
    const int n = 1000, per = 8;
    th_init(&h, mode, 1, NULL);
    emit_mma_loop(&h, n, per, same_acc);
    th_start(&h);
    uint64_t cyc = th_run(&h, 100000);
    ck_assert_ptr_null(th_trap(&h));
    const d1s_node_stats *st = d1s_node_get_stats(h.n[0]);
    /* cycle 0: x1 = n; iteration i issues at cycles 1+8i .. 8+8i (addi+mma, 6 x mma,
     * mma+bne); halt waits for the last mma (lat_mma) */
    uint64_t want = (uint64_t)per * n + (uint64_t)h.cfg.lat_mma + 1;
    ck_assert_uint_eq(cyc, want);
    ck_assert_uint_eq(st->mma, (uint64_t)per * n);
    double util = (double)st->mma / (double)cyc;
    ck_assert_msg(util >= 0.99, "matrix unit utilization %.4f", util);
    th_fini(&h);
}

START_TEST(mma_stream_distinct_acc)
{
    mma_stream(D1S_NODE_FUNCTIONAL, 0);
}
END_TEST
START_TEST(mma_stream_same_acc)
{
    mma_stream(D1S_NODE_FUNCTIONAL, 1);
}
END_TEST
START_TEST(mma_stream_timing_only)
{
    mma_stream(D1S_NODE_TIMING_ONLY, 0);
}
END_TEST

/* Operands streamed from SRAM: per iteration 8 x (vld A; mma) with B stationary, software
 * pipelined (A for iteration i+1 loaded during iteration i). 64 B/cycle of loads. */
START_TEST(mma_stream_from_sram)
{
    const int n = 500;
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, ADDI, 1, 0, 0, n);
    for (int k = 0; k < 8; k++)
        E(&h, VLD, 8 + k, 0, 0, 64 * k);
    int top = h.nw;
    E(&h, ADDI, 1, 1, 0, -1);
    for (int k = 0; k < 8; k++) {
        E(&h, MMABF, k, 8 + k, 3, 0);
        E(&h, VLD, 8 + k, 0, 0, 64 * ((k + 8) % 64));
    }
    E(&h, BNE, 1, 0, 0, top - h.nw);
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    uint64_t cyc = th_run(&h, 100000);
    const d1s_node_stats *st = d1s_node_get_stats(h.n[0]);
    double util = (double)st->mma / (double)cyc;
    ck_assert_msg(util >= 0.99, "utilization %.4f (%llu mma / %llu cycles)", util,
                  (unsigned long long)st->mma, (unsigned long long)cyc);
    th_fini(&h);
}
END_TEST

/* K straight-line 64 B loads with 4 AGUs: load k issues in cycle floor(64 k / 200). */
START_TEST(port_load_budget_binds)
{
    const int K = 256;
    const char *sets[] = {"agu_issue=4", NULL};
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, sets);
    for (int k = 0; k < K; k++)
        E(&h, VLD, k % 32, 0, 0, 64 * (k % 64));
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    uint64_t cyc = th_run(&h, 100000);
    uint64_t last = (uint64_t)(64 * (K - 1)) / (uint64_t)h.cfg.sram_load_bytes_per_cyc;
    ck_assert_uint_eq(cyc, last + (uint64_t)h.cfg.lat_load + 1);
    const d1s_node_stats *st = d1s_node_get_stats(h.n[0]);
    ck_assert_uint_eq(st->sram_load_bytes, 64u * K);
    ck_assert_uint_gt(st->thread[0].limit_cyc[D1S_STALL_PORT], 50);
    double bw = (double)st->sram_load_bytes / (double)(last + 1);
    ck_assert_msg(bw <= 200.0 && bw > 195.0, "load bandwidth %.1f B/cycle", bw);
    th_fini(&h);
}
END_TEST

/* With the default 2 AGUs, 64 B loads are issue-bound (128 B/cycle), not port-bound. */
START_TEST(port_load_default_issue_bound)
{
    const int K = 256;
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    for (int k = 0; k < K; k++)
        E(&h, VLD, k % 32, 0, 0, 64 * (k % 64));
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    uint64_t cyc = th_run(&h, 100000);
    ck_assert_uint_eq(cyc, (uint64_t)(K - 1) / 2 + (uint64_t)h.cfg.lat_load + 1);
    ck_assert_uint_eq(d1s_node_get_stats(h.n[0])->thread[0].stall_cyc[D1S_STALL_PORT], 0);
    th_fini(&h);
}
END_TEST

/* 256 B accumulator loads span cycles: mld k issues in cycle floor(256 k / 200). */
START_TEST(port_mld_spans_cycles)
{
    const int K = 64;
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    for (int k = 0; k < K; k++)
        E(&h, MLD, k % 8, 0, 0, 256 * (k % 32));
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    uint64_t cyc = th_run(&h, 100000);
    uint64_t last = (uint64_t)(256 * (K - 1)) / (uint64_t)h.cfg.sram_load_bytes_per_cyc;
    ck_assert_uint_eq(cyc, last + (uint64_t)h.cfg.lat_macc_move + 1);
    th_fini(&h);
}
END_TEST

/* Stores: 135 B/cycle; vst k issues in cycle floor(64 k / 135). */
START_TEST(port_store_budget_binds)
{
    const int K = 256;
    const char *sets[] = {"agu_issue=4", NULL};
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, sets);
    for (int k = 0; k < K; k++)
        E(&h, VST, k % 32, 0, 0, 64 * (k % 64));
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    uint64_t cyc = th_run(&h, 100000);
    uint64_t last = (uint64_t)(64 * (K - 1)) / (uint64_t)h.cfg.sram_store_bytes_per_cyc;
    ck_assert_uint_eq(cyc, last + 2); /* halt waits one cycle after the last store */
    ck_assert_uint_eq(d1s_node_get_stats(h.n[0])->sram_store_bytes, 64u * K);
    th_fini(&h);
}
END_TEST

/* Issue widths: 4 threads of independent addi share 2 ALUs -> 2 per cycle. */
START_TEST(smt_alu_issue_width)
{
    const int K = 100;
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    /* thread 0 starts threads 1..3 at `work`, then works itself */
    for (int t = 1; t < 4; t++) {
        E(&h, ADDI, 1, 0, 0, t);
        E(&h, ADDI, 2, 0, 0, 4 * 9); /* work */
        E(&h, TSTART, 0, 1, 2, 0);
    }
    ck_assert_int_eq(h.nw, 9);
    for (int k = 0; k < K; k++)
        E(&h, ADDI, 3 + k % 20, 0, 0, k);
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    uint64_t cyc = th_run(&h, 100000);
    const d1s_node_stats *st = d1s_node_get_stats(h.n[0]);
    ck_assert_uint_eq(st->insns, 9 + 4u * (K + 1) - 0);
    /* 4K addis at 2 per cycle is the lower bound; setup adds a few cycles */
    ck_assert_uint_ge(cyc, 2u * K);
    ck_assert_uint_le(cyc, 2u * K + 12);
    uint64_t issue_stall = 0;
    for (int t = 0; t < 4; t++)
        issue_stall += st->thread[t].stall_cyc[D1S_STALL_ISSUE];
    ck_assert_uint_gt(issue_stall, 0);
    th_fini(&h);
}
END_TEST

/* Scalar dependency chain: one instruction per lat_alu; mul chain per lat_mul. */
START_TEST(scoreboard_chains)
{
    const int K = 50;
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    for (int k = 0; k < K; k++)
        E(&h, MUL, 1, 1, 1, 0);
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    uint64_t cyc = th_run(&h, 100000);
    ck_assert_uint_eq(cyc, (uint64_t)K * (uint64_t)h.cfg.lat_mul + 1);
    ck_assert_uint_eq(d1s_node_get_stats(h.n[0])->thread[0].stall_cyc[D1S_STALL_SCOREBOARD],
                      (uint64_t)K * ((uint64_t)h.cfg.lat_mul - 1));
    th_fini(&h);
}
END_TEST

/* descriptor at 0x200 built by the host */
static void put_desc(th *t, int node, uint64_t at, uint8_t kind, uint8_t sl, uint8_t sr,
                     uint32_t len, uint32_t dst, uint64_t la, uint64_t ra)
{
    uint8_t d[32] = {0};
    d[0] = kind;
    d[1] = sl;
    d[2] = sr;
    memcpy(d + 4, &len, 4);
    memcpy(d + 8, &dst, 4);
    memcpy(d + 16, &la, 8);
    memcpy(d + 24, &ra, 8);
    ck_assert_int_eq(d1s_node_sram_write(t->n[node], at, d, 32), D1_OK);
}

/* node 0 PUTs 4 KiB to node 1 and GETs 1 KiB back; both wait on semaphores. */
static uint64_t dma_pingpong(d1s_node_mode mode, int skip)
{
    th_init(&h, mode, 2, NULL);
    h.skip = skip;
    /* program: node id in x5; node 0: dma put; dma get; swait s1,2 (local completions);
     * node 1: swait s2,1 (arrival of the put); halt */
    E(&h, CSRR, 5, 0, 0, D1_CSR_NID);
    E(&h, BNE, 5, 0, 0, 5);
    E(&h, DMA, 0, 0, 0, 0x200);
    E(&h, DMA, 0, 0, 0, 0x220);
    E(&h, SWAIT, 1, 0, 0, 2);
    E(&h, HALT, 0, 0, 0, 0);
    E(&h, SWAIT, 2, 0, 0, 1);
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    put_desc(&h, 0, 0x200, D1_DMA_PUT, 1, 2, 4096, 1, 0x10000, 0x20000);
    put_desc(&h, 0, 0x220, D1_DMA_GET, 1, 0xff, 1024, 1, 0x30000, 0x40000);
    static uint8_t src[4096], back[1024];
    for (int i = 0; i < 4096; i++)
        src[i] = (uint8_t)(i * 13 + 1);
    for (int i = 0; i < 1024; i++)
        back[i] = (uint8_t)(i * 5 + 2);
    ck_assert_int_eq(d1s_node_sram_write(h.n[0], 0x10000, src, sizeof src), D1_OK);
    ck_assert_int_eq(d1s_node_sram_write(h.n[1], 0x40000, back, sizeof back), D1_OK);
    th_run(&h, 100000);
    ck_assert_ptr_null(th_trap(&h));
    ck_assert(d1s_node_all_halted(h.n[0]) && d1s_node_all_halted(h.n[1]));
    if (mode == D1S_NODE_FUNCTIONAL) {
        static uint8_t got[4096];
        ck_assert_int_eq(d1s_node_sram_read(h.n[1], 0x20000, got, sizeof src), D1_OK);
        ck_assert_mem_eq(got, src, sizeof src);
        ck_assert_int_eq(d1s_node_sram_read(h.n[0], 0x30000, got, sizeof back), D1_OK);
        ck_assert_mem_eq(got, back, sizeof back);
    }
    const d1s_node_stats *s0 = d1s_node_get_stats(h.n[0]);
    ck_assert_uint_eq(s0->dma_out_bytes, 4096);
    ck_assert_uint_eq(s0->dma_in_bytes, 1024);
    uint64_t c = h.now;
    th_fini(&h);
    return c;
}

START_TEST(dma_put_get)
{
    uint64_t a = dma_pingpong(D1S_NODE_FUNCTIONAL, 0);
    /* the PUT: 64 packets at 64 B/cycle after dma_setup_cyc, then the GET request,
     * 16 responses back over the network (fixed latency TH_NET_LAT each way) */
    ck_assert_uint_ge(a, 8u + 64 + 2 * TH_NET_LAT + 16);
    uint64_t b = dma_pingpong(D1S_NODE_TIMING_ONLY, 0);
    uint64_t c = dma_pingpong(D1S_NODE_FUNCTIONAL, 1);
    ck_assert_uint_eq(a, b); /* timing-only: same cycles */
    ck_assert_uint_eq(a, c); /* skipping idle cycles: same cycles */
}
END_TEST

/* The DMA queue fills: dma_queue_depth descriptors, the next dma stalls (dmaq). */
START_TEST(dma_queue_full_stalls)
{
    const char *sets[] = {"dma_queue_depth=2", NULL};
    th_init(&h, D1S_NODE_FUNCTIONAL, 2, sets);
    for (int k = 0; k < 6; k++)
        E(&h, DMA, 0, 0, 0, 0x200);
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    put_desc(&h, 0, 0x200, D1_DMA_PUT, 0xff, 0xff, 1024, 1, 0x1000, 0x1000);
    put_desc(&h, 1, 0x200, D1_DMA_PUT, 0xff, 0xff, 1024, 0, 0x1000, 0x1000);
    th_run(&h, 100000);
    ck_assert_ptr_null(th_trap(&h));
    ck_assert_uint_gt(d1s_node_get_stats(h.n[0])->thread[0].stall_cyc[D1S_STALL_DMAQ], 0);
    ck_assert_uint_eq(d1s_node_get_stats(h.n[0])->dma_out_bytes, 6 * 1024);
    th_fini(&h);
}
END_TEST

/* Semaphore handshake between threads; the waiting thread does not spin. */
START_TEST(sem_between_threads)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, ADDI, 1, 0, 0, 1);
    E(&h, ADDI, 2, 0, 0, 4 * 6);
    E(&h, TSTART, 0, 1, 2, 0);
    E(&h, SWAIT, 0, 0, 0, 1); /* thread 0 waits for thread 1 */
    E(&h, BAR, 0, 0, 0, 0);
    E(&h, HALT, 0, 0, 0, 0);
    /* thread 1 at 24: 200 dependent adds, spost, bar, halt */
    for (int k = 0; k < 200; k++)
        E(&h, ADDI, 3, 3, 0, 1);
    E(&h, SPOST, 0, 0, 0, 1);
    E(&h, BAR, 0, 0, 0, 0);
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    uint64_t cyc = th_run(&h, 100000);
    ck_assert_ptr_null(th_trap(&h));
    const d1s_node_stats *st = d1s_node_get_stats(h.n[0]);
    ck_assert_uint_eq(d1s_node_get_x(h.n[0], 1, 3), 200);
    ck_assert_uint_ge(st->thread[0].stall_cyc[D1S_STALL_SEM], 190);
    ck_assert_uint_ge(cyc, 200);
    ck_assert_uint_le(cyc, 215);
    ck_assert_uint_eq(st->insns, 6 + 203);
    th_fini(&h);
}
END_TEST

/* Same program twice -> identical statistics. */
START_TEST(deterministic)
{
    d1s_node_stats a, b;
    for (int r = 0; r < 2; r++) {
        th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
        E(&h, ADDI, 1, 0, 0, 3);
        E(&h, ADDI, 2, 0, 0, 4 * 5);
        E(&h, TSTART, 0, 1, 2, 0);
        emit_mma_loop(&h, 50, 8, 0);
        th_start(&h);
        th_run(&h, 100000);
        memcpy(r ? &b : &a, d1s_node_get_stats(h.n[0]), sizeof a);
        th_fini(&h);
    }
    ck_assert_mem_eq(&a, &b, sizeof a);
}
END_TEST

/* SRAM is allocated lazily: memory follows what is touched. */
START_TEST(sram_lazy)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    ck_assert_uint_eq(d1s_node_sram_resident_bytes(h.n[0]), 0);
    uint8_t z[16], one = 1;
    ck_assert_int_eq(d1s_node_sram_read(h.n[0], 0x12345, z, sizeof z), D1_OK);
    ck_assert_uint_eq(d1s_node_sram_resident_bytes(h.n[0]), 0);
    ck_assert_int_eq(d1s_node_sram_write(h.n[0], 0x12345, &one, 1), D1_OK);
    ck_assert_uint_eq(d1s_node_sram_resident_bytes(h.n[0]), 65536);
    ck_assert_int_eq(d1s_node_sram_write(h.n[0], (uint64_t)h.cfg.sram_bytes, &one, 1), D1_E_RANGE);
    th_fini(&h);
}
END_TEST

Suite *timing_suite(void)
{
    Suite *s = suite_create("node_timing");
    TCase *tc = tcase_create("timing");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, mma_stream_distinct_acc);
    tcase_add_test(tc, mma_stream_same_acc);
    tcase_add_test(tc, mma_stream_timing_only);
    tcase_add_test(tc, mma_stream_from_sram);
    tcase_add_test(tc, port_load_budget_binds);
    tcase_add_test(tc, port_load_default_issue_bound);
    tcase_add_test(tc, port_mld_spans_cycles);
    tcase_add_test(tc, port_store_budget_binds);
    tcase_add_test(tc, smt_alu_issue_width);
    tcase_add_test(tc, scoreboard_chains);
    tcase_add_test(tc, dma_put_get);
    tcase_add_test(tc, dma_queue_full_stalls);
    tcase_add_test(tc, sem_between_threads);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, sram_lazy);
    suite_add_tcase(s, tc);
    return s;
}

/* Packets of a transfer may arrive in any order: the semaphore is posted once every byte
 * of the transfer has arrived (many interleaved transfers exercise the arrival table). */
START_TEST(dma_arrival_out_of_order)
{
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, NULL);
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    enum { XF = 300, PK = 3 };
    static d1s_pkt p[XF * PK];
    int n = 0;
    for (int x = 0; x < XF; x++)
        for (int k = 0; k < PK; k++) {
            d1s_pkt *q = &p[n++];
            memset(q, 0, sizeof *q);
            q->kind = D1S_PKT_PUT;
            q->sem = (uint8_t)(x % 4);
            q->len_bytes = k < PK - 1 ? 64 : 10;
            q->src = (uint32_t)(x % 7);
            q->dst = 0;
            q->xfer_id = (uint32_t)x;
            q->xfer_len = 64 * (PK - 1) + 10;
            q->addr = 0x1000 + 256 * (uint64_t)x + 64 * (uint64_t)k;
            memset(q->data, x & 0xff, sizeof q->data);
        }
    /* deterministic scramble: last packets first for even transfers, stride permutation */
    uint32_t posted = 0;
    for (int i = 0; i < n; i++) {
        int j = (int)(((uint64_t)i * 7919u) % (uint64_t)n);
        ck_assert_int_eq(d1s_node_deliver(h.n[0], &p[j], 1000 + (uint64_t)i), 1);
    }
    for (int s = 0; s < 4; s++)
        posted += d1s_node_get_sem(h.n[0], s);
    ck_assert_uint_eq(posted, XF);
    for (int s = 0; s < 4; s++)
        ck_assert_uint_eq(d1s_node_get_sem(h.n[0], s), XF / 4);
    /* a transfer missing one packet posts nothing */
    d1s_pkt q = p[0];
    q.xfer_id = 99999;
    q.sem = 9;
    ck_assert_int_eq(d1s_node_deliver(h.n[0], &q, 5000), 1);
    ck_assert_uint_eq(d1s_node_get_sem(h.n[0], 9), 0);
    th_fini(&h);
}
END_TEST

/* Decode limits: 4 threads x K independent addi with 8 ALUs; decode_width bounds the
 * instructions per cycle, decode_threads the threads per cycle. */
static uint64_t smt_run(const char *const *sets, uint64_t *insns)
{
    const int K = 96;
    th_init(&h, D1S_NODE_FUNCTIONAL, 1, sets);
    for (int t = 1; t < 4; t++) {
        E(&h, ADDI, 1, 0, 0, t);
        E(&h, ADDI, 2, 0, 0, 4 * 9);
        E(&h, TSTART, 0, 1, 2, 0);
    }
    for (int k = 0; k < K; k++)
        E(&h, ADDI, 3 + k % 24, 0, 0, k);
    E(&h, HALT, 0, 0, 0, 0);
    th_start(&h);
    uint64_t cyc = th_run(&h, 100000);
    *insns = d1s_node_get_stats(h.n[0])->insns;
    th_fini(&h);
    return cyc;
}

START_TEST(decode_limits)
{
    uint64_t i1, i2, i3;
    const char *wide[] = {"alu_issue=8", "decode_width=8", "decode_threads=2", NULL};
    const char *narrow[] = {"alu_issue=8", "decode_width=4", "decode_threads=2", NULL};
    const char *one[] = {"alu_issue=8", "decode_width=8", "decode_threads=1", NULL};
    uint64_t a = smt_run(wide, &i1), b = smt_run(narrow, &i2), c = smt_run(one, &i3);
    ck_assert_uint_eq(i1, 9 + 4 * 97);
    ck_assert_uint_eq(i1, i2);
    ck_assert_uint_eq(i1, i3);
    /* 4 x 96 addi: >= 48 cycles at 8 per cycle, >= 96 at 4 per cycle */
    ck_assert_uint_ge(a, 48);
    ck_assert_uint_le(a, 48 + 12);
    ck_assert_uint_ge(b, 96);
    ck_assert_uint_le(b, 96 + 12);
    /* one thread per cycle still fills 8 slots: same as wide within the setup cycles */
    ck_assert_uint_le(c, a + 8);
}
END_TEST

Suite *timing2_suite(void)
{
    Suite *s = suite_create("node_dma");
    TCase *tc = tcase_create("dma");
    tcase_add_test(tc, dma_arrival_out_of_order);
    tcase_add_test(tc, decode_limits);
    suite_add_tcase(s, tc);
    return s;
}
