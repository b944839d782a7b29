/* SPDX-License-Identifier: MIT */
/*
 * uv_timers.c - the timers.c workload on libuv, for comparison.
 *
 *     uv_timers [N [SPAN]]           defaults: N=1000000 SPAN=1000
 *
 * N timers started with uv_timer_start at random delays in [1, SPAN] ms,
 * drawn by the same seeded LCG as timers.c, then uv_run until all fired.
 * Each start goes through bench_timer_insert(), so callgrind.sh counts only
 * the inserts with --toggle-collect=bench_timer_insert*, exactly as for
 * timers.c (the wrapper's few instructions are included in both). libuv
 * runs on the wall clock, so the run phase really waits up to SPAN ms;
 * only the insert figures are comparable with timers.c.
 */
#include "bench.h"

#include <uv.h>

static long fired;

static void on_timer(uv_timer_t *timer)
{
    (void)timer;
    fired++;
}

/* The measured path: one uv_timer_start. */
BENCH_NOINLINE int bench_timer_insert(uv_timer_t *timer, uint64_t ms);
BENCH_NOINLINE int bench_timer_insert(uv_timer_t *timer, uint64_t ms)
{
    return uv_timer_start(timer, on_timer, ms, 0);
}

int main(int argc, char **argv)
{
    long n, span, i;
    uv_loop_t loop;
    uv_timer_t *timers;
    uint64_t seed = BENCH_SEED;
    double t0, t1, t2;

    n = bench_arg(argc, argv, 1, 1000000);
    span = bench_arg(argc, argv, 2, 1000);
    timers = calloc((size_t)n, sizeof *timers);
    if (!timers || uv_loop_init(&loop) != 0) {
        fprintf(stderr, "uv_timers: setup failed\n");
        return 1;
    }
    for (i = 0; i < n; i++)
        uv_timer_init(&loop, &timers[i]);

    t0 = bench_now();
    for (i = 0; i < n; i++)
        bench_timer_insert(&timers[i], bench_lcg(&seed) % (uint32_t)span + 1u);
    t1 = bench_now();
    uv_run(&loop, UV_RUN_DEFAULT);
    t2 = bench_now();

    if (fired != n) {
        fprintf(stderr, "uv_timers: %ld of %ld timers fired\n", fired, n);
        return 1;
    }
    for (i = 0; i < n; i++)
        uv_close((uv_handle_t *)&timers[i], NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0) {
        fprintf(stderr, "uv_timers: loop not empty\n");
        return 1;
    }
    printf("uv_timers: N=%ld span=%ld ms insert %.1f ns/timer (incl. LCG), "
           "run %.3f s (waits for the wall clock)\n",
           n, span, (t1 - t0) * 1e9 / (double)n, t2 - t1);
    free(timers);
    return 0;
}
