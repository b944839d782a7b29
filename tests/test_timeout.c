/* SPDX-License-Identifier: MIT */
/*
 * Timeouts: async_wait_for, like asyncio.wait_for / asyncio.timeout. An
 * operation that finishes in time gives its result and disarms the
 * deadline; at the deadline the operation is cancelled, unwinds (a child's
 * cleanup runs to its end) and ASYNC_ETIMEDOUT comes back. A cancellation
 * from outside stays a cancellation. Nested deadlines each report their
 * own expiry. Bad arguments unwind the operation and return an error;
 * nothing is left behind, not even after thousands of expiries.
 */
#include "harness.h"

/* A child coroutine: sleeps `ticks` and returns `value`. A cancel ends it
 * unless it swallows it; its cleanup may itself sleep fin_ticks. */
struct child {
    async_frame_t co;
    const char *name;
    async_tick_t ticks, fin_ticks, grace;
    int value, swallow, rc;
};

static int child(async_loop_t *l, void *frame)
{
    struct child *c = frame;
    ASYNC_BEGIN(l, c);
    trace("%s:start@%u", c->name, NOW);
    AWAIT_TRY(c->rc, async_sleep(l, c->ticks));
    if (c->rc < 0 && !c->swallow)
        ASYNC_RETURN(c->rc);
    trace("%s:woke %s@%u", c->name, res(c->rc), NOW);
    if (c->grace) { /* a graceful close after catching the cancel */
        AWAIT_TRY(c->rc, async_sleep(l, c->grace));
        trace("%s:closed %s@%u", c->name, res(c->rc), NOW);
    }
    ASYNC_RETURN(c->value);
    ASYNC_FINALLY;
    trace("%s:fin(%s)@%u", c->name, res(ASYNC_RESULT), NOW);
    if (c->fin_ticks) {
        AWAIT(async_sleep(l, c->fin_ticks));
        trace("%s:fin-end@%u", c->name, NOW);
    }
    ASYNC_END;
}

/* What the timed task awaits under its deadline. */
enum op { OP_SLEEP, OP_CALL, OP_EVENT, OP_TASK, OP_GATHER, OP_YIELD };

/* After `delay`, awaits op bounded by `limit` (through a NULL timeout if
 * null_to), traces the result, and, if `after` is set, then sleeps that
 * long to show whether later awaits work normally. Returns the result. */
struct timed {
    async_frame_t co;
    async_timeout_t to;
    enum op op;
    async_tick_t delay, limit, ticks, after;
    async_fn *fn;    /* OP_CALL: the child coroutine and its frame */
    void *arg;
    async_event_t *ev;
    async_task_t *tasks[2]; /* OP_TASK: the first; OP_GATHER: both */
    async_gather_t g;       /* OP_GATHER: prepared by the test */
    async_gather_slot_t slot[2];
    int null_to, rc, rc2;
};

static int timed(async_loop_t *l, void *frame)
{
    struct timed *t = frame;
    ASYNC_BEGIN(l, t);
    if (t->delay)
        AWAIT(async_sleep(l, t->delay));
    if (t->op == OP_SLEEP)
        AWAIT_TRY(t->rc, async_wait_for(l, t->null_to ? NULL : &t->to,
                                        t->limit, async_sleep(l, t->ticks)));
    else if (t->op == OP_CALL)
        AWAIT_TRY(t->rc,
                  async_wait_for(l, t->null_to ? NULL : &t->to, t->limit,
                                 async_call(l, t->fn, t->arg)));
    else if (t->op == OP_EVENT)
        AWAIT_TRY(t->rc, async_wait_for(l, t->null_to ? NULL : &t->to,
                                        t->limit, async_event_wait(l, t->ev)));
    else if (t->op == OP_TASK)
        AWAIT_TRY(t->rc, async_wait_for(l, &t->to, t->limit,
                                        async_task_wait(l, t->tasks[0])));
    else if (t->op == OP_YIELD)
        AWAIT_TRY(t->rc, async_wait_for(l, &t->to, t->limit, async_yield(l)));
    else
        AWAIT_TRY(t->rc, async_wait_for(l, &t->to, t->limit,
                                        async_gather(l, &t->g, t->tasks)));
    trace("T:%s@%u", res(t->rc), NOW);
    if (t->after) {
        AWAIT_TRY(t->rc2, async_sleep(l, t->after));
        trace("T:slept %s@%u", res(t->rc2), NOW);
    }
    ASYNC_RETURN(t->rc);
    ASYNC_END;
}

struct canceller {
    async_frame_t co;
    async_task_t *target;
    async_tick_t at;
    int show_ready;
};

/* Cancels target after `at` ticks (at once, on its first turn, for 0);
 * with show_ready, first traces whether the target was already woken. */
static int canceller(async_loop_t *l, void *frame)
{
    struct canceller *c = frame;
    ASYNC_BEGIN(l, c);
    if (c->at)
        AWAIT(async_sleep(l, c->at));
    if (c->show_ready)
        trace("ready=%d", async_task_state(c->target) == ASYNC_TASK_READY);
    trace("cancel@%u=%d", NOW, async_task_cancel(l, c->target));
    ASYNC_END;
}

/* -------------------------------------------------------- in time, late */

/* A child that returns at once, without suspending. */
static int quick_child(async_loop_t *l, void *frame)
{
    async_frame_t *f = frame;
    ASYNC_BEGIN(l, f);
    ASYNC_RETURN(7);
    ASYNC_END;
}

/* A deadline around a child that never suspends, then a yield. */
struct quick {
    async_frame_t co, child;
    async_timeout_t to;
    int rc;
};

static int quick(async_loop_t *l, void *frame)
{
    struct quick *q = frame;
    ASYNC_BEGIN(l, q);
    AWAIT_TRY(q->rc, async_wait_for(l, &q->to, 10,
                                    async_call(l, quick_child, &q->child)));
    trace("Q:%s", res(q->rc));
    AWAIT_TRY(q->rc, async_yield(l));
    trace("Q:yield %s@%u", res(q->rc), NOW);
    ASYNC_END;
}



