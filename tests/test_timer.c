/* SPDX-License-Identifier: MIT */
/*
 * Sleep and the timer heap: when sleeps wake, the (deadline, start order)
 * order among many sleepers with cancellations, sleep(0) as a yield,
 * expiry in two phases, and the limits: ASYNC_MAX_DELAY, ASYNC_FOREVER, a
 * full heap, and sleeping outside a task.
 */
#include <stdlib.h>

#include "harness.h"

/* ------------------------------------------------------------ coroutines */

/* Sleeps `ticks` and traces "<name>@<tick>"; its cleanup traces an error. */
struct sleeper {
    async_frame_t co;
    const char *name;
    async_tick_t ticks;
    int rc;
};

static int sleeper(async_loop_t *l, void *frame)
{
    struct sleeper *s = frame;
    ASYNC_BEGIN(l, s);
    AWAIT(async_sleep(l, s->ticks));
    trace("%s@%lu", s->name, (unsigned long)async_loop_now(l));
    ASYNC_FINALLY;
    if (ASYNC_RESULT < 0)
        trace("%s:%s", s->name, async_strerror_name(ASYNC_RESULT));
    ASYNC_END;
}

/* A sleeper for the ordering tests. It first sleeps `pre` ticks, so that
 * sleepers start their real sleep at scattered times and in a scattered
 * order; then it sleeps `delay` ticks, or until the tick `until` if that
 * is set. It records its start order and deadline, and on waking appends
 * its index to `woke`. */
struct timed {
    async_frame_t co;
    int id;
    async_tick_t pre, delay, until, deadline;
    uint32_t start;
};

static uint32_t starts;
static int woke[1024], nwoke;

static int timed(async_loop_t *l, void *frame)
{
    struct timed *s = frame;
    ASYNC_BEGIN(l, s);
    AWAIT(async_sleep(l, s->pre));
    if (s->until)
        s->delay = (async_tick_t)(s->until - async_loop_now(l));
    s->deadline = (async_tick_t)(async_loop_now(l) + s->delay);
    s->start = starts++;
    AWAIT(async_sleep(l, s->delay));
    ck_assert_uint_eq(async_loop_now(l), s->deadline);
    woke[nwoke++] = s->id;
    ASYNC_END;
}

/* The expected wake order: by deadline, then by start order. */
static const struct timed *sort_base;

