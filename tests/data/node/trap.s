# A guest trap: d1 run reports it and exits 3.
.program main
.place 0
        li      x1, 1
        trap    77
        halt
