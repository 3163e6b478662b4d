"""Process models and thread settings: fork after a parallel call, Ctrl-C, the thread cap, Dask's
threads, sub-interpreters. Each scenario that could hang or kill the interpreter runs in a child
process with a timeout (its whole process group killed at the end), so that a regression fails
the test instead of hanging or crashing the suite."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import conv1dt
from conv1dt._runtime import threads as _threads

TIMEOUT = 120


def isolated(code, timeout=TIMEOUT, env=None):
    """``(returncode, stdout, stderr)`` of ``code`` in a fresh interpreter, in a session of its
    own: on timeout the whole group (forked children included) is killed and the test fails."""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=None if env is None else {**os.environ, **env})
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"timed out after {timeout} s (a hang)")
    return proc.returncode, out, err


# A call that runs a parallel region of two threads (the tiled or BLAS kernel, 10 M multiply-adds),
# made once in the parent before it forks: the child's first parallel region used to hang.
PARENT = """
    import os, sys, threading
    import numpy as np, conv1dt
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 2048, 32)).astype(np.float32)
    f = rng.standard_normal((5, 32, 32)).astype(np.float32)
    def call(_=None):
        return conv1dt.conv1d_transpose(x, f, [4, 4096, 32], 2)
    conv1dt.set_num_threads(2)
    want = call()
    def check(_=None):
        return bool(np.array_equal(call(), want)), conv1dt.get_num_threads()
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("how", ["os.fork", "Pool", "ProcessPoolExecutor"])
def test_a_forked_child_computes_after_a_parallel_call_in_the_parent(how):
    run = {
        "os.fork": """
            pid = os.fork()
            if pid == 0:
                ok, n = check()
                os._exit(0 if ok and n == 1 else 3)
            _, status = os.waitpid(pid, 0)
            print(os.waitstatus_to_exitcode(status) == 0)
        """,
        "Pool": """
            import multiprocessing as mp
            with mp.get_context("fork").Pool(2) as pool:
                print(pool.map(check, range(4)) == [(True, 1)] * 4)
        """,
        "ProcessPoolExecutor": """
            import concurrent.futures as cf, multiprocessing as mp
            with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as ex:
                print(list(ex.map(check, range(4))) == [(True, 1)] * 4)
        """,
    }[how]
    rc, out, err = isolated(textwrap.dedent(PARENT) + textwrap.dedent(run))
    assert rc == 0 and out.strip() == "True", (rc, out, err[-2000:])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_threads_started_in_a_forked_child_use_the_thread_count():
    """The documented way back to several threads in a forked child: a thread of the child's own
    (its OpenMP pool is new) runs with the count set; the forking thread stays on one."""
    rc, out, err = isolated(textwrap.dedent(PARENT) + textwrap.dedent("""
        pid = os.fork()
        if pid == 0:
            got = []
            t = threading.Thread(target=lambda: got.append(check()))
            t.start(); t.join()
            os._exit(0 if got == [(True, 2)] and conv1dt.get_num_threads() == 1 else 3)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status) == 0)
    """))
    assert rc == 0 and out.strip() == "True", (rc, out, err[-2000:])