static int by_deadline_then_start(const void *a, const void *b)
{
    const struct timed *x = &sort_base[*(const int *)a];
    const struct timed *y = &sort_base[*(const int *)b];
    if (x->deadline != y->deadline)
        return x->deadline < y->deadline ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Checks that exactly the tasks not in `skip` woke, in expected order. */
static void assert_wake_order(const struct timed *s, int n, const char *skip)
{
    static int expect[1024];
    int i, m = 0;
    for (i = 0; i < n; i++)
        if (!skip || !skip[i])
            expect[m++] = i;
    sort_base = s;
    qsort(expect, (size_t)m, sizeof expect[0], by_deadline_then_start);
    ck_assert_int_eq(nwoke, m);
    for (i = 0; i < m; i++)
        ck_assert_int_eq(woke[i], expect[i]);
}

/* ---------------------------------------------------------------- sleep */

START_TEST(sleep_wakes_at_now_plus_ticks)
{
    static struct sleeper a = {.name = "a", .ticks = 7};
    static struct sleeper b = {.name = "b", .ticks = 3};
    static async_task_t ta, tb;

    ck_assert_int_eq(async_loop_set_time(&loop, 100), 0);
    ck_assert_int_eq(async_task_create(&loop, &ta, sleeper, &a), 0);
    ck_assert_int_eq(async_task_create(&loop, &tb, sleeper, &b), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "b@103 a@107");

    /* A sleep counts from the tick of the turn it starts in. */
    ck_assert_int_eq(async_task_create(&loop, &ta, sleeper, &a), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "b@103 a@107 a@114");
}
END_TEST

START_TEST(equal_deadlines_wake_in_the_order_the_sleeps_started)
{
    /* 100 sleepers aim at tick TARGET and 50 others at TARGET - 1 and
     * TARGET + 1. Each starts its sleep after a pre-sleep of a scrambled
     * length, three per starting tick, so start order is neither creation
     * order nor deadline order. */
    enum { N = 150, TARGET = 200 };
    static struct timed s[N];
    static async_task_t t[N];
    int i, in_order = 1;

    for (i = 0; i < N; i++) {
        s[i].id = i;
        s[i].pre = (async_tick_t)((i * 37) % 50);
        s[i].until = i % 3 == 0 ? TARGET - 1 + (i % 2) * 2 : TARGET;
        ck_assert_int_eq(async_task_create(&loop, &t[i], timed, &s[i]), 0);
    }
    run_until_idle();
    assert_wake_order(s, N, NULL);

    /* The scenario is not trivially sorted: among the sleepers for TARGET,
     * start order differs from creation order. */
    for (i = 1; i < N; i++)
        if (s[i].until == TARGET && s[i - 1].until == TARGET &&
            s[i].start < s[i - 1].start)
            in_order = 0;
    ck_assert_int_eq(in_order, 0);
}
END_TEST

START_TEST(random_deadlines_and_cancellations_wake_in_deadline_then_start_order)
{
    enum { N = 1000, CANCELS = 300 };
    static async_timer_t *big[N + 1];
    static struct timed s[N];
    static async_task_t t[N];
    static char cancelled[N];
    uint32_t lcg = 12345;
    int i, victim, ncancelled = 0;

#define NEXT_RANDOM() (lcg = lcg * 1103515245u + 12345u, (int)(lcg >> 16))
    ck_assert_int_eq(async_loop_init(&loop, big, N + 1), 0);
    for (i = 0; i < N; i++) {
        s[i].id = i;
        s[i].pre = (async_tick_t)(NEXT_RANDOM() % 20);
        s[i].delay = (async_tick_t)(1 + NEXT_RANDOM() % 100);
        ck_assert_int_eq(async_task_create(&loop, &t[i], timed, &s[i]), 0);
    }
    /* Cancel at random ticks, in the middle of the heap's life: some in
     * the pre-sleep, some in the real sleep, some after the end (0). */
    for (i = 0; i < CANCELS; i++) {
        int turns = NEXT_RANDOM() % 3;
        while (turns-- > 0)
            async_loop_run_once(&loop);
        victim = NEXT_RANDOM() % N;
        if (async_task_cancel(&loop, &t[victim]) == 1)
            cancelled[victim] = 1;
    }
    run_until_idle();
#undef NEXT_RANDOM

    for (i = 0; i < N; i++) {
        ck_assert_int_eq(async_task_result(&t[i]),
                         cancelled[i] ? ASYNC_ECANCELED : 0);
        ncancelled += cancelled[i];
    }
    /* Both outcomes happened often enough for the test to mean something. */
    ck_assert_int_gt(ncancelled, N / 20);
    ck_assert_int_gt(nwoke, N / 2);
    assert_wake_order(s, N, cancelled);
}
END_TEST

START_TEST(a_timer_removed_from_the_middle_of_the_heap_leaves_the_rest_in_order)
{
    /* The heap is 4-ary (slot i's children are 4i+1..4i+4). A timer
     * armed with a deadline no earlier than its parent slot's stays in
     * the slot it is appended to, so these 39, armed in this order, lay
     * the heap out slot by slot. Cancelling slot 8 (deadline 70) sinks
     * the last timer (90) from there; slot 37 (deadline 20), just past
     * slot 8's children (33..36) but under slot 9, must not be taken for
     * one of them: it would land under slot 1 (deadline 50) and wake
     * late. */
    static const async_tick_t d[] = {
        1,                                            /* 0 */
        50, 2, 3, 4,                                  /* 1..4 */
        60, 61, 62, 70, 5, 6, 7, 8,                   /* 5..12 */
        9, 10, 11, 12, 13, 14, 15, 16,                /* 13..20 */
        80, 81, 82, 83, 84, 85, 86, 87,               /* 21..28 */
        88, 89, 91, 92, 100, 101, 102, 103,           /* 29..36 */
        20, 90};                                      /* 37, 38 */
    enum { N = sizeof d / sizeof d[0] };
    static struct timed s[N];
    static async_task_t t[N];
    static char cancelled[N];
    int i;

    for (i = 0; i < N; i++) {
        s[i].id = i;
        s[i].delay = d[i]; /* after a yield (pre 0): all start in turn 2 */
        ck_assert_int_eq(async_task_create(&loop, &t[i], timed, &s[i]), 0);
    }
    ck_assert_int_eq(async_loop_run_once(&loop), N);
    ck_assert_int_eq(async_loop_run_once(&loop), N);
    ck_assert_int_eq(async_task_cancel(&loop, &t[8]), 1);
    cancelled[8] = 1;
    run_until_idle();
    ck_assert_int_eq(async_task_result(&t[8]), ASYNC_ECANCELED);
    assert_wake_order(s, N, cancelled);
}
END_TEST

/* Traces around a sleep(0), next to a plain yielder. */
struct zero {
    async_frame_t co;
    int rc;
};

static int zero(async_loop_t *l, void *frame)
{
    struct zero *z = frame;
    ASYNC_BEGIN(l, z);
    trace("Z0");
    AWAIT_TRY(z->rc, async_sleep(l, 0));
    trace("Z1");
    ASYNC_END;
}

struct yielder {
    async_frame_t co;
    int i;
};

static int yielder(async_loop_t *l, void *frame)
{
    struct yielder *y = frame;
    ASYNC_BEGIN(l, y);
    for (y->i = 0; y->i < 2; y->i++) {
        trace("Y%d", y->i);
        AWAIT(async_yield(l));
    }
    ASYNC_END;
}

START_TEST(sleep_zero_is_a_yield_and_uses_no_timer)
{
    static struct zero z;
    static struct yielder y;
    static async_task_t tz, ty;

    /* A loop without any timer storage: a timer would fail with ENOSPC. */
    ck_assert_int_eq(async_loop_init(&loop, NULL, 0), 0);
    ck_assert_int_eq(async_task_create(&loop, &tz, zero, &z), 0);
    ck_assert_int_eq(async_task_create(&loop, &ty, yielder, &y), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 2);
    ck_assert_int_eq(async_task_state(&tz), ASYNC_TASK_READY);
    /* No timer is pending, so the clock may be set. */
    ck_assert_int_eq(async_loop_set_time(&loop, 0), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "Z0 Y0 Z1 Y1");
    ck_assert_int_eq(z.rc, 0);
    ck_assert_uint_eq(async_loop_now(&loop), 0);
}
END_TEST

/* Sleeps 5, then 1: the second deadline is armed during the turn the first
 * fired in. Then arms a zero-tick deadline (a wait_for of 0 around a long
 * sleep) during a turn. */
struct rearm {
    async_frame_t co;
    async_timeout_t to;
    int rc;
};

static int rearm(async_loop_t *l, void *frame)
{
    struct rearm *r = frame;
    ASYNC_BEGIN(l, r);
    AWAIT(async_sleep(l, 5));
    AWAIT(async_sleep(l, 1));
    AWAIT_TRY(r->rc, async_wait_for(l, &r->to, 0, async_sleep(l, 10)));
    ASYNC_END;
}

START_TEST(deadlines_armed_during_a_turn_fire_on_a_later_turn)
{
    static struct rearm r;
    static async_task_t t;

    ck_assert_int_eq(async_task_create(&loop, &t, rearm, &r), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1); /* sleeps 5 */
    ck_assert_int_eq(async_loop_run_once(&loop), 1); /* wakes, sleeps 1 */
    ck_assert_uint_eq(async_loop_now(&loop), 5);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_SLEEPING);
    ck_assert_int_eq(async_loop_run_once(&loop), 1); /* wakes, arms 0 */
    ck_assert_uint_eq(async_loop_now(&loop), 6);

    /* The zero-tick deadline is due at once, but did not fire in the turn
     * that armed it: it fires at the start of the next one. */
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_SLEEPING);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_DONE);
    ck_assert_int_eq(r.rc, ASYNC_ETIMEDOUT);
    ck_assert_uint_eq(async_loop_now(&loop), 6);
}
END_TEST

