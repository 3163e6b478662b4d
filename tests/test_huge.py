"""Huge integers: strides, dilations, padding, widths and filter shapes up to 2**64.

The oracle is the definition evaluated in Python's unbounded integers: every link
``o = i*s + k*d - p`` of tiny arrays of small integers (so every float64 sum is exact, and the
comparison is equality). Its padding arithmetic is written out here, from TensorFlow's formulas,
sharing nothing with conv1dt's. Every call either equals the oracle or raises a MemoryError /
ValueError naming the argument; none crashes (the segfaulting reproducers run in subprocesses).
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import conv1dt
from conv1dt import _bounds
from conv1dt._geometry import Geometry

HUGE = [2**j + e for j in (26, 31, 32, 40, 61, 62, 63, 64) for e in (-1, 0, 1, 5)]
SIZES = st.one_of(st.integers(1, 5), st.sampled_from(HUGE), st.integers(1, 2**64 + 7))


# --- the oracle: Python integers, the links one by one ----------------------------------------

def links(m, k, wide, s, d, p):
    for i in range(m):
        for t in range(k):
            o = i * s + t * d - p
            if 0 <= o < wide:
                yield i, t, o


def same_pad(wide, m, k, s, d):
    return max((m - 1) * s + (k - 1) * d + 1 - wide, 0) // 2


def oracle_transpose(x, f, wide, s, d, p, groups):
    """x [N, M, Cn], f [K, Cw/G, Cn] -> [N, L, Cw] (NWC)."""
    n, m, cn = x.shape
    k, cwg, _ = f.shape
    cng = cn // groups
    y = np.zeros((n, wide, cwg * groups))
    for i, t, o in links(m, k, wide, s, d, p):
        for j in range(groups):
            for q in range(cwg):
                for c in range(cng):
                    y[:, o, j * cwg + q] += x[:, i, j * cng + c] * f[t, q, j * cng + c]
    return y


def oracle_conv1d(w, f, m, s, d, p, groups):
    """w [N, L, Cw], f [K, Cw/G, Cn] -> [N, M, Cn]."""
    n, wide, cw = w.shape
    k, cwg, cn = f.shape
    cng = cn // groups
    z = np.zeros((n, m, cn))
    for i, t, o in links(m, k, wide, s, d, p):
        for j in range(groups):
            for q in range(cwg):
                for c in range(cng):
                    z[:, i, j * cng + c] += w[:, o, j * cwg + q] * f[t, q, j * cng + c]
    return z


def oracle_filter(w, dz, k, s, d, p, groups):
    """w [N, L, Cw], dz [N, M, Cn] -> [K, Cw/G, Cn]."""
    n, wide, cw = w.shape
    _, m, cn = dz.shape
    cwg, cng = cw // groups, cn // groups
    df = np.zeros((k, cwg, cn))
    for i, t, o in links(m, k, wide, s, d, p):
        for j in range(groups):
            for q in range(cwg):
                for c in range(cng):
                    df[t, q, j * cng + c] += (w[:, o, j * cwg + q] * dz[:, i, j * cng + c]).sum()
    return df


def ints(rng, shape):
    return rng.integers(-3, 4, shape).astype(np.float64)


def to_layout(a, ncw):
    return np.ascontiguousarray(a.transpose(0, 2, 1)) if ncw else a


def pad_arg(padding, ncw):
    if isinstance(padding, str):
        return padding
    return [[0, 0], [0, 0], list(padding)] if ncw else [[0, 0], list(padding), [0, 0]]


# --- conv1d_transpose ------------------------------------------------------------------------

@st.composite
def transpose_calls(draw):
    n, m, k = draw(st.integers(1, 2)), draw(st.integers(0, 3)), draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout_g = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    s, d = draw(SIZES), draw(SIZES)
    keff = (k - 1) * d + 1
    kind = draw(st.sampled_from(["SAME", "VALID", "explicit", "explicit"]))
    full = (m - 1) * s + keff
    if kind == "SAME" and m * s <= 12:
        wide = draw(st.integers(max((m - 1) * s + 1, 0), m * s))
        padding, p = "SAME", same_pad(wide, m, k, s, d)
    elif kind == "VALID" and full <= 12 and m * s + keff - 1 >= max(full, 0):
        wide = draw(st.integers(max(full, 0), min(max(full, 0) + 3, m * s + keff - 1)))
        padding, p = "VALID", 0
    else:   # explicit (lo, hi): the full result cropped to a few samples
        wide = draw(st.integers(0, 8))
        assume(full >= wide)
        lo = draw(st.one_of(st.integers(0, min(full - wide, 6)), st.integers(0, full - wide)))
        hi = full - lo - wide + draw(st.integers(0, min(s - 1, 3)))
        padding, p = (lo, hi), lo
    ncw = draw(st.booleans())
    return dict(n=n, m=m, k=k, groups=groups, cin=cin, cout=cout_g * groups, s=s, d=d,
                wide=wide, padding=padding, p=p, ncw=ncw, seed=draw(st.integers(0, 2**32 - 1)),
                dtype=draw(st.sampled_from(["float32", "float64", "complex128"])))


def run_transpose(c):
    rng = np.random.default_rng(c["seed"])
    x = ints(rng, (c["n"], c["m"], c["cin"]))
    f = ints(rng, (c["k"], c["cout"] // c["groups"], c["cin"]))
    want = oracle_transpose(x, f, c["wide"], c["s"], c["d"], c["p"], c["groups"])
    ncw = c["ncw"]
    shape = [c["n"], c["cout"], c["wide"]] if ncw else [c["n"], c["wide"], c["cout"]]
    dtype = np.dtype(c["dtype"])
    xa = to_layout(x, ncw).astype(dtype)
    if dtype.kind == "c":
        xa = xa + 1j * xa[::-1] if xa.size else xa
        want = to_layout(want, ncw) + 1j * to_layout(
            oracle_transpose(x[::-1], f, c["wide"], c["s"], c["d"], c["p"], c["groups"]), ncw)
        want = np.moveaxis(want, 0, 0)
    else:
        want = to_layout(want, ncw)
    y = conv1dt.conv1d_transpose(xa, f.astype(dtype), shape, c["s"], pad_arg(c["padding"], ncw),
                                 "NCW" if ncw else "NWC", c["d"], groups=c["groups"])
    np.testing.assert_array_equal(y, want.astype(dtype), err_msg=str(c))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.filter_too_much])
@given(transpose_calls())
def test_transpose_with_huge_numbers_equals_the_big_int_oracle(c):
    run_transpose(c)


# --- conv1d and conv1d_backprop_filter ---------------------------------------------------------

@st.composite
def forward_calls(draw):
    n, wide, k = draw(st.integers(1, 2)), draw(st.integers(0, 6)), draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2]))
    cw, cn = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    s, d = draw(SIZES), draw(SIZES)
    keff = (k - 1) * d + 1
    kind = draw(st.sampled_from(["SAME", "VALID", "explicit", "explicit"]))
    if kind == "SAME":
        m = -(-wide // s)
        padding, p = "SAME", same_pad(wide, m, k, s, d)
    else:
        lo, hi = (0, 0) if kind == "VALID" else (draw(SIZES) - 1, draw(SIZES) - 1)
        if wide + lo + hi - keff + s < 0:      # a negative output width: refused
            padding, p, m = (lo, hi) if kind != "VALID" else "VALID", lo, None
        else:
            m = max((wide + lo + hi - keff) // s + 1, 0)
            padding, p = ((lo, hi) if kind != "VALID" else "VALID"), lo
    assume(m is None or m <= 6)
    return dict(n=n, wide=wide, k=k, groups=groups, cw=cw, cn=cn, s=s, d=d, m=m,
                padding=padding, p=p, ncw=draw(st.booleans()), seed=draw(st.integers(0, 2**32 - 1)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.filter_too_much])
@given(forward_calls())
def test_conv1d_and_filter_gradient_with_huge_numbers_equal_the_big_int_oracle(c):
    rng = np.random.default_rng(c["seed"])
    w = ints(rng, (c["n"], c["wide"], c["cw"]))
    f = ints(rng, (c["k"], c["cw"] // c["groups"], c["cn"]))
    ncw, fmt = c["ncw"], "NCW" if c["ncw"] else "NWC"
    padding = pad_arg(c["padding"], ncw)
    if c["m"] is None:
        with pytest.raises(ValueError, match="input.shape"):
            conv1dt.conv1d(to_layout(w, ncw), f, c["s"], padding, fmt, c["d"], groups=c["groups"])
        return
    z = conv1dt.conv1d(to_layout(w, ncw), f, c["s"], padding, fmt, c["d"], groups=c["groups"])
    want = oracle_conv1d(w, f, c["m"], c["s"], c["d"], c["p"], c["groups"])
    np.testing.assert_array_equal(z, to_layout(want, ncw), err_msg=str(c))
    dz = ints(rng, want.shape)
    df = conv1dt.conv1d_backprop_filter(to_layout(w, ncw), f.shape, to_layout(dz, ncw), c["s"],
                                        padding, fmt, c["d"], groups=c["groups"])
    np.testing.assert_array_equal(df, oracle_filter(w, dz, c["k"], c["s"], c["d"], c["p"],
                                                    c["groups"]), err_msg=str(c))


@pytest.mark.parametrize("k", [2**60, 2**61, 2**63, 2**64])
def test_a_filter_shape_beyond_any_memory_is_a_memory_error_naming_it(k):
    w = np.ones((1, 4, 1))
    dz = np.ones((1, 5, 1))     # (4 + k - k) // 1 + 1 windows
    with pytest.raises(MemoryError, match=r"float64.*filter_shape \[\d+, 1, 1\]"):
        conv1dt.conv1d_backprop_filter(w, [k, 1, 1], dz, 1, [[0, 0], [k, 0], [0, 0]])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.one_of(st.integers(1, 4), st.integers(2**57, 2**64 + 7)), s=SIZES, d=SIZES,
       wide=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_filter_shapes_up_to_2_to_the_64(k, s, d, wide, seed):
    """conv1d_backprop_filter's filter_shape is the one size no array carries: up to 2**64 taps
    it is computed (SAME padding) or refused with a MemoryError naming filter_shape."""
    rng = np.random.default_rng(seed)
    m = -(-wide // s)
    w, dz = ints(rng, (1, wide, 1)), ints(rng, (1, m, 1))
    if 8 * k >= 2**57:
        with pytest.raises(MemoryError, match=r"float64.*filter_shape \[\d+, 1, 1\]"):
            conv1dt.conv1d_backprop_filter(w, [k, 1, 1], dz, s, dilations=d)
        return
    df = conv1dt.conv1d_backprop_filter(w, [k, 1, 1], dz, s, dilations=d)
    np.testing.assert_array_equal(df, oracle_filter(w, dz, k, s, d, same_pad(wide, m, k, s, d), 1))


# --- the stream and Dask ------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=SIZES, d=SIZES, k=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_stream_with_huge_numbers_equals_the_big_int_oracle(s, d, k, seed):
    """One sample pushed, then flushed: the full (VALID) result of width Keff."""
    keff = (k - 1) * d + 1
    assume(keff <= 12)
    rng = np.random.default_rng(seed)
    x, f = ints(rng, (1, 1, 2)), ints(rng, (k, 2, 2))
    stream = conv1dt.Conv1DTransposeStream(f, strides=s, dilations=d)
    y = np.concatenate([stream.push(x), stream.flush()], axis=1)
    np.testing.assert_array_equal(y, oracle_transpose(x, f, keff, s, d, 0, 1))


def test_a_stream_gap_beyond_any_memory_is_a_memory_error_naming_strides():
    stream = conv1dt.Conv1DTransposeStream(np.ones((2, 1, 1)), strides=2**62)
    np.testing.assert_array_equal(stream.push(np.ones((1, 1, 1))), np.ones((1, 2, 1)))
    with pytest.raises(MemoryError, match=r"strides=4611686018427387904 \(s - Keff zeros"):
        stream.push(np.ones((1, 1, 1)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.filter_too_much])
@given(s=SIZES, d=st.integers(1, 3), k=st.integers(1, 3), m=st.integers(1, 3),
       wide=st.integers(0, 6), data=st.data())
def test_dask_with_huge_numbers_equals_the_big_int_oracle(s, d, k, m, wide, data):
    """Chunks of one sample (each chunk's full result is Keff wide), the output cropped by
    explicit padding to a few samples."""
    da = pytest.importorskip("dask.array")
    import conv1dt.dask
    full = (m - 1) * s + (k - 1) * d + 1
    assume(full >= wide)
    lo = data.draw(st.one_of(st.integers(0, min(full - wide, 6)), st.integers(0, full - wide)))
    hi = full - lo - wide + data.draw(st.integers(0, min(s - 1, 3)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x, f = ints(rng, (1, m, 1)), ints(rng, (k, 1, 1))
    xd = da.from_array(x, chunks=(1, 1, 1))
    y = conv1dt.dask.conv1d_transpose(xd, f, [1, wide, 1], s, [[0, 0], [lo, hi], [0, 0]],
                                      dilations=d)
    np.testing.assert_array_equal(y.compute(scheduler="sync"),
                                  oracle_transpose(x, f, wide, s, d, lo, 1))


# --- the reproducers ----------------------------------------------------------------------

def isolated(code, timeout=120):
    """Run ``code`` in a fresh interpreter (a crash there fails the test, not the suite)."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


ONE = "np.ones((1, 1, 1))"
CRASHERS = {   # segfaulted (tap table of s*8 bytes wrapping to 0, or (K-1)*d overflowing)
    "transpose stride 2**61": f"conv1dt.conv1d_transpose({ONE}, np.ones((3, 1, 1)), [1, 3, 1], 2**61, 'VALID')",
    "transpose stride 2**62": f"conv1dt.conv1d_transpose({ONE}, np.ones((3, 1, 1)), [1, 3, 1], 2**62, 'VALID')",
    "stream stride 2**61": "conv1dt.Conv1DTransposeStream(np.ones((3, 1, 1)), 2**61).push(np.ones((1, 1, 1)))",
    "dask stride 2**61": "conv1dt.dask.conv1d_transpose(np.ones((1, 1, 1)), np.ones((3, 1, 1)), [1, 3, 1], 2**61, 'VALID').compute()",
    "transpose dilation 2**63-1": "conv1dt.conv1d_transpose(np.ones((1, 4, 1)), np.ones((3, 1, 1)), [1, 4, 1], 1, dilations=2**63 - 1)",
    "conv1d dilation 2**61": "conv1dt.conv1d(np.ones((1, 65536, 1)), np.ones((3, 1, 1)), 1, dilations=2**61)",
    "conv1d dilation 2**63-1": "conv1dt.conv1d(np.ones((1, 65536, 1)), np.ones((3, 1, 1)), 1, dilations=2**63 - 1)",
}


@pytest.mark.parametrize("name", sorted(CRASHERS))
def test_calls_that_crashed_compute_the_definition(name):
    code = f"""
        import numpy as np, conv1dt
        if "dask" in {name!r}:
            import conv1dt.dask
        y = {CRASHERS[name]}
        print(repr(np.asarray(y).ravel().tolist()))
    """
    rc, out, err = isolated(code)
    assert rc == 0, f"exit {rc}: {err[-2000:]}"
    got = eval(out)
    if name.startswith(("transpose stride", "stream", "dask")):
        assert got == [1.0, 1.0, 1.0]          # one sample stamps the filter once
    elif name == "transpose dilation 2**63-1":
        assert got == [1.0] * 4                # SAME: pad 2**63-1, only tap 1 lands, at o = i
    else:
        assert got == [1.0] * 65536            # SAME pads (K-1)*d/2 = d: only tap 1 lands, at o = i


def test_silent_zeros_are_now_the_answer():
    w = np.arange(1.0, 11.0).reshape(1, 10, 1)
    f = np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)
    # window 0 of a VALID conv1d: 1*1 + 2*10 + 3*100, whatever the stride
    assert conv1dt.conv1d(w, f, 2**63 - 1, "VALID").ravel().tolist() == [321.0]
    lo = 2**62 + 5     # output 0 reads only padding, output 1 the first window
    assert conv1dt.conv1d(w, f, lo, [[0, 0], [lo, 0], [0, 0]]).ravel().tolist() == [0.0, 321.0]
    # dilation 2**62, SAME: pad_before 2**62, tap 1 lands at o = i
    y = conv1dt.conv1d_transpose(np.arange(1.0, 5.0).reshape(1, 4, 1), f, [1, 4, 1], 1,
                                 dilations=2**62)
    assert y.ravel().tolist() == [10.0, 20.0, 30.0, 40.0]


