/* SPDX-License-Identifier: MIT */
/* qemu: yes */
/*
 * robust_workers.c - call task_done in a finally, or join can hang.
 *
 * join() waits until task_done has been called once for every item put.
 * If a job fails between get and task_done and the worker skips task_done,
 * the count never reaches zero and join waits forever. Here some jobs fail
 * (bad data), and the same workload runs twice:
 *
 *   1. careless workers skip task_done when a job fails. The join is
 *      bounded with async_wait_for, so instead of hanging it ends with
 *      ASYNC_ETIMEDOUT, and async_queue_unfinished shows what was lost.
 *   2. careful workers hand each job to a child coroutine, process(), whose
 *      cleanup section calls task_done. It runs however the job ends, so
 *      join returns.
 *
 * The shape matters. A common Python version wraps get() itself in the
 * try, so its finally also runs when an idle worker is cancelled inside
 * get(), and calls task_done for an item it never got. Here the cleanup
 * belongs to process(), which starts only once get() has returned an item:
 * task_done runs exactly once per item got.
 */
#include "example.h"

#define JOBS 12
#define WORKERS 3
#define JOIN_LIMIT_MS 2000 /* the workload needs about 1.3 s */

/* The application's own error code. Any negative int works as a result;
 * staying well below the library's ASYNC_E... codes keeps them apart. */
#define JOB_EBADDATA (-100)

struct job {
    int id;
    uint32_t ms; /* how long the job takes */
    int bad;     /* 1: the job fails when it is done */
};

static async_queue_t queue;
static struct job queue_storage[JOBS];
static int items_got, task_dones, failures; /* counted for the checks */

/* Part 1: the careless worker. */
struct careless {
    async_frame_t co;
    int id;
    struct job job;
};

static int careless_worker(async_loop_t *loop, void *frame)
{
    struct careless *w = frame;
    ASYNC_BEGIN(loop, w);
    for (;;) {
        AWAIT(async_queue_get(loop, &queue, &w->job));
        items_got++;
        AWAIT(async_sleep(loop, w->job.ms));
        if (w->job.bad) {
            failures++;
            say("worker-%d: job %d failed: bad data", w->id, w->job.id);
            continue; /* the bug: this path never calls task_done */
        }
        async_queue_task_done(&queue);
        task_dones++;
        say("worker-%d: job %d done", w->id, w->job.id);
    }
    ASYNC_END;
}

/* Part 2: one job, from the moment it has been got. */
struct process {
    async_frame_t co;
    int worker;
    struct job job;
};

static int process(async_loop_t *loop, void *frame)
{
    struct process *p = frame;
    ASYNC_BEGIN(loop, p);
    AWAIT(async_sleep(loop, p->job.ms));
    if (p->job.bad)
        ASYNC_RETURN(JOB_EBADDATA); /* like raising: the cleanup runs next */
    say("worker-%d: job %d done", p->worker, p->job.id);
    ASYNC_FINALLY;
    /* The finally: runs when the job succeeds, fails, or is
     * cancelled half-way, and never for an item that was not got. */
    async_queue_task_done(&queue);
    task_dones++;
    ASYNC_END;
}

struct careful {
    async_frame_t co;
    int id, rc;
    struct process job; /* the child's frame, reused for every job */
};

static int careful_worker(async_loop_t *loop, void *frame)
{
    struct careful *w = frame;
    ASYNC_BEGIN(loop, w);
    for (;;) {
        AWAIT(async_queue_get(loop, &queue, &w->job.job));
        items_got++;
        w->job.worker = w->id;
        /* AWAIT_TRY is try/except: the child's error comes back as a value
         * instead of ending this worker. */
        AWAIT_TRY(w->rc, async_call(loop, process, &w->job));
        if (w->rc == ASYNC_ECANCELED)
            ASYNC_RETURN(w->rc); /* never swallow a cancellation */
        if (w->rc < 0) {
            failures++;
            say("worker-%d: job %d failed: bad data", w->id, w->job.job.id);
        }
    }
    ASYNC_END;
}

/* One round: fill the queue, run three workers of one kind, and wait for
 * join, at most JOIN_LIMIT_MS. Then cancel the workers and gather them. */
