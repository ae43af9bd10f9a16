# One node streams mma.bf16 into 8 accumulators: 100 iterations x 8 mma.
# Expected: 8 cycles per iteration (1 mma/cycle), halt waits lat_mma for the last one.
.program main
.place 0
        li      x1, 100
loop:   addi    x1, x1, -1
        mma.bf16 m0, v1, v2
        mma.bf16 m1, v1, v2
        mma.bf16 m2, v1, v2
        mma.bf16 m3, v1, v2
        mma.bf16 m4, v1, v2
        mma.bf16 m5, v1, v2
        mma.bf16 m6, v1, v2
        mma.bf16 m7, v1, v2
        bne     x1, x0, loop
        halt
