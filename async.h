/* SPDX-License-Identifier: MIT */
/*
 * async.h - asyncio for C, without stacks.
 *
 * A coroutine is an ordinary C function over a frame struct. Protothread-style
 * macros turn its body into a resumable switch: every AWAIT is a resume point,
 * kept as one small integer (the source line) in the frame. A single-threaded
 * loop resumes whichever task is ready; sleepers wait in a timer heap. There is
 * no stack per task and no malloc: the caller owns every object.
 *
 * This header is the whole public API and its manual. Sections:
 *   1. configuration          6. futures and done-callbacks
 *   2. errors and statuses    7. event, lock, semaphore
 *   3. coroutine macros       8. gather and timeouts
 *   4. the loop               9. queue (queue.c)
 *   5. tasks                 10. debug
 *
 * The traps, stated once here and again beside the macros:
 *   - C locals do NOT survive an AWAIT. Anything used after an await lives in
 *     the frame struct.
 *   - The arguments of an AWAIT are evaluated again when the task resumes
 *     there: pass frame fields or constants, never plain locals.
 *   - In the default (switch) flavour, do not AWAIT inside a switch statement
 *     of your own; use if/else, or ASYNC_CONFIG_LC_GOTO.
 *   - Only the calls marked "ISR-safe" may be made from an interrupt or
 *     another thread.
 */
#ifndef ASYNC_H
#define ASYNC_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define ASYNC_VERSION_MAJOR 0
#define ASYNC_VERSION_MINOR 1
#define ASYNC_VERSION_PATCH 0

/* ======================================================================
 * 1. Configuration. Define any knob before including async.h, on the
 *    compiler line, or in a header named by ASYNC_CONFIG_FILE.
 * ==================================================================== */
#if defined(ASYNC_CONFIG_FILE)
#include ASYNC_CONFIG_FILE
#endif

/* Width of a tick in bits: 16, 32 or 64. */
#if !defined(ASYNC_CONFIG_TICK_BITS)
#define ASYNC_CONFIG_TICK_BITS 32
#endif

/* 1: keep task names and suspension points and count the queue items each
 * task holds (async_loop_dump shows them), and report misuse through
 * async_debug_hook. Costs RAM per task and frame. */
#if !defined(ASYNC_CONFIG_DEBUG)
#define ASYNC_CONFIG_DEBUG 0
#endif

/* 1: resume points are GNU labels-as-values instead of switch cases, so a
 * coroutine body may contain switch statements. GCC and Clang only. */
#if !defined(ASYNC_CONFIG_LC_GOTO)
#define ASYNC_CONFIG_LC_GOTO 0
#endif

/* Features, each 1 (built) or 0 (left out, to save flash): gather,
 * timeouts (wait_for), futures and done-callbacks, event/lock/semaphore,
 * LIFO and priority queue orders, the sentences of async_strerror (names
 * stay). Posting from interrupts and threads (ASYNC_CONFIG_POST) is below. */
#if !defined(ASYNC_CONFIG_GATHER)
#define ASYNC_CONFIG_GATHER 1
#endif
#if !defined(ASYNC_CONFIG_TIMEOUT)
#define ASYNC_CONFIG_TIMEOUT 1
#endif
#if !defined(ASYNC_CONFIG_FUTURE)
#define ASYNC_CONFIG_FUTURE 1
#endif
#if !defined(ASYNC_CONFIG_SYNC)
#define ASYNC_CONFIG_SYNC 1
#endif
#if !defined(ASYNC_CONFIG_QUEUE_ORDERS)
#define ASYNC_CONFIG_QUEUE_ORDERS 1
#endif
#if !defined(ASYNC_CONFIG_ERROR_TEXT)
#define ASYNC_CONFIG_ERROR_TEXT 1
#endif

/* Thread support (async_to_thread and its worker pool) belongs to the
 * POSIX port: ASYNC_CONFIG_THREADS, in port/posix.h, defaults to 1 where
 * pthreads, posting and futures are all available, and is an #error if
 * forced on without them. */

/* 1: the C library is available; copies use memcpy. */
#if !defined(ASYNC_CONFIG_LIBC)
#define ASYNC_CONFIG_LIBC 0
#endif

/* Copy routine for queue items. */
#if !defined(ASYNC_MEMCPY)
#if ASYNC_CONFIG_LIBC
#include <string.h>
#define ASYNC_MEMCPY(dst, src, n) memcpy((dst), (src), (n))
#else
#define ASYNC_MEMCPY(dst, src, n) async__copy((dst), (src), (n))
#endif
#endif

/* Posting from interrupts and threads (async_post, ASYNC_CONFIG_POST)
 * needs either lock-free pointer atomics (GCC/Clang __atomic builtins:
 * x86, Cortex-M3 and up, RV32A) or a critical section: define both
 * ASYNC_PORT_LOCK() and ASYNC_PORT_UNLOCK() (the Cortex-M and RISC-V port
 * headers do: they mask interrupts). Where there is neither, posting
 * defaults to 0 and forcing it to 1 is an #error, because an interrupt
 * could then lose a post. */
#if defined(ASYNC_PORT_LOCK) != defined(ASYNC_PORT_UNLOCK)
#error "define both ASYNC_PORT_LOCK and ASYNC_PORT_UNLOCK, or neither"
#endif
#if defined(ASYNC_PORT_LOCK) ||                                               \
    (defined(__GCC_ATOMIC_POINTER_LOCK_FREE) &&                               \
     __GCC_ATOMIC_POINTER_LOCK_FREE == 2)
#define ASYNC__POST_SAFE 1
#else
#define ASYNC__POST_SAFE 0
#endif
#if !defined(ASYNC_CONFIG_POST)
#define ASYNC_CONFIG_POST ASYNC__POST_SAFE
#endif
#if ASYNC_CONFIG_POST && !ASYNC__POST_SAFE
#error "ASYNC_CONFIG_POST needs pointer atomics or ASYNC_PORT_LOCK/UNLOCK (include your port's header as the config file)"
#endif

#if ASYNC_CONFIG_TICK_BITS == 16
typedef uint16_t async_tick_t;
typedef int16_t async__stick_t;
#define ASYNC__ABI_TICK tick16
#elif ASYNC_CONFIG_TICK_BITS == 32
typedef uint32_t async_tick_t;
typedef int32_t async__stick_t;
#define ASYNC__ABI_TICK tick32
#elif ASYNC_CONFIG_TICK_BITS == 64
typedef uint64_t async_tick_t;
typedef int64_t async__stick_t;
#define ASYNC__ABI_TICK tick64
#else
#error "ASYNC_CONFIG_TICK_BITS must be 16, 32 or 64"
#endif

#if ASYNC_CONFIG_LC_GOTO && !defined(__GNUC__)
#error "ASYNC_CONFIG_LC_GOTO needs GCC or Clang (labels as values)"
#endif

