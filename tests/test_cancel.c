/* SPDX-License-Identifier: MIT */
/*
 * Cancellation, as in asyncio: task.cancel() is a request, delivered as
 * ASYNC_ECANCELED at the task's current await (a sleeping or waiting task
 * is detached at once) or at its next await that suspends. Cleanup sections
 * run once, innermost first, and are never interrupted; a cancel that
 * arrives during one is remembered. Cancelling a task that awaits another
 * task or a gather passes the request inward. Misuse is refused.
 */
#include "harness.h"

/* Sleeps `ticks`, then returns `value`. The cleanup section counts its runs
 * and, if fin_ticks is set, awaits a sleep of its own. */
struct worker {
    async_frame_t co;
    const char *name;
    async_tick_t ticks, fin_ticks;
    int value;
    int cleanups;
};

static int worker(async_loop_t *l, void *frame)
{
    struct worker *w = frame;
    ASYNC_BEGIN(l, w);
    trace("%s:start@%u", w->name, NOW);
    AWAIT(async_sleep(l, w->ticks));
    trace("%s:woke@%u", w->name, NOW);
    ASYNC_RETURN(w->value);
    ASYNC_FINALLY;
    w->cleanups++;
    trace("%s:fin(%s)@%u", w->name, res(ASYNC_RESULT), NOW);
    if (w->fin_ticks) {
        AWAIT(async_sleep(l, w->fin_ticks));
        trace("%s:fin-end@%u", w->name, NOW);
    }
    ASYNC_END;
}

static const char *state_name(int state)
{
    static const char *const names[] = {"IDLE",     "PENDING",  "READY",
                                        "RUNNING",  "SLEEPING", "WAITING",
                                        "AWAITING", "GATHERING", "DONE"};
    return state >= 0 && state <= ASYNC_TASK_DONE ? names[state] : "?";
}

/* Sleeps `at` ticks (not at all for 0), then cancels target `times` times
 * in a row, tracing what each call returned (and, if asked, the target's
 * state just before). */
struct canceller {
    async_frame_t co;
    async_task_t *target;
    async_tick_t at;
    int times, i, show_state;
};

static int canceller(async_loop_t *l, void *frame)
{
    struct canceller *c = frame;
    ASYNC_BEGIN(l, c);
    if (c->at)
        AWAIT(async_sleep(l, c->at));
    if (c->show_state)
        trace("state=%s", state_name(async_task_state(c->target)));
    for (c->i = 0; c->i < (c->times ? c->times : 1); c->i++)
        trace("cancel@%u=%d", NOW, async_task_cancel(l, c->target));
    ASYNC_END;
}

/* Catches the cancellation with AWAIT_TRY, sleeps 3 more ticks, returns
 * value. */
struct catcher {
    async_frame_t co;
    const char *name;
    int rc, value;
};

static int catcher(async_loop_t *l, void *frame)
{
    struct catcher *c = frame;
    ASYNC_BEGIN(l, c);
    AWAIT_TRY(c->rc, async_sleep(l, 100));
    trace("%s:caught %s@%u", c->name, res(c->rc), NOW);
    AWAIT(async_sleep(l, 3));
    trace("%s:slept@%u", c->name, NOW);
    ASYNC_RETURN(c->value);
    ASYNC_FINALLY;
    trace("%s:fin(%s)@%u", c->name, res(ASYNC_RESULT), NOW);
    ASYNC_END;
}

/* ------------------------------------------------------------ delivery */

