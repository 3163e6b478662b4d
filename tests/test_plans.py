"""The plans the ops keep for calls they have already checked (conv1dt/_ops.py).

A repeated call skips the argument checks it passed before. These tests hold the cached path to
the same standard as the first call: the same bits, the same refusals for arguments that are
equal in Python but not accepted (``2.0`` beside ``2``), every layout and kernel, and a bounded
cache.
"""
import numpy as np
import pytest

import conv1dt
from conv1dt import _ops, _plan
from conv1dt._geometry import (Geometry, backprop_filter_geometry, conv1d_geometry,
                               transpose_geometry, transposed_width_range)
from conv1dt._args import parse_padding
from conftest import (
    accepted_widths,
    assert_family_matches,
    assert_matches,
    conv1d_terms,
    explicit,
    family_oracle,
    filter_terms,
    oracle,
    random_array,
    random_operands,
    signal_shape,
    terms_per_output,
)


@pytest.fixture(autouse=True)
def fresh_plans():
    _plan._cache.clear()
    yield
    _plan._cache.clear()


def _oracle(x, f, shape, s, d, padding, data_format, groups):
    """The float64 reference and its bound, group by group, with explicit ``padding`` as the
    full result (VALID) cropped by ``lo`` at the start."""
    ax = 2 if data_format == "NWC" else 1
    lo = 0 if isinstance(padding, str) else padding[1][0]
    if not isinstance(padding, str):
        full = list(shape)
        full[3 - ax] = shape[3 - ax] + lo + padding[1][1]
        y64, bound = _oracle(x, f, full, s, d, "VALID", data_format, groups)
        crop = [slice(None)] * 3
        crop[3 - ax] = slice(lo, lo + shape[3 - ax])
        return y64[tuple(crop)], bound[tuple(crop)]
    cin, cout = x.shape[ax] // groups, f.shape[1]
    parts = []
    for j in range(groups):
        xs = [slice(None)] * 3
        xs[ax] = slice(j * cin, (j + 1) * cin)
        part = list(shape)
        part[ax] = cout
        parts.append(oracle(x[tuple(xs)], f[:, :, j * cin:(j + 1) * cin], part, s, d, padding, data_format))
    return tuple(np.concatenate([p[i] for p in parts], axis=ax) for i in (0, 1))


CASES = [  # (N, M, Cin, Cout, K, s, d, padding, data_format, groups): each kernel, both layouts
    (1, 16, 1, 1, 3, 2, 1, "SAME", "NWC", 1),             # tiny: direct, serial
    (2, 300, 3, 5, 7, 3, 2, "VALID", "NCW", 1),            # direct
    (2, 200, 4, 64, 9, 2, 1, "SAME", "NWC", 1),            # phase
    (2, 100, 40, 48, 3, 2, 1, "SAME", "NCW", 1),           # blas
    (1, 64, 48, 2, 96, 16, 1, "SAME", "NWC", 1),           # col2im
    (2, 50, 6, 4, 5, 2, 1, [[0, 0], [3, 1], [0, 0]], "NWC", 1),
    (2, 50, 6, 4, 5, 2, 1, "SAME", "NWC", 2),              # groups
]


