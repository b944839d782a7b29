/* SPDX-License-Identifier: MIT */
/*
 * async_to_thread (asyncio.to_thread): a blocking function runs on the
 * POSIX port's worker pool and its result comes back to the awaiting task;
 * jobs run in parallel up to the pool's size; a cancelled await waits
 * until the function has finished with the job (which lives in the task's
 * frame) and only then reports ASYNC_ECANCELED, discarding the result; a
 * job no worker has started is withdrawn; misuse is refused and changes
 * nothing. Every test ends with the loop empty and the pool joined.
 *
 * Functions that must stay running until the test says so wait on a gate
 * (a condition variable). No assertion depends on timing: where a test
 * needs a worker to have started, it waits for that, not for a delay.
 */
#include "posix_harness.h"

#include <stdlib.h>

/* ---------------------------------------------------------------- gates */

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;

/* A blocking function's argument: it says when it started and finished,
 * and waits until the gate is opened before it returns result. */
struct gate {
    int started, open, finished;
    int result;
    pthread_t ran_on;
};

static int gated(void *arg)
{
    struct gate *g = arg;
    g->ran_on = pthread_self(); /* read by the loop after the job ends */
    STORE(g->started, 1);
    pthread_mutex_lock(&gate_lock);
    while (!g->open)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    STORE(g->finished, 1);
    return g->result;
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&gate_lock);
    g->open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

/* Await every gate in g[0..n-1] having started, by yielding. */
struct until_started {
    async_frame_t co;
    struct gate *g;
    int n, i;
};

static int until_started(async_loop_t *l, void *frame)
{
    struct until_started *u = frame;
    ASYNC_BEGIN(l, u);
    for (u->i = 0; u->i < u->n; u->i++)
        while (!LOAD(u->g[u->i].started))
            AWAIT(async_yield(l));
    ASYNC_END;
}

/* A task that offloads gated(g) and records what it saw. */
struct offload {
    async_frame_t co;
    async_job_t job;
    struct gate *g;
    int rc;
    int finished_at_return; /* the gate's finished flag when the await returned */
};

static int offload(async_loop_t *l, void *frame)
{
    struct offload *o = frame;
    ASYNC_BEGIN(l, o);
    AWAIT_TRY(o->rc, async_to_thread(l, &o->job, gated, o->g));
    o->finished_at_return = LOAD(o->g->finished);
    trace("returned:%s", async_strerror_name(o->rc));
    ASYNC_RETURN(o->rc);
    ASYNC_END;
}

/* -------------------------------------------------------------- results */

struct square {
    async_frame_t co;
    async_job_t job;
    struct gate g;
    int n;
};

static int square_fn(void *arg)
{
    struct gate *g = arg;
    g->ran_on = pthread_self();
    return g->result * g->result;
}

static int square_main(async_loop_t *l, void *frame)
{
    struct square *s = frame;
    ASYNC_BEGIN(l, s);
    s->g.result = 7;
    AWAIT_VALUE(s->n, async_to_thread(l, &s->job, square_fn, &s->g));
    ASYNC_RETURN(s->n);
    ASYNC_END;
}

START_TEST(to_thread_returns_the_function_result)
{
    static struct square s;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, square_main, &s), 49);
    ck_assert(!pthread_equal(s.g.ran_on, pthread_self())); /* on a worker */
}
END_TEST

/* The function's error propagates through AWAIT like any error. */
struct failing {
    async_frame_t co;
    async_job_t job;
    int n;
};

static int fail_fn(void *arg)
{
    (void)arg;
    return ASYNC_EBUSY;
}

static int failing_main(async_loop_t *l, void *frame)
{
    struct failing *f = frame;
    ASYNC_BEGIN(l, f);
    AWAIT(async_to_thread(l, &f->job, fail_fn, NULL));
    trace("not reached");
    ASYNC_FINALLY;
    trace("cleanup:%s", async_strerror_name(ASYNC_RESULT));
    ASYNC_END;
}

