/* SPDX-License-Identifier: MIT */
/*
 * Queue (asyncio.Queue): fixed-size items copied into caller storage and
 * out again in FIFO, LIFO or priority order; put and get that wait, nowait
 * forms that refuse and change nothing; task_done and join; graceful and
 * immediate shutdown with asyncio 3.13 semantics; timeouts through
 * async_wait_for; and the cancellation contract: a getter or putter that is
 * cancelled or times out never loses, duplicates or invents an item, a
 * wakeup it cannot use goes to the next waiter, waiters are served first
 * come, first served and leave no trace when they give up. Misuse returns
 * the documented code and changes nothing. A seeded simulation with random
 * cancellations and timeouts checks that items are conserved.
 *
 * Tests registered IN_EVERY_ORDER are Check loop tests: _i is the queue
 * order (FIFO, LIFO, PRIORITY) and each order runs in its own process;
 * expected item orders come from a small reference model. Tests registered
 * GRACEFUL_AND_IMMEDIATE take _i as async_queue_shutdown's `immediate`.
 */
#include "harness.h"

/* ------------------------------------------------------------- fixture */

static async_queue_t q;
static unsigned char qbuf[ASYNC_QUEUE_STORAGE(sizeof(int), 16,
                                              ASYNC_QUEUE_PRIORITY)];

/* Priority of an int item: its tens digit, so 12 and 15 tie. */
static int tens(int v)
{
    return v / 10;
}

static int by_tens(const void *a, const void *b)
{
    int x, y;
    memcpy(&x, a, sizeof x); /* stored items need not be aligned */
    memcpy(&y, b, sizeof y);
    return (tens(x) > tens(y)) - (tens(x) < tens(y));
}

/* An int queue in the given order; the comparator only for PRIORITY. */
static void open_queue(int order, uint32_t capacity)
{
    ck_assert_uint_le(ASYNC_QUEUE_STORAGE(sizeof(int), capacity, order),
                      sizeof qbuf);
    ck_assert_int_eq(async_queue_init(&q, &loop, qbuf, sizeof(int), capacity,
                                      order, order == ASYNC_QUEUE_PRIORITY
                                                 ? by_tens : NULL),
                     0);
}

static int put_now(int v)
{
    return async_queue_put_nowait(&q, &v);
}

/* get_nowait that must succeed: the item. */
static int take(void)
{
    int v = -1;
    ck_assert_int_eq(async_queue_get_nowait(&q, &v), 0);
    return v;
}

static unsigned now(void)
{
    return (unsigned)async_loop_now(&loop);
}

/* "ETIMEDOUT" for ASYNC_ETIMEDOUT: short names keep traces readable. */
static const char *err(int rc)
{
    return async_strerror_name(rc) + strlen("ASYNC_");
}

/* What the queue must hand out: a reference model of the three orders
 * (priority by key, ties in arrival order). */
struct model {
    int order;
    int (*key)(int);
    int n, v[64];
};

static void model_put(struct model *m, int v)
{
    ck_assert_int_lt(m->n, 64);
    m->v[m->n++] = v;
}

static int model_get(struct model *m)
{
    int at = m->order == ASYNC_QUEUE_LIFO ? m->n - 1 : 0, i, v;
    ck_assert_int_gt(m->n, 0);
    if (m->order == ASYNC_QUEUE_PRIORITY)
        for (i = 1; i < m->n; i++)
            if (m->key(m->v[i]) < m->key(m->v[at]))
                at = i; /* strictly less: the earliest of equals wins */
    v = m->v[at];
    memmove(&m->v[at], &m->v[at + 1], (size_t)(m->n - at - 1) * sizeof v);
    m->n--;
    return v;
}

/* ---------------------------------------------- getter, putter, joiner */

/* Each sleeps `delay` ticks first (so arrival order can differ from
 * creation order), then does one operation, bounded by `timeout` ticks if
 * non-zero, and traces the outcome with the tick: "g0:got5@3",
 * "p1:put7@0", "j0:joined@2", "g2:ETIMEDOUT@5". */
struct getter {
    async_frame_t co;
    int id, mark_done, item, rc;
    async_tick_t delay, timeout;
    async_timeout_t to;
};

static int getter(async_loop_t *l, void *frame)
{
    struct getter *g = frame;
    ASYNC_BEGIN(l, g);
    if (g->delay)
        AWAIT(async_sleep(l, g->delay));
    g->item = -1;
    if (g->timeout) {
        AWAIT_TRY(g->rc, async_wait_for(l, &g->to, g->timeout,
                                        async_queue_get(l, &q, &g->item)));
    } else {
        AWAIT_TRY(g->rc, async_queue_get(l, &q, &g->item));
    }
    if (g->rc < 0) {
        ck_assert_int_eq(g->item, -1); /* a failed get writes nothing */
        trace("g%d:%s@%u", g->id, err(g->rc), now());
        ASYNC_RETURN(g->rc);
    }
    trace("g%d:got%d@%u", g->id, g->item, now());
    if (g->mark_done)
        ck_assert_int_eq(async_queue_task_done(&q), 0);
    ASYNC_END;
}

struct putter {
    async_frame_t co;
    int id, item, rc;
    async_tick_t delay, timeout;
    async_timeout_t to;
};

static int putter(async_loop_t *l, void *frame)
{
    struct putter *p = frame;
    ASYNC_BEGIN(l, p);
    if (p->delay)
        AWAIT(async_sleep(l, p->delay));
    if (p->timeout) {
        AWAIT_TRY(p->rc, async_wait_for(l, &p->to, p->timeout,
                                        async_queue_put(l, &q, &p->item)));
    } else {
        AWAIT_TRY(p->rc, async_queue_put(l, &q, &p->item));
    }
    if (p->rc < 0)
        trace("p%d:%s@%u", p->id, err(p->rc), now());
    else
        trace("p%d:put%d@%u", p->id, p->item, now());
    ASYNC_RETURN(p->rc);
    ASYNC_END;
}

struct joiner {
    async_frame_t co;
    int id, rc;
    async_tick_t timeout;
    async_timeout_t to;
};

static int joiner(async_loop_t *l, void *frame)
{
    struct joiner *j = frame;
    ASYNC_BEGIN(l, j);
    if (j->timeout) {
        AWAIT_TRY(j->rc, async_wait_for(l, &j->to, j->timeout,
                                        async_queue_join(l, &q)));
    } else {
        AWAIT_TRY(j->rc, async_queue_join(l, &q));
    }
    if (j->rc < 0)
        trace("j%d:%s@%u", j->id, err(j->rc), now());
    else
        trace("j%d:joined@%u", j->id, now());
    ASYNC_RETURN(j->rc);
    ASYNC_END;
}

#define MAXT 6
static struct getter gf[MAXT];
static struct putter pf[MAXT];
static struct joiner jf[MAXT];
static async_task_t gt[MAXT], pt[MAXT], jt[MAXT];

static void start_getter(int i, async_tick_t delay, async_tick_t timeout)
{
    gf[i].id = i;
    gf[i].delay = delay;
    gf[i].timeout = timeout;
    ck_assert_int_eq(async_task_create(&loop, &gt[i], getter, &gf[i]), 0);
}

static void start_putter(int i, int item, async_tick_t delay,
                         async_tick_t timeout)
{
    pf[i].id = i;
    pf[i].item = item;
    pf[i].delay = delay;
    pf[i].timeout = timeout;
    ck_assert_int_eq(async_task_create(&loop, &pt[i], putter, &pf[i]), 0);
}

static void start_joiner(int i, async_tick_t timeout)
{
    jf[i].id = i;
    jf[i].timeout = timeout;
    ck_assert_int_eq(async_task_create(&loop, &jt[i], joiner, &jf[i]), 0);
}

/* Nothing is ready and no deadline is armed: nobody was woken. */
static void assert_nobody_woken(void)
{
    ck_assert_uint_eq(async_loop_next_timeout(&loop), ASYNC_FOREVER);
}

/* A clock the test moves by hand. Virtual time never advances while a
 * task is ready, so a deadline that passes between a wake and the woken
 * task's turn needs it. Turns are then run one by one. */
static async_tick_t hand_now;

static async_tick_t hand_clock(void *ctx)
{
    (void)ctx;
    return hand_now;
}

static const async_port_t hand_port = {hand_clock, NULL, NULL, NULL};

/* ===================================================== storage, queries */

START_TEST(queries_track_the_items)
{
    int order = _i, i;
    open_queue(order, 3);
    ck_assert_int_eq(async_queue_capacity(&q), 3);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(async_queue_size(&q), i);
        ck_assert_int_eq(async_queue_empty(&q), i == 0);
        ck_assert_int_eq(async_queue_full(&q), 0);
        ck_assert_int_eq(async_queue_unfinished(&q), i);
        ck_assert_int_eq(put_now(10 * i), 0);
    }
    ck_assert_int_eq(async_queue_size(&q), 3);
    ck_assert_int_eq(async_queue_empty(&q), 0);
    ck_assert_int_eq(async_queue_full(&q), 1);
    for (i = 3; i > 0; i--) {
        ck_assert_int_eq(async_queue_size(&q), i);
        (void)take();
        ck_assert_int_eq(async_queue_full(&q), 0);
        ck_assert_int_eq(async_queue_unfinished(&q), 3); /* gets don't count */
    }
    ck_assert_int_eq(async_queue_empty(&q), 1);
    ck_assert_int_eq(async_queue_capacity(&q), 3);
}
END_TEST

START_TEST(items_are_copied_in_and_out)
{
    int v = 1, out = 0;
    open_queue(ASYNC_QUEUE_FIFO, 2);
    ck_assert_int_eq(async_queue_put_nowait(&q, &v), 0);
    v = 2; /* the queued copy must not follow the caller's variable */
    ck_assert_int_eq(async_queue_put_nowait(&q, &v), 0);
    v = 3;
    ck_assert_int_eq(async_queue_get_nowait(&q, &out), 0);
    ck_assert_int_eq(out, 1);
    out = 99; /* nor does the queue see what the getter does with its copy */
    ck_assert_int_eq(async_queue_get_nowait(&q, &out), 0);
    ck_assert_int_eq(out, 2);
    ck_assert_int_eq(v, 3); /* getting never writes the source */
}
END_TEST

/* Odd-sized items: byte 0 is a priority key with ties, the other bytes a
 * pattern below 0x80 so they never equal the 0xAA fill. */
