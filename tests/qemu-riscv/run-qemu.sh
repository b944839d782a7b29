#!/bin/sh
# SPDX-License-Identifier: MIT
# Run a bare-metal image on QEMU's RISC-V virt machine (RV32).
# Usage: tests/qemu-riscv/run-qemu.sh IMAGE.elf [SECONDS [QEMU OPTIONS...]]
#
# The UART is QEMU's stdout; QEMU's own messages go to stderr. Exits with
# the program's status (main's return value through the SiFive test
# device; 128 + exception code, or 192 + interrupt code, for a trap nobody
# handled), 124 on timeout. QEMU OPTIONS are added, e.g. -smp 2 or
# -icount shift=0,sleep=off.
set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 IMAGE.elf [SECONDS [QEMU OPTIONS...]]" >&2
    exit 2
fi
if [ ! -f "$1" ]; then
    echo "$0: no such image: $1" >&2
    exit 2
fi
image=$1
seconds=${2:-60}
shift
[ $# -gt 0 ] && shift

# -bios none: no firmware, the image runs in machine mode from reset.
# -nographic with -monitor none: the serial port alone on stdio.
# -k: SIGKILL if SIGTERM is ignored.
timeout -k 5 "$seconds" qemu-system-riscv32 \
    -M virt -bios none -nographic -monitor none \
    "$@" -kernel "$image" </dev/null
