#!/bin/sh
# Bad input to every d1 subcommand: each case gives the exit status and a substring of
# stderr it must produce. Never a signal (exit >= 128), never a hang (timeout), never a
# silent success. Guest programs that misbehave stop with a trap report (exit 3) or at
# --max-cycles (exit 4). Long-running commands (bench, train, net) get only bad arguments.
# usage: bad_input.sh D1
d1=$1
case $d1 in /*) ;; *) d1=$(pwd)/$d1 ;; esac
dir=$(mktemp -d /tmp/d1-bad-input.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
fails=0
cases=0
to=
command -v timeout > /dev/null 2>&1 && to="timeout 20"

# t CODE 'STDERR SUBSTRING' ARGS...: run d1 ARGS (in $dir) and check.
t() {
    code=$1; want=$2; shift 2
    cases=$((cases + 1))
    (cd "$dir" && $to "$d1" "$@" > "$dir/out" 2> "$dir/err")
    got=$?
    if [ "$got" -ge 124 ] || [ "$got" -ne "$code" ] ||
        { [ -n "$want" ] && ! grep -qF -- "$want" "$dir/err"; }; then
        echo "FAIL: d1 $*: exit $got (want $code), stderr should contain '$want':" >&2
        head -c 600 "$dir/err" >&2
        fails=$((fails + 1))
    fi
}
# prog NAME BODY: a one-node program NAME.s in $dir
prog() {
    printf '.program main\n.place 0\n%s\n' "$2" > "$dir/$1.s"
}

# ---- fixtures ---------------------------------------------------------------------------
mkdir "$dir/adir"
: > "$dir/empty"
printf 'garbage\000\001\002\377 more\n' > "$dir/garbage"
prog ok ' li x1, 1
 halt'
prog trap ' trap 77'
prog loop 'l: j l'
prog jumpout ' li x1, 0x100000
 jalr x0, x1, 0'
prog fallthrough ' nop'
prog misvld ' li x1, 3
 vld v1, 0(x1)
 halt'
prog farld ' li x1, 0x7ffffff8
 ld x2, 0(x1)
 halt'
prog swait ' swait s0, 1
 halt'
prog csrw ' csrw cycle, x1
 halt'
prog rawcsrw ' .word 0x43000000
 halt'
prog tstart ' li x1, 7
 tstart x1, x0
 halt'
# a DMA PUT of 1 KiB to node 9999 (descriptor at 0x200: kind PUT, sems 1/2, length)
prog dma9999 ' li x8, 0x00020100
 li x9, 1024
 slli x9, x9, 32
 or x8, x8, x9
 sd x8, 0x200(x0)
 li x6, 9999
 sd x6, 0x208(x0)
 li x8, 0x10000
 sd x8, 0x210(x0)
 li x8, 0x20000
 sd x8, 0x218(x0)
 dma 0x200(x0)
 swait s1, 1
 halt'
awk 'BEGIN { printf ".program main\n.place 0\n li x1, ";
             for (i = 0; i < 5000; i++) printf "(";
             printf "1"; for (i = 0; i < 5000; i++) printf ")"; printf "\n halt\n" }' \
    > "$dir/deep.s"
awk 'BEGIN { printf ".program main\n.place 0\n li x1, ";
             for (i = 0; i < 100000; i++) printf "-"; printf "1\n halt\n" }' > "$dir/unary.s"
awk 'BEGIN { printf ".program main\n.place 0\n";
             for (i = 0; i < 20000; i++) printf "l%d: addi x1, x1, 1\n", i;
             for (i = 0; i < 20000; i += 97) printf " j l%d\n", i; print " halt" }' \
    > "$dir/labels.s"
awk 'BEGIN { printf ".program main\n.place 0\n nop";
             for (i = 0; i < 200000; i++) printf " "; printf "\n halt\n" }' > "$dir/longline.s"
awk 'BEGIN { printf ".program main\n.place 0\n ";
             for (i = 0; i < 100000; i++) printf "a"; printf "\n halt\n" }' > "$dir/longtok.s"
printf '.program main\n.place 0\n nop\000\n halt\n' > "$dir/nul.s"
printf '.program main\n.place 0\nh\303\251llo: nop # caf\303\251 \342\230\203\n halt\n' \
    > "$dir/unicode.s"
printf '.program main\n.place 0\nx: nop\nx: halt\n' > "$dir/dup.s"
printf '.program main\n.place 0\n j nowhere\n' > "$dir/undef.s"
printf '.program main\n.place 0\n.data 0\n .zero 99999999999\n.text\n halt\n' > "$dir/zero.s"
printf '.program main\n.place 0\n li x1, 1/0\n halt\n' > "$dir/div0.s"
printf '.program main\n.place 0-999999\n halt\n' > "$dir/place.s"
printf 'noc_vcs\n' > "$dir/noeq.cfg"
printf 'noc_vcs = 99\n' > "$dir/range.cfg"
printf 'bogus_key = 1\n' > "$dir/unknown.cfg"
"$d1" as "$dir/ok.s" -o "$dir/ok.elf" 2> "$dir/err" || { cat "$dir/err" >&2; exit 1; }
head -c 40 "$dir/ok.elf" > "$dir/trunc40.elf"
head -c 300 "$dir/ok.elf" > "$dir/trunc300.elf"

# ---- top level and version ------------------------------------------------------------------
t 2 'usage: d1 <command>'
t 2 "unknown command 'frob'" frob
t 2 "unknown command '--frob'" --frob
t 0 '' --help
t 0 '' version
t 1 "unexpected argument 'x'" version x
t 2 "unknown command 'frob'" help frob
t 2 'want at most one command' help run x
t 2 "unexpected argument 'run' after --help" --help run
for c in as bench config isa net objdump plan run train version; do
    t 0 '' $c --help
    t 0 '' help $c
    grep -q "usage: d1 $c" "$dir/out" || { echo "FAIL: d1 help $c" >&2; fails=$((fails + 1)); }
done

# ---- d1 as ------------------------------------------------------------------------------
t 1 'missing input file' as
t 1 'missing -o OUT.elf' as ok.s
t 1 '-o needs a value' as ok.s -o
t 1 "unknown option '--frob'" as ok.s -o x.elf --frob
t 1 'more than one input file' as ok.s ok.s -o x.elf
t 1 'No such file or directory' as missing.s -o x.elf
t 1 'adir: Is a directory' as adir -o x.elf
t 1 'no .program in the source' as empty -o x.elf
t 1 'NUL byte in source' as garbage -o x.elf
t 1 'NUL byte in source' as nul.s -o x.elf
t 1 'unknown mnemonic' as unicode.s -o x.elf
t 1 'unknown mnemonic' as longtok.s -o x.elf
t 0 '' as longline.s -o long.elf
t 1 'expression nested more than' as deep.s -o x.elf
t 1 'expression nested more than' as unary.s -o x.elf
t 0 '' as labels.s -o labels.elf
t 1 "dup.s:4: duplicate symbol 'x'" as dup.s -o x.elf
t 1 "undefined symbol 'nowhere'" as undef.s -o x.elf
t 1 "'.zero' count 99999999999 out of range" as zero.s -o x.elf
t 1 'division by zero' as div0.s -o x.elf
t 1 'out of range' as place.s -o x.elf
t 1 "CSR 'cycle' is read-only" as csrw.s -o x.elf
t 1 "CSR 'cycle' is read-only" as rawcsrw.s -o x.elf
t 1 'adir: Is a directory' as ok.s -o adir
t 1 'No such file or directory' as ok.s -o missing-dir/x.elf
t 1 "output 'ok.s' is the input file" as ok.s -o ok.s
t 1 "output './ok.s' is the input file" as ok.s -o ./ok.s
t 1 "missing '='" as ok.s -o x.elf --set noc_vcs
t 1 '--set needs a value' as ok.s -o x.elf --set
t 1 'No such file or directory' as ok.s -o x.elf --config missing.cfg
[ -e "$dir/x.elf" ] && { echo "FAIL: d1 as wrote x.elf on error" >&2; fails=$((fails + 1)); }
if [ -c /dev/zero ]; then
    t 1 'NUL byte in source' as /dev/zero -o x.elf
    t 1 'not an ELF file' objdump /dev/zero
    t 1 'NUL byte in line' config check /dev/zero
fi
# a full disk on standard output is an error, not a silent success
if [ -c /dev/full ] && [ -w /dev/full ]; then
    for c in 'config dump' 'isa doc' version; do
        cases=$((cases + 1))
        "$d1" $c > /dev/full 2> "$dir/err"
        got=$?
        if [ "$got" -ne 1 ] || ! grep -q 'error writing standard output' "$dir/err"; then
            echo "FAIL: d1 $c > /dev/full: exit $got" >&2
            fails=$((fails + 1))
        fi
    done
fi
# an output that cannot seek (a pipe) is written, and not deleted
if mkfifo "$dir/fifo" 2> /dev/null; then
    ($to cat "$dir/fifo" > "$dir/fifo.out") &
    t 0 '' as ok.s -o fifo
    wait
    [ -p "$dir/fifo" ] && cmp -s "$dir/fifo.out" "$dir/ok.elf" ||
        { echo "FAIL: d1 as -o FIFO" >&2; fails=$((fails + 1)); }
fi

# ---- d1 objdump ---------------------------------------------------------------------------
t 1 'missing FILE.elf' objdump
t 1 "unknown option '--frob'" objdump --frob
t 1 'more than one file' objdump ok.elf ok.elf
t 1 'No such file or directory' objdump missing.elf
t 1 'adir: Is a directory' objdump adir
t 1 'not an ELF file' objdump empty
t 1 'not an ELF file' objdump garbage
t 1 'not an ELF file' objdump ok.s
t 1 'truncated ELF header' objdump trunc40.elf
t 1 'truncated' objdump trunc300.elf
t 0 '' objdump --data labels.elf

# ---- d1 isa ---------------------------------------------------------------------------------
t 1 'missing subcommand' isa
t 1 "unknown subcommand 'frob'" isa frob
t 1 "unexpected argument 'x'" isa doc x
t 1 'missing WORD' isa decode
t 1 "'zz' is not a 32-bit hex word" isa decode zz
t 1 "'0x' is not a 32-bit hex word" isa decode 0x
t 1 'is not a 32-bit hex word' isa decode 1ffffffff
t 1 'unknown opcode' isa decode ffffffff
t 1 "'+12' is not a 32-bit hex word" isa decode +12
t 1 "' 12' is not a 32-bit hex word" isa decode ' 12'
t 1 "'-0' is not a 32-bit hex word" isa decode -0
t 1 'want one quoted instruction' isa encode
t 1 'empty instruction' isa encode ''
t 1 "'add' takes 3 operands" isa encode 'add x1'
t 1 'number too large' isa encode 'addi x1, x2, 99999999999999999999'
t 1 "malformed number '1e3'" isa encode 'addi x1, x2, 1e3'
t 1 'out of range' isa encode 'addi x1, x2, -99999'

# ---- d1 config ------------------------------------------------------------------------------
t 1 'missing subcommand' config
t 1 "unknown subcommand 'frob'" config frob
t 1 "missing '='" config dump --set noc_vcs
t 1 'missing key' config dump --set =4
t 1 'out of range' config dump --set noc_vcs=-1
t 1 'too large' config dump --set noc_vcs=99999999999999999999
t 1 "'0x' is not an integer" config dump --set noc_vcs=0x
t 1 "'1e3' is not an integer" config dump --set noc_vcs=1e3
t 1 'unknown key' config dump --set nope=1
t 1 'missing FILE' config check
t 1 'adir: Is a directory' config check adir
t 1 'NUL byte in line' config check garbage
t 1 "noeq.cfg:1: missing '='" config check noeq.cfg
t 1 'range.cfg:1: key' config check range.cfg
t 1 "unknown.cfg:1: unknown key 'bogus_key'" config check unknown.cfg
t 0 '' config check empty

# ---- d1 run: bad arguments ------------------------------------------------------------------
t 1 'missing PROG.elf' run
t 1 "unknown option '--frob'" run ok.elf --frob
t 1 'more than one program' run ok.elf ok.elf
t 1 'No such file or directory' run missing.elf
t 1 'adir: Is a directory' run adir
t 1 'not an ELF file' run garbage
t 1 'not an ELF file' run empty
t 1 'truncated' run trunc300.elf
cp "$dir/empty" "$dir/empty.s"
t 1 'no .program' run empty.s
t 1 '--max-cycles must be an integer' run ok.elf --max-cycles -1
t 1 '--max-cycles must be an integer' run ok.elf --max-cycles 99999999999999999999
t 1 '--max-cycles must be an integer' run ok.elf --max-cycles 0x
t 1 '--max-cycles must be an integer' run ok.elf --max-cycles 1e3
t 1 '--max-cycles must be an integer' run ok.elf --max-cycles=
t 1 '--max-cycles must be an integer' run ok.elf --max-cycles ' 10'
t 1 '--max-cycles must be an integer' run ok.elf --max-cycles +10
t 4 'stopped at --max-cycles 10' run loop.s --max-cycles 010 -q
t 4 'stopped at --max-cycles 16' run loop.s --max-cycles 0x10 -q
t 1 '--max-cycles needs a value' run ok.elf --max-cycles
t 1 '--net must be noc or direct' run ok.elf --net mesh
t 1 '--vcd-window must be an integer' run ok.elf --vcd-window 0
t 1 '--trace-max-events must be an integer' run ok.elf --trace-max-events 0
t 1 'malformed node list' run ok.elf --trace-nodes abc
t 1 'outside 0-' run ok.elf --trace-nodes 99999 --trace t.json
t 1 "cannot write 'missing-dir/s.json'" run ok.elf --stats missing-dir/s.json
t 1 "cannot write 'adir': Is a directory" run ok.elf --stats adir
t 1 "missing '='" run ok.elf --set noc_vcs
t 1 'Is a directory' run ok.elf --config adir
t 1 'NUL byte in line' run ok.elf --config garbage

# ---- d1 run: guest programs that misbehave -------------------------------------------------
t 0 '' run ok.s -q
t 3 "guest trap 'trap'" run trap.s -q
t 4 'stopped at --max-cycles 2000' run loop.s -q --max-cycles 2000
t 3 "guest trap 'pc-range'" run jumpout.s -q
t 3 "guest trap 'pc-range'" run fallthrough.s -q
t 3 "guest trap 'misaligned'" run misvld.s -q
t 3 "guest trap 'sram-range'" run farld.s -q
t 3 "guest trap 'deadlock'" run swait.s -q
t 3 "guest trap 'illegal-insn'" run tstart.s -q
t 3 "guest trap 'dma-node'" run dma9999.s -q --max-cycles 100000
t 3 "guest trap 'trap'" run trap.s -q --stats s.json
grep -q '"config"' "$dir/s.json" || { echo "FAIL: --stats after a trap" >&2; fails=$((fails + 1)); }

# ---- d1 plan, bench, net, train: bad arguments only -----------------------------------------
t 1 'matmul needs M N K' plan matmul 64
t 1 "unknown op 'frob'" plan frob
t 1 'a dimension must be an integer' plan matmul 0 8 8
t 1 'a dimension must be an integer' plan matmul 1e3 8 8
t 1 "bad --dtype 'foo'" plan matmul 64 64 64 --dtype foo
t 1 '--threads must be an integer' plan matmul 64 64 64 --threads 99
t 2 "unknown benchmark 'frob'" bench frob
t 2 "unknown option '--frob'" bench gemm --frob
t 2 '--sizes wants' bench gemm --sizes abc
t 2 '--threads must be an integer' bench gemm --threads -1
t 1 "bad --sizes '0'" bench matmul --sizes 0
t 1 '--cycles must be an integer' bench sim-speed --cycles -1
t 2 "unknown sub-command 'frob'" net frob
t 1 "unknown option '--frob'" net latency --frob
t 1 'is not a node' net latency 0 99999999
t 2 '--mesh must be WxH' net sweep --mesh 0x0
t 1 "unknown algorithm 'foo'" net allreduce --algo foo
t 1 'empty algorithm' net allreduce --algo ''
t 2 'a rate must be a number' net sweep --rates nan
t 1 "unknown option '--frob'" train --frob
t 1 '--batch must be an integer' train --batch 0
t 1 "--lr: bad value 'nan'" train --lr nan
t 1 '--hidden: bad layer list' train --hidden ,

echo "$cases cases, $fails failed"
[ "$fails" -eq 0 ]
