"""conv1d_transpose against TensorFlow's recorded answers, without TensorFlow.

``tests/data/tf_golden.npz`` is written by ``tools/make_golden.py`` (which documents the format)
from ``tf.nn.conv1d_transpose``. Every recorded call is replayed here, one test id per case:

* ``expect == "ok"``: our result has TF's shape and dtype, and elementwise
  ``|ours - tf| <= 2 * n * eps(dtype) * B``, where ``B`` is the exact-in-float64 sum of the
  magnitudes of the products ``|x| * |f|`` that make up the element (``conv1dt.reference`` on
  ``|x|`` and ``|f|``, the plain NumPy definition, not the compiled kernel under test) and ``n``
  is the number of products summed into one output: ``taps * Cin``, where ``taps`` is the most
  taps that reach one output, ``ceil(K / (s / gcd(s, d)))`` (``ceil(K/s)`` when ``d = 1``; with
  ``s = d = 2`` every tap lands on the same outputs).

  Why: a sum of ``n`` products computed in any order, with or without FMA, satisfies
  ``|fl(sum) - sum| <= gamma_n * B`` with ``gamma_n = n*u / (1 - n*u)``, ``u = eps/2`` (Higham,
  *Accuracy and Stability of Numerical Algorithms*, 2nd ed., eq. 3.5). Both we and TF obey it, so
  ``|ours - tf| <= 2 * gamma_n * B ~= n * eps * B``; the factor 2 over that covers ``gamma_n``'s
  denominator and the rounding of ``B`` itself, with room to spare. Where ``B == 0`` no product
  reaches the element and both must return exactly zero.
* ``expect == "refuse"``: conv1dt raises ValueError or TypeError (whatever TF raised) and the
  message names an argument (one of the case's ``expect_names``). Dtype problems are TypeErrors.
* ``difference`` labels in ``info["deliberate"]`` are checked as conv1dt documents them; labels in
  ``info["open"]`` (TF accepts what conv1dt refuses, or the reverse, and nobody has ruled yet) are
  xfail(strict=True): they expect TF's behaviour, and XPASS turns into a failure when conv1dt
  changes, so the golden file gets regenerated with the decision.

A summary (cases, float64 cases equal to TF bit for bit, worst error relative to the bound,
typical float32 relative error) is printed at the end of the run.
"""
import math
import pathlib

import numpy as np
import pytest

import conv1dt
from conv1dt import reference
from conv1dt._geometry import transpose_geometry
from conftest import load_golden

GOLDEN = pathlib.Path(__file__).parent / "data" / "tf_golden.npz"
ARG_NAMES = ("input", "filters", "output_shape", "strides", "dilations", "padding", "data_format")
DTYPE_REASONS = ("int-dtype", "mixed-dtype")


INFO, METAS, ARRAYS = load_golden(GOLDEN)   # read once, at import


# --- replaying a call (mirrors tools/make_golden.py's enc/dec) ----------------------------------

def _dec(e):
    form, v = e["form"], e["value"]
    if form in ("int", "float", "bool", "str", "none"):
        return v
    if form == "list":
        return list(v)
    if form == "tuple":
        return tuple(v)
    if form == "ndarray":
        return np.array(v, dtype=e["dtype"])
    if form == "npint":
        return np.dtype(e["dtype"]).type(v)
    raise ValueError(f"unknown argument form {form!r} in the golden file")


def _call(case):
    x = ARRAYS[case["id"] + "_input"]
    f = ARRAYS[case["id"] + "_filters"]
    a = case["args"]
    args = (x, f, _dec(a["output_shape"]), _dec(a["strides"]))
    kwargs = {k: _dec(a[k]) for k in ("padding", "data_format", "dilations", "name") if k in a}
    return x, f, args, kwargs


# --- the error bound ---------------------------------------------------------------------------

