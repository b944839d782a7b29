/* SPDX-License-Identifier: MIT */
/*
 * Gather, like asyncio.gather: wait for several tasks and read their
 * results in argument order. By default the first error (in time) comes
 * back at once while the other tasks keep running; with ASYNC_GATHER_ALL
 * every task finishes and each slot holds its result or error. Cancelling
 * the gathering task cancels the unfinished tasks and waits for them.
 * Finished tasks and empty lists complete at once; misuse is refused and
 * links nothing.
 */
#include "harness.h"

/* Sleeps `ticks`, returns `value` (which may be an error). A cancel ends
 * it, unless it swallows it. Traces its result at the end; the cleanup
 * may await a sleep of fin_ticks. */
struct worker {
    async_frame_t co;
    const char *name;
    async_tick_t ticks, fin_ticks;
    int value, swallow, rc;
};

static int worker(async_loop_t *l, void *frame)
{
    struct worker *w = frame;
    ASYNC_BEGIN(l, w);
    AWAIT_TRY(w->rc, async_sleep(l, w->ticks));
    if (w->rc < 0 && !w->swallow)
        ASYNC_RETURN(w->rc);
    ASYNC_RETURN(w->value);
    ASYNC_FINALLY;
    trace("%s:%s@%u", w->name, res(ASYNC_RESULT), NOW);
    if (w->fin_ticks) {
        AWAIT(async_sleep(l, w->fin_ticks));
        trace("%s:fin-end@%u", w->name, NOW);
    }
    ASYNC_END;
}

/* Gathers tasks[0..n-1] with flags, after sleeping `delay`. Traces the
 * gather's result and every slot; with `join`, then awaits each task so
 * that nothing is left running, and traces the slots again. */
struct gatherer {
    async_frame_t co;
    async_gather_t g;
    async_gather_slot_t slot[3];
    async_task_t *tasks[3];
    uint32_t n, i;
    unsigned flags;
    async_tick_t delay;
    int join, self_cancel, rc, ignored;
};

static void trace_slots(const struct gatherer *g)
{
    char buf[64] = "slots=";
    uint32_t i;
    for (i = 0; i < g->n; i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, res(async_gather_result(&g->g, i)));
    }
    trace("%s", buf);
}

static int gatherer(async_loop_t *l, void *frame)
{
    struct gatherer *g = frame;
    ASYNC_BEGIN(l, g);
    if (g->delay)
        AWAIT(async_sleep(l, g->delay));
    ck_assert_int_eq(async_gather_init(&g->g, g->slot, g->n, g->flags), 0);
    if (g->self_cancel)
        trace("cancel-self=%d", async_task_cancel(l, async_current(l)));
    trace("G:gather@%u", NOW);
    AWAIT_TRY(g->rc, async_gather(l, &g->g, g->n ? g->tasks : NULL));
    trace("G:%s@%u", res(g->rc), NOW);
    trace_slots(g);
    if (g->join) {
        for (g->i = 0; g->i < g->n; g->i++)
            AWAIT_TRY(g->ignored, async_task_wait(l, g->tasks[g->i]));
        trace("G:joined@%u", NOW);
        trace_slots(g);
    }
    ASYNC_RETURN(g->rc);
    ASYNC_END;
}

/* Traces "P@tick" after sleeping `at`: shows whether a task that shares
 * the tick ran before or after another one. */
struct probe {
    async_frame_t co;
    async_tick_t at;
};

static int probe(async_loop_t *l, void *frame)
{
    struct probe *p = frame;
    ASYNC_BEGIN(l, p);
    if (p->at)
        AWAIT(async_sleep(l, p->at));
    trace("P@%u", NOW);
    ASYNC_END;
}

/* Create the workers, then the gatherer over them, in that order. */
static void start(struct gatherer *g, async_task_t *tg, struct worker *w,
                  async_task_t *tw, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(async_task_create(&loop, &tw[i], worker, &w[i]), 0);
        g->tasks[i] = &tw[i];
    }
    g->n = n;
    ck_assert_int_eq(async_task_create(&loop, tg, gatherer, g), 0);
}

