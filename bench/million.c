/* SPDX-License-Identifier: MIT */
/*
 * million.c - a million concurrently sleeping tasks in one process.
 *
 *     million [N [SPAN]]             defaults: N=1000000 SPAN=1000000
 *
 * The program (never the library) allocates, with malloc, one record per
 * task holding its async_task_t and its frame, and the loop's timer heap
 * with room for all N. Every task sleeps a random delay in [1, SPAN] ticks
 * and finishes; after the first turn all N are asleep at once (checked,
 * not assumed). The loop is on virtual time, so the wall time is pure CPU.
 *
 * Printed: wall time per phase, peak RSS (getrusage) before and after, and
 * the growth divided by N, next to what the structures themselves need.
 */
#include "bench.h"

#include "async.h"

struct sleeper {
    async_frame_t co;
    async_tick_t delay;
};

/* One task's memory: what a user of the library allocates per task. */
struct record {
    async_task_t task;
    struct sleeper frame;
};

static int sleeper(async_loop_t *loop, void *frame)
{
    struct sleeper *f = frame;
    ASYNC_BEGIN(loop, f);
    AWAIT(async_sleep(loop, f->delay));
    ASYNC_END;
}

int main(int argc, char **argv)
{
    long n, span, i, asleep = 0, bad = 0, rss0, rss1;
    async_loop_t loop = {0};
    async_timer_t **heap;
    struct record *rec;
    uint64_t seed = BENCH_SEED;
    double t0, t1, t2, t3;

    n = bench_arg(argc, argv, 1, 1000000);
    span = bench_arg(argc, argv, 2, 1000000);
    if ((unsigned long)span > ASYNC_MAX_DELAY) {
        fprintf(stderr, "million: SPAN must be <= %lu\n",
                (unsigned long)ASYNC_MAX_DELAY);
        return 2;
    }
    rss0 = bench_peak_rss();

    t0 = bench_now();
    heap = malloc((size_t)n * sizeof *heap);
    rec = calloc((size_t)n, sizeof *rec); /* frames must start zeroed */
    if (!heap || !rec) {
        fprintf(stderr, "million: out of memory\n");
        return 1;
    }
    async_loop_init(&loop, heap, (uint32_t)n);
    for (i = 0; i < n; i++) {
        rec[i].frame.delay = (async_tick_t)(bench_lcg(&seed) % (uint32_t)span + 1u);
        async_task_create(&loop, &rec[i].task, sleeper, &rec[i].frame);
    }
    t1 = bench_now();
    async_loop_run_once(&loop); /* each task starts and goes to sleep */
    t2 = bench_now();
    for (i = 0; i < n; i++)
        if (async_task_state(&rec[i].task) == ASYNC_TASK_SLEEPING)
            asleep++;
    while (async_loop_run_once(&loop) > 0)
        ;
    t3 = bench_now();
    rss1 = bench_peak_rss();

    for (i = 0; i < n; i++)
        if (async_task_result(&rec[i].task) != 0)
            bad++;
    if (bad || asleep != n || async_loop_close(&loop) != 0) {
        fprintf(stderr, "million: %ld asleep together, %ld failed\n", asleep,
                bad);
        return 1;
    }
    printf("million: N=%ld span=%ld, %ld asleep at once\n", n, span, asleep);
    printf("  create %.3f s, first turn (all go to sleep) %.3f s, "
           "run to completion %.3f s, total %.3f s\n",
           t1 - t0, t2 - t1, t3 - t2, t3 - t0);
    printf("  peak RSS %.1f MiB (%.1f MiB before allocating): "
           "%.1f bytes per task\n",
           (double)rss1 / 1048576.0, (double)rss0 / 1048576.0,
           (double)(rss1 - rss0) / (double)n);
    printf("  allocated per task: %zu (task %zu + frame %zu, padded) + %zu "
           "(heap slot) = %zu bytes\n",
           sizeof(struct record), sizeof(async_task_t), sizeof(struct sleeper),
           sizeof *heap, sizeof(struct record) + sizeof *heap);
    free(rec);
    free(heap);
    return 0;
}
