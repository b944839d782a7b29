#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Differential runner: generate scenarios (gen.py), run each as C against
async.h, built with ASan and UBSan, and as Python asyncio (pyharness.py),
and compare the two traces task by task.

    run.py [--profile NAME] [--start S] [--count N] [-j JOBS]
    run.py [--profile NAME] --show SEED      # one seed, both traces
    run.py --scenario FILE.json              # a scenario as --show prints it

Scenarios are compiled in batches (--batch, default 40) into one C program
each, because the compiler dominates the run time. The library is compiled
once per run. Everything goes to a temporary directory that is removed at
the end, unless --workdir names one (then the sources of failing batches
and of --show are kept there).

A seed fails if the traces differ, or if its scenario crashed, hung
(SCENARIO_TIMEOUT), or drew a sanitizer report; the seeds after it in its
batch get one more batch of their own. Each failure is printed with
its first difference and the command that shows it again. The last line
is "difftest PROFILE: N seeds run, N failing[, N not run]". Exit status:
0 if every seed ran and agreed, 1 otherwise (also for no seed at all),
2 if async.c does not compile.

The library under test is async.c/async.h at the repository root, or in
$ASYNC_ROOT.
"""
import argparse
import collections
import concurrent.futures as cf
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import gen  # noqa: E402

ROOT = os.environ.get('ASYNC_ROOT') or os.path.dirname(os.path.dirname(HERE))
PROFILES = os.path.join(HERE, 'profiles.json')

# The scenarios are compiled without optimisation: that halves the compile
# time, which is most of a run; the library keeps -O1.
SAN = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all',
       '-fno-omit-frame-pointer']
WARN = ['-Wall', '-Wno-unused-label', '-Wno-unused-function']
SCENARIO_TIMEOUT = 10  # seconds for one scenario in C (alarm)
C_TIMEOUT = 120        # for one batch's C program, a backstop
PY_TIMEOUT = 300       # and for its Python program

# Lines that belong to the run as a whole rather than to one task.
GLOBAL = ('main-result', 'close', 'DEADLOCK', 'PYERROR', 'final', 'MISUSE')


def load_profile(name):
    with open(PROFILES) as f:
        cfg = json.load(f)
    if name not in cfg['profiles']:
        sys.exit('run.py: no profile %r in %s (have: %s)'
                 % (name, PROFILES, ', '.join(cfg['profiles'])))
    prof = dict(cfg['profiles'][name])
    prof['opts'] = cfg['generators'][prof.get('gen', 'default')]
    return prof


class Build:
    """One compiler configuration and the work directory it builds in."""

    def __init__(self, cc, cflags, workdir, sanitize=True):
        self.cc = cc
        self.cflags = cflags
        self.workdir = workdir
        self.san = SAN if sanitize else []
        self._lib = None

    def lib(self):
        """async.c and queue.c compiled once; returns the objects, or
        raises CalledProcessError with the compiler's output."""
        if self._lib is None:
            self._lib = []
            for src in ('async', 'queue'):
                obj = os.path.join(self.workdir, '%s%s.o'
                                   % (src, '' if self.san else '-nosan'))
                subprocess.run([self.cc, '-std=c99', '-O1', '-g',
                                '-I' + ROOT] + self.san + WARN + self.cflags
                               + ['-c', os.path.join(ROOT, src + '.c'),
                                  '-o', obj],
                               check=True, capture_output=True, text=True)
                self._lib.append(obj)
        return self._lib

    def compile(self, c_path, exe):
        return subprocess.run([self.cc, '-std=c99', '-O0', '-g', '-I' + ROOT]
                              + self.san + WARN + self.cflags
                              + [c_path] + self.lib() + ['-o', exe],
                              capture_output=True, text=True)


