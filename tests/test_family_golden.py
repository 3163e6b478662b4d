"""conv1d, conv1d_backprop_filter and conv1d_transpose (groups, explicit padding, complex, float16)
against TensorFlow's and PyTorch's recorded answers, without either.

``tests/data/family_golden.npz`` is written by ``tools/make_golden_family.py`` (which documents the
format and how each peer computed each case). Every recorded call is replayed, one test id per case:

* ``expect == "ok"``: our result has the peer's shape and dtype, and elementwise
  ``|ours - peer| <= 2 * n * eps * B`` with ``B`` the exact-in-float64 sum of the magnitudes of the
  products that make up the element (``conv1dt.reference`` on ``|a|`` and ``|b|``, not the kernel
  under test) and ``n`` the number of products summed into one element: ``K * Cin/groups`` for
  conv1d, the taps that reach an output times ``Cin/groups`` for the transpose, ``N * M`` for the
  filter gradient. As in tests/test_golden.py: both sides obey ``gamma_n * B`` (Higham, eq. 3.5),
  so they differ by at most about ``n * eps * B``; the factor 2 covers ``gamma_n``'s denominator.
  Complex: each part is ``2n`` real products and one more addition, so ``n`` becomes ``2n + 2``,
  and PyTorch may use Gauss's three-product trick, whose bound is ``(|a_r| + |a_i|)(|b_r| + |b_i|)
  <= 2 |a||b|`` per product: another factor 2. float16: ``eps`` is float16's (the peers may sum in
  float16; conv1dt sums in float32 and rounds once).
* ``expect == "refuse"``: conv1dt raises ValueError or TypeError naming one of ``expect_names``.
* ``difference`` labels (``info["deliberate"]``) mark where conv1dt departs from the peer on purpose:
  there the peer's result is not compared, conv1dt's documented behaviour is.
"""
import math
import pathlib

import numpy as np
import pytest

import conv1dt
from conv1dt import reference
from conv1dt._geometry import conv1d_geometry, transpose_geometry
from conv1dt._args import parse_padding
from conftest import load_golden

GOLDEN = pathlib.Path(__file__).parent / "data" / "family_golden.npz"


INFO, METAS, ARRAYS = load_golden(GOLDEN)   # read once, at import


def run(meta):
    """conv1dt's call for ``meta``, on the recorded arrays."""
    a, b, c = ARRAYS[meta["id"] + "_a"], ARRAYS[meta["id"] + "_b"], meta["call"]
    common = dict(padding=c["padding"], data_format=c["data_format"], dilations=c["dilations"],
                  groups=c["groups"])
    if meta["op"] == "conv1d":
        return conv1dt.conv1d(a, b, c["stride"], **common)
    if meta["op"] == "conv1d_transpose":
        return conv1dt.conv1d_transpose(a, b, c["output_shape"], c["stride"], **common)
    return conv1dt.conv1d_backprop_filter(a, c["filter_shape"], b, c["stride"], **common)


def geometry(meta):
    a, b, c = ARRAYS[meta["id"] + "_a"], ARRAYS[meta["id"] + "_b"], meta["call"]
    fmt = c["data_format"]
    padding = parse_padding(c["padding"], fmt)
    args = (c["stride"], c["dilations"], padding, fmt, c["groups"])
    if meta["op"] == "conv1d":
        return conv1d_geometry(a.shape, b.shape, *args)
    if meta["op"] == "conv1d_transpose":
        return transpose_geometry(a.shape, b.shape, c["output_shape"], *args)
    return conv1d_geometry(a.shape, c["filter_shape"], *args)


def products_per_element(meta, g):
    if meta["op"] == "conv1d":
        return g.taps * (g.wide_channels // g.groups)
    if meta["op"] == "conv1d_transpose":
        period = g.stride // math.gcd(g.stride, g.dilation)
        return -(-g.taps // period) * (g.narrow_channels // g.groups)
    return g.batch * g.narrow


def error_bound(meta):
    """``2 * n * eps * B`` elementwise (see the module docstring), in the call's layout."""
    a, b = ARRAYS[meta["id"] + "_a"], ARRAYS[meta["id"] + "_b"]
    g = geometry(meta)
    ncw = meta["call"]["data_format"] == "NCW"
    nwc = (lambda v: np.ascontiguousarray(v.transpose(0, 2, 1))) if ncw else (lambda v: v)
    aa, bb = np.abs(a).astype(np.float64), np.abs(b).astype(np.float64)
    if meta["op"] == "conv1d":
        bound = nwc(reference.conv1d(nwc(aa), bb, g))
    elif meta["op"] == "conv1d_transpose":
        bound = nwc(reference.conv1d_transpose(nwc(aa), bb, g))
    else:
        bound = reference.conv1d_backprop_filter(nwc(aa), nwc(bb), g)
    n = products_per_element(meta, g)
    factor = 1
    if a.dtype.kind == "c":
        n, factor = 2 * n + 2, 2
    eps = np.finfo(a.dtype).eps
    return 2 * n * eps * factor * bound


def test_golden_file_describes_itself():
    assert INFO is not None, f"{GOLDEN} missing: run tools/make_golden_family.py"
    assert INFO["format"] == 1 and INFO["tf_version"] and INFO["torch_version"]
    assert len(METAS) == INFO["n_cases"]
    valid = [m for m in METAS if m["kind"] == "valid"]
    assert len(valid) >= 450
    for op in ("conv1d", "conv1d_transpose", "conv1d_backprop_filter"):
        for source in ("tf", "torch"):
            assert sum(m["op"] == op and m["source"] == source for m in valid) >= 50, (op, source)
    covered = {(m["dtype"], m["call"]["groups"] > 1, isinstance(m["call"]["padding"], list)) for m in valid}
    for dtype in ("float16", "float32", "float64", "complex64", "complex128"):
        assert any(c[0] == dtype for c in covered), dtype
    assert any(c[1] and c[2] for c in covered)   # groups with explicit padding
    assert sum(m["expect"] == "refuse" for m in METAS) >= 8


@pytest.mark.parametrize("meta", METAS, ids=[f"{m['id']}-{m['op']}-{m['source']}-{m['reason']}-{m['dtype']}"
                                           for m in METAS])
def test_golden(meta):
    if meta["difference"] is not None:
        assert meta["difference"] in INFO["deliberate"]
    if meta["expect"] == "refuse":
        with pytest.raises((ValueError, TypeError)) as err:
            run(meta)
        assert any(name in str(err.value) for name in meta["expect_names"]), str(err.value)
        return
    y = run(meta)
    a = ARRAYS[meta["id"] + "_a"]
    if meta["difference"] is not None:
        # the peer's shape is wrong on purpose-documented grounds: ours is conv1d's width
        g = geometry(meta)
        assert y.shape == (g.batch, g.narrow, g.narrow_channels) and y.dtype == a.dtype
        return
    want = ARRAYS[meta["id"] + "_want"]
    assert y.shape == want.shape and y.dtype == want.dtype, (y.shape, y.dtype, want.shape, want.dtype)
    assert np.isfinite(y).all()
    err = np.abs(y.astype(np.complex128) - want.astype(np.complex128))
    tol = error_bound(meta)
    bad = err > tol
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        pytest.fail(f"{bad.sum()} of {y.size} elements beyond the bound ({meta['route']}); first at "
                    f"{idx}: ours {y[idx]!r}, peer {want[idx]!r}, bound {tol[idx]:.3g}")