START_TEST(an_op_in_time_gives_its_result_and_disarms_the_deadline)
{
    static struct child c = {.name = "C", .ticks = 3, .value = 7};
    static struct timed t = {.op = OP_CALL, .limit = 10, .fn = child,
                             .arg = &c};
    static async_task_t tt;
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    ck_assert_str_eq(TRACE, "C:start@0 C:woke 0@3 C:fin(7)@3 T:7@3");
    ck_assert_int_eq(async_task_result(&tt), 7);
    /* The deadline at 10 is gone: the clock stopped at 3, nothing is left. */
    ck_assert_uint_eq(async_loop_now(&loop), 3);
    ck_assert_int_eq(async_loop_close(&loop), 0);
}
END_TEST

START_TEST(at_the_deadline_the_op_is_cancelled_and_etimedout_returned)
{
    static struct timed t = {.op = OP_SLEEP, .delay = 4, .limit = 5,
                             .ticks = 100};
    static async_task_t tt;
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    /* Armed at tick 4, so it expires at exactly 4 + 5; the sleep's own
     * timer went with it. */
    ck_assert_str_eq(TRACE, "T:ETIMEDOUT@9");
    ck_assert_uint_eq(async_loop_now(&loop), 9);
    ck_assert_int_eq(async_task_result(&tt), ASYNC_ETIMEDOUT);
}
END_TEST

START_TEST(a_childs_cleanup_finishes_before_the_timeout_is_reported)
{
    static struct child c = {.name = "C", .ticks = 100, .fin_ticks = 3,
                             .value = 7};
    static struct timed t = {.op = OP_CALL, .limit = 5, .fn = child,
                             .arg = &c};
    static async_task_t tt;
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    ck_assert_str_eq(TRACE, "C:start@0 C:fin(ECANCELED)@5 C:fin-end@8 "
                            "T:ETIMEDOUT@8");
}
END_TEST

START_TEST(a_child_that_swallows_the_timeout_gives_its_value)
{
    static struct child c = {.name = "C", .ticks = 100, .swallow = 1,
                             .value = 77};
    static struct timed t = {.op = OP_CALL, .limit = 5, .fn = child,
                             .arg = &c, .after = 2};
    static async_task_t tt;
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    /* The deadline's cancel was used up: the later sleep is not cut. */
    ck_assert_str_eq(TRACE, "C:start@0 C:woke ECANCELED@5 C:fin(77)@5 "
                            "T:77@5 T:slept 0@7");
    ck_assert_int_eq(async_task_result(&tt), 77);
}
END_TEST

START_TEST(a_deadline_passing_during_a_childs_cleanup_keeps_its_value)
{
    static struct child c = {.name = "C", .ticks = 3, .fin_ticks = 10,
                             .value = 7};
    static struct timed t = {.op = OP_CALL, .limit = 5, .fn = child,
                             .arg = &c, .after = 2};
    static async_task_t tt;
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    /* The cleanup is not interrupted at 5; the child's work is done and
     * its value is not thrown away; the deadline's request is withdrawn. */
    ck_assert_str_eq(TRACE, "C:start@0 C:woke 0@3 C:fin(7)@3 C:fin-end@13 "
                            "T:7@13 T:slept 0@15");
}
END_TEST

/* Calls a child whose cleanup section holds back the deadline, then
 * catches the expiry at its next await, and awaits once more. */
struct catcher {
    async_frame_t co;
    struct child *inner;
    int rc;
};

static int catcher(async_loop_t *l, void *frame)
{
    struct catcher *c = frame;
    ASYNC_BEGIN(l, c);
    AWAIT(async_call(l, child, c->inner));
    AWAIT_TRY(c->rc, async_sleep(l, 3));
    trace("K:%s@%u", res(c->rc), NOW);
    AWAIT_TRY(c->rc, async_sleep(l, 2));
    trace("K:%s@%u", res(c->rc), NOW);
    ASYNC_RETURN(9);
    ASYNC_END;
}

START_TEST(an_expiry_held_back_by_a_cleanup_section_is_delivered_once)
{
    static struct child c = {.name = "C", .ticks = 1, .fin_ticks = 10,
                             .value = 7};
    static struct catcher k = {.inner = &c};
    static struct timed t = {.op = OP_CALL, .limit = 5, .fn = catcher,
                             .arg = &k};
    static async_task_t tt;
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    /* The expiry at 5 waits for C's cleanup, lands at K's next await and
     * is spent there: K's await after it sleeps, and K's value is kept. */
    ck_assert_str_eq(TRACE, "C:start@0 C:woke 0@1 C:fin(7)@1 C:fin-end@11 "
                            "K:ECANCELED@11 K:0@13 T:9@13");
}
END_TEST

START_TEST(on_expiry_an_awaited_task_is_cancelled)
{
    static struct child i = {.name = "I", .ticks = 100, .value = 7};
    static struct timed t = {.op = OP_TASK, .limit = 5};
    static async_task_t ti, tt;
    t.tasks[0] = &ti;
    async_task_create(&loop, &ti, child, &i);
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    /* As asyncio.wait_for(task): the task itself is cancelled. */
    ck_assert_str_eq(TRACE, "I:start@0 I:fin(ECANCELED)@5 T:ETIMEDOUT@5");
    ck_assert_int_eq(async_task_result(&ti), ASYNC_ECANCELED);
}
END_TEST

START_TEST(on_expiry_a_gather_cancels_its_tasks_and_waits_for_them)
{
    static struct child a = {.name = "A", .ticks = 100, .fin_ticks = 3},
                        b = {.name = "B", .ticks = 2, .value = 1};
    static struct timed t = {.op = OP_GATHER, .limit = 5};
    static async_task_t ta, tb, tt;
    t.tasks[0] = &ta;
    t.tasks[1] = &tb;
    ck_assert_int_eq(async_gather_init(&t.g, t.slot, 2, 0), 0);
    async_task_create(&loop, &ta, child, &a);
    async_task_create(&loop, &tb, child, &b);
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:start@0 B:start@0 B:woke 0@2 B:fin(1)@2 "
                            "A:fin(ECANCELED)@5 A:fin-end@8 T:ETIMEDOUT@8");
}
END_TEST

