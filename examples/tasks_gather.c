/* SPDX-License-Identifier: MIT */
/* qemu: yes */
/*
 * tasks_gather.c - tasks run beside you; gather collects them.
 *
 *   1. async_task_create (asyncio.create_task) returns at once: the new
 *      task runs later, while its creator is suspended somewhere else.
 *      An AWAIT, by contrast, waits right there.
 *   2. async_gather waits for several tasks. Each task's result sits in
 *      the slot of its argument position, whatever order they finish in.
 *   3. When one task fails, the default gather returns that error at
 *      once; the others keep running. Gathering them again with
 *      ASYNC_GATHER_ALL (asyncio's return_exceptions=True) waits for all
 *      and gives each slot its own result or error.
 */
#include "example.h"

/* The application's own error code, clear of the library's. */
#define JOB_ENOTFOUND (-100)

static const char *error_name(int rc)
{
    return rc == JOB_ENOTFOUND ? "JOB_ENOTFOUND" : async_strerror_name(rc);
}

/* One line per gather slot: its task's result, or its error by name. */
static void print_slots(const async_gather_t *g, const char *const *names,
                        uint32_t n)
{
    uint32_t i;
    int rc;
    for (i = 0; i < n; i++) {
        rc = async_gather_result(g, i);
        if (rc >= 0)
            say("  slot %lu (%s): %d", (unsigned long)i, names[i], rc);
        else
            say("  slot %lu (%s): %s", (unsigned long)i, names[i],
                error_name(rc));
    }
}

/* A job takes ms, then returns result (or fails, if result < 0). */
struct job {
    async_frame_t co;
    const char *name;
    uint32_t ms;
    int result;
};

static int job(async_loop_t *loop, void *frame)
{
    struct job *j = frame;
    ASYNC_BEGIN(loop, j);
    say("  job %s: started", j->name);
    AWAIT(async_sleep(loop, j->ms));
    if (j->result < 0)
        say("  job %s: fails with %s", j->name, error_name(j->result));
    else
        say("  job %s: done, returns %d", j->name, j->result);
    ASYNC_RETURN(j->result);
    ASYNC_END;
}

#define N 3
static const char *const names[N] = {"a", "b", "c"};

struct app {
    async_frame_t co;
    struct job greeter, child, jobs[N];
    async_task_t greeter_task, tasks[N];
    async_task_t *list[N];
    async_gather_t gather;
    async_gather_slot_t slots[N];
    int rc, i, ok;
};

/* Set up job i and start it as a task. */
static void start_job(async_loop_t *loop, struct app *a, int i, uint32_t ms,
                      int result)
{
    a->jobs[i].name = names[i];
    a->jobs[i].ms = ms;
    a->jobs[i].result = result;
    async_task_create(loop, &a->tasks[i], job, &a->jobs[i]);
    a->list[i] = &a->tasks[i];
}

static int app(async_loop_t *loop, void *frame)
{
    struct app *a = frame;
    ASYNC_BEGIN(loop, a);

    printf("--- 1. create_task returns at once, await waits\n");
    a->greeter = (struct job){.name = "greeter", .ms = 200, .result = 42};
    async_task_create(loop, &a->greeter_task, job, &a->greeter);
    say("main: create_task(greeter) returned; greeter has %s",
        async_task_state(&a->greeter_task) == ASYNC_TASK_PENDING
            ? "not started yet" : "started (unexpected)");
    /* async_call runs the child at once, in place. The greeter starts on
     * the loop's next turn, once main has suspended. */
    say("main: await child() in place");
    a->child = (struct job){.name = "child", .ms = 100, .result = 7};
    AWAIT_VALUE(a->rc, async_call(loop, job, &a->child));
    say("main: child returned %d", a->rc);
    say("main: await the greeter task");
    AWAIT_VALUE(a->rc, async_task_wait(loop, &a->greeter_task));
    say("main: greeter returned %d", a->rc);
    check(a->rc == 42, "awaiting a task gives its result");

    printf("--- 2. gather: results in argument order\n");
    example_clock_reset();
    start_job(loop, a, 0, 300, 1);
    start_job(loop, a, 1, 100, 2);
    start_job(loop, a, 2, 200, 3);
    async_gather_init(&a->gather, a->slots, N, 0);
    AWAIT(async_gather(loop, &a->gather, a->list));
    say("main: gather returned (finished b, c, a):");
    print_slots(&a->gather, names, N);
    a->ok = 1;
    for (a->i = 0; a->i < N; a->i++)
        a->ok = a->ok &&
                async_gather_result(&a->gather, (uint32_t)a->i) == a->i + 1;
    check(a->ok, "each result is in its argument's slot");

    printf("--- 3. one job fails\n");
    example_clock_reset();
    start_job(loop, a, 0, 300, 1);
    start_job(loop, a, 1, 100, JOB_ENOTFOUND);
    start_job(loop, a, 2, 200, 3);
    async_gather_init(&a->gather, a->slots, N, 0);
    AWAIT_TRY(a->rc, async_gather(loop, &a->gather, a->list));
    a->ok = async_task_state(&a->tasks[0]) != ASYNC_TASK_DONE &&
            async_task_state(&a->tasks[2]) != ASYNC_TASK_DONE;
    say("main: gather returned %s at once; a and c are %s", error_name(a->rc),
        a->ok ? "still running" : "done (unexpected)");
    check(a->rc == JOB_ENOTFOUND && a->ok,
          "the default gather fails with the first error, others run on");

    /* Their memory must not be reused while they run: wait for them. A
     * task that has already finished counts at once. */
    async_gather_init(&a->gather, a->slots, N, ASYNC_GATHER_ALL);
    AWAIT(async_gather(loop, &a->gather, a->list));
    say("main: gather(ASYNC_GATHER_ALL) returned:");
    print_slots(&a->gather, names, N);
    check(async_gather_result(&a->gather, 0) == 1 &&
              async_gather_result(&a->gather, 1) == JOB_ENOTFOUND &&
              async_gather_result(&a->gather, 2) == 3,
          "ASYNC_GATHER_ALL keeps each slot's result or error");
    ASYNC_END;
}

int main(int argc, char **argv)
{
    static struct app a;
    return example_run(argc, argv, app, &a);
}
