/* SPDX-License-Identifier: MIT */
/*
 * async.c - the loop, tasks, timers, futures, gather, cancellation.
 *
 * How a task runs. A task points at its innermost frame. The loop calls that
 * frame's function; the body jumps to its resume point and evaluates the
 * awaited operation again. An operation either completes (returns a result)
 * or registers the task somewhere (a wait list, the timer heap, the ready
 * FIFO) and returns ASYNC_WAIT. Whoever later wakes the task stores a wake
 * value in it and appends it to the ready FIFO. When it runs, the loop
 * hands that value to the AWAIT through loop->wake (the common, cheap
 * case), or, if the operation asked for it with TF_POLL because it has
 * work to do on resume (take a queue item, pass on a lock), sets TF_WOKEN
 * and lets the AWAIT evaluate the operation again.
 *
 * Awaiting a child coroutine pushes its frame and returns ASYNC_WAIT; the
 * loop then runs the child at once, and when it finishes pops back to the
 * parent with the child's result as wake value. So resuming costs the same
 * at any depth, and the C stack never grows with it.
 *
 * Cancellation is a request (TF_CANCEL) until it can be delivered: a task
 * suspended in a wait list or the heap is detached at once and woken with
 * ASYNC_ECANCELED; otherwise the next operation that would suspend returns
 * ASYNC_ECANCELED instead. Nothing is delivered while a cleanup section of
 * the task's frame chain runs ("shielded"); the request is remembered.
 * A wait_for's own request (expiry, refusal) is scoped to the op it
 * bounds: only a cleanup section inside that op shields it (FRAME_CUT).
 */
#include "async.h"

/* task flags */
#define TF_WOKEN ASYNC__TF_WOKEN /* re-evaluating after a wake: value in u.run */
#define TF_CANCEL 0x02u /* cancellation requested, not yet delivered */
#define TF_SCOPED 0x04u /* a frame may hold a FRAME_CUT request */
#define TF_POLL ASYNC__TF_POLL /* on wake: re-evaluate the op, TF_WOKEN */
#define TF_DUE ASYNC__TF_DUE /* with TF_WOKEN: deliver a cancellation */
#define TF_PASSING 0x10u /* passing a cancellation inward, now */

/* Frame flags, beside ASYNC__FRAME_CLEANUP and ASYNC__FRAME_LIVE.
 * A wait_for cancels only the op it bounds, the frames inside its own:
 * its request waits in its frame (FRAME_CUT) while a cleanup section
 * inside shields the op, and the frame's own cleanup section, in which
 * the wait_for may run, does not. FRAME_REFUSING marks the frame whose
 * wait_for refused its op and waits for it to unwind, with the error to
 * report in the two bits above it. */
#define FRAME_CUT 0x04u
#define FRAME_REFUSING 0x08u
#define FRAME_REFUSAL_SHIFT 4
#define FRAME_REFUSAL (0x3u << FRAME_REFUSAL_SHIFT)

/* timer kinds, in bit 0 of the sequence number */
#define TIMER_TASK 0u
#define TIMER_TIMEOUT 1u
#define NO_SLOT UINT32_MAX

/* timeout states */
enum { TO_IDLE, TO_ARMED, TO_FIRED };

/* gather states */
enum { G_ZERO, G_READY, G_WAITING, G_DONE };
#define G_CANCELLED 0x80u

#define CONTAINER(ptr, type, member)                                          \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

void (*async_debug_hook)(int code, const char *what);

#if ASYNC_CONFIG_DEBUG
int async__misuse(int code, const char *what)
{
    if (async_debug_hook)
        async_debug_hook(code, what);
    return code;
}
#endif
#define misuse ASYNC__MISUSE

/* ---------------------------------------------------------------- errors */

/* Every code's name, then (unless configured out) its sentence, each
 * ending in a zero: first ASYNC_OK's, then one entry per code in the order
 * of ASYNC_ERRORS, then the one for codes not in the table. Entry -code
 * is therefore reached by skipping -code entries. */
#if ASYNC_CONFIG_ERROR_TEXT
#define ERROR_ENTRY(name, value, text) "ASYNC_" #name "\0" text "\0"
#define ERROR_STRINGS 2 /* strings per entry: the name, the sentence */
#else
#define ERROR_ENTRY(name, value, text) "ASYNC_" #name "\0"
#define ERROR_STRINGS 1
#endif
static const char errors[] = ERROR_ENTRY(OK, 0, "success")
    ASYNC_ERRORS(ERROR_ENTRY) ERROR_ENTRY(E?, 0, "unknown error");

/* The entries' positions, and a check that each code's is -code. */
#define ERROR_POSITION(name, value, text) ERROR_AT_##name,
enum { ERROR_AT_OK, ASYNC_ERRORS(ERROR_POSITION) ERROR_AT_UNKNOWN };
#define ERROR_IN_PLACE(name, value, text) && ERROR_AT_##name == -(value)
typedef char errors_in_order[1 ASYNC_ERRORS(ERROR_IN_PLACE) ? 1 : -1];

const char *async_strerror_name(int code)
{
    const char *s = errors;
    int n;
    if (code >= 0)
        n = ERROR_AT_OK;
    else if (code < -(ERROR_AT_UNKNOWN - 1))
        n = ERROR_AT_UNKNOWN;
    else
        n = -code;
    for (n *= ERROR_STRINGS; n > 0; n--) /* skip the entries before */
        while (*s++)
            ;
    return s;
}

const char *async_strerror(int code)
{
    const char *s = async_strerror_name(code);
#if ASYNC_CONFIG_ERROR_TEXT
    while (*s++)
        ;
#endif
    return s;
}

void *async__copy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

/* ------------------------------------------------------------ wait lists */
/* A wait list is a ring of waiters reached through a head pointer; the
 * head is the oldest waiter, so popping it serves waiters FIFO. */

static void wl_push(async_waiter_t **list, async_waiter_t *w)
{
    async_waiter_t *head = *list;
    if (!head) {
        w->next = w->prev = w;
        *list = w;
    } else {
        w->next = head;
        w->prev = head->prev;
        head->prev->next = w;
        head->prev = w;
    }
}

static void wl_remove(async_waiter_t **list, async_waiter_t *w)
{
    if (w->next == w) {
        *list = NULL;
    } else {
        w->prev->next = w->next;
        w->next->prev = w->prev;
        if (*list == w)
            *list = w->next;
    }
}

static async_task_t *task_of_waiter(async_waiter_t *w)
{
    return CONTAINER(w, async_task_t, u.wait);
}

/* ------------------------------------------------------------ ready FIFO */

static void ready_push(async_loop_t *loop, async_task_t *t)
{
    t->u.run.next = NULL;
    *loop->ready_link = t;
    loop->ready_link = &t->u.run.next;
}

/* Make t ready with a wake value. t must be detached from any list. */
static void wake(async_loop_t *loop, async_task_t *t, int value)
{
    t->state = ASYNC_TASK_READY;
    t->u.run.value = value;
    ready_push(loop, t);
}

/* Wake the oldest waiter of a list with value; returns it or NULL. */
async_task_t *async__wake_first(async_loop_t *loop, async_waiter_t **list,
                                int value)
{
    async_waiter_t *w = *list;
    async_task_t *t;
    if (!w)
        return NULL;
    wl_remove(list, w);
    t = task_of_waiter(w);
    wake(loop, t, value);
    return t;
}

void async__wake_all(async_loop_t *loop, async_waiter_t **list, int value)
{
    while (async__wake_first(loop, list, value))
        ;
}

/* ----------------------------------------------------------- timer heap */
/* A 4-ary min-heap of timer pointers in caller storage, ordered by
 * (deadline, start sequence); each timer knows its slot, so removal is
 * O(log n). Four children per node halve the levels of a binary heap:
 * inserting at random deadlines climbs about one level, and expiry touches
 * fewer scattered timers. */

