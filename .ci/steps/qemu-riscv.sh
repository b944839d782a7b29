#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CI step: run the library and the tickless RISC-V port on QEMU's RV32
# virt machine (qemu-system-riscv32, Debian package qemu-system-misc).
#
# Builds use tests/qemu-riscv/ (crt0, linker script, a minimal stdio on
# the UART; no C library) with -march=rv32imac -mabi=ilp32 unless noted.
# Programs:
#   port_smoke         tests/qemu-riscv/port_smoke.c on port/riscv.c, two
#                      harts (hart 1 raises hart 0's software interrupt on
#                      request), under -icount shift=0,sleep=off: time is
#                      the instruction count, so every wake is checked to
#                      the tick and the long sleeps (the tick wrapping, 74
#                      virtual days with 32-bit ticks) take no real time.
#                      It prints the timer interrupts each sleep took and
#                      exits 0 iff every check holds.
#   port_smoke_tick16, port_smoke_tick64
#                      the same with 16- and 64-bit ticks.
#   port_smoke_realtime  32-bit ticks in real time (no -icount): wakes may
#                      be up to 20 ticks late on a busy host, the long
#                      sleeps are left out. About a second.
#   rv32im/port_smoke  without the A extension, built with
#                      -DASYNC_CONFIG_FILE='"port/riscv.h"', so async_post
#                      takes the port's mstatus.MIE critical section.
#   examples           every examples/NAME.c with the line `/* qemu: yes */`
#                      among its first ten lines, on virtual time (no port);
#                      passes iff it exits 0 and its output equals
#                      examples/NAME.expected byte for byte.
#
# Each run is under a timeout (QEMU_TIMEOUT seconds, default 60). One line
# per program goes to .ci/out/qemu-riscv.json in meson's testlog format.
# Exits non-zero if any build or run failed, or a tool is missing.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
dir=tests/qemu-riscv
out=.ci/out
log=$out/qemu-riscv.json
timeout_s=${QEMU_TIMEOUT:-60}
mkdir -p "$out"
: >"$log"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in riscv64-unknown-elf-gcc qemu-system-riscv32 python3; do
  if ! command -v "$tool" >/dev/null; then
    case $tool in
    qemu-system-riscv32) why="$tool is missing (Debian: qemu-system-misc)" ;;
    riscv64-unknown-elf-gcc) why="$tool is missing (Debian: gcc-riscv64-unknown-elf)" ;;
    *) why="$tool is missing" ;;
    esac
    echo "FAIL qemu-riscv/tools: $why"
    python3 -c 'import json,sys; print(json.dumps({"name": "qemu-riscv/tools",
      "result": "FAIL", "stdout": sys.argv[1]}))' "$why" >>"$log" 2>/dev/null ||
      printf '{"name": "qemu-riscv/tools", "result": "FAIL", "stdout": "%s"}\n' \
        "$why" >>"$log"
    exit 1
  fi
done

# shellcheck source=../testlog.sh
. .ci/testlog.sh

# check ID ARCH CFLAGS QEMU_OPTIONS EXPECTED file.c... (EXPECTED: as for judge)
# ARCH empty: rv32imac. QEMU's exit status is the program's (124 or 137
# on timeout, 128 + exception code after a trap nobody handled).
check() {
  local id=$1 arch=$2 cflags=$3 qopts=$4 expected=$5
  shift 5
  local base="$work/${id//\//-}"
  local elf=$base.elf res=$base.txt o=$base.out e=$base.err
  if ! ARCH=$arch CFLAGS=$cflags "$dir/build.sh" "$elf" "$@" >"$res" 2>&1; then
    echo "build failed" >>"$res"
    record "$id" FAIL "$res"
    return
  fi
  # shellcheck disable=SC2086 # the QEMU options are meant to split
  "$dir/run-qemu.sh" "$elf" "$timeout_s" $qopts >"$o" 2>"$e"
  judge "$id" $? "$o" "$e" "$expected" "$res"
}

lib="async.c queue.c"
smoke="$dir/port_smoke.c port/riscv.c $lib"
icount="-smp 2 -icount shift=0,sleep=off"
# shellcheck disable=SC2086 # the file lists are meant to split
{
  check qemu-riscv/rv32imac/port_smoke "" "" "$icount" \
    "last:port_smoke (32-bit ticks): ok" $smoke
  for bits in 16 64; do
    check "qemu-riscv/rv32imac/port_smoke_tick$bits" "" \
      "-DASYNC_CONFIG_TICK_BITS=$bits" "$icount" \
      "last:port_smoke ($bits-bit ticks): ok" $smoke
  done
  check qemu-riscv/rv32imac/port_smoke_realtime "" \
    "-DSMOKE_SLACK=20 -DSMOKE_LONG=0" "-smp 2" \
    "last:port_smoke (32-bit ticks): ok" $smoke
  check qemu-riscv/rv32im/port_smoke "-march=rv32im -mabi=ilp32" \
    "-DASYNC_CONFIG_FILE=\"port/riscv.h\"" "$icount" \
    "last:port_smoke (32-bit ticks): ok" $smoke
}

for src in examples/*.c; do
  [ -e "$src" ] || continue
  head -n 10 "$src" | grep -qxF '/* qemu: yes */' || continue
  name=$(basename "$src" .c)
  expected=examples/$name.expected
  if [ ! -f "$expected" ]; then
    echo "$src is marked for QEMU but $expected does not exist" \
      >"$work/missing"
    record "qemu-riscv/rv32imac/$name" FAIL "$work/missing"
    continue
  fi
  # shellcheck disable=SC2086
  check "qemu-riscv/rv32imac/$name" "" "-DEXAMPLE_POSIX=0" "" "$expected" \
    "$src" $lib
done

echo "qemu-riscv: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
