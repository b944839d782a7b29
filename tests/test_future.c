/* SPDX-License-Identifier: MIT */
/*
 * Futures: a one-shot result that callback-style code completes and tasks
 * await. Covers init and its misuse, set/cancel and what waiters receive,
 * awaiting a finished future, done-callbacks (always on a later turn, in
 * the order added), and the driver pattern: a peripheral's completion
 * callback sets the future a coroutine awaits.
 */
#include "harness.h"

static async_future_t fut;

/* The loop turn being run, counted by run_turns, so callbacks and tasks
 * can say when they ran. */
static int turn;

/* Run turns until idle, numbering them from 1. */
static void run_turns(void)
{
    int guard = 0;
    while (async_loop_next_timeout(&loop) != ASYNC_FOREVER && guard++ < 1000) {
        turn++;
        async_loop_run_once(&loop);
    }
}

/* A task that first sleeps `delay` ticks (so the order in which waiters
 * start waiting can differ from the order they were created), then awaits
 * the future and traces what it got. */
struct waiter {
    async_frame_t co;
    int id, delay, rc;
};

static int waiter(async_loop_t *l, void *frame)
{
    struct waiter *w = frame;
    ASYNC_BEGIN(l, w);
    if (w->delay)
        AWAIT(async_sleep(l, (async_tick_t)w->delay));
    trace("w%d waits", w->id);
    AWAIT_TRY(w->rc, async_future_wait(l, &fut));
    trace("w%d got %d", w->id, w->rc);
    ASYNC_RETURN(w->rc < 0 ? w->rc : 0);
    ASYNC_END;
}

static struct waiter wf[3];
static async_task_t wt[3];

/* Start waiters with the given delays; ids are 1, 2, 3 in creation order. */
static void start_waiters(int n, const int *delay)
{
    int i;
    for (i = 0; i < n; i++) {
        wf[i].id = i + 1;
        wf[i].delay = delay ? delay[i] : 0;
        ck_assert_int_eq(async_task_create(&loop, &wt[i], waiter, &wf[i]), 0);
    }
}

/* ------------------------------------------------------------ init */

START_TEST(init_refuses_null)
{
    ck_assert_int_eq(async_future_init(NULL, &loop), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_init(&fut, NULL), ASYNC_EINVAL);
    {
        /* A loop not initialised yet: its set would have nowhere to queue
         * the done-callbacks. */
        static async_loop_t zeroed;
        ck_assert_int_eq(async_future_init(&fut, &zeroed), ASYNC_EINVAL);
    }
    /* The refused inits left fut untouched: still never initialised. */
    ck_assert_int_eq(async_future_done(&fut), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_future_done(&fut), 0);
    ck_assert_int_eq(async_future_result(&fut), ASYNC_ESTATE);
}
END_TEST

START_TEST(reinit_while_awaited_is_busy_and_changes_nothing)
{
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    start_waiters(1, NULL);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_task_state(&wt[0]), ASYNC_TASK_WAITING);

    ck_assert_int_eq(async_future_init(&fut, &loop), ASYNC_EBUSY);
    /* Still pending, still awaited: the set reaches the same waiter. */
    ck_assert_int_eq(async_future_done(&fut), 0);
    ck_assert_int_eq(async_task_state(&wt[0]), ASYNC_TASK_WAITING);
    ck_assert_int_eq(async_future_set(&fut, 11), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "w1 waits w1 got 11");
}
END_TEST

static void count_cb(async_loop_t *l, async_callback_t *cb)
{
    (void)l;
    ++*(int *)cb->arg;
}

START_TEST(reinit_with_callbacks_attached_is_busy)
{
    static async_callback_t cb;
    int calls = 0;
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_callback_init(&cb, count_cb, &calls), 0);
    ck_assert_int_eq(async_future_add_callback(&fut, &cb), 0);
    ck_assert_int_eq(async_future_init(&fut, &loop), ASYNC_EBUSY);
    /* The callback is still attached: setting the future runs it. */
    ck_assert_int_eq(async_future_set(&fut, 1), 0);
    run_turns();
    ck_assert_int_eq(calls, 1);
}
END_TEST

START_TEST(a_done_future_can_be_initialised_again)
{
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_future_set(&fut, 3), 0);
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_future_done(&fut), 0);
    ck_assert_int_eq(async_future_result(&fut), ASYNC_ESTATE);
    ck_assert_int_eq(async_future_set(&fut, 4), 0);
    ck_assert_int_eq(async_future_result(&fut), 4);
}
END_TEST

/* ------------------------------------------------------ set and cancel */

