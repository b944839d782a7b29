/* SPDX-License-Identifier: MIT */
/*
 * The loop: initialisation, asyncio.run semantics (main's result, leftover
 * tasks cancelled and finished, deadlock reported), what one turn does, when
 * work is next due, virtual time, close, driving the loop from a superloop,
 * call_soon callbacks, and a port that supplies the clock.
 */
#include "harness.h"

/* ------------------------------------------------------------ coroutines */

/* Traces "<name><i>" and yields, `steps` times, then traces "<name>.". */
struct stepper {
    async_frame_t co;
    const char *name;
    int steps, i;
};

static int stepper(async_loop_t *l, void *frame)
{
    struct stepper *s = frame;
    ASYNC_BEGIN(l, s);
    for (s->i = 0; s->i < s->steps; s->i++) {
        trace("%s%d", s->name, s->i);
        AWAIT(async_yield(l));
    }
    trace("%s.", s->name);
    ASYNC_END;
}

/* Sleeps `ticks`, traces "<name>@<tick>" and returns `result`. If it ends
 * with an error, its cleanup traces it and may sleep `flush` ticks first,
 * as a driver flushing on the way out would. */
struct sleeper {
    async_frame_t co;
    const char *name;
    async_tick_t ticks, flush;
    int result;
};

static int sleeper(async_loop_t *l, void *frame)
{
    struct sleeper *s = frame;
    ASYNC_BEGIN(l, s);
    AWAIT(async_sleep(l, s->ticks));
    trace("%s@%lu", s->name, (unsigned long)async_loop_now(l));
    ASYNC_RETURN(s->result);
    ASYNC_FINALLY;
    if (ASYNC_RESULT < 0) {
        trace("%s:%s", s->name, async_strerror_name(ASYNC_RESULT));
        if (s->flush) {
            AWAIT(async_sleep(l, s->flush));
            trace("%s flushed@%lu", s->name, (unsigned long)async_loop_now(l));
        }
    }
    ASYNC_END;
}

/* Waits for an event; its cleanup traces how it ended. */
struct waiter {
    async_frame_t co;
    const char *name;
    async_event_t *ev;
};

static int waiter(async_loop_t *l, void *frame)
{
    struct waiter *w = frame;
    ASYNC_BEGIN(l, w);
    AWAIT(async_event_wait(l, w->ev));
    trace("%s set", w->name);
    ASYNC_FINALLY;
    if (ASYNC_RESULT < 0)
        trace("%s:%s", w->name, async_strerror_name(ASYNC_RESULT));
    ASYNC_END;
}

/* Sleeps each of `delays` in turn, tracing "@<tick>" after each. */
struct hopper {
    async_frame_t co;
    const async_tick_t *delays;
    int n, i;
};

static int hopper(async_loop_t *l, void *frame)
{
    struct hopper *h = frame;
    ASYNC_BEGIN(l, h);
    for (h->i = 0; h->i < h->n; h->i++) {
        AWAIT(async_sleep(l, h->delays[h->i]));
        trace("@%lu", (unsigned long)async_loop_now(l));
    }
    ASYNC_END;
}

/* A callback that traces its name and may queue another one. */
struct note {
    const char *name;
    async_callback_t *then;
};

static void note_cb(async_loop_t *l, async_callback_t *cb)
{
    struct note *n = cb->arg;
    trace("%s", n->name);
    if (n->then)
        ck_assert_int_eq(async_call_soon(l, n->then), 0);
}

/* A clock the test controls. idle() pretends to block: it moves the clock
 * by what was asked plus `late`, as a real wakeup may come late. */
struct fake_clock {
    async_tick_t now, late;
};

static async_tick_t fake_now(void *ctx)
{
    return ((struct fake_clock *)ctx)->now;
}

static void fake_idle(void *ctx, async_tick_t ticks)
{
    struct fake_clock *c = ctx;
    trace("idle%lu", (unsigned long)ticks);
    c->now = (async_tick_t)(c->now + ticks + c->late);
}

/* ---------------------------------------------------------------- init */

START_TEST(init_refuses_a_null_loop_or_a_null_heap_with_capacity)
{
    static async_loop_t fresh;
    static const async_loop_t zero;
    async_loop_t before;

    ck_assert_int_eq(async_loop_init(NULL, timers, TEST_TIMERS), ASYNC_EINVAL);
    ck_assert_int_eq(async_loop_init(&fresh, NULL, 1), ASYNC_EINVAL);
    ck_assert_mem_eq(&fresh, &zero, sizeof fresh);

    memcpy(&before, &loop, sizeof loop);
    ck_assert_int_eq(async_loop_init(&loop, NULL, 4), ASYNC_EINVAL);
    ck_assert_mem_eq(&loop, &before, sizeof loop);

    /* No heap and no capacity is fine: a loop whose tasks never sleep. */
    ck_assert_int_eq(async_loop_init(&fresh, NULL, 0), 0);
    ck_assert_int_eq(async_loop_close(&fresh), 0);
}
END_TEST