def test_ctrl_c_interrupts_far_reaching_small_calls():
    """One input sample, 64 input channels, 64 taps at dilation 8192 (a planned small call): it
    ran 30 s per call, zero-filling (K-1)*d rows per block, deaf to SIGINT. In a loop now, SIGINT
    raises KeyboardInterrupt within moments."""
    script = textwrap.dedent("""
        import sys, time, numpy as np, conv1dt
        x = np.ones((1, 1, 64), np.float32); f = np.ones((64, 1, 64), np.float32)
        call = lambda: conv1dt.conv1d_transpose(x, f, [1, 63 * 8192 + 1, 1], 1, "VALID",
                                                dilations=8192)
        print("ready", flush=True)
        try:
            while True:
                call()
        except KeyboardInterrupt:
            print("interrupted", time.perf_counter(), flush=True)
            sys.exit(0)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    assert proc.returncode == 0 and out.startswith("interrupted"), out
    assert float(out.split()[1]) - sent < 5.0


@pytest.mark.parametrize("n", [_threads.max_num_threads() + 1, 1000, 10**6, 2**40])
def test_thread_counts_beyond_the_cap_are_refused(n):
    if n <= _threads.max_num_threads():
        pytest.skip("a machine with that many CPUs")
    with pytest.raises(ValueError, match=r"^n is \d+, but conv1dt starts at most"):
        conv1dt.set_num_threads(n)
    assert conv1dt.get_num_threads() <= _threads.max_num_threads()


def test_the_cap_itself_is_accepted():
    try:
        conv1dt.set_num_threads(_threads.max_num_threads())
        assert conv1dt.get_num_threads() == _threads.max_num_threads()
    finally:
        conv1dt.set_num_threads(None)


def test_omp_num_threads_beyond_the_cap_is_clipped():
    """OMP_NUM_THREADS=1000 would have made every call start 1000 threads (and, where they cannot
    be created, libgomp exits the process)."""
    rc, out, err = isolated("""
        import numpy as np, conv1dt
        from conv1dt._runtime import threads as _threads
        y = conv1dt.conv1d_transpose(np.ones((2, 4096, 8)), np.ones((3, 8, 8)), [2, 8192, 8], 2)
        print(conv1dt.get_num_threads() == _threads.max_num_threads(), float(y[0, 4, 0]))
    """, env={"OMP_NUM_THREADS": "1000"})
    assert rc == 0 and out.split() == ["True", "16.0"], (rc, out, err[-2000:])


def test_dask_tasks_run_the_kernels_on_one_thread(monkeypatch):
    """Dask's threaded scheduler runs a task per core: each conv1dt call in a task of
    conv1dt.dask uses one thread, unless a count was set with set_num_threads."""
    da = pytest.importorskip("dask.array")
    import conv1dt._overlap_add as overlap_add
    import conv1dt.dask

    seen = []
    real = overlap_add.conv1d_transpose

    def spy(*args, **kwargs):
        seen.append(conv1dt.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(overlap_add, "conv1d_transpose", spy)
    x = da.from_array(np.ones((2, 64, 4)), chunks=(1, 16, 4))
    f = np.ones((3, 4, 4))
    want = conv1dt.conv1d_transpose(x.compute(), f, [2, 128, 4], 2)
    y = conv1dt.dask.conv1d_transpose(x, f, [2, 128, 4], 2)
    np.testing.assert_array_equal(y.compute(scheduler="threads"), want)
    assert seen and set(seen) == {1}, seen
    seen.clear()
    try:
        conv1dt.set_num_threads(2)
        y.compute(scheduler="threads")
    finally:
        conv1dt.set_num_threads(None)
    assert seen and set(seen) == {2}, seen
    if conv1dt.show_config(file=open(os.devnull, "w"))["openmp"]:
        assert conv1dt.get_num_threads() >= 1      # the caller's own setting is untouched


def test_tasks_of_a_distributed_worker_run_the_kernels_on_one_thread():
    """Any task on a Dask distributed worker (here an in-process worker with two threads), not
    only conv1dt.dask's: one thread unless a count was set."""
    distributed = pytest.importorskip("distributed")

    def work(_):
        y = conv1dt.conv1d_transpose(np.ones((2, 4096, 8)), np.ones((3, 8, 8)), [2, 8192, 8], 2)
        return conv1dt.get_num_threads(), float(y[0, 4, 0])

    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        assert client.gather(client.map(work, range(4))) == [(1, 16.0)] * 4
        try:
            conv1dt.set_num_threads(2)
            assert client.gather(client.map(work, range(4, 8))) == [(2, 16.0)] * 4
        finally:
            conv1dt.set_num_threads(None)


def test_a_sub_interpreter_import_gives_a_clear_message():
    rc, out, err = isolated("""
        try:
            import _interpreters as si
        except ImportError:
            import _xxsubinterpreters as si
        i = si.create()
        si.run_string(i, "import conv1dt")
        try:
            import conv1dt
        except ImportError as exc:
            print("one interpreter per process" in str(exc) and "pip install" not in str(exc))
        else:
            print("imported")
    """)
    if "No module named '_xxsubinterpreters'" in err:
        pytest.skip("this Python has no sub-interpreter module")
    assert out.strip() in ("True", "imported"), (rc, out, err[-2000:])
