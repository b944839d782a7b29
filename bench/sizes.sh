#!/bin/sh
# SPDX-License-Identifier: MIT
#
# sizes.sh - object sizes on this host and on a 32-bit Cortex-M0+.
#
#     bench/sizes.sh [BUILDDIR]
#
# The host column comes from running BUILDDIR/bench/bench_sizes. The
# Cortex-M0+ column comes from compiling the same sizes.c with
# arm-none-eabi-gcc (-mcpu=cortex-m0plus -mthumb -O0 -c, nothing is run):
# each size is a `const unsigned size_<type>` in .rodata, located with
# arm-none-eabi-nm and read from the section's bytes (both targets are
# little-endian, so od reads the words directly).
#
# Targets (from the issues), judged on the 32-bit figures: at most 32 bytes
# per task with its timer node (the task plus its slot in the loop's timer
# heap), at most 8 bytes of library header per frame.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-bench}
host=$build/bench/bench_sizes
[ -x "$host" ] || { echo "sizes.sh: $host not built" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$host" --raw >"$tmp/host.txt"

if command -v arm-none-eabi-gcc >/dev/null; then
    arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb -O0 -c -std=c99 \
        -Wall -Wextra -Wpedantic -Werror -DSIZES_NO_MAIN -I"$root" \
        "$root/bench/sizes.c" -o "$tmp/sizes.o"
    arm-none-eabi-objcopy -O binary --only-section=.rodata "$tmp/sizes.o" \
        "$tmp/rodata.bin"
    arm-none-eabi-nm "$tmp/sizes.o" | while read -r addr kind name; do
        case $kind$name in
        [Rr]size_*)
            value=$(od -An -tu4 -j $((0x$addr)) -N4 "$tmp/rodata.bin")
            echo "${name#size_} $((value))"
            ;;
        esac
    done >"$tmp/m0.txt"
else
    echo "sizes.sh: arm-none-eabi-gcc not found; host column only" >&2
    : >"$tmp/m0.txt"
fi

echo "object sizes in bytes, default configuration"
awk 'NR == FNR { m0[$1] = $2; next }
     FNR == 1 { printf "  %-22s %8s %11s\n", "type", "host", "cortex-m0+" }
     { printf "  %-22s %8s %11s\n", $1, $2, ($1 in m0) ? m0[$1] : "-" }' \
    "$tmp/m0.txt" "$tmp/host.txt"

# verdict LABEL VALUE LIMIT
verdict() {
    if [ "$2" -le "$3" ]; then v="met"; else v="MISSED (over by $(($2 - $3)))"; fi
    echo "  $1: $2 bytes, target <= $3: $v"
}
get() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

for target in host m0; do
    task=$(get async_task_t "$tmp/$target.txt")
    [ -n "$task" ] || continue
    slot=$(get heap_slot "$tmp/$target.txt")
    frame=$(get async_frame_t "$tmp/$target.txt")
    if [ "$target" = m0 ]; then
        echo "cortex-m0+ (32-bit):"
    else
        echo "host ($(uname -m)):"
    fi
    echo "  async_task_t alone: $task bytes; one timer heap slot: $slot bytes"
    verdict "bytes per task, timer node included ($task + $slot)" \
        $((task + slot)) 32
    verdict "library header per frame (async_frame_t)" "$frame" 8
done