def test_numbers_past_64_bits_are_computed_not_overflow_errors():
    one = np.ones((1, 1, 1))
    assert conv1dt.conv1d_transpose(one, one, [1, 1, 1], 1, dilations=2**64).tolist() == [[[1.0]]]
    assert conv1dt.conv1d_transpose(one, np.ones((2, 1, 1)), [1, 1, 1], 2**63).tolist() == [[[1.0]]]
    assert conv1dt.conv1d(np.ones((1, 3, 1)), one, 2**64).tolist() == [[[1.0]]]


def test_scratch_follows_the_output_not_the_stride_or_dilation():
    """Each asked for gigabytes of scratch (or raised MemoryError) before: now computed."""
    rng = np.random.default_rng(7)
    x = ints(rng, (1, 1, 3))
    f = ints(rng, (4, 2, 3))
    y = conv1dt.conv1d_transpose(x.astype(np.float32), f.astype(np.float32), [1, 4, 2], 2**26,
                                 [[0, 0], [0, 3 * 2**26 - 3 + 2**26 - 3], [0, 0]], dilations=2**26)
    want = oracle_transpose(x, f, 4, 2**26, 2**26, 0, 1)
    np.testing.assert_array_equal(y, want)
    # a one-sample output at stride 2**26: a tap table and strips of 2**26 entries before
    one = np.ones((1, 1, 1), np.float32)
    assert conv1dt.conv1d_transpose(one, one, [1, 1, 1], 2**26).tolist() == [[[1.0]]]
    x4 = ints(rng, (1, 4, 1))
    f2 = ints(rng, (2, 1, 1))
    y = conv1dt.conv1d_transpose(x4, f2, [1, 4, 1], 1, dilations=2**40)
    np.testing.assert_array_equal(y, oracle_transpose(x4, f2, 4, 1, 2**40, same_pad(4, 4, 2, 1, 2**40), 1))
    # K = 65536 taps, one input sample: the filter stamped once
    fk = rng.integers(-3, 4, (65536, 1, 1)).astype(np.float32)
    y = conv1dt.conv1d_transpose(np.ones((1, 1, 1), np.float32), fk, [1, 65536, 1], 1, "VALID")
    np.testing.assert_array_equal(y[0, :, 0], fk[:, 0, 0])


