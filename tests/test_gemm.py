"""The GEMM kernels (conv1dt/_gemm.pyx) against the reference, forced, over random geometries.

Every block size the planner could pass is drawn at random (one row, one tap, a partial last
block), in both layouts, with groups, strides, dilations and padding on either side, and the
result must match ``conv1dt.reference`` within the floating-point bound of its sum
(``conftest.assert_family_matches``) and be the same, to the bit, on 1 and 3 threads.
"""
import numpy as np
import pytest

from conftest import assert_family_matches, family_oracle, random_array
from conv1dt import _plan
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


def _draw_wide_output(rng):
    """A random NWC geometry with 17 to 79 narrow channels per group (the skinny GEMM's vector
    tiles: two vectors, one, and the columns left) and 20 to 199 narrow rows."""
    G = int(rng.choice([1, 2]))
    cw, cn = G * int(rng.integers(1, 4)), G * int(rng.integers(17, 80))
    K, s, d = int(rng.integers(1, 12)), int(rng.integers(1, 6)), int(rng.integers(1, 3))
    M = int(rng.integers(20, 200))
    lo = int(rng.integers(0, (K - 1) * d + 1))
    L = (M - 1) * s + (K - 1) * d + 1 - lo
    return Geometry(int(rng.integers(1, 4)), L, M, cw, cn, K, s, d, lo, G)


