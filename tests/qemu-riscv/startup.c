/* SPDX-License-Identifier: MIT */
/*
 * startup.c - the C half of the start-up for QEMU's virt machine: zero
 * .bss, run main, hand its status to QEMU; the UART, the exit device and
 * the report of a trap nobody handles. crt0.S jumps here with a stack.
 */
#include <stddef.h>
#include <stdint.h>

#include "virt.h"

int main(int argc, char **argv);
void rv_start(void);
void rv_halt(void);
void rv_trap_default(void);

extern uint32_t __bss_start[], __bss_end[];

#define UART_THR 0u     /* transmit holding register */
#define UART_LSR 5u     /* line status */
#define UART_LSR_THRE 0x20u

void virt_putc(char c)
{
    volatile uint8_t *uart = (volatile uint8_t *)(uintptr_t)VIRT_UART;
    while (!(uart[UART_LSR] & UART_LSR_THRE)) {
    }
    uart[UART_THR] = (uint8_t)c;
}

uint64_t virt_mtime(void)
{
    volatile uint32_t *mtime = (volatile uint32_t *)(uintptr_t)VIRT_MTIME;
    uint32_t hi, lo;
    do {
        hi = mtime[1];
        lo = mtime[0];
    } while (hi != mtime[1]);
    return (uint64_t)hi << 32 | lo;
}

void virt_exit(int code)
{
    /* The test device ends QEMU: 0x5555 with status 0, or 0x3333 with the
     * status in the upper half. */
    code &= 0xff;
    VIRT_REG(VIRT_FINISHER) = code ? (uint32_t)code << 16 | 0x3333u : 0x5555u;
    rv_halt();
    for (;;) {
    }
}

void rv_halt(void)
{
    for (;;)
        __asm__ volatile("wfi");
}

static void put_str(const char *s)
{
    while (*s)
        virt_putc(*s++);
}

static void put_hex(unsigned long v)
{
    int shift;
    put_str("0x");
    for (shift = __riscv_xlen - 4; shift >= 0; shift -= 4)
        virt_putc("0123456789abcdef"[(v >> shift) & 0xfu]);
}

void virt_unhandled_trap(void)
{
    unsigned long cause, epc, tval;
    const unsigned long irq = 1ul << (__riscv_xlen - 1);

    __asm__ volatile(VIRT_CSR("csrr %0, mcause") : "=r"(cause));
    __asm__ volatile(VIRT_CSR("csrr %0, mepc") : "=r"(epc));
    __asm__ volatile(VIRT_CSR("csrr %0, mtval") : "=r"(tval));
    put_str("\nunhandled trap: mcause=");
    put_hex(cause);
    put_str(" mepc=");
    put_hex(epc);
    put_str(" mtval=");
    put_hex(tval);
    put_str("\n");
    virt_exit(cause & irq ? 192 + (int)(cause & 63u) : 128 + (int)(cause & 63u));
}

/* mtvec's target until a program installs its own: direct mode, so it
 * must be 4-byte aligned. */
__attribute__((interrupt("machine"), aligned(4)))
void rv_trap_default(void)
{
    virt_unhandled_trap();
}

__attribute__((weak)) void rv_other_hart(void)
{
    rv_halt();
}

void rv_start(void)
{
    static char name[] = "qemu-riscv";
    static char *argv[] = { name, NULL };
    uint32_t *p;

    for (p = __bss_start; p < __bss_end; p++)
        *p = 0;
    virt_exit(main(1, argv));
}
