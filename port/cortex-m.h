/* SPDX-License-Identifier: MIT */
/*
 * port/cortex-m.h - async.h port for ARM Cortex-M (M0, M0+, M3, M4, M7, M33).
 *
 * Time: SysTick counts ticks of 1/ASYNC_CORTEXM_TICK_HZ s (default 1000:
 * one tick per millisecond). While the loop runs it interrupts every tick.
 * Idle: WFI, entered with interrupts masked after a last check for work, so
 * an interrupt that posts just before the WFI is never lost (a pending
 * interrupt ends WFI even while PRIMASK masks it).
 * Tickless idle (ASYNC_CORTEXM_TICKLESS=1): for an idle of two ticks or
 * more, SysTick is reloaded so that one interrupt covers the idle, or as
 * many ticks as its 24-bit counter holds (16 777 215 core cycles: 1 s at
 * 16 MHz, 0.67 s at 25 MHz, 0.26 s at 64 MHz), and an early wake-up counts
 * the whole ticks that passed from the counter. Each such reload stops the
 * counter for some 25 cycles, which the tick count does not see: time runs
 * that much slow per reload, unless ASYNC_CORTEXM_STOPPED gives them back
 * (see below). It is off by default because it changes what
 * SysTick_Handler sees: the handler then runs once per idle period, not
 * once per tick, and the tick count moves in steps. Code in SysTick_Handler
 * that must run every tick, or waits for the count to equal a value, needs
 * the default.
 * Wake: sets a flag the idle loop checks; the interrupt that called
 * async_post has already ended the WFI.
 * No CMSIS: the few registers are written by address, so this compiles with
 * nothing but the toolchain.
 *
 * Use: the application owns the port's state, the vector table and so the
 * handler (a weak SysTick_Handler here would compete with the weak default
 * in every vendor startup file, and which one wins depends on link order).
 * examples/cortex-m.c is a whole firmware main(); its core is
 *
 *     static async_cortexm_t port;
 *     void SysTick_Handler(void) { async_cortexm_systick(&port); }
 *     ...
 *     async_cortexm_init(&port, 25000000u);     // the core clock in Hz
 *     async_loop_init(&loop, timers, 4);
 *     async_loop_set_port(&loop, &port.port);
 *     return async_loop_run(&loop, &task, blink, &frame);
 *
 * Run the loop with interrupts enabled (PRIMASK clear, the reset state).
 *
 * Posting from interrupts (async_post) on ARMv6-M (M0, M0+, M1), which has
 * no exclusive loads and stores, needs a critical section. This file doubles
 * as a config header that provides one: build async.c AND the application
 * with
 *
 *     -I<project root> -DASYNC_CONFIG_FILE='"port/cortex-m.h"'
 *
 * On ARMv7-M and later the compiler has lock-free pointer atomics and the
 * config part defines nothing: async.c uses its lock-free path. Without this
 * config on ARMv6-M, async_post is safe only from the loop's own code.
 *
 * Interrupts masked for longer than a tick lose ticks: SysTick remembers
 * only one expiry.
 *
 * One core: the PRIMASK lock and the WFI wake-up are the running core's.
 * On a multi-core part (RP2040), post only from the loop's core and its
 * interrupts; another core's post would race with them, and would not
 * end the loop's WFI.
 */

/* ----------------------------------------------------------------------
 * Config part: included first by async.h when named by ASYNC_CONFIG_FILE,
 * so it may use nothing from async.h.
 * -------------------------------------------------------------------- */
#ifndef ASYNC_PORT_CORTEXM_CONFIG_H
#define ASYNC_PORT_CORTEXM_CONFIG_H

#include <stdint.h>

/* Tick rate. */
#if !defined(ASYNC_CORTEXM_TICK_HZ)
#define ASYNC_CORTEXM_TICK_HZ 1000u
#endif

/* 1: tickless idle (see above). Build the port and the application with
 * the same value: it changes async_cortexm_t. */