static int odd_key(int k)
{
    return k % 3;
}

static int byte0_cmp(const void *a, const void *b)
{
    const unsigned char *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

static void make_odd(int k, unsigned char *item, uint32_t size)
{
    uint32_t j;
    item[0] = (unsigned char)odd_key(k);
    for (j = 1; j < size; j++)
        item[j] = (unsigned char)((k * 13 + (int)j * 5) & 0x7F);
}

/* Loop over sizes 3 and 17 times the three orders: items round-trip byte
 * for byte through a ring that wraps (and a heap that reorders), and
 * capacity items fill exactly ASYNC_QUEUE_STORAGE bytes: every byte is
 * used, none beyond is touched. */
START_TEST(odd_sized_items_round_trip_and_fill_exactly_their_storage)
{
    enum { CAP = 5, GUARD = 32 };
    static unsigned char
        area[ASYNC_QUEUE_STORAGE(17, CAP, ASYNC_QUEUE_PRIORITY) + GUARD];
    const uint32_t size = _i < 3 ? 3 : 17;
    const int order = _i % 3;
    const size_t bytes = ASYNC_QUEUE_STORAGE(size, CAP, order);
    /* sizes 3 and 17 need no alignment: a bare 4-byte number */
    const uint32_t extra = order == ASYNC_QUEUE_PRIORITY ? 4u : 0u;
    unsigned char in[17], out[18], want[17]; /* out: one spare byte */
    struct model m = {0, odd_key, 0, {0}};
    int k = 0, i;
    size_t b;

    m.order = order;
    ck_assert_uint_eq(bytes, (size_t)CAP * (size + extra));
    memset(area, 0xAA, sizeof area);
    ck_assert_int_eq(async_queue_init(&q, &loop, area, size, CAP, order,
                                      byte0_cmp), 0);
    for (i = 0; i < CAP; i++, k++) {
        make_odd(k, in, size);
        ck_assert_int_eq(async_queue_put_nowait(&q, in), 0);
        model_put(&m, k);
    }
    ck_assert_int_eq(async_queue_full(&q), 1);
    for (b = 0; b < bytes; b++)
        ck_assert_msg(area[b] != 0xAA, "storage byte %u unused", (unsigned)b);
    for (i = 0; i < 2; i++) { /* free two slots, then refill: wraps */
        memset(out, 0xEE, sizeof out);
        ck_assert_int_eq(async_queue_get_nowait(&q, out), 0);
        make_odd(model_get(&m), want, size);
        ck_assert_int_eq(memcmp(out, want, size), 0);
        ck_assert_uint_eq(out[size], 0xEE); /* no byte past the item */
    }
    for (i = 0; i < 2; i++, k++) {
        make_odd(k, in, size);
        ck_assert_int_eq(async_queue_put_nowait(&q, in), 0);
        model_put(&m, k);
    }
    while (async_queue_size(&q) > 0) {
        ck_assert_int_eq(async_queue_get_nowait(&q, out), 0);
        make_odd(model_get(&m), want, size);
        ck_assert_int_eq(memcmp(out, want, size), 0);
    }
    ck_assert_int_eq(m.n, 0);
    for (b = bytes; b < sizeof area; b++)
        ck_assert_msg(area[b] == 0xAA, "byte %u past the storage written",
                      (unsigned)(b - bytes));
}
END_TEST

/* Random puts and gets against the reference model, in every order. */
START_TEST(items_come_out_as_the_reference_model_says)
{
    struct model m = {0, tens, 0, {0}};
    unsigned seed = 12345u;
    int step, v;
    m.order = _i;
    open_queue(_i, 16);
    for (step = 0; step < 4000; step++) {
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 16) % 2 == 0) {
            v = (int)((seed >> 8) % 60);
            if (m.n == 16) {
                ck_assert_int_eq(put_now(v), ASYNC_EFULL);
            } else {
                ck_assert_int_eq(put_now(v), 0);
                model_put(&m, v);
            }
        } else if (m.n == 0) {
            ck_assert_int_eq(async_queue_get_nowait(&q, &v), ASYNC_EEMPTY);
        } else {
            ck_assert_int_eq(take(), model_get(&m));
        }
        ck_assert_int_eq(async_queue_size(&q), m.n);
    }
}
END_TEST

/* ========================================================== nowait forms */

START_TEST(put_nowait_on_a_full_queue_is_efull_and_changes_nothing)
{
    struct model m = {0, tens, 0, {0}};
    m.order = _i;
    open_queue(_i, 2);
    ck_assert_int_eq(put_now(22), 0);
    model_put(&m, 22);
    ck_assert_int_eq(put_now(11), 0);
    model_put(&m, 11);
    ck_assert_int_eq(put_now(5), ASYNC_EFULL); /* would sort first */
    ck_assert_int_eq(async_queue_size(&q), 2);
    ck_assert_int_eq(async_queue_full(&q), 1);
    ck_assert_int_eq(async_queue_unfinished(&q), 2);
    ck_assert_int_eq(take(), model_get(&m));
    ck_assert_int_eq(take(), model_get(&m));
    ck_assert_int_eq(async_queue_get_nowait(&q, &m.n), ASYNC_EEMPTY);
}
END_TEST

START_TEST(get_nowait_on_an_empty_queue_is_eempty_and_changes_nothing)
{
    int out = 77;
    open_queue(ASYNC_QUEUE_FIFO, 2);
    ck_assert_int_eq(async_queue_get_nowait(&q, &out), ASYNC_EEMPTY);
    ck_assert_int_eq(out, 77);
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
    ck_assert_int_eq(put_now(5), 0);
    ck_assert_int_eq(take(), 5);
    ck_assert_int_eq(async_queue_get_nowait(&q, &out), ASYNC_EEMPTY);
    ck_assert_int_eq(out, 77);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
}
END_TEST

/* ============================================================== waiting */

START_TEST(get_waits_while_empty_until_a_put)
{
    open_queue(ASYNC_QUEUE_FIFO, 2);
    start_getter(0, 0, 0);
    start_putter(0, 7, 3, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "p0:put7@3 g0:got7@3");
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
}
END_TEST

START_TEST(put_waits_while_full_until_a_get)
{
    open_queue(ASYNC_QUEUE_FIFO, 1);
    ck_assert_int_eq(put_now(1), 0);
    start_putter(0, 2, 0, 0);
    start_getter(0, 3, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:got1@3 p0:put2@3");
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(take(), 2);
    ck_assert_int_eq(async_queue_unfinished(&q), 2);
}
END_TEST

/* Getters arrive in the order g1, g2, g0 (their delays) and are served in
 * that order; which item each gets is the queue order's business. */
START_TEST(getters_are_served_in_arrival_order)
{
    struct model m = {0, tens, 0, {0}};
    static const int items[] = {25, 12, 31};
    char want[128];
    int i, a, b, c;
    m.order = _i;
    open_queue(_i, 4);
    start_getter(0, 3, 0);
    start_getter(1, 1, 0);
    start_getter(2, 2, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "");
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(put_now(items[i]), 0);
        model_put(&m, items[i]);
    }
    run_until_idle();
    a = model_get(&m);
    b = model_get(&m);
    c = model_get(&m);
    snprintf(want, sizeof want, "g1:got%d@3 g2:got%d@3 g0:got%d@3", a, b, c);
    ck_assert_str_eq(TRACE, want);
}
END_TEST

/* Putters arrive in the order p1, p0, p2 and each freed slot goes to the
 * longest-waiting one. */
START_TEST(putters_are_served_in_arrival_order)
{
    struct model m = {0, tens, 0, {0}};
    static const int arrival[] = {1, 0, 2};
    static const int item[] = {11, 22, 33};
    int i;
    m.order = _i;
    open_queue(_i, 2);
    ck_assert_int_eq(put_now(50), 0);
    model_put(&m, 50);
    ck_assert_int_eq(put_now(40), 0);
    model_put(&m, 40);
    start_putter(0, item[0], 2, 0);
    start_putter(1, item[1], 1, 0);
    start_putter(2, item[2], 3, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "");
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(take(), model_get(&m));
        run_until_idle();
        model_put(&m, item[arrival[i]]);
    }
    ck_assert_str_eq(TRACE, "p1:put22@3 p0:put11@3 p2:put33@3");
    while (m.n)
        ck_assert_int_eq(take(), model_get(&m));
    ck_assert_int_eq(async_queue_unfinished(&q), 5);
}
END_TEST

/* A tick after the getter started waiting, a task puts an item (promising
 * it to the getter) and, in the same turn, tries to take it back without
 * waiting. */
struct barger {
    async_frame_t co;
    int item, rc;
};

static int barge_get(async_loop_t *l, void *frame)
{
    struct barger *b = frame;
    ASYNC_BEGIN(l, b);
    AWAIT(async_sleep(l, 1));
    ck_assert_int_eq(put_now(5), 0);
    b->item = -1;
    b->rc = async_queue_get_nowait(&q, &b->item);
    trace("b:%s", err(b->rc));
    ck_assert_int_eq(b->item, -1);
    ASYNC_END;
}

START_TEST(a_get_nowait_cannot_steal_the_item_promised_to_a_woken_getter)
{
    static struct barger bf;
    static async_task_t bt;
    open_queue(_i, 2);
    start_getter(0, 0, 0);
    run_until_idle();
    ck_assert_int_eq(async_task_create(&loop, &bt, barge_get, &bf), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "b:EEMPTY g0:got5@1");
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
}
END_TEST

/* A tick after the putter started waiting, a task frees a slot of the full
 * queue (promising it to the putter) and, in the same turn, tries to fill
 * it without waiting. */
static int barge_put(async_loop_t *l, void *frame)
{
    struct barger *b = frame;
    ASYNC_BEGIN(l, b);
    AWAIT(async_sleep(l, 1));
    ck_assert_int_eq(async_queue_get_nowait(&q, &b->item), 0);
    trace("b:got%d", b->item);
    b->rc = put_now(3);
    trace("b:%s", err(b->rc));
    ASYNC_END;
}

