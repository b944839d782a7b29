#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CI step: cross-compile the library freestanding and report its size.
#
# Targets: Cortex-M0+ (thumb), Cortex-M4F (hard float), RV32IMAC. Each
# compiles async.c, queue.c and its port with
#     -std=c99 -Wall -Wextra -Wpedantic -Werror -ffreestanding -Os
# and its port header as ASYNC_CONFIG_FILE (so Cortex-M0+ gets the PRIMASK
# critical section that makes async_post ISR-safe).
#
# Checks (each a line in .ci/out/cross.json, meson's testlog format):
#   cross/TARGET/FILE   compiles without a warning, and `-M` shows only the
#                       compiler's own freestanding headers (stdint.h,
#                       stddef.h, limits.h, stdbool.h) besides project files
#   cross/TARGET/link   the library, the port and a program calling every
#                       public function link with nothing but libgcc
#   cross/m0plus+VARIANT/FILE  the same compile check for the configuration
#                       variants debug, tick16, tick64 and goto (labels as
#                       values: gnu99 without -Wpedantic)
#   cross/TARGET+tickless/port/cortex-m.c  the same compile check for the
#                       Cortex-M port with tickless idle
#                       (-DASYNC_CORTEXM_TICKLESS=1), on m0plus and m4f,
#                       and +tickless+stopped with ASYNC_CORTEXM_STOPPED
# Report (stdout, and .ci/out/cross-report.txt):
#   text/data/bss per object and per target (size's text includes rodata),
#   the tickless Cortex-M port's next to the ticking one;
#   what each feature adds, measured by linking small programs with
#   --gc-sections and taking the library's share of the image; the cost of
#   the minimal configuration (tasks, sleep, cancellation, FIFO queue with
#   task_done/join); the 15 largest functions on Cortex-M0+ and the bytes
#   per feature by symbol; sizeof of every public object per target; the
#   Cortex-M0+ budgets as PASS/MISS. A MISS is reported, not failed.
#   cross/docs-current  docs/sizes.md quotes this report as it is, and it
#                       and README.md quote its two budget figures;
#                       UPDATE_DOCS=1 rewrites them from this run.
#
# Exits non-zero if a check failed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
mkdir -p .ci/out

for tool in arm-none-eabi-gcc riscv64-unknown-elf-gcc python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "cross.sh: $tool is missing"
    python3 -c 'import json,sys; print(json.dumps({"name": "cross/tools",
      "result": "FAIL", "stdout": sys.argv[1] + " is missing"}))' \
      "$tool" >.ci/out/cross.json
    exit 1
  fi
done

exec python3 - <<'PY'
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.getcwd()
LOG = ".ci/out/cross.json"
REPORT = ".ci/out/cross-report.txt"
FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
         "-ffreestanding", "-Os", "-I" + TOP]
GC = ["-ffunction-sections", "-fdata-sections"]
LIB = ["async.c", "queue.c"]
# Headers a freestanding C99 implementation provides and the library may
# use (the compiler's own; stdint-gcc.h and syslimits.h are their parts).
FREESTANDING = {"stdint.h", "stddef.h", "limits.h", "stdbool.h",
                "stdint-gcc.h", "syslimits.h"}
BUDGET_LIBRARY = 3072
BUDGET_MINIMAL = 1536

TARGETS = [
    {"name": "m0plus", "title": "Cortex-M0+", "tools": "arm-none-eabi-",
     "arch": ["-mcpu=cortex-m0plus", "-mthumb"],
     "config": "port/cortex-m.h", "port": "port/cortex-m.c",
     "port_type": "async_cortexm_t"},
    {"name": "m4f", "title": "Cortex-M4F", "tools": "arm-none-eabi-",
     "arch": ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16",
              "-mfloat-abi=hard"],
     "config": "port/cortex-m.h", "port": "port/cortex-m.c",
     "port_type": "async_cortexm_t"},
    {"name": "rv32imac", "title": "RV32IMAC", "tools": "riscv64-unknown-elf-",
     "arch": ["-march=rv32imac", "-mabi=ilp32"],
     "config": "port/riscv.h", "port": "port/riscv.c",
     "port_type": "async_riscv_t"},
]