START_TEST(cancelling_a_sleeping_task_removes_its_timer_at_once)
{
    static struct sleeper s[4] = {{.name = "a", .ticks = 50},
                                  {.name = "b", .ticks = 10},
                                  {.name = "c", .ticks = 30},
                                  {.name = "d", .ticks = 20}};
    static async_task_t t[4];
    int i;

    for (i = 0; i < 4; i++)
        ck_assert_int_eq(async_task_create(&loop, &t[i], sleeper, &s[i]), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 4);

    /* Cancel the earliest and one from the middle of the heap. */
    ck_assert_int_eq(async_task_cancel(&loop, &t[1]), 1);
    ck_assert_int_eq(async_task_cancel(&loop, &t[3]), 1);
    ck_assert_int_eq(async_loop_run_once(&loop), 2);
    ck_assert_uint_eq(async_loop_now(&loop), 0); /* no jump to their ticks */
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 30);

    /* Cancel the rest: no timer is left the moment cancel returns, so the
     * clock may be set again (it refuses while a timer is pending). */
    ck_assert_int_eq(async_task_cancel(&loop, &t[0]), 1);
    ck_assert_int_eq(async_task_cancel(&loop, &t[2]), 1);
    ck_assert_int_eq(async_loop_set_time(&loop, 0), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 2);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
    ck_assert_int_eq(async_loop_close(&loop), 0);
    ck_assert_str_eq(TRACE, "b:ASYNC_ECANCELED d:ASYNC_ECANCELED "
                            "a:ASYNC_ECANCELED c:ASYNC_ECANCELED");
}
END_TEST

