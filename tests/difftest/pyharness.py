# SPDX-License-Identifier: MIT
"""Python side of the differential test: asyncio (3.11) on a deterministic
virtual clock, plus emulation of the ways async.h documents that it differs
from asyncio, and nothing else. gen.emit_py writes programs against this
module (H.Timeout, H.gather, H.sleep0, H.Queue, H.log,
H.enter_cleanup/exit_cleanup) and run() runs one and returns its trace.

Virtual clock: a selector whose select(timeout) advances loop time by
`timeout` instead of blocking (time jumps to the next timer when idle).
Equal deadlines fire in start order (FIFO), as async.h documents, via a
TimerHandle with a sequence tie-break (heapq's order among equal deadlines
is unspecified).

Emulated (each behind a switch below, so that its effect can be seen by
turning it off):
  MODE_SHIELD  ASYNC_FINALLY cleanup sections are never interrupted: a
     cancellation requested while one runs is remembered and delivered at
     the next suspension after it (MyTask.cancel defers while cl_depth > 0).
     A deferred wait_for expiry that its wait_for sees op finish first is
     taken back (Timeout.__aexit__), as async_wait_for documents; a
     deadline armed inside the section still cancels its op. A request
     pending when wait_for arms counts as one from outside ("never as a
     timeout").
  GATHER_WAITS_ALL_ON_CANCEL  async_gather, cancelled, cancels every child
     and waits for all of them before ECANCELED, also without
     ASYNC_GATHER_ALL (asyncio.gather(return_exceptions=False) raises at
     the first cancelled child). gather() below is asyncio 3.11's with
     that change; tasks already finished count at once.
  SYNC_DELIVERY, GATHER_SYNC  scheduling granularity, not semantics:
     async.h delivers a pending cancellation at the await without
     suspending (asyncio resumes the task a turn later), and a gather hears
     a child finish at once (asyncio: two turns). Without these, outcomes
     that hang on which task runs first within a tick differ for reasons
     of loop turns.
  run()  leftover tasks are cancelled right after the turn in which main
     ended, as async_loop_run does (asyncio.run lets one more turn run).
     When nothing can run before main ends (async_loop_run's
     ASYNC_EDEADLK; asyncio would wait forever), every task left, main
     first, is cancelled, as async_loop_run does.
  Queue  asyncio.Queue with async.h's promises: an item (or room) that
     arrives is promised to the oldest waiter, and neither *_nowait nor a
     new get/put can take it first (asyncio lets them, and the woken
     waiter waits again at the back).
async_wait_for follows asyncio.timeout() (3.11; in place, no inner task),
which Timeout below is, with the take-back above.
"""
import asyncio
import heapq
import selectors
import threading
from asyncio import events, exceptions, futures, tasks

MODE_SHIELD = True  # cleanup sections are not interrupted (see above)


class Deadlock(Exception):
    """Nothing ready and no timer: async_loop_run's ASYNC_EDEADLK."""


class Fail(Exception):
    """A 'fail' step: ASYNC_EINVAL returned in C."""


