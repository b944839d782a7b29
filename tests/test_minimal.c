/* SPDX-License-Identifier: MIT */
/*
 * The smallest configuration (every ASYNC_CONFIG_ feature knob off): tasks,
 * sleep, cancellation with cleanup, and a FIFO queue with task_done/join
 * still work, and what was left out is really left out.
 */
#include "harness.h"

#if ASYNC_CONFIG_GATHER || ASYNC_CONFIG_TIMEOUT || ASYNC_CONFIG_FUTURE ||     \
    ASYNC_CONFIG_SYNC || ASYNC_CONFIG_POST || ASYNC_CONFIG_QUEUE_ORDERS ||    \
    ASYNC_CONFIG_ERROR_TEXT
#error "build this suite against the minimal library variant"
#endif

static async_queue_t q;
static int storage[2];

struct worker {
    async_frame_t co;
    const char *name;
    int item, holding;
};

static int worker(async_loop_t *l, void *frame)
{
    struct worker *w = frame;
    ASYNC_BEGIN(l, w);
    for (;;) {
        AWAIT(async_queue_get(l, &q, &w->item));
        w->holding = 1;
        trace("%s got %d@%u", w->name, w->item, (unsigned)async_loop_now(l));
        AWAIT(async_sleep(l, (async_tick_t)w->item));
        w->holding = 0;
        async_queue_task_done(&q);
    }
    ASYNC_FINALLY;
    if (w->holding)
        async_queue_task_done(&q);
    trace("%s %s", w->name, async_strerror_name(ASYNC_RESULT));
    ASYNC_END;
}

struct boss {
    async_frame_t co;
    async_task_t t[2];
    struct worker w[2];
    int i;
};

static int boss(async_loop_t *l, void *frame)
{
    struct boss *b = frame;
    ASYNC_BEGIN(l, b);
    b->w[0].name = "a";
    b->w[1].name = "b";
    for (b->i = 0; b->i < 2; b->i++)
        async_task_create(l, &b->t[b->i], worker, &b->w[b->i]);
    for (b->i = 1; b->i <= 5; b->i++)
        AWAIT(async_queue_put(l, &q, &b->i)); /* capacity 2: waits for room */
    AWAIT(async_queue_join(l, &q));
    trace("joined@%u", (unsigned)async_loop_now(l));
    for (b->i = 0; b->i < 2; b->i++)
        async_task_cancel(l, &b->t[b->i]);
    for (b->i = 0; b->i < 2; b->i++)
        AWAIT_TRY(b->w[b->i].item, async_task_wait(l, &b->t[b->i]));
    ASYNC_END;
}

START_TEST(workers_drain_a_bounded_fifo_queue_and_are_cancelled)
{
    static struct boss b;
    static async_task_t task;
    ck_assert_int_eq(async_queue_init(&q, &loop, storage, sizeof(int), 2,
                                      ASYNC_QUEUE_FIFO, NULL), 0);
    ck_assert_int_eq(async_loop_run(&loop, &task, boss, &b), 0);
    ck_assert_str_eq(TRACE, "a got 1@0 b got 2@0 a got 3@1 b got 4@2 "
                            "a got 5@4 joined@9 a ASYNC_ECANCELED "
                            "b ASYNC_ECANCELED");
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
}
END_TEST

START_TEST(what_is_configured_out_is_refused_or_named)
{
    ck_assert_int_eq(async_queue_init(&q, &loop, storage, sizeof(int), 2,
                                      ASYNC_QUEUE_LIFO, NULL), ASYNC_EINVAL);
    /* Without the sentences, async_strerror gives the name. */
    ck_assert_str_eq(async_strerror(ASYNC_EFULL), "ASYNC_EFULL");
}
END_TEST

static Suite *minimal_suite(void)
{
    Suite *s = suite_create("minimal");
    TCase *tc = loop_tcase("minimal");
    tcase_add_test(tc, workers_drain_a_bounded_fifo_queue_and_are_cancelled);
    tcase_add_test(tc, what_is_configured_out_is_refused_or_named);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(minimal_suite)