# Configuration variants, compiled (and header-checked) for Cortex-M0+ only:
# each must stay freestanding and warning-free; their sizes are reported.
VARIANTS = [
    ("debug", ["-DASYNC_CONFIG_DEBUG=1"]),
    ("tick16", ["-DASYNC_CONFIG_TICK_BITS=16"]),
    ("tick64", ["-DASYNC_CONFIG_TICK_BITS=64"]),
    # labels-as-values is GNU C: built as gnu99 without -Wpedantic.
    ("goto", ["-DASYNC_CONFIG_LC_GOTO=1", "-std=gnu99", "-Wno-pedantic"]),
]

# Port variants, compiled (and header-checked) for every target whose port
# they configure; their sizes are reported next to the default port's.
PORT_VARIANTS = [
    ("tickless", "port/cortex-m.c", ["-DASYNC_CORTEXM_TICKLESS=1"]),
    # the reload's stopped cycles given back (a value a user measured)
    ("tickless+stopped", "port/cortex-m.c",
     ["-DASYNC_CORTEXM_TICKLESS=1", "-DASYNC_CORTEXM_STOPPED=24"]),
]

# Public functions by feature, for the link measurements. The core is what
# every program pays: the loop, tasks, sleep, cancellation, child calls.
CORE = ["async_loop_init", "async_loop_set_port", "async_loop_run",
        "async_loop_run_once", "async_loop_next_timeout", "async_loop_close",
        "async_loop_now", "async_task_create", "async_task_cancel",
        "async_task_wait", "async_task_state", "async_task_result",
        "async_current", "async_sleep", "async_yield", "async_call"]
# Every feature knob off, as firmware that uses none of them builds the
# library (the meson 'minimal' variant does the same).
MINIMAL_DEFS = ["-DASYNC_CONFIG_GATHER=0", "-DASYNC_CONFIG_TIMEOUT=0",
                "-DASYNC_CONFIG_FUTURE=0", "-DASYNC_CONFIG_SYNC=0",
                "-DASYNC_CONFIG_POST=0", "-DASYNC_CONFIG_QUEUE_ORDERS=0",
                "-DASYNC_CONFIG_ERROR_TEXT=0"]
# (feature, its knob or None, its public functions)
FEATURES = [
    ("gather", "GATHER", ["async_gather_init", "async_gather",
                          "async_gather_result"]),
    ("timeouts", "TIMEOUT", ["async_wait_for"]),
    ("futures", "FUTURE", ["async_future_init", "async_future_set",
                 "async_future_cancel", "async_future_wait",
                 "async_future_add_callback", "async_future_done",
                 "async_future_result"]),
    ("event/lock/semaphore", "SYNC",
     ["async_event_init", "async_event_set", "async_event_clear",
      "async_event_is_set", "async_event_wait", "async_lock_init",
      "async_lock_acquire", "async_lock_release", "async_lock_locked",
      "async_semaphore_init", "async_semaphore_acquire",
      "async_semaphore_release", "async_semaphore_value"]),
    ("callbacks + ISR posting", "POST",
     ["async_callback_init", "async_call_soon", "async_post"]),
    ("queue (all orders)", "QUEUE_ORDERS",
     ["async_queue_init", "async_queue_put", "async_queue_get",
      "async_queue_put_nowait", "async_queue_get_nowait",
      "async_queue_task_done", "async_queue_join", "async_queue_shutdown",
      "async_queue_size", "async_queue_capacity", "async_queue_empty",
      "async_queue_full", "async_queue_unfinished"]),
    # async_loop_dump exists only in debug builds (ASYNC_CONFIG_DEBUG=1),
    # whose whole size the variant builds report.
    ("task names", None, ["async_task_set_name", "async_task_name"]),
    ("strerror table", "ERROR_TEXT",
     ["async_strerror", "async_strerror_name"]),
]

