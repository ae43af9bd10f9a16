# hello.s: a small kernel for the assembler, objdump and loader tests.
# Program `hello` runs on every node but the last ten: thread 0 sums 1..N into x5, stores
# it, doubles a vector of floats and halts. Program `tail` runs on the last ten nodes.

.equ N, 10
.equ OUT, 0x2000

.program hello
.place 0-8839
.data 0x1000                    # on every node of hello's placements
vals:   .float 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0
        .float 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0
table:  .word 0xdeadbeef, -1
        .half 7, 0xffff
        .byte 1, 2, 3, -4
        .bf16 1.5, -2.0
        .align 8
big:    .dword 0x123456789abcdef0
        .zero 16
.text
start:  li      x5, 0           # sum
        li      x6, N           # counter
loop:   add     x5, x5, x6
        addi    x6, x6, -1
        bnez    x6, loop
        li      x7, OUT
        sd      x5, 0(x7)
        la      x1, vals
        vld     v1, 0(x1)
        vadd.f  v2, v1, v1
        vst     v2, 64(x1)      # right after vals
        csrr    x8, nid
        li      x9, 0x123456789abcdef0
        spost   s0, 1
        swait   s0, 1
        call    done
        halt
done:   ret
.entry start

.program tail
.place 8840-8849
.data 0x0
        .word 42
.text
        mzero   m0
        trap    7
