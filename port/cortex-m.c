/* SPDX-License-Identifier: MIT */
/*
 * port/cortex-m.c - SysTick tick, WFI idle (tickless if configured) and
 * wake for Cortex-M. See cortex-m.h for how to use it.
 */
#include "cortex-m.h"

/* SysTick registers, at the same address on every Cortex-M. As one
 * struct, the compiler keeps one base address instead of three. */
typedef struct {
    volatile uint32_t csr; /* control and status */
    volatile uint32_t rvr; /* reload value */
    volatile uint32_t cvr; /* current value */
} cortexm_systick_regs;
#define SYST ((cortexm_systick_regs *)0xE000E010u)
#define SYST_CSR (SYST->csr)
#define SYST_RVR (SYST->rvr)
#define SYST_CVR (SYST->cvr)

#define SYST_CSR_ENABLE 0x1u
#define SYST_CSR_TICKINT 0x2u
#define SYST_CSR_CLKSOURCE 0x4u /* count the core clock */
#define SYST_CSR_RUN (SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE)
#define SYST_RVR_MAX 0x00FFFFFFu

/* Interrupt control and state: PENDSTSET reads 1 while a SysTick exception
 * is pending, that is while an expiry has not been counted yet. */
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define SCB_ICSR_PENDSTSET (1u << 26)

/* n / d, for d below 2^31. ARMv6-M has no divide instruction, and `/`
 * there would pull in libgcc's __aeabi_uidiv (about 270 bytes on
 * Cortex-M0+) for divisions that are all off the hot path: shift and
 * subtract instead, 32 rounds. Cores with UDIV use it. */
static uint32_t cortexm_div(uint32_t n, uint32_t d)
{
#if defined(__ARM_FEATURE_IDIV)
    return n / d;
#else
    uint32_t r = 0;
    int i;
    /* n shifts out at the top while the quotient shifts in at the bottom. */
    for (i = 0; i < 32; i++) {
        r = r << 1 | n >> 31;
        n <<= 1;
        if (r >= d) {
            r -= d;
            n |= 1u;
        }
    }
    return n;
#endif
}

static async_tick_t cortexm_now(void *ctx)
{
    async_cortexm_t *p = ctx;
    async_tick_t t = p->ticks;
    /* A 64-bit tick is two loads; read again until no SysTick came between
     * them. Narrower ticks are one load and the loop folds away. */
    if (sizeof(async_tick_t) > sizeof(uint32_t))
        while (t != p->ticks)
            t = p->ticks;
    p->last = t; /* what idle's `ticks` will count from */
    return t;
}

#if ASYNC_CORTEXM_TICKLESS
/* The shortest first period a restart leaves, in SysTick counts (core
 * cycles): enough for the bookkeeping, the poll and the store after it. */
#define CORTEXM_MIN_PERIOD 64u
#define CORTEXM_STOPPED ((uint32_t)ASYNC_CORTEXM_STOPPED)

/* Restart SysTick so that its next interrupt comes at the span-th tick
 * boundary from now, first counting the whole ticks that have passed in
 * the running period. Tick boundaries stay where one-tick periods would
 * have put them: the new period first finishes the tick in progress.
 * Called with interrupts masked, so the handler cannot run in between.
 *
 * The counter stops from the second read to the restart, some 25 cycles
 * that the tick count never sees (at 16 MHz and 1 kHz, a tick per 600-odd
 * restarts) unless ASYNC_CORTEXM_STOPPED gives them back: the new period
 * is shortened by as many. The division runs before, on the first read,
 * and is corrected for a boundary the counter crossed meanwhile.
 *
 * The one-tick reload goes back a few cycles after the restart, which
 * must come before the first period expires: CORTEXM_MIN_PERIOD. (An
 * emulator that stalls the core there can see the first period expire
 * twice and count a tick too many; silicon cannot.) */
