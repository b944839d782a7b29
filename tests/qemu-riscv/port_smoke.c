/* SPDX-License-Identifier: MIT */
/*
 * port_smoke.c - the library on the tickless RISC-V port (port/riscv.c),
 * on QEMU's virt machine with two harts.
 *
 * Hart 0 runs the loop. Hart 1 plays an outside device: asked for a time,
 * it sleeps on its own mtimecmp and then raises hart 0's software
 * interrupt, whose handler posts a callback (async_post), the way a
 * driver's interrupt would. The trap handler is the one riscv.h
 * documents, plus the software interrupt and counters.
 *
 * Checks:
 *   1. init refuses bad arguments.
 *   2. Sleepers of 30, 10 and 20 ticks wake in deadline order, each at its
 *      tick by the loop's clock and by mtime's.
 *   3. Tickless: a 500-tick sleep takes one timer interrupt, not 500.
 *   4. A post from the software interrupt wakes a loop idling with no
 *      deadline (ASYNC_FOREVER), with no timer interrupt meanwhile.
 *   5. A post from the software interrupt ends a 300-tick sleep's idle
 *      early (at tick 100), the loop idles again for the rest, and a post
 *      from the timer interrupt at tick 300 runs before the sleeper goes
 *      on. Then an early wake leaves no timer armed: a callback that keeps
 *      the loop busy past the old deadline sees no timer interrupt.
 *   6. (SMOKE_LONG) Long sleeps: the tick wraps (16 and 32 bits: three
 *      sleeps of ASYNC_MAX_DELAY), more than 2^32 mtime counts pass
 *      between two readings (32 and 64 bits), and with 64-bit ticks a sleep
 *      longer than 2^32 ticks, which the port's idle splits.
 *
 * Timing is checked exactly (SMOKE_SLACK = 0) when QEMU runs with
 * -icount shift=0,sleep=off: time is then the instruction count, and an
 * idle machine's clock jumps to the next timer, so the long sleeps (74
 * virtual days with 32-bit ticks) take no real time, and a port that spun
 * instead of sleeping in WFI would never get there. In real time, build
 * with -DSMOKE_SLACK=N (ticks a wake may be late) and -DSMOKE_LONG=0.
 *
 * Exit status 0 iff every check holds.
 */
#include <stdio.h>
#include <string.h>

#include "async.h"
#include "port/riscv.h"
#include "virt.h"

#if !defined(SMOKE_SLACK)
#define SMOKE_SLACK 0
#endif
#if !defined(SMOKE_LONG)
#define SMOKE_LONG 1
#endif

#define PERIOD (VIRT_MTIME_HZ / ASYNC_RISCV_TICK_HZ) /* mtime counts a tick */
#define MIE_MSIE 0x8u
#define MIE_MTIE 0x80u

static async_riscv_t port;
static async_port_t counting; /* port.port, with idle calls counted */
static async_loop_t loop;
ASYNC_TIMERS(timers, 8);

static int failures;
static uint64_t mtime0;              /* mtime at tick 0 */
static volatile unsigned timer_irqs; /* machine timer interrupts taken */
static volatile unsigned soft_irqs;  /* software interrupts taken */
static unsigned idle_calls;
static async_tick_t last_idle;       /* ticks of the last idle call */

static volatile int post_on_timer; /* the next timer interrupt posts */
static async_callback_t timer_cb, soft_cb;
static async_event_t soft_event;
static async_tick_t timer_at, soft_at; /* when each callback ran */
static async_tick_t soft_busy;         /* on_soft keeps the loop busy */

