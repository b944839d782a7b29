/* SPDX-License-Identifier: MIT */
/*
 * The coroutine macro suite again, built with the computed-goto resume
 * points (ASYNC_CONFIG_LC_GOTO=1), plus what only that flavour allows: an
 * AWAIT inside a switch statement of the coroutine's own.
 */
#define CORO_EXTRA_TESTS                                                      \
    struct sw {                                                               \
        async_frame_t co;                                                     \
        int i;                                                                \
    };                                                                        \
    static int sw(async_loop_t *l, void *frame)                               \
    {                                                                         \
        struct sw *s = frame;                                                 \
        ASYNC_BEGIN(l, s);                                                      \
        for (s->i = 0; s->i < 3; s->i++) {                                    \
            switch (s->i) {                                                   \
            case 1:                                                           \
                AWAIT(async_sleep(l, 10));                                    \
                trace("case1@%u", (unsigned)async_loop_now(l));               \
                break;                                                        \
            default:                                                          \
                trace("other%d", s->i);                                       \
                break;                                                        \
            }                                                                 \
        }                                                                     \
        ASYNC_END;                                                            \
    }                                                                         \
    START_TEST(await_inside_a_user_switch)                                    \
    {                                                                         \
        static struct sw s;                                                   \
        static async_task_t task;                                             \
        ck_assert_int_eq(async_loop_run(&loop, &task, sw, &s), 0);            \
        ck_assert_str_eq(TRACE, "other0 case1@10 other2");                    \
    }                                                                         \
    END_TEST
#define CORO_EXTRA_CASES(tc) tcase_add_test(tc, await_inside_a_user_switch)
#include "test_coro.c"
