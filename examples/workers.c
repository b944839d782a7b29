/* SPDX-License-Identifier: MIT */
/* qemu: yes */
/*
 * workers.c - the asyncio documentation's queue example, in C.
 *
 * Twenty jobs of random length go into a queue. Three worker tasks take
 * them one at a time, "work" by sleeping, and mark each job done. The main
 * coroutine waits in join() until every job is done, then cancels the
 * workers (they would wait forever for a job that never comes) and gathers
 * them, taking their errors as results. The three sleep at the same time,
 * so the run takes about a third of the total sleep time.
 *
 * Python                                 C
 *   await queue.get()                      AWAIT(async_queue_get(...))
 *   await asyncio.sleep(t)                 AWAIT(async_sleep(loop, t))
 *   queue.task_done()                      async_queue_task_done(&queue)
 *   asyncio.create_task(worker(...))       async_task_create(...)
 *   await queue.join()                     AWAIT(async_queue_join(...))
 *   task.cancel()                          async_task_cancel(loop, &task)
 *   gather(*tasks, return_exceptions=True) ASYNC_GATHER_ALL
 */
#include "example.h"

#define JOBS 20
#define WORKERS 3

struct job {
    int id;
    uint32_t ms; /* how long the job takes */
};

static async_queue_t queue;
static struct job queue_storage[JOBS]; /* the queue copies items in here */
static int times_done[JOBS];           /* for the self-check */

/* A worker's frame: everything that must survive an AWAIT lives here. */
struct worker {
    async_frame_t co;
    int id;
    struct job job;
};

static int worker(async_loop_t *loop, void *frame)
{
    struct worker *w = frame;
    ASYNC_BEGIN(loop, w);
    for (;;) {
        /* Take a job, waiting while the queue is empty. */
        AWAIT(async_queue_get(loop, &queue, &w->job));
        /* Do the work: here, sleep as long as the job takes. */
        AWAIT(async_sleep(loop, w->job.ms));
        /* Tell the queue this job is finished; join() counts these. As in
         * the asyncio docs, this is safe only because nothing cancels a
         * worker in mid-job (main cancels them after join). A worker that
         * can be cancelled or fail mid-job calls task_done in its cleanup
         * section instead: robust_workers.c shows why and how. */
        async_queue_task_done(&queue);
        times_done[w->job.id]++;
        say("worker-%d has slept for %lu.%02lu seconds", w->id,
            SEC2(w->job.ms));
    }
    ASYNC_END;
}

struct app {
    async_frame_t co;
    struct worker workers[WORKERS];
    async_task_t tasks[WORKERS];
    async_task_t *task_list[WORKERS]; /* what gather takes */
    async_gather_t gather;
    async_gather_slot_t slots[WORKERS];
    unsigned long total_ms, started_ms, parallel_ms;
    int i;
};

static int app(async_loop_t *loop, void *frame)
{
    struct app *a = frame;
    struct job job; /* a C local: fine, as it is not used across an AWAIT */
    int ok;
    ASYNC_BEGIN(loop, a);
    async_queue_init(&queue, loop, queue_storage, sizeof(struct job), JOBS,
                     ASYNC_QUEUE_FIFO, NULL);

    /* The workload: twenty jobs of 0.05 to 1 second. */
    lcg_seed(2021);
    for (a->i = 0; a->i < JOBS; a->i++) {
        job.id = a->i;
        job.ms = lcg_between(50, 1000);
        a->total_ms += job.ms;
        async_queue_put_nowait(&queue, &job);
    }

    /* Three workers. create_task returns at once: they start on the
     * loop's next turn, once this coroutine suspends. */
    for (a->i = 0; a->i < WORKERS; a->i++) {
        a->workers[a->i].id = a->i;
        async_task_create(loop, &a->tasks[a->i], worker, &a->workers[a->i]);
        a->task_list[a->i] = &a->tasks[a->i];
    }

    /* Wait until every job has been marked done. */
    a->started_ms = example_ms();
    AWAIT(async_queue_join(loop, &queue));
    a->parallel_ms = example_ms() - a->started_ms;

    /* The workers now wait in get() for good: cancel them, and wait until
     * they have finished. With ASYNC_GATHER_ALL each one's error is its
     * result, as with return_exceptions=True. */
    for (a->i = 0; a->i < WORKERS; a->i++)
        async_task_cancel(loop, &a->tasks[a->i]);
    async_gather_init(&a->gather, a->slots, WORKERS, ASYNC_GATHER_ALL);
    AWAIT(async_gather(loop, &a->gather, a->task_list));

    printf("====\n");
    printf("%d workers slept in parallel for %lu.%02lu seconds\n", WORKERS,
           SEC2(a->parallel_ms));
    printf("total expected sleep time: %lu.%02lu seconds\n",
           SEC2(a->total_ms));
    for (a->i = 0; a->i < WORKERS; a->i++)
        printf("worker-%d ended with %s\n", a->i,
               async_strerror_name(async_gather_result(&a->gather, a->i)));

    /* Three workers can at best divide the total by three. */
    check(a->parallel_ms < a->total_ms &&
              a->parallel_ms * WORKERS >= a->total_ms,
          "parallel time is below the total, and at least a third of it");
    ok = 1;
    for (a->i = 0; a->i < JOBS; a->i++)
        ok = ok && times_done[a->i] == 1;
    check(ok, "every job was done exactly once");
    ok = 1;
    for (a->i = 0; a->i < WORKERS; a->i++)
        ok = ok && async_gather_result(&a->gather, a->i) == ASYNC_ECANCELED;
    check(ok, "every worker ended cancelled");
    ASYNC_END;
}

int main(int argc, char **argv)
{
    static struct app a;
    return example_run(argc, argv, app, &a);
}
