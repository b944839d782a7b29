/* SPDX-License-Identifier: MIT */
/*
 * yield.c - one yield+resume cycle through the loop.
 *
 *     yield [K [DEPTH [TASKS]]]      defaults: K=1000 DEPTH=1 TASKS=1000
 *
 * TASKS tasks are ready at once; each loops AWAIT(async_yield(loop)) K
 * times, so the loop performs TASKS*K cycles (suspend, queue at the tail of
 * the ready FIFO, be resumed on the next turn). With DEPTH > 1 each task is
 * a chain of DEPTH frames: DEPTH-1 levels of `nest` joined by async_call,
 * and the same `yielder` innermost. Resuming it should cost the same at
 * every depth, because the loop resumes the innermost frame directly.
 *
 * The wall-clock figure printed here includes creating the tasks and
 * tearing them down; callgrind.sh removes that fixed part by running two
 * values of K and differencing instruction counts.
 */
#include "bench.h"

#include "async.h"

struct level {
    async_frame_t co;
    struct level *child; /* the next frame inward; NULL in the innermost */
    long left;
};

static long rounds; /* K: yields per task */

/* The measured coroutine: yield K times. */
static int yielder(async_loop_t *loop, void *frame)
{
    struct level *f = frame;
    ASYNC_BEGIN(loop, f);
    for (f->left = rounds; f->left > 0; f->left--)
        AWAIT(async_yield(loop));
    ASYNC_END;
}

/* An outer level: await the next frame inward, which is the yielder in
 * the innermost place. Runs only at the start and the end of the task. */
static int nest(async_loop_t *loop, void *frame)
{
    struct level *f = frame;
    ASYNC_BEGIN(loop, f);
    AWAIT(async_call(loop, f->child->child ? nest : yielder, f->child));
    ASYNC_END;
}

int main(int argc, char **argv)
{
    long depth, ntasks, i, d, bad = 0;
    async_loop_t loop = {0};
    async_task_t *tasks;
    struct level *frames;
    double t0, t1;

    rounds = bench_arg(argc, argv, 1, 1000);
    depth = bench_arg(argc, argv, 2, 1);
    ntasks = bench_arg(argc, argv, 3, 1000);

    tasks = calloc((size_t)ntasks, sizeof *tasks);
    frames = calloc((size_t)(ntasks * depth), sizeof *frames);
    if (!tasks || !frames) {
        fprintf(stderr, "yield: out of memory\n");
        return 1;
    }
    async_loop_init(&loop, NULL, 0); /* yielding needs no timer heap */

    t0 = bench_now();
    for (i = 0; i < ntasks; i++) {
        struct level *chain = &frames[i * depth];
        for (d = 0; d + 1 < depth; d++)
            chain[d].child = &chain[d + 1];
        async_task_create(&loop, &tasks[i], depth > 1 ? nest : yielder, chain);
    }
    while (async_loop_run_once(&loop) > 0)
        ;
    t1 = bench_now();

    for (i = 0; i < ntasks; i++)
        if (async_task_result(&tasks[i]) != 0)
            bad++;
    if (bad || async_loop_close(&loop) != 0) {
        fprintf(stderr, "yield: %ld tasks did not finish cleanly\n", bad);
        return 1;
    }
    printf("yield: tasks=%ld K=%ld depth=%ld cycles=%ld wall=%.3f s "
           "ns/cycle=%.2f\n",
           ntasks, rounds, depth, ntasks * rounds, t1 - t0,
           (t1 - t0) * 1e9 / (double)(ntasks * rounds));
    free(frames);
    free(tasks);
    return 0;
}
