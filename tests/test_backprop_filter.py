"""conv1d_backprop_filter's compiled path against its oracles: a grid, a random search, every kernel.

Oracles: ``conv1dt.reference.conv1d_backprop_filter`` (the definition, in float64 or complex128)
and ``im2col`` (windows of the padded input, ``einsum`` with ``out_backprop``). Tolerances are the
gamma_n bounds of conftest.py with ``n = N*M + 1`` products per filter element (one per batch
element and narrow position).
"""
import numpy as np
import pytest
from hypothesis import given, settings

import conv1dt
from conv1dt import _dispatch, _plan
from conv1dt._compiled import _conv1d, _cpu
from conv1dt._geometry import backprop_filter_geometry, conv1d_geometry
from conftest import (
    FAMILY_DTYPES,
    FAMILY_GROUPS,
    FAMILY_PADDINGS,
    assert_family_matches,
    conv1d_cases,
    conv1d_grid,
    conv1d_widths,
    explicit,
    family_oracle,
    filter_terms,
    im2col_backprop_filter,
    random_array,
    signal_shape,
    stable_seed,
)

DTYPES, PADDINGS, GROUPS = FAMILY_DTYPES, FAMILY_PADDINGS, FAMILY_GROUPS
KERNELS = ["direct", "im2col"]     # the two the planner chooses from


def operands(rng, n, wide, k, s, d, padding, data_format, groups, cwg, cng, dtype):
    """conv1d's input, the filter shape and an ``out_backprop`` of conv1d's output shape."""
    w = random_array(rng, signal_shape(n, wide, groups * cwg, data_format), dtype)
    f_shape = (k, cwg, groups * cng)
    g = conv1d_geometry(w.shape, f_shape, s, d, padding, data_format, groups)
    dz = random_array(rng, signal_shape(n, g.narrow, groups * cng, data_format), dtype)
    return w, f_shape, dz


def call(w, f_shape, dz, s, d, padding, data_format, groups, kernel=None):
    if kernel is None:
        return conv1dt.conv1d_backprop_filter(w, f_shape, dz, s, explicit(padding, data_format),
                                              data_format, d, groups=groups)
    g = backprop_filter_geometry(w.shape, f_shape, dz.shape, s, d, padding, data_format, groups)
    return _dispatch.conv1d_backprop_filter(w, dz, g, data_format, kernel)


def check(w, f_shape, dz, s, d, padding, data_format, groups, kernel=None, what=""):
    df = call(w, f_shape, dz, s, d, padding, data_format, groups, kernel)
    g = backprop_filter_geometry(w.shape, f_shape, dz.shape, s, d, padding, data_format, groups)
    assert df.shape == tuple(f_shape) and df.dtype == w.dtype
    want, bound = family_oracle("backprop_filter", w, dz, g, data_format)
    assert_family_matches(df, want, bound, filter_terms(g), what)
    return g


