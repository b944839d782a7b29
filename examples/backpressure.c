/* SPDX-License-Identifier: MIT */
/* qemu: yes */
/*
 * backpressure.c - a bounded queue slows a fast producer to the pace of a
 * slow consumer.
 *
 * The producer makes an item every 0.05 s; the consumer needs 0.2 s for
 * each. Between them is a queue of capacity 3. Once it is full, put() waits
 * until the consumer takes an item: the producer is held back instead of
 * piling up work in memory. When the producer is done it shuts the queue
 * down (asyncio 3.13's Queue.shutdown); the consumer still gets what is
 * queued and then stops.
 */
#include "example.h"

#define ITEMS 10
#define CAPACITY 3

static async_queue_t queue;
static int queue_storage[CAPACITY];
static int received[ITEMS], n_received; /* what the consumer got, in order */
static int max_size, times_blocked;     /* for the checks */

/* The queue drawn as "[##.] 2/3". */
static const char *picture(void)
{
    static char s[CAPACITY + 8];
    int i, n = async_queue_size(&queue);
    s[0] = '[';
    for (i = 0; i < CAPACITY; i++)
        s[1 + i] = i < n ? '#' : '.';
    sprintf(s + 1 + CAPACITY, "] %d/%d", n, CAPACITY);
    return s;
}

struct producer {
    async_frame_t co;
    int item, full;
    unsigned long blocked_at;
};

static int producer(async_loop_t *loop, void *frame)
{
    struct producer *p = frame;
    ASYNC_BEGIN(loop, p);
    for (p->item = 1; p->item <= ITEMS; p->item++) {
        AWAIT(async_sleep(loop, 50)); /* making an item takes 0.05 s */
        p->full = async_queue_full(&queue);
        if (p->full) {
            times_blocked++;
            p->blocked_at = example_ms();
            say("producer: item %d ready, queue full: put waits", p->item);
        }
        AWAIT(async_queue_put(loop, &queue, &p->item));
        if (p->full)
            say("producer: resumed after %lu.%03lu s",
                SEC3(example_ms() - p->blocked_at));
        if (async_queue_size(&queue) > max_size)
            max_size = async_queue_size(&queue);
        say("producer: put %-2d            %s", p->item, picture());
    }
    /* Graceful: what is queued can still be got. */
    async_queue_shutdown(&queue, 0);
    say("producer: done, queue shut down");
    ASYNC_END;
}

struct consumer {
    async_frame_t co;
    int item, rc;
};

static int consumer(async_loop_t *loop, void *frame)
{
    struct consumer *c = frame;
    ASYNC_BEGIN(loop, c);
    for (;;) {
        AWAIT_TRY(c->rc, async_queue_get(loop, &queue, &c->item));
        if (c->rc == ASYNC_ESHUTDOWN)
            break; /* shut down, and nothing left */
        if (c->rc < 0)
            ASYNC_RETURN(c->rc);
        say("          consumer: got %-2d  %s", c->item, picture());
        AWAIT(async_sleep(loop, 200)); /* using an item takes 0.2 s */
        if (n_received < ITEMS)
            received[n_received] = c->item;
        n_received++;
    }
    say("          consumer: queue shut down and empty: stops");
    ASYNC_END;
}

struct app {
    async_frame_t co;
    struct producer producer;
    struct consumer consumer;
    async_task_t tasks[2];
    async_task_t *list[2];
    async_gather_t gather;
    async_gather_slot_t slots[2];
    int i, in_order;
};

static int app(async_loop_t *loop, void *frame)
{
    struct app *a = frame;
    ASYNC_BEGIN(loop, a);
    async_queue_init(&queue, loop, queue_storage, sizeof(int), CAPACITY,
                     ASYNC_QUEUE_FIFO, NULL);
    async_task_create(loop, &a->tasks[0], producer, &a->producer);
    async_task_create(loop, &a->tasks[1], consumer, &a->consumer);
    a->list[0] = &a->tasks[0];
    a->list[1] = &a->tasks[1];
    async_gather_init(&a->gather, a->slots, 2, 0);
    AWAIT(async_gather(loop, &a->gather, a->list));

    printf("====\n");
    printf("consumer got %d items; the queue held at most %d; "
           "the producer waited %d times\n", n_received, max_size,
           times_blocked);
    a->in_order = n_received == ITEMS;
    for (a->i = 0; a->in_order && a->i < ITEMS; a->i++)
        a->in_order = received[a->i] == a->i + 1;
    check(a->in_order, "every item arrived once, in order");
    check(max_size <= CAPACITY, "the queue never held more than its capacity");
    check(times_blocked > 0, "the producer was held back");
    ASYNC_END;
}

int main(int argc, char **argv)
{
    static struct app a;
    return example_run(argc, argv, app, &a);
}
