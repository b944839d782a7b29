/* SPDX-License-Identifier: MIT */
/*
 * queue.c - items per second through a queue, one producer, one consumer.
 *
 *     queue [CAPACITY [ITEMS]]       defaults: CAPACITY=64 ITEMS=10000000
 *
 * The producer AWAITs async_queue_put for ITEMS 32-bit items; the consumer
 * AWAITs async_queue_get and calls async_queue_task_done for each, and
 * checks that they arrive in order. With capacity 1 every item costs a
 * suspension on each side; with 64 the producer fills the queue, and each
 * side suspends only when it hits a full or empty queue.
 *
 * The wall time includes creating the two tasks; callgrind.sh differences
 * two ITEMS values to get instructions per item without that fixed part.
 */
#include "bench.h"

#include "async.h"

struct producer {
    async_frame_t co;
    async_queue_t *q;
    long i, n;
    uint32_t item;
};

struct consumer {
    async_frame_t co;
    async_queue_t *q;
    long i, n, out_of_order;
    uint32_t item;
};

static int producer(async_loop_t *loop, void *frame)
{
    struct producer *f = frame;
    ASYNC_BEGIN(loop, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        f->item = (uint32_t)f->i;
        AWAIT(async_queue_put(loop, f->q, &f->item));
    }
    ASYNC_END;
}

static int consumer(async_loop_t *loop, void *frame)
{
    struct consumer *f = frame;
    ASYNC_BEGIN(loop, f);
    for (f->i = 0; f->i < f->n; f->i++) {
        AWAIT(async_queue_get(loop, f->q, &f->item));
        if (f->item != (uint32_t)f->i)
            f->out_of_order++;
        async_queue_task_done(f->q);
    }
    ASYNC_END;
}

int main(int argc, char **argv)
{
    static uint32_t storage[1024];
    static struct producer pf;
    static struct consumer cf;
    async_loop_t loop = {0};
    async_queue_t q = {0};
    async_task_t pt = {0}, ct = {0};
    long capacity, items;
    double t0, t1;

    capacity = bench_arg(argc, argv, 1, 64);
    items = bench_arg(argc, argv, 2, 10000000);
    if (capacity > (long)(sizeof storage / sizeof storage[0])) {
        fprintf(stderr, "queue: CAPACITY must be <= %zu\n",
                sizeof storage / sizeof storage[0]);
        return 2;
    }
    async_loop_init(&loop, NULL, 0);
    async_queue_init(&q, &loop, storage, sizeof storage[0], (uint32_t)capacity,
                     ASYNC_QUEUE_FIFO, NULL);
    pf.q = cf.q = &q;
    pf.n = cf.n = items;

    t0 = bench_now();
    async_task_create(&loop, &ct, consumer, &cf);
    async_task_create(&loop, &pt, producer, &pf);
    while (async_loop_run_once(&loop) > 0)
        ;
    t1 = bench_now();

    if (async_task_result(&pt) != 0 || async_task_result(&ct) != 0 ||
        cf.i != items || cf.out_of_order || async_queue_unfinished(&q) != 0 ||
        async_loop_close(&loop) != 0) {
        fprintf(stderr, "queue: run did not finish cleanly (%ld got, %ld out "
                        "of order)\n", cf.i, cf.out_of_order);
        return 1;
    }
    printf("queue: capacity=%ld items=%ld wall=%.3f s items/s=%.3g "
           "ns/item=%.2f\n",
           capacity, items, t1 - t0, (double)items / (t1 - t0),
           (t1 - t0) * 1e9 / (double)items);
    return 0;
}
