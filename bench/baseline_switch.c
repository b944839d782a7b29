/* SPDX-License-Identifier: MIT */
/*
 * baseline_switch.c - the hand-written baseline for yield.c, no library.
 *
 *     baseline_switch [K [TASKS]]    defaults: K=1000 TASKS=1000
 *
 * The same workload as yield.c (TASKS tasks, each yielding K times) done
 * the way a careful C programmer would without any library: a task is a
 * struct with a resume point (a switch on __LINE__, as in protothreads), a
 * function pointer so that one scheduler runs different kinds of task, and
 * an intrusive link in a FIFO ready list. The scheduler pops the head, runs
 * it, and appends it again if it yielded. There is no cancellation, no
 * error propagation, no nesting, no timers: this is the floor that the
 * library's extra features are measured against.
 */
#include "bench.h"

enum { YIELDED, DONE };

struct task {
    struct task *next;         /* intrusive link in the ready FIFO */
    int (*run)(struct task *); /* the coroutine */
    unsigned lc;               /* resume point: a source line, 0 at start */
    long left;                 /* state that lives across a yield */
};

struct ready {
    struct task *head, *tail;
};

static void ready_push(struct ready *r, struct task *t)
{
    t->next = NULL;
    if (r->tail)
        r->tail->next = t;
    else
        r->head = t;
    r->tail = t;
}

static struct task *ready_pop(struct ready *r)
{
    struct task *t = r->head;
    if (t) {
        r->head = t->next;
        if (!r->head)
            r->tail = NULL;
    }
    return t;
}

/* Save the resume point, return to the scheduler, continue here later. */
#define YIELD(t)                                                              \
    do {                                                                      \
        (t)->lc = __LINE__;                                                   \
        return YIELDED;                                                       \
    case __LINE__:;                                                           \
    } while (0)

static long rounds;

static int yielder(struct task *t)
{
    switch (t->lc) {
    case 0:
        for (t->left = rounds; t->left > 0; t->left--)
            YIELD(t);
    }
    return DONE;
}

int main(int argc, char **argv)
{
    long ntasks, i;
    struct ready ready = {NULL, NULL};
    struct task *tasks, *t;
    double t0, t1;

    rounds = bench_arg(argc, argv, 1, 1000);
    ntasks = bench_arg(argc, argv, 2, 1000);
    tasks = calloc((size_t)ntasks, sizeof *tasks);
    if (!tasks) {
        fprintf(stderr, "baseline_switch: out of memory\n");
        return 1;
    }

    t0 = bench_now();
    for (i = 0; i < ntasks; i++) {
        tasks[i].run = yielder;
        ready_push(&ready, &tasks[i]);
    }
    while ((t = ready_pop(&ready)) != NULL)
        if (t->run(t) == YIELDED)
            ready_push(&ready, t);
    t1 = bench_now();

    printf("baseline_switch: tasks=%ld K=%ld cycles=%ld wall=%.3f s "
           "ns/cycle=%.2f\n",
           ntasks, rounds, ntasks * rounds, t1 - t0,
           (t1 - t0) * 1e9 / (double)(ntasks * rounds));
    free(tasks);
    return 0;
}
