/* SPDX-License-Identifier: MIT */
/*
 * Event, lock and semaphore (asyncio's synchronisation primitives): waiters
 * are served first come, first served; a lock or permit handed to a waiter
 * that is cancelled before it runs goes to the next waiter; misuse returns
 * the documented code and changes nothing.
 */
#include "harness.h"

static async_event_t ev;
static async_lock_t lock;
static async_semaphore_t sem;

/* Which primitive a worker uses. */
enum { ON_EVENT, ON_LOCK, ON_SEM };

/* A worker sleeps `delay` ticks first (so the order in which workers
 * arrive can differ from the order they were created), then waits on a
 * primitive. Holding the lock or a permit, it stays `hold` ticks before
 * releasing (a hold of 0 is a yield). */
struct worker {
    async_frame_t co;
    int id, on, delay, hold, rc;
};

static int worker(async_loop_t *l, void *frame)
{
    struct worker *w = frame;
    ASYNC_BEGIN(l, w);
    if (w->delay)
        AWAIT(async_sleep(l, (async_tick_t)w->delay));
    trace("w%d waits", w->id);
    if (w->on == ON_EVENT) {
        AWAIT_TRY(w->rc, async_event_wait(l, &ev));
    } else if (w->on == ON_LOCK) {
        AWAIT_TRY(w->rc, async_lock_acquire(l, &lock));
    } else {
        AWAIT_TRY(w->rc, async_semaphore_acquire(l, &sem));
    }
    if (w->rc < 0) {
        trace("w%d %s", w->id, async_strerror_name(w->rc));
        ASYNC_RETURN(w->rc);
    }
    trace("w%d in@%u", w->id, (unsigned)async_loop_now(l));
    if (w->on == ON_EVENT)
        ASYNC_RETURN(0);
    AWAIT(async_sleep(l, (async_tick_t)w->hold));
    trace("w%d out@%u", w->id, (unsigned)async_loop_now(l));
    if (w->on == ON_LOCK)
        ck_assert_int_eq(async_lock_release(l, &lock), 0);
    else
        ck_assert_int_eq(async_semaphore_release(&sem), 0);
    ASYNC_END;
}

#define MAX_WORKERS 4
static struct worker wf[MAX_WORKERS];
static async_task_t wt[MAX_WORKERS];

/* Create worker i (id i + 1). */
static void start_worker(int i, int on, int delay, int hold)
{
    wf[i].id = i + 1;
    wf[i].on = on;
    wf[i].delay = delay;
    wf[i].hold = hold;
    ck_assert_int_eq(async_task_create(&loop, &wt[i], worker, &wf[i]), 0);
}

/* ------------------------------------------------------------ event */

/* Waits on a set event and traces around it: another task would run in
 * between had the wait suspended. */
static int check_set(async_loop_t *l, void *frame)
{
    struct worker *w = frame;
    ASYNC_BEGIN(l, w);
    trace("a1");
    AWAIT_TRY(w->rc, async_event_wait(l, &ev));
    trace("a2=%d", w->rc);
    ASYNC_END;
}

/* Never awaits, so it needs no coroutine macros. */
static int say_b(async_loop_t *l, void *frame)
{
    (void)l;
    (void)frame;
    trace("b");
    return 0;
}

START_TEST(event_wait_returns_at_once_when_set)
{
    static struct worker a, b;
    static async_task_t ta, tb;
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    ck_assert_int_eq(async_event_set(&ev), 0);
    ck_assert_int_eq(async_task_create(&loop, &ta, check_set, &a), 0);
    ck_assert_int_eq(async_task_create(&loop, &tb, say_b, &b), 0);
    async_loop_run_once(&loop);
    ck_assert_str_eq(TRACE, "a1 a2=0 b");
    ck_assert_int_eq(async_event_is_set(&ev), 1);
}
END_TEST