START_TEST(forever_never_times_out)
{
    static async_event_t ev;
    static struct timed t = {.op = OP_EVENT, .limit = ASYNC_FOREVER,
                             .ev = &ev};
    static async_task_t tt;
    async_tick_t later;
    char expect[64];
    async_event_init(&ev, &loop);
    async_task_create(&loop, &tt, timed, &t);
    async_loop_run_once(&loop);
    /* Nothing was armed: no deadline at all. */
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
    /* Two longest delays later the event is set; still no timeout. */
    later = (async_tick_t)(2u * ASYNC_MAX_DELAY);
    ck_assert_int_eq(async_loop_set_time(&loop, later), 0);
    async_event_set(&ev);
    run_until_idle();
    snprintf(expect, sizeof expect, "T:0@%u", (unsigned)later);
    ck_assert_str_eq(TRACE, expect);
}
END_TEST

/* ------------------------------------------------- outside cancellation */

/* Catches `n` cancellations of its own, then times out. */
struct hardy {
    async_frame_t co;
    async_timeout_t to;
    int n, i, rc, caught;
};

static int hardy(async_loop_t *l, void *frame)
{
    struct hardy *h = frame;
    ASYNC_BEGIN(l, h);
    for (h->i = 0; h->i < h->n; h->i++) {
        async_task_cancel(l, async_current(l));
        AWAIT_TRY(h->rc, async_sleep(l, 1));
        h->caught += h->rc == ASYNC_ECANCELED;
    }
    trace("caught=%d", h->caught);
    AWAIT_TRY(h->rc, async_wait_for(l, &h->to, 5, async_sleep(l, 100)));
    trace("T:%s@%u", res(h->rc), NOW);
    ASYNC_END;
}

START_TEST(a_task_that_caught_many_cancels_still_times_out)
{
    static struct hardy h = {.n = 300};
    static async_task_t th;
    async_task_create(&loop, &th, hardy, &h);
    run_until_idle();
    /* However many cancellations came before, an expiry is an expiry. */
    ck_assert_str_eq(TRACE, "caught=300 T:ETIMEDOUT@5");
}
END_TEST

START_TEST(an_outside_cancel_is_reported_as_cancelled_and_ends_the_task)
{
    static struct child c = {.name = "C", .ticks = 100};
    static struct timed t = {.op = OP_CALL, .limit = 50, .fn = child,
                             .arg = &c};
    static struct canceller k = {.at = 10};
    static async_task_t tt, tk;
    k.target = &tt;
    async_task_create(&loop, &tt, timed, &t);
    async_task_create(&loop, &tk, canceller, &k);
    run_until_idle();
    ck_assert_str_eq(TRACE, "C:start@0 cancel@10=1 C:fin(ECANCELED)@10 "
                            "T:ECANCELED@10");
    ck_assert_int_eq(async_task_result(&tt), ASYNC_ECANCELED);
    ck_assert_uint_eq(async_loop_now(&loop), 10); /* deadline disarmed */
}
END_TEST

START_TEST(expiry_then_an_outside_cancel_in_the_same_turn_is_cancelled)
{
    static struct timed t = {.op = OP_SLEEP, .limit = 10, .ticks = 100,
                             .after = 2};
    static struct canceller k = {.at = 10, .show_ready = 1};
    static async_task_t tt, tk;
    k.target = &tt;
    /* The canceller's timer is older, so at tick 10 it runs before T; but
     * the deadline has already fired (timers fire before tasks run). T
     * sees one cancellation, not a timeout, and its later sleep is not
     * cut. */
    async_task_create(&loop, &tk, canceller, &k);
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    ck_assert_str_eq(TRACE, "ready=1 cancel@10=1 T:ECANCELED@10 T:slept 0@12");
}
END_TEST

START_TEST(an_outside_cancel_then_expiry_in_the_same_turn_is_cancelled)
{
    static struct timed t = {.op = OP_SLEEP, .limit = 0, .ticks = 100,
                             .after = 2};
    static struct canceller k; /* cancels on its first turn, after T's */
    static async_task_t tt, tk;
    k.target = &tt;
    async_task_create(&loop, &tt, timed, &t);
    async_task_create(&loop, &tk, canceller, &k);
    run_until_idle();
    /* The canceller wakes T; the zero deadline fires on the next turn,
     * before T has run. */
    ck_assert_str_eq(TRACE, "cancel@0=1 T:ECANCELED@0 T:slept 0@2");
}
END_TEST

START_TEST(an_outside_cancel_during_the_expiry_cleanup_is_delivered_once)
{
    static struct child c = {.name = "C", .ticks = 100, .fin_ticks = 3};
    static struct timed t = {.op = OP_CALL, .limit = 5, .fn = child,
                             .arg = &c, .after = 2};
    static struct canceller k = {.at = 6};
    static async_task_t tt, tk;
    k.target = &tt;
    async_task_create(&loop, &tt, timed, &t);
    async_task_create(&loop, &tk, canceller, &k);
    run_until_idle();
    /* The deadline cancels C at 5; the outside cancel at 6 waits for C's
     * cleanup and turns the timeout into a cancellation, which T catches;
     * one request, one delivery: the later sleep runs. */
    ck_assert_str_eq(TRACE, "C:start@0 C:fin(ECANCELED)@5 cancel@6=1 "
                            "C:fin-end@8 T:ECANCELED@8 T:slept 0@10");
}
END_TEST

/* A supervisor that repeats its request does not turn it into a timeout:
 * however many requests pile up while the expiry's cleanup runs, they are
 * one cancellation from outside (a count of them wrapped at 256). */
struct pile {
    async_frame_t co;
    async_task_t *target;
    int n, i, ok;
};

static int pile(async_loop_t *l, void *frame)
{
    struct pile *p = frame;
    ASYNC_BEGIN(l, p);
    AWAIT(async_sleep(l, 6));
    for (p->i = 0; p->i < p->n; p->i++)
        p->ok += async_task_cancel(l, p->target) == 1;
    ASYNC_END;
}

START_TEST(repeated_outside_cancels_during_the_expiry_cleanup_are_one_cancel)
{
    static const int piles[] = {1, 2, 255, 256, 257, 1000};
    unsigned i;
    for (i = 0; i < sizeof piles / sizeof piles[0]; i++) {
        static struct child c;
        static struct timed t;
        static struct pile k;
        static async_task_t tt, tk;
        loop_teardown();
        loop_setup();
        memset(&c, 0, sizeof c);
        memset(&t, 0, sizeof t);
        memset(&k, 0, sizeof k);
        c.name = "C";
        c.ticks = 100;
        c.fin_ticks = 3;
        t.op = OP_CALL;
        t.limit = 5;
        t.fn = child;
        t.arg = &c;
        t.after = 2;
        k.target = &tt;
        k.n = piles[i];
        async_task_create(&loop, &tt, timed, &t);
        async_task_create(&loop, &tk, pile, &k);
        run_until_idle();
        ck_assert_int_eq(k.ok, piles[i]);
        ck_assert_msg(strcmp(TRACE, "C:start@0 C:fin(ECANCELED)@5 "
                                    "C:fin-end@8 T:ECANCELED@8 "
                                    "T:slept 0@10") == 0,
                      "%d cancels: %s", piles[i], TRACE);
    }
}
END_TEST

