"""conv1d's compiled path against its oracles: a systematic grid, a random search, every kernel.

Oracles: ``conv1dt.reference.conv1d`` (the definition, in float64 or complex128) and ``im2col``
(windows of the padded input and ``einsum``, sharing only the pad arithmetic). Tolerances are the
gamma_n bounds of conftest.py with ``n = K * Cin/groups + 1`` products per output.
"""
import numpy as np
import pytest
from hypothesis import given, settings

import conv1dt
from conv1dt import _dispatch, _plan
from conv1dt._compiled import _conv1d, _cpu
from conv1dt._args import parse_padding
from conv1dt._geometry import conv1d_geometry
from conftest import (
    FAMILY_DTYPES,
    FAMILY_GROUPS,
    FAMILY_PADDINGS,
    assert_family_matches,
    conv1d_cases,
    conv1d_grid,
    conv1d_terms,
    conv1d_widths,
    explicit,
    family_oracle,
    im2col_conv1d,
    random_array,
    signal_shape,
    stable_seed,
)

DTYPES, PADDINGS, GROUPS = FAMILY_DTYPES, FAMILY_PADDINGS, FAMILY_GROUPS

# the instruction sets on which the planner runs conv1d's dot kernel (_plan.conv1d_dot)
DOT_ISA = _plan.SKINNY or _plan.AVX2


def call(w, f, s, d, padding, data_format, groups, kernel=None):
    """conv1d through the public function, or with a forced kernel through the dispatch."""
    if kernel is None:
        return conv1dt.conv1d(w, f, s, explicit(padding, data_format), data_format, d, groups=groups)
    g = conv1d_geometry(w.shape, f.shape, s, d, padding, data_format, groups)
    return _dispatch.conv1d(np.ascontiguousarray(w), np.ascontiguousarray(f), g, data_format, kernel)


def check(w, f, s, d, padding, data_format, groups, kernel=None, what=""):
    y = call(w, f, s, d, padding, data_format, groups, kernel)
    g = conv1d_geometry(w.shape, f.shape, s, d, padding, data_format, groups)
    assert y.shape == signal_shape(g.batch, g.narrow, g.narrow_channels, data_format)
    assert y.dtype == w.dtype
    want, bound = family_oracle("conv1d", w, f, g, data_format)
    assert_family_matches(y, want, bound, conv1d_terms(g), what)
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
        w = random_array(rng, signal_shape(2, wide, groups * cwg, data_format), dtype)
        f = random_array(rng, (k, cwg, groups * cng), dtype)
        check(w, f, s, d, padding, data_format, groups, what=f"s={s} d={d} K={k} L={wide}")
        cases += 1
    assert cases >= 40


def test_reference_agrees_with_im2col(rng):
    """The two oracles, written independently, agree (so neither can drift alone)."""
    for padding in PADDINGS + [(0, 5)]:
        for s, d, k in [(1, 1, 3), (2, 1, 4), (3, 2, 2), (2, 3, 3)]:
            for groups, cwg, cng in GROUPS:
                for wide in conv1d_widths(k, s, d, padding, (0, 1, 3, 8)):
                    w = random_array(rng, (2, wide, groups * cwg), np.complex128)
                    f = random_array(rng, (k, cwg, groups * cng), np.complex128)
                    g = conv1d_geometry(w.shape, f.shape, s, d, padding, "NWC", groups)
                    want, _ = family_oracle("conv1d", w, f, g)
                    np.testing.assert_allclose(want, im2col_conv1d(w, f, g), rtol=1e-12, atol=1e-12)