START_TEST(an_error_from_the_function_propagates_through_await)
{
    static struct failing f;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, failing_main, &f),
                     ASYNC_EBUSY);
    ck_assert_str_eq(TRACE, "cleanup:ASYNC_EBUSY");
}
END_TEST

/* One job, awaited again and again from the same await in a loop. */
struct reuse {
    async_frame_t co;
    async_job_t job;
    struct gate g;
    int i, n, sum;
};

static int reuse_main(async_loop_t *l, void *frame)
{
    struct reuse *r = frame;
    ASYNC_BEGIN(l, r);
    for (r->i = 0; r->i < 50; r->i++) {
        r->g.result = r->i;
        AWAIT_VALUE(r->n, async_to_thread(l, &r->job, square_fn, &r->g));
        r->sum += r->n;
    }
    ASYNC_RETURN(r->sum);
    ASYNC_END;
}

START_TEST(a_job_can_be_reused_for_successive_awaits)
{
    static struct reuse r;
    static async_task_t task;
    int i, want = 0;
    for (i = 0; i < 50; i++)
        want += i * i;
    ck_assert_int_eq(async_loop_run(&loop, &task, reuse_main, &r), want);
}
END_TEST

/* ---------------------------------------------------------- parallelism */

/* Each function waits until all N have arrived: only a pool that runs them
 * at the same time lets them all return. A pool that ran them one by one
 * would leave the first waiting; after STALL_MS without a new arrival it
 * gives up and the test fails instead of hanging. */
static int arrived;

static int rendezvous(void *arg)
{
    int n = *(int *)arg;
    int order = ADD(arrived, 1), seen = order;
    uint64_t since = mono_ms();
    while (LOAD(arrived) < n) {
        if (LOAD(arrived) != seen) {
            seen = LOAD(arrived);
            since = mono_ms();
        } else if (mono_ms() - since > STALL_MS) {
            return ASYNC_ETIMEDOUT;
        }
        sched_yield();
    }
    return order; /* 1..n */
}

struct meet {
    async_frame_t co;
    async_job_t job;
    int n, rc;
};

static int meet_task(async_loop_t *l, void *frame)
{
    struct meet *m = frame;
    ASYNC_BEGIN(l, m);
    AWAIT_TRY(m->rc, async_to_thread(l, &m->job, rendezvous, &m->n));
    ASYNC_RETURN(m->rc);
    ASYNC_END;
}

#define N ASYNC_POSIX_WORKERS

struct overlap {
    async_frame_t co;
    async_task_t t[N];
    struct meet m[N];
    async_gather_t g;
    async_gather_slot_t slot[N];
    async_task_t *tp[N];
    int i;
};

static int overlap_main(async_loop_t *l, void *frame)
{
    struct overlap *o = frame;
    ASYNC_BEGIN(l, o);
    for (o->i = 0; o->i < N; o->i++) {
        o->m[o->i].n = N;
        o->tp[o->i] = &o->t[o->i];
        async_task_create(l, &o->t[o->i], meet_task, &o->m[o->i]);
    }
    async_gather_init(&o->g, o->slot, N, ASYNC_GATHER_ALL);
    AWAIT(async_gather(l, &o->g, o->tp));
    ASYNC_END;
}

START_TEST(jobs_run_in_parallel_up_to_the_pool_size)
{
    static struct overlap o;
    static async_task_t task;
    int i, sum = 0;
    ck_assert_int_eq(async_loop_run(&loop, &task, overlap_main, &o), 0);
    for (i = 0; i < N; i++) {
        ck_assert_int_ge(o.m[i].rc, 1); /* not ASYNC_ETIMEDOUT */
        sum += o.m[i].rc;
    }
    ck_assert_int_eq(sum, N * (N + 1) / 2); /* arrivals 1..N, once each */
}
END_TEST

/* More jobs than workers: they queue, never more than the pool runs at
 * once, and each returns its own result. */
static int running_now, running_max;