START_TEST(run_once_on_a_null_or_uninitialised_loop_is_einval)
{
    static async_loop_t fresh;
    static const async_loop_t zero;

    ck_assert_int_eq(async_loop_run_once(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_loop_run_once(&fresh), ASYNC_EINVAL);
    ck_assert_mem_eq(&fresh, &zero, sizeof fresh);
}
END_TEST

START_TEST(reinit_with_live_tasks_is_refused_and_changes_nothing)
{
    static async_timer_t *small[1];
    static struct sleeper a = {.name = "a", .ticks = 5};
    static struct sleeper b = {.name = "b", .ticks = 6};
    static async_task_t ta, tb;
    async_loop_t before;

    ck_assert_int_eq(async_loop_set_time(&loop, 100), 0);
    ck_assert_int_eq(async_task_create(&loop, &ta, sleeper, &a), 0);
    /* Refused while a task is only pending... */
    memcpy(&before, &loop, sizeof loop);
    ck_assert_int_eq(async_loop_init(&loop, small, 1), ASYNC_EBUSY);
    ck_assert_mem_eq(&loop, &before, sizeof loop);

    /* ...and while tasks sleep in the heap. */
    ck_assert_int_eq(async_task_create(&loop, &tb, sleeper, &b), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 2);
    memcpy(&before, &loop, sizeof loop);
    ck_assert_int_eq(async_loop_init(&loop, small, 1), ASYNC_EBUSY);
    ck_assert_mem_eq(&loop, &before, sizeof loop);

    /* The clock, the heap and both sleepers are intact. */
    run_until_idle();
    ck_assert_str_eq(TRACE, "a@105 b@106");

    /* Once every task is done the loop may be initialised again. */
    ck_assert_int_eq(async_loop_init(&loop, timers, TEST_TIMERS), 0);
    ck_assert_uint_eq(async_loop_now(&loop), 0);
}
END_TEST

/* ------------------------------------------------------- run (asyncio.run) */

START_TEST(run_returns_the_result_of_main)
{
    static struct sleeper m = {.name = "main", .ticks = 3, .result = 42};
    static async_task_t task;

    ck_assert_int_eq(async_loop_run(&loop, &task, sleeper, &m), 42);
    ck_assert_str_eq(TRACE, "main@3");

    /* An error is a result too; the finished task and frame run again. */
    m.result = ASYNC_ETIMEDOUT;
    ck_assert_int_eq(async_loop_run(&loop, &task, sleeper, &m), ASYNC_ETIMEDOUT);
    ck_assert_str_eq(TRACE, "main@3 main@6 main:ASYNC_ETIMEDOUT");

    /* What async_task_create refuses, run refuses the same way. */
    ck_assert_int_eq(async_loop_run(&loop, &task, NULL, &m), ASYNC_EINVAL);
    ck_assert_int_eq(async_loop_run(&loop, NULL, sleeper, &m), ASYNC_EINVAL);
    ck_assert_int_eq(async_task_state(&task), ASYNC_TASK_DONE);
}
END_TEST

/* main starts three workers and returns while they are still pending. */
struct spawner {
    async_frame_t co;
    async_event_t never;
    struct sleeper w1;
    struct waiter w2;
    struct stepper w3;
    async_task_t t1, t2, t3;
};

static int spawn_and_return(async_loop_t *l, void *frame)
{
    struct spawner *m = frame;
    ASYNC_BEGIN(l, m);
    ck_assert_int_eq(async_event_init(&m->never, l), 0);
    m->w1.name = "w1";
    m->w1.ticks = 100;
    m->w1.flush = 2;
    m->w2.name = "w2";
    m->w2.ev = &m->never;
    m->w3.name = "w3";
    m->w3.steps = 1;
    ck_assert_int_eq(async_task_create(l, &m->t1, sleeper, &m->w1), 0);
    ck_assert_int_eq(async_task_create(l, &m->t2, waiter, &m->w2), 0);
    AWAIT(async_sleep(l, 1)); /* w1 and w2 start and suspend */
    ck_assert_int_eq(async_task_create(l, &m->t3, stepper, &m->w3), 0);
    trace("main returns");
    ASYNC_RETURN(7);
    ASYNC_END;
}

START_TEST(run_cancels_and_finishes_tasks_left_pending_after_main)
{
    static struct spawner m;
    static async_task_t task;

    ck_assert_int_eq(async_loop_run(&loop, &task, spawn_and_return, &m), 7);
    /* w3 never had a turn, so it never runs; w1's cleanup may still await
     * (its flush) and run finishes it; w2 is cut out of its wait. */
    ck_assert_str_eq(TRACE, "main returns w1:ASYNC_ECANCELED w2:ASYNC_ECANCELED "
                            "w1 flushed@3");
    ck_assert_int_eq(async_task_result(&m.t1), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&m.t2), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&m.t3), ASYNC_ECANCELED);
    ck_assert_uint_eq(async_loop_now(&loop), 3);
    ck_assert_int_eq(async_loop_close(&loop), 0);
}
END_TEST

/* A leftover task whose cleanup starts another task, one that would wait
 * for ever: run cancels that one too, before its first turn. */
struct spawn_in_cleanup {
    async_frame_t co;
    async_event_t *ev;
    async_task_t t;
    struct waiter w;
};

