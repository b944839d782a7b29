#!/bin/sh
# SPDX-License-Identifier: MIT
# Build a bare-metal image for QEMU's mps2-an385 board (Cortex-M3).
# Usage: tests/qemu/build.sh OUT.elf file.c...   (startup.c is added here)
# Extra compiler flags can be passed in CFLAGS, e.g. CFLAGS='-std=c99 -DFOO'.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 OUT.elf file.c..." >&2
    exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$1
shift

# shellcheck disable=SC2086 # CFLAGS is meant to split into words
exec arm-none-eabi-gcc \
    -mcpu=cortex-m3 -mthumb -Os -g \
    -Wall -Wextra \
    -ffunction-sections -fdata-sections \
    -I"$top" \
    ${CFLAGS:-} \
    --specs=rdimon.specs \
    -T "$here/mps2-an385.ld" \
    -Wl,--gc-sections \
    -o "$out" \
    "$here/startup.c" "$@"
