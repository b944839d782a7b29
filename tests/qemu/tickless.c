/* SPDX-License-Identifier: MIT */
/*
 * tickless.c - the Cortex-M port's tickless idle on an emulated core.
 *
 * Built with -DASYNC_CORTEXM_TICKLESS=1 and one of -DTICKLESS_BOARD_an385
 * or -DTICKLESS_BOARD_microbit, it runs the library on the real SysTick
 * through port/cortex-m.c and checks that
 *   1. four tasks sleeping 30, 5, 20 and 10 ticks wake in deadline order,
 *      each at its deadline, for one SysTick interrupt per wake-up;
 *   2. a 500-tick sleep takes a handful of SysTick interrupts (one is
 *      expected: SysTick expires once, at the deadline), not 500;
 *   3. an interrupt that is not SysTick and posts (a board timer, as a
 *      driver's interrupt would) ends a 300-tick idle early, and the sleep
 *      still ends at its deadline;
 *   4. with nothing scheduled (idle forever) SysTick expires once per
 *      longest period (24 bits of counter) until a post ends the idle;
 *   5. over each part the port's tick count stays within one tick of a
 *      free-running board timer: no drift.
 * It prints what it measured and exits 0 iff every check holds.
 *
 * The reference timer and the posting interrupt: on mps2-an385 the CMSDK
 * APB timer 0 (free-running, 25 MHz) and timer 1 (IRQ 9); on microbit the
 * nRF51 TIMER0 (16 MHz), read by capture 0, its compare 1 raising IRQ 8.
 * The startup files send device interrupts to their fault handler, so the
 * test copies the vector table to RAM and points VTOR at it (QEMU's
 * Cortex-M0 has VTOR; a real nRF51 would not).
 *
 * Time under QEMU. SysTick and the board timers count emulated time,
 * which without -icount follows the host clock, so host time leaks in:
 *   - QEMU translates code the first time it runs, which takes host time:
 *     a warm-up pass with every delay divided by 5 runs each path first,
 *     unchecked;
 *   - QEMU's SysTick and board timers do not agree to the tick over
 *     long periods: a 500 ms SysTick period timed by the board timer,
 *     with no library involved, measured 493 to 508 ms on a 2-core
 *     virtual machine (its first interrupt 1.5 to 8 ms late), while
 *     periods of a few ticks keep to the tick. Over a stretch the port
 *     may so fall behind the board timer by DRIFT_PERCENT, allowed;
 *   - a host stall inside the few instructions after the port restarts
 *     SysTick can let the restart's short first period expire twice (a
 *     tick too many; silicon runs those instructions in a few cycles).
 * So the drift check catches a port that loses or gains a tick per
 * restart (the sleepers' 30 ticks take four restarts), not one that
 * loses a few cycles per restart; that needs silicon.
 * Checks marked "timing" can still fail that way on a loaded host: if
 * one does, the measured pass runs again, up to twelve times, and the
 * run passes if one pass holds them all; every pass prints what it
 * measured, and the end lists every timing check that failed. The
 * other checks (the order of wake-ups, no wake-up before its deadline
 * on the port's clock, no post before its alarm, two alarm interrupts
 * per pass, a clean loop) must hold in every pass. Tolerances: a wake-up
 * at its deadline or one tick later; the tick count at most a tick
 * ahead of the reference's whole ticks (the stamps fall between tick
 * boundaries) and at most a tick plus DRIFT_PERCENT behind; SysTick
 * interrupt counts a few above the ideal, far below one per tick.
 * -icount is no cure: QEMU 7.2 with -icount (shift=auto or
 * fixed, sleep=off) delivers a SysTick expiry that comes during WFI one
 * period late, which costs a tick at every wake-up (fixed shift: the
 * whole long period), and with sleep=on stalls during WFI still leak.
 * Nothing is printed while time is measured: semihosting takes host time.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "async.h"
#include "port/cortex-m.h"

#if !ASYNC_CORTEXM_TICKLESS
#error "tickless.c tests the tickless port: -DASYNC_CORTEXM_TICKLESS=1"
#endif

#define REG(addr) (*(volatile uint32_t *)(addr))

#if defined(TICKLESS_BOARD_an385)
#define CORE_HZ 25000000u
#define REF_HZ 25000000u
#define ALARM_IRQ 9
/* CMSDK APB timer: CTRL (1 enable, 8 interrupt enable), VALUE (counts
 * down), RELOAD, INTCLEAR. */