static int counted(void *arg)
{
    int *v = arg;
    int now = ADD(running_now, 1), max = LOAD(running_max);
    while (now > max &&
           !__atomic_compare_exchange_n(&running_max, &max, now, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
    sched_yield(); /* give the others a chance to overlap */
    ADD(running_now, -1);
    return *v * 10;
}

#define MANY (3 * N)

struct crowd {
    async_frame_t co;
    async_job_t job;
    int v, rc;
};

static int crowd_task(async_loop_t *l, void *frame)
{
    struct crowd *c = frame;
    ASYNC_BEGIN(l, c);
    AWAIT_VALUE(c->rc, async_to_thread(l, &c->job, counted, &c->v));
    ASYNC_END;
}

struct many {
    async_frame_t co;
    async_task_t t[MANY];
    struct crowd c[MANY];
    int i;
};

static int many_main(async_loop_t *l, void *frame)
{
    struct many *m = frame;
    ASYNC_BEGIN(l, m);
    for (m->i = 0; m->i < MANY; m->i++) {
        m->c[m->i].v = m->i;
        async_task_create(l, &m->t[m->i], crowd_task, &m->c[m->i]);
    }
    for (m->i = 0; m->i < MANY; m->i++)
        AWAIT(async_task_wait(l, &m->t[m->i]));
    ASYNC_END;
}

START_TEST(more_jobs_than_workers_wait_their_turn)
{
    static struct many m;
    static async_task_t task;
    int i;
    ck_assert_int_eq(async_loop_run(&loop, &task, many_main, &m), 0);
    for (i = 0; i < MANY; i++)
        ck_assert_int_eq(m.c[i].rc, i * 10);
    ck_assert_int_ge(LOAD(running_max), 1);
    ck_assert_int_le(LOAD(running_max), N);
    ck_assert_int_eq(LOAD(running_now), 0);
}
END_TEST

/* --------------------------------------------------------- cancellation */

/* Cancel a task while its function runs; let the loop turn; only then let
 * the function finish. The task must still be waiting after those turns,
 * and its await must return ASYNC_ECANCELED with the function finished. */
struct cancel_run {
    async_frame_t co;
    async_task_t worker;
    struct offload o;
    struct gate g;
    struct until_started u;
    int i, rc, cancels;
};

static int cancel_run_main(async_loop_t *l, void *frame)
{
    struct cancel_run *c = frame;
    ASYNC_BEGIN(l, c);
    c->g.result = 42;
    c->o.g = &c->g;
    async_task_create(l, &c->worker, offload, &c->o);
    c->u.g = &c->g;
    c->u.n = 1;
    AWAIT(async_call(l, until_started, &c->u));
    for (c->i = 0; c->i < c->cancels; c->i++) {
        trace("cancel:%d", async_task_cancel(l, &c->worker));
        AWAIT(async_yield(l));
        AWAIT(async_yield(l));
        trace(async_task_state(&c->worker) == ASYNC_TASK_DONE ? "done"
                                                              : "waiting");
    }
    trace("open");
    gate_open(&c->g);
    AWAIT_TRY(c->rc, async_task_wait(l, &c->worker));
    ASYNC_RETURN(c->rc);
    ASYNC_END;
}

START_TEST(a_cancelled_await_waits_for_the_function_then_reports_cancelled)
{
    static struct cancel_run c;
    static async_task_t task;
    c.cancels = 1;
    ck_assert_int_eq(async_loop_run(&loop, &task, cancel_run_main, &c),
                     ASYNC_ECANCELED);
    ck_assert_str_eq(TRACE, "cancel:1 waiting open returned:ASYNC_ECANCELED");
    ck_assert_int_eq(c.o.finished_at_return, 1);
    ck_assert_int_eq(c.o.rc, ASYNC_ECANCELED); /* 42 was discarded */
}
END_TEST

START_TEST(more_cancels_while_waiting_out_the_function_are_absorbed)
{
    static struct cancel_run c;
    static async_task_t task;
    c.cancels = 3;
    ck_assert_int_eq(async_loop_run(&loop, &task, cancel_run_main, &c),
                     ASYNC_ECANCELED);
    ck_assert_str_eq(TRACE, "cancel:1 waiting cancel:1 waiting cancel:1 "
                            "waiting open returned:ASYNC_ECANCELED");
    ck_assert_int_eq(c.o.finished_at_return, 1);
}
END_TEST

/* Every worker blocked on a gate; one more job waits in the queue.
 * Cancelling its task withdraws it at once: the task ends while the gates
 * are still closed, and the function never runs. */
struct withdraw {
    async_frame_t co;
    async_task_t busy_t[N], extra_t;
    struct offload busy[N], extra;
    struct gate g[N], extra_g;
    struct until_started u;
    int i, rc;
};

static int withdraw_main(async_loop_t *l, void *frame)
{
    struct withdraw *w = frame;
    ASYNC_BEGIN(l, w);
    for (w->i = 0; w->i < N; w->i++) {
        w->g[w->i].result = w->i;
        w->busy[w->i].g = &w->g[w->i];
        async_task_create(l, &w->busy_t[w->i], offload, &w->busy[w->i]);
    }
    w->u.g = w->g;
    w->u.n = N;
    AWAIT(async_call(l, until_started, &w->u)); /* the pool is full */
    w->extra.g = &w->extra_g;
    async_task_create(l, &w->extra_t, offload, &w->extra);
    AWAIT(async_yield(l)); /* it submits */
    AWAIT(async_yield(l));
    trace("cancel:%d", async_task_cancel(l, &w->extra_t));
    AWAIT_TRY(w->rc, async_task_wait(l, &w->extra_t));
    trace("extra:%s", async_strerror_name(w->rc));
    trace("open");
    for (w->i = 0; w->i < N; w->i++)
        gate_open(&w->g[w->i]);
    for (w->i = 0; w->i < N; w->i++)
        AWAIT(async_task_wait(l, &w->busy_t[w->i]));
    ASYNC_END;
}

START_TEST(a_job_no_worker_has_started_is_withdrawn)
{
    static struct withdraw w;
    static async_task_t task;
    char want[256] = "cancel:1 returned:ASYNC_ECANCELED extra:ASYNC_ECANCELED open";
    int i;
    for (i = 0; i < N; i++) /* the blocked jobs end in any order, all OK */
        strcat(want, " returned:ASYNC_OK");
    ck_assert_int_eq(async_loop_run(&loop, &task, withdraw_main, &w), 0);
    ck_assert_str_eq(TRACE, want);
    ck_assert_int_eq(LOAD(w.extra_g.started), 0); /* never ran */
    for (i = 0; i < N; i++)
        ck_assert_int_eq(w.busy[i].rc, i);
}
END_TEST

/* wait_for around to_thread: the deadline passes while the function runs;
 * the await reports the timeout only once the function has returned.
 *
 * "While the function runs" must not be left to the wall clock: a worker
 * that has not taken the job 5 ms after the submit (a loaded machine, a
 * sanitizer, a slow thread start) would see it withdrawn instead, and the
 * test would report "returned:ASYNC_ETIMEDOUT open". So a second task,
 * queued in the same turn right after the submitting one, holds that turn
 * (no await, so no timer can fire) until the function has started. */
struct deadline {
    async_frame_t co;
    async_job_t job;
    async_timeout_t to;
    struct gate g;
    async_task_t opener_t;
    struct opener {
        async_frame_t co;
        struct gate *g;
    } opener;
    async_tick_t t0;
    int rc;
};

static int opener(async_loop_t *l, void *frame)
{
    struct opener *o = frame;
    ASYNC_BEGIN(l, o);
    AWAIT(async_sleep(l, 30));
    trace("open");
    gate_open(o->g);
    ASYNC_END;
}

static int deadline_main(async_loop_t *l, void *frame)
{
    struct deadline *d = frame;
    ASYNC_BEGIN(l, d);
    d->g.result = 42;
    d->opener.g = &d->g;
    async_task_create(l, &d->opener_t, opener, &d->opener);
    d->t0 = async_loop_now(l);
    AWAIT_TRY(d->rc, async_wait_for(l, &d->to, 5,
                                    async_to_thread(l, &d->job, gated, &d->g)));
    trace("returned:%s", async_strerror_name(d->rc));
    AWAIT(async_task_wait(l, &d->opener_t));
    ASYNC_RETURN(d->rc);
    ASYNC_END;
}

/* Runs in the submitting turn, after deadline_main: blocks the loop
 * thread until a worker has taken the job and started the function. */
struct hold_turn {
    async_frame_t co;
    struct gate *g;
};

static int hold_turn(async_loop_t *l, void *frame)
{
    struct hold_turn *h = frame;
    ASYNC_BEGIN(l, h);
    while (!LOAD(h->g->started))
        sched_yield();
    ASYNC_END;
}

struct await_one {
    async_frame_t co;
    async_task_t *t;
    int rc;
};

static int await_one(async_loop_t *l, void *frame)
{
    struct await_one *a = frame;
    ASYNC_BEGIN(l, a);
    AWAIT_TRY(a->rc, async_task_wait(l, a->t));
    ASYNC_RETURN(a->rc);
    ASYNC_END;
}

START_TEST(a_timeout_around_to_thread_reports_after_the_function_returns)
{
    static struct deadline d;
    static struct hold_turn h;
    static struct await_one a;
    static async_task_t main_t, hold_t, task;
    h.g = &d.g;
    a.t = &main_t;
    /* turn 1 runs main_t (it submits), then hold_t, then the run's task */
    ck_assert_int_eq(async_task_create(&loop, &main_t, deadline_main, &d), 0);
    ck_assert_int_eq(async_task_create(&loop, &hold_t, hold_turn, &h), 0);
    ck_assert_int_eq(async_loop_run(&loop, &task, await_one, &a),
                     ASYNC_ETIMEDOUT);
    ck_assert_str_eq(TRACE, "open returned:ASYNC_ETIMEDOUT");
    ck_assert_int_eq(LOAD(d.g.finished), 1);
}
END_TEST

/* asyncio.run's ending: main returns while another task awaits a job; the
 * loop cancels that task and must wait for the worker before returning.
 * A helper thread opens the gate only once the loop, after main returned,
 * has gone to sleep: proof that it is waiting for the worker. */
static int main_returned;
static unsigned long idles_at_return;

static void *open_when_loop_sleeps(void *arg)
{
    struct gate *g = arg;
    while (!LOAD(main_returned))
        sched_yield();
    while (LOAD(idles) == LOAD(idles_at_return))
        sched_yield();
    gate_open(g);
    return NULL;
}

struct leftover {
    async_frame_t co;
    async_task_t worker;
    struct offload o;
    struct gate g;
    struct until_started u;
};

static int leftover_main(async_loop_t *l, void *frame)
{
    struct leftover *f = frame;
    ASYNC_BEGIN(l, f);
    f->g.result = 42;
    f->o.g = &f->g;
    async_task_create(l, &f->worker, offload, &f->o);
    f->u.g = &f->g;
    f->u.n = 1;
    AWAIT(async_call(l, until_started, &f->u));
    STORE(idles_at_return, LOAD(idles));
    STORE(main_returned, 1);
    ASYNC_RETURN(5);
    ASYNC_END;
}

START_TEST(loop_run_ends_only_after_a_cancelled_job_finished)
{
    static struct leftover f;
    static async_task_t task;
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, open_when_loop_sleeps, &f.g), 0);
    ck_assert_int_eq(async_loop_run(&loop, &task, leftover_main, &f), 5);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(async_task_result(&f.worker), ASYNC_ECANCELED);
    ck_assert_int_eq(f.o.finished_at_return, 1);
    ck_assert_str_eq(TRACE, "returned:ASYNC_ECANCELED");
}
END_TEST