class Queue(asyncio.Queue):
    """asyncio.Queue (3.11), bounded, with the one difference async.h
    documents (section 9, the cancellation contract):

        "Waiting getters and putters are served first come, first served.
        An arriving item (or room) is promised to the oldest waiter, and
        *_nowait calls cannot take what is promised. A waiter that was
        woken and then cancelled or timed out before it ran passes the
        promise on."

    asyncio wakes the oldest waiter too but promises nothing: until it
    runs, get_nowait or a get that does not wait can take the item (and
    put_nowait or put the room), and the waiter then waits again, last.
    Here a woken waiter's future holds a promise: _items/_room count those
    not yet taken, and the fast paths and *_nowait leave them alone (as
    async_queue_get_nowait: "ASYNC_EEMPTY (nothing that is not promised to
    a woken getter)"). Otherwise asyncio's code: a cancelled waiter leaves
    its deque; one woken and then cancelled passes its promise on."""

    def __init__(self, maxsize):
        super().__init__(maxsize)
        self._items = 0  # items promised to woken getters
        self._room = 0   # room promised to woken putters

    def _wake_first(self, waiters):
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return True
        return False

    def _offer_item(self):
        if self.qsize() > self._items and self._wake_first(self._getters):
            self._items += 1

    def _offer_room(self):
        if self.qsize() + self._room < self._maxsize \
                and self._wake_first(self._putters):
            self._room += 1

    def _put_item(self, item):
        self._put(item)
        self._unfinished_tasks += 1
        self._finished.clear()
        self._offer_item()

    def _get_item(self):
        item = self._get()
        self._offer_room()
        return item

    def put_nowait(self, item):
        if self.qsize() + self._room >= self._maxsize:
            raise asyncio.QueueFull
        self._put_item(item)

    def get_nowait(self):
        if self.qsize() <= self._items:
            raise asyncio.QueueEmpty
        return self._get_item()

    async def put(self, item):
        if not self._putters and self.qsize() + self._room < self._maxsize:
            return self._put_item(item)
        putter = self._get_loop().create_future()
        self._putters.append(putter)
        try:
            await putter
        except BaseException:
            putter.cancel()
            if putter.cancelled():  # never woken
                try:
                    self._putters.remove(putter)
                except ValueError:  # _wake_first dropped it already
                    pass
            else:  # woken, then cancelled: pass the room on
                self._room -= 1
                self._offer_room()
            raise
        self._room -= 1
        self._put_item(item)

    async def get(self):
        if not self._getters and self.qsize() > self._items:
            return self._get_item()
        getter = self._get_loop().create_future()
        self._getters.append(getter)
        try:
            await getter
        except BaseException:
            getter.cancel()
            if getter.cancelled():
                try:
                    self._getters.remove(getter)
                except ValueError:  # _wake_first dropped it already
                    pass
            else:
                self._items -= 1
                self._offer_item()
            raise
        self._items -= 1
        return self._get_item()


class VSelector(selectors.SelectSelector):
    loop = None

    def select(self, timeout=None):
        if timeout is None:
            raise Deadlock("nothing scheduled")
        if timeout > 0:
            self.loop._vt += timeout
        return []


class SeqTimer(events.TimerHandle):
    __slots__ = ('_seq',)

    def __lt__(self, o):
        return (self._when, self._seq) < (o._when, o._seq)

    def __le__(self, o):
        return (self._when, self._seq) <= (o._when, o._seq)

    def __gt__(self, o):
        return (self._when, self._seq) > (o._when, o._seq)

    def __ge__(self, o):
        return (self._when, self._seq) >= (o._when, o._seq)


class VLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        sel = VSelector()
        self._vt = 0.0
        self._tseq = 0
        super().__init__(sel)
        sel.loop = self
        self._clock_resolution = 1e-9

    def time(self):
        return self._vt

    def call_at(self, when, callback, *args, context=None):
        self._check_closed()
        timer = SeqTimer(when, callback, args, self, context)
        self._tseq += 1
        timer._seq = self._tseq
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer


_SRC = None  # (task, Timeout) while a Timeout's expiry cancels its task


SYNC_DELIVERY = True  # scheduling granularity (see above)


async def sleep0():
    """async_sleep(loop, 0): a yield, but a pending cancellation is
    delivered at once (async_yield, by contrast, takes its turn first)."""
    t = cur()
    if SYNC_DELIVERY and t._mc:
        t._must_cancel = False
        raise exceptions.CancelledError()
    await asyncio.sleep(0)


class MyTask(tasks._PyTask):
    def __init__(self, *a, **kw):
        self._mc = False
        self.cl_depth = 0
        self.saved_mc = False
        self.def_outside = False
        self.def_cuts = []
        super().__init__(*a, **kw)

    @property
    def _must_cancel(self):
        return self._mc

    @_must_cancel.setter
    def _must_cancel(self, v):
        if self._mc and not v:  # asyncio delivered it
            self.def_outside = False
            self.def_cuts.clear()
            self._mc_waiter = getattr(self, '_fut_waiter', None)
        self._mc = v

    def _Task__step(self, exc=None):
        # async.h delivers a pending cancellation at the await that would
        # suspend, without suspending (the op returns ASYNC_ECANCELED);
        # asyncio cancels the future just yielded and resumes the task a
        # loop turn later. Emulate the former: resume at once.
        self._mc_waiter = None
        super()._Task__step(exc)
        f = self._fut_waiter
        if SYNC_DELIVERY and f is not None and f is self._mc_waiter \
                and f.cancelled():
            for hd in self._loop._ready:
                if (not hd._cancelled and hd._callback == self._Task__wakeup
                        and hd._args and hd._args[0] is f):
                    hd.cancel()
                    self._Task__wakeup(f)
                    break

    def _Future__schedule_callbacks(self):
        # A gather hears a task finish at once, as async.h's does (asyncio
        # schedules the gather's callback, one loop turn later, and then
        # the awaiting task's wakeup, one more).
        callbacks = self._callbacks[:]
        if not callbacks:
            return
        self._callbacks[:] = []
        for callback, ctx in callbacks:
            if getattr(callback, '_sync', False):
                callback(self)
            else:
                self._loop.call_soon(callback, self, context=ctx)

    def cancel(self, msg=None):
        if self.done():
            return False
        src = _SRC[1] if _SRC is not None and _SRC[0] is self else None
        if src is not None and src._depth >= self.cl_depth:
            src = 'inside'  # a deadline inside the section: not shielded
        if MODE_SHIELD and self.cl_depth > 0 and src != 'inside':
            self._num_cancels_requested += 1
            if _SRC is not None and _SRC[0] is self:
                if _SRC[1] not in self.def_cuts:
                    self.def_cuts.append(_SRC[1])
            else:
                self.def_outside = True
            return True
        return super().cancel(msg)


