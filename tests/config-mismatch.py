#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""config-mismatch.py LIBASYNC.a INCLUDE_DIR CC...: a program compiled with
the library's configuration links against it and runs; compiled with a
setting that changes the public objects' layout (debug fields, tick width,
resume-point type), it must fail to link, and the linker must name what
the program was built with. Exits 1, saying which case broke, if not.

config-mismatch.py --posix LIBASYNC_POSIX.a LIBASYNC.a INCLUDE_DIR CC...:
the same for the POSIX port, whose async_posix_t the thread support and
the pool size shape."""
import os
import subprocess
import sys
import tempfile

if sys.argv[1] == "--posix":
    libs, include, cc = sys.argv[2:4], sys.argv[4], sys.argv[5:]
    includes = ["-I", include, "-I", os.path.join(include, "port")]
    extra = ["-pthread"]
    PROGRAM = """#include "async.h"
#include "posix.h"
int main(void)
{
    static async_posix_t port;
    int rc = async_posix_init(&port);
    async_posix_close(&port);
    return rc;
}
"""
    MISMATCHES = [
        (["-DASYNC_POSIX_WORKERS=8"], "async_posix_init__threads1_workers8"),
        (["-DASYNC_CONFIG_THREADS=0"], "async_posix_init__threads0"),
    ]
else:
    libs, include, cc = sys.argv[1:2], sys.argv[2], sys.argv[3:]
    includes = ["-I", include]
    extra = []
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
        (["-DASYNC_CONFIG_TICK_BITS=16"],
         "async_loop_init__tick16_debug0_lcswitch"),
        (["-DASYNC_CONFIG_TICK_BITS=64"],
         "async_loop_init__tick64_debug0_lcswitch"),
        (["-std=gnu99", "-DASYNC_CONFIG_LC_GOTO=1"],
         "async_loop_init__tick32_debug0_lcgoto"),
    ]


def build(tmp, flags):
    exe = os.path.join(tmp, "prog")
    r = subprocess.run(cc + flags + includes + [os.path.join(tmp, "prog.c")]
                       + libs + extra + ["-o", exe],
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
        print("FAIL: the init did not return 0")
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
