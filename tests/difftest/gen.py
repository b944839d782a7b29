# SPDX-License-Identifier: MIT
"""Random scenario generator for the differential test (run.py): one small
program, emitted both as C against async.h (emit_c) and as Python asyncio
on pyharness's virtual clock (emit_py). See README.md in this directory.

A scenario (generate(seed, opts)) is plain data, JSON-able, which is what
run.py --show and minimize.py print and --scenario reads back:

    ntasks   tasks T0..Tn-1, created by main at tick 0
    tops     the coroutine each task runs
    coros    [{id, owner (task), steps, cleanup, ret}]; children have larger
             ids than their parent. The coroutine logs each step, returns
             ret, and with cleanup not None has a cleanup section
             (ASYNC_FINALLY / finally) that logs ASYNC_RESULT and runs
             the cleanup items.
    main     main's steps after creating the tasks: ('sleep', n),
             ('cancel', task)
    waitfor  the tasks main awaits at the end; the others are left to
             async_loop_run / asyncio.run to cancel

Steps (mode: 'prop' returns any error; 'try' catches TIMEOUT and FAIL and
goes on; 'swallow' also catches CANCELLED and goes on):
    ('sleep', n)  ('yield',)  ('fail',)  ('cancel', task)
    ('call', coro, mode)  ('wait', task, mode)  ('gather', tasks, all, mode)
    ('wf', deadline, op, mode)          wait_for around op
    ('loop', count, step)               step run count times
ops, what a wait_for bounds: ('sleep', n), ('yield',), ('call', coro),
    ('wait', task), ('gather', tasks, all), ('wf', deadline, op) (a second
    wait_for in the same AWAIT)
cleanup items: ('sleep', n), ('cancel', task), ('wait', task),
    ('wf', deadline, ('sleep', n) | ('wait', task))

With the queue option (README.md), the scenario also has qcap (the
queue's capacity) and semval (the semaphore's permits), main may have
('evset',) steps, and there are steps on the shared objects:
    ('q', op, mode)      an await on one, op one of ('get',), ('put', n),
                         ('join',), ('evwait',), ('acq',) (the lock),
                         ('sem',); these are also ops of wait_fors
    ('putnw', n)  ('getnw',)  ('evset',)  ('evclear',)
A coroutine with get, getnw, acq or sem steps has a cleanup section, which
starts with one task_done per item got and the releases.

Tasks only await (wait, gather) tasks created after their own, so there are
no cycles. Deadlines are biased to equal the sleep they bound, so that
expiry and completion fall on the same tick.
"""
import random

MAXDEPTH = 3  # coroutine nesting: a task's coroutine, its child, grandchild


