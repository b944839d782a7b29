/* SPDX-License-Identifier: MIT */
/*
 * Tick wraparound with the default 32-bit tick: the scenarios shared with
 * the 16-bit suite (wrap_cases.h), run at this width.
 */
#include "wrap_cases.h"

START_TEST(ticks_are_32_bits_wide)
{
    ck_assert_uint_eq(sizeof(async_tick_t), 4);
    ck_assert_uint_eq(ASYNC_FOREVER, UINT32_MAX);
    ck_assert_uint_eq(ASYNC_MAX_DELAY, UINT32_MAX / 2 - 1);
}
END_TEST

static Suite *wrap32_suite(void)
{
    Suite *s = suite_create("wrap32");
    TCase *tc = loop_tcase("wrap");
    tcase_add_test(tc, ticks_are_32_bits_wide);
    wrap_add_cases(tc);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(wrap32_suite)
