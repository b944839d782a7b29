#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-readme.py README EXAMPLE.c EXAMPLE.expected [OTHER.expected...]:
the README never shows a program or an output that the suite does not
build, run and compare.

- Its first C block must be EXAMPLE.c from its first #include on.
- The first ```text block after it must be EXAMPLE.expected, whole.
- Every other ```text block must be consecutive lines of one of the
  OTHER.expected files (an excerpt of an example's real output).

Exits 1 with a diff or the block at fault if not."""
import difflib
import re
import sys

readme, example, expected = sys.argv[1:4]
others = sys.argv[4:]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


text = read(readme)
blocks = [(m.start(), m.group(1), m.group(2))
          for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)]
failed = 0

code = [(pos, body) for pos, lang, body in blocks if lang == "c"]
source = read(example)
source = source[source.find("#include"):]
shown = code[0][1] if code else ""
if shown != source:
    sys.stdout.writelines(difflib.unified_diff(
        source.splitlines(True), shown.splitlines(True), example, readme))
    failed = 1
else:
    print("the README shows %s as it is" % example)

outputs = [(pos, body) for pos, lang, body in blocks if lang == "text"]
after = [body for pos, body in outputs if code and pos > code[0][0]]
if not after or after[0] != read(expected):
    print("the README's output of %s is not %s:" % (example, expected))
    sys.stdout.writelines(difflib.unified_diff(
        read(expected).splitlines(True),
        (after[0] if after else "").splitlines(True), expected, readme))
    failed = 1
else:
    print("the README shows %s's output as %s has it" % (example, expected))

for body in after[1:]:
    want = body.splitlines()
    found = [path for path in others
             if any(read(path).splitlines()[i:i + len(want)] == want
                    for i in range(len(read(path).splitlines())))]
    if not found:
        print("this README output block is in none of %s:\n%s"
              % (", ".join(others), body))
        failed = 1
    else:
        print("the README's excerpt of %s is its real output" % found[0])

sys.exit(failed)