# The same grouping by symbol name, for the per-function view of the
# objects; static helpers count where the compiler left them.
SYMBOL_GROUPS = [
    ("gather", r"gather"),
    ("timeouts", r"wait_for|timeout"),
    ("futures", r"future"),
    ("event/lock/semaphore", r"event|lock|semaphore|sem_"),
    ("callbacks + ISR posting", r"callback|call_soon|post"),
    ("debug/dump", r"dump|task_set_name|task_name|debug_hook|misuse|"
                   r"put_str|put_num|put_dec|state_names"),
    ("strerror table", r"strerror|^errors$|unknown_error"),
]

# A program for the link measurements: it keeps every function named by
# KEEP_FNS alive, and nothing else.
KEEP_C = """\
#include "async.h"
typedef void (*keep_fn)(void);
#define K(f) (keep_fn)(f),
const keep_fn size_keep[] = { KEEP_FNS 0 };
"""

# The minimal configuration as a program: tasks, sleep, cancellation and a
# FIFO queue with task_done/join, and nothing else of the library.
MINIMAL_C = """\
#include "async.h"

static async_queue_t q;
static int buf[4];
static async_task_t tasks[2];

struct worker { async_frame_t co; int item; };

static int worker(async_loop_t *loop, void *frame)
{
    struct worker *w = frame;
    ASYNC_BEGIN(loop, w);
    for (;;) {
        AWAIT(async_queue_get(loop, &q, &w->item));
        AWAIT(async_sleep(loop, (async_tick_t)w->item));
        async_queue_task_done(&q);
    }
    ASYNC_END;
}

struct app { async_frame_t co; struct worker w; int i; };

static int app(async_loop_t *loop, void *frame)
{
    struct app *a = frame;
    ASYNC_BEGIN(loop, a);
    async_queue_init(&q, loop, buf, sizeof buf[0], 4, ASYNC_QUEUE_FIFO, 0);
    async_task_create(loop, &tasks[1], worker, &a->w);
    for (a->i = 1; a->i <= 8; a->i++)
        AWAIT(async_queue_put(loop, &q, &a->i));
    AWAIT(async_queue_join(loop, &q));
    async_task_cancel(loop, &tasks[1]);
    AWAIT_TRY(a->i, async_task_wait(loop, &tasks[1]));
    ASYNC_END;
}

int size_entry(void);
int size_entry(void)
{
    static async_loop_t loop;
    static struct app a;
    ASYNC_TIMERS(timers, 4);
    async_loop_init(&loop, timers, 4);
    async_loop_set_port(&loop, 0);
    return async_loop_run(&loop, &tasks[0], app, &a);
}
"""

# Every public object, for the sizeof table (PORT_T: the target's port).
SIZE_TYPES = ["async_loop_t", "async_task_t", "async_frame_t",
              "async_timer_t", "async_timer_t *", "async_port_t",
              "async_callback_t", "async_waiter_t", "async_future_t",
              "async_event_t", "async_lock_t", "async_semaphore_t",
              "async_gather_t", "async_gather_slot_t", "async_timeout_t",
              "async_queue_t"]

work = tempfile.mkdtemp(prefix="cross-")
log = open(LOG, "w")
report_lines = []
failed = 0


def say(line=""):
    print(line)
    report_lines.append(line)


def record(name, ok, text):
    global failed
    log.write(json.dumps({"name": name, "result": "OK" if ok else "FAIL",
                          "stdout": text}) + "\n")
    log.flush()
    failed += not ok
    print(("OK   " if ok else "FAIL ") + name)
    if not ok:
        print("  " + text.strip().replace("\n", "\n  "))


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return p.returncode, p.stdout


def tool(t, name):
    return t["tools"] + name


def cflags(t, extra=()):
    return (FLAGS + t["arch"]
            + ['-DASYNC_CONFIG_FILE="%s"' % t["config"]] + list(extra))


def compiler_dirs(t):
    dirs = []
    for d in ("include", "include-fixed"):
        rc, out = run([tool(t, "gcc")] + t["arch"]
                      + ["-print-file-name=" + d])
        dirs.append(os.path.realpath(out.strip()))
    return dirs


