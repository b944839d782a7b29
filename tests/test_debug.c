/* SPDX-License-Identifier: MIT */
/*
 * Debug mode (built with ASYNC_CONFIG_DEBUG=1): task names, the dump of
 * every live task with its state and the file:line of the AWAIT it is
 * suspended at, and async_debug_hook reporting misuse with its code and a
 * sentence naming it.
 */
#include <inttypes.h>

#include "harness.h"

#if !ASYNC_CONFIG_DEBUG
#error "test_debug is built against the ASYNC_CONFIG_DEBUG=1 library"
#endif

/* ------------------------------------------------------- dump capture */

#define MAX_LINES 8
static char lines[MAX_LINES][200];
static int nlines;

static void collect(const char *line, void *arg)
{
    ck_assert_ptr_eq(arg, &nlines);
    ck_assert_int_lt(nlines, MAX_LINES);
    snprintf(lines[nlines++], sizeof lines[0], "%s", line);
}

/* Dump the loop; check the count it returns against the lines it gave. */
static int dump(void)
{
    int n;
    nlines = 0;
    n = async_loop_dump(&loop, collect, &nlines);
    ck_assert_int_eq(n, nlines);
    return n;
}

/* The line a task suspended at line `at` of this file should dump as. */
static const char *expect(const char *name_state, int at, const char *tail)
{
    static char buf[200];
    snprintf(buf, sizeof buf, "%s at %s:%d%s", name_state, __FILE__, at, tail);
    return buf;
}

/* How the dump names a task without a name: by its address. */
static const char *unnamed(const async_task_t *t, const char *state)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "task@0x%" PRIxPTR " %s", (uintptr_t)t, state);
    return buf;
}

/* ----------------------------------------------------- the dumped tasks */

static async_event_t ev;

/* Each coroutine records __LINE__ on the line of its AWAIT, so `at` is
 * exactly where it suspends. */
struct spot {
    async_frame_t co;
    int at, rc;
    struct spot *child;
};

static int on_event(async_loop_t *l, void *frame)
{
    struct spot *s = frame;
    ASYNC_BEGIN(l, s);
    s->at = __LINE__; AWAIT(async_event_wait(l, &ev));
    ASYNC_END;
}

static int nap(async_loop_t *l, void *frame)
{
    struct spot *s = frame;
    ASYNC_BEGIN(l, s);
    s->at = __LINE__; AWAIT(async_sleep(l, 10));
    ASYNC_END;
}

/* Awaits nap as a child: the dump must show the child's line. */
static int nested(async_loop_t *l, void *frame)
{
    struct spot *s = frame;
    ASYNC_BEGIN(l, s);
    s->at = __LINE__; AWAIT(async_call(l, nap, s->child));
    ASYNC_END;
}

/* Suspends at two places in turn: a yield, then a sleep. */
static int two_steps(async_loop_t *l, void *frame)
{
    struct spot *s = frame;
    ASYNC_BEGIN(l, s);
    s->at = __LINE__; AWAIT(async_yield(l));
    s->at = __LINE__; AWAIT(async_sleep(l, 3));
    ASYNC_END;
}

/* Ends its body at once and sleeps in its cleanup section, where a
 * cancellation is remembered rather than delivered. */
static int sleepy_cleanup(async_loop_t *l, void *frame)
{
    struct spot *s = frame;
    ASYNC_BEGIN(l, s);
    ASYNC_RETURN(0);
    ASYNC_FINALLY;
    s->at = __LINE__; AWAIT(async_sleep(l, 4));
    ASYNC_END;
}

/* ---------------------------------------------------------- names */

START_TEST(tasks_keep_their_names)
{
    static async_task_t t;
    ck_assert_str_eq(async_task_name(&t), "");
    ck_assert_int_eq(async_task_set_name(&t, "sensor"), 0);
    ck_assert_str_eq(async_task_name(&t), "sensor");
    ck_assert_int_eq(async_task_set_name(&t, NULL), 0);
    ck_assert_str_eq(async_task_name(&t), "");
    ck_assert_int_eq(async_task_set_name(NULL, "x"), ASYNC_EINVAL);
    ck_assert_str_eq(async_task_name(NULL), "");
}
END_TEST

