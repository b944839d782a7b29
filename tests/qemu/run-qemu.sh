#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a bare-metal image on QEMU's mps2-an385 board (Cortex-M3).
# Usage: tests/qemu/run-qemu.sh IMAGE.elf [SECONDS]
#
# The program's semihosting output is passed through, and this script exits
# with the program's exit status: main's return value, 128 + exception
# number for an unhandled exception (HardFault: 131), 124 on timeout.
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 IMAGE.elf [SECONDS]" >&2
    exit 2
fi
if [ ! -f "$1" ]; then
    echo "$0: no such image: $1" >&2
    exit 2
fi

# -nographic: no window. -monitor/-serial none: QEMU leaves the terminal
# and stdin alone; all output comes through semihosting (printf on stdout,
# fault reports from startup.c on stderr). -k: SIGKILL if SIGTERM is ignored.
timeout -k 5 "${2:-60}" qemu-system-arm \
    -M mps2-an385 -cpu cortex-m3 \
    -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native \
    -kernel "$1"
