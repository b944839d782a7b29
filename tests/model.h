/* SPDX-License-Identifier: MIT */
/*
 * A scenario interpreter for model-based tests of the queue, shared by the
 * Check suite (tests/test_model.c, fixed seeds) and the libFuzzer harness
 * (tests/fuzz/fuzz_model.c, the fuzzer's bytes).
 *
 * A byte string, or a seeded generator standing in for one, is decoded into
 * a program on one queue (FIFO, LIFO or priority, capacity 1 to 4): up to
 * three producers that put, put under a deadline, put under a deadline
 * that wait_for refuses, or put_nowait; up to three consumers that get the
 * same ways, process each item and call task_done in their cleanup
 * section, as asyncio's worker example does; maybe a joiner; up to seven
 * sleepers, some under a deadline, which fill the timer heap; a controller
 * that cancels workers at random and may shut the queue down; and main,
 * which creates them all, waits for the producers, joins and then stops
 * the consumers (or, as asyncio 3.13 allows, shuts the queue down first
 * and joins while they drain it). A producer may shut the queue down when
 * it is done. Everybody sleeps at random in between. The loop runs on the
 * library's virtual clock, or on a clock the driver moves by one tick
 * while tasks are ready, so that a deadline can pass between a wake and
 * the woken task's turn.
 *
 * Every operation is checked exactly as it returns, against a reference
 * model of the documented contract (async.h, section 9): the items in the
 * queue in order, the unfinished count, which waiters hold a promised item
 * or room, why each suspended task was woken, and which cancellation
 * requests are pending. The model predicts each result code, each item
 * got, and exactly which tasks each call wakes; it checks that sleeps and
 * deadlines end at their tick, timers in (deadline, start) order, that
 * every item put is got once or discarded by an immediate shutdown, that
 * join returns only after the count reached zero, that each task ends with
 * the result its story implies, and that the loop closes with nothing left.
 *
 * Include it after defining MODEL_FAIL(msg) (it must not return; the
 * default prints msg and aborts). Not thread-safe: one run at a time.
 */
#ifndef TEST_MODEL_H
#define TEST_MODEL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "async.h"

#if !defined(MODEL_FAIL)
#define MODEL_FAIL(msg) (fputs((msg), stderr), fputc('\n', stderr), abort())
#endif

#if defined(__GNUC__)
#define MODEL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MODEL_PRINTF(f, a)
#endif

enum {
    MODEL_PRODUCERS = 3,
    MODEL_CONSUMERS = 3,
    MODEL_SLEEPERS = 7,
    /* + a joiner, and sleepers to fill the timer heap */
    MODEL_WORKERS = MODEL_PRODUCERS + MODEL_CONSUMERS + 1 + MODEL_SLEEPERS,
    MODEL_TASKS = MODEL_WORKERS + 2,  /* + main and the controller */
    MODEL_OPS = 12,                   /* longest worker script */
    MODEL_CTL_OPS = 16,               /* longest controller script */
    MODEL_ITEMS = MODEL_PRODUCERS * MODEL_OPS,
    MODEL_CAPACITY = 4,
    MODEL_TURNS = 20000               /* a run needs a few hundred */
};

/* The final join's deadline: a lost item or wakeup fails the run at this
 * tick instead of hanging it. Fits 16-bit ticks too. */
#define MODEL_JOIN_LIMIT ((async_tick_t)10000)

/* ============================================================ programs */

/* What a script step does. */
enum model_kind {
    MK_SLEEP,       /* a: ticks, 0..5 (0 yields) */
    MK_PUT,         /* b: priority key, c: keep the item to retry it */
    MK_PUT_NOWAIT,
    MK_GET,         /* b: processing (0 none, n: sleep n-1), c: cleanup
                       ticks, d: the cleanup sleep's deadline (0 none, 1-2
                       ticks, 3 refused) */
    MK_GET_NOWAIT,
    MK_JOIN,
    MK_CANCEL,      /* controller: a + 8c: target worker, b: twice if odd */
    MK_SHUTDOWN,    /* controller: a: immediate if odd; b: only if 0 */
    MK_PROBE        /* controller: task_done with nothing outstanding */
};

/* How an awaited put, get or join is bounded. */
enum model_mode {
    MM_PLAIN,   /* no deadline */
    MM_TIMED,   /* async_wait_for, a: ticks 1..7, or ASYNC_FOREVER for 7 */
    MM_REFUSED  /* async_wait_for refuses: a odd: ticks > ASYNC_MAX_DELAY,
                   even: a NULL timeout */
};

struct model_op {
    uint8_t kind, mode, a, b, c, d;
};

enum model_role {
    MODEL_PRODUCER,
    MODEL_CONSUMER,
    MODEL_JOINER,
    MODEL_SLEEPER
};

/* How main ends a run, once the producers are done: join, then cancel the
 * consumers or shut the queue down; or shut it down first (gracefully or
 * not) and join while the consumers drain it (asyncio 3.13). */
enum model_end { END_CANCEL, END_SHUTDOWN, END_DRAIN, END_DISCARD };

struct model_script {
    uint8_t role;
    uint8_t dies;    /* producer, joiner: ends at the first cancellation */
    uint8_t cleanup; /* ticks its cleanup section sleeps */
    uint8_t stagger; /* ticks main sleeps before creating it */
    uint8_t closes;  /* producer: shuts the queue down when done, 1:
                        gracefully, 2: at once */
    uint8_t nops;
    struct model_op op[MODEL_OPS];
};

struct model_program {
    uint8_t order, capacity;
    uint8_t stepping;      /* clock: driver-stepped instead of virtual */
    uint8_t step_odds;     /* stepping: a turn moves the clock 1 in 2..5 */
    uint8_t end;           /* how main ends it: enum model_end */
    uint8_t nprod, ncons, joiner, nsleepers, nworkers, rotate;
    async_tick_t start;    /* the clock's first tick */
    uint32_t clock_seed;
    uint8_t nctl;
    struct model_op ctl[MODEL_CTL_OPS];
    struct model_script worker[MODEL_WORKERS];
};

/* Bytes, or a xorshift generator when data is NULL. Past the end of the
 * bytes every read is 0, which always decodes to something valid. */
struct model_src {
    const uint8_t *data;
    size_t len, pos;
    uint32_t x;
};

static unsigned model_next(struct model_src *s)
{
    if (!s->data) {
        s->x ^= s->x << 13;
        s->x ^= s->x >> 17;
        s->x ^= s->x << 5;
        return s->x >> 24;
    }
    return s->pos < s->len ? s->data[s->pos++] : 0u;
}

/* Two bytes per step: the kind (from the role's table) and bound in the
 * first, the arguments in the second. */
static void model_decode_op(struct model_src *s, struct model_op *op,
                            const uint8_t kinds[8])
{
    unsigned x = model_next(s), y = model_next(s), m = x >> 3 & 7u;
    op->kind = kinds[x & 7u];
    op->mode = (uint8_t)(m < 4 ? MM_PLAIN : m < 7 ? MM_TIMED : MM_REFUSED);
    op->a = (uint8_t)(y & 7u);
    op->b = (uint8_t)(y >> 3 & 7u);
    op->c = (uint8_t)(y >> 6 & 3u);
    op->d = (uint8_t)(x >> 6);
}