/* ------------------------------------------------------------- results */

START_TEST(results_come_in_argument_order_whatever_the_finishing_order)
{
    static struct worker w[3] = {{.name = "A", .ticks = 30, .value = 1},
                                 {.name = "B", .ticks = 20, .value = 2},
                                 {.name = "C", .ticks = 10, .value = 3}};
    static async_task_t tw[3], tg;
    static struct gatherer g;
    start(&g, &tg, w, tw, 3);
    run_until_idle();
    ck_assert_str_eq(TRACE,
                     "G:gather@0 C:3@10 B:2@20 A:1@30 G:0@30 slots=1,2,3");
    ck_assert_int_eq(async_task_result(&tg), 0);
    ck_assert_int_eq(async_gather_result(&g.g, 3), ASYNC_EINVAL);
    ck_assert_int_eq(async_gather_result(NULL, 0), ASYNC_EINVAL);
}
END_TEST

START_TEST(slots_over_stale_memory_work_like_zeroed_ones)
{
    /* Slot storage is the caller's, neither zeroed nor reused here. A
     * has finished when the gather begins, B has not. */
    static struct worker w[2] = {{.name = "A", .ticks = 3, .value = 1},
                                 {.name = "B", .ticks = 10, .value = 2}};
    static async_task_t tw[2], tg;
    static struct gatherer g = {.delay = 5};
    memset(g.slot, 0xA5, sizeof g.slot);
    start(&g, &tg, w, tw, 2);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:1@3 G:gather@5 B:2@10 G:0@10 slots=1,2");
    ck_assert_int_eq(async_task_result(&tg), 0);
}
END_TEST

/* Traces the slots of a gather after sleeping `at`. */
struct peeker {
    async_frame_t co;
    struct gatherer *g;
    async_tick_t at;
};

static int peeker(async_loop_t *l, void *frame)
{
    struct peeker *p = frame;
    ASYNC_BEGIN(l, p);
    AWAIT(async_sleep(l, p->at));
    trace_slots(p->g);
    ASYNC_END;
}

START_TEST(results_can_be_read_while_the_gather_waits)
{
    /* A task that has finished has its result in its slot already; one
     * still running reads ESTATE. */
    static struct worker w[2] = {{.name = "A", .ticks = 3, .value = 1},
                                 {.name = "B", .ticks = 10, .value = 2}};
    static async_task_t tw[2], tg, tp;
    static struct gatherer g;
    static struct peeker p = {.g = &g, .at = 5};
    start(&g, &tg, w, tw, 2);
    async_task_create(&loop, &tp, peeker, &p);
    run_until_idle();
    ck_assert_str_eq(TRACE, "G:gather@0 A:1@3 slots=1,ESTATE B:2@10 G:0@10 "
                            "slots=1,2");
}
END_TEST

START_TEST(by_default_the_first_error_in_time_returns_while_the_rest_run_on)
{
    static struct worker w[3] = {
        {.name = "A", .ticks = 30, .value = 1},
        {.name = "B", .ticks = 10, .value = ASYNC_EBUSY},
        {.name = "C", .ticks = 20, .value = ASYNC_ERANGE}};
    static async_task_t tw[3], tg;
    static struct gatherer g = {.join = 1};
    start(&g, &tg, w, tw, 3);
    run_until_idle();
    /* At tick 10 A and C are unfinished (ESTATE); they finish later, and
     * their ends no longer concern the gather. */
    ck_assert_str_eq(TRACE, "G:gather@0 B:EBUSY@10 G:EBUSY@10 "
                            "slots=ESTATE,EBUSY,ESTATE C:ERANGE@20 A:1@30 "
                            "G:joined@30 slots=ESTATE,EBUSY,ESTATE");
    ck_assert_int_eq(async_task_result(&tg), ASYNC_EBUSY);
}
END_TEST

/* Awaits a task, then sleeps `after` ticks; traces both. */
struct follower {
    async_frame_t co;
    async_task_t *other;
    async_tick_t after;
    int got;
};