def test_far_reaching_small_calls_skip_the_direct_kernel():
    """One input sample, 64 taps at dilation 8192: the planned direct kernel zero-filled
    (K-1)*d rows per block (30 s). The planner now gives it to the overlap-add (the direct
    kernel's strips would be idle), whose steps are bounded, so it runs as it is (no gather)."""
    g = Geometry(1, 63 * 8192 + 1, 1, 1, 64, 64, 1, 8192, 0)
    assert _bounds.spread(g) and _bounds._ola_takes(g)
    assert _bounds.takeover(g, "transpose", "NWC") is None
    rng = np.random.default_rng(3)
    x, f = ints(rng, (1, 1, 64)), ints(rng, (64, 1, 64))
    y = conv1dt.conv1d_transpose(x.astype(np.float32), f.astype(np.float32), [1, g.wide, 1], 1,
                                 "VALID", dilations=8192)
    want = np.zeros(g.wide)
    want[::8192] = f[:, 0, :] @ x[0, 0]
    np.testing.assert_array_equal(y[0, :, 0], want)


def test_anti_diagonal_links_with_huge_stride_and_dilation_are_computed_tap_by_tap():
    """s = D, d = D + 1, p = 2D with D = 2**62: only i + k = 2 links, to o = k. No crop or
    collapse brings these numbers into 64 bits, so the call is computed by the exact NumPy path;
    all three ops against the oracle."""
    D = 2**62
    rng = np.random.default_rng(5)
    x, f = ints(rng, (2, 3, 2)), ints(rng, (3, 2, 2))
    pad = [[0, 0], [2 * D, 2 * D], [0, 0]]
    g = Geometry(2, 3, 3, 2, 2, 3, D, D + 1, 2 * D)
    assert not _bounds.fits(_bounds.reduce(g, _bounds.link_box(g)))
    y = conv1dt.conv1d_transpose(x, f, [2, 3, 2], D, pad, dilations=D + 1)
    want = oracle_transpose(x, f, 3, D, D + 1, 2 * D, 1)
    np.testing.assert_array_equal(y, want)
    assert want[:, 0].any() and want[:, 2].any()
    w = ints(rng, (2, 3, 2))
    z = conv1dt.conv1d(w, f, D, pad, dilations=D + 1)
    np.testing.assert_array_equal(z, oracle_conv1d(w, f, 3, D, D + 1, 2 * D, 1))
    df = conv1dt.conv1d_backprop_filter(w, f.shape, x, D, pad, dilations=D + 1)
    np.testing.assert_array_equal(df, oracle_filter(w, x, 3, D, D + 1, 2 * D, 1))