/* --------------------------------------------------------------- limits */

/* Tries each delay in `bad` (all must fail) and then sleeps `ticks`. */
struct ranger {
    async_frame_t co;
    async_tick_t ticks;
    int i, rc[3];
};

static const async_tick_t too_long[3] = {
    (async_tick_t)(ASYNC_MAX_DELAY + 1u), (async_tick_t)(ASYNC_FOREVER - 1u),
    (async_tick_t)(ASYNC_FOREVER / 2u + 7u)};

static int ranger(async_loop_t *l, void *frame)
{
    struct ranger *r = frame;
    ASYNC_BEGIN(l, r);
    for (r->i = 0; r->i < 3; r->i++)
        AWAIT_TRY(r->rc[r->i], async_sleep(l, too_long[r->i]));
    trace("still running at %lu", (unsigned long)async_loop_now(l));
    AWAIT(async_sleep(l, r->ticks));
    ASYNC_END;
}

START_TEST(delays_beyond_max_delay_are_out_of_range)
{
    static struct ranger r = {.ticks = ASYNC_MAX_DELAY};
    static async_task_t t;
    int i;

    ck_assert_int_eq(async_task_create(&loop, &t, ranger, &r), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(r.rc[i], ASYNC_ERANGE);
    ck_assert_str_eq(TRACE, "still running at 0");

    /* ASYNC_MAX_DELAY itself is accepted, and wakes exactly then. */
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_MAX_DELAY);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_uint_eq(async_loop_now(&loop), ASYNC_MAX_DELAY);
    ck_assert_int_eq(async_task_result(&t), 0);
}
END_TEST

/* Ends at once; its cleanup section cancels its own task (held back until
 * the section ends) and then sleeps ASYNC_MAX_DELAY. */
struct patient {
    async_frame_t co;
    int cancel, rc;
};

static int patient(async_loop_t *l, void *frame)
{
    struct patient *p = frame;
    ASYNC_BEGIN(l, p);
    ASYNC_RETURN(0);
    ASYNC_FINALLY;
    p->cancel = async_task_cancel(l, async_current(l));
    AWAIT_TRY(p->rc, async_sleep(l, ASYNC_MAX_DELAY));
    ASYNC_END;
}

START_TEST(the_longest_delay_is_accepted_while_a_cancel_is_held_back)
{
    static struct patient p = {.rc = 1};
    static async_task_t t;

    ck_assert_int_eq(async_task_create(&loop, &t, patient, &p), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(p.cancel, 1);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_SLEEPING);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_MAX_DELAY);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_uint_eq(async_loop_now(&loop), ASYNC_MAX_DELAY);
    ck_assert_int_eq(p.rc, 0);
    /* The held-back cancel is the task's outcome. */
    ck_assert_int_eq(async_task_result(&t), ASYNC_ECANCELED);
}
END_TEST

