#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CI step: fuzz the queue model with libFuzzer.
#
# tests/fuzz/fuzz_model.c feeds the fuzzer's bytes to the scenario
# interpreter of tests/model.h (the one tests/test_model.c runs on fixed
# seeds): producers, consumers, a joiner and a controller that cancels
# them and shuts the queue down, checked operation by operation against a
# reference model. Built with clang -fsanitize=fuzzer,address,undefined
# against async.c and queue.c, all instrumented, so coverage guides the
# fuzzer through the library as well.
#
# Checks (one line each in .ci/out/fuzz.json, meson's testlog format):
#   fuzz/model   builds, then runs FUZZ_TIME seconds (default 60) without a
#                crash, a sanitizer report, a leak or a slow input
#                (-timeout=10); its output ends with libFuzzer's final
#                stats, and a line with executions, executions/s and the
#                corpus size is printed.
# The corpus persists in build-fuzz/corpus, so later runs go on from it;
# it starts from a few deterministic byte strings. A failing input is kept
# as build-fuzz/crash-* (or leak-*, timeout-*); replay it with its program
# and every operation printed:
#     ASYNC_MODEL_TRACE=1 build-fuzz/fuzz_model build-fuzz/crash-...
# Exits non-zero if the build or the run failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
out=.ci/out
log=$out/fuzz.json
dir=build-fuzz
fuzz_time=${FUZZ_TIME:-60}
timeout_s=$((fuzz_time + 120)) # libFuzzer stops itself; this is a backstop
mkdir -p "$out" "$dir/corpus"
: >"$log"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=../testlog.sh
. .ci/testlog.sh

for tool in clang python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool is missing" >"$work/missing"
    record fuzz/tools FAIL "$work/missing"
    exit 1
  fi
done

bin=$dir/fuzz_model
if ! clang -std=c99 -g -O1 -Wall -Wextra -Werror \
     -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     -I. -Itests -o "$bin" tests/fuzz/fuzz_model.c async.c queue.c \
     >"$work/build.log" 2>&1; then
  echo "build failed (libFuzzer comes with libclang-rt-14-dev)" \
    >>"$work/build.log"
  record fuzz/model FAIL "$work/build.log"
  echo "fuzz: $passed passed, $failed failed"
  exit 1
fi

# Seeds: a few programs of every size a program takes (about 220 bytes at
# most), the same on every run.
python3 - "$dir/corpus" <<'PY'
import os, random, sys
rng = random.Random(2024)
for i in range(16):
    data = bytes(rng.randrange(256) for _ in range(16 + 16 * i))
    with open(os.path.join(sys.argv[1], "seed-%02d" % i), "wb") as f:
        f.write(data)
PY

start=$SECONDS
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  timeout -k 10 "$timeout_s" "$bin" -max_total_time="$fuzz_time" \
  -max_len=256 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$dir/" "$dir/corpus" >"$work/run.out" 2>"$work/run.err"
rc=$?
secs=$((SECONDS - start))

# libFuzzer reports on stderr; its last lines are the final stats.
stat() { sed -n "s/^stat::$1: *//p" "$work/run.err" | tail -1; }
execs=$(stat number_of_executed_units)
units=$(find "$dir/corpus" -type f | wc -l)
rate='?'
[ -n "$execs" ] && rate=$((execs / (secs > 0 ? secs : 1)))
summary="fuzz/model: ${execs:-?} executions in $secs s ($rate exec/s),"
summary="$summary corpus $units inputs"
echo "$summary"
{
  echo "$summary"
  grep -E '^(#[0-9]+ +DONE|Done )' "$work/run.err" | tail -2
  if [ "$rc" -ne 0 ]; then
    echo "--- the run's last 60 lines"
    tail -60 "$work/run.err"
    for f in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-*; do
      [ -e "$f" ] && echo "replay: ASYNC_MODEL_TRACE=1 $bin $f"
    done
  else
    grep '^stat::' "$work/run.err"
  fi
} >"$work/report"
# A run that executed nothing, or stopped well before its time without
# a finding, has tested nothing: that fails too.
if [ "$rc" -eq 0 ] && { [ -z "$execs" ] || [ "$execs" -eq 0 ] ||
                        [ $((secs * 10)) -lt $((fuzz_time * 8)) ]; }; then
  echo "--- the fuzzer ran ${execs:-no} executions in $secs of $fuzz_time s" \
    >>"$work/report"
  rc=1
fi
: >"$work/empty"
judge fuzz/model "$rc" "$work/report" "$work/empty" - "$work/result"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
