/* SPDX-License-Identifier: MIT */
/*
 * Tick wraparound scenarios, shared by the suites built for each tick width
 * (test_wrap16.c, test_wrap32.c, test_tick64.c). The virtual clock starts a
 * few ticks before the wrap; every tick and delay below derives from
 * ASYNC_FOREVER and ASYNC_MAX_DELAY, so the same code checks every width.
 * Include after nothing else; it brings in the harness. Call
 * wrap_add_cases(tc) to register the cases.
 */
#ifndef WRAP_CASES_H
#define WRAP_CASES_H

#include "harness.h"

/* Where the clock starts: 5 ticks before ASYNC_FOREVER, the last tick
 * before the counter wraps to 0. */
#define WRAP_START ((async_tick_t)(ASYNC_FOREVER - 5u))

/* The tick d ticks after WRAP_START, wrapped like the loop's clock. */
static async_tick_t at(async_tick_t d)
{
    return (async_tick_t)(WRAP_START + d);
}

static unsigned long long ull(async_tick_t t)
{
    return (unsigned long long)t;
}

/* Sleeps each of d[0..n) in turn, tracing "<name>@<tick>" after each. */
struct wrap_sleeper {
    async_frame_t co;
    const char *name;
    async_tick_t d[6];
    int n, i;
};

static int wrap_sleeper(async_loop_t *l, void *frame)
{
    struct wrap_sleeper *s = frame;
    ASYNC_BEGIN(l, s);
    for (s->i = 0; s->i < s->n; s->i++) {
        AWAIT(async_sleep(l, s->d[s->i]));
        trace("%s@%llu", s->name, ull(async_loop_now(l)));
    }
    ASYNC_END;
}

/* Sleeps `pre` ticks, then until the tick `until`; traces on waking. */
struct wrap_target {
    async_frame_t co;
    const char *name;
    async_tick_t pre, until;
};

static int wrap_target(async_loop_t *l, void *frame)
{
    struct wrap_target *s = frame;
    ASYNC_BEGIN(l, s);
    AWAIT(async_sleep(l, s->pre));
    AWAIT(async_sleep(l, (async_tick_t)(s->until - async_loop_now(l))));
    ck_assert_uint_eq(async_loop_now(l), s->until);
    trace("%s@%llu", s->name, ull(async_loop_now(l)));
    ASYNC_END;
}

/* Runs n tasks of coroutine fn over frames[i] (each frame `size` bytes)
 * from WRAP_START until the loop is idle. */
static void wrap_run(async_fn *fn, void *frames, size_t size, int n)
{
    static async_task_t t[8];
    int i;
    ck_assert_int_le(n, 8);
    ck_assert_int_eq(async_loop_set_time(&loop, WRAP_START), 0);
    for (i = 0; i < n; i++)
        ck_assert_int_eq(async_task_create(&loop, &t[i], fn,
                                           (char *)frames + (size_t)i * size), 0);
    run_until_idle();
    for (i = 0; i < n; i++)
        ck_assert_int_eq(async_task_result(&t[i]), 0);
}

START_TEST(sleeps_crossing_the_wrap_wake_at_the_wrapped_tick)
{
    /* b and c end before the counter wraps (c on its very last tick), d on
     * tick 0 and a after it. */
    static struct wrap_sleeper s[4] = {{.name = "a", .d = {10}, .n = 1},
                                       {.name = "b", .d = {3}, .n = 1},
                                       {.name = "c", .d = {5}, .n = 1},
                                       {.name = "d", .d = {6}, .n = 1}};
    char expect[256];

    ck_assert_uint_eq(at(5), ASYNC_FOREVER);
    ck_assert_uint_eq(at(6), 0);
    wrap_run(wrap_sleeper, s, sizeof s[0], 4);
    snprintf(expect, sizeof expect, "b@%llu c@%llu d@%llu a@%llu",
             ull(at(3)), ull(at(5)), ull(at(6)), ull(at(10)));
    ck_assert_str_eq(TRACE, expect);
    ck_assert_uint_eq(async_loop_now(&loop), 4);
}
END_TEST

START_TEST(next_timeout_counts_across_the_wrap)
{
    static struct wrap_sleeper s = {.name = "s", .d = {10}, .n = 1};
    static async_task_t t;

    ck_assert_int_eq(async_loop_set_time(&loop, WRAP_START), 0);
    ck_assert_int_eq(async_task_create(&loop, &t, wrap_sleeper, &s), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 10);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_uint_eq(async_loop_now(&loop), at(10));
}
END_TEST

