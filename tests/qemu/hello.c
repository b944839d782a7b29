/* SPDX-License-Identifier: MIT */
/*
 * Smoke test for the QEMU harness: semihosting printf, .data and .bss set
 * up right, and SysTick interrupts waking the core from WFI.
 */
#include <stdint.h>
#include <stdio.h>

/* SysTick registers (ARMv7-M System Control Space). */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u) /* control and status */
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u) /* reload value */
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u) /* current value */

#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* count the core clock */

#define CORE_HZ 25000000u           /* mps2-an385 core clock */
#define TICK_HZ 1000u
#define TICKS_WANTED 10u

/* volatile so the compiler really reads them from RAM. */
volatile int initialised = 42;      /* lands in .data */
volatile int zeroed;                /* lands in .bss */

static volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
}

int main(void)
{
    printf("hello from cortex-m3: data=%d bss=%d\n", initialised, zeroed);
    if (initialised != 42 || zeroed != 0)
        return 1;

    SYST_RVR = CORE_HZ / TICK_HZ - 1;
    SYST_CVR = 0;                   /* any write clears it */
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;

    /* Sleep until enough interrupts have come; each one wakes WFI. */
    while (ticks < TICKS_WANTED)
        __asm__ volatile("wfi");

    SYST_CSR = 0;
    printf("systick: %lu ticks\n", (unsigned long)ticks);
    return 0;
}