START_TEST(set_wakes_every_waiter_in_the_order_they_began_waiting)
{
    /* Created 1, 2, 3; they begin waiting 2, 3, 1. */
    static const int delay[3] = {3, 1, 2};
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    start_waiters(3, delay);
    run_turns();
    ck_assert_str_eq(TRACE, "w2 waits w3 waits w1 waits");
    ck_assert_int_eq(async_future_set(&fut, 42), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "w2 waits w3 waits w1 waits w2 got 42 w3 got 42 w1 got 42");
    ck_assert_int_eq(async_future_done(&fut), 1);
    ck_assert_int_eq(async_future_result(&fut), 42);
}
END_TEST

START_TEST(an_error_result_reaches_waiters_as_their_await_result)
{
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    start_waiters(2, NULL);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_future_set(&fut, ASYNC_ETIMEDOUT), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "w1 waits w2 waits w1 got -3 w2 got -3");
    /* Each waiter returned what it got. */
    ck_assert_int_eq(async_task_result(&wt[0]), ASYNC_ETIMEDOUT);
    ck_assert_int_eq(async_task_result(&wt[1]), ASYNC_ETIMEDOUT);
    ck_assert_int_eq(async_future_result(&fut), ASYNC_ETIMEDOUT);
}
END_TEST

/* AWAIT (not AWAIT_TRY) lets the future's error end the coroutine like an
 * exception: the cleanup section sees it. */
struct propagator {
    async_frame_t co;
};

static int propagator(async_loop_t *l, void *frame)
{
    struct propagator *p = frame;
    ASYNC_BEGIN(l, p);
    AWAIT(async_future_wait(l, &fut));
    trace("not reached");
    ASYNC_FINALLY;
    trace("cleanup %s", async_strerror_name(ASYNC_RESULT));
    ASYNC_END;
}

START_TEST(an_error_result_propagates_through_await)
{
    static struct propagator p;
    static async_task_t t;
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_task_create(&loop, &t, propagator, &p), 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_future_set(&fut, ASYNC_ESHUTDOWN), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "cleanup ASYNC_ESHUTDOWN");
    ck_assert_int_eq(async_task_result(&t), ASYNC_ESHUTDOWN);
}
END_TEST

START_TEST(set_twice_is_refused_and_keeps_the_first_result)
{
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    start_waiters(1, NULL);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_future_set(&fut, 5), 0);
    ck_assert_int_eq(async_future_set(&fut, 9), ASYNC_ESTATE);
    ck_assert_int_eq(async_future_cancel(&fut), 0);
    ck_assert_int_eq(async_future_result(&fut), 5);
    run_turns();
    ck_assert_str_eq(TRACE, "w1 waits w1 got 5");
}
END_TEST

START_TEST(cancel_completes_waiters_with_ecanceled)
{
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    start_waiters(2, NULL);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_future_cancel(&fut), 1);
    ck_assert_int_eq(async_future_done(&fut), 1);
    ck_assert_int_eq(async_future_result(&fut), ASYNC_ECANCELED);
    /* Once done, cancel has no effect and says so. */
    ck_assert_int_eq(async_future_cancel(&fut), 0);
    ck_assert_int_eq(async_future_set(&fut, 1), ASYNC_ESTATE);
    run_turns();
    ck_assert_str_eq(TRACE, "w1 waits w2 waits w1 got -2 w2 got -2");
}
END_TEST

START_TEST(cancelling_a_waiting_task_leaves_the_future_pending)
{
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    start_waiters(2, NULL);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_task_cancel(&loop, &wt[0]), 1);
    run_turns();
    ck_assert_int_eq(async_future_done(&fut), 0);
    ck_assert_int_eq(async_task_state(&wt[1]), ASYNC_TASK_WAITING);
    ck_assert_int_eq(async_future_set(&fut, 8), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "w1 waits w2 waits w1 got -2 w2 got 8");
}
END_TEST

/* --------------------------------------------- awaiting a done future */

struct quick {
    async_frame_t co;
    int rc;
};

static int quick_a(async_loop_t *l, void *frame)
{
    struct quick *q = frame;
    ASYNC_BEGIN(l, q);
    trace("a1");
    AWAIT_TRY(q->rc, async_future_wait(l, &fut));
    trace("a2=%d", q->rc);
    ASYNC_END;
}

/* Never awaits, so it needs no coroutine macros. */
static int quick_b(async_loop_t *l, void *frame)
{
    (void)l;
    (void)frame;
    trace("b");
    return 0;
}

