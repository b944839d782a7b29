/* SPDX-License-Identifier: MIT */
/*
 * Coroutine macros: ASYNC_BEGIN/END, AWAIT forms, ASYNC_RETURN, the cleanup
 * section, and awaiting child coroutines in place (async_call).
 */
#include "harness.h"

/* A child that sleeps, optionally awaits a deeper child, and returns a value
 * built from its depth, tracing its steps and its cleanup. */
struct nest {
    async_frame_t co;
    int depth, fail_at, got;
    struct nest *sub;
};

static int nest(async_loop_t *l, void *frame)
{
    struct nest *n = frame;
    ASYNC_BEGIN(l, n);
    trace("in%d", n->depth);
    AWAIT(async_sleep(l, 1));
    if (n->depth == n->fail_at)
        ASYNC_RETURN(ASYNC_EBUSY);
    if (n->sub) {
        n->sub->fail_at = n->fail_at;
        AWAIT_VALUE(n->got, async_call(l, nest, n->sub));
    }
    ASYNC_RETURN(n->depth * 100 + n->got);
    ASYNC_FINALLY;
    trace("fin%d:%d", n->depth, ASYNC_RESULT);
    ASYNC_END;
}

struct top {
    async_frame_t co;
    struct nest n[3];
    int rc;
};

static int top_nested(async_loop_t *l, void *frame)
{
    struct top *t = frame;
    ASYNC_BEGIN(l, t);
    t->n[0].depth = 1;
    t->n[0].sub = &t->n[1];
    t->n[1].depth = 2;
    t->n[1].sub = &t->n[2];
    t->n[2].depth = 3;
    t->n[0].fail_at = t->rc; /* the test passes the failing depth in rc */
    AWAIT_TRY(t->rc, async_call(l, nest, &t->n[0]));
    trace("rc=%d", t->rc);
    ASYNC_RETURN(t->rc);
    ASYNC_END;
}

START_TEST(nested_results_come_back_in_place)
{
    static struct top t;
    static async_task_t task;
    t.rc = 0; /* no failure */
    ck_assert_int_eq(async_loop_run(&loop, &task, top_nested, &t), 100 + 200 + 300);
    ck_assert_str_eq(TRACE, "in1 in2 in3 fin3:300 fin2:500 fin1:600 rc=600");
    ck_assert_uint_eq(async_loop_now(&loop), 3);
}
END_TEST

START_TEST(errors_propagate_outward_through_cleanups)
{
    static struct top t;
    static async_task_t task;
    t.rc = 3; /* the deepest child fails */
    ck_assert_int_eq(async_loop_run(&loop, &task, top_nested, &t), ASYNC_EBUSY);
    ck_assert_str_eq(TRACE, "in1 in2 in3 fin3:-7 fin2:-7 fin1:-7 rc=-7");
}
END_TEST

/* AWAIT_TRY catches; AWAIT propagates; falling off the end returns 0. */
struct catcher {
    async_frame_t co;
    struct nest child;
    int rc;
};

static int catcher(async_loop_t *l, void *frame)
{
    struct catcher *c = frame;
    ASYNC_BEGIN(l, c);
    c->child.depth = 1;
    c->child.fail_at = 1;
    AWAIT_TRY(c->rc, async_call(l, nest, &c->child));
    trace("caught %s", async_strerror_name(c->rc));
    c->child.fail_at = 0; /* the same frame can be awaited again once done */
    AWAIT_TRY(c->rc, async_call(l, nest, &c->child));
    trace("again %d", c->rc);
    ASYNC_END;
}

START_TEST(await_try_catches_and_frames_are_reusable)
{
    static struct catcher c;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, catcher, &c), 0);
    ck_assert_str_eq(TRACE, "in1 fin1:-7 caught ASYNC_EBUSY in1 fin1:100 again 100");
}
END_TEST

/* The cleanup section may await; ASYNC_RETURN inside it ends at once and
 * overrides the pending result. */
struct flusher {
    async_frame_t co;
    int override;
};

static int flusher(async_loop_t *l, void *frame)
{
    struct flusher *f = frame;
    ASYNC_BEGIN(l, f);
    trace("body");
    ASYNC_RETURN(7);
    trace("never");
    ASYNC_FINALLY;
    trace("cleanup %d", ASYNC_RESULT);
    AWAIT(async_sleep(l, 5));
    trace("flushed at %u", (unsigned)async_loop_now(l));
    if (f->override)
        ASYNC_RETURN(8);
    trace("end of cleanup");
    ASYNC_END;
}

START_TEST(cleanup_may_await_and_keeps_the_result)
{
    static struct flusher f;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, flusher, &f), 7);
    ck_assert_str_eq(TRACE, "body cleanup 7 flushed at 5 end of cleanup");
}
END_TEST

START_TEST(return_inside_cleanup_overrides)
{
    static struct flusher f;
    static async_task_t task;
    f.override = 1;
    ck_assert_int_eq(async_loop_run(&loop, &task, flusher, &f), 8);
    ck_assert_str_eq(TRACE, "body cleanup 7 flushed at 5");
}
END_TEST

