/* SPDX-License-Identifier: MIT */
/*
 * The POSIX port and posting from real threads and signal handlers: the
 * monotonic millisecond tick, a sleeping idle that a wake always ends (also
 * a wake that came before the idle), the wake descriptor for embedding, and
 * async_post under load: posts may coalesce but never vanish, and a loop
 * that goes to sleep while posts land is always woken.
 *
 * These tests run on real time and real threads. No assertion depends on
 * timing except lower bounds on sleeps; a post that vanishes shows up as a
 * poster thread that sees no progress for STALL_MS, which is recorded (and
 * the test then fails) before posting again, so a lost post fails the test
 * instead of hanging it.
 */
#include "posix_harness.h"

#include <poll.h>
#include <signal.h>

/* ------------------------------------------------------------- the port */

START_TEST(now_counts_milliseconds_of_the_monotonic_clock)
{
    uint64_t before = mono_ms();
    async_tick_t now = posix.port.now(posix.port.ctx);
    uint64_t after = mono_ms();
    /* now lies in [before, after], modulo the tick width */
    ck_assert_uint_le((async_tick_t)(now - (async_tick_t)before),
                      (async_tick_t)(after - before));
}
END_TEST

START_TEST(idle_sleeps_until_its_deadline)
{
    async_tick_t t0 = posix.port.now(posix.port.ctx), t1;
    posix.port.idle(posix.port.ctx, 30);
    t1 = posix.port.now(posix.port.ctx);
    ck_assert_uint_ge((async_tick_t)(t1 - t0), 30);
}
END_TEST

/* The wake that arrives between the loop's last look for work and its
 * sleep: the descriptor stays readable, so the sleep does not begin. */
START_TEST(a_wake_before_idle_is_not_lost)
{
    struct pollfd pfd = {async_posix_fd(&posix), POLLIN, 0};
    posix.port.wake(posix.port.ctx);
    posix.port.idle(posix.port.ctx, ASYNC_FOREVER); /* returns at once */
    /* ...and it drained the descriptor: the next idle sleeps again */
    ck_assert_int_eq(poll(&pfd, 1, 0), 0);
}
END_TEST

START_TEST(an_idle_that_was_woken_sleeps_again_next_time)
{
    async_tick_t t0, t1;
    posix.port.wake(posix.port.ctx);
    posix.port.wake(posix.port.ctx); /* coalesces with the first */
    posix.port.idle(posix.port.ctx, ASYNC_FOREVER);
    t0 = posix.port.now(posix.port.ctx);
    posix.port.idle(posix.port.ctx, 20);
    t1 = posix.port.now(posix.port.ctx);
    ck_assert_uint_ge((async_tick_t)(t1 - t0), 20);
}
END_TEST

static void *wake_later(void *arg)
{
    (void)arg;
    posix.port.wake(posix.port.ctx);
    return NULL;
}

START_TEST(another_thread_ends_an_idle_without_deadline)
{
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, wake_later, NULL), 0);
    posix.port.idle(posix.port.ctx, ASYNC_FOREVER); /* only the wake ends it */
    ck_assert_int_eq(pthread_join(th, NULL), 0);
}
END_TEST

struct sleeper {
    async_frame_t co;
};

static int sleep_25(async_loop_t *l, void *frame)
{
    ASYNC_BEGIN(l, frame);
    AWAIT(async_sleep(l, 25));
    ASYNC_END;
}