def zero_padded(w, padding, k, s, d):
    """``(w padded with zeros, (lo, hi))``, the pads written out here independently: explicit
    pairs as given, SAME as TensorFlow documents it (total ``max((ceil(L/s) - 1)*s + Keff - L, 0)``,
    the smaller half before)."""
    if padding == "SAME":
        wide, keff = w.shape[1], (k - 1) * d + 1
        total = max((-(-wide // s) - 1) * s + keff - wide, 0)
        padding = (total // 2, total - total // 2)
    lo, hi = (0, 0) if padding == "VALID" else padding
    return np.pad(w, [(0, 0), (lo, hi), (0, 0)]), (lo, hi)


def test_padding_is_zero_padding_then_valid(rng):
    """conv1d with SAME or explicit padding is VALID conv1d of the zero-padded input."""
    for padding in ["SAME", (2, 0), (1, 3), (0, 4), (6, 6)]:
        for s, d, k in [(1, 1, 3), (2, 1, 4), (3, 2, 2), (2, 3, 3)]:
            for wide in conv1d_widths(k, s, d, padding, (1, 4, 9, 10)):
                w = random_array(rng, (2, wide, 4), np.float64)
                f = random_array(rng, (k, 2, 6), np.float64)
                padded, pads = zero_padded(w, padding, k, s, d)
                y = conv1dt.conv1d(w, f, s, explicit(padding, "NWC"), dilations=d, groups=2)
                np.testing.assert_array_equal(y, conv1dt.conv1d(padded, f, s, "VALID", dilations=d, groups=2))


@settings(max_examples=250, deadline=None)
@given(conv1d_cases())
def test_random_against_reference_and_im2col(case):
    padding, data_format, dtype, groups, cwg, cng, n, k, s, d, wide, seed = case
    rng = np.random.default_rng(seed)
    w = random_array(rng, signal_shape(n, wide, groups * cwg, data_format), dtype)
    f = random_array(rng, (k, cwg, groups * cng), dtype)
    g = check(w, f, s, d, padding, data_format, groups, what=str(case))
    w_nwc = w if data_format == "NWC" else w.transpose(0, 2, 1)
    want, _ = family_oracle("conv1d", w, f, g, data_format)
    other = im2col_conv1d(w_nwc, f.astype(want.dtype), g)
    np.testing.assert_allclose(want, other if data_format == "NWC" else other.transpose(0, 2, 1),
                               rtol=1e-12, atol=1e-12)


KERNELS = ["direct", "blas", "implicit", "dot"]   # implicit, dot: as im2col where the windows
# are not runs
LONG = [  # (N, L, Cin, Cout, K, s, d, padding, groups): many blocks, tap edges, groups
    (2, 700, 1, 1, 5, 1, 1, "SAME", 1),
    (1, 900, 4, 6, 9, 3, 2, "VALID", 2),
    (3, 333, 20, 24, 3, 2, 1, (4, 1), 1),
    (1, 1000, 16, 16, 7, 1, 2, "SAME", 16),     # depthwise
    (2, 520, 12, 18, 4, 2, 3, "VALID", 3),
    (1, 600, 40, 33, 2, 5, 1, (0, 7), 1),
    (2, 700, 40, 70, 5, 1, 2, "SAME", 1),       # stride 1, many channels: the transpose's tiles
    (1, 500, 130, 20, 3, 1, 1, (3, 1), 1),
]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_kernel_small_grid(kernel, dtype):
    """Each kernel forced on shapes the rule would give the other (channels 1 and 9)."""
    rng = np.random.default_rng(5)
    for padding in PADDINGS:
        for data_format in ("NWC", "NCW"):
            for s, d, k in [(1, 1, 3), (2, 1, 4), (3, 2, 2), (4, 1, 1)]:
                for groups, cwg, cng in GROUPS + [(1, 9, 9), (2, 1, 5)]:
                    for wide in conv1d_widths(k, s, d, padding, (0, 1, 6, 11)):
                        w = random_array(rng, signal_shape(2, wide, groups * cwg, data_format), dtype)
                        f = random_array(rng, (k, cwg, groups * cng), dtype)
                        check(w, f, s, d, padding, data_format, groups, kernel,
                              f"{kernel} {padding} {data_format} s={s} d={d} K={k} G={groups} L={wide}")


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("case", LONG, ids=[str(c) for c in LONG])
def test_long_signals(kernel, case):
    n, wide, cin, cout, k, s, d, padding, groups = case
    rng = np.random.default_rng(wide)
    for data_format in ("NWC", "NCW"):
        w = random_array(rng, signal_shape(n, wide, cin, data_format), np.float32)
        f = random_array(rng, (k, cin // groups, cout), np.float32)
        check(w, f, s, d, padding, data_format, groups, kernel, f"{kernel} {case}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grouped_direct_by_spread_rows(dtype):
    """The direct kernel with groups (not one channel each way) whose output rows fill a vector
    and at least 2*s taps spreads each input row to the output's channels and adds whole output
    rows: 16 to 1036 output channels (two vectors at a time, one, and the lanes left), one input
    channel a group and several, strides 1 to 7 with dilations sharing a factor with them or
    not, padding beyond the signal, outputs over several blocks of 64 rows; against the
    reference, and the same bits on 1 and 3 threads."""
    rng = np.random.default_rng(31)
    for groups, cwg, cng, k, s, d, padding in [
            (8, 2, 2, 5, 2, 1, "SAME"), (16, 1, 2, 9, 3, 2, "VALID"), (5, 3, 7, 4, 1, 1, (3, 2)),
            (33, 2, 1, 7, 2, 3, "SAME"), (4, 4, 4, 12, 4, 2, (10, 30)), (74, 1, 14, 3, 1, 1, "SAME"),
            (3, 5, 6, 15, 7, 3, (40, 0))]:
        for data_format in ("NWC", "NCW"):
            w = random_array(rng, signal_shape(2, 400, groups * cwg, data_format), dtype)
            f = random_array(rng, (k, cwg, groups * cng), dtype)
            g = conv1d_geometry(w.shape, f.shape, s, d, padding, data_format, groups)
            assert _conv1d.spreads(groups, cwg, groups * cng, w.itemsize, g.narrow, k, s, d,
                                   g.pad_before)
            outs = []
            for threads in (1, 3):
                with conv1dt.threads(threads):
                    outs.append(check(w, f, s, d, padding, data_format, groups, "direct",
                                      f"G={groups} {cwg}->{cng} K={k} s={s} d={d} {padding}")
                                and call(w, f, s, d, padding, data_format, groups, "direct"))
            np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_groups_of_one_output_by_elementwise_sums(dtype):
    """The direct kernel with groups of one output channel each (2+ inputs a group) where it
    does not spread its input rows: each tap's products along the whole input row, then each
    group's sum. 2 to 40 inputs a group, taps reaching past both ends (and none on the signal
    for some outputs), strides and dilations, outputs over several blocks of 64 rows, an odd
    input row length; against the reference, the same bits on 1 and 3 threads; the input and
    the filter unchanged."""
    rng = np.random.default_rng(37)
    for groups, cwg, k, s, d, padding in [
            (7, 2, 8, 9, 6, "VALID"), (9, 3, 5, 6, 4, "SAME"), (5, 40, 3, 1, 1, (4, 9)),
            (7, 5, 30, 2, 3, (60, 70)), (3, 7, 1, 2, 1, "SAME"), (31, 2, 5, 13, 1, "SAME")]:
        for data_format in ("NWC", "NCW"):
            w = random_array(rng, signal_shape(2, 301, groups * cwg, data_format), dtype)
            f = random_array(rng, (k, cwg, groups), dtype)
            g = conv1d_geometry(w.shape, f.shape, s, d, padding, data_format, groups)
            assert not _conv1d.spreads(groups, cwg, groups, w.itemsize, g.narrow, k, s, d,
                                       g.pad_before)
            w0, f0 = w.copy(), f.copy()
            outs = []
            for threads in (1, 3):
                with conv1dt.threads(threads):
                    check(w, f, s, d, padding, data_format, groups, "direct",
                          f"G={groups} {cwg}->1 K={k} s={s} d={d} {padding}")
                    outs.append(call(w, f, s, d, padding, data_format, groups, "direct"))
            np.testing.assert_array_equal(outs[0], outs[1])
            np.testing.assert_array_equal(w, w0)
            np.testing.assert_array_equal(f, f0)


def test_groups_of_one_output_choose_the_direct_kernel():
    """A conv1d of groups of one output each, 2+ taps, up to 96 bytes of inputs a group and an
    input row of 256 bytes or more, where the direct kernel does not spread its rows, runs the
    direct kernel's elementwise sums rather than GEMMs of one column per group and tap; not
    one tap, wider groups or a spread; through the public op, against the reference."""
    def grouped(groups, cwg, k, s, itemsize=4, d=1):
        g = conv1d_geometry((2, 2000, groups * cwg), (k, cwg, groups), s, d, "SAME", "NWC",
                            groups)
        return g, _plan.choose("conv1d", g, itemsize)
    g, kernel = grouped(15, 5, 3, 1)
    assert _plan._group_sums(g, 4) and kernel == "direct"
    assert _plan._group_sums(grouped(57, 13, 6, 15)[0], 4)
    assert not _plan._group_sums(grouped(57, 13, 1, 15)[0], 4)            # one tap
    assert not _plan._group_sums(grouped(30, 25, 3, 2)[0], 4)             # 100 bytes a group
    assert not _plan._group_sums(grouped(30, 13, 3, 2)[0], 8)             # (float64)
    assert _plan._group_sums(grouped(30, 12, 3, 2)[0], 8)
    assert not _plan._group_sums(grouped(4, 10, 3, 1)[0], 4)              # a 160-byte row
    assert not _plan._group_sums(grouped(46, 2, 7, 1)[0], 4)              # spread
    rng = np.random.default_rng(73)
    for dtype in (np.float32, np.float64):
        w = random_array(rng, (3, 500, 60 * 4), dtype)
        f = random_array(rng, (9, 4, 60), dtype)
        g = conv1d_geometry(w.shape, f.shape, 3, 2, "VALID", "NWC", 60)
        assert _plan.choose("conv1d", g, w.itemsize) == "direct"
        want, bound = family_oracle("conv1d", w, f, g, "NWC")
        y = conv1dt.conv1d(w, f, 3, "VALID", dilations=2, groups=60)
        assert_family_matches(y, want, bound, conv1d_terms(g), "G=60, 4 -> 1 a group, K=9")


def test_many_groups_of_few_channels_by_the_direct_kernel_on_avx2():
    """On AVX2 a grouped conv1d of few channel pairs (a depthwise channel multiplier and the
    like) from ``GROUPED_DIRECT_MIN_GROUPS`` groups runs the direct kernel where im2col's small
    GEMMs group by group were chosen before (not float64 with 7+ outputs a group, not fewer
    groups), and so does a channel multiplier of up to 32 outputs a group where BLAS's were;
    through the public op, against the reference."""
    def grouped(groups, cwg, cng, k, s, itemsize=4):
        g = conv1d_geometry((2, 1306, groups * cwg), (k, cwg, groups * cng), s, 1, "SAME",
                            "NWC", groups)
        return _plan.choose("conv1d", g, itemsize)
    many = "direct" if _plan.AVX2 else "im2col"
    assert grouped(242, 1, 2, 36, 2) == many                   # 5.15 -> 1.62 ms, one thread
    assert grouped(_plan.GROUPED_DIRECT_MIN_GROUPS, 2, 3, 20, 1) == many
    assert grouped(_plan.GROUPED_DIRECT_MIN_GROUPS - 1, 2, 3, 20, 1) == "im2col"
    assert grouped(40, 1, 8, 47, 1, 8) == "im2col"             # float64, 8 outputs a group
    assert grouped(40, 1, 8, 47, 1, 4) == many
    # ... and channel multipliers of up to 32 outputs a group that chose BLAS
    assert grouped(72, 1, 12, 4, 1) == many                    # 15.9 -> 5.1 ms, two threads
    assert grouped(72, 1, 33, 4, 1) == "im2col"                # (33+ outputs a group)
    assert grouped(8, 1, 12, 4, 1) == "blas"
    assert grouped(72, 2, 6, 4, 1) == "blas"
    rng = np.random.default_rng(71)
    for dtype in (np.float32, np.float64):
        w = random_array(rng, (2, 300, 24), dtype)
        f = random_array(rng, (17, 2, 72), dtype)
        g = conv1d_geometry(w.shape, f.shape, 2, 1, "SAME", "NWC", 12)
        assert _plan.choose("conv1d", g, w.itemsize) == many
        want, bound = family_oracle("conv1d", w, f, g, "NWC")
        y = conv1dt.conv1d(w, f, 2, "SAME", groups=12)
        assert_family_matches(y, want, bound, conv1d_terms(g), "G=12, 2 -> 6 a group, K=17")
        w1, f1 = w[:, :, :12], random_array(rng, (3, 1, 12 * 20), dtype)
        g1 = conv1d_geometry(w1.shape, f1.shape, 1, 2, "SAME", "NWC", 12)
        assert _plan.choose("conv1d", g1, w.itemsize) == ("direct" if _plan.AVX2 else "blas")
        want, bound = family_oracle("conv1d", w1, f1, g1, "NWC")
        y = conv1dt.conv1d(w1, f1, 1, "SAME", dilations=2, groups=12)
        assert_family_matches(y, want, bound, conv1d_terms(g1), "G=12, 1 -> 20 a group, K=3")


WIDE_PADDING = [  # (N, L, Cw, Cn, K, s, d, padding, groups): most taps reach only padding
    (3, 40, 3, 5, 61, 1, 1, (55, 50), 1),
    (2, 30, 4, 6, 50, 2, 2, (80, 20), 2),     # the first outputs reach no sample at all
    (1, 108, 10, 12, 117, 3, 1, (117, 92), 2),
]


@pytest.mark.parametrize("kernel", ["im2col", "im2col-skinny", "implicit"])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("case", WIDE_PADDING, ids=[str(c) for c in WIDE_PADDING])
def test_im2col_skips_the_taps_that_reach_only_padding(case, data_format, kernel):
    """Blocks of 7 rows (spanning batch elements in NWC), taps in blocks of 5: each block (or
    each run of the implicit kernel's edge outputs) gathers only the taps that reach the signal
    from one of its outputs, the others' columns being zeros."""
    n, wide, cw, cn, k, s, d, padding, groups = case
    if kernel == "implicit":        # its domain: one group, NWC (else it runs as im2col)
        groups, cw, d, data_format = 1, 1, 2, "NWC"
    rng = np.random.default_rng(k)
    w = random_array(rng, signal_shape(n, wide, cw, data_format), np.float64)
    f = random_array(rng, (k, cw // groups, cn), np.float64)
    g = conv1d_geometry(w.shape, f.shape, s, d, padding, data_format, groups)
    blocks = {"rows": 7, "taps": 5, "stream": False,
              "skinny": kernel == "im2col-skinny" and data_format == "NWC"}
    y = _dispatch.conv1d(w, f, g, data_format, kernel.split("-")[0], blocks=blocks)
    want, bound = family_oracle("conv1d", w, f, g, data_format)
    assert_family_matches(y, want, bound, conv1d_terms(g), f"im2col {case}")


FEW_ROWS = [  # (N, L, Cw, Cn, K, s, d, padding, groups, taps a block): a few outputs in all
    (5, 60, 20, 40, 60, 1, 1, "VALID", 1, 60),       # one output each, 1200 taps*channels
    (3, 70, 16, 33, 35, 1, 2, "VALID", 1, 13),       # taps in blocks: the products added in turn
    (2, 50, 12, 20, 24, 13, 1, "SAME", 2, 24),       # 4 outputs each, two groups
    (1, 9, 3, 17, 9, 1, 1, "VALID", 1, 9),           # one output, a filter narrower than a vector
    (7, 16, 8, 64, 16, 1, 1, "VALID", 1, 4),         # 7 rows: one band of 7
    # rows of the filter of 2 KiB and more (float32, or float64 only): read in memory order
    (2, 12, 8, 520, 12, 1, 1, "VALID", 1, 12),       # two rows
    (5, 30, 4, 600, 30, 1, 1, "VALID", 1, 7),        # 5 rows: bands of 4 and 1
    (3, 11, 6, 700, 11, 1, 1, "VALID", 2, 4),        # groups of 350 outputs
    (1, 40, 10, 300, 20, 1, 2, "VALID", 1, 20),      # one output: BLAS's GEMV
]


@pytest.mark.parametrize("ksplit", [1, 2, 3, 8])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", FEW_ROWS, ids=[str(c) for c in FEW_ROWS])
def test_im2col_few_rows_by_the_streamed_skinny_gemm(case, dtype, ksplit):
    """Blocks of at most ``FEW_ROWS`` rows multiply by the skinny GEMM in blocks of the filter's
    rows (each asking for the next), the taps in blocks added in turn, groups side by side; with
    ``ksplit`` the block's reaching taps in that many chunks (8: past some calls' taps, one a
    tap), each a work item writing partial outputs, summed in order after (chunks that reach
    none of the signal too): against the reference; on 1 and 3 threads, the same bits."""
    n, wide, cw, cn, k, s, d, padding, groups, taps = case
    rng = np.random.default_rng(wide + k)
    w = random_array(rng, (n, wide, cw), dtype)
    f = random_array(rng, (k, cw // groups, cn), dtype)
    g = conv1d_geometry(w.shape, f.shape, s, d, padding, "NWC", groups)
    assert g.batch * g.narrow <= 32
    blocks = {"rows": 8, "taps": taps, "stream": False, "skinny": False, "few": 8,
              "ksplit": ksplit}
    outs = []
    try:
        for t in (1, 3):
            conv1dt.set_num_threads(t)
            outs.append(_dispatch.conv1d(w, f, g, "NWC", "im2col", blocks=blocks))
    finally:
        conv1dt.set_num_threads(None)
    want, bound = family_oracle("conv1d", w, f, g, "NWC")
    assert_family_matches(outs[0], want, bound, conv1d_terms(g), f"few rows {case} {ksplit}")
    np.testing.assert_array_equal(outs[0], outs[1])


def test_a_few_rows_under_a_large_filter_are_split_into_chunks_of_taps():
    """The plan's split (``_plan.few_rows_split``): 8 rows in all under a 13 MiB filter in 8
    chunks of the taps where the streamed skinny GEMM takes them (AVX-512); a SAME call whose
    one output reaches 2 of 64 taps in 2 chunks; too little work on the signal, none."""
    big = conv1d_geometry((8, 377, 264), (95, 264, 133), 4, 4, "VALID", "NWC", 1)
    assert (_plan.blocking("conv1d", "im2col", big, 4).get("ksplit") == 8) == _plan.SKINNY
    if not _plan.SKINNY:
        return
    few = {"few": 8, "rows": 8}
    same = conv1d_geometry((4, 2, 600), (64, 600, 1024), 2, 1, "SAME", "NWC", 1)
    assert _plan._on_signal_outputs(same) == 0
    links = _plan.links_on_signal(same.wide, same.narrow, same.taps, same.stride, same.dilation,
                                  same.pad_before)
    assert _plan.few_rows_split(same, few)["ksplit"] == -(-links // same.narrow) < 8
    assert "ksplit" not in _plan.few_rows_split(big._replace(wide_channels=1,
                                                             narrow_channels=16), few)


BLAS_BLOCKS = [  # n, wide, cw, cn, k, s, d, padding, groups
    (1, 300, 24, 130, 3, 2, 1, "SAME", 1), (2, 97, 12, 70, 4, 1, 2, "VALID", 1),
    (1, 61, 8, 66, 5, 3, 1, "SAME", 2), (3, 40, 9, 33, 2, 1, 3, "SAME", 3),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", BLAS_BLOCKS, ids=[str(c) for c in BLAS_BLOCKS])
def test_blas_row_and_channel_blocks(case, dtype):
    """The BLAS kernel's items are blocks of rows by blocks of adjacent groups by blocks of a
    group's output channels: rows of 1 to all, channel blocks of 1, 7, 16 and all (the last
    block short), one group to all of them an item: against the reference; on 1 and 3 threads,
    the same bits, whatever the block of groups."""
    n, wide, cw, cn, k, s, d, padding, groups = case
    rng = np.random.default_rng(wide + k)
    w = random_array(rng, (n, wide, cw), dtype)
    f = random_array(rng, (k, cw // groups, cn), dtype)
    g = conv1d_geometry(w.shape, f.shape, s, d, padding, "NWC", groups)
    want, bound = family_oracle("conv1d", w, f, g, "NWC")
    for rows in (1, 13, 1024):
        for channels in (1, 7, 16, cn // groups):
            outs = []
            for gb in sorted({1, 2, groups}):
                for t in (1, 3):
                    y = np.full((n, g.narrow, cn), np.nan, dtype)
                    _conv1d.conv1d_blas(w, f, y, s, d, g.pad_before, groups, rows, t, channels,
                                        gb)
                    assert_family_matches(y, want, bound, conv1d_terms(g),
                                          f"blas {case} rows={rows} channels={channels} "
                                          f"groups={gb} threads={t}")
                    outs.append(y)
            for y in outs[1:]:
                np.testing.assert_array_equal(outs[0], y)


STACKED = [  # n, wide, cw, cn, k, s, padding: taps s at a time (blocks short of s, none whole)
    (2, 301, 20, 40, 4, 2, "SAME"), (1, 64, 16, 33, 7, 3, "VALID"), (3, 50, 17, 48, 2, 4, "SAME"),
    (1, 30, 16, 32, 13, 5, [[0, 0], [11, 2], [0, 0]]), (2, 9, 24, 20, 8, 2, "SAME"),
    (1, 200, 32, 64, 16, 8, [[0, 0], [7, 0], [0, 0]]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", STACKED, ids=[str(c) for c in STACKED])
def test_blas_stacked_taps(case, dtype):
    """At a stride ``s > 1`` (one group, dilation 1) the BLAS kernel takes the taps ``s`` at a
    time, one GEMM of inner dimension ``s*Cw`` on the input in place for the rows whose block of
    taps lies on the signal, the rows at the edges tap by tap: against the reference, as the
    kernel tap by tap (``stacked=False``) is; blocks of filter shorter than ``s`` (``K`` not a
    multiple), signals too short for any whole block, pads past several blocks; for given rows
    an item, the same bits at any thread count."""
    n, wide, cw, cn, k, s, padding = case
    rng = np.random.default_rng(wide * k + cw)
    w = random_array(rng, (n, wide, cw), dtype)
    f = random_array(rng, (k, cw, cn), dtype)
    g = conv1d_geometry(w.shape, f.shape, s, 1, parse_padding(padding, "NWC"), "NWC", 1)
    want, bound = family_oracle("conv1d", w, f, g, "NWC")
    last = {}
    for stacked in (False, True):
        for rows in (1, 7, 1024):
            outs = []
            for t in (1, 3):
                y = np.full((n, g.narrow, cn), np.nan, dtype)
                _conv1d.conv1d_blas(w, f, y, s, 1, g.pad_before, 1, rows, t, 0, 0, False,
                                    stacked)
                assert_family_matches(y, want, bound, conv1d_terms(g),
                                      f"{case} stacked={stacked} rows={rows} threads={t}")
                outs.append(y)
            np.testing.assert_array_equal(outs[0], outs[1])
            last[stacked] = outs[0]
    # where a block of two taps or more has rows on the signal, its one GEMM rounds into the
    # output once for the block, tap by tap once a tap: other bits (the stacked path was taken)
    whole = any(i * s + b - g.pad_before >= 0 and i * s + min(b + s, k) - 1 - g.pad_before < wide
                for b in range(0, k, s) if min(s, k - b) > 1 for i in range(g.narrow))
    assert whole == (not np.array_equal(last[False], last[True])), case


def _blas_cost(g, itemsize, rows, channels, cores, groups=1, straggler=None):
    """The cost the planner's model gives conv1d's BLAS kernel cut into ``rows`` by ``channels``
    blocks of ``groups`` groups, written out from its docstring
    (``_plan.conv1d_blas_blocking``)."""
    cng = g.narrow_channels // g.groups
    items = g.batch * -(-g.narrow // rows) * -(-cng // channels) * -(-g.groups // groups)
    large = g.taps * (g.wide_channels // g.groups) * cng * itemsize >= _plan.LARGE_FILTER_BYTES
    pack = _plan.BLAS_PACK
    if straggler is None:     # half a round for a thread that shares its core, in long calls
        straggler = _plan.CUT_STRAGGLER if _plan.macs(g) >= _plan.STRAGGLER_MIN_MACS else 0
    rounds = -(-items // cores) + (straggler if cores > 1 and items > 1 else 0)
    return rounds * groups * rows * channels * (1 + pack / channels
                                                + pack * (4 if large else 1) / rows)


@pytest.mark.parametrize("cores", [1, 2, 8])
def test_blas_blocking_by_the_cost_model(monkeypatch, cores):
    """conv1d's BLAS kernel is cut by the cost model: no allowed cut (blocks of 16 to 1024 rows,
    at least 128 or all under a filter beyond L2, unless that leaves a core without an item,
    then down to one block a core; channels in even blocks of multiples of 16 down to 64, all of
    a group's with groups, whose blocks of adjacent groups write 256 bytes of a row or are all
    of them; the even cuts, ``ceil(M / n)`` rows in ``n`` blocks) costs less, counted on the
    machine's cores, with half a round more for a thread that shares its core on several, in
    calls of at least ``STRAGGLER_MIN_MACS`` multiply-adds (``CUT_STRAGGLER``). So Whisper's
    second conv1d (1 x 1500 rows, 512 -> 512) on 2 cores is 12 items (3 x 500 rows by 4 x 128
    channels; 2 items of 750 rows, one a core, took as long as one thread with another busy
    process: 22.7 ms against 17.3 at two threads, and 11.5 against 12.5 quiet), not 12 blocks of
    128 rows (which packed 36 copies of a tap's filter), and 1 x 128 rows, 512 -> 1024, K=16
    under a 32 MiB filter is 8 blocks of 128 channels (2 of 512 ran 1.25x faster on a quiet
    machine in float64, on the Intel one, but as slowly on two threads as on one under load); a
    long batch keeps all the channels in blocks of 1024 rows; one core leaves a call that fits
    one block in one, with no straggler. One batch element of 238 rows, 429 -> 9, K=84 (a 2.6
    MiB filter in float64) is two blocks on two cores, not one of 238 rows. The wav2vec 2.0
    positional convolution (1 x 250 rows, 768 -> 768, 16 groups, K=128: one block of rows under
    its 1.2 MiB filter a group) splits its groups over the cores, not one item."""
    monkeypatch.setattr(_plan, "CORES", cores)
    shapes = [((1, 3000, 512), (3, 512, 512), 2, "SAME", 1),
              ((1, 1024, 512), (16, 512, 1024), 8, (4, 4), 1),
              ((2, 600, 256), (5, 256, 1000), 1, "SAME", 1),
              ((1, 30, 170), (28, 170, 1463), 2, "SAME", 1),
              ((5, 99, 131), (4, 131, 190), 2, "VALID", 1),
              ((1, 3000, 512), (3, 128, 512), 2, "SAME", 4),
              ((1, 238, 429), (84, 429, 9), 1, "SAME", 1),
              ((1, 824, 1210), (253, 1210, 2), 4, "SAME", 1),
              ((1, 250, 768), (128, 48, 768), 1, (64, 63), 16),
              ((3, 90, 60), (5, 20, 36), 1, "SAME", 3)]
    for x, f, s, padding, groups in shapes:
        g = conv1d_geometry(x, f, s, 1, padding, "NWC", groups)
        for itemsize in (4, 8):
            rows, channels, gb = _plan.conv1d_blas_blocking(g, itemsize)
            cng = g.narrow_channels // groups
            large = f[0] * f[1] * cng * itemsize >= _plan.LARGE_FILTER_BYTES
            least = min(128 if large else 16, g.narrow)
            if large and groups == 1 and g.batch * max(1, cng // 64) < cores:
                least = min(least, max(16, -(-g.narrow // cores)))
            assert least <= rows <= 1024 and -(-g.narrow // rows) * rows - g.narrow < rows
            assert channels == cng or (groups == 1 and channels % 16 == 0 and channels >= 64)
            blocks = {-(-groups // n) for n in range(1, groups + 1)}
            blocks = {b for b in blocks if b == groups or b * cng * itemsize >= 256}
            assert gb in blocks
            got = _blas_cost(g, itemsize, rows, channels, cores, gb)
            for nc in range(1, max(2, cng // 64 + 1) if groups == 1 else 2):
                ch = cng if nc == 1 else -(-(-(-cng // nc)) // 16) * 16
                for r in range(least, min(1024, g.narrow) + 1):
                    if r != -(-g.narrow // -(-g.narrow // r)):
                        continue     # the even cuts: ceil(M / n) rows for n blocks
                    for b in blocks:
                        assert got <= _blas_cost(g, itemsize, r, ch, cores, b) * (1 + 1e-12), (
                            x, f, r, ch, b)
    whisper = conv1d_geometry((1, 3000, 512), (3, 512, 512), 2, 1, "SAME", "NWC")
    wide = conv1d_geometry((1, 1024, 512), (16, 512, 1024), 8, 1, (4, 4), "NWC")
    few = conv1d_geometry((1, 238, 429), (84, 429, 9), 1, 1, "SAME", "NWC")
    pos = conv1d_geometry((1, 250, 768), (128, 48, 768), 1, 1, (64, 63), "NWC", 16)
    assert _plan.conv1d_blas_blocking(few, 8) == (-(-238 // cores) if cores < 8 else 30, 9, 1)
    if cores == 2:
        assert _plan.conv1d_blas_blocking(whisper) == (500, 128, 1)
        assert _plan.conv1d_blas_blocking(wide, 8) == (128, 128, 1)
        assert _plan.conv1d_blas_blocking(pos) == (250, 48, 2)
    if cores == 1:
        assert _plan.conv1d_blas_blocking(wide, 8) == (128, 1024, 1)
    if cores == 8:
        rows, channels, _ = _plan.conv1d_blas_blocking(whisper)
        assert -(-1500 // rows) * -(-512 // channels) >= 8
        assert _plan.conv1d_blas_blocking(pos)[2] == 2
    g = conv1d_geometry((8, 4000, 512), (3, 512, 512), 1, 1, "SAME", "NWC")
    assert _plan.conv1d_blas_blocking(g) == (1000, 512 if cores < 8 else 256, 1)


def _on_signal(g):
    """The (output, tap) pairs of a batch element whose sample is on the signal, counted one by
    one from the definition (``0 <= o*s + k*d - pad_before < L``)."""
    return sum(0 <= o * g.stride + k * g.dilation - g.pad_before < g.wide
               for o in range(g.narrow) for k in range(g.taps))


def test_im2col_across_the_batch_by_the_cost_model(monkeypatch, rng):
    """Where each batch element has a few outputs, the BLAS kernel (one GEMM per tap and batch
    element, the signal read in place) gives way to im2col's rows across the batch elements
    when the cost model says so: im2col's cut is the cheapest allowed (blocks of 16 to the rows
    whose column block fits 4 MiB, channels as for BLAS, each gathered element charged
    ``IM2COL_GATHER``), and that cost, scaled by the taps it multiplies that fall in the
    padding, is at most ``IM2COL_ACROSS_GAIN`` of the BLAS kernel's cut. Not with fewer output
    channels (the gather then costs as much as the product) nor with taps that mostly reach
    into the padding (BLAS skips them). AVX-512 only (where it was measured). The planned call
    agrees with the reference."""
    monkeypatch.setattr(_plan, "CORES", 2)
    gather, gain = _plan.IM2COL_GATHER, _plan.IM2COL_ACROSS_GAIN
    taken = [((11, 16, 470), (5, 470, 575), 1, 1, "SAME"),
             ((5, 10, 96), (4, 96, 200), 2, 1, "SAME"),
             ((7, 12, 80), (5, 80, 130), 3, 2, "VALID")]
    kept = [((48, 13, 60), (41, 60, 1388), 2, 5, "SAME"),     # 3 of 41 taps on the signal
            ((9, 293, 167), (6, 167, 2), 1, 1, (5, 3)),        # two output channels
            ((4, 9, 128), (2, 128, 300), 1, 1, (1, 0))]
    for x, f, s, d, padding in taken + kept:
        g = conv1d_geometry(x, f, s, d, padding, "NWC")
        for itemsize in (4, 8):
            cut = _plan.im2col_across(g, itemsize)
            if not _plan.SKINNY:        # measured on AVX-512 only: elsewhere BLAS as before
                assert cut is None
                continue
            assert (cut is not None) == ((x, f, s, d, padding) in taken), (x, f, itemsize)
            cn, cols, total = g.narrow_channels, g.taps * g.wide_channels, g.batch * g.narrow
            far = 4 if cols * cn * itemsize >= _plan.LARGE_FILTER_BYTES else 1

            long = _plan.macs(g) >= _plan.STRAGGLER_MIN_MACS

            def cost(r, c, extra, straggler=_plan.CUT_STRAGGLER if long else 0):
                items = -(-total // r) * -(-cn // c)
                rounds = -(-items // 2) + (straggler if items > 1 else 0)
                return rounds * r * c * (1 + (_plan.BLAS_PACK + extra) / c
                                         + _plan.BLAS_PACK * far / r)

            br, bc, _ = _plan.conv1d_blas_blocking(g, itemsize)
            # (the kernels compared without the straggler, each cut chosen with it)
            blas = _blas_cost(g, itemsize, br, bc, 2, straggler=0)
            most = max(16, min(1024, (4 << 20) // (itemsize * cols)))
            widths = {cn} | {-(-(-(-cn // nc)) // 16) * 16 for nc in range(2, cn // 64 + 1)}
            least = min(cost(r, c, gather) for c in widths for r in range(min(16, total), most + 1)
                        if r == -(-total // -(-total // r)))      # the even cuts
            waste = g.narrow * g.taps / _on_signal(g)
            if cut is None:
                best = min((cost(r, c, gather), r, c) for c in widths
                           for r in range(min(16, total), most + 1)
                           if r == -(-total // -(-total // r)))
                assert cost(best[1], best[2], gather, 0) * waste > gain * blas * (1 - 1e-12)
                continue
            rows, channels = cut
            assert rows > g.narrow     # rows of several batch elements in one block
            assert cost(rows, channels, gather) <= least * (1 + 1e-12)
            assert cost(rows, channels, gather, 0) * waste <= gain * blas * (1 + 1e-12)
            kernel = _plan.choose("conv1d", g, itemsize)
            blocks = _plan.blocking("conv1d", kernel, g, itemsize)
            assert kernel == "im2col"
            if not _plan.conv1d_large_filter(g, itemsize):
                assert blocks["rows"] == rows
                assert blocks["channels"] in (0 if channels == cn else channels,)
    for x, f, s, d, padding in taken:
        for dtype in (np.float32, np.float64):
            w = random_array(rng, x, dtype)
            k = random_array(rng, f, dtype)
            check(w, k, s, d, padding, "NWC", 1, what=f"{x} {f}")


@pytest.mark.parametrize("kernel", KERNELS)
def test_bits_do_not_depend_on_threads(kernel):
    rng = np.random.default_rng(3)
    w = random_array(rng, (3, 2000, 24), np.float32)
    f = random_array(rng, (5, 12, 20), np.float32)
    outs = []
    try:
        for t in (1, 2, 3):
            conv1dt.set_num_threads(t)
            outs.append(call(w, f, 2, 1, "SAME", "NWC", 2, kernel))
    finally:
        conv1dt.set_num_threads(None)
    for other in outs[1:]:
        np.testing.assert_array_equal(outs[0], other)


def test_float16_is_computed_in_float32(rng):
    w = random_array(rng, (2, 40, 6), np.float16)
    f = random_array(rng, (5, 3, 4), np.float16)
    y = conv1dt.conv1d(w, f, 2, groups=2)
    assert y.dtype == np.float16
    want = conv1dt.conv1d(w.astype(np.float32), f.astype(np.float32), 2, groups=2)
    np.testing.assert_array_equal(y, want.astype(np.float16))


def test_complex_is_the_real_product_decomposition(rng):
    """Bit for bit the four real calls, in the documented order: (rr - ii) + i(ri + ir)."""
    w = random_array(rng, (2, 50, 4), np.complex128)
    f = random_array(rng, (3, 2, 6), np.complex128)
    y = conv1dt.conv1d(w, f, 2, [[0, 0], [1, 2], [0, 0]], groups=2)
    parts = {(a, b): conv1dt.conv1d(getattr(w, a), getattr(f, b), 2, [[0, 0], [1, 2], [0, 0]], groups=2)
             for a in ("real", "imag") for b in ("real", "imag")}
    np.testing.assert_array_equal(y.real, parts["real", "real"] - parts["imag", "imag"])
    np.testing.assert_array_equal(y.imag, parts["real", "imag"] + parts["imag", "real"])


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_empty_operands(data_format):
    f = np.ones((3, 2, 4))
    # N = 0; W = 0 (SAME gives width 0); VALID's narrowest accepted input (width 0 output)
    for n, wide, padding, width in [(0, 5, "SAME", 3), (1, 0, "SAME", 0), (1, 1, "VALID", 0)]:
        y = conv1dt.conv1d(np.ones(signal_shape(n, wide, 2, data_format)), f, 2, padding, data_format)
        assert y.shape == signal_shape(n, width, 4, data_format)
    # no input channels: empty sums are zero; no output channels: an empty result
    y = conv1dt.conv1d(np.ones(signal_shape(1, 5, 0, data_format)), np.ones((3, 0, 4)), 2, "SAME", data_format)
    np.testing.assert_array_equal(y, np.zeros(signal_shape(1, 3, 4, data_format)))
    y = conv1dt.conv1d(np.ones(signal_shape(1, 5, 2, data_format)), np.ones((3, 2, 0)), 2, "SAME", data_format)
    assert y.shape == signal_shape(1, 3, 0, data_format)


def test_inputs_are_never_modified_and_views_work(rng):
    w = random_array(rng, (2, 30, 4), np.float64)
    f = random_array(rng, (3, 4, 5), np.float64)
    want = conv1dt.conv1d(w, f, 2)
    w0, f0 = w.copy(), f.copy()
    for wv, fv in ((w[:, ::-1][:, ::-1], f), (np.asfortranarray(w), f[::-1][::-1]),
                   (w.astype(w.dtype.newbyteorder(">")), f.astype(f.dtype.newbyteorder(">")))):
        np.testing.assert_array_equal(conv1dt.conv1d(wv, fv, 2), want)
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(f, f0)
    assert conv1dt.conv1d(w.tolist(), f, [1, 2, 1], dilations=[1], name="x").shape == want.shape


def test_the_compiled_kernels_run(monkeypatch):
    """No silent fallback: with the kernels broken, calls on either path fail."""
    from conv1dt._compiled import _conv1d

    def broken(*args):
        raise RuntimeError("kernel called")

    from conv1dt import _ops
    from conv1dt._compiled import _transpose
    for name in ("conv1d_direct", "conv1d_blas"):
        monkeypatch.setattr(_conv1d, name, broken)
    monkeypatch.setattr(_transpose, "transpose_direct", broken)   # conv1d's paths through the
    monkeypatch.setattr(_transpose, "transpose_tiled", broken)    # transpose's kernels
    monkeypatch.setattr(_transpose, "_SmallDirect", broken)       # (small calls: its plan)
    from conv1dt._compiled import _gemm
    monkeypatch.setattr(_gemm, "conv1d_im2col", broken)           # im2col and implicit
    _plan.clear_cache()                     # plans made before hold kernels
    with pytest.raises(RuntimeError, match="kernel called"):
        conv1dt.conv1d(np.ones((1, 4, 1)), np.ones((1, 1, 1)), 1)
    with pytest.raises(RuntimeError, match="kernel called"):
        conv1dt.conv1d(np.ones((1, 8, 1)), np.ones((1, 1, 1)), 2)
    with pytest.raises(RuntimeError, match="kernel called"):
        conv1dt.conv1d(np.ones((2, 64, 32)), np.ones((3, 32, 32)), 1)


def test_dispatch_rule():
    def g(cin, cout, groups=1, k=3, wide=4096):
        return conv1d_geometry((4, wide, cin), (k, cin // groups, cout), 1, 1, "SAME", "NWC", groups)
    assert _plan.choose("conv1d", g(1, 1)) == "flip-direct"     # small: the compiled plan
    assert _plan.choose("conv1d", g(1, 1, k=1, wide=16)) == "flip-direct"
    assert _plan.choose("conv1d", g(1, 1, wide=65536)) == "fir"      # one channel each way
    assert _plan.choose("conv1d", g(1, 2, wide=65536)) == "flip-direct"
    assert _plan.choose("conv1d", g(64, 64, groups=64)) == "depthwise"
    assert _plan.choose("conv1d", g(16, 16, groups=16)) == "depthwise"   # from 16 channels
    assert _plan.choose("conv1d", g(8, 8, groups=8)) == "direct"
    # each channel a FIR: depthwise in NCW, and in NWC for groups short of a vector
    assert _plan.choose("conv1d", g(8, 8, groups=8, k=17)) == "fir"
    assert _plan.choose("conv1d", g(4, 4, groups=4)) == "fir"
    assert _plan.choose("conv1d", g(64, 64, groups=64), 4, "NCW") == "fir"
    assert _plan.choose("conv1d", g(8, 8, groups=8), 4, "NCW") == "fir"
    assert _plan.choose("conv1d", g(8, 16, groups=8), 4, "NCW") != "fir"   # two outputs a group
    # one output a batch element: im2col's one GEMM, not a vector-matrix product per tap
    one = conv1d_geometry((10, 81, 317), (81, 317, 7), 1, 1, "VALID", "NWC", 1)
    assert _plan.choose("conv1d", one) == "im2col"
    # groups of a few channels: im2col's GEMMs per group, whether or not the output rows fill
    # a vector (the direct kernel's spread rows were slower as a rule, docs/planner.rst)
    assert _plan.choose("conv1d", g(4, 8, groups=4, k=64)) == "im2col"    # 2 outputs a group
    assert _plan.choose("conv1d", g(8, 16, groups=8, k=64), 4) == "im2col"
    assert _plan.choose("conv1d", g(8, 16, groups=8, k=3), 4) == "im2col"  # 1 x 2, 3 taps
    assert _plan.choose("conv1d", g(32, 64, groups=8, k=3), 4) == "blas"    # 4 x 8, 3 taps
    # stride 1: the packed GEMM on AVX-512 whatever the taps (since the thirty-seventh round),
    # the tiled kernel on the reversed filter with AVX2
    assert _plan.choose("conv1d", g(64, 64)) == (
        "implicit" if _plan.SKINNY else "flip-tiled" if _plan.TILED else "blas")
    # ... but one tap on AVX2 (a plain GEMM) by BLAS from 40 outputs
    assert _plan.choose("conv1d", g(256, 512, k=1)) == (
        "implicit" if _plan.SKINNY else "flip-tiled" if _plan.TILED and not _plan.AVX2
        else "blas")
    assert _plan.choose("conv1d", g(256, 32, k=1)) == (
        "implicit" if _plan.SKINNY else "flip-tiled" if _plan.TILED else "blas")
    # a few outputs in all: the tiled kernel would lay out the whole filter for them
    # (the windows read in place by the skinny GEMM, on AVX-512 and AVX2, in float32 and, since
    # the thirty-sixth round on AVX-512, in float64 from more than 16 input channels too)
    for itemsize in (4, 8):
        assert _plan.choose("conv1d", g(64, 64, wide=16), itemsize) == (
            "implicit" if _plan.SKINNY or _plan.AVX2 else "blas")
    # one output of batch 1 from a 39 MiB filter: im2col's block of one row reads it once
    one = conv1d_geometry((1, 300, 64), (300, 64, 512), 1, 1, "VALID", "NWC", 1)
    assert _plan.choose("conv1d", one) == ("im2col" if _plan.SKINNY else "blas")
    assert _plan.choose("conv1d", g(128, 128, groups=8)) == "blas"       # 3 taps of 16 x 16
    assert _plan.choose("conv1d", g(64, 128, groups=8, k=9)) == "im2col"  # K*Cw/G = 72
    assert _plan.choose("conv1d", g(256, 256, groups=2)) == "blas"       # Cw/G = 128
    # 4 outputs from 512: not the tiles of 64; with AVX-512 each window (a run of the signal)
    # times the filter's 4 rows by dot products (4 x 8192: 4.3 ms, 18.7 by ``blas``)
    assert _plan.choose("conv1d", g(512, 4)) == ("dot" if DOT_ISA else "blas")
    assert _plan.choose("conv1d", g(512, 4), 4, "NCW") == "blas"        # windows not runs
    assert _plan.choose("conv1d", g(512, 4)._replace(dilation=2)) == "blas"
    # one output channel from 28, K=380, s=4 (float64: 1.1 ms by dot, 4.1 by im2col); not from
    # a signal shorter than the filter (each edge window gathered whole: mostly zeros)
    long = conv1d_geometry((1, 5706, 28), (380, 28, 1), 4, 1, "VALID", "NWC", 1)
    assert _plan.choose("conv1d", long, 8) == ("dot" if DOT_ISA else "im2col")
    assert _plan.choose("conv1d", long._replace(wide=300, narrow=75, pad_before=190), 8) != "dot"
    # HiFi-GAN's last layer, 32 -> 1, K=7; but 5 outputs from 512 inputs: BLAS's GEMMs
    assert (_plan.choose("conv1d", g(32, 1, k=7, wide=8192)) == "dot") == DOT_ISA
    assert _plan.choose("conv1d", g(512, 5, k=7, wide=8192)) != "dot"
    assert (_plan.choose("conv1d", g(64, 12, k=7, wide=8192)) == "dot") == DOT_ISA
    assert _plan.choose("backprop_filter", g(4, 4)) == "im2col"
    assert _plan.choose("backprop_filter", g(64, 64, groups=64)) == "direct"
    # depthwise filter gradients whose groups fill less than half a vector: the FIR kernel, at
    # a dilation tap by tap (the direct kernel or im2col ran 1.5-12x slower, fortieth round)
    assert _plan.choose("backprop_filter", g(2, 2, groups=2, k=33)) == "fir"
    assert _plan.choose("backprop_filter", g(2, 2, groups=2, k=33)._replace(dilation=2)) == "fir"
    assert _plan.choose("backprop_filter", g(2, 2, groups=2, k=33)._replace(
        dilation=2, narrow=63, wide=63 + 64)) != "fir"          # fewer than 64 outputs
    assert _plan.choose("backprop_filter", g(16, 16, groups=16, k=3)._replace(dilation=2)) != "fir"
    assert _plan.choose("backprop_filter", g(16, 16, groups=16, k=3)._replace(dilation=2),
                        4, "NCW") == "fir"
    assert _plan.choose("backprop_filter", g(2, 2, groups=2, k=3)) == "direct"
    # 64 bytes of channels and more, one a group, from 8 taps: the depthwise kernel's blocks
    # of taps in registers (not a filter longer than the positions span: its taps' edges)
    assert _plan.choose("backprop_filter", g(16, 16, groups=16, k=33)) == "depthwise"
    assert _plan.choose("backprop_filter", g(64, 64, groups=64, k=8), 8) == "depthwise"
    assert _plan.choose("backprop_filter", g(64, 64, groups=64, k=7)) == "direct"
    assert _plan.choose("backprop_filter", g(12, 12, groups=12, k=33)) == "direct"   # 48 bytes
    assert _plan.choose("backprop_filter", g(64, 64, groups=64, k=33, wide=31)) == "direct"
    # 16 groups of 4 -> 8, 3 taps: small GEMMs a group, the direct kernel's on AVX2; with 16
    # outputs a group (and more than 16 rows, 2+ taps, at most 16 groups) im2col's GEMMs pay
    assert _plan.choose("backprop_filter", g(64, 128, groups=16)) == (
        "direct" if _plan.AVX2 else "im2col")
    assert _plan.choose("backprop_filter", g(64, 256, groups=16)) == "im2col"
    assert _plan.choose("backprop_filter", g(64, 256, groups=16, k=1)) == (
        "direct" if _plan.AVX2 else "im2col")
    # tiny, but 32 x 32 channels: one small GEMM (in place with AVX-512), not the direct gather
    assert _plan.choose("conv1d", g(32, 32, wide=2, k=1)) == ("implicit" if _plan.SKINNY else "blas")
    # small, at most SMALL_DIRECT_PRODUCTS channel pairs: the compiled plan of the reversed
    # filter's direct kernel (its fixed costs are a third of the GEMMs' Python path's)
    assert _plan.choose("conv1d", g(83, 1, wide=8, k=6)) == "flip-direct"
    assert _plan.choose("conv1d", g(83, 1, wide=8, k=6)._replace(stride=2)) == "flip-direct"
    assert _plan.choose("conv1d", g(83, 1, wide=8, k=6)._replace(stride=3)) == "im2col"
    assert _plan.choose("conv1d", g(4, 4, wide=2, k=1)) == "flip-direct"  # tiny, few channels

    def strided(cin, cout, k, s):
        return conv1d_geometry((1, 65536, cin), (k, cin, cout), s, 1, "SAME", "NWC", 1)
    # STFT analysis: im2col's gathered windows; with AVX-512 the windows read in place by the
    # packed GEMM (the filter laid out once for each block of rows)
    assert _plan.choose("conv1d", strided(1, 514, 512, 128)) == (
        "implicit" if _plan.SKINNY else "im2col")
    # 4096-sample windows at a hop of 1024 into 32 channels: on AVX2 BLAS's GEMM per block of
    # 1024 taps, on the signal in place (s*Cw >= 4*Cn), rather than the gathered windows
    hop = conv1d_geometry((1, 307200, 1), (4096, 1, 32), 1024, 1, "VALID", "NWC", 1)
    assert (_plan.choose("conv1d", hop) == "blas") == _plan.AVX2
    assert _plan.choose("conv1d", hop, 4, "NCW") != "blas"      # the BLAS kernel copies NCW
    assert _plan.choose("conv1d", hop._replace(narrow_channels=512)) != "blas"
    assert _plan.choose("conv1d", strided(1, 1, 256, 4)) == "fir"      # decimating FIR filters
    assert _plan.choose("conv1d", strided(1, 1, 1024, 8)) == "fir"
    assert _plan.choose("conv1d", strided(1, 1, 64, 2)) == "fir"
    # a few channels at a stride: only the kept outputs (flip-direct computed them all)
    # (2 -> 1, 128 pairs a window: with AVX-512 by dot products, 0.18 ms, 0.27 polyphase)
    assert _plan.choose("conv1d", strided(2, 1, 64, 2)) == ("dot" if DOT_ISA else "polyphase")
    assert _plan.choose("conv1d", strided(2, 1, 32, 2)) == "polyphase"
    assert _plan.choose("conv1d", strided(4, 4, 8, 2)) == "polyphase"
    # ... except on AVX2 where the outputs fill vectors (8 float32, 4 float64): the skinny GEMM
    # on the windows in place (8 x 131072, 4 -> 4, K=8, s=2 in float64: 22.5 -> 5.7 ms)
    in_place = "implicit" if _plan.AVX2 else "polyphase"
    assert _plan.choose("conv1d", strided(8, 8, 8, 2)) == in_place
    assert _plan.choose("conv1d", strided(4, 4, 8, 2), 8) == in_place
    assert _plan.choose("conv1d", strided(4, 4, 8, 2), 8, "NCW") == "polyphase"
    assert _plan.choose("conv1d", strided(4, 3, 8, 2), 8) == "polyphase"
    assert _plan.choose("conv1d", strided(8, 8, 8, 2), 8) != "polyphase"    # float64: 4 outputs
    assert _plan.choose("conv1d", strided(16, 8, 8, 2)) != "polyphase"
    # ... but not one tap (one sample an output): the input in place, rows s*Cw apart
    assert _plan.choose("conv1d", strided(2, 1, 1, 2)) == (
        "blas" if _plan.SKINNY or _plan.AVX2 else "direct")
    assert _plan.choose("conv1d", strided(4, 4, 1, 3)) != "polyphase"
    # a few channels at a dilation: the residues, not im2col's tap-by-tap gather, undilated too
    dilated = conv1d_geometry((3, 47355, 2), (375, 2, 1), 3, 6, "VALID", "NWC", 1)
    assert _plan.choose("conv1d", dilated) == "polyphase"
    assert _plan.choose("conv1d", dilated._replace(dilation=1)) == (
        "dot" if DOT_ISA else "polyphase")     # 1.4 ms by dot, 2.3 polyphase
    # wav2vec 2.0 layer 1: its windows (one channel, stride 5) read in place by the skinny GEMM
    implicit = "implicit" if _plan.SKINNY or _plan.AVX2 else "im2col"
    assert _plan.choose("conv1d", strided(1, 512, 10, 5)) == implicit
    assert _plan.choose("conv1d", strided(1, 512, 10, 5), 8) == implicit    # float64, 1 channel
    # float64, 64 inputs: BLAS's GEMMs, long every way (AVX2: 195 ms, 360 in place); with
    # AVX-512 the windows in place by the packed GEMM (1 x 32768 outputs: 0.86x the time)
    assert _plan.choose("conv1d", strided(64, 512, 3, 2), 8) == (
        "implicit" if _plan.SKINNY else "blas")
    # a U-Net's downsampling layer: im2col's one GEMM (AVX2: 1.85 ms, 2.6 in place); with
    # AVX-512 the skinny GEMM's 16-wide rows read it in place
    unet = conv1d_geometry((2, 8000, 32), (4, 32, 64), 2, 1, (1, 1), "NWC", 1)
    assert (_plan.choose("conv1d", unet) == "implicit") == _plan.SKINNY
    assert _plan.choose("conv1d", strided(1, 512, 10, 5), 4, "NCW") == "im2col"
    assert _plan.choose("conv1d", strided(64, 128, 8, 4)) == (              # EnCodec encoder
        "implicit" if _plan.SKINNY else "blas")
    # K*Cw = 1536: beyond the skinny GEMM's panel; with AVX-512 the packed GEMM (32768 outputs)
    assert _plan.choose("conv1d", strided(512, 512, 3, 2)) == (
        "implicit" if _plan.SKINNY else "blas")
    assert bool(_plan.implicit_blocking(strided(512, 512, 3, 2), 4).get("packed")) == _plan.SKINNY


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_few_channels_through_the_transpose(dtype, data_format):
    """conv1d with few channels runs as the transpose with the filter reversed (the stride-1
    result, every s-th output kept, up to the stride where that pays): strides 1 to 5 (past the
    limit of both dtypes), dilations, every padding form, against the reference."""
    rng = np.random.default_rng(41)
    for s in (1, 2, 3, 4, 5):
        for d, k in [(1, 5), (2, 4)]:
            for padding in ["SAME", "VALID", (3, 1), (0, 9)]:
                w = random_array(rng, signal_shape(2, 2500, 3, data_format), dtype)
                f = random_array(rng, (k, 3, 4), dtype)
                check(w, f, s, d, padding, data_format, 1, "direct",
                      f"s={s} d={d} K={k} {padding} {data_format}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_polyphase_against_the_reference(dtype, data_format):
    """The polyphase kernel (one stride-1 conv1d per residue of the input position mod s),
    forced: strides 2 to 5 with dilations that share a factor with them or not (taps of a residue
    then step by d/gcd(s, d)), residues with no tap, padding on either side and beyond the
    signal, signals shorter than the filter, one and a few channels."""
    rng = np.random.default_rng(17)
    for padding in PADDINGS:
        for s, d, k in [(2, 1, 7), (3, 2, 5), (4, 2, 9), (5, 1, 3), (4, 6, 4), (3, 1, 12)]:
            for cw, cn in ((1, 1), (2, 3)):
                for wide in conv1d_widths(k, s, d, padding, (0, 1, 5, 23, 60)):
                    w = random_array(rng, signal_shape(2, wide, cw, data_format), dtype)
                    f = random_array(rng, (k, cw, cn), dtype)
                    check(w, f, s, d, padding, data_format, 1, "polyphase",
                          f"polyphase {padding} {data_format} s={s} d={d} K={k} L={wide}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_polyphase_is_flip_direct_at_the_kept_outputs(dtype, data_format):
    """The polyphase kernel sums each kept output's terms in the order of ``flip-direct``, which
    computes every stride-1 output (taps in increasing k, then the channels; float64's per-tap
    dot products): equal bits wherever the latter applies (``(K-1)*d >= pad_before``), with
    several blocks of outputs a batch entry (the last one short), signals whose length is not a
    multiple of the stride (the phases end at different groups), infinite and NaN samples, on
    1, 2 and 3 threads, and into ``out``."""
    rng = np.random.default_rng(31)
    for cw, cn, k, s, d, padding, wide in [
            (4, 4, 8, 2, 1, "SAME", 1203), (2, 1, 64, 2, 1, "SAME", 3001), (3, 3, 5, 3, 1,
                                                                           "VALID", 2050),
            (8, 8, 4, 4, 2, (5, 3), 4099), (1, 4, 16, 4, 1, "SAME", 997), (5, 2, 9, 5, 3,
                                                                           (0, 11), 1601)]:
        w = random_array(rng, signal_shape(2, wide, cw, data_format), dtype)
        f = random_array(rng, (k, cw, cn), dtype)
        index = (1, wide // 2, 0) if data_format == "NWC" else (1, 0, wide // 2)
        w[index] = np.inf
        w[(0,) + index[1:]] = np.nan
        g = conv1d_geometry(w.shape, f.shape, s, d, padding, data_format, 1)
        assert _plan.flipped_pad(g) >= 0
        with np.errstate(invalid="ignore"):
            want = _dispatch.conv1d(w, f, g, data_format, "flip-direct")
            outs = []
            try:
                for t in (1, 2, 3):
                    conv1dt.set_num_threads(t)
                    outs.append(_dispatch.conv1d(w, f, g, data_format, "polyphase"))
            finally:
                conv1dt.set_num_threads(None)
            out = np.full_like(want, 7.0)
            assert _dispatch.conv1d(w, f, g, data_format, "polyphase", out) is out
        assert np.isnan(want).any() and np.isinf(want).any()
        for y in outs + [out]:
            np.testing.assert_array_equal(y, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_fir_against_the_reference(dtype, data_format):
    """The FIR kernel (one channel each way) forced through the dispatch, in both layouts:
    strides 1 to 5 with dilations that share a factor with them or not, every padding form,
    signals shorter than the filter, and into ``out``."""
    rng = np.random.default_rng(19)
    for padding in PADDINGS:
        for s, d, k in [(1, 1, 7), (1, 3, 5), (2, 1, 7), (3, 2, 5), (4, 2, 9), (5, 1, 3), (4, 6, 4)]:
            for wide in conv1d_widths(k, s, d, padding, (0, 1, 5, 23, 600)):
                w = random_array(rng, signal_shape(2, wide, 1, data_format), dtype)
                f = random_array(rng, (k, 1, 1), dtype)
                g = check(w, f, s, d, padding, data_format, 1, "fir",
                          f"fir {padding} {data_format} s={s} d={d} K={k} L={wide}")
                out = np.full(signal_shape(2, g.narrow, 1, data_format), np.nan, dtype)
                y = _dispatch.conv1d(w, f, g, data_format, "fir", out)
                assert y is out
                np.testing.assert_array_equal(out, call(w, f, s, d, padding, data_format, 1, "fir"))


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_fir_depthwise_against_the_reference(data_format):
    """Depthwise calls by the FIR kernel, forced and picked (NCW, and NWC with few groups), with
    strides, dilations and every padding form, float32 and float64."""
    rng = np.random.default_rng(37)
    for dtype in (np.float32, np.float64):
        for padding in PADDINGS:
            for c, s, d, k in [(3, 1, 1, 9), (8, 2, 1, 33), (16, 1, 4, 5), (5, 3, 2, 12)]:
                w = random_array(rng, signal_shape(1, 150, c, data_format), dtype)
                f = random_array(rng, (k, 1, c), dtype)
                check(w, f, s, d, padding, data_format, c, "fir",
                      f"fir depthwise {padding} {data_format} C={c} s={s} d={d} K={k}")
                check(w, f, s, d, padding, data_format, c, None, "picked")


def test_fir_is_picked_and_its_bits_do_not_depend_on_threads():
    """A decimating FIR filter (one channel, K = 64, s = 8) goes to the FIR kernel, with the
    same bits on 1, 2 and 3 threads; the public call agrees with the reference."""
    rng = np.random.default_rng(4)
    w = random_array(rng, (2, 20000, 1), np.float64)
    f = random_array(rng, (64, 1, 1), np.float64)
    g = conv1d_geometry(w.shape, f.shape, 8, 1, "SAME", "NWC")
    assert _plan.choose("conv1d", g, 8) == "fir"
    assert _plan.choose("conv1d", g._replace(taps=1024), 8) == "fir"
    want, bound = family_oracle("conv1d", w, f, g, "NWC")
    assert_family_matches(conv1dt.conv1d(w, f, 8, "SAME"), want, bound, conv1d_terms(g), "fir")
    outs = []
    try:
        for t in (1, 2, 3):
            conv1dt.set_num_threads(t)
            outs.append(conv1dt.conv1d(w, f, 8, "SAME"))
    finally:
        conv1dt.set_num_threads(None)
    for other in outs[1:]:
        np.testing.assert_array_equal(outs[0], other)


def _same_non_finite(y, want):
    np.testing.assert_array_equal(np.isnan(y), np.isnan(want))
    np.testing.assert_array_equal(np.isposinf(y), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(y), np.isneginf(want))


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_non_finite_filters_follow_the_definition(data_format):
    """Only the definition's products, whichever kernel runs: a tap that reaches past the signal
    adds no term, so an infinite filter value makes the outputs where it reaches the signal
    infinite (or NaN with the opposite infinity), never NaN from ``0 * inf`` at the edges; the
    kernels that multiply the zeros past the signal have their edge outputs computed again."""
    rng = np.random.default_rng(23)
    for cw, cn, groups in [(3, 2, 1), (1, 1, 1), (8, 16, 2)]:
        kernels = ["direct", "blas", "im2col", "implicit", "dot"]
        kernels += ["flip-direct", "polyphase"] if groups == 1 else []
        kernels += ["fir"] if cw * cn == 1 else []
        for s, d, k, padding in [(1, 1, 3, "SAME"), (2, 1, 5, "SAME"), (3, 2, 4, (5, 2)),
                                 (1, 1, 9, (30, 30))]:
            w = random_array(rng, signal_shape(2, 40, cw, data_format), np.float64)
            f = random_array(rng, (k, cw // groups, cn), np.float64)
            f[-1, 0, :], f[0, -1, :] = np.inf, -np.inf
            g = conv1d_geometry(w.shape, f.shape, s, d, padding, data_format, groups)
            with np.errstate(invalid="ignore"):
                want, _ = family_oracle("conv1d", w, f, g, data_format)
            assert np.isinf(want).any() and not np.isnan(want).all()
            for kernel in kernels:
                with np.errstate(invalid="ignore"):
                    y = call(w, f, s, d, padding, data_format, groups, kernel)
                _same_non_finite(y, want)
                finite = np.isfinite(want)
                np.testing.assert_allclose(y[finite], want[finite], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_few_outputs_by_dot_products_through_the_public_op(dtype):
    """The planner's ``dot`` (AVX-512) through ``conv1dt.conv1d`` and a reused plan: 28 -> 1
    and 512 -> 4 channels, SAME and explicit padding (edges at both ends), against the
    reference; the same bits on 1 and 3 threads; an infinity in the filter gives the
    definition's edges (no ``0 * inf`` from the gathered zeros)."""
    rng = np.random.default_rng(61)
    for n, wide, cw, cn, k, s, padding in [(2, 900, 28, 1, 40, 3, "SAME"),
                                           (1, 300, 512, 4, 3, 1, [[0, 0], [5, 1], [0, 0]])]:
        w = random_array(rng, (n, wide, cw), dtype)
        f = random_array(rng, (k, cw, cn), dtype)
        p = conv1dt.plan("conv1d", w, f, s, padding)
        assert (p.kernel == "dot") == DOT_ISA
        outs = []
        for threads in (1, 3):
            with conv1dt.threads(threads):
                outs.append(p(w, f))
        g = conv1d_geometry(w.shape, f.shape, s, 1, padding if isinstance(padding, str) else
                            tuple(padding[1]), "NWC", 1)
        want, bound = family_oracle("conv1d", w, f, g, "NWC")
        assert_family_matches(outs[0], want, bound, conv1d_terms(g), f"dot {g}")
        np.testing.assert_array_equal(outs[0], outs[1])
        np.testing.assert_array_equal(conv1dt.conv1d(w, f, s, padding), outs[0])
        f[0, 0, :] = np.inf
        with np.errstate(invalid="ignore"):
            want, _ = family_oracle("conv1d", w, f, g, "NWC")
            y = conv1dt.conv1d(w, f, s, padding)
        _same_non_finite(y, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_implicit_by_the_packed_gemm(dtype):
    """The implicit kernel by the packed GEMM (the windows on the signal read in place, the
    edges' rows gathered whole, one layout of each block of the filter for all of them): output
    channels of part of a strip, a strip and a part, and past one block of columns; windows past
    one block of steps; one input channel at a dilation; edges on both sides, fewer than the
    column matrix holds (one GEMM for the element) and more (the edges a few rows at a time);
    blocks of rows across batch elements (one GEMM for several, as many as the runs and the
    column matrix hold) and blocks of channels. Against the reference, and the same bits on 1
    and 3 threads."""
    rng = np.random.default_rng(43)
    width = 128 // np.dtype(dtype).itemsize          # a strip: two 64-byte vectors
    for n, wide, cw, cn, k, s, d, padding in [
            (3, 300, 4, width // 2 + 3, 50, 3, 1, "SAME"),
            (2, 3000, 1, width + 5, 300, 4, 3, (10, 20)),
            (1, 1200, 8, 300, 40, 2, 1, "VALID"),
            (2, 100, 2, 48, 64, 1, 1, "SAME"),
            (4, 90, 3, width, 70, 1, 1, (0, 69)),
            (20, 60, 2, width, 40, 1, 1, "SAME")]:
        w = random_array(rng, (n, wide, cw), dtype)
        f = random_array(rng, (k, cw, cn), dtype)
        g = conv1d_geometry(w.shape, f.shape, s, d, padding, "NWC", 1)
        want, bound = family_oracle("conv1d", w, f, g)
        planned = _plan.packed_blocking(g, w.dtype.itemsize)
        for rows, channels, edge in [(planned["rows"], cn, 4096), (37, width, 1),
                                     (planned["rows"], cn, 50),
                                     (planned["rows"], planned["channels"], planned["edge"])]:
            blocks = dict(planned, rows=rows, channels=channels, edge=edge)
            outs = []
            for threads in (1, 3):
                # written into NaNs: every output must be written (a freed output's old values
                # would hide one that is not)
                out = np.full((n, g.narrow, cn), np.nan, dtype)
                with conv1dt.threads(threads):
                    outs.append(_dispatch._conv1d_kernel(w, f, g, "NWC", "implicit", out, blocks))
            what = f"{cw}->{cn} K={k} s={s} d={d} {padding} rows={rows} channels={channels} edge={edge}"
            assert_family_matches(outs[0], want, bound, conv1d_terms(g), what)
            np.testing.assert_array_equal(outs[0], outs[1], err_msg=what)
        # the outputs stored past the caches (as planned for an output of 8 MiB or more; asked
        # for here of these small ones): the same bits, in one block of the window's steps and
        # in several (each block before the last adds to the output in the caches, the last
        # stores past them); with VALID padding every row is the packed GEMM's, and its
        # streamed runs are counted
        for stream in (False, True):
            out = np.full((n, g.narrow, cn), np.nan, dtype)
            before = _cpu._streamed_calls()
            _dispatch._conv1d_kernel(w, f, g, "NWC", "implicit", out, dict(planned, stream=stream))
            what = f"{cw}->{cn} K={k} s={s} d={d} {padding} stream={stream}"
            np.testing.assert_array_equal(out, outs[0], err_msg=what)
            if padding == "VALID":
                assert (_cpu._streamed_calls() > before) == stream, what


@pytest.mark.skipif(not _plan.SKINNY, reason="the packed GEMM is the AVX-512 build's")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_packed_edges_under_a_large_filter(dtype):
    """The edges' rows that do not join their element's packed GEMM, under a filter larger than
    the caches: a tile of them from several elements and both edges together, their windows
    gathered in blocks of taps that the column matrix holds (one row of it, two, three: blocks
    of 3, 6 and 8 taps of K=25), into a tile of outputs copied out; and, where the matrix holds
    fewer than a tile of rows, one edge's rows through the same blocks. Every output written
    (into NaNs), against the reference, and the same bits as with every edge gathered whole (the
    zeros a row gathers off the signal add nothing to a finite sum) and on 1 and 3 threads."""
    rng = np.random.default_rng(47)
    itemsize = np.dtype(dtype).itemsize
    cw = 96 if itemsize == 4 else 48                 # 25 x Cw x 128 channels: 1.2 MiB
    for n, wide, k, s, padding in [(3, 60, 25, 3, "SAME"), (5, 40, 25, 8, (12, 12)),
                                   (2, 33, 25, 1, (20, 3))]:
        w = random_array(rng, (n, wide, cw), dtype)
        f = random_array(rng, (k, cw, 128), dtype)
        assert f.nbytes > 1 << 20
        g = conv1d_geometry(w.shape, f.shape, s, 1, padding, "NWC", 1)
        want, bound = family_oracle("conv1d", w, f, g)
        planned = _plan.packed_blocking(g, itemsize)
        whole = _dispatch._conv1d_kernel(w, f, g, "NWC", "implicit", None,
                                         dict(planned, edge=4096))
        assert_family_matches(whole, want, bound, conv1d_terms(g), f"{g}")
        for rows, edge in [(g.batch * g.narrow, 1), (g.batch * g.narrow, 2), (7, 3),
                           (g.narrow + 2, 1)]:
            blocks = dict(planned, rows=rows, channels=128, edge=edge)
            for threads in (1, 3):
                out = np.full((n, g.narrow, 128), np.nan, dtype)
                with conv1dt.threads(threads):
                    _dispatch._conv1d_kernel(w, f, g, "NWC", "implicit", out, blocks)
                np.testing.assert_array_equal(out, whole, err_msg=f"{g} {blocks} {threads}")
