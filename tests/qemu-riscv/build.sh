#!/bin/sh
# SPDX-License-Identifier: MIT
# Build a bare-metal RV32IMAC image for QEMU's virt machine.
# Usage: tests/qemu-riscv/build.sh OUT.elf file.c...
# crt0.S, startup.c and libc.c (this directory's stdio.h and string.h) are
# added here; extra compiler flags can be passed in CFLAGS, e.g.
# CFLAGS='-DASYNC_CONFIG_TICK_BITS=16'. ARCH overrides the -march/-mabi
# pair.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 OUT.elf file.c..." >&2
    exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$1
shift

# -ffreestanding: there is no C library; stdio.h and string.h come from
# this directory (-I"$here"), stdint.h and stdarg.h from the compiler.
# -fno-tree-loop-distribute-patterns: keep GCC from turning memset's own
# loop (and the .bss loop) into calls to memset. libgcc supplies the
# 64-bit division the tests (not the port) use.
# shellcheck disable=SC2086 # ARCH and CFLAGS are meant to split into words
exec riscv64-unknown-elf-gcc \
    ${ARCH:--march=rv32imac -mabi=ilp32} -mcmodel=medany -Os -g \
    -std=c99 -Wall -Wextra -Wpedantic -Werror \
    -ffreestanding -fno-tree-loop-distribute-patterns \
    -ffunction-sections -fdata-sections \
    -I"$here" -I"$top" \
    ${CFLAGS:-} \
    -nostdlib -nostartfiles -T "$here/virt.ld" -Wl,--gc-sections \
    -Wl,--no-warn-rwx-segments \
    -o "$out" \
    "$here/crt0.S" "$here/startup.c" "$here/libc.c" "$@" -lgcc
