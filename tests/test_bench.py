"""The benchmark runs and reports (speed itself is measured by the benchmark, never asserted)."""
import json
import os

import pytest

import conv1dt
from conv1dt import bench


@pytest.fixture(autouse=True)
def _undo_bench_process_settings():
    """bench.main is a command: it sets the thread environment variables, threadpoolctl limits
    (OpenMP's and the BLAS's) and conv1dt's count for the rest of the process. Undo them, so that
    later tests see the defaults (a threadpoolctl limit caps conv1dt's own count)."""
    from threadpoolctl import threadpool_limits
    environ = dict(os.environ)
    with threadpool_limits(limits=None):     # on exit: every library back to its count before
        yield
    for key in set(os.environ) - set(environ):
        del os.environ[key]
    os.environ.update(environ)
    conv1dt.set_num_threads(None)


def test_bench_runs_and_checks_agreement(tmp_path, capsys):
    out = tmp_path / "rows.json"
    assert bench.main(["--only", "--shape", "2,64,3,2,5,2,1,SAME", "--shape", "1,40,6,70,4,3,2,VALID",
                       "--peers", "numpy", "--min-time", "0", "--settle", "0", "--threads", "1",
                       "--dtype", "float32", "float64", "--json", str(out),
                       "--csv", str(tmp_path / "rows.csv")]) == 0
    assert len((tmp_path / "rows.csv").read_text().splitlines()) == 5
    rows = json.loads(out.read_text())
    assert len(rows) == 4
    for row in rows:
        assert set(row["ms"]) == {"conv1dt", "numpy", "gemm"}
        # the NumPy baseline is an independent computation of the same result
        assert row["error"]["numpy"] < (1e-5 if row["dtype"] == "float32" else 1e-12)
    table = capsys.readouterr().out
    assert "conv1dt ms" in table and "geometric mean" in table


def test_parse_shape():
    assert bench.parse_shape("4,256,512,256,16,8,1,same") == (4, 256, 512, 256, 16, 8, 1, "SAME")


def test_rounds_take_turns_and_pool_the_calls(monkeypatch):
    """With ``rounds``, each library is timed that many times in turn with the others, and its
    figure is the median of all its calls."""
    order, calls = [], {}

    def fake_measure(name, shape, dtype, threads, min_time, min_repeat, runners):
        import numpy as np

        order.append(name)
        calls[name] = calls.get(name, 0) + 1
        # conv1dt's calls take 1, 2, 3 ms in rounds 1, 2, 3 (median 2); NumPy's and GEMM's 4 ms
        t = calls[name] * 1e-3 if name == "conv1dt" else 4e-3
        return [t] * min_repeat, np.ones(3)

    monkeypatch.setattr(bench, "measure", fake_measure)
    rows = bench.run([(1, 8, 1, 1, 3, 2, 1, "SAME")], ["float32"], {"numpy"}, 1, 0, lambda m: None,
                     settle=0, rounds=3)
    assert order == ["conv1dt", "numpy", "gemm"] * 3
    assert rows[0]["rounds"] == 3
    assert rows[0]["ms"]["conv1dt"] == 2.0 and rows[0]["ms"]["numpy"] == 4.0
    assert rows[0]["speedup"] == 2.0


def test_a_peer_that_fails_in_a_later_round_is_skipped_whole(monkeypatch):
    """A library that fails in round 2 has no figure and no error entry for the row, only the
    reason it was skipped."""
    calls = {}

    def fake_measure(name, shape, dtype, threads, min_time, min_repeat, runners):
        import numpy as np

        calls[name] = calls.get(name, 0) + 1
        if name == "numpy" and calls[name] == 2:
            return None, "MemoryError: boom"
        return [1e-3] * min_repeat, np.ones(3) * (5 if name == "numpy" else 1)

    monkeypatch.setattr(bench, "measure", fake_measure)
    (row,) = bench.run([(1, 8, 1, 1, 3, 2, 1, "SAME")], ["float32"], {"numpy"}, 1, 0,
                       lambda m: None, settle=0, rounds=3)
    assert calls["numpy"] == 2 and calls["gemm"] == 3
    assert "numpy" not in row["ms"] and "numpy" not in row["error"]
    assert row["skipped"] == {"numpy": "MemoryError: boom"}
    assert "WARNING" not in bench.format_table([row])


def test_rounds_must_be_positive():
    import pytest

    with pytest.raises(SystemExit):
        bench.main(["--rounds", "0", "--only", "--shape", "1,8,1,1,3,2,1,SAME", "--peers", "numpy"])