START_TEST(awaiting_a_done_future_does_not_suspend)
{
    static struct quick a, b;
    static async_task_t ta, tb;
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_future_set(&fut, 6), 0);
    ck_assert_int_eq(async_task_create(&loop, &ta, quick_a, &a), 0);
    ck_assert_int_eq(async_task_create(&loop, &tb, quick_b, &b), 0);
    /* Had a suspended, b would run between a1 and a2. */
    async_loop_run_once(&loop);
    ck_assert_str_eq(TRACE, "a1 a2=6 b");
    ck_assert_int_eq(async_task_state(&ta), ASYNC_TASK_DONE);
}
END_TEST

/* ---------------------------------------------------- done-callbacks */

static void trace_cb(async_loop_t *l, async_callback_t *cb)
{
    (void)l;
    trace("cb-%s@%d=%d", (const char *)cb->arg, turn, async_future_result(&fut));
}

/* Sets the future from inside a task, tracing around the call. */
static int setter(async_loop_t *l, void *frame)
{
    (void)l;
    (void)frame;
    trace("set@%d", turn);
    ck_assert_int_eq(async_future_set(&fut, 7), 0);
    trace("set-returned");
    return 0;
}

START_TEST(callbacks_run_on_a_later_turn_in_the_order_added)
{
    static async_callback_t cb[3];
    static const char *const names[3] = {"x", "y", "z"};
    static struct quick s;
    static async_task_t ts;
    int i;
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(async_callback_init(&cb[i], trace_cb, (void *)names[i]), 0);
        ck_assert_int_eq(async_future_add_callback(&fut, &cb[i]), 0);
    }
    ck_assert_int_eq(async_task_create(&loop, &ts, setter, &s), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "set@1 set-returned cb-x@2=7 cb-y@2=7 cb-z@2=7");
}
END_TEST

START_TEST(set_from_outside_a_task_defers_callbacks_too)
{
    static async_callback_t cb;
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_callback_init(&cb, trace_cb, (void *)"x"), 0);
    ck_assert_int_eq(async_future_add_callback(&fut, &cb), 0);
    ck_assert_int_eq(async_future_set(&fut, ASYNC_EFULL), 0);
    ck_assert_str_eq(TRACE, "");
    run_turns();
    ck_assert_str_eq(TRACE, "cb-x@1=-4");
}
END_TEST

START_TEST(adding_a_callback_to_a_done_future_queues_it_for_the_next_turn)
{
    static async_callback_t cb[2];
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_future_set(&fut, 2), 0);
    ck_assert_int_eq(async_callback_init(&cb[0], trace_cb, (void *)"x"), 0);
    ck_assert_int_eq(async_callback_init(&cb[1], trace_cb, (void *)"y"), 0);
    ck_assert_int_eq(async_future_add_callback(&fut, &cb[0]), 0);
    ck_assert_int_eq(async_future_add_callback(&fut, &cb[1]), 0);
    ck_assert_str_eq(TRACE, "");
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "cb-x@1=2 cb-y@1=2");
}
END_TEST

START_TEST(adding_a_queued_callback_is_busy_and_it_runs_once)
{
    static async_callback_t cb;
    static async_future_t other;
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_future_init(&other, &loop), 0);
    ck_assert_int_eq(async_callback_init(&cb, trace_cb, (void *)"x"), 0);
    ck_assert_int_eq(async_future_add_callback(&fut, &cb), 0);
    /* Attached to a pending future counts as queued. */
    ck_assert_int_eq(async_future_add_callback(&fut, &cb), ASYNC_EBUSY);
    ck_assert_int_eq(async_future_add_callback(&other, &cb), ASYNC_EBUSY);
    ck_assert_int_eq(async_call_soon(&loop, &cb), ASYNC_EBUSY);
    ck_assert_int_eq(async_future_set(&other, 1), 0);
    ck_assert_int_eq(async_future_set(&fut, 3), 0);
    /* Queued on the loop: still busy. */
    ck_assert_int_eq(async_future_add_callback(&other, &cb), ASYNC_EBUSY);
    run_turns();
    ck_assert_str_eq(TRACE, "cb-x@1=3");
    /* Once it has run it may be added again. */
    ck_assert_int_eq(async_future_add_callback(&fut, &cb), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "cb-x@1=3 cb-x@2=3");
}
END_TEST

/* A done-callback belongs to its future until it runs: posting it (from
 * an interrupt, say) would run it before the future is done, so the post
 * is refused and queues nothing. Once the future is done and the callback
 * queued, a post coalesces with it. */
