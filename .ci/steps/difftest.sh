#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CI step: the differential test of async.h against Python's asyncio.
#
# tests/difftest/run.py generates random scenarios (tasks, nested
# coroutines, sleeps, wait_for, wait, gather, cancel, cleanup sections),
# runs each as C against async.h, built with ASan and UBSan, and as Python
# asyncio on a virtual clock, and compares the traces task by task
# (tests/difftest/README.md). Fixed seed ranges, so every run checks the
# same scenarios; one case per profile (tests/difftest/profiles.json) in
# .ci/out/difftest.json, meson's testlog format:
#   difftest/default    the default generator, gcc
#   difftest/fullloop   every step kind and option, loops, gcc
#   difftest/wrap32     fullloop with the clock starting 16 ticks before
#                       the 32-bit tick wraps (-DDT_BASE=0xFFFFFFF0u)
#   difftest/tick16     fullloop, 16-bit ticks, starting before the wrap
#   difftest/goto       fullloop, clang, -DASYNC_CONFIG_LC_GOTO=1
#   difftest/debug      fullloop, -DASYNC_CONFIG_DEBUG=1 (a misuse report
#                       from the library is a difference)
#   difftest/queue      fullloop plus a shared FIFO queue (capacity 1-3),
#                       an event, a lock and a semaphore (queue.c linked in)
#   difftest/queue-wrap queue, 16-bit ticks, starting before the wrap
# A case passes iff every seed of its range ran and agreed: a difference,
# a crash, a sanitizer report, a hang, a build failure or no seed run at
# all fails it. Its output says how many seeds ran and, for each failing
# seed, the first difference and the command that shows that seed's
# program and both traces:
#     python3 tests/difftest/run.py --show SEED --profile NAME
# DIFFTEST_COUNT overrides the seeds per profile, DIFFTEST_JOBS the
# parallel builds (2). Exits non-zero if any case failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
out=.ci/out
log=$out/difftest.json
jobs=${DIFFTEST_JOBS:-2}
timeout_s=900 # a backstop per profile; run.py gives a scenario 10 s
mkdir -p "$out"
: >"$log"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=../testlog.sh
. .ci/testlog.sh

for tool in python3 gcc clang; do
  if ! command -v "$tool" >/dev/null; then
    echo "$tool is missing" >"$work/missing"
    record difftest/tools FAIL "$work/missing"
    exit 1
  fi
done

# profile, first seed, seeds: disjoint ranges, so that the profiles that
# share a generator see different scenarios. About 3.5 minutes in all on a
# two-core machine (the compiler is most of it).
profiles="
default    0     600
fullloop   30000 400
wrap32     40000 250
tick16     50000 250
goto       60000 400
debug      70000 250
queue      90000 450
queue-wrap 91000 250
"

while read -r name start count; do
  [ -n "$name" ] || continue
  count=${DIFFTEST_COUNT:-$count}
  o=$work/$name.out
  t0=$SECONDS
  timeout -k 10 "$timeout_s" python3 tests/difftest/run.py \
    --profile "$name" --start "$start" --count "$count" -j "$jobs" \
    </dev/null >"$o" 2>&1
  rc=$?
  secs=$((SECONDS - t0))
  # run.py's last line: "difftest NAME: N seeds run, N failing[, N not run]"
  ran=$(sed -n "s/^difftest $name: \([0-9]*\) seeds run.*/\1/p" "$o" |
    tail -1)
  summary="difftest/$name: ${ran:-no} of $count seeds"
  summary="$summary ($start..$((start + count - 1))) run in $secs s"
  echo "$summary" >>"$o"
  echo "$summary"
  # A clean exit that ran no seed, or not all of them, is a failure too.
  if [ "$rc" -eq 0 ] && { [ "${ran:-0}" -eq 0 ] || [ "$ran" -ne "$count" ]; }
  then
    echo "--- not every seed ran" >>"$o"
    rc=1
  fi
  judge "difftest/$name" "$rc" "$o" /dev/null - "$work/$name.txt"
done <<<"$profiles"

echo "difftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
