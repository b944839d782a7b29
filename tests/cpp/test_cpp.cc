/* SPDX-License-Identifier: MIT */
/*
 * async.h from C++: the header compiles as C++, its functions link from
 * C++ code, a callback written in C++ runs on the loop, and a coroutine
 * body written in C++ expands the macros and runs: sleeps, a child
 * awaited in place, a cleanup section.
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

/* Coroutines in C++: what lives across an AWAIT is in the frame. */
struct child_frame {
    async_frame_t co;
    int n;
};

static char story[64];

static void note(const char *what)
{
    std::strncat(story, what, sizeof story - std::strlen(story) - 1);
}

static int child(async_loop_t *loop, void *frame)
{
    child_frame *c = static_cast<child_frame *>(frame);
    ASYNC_BEGIN(loop, c);
    AWAIT(async_sleep(loop, 5));
    note("c");
    ASYNC_RETURN(c->n * 2);
    ASYNC_END;
}

struct parent_frame {
    async_frame_t co;
    child_frame kid;
    int i, got;
};

static int parent(async_loop_t *loop, void *frame)
{
    parent_frame *p = static_cast<parent_frame *>(frame);
    ASYNC_BEGIN(loop, p);
    for (p->i = 0; p->i < 2; p->i++) {
        AWAIT(async_sleep(loop, 10));
        note("p");
    }
    p->kid.n = 21;
    AWAIT_VALUE(p->got, async_call(loop, child, &p->kid));
    ASYNC_RETURN(p->got);
    ASYNC_FINALLY;
    note("f");
    ASYNC_END;
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

    {
        static async_task_t task;
        static parent_frame p;
        CHECK(async_loop_run(&loop, &task, parent, &p) == 42);
        CHECK(std::strcmp(story, "ppcf") == 0);
        CHECK(async_loop_now(&loop) == 25);
        CHECK(async_loop_close(&loop) == 0);
    }
    if (failures == 0)
        std::printf("async.h from C++: ok\n");
    return failures ? 1 : 0;
}
