"""The benchmark runs and reports (speed itself is measured by the benchmark, never asserted).

Its logic is tested here: the NumPy baseline and the peers' formulations against the reference,
the random geometries (within bounds and budget, valid for their op), the statistics, the
roofline, the worker processes and the busy process of ``--contend``.
"""
import json
import math
import statistics
import sys
import time

import numpy as np
import pytest

from conv1dt import reference
from conv1dt._runtime import machine as _machine
from conv1dt._geometry import backprop_filter_geometry, conv1d_geometry, transpose_geometry
from conv1dt.bench import contend, libs, shapes, sweep, table
from conv1dt.bench.cli import main, parse_threads

OPS = libs.OPS


@pytest.fixture(autouse=True)
def _undo_bench_process_settings():
    """The benchmark's main is a command: it sets the thread environment variables, threadpoolctl
    limits (OpenMP's and the BLAS's), the CPU affinity and conv1dt's count for the rest of the
    process. Undo them,
    so that later tests see the defaults (a threadpoolctl limit caps conv1dt's own count)."""
    import os

    import conv1dt
    from threadpoolctl import threadpool_limits
    environ = dict(os.environ)
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    with threadpool_limits(limits=None):     # on exit: every library back to its count before
        yield
    if affinity is not None:                 # the benchmark pins itself to its thread count
        os.sched_setaffinity(0, affinity)
    for key in set(os.environ) - set(environ):
        del os.environ[key]
    os.environ.update(environ)
    conv1dt.set_num_threads(None)

# small cases in each op's own terms: groups, dilation, every padding form, VALID with samples
# that no window reads
SMALL = [
    (2, 19, 6, 4, 3, 2, 1, "SAME", 1),
    (1, 23, 4, 6, 4, 3, 2, "VALID", 2),
    (2, 17, 6, 6, 5, 1, 1, (2, 3), 6),
    (1, 12, 3, 5, 2, 4, 3, (0, 4), 1),
    (3, 9, 8, 4, 1, 1, 1, "SAME", 4),
]


def _oracle(c, a, b):
    """conv1dt.reference on the case's geometry (an independent, loop-by-link definition)."""
    g = shapes.geometry(c)
    if c.op == "conv1d_transpose":
        return reference.conv1d_transpose(a, b, g)
    if c.op == "conv1d":
        return reference.conv1d(a, b, g)
    return reference.conv1d_backprop_filter(a, b, g)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape", SMALL)
def test_numpy_baseline_is_the_reference(op, shape):
    """The per-tap NumPy baseline computes the op itself (float64: sums of at most K*Cin = 60
    products, so 1e-12 relative is rounding)."""
    c = shapes.case(op, *shape)
    j = shapes.job(c, "float64", 1)
    a, b = libs.operands(j)
    got = libs.numpy_op(j)(a, b)
    want = _oracle(c, a, b)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("shape", SMALL)