/* ----------------------------------------------------------- dump */

START_TEST(dump_shows_each_live_task_with_state_and_await_line)
{
    static struct spot a, b, bc, c;
    static async_task_t ta, tb, tc;
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    b.child = &bc;
    ck_assert_int_eq(async_task_create(&loop, &ta, on_event, &a), 0);
    ck_assert_int_eq(async_task_create(&loop, &tb, nested, &b), 0);
    ck_assert_int_eq(async_task_set_name(&ta, "alpha"), 0);
    ck_assert_int_eq(async_task_set_name(&tb, "beta"), 0);

    /* Not yet run: no suspension point to show. */
    ck_assert_int_eq(dump(), 2);
    ck_assert_str_eq(lines[0], "alpha PENDING");
    ck_assert_str_eq(lines[1], "beta PENDING");

    async_loop_run_once(&loop);
    /* An unnamed task is shown by its address. */
    ck_assert_int_eq(async_task_create(&loop, &tc, on_event, &c), 0);
    ck_assert_int_eq(dump(), 3);
    ck_assert_str_eq(lines[0], expect("alpha WAITING", a.at, ""));
    ck_assert_str_eq(lines[1], expect("beta SLEEPING", bc.at, ""));
    ck_assert_str_eq(lines[2], unnamed(&tc, "PENDING"));
    ck_assert_int_ne(bc.at, b.at);

    /* Finished tasks leave the dump. */
    ck_assert_int_eq(async_event_set(&ev), 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_task_state(&ta), ASYNC_TASK_DONE);
    ck_assert_int_eq(async_task_state(&tc), ASYNC_TASK_DONE);
    ck_assert_int_eq(dump(), 1);
    ck_assert_str_eq(lines[0], expect("beta SLEEPING", bc.at, ""));
    run_until_idle();
    ck_assert_int_eq(dump(), 0);
}
END_TEST

START_TEST(dump_follows_the_task_from_await_to_await)
{
    static struct spot s;
    static async_task_t t;
    int first;
    ck_assert_int_eq(async_task_create(&loop, &t, two_steps, &s), 0);
    ck_assert_int_eq(async_task_set_name(&t, "stepper"), 0);
    async_loop_run_once(&loop);
    first = s.at;
    ck_assert_int_eq(dump(), 1);
    ck_assert_str_eq(lines[0], expect("stepper READY", first, ""));
    async_loop_run_once(&loop);
    ck_assert_int_eq(s.at, first + 1);
    ck_assert_int_eq(dump(), 1);
    ck_assert_str_eq(lines[0], expect("stepper SLEEPING", s.at, ""));
    run_until_idle();
}
END_TEST

/* Dumps the loop while it runs, after having suspended once. */
static char self_line[200];

static int self_dump(async_loop_t *l, void *frame)
{
    struct spot *s = frame;
    ASYNC_BEGIN(l, s);
    s->at = __LINE__; AWAIT(async_yield(l));
    dump();
    snprintf(self_line, sizeof self_line, "%s", lines[0]);
    ASYNC_END;
}

/* A running task is somewhere past its last suspension point: the dump
 * does not show that old point as where it is. */
START_TEST(dump_shows_no_stale_point_for_the_running_task)
{
    static struct spot s;
    static async_task_t t;
    ck_assert_int_eq(async_task_create(&loop, &t, self_dump, &s), 0);
    ck_assert_int_eq(async_task_set_name(&t, "me"), 0);
    run_until_idle();
    ck_assert_int_ne(s.at, 0);
    ck_assert_str_eq(self_line, "me RUNNING");
}
END_TEST

