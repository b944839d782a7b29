/* SPDX-License-Identifier: MIT */
/*
 * Tasks: creation (returns at once, first runs on a later turn), refused
 * creation, reuse of finished tasks, awaiting a task (result, error, many
 * waiters, already finished, itself, never created), the states a task
 * passes through, its result, and names.
 */
#include "harness.h"

/* ------------------------------------------------------------ coroutines */

/* Traces "<name>", sleeps `ticks` (none if 0) and returns `result`. */
struct worker {
    async_frame_t co;
    const char *name;
    async_tick_t ticks;
    int result;
};

static int worker(async_loop_t *l, void *frame)
{
    struct worker *w = frame;
    ASYNC_BEGIN(l, w);
    trace("%s", w->name);
    if (w->ticks)
        AWAIT(async_sleep(l, w->ticks));
    ASYNC_RETURN(w->result);
    ASYNC_END;
}

/* Sleeps `delay`, then awaits `target` and traces what it got and when. */
struct awaiter {
    async_frame_t co;
    const char *name;
    async_task_t *target;
    async_tick_t delay;
    int got;
};

static int awaiter(async_loop_t *l, void *frame)
{
    struct awaiter *a = frame;
    ASYNC_BEGIN(l, a);
    if (a->delay)
        AWAIT(async_sleep(l, a->delay));
    trace("%s waits", a->name);
    AWAIT_TRY(a->got, async_task_wait(l, a->target));
    trace("%s got %d@%lu", a->name, a->got, (unsigned long)async_loop_now(l));
    ASYNC_END;
}

/* Yields every turn, `steps` times, tracing "tick". Shows whether a turn
 * passed between two events of another task. */
struct ticker {
    async_frame_t co;
    int steps, i;
};

static int ticker(async_loop_t *l, void *frame)
{
    struct ticker *t = frame;
    ASYNC_BEGIN(l, t);
    for (t->i = 0; t->i < t->steps; t->i++) {
        trace("tick");
        AWAIT(async_yield(l));
    }
    ASYNC_END;
}

/* -------------------------------------------------------------- create */

/* Creates a child and keeps going: the child runs only once the creator
 * suspends, on a later turn. */
struct creator {
    async_frame_t co;
    struct worker child;
    async_task_t tchild;
};

static int creator(async_loop_t *l, void *frame)
{
    struct creator *c = frame;
    ASYNC_BEGIN(l, c);
    c->child.name = "child runs";
    trace("create");
    ck_assert_int_eq(async_task_create(l, &c->tchild, worker, &c->child), 0);
    trace("back state=%d", async_task_state(&c->tchild));
    AWAIT(async_yield(l));
    trace("creator resumes");
    ASYNC_END;
}

START_TEST(create_returns_at_once_and_the_task_runs_on_a_later_turn)
{
    static struct creator c;
    static async_task_t task;
    char expect[128];

    ck_assert_int_eq(async_loop_run(&loop, &task, creator, &c), 0);
    snprintf(expect, sizeof expect, "create back state=%d child runs "
             "creator resumes", ASYNC_TASK_PENDING);
    ck_assert_str_eq(TRACE, expect);
}
END_TEST

START_TEST(create_on_a_live_task_is_refused_and_changes_nothing)
{
    static struct worker a = {.name = "a", .ticks = 5, .result = 1};
    static struct worker other = {.name = "other"};
    static async_task_t ta;
    struct worker other_before;
    async_task_t ta_before;
    int turn;

    ck_assert_int_eq(async_task_create(&loop, &ta, worker, &a), 0);
    /* Refused while pending (turn 0) and while sleeping (turn 1). */
    for (turn = 0; turn < 2; turn++) {
        memcpy(&ta_before, &ta, sizeof ta);
        memcpy(&other_before, &other, sizeof other);
        ck_assert_int_eq(async_task_create(&loop, &ta, worker, &other),
                         ASYNC_EBUSY);
        ck_assert_mem_eq(&ta, &ta_before, sizeof ta);
        ck_assert_mem_eq(&other, &other_before, sizeof other);
        if (turn == 0) {
            ck_assert_int_eq(async_loop_run_once(&loop), 1);
            ck_assert_int_eq(async_task_state(&ta), ASYNC_TASK_SLEEPING);
        }
    }
    run_until_idle();
    /* The task ran its own coroutine to its own end. */
    ck_assert_str_eq(TRACE, "a");
    ck_assert_int_eq(async_task_result(&ta), 1);
    ck_assert_uint_eq(async_loop_now(&loop), 5);
}
END_TEST

