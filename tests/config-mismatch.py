#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""config-mismatch.py LIBASYNC.a INCLUDE_DIR CC...: a program compiled with
the library's configuration links against it and runs; compiled with a
setting that changes the public objects' layout (debug fields, tick width,
resume-point type), it must fail to link, and the linker must name what
the program was built with. Exits 1, saying which case broke, if not."""
import os
import subprocess
import sys
import tempfile

lib, include, cc = sys.argv[1], sys.argv[2], sys.argv[3:]

PROGRAM = """#include "async.h"
int main(void)
{
    static async_loop_t loop;
    return async_loop_init(&loop, 0, 0);
}
"""

# (flags, the undefined symbol the linker must report)
MISMATCHES = [
    (["-DASYNC_CONFIG_DEBUG=1"], "async_loop_init__tick32_debug1_lcswitch"),
    (["-DASYNC_CONFIG_TICK_BITS=16"], "async_loop_init__tick16_debug0_lcswitch"),
    (["-DASYNC_CONFIG_TICK_BITS=64"], "async_loop_init__tick64_debug0_lcswitch"),
    (["-std=gnu99", "-DASYNC_CONFIG_LC_GOTO=1"],
     "async_loop_init__tick32_debug0_lcgoto"),
]


def build(tmp, flags):
    exe = os.path.join(tmp, "prog")
    r = subprocess.run(cc + flags + ["-I", include, os.path.join(tmp, "prog.c"),
                                     lib, "-o", exe],
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr, exe


failed = 0
with tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(tmp, "prog.c"), "w") as f:
        f.write(PROGRAM)

    rc, out, exe = build(tmp, [])
    if rc != 0:
        print("FAIL: the library's own configuration does not link:\n" + out)
        failed += 1
    elif subprocess.run([exe]).returncode != 0:
        print("FAIL: async_loop_init did not return 0")
        failed += 1
    else:
        print("ok: same configuration links and runs")

    for flags, symbol in MISMATCHES:
        rc, out, _ = build(tmp, flags)
        if rc == 0:
            print("FAIL: %s links against the default library" % " ".join(flags))
            failed += 1
        elif symbol not in out:
            print("FAIL: %s: the link error does not name %s:\n%s"
                  % (" ".join(flags), symbol, out))
            failed += 1
        else:
            print("ok: %s refused at link time (%s)" % (" ".join(flags), symbol))

sys.exit(1 if failed else 0)