START_TEST(a_put_nowait_cannot_take_the_room_promised_to_a_woken_putter)
{
    static struct barger bf;
    static async_task_t bt;
    open_queue(_i, 1);
    ck_assert_int_eq(put_now(1), 0);
    start_putter(0, 2, 0, 0);
    run_until_idle();
    ck_assert_int_eq(async_task_create(&loop, &bt, barge_put, &bf), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "b:got1 b:EFULL p0:put2@1");
    ck_assert_int_eq(take(), 2);
    ck_assert_int_eq(async_queue_unfinished(&q), 2); /* 3 never counted */
}
END_TEST

/* g1 calls get after g0 was promised the only item but before g0 ran: it
 * queues behind g0 instead of taking the item. */
START_TEST(a_get_arriving_after_a_wake_queues_behind_the_woken_getter)
{
    open_queue(ASYNC_QUEUE_FIFO, 2);
    start_getter(0, 0, 0);
    run_until_idle();
    start_getter(1, 0, 0); /* ready before g0 is woken */
    ck_assert_int_eq(put_now(5), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:got5@0");
    ck_assert_int_eq(async_task_state(&gt[1]), ASYNC_TASK_WAITING);
    ck_assert_int_eq(put_now(6), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:got5@0 g1:got6@0");
}
END_TEST

/* ===================================================== task_done, join */

START_TEST(join_returns_at_once_when_nothing_is_outstanding)
{
    open_queue(ASYNC_QUEUE_FIFO, 2);
    start_joiner(0, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "j0:joined@0");
    ck_assert_int_eq(put_now(1), 0);
    ck_assert_int_eq(take(), 1);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    start_joiner(1, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "j0:joined@0 j1:joined@0");
}
END_TEST

START_TEST(each_put_adds_one_and_each_task_done_removes_one)
{
    open_queue(_i, 4);
    ck_assert_int_eq(put_now(11), 0);
    ck_assert_int_eq(put_now(22), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 2);
    start_putter(0, 33, 0, 0); /* an awaited put counts the same */
    run_until_idle();
    ck_assert_int_eq(async_queue_unfinished(&q), 3);
    (void)take();
    (void)take();
    ck_assert_int_eq(async_queue_unfinished(&q), 3);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 2);
    /* task_done counts puts, not gets: an item still queued may be done */
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
    ck_assert_int_eq(async_queue_size(&q), 1);
}
END_TEST

START_TEST(join_waits_for_the_last_task_done_and_wakes_every_joiner)
{
    int i;
    open_queue(_i, 4);
    for (i = 1; i <= 3; i++)
        ck_assert_int_eq(put_now(10 * i), 0);
    start_joiner(0, 0);
    start_joiner(1, 0);
    run_until_idle();
    for (i = 0; i < 3; i++) {
        (void)take();
        run_until_idle();
    }
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, ""); /* one still outstanding */
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "j0:joined@0 j1:joined@0");
}
END_TEST

/* The count is an int for the caller: a program that puts forever and
 * never calls task_done sees it stop at INT_MAX, never negative. */
START_TEST(the_unfinished_count_stops_at_int_max)
{
    open_queue(ASYNC_QUEUE_FIFO, 4);
    q.unfinished = INT_MAX - 1; /* private: as after INT_MAX - 1 puts */
    ck_assert_int_eq(put_now(1), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), INT_MAX);
    ck_assert_int_eq(put_now(2), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), INT_MAX);
    ck_assert_int_eq(take(), 1);
    ck_assert_int_eq(take(), 2);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), INT_MAX - 1);
}
END_TEST

START_TEST(task_done_at_zero_is_estate_and_the_count_stays_zero)
{
    open_queue(ASYNC_QUEUE_FIFO, 2);
    ck_assert_int_eq(async_queue_task_done(&q), ASYNC_ESTATE);
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
    ck_assert_int_eq(put_now(1), 0);
    ck_assert_int_eq(take(), 1);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    ck_assert_int_eq(async_queue_task_done(&q), ASYNC_ESTATE);
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
    ck_assert_int_eq(put_now(2), 0); /* the count did not wrap below zero */
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
    start_joiner(0, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "");
    ck_assert_int_eq(take(), 2);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "j0:joined@0");
}
END_TEST

/* asyncio's worker pattern: `finally: queue.task_done()`. A worker
 * cancelled while processing an item marks it done in its cleanup, so a
 * join still completes. */
struct worker {
    async_frame_t co;
    int item, holding;
};

static int worker(async_loop_t *l, void *frame)
{
    struct worker *w = frame;
    ASYNC_BEGIN(l, w);
    AWAIT(async_queue_get(l, &q, &w->item));
    w->holding = 1;
    trace("w:got%d@%u", w->item, now());
    AWAIT(async_sleep(l, 100)); /* processing */
    ASYNC_FINALLY;
    if (w->holding) {
        ck_assert_int_eq(async_queue_task_done(&q), 0);
        trace("w:done(%s)@%u", err(ASYNC_RESULT), now());
    }
    ASYNC_END;
}

struct canceller {
    async_frame_t co;
    async_task_t *victim;
    async_tick_t after;
};

static int canceller(async_loop_t *l, void *frame)
{
    struct canceller *c = frame;
    ASYNC_BEGIN(l, c);
    AWAIT(async_sleep(l, c->after));
    ck_assert_int_eq(async_task_cancel(l, c->victim), 1);
    ASYNC_END;
}

START_TEST(a_worker_cancelled_mid_item_marks_it_done_in_its_cleanup)
{
    static struct worker wf;
    static struct canceller cf;
    static async_task_t wt, ct;
    open_queue(ASYNC_QUEUE_FIFO, 2);
    ck_assert_int_eq(put_now(1), 0);
    ck_assert_int_eq(async_task_create(&loop, &wt, worker, &wf), 0);
    start_joiner(0, 0);
    cf.victim = &wt;
    cf.after = 5;
    ck_assert_int_eq(async_task_create(&loop, &ct, canceller, &cf), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "w:got1@0 w:done(ECANCELED)@5 j0:joined@5");
    ck_assert_int_eq(async_task_result(&wt), ASYNC_ECANCELED);
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
}
END_TEST

/* ============================================================= shutdown */

START_TEST(graceful_shutdown_refuses_puts_but_queued_items_can_still_be_got)
{
    struct model m = {0, tens, 0, {0}};
    static const int items[] = {25, 12, 31, 18};
    char want[128];
    int i, last;
    m.order = _i;
    open_queue(_i, 4);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(put_now(items[i]), 0);
        model_put(&m, items[i]);
    }
    start_joiner(0, 0);
    run_until_idle();
    ck_assert_int_eq(take(), model_get(&m)); /* held, not yet done */
    ck_assert_int_eq(async_queue_shutdown(&q, 0), 0);

    ck_assert_int_eq(put_now(40), ASYNC_ESHUTDOWN);
    ck_assert_int_eq(async_queue_size(&q), 3);
    ck_assert_int_eq(async_queue_unfinished(&q), 4);
    start_putter(0, 40, 0, 0);
    start_getter(0, 0, 0); /* a get still works while items remain */
    run_until_idle();
    snprintf(want, sizeof want, "p0:ESHUTDOWN@0 g0:got%d@0", model_get(&m));
    ck_assert_str_eq(TRACE, want);
    ck_assert_int_eq(take(), model_get(&m));
    last = model_get(&m);
    ck_assert_int_eq(take(), last);
    ck_assert_int_eq(async_queue_get_nowait(&q, &i), ASYNC_ESHUTDOWN);
    start_getter(1, 0, 0);
    run_until_idle();
    snprintf(want + strlen(want), sizeof want - strlen(want),
             " g1:ESHUTDOWN@0");
    ck_assert_str_eq(TRACE, want); /* and the joiner still waits */
    ck_assert_int_eq(async_queue_unfinished(&q), 4);
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(async_queue_task_done(&q), 0);
    run_until_idle();
    snprintf(want + strlen(want), sizeof want - strlen(want), " j0:joined@0");
    ck_assert_str_eq(TRACE, want);
}
END_TEST

/* Loop over graceful (0) and immediate (1). */
START_TEST(shutdown_wakes_blocked_getters_with_eshutdown)
{
    open_queue(ASYNC_QUEUE_FIFO, 2);
    start_getter(0, 0, 0);
    start_getter(1, 0, 0);
    run_until_idle();
    ck_assert_int_eq(async_queue_shutdown(&q, _i), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:ESHUTDOWN@0 g1:ESHUTDOWN@0");
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
}
END_TEST

/* Loop over graceful (0) and immediate (1). */
START_TEST(shutdown_wakes_blocked_putters_with_eshutdown_and_puts_nothing)
{
    open_queue(ASYNC_QUEUE_FIFO, 1);
    ck_assert_int_eq(put_now(1), 0);
    start_putter(0, 2, 0, 0);
    start_putter(1, 3, 0, 0);
    run_until_idle();
    ck_assert_int_eq(async_queue_shutdown(&q, _i), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "p0:ESHUTDOWN@0 p1:ESHUTDOWN@0");
    if (_i) {
        ck_assert_int_eq(async_queue_size(&q), 0);
        ck_assert_int_eq(async_queue_unfinished(&q), 0);
    } else {
        ck_assert_int_eq(async_queue_size(&q), 1);
        ck_assert_int_eq(take(), 1);
        ck_assert_int_eq(async_queue_unfinished(&q), 1);
    }
}
END_TEST

START_TEST(immediate_shutdown_discards_items_and_lowers_the_unfinished_count)
{
    int i, out = -1;
    open_queue(_i, 4);
    for (i = 1; i <= 4; i++)
        ck_assert_int_eq(put_now(10 * i + i), 0);
    start_joiner(0, 0);
    run_until_idle();
    (void)take(); /* held, not yet done */
    ck_assert_int_eq(async_queue_shutdown(&q, 1), 0);
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_empty(&q), 1);
    ck_assert_int_eq(async_queue_unfinished(&q), 1); /* 4 put, 3 discarded */
    ck_assert_int_eq(async_queue_get_nowait(&q, &out), ASYNC_ESHUTDOWN);
    ck_assert_int_eq(out, -1);
    ck_assert_int_eq(put_now(50), ASYNC_ESHUTDOWN);
    start_getter(0, 0, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:ESHUTDOWN@0"); /* the joiner still waits */
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:ESHUTDOWN@0 j0:joined@0");
    ck_assert_int_eq(async_queue_task_done(&q), ASYNC_ESTATE);
}
END_TEST

START_TEST(immediate_shutdown_completes_joiners_when_nothing_is_held)
{
    open_queue(ASYNC_QUEUE_FIFO, 2);
    ck_assert_int_eq(put_now(1), 0);
    ck_assert_int_eq(put_now(2), 0);
    start_joiner(0, 0);
    start_joiner(1, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "");
    ck_assert_int_eq(async_queue_shutdown(&q, 1), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "j0:joined@0 j1:joined@0");
}
END_TEST

/* Loop over graceful (0) and immediate (1): a getter woken with the only
 * item keeps it through a graceful shutdown; an immediate one discards it
 * and the getter fails. */
START_TEST(a_woken_getter_keeps_its_item_only_through_a_graceful_shutdown)
{
    open_queue(ASYNC_QUEUE_FIFO, 2);
    start_getter(0, 0, 0);
    run_until_idle();
    ck_assert_int_eq(put_now(5), 0);
    ck_assert_int_eq(async_queue_shutdown(&q, _i), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, _i ? "g0:ESHUTDOWN@0" : "g0:got5@0");
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), _i ? 0 : 1);
}
END_TEST