/* ----------------------------------------------------------- nesting */

/* Sleeps 100 under its own deadline; catches a timeout (returns 42) but
 * lets a cancellation through. */
struct mid {
    async_frame_t co;
    async_timeout_t to;
    async_tick_t limit;
    int rc;
};

static int mid(async_loop_t *l, void *frame)
{
    struct mid *m = frame;
    ASYNC_BEGIN(l, m);
    AWAIT_TRY(m->rc, async_wait_for(l, &m->to, m->limit, async_sleep(l, 100)));
    trace("M:%s@%u", res(m->rc), NOW);
    if (m->rc == ASYNC_ECANCELED)
        ASYNC_RETURN(m->rc);
    ASYNC_RETURN(42);
    ASYNC_END;
}

static void run_nested(async_tick_t outer, async_tick_t inner)
{
    static struct mid m;
    static struct timed t = {.op = OP_CALL, .fn = mid, .arg = &m};
    static async_task_t tt;
    t.limit = outer;
    m.limit = inner;
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
}

START_TEST(nested_the_inner_deadline_expires_and_the_outer_sees_its_result)
{
    run_nested(10, 5);
    ck_assert_str_eq(TRACE, "M:ETIMEDOUT@5 T:42@5");
    ck_assert_uint_eq(async_loop_now(&loop), 5); /* outer disarmed */
}
END_TEST

START_TEST(nested_the_outer_deadline_expires_and_the_inner_sees_a_cancel)
{
    run_nested(5, 10);
    ck_assert_str_eq(TRACE, "M:ECANCELED@5 T:ETIMEDOUT@5");
    ck_assert_uint_eq(async_loop_now(&loop), 5); /* inner disarmed */
}
END_TEST

START_TEST(nested_equal_deadlines_the_outer_one_reports)
{
    /* Both fire in the same turn, the outer first (armed first): as in
     * asyncio, the inner sees a cancellation that is not its own. */
    run_nested(5, 5);
    ck_assert_str_eq(TRACE, "M:ECANCELED@5 T:ETIMEDOUT@5");
}
END_TEST

/* ------------------------------------------------------- bad arguments */

START_TEST(a_yield_under_a_deadline_cancelled_while_ready_is_cancelled)
{
    static struct timed t = {.op = OP_YIELD, .limit = 10, .after = 3};
    static struct canceller c = {.show_ready = 1};
    static async_task_t tt, tc;
    c.target = &tt;
    async_task_create(&loop, &tt, timed, &t);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    ck_assert_str_eq(TRACE, "ready=1 cancel@0=1 T:ECANCELED@0 T:slept 0@3");
}
END_TEST

START_TEST(a_deadline_whose_op_never_suspended_leaves_no_trace)
{
    static struct quick q;
    static struct canceller c = {.show_ready = 1};
    static async_task_t tq, tc;
    c.target = &tq;
    async_task_create(&loop, &tq, quick, &q);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    /* The later yield behaves as if there had been no deadline: a cancel
     * while it is ready is delivered there. */
    ck_assert_str_eq(TRACE, "Q:7 ready=1 cancel@0=1 Q:yield ECANCELED@0");
}
END_TEST

/* A deadline (or, with `refused`, a NULL timeout) around a child that
 * never suspends, then a sleep whose delay is counted each time the AWAIT
 * evaluates it. */
struct once {
    async_frame_t co, child;
    async_timeout_t to;
    int refused, rc, evals;
};

static async_tick_t counted(struct once *o, async_tick_t ticks)
{
    o->evals++;
    return ticks;
}

static int once(async_loop_t *l, void *frame)
{
    struct once *o = frame;
    ASYNC_BEGIN(l, o);
    AWAIT_TRY(o->rc, async_wait_for(l, o->refused ? NULL : &o->to, 10,
                                    async_call(l, quick_child, &o->child)));
    trace("O:%s", res(o->rc));
    AWAIT_TRY(o->rc, async_sleep(l, counted(o, 5)));
    trace("O:slept %s@%u evals=%d", res(o->rc), NOW, o->evals);
    ASYNC_END;
}

START_TEST(a_deadline_whose_op_never_suspended_leaves_the_next_await_alone)
{
    static struct once o;
    static async_task_t to;
    o.refused = _i;
    async_task_create(&loop, &to, once, &o);
    run_until_idle();
    /* A sleep is evaluated once, when it starts; its wake value is handed
     * over, not found by evaluating it again. */
    ck_assert_str_eq(TRACE, "O:7 O:slept 0@5 evals=1");
}
END_TEST

START_TEST(wait_for_outside_a_task_is_enotask_and_arms_nothing)
{
    static async_timeout_t to;
    static const async_timeout_t zero;
    ck_assert_int_eq(async_wait_for(&loop, &to, 5, 0), ASYNC_ENOTASK);
    ck_assert_int_eq(async_wait_for(&loop, &to, 5, ASYNC_WAIT), ASYNC_ENOTASK);
    ck_assert_int_eq(async_wait_for(NULL, &to, 5, 0), ASYNC_ENOTASK);
    ck_assert_mem_eq(&to, &zero, sizeof to);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
}
END_TEST

START_TEST(the_longest_delay_is_accepted)
{
    static struct timed t = {.op = OP_SLEEP, .limit = ASYNC_MAX_DELAY,
                             .ticks = 5};
    static async_task_t tt;
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    ck_assert_str_eq(TRACE, "T:0@5");
}
END_TEST