class Gen:
    # Generator options: probabilities, counts, and switches; profiles.json
    # names sets of them.
    DEFAULTS = dict(
        cleanup=0.5,           # a coroutine has a cleanup section
        cleanup_sleep=True,    # ... with 0-2 items (else empty)
        max_steps=4,           # steps per coroutine: 1..max_steps
        ntasks=(1, 4),         # tasks per scenario: a range
        gather=True, cancel=True, waits=True,  # step kinds allowed
        selfcancel=0.03,       # a cancel step cancels its own task
        zero_deadline=0.0,     # a deadline may be 0 (see README: not used)
        nested_wf=0.15,        # a wait_for's op is another wait_for
        cleanup_wf=0.0,        # a cleanup item is a wait_for or a wait
        wf_yield=0,            # weight of yield among a wait_for's ops
        cleanup_cancel=0.0,    # a cleanup item cancels a task
        leftover=0.0,          # main leaves a task unawaited
        loop=0.0,              # a step runs 2-3 times in a loop
        swallow=0.0,           # a step catches CANCELLED too (see step())
        maxsleep=6,            # the longest sleep
        queue=0.0,             # weight of queue/event/lock/semaphore steps
                               # (0: none, and no shared objects)
        qcap=(1, 3),           # the queue's capacity: a range
    )

    def __init__(self, seed, opts=None):
        self.r = random.Random(seed)
        self.seed = seed
        self.o = dict(self.DEFAULTS)
        self.o.update(opts or {})
        self.coros = []
        # coroutine id -> whether a wait_for in a caller's frame bounds it
        self.bounded = {}
        # coroutine id -> whether it may still acquire the lock: not if it
        # did already or a caller in its task may hold it (async.h: EBUSY,
        # asyncio: a deadlock)
        self.lock_ok = {}
        self.nitems = 0  # put steps so far: items are numbered 1, 2, ...

    def sleep_n(self):
        r = self.r
        return r.choice([0, 1, 1, 2, 2, 3, 3, 4, 5, self.o['maxsleep']])

    def deadline(self, hint=None):
        r = self.r
        lo = 0 if r.random() < self.o['zero_deadline'] else 1
        if hint is not None and r.random() < 0.5:
            return max(lo, hint + r.choice([-1, 0, 0, 0, 1]))
        return max(lo, r.choice([0, 1, 2, 2, 3, 3, 4, 5, 6, 8]))

    def new_coro(self, owner, depth, want_wf=False, bounded=False,
                 lock_ok=True):
        """A coroutine of task owner at depth; want_wf: its first step is a
        wait_for; bounded: a wait_for in a caller's frame bounds it;
        lock_ok: it may acquire the lock."""
        cid = len(self.coros)
        c = dict(id=cid, owner=owner, steps=[], cleanup=None,
                 ret=100 + cid)
        self.coros.append(c)
        self.bounded[cid] = bounded
        self.lock_ok[cid] = lock_ok
        r = self.r
        n = r.randint(1, self.o['max_steps'])
        for i in range(n):
            s = self.step(c, depth, want_wf and i == 0)
            # (not a queue or lock op: each item is put once, and the
            # lock is acquired once)
            loopable = s[0] in ('sleep', 'wf', 'call', 'wait', 'gather') \
                and not (s[0] == 'wf' and sync_op(s[2]))
            if self.o['loop'] and loopable and r.random() < self.o['loop']:
                s = ('loop', r.randint(2, 3), s)
            c['steps'].append(s)
            if s[0] == 'fail':
                break
        if r.random() < self.o['cleanup']:
            if self.o['cleanup_sleep']:
                c['cleanup'] = [self.cleanup_step(c)
                                for _ in range(r.randint(0, 2))]
            else:
                c['cleanup'] = []
        if c['cleanup'] is None and holds(c):
            # task_done and the releases go in the cleanup section, as in
            # asyncio's try/finally
            c['cleanup'] = []
        return cid

    def cleanup_step(self, c):
        r = self.r
        if self.ntasks > 1 and r.random() < self.o['cleanup_cancel']:
            return ('cancel', r.randrange(self.ntasks))
        if r.random() >= self.o['cleanup_wf']:
            return ('sleep', self.sleep_n())
        lt = self.later_tasks(c['owner'])
        k = r.choice(['wf', 'wf', 'wait'] if lt else ['wf'])
        if k == 'wait':
            return ('wait', r.choice(lt))
        if lt and r.random() < 0.4:
            op = ('wait', r.choice(lt))
            return ('wf', self.deadline(), op)
        n = self.sleep_n()
        return ('wf', self.deadline(n), ('sleep', n))

    def later_tasks(self, owner):
        return list(range(owner + 1, self.ntasks))

    def op(self, c, depth, nest=True):
        """What a wait_for step bounds."""
        r = self.r
        owner = c['owner']
        if nest and r.random() < self.o['nested_wf']:
            inner = self.op(c, depth, nest=False)
            hint = inner[1] if inner[0] == 'sleep' else None
            return ('wf', self.deadline(hint), inner)
        ch = ['sleep'] * 3 + ['yield'] * self.o['wf_yield']
        if depth < MAXDEPTH:
            ch += ['call'] * 4
        if self.o['queue']:
            ch += ['sync'] * 5
        if self.o['waits'] and self.later_tasks(owner):
            ch += ['wait'] * 2
            if self.o['gather']:
                ch += ['gather']
        k = r.choice(ch)
        if k == 'sleep':
            return ('sleep', self.sleep_n())
        if k == 'yield':
            return ('yield',)
        if k == 'call':
            return ('call', self.new_coro(owner, depth + 1,
                                          want_wf=r.random() < 0.6,
                                          bounded=True,
                                          lock_ok=self.lock_ok[c['id']]))
        if k == 'sync':
            return self.sync_op(c)
        if k == 'wait':
            return ('wait', r.choice(self.later_tasks(owner)))
        lt = self.later_tasks(owner)
        ks = r.sample(lt, r.randint(1, min(3, len(lt))))
        return ('gather', ks, r.random() < 0.5)

    def sync_op(self, c):
        """An await on the queue, event, lock or semaphore."""
        r = self.r
        w = [('get', 4), ('put', 4), ('join', 1), ('evwait', 1.5),
             ('sem', 1.5)]
        if self.lock_ok[c['id']]:
            w.append(('acq', 1.5))
        k = pick(r, w)
        if k == 'put':
            self.nitems += 1
            return ('put', self.nitems)
        if k == 'acq':
            self.lock_ok[c['id']] = False
        return (k,)

    def step(self, c, depth, want_wf=False):
        r = self.r
        owner = c['owner']
        if want_wf:
            kind = 'wf'
        else:
            w = [('sleep', 3), ('wf', 3), ('yield', 0.5), ('fail', 0.3)]
            q = self.o['queue']
            if q:
                w += [('q', 3 * q), ('putnw', q), ('getnw', q),
                      ('evset', 0.5 * q), ('evclear', 0.2 * q)]
            if depth < MAXDEPTH:
                w.append(('call', 1.5))
            if self.o['waits'] and self.later_tasks(owner):
                w.append(('wait', 1))
                if self.o['gather']:
                    w.append(('gather', 0.7))
            if self.o['cancel'] and self.ntasks > 1:
                w.append(('cancel', 1))
            kind = pick(r, w)
        mode = r.choice(['prop', 'try'])
        # 'swallow' only where no wait_for in a caller's frame bounds the
        # coroutine. Requests that reach a task in one turn, a caller's
        # deadline among them, are one CancelledError in asyncio, while
        # async.h delivers them one per suspension (a deadline's request
        # belongs to its frame): a difference only code that catches the
        # cancellation and carries on can see (README.md). The random draw
        # comes first, so that this changes no other choice.
        if self.o['swallow'] and r.random() < self.o['swallow'] \
                and not self.bounded[c['id']]:
            mode = 'swallow'
        if kind == 'sleep':
            return ('sleep', self.sleep_n())
        if kind == 'yield':
            return ('yield',)
        if kind == 'fail':
            return ('fail',)
        if kind == 'call':
            return ('call', self.new_coro(owner, depth + 1,
                                          want_wf=r.random() < 0.4,
                                          bounded=self.bounded[c['id']],
                                          lock_ok=self.lock_ok[c['id']]),
                    mode)
        if kind == 'q':
            return ('q', self.sync_op(c), mode)
        if kind == 'putnw':
            self.nitems += 1
            return ('putnw', self.nitems)
        if kind in ('getnw', 'evset', 'evclear'):
            return (kind,)
        if kind == 'wait':
            return ('wait', r.choice(self.later_tasks(owner)), mode)
        if kind == 'gather':
            lt = self.later_tasks(owner)
            ks = r.sample(lt, r.randint(1, min(3, len(lt))))
            return ('gather', ks, r.random() < 0.5, mode)
        if kind == 'cancel':
            others = [k for k in range(self.ntasks) if k != owner]
            if r.random() < self.o['selfcancel'] or not others:
                return ('cancel', owner)
            return ('cancel', r.choice(others))
        # wf
        op = self.op(c, depth)
        hint = op[1] if op[0] == 'sleep' else None
        return ('wf', self.deadline(hint), op, mode)

    def scenario(self):
        r = self.r
        self.ntasks = r.randint(*self.o['ntasks'])
        tops = [self.new_coro(i, 1) for i in range(self.ntasks)]
        main = []
        for _ in range(r.randint(0, 3)):
            if self.o['cancel'] and r.random() < 0.6:
                main.append(('sleep', r.choice([0, 1, 2, 3, 4, 5])))
                main.append(('cancel', r.randrange(self.ntasks)))
            else:
                main.append(('sleep', self.sleep_n()))
        waitfor = [i for i in range(self.ntasks)
                   if r.random() >= self.o['leftover']]
        scn = dict(seed=self.seed, ntasks=self.ntasks, coros=self.coros,
                   tops=tops, main=main, waitfor=waitfor)
        if self.o['queue']:
            # the shared objects; main may set the event after a sleep
            scn['qcap'] = r.randint(*self.o['qcap'])
            scn['semval'] = r.randint(1, 2)
            for i in range(len(main)):
                if main[i][0] == 'sleep' and r.random() < 0.3:
                    main.insert(i + 1, ('evset',))
                    break
        return scn


