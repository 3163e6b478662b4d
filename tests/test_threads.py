"""Threads: who decides the count (set_num_threads, threads(), threadpoolctl, OpenMP), the BLAS kept
on one thread inside conv1dt's loops whatever its vendor, and show_config's report of both.

Oracles: the ``num_threads`` argument the kernels actually receive (a spy, as in test_plans.py);
threadpoolctl's own view of the libraries (``threadpool_info``); OpenMP's ``omp_get_max_threads``.
"""
import ctypes
import io
import os
import sys
import threading

import numpy as np
import pytest

import conv1dt
from conv1dt import _plan
from conv1dt._compiled import _cpu, _transpose
from conv1dt._runtime import blas_threads, threads as _threads

threadpoolctl = pytest.importorskip("threadpoolctl")
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

OPENMP = _cpu.have_openmp()
needs_openmp = pytest.mark.skipif(not OPENMP, reason="conv1dt was built without OpenMP")
# a limit is told from OpenMP's default by differing from it (see conv1dt/_runtime/threads.py): a
# limit of 1 needs a default above 1
needs_default_above_one = pytest.mark.skipif(
    not OPENMP or _threads._openmp_default() == 1,
    reason="OpenMP's default is 1 thread here (OMP_NUM_THREADS=1 or one CPU)")


@pytest.fixture(autouse=True)
def _default_threads():
    conv1dt.set_num_threads(None)
    yield
    conv1dt.set_num_threads(None)


def _in_thread(func):
    """``func()`` run in a new thread; its result."""
    out = []
    t = threading.Thread(target=lambda: out.append(func()))
    t.start()
    t.join()
    return out[0]


class _Spy:
    """Stands for a kernel; records the thread count (every kernel takes it last) and the BLAS
    thread counts threadpoolctl sees while the kernel runs."""

    def __init__(self, real):
        self.real, self.threads, self.blas = real, [], []

    def _record(self, args):
        self.threads.append(args[-1])
        self.blas.append({i["filepath"]: i["num_threads"] for i in threadpool_info()
                          if i["user_api"] == "blas"})

    def __call__(self, *args):
        self._record(args)
        return self.real(*args)

    def __getitem__(self, dtype):
        return lambda *args: (self._record(args), self.real[dtype](*args))[1]


@pytest.fixture
def blas_spy(monkeypatch):
    """The BLAS kernel of conv1d_transpose behind a spy, chosen for every shape, no cached plan."""
    spy = _Spy(_transpose.transpose_blas)
    monkeypatch.setattr(_transpose, "transpose_blas", spy)
    monkeypatch.setattr(_plan, "choose", lambda op, g, itemsize=4, layout="NWC": "blas")
    _plan.clear_cache()
    yield spy
    _plan.clear_cache()


def _call():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 512, 32)).astype(np.float32)   # large enough to be threaded
    f = rng.standard_normal((3, 32, 32)).astype(np.float32)
    return conv1dt.conv1d_transpose(x, f, [4, 1024, 32], 2)


# --- the count --------------------------------------------------------------------------------

@needs_default_above_one
def test_threadpool_limits_caps_an_explicit_count(blas_spy):
    """threadpoolctl's limit (omp_set_num_threads in the OpenMP runtime conv1dt loaded) holds
    even after set_num_threads(2): the kernel receives min(2, limit)."""
    conv1dt.set_num_threads(2)
    with threadpool_limits(1):
        assert conv1dt.get_num_threads() == 1
        one = _call()
    with threadpool_limits(limits=1, user_api="openmp"):
        assert conv1dt.get_num_threads() == 1
    two = _call()
    with threadpool_limits(_threads._openmp_default() + 1):
        assert conv1dt.get_num_threads() == 2          # min(set, limit)
    assert blas_spy.threads == [1, 2]
    np.testing.assert_array_equal(one, two)


@needs_openmp
def test_the_default_follows_openmp_and_its_limits():
    """Without a count of conv1dt's own, the count is OpenMP's: omp_get_max_threads(), which
    threadpool_limits sets (up or down) for the calling thread."""
    assert conv1dt.get_num_threads() == _cpu.omp_max_threads()
    with threadpool_limits(1):
        assert conv1dt.get_num_threads() == 1 == _cpu.omp_max_threads()
    with threadpool_limits(5):
        assert conv1dt.get_num_threads() == 5
    assert conv1dt.get_num_threads() == _cpu.omp_max_threads()


