#!/bin/sh
# One entry point for a fresh Debian 12 machine (as root, or a user with sudo):
#   sh .ci/setup.sh demo   install what is missing, build (release), run the main demo
#   sh .ci/setup.sh test   install what is missing, build (release, warnings are errors),
#                          run the whole test suite, then the same suite under
#                          address+undefined-behaviour sanitizers
#   sh .ci/setup.sh build  install and build only
set -eu
MODE=${1:-build}
cd "$(dirname "$0")/.."

PKGS="build-essential meson ninja-build pkg-config check libelf-dev libsystemc-dev \
gnuplot-nox zlib1g-dev libopenblas-dev dataset-fashion-mnist libopenmpi-dev openmpi-bin"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    echo "setup: installing:$missing" >&2
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# configure DIR [meson options...]: set up DIR once, then build it.
configure() {
    dir=$1
    shift
    [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@"
    ninja -C "$dir"
}

case "$MODE" in
build)
    configure build --buildtype=release
    ;;
demo)
    configure build --buildtype=release
    # Our OpenMP threads sleep instead of spinning while they wait (a 2-core machine).
    OMP_WAIT_POLICY=PASSIVE ./build/examples/d1 train --steps 100 --log-every 10
    ;;
test)
    configure build-ci --buildtype=release -Dwerror=true
    meson test -C build-ci --print-errorlogs --num-processes 2
    configure build-asan --buildtype=debug -Doptimization=1 -Db_sanitize=address,undefined \
        -Db_lundef=false -Dwerror=true
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 4
    ;;
*)
    echo "usage: sh .ci/setup.sh demo|test|build" >&2
    exit 2
    ;;
esac