#define TIMER0 0x40000000u
#define TIMER1 0x40001000u

static void ref_start(void)
{
    REG(TIMER0 + 0x8) = 0xFFFFFFFFu;
    REG(TIMER0 + 0x4) = 0xFFFFFFFFu;
    REG(TIMER0 + 0x0) = 1u;
}

static uint32_t ref_now(void)
{
    return ~REG(TIMER0 + 0x4); /* counts up */
}

static void alarm_arm(uint32_t counts)
{
    REG(TIMER1 + 0x0) = 0u;
    REG(TIMER1 + 0x8) = 0xFFFFFFFFu;
    REG(TIMER1 + 0x4) = counts;
    REG(TIMER1 + 0xC) = 1u;
    REG(TIMER1 + 0x0) = 1u | 8u;
}

static void alarm_ack(void)
{
    REG(TIMER1 + 0x0) = 0u;
    REG(TIMER1 + 0xC) = 1u;
}
#elif defined(TICKLESS_BOARD_microbit)
#define CORE_HZ 16000000u
#define REF_HZ 16000000u
#define ALARM_IRQ 8
/* nRF51 TIMER0: tasks START and CAPTURE[0], event COMPARE[1], INTENSET,
 * INTENCLR, MODE, BITMODE, PRESCALER, CC[0], CC[1]. */
#define TIMER0 0x40008000u

static void ref_start(void)
{
    REG(TIMER0 + 0x504) = 0u; /* timer mode */
    REG(TIMER0 + 0x508) = 3u; /* 32 bits */
    REG(TIMER0 + 0x510) = 0u; /* 16 MHz */
    REG(TIMER0 + 0x000) = 1u;
}

static uint32_t ref_now(void)
{
    REG(TIMER0 + 0x040) = 1u;
    return REG(TIMER0 + 0x540);
}

static void alarm_arm(uint32_t counts)
{
    REG(TIMER0 + 0x144) = 0u;
    REG(TIMER0 + 0x544) = ref_now() + counts;
    REG(TIMER0 + 0x304) = 1u << 17;
}

static void alarm_ack(void)
{
    REG(TIMER0 + 0x308) = 1u << 17;
    REG(TIMER0 + 0x144) = 0u;
}
#else
#error "define TICKLESS_BOARD_an385 or TICKLESS_BOARD_microbit"
#endif

#define REF_PER_TICK (REF_HZ / ASYNC_CORTEXM_TICK_HZ)
/* How far, in percent of a stretch, the port may fall behind the board
 * timer under QEMU (see the top of the file). */
#define DRIFT_PERCENT 2
/* SysTick interrupts allowed above the ideal count of a stretch: the
 * tick boundaries at either end, and restarts that QEMU let expire
 * twice. A port that ticks would take one per tick, hundreds here. */
#define EXTRA_IRQS 4
/* The longest SysTick period, in ticks, as the port works it out. */
#define MAX_SPAN (0xFFFFFFu / (CORE_HZ / ASYNC_CORTEXM_TICK_HZ))

/* ---- interrupts ------------------------------------------------------ */

static async_loop_t loop;
ASYNC_TIMERS(timers, 8);
static async_cortexm_t port;
static volatile uint32_t systick_irqs;
static volatile uint32_t alarm_irqs;
static async_callback_t alarm_cb;

void SysTick_Handler(void)
{
    systick_irqs++;
    async_cortexm_systick(&port);
}

static void alarm_handler(void)
{
    alarm_ack();
    alarm_irqs++;
    async_post(&loop, &alarm_cb); /* the ISR-safe call */
}

typedef void (*handler_t)(void);
/* VTOR needs the table aligned to its size rounded up to a power of two:
 * 48 entries, 256 bytes. */
static handler_t ram_vectors[16 + 32] __attribute__((aligned(256)));

