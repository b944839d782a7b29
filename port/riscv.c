/* SPDX-License-Identifier: MIT */
/*
 * port/riscv.c - machine-timer tick, WFI idle and wake for RISC-V.
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

static async_tick_t riscv_now(void *ctx)
{
    const async_riscv_t *p = ctx;
    async_tick_t t = p->ticks;
    /* A tick wider than a register is two loads: read again until no
     * timer interrupt came between them. Otherwise the loop folds away. */
    if (sizeof(async_tick_t) > sizeof(unsigned long))
        while (t != p->ticks)
            t = p->ticks;
    return t;
}

/* Sleep in WFI until `ticks` have passed or wake is called. The check and
 * the WFI run with mstatus.MIE clear: an interrupt arriving after the check
 * stays pending, and WFI ends on a pending interrupt enabled in mie even
 * with MIE clear, so the wake-up cannot slip in between the check and the
 * sleep. Setting MIE then takes the trap, and the loop checks again.
 *
 * Tickless idle would go here: for a long sleep, set mtimecmp to
 * p->next + (ticks - 1) * p->period instead of taking an interrupt every
 * period. async_riscv_timer_irq already counts every period that has
 * passed; riscv_now would have to count from mtime too, as another
 * interrupt may end the sleep early. */
static void riscv_idle(void *ctx, async_tick_t ticks)
{
    async_riscv_t *p = ctx;
    const async_tick_t start = riscv_now(p);

    for (;;) {
        irq_off();
        if (p->woken || (ticks != ASYNC_FOREVER &&
                         (async_tick_t)(riscv_now(p) - start) >= ticks))
            break;
        __asm__ volatile("wfi" ::: "memory");
        irq_on();
    }
    p->woken = 0;
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
    if (!p || !mtime || !mtimecmp || mtime_hz < ASYNC_RISCV_TICK_HZ)
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
    p->next = read_mtime(p) + p->period;
    write_mtimecmp(p, p->next);
    __asm__ volatile(ASYNC_RISCV_CSR("csrs mie, %0")
                     ::"r"(MIE_MTIE) : "memory");
    irq_on();
    return 0;
}

void async_riscv_timer_irq(async_riscv_t *p)
{
    const uint64_t now = read_mtime(p);
    /* Count every period that has ended, so a late interrupt loses no
     * time (and a spurious call counts none); only this handler writes
     * ticks and next. */
    while ((int64_t)(now - p->next) >= 0) {
        p->next += p->period;
        p->ticks = (async_tick_t)(p->ticks + 1u);
    }
    write_mtimecmp(p, p->next);
}
