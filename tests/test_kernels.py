"""Every kernel behind the dispatch, forced on each geometry, against the reference.

The public tests see whichever kernel the dispatch rule picks; here each kernel runs every case,
including long signals that span many work blocks (and block edges that cut through the
polyphase components), so a kernel the rule seldom picks is held to the same standard.
"""
import os

import numpy as np
import pytest

import conv1dt
from conv1dt import _dispatch, _plan
from conv1dt._compiled import _cpu, _transpose
from conftest import (
    accepted_widths,
    assert_matches,
    geometry,
    oracle,
    random_operands,
    terms_per_output,
    tiles,
)

# the tiled kernel runs only on CPUs with AVX2 (elsewhere the dispatch never picks it); on one with
# AVX-512, "tiled-avx2" is the same kernel limited to the AVX2 tiles
KERNELS = (["direct", "col2im", "blas", "phase"] + (["tiled"] if _cpu.tiled_available() else [])
           + (["tiled-avx2"] if _cpu.tiled_isa() == "avx512" else []))


def run(kernel, x, f, shape, s, d, padding, data_format):
    g = geometry(x, f, shape, s, d, padding, data_format)
    dt = x.dtype
    with tiles(kernel) as name:
        return _dispatch.conv1d_transpose(np.ascontiguousarray(x), np.ascontiguousarray(f), g,
                                          data_format, kernel=name).astype(dt)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_small_grid(kernel, padding, data_format, dtype):
    rng = np.random.default_rng(7)
    for s in (1, 2, 3, 4):
        for d in (1, 2, 3):
            for k in (1, 2, 3, 5, 7):
                for m, cin, cout in ((1, 1, 1), (3, 3, 2), (5, 5, 9)):
                    x, f = random_operands(rng, 2, m, cin, cout, k, dtype, data_format)
                    for wide in accepted_widths(m, k, s, d, padding):
                        shape = [2, wide, cout] if data_format == "NWC" else [2, cout, wide]
                        y = run(kernel, x, f, shape, s, d, padding, data_format)
                        y64, bound = oracle(x, f, shape, s, d, padding, data_format)
                        assert_matches(y, y64, bound, terms_per_output(f.shape, s, d), dtype,
                                       f"{kernel} s={s} d={d} K={k} M={m} L={wide}")


LONG = [  # (N, M, Cin, Cout, K, s, d, padding): many blocks, strips and GEMM row blocks
    (2, 700, 1, 1, 5, 1, 1, "SAME"),
    (1, 900, 2, 3, 9, 3, 2, "VALID"),
    (3, 333, 4, 5, 16, 8, 1, "SAME"),
    (1, 150, 3, 1, 300, 64, 1, "SAME"),     # overlap-add: K >> s
    (2, 520, 6, 70, 4, 2, 3, "VALID"),
    (1, 1100, 17, 2, 33, 5, 1, "SAME"),
    (1, 2000, 1, 1, 7, 2, 1, "SAME"),       # one output channel: phases interleaved per block
    (2, 1500, 3, 1, 9, 4, 2, "VALID"),
    (1, 1300, 1, 1, 5, 3, 1, "SAME"),
]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("case", LONG, ids=[str(c) for c in LONG])
def test_long_signals(kernel, case):
    n, m, cin, cout, k, s, d, padding = case
    rng = np.random.default_rng(m)
    for data_format in ("NWC", "NCW"):
        x, f = random_operands(rng, n, m, cin, cout, k, np.float32, data_format)
        for wide in (accepted_widths(m, k, s, d, padding)[0], accepted_widths(m, k, s, d, padding)[-1]):
            shape = [n, wide, cout] if data_format == "NWC" else [n, cout, wide]
            y = run(kernel, x, f, shape, s, d, padding, data_format)
            y64, bound = oracle(x, f, shape, s, d, padding, data_format)
            assert_matches(y, y64, bound, terms_per_output(f.shape, s, d), np.float32, f"{kernel} {case}")


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("s", [1, 3])
def test_many_channels_every_leftover(kernel, dtype, s):
    """Many channels (Cin*T over the tiled kernel's chunk of 128, Cout = 64+6 for float32 and
    32+32+6 for float64: whole, 2-vector and masked panels), and signal lengths 20..31, so that
    the rows left over after the whole tiles of a phase take every count from 1 to 11."""
    rng = np.random.default_rng(s)
    for m in range(20, 32):
        x, f = random_operands(rng, 2, m, 130, 70, 3, dtype)
        for wide in (accepted_widths(m, 3, s, 1, "SAME")[0], accepted_widths(m, 3, s, 1, "SAME")[-1]):
            shape = [2, wide, 70]
            y = run(kernel, x, f, shape, s, 1, "SAME", "NWC")
            y64, bound = oracle(x, f, shape, s, 1, "SAME", "NWC")
            assert_matches(y, y64, bound, terms_per_output(f.shape, s), dtype, f"{kernel} M={m} L={wide}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [(1, 9, 40, 150, 16, 8, 1, 4), (2, 13, 7, 70, 5, 1, 2, 3),
                                  (1, 6, 33, 65, 3, 4, 3, 0), (1, 4, 5, 9, 7, 3, 1, 6),
                                  (5, 3, 20, 30, 4, 2, 1, 1), (2, 2, 5, 6, 40, 3, 2, 7),
                                  (1, 1, 3, 4, 33, 1, 5, 11)])