def taps_per_output(k, s, d):
    """Most taps ``k`` with ``k*d = const (mod s)``: the taps that reach one output."""
    period = s // math.gcd(s, d)
    return -(-k // period)


def error_bound(case, x, f):
    """``2 * n * eps * B`` elementwise (see the module docstring), in ``case``'s layout."""
    g = case["geometry"]
    fmt = g["data_format"]
    shape = [g["N"], g["wout"], g["Cout"]] if fmt == "NWC" else [g["N"], g["Cout"], g["wout"]]
    geom = transpose_geometry(x.shape, f.shape, shape, g["stride"], g["dilation"], g["padding"], fmt)
    xa = np.abs(x.astype(np.float64))
    xa = xa if fmt == "NWC" else xa.transpose(0, 2, 1)
    b = reference.conv1d_transpose(np.ascontiguousarray(xa), np.abs(f.astype(np.float64)), geom)
    b = b if fmt == "NWC" else b.transpose(0, 2, 1)
    n = taps_per_output(g["K"], g["stride"], g["dilation"]) * g["Cin"]
    eps = np.finfo(x.dtype).eps if x.dtype.kind == "f" else 0.0
    return 2 * n * eps * b


# --- parametrisation and the summary -----------------------------------------------------------

def _case_id(m):
    g = m["geometry"]
    tail = f"-{g['padding']}-{g['data_format']}-{m['dtype']}" if m["kind"] == "valid" else ""
    return f"{m['id']}-{m['reason']}{tail}"


def _param(m):
    marks = []
    if m["difference"] is not None and m["difference"] not in INFO["deliberate"]:
        why = INFO["open"].get(m["difference"], "unlabelled disagreement with TF")
        marks.append(pytest.mark.xfail(strict=True, reason=f"open: {m['difference']}: {why}"))
    return pytest.param(m, id=_case_id(m), marks=marks)


class _Summary:
    """Collects per-case numbers; prints them in pytest's terminal summary."""

    def __init__(self):
        self.ok = self.refused = 0
        self.f64 = {"direct": [0, 0], "route": [0, 0]}  # [bit-identical, total]
        self.worst = (0.0, "")                           # (error / bound, case id)
        self.f32_rel = []

    def pytest_terminal_summary(self, terminalreporter):
        tr = terminalreporter
        tr.write_sep("-", f"TF golden data (TF {INFO['tf_version']}, {len(METAS)} cases)")
        tr.write_line(f"accepted and matched: {self.ok}; refused as expected: {self.refused}")
        for route, (same, total) in self.f64.items():
            what = "direct TF calls" if route == "direct" else "TF's equivalent NWC/undilated call"
            tr.write_line(f"float64 bit-identical to TF: {same} of {total} ({what})")
        tr.write_line(f"worst |ours - tf| / bound: {self.worst[0]:.3g} ({self.worst[1] or '-'})")
        if self.f32_rel:
            rel = np.array(self.f32_rel)
            tr.write_line(f"float32 max|ours - tf| / max|tf| per case: median {np.median(rel):.2e}, "
                          f"max {rel.max():.2e} over {rel.size} cases")


@pytest.fixture(scope="module")
def summary(request):
    s = _Summary()
    request.config.pluginmanager.register(s, "conv1dt-golden-summary")
    yield s


def test_golden_file_describes_itself():
    assert INFO is not None, f"{GOLDEN} missing: run tools/make_golden.py"
    assert INFO["format"] == 1 and INFO["tf_version"] and len(METAS) == INFO["n_cases"]
    assert sum(m["kind"] == "valid" for m in METAS) >= 250
    assert sum(m["kind"] == "invalid" for m in METAS) >= 80


@pytest.mark.parametrize("case", [_param(m) for m in METAS])
def test_golden(case, summary):
    x, f, args, kwargs = _call(case)
    if case["expect"] == "refuse":
        with pytest.raises((ValueError, TypeError)) as err:
            conv1dt.conv1d_transpose(*args, **kwargs)
        names = case.get("expect_names") or ARG_NAMES
        assert any(n in str(err.value) for n in names), (
            f"message names none of {names}: {err.value}")
        if case["reason"] in DTYPE_REASONS:
            assert err.type is TypeError
        summary.refused += 1
        return

    y = conv1dt.conv1d_transpose(*args, **kwargs)
    if case["id"] + "_tf" not in ARRAYS:
        # TF refused an argument form conv1dt accepts on purpose (a 0-d integer array for strides
        # or dilations): the form must not change the result of the plain-int call.
        plain = {k: (int(v) if isinstance(v, np.ndarray) and v.ndim == 0 else v) for k, v in kwargs.items()}
        plain_args = [int(v) if isinstance(v, np.ndarray) and v.ndim == 0 else v for v in args]
        np.testing.assert_array_equal(y, conv1dt.conv1d_transpose(*plain_args, **plain))
        assert case["difference"] in INFO["deliberate"]
        summary.ok += 1
        return
    want = ARRAYS[case["id"] + "_tf"]
    assert y.shape == want.shape and y.dtype == want.dtype, (
        f"got {y.shape} {y.dtype}, TF gave {want.shape} {want.dtype}")
    assert np.isfinite(y).all()
    err = np.abs(y.astype(np.float64) - want.astype(np.float64))
    tol = error_bound(case, x, f)
    bad = err > tol
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        pytest.fail(f"{bad.sum()} of {y.size} elements beyond the bound; first at {idx}: "
                    f"ours {y[idx]!r}, TF {want[idx]!r}, bound {tol[idx]:.3g}")
    summary.ok += 1
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(tol > 0, err / tol, 0.0)
    if ratio.size and ratio.max() > summary.worst[0]:
        summary.worst = (float(ratio.max()), case["id"])
    if y.dtype == np.float64:
        slot = summary.f64["direct" if case["tf_route"] == "direct" else "route"]
        slot[0] += bool(np.array_equal(y, want))
        slot[1] += 1
    elif y.dtype == np.float32 and y.size and np.abs(want).max() > 0:
        summary.f32_rel.append(float(err.max() / np.abs(want.astype(np.float64)).max()))
