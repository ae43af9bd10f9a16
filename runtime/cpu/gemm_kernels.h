/* Private to the CPU GEMM: the micro-kernel contract, the blocking table and the kernels.
 *
 * Structure (BLIS, flame/blis docs/KernelsHowTo.md): five loops around a micro-kernel.
 *
 *   for jc in [0,N) step NC
 *     for pc in [0,K) step KC            K blocks in ascending order; C is written back
 *       pack B(pc:pc+kc, jc:jc+nc) -> Bp   FP32, NR-wide micro-panels; the whole thread
 *       barrier                            team packs it once, into one shared buffer
 *       for ic in this thread's rows, step MC
 *         pack A(ic:ic+mc, pc:pc+kc) -> Ap FP32, MR-tall micro-panels, per thread, in L2
 *         for jr in this thread's columns of the block, step NR
 *           for ir in [0,mc) step MR
 *             ukr(kc, Ap[ir], Bp[jr], C[ic+ir][jc+jr])
 *       barrier                            before the next block overwrites Bp
 *
 * Packing decodes BF16/CFP8 to FP32 once, so the micro-kernels only ever see FP32.
 *
 * Micro-kernel contract (every ISA; d1r_gemm_ukr):
 *
 *   void ukr(int kc, const float *a, const float *b, float *c, size_t ldc, int load_c)
 *
 *   a    packed A micro-panel: a[k*MR + r] = op(A)(i0 + r, k0 + k), r < MR, k < kc.
 *        64-byte aligned. Rows past the edge of op(A) are zero (their outputs are
 *        discarded by the caller).
 *   b    packed B micro-panel: b[k*NR + j] = op(B)(k0 + k, j0 + j), j < NR, k < kc.
 *        64-byte aligned. Columns past the edge are zero.
 *   c    MR x NR FP32 tile, row-major with leading dimension ldc (elements). No
 *        alignment is assumed. Every element of the tile is read (if load_c) and written.
 *   kc   >= 1. Never padded: padding K would append fmaf(0, x, acc), which turns an
 *        acc of -0.0 into +0.0 and so breaks the numerics contract.
 *   load_c  nonzero: start each chain from c; zero: start from +0.0f.
 *
 *   Result, for each r, j:
 *       acc = start; for k = 0..kc-1: acc = fmaf(a[k*MR + r], b[k*NR + j], acc);
 *       c[r*ldc + j] = acc;
 *   That is all a kernel may do: vectorise across r or j (never across k), single-rounding
 *   FMA only (no separate multiply and add, no reassociation, no FTZ/DAZ). Because C is
 *   stored exactly between K blocks, blocking K keeps every output's fmaf chain intact.
 *   fmaf(a,b,acc) == fmaf(b,a,acc) bit for bit on finite inputs, so the operand order of the
 *   vector FMA does not matter; NaN payloads are outside the contract.
 *
 * Blocking sizes are data (gemm_blocking table in gemm.c): MC is a multiple of MR, NC of
 * NR. Edge tiles (fewer than MR rows or NR columns of C) go through an MR x NR scratch tile.
 */
#ifndef D1R_CPU_GEMM_KERNELS_H
#define D1R_CPU_GEMM_KERNELS_H

#include <stddef.h>

typedef void (*d1r_gemm_ukr)(int kc, const float *a, const float *b, float *c, size_t ldc,
                             int load_c);

typedef struct d1r_gemm_blocking {
    const char *isa;   /* "avx512", "avx2", "portable" */
    d1r_gemm_ukr ukr;  /* micro-kernel for MR x NR */
    int mr, nr;        /* register block */
    int mc, kc, nc;    /* cache blocks: A block mc x kc (per thread), B panel kc x nc */
    int (*supported)(void); /* can this machine run it */
} d1r_gemm_blocking;

/* Largest MR and NR over all kernels (sizes the scratch edge tile). */
#define D1R_GEMM_MR_MAX 16
#define D1R_GEMM_NR_MAX 32

/* Plain C, fmaf per element: runs anywhere and is the reference for the tuned kernels. */
void d1r_gemm_ukr_portable_4x16(int kc, const float *a, const float *b, float *c, size_t ldc,
                                int load_c);
/* AVX2 + FMA: 6 rows x 16 columns (2 ymm per row), 12 accumulators. */
void d1r_gemm_ukr_avx2_6x16(int kc, const float *a, const float *b, float *c, size_t ldc,
                            int load_c);
/* AVX-512F: 12 rows x 32 columns (2 zmm per row), 24 accumulators. */
void d1r_gemm_ukr_avx512_12x32(int kc, const float *a, const float *b, float *c, size_t ldc,
                               int load_c);

#endif
