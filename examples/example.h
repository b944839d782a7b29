/* SPDX-License-Identifier: MIT */
/*
 * example.h - the little that every example shares.
 *
 * Time. Run by hand, an example runs in real time through the POSIX port
 * (1 tick = 1 ms). With --virtual it runs on the loop's virtual clock: an
 * idle loop jumps straight to the next deadline, so the run is instant and
 * its output is the same on every machine. The test suite runs every
 * example that way and compares the output with examples/NAME.expected, on
 * the host and on a Cortex-M under QEMU. Built without the POSIX port (no
 * -Iport on the compiler line, or a bare-metal target), an example always
 * runs on virtual time.
 *
 * Randomness. A seeded linear congruential generator, not rand(): rand()
 * gives a different sequence in every C library, and the expected output
 * must not depend on the host.
 *
 * Output. say() starts each line with the loop's time in seconds; check()
 * prints one self-check and remembers a failure, so that an example exits
 * with 0 only if its result is right.
 *
 * Everything here is static inline in one header, so that a single cc line
 * builds an example:
 *
 *     cc -std=c99 -I. -Iport examples/workers.c async.c queue.c port/posix.c -lpthread
 *     cc -std=c99 -I. examples/workers.c async.c queue.c      (virtual time only)
 */
#ifndef EXAMPLE_H
#define EXAMPLE_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "async.h"

/* Real time needs the POSIX port. On a POSIX system it is used when its
 * header can be found (the compiler line has -Iport), unless EXAMPLE_POSIX
 * says otherwise; a bare-metal build never looks for it. */
#if !defined(EXAMPLE_POSIX) && defined(__has_include) &&                     \
    (defined(__unix__) || defined(__APPLE__))
#if __has_include("posix.h")
#define EXAMPLE_POSIX 1
#endif
#endif
#if !defined(EXAMPLE_POSIX)
#define EXAMPLE_POSIX 0
#endif
#if EXAMPLE_POSIX
#include "posix.h"
#endif

/* Enough timer slots for every example: each sleeping task and each armed
 * timeout holds one. */
#define EXAMPLE_TIMERS 64

static async_loop_t example_loop;
ASYNC_TIMERS(example_timers, EXAMPLE_TIMERS);
static async_tick_t example_t0;  /* the tick the run started at */
static int example_failures;     /* failed check() calls */

/* Ticks (milliseconds) since the example started. */
static inline unsigned long example_ms(void)
{
    return (unsigned long)(async_tick_t)(async_loop_now(&example_loop) -
                                         example_t0);
}

/* Count say()'s time from now on, e.g. for the second half of a
 * comparison. */
static inline void example_clock_reset(void)
{
    example_t0 = async_loop_now(&example_loop);
}

/* printf arguments that show a tick count t as seconds:
 * printf("%lu.%03lu s", SEC3(t)) or, rounded to hundredths,
 * printf("%lu.%02lu s", SEC2(t)). No floating point: bare-metal printf
 * often has none, and rounding must not vary between C libraries. */
#define SEC3(t) (unsigned long)(t) / 1000u, (unsigned long)(t) % 1000u
#define SEC2(t)                                                               \
    ((unsigned long)(t) + 5u) / 1000u, ((unsigned long)(t) + 5u) % 1000u / 10u

/* printf with the time since the start in front: "[ 1.250] ...". */
static inline void say(const char *fmt, ...)
{
    va_list ap;
    printf("[%2lu.%03lu] ", SEC3(example_ms()));
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout); /* so a run by hand shows each line as it happens */
}

/* Print one self-check; remember it if it failed. Returns ok. */
static inline int check(int ok, const char *what)
{
    printf("check: %s: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        example_failures++;
    return ok;
}

/* The pseudo-random generator: x = x * 1664525 + 1013904223 (mod 2^32),
 * the constants from Numerical Recipes. Its low bits are poor, so a number
 * is taken from the high half. */
static uint32_t example_lcg = 1;

static inline void lcg_seed(uint32_t seed)
{
    example_lcg = seed;
}

/* A number from lo to hi inclusive (hi - lo < 65536). */
static inline uint32_t lcg_between(uint32_t lo, uint32_t hi)
{
    example_lcg = example_lcg * 1664525u + 1013904223u;
    return lo + (example_lcg >> 16) % (hi - lo + 1u);
}

/* Run main_fn(frame) as the main coroutine until it finishes, like
 * asyncio.run, on the clock that argv asks for. Returns the exit status:
 * 0 only if the main coroutine succeeded, every check() passed and the
 * loop was left empty. */
static inline int example_run(int argc, char **argv, async_fn *main_fn,
                              void *frame)
{
    static async_task_t main_task;
#if EXAMPLE_POSIX
    static async_posix_t posix;
#endif
    int virtual_time = !EXAMPLE_POSIX;
    int i, rc;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--virtual") != 0) {
            fprintf(stderr, "usage: %s [--virtual]\n", argv[0]);
            return 2;
        }
        virtual_time = 1;
    }
    (void)virtual_time; /* only read when the POSIX port is built in */
    if (async_loop_init(&example_loop, example_timers, EXAMPLE_TIMERS) < 0)
        return 1;
#if EXAMPLE_POSIX
    if (!virtual_time && (async_posix_init(&posix) < 0 ||
                          async_loop_set_port(&example_loop, &posix.port) < 0)) {
        perror("the POSIX port");
        return 1;
    }
#endif
    example_clock_reset();

    rc = async_loop_run(&example_loop, &main_task, main_fn, frame);
    if (rc < 0) {
        printf("main ended with %s\n", async_strerror_name(rc));
        example_failures++;
    }
    if (async_loop_close(&example_loop) != 0) {
        printf("the loop was not left empty\n");
        example_failures++;
    }
#if EXAMPLE_POSIX
    if (!virtual_time)
        async_posix_close(&posix);
#endif
    fflush(stdout);
    return example_failures ? 1 : 0;
}

#endif /* EXAMPLE_H */
