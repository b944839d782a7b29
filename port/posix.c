/* SPDX-License-Identifier: MIT */
/*
 * posix.c - the POSIX port: CLOCK_MONOTONIC ticks, poll() idle, a wake
 * descriptor, and the to_thread worker pool. See posix.h for the API.
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

/* Linux has eventfd; ASYNC_POSIX_PIPE=1 selects the self-pipe there too
 * (the tests build both). */
#if defined(__linux__) && !(defined(ASYNC_POSIX_PIPE) && ASYNC_POSIX_PIPE)
#include <sys/eventfd.h>
#define USE_EVENTFD 1
#else
#define USE_EVENTFD 0
#endif

/* The `signalled` flag saves a system call per post: only the wake that
 * turns it from 0 to 1 writes to the descriptor. Where the compiler has no
 * atomic builtins every wake writes, which is correct, only slower. */
#if defined(__GNUC__)
#define FLAG_SET(p) __atomic_exchange_n(&(p)->signalled, 1, __ATOMIC_ACQ_REL)
#define FLAG_CLEAR(p)                                                         \
    ((void)__atomic_exchange_n(&(p)->signalled, 0, __ATOMIC_ACQ_REL))
#else
#define FLAG_SET(p) 0
#define FLAG_CLEAR(p) ((void)0)
#endif

/* -------------------------------------------------------------- the port */

static async_tick_t posix_now(void *ctx)
{
    async_posix_t *p = ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    p->last = (async_tick_t)((uint64_t)ts.tv_sec * 1000u +
                             (uint64_t)ts.tv_nsec / 1000000u);
    return p->last;
}

/* Make the descriptor readable. Called by async_post from any thread or
 * signal handler: only async-signal-safe calls, and errno is preserved so
 * that an interrupted thread does not see it change. */
static void posix_wake(void *ctx)
{
    async_posix_t *p = ctx;
    int saved = errno;
    if (!FLAG_SET(p)) {
#if USE_EVENTFD
        uint64_t one = 1;
        if (write(p->wfd, &one, sizeof one) < 0) {
            /* Only EAGAIN at a counter near 2^64: still readable. */
        }
#else
        char one = 1;
        if (write(p->wfd, &one, 1) < 0) {
            /* EAGAIN: the pipe is full, so it is readable anyway. */
        }
#endif
    }
    errno = saved;
}

int async_posix_drain(async_posix_t *p)
{
    if (!p || p->rfd < 0)
        return ASYNC__MISUSE(ASYNC_EINVAL, "async_posix_drain: NULL or "
                                           "closed port");
#if USE_EVENTFD
    {
        uint64_t count;
        while (read(p->rfd, &count, sizeof count) < 0 && errno == EINTR)
            ;
    }
#else
    {
        char buf[64];
        ssize_t n;
        do
            n = read(p->rfd, buf, sizeof buf);
        while (n == (ssize_t)sizeof buf || (n < 0 && errno == EINTR));
    }
#endif
    /* Cleared after the descriptor is empty, and by an exchange, not a
     * store. A wake that still finds the flag set skips its write; that is
     * safe only because the exchange makes this thread see what that waker
     * did before waking (its post), so the turn that follows runs it. A
     * plain store would let this thread's next look at the posted list
     * miss the post while the waker missed the cleared flag: a lost wake. */
    FLAG_CLEAR(p);
    return 0;
}

/* Sleep until the deadline or a wake. ticks counts from the tick now()
 * last returned: what has passed since (a signal handler, the thread
 * descheduled) comes off. poll() sleeps at least ms, so the next turn's
 * tick has reached the deadline; a signal may end it early, which the
 * port contract allows. */
static void posix_idle(void *ctx, async_tick_t ticks)
{
    async_posix_t *p = ctx;
    const async_tick_t from = p->last;
    struct pollfd pfd;
    int ms;
    if (ticks != ASYNC_FOREVER) {
        const async_tick_t gone = (async_tick_t)(posix_now(p) - from);
        ticks = gone < ticks ? (async_tick_t)(ticks - gone) : 0u;
    }
    if (ticks == ASYNC_FOREVER)
        ms = -1;
#if ASYNC_CONFIG_TICK_BITS > 16 /* a 16-bit tick always fits an int */
    else if (ticks > (async_tick_t)INT_MAX)
        ms = INT_MAX;
#endif
    else
        ms = (int)ticks;
    pfd.fd = p->rfd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, ms) > 0)
        async_posix_drain(p);
}

int async_posix_fd(const async_posix_t *p)
{
    if (!p || p->rfd < 0)
        return ASYNC__MISUSE(ASYNC_EINVAL, "async_posix_fd: NULL or closed "
                                           "port");
    return p->rfd;
}

