/* SPDX-License-Identifier: MIT */
/*
 * sizes.c - the size of every public object.
 *
 *     sizes           a table for this host
 *     sizes --raw     "name bytes" lines, for sizes.sh
 *
 * Compiled with -DSIZES_NO_MAIN it is only the size_* constants: sizes.sh
 * builds it that way for a 32-bit Cortex-M0+ and reads the constants back
 * from the object file, so both targets measure the same list.
 */
#include "async.h"

#define SIZES(X)                                                              \
    X(async_task_t)                                                           \
    X(async_frame_t)                                                          \
    X(async_loop_t)                                                           \
    X(async_timer_t)                                                          \
    X(async_queue_t)                                                          \
    X(async_future_t)                                                         \
    X(async_event_t)                                                          \
    X(async_lock_t)                                                           \
    X(async_semaphore_t)                                                      \
    X(async_gather_t)                                                         \
    X(async_gather_slot_t)                                                    \
    X(async_timeout_t)                                                        \
    X(async_callback_t)                                                       \
    X(heap_slot) /* one entry of the loop's timer heap storage */

typedef async_timer_t *heap_slot;

#define SIZES_DEFINE(type) const unsigned size_##type = sizeof(type);
SIZES(SIZES_DEFINE)

#if !defined(SIZES_NO_MAIN)
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    int raw = argc > 1 && strcmp(argv[1], "--raw") == 0;
    unsigned per_task = size_async_task_t + size_heap_slot;

#define SIZES_PRINT(type)                                                     \
    printf(raw ? "%s %u\n" : "  %-22s %3u\n", #type, size_##type);
    if (!raw)
        printf("sizes on this host (%u-bit pointers), default configuration:\n",
               (unsigned)(8 * sizeof(void *)));
    SIZES(SIZES_PRINT)
    if (!raw)
        printf("bytes per task, timer node included: %u (task) + %u (heap "
               "slot) = %u; library header per frame: %u\n",
               size_async_task_t, size_heap_slot, per_task, size_async_frame_t);
    return 0;
}
#endif