@needs_openmp
def test_an_explicit_count_overrides_the_default_only():
    """OMP_NUM_THREADS or the CPU count is a default, not a limit: set_num_threads may ask for
    more threads than OpenMP's default (as OpenMP's num_threads clause may)."""
    default = _threads._openmp_default()
    assert default == _in_thread(_cpu.omp_max_threads)     # a thread that set no limit
    conv1dt.set_num_threads(default + 1)
    assert conv1dt.get_num_threads() == default + 1


@needs_default_above_one
def test_threads_block_is_thread_local_nested_and_restored(blas_spy):
    conv1dt.set_num_threads(2)
    with conv1dt.threads(1) as n:
        assert n == 1 == conv1dt.get_num_threads()
        assert _in_thread(conv1dt.get_num_threads) == 2      # other threads keep the process's
        _call()
        with conv1dt.threads(3) as inner:
            assert inner == 3 == conv1dt.get_num_threads()
            with threadpool_limits(1):
                assert conv1dt.get_num_threads() == 1        # the limit caps the block's count too
        assert conv1dt.get_num_threads() == 1
        with pytest.raises(KeyError):
            with conv1dt.threads(3):
                raise KeyError
        assert conv1dt.get_num_threads() == 1
    assert conv1dt.get_num_threads() == 2
    _call()
    assert blas_spy.threads == [1, 2]


@needs_openmp
def test_threads_none_means_openmp_default_inside_the_block():
    conv1dt.set_num_threads(1)
    with conv1dt.threads(None) as n:
        assert n == _cpu.omp_max_threads()
    assert conv1dt.get_num_threads() == 1