/* The link-name tags of the configuration (see async_loop_init). */
#if ASYNC_CONFIG_DEBUG
#define ASYNC__ABI_DEBUG debug1
#else
#define ASYNC__ABI_DEBUG debug0
#endif
#if ASYNC_CONFIG_LC_GOTO
#define ASYNC__ABI_LC lcgoto
#else
#define ASYNC__ABI_LC lcswitch
#endif
#define ASYNC__ABI_PASTE(fn, a, b, c) fn##__##a##_##b##_##c
#define ASYNC__ABI_NAME(fn, a, b, c) ASYNC__ABI_PASTE(fn, a, b, c)
#define ASYNC__ABI(fn)                                                        \
    ASYNC__ABI_NAME(fn, ASYNC__ABI_TICK, ASYNC__ABI_DEBUG, ASYNC__ABI_LC)

/* Wait without a deadline. Never enters the timer heap. */
#define ASYNC_FOREVER ((async_tick_t)~(async_tick_t)0)
/* The longest delay: half the tick range minus one, so that deadlines
 * compare correctly across the wrap. Longer delays fail with ASYNC_ERANGE. */
#define ASYNC_MAX_DELAY ((async_tick_t)(ASYNC_FOREVER / 2u - 1u))

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * 2. Errors and statuses.
 *
 * Functions that can fail return int: 0 or a positive value on success, a
 * negative ASYNC_E... code on failure; every one returns ASYNC_EINVAL for
 * a NULL object, and every awaitable one ASYNC_ENOTASK outside a running
 * task. The few that cannot fail return what they name (a tick, a
 * pointer, a string). A coroutine's result follows the same rule.
 * Awaiting an object (future, event, lock, semaphore, queue) initialised
 * on another loop than the task's is ASYNC_EINVAL: it wakes its waiters
 * on its own loop.
 * ==================================================================== */
#define ASYNC_ERRORS(X)                                                       \
    X(EINVAL, -1, "invalid argument")                                         \
    X(ECANCELED, -2, "cancelled")                                             \
    X(ETIMEDOUT, -3, "timed out")                                             \
    X(EFULL, -4, "queue is full")                                             \
    X(EEMPTY, -5, "queue is empty")                                           \
    X(ESHUTDOWN, -6, "queue is shut down")                                    \
    X(EBUSY, -7, "object is in use")                                          \
    X(ESTATE, -8, "not allowed in this state")                                \
    X(ENOSPC, -9, "timer heap is full")                                       \
    X(ERANGE, -10, "delay longer than ASYNC_MAX_DELAY")                       \
    X(EDEADLK, -11, "nothing can run and nothing can wake the loop")          \
    X(ENOTASK, -12, "must be called from a running task")                     \
    X(ESELF, -13, "a task cannot await itself")                               \
    X(ESYS, -14, "a system call failed (errno says why)")

#define ASYNC__ERRNUM(name, value, text) ASYNC_##name = (value),
/* The error codes. */
enum async_error { ASYNC_ERRORS(ASYNC__ERRNUM) ASYNC_E__LAST };
#undef ASYNC__ERRNUM

/* The name of an error code ("ASYNC_ETIMEDOUT"), "ASYNC_OK" for values >= 0,
 * or "ASYNC_E?" for a code not in the table. */
const char *async_strerror_name(int code);

/* A sentence describing an error code. */
const char *async_strerror(int code);

/* Status of an awaitable operation: the caller must suspend. Never a result;
 * AWAIT consumes it. INT_MIN is therefore reserved. */
#define ASYNC_WAIT INT_MIN

/* ======================================================================
 * 3. Coroutine macros.
 *
 * A coroutine function has the type async_fn. Its frame struct starts with
 * an async_frame_t; everything that must live across an AWAIT is a frame
 * field:
 *
 *     struct blink { async_frame_t co; int n; };
 *
 *     static int blink(async_loop_t *loop, void *frame)
 *     {
 *         struct blink *b = frame;
 *         ASYNC_BEGIN(loop, b);
 *         for (b->n = 0; b->n < 3; b->n++)
 *             AWAIT(async_sleep(loop, 500));
 *         ASYNC_END;
 *     }
 *
 * **C locals do not survive an AWAIT.** **The arguments of an AWAIT are
 * evaluated again on resume**, so they must be frame fields or constants.
 * **No AWAIT inside your own switch** unless ASYNC_CONFIG_LC_GOTO is 1.
 * Two AWAITs on one source line, a missing ASYNC_END, or a missing
 * ASYNC_BEGIN fail to compile. A body may be C++ too; there, no object
 * with a constructor may live in a scope that spans an AWAIT (a resume
 * jumps past its construction): the default flavour refuses to compile
 * that, but the goto flavour under GCC does not.
 * ==================================================================== */
typedef struct async_loop async_loop_t;
typedef struct async_task async_task_t;
typedef struct async_frame async_frame_t;

/* A coroutine function. Returns ASYNC_WAIT while suspended, then its result. */
typedef int async_fn(async_loop_t *loop, void *frame);

/* The resume point ("local continuation"). */
#if ASYNC_CONFIG_LC_GOTO
typedef void *async_lc_t;
#else
typedef uint16_t async_lc_t;
#endif

/* The library's header at the start of every coroutine frame. Initialise
 * the frame to zero before its first use; the library does the rest. */
struct async_frame {
    async_fn *fn;          /* private: the coroutine function */
    async_frame_t *parent; /* private: the frame awaiting this one */
    int result;            /* private: result, kept while cleanup runs */
    async_lc_t lc;         /* private: resume point */
    uint16_t flags;        /* private */
#if ASYNC_CONFIG_DEBUG
    const char *file;      /* debug: where it is suspended */
    int line;
#endif
};

/* Resume points are case labels reached by falling through; say so, or
 * -Wimplicit-fallthrough (in -Wextra) flags every AWAIT in user code. */
#if defined(__has_attribute)
#if __has_attribute(__fallthrough__)
#define ASYNC__FALLTHROUGH __attribute__((__fallthrough__));
#endif
#endif
#if !defined(ASYNC__FALLTHROUGH)
#define ASYNC__FALLTHROUGH
#endif

/* --- local continuations: the only place that knows switch from goto ---
 * ASYNC__LC_DISPATCH(lc) jumps to the saved resume point (or starts);
 * ASYNC__LC_SAVE(lc) records this line's point; ASYNC__LC_LABEL marks it. */
#if ASYNC_CONFIG_LC_GOTO
#define ASYNC__LC_UNWIND ((void *)1)
#define ASYNC__LC_END ((void *)2)
/* The label's address taken (and dropped) keeps clang accepting the
 * computed goto in a coroutine that has no AWAIT, and so no other. */