/* --------------------------------------------------------------- misuse */

static int never_fn(void *arg)
{
    ADD(*(int *)arg, 1);
    return 0;
}

START_TEST(to_thread_outside_a_task_is_refused_and_changes_nothing)
{
    static async_job_t job, zero;
    static int ran;
    ck_assert_int_eq(async_to_thread(&loop, &job, never_fn, &ran),
                     ASYNC_ENOTASK);
    ck_assert_int_eq(async_to_thread(NULL, &job, never_fn, &ran),
                     ASYNC_ENOTASK);
    ck_assert(memcmp(&job, &zero, sizeof job) == 0);
    ck_assert_int_eq(ran, 0);
}
END_TEST

struct refusals {
    async_frame_t co;
    async_job_t job;
    int ran;
    int valid_too; /* also try valid arguments (on a loop without port) */
    int rc[3];
};

/* Calls that must each be refused at once (none is awaited). */
static int refusals_main(async_loop_t *l, void *frame)
{
    struct refusals *r = frame;
    ASYNC_BEGIN(l, r);
    r->rc[0] = async_to_thread(l, NULL, never_fn, &r->ran);
    r->rc[1] = async_to_thread(l, &r->job, NULL, &r->ran);
    if (r->valid_too)
        r->rc[2] = async_to_thread(l, &r->job, never_fn, &r->ran);
    ASYNC_END;
}

