/* SPDX-License-Identifier: MIT */
/*
 * The 64-bit tick variant (ASYNC_CONFIG_TICK_BITS=64): sleeps longer than
 * a 32-bit counter could hold wake at the right tick and in order, the
 * longest delay is accepted and one more is not; the wraparound scenarios
 * of wrap_cases.h hold at this width too.
 */
#include "wrap_cases.h"

/* Sleeps `ticks`, traces "<name>@<tick>", or traces the error. */
struct sleeper64 {
    async_frame_t co;
    const char *name;
    async_tick_t ticks;
    int rc;
};

static int sleeper64(async_loop_t *l, void *frame)
{
    struct sleeper64 *s = frame;
    ASYNC_BEGIN(l, s);
    AWAIT_TRY(s->rc, async_sleep(l, s->ticks));
    if (s->rc < 0)
        trace("%s %s", s->name, async_strerror_name(s->rc));
    else
        trace("%s@%llu", s->name, ull(async_loop_now(l)));
    ASYNC_END;
}

START_TEST(ticks_are_64_bits_wide)
{
    ck_assert_uint_eq(sizeof(async_tick_t), 8);
    ck_assert(ASYNC_FOREVER == UINT64_MAX);
    ck_assert(ASYNC_MAX_DELAY == UINT64_MAX / 2 - 1);
}
END_TEST

START_TEST(sleeps_beyond_32_bits_wake_at_the_right_tick_in_order)
{
    /* 2^32 would be 0 in a 32-bit tick, and 2^33 + 5 would be 5: here they
     * order after the short sleep and after each other. */
    static const async_tick_t two32 = (async_tick_t)1 << 32;
    static struct sleeper64 s[3] = {{.name = "far"}, {.name = "mid"},
                                    {.name = "near", .ticks = 7}};
    static async_task_t t[3];
    char expect[128];
    int i;

    s[0].ticks = 2 * two32 + 5;
    s[1].ticks = two32;
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(async_task_create(&loop, &t[i], sleeper64, &s[i]), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 3);
    ck_assert(async_loop_next_timeout(&loop) == 7);
    run_until_idle();
    snprintf(expect, sizeof expect, "near@7 mid@%llu far@%llu", ull(two32),
             ull(2 * two32 + 5));
    ck_assert_str_eq(TRACE, expect);
}
END_TEST

START_TEST(the_longest_delay_is_accepted_and_one_more_is_out_of_range)
{
    static struct sleeper64 s[2] = {{.name = "over", .ticks = ASYNC_MAX_DELAY + 1},
                                    {.name = "max", .ticks = ASYNC_MAX_DELAY}};
    static async_task_t t[2];
    char expect[128];

    ck_assert_int_eq(async_task_create(&loop, &t[0], sleeper64, &s[0]), 0);
    ck_assert_int_eq(async_task_create(&loop, &t[1], sleeper64, &s[1]), 0);
    run_until_idle();
    snprintf(expect, sizeof expect, "over ASYNC_ERANGE max@%llu",
             ull(ASYNC_MAX_DELAY));
    ck_assert_str_eq(TRACE, expect);
}
END_TEST

static Suite *tick64_suite(void)
{
    Suite *s = suite_create("tick64");
    TCase *tc = loop_tcase("tick64");
    tcase_add_test(tc, ticks_are_64_bits_wide);
    tcase_add_test(tc, sleeps_beyond_32_bits_wake_at_the_right_tick_in_order);
    tcase_add_test(tc, the_longest_delay_is_accepted_and_one_more_is_out_of_range);
    suite_add_tcase(s, tc);
    tc = loop_tcase("wrap");
    wrap_add_cases(tc);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(tick64_suite)