static void install_alarm_handler(void)
{
    const handler_t *rom = (const handler_t *)(uintptr_t)REG(0xE000ED08u);
    unsigned i;
    for (i = 0; i < sizeof ram_vectors / sizeof ram_vectors[0]; i++)
        ram_vectors[i] = rom[i];
    ram_vectors[16 + ALARM_IRQ] = alarm_handler;
    __asm__ volatile("dsb" ::: "memory");
    REG(0xE000ED08u) = (uint32_t)(uintptr_t)ram_vectors; /* VTOR */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    REG(0xE000E100u) = 1u << ALARM_IRQ; /* NVIC ISER */
}

/* ---- measurements ---------------------------------------------------- */

/* The port's tick, the reference timer and the SysTick count, read
 * together with interrupts masked. */
struct stamp {
    async_tick_t tick;
    uint32_t ref, irqs;
};

static void stamp(struct stamp *s)
{
    __asm__ volatile("cpsid i" ::: "memory");
    s->tick = port.port.now(port.port.ctx);
    s->ref = ref_now();
    s->irqs = systick_irqs;
    __asm__ volatile("cpsie i" ::: "memory");
}

/* What one part measured between two stamps. */
struct span {
    long ticks;     /* the port's ticks */
    long ref_ticks; /* the reference's whole ticks */
    long irqs;      /* SysTick interrupts */
};

static struct span between(const struct stamp *a, const struct stamp *b)
{
    struct span s;
    s.ticks = (long)(async_tick_t)(b->tick - a->tick);
    s.ref_ticks = (long)((uint32_t)(b->ref - a->ref) / REF_PER_TICK);
    s.irqs = (long)(b->irqs - a->irqs);
    return s;
}

/* ---- the test, as one task on the loop ------------------------------- */

static async_event_t alarm_event;
static struct stamp alarm_stamp;

/* Runs on the loop, posted by the alarm interrupt. */
static void on_alarm(async_loop_t *l, async_callback_t *cb)
{
    (void)l;
    (void)cb;
    stamp(&alarm_stamp);
    async_event_set(&alarm_event);
}

struct sleeper {
    async_frame_t co;
    async_tick_t ms;
    struct stamp start;
    async_tick_t t0;   /* the loop's time when the sleep began */
    async_tick_t woke; /* ticks after t0 */
    int order;
};

static int wake_order;

static int sleeper(async_loop_t *l, void *frame)
{
    struct sleeper *s = frame;
    ASYNC_BEGIN(l, s);
    stamp(&s->start);
    /* The deadline counts from the loop's time of this turn. */
    s->t0 = async_loop_now(l);
    AWAIT(async_sleep(l, s->ms));
    s->woke = (async_tick_t)(port.port.now(port.port.ctx) - s->t0);
    s->order = ++wake_order;
    ASYNC_END;
}

#define N_SLEEPERS 4
#define LONG_SLEEP 500
#define EARLY_SLEEP 300
#define EARLY_ALARM 100
#define FOREVER_ALARM 1500

struct pass {
    async_frame_t co;
    unsigned div; /* every delay is divided by this: 1, or 5 to warm up */
    struct sleeper sl[N_SLEEPERS], late;
    async_task_t tasks[N_SLEEPERS], late_task;
    struct stamp a, b;
    struct span order, sleep, early_post, early_rest, forever;
    int i;
};

static int pass_main(async_loop_t *l, void *frame)
{
    static const async_tick_t delays[N_SLEEPERS] = { 30, 5, 20, 10 };
    struct pass *m = frame;
    ASYNC_BEGIN(l, m);
    /* Start on a tick boundary, with any period left by the last pass
     * over (an early wake-up may leave the port a tick behind until its
     * period ends). */
    AWAIT(async_sleep(l, 1));

    /* 1. Sleepers wake in deadline order, each at its deadline. They
     * start on the next turn, together; measured from the first start. */
    for (m->i = 0; m->i < N_SLEEPERS; m->i++) {
        m->sl[m->i].ms = (async_tick_t)(delays[m->i] / m->div);
        async_task_create(l, &m->tasks[m->i], sleeper, &m->sl[m->i]);
    }
    for (m->i = 0; m->i < N_SLEEPERS; m->i++)
        AWAIT(async_task_wait(l, &m->tasks[m->i]));
    stamp(&m->b);
    m->order = between(&m->sl[0].start, &m->b);

    /* 2. One long sleep. */
    stamp(&m->a);
    AWAIT(async_sleep(l, LONG_SLEEP / m->div));
    stamp(&m->b);
    m->sleep = between(&m->a, &m->b);

    /* 3. A post from another interrupt ends the idle early; the sleep
     * still ends at its deadline. */
    m->late.ms = (async_tick_t)(EARLY_SLEEP / m->div);
    stamp(&m->a);
    async_task_create(l, &m->late_task, sleeper, &m->late);
    alarm_arm(EARLY_ALARM / m->div * REF_PER_TICK);
    AWAIT(async_event_wait(l, &alarm_event));
    async_event_clear(&alarm_event);
    m->early_post = between(&m->a, &alarm_stamp);
    AWAIT(async_task_wait(l, &m->late_task));
    stamp(&m->b);
    m->early_rest = between(&m->a, &m->b);

    /* 4. Nothing scheduled: the loop idles forever until the post. */
    stamp(&m->a);
    alarm_arm(FOREVER_ALARM / m->div * REF_PER_TICK);
    AWAIT(async_event_wait(l, &alarm_event));
    async_event_clear(&alarm_event);
    m->forever = between(&m->a, &alarm_stamp);
    ASYNC_END;
}