START_TEST(posting_a_callback_attached_to_a_pending_future_is_busy)
{
    static async_callback_t cb;
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_callback_init(&cb, trace_cb, (void *)"x"), 0);
    ck_assert_int_eq(async_future_add_callback(&fut, &cb), 0);
    ck_assert_int_eq(async_post(&loop, &cb), ASYNC_EBUSY);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
    ck_assert_int_eq(async_future_set(&fut, 4), 0);
    ck_assert_int_eq(async_post(&loop, &cb), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "cb-x@1=4");
    /* Run, it is free: a post now queues it on its own. */
    ck_assert_int_eq(async_post(&loop, &cb), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "cb-x@1=4 cb-x@2=4");
}
END_TEST

START_TEST(a_callback_queued_by_call_soon_cannot_be_added)
{
    static async_callback_t cb;
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_callback_init(&cb, trace_cb, (void *)"s"), 0);
    ck_assert_int_eq(async_call_soon(&loop, &cb), 0);
    ck_assert_int_eq(async_future_add_callback(&fut, &cb), ASYNC_EBUSY);
    ck_assert_int_eq(async_future_set(&fut, 5), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "cb-s@1=5");
}
END_TEST

/* ------------------------------------------------ the driver pattern */

/* A fake peripheral. A transfer takes `latency` loop turns; each turn its
 * "interrupt" (a callback run by the loop) fires, and the last one
 * completes the future the driver awaits: the bridge from callback code
 * into awaitable code. */
struct periph {
    async_callback_t irq;
    async_future_t done;
    int latency, data;
};

static void periph_irq(async_loop_t *l, async_callback_t *cb)
{
    struct periph *p = cb->arg;
    if (--p->latency > 0) {
        trace("irq busy");
        ck_assert_int_eq(async_call_soon(l, cb), 0);
        return;
    }
    trace("irq done");
    ck_assert_int_eq(async_future_set(&p->done, p->data), 0);
}

/* The driver: start a transfer, await its completion, return the data. */
struct periph_read {
    async_frame_t co;
    struct periph *dev;
    int got;
};

static int periph_read(async_loop_t *l, void *frame)
{
    struct periph_read *r = frame;
    ASYNC_BEGIN(l, r);
    ck_assert_int_eq(async_future_init(&r->dev->done, l), 0);
    ck_assert_int_eq(async_callback_init(&r->dev->irq, periph_irq, r->dev), 0);
    ck_assert_int_eq(async_call_soon(l, &r->dev->irq), 0); /* start the hardware */
    trace("read started");
    AWAIT_VALUE(r->got, async_future_wait(l, &r->dev->done));
    ASYNC_RETURN(r->got);
    ASYNC_END;
}

static struct periph dev;

/* Application code: awaits the driver like any coroutine. */
struct app {
    async_frame_t co;
    struct periph_read read;
    int value;
};

static int app(async_loop_t *l, void *frame)
{
    struct app *a = frame;
    ASYNC_BEGIN(l, a);
    a->read.dev = &dev;
    AWAIT_VALUE(a->value, async_call(l, periph_read, &a->read));
    trace("app got %d", a->value);
    ASYNC_RETURN(a->value);
    ASYNC_END;
}

/* Other work keeps running while the transfer is in flight. */
static int ticker(async_loop_t *l, void *frame)
{
    ASYNC_BEGIN(l, frame);
    while (!async_future_done(&dev.done)) {
        trace("tick");
        AWAIT(async_yield(l));
    }
    ASYNC_END;
}

START_TEST(a_driver_callback_completes_an_awaited_future)
{
    static struct app a;
    static struct quick tk;
    static async_task_t ta, tt;
    dev.latency = 3;
    dev.data = 42;
    ck_assert_int_eq(async_task_create(&loop, &ta, app, &a), 0);
    ck_assert_int_eq(async_task_create(&loop, &tt, ticker, &tk), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "read started tick irq busy tick irq busy tick "
                            "irq done app got 42");
    ck_assert_int_eq(async_task_result(&ta), 42);
    ck_assert_int_eq(turn, 4);
}
END_TEST

/* ------------------------------------------------------------ misuse */

struct misuser {
    async_frame_t co;
    int rc;
};

static int await_fut(async_loop_t *l, void *frame)
{
    struct misuser *m = frame;
    ASYNC_BEGIN(l, m);
    AWAIT_TRY(m->rc, async_future_wait(l, &fut));
    ASYNC_END;
}

START_TEST(an_uninitialised_future_is_refused_everywhere)
{
    static async_callback_t cb;
    static struct misuser m;
    static async_task_t t;
    ck_assert_int_eq(async_callback_init(&cb, trace_cb, (void *)"x"), 0);
    ck_assert_int_eq(async_future_set(&fut, 1), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_cancel(&fut), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_done(&fut), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_result(&fut), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_add_callback(&fut, &cb), ASYNC_EINVAL);
    ck_assert_int_eq(async_task_create(&loop, &t, await_fut, &m), 0);
    run_turns();
    ck_assert_int_eq(m.rc, ASYNC_EINVAL);
    /* The refused add left cb free to be queued. */
    ck_assert_int_eq(async_call_soon(&loop, &cb), 0);
    run_turns();
    ck_assert_str_eq(TRACE, "cb-x@2=-1");
}
END_TEST