static int follower(async_loop_t *l, void *frame)
{
    struct follower *f = frame;
    ASYNC_BEGIN(l, f);
    AWAIT_TRY(f->got, async_task_wait(l, f->other));
    trace("Y:got %s@%u", res(f->got), NOW);
    AWAIT(async_sleep(l, f->after));
    trace("Y:slept@%u", NOW);
    ASYNC_END;
}

START_TEST(a_task_also_awaited_elsewhere_leaves_that_waiter_alone)
{
    /* A's waiters are the gather's slot, then Y. A ends first; the
     * gather ends later on B's error and stops listening to the tasks
     * still running, not to A again: Y, asleep by then, is not touched. */
    static struct worker w[2] = {{.name = "A", .ticks = 5, .value = 1},
                                 {.name = "B", .ticks = 10,
                                  .value = ASYNC_EBUSY}};
    static async_task_t tw[2], tg, ty;
    static struct gatherer g;
    static struct follower y = {.after = 100};
    start(&g, &tg, w, tw, 2);
    y.other = &tw[0];
    async_task_create(&loop, &ty, follower, &y);
    run_until_idle();
    ck_assert_str_eq(TRACE, "G:gather@0 A:1@5 Y:got 1@5 B:EBUSY@10 "
                            "G:EBUSY@10 slots=1,EBUSY Y:slept@105");
}
END_TEST

START_TEST(gather_all_waits_for_every_task_and_reports_errors_per_slot)
{
    static struct worker w[3] = {
        {.name = "A", .ticks = 30, .value = 1},
        {.name = "B", .ticks = 10, .value = ASYNC_EBUSY},
        {.name = "C", .ticks = 20, .value = ASYNC_ERANGE}};
    static async_task_t tw[3], tg;
    static struct gatherer g = {.flags = ASYNC_GATHER_ALL};
    start(&g, &tg, w, tw, 3);
    run_until_idle();
    ck_assert_str_eq(TRACE, "G:gather@0 B:EBUSY@10 C:ERANGE@20 A:1@30 "
                            "G:0@30 slots=1,EBUSY,ERANGE");
    ck_assert_int_eq(async_task_result(&tg), 0);
}
END_TEST

/* -------------------------------------------------------- cancellation */

struct canceller {
    async_frame_t co;
    async_task_t *target;
    async_tick_t at;
};

static int canceller(async_loop_t *l, void *frame)
{
    struct canceller *c = frame;
    ASYNC_BEGIN(l, c);
    AWAIT(async_sleep(l, c->at));
    trace("cancel@%u=%d", NOW, async_task_cancel(l, c->target));
    ASYNC_END;
}

START_TEST(cancelling_the_gatherer_cancels_unfinished_tasks_and_waits_for_them)
{
    static struct worker w[3] = {
        {.name = "A", .ticks = 5, .value = 1},
        {.name = "B", .ticks = 100, .fin_ticks = 3, .value = 2},
        {.name = "C", .ticks = 100, .value = 3}};
    static async_task_t tw[3], tg, tc;
    static struct gatherer g;
    static struct canceller c = {.at = 10};
    start(&g, &tg, w, tw, 3);
    c.target = &tg;
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    /* B's cleanup, which sleeps, ends before the gatherer resumes. */
    ck_assert_str_eq(TRACE,
                     "G:gather@0 A:1@5 cancel@10=1 B:ECANCELED@10 "
                     "C:ECANCELED@10 B:fin-end@13 G:ECANCELED@13 "
                     "slots=1,ECANCELED,ECANCELED");
    ck_assert_int_eq(async_task_result(&tg), ASYNC_ECANCELED);
}
END_TEST

START_TEST(a_cancelled_gather_reports_cancelled_even_if_a_task_swallows_it)
{
    static struct worker w[2] = {
        {.name = "A", .ticks = 100, .swallow = 1, .value = 5},
        {.name = "B", .ticks = 100, .value = 6}};
    static async_task_t tw[2], tg, tc;
    static struct gatherer g = {.flags = ASYNC_GATHER_ALL};
    static struct canceller c = {.at = 10};
    start(&g, &tg, w, tw, 2);
    c.target = &tg;
    async_task_create(&loop, &tc, canceller, &c);
    run_until_idle();
    ck_assert_str_eq(TRACE, "G:gather@0 cancel@10=1 A:5@10 B:ECANCELED@10 "
                            "G:ECANCELED@10 slots=5,ECANCELED");
}
END_TEST

