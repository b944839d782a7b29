/* SPDX-License-Identifier: MIT */
/*
 * to_thread.c - asyncio.to_thread: await a blocking call on a worker thread.
 *
 * Three blocking computations (counting primes by trial division) run on
 * the POSIX port's worker pool. A fourth blocking call waits until it has
 * seen a ticker task on the loop tick five times: it can only return if
 * the loop keeps running while threads block. Then a slow blocking call is
 * cancelled while it blocks: a thread cannot be interrupted, so the await
 * returns ASYNC_ECANCELED only once the call has finished with the frame
 * it was given, and its result is discarded.
 *
 * This example always uses the POSIX port (worker threads post their
 * results to the loop), so --virtual, which the test suite passes, changes
 * nothing. Its output does not depend on timing: each step waits for the
 * thread's own signal, never for a guess at how long a thread takes.
 *
 *     cc -std=c99 -I. -Iport examples/to_thread.c async.c queue.c port/posix.c -lpthread
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include "async.h"
#include "posix.h"

/* A blocking function: it knows nothing about coroutines. */
static int count_primes(void *arg)
{
    int below = *(const int *)arg, n, d, count = 0;
    for (n = 2; n < below; n++) {
        for (d = 2; d * d <= n && n % d; d++)
            ;
        count += d * d > n;
    }
    return count;
}

/* Another one, slow on purpose: like a read from a slow device, it blocks
 * until its data arrives, which here is when the loop says so. */
static int slow_started, data_arrived, slow_finished; /* shared: atomics */

static int slow_read(void *arg)
{
    struct timespec ts = {0, 1000 * 1000}; /* 1 ms */
    (void)arg;
    __atomic_store_n(&slow_started, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&data_arrived, __ATOMIC_ACQUIRE))
        nanosleep(&ts, NULL);
    __atomic_store_n(&slow_finished, 1, __ATOMIC_RELEASE);
    return 42;
}

/* One task per offloaded call: the job lives in the task's frame. */
struct counter {
    async_frame_t co;
    async_job_t job;
    int below, primes;
};

static int counter(async_loop_t *loop, void *frame)
{
    struct counter *c = frame;
    ASYNC_BEGIN(loop, c);
    AWAIT_VALUE(c->primes, async_to_thread(loop, &c->job, count_primes,
                                           &c->below));
    ASYNC_RETURN(c->primes);
    ASYNC_END;
}

/* A ticker task on the loop, and a blocking call that watches it. */
static int ticks; /* written by the loop, read by a worker: atomics */

struct ticker {
    async_frame_t co;
    int *stop;
};

static int ticker(async_loop_t *loop, void *frame)
{
    struct ticker *t = frame;
    ASYNC_BEGIN(loop, t);
    while (!*t->stop) {
        __atomic_add_fetch(&ticks, 1, __ATOMIC_RELEASE);
        AWAIT(async_sleep(loop, 1));
    }
    ASYNC_END;
}

static int watch_ticker(void *arg)
{
    struct timespec ts = {0, 1000 * 1000}; /* 1 ms */
    int start = __atomic_load_n(&ticks, __ATOMIC_ACQUIRE);
    (void)arg;
    while (__atomic_load_n(&ticks, __ATOMIC_ACQUIRE) < start + 5)
        nanosleep(&ts, NULL);
    return 5;
}

struct reader {
    async_frame_t co;
    async_job_t job;
    int rc, finished_first;
};

static int reader(async_loop_t *loop, void *frame)
{
    struct reader *r = frame;
    ASYNC_BEGIN(loop, r);
    AWAIT_TRY(r->rc, async_to_thread(loop, &r->job, slow_read, NULL));
    /* By the time the cancelled await returns, the call is over. */
    r->finished_first = __atomic_load_n(&slow_finished, __ATOMIC_ACQUIRE);
    ASYNC_RETURN(r->rc);
    ASYNC_END;
}

struct app {
    async_frame_t co;
    struct counter c[3];
    async_task_t tasks[3], tick_task, read_task;
    async_task_t *list[3];
    async_gather_t gather;
    async_gather_slot_t slots[3];
    async_job_t watch;
    struct ticker tick;
    struct reader read;
    int stop, i, seen, blocked, failed;
};

static int app(async_loop_t *loop, void *frame)
{
    static const int limits[3] = {20000, 50000, 100000};
    struct app *a = frame;
    ASYNC_BEGIN(loop, a);

    a->tick.stop = &a->stop;
    async_task_create(loop, &a->tick_task, ticker, &a->tick);
    for (a->i = 0; a->i < 3; a->i++) {
        a->c[a->i].below = limits[a->i];
        async_task_create(loop, &a->tasks[a->i], counter, &a->c[a->i]);
        a->list[a->i] = &a->tasks[a->i];
    }
    /* This task blocks nothing: its call waits on a thread. */
    AWAIT_VALUE(a->seen, async_to_thread(loop, &a->watch, watch_ticker, NULL));
    printf("a blocking call watched the loop tick %d times\n", a->seen);
    async_gather_init(&a->gather, a->slots, 3, 0);
    AWAIT(async_gather(loop, &a->gather, a->list));
    a->stop = 1;
    for (a->i = 0; a->i < 3; a->i++)
        printf("primes below %6d: %d\n", limits[a->i],
               async_gather_result(&a->gather, a->i));
    a->failed |= async_gather_result(&a->gather, 0) != 2262 ||
                 async_gather_result(&a->gather, 1) != 5133 ||
                 async_gather_result(&a->gather, 2) != 9592;

    /* Cancel a slow call while a thread blocks in it. */
    async_task_create(loop, &a->read_task, reader, &a->read);
    while (!__atomic_load_n(&slow_started, __ATOMIC_ACQUIRE))
        AWAIT(async_sleep(loop, 1));
    async_task_cancel(loop, &a->read_task);
    AWAIT(async_sleep(loop, 20));
    a->blocked = async_task_state(&a->read_task) != ASYNC_TASK_DONE;
    printf("20 ms after the cancel, the read still waits for its thread: "
           "%s\n", a->blocked ? "yes" : "no");
    __atomic_store_n(&data_arrived, 1, __ATOMIC_RELEASE);
    AWAIT_TRY(a->i, async_task_wait(loop, &a->read_task));
    printf("the cancelled read returned %s\n", async_strerror_name(a->i));
    printf("after its blocking call had finished: %s\n",
           a->read.finished_first ? "yes" : "no");
    a->failed |= !a->blocked || a->i != ASYNC_ECANCELED ||
                 !a->read.finished_first;
    ASYNC_RETURN(a->failed);
    ASYNC_END;
}

int main(void)
{
    static async_loop_t loop;
    static async_timer_t *timers[16];
    static async_posix_t posix;
    static async_task_t task;
    static struct app a;
    int rc;

    if (async_posix_init(&posix) != 0)
        return 1;
    async_loop_init(&loop, timers, 16);
    async_loop_set_port(&loop, &posix.port);
    rc = async_loop_run(&loop, &task, app, &a);
    async_loop_set_port(&loop, NULL);
    async_posix_close(&posix);
    printf("%s\n", rc == 0 ? "ok" : "FAILED");
    return rc == 0 ? 0 : 1;
}