def pick(r, weighted):
    """One of the (kind, weight) pairs' kinds, drawn by weight."""
    x = r.random() * sum(wt for _, wt in weighted)
    for kind, wt in weighted:
        x -= wt
        if x < 0:
            break
    return kind


# Awaits on the shared objects (ops of ('q', op, mode) and of wait_fors):
# ('get',), ('put', n), ('join',), ('evwait',), ('acq',) (the lock),
# ('sem',). The others are steps of their own: ('putnw', n), ('getnw',),
# ('evset',), ('evclear',).
SYNC_OPS = ('get', 'put', 'join', 'evwait', 'acq', 'sem')


def sync_op(opnd):
    """The await on a shared object inside op (through nested wait_fors),
    or None."""
    while opnd[0] == 'wf':
        opnd = opnd[2]
    return opnd if opnd[0] in SYNC_OPS else None


def step_op(s):
    """The await on a shared object of step s, or None."""
    if s[0] == 'loop':
        s = s[2]
    if s[0] == 'q':
        return s[1]
    if s[0] == 'wf':
        return sync_op(s[2])
    return None


def awaited(s):
    """An awaiting step s as (deadline or None, operand, mode): what both
    emitters need of it."""
    k = s[0]
    if k == 'wf':
        return s[1], s[2], s[3]
    if k == 'q':
        return None, s[1], s[2]
    if k == 'gather':
        return None, ('gather', s[1], s[2]), s[3]
    if k in ('call', 'wait'):
        return None, (k, s[1]), s[2]
    raise ValueError('not an awaiting step: %r' % (s,))