static int spawn_in_cleanup(async_loop_t *l, void *frame)
{
    struct spawn_in_cleanup *c = frame;
    ASYNC_BEGIN(l, c);
    AWAIT(async_sleep(l, 100));
    ASYNC_FINALLY;
    c->w.name = "late";
    c->w.ev = c->ev;
    ck_assert_int_eq(async_task_create(l, &c->t, waiter, &c->w), 0);
    trace("spawned");
    ASYNC_END;
}

struct main_spawning {
    async_frame_t co;
    async_event_t ev;
    async_task_t t;
    struct spawn_in_cleanup c;
};

static int main_spawning(async_loop_t *l, void *frame)
{
    struct main_spawning *m = frame;
    ASYNC_BEGIN(l, m);
    async_event_init(&m->ev, l);
    m->c.ev = &m->ev;
    async_task_create(l, &m->t, spawn_in_cleanup, &m->c);
    AWAIT(async_yield(l));
    trace("main returns");
    ASYNC_END;
}

START_TEST(run_cancels_tasks_created_by_the_cleanup_of_leftovers)
{
    static struct main_spawning m;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, main_spawning, &m), 0);
    /* The late task never ran: no "late set" and no cleanup trace. */
    ck_assert_str_eq(TRACE, "main returns spawned");
    ck_assert_int_eq(async_task_result(&m.c.t), ASYNC_ECANCELED);
    ck_assert_int_eq(async_loop_close(&loop), 0);
}
END_TEST

/* The same through a callback that the cleanup queues: the task it creates
 * on the last turns never runs either. */
struct late_spawner {
    async_event_t *ev;
    async_task_t t;
    struct waiter w;
};

static void spawn_cb(async_loop_t *l, async_callback_t *cb)
{
    struct late_spawner *s = cb->arg;
    s->w.name = "late";
    s->w.ev = s->ev;
    trace("cb:create=%d", async_task_create(l, &s->t, waiter, &s->w));
}

struct queue_in_cleanup {
    async_frame_t co;
    async_callback_t cb;
    struct late_spawner s;
};

static int queue_in_cleanup(async_loop_t *l, void *frame)
{
    struct queue_in_cleanup *c = frame;
    ASYNC_BEGIN(l, c);
    AWAIT(async_sleep(l, 100));
    ASYNC_FINALLY;
    async_callback_init(&c->cb, spawn_cb, &c->s);
    ck_assert_int_eq(async_call_soon(l, &c->cb), 0);
    ASYNC_END;
}

struct main_queueing {
    async_frame_t co;
    async_event_t ev;
    async_task_t t;
    struct queue_in_cleanup c;
};

static int main_queueing(async_loop_t *l, void *frame)
{
    struct main_queueing *m = frame;
    ASYNC_BEGIN(l, m);
    async_event_init(&m->ev, l);
    m->c.s.ev = &m->ev;
    async_task_create(l, &m->t, queue_in_cleanup, &m->c);
    AWAIT(async_yield(l));
    ASYNC_END;
}

START_TEST(run_cancels_tasks_created_by_callbacks_of_leftovers)
{
    static struct main_queueing m;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, main_queueing, &m), 0);
    ck_assert_str_eq(TRACE, "cb:create=0");
    ck_assert_int_eq(async_task_result(&m.c.s.t), ASYNC_ECANCELED);
    ck_assert_int_eq(async_loop_close(&loop), 0);
}
END_TEST

/* A callback that tries to run the loop it runs on. */
static void nested_run_cb(async_loop_t *l, async_callback_t *cb)
{
    static async_task_t t;
    static struct stepper s = {.name = "s"};
    (void)cb;
    trace("run_once=%s", async_strerror_name(async_loop_run_once(l)));
    trace("run=%s", async_strerror_name(async_loop_run(l, &t, stepper, &s)));
}

START_TEST(run_and_run_once_from_a_callback_are_refused)
{
    static async_callback_t cb;
    ck_assert_int_eq(async_callback_init(&cb, nested_run_cb, NULL), 0);
    ck_assert_int_eq(async_call_soon(&loop, &cb), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_str_eq(TRACE, "run_once=ASYNC_ESTATE run=ASYNC_ESTATE");
    /* The turn is over: the loop runs again. */
    ck_assert_int_eq(async_loop_run_once(&loop), 0);
}
END_TEST

/* Running the loop from one of its own tasks would resume tasks inside a
 * task; both calls refuse, and the calling task goes on undisturbed. */
struct nested_run {
    async_frame_t co;
    struct sleeper s;
    async_task_t ts, tn;
    int rc_once, rc_run;
};

static int nested_run(async_loop_t *l, void *frame)
{
    struct nested_run *n = frame;
    ASYNC_BEGIN(l, n);
    n->s.name = "s";
    n->s.ticks = 50;
    async_task_create(l, &n->ts, sleeper, &n->s);
    AWAIT(async_yield(l));
    n->rc_once = async_loop_run_once(l);
    n->rc_run = async_loop_run(l, &n->tn, stepper, &n->s);
    trace("at %lu", (unsigned long)async_loop_now(l));
    AWAIT(async_sleep(l, 1));
    trace("main@%lu", (unsigned long)async_loop_now(l));
    ASYNC_END;
}

START_TEST(run_and_run_once_from_a_task_are_refused)
{
    static struct nested_run m;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, nested_run, &m), 0);
    ck_assert_int_eq(m.rc_once, ASYNC_ESTATE);
    ck_assert_int_eq(m.rc_run, ASYNC_ESTATE);
    ck_assert_int_eq(async_task_state(&m.tn), ASYNC_TASK_IDLE);
    /* The clock did not jump to s's deadline; s was cancelled by run. */
    ck_assert_str_eq(TRACE, "at 0 main@1 s:ASYNC_ECANCELED");
}
END_TEST

