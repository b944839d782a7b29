/* SPDX-License-Identifier: MIT */
/*
 * async.h from C++: the header compiles as C++, its functions link from
 * C++ code, and a callback written in C++ runs on the loop. Coroutine
 * bodies are C; C++ only calls the API.
 */
#include <cstdio>
#include <cstring>

#include "async.h"

static int failures;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,       \
                         __LINE__, #cond);                                    \
            failures++;                                                       \
        }                                                                     \
    } while (0)

/* A callback with C linkage, as the loop calls it. */
extern "C" void count_call(async_loop_t *loop, async_callback_t *cb)
{
    (void)loop;
    ++*static_cast<int *>(cb->arg);
}

int main()
{
    static async_timer_t *timers[4];
    static async_loop_t loop;
    static async_callback_t cb;
    int calls = 0;

    CHECK(async_loop_init(&loop, timers, 4) == 0);
    CHECK(std::strcmp(async_strerror_name(ASYNC_ETIMEDOUT), "ASYNC_ETIMEDOUT") == 0);
    CHECK(std::strcmp(async_strerror_name(0), "ASYNC_OK") == 0);

    CHECK(async_callback_init(&cb, count_call, &calls) == 0);
    CHECK(async_call_soon(&loop, &cb) == 0);
    CHECK(async_loop_close(&loop) == ASYNC_EBUSY); /* the callback is queued */
    CHECK(async_loop_run_once(&loop) == 1);
    CHECK(calls == 1);

    CHECK(async_loop_close(&loop) == 0);
    if (failures == 0)
        std::printf("async.h from C++: ok\n");
    return failures ? 1 : 0;
}