START_TEST(create_with_a_null_argument_or_an_uninitialised_loop_is_invalid)
{
    static async_loop_t never_initialised;
    static struct worker w = {.name = "w"};
    static async_task_t t;
    static const async_task_t zero_task;
    struct worker w_before;

    memcpy(&w_before, &w, sizeof w);
    ck_assert_int_eq(async_task_create(NULL, &t, worker, &w), ASYNC_EINVAL);
    ck_assert_int_eq(async_task_create(&loop, NULL, worker, &w), ASYNC_EINVAL);
    ck_assert_int_eq(async_task_create(&loop, &t, NULL, &w), ASYNC_EINVAL);
    ck_assert_int_eq(async_task_create(&loop, &t, worker, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_task_create(&never_initialised, &t, worker, &w),
                     ASYNC_EINVAL);
    ck_assert_mem_eq(&t, &zero_task, sizeof t);
    ck_assert_mem_eq(&w, &w_before, sizeof w);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_IDLE);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
}
END_TEST

START_TEST(a_finished_task_can_be_created_again)
{
    static struct worker first = {.name = "first", .ticks = 2, .result = 1};
    static struct worker second = {.name = "second", .ticks = 3, .result = 2};
    static async_task_t t;

    ck_assert_int_eq(async_task_create(&loop, &t, worker, &first), 0);
    run_until_idle();
    ck_assert_int_eq(async_task_result(&t), 1);

    /* Same task, another coroutine and frame. */
    ck_assert_int_eq(async_task_create(&loop, &t, worker, &second), 0);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_PENDING);
    ck_assert_int_eq(async_task_result(&t), ASYNC_ESTATE);
    run_until_idle();
    ck_assert_int_eq(async_task_result(&t), 2);

    /* Same task and the same, finished, frame. */
    first.result = 3;
    ck_assert_int_eq(async_task_create(&loop, &t, worker, &first), 0);
    run_until_idle();
    ck_assert_int_eq(async_task_result(&t), 3);
    ck_assert_str_eq(TRACE, "first second first");
    ck_assert_uint_eq(async_loop_now(&loop), 2 + 3 + 2);
}
END_TEST

/* Awaits a child coroutine in place, so that the child's frame is in use
 * below the task's own frame. */
struct parent {
    async_frame_t co;
    struct worker child;
};

static int parent(async_loop_t *l, void *frame)
{
    struct parent *p = frame;
    ASYNC_BEGIN(l, p);
    p->child.name = "child";
    p->child.ticks = 4;
    AWAIT(async_call(l, worker, &p->child));
    ASYNC_END;
}

START_TEST(create_with_a_frame_in_use_is_refused)
{
    static struct worker a = {.name = "a", .ticks = 5};
    static struct parent p;
    static async_task_t ta, tp, intruder;
    struct worker a_before;
    struct parent p_before;

    ck_assert_int_eq(async_task_create(&loop, &ta, worker, &a), 0);
    ck_assert_int_eq(async_task_create(&loop, &tp, parent, &p), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 2);

    /* a's frame is suspended in a sleep; p.child is suspended below p. */
    memcpy(&a_before, &a, sizeof a);
    memcpy(&p_before, &p, sizeof p);
    ck_assert_int_eq(async_task_create(&loop, &intruder, worker, &a),
                     ASYNC_EBUSY);
    ck_assert_int_eq(async_task_create(&loop, &intruder, worker, &p.child),
                     ASYNC_EBUSY);
    ck_assert_int_eq(async_task_create(&loop, &intruder, parent, &p),
                     ASYNC_EBUSY);
    ck_assert_mem_eq(&a, &a_before, sizeof a);
    ck_assert_mem_eq(&p, &p_before, sizeof p);
    ck_assert_int_eq(async_task_state(&intruder), ASYNC_TASK_IDLE);

    run_until_idle();
    ck_assert_str_eq(TRACE, "a child");
    ck_assert_int_eq(async_task_result(&ta), 0);
    ck_assert_int_eq(async_task_result(&tp), 0);
}
END_TEST