@pytest.mark.parametrize("groups,cwg,cng", GROUPS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("padding", PADDINGS, ids=str)
def test_grid_against_reference(padding, data_format, dtype, groups, cwg, cng):
    """Strides 1..3, dilations 1..2, 1, 2 or 4 taps, input widths 0..7."""
    rng = np.random.default_rng(stable_seed(padding, data_format, dtype, groups))
    cases = 0
    for s, d, k, wide in conv1d_grid(padding):
        w, f_shape, dz = operands(rng, 2, wide, k, s, d, padding, data_format, groups,
                                  cwg, cng, dtype)
        check(w, f_shape, dz, s, d, padding, data_format, groups,
              what=f"s={s} d={d} K={k} L={wide}")
        cases += 1
    assert cases >= 40


def test_reference_agrees_with_im2col(rng):
    for padding in PADDINGS + [(0, 5)]:
        for s, d, k in [(1, 1, 3), (2, 1, 4), (3, 2, 2), (2, 3, 3)]:
            for groups, cwg, cng in GROUPS:
                for wide in conv1d_widths(k, s, d, padding, (0, 1, 3, 8)):
                    w, f_shape, dz = operands(rng, 2, wide, k, s, d, padding, "NWC", groups, cwg, cng,
                                              np.complex128)
                    g = conv1d_geometry(w.shape, f_shape, s, d, padding, "NWC", groups)
                    want, _ = family_oracle("backprop_filter", w, dz, g)
                    np.testing.assert_allclose(want, im2col_backprop_filter(w, dz, g), rtol=1e-12, atol=1e-12)


def test_padding_is_zero_padding_then_valid(rng):
    """The filter gradient with SAME or explicit padding is the VALID one of the zero-padded input."""
    from test_conv1d import zero_padded
    for padding in ["SAME", (2, 0), (1, 3), (0, 4), (6, 6)]:
        for s, d, k in [(1, 1, 3), (2, 1, 4), (3, 2, 2), (2, 3, 3)]:
            for wide in conv1d_widths(k, s, d, padding, (1, 4, 9, 10)):
                w, f_shape, dz = operands(rng, 2, wide, k, s, d, padding, "NWC", 2, 2, 3, np.float64)
                padded, _ = zero_padded(w, padding, k, s, d)
                df = conv1dt.conv1d_backprop_filter(w, f_shape, dz, s, explicit(padding, "NWC"), dilations=d, groups=2)
                np.testing.assert_array_equal(
                    df, conv1dt.conv1d_backprop_filter(padded, f_shape, dz, s, "VALID", dilations=d, groups=2))


@settings(max_examples=250, deadline=None)
@given(conv1d_cases())
def test_random_against_reference_and_im2col(case):
    padding, data_format, dtype, groups, cwg, cng, n, k, s, d, wide, seed = case
    rng = np.random.default_rng(seed)
    w, f_shape, dz = operands(rng, n, wide, k, s, d, padding, data_format, groups, cwg, cng, dtype)
    g = check(w, f_shape, dz, s, d, padding, data_format, groups, what=str(case))
    want, _ = family_oracle("backprop_filter", w, dz, g, data_format)
    nwc = (lambda a: a) if data_format == "NWC" else (lambda a: a.transpose(0, 2, 1))
    other = im2col_backprop_filter(nwc(w), nwc(dz).astype(want.dtype), g)
    np.testing.assert_allclose(want, other, rtol=1e-12, atol=1e-12)


LONG = [  # (N, L, Cin, Cout, K, s, d, padding, groups): many chunks and GEMM rows, groups
    (2, 700, 1, 1, 5, 1, 1, "SAME", 1),
    (3, 900, 4, 6, 9, 3, 2, "VALID", 2),
    (3, 333, 20, 24, 3, 2, 1, (4, 1), 1),
    (2, 1000, 16, 16, 7, 1, 2, "SAME", 16),     # depthwise
    (2, 800, 8, 24, 5, 2, 1, "SAME", 8),        # depthwise with a channel multiplier of 3
    (2, 520, 12, 150, 4, 2, 3, "VALID", 3),     # more than one block of output channels per group
    (1, 600, 40, 33, 1, 5, 1, (0, 7), 1),       # one tap: one filter block
]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_kernel_small_grid(kernel, dtype):
    rng = np.random.default_rng(9)
    for padding in PADDINGS:
        for data_format in ("NWC", "NCW"):
            for s, d, k in [(1, 1, 3), (2, 1, 4), (3, 2, 2), (4, 1, 1)]:
                for groups, cwg, cng in GROUPS + [(1, 9, 9), (2, 1, 5)]:
                    for wide in conv1d_widths(k, s, d, padding, (0, 1, 6, 11)):
                        w, f_shape, dz = operands(rng, 2, wide, k, s, d, padding, data_format, groups,
                                                  cwg, cng, dtype)
                        check(w, f_shape, dz, s, d, padding, data_format, groups, kernel,
                              f"{kernel} {padding} {data_format} s={s} d={d} K={k} G={groups} L={wide}")


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("case", LONG, ids=[str(c) for c in LONG])
def test_long_signals(kernel, case):
    n, wide, cin, cout, k, s, d, padding, groups = case
    rng = np.random.default_rng(wide)
    for data_format in ("NWC", "NCW"):
        w, f_shape, dz = operands(rng, n, wide, k, s, d, padding, data_format, groups, cin // groups,
                                  cout // groups, np.float32)
        check(w, f_shape, dz, s, d, padding, data_format, groups, kernel, f"{kernel} {case}")


WIDE_PADDING = [  # (N, L, Cw, Cn, K, s, d, padding, groups): most taps reach only padding
    (3, 40, 3, 5, 61, 1, 1, (55, 50), 1),
    (2, 30, 4, 6, 50, 2, 2, (80, 20), 2),     # the first outputs reach no sample at all
    (5, 60, 1, 4, 75, 2, 5, "SAME", 1),       # a filter far longer than the signal
]


@pytest.mark.parametrize("mode", ["gemm", "skinny", "inplace", "gemv"])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("case", WIDE_PADDING, ids=[str(c) for c in WIDE_PADDING])
def test_im2col_skips_the_taps_that_reach_only_padding(case, data_format, mode):
    """Blocks of 7 rows (spanning batch elements in NWC) in 3 chunks, taps in blocks of 5: each
    block gathers only the taps that reach the signal from one of its rows; the filter
    gradient's other taps are zeros."""
    n, wide, cw, cn, k, s, d, padding, groups = case
    rng = np.random.default_rng(k)
    w, f_shape, dz = operands(rng, n, wide, k, s, d, padding, data_format, groups, cw // groups,
                              cn // groups, np.float64)
    g = backprop_filter_geometry(w.shape, f_shape, dz.shape, s, d, padding, data_format, groups)
    blocks = {"rows": 7, "taps": 5, "chunks": 3, "skinny": mode == "skinny",
              "inplace": mode == "inplace", "gemv": mode == "gemv"}
    df = _dispatch.conv1d_backprop_filter(w, dz, g, data_format, "im2col", blocks=blocks)
    want, bound = family_oracle("backprop_filter", w, dz, g, data_format)
    assert_family_matches(df, want, bound, filter_terms(g), f"im2col {mode} {case}")


LONG_ROWS = [  # (N, L, Cw, Cn, K, s, d, padding, groups): rows of dy of 2 KiB and more a group
    (3, 90, 1, 520, 5, 2, 1, "SAME", 1),       # 5 gradient rows: one band
    (2, 70, 2, 600, 6, 1, 2, "VALID", 1),      # 10 (5 taps a block): a band of 8, then 2
    (4, 40, 4, 1100, 3, 3, 1, "SAME", 2),      # groups of 550 outputs
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", LONG_ROWS, ids=[str(c) for c in LONG_ROWS])
def test_im2col_skinny_reads_long_rows_of_dy_in_order(case, dtype):
    """The skinny GEMM on gathered blocks (``skinny``) with rows of ``dy`` of 2 KiB and more a
    group reads them in memory order (``SKINNY_BY_ROWS``), up to 16 rows of the gradient's
    block in bands: against the reference, blocks of 7 rows in 3 chunks, taps in blocks of 5;
    the same bits on 1 and 3 threads."""
    n, wide, cw, cn, k, s, d, padding, groups = case
    rng = np.random.default_rng(cn + k)
    w, f_shape, dz = operands(rng, n, wide, k, s, d, padding, "NWC", groups, cw // groups,
                              cn // groups, dtype)
    g = backprop_filter_geometry(w.shape, f_shape, dz.shape, s, d, padding, "NWC", groups)
    blocks = {"rows": 7, "taps": 5, "chunks": 3, "skinny": True, "inplace": False,
              "gemv": False, "window": False, "across": False}
    outs = []
    try:
        for t in (1, 3):
            conv1dt.set_num_threads(t)
            outs.append(_dispatch.conv1d_backprop_filter(w, dz, g, "NWC", "im2col",
                                                         blocks=blocks))
    finally:
        conv1dt.set_num_threads(None)
    want, bound = family_oracle("backprop_filter", w, dz, g, "NWC")
    assert_family_matches(outs[0], want, bound, filter_terms(g), f"long rows {case}")
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_depthwise_kernel_small_grid(dtype):
    """The depthwise kernel (one channel per group) on every padding, both layouts, strides,
    dilations, 1 to 40 channels (no whole vector, one, several and a rest) and widths from
    empty to a few dozen, against the reference; other groupings are refused."""
    rng = np.random.default_rng(12)
    for padding in PADDINGS:
        for data_format in ("NWC", "NCW"):
            for s, d, k in [(1, 1, 3), (2, 1, 9), (3, 2, 2), (1, 3, 12), (4, 1, 1)]:
                for groups in (1, 5, 16, 40):
                    for wide in conv1d_widths(k, s, d, padding, (0, 1, 6, 40)):
                        w, f_shape, dz = operands(rng, 2, wide, k, s, d, padding, data_format,
                                                  groups, 1, 1, dtype)
                        check(w, f_shape, dz, s, d, padding, data_format, groups, "depthwise",
                              f"{padding} {data_format} s={s} d={d} K={k} G={groups} L={wide}")
    w, f_shape, dz = operands(rng, 2, 30, 3, 1, 1, "SAME", "NWC", 4, 1, 2, dtype)
    with pytest.raises(ValueError, match="one channel per group"):
        call(w, f_shape, dz, 1, 1, "SAME", "NWC", 4, "depthwise")


@pytest.mark.parametrize("kernel", KERNELS + ["depthwise"])
def test_bits_do_not_depend_on_threads(kernel):
    rng = np.random.default_rng(4)
    # (the depthwise kernel: 40 channels, one a group, 9 taps)
    groups, cwg, cng, k = (40, 1, 1, 9) if kernel == "depthwise" else (2, 6, 10, 5)
    w, f_shape, dz = operands(rng, 3, 3000, k, 2, 1, "SAME", "NWC", groups, cwg, cng, np.float32)
    outs = []
    try:
        for t in (1, 2, 3):
            conv1dt.set_num_threads(t)
            outs.append(call(w, f_shape, dz, 2, 1, "SAME", "NWC", groups, kernel))
    finally:
        conv1dt.set_num_threads(None)
    for other in outs[1:]:
        np.testing.assert_array_equal(outs[0], other)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grouped_direct_by_spread_rows(dtype):
    """The direct kernel with groups (not one channel each way) whose output rows fill a vector
    and at least 2*s taps spreads each input row to the output's channels and adds whole rows of
    the partial filters: 16 to 1036 output channels, one input channel a group and several,
    strides 1 to 7, dilations sharing a factor with them or not, padding beyond the signal,
    chunks spanning batch elements (one chunk and several); against the reference, and the same
    bits on 1 and 3 threads."""
    rng = np.random.default_rng(37)
    several = 0
    for n, wide, groups, cwg, cng, k, s, d, padding in [
            (2, 300, 8, 2, 2, 5, 2, 1, "SAME"), (3, 200, 16, 1, 2, 9, 3, 2, "VALID"),
            (2, 250, 5, 3, 7, 4, 1, 1, (3, 2)), (4, 2000, 33, 2, 1, 7, 2, 3, "SAME"),
            (2, 300, 4, 4, 4, 12, 4, 2, (10, 30)), (3, 150, 74, 1, 14, 3, 1, 1, "SAME"),
            (5, 3000, 3, 5, 6, 15, 7, 3, (40, 0)), (1, 330, 8, 2, 8, 30, 1, 1, "VALID"),
            (1, 2400, 16, 1, 8, 40, 3, 2, "SAME")]:
        for data_format in ("NWC", "NCW"):
            w, f_shape, dz = operands(rng, n, wide, k, s, d, padding, data_format, groups, cwg,
                                      cng, dtype)
            g = backprop_filter_geometry(w.shape, f_shape, dz.shape, s, d, padding, data_format,
                                         groups)
            several += _plan.direct_filter_chunks(g) > 1
            assert _conv1d.spreads(groups, cwg, groups * cng, w.itemsize, g.narrow, k, s, d,
                                   g.pad_before)
            outs = []
            for threads in (1, 3):
                with conv1dt.threads(threads):
                    check(w, f_shape, dz, s, d, padding, data_format, groups, "direct",
                          f"G={groups} {cwg}->{cng} K={k} s={s} d={d} {padding}")
                    outs.append(call(w, f_shape, dz, s, d, padding, data_format, groups, "direct"))
            np.testing.assert_array_equal(outs[0], outs[1])
    assert several                     # the partial filters' path ran too


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_group_direct_by_rows(dtype):
    """The direct kernel with one group, a vector of output channels (64 bytes) and 2 rows a
    batch element or more adds each element's rows per tap by the skinny GEMM, in place: output
    channels of one vector, a vector and a part, and several; taps past the signal's edges,
    strides and dilations; one chunk and several (spanning batch elements); against the
    reference, and the same bits on 1 and 3 threads. One row an element keeps the loops."""
    rng = np.random.default_rng(41)
    lanes = 64 // np.dtype(dtype).itemsize
    several = 0
    for n, wide, cw, cn, k, s, d, padding in [
            (2, 40, 1, lanes, 3, 1, 1, "SAME"), (3, 67, 2, lanes + 3, 7, 1, 1, "SAME"),
            (4, 1802, 1, 2 * lanes + 1, 1, 13, 3, "VALID"), (1, 151, 11, 27, 1, 5, 4, "VALID"),
            (5, 900, 3, 3 * lanes, 9, 2, 2, (20, 30)), (7, 700, 2, lanes, 4, 3, 1, (0, 9)),
            (3, 80, 1, lanes, 60, 1, 1, (55, 50)), (6, 40, 3, 2 * lanes, 40, 2, 1, "VALID")]:
        w, f_shape, dz = operands(rng, n, wide, k, s, d, padding, "NWC", 1, cw, cn, dtype)
        g = backprop_filter_geometry(w.shape, f_shape, dz.shape, s, d, padding, "NWC", 1)
        several += _plan.direct_filter_chunks(g) > 1
        outs = []
        for threads in (1, 3):
            with conv1dt.threads(threads):
                check(w, f_shape, dz, s, d, padding, "NWC", 1, "direct",
                      f"{cw}->{cn} K={k} s={s} d={d} {padding} M={g.narrow}")
                outs.append(call(w, f_shape, dz, s, d, padding, "NWC", 1, "direct"))
        np.testing.assert_array_equal(outs[0], outs[1])
    assert several                     # the partial filters' path ran too


def test_chunks_depend_on_the_shape_only():
    g = conv1d_geometry((4, 10000, 2), (3, 2, 2), 1, 1, "SAME", "NWC")
    assert _plan.direct_filter_chunks(g) == _plan.MAX_CHUNKS
    assert _plan.direct_filter_chunks(g._replace(batch=1, narrow=100)) == 1
    big = g._replace(taps=1000, wide_channels=64, narrow_channels=64)   # partials capped
    assert (_plan.direct_filter_chunks(big) * 1000 * 64 * 64
            <= max(_plan.PARTIAL_ELEMS, 1000 * 64 * 64))
    # rows of much work each, too few for two chunks of CHUNK_ROWS: chunks of PARTIAL_MACS rows
    # or more, up to MIN_ITEMS, where the call is split for threads at all
    heavy = conv1d_geometry((1, 5986, 50), (91, 1, 400), 8, 1, "VALID", "NWC", 50)
    assert heavy.narrow < 2 * _plan.CHUNK_ROWS and _plan.parallel(heavy)
    assert (_plan.direct_filter_chunks(heavy)
            == min(_plan.MIN_ITEMS, heavy.narrow // _plan.PARTIAL_MACS))
    light = heavy._replace(taps=2, narrow=400, narrow_channels=50)
    assert not _plan.parallel(light) and _plan.direct_filter_chunks(light) == 1
    # the plan's blocks are the rule's, and its repr says so
    x = np.empty((1, 5986, 50), np.float32)
    dy = np.empty((1, heavy.narrow, 400), np.float32)
    p = conv1dt.plan("conv1d_backprop_filter", x, (91, 1, 400), dy, 8, "VALID", groups=50)
    assert p.kernel == "direct"
    assert p.blocks == {"chunks": _plan.direct_filter_chunks(heavy)}
    assert f"chunks={_plan.direct_filter_chunks(heavy)}" in repr(p)


def test_float16_is_computed_in_float32(rng):
    w, f_shape, dz = operands(rng, 2, 40, 5, 2, 1, "SAME", "NWC", 2, 3, 2, np.float16)
    df = conv1dt.conv1d_backprop_filter(w, f_shape, dz, 2, groups=2)
    assert df.dtype == np.float16
    want = conv1dt.conv1d_backprop_filter(w.astype(np.float32), f_shape, dz.astype(np.float32), 2, groups=2)
    np.testing.assert_array_equal(df, want.astype(np.float16))


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_empty_operands_give_zeros(data_format):
    """No (batch, position) pairs, or no channels: an all-zero (or empty) gradient."""
    for n, wide, padding in [(0, 5, "SAME"), (1, 0, "SAME"), (2, 2, "VALID")]:
        w = np.ones(signal_shape(n, wide, 2, data_format))
        g = conv1d_geometry(w.shape, (3, 2, 4), 2, 1, padding, data_format)
        dz = np.ones(signal_shape(n, g.narrow, 4, data_format))
        df = conv1dt.conv1d_backprop_filter(w, [3, 2, 4], dz, 2, padding, data_format)
        np.testing.assert_array_equal(df, np.zeros((3, 2, 4)))
    df = conv1dt.conv1d_backprop_filter(np.ones(signal_shape(1, 5, 0, data_format)), [3, 0, 4],
                                        np.ones(signal_shape(1, 3, 4, data_format)), 2, "SAME", data_format)
    assert df.shape == (3, 0, 4)


def test_filter_shape_forms_and_lists(rng):
    w, f_shape, dz = operands(rng, 2, 20, 3, 2, 1, "SAME", "NWC", 1, 2, 3, np.float64)
    want = conv1dt.conv1d_backprop_filter(w, f_shape, dz, 2)
    for shape in (list(f_shape), np.array(f_shape, np.int32), (np.int64(3), 2, 3)):
        np.testing.assert_array_equal(conv1dt.conv1d_backprop_filter(w, shape, dz, 2), want)
    np.testing.assert_array_equal(conv1dt.conv1d_backprop_filter(w.tolist(), f_shape, dz, [1, 2, 1]), want)
    assert conv1dt.conv1d_backprop_filter(w.astype(np.float32), f_shape, dz.tolist(), 2).dtype == np.float32


def test_the_compiled_kernels_run(monkeypatch):
    from conv1dt._compiled import _conv1d, _gemm

    def broken(*args, **kwargs):
        raise RuntimeError("kernel called")

    monkeypatch.setattr(_conv1d, "backprop_filter_direct", broken)
    monkeypatch.setattr(_gemm, "backprop_filter_im2col", broken)
    with pytest.raises(RuntimeError, match="kernel called"):
        conv1dt.conv1d_backprop_filter(np.ones((1, 4, 1)), [1, 1, 1], np.ones((1, 4, 1)), 1)
    with pytest.raises(RuntimeError, match="kernel called"):
        conv1dt.conv1d_backprop_filter(np.ones((2, 64, 32)), [3, 32, 32], np.ones((2, 64, 32)), 1)


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_non_finite_gradients_follow_the_definition(data_format):
    """Only the definition's products: a gradient value that is infinite or NaN where a tap
    reaches past the signal adds no term for that tap (the im2col kernel's gathered zeros would
    make it ``0 * inf = NaN``; such calls run the direct kernel), and propagates elsewhere."""
    rng = np.random.default_rng(29)
    for cw, cn, groups in [(3, 2, 1), (1, 1, 1), (8, 16, 2)]:
        for s, d, k, padding in [(1, 1, 3, "SAME"), (2, 1, 5, "SAME"), (3, 2, 4, (5, 2))]:
            w = random_array(rng, signal_shape(2, 40, cw, data_format), np.float64)
            f_shape = (k, cw // groups, cn)
            g = backprop_filter_geometry(w.shape, f_shape, signal_shape(
                2, conv1d_geometry(w.shape, f_shape, s, d, padding, data_format, groups).narrow,
                cn, data_format), s, d, padding, data_format, groups)
            dz = random_array(rng, signal_shape(2, g.narrow, cn, data_format), np.float64)
            dz[0, 0, 0] = np.inf
            dz[(1, -1, 0) if data_format == "NWC" else (1, 0, -1)] = np.nan
            with np.errstate(invalid="ignore"):
                want, _ = family_oracle("backprop_filter", w, dz, g, data_format)
            assert np.isinf(want).any()
            kernels = (("direct", "im2col") + (("fir",) if groups == 1 and d == 1 else ())
                       + (("depthwise",) if cw == cn == groups else ()))
            for kernel in kernels:
                with np.errstate(invalid="ignore"):
                    df = call(w, f_shape, dz, s, d, padding, data_format, groups, kernel)
                np.testing.assert_array_equal(np.isnan(df), np.isnan(want))
                np.testing.assert_array_equal(np.isposinf(df), np.isposinf(want))
                np.testing.assert_array_equal(np.isneginf(df), np.isneginf(want))
                finite = np.isfinite(want)
                np.testing.assert_allclose(df[finite], want[finite], rtol=1e-12, atol=1e-12)
            if data_format == "NWC":
                # the in-place GEMMs per tap (no edge check: they multiply only the rows on the
                # signal) and the GEMVs per gathered column (checked like any gathered block)
                for mode in ("inplace", "gemv"):
                    blocks = {"rows": 7, "taps": 2, "chunks": 2, "skinny": False,
                              "inplace": mode == "inplace", "gemv": mode == "gemv"}
                    with np.errstate(invalid="ignore"):
                        df = _dispatch.conv1d_backprop_filter(w, dz, g, data_format, "im2col",
                                                              blocks=blocks)
                    np.testing.assert_array_equal(np.isnan(df), np.isnan(want), err_msg=mode)
                    np.testing.assert_array_equal(np.isposinf(df), np.isposinf(want), err_msg=mode)
                    finite = np.isfinite(want)
                    np.testing.assert_allclose(df[finite], want[finite], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_fir_depthwise_against_the_reference(data_format):
    """Depthwise filter gradients by the FIR kernel, forced: 3 to 16 groups, strides,
    dilations (tap by tap), every padding form, float32 and float64, against the reference;
    at a dilation the planner's choice for few groups (NWC) or in NCW, where the public op
    matches the reference too."""
    rng = np.random.default_rng(43)
    for dtype in (np.float32, np.float64):
        for padding in PADDINGS:
            for c, s, k, d in [(3, 1, 9, 1), (8, 2, 33, 1), (16, 1, 16, 1), (5, 3, 12, 1),
                               (3, 1, 9, 3), (5, 2, 7, 2), (4, 1, 20, 5)]:
                w = random_array(rng, signal_shape(2, 150, c, data_format), dtype)
                g = conv1d_geometry(w.shape, (k, 1, c), s, d, padding, data_format, c)
                dz = random_array(rng, signal_shape(2, g.narrow, c, data_format), dtype)
                check(w, (k, 1, c), dz, s, d, padding, data_format, c, "fir",
                      f"fir depthwise {padding} {data_format} C={c} s={s} K={k} d={d}")
    w = random_array(rng, signal_shape(3, 1763, 5, data_format), np.float32)
    g = conv1d_geometry(w.shape, (107, 1, 5), 1, 8, "VALID", data_format, 5)
    assert _plan.choose("backprop_filter", g, 4, data_format) == "fir"
    dz = random_array(rng, signal_shape(3, g.narrow, 5, data_format), np.float32)
    check(w, (107, 1, 5), dz, 1, 8, "VALID", data_format, 5, None, "3 x 1763, K=107, d=8")
    outs = []
    for t in (1, 3):
        with conv1dt.threads(t):
            outs.append(call(w, (107, 1, 5), dz, 1, 8, "VALID", data_format, 5))
    np.testing.assert_array_equal(outs[0], outs[1])
    # a dilation whose 256 taps would span more than the kernel's window of the signal: blocks
    # of fewer taps (``FIR_GRAD_REACH``), for a depthwise call and for one channel each way
    for c in (4, 1):
        w = random_array(rng, signal_shape(1, 30500, c, data_format), np.float32)
        g = conv1d_geometry(w.shape, (300, 1, c), 1, 100, "VALID", data_format, c)
        assert _plan.choose("backprop_filter", g, 4, data_format) == "fir"
        assert (_plan.blocking("backprop_filter", "fir", g, 4)["taps"] - 1) * 100 < (
            _plan.FIR_GRAD_REACH)
        dz = random_array(rng, signal_shape(1, g.narrow, c, data_format), np.float32)
        check(w, (300, 1, c), dz, 1, 100, "VALID", data_format, c, None, f"C={c}, d=100")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_fir_pairs_against_the_reference(dtype, data_format):
    """A few channels each way (one group) by the FIR kernel pair by pair, forced: 1 -> 2,
    2 -> 1, 2 -> 2 and 3 -> 5 channels, strides 1 to 4, dilations 1 to 3 (and one channel each
    way at a dilation: tap by tap), every padding form, the rows in 1 or 3 chunks; against the
    reference, and on 1 and 3 threads the same bits. The planner takes it at dilation 1 for 2 to
    4 pairs of 2 to 8 taps where im2col's GEMMs have no side as long as a vector, at a larger
    dilation for the pairs whose sums fill a vector, not for one tap, groups or more pairs."""
    rng = np.random.default_rng(37)
    for padding in PADDINGS:
        for cw, cn, s, k, d in [(1, 2, 3, 2, 1), (2, 1, 1, 5, 1), (2, 2, 2, 7, 1), (3, 5, 4, 3, 1),
                                (1, 1, 2, 4, 3), (2, 3, 1, 3, 2), (4, 2, 3, 5, 3)]:
            w = random_array(rng, signal_shape(2, 301, cw, data_format), dtype)
            g = conv1d_geometry(w.shape, (k, cw, cn), s, d, padding, data_format, 1)
            dz = random_array(rng, signal_shape(2, g.narrow, cn, data_format), dtype)
            want, bound = family_oracle("backprop_filter", w, dz, g, data_format)
            for chunks in (1, 3):
                outs = []
                for t in (1, 3):
                    conv1dt.set_num_threads(t)
                    try:
                        df = _dispatch.conv1d_backprop_filter(
                            w, dz, g, data_format, "fir", blocks={"taps": 4, "chunks": chunks})
                    finally:
                        conv1dt.set_num_threads(None)
                    assert_family_matches(df, want, bound, filter_terms(g),
                                          f"fir pairs {padding} {data_format} {cw}->{cn} s={s} "
                                          f"K={k} d={d} chunks={chunks} threads={t}")
                    outs.append(df)
                np.testing.assert_array_equal(outs[0], outs[1])
    g = conv1d_geometry((1, 456583, 1), (2, 1, 2), 3, 1, (0, 1), "NWC", 1)
    assert _plan.choose("backprop_filter", g, 4) == "fir"
    assert _plan.choose("backprop_filter", g._replace(narrow_channels=4, wide_channels=2), 4) != "fir"
    assert _plan.choose("backprop_filter", g._replace(dilation=2), 4) == "fir"
    many = g._replace(dilation=2, wide_channels=4, narrow_channels=4)
    assert _plan.choose("backprop_filter", many, 4) != "fir"
    assert _plan.choose("backprop_filter", g._replace(taps=1), 4) != "fir"
    assert _plan.choose("backprop_filter", g._replace(taps=9), 4) != "fir"
    grouped = g._replace(wide_channels=2, narrow_channels=4, groups=2)
    assert _plan.choose("backprop_filter", grouped, 4) != "fir"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_long_dilated_filters_to_one_channel_by_the_firs(dtype, data_format):
    """More than 8 taps at a dilation, 2-4 input channels to one output channel, a signal of 8
    filter spans or more (``_plan._filter_long_dilated``): the planner picks the FIR kernel
    pair by pair, and the public op matches the reference, with the same bits on 1 and 3
    threads; more output channels, a short signal, a sparse window (``Cw*s`` beyond 16) or
    dilation 1 keep im2col."""
    rng = np.random.default_rng(47)
    itemsize = np.dtype(dtype).itemsize
    for n, wide, cw, k, s, d, padding in [(1, 4000, 3, 12, 1, 7, "SAME"),
                                          (3, 1500, 2, 33, 2, 4, "VALID"),
                                          (2, 2200, 4, 9, 3, 3, (5, 20)),
                                          (1, 3100, 2, 40, 8, 2, "SAME")]:
        w = random_array(rng, signal_shape(n, wide, cw, data_format), dtype)
        g = conv1d_geometry(w.shape, (k, cw, 1), s, d, padding, data_format, 1)
        if itemsize == 4 or cw * 8 <= _plan.FIR_PAIR_BYTES:
            assert _plan.choose("backprop_filter", g, itemsize, data_format) == "fir", (cw, k, d)
        dz = random_array(rng, signal_shape(n, g.narrow, 1, data_format), dtype)
        want, bound = family_oracle("backprop_filter", w, dz, g, data_format)
        pad = padding
        if not isinstance(padding, str):
            pad = ([[0, 0], list(padding), [0, 0]] if data_format == "NWC"
                   else [[0, 0], [0, 0], list(padding)])
        outs = []
        for t in (1, 3):
            conv1dt.set_num_threads(t)
            try:
                got = conv1dt.conv1d_backprop_filter(w, (k, cw, 1), dz, s, pad, data_format, d)
            finally:
                conv1dt.set_num_threads(None)
            assert_family_matches(got, want, bound, filter_terms(g),
                                  f"{n, wide, cw, k, s, d, padding} {data_format} threads={t}")
            outs.append(got)
        np.testing.assert_array_equal(outs[0], outs[1])
    g = conv1d_geometry((1, 4000, 3), (12, 3, 1), 1, 7, "SAME", "NWC", 1)
    assert _plan.choose("backprop_filter", g, 4) == "fir"
    assert _plan.choose("backprop_filter", g._replace(narrow_channels=2), 4) != "fir"
    assert _plan.choose("backprop_filter", g._replace(wide=600), 4) != "fir"      # < 8 spans
    assert _plan.choose("backprop_filter", g._replace(stride=6), 4) != "fir"      # Cw*s = 18
    assert _plan.choose("backprop_filter", g._replace(dilation=1), 4) != "fir"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_fir_against_the_reference(dtype, data_format):
    """The FIR filter gradient (one channel each way, dilation 1) forced through the dispatch
    and picked by the planner, in both layouts, every padding form, strides 1 to 5, signals
    shorter than the filter, and into ``out``."""
    rng = np.random.default_rng(31)
    for padding in PADDINGS:
        for s, k in [(1, 7), (2, 5), (3, 12), (5, 3), (4, 64)]:
            for wide in conv1d_widths(k, s, 1, padding, (1, 5, 23, 600)):
                w = random_array(rng, signal_shape(2, wide, 1, data_format), dtype)
                g = conv1d_geometry(w.shape, (k, 1, 1), s, 1, padding, data_format, 1)
                dz = random_array(rng, signal_shape(2, g.narrow, 1, data_format), dtype)
                check(w, (k, 1, 1), dz, s, 1, padding, data_format, 1, "fir",
                      f"fir {padding} {data_format} s={s} K={k} L={wide}")
    w = random_array(rng, (4, 20000, 1), dtype)
    dz = random_array(rng, (4, 2500, 1), dtype)
    g = check(w, (64, 1, 1), dz, 8, 1, "SAME", "NWC", 1)
    assert _plan.choose("backprop_filter", g, np.dtype(dtype).itemsize) == "fir"
    # at a dilation, 64 taps tap by tap: in float32 at stride 8, not float64's (s * 8 > 48)
    assert _plan.choose("backprop_filter", g._replace(dilation=2), 4) == "fir"
    assert _plan.choose("backprop_filter", g._replace(dilation=2), 8) != "fir"
    assert _plan.choose("backprop_filter", g._replace(dilation=2, stride=6), 8) == "fir"
    assert _plan.choose("backprop_filter", g._replace(dilation=2, narrow=399), 4) != "fir"
    assert _plan.choose("backprop_filter", g._replace(taps=1), 4) != "fir"      # a strided dot
    # depthwise: NCW, or at most 8 groups in NWC, with a vector of taps
    dw = g._replace(wide_channels=64, narrow_channels=64, groups=64)
    assert _plan.choose("backprop_filter", dw, 4, "NCW") == "fir"
    assert _plan.choose("backprop_filter", dw, 4, "NWC") != "fir"
    assert _plan.choose("backprop_filter", dw._replace(taps=3), 4, "NCW") != "fir"
    few = g._replace(wide_channels=4, narrow_channels=4, groups=4)
    assert _plan.choose("backprop_filter", few, 4, "NWC") == "fir"
    out = np.full((64, 1, 1), np.nan, dtype)
    assert _dispatch.conv1d_backprop_filter(w, dz, g, "NWC", "fir", out) is out
    np.testing.assert_array_equal(out, call(w, (64, 1, 1), dz, 8, 1, "SAME", "NWC", 1, "fir"))


def check_blocks(w, dz, g, blocks, want, bound, what):
    """The im2col filter gradient (NWC) with ``blocks`` on 1 and 3 threads: the same bits, and
    the reference's values within ``bound``."""
    outs = []
    try:
        for t in (1, 3):
            conv1dt.set_num_threads(t)
            outs.append(_dispatch.conv1d_backprop_filter(w, dz, g, "NWC", "im2col", blocks=blocks))
    finally:
        conv1dt.set_num_threads(None)
    np.testing.assert_array_equal(outs[0], outs[1])
    assert_family_matches(outs[0], want, bound, filter_terms(g), what)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemv_columns_against_the_reference(dtype):
    """The im2col filter gradient by one GEMV per gathered column (one or two input channels a
    group, one to three taps, many output channels): strides, dilations and padding past the
    signal, blocks of rows spanning batch elements, one chunk and several, groups; against the
    reference, the same bits on 1 and 3 threads, and the planner's choice of it for such a
    call."""
    rng = np.random.default_rng(41)
    for n, wide, cw, cn, k, s, d, padding, groups in [
            (3, 90, 1, 130, 3, 1, 1, "SAME", 1), (2, 200, 1, 257, 2, 3, 4, (7, 1), 1),
            (4, 60, 2, 300, 1, 2, 1, "VALID", 1), (2, 150, 2, 400, 1, 1, 1, (3, 5), 2),
            (5, 41, 3, 129, 1, 5, 2, "SAME", 1), (1, 500, 1, 160, 3, 2, 7, (20, 0), 1)]:
        w, f_shape, dz = operands(rng, n, wide, k, s, d, padding, "NWC", groups, cw // groups,
                                  cn // groups, dtype)
        g = backprop_filter_geometry(w.shape, f_shape, dz.shape, s, d, padding, "NWC", groups)
        want, bound = family_oracle("backprop_filter", w, dz, g, "NWC")
        for rows, chunks in ((7, 1), (13, 3), (1024, 2)):
            blocks = {"rows": rows, "taps": k, "chunks": chunks, "skinny": False,
                      "inplace": False, "gemv": True}
            check_blocks(w, dz, g, blocks, want, bound,
                         f"gemv {n, wide, cw, cn, k, s, d, padding, groups} {rows} {chunks}")
    g = backprop_filter_geometry((28, 27, 1), (3, 1, 759), (28, 27, 759), 1, 1, "SAME", "NWC", 1)
    assert _plan.choose("backprop_filter", g, 4) == "im2col"
    assert _plan.blocking("backprop_filter", "im2col", g, 4)["gemv"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_few_rows_into_a_large_gradient(dtype):
    """A few (batch, position) rows in one block under a gradient of 8 MiB and more
    (``_plan.filter_stream``): its GEMMs by the skinny GEMM, written past the caches; output
    channels that leave a vector's rest, taps past the signal (zeroed), one and two taps a
    block; against the reference, the same bits on 1 and 3 threads, the public op as planned;
    that the streamed GEMM ran iff the blocks ask for it (its count of runs,
    ``_cpu._streamed_calls``: BLAS gives the same values); and the planner's rule."""
    rng = np.random.default_rng(45)
    for n, wide, cw, cn, k, s, padding in [(2, 9, 128, 2100, 8, 1, "VALID"),
                                           (3, 20, 81, 1597, 27, 3, (2, 9))]:
        w, f_shape, dz = operands(rng, n, wide, k, s, 1, padding, "NWC", 1, cw, cn, dtype)
        assert np.prod(f_shape) * np.dtype(dtype).itemsize >= 8 << 20
        g = backprop_filter_geometry(w.shape, f_shape, dz.shape, s, 1, padding, "NWC", 1)
        assert g.batch * g.narrow <= 24
        want, bound = family_oracle("backprop_filter", w, dz, g, "NWC")
        for taps in (1, 2):
            for stream in (True, False):
                blocks = {"rows": 512, "taps": taps, "chunks": 1, "skinny": False,
                          "inplace": False, "stream": stream}
                before = _cpu._streamed_calls()
                check_blocks(w, dz, g, blocks, want, bound,
                             f"{n, wide, cw, cn, k, s, padding} {taps} {stream}")
                assert (_cpu._streamed_calls() > before) == stream, (taps, stream)
        pad = padding if isinstance(padding, str) else [[0, 0], list(padding), [0, 0]]
        before = _cpu._streamed_calls()
        got = conv1dt.conv1d_backprop_filter(w, f_shape, dz, s, pad)
        assert _cpu._streamed_calls() > before, "as planned"
        assert_family_matches(got, want, bound, filter_terms(g), "as planned")
        itemsize = np.dtype(dtype).itemsize
        assert _plan.filter_stream(g, itemsize)
        assert not _plan.filter_stream(g._replace(batch=25, narrow=1), itemsize)    # 25 rows
        # without AVX-512 (AVX2's skinny GEMM) at most 9 rows, into 2 KiB of channels a row
        # (the narrower gradient kept at 8 MiB or more by more input channels, so that only the
        # row's bytes decide)
        assert _plan.filter_stream(g._replace(batch=10, narrow=1), itemsize) == _plan.SKINNY
        narrow_rows = g._replace(narrow_channels=2047 // itemsize, wide_channels=8 * cw)
        assert k * 8 * cw * (2047 // itemsize) * itemsize >= _plan.STREAM_MIN_BYTES
        assert _plan.filter_stream(narrow_rows, itemsize) == _plan.SKINNY
        assert not _plan.filter_stream(g._replace(narrow_channels=cn // 4), itemsize)
    g = backprop_filter_geometry((3, 27, 81), (27, 81, 1597), (3, 1, 1597), 3, 1, "VALID", "NWC")
    blocks = _plan.blocking("backprop_filter", "im2col", g, 8)
    assert blocks["stream"] and not blocks["skinny"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gathered_blocks_by_the_packed_gemm(dtype):
    """The im2col filter gradient's gathered blocks by the packed GEMM: whole vectors of output
    channels and a rest, input channels that leave its vectors empty (BLAS's GEMM then), padding
    past the signal, blocks of rows spanning batch elements, one chunk and several; against the
    reference, the same bits on 1 and 3 threads; that the packed GEMM ran where the blocks ask
    for it and its shape suits it (its count of runs, ``_cpu._packed_calls``), and not without
    the flag (the BLAS's GEMM, with the packed GEMM off for every GEMM); and the planner's rule
    (``filter_packed``)."""
    rng = np.random.default_rng(43)
    lanes = 64 // np.dtype(dtype).itemsize
    was = _cpu.packed_on()
    try:
        _cpu._set_packed(False)
        for n, wide, cw, cn, k, s, d, padding in [
                (3, 200, 32, 32, 5, 2, 1, "SAME"), (2, 300, 16, 48, 3, 1, 4, (9, 2)),
                (4, 90, 7, 19, 4, 3, 1, "VALID"), (1, 500, 64, 40, 2, 1, 1, (0, 30))]:
            w, f_shape, dz = operands(rng, n, wide, k, s, d, padding, "NWC", 1, cw, cn, dtype)
            g = backprop_filter_geometry(w.shape, f_shape, dz.shape, s, d, padding, "NWC", 1)
            want, bound = family_oracle("backprop_filter", w, dz, g, "NWC")
            what = f"{n, wide, cw, cn, k, s, d, padding}"
            # the packed GEMM takes df [K*Cw x Cn] of at least a vector of output channels, at
            # most a fifth of its vectors' lanes empty (_blas.packed_gemm)
            takes = cn >= lanes and 4 * (-cn % lanes) <= cn
            for rows, chunks in ((16, 1), (37, 3), (512, 2)):
                blocks = {"rows": rows, "taps": k, "chunks": chunks, "skinny": False,
                          "inplace": False, "packed": True}
                before = _cpu._packed_calls()
                check_blocks(w, dz, g, blocks, want, bound, f"packed {what} {rows} {chunks}")
                assert (_cpu._packed_calls() > before) == takes, (what, rows, chunks)
            before = _cpu._packed_calls()
            check_blocks(w, dz, g, dict(blocks, packed=False), want, bound, f"BLAS {what}")
            assert _cpu._packed_calls() == before, what
    finally:
        _cpu._set_packed(was)
    # the rule: one group, FILTER_PACKED_ROWS rows in all, on AVX-512 (where the skinny GEMM is)
    g = conv1d_geometry((64, 1024, 32), (5, 32, 32), 2, 1, "SAME", "NWC")
    assert g.batch * g.narrow >= _plan.FILTER_PACKED_ROWS
    assert _plan.filter_packed(g, 4, 5) == _plan.SKINNY
    assert _plan.filter_packed(g, 8, 5) == _plan.SKINNY
    assert not _plan.filter_packed(g._replace(batch=7), 4, 5)             # 3584 rows
    assert not _plan.filter_packed(g._replace(groups=2, wide_channels=64, narrow_channels=64), 4, 5)
    assert not _plan.filter_packed(g._replace(narrow_channels=40), 4, 5)   # 2.5 vectors
    assert _plan.filter_packed(g._replace(narrow_channels=40), 8, 5) == _plan.SKINNY
    assert not _plan.filter_packed(g._replace(wide_channels=3), 4, 5)      # 15 columns
    assert not _plan.filter_packed(g._replace(wide_channels=4), 4, 5)      # 4 input channels
    assert not _plan.filter_packed(g._replace(narrow_channels=256), 4, 5)  # many outputs
    blocks = _plan.blocking("backprop_filter", "im2col", g, 4)
    assert blocks["packed"] == (_plan.SKINNY and not blocks["skinny"])
