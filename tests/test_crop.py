"""Calls whose taps or samples have no link run on the part that has them (``_bounds.crop``).

A tap that reaches no wide sample for any output, or a narrow sample that no tap links to the
wide signal, adds no term to the definition. When such taps and samples leave at least a quarter
of ``narrow samples x taps`` idle, the plan runs its kernel on the reduced geometry and fills the
rest of the result with zeros. Each kernel the planner may pick for the reduced call is forced
here, in both layouts, with groups, into a fresh array and into ``out=``, and compared with
``conv1dt.reference`` on the whole call within the rounding bound of its sums.
"""
import numpy as np
import pytest

import conv1dt
from conv1dt import _bounds, _plan
from conv1dt._args import parse_padding
from conv1dt._geometry import conv1d_geometry
from conftest import assert_family_matches, family_oracle, random_array

KERNELS = {
    "transpose": [None, "direct", "col2im", "phase", "blas", "ola"]
    + (["tiled"] if _plan.TILED else []),
    "conv1d": [None, "direct", "im2col", "blas", "implicit", "dot"],
    "backprop_filter": [None, "direct", "im2col"],
}
OPS = {"transpose": "conv1d_transpose", "conv1d": "conv1d",
       "backprop_filter": "conv1d_backprop_filter"}


def _draw(rng):
    """A call of the family with idle taps or samples: long filters over short signals, large
    explicit padding, strides and dilations, groups."""
    while True:
        G = int(rng.choice([1, 1, 2, 3]))
        cw, cn = G * int(rng.integers(1, 4)), G * int(rng.integers(1, 4))
        n, w, k = int(rng.integers(1, 4)), int(rng.integers(1, 40)), int(rng.integers(1, 80))
        s, d = int(rng.integers(1, 6)), int(rng.integers(1, 6))
        fmt = str(rng.choice(["NWC", "NCW"]))
        padding = "SAME" if rng.integers(3) == 0 else (
            [int(rng.integers(0, 90)), int(rng.integers(0, 90))])
        args = padding if padding == "SAME" else (
            [[0, 0], padding, [0, 0]] if fmt == "NWC" else [[0, 0], [0, 0], padding])
        xs = (n, w, cw) if fmt == "NWC" else (n, cw, w)
        try:
            g = conv1d_geometry(xs, (k, cw // G, cn), s, d, parse_padding(args, fmt), fmt, G)
        except ValueError:
            continue
        if g.narrow > 0 and _bounds.crop(g, "conv1d") is not None:
            return g, fmt, args


def _call(op, a, b, g, fmt, args, out=None):
    s, d, G = g.stride, g.dilation, g.groups
    if op == "conv1d":
        return conv1dt.conv1d(a, b, s, args, fmt, d, groups=G, out=out)
    if op == "transpose":
        shape = (g.batch, g.wide, g.wide_channels) if fmt == "NWC" else (
            g.batch, g.wide_channels, g.wide)
        return conv1dt.conv1d_transpose(a, b, shape, s, args, fmt, d, groups=G, out=out)
    return conv1dt.conv1d_backprop_filter(a, (g.taps, g.wide_channels // g.groups,
                                              g.narrow_channels), b, s, args, fmt, d, groups=G,
                                          out=out)


def _operands(op, rng, g, fmt, dtype):
    def signal(width, channels):
        shape = (g.batch, width, channels) if fmt == "NWC" else (g.batch, channels, width)
        return random_array(rng, shape, dtype)
    f = random_array(rng, (g.taps, g.wide_channels // g.groups, g.narrow_channels), dtype)
    if op == "conv1d":
        return signal(g.wide, g.wide_channels), f
    if op == "transpose":
        return signal(g.narrow, g.narrow_channels), f
    return signal(g.wide, g.wide_channels), signal(g.narrow, g.narrow_channels)


def _terms(op, g):
    return {"conv1d": g.taps * g.wide_channels // g.groups, "transpose": g.taps * g.narrow_channels,
            "backprop_filter": g.batch * g.narrow}[op]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", sorted(KERNELS))
@pytest.mark.parametrize("seed", range(12))
def test_cropped_calls_match_the_reference(seed, op, dtype, monkeypatch):
    rng = np.random.default_rng([seed, len(op)])
    g, fmt, args = _draw(rng)
    a, b = _operands(op, rng, g, fmt, dtype)
    a0, b0 = a.copy(), b.copy()
    want, bound = family_oracle(op, a, b, g, fmt)
    choose = _plan.choose
    for kernel in KERNELS[op]:
        if kernel is not None:
            if op == "transpose" and g.groups > 1 and kernel not in ("direct", "tiled"):
                continue       # the grouped transpose's kernels are direct, tiled and copies
            monkeypatch.setattr(_plan, "choose", lambda *_, k=kernel: k)
        _plan.clear_cache()
        y = _call(op, a, b, g, fmt, args)
        assert_family_matches(y, want, bound, _terms(op, g), f"{g} {fmt} {kernel}")
        out = np.full(y.shape, np.nan, dtype)
        assert _call(op, a, b, g, fmt, args, out=out) is out
        np.testing.assert_array_equal(out, y)
        monkeypatch.setattr(_plan, "choose", choose)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)
    _plan.clear_cache()


def test_the_plan_says_it_is_cropped():
    # 64 samples, SAME, under a 200-tap filter: output i reads taps 99-i .. 162-i, so taps
    # 0..35 and 163..199 reach no sample of any output
    x = np.ones((1, 64, 3))
    f = np.ones((200, 3, 2))
    p = conv1dt.plan("conv1d", x, f, stride=1, padding="SAME")
    assert "crop=samples 0:64, taps 36:163" in repr(p), repr(p)
    want, bound = family_oracle("conv1d", x, f, p.geometry)
    assert_family_matches(p(x, f), want, bound, 200 * 3)


def test_a_call_whose_links_fill_it_is_not_cropped():
    g = conv1d_geometry((2, 100, 3), (5, 3, 4), 2, 1, parse_padding("SAME", "NWC"), "NWC")
    assert _bounds.crop(g, "conv1d") is None
    assert "crop" not in repr(conv1dt.plan("conv1d", np.ones((2, 100, 3)), np.ones((5, 3, 4)),
                                           stride=2, padding="SAME"))


@pytest.mark.parametrize("op", sorted(KERNELS))
def test_idle_taps_add_no_term_even_when_infinite(op):
    """An idle tap multiplies no sample in the definition: an infinity or a NaN there leaves
    the result finite (a kernel that multiplied the zeros past the signal would give NaN)."""
    rng = np.random.default_rng(3)
    args = [[0, 0], [30, 30], [0, 0]]     # output i reads taps 30-i .. 39-i: 20 of 60
    g = conv1d_geometry((8, 10, 8), (60, 8, 8), 1, 1, parse_padding(args, "NWC"), "NWC")
    box = _bounds.link_box(g)
    assert box[2:] == (20, 40) and _bounds.crop(g, op) is not None   # large enough to crop
    a, b = _operands(op, rng, g, "NWC", np.float64)
    if op != "backprop_filter":
        b[box[3]:] = np.inf
        b[:box[2]] = -np.inf
        b[-1] = np.nan
    want, _ = family_oracle(op, a, b if op == "backprop_filter" else np.where(
        np.isfinite(b), b, 0), g)
    _plan.clear_cache()
    y = _call(op, a, b, g, "NWC", args)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("kernel", [None, "direct", "im2col", "blas", "implicit", "dot"])
def test_far_reaching_conv1d_by_each_kernel(kernel, data_format, monkeypatch):
    """A conv1d whose taps reach far past its signal (``(K-1)*d`` beyond ``4*(L + 256)``) runs
    on its cropped geometry by the kernel the planner names for it (im2col's and the implicit
    kernel's scratch is a block of columns, whatever the reach; the others through the BLAS or
    the direct gather): each, forced, against the reference, groups included."""
    rng = np.random.default_rng(5)
    for (n, w, cw, cn, k, s, d, G) in [(2, 30, 6, 12, 325, 2, 7, 3), (1, 21, 2, 4, 400, 1, 9, 1)]:
        xs = (n, w, cw) if data_format == "NWC" else (n, cw, w)
        g = conv1d_geometry(xs, (k, cw // G, cn), s, d, parse_padding("SAME", data_format),
                            data_format, G)
        assert _bounds.takeover(g, "conv1d", data_format) is not None
        x = random_array(rng, xs, np.float64)
        f = random_array(rng, (k, cw // G, cn), np.float64)
        want, bound = family_oracle("conv1d", x, f, g, data_format)
        choose = _plan.choose
        if kernel is not None:
            monkeypatch.setattr(_plan, "choose", lambda *_, k=kernel: k)
        _plan.clear_cache()
        y = conv1dt.conv1d(x, f, s, "SAME", data_format, d, groups=G)
        assert_family_matches(y, want, bound, k * cw // G, f"{g} {kernel}")
        monkeypatch.setattr(_plan, "choose", choose)
    _plan.clear_cache()