static int open_wake(async_posix_t *p)
{
#if USE_EVENTFD
    p->rfd = p->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return p->rfd < 0 ? -1 : 0;
#else
    int fd[2], i;
    if (pipe(fd) < 0)
        return -1;
    for (i = 0; i < 2; i++) {
        if (fcntl(fd[i], F_SETFL, fcntl(fd[i], F_GETFL) | O_NONBLOCK) < 0 ||
            fcntl(fd[i], F_SETFD, FD_CLOEXEC) < 0) {
            int saved = errno;
            close(fd[0]);
            close(fd[1]);
            errno = saved;
            return -1;
        }
    }
    p->rfd = fd[0];
    p->wfd = fd[1];
    return 0;
#endif
}

static void close_wake(async_posix_t *p)
{
    if (p->wfd != p->rfd)
        close(p->wfd);
    close(p->rfd);
    p->rfd = p->wfd = -1;
}

int async_posix_init(async_posix_t *p)
{
#if ASYNC_CONFIG_THREADS
    int rc;
#endif
    if (!p)
        return ASYNC__MISUSE(ASYNC_EINVAL, "async_posix_init: NULL port");
    p->rfd = p->wfd = -1;
    p->signalled = 0;
    p->last = 0;
    if (open_wake(p) < 0) {
        p->rfd = p->wfd = -1;
        return ASYNC_ESYS;
    }
#if ASYNC_CONFIG_THREADS
    if ((rc = pthread_mutex_init(&p->lock, NULL)) != 0) {
        close_wake(p);
        errno = rc;
        return ASYNC_ESYS;
    }
    if ((rc = pthread_cond_init(&p->work, NULL)) != 0) {
        pthread_mutex_destroy(&p->lock);
        close_wake(p);
        errno = rc;
        return ASYNC_ESYS;
    }
    p->head = p->tail = NULL;
    p->queued = p->started = p->idle = 0;
    p->stop = 0;
#endif
    p->port.now = posix_now;
    p->port.idle = posix_idle;
    p->port.wake = posix_wake;
    p->port.ctx = p;
    return 0;
}

void async_posix_close(async_posix_t *p)
{
    if (!p || p->rfd < 0)
        return;
#if ASYNC_CONFIG_THREADS
    {
        unsigned i;
        pthread_mutex_lock(&p->lock);
        p->stop = 1;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->lock);
        for (i = 0; i < p->started; i++)
            pthread_join(p->thread[i], NULL);
        p->started = 0;
        pthread_cond_destroy(&p->work);
        pthread_mutex_destroy(&p->lock);
    }
#endif
    close_wake(p);
}

#if ASYNC_CONFIG_THREADS
/* ------------------------------------------------------------ to_thread */
/*
 * A job goes: submitted (queued under the pool lock) -> taken by a worker
 * (queued = 0), which runs fn and posts the job's callback -> the callback,
 * on the loop, completes the job's future -> the awaiting coroutine, woken
 * by the future, returns the result.
 *
 * async_post is the worker's last touch of the job: once the loop has run
 * the callback, the job and fn's argument belong to the loop thread again.
 * So "the future is done" means "no worker uses the job any more".
 *
 * The await is a small coroutine of its own (job_run, over the job as its
 * frame) that async_to_thread awaits in place with async_call. That gives
 * it the loop's normal resume rules, so it works under any AWAIT form and
 * inside async_wait_for, and it lets cancellation be handled where it is
 * delivered: at job_run's wait on the future. A cancelled wait whose job
 * a worker holds does not end job_run. It records the cancellation and
 * waits on the future again (the cancel was delivered, so that wait
 * suspends normally; a further cancel is absorbed the same way), and when
 * the worker has finished it returns ASYNC_ECANCELED instead of the result.
 * A job still in the queue is unlinked instead: no thread has seen it.
 * (A cleanup-section await would also shield the wait, but it would make
 * the cancelled coroutine's own result harder to keep exact; the loop on
 * the future needs nothing from the caller.)
 */

/* The POSIX port behind the loop, found through the loop's port: only a
 * POSIX port has posix_now as its clock. The loop's fields are private to
 * the library; a port is part of it. */
static async_posix_t *posix_of(const async_loop_t *loop)
{
    const async_port_t *port = async_loop_port(loop);
    async_posix_t *p;
    if (!port || port->now != posix_now)
        return NULL;
    p = port->ctx;
    return p->rfd < 0 ? NULL : p; /* closed */
}

