/* SPDX-License-Identifier: MIT */
/*
 * queue.c - asyncio.Queue: a bounded queue with task_done and join.
 *
 * Items are copied into caller storage. FIFO and LIFO keep a ring; the
 * priority order keeps a binary heap whose entries carry a sequence number
 * after the item, so equal priorities come out in the order they went in.
 * The number's room (the tag) is padded so that every stored item stays
 * aligned as in an array of items: the comparator reads them in place.
 *
 * Fairness and cancellation. When an item arrives and getters wait, the
 * oldest getter is woken and one item is promised to it (promised_items);
 * get_nowait may only take items nobody was promised. The woken getter
 * takes its item when it runs. If it is cancelled (or times out) before it
 * runs, it takes nothing and passes the promise to the next getter, so the
 * item stays in the queue and no wakeup is lost. Room freed for waiting
 * putters is promised the same way (promised_room). An item is therefore
 * either in the queue or in exactly one getter's hands, never both, never
 * neither.
 */
#include "async.h"

enum { Q_LIVE = 1 };

#define TF_WOKEN ASYNC__TF_WOKEN
#define TF_POLL ASYNC__TF_POLL

#define misuse ASYNC__MISUSE

/* Slot i of the FIFO and LIFO ring. */
static ASYNC__INLINE unsigned char *ring_at(const async_queue_t *q,
                                            uint32_t i)
{
    return q->buf + (size_t)i * q->item_size;
}

#if ASYNC_CONFIG_QUEUE_ORDERS

/* Entry i of the priority heap: the item, then its tag. */
static ASYNC__INLINE unsigned char *slot_at(const async_queue_t *q,
                                            uint32_t i)
{
    return q->buf + (size_t)i * (q->item_size + q->tag);
}

static uint32_t seq_of(const async_queue_t *q, uint32_t i)
{
    uint32_t s;
    ASYNC_MEMCPY(&s, slot_at(q, i) + q->item_size, sizeof s);
    return s;
}

/* Priority heap order: by the user's comparator, then by arrival. */
static int heap_before(const async_queue_t *q, uint32_t a, uint32_t b)
{
    int c = q->cmp(slot_at(q, a), slot_at(q, b));
    if (c != 0)
        return c < 0;
    return (uint32_t)(seq_of(q, a) - seq_of(q, b)) > 0x7FFFFFFFu;
}

static void heap_swap(async_queue_t *q, uint32_t a, uint32_t b)
{
    unsigned char *x = slot_at(q, a), *y = slot_at(q, b);
    size_t n = q->item_size + 4u;
    while (n--) {
        unsigned char c = *x;
        *x++ = *y;
        *y++ = c;
    }
}

#endif /* ASYNC_CONFIG_QUEUE_ORDERS */

