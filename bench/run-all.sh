#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run-all.sh - rebuild the benchmarks optimised and print every figure.
#
#     bench/run-all.sh [BUILDDIR]      default BUILDDIR: build-bench
#
# Prints the machine, the library's exact state, then each command
# followed by its output: wall-clock runs, object sizes, and the callgrind
# instruction counts (which take a few minutes under valgrind). Wall-clock
# figures move from run to run by several percent; instruction counts do
# not.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
cd "$root"

if [ ! -d "$build" ]; then
    meson setup "$build" -Dbuildtype=release -Doptimization=2 >/dev/null
fi
targets="bench_yield bench_baseline_switch bench_timers bench_million bench_queue bench_sizes"
targets="$targets bench_yield_dropin bench_timers_dropin bench_queue_dropin bench_yield_goto"
if pkg-config --exists libuv 2>/dev/null; then
    targets="$targets bench_uv_timers"
fi
# Only the benchmarks: a broken test elsewhere must not stop a measurement.
# shellcheck disable=SC2086
meson compile -C "$build" $targets >/dev/null
opt=$(meson configure "$build" | awk '$1 == "optimization" { print $2; exit }')
b=$build/bench

echo "== machine"
echo "nproc: $(nproc)"
echo "cpu: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "kernel: $(uname -srm)"
echo "compiler: $(${CC:-cc} --version | head -n 1), -O$opt"
command -v valgrind >/dev/null && echo "valgrind: $(valgrind --version)"
echo "library: $(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
     "$(git diff --quiet HEAD -- async.h async.c queue.c 2>/dev/null ||
        echo '+ uncommitted changes')"
sha256sum async.h async.c queue.c | awk '{ printf "  sha256 %s %s\n", substr($1, 1, 16), $2 }'

run() {
    echo "\$ $*"
    "$@"
}

# Wall-clock figures: three runs each, because other work on the machine
# only ever makes a run slower; read the best of the three.
run3() {
    echo "\$ $* (3 runs)"
    "$@"
    "$@"
    "$@"
}

echo
echo "== wall clock"
run3 "$b/bench_yield" 10000 1 1000
run3 "$b/bench_yield" 10000 4 1000
run3 "$b/bench_yield" 10000 16 1000
run3 "$b/bench_baseline_switch" 10000 1000
run3 "$b/bench_timers" 1000000 1000
run3 "$b/bench_timers" 1000000 1000000
[ -x "$b/bench_uv_timers" ] && run3 "$b/bench_uv_timers" 1000000 1000
run3 "$b/bench_million" 1000000 1000000
run3 "$b/bench_queue" 1 10000000
run3 "$b/bench_queue" 64 10000000

echo
echo "== sizes"
run bench/sizes.sh "$build"

echo
echo "== instructions (callgrind)"
run bench/callgrind.sh "$build"