START_TEST(a_delay_too_long_unwinds_the_op_and_returns_erange)
{
    static struct timed t = {.op = OP_SLEEP, .limit = ASYNC_MAX_DELAY + 1u,
                             .ticks = 5, .after = 3};
    static async_task_t tt;
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    /* The sleep that had already started is undone (the clock never sees
     * tick 5), and the task is not left cancelled. */
    ck_assert_str_eq(TRACE, "T:ERANGE@0 T:slept 0@3");
    ck_assert_int_eq(async_task_result(&tt), ASYNC_ERANGE);
    ck_assert_uint_eq(async_loop_now(&loop), 3); /* no timer left at 5 */
}
END_TEST

START_TEST(a_delay_too_long_unwinds_a_child_through_its_cleanup)
{
    static struct child c = {.name = "C", .ticks = 5, .value = 7};
    static struct timed t = {.op = OP_CALL, .limit = ASYNC_MAX_DELAY + 1u,
                             .fn = child, .arg = &c, .after = 3};
    static async_task_t tt;
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    ck_assert_str_eq(TRACE,
                     "C:start@0 C:fin(ECANCELED)@0 T:ERANGE@0 T:slept 0@3");
    ck_assert_uint_eq(async_loop_now(&loop), 3); /* no timer left at 5 */
}
END_TEST

START_TEST(a_null_timeout_unwinds_the_op_and_returns_einval)
{
    static struct child c = {.name = "C", .ticks = 5, .value = 7};
    static struct timed t = {.op = OP_CALL, .null_to = 1, .limit = 10,
                             .fn = child, .arg = &c, .after = 3};
    static async_task_t tt;
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    ck_assert_str_eq(TRACE,
                     "C:start@0 C:fin(ECANCELED)@0 T:EINVAL@0 T:slept 0@3");
    ck_assert_uint_eq(async_loop_now(&loop), 3); /* no timer left at 5 */
}
END_TEST

START_TEST(a_full_timer_heap_unwinds_the_op_and_returns_enospc)
{
    static struct timed t = {.op = OP_SLEEP, .limit = 10, .ticks = 5,
                             .after = 3};
    static async_task_t tt;
    /* One timer slot: the sleep takes it, the deadline finds none. */
    ck_assert_int_eq(async_loop_init(&loop, timers, 1), 0);
    async_task_create(&loop, &tt, timed, &t);
    run_until_idle();
    ck_assert_str_eq(TRACE, "T:ENOSPC@0 T:slept 0@3");
}
END_TEST

START_TEST(an_outside_cancel_while_a_refused_op_unwinds_is_delivered)
{
    static struct timed t = {.op = OP_SLEEP, .limit = ASYNC_MAX_DELAY + 1u,
                             .ticks = 5, .after = 3};
    static struct canceller c;
    static async_task_t tt, tc;
    c.target = &tt;
    async_task_create(&loop, &tt, timed, &t);
    async_task_create(&loop, &tc, canceller, &c); /* runs right after */
    run_until_idle();
    /* The refusal and the outside request both end the sleep; the task
     * hears of the cancellation, once, and later awaits work. */
    ck_assert_str_eq(TRACE, "cancel@0=1 T:ECANCELED@0 T:slept 0@3");
    ck_assert_int_eq(async_task_result(&tt), ASYNC_ECANCELED);
}
END_TEST

/* ------------------------------------------------ inside a cleanup section */

/* Cancelled while it sleeps, its cleanup section bounds one step with a
 * deadline (asyncio: `finally: await wait_for(close(), limit)`), then
 * sleeps `after` to show that the section goes on undisturbed. */
struct closer {
    async_frame_t co;
    async_timeout_t to;
    enum op op;             /* OP_EVENT, OP_CALL */
    async_tick_t limit, after;
    async_event_t *ev;
    struct child *c;
    int null_to, rc;
};

static int closer(async_loop_t *l, void *frame)
{
    struct closer *k = frame;
    ASYNC_BEGIN(l, k);
    AWAIT(async_sleep(l, 100));
    ASYNC_FINALLY;
    trace("K:fin(%s)@%u", res(ASYNC_RESULT), NOW);
    if (k->op == OP_EVENT)
        AWAIT_TRY(k->rc, async_wait_for(l, k->null_to ? NULL : &k->to,
                                        k->limit, async_event_wait(l, k->ev)));
    else
        AWAIT_TRY(k->rc, async_wait_for(l, &k->to, k->limit,
                                        async_call(l, child, k->c)));
    trace("K:%s@%u", res(k->rc), NOW);
    if (k->after) {
        AWAIT_TRY(k->rc, async_sleep(l, k->after));
        trace("K:slept %s@%u", res(k->rc), NOW);
    }
    ASYNC_END;
}

START_TEST(a_deadline_inside_a_cleanup_section_expires)
{
    static async_event_t ev; /* never set */
    static struct closer k = {.op = OP_EVENT, .limit = 10, .ev = &ev};
    static struct canceller c = {.at = 2};
    static async_task_t tk, tc;
    c.target = &tk;
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    async_task_create(&loop, &tk, closer, &k);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    ck_assert_str_eq(TRACE, "cancel@2=1 K:fin(ECANCELED)@2 K:ETIMEDOUT@12");
    ck_assert_int_eq(async_task_result(&tk), ASYNC_ECANCELED);
}
END_TEST

START_TEST(a_deadline_inside_a_cleanup_section_cancels_a_child_not_the_section)
{
    static struct child ch = {.name = "C", .ticks = 50, .fin_ticks = 3};
    static struct closer k = {.op = OP_CALL, .limit = 10, .after = 4,
                              .c = &ch};
    static struct canceller c = {.at = 2};
    static async_task_t tk, tc;
    c.target = &tk;
    async_task_create(&loop, &tk, closer, &k);
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    /* The child's own cleanup runs to its end; the section then goes on. */
    ck_assert_str_eq(TRACE, "cancel@2=1 K:fin(ECANCELED)@2 C:start@2 "
                            "C:fin(ECANCELED)@12 C:fin-end@15 "
                            "K:ETIMEDOUT@15 K:slept 0@19");
    ck_assert_int_eq(async_task_result(&tk), ASYNC_ECANCELED);
}
END_TEST