def test_col2im_scratch_is_bounded():
    """8192 taps at stride 1024 and 4 output channels: one row of the col2im kernel's products
    would take 256 KiB (K * Cout float64 elements), a block of them more than its 1 MiB, so the
    planner gives the call to the BLAS kernel instead; the result agrees with the reference."""
    from conv1dt import _plan, reference
    from conv1dt._geometry import transpose_geometry
    rng = np.random.default_rng(9)
    x = rng.standard_normal((1, 16, 64))
    f = rng.standard_normal((8192, 4, 64))
    shape = [1, 15 * 1024 + 8192, 4]
    g = transpose_geometry(x.shape, f.shape, shape, 1024, 1, "VALID", "NWC")
    assert _plan.col2im_rows(g, 8) == 0 and _plan.choose("transpose", g, 8) == "blas"
    assert _plan.col2im_rows(g._replace(taps=64, wide=15 * 1024 + 64), 8) > 0   # 64 taps fit
    y = conv1dt.conv1d_transpose(x, f, shape, 1024, "VALID")
    want = reference.conv1d_transpose(x, f, g)
    np.testing.assert_allclose(y, want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


def test_the_link_box_keeps_every_link():
    """link_box against the links counted one by one, on many small geometries (the proof in
    conv1dt/_bounds.py, checked)."""
    rng = np.random.default_rng(11)
    for _ in range(3000):
        m, k, wide = (int(v) for v in rng.integers(0, 6, 3))
        s, d = (int(v) for v in rng.integers(1, 9, 2))
        p = int(rng.integers(-10, 40))
        g = Geometry(1, wide, m, 1, 1, k, s, d, p)
        found = list(links(m, k, wide, s, d, p))
        i0, i1, k0, k1 = _bounds.link_box(g)
        assert all(i0 <= i < i1 and k0 <= t < k1 for i, t, _ in found), (g, found)
        if not found:
            continue
        r = _bounds.reduce(g, (i0, i1, k0, k1))
        shifted = [(i - i0, t - k0, o) for i, t, o in found]
        assert list(links(r.narrow, r.taps, wide, r.stride, r.dilation, r.pad_before)) == shifted