struct round {
    async_frame_t co;
    async_fn *worker;          /* in: careless_worker or careful_worker */
    int join_rc;               /* out: how join ended */
    int unfinished;            /* out: items put and never marked done */
    union {                    /* the workers' frames */
        struct careless careless[WORKERS];
        struct careful careful[WORKERS];
    } w;
    async_task_t tasks[WORKERS];
    async_task_t *task_list[WORKERS];
    async_gather_t gather;
    async_gather_slot_t slots[WORKERS];
    async_timeout_t limit;
    int i;
};

static int round_run(async_loop_t *loop, void *frame)
{
    struct round *r = frame;
    struct job job;
    void *worker_frame;
    ASYNC_BEGIN(loop, r);
    async_queue_init(&queue, loop, queue_storage, sizeof(struct job), JOBS,
                     ASYNC_QUEUE_FIFO, NULL);
    items_got = task_dones = failures = 0;

    /* The same workload each round: about one job in four has bad data. */
    lcg_seed(37);
    for (r->i = 0; r->i < JOBS; r->i++) {
        job.id = r->i;
        job.ms = lcg_between(100, 600);
        job.bad = lcg_between(1, 4) == 1;
        async_queue_put_nowait(&queue, &job);
    }
    /* A frame must be zeroed or finished before it is used again; the
     * union held the other kind of worker last round. */
    memset(&r->w, 0, sizeof r->w);
    for (r->i = 0; r->i < WORKERS; r->i++) {
        if (r->worker == careless_worker) {
            r->w.careless[r->i].id = r->i;
            worker_frame = &r->w.careless[r->i];
        } else {
            r->w.careful[r->i].id = r->i;
            worker_frame = &r->w.careful[r->i];
        }
        async_task_create(loop, &r->tasks[r->i], r->worker, worker_frame);
        r->task_list[r->i] = &r->tasks[r->i];
    }

    /* join, but not forever. */
    AWAIT_TRY(r->join_rc, async_wait_for(loop, &r->limit, JOIN_LIMIT_MS,
                                         async_queue_join(loop, &queue)));
    r->unfinished = async_queue_unfinished(&queue);
    if (r->join_rc == 0)
        say("join returned: every job is accounted for, %d failed",
            failures);
    else
        say("join gave up with %s: %d of %d jobs still unfinished",
            async_strerror_name(r->join_rc), r->unfinished, JOBS);

    /* The workers are idle in get(): cancel them and wait for them. */
    for (r->i = 0; r->i < WORKERS; r->i++)
        async_task_cancel(loop, &r->tasks[r->i]);
    async_gather_init(&r->gather, r->slots, WORKERS, ASYNC_GATHER_ALL);
    AWAIT(async_gather(loop, &r->gather, r->task_list));
    ASYNC_END;
}

struct app {
    async_frame_t co;
    struct round round;
};

static int app(async_loop_t *loop, void *frame)
{
    struct app *a = frame;
    ASYNC_BEGIN(loop, a);

    printf("--- 1. careless workers: task_done skipped when a job fails\n");
    a->round.worker = careless_worker;
    AWAIT(async_call(loop, round_run, &a->round));
    check(a->round.join_rc == ASYNC_ETIMEDOUT,
          "join timed out instead of hanging");
    check(failures > 0 && a->round.unfinished == failures,
          "the unfinished items are exactly the failed jobs");

    printf("--- 2. careful workers: task_done in process()'s cleanup\n");
    a->round.worker = careful_worker;
    AWAIT(async_call(loop, round_run, &a->round));
    say("cancelled the idle workers: %d items got, %d task_done calls, "
        "%d unfinished", items_got, task_dones,
        async_queue_unfinished(&queue));
    check(a->round.join_rc == 0, "join returned");
    check(failures > 0, "some jobs failed");
    check(items_got == JOBS && task_dones == items_got,
          "task_done ran once per item got, failed or not");
    check(async_queue_unfinished(&queue) == 0,
          "cancelling idle workers marked nothing done");
    ASYNC_END;
}

int main(int argc, char **argv)
{
    static struct app a;
    return example_run(argc, argv, app, &a);
}