static void model_decode(struct model_src *s, struct model_program *p)
{
    static const uint8_t producer_ops[8] = {MK_SLEEP, MK_SLEEP, MK_PUT, MK_PUT,
                                            MK_PUT, MK_PUT, MK_PUT_NOWAIT,
                                            MK_PUT_NOWAIT};
    static const uint8_t consumer_ops[8] = {MK_SLEEP, MK_GET, MK_GET, MK_GET,
                                            MK_GET, MK_GET_NOWAIT,
                                            MK_GET_NOWAIT, MK_SLEEP};
    static const uint8_t joiner_ops[8] = {MK_SLEEP, MK_SLEEP, MK_JOIN, MK_JOIN,
                                          MK_SLEEP, MK_JOIN, MK_SLEEP, MK_JOIN};
    static const uint8_t sleeper_ops[8] = {MK_SLEEP, MK_SLEEP, MK_SLEEP,
                                           MK_SLEEP, MK_SLEEP, MK_SLEEP,
                                           MK_SLEEP, MK_SLEEP};
    static const uint8_t controller_ops[8] = {MK_SLEEP, MK_SLEEP, MK_SLEEP,
                                              MK_CANCEL, MK_CANCEL, MK_CANCEL,
                                              MK_SHUTDOWN, MK_PROBE};
    static const uint8_t orders[8] = {
        ASYNC_QUEUE_FIFO, ASYNC_QUEUE_FIFO, ASYNC_QUEUE_FIFO, ASYNC_QUEUE_FIFO,
        ASYNC_QUEUE_FIFO, ASYNC_QUEUE_LIFO, ASYNC_QUEUE_PRIORITY,
        ASYNC_QUEUE_FIFO};
    /* Clocks that start at 0, wrap during the run, cross the half-range
     * boundary that deadline comparisons hinge on, or start anywhere. */
    static const async_tick_t starts[4] = {
        0, (async_tick_t)(ASYNC_FOREVER - 15u),
        (async_tick_t)(ASYNC_MAX_DELAY - 10u), 1000};
    unsigned x, y, z, v, i, k;
    const uint8_t *kinds;

    memset(p, 0, sizeof *p);
    x = model_next(s);
    y = model_next(s);
    z = model_next(s);
    v = model_next(s);
    p->order = orders[x & 7u];
    p->capacity = (uint8_t)(1u + (x >> 3 & 3u));
    p->stepping = (uint8_t)(x >> 5 & 1u);
    p->joiner = (uint8_t)(x >> 7 & 1u);
    p->nprod = (uint8_t)(1u + y % 3u);
    p->ncons = (uint8_t)(1u + y / 3u % 3u);
    p->step_odds = (uint8_t)(2u + (y >> 6));
    /* Up to 7 sleepers: with every task holding a timer, the heap then
     * has more than two levels, where removing a timer must sift up. */
    p->nsleepers = (uint8_t)(v % 8u);
    p->nworkers = (uint8_t)(p->nprod + p->ncons + p->joiner + p->nsleepers);
    p->rotate = (uint8_t)(y / 9u % 7u % p->nworkers);
    p->start = starts[z & 3u];
    p->end = (uint8_t)(z >> 2 & 3u);
    p->clock_seed = (z >> 4) * 2654435761u + 1u;
    p->nctl = (uint8_t)(model_next(s) % (MODEL_CTL_OPS + 1u));
    for (k = 0; k < p->nctl; k++)
        model_decode_op(s, &p->ctl[k], controller_ops);
    for (i = 0; i < p->nworkers; i++) {
        struct model_script *w = &p->worker[i];
        unsigned f = model_next(s);
        w->role = (uint8_t)(i < p->nprod ? MODEL_PRODUCER
                            : i < (unsigned)p->nprod + p->ncons ? MODEL_CONSUMER
                            : i < (unsigned)p->nprod + p->ncons + p->joiner
                                ? MODEL_JOINER
                                : MODEL_SLEEPER);
        /* Consumers never give up: they drain the queue until shutdown or
         * until main stops them, so that the final join can complete. */
        w->dies = (uint8_t)(w->role != MODEL_CONSUMER && (f & 1u));
        w->cleanup = (uint8_t)(f >> 1 & 3u);
        w->stagger = (uint8_t)(f >> 3 & 3u);
        w->closes = (uint8_t)(w->role == MODEL_PRODUCER && (f >> 5) < 2u
                                  ? 1u + (f >> 5)
                                  : 0u);
        w->nops = (uint8_t)(model_next(s) % (MODEL_OPS + 1u));
        kinds = w->role == MODEL_PRODUCER   ? producer_ops
                : w->role == MODEL_CONSUMER ? consumer_ops
                : w->role == MODEL_JOINER   ? joiner_ops
                                            : sleeper_ops;
        for (k = 0; k < w->nops; k++)
            model_decode_op(s, &w->op[k], kinds);
    }
}

/* The fuzzer's bytes as a program. Any byte string is one. */
static inline void model_program_from_bytes(struct model_program *p,
                                            const uint8_t *data, size_t len)
{
    struct model_src s = {NULL, 0, 0, 0};
    s.data = data ? data : (const uint8_t *)"";
    s.len = data ? len : 0;
    model_decode(&s, p);
}

/* The program of a seed: the same decoder, fed by a generator. */
static inline void model_program_from_seed(struct model_program *p,
                                           uint32_t seed)
{
    struct model_src s = {NULL, 0, 0, 0};
    s.x = seed * 2654435761u ^ 0x9E3779B9u;
    if (!s.x)
        s.x = 1;
    model_decode(&s, p);
}

/* ================================================================ state */

/* An item: its number, its priority, and a checksum of both, so that a
 * torn or stale copy shows. */
struct model_item {
    uint16_t id;
    uint8_t key;
    uint8_t tag;
};

static const struct model_item model_no_item = {0xFFFFu, 0xFFu, 0xFFu};

/* The operation a task is in, as the model tracks it. */
enum { OPK_NONE, OPK_SLEEP, OPK_PUT, OPK_GET, OPK_JOIN };

/* Why a suspended task was woken, as far as the model saw: by a put that
 * promised it an item, a get that promised it room, a shutdown, the
 * unfinished count reaching zero, or a cancellation. A timeout's wake
 * happens inside the loop's turn, unseen; the deadline tells it. */
enum { W_NONE, W_ITEM, W_ROOM, W_SHUTDOWN, W_JOIN, W_CANCEL };

/* A consumer's child coroutine: one get, then the item's processing, with
 * task_done in its cleanup section as the manual says. */
struct model_handler {
    async_frame_t co;
    struct model_task *tm;
    const struct model_op *op;
    async_timeout_t to;
    async_tick_t ticks, bound;
    struct model_item item;
    int rc, holding, result;
};

/* The frame of a producer, consumer or joiner. */
struct model_worker {
    async_frame_t co;
    struct model_task *tm;
    const struct model_script *spec;
    const struct model_op *op;
    async_timeout_t to;
    async_tick_t ticks, bound;
    struct model_item item;
    int k, rc, have_item;
    struct model_handler h;
};

struct model_task {
    async_task_t task;
    char name[8];
    int index;
    const struct model_script *spec; /* NULL for main and the controller */
    struct model_worker frame;
    /* life */
    int created, started, ended, body_result, pending_at_end, early_cancel;
    /* cancellation: requested and not yet delivered; in a cleanup section */
    int pending, shielded;
    /* the operation in progress */
    int op, mode, nowait, refusal, evals, self_cancel, expect;
    uint8_t woke;
    async_tick_t ticks;
    uint64_t deadline; /* a bounded op's: its wait_for expires */
    uint64_t due;      /* a sleep's: it ends */
    long turn0;
    uint32_t wait_seq, timer_seq, join_epoch;
    struct model_item expect_item;
};

struct model_main {
    async_frame_t co;
    async_timeout_t to;
    async_tick_t ticks;
    int i, w, rc;
};

struct model_ctl {
    async_frame_t co;
    const struct model_op *op;
    async_tick_t ticks;
    int k, i, target, rc;
};

/* Outcomes over all runs: proof that a set of seeds reaches the paths. */
struct model_stats {
    unsigned long runs, turns, wrapped, stepped;
    unsigned long put_ok, put_full, put_shutdown, put_timeout, put_cancel;
    unsigned long put_refused, put_kept;
    unsigned long get_ok, get_empty, get_shutdown, get_timeout, get_cancel;
    unsigned long get_refused, get_kept;
    unsigned long barged;       /* get_nowait refused an item promised to
                                   a woken getter */
    unsigned long passed_on;    /* a promise passed on by a woken waiter
                                   that was cancelled or timed out */
    unsigned long timed_out_woken; /* ... timed out, in particular */
    unsigned long join_waited, join_timeout, join_cancel;
    unsigned long sleep_ok, sleep_cancel, sleep_timeout;
    unsigned long cleanup_timeout; /* a deadline reached a cleanup section's
                                      sleep, a cancellation held */
    unsigned long shielded_cancel, early_cancel;
    unsigned long graceful, immediate, discarded, probes;
    unsigned long last_item;    /* taking the last item after a shutdown
                                   woke the getters still waiting */
};

static struct model_stats model_stats;

/* Nonzero: print every operation to stderr. */
static int model_trace;

static struct {
    const struct model_program *p;
    const char *label;
    async_loop_t loop;
    async_timer_t *timers[MODEL_TASKS + MODEL_SLEEPERS + MODEL_CONSUMERS];
    async_queue_t q;
    /* the queue's storage and a guard after it */
    unsigned char qbuf[ASYNC_QUEUE_STORAGE(sizeof(struct model_item),
                                           MODEL_CAPACITY,
                                           ASYNC_QUEUE_PRIORITY) + 16];
    size_t qbytes;
    async_port_t port;
    async_tick_t hand;
    uint32_t rng;
    long turn;
    /* the clock, unwrapped */
    uint64_t now64;
    async_tick_t last_tick;
    /* the last sleep that ended on time, for the timer order */
    int fired_any;
    uint64_t fired_deadline;
    uint32_t fired_seq, timer_seq;
    /* the queue model: items in arrival order */
    struct model_item item[MODEL_CAPACITY];
    int count, shutdown;
    uint32_t unfinished, zero_epoch;
    uint8_t put_ok[MODEL_ITEMS], got[MODEL_ITEMS], discarded[MODEL_ITEMS];
    /* tasks: main, the controller, then the workers */
    struct model_task t[MODEL_TASKS];
    int ntasks, stopping, ctl_stop;
    struct model_main mainf;
    struct model_ctl ctlf;
    /* the evaluation in flight: checked once the task has suspended */
    struct model_task *last;
    uint32_t seq;
    uint8_t snap[MODEL_TASKS], woken[MODEL_TASKS];
} M;

