"""``--contend``: one busy process competing for the cores while every library is timed.

The spinner is a separate Python process running a pure-Python loop. It stops when the
context manager exits (normally or by an exception), when this process exits, and by itself
when its parent dies (it checks its parent's id between slices of spinning), so that no run of
the benchmark can leave it behind.
"""
import atexit
import os
import subprocess
import sys
from contextlib import contextmanager

__all__ = ["busy", "start_spinner", "stop_spinner"]

SPIN = """\
import os, sys
parent = int(sys.argv[1])
while True:
    for _ in range(200000):
        pass
    if os.getppid() != parent:
        sys.exit(0)
"""


def start_spinner(cpu=None):
    """Start one busy process (pinned to core ``cpu`` when given); return its ``Popen``."""
    proc = subprocess.Popen([sys.executable, "-c", SPIN, str(os.getpid())],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(proc.pid, {cpu})
        except OSError:
            stop_spinner(proc)
            raise
    atexit.register(stop_spinner, proc)
    return proc


def stop_spinner(proc, timeout=5):
    """Stop the spinner ``proc`` and reap it (terminate, then kill if it lingers)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


@contextmanager
def busy(enabled=True, cpu=None):
    """Run the body with one busy process (none when ``enabled`` is false); yields its ``Popen``
    or None."""
    if not enabled:
        yield None
        return
    proc = start_spinner(cpu)
    try:
        yield proc
    finally:
        stop_spinner(proc)
        atexit.unregister(stop_spinner)