START_TEST(event_set_wakes_every_waiter_in_arrival_order)
{
    /* Created 1, 2, 3; they arrive 3, 1, 2. */
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    start_worker(0, ON_EVENT, 2, 0);
    start_worker(1, ON_EVENT, 3, 0);
    start_worker(2, ON_EVENT, 1, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w3 waits w1 waits w2 waits");
    ck_assert_int_eq(async_event_is_set(&ev), 0);
    ck_assert_int_eq(async_event_set(&ev), 0);
    ck_assert_int_eq(async_event_is_set(&ev), 1);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w3 waits w1 waits w2 waits w3 in@3 w1 in@3 w2 in@3");
}
END_TEST

START_TEST(event_clear_makes_later_waiters_wait_again)
{
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    ck_assert_int_eq(async_event_set(&ev), 0);
    ck_assert_int_eq(async_event_clear(&ev), 0);
    ck_assert_int_eq(async_event_is_set(&ev), 0);
    start_worker(0, ON_EVENT, 0, 0);
    run_until_idle();
    ck_assert_int_eq(async_task_state(&wt[0]), ASYNC_TASK_WAITING);
    ck_assert_int_eq(async_event_set(&ev), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits w1 in@0");
}
END_TEST

START_TEST(waiters_woken_by_set_return_0_even_if_cleared_before_they_run)
{
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    start_worker(0, ON_EVENT, 0, 0);
    start_worker(1, ON_EVENT, 0, 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_event_set(&ev), 0);
    ck_assert_int_eq(async_event_clear(&ev), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits w2 waits w1 in@0 w2 in@0");
    ck_assert_int_eq(async_task_result(&wt[0]), 0);
    ck_assert_int_eq(async_task_result(&wt[1]), 0);
    ck_assert_int_eq(async_event_is_set(&ev), 0);
}
END_TEST

START_TEST(event_init_while_waited_on_is_busy_and_changes_nothing)
{
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    start_worker(0, ON_EVENT, 0, 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_event_init(&ev, &loop), ASYNC_EBUSY);
    ck_assert_int_eq(async_task_state(&wt[0]), ASYNC_TASK_WAITING);
    ck_assert_int_eq(async_event_set(&ev), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits w1 in@0");
}
END_TEST

/* ------------------------------------------------------------- lock */

START_TEST(lock_excludes_across_awaits)
{
    /* Each holds the lock for 2 ticks of sleeping: the critical sections
     * must follow one another, never interleave. */
    int i;
    ck_assert_int_eq(async_lock_init(&lock, &loop), 0);
    for (i = 0; i < 3; i++)
        start_worker(i, ON_LOCK, 0, 2);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits w1 in@0 w2 waits w3 waits "
                            "w1 out@2 w2 in@2 w2 out@4 w3 in@4 w3 out@6");
    ck_assert_int_eq(async_lock_locked(&lock), 0);
}
END_TEST

/* Holds the lock until tick 5, then releases it; a second task (the
 * barger) wakes in the same turn, right after the release, and tries to
 * take it before the woken waiter has run. */
static int holder(async_loop_t *l, void *frame)
{
    ASYNC_BEGIN(l, frame);
    AWAIT(async_lock_acquire(l, &lock));
    AWAIT(async_sleep(l, 5));
    ck_assert_int_eq(async_lock_release(l, &lock), 0);
    trace("h released");
    /* Handed over, not free: nobody can take it in between. */
    ck_assert_int_eq(async_lock_locked(&lock), 1);
    ASYNC_END;
}

START_TEST(lock_is_fifo_and_a_later_arrival_cannot_barge)
{
    static struct worker h;
    static async_task_t th;
    ck_assert_int_eq(async_lock_init(&lock, &loop), 0);
    ck_assert_int_eq(async_task_create(&loop, &th, holder, &h), 0);
    start_worker(0, ON_LOCK, 3, 0); /* arrives second */
    start_worker(1, ON_LOCK, 1, 0); /* arrives first */
    start_worker(2, ON_LOCK, 5, 0); /* the barger: wakes right after h */
    run_until_idle();
    ck_assert_str_eq(TRACE, "w2 waits w1 waits h released w3 waits "
                            "w2 in@5 w2 out@5 w1 in@5 w1 out@5 w3 in@5 w3 out@5");
    ck_assert_int_eq(async_lock_locked(&lock), 0);
}
END_TEST

/* Misuse by tasks: releasing a lock it does not hold, taking it twice. */
struct misuser {
    async_frame_t co;
    int rc, rc2;
};

static int release_not_owner(async_loop_t *l, void *frame)
{
    struct misuser *m = frame;
    m->rc = async_lock_release(l, &lock);
    return 0;
}

START_TEST(release_by_non_owner_is_refused_and_changes_nothing)
{
    static struct misuser m, m2;
    static async_task_t tm, tm2;
    ck_assert_int_eq(async_lock_init(&lock, &loop), 0);
    /* Free lock: nobody owns it. */
    ck_assert_int_eq(async_task_create(&loop, &tm, release_not_owner, &m), 0);
    run_until_idle();
    ck_assert_int_eq(m.rc, ASYNC_ESTATE);
    ck_assert_int_eq(async_lock_locked(&lock), 0);

    /* Held by w1 (for 4 ticks), with w2 waiting; a third task releases. */
    start_worker(0, ON_LOCK, 0, 4);
    start_worker(1, ON_LOCK, 0, 0);
    ck_assert_int_eq(async_task_create(&loop, &tm2, release_not_owner, &m2), 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(m2.rc, ASYNC_ESTATE);
    ck_assert_int_eq(async_lock_locked(&lock), 1);
    ck_assert_int_eq(async_task_state(&wt[1]), ASYNC_TASK_WAITING);
    /* Outside any task, the caller does not hold it either. */
    ck_assert_int_eq(async_lock_release(&loop, &lock), ASYNC_ESTATE);
    ck_assert_int_eq(async_lock_locked(&lock), 1);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits w1 in@0 w2 waits w1 out@4 w2 in@4 w2 out@4");
    ck_assert_int_eq(async_lock_locked(&lock), 0);
}
END_TEST

static int acquire_twice(async_loop_t *l, void *frame)
{
    struct misuser *m = frame;
    ASYNC_BEGIN(l, m);
    AWAIT(async_lock_acquire(l, &lock));
    AWAIT_TRY(m->rc, async_lock_acquire(l, &lock));
    m->rc2 = async_lock_locked(&lock);
    /* Still the owner: one release frees it. */
    ck_assert_int_eq(async_lock_release(l, &lock), 0);
    ASYNC_END;
}

START_TEST(acquire_while_holding_is_busy)
{
    static struct misuser m;
    static async_task_t tm;
    ck_assert_int_eq(async_lock_init(&lock, &loop), 0);
    ck_assert_int_eq(async_task_create(&loop, &tm, acquire_twice, &m), 0);
    run_until_idle();
    ck_assert_int_eq(m.rc, ASYNC_EBUSY);
    ck_assert_int_eq(m.rc2, 1);
    ck_assert_int_eq(async_lock_locked(&lock), 0);
}
END_TEST

/* Releases the lock (or a permit) and at once cancels the task it was
 * handed to, before that task can run. */
struct handoff {
    async_frame_t co;
    int on;
    async_task_t *victim;
};

static int release_then_cancel(async_loop_t *l, void *frame)
{
    struct handoff *h = frame;
    ASYNC_BEGIN(l, h);
    if (h->on == ON_LOCK) {
        AWAIT(async_lock_acquire(l, &lock));
        AWAIT(async_sleep(l, 1));
        ck_assert_int_eq(async_lock_release(l, &lock), 0);
    } else {
        AWAIT(async_sleep(l, 1));
        ck_assert_int_eq(async_semaphore_release(&sem), 0);
    }
    ck_assert_int_eq(async_task_state(h->victim), ASYNC_TASK_READY);
    ck_assert_int_eq(async_task_cancel(l, h->victim), 1);
    trace("released, cancelled w%d", (int)(h->victim - wt) + 1);
    ASYNC_END;
}

START_TEST(a_lock_handed_to_a_cancelled_waiter_passes_to_the_next)
{
    static struct handoff h;
    static async_task_t th;
    ck_assert_int_eq(async_lock_init(&lock, &loop), 0);
    h.on = ON_LOCK;
    h.victim = &wt[0];
    ck_assert_int_eq(async_task_create(&loop, &th, release_then_cancel, &h), 0);
    start_worker(0, ON_LOCK, 0, 0);
    start_worker(1, ON_LOCK, 0, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits w2 waits released, cancelled w1 "
                            "w1 ASYNC_ECANCELED w2 in@1 w2 out@1");
    ck_assert_int_eq(async_task_result(&wt[0]), ASYNC_ECANCELED);
    ck_assert_int_eq(async_task_result(&wt[1]), 0);
    ck_assert_int_eq(async_lock_locked(&lock), 0);
}
END_TEST

START_TEST(a_lock_handed_to_the_only_waiter_then_cancelled_ends_free)
{
    static struct handoff h;
    static async_task_t th;
    ck_assert_int_eq(async_lock_init(&lock, &loop), 0);
    h.on = ON_LOCK;
    h.victim = &wt[0];
    ck_assert_int_eq(async_task_create(&loop, &th, release_then_cancel, &h), 0);
    start_worker(0, ON_LOCK, 0, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits released, cancelled w1 w1 ASYNC_ECANCELED");
    ck_assert_int_eq(async_lock_locked(&lock), 0);
}
END_TEST

/* -------------------------------------------------------- semaphore */

/* Takes `rc` permits without blocking, tracing the value after each. */
static int take_permits(async_loop_t *l, void *frame)
{
    struct misuser *m = frame;
    ASYNC_BEGIN(l, m);
    for (; m->rc > 0; m->rc--) {
        AWAIT(async_semaphore_acquire(l, &sem));
        trace("v=%d", async_semaphore_value(&sem));
    }
    ASYNC_END;
}

START_TEST(semaphore_counts_permits_and_blocks_at_zero)
{
    static struct misuser m;
    static async_task_t tm;
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 2), 0);
    ck_assert_int_eq(async_semaphore_value(&sem), 2);
    m.rc = 2;
    ck_assert_int_eq(async_task_create(&loop, &tm, take_permits, &m), 0);
    async_loop_run_once(&loop);
    ck_assert_str_eq(TRACE, "v=1 v=0");
    ck_assert_int_eq(async_task_state(&tm), ASYNC_TASK_DONE);
    /* At zero a third acquire blocks until a release. */
    start_worker(0, ON_SEM, 0, 0);
    run_until_idle();
    ck_assert_int_eq(async_task_state(&wt[0]), ASYNC_TASK_WAITING);
    ck_assert_int_eq(async_semaphore_release(&sem), 0);
    ck_assert_int_eq(async_semaphore_value(&sem), 0); /* handed, not banked */
    run_until_idle();
    ck_assert_str_eq(TRACE, "v=1 v=0 w1 waits w1 in@0 w1 out@0");
    ck_assert_int_eq(async_semaphore_value(&sem), 1);
    ck_assert_int_eq(async_semaphore_release(&sem), 0);
    ck_assert_int_eq(async_semaphore_value(&sem), 2);
}
END_TEST

START_TEST(semaphore_release_serves_the_oldest_waiter)
{
    /* One permit, held 2 ticks at a time; created 1, 2, 3, arriving
     * 1 (takes it at once), 3, 2. */
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 1), 0);
    start_worker(0, ON_SEM, 0, 2);
    start_worker(1, ON_SEM, 1, 2);
    start_worker(2, ON_SEM, 0, 2);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits w1 in@0 w3 waits w2 waits "
                            "w1 out@2 w3 in@2 w3 out@4 w2 in@4 w2 out@6");
    ck_assert_int_eq(async_semaphore_value(&sem), 1);
}
END_TEST