START_TEST(a_gather_begun_with_a_cancel_pending_cancels_its_tasks)
{
    static struct worker w[2] = {{.name = "A", .ticks = 100, .value = 1},
                                 {.name = "B", .ticks = 100, .value = 2}};
    static async_task_t tw[2], tg;
    static struct gatherer g = {.self_cancel = 1};
    start(&g, &tg, w, tw, 2);
    run_until_idle();
    ck_assert_str_eq(TRACE, "cancel-self=1 G:gather@0 A:ECANCELED@0 "
                            "B:ECANCELED@0 G:ECANCELED@0 "
                            "slots=ECANCELED,ECANCELED");
}
END_TEST

/* ----------------------------------------------------- finished at once */

START_TEST(gathering_no_tasks_completes_at_once)
{
    static struct gatherer g, h = {.flags = ASYNC_GATHER_ALL};
    static struct probe p;
    static async_task_t tg, th, tp;
    async_task_create(&loop, &tg, gatherer, &g);
    async_task_create(&loop, &th, gatherer, &h);
    async_task_create(&loop, &tp, probe, &p);
    run_until_idle();
    /* Neither gatherer suspended: both ran to the end before P's turn. */
    ck_assert_str_eq(TRACE,
                     "G:gather@0 G:0@0 slots= G:gather@0 G:0@0 slots= P@0");
}
END_TEST

START_TEST(tasks_finished_before_the_gather_count_at_once)
{
    static struct worker w[3] = {
        {.name = "A", .ticks = 1, .value = 1},
        {.name = "B", .ticks = 3, .value = ASYNC_EBUSY},
        {.name = "C", .ticks = 2, .value = ASYNC_ERANGE}};
    static async_task_t tw[3], tg, tp;
    static struct gatherer g = {.delay = 5};
    static struct probe p = {.at = 5};
    start(&g, &tg, w, tw, 3);
    async_task_create(&loop, &tp, probe, &p);
    run_until_idle();
    /* All done: the first error in argument order (B's), though C failed
     * earlier; and without suspending (before P, due at the same tick). */
    ck_assert_str_eq(TRACE, "A:1@1 C:ERANGE@2 B:EBUSY@3 G:gather@5 "
                            "G:EBUSY@5 slots=1,EBUSY,ERANGE P@5");
}
END_TEST

START_TEST(a_gather_that_completed_at_once_can_be_initialised_again)
{
    static struct worker w[1] = {{.name = "A", .ticks = 1, .value = 1}};
    static async_task_t tw[1], tg;
    static struct gatherer g = {.delay = 5};
    start(&g, &tg, w, tw, 1);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:1@1 G:gather@5 G:0@5 slots=1");
    /* Not awaited any more: it may be prepared for another gather. */
    ck_assert_int_eq(async_gather_init(&g.g, g.slot, 1, 0), 0);
}
END_TEST

START_TEST(gather_all_over_finished_tasks_completes_at_once)
{
    static struct worker w[3] = {
        {.name = "A", .ticks = 1, .value = 1},
        {.name = "B", .ticks = 3, .value = ASYNC_EBUSY},
        {.name = "C", .ticks = 2, .value = ASYNC_ERANGE}};
    static async_task_t tw[3], tg, tp;
    static struct gatherer g = {.delay = 5, .flags = ASYNC_GATHER_ALL};
    static struct probe p = {.at = 5};
    start(&g, &tg, w, tw, 3);
    async_task_create(&loop, &tp, probe, &p);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:1@1 C:ERANGE@2 B:EBUSY@3 G:gather@5 "
                            "G:0@5 slots=1,EBUSY,ERANGE P@5");
}
END_TEST

