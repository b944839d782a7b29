#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Count individual test cases across meson test logs.

A Check program reports "Checks: N, Failures: F, Errors: E"; it counts as N
cases. Any other test program counts as one case. Usage:
    count.py LABEL=build/meson-logs/testlog.json ...
Prints a line per log and, last, "N passed, N failed".
"""
import json
import re
import sys

CHECK = re.compile(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)")


def count(path):
    passed = failed = 0
    with open(path) as f:
        for line in f:
            entry = json.loads(line)
            ok = entry["result"] in ("OK", "EXPECTEDFAIL", "SKIP")
            m = CHECK.search(entry.get("stdout") or "")
            if m:
                n, fails, errors = map(int, m.groups())
                passed += n - fails - errors
                failed += fails + errors
                if not ok and fails + errors == 0:
                    failed += 1  # crashed or timed out around Check
            elif ok:
                passed += 1
            else:
                failed += 1
    return passed, failed


def main():
    total_p = total_f = 0
    for arg in sys.argv[1:]:
        label, _, path = arg.rpartition("=")
        try:
            p, f = count(path)
        except OSError:
            p, f = 0, 1
            print(f"{label}: no test log at {path}")
        print(f"{label or path}: {p} passed, {f} failed")
        total_p += p
        total_f += f
    print(f"{total_p} passed, {total_f} failed")
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
