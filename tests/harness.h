/* SPDX-License-Identifier: MIT */
/*
 * Shared by the test suites: a fresh loop on virtual time for every test,
 * a trace of events to assert order with, and a teardown that proves the
 * loop is empty. Each test runs in its own process (Check's fork mode)
 * with a timeout.
 */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "async.h"

#define TEST_TIMERS 256

static async_loop_t loop;
static async_timer_t *timers[TEST_TIMERS];
static char trace_buf[8192];

/* Append one event to the trace, space separated. */
static inline void trace(const char *fmt, ...)
{
    size_t len = strlen(trace_buf);
    va_list ap;
    if (len && len + 1 < sizeof trace_buf)
        trace_buf[len++] = ' ';
    va_start(ap, fmt);
    vsnprintf(trace_buf + len, sizeof trace_buf - len, fmt, ap);
    va_end(ap);
}

/* The trace so far. */
#define TRACE (trace_buf)

/* The loop's tick, for traces. */
#define NOW ((unsigned)async_loop_now(&loop))

/* A result for a trace: an error's short name ("ETIMEDOUT"), or the
 * number. Rotates through a few buffers so one trace call can use several. */
static inline const char *res(int rc)
{
    static char buf[8][16];
    static int i;
    if (rc < 0)
        return async_strerror_name(rc) + sizeof "ASYNC_" - 1;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%d", rc);
    return buf[i];
}

static void loop_setup(void)
{
    memset(&loop, 0, sizeof loop);
    memset(timers, 0, sizeof timers);
    trace_buf[0] = '\0';
    ck_assert_int_eq(async_loop_init(&loop, timers, TEST_TIMERS), 0);
}

/* Every test ends with nothing registered on the loop. */
static void loop_teardown(void)
{
    ck_assert_int_eq(async_loop_close(&loop), 0);
}

/* Run turns until nothing is left to do (virtual time jumps ahead).
 * Returns the number of turns, capped to catch livelocks. */
static inline int run_until_idle(void)
{
    int turns = 0;
    while (async_loop_next_timeout(&loop) != ASYNC_FOREVER && turns < 100000) {
        async_loop_run_once(&loop);
        turns++;
    }
    return turns;
}

/* A Check main for one suite, in fork mode. */
#define TEST_MAIN(make_suite)                                                 \
    int main(void)                                                            \
    {                                                                         \
        SRunner *sr = srunner_create(make_suite());                           \
        int failed;                                                           \
        srunner_set_fork_status(sr, CK_FORK);                                 \
        srunner_run_all(sr, CK_NORMAL);                                       \
        failed = srunner_ntests_failed(sr);                                   \
        srunner_free(sr);                                                     \
        return failed ? 1 : 0;                                                \
    }

/* A test case with the loop fixture and a timeout. */
static inline TCase *loop_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
    tcase_set_timeout(tc, 10);
    return tc;
}

#endif