/* ============================================================== failure */

static const char *model_rc(int rc)
{
    static char buf[4][16];
    static int i;
    if (rc == ASYNC_WAIT)
        return "WAIT";
    if (rc < 0)
        return async_strerror_name(rc) + sizeof "ASYNC_" - 1;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%d", rc);
    return buf[i];
}

static const char *model_state_name(int st)
{
    static const char *const names[] = {"IDLE",     "PENDING",  "READY",
                                        "RUNNING",  "SLEEPING", "WAITING",
                                        "AWAITING", "GATHERING", "DONE"};
    return st >= 0 && st <= ASYNC_TASK_DONE ? names[st] : "?";
}

static void model_fail(const struct model_task *tm, const char *fmt, ...)
    MODEL_PRINTF(2, 3);

static void model_fail(const struct model_task *tm, const char *fmt, ...)
{
    char msg[768];
    int n;
    va_list ap;
    n = snprintf(msg, sizeof msg, "%s: turn %ld, tick %lu, %s: ",
                 M.label ? M.label : "model", M.turn,
                 (unsigned long)async_loop_now(&M.loop),
                 tm ? tm->name : "driver");
    if (n < 0 || (size_t)n >= sizeof msg)
        n = 0;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    MODEL_FAIL(msg);
    abort(); /* MODEL_FAIL must not return */
}

#define MODEL_CHECK(tm, cond, ...)                                            \
    do {                                                                      \
        if (!(cond))                                                          \
            model_fail((tm), __VA_ARGS__);                                    \
    } while (0)

static void model_say(const struct model_task *tm, const char *fmt, ...)
    MODEL_PRINTF(2, 3);

