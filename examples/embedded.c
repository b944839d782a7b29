/* SPDX-License-Identifier: MIT */
/* qemu: yes */
/*
 * embedded.c - a blinking LED and a debounced button, firmware style.
 *
 * A timer interrupt samples the button pin every 10 ms. An interrupt
 * handler must be short and may call only ISR-safe functions, so it stores
 * the sample in a small ring and posts a callback with async_post. The
 * callback runs on the loop, where anything may be called, and moves the
 * samples into a queue. The button task debounces them: a new level counts
 * only after 3 equal samples in a row, so contact bounce and a noise spike
 * are ignored. Each press switches the LED task between slow and fast
 * blinking.
 *
 * On the host there is no pin and no timer interrupt, so a "hardware" task
 * stands in for both: it plays back a recorded bouncy waveform on the pin
 * and calls the interrupt handler every 10 ms. On a board, tick_isr would
 * be the SysTick or timer handler and the rest would stay as it is. The
 * hardware task also samples the LED and the debounced button every 0.1 s,
 * like a logic analyser, to draw the timeline at the end.
 */
#include "example.h"

#define SAMPLE_MS 10   /* the interrupt's period */
#define STABLE 3       /* equal samples in a row that make a new level */
#define SLOW_MS 400    /* LED half-period, slow and fast */
#define FAST_MS 100
#define RUN_MS 4000    /* how long the firmware runs here */
#define PRESSES 2      /* in the waveform below */

static async_loop_t *loop_for_isr; /* the loop the interrupt posts to */

/* ------------------------------------------------------------ hardware */

/* The button pin as recorded: the level changes at these times (ms). A
 * press or release bounces for a few ms; at 2.2 s a 5 ms spike of noise. */
static const struct edge {
    uint16_t ms;
    uint8_t level;
} waveform[] = {
    {800, 1}, {803, 0}, {809, 1}, {816, 0}, {822, 1}, /* press */
    {1600, 0}, {1606, 1}, {1611, 0},                  /* release */
    {2200, 1}, {2205, 0},                             /* noise */
    {2600, 1}, {2604, 0}, {2612, 1},                  /* press */
    {3300, 0}, {3307, 1}, {3313, 0},                  /* release */
};

static unsigned long pin_clock_ms; /* the hardware's time: its last tick */

static uint8_t read_pin(void)
{
    unsigned long now = pin_clock_ms;
    uint8_t level = 0;
    size_t i;
    for (i = 0; i < sizeof waveform / sizeof waveform[0]; i++)
        if (waveform[i].ms <= now)
            level = waveform[i].level;
    return level;
}

/* ------------------------------------------- interrupt -> loop -> queue */

/* The interrupt's mailbox. Only the interrupt writes ring_head, only the
 * loop writes ring_tail; on a single-core MCU aligned 32-bit accesses are
 * atomic, and volatile keeps the compiler from caching them. */
#define RING 8 /* a power of two, so the indexes may wrap */
static volatile uint8_t ring[RING];
static volatile uint32_t ring_head, ring_tail;
static async_callback_t samples_posted;
static unsigned long ring_overruns, queue_overruns;

/* The timer interrupt. Posts coalesce (a callback still queued runs once),
 * which is why the samples travel in the ring, not in the post. */
static void tick_isr(void)
{
    uint32_t head = ring_head;
    if (head - ring_tail < RING) {
        ring[head % RING] = read_pin();
        ring_head = head + 1;
    } else {
        ring_overruns++;
    }
    async_post(loop_for_isr, &samples_posted); /* ISR-safe */
}

static async_queue_t samples;
static uint8_t samples_storage[16];

/* Runs on the loop after a post: hand the samples to the button task. */
static void on_samples_posted(async_loop_t *loop, async_callback_t *cb)
{
    uint8_t level;
    (void)loop;
    (void)cb;
    while (ring_tail != ring_head) {
        level = ring[ring_tail % RING];
        ring_tail++;
        if (async_queue_put_nowait(&samples, &level) < 0)
            queue_overruns++;
    }
}

/* --------------------------------------------------------------- tasks */

static int led_on, led_fast;                /* the LED and its mode */
static int presses, releases, ignored;      /* for the checks */
static int button_down;                     /* the debounced level */

struct button {
    async_frame_t co;
    uint8_t sample;
    int run; /* samples in a row that differ from the debounced level */
};

