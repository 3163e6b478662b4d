"""The benchmark runs and reports (speed itself is measured by the benchmark, never asserted)."""
import json

from conv1dt import bench


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