/* main's last act queues a callback that queues another: run returns only
 * once both have run, so the loop closes. */
struct last_act {
    async_frame_t co;
    async_callback_t c1, c2;
    struct note n1, n2;
};

static int queue_and_return(async_loop_t *l, void *frame)
{
    struct last_act *m = frame;
    ASYNC_BEGIN(l, m);
    m->n1.name = "c1";
    m->n1.then = &m->c2;
    m->n2.name = "c2";
    async_callback_init(&m->c1, note_cb, &m->n1);
    async_callback_init(&m->c2, note_cb, &m->n2);
    async_call_soon(l, &m->c1);
    trace("main returns");
    ASYNC_RETURN(5);
    ASYNC_END;
}

START_TEST(run_runs_the_callbacks_left_queued_when_main_returns)
{
    static struct last_act m;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, queue_and_return, &m), 5);
    ck_assert_str_eq(TRACE, "main returns c1 c2");
    ck_assert_int_eq(async_loop_close(&loop), 0);
}
END_TEST

/* main waits for an event nobody will ever set, while another task sleeps:
 * the deadlock shows only once the sleeper is done. */
struct deadlocker {
    async_frame_t co;
    async_event_t never;
    struct sleeper other;
    async_task_t t;
};

static int deadlocker(async_loop_t *l, void *frame)
{
    struct deadlocker *d = frame;
    ASYNC_BEGIN(l, d);
    ck_assert_int_eq(async_event_init(&d->never, l), 0);
    d->other.name = "other";
    d->other.ticks = 10;
    ck_assert_int_eq(async_task_create(l, &d->t, sleeper, &d->other), 0);
    trace("main waits");
    AWAIT(async_event_wait(l, &d->never));
    trace("never reached");
    ASYNC_FINALLY;
    trace("main:%s", async_strerror_name(ASYNC_RESULT));
    ASYNC_END;
}

/* Its cleanup section waits for an event nobody sets while the loop runs. */
struct stubborn {
    async_frame_t co;
    async_event_t *ev;
    int rc;
};

static int stubborn(async_loop_t *l, void *frame)
{
    struct stubborn *s = frame;
    ASYNC_BEGIN(l, s);
    AWAIT(async_sleep(l, ASYNC_FOREVER));
    ASYNC_FINALLY;
    trace("s:%s", res(ASYNC_RESULT));
    AWAIT_TRY(s->rc, async_event_wait(l, s->ev));
    trace("s:set %s", res(s->rc));
    ASYNC_END;
}

struct leaver {
    async_frame_t co;
    async_event_t ev;
    struct stubborn s;
    async_task_t t;
};

static int leave_a_stubborn_task(async_loop_t *l, void *frame)
{
    struct leaver *m = frame;
    ASYNC_BEGIN(l, m);
    ck_assert_int_eq(async_event_init(&m->ev, l), 0);
    m->s.ev = &m->ev;
    ck_assert_int_eq(async_task_create(l, &m->t, stubborn, &m->s), 0);
    AWAIT(async_sleep(l, 1));
    ASYNC_RETURN(7);
    ASYNC_END;
}

START_TEST(run_returns_when_a_leftover_cleanup_can_never_end)
{
    static struct leaver m;
    static async_task_t task;

    /* Once nothing can ever wake the leftover, run stops and returns
     * main's result, leaving it registered. */
    ck_assert_int_eq(async_loop_run(&loop, &task, leave_a_stubborn_task, &m),
                     7);
    ck_assert_str_eq(TRACE, "s:ECANCELED");
    ck_assert_int_eq(async_task_state(&m.t), ASYNC_TASK_WAITING);
    ck_assert_int_eq(async_loop_close(&loop), ASYNC_EBUSY);
    ck_assert_int_eq(async_event_set(&m.ev), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "s:ECANCELED s:set 0");
    ck_assert_int_eq(async_task_result(&m.t), ASYNC_ECANCELED);
}
END_TEST

START_TEST(run_reports_a_deadlock_and_leaves_the_loop_empty)
{
    static struct deadlocker d;
    static async_task_t task;

    ck_assert_int_eq(async_loop_run(&loop, &task, deadlocker, &d), ASYNC_EDEADLK);
    ck_assert_str_eq(TRACE, "main waits other@10 main:ASYNC_ECANCELED");
    ck_assert_int_eq(async_task_result(&task), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&d.t), 0);
    ck_assert_uint_eq(async_loop_now(&loop), 10);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
    ck_assert_int_eq(async_loop_close(&loop), 0);
}
END_TEST

/* --------------------------------------------------------------- turns */

/* Runs turns while anything is ready, tracing "|<n>" after each turn with
 * the number of tasks and callbacks it ran. */