@needs_openmp
def test_threads_in_one_thread_do_not_leak_into_another():
    """Two threads in their own blocks at once each see their own count."""
    barrier = threading.Barrier(2)
    seen = {}

    def worker(n):
        with conv1dt.threads(n):
            barrier.wait()
            seen[n] = conv1dt.get_num_threads()
            barrier.wait()

    workers = [threading.Thread(target=worker, args=(n,)) for n in (1, 3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert seen == {1: 1, 3: 3}


def test_threads_works_as_a_decorator():
    @conv1dt.threads(1)
    def count():
        return conv1dt.get_num_threads()

    assert count() == 1


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2", [2]])
def test_bad_counts_are_refused_naming_the_argument(bad):
    with pytest.raises(ValueError, match="n must be a positive integer or None"):
        conv1dt.set_num_threads(bad)
    with pytest.raises(ValueError, match="n must be a positive integer or None"):
        with conv1dt.threads(bad):
            pass
    assert _threads._requested is None and "n" not in _threads._local.__dict__


def test_without_openmp_a_count_above_one_warns(monkeypatch):
    """A serial build accepts a count (code stays portable) but says it has no effect."""
    monkeypatch.setattr(_cpu, "have_openmp", lambda: False)
    with pytest.warns(RuntimeWarning, match=r"without OpenMP.*set_num_threads\(4\) has no effect"):
        conv1dt.set_num_threads(4)
    assert conv1dt.get_num_threads() == 1
    with pytest.warns(RuntimeWarning, match=r"threads\(2\) has no effect"):
        with conv1dt.threads(2) as n:
            assert n == 1
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        conv1dt.set_num_threads(1)
        conv1dt.set_num_threads(None)
        with conv1dt.threads(1):
            pass


# --- the BLAS ---------------------------------------------------------------------------------

def _controlled():
    """The BLAS libraries the guard holds on one thread: the one the kernels call when
    conv1dt/_runtime/blas_pick.py chose a newer OpenBLAS than SciPy's, else every one found."""
    from conv1dt._runtime import blas_pick
    ours = (blas_pick._chosen or {}).get("filepath")
    return {b["filepath"] for b in blas_threads.blas_info()
            if b["thread_control"] and (ours is None or b["filepath"] == ours)}


def _blas_counts():
    return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_scipys_blas_is_found_whatever_its_file_name():
    """The BLAS in SciPy's own wheel directory (scipy.libs: libscipy_openblas in SciPy >= 1.13,
    libopenblasp-r0.3.x in 1.11's wheels) is among those conv1dt keeps on one thread."""
    import scipy
    import os
    root = os.path.dirname(os.path.dirname(scipy.__file__))
    scipys = [p for p in _blas_counts() if os.path.realpath(p).startswith(
        (os.path.join(root, "scipy.libs"), os.path.join(root, "scipy", ".dylibs")))]
    if not scipys:
        pytest.skip("SciPy's BLAS is not in its wheel's directory here (a distribution build)")
    found = {b["filepath"]: b for b in blas_threads.blas_info()}
    for path in scipys:
        assert found[path]["thread_control"] or found[path].get("threading_layer") == "openmp"


def test_blas_info_lists_what_threadpoolctl_lists():
    ours = {b["filepath"] for b in blas_threads.blas_info()}
    assert ours and ours <= set(_blas_counts())
    assert all(isinstance(b["thread_control"], bool) for b in blas_threads.blas_info())


def test_single_threaded_blas_sets_one_and_restores_the_users_limit():
    controlled = _controlled()
    if not controlled:
        pytest.skip("no BLAS with thread control here")
    with threadpool_limits(limits=2, user_api="blas"):
        with blas_threads.single_threaded_blas():
            assert {p: n for p, n in _blas_counts().items() if p in controlled} == dict.fromkeys(controlled, 1)
            with blas_threads.single_threaded_blas():                 # nested: still one
                pass
            assert all(_blas_counts()[p] == 1 for p in controlled)
        assert all(_blas_counts()[p] == 2 for p in controlled)


def test_concurrent_guards_restore_when_the_last_leaves():
    controlled = _controlled()
    if not controlled:
        pytest.skip("no BLAS with thread control here")
    entered, leave_first = threading.Barrier(2), threading.Event()
    seen = []

    def first():
        with blas_threads.single_threaded_blas():
            entered.wait()
            leave_first.wait()

    with threadpool_limits(limits=2, user_api="blas"):
        t = threading.Thread(target=first)
        t.start()
        with blas_threads.single_threaded_blas():
            entered.wait()
            leave_first.set()
            t.join()                                           # the first has left, we have not
            seen.append(all(_blas_counts()[p] == 1 for p in controlled))
        seen.append(all(_blas_counts()[p] == 2 for p in controlled))
    assert seen == [True, True]


def test_the_blas_kernel_runs_with_the_blas_on_one_thread(blas_spy):
    controlled = _controlled()
    if not controlled:
        pytest.skip("no BLAS with thread control here")
    with threadpool_limits(limits=2, user_api="blas"):
        _call()
        after = _blas_counts()
    assert [{p: c[p] for p in controlled} for c in blas_spy.blas] == [dict.fromkeys(controlled, 1)]
    assert all(after[p] == 2 for p in controlled)


class _FakeLib:
    """A BLAS's thread API as ctypes would show it: functions one can give restype/argtypes."""

    def __init__(self, get_name, set_name):
        self.count, self.calls = 4, []

        def get():
            return self.count

        def set_(n):
            self.calls.append(n)
            self.count = n

        setattr(self, get_name, get)
        setattr(self, set_name, set_)


class _FakeController:
    def __init__(self, internal_api, dynlib, threading_layer="pthreads"):
        self.dynlib = dynlib
        self._info = {"user_api": "blas", "internal_api": internal_api, "filepath": internal_api,
                      "num_threads": 4, "threading_layer": threading_layer}

    def info(self):
        return dict(self._info)


@pytest.mark.parametrize("internal_api, get_name, set_name", [
    ("openblas", "openblas_get_num_threads", "openblas_set_num_threads"),          # SciPy 1.11
    ("openblas", "scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("mkl", "MKL_Get_Max_Threads", "MKL_Set_Num_Threads"),
    ("blis", "bli_thread_get_num_threads", "bli_thread_set_num_threads"),
    ("flexiblas", "flexiblas_get_num_threads", "flexiblas_set_num_threads"),
])
def test_every_vendor_is_limited_and_restored(monkeypatch, internal_api, get_name, set_name):
    lib = _FakeLib(get_name, set_name)
    monkeypatch.setattr(blas_threads, "_libs", [blas_threads._bind(_FakeController(internal_api, lib))])
    monkeypatch.setattr(blas_threads, "_only", None)
    monkeypatch.setattr(blas_threads, "_guarded", None)
    assert blas_threads.blas_info()[0]["thread_control"] is True
    with blas_threads.single_threaded_blas():
        assert lib.count == 1
    assert lib.count == 4 and lib.calls == [1, 4]


def test_an_openmp_threaded_or_unknown_blas_is_left_alone(monkeypatch):
    """An OpenMP-threaded OpenBLAS would set conv1dt's own OpenMP count (and runs on one thread
    inside conv1dt's parallel region anyway); a vendor without a thread API is reported."""
    omp = _FakeLib("openblas_get_num_threads", "openblas_set_num_threads")
    other = _FakeLib("x_get", "x_set")
    monkeypatch.setattr(blas_threads, "_only", None)
    monkeypatch.setattr(blas_threads, "_guarded", None)
    monkeypatch.setattr(blas_threads, "_libs", [blas_threads._bind(_FakeController("openblas", omp, "openmp")),
                                         blas_threads._bind(_FakeController("accelerate", other))])
    assert [b["thread_control"] for b in blas_threads.blas_info()] == [False, False]
    with blas_threads.single_threaded_blas():
        pass
    assert omp.calls == [] and other.calls == []


# --- show_config ------------------------------------------------------------------------------

def test_show_config_reports_openmp_simd_and_blas(capsys):
    info = conv1dt.show_config()
    out = capsys.readouterr().out
    runtimes = {i["filepath"] for i in threadpool_info() if i["user_api"] == "openmp"}
    if OPENMP:
        rt = info["openmp_runtime"]
        assert rt["filepath"] in runtimes
        assert rt["prefix"] in ("libgomp", "libomp", "libiomp", "vcomp") and rt["prefix"] in out
    else:
        assert info["openmp_runtime"] is None
    isa = _cpu.tiled_isa() if hasattr(_cpu, "tiled_isa") else None
    assert info["simd"].split()[0] == (isa or "baseline") and info["simd"] in out
    assert [b["filepath"] for b in info["blas"]] == [b["filepath"] for b in blas_threads.blas_info()]
    for b in info["blas"]:
        assert b["filepath"] in out


def test_show_config_without_openmp_says_none(monkeypatch, capsys):
    monkeypatch.setattr(_cpu, "have_openmp", lambda: False)
    info = conv1dt.show_config()
    out = capsys.readouterr().out
    assert info["openmp"] is False and info["openmp_runtime"] is None and info["num_threads"] == 1
    assert "openmp_runtime: none" in out


@pytest.mark.skipif(not OPENMP or not hasattr(__import__("os"), "sched_getaffinity"),
                    reason="needs OpenMP and dlsym/dladdr (Linux)")
def test_the_reported_runtime_is_the_one_the_kernels_call():
    """dlsym from the extension, dladdr to its file: the library that defines the kernels'
    omp_get_max_threads is the runtime show_config reports (with another OpenMP runtime loaded
    by some other package, the first threadpoolctl lists could be the wrong one)."""
    import os
    from conv1dt._runtime import config as _config
    ours = _config._defining_file(_cpu.__file__, "omp_get_max_threads")
    assert ours is not None
    assert os.path.realpath(ours) == os.path.realpath(_config._openmp_runtime()["filepath"])
    assert _config._defining_file(_cpu.__file__, "no_such_symbol_in_conv1dt") is None


def test_a_limit_caps_the_count_even_when_the_count_is_first_read_inside_it():
    """In a fresh interpreter, the first get_num_threads() inside threadpool_limits(1) after
    set_num_threads(2) is 1: OpenMP's default is read at import, not inside the limit (where
    GNU libgomp's new threads would see the limit as the default)."""
    import os
    import subprocess
    import sys
    if not _cpu.have_openmp():
        pytest.skip("needs OpenMP")
    code = ("import conv1dt\nfrom threadpoolctl import threadpool_limits\n"
            "conv1dt.set_num_threads(2)\nwith threadpool_limits(1):\n"
            "    print(conv1dt.get_num_threads())\n")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "1", out.stdout + out.stderr


# --- which BLAS the kernels call ----------------------------------------------------------------

def _newer_ilp64_openblas():
    """The filepath of the OpenBLAS the rule of conv1dt/_runtime/blas_pick.py picks, else None:
    the highest version above SciPy's among the thread-controlled ILP64 OpenBLAS found."""
    import ctypes
    import re

    from conv1dt._runtime import blas_pick
    version = lambda i: tuple(int(p) for p in re.findall(r"\d+", str(i.get("version") or "")))
    libs = [(i, blas_threads.dynlib_of(i)) for i, g, s in blas_threads._blas_libs()
            if i.get("internal_api") == "openblas" and s is not None]
    libs = [(i, d) for i, d in libs if d is not None]
    scipy_info = blas_pick._scipy_library(libs)
    if scipy_info is None:
        return None
    best = None
    for i, d in libs:
        config = blas_threads._symbol(d, "openblas_get_config")
        if config is None:
            continue
        config.restype = ctypes.c_char_p
        if b"USE64BITINT" in config() and version(i) > version(scipy_info):
            if best is None or version(i) > version(best):
                best = i
    return None if best is None else best["filepath"]


def test_the_kernels_call_the_newest_openblas_or_scipys():
    """show_config's ``kernel_blas`` names the OpenBLAS newer than SciPy's that the kernels call
    (NumPy's, in NumPy's wheels), or SciPy's when there is none."""
    info = conv1dt.show_config(file=open(__import__("os").devnull, "w"))
    expected = _newer_ilp64_openblas()
    if expected is None:
        assert info["kernel_blas"].startswith("SciPy's")
    else:
        assert expected in info["kernel_blas"] and "64-bit integers" in info["kernel_blas"]


def test_conv1dt_blas_scipy_keeps_scipys_blas():
    """CONV1DT_BLAS=scipy keeps SciPy's BLAS, and a GEMM-bound call by it agrees with the one
    in this process (whichever BLAS it calls) to float64 rounding: ``Cw*Cn`` sums of 4096 rows."""
    import os
    import subprocess
    import sys
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 2048, 96))
    dy = rng.standard_normal((2, 2048, 80))
    code = ("import io, sys, numpy as np, conv1dt\n"
            "x, dy = np.load(sys.argv[1]), np.load(sys.argv[2])\n"
            "print(conv1dt.show_config(file=io.StringIO())['kernel_blas'])\n"
            "np.save(sys.argv[3], conv1dt.conv1d_backprop_filter(x, [3, 96, 80], dy, 1, 'SAME'))\n")
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, n) for n in ("x.npy", "dy.npy", "df.npy")]
        np.save(paths[0], x)
        np.save(paths[1], dy)
        env = dict(os.environ, CONV1DT_BLAS="scipy")
        out = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True,
                             text=True, env=env, check=True)
        assert out.stdout.startswith("SciPy's"), out.stdout
        theirs = np.load(paths[2])
    ours = conv1dt.conv1d_backprop_filter(x, [3, 96, 80], dy, 1, "SAME")
    bound = 4 * 4096 * np.finfo(np.float64).eps * np.einsum("nwc,nwd->cd", abs(x), abs(dy))
    assert np.all(np.abs(ours - theirs) <= bound[None])


