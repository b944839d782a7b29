#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""late-by-a-tick.py EXPECTED OUT: OUT matches EXPECTED line by line, where
each number printed in OUT is the expected one or one more. A firmware run
on the real SysTick port under QEMU (no -icount) sees emulated time follow
the host clock, so a wake-up may be stamped a tick after its deadline, as
tests/qemu/tickless.c explains; never earlier, never more. Exits 1 if not."""
import re
import sys

NUM = re.compile(r"\d+")
with open(sys.argv[1]) as f:
    want = f.read().splitlines()
with open(sys.argv[2]) as f:
    got = f.read().splitlines()
ok = len(want) == len(got)
for w, g in zip(want, got):
    wn, gn = NUM.findall(w), NUM.findall(g)
    if (NUM.sub("#", w.strip()) != NUM.sub("#", g.strip()) or len(wn) != len(gn)
            or any(not 0 <= int(b) - int(a) <= 1 for a, b in zip(wn, gn))):
        ok = False
sys.exit(0 if ok else 1)