START_TEST(a_permit_handed_to_a_cancelled_waiter_passes_to_the_next)
{
    static struct handoff h;
    static async_task_t th;
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 0), 0);
    h.on = ON_SEM;
    h.victim = &wt[0];
    ck_assert_int_eq(async_task_create(&loop, &th, release_then_cancel, &h), 0);
    start_worker(0, ON_SEM, 0, 0);
    start_worker(1, ON_SEM, 0, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits w2 waits released, cancelled w1 "
                            "w1 ASYNC_ECANCELED w2 in@1 w2 out@1");
    /* One permit was released into the system and w2 gave it back. */
    ck_assert_int_eq(async_semaphore_value(&sem), 1);
}
END_TEST

START_TEST(a_permit_handed_to_the_only_waiter_then_cancelled_is_banked)
{
    static struct handoff h;
    static async_task_t th;
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 0), 0);
    h.on = ON_SEM;
    h.victim = &wt[0];
    ck_assert_int_eq(async_task_create(&loop, &th, release_then_cancel, &h), 0);
    start_worker(0, ON_SEM, 0, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits released, cancelled w1 w1 ASYNC_ECANCELED");
    ck_assert_int_eq(async_semaphore_value(&sem), 1);
}
END_TEST

START_TEST(a_cancelled_semaphore_waiter_takes_no_permit)
{
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 0), 0);
    start_worker(0, ON_SEM, 0, 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_task_cancel(&loop, &wt[0]), 1);
    run_until_idle();
    ck_assert_int_eq(async_semaphore_release(&sem), 0);
    ck_assert_int_eq(async_semaphore_value(&sem), 1);
    ck_assert_str_eq(TRACE, "w1 waits w1 ASYNC_ECANCELED");
}
END_TEST