def headers_ok(t, src, extra=()):
    """The headers src includes, checked: returns (ok, message)."""
    rc, out = run([tool(t, "gcc")] + cflags(t, extra) + ["-M", src])
    if rc != 0:
        return False, out
    deps = out.replace("\\\n", " ").split(":", 1)[1].split()
    allowed_dirs = compiler_dirs(t)
    bad = []
    for dep in deps[1:]:
        path = os.path.realpath(dep)
        if path.startswith(TOP + os.sep):
            continue
        if (os.path.dirname(path) in allowed_dirs
                and os.path.basename(path) in FREESTANDING):
            continue
        bad.append(dep)
    if bad:
        return False, ("not freestanding: %s includes %s"
                       % (src, ", ".join(bad)))
    return True, "headers: " + " ".join(deps[1:])


def compile_obj(t, src, obj, extra=()):
    return run([tool(t, "gcc")] + cflags(t, extra) + ["-c", src, "-o", obj])


def berkeley(t, obj):
    rc, out = run([tool(t, "size"), obj])
    text, data, bss = out.splitlines()[1].split()[:3]
    return int(text), int(data), int(bss)


def link(t, name, app_src, extra_defs=(), strict=False):
    """Link app_src with the library (gc-sections). Returns (ok, output,
    bytes by origin: {'async', 'queue', 'port', 'libgcc', 'app'} ->
    [flash, ram])."""
    d = os.path.join(work, t["name"], name)
    os.makedirs(d, exist_ok=True)
    app_c = os.path.join(d, "app.c")
    with open(app_c, "w") as f:
        f.write(app_src)
    objs = []
    for src in [app_c] + LIB + ([t["port"]] if strict else []):
        obj = os.path.join(d, os.path.basename(src)[:-2] + ".o")
        rc, out = compile_obj(t, src, obj, GC + list(extra_defs))
        if rc != 0:
            return False, out, {}
        objs.append(obj)
    elf = os.path.join(d, "app.elf")
    mapfile = os.path.join(d, "app.map")
    entry = "size_entry" if "size_entry" in app_src else "size_keep"
    cmd = ([tool(t, "gcc")] + t["arch"]
           + ["-nostdlib", "-nostartfiles", "-Wl,--gc-sections",
              "-Wl,-e," + entry, "-Wl,-u," + entry, "-Wl,-Map=" + mapfile,
              "-o", elf] + objs + ["-lgcc"])
    if not strict:
        # Sizes only: an unresolved symbol is the link check's business.
        cmd.insert(-1, "-Wl,--unresolved-symbols=ignore-all")
    rc, out = run(cmd)
    if rc != 0:
        return False, out, {}
    return True, out, map_bytes(mapfile)


def map_bytes(mapfile):
    """Bytes per origin from a GNU ld map: [flash, ram] each."""
    with open(mapfile) as f:
        text = f.read()
    text = text.split("Linker script and memory map", 1)[1]
    # An input section line wraps when its name is long.
    text = re.sub(r"\n(\s\.\S+)\n\s+(0x)", r"\n\1 \2", text)
    sizes = {}
    for m in re.finditer(r"^ (\.\S+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S.*)$",
                         text, re.M):
        sec, size, origin = m.group(1), int(m.group(2), 16), m.group(3)
        kind = section_kind(sec)
        if kind is None or size == 0:
            continue
        if "libgcc.a" in origin:
            who = "libgcc"
            member = re.sub(r".*libgcc\.a\((.*)\.o\)", r"\1", origin)
            members = sizes.setdefault("libgcc members", {})
            members[member] = members.get(member, 0) + size
        else:
            who = os.path.basename(origin)[:-2]
            who = {"cortex-m": "port", "riscv": "port"}.get(who, who)
        flash_ram = sizes.setdefault(who, [0, 0])
        if kind in ("text", "data"):
            flash_ram[0] += size
        if kind in ("data", "bss"):
            flash_ram[1] += size
    return sizes


def section_kind(sec):
    if re.match(r"\.(text|rodata|srodata)", sec):
        return "text"
    if re.match(r"\.(data|sdata)", sec):
        return "data"
    if re.match(r"\.(bss|sbss)", sec):
        return "bss"
    return None


