/* SPDX-License-Identifier: MIT */
/*
 * Queue in the debug build (ASYNC_CONFIG_DEBUG=1): explaining a join that
 * hangs. The task dump names each task holding items it got but has not
 * marked done; a join bounded by async_wait_for times out with
 * ASYNC_ETIMEDOUT, async_queue_unfinished says how many items are
 * outstanding, and the timed-out joiner leaves nothing behind. Queue misuse
 * is reported through async_debug_hook; ordinary outcomes (full, empty,
 * shut down) are not misuse.
 */
#include "harness.h"

#if !ASYNC_CONFIG_DEBUG
#error "this suite needs the ASYNC_CONFIG_DEBUG=1 library"
#endif

static async_queue_t q;
static int qbuf[8];
static async_event_t go;

static void open_queue(void)
{
    ck_assert_int_eq(async_queue_init(&q, &loop, qbuf, sizeof(int), 8,
                                      ASYNC_QUEUE_FIFO, NULL), 0);
    ck_assert_int_eq(async_event_init(&go, &loop), 0);
}

static void put_items(int n)
{
    int i;
    for (i = 0; i < n; i++)
        ck_assert_int_eq(async_queue_put_nowait(&q, &i), 0);
}

/* The dump, one line per live task. */
static char dump[8][160];
static int dumped;

static void collect(const char *line, void *arg)
{
    (void)arg;
    ck_assert_int_lt(dumped, 8);
    snprintf(dump[dumped++], sizeof dump[0], "%s", line);
}

static int take_dump(void)
{
    dumped = 0;
    return async_loop_dump(&loop, collect, NULL);
}

/* Gets `take` items (awaiting, or without waiting if `nowait`), marks the
 * first `done` of them done, then waits for `go` and marks the rest. The
 * line it waits on is kept for the expected dump. */
struct worker {
    async_frame_t co;
    int take, done, nowait, n, item, line;
};

static int worker(async_loop_t *l, void *frame)
{
    struct worker *w = frame;
    ASYNC_BEGIN(l, w);
    for (w->n = 0; w->n < w->take; w->n++) {
        if (w->nowait)
            ck_assert_int_eq(async_queue_get_nowait(&q, &w->item), 0);
        else
            AWAIT(async_queue_get(l, &q, &w->item));
        if (w->n < w->done)
            ck_assert_int_eq(async_queue_task_done(&q), 0);
    }
    w->line = __LINE__; AWAIT(async_event_wait(l, &go));
    for (w->n = w->done; w->n < w->take; w->n++)
        ck_assert_int_eq(async_queue_task_done(&q), 0);
    ASYNC_END;
}

static struct worker wf[2];
static async_task_t wt[2];

static void start_worker(int i, const char *name, int take, int done,
                         int nowait)
{
    wf[i].take = take;
    wf[i].done = done;
    wf[i].nowait = nowait;
    ck_assert_int_eq(async_task_create(&loop, &wt[i], worker, &wf[i]), 0);
    ck_assert_int_eq(async_task_set_name(&wt[i], name), 0);
}

/* The dump line of a worker waiting for `go`. */
static void expect_line(int i, const char *name, const char *tail)
{
    char want[160];
    snprintf(want, sizeof want, "%s WAITING at %s:%d%s", name, __FILE__,
             wf[i].line, tail);
    ck_assert_str_eq(dump[i], want);
}

/* A join bounded by `timeout` ticks; traces the outcome and how many
 * items were outstanding at that moment. */
struct joiner {
    async_frame_t co;
    async_tick_t timeout;
    async_timeout_t to;
    int rc;
};

static int joiner(async_loop_t *l, void *frame)
{
    struct joiner *j = frame;
    ASYNC_BEGIN(l, j);
    AWAIT_TRY(j->rc, async_wait_for(l, &j->to, j->timeout,
                                    async_queue_join(l, &q)));
    trace("join:%s@%u unfinished=%d", async_strerror_name(j->rc),
          (unsigned)async_loop_now(l), async_queue_unfinished(&q));
    ASYNC_END;
}

START_TEST(the_dump_names_tasks_holding_items_not_marked_done)
{
    static struct joiner jf;
    static async_task_t jt;
    open_queue();
    put_items(5);
    start_worker(0, "worker-a", 3, 1, 0); /* holds 2 */
    start_worker(1, "worker-b", 2, 2, 0); /* holds none */
    jf.timeout = 10;
    ck_assert_int_eq(async_task_create(&loop, &jt, joiner, &jf), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "join:ASYNC_ETIMEDOUT@10 unfinished=2");
    ck_assert_int_eq(take_dump(), 2);
    expect_line(0, "worker-a", " holding 2 queue item(s) not marked done");
    expect_line(1, "worker-b", "");

    ck_assert_int_eq(async_event_set(&go), 0);
    run_until_idle();
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
    ck_assert_int_eq(take_dump(), 0);
}
END_TEST

/* Items got without waiting count for the task that got them; an item got
 * outside any task is nobody's; task_done by the holder releases one. */
