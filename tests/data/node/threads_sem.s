# Producer/consumer threads on one node: thread 1 computes, posts s0; thread 0 waits,
# then both meet at a barrier.
.program main
.place 0
        li      x1, 1
        la      x2, worker
        tstart  x1, x2
        swait   s0, 1
        bar
        halt
worker: li      x3, 0
        li      x4, 50
wl:     addi    x3, x3, 1
        mul     x5, x3, x3
        bne     x3, x4, wl
        spost   s0, 1
        bar
        halt