START_TEST(cancel_lands_at_the_sleep_at_the_tick_of_the_cancel)
{
    static struct worker a = {.name = "A", .ticks = 100, .value = 7};
    static struct canceller c = {.at = 10};
    static async_task_t ta, tc;
    c.target = &ta;
    ck_assert_int_eq(async_task_create(&loop, &ta, worker, &a), 0);
    ck_assert_int_eq(async_task_create(&loop, &tc, canceller, &c), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:start@0 cancel@10=1 A:fin(ECANCELED)@10");
    ck_assert_int_eq(async_task_result(&ta), ASYNC_ECANCELED);
    /* The sleep's timer left the heap: the clock never reached 100. */
    ck_assert_uint_eq(async_loop_now(&loop), 10);
}
END_TEST

START_TEST(cleanup_runs_once_with_the_cancel_code_and_may_await)
{
    static struct worker a = {.name = "A", .ticks = 100, .fin_ticks = 5};
    static struct canceller c = {.at = 10};
    static async_task_t ta, tc;
    c.target = &ta;
    async_task_create(&loop, &ta, worker, &a);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    ck_assert_str_eq(TRACE,
                     "A:start@0 cancel@10=1 A:fin(ECANCELED)@10 A:fin-end@15");
    ck_assert_int_eq(a.cleanups, 1);
    ck_assert_int_eq(async_task_result(&ta), ASYNC_ECANCELED);
}
END_TEST

/* Three coroutines deep, each awaiting the next with async_call. */
struct level {
    async_frame_t co;
    int depth;
    struct level *sub;
};

static int level(async_loop_t *l, void *frame)
{
    struct level *v = frame;
    ASYNC_BEGIN(l, v);
    trace("in%d", v->depth);
    if (v->sub)
        AWAIT(async_call(l, level, v->sub));
    else
        AWAIT(async_sleep(l, 100));
    trace("out%d", v->depth);
    ASYNC_FINALLY;
    trace("fin%d(%s)@%u", v->depth, res(ASYNC_RESULT), NOW);
    ASYNC_END;
}

START_TEST(nested_coroutines_clean_up_innermost_first)
{
    static struct level v[3];
    static struct canceller c = {.at = 5};
    static async_task_t tv, tc;
    v[0].depth = 1;
    v[0].sub = &v[1];
    v[1].depth = 2;
    v[1].sub = &v[2];
    v[2].depth = 3;
    c.target = &tv;
    async_task_create(&loop, &tv, level, &v[0]);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    ck_assert_str_eq(TRACE, "in1 in2 in3 cancel@5=1 fin3(ECANCELED)@5 "
                            "fin2(ECANCELED)@5 fin1(ECANCELED)@5");
    ck_assert_int_eq(async_task_result(&tv), ASYNC_ECANCELED);
}
END_TEST

START_TEST(await_try_catches_it_and_the_task_goes_on)
{
    static struct catcher k = {.name = "K", .value = 42};
    static struct canceller c = {.at = 5};
    static async_task_t tk, tc;
    c.target = &tk;
    async_task_create(&loop, &tk, catcher, &k);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    /* The later sleep is not cancelled again: the request was consumed. */
    ck_assert_str_eq(TRACE,
                     "cancel@5=1 K:caught ECANCELED@5 K:slept@8 K:fin(42)@8");
    ck_assert_int_eq(async_task_result(&tk), 42);
}
END_TEST

/* Cancels itself, goes on running, then suspends. */
static int selfish(async_loop_t *l, void *frame)
{
    ASYNC_BEGIN(l, frame);
    trace("cancel-self=%d", async_task_cancel(l, async_current(l)));
    trace("still-running@%u", NOW);
    AWAIT(async_sleep(l, 5));
    trace("never");
    ASYNC_FINALLY;
    trace("fin(%s)@%u", res(ASYNC_RESULT), NOW);
    ASYNC_END;
}

START_TEST(self_cancel_lands_at_the_next_suspending_await)
{
    static async_frame_t f;
    static async_task_t t;
    async_task_create(&loop, &t, selfish, &f);
    run_until_idle();
    ck_assert_str_eq(TRACE, "cancel-self=1 still-running@0 fin(ECANCELED)@0");
    ck_assert_int_eq(async_task_result(&t), ASYNC_ECANCELED);
    /* The sleep was refused, not started: the clock never moved. */
    ck_assert_uint_eq(async_loop_now(&loop), 0);
}
END_TEST

/* Cancels itself and ends without ever suspending again. */
static int quitter(async_loop_t *l, void *frame)
{
    ASYNC_BEGIN(l, frame);
    trace("cancel-self=%d", async_task_cancel(l, async_current(l)));
    ASYNC_RETURN(5);
    ASYNC_FINALLY;
    trace("fin(%s)", res(ASYNC_RESULT));
    ASYNC_END;
}

START_TEST(a_task_that_cancels_itself_and_returns_at_once_ends_cancelled)
{
    static async_frame_t f;
    static async_task_t t;
    async_task_create(&loop, &t, quitter, &f);
    run_until_idle();
    /* As in asyncio: the request outlives the return value. */
    ck_assert_str_eq(TRACE, "cancel-self=1 fin(5)");
    ck_assert_int_eq(async_task_result(&t), ASYNC_ECANCELED);
}
END_TEST

START_TEST(a_task_woken_but_not_yet_run_gets_it_from_that_await)
{
    static struct worker a = {.name = "A", .ticks = 10, .value = 7};
    static struct canceller c = {.at = 10, .show_state = 1};
    static async_task_t ta, tc;
    c.target = &ta;
    /* The canceller starts its sleep first, so at tick 10 both timers fire
     * and it runs before A: A is READY, woken by its timer, when the
     * cancel arrives. */
    async_task_create(&loop, &tc, canceller, &c);
    async_task_create(&loop, &ta, worker, &a);
    run_until_idle();
    ck_assert_str_eq(TRACE,
                     "A:start@0 state=READY cancel@10=1 A:fin(ECANCELED)@10");
    ck_assert_int_eq(async_task_result(&ta), ASYNC_ECANCELED);
}
END_TEST

/* With a cancel pending, awaits that complete at once (a set event, a done
 * future, a done task, a free lock, a child that never suspends) return
 * their results; the first await that would suspend gets ECANCELED. */
struct quick {
    async_frame_t co;
    async_event_t *ev;
};

/* A child whose only await completes at once. */
static int quick(async_loop_t *l, void *frame)
{
    struct quick *q = frame;
    ASYNC_BEGIN(l, q);
    AWAIT(async_event_wait(l, q->ev));
    ASYNC_RETURN(9);
    ASYNC_END;
}

struct immediate {
    async_frame_t co;
    async_event_t ev;
    async_future_t fut;
    async_lock_t lock;
    async_task_t *done;
    struct quick child;
    int a, b, c, d, e;
};

static int immediate(async_loop_t *l, void *frame)
{
    struct immediate *m = frame;
    ASYNC_BEGIN(l, m);
    trace("cancel-self=%d", async_task_cancel(l, async_current(l)));
    AWAIT_TRY(m->a, async_event_wait(l, &m->ev));
    AWAIT_TRY(m->b, async_future_wait(l, &m->fut));
    AWAIT_TRY(m->c, async_task_wait(l, m->done));
    AWAIT_TRY(m->d, async_lock_acquire(l, &m->lock));
    AWAIT_TRY(m->e, async_call(l, quick, &m->child));
    trace("event=%s future=%s task=%s lock=%s call=%s", res(m->a), res(m->b),
          res(m->c), res(m->d), res(m->e));
    AWAIT(async_yield(l));
    trace("never");
    ASYNC_FINALLY;
    trace("fin(%s)@%u locked=%d", res(ASYNC_RESULT), NOW,
          async_lock_locked(&m->lock));
    async_lock_release(l, &m->lock);
    ASYNC_END;
}

START_TEST(awaits_that_complete_at_once_do_not_deliver_a_pending_cancel)
{
    static struct immediate m;
    static struct worker q = {.name = "Q", .value = 7};
    static async_task_t tq, tm;
    async_event_init(&m.ev, &loop);
    async_event_set(&m.ev);
    async_future_init(&m.fut, &loop);
    async_future_set(&m.fut, 3);
    async_lock_init(&m.lock, &loop);
    m.done = &tq;
    m.child.ev = &m.ev;
    async_task_create(&loop, &tq, worker, &q); /* sleep(0): done at tick 0 */
    run_until_idle();
    ck_assert_int_eq(async_task_result(&tq), 7);
    trace_buf[0] = '\0';
    async_task_create(&loop, &tm, immediate, &m);
    run_until_idle();
    ck_assert_str_eq(TRACE, "cancel-self=1 event=0 future=3 task=7 lock=0 "
                            "call=9 fin(ECANCELED)@0 locked=1");
    ck_assert_int_eq(async_task_result(&tm), ASYNC_ECANCELED);
    ck_assert_int_eq(async_lock_locked(&m.lock), 0);
}
END_TEST

/* ------------------------------------------------ results and repeats */

START_TEST(cancelling_a_finished_task_returns_0_and_changes_nothing)
{
    static struct worker a = {.name = "A", .ticks = 3, .value = 7};
    static async_task_t ta;
    async_task_create(&loop, &ta, worker, &a);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:start@0 A:woke@3 A:fin(7)@3");
    ck_assert_int_eq(async_task_cancel(&loop, &ta), 0);
    ck_assert_int_eq(async_task_state(&ta), ASYNC_TASK_DONE);
    ck_assert_int_eq(async_task_result(&ta), 7);
    ck_assert_int_eq(async_loop_run_once(&loop), 0);
    ck_assert_str_eq(TRACE, "A:start@0 A:woke@3 A:fin(7)@3");
    ck_assert_int_eq(a.cleanups, 1);
}
END_TEST

START_TEST(cancelling_twice_returns_1_twice_and_cleans_up_once)
{
    static struct worker a = {.name = "A", .ticks = 100, .fin_ticks = 5};
    static struct canceller c = {.at = 10, .times = 2};
    static async_task_t ta, tc;
    c.target = &ta;
    async_task_create(&loop, &ta, worker, &a);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:start@0 cancel@10=1 cancel@10=1 "
                            "A:fin(ECANCELED)@10 A:fin-end@15");
    ck_assert_int_eq(a.cleanups, 1);
    ck_assert_int_eq(async_task_result(&ta), ASYNC_ECANCELED);
}
END_TEST