START_TEST(items_got_without_waiting_are_held_too)
{
    int item;
    open_queue();
    put_items(4);
    ck_assert_int_eq(async_queue_get_nowait(&q, &item), 0); /* no task */
    start_worker(0, "nowait-a", 3, 2, 1); /* holds 1 */
    run_until_idle();
    ck_assert_int_eq(take_dump(), 1);
    expect_line(0, "nowait-a", " holding 1 queue item(s) not marked done");
    ck_assert_int_eq(async_queue_unfinished(&q), 2);
    ck_assert_int_eq(async_event_set(&go), 0);
    run_until_idle();
    ck_assert_int_eq(async_queue_unfinished(&q), 1); /* the test's own item */
    ck_assert_int_eq(async_queue_task_done(&q), 0);
}
END_TEST

/* After the timed-out join nothing waits on the queue: the last task_done
 * wakes nobody, and the queue may be initialised again. */
START_TEST(a_timed_out_join_reports_the_outstanding_count_and_leaves_no_joiner)
{
    static struct joiner jf;
    static async_task_t jt;
    int item;
    open_queue();
    put_items(3);
    ck_assert_int_eq(async_queue_get_nowait(&q, &item), 0);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    jf.timeout = 7;
    ck_assert_int_eq(async_task_create(&loop, &jt, joiner, &jf), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "join:ASYNC_ETIMEDOUT@7 unfinished=2");
    ck_assert_int_eq(async_queue_get_nowait(&q, &item), 0);
    ck_assert_int_eq(async_queue_get_nowait(&q, &item), 0);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
    ck_assert_int_eq(async_queue_init(&q, &loop, qbuf, sizeof(int), 8,
                                      ASYNC_QUEUE_FIFO, NULL), 0);
}
END_TEST

/* ------------------------------------------------------------ misuse */

static int hook_calls, hook_code;
static char hook_what[200];

static void record_misuse(int code, const char *what)
{
    hook_calls++;
    hook_code = code;
    snprintf(hook_what, sizeof hook_what, "%s", what);
}

/* The hook fired once more, with code, naming fn. */
static void expect_reported(int *calls, int code, const char *fn)
{
    ck_assert_int_eq(hook_calls, ++*calls);
    ck_assert_int_eq(hook_code, code);
    ck_assert_msg(strstr(hook_what, fn) != NULL, "\"%s\" does not name %s",
                  hook_what, fn);
}

struct getter {
    async_frame_t co;
    int item, rc;
};

static int getter(async_loop_t *l, void *frame)
{
    struct getter *g = frame;
    ASYNC_BEGIN(l, g);
    AWAIT_TRY(g->rc, async_queue_get(l, &q, &g->item));
    ASYNC_END;
}

START_TEST(queue_misuse_is_reported_through_the_debug_hook)
{
    static async_queue_t zq;
    static struct getter gf;
    static async_task_t gt;
    int calls = 0, item = 1;
    async_debug_hook = record_misuse;
    open_queue();

    ck_assert_int_eq(async_queue_task_done(&q), ASYNC_ESTATE);
    expect_reported(&calls, ASYNC_ESTATE, "async_queue_task_done");
    ck_assert_int_eq(async_queue_init(&zq, &loop, NULL, 4, 1,
                                      ASYNC_QUEUE_FIFO, NULL), ASYNC_EINVAL);
    expect_reported(&calls, ASYNC_EINVAL, "async_queue_init");
    ck_assert_int_eq(async_queue_put_nowait(&zq, &item), ASYNC_EINVAL);
    expect_reported(&calls, ASYNC_EINVAL, "async_queue_put_nowait");
    ck_assert_int_eq(async_queue_get(&loop, &q, &item), ASYNC_ENOTASK);
    expect_reported(&calls, ASYNC_ENOTASK, "async_queue_get");

    ck_assert_int_eq(async_task_create(&loop, &gt, getter, &gf), 0);
    run_until_idle();
    ck_assert_int_eq(async_queue_init(&q, &loop, qbuf, sizeof(int), 8,
                                      ASYNC_QUEUE_FIFO, NULL), ASYNC_EBUSY);
    expect_reported(&calls, ASYNC_EBUSY, "async_queue_init");
    ck_assert_int_eq(async_queue_shutdown(&q, 0), 0);
    run_until_idle();
    ck_assert_int_eq(gf.rc, ASYNC_ESHUTDOWN);

    /* Outcomes, not misuse: full, empty, shut down. */
    ck_assert_int_eq(async_queue_get_nowait(&q, &item), ASYNC_ESHUTDOWN);
    ck_assert_int_eq(async_queue_put_nowait(&q, &item), ASYNC_ESHUTDOWN);
    open_queue();
    ck_assert_int_eq(async_queue_get_nowait(&q, &item), ASYNC_EEMPTY);
    put_items(8);
    ck_assert_int_eq(async_queue_put_nowait(&q, &item), ASYNC_EFULL);
    ck_assert_int_eq(hook_calls, calls);
    async_debug_hook = NULL;
}
END_TEST

static Suite *queue_debug_suite(void)
{
    Suite *s = suite_create("queue_debug");
    TCase *tc = loop_tcase("explaining a hanging join");
    tcase_add_test(tc, the_dump_names_tasks_holding_items_not_marked_done);
    tcase_add_test(tc, items_got_without_waiting_are_held_too);
    tcase_add_test(tc,
        a_timed_out_join_reports_the_outstanding_count_and_leaves_no_joiner);
    suite_add_tcase(s, tc);
    tc = loop_tcase("misuse");
    tcase_add_test(tc, queue_misuse_is_reported_through_the_debug_hook);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(queue_debug_suite)