/* Another loop's future would wake the task there. */
START_TEST(awaiting_another_loops_future_is_refused)
{
    static async_loop_t other;
    static struct misuser m;
    static async_task_t t;
    ck_assert_int_eq(async_loop_init(&other, NULL, 0), 0);
    ck_assert_int_eq(async_future_init(&fut, &other), 0);
    ck_assert_int_eq(async_task_create(&loop, &t, await_fut, &m), 0);
    run_turns();
    ck_assert_int_eq(m.rc, ASYNC_EINVAL);
    ck_assert_int_eq(async_future_set(&fut, 7), 0); /* nobody to wake */
    ck_assert_int_eq(async_loop_close(&other), 0);
}
END_TEST

START_TEST(null_arguments_are_refused)
{
    static async_callback_t blank; /* never initialised: no function */
    ck_assert_int_eq(async_future_set(NULL, 1), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_cancel(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_done(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_result(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_future_add_callback(NULL, &blank), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_add_callback(&fut, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_add_callback(&fut, &blank), ASYNC_EINVAL);
    /* ASYNC_WAIT is a status, never a result. */
    ck_assert_int_eq(async_future_set(&fut, ASYNC_WAIT), ASYNC_EINVAL);
    ck_assert_int_eq(async_future_done(&fut), 0);
    ck_assert_int_eq(async_future_wait(&loop, &fut), ASYNC_ENOTASK);
    ck_assert_int_eq(async_future_wait(NULL, &fut), ASYNC_ENOTASK);
}
END_TEST

START_TEST(done_and_result_follow_the_state)
{
    ck_assert_int_eq(async_future_init(&fut, &loop), 0);
    ck_assert_int_eq(async_future_done(&fut), 0);
    ck_assert_int_eq(async_future_result(&fut), ASYNC_ESTATE);
    ck_assert_int_eq(async_future_set(&fut, 0), 0);
    ck_assert_int_eq(async_future_done(&fut), 1);
    ck_assert_int_eq(async_future_result(&fut), 0);
}
END_TEST

static Suite *future_suite(void)
{
    Suite *s = suite_create("future");
    TCase *tc = loop_tcase("init");
    tcase_add_test(tc, init_refuses_null);
    tcase_add_test(tc, reinit_while_awaited_is_busy_and_changes_nothing);
    tcase_add_test(tc, reinit_with_callbacks_attached_is_busy);
    tcase_add_test(tc, a_done_future_can_be_initialised_again);
    suite_add_tcase(s, tc);

    tc = loop_tcase("set and cancel");
    tcase_add_test(tc, set_wakes_every_waiter_in_the_order_they_began_waiting);
    tcase_add_test(tc, an_error_result_reaches_waiters_as_their_await_result);
    tcase_add_test(tc, an_error_result_propagates_through_await);
    tcase_add_test(tc, set_twice_is_refused_and_keeps_the_first_result);
    tcase_add_test(tc, cancel_completes_waiters_with_ecanceled);
    tcase_add_test(tc, cancelling_a_waiting_task_leaves_the_future_pending);
    tcase_add_test(tc, awaiting_a_done_future_does_not_suspend);
    tcase_add_test(tc, done_and_result_follow_the_state);
    suite_add_tcase(s, tc);

    tc = loop_tcase("done-callbacks");
    tcase_add_test(tc, callbacks_run_on_a_later_turn_in_the_order_added);
    tcase_add_test(tc, set_from_outside_a_task_defers_callbacks_too);
    tcase_add_test(tc, adding_a_callback_to_a_done_future_queues_it_for_the_next_turn);
    tcase_add_test(tc, adding_a_queued_callback_is_busy_and_it_runs_once);
    tcase_add_test(tc, a_callback_queued_by_call_soon_cannot_be_added);
    tcase_add_test(tc, posting_a_callback_attached_to_a_pending_future_is_busy);
    tcase_add_test(tc, a_driver_callback_completes_an_awaited_future);
    suite_add_tcase(s, tc);

    tc = loop_tcase("misuse");
    tcase_add_test(tc, an_uninitialised_future_is_refused_everywhere);
    tcase_add_test(tc, null_arguments_are_refused);
    tcase_add_test(tc, awaiting_another_loops_future_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(future_suite)