static void cortexm_restart(async_cortexm_t *p, uint32_t span)
{
    const uint32_t per = p->per;
    uint32_t more = (span - 1u) * per; /* whole ticks after the first */
    uint32_t v, ahead, at;

    if (SCB_ICSR & SCB_ICSR_PENDSTSET)
        return; /* expired: the handler counts it (see below) */
    v = SYST_CVR;
    /* The running period expires at 0 and its tick boundaries lie at the
     * multiples of per; `ahead` counts those beyond the next one. */
    ahead = v ? cortexm_div(v - 1u, per) : 0u;
    at = ahead * per;
    /* Keep both products out of the stopped stretch. */
    __asm__ volatile("" : "+r"(at), "+r"(more) : : "memory");
    SYST_CSR = SYST_CSR_RUN & ~SYST_CSR_ENABLE;
    v = SYST_CVR;
    if (v == 0u || (SCB_ICSR & SCB_ICSR_PENDSTSET)) {
        /* The period has expired and the handler has not counted it yet:
         * leave it to the handler, which runs once interrupts unmask. */
        SYST_CSR = SYST_CSR_RUN;
        return;
    }
    while (v <= at) {
        at -= per;
        ahead--;
    }
    /* Counts to the next boundary (1 to per), then whole ticks. A first
     * period too short for the reload to come back in time is stretched
     * by a tick, whose boundary is then counted a tick late, not early. */
    v = v - at + more;
    if (v < CORTEXM_MIN_PERIOD + CORTEXM_STOPPED) {
        v += per;
        span++;
    }
    v -= CORTEXM_STOPPED;
    SYST_RVR = v - 1u; /* at most max_span * per - 1: fits 24 bits */
    SYST_CVR = 0;      /* the counter loads RVR on its next clock */
    SYST_CSR = SYST_CSR_RUN;
    p->ticks = (async_tick_t)(p->ticks + (p->span - 1u - ahead));
    p->span = span;
    /* Once loaded, the reload can go back to one tick for the periods
     * after this one. On silicon this waits a clock; QEMU loads later. */
    while (SYST_CVR == 0u) {
    }
    SYST_RVR = per - 1u;
}
#endif

/* Sleep in WFI until `ticks` have passed or wake is called. The check and
 * the WFI run with interrupts masked: an interrupt arriving after the check
 * stays pending, and a pending interrupt ends WFI even while masked, so the
 * wake-up cannot slip in between the check and the sleep. Unmasking then
 * lets the handler run, and the loop checks again.
 *
 * Tickless, SysTick is first reloaded to expire at the deadline (or as far
 * as 24 bits reach); if something else ends the WFI first, the ticks that
 * passed are counted and SysTick goes back to one-tick periods before the
 * loop runs, so `now` is again within a tick of the truth (never ahead)
 * whenever the loop looks. */
static void cortexm_idle(void *ctx, async_tick_t ticks)
{
    async_cortexm_t *p = ctx;
    /* ticks counts from the tick the loop computed it from, the one now()
     * last returned: an interrupt that ran since must not push the
     * deadline back by its own length. */
    const async_tick_t start = p->last;

    for (;;) {
        async_tick_t gone;
        __asm__ volatile("cpsid i" ::: "memory");
        /* Masked, no SysTick can come between the two loads of a 64-bit
         * tick: one read is enough. */
        gone = (async_tick_t)(p->ticks - start);
        if (p->woken || (ticks != ASYNC_FOREVER && gone >= ticks))
            break;
#if ASYNC_CORTEXM_TICKLESS
        {
            async_tick_t left = ticks;
            if (ticks != ASYNC_FOREVER)
                left = (async_tick_t)(ticks - gone);
            if (left > p->max_span)
                left = p->max_span;
            if (left > 1u)
                cortexm_restart(p, (uint32_t)left);
        }
#endif
        /* DSB: finish outstanding memory writes before sleeping, as ARM
         * recommends before WFI. */
        __asm__ volatile("dsb\n\twfi" ::: "memory");
#if ASYNC_CORTEXM_TICKLESS
        if (p->span != 1u)
            cortexm_restart(p, 1u);
#endif
        /* ISB: take the pending interrupt here, before the cpsid above
         * masks it again (M3/M4 may run two more instructions first). */
        __asm__ volatile("cpsie i\n\tisb" ::: "memory");
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
    uint32_t per;
    if (!p)
        return ASYNC_EINVAL;
    per = cortexm_div(core_hz, ASYNC_CORTEXM_TICK_HZ);
    /* A reload of 0 would stop SysTick; a period rounded down would make
     * every tick short, and time run fast. */
    if (per < 2u || per - 1u > SYST_RVR_MAX ||
        per * ASYNC_CORTEXM_TICK_HZ != core_hz)
        return ASYNC_EINVAL;
    p->port.now = cortexm_now;
    p->port.idle = cortexm_idle;
    p->port.wake = cortexm_wake;
    p->port.ctx = p;
    p->ticks = 0;
    p->last = 0;
    p->woken = 0;
#if ASYNC_CORTEXM_TICKLESS
    p->per = per;
    p->max_span = cortexm_div(SYST_RVR_MAX, per);
    p->span = 1;
#endif
    SYST_CSR = 0;
    SYST_RVR = per - 1u; /* the period is reload + 1 counts */
    SYST_CVR = 0;        /* any write clears the counter */
    SYST_CSR = SYST_CSR_RUN;
    return 0;
}

void async_cortexm_systick(async_cortexm_t *p)
{
    /* Only this handler and the masked idle write ticks; the loop reads. */
#if ASYNC_CORTEXM_TICKLESS
    p->ticks = (async_tick_t)(p->ticks + p->span);
    p->span = 1;
#else
    p->ticks = (async_tick_t)(p->ticks + 1u);
#endif
}