def holds(c):
    """Whether coroutine c may get items or acquire the lock or a permit
    (its cleanup section then marks them done and releases)."""
    return any((step_op(s) or ('',))[0] in ('get', 'acq', 'sem')
               or s[0] == 'getnw' for s in c['steps'])


def op_suffix(opnd):
    """What a step's label says about its await on a shared object."""
    o = sync_op(opnd)
    if o is None:
        return ''
    if o[0] == 'put':
        return '.put%d' % o[1]
    return '.' + o[0]


def generate(seed, opts=None):
    """The scenario for seed, with opts over Gen.DEFAULTS."""
    return Gen(seed, opts).scenario()


# ------------------------------------------------------------------ C
# One scenario is a set of static functions and objects prefixed P (run.py
# uses S<seed>), and P_run(), which runs it on a fresh loop and prints its
# trace. A 'fail' step returns ASYNC_EINVAL. In a debug build the misuse
# hook prints a MISUSE line, which Python never does.

C_PRELUDE = r'''
#include <stdio.h>
#include <string.h>
#include "async.h"
#ifndef DT_BASE
#define DT_BASE 0
#endif
static async_task_t *g_tasks, *g_main;
static int g_n;
#if ASYNC_CONFIG_DEBUG
static void dt_hook(int code, const char *what)
{
    printf("MISUSE %s %s\n", async_strerror_name(code), what);
}
#define DT_HOOK() (async_debug_hook = dt_hook)
#else
#define DT_HOOK() ((void)0)
#endif
static const char *rcname(int rc, char *buf)
{
    if (rc >= 0) { sprintf(buf, "%d", rc); return buf; }
    if (rc == ASYNC_ECANCELED) return "CANCELLED";
    if (rc == ASYNC_ETIMEDOUT) return "TIMEOUT";
    if (rc == ASYNC_EINVAL) return "FAIL";
    if (rc == ASYNC_EFULL) return "FULL";
    if (rc == ASYNC_EEMPTY) return "EMPTY";
    return async_strerror_name(rc);
}
static void LOG(async_loop_t *loop, const char *what, int rc)
{
    async_task_t *t = async_current(loop);
    /* ticks since the start, which is DT_BASE (near the wrap, say) */
    async_tick_t now = async_loop_now(loop) - (async_tick_t)DT_BASE;
    char nm[16], b[16];
    if (t == g_main) strcpy(nm, "main");
    else if (t >= g_tasks && t < g_tasks + g_n)
        sprintf(nm, "T%d", (int)(t - g_tasks));
    else strcpy(nm, "?");
    printf("%u %s %s %s\n", (unsigned)now, nm, what, rcname(rc, b));
}
'''


def c_op(P, st, idx, opnd):
    """The C expression for an op of step number idx (its objects are
    fields of the frame named after idx)."""
    k = opnd[0]
    if k == 'sleep':
        return 'async_sleep(loop, %d)' % opnd[1]
    if k == 'yield':
        return 'async_yield(loop)'
    if k == 'call':
        return 'async_call(loop, %s_c%d, &f->k%d)' % (P, opnd[1], idx)
    if k == 'wait':
        return 'async_task_wait(loop, &%s_T[%d])' % (P, opnd[1])
    if k == 'gather':
        return 'async_gather(loop, &f->g%d, f->gt%d)' % (idx, idx)
    if k == 'wf':
        # the inner of two wait_fors in one AWAIT: timeout tb<idx>
        return 'async_wait_for(loop, &f->tb%d, %d, %s)' % (
            idx, opnd[1], c_op(P, st, idx, opnd[2]))
    if k == 'get':
        return 'async_queue_get(loop, &%s_q, &f->item)' % P
    if k == 'put':
        # (a compound literal: the item is copied when it is put)
        return 'async_queue_put(loop, &%s_q, &(int){%d})' % (P, opnd[1])
    if k == 'join':
        return 'async_queue_join(loop, &%s_q)' % P
    if k == 'evwait':
        return 'async_event_wait(loop, &%s_ev)' % P
    if k == 'acq':
        return 'async_lock_acquire(loop, &%s_lk)' % P
    if k == 'sem':
        return 'async_semaphore_acquire(loop, &%s_sem)' % P
    raise ValueError(k)


# After an await on a shared object, in C: count what the frame holds,
# and log the item got as the step's result.
C_AFTER = {
    'get': 'if (f->rc >= 0) { f->got++; f->rc = f->item; }',
    'acq': 'if (f->rc >= 0) f->held = 1;',
    'sem': 'if (f->rc >= 0) f->sems++;',
}


