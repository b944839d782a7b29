#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""config-mismatch.py LIBASYNC.a INCLUDE_DIR CC...: a program compiled with
the library's configuration links against it and runs; compiled with a
setting that changes the public objects' layout (debug fields, tick width,
resume-point type), it must fail to link, and the linker must name what
the program was built with. The same holds for a second file of a program
that never calls async_loop_init but creates tasks or defines coroutines.
Exits 1, saying which case broke, if not.

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

# A program of two files: main.c, built as the library was, makes the loop;
# the other file, built with the flags under test, never calls
# async_loop_init. Each kind of file must still be refused at link time.
MAIN = """#include "async.h"
int other_run(async_loop_t *loop);
int main(void)
{
    static async_loop_t loop;
    static async_timer_t *timers[2];
    async_loop_init(&loop, timers, 2);
    return other_run(&loop);
}
"""
# (name, the other file, flags, the undefined symbol the linker must report)
SPLIT = [
    ("a file that creates a task", """#include "async.h"
struct w { async_frame_t co; int id; };
static int body(async_loop_t *loop, void *frame)
{
    (void)loop;
    return ((struct w *)frame)->id;
}
int other_run(async_loop_t *loop)
{
    static async_task_t t;
    static struct w w;
    if (async_task_create(loop, &t, body, &w) != 0)
        return 1;
    while (async_loop_run_once(loop) > 0)
        ;
    return async_task_result(&t);
}
""", ["-DASYNC_CONFIG_DEBUG=1"], "async_task_create__tick32_debug1_lcswitch"),
    ("a file that only defines a coroutine", """#include "async.h"
struct w { async_frame_t co; int n; };
int other_body(async_loop_t *loop, void *frame);
int other_body(async_loop_t *loop, void *frame)
{
    struct w *w = frame;
    ASYNC_BEGIN(loop, w);
    AWAIT(async_sleep(loop, 1));
    ASYNC_END;
}
int other_run(async_loop_t *loop)
{
    static async_task_t t;
    static struct w w;
    return async_loop_run(loop, &t, other_body, &w);
}
""", ["-DASYNC_CONFIG_TICK_BITS=16"],
     "async__lost_code__tick16_debug0_lcswitch"),
]


def build(tmp, flags):
    exe = os.path.join(tmp, "prog")
    r = subprocess.run(cc + flags + includes + [os.path.join(tmp, "prog.c")]
                       + libs + extra + ["-o", exe],
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr, exe


def build_split(tmp, other, flags):
    """Link main.c (the library's configuration) with other (flags)."""
    objs = []
    for name, src, fl in (("main", MAIN, []), ("other", other, flags)):
        c, o = os.path.join(tmp, name + ".c"), os.path.join(tmp, name + ".o")
        with open(c, "w") as f:
            f.write(src)
        r = subprocess.run(cc + fl + includes + ["-c", c, "-o", o],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return None, r.stdout + r.stderr
        objs.append(o)
    r = subprocess.run(cc + objs + libs + extra
                       + ["-o", os.path.join(tmp, "split")],
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


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

    # (the POSIX port's one init carries its configuration: no split case)
    for what, other, flags, symbol in ([] if sys.argv[1] == "--posix"
                                       else SPLIT):
        rc, out = build_split(tmp, other, [])
        if rc != 0:
            print("FAIL: %s, same configuration, does not build:\n%s"
                  % (what, out))
            failed += 1
            continue
        rc, out = build_split(tmp, other, flags)
        if rc is None:
            print("FAIL: %s with %s does not compile:\n%s"
                  % (what, " ".join(flags), out))
            failed += 1
        elif rc == 0:
            print("FAIL: %s built with %s links against the default library"
                  % (what, " ".join(flags)))
            failed += 1
        elif symbol not in out:
            print("FAIL: %s with %s: the link error does not name %s:\n%s"
                  % (what, " ".join(flags), symbol, out))
            failed += 1
        else:
            print("ok: %s with %s refused at link time (%s)"
                  % (what, " ".join(flags), symbol))

sys.exit(1 if failed else 0)