static void run_turns_traced(void)
{
    int turns = 0;
    while (async_loop_next_timeout(&loop) == 0) {
        trace("|%d", async_loop_run_once(&loop));
        ck_assert_int_lt(++turns, 100);
    }
}

START_TEST(a_turn_resumes_each_ready_task_once_and_yield_is_fifo)
{
    static struct stepper a = {.name = "A", .steps = 3};
    static struct stepper b = {.name = "B", .steps = 1};
    static struct stepper c = {.name = "C", .steps = 2};
    static async_task_t ta, tb, tc;

    ck_assert_int_eq(async_task_create(&loop, &ta, stepper, &a), 0);
    ck_assert_int_eq(async_task_create(&loop, &tb, stepper, &b), 0);
    ck_assert_int_eq(async_task_create(&loop, &tc, stepper, &c), 0);
    run_turns_traced();
    /* A yielder goes behind every task that was ready: B and C each get
     * one step between two steps of A, and no task runs twice a turn. */
    ck_assert_str_eq(TRACE, "A0 B0 C0 |3 A1 B. C1 |3 A2 C. |2 A. |1");
}
END_TEST

/* Creates D in the middle of a turn, then yields. */
struct spawn_mid {
    async_frame_t co;
    struct stepper d;
    async_task_t td;
};

static int spawn_mid(async_loop_t *l, void *frame)
{
    struct spawn_mid *s = frame;
    ASYNC_BEGIN(l, s);
    s->d.name = "D";
    s->d.steps = 1;
    ck_assert_int_eq(async_task_create(l, &s->td, stepper, &s->d), 0);
    trace("S+D:%d", async_task_state(&s->td));
    AWAIT(async_yield(l));
    trace("S.");
    ASYNC_END;
}

START_TEST(tasks_created_during_a_turn_start_on_a_later_turn)
{
    static struct spawn_mid s;
    static struct stepper b = {.name = "B", .steps = 2};
    static async_task_t ts, tb;
    char expect[64];

    ck_assert_int_eq(async_task_create(&loop, &ts, spawn_mid, &s), 0);
    ck_assert_int_eq(async_task_create(&loop, &tb, stepper, &b), 0);
    run_turns_traced();
    /* D is queued when S creates it, ahead of S's own yield. */
    snprintf(expect, sizeof expect, "S+D:%d B0 |2 D0 S. B1 |3 D. B. |2",
             ASYNC_TASK_PENDING);
    ck_assert_str_eq(TRACE, expect);
}
END_TEST

/* ---------------------------------------------------------------- time */

static void noop_cb(async_loop_t *l, async_callback_t *cb)
{
    (void)l;
    (void)cb;
    trace("cb");
}

START_TEST(next_timeout_is_zero_when_ready_else_ticks_to_the_deadline_else_forever)
{
    static struct sleeper s = {.name = "s", .ticks = 7};
    static async_task_t t;
    static async_callback_t cb;

    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
    ck_assert_uint_eq(async_loop_next_timeout(NULL), ASYNC_FOREVER);
    ck_assert_int_eq(async_task_create(&loop, &t, sleeper, &s), 0);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 0); /* a new task */
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 7);

    /* A queued callback is work too; running it takes no time. */
    ck_assert_int_eq(async_callback_init(&cb, noop_cb, NULL), 0);
    ck_assert_int_eq(async_call_soon(&loop, &cb), 0);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_uint_eq(async_loop_now(&loop), 0);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 7);

    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_str_eq(TRACE, "cb s@7");
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
}
END_TEST

START_TEST(virtual_time_jumps_straight_to_the_next_deadline)
{
    static const async_tick_t delays[] = {5, 1000, 1, ASYNC_MAX_DELAY};
    static struct hopper h = {.delays = delays, .n = 4};
    static async_task_t t;
    async_tick_t expect = 0;
    int i;

    ck_assert_int_eq(async_task_create(&loop, &t, hopper, &h), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    /* One turn per deadline: the clock never ticks through the gaps. */
    for (i = 0; i < h.n; i++) {
        ck_assert_uint_eq(async_loop_next_timeout(&loop), delays[i]);
        ck_assert_int_eq(async_loop_run_once(&loop), 1);
        expect = (async_tick_t)(expect + delays[i]);
        ck_assert_uint_eq(async_loop_now(&loop), expect);
    }
    ck_assert_int_eq(async_task_state(&t), ASYNC_TASK_DONE);
}
END_TEST

/* --------------------------------------------------------------- close */

START_TEST(close_refuses_while_anything_is_registered)
{
    static async_loop_t never_initialised;
    static struct sleeper s = {.name = "s", .ticks = 2};
    static struct waiter w = {.name = "w"};
    static async_event_t ev;
    static async_task_t ts, tw;
    static async_callback_t cb;

    ck_assert_int_eq(async_loop_close(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_loop_close(&never_initialised), ASYNC_EINVAL);

    /* A task not yet started, then sleeping on a timer. */
    ck_assert_int_eq(async_task_create(&loop, &ts, sleeper, &s), 0);
    ck_assert_int_eq(async_loop_close(&loop), ASYNC_EBUSY);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_task_state(&ts), ASYNC_TASK_SLEEPING);
    ck_assert_int_eq(async_loop_close(&loop), ASYNC_EBUSY);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_loop_close(&loop), 0);

    /* A task waiting without any timer. */
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    w.ev = &ev;
    ck_assert_int_eq(async_task_create(&loop, &tw, waiter, &w), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_task_state(&tw), ASYNC_TASK_WAITING);
    ck_assert_int_eq(async_loop_close(&loop), ASYNC_EBUSY);
    ck_assert_int_eq(async_event_set(&ev), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_loop_close(&loop), 0);

    /* A queued callback, with no task at all. */
    ck_assert_int_eq(async_callback_init(&cb, noop_cb, NULL), 0);
    ck_assert_int_eq(async_call_soon(&loop, &cb), 0);
    ck_assert_int_eq(async_loop_close(&loop), ASYNC_EBUSY);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_loop_close(&loop), 0);
    ck_assert_str_eq(TRACE, "s@2 w set cb");
}
END_TEST