#define HEAP_PARENT(i) (((i) - 1u) / 4u)
#define HEAP_CHILD(i) (4u * (i) + 1u)

static int tick_before(async_tick_t a, async_tick_t b)
{
    return (async_tick_t)(a - b) > (ASYNC_FOREVER >> 1);
}

static ASYNC__INLINE int timer_before(const async_timer_t *a,
                                       const async_timer_t *b)
{
    if (a->deadline != b->deadline)
        return tick_before(a->deadline, b->deadline);
    return (uint32_t)(a->seq - b->seq) > 0x7FFFFFFFu;
}

static void heap_up(async_timer_t **h, uint32_t i, async_timer_t *n)
{
    while (i > 0) {
        uint32_t p = HEAP_PARENT(i);
        if (!timer_before(n, h[p]))
            break;
        h[i] = h[p];
        h[i]->slot = i;
        i = p;
    }
    h[i] = n;
    n->slot = i;
}

static void heap_down(async_timer_t **h, uint32_t len, uint32_t i,
                      async_timer_t *n)
{
    for (;;) {
        uint32_t c = HEAP_CHILD(i), best, end;
        if (c >= len)
            break;
        end = c + 4u < len ? c + 4u : len;
        for (best = c++; c < end; c++)
            if (timer_before(h[c], h[best]))
                best = c;
        if (!timer_before(h[best], n))
            break;
        h[i] = h[best];
        h[i]->slot = i;
        i = best;
    }
    h[i] = n;
    n->slot = i;
}

/* Arm n to fire `ticks` after the current turn's tick. */
static int timer_start(async_loop_t *loop, async_timer_t *n,
                       async_tick_t ticks, uint32_t kind)
{
    if (loop->heap_len == loop->heap_cap)
        return misuse(ASYNC_ENOSPC, "timer heap is full: give the loop more");
    n->deadline = (async_tick_t)(loop->now + ticks);
    loop->seq += 2;
    n->seq = loop->seq | kind;
    heap_up(loop->heap, loop->heap_len++, n);
    return 0;
}

static void timer_stop(async_loop_t *loop, async_timer_t *n)
{
    uint32_t i = n->slot;
    async_timer_t *last;
    if (i == NO_SLOT)
        return;
    n->slot = NO_SLOT;
    last = loop->heap[--loop->heap_len];
    if (last == n)
        return;
    if (i > 0 && timer_before(last, loop->heap[HEAP_PARENT(i)]))
        heap_up(loop->heap, i, last);
    else
        heap_down(loop->heap, loop->heap_len, i, last);
}

/* ------------------------------------------------------------- tasks */

static async_task_t *task_of_link(async_link_t *l)
{
    return CONTAINER(l, async_task_t, all);
}

/* True while a cleanup section runs inside scope: in a frame of t's chain
 * below the frame scope (below none: the whole chain, for a request from
 * outside). A cancellation of that scope must wait. O(depth), and only
 * asked when a cancellation is requested or pending. */
static int shielded(const async_task_t *t, const async_frame_t *scope)
{
    const async_frame_t *f;
    for (f = t->inner; f && f != scope; f = f->parent)
        if (f->flags & ASYNC__FRAME_CLEANUP)
            return 1;
    return 0;
}

/* Deliver a pending cancellation now, if one may be: the innermost
 * wait_for's request that no cleanup section shields, else a request from
 * outside if none shields it. The hot callers test the flags first: the
 * answer is nearly always no. */
static int cancel_due(async_task_t *t)
{
    async_frame_t *f;
    if (!(t->flags & (TF_CANCEL | TF_SCOPED)))
        return 0;
    for (f = t->inner; f; f = f->parent) {
        if (f->flags & FRAME_CUT) {
            f->flags &= (uint16_t)~FRAME_CUT;
            return 1;
        }
        if (f->flags & ASYNC__FRAME_CLEANUP)
            return 0;
    }
    t->flags &= (uint8_t)~TF_SCOPED; /* the whole chain holds none */
    if (!(t->flags & TF_CANCEL))
        return 0;
    t->flags &= (uint8_t)~TF_CANCEL;
    return 1;
}

/* An operation resumed after a wake: the wake value, or ASYNC_ECANCELED
 * when a cancellation arrived after the wake but before the task ran. */
int async__resumed(async_task_t *t)
{
    uint8_t flags = t->flags;
    t->flags = (uint8_t)(flags & ~(TF_WOKEN | TF_DUE));
    if ((flags & TF_DUE) ||
        ((flags & (TF_CANCEL | TF_SCOPED)) && cancel_due(t)))
        return ASYNC_ECANCELED;
    return t->u.run.value;
}

const int async__lost_code = ASYNC_ESTATE; /* see async.h */

/* The tail of every operation that waits in a list: deliver a due
 * cancellation instead, or register t (with TF_POLL in poll if the
 * operation has work to do on resume) and return ASYNC_WAIT. */
int async__suspend(async_task_t *t, async_waiter_t **list, uint8_t state,
                   uint8_t poll)
{
    if ((t->flags & (TF_CANCEL | TF_SCOPED)) && cancel_due(t))
        return ASYNC_ECANCELED;
    t->flags |= poll;
    t->u.wait.list = list;
    wl_push(list, &t->u.wait);
    t->state = state;
    return ASYNC_WAIT;
}

#if ASYNC_CONFIG_GATHER
static void gather_child_done(async_loop_t *loop, async_gather_slot_t *s,
                              int result);
static void gather_cancel(async_loop_t *loop, async_gather_t *g);
#endif

static void finish(async_loop_t *loop, async_task_t *t, int result)
{
    async_waiter_t *w;
    if ((t->flags & TF_CANCEL) && result >= 0)
        result = ASYNC_ECANCELED; /* cancelled right before it ended */
    t->state = ASYNC_TASK_DONE;
    t->flags = 0;
    t->u.run.value = result;
    t->all.prev->next = t->all.next;
    t->all.next->prev = t->all.prev;
    t->all.next = t->all.prev = NULL;
    while ((w = t->waiters) != NULL) {
        wl_remove(&t->waiters, w);
#if ASYNC_CONFIG_GATHER
        if (!w->list) {
            w->next = NULL; /* the slot is out of the list */
            gather_child_done(loop, CONTAINER(w, async_gather_slot_t, link),
                              result);
            continue;
        }
#endif
        wake(loop, task_of_waiter(w), result);
    }
}

/* Decide how t resumes when it has flags set: the cold side of run_task.
 * Returns 0 if t must not run. */
static int prepare(async_loop_t *loop, async_task_t *t)
{
    int due;
    if (t->state == ASYNC_TASK_PENDING && (t->flags & TF_CANCEL)) {
        t->inner->flags = 0;
        finish(loop, t, ASYNC_ECANCELED); /* never started: no cleanup */
        return 0;
    }
    /* Woken, then cancelled: the cancellation is delivered at this await,
     * as the wake value or, if the op is evaluated again, through it. */
    due = (t->flags & (TF_CANCEL | TF_SCOPED)) &&
          t->state == ASYNC_TASK_READY && cancel_due(t);
    if (t->flags & TF_POLL) {
        t->flags = (uint8_t)((t->flags & ~TF_POLL) | TF_WOKEN |
                             (due ? TF_DUE : 0u));
        loop->wake = ASYNC_WAIT;
    } else {
        loop->wake = due ? ASYNC_ECANCELED : t->u.run.value;
    }
    return 1;
}

/* Resume t: run its innermost frame, descending into children it starts
 * and returning to parents as frames finish, until it suspends or ends.
 * This is the hot path. */