def test_blas_residues_and_channel_blocks(case, dtype):
    """The BLAS kernel's work items split the outputs by residue modulo ``s`` and by blocks of
    output channels (a batch-1 call with a short input): blocks that cut ``Cout`` unevenly (1, 7,
    64 or all channels), residues no tap reaches (``K*d`` below ``s``), rows of 1 to 64, items of
    1 to 3 batch elements (the last one short), on 1 and 3 threads, by BLAS's GEMM and by the
    dot GEMM, against the reference. The last two have a filter far longer than the input (each
    block of outputs reached by a few of the taps, which an item finds without scanning all K)."""
    n, m, cin, cout, k, s, d, pad = case
    rng = np.random.default_rng(k)
    x, f = random_operands(rng, n, m, cin, cout, k, dtype)
    wide = (m - 1) * s + (k - 1) * d + 1 - pad
    padding = [[0, 0], [pad, 0], [0, 0]]
    y64, bound = oracle(x, f, [n, wide, cout], s, d, padding, "NWC")
    for rows, batches in ((1, 1), (3, 2), (64, 1), (64, 3)):
        for cblock in (1, 7, 64, cout):
            for dot in (False, True):
                outs = []
                for threads in (1, 3):
                    y = np.full((n, wide, cout), np.nan, dtype)
                    _transpose.transpose_blas(x, f, y, s, d, pad, rows, cblock, dot, batches,
                                              threads)
                    assert_matches(y, y64, bound, terms_per_output(f.shape, s, d), dtype,
                                   f"blas {case} rows={rows} cblock={cblock} dot={dot} "
                                   f"batches={batches} threads={threads}")
                    outs.append(y)
                np.testing.assert_array_equal(outs[0], outs[1])


