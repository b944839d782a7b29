/* SPDX-License-Identifier: MIT */
/* qemu: yes */
/*
 * crawler.c - a two-stage crawl: followers, then their favorites.
 *
 * For each user X, fetch X's followers; for each follower Y, fetch Y's
 * favorites. The "server" is simulated: a request is a sleep as long as
 * that server's latency. The crawl is done twice:
 *
 *   barrier:  gather every followers request, then gather every favorites
 *             request. Stage two starts only when the slowest user of
 *             stage one has answered.
 *   pipeline: one producer task per user fetches the followers and puts
 *             each follower in a queue as soon as it is known; three
 *             worker tasks fetch favorites from the queue meanwhile.
 *
 * Both find the same favorites; the pipeline finishes first.
 */
#include "example.h"

#define USERS 3
#define PEOPLE 7  /* followers, over all users */
#define FETCHERS 3

/* The simulated data: who follows whom, and how slow each request is. */
static const struct user {
    const char *name;
    uint32_t ms;         /* GET /users/NAME/followers takes this long */
    int followers[3];    /* indexes into people[]; -1 ends the list */
} users[USERS] = {
    {"alice", 300, {0, 1, 2}},
    {"bob", 600, {3, 4, -1}},
    {"carol", 1000, {5, 6, -1}}, /* a slow server */
};

static const struct person {
    const char *name;
    uint32_t ms;    /* GET /users/NAME/favorites takes this long */
    int favorites;  /* what that request finds */
} people[PEOPLE] = {
    {"dave", 500, 3}, {"erin", 200, 1},  {"frank", 400, 4}, {"grace", 300, 2},
    {"heidi", 800, 5}, {"ivan", 200, 1}, {"judy", 300, 2},
};

/* What each crawl found, per person. */
static int barrier_found[PEOPLE], pipeline_found[PEOPLE];

/* GET /users/X/followers: the list is left in the frame, the count is the
 * result. */
struct get_followers {
    async_frame_t co;
    int user;
    int found[3], n;
};

static int get_followers(async_loop_t *loop, void *frame)
{
    struct get_followers *g = frame;
    const struct user *u = &users[g->user];
    char list[64] = "";
    ASYNC_BEGIN(loop, g);
    AWAIT(async_sleep(loop, u->ms));
    for (g->n = 0; g->n < 3 && u->followers[g->n] >= 0; g->n++) {
        g->found[g->n] = u->followers[g->n];
        strcat(list, " ");
        strcat(list, people[u->followers[g->n]].name);
    }
    say("followers of %s:%s", u->name, list);
    ASYNC_RETURN(g->n);
    ASYNC_END;
}

/* GET /users/Y/favorites: the result is how many favorites Y has. */
struct get_favorites {
    async_frame_t co;
    int who;
};

static int get_favorites(async_loop_t *loop, void *frame)
{
    struct get_favorites *g = frame;
    ASYNC_BEGIN(loop, g);
    AWAIT(async_sleep(loop, people[g->who].ms));
    say("  favorites of %s: %d", people[g->who].name,
        people[g->who].favorites);
    ASYNC_RETURN(people[g->who].favorites);
    ASYNC_END;
}

/* ------------------------------------------------ version 1: two gathers */
struct barrier {
    async_frame_t co;
    struct get_followers followers[USERS];
    async_task_t follower_tasks[USERS];
    struct get_favorites favorites[PEOPLE];
    async_task_t favorite_tasks[PEOPLE];
    async_task_t *list[PEOPLE]; /* the tasks to gather */
    async_gather_t gather;
    async_gather_slot_t slots[PEOPLE];
    int n, i, j;
};

static int barrier(async_loop_t *loop, void *frame)
{
    struct barrier *b = frame;
    ASYNC_BEGIN(loop, b);
    /* Stage one: everyone's followers, concurrently. */
    for (b->i = 0; b->i < USERS; b->i++) {
        b->followers[b->i].user = b->i;
        async_task_create(loop, &b->follower_tasks[b->i], get_followers,
                          &b->followers[b->i]);
        b->list[b->i] = &b->follower_tasks[b->i];
    }
    async_gather_init(&b->gather, b->slots, USERS, 0);
    AWAIT(async_gather(loop, &b->gather, b->list)); /* (A) the barrier */

    /* Stage two: every follower's favorites, concurrently. */
    b->n = 0;
    for (b->i = 0; b->i < USERS; b->i++) {
        for (b->j = 0; b->j < b->followers[b->i].n; b->j++) {
            b->favorites[b->n].who = b->followers[b->i].found[b->j];
            async_task_create(loop, &b->favorite_tasks[b->n], get_favorites,
                              &b->favorites[b->n]);
            b->list[b->n] = &b->favorite_tasks[b->n];
            b->n++;
        }
    }
    async_gather_init(&b->gather, b->slots, (uint32_t)b->n, 0);
    AWAIT(async_gather(loop, &b->gather, b->list));
    for (b->i = 0; b->i < b->n; b->i++)
        barrier_found[b->favorites[b->i].who] =
            async_gather_result(&b->gather, (uint32_t)b->i);
    ASYNC_END;
}