static void run_task(async_loop_t *loop, async_task_t *t)
{
    async_frame_t *f = t->inner;
    int rc;

    if (t->flags) {
        if (!prepare(loop, t))
            return;
    } else {
        loop->wake = t->u.run.value;
    }
    t->state = ASYNC_TASK_RUNNING;
    loop->current = t;
    for (;;) {
        rc = f->fn(loop, f);
        if (rc == ASYNC_WAIT) {
            if (t->inner == f)
                break;
            f = t->inner; /* a child was pushed: run it now */
            continue;
        }
        f->flags = 0; /* ended: the frame may be used again */
        f = f->parent;
        if (!f) {
            finish(loop, t, rc);
            break;
        }
        /* The parent re-evaluates its await: async_call returns the
         * child's result, and a wait_for around it disarms. */
        t->inner = f;
        t->u.run.value = rc;
        t->flags |= TF_WOKEN;
        loop->wake = ASYNC_WAIT;
    }
}

static void frame_start(async_frame_t *f, async_fn *fn, async_frame_t *parent)
{
    f->fn = fn;
    f->parent = parent;
    f->result = 0;
    f->lc = 0;
    f->flags = ASYNC__FRAME_LIVE;
#if ASYNC_CONFIG_DEBUG
    f->file = NULL;
    f->line = 0;
#endif
}

static int frame_busy(const async_frame_t *f)
{
    return (f->flags & ASYNC__FRAME_LIVE) != 0;
}

int async_task_create(async_loop_t *loop, async_task_t *t, async_fn *fn,
                      void *frame)
{
    if (!loop || !t || !fn || !frame || !loop->tasks.next)
        return misuse(ASYNC_EINVAL, "async_task_create: NULL argument or "
                                    "uninitialised loop");
    if (t->state != ASYNC_TASK_IDLE && t->state != ASYNC_TASK_DONE)
        return misuse(ASYNC_EBUSY, "async_task_create: task is still live");
    if (frame_busy(frame))
        return misuse(ASYNC_EBUSY, "async_task_create: frame is in use");
    frame_start(frame, fn, NULL);
    t->inner = frame;
    t->waiters = NULL;
    t->u.run.value = ASYNC_WAIT; /* the first AWAIT evaluates its op */
    t->state = ASYNC_TASK_PENDING;
    t->flags = loop->closing ? TF_CANCEL : 0u; /* run is ending: never runs */
#if ASYNC_CONFIG_TIMEOUT
    t->cancels = 0;
#endif
#if ASYNC_CONFIG_DEBUG
    t->held = 0;
#endif
    t->all.next = &loop->tasks;
    t->all.prev = loop->tasks.prev;
    loop->tasks.prev->next = &t->all;
    loop->tasks.prev = &t->all;
    ready_push(loop, t);
    return 0;
}

/* Request t's cancellation. Returns 0, doing nothing, if t is already
 * passing a cancellation inward: then the caller's task waits on t, t
 * (through others) on it, and the caller must take the request itself,
 * which breaks the cycle. */
static int cancel(async_loop_t *loop, async_task_t *t, async_frame_t *scope)
{
    int passed;
    if (t->flags & TF_PASSING)
        return 0;
    /* One from outside is pending (held back by a cleanup section, or the
     * task is about to run): another adds nothing, and is not counted, so
     * that no pile of repeats wraps the count wait_for compares. */
    if (!scope && (t->flags & TF_CANCEL))
        return 1;
#if ASYNC_CONFIG_TIMEOUT
    t->cancels++; /* what wait_for counts; wraps, only differences count */
#endif
    if (!shielded(t, scope)) {
        switch (t->state) {
        case ASYNC_TASK_SLEEPING:
            timer_stop(loop, &t->u.timer);
            wake(loop, t, ASYNC_ECANCELED);
            return 1;
        case ASYNC_TASK_AWAITING:
            /* As asyncio: the awaited task is cancelled instead, and its
             * outcome decides ours. */
            t->flags |= TF_PASSING;
            passed = cancel(loop, CONTAINER(t->u.wait.list, async_task_t,
                                            waiters), NULL);
            t->flags &= (uint8_t)~TF_PASSING;
            if (passed)
                return 1;
            ASYNC__FALLTHROUGH /* the circle closes at t: stop awaiting */
        case ASYNC_TASK_WAITING:
            wl_remove(t->u.wait.list, &t->u.wait);
            wake(loop, t, ASYNC_ECANCELED);
            return 1;
#if ASYNC_CONFIG_GATHER
        case ASYNC_TASK_GATHERING:
            t->flags |= TF_PASSING;
            gather_cancel(loop, t->u.gather);
            t->flags &= (uint8_t)~TF_PASSING;
            return 1;
#endif
        default:
            break;
        }
    }
    if (scope) {
        scope->flags |= FRAME_CUT;
        t->flags |= TF_SCOPED;
    } else {
        t->flags |= TF_CANCEL;
    }
    return 1;
}

int async_task_cancel(async_loop_t *loop, async_task_t *t)
{
    if (!loop || !t || t->state == ASYNC_TASK_IDLE)
        return misuse(ASYNC_EINVAL, "async_task_cancel: NULL or never created");
    if (t->state == ASYNC_TASK_DONE)
        return 0;
    return cancel(loop, t, NULL);
}

int async_task_state(const async_task_t *t)
{
    return t ? t->state : ASYNC_EINVAL;
}

int async_task_result(const async_task_t *t)
{
    if (!t)
        return ASYNC_EINVAL;
    if (t->state != ASYNC_TASK_DONE)
        return ASYNC_ESTATE;
    return t->u.run.value;
}

async_task_t *async_current(const async_loop_t *loop)
{
    return loop ? loop->current : NULL;
}

/* The running task for an awaitable operation, or NULL. */
static async_task_t *running(async_loop_t *loop)
{
    return loop ? loop->current : NULL;
}

int async_sleep(async_loop_t *loop, async_tick_t ticks)
{
    async_task_t *t = running(loop);
    int rc;
    if (!t)
        return misuse(ASYNC_ENOTASK, "async_sleep outside a task");
    if (!t->flags && (async_tick_t)(ticks - 1u) < ASYNC_MAX_DELAY) {
        rc = timer_start(loop, &t->u.timer, ticks, TIMER_TASK); /* usual */
    } else {
        if (t->flags & TF_WOKEN)
            return async__resumed(t);
        if (ticks > ASYNC_MAX_DELAY && ticks != ASYNC_FOREVER)
            return misuse(ASYNC_ERANGE, "async_sleep: delay > ASYNC_MAX_DELAY");
        if (cancel_due(t))
            return ASYNC_ECANCELED;
        if (ticks == 0) {
            wake(loop, t, 0);
            return ASYNC_WAIT;
        }
        rc = 0;
        if (ticks == ASYNC_FOREVER)
            t->u.timer.slot = NO_SLOT;
        else
            rc = timer_start(loop, &t->u.timer, ticks, TIMER_TASK);
    }
    if (rc < 0)
        return rc;
    t->state = ASYNC_TASK_SLEEPING;
    return ASYNC_WAIT;
}

int async_call(async_loop_t *loop, async_fn *fn, void *frame)
{
    async_task_t *t = running(loop);
    if (!t)
        return misuse(ASYNC_ENOTASK, "async_call outside a task");
    if (t->flags & TF_WOKEN) {
        /* The child finished. Nothing suspended between its end and here,
         * so a pending cancellation waits for the next suspension. */
        t->flags &= (uint8_t)~TF_WOKEN;
        return t->u.run.value;
    }
    if (!fn || !frame)
        return misuse(ASYNC_EINVAL, "async_call: NULL function or frame");
    if (frame_busy(frame))
        return misuse(ASYNC_EBUSY, "async_call: child frame is in use");
    frame_start(frame, fn, t->inner);
    t->inner = frame;
    return ASYNC_WAIT;
}

