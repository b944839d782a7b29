#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CI step: the POSIX port's suites (posting from threads and signal
# handlers, to_thread) under ThreadSanitizer, built with clang.
#
# The meson test log is copied to .ci/out/tsan.json so that the summary
# counts its Check cases. A data race makes the forked test process exit
# non-zero, which Check reports as an error in that case.
# Exits non-zero if the build or any test failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
mkdir -p .ci/out
dir=build-tsan
log=.ci/out/tsan.json

fail() {
  echo "tsan.sh: $1"
  python3 -c 'import json,sys; print(json.dumps({"name": "tsan/build",
    "result": "FAIL", "stdout": sys.argv[1]}))' "$1" >"$log"
  exit 1
}

command -v clang >/dev/null || fail "clang is missing"
rm -rf "$dir"
setup_log=$(mktemp)
trap 'rm -f "$setup_log"' EXIT
CC=clang meson setup "$dir" -Db_sanitize=thread -Db_lundef=false \
  >"$setup_log" 2>&1 || fail "meson setup failed: $(tail -5 "$setup_log")"
# halt_on_error keeps the first report short; second_deadlock_stack helps
# read a lock-order report.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  meson test -C "$dir" --suite posix --print-errorlogs
status=$?
if [ -f "$dir/meson-logs/testlog.json" ]; then
  cp "$dir/meson-logs/testlog.json" "$log"
elif [ $status -ne 0 ]; then
  fail "no test log (build failed?)"
fi
exit $status