def c_gather_init(P, idx, ks, all_):
    out = ['async_gather_init(&f->g%d, f->gs%d, %d, %s);' %
           (idx, idx, len(ks), 'ASYNC_GATHER_ALL' if all_ else '0')]
    for j, k in enumerate(ks):
        out.append('f->gt%d[%d] = &%s_T[%d];' % (idx, j, P, k))
    return out


def c_coro(P, c):
    """(frame struct, function) of coroutine c."""
    cid = c['id']
    lab = 'c%d' % cid
    fields = ['async_frame_t co;', 'int rc, crc;']
    body = []
    L = body.append
    if holds(c):
        # items got and not yet marked done, the lock, permits
        fields.append('int item, got, held, sems;')
        L('f->got = f->held = f->sems = 0;')
    L('LOG(loop, "%s.enter", 0);' % lab)
    for idx, s in enumerate(c['steps']):
        lbl = '%s.s%d' % (lab, idx)
        looped = s[0] == 'loop'
        if looped:
            fields.append('int i%d;' % idx)
            L('for (f->i%d = 0; f->i%d < %d; f->i%d++) {'
              % (idx, idx, s[1], idx))
            s = s[2]
        k = s[0]
        if k == 'sleep':
            L('AWAIT(async_sleep(loop, %d));' % s[1])
            L('LOG(loop, "%s", 0);' % lbl)
        elif k == 'yield':
            L('AWAIT(async_yield(loop));')
            L('LOG(loop, "%s", 0);' % lbl)
        elif k == 'fail':
            L('LOG(loop, "%s.fail", 0);' % lab)
            L('ASYNC_RETURN(ASYNC_EINVAL);')
        elif k == 'cancel':
            L('f->rc = async_task_cancel(loop, &%s_T[%d]);' % (P, s[1]))
            L('LOG(loop, "%s.cancel", f->rc);' % lbl)
        elif k == 'putnw':
            L('f->rc = async_queue_put_nowait(&%s_q, &(int){%d});'
              % (P, s[1]))
            L('LOG(loop, "%s.putnw%d", f->rc);' % (lbl, s[1]))
        elif k == 'getnw':
            L('f->rc = async_queue_get_nowait(&%s_q, &f->item);' % P)
            L(C_AFTER['get'])
            L('LOG(loop, "%s.getnw", f->rc);' % lbl)
        elif k in ('evset', 'evclear'):
            L('f->rc = async_event_%s(&%s_ev);' % (k[2:], P))
            L('LOG(loop, "%s.%s", f->rc);' % (lbl, k))
        else:
            d, opnd, mode = awaited(s)
            if opnd[0] == 'wf':
                fields.append('async_timeout_t tb%d;' % idx)
                wrapped, opnd = opnd, opnd[2]
            else:
                wrapped = None
            if opnd[0] == 'call':
                fields.append('struct %s_c%d k%d;' % (P, opnd[1], idx))
            if opnd[0] == 'gather':
                n = len(opnd[1])
                fields.append('async_gather_t g%d; async_gather_slot_t '
                              'gs%d[%d]; async_task_t *gt%d[%d];'
                              % (idx, idx, n, idx, n))
                body.extend(c_gather_init(P, idx, opnd[1], opnd[2]))
            if wrapped:
                opnd = wrapped
            expr = c_op(P, s, idx, opnd)
            if k == 'wf':
                fields.append('async_timeout_t to%d;' % idx)
                expr = 'async_wait_for(loop, &f->to%d, %d, %s)' % (
                    idx, d, expr)
            L('AWAIT_TRY(f->rc, %s);' % expr)
            so = sync_op(opnd)
            if so and so[0] in C_AFTER:
                L(C_AFTER[so[0]])
            if mode == 'prop':
                L('if (f->rc < 0) ASYNC_RETURN(f->rc);')
            elif mode == 'try':
                L('if (f->rc == ASYNC_ECANCELED) ASYNC_RETURN(f->rc);')
            L('LOG(loop, "%s%s", f->rc);' % (lbl, op_suffix(opnd)))
            if opnd[0] == 'wf':
                opnd = opnd[2]
            if opnd[0] == 'gather' and opnd[2]:
                L('if (f->rc >= 0) {')
                for j in range(len(opnd[1])):
                    L('    LOG(loop, "%s.g%d", '
                      'async_gather_result(&f->g%d, %d));' % (lbl, j, idx, j))
                L('}')
        if looped:
            L('}')
        if k == 'fail':
            break
    else:
        L('LOG(loop, "%s.ret", %d);' % (lab, c['ret']))
        L('ASYNC_RETURN(%d);' % c['ret'])
    if c['cleanup'] is not None:
        L('ASYNC_FINALLY;')
        L('LOG(loop, "%s.cleanup", ASYNC_RESULT);' % lab)
        if holds(c):
            # one task_done per item got, then the releases: first, as
            # they do not wait
            L('while (f->got > 0) {')
            L('    f->got--;')
            L('    LOG(loop, "%s.done", async_queue_task_done(&%s_q));'
              % (lab, P))
            L('}')
            L('if (f->held) {')
            L('    f->held = 0;')
            L('    LOG(loop, "%s.unlock", async_lock_release(loop, &%s_lk));'
              % (lab, P))
            L('}')
            L('while (f->sems > 0) {')
            L('    f->sems--;')
            L('    LOG(loop, "%s.semrel", async_semaphore_release(&%s_sem));'
              % (lab, P))
            L('}')
        for j, cs in enumerate(c['cleanup']):
            if cs[0] == 'cancel':
                L('f->crc = async_task_cancel(loop, &%s_T[%d]);' % (P, cs[1]))
                L('LOG(loop, "%s.cs%d.cancel", f->crc);' % (lab, j))
                continue
            if cs[0] == 'wf':
                fields.append('async_timeout_t cto%d;' % j)
                e = 'async_wait_for(loop, &f->cto%d, %d, %s)' % (
                    j, cs[1], c_op(P, cs, None, cs[2]))
            else:
                e = c_op(P, cs, None, cs)
            L('AWAIT_TRY(f->crc, %s);' % e)
            L('LOG(loop, "%s.cs%d", f->crc);' % (lab, j))
    struct = 'struct %s_c%d { %s };' % (P, cid, ' '.join(fields))
    fn = ('static int %s_c%d(async_loop_t *loop, void *frame)\n{\n'
          '    struct %s_c%d *f = frame;\n    ASYNC_BEGIN(loop, f);\n'
          % (P, cid, P, cid))
    fn += ''.join('    %s\n' % x for x in body)
    fn += '    ASYNC_END;\n}\n'
    return struct, fn