START_TEST(create_with_the_frame_of_a_task_not_yet_started_is_refused)
{
    static struct worker a = {.name = "a", .result = 1};
    static async_task_t ta, intruder;

    /* ta is pending: its frame is taken, although it has not run yet. */
    ck_assert_int_eq(async_task_create(&loop, &ta, worker, &a), 0);
    ck_assert_int_eq(async_task_create(&loop, &intruder, worker, &a),
                     ASYNC_EBUSY);
    ck_assert_int_eq(async_task_state(&intruder), ASYNC_TASK_IDLE);
    run_until_idle();
    ck_assert_str_eq(TRACE, "a");
    ck_assert_int_eq(async_task_result(&ta), 1);
}
END_TEST

/* Gathers two tasks with ASYNC_GATHER_ALL; the first finishes long before
 * the second. */
struct gatherer {
    async_frame_t co;
    struct worker quick, slow;
    async_task_t tquick, tslow;
    async_task_t *list[2];
    async_gather_t g;
    async_gather_slot_t slot[2];
};

static int gatherer(async_loop_t *l, void *frame)
{
    struct gatherer *g = frame;
    ASYNC_BEGIN(l, g);
    g->quick.name = "quick";
    g->quick.ticks = 1;
    g->quick.result = 1;
    g->slow.name = "slow";
    g->slow.ticks = 10;
    g->slow.result = 2;
    ck_assert_int_eq(async_task_create(l, &g->tquick, worker, &g->quick), 0);
    ck_assert_int_eq(async_task_create(l, &g->tslow, worker, &g->slow), 0);
    g->list[0] = &g->tquick;
    g->list[1] = &g->tslow;
    ck_assert_int_eq(async_gather_init(&g->g, g->slot, 2, ASYNC_GATHER_ALL), 0);
    AWAIT(async_gather(l, &g->g, g->list));
    ASYNC_RETURN(async_gather_result(&g->g, 0) * 10 +
                 async_gather_result(&g->g, 1));
    ASYNC_END;
}

START_TEST(a_finished_task_can_be_reused_while_a_gather_holds_its_result)
{
    static struct gatherer g;
    static struct worker other = {.name = "other", .ticks = 3, .result = 9};
    static async_task_t task;

    ck_assert_int_eq(async_task_create(&loop, &task, gatherer, &g), 0);
    while (async_task_state(&g.tquick) != ASYNC_TASK_DONE)
        ck_assert_int_ge(async_loop_run_once(&loop), 0);
    ck_assert_int_eq(async_task_state(&task), ASYNC_TASK_GATHERING);

    /* quick is done and nobody waits on it: the gather keeps its own copy
     * of the result, so the task's memory may be used again at once. */
    ck_assert_int_eq(async_task_create(&loop, &g.tquick, worker, &other), 0);
    run_until_idle();
    ck_assert_int_eq(async_task_result(&task), 12); /* quick 1, slow 2 */
    ck_assert_int_eq(async_task_result(&g.tquick), 9);
}
END_TEST

/* --------------------------------------------------------------- await */

START_TEST(awaiting_a_task_gives_its_result)
{
    static struct worker w = {.name = "w", .ticks = 3, .result = 42};
    static struct awaiter a = {.name = "a"};
    static async_task_t tw, ta;

    a.target = &tw;
    ck_assert_int_eq(async_task_create(&loop, &tw, worker, &w), 0);
    ck_assert_int_eq(async_task_create(&loop, &ta, awaiter, &a), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 2);
    ck_assert_int_eq(async_task_state(&ta), ASYNC_TASK_AWAITING);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w a waits a got 42@3");
}
END_TEST

