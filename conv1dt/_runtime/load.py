"""Parallel calls under load: one thread for a while where the threads were being held up.

A parallel call finishes when its last work item does. When another process keeps a core busy,
the OS time-slices one of conv1dt's threads with it, and the call waits for that thread's next
slice (milliseconds) to finish the item it holds: a call of 0.8 ms took 3-4 ms on two threads
and 2.2 ms on one (docs/benchmarks.rst). The work items are handed out dynamically, but an item
a thread holds cannot be taken from it.

So parallel calls are watched: the calling thread is one of the call's threads, and while the
others keep up it is computing or spinning at the barrier the whole time, so its CPU time
(``time.thread_time``, exact for the calling thread) is the call's wall time. A call was held
up where that is well below (``RATIO``: the thread slept at the barrier waiting for another,
or was itself taken away) and the call took longer than ``SLOWER`` times its shortest time
so far (so a call whose few work items leave the calling thread idle at the end, on a quiet
machine, is not held up; its first timed call is not judged). When a call was held up and
``STRIKES`` of the last ``WINDOW`` calls judged were, calls run on one thread for ``backoff``
seconds (``BACKOFF_MIN``, doubling to ``BACKOFF_MAX`` while the load lasts), then calls on all
of them try again: the first that keeps up lifts the limit (and the back-off starts again from
``BACKOFF_MIN``). Calls shorter than ``MIN_WALL`` are not judged (a thread's wake-up is most of
them).

The thread count never changes a result: the work items, and so the bits, depend on the shape
alone. ``CONV1DT_LOAD_WATCH=0`` in the environment (read at import) turns the watch off
(``enabled``).
"""
import collections
import os
import time

__all__ = ["limit", "watched", "reset"]

RATIO = 0.75        # the calling thread's CPU time / the wall time below which a call was held up
SLOWER = 1.5        # ... if it also took this many times its shortest time so far
WINDOW = 4          # calls judged ...
STRIKES = 2         # ... of which this many held up make the next calls run on one thread
MIN_WALL = 2e-4     # seconds: shorter calls are not judged
BACKOFF_MIN = 0.05  # seconds on one thread after the load is seen, doubling ...
BACKOFF_MAX = 0.4   # ... up to this while it lasts

enabled = os.environ.get("CONV1DT_LOAD_WATCH", "1").strip() != "0"
_recent = collections.deque(maxlen=WINDOW)   # True for a call that was held up
_until = 0.0        # time.monotonic() until which parallel calls run on one thread
_backoff = BACKOFF_MIN
_given = 0          # the count the last parallel call was given (limit)


def reset():
    """Forget what was seen: the next parallel calls use all their threads."""
    global _until, _backoff
    _recent.clear()
    _until, _backoff = 0.0, BACKOFF_MIN


def limited():
    """Whether parallel calls run on one thread now (the load was seen lately)."""
    return _until != 0.0 and time.monotonic() < _until


def limit(n):
    """The thread count for a parallel call that would use ``n``: 1 while :func:`limited`.
    The kernels' count comes from here (``_plan.threads``), so it is also what a watched call
    learns its count from."""
    global _given
    if n > 1 and enabled and limited():
        n = 1
    _given = n
    return n


def _judge(held_up):
    global _until, _backoff
    _recent.append(held_up)
    if held_up and sum(_recent) >= STRIKES:
        _until = time.monotonic() + _backoff
        _backoff = min(2 * _backoff, BACKOFF_MAX)
    elif not held_up:
        _until, _backoff = 0.0, BACKOFF_MIN


def watched(run):
    """``run(x, y, out=None)`` (a parallel call's runner) that reports to the watch whether the
    call was held up, when it ran on more than one thread (as :func:`limit` gave it)."""
    best = [0.0]     # this call's shortest wall time on all its threads so far

    def call(x, y, out=None):
        global _given
        if not enabled or limited():
            return run(x, y, out)
        _given = 0
        c0 = time.thread_time()
        t0 = time.perf_counter()
        res = run(x, y, out)
        wall = time.perf_counter() - t0
        if _given > 1 and wall >= MIN_WALL:
            if best[0]:
                _judge(time.thread_time() - c0 < RATIO * wall and wall > SLOWER * best[0])
            if not best[0] or wall < best[0]:
                best[0] = wall
        return res
    if hasattr(run, "small"):
        call.small = run.small
    return call
