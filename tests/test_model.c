/* SPDX-License-Identifier: MIT */
/*
 * Model-based randomized test of the queue, its waiters, cancellation,
 * timeouts and timers: fixed seeds each decode into a program of
 * producers, consumers, a joiner, sleepers and a controller that cancels
 * them and may shut the queue down (tests/model.h), run on virtual time
 * or on a clock stepped while tasks are ready. Every result, item, wakeup
 * and tick is checked against a reference model of the documented contract;
 * at the end every item put was got once or discarded, join saw the count
 * reach zero, every task ended with the result the model derives, and the
 * loop closes. The fuzzer (tests/fuzz/fuzz_model.c) runs the same
 * interpreter on arbitrary bytes.
 *
 * Seeds 1..10000 in chunks of 1000, each chunk in its own process; the
 * whole suite takes about 0.6 s at -O0 and 9 s under valgrind.
 * Environment:
 *   ASYNC_TEST_QUICK=1     100 seeds per chunk
 *   ASYNC_MODEL_SEEDS=N    N seeds per chunk instead (a longer soak)
 *   ASYNC_MODEL_TRACE=S    print seed S's program and every operation
 * A failure names its seed; ASYNC_MODEL_TRACE replays it.
 */
#include <stdlib.h>

#include "harness.h"

#define MODEL_FAIL(msg) ck_abort_msg("%s", (msg))
#include "model.h"

enum { CHUNKS = 10, SEEDS_PER_CHUNK = 1000, QUICK_SEEDS = 100 };

static unsigned long env_number(const char *name, unsigned long dflt)
{
    const char *v = getenv(name);
    char *end;
    unsigned long n;
    if (!v || !*v)
        return dflt;
    n = strtoul(v, &end, 10);
    return *end ? dflt : n;
}

static unsigned long seeds_per_chunk(void)
{
    unsigned long n = SEEDS_PER_CHUNK;
    if (env_number("ASYNC_TEST_QUICK", 0))
        n = QUICK_SEEDS;
    return env_number("ASYNC_MODEL_SEEDS", n);
}

/* Run one seed's program; a failure names it. */
static void run_seed(uint32_t seed)
{
    static struct model_program p;
    char label[32];
    model_program_from_seed(&p, seed);
    snprintf(label, sizeof label, "seed %lu", (unsigned long)seed);
    model_trace = env_number("ASYNC_MODEL_TRACE", 0) == seed;
    model_run(&p, label);
    model_trace = 0;
}

/* _i: the chunk. Seeds are numbered from 1 across the chunks. */
START_TEST(every_seed_holds_to_the_model)
{
    unsigned long n = seeds_per_chunk(), s;
    for (s = 1; s <= n; s++)
        run_seed((uint32_t)(_i * n + s));
    ck_assert_uint_eq(model_stats.runs, n);
}
END_TEST

/* The first 2000 seeds, whatever the chunk size, reach every outcome the
 * model distinguishes: otherwise the seeds would test less than they
 * claim. */