int async_task_wait(async_loop_t *loop, async_task_t *other)
{
    async_task_t *t = running(loop);
    if (!t)
        return misuse(ASYNC_ENOTASK, "async_task_wait outside a task");
    if (t->flags & TF_WOKEN)
        return async__resumed(t);
    if (!other || other->state == ASYNC_TASK_IDLE)
        return misuse(ASYNC_EINVAL, "async_task_wait: NULL or never created");
    if (other == t)
        return misuse(ASYNC_ESELF, "async_task_wait: a task awaits itself");
    if (other->state == ASYNC_TASK_DONE)
        return other->u.run.value;
    t->u.wait.list = &other->waiters;
    wl_push(&other->waiters, &t->u.wait);
    t->state = ASYNC_TASK_AWAITING;
    /* A request due here goes to the awaited task, as one arriving during
     * the await would (asyncio cancels the awaited task); its outcome is
     * ours. TF_PASSING closes a circle of tasks awaiting each other. */
    if ((t->flags & (TF_CANCEL | TF_SCOPED)) && cancel_due(t)) {
        t->flags |= TF_PASSING;
        (void)cancel(loop, other, NULL);
        t->flags &= (uint8_t)~TF_PASSING;
    }
    return ASYNC_WAIT;
}

/* Append cb to the loop's callback FIFO. */
static void call_later(async_loop_t *loop, async_callback_t *cb)
{
    cb->next = NULL;
    *loop->calls_link = cb;
    loop->calls_link = &cb->next;
}

/* ------------------------------------------------ claims and the posted stack
 * A callback is claimed before it joins any list, by the loop and by
 * posters alike, so exactly one of them links it: queued goes from
 * CB_FREE to CB_QUEUED (to run) or CB_ATTACHED (on a pending future's
 * list, which a post must not take). Interrupts and threads push onto the
 * posted stack; the loop takes it whole. Under the port's critical
 * section where it has one, else lock-free (async.h requires one of the
 * two for posting).
 *
 * claim(cb, how): FREE -> how; true if it was free.
 * post_claim(cb): FREE or QUEUED -> QUEUED; returns what it was. Queued
 *   again over itself, so that a coalescing poster writes too: the loop's
 *   release then reads its write and sees the data published before it.
 * attached_to_run(cb): ATTACHED -> QUEUED, when the future completes.
 * post_release(cb): -> FREE, before the callback runs. */
enum { CB_FREE, CB_QUEUED, CB_ATTACHED };