/* Loop over graceful (0) and immediate (1). */
START_TEST(a_woken_putter_fails_after_shutdown_and_puts_nothing)
{
    open_queue(ASYNC_QUEUE_FIFO, 1);
    ck_assert_int_eq(put_now(1), 0);
    start_putter(0, 2, 0, 0);
    run_until_idle();
    ck_assert_int_eq(take(), 1); /* room promised to p0 */
    ck_assert_int_eq(async_queue_shutdown(&q, _i), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "p0:ESHUTDOWN@0");
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
}
END_TEST

START_TEST(an_immediate_shutdown_after_a_graceful_one_discards_the_rest)
{
    open_queue(ASYNC_QUEUE_FIFO, 3);
    ck_assert_int_eq(put_now(1), 0);
    ck_assert_int_eq(put_now(2), 0);
    ck_assert_int_eq(put_now(3), 0);
    ck_assert_int_eq(async_queue_shutdown(&q, 0), 0);
    ck_assert_int_eq(async_queue_shutdown(&q, 0), 0); /* again: no change */
    ck_assert_int_eq(async_queue_size(&q), 3);
    ck_assert_int_eq(take(), 1);
    ck_assert_int_eq(async_queue_shutdown(&q, 1), 0);
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    start_joiner(0, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "j0:joined@0");
}
END_TEST

/* After a graceful shutdown, g1 asks for an item while the last one is
 * promised to g0, which was woken and is then cancelled before it runs.
 * The item is still queued, so g1 must not fail: it gets the item g0
 * passes on, and no item is left behind with nobody to take it. */
START_TEST(a_getter_on_a_shut_down_queue_gets_an_item_passed_on_to_it)
{
    open_queue(ASYNC_QUEUE_FIFO, 2);
    start_getter(0, 0, 0);
    run_until_idle();
    start_getter(1, 0, 0); /* runs before g0 resumes */
    ck_assert_int_eq(put_now(5), 0);
    ck_assert_int_eq(async_queue_shutdown(&q, 0), 0);
    ck_assert_int_eq(async_task_cancel(&loop, &gt[0]), 1);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:ECANCELED@0 g1:got5@0");
    ck_assert_int_eq(async_queue_size(&q), 0);
}
END_TEST

/* =============================================================== orders */

START_TEST(lifo_gets_the_newest_item_first)
{
    open_queue(ASYNC_QUEUE_LIFO, 4);
    ck_assert_int_eq(put_now(1), 0);
    ck_assert_int_eq(put_now(2), 0);
    ck_assert_int_eq(put_now(3), 0);
    ck_assert_int_eq(take(), 3);
    ck_assert_int_eq(put_now(4), 0);
    ck_assert_int_eq(take(), 4);
    ck_assert_int_eq(take(), 2);
    ck_assert_int_eq(take(), 1);
}
END_TEST

START_TEST(priority_follows_the_comparator_and_ties_come_out_fifo)
{
    static const int in[] = {25, 11, 27, 15, 31, 13, 29};
    static const int out[] = {13, 12, 10, 25, 27, 29, 31};
    size_t i;
    open_queue(ASYNC_QUEUE_PRIORITY, 8);
    for (i = 0; i < sizeof in / sizeof in[0]; i++)
        ck_assert_int_eq(put_now(in[i]), 0);
    ck_assert_int_eq(take(), 11);
    ck_assert_int_eq(take(), 15);
    /* later arrivals of the same priority queue behind 13 */
    ck_assert_int_eq(put_now(12), 0);
    ck_assert_int_eq(put_now(10), 0);
    for (i = 0; i < sizeof out / sizeof out[0]; i++)
        ck_assert_int_eq(take(), out[i]);
}
END_TEST

/* Priority items of types that need 8 and 16 bytes' alignment (on most
 * hosts): the comparator gets each item where a C array of them would
 * put it, so it may read the fields in place, as with qsort. */
struct wide_job {
    uint64_t key;
    uint32_t id;
};
struct long_job {
    long double key;
    uint32_t id;
};
struct wide_probe {
    char c;
    struct wide_job x;
};
struct long_probe {
    char c;
    struct long_job x;
};

static int misaligned;

static int by_wide_key(const void *a, const void *b)
{
    const struct wide_job *x = a, *y = b;
    const uintptr_t align = offsetof(struct wide_probe, x);
    misaligned += (uintptr_t)a % align != 0 || (uintptr_t)b % align != 0;
    return (x->key > y->key) - (x->key < y->key);
}

static int by_long_key(const void *a, const void *b)
{
    const struct long_job *x = a, *y = b;
    const uintptr_t align = offsetof(struct long_probe, x);
    misaligned += (uintptr_t)a % align != 0 || (uintptr_t)b % align != 0;
    return (x->key > y->key) - (x->key < y->key);
}

START_TEST(the_comparator_gets_items_aligned_as_in_an_array)
{
    enum { CAP = 7 };
    static union {
        struct long_job align; /* the storage, aligned for both kinds */
        unsigned char bytes[ASYNC_QUEUE_STORAGE(sizeof(struct long_job), CAP,
                                                ASYNC_QUEUE_PRIORITY)];
    } store;
    static const uint32_t keys[CAP] = {5, 3, 6, 1, 4, 2, 0};
    struct wide_job w;
    struct long_job l;
    uint32_t i;

    ck_assert_uint_ge(sizeof store.bytes,
                      ASYNC_QUEUE_STORAGE(sizeof w, CAP, ASYNC_QUEUE_PRIORITY));
    ck_assert_int_eq(async_queue_init(&q, &loop, &store, sizeof w, CAP,
                                      ASYNC_QUEUE_PRIORITY, by_wide_key), 0);
    for (i = 0; i < CAP; i++) {
        w.key = keys[i];
        w.id = i;
        ck_assert_int_eq(async_queue_put_nowait(&q, &w), 0);
    }
    for (i = 0; i < CAP; i++) {
        ck_assert_int_eq(async_queue_get_nowait(&q, &w), 0);
        ck_assert_uint_eq(w.key, i);
    }

    memset(&l, 0, sizeof l); /* long double has padding: copy it defined */
    ck_assert_int_eq(async_queue_init(&q, &loop, &store, sizeof l, CAP,
                                      ASYNC_QUEUE_PRIORITY, by_long_key), 0);
    for (i = 0; i < CAP; i++) {
        l.key = keys[i];
        l.id = i;
        ck_assert_int_eq(async_queue_put_nowait(&q, &l), 0);
    }
    for (i = 0; i < CAP; i++) {
        ck_assert_int_eq(async_queue_get_nowait(&q, &l), 0);
        ck_assert(l.key == (long double)i);
    }
    ck_assert_int_eq(misaligned, 0);
}
END_TEST

/* ============================================================= timeouts */

START_TEST(get_times_out_on_an_empty_queue_and_takes_nothing)
{
    open_queue(_i, 2);
    start_getter(0, 0, 5);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:ETIMEDOUT@5");
    ck_assert_int_eq(put_now(7), 0);
    assert_nobody_woken();
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(take(), 7);
}
END_TEST

START_TEST(put_times_out_on_a_full_queue_and_puts_nothing)
{
    int out;
    open_queue(_i, 1);
    ck_assert_int_eq(put_now(1), 0);
    start_putter(0, 2, 0, 5);
    run_until_idle();
    ck_assert_str_eq(TRACE, "p0:ETIMEDOUT@5");
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
    ck_assert_int_eq(take(), 1);
    assert_nobody_woken();
    ck_assert_int_eq(async_queue_get_nowait(&q, &out), ASYNC_EEMPTY);
}
END_TEST

START_TEST(operations_done_in_time_disarm_their_deadlines)
{
    open_queue(ASYNC_QUEUE_FIFO, 1);
    start_getter(0, 0, 10);
    start_putter(0, 7, 3, 0);
    start_putter(1, 8, 3, 10); /* waits for room until g1 takes 7 */
    start_getter(1, 6, 10);
    run_until_idle();
    ck_assert_str_eq(TRACE, "p0:put7@3 g0:got7@3 p1:put8@3 g1:got8@6");
    ck_assert_uint_eq(async_loop_now(&loop), 6); /* no deadline left */
}
END_TEST

/* ========================================================= cancellation */