/* A coroutine need not await at all: its body and cleanup still run once
 * and its result comes back (in both resume-point flavours). */
struct no_await {
    async_frame_t co;
};

static int no_await(async_loop_t *l, void *frame)
{
    struct no_await *n = frame;
    ASYNC_BEGIN(l, n);
    trace("body");
    ASYNC_RETURN(4);
    ASYNC_FINALLY;
    trace("cleanup %d", ASYNC_RESULT);
    ASYNC_END;
}

START_TEST(a_coroutine_without_an_await_runs_once)
{
    static struct no_await n;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, no_await, &n), 4);
    ck_assert_str_eq(TRACE, "body cleanup 4");
}
END_TEST

/* Recursion: a chain of 10000 frames. Resuming never walks the chain and
 * the C stack stays flat, so this neither slows down nor overflows. */
struct rec {
    async_frame_t co;
    int left, sum;
    struct rec *next;
};

static int rec(async_loop_t *l, void *frame)
{
    struct rec *r = frame;
    ASYNC_BEGIN(l, r);
    if (r->left == 0) {
        AWAIT(async_sleep(l, 1));
        ASYNC_RETURN(0);
    }
    r->next = r + 1;
    r->next->left = r->left - 1;
    AWAIT_VALUE(r->sum, async_call(l, rec, r->next));
    ASYNC_RETURN(r->sum + 1);
    ASYNC_END;
}

START_TEST(deep_recursion_keeps_the_c_stack_flat)
{
    enum { DEPTH = 10000 };
    static struct rec frames[DEPTH + 1];
    static async_task_t task;
    frames[0].left = DEPTH;
    ck_assert_int_eq(async_loop_run(&loop, &task, rec, &frames[0]), DEPTH);
}
END_TEST

/* Misuse of async_call returns the documented codes and changes nothing. */
struct misuser {
    async_frame_t co;
    struct nest child;
    int a, b, c;
};

static int misuser(async_loop_t *l, void *frame)
{
    struct misuser *m = frame;
    ASYNC_BEGIN(l, m);
    AWAIT_TRY(m->a, async_call(l, NULL, &m->child));
    AWAIT_TRY(m->b, async_call(l, nest, NULL));
    AWAIT_TRY(m->c, async_call(l, nest, m)); /* its own frame: in use */
    ASYNC_END;
}

START_TEST(async_call_misuse_is_refused)
{
    static struct misuser m;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, misuser, &m), 0);
    ck_assert_int_eq(m.a, ASYNC_EINVAL);
    ck_assert_int_eq(m.b, ASYNC_EINVAL);
    ck_assert_int_eq(m.c, ASYNC_EBUSY);
    ck_assert_int_eq(async_call(&loop, nest, &m.child), ASYNC_ENOTASK);
    ck_assert_int_eq(async_sleep(&loop, 1), ASYNC_ENOTASK);
    ck_assert_int_eq(async_yield(NULL), ASYNC_ENOTASK);
}
END_TEST

/* Statuses are not errors; every error code has a name and a sentence. */
START_TEST(error_names_come_from_one_table)
{
    ck_assert_str_eq(async_strerror_name(ASYNC_ETIMEDOUT), "ASYNC_ETIMEDOUT");
    ck_assert_str_eq(async_strerror_name(ASYNC_ECANCELED), "ASYNC_ECANCELED");
    ck_assert_str_eq(async_strerror_name(5), "ASYNC_OK");
    ck_assert_str_eq(async_strerror_name(-999), "ASYNC_E?");
    ck_assert_str_eq(async_strerror(ASYNC_EFULL), "queue is full");
    ck_assert_str_eq(async_strerror(-999), "unknown error");
    ck_assert_int_lt(ASYNC_WAIT, ASYNC_E__LAST);
    ck_assert_str_eq(async_strerror(0), "success");
    ck_assert_str_eq(async_strerror_name(ASYNC_ESYS), "ASYNC_ESYS");
    ck_assert_str_eq(async_strerror_name(ASYNC_ESYS - 1), "ASYNC_E?");
    ck_assert_str_eq(async_strerror_name(ASYNC_WAIT), "ASYNC_E?");
    ck_assert_str_eq(async_strerror(ASYNC_WAIT), "unknown error");
}
END_TEST

/* The codes run from -1 down to ASYNC_ESYS without a gap. */
START_TEST(every_error_code_has_a_name_and_a_sentence)
{
    int code;
    for (code = -1; code >= ASYNC_ESYS; code--) {
        const char *name = async_strerror_name(code);
        const char *text = async_strerror(code);
        ck_assert_msg(strncmp(name, "ASYNC_E", 7) == 0 && name[7] != '\0',
                      "code %d is named %s", code, name);
        ck_assert_str_ne(name, "ASYNC_E?");
        ck_assert_msg(text[0] != '\0' && strcmp(text, "unknown error") != 0,
                      "code %d: sentence '%s'", code, text);
    }
}
END_TEST

