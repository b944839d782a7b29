/* SPDX-License-Identifier: MIT */
/*
 * port/riscv.h - async.h port for RISC-V in machine mode (one hart).
 *
 * Time, tickless: mtime is a free-running 64-bit counter, so the tick is
 * derived from it (ASYNC_RISCV_TICK_HZ ticks a second, default 1000: one
 * per millisecond) and no periodic interrupt is needed. mtimecmp is set
 * only while the loop idles, to its next deadline, and parked at all ones
 * otherwise: a 500-tick sleep takes one timer interrupt, a wait with no
 * deadline none. The registers' addresses and mtime's frequency vary by
 * SoC, so init takes them (SiFive CLINT and QEMU virt: mtime at base +
 * 0xBFF8, hart 0's mtimecmp at base + 0x4000). The port's now and idle
 * belong to the loop (they move the port's tick base); an interrupt
 * handler that wants the time reads mtime, or async_loop_now's last
 * value.
 * Idle: WFI with mstatus.MIE clear after a last check for work. WFI ends
 * when an interrupt enabled in mie is pending, whatever mstatus.MIE says,
 * so an interrupt that posts just before the WFI is never lost.
 * Wake: sets a flag the idle loop checks; the interrupt that called
 * async_post has already ended the WFI.
 * Freestanding: no libc, no vendor headers, no 64-bit division (libgcc's
 * __udivdi3 stays out: now() divides only the counts since its last call).
 *
 * Use: the application owns the port and its trap handler, and calls the
 * timer body for the machine timer interrupt (mcause 0x80000007 on RV32).
 * mtvec's low two bits select the mode, so the handler must be 4-byte
 * aligned (compressed code aligns functions to 2 only):
 *
 *     static async_riscv_t port;
 *
 *     __attribute__((interrupt("machine"), aligned(4))) void trap(void)
 *     {
 *         unsigned long cause;
 *         __asm__ volatile(ASYNC_RISCV_CSR("csrr %0, mcause")
 *                          : "=r"(cause));
 *         if (cause == ((1ul << (__riscv_xlen - 1)) | 7u))
 *             async_riscv_timer_irq(&port);
 *     }
 *
 *     int main(void)
 *     {
 *         __asm__ volatile(ASYNC_RISCV_CSR("csrw mtvec, %0") :: "r"(trap));
 *         async_riscv_init(&port, 0x0200BFF8u, 0x02004000u, 10000000u);
 *         async_loop_init(&loop, timers, 8);
 *         async_loop_set_port(&loop, &port.port);
 *         return async_loop_run(&loop, &task, app, &frame);
 *     }
 *
 * async_riscv_init enables the timer interrupt (mie.MTIE) and interrupts
 * (mstatus.MIE), so install the trap handler first.
 *
 * Posting from interrupts (async_post): with the A extension (RV32IMAC and
 * the like) async.c is lock-free and this file's config part defines
 * nothing. On cores without it, build async.c AND the application with
 *
 *     -I<project root> -DASYNC_CONFIG_FILE='"port/riscv.h"'
 *
 * to get a critical section that clears mstatus.MIE.
 *
 * Other interrupts that post (a UART, a software interrupt) need only
 * their enable bit in mie: their pending bit ends the WFI like the
 * timer's. tests/qemu-riscv/port_smoke.c runs all this on QEMU's virt
 * machine.
 */

/* ----------------------------------------------------------------------
 * Config part: included first by async.h when named by ASYNC_CONFIG_FILE,
 * so it may use nothing from async.h.
 * -------------------------------------------------------------------- */
#ifndef ASYNC_PORT_RISCV_CONFIG_H
#define ASYNC_PORT_RISCV_CONFIG_H

#include <stdint.h>

/* Tick rate. */
#if !defined(ASYNC_RISCV_TICK_HZ)
#define ASYNC_RISCV_TICK_HZ 1000u
#endif

/* mstatus.MIE: machine-mode interrupts enabled. */
#define ASYNC_RISCV_MSTATUS_MIE 0x8u

/* Wraps one CSR instruction for inline assembly. Binutils 2.38 and later
 * reject CSR instructions unless the architecture names Zicsr, which
 * -march=rv32imac does not under the 2019 ISA spec that GCC 12 defaults
 * to; so Zicsr is switched on around the instruction. Binutils older than
 * 2.38 know neither the check nor `.option arch`: define
 * ASYNC_RISCV_OPTION_ARCH to 0 there. */