START_TEST(a_finished_task_and_a_running_one_wait_for_the_running_one)
{
    static struct worker w[2] = {{.name = "A", .ticks = 1, .value = 1},
                                 {.name = "B", .ticks = 10, .value = 2}};
    static async_task_t tw[2], tg;
    static struct gatherer g = {.delay = 5};
    start(&g, &tg, w, tw, 2);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:1@1 G:gather@5 B:2@10 G:0@10 slots=1,2");
}
END_TEST

START_TEST(an_error_finished_before_the_gather_returns_at_once_by_default)
{
    static struct worker w[2] = {
        {.name = "A", .ticks = 1, .value = ASYNC_EBUSY},
        {.name = "B", .ticks = 10, .value = 2}};
    static async_task_t tw[2], tg;
    static struct gatherer g = {.delay = 5, .join = 1};
    start(&g, &tg, w, tw, 2);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:EBUSY@1 G:gather@5 G:EBUSY@5 slots=EBUSY,ESTATE "
                            "B:2@10 G:joined@10 slots=EBUSY,ESTATE");
}
END_TEST

/* -------------------------------------------------------------- misuse */

START_TEST(gather_init_refuses_bad_arguments_and_changes_nothing)
{
    static async_gather_t g, zero, copy;
    static async_gather_slot_t slot[2];
    static async_task_t t;
    static async_task_t *const tasks[1] = {&t};
    ck_assert_int_eq(async_gather_init(NULL, slot, 2, 0), ASYNC_EINVAL);
    ck_assert_int_eq(async_gather_init(&g, NULL, 2, 0), ASYNC_EINVAL);
    ck_assert_int_eq(async_gather_init(&g, slot, 2, 0x2u), ASYNC_EINVAL);
    ck_assert_int_eq(memcmp(&g, &zero, sizeof g), 0);
    /* A refused gather is still unusable. */
    ck_assert_int_eq(async_gather_result(&g, 0), ASYNC_EINVAL);

    ck_assert_int_eq(async_gather_init(&g, slot, 2, ASYNC_GATHER_ALL), 0);
    copy = g;
    ck_assert_int_eq(async_gather_init(&g, NULL, 1, 0), ASYNC_EINVAL);
    ck_assert_int_eq(async_gather_init(&g, slot, 1, 0x80u), ASYNC_EINVAL);
    ck_assert_int_eq(memcmp(&g, &copy, sizeof g), 0);
    /* n = 0 needs no slots. */
    ck_assert_int_eq(async_gather_init(&g, NULL, 0, 0), 0);
    /* Gathering is for tasks only. */
    ck_assert_int_eq(async_gather(&loop, &g, tasks), ASYNC_ENOTASK);
}
END_TEST

START_TEST(gather_init_takes_up_to_int_max_tasks)
{
    /* The largest n the int results can index; init does not touch the
     * slots, so one stands in for them here. */
    static async_gather_t g;
    static async_gather_slot_t slot[1];
    ck_assert_int_eq(async_gather_init(&g, slot, (uint32_t)INT_MAX, 0), 0);
    ck_assert_int_eq(async_gather_init(&g, slot, (uint32_t)INT_MAX + 1u, 0),
                     ASYNC_EINVAL);
}
END_TEST

/* Tries a list with a bad task, checks that nothing changed (even after
 * the good tasks in it finish), then gathers a good list. */
struct misuser {
    async_frame_t co;
    async_gather_t g, copy;
    async_gather_slot_t slot[2], slot_copy[2];
    async_task_t *bad[2], *good[2];
    async_task_t never; /* zeroed: never created */
    int first; /* the bad entry in slot 0, not 1 */
    int rc;
};

static void snapshot(struct misuser *m)
{
    m->copy = m->g;
    memcpy(m->slot_copy, m->slot, sizeof m->slot);
}

static int unchanged(const struct misuser *m)
{
    return memcmp(&m->copy, &m->g, sizeof m->g) == 0 &&
           memcmp(m->slot_copy, m->slot, sizeof m->slot) == 0;
}