/* ----------------------------------------------------------- embedding */

/* The scenario: main starts two workers, then awaits each of them. */
struct scenario {
    async_frame_t co;
    struct sleeper a, b;
    async_task_t ta, tb;
    int ra, rb;
};

static int scenario(async_loop_t *l, void *frame)
{
    struct scenario *s = frame;
    ASYNC_BEGIN(l, s);
    memset(&s->a, 0, sizeof s->a);
    memset(&s->b, 0, sizeof s->b);
    s->a.name = "a";
    s->a.ticks = 4;
    s->a.result = 1;
    s->b.name = "b";
    s->b.ticks = 9;
    s->b.result = 2;
    ck_assert_int_eq(async_task_create(l, &s->ta, sleeper, &s->a), 0);
    ck_assert_int_eq(async_task_create(l, &s->tb, sleeper, &s->b), 0);
    trace("main waits");
    AWAIT_VALUE(s->ra, async_task_wait(l, &s->ta));
    trace("main got %d@%lu", s->ra, (unsigned long)async_loop_now(l));
    AWAIT(async_sleep(l, 2));
    trace("main slept@%lu", (unsigned long)async_loop_now(l));
    AWAIT_VALUE(s->rb, async_task_wait(l, &s->tb));
    trace("main got %d@%lu", s->rb, (unsigned long)async_loop_now(l));
    ASYNC_RETURN(s->ra * 10 + s->rb);
    ASYNC_END;
}

START_TEST(a_superloop_with_run_once_and_next_timeout_matches_run)
{
    static struct scenario s;
    static async_task_t task;
    static struct fake_clock clock;
    static const async_port_t port = {fake_now, NULL, NULL, &clock};
    char with_run[sizeof trace_buf];
    int result, turns = 0;

    result = async_loop_run(&loop, &task, scenario, &s);
    ck_assert_int_eq(result, 12);
    strcpy(with_run, TRACE);
    ck_assert_str_eq(with_run, "main waits a@4 main got 1@4 main slept@6 b@9 "
                               "main got 2@9");

    /* Again from scratch, on a clock that moves only when the superloop
     * "blocks" for the timeout the loop asked for, as poll() or a WFI
     * with a timer interrupt would. */
    trace_buf[0] = '\0';
    ck_assert_int_eq(async_loop_init(&loop, timers, TEST_TIMERS), 0);
    ck_assert_int_eq(async_loop_set_port(&loop, &port), 0);
    ck_assert_int_eq(async_task_create(&loop, &task, scenario, &s), 0);
    while (async_task_state(&task) != ASYNC_TASK_DONE) {
        async_tick_t wait = async_loop_next_timeout(&loop);
        ck_assert_uint_ne(wait, ASYNC_FOREVER); /* would block for ever */
        clock.now = (async_tick_t)(clock.now + wait);
        async_loop_run_once(&loop);
        ck_assert_int_lt(++turns, 100);
    }
    ck_assert_int_eq(async_task_result(&task), result);
    ck_assert_str_eq(TRACE, with_run);
    ck_assert_uint_eq(clock.now, 9);
}
END_TEST

/* ----------------------------------------------------------- callbacks */

START_TEST(call_soon_runs_callbacks_next_turn_in_fifo_order_before_tasks)
{
    static async_callback_t c1, c2, c3, c4;
    static struct note n1 = {"c1", NULL}, n2 = {"c2", &c4}, n3 = {"c3", NULL},
                       n4 = {"c4", NULL};
    static struct stepper t = {.name = "T", .steps = 1};
    static async_task_t tt;

    ck_assert_int_eq(async_callback_init(&c1, note_cb, &n1), 0);
    ck_assert_int_eq(async_callback_init(&c2, note_cb, &n2), 0);
    ck_assert_int_eq(async_callback_init(&c3, note_cb, &n3), 0);
    ck_assert_int_eq(async_callback_init(&c4, note_cb, &n4), 0);
    ck_assert_int_eq(async_task_create(&loop, &tt, stepper, &t), 0);
    ck_assert_int_eq(async_call_soon(&loop, &c1), 0);
    ck_assert_int_eq(async_call_soon(&loop, &c2), 0);
    ck_assert_int_eq(async_call_soon(&loop, &c3), 0);
    ck_assert_str_eq(TRACE, ""); /* nothing runs inside call_soon */

    /* c4, queued by c2 while the turn runs, waits for the next turn. */
    run_turns_traced();
    ck_assert_str_eq(TRACE, "c1 c2 c3 T0 |4 c4 T. |2");
}
END_TEST