START_TEST(bad_arguments_are_refused_and_change_nothing)
{
    static struct refusals r;
    static async_task_t task;
    static async_job_t zero;
    ck_assert_int_eq(async_loop_run(&loop, &task, refusals_main, &r), 0);
    ck_assert_int_eq(r.rc[0], ASYNC_EINVAL); /* no job */
    ck_assert_int_eq(r.rc[1], ASYNC_EINVAL); /* no function */
    ck_assert(memcmp(&r.job, &zero, sizeof zero) == 0);
    ck_assert_int_eq(r.ran, 0);
}
END_TEST

START_TEST(a_loop_without_the_posix_port_is_refused)
{
    static struct refusals r;
    static async_task_t task;
    static async_job_t zero;
    ck_assert_int_eq(async_loop_set_port(&loop, NULL), 0); /* virtual time */
    r.valid_too = 1;
    ck_assert_int_eq(async_loop_run(&loop, &task, refusals_main, &r), 0);
    ck_assert_int_eq(r.rc[2], ASYNC_EINVAL);
    ck_assert(memcmp(&r.job, &zero, sizeof zero) == 0);
    ck_assert_int_eq(r.ran, 0);
}
END_TEST

/* A closed port has no wake descriptor and no pool: nothing to run on. */
START_TEST(a_closed_port_is_refused)
{
    static struct refusals r;
    static async_task_t task;
    async_posix_close(&posix);
    r.valid_too = 1;
    ck_assert_int_eq(async_loop_run(&loop, &task, refusals_main, &r), 0);
    ck_assert_int_eq(r.rc[2], ASYNC_EINVAL);
    ck_assert_int_eq(r.ran, 0);
}
END_TEST