def test_conv1dt_runner_runs_the_case(op, shape):
    """The benchmark's call of conv1dt is the op on the case's geometry."""
    c = shapes.case(op, *shape)
    j = shapes.job(c, "float64", 1)
    call, conv = table.conv1dt_runner(j)
    np.testing.assert_allclose(conv(call()), _oracle(c, *libs.operands(j)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["torch", "jax", "tf"])
@pytest.mark.parametrize("op", OPS)
def test_framework_formulations(name, op):
    """Each framework's formulation of each op against the reference (float64; TF refuses some
    float64 and grouped cases on the CPU, which the benchmark leaves out as it does here)."""
    pytest.importorskip(libs.FRAMEWORKS[name])
    for shape in SMALL:
        c = shapes.case(op, *shape)
        j = shapes.job(c, "float64", 1)
        try:
            call, conv = libs.make_runner(name, j)
            got = conv(call())
        except Exception as exc:   # a refusal by the framework: left out of the table
            if name == "tf":
                continue
            raise AssertionError(f"{name} {op} {shape}: {exc}") from exc
        np.testing.assert_allclose(got, _oracle(c, *libs.operands(j)), rtol=1e-10, atol=1e-10)


def test_bench_runs_every_op_and_checks_agreement(tmp_path, capsys):
    out = tmp_path / "rows.json"
    assert main(["--only", "--op", "all", "--shape", "2,64,3,2,5,2,1,SAME",
                 "--shape", "1,40,6,8,4,3,2,VALID,2", "--peers", "numpy", "--min-time", "0",
                 "--settle", "0", "--threads", "1", "--dtype", "float32", "float64",
                 "--json", str(out), "--csv", str(tmp_path / "rows.csv")]) == 0
    rows = json.loads(out.read_text())
    assert len(rows) == 12 and {r["op"] for r in rows} == set(OPS)
    assert len((tmp_path / "rows.csv").read_text().splitlines()) == 13
    for row in rows:
        assert set(row["ms"]) == {"conv1dt", "numpy", "gemm"}
        # the NumPy baseline is an independent computation of the same result
        assert row["error"]["numpy"] < (1e-5 if row["dtype"] == "float32" else 1e-12)
        assert row["best_peer"] == "numpy"
    text = capsys.readouterr().out
    assert "conv1dt ms" in text and "geometric mean" in text and "WARNING" not in text


def test_parse_shape_and_threads():
    assert shapes.parse_shape("4,256,512,256,16,8,1,same") == (4, 256, 512, 256, 16, 8, 1, "SAME")
    assert shapes.parse_shape("1,10,4,4,3,1,2,2:0,4") == (1, 10, 4, 4, 3, 1, 2, (2, 0), 4)
    with pytest.raises(Exception):
        shapes.parse_shape("1,10,4,4,3,1,2,FULL")
    assert parse_threads("1,2") == [1, 2] and parse_threads("2") == [2]
    with pytest.raises(Exception):
        parse_threads("0")


def test_case_widths_follow_each_op():
    """conv1d_transpose's output width: M*s for SAME, the widest for VALID, PyTorch's
    ``(M-1)*s + Keff - lo - hi`` for explicit padding; conv1d's output is forward_width."""
    assert shapes.case("conv1d_transpose", 1, 32, 4, 2, 16, 8, 1, (4, 4)).wide == 8 * 32
    assert shapes.case("conv1d_transpose", 1, 10, 4, 2, 3, 2, 1, "SAME").wide == 20
    assert shapes.case("conv1d_transpose", 1, 10, 4, 2, 3, 2, 1, "VALID").wide == 10 * 2 + 3 - 1
    assert shapes.case("conv1d", 1, 10, 4, 2, 3, 2, 1, "VALID").narrow == 4
    with pytest.raises(ValueError):
        shapes.case("conv1d", 1, 2, 1, 1, 5, 1, 1, "VALID")


def test_real_model_shapes_are_valid_and_sourced():
    """At least 16 real-model shapes per op, each with a source, each a valid call of its op."""
    for op in OPS:
        cases = shapes.model_cases([op])
        assert len(cases) >= 16
        for c in cases:
            assert c.source
            _check_valid(c)


def _check_valid(c):
    """The case is a call conv1dt accepts, with the geometry the benchmark computes from."""
    G = c.groups
    if c.op == "conv1d_transpose":
        g = transpose_geometry((c.n, c.narrow, c.cn), (c.k, c.cw // G, c.cn), (c.n, c.wide, c.cw),
                               c.s, c.d, c.padding, "NWC", G)
    elif c.op == "conv1d":
        g = conv1d_geometry((c.n, c.wide, c.cw), (c.k, c.cw // G, c.cn), c.s, c.d, c.padding, "NWC", G)
    else:
        g = backprop_filter_geometry((c.n, c.wide, c.cw), (c.k, c.cw // G, c.cn),
                                     (c.n, c.narrow, c.cn), c.s, c.d, c.padding, "NWC", G)
    assert g == shapes.geometry(c)


def test_sweep_draws_within_bounds_and_budget():
    budget = dict(max_flops=2e8, max_bytes=32 << 20, max_touch=5e7)
    drawn = sweep.draw(300, 7, **budget)
    assert len(drawn) == 300
    assert drawn == sweep.draw(300, 7, **budget)            # the seed fixes the draws
    assert drawn != sweep.draw(300, 8, **budget)
    for c, dtype in drawn:
        assert sweep.within(c, dtype, **budget)
        assert shapes.flops(c) <= 2e8 and shapes.footprint(c, 4 if dtype == "float32" else 8) <= 32 << 20
        assert 1 <= c.n <= 64 and 1 <= c.k <= 1024 and 1 <= c.s <= 16 and 1 <= c.d <= 8
        assert 1 <= c.cw <= 2048 and 1 <= c.cn <= 2048
        assert c.cw % c.groups == 0 and c.cn % c.groups == 0
        assert c.wide <= 1 << 20 and c.narrow >= 1
        if c.padding == "SAME":
            assert c.wide >= 8
        _check_valid(c)
    # the space is covered: every op, dtype and padding form, groups and depthwise, strides
    # and dilations above 1
    assert {c.op for c, _ in drawn} == set(OPS)
    assert {dt for _, dt in drawn} == {"float32", "float64"}
    assert {c.padding if isinstance(c.padding, str) else "explicit" for c, _ in drawn} == {
        "SAME", "VALID", "explicit"}
    assert any(c.groups > 1 for c, _ in drawn) and any(c.groups == c.cw > 1 for c, _ in drawn)
    assert max(c.s for c, _ in drawn) > 8 and max(c.d for c, _ in drawn) > 4
    assert max(c.k for c, _ in drawn) > 256 and max(c.wide for c, _ in drawn) > 1 << 16


def test_unbounded_draws_reach_the_limits_of_the_space():
    import numpy as np

    rng = np.random.default_rng(3)
    cases = [sweep.draw_one(rng)[0] for _ in range(3000)]
    assert max(c.n for c in cases) == 64 and min(c.n for c in cases) == 1
    assert max(c.k for c in cases) > 900 and max(c.s for c in cases) == 16
    assert max(max(c.cw, c.cn) for c in cases) > 1800 and max(c.wide for c in cases) > 900_000


def test_distribution_statistics():
    values = [0.5, 1, 2, 4, 8, 16, 32]
    dist = sweep.distribution(values)
    assert dist["n"] == 7 and dist["min"] == 0.5 and dist["max"] == 32
    assert dist["median"] == statistics.median(values)
    assert math.isclose(dist["gmean"], statistics.geometric_mean(values))
    # the 5th percentile by linear interpolation: 5 % of the way from the first to the second
    assert math.isclose(dist["p5"], 0.5 + 0.05 * 6 * (1 - 0.5))
    assert sweep.distribution([]) == {"n": 0}


def test_roofline_is_the_slower_of_compute_and_memory():
    figures = {"fma_f32": 1e11, "fma_f64": 5e10, "bandwidth": 1e10}
    compute = shapes.case("conv1d", 4, 1024, 256, 256, 3, 1, 1, "SAME")
    memory = shapes.case("conv1d", 1, 1 << 20, 1, 1, 1, 1, 1, "SAME")
    assert sweep.roofline_seconds(compute, "float32", 1, figures) == shapes.flops(compute) / 1e11
    assert sweep.roofline_seconds(compute, "float64", 2, figures) == shapes.flops(compute) / 1e11
    assert sweep.roofline_seconds(memory, "float64", 1, figures) == (8 * 2 * (1 << 20) + 8) / 1e10


@pytest.mark.parametrize("s,d,k,m", [(1, 1, 5, 40), (1, 3, 4, 30), (4, 1, 3, 20), (4, 1, 9, 20),
                                     (2, 2, 6, 15), (6, 4, 5, 12), (3, 2, 4, 7), (16, 8, 3, 9)])
def test_wide_touched_counts_the_samples_windows_read(s, d, k, m):
    """The roofline's wide-signal samples against a count of the set ``{i*s + k*d}`` (VALID,
    the narrowest input): never fewer (the roofline stays a bound), and exact when the windows
    do not overlap or the stride is 1."""
    keff = (k - 1) * d + 1
    c = shapes.case("conv1d", 1, (m - 1) * s + keff, 1, 1, k, s, d, "VALID")
    assert c.narrow == m
    exact = len({i * s + j * d for i in range(m) for j in range(k)})
    assert shapes.wide_touched(c) >= exact
    if s == 1 or k * d <= s:
        assert shapes.wide_touched(c) == exact
    assert shapes.wide_touched(shapes.as_op(c, "conv1d_transpose")) == c.wide


def test_flops_count_the_links_inside_the_signals():
    """The FLOPs are 2 N Cw Cn / G per link, the links counted as the reference enumerates them
    (taps that fall on padding do no work), for random geometries of every padding form."""
    rng = np.random.default_rng(5)
    seen = 0
    while seen < 200:
        c, _ = sweep.draw_one(rng)
        if c.narrow * c.k > 20_000:
            continue
        seen += 1
        count = sum(1 for _ in reference.links(shapes.geometry(c)))
        assert shapes.links(c) == count
        assert shapes.flops(c) == 2.0 * c.n * count * c.cw * c.cn / c.groups
    full = shapes.case("conv1d", 2, 50, 3, 4, 5, 2, 1, "VALID")
    assert shapes.links(full) == full.narrow * 5


def test_thread_speedups_only_for_big_geometries():
    big = shapes.case("conv1d", 4, 8192, 64, 64, 16, 1, 1, "SAME")     # 537 MFLOP
    small = shapes.case("conv1d", 1, 64, 4, 4, 3, 1, 1, "SAME")
    rows = [{"case": c, "dtype": "float32", "threads": t, "mflop": shapes.flops(c) / 1e6,
             "conv1dt_ms": ms} for c, t, ms in [(big, 1, 10.0), (big, 2, 5.5), (small, 1, 1.0),
                                               (small, 2, 1.0)]]
    ((row, speedup, most),) = sweep.thread_speedups(rows)
    assert row["case"] == big and most == 2 and math.isclose(speedup, 10 / 5.5)


def test_sweep_smoke_run(tmp_path, capsys):
    """Two tiny geometries through the whole sweep: timed, checked against NumPy, reported."""
    figures = {"fma_f32": 1e11, "fma_f64": 5e10, "bandwidth": 1e10}
    geos = [(shapes.case("conv1d_transpose", 2, 30, 4, 3, 5, 2, 2, (1, 2)), "float32"),
            (shapes.case("conv1d_backprop_filter", 1, 40, 6, 6, 3, 1, 1, "SAME", 3), "float64")]
    rows = sweep.run(geos, [1, 2], figures, min_time=0)
    assert len(rows) == 4
    for r in rows:
        assert r["diff"] < (1e-5 if r["dtype"] == "float32" else 1e-12)
        assert r["vs_roof"] > 0 and r["vs_numpy"] > 0 and r["kernel"] != "?"
    text = sweep.report(rows)
    assert "2 thread(s), 2 geometries" in text and "WARNING" not in text
    sweep.write_csv(rows, tmp_path / "s.csv")
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 5


def test_sweep_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CONV1DT_CACHE_DIR", str(tmp_path))
    (tmp_path / "machine.json").write_text(json.dumps(
        {"fma_f32": 1e11, "fma_f64": 5e10, "bandwidth": 1e10, "l1": 1, "l2": 2, "l3": 3}))
    assert main(["--sweep", "3", "--seed", "1", "--threads", "1", "--max-mflop", "1",
                 "--csv", str(tmp_path / "s.csv")]) == 0
    out = capsys.readouterr().out
    assert "sweep of 3 geometries" in out and "speed-up over NumPy" in out
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 4


def test_rounds_take_turns_and_pool_the_calls(monkeypatch):
    """With ``rounds``, each library is timed that many times in turn with the others, and its
    figure is the median of all its calls."""
    order, calls = [], {}

    def fake_measure(name, job, min_time, min_repeat, runners):
        order.append(name)
        calls[name] = calls.get(name, 0) + 1
        # conv1dt's calls take 1, 2, 3 ms in rounds 1, 2, 3 (median 2); NumPy's and GEMM's 4 ms
        t = calls[name] * 1e-3 if name == "conv1dt" else 4e-3
        return [t] * min_repeat, np.ones(3)

    monkeypatch.setattr(table, "measure", fake_measure)
    rows = table.run([shapes.case("conv1d_transpose", 1, 8, 1, 1, 3, 2, 1, "SAME")], ["float32"],
                     {"numpy"}, 1, 0, lambda m: None, settle=0, rounds=3)
    assert order == ["conv1dt", "numpy", "gemm"] * 3
    assert rows[0]["rounds"] == 3
    assert rows[0]["ms"]["conv1dt"] == 2.0 and rows[0]["ms"]["numpy"] == 4.0
    assert rows[0]["speedup"] == 2.0


def test_a_peer_that_fails_in_a_later_round_is_skipped_whole(monkeypatch):
    """A library that fails in round 2 has no figure and no error entry for the row, only the
    reason it was skipped."""
    calls = {}

    def fake_measure(name, job, min_time, min_repeat, runners):
        calls[name] = calls.get(name, 0) + 1
        if name == "numpy" and calls[name] == 2:
            return None, "MemoryError: boom"
        return [1e-3] * min_repeat, np.ones(3)

    monkeypatch.setattr(table, "measure", fake_measure)
    (row,) = table.run([shapes.case("conv1d", 1, 8, 1, 1, 3, 2, 1, "SAME")], ["float32"], {"numpy"},
                       1, 0, lambda m: None, settle=0, rounds=3)
    assert calls["numpy"] == 2 and calls["gemm"] == 3
    assert "numpy" not in row["ms"] and "numpy" not in row["error"]
    assert row["skipped"] == {"numpy": "MemoryError: boom"}
    assert "WARNING" not in table.format_table([row])


def test_a_call_slower_than_the_cap_is_timed_once_and_left_out_of_later_rounds(monkeypatch):
    """A library whose call took more than ``SLOW_CALL`` seconds: ``repeat_times`` stops after
    that call, and the table times it in no later round of the row (its figure is that call, and
    the table says so); the other libraries take all their rounds."""
    from conv1dt.bench import libs

    monkeypatch.setattr(libs, "SLOW_CALL", 0.01)
    ticks = []

    def slow():
        ticks.append(1)
        time.sleep(0.02)

    assert len(libs.repeat_times(slow, min_time=10, min_repeat=5, warm_up=False)) == 1
    assert len(ticks) == 1
    fast = libs.repeat_times(lambda: None, min_time=0, min_repeat=5, warm_up=False)
    assert len(fast) == 5
    calls = {}

    def fake_measure(name, job, min_time, min_repeat, runners):
        calls[name] = calls.get(name, 0) + 1
        return ([0.05] if name == "numpy" else [1e-3] * min_repeat), np.ones(3)

    monkeypatch.setattr(table, "measure", fake_measure)
    (row,) = table.run([shapes.case("conv1d", 1, 8, 1, 1, 3, 2, 1, "SAME")], ["float32"], {"numpy"},
                       1, 0, lambda m: None, settle=0, rounds=3)
    assert calls == {"conv1dt": 3, "numpy": 1, "gemm": 3}
    assert row["slow"] == ["numpy"] and row["ms"]["numpy"] == 50.0
    assert "note: numpy took 0.05 s a call" in table.format_table([row])


def test_a_peer_with_another_result_is_not_compared_with(monkeypatch):
    def fake_measure(name, job, min_time, min_repeat, runners):
        ms = {"conv1dt": 2e-3, "numpy": 1e-3, "gemm": 1e-3}[name]
        return [ms] * min_repeat, np.ones(3) * (2 if name == "numpy" else 1)

    monkeypatch.setattr(table, "measure", fake_measure)
    (row,) = table.run([shapes.case("conv1d", 1, 8, 1, 1, 3, 2, 1, "SAME")], ["float32"], {"numpy"},
                       1, 0, lambda m: None, settle=0, rounds=1)
    assert row["error"]["numpy"] == 1.0 and row["best_peer"] is None and row["speedup"] is None
    assert "WARNING: numpy differs" in table.format_table([row])


def test_worker_process_runs_a_library_without_conv1dt():
    """A library in a process of its own, started as a script (so it needs no conv1dt): its
    result equals the same library's in this process, and it ends when closed."""
    w = table.Worker("numpy", 1, 0.0, 1, python=sys.executable)
    try:
        assert w.available and w.version == np.__version__
        j = shapes.job(shapes.case("conv1d", 2, 50, 3, 4, 5, 2, 1, "SAME"), "float64", 1)
        times, res = w.measure(j)
        assert len(times) >= 1 and all(t > 0 for t in times)
        a, b = libs.operands(j)
        np.testing.assert_array_equal(res, libs.sample(libs.numpy_op(j)(a, b)))
    finally:
        w.close()
    assert w.proc.returncode == 0


def test_an_unknown_library_is_not_available():
    w = table.Worker("no_such_library_xyz", 1, 0.0, 1)
    w.close()
    assert not w.available


def _cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])        # utime + stime


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_contend_spins_and_stops():
    with contend.busy() as proc:
        assert proc.poll() is None
        before = _cpu_ticks(proc.pid)
        time.sleep(0.3)
        assert _cpu_ticks(proc.pid) > before        # it is busy
    assert proc.poll() is not None                  # and stopped, reaped
    with contend.busy(enabled=False) as none:
        assert none is None


def test_contend_stops_on_an_exception():
    with pytest.raises(RuntimeError):
        with contend.busy() as proc:
            raise RuntimeError("boom")
    assert proc.poll() is not None


def test_spinner_ends_when_its_parent_dies(tmp_path):
    """A spinner outlives no benchmark: started by a process that is then killed, it exits."""
    import os
    import signal
    import subprocess

    code = ("import sys; sys.path[:0] = %r; from conv1dt.bench import contend; "
            "p = contend.start_spinner(); print(p.pid, flush=True); import time; time.sleep(60)"
            % (sys.path,))
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(100):
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break                           # exited, waiting for init to reap it
        except (ProcessLookupError, FileNotFoundError):
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        raise AssertionError("the spinner outlived its parent")


def test_list_prints_the_cases(capsys):
    assert main(["--list", "--models", "--op", "conv1d"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(shapes.SUITE) + len(shapes.model_cases(["conv1d"]))
    assert all(line.startswith("conv1d ") and "MFLOP" in line for line in lines)


def test_rounds_must_be_positive():
    with pytest.raises(SystemExit):
        main(["--rounds", "0", "--only", "--shape", "1,8,1,1,3,2,1,SAME", "--peers", "numpy"])


# --- the machine's figures ----------------------------------------------------------------------

def test_cache_sizes_from_sysfs(tmp_path):
    for i, (level, kind, size) in enumerate([(1, "Data", "48K"), (1, "Instruction", "32K"),
                                             (2, "Unified", "2048K"), (3, "Unified", "32M")]):
        d = tmp_path / f"index{i}"
        d.mkdir()
        (d / "level").write_text(f"{level}\n")
        (d / "type").write_text(f"{kind}\n")
        (d / "size").write_text(f"{size}\n")
    assert _machine.cache_sizes(tmp_path) == {"l1": 48 << 10, "l2": 2 << 20, "l3": 32 << 20}
    assert _machine.cache_sizes(tmp_path / "none") == {"l1": 0, "l2": 0, "l3": 0}


def test_measure_machine_small():
    figures = _machine.measure_machine(gemm_size=64, copy_bytes=1 << 20, repeats=1)
    for key in _machine.KEYS:
        assert figures[key] >= 0
    # a core does at least a multiply-add per nanosecond and streams at least 100 MB/s
    assert figures["fma_f32"] > 1e9 and figures["fma_f64"] > 1e9 and figures["bandwidth"] > 1e8


def test_the_fma_rate_is_one_cores(monkeypatch):
    """The multiply-add rate is measured with every BLAS in the process on one thread (SciPy's
    too, which the kernels' guard does not hold when they call another): the GEMM it times
    sees one thread in each."""
    from scipy.linalg import blas
    from threadpoolctl import threadpool_info
    seen = []

    def sgemm(alpha, a, b):
        seen.append({lib["filepath"]: lib["num_threads"] for lib in threadpool_info()
                     if lib["user_api"] == "blas"})
        return a @ b

    monkeypatch.setattr(blas, "sgemm", sgemm)
    _machine._gemm_rate(np.float32, 16, 2)
    assert seen and all(seen) and all(n == 1 for s in seen for n in s.values())


def test_machine_is_measured_once_and_cached(tmp_path, monkeypatch):
    calls = []

    def fake():
        calls.append(1)
        return {"fma_f32": 2e10 * len(calls), "fma_f64": 1e10, "bandwidth": 1e10, "l1": 1, "l2": 2,
                "l3": 3, "method": _machine.METHOD}

    monkeypatch.setattr(_machine, "measure_machine", fake)
    monkeypatch.setenv("CONV1DT_CACHE_DIR", str(tmp_path / "c"))
    assert _machine.cache_path() == tmp_path / "c" / "machine.json"
    first = _machine.machine()
    assert _machine.machine() == first and len(calls) == 1
    assert json.loads((tmp_path / "c" / "machine.json").read_text()) == first
    assert _machine.machine(refresh=True)["fma_f32"] == 4e10 and len(calls) == 2
    (tmp_path / "c" / "machine.json").write_text("{not json")
    assert _machine.machine()["fma_f32"] == 6e10 and len(calls) == 3
    # a file measured the first way (no method: SciPy's BLAS on every core) is measured anew
    stale = dict(first, method=None)
    (tmp_path / "c" / "machine.json").write_text(json.dumps(stale))
    assert _machine.machine()["fma_f32"] == 8e10 and len(calls) == 4
