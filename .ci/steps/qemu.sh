#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CI step: run the library on emulated Cortex-M cores under QEMU.
#
# Boards:
#   an385     mps2-an385, Cortex-M3 (ARMv7-M): async_post is lock-free.
#   microbit  microbit, Cortex-M0 running Cortex-M0+ code (ARMv6-M): built
#             with -DASYNC_CONFIG_FILE='"port/cortex-m.h"', so async_post
#             takes the PRIMASK critical section.
# Programs, on each board:
#   coro_smoke   tests/qemu/coro_smoke.c: tasks, a queue and cancellation on
#                virtual time, then the SysTick port with a post from the
#                SysTick interrupt and one from PendSV as the loop goes
#                idle; it checks its own trace and exits 0 iff it holds.
#                On an385 also with 16- and 64-bit ticks.
#   coro_smoke_tickless
#                the same with the port built ASYNC_CORTEXM_TICKLESS=1,
#                where a post the port misses before WFI costs a whole
#                SysTick period (0.67 s on an385, 1 s on microbit) or hangs.
#   tickless     tests/qemu/tickless.c: the port built with
#                ASYNC_CORTEXM_TICKLESS=1; sleeps, a post from a board timer
#                interrupt and idling forever, against a board timer; exits 0
#                iff its checks hold.
#   cortex-m     examples/cortex-m.c, the firmware example, with the SysTick
#                port; its output must equal examples/cortex-m.expected,
#                but for stamps a tick late (real time under QEMU).
#   examples     every examples/NAME.c with the line `/* qemu: yes */` among
#                its first ten lines. Built without the POSIX port, so it runs
#                on virtual time; passes iff it exits 0 and its output equals
#                examples/NAME.expected byte for byte.
#
# Each run is under a timeout (QEMU_TIMEOUT seconds, default 60). One line
# per (board, program) goes to .ci/out/qemu.json in meson's testlog format.
# Exits non-zero if any build or run failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
qemu_dir=tests/qemu
out=.ci/out
log=$out/qemu.json
timeout_s=${QEMU_TIMEOUT:-60}
mkdir -p "$out"
: >"$log"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in arm-none-eabi-gcc qemu-system-arm python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "qemu.sh: $tool is missing"
    python3 -c 'import json,sys; print(json.dumps({"name": "qemu/tools",
      "result": "FAIL", "stdout": sys.argv[1] + " is missing"}))' \
      "$tool" >>"$log"
    exit 1
  fi
done

# Warnings are errors here as in the host build; the library must also be
# pedantic-clean for the cross compilers.
cflags_common="-std=c99 -Wpedantic -Werror"

# shellcheck source=../testlog.sh
. .ci/testlog.sh

# build BOARD OUT.elf EXTRA_CFLAGS file.c...  (startup and library added)
build() {
  local board=$1 elf=$2 extra=$3
  shift 3
  case $board in
  an385)
    CFLAGS="$cflags_common $extra" "$qemu_dir/build.sh" "$elf" \
      async.c queue.c "$@"
    ;;
  microbit)
    # shellcheck disable=SC2086 # the flag strings are meant to split
    arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb -Os -g \
      -Wall -Wextra $cflags_common $extra \
      -DASYNC_CONFIG_FILE='"port/cortex-m.h"' \
      -ffunction-sections -fdata-sections -I"$top" \
      --specs=rdimon.specs -T "$qemu_dir/microbit.ld" -Wl,--gc-sections \
      -o "$elf" "$qemu_dir/startup-m0.c" async.c queue.c "$@"
    ;;
  esac
}

# run BOARD ELF STDOUT STDERR: QEMU's exit status is the program's (124 on
# timeout, 128 + exception number after a fault).
run() {
  case $1 in
  an385)
    "$qemu_dir/run-qemu.sh" "$2" "$timeout_s" >"$3" 2>"$4"
    ;;
  microbit)
    timeout -k 5 "$timeout_s" qemu-system-arm -M microbit \
      -nographic -monitor none -serial none \
      -semihosting-config enable=on,target=native -kernel "$2" >"$3" 2>"$4"
    ;;
  esac
}

# The SysTick clock each board's smoke run assumes.
core_hz() {
  case $1 in
  an385) echo 25000000u ;;
  microbit) echo 16000000u ;;
  esac
}

# check BOARD NAME EXPECTED EXTRA_CFLAGS file.c... (EXPECTED: as for judge)
check() {
  local board=$1 name=$2 expected=$3 extra=$4
  shift 4
  local id="qemu/$board/$name" elf="$work/$board-$name.elf"
  local res="$work/$board-$name.txt" o="$work/$board-$name.out"
  local e="$work/$board-$name.err"
  if ! build "$board" "$elf" "$extra" "$@" >"$res" 2>&1; then
    echo "build failed" >>"$res"
    record "$id" FAIL "$res"
    return
  fi
  run "$board" "$elf" "$o" "$e"
  judge "$id" $? "$o" "$e" "$expected" "$res"
}

for board in an385 microbit; do
  check "$board" coro_smoke "last:coro_smoke: ok" "-DSMOKE_CORE_HZ=$(core_hz "$board")" \
    "$qemu_dir/coro_smoke.c" port/cortex-m.c
  # Posts from interrupts with tickless idle: about a second each.
  check "$board" coro_smoke_tickless "last:coro_smoke: ok" \
    "-DSMOKE_CORE_HZ=$(core_hz "$board") -DASYNC_CORTEXM_TICKLESS=1" \
    "$qemu_dir/coro_smoke.c" port/cortex-m.c
  check "$board" tickless "last:tickless: ok" \
    "-DASYNC_CORTEXM_TICKLESS=1 -DTICKLESS_BOARD_$board" \
    "$qemu_dir/tickless.c" port/cortex-m.c
  if [ "$board" = an385 ]; then
    # The port reads a 64-bit tick in two loads; 16 bits wrap every 65 s.
    for bits in 16 64; do
      check "$board" "coro_smoke_tick$bits" "last:coro_smoke: ok" \
        "-DSMOKE_CORE_HZ=$(core_hz "$board") -DASYNC_CONFIG_TICK_BITS=$bits" \
        "$qemu_dir/coro_smoke.c" port/cortex-m.c
    done
  fi
  # The firmware example, on the real port: output as on a board.
  # Real time under QEMU: a stamp may be a tick late (late-by-a-tick.py).
  check "$board" cortex-m late:examples/cortex-m.expected \
    "-DCORE_HZ=$(core_hz "$board") -DASYNC_CONFIG_FILE=\"port/cortex-m.h\"" \
    examples/cortex-m.c port/cortex-m.c
  for src in examples/*.c; do
    [ -e "$src" ] || continue
    head -n 10 "$src" | grep -qxF '/* qemu: yes */' || continue
    name=$(basename "$src" .c)
    expected=examples/$name.expected
    if [ ! -f "$expected" ]; then
      echo "$src is marked for QEMU but $expected does not exist" \
        >"$work/missing"
      record "qemu/$board/$name" FAIL "$work/missing"
      continue
    fi
    check "$board" "$name" "$expected" "-DEXAMPLE_POSIX=0" "$src"
  done
done

echo "qemu: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