/* ------------------------------------------------- version 2: a pipeline */
static async_queue_t to_fetch; /* followers whose favorites are wanted */
static int to_fetch_storage[PEOPLE];

/* Fetch one user's followers and queue each of them at once. */
struct producer {
    async_frame_t co;
    struct get_followers get;
    int i;
};

static int producer(async_loop_t *loop, void *frame)
{
    struct producer *p = frame;
    ASYNC_BEGIN(loop, p);
    AWAIT(async_call(loop, get_followers, &p->get));
    for (p->i = 0; p->i < p->get.n; p->i++)
        AWAIT(async_queue_put(loop, &to_fetch, &p->get.found[p->i]));
    ASYNC_END;
}

/* Fetch favorites for whoever comes out of the queue. */
struct fetcher {
    async_frame_t co;
    struct get_favorites get;
    int rc;
};

static int fetcher(async_loop_t *loop, void *frame)
{
    struct fetcher *f = frame;
    ASYNC_BEGIN(loop, f);
    for (;;) {
        AWAIT(async_queue_get(loop, &to_fetch, &f->get.who));
        AWAIT_TRY(f->rc, async_call(loop, get_favorites, &f->get));
        /* Whatever happened, this item is finished (robust_workers.c). */
        async_queue_task_done(&to_fetch);
        if (f->rc < 0)
            ASYNC_RETURN(f->rc);
        pipeline_found[f->get.who] = f->rc;
    }
    ASYNC_END;
}

struct pipeline {
    async_frame_t co;
    struct producer producers[USERS];
    struct fetcher fetchers[FETCHERS];
    async_task_t producer_tasks[USERS], fetcher_tasks[FETCHERS];
    async_task_t *producer_list[USERS], *fetcher_list[FETCHERS];
    async_gather_t producers_done, fetchers_done;
    async_gather_slot_t producer_slots[USERS], fetcher_slots[FETCHERS];
    int i;
};

static int pipeline(async_loop_t *loop, void *frame)
{
    struct pipeline *p = frame;
    ASYNC_BEGIN(loop, p);
    async_queue_init(&to_fetch, loop, to_fetch_storage, sizeof(int), PEOPLE,
                     ASYNC_QUEUE_FIFO, NULL);
    for (p->i = 0; p->i < FETCHERS; p->i++) {
        async_task_create(loop, &p->fetcher_tasks[p->i], fetcher,
                          &p->fetchers[p->i]);
        p->fetcher_list[p->i] = &p->fetcher_tasks[p->i];
    }
    for (p->i = 0; p->i < USERS; p->i++) {
        p->producers[p->i].get.user = p->i;
        async_task_create(loop, &p->producer_tasks[p->i], producer,
                          &p->producers[p->i]);
        p->producer_list[p->i] = &p->producer_tasks[p->i];
    }
    /* Every follower is queued once the producers are done; every
     * favorites request is done once the queue is joined. */
    async_gather_init(&p->producers_done, p->producer_slots, USERS, 0);
    AWAIT(async_gather(loop, &p->producers_done, p->producer_list));
    AWAIT(async_queue_join(loop, &to_fetch));

    /* The fetchers wait for more work: stop them, and wait until they
     * have stopped. */
    for (p->i = 0; p->i < FETCHERS; p->i++)
        async_task_cancel(loop, &p->fetcher_tasks[p->i]);
    async_gather_init(&p->fetchers_done, p->fetcher_slots, FETCHERS,
                      ASYNC_GATHER_ALL);
    AWAIT(async_gather(loop, &p->fetchers_done, p->fetcher_list));
    ASYNC_END;
}

struct app {
    async_frame_t co;
    struct barrier barrier;
    struct pipeline pipeline;
    unsigned long barrier_ms, pipeline_ms;
    int i, same;
};

static int app(async_loop_t *loop, void *frame)
{
    struct app *a = frame;
    ASYNC_BEGIN(loop, a);
    printf("--- barrier: gather all followers, then all favorites\n");
    AWAIT(async_call(loop, barrier, &a->barrier));
    a->barrier_ms = example_ms();

    printf("--- pipeline: followers go through a queue to %d fetchers\n",
           FETCHERS);
    example_clock_reset();
    AWAIT(async_call(loop, pipeline, &a->pipeline));
    a->pipeline_ms = example_ms();

    printf("====\n");
    printf("barrier:  %lu.%02lu seconds\n", SEC2(a->barrier_ms));
    printf("pipeline: %lu.%02lu seconds\n", SEC2(a->pipeline_ms));
    a->same = 1;
    for (a->i = 0; a->i < PEOPLE; a->i++)
        a->same = a->same && barrier_found[a->i] == people[a->i].favorites &&
                  pipeline_found[a->i] == people[a->i].favorites;
    check(a->same, "both found every follower's favorites");
    check(a->pipeline_ms < a->barrier_ms, "the pipeline finished first");
    ASYNC_END;
}

int main(int argc, char **argv)
{
    static struct app a;
    return example_run(argc, argv, app, &a);
}