START_TEST(semaphore_release_overflow_is_refused_at_int_max)
{
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, INT_MAX), 0);
    ck_assert_int_eq(async_semaphore_release(&sem), ASYNC_ERANGE);
    ck_assert_int_eq(async_semaphore_value(&sem), INT_MAX);
    /* Values that do not fit the int the API reports are refused. */
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, (uint32_t)INT_MAX + 1u),
                     ASYNC_EINVAL);
    ck_assert_int_eq(async_semaphore_value(&sem), INT_MAX);
}
END_TEST

START_TEST(semaphore_init_while_waited_on_is_busy_and_changes_nothing)
{
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 0), 0);
    start_worker(0, ON_SEM, 0, 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 5), ASYNC_EBUSY);
    ck_assert_int_eq(async_semaphore_value(&sem), 0);
    ck_assert_int_eq(async_task_state(&wt[0]), ASYNC_TASK_WAITING);
    ck_assert_int_eq(async_semaphore_release(&sem), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits w1 in@0 w1 out@0");
}
END_TEST

/* Released to a waiter that has not run yet: the permit is in flight, so
 * a fresh value would hand out one permit too many. */
START_TEST(semaphore_init_while_a_permit_is_handed_is_busy)
{
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 0), 0);
    start_worker(0, ON_SEM, 0, 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_semaphore_release(&sem), 0);
    ck_assert_int_eq(async_task_state(&wt[0]), ASYNC_TASK_READY);
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 5), ASYNC_EBUSY);
    ck_assert_int_eq(async_semaphore_value(&sem), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits w1 in@0 w1 out@0");
    ck_assert_int_eq(async_semaphore_value(&sem), 1);
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 5), 0);
    ck_assert_int_eq(async_semaphore_value(&sem), 5);
}
END_TEST