def cur():
    return asyncio.current_task()


def enter_cleanup():
    t = cur()
    if t.cl_depth == 0 and t._mc and not (t.def_outside or t.def_cuts):
        # a request pending from before (e.g. passed inward to this running
        # task): an outside one, held back like the others
        t.def_outside = True
    if t.cl_depth == 0:
        t._mc = False
    t.cl_depth += 1


def exit_cleanup():
    t = cur()
    t.cl_depth -= 1
    if t.cl_depth == 0:
        t._mc = t.def_outside or bool(t.def_cuts)


class Timeout:
    """asyncio.timeouts.Timeout (3.11), plus deviation 1's take-back."""

    def __init__(self, delay, op_is_call=False):
        self._delay = delay
        self._op_is_call = op_is_call
        self._state = 'created'
        self._h = None

    async def __aenter__(self):
        loop = events.get_running_loop()
        self._task = cur()
        self._state = 'entered'
        self._cancelling = self._task.cancelling()
        t = self._task
        self._depth = t.cl_depth
        if MODE_SHIELD and (self._op_is_call or t.cl_depth > 0) and (
                t.def_outside or (t._mc and not t.def_cuts)):
            # async.h: a request already pending when wait_for arms counts
            # as one from outside (async_wait_for: "never as a timeout").
            # C evaluates op before arming: only async_call leaves a
            # pending request undelivered at that point (sleep/wait deliver
            # it at once, gather passes it inward), so only then.
            self._cancelling -= 1
        when = loop.time() + self._delay
        if when <= loop.time():
            self._h = loop.call_soon(self._on_timeout)
        else:
            self._h = loop.call_at(when, self._on_timeout)
        return self

    async def __aexit__(self, et, ev, tb):
        if self._h is not None:
            self._h.cancel()
            self._h = None
        if self._state == 'expiring':
            self._state = 'expired'
            t = self._task
            if self in t.def_cuts:  # never delivered: take it back
                t.def_cuts.remove(self)
                if not t.def_cuts and not t.def_outside and t.cl_depth == 0:
                    t._mc = False
            n = t.uncancel()
            if et is exceptions.CancelledError and (
                    n <= self._cancelling or (MODE_SHIELD and t.cl_depth > 0)):
                # (async.h, inside a cleanup section: other requests are
                # held back, so they cannot be what ended op: a timeout)
                raise TimeoutError from ev
            if et is exceptions.CancelledError and MODE_SHIELD \
                    and t.def_outside:
                # async.h take_back: the CancelledError leaving here is the
                # delivery of the request from outside held back until now
                t.def_outside = False
                if not t.def_cuts:
                    t._mc = False
        else:
            self._state = 'exited'
        return None

    def _on_timeout(self):
        global _SRC
        _SRC = (self._task, self)
        try:
            self._task.cancel()
        finally:
            _SRC = None
        self._state = 'expiring'
        self._h = None


class _GatheringFuture(futures.Future):
    def __init__(self, children, *, loop):
        super().__init__(loop=loop)
        self._children = children
        self._cancel_requested = False

    def cancel(self, msg=None):
        if self.done():
            return False
        ret = False
        for child in self._children:
            if child.cancel(msg=msg):
                ret = True
        if ret:
            self._cancel_requested = True
        return ret


GATHER_WAITS_ALL_ON_CANCEL = True  # see the module's docstring
GATHER_SYNC = True  # scheduling: no extra loop turns in gather


