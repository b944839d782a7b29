/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the queue model: the fuzzer's bytes decode into a
 * program of producers, consumers, a joiner and a controller (the decoder
 * of tests/model.h, the one the fixed seeds of tests/test_model.c go
 * through), which runs on virtual or stepped time while every result,
 * item, wakeup and tick is checked against the reference model. Any byte
 * string is a valid program; a broken contract aborts with a message that
 * names it, and libFuzzer keeps the input.
 *
 * Built and run by .ci/steps/fuzz.sh. To replay an input with the program
 * and every operation printed:
 *     ASYNC_MODEL_TRACE=1 build-fuzz/fuzz_model build-fuzz/crash-...
 */
#include <stddef.h>
#include <stdint.h>

#include "model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *trace = getenv("ASYNC_MODEL_TRACE");
    (void)argc;
    (void)argv;
    model_trace = trace && *trace && *trace != '0';
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct model_program p;
    char label[48];
    model_program_from_bytes(&p, data, size);
    snprintf(label, sizeof label, "fuzz input of %lu bytes",
             (unsigned long)size);
    model_run(&p, label);
    return 0;
}
