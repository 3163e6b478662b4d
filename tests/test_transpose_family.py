"""conv1d_transpose beyond TensorFlow's conv1d_transpose: groups, explicit padding, complex.

Oracles: ``conv1dt.reference.conv1d_transpose`` in float64/complex128 (with the gamma_n bounds of
conftest.py), and two that share nothing with the grouped, padded or complex code paths:
``zero_insertion`` run group by group and concatenated, and the full VALID result cropped by
``lo`` and ``hi`` (the definition of explicit padding).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1dt
from conv1dt import _plan
from conv1dt._compiled import _cpu, _transpose
from conv1dt._geometry import transpose_geometry
from conv1dt._geometry import transposed_width_range
from conftest import (
    FAMILY_DTYPES,
    FAMILY_GROUPS,
    FAMILY_PADDINGS,
    assert_family_matches,
    explicit,
    family_oracle,
    random_array,
    signal_shape,
    stable_seed,
    tiles,
    transpose_terms,
    zero_insertion,
)

DTYPES, GROUPS = FAMILY_DTYPES, FAMILY_GROUPS
PADDINGS = FAMILY_PADDINGS + [(0, 6)]


def widths(m, k, s, d, padding):
    lo, hi = transposed_width_range(m, k, s, d, padding)
    return range(lo, hi + 1)


def check(x, f, wide, s, d, padding, data_format, groups, what=""):
    n = x.shape[0]
    shape = signal_shape(n, wide, f.shape[1] * groups, data_format)
    y = conv1dt.conv1d_transpose(x, f, shape, s, explicit(padding, data_format), data_format, d,
                                 groups=groups)
    assert y.shape == shape and y.dtype == x.dtype
    g = transpose_geometry(x.shape, f.shape, shape, s, d, padding, data_format, groups)
    want, bound = family_oracle("transpose", x, f, g, data_format)
    assert_family_matches(y, want, bound, transpose_terms(g), what)
    return y


@pytest.mark.parametrize("groups,cing,coutg", GROUPS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("padding", PADDINGS, ids=str)
def test_grid_against_reference(padding, data_format, dtype, groups, cing, coutg):
    """Strides 1..3, dilations 1..2, 1, 2 or 4 taps, input widths 0..5, every accepted width."""
    rng = np.random.default_rng(stable_seed(padding, data_format, dtype, groups))
    cases = 0
    for s in (1, 2, 3):
        for d in (1, 2):
            for k in (1, 2, 4):
                for m in (0, 1, 2, 5):
                    x = random_array(rng, signal_shape(2, m, groups * cing, data_format), dtype)
                    f = random_array(rng, (k, coutg, groups * cing), dtype)
                    for wide in widths(m, k, s, d, padding):
                        check(x, f, wide, s, d, padding, data_format, groups,
                              f"s={s} d={d} K={k} M={m} L={wide}")
                        cases += 1
    assert cases >= 50


def test_groups_are_independent_transposes(rng):
    """Group j of the output is the ungrouped transpose of group j of the input (zero insertion)."""
    for groups, cing, coutg in GROUPS + [(4, 2, 1)]:
        for s, d, k, padding in [(2, 1, 4, "SAME"), (3, 2, 3, "VALID"), (1, 1, 2, "SAME")]:
            x = random_array(rng, (2, 6, groups * cing), np.float64)
            f = random_array(rng, (k, coutg, groups * cing), np.float64)
            wide = widths(6, k, s, d, padding)[-1]
            y = conv1dt.conv1d_transpose(x, f, [2, wide, groups * coutg], s, padding, dilations=d,
                                         groups=groups)
            parts = [zero_insertion(x[..., j * cing:(j + 1) * cing], f[..., j * cing:(j + 1) * cing],
                                    [2, wide, coutg], s, d, padding) for j in range(groups)]
            np.testing.assert_allclose(y, np.concatenate(parts, axis=2), rtol=1e-12, atol=1e-12)


def test_explicit_padding_crops_the_full_result(rng):
    """Explicit (lo, hi): the full VALID result cropped by lo at the start and hi at the end, at
    the narrowest width; wider accepted widths continue the full result, then zeros."""
    for s, d, k in [(1, 1, 3), (2, 1, 4), (3, 2, 3), (2, 3, 1)]:
        x = random_array(rng, (2, 5, 3), np.float64)
        f = random_array(rng, (k, 2, 3), np.float64)
        full_width = 4 * s + (k - 1) * d + 1
        full = conv1dt.conv1d_transpose(x, f, [2, full_width, 2], s, "VALID", dilations=d)
        for lo, hi in [(0, 0), (1, 0), (0, 2), (2, 3), (full_width, 0), (3, full_width - 3)]:
            for wide in widths(5, k, s, d, (lo, hi)):
                y = conv1dt.conv1d_transpose(x, f, [2, wide, 2], s, [[0, 0], [lo, hi], [0, 0]], dilations=d)
                want = np.zeros((2, wide, 2))
                seg = full[:, lo:lo + wide]
                want[:, :seg.shape[1]] = seg
                np.testing.assert_allclose(y, want, rtol=1e-13, atol=1e-13)
                if wide == full_width - lo - hi:
                    np.testing.assert_array_equal(y, full[:, lo:full_width - hi])


def test_valid_is_explicit_zero_padding(rng):
    x = random_array(rng, (2, 7, 3), np.float32)
    f = random_array(rng, (4, 5, 3), np.float32)
    for wide in widths(7, 4, 2, 1, "VALID"):
        np.testing.assert_array_equal(
            conv1dt.conv1d_transpose(x, f, [2, wide, 5], 2, "VALID"),
            conv1dt.conv1d_transpose(x, f, [2, wide, 5], 2, [[0, 0], [0, 0], [0, 0]]))


def test_complex_is_bilinear(rng):
    """Bit for bit the four real calls (rr - ii) + i(ri + ir); no conjugation anywhere."""
    x = random_array(rng, (2, 9, 4), np.complex64)
    f = random_array(rng, (3, 3, 4), np.complex64)
    args = ([2, 18, 6], 2, [[0, 0], [1, 0], [0, 0]])
    y = conv1dt.conv1d_transpose(x, f, *args, groups=2)
    part = {(a, b): conv1dt.conv1d_transpose(getattr(x, a), getattr(f, b), *args, groups=2)
            for a in ("real", "imag") for b in ("real", "imag")}
    np.testing.assert_array_equal(y.real, part["real", "real"] - part["imag", "imag"])
    np.testing.assert_array_equal(y.imag, part["real", "imag"] + part["imag", "real"])
    # scaling the filters by 1j rotates the result; a conjugating op would rotate it the other way
    np.testing.assert_allclose(conv1dt.conv1d_transpose(x, 1j * f, *args, groups=2), 1j * y, rtol=1e-6)


@st.composite
def cases(draw):
    padding = draw(st.one_of(st.sampled_from(["SAME", "VALID"]),
                             st.tuples(st.integers(0, 5), st.integers(0, 5))))
    data_format = draw(st.sampled_from(["NWC", "NCW"]))
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64, np.complex64, np.complex128]))
    groups = draw(st.sampled_from([1, 1, 2, 3, 4]))
    cing, coutg = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n, m = draw(st.integers(0, 3)), draw(st.integers(0, 10))
    k, s, d = draw(st.integers(1, 6)), draw(st.integers(1, 5)), draw(st.integers(1, 3))
    accepted = list(widths(m, k, s, d, padding))
    if not accepted:  # large explicit padding can leave no width at all (a refusal, tested elsewhere)
        padding = "SAME"
        accepted = list(widths(m, k, s, d, padding))
    wide = draw(st.sampled_from(accepted))
    seed = draw(st.integers(0, 2**32 - 1))
    return padding, data_format, dtype, groups, cing, coutg, n, m, k, s, d, wide, seed


@settings(max_examples=250, deadline=None)
@given(cases())
def test_random_against_reference(case):
    padding, data_format, dtype, groups, cing, coutg, n, m, k, s, d, wide, seed = case
    rng = np.random.default_rng(seed)
    x = random_array(rng, signal_shape(n, m, groups * cing, data_format), dtype)
    f = random_array(rng, (k, coutg, groups * cing), dtype)
    check(x, f, wide, s, d, padding, data_format, groups, str(case))


def test_float16_is_computed_in_float32(rng):
    x = random_array(rng, (2, 20, 4), np.float16)
    f = random_array(rng, (5, 3, 4), np.float16)
    y = conv1dt.conv1d_transpose(x, f, [2, 41, 6], 2, [[0, 0], [1, 1], [0, 0]], groups=2)
    assert y.dtype == np.float16
    want = conv1dt.conv1d_transpose(x.astype(np.float32), f.astype(np.float32), [2, 41, 6], 2,
                                    [[0, 0], [1, 1], [0, 0]], groups=2)
    np.testing.assert_array_equal(y, want.astype(np.float16))


def test_depthwise_long_signal_all_kernels(rng):
    """Many groups and long signals reach every kernel of the per-group dispatch."""
    for cin, cout, groups, k, s in [(32, 32, 32, 5, 2), (64, 128, 4, 3, 1), (8, 8, 2, 64, 16),
                                    (256, 160, 4, 3, 2), (256, 256, 16, 4, 2), (96, 48, 3, 40, 8)]:
        x = random_array(rng, (2, 300, cin), np.float32)
        f = random_array(rng, (k, cout // groups, cin), np.float32)
        check(x, f, 300 * s, s, 1, "SAME", "NWC", groups, f"{cin}x{cout}/{groups} K={k} s={s}")


def test_bits_do_not_depend_on_threads(rng):
    x = random_array(rng, (3, 500, 8), np.complex64)
    f = random_array(rng, (6, 5, 8), np.complex64)
    outs = []
    try:
        for t in (1, 2, 3):
            conv1dt.set_num_threads(t)
            outs.append(conv1dt.conv1d_transpose(x, f, [3, 998, 10], 2, [[0, 0], [3, 4], [0, 0]], groups=2))
    finally:
        conv1dt.set_num_threads(None)
    for other in outs[1:]:
        np.testing.assert_array_equal(outs[0], other)


# all groups at once; conv1d_transpose once per group; the tiled kernel once per group, in place
GROUPED_KERNELS = (["direct", "blas", "block-diagonal", "ola", "flip-blas"]
                   + (["tiled"] if _cpu.tiled_available() else [])
                   + (["tiled-avx2"] if _cpu.tiled_isa() == "avx512" else []))


def run_grouped(kernel, x, f, wide, s, d, padding, data_format, groups):
    from conv1dt import _dispatch
    shape = signal_shape(x.shape[0], wide, f.shape[1] * groups, data_format)
    g = transpose_geometry(x.shape, f.shape, shape, s, d, padding, data_format, groups)
    with tiles(kernel) as name:
        return g, _dispatch.conv1d_transpose_groups(np.ascontiguousarray(x), np.ascontiguousarray(f),
                                                    g, data_format, name)


@pytest.mark.parametrize("kernel", GROUPED_KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_grouped_kernel(kernel, dtype):
    """Both grouped paths forced on shapes the rule would give the other, short and long."""
    rng = np.random.default_rng(11)
    shapes = [(2, 1, 1), (3, 2, 3), (2, 5, 4), (4, 1, 2)]          # (groups, Cin/G, Cout/G)
    for padding in ["SAME", "VALID", (2, 1)]:
        for data_format in ("NWC", "NCW"):
            for s, d, k in [(1, 1, 3), (2, 1, 4), (3, 2, 2)]:
                for groups, cing, coutg in shapes:
                    for m in (0, 1, 6, 300):
                        x = random_array(rng, signal_shape(2, m, groups * cing, data_format), dtype)
                        f = random_array(rng, (k, coutg, groups * cing), dtype)
                        accepted = widths(m, k, s, d, padding)
                        for wide in sorted({accepted[0], accepted[-1]}) if accepted else ():
                            g, y = run_grouped(kernel, x, f, wide, s, d, padding, data_format, groups)
                            want, bound = family_oracle("transpose", x, f, g, data_format)
                            assert_family_matches(y, want, bound, transpose_terms(g),
                                                  f"{kernel} {padding} {data_format} s={s} d={d} K={k} "
                                                  f"G={groups} M={m} L={wide}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grouped_overlap_add(dtype):
    """The overlap-add with groups in place (``_gemm.transpose_ola``'s ``groups``): each group's
    input channels, filter rows and output channels read and written where they are; products
    by BLAS's GEMM and by the dot GEMM, blocks of one batch element (the rows one run in NWC)
    and of two (gathered), blocks of taps and of outputs that cut the filter's reach, dilations,
    padding beyond the signal; against the reference, with the same bits on 1 and 3 threads."""
    from conv1dt._compiled import _gemm
    rng = np.random.default_rng(53)
    for groups, cing, coutg, k, s, d, padding in [
            (28, 28, 1, 8, 3, 1, "VALID"), (3, 8, 11, 5, 2, 1, "SAME"),
            (4, 20, 3, 16, 8, 2, (9, 4)), (2, 5, 2, 7, 1, 3, (20, 0))]:
        for data_format in ("NWC", "NCW"):
            x = random_array(rng, signal_shape(3, 40, groups * cing, data_format), dtype)
            f = random_array(rng, (k, coutg, groups * cing), dtype)
            wide = widths(40, k, s, d, padding)[-1]
            shape = signal_shape(3, wide, groups * coutg, data_format)
            g = transpose_geometry(x.shape, f.shape, shape, s, d, padding, data_format, groups)
            want, bound = family_oracle("transpose", x, f, g, data_format)
            for width, taps, batch, dot in [(16, 3, 1, False), (50, 8, 2, True),
                                            (wide, k, 3, False), (7, 2, 2, True)]:
                outs = []
                for threads in (1, 3):
                    y = np.full(shape, np.nan, dtype)
                    _gemm.transpose_ola(x, f, y, data_format == "NCW", s, d, g.pad_before, width,
                                        taps, threads, batch, dot, groups)
                    outs.append(y)
                assert_family_matches(outs[0], want, bound, transpose_terms(g),
                                      f"G={groups} {cing}->{coutg} K={k} s={s} d={d} {padding} "
                                      f"{data_format} width={width} taps={taps} batch={batch} "
                                      f"dot={dot}")
                np.testing.assert_array_equal(outs[0], outs[1])
    with pytest.raises(ValueError, match="channels"):
        _gemm.transpose_ola(np.zeros((1, 4, 6)), np.zeros((2, 2, 6)), np.zeros((1, 8, 5)),
                            False, 2, 1, 0, 8, 2, 1, 1, False, 3)
    # the public op as planned (the plan's blocks passed to the grouped runner), twice
    x = random_array(rng, (3, 40, 28 * 28), dtype)
    f = random_array(rng, (8, 1, 28 * 28), dtype)
    plan = conv1dt.plan("conv1d_transpose", x, f, (3, 125, 28), 3, "VALID", groups=28)
    assert plan.kernel == "ola"
    g = transpose_geometry(x.shape, f.shape, (3, 125, 28), 3, 1, "VALID", "NWC", 28)
    want, bound = family_oracle("transpose", x, f, g, "NWC")
    for _ in range(2):
        assert_family_matches(plan(x, f), want, bound, transpose_terms(g), "planned")
    # a block-diagonal plan whose input is not finite falls back to the grouped kernel, here
    # the overlap-add, with its own blocks (not the plan's)
    x = random_array(rng, (4, 64, 80), dtype)
    f = random_array(rng, (25, 2, 80), dtype)
    x[0, 3, 5] = np.inf
    plan = conv1dt.plan("conv1d_transpose", x, f, (4, 64, 4), 1, "SAME", groups=2)
    assert plan.kernel == "block-diagonal"
    g, want = run_grouped("ola", x, f, 64, 1, 1, "SAME", "NWC", 2)
    assert _plan.choose("transpose", g, x.itemsize, dense=False) == "ola"
    np.testing.assert_array_equal(plan(x, f), want)


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_depthwise_by_the_fir_kernel(data_format):
    """Depthwise transposes by the FIR kernel (each output phase a stride-1 FIR of the reversed
    phase's taps), forced and picked: strides 1-4 with dilations that share a factor with them or
    not (phases no tap reaches), every padding form, against the reference; the same bits on 1
    and 3 threads."""
    rng = np.random.default_rng(41)
    for dtype in (np.float32, np.float64):
        for padding in ["SAME", "VALID", (2, 1), (0, 9)]:
            for c, s, d, k in [(3, 1, 1, 9), (8, 2, 1, 16), (5, 3, 2, 7), (16, 4, 2, 5), (4, 4, 4, 3)]:
                x = random_array(rng, signal_shape(2, 60, c, data_format), dtype)
                f = random_array(rng, (k, 1, c), dtype)
                for wide in sorted(set(widths(60, k, s, d, padding)))[::7]:
                    g, y = run_grouped("fir", x, f, wide, s, d, padding, data_format, c)
                    want, bound = family_oracle("transpose", x, f, g, data_format)
                    assert_family_matches(y, want, bound, transpose_terms(g),
                                          f"fir {padding} {data_format} C={c} s={s} d={d} K={k}")
    x = random_array(rng, (3, 4000, 6), np.float64)
    f = random_array(rng, (12, 1, 6), np.float64)
    outs = []
    try:
        for t in (1, 3):
            conv1dt.set_num_threads(t)
            outs.append(run_grouped("fir", x, f, 12000, 3, 1, "SAME", "NWC", 6)[1])
    finally:
        conv1dt.set_num_threads(None)
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grouped_direct_by_dot_products(dtype):
    """The grouped direct kernel with 20 and more input channels a group sums each tap's
    channels by the dot GEMM (vectors, their lanes added in a fixed order): 20 to 47 channels
    (whole vectors and the lanes left), 1 to 5 outputs a group, outputs over several blocks of
    256 rows, strides and dilations; against the reference, and the same bits on 1 and 3
    threads."""
    rng = np.random.default_rng(23)
    for groups, cing, coutg, k, s, d, padding in [
            (2, 20, 1, 3, 1, 1, "SAME"), (3, 21, 2, 4, 2, 1, "VALID"), (2, 32, 3, 5, 3, 2, (4, 1)),
            (4, 33, 5, 2, 1, 3, "SAME"), (2, 47, 1, 7, 4, 1, "VALID"), (5, 40, 2, 3, 2, 2, "SAME")]:
        for data_format in ("NWC", "NCW"):
            x = random_array(rng, signal_shape(2, 300, groups * cing, data_format), dtype)
            f = random_array(rng, (k, coutg, groups * cing), dtype)
            wide = widths(300, k, s, d, padding)[-1]
            outs = []
            for threads in (1, 3):
                with conv1dt.threads(threads):
                    g, y = run_grouped("direct", x, f, wide, s, d, padding, data_format, groups)
                outs.append(y)
            want, bound = family_oracle("transpose", x, f, g, data_format)
            assert_family_matches(outs[0], want, bound, transpose_terms(g),
                                  f"G={groups} {cing}->{coutg} K={k} s={s} d={d} {data_format}")
            np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grouped_direct_by_spread_rows(dtype):
    """The grouped direct kernel with fewer than 20 input channels a group (not one each way)
    spreads each input row to the output's channels and adds whole output rows in vectors: rows
    of 6 to 1036 channels (two vectors at a time, one, and the lanes left), one input channel a
    group (a channel multiplier) and 19, one output channel a group from 3, 4 and 8 (the spread
    a transpose of the row, by shuffles for 4 and 8), 1 to 33 output channels a group (the
    spread's vectors shorter than a group, as long, longer, and the last group's rest), strides,
    dilations, taps beyond the output, outputs over several blocks of 256 rows; against the
    reference, and the same bits on 1 and 3 threads."""
    rng = np.random.default_rng(29)
    for groups, cing, coutg, k, s, d, padding in [
            (2, 3, 3, 3, 1, 1, "SAME"), (5, 3, 7, 4, 2, 1, "VALID"), (74, 1, 14, 5, 2, 7, "SAME"),
            (3, 19, 11, 6, 3, 2, (9, 2)), (16, 2, 3, 2, 1, 3, "SAME"), (33, 3, 1, 9, 1, 1, (3, 8)),
            (6, 1, 5, 40, 7, 4, (30, 100)), (12, 4, 1, 3, 2, 1, "SAME"),
            (9, 8, 1, 5, 3, 2, "VALID"), (4, 2, 20, 3, 2, 1, "SAME"), (3, 5, 33, 2, 1, 1, "VALID"),
            (2, 7, 16, 1, 3, 1, "VALID"), (13, 8, 11, 1, 5, 1, "VALID")]:
        for data_format in ("NWC", "NCW"):
            x = random_array(rng, signal_shape(2, 150, groups * cing, data_format), dtype)
            f = random_array(rng, (k, coutg, groups * cing), dtype)
            wide = widths(150, k, s, d, padding)[-1]
            outs = []
            for threads in (1, 3):
                with conv1dt.threads(threads):
                    g, y = run_grouped("direct", x, f, wide, s, d, padding, data_format, groups)
                outs.append(y)
            want, bound = family_oracle("transpose", x, f, g, data_format)
            assert_family_matches(outs[0], want, bound, transpose_terms(g),
                                  f"G={groups} {cing}->{coutg} K={k} s={s} d={d} {data_format}")
            np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.skipif(not _cpu.tiled_available(), reason="the tiled kernel needs AVX-512")
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_groups_in_place_give_the_bits_of_group_major_copies(data_format, monkeypatch):
    """The tiled kernel run on each group's slices of the operands, in place, gives the same bits
    as the same kernel on contiguous group-major copies (what the per-group path runs for these
    channel counts), and the automatic choice takes the in-place path."""
    from conv1dt import _dispatch
    rng = np.random.default_rng(13)
    for groups, cing, coutg, k, s in [(4, 64, 40, 3, 2), (3, 20, 70, 5, 1), (2, 90, 33, 2, 3)]:
        x = random_array(rng, signal_shape(2, 77, groups * cing, data_format), np.float32)
        f = random_array(rng, (k, coutg, groups * cing), np.float32)
        wide = widths(77, k, s, 1, "SAME")[-1]
        g = transpose_geometry(x.shape, f.shape, signal_shape(2, wide, groups * coutg, data_format),
                               s, 1, "SAME", data_format, groups)
        one = g._replace(narrow_channels=cing, wide_channels=coutg, groups=1)
        assert _plan.choose("transpose", one) == "tiled"       # what each group-major call runs
        copies = run_grouped("blas", x, f, wide, s, 1, "SAME", data_format, groups)[1]
        in_place = run_grouped("tiled", x, f, wide, s, 1, "SAME", data_format, groups)[1]
        np.testing.assert_array_equal(in_place, copies)
        with monkeypatch.context() as m:   # the automatic choice: no per-group copies
            m.setattr(_dispatch, "conv1d_transpose", None)
            auto = run_grouped(None, x, f, wide, s, 1, "SAME", data_format, groups)[1]
        np.testing.assert_array_equal(auto, in_place)


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grouped_transpose_by_the_reversed_taps(dtype, data_format):
    """``flip-blas``: a stride-1 grouped transpose as conv1d's BLAS kernel on the reversed taps,
    the filter read in place (each tap's slice transposed by the GEMM), leading padding
    ``(K-1)*d - p``: against the reference for SAME, VALID and explicit padding, dilation and
    channels of every group; for blocks of 7 rows and of all of them, the same bits for items
    of one group, two and all of them, on 1 and 3 threads (each output one sum of its taps in
    order, by GEMMs of the same shapes)."""
    from conv1dt import _dispatch
    rng = np.random.default_rng(71)
    for groups, cing, coutg, k, d, m, padding in [(4, 20, 17, 9, 1, 40, "SAME"),
                                                  (3, 16, 33, 5, 3, 25, "VALID"),
                                                  (2, 24, 16, 12, 2, 30, (7, 2))]:
        x = random_array(rng, signal_shape(2, m, groups * cing, data_format), dtype)
        f = random_array(rng, (k, coutg, groups * cing), dtype)
        wide = widths(m, k, 1, d, padding)[-1]
        g = transpose_geometry(x.shape, f.shape, signal_shape(2, wide, groups * coutg,
                                                               data_format),
                               1, d, padding, data_format, groups)
        want, bound = family_oracle("transpose", x, f, g, data_format)
        for rows in (wide, 7):
            outs = []
            for gb, threads in ((groups, 1), (1, 3), (2, 1), (groups, 3)):
                blocks = {"rows": rows, "channels": coutg, "groups": gb}
                with conv1dt.threads(threads):
                    y = _dispatch.conv1d_transpose_groups(x, f, g, data_format, "flip-blas",
                                                          blocks=blocks)
                outs.append(y)
            assert_family_matches(outs[0], want, bound, transpose_terms(g),
                                  f"G={groups} K={k} rows={rows}")
            for y in outs[1:]:
                np.testing.assert_array_equal(outs[0], y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grouped_direct_blocks_of_rows(dtype):
    """The grouped direct kernel's work items are blocks of wide rows, made smaller
    (``_plan.grouped_rows``) where a call has few: one frame under a long filter, 14 blocks of
    16 rows, not one of 221. Against the reference, by dot GEMMs (20+ inputs a group) and by
    spread rows (fewer; several input rows spread ahead of their sums, in batches that the
    blocks cut short); the same bits for blocks of 256, 16 and 5 rows and on 1 and 3 threads
    (each output's sum has one order whatever its block). The spread rows read the filter laid
    out from the first tap that reaches an output to the last: a few frames under a long dilated
    filter, cropped by the padding, reach a middle run of taps (the last four cases: 10-19 of
    40, and with a stride a run with gaps), and where no tap reaches any output (3 frames,
    K=28, d=7, SAME) the output is zeros, the filter not laid out at all."""
    one = transpose_geometry((1, 1, 280), (221, 70, 280), (1, 221, 490), 1, 1, "VALID", "NWC", 7)
    assert _plan.grouped_rows(one) == 16 and _plan.grouped_rows(one._replace(batch=8)) == 256
    rng = np.random.default_rng(15)
    for groups, cing, coutg, k, s, d, m, pad in [(7, 40, 70, 221, 1, 1, 1, "VALID"),
                                                 (5, 8, 3, 30, 3, 2, 4, "SAME"),
                                                 (3, 24, 18, 9, 2, 1, 17, (5, 3)),
                                                 (19, 17, 1, 1, 4, 4, 45, "VALID"),
                                                 (4, 5, 1, 6, 2, 3, 37, "SAME"),
                                                 (6, 15, 8, 28, 1, 7, 3, "SAME"),
                                                 (4, 6, 5, 40, 1, 3, 2, (30, 60)),
                                                 (3, 5, 7, 33, 3, 2, 4, (25, 21)),
                                                 (5, 3, 4, 50, 2, 5, 1, (100, 130))]:
        x = random_array(rng, (2, m, groups * cing), dtype)
        f = random_array(rng, (k, coutg, groups * cing), dtype)
        wide = widths(m, k, s, d, pad)[-1]
        g = transpose_geometry(x.shape, f.shape, (2, wide, groups * coutg), s, d, pad, "NWC",
                               groups)
        want, bound = family_oracle("transpose", x, f, g, "NWC")
        outs = []
        for rows, threads in ((256, 1), (16, 3), (5, 3)):
            y = np.full((2, wide, groups * coutg), np.nan, dtype)
            _transpose.transpose_grouped(x, f, y, s, d, g.pad_before, groups, threads, rows)
            outs.append(y)
        assert_family_matches(outs[0], want, bound, transpose_terms(g), str(g))
        for y in outs[1:]:
            np.testing.assert_array_equal(y, outs[0])
        if (k, d, m, pad) == (28, 7, 3, "SAME"):
            # (the case where no tap reaches an output: zeros written over the NaN, nothing else)
            assert not np.any(want) and not np.any(outs[0])


@pytest.mark.skipif(not _cpu.tiled_available(), reason="the tiled kernel needs AVX2")
def test_groups_with_rows_too_long_for_the_filter_layout_take_the_copies(monkeypatch):
    """The in-place path packs filter rows of all Cin channels; where they are longer than the
    layout takes (2**27, here lowered to 16), the groups run on group-major copies, right."""
    from conv1dt import _dispatch
    rng = np.random.default_rng(14)
    x = random_array(rng, (2, 40, 4 * 8), np.float32)
    f = random_array(rng, (3, 40, 4 * 8), np.float32)
    monkeypatch.setattr(_transpose, "TILED_MAX_ROW", 16)
    calls = []
    real = _dispatch.transpose_plan

    def spy(*args, **kwargs):
        run = real(*args, **kwargs)
        return lambda *a: calls.append(1) or run(*a)
    monkeypatch.setattr(_dispatch, "transpose_plan", spy)
    g, y = run_grouped(None, x, f, 80, 2, 1, "SAME", "NWC", 4)
    assert len(calls) == 4                  # once per group, on copies
    want, bound = family_oracle("transpose", x, f, g, "NWC")
    assert_family_matches(y, want, bound, transpose_terms(g), "copies")


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_block_diagonal_keeps_the_groups_apart(data_format):
    """The block-diagonal kernel (the groups' filters on the diagonal of one filter of all
    channels, zeros elsewhere) on an input with an infinity or a NaN: the grouped kernel runs
    instead, so that no ``0 * inf`` of another group's zeros turns its outputs into NaN; the
    definition's infinities and NaNs where they reach, the oracle's values elsewhere, and the
    input untouched. Where the output is smaller than the input (many channels in, few out),
    it is the output that is checked, after the dense product."""
    rng = np.random.default_rng(29)
    for groups, cing, coutg, s, k in [(2, 3, 1, 3, 1), (4, 2, 3, 2, 5), (8, 1, 4, 1, 3),
                                      (2, 6, 1, 1, 1), (3, 5, 2, 1, 3)]:
        x = random_array(rng, signal_shape(2, 40, groups * cing, data_format), np.float64)
        f = random_array(rng, (k, coutg, groups * cing), np.float64)
        wide = widths(40, k, s, 1, "SAME")[0]
        for bad in (np.inf, np.nan):
            xb = x.copy()
            at = (0, 7, 0) if data_format == "NWC" else (0, 0, 7)
            xb[at] = bad
            kept = xb.copy()
            g, y = run_grouped("block-diagonal", xb, f, wide, s, 1, "SAME", data_format, groups)
            np.testing.assert_array_equal(xb, kept)
            with np.errstate(invalid="ignore"):
                want, bound = family_oracle("transpose", xb, f, g, data_format)
            np.testing.assert_array_equal(np.isnan(y), np.isnan(want))
            np.testing.assert_array_equal(np.isinf(y), np.isinf(want))
            ok = np.isfinite(want)
            assert ok.any() and not ok.all()
            np.testing.assert_allclose(y[ok], want[ok], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel", GROUPED_KERNELS)
def test_grouped_bits_do_not_depend_on_threads(kernel):
    rng = np.random.default_rng(12)
    x = random_array(rng, (3, 900, 12), np.float32)
    f = random_array(rng, (5, 2, 12), np.float32)
    outs = []
    try:
        for t in (1, 2, 3):
            conv1dt.set_num_threads(t)
            outs.append(run_grouped(kernel, x, f, 1800, 2, 1, "SAME", "NWC", 6)[1])
    finally:
        conv1dt.set_num_threads(None)
    for other in outs[1:]:
        np.testing.assert_array_equal(outs[0], other)


def test_grouped_overlap_add_takes_its_items_from_the_whole_call(monkeypatch):
    """The grouped overlap-add's work items follow the whole call's work, not one group's: 64
    groups of 32 -> 2 and one batch element, 512,000 multiply-adds a group (below
    ``PARALLEL_MACS`` as the library sets it; the tests lower it) and 32.8 million in all, get
    ``MIN_ITEMS`` items or more (they got 2 when the blocking saw one group's work)."""
    monkeypatch.setattr(_plan, "PARALLEL_MACS", 1 << 19)
    one = transpose_geometry((1, 500, 2048), (16, 2, 2048), (1, 2000, 128), 4, 1, "SAME", "NWC",
                             64)
    assert _plan.macs(one) // one.groups < _plan.PARALLEL_MACS <= _plan.macs(one)
    assert _plan.choose("transpose", one, 4, dense=False) == "ola"
    b = _plan.blocking("transpose", "ola", one, 4)
    assert -(-one.batch // b["batch"]) * -(-one.wide // b["width"]) >= _plan.MIN_ITEMS


def test_grouped_dispatch_rule():
    """The grouped transpose's rule (float32, AVX-512 vectors of 16 when the C layer has them):
    the kernel for the groups (the block-diagonal kernel aside, below)."""
    from conv1dt import _dispatch

    def g(cin, cout, groups, taps=3):
        return transpose_geometry((4, 4096, cin), (taps, cout // groups, cin), (4, 4096, cout), 1, 1,
                                  "SAME", "NWC", groups)
    lanes = _plan.VECTOR_BYTES // 4

    def grouped(geom, itemsize=4, layout="NWC"):
        return _plan.choose("transpose", geom, itemsize, layout, dense=False)
    assert grouped(g(64, 64, 64)) == "depthwise"
    # depthwise by the FIR kernel, one output phase at a time: in NCW, and with few groups
    assert grouped(g(64, 64, 64), 4, "NCW") == "fir"
    assert grouped(g(4, 4, 4, taps=9)) == "fir"
    assert grouped(g(8, 16, 8), 4, "NCW") != "fir"          # 2 outputs a group
    # the tiled kernel once per group where a group's outputs fill its tiles: two vectors; one
    # with few groups or 8 inputs a group; half of one with 16 inputs and at most 4 taps
    wide = "tiled" if _plan.TILED else "direct"                                 # (dot GEMMs)
    assert grouped(g(256, 256, 4)) == wide                    # 64 x 64
    # ... but not for 16 groups or more of 1-3 inputs or of little work each (a call per group)
    assert grouped(g(64, 1024, 32)) == "direct"               # 2 x 32
    few = transpose_geometry((7, 49, 408), (5, 11, 408), (7, 405, 561), 8, 5, "VALID", "NWC", 51)
    assert grouped(few) == "direct"                           # 8 x 11, 51 groups
    assert grouped(g(1024, 1024, 16)) == wide        # 64 x 64, 16 groups
    if lanes == 16:
        assert grouped(g(64, 64, 4)) == wide                  # 16 x 16
        assert grouped(g(64, 32, 4)) == ("tiled" if _plan.TILED else "direct")
        assert grouped(g(64, 32, 4, taps=9)) == "direct"      # 16 x 8, 9 taps
        # groups of fewer than 20 inputs whose output rows fill vectors: the grouped direct kernel,
        # unless a few groups of 8 inputs and 100 columns (taps x outputs) each are GEMMs
        assert grouped(g(96, 96, 8)) == "direct"              # 12 x 12
        assert grouped(g(64, 96, 8, taps=9)) == "copies"      # 8 x 12, 9 taps
    assert grouped(g(16, 16, 16)) == "direct"
    assert grouped(g(64, 64, 16)) == "direct"                 # 4 x 4
    assert grouped(g(537, 1074, 179)) == "direct"             # 3 x 6
    # rows shorter than a vector: the per-group loops for at most 16 channel pairs, else copies
    assert grouped(g(4, 4, 2)) == "direct"
    assert grouped(g(16, 6, 2, taps=9)) == (                 # 8 x 3
        "copies" if 6 * 4 < _plan.VECTOR_BYTES else "direct")
    # 20 inputs a group and more: the overlap-add with the groups in place for at most 16
    # outputs a group (_plan._grouped_ola), else the grouped direct kernel's dot GEMMs for few
    # columns a group or long sums, and the copies
    assert grouped(g(80, 4, 2)) == "ola"                      # 40 x 2, 3 taps
    assert grouped(g(80, 4, 2, taps=25)) == "ola"
    assert grouped(g(120, 40, 2, taps=40)) == "flip-blas"     # 60 x 20 (beyond the tiled range)
    # ... but the grouped direct kernel for a few frames in all, 1-2 taps, or most links off
    # the signal (_plan._grouped_few_rows): a call per group would have little work each
    one = transpose_geometry((1, 1, 280), (221, 70, 280), (1, 221, 490), 1, 1, "VALID", "NWC", 7)
    assert grouped(one) == "direct"                            # 1 frame, 40 x 70, K=221
    assert grouped(one._replace(batch=9)) == "copies"
    # at stride 1 from 16 inputs and outputs a group, 8 frames and 32 outputs a batch element:
    # conv1d's BLAS kernel on the reversed taps (the wav2vec 2.0 positional convolution's input
    # gradient); not for a few frames (each tap's GEMM then has a few rows)
    pos = transpose_geometry((1, 250, 768), (128, 48, 768), (1, 250, 768), 1, 1, (64, 63),
                             "NWC", 16)
    assert grouped(pos) == "flip-blas"
    assert grouped(pos._replace(narrow=4, wide=131)) != "flip-blas"
    assert grouped(pos._replace(wide_channels=15 * 16)) != "flip-blas"      # 15 outputs a group
    same = transpose_geometry((16, 1, 27 * 44), (192, 27, 27 * 44), (16, 2, 27 * 44), 2, 7,
                              "SAME", "NWC", 44)
    assert grouped(same) == "direct"                           # 2 of 192 taps reach the output
    sparse = transpose_geometry((4, 512, 80), (2, 2, 80), (4, 512 * 6, 4), 6, 1, "SAME", "NWC", 2)
    assert grouped(sparse) != "ola"                           # 2 taps at a stride of 6
    # without the flag: the block-diagonal kernel for at most 8 groups and 1024 channel pairs in
    # all (not one channel each way a group), unless the taps are fewer than a stride of 5+
    assert _plan.choose("transpose", g(4, 4, 2)) == "block-diagonal"
    assert _plan.choose("transpose", g(80, 4, 2, taps=25)) == "block-diagonal"
    for many in (g(64, 64, 16), g(96, 96, 8)):        # 16 groups; 9216 pairs: the grouped rule's
        assert _plan.choose("transpose", many) == grouped(many) != "block-diagonal"
    # ... but with one tap (a grouped matrix product) up to 16 groups
    assert _plan.choose("transpose", g(64, 16, 16, taps=1)) == "block-diagonal"
    assert _plan.choose("transpose", g(64, 16, 16, taps=2)) != "block-diagonal"
    assert _plan.choose("transpose", g(36, 18, 18, taps=1)) != "block-diagonal"   # 18 groups
    assert _plan.choose("transpose", g(8, 8, 8)) != "block-diagonal"            # depthwise
    strided = transpose_geometry((4, 512, 6), (1, 1, 6), (4, 512 * 6, 2), 6, 1, "SAME", "NWC", 2)
    assert _plan.choose("transpose", strided) == "direct"                      # K=1 < s=6
    assert _plan.choose("transpose", strided._replace(stride=3, wide=1536)) == "block-diagonal"