@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_repeated_calls_match_the_oracle_and_the_first_call(case, dtype):
    n, m, cin, cout, k, s, d, padding, data_format, groups = case
    rng = np.random.default_rng(m * k)
    if isinstance(padding, str):
        width = accepted_widths(m, k, s, d, padding)[-1]
    else:   # the full result, cropped by the explicit padding
        width = (m - 1) * s + (k - 1) * d + 1 - padding[1][0] - padding[1][1]
    shape = [n, width, cout] if data_format == "NWC" else [n, cout, width]
    outs = []
    for trial in range(3):   # first call checks and plans; the others run the plan
        x, f = random_operands(rng, n, m, cin, cout // groups, k, dtype, data_format)
        x0, f0 = x.copy(), f.copy()
        y = conv1dt.conv1d_transpose(x, f, shape, s, padding, data_format, dilations=d, groups=groups)
        np.testing.assert_array_equal(x, x0)
        np.testing.assert_array_equal(f, f0)
        assert y.dtype == dtype and list(y.shape) == shape
        y64, bound = _oracle(x, f, shape, s, d, padding, data_format, groups)
        assert_matches(y, y64, bound, terms_per_output(f.shape, s, d), dtype, f"trial {trial}")
        outs.append((x, f, y))
        assert len(_plan._cache) == 1
    for x, f, y in outs:   # the planned calls give the bits of an unplanned first call
        _plan._cache.clear()
        np.testing.assert_array_equal(
            y, conv1dt.conv1d_transpose(x, f, shape, s, padding, data_format, dilations=d, groups=groups))


@pytest.mark.parametrize("bad, message", [
    (dict(strides=2.0), "strides"),
    (dict(strides=True), "strides"),
    (dict(strides=[2.0]), "strides"),
    (dict(output_shape=[1, 32.0, 1]), "output_shape"),
    (dict(output_shape=(1, 33, 1)), "output_shape"),
    (dict(dilations=1.0), "dilations"),
    (dict(groups=1.0), "groups"),
    (dict(padding="same "), "padding"),
    (dict(data_format="NHWC"), "data_format"),
])
def test_a_plan_never_lets_a_refused_argument_through(bad, message):
    """``2.0 == 2`` and ``True == 1`` in Python, with equal hashes: the cache keys keep types."""
    x = np.ones((1, 16, 1), np.float32)
    f = np.ones((3, 1, 1), np.float32)
    args = dict(output_shape=[1, 32, 1], strides=2, padding="SAME", data_format="NWC", dilations=1,
                groups=1)
    conv1dt.conv1d_transpose(x, f, **args)
    conv1dt.conv1d_transpose(x, f, **args)
    assert len(_plan._cache) == 1
    with pytest.raises((ValueError, TypeError), match=message):
        conv1dt.conv1d_transpose(x, f, **{**args, **bad})


def test_equal_arguments_of_other_accepted_types_are_planned_apart():
    x = np.ones((1, 16, 1), np.float64)
    f = np.ones((3, 1, 1), np.float64)
    want = conv1dt.conv1d_transpose(x, f, [1, 32, 1], 2)
    for shape, strides in [((1, 32, 1), [2]), (np.array([1, 32, 1]), [1, 2, 1]), ([1, np.int64(32), 1], np.int64(2))]:
        np.testing.assert_array_equal(conv1dt.conv1d_transpose(x, f, shape, strides), want)
        np.testing.assert_array_equal(conv1dt.conv1d_transpose(x, f, shape, strides), want)


def test_operands_that_differ_only_in_memory_are_computed_right():
    """A plan is keyed on shapes and dtypes: strided, Fortran-ordered, read-only and byte-swapped
    operands of those shapes still give the planned call's result."""
    rng = np.random.default_rng(9)
    x, f = random_operands(rng, 2, 40, 3, 4, 5, np.float64)
    want = conv1dt.conv1d_transpose(x, f, [2, 80, 4], 2)
    ro = x.copy()
    ro.flags.writeable = False
    for xv in (np.asfortranarray(x), np.repeat(x, 2, axis=1)[:, ::2], ro):
        np.testing.assert_array_equal(conv1dt.conv1d_transpose(xv, f, [2, 80, 4], 2), want)
    swapped = x.astype(x.dtype.newbyteorder(">"))
    np.testing.assert_array_equal(conv1dt.conv1d_transpose(swapped, f.astype(swapped.dtype), [2, 80, 4], 2), want)
    with pytest.raises(TypeError, match="same dtype"):
        conv1dt.conv1d_transpose(x, f.astype(np.float32), [2, 80, 4], 2)


def test_the_cache_is_bounded():
    x = np.ones((1, 4, 1), np.float32)
    f = np.ones((1, 1, 1), np.float32)
    for w in range(1, _plan.CACHE_MAX + 50):
        conv1dt.conv1d_transpose(np.ones((1, w, 1), np.float32), f, [1, w, 1], 1)
    assert 0 < len(_plan._cache) <= _plan.CACHE_MAX
    np.testing.assert_array_equal(conv1dt.conv1d_transpose(x, f, [1, 4, 1], 1), x)


@pytest.mark.parametrize("kernel", ["direct", "blas", "phase", "col2im", "tiled"])
def test_a_plan_reads_the_thread_count_at_each_call(monkeypatch, kernel):
    """A plan is made once per shape, but the thread count is the user's setting at the time of
    each call: set_num_threads after a planned call takes effect on the next one."""
    from conv1dt import _dispatch
    from conv1dt._compiled import _cpu, _transpose
    if kernel == "tiled" and not _cpu.tiled_available():
        pytest.skip("the tiled kernel needs AVX-512")
    seen = []
    real = getattr(_transpose, "transpose_" + kernel)

    class Spy:
        def __call__(self, *args):
            seen.append(args[-1])            # every kernel takes num_threads last
            return real(*args)

        def __getitem__(self, dtype):       # a fused kernel's specialisation
            return lambda *args: (seen.append(args[-1]), real[dtype](*args))[1]

    monkeypatch.setattr(_transpose, "transpose_" + kernel, Spy())
    monkeypatch.setattr(_plan, "choose", lambda op, g, itemsize=4, layout="NWC": kernel)
    rng = np.random.default_rng(3)
    x, f = random_operands(rng, 4, 512, 32, 32, 3, np.float32)   # large enough for all threads
    try:
        results = []
        for n in (2, 1, 2):
            conv1dt.set_num_threads(n)
            results.append(conv1dt.conv1d_transpose(x, f, [4, 1024, 32], 2))
    finally:
        conv1dt.set_num_threads(None)    # not set, as before (not set to the count it gave)
    assert seen == [2, 1, 2]
    assert len(_plan._cache) == 1
    np.testing.assert_array_equal(results[1], results[0])   # and the bits do not depend on it
    np.testing.assert_array_equal(results[2], results[0])


FAMILY_CASES = [  # (N, W, Cw, Cn, K, s, d, padding, data_format, groups): both kernels, layouts
    (1, 16, 1, 1, 3, 2, 1, "SAME", "NWC", 1),              # tiny: direct
    (2, 300, 3, 5, 7, 3, 2, "VALID", "NCW", 1),             # direct
    (2, 200, 40, 48, 3, 2, 1, "SAME", "NWC", 1),            # blas
    (2, 150, 32, 24, 4, 1, 1, (2, 1), "NCW", 4),            # groups, explicit padding
]


@pytest.mark.parametrize("case", FAMILY_CASES, ids=[str(c) for c in FAMILY_CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["conv1d", "backprop_filter"])
def test_repeated_family_calls_match_the_oracle_and_the_first_call(op, case, dtype):
    """conv1d and conv1d_backprop_filter: planned calls against the reference and against the
    bits of an unplanned call, operands unchanged."""
    n, w, cw, cn, k, s, d, padding, data_format, groups = case
    rng = np.random.default_rng(w * k)
    pad = explicit(padding, data_format)
    g = conv1d_geometry(signal_shape(n, w, cw, data_format), (k, cw // groups, cn), s, d, padding,
                        data_format, groups)
    f_shape = [k, cw // groups, cn]

    def call(a, b):
        if op == "conv1d":
            return conv1dt.conv1d(a, b, s, pad, data_format, d, groups=groups)
        return conv1dt.conv1d_backprop_filter(a, f_shape, b, s, pad, data_format, d, groups=groups)

    outs = []
    for trial in range(3):   # first call checks and plans; the others run the plan
        a = random_array(rng, signal_shape(n, w, cw, data_format), dtype)
        b = random_array(rng, f_shape if op == "conv1d" else signal_shape(n, g.narrow, cn, data_format),
                         dtype)
        a0, b0 = a.copy(), b.copy()
        y = call(a, b)
        np.testing.assert_array_equal(a, a0)
        np.testing.assert_array_equal(b, b0)
        assert y.dtype == dtype
        if op == "conv1d":
            want, bound = family_oracle("conv1d", a, b, g, data_format)
            assert_family_matches(y, want, bound, conv1d_terms(g), f"trial {trial}")
        else:
            gb = backprop_filter_geometry(a.shape, f_shape, b.shape, s, d, padding, data_format, groups)
            want, bound = family_oracle("backprop_filter", a, b, gb, data_format)
            assert_family_matches(y, want, bound, filter_terms(gb), f"trial {trial}")
        outs.append((a, b, y))
        assert len(_plan._cache) == 1
    for a, b, y in outs:   # the planned calls give the bits of an unplanned first call
        _plan._cache.clear()
        np.testing.assert_array_equal(y, call(a, b))


FAMILY_BAD = [
    (dict(strides=2.0), "stride"),
    (dict(strides=True), "stride"),
    (dict(strides=[2.0]), "stride"),
    (dict(dilations=1.0), "dilations"),
    (dict(groups=1.0), "groups"),
    (dict(padding="same "), "padding"),
    (dict(data_format="NHWC"), "data_format"),
]


@pytest.mark.parametrize("op, bad, message",
                         [("conv1d", *b) for b in FAMILY_BAD] + [("backprop_filter", *b) for b in FAMILY_BAD]
                         + [("backprop_filter", dict(filter_shape=[3, 1, 1.0]), "filter_shape"),
                            ("backprop_filter", dict(filter_shape=(3, 1, 2)), "out_backprop")])
def test_a_family_plan_never_lets_a_refused_argument_through(op, bad, message):
    x = np.ones((1, 16, 1), np.float32)
    f = np.ones((3, 1, 1), np.float32)
    dy = np.ones((1, 8, 1), np.float32)
    args = dict(strides=2, padding="SAME", data_format="NWC", dilations=1, groups=1)
    if op == "backprop_filter":
        args["filter_shape"] = [3, 1, 1]

    def call(strides, **kw):
        if op == "conv1d":
            return conv1dt.conv1d(x, f, strides, **kw)
        return conv1dt.conv1d_backprop_filter(x, kw.pop("filter_shape"), dy, strides, **kw)

    call(**args)
    call(**args)
    assert len(_plan._cache) == 1
    with pytest.raises((ValueError, TypeError), match=message):
        call(**{**args, **bad})


def test_a_shape_that_does_not_hash_is_computed_unplanned():
    """A writeable memoryview is an accepted shape but cannot be hashed (ValueError, not
    TypeError): such calls run unplanned, with the result of the same shape given as a list."""
    x = np.ones((2, 10, 3))
    dy = np.ones((2, 5, 4))
    for _ in range(2):
        np.testing.assert_array_equal(
            conv1dt.conv1d_backprop_filter(x, memoryview(np.array([3, 3, 4])), dy, 2),
            conv1dt.conv1d_backprop_filter(x, [3, 3, 4], dy, 2))
        np.testing.assert_array_equal(
            conv1dt.conv1d_transpose(dy, np.ones((3, 3, 4)), memoryview(np.array([2, 10, 3])), 2),
            conv1dt.conv1d_transpose(dy, np.ones((3, 3, 4)), [2, 10, 3], 2))


SMALL = [  # (N, M, Cin, Cout, K, s, d, padding, data_format): small calls, planned on _SmallDirect
    (1, 16, 1, 1, 3, 2, 1, "SAME", "NWC"),          # tiny; one output channel, stride 2: interleaved
    (3, 9, 2, 3, 4, 3, 2, "VALID", "NCW"),
    (2, 11, 3, 1, 5, 1, 1, "SAME", "NCW"),
    (1, 5, 4, 2, 9, 4, 3, "SAME", "NWC"),           # taps beyond the signal at both ends
    (1, 12, 16, 2, 3, 1, 1, "SAME", "NWC"),         # 16 channels: the scratch is malloc'ed
    (2, 7, 1, 4, 2, 5, 1, "VALID", "NCW"),          # stride above the taps: phases without a tap
]


@pytest.mark.parametrize("case", SMALL, ids=[str(c) for c in SMALL])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_calls_are_planned_on_the_pointer_kernel(case, dtype):
    """A small call's plan is a ``_SmallDirect`` (tap table built once, operands by pointer): its
    calls match the float64 reference and give the bits of ``transpose_direct`` (memoryviews)."""
    from conv1dt import _dispatch
    from conv1dt._compiled import _transpose
    n, m, cin, cout, k, s, d, padding, data_format = case
    rng = np.random.default_rng(m * k + cin)
    width = accepted_widths(m, k, s, d, padding)[-1]
    shape = [n, width, cout] if data_format == "NWC" else [n, cout, width]
    for trial in range(3):
        x, f = random_operands(rng, n, m, cin, cout, k, dtype, data_format)
        y = conv1dt.conv1d_transpose(x, f, shape, s, padding, data_format, dilations=d)
        (plan,) = _plan._cache.values()
        assert plan.kernel == "direct" and isinstance(plan._quick, _transpose._SmallDirect)
        y64, bound = oracle(x, f, shape, s, d, padding, data_format)
        assert_matches(y, y64, bound, terms_per_output(f.shape, s, d), dtype, f"trial {trial}")
        want = np.full_like(y, np.nan)
        g = transpose_geometry(x.shape, f.shape, tuple(shape), s, d,
                               parse_padding(padding, data_format), data_format, 1)
        ncw = data_format == "NCW"
        _transpose.transpose_direct(x, ncw, f, want, ncw, s, d, g.pad_before,
                                  _plan.direct_strip(s, cout, g.wide), 1)
        np.testing.assert_array_equal(y, want)
        # the strip cuts the outputs into blocks, never an output's sum: any strip, same bits
        want[...] = np.nan
        _transpose.transpose_direct(x, ncw, f, want, ncw, s, d, g.pad_before, 256, 1)
        np.testing.assert_array_equal(y, want)


SMALL_CONV1D = [  # (N, L, Cw, Cn, K, d, padding, data_format, s): small conv1d calls
    (1, 16, 1, 1, 3, 1, "SAME", "NWC", 1),
    (3, 20, 2, 3, 4, 2, "VALID", "NCW", 1),
    (2, 11, 3, 1, 5, 1, "SAME", "NCW", 1),
    (1, 5, 4, 2, 9, 3, "SAME", "NWC", 1),              # taps beyond the signal at both ends
    (2, 9, 1, 4, 2, 1, [[0, 0], [1, 3], [0, 0]], "NWC", 1),   # explicit padding
    (4, 25, 13, 1, 1, 1, "VALID", "NWC", 2),           # strided: every other stride-1 output
    (2, 23, 3, 2, 4, 1, "SAME", "NCW", 2),
    (1, 30, 2, 2, 3, 2, [[0, 0], [0, 0], [2, 1]], "NCW", 2),
]


@pytest.mark.parametrize("case", SMALL_CONV1D, ids=[str(c) for c in SMALL_CONV1D])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_conv1d_calls_are_planned_on_the_pointer_kernel(case, dtype):
    """A small conv1d with few channels is planned as the transpose's ``_SmallDirect`` on the
    reversed filter (``flip``, reversed in C at each call; at a stride, its stride-1 outputs
    kept every ``s``-th): its calls match the float64 reference and give the bits of the
    ``flip-direct`` runner (memoryviews)."""
    from conv1dt import _dispatch
    from conv1dt._compiled import _transpose
    n, L, cw, cn, k, d, padding, data_format, s = case
    rng = np.random.default_rng(L * k + cw)
    for trial in range(3):
        w = random_array(rng, (n, L, cw) if data_format == "NWC" else (n, cw, L), dtype)
        f = random_array(rng, (k, cw, cn), dtype)
        _plan.clear_cache()
        y = conv1dt.conv1d(w, f, s, padding, data_format, dilations=d)
        (plan,) = _plan._cache.values()
        assert plan.kernel == "flip-direct"
        assert (isinstance(plan._quick, _transpose._SmallDirect) if s == 1
                else plan._quick.__name__ == "strided")
        g = conv1d_geometry(w.shape, f.shape, s, d, parse_padding(padding, data_format),
                            data_format, 1)
        want, bound = family_oracle("conv1d", w, f, g, data_format)
        assert y.flags.c_contiguous and y.shape == want.shape
        assert_family_matches(y, want, bound, conv1d_terms(g), f"trial {trial}")
        np.testing.assert_array_equal(y, _dispatch.conv1d(w, f, g, data_format, "flip-direct"))
        np.testing.assert_array_equal(conv1dt.conv1d(w, f[::-1][::-1], s, padding, data_format,
                                                     dilations=d), y)   # a strided filter view


def test_a_small_plan_refuses_operands_it_was_not_made_for():
    """The plan reads raw pointers: operands of another shape or dtype are refused, never read;
    strided, byte-swapped and unaligned ones are copied and computed right."""
    from conv1dt._compiled import _transpose
    rng = np.random.default_rng(4)
    x, f = random_operands(rng, 1, 16, 1, 1, 3, np.float64)
    want = conv1dt.conv1d_transpose(x, f, [1, 32, 1], 2)
    plan = next(iter(_plan._cache.values()))._quick
    y64, bound = oracle(x, f, [1, 32, 1], 2)
    assert_matches(want, y64, bound, terms_per_output(f.shape, 2, 1), np.float64)
    for bad in (np.ones((1, 17, 1)), np.ones((16, 1)), x.astype(np.float32)):
        with pytest.raises(ValueError, match="plan's"):
            plan(bad, f)
    for bad in (np.ones((4, 1, 1)), f.astype(np.float32)):
        with pytest.raises(ValueError, match="plan's"):
            plan(x, bad)
    with pytest.raises(TypeError):
        plan(x.tolist(), f)

    def unaligned(a):
        raw = np.zeros(a.nbytes + 1, np.uint8)
        u = np.frombuffer(raw.data, a.dtype, a.size, offset=1).reshape(a.shape)
        u[...] = a
        assert not u.flags.aligned
        return u

    for xv, fv in [(np.repeat(x, 2, axis=1)[:, ::2], f), (x.astype(">f8"), f.astype(">f8")),
                   (unaligned(x), unaligned(f))]:
        np.testing.assert_array_equal(plan(xv, fv), want)
        np.testing.assert_array_equal(conv1dt.conv1d_transpose(xv, fv, [1, 32, 1], 2), want)
    with pytest.raises(TypeError, match="float32 or float64"):
        _transpose._SmallDirect((1, 16, 1), (3, 1, 1), (1, 32, 1), np.float16, False, 2, 1, 0, 64)
    # the plan's own shapes must make one call: it writes where they say
    for xs, fs, ys, ncw in [((1, 16, 1), (3, 4, 1), (1, 32, 1), False),     # Cout 4 vs 1
                            ((1, 16, 2), (3, 1, 1), (1, 32, 1), False),     # Cin 2 vs 1
                            ((2, 16, 1), (3, 1, 1), (1, 32, 1), False),     # batch 2 vs 1
                            ((1, 1, 16), (3, 2, 1), (1, 32, 2), True),      # NCW: y's channels
                            ((1, 16, 1), (3, 1), (1, 32, 1), False)]:
        with pytest.raises(ValueError, match="shapes"):
            _transpose._SmallDirect(xs, fs, ys, np.float64, ncw, 2, 1, 0, 64)
    for s, d, strip in [(0, 1, 64), (2, 0, 64), (2, 1, 0)]:
        with pytest.raises(ValueError, match="positive"):
            _transpose._SmallDirect((1, 16, 1), (3, 1, 1), (1, 32, 1), np.float64, False, s, d, 0,
                                  strip)


POINTWISE = [  # (op, N, L, M, Cw, Cn, s, groups): one tap, no padding, L == M*s
    ("conv1d", 5, 40, 40, 7, 3, 1, 1),
    ("conv1d", 4, 36, 12, 5, 33, 3, 1),
    ("conv1d", 3, 20, 10, 6, 9, 2, 3),
    ("transpose", 6, 28, 7, 26, 40, 4, 1),
    ("transpose", 3, 30, 30, 2, 2, 1, 1),
    ("transpose", 4, 24, 8, 8, 12, 3, 4),
    ("backprop_filter", 7, 45, 9, 3, 130, 5, 1),
    ("backprop_filter", 2, 64, 64, 20, 1, 1, 1),
    ("backprop_filter", 3, 30, 30, 10, 20, 1, 5),
]


def _pointwise_call(op, n, L, M, cw, cn, s, G, a, b, dtype, padding="VALID", out=None):
    if op == "conv1d":
        return conv1dt.conv1d(a, b, s, padding, out=out, groups=G)
    if op == "transpose":
        return conv1dt.conv1d_transpose(a, b, [n, L, cw], s, padding, out=out, groups=G)
    return conv1dt.conv1d_backprop_filter(a, [1, cw // G, cn], b, s, padding, out=out, groups=G)


@pytest.mark.parametrize("case", POINTWISE, ids=[str(c) for c in POINTWISE])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
def test_pointwise_batches_run_end_to_end(case, dtype):
    """A call of one tap without padding whose wide signal is ``s`` times the narrow one runs as
    one signal of batch 1 (the batch elements end to end): the plan says so, and the result, new
    or into ``out``, matches the reference, with the same bits on one thread and on three."""
    op, n, L, M, cw, cn, s, G = case
    rng = np.random.default_rng(n * L + cw)
    g = Geometry(batch=n, wide=L, narrow=M, wide_channels=cw, narrow_channels=cn, taps=1,
                 stride=s, dilation=1, pad_before=0, groups=G)

    def draw(shape):
        v = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            v = v + 1j * rng.standard_normal(shape)
        return v.astype(dtype)
    a = draw((n, M, cn) if op == "transpose" else (n, L, cw))
    b = draw((n, M, cn) if op == "backprop_filter" else (1, cw // G, cn))
    _plan._cache.clear()
    y = _pointwise_call(op, n, L, M, cw, cn, s, G, a, b, dtype)
    (plan,) = _plan._cache.values()
    assert plan.blocks.get("batch") == "flattened", plan
    want, bound = family_oracle(op, a, b, g)
    assert_family_matches(y, want, bound, cw // G if op == "conv1d" else cn // G
                          if op == "transpose" else n * M + 1, f"{op} {case}")
    out = np.full(y.shape, np.nan, dtype)
    assert _pointwise_call(op, n, L, M, cw, cn, s, G, a, b, dtype, out=out) is out
    np.testing.assert_array_equal(out, y)
    with conv1dt.threads(3):
        np.testing.assert_array_equal(_pointwise_call(op, n, L, M, cw, cn, s, G, a, b, dtype), y)
    # with a sample of padding in front the batch elements do not line up: run as they are
    _plan._cache.clear()
    pad = [[0, 0], [1, 0], [0, 0]]
    if op == "transpose":
        wide = transposed_width_range(M, 1, s, 1, (1, 0))[1]
        _pointwise_call(op, n, wide, M, cw, cn, s, G, a, b, dtype, pad)
    else:
        _pointwise_call(op, n, L, M, cw, cn, s, G, a[:, :-1], b, dtype, pad)
    (plan,) = _plan._cache.values()
    assert "batch" not in plan.blocks, plan


_PARALLEL_MACS = _plan.PARALLEL_MACS     # the library's own (the suite lowers it: conftest.py)

SMALL_FILTER_IM2COL = [  # (N, L, Cw, Cn, K, s, d, padding): serial filter gradients by im2col
    (2, 37, 11, 135, 1, 1, 6, "SAME"),          # one tap, in place (flattened)
    (3, 40, 13, 73, 4, 1, 1, [[0, 0], [0, 1], [0, 0]]),
    (2, 30, 20, 100, 3, 1, 1, "SAME"),          # gathered: taps past the signal, a NaN check
    (8, 9, 4, 160, 2, 3, 1, "VALID"),           # gathered, every tap on the signal
]


@pytest.mark.parametrize("case", SMALL_FILTER_IM2COL, ids=[str(c) for c in SMALL_FILTER_IM2COL])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_filter_gradients_by_im2col_are_planned_once(case, dtype, monkeypatch):
    """A serial filter gradient by ``im2col`` is planned with its kernel's arguments bound once
    (``_filter_im2col_small``), also where its gathered zeros meet the gradient (``dy``'s edges
    then checked for infinities at each call, and such a call sent the general way). It matches
    the float64 reference with the bits of the general path, and an infinity in ``dy`` where a
    gathered zero would meet it gives no NaN."""
    from conv1dt import _dispatch
    monkeypatch.setattr(_plan, "PARALLEL_MACS", _PARALLEL_MACS)
    n, L, cw, cn, k, s, d, padding = case
    rng = np.random.default_rng(L * k + cw)
    x = random_array(rng, (n, L, cw), dtype)
    g = conv1d_geometry(x.shape, (k, cw, cn), s, d, parse_padding(padding, "NWC"), "NWC", 1)
    dy = random_array(rng, (n, g.narrow, cn), dtype)
    _plan.clear_cache()
    df = conv1dt.conv1d_backprop_filter(x, [k, cw, cn], dy, s, padding, dilations=d)
    (plan,) = _plan._cache.values()
    assert plan.kernel == "im2col" and not _plan.parallel(g)
    flat = plan.blocks.get("batch") == "flattened"      # (its bound runner, reshaped)
    assert getattr(plan._quick, "__name__", "") == ("<lambda>" if flat else "run")
    want, bound = family_oracle("backprop_filter", x, dy, g)
    assert_family_matches(df, want, bound, n * g.narrow + 1, str(case))
    # the general path on the geometry the plan ran: the flattened one's batch elements laid
    # end to end (one sum over all rows, not one a batch element: other bits where the blocks
    # of rows differ, as on AVX2, whose GEMM adds each block's sum)
    gr, xr, dyr = g, x, dy
    if flat:
        gr, xr, dyr = _plan.flattened(g, "NWC"), x.reshape(1, -1, cw), dy.reshape(1, -1, cn)
    general = _dispatch.conv1d_backprop_filter(xr, dyr, gr, "NWC", "im2col")
    np.testing.assert_array_equal(df, general)
    dy[0, 0, 0] = np.inf
    df = conv1dt.conv1d_backprop_filter(x, [k, cw, cn], dy, s, padding, dilations=d)
    want, _ = family_oracle("backprop_filter", x, dy, g)
    np.testing.assert_array_equal(np.isnan(df), np.isnan(want))


SMALL_CONV1D_GATHERS = [  # (N, L, Cw, Cn, K, s, d, padding, groups, kernel): small serial conv1d
    (1, 24, 2, 1, 1, 6, 1, [[0, 0], [0, 0], [0, 0]], 1, "direct"),
    (48, 10, 8, 2, 1, 7, 7, "VALID", 1, "direct"),
    (3, 17, 4, 4, 3, 2, 1, "SAME", 2, "direct"),           # groups
    (1, 51, 4, 5, 6, 4, 1, "VALID", 1, "blas"),
    (9, 66, 9, 2, 3, 1, 1, "VALID", 1, "blas"),
    (3, 37, 22, 7, 2, 2, 1, "SAME", 1, "im2col"),          # edges past the signal
    (2, 20, 12, 40, 3, 1, 2, "VALID", 1, "im2col"),        # every tap on the signal
]


@pytest.mark.parametrize("case", SMALL_CONV1D_GATHERS, ids=[str(c) for c in SMALL_CONV1D_GATHERS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_conv1d_gathers_are_planned_once(case, dtype, monkeypatch):
    """A small serial conv1d by ``direct``, ``blas`` or ``im2col`` runs its kernel's bound
    specialisation (``_dispatch._conv1d_small_gather``): the float64 reference to rounding, the
    general path's bits, a new output at each call, and for ``im2col`` an infinity in the
    filter giving NaN exactly where the reference does (the general path's repair of the edges
    kept)."""
    from conv1dt import _dispatch
    monkeypatch.setattr(_plan, "PARALLEL_MACS", _PARALLEL_MACS)
    n, L, cw, cn, k, s, d, padding, G, kernel = case
    rng = np.random.default_rng(L * k + cw)
    x = random_array(rng, (n, L, cw), dtype)
    f = random_array(rng, (k, cw // G, cn), dtype)
    g = conv1d_geometry(x.shape, f.shape, s, d, parse_padding(padding, "NWC"), "NWC", G)
    monkeypatch.setattr(_plan, "_choose_conv1d", lambda g, itemsize: kernel)
    _plan.clear_cache()
    y = conv1dt.conv1d(x, f, s, padding, dilations=d, groups=G)
    (plan,) = _plan._cache.values()
    assert plan.kernel == kernel
    assert plan._quick.__qualname__.startswith(("_conv1d_small_gather", "_bound_small")), plan._quick
    want, bound = family_oracle("conv1d", x, f, g)
    assert_family_matches(y, want, bound, k * cw // G, str(case))
    np.testing.assert_array_equal(y, _dispatch.conv1d(x, f, g, "NWC", kernel))
    again = conv1dt.conv1d(x, f, s, padding, dilations=d, groups=G)
    assert again is not y
    np.testing.assert_array_equal(again, y)
    f[-1, 0, 0] = np.inf         # the last tap: the one that reaches past SAME's last sample
    y = conv1dt.conv1d(x, f, s, padding, dilations=d, groups=G)
    want, _ = family_oracle("conv1d", x, f, g)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(want))


def test_explicit_padding_keys_keep_every_type():
    """Explicit padding given as lists or tuples of plain ints is planned (the key is built in
    one call for its pairs), and a pair with a float, a bool or a NumPy int is a different key
    from the plain one: each form is checked (and refused, or planned) on its own."""
    x = np.ones((1, 10, 1))
    f = np.ones((3, 1, 1))
    keys = set()
    for pad in ([[0, 0], [1, 2], [0, 0]], ((0, 0), (1, 2), (0, 0)), [[0, 0], (1, 2), [0, 0]],
                [[0, 0], [1, np.int64(2)], [0, 0]], [[0, 0], [True, 2], [0, 0]]):
        key, _ = _ops._planned("conv1d", x, f, None, 1, pad, "NWC", None, 1)
        hash(key)
        keys.add(key)
    assert len(keys) == 5
    a, _ = _ops._planned("conv1d", x, f, None, 1, [[0, 0], [1, 2], [0, 0]], "NWC", None, 1)
    b, _ = _ops._planned("conv1d", x, f, None, 1, [[0, 0], [1, 2], [0, 0]], "NWC", None, 1)
    assert a == b
    with pytest.raises((TypeError, ValueError)):
        conv1dt.conv1d(x, f, 1, [[0, 0], [1, 2.0], [0, 0]])
    _plan.clear_cache()
    y = conv1dt.conv1d(x, f, 1, [[0, 0], [1, 2], [0, 0]])
    assert len(_plan._cache) == 1
    np.testing.assert_array_equal(conv1dt.conv1d(x, f, 1, ((0, 0), (1, 2), (0, 0))), y)
    assert len(_plan._cache) == 2


SMALL_TRANSPOSES = [  # (N, M, Cin, Cout, K, s, d, padding, kernel): small serial transposes
    (1, 1, 101, 143, 1, 12, 1, "VALID", "blas"),
    (2, 3, 40, 24, 3, 2, 1, "SAME", "blas"),
    (6, 2, 32, 5, 1, 5, 1, [[0, 0], [0, 0], [0, 0]], "ola"),
    (3, 4, 6, 9, 5, 3, 2, "SAME", "ola"),
    (2, 2, 56, 40, 2, 6, 1, "SAME", "tiled"),
    (2, 5, 20, 6, 4, 2, 1, "VALID", "col2im"),
    (2, 6, 4, 40, 4, 2, 1, "SAME", "phase"),
]


@pytest.mark.parametrize("case", SMALL_TRANSPOSES, ids=[str(c) for c in SMALL_TRANSPOSES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_transposes_are_planned_once(case, dtype, monkeypatch):
    """A small serial conv1d_transpose by the overlap-add, BLAS, tiled, col2im or phase kernel
    runs its kernel's bound specialisation (``_dispatch._bound_small``): the float64 reference to
    rounding, the general path's bits, and a new output at each call."""
    from conv1dt import _dispatch
    from conv1dt._geometry import transpose_geometry
    n, M, cin, cout, k, s, d, padding, kernel = case
    if kernel == "tiled" and not _plan.TILED:
        pytest.skip("the tiled kernel needs AVX2 or AVX-512")
    rng = np.random.default_rng(M * k + cin)
    x = random_array(rng, (n, M, cin), dtype)
    f = random_array(rng, (k, cout, cin), dtype)
    pad = parse_padding(padding, "NWC")
    wide = M * s if padding == "SAME" else (M - 1) * s + (k - 1) * d + 1
    g = transpose_geometry(x.shape, f.shape, (n, wide, cout), s, d, pad, "NWC")
    monkeypatch.setattr(_plan, "_choose_transpose", lambda g, itemsize=4: kernel)
    _plan.clear_cache()
    y = conv1dt.conv1d_transpose(x, f, (n, wide, cout), s, padding, dilations=d)
    (plan,) = _plan._cache.values()
    assert plan.kernel == kernel and plan.blocks.get("batch") != "flattened", plan
    assert plan._quick.__qualname__.startswith("_bound_small"), plan._quick
    want, bound = family_oracle("transpose", x, f, g)
    assert_family_matches(y, want, bound, k * cin, str(case))
    np.testing.assert_array_equal(y, _dispatch.conv1d_transpose(x, f, g, "NWC", kernel))
    again = conv1dt.conv1d_transpose(x, f, (n, wide, cout), s, padding, dilations=d)
    assert again is not y
    np.testing.assert_array_equal(again, y)
