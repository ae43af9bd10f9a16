# Load / FP32 compute / store over 4 KiB: 64 blocks of 64 B, y = x * x + x.
.program main
.place 0-3
        li      x1, 0x1000      # src
        li      x2, 0x4000      # dst
        li      x3, 64          # blocks
loop:   vld     v1, 0(x1)
        vmul.f  v2, v1, v1
        vadd.f  v3, v2, v1
        vst     v3, 0(x2)
        addi    x1, x1, 64
        addi    x2, x2, 64
        addi    x3, x3, -1
        bne     x3, x0, loop
        vrsum.f x4, v3
        halt
.data 0x1000
        .float 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0
