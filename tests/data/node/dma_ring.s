# Every node PUTs 1 KiB to the next node id (a ring over all nodes of the chip) and waits
# for its neighbour's data (remote semaphore s2) and its own completion (s1).
.equ NODES, 354
.program main
.place all
        csrr    x5, nid
        addi    x6, x5, 1
        li      x7, NODES
        bne     x6, x7, skip
        li      x6, 0
skip:   # descriptor at 0x200: kind PUT, sem_local 1, sem_remote 2, len 1024
        li      x8, 0x00020100
        li      x9, 1024
        slli    x9, x9, 32
        or      x8, x8, x9
        sd      x8, 0x200(x0)
        sd      x6, 0x208(x0)       # node (pad1 = 0)
        li      x8, 0x10000
        sd      x8, 0x210(x0)       # local address
        li      x8, 0x20000
        sd      x8, 0x218(x0)       # remote address
        dma     0x200(x0)
        swait   s1, 1
        swait   s2, 1
        halt