START_TEST(two_cancels_before_it_runs_are_delivered_once)
{
    static struct catcher k = {.name = "K", .value = 42};
    static struct canceller c = {.at = 5, .times = 2};
    static async_task_t tk, tc;
    c.target = &tk;
    async_task_create(&loop, &tk, catcher, &k);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    ck_assert_str_eq(TRACE, "cancel@5=1 cancel@5=1 K:caught ECANCELED@5 "
                            "K:slept@8 K:fin(42)@8");
    ck_assert_int_eq(async_task_result(&tk), 42);
}
END_TEST

START_TEST(a_task_cancelled_before_its_first_turn_never_runs)
{
    static struct worker a = {.name = "A", .ticks = 1, .value = 7};
    static async_task_t ta;
    async_task_create(&loop, &ta, worker, &a);
    ck_assert_int_eq(async_task_cancel(&loop, &ta), 1);
    ck_assert_int_eq(async_task_state(&ta), ASYNC_TASK_PENDING);
    run_until_idle();
    ck_assert_str_eq(TRACE, "");
    ck_assert_int_eq(a.cleanups, 0);
    ck_assert_int_eq(async_task_result(&ta), ASYNC_ECANCELED);
}
END_TEST

START_TEST(the_frame_of_a_task_cancelled_before_its_first_turn_is_free_again)
{
    static struct worker a = {.name = "A", .ticks = 1, .value = 7};
    static async_task_t ta, tb;
    async_task_create(&loop, &ta, worker, &a);
    ck_assert_int_eq(async_task_cancel(&loop, &ta), 1);
    run_until_idle();
    ck_assert_int_eq(async_task_result(&ta), ASYNC_ECANCELED);
    /* The coroutine never ran, and its frame is not in use. */
    ck_assert_int_eq(async_task_create(&loop, &tb, worker, &a), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:start@0 A:woke@1 A:fin(7)@1");
    ck_assert_int_eq(async_task_result(&tb), 7);
}
END_TEST

START_TEST(a_task_cancelled_earlier_in_its_first_turn_never_runs)
{
    static struct worker a = {.name = "A", .ticks = 1, .value = 7};
    static struct canceller c; /* at 0: cancels on its first turn */
    static async_task_t ta, tc;
    c.target = &ta;
    async_task_create(&loop, &tc, canceller, &c);
    async_task_create(&loop, &ta, worker, &a);
    run_until_idle();
    ck_assert_str_eq(TRACE, "cancel@0=1");
    ck_assert_int_eq(a.cleanups, 0);
    ck_assert_int_eq(async_task_result(&ta), ASYNC_ECANCELED);
}
END_TEST

/* ------------------------------------------------------ during cleanup */

START_TEST(a_cancel_during_cleanup_does_not_interrupt_it_and_is_remembered)
{
    static struct worker a = {.name = "A", .ticks = 10, .fin_ticks = 5,
                              .value = 7};
    static struct canceller c = {.at = 12};
    static async_task_t ta, tc;
    c.target = &ta;
    async_task_create(&loop, &ta, worker, &a);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    /* The cleanup's own sleep runs to its deadline; the value 7 the body
     * returned gives way to the remembered cancel. */
    ck_assert_str_eq(TRACE, "A:start@0 A:woke@10 A:fin(7)@10 cancel@12=1 "
                            "A:fin-end@15");
    ck_assert_int_eq(a.cleanups, 1);
    ck_assert_int_eq(async_task_result(&ta), ASYNC_ECANCELED);
}
END_TEST

START_TEST(a_second_cancel_during_cleanup_does_not_restart_it)
{
    static struct worker a = {.name = "A", .ticks = 100, .fin_ticks = 10};
    static struct canceller c1 = {.at = 5}, c2 = {.at = 8};
    static async_task_t ta, tc1, tc2;
    c1.target = c2.target = &ta;
    async_task_create(&loop, &ta, worker, &a);
    async_task_create(&loop, &tc1, canceller, &c1);
    async_task_create(&loop, &tc2, canceller, &c2);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:start@0 cancel@5=1 A:fin(ECANCELED)@5 "
                            "cancel@8=1 A:fin-end@15");
    ck_assert_int_eq(a.cleanups, 1);
    ck_assert_int_eq(async_task_result(&ta), ASYNC_ECANCELED);
}
END_TEST