START_TEST(the_seeds_reach_every_path)
{
    const struct model_stats *s = &model_stats;
    uint32_t seed;
    for (seed = 1; seed <= 2000; seed++)
        run_seed(seed);
    /* clocks: wrapped during a run, stepped while tasks were ready */
    ck_assert_uint_gt(s->wrapped, 0);
    ck_assert_uint_gt(s->stepped, 0);
    /* every result of put and get, including deadlines wait_for refused
     * (after unwinding, or kept when the op was done at once) */
    ck_assert_uint_gt(s->put_ok, 0);
    ck_assert_uint_gt(s->put_full, 0);
    ck_assert_uint_gt(s->put_shutdown, 0);
    ck_assert_uint_gt(s->put_timeout, 0);
    ck_assert_uint_gt(s->put_cancel, 0);
    ck_assert_uint_gt(s->put_refused, 0);
    ck_assert_uint_gt(s->put_kept, 0);
    ck_assert_uint_gt(s->get_ok, 0);
    ck_assert_uint_gt(s->get_empty, 0);
    ck_assert_uint_gt(s->get_shutdown, 0);
    ck_assert_uint_gt(s->get_timeout, 0);
    ck_assert_uint_gt(s->get_cancel, 0);
    ck_assert_uint_gt(s->get_refused, 0);
    ck_assert_uint_gt(s->get_kept, 0);
    /* the races: a get_nowait refused a promised item; a woken waiter
     * cancelled or timed out before it ran passed its promise on */
    ck_assert_uint_gt(s->barged, 0);
    ck_assert_uint_gt(s->passed_on, 0);
    ck_assert_uint_gt(s->timed_out_woken, 0);
    /* after a shutdown, the last item taken wakes the getters left */
    ck_assert_uint_gt(s->last_item, 0);
    ck_assert_uint_gt(s->join_waited, 0);
    ck_assert_uint_gt(s->join_timeout, 0);
    ck_assert_uint_gt(s->join_cancel, 0);
    /* sleeps: on time, cancelled, and (sleepers) under a deadline that
     * expired first, removing the sleep's timer from the heap */
    ck_assert_uint_gt(s->sleep_ok, 0);
    ck_assert_uint_gt(s->sleep_cancel, 0);
    ck_assert_uint_gt(s->sleep_timeout, 0);
    /* cancellations remembered by a cleanup section, or before a first
     * turn; both kinds of shutdown, with items discarded; task_done
     * refused with nothing outstanding */
    ck_assert_uint_gt(s->shielded_cancel, 0);
    ck_assert_uint_gt(s->cleanup_timeout, 0);
    ck_assert_uint_gt(s->early_cancel, 0);
    ck_assert_uint_gt(s->graceful, 0);
    ck_assert_uint_gt(s->immediate, 0);
    ck_assert_uint_gt(s->discarded, 0);
    ck_assert_uint_gt(s->probes, 0);
}
END_TEST

/* A program is a function of its seed alone: the same seed runs the same
 * turns to the same tick, so a failing seed replays. */
START_TEST(a_seed_replays_exactly)
{
    long turns;
    async_tick_t end;
    uint32_t seed;
    for (seed = 1; seed <= 50; seed++) {
        run_seed(seed);
        turns = M.turn;
        end = async_loop_now(&M.loop);
        run_seed(seed);
        ck_assert_int_eq(M.turn, turns);
        ck_assert_uint_eq(async_loop_now(&M.loop), end);
    }
}
END_TEST

/* The fuzzer's decoder: any byte string is a valid program. The empty
 * string, all ones, and generated strings of every length up to a few
 * hundred bytes (past the end, every byte reads as 0). */
START_TEST(any_byte_string_is_a_program)
{
    static struct model_program p;
    static uint8_t bytes[400];
    uint32_t x = 12345u;
    size_t len, i;
    model_program_from_bytes(&p, NULL, 0);
    model_run(&p, "no bytes");
    memset(bytes, 0xFF, sizeof bytes);
    model_program_from_bytes(&p, bytes, sizeof bytes);
    model_run(&p, "all ones");
    for (len = 0; len < sizeof bytes; len++) {
        for (i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            bytes[i] = (uint8_t)(x >> 24);
        }
        model_program_from_bytes(&p, bytes, len);
        model_run(&p, "generated bytes");
    }
    ck_assert_uint_eq(model_stats.runs, 2 + sizeof bytes);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = loop_tcase("fixed seeds");
    tcase_set_timeout(tc, 60); /* under 1 s per chunk under valgrind */
    tcase_add_loop_test(tc, every_seed_holds_to_the_model, 0, CHUNKS);
    tcase_add_test(tc, the_seeds_reach_every_path);
    tcase_add_test(tc, a_seed_replays_exactly);
    suite_add_tcase(s, tc);
    tc = loop_tcase("fuzzer's decoder");
    tcase_add_test(tc, any_byte_string_is_a_program);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(model_suite)
