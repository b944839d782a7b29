#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Greedy minimiser for a failing seed:

    minimize.py SEED [--profile NAME] [--opts JSON] [--same] [--workdir DIR]

Shrinks the scenario gen.py makes for SEED (drops steps, cleanup items and
main's steps, unwraps loops, nested wait_fors and calls, turns caught errors
into propagated ones, lowers sleeps and deadlines) for as long as C and
Python still disagree (with --same: with the first difference in the same
task and label). Prints the scenario as JSON and leaves the last one tried,
the smallest, as min_SEED.c and min_SEED.py in the work directory (default:
a new temporary directory, kept), whose path it prints.
"""
import argparse
import copy
import json
import os
import shlex
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import gen  # noqa: E402
import run  # noqa: E402


def check(build, scn):
    """None if C and Python agree on scn, else the difference."""
    base = os.path.join(build.workdir, 'min_%d' % scn['seed'])
    res, _ = run.run_scenarios(build, [scn], base)
    why = res.get(scn['seed'])
    if why and why.startswith('C scenario does not compile'):
        return 'COMPILE'
    return why


def edits(scn):
    """Every scenario one simplification away from scn."""
    def with_step(cid, i, step):
        v = copy.deepcopy(scn)
        v['coros'][cid]['steps'][i] = step
        return v

    for c in scn['coros']:
        cid = c['id']
        for i, s in enumerate(c['steps']):
            v = copy.deepcopy(scn)
            del v['coros'][cid]['steps'][i]
            yield v
            if s[0] == 'loop':
                yield with_step(cid, i, s[2])
            if s[0] == 'wf' and s[2][0] == 'wf':  # one deadline, not two
                yield with_step(cid, i, ('wf', s[1], s[2][2], s[3]))
                yield with_step(cid, i, ('wf', s[2][1], s[2][2], s[3]))
            if s[0] == 'wf' and s[2][0] == 'call':
                yield with_step(cid, i, ('call', s[2][1], s[3]))
            if s[0] == 'wf' and s[2][0] in gen.SYNC_OPS:
                yield with_step(cid, i, ('q', s[2], s[3]))
            if s[0] in ('wf', 'call', 'wait', 'gather', 'q') \
                    and s[-1] != 'prop':
                yield with_step(cid, i, tuple(s[:-1]) + ('prop',))
            if s[0] == 'gather' and len(s[1]) > 1:
                for j in range(len(s[1])):
                    yield with_step(cid, i, (s[0], s[1][:j] + s[1][j + 1:])
                                    + tuple(s[2:]))
            if s[0] in ('sleep', 'wf'):
                # ticks: a sleep's down to 0, a deadline's down to 1
                for j, x in enumerate(s):
                    if j > 0 and isinstance(x, int) and not isinstance(
                            x, bool) and x > (1 if s[0] == 'wf' else 0):
                        yield with_step(cid, i, s[:j] + (x - 1,) + s[j + 1:])
        if c['cleanup'] is not None:
            v = copy.deepcopy(scn)
            v['coros'][cid]['cleanup'] = None
            yield v
            for i in range(len(c['cleanup'])):
                v = copy.deepcopy(scn)
                del v['coros'][cid]['cleanup'][i]
                yield v
    for i, s in enumerate(scn['main']):
        v = copy.deepcopy(scn)
        del v['main'][i]
        yield v
        if s[0] == 'sleep' and s[1] > 0:
            v = copy.deepcopy(scn)
            v['main'][i] = ('sleep', s[1] - 1)
            yield v
    if len(scn['waitfor']) < scn['ntasks']:
        v = copy.deepcopy(scn)
        v['waitfor'] = list(range(scn['ntasks']))
        yield v


def prune(scn):
    """scn without the coroutines nothing calls any more (ids are kept, so
    the labels still match the seed's)."""
    def calls(x):
        if isinstance(x, (list, tuple)):
            if len(x) > 1 and x[0] == 'call':
                yield x[1]
            for y in x:
                yield from calls(y)
    keep, todo = set(), list(scn['tops'])
    by_id = {c['id']: c for c in scn['coros']}
    while todo:
        cid = todo.pop()
        if cid not in keep:
            keep.add(cid)
            todo.extend(calls(by_id[cid]['steps']))
    v = copy.deepcopy(scn)
    v['coros'] = [c for c in v['coros'] if c['id'] in keep]
    return v


def size(scn):
    return len(json.dumps(scn))


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('seed', type=int)
    ap.add_argument('--profile', default='default')
    ap.add_argument('--opts')
    ap.add_argument('--cc')
    ap.add_argument('--cflags')
    ap.add_argument('--same', action='store_true',
                    help='keep the first difference in the same task/label')
    ap.add_argument('--workdir')
    a = ap.parse_args()
    prof = run.load_profile(a.profile)
    opts = dict(prof['opts'])
    if a.opts:
        opts.update(json.loads(a.opts))
    cc = a.cc or prof.get('cc') or os.environ.get('CC') or 'gcc'
    cflags = a.cflags if a.cflags is not None else prof.get('cflags', '')
    workdir = a.workdir or tempfile.mkdtemp(prefix='difftest-min-')
    os.makedirs(workdir, exist_ok=True)
    scn = gen.generate(a.seed, opts)
    build = run.Build(cc, shlex.split(cflags), workdir)
    build.lib()
    why = check(build, scn)
    if not why:
        print('seed %d: C and Python agree, nothing to shrink' % a.seed,
              file=sys.stderr)
        return 1
    print('start:', why.split('\n')[0], file=sys.stderr)
    if why.startswith('C ') or why.startswith('no C output'):
        print('(a crash, hang or sanitizer report: kept with sanitizers)',
              file=sys.stderr)
    else:
        # a difference in the traces: shrinking it needs no sanitizer, and
        # each try compiles three times faster without
        build = run.Build(cc, shlex.split(cflags), workdir, sanitize=False)
        build.lib()

    def key(w):
        """(task, label) of a difference: T1[3]: C '13 c2.s0 0' vs ..."""
        head, _, rest = w.partition(': ')
        quoted = rest.split("'")
        words = quoted[1].split() if len(quoted) > 1 else []
        return head.split('[')[0], words[1] if len(words) > 1 else ''

    changed = True
    while changed:
        changed = False
        for v in edits(scn):
            w = check(build, v)
            if w and w != 'COMPILE' and (not a.same or key(w) == key(why)) \
                    and v != scn:  # every edit simplifies: this ends
                scn, why, changed = v, w, True
                print('  -> %d: %s' % (size(scn), why.split('\n')[0]),
                      file=sys.stderr)
                break
    scn = prune(scn)
    check(build, scn)  # leave the smallest one's sources behind
    print(json.dumps(scn))
    print('final: %s\nsources: %s/min_%d.{c,py}' % (why, workdir, a.seed),
          file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