static int button_task(async_loop_t *loop, void *frame)
{
    struct button *b = frame;
    ASYNC_BEGIN(loop, b);
    for (;;) {
        AWAIT(async_queue_get(loop, &samples, &b->sample));
        if (b->sample == button_down) {
            if (b->run > 0) {
                ignored++;
                say("button: bounce ignored (%d of %d samples)", b->run,
                    STABLE);
            }
            b->run = 0;
        } else if (++b->run == STABLE) {
            b->run = 0;
            button_down = b->sample;
            if (button_down) {
                presses++;
                led_fast = !led_fast;
                say("button: pressed -> LED blinks %s",
                    led_fast ? "fast" : "slowly");
            } else {
                releases++;
                say("button: released");
            }
        }
    }
    ASYNC_END;
}

/* Ticks from now until deadline_ms (counted from the start), 0 if it has
 * passed. Periodic tasks sleep until their next deadline rather than for a
 * period, so that late wakeups in real time do not add up. */
static async_tick_t until(unsigned long deadline_ms)
{
    unsigned long now = example_ms();
    return deadline_ms > now ? (async_tick_t)(deadline_ms - now) : 0;
}

struct led {
    async_frame_t co;
    unsigned long next; /* the next toggle, in ms */
};

static int led_task(async_loop_t *loop, void *frame)
{
    struct led *l = frame;
    ASYNC_BEGIN(loop, l);
    for (;;) {
        led_on = !led_on;
        l->next += led_fast ? FAST_MS : SLOW_MS;
        AWAIT(async_sleep(loop, until(l->next)));
    }
    ASYNC_END;
}

/* The stand-in for the hardware, and the logic analyser. */
#define TRACE_STEP_MS 100
static char led_trace[RUN_MS / TRACE_STEP_MS + 1];
static char button_trace[RUN_MS / TRACE_STEP_MS + 1];

struct hardware {
    async_frame_t co;
    unsigned long n;
};

static int hardware(async_loop_t *loop, void *frame)
{
    struct hardware *h = frame;
    ASYNC_BEGIN(loop, h);
    for (;;) {
        AWAIT(async_sleep(loop, until(pin_clock_ms + SAMPLE_MS)));
        pin_clock_ms += SAMPLE_MS;
        tick_isr();
        /* Sample halfway through each step, away from the LED's edges. */
        if (pin_clock_ms % TRACE_STEP_MS == TRACE_STEP_MS / 2 &&
            h->n < RUN_MS / TRACE_STEP_MS) {
            led_trace[h->n] = led_on ? '#' : '.';
            button_trace[h->n] = button_down ? '#' : '.';
            h->n++;
        }
    }
    ASYNC_END;
}

/* ---------------------------------------------------------------- main */

struct app {
    async_frame_t co;
    struct button button;
    struct led led;
    struct hardware hardware;
    async_task_t tasks[3];
};

static int app(async_loop_t *loop, void *frame)
{
    struct app *a = frame;
    ASYNC_BEGIN(loop, a);
    loop_for_isr = loop;
    async_queue_init(&samples, loop, samples_storage, 1,
                     sizeof samples_storage, ASYNC_QUEUE_FIFO, NULL);
    async_callback_init(&samples_posted, on_samples_posted, NULL);
    async_task_create(loop, &a->tasks[0], button_task, &a->button);
    async_task_create(loop, &a->tasks[1], led_task, &a->led);
    async_task_create(loop, &a->tasks[2], hardware, &a->hardware);
    say("firmware: LED toggles every %lu.%03lu s (fast: %lu.%03lu s), "
        "button sampled every %d ms", SEC3(SLOW_MS), SEC3(FAST_MS), SAMPLE_MS);

    AWAIT(async_sleep(loop, RUN_MS));

    printf("====\n");
    printf("timeline, one column per 0.1 s (# = on / pressed)\n");
    printf("        0s        1s        2s        3s        4s\n");
    printf("button  %s\n", button_trace);
    printf("LED     %s\n", led_trace);
    printf("%d presses, %d releases, %d bounces and glitches ignored, "
           "%lu samples lost\n", presses, releases, ignored,
           ring_overruns + queue_overruns);
    check(presses == PRESSES && releases == PRESSES,
          "every press and release seen once, bounces ignored");
    check(ignored > 0, "bounces were seen and ignored");
    check(ring_overruns == 0 && queue_overruns == 0, "no sample was lost");
    ASYNC_END; /* the loop then cancels the tasks, as asyncio.run does */
}

int main(int argc, char **argv)
{
    static struct app a;
    return example_run(argc, argv, app, &a);
}