# --- the watch of parallel calls under load (conv1dt/_runtime/load.py) --------------------------

@pytest.fixture
def watch(monkeypatch):
    from conv1dt._runtime import load
    monkeypatch.setattr(load, "enabled", True)
    load.reset()
    _plan.clear_cache()
    yield load
    load.reset()
    _plan.clear_cache()


class _Clock:
    """The watch's clocks (``load.time``) made of numbers the test moves: a watched call's wall
    and CPU times are what it says it spent, not what a shared machine gave it, so the tests of
    the watch's rules cannot be swayed by the load they are about."""

    def __init__(self):
        self.wall = self.cpu = 0.0
        self.mono = 1000.0

    def spend(self, wall, cpu):
        self.wall += wall
        self.mono += wall
        self.cpu += cpu

    def perf_counter(self):
        return self.wall

    def thread_time(self):
        return self.cpu

    def monotonic(self):
        return self.mono


@pytest.fixture
def clock(watch, monkeypatch):
    c = _Clock()
    monkeypatch.setattr(watch, "time", c)
    return c


def _runner(watch, clock, spends):
    """A watched runner that asks for its thread count as the kernels do (``_plan.threads``)
    and takes ``spends[0]`` seconds of which its calling thread computes ``spends[1]`` (the test
    changes them between calls)."""
    def run(x, y, out=None):
        watch.limit(conv1dt.get_num_threads())
        clock.spend(*spends)
        return "done"
    return watch.watched(run)


