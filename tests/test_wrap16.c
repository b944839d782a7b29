/* SPDX-License-Identifier: MIT */
/*
 * Tick wraparound with 16-bit ticks (ASYNC_CONFIG_TICK_BITS=16), where the
 * counter wraps every 65536 ticks and the longest delay is 32766: the
 * scenarios shared with the 32-bit suite (wrap_cases.h), at this width.
 */
#include "wrap_cases.h"

START_TEST(ticks_are_16_bits_wide)
{
    ck_assert_uint_eq(sizeof(async_tick_t), 2);
    ck_assert_uint_eq(ASYNC_FOREVER, 65535);
    ck_assert_uint_eq(ASYNC_MAX_DELAY, 32766);
}
END_TEST

static Suite *wrap16_suite(void)
{
    Suite *s = suite_create("wrap16");
    TCase *tc = loop_tcase("wrap");
    tcase_add_test(tc, ticks_are_16_bits_wide);
    wrap_add_cases(tc);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(wrap16_suite)
