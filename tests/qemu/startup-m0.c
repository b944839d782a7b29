/* SPDX-License-Identifier: MIT */
/*
 * Startup code for QEMU's microbit board (Cortex-M0, ARMv6-M), used with
 * newlib's semihosting runtime (--specs=rdimon.specs) and microbit.ld.
 *
 * startup.c serves mps2-an385, but its fault handler uses Thumb-2
 * instructions that ARMv6-M lacks; this is the same contract in Thumb-1:
 * reset runs newlib's _start (which calls main and exits with its status),
 * every handler is weak so a program can supply SysTick_Handler, and an
 * exception nobody handles prints its number and ends QEMU with exit
 * status 128 + that number (HardFault: 131) instead of hanging.
 */
#include <stdint.h>

typedef void (*handler_t)(void);

extern uint32_t __stack[]; /* top of RAM, from microbit.ld */
extern void _start(void);  /* newlib's entry: .bss, stdio, main, exit */

void Reset_Handler(void);
void Unhandled_Handler(void);

#define WEAK __attribute__((weak, alias("Unhandled_Handler")))
void NMI_Handler(void) WEAK;
void HardFault_Handler(void) WEAK;
void SVC_Handler(void) WEAK;
void PendSV_Handler(void) WEAK;
void SysTick_Handler(void) WEAK;

#define U Unhandled_Handler
#define U8 U, U, U, U, U, U, U, U

/* ARMv6-M: 16 system entries (several reserved), then the nRF51's 32
 * interrupts. */
__attribute__((section(".vectors"), used))
const handler_t vectors[16 + 32] = {
    (handler_t)(uintptr_t)__stack,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    0, 0, 0, 0, 0, 0, 0,
    SVC_Handler,
    0, 0,
    PendSV_Handler,
    SysTick_Handler,
    U8, U8, U8, U8,
};

void Reset_Handler(void)
{
    _start();
    for (;;) {
    }
}

/* Semihosting: QEMU performs operation op when the core hits bkpt 0xAB. */
static void semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}

/* The exception number from IPSR, in the message and the exit status.
 * Raw semihosting, no printf: the C library may be what failed. */
void Unhandled_Handler(void)
{
    uint32_t ipsr;
    char msg[] = "unhandled exception 00\n";
    uint32_t exit_block[2];

    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x3Fu; /* ARMv6-M: at most 16 + 32 exceptions */
    msg[20] = (char)('0' + ipsr / 10u);
    msg[21] = (char)('0' + ipsr % 10u);
    semihost(0x04u, msg);                 /* SYS_WRITE0 */
    exit_block[0] = 0x20026u;             /* ADP_Stopped_ApplicationExit */
    exit_block[1] = 128u + ipsr;
    semihost(0x20u, exit_block);          /* SYS_EXIT_EXTENDED */
    for (;;) {
    }
}