START_TEST(sleep_forever_waits_for_a_cancel_and_never_enters_the_heap)
{
    static struct sleeper s = {.name = "s", .ticks = ASYNC_FOREVER};
    static async_task_t t;

    /* No timer storage at all: sleeping forever needs none. */
    ck_assert_int_eq(async_loop_init(&loop, NULL, 0), 0);
    ck_assert_int_eq(async_task_create(&loop, &t, sleeper, &s), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_SLEEPING);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
    ck_assert_int_eq(async_loop_run_once(&loop), 0);
    ck_assert_uint_eq(async_loop_now(&loop), 0);
    ck_assert_int_eq(async_loop_set_time(&loop, 1000), 0);

    ck_assert_int_eq(async_task_cancel(&loop, &t), 1);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_task_result(&t), ASYNC_ECANCELED);
    ck_assert_str_eq(TRACE, "s:ASYNC_ECANCELED");
}
END_TEST

/* Tries to sleep in a full heap, carries on, and sleeps once there is
 * room again. */
struct crowded {
    async_frame_t co;
    async_task_t *first;
    int rc, state;
};

static int crowded(async_loop_t *l, void *frame)
{
    struct crowded *c = frame;
    ASYNC_BEGIN(l, c);
    AWAIT_TRY(c->rc, async_sleep(l, 7));
    c->state = async_task_state(async_current(l));
    trace("C %s", async_strerror_name(c->rc));
    AWAIT(async_task_wait(l, c->first)); /* needs no timer */
    AWAIT(async_sleep(l, 7));
    trace("C@%lu", (unsigned long)async_loop_now(l));
    ASYNC_END;
}

START_TEST(a_full_heap_refuses_a_sleep_with_enospc)
{
    static async_timer_t *two[2];
    static struct sleeper a = {.name = "A", .ticks = 5};
    static struct sleeper b = {.name = "B", .ticks = 6};
    static struct crowded c;
    static async_task_t ta, tb, tc;

    ck_assert_int_eq(async_loop_init(&loop, two, 2), 0);
    c.first = &ta;
    ck_assert_int_eq(async_task_create(&loop, &ta, sleeper, &a), 0);
    ck_assert_int_eq(async_task_create(&loop, &tb, sleeper, &b), 0);
    ck_assert_int_eq(async_task_create(&loop, &tc, crowded, &c), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 3);
    ck_assert_int_eq(c.rc, ASYNC_ENOSPC);
    ck_assert_int_eq(c.state, ASYNC_TASK_RUNNING);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 5); /* heap intact */

    run_until_idle();
    ck_assert_str_eq(TRACE, "C ASYNC_ENOSPC A@5 B@6 C@12");
    ck_assert_int_eq(async_task_result(&tc), 0);
}
END_TEST

START_TEST(sleep_outside_a_task_is_refused)
{
    ck_assert_int_eq(async_sleep(&loop, 1), ASYNC_ENOTASK);
    ck_assert_int_eq(async_sleep(&loop, 0), ASYNC_ENOTASK);
    ck_assert_int_eq(async_sleep(NULL, 1), ASYNC_ENOTASK);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
}
END_TEST

static Suite *timer_suite(void)
{
    Suite *s = suite_create("timer");
    TCase *tc;

    tc = loop_tcase("sleep");
    tcase_add_test(tc, sleep_wakes_at_now_plus_ticks);
    tcase_add_test(tc, equal_deadlines_wake_in_the_order_the_sleeps_started);
    tcase_add_test(tc, random_deadlines_and_cancellations_wake_in_deadline_then_start_order);
    tcase_add_test(tc, a_timer_removed_from_the_middle_of_the_heap_leaves_the_rest_in_order);
    tcase_add_test(tc, sleep_zero_is_a_yield_and_uses_no_timer);
    tcase_add_test(tc, deadlines_armed_during_a_turn_fire_on_a_later_turn);
    tcase_add_test(tc, cancelling_a_sleeping_task_removes_its_timer_at_once);
    suite_add_tcase(s, tc);

    tc = loop_tcase("limits");
    tcase_add_test(tc, delays_beyond_max_delay_are_out_of_range);
    tcase_add_test(tc, the_longest_delay_is_accepted_while_a_cancel_is_held_back);
    tcase_add_test(tc, sleep_forever_waits_for_a_cancel_and_never_enters_the_heap);
    tcase_add_test(tc, a_full_heap_refuses_a_sleep_with_enospc);
    tcase_add_test(tc, sleep_outside_a_task_is_refused);
    suite_add_tcase(s, tc);

    return s;
}

TEST_MAIN(timer_suite)