/* Runs one pass on a fresh loop. Returns 1 if it ended cleanly. */
static int run_pass(struct pass *m, unsigned div)
{
    static async_task_t task;
    int rc;

    m->div = div;
    wake_order = 0;
    async_loop_init(&loop, timers, 8);
    async_loop_set_port(&loop, &port.port);
    async_event_init(&alarm_event, &loop);
    rc = async_loop_run(&loop, &task, pass_main, m);
    return rc == 0 && async_loop_close(&loop) == 0;
}

/* ---- checking -------------------------------------------------------- */

static int hard_failures; /* in any pass: the run fails */
static int timing_failures; /* in this pass */

/* Every timing check that failed in any pass, with how often: printed
 * at the end, so that a failed run says why in its last lines. */
static struct {
    char what[96];
    int times;
} timing_failed[16];

static void check(int ok, const char *what)
{
    printf("check: %s: %s\n", what, ok ? "ok" : "FAILED");
    hard_failures += !ok;
}

static void timing(int ok, const char *what)
{
    unsigned i;
    printf("timing: %s: %s\n", what, ok ? "ok" : "FAILED");
    if (ok)
        return;
    timing_failures++;
    for (i = 0; i < sizeof timing_failed / sizeof timing_failed[0]; i++) {
        if (!timing_failed[i].times)
            snprintf(timing_failed[i].what, sizeof timing_failed[i].what,
                     "%s", what);
        if (strcmp(timing_failed[i].what, what) == 0) {
            timing_failed[i].times++;
            return;
        }
    }
}

static void report(const char *what, const struct span *s)
{
    printf("%s: %ld ticks, reference %ld, SysTick interrupts %ld\n", what,
           s->ticks, s->ref_ticks, s->irqs);
}

/* The port counts whole ticks at its boundaries and the stamps fall
 * between them: over a stretch it may show one tick more or less than
 * the reference's whole ticks, and under QEMU DRIFT_PERCENT fewer. Both
 * are timing checks: a host stall inside the few instructions that
 * follow a SysTick restart can let the restart's first period expire
 * twice. */
static void tracks(const char *part, const struct span *s)
{
    static char what[80];
    const long slack = s->ref_ticks * DRIFT_PERCENT / 100;
    snprintf(what, sizeof what,
             "%s: a tick ahead of the reference at most, 1+%ld behind",
             part, slack);
    timing(s->ticks <= s->ref_ticks + 1 &&
               s->ticks >= s->ref_ticks - 1 - slack,
           what);
}

static int between_ticks(long v, long lo, long hi)
{
    return v >= lo && v <= hi;
}