START_TEST(a_sleeping_loop_wakes_at_the_deadline_and_idles_meanwhile)
{
    static struct sleeper s;
    static async_task_t task;
    async_tick_t t0 = async_loop_now(&loop);
    ck_assert_int_eq(async_loop_run(&loop, &task, sleep_25, &s), 0);
    ck_assert_uint_ge((async_tick_t)(async_loop_now(&loop) - t0), 25);
    ck_assert_uint_ge(LOAD(idles), 1);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    async_posix_t closed;
    ck_assert_int_eq(async_posix_init(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_posix_fd(NULL), ASYNC_EINVAL);
    ck_assert_int_eq(async_posix_drain(NULL), ASYNC_EINVAL);
    async_posix_close(NULL); /* no effect */
    ck_assert_int_ge(async_posix_fd(&posix), 0);

    /* a closed port refuses, and closing again changes nothing */
    ck_assert_int_eq(async_posix_init(&closed), 0);
    async_posix_close(&closed);
    ck_assert_int_eq(async_posix_fd(&closed), ASYNC_EINVAL);
    ck_assert_int_eq(async_posix_drain(&closed), ASYNC_EINVAL);
    async_posix_close(&closed);
    ck_assert_int_eq(async_posix_fd(&closed), ASYNC_EINVAL);
}
END_TEST

/* --------------------------------------------------- the wake descriptor */

static int fd_runs;

static void count_run(async_loop_t *l, async_callback_t *cb)
{
    (void)l;
    (void)cb;
    fd_runs++;
}

START_TEST(the_wake_fd_is_readable_after_a_post_until_drained)
{
    static async_callback_t cb;
    struct pollfd pfd = {async_posix_fd(&posix), POLLIN, 0};
    fd_runs = 0;
    ck_assert_int_eq(async_callback_init(&cb, count_run, NULL), 0);
    ck_assert_int_eq(poll(&pfd, 1, 0), 0);
    ck_assert_int_eq(async_post(&loop, &cb), 0);
    ck_assert_int_eq(poll(&pfd, 1, 0), 1);
    ck_assert_int_eq(async_post(&loop, &cb), 0); /* coalesces */
    ck_assert_int_eq(async_posix_drain(&posix), 0);
    ck_assert_int_eq(poll(&pfd, 1, 0), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(fd_runs, 1);
    /* a post after the drain makes it readable again */
    ck_assert_int_eq(async_post(&loop, &cb), 0);
    ck_assert_int_eq(poll(&pfd, 1, 0), 1);
    ck_assert_int_eq(async_posix_drain(&posix), 0);
    ck_assert_int_eq(async_loop_run_once(&loop), 1);
    ck_assert_int_eq(fd_runs, 2);
    ck_assert_int_eq(poll(&pfd, 1, 0), 0);
}
END_TEST

/* An external poll() loop drives the loop: a task sleeps, then waits for
 * an event that a thread's post sets. */
static async_event_t ext_event;
static async_callback_t ext_cb;
static int ext_waiting; /* the task is about to wait: the thread may post */

static void ext_set(async_loop_t *l, async_callback_t *cb)
{
    (void)l;
    (void)cb;
    async_event_set(&ext_event);
}

static void *ext_poster(void *arg)
{
    (void)arg;
    while (!LOAD(ext_waiting))
        sched_yield();
    async_post(&loop, &ext_cb);
    return NULL;
}

static int ext_main(async_loop_t *l, void *frame)
{
    ASYNC_BEGIN(l, frame);
    AWAIT(async_sleep(l, 5));
    STORE(ext_waiting, 1);
    AWAIT(async_event_wait(l, &ext_event));
    ASYNC_RETURN(7);
    ASYNC_END;
}

START_TEST(an_external_poll_loop_can_drive_the_loop)
{
    static struct sleeper s;
    static async_task_t task;
    pthread_t th;
    struct pollfd pfd;
    int woken = 0, turns = 0;
    async_tick_t t0 = async_loop_now(&loop);

    ck_assert_int_eq(async_event_init(&ext_event, &loop), 0);
    ck_assert_int_eq(async_callback_init(&ext_cb, ext_set, NULL), 0);
    ck_assert_int_eq(async_task_create(&loop, &task, ext_main, &s), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, ext_poster, NULL), 0);
    while (async_task_state(&task) != ASYNC_TASK_DONE) {
        async_tick_t t = async_loop_next_timeout(&loop);
        int ms = t == ASYNC_FOREVER ? -1 : (int)t;
        pfd.fd = async_posix_fd(&posix);
        pfd.events = POLLIN;
        if (poll(&pfd, 1, ms) > 0) {
            woken++;
            ck_assert_int_eq(async_posix_drain(&posix), 0);
        }
        async_loop_run_once(&loop);
        turns++;
    }
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(async_task_result(&task), 7);
    ck_assert_uint_ge((async_tick_t)(async_loop_now(&loop) - t0), 5);
    /* The post made the descriptor readable: the loop saw that, or it ran
     * the post first (found pushed before the wake was written) and the
     * descriptor is readable now. */
    pfd.revents = 0;
    ck_assert_int_ge(woken + poll(&pfd, 1, 0), 1);
    ck_assert_int_lt(turns, 100); /* it slept, it did not spin */
}
END_TEST

/* ------------------------------------------------- posting from threads */
/*
 * The loop-side callback reads `published`, which every poster increments
 * before it posts, into `observed`. A post that coalesced with a queued run
 * is covered by that run, which starts after the post and so reads its
 * increment; a post that vanished leaves `observed` short for good. At
 * checkpoints a poster waits until `observed` covers its own last
 * increment; when every poster waits, the last post has nothing after it
 * to hide a loss.
 */
static async_callback_t seen_cb;
static async_event_t all_seen;
static unsigned long published, observed, total, runs;
static unsigned long stalls, stall_want, stall_seen;
static int busy_loop; /* the main task yields: the loop never sleeps */

static void seen(async_loop_t *l, async_callback_t *cb)
{
    unsigned long v = LOAD(published);
    (void)l;
    (void)cb;
    runs++;
    STORE(observed, v);
    if (v == LOAD(total) && !async_event_is_set(&all_seen))
        async_event_set(&all_seen);
}

/* Wait until the loop observed want. No progress for STALL_MS means a post
 * vanished (or a wake was lost): record it, and post again so that the
 * test ends and fails instead of hanging. After a first loss only the
 * final waits are kept, so a failing run ends soon. */
static void await_observed(unsigned long want, int final)
{
    unsigned long last = LOAD(observed), spins = 0;
    uint64_t since = mono_ms();
    while (LOAD(observed) < want) {
        unsigned long now = LOAD(observed);
        if (!final && LOAD(stalls))
            return;
        if (now != last) {
            last = now;
            since = mono_ms();
        } else if (mono_ms() - since > STALL_MS) {
            if (ADD(stalls, 1) == 1) {
                STORE(stall_want, want);
                STORE(stall_seen, now);
            }
            async_post(&loop, &seen_cb);
            since = mono_ms();
        }
        /* Spin first: the answer usually comes within microseconds, and a
         * yield on a busy machine can cost a whole time slice. */
        if (++spins % 256 == 0)
            sched_yield();
    }
}

static int wait_all_seen(async_loop_t *l, void *frame)
{
    ASYNC_BEGIN(l, frame);
    if (busy_loop) {
        while (!async_event_is_set(&all_seen))
            AWAIT(async_yield(l));
    } else {
        AWAIT(async_event_wait(l, &all_seen));
    }
    ASYNC_END;
}

static void seen_setup(unsigned long n, int busy)
{
    published = observed = runs = stalls = stall_want = stall_seen = 0;
    STORE(total, n);
    busy_loop = busy;
    ck_assert_int_eq(async_callback_init(&seen_cb, seen, NULL), 0);
    ck_assert_int_eq(async_event_init(&all_seen, &loop), 0);
}

/* Run the loop until every increment was observed, join the posters, run
 * what their last posts queued, and check the counts. */
static void seen_run_and_check(pthread_t *th, int n)
{
    static struct sleeper s;
    static async_task_t task;
    int i;
    memset(&s, 0, sizeof s);
    memset(&task, 0, sizeof task);
    ck_assert_int_eq(async_loop_run(&loop, &task, wait_all_seen, &s), 0);
    for (i = 0; i < n; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    while (async_loop_next_timeout(&loop) == 0)
        async_loop_run_once(&loop);
    ck_assert_msg(stalls == 0,
                  "%lu post(s) vanished: a poster waited %d ms for the loop "
                  "to observe %lu, it had observed %lu",
                  stalls, STALL_MS, stall_want, stall_seen);
    ck_assert_uint_eq(LOAD(published), LOAD(total));
    ck_assert_uint_eq(LOAD(observed), LOAD(total));
    ck_assert_uint_ge(runs, 1);
    /* at most one run per post (the burst test posts once more) */
    ck_assert_uint_le(runs, LOAD(total) + (busy_loop ? 1u : 0u));
    if (!busy_loop)
        ck_assert_uint_ge(LOAD(idles), 1); /* the loop did go to sleep */
}

/* Four posters, 100000 posts each, a checkpoint every 64: while one waits
 * at a checkpoint the others keep posting, and when all wait the loop runs
 * dry and goes to sleep. */
#define POSTERS 4
#define POSTS_EACH (100000 / SCALE)
#define CHECK_EVERY 64

static void *poster(void *arg)
{
    int i;
    (void)arg;
    for (i = 1; i <= POSTS_EACH; i++) {
        unsigned long v = ADD(published, 1);
        async_post(&loop, &seen_cb);
        if (i % CHECK_EVERY == 0 || i == POSTS_EACH)
            await_observed(v, i == POSTS_EACH);
    }
    return NULL;
}

START_TEST(posts_from_threads_coalesce_but_never_vanish)
{
    pthread_t th[POSTERS];
    int i;
    seen_setup((unsigned long)POSTERS * POSTS_EACH, 0);
    for (i = 0; i < POSTERS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, poster, NULL), 0);
    seen_run_and_check(th, POSTERS);
}
END_TEST

/* A loop that never sleeps runs the callback as soon as a post lands, so
 * the bursts' later posts arrive while the callback is being released and
 * run: the coalescing window itself. Bursts of 1 to 3 posts, a varying
 * pause between them, and a checkpoint after each burst. The window is a
 * few nanoseconds wide and needs the poster and the loop on two CPUs at
 * once, so this is a detector, not a proof: on an idle machine it finds a
 * loss there (if there is one) within a few thousand bursts. On a loaded
 * machine the bursts stop after BURST_MS rather than let the test time
 * out; the poster then announces the total and posts once more. */
#define BURSTS (400000 / (SCALE * SCALE)) /* busy loops crawl under TSan */
#define BURST_MS 20000

static void *burster(void *arg)
{
    unsigned long r, v = 0;
    uint64_t end = mono_ms() + BURST_MS;
    volatile int spin;
    int k;
    (void)arg;
    for (r = 0; r < BURSTS && mono_ms() < end; r++) {
        for (k = 0; k <= (int)(r % 3); k++) {
            v = ADD(published, 1);
            async_post(&loop, &seen_cb);
            for (spin = 0; spin < (int)(r % 7) * 3; spin++)
                ;
        }
        await_observed(v, 0);
    }
    STORE(total, LOAD(published));
    async_post(&loop, &seen_cb);
    await_observed(LOAD(total), 1);
    return NULL;
}

START_TEST(posts_landing_while_the_callback_runs_are_not_lost)
{
    pthread_t th;
    seen_setup((unsigned long)-1, 1); /* the poster sets the total */
    ck_assert_int_eq(pthread_create(&th, NULL, burster, NULL), 0);
    seen_run_and_check(&th, 1);
}
END_TEST

/* One poster, one post at a time, each answered before the next: every
 * post lands while the loop is finishing its turn and heading for sleep,
 * with no timer pending, so only the wake can end that sleep. */
#define ROUNDS (20000 / SCALE)

static void *ping(void *arg)
{
    unsigned long r;
    (void)arg;
    for (r = 1; r <= ROUNDS; r++) {
        STORE(published, r);
        async_post(&loop, &seen_cb);
        await_observed(r, r == ROUNDS);
    }
    return NULL;
}

START_TEST(a_post_racing_the_loop_into_sleep_wakes_it)
{
    pthread_t th;
    seen_setup(ROUNDS, 0);
    ck_assert_int_eq(pthread_create(&th, NULL, ping, NULL), 0);
    seen_run_and_check(&th, 1);
}
END_TEST

/* ----------------------------------------------------- signal handlers */
/*
 * A signal handler stands in for an interrupt: it runs on the loop's own
 * thread at any point (in the middle of a turn, inside poll()), counts
 * itself in `published` and posts. A sender thread signals the loop thread
 * again each time the previous handler has run.
 */
#define SIGNALS (20000 / SCALE)

static pthread_t loop_thread;
static unsigned long raised;

static void on_signal(int sig)
{
    (void)sig;
    ADD(raised, 1);
    ADD(published, 1);
    async_post(&loop, &seen_cb); /* async-signal-safe */
}

static void *sender(void *arg)
{
    unsigned long i;
    (void)arg;
    for (i = 1; i <= SIGNALS; i++) {
        pthread_kill(loop_thread, SIGUSR1);
        while (LOAD(raised) < i)
            sched_yield();
    }
    await_observed(SIGNALS, 1);
    return NULL;
}

/* A callback a thread posts that the loop also queues with call_soon:
 * whichever claims it first links it, the other coalesces (call_soon says
 * ASYNC_EBUSY), so no turn runs it twice and its link never loops back on
 * itself (which hangs the turn). Like the burst test, a detector: the
 * window between a claim's test and its set is a few instructions. */
#define MIXED_TURNS (200000 / SCALE)

static int mixed_stop;
static async_callback_t mixed_cb;

static void mixed_fn(async_loop_t *l, async_callback_t *cb)
{
    (void)l;
    (void)cb;
}

static void *mixed_poster(void *arg)
{
    (void)arg;
    while (!LOAD(mixed_stop))
        async_post(&loop, &mixed_cb);
    return NULL;
}

START_TEST(a_callback_posted_and_queued_on_the_loop_at_once_is_linked_once)
{
    pthread_t th;
    int i, rc, ran, worst = 0;
    ck_assert_int_eq(async_callback_init(&mixed_cb, mixed_fn, NULL), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, mixed_poster, NULL), 0);
    for (i = 0; i < MIXED_TURNS; i++) {
        rc = async_call_soon(&loop, &mixed_cb);
        ck_assert(rc == 0 || rc == ASYNC_EBUSY);
        ran = async_loop_run_once(&loop);
        if (ran > worst)
            worst = ran;
    }
    STORE(mixed_stop, 1);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    while (async_loop_run_once(&loop) > 0)
        ;
    ck_assert_int_eq(worst, 1);
}
END_TEST