START_TEST(a_callback_queued_twice_is_refused_and_runs_once)
{
    static async_callback_t c1, unset;
    static struct note n1 = {"c1", NULL};

    ck_assert_int_eq(async_callback_init(&c1, note_cb, &n1), 0);
    ck_assert_int_eq(async_call_soon(&loop, &c1), 0);
    ck_assert_int_eq(async_call_soon(&loop, &c1), ASYNC_EBUSY);
    ck_assert_int_eq(async_callback_init(&c1, note_cb, NULL), ASYNC_EBUSY);
    ck_assert_ptr_eq(c1.arg, &n1);
    run_turns_traced();
    ck_assert_str_eq(TRACE, "c1 |1");

    /* Once it has run it may be queued again. */
    ck_assert_int_eq(async_call_soon(&loop, &c1), 0);
    run_turns_traced();
    ck_assert_str_eq(TRACE, "c1 |1 c1 |1");

    ck_assert_int_eq(async_call_soon(NULL, &c1), ASYNC_EINVAL);
    ck_assert_int_eq(async_call_soon(&loop, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_call_soon(&loop, &unset), ASYNC_EINVAL);
    ck_assert_int_eq(async_callback_init(NULL, note_cb, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_callback_init(&unset, NULL, NULL), ASYNC_EINVAL);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
}
END_TEST

/* A loop not yet initialised (zeroed, as static storage is) has nowhere
 * to queue: call_soon refuses it and leaves the callback free, so it can
 * be queued once the loop is ready. (async_post cannot tell: it may read
 * nothing the loop thread writes.) */
START_TEST(call_soon_refuses_a_loop_not_yet_initialised)
{
    static async_loop_t zeroed;
    static async_callback_t c1;
    static struct note n1 = {"c1", NULL};

    ck_assert_int_eq(async_callback_init(&c1, note_cb, &n1), 0);
    ck_assert_int_eq(async_call_soon(&zeroed, &c1), ASYNC_EINVAL);
    ck_assert_ptr_null(zeroed.calls);
    /* Still free: it queues on a ready loop and runs once. */
    ck_assert_int_eq(async_call_soon(&loop, &c1), 0);
    run_turns_traced();
    ck_assert_str_eq(TRACE, "c1 |1");
}
END_TEST

/* ---------------------------------------------------------- port, time */

START_TEST(a_port_clock_drives_time_instead_of_virtual_jumps)
{
    static struct fake_clock clock = {.now = 1000};
    static const async_port_t port = {fake_now, fake_idle, NULL, &clock};
    static struct sleeper s = {.name = "s", .ticks = 10};
    static async_task_t t;

    ck_assert_int_eq(async_loop_set_port(&loop, &port), 0);
    ck_assert_uint_eq(async_loop_now(&loop), 1000); /* read at once */
    ck_assert_int_eq(async_task_create(&loop, &t, sleeper, &s), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);

    /* Nothing is due and the clock stands still: no jump, nothing runs. */
    ck_assert_int_eq(async_loop_run_once(&loop), 0);
    ck_assert_uint_eq(async_loop_now(&loop), 1000);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 10);

    clock.now = 1004;
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 6);
    ck_assert_int_eq(async_loop_run_once(&loop), 0);
    ck_assert_uint_eq(async_loop_now(&loop), 1004);

    /* The clock passes the deadline: the task wakes at the clock's tick. */
    clock.now = 1013;
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_str_eq(TRACE, "s@1013"); /* idle is never called by run_once */
}
END_TEST