#if ASYNC_CONFIG_POST && defined(ASYNC_PORT_LOCK)
static int claim(async_callback_t *cb, uint32_t how)
{
    uint32_t was;
    ASYNC_PORT_LOCK();
    was = cb->queued;
    if (was == CB_FREE)
        cb->queued = how;
    ASYNC_PORT_UNLOCK();
    return was == CB_FREE;
}
static uint32_t post_claim(async_callback_t *cb)
{
    uint32_t was;
    ASYNC_PORT_LOCK();
    was = cb->queued;
    if (was != CB_ATTACHED)
        cb->queued = CB_QUEUED;
    ASYNC_PORT_UNLOCK();
    return was;
}
static void set_queued(async_callback_t *cb, uint32_t v)
{
    ASYNC_PORT_LOCK();
    cb->queued = v;
    ASYNC_PORT_UNLOCK();
}
static void post_push(async_loop_t *loop, async_callback_t *cb)
{
    ASYNC_PORT_LOCK();
    cb->next = loop->posted;
    loop->posted = cb;
    ASYNC_PORT_UNLOCK();
}
static async_callback_t *post_take(async_loop_t *loop)
{
    async_callback_t *list;
    ASYNC_PORT_LOCK();
    list = loop->posted;
    loop->posted = NULL;
    ASYNC_PORT_UNLOCK();
    return list;
}
static int post_pending(async_loop_t *loop)
{
    int any;
    ASYNC_PORT_LOCK();
    any = loop->posted != NULL;
    ASYNC_PORT_UNLOCK();
    return any;
}
#elif ASYNC_CONFIG_POST /* async.h made sure: pointer atomics */
static int claim(async_callback_t *cb, uint32_t how)
{
    uint32_t was = CB_FREE;
    return __atomic_compare_exchange_n(&cb->queued, &was, how, 0,
                                       __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}
static uint32_t post_claim(async_callback_t *cb)
{
    uint32_t was = __atomic_load_n(&cb->queued, __ATOMIC_RELAXED);
    do
        if (was == CB_ATTACHED)
            return was;
    while (!__atomic_compare_exchange_n(&cb->queued, &was, CB_QUEUED, 1,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
    return was;
}
static void set_queued(async_callback_t *cb, uint32_t v)
{
    /* An exchange, not a store, when releasing: a poster that coalesced
     * must be ordered before the run that follows, or the run could read
     * its data stale (a store may wait in a store buffer while the loads
     * after it go ahead) and the post would vanish. */
    (void)__atomic_exchange_n(&cb->queued, v, __ATOMIC_ACQ_REL);
}
static void post_push(async_loop_t *loop, async_callback_t *cb)
{
    async_callback_t *head = __atomic_load_n(&loop->posted, __ATOMIC_RELAXED);
    do
        cb->next = head;
    while (!__atomic_compare_exchange_n(&loop->posted, &head, cb, 1,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}
static async_callback_t *post_take(async_loop_t *loop)
{
    if (!__atomic_load_n(&loop->posted, __ATOMIC_RELAXED))
        return NULL; /* the usual turn: no locked instruction */
    return __atomic_exchange_n(&loop->posted, NULL, __ATOMIC_ACQUIRE);
}
static int post_pending(async_loop_t *loop)
{
    return __atomic_load_n(&loop->posted, __ATOMIC_ACQUIRE) != NULL;
}
#else /* no posting: everything happens on the loop's thread */
static int claim(async_callback_t *cb, uint32_t how)
{
    if (cb->queued != CB_FREE)
        return 0;
    cb->queued = how;
    return 1;
}
static void set_queued(async_callback_t *cb, uint32_t v)
{
    cb->queued = v;
}
#define post_pending(loop) 0
#endif
#define post_release(cb) set_queued((cb), CB_FREE)

/* -------------------------------------------------------------- futures */

#if ASYNC_CONFIG_FUTURE
enum { F_ZERO, F_PENDING, F_DONE };


int async_future_init(async_future_t *fut, async_loop_t *loop)
{
    if (!fut || !loop || !loop->tasks.next)
        return misuse(ASYNC_EINVAL, "async_future_init: NULL argument or "
                                    "uninitialised loop");
    if (fut->state == F_PENDING && (fut->waiters || fut->callbacks))
        return misuse(ASYNC_EBUSY, "async_future_init: future is awaited");
    fut->waiters = NULL;
    fut->callbacks = NULL;
    fut->loop = loop;
    fut->result = 0;
    fut->state = F_PENDING;
    return 0;
}

int async_future_set(async_future_t *fut, int result)
{
    async_callback_t *cb;
    if (!fut || fut->state == F_ZERO || result == ASYNC_WAIT)
        return misuse(ASYNC_EINVAL, "async_future_set: not initialised");
    if (fut->state == F_DONE)
        return misuse(ASYNC_ESTATE, "async_future_set: already done");
    fut->result = result;
    fut->state = F_DONE;
    async__wake_all(fut->loop, &fut->waiters, result);
    while ((cb = fut->callbacks) != NULL) {
        fut->callbacks = cb->next;
        set_queued(cb, CB_QUEUED); /* posts may coalesce into it now */
        call_later(fut->loop, cb);
    }
    return 0;
}

int async_future_cancel(async_future_t *fut)
{
    if (!fut || fut->state == F_ZERO)
        return misuse(ASYNC_EINVAL, "async_future_cancel: not initialised");
    if (fut->state == F_DONE)
        return 0;
    async_future_set(fut, ASYNC_ECANCELED);
    return 1;
}

int async_future_wait(async_loop_t *loop, async_future_t *fut)
{
    async_task_t *t = running(loop);
    if (!t)
        return misuse(ASYNC_ENOTASK, "async_future_wait outside a task");
    if (t->flags & TF_WOKEN)
        return async__resumed(t);
    if (!fut || fut->state == F_ZERO || fut->loop != loop)
        return misuse(ASYNC_EINVAL, "async_future_wait: not initialised, "
                                    "or another loop's");
    if (fut->state == F_DONE)
        return fut->result;
    return async__suspend(t, &fut->waiters, ASYNC_TASK_WAITING, 0);
}

int async_future_add_callback(async_future_t *fut, async_callback_t *cb)
{
    async_callback_t **p;
    if (!fut || fut->state == F_ZERO || !cb || !cb->fn)
        return misuse(ASYNC_EINVAL, "async_future_add_callback: bad argument");
    if (!claim(cb, fut->state == F_DONE ? CB_QUEUED : CB_ATTACHED))
        return misuse(ASYNC_EBUSY, "async_future_add_callback: cb in use");
    if (fut->state == F_DONE) {
        call_later(fut->loop, cb);
        return 0;
    }
    cb->next = NULL;
    for (p = &fut->callbacks; *p; p = &(*p)->next)
        ;
    *p = cb;
    return 0;
}

int async_future_done(const async_future_t *fut)
{
    if (!fut || fut->state == F_ZERO)
        return ASYNC_EINVAL;
    return fut->state == F_DONE;
}

int async_future_result(const async_future_t *fut)
{
    if (!fut || fut->state == F_ZERO)
        return ASYNC_EINVAL;
    if (fut->state != F_DONE)
        return ASYNC_ESTATE;
    return fut->result;
}

#endif /* ASYNC_CONFIG_FUTURE */

#if ASYNC_CONFIG_SYNC
/* ---------------------------------------------------------------- event */

int async_event_init(async_event_t *ev, async_loop_t *loop)
{
    if (!ev || !loop)
        return misuse(ASYNC_EINVAL, "async_event_init: NULL argument");
    if (ev->init && ev->waiters)
        return misuse(ASYNC_EBUSY, "async_event_init: tasks wait on it");
    ev->waiters = NULL;
    ev->loop = loop;
    ev->set = 0;
    ev->init = 1;
    return 0;
}

int async_event_set(async_event_t *ev)
{
    if (!ev || !ev->init)
        return misuse(ASYNC_EINVAL, "async_event_set: not initialised");
    ev->set = 1;
    async__wake_all(ev->loop, &ev->waiters, 0);
    return 0;
}

int async_event_clear(async_event_t *ev)
{
    if (!ev || !ev->init)
        return misuse(ASYNC_EINVAL, "async_event_clear: not initialised");
    ev->set = 0;
    return 0;
}

int async_event_is_set(const async_event_t *ev)
{
    if (!ev || !ev->init)
        return ASYNC_EINVAL;
    return ev->set;
}

int async_event_wait(async_loop_t *loop, async_event_t *ev)
{
    async_task_t *t = running(loop);
    if (!t)
        return misuse(ASYNC_ENOTASK, "async_event_wait outside a task");
    if (t->flags & TF_WOKEN)
        return async__resumed(t);
    if (!ev || !ev->init || ev->loop != loop)
        return misuse(ASYNC_EINVAL, "async_event_wait: not initialised, "
                                    "or another loop's");
    if (ev->set)
        return 0;
    return async__suspend(t, &ev->waiters, ASYNC_TASK_WAITING, 0);
}

/* ----------------------------------------------------------------- lock */
/* Release hands the lock straight to the oldest waiter, so a task that
 * arrives later cannot take it first. */

static void lock_pass(async_lock_t *lock)
{
    lock->owner = async__wake_first(lock->loop, &lock->waiters, 0);
}

int async_lock_init(async_lock_t *lock, async_loop_t *loop)
{
    if (!lock || !loop)
        return misuse(ASYNC_EINVAL, "async_lock_init: NULL argument");
    if (lock->init && (lock->owner || lock->waiters))
        return misuse(ASYNC_EBUSY, "async_lock_init: lock is in use");
    lock->waiters = NULL;
    lock->loop = loop;
    lock->owner = NULL;
    lock->init = 1;
    return 0;
}

int async_lock_acquire(async_loop_t *loop, async_lock_t *lock)
{
    async_task_t *t = running(loop);
    int rc;
    if (!t)
        return misuse(ASYNC_ENOTASK, "async_lock_acquire outside a task");
    if (t->flags & TF_WOKEN) {
        rc = async__resumed(t);
        if (rc == ASYNC_ECANCELED && lock->owner == t)
            lock_pass(lock); /* handed the lock, then cancelled: pass it on */
        return rc;
    }
    if (!lock || !lock->init || lock->loop != loop)
        return misuse(ASYNC_EINVAL, "async_lock_acquire: not initialised, "
                                    "or another loop's");
    if (lock->owner == t)
        return misuse(ASYNC_EBUSY, "async_lock_acquire: already held");
    if (!lock->owner) {
        lock->owner = t;
        return 0;
    }
    /* on resume: pass the lock on if cancelled */
    return async__suspend(t, &lock->waiters, ASYNC_TASK_WAITING, TF_POLL);
}

int async_lock_release(async_loop_t *loop, async_lock_t *lock)
{
    if (!loop || !lock || !lock->init || lock->loop != loop)
        return misuse(ASYNC_EINVAL, "async_lock_release: not initialised, "
                                    "or another loop's");
    if (!lock->owner || lock->owner != loop->current)
        return misuse(ASYNC_ESTATE, "async_lock_release: caller is not owner");
    lock_pass(lock);
    return 0;
}

int async_lock_locked(const async_lock_t *lock)
{
    if (!lock || !lock->init)
        return ASYNC_EINVAL;
    return lock->owner != NULL;
}

/* ------------------------------------------------------------ semaphore */

int async_semaphore_init(async_semaphore_t *sem, async_loop_t *loop,
                         uint32_t value)
{
    if (!sem || !loop || value > INT_MAX)
        return misuse(ASYNC_EINVAL, "async_semaphore_init: bad argument");
    if (sem->init && (sem->waiters || sem->handed))
        return misuse(ASYNC_EBUSY, "async_semaphore_init: tasks wait on it");
    sem->waiters = NULL;
    sem->loop = loop;
    sem->value = value;
    sem->handed = 0;
    sem->init = 1;
    return 0;
}

int async_semaphore_release(async_semaphore_t *sem)
{
    if (!sem || !sem->init)
        return misuse(ASYNC_EINVAL, "async_semaphore_release: not initialised");
    if (async__wake_first(sem->loop, &sem->waiters, 0)) {
        sem->handed++; /* straight to the oldest waiter */
        return 0;
    }
    if (sem->value == INT_MAX)
        return misuse(ASYNC_ERANGE, "async_semaphore_release: overflow");
    sem->value++;
    return 0;
}

int async_semaphore_acquire(async_loop_t *loop, async_semaphore_t *sem)
{
    async_task_t *t = running(loop);
    int handed, rc;
    if (!t)
        return misuse(ASYNC_ENOTASK, "async_semaphore_acquire outside a task");
    if (t->flags & TF_WOKEN) {
        handed = t->u.run.value == 0;
        rc = async__resumed(t);
        if (handed) {
            sem->handed--;
            if (rc == ASYNC_ECANCELED)
                async_semaphore_release(sem); /* pass the permit on */
        }
        return rc;
    }
    if (!sem || !sem->init || sem->loop != loop)
        return misuse(ASYNC_EINVAL, "async_semaphore_acquire: not "
                                    "initialised, or another loop's");
    if (sem->value > 0) {
        sem->value--;
        return 0;
    }
    /* on resume: pass the permit on if cancelled */
    return async__suspend(t, &sem->waiters, ASYNC_TASK_WAITING, TF_POLL);
}

int async_semaphore_value(const async_semaphore_t *sem)
{
    if (!sem || !sem->init)
        return ASYNC_EINVAL;
    return (int)sem->value;
}

#endif /* ASYNC_CONFIG_SYNC */

#if ASYNC_CONFIG_GATHER
/* --------------------------------------------------------------- gather */

int async_gather_init(async_gather_t *g, async_gather_slot_t *slot,
                      uint32_t n, unsigned flags)
{
    if (!g || (n && !slot) || (flags & ~ASYNC_GATHER_ALL) || n > INT_MAX)
        return misuse(ASYNC_EINVAL, "async_gather_init: bad argument");
    if ((g->state & 0x7Fu) == G_WAITING)
        return misuse(ASYNC_EBUSY, "async_gather_init: gather is awaited");
    g->slot = slot;
    g->waiter = NULL;
    g->n = n;
    g->pending = 0;
    g->error = 0;
    g->flags = (uint8_t)flags;
    g->state = G_READY;
    return 0;
}

/* Stop listening to the tasks still running. */
static void gather_detach(async_gather_t *g)
{
    uint32_t i;
    for (i = 0; i < g->n; i++) {
        async_gather_slot_t *s = &g->slot[i];
        if (s->link.next) {
            wl_remove(&s->task->waiters, &s->link);
            s->link.next = NULL;
        }
    }
}

static void gather_complete(async_loop_t *loop, async_gather_t *g, int rc)
{
    async_task_t *t = g->waiter;
    g->state = G_DONE;
    gather_detach(g);
    if (t && t->state == ASYNC_TASK_GATHERING)
        wake(loop, t, rc);
}

static int gather_outcome(const async_gather_t *g)
{
    if (g->state & G_CANCELLED)
        return ASYNC_ECANCELED;
    if (g->flags & ASYNC_GATHER_ALL)
        return 0;
    return g->error;
}

static void gather_child_done(async_loop_t *loop, async_gather_slot_t *s,
                              int result)
{
    async_gather_t *g = s->gather;
    s->result = result;
    g->pending--;
    if (result < 0 && g->error == 0)
        g->error = result;
    if (g->pending == 0 ||
        (result < 0 && !(g->flags & ASYNC_GATHER_ALL) &&
         !(g->state & G_CANCELLED)))
        gather_complete(loop, g, gather_outcome(g));
}

static void gather_cancel(async_loop_t *loop, async_gather_t *g)
{
    uint32_t i;
    g->state |= G_CANCELLED;
    for (i = 0; i < g->n; i++) {
        async_gather_slot_t *s = &g->slot[i];
        if (s->link.next && !cancel(loop, s->task, NULL)) {
            /* That child awaits our task: waiting for it is a cycle.
             * Stop listening to it and wait for the others. */
            wl_remove(&s->task->waiters, &s->link);
            s->link.next = NULL;
            if (--g->pending == 0)
                gather_complete(loop, g, ASYNC_ECANCELED);
        }
    }
}

int async_gather(async_loop_t *loop, async_gather_t *g,
                 async_task_t *const *tasks)
{
    async_task_t *t = running(loop);
    uint32_t i;
    if (!t)
        return misuse(ASYNC_ENOTASK, "async_gather outside a task");
    if (t->flags & TF_WOKEN)
        return async__resumed(t);
    if (!g || g->state != G_READY || (g->n && !tasks))
        return misuse(ASYNC_EINVAL, "async_gather: gather not initialised");
    for (i = 0; i < g->n; i++)
        if (!tasks[i] || tasks[i]->state == ASYNC_TASK_IDLE || tasks[i] == t)
            return misuse(ASYNC_EINVAL, "async_gather: bad task in the list");
    g->pending = 0;
    g->error = 0;
    for (i = 0; i < g->n; i++) {
        async_gather_slot_t *s = &g->slot[i];
        s->task = tasks[i];
        s->gather = g;
        s->result = ASYNC_ESTATE;
        if (s->task->state == ASYNC_TASK_DONE) {
            s->link.next = NULL;
            s->result = s->task->u.run.value;
            if (s->result < 0 && g->error == 0)
                g->error = s->result;
        } else {
            s->link.list = NULL; /* marks a gather slot in a waiter list */
            wl_push(&s->task->waiters, &s->link);
            g->pending++;
        }
    }
    g->waiter = t;
    g->state = G_WAITING;
    if (g->pending == 0 || (g->error && !(g->flags & ASYNC_GATHER_ALL))) {
        gather_detach(g);
        g->state = G_DONE;
        return gather_outcome(g);
    }
    t->u.gather = g;
    t->state = ASYNC_TASK_GATHERING;
    if (cancel_due(t))
        gather_cancel(loop, g);
    return ASYNC_WAIT;
}

int async_gather_result(const async_gather_t *g, uint32_t i)
{
    if (!g || i >= g->n || (g->state & 0x7Fu) < G_WAITING)
        return ASYNC_EINVAL;
    return g->slot[i].result;
}

#endif /* ASYNC_CONFIG_GATHER */

#if ASYNC_CONFIG_TIMEOUT
/* ------------------------------------------------------------- timeouts */

static void timeout_fire(async_loop_t *loop, async_timeout_t *to)
{
    to->state = TO_FIRED;
    cancel(loop, to->task, to->frame);
}

/* The frame whose AWAIT runs wait_for while its op waits: a child
 * coroutine's op has just been pushed (the task still runs), any other
 * op has suspended the task in its own frame. */
static async_frame_t *awaiting_frame(const async_task_t *t)
{
    return t->state == ASYNC_TASK_RUNNING ? t->inner->parent : t->inner;
}

/* The refusals, kept in two bits of the refusing frame's flags. */
enum { NO_TIMEOUT, TOO_LONG, HEAP_FULL, NOT_OURS };
static const signed char refusals[] = {ASYNC_EINVAL, ASYNC_ERANGE,
                                       ASYNC_ENOSPC, ASYNC_EBUSY};

/* wait_for refuses an operation that has already suspended: cancel it so
 * that it unwinds (its cleanup runs), then report refusals[why] once it
 * has. Like an expiry, the refusal is one cancellation request; any
 * request from outside, pending already or arriving later, is counted
 * from t->mark. */
static int refuse(async_loop_t *loop, async_task_t *t, int op, unsigned why)
{
    async_frame_t *f;
    if (why != HEAP_FULL) /* a full heap: timer_start has reported it */
        (void)misuse(refusals[why],
                     why == NO_TIMEOUT ? "async_wait_for: NULL timeout"
                     : why == TOO_LONG ? "async_wait_for: delay longer "
                                         "than ASYNC_MAX_DELAY"
                                       : "async_wait_for: the timeout is "
                                         "armed by another task");
    if (op != ASYNC_WAIT)
        return op; /* done at once: nothing to bound, and nothing to lose */
    f = awaiting_frame(t);
    f->flags |= (uint16_t)(FRAME_REFUSING | why << FRAME_REFUSAL_SHIFT);
    t->mark = (uint8_t)(t->cancels - ((t->flags & TF_CANCEL) != 0));
    cancel(loop, t, f);
    t->flags |= TF_POLL;
    return ASYNC_WAIT;
}

/* op has ended after our own request (expiry or refusal), and others
 * says whether another came too. Take ours back and say what the AWAIT
 * returns: op's own result if it ended otherwise than cancelled; else
 * code, unless another request ended op and may be delivered here (no
 * cleanup section around shields it): then ASYNC_ECANCELED. A shielded
 * request stays pending until the section ends. */
static int take_back(async_task_t *t, int op, int others, int code)
{
    t->inner->flags &= (uint16_t)~FRAME_CUT; /* ours, if never delivered */
    t->cancels--;
    if (op != ASYNC_ECANCELED)
        return op; /* it completed before our request reached it */
    if (!others || shielded(t, NULL))
        return code;
    t->flags &= (uint8_t)~TF_CANCEL; /* delivered here */
    return ASYNC_ECANCELED;
}

int async_wait_for(async_loop_t *loop, async_timeout_t *to, async_tick_t ticks,
                   int op)
{
    async_task_t *t = running(loop);
    async_frame_t *f;
    int rc, others;
    if (!t)
        return misuse(ASYNC_ENOTASK, "async_wait_for outside a task");
    f = t->inner;
    /* The refusing wait_for of this frame; not one nested inside it in
     * the same AWAIT, whose timeout this task has armed. */
    if ((f->flags & FRAME_REFUSING) &&
        !(to && to->state != TO_IDLE && to->task == t)) {
        if (op == ASYNC_WAIT) {
            t->flags |= TF_POLL;
            return ASYNC_WAIT; /* the refused op is still unwinding */
        }
        rc = refusals[(f->flags & FRAME_REFUSAL) >> FRAME_REFUSAL_SHIFT];
        f->flags &= (uint16_t)~(FRAME_REFUSING | FRAME_REFUSAL);
        t->flags &= (uint8_t)~TF_POLL;
        others = (uint8_t)(t->cancels - t->mark) > 1u;
        return take_back(t, op, others, rc);
    }
    if (!to)
        return refuse(loop, t, op, NO_TIMEOUT);
    if (to->state != TO_IDLE && to->task != t)
        return refuse(loop, t, op, NOT_OURS); /* another task's */
    if (op == ASYNC_WAIT) {
        if (to->state != TO_IDLE) {
            t->flags |= TF_POLL; /* still waiting: keep coming back */
            return ASYNC_WAIT;
        }
        if (ticks == ASYNC_FOREVER)
            return ASYNC_WAIT;
        if (ticks > ASYNC_MAX_DELAY)
            return refuse(loop, t, op, TOO_LONG);
        rc = timer_start(loop, &to->timer, ticks, TIMER_TIMEOUT);
        if (rc < 0)
            return refuse(loop, t, op, HEAP_FULL);
        to->task = t;
        to->frame = awaiting_frame(t);
        /* A request already pending (held back by a cleanup section)
         * counts as one from outside. */
        to->cancels = (uint8_t)(t->cancels - ((t->flags & TF_CANCEL) != 0));
        to->state = TO_ARMED;
        t->flags |= TF_POLL; /* on resume: come back here to disarm */
        return ASYNC_WAIT;
    }
    /* op finished */
    t->flags &= (uint8_t)~TF_POLL; /* ours, if op never suspended */
    if (to->state == TO_ARMED) {
        timer_stop(loop, &to->timer);
    } else if (to->state == TO_FIRED) {
        /* Our expiry was one cancellation request; any more came from
         * outside and must not be reported as a timeout. */
        others = (uint8_t)(t->cancels - to->cancels) > 1u;
        op = take_back(t, op, others, ASYNC_ETIMEDOUT);
    }
    to->state = TO_IDLE;
    return op;
}

#endif /* ASYNC_CONFIG_TIMEOUT */

/* ----------------------------------------------------------------- loop */

static int registered(async_loop_t *loop);

int async_loop_init(async_loop_t *loop, async_timer_t **heap,
                    uint32_t capacity)
{
    if (!loop || (capacity && !heap))
        return misuse(ASYNC_EINVAL, "async_loop_init: bad argument");
    if (loop->tasks.next && registered(loop))
        return misuse(ASYNC_EBUSY, "async_loop_init: the loop is in use");
    loop->ready = NULL;
    loop->ready_link = &loop->ready;
    loop->calls = NULL;
    loop->calls_link = &loop->calls;
    loop->posted = NULL;
    loop->heap = heap;
    loop->heap_len = 0;
    loop->heap_cap = capacity;
    loop->seq = 0;
    loop->tasks.next = loop->tasks.prev = &loop->tasks;
    loop->now = 0;
    loop->port = NULL;
    loop->current = NULL;
    loop->wake = ASYNC_WAIT;
    loop->turn = loop->closing = 0;
    return 0;
}

int async_loop_set_port(async_loop_t *loop, const async_port_t *port)
{
    if (!loop || (port && !port->now))
        return misuse(ASYNC_EINVAL, "async_loop_set_port: bad argument");
    loop->port = port;
    if (port)
        loop->now = port->now(port->ctx);
    return 0;
}

int async_loop_set_time(async_loop_t *loop, async_tick_t t)
{
    if (!loop || loop->port)
        return misuse(ASYNC_EINVAL, "async_loop_set_time: needs virtual time");
    if (loop->heap_len)
        return misuse(ASYNC_EBUSY, "async_loop_set_time: timers pending");
    loop->now = t;
    return 0;
}

const async_port_t *async_loop_port(const async_loop_t *loop)
{
    return loop ? loop->port : NULL;
}

async_tick_t async_loop_now(const async_loop_t *loop)
{
    return loop ? loop->now : 0;
}

int async_callback_init(async_callback_t *cb, async_callback_fn *fn, void *arg)
{
    if (!cb || !fn)
        return misuse(ASYNC_EINVAL, "async_callback_init: NULL argument");
    if (cb->queued)
        return misuse(ASYNC_EBUSY, "async_callback_init: callback is queued");
    cb->next = NULL;
    cb->fn = fn;
    cb->arg = arg;
    return 0;
}

int async_call_soon(async_loop_t *loop, async_callback_t *cb)
{
    if (!loop || !loop->tasks.next || !cb || !cb->fn)
        return misuse(ASYNC_EINVAL, "async_call_soon: bad argument or "
                                    "uninitialised loop");
    if (!claim(cb, CB_QUEUED))
        return misuse(ASYNC_EBUSY, "async_call_soon: callback already queued");
    call_later(loop, cb);
    return 0;
}

#if ASYNC_CONFIG_POST
int async_post(async_loop_t *loop, async_callback_t *cb)
{
    const async_port_t *port;
    uint32_t was;
    /* Nothing the loop thread writes may be read here: no check that the
     * loop is initialised (its task list changes as tasks come and go). */
    if (!loop || !cb || !cb->fn)
        return ASYNC_EINVAL;
    /* Read first: once cb is in, the loop may run it, return from its run
     * and be gone (only the port must outlive the post). */
    port = loop->port;
    was = post_claim(cb);
    if (was == CB_ATTACHED)
        return ASYNC_EBUSY; /* a pending future's: not ours to run */
    if (was == CB_FREE)
        post_push(loop, cb);
    /* Wake even when coalesced: the loop may be about to idle. */
    if (port && port->wake)
        port->wake(port->ctx);
    return 0;
}

/* Move posts onto the callback FIFO, oldest first. */
static void take_posts(async_loop_t *loop)
{
    async_callback_t *list = post_take(loop), *rev = NULL, *next;
    for (; list; list = next) {
        next = list->next;
        list->next = rev;
        rev = list;
    }
    for (; rev; rev = next) {
        next = rev->next;
        call_later(loop, rev);
    }
}

#else
#define take_posts(loop) ((void)0)
#endif /* ASYNC_CONFIG_POST */

/* Something to run on the next turn, without waiting for a timer. */
static int has_work(async_loop_t *loop)
{
    return loop->ready || loop->calls || post_pending(loop);
}

/* Anything at all that async_loop_close refuses. */
static int registered(async_loop_t *loop)
{
    return loop->tasks.next != &loop->tasks || loop->heap_len || loop->calls ||
           post_pending(loop);
}

int async_loop_run_once(async_loop_t *loop)
{
    async_callback_t *cb;
    async_task_t *t;
    int ran = 0;

    if (!loop || !loop->tasks.next)
        return misuse(ASYNC_EINVAL, "async_loop_run_once: not initialised");
    if (loop->turn)
        return misuse(ASYNC_ESTATE, "async_loop_run_once inside a turn");
    loop->turn = 1;
    if (loop->port)
        loop->now = loop->port->now(loop->port->ctx);
    else if (loop->heap_len && !has_work(loop) &&
             tick_before(loop->now, loop->heap[0]->deadline))
        loop->now = loop->heap[0]->deadline; /* virtual time: jump */
    take_posts(loop);

    /* Phase one: collect what is due. Firing only makes tasks ready, so a
     * timer started while these fire waits for the next turn. */
    while (loop->heap_len && !tick_before(loop->now, loop->heap[0]->deadline)) {
        async_timer_t *n = loop->heap[0];
        timer_stop(loop, n);
#if ASYNC_CONFIG_TIMEOUT
        if (n->seq & TIMER_TIMEOUT) {
            timeout_fire(loop, CONTAINER(n, async_timeout_t, timer));
            continue;
        }
#endif
        wake(loop, CONTAINER(n, async_task_t, u.timer), 0);
    }

    /* Phase two: run what was due when the turn began, once each. Each
     * list is taken whole, so whatever becomes ready meanwhile waits for
     * the next turn. */
    cb = loop->calls;
    loop->calls = NULL;
    loop->calls_link = &loop->calls;
    while (cb) {
        async_callback_t *next = cb->next;
        /* Released before the call, so a post that lands while it runs
         * queues it again rather than vanishing. */
        post_release(cb);
        cb->fn(loop, cb);
        ran++;
        cb = next;
    }
    t = loop->ready;
    loop->ready = NULL;
    loop->ready_link = &loop->ready;
    while (t) {
        async_task_t *next = t->u.run.next;
        run_task(loop, t);
        ran++;
        t = next;
    }
    loop->current = NULL;
    loop->turn = 0;
    return ran;
}

async_tick_t async_loop_next_timeout(const async_loop_t *loop)
{
    async_tick_t now, deadline;
    if (!loop)
        return ASYNC_FOREVER;
    if (has_work((async_loop_t *)loop))
        return 0;
    if (!loop->heap_len)
        return ASYNC_FOREVER;
    now = loop->port ? loop->port->now(loop->port->ctx) : loop->now;
    deadline = loop->heap[0]->deadline;
    if (!tick_before(now, deadline))
        return 0;
    return (async_tick_t)(deadline - now);
}

/* Wait until the loop has work. Returns 0, or ASYNC_EDEADLK when nothing
 * can ever wake it. */
static int wait_for_work(async_loop_t *loop)
{
    const async_port_t *port = loop->port;
    async_tick_t ticks = async_loop_next_timeout(loop);
    if (ticks == 0)
        return 0;
    /* Nothing ready and no timer (FOREVER): only a port's wake could
     * help. With a timer pending, virtual time jumps in run_once. */
    if (ticks == ASYNC_FOREVER && (!port || !port->wake))
        return ASYNC_EDEADLK;
    if (port && port->idle)
        port->idle(port->ctx, ticks);
    return 0;
}

static void cancel_all(async_loop_t *loop)
{
    async_link_t *l;
    for (l = loop->tasks.next; l != &loop->tasks; l = l->next)
        cancel(loop, task_of_link(l), NULL);
}

int async_loop_run(async_loop_t *loop, async_task_t *task, async_fn *main,
                   void *frame)
{
    int rc;
    if (loop && loop->turn)
        return misuse(ASYNC_ESTATE, "async_loop_run inside a turn");
    rc = async_task_create(loop, task, main, frame);
    if (rc < 0)
        return rc;
    while (task->state != ASYNC_TASK_DONE) {
        if (wait_for_work(loop) < 0) {
            rc = ASYNC_EDEADLK;
            break;
        }
        async_loop_run_once(loop);
    }
    if (task->state == ASYNC_TASK_DONE)
        rc = task->u.run.value;
    /* Like asyncio.run: cancel what is left and let it finish, and run
     * the callbacks its last acts queued. Tasks their cleanup creates are
     * cancelled too, before they start. */
    cancel_all(loop);
    loop->closing = 1;
    while (registered(loop) && wait_for_work(loop) == 0)
        async_loop_run_once(loop);
    loop->closing = 0;
    return rc;
}

int async_loop_close(async_loop_t *loop)
{
    if (!loop || !loop->tasks.next)
        return misuse(ASYNC_EINVAL, "async_loop_close: not initialised");
    if (registered(loop))
        return misuse(ASYNC_EBUSY, "async_loop_close: still registered");
    return 0;
}

/* ---------------------------------------------------------------- debug */

int async_task_set_name(async_task_t *task, const char *name)
{
    if (!task)
        return ASYNC_EINVAL;
#if ASYNC_CONFIG_DEBUG
    task->name = name;
#else
    (void)name;
#endif
    return 0;
}

const char *async_task_name(const async_task_t *task)
{
#if ASYNC_CONFIG_DEBUG
    if (task && task->name)
        return task->name;
#else
    (void)task;
#endif
    return "";
}

#if ASYNC_CONFIG_DEBUG
static const char *const state_names[] = {
    "IDLE",    "PENDING", "READY",     "RUNNING", "SLEEPING",
    "WAITING", "AWAITING", "GATHERING", "DONE"};

/* A tiny string builder: the library has no printf. */
struct line {
    char buf[160];
    size_t len;
};

static void put_str(struct line *l, const char *s)
{
    while (*s && l->len + 1 < sizeof l->buf)
        l->buf[l->len++] = *s++;
    l->buf[l->len] = '\0';
}

static void put_uint(struct line *l, unsigned long v)
{
    char tmp[24];
    int i = 0;
    do {
        tmp[i++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (i > 0 && l->len + 1 < sizeof l->buf)
        l->buf[l->len++] = tmp[--i];
    l->buf[l->len] = '\0';
}

/* Addresses in hex, as a debugger shows them; shifts, not division, so a
 * 64-bit pointer pulls in no libgcc helper. */
static void put_addr(struct line *l, const void *p)
{
    uintptr_t v = (uintptr_t)p;
    int shift = (int)sizeof v * 8 - 4;
    put_str(l, "0x");
    while (shift > 0 && !((v >> shift) & 0xFu))
        shift -= 4;
    for (; shift >= 0 && l->len + 1 < sizeof l->buf; shift -= 4)
        l->buf[l->len++] = "0123456789abcdef"[(v >> shift) & 0xFu];
    l->buf[l->len] = '\0';
}

int async_loop_dump(const async_loop_t *loop,
                    void (*out)(const char *line, void *arg), void *arg)
{
    const async_link_t *l;
    int n = 0;
    if (!loop || !out || !loop->tasks.next)
        return ASYNC_EINVAL;
    for (l = loop->tasks.next; l != &loop->tasks; l = l->next) {
        const async_task_t *t = CONTAINER(l, async_task_t, all);
        struct line line;
        const char *name = async_task_name(t);
        line.len = 0;
        line.buf[0] = '\0';
        if (*name) {
            put_str(&line, name);
        } else {
            put_str(&line, "task@"); /* where it is stays true across dumps */
            put_addr(&line, t);
        }
        put_str(&line, " ");
        put_str(&line, state_names[t->state]);
#if ASYNC_CONFIG_DEBUG
        /* A running task has left its last suspension point behind. */
        if (t->inner->file && t->state != ASYNC_TASK_RUNNING) {
            put_str(&line, " at ");
            put_str(&line, t->inner->file);
            put_str(&line, ":");
            put_uint(&line, (unsigned long)t->inner->line);
        }
#endif
#if ASYNC_CONFIG_DEBUG
        if (t->held) {
            put_str(&line, " holding ");
            put_uint(&line, (unsigned long)t->held);
            put_str(&line, " queue item(s) not marked done");
        }
#endif
        if (t->flags & TF_CANCEL)
            put_str(&line, " (cancel pending)");
        out(line.buf, arg);
        n++;
    }
    return n;
}
#endif /* ASYNC_CONFIG_DEBUG */