START_TEST(a_refusal_inside_a_cleanup_section_unwinds_the_op)
{
    static async_event_t ev; /* never set */
    static struct closer k = {.op = OP_EVENT, .null_to = 1, .ev = &ev};
    static struct closer r = {.op = OP_EVENT, .limit = ASYNC_MAX_DELAY + 1u,
                              .ev = &ev};
    static struct canceller ck = {.at = 2}, cr = {.at = 3};
    static async_task_t tk, tr, tck, tcr;
    ck.target = &tk;
    cr.target = &tr;
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    async_task_create(&loop, &tk, closer, &k);
    async_task_create(&loop, &tr, closer, &r);
    async_task_create(&loop, &tck, canceller, &ck);
    async_task_create(&loop, &tcr, canceller, &cr);
    run_until_idle();
    ck_assert_str_eq(TRACE, "cancel@2=1 K:fin(ECANCELED)@2 K:EINVAL@2 "
                            "cancel@3=1 K:fin(ECANCELED)@3 K:ERANGE@3");
    ck_assert_ptr_null(ev.waiters);
}
END_TEST

/* A second cancellation while the section runs is remembered, whether it
 * came before the deadline was armed or after: the expiry reports itself
 * and the section's later awaits are not interrupted. */
START_TEST(an_outside_cancel_during_the_section_stays_pending_past_its_deadline)
{
    static async_event_t ev; /* set at 25, after the deadline */
    static struct closer k = {.op = OP_EVENT, .limit = 10, .after = 4,
                              .ev = &ev};
    static struct canceller c1 = {.at = 2}, c2 = {.at = 5};
    static async_task_t tk, t1, t2;
    c1.target = c2.target = &tk;
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    async_task_create(&loop, &tk, closer, &k);
    async_task_create(&loop, &t1, canceller, &c1);
    async_task_create(&loop, &t2, canceller, &c2);
    run_until_idle();
    ck_assert_str_eq(TRACE, "cancel@2=1 K:fin(ECANCELED)@2 cancel@5=1 "
                            "K:ETIMEDOUT@12 K:slept 0@16");
    ck_assert_int_eq(async_task_result(&tk), ASYNC_ECANCELED);
}
END_TEST

/* The expiry cancels the child once; it catches that and closes
 * gracefully. An outside cancel, before the expiry or while the child
 * closes, is held for after the section and never reaches the child. */
START_TEST(an_outside_cancel_never_reaches_the_op_a_deadline_in_a_section_bounds)
{
    static struct child ch = {.name = "C", .ticks = 100, .swallow = 1,
                              .grace = 5, .value = 7};
    static struct closer k = {.op = OP_CALL, .limit = 10, .after = 4,
                              .c = &ch};
    static struct canceller c1 = {.at = 2}, c2;
    static async_task_t tk, t1, t2;
    c2.at = _i ? 14 : 5;
    c1.target = c2.target = &tk;
    async_task_create(&loop, &tk, closer, &k);
    async_task_create(&loop, &t1, canceller, &c1);
    async_task_create(&loop, &t2, canceller, &c2);
    run_until_idle();
    ck_assert_str_eq(TRACE, _i ? "cancel@2=1 K:fin(ECANCELED)@2 C:start@2 "
                                 "C:woke ECANCELED@12 cancel@14=1 "
                                 "C:closed 0@17 C:fin(7)@17 K:7@17 K:slept 0@21"
                               : "cancel@2=1 K:fin(ECANCELED)@2 C:start@2 "
                                 "cancel@5=1 C:woke ECANCELED@12 "
                                 "C:closed 0@17 C:fin(7)@17 K:7@17 K:slept 0@21");
    ck_assert_int_eq(async_task_result(&tk), ASYNC_ECANCELED);
}
END_TEST

/* A refusal waits for its op to unwind; a deadline that the op's own
 * cleanup section sets is the op's, and neither takes the other's. */
struct bounded_close {
    async_frame_t co;
    async_timeout_t to;
    async_event_t *ev;
    int rc;
};

static int bounded_close(async_loop_t *l, void *frame)
{
    struct bounded_close *b = frame;
    ASYNC_BEGIN(l, b);
    AWAIT(async_sleep(l, 100));
    ASYNC_FINALLY;
    AWAIT_TRY(b->rc, async_wait_for(l, &b->to, 5, async_event_wait(l, b->ev)));
    trace("C:close %s@%u", res(b->rc), NOW);
    ASYNC_END;
}

struct refuser {
    async_frame_t co;
    async_timeout_t to;
    struct bounded_close c;
    int nested, rc;
};

static int refuser(async_loop_t *l, void *frame)
{
    struct refuser *r = frame;
    ASYNC_BEGIN(l, r);
    if (r->nested) /* the inner deadline is armed, the outer refused */
        AWAIT_TRY(r->rc, async_wait_for(l, NULL, 0,
                             async_wait_for(l, &r->to, 10,
                                            async_event_wait(l, r->c.ev))));
    else
        AWAIT_TRY(r->rc, async_wait_for(l, NULL, 10,
                                        async_call(l, bounded_close, &r->c)));
    trace("P:%s@%u", res(r->rc), NOW);
    AWAIT_TRY(r->rc, async_sleep(l, 50));
    trace("P:slept %s@%u", res(r->rc), NOW);
    ASYNC_END;
}

START_TEST(a_refusal_and_a_deadline_inside_its_op_each_report_their_own)
{
    static async_event_t ev; /* never set */
    static struct refuser r;
    static async_task_t tr;
    r.c.ev = &ev;
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    async_task_create(&loop, &tr, refuser, &r);
    run_until_idle();
    ck_assert_str_eq(TRACE, "C:close ETIMEDOUT@5 P:EINVAL@5 P:slept 0@55");
}
END_TEST

START_TEST(a_refusal_around_an_armed_deadline_disarms_it)
{
    static async_event_t ev; /* never set */
    static struct refuser r = {.nested = 1};
    static async_task_t tr;
    r.c.ev = &ev;
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    async_task_create(&loop, &tr, refuser, &r);
    run_until_idle();
    /* The inner timer left with the op: the sleep runs its full 50. */
    ck_assert_str_eq(TRACE, "P:EINVAL@0 P:slept 0@50");
}
END_TEST

/* A task that cancelled itself and then awaits, under a deadline, a child
 * that fails at once but whose cleanup outlives the deadline: the child's
 * error comes back, and the cancellation is still delivered after. */
struct failing {
    async_frame_t co;
    int rc;
};

static int failing(async_loop_t *l, void *frame)
{
    struct failing *f = frame;
    ASYNC_BEGIN(l, f);
    ASYNC_RETURN(ASYNC_ESTATE);
    ASYNC_FINALLY;
    AWAIT_TRY(f->rc, async_sleep(l, 20));
    ASYNC_END;
}