/* Awaits with AWAIT, so that the awaited task's error propagates out of
 * this one, through its cleanup. */
struct propagator {
    async_frame_t co;
    async_task_t *target;
};

static int propagator(async_loop_t *l, void *frame)
{
    struct propagator *p = frame;
    ASYNC_BEGIN(l, p);
    AWAIT(async_task_wait(l, p->target));
    trace("not reached");
    ASYNC_FINALLY;
    trace("cleanup %s", async_strerror_name(ASYNC_RESULT));
    ASYNC_END;
}

START_TEST(awaiting_a_task_gives_its_error)
{
    static struct worker w = {.name = "w", .ticks = 3, .result = ASYNC_EFULL};
    static struct propagator p;
    static async_task_t tw, tp;

    p.target = &tw;
    ck_assert_int_eq(async_task_create(&loop, &tw, worker, &w), 0);
    ck_assert_int_eq(async_task_create(&loop, &tp, propagator, &p), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w cleanup ASYNC_EFULL");
    ck_assert_int_eq(async_task_result(&tw), ASYNC_EFULL);
    ck_assert_int_eq(async_task_result(&tp), ASYNC_EFULL);
}
END_TEST

START_TEST(many_tasks_await_one_and_wake_in_the_order_they_began_waiting)
{
    static struct worker w = {.name = "w", .ticks = 5, .result = 9};
    /* Created in the order a0, a1, a2 but waiting in the order a1, a2, a0. */
    static struct awaiter a[3] = {{.name = "a0", .delay = 2},
                                  {.name = "a1", .delay = 0},
                                  {.name = "a2", .delay = 1}};
    static async_task_t tw, ta[3];
    int i;

    ck_assert_int_eq(async_task_create(&loop, &tw, worker, &w), 0);
    for (i = 0; i < 3; i++) {
        a[i].target = &tw;
        ck_assert_int_eq(async_task_create(&loop, &ta[i], awaiter, &a[i]), 0);
    }
    run_until_idle();
    ck_assert_str_eq(TRACE, "w a1 waits a2 waits a0 waits "
                            "a1 got 9@5 a2 got 9@5 a0 got 9@5");
}
END_TEST

/* Awaits a task that has already finished, between two traces. */
struct late_awaiter {
    async_frame_t co;
    async_task_t *target;
    async_tick_t before;
    int got;
};

static int late_awaiter(async_loop_t *l, void *frame)
{
    struct late_awaiter *a = frame;
    ASYNC_BEGIN(l, a);
    a->before = async_loop_now(l);
    trace("before");
    AWAIT_TRY(a->got, async_task_wait(l, a->target));
    trace("after %d", a->got);
    ck_assert_uint_eq(async_loop_now(l), a->before);
    ASYNC_END;
}

START_TEST(awaiting_a_finished_task_returns_at_once_without_suspending)
{
    static struct worker w = {.name = "w", .ticks = 1, .result = ASYNC_EEMPTY};
    static struct late_awaiter a;
    static struct ticker tk = {.steps = 2};
    static async_task_t tw, ta, ttk;

    ck_assert_int_eq(async_task_create(&loop, &tw, worker, &w), 0);
    run_until_idle();
    ck_assert_int_eq(async_task_state(&tw), ASYNC_TASK_DONE);

    /* Another task ticks every turn. Had the await suspended, even for a
     * yield, a tick would land between "before" and "after". The error
     * result is kept as the result. */
    a.target = &tw;
    ck_assert_int_eq(async_task_create(&loop, &ttk, ticker, &tk), 0);
    ck_assert_int_eq(async_task_create(&loop, &ta, late_awaiter, &a), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w tick before after -5 tick");
    ck_assert_int_eq(a.got, ASYNC_EEMPTY);
}
END_TEST

/* Awaits itself, then a task never created, then NULL, and goes on. */
struct bad_awaiter {
    async_frame_t co;
    async_task_t idle;
    int self, never, null, state;
};

static int bad_awaiter(async_loop_t *l, void *frame)
{
    struct bad_awaiter *b = frame;
    ASYNC_BEGIN(l, b);
    AWAIT_TRY(b->self, async_task_wait(l, async_current(l)));
    AWAIT_TRY(b->never, async_task_wait(l, &b->idle));
    AWAIT_TRY(b->null, async_task_wait(l, NULL));
    b->state = async_task_state(async_current(l));
    ASYNC_RETURN(5);
    ASYNC_END;
}

START_TEST(awaiting_itself_or_a_task_never_created_is_refused)
{
    static struct bad_awaiter b;
    static async_task_t task, idle;

    ck_assert_int_eq(async_loop_run(&loop, &task, bad_awaiter, &b), 5);
    ck_assert_int_eq(b.self, ASYNC_ESELF);
    ck_assert_int_eq(b.never, ASYNC_EINVAL);
    ck_assert_int_eq(b.null, ASYNC_EINVAL);
    ck_assert_int_eq(b.state, ASYNC_TASK_RUNNING); /* still itself */
    ck_assert_int_eq(async_task_state(&b.idle), ASYNC_TASK_IDLE);
    ck_assert_int_eq(async_task_wait(&loop, &task), ASYNC_ENOTASK);
    ck_assert_int_eq(async_task_wait(&loop, &idle), ASYNC_ENOTASK);
}
END_TEST

/* --------------------------------------------------------------- state */

/* Waits for an event, then returns `result`. */
struct ev_waiter {
    async_frame_t co;
    async_event_t *ev;
    int result;
};

static int ev_waiter(async_loop_t *l, void *frame)
{
    struct ev_waiter *w = frame;
    ASYNC_BEGIN(l, w);
    AWAIT(async_event_wait(l, w->ev));
    ASYNC_RETURN(w->result);
    ASYNC_END;
}

/* Walks through the states: yields, sleeps, waits on an event, awaits a
 * task, and records what it sees of itself while running. */
struct lifecycle {
    async_frame_t co;
    async_event_t *ev;
    async_task_t *other;
    async_task_t *seen_current;
    int seen_running, got;
};

static int lifecycle(async_loop_t *l, void *frame)
{
    struct lifecycle *c = frame;
    ASYNC_BEGIN(l, c);
    c->seen_current = async_current(l);
    c->seen_running = async_task_state(c->seen_current);
    AWAIT(async_yield(l));
    AWAIT(async_sleep(l, 5));
    AWAIT(async_event_wait(l, c->ev));
    AWAIT_VALUE(c->got, async_task_wait(l, c->other));
    ASYNC_RETURN(c->got + 1);
    ASYNC_END;
}

START_TEST(task_state_follows_the_lifecycle)
{
    static async_event_t ev, ev_other;
    static struct lifecycle c;
    static struct ev_waiter w = {.result = 7};
    static async_task_t t, other, never;

    ck_assert_int_eq(async_task_state(&never), ASYNC_TASK_IDLE);
    ck_assert_int_eq(async_task_state(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    ck_assert_int_eq(async_event_init(&ev_other, &loop), 0);
    c.ev = &ev;
    c.other = &other;
    w.ev = &ev_other;
    ck_assert_int_eq(async_task_create(&loop, &t, lifecycle, &c), 0);
    ck_assert_int_eq(async_task_create(&loop, &other, ev_waiter, &w), 0);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_PENDING);
    ck_assert_ptr_null(async_current(&loop));

    ck_assert_int_eq(async_loop_run_once(&loop), 2);
    ck_assert_ptr_eq(c.seen_current, &t);
    ck_assert_int_eq(c.seen_running, ASYNC_TASK_RUNNING);
    ck_assert_ptr_null(async_current(&loop)); /* none between turns */
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_READY); /* yielded */
    ck_assert_int_eq(async_task_state(&other), ASYNC_TASK_WAITING);

    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_SLEEPING);

    ck_assert_int_eq(async_loop_run_once(&loop), 1); /* jumps to 5 */
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_WAITING);
    ck_assert_int_eq(async_event_set(&ev), 0);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_READY); /* woken */

    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_AWAITING);
    ck_assert_int_eq(async_event_set(&ev_other), 0);
    ck_assert_int_eq(async_task_state(&other), ASYNC_TASK_READY);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_AWAITING);

    ck_assert_int_eq(async_loop_run_once(&loop), 1); /* other ends */
    ck_assert_int_eq(async_task_state(&other), ASYNC_TASK_DONE);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_READY);

    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_DONE);
    ck_assert_int_eq(async_task_result(&t), 8);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
}
END_TEST

