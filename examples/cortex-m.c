/* SPDX-License-Identifier: MIT */
/*
 * cortex-m.c - a whole firmware main() on the Cortex-M port.
 *
 * SysTick counts the milliseconds, the core sleeps in WFI whenever no task
 * is ready, and a button interrupt wakes a task through async_post, the
 * one call that is safe from an interrupt. Build the library and this file
 * with the port's header as the configuration, plus your board's startup
 * file and linker script:
 *
 *   arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb -Os -I. \
 *       -DASYNC_CONFIG_FILE='"port/cortex-m.h"' \
 *       examples/cortex-m.c async.c queue.c port/cortex-m.c ...
 *
 * CI runs it on QEMU's mps2-an385 board (Cortex-M3 at 25 MHz), where
 * printf goes out through semihosting and nobody presses the button: the
 * LED blinks six times and main returns 0.
 */
#include <stdio.h>

#include "port/cortex-m.h"

#if !defined(CORE_HZ)
#define CORE_HZ 25000000u /* your core clock */
#endif
#define BLINKS 6
#define SLOW_MS 500
#define FAST_MS 100

static async_cortexm_t port;
static async_loop_t loop;
ASYNC_TIMERS(timers, 4);

/* ----------------------------------------------------------- interrupts */

void SysTick_Handler(void);
void SysTick_Handler(void)
{
    async_cortexm_systick(&port);
}

static async_event_t pressed;
static async_callback_t on_press; /* runs on the loop, after the interrupt */

static void press(async_loop_t *l, async_callback_t *cb)
{
    (void)l;
    (void)cb;
    async_event_set(&pressed);
}

/* Put this in your GPIO interrupt's vector. */
void button_irq(void);
void button_irq(void)
{
    async_post(&loop, &on_press);
}

/* ---------------------------------------------------------------- tasks */

static void led(int on)
{
    /* On a board: write the GPIO pin here. */
    printf("%5lu ms  LED %s\n", (unsigned long)async_loop_now(&loop),
           on ? "on" : "off");
}

struct speed {
    async_frame_t co;
    async_tick_t half; /* the LED's half-period, read by blink */
};

/* Each press of the button switches between slow and fast blinking. */
static int speed(async_loop_t *l, void *frame)
{
    struct speed *s = frame;
    ASYNC_BEGIN(l, s);
    for (;;) {
        AWAIT(async_event_wait(l, &pressed));
        async_event_clear(&pressed);
        s->half = s->half == SLOW_MS ? FAST_MS : SLOW_MS;
    }
    ASYNC_END;
}

struct blink {
    async_frame_t co;
    async_task_t speed_task;
    struct speed speed;
    int n;
};

static int blink(async_loop_t *l, void *frame)
{
    struct blink *b = frame;
    ASYNC_BEGIN(l, b);
    b->speed.half = SLOW_MS;
    async_task_create(l, &b->speed_task, speed, &b->speed);
    for (b->n = 0; b->n < BLINKS; b->n++) {
        led(1);
        AWAIT(async_sleep(l, b->speed.half));
        led(0);
        AWAIT(async_sleep(l, b->speed.half));
    }
    ASYNC_END; /* async_loop_run then cancels the speed task */
}

int main(void)
{
    static async_task_t task;
    static struct blink frame;
    int rc;

    async_cortexm_init(&port, CORE_HZ);
    async_loop_init(&loop, timers, 4);
    async_loop_set_port(&loop, &port.port);
    async_event_init(&pressed, &loop);
    async_callback_init(&on_press, press, NULL);
    rc = async_loop_run(&loop, &task, blink, &frame);
    if (rc < 0)
        printf("failed: %s\n", async_strerror(rc));
    return rc < 0;
}
