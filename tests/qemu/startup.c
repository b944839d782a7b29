/* SPDX-License-Identifier: MIT */
/*
 * Startup code for QEMU's mps2-an385 board (Cortex-M3), used with newlib's
 * semihosting runtime (--specs=rdimon.specs).
 *
 * The vector table gives the initial stack pointer and the reset handler;
 * newlib's _start then zeroes .bss, sets up stdio, calls main and passes
 * its return value to QEMU through semihosting.
 *
 * Every other handler is weak, so a program can define its own (for
 * example SysTick_Handler). Any exception nobody handles prints a line on
 * the semihosting console and ends QEMU with exit status 128 + exception
 * number (HardFault: 131), so a crash never looks like success or a hang.
 */
#include <stdint.h>

typedef void (*vector_t)(void);

extern uint32_t __stack[];      /* top of RAM, from the linker script */
extern void _start(void);       /* newlib's crt0 entry point */

void Reset_Handler(void);
void Default_Handler(void);

#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK_DEFAULT;
void HardFault_Handler(void) WEAK_DEFAULT;
void MemManage_Handler(void) WEAK_DEFAULT;
void BusFault_Handler(void) WEAK_DEFAULT;
void UsageFault_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;

/* The board has 32 external interrupts; none are used here. */
#define IRQ4 Default_Handler, Default_Handler, Default_Handler, Default_Handler
#define IRQ16 IRQ4, IRQ4, IRQ4, IRQ4

/* The core reads this table at address 0 (the linker script puts it there). */
__attribute__((section(".vectors"), used))
const vector_t vector_table[16 + 32] = {
    (vector_t)(uintptr_t)__stack,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,                 /* reserved */
    SVC_Handler,
    DebugMon_Handler,
    0,                          /* reserved */
    PendSV_Handler,
    SysTick_Handler,
    IRQ16, IRQ16,
};

void Reset_Handler(void)
{
    _start();                   /* does not return: it ends in exit() */
    for (;;) {
    }
}

/* Semihosting call: QEMU traps "bkpt 0xAB" and performs operation `op`. */
static uintptr_t semihost(uintptr_t op, const void *arg)
{
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;

    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

#define SYS_WRITE0 0x04u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

/* Writes "0x" and eight hex digits at p; returns the end. */
static char *put_hex(char *p, uint32_t v)
{
    *p++ = '0';
    *p++ = 'x';
    for (int shift = 28; shift >= 0; shift -= 4)
        *p++ = "0123456789abcdef"[(v >> shift) & 0xfu];
    return p;
}

/* Writes v in decimal at p; returns the end. */
static char *put_dec(char *p, uint32_t v)
{
    char digits[10];
    int n = 0;

    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    while (n > 0)
        *p++ = digits[--n];
    return p;
}

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

/*
 * Reports an unhandled exception and stops QEMU. Called by Default_Handler
 * with the exception frame the core stacked (r0-r3, r12, lr, pc, xpsr).
 * Uses raw semihosting, not printf: the C library may be what broke.
 */
__attribute__((noreturn, noinline, used))
static void report_exception(const uint32_t *frame)
{
    uint32_t ipsr;
    char line[80];
    char *p = line;

    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1ffu;
    p = put_str(p, "unhandled exception ");
    p = put_dec(p, ipsr);
    p = put_str(p, " pc=");
    p = put_hex(p, frame[6]);
    p = put_str(p, " cfsr=");
    p = put_hex(p, *(volatile uint32_t *)0xE000ED28u);
    p = put_str(p, " hfsr=");
    p = put_hex(p, *(volatile uint32_t *)0xE000ED2Cu);
    p = put_str(p, "\n");
    *p = '\0';
    semihost(SYS_WRITE0, line);

    /* The extended form carries an exit status, not just "failed". */
    const uint32_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, 128u + ipsr };
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}

/* Naked so the stack pointer still points at the exception frame. */
__attribute__((naked))
void Default_Handler(void)
{
    __asm__ volatile(
        "tst   lr, #4\n\t"      /* EXC_RETURN bit 2: which stack was in use */
        "ite   eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "b     report_exception\n\t");
}