START_TEST(a_cancelled_getter_takes_nothing)
{
    open_queue(_i, 2);
    start_getter(0, 0, 0);
    run_until_idle();
    ck_assert_int_eq(async_task_cancel(&loop, &gt[0]), 1);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:ECANCELED@0");
    ck_assert_int_eq(put_now(5), 0);
    assert_nobody_woken();
    ck_assert_int_eq(async_queue_size(&q), 1);
    start_getter(1, 0, 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:ECANCELED@0 g1:got5@0");
}
END_TEST

START_TEST(a_cancelled_putter_puts_nothing)
{
    int out;
    open_queue(_i, 1);
    ck_assert_int_eq(put_now(1), 0);
    start_putter(0, 2, 0, 0);
    run_until_idle();
    ck_assert_int_eq(async_task_cancel(&loop, &pt[0]), 1);
    run_until_idle();
    ck_assert_str_eq(TRACE, "p0:ECANCELED@0");
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
    ck_assert_int_eq(take(), 1);
    assert_nobody_woken();
    ck_assert_int_eq(async_queue_get_nowait(&q, &out), ASYNC_EEMPTY);
}
END_TEST

/* g0 is woken with the item, then cancelled before it runs. */
START_TEST(a_woken_then_cancelled_getter_passes_the_item_to_the_next)
{
    open_queue(_i, 2);
    start_getter(0, 0, 0);
    start_getter(1, 0, 0);
    run_until_idle();
    ck_assert_int_eq(put_now(5), 0);
    ck_assert_int_eq(async_task_cancel(&loop, &gt[0]), 1);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:ECANCELED@0 g1:got5@0");
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
}
END_TEST

START_TEST(a_woken_then_cancelled_getter_alone_leaves_the_item_queued)
{
    open_queue(_i, 2);
    start_getter(0, 0, 0);
    run_until_idle();
    ck_assert_int_eq(put_now(5), 0);
    ck_assert_int_eq(async_task_cancel(&loop, &gt[0]), 1);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:ECANCELED@0");
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(take(), 5); /* not promised to anyone any more */
}
END_TEST

/* g0's deadline passes after the put woke it but before it ran. */
START_TEST(a_woken_then_timed_out_getter_passes_the_item_to_the_next)
{
    ck_assert_int_eq(async_loop_set_port(&loop, &hand_port), 0);
    open_queue(_i, 2);
    start_getter(0, 0, 5);
    start_getter(1, 0, 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_task_state(&gt[0]), ASYNC_TASK_WAITING);
    ck_assert_int_eq(async_task_state(&gt[1]), ASYNC_TASK_WAITING);
    ck_assert_int_eq(put_now(5), 0);
    ck_assert_int_eq(async_task_state(&gt[0]), ASYNC_TASK_READY);
    hand_now = 5;
    async_loop_run_once(&loop);
    ck_assert_str_eq(TRACE, "g0:ETIMEDOUT@5");
    async_loop_run_once(&loop);
    ck_assert_str_eq(TRACE, "g0:ETIMEDOUT@5 g1:got5@5");
    assert_nobody_woken();
    ck_assert_int_eq(async_queue_size(&q), 0);
}
END_TEST

START_TEST(a_woken_then_cancelled_putter_passes_the_room_to_the_next)
{
    open_queue(_i, 1);
    ck_assert_int_eq(put_now(1), 0);
    start_putter(0, 2, 0, 0);
    start_putter(1, 3, 0, 0);
    run_until_idle();
    ck_assert_int_eq(take(), 1);
    ck_assert_int_eq(async_task_cancel(&loop, &pt[0]), 1);
    run_until_idle();
    ck_assert_str_eq(TRACE, "p0:ECANCELED@0 p1:put3@0");
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(take(), 3);
    ck_assert_int_eq(async_queue_unfinished(&q), 2);
}
END_TEST

START_TEST(a_woken_then_cancelled_putter_alone_leaves_the_room_free)
{
    open_queue(_i, 1);
    ck_assert_int_eq(put_now(1), 0);
    start_putter(0, 2, 0, 0);
    run_until_idle();
    ck_assert_int_eq(take(), 1);
    ck_assert_int_eq(async_task_cancel(&loop, &pt[0]), 1);
    run_until_idle();
    ck_assert_str_eq(TRACE, "p0:ECANCELED@0");
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(put_now(4), 0); /* the room is nobody's any more */
    ck_assert_int_eq(take(), 4);
}
END_TEST

START_TEST(a_woken_then_timed_out_putter_passes_the_room_to_the_next)
{
    ck_assert_int_eq(async_loop_set_port(&loop, &hand_port), 0);
    open_queue(_i, 1);
    ck_assert_int_eq(put_now(1), 0);
    start_putter(0, 2, 0, 5);
    start_putter(1, 3, 0, 0);
    async_loop_run_once(&loop);
    ck_assert_int_eq(async_task_state(&pt[0]), ASYNC_TASK_WAITING);
    ck_assert_int_eq(take(), 1);
    ck_assert_int_eq(async_task_state(&pt[0]), ASYNC_TASK_READY);
    hand_now = 5;
    async_loop_run_once(&loop);
    ck_assert_str_eq(TRACE, "p0:ETIMEDOUT@5");
    async_loop_run_once(&loop);
    ck_assert_str_eq(TRACE, "p0:ETIMEDOUT@5 p1:put3@5");
    assert_nobody_woken();
    ck_assert_int_eq(take(), 3);
    ck_assert_int_eq(async_queue_unfinished(&q), 2);
}
END_TEST

/* A putter that retries after each cancellation: once cancelled while
 * waiting, once after being woken with room. Its item goes in once. */
struct retrier {
    async_frame_t co;
    int item, rc, tries;
};

static int retrier(async_loop_t *l, void *frame)
{
    struct retrier *r = frame;
    ASYNC_BEGIN(l, r);
    do {
        r->tries++;
        AWAIT_TRY(r->rc, async_queue_put(l, &q, &r->item));
        trace("r:%s", err(r->rc));
    } while (r->rc == ASYNC_ECANCELED);
    ASYNC_END;
}

START_TEST(a_putter_retrying_after_cancellations_enqueues_its_item_once)
{
    static struct retrier rf;
    static async_task_t rt;
    int out;
    open_queue(_i, 1);
    ck_assert_int_eq(put_now(1), 0);
    rf.item = 2;
    ck_assert_int_eq(async_task_create(&loop, &rt, retrier, &rf), 0);
    run_until_idle();
    ck_assert_int_eq(async_task_cancel(&loop, &rt), 1); /* while waiting */
    run_until_idle();
    ck_assert_int_eq(take(), 1);
    ck_assert_int_eq(async_task_cancel(&loop, &rt), 1); /* after the wake */
    run_until_idle();
    ck_assert_str_eq(TRACE, "r:ECANCELED r:ECANCELED r:OK");
    ck_assert_int_eq(rf.tries, 3);
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(take(), 2);
    ck_assert_int_eq(async_queue_get_nowait(&q, &out), ASYNC_EEMPTY);
    ck_assert_int_eq(async_queue_unfinished(&q), 2);
}
END_TEST

/* g1 gives up; the others keep their places. */
START_TEST(a_cancelled_waiter_leaves_no_gap_in_the_line)
{
    struct model m = {0, tens, 0, {0}};
    static const int items[] = {25, 12, 31};
    char want[128];
    int i, a, b, c;
    m.order = _i;
    open_queue(_i, 4);
    for (i = 0; i < 4; i++)
        start_getter(i, 0, 0);
    run_until_idle();
    ck_assert_int_eq(async_task_cancel(&loop, &gt[1]), 1);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(put_now(items[i]), 0);
        model_put(&m, items[i]);
    }
    run_until_idle();
    a = model_get(&m);
    b = model_get(&m);
    c = model_get(&m);
    snprintf(want, sizeof want,
             "g1:ECANCELED@0 g0:got%d@0 g2:got%d@0 g3:got%d@0", a, b, c);
    ck_assert_str_eq(TRACE, want);
}
END_TEST

/* Thousands of waiters that give up leave nothing behind: afterwards a
 * put wakes nobody and the item stays, a get wakes nobody, and the queue
 * may be initialised again (which it refuses while anyone waits). */
enum { GIVE_UPS = 10000 };

struct quitter {
    async_frame_t co;
    int n, item, rc;
    async_timeout_t to;
};

static int timed_out_gets(async_loop_t *l, void *frame)
{
    struct quitter *s = frame;
    ASYNC_BEGIN(l, s);
    for (s->n = 0; s->n < GIVE_UPS; s->n++) {
        AWAIT_TRY(s->rc, async_wait_for(l, &s->to, 1,
                                        async_queue_get(l, &q, &s->item)));
        ck_assert_int_eq(s->rc, ASYNC_ETIMEDOUT);
    }
    ASYNC_END;
}

static int timed_out_puts(async_loop_t *l, void *frame)
{
    struct quitter *s = frame;
    ASYNC_BEGIN(l, s);
    for (s->n = 0; s->n < GIVE_UPS; s->n++) {
        s->item = 1000 + s->n;
        AWAIT_TRY(s->rc, async_wait_for(l, &s->to, 1,
                                        async_queue_put(l, &q, &s->item)));
        ck_assert_int_eq(s->rc, ASYNC_ETIMEDOUT);
    }
    ASYNC_END;
}

/* Gets until GIVE_UPS of them were cancelled. */
static int cancelled_gets(async_loop_t *l, void *frame)
{
    struct quitter *s = frame;
    ASYNC_BEGIN(l, s);
    while (s->n < GIVE_UPS) {
        AWAIT_TRY(s->rc, async_queue_get(l, &q, &s->item));
        ck_assert_int_eq(s->rc, ASYNC_ECANCELED);
        s->n++;
    }
    ASYNC_END;
}

/* Cancels the victim each turn, checking it is waiting on the queue. */
struct killer {
    async_frame_t co;
    async_task_t *victim;
    int n;
};

static int kill_each_turn(async_loop_t *l, void *frame)
{
    struct killer *k = frame;
    ASYNC_BEGIN(l, k);
    for (k->n = 0; k->n < GIVE_UPS; k->n++) {
        AWAIT(async_yield(l));
        ck_assert_int_eq(async_task_state(k->victim), ASYNC_TASK_WAITING);
        ck_assert_int_eq(async_task_cancel(l, k->victim), 1);
    }
    ASYNC_END;
}

static void assert_no_waiters_left(void)
{
    int cap = async_queue_capacity(&q);
    ck_assert_int_eq(async_queue_init(&q, &loop, qbuf, sizeof(int),
                                      (uint32_t)cap, ASYNC_QUEUE_FIFO, NULL),
                     0);
}

START_TEST(timed_out_gets_leave_no_waiters_behind)
{
    static struct quitter sf;
    static async_task_t st;
    open_queue(_i, 2);
    ck_assert_int_eq(async_task_create(&loop, &st, timed_out_gets, &sf), 0);
    run_until_idle();
    ck_assert_int_eq(sf.n, GIVE_UPS);
    ck_assert_uint_eq(async_loop_now(&loop), GIVE_UPS);
    ck_assert_int_eq(put_now(5), 0);
    assert_nobody_woken();
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
    assert_no_waiters_left();
}
END_TEST