START_TEST(posts_from_a_signal_handler_are_all_received)
{
    struct sigaction sa, old;
    pthread_t th;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);
    raised = 0;
    loop_thread = pthread_self();
    seen_setup(SIGNALS, 0);
    ck_assert_int_eq(pthread_create(&th, NULL, sender, NULL), 0);
    seen_run_and_check(&th, 1);
    ck_assert_uint_eq(LOAD(raised), SIGNALS); /* sent == received */
    ck_assert_int_eq(sigaction(SIGUSR1, &old, NULL), 0);
}
END_TEST

static Suite *post_suite(void)
{
    Suite *s = suite_create("posix_post");
    TCase *tc = posix_tcase("port", 10);
    tcase_add_test(tc, now_counts_milliseconds_of_the_monotonic_clock);
    tcase_add_test(tc, idle_sleeps_until_its_deadline);
    tcase_add_test(tc, a_wake_before_idle_is_not_lost);
    tcase_add_test(tc, an_idle_that_was_woken_sleeps_again_next_time);
    tcase_add_test(tc, another_thread_ends_an_idle_without_deadline);
    tcase_add_test(tc, a_sleeping_loop_wakes_at_the_deadline_and_idles_meanwhile);
    tcase_add_test(tc, bad_arguments_are_refused);
    suite_add_tcase(s, tc);

    tc = posix_tcase("embedding", 10);
    tcase_add_test(tc, the_wake_fd_is_readable_after_a_post_until_drained);
    tcase_add_test(tc, an_external_poll_loop_can_drive_the_loop);
    suite_add_tcase(s, tc);

    tc = posix_tcase("posting", 240);
    tcase_add_test(tc, posts_from_threads_coalesce_but_never_vanish);
    tcase_add_test(tc, posts_landing_while_the_callback_runs_are_not_lost);
    tcase_add_test(tc, a_post_racing_the_loop_into_sleep_wakes_it);
    tcase_add_test(tc, posts_from_a_signal_handler_are_all_received);
    tcase_add_test(tc, a_callback_posted_and_queued_on_the_loop_at_once_is_linked_once);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(post_suite)