static void evaluate(const struct pass *m)
{
    int i, in_order = 1, not_early = 1, on_time = 1;

    for (i = 0; i < N_SLEEPERS; i++) {
        const struct sleeper *s = &m->sl[i];
        int rank = 1, j;
        for (j = 0; j < N_SLEEPERS; j++)
            rank += m->sl[j].ms < s->ms;
        printf("sleeper %ld: woke %ld ticks after its start, %d. of %d\n",
               (long)s->ms, (long)s->woke, s->order, N_SLEEPERS);
        in_order &= s->order == rank;
        not_early &= s->woke >= s->ms;
        on_time &= s->woke <= s->ms + 1u;
    }
    check(in_order, "sleepers woke in deadline order");
    check(not_early, "no sleeper woke before its deadline, by the port");
    timing(on_time, "each sleeper woke at its deadline (+1)");
    report("sleepers", &m->order);
    timing(between_ticks(m->order.irqs, N_SLEEPERS, N_SLEEPERS + EXTRA_IRQS),
           "sleepers: one SysTick interrupt per wake-up (4, up to +4)");
    tracks("sleepers", &m->order);

    report("sleep 500", &m->sleep);
    check(m->sleep.ticks >= LONG_SLEEP, "sleep 500: not early, by the port");
    timing(m->sleep.ticks <= LONG_SLEEP + 1, "sleep 500: 500 ticks (+1)");
    timing(between_ticks(m->sleep.irqs, 1, 1 + EXTRA_IRQS),
           "sleep 500: a handful of SysTick interrupts (1, up to +4)");
    tracks("sleep 500", &m->sleep);

    /* When the alarm interrupt comes is the emulator's business: the
     * checks measure from when the post ran, by the reference. */
    report("post at 100 during sleep 300", &m->early_post);
    check(m->early_post.ref_ticks >= EARLY_ALARM - 1,
          "the post did not run before its alarm");
    timing(m->early_post.ref_ticks < EARLY_SLEEP - 1,
           "the post ran before the sleep's deadline, ending the idle");
    /* The period would expire at 300: only the tick boundary between the
     * stamp and the start of the idle, and QEMU's extras, come first. */
    timing(m->early_post.irqs <= EXTRA_IRQS,
           "no SysTick interrupt ended the idle before the post (up to 4)");
    tracks("post", &m->early_post);
    report("sleep 300 with the post", &m->early_rest);
    check(m->late.woke >= EARLY_SLEEP, "sleep 300: not early, by the port");
    timing(m->late.woke <= EARLY_SLEEP + 1,
           "sleep 300 still woke at its deadline (+1)");
    timing(between_ticks(m->early_rest.irqs, 1, 1 + EXTRA_IRQS),
           "sleep 300: a handful of SysTick interrupts (1, up to +4)");
    tracks("sleep 300", &m->early_rest);

    report("idle forever, post at 1500", &m->forever);
    printf("longest SysTick period: %lu ticks\n", (unsigned long)MAX_SPAN);
    check(m->forever.ref_ticks >= FOREVER_ALARM - 1,
          "idle forever: the post did not run before its alarm");
    /* One expiry per longest period until the post. */
    timing(between_ticks(m->forever.irqs,
                         (long)(m->forever.ref_ticks / (long)MAX_SPAN),
                         (long)(m->forever.ref_ticks / (long)MAX_SPAN) +
                             EXTRA_IRQS),
           "idle forever: one SysTick interrupt per longest period (up to "
           "+4)");
    tracks("idle forever", &m->forever);
}

#define ATTEMPTS 12

int main(void)
{
    static struct pass warm, m;
    int attempt, passed = 0;

    ref_start();
    install_alarm_handler();
    check(async_cortexm_init(&port, CORE_HZ) == 0, "port init");
    async_callback_init(&alarm_cb, on_alarm, NULL);
    check(run_pass(&warm, 5), "warm-up: returns 0, leaves the loop empty");
    for (attempt = 1; attempt <= ATTEMPTS && !passed; attempt++) {
        const uint32_t alarms = alarm_irqs;
        printf("--- measured pass %d\n", attempt);
        check(run_pass(&m, 1), "returns 0, leaves the loop empty");
        check(alarm_irqs - alarms == 2, "two alarm interrupts");
        timing_failures = 0;
        evaluate(&m);
        passed = timing_failures == 0;
    }
    if (!passed) {
        unsigned i;
        printf("timing checks failed in all %d passes:\n", ATTEMPTS);
        for (i = 0; i < sizeof timing_failed / sizeof timing_failed[0]; i++)
            if (timing_failed[i].times)
                printf("  %s: in %d passes\n", timing_failed[i].what,
                       timing_failed[i].times);
    }
    printf("tickless: %s\n", passed && !hard_failures ? "ok" : "FAILED");
    return passed && !hard_failures ? 0 : 1;
}
