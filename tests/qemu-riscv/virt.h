/* SPDX-License-Identifier: MIT */
/*
 * virt.h - QEMU's RISC-V virt machine as the tests here use it, and what
 * startup.c offers them.
 */
#ifndef VIRT_H
#define VIRT_H

#include <stdint.h>

/* CLINT: per-hart software interrupt (MSIP) and timer compare, and the
 * shared 64-bit mtime, counting at 10 MHz. */
#define VIRT_CLINT 0x02000000u
#define VIRT_MSIP(hart) (VIRT_CLINT + 4u * (hart))
#define VIRT_MTIMECMP(hart) (VIRT_CLINT + 0x4000u + 8u * (hart))
#define VIRT_MTIME (VIRT_CLINT + 0xBFF8u)
#define VIRT_MTIME_HZ 10000000u

#define VIRT_UART 0x10000000u     /* NS16550A */
#define VIRT_FINISHER 0x00100000u /* SiFive test device: ends QEMU */

#define VIRT_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* mcause of the interrupts the tests take. */
#define VIRT_IRQ(code) ((1ul << (__riscv_xlen - 1)) | (code))
#define VIRT_IRQ_SOFT VIRT_IRQ(3u)
#define VIRT_IRQ_TIMER VIRT_IRQ(7u)

/* One CSR instruction; see ASYNC_RISCV_CSR in port/riscv.h for why the
 * Zicsr switch. */
#if defined(__riscv_zicsr)
#define VIRT_CSR(insn) insn
#else
#define VIRT_CSR(insn)                                                        \
    ".option push\n\t.option arch, +zicsr\n\t" insn "\n\t.option pop"
#endif

/* Write one byte to the UART, which QEMU passes to its stdout. */
void virt_putc(char c);

/* mtime, read consistently on RV32. */
uint64_t virt_mtime(void);

/* End QEMU with exit status code (0 to 255). */
__attribute__((noreturn)) void virt_exit(int code);

/* Report a trap nobody handles (mcause, mepc, mtval on the UART) and end
 * QEMU with status 128 + the exception code, or 192 + the interrupt code
 * for an interrupt: a crash never looks like success or a hang. */
__attribute__((noreturn)) void virt_unhandled_trap(void);

/* What a hart other than 0 runs (weak in startup.c: parks it). Entered
 * with its interrupts off and its own 4 KiB stack. */
void rv_other_hart(void);

#endif /* VIRT_H */
