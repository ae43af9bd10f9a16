# Sourced by the d1 command-line test scripts (tests/*/cli_*.sh) after they set d1 (the
# executable): a temporary directory $dir removed on exit, the failure count $fails, and:
#   expect CODE LINES ARGS...  run d1 ARGS: exit status CODE, LINES lines on stderr (- = any)
#   grep_in FILE PATTERN       PATTERN occurs in $dir/FILE (out, err, ...)
#   cli_end MESSAGE            print "ok: MESSAGE" and exit 0 if nothing failed, else exit 1
#   doc_current SUB DOC FROM   DOC is what `d1 SUB doc` generates (FROM: its sources); exits
dir=$(mktemp -d /tmp/d1-cli.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
fails=0

expect() {
    code=$1; lines=$2; shift 2
    "$d1" "$@" > "$dir/out" 2> "$dir/err"
    got=$?
    n=$(wc -l < "$dir/err")
    if [ "$got" -ne "$code" ] || { [ "$lines" != - ] && [ "$n" -ne "$lines" ]; }; then
        echo "FAIL: d1 $*: exit $got (want $code), $n stderr lines (want $lines)" >&2
        cat "$dir/err" >&2
        fails=$((fails + 1))
    fi
}

grep_in() {
    grep -q -- "$2" "$dir/$1" || { echo "FAIL: '$2' not in $1:" >&2; cat "$dir/$1" >&2;
                                   fails=$((fails + 1)); }
}

cli_end() {
    [ "$fails" -eq 0 ] && echo "ok: $1"
    exit $((fails > 0))
}

doc_current() {
    if ! "$d1" "$1" doc > "$dir/doc"; then
        echo "FAIL: '$d1 $1 doc' failed" >&2
        exit 1
    fi
    if ! cmp -s "$dir/doc" "$2"; then
        diff -u "$2" "$dir/doc" | head -n 60 >&2
        echo "FAIL: $2 is out of date with $3 (diff above: - file, + generated)." >&2
        echo "Regenerate it with:  $d1 $1 doc > $2" >&2
        exit 1
    fi
    echo "ok: $2 is current"
    exit 0
}
