"""The GEMM kernels (conv1dt/_gemm.pyx) against the reference, forced, over random geometries.

Every block size the planner could pass is drawn at random (one row, one tap, a partial last
block), in both layouts, with groups, strides, dilations and padding on either side, and the
result must match ``conv1dt.reference`` within the floating-point bound of its sum
(``conftest.assert_family_matches``) and be the same, to the bit, on 1 and 3 threads.
"""
import numpy as np
import pytest

from conftest import assert_family_matches, family_oracle, random_array
from conv1dt._compiled import _gemm
from conv1dt._runtime.blas_threads import single_threaded_blas
from conv1dt._geometry import Geometry


def _draw(rng, groups_ok=True):
    """A random geometry with small sizes and everything that varies drawn."""
    G = int(rng.choice([1, 1, 2, 3])) if groups_ok else 1
    cw, cn = G * int(rng.integers(1, 5)), G * int(rng.integers(1, 5))
    K, s, d = int(rng.integers(1, 7)), int(rng.integers(1, 6)), int(rng.integers(1, 4))
    keff = (K - 1) * d + 1
    M = int(rng.integers(1, 12))
    lo = int(rng.integers(0, keff + s + 2))
    # any wide width whose link equation reaches the narrow rows
    L = max(0, (M - 1) * s + keff - lo - int(rng.integers(0, keff + s)))
    return Geometry(int(rng.integers(1, 4)), L, M, cw, cn, K, s, d, lo, G)


def _layout(a, ncw):
    return np.ascontiguousarray(a.transpose(0, 2, 1)) if ncw else a


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(40))
def test_conv1d_im2col(seed, dtype):
    rng = np.random.default_rng(seed)
    g = _draw(rng)
    ncw = bool(rng.integers(2))
    x = random_array(rng, (g.batch, g.wide, g.wide_channels), dtype)
    f = random_array(rng, (g.taps, g.wide_channels // g.groups, g.narrow_channels), dtype)
    want, bound = family_oracle("conv1d", x, f, g)
    rows, taps = int(rng.integers(1, 9)), int(rng.integers(1, g.taps + 2))
    outs = []
    for threads in (1, 3):
        z = np.full((g.batch, g.narrow, g.narrow_channels), np.nan, dtype)
        z = _layout(z, ncw)
        with single_threaded_blas():
            _gemm.conv1d_im2col(_layout(x, ncw), f, z, ncw, g.stride, g.dilation, g.pad_before,
                                g.groups, rows, taps, threads)
        outs.append(_layout(z, ncw))
    assert_family_matches(outs[0], want, bound, g.taps * g.wide_channels // g.groups, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(40))
def test_backprop_filter_im2col(seed, dtype):
    rng = np.random.default_rng(seed)
    g = _draw(rng)
    ncw = bool(rng.integers(2))
    x = random_array(rng, (g.batch, g.wide, g.wide_channels), dtype)
    dy = random_array(rng, (g.batch, g.narrow, g.narrow_channels), dtype)
    want, bound = family_oracle("backprop_filter", x, dy, g)
    rows, taps = int(rng.integers(1, 9)), int(rng.integers(1, g.taps + 2))
    chunks = int(rng.integers(1, 6))
    round_rows = int(rng.integers(0, 4))   # several rounds of rows per chunk, or one (0)
    outs = []
    for threads in (1, 3):
        part = np.full((chunks, g.taps, g.wide_channels // g.groups, g.narrow_channels), np.nan,
                       dtype)
        with single_threaded_blas():
            _gemm.backprop_filter_im2col(_layout(x, ncw), _layout(dy, ncw), part, ncw, g.stride,
                                         g.dilation, g.pad_before, g.groups, rows, taps, threads,
                                         round_rows)
        outs.append(np.add.reduce(part, axis=0))
    assert_family_matches(outs[0], want, bound, g.batch * g.narrow + chunks, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(40))
def test_transpose_ola(seed, dtype):
    rng = np.random.default_rng(seed)
    g = _draw(rng, groups_ok=False)
    ncw = bool(rng.integers(2))
    x = random_array(rng, (g.batch, g.narrow, g.narrow_channels), dtype)
    f = random_array(rng, (g.taps, g.wide_channels, g.narrow_channels), dtype)
    want, bound = family_oracle("transpose", x, f, g)
    width, taps = int(rng.integers(1, 20)), int(rng.integers(1, g.taps + 2))
    outs = []
    for threads in (1, 3):
        y = _layout(np.full((g.batch, g.wide, g.wide_channels), np.nan, dtype), ncw)
        with single_threaded_blas():
            _gemm.transpose_ola(_layout(x, ncw), f, y, ncw, g.stride, g.dilation, g.pad_before,
                                width, taps, threads)
        outs.append(_layout(y, ncw))
    assert_family_matches(outs[0], want, bound, g.taps * g.narrow_channels, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("op", ["conv1d", "transpose"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(30))
def test_depthwise(seed, dtype, op):
    rng = np.random.default_rng(seed)
    g = _draw(rng, groups_ok=False)
    C = int(rng.integers(2, 20))
    g = g._replace(wide_channels=C, narrow_channels=C, groups=C)
    ncw = bool(rng.integers(2))
    f = random_array(rng, (g.taps, 1, C), dtype)
    if op == "conv1d":
        x = random_array(rng, (g.batch, g.wide, C), dtype)
        out_shape = (g.batch, g.narrow, C)
    else:
        x = random_array(rng, (g.batch, g.narrow, C), dtype)
        out_shape = (g.batch, g.wide, C)
    want, bound = family_oracle(op, x, f, g)
    rows = int(rng.integers(1, 9))
    outs = []
    for threads in (1, 3):
        y = _layout(np.full(out_shape, np.nan, dtype), ncw)
        _gemm.depthwise(_layout(x, ncw), f, y, ncw, op == "transpose", g.stride, g.dilation,
                        g.pad_before, rows, threads)
        outs.append(_layout(y, ncw))
    assert_family_matches(outs[0], want, bound, g.taps, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])