START_TEST(a_deadline_passed_by_up_to_half_the_tick_range_is_due)
{
    /* A loop may fall behind its clock. A deadline the clock has passed
     * by ASYNC_FOREVER / 2 ticks is still due; one tick more and it would
     * read as a deadline in the future (the tick range wraps). */
    static struct fake_clock clock = {.now = 1000};
    static const async_port_t port = {fake_now, fake_idle, NULL, &clock};
    static struct sleeper s = {.name = "s", .ticks = 10};
    static async_task_t t;

    ck_assert_int_eq(async_loop_set_port(&loop, &port), 0);
    ck_assert_int_eq(async_task_create(&loop, &t, sleeper, &s), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    clock.now = (async_tick_t)(1010u + ASYNC_FOREVER / 2u);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(async_task_result(&t), 0);
}
END_TEST

START_TEST(run_with_a_port_idles_until_each_deadline)
{
    static struct fake_clock clock = {.now = 0, .late = 2};
    static const async_port_t port = {fake_now, fake_idle, NULL, &clock};
    static const async_tick_t delays[] = {10, 5};
    static struct hopper h = {.delays = delays, .n = 2};
    static async_task_t t;

    ck_assert_int_eq(async_loop_set_port(&loop, &port), 0);
    ck_assert_int_eq(async_loop_run(&loop, &t, hopper, &h), 0);
    /* Each wakeup comes 2 ticks late; the next sleep counts from then. */
    ck_assert_str_eq(TRACE, "idle10 @12 idle5 @19");
}
END_TEST

START_TEST(set_port_refuses_a_port_without_a_clock)
{
    static struct fake_clock clock;
    static const async_port_t port = {fake_now, fake_idle, NULL, &clock};
    static const async_port_t no_clock = {NULL, fake_idle, NULL, &clock};

    ck_assert_int_eq(async_loop_set_port(&loop, &no_clock), ASYNC_EINVAL);
    ck_assert_int_eq(async_loop_set_port(NULL, &port), ASYNC_EINVAL);
    /* Still on virtual time: setting the clock works. */
    ck_assert_int_eq(async_loop_set_time(&loop, 5), 0);

    ck_assert_int_eq(async_loop_set_port(&loop, &port), 0);
    ck_assert_int_eq(async_loop_set_time(&loop, 5), ASYNC_EINVAL);
    ck_assert_uint_eq(async_loop_now(&loop), 0); /* the port's clock */

    /* NULL goes back to virtual time, which keeps the last tick. */
    ck_assert_int_eq(async_loop_set_port(&loop, NULL), 0);
    ck_assert_int_eq(async_loop_set_time(&loop, 5), 0);
    ck_assert_uint_eq(async_loop_now(&loop), 5);
}
END_TEST

START_TEST(set_time_refuses_while_timers_are_pending)
{
    static struct sleeper s = {.name = "s", .ticks = 10};
    static async_task_t t;

    ck_assert_int_eq(async_loop_set_time(NULL, 1), ASYNC_EINVAL);
    ck_assert_int_eq(async_loop_set_time(&loop, 50), 0);
    ck_assert_uint_eq(async_loop_now(&loop), 50);
    ck_assert_int_eq(async_task_create(&loop, &t, sleeper, &s), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);

    ck_assert_int_eq(async_loop_set_time(&loop, 0), ASYNC_EBUSY);
    ck_assert_uint_eq(async_loop_now(&loop), 50);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), 10);

    run_until_idle();
    ck_assert_str_eq(TRACE, "s@60");
    ck_assert_int_eq(async_loop_set_time(&loop, 0), 0);
    ck_assert_uint_eq(async_loop_now(&loop), 0);
}
END_TEST

static Suite *loop_suite(void)
{
    Suite *s = suite_create("loop");
    TCase *tc;

    tc = loop_tcase("init");
    tcase_add_test(tc, init_refuses_a_null_loop_or_a_null_heap_with_capacity);
    tcase_add_test(tc, run_once_on_a_null_or_uninitialised_loop_is_einval);
    tcase_add_test(tc, reinit_with_live_tasks_is_refused_and_changes_nothing);
    suite_add_tcase(s, tc);

    tc = loop_tcase("run");
    tcase_add_test(tc, run_returns_the_result_of_main);
    tcase_add_test(tc, run_cancels_and_finishes_tasks_left_pending_after_main);
    tcase_add_test(tc, run_runs_the_callbacks_left_queued_when_main_returns);
    tcase_add_test(tc, run_reports_a_deadlock_and_leaves_the_loop_empty);
    tcase_add_test(tc, run_returns_when_a_leftover_cleanup_can_never_end);
    tcase_add_test(tc, run_cancels_tasks_created_by_the_cleanup_of_leftovers);
    tcase_add_test(tc, run_and_run_once_from_a_task_are_refused);
    tcase_add_test(tc, run_cancels_tasks_created_by_callbacks_of_leftovers);
    tcase_add_test(tc, run_and_run_once_from_a_callback_are_refused);
    suite_add_tcase(s, tc);

    tc = loop_tcase("turns");
    tcase_add_test(tc, a_turn_resumes_each_ready_task_once_and_yield_is_fifo);
    tcase_add_test(tc, tasks_created_during_a_turn_start_on_a_later_turn);
    suite_add_tcase(s, tc);

    tc = loop_tcase("time");
    tcase_add_test(tc, next_timeout_is_zero_when_ready_else_ticks_to_the_deadline_else_forever);
    tcase_add_test(tc, virtual_time_jumps_straight_to_the_next_deadline);
    tcase_add_test(tc, a_port_clock_drives_time_instead_of_virtual_jumps);
    tcase_add_test(tc, a_deadline_passed_by_up_to_half_the_tick_range_is_due);
    tcase_add_test(tc, run_with_a_port_idles_until_each_deadline);
    tcase_add_test(tc, set_port_refuses_a_port_without_a_clock);
    tcase_add_test(tc, set_time_refuses_while_timers_are_pending);
    suite_add_tcase(s, tc);

    tc = loop_tcase("close");
    tcase_add_test(tc, close_refuses_while_anything_is_registered);
    suite_add_tcase(s, tc);

    tc = loop_tcase("embedding");
    tcase_add_test(tc, a_superloop_with_run_once_and_next_timeout_matches_run);
    suite_add_tcase(s, tc);

    tc = loop_tcase("callbacks");
    tcase_add_test(tc, call_soon_runs_callbacks_next_turn_in_fifo_order_before_tasks);
    tcase_add_test(tc, call_soon_refuses_a_loop_not_yet_initialised);
    tcase_add_test(tc, a_callback_queued_twice_is_refused_and_runs_once);
    suite_add_tcase(s, tc);

    return s;
}

TEST_MAIN(loop_suite)