def lib_flash(sizes, with_libgcc=True):
    keys = ["async", "queue"] + (["libgcc"] if with_libgcc else [])
    return sum(sizes.get(k, [0, 0])[0] for k in keys)


def keep_program(fns):
    return KEEP_C.replace("KEEP_FNS", " ".join("K(%s)" % f for f in fns))


def symbols(t, obj):
    """(size, type, name) for every sized symbol of obj."""
    rc, out = run([tool(t, "nm"), "--size-sort", "-S", obj])
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4:
            syms.append((int(parts[1], 16), parts[2], parts[3]))
    return syms


def literal_bytes(t, obj):
    """Bytes of anonymous string literals in obj (not in nm's list)."""
    rc, out = run([tool(t, "size"), "-A", obj])
    total = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and re.match(r"\.rodata.*\.str", parts[0]):
            total += int(parts[1])
    return total


def sizeofs(t):
    d = os.path.join(work, t["name"], "sizeof")
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "sizes.c")
    types = SIZE_TYPES + [t["port_type"]]
    with open(src, "w") as f:
        f.write('#include "%s"\n' % t["config"])
        # An array as long as the type: nm reports its size.
        for i, ty in enumerate(types):
            f.write("const char size_%d[sizeof(%s)] = {0};\n" % (i, ty))
    obj = os.path.join(d, "sizes.o")
    rc, out = compile_obj(t, src, obj)
    if rc != 0:
        return None, out
    found = {name: size for size, _, name in symbols(t, obj)}
    return {ty: found.get("size_%d" % i) for i, ty in enumerate(types)}, ""


# ---------------------------------------------------------------------------
# 1. Compile every file for every target; check headers; object sizes.
objsize = {}
for t in TARGETS:
    d = os.path.join(work, t["name"])
    os.makedirs(d, exist_ok=True)
    for src in LIB + [t["port"]]:
        ok, msg = headers_ok(t, src)
        obj = os.path.join(d, os.path.basename(src)[:-2] + ".o")
        rc, out = compile_obj(t, src, obj)
        ok = ok and rc == 0
        record("cross/%s/%s" % (t["name"], src), ok,
               (out + "\n" if out else "") + msg)
        if rc == 0:
            objsize[(t["name"], src)] = berkeley(t, obj)

variant_size = {}
m0 = TARGETS[0]
for vname, vflags in VARIANTS:
    for src in LIB:
        ok, msg = headers_ok(m0, src, vflags)
        obj = os.path.join(work, "m0plus", "%s-%s.o" % (vname, src[:-2]))
        rc, out = compile_obj(m0, src, obj, vflags)
        ok = ok and rc == 0
        record("cross/m0plus+%s/%s" % (vname, src), ok,
               (out + "\n" if out else "") + msg)
        if rc == 0:
            variant_size[(vname, src)] = berkeley(m0, obj)

port_variant_size = {}
for t in TARGETS:
    for vname, src, vflags in PORT_VARIANTS:
        if t["port"] != src:
            continue
        ok, msg = headers_ok(t, src, vflags)
        obj = os.path.join(work, t["name"], "%s-%s.o"
                           % (vname, os.path.basename(src)[:-2]))
        rc, out = compile_obj(t, src, obj, vflags)
        ok = ok and rc == 0
        record("cross/%s+%s/%s" % (t["name"], vname, src), ok,
               (out + "\n" if out else "") + msg)
        if rc == 0:
            port_variant_size[(t["name"], vname)] = berkeley(t, obj)

# 2. Link check: everything public, strictly (no unresolved symbol), on
# every target, and on Cortex-M0+ in every configuration variant too.
every = CORE + [f for _, _, fns in FEATURES for f in fns]
for t in TARGETS:
    ok, out, _ = link(t, "link", keep_program(every), strict=True)
    record("cross/%s/link" % t["name"], ok,
           out or "links with libgcc only")