/* The same, when the waiter is cancelled before it takes the permit: it
 * passes the permit on, and then nothing is in flight. */
START_TEST(semaphore_handed_permit_passed_on_by_a_cancelled_waiter)
{
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 0), 0);
    start_worker(0, ON_SEM, 0, 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_semaphore_release(&sem), 0);
    ck_assert_int_eq(async_task_cancel(&loop, &wt[0]), 1);
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 5), ASYNC_EBUSY);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits w1 ASYNC_ECANCELED");
    ck_assert_int_eq(async_semaphore_value(&sem), 1);
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 2), 0);
}
END_TEST

START_TEST(lock_init_while_held_is_busy_and_changes_nothing)
{
    start_worker(0, ON_LOCK, 0, 3);
    ck_assert_int_eq(async_lock_init(&lock, &loop), 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_lock_init(&lock, &loop), ASYNC_EBUSY);
    ck_assert_int_eq(async_lock_locked(&lock), 1);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w1 waits w1 in@0 w1 out@3");
    ck_assert_int_eq(async_lock_locked(&lock), 0);
}
END_TEST

/* ----------------------------------------------------------- misuse */

/* Awaits each primitive through NULL, then through the zeroed statics. */
struct bad_waits {
    async_frame_t co;
    int rc[6];
};

static async_event_t zero_ev;
static async_lock_t zero_lock;
static async_semaphore_t zero_sem;