#if !defined(ASYNC_RISCV_OPTION_ARCH)
#define ASYNC_RISCV_OPTION_ARCH 1
#endif
#if ASYNC_RISCV_OPTION_ARCH && !defined(__riscv_zicsr)
#define ASYNC_RISCV_CSR(insn)                                                 \
    ".option push\n\t.option arch, +zicsr\n\t" insn "\n\t.option pop"
#else
#define ASYNC_RISCV_CSR(insn) insn
#endif

/* The critical section where pointer atomics are missing: clear
 * mstatus.MIE, remembering whether it was set, and set it back only if it
 * was. The two macros open and close one block, like
 * pthread_cleanup_push/pop, so they must pair within one block; that is how
 * async.c uses them. */
#if !(defined(__GCC_ATOMIC_POINTER_LOCK_FREE) &&                              \
      __GCC_ATOMIC_POINTER_LOCK_FREE == 2) &&                                 \
    !defined(ASYNC_PORT_LOCK)
static inline unsigned long async__riscv_mask(void)
{
    unsigned long mstatus;
    __asm__ volatile(ASYNC_RISCV_CSR("csrrci %0, mstatus, %1")
                     : "=r"(mstatus)
                     : "i"(ASYNC_RISCV_MSTATUS_MIE)
                     : "memory");
    return mstatus;
}

static inline void async__riscv_restore(unsigned long mstatus)
{
    __asm__ volatile(ASYNC_RISCV_CSR("csrs mstatus, %0")
                     :
                     : "r"(mstatus & ASYNC_RISCV_MSTATUS_MIE)
                     : "memory");
}

#define ASYNC_PORT_LOCK()                                                     \
    {                                                                         \
        const unsigned long async__mstatus = async__riscv_mask()
#define ASYNC_PORT_UNLOCK()                                                   \
        async__riscv_restore(async__mstatus);                                 \
    }
#endif

#endif /* ASYNC_PORT_RISCV_CONFIG_H */

/* ----------------------------------------------------------------------
 * Port part. Skipped while async.h is including this file as its config
 * (async.h's types do not exist yet: ASYNC_FOREVER is defined only after
 * the config); seen when the application or riscv.c includes it.
 * -------------------------------------------------------------------- */
#if !defined(ASYNC_H) || defined(ASYNC_FOREVER)
#ifndef ASYNC_PORT_RISCV_H
#define ASYNC_PORT_RISCV_H

#include "../async.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The port's state. The caller owns it (static storage); the timer
 * interrupt and the loop share it. */
typedef struct async_riscv {
    async_port_t port;           /* give &p->port to async_loop_set_port */
    volatile uint32_t *mtime;    /* private: 64-bit counter, low word first */
    volatile uint32_t *mtimecmp; /* private: 64-bit compare, low word first */
    uint64_t base;               /* private: mtime at which `ticks` began */
    uint32_t period;             /* private: mtime counts per tick */
    async_tick_t ticks;          /* private: the tick now() last returned */
    volatile uint8_t woken;      /* private: set by wake, cleared by idle */
} async_riscv_t;

/* Fill in p, park mtimecmp and enable the machine timer interrupt and
 * interrupts. mtime, mtimecmp: the registers' addresses; mtime_hz: mtime's
 * frequency (a tick is mtime_hz / ASYNC_RISCV_TICK_HZ counts). The tick
 * count starts at 0 and wraps at the tick width. Returns 0, or
 * ASYNC_EINVAL for a NULL p or address, or an mtime_hz that is not a
 * multiple of the tick rate (a tick rounded down would make time run
 * fast): for a 32768 Hz mtime (SiFive FE310) build with
 * -DASYNC_RISCV_TICK_HZ=1024u. */
int async_riscv_init(async_riscv_t *p, uintptr_t mtime, uintptr_t mtimecmp,
                     uint32_t mtime_hz);

/* The machine timer interrupt's body: call it from the trap handler.
 * It parks mtimecmp, which clears the interrupt; that is all, since idle
 * reads the time from mtime. A spurious call does no harm. */
void async_riscv_timer_irq(async_riscv_t *p);

#ifdef __cplusplus
}
#endif

#endif /* ASYNC_PORT_RISCV_H */
#endif