/* A parent whose child is cancelled while in its cleanup: the child
 * finishes its cleanup and its result comes back; the remembered request
 * lands at the parent's next suspending await. */
struct parent {
    async_frame_t co;
    struct worker child;
    int got;
};

static int parent(async_loop_t *l, void *frame)
{
    struct parent *p = frame;
    ASYNC_BEGIN(l, p);
    AWAIT_VALUE(p->got, async_call(l, worker, &p->child));
    trace("P:got %s@%u", res(p->got), NOW);
    AWAIT(async_sleep(l, 50));
    trace("never");
    ASYNC_FINALLY;
    trace("P:fin(%s)@%u", res(ASYNC_RESULT), NOW);
    ASYNC_END;
}

START_TEST(a_cancel_during_a_child_cleanup_lands_at_the_parents_next_await)
{
    static struct parent p = {.child = {.name = "C", .ticks = 10,
                                        .fin_ticks = 5, .value = 7}};
    static struct canceller c = {.at = 12};
    static async_task_t tp, tc;
    c.target = &tp;
    async_task_create(&loop, &tp, parent, &p);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    ck_assert_str_eq(TRACE, "C:start@0 C:woke@10 C:fin(7)@10 cancel@12=1 "
                            "C:fin-end@15 P:got 7@15 P:fin(ECANCELED)@15");
    ck_assert_int_eq(async_task_result(&tp), ASYNC_ECANCELED);
}
END_TEST

/* ------------------------------------------------ passing it inward */

/* Awaits another task and returns its result; with `after`, sleeps that
 * long first. */
struct awaiter {
    async_frame_t co;
    const char *name;
    async_task_t *other;
    async_tick_t after;
    int got;
};

static int awaiter(async_loop_t *l, void *frame)
{
    struct awaiter *w = frame;
    ASYNC_BEGIN(l, w);
    trace("%s:wait@%u", w->name, NOW);
    AWAIT_VALUE(w->got, async_task_wait(l, w->other));
    trace("%s:got %s@%u", w->name, res(w->got), NOW);
    if (w->after)
        AWAIT(async_sleep(l, w->after));
    ASYNC_RETURN(w->got);
    ASYNC_FINALLY;
    trace("%s:fin(%s)@%u", w->name, res(ASYNC_RESULT), NOW);
    ASYNC_END;
}

START_TEST(cancelling_a_task_that_awaits_a_task_cancels_the_awaited_one)
{
    static struct worker i = {.name = "I", .ticks = 100, .value = 7};
    static struct awaiter o = {.name = "O"};
    static struct canceller c = {.at = 10, .show_state = 1};
    static async_task_t ti, to, tc;
    o.other = &ti;
    c.target = &to;
    async_task_create(&loop, &ti, worker, &i);
    async_task_create(&loop, &to, awaiter, &o);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    ck_assert_str_eq(TRACE, "I:start@0 O:wait@0 state=AWAITING cancel@10=1 "
                            "I:fin(ECANCELED)@10 O:fin(ECANCELED)@10");
    ck_assert_int_eq(async_task_result(&ti), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&to), ASYNC_ECANCELED);
}
END_TEST

START_TEST(if_the_awaited_task_swallows_the_cancel_the_awaiter_gets_its_value)
{
    static struct catcher i = {.name = "I", .value = 5};
    static struct awaiter o = {.name = "O"};
    static struct canceller c = {.at = 10};
    static async_task_t ti, to, tc;
    o.other = &ti;
    c.target = &to;
    async_task_create(&loop, &ti, catcher, &i);
    async_task_create(&loop, &to, awaiter, &o);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    ck_assert_str_eq(TRACE, "O:wait@0 cancel@10=1 I:caught ECANCELED@10 "
                            "I:slept@13 I:fin(5)@13 O:got 5@13 O:fin(5)@13");
    ck_assert_int_eq(async_task_result(&ti), 5);
    ck_assert_int_eq(async_task_result(&to), 5);
}
END_TEST