/* "An async_loop_run that returned has already waited for every job": the
 * loop may then be freed at once, while the worker that posted its last
 * result may still be returning from async_post. That worker must touch
 * only the port (which outlives it) after its post is in. The loop keeps
 * yielding, so it takes the post without waiting for the wake (which
 * would order the worker's last steps before it); on the heap, a late
 * access is one ThreadSanitizer and AddressSanitizer can see. */
struct short_lived {
    async_frame_t co;
    struct offload o;
    struct gate g; /* open: the function returns at once */
    async_task_t offload;
};

static int short_lived(async_loop_t *l, void *frame)
{
    struct short_lived *s = frame;
    ASYNC_BEGIN(l, s);
    s->g.open = 1;
    s->g.result = 7;
    s->o.g = &s->g;
    async_task_create(l, &s->offload, offload, &s->o);
    while (async_task_state(&s->offload) != ASYNC_TASK_DONE)
        AWAIT(async_yield(l));
    ASYNC_END;
}

START_TEST(a_loop_may_be_freed_as_soon_as_its_run_returns)
{
    int round;
    for (round = 0; round < 50; round++) {
        static async_timer_t *heap[4];
        static struct short_lived s;
        static async_task_t task;
        async_loop_t *l = calloc(1, sizeof *l);
        ck_assert_ptr_nonnull(l);
        memset(&s, 0, sizeof s);
        memset(&task, 0, sizeof task);
        ck_assert_int_eq(async_loop_init(l, heap, 4), 0);
        ck_assert_int_eq(async_loop_set_port(l, &posix.port), 0);
        ck_assert_int_eq(async_loop_run(l, &task, short_lived, &s), 0);
        ck_assert_int_eq(s.o.rc, 7);
        ck_assert_int_eq(async_loop_close(l), 0);
        free(l);
    }
}
END_TEST