def write_c(scns, path):
    """All scenarios in one program; each one's output starts '=== SEED'.
    A scenario runs on virtual time in well under a second: one that takes
    SCENARIO_TIMEOUT seconds hangs, and SIGALRM ends the program there."""
    parts = ['#define _POSIX_C_SOURCE 200809L /* alarm */',
             '#include <unistd.h>', gen.C_PRELUDE]
    for s in scns:
        parts.append(gen.emit_c(s, 'S%d' % s['seed']))
    parts.append('int main(void)\n{')
    for s in scns:
        # flushed before and after, so that a crash leaves the output of
        # every earlier scenario and the crashing one's header
        parts.append('    printf("=== %d\\n"); fflush(stdout); alarm(%d); '
                     'S%d_run(); fflush(stdout);'
                     % (s['seed'], SCENARIO_TIMEOUT, s['seed']))
    parts.append('    return 0;\n}\n')
    with open(path, 'w') as f:
        f.write('\n'.join(parts))


def write_py(scns, path):
    parts = ['import asyncio, sys', 'sys.path.insert(0, %r)' % HERE,
             'sys.dont_write_bytecode = True', 'import pyharness as H',
             'log = H.log', 'RUNS = []']
    for s in scns:
        parts.append(gen.emit_py(s).replace('def build():',
                                            'def build_%d():' % s['seed']))
        parts.append('RUNS.append((%d, build_%d))' % (s['seed'], s['seed']))
    parts.append('''
for seed, b in RUNS:
    print('=== %d' % seed)
    try:
        for line in H.run(b()):
            print(line)
    except Exception as e:
        print('PYERROR %r' % e)
    sys.stdout.flush()
''')
    with open(path, 'w') as f:
        f.write('\n'.join(parts))


def split(out):
    """{seed: [lines]} from a batch's output."""
    res = {}
    cur = None
    for line in out.splitlines():
        if line.startswith('=== '):
            cur = int(line[4:])
            res[cur] = []
        elif cur is not None:
            res[cur].append(line)
    return res


def per_task(lines):
    """The trace grouped by task ('#' for the run as a whole), each line
    without the task's name: tasks interleave differently within a tick
    for reasons of loop turns, which is not what is compared."""
    d = collections.OrderedDict()
    for line in lines:
        p = line.split()
        if not p or p[0] in GLOBAL or len(p) < 4:
            d.setdefault('#', []).append(line)
        else:
            d.setdefault(p[1], []).append('%s %s %s' % (p[0], p[2], p[3]))
    return d


def compare(c, p):
    """None if the traces agree, else the first difference: of the tasks'
    first differences, the earliest in time (the run's own lines, which
    have no tick, last), e.g. "T1[3]: C '4 c2.s0 TIMEOUT' vs Py '4 c2.s0 0'"
    (T1's fourth line)."""
    if c is None:
        return 'no C output'
    dc, dp = per_task(c), per_task(p)
    found = []
    for k in set(dc) | set(dp):
        a, b = dc.get(k, []), dp.get(k, [])
        if a == b:
            continue
        i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y),
                 min(len(a), len(b)))
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        ticks = [int(v.split()[0]) for v in (x, y)
                 if v is not None and k != '#']
        when = min(ticks) if ticks else float('inf')
        found.append((when, k == '#', k, '%s[%d]: C %s vs Py %s' % (
            k, i, repr(x) if x is not None else '(no more lines)',
            repr(y) if y is not None else '(no more lines)')))
    return min(found)[3] if found else None


def run_program(argv, timeout):
    """(stdout, stderr, status); status None if it timed out."""
    env = dict(os.environ, UBSAN_OPTIONS='print_stacktrace=1',
               ASAN_OPTIONS='detect_leaks=1')
    try:
        r = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout, env=env)
        return r.stdout, r.stderr, r.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors='replace') if e.stdout else ''
        return out, 'timed out after %d s' % timeout, None


def sanitizer_report(err, lines=20):
    """The start of a sanitizer's report (or the end of other output):
    enough to see what and where without the whole stack."""
    text = err.strip().splitlines()
    for i, line in enumerate(text):
        if 'runtime error' in line or line.startswith('=='):
            return '\n'.join(text[i:i + lines])
    return '\n'.join(text[-lines:])