#define ASYNC__LC_DISPATCH(lc)                                                \
    switch ((lc) == ASYNC__LC_UNWIND ? 1 : (lc) == ASYNC__LC_END ? 2 : 0) {   \
    case 0:                                                                   \
        (void)&&async__lc_start;                                              \
        if (lc)                                                               \
            goto *(lc);                                                       \
    async__lc_start:
#define ASYNC__LC_UNWIND_CASE ASYNC__FALLTHROUGH case 1:
#define ASYNC__LC_END_CASE ASYNC__FALLTHROUGH case 2:
#define ASYNC__LC_NAME2(line) async__resume_##line
#define ASYNC__LC_NAME(line) ASYNC__LC_NAME2(line)
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
/* GCC 12+ mistakes a stored label address for a dangling local pointer. */
#define ASYNC__LC_SAVE(lc)                                                    \
    _Pragma("GCC diagnostic push")                                            \
    _Pragma("GCC diagnostic ignored \"-Wdangling-pointer\"")                  \
    (lc) = &&ASYNC__LC_NAME(__LINE__);                                        \
    _Pragma("GCC diagnostic pop")
#else
#define ASYNC__LC_SAVE(lc) (lc) = &&ASYNC__LC_NAME(__LINE__);
#endif
#define ASYNC__LC_LABEL ASYNC__LC_NAME(__LINE__):
#else
#define ASYNC__LC_UNWIND 0xFFFFu
#define ASYNC__LC_END 0xFFFEu
#define ASYNC__LC_DISPATCH(lc)                                                \
    switch (lc) {                                                             \
    case 0:
#define ASYNC__LC_UNWIND_CASE ASYNC__FALLTHROUGH case ASYNC__LC_UNWIND:
#define ASYNC__LC_END_CASE ASYNC__FALLTHROUGH case ASYNC__LC_END:
/* The sizeof turns a line number that does not fit the 16-bit resume point
 * into a compile error instead of a wrong resume. */
#define ASYNC__LC_SAVE(lc)                                                    \
    (void)sizeof(char[__LINE__ < 0xFFFE ? 1 : -1]);                           \
    (lc) = __LINE__;
#define ASYNC__LC_LABEL case __LINE__:
#endif

#if ASYNC_CONFIG_DEBUG
#define ASYNC__WHERE(f) ((f)->file = __FILE__, (f)->line = __LINE__)
#else
#define ASYNC__WHERE(f) ((void)0)
#endif

/* private frame flags */
#define ASYNC__FRAME_CLEANUP 0x1u /* its cleanup section is running */
#define ASYNC__FRAME_LIVE 0x2u    /* started and not yet ended */

/* Start the body. loop is the coroutine's loop parameter; frame points at
 * its frame struct. */
#define ASYNC_BEGIN(loop, frame)                                              \
    async_loop_t *const async__l = (loop);                                    \
    async_frame_t *const async__f = (async_frame_t *)(void *)(frame);         \
    int async__rc;                                                            \
    async__top:                                                               \
    ASYNC__LC_DISPATCH(async__f->lc)

/* Start the cleanup section (asyncio's finally). It runs exactly once when
 * the body ends: by falling off its end, ASYNC_RETURN, an error propagated
 * by AWAIT, or a cancellation delivered at an AWAIT. ASYNC_RESULT holds the
 * pending result. The section may AWAIT; a cancellation requested while it
 * runs is remembered, not delivered, and the task then ends cancelled.
 * Optional; at most one per coroutine. */
#define ASYNC_FINALLY                                                         \
    ASYNC__LC_UNWIND_CASE                                                     \
    async__enter_cleanup(async__f);

/* End the body (and the cleanup section). The coroutine returns its result:
 * 0 unless ASYNC_RETURN or an error said otherwise. A resume at a point the
 * body does not own (an AWAIT inside a switch of its own, in the default
 * flavour) is a bug the compiler cannot see: the coroutine then ends with
 * ASYNC_ESTATE through its cleanup section (once: a point lost inside the
 * section ends the coroutine at once), and the operation it was
 * suspended in is abandoned, with whatever that operation held (a queue
 * item promised to it stays promised, so that queue cannot be used again). */
#define ASYNC_END                                                             \
    ASYNC__LC_END_CASE                                                        \
        break;                                                                \
    default:                                                                  \
        /* No FINALLY to unwind to; any other point is not ours: an AWAIT    \
         * inside the body's own switch registered its case there. */         \
        if (async__f->lc != ASYNC__LC_UNWIND) {                               \
            async__f->result = async__lost_point(async__l);                   \
            async__f->lc = (async__f->flags & ASYNC__FRAME_CLEANUP)           \
                               ? ASYNC__LC_END : ASYNC__LC_UNWIND;            \
            goto async__top;                                                  \
        }                                                                     \
    }                                                                         \
    if (0)                                                                    \
        goto async__top;                                                      \
    (void)async__rc;                                                          \
    (void)async__l;                                                           \
    async__f->lc = ASYNC__LC_END;                                             \
    return async__f->result

/* Finish with value (>= 0 success, < 0 error), running the cleanup section
 * first. Inside the cleanup section, ends the coroutine at once. */
#define ASYNC_RETURN(value)                                                   \
    do {                                                                      \
        async__f->result = (value);                                           \
        async__f->lc = (async__f->flags & ASYNC__FRAME_CLEANUP)               \
                           ? ASYNC__LC_END : ASYNC__LC_UNWIND;                \
        goto async__top;                                                      \
    } while (0)

/* Await op and store its result, error or not, in var (try/except).
 * Reached in the flow of the body, op is evaluated. Resumed, the loop
 * usually hands over the wake value in loop->wake; when the operation has
 * work to do on resume, loop->wake is ASYNC_WAIT and op is evaluated
 * again. The resume point is saved only when op suspends. */
#define AWAIT_TRY(var, op)                                                    \
    do {                                                                      \
        async__rc = ASYNC_WAIT;                                               \
        if (0) {                                                              \
            ASYNC__LC_LABEL                                                   \
            async__rc = async__l->wake;                                       \
        }                                                                     \
        if (async__rc == ASYNC_WAIT) {                                        \
            async__rc = (op);                                                 \
            if (async__rc == ASYNC_WAIT) {                                    \
                ASYNC__LC_SAVE(async__f->lc)                                  \
                ASYNC__WHERE(async__f);                                       \
                return ASYNC_WAIT;                                            \
            }                                                                 \
        }                                                                     \
        (var) = async__rc;                                                    \
    } while (0)

/* Await op and store its non-negative result in var; an error propagates
 * like an exception: the cleanup section runs and the coroutine ends with
 * that error. */
#define AWAIT_VALUE(var, op)                                                  \
    do {                                                                      \
        AWAIT_TRY(async__rc, op);                                             \
        if (async__rc < 0)                                                    \
            ASYNC_RETURN(async__rc);                                          \
        (var) = async__rc;                                                    \
    } while (0)

/* Await op; an error propagates as in AWAIT_VALUE. */
#define AWAIT(op)                                                             \
    do {                                                                      \
        AWAIT_TRY(async__rc, op);                                             \
        if (async__rc < 0)                                                    \
            ASYNC_RETURN(async__rc);                                          \
    } while (0)

/* The pending result: inside the cleanup section, the code the body ended
 * with (ASYNC_ECANCELED after a cancellation). */
#define ASYNC_RESULT (async__f->result)

/* private */
static inline void async__enter_cleanup(async_frame_t *f)
{
    f->flags |= ASYNC__FRAME_CLEANUP;
}

/* ======================================================================
 * 4. The loop.
 *
 * One loop runs on one thread. It owns no memory: the caller gives it the
 * timer heap's storage, one slot per timer that can be pending at once
 * (each sleeping task or armed timeout uses one).
 * ==================================================================== */

/* A timer: a sleeping task's deadline, or a timeout's. Private. */
typedef struct async_timer {
    async_tick_t deadline;
    uint32_t seq;  /* start order, for FIFO among equal deadlines; bit 0: kind */
    uint32_t slot; /* index in the heap */
} async_timer_t;

/* Where time comes from and how the loop waits. Without a port the loop
 * runs on virtual time: when nothing is ready it jumps to the next deadline
 * at once, so tests and simulations are deterministic and instant. */
typedef struct async_port {
    /* The current tick. */
    async_tick_t (*now)(void *ctx);
    /* Block until `ticks` have passed since the tick now() last returned
     * (the loop computed ticks from it; ASYNC_FOREVER: no deadline) or wake
     * is called, whichever is first. May return early. */
    void (*idle)(void *ctx, async_tick_t ticks);
    /* Make a blocked idle return. ISR-safe and thread-safe. May be NULL. */
    void (*wake)(void *ctx);
    void *ctx;
} async_port_t;

/* An intrusive link in a doubly linked ring. Private. */
typedef struct async_link {
    struct async_link *next, *prev;
} async_link_t;

/* A callback run on the loop: a future's done-callback, or work posted
 * from an interrupt or another thread. The caller owns it. */
typedef struct async_callback async_callback_t;
typedef void async_callback_fn(async_loop_t *loop, async_callback_t *cb);
struct async_callback {
    async_callback_t *next;   /* private */
    async_callback_fn *fn;    /* private */
    void *arg;                /* the owner's: set by async_callback_init */
    uint32_t queued;          /* private: 1 while queued (a word: RV32A has no byte atomics) */
};

/* Prepare cb (zeroed before its first init) to call fn(loop, cb) with
 * cb->arg = arg. Returns 0, ASYNC_EINVAL, or ASYNC_EBUSY while cb is
 * queued. */
int async_callback_init(async_callback_t *cb, async_callback_fn *fn,
                        void *arg);

/* The event loop. Zero it or let async_loop_init fill it. */
struct async_loop {
    async_task_t *ready;              /* private: FIFO of tasks to resume */
    async_task_t **ready_link;        /* private: where the next one goes */
    async_callback_t *calls;          /* private: FIFO of callbacks */
    async_callback_t **calls_link;    /* private: where the next one goes */
    async_callback_t *posted;         /* private: from ISRs/threads, LIFO */
    async_timer_t **heap;             /* private: min-heap, caller storage */
    uint32_t heap_len, heap_cap;      /* private */
    uint32_t seq;                     /* private */
    async_link_t tasks;               /* private: every task not done */
    async_tick_t now;                 /* private */
    const async_port_t *port;         /* private */
    async_task_t *current;            /* private: the running task */
    int wake;                         /* private: value for the resumed AWAIT */
    uint8_t turn;                     /* private: 1 while a turn runs */
    uint8_t closing;                  /* private: run cancels what is left */
};

/* Initialise loop with heap storage for `capacity` pending timers. Returns
 * 0, ASYNC_EINVAL (NULL loop, or NULL heap with capacity > 0), or
 * ASYNC_EBUSY if the loop is in use (anything async_loop_close refuses).
 *
 * Its link name spells the configuration that shapes the public objects
 * (tick width, debug fields, resume-point flavour), so code compiled with
 * one and a library built with another fail to link, e.g. "undefined
 * reference to async_loop_init__tick32_debug1_lcswitch", instead of
 * disagreeing about every struct at run time. async_task_create,
 * async_call and (in the default flavour) every coroutine body carry the
 * same suffix, so each file that makes tasks, calls children or defines
 * coroutines is checked too, not only the one that makes the loop. */
#define async_loop_init ASYNC__ABI(async_loop_init)
int async_loop_init(async_loop_t *loop, async_timer_t **heap,
                    uint32_t capacity);

/* Define static heap storage for a loop: ASYNC_TIMERS(timers, 16);
 * then async_loop_init(&loop, timers, 16). */
#define ASYNC_TIMERS(name, capacity) static async_timer_t *name[capacity]

/* Use port for time and idling (NULL: virtual time). Set it before any
 * interrupt or thread may post: async_post reads it without a lock.
 * Returns 0 or ASYNC_EINVAL. */
int async_loop_set_port(async_loop_t *loop, const async_port_t *port);

/* The loop's port, or NULL on virtual time. */
const async_port_t *async_loop_port(const async_loop_t *loop);

/* Set the virtual clock (no port) to tick t, e.g. just before the wrap.
 * Returns 0, ASYNC_EINVAL, or ASYNC_EBUSY if timers are pending. */
int async_loop_set_time(async_loop_t *loop, async_tick_t t);

/* The loop's current tick, as read at the start of this turn. */
async_tick_t async_loop_now(const async_loop_t *loop);

/* Create `task` for main (frame, zeroed) and run the loop until it is done,
 * like asyncio.run: then cancel every task still pending and run until
 * nothing is left (they have finished and every queued callback has run);
 * a task created meanwhile is cancelled before its first turn. If a
 * leftover's cleanup waits for something nothing can ever bring (as for
 * ASYNC_EDEADLK below), run stops there and still returns main's result;
 * async_loop_close then says ASYNC_EBUSY. Returns
 * main's result, ASYNC_EDEADLK if nothing could ever run again before
 * main finished (virtual time, or no port wake), ASYNC_ESTATE when called
 * from a task or a callback of this loop, or the errors of
 * async_task_create. */
int async_loop_run(async_loop_t *loop, async_task_t *task, async_fn *main,
                   void *frame);

/* Run one turn without blocking: fire due timers, run the callbacks queued
 * before the turn, then resume each task that is ready by then (woken by a
 * timer, a callback or an earlier turn), once. For a superloop or a
 * poll/epoll loop. Returns how many tasks and callbacks ran, ASYNC_EINVAL,
 * or ASYNC_ESTATE when called from a task or a callback (a turn is
 * running). With virtual time, only a turn
 * with nothing ready advances the clock, to the next deadline: while some
 * task keeps yielding, virtual time stands still. */
int async_loop_run_once(async_loop_t *loop);

/* Ticks until the loop next has work: 0 if something is ready now,
 * ASYNC_FOREVER if nothing is scheduled. For choosing a poll timeout. */
async_tick_t async_loop_next_timeout(const async_loop_t *loop);

/* Check that nothing is registered. Returns 0, ASYNC_EBUSY if any task is
 * not done or any timer or callback is pending, ASYNC_EINVAL for NULL. */
int async_loop_close(async_loop_t *loop);

/* Queue cb (prepared by async_callback_init) to run on the loop's next
 * turn. Returns 0, ASYNC_EBUSY if it is already queued (by either call),
 * ASYNC_EINVAL (NULL, or a loop not initialised yet: nothing is queued).
 * Loop thread only; from elsewhere use async_post. */
int async_call_soon(async_loop_t *loop, async_callback_t *cb);

#if ASYNC_CONFIG_POST
/* Queue cb (prepared by async_callback_init) from an interrupt or another
 * thread, and wake the loop. ISR-safe and thread-safe. Publish the data
 * the callback will read before posting. Posting a callback that is still
 * queued coalesces: it runs once, after the post, so it sees the data. A
 * post is never lost. Posts run on the next turn after the callbacks
 * already queued with async_call_soon. Returns 0, ASYNC_EINVAL, or
 * ASYNC_EBUSY if cb is a done-callback of a pending future (it runs when
 * the future completes, not before; nothing is queued). Post only to an
 * initialised loop: async_loop_init drops what was posted before it (such
 * a callback stays claimed and never runs), so enable the interrupts that
 * post only after it. Once cb is queued
 * the call touches only the loop's port (to wake it), so a loop that has
 * run cb may end and be freed while async_post returns; the port may not. */
int async_post(async_loop_t *loop, async_callback_t *cb);
#endif


/* ======================================================================
 * 5. Tasks.
 * ==================================================================== */

/* Task states, as returned by async_task_state. Statuses, not errors. */
enum async_task_state {
    ASYNC_TASK_IDLE = 0, /* zeroed, never started */
    ASYNC_TASK_PENDING,  /* created; its first turn has not come yet */
    ASYNC_TASK_READY,    /* woken; will resume on a later turn */
    ASYNC_TASK_RUNNING,  /* resumed right now */
    ASYNC_TASK_SLEEPING, /* in the timer heap */
    ASYNC_TASK_WAITING,  /* waiting on an object (queue, event, future...) */
    ASYNC_TASK_AWAITING, /* awaiting another task */
    ASYNC_TASK_GATHERING,/* awaiting a gather */
    ASYNC_TASK_DONE      /* finished; its result is kept */
};

typedef struct async_gather async_gather_t;

/* A link in a wait list. Private. */
typedef struct async_waiter {
    struct async_waiter *next, *prev;
    struct async_waiter **list; /* the list head; NULL for a gather slot */
} async_waiter_t;

/* A task: one coroutine chain scheduled by the loop. The caller owns it
 * (zero it before first use); the loop links it. Its memory may be reused
 * once it is done and nobody awaits it. */
struct async_task {
    union {                       /* private: by state */
        struct {
            async_task_t *next;   /* READY: the loop's FIFO */
            int value;            /* wake value; the result once DONE */
        } run;
        async_waiter_t wait;      /* WAITING, AWAITING */
        async_timer_t timer;      /* SLEEPING */
        async_gather_t *gather;   /* GATHERING */
    } u;
    async_frame_t *inner;         /* private: innermost frame */
    async_waiter_t *waiters;      /* private: tasks and gathers awaiting us */
    async_link_t all;             /* private: in loop->tasks until done */
    uint8_t state;                /* private: enum async_task_state */
    uint8_t flags;                /* private */
    uint8_t cancels;              /* private: cancellations requested */
    uint8_t mark;                 /* private: cancels when wait_for refused */
#if ASYNC_CONFIG_DEBUG
    const char *name;             /* debug: set by async_task_set_name */
    uint32_t held;                /* debug: queue gets less task_dones */
#endif
};

/* Schedule fn(loop, frame) as a task, like asyncio.create_task: returns at
 * once; the task first runs on a later turn. frame must be zeroed or
 * finished. A finished task may be created again at once: its waiters
 * have been woken and gathers keep their own copy of its result. Once
 * async_loop_run's main has finished, a new task is created cancelled
 * and never runs. Returns 0, ASYNC_EINVAL (NULL argument, uninitialised
 * loop), or ASYNC_EBUSY (task is live, or frame belongs to a live
 * coroutine). */
#define async_task_create ASYNC__ABI(async_task_create)
int async_task_create(async_loop_t *loop, async_task_t *task, async_fn *fn,
                      void *frame);

/* Request cancellation, like task.cancel(). It is delivered at the task's
 * current or next AWAIT that suspends, as ASYNC_ECANCELED; the cleanup
 * sections run innermost first. A task cancelled before its first turn never
 * runs. A task awaiting another task or a gather passes the request inward.
 * Returns 1 if requested, 0 if the task had already finished (no effect),
 * ASYNC_EINVAL for NULL or a task never created. Loop thread only. */
int async_task_cancel(async_loop_t *loop, async_task_t *task);

/* Await another task: its result or error. Any number of tasks may await
 * one task. Awaiting a finished task returns its result at once. As in
 * asyncio, a cancellation of the awaiter goes to the awaited task, also
 * one already pending when the await begins; the awaiter gets its
 * outcome.
 * Errors: ASYNC_EINVAL (NULL, never created), ASYNC_ESELF, ASYNC_ENOTASK. */
int async_task_wait(async_loop_t *loop, async_task_t *other);

/* The task's state (enum async_task_state), ASYNC_EINVAL for NULL. */
int async_task_state(const async_task_t *task);

/* The result of a finished task; ASYNC_ESTATE if it has not finished,
 * ASYNC_EINVAL for NULL. */
int async_task_result(const async_task_t *task);

/* The running task, or NULL between tasks. */
async_task_t *async_current(const async_loop_t *loop);

/* Give every other ready task one turn, then resume. Inline, because it
 * is the cheapest suspension there is: it appends the task to the ready
 * FIFO. Errors: ASYNC_ENOTASK, ASYNC_ECANCELED. */
static inline int async_yield(async_loop_t *loop);

/* Sleep for ticks (0 is a yield; ASYNC_FOREVER until cancelled), counted
 * from the turn's tick (async_loop_now), not from the call: after a long
 * turn the sleep ends that much sooner. Equal deadlines wake in the order
 * the sleeps started. Errors: ASYNC_ERANGE
 * (longer than ASYNC_MAX_DELAY), ASYNC_ENOSPC (timer heap full),
 * ASYNC_ENOTASK, ASYNC_ECANCELED. */
int async_sleep(async_loop_t *loop, async_tick_t ticks);

/* Await a child coroutine in place and get its result: fn runs on the
 * current task, nested to any depth at constant resume cost. Errors in the
 * child come back as its result. frame: the child's frame, zeroed or
 * finished. Errors: ASYNC_EINVAL, ASYNC_EBUSY (frame is live: running or
 * suspended somewhere), ASYNC_ENOTASK. */
#define async_call ASYNC__ABI(async_call)
int async_call(async_loop_t *loop, async_fn *fn, void *frame);

/* ======================================================================
 * 6. Futures: a one-shot result completed by callback-style code.
 * ==================================================================== */
typedef struct async_future {
    async_waiter_t *waiters;      /* private */
    async_callback_t *callbacks;  /* private: done-callbacks, in order */
    async_loop_t *loop;           /* private */
    int result;                   /* private */
    uint8_t state;                /* private: 0 unused, 1 pending, 2 done */
} async_future_t;

#if ASYNC_CONFIG_FUTURE
/* Initialise fut on loop. Returns 0, ASYNC_EINVAL (NULL, or a loop not
 * initialised yet), or ASYNC_EBUSY if fut is pending with waiters or
 * callbacks. A done future's callbacks run on a
 * later turn and may read it: initialise it again only after they have
 * run (the future does not track them once handed to the loop). */
int async_future_init(async_future_t *fut, async_loop_t *loop);

/* Complete fut with result (>= 0) or an error (< 0): waiters wake and
 * done-callbacks are queued for a later turn, never called from here.
 * Returns 0, ASYNC_ESTATE if already done, ASYNC_EINVAL. Loop thread only;
 * from an ISR, post a callback that calls this. */
int async_future_set(async_future_t *fut, int result);

/* Cancel fut: completes it with ASYNC_ECANCELED. Returns 1, or 0 if it
 * was already done. ASYNC_EINVAL for NULL. */
int async_future_cancel(async_future_t *fut);

/* Await fut: its result. A finished future returns at once. Cancelling the
 * awaiting task removes only that waiter; the future stays pending.
 * ASYNC_EINVAL if fut is uninitialised or another loop's. */
int async_future_wait(async_loop_t *loop, async_future_t *fut);

/* Run cb (prepared by async_callback_init) on a later turn once fut is
 * done; queued at once if it is already done. Callbacks run in the order
 * they were added. Returns 0, ASYNC_EINVAL, ASYNC_EBUSY (cb in use). */
int async_future_add_callback(async_future_t *fut, async_callback_t *cb);

/* 1 if done, 0 if pending, ASYNC_EINVAL. */
int async_future_done(const async_future_t *fut);

/* The result of a done future; ASYNC_ESTATE while pending, ASYNC_EINVAL. */
int async_future_result(const async_future_t *fut);
#endif


/* ======================================================================
 * 7. Event, lock, semaphore. Waiters are served first come, first served.
 * A waiter that is woken and then cancelled before it runs passes what it
 * was given (the lock, a permit) to the next waiter. Every wait returns 0
 * when it got what it waited for, ASYNC_ECANCELED if cancelled first,
 * ASYNC_EINVAL for a NULL or uninitialised object or another loop's,
 * ASYNC_ENOTASK outside a task.
 * ==================================================================== */
typedef struct async_event {
    async_waiter_t *waiters; /* private */
    async_loop_t *loop;      /* private */
    uint8_t set;             /* private */
    uint8_t init;            /* private */
} async_event_t;

#if ASYNC_CONFIG_SYNC
/* Initialise ev (clear) on loop. ASYNC_EBUSY if tasks wait on it. */
int async_event_init(async_event_t *ev, async_loop_t *loop);
/* Set ev and wake every waiter. Returns 0 or ASYNC_EINVAL. */
int async_event_set(async_event_t *ev);
/* Clear ev. Returns 0 or ASYNC_EINVAL. */
int async_event_clear(async_event_t *ev);
/* 1 if set, 0 if clear, ASYNC_EINVAL. */
int async_event_is_set(const async_event_t *ev);
/* Await ev being set (returns at once if it is). */
int async_event_wait(async_loop_t *loop, async_event_t *ev);
#endif


typedef struct async_lock {
    async_waiter_t *waiters; /* private */
    async_loop_t *loop;      /* private */
    async_task_t *owner;     /* private */
    uint8_t init;            /* private */
} async_lock_t;

#if ASYNC_CONFIG_SYNC
/* Initialise lock (unlocked) on loop. ASYNC_EBUSY if held or waited on. */
int async_lock_init(async_lock_t *lock, async_loop_t *loop);
/* Await ownership. Errors: ASYNC_EBUSY if the caller already holds it. */
int async_lock_acquire(async_loop_t *loop, async_lock_t *lock);
/* Release; ownership passes to the first waiter. ASYNC_ESTATE if the
 * caller does not hold it. */
int async_lock_release(async_loop_t *loop, async_lock_t *lock);
/* 1 if held, 0 if free, ASYNC_EINVAL. */
int async_lock_locked(const async_lock_t *lock);
#endif


typedef struct async_semaphore {
    async_waiter_t *waiters; /* private */
    async_loop_t *loop;      /* private */
    uint32_t value;          /* private */
    uint32_t handed;         /* private: given to woken waiters, not taken */
    uint8_t init;            /* private */
} async_semaphore_t;

#if ASYNC_CONFIG_SYNC
/* Initialise sem with value permits (at most INT_MAX) on loop. Returns 0,
 * ASYNC_EINVAL, or ASYNC_EBUSY while tasks wait on it or a permit handed
 * to a woken waiter has not been taken yet. */
int async_semaphore_init(async_semaphore_t *sem, async_loop_t *loop,
                         uint32_t value);
/* Await a permit. */
int async_semaphore_acquire(async_loop_t *loop, async_semaphore_t *sem);
/* Return a permit: to the first waiter if any. ASYNC_ERANGE on overflow. */
int async_semaphore_release(async_semaphore_t *sem);
/* Permits available now, or ASYNC_EINVAL. */
int async_semaphore_value(const async_semaphore_t *sem);
#endif


/* ======================================================================
 * 8. Gather and timeouts.
 * ==================================================================== */

/* One per gathered task: how the gather hears it finish, and its result
 * once it has. Private. */
typedef struct async_gather_slot {
    async_waiter_t link;    /* in the task's waiters; next is NULL once out */
    async_task_t *task;
    async_gather_t *gather;
    int result;
} async_gather_slot_t;

/* Gather flag: report errors per task instead of failing on the first one
 * (asyncio's return_exceptions=True). */
#define ASYNC_GATHER_ALL 0x1u

/* Waits for several tasks, like asyncio.gather. Lives in the awaiting
 * frame, with one slot per task. */
struct async_gather {
    async_gather_slot_t *slot; /* private: caller storage */
    async_task_t *waiter;      /* private */
    uint32_t n, pending;       /* private */
    int error;                 /* private: first error seen */
    uint8_t flags;             /* private */
    uint8_t state;             /* private */
};

#if ASYNC_CONFIG_GATHER
/* Prepare g for n tasks with caller storage slot[n] (its contents do not
 * matter: the gather writes every slot). flags: 0 or ASYNC_GATHER_ALL.
 * Returns 0, ASYNC_EINVAL, ASYNC_EBUSY (g in use). */
int async_gather_init(async_gather_t *g, async_gather_slot_t *slot,
                      uint32_t n, unsigned flags);

/* Await every task in tasks[0..n-1]. Returns 0 when all succeeded. By
 * default, returns the first error as soon as a task fails; the others keep
 * running. With ASYNC_GATHER_ALL, waits for all and returns 0; each task's
 * result (or error) is then in async_gather_result. Cancelling the awaiting
 * task cancels every unfinished task, waits for them, and returns
 * ASYNC_ECANCELED; a task that itself awaits the cancelled one is not
 * waited for (that would be a cycle). Tasks finished before the gather
 * count at once; zero tasks complete at once. Misuse: ASYNC_ENOTASK
 * outside a task, ASYNC_EINVAL for g not initialised (or already used:
 * initialise it again), a NULL or never-created task, or the caller
 * itself in the list. */
int async_gather(async_loop_t *loop, async_gather_t *g,
                 async_task_t *const *tasks);

/* The result of the i-th gathered task, as the gather saw it:
 * ASYNC_ESTATE if that task had not finished when the gather completed
 * (early, on a first error); ask the task itself, async_task_result.
 * ASYNC_EINVAL for NULL, i out of range, or a gather never awaited. */
int async_gather_result(const async_gather_t *g, uint32_t i);
#endif


/* A deadline around one AWAIT; lives in the frame. Private fields. */
typedef struct async_timeout {
    async_timer_t timer;
    async_task_t *task;
    async_frame_t *frame; /* the frame whose AWAIT it bounds */
    uint8_t state;
    uint8_t cancels;
} async_timeout_t;

#if ASYNC_CONFIG_TIMEOUT
/* asyncio.wait_for: bound the operation op (any awaitable call) by ticks:
 *
 *     AWAIT_TRY(rc, async_wait_for(loop, &f->to, 100,
 *                                  async_queue_get(loop, &f->q, &f->item)));
 *
 * If op does not finish in time it is cancelled (a child coroutine runs its
 * cleanup) and then ASYNC_ETIMEDOUT is returned. A cancellation from outside
 * is reported as ASYNC_ECANCELED, never as a timeout, with one exception
 * that asyncio shares: a request already pending when op begins, which op
 * passes on to a task or gather it awaits, followed by the deadline before
 * they end, reads as ASYNC_ETIMEDOUT. Refusals: NULL to
 * (ASYNC_EINVAL), ticks > ASYNC_MAX_DELAY (ASYNC_ERANGE), a full timer
 * heap (ASYNC_ENOSPC), to armed by another task (ASYNC_EBUSY; to must be
 * zeroed, idle or this AWAIT's own); op, already suspended, is first
 * cancelled and unwound, so nothing is left behind. An op that finished
 * at once, or before that cancellation reached it, has nothing left to
 * bound and keeps its result (a debug build still reports the refusal).
 * A deadline that passes while op's cleanup section runs does not
 * interrupt it; if op then returns a value, that value is returned.
 * Inside a cleanup section a deadline works the same: it cancels op, not
 * the section, and a cancellation from outside stays pending until the
 * section ends. Where asyncio merges the requests that reach a task in
 * one turn (deadlines of wait_fors in nested frames, or one and a cancel
 * from elsewhere), each deadline's request here is delivered on its own:
 * code that lets ASYNC_ECANCELED propagate sees the same in both, while
 * code that catches it and awaits again is cancelled again at that await
 * (tests/difftest/README.md). */
int async_wait_for(async_loop_t *loop, async_timeout_t *to, async_tick_t ticks,
                   int op);
#endif


/* ======================================================================
 * 9. Queue (queue.c): asyncio.Queue, a bounded FIFO with task_done/join.
 *
 * The cancellation contract. An item is always either in the queue or in
 * the hands of exactly one getter that was told it got it; never both,
 * never neither. In detail:
 *   - A get that is cancelled or times out took nothing: the item stays in
 *     the queue for the next getter.
 *   - A put that is cancelled or times out put nothing; a put that
 *     returned 0 put its item exactly once.
 *   - Waiting getters and putters are served first come, first served. An
 *     arriving item (or room) is promised to the oldest waiter, and
 *     *_nowait calls cannot take what is promised. A waiter that was woken
 *     and then cancelled or timed out before it ran passes the promise on.
 *   - A cancelled waiter leaves no trace in the queue.
 * join counts puts, not gets: call task_done once per item got, in the
 * getter's cleanup section (ASYNC_FINALLY of the coroutine that handles
 * the item), so that a failure between get and task_done cannot hang join.
 * ==================================================================== */

/* Queue order. */
enum async_queue_order { ASYNC_QUEUE_FIFO, ASYNC_QUEUE_LIFO, ASYNC_QUEUE_PRIORITY };

/* Priority order: negative if a comes out before b. a and b point into the
 * queue's storage, aligned for the item type if the storage is (as
 * qsort's would be), so the comparator may read the items in place. Equal
 * items come out in the order they were put, for items put fewer than
 * 2^31 puts apart. */
typedef int async_queue_cmp(const void *a, const void *b);

typedef struct async_queue {
    async_waiter_t *getters, *putters, *joiners; /* private */
    async_loop_t *loop;             /* private */
    unsigned char *buf;             /* private: caller storage */
    async_queue_cmp *cmp;           /* private */
    uint8_t order, shutdown, init;  /* private (here, Thumb-1 loads them
                                       with a short offset) */
    uint8_t tag;                    /* private: bytes after each item */
    uint32_t item_size, capacity;   /* private */
    uint32_t head, count;           /* private */
    uint32_t unfinished;            /* private: puts not yet task_done */
    uint32_t promised_items;        /* private: owed to woken getters */
    uint32_t promised_room;         /* private: owed to woken putters */
    uint32_t seq;                   /* private: priority tie-break */
} async_queue_t;

/* Initialise q on loop over caller storage buf of capacity items of
 * item_size bytes (for ASYNC_QUEUE_PRIORITY, each stored item carries a
 * sequence number: use ASYNC_QUEUE_STORAGE). cmp is for priority order
 * only. Returns 0, ASYNC_EINVAL, ASYNC_EBUSY (q in use: tasks wait on it,
 * or a woken task has not yet taken the item or room it was promised). */
int async_queue_init(async_queue_t *q, async_loop_t *loop, void *buf,
                     uint32_t item_size, uint32_t capacity, int order,
                     async_queue_cmp *cmp);

/* Bytes of storage for capacity items of item_size in a given order. A
 * priority item is followed by its 4-byte sequence number, padded to 8 or
 * 16 bytes where the item's size allows an alignment that large, so that
 * every stored item keeps the alignment of the storage. */
#define ASYNC_QUEUE_STORAGE(item_size, capacity, order)                       \
    ((size_t)(capacity) *                                                     \
     ((size_t)(item_size) +                                                   \
      ((order) == ASYNC_QUEUE_PRIORITY ? ASYNC__QUEUE_TAG(item_size) : 0u)))

/* private: the strictest alignment of a scalar, as C11's max_align_t */
struct async__max_align {
    char c;
    union {
        long long ll;
        long double ld;
        void *p;
        void (*f)(void);
    } u;
};
#define ASYNC__MAX_ALIGN offsetof(struct async__max_align, u)
/* private: the sequence number's room after a priority item of size s:
 * the largest of 4, 8, 16 that divides s and that some type needs */
#define ASYNC__QUEUE_TAG(s)                                                   \
    ((s) % 16u == 0 && ASYNC__MAX_ALIGN >= 16u                                \
         ? 16u                                                                \
         : (s) % 8u == 0 && ASYNC__MAX_ALIGN >= 8u ? 8u : 4u)

/* Await room, then put a copy of *item. Errors: ASYNC_ESHUTDOWN,
 * ASYNC_ECANCELED (nothing was put), ASYNC_EINVAL (also: q is another
 * loop's), ASYNC_ENOTASK. */
int async_queue_put(async_loop_t *loop, async_queue_t *q, const void *item);

/* Await an item and copy it to *item. Errors: ASYNC_ESHUTDOWN (shut down
 * and empty), ASYNC_ECANCELED (nothing was taken), ASYNC_EINVAL (also: q
 * is another loop's), ASYNC_ENOTASK. */
int async_queue_get(async_loop_t *loop, async_queue_t *q, void *item);

/* Put without waiting. ASYNC_EFULL (unchanged), ASYNC_ESHUTDOWN. */
int async_queue_put_nowait(async_queue_t *q, const void *item);

/* Get without waiting. ASYNC_EEMPTY (nothing that is not promised to a
 * woken getter; unchanged), ASYNC_ESHUTDOWN (shut down and empty). */
int async_queue_get_nowait(async_queue_t *q, void *item);

/* Mark one item got earlier as processed. ASYNC_ESTATE if no item is
 * outstanding (the count stays at zero). */
int async_queue_task_done(async_queue_t *q);

/* Await every item put so far being marked done (returns at once if none
 * is outstanding). Every joiner wakes. Errors: ASYNC_ECANCELED,
 * ASYNC_EINVAL (also: q is another loop's), ASYNC_ENOTASK. */
int async_queue_join(async_loop_t *loop, async_queue_t *q);

/* Shut q down (asyncio 3.13): later puts fail with ASYNC_ESHUTDOWN and
 * blocked putters wake with it. Graceful (immediate = 0): queued items can
 * still be got; getters fail only once it is empty. Immediate: the queued
 * items are discarded, the unfinished count drops by as many, and blocked
 * getters wake with ASYNC_ESHUTDOWN. Joiners complete when the count
 * reaches zero. Returns 0 (also when already shut down) or ASYNC_EINVAL. */
int async_queue_shutdown(async_queue_t *q, int immediate);

/* Items queued now; capacity; 1/0 for empty and full. ASYNC_EINVAL for
 * NULL or an uninitialised queue, from each of these. */
int async_queue_size(const async_queue_t *q);
int async_queue_capacity(const async_queue_t *q);
int async_queue_empty(const async_queue_t *q);
int async_queue_full(const async_queue_t *q);
/* Items put and not yet marked done, or ASYNC_EINVAL. A program that
 * never calls task_done sees it stop at INT_MAX. */
int async_queue_unfinished(const async_queue_t *q);

/* ======================================================================
 * 10. Debug.
 * ==================================================================== */

/* Called on misuse with the error code and a sentence naming it, in debug
 * builds (ASYNC_CONFIG_DEBUG). NULL by default. */
extern void (*async_debug_hook)(int code, const char *what);

/* Name a task for the dump. Kept only in debug builds. Returns 0, or
 * ASYNC_EINVAL for a NULL task. */
int async_task_set_name(async_task_t *task, const char *name);
/* The task's name, "" if none or not a debug build. */
const char *async_task_name(const async_task_t *task);

#if ASYNC_CONFIG_DEBUG
/* Debug builds: call out(line, arg) once per live task with a line such
 * as "worker-1 WAITING at worker.c:42"; a task without a name shows as
 * its address ("task@0x20000a4c"). A task that got more queue items than
 * it has called async_queue_task_done for, over all queues, adds "holding
 * N queue item(s) not marked done" (the count is the task's own: an item
 * handed to another task to mark done stays counted here). Returns the
 * number of tasks, or ASYNC_EINVAL (NULL or uninitialised loop, NULL
 * out). */
int async_loop_dump(const async_loop_t *loop,
                    void (*out)(const char *line, void *arg), void *arg);
#endif


/* Private: shared by async.c and queue.c, not part of the API. */


/* For a small helper that every caller must inline: at -Os GCC keeps
 * some as calls, which on Thumb-1 cost more flash than their bodies. */
#if defined(__GNUC__)
#define ASYNC__INLINE __attribute__((__always_inline__)) inline
#else
#define ASYNC__INLINE inline
#endif

#define ASYNC__TF_WOKEN 0x01u /* resumed to re-evaluate: value in u.run */
#define ASYNC__TF_POLL 0x08u  /* on wake, re-evaluate the awaited op */
#define ASYNC__TF_DUE 0x40u   /* with TF_WOKEN: a cancellation is delivered */
void *async__copy(void *dst, const void *src, size_t n);
int async__resumed(async_task_t *t);
int async__suspend(async_task_t *t, async_waiter_t **list, uint8_t state,
                   uint8_t poll);
async_task_t *async__wake_first(async_loop_t *loop, async_waiter_t **list,
                                int value);
void async__wake_all(async_loop_t *loop, async_waiter_t **list, int value);
#if ASYNC_CONFIG_DEBUG
int async__misuse(int code, const char *what);
#define ASYNC__MISUSE(code, what) async__misuse((code), (what))
#else
#define ASYNC__MISUSE(code, what) (code)
#endif

/* ASYNC_ESTATE, read from the library under a link name that spells the
 * configuration: every coroutine body refers to it (in its cold branch),
 * so a file built with other layout flags fails to link. A load, not a
 * call: the body stays a leaf function. */
#define async__lost_code ASYNC__ABI(async__lost_code)
extern const int async__lost_code;

/* The running coroutine was resumed at a point its body does not own (an
 * AWAIT inside its own switch). The wake meant for that AWAIT is dropped,
 * so that the cleanup section's first AWAIT starts its own operation. */
static inline int async__lost_point(async_loop_t *loop)
{
    async_task_t *t = loop->current;
    t->flags = (uint8_t)(t->flags & ~(ASYNC__TF_WOKEN | ASYNC__TF_DUE));
    return ASYNC__MISUSE(async__lost_code, "resumed at an unknown point: "
                                           "an AWAIT inside a switch?");
}

static inline int async_yield(async_loop_t *loop)
{
    async_task_t *t = loop ? loop->current : NULL;
    if (!t)
        return ASYNC__MISUSE(ASYNC_ENOTASK, "async_yield outside a task");
    if (t->flags & ASYNC__TF_WOKEN) {
        /* Evaluated again on resume (inside wait_for): the yield is over,
         * or cancelled if the loop found a cancellation due. */
        uint8_t flags = t->flags;
        t->flags = (uint8_t)(flags & ~(ASYNC__TF_WOKEN | ASYNC__TF_DUE));
        return flags & ASYNC__TF_DUE ? ASYNC_ECANCELED : t->u.run.value;
    }
    /* A pending cancellation is delivered when the task resumes here. No
     * call on this path: a coroutine that only yields stays a leaf. */
    t->state = ASYNC_TASK_READY;
    t->u.run.value = 0;
    t->u.run.next = NULL;
    *loop->ready_link = t;
    loop->ready_link = &t->u.run.next;
    return ASYNC_WAIT;
}

#ifdef __cplusplus
}
#endif

#endif /* ASYNC_H */
