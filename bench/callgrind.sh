#!/bin/sh
# SPDX-License-Identifier: MIT
#
# callgrind.sh - instruction counts for the benchmarks, by differencing.
#
#     bench/callgrind.sh [BUILDDIR] [SECTION...]
#
# SECTION is any of: yield depth timers queue profile (default: all).
# BUILDDIR defaults to build-bench; build it with -Dbuildtype=release
# -Doptimization=2 (bench/run-all.sh does).
#
# Instruction counts under valgrind's callgrind are exact and repeatable,
# unlike wall time. Each figure comes from two runs that differ only in the
# amount of work (K yields per task, N timers, ITEMS queue items); the
# difference of the totals divided by the difference of the work is the
# cost of one unit, with program start-up, setup and teardown cancelled
# out. The timer figures count only the insert function, with
# --toggle-collect (see timers.c for why that is the honest figure).
set -euf # -f: the toggle patterns below must reach valgrind unexpanded

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
[ $# -gt 0 ] && shift
sections=${*:-yield depth timers queue profile}
bin=$build/bench

command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not found" >&2; exit 1; }
[ -x "$bin/bench_yield" ] || { echo "callgrind.sh: no benchmarks in $bin" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# ir TAG [valgrind options] -- PROGRAM ARGS...: the instruction count that
# callgrind collected (the whole run, or only the toggled function).
ir() {
    tag=$1
    shift
    opts=
    while [ "$1" != "--" ]; do
        opts="$opts $1"
        shift
    done
    shift
    # shellcheck disable=SC2086 # opts is a word list on purpose
    valgrind --tool=callgrind --callgrind-out-file="$out/$tag.cg" $opts \
        "$@" >"$out/$tag.stdout" 2>"$out/$tag.stderr" || {
        echo "callgrind.sh: '$*' failed:" >&2
        cat "$out/$tag.stderr" >&2
        exit 1
    }
    n=$(awk '/^totals:/ { print $2 }' "$out/$tag.cg")
    if [ -z "$n" ] || [ "$n" -eq 0 ]; then
        echo "callgrind.sh: '$*' collected nothing (toggle name wrong?)" >&2
        exit 1
    fi
    echo "$n"
}

# profile TAG1 TAG2 UNITS: instructions per unit in each function (callgrind
# exclusive cost, differenced between the two runs like the totals), for
# the functions that cost at least 0.5 per unit. Names are after inlining:
# a static function the compiler inlined is counted in its caller.
profile() {
    for t in "$1" "$2"; do
        callgrind_annotate --threshold=100 "$out/$t.cg" |
            sed -n '/file:function/,$p' |
            awk '$1 ~ /^[0-9,]+$/ {
                    n = $1; gsub(",", "", n)
                    f = $0; sub(/ \[.*$/, "", f); sub(/^.*:/, "", f)
                    c[f] += n
                 }
                 END { for (f in c) print f, c[f] }' >"$out/$t.fn"
    done
    awk -v u="$3" 'NR == FNR { a[$1] = $2; next }
                   { v = ($2 - a[$1]) / u
                     if (v >= 0.5 || v <= -0.5) printf "  %8.2f  %s\n", v, $1 }' \
        "$out/$1.fn" "$out/$2.fn" | sort -rn
}

# per A B UNITS: (B - A) / UNITS with two decimals.
per() { awk -v a="$1" -v b="$2" -v u="$3" 'BEGIN { printf "%.2f", (b - a) / u }'; }
# ratio X Y: X / Y with two decimals.
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", x / y }'; }
# verdict X OP LIMIT: "met" or "MISSED".
verdict() { awk -v x="$1" -v l="$3" 'BEGIN { print (x <= l) ? "met" : "MISSED" }'; }

K1=100
K2=200
TASKS=1000
cycles=$((TASKS * (K2 - K1)))

# builds PROGRAM: the program linked with meson's libasync.a, then, where
# they are built, the drop-in build (library sources compiled into the
# program) and the computed-goto build (ASYNC_CONFIG_LC_GOTO=1).
builds() {
    echo "libasync.a:$bin/bench_$1"
    [ -x "$bin/bench_$1_dropin" ] && echo "drop-in:$bin/bench_$1_dropin"
    [ -x "$bin/bench_$1_goto" ] && echo "LC_GOTO:$bin/bench_$1_goto"
    return 0
}

for section in $sections; do
case $section in
yield)
    echo "== yield+resume cycle: $TASKS tasks ready, K=$K1 vs K=$K2 yields each"
    a=$(ir s1 -- "$bin/bench_baseline_switch" $K1 $TASKS)
    b=$(ir s2 -- "$bin/bench_baseline_switch" $K2 $TASKS)
    base=$(per "$a" "$b" $cycles)
    echo "baseline (baseline_switch.c): $base instructions/cycle"
    for build in $(builds yield); do
        a=$(ir y1 -- "${build#*:}" $K1 1 $TASKS)
        b=$(ir y2 -- "${build#*:}" $K2 1 $TASKS)
        lib=$(per "$a" "$b" $cycles)
        r=$(ratio "$lib" "$base")
        echo "library, ${build%%:*}: $lib instructions/cycle, $r x baseline;" \
             "<= 40: $(verdict "$lib" le 40), <= 1.25 x: $(verdict "$r" le 1.25)"
    done
    ;;
depth)
    echo "== resume cost by await depth (innermost of DEPTH async_call frames yields)"
    for d in 1 4 16; do
        a=$(ir d1 -- "$bin/bench_yield" $K1 $d $TASKS)
        b=$(ir d2 -- "$bin/bench_yield" $K2 $d $TASKS)
        echo "depth $d: $(per "$a" "$b" $cycles) instructions/cycle"
    done
    ;;
