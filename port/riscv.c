/* SPDX-License-Identifier: MIT */
/*
 * port/riscv.c - tickless machine-timer time, WFI idle and wake for RISC-V.
 * See riscv.h for how to use it.
 */
#include "riscv.h"

#define MIE_MTIE 0x80u /* mie: machine timer interrupt enabled */

/* Clear and set mstatus.MIE (all machine-mode interrupts). */
static inline void irq_off(void)
{
    __asm__ volatile(ASYNC_RISCV_CSR("csrci mstatus, %0")
                     ::"i"(ASYNC_RISCV_MSTATUS_MIE) : "memory");
}

static inline void irq_on(void)
{
    __asm__ volatile(ASYNC_RISCV_CSR("csrsi mstatus, %0")
                     ::"i"(ASYNC_RISCV_MSTATUS_MIE) : "memory");
}

/* mtime is 64 bits. RV32 reads it as two words: read high, low, high again
 * and retry if a carry into the high word came between. */
static uint64_t read_mtime(const async_riscv_t *p)
{
#if __riscv_xlen == 32
    uint32_t hi, lo;
    do {
        hi = p->mtime[1];
        lo = p->mtime[0];
    } while (hi != p->mtime[1]);
    return (uint64_t)hi << 32 | lo;
#else
    return *(volatile uint64_t *)(void *)p->mtime;
#endif
}

/* Set mtimecmp. RV32 writes two words; the low word goes to all ones first
 * so that the half-written value is never below the new one and cannot
 * raise a spurious interrupt (the sequence in the privileged spec). */
static void write_mtimecmp(const async_riscv_t *p, uint64_t t)
{
#if __riscv_xlen == 32
    p->mtimecmp[0] = UINT32_MAX;
    p->mtimecmp[1] = (uint32_t)(t >> 32);
    p->mtimecmp[0] = (uint32_t)t;
#else
    *(volatile uint64_t *)(void *)p->mtimecmp = t;
#endif
}

/* mtimecmp parked: mtime never gets there (not in 58,000 years at
 * 10 MHz), so no timer interrupt comes. */
#define PARKED UINT64_MAX

/* The tick is derived from mtime, not counted by an interrupt: base is the
 * mtime at which tick `ticks` began, and each call moves both forward by
 * the whole ticks that have passed since. What is divided is then the few
 * counts since the last call, a 32-bit divu on RV32M, and libgcc's 64-bit
 * divide (__udivdi3) stays out. Only the loop calls now and idle, so base
 * and ticks need no lock; the interrupt handler touches only mtimecmp. */
static async_tick_t riscv_now(void *ctx)
{
    async_riscv_t *p = ctx;
    uint64_t elapsed;
    uint32_t n;

    /* 2^32 counts or more since the last call (429 s at 10 MHz, after a
     * sleep that long) take more than one round, each moving base on by
     * as many whole ticks as 32 bits of counts hold. */
    do {
        elapsed = read_mtime(p) - p->base;
        n = (elapsed >> 32 ? UINT32_MAX : (uint32_t)elapsed) / p->period;
        p->base += n * p->period;
        p->ticks = (async_tick_t)(p->ticks + n);
    } while (elapsed >> 32);
    return p->ticks;
}

/* Sleep in WFI until the deadline or a wake, tickless: mtimecmp is set
 * once, to the deadline, so no interrupt comes before it (none at all for
 * ASYNC_FOREVER). `ticks` counts from the tick now() last returned, the
 * one the loop computed it from, and base is where that tick began: the
 * deadline falls on a tick boundary however long ago that was.
 *
 * The check and the WFI run with mstatus.MIE clear: an interrupt arriving
 * after the check stays pending, and WFI ends on a pending interrupt
 * enabled in mie even with MIE clear, so the wake-up cannot slip in
 * between the check and the sleep. Setting MIE then takes the trap (the
 * timer's handler parks mtimecmp; another may post), and the loop checks
 * again. */
static void riscv_idle(void *ctx, async_tick_t ticks)
{
    async_riscv_t *p = ctx;
    uint64_t deadline = PARKED;

    if (ticks != ASYNC_FOREVER) {
        /* More than 2^32 - 1 ticks (64-bit ticks only): sleep that many and
         * return early, as idle may; the loop idles again for the rest.
         * This keeps the product within 64 bits. */
        uint32_t n = (uint32_t)ticks;
        if (n != ticks)
            n = UINT32_MAX;
        deadline = p->base + (uint64_t)n * p->period;
    }
    irq_off();
    write_mtimecmp(p, deadline);
    while (!p->woken && read_mtime(p) < deadline) {
        __asm__ volatile("wfi" ::: "memory");
        irq_on();
        irq_off();
    }
    p->woken = 0;
    /* After a wake the deadline is still armed: park it, so that no stale
     * interrupt comes while the loop runs. */
    write_mtimecmp(p, PARKED);
    irq_on();
}

/* Called by async_post, from interrupts too: a byte store is atomic, and
 * the interrupt that calls it has already ended the WFI. */
static void riscv_wake(void *ctx)
{
    ((async_riscv_t *)ctx)->woken = 1;
}

int async_riscv_init(async_riscv_t *p, uintptr_t mtime, uintptr_t mtimecmp,
                     uint32_t mtime_hz)
{
    if (!p || !mtime || !mtimecmp || mtime_hz < ASYNC_RISCV_TICK_HZ ||
        mtime_hz % ASYNC_RISCV_TICK_HZ != 0)
        return ASYNC_EINVAL;
    p->port.now = riscv_now;
    p->port.idle = riscv_idle;
    p->port.wake = riscv_wake;
    p->port.ctx = p;
    p->mtime = (volatile uint32_t *)mtime;
    p->mtimecmp = (volatile uint32_t *)mtimecmp;
    p->period = mtime_hz / ASYNC_RISCV_TICK_HZ;
    p->ticks = 0;
    p->woken = 0;
    p->base = read_mtime(p);
    write_mtimecmp(p, PARKED);
    __asm__ volatile(ASYNC_RISCV_CSR("csrs mie, %0")
                     ::"r"(MIE_MTIE) : "memory");
    irq_on();
    return 0;
}

void async_riscv_timer_irq(async_riscv_t *p)
{
    /* The interrupt stays pending while mtime >= mtimecmp: park the
     * compare to end it. Nothing to count: idle sees from mtime that its
     * deadline has passed, and now() derives the tick from mtime. */
    write_mtimecmp(p, PARKED);
}
