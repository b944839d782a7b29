/* SPDX-License-Identifier: MIT */
/*
 * Shared by the POSIX port's suites: the loop of harness.h on the POSIX
 * port (real time), with the port's idle calls counted so that a test can
 * tell the loop really went to sleep, plus small atomics helpers for the
 * data shared with threads.
 */
#ifndef TEST_POSIX_HARNESS_H
#define TEST_POSIX_HARNESS_H

#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "posix.h"

/* How long a thread waits without any progress before it calls the wait
 * a failure. Only ever reached when something is lost. */
#define STALL_MS 3000

/* Shared with other threads: always through these. */
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define ADD(x, v) __atomic_add_fetch(&(x), (v), __ATOMIC_ACQ_REL)

/* Under ThreadSanitizer everything runs several times slower; it checks
 * the synchronisation, not the volume, so fewer rounds do. */
#if defined(__SANITIZE_THREAD__)
#define SCALE 10
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SCALE 10
#endif
#endif
#if !defined(SCALE)
#define SCALE 1
#endif

static async_posix_t posix;
static async_port_t counting; /* the POSIX port, with idle calls counted */
static unsigned long idles;   /* read by helper threads */

static void counting_idle(void *ctx, async_tick_t ticks)
{
    ADD(idles, 1);
    posix.port.idle(ctx, ticks);
}

static void posix_setup(void)
{
    loop_setup();
    idles = 0;
    ck_assert_int_eq(async_posix_init(&posix), 0);
    counting = posix.port;
    counting.idle = counting_idle;
    ck_assert_int_eq(async_loop_set_port(&loop, &counting), 0);
}

/* The loop is empty, then the port closes (joining the pool's threads). */
static void posix_teardown(void)
{
    loop_teardown();
    async_posix_close(&posix);
}

static inline TCase *posix_tcase(const char *name, int timeout)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, posix_setup, posix_teardown);
    tcase_set_timeout(tc, timeout);
    return tc;
}

static inline uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