struct self_cancel {
    async_frame_t co;
    async_timeout_t to;
    struct failing f;
    int rc;
};

static int self_cancel(async_loop_t *l, void *frame)
{
    struct self_cancel *s = frame;
    ASYNC_BEGIN(l, s);
    trace("cancel=%d", async_task_cancel(l, async_current(l)));
    AWAIT_TRY(s->rc, async_wait_for(l, &s->to, 10,
                                    async_call(l, failing, &s->f)));
    trace("S:%s@%u", res(s->rc), NOW);
    AWAIT_TRY(s->rc, async_sleep(l, 5));
    trace("S:slept %s@%u", res(s->rc), NOW);
    ASYNC_END;
}

START_TEST(a_cancel_pending_before_the_deadline_was_armed_is_kept)
{
    static struct self_cancel s;
    static async_task_t ts;
    async_task_create(&loop, &ts, self_cancel, &s);
    run_until_idle();
    ck_assert_str_eq(TRACE, "cancel=1 S:ESTATE@20 S:slept ECANCELED@20");
}
END_TEST

/* Bounds a sleep of `ticks` by `limit` through a timeout it may share. */
struct sharer {
    async_frame_t co;
    const char *name;
    async_timeout_t *to;
    async_tick_t limit, ticks;
    int rc;
};

static int sharer(async_loop_t *l, void *frame)
{
    struct sharer *h = frame;
    ASYNC_BEGIN(l, h);
    AWAIT_TRY(h->rc, async_wait_for(l, h->to, h->limit,
                                    async_sleep(l, h->ticks)));
    trace("%s:%s@%u", h->name, res(h->rc), NOW);
    ASYNC_END;
}

START_TEST(a_timeout_armed_by_another_task_is_refused_and_left_alone)
{
    static async_timeout_t shared;
    static struct sharer a = {.name = "A", .to = &shared, .limit = 10,
                              .ticks = 100};
    static struct sharer b = {.name = "B", .to = &shared, .limit = 5,
                              .ticks = 3};
    static async_task_t ta, tb;
    async_task_create(&loop, &ta, sharer, &a);
    async_task_create(&loop, &tb, sharer, &b);
    run_until_idle();
    /* B's sleep is unwound at once; A's deadline still fires at 10. */
    ck_assert_str_eq(TRACE, "B:EBUSY@0 A:ETIMEDOUT@10");
}
END_TEST

/* --------------------------------------------------- nothing is lost */

struct consumer {
    async_frame_t co;
    async_timeout_t to;
    async_queue_t *q;
    async_tick_t limit;
    int null_to, item, rc;
};

static int consumer(async_loop_t *l, void *frame)
{
    struct consumer *c = frame;
    ASYNC_BEGIN(l, c);
    AWAIT_TRY(c->rc, async_wait_for(l, c->null_to ? NULL : &c->to, c->limit,
                                    async_queue_get(l, c->q, &c->item)));
    trace("T:%s@%u item=%d size=%d", res(c->rc), NOW, c->item,
          async_queue_size(c->q));
    c->rc = async_queue_get_nowait(c->q, &c->item);
    trace("get_nowait=%s item=%d", res(c->rc), c->item);
    ASYNC_END;
}

struct producer {
    async_frame_t co;
    async_queue_t *q;
    async_tick_t at;
    int item;
};

static int producer(async_loop_t *l, void *frame)
{
    struct producer *p = frame;
    ASYNC_BEGIN(l, p);
    if (p->at)
        AWAIT(async_sleep(l, p->at));
    trace("put=%s@%u", res(async_queue_put_nowait(p->q, &p->item)), NOW);
    ASYNC_END;
}

START_TEST(an_item_arriving_after_the_expiry_stays_in_the_queue)
{
    static int buf[4];
    static async_queue_t q;
    static struct consumer c = {.q = &q, .limit = 5};
    static struct producer p = {.q = &q, .at = 5, .item = 42};
    static async_task_t tc, tp;
    async_queue_init(&q, &loop, buf, sizeof buf[0], 4, ASYNC_QUEUE_FIFO, NULL);
    /* The producer's timer is older, so at tick 5 it runs first; but the
     * deadline has already fired and taken the consumer off the queue. */
    async_task_create(&loop, &tp, producer, &p);
    async_task_create(&loop, &tc, consumer, &c);
    run_until_idle();
    ck_assert_str_eq(TRACE, "put=0@5 T:ETIMEDOUT@5 item=0 size=1 "
                            "get_nowait=0 item=42");
}
END_TEST

START_TEST(an_item_handed_over_just_before_the_expiry_stays_in_the_queue)
{
    static int buf[4];
    static async_queue_t q;
    static struct consumer c = {.q = &q, .limit = 0};
    static struct producer p = {.q = &q, .item = 42};
    static async_task_t tc, tp;
    async_queue_init(&q, &loop, buf, sizeof buf[0], 4, ASYNC_QUEUE_FIFO, NULL);
    /* The consumer waits; the producer puts in the same turn, waking it;
     * the zero deadline fires before the consumer runs. As in asyncio the
     * get is cancelled, the timeout reported, and the item kept. */
    async_task_create(&loop, &tc, consumer, &c);
    async_task_create(&loop, &tp, producer, &p);
    run_until_idle();
    ck_assert_str_eq(TRACE, "put=0@0 T:ETIMEDOUT@0 item=0 size=1 "
                            "get_nowait=0 item=42");
}
END_TEST

/* wait_for refuses only an op that suspended: one that finished at once
 * keeps its result, or the item it took would be lost. */
START_TEST(a_refused_deadline_around_an_op_done_at_once_keeps_its_result)
{
    static int buf[4];
    static async_queue_t q;
    static struct consumer c1 = {.null_to = 1, .limit = 5};
    static struct consumer c2 = {.limit = ASYNC_MAX_DELAY + 1u};
    static async_task_t t1, t2;
    int item;
    c1.q = c2.q = &q;
    async_queue_init(&q, &loop, buf, sizeof buf[0], 4, ASYNC_QUEUE_FIFO, NULL);
    for (item = 41; item <= 43; item++)
        async_queue_put_nowait(&q, &item);
    async_task_create(&loop, &t1, consumer, &c1);
    async_task_create(&loop, &t2, consumer, &c2);
    run_until_idle();
    ck_assert_str_eq(TRACE, "T:0@0 item=41 size=2 get_nowait=0 item=42 "
                            "T:0@0 item=43 size=0 get_nowait=EEMPTY item=43");
}
END_TEST