static int misuser(async_loop_t *l, void *frame)
{
    struct misuser *m = frame;
    ASYNC_BEGIN(l, m);
    async_gather_init(&m->g, m->slot, 2, 0);
    snapshot(m);
    m->bad[m->first ? 0 : 1] = NULL;
    AWAIT_TRY(m->rc, async_gather(l, &m->g, m->bad));
    trace("null=%s", res(m->rc));
    m->bad[m->first ? 0 : 1] = &m->never;
    AWAIT_TRY(m->rc, async_gather(l, &m->g, m->bad));
    trace("never-created=%s", res(m->rc));
    m->bad[m->first ? 0 : 1] = async_current(l);
    AWAIT_TRY(m->rc, async_gather(l, &m->g, m->bad));
    trace("itself=%s", res(m->rc));
    trace("unchanged=%d", unchanged(m));
    AWAIT(async_sleep(l, 5)); /* A finishes meanwhile */
    trace("unchanged=%d result0=%s@%u", unchanged(m),
          res(async_gather_result(&m->g, 0)), NOW);
    AWAIT_TRY(m->rc, async_gather(l, &m->g, m->good));
    trace("good=%s@%u slots=%s,%s", res(m->rc), NOW,
          res(async_gather_result(&m->g, 0)),
          res(async_gather_result(&m->g, 1)));
    ASYNC_END;
}

/* The bad entry second in the list, or first: the refusal links nothing
 * either way. */
static void refuse_a_bad_task_at(int first)
{
    static struct worker a = {.name = "A", .ticks = 3, .value = 1},
                         b = {.name = "B", .ticks = 10, .value = 2};
    static struct misuser m;
    static async_task_t ta, tb, tm;
    m.first = first;
    m.bad[first ? 1 : 0] = m.good[0] = &ta;
    m.good[1] = &tb;
    async_task_create(&loop, &ta, worker, &a);
    async_task_create(&loop, &tb, worker, &b);
    async_task_create(&loop, &tm, misuser, &m);
    run_until_idle();
    ck_assert_str_eq(TRACE, "null=EINVAL never-created=EINVAL itself=EINVAL "
                            "unchanged=1 A:1@3 unchanged=1 result0=EINVAL@5 "
                            "B:2@10 good=0@10 slots=1,2");
    ck_assert_int_eq(async_task_state(&m.never), ASYNC_TASK_IDLE);
}

START_TEST(a_bad_task_in_the_list_is_refused_and_links_nothing)
{
    refuse_a_bad_task_at(0);
}
END_TEST

START_TEST(a_bad_task_first_in_the_list_is_refused_and_links_nothing)
{
    refuse_a_bad_task_at(1);
}
END_TEST

/* Awaits a gather never initialised, then one initialised (over a task
 * finished by then), the same one again without a new init, and one
 * initialised for a task but given no list. */
struct regatherer {
    async_frame_t co;
    async_gather_t g;
    async_gather_slot_t slot[1];
    async_task_t *tasks[1];
    int rc;
};

static int regatherer(async_loop_t *l, void *frame)
{
    struct regatherer *r = frame;
    ASYNC_BEGIN(l, r);
    AWAIT(async_sleep(l, 2));
    AWAIT_TRY(r->rc, async_gather(l, &r->g, r->tasks));
    trace("zeroed=%s", res(r->rc));
    ck_assert_int_eq(async_gather_init(&r->g, r->slot, 1, 0), 0);
    AWAIT_TRY(r->rc, async_gather(l, &r->g, r->tasks));
    trace("first=%s", res(r->rc));
    AWAIT_TRY(r->rc, async_gather(l, &r->g, r->tasks));
    trace("again=%s", res(r->rc));
    ck_assert_int_eq(async_gather_init(&r->g, r->slot, 1, 0), 0);
    AWAIT_TRY(r->rc, async_gather(l, &r->g, NULL));
    trace("no-list=%s", res(r->rc));
    ASYNC_END;
}