START_TEST(cancelled_gets_leave_no_waiters_behind)
{
    static struct quitter sf;
    static struct killer kf;
    static async_task_t st, kt;
    open_queue(_i, 2);
    ck_assert_int_eq(async_task_create(&loop, &st, cancelled_gets, &sf), 0);
    kf.victim = &st;
    ck_assert_int_eq(async_task_create(&loop, &kt, kill_each_turn, &kf), 0);
    run_until_idle();
    ck_assert_int_eq(sf.n, GIVE_UPS);
    ck_assert_int_eq(async_task_state(&st), ASYNC_TASK_DONE);
    ck_assert_int_eq(put_now(5), 0);
    assert_nobody_woken();
    ck_assert_int_eq(async_queue_size(&q), 1);
    assert_no_waiters_left();
}
END_TEST

START_TEST(timed_out_puts_leave_no_waiters_behind)
{
    static struct quitter sf;
    static async_task_t st;
    open_queue(_i, 2);
    ck_assert_int_eq(put_now(1), 0);
    ck_assert_int_eq(put_now(2), 0);
    ck_assert_int_eq(async_task_create(&loop, &st, timed_out_puts, &sf), 0);
    run_until_idle();
    ck_assert_int_eq(sf.n, GIVE_UPS);
    (void)take();
    assert_nobody_woken();
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(async_queue_unfinished(&q), 2); /* none of the 10000 */
    assert_no_waiters_left();
}
END_TEST

/* ================================================================ misuse */

