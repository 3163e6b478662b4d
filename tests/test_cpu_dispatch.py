"""The runtime CPU dispatch (conv1dt/_compiled/src/dispatch.c): one instruction set for every kernel, the
environment override CONV1DT_CPU, and its report by show_config(). The kernels themselves are
proven under each set by running tests/test_kernels.py with CONV1DT_CPU set (.ci/run does)."""
import io
import os
import subprocess
import sys

import numpy as np
import pytest

import conv1dt
from conv1dt import reference
from conv1dt._compiled import _cpu, _transpose
from conv1dt._geometry import transpose_geometry

ORDER = ["baseline", "avx2", "avx512"]


def _run(code, cpu):
    """Run ``code`` in a fresh Python with CONV1DT_CPU set to ``cpu`` (the choice is made once)."""
    env = {**os.environ, "CONV1DT_CPU": cpu}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_the_default_is_the_best_the_cpu_has():
    if os.environ.get("CONV1DT_CPU"):
        pytest.skip("CONV1DT_CPU is set for this run")
    assert _cpu.cpu_isa() == _cpu.cpu_isa_detected()
    assert _cpu.cpu_isa() in ORDER
    assert _cpu.tiled_isa() == (None if _cpu.cpu_isa() == "baseline" else _cpu.cpu_isa())


@pytest.mark.parametrize("cpu", ORDER)
def test_the_override_names_the_set_capped_at_the_cpu(cpu):
    """CONV1DT_CPU lowers the set of every kernel, never raises it past what the CPU has; the
    direct kernel's float64 results are the same bits on every set (no fused multiply-add)."""
    want = ORDER[min(ORDER.index(cpu), ORDER.index(_cpu.cpu_isa_detected()))]
    out = _run("""
import numpy as np
from conv1dt._compiled import _cpu, _transpose
rng = np.random.default_rng(5)
x = rng.standard_normal((2, 300, 3)); f = rng.standard_normal((7, 4, 3))
y = np.empty((2, 600, 4))
_transpose.transpose_direct(x, False, f, y, False, 2, 1, 3, 32, 1)
print(_cpu.cpu_isa(), y.tobytes().hex())
""", cpu)
    assert out.returncode == 0, out.stderr
    isa, bits = out.stdout.split()
    assert isa == want
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 300, 3))
    f = rng.standard_normal((7, 4, 3))
    y = np.empty((2, 600, 4))
    _transpose.transpose_direct(x, False, f, y, False, 2, 1, 3, 32, 1)
    assert bits == y.tobytes().hex()
    g = transpose_geometry(x.shape, f.shape, y.shape, 2, 1, (3, 2), "NWC", 1)
    assert g.pad_before == 3
    np.testing.assert_allclose(y, reference.conv1d_transpose(x, f, g), rtol=1e-12, atol=1e-12)


def test_an_unknown_set_is_an_error_at_import():
    out = _run("import conv1dt", "avx3")
    assert out.returncode != 0
    assert "CONV1DT_CPU is 'avx3'" in out.stderr and "baseline, avx2 or avx512" in out.stderr


def test_show_config_reports_the_set():
    buf = io.StringIO()
    info = conv1dt.show_config(file=buf)
    assert info["cpu_isa"] == _cpu.cpu_isa()
    assert info["cpu_isa_detected"] == _cpu.cpu_isa_detected()
    assert "cpu_isa" in buf.getvalue()
