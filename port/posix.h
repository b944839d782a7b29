/* SPDX-License-Identifier: MIT */
/*
 * posix.h - the POSIX port: real time, a sleeping idle, thread-safe wakeups,
 * and asyncio.to_thread.
 *
 *     static async_loop_t loop;
 *     static async_posix_t posix;
 *     ASYNC_TIMERS(timers, 64);
 *
 *     async_loop_init(&loop, timers, 64);
 *     async_posix_init(&posix);
 *     async_loop_set_port(&loop, &posix.port);
 *     rc = async_loop_run(&loop, &main_task, main_fn, &main_frame);
 *     async_loop_close(&loop);
 *     async_posix_close(&posix);
 *
 * Time: one tick is one millisecond of CLOCK_MONOTONIC, truncated to
 * async_tick_t (it wraps; the loop compares ticks wrap-safely, so a 16-bit
 * tick simply wraps every 65.5 s). An idle loop sleeps in poll() until the
 * next deadline or until it is woken, so it uses no CPU while it waits;
 * poll() counts whole milliseconds, so a timer fires up to about 1 ms late.
 *
 * Waking: async_post() from any thread or signal handler calls the port's
 * wake, which makes a file descriptor readable (an eventfd on Linux, a
 * self-pipe elsewhere; ASYNC_POSIX_PIPE=1 picks the pipe on Linux too).
 * The descriptor stays readable until the loop drains it after waking, so
 * a post that lands between the loop's last look for work and its poll()
 * is never lost: poll() returns at once. Only the first wake after a drain
 * makes a system call; the others find the descriptor already readable.
 *
 * Thread safety, in one list:
 *   - async_post() and port.wake: any thread, and async-signal-safe.
 *   - the worker function given to async_to_thread(): runs on a pool
 *     thread; it may call async_post() and nothing else of the library.
 *   - everything else, including async_to_thread(), async_posix_drain()
 *     and async_posix_close(): the loop's thread only.
 *
 * Build: compile port/posix.c with the library and link with -lpthread
 * (or -pthread).
 */
#ifndef ASYNC_POSIX_H
#define ASYNC_POSIX_H

#include <unistd.h>

#include "async.h"

/* 1: async_to_thread and its worker pool are compiled in. Defaults to 1
 * where the system has POSIX threads and the library has posting and
 * futures (ASYNC_CONFIG_POST, ASYNC_CONFIG_FUTURE), which it needs. It
 * changes async_posix_t's layout: give posix.c and every file that
 * includes posix.h the same value. */
#if !defined(ASYNC_CONFIG_THREADS)
#if defined(_POSIX_THREADS) && _POSIX_THREADS > 0 && ASYNC_CONFIG_POST &&     \
    ASYNC_CONFIG_FUTURE
#define ASYNC_CONFIG_THREADS 1
#else
#define ASYNC_CONFIG_THREADS 0
#endif
#endif
#if ASYNC_CONFIG_THREADS && !(ASYNC_CONFIG_POST && ASYNC_CONFIG_FUTURE)
#error "ASYNC_CONFIG_THREADS needs ASYNC_CONFIG_POST and ASYNC_CONFIG_FUTURE"
#endif

/* Threads in the to_thread pool. They start one at a time, when a job finds
 * every started worker busy, so a program that never offloads starts none.
 * It sizes async_posix_t, as ASYNC_CONFIG_THREADS does: build the port and
 * its users with the same values (a mismatch fails to link, see
 * async_posix_init). A plain number: it becomes part of a name. */
#if !defined(ASYNC_POSIX_WORKERS)
#define ASYNC_POSIX_WORKERS 4
#endif
#if ASYNC_POSIX_WORKERS < 1
#error "ASYNC_POSIX_WORKERS must be at least 1"
#endif

#if ASYNC_CONFIG_THREADS
#include <pthread.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct async_job async_job_t;

/* The port. Caller-owned; fields are private except `port`, which is what
 * async_loop_set_port() takes. */
typedef struct async_posix {
    async_port_t port;
    int rfd, wfd;    /* private: wake descriptor(s); equal for an eventfd */
    int signalled;   /* private: 1 once woken and not yet drained */
    async_tick_t last; /* private: the tick now() last returned */
#if ASYNC_CONFIG_THREADS
    pthread_mutex_t lock;      /* private: guards everything below */
    pthread_cond_t work;       /* private: a job was queued, or stop */
    pthread_t thread[ASYNC_POSIX_WORKERS]; /* private */
    async_job_t *head, *tail;  /* private: jobs not yet started */
    unsigned queued;           /* private: how many */
    unsigned started, idle;    /* private: worker threads, and idle ones */
    int stop;                  /* private: async_posix_close was called */
#endif
} async_posix_t;

