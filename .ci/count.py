#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Count individual test cases across meson test logs.

    count.py [--expect LABEL=NAMES] LABEL=LOG[@RC] ...

LOG is a meson testlog.json (or a step's log in that format); RC is the
exit status of the step that wrote it. A Check program reports "Checks: N,
Failures: F, Errors: E" and counts as N cases; any other test counts as
one. Prints a line per log and, last, "N passed, N failed".

Nothing that did not run counts as a pass:
- a missing or empty log, or one with no case at all, is a failure;
- a Check program that ran no case ("Checks: 0") is a failure;
- a skipped test is a failure (CI installs everything the suite needs);
- a step that exited non-zero with no failing case in its log (killed,
  timed out, crashed between tests) adds a failure;
- with --expect, every test named in the file NAMES (one per line) must be
  in LABEL's log: each one missing is a failure.
"""
import json
import re
import sys

CHECK = re.compile(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)")


def count(path, expected):
    """(passed, failed, notes) for one log."""
    passed = failed = 0
    notes = []
    names = set()
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            entry = json.loads(line)
            names.add(entry.get("name", ""))
            ok = entry["result"] in ("OK", "EXPECTEDFAIL")
            m = CHECK.search(entry.get("stdout") or "")
            if m:
                n, fails, errors = map(int, m.groups())
                passed += n - fails - errors
                failed += fails + errors
                if n == 0:
                    failed += 1
                    notes.append("%s ran no case" % entry.get("name"))
                elif not ok and fails + errors == 0:
                    failed += 1  # crashed or timed out around Check
            elif ok:
                passed += 1
            else:
                failed += 1
                if entry["result"] == "SKIP":
                    notes.append("%s was skipped" % entry.get("name"))
    for name in expected:
        if name not in names:
            failed += 1
            notes.append("%s did not run" % name)
    if passed + failed == 0:
        failed = 1
        notes.append("the log holds no test")
    return passed, failed, notes


def main():
    args = sys.argv[1:]
    expect = {}
    while args and args[0] == "--expect":
        label, _, path = args[1].partition("=")
        with open(path) as f:
            expect[label] = [l.strip() for l in f if l.strip()]
        args = args[2:]
    total_p = total_f = 0
    for arg in args:
        label, _, spec = arg.partition("=")
        path, _, rc = spec.rpartition("@") if "@" in spec else (spec, "", "0")
        rc = int(rc or 0)
        try:
            p, f, notes = count(path, expect.get(label, []))
        except (OSError, ValueError) as e:
            p, f, notes = 0, 1, ["no readable test log at %s (%s)" % (path, e)]
        if rc != 0 and f == 0:
            f = 1
            notes.append("the step exited %d with no failing case" % rc)
        for note in notes:
            print(f"{label}: {note}")
        print(f"{label}: {p} passed, {f} failed")
        total_p += p
        total_f += f
    print(f"{total_p} passed, {total_f} failed")
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