/* Cancels itself, then awaits another task: the request is pending when
 * the await begins. */
static int cancelled_awaiter(async_loop_t *l, void *frame)
{
    struct awaiter *w = frame;
    ASYNC_BEGIN(l, w);
    async_task_cancel(l, async_current(l));
    trace("%s:wait@%u", w->name, NOW);
    AWAIT_VALUE(w->got, async_task_wait(l, w->other));
    trace("%s:got %s@%u", w->name, res(w->got), NOW);
    ASYNC_RETURN(w->got);
    ASYNC_FINALLY;
    trace("%s:fin(%s)@%u", w->name, res(ASYNC_RESULT), NOW);
    ASYNC_END;
}

/* As asyncio: a request pending when the await begins goes to the awaited
 * task, like one arriving during the await; the awaiter gets its outcome. */
START_TEST(a_cancel_pending_when_the_await_begins_goes_to_the_awaited_task)
{
    static struct worker i = {.name = "I", .ticks = 100, .value = 7};
    static struct awaiter o = {.name = "O"};
    static async_task_t ti, to;
    o.other = &ti;
    async_task_create(&loop, &ti, worker, &i);
    async_task_create(&loop, &to, cancelled_awaiter, &o);
    run_until_idle();
    ck_assert_str_eq(TRACE, "I:start@0 O:wait@0 I:fin(ECANCELED)@0 "
                            "O:fin(ECANCELED)@0");
    ck_assert_int_eq(async_task_result(&ti), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&to), ASYNC_ECANCELED);
}
END_TEST

START_TEST(a_cancel_pending_when_the_await_begins_can_be_swallowed_inside)
{
    static struct catcher i = {.name = "I", .value = 5};
    static struct awaiter o = {.name = "O"};
    static async_task_t ti, to;
    o.other = &ti;
    async_task_create(&loop, &ti, catcher, &i);
    async_task_create(&loop, &to, cancelled_awaiter, &o);
    run_until_idle();
    ck_assert_str_eq(TRACE, "O:wait@0 I:caught ECANCELED@0 I:slept@3 "
                            "I:fin(5)@3 O:got 5@3 O:fin(5)@3");
    ck_assert_int_eq(async_task_result(&to), 5);
}
END_TEST

START_TEST(an_awaiter_that_passed_a_cancel_on_can_be_cancelled_again)
{
    static struct catcher i = {.name = "I", .value = 5};
    static struct awaiter o = {.name = "O", .after = 100};
    static struct canceller c1 = {.at = 10}, c2 = {.at = 20};
    static async_task_t ti, to, tc1, tc2;
    o.other = &ti;
    c1.target = c2.target = &to;
    async_task_create(&loop, &ti, catcher, &i);
    async_task_create(&loop, &to, awaiter, &o);
    async_task_create(&loop, &tc1, canceller, &c1);
    async_task_create(&loop, &tc2, canceller, &c2);
    run_until_idle();
    /* The first cancel went to I, which swallowed it; O goes on, and the
     * second one is O's own. */
    ck_assert_str_eq(TRACE, "O:wait@0 cancel@10=1 I:caught ECANCELED@10 "
                            "I:slept@13 I:fin(5)@13 O:got 5@13 cancel@20=1 "
                            "O:fin(ECANCELED)@20");
    ck_assert_int_eq(async_task_result(&to), ASYNC_ECANCELED);
}
END_TEST

/* Gathers three workers. With `after`, catches the gather's error and
 * then sleeps that long. */
struct gatherer {
    async_frame_t co;
    async_gather_t g;
    async_gather_slot_t slot[3];
    async_task_t *tasks[3];
    async_tick_t after;
    int rc;
};

static int gatherer(async_loop_t *l, void *frame)
{
    struct gatherer *g = frame;
    ASYNC_BEGIN(l, g);
    async_gather_init(&g->g, g->slot, 3, 0);
    if (g->after) {
        AWAIT_TRY(g->rc, async_gather(l, &g->g, g->tasks));
        trace("G:caught %s@%u", res(g->rc), NOW);
        AWAIT(async_sleep(l, g->after));
    } else {
        AWAIT(async_gather(l, &g->g, g->tasks));
    }
    trace("G:gathered");
    ASYNC_FINALLY;
    trace("G:fin(%s)@%u", res(ASYNC_RESULT), NOW);
    ASYNC_END;
}

START_TEST(cancelling_a_gathering_task_cancels_the_unfinished_children)
{
    static struct worker a = {.name = "A", .ticks = 5, .value = 1};
    static struct worker b = {.name = "B", .ticks = 100, .fin_ticks = 3};
    static struct worker c = {.name = "C", .ticks = 100};
    static struct gatherer g;
    static struct canceller k = {.at = 10, .show_state = 1};
    static async_task_t ta, tb, tcc, tg, tk;
    g.tasks[0] = &ta;
    g.tasks[1] = &tb;
    g.tasks[2] = &tcc;
    k.target = &tg;
    async_task_create(&loop, &ta, worker, &a);
    async_task_create(&loop, &tb, worker, &b);
    async_task_create(&loop, &tcc, worker, &c);
    async_task_create(&loop, &tg, gatherer, &g);
    async_task_create(&loop, &tk, canceller, &k);
    run_until_idle();
    ck_assert_str_eq(TRACE,
                     "A:start@0 B:start@0 C:start@0 A:woke@5 A:fin(1)@5 "
                     "state=GATHERING cancel@10=1 B:fin(ECANCELED)@10 "
                     "C:fin(ECANCELED)@10 B:fin-end@13 G:fin(ECANCELED)@13");
    ck_assert_int_eq(async_task_result(&ta), 1);
    ck_assert_int_eq(async_task_result(&tb), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&tcc), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&tg), ASYNC_ECANCELED);
    ck_assert_int_eq(a.cleanups + b.cleanups + c.cleanups, 3);
}
END_TEST