START_TEST(task_result_is_there_only_once_done)
{
    static struct worker w = {.name = "w", .ticks = 1, .result = 8};
    static async_task_t t, never;

    ck_assert_int_eq(async_task_result(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_task_result(&never), ASYNC_ESTATE);
    ck_assert_int_eq(async_task_create(&loop, &t, worker, &w), 0);
    ck_assert_int_eq(async_task_result(&t), ASYNC_ESTATE); /* pending */
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_task_result(&t), ASYNC_ESTATE); /* sleeping */
    run_until_idle();
    ck_assert_int_eq(async_task_result(&t), 8);
    ck_assert_int_eq(async_task_result(&t), 8); /* reading does not consume */
}
END_TEST

/* --------------------------------------------------------------- names */

START_TEST(names_are_kept_only_in_debug_builds)
{
    static async_task_t t;

    /* This suite is built without ASYNC_CONFIG_DEBUG: naming is accepted
     * (so the same code builds both ways) but nothing is stored, and the
     * name reads back as "". test_debug covers the debug build. */
    ck_assert_int_eq(ASYNC_CONFIG_DEBUG, 0);
    ck_assert_int_eq(async_task_set_name(&t, "blinker"), 0);
    ck_assert_str_eq(async_task_name(&t), "");
    ck_assert_int_eq(async_task_set_name(NULL, "blinker"), ASYNC_EINVAL);
    ck_assert_str_eq(async_task_name(NULL), "");
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_IDLE);
}
END_TEST