#if !ASYNC_CONFIG_LC_GOTO
/* In the default flavour an AWAIT inside the body's own switch puts its
 * resume point in that switch, where resuming cannot reach it: the
 * coroutine ends with ASYNC_ESTATE at the resume instead of silently. */
struct own_switch {
    async_frame_t co;
    int i;
};

static int own_switch(async_loop_t *l, void *frame)
{
    struct own_switch *s = frame;
    ASYNC_BEGIN(l, s);
    for (s->i = 0; s->i < 3; s->i++) {
        switch (s->i) {
        case 1:
            AWAIT(async_sleep(l, 10));
            trace("case1");
            break;
        default:
            trace("other%d", s->i);
            break;
        }
    }
    ASYNC_END;
}

START_TEST(await_inside_an_own_switch_fails_loudly)
{
    static struct own_switch s;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, own_switch, &s),
                     ASYNC_ESTATE);
    ck_assert_str_eq(TRACE, "other0");
    ck_assert_uint_eq(NOW, 10);
}
END_TEST

/* The same trap with a cleanup section: it runs once, as for any other
 * end, and its own AWAIT starts afresh: the wake meant for the lost point
 * (a queue get, which finishes its work on resume) does not end it. */
static async_queue_t lost_q;
static int lost_buf[1];

static int own_switch_cleanup(async_loop_t *l, void *frame)
{
    struct own_switch *s = frame;
    ASYNC_BEGIN(l, s);
    switch (s->i) {
    case 0:
        AWAIT(async_queue_get(l, &lost_q, &s->i));
        trace("unreachable");
        break;
    }
    ASYNC_FINALLY;
    trace("cleanup:%s", res(ASYNC_RESULT));
    AWAIT(async_sleep(l, 5));
    trace("slept@%u", (unsigned)NOW);
    ASYNC_END;
}

/* Lost inside the cleanup section itself: the section is not run again. */
static int own_switch_in_cleanup(async_loop_t *l, void *frame)
{
    struct own_switch *s = frame;
    ASYNC_BEGIN(l, s);
    ASYNC_FINALLY;
    trace("cleanup");
    switch (s->i) {
    case 0:
        AWAIT(async_sleep(l, 10));
        trace("unreachable");
        break;
    }
    ASYNC_END;
}

START_TEST(await_inside_an_own_switch_in_the_cleanup_ends_it_once)
{
    static struct own_switch s;
    static async_task_t task;
    ck_assert_int_eq(async_loop_run(&loop, &task, own_switch_in_cleanup, &s),
                     ASYNC_ESTATE);
    ck_assert_str_eq(TRACE, "cleanup");
    ck_assert_uint_eq(NOW, 10);
}
END_TEST

START_TEST(await_inside_an_own_switch_still_runs_the_cleanup)
{
    static struct own_switch s;
    static async_task_t task;
    int item = 7;
    ck_assert_int_eq(async_queue_init(&lost_q, &loop, lost_buf, sizeof item,
                                      1, ASYNC_QUEUE_FIFO, NULL), 0);
    ck_assert_int_eq(async_task_create(&loop, &task, own_switch_cleanup, &s),
                     0);
    async_loop_run_once(&loop); /* it waits in the get */
    ck_assert_int_eq(async_queue_put_nowait(&lost_q, &item), 0);
    run_until_idle();
    ck_assert_int_eq(async_task_result(&task), ASYNC_ESTATE);
    ck_assert_str_eq(TRACE, "cleanup:ESTATE slept@5");
}
END_TEST
#endif

#ifdef CORO_EXTRA_TESTS
CORO_EXTRA_TESTS
#endif

static Suite *coro_suite(void)
{
    Suite *s = suite_create("coro");
    TCase *tc = loop_tcase("macros");
    tcase_add_test(tc, nested_results_come_back_in_place);
    tcase_add_test(tc, errors_propagate_outward_through_cleanups);
    tcase_add_test(tc, await_try_catches_and_frames_are_reusable);
    tcase_add_test(tc, cleanup_may_await_and_keeps_the_result);
    tcase_add_test(tc, return_inside_cleanup_overrides);
    tcase_add_test(tc, a_coroutine_without_an_await_runs_once);
    tcase_add_test(tc, deep_recursion_keeps_the_c_stack_flat);
    tcase_add_test(tc, async_call_misuse_is_refused);
    tcase_add_test(tc, error_names_come_from_one_table);
    tcase_add_test(tc, every_error_code_has_a_name_and_a_sentence);
#if !ASYNC_CONFIG_LC_GOTO
    tcase_add_test(tc, await_inside_an_own_switch_fails_loudly);
    tcase_add_test(tc, await_inside_an_own_switch_still_runs_the_cleanup);
    tcase_add_test(tc, await_inside_an_own_switch_in_the_cleanup_ends_it_once);
#endif
#ifdef CORO_EXTRA_CASES
    CORO_EXTRA_CASES(tc);
#endif
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(coro_suite)