static void *worker(void *arg)
{
    async_posix_t *p = arg;
    async_job_t *job;
    async_loop_t *loop;
    int r;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stop) {
            p->idle++;
            pthread_cond_wait(&p->work, &p->lock);
            p->idle--;
        }
        job = p->head;
        if (!job)
            break; /* stopping, and nothing left to run */
        p->head = job->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        job->queued = 0;
        pthread_mutex_unlock(&p->lock);

        loop = job->loop;
        r = job->fn(job->arg);
        job->result = r == ASYNC_WAIT ? ASYNC_EINVAL : r;
        /* The last access to *job: after this the loop may reuse it. */
        async_post(loop, &job->posted);

        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* On the loop: the worker is done; complete the awaited future. */
static void job_done(async_loop_t *loop, async_callback_t *cb)
{
    async_job_t *job = cb->arg;
    (void)loop;
    async_future_set(&job->done, job->result);
}

/* Start one more worker, with every signal blocked so that signals meant
 * for the program's own threads are never handled on a pool thread.
 * Called with the pool lock held. */
static int start_worker(async_posix_t *p)
{
    sigset_t all, old;
    int rc;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&p->thread[p->started], NULL, worker, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return rc;
    p->started++;
    return 0;
}

/* Queue the job, starting a worker if the idle ones cannot take every
 * queued job. Returns 0, or ASYNC_ESYS when there is no worker at all. */
static int submit(async_posix_t *p, async_job_t *job)
{
    int rc;

    pthread_mutex_lock(&p->lock);
    if (p->idle <= p->queued && p->started < ASYNC_POSIX_WORKERS) {
        rc = start_worker(p);
        if (rc != 0 && p->started == 0) {
            pthread_mutex_unlock(&p->lock);
            errno = rc;
            return ASYNC_ESYS;
        }
    }
    job->next = NULL;
    job->queued = 1;
    p->queued++;
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

/* Take the job back if no worker has started it. O(queue length). */
static int withdraw(async_posix_t *p, async_job_t *job)
{
    async_job_t **link, *prev = NULL;
    int taken = 0;
    pthread_mutex_lock(&p->lock);
    if (job->queued) {
        for (link = &p->head; *link != job; link = &(*link)->next)
            prev = *link;
        *link = job->next;
        if (p->tail == job)
            p->tail = prev;
        p->queued--;
        job->queued = 0;
        taken = 1;
    }
    pthread_mutex_unlock(&p->lock);
    return taken;
}

/* The await itself, run in place of the caller's AWAIT (see above). */
static int job_run(async_loop_t *loop, void *frame)
{
    async_job_t *job = frame;
    ASYNC_BEGIN(loop, job);
    job->rc = submit(job->pool, job);
    if (job->rc < 0)
        ASYNC_RETURN(job->rc);
    AWAIT_TRY(job->rc, async_future_wait(loop, &job->done));
    while (job->rc == ASYNC_ECANCELED && !async_future_done(&job->done)) {
        if (withdraw(job->pool, job))
            ASYNC_RETURN(ASYNC_ECANCELED); /* fn never ran */
        job->cancelled = 1; /* a worker holds the job: wait it out */
        AWAIT_TRY(job->rc, async_future_wait(loop, &job->done));
    }
    ASYNC_RETURN(job->cancelled ? ASYNC_ECANCELED : job->rc);
    ASYNC_END;
}

int async_to_thread(async_loop_t *loop, async_job_t *job, async_job_fn *fn,
                    void *arg)
{
    async_task_t *t = async_current(loop);
    async_posix_t *p;
    int rc;

    if (!t)
        return ASYNC__MISUSE(ASYNC_ENOTASK, "async_to_thread outside a task");
    if (!job)
        return ASYNC__MISUSE(ASYNC_EINVAL, "async_to_thread: NULL job");
    if (job->busy) {
        /* Evaluated again once job_run has ended: its result. */
        if (job->task != t)
            return ASYNC__MISUSE(ASYNC_EBUSY, "async_to_thread: another "
                                              "task awaits this job");
        rc = async_call(loop, job_run, job);
        if (rc != ASYNC_WAIT)
            job->busy = 0;
        return rc;
    }
    if (!fn || !(p = posix_of(loop)))
        return ASYNC__MISUSE(ASYNC_EINVAL, "async_to_thread: NULL function, "
                                           "or no open POSIX port");
    if (async_future_init(&job->done, loop) < 0 ||
        async_callback_init(&job->posted, job_done, job) < 0)
        return ASYNC_EBUSY; /* only if the job was copied mid-flight */
    job->fn = fn;
    job->arg = arg;
    job->loop = loop;
    job->pool = p;
    job->task = t;
    job->result = 0;
    job->cancelled = 0;
    rc = async_call(loop, job_run, job);
    if (rc == ASYNC_WAIT)
        job->busy = 1;
    return rc;
}
#endif /* ASYNC_CONFIG_THREADS */