/* A job in flight belongs to its task: another task gets ASYNC_EBUSY and
 * the first await is not disturbed. */
struct thief {
    async_frame_t co;
    async_job_t *job;
    int ran, rc;
};

static int thief(async_loop_t *l, void *frame)
{
    struct thief *t = frame;
    ASYNC_BEGIN(l, t);
    t->rc = async_to_thread(l, t->job, never_fn, &t->ran);
    ASYNC_END;
}

struct shared_job {
    async_frame_t co;
    async_task_t owner_t, thief_t;
    struct offload owner;
    struct thief th;
    struct gate g;
    struct until_started u;
};

static int shared_main(async_loop_t *l, void *frame)
{
    struct shared_job *s = frame;
    ASYNC_BEGIN(l, s);
    s->g.result = 42;
    s->owner.g = &s->g;
    async_task_create(l, &s->owner_t, offload, &s->owner);
    s->u.g = &s->g;
    s->u.n = 1;
    AWAIT(async_call(l, until_started, &s->u));
    s->th.job = &s->owner.job;
    async_task_create(l, &s->thief_t, thief, &s->th);
    AWAIT(async_task_wait(l, &s->thief_t));
    gate_open(&s->g);
    AWAIT(async_task_wait(l, &s->owner_t));
    ASYNC_END;
}

START_TEST(a_job_in_flight_is_busy_for_other_tasks)
{
    static struct shared_job s;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, shared_main, &s), 0);
    ck_assert_int_eq(s.th.rc, ASYNC_EBUSY);
    ck_assert_int_eq(s.th.ran, 0);
    ck_assert_int_eq(s.owner.rc, 42);
    ck_assert_str_eq(TRACE, "returned:ASYNC_OK");
}
END_TEST

static Suite *to_thread_suite(void)
{
    Suite *s = suite_create("posix_to_thread");
    TCase *tc = posix_tcase("results", 30);
    tcase_add_test(tc, to_thread_returns_the_function_result);
    tcase_add_test(tc, an_error_from_the_function_propagates_through_await);
    tcase_add_test(tc, a_job_can_be_reused_for_successive_awaits);
    suite_add_tcase(s, tc);

    tc = posix_tcase("parallelism", 30);
    tcase_add_test(tc, jobs_run_in_parallel_up_to_the_pool_size);
    tcase_add_test(tc, more_jobs_than_workers_wait_their_turn);
    suite_add_tcase(s, tc);

    tc = posix_tcase("cancellation", 30);
    tcase_add_test(tc, a_cancelled_await_waits_for_the_function_then_reports_cancelled);
    tcase_add_test(tc, more_cancels_while_waiting_out_the_function_are_absorbed);
    tcase_add_test(tc, a_job_no_worker_has_started_is_withdrawn);
    tcase_add_test(tc, a_timeout_around_to_thread_reports_after_the_function_returns);
    tcase_add_test(tc, loop_run_ends_only_after_a_cancelled_job_finished);
    suite_add_tcase(s, tc);

    tc = posix_tcase("misuse", 30);
    tcase_add_test(tc, to_thread_outside_a_task_is_refused_and_changes_nothing);
    tcase_add_test(tc, bad_arguments_are_refused_and_change_nothing);
    tcase_add_test(tc, a_loop_without_the_posix_port_is_refused);
    tcase_add_test(tc, a_job_in_flight_is_busy_for_other_tasks);
    tcase_add_test(tc, a_closed_port_is_refused);
    tcase_add_test(tc, a_loop_may_be_freed_as_soon_as_its_run_returns);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(to_thread_suite)