START_TEST(dump_marks_a_pending_cancel)
{
    static struct spot s, z;
    static async_task_t t, tz;
    ck_assert_int_eq(async_task_create(&loop, &t, two_steps, &s), 0);
    ck_assert_int_eq(async_task_create(&loop, &tz, sleepy_cleanup, &z), 0);
    ck_assert_int_eq(async_task_set_name(&t, "yielder"), 0);
    ck_assert_int_eq(async_task_set_name(&tz, "closer"), 0);
    async_loop_run_once(&loop);
    /* The yielder is ready to run: the cancel waits for its next turn. The
     * closer sleeps in its cleanup: the cancel waits for the cleanup. */
    ck_assert_int_eq(async_task_cancel(&loop, &t), 1);
    ck_assert_int_eq(async_task_cancel(&loop, &tz), 1);
    ck_assert_int_eq(dump(), 2);
    ck_assert_str_eq(lines[0], expect("yielder READY", s.at, " (cancel pending)"));
    ck_assert_str_eq(lines[1], expect("closer SLEEPING", z.at, " (cancel pending)"));
    run_until_idle();
    ck_assert_int_eq(async_task_result(&t), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&tz), ASYNC_ECANCELED);
    ck_assert_int_eq(dump(), 0);
}
END_TEST

START_TEST(dump_refuses_null)
{
    static async_loop_t blank;
    nlines = 0;
    ck_assert_int_eq(async_loop_dump(NULL, collect, &nlines), ASYNC_EINVAL);
    ck_assert_int_eq(async_loop_dump(&loop, NULL, &nlines), ASYNC_EINVAL);
    ck_assert_int_eq(async_loop_dump(&blank, collect, &nlines), ASYNC_EINVAL);
    ck_assert_int_eq(nlines, 0);
}
END_TEST

/* ------------------------------------------------------------ hook */

static int hook_calls, hook_code;
static char hook_what[200];

static void hook(int code, const char *what)
{
    hook_calls++;
    hook_code = code;
    snprintf(hook_what, sizeof hook_what, "%s", what);
}

static void hook_setup(void)
{
    loop_setup();
    hook_calls = 0;
    hook_code = 0;
    hook_what[0] = '\0';
    async_debug_hook = hook;
}

/* The hook fired once more, with code, naming `needle`. */
#define ck_assert_hooked(calls, code, needle)                                 \
    do {                                                                      \
        ck_assert_int_eq(hook_calls, (calls));                                \
        ck_assert_int_eq(hook_code, (code));                                  \
        ck_assert_msg(strstr(hook_what, (needle)) != NULL,                    \
                      "hook text \"%s\" does not name %s", hook_what,         \
                      (needle));                                              \
    } while (0)

START_TEST(task_done_with_nothing_outstanding_is_reported)
{
    static async_queue_t q;
    static int buf[4];
    int item = 5;
    ck_assert_int_eq(async_queue_init(&q, &loop, buf, sizeof buf[0], 4,
                                      ASYNC_QUEUE_FIFO, NULL), 0);
    ck_assert_int_eq(hook_calls, 0);
    ck_assert_int_eq(async_queue_task_done(&q), ASYNC_ESTATE);
    ck_assert_hooked(1, ASYNC_ESTATE, "task_done");
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
    /* Correct use is not reported. */
    ck_assert_int_eq(async_queue_put_nowait(&q, &item), 0);
    ck_assert_int_eq(async_queue_get_nowait(&q, &item), 0);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    ck_assert_int_eq(hook_calls, 1);
}
END_TEST

START_TEST(creating_a_live_task_again_is_reported)
{
    static struct spot s, other;
    static async_task_t t;
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    ck_assert_int_eq(async_task_create(&loop, &t, on_event, &s), 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_task_create(&loop, &t, nap, &other), ASYNC_EBUSY);
    ck_assert_hooked(1, ASYNC_EBUSY, "async_task_create");
    /* The live task is untouched: still waiting where it was. */
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_WAITING);
    ck_assert_int_eq(dump(), 1);
    ck_assert_str_eq(lines[0], expect(unnamed(&t, "WAITING"), s.at, ""));
    ck_assert_int_eq(async_event_set(&ev), 0);
    run_until_idle();
    ck_assert_int_eq(hook_calls, 1);
}
END_TEST