/* Every bad argument init can be given. */
static void refuse_bad_inits(async_queue_t *target)
{
    const uint32_t size = sizeof(int);
    ck_assert_int_eq(async_queue_init(target, NULL, qbuf, size, 2,
                                      ASYNC_QUEUE_FIFO, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_queue_init(target, &loop, NULL, size, 2,
                                      ASYNC_QUEUE_FIFO, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_queue_init(target, &loop, qbuf, 0, 2,
                                      ASYNC_QUEUE_FIFO, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_queue_init(target, &loop, qbuf, size, 0,
                                      ASYNC_QUEUE_FIFO, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_queue_init(target, &loop, qbuf, size, 2,
                                      ASYNC_QUEUE_PRIORITY, NULL),
                     ASYNC_EINVAL);
    ck_assert_int_eq(async_queue_init(target, &loop, qbuf, size, 2, -1,
                                      by_tens), ASYNC_EINVAL);
    ck_assert_int_eq(async_queue_init(target, &loop, qbuf, size, 2,
                                      ASYNC_QUEUE_PRIORITY + 1, by_tens),
                     ASYNC_EINVAL);
}

static int init_again(void)
{
    return async_queue_init(&q, &loop, qbuf, sizeof(int), 4,
                            ASYNC_QUEUE_FIFO, NULL);
}

START_TEST(init_refuses_bad_arguments_and_changes_nothing)
{
    static async_queue_t fresh;
    static const async_queue_t zero;
    ck_assert_int_eq(async_queue_init(NULL, &loop, qbuf, sizeof(int), 2,
                                      ASYNC_QUEUE_FIFO, NULL), ASYNC_EINVAL);
    refuse_bad_inits(&fresh);
    ck_assert_int_eq(memcmp(&fresh, &zero, sizeof zero), 0);
    ck_assert_int_eq(async_queue_size(&fresh), ASYNC_EINVAL);
    /* A live queue holding items stays as it was. */
    open_queue(ASYNC_QUEUE_LIFO, 3);
    ck_assert_int_eq(put_now(1), 0);
    ck_assert_int_eq(put_now(2), 0);
    refuse_bad_inits(&q);
    ck_assert_int_eq(async_queue_size(&q), 2);
    ck_assert_int_eq(async_queue_capacity(&q), 3);
    ck_assert_int_eq(async_queue_unfinished(&q), 2);
    ck_assert_int_eq(take(), 2);
    ck_assert_int_eq(take(), 1);
}
END_TEST


START_TEST(init_accepts_a_capacity_of_int_max)
{
    /* The largest capacity the int queries can report. Nothing is put,
     * so qbuf stands in for the storage. */
    ck_assert_int_eq(async_queue_init(&q, &loop, qbuf, 1, (uint32_t)INT_MAX,
                                      ASYNC_QUEUE_FIFO, NULL), 0);
    ck_assert_int_eq(async_queue_capacity(&q), INT_MAX);
    ck_assert_int_eq(async_queue_full(&q), 0);
    ck_assert_int_eq(async_queue_init(&q, &loop, qbuf, 1,
                                      (uint32_t)INT_MAX + 1u,
                                      ASYNC_QUEUE_FIFO, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_queue_capacity(&q), INT_MAX);
}
END_TEST

START_TEST(init_over_stale_memory_gives_an_empty_working_queue)
{
    /* Not a live queue, and full of junk: init relies on no field it does
     * not set, so a queue initialised again after any use starts afresh. */
    memset(&q, 0xA5, sizeof q);
    open_queue(ASYNC_QUEUE_FIFO, 2);
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
    start_getter(0, 0, 0);
    run_until_idle();
    ck_assert_int_eq(put_now(4), 0);
    ck_assert_int_eq(put_now(5), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:got4@0");
    ck_assert_int_eq(take(), 5);
    ck_assert_int_eq(async_queue_size(&q), 0);
}
END_TEST

/* Waiters woken by a shutdown hold no promise: the queue may be
 * initialised again before they run, and they still report the shutdown
 * that woke them, taking and putting nothing in the new queue. */
START_TEST(waiters_woken_by_shutdown_report_it_after_a_new_init)
{
    open_queue(ASYNC_QUEUE_FIFO, 1);
    start_getter(0, 0, 0);
    run_until_idle();
    ck_assert_int_eq(async_queue_shutdown(&q, 0), 0); /* wakes g0 */
    ck_assert_int_eq(init_again(), 0);
    ck_assert_int_eq(put_now(5), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:ESHUTDOWN@0");
    ck_assert_int_eq(take(), 5);

    ck_assert_int_eq(put_now(6), 0);
    ck_assert_int_eq(put_now(7), 0);
    ck_assert_int_eq(put_now(8), 0);
    ck_assert_int_eq(put_now(9), 0); /* full: capacity 4 */
    start_putter(0, 10, 0, 0);
    run_until_idle();
    ck_assert_int_eq(async_queue_shutdown(&q, 1), 0); /* wakes p0 */
    ck_assert_int_eq(init_again(), 0);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:ESHUTDOWN@0 p0:ESHUTDOWN@0");
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
}
END_TEST

START_TEST(init_of_a_queue_with_waiters_is_ebusy_and_changes_nothing)
{
    open_queue(ASYNC_QUEUE_FIFO, 1);
    start_getter(0, 0, 0);
    run_until_idle();
    ck_assert_int_eq(init_again(), ASYNC_EBUSY);
    ck_assert_int_eq(async_queue_capacity(&q), 1);
    ck_assert_int_eq(put_now(5), 0); /* the getter is still in line */
    run_until_idle();

    start_joiner(0, 0);
    run_until_idle();
    ck_assert_int_eq(init_again(), ASYNC_EBUSY);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
    ck_assert_int_eq(async_queue_task_done(&q), 0);
    run_until_idle();

    ck_assert_int_eq(put_now(6), 0);
    start_putter(0, 7, 0, 0);
    run_until_idle();
    ck_assert_int_eq(init_again(), ASYNC_EBUSY);
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(take(), 6);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:got5@0 j0:joined@0 p0:put7@0");

    ck_assert_int_eq(init_again(), 0); /* nobody waits: a fresh queue */
    ck_assert_int_eq(async_queue_capacity(&q), 4);
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 0);
}
END_TEST

/* A woken waiter has left the line but holds a promise (an item or room)
 * until it runs: the queue is still in use. */
START_TEST(init_while_a_woken_waiter_holds_a_promise_is_ebusy)
{
    open_queue(ASYNC_QUEUE_FIFO, 1);
    start_getter(0, 0, 0);
    run_until_idle();
    ck_assert_int_eq(put_now(5), 0); /* wakes the getter, item promised */
    ck_assert_int_eq(init_again(), ASYNC_EBUSY);
    run_until_idle();

    ck_assert_int_eq(put_now(6), 0);
    start_putter(0, 7, 0, 0);
    run_until_idle();
    ck_assert_int_eq(take(), 6); /* wakes the putter, room promised */
    ck_assert_int_eq(init_again(), ASYNC_EBUSY);
    run_until_idle();
    ck_assert_str_eq(TRACE, "g0:got5@0 p0:put7@0");
    ck_assert_int_eq(take(), 7);
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(async_queue_unfinished(&q), 3);
}
END_TEST

static async_queue_t zq; /* never initialised */

struct prober {
    async_frame_t co;
    async_queue_t *target;
    int item, put, get, join;
};

static int probe_awaiting_ops(async_loop_t *l, void *frame)
{
    struct prober *p = frame;
    ASYNC_BEGIN(l, p);
    AWAIT_TRY(p->put, async_queue_put(l, p->target, &p->item));
    AWAIT_TRY(p->get, async_queue_get(l, p->target, &p->item));
    AWAIT_TRY(p->join, async_queue_join(l, p->target));
    ASYNC_END;
}

START_TEST(every_operation_on_a_zeroed_queue_is_einval_and_changes_nothing)
{
    static const async_queue_t zero;
    static struct prober pr;
    static async_task_t prt;
    async_queue_t *const targets[] = {&zq, NULL};
    int v = 9;
    size_t i;
    for (i = 0; i < 2; i++) {
        async_queue_t *z = targets[i];
        ck_assert_int_eq(async_queue_put_nowait(z, &v), ASYNC_EINVAL);
        ck_assert_int_eq(async_queue_get_nowait(z, &v), ASYNC_EINVAL);
        ck_assert_int_eq(v, 9);
        ck_assert_int_eq(async_queue_task_done(z), ASYNC_EINVAL);
        ck_assert_int_eq(async_queue_shutdown(z, 0), ASYNC_EINVAL);
        ck_assert_int_eq(async_queue_shutdown(z, 1), ASYNC_EINVAL);
        ck_assert_int_eq(async_queue_size(z), ASYNC_EINVAL);
        ck_assert_int_eq(async_queue_capacity(z), ASYNC_EINVAL);
        ck_assert_int_eq(async_queue_empty(z), ASYNC_EINVAL);
        ck_assert_int_eq(async_queue_full(z), ASYNC_EINVAL);
        ck_assert_int_eq(async_queue_unfinished(z), ASYNC_EINVAL);
        memset(&pr, 0, sizeof pr);
        pr.target = z;
        pr.item = 9;
        ck_assert_int_eq(async_task_create(&loop, &prt, probe_awaiting_ops,
                                           &pr), 0);
        run_until_idle();
        ck_assert_int_eq(pr.put, ASYNC_EINVAL);
        ck_assert_int_eq(pr.get, ASYNC_EINVAL);
        ck_assert_int_eq(pr.join, ASYNC_EINVAL);
        ck_assert_int_eq(pr.item, 9);
    }
    ck_assert_int_eq(memcmp(&zq, &zero, sizeof zero), 0);
}
END_TEST

/* NULL items in a task. */
static int probe_null_items(async_loop_t *l, void *frame)
{
    struct prober *p = frame;
    ASYNC_BEGIN(l, p);
    AWAIT_TRY(p->put, async_queue_put(l, &q, NULL));
    AWAIT_TRY(p->get, async_queue_get(l, &q, NULL));
    ASYNC_END;
}

START_TEST(null_items_are_einval_and_change_nothing)
{
    static struct prober pr;
    static async_task_t prt;
    open_queue(ASYNC_QUEUE_FIFO, 2);
    ck_assert_int_eq(put_now(1), 0);
    ck_assert_int_eq(async_queue_put_nowait(&q, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_queue_get_nowait(&q, NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_task_create(&loop, &prt, probe_null_items, &pr), 0);
    run_until_idle();
    ck_assert_int_eq(pr.put, ASYNC_EINVAL);
    ck_assert_int_eq(pr.get, ASYNC_EINVAL);
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
    ck_assert_int_eq(take(), 1);
}
END_TEST

/* A task awaits only its own loop's queue: another loop would wake it. */
START_TEST(awaiting_another_loops_queue_is_einval_and_changes_nothing)
{
    static async_loop_t other;
    static async_timer_t *other_timers[4];
    static struct prober pr;
    static async_task_t prt;
    ck_assert_int_eq(async_loop_init(&other, other_timers, 4), 0);
    ck_assert_int_eq(async_queue_init(&q, &other, qbuf, sizeof(int), 1,
                                      ASYNC_QUEUE_FIFO, NULL), 0);
    ck_assert_int_eq(put_now(1), 0); /* full, one unfinished */
    pr.target = &q;
    pr.item = 9;
    ck_assert_int_eq(async_task_create(&loop, &prt, probe_awaiting_ops, &pr),
                     0);
    run_until_idle();
    ck_assert_int_eq(pr.put, ASYNC_EINVAL);
    ck_assert_int_eq(pr.get, ASYNC_EINVAL);
    ck_assert_int_eq(pr.join, ASYNC_EINVAL);
    ck_assert_int_eq(pr.item, 9);
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
    ck_assert_int_eq(async_loop_close(&other), 0); /* nobody waits there */
    ck_assert_int_eq(take(), 1);
}
END_TEST

START_TEST(awaiting_operations_outside_a_task_are_enotask)
{
    int v = 3;
    open_queue(ASYNC_QUEUE_FIFO, 1);
    ck_assert_int_eq(async_queue_put(&loop, &q, &v), ASYNC_ENOTASK);
    ck_assert_int_eq(async_queue_size(&q), 0);
    ck_assert_int_eq(put_now(1), 0);
    ck_assert_int_eq(async_queue_get(&loop, &q, &v), ASYNC_ENOTASK);
    ck_assert_int_eq(v, 3);
    ck_assert_int_eq(async_queue_join(&loop, &q), ASYNC_ENOTASK);
    ck_assert_int_eq(async_queue_put(NULL, &q, &v), ASYNC_ENOTASK);
    ck_assert_int_eq(async_queue_size(&q), 1);
    ck_assert_int_eq(async_queue_unfinished(&q), 1);
}
END_TEST

/* ============================================ conservation (simulation) */

/* Producers put numbered items (put, put with a deadline, or put_nowait),
 * consumers get them (get, get with a deadline, or get_nowait) and mark
 * them done after a random pause, and a killer cancels random producers and
 * consumers at random moments; everyone catches the cancellation and goes
 * on. Sleeps, modes and deadlines come from a seeded generator. When the
 * producers are done, main joins, shuts the queue down and collects the
 * consumers. Then: every item reported put was got exactly once, no item
 * reported failed was got, every attempt was reported exactly once, and
 * the unfinished count is zero. */
enum {
    PRODUCERS = 4,
    CONSUMERS = 3,
    PER_PRODUCER = 60,
    ITEMS = PRODUCERS * PER_PRODUCER,
    SEEDS = 20
};

static unsigned rng;

static async_tick_t rnd(unsigned n)
{
    rng = rng * 1103515245u + 12345u;
    return (async_tick_t)((rng >> 16) % n);
}

static struct {
    unsigned char put_ok[ITEMS], put_failed[ITEMS], got[ITEMS];
    int stop, joined;
} sim;

/* Failures seen over all seeds, by kind: proof the paths were exercised. */
static struct {
    long put_full, put_timeout, put_cancel;
    long get_empty, get_timeout, get_cancel, sleep_cancel;
} seen;

struct producer {
    async_frame_t co;
    int id, k, item, mode, rc;
    async_tick_t ticks;
    async_timeout_t to;
};

static void record_put(int item, int rc)
{
    ck_assert(!sim.put_ok[item] && !sim.put_failed[item]);
    if (rc == 0) {
        sim.put_ok[item] = 1;
        return;
    }
    sim.put_failed[item] = 1;
    if (rc == ASYNC_EFULL)
        seen.put_full++;
    else if (rc == ASYNC_ETIMEDOUT)
        seen.put_timeout++;
    else
        ck_assert_msg(rc == ASYNC_ECANCELED && ++seen.put_cancel,
                      "put failed with %s", err(rc));
}

static void record_sleep(int rc)
{
    ck_assert(rc == 0 || rc == ASYNC_ECANCELED);
    seen.sleep_cancel += rc == ASYNC_ECANCELED;
}

static int producer(async_loop_t *l, void *frame)
{
    struct producer *p = frame;
    ASYNC_BEGIN(l, p);
    for (p->k = 0; p->k < PER_PRODUCER; p->k++) {
        p->ticks = rnd(3);
        AWAIT_TRY(p->rc, async_sleep(l, p->ticks));
        record_sleep(p->rc);
        p->item = p->id * PER_PRODUCER + p->k;
        p->mode = (int)rnd(3);
        p->ticks = 1 + rnd(4);
        if (p->mode == 0) {
            p->rc = async_queue_put_nowait(&q, &p->item);
        } else if (p->mode == 1) {
            AWAIT_TRY(p->rc, async_wait_for(l, &p->to, p->ticks,
                                            async_queue_put(l, &q, &p->item)));
        } else {
            AWAIT_TRY(p->rc, async_queue_put(l, &q, &p->item));
        }
        record_put(p->item, p->rc);
    }
    ASYNC_END;
}

struct consumer {
    async_frame_t co;
    int item, mode, rc;
    async_tick_t ticks;
    async_timeout_t to;
};

static int consumer(async_loop_t *l, void *frame)
{
    struct consumer *c = frame;
    ASYNC_BEGIN(l, c);
    for (;;) {
        c->mode = (int)rnd(3);
        c->ticks = 1 + rnd(4);
        c->item = -1;
        if (c->mode == 0) {
            c->rc = async_queue_get_nowait(&q, &c->item);
        } else if (c->mode == 1) {
            AWAIT_TRY(c->rc, async_wait_for(l, &c->to, c->ticks,
                                            async_queue_get(l, &q, &c->item)));
        } else {
            AWAIT_TRY(c->rc, async_queue_get(l, &q, &c->item));
        }
        if (c->rc == ASYNC_ESHUTDOWN)
            break;
        if (c->rc < 0) {
            ck_assert_int_eq(c->item, -1);
            if (c->rc == ASYNC_EEMPTY)
                seen.get_empty++;
            else if (c->rc == ASYNC_ETIMEDOUT)
                seen.get_timeout++;
            else
                ck_assert_msg(c->rc == ASYNC_ECANCELED && ++seen.get_cancel,
                              "get failed with %s", err(c->rc));
            if (c->rc == ASYNC_EEMPTY) {
                AWAIT_TRY(c->rc, async_sleep(l, 1)); /* no busy loop */
                record_sleep(c->rc);
            }
            continue;
        }
        ck_assert(c->item >= 0 && c->item < ITEMS);
        ck_assert_msg(sim.put_ok[c->item], "item %d got but not reported put",
                      c->item);
        sim.got[c->item]++;
        c->ticks = rnd(3);
        AWAIT_TRY(c->rc, async_sleep(l, c->ticks)); /* processing */
        record_sleep(c->rc);
        ck_assert_int_eq(async_queue_task_done(&q), 0);
    }
    ASYNC_END;
}

static struct producer prod[PRODUCERS];
static struct consumer cons[CONSUMERS];
static async_task_t prod_t[PRODUCERS], cons_t[CONSUMERS];

struct random_killer {
    async_frame_t co;
    async_tick_t ticks;
};

static int random_killer(async_loop_t *l, void *frame)
{
    struct random_killer *k = frame;
    unsigned v;
    ASYNC_BEGIN(l, k);
    while (!sim.stop) {
        k->ticks = rnd(3); /* 0: a yield, so some kills land mid-tick */
        AWAIT(async_sleep(l, k->ticks));
        v = (unsigned)rnd(PRODUCERS + CONSUMERS);
        ck_assert_int_ge(async_task_cancel(l, v < PRODUCERS
                                                  ? &prod_t[v]
                                                  : &cons_t[v - PRODUCERS]),
                         0);
    }
    ASYNC_END;
}

struct sim_main {
    async_frame_t co;
    struct random_killer kf;
    async_task_t kt;
    async_task_t *list[PRODUCERS + CONSUMERS + 1];
    async_gather_slot_t slot[PRODUCERS + CONSUMERS + 1];
    async_gather_t producers, rest;
    async_timeout_t to;
    int i, rc;
};

static int sim_main(async_loop_t *l, void *frame)
{
    struct sim_main *m = frame;
    ASYNC_BEGIN(l, m);
    for (m->i = 0; m->i < PRODUCERS; m->i++) {
        prod[m->i].id = m->i;
        ck_assert_int_eq(async_task_create(l, &prod_t[m->i], producer,
                                           &prod[m->i]), 0);
        m->list[m->i] = &prod_t[m->i];
    }
    for (m->i = 0; m->i < CONSUMERS; m->i++) {
        ck_assert_int_eq(async_task_create(l, &cons_t[m->i], consumer,
                                           &cons[m->i]), 0);
        m->list[PRODUCERS + m->i] = &cons_t[m->i];
    }
    ck_assert_int_eq(async_task_create(l, &m->kt, random_killer, &m->kf), 0);
    m->list[PRODUCERS + CONSUMERS] = &m->kt;

    ck_assert_int_eq(async_gather_init(&m->producers, m->slot, PRODUCERS, 0),
                     0);
    AWAIT(async_gather(l, &m->producers, m->list));
    /* Bounded, so that a lost item fails the test instead of hanging it. */
    AWAIT_TRY(m->rc, async_wait_for(l, &m->to, 100000,
                                    async_queue_join(l, &q)));
    ck_assert_msg(m->rc == 0, "join: %s with %d unfinished", err(m->rc),
                  async_queue_unfinished(&q));
    sim.joined = 1;
    ck_assert_int_eq(async_queue_shutdown(&q, 0), 0);
    sim.stop = 1;
    ck_assert_int_eq(async_gather_init(&m->rest, m->slot + PRODUCERS,
                                       CONSUMERS + 1, 0), 0);
    AWAIT(async_gather(l, &m->rest, m->list + PRODUCERS));
    ASYNC_END;
}

START_TEST(every_item_reported_put_is_got_exactly_once)
{
    static struct sim_main mf;
    static async_task_t mt;
    unsigned seed;
    int i, put = 0;
    for (seed = 1; seed <= SEEDS; seed++) {
        rng = seed + 1000u * (unsigned)_i;
        memset(&sim, 0, sizeof sim);
        memset(prod, 0, sizeof prod);
        memset(cons, 0, sizeof cons);
        memset(&mf, 0, sizeof mf);
        open_queue(_i, 3);
        ck_assert_int_eq(async_loop_run(&loop, &mt, sim_main, &mf), 0);
        ck_assert(sim.joined);
        for (i = 0; i < ITEMS; i++) {
            ck_assert_msg(sim.put_ok[i] + sim.put_failed[i] == 1,
                          "seed %u: item %d reported %d times", seed, i,
                          sim.put_ok[i] + sim.put_failed[i]);
            ck_assert_msg(sim.got[i] == sim.put_ok[i],
                          "seed %u: item %d put %d, got %d times", seed, i,
                          sim.put_ok[i], sim.got[i]);
            put += sim.put_ok[i];
        }
        ck_assert_int_eq(async_queue_unfinished(&q), 0);
        ck_assert_int_eq(async_queue_size(&q), 0);
    }
    ck_assert_int_gt(put, 0);
    ck_assert_int_gt(seen.put_full, 0);
    ck_assert_int_gt(seen.put_timeout, 0);
    ck_assert_int_gt(seen.put_cancel, 0);
    ck_assert_int_gt(seen.get_empty, 0);
    ck_assert_int_gt(seen.get_timeout, 0);
    ck_assert_int_gt(seen.get_cancel, 0);
    ck_assert_int_gt(seen.sleep_cancel, 0);
}
END_TEST

/* ================================================================ suite */

#define IN_EVERY_ORDER(tc, test) tcase_add_loop_test(tc, test, 0, 3)
#define GRACEFUL_AND_IMMEDIATE(tc, test) tcase_add_loop_test(tc, test, 0, 2)

static Suite *queue_suite(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = loop_tcase("storage and queries");
    IN_EVERY_ORDER(tc, queries_track_the_items);
    tcase_add_test(tc, items_are_copied_in_and_out);
    tcase_add_loop_test(tc,
        odd_sized_items_round_trip_and_fill_exactly_their_storage, 0, 6);
    IN_EVERY_ORDER(tc, items_come_out_as_the_reference_model_says);
    suite_add_tcase(s, tc);

    tc = loop_tcase("nowait forms");
    IN_EVERY_ORDER(tc,
        put_nowait_on_a_full_queue_is_efull_and_changes_nothing);
    tcase_add_test(tc,
        get_nowait_on_an_empty_queue_is_eempty_and_changes_nothing);
    suite_add_tcase(s, tc);

    tc = loop_tcase("waiting and fairness");
    tcase_add_test(tc, get_waits_while_empty_until_a_put);
    tcase_add_test(tc, put_waits_while_full_until_a_get);
    IN_EVERY_ORDER(tc, getters_are_served_in_arrival_order);
    IN_EVERY_ORDER(tc, putters_are_served_in_arrival_order);
    IN_EVERY_ORDER(tc,
        a_get_nowait_cannot_steal_the_item_promised_to_a_woken_getter);
    IN_EVERY_ORDER(tc,
        a_put_nowait_cannot_take_the_room_promised_to_a_woken_putter);
    tcase_add_test(tc,
        a_get_arriving_after_a_wake_queues_behind_the_woken_getter);
    suite_add_tcase(s, tc);

    tc = loop_tcase("task_done and join");
    tcase_add_test(tc, join_returns_at_once_when_nothing_is_outstanding);
    IN_EVERY_ORDER(tc, each_put_adds_one_and_each_task_done_removes_one);
    IN_EVERY_ORDER(tc,
        join_waits_for_the_last_task_done_and_wakes_every_joiner);
    tcase_add_test(tc, task_done_at_zero_is_estate_and_the_count_stays_zero);
    tcase_add_test(tc, the_unfinished_count_stops_at_int_max);
    tcase_add_test(tc,
        a_worker_cancelled_mid_item_marks_it_done_in_its_cleanup);
    suite_add_tcase(s, tc);

    tc = loop_tcase("shutdown");
    IN_EVERY_ORDER(tc,
        graceful_shutdown_refuses_puts_but_queued_items_can_still_be_got);
    GRACEFUL_AND_IMMEDIATE(tc, shutdown_wakes_blocked_getters_with_eshutdown);
    GRACEFUL_AND_IMMEDIATE(tc,
        shutdown_wakes_blocked_putters_with_eshutdown_and_puts_nothing);
    IN_EVERY_ORDER(tc,
        immediate_shutdown_discards_items_and_lowers_the_unfinished_count);
    tcase_add_test(tc,
        immediate_shutdown_completes_joiners_when_nothing_is_held);
    GRACEFUL_AND_IMMEDIATE(tc,
        a_woken_getter_keeps_its_item_only_through_a_graceful_shutdown);
    GRACEFUL_AND_IMMEDIATE(tc,
        a_woken_putter_fails_after_shutdown_and_puts_nothing);
    tcase_add_test(tc,
        an_immediate_shutdown_after_a_graceful_one_discards_the_rest);
    tcase_add_test(tc,
        a_getter_on_a_shut_down_queue_gets_an_item_passed_on_to_it);
    suite_add_tcase(s, tc);

    tc = loop_tcase("orders");
    tcase_add_test(tc, lifo_gets_the_newest_item_first);
    tcase_add_test(tc, priority_follows_the_comparator_and_ties_come_out_fifo);
    tcase_add_test(tc, the_comparator_gets_items_aligned_as_in_an_array);
    suite_add_tcase(s, tc);

    tc = loop_tcase("timeouts");
    IN_EVERY_ORDER(tc, get_times_out_on_an_empty_queue_and_takes_nothing);
    IN_EVERY_ORDER(tc, put_times_out_on_a_full_queue_and_puts_nothing);
    tcase_add_test(tc, operations_done_in_time_disarm_their_deadlines);
    suite_add_tcase(s, tc);

    tc = loop_tcase("cancellation");
    IN_EVERY_ORDER(tc, a_cancelled_getter_takes_nothing);
    IN_EVERY_ORDER(tc, a_cancelled_putter_puts_nothing);
    IN_EVERY_ORDER(tc,
        a_woken_then_cancelled_getter_passes_the_item_to_the_next);
    IN_EVERY_ORDER(tc,
        a_woken_then_cancelled_getter_alone_leaves_the_item_queued);
    IN_EVERY_ORDER(tc,
        a_woken_then_timed_out_getter_passes_the_item_to_the_next);
    IN_EVERY_ORDER(tc,
        a_woken_then_cancelled_putter_passes_the_room_to_the_next);
    IN_EVERY_ORDER(tc,
        a_woken_then_cancelled_putter_alone_leaves_the_room_free);
    IN_EVERY_ORDER(tc,
        a_woken_then_timed_out_putter_passes_the_room_to_the_next);
    IN_EVERY_ORDER(tc,
        a_putter_retrying_after_cancellations_enqueues_its_item_once);
    IN_EVERY_ORDER(tc, a_cancelled_waiter_leaves_no_gap_in_the_line);
    IN_EVERY_ORDER(tc, timed_out_gets_leave_no_waiters_behind);
    IN_EVERY_ORDER(tc, cancelled_gets_leave_no_waiters_behind);
    IN_EVERY_ORDER(tc, timed_out_puts_leave_no_waiters_behind);
    suite_add_tcase(s, tc);

    tc = loop_tcase("misuse");
    tcase_add_test(tc, init_refuses_bad_arguments_and_changes_nothing);
    tcase_add_test(tc, init_accepts_a_capacity_of_int_max);
    tcase_add_test(tc, init_over_stale_memory_gives_an_empty_working_queue);
    tcase_add_test(tc,
        init_of_a_queue_with_waiters_is_ebusy_and_changes_nothing);
    tcase_add_test(tc, init_while_a_woken_waiter_holds_a_promise_is_ebusy);
    tcase_add_test(tc, waiters_woken_by_shutdown_report_it_after_a_new_init);
    tcase_add_test(tc,
        every_operation_on_a_zeroed_queue_is_einval_and_changes_nothing);
    tcase_add_test(tc, null_items_are_einval_and_change_nothing);
    tcase_add_test(tc, awaiting_operations_outside_a_task_are_enotask);
    tcase_add_test(tc,
        awaiting_another_loops_queue_is_einval_and_changes_nothing);
    suite_add_tcase(s, tc);

    tc = loop_tcase("conservation");
    tcase_set_timeout(tc, 60);
    IN_EVERY_ORDER(tc, every_item_reported_put_is_got_exactly_once);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(queue_suite)
