/* SPDX-License-Identifier: MIT */
/* qemu: yes */
/*
 * timeouts.c - async_wait_for (asyncio.wait_for) and cleanup order.
 *
 *   1. Slow work under a deadline. When the deadline passes, the work is
 *      cancelled where it waits; the cleanup sections run innermost first
 *      (they may await, e.g. to close a connection), and only when they
 *      have finished does the caller see ASYNC_ETIMEDOUT.
 *   2. Work that finishes in time: its result comes back, the deadline is
 *      disarmed.
 *   3. A task waiting under a deadline is cancelled from outside: that is
 *      reported as ASYNC_ECANCELED, never as a timeout.
 *   4. A queue get with a deadline: a timeout takes nothing from the queue.
 */
#include "example.h"

/* The order of events in part 1, for the self-check. */
static int step, chunk_cleanup_step, download_cleanup_step, closed_step;

/* Read one chunk: takes ms, returns the bytes read. */
struct read_chunk {
    async_frame_t co;
    uint32_t ms;
};

static int read_chunk(async_loop_t *loop, void *frame)
{
    struct read_chunk *r = frame;
    ASYNC_BEGIN(loop, r);
    say("    read_chunk: waiting %lu.%03lu s for data", SEC3(r->ms));
    AWAIT(async_sleep(loop, r->ms));
    ASYNC_RETURN(512);
    ASYNC_FINALLY;
    if (ASYNC_RESULT < 0) {
        chunk_cleanup_step = ++step;
        say("    read_chunk: cleanup after %s", async_strerror_name(ASYNC_RESULT));
    }
    ASYNC_END;
}

/* A download: open a connection, read a chunk, always close. */
struct download {
    async_frame_t co;
    struct read_chunk chunk;
    int bytes;
};

static int download(async_loop_t *loop, void *frame)
{
    struct download *d = frame;
    ASYNC_BEGIN(loop, d);
    say("  download: connected");
    AWAIT_VALUE(d->bytes, async_call(loop, read_chunk, &d->chunk));
    say("  download: got %d bytes", d->bytes);
    ASYNC_RETURN(d->bytes);
    ASYNC_FINALLY;
    /* A cleanup section may await; a cancellation cannot interrupt it. */
    download_cleanup_step = ++step;
    say("  download: cleanup after %s: closing the connection",
        async_strerror_name(ASYNC_RESULT));
    AWAIT(async_sleep(loop, 50));
    closed_step = ++step;
    say("  download: connection closed");
    ASYNC_END;
}

/* Part 3: a task that waits for a download with a 1 s deadline. */
struct impatient {
    async_frame_t co;
    struct download download;
    async_timeout_t deadline;
    int rc;
};

static int impatient(async_loop_t *loop, void *frame)
{
    struct impatient *t = frame;
    ASYNC_BEGIN(loop, t);
    AWAIT_TRY(t->rc, async_wait_for(loop, &t->deadline, 1000,
                                    async_call(loop, download, &t->download)));
    say("task: wait_for returned %s", async_strerror_name(t->rc));
    ASYNC_RETURN(t->rc);
    ASYNC_END;
}

/* Part 4: puts one message after a while. */
static async_queue_t mailbox;
static int mailbox_storage[4];

struct sender {
    async_frame_t co;
    int message;
};

static int sender(async_loop_t *loop, void *frame)
{
    struct sender *s = frame;
    ASYNC_BEGIN(loop, s);
    AWAIT(async_sleep(loop, 50));
    say("sender: puts %d", s->message);
    AWAIT(async_queue_put(loop, &mailbox, &s->message));
    ASYNC_END;
}

struct app {
    async_frame_t co;
    struct download download;
    struct impatient impatient;
    struct sender sender;
    async_task_t task;
    async_timeout_t deadline;
    int rc, message;
};

static int app(async_loop_t *loop, void *frame)
{
    struct app *a = frame;
    ASYNC_BEGIN(loop, a);

    printf("--- 1. a 2 s download under a 0.5 s deadline\n");
    a->download.chunk.ms = 2000;
    AWAIT_TRY(a->rc, async_wait_for(loop, &a->deadline, 500,
                                    async_call(loop, download, &a->download)));
    say("main: wait_for returned %s", async_strerror_name(a->rc));
    check(a->rc == ASYNC_ETIMEDOUT, "the caller sees ASYNC_ETIMEDOUT");
    check(chunk_cleanup_step == 1 && download_cleanup_step == 2,
          "cleanup ran innermost first");
    check(closed_step == 3 && step == 3,
          "cleanup had finished before the caller saw the timeout");

    printf("--- 2. a 0.2 s download under a 0.5 s deadline\n");
    example_clock_reset();
    memset(&a->download, 0, sizeof a->download);
    a->download.chunk.ms = 200;
    AWAIT_TRY(a->rc, async_wait_for(loop, &a->deadline, 500,
                                    async_call(loop, download, &a->download)));
    say("main: wait_for returned %d", a->rc);
    check(a->rc == 512, "work done in time returns its result");

    printf("--- 3. cancelled from outside while under a deadline\n");
    example_clock_reset();
    a->impatient.download.chunk.ms = 2000;
    async_task_create(loop, &a->task, impatient, &a->impatient);
    AWAIT(async_sleep(loop, 300));
    say("main: cancels the task");
    async_task_cancel(loop, &a->task);
    AWAIT_TRY(a->rc, async_task_wait(loop, &a->task));
    say("main: the task ended with %s", async_strerror_name(a->rc));
    check(a->impatient.rc == ASYNC_ECANCELED && a->rc == ASYNC_ECANCELED,
          "a cancellation is not reported as a timeout");

    printf("--- 4. a queue get under a deadline\n");
    example_clock_reset();
    async_queue_init(&mailbox, loop, mailbox_storage, sizeof(int), 4,
                     ASYNC_QUEUE_FIFO, NULL);
    AWAIT_TRY(a->rc, async_wait_for(loop, &a->deadline, 100,
                                    async_queue_get(loop, &mailbox, &a->message)));
    say("main: get with a 0.1 s deadline on an empty queue returned %s",
        async_strerror_name(a->rc));
    check(a->rc == ASYNC_ETIMEDOUT, "an empty queue times out");
    a->sender.message = 7;
    async_task_create(loop, &a->task, sender, &a->sender);
    AWAIT_TRY(a->rc, async_wait_for(loop, &a->deadline, 100,
                                    async_queue_get(loop, &mailbox, &a->message)));
    say("main: get with a 0.1 s deadline returned %s: message %d",
        async_strerror_name(a->rc), a->message);
    check(a->rc == 0 && a->message == 7 && async_queue_size(&mailbox) == 0,
          "a message in time is got, once");
    AWAIT(async_task_wait(loop, &a->task));
    ASYNC_END;
}

int main(int argc, char **argv)
{
    static struct app a;
    return example_run(argc, argv, app, &a);
}
