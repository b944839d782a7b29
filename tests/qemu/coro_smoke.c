/* SPDX-License-Identifier: MIT */
/*
 * coro_smoke.c - the library and the Cortex-M port on an emulated core.
 *
 * Part one runs on virtual time: a producer, two consumers and a bounded
 * queue with join and cancellation. Part two runs on the real SysTick
 * through port/cortex-m.c: three sleepers must wake in deadline order,
 * a task waits on an event that a callback posted from the SysTick
 * interrupt sets (the ISR posting path: lock-free on ARMv7-M, PRIMASK on
 * ARMv6-M), and the loop must really have slept in WFI rather than spun.
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

static async_cortexm_t port;
static async_port_t counting; /* port.port with idle calls counted */
static unsigned idle_calls;
static async_event_t event;
static async_callback_t from_isr;
static volatile async_tick_t post_at; /* 0: no post armed */
static async_tick_t set_at;

void SysTick_Handler(void)
{
    async_cortexm_systick(&port);
    if (post_at && port.ticks == post_at) {
        post_at = 0;
        async_post(&loop, &from_isr); /* the ISR-safe call */
    }
}

static void counted_idle(void *ctx, async_tick_t ticks)
{
    idle_calls++;
    port.port.idle(ctx, ticks);
}

/* Runs on the loop, posted from the interrupt. */
static void on_post(async_loop_t *l, async_callback_t *cb)
{
    (void)cb;
    set_at = async_loop_now(l);
    async_event_set(&event);
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
    AWAIT(async_event_wait(l, &event));
    trace("event", 0, 0);
    for (m->i = 0; m->i < 3; m->i++)
        AWAIT(async_task_wait(l, &m->tasks[m->i]));
    check((async_tick_t)(set_at - m->t0) >= 40u,
          "the posted callback ran at or after tick 40");
    check((async_tick_t)(async_loop_now(l) - m->t0) >= 40u,
          "at least 40 ticks passed");
    ASYNC_END;
}

static void run_part_two(void)
{
    static struct part_two m;
    static async_task_t task;
    int rc;

    check(async_cortexm_init(&port, SMOKE_CORE_HZ) == 0, "port init");
    counting = port.port;
    counting.idle = counted_idle;
    async_loop_init(&loop, timers, 8);
    async_loop_set_port(&loop, &counting);
    async_event_init(&event, &loop);
    async_callback_init(&from_isr, on_post, NULL);
    rc = async_loop_run(&loop, &task, part_two, &m);
    check(rc == 0, "part two returns 0");
    check(async_loop_close(&loop) == 0, "part two leaves the loop empty");
    check_trace("part two", "s10 s20 s30 event");
    /* A loop that slept in WFI idles about once per wake-up (three timers,
     * one post, the odd early return); a spinning one would call idle
     * thousands of times in 40 ms. */
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