def test_blas_splits_a_short_batch_one_call():
    """A batch-1 transpose of a few frames with many channels (a VAE decoder's first layer) is
    split into at least ``MIN_ITEMS`` work items (residues times channel blocks)."""
    for s, taps in ((8, 16), (1, 3)):
        g = conv1dt.Geometry(batch=1, narrow=32, wide=32 * s, narrow_channels=2048,
                             wide_channels=1024, taps=taps, stride=s, dilation=1,
                             pad_before=(taps - s) // 2)
        rows, channels = _plan.blas_blocking(g, 4)
        blocks = -(-g.wide // (rows * s))
        assert g.batch * blocks * s * -(-1024 // channels) >= _plan.MIN_ITEMS
        assert channels >= 64


def test_blas_splits_channels_before_rows():
    """A short batch-1 input is split over output channels before rows (a block of rows
    re-reads every tap's filter); the residues mod s with taps count as items, so an input with
    8 residues keeps its rows in one block; and a call is split into at least 4 items."""
    def g(m, cin, cout, k, s):
        return conv1dt.Geometry(batch=1, narrow=m, wide=m * s, narrow_channels=cin,
                                wide_channels=cout, taps=k, stride=s, dilation=1,
                                pad_before=(k - s) // 2)
    rows, channels = _plan.blas_blocking(g(352, 861, 302, 9, 1), 4)
    assert rows == 352 and 64 <= channels < 302
    assert _plan.blas_blocking(g(75, 1024, 512, 16, 8), 4) == (75, 512)
    for m, cin, cout, k, s in ((343, 656, 64, 34, 2), (100, 100, 100, 1, 1), (1000, 200, 200, 3, 1)):
        rows, channels = _plan.blas_blocking(g(m, cin, cout, k, s), 4)
        items = -(-m // rows) * min(k, s) * -(-cout // channels)
        assert (items >= 4 or rows <= 64) and (channels == cout or channels >= 64), (m, rows)


def test_a_few_frames_go_to_the_dot_gemm():
    """A few frames in all (at most ``DOT_MAX_ROWS`` input rows, many input channels) go to the
    BLAS kernel with the dot GEMM on AVX-512, float32 and float64 (where the BLAS's kernels are
    narrower than the CPU's; where they are as wide, float64 by BLAS's GEMMs, and float32 too
    where their packing is a small part of each, ``1/R + 1/C`` below ``DOT_BLAS_PACKING``), and
    on AVX2 in float32 for 8 outputs or more; more frames or few input channels keep their
    kernels."""
    def g(n, m, cin, cout=256, k=16, s=8):
        return conv1dt.Geometry(batch=n, narrow=m, wide=m * s, narrow_channels=cin,
                                wide_channels=cout, taps=k, stride=s, dilation=1, pad_before=4)
    few = g(1, 75, 512)
    # (AVX2: float32 GEMMs of at most 32 rows, for 8 output channels or more; fewer are BLAS's
    # GEMVs)
    # float32, 75 rows into 256 channels (1/75 + 1/256 = 0.017): BLAS's GEMMs on a wide BLAS
    assert _plan.blocking("transpose", "blas", few, 4)["dot"] == (
        _plan.SKINNY and _plan._cpu.packed_on())
    assert _plan.blocking("transpose", "blas", g(1, 32, 512), 4)["dot"] == (
        _plan.SKINNY or _plan.AVX2)
    # float64: BLAS's GEMMs where its kernels are as wide as the CPU's (the packed GEMM off)
    assert _plan.blocking("transpose", "blas", few, 8)["dot"] == (
        _plan.SKINNY and _plan._cpu.packed_on())
    assert _plan.blocking("transpose", "blas", g(1, 32, 512, 4), 4)["dot"] == _plan.SKINNY
    oobleck = g(1, 32, 2048, 1024)
    assert _plan.blocking("transpose", "blas", oobleck, 4)["dot"] == (_plan.SKINNY or _plan.AVX2)
    # a short sum of input channels does not pay for the dot GEMM's lane sums: BLAS's GEMM
    assert not _plan.blocking("transpose", "blas", g(1, 75, 26, 32, k=295, s=1), 4)["dot"]
    if _plan.SKINNY:      # AVX-512: the tiled kernel takes the others
        # float32 beyond 64 rows of 32 frames or more a batch element, 48 outputs or more: the
        # tiled kernel (_dot_tiled); float64, fewer rows or frames, or fewer outputs: the dot GEMM
        assert _plan.choose("transpose", few, 4) == "tiled"
        assert _plan.choose("transpose", few, 8) == "blas"
        assert _plan.choose("transpose", g(1, 64, 512), 4) == "blas"       # 64 rows
        assert _plan.choose("transpose", g(4, 31, 512), 4) == "blas"       # 31 frames each
        assert _plan.choose("transpose", g(3, 32, 512), 4) == "tiled"      # 96 rows, 32 each
        assert _plan.choose("transpose", g(1, 75, 512, 47), 4) == "blas"   # 47 outputs
        assert _plan.choose("transpose", g(4, 75, 512), 4) == "tiled"      # 300 rows
        assert _plan.choose("transpose", g(1, 75, 64, 64), 4) == "tiled"   # 64 input channels


@pytest.mark.parametrize("kernel", [k for k in KERNELS if k.startswith("tiled")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_bits_do_not_depend_on_the_tiles(kernel, dtype):
    """Each output is one multiply-add chain in a fixed order, whichever tile computes it: work
    blocks of 6, 12, 30 or 174 rows split a phase's rows into different whole tiles and leftovers
    (and the first and last rows of each block into different tiles), with the same bits."""
    rng = np.random.default_rng(5)
    x, f = random_operands(rng, 2, 97, 130, 70, 5, dtype)
    outs = []
    for rows in (6, 12, 30, 174):
        y = np.empty((2, 2 * 97, 70), dtype)
        with tiles(kernel):
            _transpose.transpose_tiled(x, f, y, 2, 1, 1, rows, 2)
        outs.append(y)
    for y in outs[1:]:
        np.testing.assert_array_equal(y, outs[0])
    y64, bound = oracle(x, f, [2, 2 * 97, 70], 2, 1, "SAME", "NWC")
    assert_matches(outs[0], y64, bound, terms_per_output(f.shape, 2), dtype, "tiled")


@pytest.mark.parametrize("kernel", [k for k in KERNELS if k.startswith("tiled")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("s", [1, 3, 5])
def test_tiled_with_a_filter_over_1_mib(kernel, dtype, s):
    """Over 1 MiB of filter, the tiled kernel's items go phase by phase, and with at least two
    phases per thread each thread lays out its phases' filter itself (1 thread: every stride; 2
    threads: stride 5; 3 threads: none, the whole filter first). Every way gives the reference's
    result with the same bits."""
    rng = np.random.default_rng(s)
    n, m, cin, cout, k = 2, 40, 200, 200, 8          # 200 channels: 3 whole panels and a masked one
    x, f = random_operands(rng, n, m, cin, cout, k, dtype)
    assert f.nbytes > 1 << 20
    wide = accepted_widths(m, k, s, 1, "SAME")[-1]
    g = geometry(x, f, [n, wide, cout], s, 1, "SAME", "NWC")
    outs = []
    for threads in (1, 2, 3):
        y = np.empty((n, wide, cout), dtype)
        with tiles(kernel):
            _transpose.transpose_tiled(x, f, y, s, 1, g.pad_before, _dispatch._tiled_rows(g), threads)
        outs.append(y)
    for y in outs[1:]:
        np.testing.assert_array_equal(y, outs[0])
    y64, bound = oracle(x, f, [n, wide, cout], s, 1, "SAME", "NWC")
    assert_matches(outs[0], y64, bound, terms_per_output(f.shape, s), dtype, f"{kernel} s={s}")


@pytest.mark.parametrize("kernel", [k for k in KERNELS if k.startswith("tiled")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cin, k", [(1, 251), (3, 100), (50, 7), (129, 3)])
def test_tiled_chunks_of_whole_taps(kernel, dtype, cin, k):
    """A phase of more than 128 (tap, input channel) rows goes in chunks of whole taps where a
    tap's channels fit in 128 (1 channel, 251 taps: chunks of 128 taps and 123; 3 channels: 42,
    42 and 16 taps; 50: two taps at a time and one), else a tap's channels 128 at a time (129:
    128 and 1 a tap), each chunk adding to the outputs of the one before: the reference's result,
    the same bits at one thread and two."""
    rng = np.random.default_rng(cin * k)
    n, m, cout = 2, 300, 40
    x, f = random_operands(rng, n, m, cin, cout, k, dtype)
    g = geometry(x, f, [n, m, cout], 1, 1, "SAME", "NWC")
    outs = []
    for threads in (1, 2):
        y = np.full((n, m, cout), np.nan, dtype)
        with tiles(kernel):
            _transpose.transpose_tiled(x, f, y, 1, 1, g.pad_before, _dispatch._tiled_rows(g),
                                       threads)
        outs.append(y)
    np.testing.assert_array_equal(outs[1], outs[0])
    y64, bound = oracle(x, f, [n, m, cout], 1, 1, "SAME", "NWC")
    assert_matches(outs[0], y64, bound, terms_per_output(f.shape, 1), dtype, f"{kernel} {cin} {k}")


def _aligned_empty(shape, dtype, offset=0):
    """An uninitialised array whose data starts ``offset`` elements past a 64-byte boundary."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    buf = np.empty(size + offset + 64 // dtype.itemsize, dtype)
    skip = (-buf.ctypes.data % 64) // dtype.itemsize + offset
    return buf[skip:skip + size].reshape(shape)


@pytest.mark.parametrize("kernel", [k for k in KERNELS if k.startswith("tiled")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_stores_past_the_caches(kernel, dtype):
    """With ``stream``, the tiled kernel stores the whole panels of outputs it stores once (a
    phase's taps and input channels in one chunk of 128) past the caches, where the rows are
    aligned to 64 bytes: the same bits as plain stores (80 output channels: a whole panel and a
    masked one; rows at the signal's edges; 1 and 2 threads), counted in ``_streamed_calls``
    only where it streams: not with the output a few bytes off the boundary, nor where each
    output is summed in several chunks (2 taps a phase by 100 input channels), nor without it."""
    rng = np.random.default_rng(17)
    for cin, aligned, streams in [(40, True, True), (40, False, False), (100, True, False)]:
        x, f = random_operands(rng, 2, 150, cin, 80, 4, dtype)
        wide = 300
        g = geometry(x, f, [2, wide, 80], 2, 1, "SAME", "NWC")
        y64, bound = oracle(x, f, [2, wide, 80], 2, 1, "SAME", "NWC")
        want = None
        for threads in (1, 2):
            for stream in (False, True):
                y = _aligned_empty((2, wide, 80), dtype, 0 if aligned else 1)
                y[...] = np.nan
                before = _cpu._streamed_calls()
                with tiles(kernel):
                    _transpose.transpose_tiled(x, f, y, 2, 1, g.pad_before, 48, threads, stream)
                what = f"{kernel} Cin={cin} aligned={aligned} stream={stream} threads={threads}"
                assert (_cpu._streamed_calls() > before) == (stream and streams), what
                if want is None:
                    assert_matches(y, y64, bound, terms_per_output(f.shape, 2), dtype, what)
                    want = y.copy()
                np.testing.assert_array_equal(y, want, err_msg=what)


@pytest.mark.skipif(not _cpu.tiled_available(), reason="the tiled kernel")
def test_the_tiled_plans_stream_outputs_of_8_mib():
    """conv1d_transpose's tiled plan asks for the streaming stores where its NWC output is
    ``STREAM_MIN_BYTES`` or more, with AVX-512 (the same bits as the kernel's plain stores); not
    below, nor on an AVX2 CPU, whose half-line streaming stores ran slower (``_plan.STREAMS``)."""
    rng = np.random.default_rng(3)
    assert _plan.STREAMS == (_cpu.cpu_isa() == "avx512")
    for m, streams in [(2048, _plan.STREAMS), (1024, False)]:
        x, f = random_operands(rng, 2, m, 64, 256, 4, np.float32)
        shape = [2, 2 * m, 256]
        plan = conv1dt.plan("conv1d_transpose", x, f, shape, 2, "SAME")
        assert plan.kernel == "tiled"
        before = _cpu._streamed_calls()
        y = plan(x, f)
        assert (_cpu._streamed_calls() > before) == streams, m
        assert (y.nbytes >= _plan.STREAM_MIN_BYTES) == (m == 2048)
        want = np.empty_like(y)
        _transpose.transpose_tiled(x, f, want, 2, 1, plan.geometry.pad_before, 48, 1, False)
        np.testing.assert_array_equal(y, want)


def tf_rounding(x, f, wide, s, d, pad):
    """conv1d_transpose in float64 in TensorFlow's CPU order and rounding, elementwise in NumPy
    (each product and each sum rounded on its own): per tap, in increasing input position, the
    dot product over the input channels in order, then its addition to the output."""
    n, m, cin = x.shape
    k_, cout, _ = f.shape
    acc = np.zeros((n, wide, cout))
    o = np.arange(wide)
    for k in range(k_ - 1, -1, -1):
        num = o + pad - k * d
        i = num // s
        valid = ((num % s == 0) & (i >= 0) & (i < m))[None, :, None]
        xi = x[:, np.clip(i, 0, m - 1), :]
        dot = np.zeros((n, wide, cout))
        for ci in range(cin):
            dot = dot + xi[:, :, ci:ci + 1] * f[k, :, ci][None, None, :]
        acc = np.where(valid, acc + dot, acc)
    return acc


@pytest.mark.parametrize("case", [(2, 300, 3, 5, 7, 3, 2, "SAME"), (1, 200, 4, 4, 8, 2, 1, "SAME"),
                                  (2, 150, 2, 6, 5, 1, 1, "VALID"), (1, 90, 1, 3, 6, 4, 1, "SAME")],
                         ids=str)
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_direct_float64_rounds_as_tensorflow(case, data_format):
    """The direct kernel's float64 results are TensorFlow's bit for bit (docs: "How conv1dt
    computes it"): the same products and sums in the same order, with no fused multiply-add."""
    n, m, cin, cout, k, s, d, padding = case
    rng = np.random.default_rng(m)
    x, f = random_operands(rng, n, m, cin, cout, k, np.float64, data_format)
    wide = accepted_widths(m, k, s, d, padding)[-1]
    shape = [n, wide, cout] if data_format == "NWC" else [n, cout, wide]
    g = geometry(x, f, shape, s, d, padding, data_format)
    want = tf_rounding(np.asarray(x) if data_format == "NWC" else x.transpose(0, 2, 1), f, wide, s,
                       d, g.pad_before)
    y = run("direct", x, f, shape, s, d, padding, data_format)
    np.testing.assert_array_equal(y if data_format == "NWC" else y.transpose(0, 2, 1), want)


@pytest.mark.parametrize("kernel", KERNELS)
def test_bits_do_not_depend_on_threads(kernel):
    rng = np.random.default_rng(3)
    x, f = random_operands(rng, 3, 800, 6, 5, 12, np.float32)
    shape = [3, 2400, 5]
    outs = []
    try:
        for t in (1, 2, 3):
            conv1dt.set_num_threads(t)
            outs.append(run(kernel, x, f, shape, 3, 1, "SAME", "NWC"))
    finally:
        conv1dt.set_num_threads(None)
    for other in outs[1:]:
        np.testing.assert_array_equal(outs[0], other)


def test_phase_table():
    """Each tap lands in exactly one phase, in decreasing order, at the input it reads."""
    for K, s, d, pad in [(7, 3, 2, 4), (1, 1, 1, 0), (16, 8, 1, 7), (5, 4, 2, 0)]:
        counts, ks, cs = _transpose.phase_taps(K, s, d, pad)
        seen = []
        for r in range(s):
            taps = list(ks[r, :counts[r]])
            assert taps == sorted(taps, reverse=True)
            for k, c in zip(taps, cs[r, :counts[r]]):
                assert (r + pad - k * d) % s == 0 and c * s == r + pad - k * d
            seen += taps
        assert sorted(seen) == list(range(K))


def test_dispatch_rule():
    g = lambda cin, cout, k=4, s=2, m=4096: geometry(np.zeros((1, m, cin)), np.zeros((k, cout, cin)),
                                                     [1, m * s, cout], s, 1, "SAME", "NWC")
    assert _plan.choose("transpose", g(1, 1)) == "direct"
    # few channels: the direct kernel, or on AVX2 (tiles of 16 channels) the tiled kernel from
    # 24 bytes of output channels a row
    avx2 = _plan.TILED and _cpu.tiled_isa() == "avx2"
    assert _plan.choose("transpose", g(16, 32)) == ("tiled" if avx2 else "direct")
    assert _plan.choose("transpose", g(16, 5)) == "direct"
    assert _plan.choose("transpose", g(16, 6)) == ("tiled" if avx2 else "direct")
    assert _plan.choose("transpose", g(16, 3), 8) == ("tiled" if avx2 else "direct")
    assert _plan.choose("transpose", g(513, 1, k=1024, s=256, m=64)) == "col2im"
    many = "tiled" if _plan.TILED else "blas"   # the tiled kernel where the CPU has AVX2
    assert _plan.choose("transpose", g(128, 64)) == many
    # two frames from 128 inputs: on AVX-512 the dot GEMM, reading each tap's filter once
    # (_plan._dot_rows_few); elsewhere the same kernel as for many frames
    assert _plan.choose("transpose", g(128, 64, m=2)) == ("blas" if _plan.SKINNY else many)
    assert _plan.choose("transpose", g(96, 64, m=2)) == many    # fewer than DOT_FEW_MIN_CIN
    # beyond AVX2's tiled range (T*Cin > 768): col2im's one GEMM over all taps in float32
    wide = ("tiled" if _plan.TILED and _plan.TILED_MAX_TCIN >= 2048   # AVX-512
            else "col2im" if _plan.AVX2 else "blas")
    assert _plan.choose("transpose", g(512, 64, k=8)) == wide       # T*Cin = 2048
    assert _plan.choose("transpose", g(512, 64, k=16), 8) == "blas"   # T*Cin = 4096
    # ... but BLAS's GEMM per tap for a filter beyond OLA_MAX_FILTER_BYTES (each tap's slice
    # read once for a block of rows, where col2im packs all of it for every block)
    assert _plan.choose("transpose", g(512, 256, k=16, s=8)) == (      # T*Cin = 1024, 8 MiB
        "blas" if _plan.AVX2 else wide)
    # ... and in float64 for many short batch elements the overlap-add's (HiFi-GAN's shape)
    hifi = g(512, 256, k=16, s=8, m=32)._replace(batch=16)
    if _plan.AVX2:
        assert _plan.choose("transpose", hifi, 8) == "ola"
    assert _plan.choose("transpose", g(4, 256, k=8)) == ("tiled" if _plan.TILED else "phase")
    assert _plan.choose("transpose", g(16, 256, k=512)) == "phase"  # few inputs, many taps (T*Cin 4096)
    assert _plan.choose("transpose", g(4, 4096, k=32, s=32)) == many    # one tap per phase: not phase
    assert _plan.choose("transpose", g(128, 64, m=1, k=1)) == "blas"   # small, many channels
    assert _plan.choose("transpose", g(16, 32, m=4, k=3)) == "direct"   # small, few channels
    # an input shorter than half a filter, but few channels: the direct kernel
    assert _plan.choose("transpose", g(1, 2, k=99, s=2, m=46)) == "direct"
    # few outputs from many inputs: never tiles of 64 channels for one
    # (K*Cout < 64: the overlap-add; on AVX2 col2im from 2 taps and 8 frames, not for one tap)
    assert _plan.choose("transpose", g(512, 1, k=16, s=8, m=256)) == (
        "col2im" if _plan.AVX2 else "ola")
    assert _plan.choose("transpose", g(512, 1, k=16, s=8, m=4)) == "ola"
    assert _plan.choose("transpose", g(512, 1, k=1, s=8, m=256)) == "ola"
    # AVX2: a filter beyond 4 MiB for 64+ frames a batch element (an audio decoder's layer):
    # BLAS's GEMM per tap, in one block of rows (the 8 residues mod s are the work items), where
    # col2im would pack all of the filter for every block of rows
    dac = g(1024, 512, k=16, s=8, m=75)
    assert _plan.choose("transpose", dac) == ("blas" if _plan.AVX2 else
                                              _plan._choose_transpose(dac))
    if _plan.AVX2:
        assert _plan.blocking("transpose", "blas", dac, 4)["rows"] == 75
        assert _plan.choose("transpose", g(1024, 512, k=16, s=8, m=48)) != "tiled"
        assert _plan.choose("transpose", g(512, 128, k=16, s=8, m=75)) == "col2im"  # 4 MiB
    small = g(206, 1, k=2, s=1, m=12)._replace(batch=46)      # col2im only from PARALLEL_MACS
    assert _plan.choose("transpose", small) == (
        "col2im" if _plan.AVX2 and _plan.macs(small) >= _plan.PARALLEL_MACS else "ola")
    assert _plan.choose("transpose", small._replace(batch=10)) == "ola"    # 49440 of them
    # ... its products by the dot GEMM (AVX-512) for long sums; BLAS for short ones
    ola = lambda *a, **k: _plan.blocking("transpose", "ola", g(*a, **k), 4)["dot"]
    assert ola(512, 1, k=16, s=8, m=256) == _plan.SKINNY
    assert not ola(64, 1, k=16, s=8, m=256)
    assert _plan.choose("transpose", g(512, 8, k=16, s=8, m=256)) == "col2im"
    assert _plan.choose("transpose", g(32, 1, k=4096, s=1)) == "blas"    # 4097 rows overlap
    assert _plan.choose("transpose", g(512, 16, k=3, s=1)) == "blas"     # K*Cout < 64
    assert _plan.choose("transpose", g(25, 11, k=12, s=6)) == "col2im"   # Cout < 32
    assert _plan.choose("transpose", g(512, 24, k=2048, s=4)) == "blas"  # 192 KiB a row
    # a few frames overlap-added: the input spans less than one filter
    assert _plan.choose("transpose", g(96, 32, k=300, s=3, m=2)) == "ola"
    # ... but one frame in all with a filter beyond 4 MiB, or 32 inputs and 64 outputs and more
    # (below): a GEMM a tap
    assert _plan.choose("transpose", g(13, 525, k=934, s=3, m=1)) == "blas"
    # (on AVX2 too: one frame's GEMMs are BLAS's matrix-vector products, which do not pack,
    # and its blocks of outputs split over threads; from 2 frames the overlap-add's dot GEMM)
    assert _plan.choose("transpose", g(128, 128, k=1024, s=256, m=1)) == "blas"
    assert _plan.choose("transpose", g(512, 512, k=64, s=8, m=1)) == "blas"
    assert _plan.choose("transpose", g(512, 512, k=64, s=8, m=2)) == (
        "ola" if _plan.AVX2 else "blas")
    # (AVX-512: one frame from 128 inputs, the dot GEMM of _plan._dot_rows_few)
    assert _plan.choose("transpose", g(128, 128, k=64, s=16, m=1)) == "blas"    # 4 MiB
    # from 32 inputs and 64 outputs whatever the filter's size (thirtieth round: 3 MiB, 1 frame,
    # 96 -> 128, K=64, s=16: 0.44 ms by the overlap-add, 0.14 by BLAS)
    assert _plan.choose("transpose", g(96, 128, k=64, s=16, m=1)) == "blas"
    assert _plan.choose("transpose", g(96, 128, k=12, s=4, m=1)) == "blas"        # 576 KiB
    # 24 inputs: the overlap-add for a small call (0.2 million multiply-adds), the tiled kernel
    # from 2**20 where it runs (_few_frames_tiled: each output written once from the taps that
    # reach it), from 32 outputs and 8 inputs, within its T*Cin
    assert _plan.choose("transpose", g(24, 128, k=64, s=16, m=1)) == "ola"
    many = g(24, 128, k=64, s=16, m=1)._replace(batch=20)
    assert _plan.choose("transpose", many) == ("tiled" if _plan.TILED else "ola")
    assert _plan.choose("transpose", many, 8) == ("tiled" if _plan.TILED else "ola")
    assert _plan.choose("transpose", many._replace(wide_channels=31)) == "ola"
    assert _plan.choose("transpose", many._replace(narrow_channels=7)) == "ola"
    assert _plan.choose("transpose", many._replace(taps=3000, stride=1)) in ("ola", "blas")
    # ... and not for fewer than 64 outputs from several frames (each tap's GEMM is narrow)
    assert _plan.choose("transpose", g(300, 25, k=429, s=1, m=1)._replace(batch=35), 8) == "ola"
    # ... but from 2 frames, with at most 64 inputs to 32 outputs or more, the tiled kernel
    assert _plan.choose("transpose", g(4, 419, k=79, s=3, m=4)) == (
        "tiled" if _plan.TILED else "ola")
    # with many input channels, the dot GEMM reads each tap once for those few frames (without
    # it, one BLAS GEMM a tap: the filter is beyond 4 MiB); on AVX2 the overlap-add's, from 2
    # frames (one frame: BLAS's matrix-vector products)
    assert _plan.choose("transpose", g(1348, 60, k=40, s=2, m=1)) == "blas"
    # AVX2: a short input to 16 times as many outputs under a filter beyond L2, a GEMM per tap
    # (the tiled kernel's tiles have a short sum); a long input stays tiled
    tiled = "tiled" if _plan.TILED else "blas"
    assert _plan.choose("transpose", g(26, 1231, k=10, s=3, m=31)) == (
        "blas" if _plan.AVX2 else tiled)
    if _plan.TILED:
        assert _plan.choose("transpose", g(16, 1024, k=8, s=4, m=8192)) == "tiled"
    # (three frames of 60 outputs: the AVX-512 dot GEMM's; elsewhere the overlap-add's)
    assert _plan.choose("transpose", g(1348, 60, k=40, s=2, m=3)) == (
        "blas" if _plan.SKINNY else "ola")


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_non_finite_values_follow_the_definition(kernel, data_format):
    """Only the definition's products are formed: a tap that reaches past the signal adds no
    term (not ``0 * inf = nan``), and NaN and infinities elsewhere propagate as in the reference."""
    rng = np.random.default_rng(11)
    for s, d, k, padding in [(1, 1, 3, "SAME"), (2, 1, 5, "SAME"), (3, 2, 4, "VALID"), (1, 1, 7, "SAME")]:
        x, f = random_operands(rng, 2, 40, 3, 2, k, np.float64, data_format)
        f[-1, 0, 1] = np.inf
        f[0, 1, 0] = -np.inf
        x[(0, 5, 1) if data_format == "NWC" else (0, 1, 5)] = np.nan
        wide = accepted_widths(40, k, s, d, padding)[-1]
        shape = [2, wide, 2] if data_format == "NWC" else [2, 2, wide]
        y = run(kernel, x, f, shape, s, d, padding, data_format)
        with np.errstate(invalid="ignore"):
            y64, _ = oracle(x, f, shape, s, d, padding, data_format)
        np.testing.assert_array_equal(np.isnan(y), np.isnan(y64))
        np.testing.assert_array_equal(np.isposinf(y), np.isposinf(y64))
        np.testing.assert_array_equal(np.isneginf(y), np.isneginf(y64))
        finite = np.isfinite(y64)
        assert finite.any() and (~finite).any()
        np.testing.assert_allclose(y[finite], y64[finite], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("env, isa", [({"CONV1DT_CPU": "avx2"}, "avx2"),
                                      ({"CONV1DT_CPU": "baseline"}, None)])
def test_the_environment_turns_the_tiles_off(env, isa):
    """CONV1DT_CPU=avx2 makes this CPU run what a CPU with AVX2 but not AVX-512 runs, and
    CONV1DT_CPU=baseline what one without either runs (the BLAS kernels for many channels);
    the results are right against the reference either way (in a fresh process: the CPU check is
    made once)."""
    import subprocess
    import sys
    if isa == "avx2" and _cpu.tiled_isa() is None:
        pytest.skip("no AVX2 on this CPU")
    code = f"""
import numpy as np
from conv1dt import _dispatch, _plan, reference
from conv1dt._compiled import _cpu, _transpose
from conv1dt._geometry import transpose_geometry
assert _cpu.tiled_isa() == {isa!r} and _plan.TILED == {isa is not None}
assert _cpu.cpu_isa() == {isa or "baseline"!r}
assert _plan.TILED_MAX_TCIN == 768   # the AVX2 tiles' range (AVX-512's is 2048)
rng = np.random.default_rng(0)
for shape in [(2, 60, 130, 70, 3, 2), (2, 80, 8, 64, 9, 2), (1, 40, 48, 2, 96, 16)]:
    n, m, cin, cout, k, s = shape
    x = rng.standard_normal((n, m, cin))
    f = rng.standard_normal((k, cout, cin))
    g = transpose_geometry(x.shape, f.shape, (n, m * s, cout), s, 1, "SAME", "NWC", 1)
    assert _plan.choose("transpose", g, 8) != "tiled" or {isa is not None}
    assert _plan.choose("transpose", g, 8) == "tiled" or cin != 130 or {isa is None}
    y = _dispatch.conv1d_transpose(x, f, g, "NWC")
    want = reference.conv1d_transpose(x, f, g)
    bound = reference.conv1d_transpose(np.abs(x), np.abs(f), g)
    assert (np.abs(y - want) <= 1e-12 * bound).all(), shape   # <= 400 terms: gamma_400 ~ 5e-14
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


@pytest.mark.skipif(_cpu.tiled_isa() != "avx512", reason="needs both sets of tiles")
def test_the_tiles_may_change_between_calls():
    """A call reads the instruction set once (it sizes the filter layout): switching the tiles
    while calls run in another thread gives right results, the same bits from both sets of
    tiles (one multiply-add chain per output, in the same order), and no memory error."""
    import threading
    import time
    rng = np.random.default_rng(21)
    x, f = random_operands(rng, 2, 200, 40, 70, 5, np.float32)
    want = np.empty((2, 400, 70), np.float32)
    _transpose.transpose_tiled(x, f, want, 2, 1, 1, 48, 1)
    stop = threading.Event()

    def flip():
        while not stop.is_set():
            for isa in ("avx2", "avx512"):
                _cpu._limit_tiled_isa(isa)   # mostly while a call runs without the GIL
                time.sleep(0.0001)

    flipper = threading.Thread(target=flip)
    flipper.start()
    try:
        for _ in range(100):
            y = np.empty_like(want)
            _transpose.transpose_tiled(x, f, y, 2, 1, 1, 48, 1)
            np.testing.assert_array_equal(y, want)
    finally:
        stop.set()
        flipper.join()
        _cpu._limit_tiled_isa("avx512")
