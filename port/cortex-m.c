/* SPDX-License-Identifier: MIT */
/*
 * port/cortex-m.c - SysTick tick, WFI idle and wake for Cortex-M.
 * See cortex-m.h for how to use it.
 */
#include "cortex-m.h"

/* SysTick registers, at the same address on every Cortex-M. */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u) /* control and status */
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u) /* reload value */
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u) /* current value */

#define SYST_CSR_ENABLE 0x1u
#define SYST_CSR_TICKINT 0x2u
#define SYST_CSR_CLKSOURCE 0x4u /* count the core clock */
#define SYST_RVR_MAX 0x00FFFFFFu

static async_tick_t cortexm_now(void *ctx)
{
    const async_cortexm_t *p = ctx;
    async_tick_t t = p->ticks;
    /* A 64-bit tick is two loads; read again until no SysTick came between
     * them. Narrower ticks are one load and the loop folds away. */
    if (sizeof(async_tick_t) > sizeof(uint32_t))
        while (t != p->ticks)
            t = p->ticks;
    return t;
}

/* Sleep in WFI until `ticks` have passed or wake is called. The check and
 * the WFI run with interrupts masked: an interrupt arriving after the check
 * stays pending, and a pending interrupt ends WFI even while masked, so the
 * wake-up cannot slip in between the check and the sleep. Unmasking then
 * lets the handler run, and the loop checks again.
 *
 * Tickless idle would go here: for a long sleep, stop SysTick, load a reload
 * covering min(ticks, what 24 bits allow) ticks, sleep, then add the whole
 * ticks elapsed (from the reload and SYST_CVR) to p->ticks and restore the
 * one-tick reload before unmasking. */
static void cortexm_idle(void *ctx, async_tick_t ticks)
{
    async_cortexm_t *p = ctx;
    const async_tick_t start = cortexm_now(p);

    for (;;) {
        __asm__ volatile("cpsid i" ::: "memory");
        if (p->woken || (ticks != ASYNC_FOREVER &&
                         (async_tick_t)(cortexm_now(p) - start) >= ticks))
            break;
        /* DSB: finish outstanding memory writes before sleeping, as ARM
         * recommends before WFI. */
        __asm__ volatile("dsb\n\twfi" ::: "memory");
        __asm__ volatile("cpsie i" ::: "memory");
    }
    p->woken = 0;
    __asm__ volatile("cpsie i" ::: "memory");
}

/* Called by async_post, from interrupts too: a byte store is atomic, and
 * the interrupt that calls it has already ended the WFI. */
static void cortexm_wake(void *ctx)
{
    ((async_cortexm_t *)ctx)->woken = 1;
}

int async_cortexm_init(async_cortexm_t *p, uint32_t core_hz)
{
    uint32_t reload;
    if (!p)
        return ASYNC_EINVAL;
    reload = core_hz / ASYNC_CORTEXM_TICK_HZ;
    /* A reload of 0 would stop SysTick. */
    if (reload < 2u || reload - 1u > SYST_RVR_MAX)
        return ASYNC_EINVAL;
    p->port.now = cortexm_now;
    p->port.idle = cortexm_idle;
    p->port.wake = cortexm_wake;
    p->port.ctx = p;
    p->ticks = 0;
    p->woken = 0;
    SYST_CSR = 0;
    SYST_RVR = reload - 1u; /* the period is reload + 1 counts */
    SYST_CVR = 0;           /* any write clears the counter */
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
    return 0;
}

void async_cortexm_systick(async_cortexm_t *p)
{
    /* Only this handler writes ticks, and the loop only reads it. */
    p->ticks = (async_tick_t)(p->ticks + 1u);
}