static void model_say(const struct model_task *tm, const char *fmt, ...)
{
    va_list ap;
    if (!model_trace)
        return;
    fprintf(stderr, "  %5ld @%-10lu %-4s ", M.turn,
            (unsigned long)async_loop_now(&M.loop), tm->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ======================================================== observations */

/* Follow the loop's clock in 64 bits, so deadlines compare across its
 * wrap. Time only moves forward, and never further than the farthest
 * deadline a program sets. */
static void model_sync(void)
{
    async_tick_t now = async_loop_now(&M.loop);
    async_tick_t d = (async_tick_t)(now - M.last_tick);
    MODEL_CHECK(NULL, d <= MODEL_JOIN_LIMIT,
                "the clock moved from %lu to %lu", (unsigned long)M.last_tick,
                (unsigned long)now);
    M.now64 += d;
    M.last_tick = now;
}

static int model_state(int i)
{
    return async_task_state(&M.t[i].task);
}

/* Every task's state, just before a call that may wake some. */
static void model_snapshot(void)
{
    int i;
    for (i = 0; i < M.ntasks; i++) {
        M.snap[i] = (uint8_t)model_state(i);
        M.woken[i] = 0;
    }
}

/* After the call: exactly the tasks the model woke went from waiting or
 * sleeping to ready; every other task is as it was. */
static void model_verify_wakes(const struct model_task *self,
                               const char *what)
{
    int i, st;
    for (i = 0; i < M.ntasks; i++) {
        if (i == self->index)
            continue;
        st = model_state(i);
        if (M.woken[i])
            MODEL_CHECK(self, st == ASYNC_TASK_READY &&
                                  (M.snap[i] == ASYNC_TASK_WAITING ||
                                   M.snap[i] == ASYNC_TASK_SLEEPING),
                        "%s should have woken %s (was %s, is %s)", what,
                        M.t[i].name, model_state_name(M.snap[i]),
                        model_state_name(st));
        else
            MODEL_CHECK(self, st == M.snap[i],
                        "%s changed %s from %s to %s", what, M.t[i].name,
                        model_state_name(M.snap[i]), model_state_name(st));
        M.woken[i] = 0;
    }
}

/* The queue as the library reports it equals the model. */
static void model_check_queue(const struct model_task *tm)
{
    MODEL_CHECK(tm, async_queue_size(&M.q) == M.count,
                "queue holds %d items, the model %d", async_queue_size(&M.q),
                M.count);
    MODEL_CHECK(tm, async_queue_unfinished(&M.q) == (int)M.unfinished,
                "unfinished count %d, the model %u",
                async_queue_unfinished(&M.q), (unsigned)M.unfinished);
    MODEL_CHECK(tm, async_queue_full(&M.q) == (M.count == M.p->capacity),
                "async_queue_full is %d with %d of %u", async_queue_full(&M.q),
                M.count, (unsigned)M.p->capacity);
}

/* ======================================================= the queue model */

/* Waiting in the queue's list for op, and not yet woken by this call. */
static int model_waiting(int i, int op)
{
    return M.snap[i] == ASYNC_TASK_WAITING && M.t[i].op == op && !M.woken[i];
}

/* The longest-waiting task in op's list: the one the queue serves next. */
static int model_oldest(int op)
{
    int i, best = -1;
    for (i = 0; i < M.ntasks; i++)
        if (model_waiting(i, op) &&
            (best < 0 || M.t[i].wait_seq < M.t[best].wait_seq))
            best = i;
    return best;
}

/* Promises outstanding: woken getters owed an item, putters owed room. */
static int model_promised(int op, int why)
{
    int i, n = 0;
    for (i = 0; i < M.ntasks; i++)
        n += M.t[i].op == op && M.t[i].woke == why;
    return n;
}

static void model_wake(int i, int why)
{
    M.woken[i] = 1;
    M.t[i].woke = (uint8_t)why;
}

/* An item arrived or was passed on: promised to the oldest waiting getter
 * if one waits and an item is not yet promised. */
static void model_offer_item(void)
{
    int i;
    if (M.count > model_promised(OPK_GET, W_ITEM) &&
        (i = model_oldest(OPK_GET)) >= 0)
        model_wake(i, W_ITEM);
}

static void model_offer_room(void)
{
    int i;
    if (M.count + model_promised(OPK_PUT, W_ROOM) < (int)M.p->capacity &&
        (i = model_oldest(OPK_PUT)) >= 0)
        model_wake(i, W_ROOM);
}

static void model_wake_all(int op, int why)
{
    int i;
    for (i = 0; i < M.ntasks; i++)
        if (model_waiting(i, op))
            model_wake(i, why);
}

static void model_push(struct model_task *tm, const struct model_item *it)
{
    MODEL_CHECK(tm, M.count < (int)M.p->capacity,
                "model: put into a full queue");
    MODEL_CHECK(tm, it->id < MODEL_ITEMS && !M.put_ok[it->id],
                "item %u put twice", (unsigned)it->id);
    M.item[M.count++] = *it;
    M.put_ok[it->id] = 1;
    M.unfinished++;
    model_offer_item();
}

/* The item the queue must hand out next: the oldest (FIFO), the newest
 * (LIFO), or the smallest key, the oldest of equals (priority). */
static void model_take(struct model_task *tm)
{
    int i, at = 0;
    if (M.p->order == ASYNC_QUEUE_LIFO)
        at = M.count - 1;
    else if (M.p->order == ASYNC_QUEUE_PRIORITY)
        for (i = 1; i < M.count; i++)
            if (M.item[i].key < M.item[at].key)
                at = i;
    tm->expect_item = M.item[at];
    memmove(&M.item[at], &M.item[at + 1],
            (size_t)(M.count - at - 1) * sizeof M.item[0]);
    M.count--;
    model_offer_room();
    if (M.shutdown && M.count == 0) { /* the last: nothing more comes */
        if (model_oldest(OPK_GET) >= 0)
            model_stats.last_item++;
        model_wake_all(OPK_GET, W_SHUTDOWN);
    }
}

/* A woken task's op gives up instead of completing: a cancellation was
 * requested, its deadline passed (the timeout fired at the start of this
 * turn, before the task ran), or wait_for refused the deadline and
 * cancelled the op itself. */
static int model_cancelling(const struct model_task *tm)
{
    return tm->pending || tm->self_cancel ||
           (tm->mode == MM_TIMED && M.now64 >= tm->deadline);
}

/* Each op's result at one evaluation, as the contract says, with its
 * effects on the queue and on the other tasks. first: the call that may
 * suspend; otherwise the evaluation when the task resumes. */
static int model_get(struct model_task *tm, int first)
{
    int was;
    if (tm->nowait) {
        if (M.count > model_promised(OPK_GET, W_ITEM)) {
            model_take(tm);
            return 0;
        }
        if (M.count > 0)
            model_stats.barged++;
        return M.shutdown && M.count == 0 ? ASYNC_ESHUTDOWN : ASYNC_EEMPTY;
    }
    if (first) {
        /* Nobody waits and an item is free: take it at once. */
        if (model_oldest(OPK_GET) < 0 &&
            M.count > model_promised(OPK_GET, W_ITEM)) {
            model_take(tm);
            return 0;
        }
        if (M.shutdown && M.count == 0)
            return ASYNC_ESHUTDOWN;
        return tm->pending ? ASYNC_ECANCELED : ASYNC_WAIT;
    }
    was = tm->woke;
    tm->woke = W_NONE;
    if (model_cancelling(tm)) {
        if (was == W_ITEM) { /* not taken: the next getter may have it */
            model_stats.passed_on++;
            model_stats.timed_out_woken += !tm->pending && !tm->self_cancel;
            model_offer_item();
        }
        return ASYNC_ECANCELED;
    }
    if (was == W_ITEM) {
        if (M.count == 0)
            return ASYNC_ESHUTDOWN; /* discarded by an immediate shutdown */
        model_take(tm);
        return 0;
    }
    if (was == W_SHUTDOWN) { /* look again: an item passed on may be ours */
        if (M.count <= model_promised(OPK_GET, W_ITEM))
            return ASYNC_ESHUTDOWN;
        model_take(tm);
        return 0;
    }
    model_fail(tm, "resumed in get without being woken");
    return 0;
}

static int model_put(struct model_task *tm, const struct model_item *it,
                     int first)
{
    int was;
    if (tm->nowait) {
        if (M.shutdown)
            return ASYNC_ESHUTDOWN;
        if (M.count + model_promised(OPK_PUT, W_ROOM) >= (int)M.p->capacity)
            return ASYNC_EFULL;
        model_push(tm, it);
        return 0;
    }
    if (first) {
        if (M.shutdown)
            return ASYNC_ESHUTDOWN;
        if (model_oldest(OPK_PUT) < 0 &&
            M.count + model_promised(OPK_PUT, W_ROOM) < (int)M.p->capacity) {
            model_push(tm, it);
            return 0;
        }
        return tm->pending ? ASYNC_ECANCELED : ASYNC_WAIT;
    }
    was = tm->woke;
    tm->woke = W_NONE;
    if (model_cancelling(tm)) {
        if (was == W_ROOM) {
            model_stats.passed_on++;
            model_stats.timed_out_woken += !tm->pending && !tm->self_cancel;
            model_offer_room();
        }
        return ASYNC_ECANCELED;
    }
    if (was == W_ROOM) {
        if (M.shutdown)
            return ASYNC_ESHUTDOWN;
        model_push(tm, it);
        return 0;
    }
    if (was == W_SHUTDOWN)
        return ASYNC_ESHUTDOWN;
    model_fail(tm, "resumed in put without being woken");
    return 0;
}

static int model_join(struct model_task *tm, int first)
{
    int was;
    if (first) {
        if (M.unfinished == 0)
            return 0;
        tm->join_epoch = M.zero_epoch;
        return tm->pending ? ASYNC_ECANCELED : ASYNC_WAIT;
    }
    was = tm->woke;
    tm->woke = W_NONE;
    if (model_cancelling(tm))
        return ASYNC_ECANCELED;
    if (was == W_JOIN)
        return 0;
    model_fail(tm, "resumed in join without being woken");
    return 0;
}

/* Sleeps suspend (a cancellation pending outside a cleanup section is
 * delivered instead); woken, they end on time, or cancelled (also by
 * their wait_for's expiry, which wins a tie with the sleep's own tick).
 * In a cleanup section, requests from outside wait for the section to
 * end, but a wait_for's own expiry or refusal still reaches the sleep it
 * bounds. */
static int model_sleep(struct model_task *tm, int first)
{
    if (first) {
        if (tm->pending && !tm->shielded)
            return ASYNC_ECANCELED;
        if (tm->ticks)
            tm->timer_seq = ++M.timer_seq; /* start order among equals */
        return ASYNC_WAIT;
    }
    if (tm->shielded)
        return tm->self_cancel ||
                       (tm->mode == MM_TIMED && M.now64 >= tm->deadline)
                   ? ASYNC_ECANCELED
                   : 0;
    return model_cancelling(tm) ? ASYNC_ECANCELED : 0;
}

/* What async_wait_for makes of the op's result. */
static int model_wrap(struct model_task *tm, int first, int rc)
{
    if (tm->mode == MM_PLAIN || tm->nowait)
        return rc;
    if (first) {
        /* Done at once: nothing to bound, and nothing to lose. Suspended
         * under a refused deadline: wait_for cancels the op at once. */
        if (rc == ASYNC_WAIT && tm->mode == MM_REFUSED)
            tm->self_cancel = 1;
        return rc;
    }
    if (rc != ASYNC_ECANCELED)
        return rc;
    /* A cancellation from outside stays one, unless a cleanup section
     * holds it: then it stays pending, and wait_for reports its own. */
    if (tm->pending && !tm->shielded)
        return ASYNC_ECANCELED;
    return tm->mode == MM_REFUSED ? tm->refusal : ASYNC_ETIMEDOUT;
}

/* One evaluation of tm's op, predicted just before the library's call. */
static void model_predict(struct model_task *tm, const struct model_item *it,
                          int first)
{
    int rc;
    if (tm->op == OPK_GET)
        rc = model_get(tm, first);
    else if (tm->op == OPK_PUT)
        rc = model_put(tm, it, first);
    else if (tm->op == OPK_JOIN)
        rc = model_join(tm, first);
    else
        rc = model_sleep(tm, first);
    tm->expect = model_wrap(tm, first, rc);
    if (tm->expect == ASYNC_ECANCELED)
        tm->pending = 0; /* delivered */
}

/* An op evaluated last suspended: it was predicted to, and the task now
 * waits where it should. Called first thing by every hook, and by the
 * driver after every turn. */
static void model_settle(void)
{
    struct model_task *tm = M.last;
    int st, want;
    if (!tm)
        return;
    M.last = NULL;
    MODEL_CHECK(tm, tm->expect == ASYNC_WAIT,
                "suspended, where the model says it returns %s",
                model_rc(tm->expect));
    st = model_state(tm->index);
    if (tm->self_cancel || (tm->op == OPK_SLEEP && tm->ticks == 0))
        want = ASYNC_TASK_READY;
    else if (tm->op == OPK_SLEEP)
        want = ASYNC_TASK_SLEEPING;
    else
        want = ASYNC_TASK_WAITING;
    MODEL_CHECK(tm, st == want, "suspended as %s, the model says %s",
                model_state_name(st), model_state_name(want));
}

/* ============================================================ the hooks */

static const char *const model_op_names[] = {"-", "sleep", "put", "get",
                                             "join"};

/* Start an operation. ticks: a sleep's or a deadline's. */
static void model_begin(struct model_task *tm, int op, int mode,
                        async_tick_t ticks)
{
    model_settle();
    model_sync();
    MODEL_CHECK(tm, tm->op == OPK_NONE, "model: an op inside an op");
    tm->op = op;
    tm->mode = mode;
    tm->nowait = 0;
    tm->ticks = ticks;
    tm->turn0 = M.turn;
    tm->evals = 0;
    tm->woke = W_NONE;
    tm->self_cancel = 0;
    tm->expect = ASYNC_WAIT;
    tm->deadline = UINT64_MAX;
    if (mode == MM_TIMED && ticks != ASYNC_FOREVER)
        tm->deadline = M.now64 + ticks;
}

/* A sleep of ticks, bounded by mode and bound like an op. */
static void model_begin_sleep(struct model_task *tm, int mode,
                              async_tick_t ticks, async_tick_t bound)
{
    model_begin(tm, OPK_SLEEP, mode, bound);
    tm->ticks = ticks;
    tm->due = M.now64 + ticks;
}

/* Called as an argument of the library call, so on every evaluation,
 * also the ones AWAIT makes when the task resumes: snapshot the tasks,
 * predict the result. */
static void model_eval(struct model_task *tm, const struct model_item *it)
{
    model_settle();
    model_sync();
    model_snapshot();
    tm->wait_seq = ++M.seq; /* its place in a wait list, if it suspends */
    model_predict(tm, it, tm->evals++ == 0);
    M.last = tm;
    model_say(tm, "  %s%s%s, evaluation %d: the model expects %s",
              model_op_names[tm->op], tm->nowait ? "_nowait" : "",
              tm->mode == MM_TIMED     ? " (timed)"
              : tm->mode == MM_REFUSED ? " (refused)"
                                       : "",
              tm->evals, model_rc(tm->expect));
}

static const void *model_pre_put(struct model_task *tm,
                                 const struct model_item *it)
{
    model_eval(tm, it);
    return it;
}

static void *model_pre_get(struct model_task *tm, struct model_item *it)
{
    model_eval(tm, NULL);
    return it;
}

static async_queue_t *model_pre_join(struct model_task *tm)
{
    model_eval(tm, NULL);
    return &M.q;
}

static async_tick_t model_pre_sleep(struct model_task *tm, async_tick_t ticks)
{
    model_eval(tm, NULL);
    return ticks;
}

/* Tally outcomes, by op. */
static void model_count(const struct model_task *tm, int rc, int suspended)
{
    struct model_stats *s = &model_stats;
    int refused = tm->mode == MM_REFUSED && !tm->nowait;
    if (tm->op == OPK_PUT) {
        s->put_ok += rc == 0;
        s->put_full += rc == ASYNC_EFULL;
        s->put_shutdown += rc == ASYNC_ESHUTDOWN;
        s->put_timeout += rc == ASYNC_ETIMEDOUT;
        s->put_cancel += rc == ASYNC_ECANCELED;
        s->put_refused += rc == tm->refusal && refused;
        s->put_kept += refused && rc == 0;
    } else if (tm->op == OPK_GET) {
        s->get_ok += rc == 0;
        s->get_empty += rc == ASYNC_EEMPTY;
        s->get_shutdown += rc == ASYNC_ESHUTDOWN;
        s->get_timeout += rc == ASYNC_ETIMEDOUT;
        s->get_cancel += rc == ASYNC_ECANCELED;
        s->get_refused += rc == tm->refusal && refused;
        s->get_kept += refused && rc == 0;
    } else if (tm->op == OPK_JOIN) {
        s->join_waited += rc == 0 && suspended;
        s->join_timeout += rc == ASYNC_ETIMEDOUT;
        s->join_cancel += rc == ASYNC_ECANCELED;
    } else {
        s->sleep_ok += rc == 0;
        s->sleep_cancel += rc == ASYNC_ECANCELED;
        s->sleep_timeout += rc == ASYNC_ETIMEDOUT;
        s->cleanup_timeout += rc == ASYNC_ETIMEDOUT && tm->shielded &&
                              tm->pending;
    }
}

/* The op returned rc to the coroutine. */
static void model_done(struct model_task *tm, int rc,
                       const struct model_item *got)
{
    int suspended;
    if (M.last == tm) {
        /* Returned from its last evaluation, in the same run: the calls
         * since the snapshot were the library's alone. */
        M.last = NULL;
        MODEL_CHECK(tm, tm->expect != ASYNC_WAIT,
                    "%s returned %s, where the model says it suspends",
                    model_op_names[tm->op], model_rc(rc));
        model_sync();
        model_verify_wakes(tm, model_op_names[tm->op]);
    } else {
        /* Resumed with its wake value, without evaluating the op again
         * (a sleep or a join not under wait_for). */
        model_settle();
        model_sync();
        MODEL_CHECK(tm, tm->op == OPK_SLEEP || tm->op == OPK_JOIN,
                    "%s resumed without evaluating its op again",
                    model_op_names[tm->op]);
        MODEL_CHECK(tm, tm->evals == 1, "model: %s never evaluated",
                    model_op_names[tm->op]);
        model_predict(tm, NULL, 0);
    }
    suspended = M.turn != tm->turn0;
    model_say(tm, "%s%s%s -> %s%s", model_op_names[tm->op],
              tm->nowait ? "_nowait" : "",
              tm->mode == MM_TIMED ? " (timed)"
              : tm->mode == MM_REFUSED ? " (refused)" : "",
              model_rc(rc), suspended ? " after waiting" : "");
    MODEL_CHECK(tm, rc == tm->expect, "%s returned %s, the model says %s",
                model_op_names[tm->op], model_rc(rc), model_rc(tm->expect));

    /* Time: sleeps end on their tick, in (deadline, start) order; a
     * bounded op ends before its deadline, or at it when it timed out. */
    if (tm->op == OPK_SLEEP && rc == 0) {
        if (tm->ticks == 0) {
            MODEL_CHECK(tm, M.turn == tm->turn0 + 1,
                        "a yield resumed %ld turns later",
                        M.turn - tm->turn0);
        } else {
            MODEL_CHECK(tm, M.now64 == tm->due, "a sleep of %lu woke at +%lld",
                        (unsigned long)tm->ticks,
                        (long long)(M.now64 - (tm->due - tm->ticks)));
            MODEL_CHECK(tm, !M.fired_any || M.fired_deadline < tm->due ||
                                (M.fired_deadline == tm->due &&
                                 M.fired_seq < tm->timer_seq),
                        "sleep #%u (deadline %llu) woke after sleep #%u "
                        "(deadline %llu)",
                        (unsigned)tm->timer_seq, (unsigned long long)tm->due,
                        (unsigned)M.fired_seq,
                        (unsigned long long)M.fired_deadline);
            M.fired_any = 1;
            M.fired_deadline = tm->due;
            M.fired_seq = tm->timer_seq;
        }
    }
    if (tm->mode == MM_TIMED && !tm->nowait) {
        if (rc == ASYNC_ETIMEDOUT)
            MODEL_CHECK(tm, M.now64 == tm->deadline,
                        "timed out %lld ticks off its deadline",
                        (long long)(M.now64 - tm->deadline));
        else if (rc == ASYNC_ECANCELED)
            MODEL_CHECK(tm, M.now64 <= tm->deadline,
                        "cancelled past its deadline");
        else
            MODEL_CHECK(tm, M.now64 < tm->deadline,
                        "returned %s at or past its deadline", model_rc(rc));
    }
    if (tm->op == OPK_JOIN && rc == 0)
        MODEL_CHECK(tm, !suspended || M.zero_epoch != tm->join_epoch,
                    "join returned before the count reached zero");

    /* The item: the one the model picked, intact; a failed get writes
     * nothing. */
    if (tm->op == OPK_GET) {
        if (rc == 0) {
            MODEL_CHECK(tm, got->id == tm->expect_item.id &&
                                got->key == tm->expect_item.key &&
                                got->tag == tm->expect_item.tag,
                        "got item %u/%u/%u, the model says %u/%u/%u",
                        (unsigned)got->id, (unsigned)got->key,
                        (unsigned)got->tag, (unsigned)tm->expect_item.id,
                        (unsigned)tm->expect_item.key,
                        (unsigned)tm->expect_item.tag);
            M.got[got->id]++;
            MODEL_CHECK(tm, M.got[got->id] == 1, "item %u got twice",
                        (unsigned)got->id);
        } else {
            MODEL_CHECK(tm, memcmp(got, &model_no_item, sizeof *got) == 0,
                        "a get that failed with %s wrote the item",
                        model_rc(rc));
        }
    }
    model_check_queue(tm);
    model_count(tm, rc, suspended);
    tm->op = OPK_NONE;
}

/* ==================================================== task bookkeeping */

static void model_start(struct model_task *tm)
{
    model_settle();
    model_sync();
    MODEL_CHECK(tm, !tm->early_cancel,
                "runs although it was cancelled before its first turn");
    MODEL_CHECK(tm, !tm->started, "started twice");
    tm->started = 1;
    model_say(tm, "starts");
}

/* The body ended with result (its cleanup section ran). The task's
 * result follows: a cancellation still pending turns success into
 * ASYNC_ECANCELED. */
static void model_finish(struct model_task *tm, int result)
{
    model_settle();
    tm->ended = 1;
    tm->body_result = result;
    tm->pending_at_end = tm->pending;
    model_say(tm, "ends with %s%s", model_rc(result),
              tm->pending ? ", a cancellation pending" : "");
}

static int model_expected_result(const struct model_task *tm)
{
    if (!tm->started)
        return ASYNC_ECANCELED; /* cancelled before its first turn */
    MODEL_CHECK(tm, tm->ended, "finished without ending its body");
    return tm->pending_at_end && tm->body_result >= 0 ? ASYNC_ECANCELED
                                                      : tm->body_result;
}

static void model_shield(struct model_task *tm, int on)
{
    tm->shielded = on;
}

/* =========================================================== controller */

/* Request target's cancellation: delivered at once to a task suspended
 * outside a cleanup section, else remembered. A finished task is left
 * alone (0); one not created yet is refused (ASYNC_EINVAL). */
static void model_cancel(struct model_task *self, int target)
{
    struct model_task *tm = &M.t[target];
    int st, want, rc;
    model_settle();
    model_sync();
    model_snapshot();
    st = M.snap[target];
    want = st == ASYNC_TASK_IDLE ? ASYNC_EINVAL : st != ASYNC_TASK_DONE;
    if (want == 1) {
        tm->pending = 1;
        if (st == ASYNC_TASK_PENDING) {
            tm->early_cancel = 1;
            model_stats.early_cancel++;
        }
        if ((st == ASYNC_TASK_SLEEPING || st == ASYNC_TASK_WAITING) &&
            !tm->shielded)
            model_wake(target, W_CANCEL);
        if (tm->shielded)
            model_stats.shielded_cancel++;
    }
    rc = async_task_cancel(&M.loop, &tm->task);
    model_say(self, "cancel %s (%s) -> %s", tm->name, model_state_name(st),
              model_rc(rc));
    MODEL_CHECK(self, rc == want, "cancelling %s (%s) returned %s",
                tm->name, model_state_name(st), model_rc(rc));
    model_verify_wakes(self, "cancel");
}

static void model_shutdown(struct model_task *self, int immediate)
{
    int rc, k;
    uint32_t n;
    model_settle();
    model_sync();
    model_snapshot();
    M.shutdown = 1;
    if (immediate) {
        n = (uint32_t)M.count;
        for (k = 0; k < M.count; k++)
            M.discarded[M.item[k].id]++;
        model_stats.discarded += n;
        M.count = 0;
        M.unfinished = n < M.unfinished ? M.unfinished - n : 0;
        if (M.unfinished == 0) {
            M.zero_epoch++;
            model_wake_all(OPK_JOIN, W_JOIN);
        }
    }
    if (M.count == 0)
        model_wake_all(OPK_GET, W_SHUTDOWN);
    model_wake_all(OPK_PUT, W_SHUTDOWN);
    rc = async_queue_shutdown(&M.q, immediate);
    model_say(self, "shutdown%s -> %s", immediate ? " (immediate)" : "",
              model_rc(rc));
    MODEL_CHECK(self, rc == 0, "async_queue_shutdown returned %s",
                model_rc(rc));
    model_verify_wakes(self, "shutdown");
    model_check_queue(self);
    if (immediate)
        model_stats.immediate++;
    else
        model_stats.graceful++;
}

/* task_done: for an item held (a consumer's cleanup), or with nothing
 * outstanding (a probe, which must change nothing). */
static void model_task_done(struct model_task *self)
{
    int rc, want = M.unfinished ? 0 : ASYNC_ESTATE;
    model_settle();
    model_sync();
    model_snapshot();
    if (M.unfinished && --M.unfinished == 0) {
        M.zero_epoch++;
        model_wake_all(OPK_JOIN, W_JOIN);
    }
    rc = async_queue_task_done(&M.q);
    model_say(self, "task_done -> %s (unfinished %u)", model_rc(rc),
              (unsigned)M.unfinished);
    MODEL_CHECK(self, rc == want, "task_done returned %s, the model says %s",
                model_rc(rc), model_rc(want));
    model_verify_wakes(self, "task_done");
    model_check_queue(self);
}

/* Main awaited worker i: its result is the one its story implies. */
static void model_awaited(struct model_task *self, int i, int rc)
{
    model_settle();
    MODEL_CHECK(self, rc == model_expected_result(&M.t[i]),
                "awaiting %s gave %s, the model says %s", M.t[i].name,
                model_rc(rc), model_rc(model_expected_result(&M.t[i])));
}

/* ============================================================ coroutines */

static async_tick_t model_sleep_ticks(const struct model_op *op)
{
    return (async_tick_t)(op->a % 6u);
}

/* A sleeper's: up to 32 ticks, so that many timers stay armed while
 * others start, fire, or are cancelled from the middle of the heap. */
static async_tick_t model_sleeper_ticks(const struct model_op *op)
{
    return (async_tick_t)((op->a + 1u) * (1u + (op->b & 3u)));
}

/* The deadline of a sleeper's wait_for around its sleep: 4..23 ticks,
 * before, at or after the sleep's own. */
static async_tick_t model_sleeper_bound(const struct model_op *op)
{
    if (op->mode == MM_REFUSED)
        return (async_tick_t)(ASYNC_MAX_DELAY + 1u);
    return (async_tick_t)(4u + 6u * op->c + (op->b >> 2));
}

static async_tick_t model_deadline_ticks(const struct model_op *op)
{
    if (op->mode == MM_REFUSED)
        return (async_tick_t)(ASYNC_MAX_DELAY + 1u); /* unused if NULL */
    return op->a == 7 ? ASYNC_FOREVER : (async_tick_t)(op->a + 1u);
}

/* Start the model's view of an awaited put, get or join of op. */
static void model_begin_bounded(struct model_task *tm, int kind,
                                const struct model_op *op)
{
    model_begin(tm, kind, op->mode, model_deadline_ticks(op));
    tm->refusal = op->a & 1u ? ASYNC_ERANGE : ASYNC_EINVAL;
}

static int model_handler(async_loop_t *l, void *frame)
{
    struct model_handler *h = frame;
    struct model_task *tm = h->tm;
    ASYNC_BEGIN(l, h);
    h->holding = 0;
    h->item = model_no_item;
    h->ticks = model_deadline_ticks(h->op);
    if (h->op->kind == MK_GET_NOWAIT) {
        model_begin(tm, OPK_GET, MM_PLAIN, 0);
        tm->nowait = 1;
        h->rc = async_queue_get_nowait(&M.q, model_pre_get(tm, &h->item));
    } else if (h->op->mode == MM_PLAIN) {
        model_begin(tm, OPK_GET, MM_PLAIN, 0);
        AWAIT_TRY(h->rc, async_queue_get(l, &M.q, model_pre_get(tm, &h->item)));
    } else {
        model_begin_bounded(tm, OPK_GET, h->op);
        AWAIT_TRY(h->rc,
                  async_wait_for(l, tm->refusal == ASYNC_EINVAL &&
                                            h->op->mode == MM_REFUSED
                                        ? NULL
                                        : &h->to,
                                 h->ticks,
                                 async_queue_get(l, &M.q,
                                                 model_pre_get(tm, &h->item))));
    }
    model_done(tm, h->rc, &h->item);
    if (h->rc < 0)
        ASYNC_RETURN(h->rc);
    h->holding = 1;
    if (h->op->b) { /* processing */
        h->ticks = (async_tick_t)(h->op->b - 1u);
        model_begin_sleep(tm, MM_PLAIN, h->ticks, 0);
        AWAIT_TRY(h->rc, async_sleep(l, model_pre_sleep(tm, h->ticks)));
        model_done(tm, h->rc, NULL);
        if (h->rc < 0)
            ASYNC_RETURN(h->rc);
    }
    ASYNC_FINALLY;
    model_shield(tm, 1);
    MODEL_CHECK(tm, ASYNC_RESULT == (h->rc < 0 ? h->rc : 0),
                "the cleanup section sees %s, the body ended with %s",
                model_rc(ASYNC_RESULT), model_rc(h->rc < 0 ? h->rc : 0));
    if (h->holding) {
        /* asyncio's worker: `finally: queue.task_done()`, here after a
         * cleanup that may itself wait (and is not interrupted) */
        if (h->op->c && !h->op->d) {
            h->ticks = h->op->c;
            model_begin_sleep(tm, MM_PLAIN, h->ticks, 0);
            AWAIT_TRY(h->rc, async_sleep(l, model_pre_sleep(tm, h->ticks)));
            model_done(tm, h->rc, NULL);
        } else if (h->op->c) {
            /* under a deadline, which a cleanup section does not hold */
            h->ticks = h->op->c;
            h->bound = h->op->d == 3 ? (async_tick_t)(ASYNC_MAX_DELAY + 1u)
                                     : (async_tick_t)h->op->d;
            model_begin_sleep(tm, h->op->d == 3 ? MM_REFUSED : MM_TIMED,
                              h->ticks, h->bound);
            tm->refusal = ASYNC_ERANGE;
            AWAIT_TRY(h->rc,
                      async_wait_for(l, &h->to, h->bound,
                                     async_sleep(l, model_pre_sleep(
                                                        tm, h->ticks))));
            model_done(tm, h->rc, NULL);
        }
        model_task_done(tm);
    }
    h->result = ASYNC_RESULT;
    model_shield(tm, 0);
    ASYNC_END;
}

/* One sleep step of a worker or the controller. */
#define MODEL_SLEEP_STEP(l, tm, ticks_field, rc_field)                        \
    do {                                                                      \
        model_begin_sleep((tm), MM_PLAIN, (ticks_field), 0);                  \
        AWAIT_TRY((rc_field),                                                 \
                  async_sleep((l), model_pre_sleep((tm), (ticks_field))));    \
        model_done((tm), (rc_field), NULL);                                   \
    } while (0)

static int model_worker(async_loop_t *l, void *frame)
{
    struct model_worker *w = frame;
    struct model_task *tm = w->tm;
    static const struct model_op default_get = {MK_GET, MM_PLAIN, 0, 0, 0, 0};
    ASYNC_BEGIN(l, w);
    model_start(tm);
    for (w->k = 0;; w->k++) {
        if (w->k < w->spec->nops)
            w->op = &w->spec->op[w->k];
        else if (w->spec->role == MODEL_CONSUMER)
            w->op = &default_get; /* drain until stopped */
        else
            break;
        if (w->op->kind == MK_SLEEP && w->spec->role == MODEL_SLEEPER &&
            w->op->mode != MM_PLAIN) {
            /* two timers on one task: whichever ends first removes the
             * other from the middle of the heap */
            w->ticks = model_sleeper_ticks(w->op);
            w->bound = model_sleeper_bound(w->op);
            model_begin_sleep(tm, w->op->mode, w->ticks, w->bound);
            tm->refusal = w->op->a & 1u ? ASYNC_ERANGE : ASYNC_EINVAL;
            AWAIT_TRY(w->rc,
                      async_wait_for(l, tm->refusal == ASYNC_EINVAL &&
                                                w->op->mode == MM_REFUSED
                                            ? NULL
                                            : &w->to,
                                     w->bound,
                                     async_sleep(l, model_pre_sleep(
                                                        tm, w->ticks))));
            model_done(tm, w->rc, NULL);
        } else if (w->op->kind == MK_SLEEP) {
            w->ticks = w->spec->role == MODEL_SLEEPER
                           ? model_sleeper_ticks(w->op)
                           : model_sleep_ticks(w->op);
            MODEL_SLEEP_STEP(l, tm, w->ticks, w->rc);
        } else if (w->op->kind == MK_GET || w->op->kind == MK_GET_NOWAIT) {
            w->h.tm = tm;
            w->h.op = w->op;
            AWAIT_TRY(w->rc, async_call(l, model_handler, &w->h));
            MODEL_CHECK(tm, w->rc == w->h.result,
                        "async_call gave %s, the child ended with %s",
                        model_rc(w->rc), model_rc(w->h.result));
        } else if (w->op->kind == MK_JOIN) {
            w->ticks = model_deadline_ticks(w->op);
            if (w->op->mode == MM_PLAIN) {
                model_begin(tm, OPK_JOIN, MM_PLAIN, 0);
                AWAIT_TRY(w->rc, async_queue_join(l, model_pre_join(tm)));
            } else {
                model_begin_bounded(tm, OPK_JOIN, w->op);
                AWAIT_TRY(w->rc,
                          async_wait_for(l, tm->refusal == ASYNC_EINVAL &&
                                                    w->op->mode == MM_REFUSED
                                                ? NULL
                                                : &w->to,
                                         w->ticks,
                                         async_queue_join(l,
                                                          model_pre_join(tm))));
            }
            model_done(tm, w->rc, NULL);
        } else {
            if (!w->have_item) { /* a new item, numbered by producer and step */
                w->item.id = (uint16_t)((tm->index - 2) * MODEL_OPS + w->k);
                w->item.key = (uint8_t)(w->op->b & 3u);
                w->item.tag = (uint8_t)(w->item.id * 31u + w->item.key * 7u +
                                        0x5Au);
                w->have_item = 1;
            }
            w->ticks = model_deadline_ticks(w->op);
            if (w->op->kind == MK_PUT_NOWAIT) {
                model_begin(tm, OPK_PUT, MM_PLAIN, 0);
                tm->nowait = 1;
                w->rc = async_queue_put_nowait(&M.q,
                                               model_pre_put(tm, &w->item));
            } else if (w->op->mode == MM_PLAIN) {
                model_begin(tm, OPK_PUT, MM_PLAIN, 0);
                AWAIT_TRY(w->rc, async_queue_put(l, &M.q,
                                                 model_pre_put(tm, &w->item)));
            } else {
                model_begin_bounded(tm, OPK_PUT, w->op);
                AWAIT_TRY(w->rc,
                          async_wait_for(l, tm->refusal == ASYNC_EINVAL &&
                                                    w->op->mode == MM_REFUSED
                                                ? NULL
                                                : &w->to,
                                         w->ticks,
                                         async_queue_put(l, &M.q,
                                                         model_pre_put(
                                                             tm, &w->item))));
            }
            model_done(tm, w->rc, NULL);
            if (w->rc == 0 || !(w->op->c & 1u))
                w->have_item = 0; /* else the next put retries it */
        }
        if (w->rc == ASYNC_ESHUTDOWN && w->spec->role != MODEL_JOINER)
            break; /* shut down: nothing more to put or get */
        if (w->rc == ASYNC_ECANCELED && (w->spec->dies || M.stopping))
            ASYNC_RETURN(w->rc);
    }
    /* asyncio 3.13's producer: done, it shuts the queue down, often in the
     * turn its last put woke a getter, which then takes the last item */
    if (w->spec->closes)
        model_shutdown(tm, w->spec->closes == 2);
    ASYNC_FINALLY;
    model_shield(tm, 1);
    if (w->spec->cleanup) {
        w->ticks = w->spec->cleanup;
        MODEL_SLEEP_STEP(l, tm, w->ticks, w->rc);
    }
    model_finish(tm, ASYNC_RESULT);
    ASYNC_END;
}

static int model_controller(async_loop_t *l, void *frame)
{
    struct model_ctl *c = frame;
    struct model_task *tm = &M.t[1];
    ASYNC_BEGIN(l, c);
    model_start(tm);
    for (c->k = 0; c->k < M.p->nctl && !M.ctl_stop; c->k++) {
        c->op = &M.p->ctl[c->k];
        if (c->op->kind == MK_CANCEL) {
            c->target = 2 + (c->op->a + 8 * c->op->c) % M.p->nworkers;
            /* A consumer cancelled before its first turn never runs, and
             * the queue must keep someone to drain it. */
            if (M.t[c->target].spec->role == MODEL_CONSUMER &&
                model_state(c->target) == ASYNC_TASK_PENDING)
                continue;
            for (c->i = 0; c->i < 1 + (c->op->b & 1); c->i++)
                model_cancel(tm, c->target);
        } else if (c->op->kind == MK_SHUTDOWN && c->op->b == 0) {
            model_shutdown(tm, c->op->a & 1);
        } else if (c->op->kind == MK_PROBE) {
            if (M.unfinished == 0) { /* else it would unbalance the count */
                model_task_done(tm);
                model_stats.probes++;
            }
        } else {
            c->ticks = model_sleep_ticks(c->op);
            MODEL_SLEEP_STEP(l, tm, c->ticks, c->rc);
        }
    }
    model_finish(tm, 0);
    ASYNC_END;
}

static async_fn *model_fn_of(int i)
{
    return i == 1 ? model_controller : model_worker;
}

static void model_create(struct model_task *self, int i)
{
    struct model_task *tm = &M.t[i];
    void *frame = i == 1 ? (void *)&M.ctlf : (void *)&tm->frame;
    int rc;
    model_settle();
    rc = async_task_create(&M.loop, &tm->task, model_fn_of(i), frame);
    MODEL_CHECK(self, rc == 0, "creating %s returned %s", tm->name,
                model_rc(rc));
    tm->created = 1;
}

/* The end: all items accounted for, none left, none duplicated. */
static void model_final_checks(struct model_task *tm)
{
    int id;
    model_settle();
    model_check_queue(tm);
    MODEL_CHECK(tm, M.count == 0 && M.unfinished == 0,
                "%d items left, %u unfinished", M.count,
                (unsigned)M.unfinished);
    for (id = 0; id < MODEL_ITEMS; id++) {
        MODEL_CHECK(tm, M.got[id] + M.discarded[id] == M.put_ok[id],
                    "item %d: put %d, got %d, discarded %d", id,
                    M.put_ok[id], M.got[id], M.discarded[id]);
    }
}

static int model_main(async_loop_t *l, void *frame)
{
    struct model_main *m = frame;
    struct model_task *tm = &M.t[0];
    ASYNC_BEGIN(l, m);
    model_start(tm);
    model_create(tm, 1);
    for (m->i = 0; m->i < M.p->nworkers; m->i++) {
        m->w = 2 + (m->i + M.p->rotate) % M.p->nworkers;
        m->ticks = M.t[m->w].spec->stagger;
        if (m->ticks)
            MODEL_SLEEP_STEP(l, tm, m->ticks, m->rc);
        model_create(tm, m->w);
    }
    /* asyncio's worker example: wait for the producers, then join */
    for (m->i = 0; m->i < M.p->nprod; m->i++) {
        AWAIT_TRY(m->rc, async_task_wait(l, &M.t[2 + m->i].task));
        model_awaited(tm, 2 + m->i, m->rc);
    }
    M.ctl_stop = 1;
    AWAIT_TRY(m->rc, async_task_wait(l, &M.t[1].task));
    model_awaited(tm, 1, m->rc);
    if (M.p->end == END_DRAIN || M.p->end == END_DISCARD)
        model_shutdown(tm, M.p->end == END_DISCARD);
    model_begin(tm, OPK_JOIN, MM_TIMED, MODEL_JOIN_LIMIT);
    AWAIT_TRY(m->rc, async_wait_for(l, &m->to, MODEL_JOIN_LIMIT,
                                    async_queue_join(l, model_pre_join(tm))));
    model_done(tm, m->rc, NULL);
    MODEL_CHECK(tm, m->rc == 0 && M.unfinished == 0,
                "the final join returned %s with %u unfinished: an item or "
                "a wakeup was lost", model_rc(m->rc), (unsigned)M.unfinished);
    /* ... then stop the consumers: cancel them, or shut the queue down */
    if (M.p->end == END_CANCEL) {
        M.stopping = 1;
        for (m->i = 0; m->i < M.p->ncons; m->i++)
            model_cancel(tm, 2 + M.p->nprod + m->i);
    } else if (M.p->end == END_SHUTDOWN) {
        model_shutdown(tm, 0);
    }
    for (m->i = M.p->nprod; m->i < M.p->nworkers; m->i++) {
        AWAIT_TRY(m->rc, async_task_wait(l, &M.t[2 + m->i].task));
        model_awaited(tm, 2 + m->i, m->rc);
    }
    model_final_checks(tm);
    model_finish(tm, 0);
    ASYNC_END;
}

/* =============================================================== driver */

static async_tick_t model_clock(void *ctx)
{
    (void)ctx;
    return M.hand;
}

static int model_cmp(const void *a, const void *b)
{
    struct model_item x, y;
    memcpy(&x, a, sizeof x); /* stored items need not be aligned */
    memcpy(&y, b, sizeof y);
    return (x.key > y.key) - (x.key < y.key);
}

static void model_print(const struct model_program *p)
{
    static const char *const orders[] = {"FIFO", "LIFO", "PRIORITY"};
    static const char *const kinds[] = {"sleep", "put",  "put_nowait",
                                        "get",   "get_nowait", "join",
                                        "cancel", "shutdown", "probe"};
    static const char *const roles[] = {"producer", "consumer", "joiner",
                                        "sleeper"};
    static const char *const ends[] = {"join, cancel", "join, shutdown",
                                       "shutdown, join",
                                       "immediate shutdown, join"};
    unsigned i, k;
    fprintf(stderr, "program: %s capacity %u, %s clock from %lu, end: %s\n",
            orders[p->order], (unsigned)p->capacity,
            p->stepping ? "stepped" : "virtual", (unsigned long)p->start,
            ends[p->end]);
    fprintf(stderr, "  controller:");
    for (k = 0; k < p->nctl; k++)
        fprintf(stderr, " %s(%u,%u)", kinds[p->ctl[k].kind],
                (unsigned)p->ctl[k].a, (unsigned)p->ctl[k].b);
    fputc('\n', stderr);
    for (i = 0; i < p->nworkers; i++) {
        const struct model_script *w = &p->worker[i];
        fprintf(stderr, "  %s%s%s cleanup %u stagger %u:", roles[w->role],
                w->dies ? " (dies)" : "",
                w->closes == 1 ? " (closes)" : w->closes ? " (discards)" : "",
                (unsigned)w->cleanup,
                (unsigned)w->stagger);
        for (k = 0; k < w->nops; k++)
            fprintf(stderr, " %s%s(%u,%u,%u)", kinds[w->op[k].kind],
                    w->op[k].mode == MM_TIMED     ? "/timed"
                    : w->op[k].mode == MM_REFUSED ? "/refused"
                                                  : "",
                    (unsigned)w->op[k].a, (unsigned)w->op[k].b,
                    (unsigned)w->op[k].c);
        fputc('\n', stderr);
    }
}

/* Run program p, labelled for messages; fails through MODEL_FAIL. */
static inline void model_run(const struct model_program *p, const char *label)
{
    static const char *const roles = "PCJS";
    int i, rc, counts[4] = {0, 0, 0, 0};
    size_t b;
    async_tick_t t;

    memset(&M, 0, sizeof M);
    M.p = p;
    M.label = label;
    M.ntasks = 2 + p->nworkers;
    if (model_trace)
        model_print(p);
    /* Exactly the timer slots the tasks can use at once: one each (a
     * sleep or a deadline), two for a sleeper or a consumer (a sleep under
     * a deadline), so a slot that leaks shows as ASYNC_ENOSPC. */
    rc = async_loop_init(&M.loop, M.timers,
                         (uint32_t)(M.ntasks + p->nsleepers + p->ncons));
    MODEL_CHECK(NULL, rc == 0, "async_loop_init returned %s", model_rc(rc));
    if (p->stepping) {
        M.hand = p->start;
        M.port.now = model_clock;
        M.port.ctx = NULL;
        rc = async_loop_set_port(&M.loop, &M.port);
    } else {
        rc = async_loop_set_time(&M.loop, p->start);
    }
    MODEL_CHECK(NULL, rc == 0, "setting the clock returned %s", model_rc(rc));
    M.last_tick = p->start;
    M.now64 = (uint64_t)p->start;
    M.rng = p->clock_seed | 1u;
    M.qbytes = ASYNC_QUEUE_STORAGE(sizeof(struct model_item), p->capacity,
                                   p->order);
    memset(M.qbuf, 0xA5, sizeof M.qbuf);
    rc = async_queue_init(&M.q, &M.loop, M.qbuf, sizeof(struct model_item),
                          p->capacity, p->order, model_cmp);
    MODEL_CHECK(NULL, rc == 0, "async_queue_init returned %s", model_rc(rc));

    for (i = 0; i < M.ntasks; i++) {
        struct model_task *tm = &M.t[i];
        tm->index = i;
        tm->op = OPK_NONE;
        if (i == 0) {
            strcpy(tm->name, "main");
        } else if (i == 1) {
            strcpy(tm->name, "ctl");
        } else {
            tm->spec = &p->worker[i - 2];
            snprintf(tm->name, sizeof tm->name, "%c%d",
                     roles[tm->spec->role], counts[tm->spec->role]++);
            tm->frame.tm = tm;
            tm->frame.spec = tm->spec;
        }
    }
    rc = async_task_create(&M.loop, &M.t[0].task, model_main, &M.mainf);
    MODEL_CHECK(NULL, rc == 0, "creating main returned %s", model_rc(rc));
    M.t[0].created = 1;

    for (;;) {
        model_settle();
        if (model_state(0) == ASYNC_TASK_DONE)
            break;
        t = async_loop_next_timeout(&M.loop);
        MODEL_CHECK(NULL, t != ASYNC_FOREVER,
                    "nothing can run and main is %s: a lost wakeup",
                    model_state_name(model_state(0)));
        MODEL_CHECK(NULL, M.turn < MODEL_TURNS, "no end after %ld turns",
                    M.turn);
        if (p->stepping) {
            /* Ready tasks: now and then a tick passes before they run.
             * Idle: straight to the next deadline, never past it. */
            if (t == 0) {
                M.rng ^= M.rng << 13;
                M.rng ^= M.rng >> 17;
                M.rng ^= M.rng << 5;
                if (M.rng % p->step_odds == 0) {
                    M.hand++;
                    model_stats.stepped++;
                }
            } else {
                M.hand += t;
            }
        }
        M.turn++;
        async_loop_run_once(&M.loop);
    }
    model_settle();

    /* Main has seen everything end: nothing may be left on the loop. */
    rc = async_task_result(&M.t[0].task);
    MODEL_CHECK(NULL, rc == 0, "main ended with %s", model_rc(rc));
    rc = async_loop_close(&M.loop);
    MODEL_CHECK(NULL, rc == 0, "async_loop_close returned %s", model_rc(rc));
    for (i = 1; i < M.ntasks; i++) {
        MODEL_CHECK(&M.t[i], M.t[i].created, "never created");
        MODEL_CHECK(&M.t[i], model_state(i) == ASYNC_TASK_DONE, "left %s",
                    model_state_name(model_state(i)));
        rc = async_task_result(&M.t[i].task);
        MODEL_CHECK(&M.t[i], rc == model_expected_result(&M.t[i]),
                    "ended with %s, the model says %s", model_rc(rc),
                    model_rc(model_expected_result(&M.t[i])));
    }
    for (b = M.qbytes; b < sizeof M.qbuf; b++)
        MODEL_CHECK(NULL, M.qbuf[b] == 0xA5,
                    "the queue wrote byte %u past its storage",
                    (unsigned)(b - M.qbytes));
    model_stats.runs++;
    model_stats.turns += (unsigned long)M.turn;
    model_stats.wrapped += M.now64 > (uint64_t)ASYNC_FOREVER;
}

#endif
