#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-readme.py README EXAMPLE.c: the README's first C program must be
EXAMPLE.c from its first #include on, so the page never shows a program
that the suite does not build and run. Exits 1 with a diff if not."""
import difflib
import re
import sys

readme, example = sys.argv[1:3]
with open(readme, encoding="utf-8") as f:
    block = re.search(r"```c\n(.*?)```", f.read(), re.S)
with open(example, encoding="utf-8") as f:
    source = f.read()
shown = block.group(1) if block else ""
source = source[source.find("#include"):]
if shown != source:
    sys.stdout.writelines(difflib.unified_diff(
        source.splitlines(True), shown.splitlines(True), example, readme))
    sys.exit(1)
print("the README shows %s as it is" % example)