# The shared objects of a scenario with a queue (capacity c), in P_run.
SYNC_INIT = '''\
    async_queue_init(&%(P)s_q, &loop, %(P)s_qbuf, sizeof(int), %(c)d,
                     ASYNC_QUEUE_FIFO, NULL);
    async_event_init(&%(P)s_ev, &loop);
    async_lock_init(&%(P)s_lk, &loop);
    async_semaphore_init(&%(P)s_sem, &loop, %(v)d);
'''


def emit_c(scn, P):
    """Scenario scn as C, its names prefixed P; P_run() runs it."""
    out = []
    coros = scn['coros']
    for c in coros:
        out.append('static int %s_c%d(async_loop_t *loop, void *frame);'
                   % (P, c['id']))
    n = scn['ntasks']
    out.append('static async_task_t %s_T[%d], %s_M;' % (P, n, P))
    qcap = scn.get('qcap')
    if qcap:
        out.append('static async_queue_t %s_q; static int %s_qbuf[%d];'
                   % (P, P, qcap))
        out.append('static async_event_t %s_ev; static async_lock_t %s_lk; '
                   'static async_semaphore_t %s_sem;' % (P, P, P))
    structs, fns = [], []
    for c in coros:
        s, f = c_coro(P, c)
        structs.append(s)
        fns.append(f)
    out.extend(reversed(structs))  # children have larger ids
    out.extend(fns)
    for i, t in enumerate(scn['tops']):
        out.append('static struct %s_c%d %s_F%d;' % (P, t, P, i))
    # main
    out.append('struct %s_main { async_frame_t co; int rc; };' % P)
    out.append('static struct %s_main %s_MF;' % (P, P))
    m = ['static int %s_main(async_loop_t *loop, void *frame)\n{' % P,
         '    struct %s_main *f = frame;' % P, '    ASYNC_BEGIN(loop, f);']
    for i, t in enumerate(scn['tops']):
        m.append('    async_task_create(loop, &%s_T[%d], %s_c%d, &%s_F%d);'
                 % (P, i, P, t, P, i))
    for j, s in enumerate(scn['main']):
        if s[0] == 'sleep':
            m.append('    AWAIT(async_sleep(loop, %d));' % s[1])
        elif s[0] == 'evset':
            m.append('    f->rc = async_event_set(&%s_ev);' % P)
            m.append('    LOG(loop, "main.s%d.evset", f->rc);' % j)
        else:
            m.append('    f->rc = async_task_cancel(loop, &%s_T[%d]);'
                     % (P, s[1]))
            m.append('    LOG(loop, "main.s%d.cancel", f->rc);' % j)
    for i in scn.get('waitfor', range(n)):
        m.append('    AWAIT_TRY(f->rc, async_task_wait(loop, &%s_T[%d]));'
                 % (P, i))
        m.append('    LOG(loop, "res.T%d", f->rc);' % i)
    m.append('    ASYNC_END;\n}')
    out.append('\n'.join(m))
    out.append('''static void %(P)s_run(void)
{
    static async_loop_t loop;
    static async_timer_t *heap[256];
    char b[16];
    int rc;
    DT_HOOK();
    async_loop_init(&loop, heap, 256);
    async_loop_set_time(&loop, (async_tick_t)DT_BASE);
%(init)s    g_tasks = %(P)s_T; g_n = %(n)d; g_main = &%(P)s_M;
    rc = async_loop_run(&loop, &%(P)s_M, %(P)s_main, &%(P)s_MF);
    printf("main-result %%s\\n",
           rc == ASYNC_EDEADLK ? "DEADLOCK" : rcname(rc, b));
    for (rc = 0; rc < %(n)d; rc++)
        printf("final T%%d %%s\\n", rc,
               async_task_state(&%(P)s_T[rc]) == ASYNC_TASK_DONE
               ? rcname(async_task_result(&%(P)s_T[rc]), b) : "NOTDONE");
    printf("close %%s\\n", async_loop_close(&loop) == 0 ? "0" : "BUSY");
}''' % dict(P=P, n=n, init=SYNC_INIT % dict(P=P, c=qcap, v=scn['semval'])
                if qcap else ''))
    return '\n'.join(out) + '\n'


