/* SPDX-License-Identifier: MIT */
/*
 * timers.c - timer insert cost with up to N timers pending.
 *
 *     timers [N [SPAN]]              defaults: N=1000000 SPAN=1000
 *
 * N tasks each sleep once for a random delay in [1, SPAN] ticks (seeded
 * LCG, the same draws as uv_timers.c), then finish. All N sleeps start in
 * the loop's first turn, so the heap grows from 0 to N pending timers.
 *
 * What is counted. Every sleep's FIRST evaluation - the one that inserts
 * the timer - goes through bench_sleep_insert(); when the task resumes, the
 * re-evaluated AWAIT calls async_sleep directly. callgrind.sh runs this
 * with --toggle-collect=bench_sleep_insert*, so the collected instructions
 * are exactly: the call into the wrapper, async_sleep's checks, and the
 * heap insert (timer_start, heap_up) - nothing of task creation, resuming,
 * expiry or the loop. Divided by N that is the average insert cost into a
 * heap growing to N. The wrapper itself adds 3 instructions at -O2 (the
 * profile section of callgrind.sh prints them), left in rather than
 * subtracted.
 * callgrind.sh also differences two values of N, which gives the marginal
 * cost of the inserts made while N/2..N timers were already pending.
 *
 * The loop runs on virtual time (no port), so the whole run is instant:
 * the wall-clock figures are the CPU cost of the run, not of waiting.
 */
#include "bench.h"

#include "async.h"

struct sleeper {
    async_frame_t co;
    async_tick_t delay;
    int armed; /* the insert has been made; resumes call async_sleep */
};

/* The measured path: one async_sleep that inserts a timer. */
BENCH_NOINLINE int bench_sleep_insert(async_loop_t *loop, struct sleeper *f);
BENCH_NOINLINE int bench_sleep_insert(async_loop_t *loop, struct sleeper *f)
{
    f->armed = 1;
    return async_sleep(loop, f->delay);
}

static int sleeper(async_loop_t *loop, void *frame)
{
    struct sleeper *f = frame;
    ASYNC_BEGIN(loop, f);
    AWAIT(f->armed ? async_sleep(loop, f->delay) : bench_sleep_insert(loop, f));
    ASYNC_END;
}

int main(int argc, char **argv)
{
    long n, span, i, bad = 0;
    async_loop_t loop = {0};
    async_timer_t **heap;
    async_task_t *tasks;
    struct sleeper *frames;
    uint64_t seed = BENCH_SEED;
    double t0, t1, t2;

    n = bench_arg(argc, argv, 1, 1000000);
    span = bench_arg(argc, argv, 2, 1000);
    if ((unsigned long)span > ASYNC_MAX_DELAY) {
        fprintf(stderr, "timers: SPAN must be <= %lu\n",
                (unsigned long)ASYNC_MAX_DELAY);
        return 2;
    }
    heap = malloc((size_t)n * sizeof *heap);
    tasks = calloc((size_t)n, sizeof *tasks);
    frames = calloc((size_t)n, sizeof *frames);
    if (!heap || !tasks || !frames) {
        fprintf(stderr, "timers: out of memory\n");
        return 1;
    }
    async_loop_init(&loop, heap, (uint32_t)n);
    for (i = 0; i < n; i++) {
        frames[i].delay = (async_tick_t)(bench_lcg(&seed) % (uint32_t)span + 1u);
        async_task_create(&loop, &tasks[i], sleeper, &frames[i]);
    }

    t0 = bench_now();
    async_loop_run_once(&loop); /* every task runs once: N inserts */
    t1 = bench_now();
    while (async_loop_run_once(&loop) > 0)
        ;
    t2 = bench_now();

    for (i = 0; i < n; i++)
        if (async_task_result(&tasks[i]) != 0 || !frames[i].armed)
            bad++;
    if (bad || async_loop_close(&loop) != 0) {
        fprintf(stderr, "timers: %ld tasks did not finish cleanly\n", bad);
        return 1;
    }
    printf("timers: N=%ld span=%ld first turn (resume + insert) %.1f ns/task, "
           "expiry and finish %.1f ns/task, last tick %lu\n",
           n, span, (t1 - t0) * 1e9 / (double)n, (t2 - t1) * 1e9 / (double)n,
           (unsigned long)async_loop_now(&loop));
    free(frames);
    free(tasks);
    free(heap);
    return 0;
}