/* Waits on a future. */
struct fwaiter {
    async_frame_t co;
    const char *name;
    async_future_t *fut;
    int got;
};

static int fwaiter(async_loop_t *l, void *frame)
{
    struct fwaiter *w = frame;
    ASYNC_BEGIN(l, w);
    AWAIT_VALUE(w->got, async_future_wait(l, w->fut));
    trace("%s:got %s@%u", w->name, res(w->got), NOW);
    ASYNC_FINALLY;
    trace("%s:fin(%s)@%u", w->name, res(ASYNC_RESULT), NOW);
    ASYNC_END;
}

/* Sets the future at tick 10, after saying whether it was still pending. */
static int fsetter(async_loop_t *l, void *frame)
{
    struct fwaiter *w = frame;
    ASYNC_BEGIN(l, w);
    AWAIT(async_sleep(l, 10));
    trace("pending=%d@%u", !async_future_done(w->fut), NOW);
    async_future_set(w->fut, 9);
    ASYNC_END;
}

START_TEST(a_gatherer_that_passed_a_cancel_on_can_be_cancelled_again)
{
    static struct worker a = {.name = "A", .ticks = 100};
    static struct worker b = {.name = "B", .ticks = 100};
    static struct worker c = {.name = "C", .ticks = 100};
    static struct gatherer g = {.after = 100};
    static struct canceller k1 = {.at = 10}, k2 = {.at = 20};
    static async_task_t ta, tb, tcc, tg, tk1, tk2;
    g.tasks[0] = &ta;
    g.tasks[1] = &tb;
    g.tasks[2] = &tcc;
    k1.target = k2.target = &tg;
    async_task_create(&loop, &ta, worker, &a);
    async_task_create(&loop, &tb, worker, &b);
    async_task_create(&loop, &tcc, worker, &c);
    async_task_create(&loop, &tg, gatherer, &g);
    async_task_create(&loop, &tk1, canceller, &k1);
    async_task_create(&loop, &tk2, canceller, &k2);
    run_until_idle();
    /* The first cancel went to the children; G caught what the gather
     * returned and goes on; the second one is G's own. */
    ck_assert_str_eq(TRACE,
                     "A:start@0 B:start@0 C:start@0 cancel@10=1 "
                     "A:fin(ECANCELED)@10 B:fin(ECANCELED)@10 "
                     "C:fin(ECANCELED)@10 G:caught ECANCELED@10 cancel@20=1 "
                     "G:fin(ECANCELED)@20");
    ck_assert_int_eq(async_task_result(&tg), ASYNC_ECANCELED);
}
END_TEST

START_TEST(cancelling_a_future_waiter_removes_only_that_waiter)
{
    static async_future_t fut;
    static struct fwaiter a = {.name = "A", .fut = &fut},
                          b = {.name = "B", .fut = &fut},
                          c = {.name = "C", .fut = &fut}, s = {.fut = &fut};
    static struct canceller k = {.at = 5};
    static async_task_t ta, tb, tc, ts, tk;
    async_future_init(&fut, &loop);
    k.target = &tb; /* the middle one of three waiters */
    async_task_create(&loop, &ta, fwaiter, &a);
    async_task_create(&loop, &tb, fwaiter, &b);
    async_task_create(&loop, &tc, fwaiter, &c);
    async_task_create(&loop, &ts, fsetter, &s);
    async_task_create(&loop, &tk, canceller, &k);
    run_until_idle();
    ck_assert_str_eq(TRACE, "cancel@5=1 B:fin(ECANCELED)@5 pending=1@10 "
                            "A:got 9@10 A:fin(0)@10 C:got 9@10 C:fin(0)@10");
    ck_assert_int_eq(async_future_result(&fut), 9);
    ck_assert_int_eq(async_task_result(&tb), ASYNC_ECANCELED);
}
END_TEST

/* Tasks that await each other in a circle. Passing the request inward
 * would go round for ever; it stops at the task that closes the circle,
 * which takes the cancellation itself, and the circle unwinds from there. */
START_TEST(a_cancel_passed_round_a_circle_of_awaiting_tasks_unwinds_it)
{
    static struct awaiter a = {.name = "A"}, b = {.name = "B"},
                          c = {.name = "C"};
    static struct canceller k = {.at = 10};
    static async_task_t ta, tb, tc, tk;
    a.other = &tb;
    b.other = &tc;
    c.other = &ta;
    k.target = &tb;
    async_task_create(&loop, &ta, awaiter, &a);
    async_task_create(&loop, &tb, awaiter, &b);
    async_task_create(&loop, &tc, awaiter, &c);
    async_task_create(&loop, &tk, canceller, &k);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:wait@0 B:wait@0 C:wait@0 cancel@10=1 "
                            "A:fin(ECANCELED)@10 C:fin(ECANCELED)@10 "
                            "B:fin(ECANCELED)@10");
    ck_assert_int_eq(async_task_result(&ta), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&tb), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&tc), ASYNC_ECANCELED);
}
END_TEST