def test_a_parallel_call_is_judged(watch):
    """A real parallel call goes through the watch: its kernel's thread count comes through
    :func:`limit`, and the plan's second call (the first only sets its shortest time) is judged."""
    x = np.random.default_rng(5).standard_normal((4, 4000, 64))
    f = np.random.default_rng(6).standard_normal((4, 32, 64))
    with conv1dt.threads(2):
        for _ in range(2):
            conv1dt.conv1d_transpose(x, f, (4, 8000, 32), 2, padding=[[0, 0], [1, 1], [0, 0]])
    assert len(watch._recent) == 1


def test_held_up_calls_run_on_one_thread_for_a_while(watch, clock):
    """A parallel call whose calling thread got far less CPU time than the wall time (as it does
    when it waits at a barrier for a thread the OS took away) and took longer than its best
    counts against the threads; two of the last four make parallel calls run on one thread
    until the back-off ends, and the results are the same bits either way."""
    g = conv1dt.Geometry(batch=4, narrow=4000, wide=8000, narrow_channels=64, wide_channels=32,
                         taps=4, stride=2, dilation=1, pad_before=1)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 4000, 64))
    f = rng.standard_normal((4, 32, 64))
    spends = [0.001, 0.001]             # 1 ms, all of it computing
    call = _runner(watch, clock, spends)
    with conv1dt.threads(2):
        full = conv1dt.conv1d_transpose(x, f, (4, 8000, 32), 2, padding=[[0, 0], [1, 1], [0, 0]])
        assert _plan.threads(g) == 2
        assert call(x, f) == "done"
        assert not watch._recent            # its first call only sets its shortest time
        call(x, f)
        assert list(watch._recent) == [False]
        spends[:] = [0.003, 0.0]            # 3 ms asleep at the barrier
        call(x, f)
        assert list(watch._recent) == [False, True] and not watch.limited()   # one of four
        call(x, f)
        assert watch.limited() and _plan.threads(g) == 1
        one = conv1dt.conv1d_transpose(x, f, (4, 8000, 32), 2, padding=[[0, 0], [1, 1], [0, 0]])
        np.testing.assert_array_equal(one, full)
        call(x, f)                          # while limited, calls are not judged
        assert list(watch._recent) == [False, True, True]
        # the back-off ends; a call on all the threads that keeps up lifts the limit for good
        clock.spend(watch.BACKOFF_MIN, 0.0)
        assert not watch.limited() and _plan.threads(g) == 2
        spends[:] = [0.001, 0.001]
        call(x, f)
        assert not watch.limited() and watch._backoff == watch.BACKOFF_MIN