static Suite *task_suite(void)
{
    Suite *s = suite_create("task");
    TCase *tc;

    tc = loop_tcase("create");
    tcase_add_test(tc, create_returns_at_once_and_the_task_runs_on_a_later_turn);
    tcase_add_test(tc, create_on_a_live_task_is_refused_and_changes_nothing);
    tcase_add_test(tc, create_with_a_null_argument_or_an_uninitialised_loop_is_invalid);
    tcase_add_test(tc, a_finished_task_can_be_created_again);
    tcase_add_test(tc, create_with_a_frame_in_use_is_refused);
    tcase_add_test(tc, create_with_the_frame_of_a_task_not_yet_started_is_refused);
    tcase_add_test(tc, a_finished_task_can_be_reused_while_a_gather_holds_its_result);
    suite_add_tcase(s, tc);

    tc = loop_tcase("await");
    tcase_add_test(tc, awaiting_a_task_gives_its_result);
    tcase_add_test(tc, awaiting_a_task_gives_its_error);
    tcase_add_test(tc, many_tasks_await_one_and_wake_in_the_order_they_began_waiting);
    tcase_add_test(tc, awaiting_a_finished_task_returns_at_once_without_suspending);
    tcase_add_test(tc, awaiting_itself_or_a_task_never_created_is_refused);
    suite_add_tcase(s, tc);

    tc = loop_tcase("state");
    tcase_add_test(tc, task_state_follows_the_lifecycle);
    tcase_add_test(tc, task_result_is_there_only_once_done);
    tcase_add_test(tc, names_are_kept_only_in_debug_builds);
    suite_add_tcase(s, tc);

    return s;
}

TEST_MAIN(task_suite)