/* Gathers one task. */
struct gather_one {
    async_frame_t co;
    async_gather_t g;
    async_gather_slot_t slot;
    async_task_t *task;
};

static int gather_one(async_loop_t *l, void *frame)
{
    struct gather_one *g = frame;
    ASYNC_BEGIN(l, g);
    async_gather_init(&g->g, &g->slot, 1, 0);
    trace("G:gather@%u", NOW);
    AWAIT(async_gather(l, &g->g, &g->task));
    ASYNC_FINALLY;
    trace("G:fin(%s)@%u", res(ASYNC_RESULT), NOW);
    ASYNC_END;
}

START_TEST(a_circle_through_a_gather_unwinds_from_either_side)
{
    static struct gather_one g;
    static struct awaiter b = {.name = "B"};
    static struct canceller k = {.at = 10};
    static async_task_t tg, tb, tk;
    g.task = &tb;
    b.other = &tg;
    k.target = _i ? &tb : &tg;
    async_task_create(&loop, &tg, gather_one, &g);
    async_task_create(&loop, &tb, awaiter, &b);
    async_task_create(&loop, &tk, canceller, &k);
    run_until_idle();
    /* Cancelling the gatherer, the child closes the circle and goes
     * first; cancelling the child, the gatherer does. */
    ck_assert_str_eq(TRACE, _i ? "G:gather@0 B:wait@0 cancel@10=1 "
                                 "G:fin(ECANCELED)@10 B:fin(ECANCELED)@10"
                               : "G:gather@0 B:wait@0 cancel@10=1 "
                                 "B:fin(ECANCELED)@10 G:fin(ECANCELED)@10");
    ck_assert_int_eq(async_task_result(&tg), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&tb), ASYNC_ECANCELED);
}
END_TEST

/* Gathers two tasks. */
struct gather_two {
    async_frame_t co;
    async_gather_t g;
    async_gather_slot_t slot[2];
    async_task_t *tasks[2];
};

static int gather_two(async_loop_t *l, void *frame)
{
    struct gather_two *g = frame;
    ASYNC_BEGIN(l, g);
    async_gather_init(&g->g, g->slot, 2, 0);
    trace("G:gather@%u", NOW);
    AWAIT(async_gather(l, &g->g, g->tasks));
    ASYNC_FINALLY;
    trace("G:fin(%s)@%u", res(ASYNC_RESULT), NOW);
    ASYNC_END;
}

/* The circle closes through one child of a gather: the gather stops
 * waiting for that child but still cancels, and waits for, the other,
 * whichever comes first in its list. */
START_TEST(a_circle_through_one_child_of_a_gather_still_cancels_the_other)
{
    static struct gather_two g;
    static struct awaiter c = {.name = "C"};
    static struct worker d = {.name = "D", .ticks = 100, .fin_ticks = 3};
    static struct canceller k = {.at = 10};
    static async_task_t tg, tc, td, tk;
    g.tasks[_i] = &tc;
    g.tasks[1 - _i] = &td;
    c.other = &tg;
    k.target = &tc;
    async_task_create(&loop, &tg, gather_two, &g);
    async_task_create(&loop, &tc, awaiter, &c);
    async_task_create(&loop, &td, worker, &d);
    async_task_create(&loop, &tk, canceller, &k);
    run_until_idle();
    ck_assert_str_eq(TRACE, "G:gather@0 C:wait@0 D:start@0 cancel@10=1 "
                            "D:fin(ECANCELED)@10 D:fin-end@13 "
                            "G:fin(ECANCELED)@13 C:fin(ECANCELED)@13");
    ck_assert_int_eq(async_task_result(&td), ASYNC_ECANCELED);
    ck_assert_int_eq(async_gather_result(&g.g, (uint32_t)_i), ASYNC_ESTATE);
}
END_TEST

/* As above, cancelled again while the other child's cleanup runs: the
 * gather, no longer listening to the child in the circle, still waits
 * for the other one. */
START_TEST(a_circle_cancelled_again_still_waits_for_the_other_child)
{
    static struct gather_two g;
    static struct awaiter c = {.name = "C"};
    static struct worker d = {.name = "D", .ticks = 100, .fin_ticks = 3};
    static struct canceller k = {.at = 10}, k2 = {.at = 11};
    static async_task_t tg, tc, td, tk, tk2;
    g.tasks[0] = &tc;
    g.tasks[1] = &td;
    c.other = &tg;
    k.target = k2.target = &tc;
    async_task_create(&loop, &tg, gather_two, &g);
    async_task_create(&loop, &tc, awaiter, &c);
    async_task_create(&loop, &td, worker, &d);
    async_task_create(&loop, &tk, canceller, &k);
    async_task_create(&loop, &tk2, canceller, &k2);
    run_until_idle();
    ck_assert_str_eq(TRACE, "G:gather@0 C:wait@0 D:start@0 cancel@10=1 "
                            "D:fin(ECANCELED)@10 cancel@11=1 D:fin-end@13 "
                            "G:fin(ECANCELED)@13 C:fin(ECANCELED)@13");
    ck_assert_int_eq(async_task_result(&td), ASYNC_ECANCELED);
}
END_TEST

/* Main awaits A, and A and B await each other. */
struct circle {
    async_frame_t co;
    struct awaiter a, b;
    async_task_t ta, tb;
};