START_TEST(equal_deadlines_across_the_wrap_stay_fifo)
{
    /* Four sleepers aim at tick 2 after the wrap, starting their sleeps
     * before the wrap in the order of their pre-sleeps: n3 (0, a yield),
     * n1 (1, created before n5), n2 (3), n0 (4). Around them, n4 aims one
     * tick earlier and n5 one tick later. */
    static struct wrap_target s[6] = {
        {.name = "n0", .pre = 4}, {.name = "n1", .pre = 1},
        {.name = "n2", .pre = 3}, {.name = "n3", .pre = 0},
        {.name = "n4", .pre = 2}, {.name = "n5", .pre = 1}};
    char expect[256];
    int i;

    for (i = 0; i < 6; i++)
        s[i].until = at(8);
    s[4].until = at(7);
    s[5].until = at(9);
    ck_assert_uint_eq(at(8), 2);
    wrap_run(wrap_target, s, sizeof s[0], 6);
    snprintf(expect, sizeof expect,
             "n4@%llu n3@%llu n1@%llu n2@%llu n0@%llu n5@%llu", ull(at(7)),
             ull(at(8)), ull(at(8)), ull(at(8)), ull(at(8)), ull(at(9)));
    ck_assert_str_eq(TRACE, expect);
}
END_TEST

START_TEST(the_longest_delay_before_the_wrap_orders_after_shorter_ones)
{
    /* long is created first, so only its deadline can put it last. x
     * wakes after the wrap and sleeps the longest delay again, ending
     * after long. */
    static struct wrap_sleeper s[3] = {
        {.name = "long", .d = {ASYNC_MAX_DELAY}, .n = 1},
        {.name = "short", .d = {ASYNC_MAX_DELAY - 1}, .n = 1},
        {.name = "x", .d = {10, ASYNC_MAX_DELAY}, .n = 2}};
    char expect[256];

    wrap_run(wrap_sleeper, s, sizeof s[0], 3);
    snprintf(expect, sizeof expect, "x@%llu short@%llu long@%llu x@%llu",
             ull(at(10)), ull(at(ASYNC_MAX_DELAY - 1)), ull(at(ASYNC_MAX_DELAY)),
             ull(at((async_tick_t)(10 + ASYNC_MAX_DELAY))));
    ck_assert_str_eq(TRACE, expect);
}
END_TEST

START_TEST(the_clock_counts_on_through_several_wraps)
{
    /* Six longest sleeps in a row go about three times round the counter;
     * each wakes exactly when due, one turn per sleep. */
    static struct wrap_sleeper s = {
        .name = "w",
        .d = {ASYNC_MAX_DELAY, ASYNC_MAX_DELAY, ASYNC_MAX_DELAY,
              ASYNC_MAX_DELAY, ASYNC_MAX_DELAY, ASYNC_MAX_DELAY},
        .n = 6};
    static async_task_t t;
    async_tick_t expect = WRAP_START;
    int i;

    ck_assert_int_eq(async_loop_set_time(&loop, WRAP_START), 0);
    ck_assert_int_eq(async_task_create(&loop, &t, wrap_sleeper, &s), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    for (i = 0; i < s.n; i++) {
        expect = (async_tick_t)(expect + ASYNC_MAX_DELAY);
        ck_assert_int_eq(async_loop_run_once(&loop), 1);
        ck_assert_uint_eq(async_loop_now(&loop), expect);
    }
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_DONE);
}
END_TEST

/* Bounds an operation with a 10-tick timeout from WRAP_START and traces
 * the outcome and the tick. */
struct wrap_bounded {
    async_frame_t co;
    const char *name;
    async_event_t *never; /* NULL: bound a sleep of 8 instead */
    async_timeout_t to;
    int rc;
};

static int wrap_bounded(async_loop_t *l, void *frame)
{
    struct wrap_bounded *b = frame;
    ASYNC_BEGIN(l, b);
    if (b->never)
        AWAIT_TRY(b->rc, async_wait_for(l, &b->to, 10,
                                        async_event_wait(l, b->never)));
    else
        AWAIT_TRY(b->rc, async_wait_for(l, &b->to, 10, async_sleep(l, 8)));
    trace("%s %s@%llu", b->name, async_strerror_name(b->rc),
          ull(async_loop_now(l)));
    ASYNC_END;
}

START_TEST(a_timeout_crossing_the_wrap_fires_at_the_right_tick)
{
    static async_event_t never;
    static struct wrap_bounded b[2] = {{.name = "timed-out", .never = &never},
                                       {.name = "in-time"}};
    char expect[256];

    ck_assert_int_eq(async_event_init(&never, &loop), 0);
    wrap_run(wrap_bounded, b, sizeof b[0], 2);
    snprintf(expect, sizeof expect, "in-time ASYNC_OK@%llu "
             "timed-out ASYNC_ETIMEDOUT@%llu", ull(at(8)), ull(at(10)));
    ck_assert_str_eq(TRACE, expect);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
}
END_TEST

static void wrap_add_cases(TCase *tc)
{
    tcase_add_test(tc, sleeps_crossing_the_wrap_wake_at_the_wrapped_tick);
    tcase_add_test(tc, next_timeout_counts_across_the_wrap);
    tcase_add_test(tc, equal_deadlines_across_the_wrap_stay_fifo);
    tcase_add_test(tc, the_longest_delay_before_the_wrap_orders_after_shorter_ones);
    tcase_add_test(tc, the_clock_counts_on_through_several_wraps);
    tcase_add_test(tc, a_timeout_crossing_the_wrap_fires_at_the_right_tick);
}

#endif