def run_scenarios(build, scns, base):
    """Run scenarios as C and Python. Returns (results, not_run):
    results {seed: None or failure text} for the seeds that ran;
    not_run, the seeds after one that crashed or hung."""
    write_c(scns, base + '.c')
    write_py(scns, base + '.py')
    seeds = [s['seed'] for s in scns]
    r = build.compile(base + '.c', base + '.exe')
    if r.returncode:
        return {s: 'C scenario does not compile:\n' + r.stderr[-3000:]
                for s in seeds}, []
    cout, cerr, cstatus = run_program([base + '.exe'], C_TIMEOUT)
    pout, perr, pstatus = run_program([sys.executable, base + '.py'],
                                      PY_TIMEOUT)
    C, P = split(cout), split(pout)
    results, not_run = {}, []
    # The C program runs the scenarios in order: a crash, sanitizer report
    # or hang belongs to the last one that started; the rest never ran.
    last = seeds.index(max(C, key=seeds.index)) if C else 0
    for i, s in enumerate(seeds):
        if cstatus != 0 and i > last:
            not_run.append(s)
            continue
        why = compare(C.get(s), P.get(s, []))
        if cstatus != 0 and i == last:
            if cstatus == -signal.SIGALRM:
                what = 'hung (still running after %d s)' % SCENARIO_TIMEOUT
            elif cstatus is None:
                what = 'hung (the batch ran out of %d s)' % C_TIMEOUT
            elif cstatus < 0:
                what = 'was killed by signal %d' % -cstatus
            else:
                what = 'exited with status %d' % cstatus
            why = 'C %s in this scenario%s' % (
                what, '' if why is None else ' (first difference: %s)' % why)
            if cerr.strip():
                why += '\n' + sanitizer_report(cerr)
        results[s] = why
    if pstatus != 0:
        for s in seeds:
            if s not in P and s not in not_run:
                results[s] = 'Python side failed:\n' + perr.strip()[-2000:]
    return results, not_run


class Runner:
    def __init__(self, build, opts, keep):
        self.build = build
        self.opts = opts
        self.keep = keep

    def batch(self, seeds, retry=True):
        """{seed: failure or None} for seeds; the seeds after a crash get
        one more batch of their own, so that one crash does not hide the
        rest."""
        base = os.path.join(self.build.workdir, 'batch_%d' % seeds[0])
        scns = [gen.generate(s, self.opts) for s in seeds]
        results, not_run = run_scenarios(self.build, scns, base)
        if not (self.keep and any(results.values())):
            for ext in ('.c', '.py', '.exe'):
                if os.path.exists(base + ext):
                    os.unlink(base + ext)
        if not_run and retry:
            results.update(self.batch(not_run, retry=False))
        return results