def test_a_call_no_slower_than_its_best_is_not_held_up(watch, clock):
    """A call whose calling thread waits at the barrier for the others on a quiet machine (its
    few work items do not divide evenly) always does: no slower than its best, it keeps its
    threads."""
    idle = _runner(watch, clock, [0.003, 0.0])
    with conv1dt.threads(2):
        for _ in range(6):
            idle(None, None)
    assert list(watch._recent) == [False] * 4 and not watch.limited()


def test_the_back_off_doubles_while_the_load_lasts(watch, clock):
    for _ in range(2):
        watch._judge(True)
    assert watch.limited() and watch._backoff == 2 * watch.BACKOFF_MIN
    clock.spend(watch.BACKOFF_MIN - 1e-3, 0.0)
    assert watch.limited()
    clock.spend(2e-3, 0.0)
    assert not watch.limited()
    for _ in range(10):
        watch._judge(True)
    assert watch._backoff == watch.BACKOFF_MAX


def test_one_thread_and_short_calls_are_not_judged(watch, clock):
    held = _runner(watch, clock, [0.003, 0.0])
    with conv1dt.threads(1):
        for _ in range(4):
            held(None, None)
    assert not watch._recent
    short = _runner(watch, clock, [watch.MIN_WALL / 2, 0.0])
    with conv1dt.threads(2):
        for _ in range(4):
            short(None, None)
    assert not watch._recent and not watch.limited()