for vname, vflags in VARIANTS:
    fns = every + (["async_loop_dump"] if vname == "debug" else [])
    ok, out, _ = link(m0, "link-" + vname, keep_program(fns), vflags,
                      strict=True)
    record("cross/m0plus+%s/link" % vname, ok,
           out or "links with libgcc only")

# 3. The report.
say("=" * 72)
say("Sizes in bytes, -Os, each target with its port header as config.")
say("size's text column includes rodata; data and bss are RAM.")
say("")
say("%-10s %-28s %7s %6s %6s" % ("target", "file", "text", "data", "bss"))
for t in TARGETS:
    tot = [0, 0, 0]
    for src in LIB + [t["port"]]:
        s = objsize.get((t["name"], src))
        if not s:
            say("%-10s %-28s %7s" % (t["name"], src, "(failed)"))
            continue
        say("%-10s %-28s %7d %6d %6d" % ((t["name"], src) + s))
        for vname, vsrc, _ in PORT_VARIANTS:
            if vsrc != src:
                continue
            label = "%s, %s" % (os.path.basename(src), vname)
            v = port_variant_size.get((t["name"], vname))
            if v:
                say("%-10s %-28s %7d %6d %6d" % ((t["name"], label) + v))
            else:
                say("%-10s %-28s %7s" % (t["name"], label, "(failed)"))
        if src in LIB:
            tot = [a + b for a, b in zip(tot, s)]
    say("%-10s %-28s %7d %6d %6d"
        % ((t["name"], "library total") + tuple(tot)))
    t["library"] = tot
# What the critical section costs where the port header supplies one.
obj = os.path.join(work, "m0plus", "async-noport.o")
rc, out = run([tool(TARGETS[0], "gcc")] + FLAGS + TARGETS[0]["arch"]
              + ["-c", "async.c", "-o", obj])
if rc == 0:
    say("%-10s %-28s %7d %6d %6d" % (("m0plus", "async.c, no config")
                                     + berkeley(TARGETS[0], obj)))
    say("(without the port header Cortex-M0+ has neither pointer atomics nor"
        " a critical section: async_post is left out)")
# There, posting must be left out by default and refused when forced: an
# interrupt could lose a post made without atomics or a critical section.
rc_forced, out_forced = run([tool(TARGETS[0], "gcc")] + FLAGS + TARGETS[0]["arch"]
                            + ["-DASYNC_CONFIG_POST=1", "-c", "async.c",
                               "-o", obj + ".forced"])
rc_nm, syms_nm = run([tool(TARGETS[0], "nm"), obj]) if rc == 0 else (1, out)
record("cross/m0plus-no-port-posting", rc == 0 and rc_nm == 0
       and " async_post" not in syms_nm and rc_forced != 0
       and "ASYNC_CONFIG_POST needs" in out_forced,
       "default build rc=%d, async_post %s; forced POST=1 rc=%d: %s"
       % (rc, "absent" if " async_post" not in syms_nm else "PRESENT",
          rc_forced, out_forced.strip()[-300:]))
for vname, vflags in VARIANTS:
    tot = [0, 0, 0]
    for src in LIB:
        s = variant_size.get((vname, src), (0, 0, 0))
        tot = [a + b for a, b in zip(tot, s)]
    say("%-10s %-28s %7d %6d %6d" % (("m0plus", "library, " + vname)
                                     + tuple(tot)))
say("")

# What each feature costs: library bytes (async.o + queue.o + the libgcc
# helpers they pull in) in a gc-sections link of the core plus the
# feature, built with only that feature's knob on, minus the core alone
# with every knob off. So each figure includes what the knob adds inside
# the core's own functions: what turning that one feature on costs.
say("What each feature costs (flash bytes of the library, libgcc helpers")
say("included, in a --gc-sections link; the core is loop + tasks + sleep +")
say("cancellation + async_call with every feature knob off; each feature")
say("is built with only its own knob on):")
titles = "".join("%12s" % t["title"] for t in TARGETS)
say("%-28s%s" % ("", titles))
core = {}
row = []
for t in TARGETS:
    ok, out, sizes = link(t, "core", keep_program(CORE), MINIMAL_DEFS,
                          strict=True)
    if not ok:
        record("cross/%s/link-core" % t["name"], False, out)
    core[t["name"]] = lib_flash(sizes) if ok else None
    row.append(core[t["name"]])