START_TEST(other_misuse_is_reported_with_its_code)
{
    static async_future_t fut;
    static struct spot s;
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_future_set(&fut, 1), 0);
    ck_assert_int_eq(hook_calls, 0);
    ck_assert_int_eq(async_future_set(&fut, 2), ASYNC_ESTATE);
    ck_assert_hooked(1, ASYNC_ESTATE, "async_future_set");
    ck_assert_int_eq(async_future_result(&fut), 1);
    ck_assert_int_eq(async_sleep(&loop, 1), ASYNC_ENOTASK);
    ck_assert_hooked(2, ASYNC_ENOTASK, "async_sleep");
    ck_assert_int_eq(async_task_create(&loop, NULL, nap, &s), ASYNC_EINVAL);
    ck_assert_hooked(3, ASYNC_EINVAL, "async_task_create");
}
END_TEST

/* Awaits an event under a deadline: refused for a NULL timeout, a delay
 * too long, or a full timer heap. */
struct bounded {
    async_frame_t co;
    async_timeout_t *to;
    async_tick_t ticks;
    int rc;
};

static int bounded(async_loop_t *l, void *frame)
{
    struct bounded *b = frame;
    ASYNC_BEGIN(l, b);
    AWAIT_TRY(b->rc, async_wait_for(l, b->to, b->ticks,
                                    async_event_wait(l, &ev)));
    ASYNC_END;
}

/* Each refusal is reported once, with its own reason. */
START_TEST(a_refused_wait_for_is_reported_once_with_its_reason)
{
    static async_loop_t bare; /* no timer heap at all */
    static async_timeout_t to;
    static struct bounded b;
    static async_task_t t;
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    b.ticks = 5;
    ck_assert_int_eq(async_loop_run(&loop, &t, bounded, &b), 0);
    ck_assert_int_eq(b.rc, ASYNC_EINVAL);
    ck_assert_hooked(1, ASYNC_EINVAL, "NULL timeout");

    b.to = &to;
    b.ticks = ASYNC_MAX_DELAY + 1u;
    ck_assert_int_eq(async_loop_run(&loop, &t, bounded, &b), 0);
    ck_assert_int_eq(b.rc, ASYNC_ERANGE);
    ck_assert_hooked(2, ASYNC_ERANGE, "ASYNC_MAX_DELAY");

    ck_assert_int_eq(async_loop_init(&bare, NULL, 0), 0);
    ck_assert_int_eq(async_event_init(&ev, &bare), 0);
    b.ticks = 5;
    ck_assert_int_eq(async_loop_run(&bare, &t, bounded, &b), 0);
    ck_assert_int_eq(b.rc, ASYNC_ENOSPC);
    ck_assert_hooked(3, ASYNC_ENOSPC, "timer heap is full");
    ck_assert_int_eq(async_loop_close(&bare), 0);
}
END_TEST

START_TEST(without_a_hook_misuse_is_still_refused)
{
    async_debug_hook = NULL;
    ck_assert_int_eq(async_sleep(&loop, 1), ASYNC_ENOTASK);
    ck_assert_int_eq(hook_calls, 0);
}
END_TEST

static Suite *debug_suite(void)
{
    Suite *s = suite_create("debug");
    TCase *tc = loop_tcase("names and dump");
    tcase_add_test(tc, tasks_keep_their_names);
    tcase_add_test(tc, dump_shows_each_live_task_with_state_and_await_line);
    tcase_add_test(tc, dump_follows_the_task_from_await_to_await);
    tcase_add_test(tc, dump_shows_no_stale_point_for_the_running_task);
    tcase_add_test(tc, dump_marks_a_pending_cancel);
    tcase_add_test(tc, dump_refuses_null);
    suite_add_tcase(s, tc);

    tc = tcase_create("hook");
    tcase_add_checked_fixture(tc, hook_setup, loop_teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, task_done_with_nothing_outstanding_is_reported);
    tcase_add_test(tc, creating_a_live_task_again_is_reported);
    tcase_add_test(tc, other_misuse_is_reported_with_its_code);
    tcase_add_test(tc, a_refused_wait_for_is_reported_once_with_its_reason);
    tcase_add_test(tc, without_a_hook_misuse_is_still_refused);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(debug_suite)