def _layout(a, ncw):
    return np.ascontiguousarray(a.transpose(0, 2, 1)) if ncw else a


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(60))
def test_conv1d_im2col(seed, dtype):
    rng = np.random.default_rng(seed)
    g = _draw(rng)
    ncw = bool(rng.integers(2))
    x = random_array(rng, (g.batch, g.wide, g.wide_channels), dtype)
    f = random_array(rng, (g.taps, g.wide_channels // g.groups, g.narrow_channels), dtype)
    want, bound = family_oracle("conv1d", x, f, g)
    rows, taps = int(rng.integers(1, 9)), int(rng.integers(1, g.taps + 2))
    skinny, stream = bool(rng.integers(2)), bool(rng.integers(2))
    # blocks of a group's output channels per item (0: all), and blocks of a few rows by the
    # streamed skinny GEMM (NWC)
    channels = int(rng.integers(0, g.narrow_channels // g.groups + 2))
    few = int(rng.choice([0, 0, 3, 8]))
    outs = []
    for threads in (1, 3):
        z = np.full((g.batch, g.narrow, g.narrow_channels), np.nan, dtype)
        z = _layout(z, ncw)
        with single_threaded_blas():
            _gemm.conv1d_im2col(_layout(x, ncw), f, z, ncw, g.stride, g.dilation, g.pad_before,
                                g.groups, rows, taps, threads, skinny, stream, False, few,
                                channels)
        outs.append(_layout(z, ncw))
    assert_family_matches(outs[0], want, bound, g.taps * g.wide_channels // g.groups, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])


def _check_filter(rng, g, dtype, ncw, rows, taps, chunks, round_rows, skinny, inplace,
                  across=False, window=False, window_rows=0, channels=0):
    """The im2col filter gradient with the given blocks and GEMM against the reference, and the
    same bits on 1 and 3 threads (in place, with ``channels`` output channels a work item)."""
    x = random_array(rng, (g.batch, g.wide, g.wide_channels), dtype)
    dy = random_array(rng, (g.batch, g.narrow, g.narrow_channels), dtype)
    want, bound = family_oracle("backprop_filter", x, dy, g)
    outs = []
    for threads in (1, 3):
        part = np.full((chunks, g.taps, g.wide_channels // g.groups, g.narrow_channels), np.nan,
                       dtype)
        with single_threaded_blas():
            _gemm.backprop_filter_im2col(_layout(x, ncw), _layout(dy, ncw), part, ncw, g.stride,
                                         g.dilation, g.pad_before, g.groups, rows, taps, threads,
                                         round_rows, skinny, inplace, across, window,
                                         window_rows, channels=channels)
        outs.append(np.add.reduce(part, axis=0))
    assert_family_matches(outs[0], want, bound, g.batch * g.narrow + chunks, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(40))
def test_backprop_filter_im2col(seed, dtype):
    """Every block size and both layouts, each way of multiplying asked for (the kernel gathers
    in NCW whatever is asked)."""
    rng = np.random.default_rng(seed)
    g = _draw(rng)
    ncw = bool(rng.integers(2))
    rows, taps = int(rng.integers(1, 9)), int(rng.integers(1, g.taps + 2))
    chunks = int(rng.integers(1, 6))
    round_rows = int(rng.integers(0, 4))   # several rounds of rows per chunk, or one (0)
    skinny, inplace = bool(rng.integers(2)), bool(rng.integers(2))
    _check_filter(rng, g, dtype, ncw, rows, taps, chunks, round_rows, skinny, inplace)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(16))
def test_backprop_filter_one_block_of_rows_overwrites(seed, dtype):
    """A chunk whose rows are one block (few rows under many taps): its GEMMs overwrite the taps
    that reach the signal and only the others are zeroed. Partial filters start as NaN; taps
    blocks that reach the signal wholly, partly or not at all (wide padding, a short signal);
    one or two chunks, both layouts, GEMVs (one output channel) and GEMMs; against the
    reference, the same bits on 1 and 3 threads."""
    rng = np.random.default_rng(seed + 900)
    K, s, d = int(rng.integers(6, 20)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
    keff = (K - 1) * d + 1
    M = int(rng.integers(1, 5))
    lo = int(rng.integers(keff // 2, keff + s))
    L = max(1, (M - 1) * s + keff - lo - int(rng.integers(keff // 2, keff)))
    cn = 1 if seed % 4 == 0 else int(rng.integers(2, 7))
    g = Geometry(int(rng.integers(1, 3)), L, M, int(rng.integers(1, 5)), cn, K, s, d, lo, 1)
    chunks = 1 + seed % 2
    rows = -(-(g.batch * g.narrow) // chunks) + int(rng.integers(0, 3))
    _check_filter(rng, g, dtype, bool(seed % 3 == 0), rows, int(rng.integers(1, 5)), chunks, 0,
                  False, False)


@pytest.mark.parametrize("op", ["conv1d", "backprop_filter"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(12))
def test_im2col_many_groups(seed, dtype, op):
    """16 to 40 groups of 1 to 4 channels each way: a work item then takes a block of adjacent
    groups (their outputs share the cache lines of each row), the last block partial, in both
    layouts and with every way of multiplying; against the reference, and the same bits on 1
    and 3 threads."""
    rng = np.random.default_rng(seed)
    G = int(rng.integers(16, 41))
    g = _draw(rng)._replace(wide_channels=G * int(rng.integers(1, 5)),
                            narrow_channels=G * int(rng.integers(1, 5)), groups=G)
    ncw = bool(rng.integers(2))
    rows, taps = int(rng.integers(1, 9)), int(rng.integers(1, g.taps + 2))
    if op == "backprop_filter":
        _check_filter(rng, g, dtype, ncw, rows, taps, int(rng.integers(1, 4)),
                      int(rng.integers(0, 4)), bool(rng.integers(2)), bool(rng.integers(2)),
                      across=bool(rng.integers(2)))
        return
    x = random_array(rng, (g.batch, g.wide, g.wide_channels), dtype)
    f = random_array(rng, (g.taps, g.wide_channels // g.groups, g.narrow_channels), dtype)
    want, bound = family_oracle("conv1d", x, f, g)
    skinny = bool(rng.integers(2))
    outs = []
    for threads in (1, 3):
        z = _layout(np.full((g.batch, g.narrow, g.narrow_channels), np.nan, dtype), ncw)
        with single_threaded_blas():
            _gemm.conv1d_im2col(_layout(x, ncw), f, z, ncw, g.stride, g.dilation, g.pad_before,
                                g.groups, rows, taps, threads, skinny, False, False, 0, 0)
        outs.append(_layout(z, ncw))
    assert_family_matches(outs[0], want, bound, g.taps * g.wide_channels // g.groups, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("mode", ["in place", "skinny"])
def test_backprop_filter_without_blas(mode, seed, dtype):
    """The filter gradient's two other ways of multiplying, NWC. In place (no gather: one GEMM
    per tap on the input where it is): rows on and off the signal at both ends, blocks of rows
    that cut batch elements, groups. The skinny GEMM: output channels enough for its vector
    tiles (two vectors, one, and the columns left), blocks of rows that ask for the next block.
    Both with several chunks and rounds of rows."""
    rng = np.random.default_rng(seed + (40 if mode == "in place" else 100))
    g = _draw(rng) if mode == "in place" else _draw_wide_output(rng)
    rows, taps = int(rng.integers(1, 64)), int(rng.integers(1, g.taps + 2))
    chunks, round_rows = int(rng.integers(1, 6)), int(rng.integers(0, 100))
    _check_filter(rng, g, dtype, False, rows, taps, chunks, round_rows, mode == "skinny",
                  mode == "in place")


def _draw_spaced(rng, across):
    """A random NWC geometry whose (tap, channel) columns are evenly spaced on the signal (one
    group at dilation 1, or one input channel a group at any dilation; across the columns, one
    group at dilation 1), 1 to 40 narrow channels a group, 16 to 120 narrow rows, padding on
    either side of any width (rows whose windows lie inside the signal, and rows at both edges)."""
    one_channel = not across and bool(rng.integers(2))
    G = int(rng.choice([1, 2, 3])) if one_channel else 1
    cw = G if one_channel else int(rng.integers(1, 6))
    cn = G * int(rng.integers(1, 41))
    K, s = int(rng.integers(1, 12)), int(rng.integers(1, 6))
    d = int(rng.integers(1, 4)) if one_channel else 1
    keff = (K - 1) * d + 1
    M = int(rng.integers(16, 121))
    lo = int(rng.integers(0, keff + s))
    L = max(1, (M - 1) * s + keff - lo - int(rng.integers(0, keff + s)))
    return Geometry(int(rng.integers(1, 4)), L, M, cw, cn, K, s, d, lo, G)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("mode", ["across", "window", "window across"])
def test_backprop_filter_short_side(mode, seed, dtype):
    """The filter gradient's skinny GEMM vectorised across the columns (``df^T += dy^T @ col``
    into a block's scratch, then added) and with the columns of the rows whose taps all read the
    signal taken in place (``window``: no gather there, the edge rows gathered a block at a
    time), NWC: blocks of rows (gathered and in place), of taps, chunks and rounds of rows drawn; against the reference and on 1 and 3
    threads."""
    across = "across" in mode
    rng = np.random.default_rng(seed + (500 if mode == "across" else 600 if across else 700))
    g = _draw_spaced(rng, across) if "window" in mode else _draw(rng)
    rows, taps = int(rng.integers(1, 64)), int(rng.integers(1, g.taps + 2))
    chunks, round_rows = int(rng.integers(1, 6)), int(rng.integers(0, 100))
    window_rows = int(rng.integers(0, 200))     # 0: blocks of ``rows``
    _check_filter(rng, g, dtype, False, rows, taps, chunks, round_rows, not across, False,
                  across, "window" in mode, window_rows)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(12))
def test_backprop_filter_windows_in_place_keep_the_bits(seed, dtype):
    """The skinny filter gradient with the windows on the signal read in place (``window``,
    in blocks of ``rows`` that ask for the next block's ``dy``) forms the same products in the
    same order as with every window gathered: the same bits, whatever the blocks of rows and
    windows; and the planner takes the windows in place for the skinny GEMM where the columns
    are evenly spaced, up to ``FILTER_WINDOW_MAX_CHANNELS`` outputs a group."""
    rng = np.random.default_rng(seed + 800)
    g = _draw_spaced(rng, False)
    x = random_array(rng, (g.batch, g.wide, g.wide_channels), dtype)
    dy = random_array(rng, (g.batch, g.narrow, g.narrow_channels), dtype)
    rows, taps = int(rng.integers(1, 64)), int(rng.integers(1, g.taps + 2))
    outs = []
    for window, window_rows in ((False, 0), (True, int(rng.integers(0, 200)))):
        part = np.full((1, g.taps, g.wide_channels // g.groups, g.narrow_channels), np.nan,
                       dtype)
        _gemm.backprop_filter_im2col(x, dy, part, False, g.stride, g.dilation, g.pad_before,
                                     g.groups, rows, taps, 2, 0, True, False, False, window,
                                     window_rows)
        outs.append(part[0])
    np.testing.assert_array_equal(outs[0], outs[1], err_msg=str(g))
    want, bound = family_oracle("backprop_filter", x, dy, g)
    assert_family_matches(outs[1], want, bound, g.batch * g.narrow, str(g))
    # the rule (its geometry alone): EnCodec's first layer, one channel into 32; a dilation of
    # several input channels, more than 128 outputs, or short batch elements gather
    encodec = Geometry(8, 24000, 24000, 1, 32, 7, 1, 1, 3, 1)
    assert _plan.filter_skinny_window(encodec)
    assert _plan.filter_skinny_window(encodec._replace(wide_channels=4, taps=3))
    assert not _plan.filter_skinny_window(encodec._replace(wide_channels=4, dilation=2))
    assert _plan.filter_skinny_window(encodec._replace(dilation=2))
    assert not _plan.filter_skinny_window(encodec._replace(narrow_channels=129))
    assert not _plan.filter_skinny_window(encodec._replace(narrow=15))
    if _plan.filter_skinny(encodec, 4, encodec.taps):
        assert _plan.blocking("backprop_filter", "im2col", encodec, 4, "NWC")["window"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(40))
def test_conv1d_implicit(seed, dtype):
    """conv1d with each output's window read where it is, one run of the signal (NWC, one group;
    dilation 1, or one channel at any dilation): windows on the signal, edges at both ends through
    the column matrix, blocks of rows that cut batch elements, 17 to 79 output channels (the
    skinny GEMM's vector tiles and the columns left), streamed or not; against the reference and
    on 1 and 3 threads."""
    rng = np.random.default_rng(300 + seed)
    cw, cn = int(rng.choice([1, 1, 2, 5])), int(rng.integers(17, 80))
    K, s = int(rng.integers(1, 12)), int(rng.integers(1, 6))
    d = int(rng.integers(1, 4)) if cw == 1 else 1
    keff = (K - 1) * d + 1
    M = int(rng.integers(20, 200))
    lo = int(rng.integers(0, keff + s))
    L = max(1, (M - 1) * s + keff - lo - int(rng.integers(0, keff + s)))
    g = Geometry(int(rng.integers(1, 4)), L, M, cw, cn, K, s, d, lo, 1)
    x = random_array(rng, (g.batch, L, cw), dtype)
    f = random_array(rng, (K, cw, cn), dtype)
    want, bound = family_oracle("conv1d", x, f, g)
    rows, stream = int(rng.integers(1, 64)), bool(rng.integers(2))
    outs = []
    for threads in (1, 3):
        z = np.full((g.batch, M, cn), np.nan, dtype)
        _gemm.conv1d_im2col(x, f, z, False, s, d, lo, 1, rows, K, threads, True, stream, True)
        outs.append(z)
    assert_family_matches(outs[0], want, bound, K * cw, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(40))
def test_conv1d_implicit_by_dot_products(seed, dtype):
    """conv1d with each output's window read where it is and multiplied by the filter's rows
    ``[Cn, K*Cw]`` by the dot GEMM (dilation 1, NWC, one group): 1 to 20 output channels (the
    dot GEMM's tiles of 4 and the columns left), windows of 1 to 400 elements (whole vectors and
    the lanes left), edges at both ends gathered whole; against the reference; the same bits for
    any blocks of rows and of channels and on 1 and 3 threads (each output one sum, its lanes
    fixed by its window)."""
    rng = np.random.default_rng(700 + seed)
    cw, cn = int(rng.choice([1, 2, 3, 8, 28])), int(rng.integers(1, 21))
    K, s = int(rng.integers(1, max(2, 400 // cw))), int(rng.integers(1, 9))
    M = int(rng.integers(1, 150))
    lo = int(rng.integers(0, K + s))
    L = max(1, (M - 1) * s + K - lo - int(rng.integers(0, K + s)))
    g = Geometry(int(rng.integers(1, 4)), L, M, cw, cn, K, s, 1, lo, 1)
    x = random_array(rng, (g.batch, L, cw), dtype)
    f = random_array(rng, (K, cw, cn), dtype)
    ft = np.ascontiguousarray(f.reshape(K * cw, cn).T)
    want, bound = family_oracle("conv1d", x, f, g)
    outs = []
    for threads, rows, edge, channels in ((1, 1 << 20, 0, 0), (3, int(rng.integers(1, 40)),
                                          int(rng.integers(1, 9)), int(rng.integers(1, 6)))):
        z = np.full((g.batch, M, cn), np.nan, dtype)
        _gemm.conv1d_im2col(x, f, z, False, s, 1, lo, 1, rows, K, threads, True, False, True,
                            0, channels, False, edge, ft)
        outs.append(z)
    assert_family_matches(outs[0], want, bound, K * cw, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])
    with pytest.raises(ValueError, match="ft"):
        _gemm.conv1d_im2col(x, f, z, False, s, 1, lo, 1, 8, K, 1, True, False, True, 0, 0,
                            False, 0, ft[1:])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(8))
def test_conv1d_skinny_stream(seed, dtype):
    """conv1d by the skinny GEMM with streaming stores, output channels enough for its vector
    tiles, into an output that starts on a cache line (streamed) or one element past one (plain
    stores), several blocks of rows and taps, against the reference and on 1 and 3 threads."""
    rng = np.random.default_rng(200 + seed)
    g = _draw_wide_output(rng)
    G, cw, cn, K, s, d, lo, M = (g.groups, g.wide_channels, g.narrow_channels, g.taps, g.stride,
                                 g.dilation, g.pad_before, g.narrow)
    x = random_array(rng, (g.batch, g.wide, cw), dtype)
    f = random_array(rng, (K, cw // G, cn), dtype)
    want, bound = family_oracle("conv1d", x, f, g)
    rows, taps = int(rng.integers(1, 64)), int(rng.integers(1, K + 1))
    size = g.batch * M * cn
    for skew in (0, dtype().itemsize):
        outs = []
        for threads in (1, 3):
            raw = np.full(size * dtype().itemsize + 128, 255, np.uint8)
            start = -raw.ctypes.data % 64 + skew
            z = raw[start:start + size * dtype().itemsize].view(dtype).reshape(g.batch, M, cn)
            _gemm.conv1d_im2col(x, f, z, False, s, d, lo, G, rows, taps, threads, True, True)
            outs.append(z.copy())
        assert_family_matches(outs[0], want, bound, K * cw // G, f"{g} skew {skew}")
        np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p_transposed", [False, True])
@pytest.mark.parametrize("accumulate", [0, 1, 2])
def test_skinny_gemm(dtype, p_transposed, accumulate):
    """The C layer's skinny GEMM alone against NumPy in float64: every row count from 1 to 19
    (whole tiles of 8 or 4 rows, the 4-, 2- and 1-row rests, and 3, 5, 6 or 7 rows in one band),
    columns around one and two vectors of every instruction set (the columns short of a vector
    as the lanes of the last one, or one by one below a vector), inner dimensions 0 to 70;
    overwriting, adding, and overwriting with
    streaming stores (which need a cache-line-aligned row: every row at n = 16, 32 or 64 in
    float32)."""
    rng = np.random.default_rng(int(p_transposed) + 2 * int(accumulate))
    for m in range(1, 20):
        for n in (1, 3, 4, 8, 15, 16, 17, 31, 32, 33, 47, 64, 70):
            t = int(rng.integers(0, 71))
            p = random_array(rng, (t, m) if p_transposed else (m, t), dtype)
            q = random_array(rng, (t, n), dtype)
            c = random_array(rng, (m, n), dtype)
            want = (c.astype(np.float64) if accumulate == 1 else 0) + (
                (p.T if p_transposed else p).astype(np.float64) @ q.astype(np.float64))
            bound = (np.abs(c).astype(np.float64) if accumulate == 1 else 0) + (
                np.abs(p.T if p_transposed else p).astype(np.float64)
                @ np.abs(q).astype(np.float64))
            _gemm.skinny(c, p, q, p_transposed, accumulate)
            assert_family_matches(c, want, bound, t + 1, f"m={m} n={n} t={t}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p_transposed", [False, True])
@pytest.mark.parametrize("add", [False, True])
def test_skinny_gemm_by_rows(dtype, p_transposed, add):
    """The skinny GEMM reading q row after row (``SKINNY_BY_ROWS``, for a filter streamed past a
    few rows of outputs) against NumPy in float64, and from a vector's columns on the same bits
    as its tiles (the same sums in the same order): 1 to 19 rows (bands of 8; within 5 to 8,
    of 4 then the rest), columns around a vector and across the blocks of columns kept in L1
    (16 KiB: 512 columns of float32 in 8 rows), inner dimensions 0 to 40 (steps of 8 rows of
    q and the rest)."""
    rng = np.random.default_rng(int(p_transposed) + 2 * int(add))
    for m in range(1, 20):
        for n in (1, 7, 8, 17, 64, 100, 257, 513, 1030):
            t = int(rng.integers(0, 41))
            p = random_array(rng, (t, m) if p_transposed else (m, t), dtype)
            q = random_array(rng, (t, n), dtype)
            c = random_array(rng, (m, n), dtype)
            tiles = c.copy()
            want = (c.astype(np.float64) if add else 0) + (
                (p.T if p_transposed else p).astype(np.float64) @ q.astype(np.float64))
            bound = (np.abs(c).astype(np.float64) if add else 0) + (
                np.abs(p.T if p_transposed else p).astype(np.float64)
                @ np.abs(q).astype(np.float64))
            _gemm.skinny(c, p, q, p_transposed, 4 + int(add))
            assert_family_matches(c, want, bound, t + 1, f"m={m} n={n} t={t}")
            if n >= 16:
                # (below a vector's columns, element by element, the compiler decides whether
                # each product and sum fuse into one multiply-add, in each loop on its own)
                _gemm.skinny(tiles, p, q, p_transposed, int(add))
                np.testing.assert_array_equal(c, tiles, err_msg=f"m={m} n={n} t={t}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_kernels_gemm(dtype, packed, beta):
    """The GEMM every BLAS kernel calls (``_blas.gemm``), by the packed GEMM and by the BLAS,
    against NumPy in float64: both operands plain and transposed; sizes at the packed GEMM's
    bounds (4 rows of c, 8 and 16 columns: a vector of float64 and float32; 20, 36 and 40
    columns, a fifth of the last vector's lanes empty or not) and across its
    tiles (8 rows, strips of two vectors, the columns short of a strip), its blocks (256 steps of
    the inner dimension, 256 or 128 columns, 64 rows) and their rests; beta 0 (the output's NaN
    overwritten), 1 (added to) and 0.5 (the BLAS's, packed or not)."""
    from conv1dt._compiled import _cpu

    rng = np.random.default_rng(int(packed) + 2 * int(beta))
    sizes = [(1, 2, 1), (2, 1, 3), (3, 5, 7), (8, 32, 16), (9, 33, 255), (17, 16, 256),
             (64, 48, 257), (65, 300, 20), (130, 129, 600), (7, 257, 513), (200, 17, 5),
             (4, 16, 9), (4, 8, 9), (3, 40, 2), (5, 20, 300), (6, 36, 40), (9, 40, 17),
             (9, 40, 16), (9, 48, 15)]
    was = _cpu.packed_on()
    _cpu._set_packed(packed)
    try:
        for m, n, k in sizes:
            for at in (False, True):
                for bt in (False, True):
                    a = random_array(rng, (k, m) if at else (m, k), dtype)
                    b = random_array(rng, (n, k) if bt else (k, n), dtype)
                    c = random_array(rng, (m, n), dtype)
                    if beta == 0:
                        c[...] = np.nan
                    a2, b2 = (a.T if at else a).astype(np.float64), (b.T if bt else b).astype(np.float64)
                    want = a2 @ b2 + (c.astype(np.float64) if beta else 0)
                    bound = np.abs(a2) @ np.abs(b2) + (np.abs(c.astype(np.float64)) if beta else 0)
                    before = c.copy()
                    _gemm.blas_gemm(c, a, b, at, bt, beta)
                    assert_family_matches(c, want, bound, k + 2, f"{m}x{n}x{k} {at} {bt}")
                    lanes = 64 // c.itemsize
                    if packed and m >= 4 and k >= 16 and n >= lanes and 4 * (-n % lanes) <= n:
                        # the packed GEMM took it (the BLAS's bits differ): the skinny GEMM's
                        # tiles, each sum over the inner dimension in order, however blocked
                        skinny = before if beta else np.empty_like(c)
                        _gemm.skinny(skinny, a, np.ascontiguousarray(b.T if bt else b), at,
                                     int(beta))
                        np.testing.assert_array_equal(c, skinny)
    finally:
        _cpu._set_packed(was)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("accumulate", [0, 1])
def test_dot_gemm(dtype, accumulate):
    """The C layer's dot GEMM (both operands along the inner dimension) alone against NumPy in
    float64: row and column counts 1 to 9 (whole 4 x 4 or 2 x 4 tiles and every rest), inner
    dimensions 0 to 70 (whole vectors of every instruction set and the elements left), and a
    long one; overwriting and adding. Then rows of 2 KiB and more, more of them than L1 holds,
    the order that keeps blocks of 4 or 8 of q's rows in L1 while p's tiles run past (AVX-512):
    rests of both tiles and blocks."""
    rng = np.random.default_rng(7 + accumulate)
    itemsize = np.dtype(dtype).itemsize
    shapes = [(m, n, t) for m in range(1, 10) for n in range(1, 10)
              for t in (int(rng.integers(0, 71)), 517)]
    shapes += [(m, n, t) for m in (33, 38) for n in (1, 5, 11, 16, 19)
               for t in (2048 // itemsize, 2404 // itemsize)]
    for m, n, t in shapes:
        p = random_array(rng, (m, t), dtype)
        q = random_array(rng, (n, t), dtype)
        c = random_array(rng, (m, n), dtype)
        want = (c.astype(np.float64) if accumulate else 0) + (
            p.astype(np.float64) @ q.astype(np.float64).T)
        bound = (np.abs(c).astype(np.float64) if accumulate else 0) + (
            np.abs(p).astype(np.float64) @ np.abs(q).astype(np.float64).T)
        _gemm.dot(c, p, q, accumulate)
        assert_family_matches(c, want, bound, t + 1, f"m={m} n={n} t={t}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(40))
def test_transpose_ola(seed, dtype):
    rng = np.random.default_rng(seed)
    g = _draw(rng, groups_ok=False)
    dot = bool(rng.integers(2))          # the products by the dot GEMM: sums of 1 to 79 inputs
    if dot:
        g = g._replace(narrow_channels=int(rng.integers(1, 80)))
    ncw = bool(rng.integers(2))
    x = random_array(rng, (g.batch, g.narrow, g.narrow_channels), dtype)
    f = random_array(rng, (g.taps, g.wide_channels, g.narrow_channels), dtype)
    want, bound = family_oracle("transpose", x, f, g)
    width, taps = int(rng.integers(1, 20)), int(rng.integers(1, g.taps + 2))
    batch = int(rng.integers(1, 5))      # batch elements per item: 1, some, all, more than all
    outs = []
    for threads in (1, 3):
        y = _layout(np.full((g.batch, g.wide, g.wide_channels), np.nan, dtype), ncw)
        with single_threaded_blas():
            _gemm.transpose_ola(_layout(x, ncw), f, y, ncw, g.stride, g.dilation, g.pad_before,
                                width, taps, threads, batch, dot)
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


@pytest.mark.parametrize("op", ["conv1d", "transpose"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(30))
def test_depthwise_vectors(seed, dtype, op):
    """NWC depthwise calls long enough to have interior outputs (all taps on the signal: tiles
    of 8 rows) and edges (rows of their own taps), with 2 to 79 channels: blocks of four vectors,
    single vectors and the channels left over."""
    rng = np.random.default_rng(seed)
    C = int(rng.integers(2, 80))
    K, s, d = int(rng.integers(1, 12)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
    M = int(rng.integers(20, 120))
    lo = int(rng.integers(0, (K - 1) * d + s + 1))
    L = max(1, (M - 1) * s + (K - 1) * d + 1 - lo - int(rng.integers(0, s + 1)))
    g = Geometry(int(rng.integers(1, 3)), L, M, C, C, K, s, d, lo, C)
    f = random_array(rng, (K, 1, C), dtype)
    xw, yw = (g.wide, g.narrow) if op == "conv1d" else (g.narrow, g.wide)
    x = random_array(rng, (g.batch, xw, C), dtype)
    want, bound = family_oracle(op, x, f, g)
    rows = int(rng.integers(1, 41))
    outs = []
    for threads, stream in ((1, False), (3, True)):
        y = np.full((g.batch, yw, C), np.nan, dtype)
        _gemm.depthwise(x, f, y, False, op == "transpose", s, d, lo, rows, threads, stream)
        outs.append(y)
    assert_family_matches(outs[0], want, bound, K, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("op", ["conv1d", "transpose"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C, K, s, d, M", [
    (20, 33, 1, 1, 1300),      # the column copied in chunks of rows (a window of 32 KiB)
    (20, 16, 1, 1, 300),       # rows kept in registers over two whole blocks of 8 taps
    (40, 9, 3, 2, 900),        # a stride: the window holds every row the chunk reads
    (40, 5, 2, 1, 300),        # fewer taps than pay for the copies: read in place
    (16, 130, 1, 1, 300),      # more taps than the filter's copy takes: read in place
    (24, 9, 1, 300, 200),      # a window beyond 32 KiB for 8 rows: read in place
])
def test_depthwise_long_columns(dtype, op, C, K, s, d, M):
    """NWC depthwise calls whose interior tiles copy a column of the input in chunks of rows, or
    read it in place where the filter's span is too long: the oracle's values, and the same bits
    for work items of 8 outputs and of all of them (so chunks end elsewhere) and on 3 threads."""
    if op == "transpose" and s > 1:
        s = 1                  # the tiles serve a stride-1 transpose only
    rng = np.random.default_rng(C + K + s + d)
    lo = (K - 1) * d // 2
    L = (M - 1) * s + (K - 1) * d + 1 - lo
    g = Geometry(2, L, M, C, C, K, s, d, lo, C)
    f = random_array(rng, (K, 1, C), dtype)
    xw, yw = (g.wide, g.narrow) if op == "conv1d" else (g.narrow, g.wide)
    x = random_array(rng, (g.batch, xw, C), dtype)
    want, bound = family_oracle(op, x, f, g)
    _depthwise_blocks(x, f, g, op, want, bound)


def _depthwise_blocks(x, f, g, op, want, bound):
    """NWC ``_gemm.depthwise`` of ``g`` in work items of all the outputs, of 8 and of a third
    (on 3 threads): the first against ``want`` (``bound``), the others its bits."""
    yw = g.narrow if op == "conv1d" else g.wide
    outs = []
    for rows, threads in ((yw, 1), (8, 1), (yw // 3 + 1, 3)):
        y = np.full((g.batch, yw, g.narrow_channels), np.nan, x.dtype)
        _gemm.depthwise(x, f, y, False, op == "transpose", g.stride, g.dilation, g.pad_before,
                        rows, threads)
        outs.append(y)
    assert_family_matches(outs[0], want, bound, g.taps, str(g))
    for y in outs[1:]:
        np.testing.assert_array_equal(outs[0], y)


@pytest.mark.parametrize("op", ["conv1d", "transpose"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C, K, s, d, M", [
    (16, 87, 1, 1, 200),       # SAME: 43 outputs at each edge, padded copies of their rows
    (37, 8, 2, 1, 60),         # the fewest taps that take them, a stride, channels left over
    (24, 33, 1, 3, 150),       # dilated: each edge output's taps a run of every third row
    (512, 87, 1, 1, 100),      # rows of 2 KiB: 42 outputs at a time (float32); float64's
])                             # rows do not fit the copy: each output with its own taps
def test_depthwise_padded_edges(dtype, op, C, K, s, d, M):
    """NWC depthwise edges (outputs some of whose taps reach past the signal) under a finite
    filter of 8+ taps run the interior's tiles on copies of their input rows padded with zeros:
    the oracle's values, the same bits for other blocks of outputs (so the copies hold other
    outputs) and on 3 threads. With an infinite filter value the edges keep to the taps on the
    signal (finite where the definition is: no ``0 * inf``)."""
    if op == "transpose":
        s = 1                  # the tiles serve a stride-1 transpose only
    rng = np.random.default_rng(C + K + d)
    lo = (K - 1) * d // 2
    L = (M - 1) * s + (K - 1) * d + 1 - 2 * lo
    g = Geometry(2, L, M, C, C, K, s, d, lo, C)
    f = random_array(rng, (K, 1, C), dtype)
    xw, yw = (g.wide, g.narrow) if op == "conv1d" else (g.narrow, g.wide)
    x = random_array(rng, (g.batch, xw, C), dtype)

    def oracle(x, f):
        # output o, tap k read sample o*s + k*d - lo (conv1d) or o + lo - k*d (the transpose),
        # a term only where that sample is on the signal; float64
        x, f = x.astype(np.float64), f.astype(np.float64)
        o = np.arange(yw)
        want, bound = np.zeros((g.batch, yw, C)), np.zeros((g.batch, yw, C))
        for k in range(K):
            i = o * s + k * d - lo if op == "conv1d" else o + lo - k * d
            on = (i >= 0) & (i < xw)
            want[:, on] += x[:, i[on]] * f[k, 0]
            bound[:, on] += np.abs(x[:, i[on]] * f[k, 0])
        return want, bound

    want, bound = oracle(x, f)
    _depthwise_blocks(x, f, g, op, want, bound)
    f[0, 0, :] = np.inf          # reaches the signal from the interior and the right edge only
    with np.errstate(invalid="ignore"):
        want, _ = oracle(x, f)
    y = np.full((g.batch, yw, C), np.nan, dtype)
    _gemm.depthwise(x, f, y, False, op == "transpose", s, d, lo, yw, 1)
    np.testing.assert_array_equal(np.isfinite(y), np.isfinite(want))
    assert np.isfinite(want).any() and not np.isfinite(want).all()


def _draw_depthwise_filter(rng):
    C, K = int(rng.integers(1, 70)), int(rng.integers(1, 70))
    s, d = int(rng.integers(1, 6)), int(rng.integers(1, 5))
    M, lo = int(rng.integers(1, 200)), int(rng.integers(0, (K - 1) * d + 10))
    L = max(1, (M - 1) * s + (K - 1) * d + 1 - lo - int(rng.integers(0, (K - 1) * d + s + 5)))
    return Geometry(int(rng.integers(1, 4)), L, M, C, C, K, s, d, lo, C)


def _depthwise_filter(x, dy, g, chunks, block, threads):
    part = np.full((chunks, g.taps, g.narrow_channels), np.nan, x.dtype)
    _gemm.backprop_filter_depthwise(x, dy, part, g.stride, g.dilation, g.pad_before, block,
                                    threads)
    return np.add.reduce(part, axis=0).reshape(g.taps, 1, g.narrow_channels)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(24))
def test_backprop_filter_depthwise(seed, dtype):
    """The depthwise filter gradient (one channel per group, NWC): 1-69 channels (whole vectors
    and the channels left over), strides 1-5, dilations 1-4, padding on either side and beyond
    the signal (taps reaching it for some positions only), 1-4 chunks of rows (a chunk ending
    inside a batch element), blocks of 16-64 channels: the reference's values, and the same bits
    on 1 and 3 threads."""
    rng = np.random.default_rng(seed)
    g = _draw_depthwise_filter(rng)
    C = g.narrow_channels
    x = random_array(rng, (g.batch, g.wide, C), dtype)
    dy = random_array(rng, (g.batch, g.narrow, C), dtype)
    want, bound = family_oracle("backprop_filter", x, dy, g)
    chunks, block = int(rng.integers(1, 5)), 16 * int(rng.integers(1, 5))
    x0, dy0 = x.copy(), dy.copy()
    one = _depthwise_filter(x, dy, g, chunks, block, 1)
    assert_family_matches(one, want, bound, g.batch * g.narrow + chunks, str(g))
    np.testing.assert_array_equal(one, _depthwise_filter(x, dy, g, chunks, 16, 3))
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(dy, dy0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C, K, s, d, M", [
    (20, 33, 1, 1, 700),       # chunks of 64 positions, the window copied
    (24, 9, 1, 800, 100),      # a window beyond the scratch for one vector: read in place
    (16, 200, 3, 1, 100),      # a long filter at a stride
    (16, 100, 100, 1, 100),    # chunks of fewer positions for a window within the scratch
    (16, 9, 100, 1, 100),      # a stride past the filter's span: read in place
])
def test_backprop_filter_depthwise_windows(dtype, C, K, s, d, M):
    """Long depthwise filter gradients whose windows of the input are copied in chunks (of
    fewer positions where 64 would not fit the scratch), or read in place, with positions whose taps reach past the signal (a terms-free
    infinity in dy there leaves the taps that do not reach it finite): the reference's values
    (non-finite where it is), the same bits in one chunk on 1 and 3 threads."""
    rng = np.random.default_rng(C + K + s + d)
    lo = (K - 1) * d // 2 + 3
    L = (M - 1) * s + (K - 1) * d + 1 - lo - 5
    g = Geometry(2, L, M, C, C, K, s, d, lo, C)
    x = random_array(rng, (g.batch, L, C), dtype)
    dy = random_array(rng, (g.batch, M, C), dtype)
    dy[1, 0, 3] = np.inf           # position 0 reaches only taps k >= ceil(lo / d) (pad)
    want, bound = family_oracle("backprop_filter", x, dy, g)
    one = _depthwise_filter(x, dy, g, 1, 64, 1)
    fin = np.isfinite(want)
    assert not fin.all() and fin.any()
    np.testing.assert_array_equal(np.isfinite(one), fin)
    np.testing.assert_array_equal(np.isposinf(one), np.isposinf(want))
    assert_family_matches(one[fin], want[fin], bound[fin], g.batch * M, str(g))
    np.testing.assert_array_equal(one, _depthwise_filter(x, dy, g, 1, 32, 3))


def _fir_oracle(x, f, g):
    """conv1d of one channel to one, ``[N, L] -> [N, M]``, a tap at a time in float64 (the taps
    past the signal add nothing), and the bound of its rounding: ``2*K*eps`` times the sum of the
    terms' magnitudes, ``eps`` of ``x``'s dtype."""
    x64, f64 = x.astype(np.float64), f.astype(np.float64)
    want = np.zeros((g.batch, g.narrow))
    size = np.zeros((g.batch, g.narrow))
    s = g.stride
    for k in range(g.taps):
        off = k * g.dilation - g.pad_before          # output i reads x[i*s + off]
        ilo = max(0, -(off // s))
        ihi = min(g.narrow, -((off - g.wide) // s))   # i*s + off <= L - 1
        if ilo < ihi:
            term = f64[k] * x64[:, ilo * s + off:(ihi - 1) * s + off + 1:s]
            want[:, ilo:ihi] += term
            size[:, ilo:ihi] += np.abs(term)
    return want, 2 * g.taps * np.finfo(x.dtype).eps * size


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(40))
def test_conv1d_fir(seed, dtype):
    """The FIR kernel (one channel each way, by the residues of the input position mod s):
    strides 1-12 with dilations sharing a factor with them or not (residues with no tap), taps
    that reach past the signal on either side or never reach it, blocks of 1 to 300 outputs (the
    C layer's tiles of 8, 4, 2 and 1 vectors, the last vector's lanes, one by one), against the
    reference and the same bits on 1 and 3 threads."""
    rng = np.random.default_rng(seed)
    K, s, d = int(rng.integers(1, 70)), int(rng.integers(1, 13)), int(rng.integers(1, 6))
    keff = (K - 1) * d + 1
    M = int(rng.integers(1, 400))
    lo = int(rng.integers(0, keff + s + 2))
    L = max(0, (M - 1) * s + keff - lo - int(rng.integers(0, keff + s)))
    g = Geometry(int(rng.integers(1, 4)), L, M, 1, 1, K, s, d, lo, 1)
    x = random_array(rng, (g.batch, L), dtype)
    f = random_array(rng, (K,), dtype)
    want, bound = _fir_oracle(x, f, g)
    rows = int(rng.integers(1, 301))
    outs = []
    for threads in (1, 3):
        y = np.full((g.batch, M), np.nan, dtype)
        _gemm.conv1d_fir(x[:, :, None], f[:, None, None], y[:, :, None], False, s, d, lo, rows,
                         threads)
        outs.append(y)
    assert np.all(np.abs(outs[0] - want) <= bound), str(g)
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv1d_fir_long_filters(dtype):
    """Filters whose window of the input is beyond the kernel's scratch (32768 samples: the taps
    go in chunks), at strides 1 and 3, with padding far past the signal."""
    rng = np.random.default_rng(3)
    for N, L, K, s, d, lo in [(2, 60000, 5000, 1, 8, 20000), (1, 90000, 3000, 3, 16, 5),
                              (3, 9000, 9000, 1, 1, 20000)]:
        M = ((L + lo) - (K - 1) * d - 1) // s + 1
        g = Geometry(N, L, M, 1, 1, K, s, d, lo, 1)
        x = random_array(rng, (N, L), dtype)
        f = random_array(rng, (K,), dtype)
        want, bound = _fir_oracle(x, f, g)
        y = np.full((N, M), np.nan, dtype)
        _gemm.conv1d_fir(x[:, :, None], f[:, None, None], y[:, :, None], False, s, d, lo, 4096, 2)
        assert np.all(np.abs(y - want) <= bound), str(g)


def test_conv1d_fir_non_finite_filters():
    """Only the definition's products: a tap that reaches past the signal adds no term, so an
    infinite filter value turns the outputs where it reaches the signal infinite, not the others
    NaN (the zeros past the signal times infinity)."""
    rng = np.random.default_rng(5)
    for s, d, K, lo in [(1, 1, 5, 2), (3, 2, 7, 6), (8, 1, 64, 32), (2, 1, 5, 9)]:
        x = random_array(rng, (2, 700), np.float64)
        f = random_array(rng, (K,), np.float64)
        f[-1], f[0] = np.inf, -np.inf
        x[0, 50] = np.nan
        M = (700 + lo - (K - 1) * d - 1) // s + 1
        g = Geometry(2, 700, M, 1, 1, K, s, d, lo, 1)
        with np.errstate(invalid="ignore"):
            want, _ = _fir_oracle(x, f, g)
        y = np.empty((2, M))
        _gemm.conv1d_fir(x[:, :, None], f[:, None, None], y[:, :, None], False, s, d, lo, 256, 2)
        np.testing.assert_array_equal(np.isnan(y), np.isnan(want))
        np.testing.assert_array_equal(np.isposinf(y), np.isposinf(want))
        np.testing.assert_array_equal(np.isneginf(y), np.isneginf(want))
        assert np.isinf(want).any() and np.isnan(want).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(30))
def test_backprop_filter_fir(seed, dtype):
    """The FIR filter gradient (one channel each way, dilation 1): strides 1-8, padding on either
    side and beyond the signal, blocks of 1 to K+2 taps, 1 to 4 chunks of rows (a chunk ending
    inside a batch element), against the reference and the same bits on 1 and 3 threads."""
    rng = np.random.default_rng(seed)
    N, K, s = int(rng.integers(1, 4)), int(rng.integers(1, 80)), int(rng.integers(1, 9))
    M, lo = int(rng.integers(1, 300)), int(rng.integers(0, K + 10))
    L = max(1, (M - 1) * s + K - lo - int(rng.integers(0, K + 5)))
    g = Geometry(N, L, M, 1, 1, K, s, 1, lo, 1)
    x = random_array(rng, (N, L, 1), dtype)
    dy = random_array(rng, (N, M, 1), dtype)
    want, bound = family_oracle("backprop_filter", x, dy, g)
    chunks, taps = int(rng.integers(1, 5)), int(rng.integers(1, K + 3))
    outs = []
    for threads in (1, 3):
        part = np.full((chunks, K, 1), np.nan, dtype)
        _gemm.backprop_filter_fir(x, dy, part, False, s, lo, taps, threads)
        outs.append(np.add.reduce(part, axis=0).reshape(K, 1, 1))
    assert_family_matches(outs[0], want, bound, N * M + chunks, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(30))
def test_conv1d_fir_depthwise(seed, dtype):
    """The FIR kernel on each channel of a depthwise call (2 to 12 groups of one channel each
    way), NWC (strided rows: gathered, the outputs through a buffer) or NCW (in place): strides,
    dilations, padding past the signal, blocks of 1 to 300 outputs, against the reference and
    the same bits on 1 and 3 threads."""
    rng = np.random.default_rng(seed)
    C = int(rng.integers(2, 13))
    K, s, d = int(rng.integers(1, 40)), int(rng.integers(1, 7)), int(rng.integers(1, 4))
    keff = (K - 1) * d + 1
    M = int(rng.integers(1, 300))
    lo = int(rng.integers(0, keff + s + 2))
    L = max(1, (M - 1) * s + keff - lo - int(rng.integers(0, keff + s)))
    g = Geometry(int(rng.integers(1, 4)), L, M, C, C, K, s, d, lo, C)
    ncw = bool(rng.integers(2))
    x = random_array(rng, (g.batch, L, C), dtype)
    f = random_array(rng, (K, 1, C), dtype)
    want, bound = family_oracle("conv1d", x, f, g)
    rows = int(rng.integers(1, 301))
    outs = []
    for threads in (1, 3):
        y = _layout(np.full((g.batch, M, C), np.nan, dtype), ncw)
        _gemm.conv1d_fir(_layout(x, ncw), f, y, ncw, s, d, lo, rows, threads)
        outs.append(_layout(y, ncw))
    assert_family_matches(outs[0], want, bound, K, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(30))
def test_backprop_filter_fir_depthwise(seed, dtype):
    """The FIR filter gradient on each channel of a depthwise call (2 to 12 groups), NWC (the
    gradient's rows and the signal's windows gathered) or NCW (in place), strides 1-8, padding
    past the signal, blocks of taps and chunks of rows, against the reference and the same bits
    on 1 and 3 threads."""
    rng = np.random.default_rng(seed)
    C = int(rng.integers(2, 13))
    N, K, s = int(rng.integers(1, 4)), int(rng.integers(1, 50)), int(rng.integers(1, 9))
    M, lo = int(rng.integers(1, 200)), int(rng.integers(0, K + 10))
    L = max(1, (M - 1) * s + K - lo - int(rng.integers(0, K + 5)))
    g = Geometry(N, L, M, C, C, K, s, 1, lo, C)
    ncw = bool(rng.integers(2))
    x = random_array(rng, (N, L, C), dtype)
    dy = random_array(rng, (N, M, C), dtype)
    want, bound = family_oracle("backprop_filter", x, dy, g)
    chunks, taps = int(rng.integers(1, 5)), int(rng.integers(1, K + 3))
    outs = []
    for threads in (1, 3):
        part = np.full((chunks, K, C), np.nan, dtype)
        _gemm.backprop_filter_fir(_layout(x, ncw), _layout(dy, ncw), part, ncw, s, lo, taps,
                                  threads)
        outs.append(np.add.reduce(part, axis=0).reshape(K, 1, C))
    assert_family_matches(outs[0], want, bound, N * M + chunks, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(24))
def test_blas_kernels_overwrite_or_zero_every_output(seed, dtype):
    """conv1d's and the transpose's BLAS kernels write an output block by its first tap's GEMMs
    (beta 0) where that tap reaches all of the block's rows and it has fewer channels than a
    vector, else zero it first: outputs start as NaN, blocks of a few rows or channels, taps
    that reach all, some or none of a block's rows; both kinds of GEMM of the transpose;
    against the reference, the same bits on 1 and 3 threads."""
    from conv1dt._compiled import _conv1d, _transpose

    rng = np.random.default_rng(seed + 500)
    g = _draw(rng)
    keff = (g.taps - 1) * g.dilation + 1
    if seed % 3 == 1:   # one tap without padding: every block's first tap reaches all its rows
        g = g._replace(taps=1, pad_before=0, wide=g.narrow * g.stride)
    elif seed % 3 == 2:  # no padding in front, the last rows reach no sample (conv1d)
        g = g._replace(pad_before=0, wide=max(0, (g.narrow - 1) * g.stride + keff
                                              - int(rng.integers(1, keff + 2 * g.stride))))
    rows, cblock = int(rng.integers(1, 6)), int(rng.integers(1, g.narrow_channels // g.groups + 2))
    x = random_array(rng, (g.batch, g.wide, g.wide_channels), dtype)
    f = random_array(rng, (g.taps, g.wide_channels // g.groups, g.narrow_channels), dtype)
    want, bound = family_oracle("conv1d", x, f, g)
    outs = []
    for threads in (1, 3):
        z = np.full((g.batch, g.narrow, g.narrow_channels), np.nan, dtype)
        with single_threaded_blas():
            _conv1d.conv1d_blas(x, f, z, g.stride, g.dilation, g.pad_before, g.groups, rows,
                                threads, cblock)
        outs.append(z)
    assert_family_matches(outs[0], want, bound, g.taps * g.wide_channels // g.groups, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])
    if g.groups > 1:
        return
    # the transpose (K, Cout, Cin) of the same links, narrow -> wide; in the third kind, outputs
    # at the end that no input row reaches
    if seed % 3 == 2:
        g = g._replace(wide=(g.narrow - 1) * g.stride + keff + int(rng.integers(1, 2 * g.stride + 2)))
    x = random_array(rng, (g.batch, g.narrow, g.narrow_channels), dtype)
    f = random_array(rng, (g.taps, g.wide_channels, g.narrow_channels), dtype)
    want, bound = family_oracle("transpose", x, f, g)
    batches = int(rng.integers(1, 3))
    for dot in (False, True):
        outs = []
        for threads in (1, 3):
            y = np.full((g.batch, g.wide, g.wide_channels), np.nan, dtype)
            with single_threaded_blas():
                _transpose.transpose_blas(x, f, y, g.stride, g.dilation, g.pad_before, rows,
                                          min(cblock, g.wide_channels), dot, batches,
                                          threads)
            outs.append(y)
        assert_family_matches(outs[0], want, bound, g.taps * g.narrow_channels + 1,
                              f"{g} dot={dot}")
        np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(24))
def test_transpose_blas_zeroes_the_residues_no_tap_reaches(seed, dtype):
    """Where half or more of the residues mod ``s`` have no tap (a few taps at a large stride),
    the transpose's BLAS kernel zeroes its output by whole blocks and runs only the reached
    residues' items: outputs start as NaN, blocks of a few rows or channels, padding on either
    side, both kinds of GEMM; against the reference, the same bits on 1 and 3 threads."""
    from conv1dt._compiled import _transpose

    rng = np.random.default_rng(seed + 900)
    s = int(rng.integers(2, 17))
    K, d = int(rng.integers(1, s // 2 + 1)), int(rng.integers(1, 5))
    assert len({(k * d) % s for k in range(K)}) * 2 <= s
    M, cin, cout = int(rng.integers(1, 30)), int(rng.integers(1, 40)), int(rng.integers(1, 20))
    keff = (K - 1) * d + 1
    lo = int(rng.integers(0, keff + s))
    L = max(1, (M - 1) * s + keff - lo + int(rng.integers(-keff - s, s + 2)))
    g = Geometry(int(rng.integers(1, 4)), L, M, cout, cin, K, s, d, lo)
    x = random_array(rng, (g.batch, M, cin), dtype)
    f = random_array(rng, (K, cout, cin), dtype)
    want, bound = family_oracle("transpose", x, f, g)
    rows, cblock = int(rng.integers(1, 8)), int(rng.integers(1, cout + 1))
    batches = int(rng.integers(1, 3))
    for dot in (False, True):
        outs = []
        for threads in (1, 3):
            y = np.full((g.batch, L, cout), np.nan, dtype)
            with single_threaded_blas():
                _transpose.transpose_blas(x, f, y, s, d, lo, rows, cblock, dot, batches, threads)
            outs.append(y)
        assert_family_matches(outs[0], want, bound, K * cin + 1, f"{g} dot={dot}")
        np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(24))
def test_direct_transpose_zeroes_the_phases_no_tap_reaches(seed, dtype):
    """Where half the polyphase phases or more have no tap, the transpose's direct kernel zeroes
    each block whole and computes only the phases with taps, in place (one output channel
    included, whose phases are otherwise interleaved from a scratch strip): outputs start as
    NaN, both layouts, strips of 32 and 64, padding on either side; against the reference, the
    same bits on 1 and 3 threads."""
    from conv1dt._compiled import _transpose

    rng = np.random.default_rng(seed + 1300)
    s = int(rng.integers(2, 17))
    K, d = int(rng.integers(1, s // 2 + 1)), int(rng.integers(1, 5))
    M, cin = int(rng.integers(1, 80)), int(rng.integers(1, 5))
    cout = 1 if seed % 3 == 0 else int(rng.integers(1, 9))
    keff = (K - 1) * d + 1
    lo = int(rng.integers(0, keff + s))
    L = max(1, (M - 1) * s + keff - lo + int(rng.integers(-keff - s, s + 2)))
    g = Geometry(int(rng.integers(1, 4)), L, M, cout, cin, K, s, d, lo)
    ncw = bool(rng.integers(2))
    x = random_array(rng, (g.batch, M, cin), dtype)
    f = random_array(rng, (K, cout, cin), dtype)
    want, bound = family_oracle("transpose", x, f, g)
    strip = int(rng.choice([32, 64]))
    outs = []
    for threads in (1, 3):
        y = np.full((g.batch, cout, L) if ncw else (g.batch, L, cout), np.nan, dtype)
        _transpose.transpose_direct(_layout(x, ncw), ncw, f, y, ncw, s, d, lo, strip, threads)
        outs.append(_layout(y, ncw))
    assert_family_matches(outs[0], want, bound, K * cin + 1, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(24))
def test_backprop_filter_in_place_by_channel_blocks(seed, dtype):
    """The in-place filter gradient with each group's output channels cut into blocks, one work
    item each (the last block partial), with groups, chunks and rounds of rows: against the
    reference, the same bits on 1 and 3 threads."""
    rng = np.random.default_rng(seed + 700)
    g = _draw(rng)
    cng = int(rng.integers(2, 40))
    g = g._replace(narrow_channels=g.groups * cng)
    _check_filter(rng, g, dtype, False, int(rng.integers(1, 64)), int(rng.integers(1, g.taps + 2)),
                  int(rng.integers(1, 4)), int(rng.integers(0, 50)), False, True,
                  channels=int(rng.integers(1, cng + 1)))
