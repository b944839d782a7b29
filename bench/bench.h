/* SPDX-License-Identifier: MIT */
/*
 * bench.h - the few helpers every benchmark shares: a monotonic clock, peak
 * RSS, a seeded generator and argument parsing. Header-only and static, so
 * each benchmark stays one file plus this.
 *
 * Benchmarks print figures; they never judge them. The instruction counts
 * that the targets are stated in come from callgrind.sh, which runs these
 * programs twice with different sizes and differences the totals.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

/* A function callgrind can find by name (--toggle-collect) must exist as a
 * real call, not be inlined into its caller. */
#if defined(__GNUC__)
#define BENCH_NOINLINE __attribute__((__noinline__))
#else
#define BENCH_NOINLINE
#endif

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Peak resident set size of this process so far, in bytes. */
static inline long bench_peak_rss(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss * 1024L; /* Linux reports kilobytes */
}

/* A 64-bit linear congruential generator (Knuth's MMIX constants), so the
 * library and libuv programs draw exactly the same delays. */
static inline uint32_t bench_lcg(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(*state >> 33);
}

#define BENCH_SEED 12345u

/* argv[i] as a positive count, or def when absent. Exits on garbage, so a
 * typo never silently measures the default. */
static inline long bench_arg(int argc, char **argv, int i, long def)
{
    char *end;
    long v;
    if (i >= argc)
        return def;
    v = strtol(argv[i], &end, 10);
    if (*argv[i] == '\0' || *end != '\0' || v <= 0) {
        fprintf(stderr, "%s: argument %d must be a positive integer, got '%s'\n",
                argv[0], i, argv[i]);
        exit(2);
    }
    return v;
}

#endif /* BENCH_H */