# ------------------------------------------------------------- Python
# The same scenario against asyncio and pyharness (imported as H): build()
# returns main, with the tasks in main.T. A cleanup section is a finally
# block between H.enter_cleanup() and H.exit_cleanup(); a wait_for is
# `async with H.Timeout(d)`; a 'fail' step raises H.Fail.

def py_op(opnd):
    k = opnd[0]
    if k == 'sleep':
        return 'asyncio.sleep(%d)' % opnd[1] if opnd[1] else 'H.sleep0()'
    if k == 'yield':
        return 'asyncio.sleep(0)'
    if k == 'call':
        return 'c%d()' % opnd[1]
    if k == 'wait':
        return 'T[%d]' % opnd[1]
    if k == 'wf':
        raise ValueError('wf handled by caller')
    if k in PY_OPS:
        return PY_OPS[k] % opnd[1:]
    return 'H.gather(%s, return_exceptions=%s)' % (
        ', '.join('T[%d]' % x for x in opnd[1]), bool(opnd[2]))


PY_OPS = dict(get='Q.get()', put='Q.put(%d)', join='Q.join()',
              evwait='EV.wait()', acq='LK.acquire()', sem='SEM.acquire()')
# After an await on a shared object, in Python (as C_AFTER); acquire and
# Event.wait return True where C returns 0.
PY_AFTER = dict(get='got += 1', acq='held = 1; v = 0', sem='sems += 1; v = 0',
                evwait='v = 0')