START_TEST(awaiting_a_gather_not_ready_is_refused)
{
    static struct worker a = {.name = "A", .ticks = 1, .value = 1};
    static struct regatherer r;
    static async_task_t ta, tr;
    r.tasks[0] = &ta;
    async_task_create(&loop, &ta, worker, &a);
    async_task_create(&loop, &tr, regatherer, &r);
    run_until_idle();
    ck_assert_str_eq(TRACE, "A:1@1 zeroed=EINVAL first=0 again=EINVAL "
                            "no-list=EINVAL");
}
END_TEST

/* Re-initialises a gather that another task is awaiting. */
struct reiniter {
    async_frame_t co;
    struct gatherer *target;
    async_gather_t copy;
};

static int reiniter(async_loop_t *l, void *frame)
{
    struct reiniter *r = frame;
    async_gather_t *g;
    ASYNC_BEGIN(l, r);
    AWAIT(async_sleep(l, 5));
    g = &r->target->g;
    r->copy = *g;
    trace("reinit=%s", res(async_gather_init(g, r->target->slot, 1, 0)));
    trace("unchanged=%d", memcmp(&r->copy, g, sizeof *g) == 0);
    ASYNC_END;
}

START_TEST(reinitialising_a_gather_being_awaited_is_refused)
{
    static struct worker w[1] = {{.name = "A", .ticks = 10, .value = 1}};
    static async_task_t tw[1], tg, tr;
    static struct gatherer g;
    static struct reiniter r = {.target = &g};
    start(&g, &tg, w, tw, 1);
    async_task_create(&loop, &tr, reiniter, &r);
    run_until_idle();
    ck_assert_str_eq(TRACE, "G:gather@0 reinit=EBUSY unchanged=1 A:1@10 "
                            "G:0@10 slots=1");
    /* Once the gather is over, it may be prepared again. */
    ck_assert_int_eq(async_gather_init(&g.g, g.slot, 1, 0), 0);
}
END_TEST

static Suite *gather_suite(void)
{
    Suite *s = suite_create("gather");
    TCase *tc = loop_tcase("results");
    tcase_add_test(tc, results_come_in_argument_order_whatever_the_finishing_order);
    tcase_add_test(tc, results_can_be_read_while_the_gather_waits);
    tcase_add_test(tc, slots_over_stale_memory_work_like_zeroed_ones);
    tcase_add_test(tc,
                   by_default_the_first_error_in_time_returns_while_the_rest_run_on);
    tcase_add_test(tc, gather_all_waits_for_every_task_and_reports_errors_per_slot);
    tcase_add_test(tc, a_task_also_awaited_elsewhere_leaves_that_waiter_alone);
    suite_add_tcase(s, tc);

    tc = loop_tcase("cancellation");
    tcase_add_test(
        tc, cancelling_the_gatherer_cancels_unfinished_tasks_and_waits_for_them);
    tcase_add_test(tc,
                   a_cancelled_gather_reports_cancelled_even_if_a_task_swallows_it);
    tcase_add_test(tc, a_gather_begun_with_a_cancel_pending_cancels_its_tasks);
    suite_add_tcase(s, tc);

    tc = loop_tcase("finished at once");
    tcase_add_test(tc, gathering_no_tasks_completes_at_once);
    tcase_add_test(tc, tasks_finished_before_the_gather_count_at_once);
    tcase_add_test(tc, a_gather_that_completed_at_once_can_be_initialised_again);
    tcase_add_test(tc, gather_all_over_finished_tasks_completes_at_once);
    tcase_add_test(tc, a_finished_task_and_a_running_one_wait_for_the_running_one);
    tcase_add_test(tc,
                   an_error_finished_before_the_gather_returns_at_once_by_default);
    suite_add_tcase(s, tc);

    tc = loop_tcase("misuse");
    tcase_add_test(tc, gather_init_refuses_bad_arguments_and_changes_nothing);
    tcase_add_test(tc, gather_init_takes_up_to_int_max_tasks);
    tcase_add_test(tc, a_bad_task_in_the_list_is_refused_and_links_nothing);
    tcase_add_test(tc, a_bad_task_first_in_the_list_is_refused_and_links_nothing);
    tcase_add_test(tc, awaiting_a_gather_not_ready_is_refused);
    tcase_add_test(tc, reinitialising_a_gather_being_awaited_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(gather_suite)