static int circle(async_loop_t *l, void *frame)
{
    struct circle *c = frame;
    ASYNC_BEGIN(l, c);
    c->a.name = "A";
    c->a.other = &c->tb;
    c->b.name = "B";
    c->b.other = &c->ta;
    async_task_create(l, &c->ta, awaiter, &c->a);
    async_task_create(l, &c->tb, awaiter, &c->b);
    AWAIT(async_task_wait(l, &c->ta));
    ASYNC_END;
}

START_TEST(run_reports_a_circle_as_a_deadlock_and_unwinds_it)
{
    static struct circle c;
    static async_task_t tm;
    ck_assert_int_eq(async_loop_run(&loop, &tm, circle, &c), ASYNC_EDEADLK);
    ck_assert_str_eq(TRACE, "A:wait@0 B:wait@0 "
                            "B:fin(ECANCELED)@0 A:fin(ECANCELED)@0");
    ck_assert_int_eq(async_task_result(&c.ta), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&c.tb), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&tm), ASYNC_ECANCELED);
}
END_TEST

/* ---------------------------------------------------------------- misuse */

START_TEST(cancelling_null_or_a_never_created_task_is_refused)
{
    static struct worker a = {.name = "A", .ticks = 1, .value = 7};
    static async_task_t ta;
    ck_assert_int_eq(async_task_cancel(&loop, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_task_cancel(&loop, &ta), ASYNC_EINVAL);
    ck_assert_int_eq(async_task_cancel(NULL, &ta), ASYNC_EINVAL);
    ck_assert_int_eq(async_task_state(&ta), ASYNC_TASK_IDLE);
    /* Nothing was remembered: the task, created now, runs to its end. */
    async_task_create(&loop, &ta, worker, &a);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:start@0 A:woke@1 A:fin(7)@1");
    ck_assert_int_eq(async_task_result(&ta), 7);
}
END_TEST

static Suite *cancel_suite(void)
{
    Suite *s = suite_create("cancel");
    TCase *tc = loop_tcase("delivery");
    tcase_add_test(tc, cancel_lands_at_the_sleep_at_the_tick_of_the_cancel);
    tcase_add_test(tc, cleanup_runs_once_with_the_cancel_code_and_may_await);
    tcase_add_test(tc, nested_coroutines_clean_up_innermost_first);
    tcase_add_test(tc, await_try_catches_it_and_the_task_goes_on);
    tcase_add_test(tc, self_cancel_lands_at_the_next_suspending_await);
    tcase_add_test(tc,
                   a_task_that_cancels_itself_and_returns_at_once_ends_cancelled);
    tcase_add_test(tc, a_task_woken_but_not_yet_run_gets_it_from_that_await);
    tcase_add_test(tc,
                   awaits_that_complete_at_once_do_not_deliver_a_pending_cancel);
    suite_add_tcase(s, tc);

    tc = loop_tcase("results and repeats");
    tcase_add_test(tc, cancelling_a_finished_task_returns_0_and_changes_nothing);
    tcase_add_test(tc, cancelling_twice_returns_1_twice_and_cleans_up_once);
    tcase_add_test(tc, two_cancels_before_it_runs_are_delivered_once);
    tcase_add_test(tc, a_task_cancelled_before_its_first_turn_never_runs);
    tcase_add_test(tc, the_frame_of_a_task_cancelled_before_its_first_turn_is_free_again);
    tcase_add_test(tc, a_task_cancelled_earlier_in_its_first_turn_never_runs);
    suite_add_tcase(s, tc);

    tc = loop_tcase("during cleanup");
    tcase_add_test(tc,
                   a_cancel_during_cleanup_does_not_interrupt_it_and_is_remembered);
    tcase_add_test(tc, a_second_cancel_during_cleanup_does_not_restart_it);
    tcase_add_test(tc,
                   a_cancel_during_a_child_cleanup_lands_at_the_parents_next_await);
    suite_add_tcase(s, tc);

    tc = loop_tcase("passing it inward");
    tcase_add_test(tc,
                   cancelling_a_task_that_awaits_a_task_cancels_the_awaited_one);
    tcase_add_test(
        tc, if_the_awaited_task_swallows_the_cancel_the_awaiter_gets_its_value);
    tcase_add_test(tc, a_cancel_pending_when_the_await_begins_goes_to_the_awaited_task);
    tcase_add_test(tc, a_cancel_pending_when_the_await_begins_can_be_swallowed_inside);
    tcase_add_test(tc, an_awaiter_that_passed_a_cancel_on_can_be_cancelled_again);
    tcase_add_test(tc,
                   cancelling_a_gathering_task_cancels_the_unfinished_children);
    tcase_add_test(tc, a_gatherer_that_passed_a_cancel_on_can_be_cancelled_again);
    tcase_add_test(tc, cancelling_a_future_waiter_removes_only_that_waiter);
    tcase_add_test(tc,
                   a_cancel_passed_round_a_circle_of_awaiting_tasks_unwinds_it);
    tcase_add_loop_test(tc, a_circle_through_a_gather_unwinds_from_either_side,
                        0, 2);
    tcase_add_loop_test(tc, a_circle_through_one_child_of_a_gather_still_cancels_the_other,
                        0, 2);
    tcase_add_test(tc, a_circle_cancelled_again_still_waits_for_the_other_child);
    tcase_add_test(tc, run_reports_a_circle_as_a_deadlock_and_unwinds_it);
    suite_add_tcase(s, tc);

    tc = loop_tcase("misuse");
    tcase_add_test(tc, cancelling_null_or_a_never_created_task_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(cancel_suite)