timers)
    N1=500000
    N2=1000000
    echo "== timer insert: N sleeps at random delays in [1, SPAN] ticks, heap growing to N"
    for build in $(builds timers); do
        a=$(ir t1 --toggle-collect='bench_sleep_insert*' -- "${build#*:}" $N1 1000)
        b=$(ir t2 --toggle-collect='bench_sleep_insert*' -- "${build#*:}" $N2 1000)
        c=$(ir t3 --toggle-collect='bench_sleep_insert*' -- "${build#*:}" $N2 1000000)
        avg=$(per 0 "$b" $N2)
        echo "library, ${build%%:*}: async_sleep insert $avg instructions average" \
             "(SPAN 1000, N $N2), $(per "$a" "$b" $((N2 - N1))) marginal" \
             "(inserts $N1..$N2), $(per 0 "$c" $N2) average with SPAN 1000000;" \
             "<= 60: $(verdict "$avg" le 60)"
        [ -n "${first_avg:-}" ] || first_avg=$avg
    done
    if [ -x "$bin/bench_uv_timers" ]; then
        a=$(ir u1 --toggle-collect='bench_timer_insert*' -- "$bin/bench_uv_timers" $N1 1000)
        b=$(ir u2 --toggle-collect='bench_timer_insert*' -- "$bin/bench_uv_timers" $N2 1000)
        uv=$(per 0 "$b" $N2)
        echo "libuv uv_timer_start: $uv instructions average (SPAN 1000 ms, N $N2)," \
             "$(per "$a" "$b" $((N2 - N1))) marginal; libuv/libasync.a: $(ratio "$uv" "$first_avg")"
    else
        echo "libuv: not built (no libuv found by meson)"
    fi
    ;;
queue)
    I1=100000
    I2=200000
    echo "== queue: one producer, one consumer, ITEMS=$I1 vs $I2"
    echo "   (per item: put + get + task_done + the loop's scheduling)"
    for build in $(builds queue); do
        for cap in 1 64; do
            a=$(ir q1 -- "${build#*:}" $cap $I1)
            b=$(ir q2 -- "${build#*:}" $cap $I2)
            echo "library, ${build%%:*}: capacity $cap: $(per "$a" "$b" $((I2 - I1))) instructions/item"
        done
    done
    ;;
profile)
    echo "== where the instructions go, per unit of work, by function"
    ir p1 -- "$bin/bench_yield" $K1 1 $TASKS >/dev/null
    ir p2 -- "$bin/bench_yield" $K2 1 $TASKS >/dev/null
    echo "yield.c, per yield+resume cycle:"
    profile p1 p2 $cycles
    ir p1 -- "$bin/bench_baseline_switch" $K1 $TASKS >/dev/null
    ir p2 -- "$bin/bench_baseline_switch" $K2 $TASKS >/dev/null
    echo "baseline_switch.c, per cycle:"
    profile p1 p2 $cycles
    ir p1 --toggle-collect='bench_sleep_insert*' -- "$bin/bench_timers" 100000 1000 >/dev/null
    ir p2 --toggle-collect='bench_sleep_insert*' -- "$bin/bench_timers" 200000 1000 >/dev/null
    echo "timers.c, per async_sleep insert (inserts 100000..200000):"
    profile p1 p2 100000
    ir p1 -- "$bin/bench_timers" 100000 1000 >/dev/null
    ir p2 -- "$bin/bench_timers" 200000 1000 >/dev/null
    echo "timers.c, whole life of a sleeping task (create, insert, expire, resume, finish):"
    profile p1 p2 100000
    for cap in 1 64; do
        ir p1 -- "$bin/bench_queue" $cap 100000 >/dev/null
        ir p2 -- "$bin/bench_queue" $cap 200000 >/dev/null
        echo "queue.c capacity $cap, per item:"
        profile p1 p2 100000
    done
    ;;
*)
    echo "callgrind.sh: unknown section '$section'" >&2
    exit 2
    ;;
esac
done
