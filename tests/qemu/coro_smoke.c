/* SPDX-License-Identifier: MIT */
/*
 * coro_smoke.c - the library and the Cortex-M port on an emulated core.
 *
 * Part one runs on virtual time: a producer, two consumers and a bounded
 * queue with join and cancellation. Part two runs on the real SysTick
 * through port/cortex-m.c: three sleepers must wake in deadline order,
 * a task waits on an event that a callback posted from the SysTick
 * interrupt sets (the ISR posting path: lock-free on ARMv7-M, PRIMASK on
 * ARMv6-M), then on one that a PendSV interrupt posts just as the loop
 * goes idle (after the loop's last look for work, before the port's
 * idle: only the port's own last check before WFI can see it), and the
 * loop must really have slept in WFI rather than spun. Last, a PendSV
 * that posts nothing but takes SMOKE_BUSY ticks at the same moment must
 * not push back the end of a sleep: idle counts from the loop's tick.
 *
 * Part two runs with the ticking port and, built with
 * -DASYNC_CORTEXM_TICKLESS=1, with the tickless one, where SysTick
 * interrupts once per idle period and the tick count moves in steps: the
 * SysTick handler therefore posts once the count has reached or passed
 * its mark, not when it equals it. Tickless, a post the port misses costs
 * up to a whole longest SysTick period (671 ticks at 25 MHz, 1048 at
 * 16 MHz; forever if the port only wakes for its deadline), so each post
 * is also checked to run within SMOKE_LATE ticks of its interrupt.
 *
 * Each part records a trace and compares it with the expected one. Exit
 * status 0 only if both match and every check holds. Built on the host
 * with -DSMOKE_HOST it runs part one only (to debug it without QEMU).
 */
#include <stdio.h>
#include <string.h>

#include "async.h"
#if !defined(SMOKE_HOST)
#include "port/cortex-m.h"
#endif

/* The core clock SysTick counts; mps2-an385 runs at 25 MHz. The tick rate
 * only changes how long part two takes, not what it checks. */
#if !defined(SMOKE_CORE_HZ)
#define SMOKE_CORE_HZ 25000000u
#endif

static char trace_buf[512];
static int failures;

static void trace(const char *fmt, long a, long b)
{
    size_t n = strlen(trace_buf);
    if (n)
        trace_buf[n++] = ' ';
    snprintf(trace_buf + n, sizeof trace_buf - n, fmt, a, b);
}

