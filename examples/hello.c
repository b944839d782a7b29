/* SPDX-License-Identifier: MIT */
/* qemu: yes */
/*
 * hello.c - the README's program: two tasks, a sleep each, an await.
 * It runs on virtual time, so it is instant and prints the same thing
 * everywhere; with --virtual or without, it is the same program.
 */
#include <stdio.h>
#include "async.h"

struct greeter {                 /* a coroutine's frame: what lives across awaits */
    async_frame_t co;
    const char *name;
    int i;
};

static int greeter(async_loop_t *loop, void *frame)
{
    struct greeter *g = frame;
    ASYNC_BEGIN(loop, g);
    for (g->i = 1; g->i <= 3; g->i++) {
        printf("%4u ms  %s %d\n", (unsigned)async_loop_now(loop), g->name, g->i);
        AWAIT(async_sleep(loop, g->name[0] == 'f' ? 100 : 250));
    }
    ASYNC_RETURN(g->i - 1);
    ASYNC_END;
}

struct main_frame {
    async_frame_t co;
    async_task_t fast, slow;
    struct greeter f, s;
    int n;
};

static int main_co(async_loop_t *loop, void *frame)
{
    struct main_frame *m = frame;
    ASYNC_BEGIN(loop, m);
    m->f.name = "fast";
    m->s.name = "slow";
    async_task_create(loop, &m->fast, greeter, &m->f);   /* like asyncio.create_task */
    async_task_create(loop, &m->slow, greeter, &m->s);
    AWAIT_VALUE(m->n, async_task_wait(loop, &m->slow));   /* like n = await slow */
    printf("%4u ms  slow greeted %d times\n", (unsigned)async_loop_now(loop), m->n);
    ASYNC_END;
}

int main(void)
{
    static async_loop_t loop;
    static async_timer_t *timers[8];                      /* room for 8 pending sleeps */
    static async_task_t task;
    static struct main_frame m;
    int rc;

    async_loop_init(&loop, timers, 8);                    /* virtual time: instant */
    rc = async_loop_run(&loop, &task, main_co, &m);       /* like asyncio.run */
    if (rc < 0)
        printf("failed: %s\n", async_strerror(rc));
    return rc == 0 && m.n == 3 ? 0 : 1;                   /* the exit status checks it */
}