struct many {
    async_frame_t co;
    async_timeout_t to;
    async_event_t ev;
    int i, rc, timeouts;
};

static int many(async_loop_t *l, void *frame)
{
    struct many *m = frame;
    ASYNC_BEGIN(l, m);
    for (m->i = 0; m->i < 10000; m->i++) {
        AWAIT_TRY(m->rc,
                  async_wait_for(l, &m->to, 1, async_event_wait(l, &m->ev)));
        m->timeouts += m->rc == ASYNC_ETIMEDOUT;
    }
    trace("timeouts=%d@%u", m->timeouts, NOW);
    ASYNC_END;
}

START_TEST(ten_thousand_expired_waits_leave_nothing_behind)
{
    static struct many m;
    static async_task_t tm;
    async_event_init(&m.ev, &loop);
    async_task_create(&loop, &tm, many, &m);
    run_until_idle();
    ck_assert_str_eq(TRACE, "timeouts=10000@10000");
    ck_assert_int_eq(async_loop_close(&loop), 0);
    /* No waiter is left on the event: setting it wakes nobody. */
    ck_assert_int_eq(async_event_set(&m.ev), 0);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
    ck_assert_int_eq(async_loop_run_once(&loop), 0);
}
END_TEST

static Suite *timeout_suite(void)
{
    Suite *s = suite_create("timeout");
    TCase *tc = loop_tcase("in time and late");
    tcase_add_test(tc, an_op_in_time_gives_its_result_and_disarms_the_deadline);
    tcase_add_test(tc, at_the_deadline_the_op_is_cancelled_and_etimedout_returned);
    tcase_add_test(tc, a_childs_cleanup_finishes_before_the_timeout_is_reported);
    tcase_add_test(tc, a_child_that_swallows_the_timeout_gives_its_value);
    tcase_add_test(tc, a_deadline_passing_during_a_childs_cleanup_keeps_its_value);
    tcase_add_test(tc, an_expiry_held_back_by_a_cleanup_section_is_delivered_once);
    tcase_add_test(tc, on_expiry_an_awaited_task_is_cancelled);
    tcase_add_test(tc, on_expiry_a_gather_cancels_its_tasks_and_waits_for_them);
    tcase_add_test(tc, forever_never_times_out);
    suite_add_tcase(s, tc);

    tc = loop_tcase("outside cancellation");
    tcase_add_test(tc, an_outside_cancel_is_reported_as_cancelled_and_ends_the_task);
    tcase_add_test(tc, expiry_then_an_outside_cancel_in_the_same_turn_is_cancelled);
    tcase_add_test(tc, an_outside_cancel_then_expiry_in_the_same_turn_is_cancelled);
    tcase_add_test(tc, an_outside_cancel_during_the_expiry_cleanup_is_delivered_once);
    tcase_add_test(tc, repeated_outside_cancels_during_the_expiry_cleanup_are_one_cancel);
    tcase_add_test(tc, a_task_that_caught_many_cancels_still_times_out);
    tcase_add_test(tc, a_yield_under_a_deadline_cancelled_while_ready_is_cancelled);
    tcase_add_test(tc, a_deadline_whose_op_never_suspended_leaves_no_trace);
    tcase_add_loop_test(tc, a_deadline_whose_op_never_suspended_leaves_the_next_await_alone,
                        0, 2);
    suite_add_tcase(s, tc);

    tc = loop_tcase("nesting");
    tcase_add_test(tc, nested_the_inner_deadline_expires_and_the_outer_sees_its_result);
    tcase_add_test(tc, nested_the_outer_deadline_expires_and_the_inner_sees_a_cancel);
    tcase_add_test(tc, nested_equal_deadlines_the_outer_one_reports);
    suite_add_tcase(s, tc);

    tc = loop_tcase("bad arguments");
    tcase_add_test(tc, the_longest_delay_is_accepted);
    tcase_add_test(tc, wait_for_outside_a_task_is_enotask_and_arms_nothing);
    tcase_add_test(tc, an_outside_cancel_while_a_refused_op_unwinds_is_delivered);
    tcase_add_test(tc, a_refused_deadline_around_an_op_done_at_once_keeps_its_result);
    tcase_add_test(tc, a_delay_too_long_unwinds_the_op_and_returns_erange);
    tcase_add_test(tc, a_delay_too_long_unwinds_a_child_through_its_cleanup);
    tcase_add_test(tc, a_null_timeout_unwinds_the_op_and_returns_einval);
    tcase_add_test(tc, a_full_timer_heap_unwinds_the_op_and_returns_enospc);
    suite_add_tcase(s, tc);

    tc = loop_tcase("inside a cleanup section");
    tcase_add_test(tc, a_deadline_inside_a_cleanup_section_expires);
    tcase_add_test(tc, a_deadline_inside_a_cleanup_section_cancels_a_child_not_the_section);
    tcase_add_test(tc, a_refusal_inside_a_cleanup_section_unwinds_the_op);
    tcase_add_test(tc, an_outside_cancel_during_the_section_stays_pending_past_its_deadline);
    tcase_add_test(tc, a_cancel_pending_before_the_deadline_was_armed_is_kept);
    tcase_add_loop_test(tc, an_outside_cancel_never_reaches_the_op_a_deadline_in_a_section_bounds, 0, 2);
    tcase_add_test(tc, a_refusal_and_a_deadline_inside_its_op_each_report_their_own);
    tcase_add_test(tc, a_refusal_around_an_armed_deadline_disarms_it);
    tcase_add_test(tc, a_timeout_armed_by_another_task_is_refused_and_left_alone);
    suite_add_tcase(s, tc);

    tc = loop_tcase("nothing is lost");
    tcase_add_test(tc, an_item_arriving_after_the_expiry_stays_in_the_queue);
    tcase_add_test(tc, an_item_handed_over_just_before_the_expiry_stays_in_the_queue);
    tcase_add_test(tc, ten_thousand_expired_waits_leave_nothing_behind);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(timeout_suite)