/* Open the wake descriptor and fill in p->port. p need not be zeroed, so
 * an open port cannot be told from garbage: close it before initialising
 * it again. Returns 0, ASYNC_EINVAL if p is NULL, or ASYNC_ESYS if the
 * descriptor, the pool's mutex or its condition variable cannot be
 * created (errno says why). Worker threads start later, on demand.
 *
 * Its link name spells the settings that shape async_posix_t (threads,
 * workers), so code built with other values fails to link, e.g.
 * "undefined reference to async_posix_init__threads1_workers8". */
#if ASYNC_CONFIG_THREADS
#define async_posix_init ASYNC__POSIX_ABI(ASYNC_POSIX_WORKERS)
#else
#define async_posix_init async_posix_init__threads0
#endif
#define ASYNC__POSIX_ABI(w) ASYNC__POSIX_ABI_PASTE(w)
#define ASYNC__POSIX_ABI_PASTE(w) async_posix_init__threads1_workers##w
int async_posix_init(async_posix_t *p);

/* Stop and join the worker threads, then close the descriptor. Call it
 * after the loop is done with the port (async_loop_run returned, or
 * async_loop_set_port(loop, NULL)) and no async_to_thread job is in flight;
 * an async_loop_run that returned has already waited for every job. Safe on
 * a p whose init failed, and idempotent. Loop thread only. A closed port
 * refuses async_to_thread (ASYNC_EINVAL), and nothing can wake a loop that
 * still idles on it. */
void async_posix_close(async_posix_t *p);

/* Embedding: the descriptor that becomes readable when the loop is woken,
 * for a program that drives the loop from its own poll/epoll loop:
 *
 *     for (;;) {
 *         async_tick_t t = async_loop_next_timeout(&loop);
 *         int ms = t == ASYNC_FOREVER ? -1 : t > INT_MAX ? INT_MAX : (int)t;
 *         ...poll(fds, n, ms), with async_posix_fd(&posix) among fds...
 *         if (that descriptor was readable)
 *             async_posix_drain(&posix);  (before the turn, not after)
 *         async_loop_run_once(&loop);
 *         ...handle the program's own descriptors...
 *     }
 *
 * Returns the descriptor (watch it for POLLIN), or ASYNC_EINVAL. */
int async_posix_fd(const async_posix_t *p);

/* Embedding: empty the wake descriptor after poll() reported it readable.
 * Drain before async_loop_run_once(), so that every post made before the
 * drain is run by that turn and every later one makes the descriptor
 * readable again. Returns 0 or ASYNC_EINVAL. Loop thread only. */
int async_posix_drain(async_posix_t *p);

#if ASYNC_CONFIG_THREADS
/* A blocking function to run on a worker thread (asyncio.to_thread). Its
 * return value (>= 0 success, < 0 an ASYNC_E... code or your own negative
 * code) becomes the await's result. It must not return ASYNC_WAIT. */
typedef int async_job_fn(void *arg);

/* One offloaded call. Lives in the awaiting coroutine's frame; zero it
 * before its first use. Private fields. A job serves one await at a time
 * and may be reused for the next one. */
struct async_job {
    async_frame_t co;           /* the job's own coroutine, awaited in place */
    async_future_t done;        /* completed on the loop with fn's result */
    async_callback_t posted;    /* the worker posts it when fn returns */
    async_job_fn *fn;
    void *arg;
    async_loop_t *loop;
    async_posix_t *pool;
    async_task_t *task;         /* the awaiting task */
    async_job_t *next;          /* the pool's queue (pool lock) */
    int result;                 /* fn's result (worker, before posting) */
    int rc;                     /* the await's outcome (loop thread) */
    uint8_t busy;               /* an await is in progress (loop thread) */
    uint8_t cancelled;          /* its task was cancelled (loop thread) */
    uint8_t queued;             /* in the pool's queue (pool lock) */
};

/* Await fn(arg) run on one of the port's worker threads:
 *
 *     AWAIT_VALUE(f->n, async_to_thread(loop, &f->job, count_lines, f));
 *
 * The loop keeps running other tasks meanwhile. Returns fn's result.
 *
 * Cancellation. A thread cannot be interrupted, and fn may still be using
 * the job and arg (which live in the awaiting frame), so a cancelled await
 * does not return until the worker is done with them: it keeps waiting,
 * then returns ASYNC_ECANCELED and fn's result is discarded. A job that no
 * worker has started yet is withdrawn at once and fn never runs.
 *
 * Errors: ASYNC_EINVAL (NULL job or fn, or the loop's port is not a POSIX
 * port), ASYNC_ENOTASK (not in a task), ASYNC_EBUSY (another task is
 * awaiting this job), ASYNC_ESYS (no worker thread could be started;
 * errno says why), ASYNC_ECANCELED. Loop thread only. */
int async_to_thread(async_loop_t *loop, async_job_t *job, async_job_fn *fn,
                    void *arg);
#endif

#ifdef __cplusplus
}
#endif

#endif /* ASYNC_POSIX_H */