say("%-28s%s" % ("core", "".join("%12s" % v for v in row)))
for i, (feat, knob, fns) in enumerate(FEATURES):
    defs = [d for d in MINIMAL_DEFS
            if not knob or not d.startswith("-DASYNC_CONFIG_%s=" % knob)]
    row = []
    for t in TARGETS:
        ok, out, sizes = link(t, "feature%d" % i, keep_program(CORE + fns),
                              defs, strict=True)
        if not ok:
            record("cross/%s/link-%s" % (t["name"], feat), False, out)
        base = core[t["name"]]
        row.append("+%d" % (lib_flash(sizes) - base) if ok and base else "?")
    say("%-28s%s" % ("+ " + feat, "".join("%12s" % v for v in row)))
row = []
helpers = []
for t in TARGETS:
    ok, out, sizes = link(t, "all", keep_program(every))
    row.append(lib_flash(sizes) if ok else "?")
    members = sizes.get("libgcc members", {}) if ok else {}
    helpers.append("%s: %s" % (t["title"], ", ".join(
        "%s %d" % kv for kv in sorted(members.items())) or "none"))
say("%-28s%s" % ("everything", "".join("%12s" % v for v in row)))
say("(each figure is against the bare core; features share code, so they")
say("do not sum to everything)")
say("libgcc in everything: " + "; ".join(helpers))
say("")

say("Minimal configuration: a program using tasks, sleep, cancellation and")
say("a FIFO queue with task_done/join (library + libgcc share of the image):")
# Built the way such firmware would be: every feature knob it does not use
# off (MINIMAL_DEFS), and linked strictly: nothing may be left unresolved.
minimal = {}
for t in TARGETS:
    ok, out, sizes = link(t, "minimal", MINIMAL_C, MINIMAL_DEFS, strict=True)
    record("cross/%s/link-minimal" % t["name"], ok,
           out or "links with libgcc only")
    if not ok:
        say("  %-11s link failed: %s" % (t["title"], out.strip()))
        continue
    minimal[t["name"]] = lib_flash(sizes)
    ram = sum(sizes.get(k, [0, 0])[1] for k in ("async", "queue"))
    say("  %-11s %5d bytes (async.o %d, queue.o %d, libgcc %d); library"
        " RAM %d; the program itself %d"
        % (t["title"], minimal[t["name"]], sizes.get("async", [0])[0],
           sizes.get("queue", [0])[0], sizes.get("libgcc", [0])[0], ram,
           sizes.get("app", [0])[0]))
say("")

# Where the bytes go on Cortex-M0+: the objects as compiled above.
d = os.path.join(work, m0["name"])
syms = []
for src in LIB:
    obj = os.path.join(d, os.path.basename(src)[:-2] + ".o")
    if os.path.exists(obj):
        syms += [(s, ty, n, src) for s, ty, n in symbols(m0, obj)
                 if ty.lower() in "tdrb"]
syms.sort(key=lambda s: -s[0])
say("Cortex-M0+: the 15 largest symbols (nm --size-sort -S):")
for s, ty, n, src in syms[:15]:
    say("  %5d  %s  %-32s %s" % (s, ty, n, src))
groups = {}
for s, ty, n, src in syms:
    if ty.lower() == "b":
        continue
    g = "queue" if src == "queue.c" else "core"
    if src != "queue.c":
        for name, rx in SYMBOL_GROUPS:
            if re.search(rx, n):
                g = name
                break
    groups[g] = groups.get(g, 0) + s
lits = 0
for src in LIB:
    obj = os.path.join(d, os.path.basename(src)[:-2] + ".o")
    if os.path.exists(obj):
        lits += literal_bytes(m0, obj)
say("Cortex-M0+: bytes by feature, summed over symbols (static helpers")
say("count where they were not inlined; alignment padding not included):")
for g, s in sorted(groups.items(), key=lambda x: -x[1]):
    say("  %5d  %s" % (s, g))
