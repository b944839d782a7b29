#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run an example on virtual time and compare its output with the expected file.

usage: check-output.py PROGRAM EXPECTED [RUNNER...]

The program runs as `PROGRAM --virtual` (RUNNER, if given, is put in front,
e.g. an emulator). Its output is printed whole, so `meson test --verbose`
shows it. The test passes only if the program exits with 0 and its standard
output equals EXPECTED byte for byte; on a mismatch a unified diff says
where. To regenerate an expected file, run the program with --virtual,
read the output carefully, and only then save it.
"""
import difflib
import subprocess
import sys


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    program, expected_path, runner = argv[1], argv[2], argv[3:]
    try:
        run = subprocess.run(runner + [program, '--virtual'],
                             stdout=subprocess.PIPE, timeout=120)
    except subprocess.TimeoutExpired:
        print('FAIL: the program did not finish in 120 s')
        return 1
    output = run.stdout.decode('utf-8', 'replace')
    with open(expected_path, encoding='utf-8', newline='') as f:
        expected = f.read()

    sys.stdout.write(output)
    ok = True
    if run.returncode != 0:
        print('FAIL: the program exited with status %d' % run.returncode)
        ok = False
    if output != expected:
        print('FAIL: the output differs from %s:' % expected_path)
        sys.stdout.writelines(difflib.unified_diff(
            expected.splitlines(True), output.splitlines(True),
            'expected', 'got'))
        ok = False
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