def py_coro(c):
    """Coroutine c as an async def."""
    cid = c['id']
    lab = 'c%d' % cid
    B = []

    def L(ind, s):
        B.append('    ' * ind + s)
    base0 = 2 if c['cleanup'] is not None else 1
    for idx, s in enumerate(c['steps']):
        lbl = '%s.s%d' % (lab, idx)
        base = base0
        if s[0] == 'loop':
            L(base, 'for _i in range(%d):' % s[1])
            base += 1
            s = s[2]
        k = s[0]
        if k == 'sleep':
            L(base, 'await %s' % py_op(s))
            L(base, "log('%s', 0)" % lbl)
        elif k == 'yield':
            L(base, 'await asyncio.sleep(0)')
            L(base, "log('%s', 0)" % lbl)
        elif k == 'fail':
            L(base, "log('%s.fail', 0)" % lab)
            L(base, 'raise H.Fail()')
        elif k == 'cancel':
            L(base, "log('%s.cancel', int(T[%d].cancel()))" % (lbl, s[1]))
        elif k == 'putnw':
            L(base, 'try:')
            L(base + 1, 'v = Q.put_nowait(%d)' % s[1])
            L(base, 'except asyncio.QueueFull as e:')
            L(base + 1, 'v = e')
            L(base, "log('%s.putnw%d', v)" % (lbl, s[1]))
        elif k == 'getnw':
            L(base, 'try:')
            L(base + 1, 'v = Q.get_nowait()')
            L(base + 1, 'got += 1')
            L(base, 'except asyncio.QueueEmpty as e:')
            L(base + 1, 'v = e')
            L(base, "log('%s.getnw', v)" % lbl)
        elif k in ('evset', 'evclear'):
            L(base, "log('%s.%s', EV.%s())" % (lbl, k, k[2:]))
        else:
            d, opnd, mode = awaited(s)
            ind = base
            if mode in ('try', 'swallow'):
                L(ind, 'try:')
                ind += 1
            if k == 'wf':
                inner = opnd[2] if opnd[0] == 'wf' else opnd
                # (H.Timeout needs to know when op is a call: see there)
                is_call = ', True' if inner[0] == 'call' else ''
                L(ind, 'async with H.Timeout(%d%s):' % (d, is_call))
                if opnd[0] == 'wf':
                    ind += 1
                    L(ind, 'async with H.Timeout(%d%s):' % (opnd[1], is_call))
                    opnd = inner
                ind += 1
            L(ind, 'v = await %s' % py_op(opnd))
            if opnd[0] in PY_AFTER:
                L(ind, PY_AFTER[opnd[0]])
            if mode == 'try':
                L(base, 'except (H.Fail, TimeoutError) as e:')
                L(base + 1, 'v = e')
            elif mode == 'swallow':
                L(base, 'except (H.Fail, TimeoutError, '
                  'asyncio.CancelledError) as e:')
                L(base + 1, 'v = e')
            if opnd[0] in SYNC_OPS:
                L(base, "log('%s%s', v)" % (lbl, op_suffix(opnd)))
            elif opnd[0] == 'gather':
                L(base, "log('%s', 0 if isinstance(v, list) else v)" % lbl)
                if opnd[2]:
                    L(base, 'if isinstance(v, list):')
                    for j in range(len(opnd[1])):
                        L(base + 1, "log('%s.g%d', v[%d])" % (lbl, j, j))
            else:
                L(base, "log('%s', v)" % lbl)
        if k == 'fail':
            break
    else:
        base = base0
        L(base, "log('%s.ret', %d)" % (lab, c['ret']))
        if c['cleanup'] is not None:
            L(base, '_res = %d' % c['ret'])
        L(base, 'return %d' % c['ret'])
    out = ['async def c%d():' % cid, "    log('%s.enter', 0)" % lab]
    if holds(c):
        out.insert(1, '    got = held = sems = 0')
    if c['cleanup'] is None:
        return '\n'.join(out + B)
    out += ['    _res = None', '    try:'] + B
    # _res: what ASYNC_RESULT says in the cleanup section
    out += ['    except BaseException as _e:', '        _res = _e',
            '        raise', '    finally:', '        H.enter_cleanup()',
            "        log('%s.cleanup', _res)" % lab]
    if holds(c):
        out += ['        for _ in range(got):',
                "            log('%s.done', Q.task_done())" % lab,
                '        if held:',
                "            log('%s.unlock', LK.release())" % lab,
                '        for _ in range(sems):',
                "            log('%s.semrel', SEM.release())" % lab]
    for j, cs in enumerate(c['cleanup']):
        if cs[0] == 'sleep':
            out.append('        await %s' % py_op(cs))
            out.append("        log('%s.cs%d', 0)" % (lab, j))
            continue
        if cs[0] == 'cancel':
            out.append("        log('%s.cs%d.cancel', int(T[%d].cancel()))"
                       % (lab, j, cs[1]))
            continue
        out.append('        try:')
        if cs[0] == 'wf':
            out.append('            async with H.Timeout(%d):' % cs[1])
            out.append('                v = await %s' % py_op(cs[2]))
        else:
            out.append('            v = await %s' % py_op(cs))
        out.append('        except BaseException as e:')
        out.append('            v = e')
        out.append("        log('%s.cs%d', v)" % (lab, j))
    out.append('        H.exit_cleanup()')
    return '\n'.join(out)


def emit_py(scn):
    """Scenario scn as Python: def build(), which returns main."""
    out = ['def build():', '    T = [None] * %d' % scn['ntasks']]
    if scn.get('qcap'):
        out.append('    Q, EV = H.Queue(%d), asyncio.Event()' % scn['qcap'])
        out.append('    LK, SEM = asyncio.Lock(), asyncio.Semaphore(%d)'
                   % scn['semval'])
    for c in scn['coros']:
        out.extend('    ' + x for x in py_coro(c).split('\n'))
    out.append('    async def main():')
    out.append('        loop = asyncio.get_running_loop()')
    for i, t in enumerate(scn['tops']):
        out.append("        T[%d] = loop.create_task(c%d(), name='T%d')"
                   % (i, t, i))
    for j, s in enumerate(scn['main']):
        if s[0] == 'sleep':
            out.append('        await %s' % py_op(s))
        elif s[0] == 'evset':
            out.append("        log('main.s%d.evset', EV.set())" % j)
        else:
            out.append("        log('main.s%d.cancel', int(T[%d].cancel()))"
                       % (j, s[1]))
    for i in scn.get('waitfor', range(scn['ntasks'])):
        out.append('        try:')
        out.append('            v = await T[%d]' % i)
        out.append('        except BaseException as e:')
        out.append('            v = e')
        out.append("        log('res.T%d', v)" % i)
    out.append('        return 0')
    out.append('    main.T = T')
    out.append('    return main')
    return '\n'.join(out) + '\n'