static int bad_waits(async_loop_t *l, void *frame)
{
    struct bad_waits *b = frame;
    ASYNC_BEGIN(l, b);
    AWAIT_TRY(b->rc[0], async_event_wait(l, NULL));
    AWAIT_TRY(b->rc[1], async_lock_acquire(l, NULL));
    AWAIT_TRY(b->rc[2], async_semaphore_acquire(l, NULL));
    AWAIT_TRY(b->rc[3], async_event_wait(l, &zero_ev));
    AWAIT_TRY(b->rc[4], async_lock_acquire(l, &zero_lock));
    AWAIT_TRY(b->rc[5], async_semaphore_acquire(l, &zero_sem));
    ASYNC_END;
}

START_TEST(null_or_uninitialised_objects_are_refused)
{
    static struct bad_waits b;
    static async_task_t tb;
    int i;

    ck_assert_int_eq(async_event_init(NULL, &loop), ASYNC_EINVAL);
    ck_assert_int_eq(async_event_init(&zero_ev, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_event_set(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_event_set(&zero_ev), ASYNC_EINVAL);
    ck_assert_int_eq(async_event_clear(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_event_clear(&zero_ev), ASYNC_EINVAL);
    ck_assert_int_eq(async_event_is_set(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_event_is_set(&zero_ev), ASYNC_EINVAL);

    ck_assert_int_eq(async_lock_init(NULL, &loop), ASYNC_EINVAL);
    ck_assert_int_eq(async_lock_init(&zero_lock, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_lock_release(&loop, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_lock_release(&loop, &zero_lock), ASYNC_EINVAL);
    ck_assert_int_eq(async_lock_release(NULL, &zero_lock), ASYNC_EINVAL);
    ck_assert_int_eq(async_lock_locked(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_lock_locked(&zero_lock), ASYNC_EINVAL);

    ck_assert_int_eq(async_semaphore_init(NULL, &loop, 1), ASYNC_EINVAL);
    ck_assert_int_eq(async_semaphore_init(&zero_sem, NULL, 1), ASYNC_EINVAL);
    ck_assert_int_eq(async_semaphore_release(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_semaphore_release(&zero_sem), ASYNC_EINVAL);
    ck_assert_int_eq(async_semaphore_value(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_semaphore_value(&zero_sem), ASYNC_EINVAL);

    ck_assert_int_eq(async_task_create(&loop, &tb, bad_waits, &b), 0);
    run_until_idle();
    for (i = 0; i < 6; i++)
        ck_assert_int_eq(b.rc[i], ASYNC_EINVAL);
    ck_assert_int_eq(async_task_result(&tb), 0);

    /* The refused inits and releases left the objects uninitialised. */
    ck_assert_int_eq(async_event_is_set(&zero_ev), ASYNC_EINVAL);
    ck_assert_int_eq(async_lock_locked(&zero_lock), ASYNC_EINVAL);
    ck_assert_int_eq(async_semaphore_value(&zero_sem), ASYNC_EINVAL);
}
END_TEST

/* Objects of another loop would wake the task there: each wait and the
 * release are refused, and nothing is taken. */
static int foreign_waits(async_loop_t *l, void *frame)
{
    struct bad_waits *b = frame;
    ASYNC_BEGIN(l, b);
    AWAIT_TRY(b->rc[0], async_event_wait(l, &ev));
    AWAIT_TRY(b->rc[1], async_lock_acquire(l, &lock));
    AWAIT_TRY(b->rc[2], async_semaphore_acquire(l, &sem));
    b->rc[3] = async_lock_release(l, &lock);
    ASYNC_END;
}

START_TEST(another_loops_objects_are_refused_and_change_nothing)
{
    static async_loop_t other;
    static struct bad_waits b;
    static async_task_t tb;
    int i;
    ck_assert_int_eq(async_loop_init(&other, NULL, 0), 0);
    ck_assert_int_eq(async_event_init(&ev, &other), 0);
    ck_assert_int_eq(async_lock_init(&lock, &other), 0);
    ck_assert_int_eq(async_semaphore_init(&sem, &other, 1), 0);
    ck_assert_int_eq(async_event_set(&ev), 0); /* each could complete */
    ck_assert_int_eq(async_task_create(&loop, &tb, foreign_waits, &b), 0);
    run_until_idle();
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(b.rc[i], ASYNC_EINVAL);
    ck_assert_int_eq(async_lock_locked(&lock), 0);
    ck_assert_int_eq(async_semaphore_value(&sem), 1);
    ck_assert_int_eq(async_loop_close(&other), 0);
}
END_TEST

START_TEST(awaiting_outside_a_task_is_refused)
{
    ck_assert_int_eq(async_event_init(&ev, &loop), 0);
    ck_assert_int_eq(async_lock_init(&lock, &loop), 0);
    ck_assert_int_eq(async_semaphore_init(&sem, &loop, 1), 0);
    /* Even when each could complete at once. */
    ck_assert_int_eq(async_event_set(&ev), 0);
    ck_assert_int_eq(async_event_wait(&loop, &ev), ASYNC_ENOTASK);
    ck_assert_int_eq(async_lock_acquire(&loop, &lock), ASYNC_ENOTASK);
    ck_assert_int_eq(async_semaphore_acquire(&loop, &sem), ASYNC_ENOTASK);
    ck_assert_int_eq(async_event_wait(NULL, &ev), ASYNC_ENOTASK);
    ck_assert_int_eq(async_lock_acquire(NULL, &lock), ASYNC_ENOTASK);
    ck_assert_int_eq(async_semaphore_acquire(NULL, &sem), ASYNC_ENOTASK);
    /* Nothing was taken. */
    ck_assert_int_eq(async_lock_locked(&lock), 0);
    ck_assert_int_eq(async_semaphore_value(&sem), 1);
    ck_assert_int_eq(async_event_is_set(&ev), 1);
}
END_TEST

static Suite *sync_suite(void)
{
    Suite *s = suite_create("sync");
    TCase *tc = loop_tcase("event");
    tcase_add_test(tc, event_wait_returns_at_once_when_set);
    tcase_add_test(tc, event_set_wakes_every_waiter_in_arrival_order);
    tcase_add_test(tc, event_clear_makes_later_waiters_wait_again);
    tcase_add_test(tc, waiters_woken_by_set_return_0_even_if_cleared_before_they_run);
    tcase_add_test(tc, event_init_while_waited_on_is_busy_and_changes_nothing);
    suite_add_tcase(s, tc);

    tc = loop_tcase("lock");
    tcase_add_test(tc, lock_excludes_across_awaits);
    tcase_add_test(tc, lock_is_fifo_and_a_later_arrival_cannot_barge);
    tcase_add_test(tc, release_by_non_owner_is_refused_and_changes_nothing);
    tcase_add_test(tc, acquire_while_holding_is_busy);
    tcase_add_test(tc, a_lock_handed_to_a_cancelled_waiter_passes_to_the_next);
    tcase_add_test(tc, a_lock_handed_to_the_only_waiter_then_cancelled_ends_free);
    tcase_add_test(tc, semaphore_init_while_a_permit_is_handed_is_busy);
    tcase_add_test(tc, semaphore_handed_permit_passed_on_by_a_cancelled_waiter);
    tcase_add_test(tc, lock_init_while_held_is_busy_and_changes_nothing);
    suite_add_tcase(s, tc);

    tc = loop_tcase("semaphore");
    tcase_add_test(tc, semaphore_counts_permits_and_blocks_at_zero);
    tcase_add_test(tc, semaphore_release_serves_the_oldest_waiter);
    tcase_add_test(tc, a_permit_handed_to_a_cancelled_waiter_passes_to_the_next);
    tcase_add_test(tc, a_permit_handed_to_the_only_waiter_then_cancelled_is_banked);
    tcase_add_test(tc, a_cancelled_semaphore_waiter_takes_no_permit);
    tcase_add_test(tc, semaphore_release_overflow_is_refused_at_int_max);
    tcase_add_test(tc, semaphore_init_while_waited_on_is_busy_and_changes_nothing);
    suite_add_tcase(s, tc);

    tc = loop_tcase("misuse");
    tcase_add_test(tc, null_or_uninitialised_objects_are_refused);
    tcase_add_test(tc, awaiting_outside_a_task_is_refused);
    tcase_add_test(tc, another_loops_objects_are_refused_and_change_nothing);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(sync_suite)