#if !defined(ASYNC_CORTEXM_TICKLESS)
#define ASYNC_CORTEXM_TICKLESS 0
#endif

/* Tickless only: the core cycles SysTick stands still at each reload, for
 * the port to give back. It depends on the compiler, its flags, the core
 * and flash wait states, so the default gives back none. Measure the
 * cycles between the two SYST_CSR writes in cortexm_restart (with
 * DWT->CYCCNT, on your build) and set the lowest you see: too large a
 * value makes time run fast, and sleeps end early. */
#if !defined(ASYNC_CORTEXM_STOPPED)
#define ASYNC_CORTEXM_STOPPED 0
#endif

/* The critical section for async_post where pointer atomics are missing:
 * save PRIMASK, mask, restore. Restoring (rather than unmasking) keeps it
 * correct when async_post is called with interrupts already masked. The two
 * macros open and close one block, like pthread_cleanup_push/pop, so they
 * must pair within one block; that is how async.c uses them. */
#if !(defined(__GCC_ATOMIC_POINTER_LOCK_FREE) &&                              \
      __GCC_ATOMIC_POINTER_LOCK_FREE == 2) &&                                 \
    !defined(ASYNC_PORT_LOCK)
static inline uint32_t async__cortexm_mask(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    return primask;
}

static inline void async__cortexm_restore(uint32_t primask)
{
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
}

#define ASYNC_PORT_LOCK()                                                     \
    {                                                                         \
        const uint32_t async__primask = async__cortexm_mask()
#define ASYNC_PORT_UNLOCK()                                                   \
        async__cortexm_restore(async__primask);                               \
    }
#endif

#endif /* ASYNC_PORT_CORTEXM_CONFIG_H */

/* ----------------------------------------------------------------------
 * Port part. Skipped while async.h is including this file as its config
 * (async.h's types do not exist yet: ASYNC_FOREVER is defined only after
 * the config); seen when the application or cortex-m.c includes it.
 * -------------------------------------------------------------------- */
#if !defined(ASYNC_H) || defined(ASYNC_FOREVER)
#ifndef ASYNC_PORT_CORTEXM_H
#define ASYNC_PORT_CORTEXM_H

#include "../async.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The port's state. The caller owns it (static storage); the SysTick
 * handler and the loop share it. */
typedef struct async_cortexm {
    async_port_t port;           /* give &p->port to async_loop_set_port */
    volatile async_tick_t ticks; /* private: ticks counted so far */
    volatile uint8_t woken;      /* private: set by wake, cleared by idle */
    async_tick_t last;           /* private: the tick now() last returned */
#if ASYNC_CORTEXM_TICKLESS
    volatile uint32_t span;      /* private: ticks the running period is
                                    worth when it expires (1: ticking) */
    uint32_t per;                /* private: SysTick counts per tick */
    uint32_t max_span;           /* private: most ticks one period holds */
#endif
} async_cortexm_t;

/* Fill in p and start SysTick from the core clock (core_hz, in Hz) at
 * ASYNC_CORTEXM_TICK_HZ. The tick count starts at 0. Returns 0, or
 * ASYNC_EINVAL for NULL or a clock SysTick cannot divide down to the tick
 * rate exactly (not a multiple of it, below twice it, or a reload above
 * 24 bits): choose a tick rate that divides the clock, 1024 Hz for one
 * that counts a 32768 Hz crystal's multiples. */
int async_cortexm_init(async_cortexm_t *p, uint32_t core_hz);

/* The SysTick handler's body: call it from SysTick_Handler. Counts the
 * ticks of the SysTick period that just expired (one, or an idle period's
 * worth when tickless); the interrupt itself has already ended any WFI. */
void async_cortexm_systick(async_cortexm_t *p);

#ifdef __cplusplus
}
#endif

#endif /* ASYNC_PORT_CORTEXM_H */
#endif