say("  %5d  string literals (error names and messages, dump state names)"
    % lits)
say("(The error names and sentences are one array, counted in the strerror")
say("table above; the literals line is what is left in string sections.)")
say("")

say("sizeof of the public objects:")
say("%-22s%s" % ("", titles))
table = {}
for t in TARGETS:
    sz, err = sizeofs(t)
    if sz is None:
        record("cross/%s/sizeof" % t["name"], False, err)
        sz = {}
    table[t["name"]] = sz
for ty in SIZE_TYPES + ["port struct"]:
    vals = []
    for t in TARGETS:
        key = t["port_type"] if ty == "port struct" else ty
        vals.append(table[t["name"]].get(key))
    say("%-22s%s" % (ty.replace("async_timer_t *", "heap slot (pointer)"),
                     "".join("%12s" % ("?" if v is None else v)
                             for v in vals)))
say("")

lib_m0 = m0.get("library", [0, 0, 0])
lib_bytes = lib_m0[0] + lib_m0[1]
say("Budgets, Cortex-M0+ -Os (port config):")
say("  whole library (async.o + queue.o, text + data) %5d <= %d: %s"
    % (lib_bytes, BUDGET_LIBRARY,
       "PASS" if lib_bytes <= BUDGET_LIBRARY else "MISS"))
mini = minimal.get("m0plus")
say("  minimal configuration (linked, with libgcc)    %5s <= %d: %s"
    % (mini, BUDGET_MINIMAL,
       "?" if mini is None else
       "PASS" if mini <= BUDGET_MINIMAL else "MISS"))
say("=" * 72)

with open(REPORT, "w") as f:
    f.write("\n".join(report_lines) + "\n")

# The documents quote these figures; a figure no run printed is a defect,
# so they must match this run's report. UPDATE_DOCS=1 rewrites them.
report = "\n".join(report_lines)
mini_text = "?" if mini is None else "%d B" % mini
QUOTE = r"## The report\n\n```\n(.*?)\n```"
with open("docs/sizes.md", encoding="utf-8") as f:
    doc = f.read()
with open("README.md", encoding="utf-8") as f:
    readme = f.read()
if os.environ.get("UPDATE_DOCS") == "1":
    doc = re.sub(QUOTE, lambda m: m.group(0).replace(m.group(1), report),
                 doc, flags=re.S)
    doc = re.sub(r"every feature on \| \d+ B \|",
                 "every feature on | %d B |" % lib_bytes, doc)
    doc = re.sub(r"configured out, linked \| \d+ B \|",
                 "configured out, linked | %s |" % mini_text, doc)
    readme = re.sub(r"-Os \| \d+ B with everything; \d+ B for",
                    "-Os | %d B with everything; %s for"
                    % (lib_bytes, mini_text), readme)
    for path, text in (("docs/sizes.md", doc), ("README.md", readme)):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
quoted = re.search(QUOTE, doc, re.S)
stale = []
if not quoted or quoted.group(1) != report:
    stale.append("docs/sizes.md: the report differs from this run's:\n" +
                 "".join(difflib.unified_diff(
                     (quoted.group(1) if quoted else "").splitlines(True),
                     report.splitlines(True), "docs/sizes.md", "this run")))
for path, text, want in (
        ("docs/sizes.md", doc, "every feature on | %d B |" % lib_bytes),
        ("docs/sizes.md", doc, "configured out, linked | %s |" % mini_text),
        ("README.md", readme, "-Os | %d B with everything; %s for"
         % (lib_bytes, mini_text))):
    if want not in text:
        stale.append("%s does not say: %s" % (path, want))
record("cross/docs-current", not stale,
       "\n".join(stale) + "\nregenerate: UPDATE_DOCS=1 bash .ci/steps/cross.sh\n"
       if stale else "docs/sizes.md and README.md quote this run\n")
log.close()
shutil.rmtree(work, ignore_errors=True)
print("cross: %d check(s) failed" % failed if failed
      else "cross: all checks passed")
sys.exit(1 if failed else 0)
PY