def show(build, s):
    """Print the scenario, its C and Python traces and the verdict; keep
    the sources. Exit status 1 if they differ."""
    seed = s['seed']
    base = os.path.join(build.workdir, 'show_%d' % seed)
    write_c([s], base + '.c')
    write_py([s], base + '.py')
    r = build.compile(base + '.c', base + '.exe')
    if r.returncode:
        print(r.stderr)
        return 2
    cout, cerr, cstatus = run_program([base + '.exe'], C_TIMEOUT)
    pout, perr, _ = run_program([sys.executable, base + '.py'], PY_TIMEOUT)
    c = split(cout).get(seed)
    p = split(pout).get(seed, [])
    print('scenario:', json.dumps(s))
    print('--- C trace (%s.c)' % base)
    print('\n'.join(c or []))
    if cerr or cstatus:
        print('C status %s\n%s' % (cstatus, cerr))
    print('--- Python trace (%s.py)' % base)
    print('\n'.join(p))
    if perr:
        print(perr)
    why = compare(c, p)
    if cstatus != 0:
        why = 'C exit status %s (%s)' % (
            'none: timed out' if cstatus is None else cstatus,
            why or 'the traces agree')
    print('--- verdict:', why or 'same')
    return 1 if why else 0


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--profile', default='default',
                    help='generator options and build flags from '
                    'profiles.json (default: default)')
    ap.add_argument('--opts', help='generator options as JSON, on top of '
                    "the profile's")
    ap.add_argument('--cc', help="compiler (default: the profile's, $CC, "
                    'or gcc)')
    ap.add_argument('--cflags', help="C flags instead of the profile's")
    ap.add_argument('--start', type=int, default=0, help='first seed')
    ap.add_argument('--count', type=int, default=200, help='number of seeds')
    ap.add_argument('--batch', type=int, default=40,
                    help='scenarios per C program')
    ap.add_argument('-j', type=int, default=2, help='batches in parallel')
    ap.add_argument('--show', type=int, metavar='SEED',
                    help='run one seed and print both traces')
    ap.add_argument('--scenario', metavar='FILE',
                    help='as --show, for a scenario given as JSON (as --show '
                    'and minimize.py print it)')
    ap.add_argument('--workdir', help='keep files here (default: a '
                    'temporary directory, removed)')
    a = ap.parse_args()

    prof = load_profile(a.profile)
    opts = dict(prof['opts'])
    if a.opts:
        opts.update(json.loads(a.opts))
    cc = a.cc or prof.get('cc') or os.environ.get('CC') or 'gcc'
    cflags = a.cflags if a.cflags is not None else prof.get('cflags', '')
    if sys.version_info[:2] != (3, 11):
        print('run.py: warning: pyharness.py emulates asyncio as of Python '
              '3.11 and uses its internals; this is %d.%d'
              % sys.version_info[:2], file=sys.stderr)

    if a.workdir:
        workdir = os.path.abspath(a.workdir)
        os.makedirs(workdir, exist_ok=True)
    else:
        workdir = tempfile.mkdtemp(prefix='difftest-')
    # --show keeps its sources for reading, even in a temporary directory
    remove = not a.workdir and a.show is None and a.scenario is None
    build = Build(cc, shlex.split(cflags), workdir)
    try:
        try:
            build.lib()
        except subprocess.CalledProcessError as e:
            print('difftest %s: async.c does not compile with %s:\n%s'
                  % (a.profile, ' '.join([cc] + shlex.split(cflags)),
                     e.stderr))
            return 2
        if a.show is not None:
            return show(build, gen.generate(a.show, opts))
        if a.scenario is not None:
            with open(a.scenario) as f:
                return show(build, json.load(f))
        return run_range(a, build, opts, cc, cflags)
    finally:
        if remove:
            shutil.rmtree(workdir, ignore_errors=True)


def repro(a, cc, cflags, seed):
    """The command that shows one seed again, as run here."""
    cmd = ['python3', os.path.relpath(os.path.abspath(__file__)),
           '--show', str(seed), '--profile', a.profile]
    if a.opts:
        cmd += ['--opts', a.opts]
    if a.cc:
        cmd += ['--cc', a.cc]
    if a.cflags is not None:
        cmd += ['--cflags', a.cflags]
    env = 'ASYNC_ROOT=%s ' % shlex.quote(ROOT) \
        if os.environ.get('ASYNC_ROOT') else ''
    return env + ' '.join(shlex.quote(x) for x in cmd)


def run_range(a, build, opts, cc, cflags):
    print('difftest %s: seeds %d..%d, %s, generator %s'
          % (a.profile, a.start, a.start + a.count - 1,
             ' '.join([cc] + shlex.split(cflags)),
             json.dumps(opts, sort_keys=True)), flush=True)
    seeds = list(range(a.start, a.start + a.count))
    batches = [seeds[i:i + a.batch] for i in range(0, len(seeds), a.batch)]
    runner = Runner(build, opts, keep=bool(a.workdir))
    ran = failing = 0
    with cf.ThreadPoolExecutor(max(1, a.j)) as ex:
        for results in ex.map(runner.batch, batches):
            for s in sorted(results):
                ran += 1
                why = results[s]
                if why:
                    failing += 1
                    print('FAIL seed %d: %s\n  reproduce: %s'
                          % (s, why, repro(a, cc, cflags, s)), flush=True)
    not_run = len(seeds) - ran
    print('difftest %s: %d seeds run, %d failing%s'
          % (a.profile, ran, failing,
             ', %d not run' % not_run if not_run else ''))
    return 0 if ran and not failing and not not_run else 1


if __name__ == '__main__':
    sys.exit(main())
