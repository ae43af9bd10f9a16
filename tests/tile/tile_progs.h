/* Node programs shared by the tile tests (test_tile.c, test_tile_mpi.c). */
#ifndef D1_TEST_TILE_PROGS_H
#define D1_TEST_TILE_PROGS_H

/* Every node writes 4 KiB from SRAM 0x10000 to DIP 4's HBM at 0x40000000 (HBM_WR, semaphore
 * 1), then reads it back to 0x30000 (HBM_RD, semaphore 2). */
static const char hbm_src[] = ".program main\n.place all\n"
                              "        li   x8, 0x00ff0103\n" /* HBM_WR, sem_local 1 */
                              "        li   x9, 4096\n"
                              "        slli x9, x9, 32\n"
                              "        or   x8, x8, x9\n"
                              "        sd   x8, 0x200(x0)\n"
                              "        li   x8, 4\n" /* DIP 4 */
                              "        sd   x8, 0x208(x0)\n"
                              "        li   x8, 0x10000\n"
                              "        sd   x8, 0x210(x0)\n"
                              "        li   x8, 0x40000000\n"
                              "        sd   x8, 0x218(x0)\n"
                              "        dma  0x200(x0)\n"
                              "        swait s1, 1\n"
                              "        li   x8, 0x00ff0202\n" /* HBM_RD, sem_local 2 */
                              "        or   x8, x8, x9\n"
                              "        sd   x8, 0x240(x0)\n"
                              "        li   x8, 4\n"
                              "        sd   x8, 0x248(x0)\n"
                              "        li   x8, 0x30000\n"
                              "        sd   x8, 0x250(x0)\n"
                              "        li   x8, 0x40000000\n"
                              "        sd   x8, 0x258(x0)\n"
                              "        dma  0x240(x0)\n"
                              "        swait s2, 1\n"
                              "        halt\n";

#endif