static void check(int ok, const char *what)
{
    printf("check: %s: %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

static void check_trace(const char *part, const char *want)
{
    printf("%s trace: %s\n", part, trace_buf);
    if (strcmp(trace_buf, want) != 0)
        printf("%s wanted: %s\n", part, want);
    check(strcmp(trace_buf, want) == 0, part);
    trace_buf[0] = '\0';
}

static async_loop_t loop;
ASYNC_TIMERS(timers, 8);

/* ---- part one: producer, consumers, queue, join, cancel (virtual time) */

static async_queue_t queue;
static int queue_buf[2];

struct producer {
    async_frame_t co;
    int i;
};

static int producer(async_loop_t *l, void *frame)
{
    struct producer *p = frame;
    ASYNC_BEGIN(l, p);
    for (p->i = 1; p->i <= 4; p->i++) {
        AWAIT(async_queue_put(l, &queue, &p->i));
        trace("p%ld@%ld", p->i, (long)async_loop_now(l));
    }
    ASYNC_END;
}

/* Consumer k works 10 * k ticks per item. */
struct consumer {
    async_frame_t co;
    int k, item;
};

static int consumer(async_loop_t *l, void *frame)
{
    struct consumer *c = frame;
    ASYNC_BEGIN(l, c);
    for (;;) {
        AWAIT(async_queue_get(l, &queue, &c->item));
        trace("c%ld<%ld", c->k, c->item);
        AWAIT(async_sleep(l, (async_tick_t)(10 * c->k)));
        async_queue_task_done(&queue);
    }
    ASYNC_FINALLY;
    trace("c%ld:end%ld", c->k, ASYNC_RESULT);
    ASYNC_END;
}

struct part_one {
    async_frame_t co;
    struct producer prod;
    struct consumer cons[2];
    async_task_t tasks[3];
    int rc, i;
};

static int part_one(async_loop_t *l, void *frame)
{
    struct part_one *m = frame;
    ASYNC_BEGIN(l, m);
    async_queue_init(&queue, l, queue_buf, sizeof queue_buf[0], 2,
                     ASYNC_QUEUE_FIFO, NULL);
    async_task_create(l, &m->tasks[0], producer, &m->prod);
    for (m->i = 0; m->i < 2; m->i++) {
        m->cons[m->i].k = m->i + 1;
        async_task_create(l, &m->tasks[1 + m->i], consumer, &m->cons[m->i]);
    }
    AWAIT(async_task_wait(l, &m->tasks[0]));
    trace("produced@%ld", (long)async_loop_now(l), 0);
    AWAIT(async_queue_join(l, &queue));
    trace("joined@%ld", (long)async_loop_now(l), 0);
    for (m->i = 1; m->i <= 2; m->i++)
        async_task_cancel(l, &m->tasks[m->i]);
    for (m->i = 1; m->i <= 2; m->i++) {
        AWAIT_TRY(m->rc, async_task_wait(l, &m->tasks[m->i]));
        trace("w%ld=%ld", m->i, m->rc);
    }
    ASYNC_END;
}

static int run_part_one(void)
{
    static struct part_one m;
    static async_task_t task;
    int rc;

    async_loop_init(&loop, timers, 8);
    rc = async_loop_run(&loop, &task, part_one, &m);
    check(rc == 0, "part one returns 0");
    check(async_loop_close(&loop) == 0, "part one leaves the loop empty");
    /* Consumer 1 takes items 1 and 3 (10 ticks each), consumer 2 items 2
     * and 4 (20 each); the last task_done, at 40, releases join. Equal
     * deadlines at 20 wake in the order the sleeps began (consumer 2 at 0
     * before consumer 1 at 10). Both cancelled consumers are ready before
     * main resumes, so both cleanups run before main's first wait ends. */
    check_trace("part one",
                "p1@0 p2@0 c1<1 c2<2 p3@0 p4@0 produced@0 c1<3 c2<4 "
                "joined@40 c1:end-2 c2:end-2 w1=-2 w2=-2");
    return 0;
}

#if !defined(SMOKE_HOST)
/* ---- part two: the SysTick port, ISR posting, WFI idle (real time) --- */

/* How many ticks after its interrupt a posted callback may run. A port
 * that sees the post runs it at once (the same tick, or the next if a
 * boundary falls in between or the host stalls). One that misses it
 * waits for its next interrupt: ticking, one tick later, which this cannot
 * tell from a host stall; tickless, up to a longest SysTick period. */
#if !defined(SMOKE_LATE)
#define SMOKE_LATE 20u
#endif

/* Interrupt Control and State Register: PENDSVSET pends PendSV. */
#define SMOKE_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define SMOKE_ICSR_PENDSVSET (1u << 28)
/* System Handler Priority Register 3: PendSV's priority in bits 23:16
 * (word access only on ARMv6-M). */
#define SMOKE_SHPR3 (*(volatile uint32_t *)0xE000ED20u)
/* Ticks the busy PendSV takes. */
#define SMOKE_BUSY 3u

static async_cortexm_t port;
static async_port_t counting; /* port.port with idle calls counted */
static unsigned idle_calls;
static async_event_t event, idle_event;
static async_callback_t from_isr, from_pendsv;
static volatile uint8_t post_armed;  /* SysTick posts once post_at is due */
static volatile async_tick_t post_at;
static volatile uint8_t idle_armed;  /* the next idle call pends PendSV */
static volatile uint8_t busy_armed;  /* the next idle pends a busy PendSV */
static volatile uint8_t pendsv_busy; /* PendSV only spends SMOKE_BUSY ticks */
static volatile uint8_t pendsv_runs; /* PendSV handler calls */
static uint8_t pendsv_before_idle;   /* of them, before the port's idle */
static volatile async_tick_t isr_tick, pendsv_tick; /* when each posted */
static async_tick_t set_at, idle_set_at;      /* when each callback ran */

void SysTick_Handler(void)
{
    async_cortexm_systick(&port);
    /* post_at reached or passed: tickless, the count may step over it. */
    if (post_armed &&
        (async_tick_t)(port.ticks - post_at) <= ASYNC_MAX_DELAY) {
        post_armed = 0;
        isr_tick = port.ticks;
        async_post(&loop, &from_isr); /* the ISR-safe call */
    }
}

void PendSV_Handler(void)
{
    if (pendsv_busy) {
        /* A driver interrupt that takes a while and posts nothing. It has
         * the lowest priority, so SysTick still counts meanwhile. */
        const async_tick_t from = port.ticks;
        pendsv_busy = 0;
        while ((async_tick_t)(port.ticks - from) < SMOKE_BUSY) {
        }
        return;
    }
    pendsv_runs++;
    pendsv_tick = port.ticks;
    async_post(&loop, &from_pendsv);
}

static void counted_idle(void *ctx, async_tick_t ticks)
{
    idle_calls++;
    if (idle_armed) {
        /* The loop has looked for work and found none; an interrupt that
         * posts now must still end (or prevent) the port's idle. PendSV
         * is taken at once: interrupts are enabled here. */
        idle_armed = 0;
        SMOKE_ICSR = SMOKE_ICSR_PENDSVSET;
        __asm__ volatile("dsb\n\tisb" ::: "memory");
        pendsv_before_idle = pendsv_runs;
    }
    if (busy_armed) {
        busy_armed = 0;
        pendsv_busy = 1;
        SMOKE_ICSR = SMOKE_ICSR_PENDSVSET;
        __asm__ volatile("dsb\n\tisb" ::: "memory");
    }
    port.port.idle(ctx, ticks);
}

/* Run on the loop, posted from the SysTick and the PendSV interrupt. */
static void on_post(async_loop_t *l, async_callback_t *cb)
{
    (void)cb;
    set_at = async_loop_now(l);
    async_event_set(&event);
}

static void on_pendsv_post(async_loop_t *l, async_callback_t *cb)
{
    (void)cb;
    idle_set_at = async_loop_now(l);
    async_event_set(&idle_event);
}

struct sleeper {
    async_frame_t co;
    async_tick_t ms;
};

static int sleeper(async_loop_t *l, void *frame)
{
    struct sleeper *s = frame;
    ASYNC_BEGIN(l, s);
    AWAIT(async_sleep(l, s->ms));
    trace("s%ld", (long)s->ms, 0);
    ASYNC_END;
}

struct part_two {
    async_frame_t co;
    struct sleeper sl[3];
    async_task_t tasks[3];
    async_tick_t t0;
    int i;
};

static int part_two(async_loop_t *l, void *frame)
{
    struct part_two *m = frame;
    ASYNC_BEGIN(l, m);
    m->t0 = async_loop_now(l);
    m->sl[0].ms = 30;
    m->sl[1].ms = 10;
    m->sl[2].ms = 20;
    for (m->i = 0; m->i < 3; m->i++)
        async_task_create(l, &m->tasks[m->i], sleeper, &m->sl[m->i]);
    post_at = (async_tick_t)(m->t0 + 40u); /* after the sleepers */
    post_armed = 1;
    AWAIT(async_event_wait(l, &event));
    trace("event", 0, 0);
    for (m->i = 0; m->i < 3; m->i++)
        AWAIT(async_task_wait(l, &m->tasks[m->i]));
    /* Nothing is left to do: the loop idles with no deadline, and PendSV
     * posts between its last look and the port's idle. */
    idle_armed = 1;
    AWAIT(async_event_wait(l, &idle_event));
    trace("pendsv", 0, 0);
    /* Ticking, the post comes at tick 40; tickless, with the first
     * SysTick interrupt at or after it (the end of the idle period that
     * began at 30). Either way not before. */
    check((async_tick_t)(set_at - m->t0) >= 40u,
          "the posted callback ran at or after tick 40");
    check((async_tick_t)(async_loop_now(l) - m->t0) >= 40u,
          "at least 40 ticks passed");
    printf("SysTick post at tick %ld, its callback at %ld\n",
           (long)(async_tick_t)(isr_tick - m->t0),
           (long)(async_tick_t)(set_at - m->t0));
#if !ASYNC_CORTEXM_TICKLESS
    /* Only when ticking: the count then steps by one per interrupt, so the
     * handler sees tick 40 itself. Tickless, it steps from 30 to the end
     * of the idle period and the post comes there. */
    check((async_tick_t)(isr_tick - m->t0) == 40u,
          "ticking: the SysTick post came at tick 40");
#endif
    check((async_tick_t)(set_at - isr_tick) <= SMOKE_LATE,
          "the SysTick post's callback ran within SMOKE_LATE ticks");
    printf("PendSV post at tick %ld, its callback at %ld\n",
           (long)(async_tick_t)(pendsv_tick - m->t0),
           (long)(async_tick_t)(idle_set_at - m->t0));
    check(pendsv_runs == 1 && pendsv_before_idle == 1,
          "PendSV posted once, before the port's idle");
    check((async_tick_t)(idle_set_at - pendsv_tick) <= SMOKE_LATE,
          "the PendSV post's callback ran within SMOKE_LATE ticks");
    /* The busy PendSV runs between the loop's last reading of the clock
     * and the port's idle. A port counting the sleep from when its idle
     * began would end it SMOKE_BUSY ticks late; one tick late is left to
     * the host (QEMU's time is real time here). */
    m->t0 = async_loop_now(l);
    busy_armed = 1;
    AWAIT(async_sleep(l, 10));
    printf("sleep(10) across a %u-tick interrupt before idle: ended at +%ld\n",
           SMOKE_BUSY, (long)(async_tick_t)(async_loop_now(l) - m->t0));
    check((async_tick_t)(async_loop_now(l) - m->t0) <= 11u,
          "an interrupt before idle does not push a sleep back");
    ASYNC_END;
}

static void run_part_two(void)
{
    static struct part_two m;
    static async_task_t task;
    int rc;

    check(async_cortexm_init(&port, SMOKE_CORE_HZ + 1u) == ASYNC_EINVAL,
          "port init refuses a clock the tick rate does not divide");
    check(async_cortexm_init(&port, SMOKE_CORE_HZ) == 0, "port init");
    SMOKE_SHPR3 |= 0xFFu << 16; /* PendSV: the lowest priority */
    counting = port.port;
    counting.idle = counted_idle;
    async_loop_init(&loop, timers, 8);
    async_loop_set_port(&loop, &counting);
    async_event_init(&event, &loop);
    async_event_init(&idle_event, &loop);
    async_callback_init(&from_isr, on_post, NULL);
    async_callback_init(&from_pendsv, on_pendsv_post, NULL);
    rc = async_loop_run(&loop, &task, part_two, &m);
    check(rc == 0, "part two returns 0");
    check(async_loop_close(&loop) == 0, "part two leaves the loop empty");
    check_trace("part two", "s10 s20 s30 event pendsv");
    /* A loop that slept in WFI idles about once per wake-up (three timers,
     * two posts, the odd early return); a spinning one would call idle
     * thousands of times in 40 ms. Tickless it idles no more often. */
    printf("idle calls: %u\n", idle_calls);
    check(idle_calls >= 1 && idle_calls <= 40, "the loop slept in idle");
}
#endif

int main(void)
{
    run_part_one();
#if !defined(SMOKE_HOST)
    run_part_two();
#endif
    printf("coro_smoke: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