def gather(*children, return_exceptions=False):
    loop = events.get_running_loop()
    if not children:
        outer = loop.create_future()
        outer.set_result([])
        return outer
    # async.h: "Tasks finished before the gather count at once; zero tasks
    # complete at once" (asyncio's gather takes a loop turn even then)
    def res(f):
        if f.cancelled():
            return exceptions.CancelledError()
        return f.exception() or f.result()
    done = [res(c) for c in children if c.done()]
    errs = [r for r in done if isinstance(r, BaseException)]
    if len(done) == len(children) or (errs and not return_exceptions):
        outer = loop.create_future()
        if errs and not return_exceptions:
            outer.set_exception(errs[0])
        else:
            outer.set_result([res(c) for c in children])
        return outer
    nfuts = len(children)
    nfinished = 0
    outer = None

    def _done_callback(fut):
        nonlocal nfinished
        nfinished += 1
        if outer is None or outer.done():
            if not fut.cancelled():
                fut.exception()
            return
        if not return_exceptions and not (
                GATHER_WAITS_ALL_ON_CANCEL and outer._cancel_requested):
            if fut.cancelled():
                outer.set_exception(fut._make_cancelled_error())
                return
            exc = fut.exception()
            if exc is not None:
                outer.set_exception(exc)
                return
        if nfinished == nfuts:
            results = []
            for f in children:
                if f.cancelled():
                    results.append(exceptions.CancelledError())
                else:
                    r = f.exception()
                    results.append(f.result() if r is None else r)
            if outer._cancel_requested:
                outer.set_exception(exceptions.CancelledError())
            else:
                outer.set_result(results)

    _done_callback._sync = GATHER_SYNC
    outer = _GatheringFuture(list(children), loop=loop)
    for c in children:
        if c.done():
            _done_callback(c)
        else:
            c.add_done_callback(_done_callback)
    return outer


def name(v):
    if isinstance(v, BaseException):
        if isinstance(v, exceptions.CancelledError):
            return 'CANCELLED'
        if isinstance(v, TimeoutError):
            return 'TIMEOUT'
        if isinstance(v, Fail):
            return 'FAIL'
        if isinstance(v, asyncio.QueueFull):
            return 'FULL'
        if isinstance(v, asyncio.QueueEmpty):
            return 'EMPTY'
        return 'EXC:' + type(v).__name__
    if v is None:
        return '0'
    return str(v)


OUT = []


def log(what, v):
    loop = events.get_running_loop()
    OUT.append('%d %s %s %s'
               % (int(loop.time()), cur().get_name(), what, name(v)))


def _res(t):
    if not t.done():
        return 'NOTDONE'
    if t.cancelled():
        return 'CANCELLED'
    return name(t.exception() or t.result())


def run(main):
    """asyncio.run(main()) on the virtual clock, driven turn by turn so that
    leftover tasks are cancelled right after the turn in which main ended,
    as async_loop_run does (asyncio.run lets one more turn run first: its
    stop callback comes a turn later), in creation order; then run until
    they are done."""
    loop = VLoop()
    loop.set_task_factory(lambda lp, coro, **kw: MyTask(coro, loop=lp, **kw))
    del OUT[:]
    events._set_running_loop(loop)
    loop._thread_id = threading.get_ident()
    try:
        t = loop.create_task(main(), name='main')
        try:
            while not t.done():
                loop._run_once()
            OUT.append('main-result %s' % name(t.exception() or t.result()))
        except Deadlock:
            # async_loop_run returns ASYNC_EDEADLK, after cancelling what
            # is left (main among it) as below
            OUT.append('main-result DEADLOCK')
        left = sorted((x for x in asyncio.all_tasks(loop) if not x.done()),
                      key=lambda x: -1 if x is t else int(x.get_name()[1:]))
        for x in left:
            x.cancel()
        while any(not x.done() for x in left) or loop._ready:
            loop._run_once()
    except Deadlock:
        # a leftover's cleanup waits for what nothing can bring: run stops
        # there (and close finds tasks left)
        pass
    finally:
        events._set_running_loop(None)
        loop._thread_id = None
    for i, x in enumerate(getattr(main, 'T', [])):
        OUT.append('final T%d %s' % (i, _res(x) if x is not None else 'NONE'))
    pend = [t for t in asyncio.all_tasks(loop) if not t.done()]
    OUT.append('close %s' % ('0' if not pend else 'BUSY'))
    loop.close()
    return list(OUT)