def test_the_watch_can_be_turned_off_from_the_environment():
    import subprocess
    import sys
    code = "from conv1dt._runtime import load; print(load.enabled)"
    env = dict(os.environ, CONV1DT_LOAD_WATCH="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_packed_gemm_where_the_blas_kernels_are_narrower(monkeypatch):
    """The kernels' GEMMs run conv1dt's packed GEMM where conv1dt's kernels are AVX-512 and the
    OpenBLAS's are a narrower CPU's (its name known), the BLAS elsewhere; CONV1DT_GEMM forces."""
    from conv1dt._compiled import _cpu
    from conv1dt._runtime import blas_pick

    monkeypatch.delenv("CONV1DT_GEMM", raising=False)
    assert blas_pick._packed("avx512", "Haswell") and blas_pick._packed("avx512", "Zen")
    assert not blas_pick._packed("avx512", "SkylakeX")
    assert not blas_pick._packed("avx512", "COOPERLAKE")
    assert not blas_pick._packed("avx2", "Haswell")
    assert not blas_pick._packed("avx512", None)       # another vendor's BLAS, or unknown
    monkeypatch.setenv("CONV1DT_GEMM", "blas")
    assert not blas_pick._packed("avx512", "Haswell")
    monkeypatch.setenv("CONV1DT_GEMM", " Packed ")
    assert blas_pick._packed("baseline", "SkylakeX")
    # what this process decided at import, from its environment and its BLAS
    monkeypatch.undo()
    assert _cpu.packed_on() == blas_pick._packed(_cpu.cpu_isa(), blas_pick._arch)
    assert ("packed GEMM" in blas_pick.chosen()) == _cpu.packed_on()


@pytest.mark.parametrize("ctype", [ctypes.c_int, ctypes.c_int64])
def test_the_compiled_guard_saves_and_restores_each_library(monkeypatch, ctype):
    """Where every library's functions are C functions (as ctypes binds them), the guard's save
    and restore run compiled (``_cpu.BlasThreads``): a count that is not 1 is set to 1 and put
    back when the last nested guard leaves, one already at 1 is not touched; ``int`` and
    ``int64`` counts (BLIS's) alike."""
    from conv1dt._compiled import _cpu
    counts, calls = {"a": 4, "b": 1, "c": 3}, []
    keep = []

    def lib(name):
        get = ctypes.CFUNCTYPE(ctype)(lambda: counts[name])

        def set_(n):
            calls.append((name, n))
            counts[name] = n
        set_ = ctypes.CFUNCTYPE(None, ctype)(set_)
        keep.append((get, set_))
        return get, set_

    monkeypatch.setattr(blas_threads, "_guarded", [lib("a"), lib("b"), lib("c")])
    monkeypatch.setattr(blas_threads, "_compiled", (None, False))   # restored with _guarded
    with blas_threads.single_threaded_blas():
        assert isinstance(blas_threads._compiled[1], _cpu.BlasThreads)
        assert counts == {"a": 1, "b": 1, "c": 1}
        with blas_threads.single_threaded_blas():
            assert counts == {"a": 1, "b": 1, "c": 1}
        assert counts == {"a": 1, "b": 1, "c": 1}
    assert counts == {"a": 4, "b": 1, "c": 3}
    assert calls == [("a", 1), ("c", 1), ("a", 4), ("c", 3)]
    assert blas_threads._compiled[1].depth == 0


# --- where the workers run (src/place.c) ----------------------------------------------------------

LINUX_CPUS = sys.platform.startswith("linux") and len(os.sched_getaffinity(0)) >= 2
needs_two_cpus = pytest.mark.skipif(not (OPENMP and LINUX_CPUS),
                                    reason="needs OpenMP, Linux and two CPUs to run on")


@pytest.fixture
def placed():
    was = _cpu.team_place_on()
    _cpu._set_team_place(True)
    yield
    _cpu._set_team_place(was)


def _other_threads():
    """The Linux thread ids of this process's threads but the calling one."""
    return [int(t) for t in os.listdir("/proc/self/task") if int(t) != threading.get_native_id()]


@needs_two_cpus
def test_a_worker_woken_on_the_callers_cpu_is_held_on_another_and_let_go(placed):
    """The worker of a parallel region runs on the CPU after the caller's (among the caller's
    CPUs) while the region runs, even where the scheduler put it on the caller's (here every
    other thread of the process is first held on the caller's CPU, the one the scheduler wakes it
    on under load); when the region is done, its CPUs are the caller's again, and nothing is
    left held."""
    mine = os.sched_getaffinity(0)
    cpus = sorted(mine)
    first, planned, seen, held = _cpu._team_probe(2)      # start the pool's worker
    others = {tid: os.sched_getaffinity(tid) for tid in _other_threads()}
    try:
        for _ in range(5):
            here = _cpu._team_probe(1)[0]                   # the caller's CPU, about now
            for tid in others:
                os.sched_setaffinity(tid, {here})
            first, planned, seen, held = _cpu._team_probe(2)
            after = cpus[(cpus.index(first) + 1) % len(cpus)]
            assert planned == [-1, after] and after != first
            assert seen[1] == after, (first, planned, seen)
            if first == here:     # (the caller stayed put: the worker had to be moved)
                assert held[1]
            if held[1]:          # the worker was moved: let go, to the caller's CPUs
                assert os.sched_getaffinity(held[1]) == mine
    finally:
        for tid, cpuset in others.items():
            try:
                os.sched_setaffinity(tid, cpuset)
            except OSError:
                pass


@needs_two_cpus
def test_kernels_leave_no_thread_held_and_the_same_bits(placed):
    """After parallel calls of each op with placement on, no thread of the process is held on
    one CPU (each has the caller's CPUs again), and the results are those with placement off."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 300, 64)).astype(np.float32)
    f = rng.standard_normal((5, 64, 32)).astype(np.float32)
    y = rng.standard_normal((4, 150, 32)).astype(np.float32)
    calls = [lambda: conv1dt.conv1d(x, f, 2, "SAME"),
             lambda: conv1dt.conv1d_transpose(y, f, (4, 300, 64), 2, "SAME"),
             lambda: conv1dt.conv1d_backprop_filter(x, (5, 64, 32), y, 2, "SAME")]
    mine = os.sched_getaffinity(0)
    with conv1dt.threads(2):
        on = [call() for call in calls]
        _cpu._set_team_place(False)
        off = [call() for call in calls]
    for a, b in zip(on, off):
        np.testing.assert_array_equal(a, b)
    assert all(os.sched_getaffinity(tid) == mine for tid in _other_threads())


def test_placement_follows_the_environment():
    """On unless CONV1DT_PLACE=0 or the user placed OpenMP's threads (OMP_PROC_BIND, OMP_PLACES,
    GOMP_CPU_AFFINITY); Linux only; show_config says which."""
    p = _threads._placement
    linux = "on" if sys.platform.startswith("linux") else "off (Linux only)"
    assert p({}) == linux
    assert p({"CONV1DT_PLACE": "0"}) == "off (CONV1DT_PLACE=0)"
    assert p({"CONV1DT_PLACE": "1"}) == linux
    for name in ("OMP_PROC_BIND", "OMP_PLACES", "GOMP_CPU_AFFINITY"):
        assert p({name: "close"}) == f"off ({name} is set)"
    assert _cpu.team_place_on() == (p(os.environ) == "on")
    info = conv1dt.show_config(file=io.StringIO())
    assert info["thread_placement"] == _threads.placement()