static void check(int ok, const char *what)
{
    printf("check: %s: %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

/* The tick by mtime, independently of the port: the whole periods since
 * tick 0 (a 64-bit division, from libgcc), at the tick width. */
static uint64_t mtime_ticks64(void)
{
    return (virt_mtime() - mtime0) / PERIOD;
}

static async_tick_t mtime_ticks(void)
{
    return (async_tick_t)mtime_ticks64();
}

/* A wake at `got` for a wait of `want` ticks: on time, or at most
 * SMOKE_SLACK late. */
static int on_time(async_tick_t got, async_tick_t want)
{
    return got >= want && got - want <= SMOKE_SLACK;
}

/* The loop's tick agrees with mtime's (the loop read it at the start of
 * the turn; a tick may begin since, more in real time on a busy host). */
static int agrees(async_loop_t *l)
{
    return (async_tick_t)(mtime_ticks() - async_loop_now(l)) <=
           1u + SMOKE_SLACK;
}

/* ---- the trap handler: riscv.h's, plus the software interrupt -------- */

__attribute__((interrupt("machine"), aligned(4))) void smoke_trap(void)
{
    unsigned long cause;
    __asm__ volatile(ASYNC_RISCV_CSR("csrr %0, mcause") : "=r"(cause));
    if (cause == VIRT_IRQ_TIMER) {
        timer_irqs++;
        async_riscv_timer_irq(&port);
        if (post_on_timer) {
            post_on_timer = 0;
            async_post(&loop, &timer_cb);
        }
    } else if (cause == VIRT_IRQ_SOFT) {
        VIRT_REG(VIRT_MSIP(0)) = 0;
        soft_irqs++;
        async_post(&loop, &soft_cb);
    } else {
        virt_unhandled_trap();
    }
}

/* ---- hart 1: raises hart 0's software interrupt when asked ---------- */

static volatile uint64_t hart1_at; /* mtime to raise it at */

static void set_mtimecmp1(uint64_t t)
{
    volatile uint32_t *cmp = (volatile uint32_t *)VIRT_MTIMECMP(1);
    cmp[0] = UINT32_MAX;
    cmp[1] = (uint32_t)(t >> 32);
    cmp[0] = (uint32_t)t;
}

/* Runs with mstatus.MIE clear: WFI ends on its pending software
 * interrupt (a request) or timer (the time), no trap is taken. */
void rv_other_hart(void)
{
    uint64_t at = UINT64_MAX;

    set_mtimecmp1(at);
    __asm__ volatile(VIRT_CSR("csrs mie, %0") ::"r"(MIE_MSIE | MIE_MTIE));
    for (;;) {
        if (VIRT_REG(VIRT_MSIP(1))) {
            VIRT_REG(VIRT_MSIP(1)) = 0;
            at = hart1_at;
            set_mtimecmp1(at);
        }
        if (virt_mtime() >= at) {
            at = UINT64_MAX;
            set_mtimecmp1(at);
            VIRT_REG(VIRT_MSIP(0)) = 1;
        }
        __asm__ volatile("wfi");
    }
}

/* Ask hart 1 for a software interrupt `ticks` ticks after tick `from`. */
static void soft_irq_at(async_tick_t from, async_tick_t ticks)
{
    hart1_at = mtime0 + ((uint64_t)from + ticks) * PERIOD;
    __asm__ volatile("fence" ::: "memory");
    VIRT_REG(VIRT_MSIP(1)) = 1;
}

/* ---- the callbacks the interrupts post ------------------------------ */

static void on_soft(async_loop_t *l, async_callback_t *cb)
{
    (void)cb;
    soft_at = async_loop_now(l);
    async_event_set(&soft_event);
    /* Busy for soft_busy ticks, without a turn of the loop. */
    while ((async_tick_t)(mtime_ticks() - soft_at) < soft_busy) {
    }
    soft_busy = 0;
}

static void on_timer(async_loop_t *l, async_callback_t *cb)
{
    (void)cb;
    timer_at = async_loop_now(l);
}

static void counted_idle(void *ctx, async_tick_t ticks)
{
    idle_calls++;
    last_idle = ticks;
    port.port.idle(ctx, ticks);
}

/* ---- 2. sleepers in deadline order ---------------------------------- */

static char order[32];
static size_t order_len;

struct sleeper {
    async_frame_t co;
    async_tick_t delay, t0;
};

static int sleeper(async_loop_t *l, void *frame)
{
    struct sleeper *s = frame;
    ASYNC_BEGIN(l, s);
    s->t0 = async_loop_now(l);
    AWAIT(async_sleep(l, s->delay));
    {
        async_tick_t took = (async_tick_t)(async_loop_now(l) - s->t0);
        async_tick_t by_mtime = (async_tick_t)(mtime_ticks() - s->t0);
        printf("sleeper %lu: woke after %lu ticks (mtime: %lu)\n",
               (unsigned long)s->delay, (unsigned long)took,
               (unsigned long)by_mtime);
        order_len += (size_t)snprintf(order + order_len,
                                      sizeof order - order_len, "%s%lu",
                                      order_len ? " " : "",
                                      (unsigned long)s->delay);
        check(on_time(took, s->delay), "the sleeper woke on its tick");
        check(agrees(l), "the loop's tick agrees with mtime");
    }
    ASYNC_END;
}

/* ---- the main coroutine --------------------------------------------- */

struct main_frame {
    async_frame_t co;
    struct sleeper sl[3];
    async_task_t tasks[3];
    async_tick_t t0;
    unsigned irqs, softs, idles;
    int i;
#if SMOKE_LONG
    uint64_t m0;
    async_tick_t delay;
#endif
};

static int main_co(async_loop_t *l, void *frame)
{
    struct main_frame *m = frame;
    ASYNC_BEGIN(l, m);

    /* 2. */
    m->sl[0].delay = 30;
    m->sl[1].delay = 10;
    m->sl[2].delay = 20;
    for (m->i = 0; m->i < 3; m->i++)
        async_task_create(l, &m->tasks[m->i], sleeper, &m->sl[m->i]);
    for (m->i = 0; m->i < 3; m->i++)
        AWAIT(async_task_wait(l, &m->tasks[m->i]));
    printf("wake order: %s\n", order);
    check(strcmp(order, "10 20 30") == 0, "sleepers woke in deadline order");

    /* 3. */
    m->t0 = async_loop_now(l);
    m->irqs = timer_irqs;
    m->idles = idle_calls;
    AWAIT(async_sleep(l, 500));
    printf("500-tick sleep: %u timer interrupt(s), %u idle call(s), "
           "took %lu ticks\n",
           timer_irqs - m->irqs, idle_calls - m->idles,
           (unsigned long)(async_tick_t)(async_loop_now(l) - m->t0));
    check(on_time((async_tick_t)(async_loop_now(l) - m->t0), 500),
          "the 500-tick sleep ended on its tick");
    check(timer_irqs - m->irqs == 1, "it took one timer interrupt");
    check(idle_calls - m->idles == 1, "the loop idled once");
    check(agrees(l), "the loop's tick agrees with mtime");

    /* 4. */
    m->t0 = async_loop_now(l);
    m->irqs = timer_irqs;
    m->softs = soft_irqs;
    m->idles = idle_calls;
    soft_irq_at(m->t0, 100);
    AWAIT(async_event_wait(l, &soft_event));
    async_event_clear(&soft_event);
    printf("post from a software interrupt after %lu ticks, %u timer "
           "interrupt(s), %u idle call(s)\n",
           (unsigned long)(async_tick_t)(soft_at - m->t0),
           timer_irqs - m->irqs, idle_calls - m->idles);
    check(last_idle == ASYNC_FOREVER, "the loop idled with no deadline");
    check(soft_irqs - m->softs == 1, "one software interrupt");
    check(on_time((async_tick_t)(soft_at - m->t0), 100),
          "its post woke the loop at tick 100");
    check(timer_irqs == m->irqs, "no timer interrupt meanwhile");

    /* 5. */
    m->t0 = async_loop_now(l);
    m->irqs = timer_irqs;
    m->softs = soft_irqs;
    m->idles = idle_calls;
    soft_irq_at(m->t0, 100);
    post_on_timer = 1;
    AWAIT(async_sleep(l, 300));
    printf("300-tick sleep: software post at %lu, timer post at %lu, "
           "%u timer interrupt(s), %u idle call(s)\n",
           (unsigned long)(async_tick_t)(soft_at - m->t0),
           (unsigned long)(async_tick_t)(timer_at - m->t0),
           timer_irqs - m->irqs, idle_calls - m->idles);
    check(async_event_is_set(&soft_event), "the software post ran");
    check(on_time((async_tick_t)(soft_at - m->t0), 100),
          "it woke the sleeping loop at tick 100");
    check(on_time((async_tick_t)(timer_at - m->t0), 300),
          "the timer interrupt's post ran at tick 300");
    check(on_time((async_tick_t)(async_loop_now(l) - m->t0), 300),
          "the sleeper woke at tick 300");
    check(timer_irqs - m->irqs == 1, "one timer interrupt");
    check(idle_calls - m->idles == 2, "the loop idled twice");

    m->t0 = async_loop_now(l);
    m->irqs = timer_irqs;
    async_event_clear(&soft_event);
    soft_busy = 40;
    soft_irq_at(m->t0, 10);
    AWAIT(async_sleep(l, 40));
    printf("40-tick sleep, woken at %lu and kept busy until %lu: %u timer "
           "interrupt(s)\n",
           (unsigned long)(async_tick_t)(soft_at - m->t0),
           (unsigned long)(async_tick_t)(async_loop_now(l) - m->t0),
           timer_irqs - m->irqs);
    check(timer_irqs == m->irqs,
          "the early wake left no timer armed: none fired past it");

#if SMOKE_LONG
    /* 6. */
#if ASYNC_CONFIG_TICK_BITS < 64
    m->delay = ASYNC_MAX_DELAY;
#else
    m->delay = ((async_tick_t)1 << 32) + 7u;
#endif
    for (m->i = 0; m->i < (ASYNC_CONFIG_TICK_BITS < 64 ? 3 : 1); m->i++) {
        m->t0 = async_loop_now(l);
        m->m0 = mtime_ticks64();
        m->irqs = timer_irqs;
        m->idles = idle_calls;
        AWAIT(async_sleep(l, m->delay));
        printf("%llu-tick sleep: took %llu (mtime: %llu), %u timer "
               "interrupt(s), %u idle call(s); tick now %llu\n",
               (unsigned long long)m->delay,
               (unsigned long long)(async_tick_t)(async_loop_now(l) - m->t0),
               (unsigned long long)(mtime_ticks64() - m->m0),
               timer_irqs - m->irqs, idle_calls - m->idles,
               (unsigned long long)async_loop_now(l));
        check(on_time((async_tick_t)(async_loop_now(l) - m->t0), m->delay),
              "the long sleep ended on its tick");
        check(mtime_ticks64() - m->m0 >= m->delay,
              "mtime agrees that it lasted that long");
        check(agrees(l), "the loop's tick agrees with mtime");
        /* Longer than 2^32 - 1 ticks (the 64-bit case), the idle returns
         * early once. */
        check(timer_irqs - m->irqs == (ASYNC_CONFIG_TICK_BITS < 64 ? 1u : 2u),
              "one timer interrupt per idle");
        /* After 2^32 counts or more, now() must catch up in one call, or
         * the loop would idle again and again on a stale tick. */
        check(idle_calls - m->idles == (ASYNC_CONFIG_TICK_BITS < 64 ? 1u : 2u),
              "the loop idled once (twice for over 2^32 ticks)");
    }
#if ASYNC_CONFIG_TICK_BITS < 64
    check(mtime_ticks64() >> ASYNC_CONFIG_TICK_BITS != 0,
          "the tick wrapped");
#endif
#endif
    ASYNC_END;
}

int main(void)
{
    static struct main_frame m;
    static async_task_t task;
    int rc;

    __asm__ volatile(ASYNC_RISCV_CSR("csrw mtvec, %0") ::"r"(smoke_trap));

    /* 1. */
    check(async_riscv_init(NULL, VIRT_MTIME, VIRT_MTIMECMP(0),
                           VIRT_MTIME_HZ) == ASYNC_EINVAL,
          "init refuses a NULL port");
    check(async_riscv_init(&port, VIRT_MTIME, VIRT_MTIMECMP(0),
                           ASYNC_RISCV_TICK_HZ - 1u) == ASYNC_EINVAL,
          "init refuses a clock slower than the tick");
    check(async_riscv_init(&port, VIRT_MTIME, VIRT_MTIMECMP(0),
                           VIRT_MTIME_HZ + 1u) == ASYNC_EINVAL,
          "init refuses a clock the tick rate does not divide");
    check(async_riscv_init(&port, VIRT_MTIME, VIRT_MTIMECMP(0),
                           VIRT_MTIME_HZ) == 0,
          "init");
    mtime0 = port.base; /* private, read only here: tick 0's mtime */
    /* The software interrupt posts too; mstatus.MIE is on since init. */
    __asm__ volatile(ASYNC_RISCV_CSR("csrs mie, %0") ::"r"(MIE_MSIE));

    counting = port.port;
    counting.idle = counted_idle;
    async_loop_init(&loop, timers, 8);
    async_loop_set_port(&loop, &counting);
    async_callback_init(&timer_cb, on_timer, NULL);
    async_callback_init(&soft_cb, on_soft, NULL);
    async_event_init(&soft_event, &loop);

    rc = async_loop_run(&loop, &task, main_co, &m);
    check(rc == 0, "the main coroutine returns 0");
    check(async_loop_close(&loop) == 0, "the loop is left empty");
    check(timer_irqs >= 1, "timer interrupts were taken");
    printf("port_smoke (%d-bit ticks): %s\n", ASYNC_CONFIG_TICK_BITS,
           failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