static void push_item(async_queue_t *q, const void *item)
{
    uint32_t i;
#if !ASYNC_CONFIG_QUEUE_ORDERS
    i = q->head + q->count;
    if (i >= q->capacity)
        i -= q->capacity;
    ASYNC_MEMCPY(ring_at(q, i), item, q->item_size);
#else
    switch (q->order) {
    case ASYNC_QUEUE_PRIORITY:
        i = q->count;
        ASYNC_MEMCPY(slot_at(q, i), item, q->item_size);
        ASYNC_MEMCPY(slot_at(q, i) + q->item_size, &q->seq, sizeof q->seq);
        q->seq++;
        while (i > 0 && heap_before(q, i, (i - 1) / 2)) {
            heap_swap(q, i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
        break;
    default: /* FIFO and LIFO both append at the tail of the ring */
        i = q->head + q->count;
        if (i >= q->capacity)
            i -= q->capacity;
        ASYNC_MEMCPY(ring_at(q, i), item, q->item_size);
        break;
    }
#endif
    q->count++;
}

static void pop_item(async_queue_t *q, void *item)
{
#if !ASYNC_CONFIG_QUEUE_ORDERS
    ASYNC_MEMCPY(item, ring_at(q, q->head), q->item_size);
    if (++q->head == q->capacity)
        q->head = 0;
    q->count--;
#else
    uint32_t i, c, last;
    switch (q->order) {
    case ASYNC_QUEUE_FIFO:
        ASYNC_MEMCPY(item, ring_at(q, q->head), q->item_size);
        if (++q->head == q->capacity)
            q->head = 0;
        q->count--;
        break;
    case ASYNC_QUEUE_LIFO:
        i = q->head + q->count - 1;
        if (i >= q->capacity)
            i -= q->capacity;
        ASYNC_MEMCPY(item, ring_at(q, i), q->item_size);
        q->count--;
        break;
    default:
        ASYNC_MEMCPY(item, slot_at(q, 0), q->item_size);
        last = --q->count;
        if (last == 0)
            break;
        heap_swap(q, 0, last);
        for (i = 0;; i = c) {
            c = 2 * i + 1;
            if (c >= last)
                break;
            if (c + 1 < last && heap_before(q, c + 1, c))
                c++;
            if (!heap_before(q, c, i))
                break;
            heap_swap(q, i, c);
        }
        break;
    }
#endif
}

/* An item arrived: promise it to the oldest waiting getter, if any. */
static void offer_item(async_queue_t *q)
{
    if (q->count > q->promised_items &&
        async__wake_first(q->loop, &q->getters, 0))
        q->promised_items++;
}

/* Room appeared: promise it to the oldest waiting putter, if any. */
static void offer_room(async_queue_t *q)
{
    if (q->count + q->promised_room < q->capacity &&
        async__wake_first(q->loop, &q->putters, 0))
        q->promised_room++;
}

static void put_item(async_queue_t *q, const void *item)
{
    push_item(q, item);
    if (q->unfinished < INT_MAX) /* never task_done: stays a count */
        q->unfinished++;
    offer_item(q);
}

static void take_item(async_queue_t *q, void *item)
{
    pop_item(q, item);
#if ASYNC_CONFIG_DEBUG
    if (q->loop->current)
        q->loop->current->held++;
#endif
    offer_room(q);
    if (q->shutdown && q->count == 0) /* the last item: nothing more comes */
        async__wake_all(q->loop, &q->getters, ASYNC_ESHUTDOWN);
}

static ASYNC__INLINE int valid(const async_queue_t *q)
{
    return q && q->init == Q_LIVE;
}

/* valid, and q wakes its waiters on the loop the task runs on */
static ASYNC__INLINE int ours(const async_queue_t *q, const async_loop_t *loop)
{
    return valid(q) && q->loop == loop;
}

int async_queue_init(async_queue_t *q, async_loop_t *loop, void *buf,
                     uint32_t item_size, uint32_t capacity, int order,
                     async_queue_cmp *cmp)
{
    if (!q || !loop || !buf || item_size == 0 || capacity == 0 ||
        capacity > INT_MAX || order < ASYNC_QUEUE_FIFO ||
        order > (ASYNC_CONFIG_QUEUE_ORDERS ? ASYNC_QUEUE_PRIORITY
                                           : ASYNC_QUEUE_FIFO) ||
        (order == ASYNC_QUEUE_PRIORITY && !cmp))
        return misuse(ASYNC_EINVAL, "async_queue_init: bad argument");
    /* A woken waiter has left its list but may hold a promise. One woken
     * otherwise (shutdown, join) will not touch the queue again. */
    if (q->init == Q_LIVE && (q->getters || q->putters || q->joiners ||
                              q->promised_items || q->promised_room))
        return misuse(ASYNC_EBUSY, "async_queue_init: tasks wait on the queue");
    q->getters = q->putters = q->joiners = NULL;
    q->loop = loop;
    q->buf = buf;
    q->cmp = cmp;
    q->item_size = item_size;
    q->capacity = capacity;
    q->head = q->count = 0;
    q->unfinished = 0;
    q->promised_items = q->promised_room = 0;
    q->seq = 0;
    q->order = (uint8_t)order;
    q->tag = (uint8_t)(order == ASYNC_QUEUE_PRIORITY ? ASYNC__QUEUE_TAG(item_size)
                                                     : 0u);
    q->shutdown = 0;
    q->init = Q_LIVE;
    return 0;
}

int async_queue_put_nowait(async_queue_t *q, const void *item)
{
    if (!valid(q) || !item)
        return misuse(ASYNC_EINVAL, "async_queue_put_nowait: bad argument");
    if (q->shutdown)
        return ASYNC_ESHUTDOWN;
    if (q->count + q->promised_room >= q->capacity)
        return ASYNC_EFULL;
    put_item(q, item);
    return 0;
}

int async_queue_get_nowait(async_queue_t *q, void *item)
{
    if (!valid(q) || !item)
        return misuse(ASYNC_EINVAL, "async_queue_get_nowait: bad argument");
    if (q->count > q->promised_items) {
        take_item(q, item);
        return 0;
    }
    return q->shutdown && q->count == 0 ? ASYNC_ESHUTDOWN : ASYNC_EEMPTY;
}

int async_queue_put(async_loop_t *loop, async_queue_t *q, const void *item)
{
    async_task_t *t = loop ? loop->current : NULL;
    int rc;
    if (!t)
        return misuse(ASYNC_ENOTASK, "async_queue_put outside a task");
    if (!ours(q, loop) || !item)
        return misuse(ASYNC_EINVAL, "async_queue_put: bad argument");
    if (t->flags & TF_WOKEN) {
        int promised = t->u.run.value == 0;
        rc = async__resumed(t);
        if (promised)
            q->promised_room--;
        if (rc < 0) {
            if (promised)
                offer_room(q); /* not used: the next putter may have it */
            return rc;
        }
        if (q->shutdown)
            return ASYNC_ESHUTDOWN;
        put_item(q, item);
        return 0;
    }
    if (q->shutdown)
        return ASYNC_ESHUTDOWN;
    if (!q->putters && q->count + q->promised_room < q->capacity) {
        put_item(q, item);
        return 0;
    }
    /* on resume: put the item */
    return async__suspend(t, &q->putters, ASYNC_TASK_WAITING, TF_POLL);
}

int async_queue_get(async_loop_t *loop, async_queue_t *q, void *item)
{
    async_task_t *t = loop ? loop->current : NULL;
    int rc;
    if (!t)
        return misuse(ASYNC_ENOTASK, "async_queue_get outside a task");
    if (!ours(q, loop) || !item)
        return misuse(ASYNC_EINVAL, "async_queue_get: bad argument");
    if (t->flags & TF_WOKEN) {
        int promised = t->u.run.value == 0;
        rc = async__resumed(t);
        if (promised)
            q->promised_items--;
        if (rc < 0) { /* shut down (and empty), or cancelled */
            if (promised)
                offer_item(q); /* not taken: the next getter may have it */
            return rc;
        }
        if (q->count == 0)
            return ASYNC_ESHUTDOWN; /* discarded by an immediate shutdown */
        take_item(q, item);
        return 0;
    }
    if (!q->getters && q->count > q->promised_items) {
        take_item(q, item);
        return 0;
    }
    if (q->shutdown && q->count == 0)
        return ASYNC_ESHUTDOWN;
    /* on resume: take the item */
    return async__suspend(t, &q->getters, ASYNC_TASK_WAITING, TF_POLL);
}

int async_queue_task_done(async_queue_t *q)
{
    if (!valid(q))
        return misuse(ASYNC_EINVAL, "async_queue_task_done: not initialised");
    if (q->unfinished == 0)
        return misuse(ASYNC_ESTATE, "async_queue_task_done: nothing is "
                                    "outstanding (more task_done than puts)");
#if ASYNC_CONFIG_DEBUG
    if (q->loop->current && q->loop->current->held)
        q->loop->current->held--;
#endif
    if (--q->unfinished == 0)
        async__wake_all(q->loop, &q->joiners, 0);
    return 0;
}

int async_queue_join(async_loop_t *loop, async_queue_t *q)
{
    async_task_t *t = loop ? loop->current : NULL;
    if (!t)
        return misuse(ASYNC_ENOTASK, "async_queue_join outside a task");
    if (t->flags & TF_WOKEN)
        return async__resumed(t);
    if (!ours(q, loop))
        return misuse(ASYNC_EINVAL, "async_queue_join: not initialised, or another loop's");
    if (q->unfinished == 0)
        return 0;
    return async__suspend(t, &q->joiners, ASYNC_TASK_WAITING, 0);
}

int async_queue_shutdown(async_queue_t *q, int immediate)
{
    if (!valid(q))
        return misuse(ASYNC_EINVAL, "async_queue_shutdown: not initialised");
    q->shutdown = 1;
    if (immediate) {
        uint32_t n = q->count;
        q->count = 0;
        q->head = 0;
        q->unfinished = n < q->unfinished ? q->unfinished - n : 0;
        if (q->unfinished == 0)
            async__wake_all(q->loop, &q->joiners, 0);
    }
    /* Nothing more will be put: putters are never admitted, and getters
     * fail once no item is left (one promised to a woken getter may still
     * be passed on to them). */
    if (q->count == 0)
        async__wake_all(q->loop, &q->getters, ASYNC_ESHUTDOWN);
    async__wake_all(q->loop, &q->putters, ASYNC_ESHUTDOWN);
    return 0;
}

int async_queue_size(const async_queue_t *q)
{
    return valid(q) ? (int)q->count : ASYNC_EINVAL;
}

int async_queue_capacity(const async_queue_t *q)
{
    return valid(q) ? (int)q->capacity : ASYNC_EINVAL;
}

int async_queue_empty(const async_queue_t *q)
{
    return valid(q) ? q->count == 0 : ASYNC_EINVAL;
}

int async_queue_full(const async_queue_t *q)
{
    return valid(q) ? q->count >= q->capacity : ASYNC_EINVAL;
}

int async_queue_unfinished(const async_queue_t *q)
{
    return valid(q) ? (int)q->unfinished : ASYNC_EINVAL;
}
