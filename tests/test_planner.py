"""The planner's public face: conv1dt.plan, out= on every op, the LRU of kept plans."""
import numpy as np
import pytest

import conv1dt
from conftest import assert_family_matches, family_oracle, random_array
from conv1dt import _dispatch, _plan
from conv1dt._compiled import _cpu, _gemm
from conv1dt._geometry import conv1d_geometry, transpose_geometry

CALLS = [
    # (op, first operand shape, second operand shape, extra positional args, kwargs)
    ("conv1d_transpose", (2, 9, 4), (3, 5, 4), ([2, 18, 5], 2), {}),
    ("conv1d_transpose", (2, 4, 9), (3, 5, 4), ([2, 5, 18], 2), {"data_format": "NCW"}),
    ("conv1d", (2, 40, 4), (5, 4, 6), (3,), {"padding": "VALID"}),
    ("conv1d", (2, 4, 40), (5, 2, 6), (2,), {"data_format": "NCW", "groups": 2}),
    ("conv1d_backprop_filter", (2, 40, 4), (2, 14, 6), (), {}),
]


def _call(op, a, b, args, kw, **extra):
    if op == "conv1d_backprop_filter":
        return conv1dt.conv1d_backprop_filter(a, (5, 4, 6), b, 3, *args, **kw, **extra)
    return getattr(conv1dt, op)(a, b, *args, **kw, **extra)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("call", CALLS, ids=[c[0] + str(i) for i, c in enumerate(CALLS)])
def test_out_gets_the_bits_of_the_returned_result(call, dtype):
    op, sa, sb, args, kw = call
    rng = np.random.default_rng(len(sa) + len(args))
    a, b = random_array(rng, sa, dtype), random_array(rng, sb, dtype)
    want = _call(op, a, b, args, kw)
    for _ in range(2):                    # the first call builds the plan, the second reuses it
        out = np.full(want.shape, np.nan, want.dtype)
        got = _call(op, a, b, args, kw, out=out)
        assert got is out
        np.testing.assert_array_equal(out, want)


def test_out_is_checked():
    x, f = np.ones((1, 8, 2)), np.ones((3, 2, 2))
    y = conv1dt.conv1d_transpose(x, f, [1, 16, 2], 2)
    for bad, err in [(np.empty((1, 16, 3)), ValueError), (np.empty((1, 16, 2), np.float32), ValueError),
                     (np.empty((1, 2, 16)).transpose(0, 2, 1), ValueError), ([0.0] * 32, TypeError)]:
        with pytest.raises(err, match="out"):
            conv1dt.conv1d_transpose(x, f, [1, 16, 2], 2, out=bad)
    ro = np.empty_like(y)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        conv1dt.conv1d_transpose(x, f, [1, 16, 2], 2, out=ro)
    z = np.ones((1, 16, 2))
    with pytest.raises(ValueError, match="share memory"):
        conv1dt.conv1d(z, f, 1, out=z)   # the output would overwrite the input it reads
    skewed = np.empty(y.nbytes + 1, np.uint8)[1:].view(y.dtype).reshape(y.shape)
    assert not skewed.flags.aligned   # the kernels write through pointers typed as aligned
    with pytest.raises(ValueError, match="out must be aligned"):
        conv1dt.conv1d_transpose(x, f, [1, 16, 2], 2, out=skewed)


def test_a_plan_computes_its_call_and_refuses_others():
    rng = np.random.default_rng(2)
    x = random_array(rng, (2, 33, 3), np.float32)
    f = random_array(rng, (4, 5, 3), np.float32)
    p = conv1dt.plan(conv1dt.conv1d_transpose, x, f, [2, 66, 5], 2, dilations=2)
    assert isinstance(p, conv1dt.Plan)
    assert p.out_shape == (2, 66, 5) and p.dtype == np.float32 and p.geometry.dilation == 2
    assert repr(p).startswith("<conv1dt plan: conv1d_transpose") and repr(p.kernel) in repr(p)
    for _ in range(2):
        x2 = random_array(rng, x.shape, np.float32)
        g = transpose_geometry(x.shape, f.shape, (2, 66, 5), 2, 2, "SAME", "NWC")
        want, bound = family_oracle("transpose", x2, f, g)
        assert_family_matches(p(x2, f), want, bound, 4 * 3, "plan call")
    with pytest.raises(ValueError, match="this plan"):
        p(x[:, :32], f)
    with pytest.raises(ValueError, match="this plan"):
        p(x.astype(np.float64), f)
    with pytest.raises(ValueError, match="op must be"):
        conv1dt.plan("conv2d", x, f, 1)
    with pytest.raises(TypeError, match="out"):
        conv1dt.plan("conv1d", x, f, 1, out=np.empty(1))
    with pytest.raises(ValueError, match="output_shape"):
        conv1dt.plan(conv1dt.conv1d_transpose, x, f, [2, 99, 5], 2)   # the op's own check


@pytest.mark.parametrize("op", ["conv1d_transpose", "conv1d", "conv1d_backprop_filter"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_plan_call_gives_the_ops_bits_for_operands_in_any_memory(op, dtype):
    """A plan called on C-contiguous operands of its dtype takes the quick runner the op's
    repeated calls take (conv1dt/_compiled/_front.pyx); strided, Fortran-ordered and byte-swapped
    operands of its shapes go the general way. Every form gives the op's result to the bit, on
    a small call (a compiled small plan) and one with a few thousand outputs."""
    rng = np.random.default_rng(5)
    for n, width, cw, cn, k in [(2, 12, 3, 2, 3), (3, 700, 8, 16, 5)]:
        x = random_array(rng, (n, width, cw), dtype)
        f = random_array(rng, (k, cw, cn), dtype)
        dz = conv1dt.conv1d(x, f, 2)
        args = {"conv1d_transpose": (dz, f, list(x.shape), 2), "conv1d": (x, f, 2),
                "conv1d_backprop_filter": (x, f.shape, dz, 2)}[op]
        fn = getattr(conv1dt, op)
        p = conv1dt.plan(op, *args)
        a, b = (args[0], args[2]) if op == "conv1d_backprop_filter" else args[:2]
        want = fn(*args)
        for av in (a, np.asfortranarray(a), np.repeat(a, 2, axis=1)[:, ::2],
                   a.astype(a.dtype.newbyteorder(">"))):
            np.testing.assert_array_equal(p(av, b), want)
            np.testing.assert_array_equal(p(b=b, a=av), want)
        with pytest.raises(ValueError, match="this plan"):
            p(a[:, :-1], b)
        with pytest.raises(ValueError, match="this plan"):
            p(a, b.astype(np.complex128))


def test_plans_for_each_op_by_name():
    rng = np.random.default_rng(3)
    w = random_array(rng, (1, 64000, 1), np.float32)
    f = random_array(rng, (512, 1, 8), np.float32)
    p = conv1dt.plan("conv1d", w, f, 128, padding="VALID")
    # 8 outputs: on AVX2 the skinny GEMM reads the windows in place (implicit_blocking has no taps)
    if _plan.AVX2:
        assert p.kernel == "implicit"
    else:
        assert p.kernel == "im2col" and p.blocks["taps"] == 512
    g = conv1d_geometry(w.shape, f.shape, 128, 1, "VALID", "NWC")
    want, bound = family_oracle("conv1d", w, f, g)
    assert_family_matches(p(w, f), want, bound, 512, "STFT-like conv1d")
    dz = random_array(rng, p.out_shape, np.float32)
    q = conv1dt.plan("conv1d_backprop_filter", w, f.shape, dz, 128, padding="VALID")
    want, bound = family_oracle("backprop_filter", w, dz, g)
    assert_family_matches(q(w, dz), want, bound, p.out_shape[1], "its filter gradient")


def test_the_kept_plans_are_a_bounded_lru():
    _plan.clear_cache()
    f = np.ones((2, 1, 1))
    first = np.ones((1, 3, 1))
    conv1dt.conv1d(first, f, 1)
    for w in range(4, _plan.CACHE_MAX + 20):
        conv1dt.conv1d(first, f, 1)                  # the first call's plan stays in use ...
        conv1dt.conv1d(np.ones((1, w, 1)), f, 1)
    assert len(_plan._cache) == _plan.CACHE_MAX
    keys = [k for k in _plan._cache if k[1] == (1, 3, 1)]
    assert keys                                      # ... so it is never the one dropped
    assert not [k for k in _plan._cache if k[1] == (1, 4, 1)]   # the oldest unused one is
    conv1dt.plan.cache_clear()
    assert not _plan._cache


def test_calls_below_about_one_mflop_run_on_one_thread(monkeypatch):
    monkeypatch.undo()                                   # the library's own threshold
    assert _plan.PARALLEL_MACS == 1 << 19
    g = conv1d_geometry((1, 4096, 8), (4, 8, 8), 1, 1, "SAME", "NWC")     # 2**20 multiply-adds
    with conv1dt.threads(2):    # restores "not set" after (set_num_threads(2) would stay set)
        assert _plan.threads(g) == 2
        assert _plan.threads(g._replace(narrow=1024)) == 1                  # 2**18


def _blocks(op, shape_x, shape_f, s, data_format="NWC", itemsize=4, groups=1):
    g = conv1d_geometry(shape_x, shape_f, s, 1, "VALID", data_format, groups)
    kernel = _plan.choose(op, g, itemsize, data_format)
    return kernel, _plan.blocking(op, kernel, g, itemsize, data_format)


def test_a_few_frames_read_the_filter_once():
    """A transpose of at most 16 frames in all from 128 input channels runs the dot GEMM on
    AVX-512 (reading the filter is most of its work); fewer inputs keep the other kernels."""
    if not _plan.SKINNY:
        pytest.skip("an AVX-512 rule (the dot GEMM's tiles of 16 lanes)")
    g = transpose_geometry((1, 4, 159), (15, 623, 159), (1, 48, 623), 12, 1, "SAME", "NWC")
    assert _plan.choose("transpose", g) == "blas"
    assert _plan.blocking("transpose", "blas", g, 4)["dot"]
    assert _plan.choose("transpose", g._replace(narrow_channels=64)) != "blas"
    assert not _plan._dot_rows_few(g._replace(batch=5))                 # 20 frames


def test_float64_frames_on_a_wide_blas(monkeypatch):
    """Float64 transposes of more than 16 frames into 32 output channels or more run BLAS's
    GEMMs, not the dot GEMM, where the BLAS's kernels are as wide as the CPU's vectors (the
    packed GEMM off), and float32 ones where BLAS's packing is a small part of each GEMM (``1/R
    + 1/C`` below ``DOT_BLAS_PACKING`` for ``R`` rows into ``C`` channels); where the BLAS's
    kernels are narrower (the packed GEMM on), the dot GEMM's rule as before (AVX-512's rules,
    checked on any machine)."""
    monkeypatch.setattr(_plan, "SKINNY", True)
    monkeypatch.setattr(_plan, "AVX2", False)
    g = transpose_geometry((1, 86, 1536), (16, 768, 1536), (1, 688, 768), 8, 1, "SAME", "NWC")
    narrow_blas = [False]
    monkeypatch.setattr(_plan._cpu, "packed_on", lambda: narrow_blas[0])
    assert not _plan.transpose_dot(g, 8, 86)
    assert not _plan.transpose_dot(g, 4, 86)                             # float32: 0.013
    assert not _plan.transpose_dot(g._replace(narrow=40), 4, 64)         # 40 frames: 0.026
    assert _plan.transpose_dot(g._replace(narrow=32), 4, 32)             # 32 frames: 0.033
    assert _plan.transpose_dot(g._replace(narrow=40), 4, 32)             # in GEMMs of 32
    assert _plan.transpose_dot(g._replace(wide_channels=40), 4, 86)      # 40 outputs: 0.037
    assert _plan.transpose_dot(g._replace(wide_channels=21), 8, 86)      # 21 outputs
    assert _plan.transpose_dot(g._replace(narrow=16), 8, 16)             # 16 frames
    narrow_blas[0] = True
    assert _plan.transpose_dot(g, 8, 86)
    assert _plan.transpose_dot(g, 4, 86)


def test_how_the_filter_gradient_multiplies():
    """The filter gradient's blocks say how each is multiplied: in place (no gather) with one
    tap or few output channels from many input ones, the skinny GEMM for a short ``taps*Cw/G``
    into many output channels (float32 with AVX-512), BLAS otherwise; on AVX2 the skinny GEMM
    for every GEMM with a side of at most 32 (along the output channels, or across the columns
    for fewer than two vectors of them), ahead of the in-place GEMMs where its columns are read
    in place (a window), and on AVX-512 likewise but for 8 outputs or more from 128 inputs or
    more; never in place or skinny in NCW, where the kernel gathers."""
    bp = "backprop_filter"
    one_tap = _blocks(bp, (2, 4096, 64), (1, 64, 8), 2)[1]                      # K = 1
    assert one_tap["inplace"]                   # one GEMM of 64 columns, BLAS's, in place
    few_out = _blocks(bp, (1, 4096, 388), (9, 388, 4), 3)[1]                    # Cn = 4
    # 4 output channels, a short side, but its 9 * 388 columns would be gathered (more than
    # 1024 of them, no window in place): the GEMMs per tap in place instead
    assert few_out["inplace"] and not few_out["skinny"] and not few_out.get("across")
    wav2vec = _blocks(bp, (4, 16000, 1), (10, 1, 512), 5)[1]
    # on AVX2 its 10 columns (K*Cw) are the short side: the skinny GEMM along the 512 output
    # channels on gathered blocks (a window's 512 channels a row would not stay near the core);
    # in float64, BLAS
    assert not wav2vec["inplace"] and wav2vec["skinny"] == (_plan.SKINNY or _plan.AVX2)
    assert not wav2vec.get("window", False)
    f64 = _blocks(bp, (4, 16000, 1), (10, 1, 512), 5, itemsize=8)[1]
    assert not f64["skinny"] and not f64.get("across")
    if _plan.AVX2:      # 32 channels: in place
        assert _blocks(bp, (4, 16000, 1), (10, 1, 32), 5)[1]["window"]
    # a short side only from 32 on both: BLAS
    assert not _blocks(bp, (1, 4096, 64), (9, 64, 64), 3)[1].get("skinny")
    # 8 outputs from 256 inputs keep the GEMMs per tap in place (on AVX2 the short side's
    # 2304 columns would be gathered)
    wide = _blocks(bp, (1, 4096, 256), (9, 256, 8), 3)[1]
    assert wide["inplace"]
    hifi = _blocks(bp, (8, 2048, 128), (16, 128, 256), 8)[1]
    assert not hifi["inplace"] and not hifi["skinny"]
    # items from blocks of taps where the partial filters' memory allows few chunks of rows,
    # the blocks at least 64 columns wide
    assert hifi["chunks"] * -(-16 // hifi["taps"]) >= _plan.MIN_ITEMS and hifi["taps"] * 128 >= 64
    stft = _blocks(bp, (16, 16000, 1), (512, 1, 514), 128)[1]
    assert stft["taps"] >= 64 and stft["chunks"] * -(-512 // stft["taps"]) >= _plan.MIN_ITEMS
    for shapes in (((2, 4096, 64), (1, 64, 8)), ((4, 16000, 1), (10, 1, 512))):
        ncw = _blocks(bp, (shapes[0][0], shapes[0][2], shapes[0][1]), shapes[1], 5, "NCW")[1]
        assert not ncw["inplace"] and not ncw["skinny"] and not ncw.get("across")
        assert not ncw.get("window")


def test_when_conv1d_streams_its_output():
    """conv1d writes by streaming stores only into an output of at least 8 MiB (NWC, AVX-512:
    AVX2's half-line streaming stores ran slower, ``_plan.past_the_caches``): by the implicit
    kernel (one group, windows that are runs of the signal; float32 or float64; on AVX2 it runs
    with plain stores), or by the im2col kernel's skinny GEMM for one short block of taps (two
    groups: not runs; float32 only)."""
    implicit = ("implicit", _plan.SKINNY) if _plan.SKINNY or _plan.AVX2 else ("im2col", None)
    kernel, blocks = _blocks("conv1d", (4, 16000, 1), (10, 1, 512), 5)
    assert (kernel, blocks.get("stream")) == implicit
    kernel, blocks = _blocks("conv1d", (4, 1600, 1), (10, 1, 512), 5)          # 1.3 MiB
    assert not blocks.get("stream") and not blocks.get("skinny")
    kernel, blocks = _blocks("conv1d", (4, 16000, 2), (10, 1, 1024), 5, groups=2)
    assert (kernel, blocks["skinny"]) == ("im2col", _plan.SKINNY)
    assert not _blocks("conv1d", (4, 1, 16000), (10, 1, 512), 5, "NCW")[1]["skinny"]
    kernel, blocks = _blocks("conv1d", (4, 16000, 2), (10, 1, 1024), 5, groups=2, itemsize=8)
    assert (kernel, blocks["skinny"]) == ("im2col", False)
    kernel, blocks = _blocks("conv1d", (4, 16000, 1), (10, 1, 512), 5, itemsize=8)
    assert (kernel, blocks.get("stream")) == implicit


def test_the_implicit_conv1d_needs_a_band_of_rows_or_a_filter_in_l1(monkeypatch):
    """The skinny GEMM walks the filter once per band of 8 outputs of a batch element (AVX-512's
    rule, checked on any machine): with fewer outputs a batch element it takes a filter that
    stays in L1 or a batch of one, and never a filter beyond ``LARGE_FILTER_BYTES``."""
    monkeypatch.setattr(_plan, "SKINNY", True)

    def implicit(x, f, s=1, padding="VALID", itemsize=4):
        return _plan.conv1d_implicit(conv1d_geometry(x, f, s, 1, padding, "NWC", 1), itemsize)

    assert implicit((16, 2000, 8), (16, 8, 256))            # 1993 outputs an element, 128 KiB
    assert not implicit((16, 64, 8), (62, 8, 256), s=2)    # 2 outputs an element, 496 KiB
    assert implicit((1, 64, 8), (62, 8, 256), s=2)         # ... but a batch of one
    assert implicit((16, 8, 2), (7, 2, 32), s=2)           # ... or a 1.8 KiB filter
    assert implicit((16, 106, 8), (57, 8, 256), s=7)       # 8 outputs an element
    assert not implicit((16, 2000, 8), (100, 8, 512))      # a 1.6 MiB filter
    assert implicit((16, 2000, 8), (64, 8, 512))           # 1 MiB
    assert implicit((16, 2000, 8), (128, 8, 144), itemsize=4)      # 576 KiB of float32 ...
    assert not implicit((16, 2000, 8), (128, 8, 144), itemsize=8)  # ... 1.1 MiB of float64
    assert implicit((16, 2000, 8), (64, 8, 144), itemsize=8)


def _conv1d_matches_the_oracle(seed, x_shape, f_shape, s, padding, kernels):
    """conv1d of random float32 operands (NWC, dilation 1) by each of ``kernels`` (None: the
    plan's) against the oracle."""
    rng = np.random.default_rng(seed)
    w = random_array(rng, x_shape, np.float32)
    f = random_array(rng, f_shape, np.float32)
    g = conv1d_geometry(w.shape, f.shape, s, 1, padding, "NWC")
    want, bound = family_oracle("conv1d", w, f, g)
    for kernel in kernels:
        got = _dispatch.conv1d(w, f, g, "NWC", kernel)
        assert_family_matches(got, want, bound, g.taps * g.wide_channels + 1,
                              f"{x_shape} x {f_shape}, s={s} by {kernel or 'the plan'}")


def test_the_implicit_conv1d_reads_long_windows_of_few_channels(monkeypatch):
    """Windows of more than 1024 (tap, channel) pairs go to the implicit kernel for at most 32
    input channels, with every window on the signal and 32 outputs a batch element (AVX-512's
    rule, checked on any machine); an STFT-like call so computed matches the oracle."""
    monkeypatch.setattr(_plan, "SKINNY", True)

    def implicit(x, f, s=1, padding="VALID", itemsize=4):
        return _plan.conv1d_implicit(conv1d_geometry(x, f, s, 1, padding, "NWC", 1), itemsize)

    assert implicit((1, 307200, 1), (4096, 1, 32), s=1024)        # K*Cw 4096, 297 outputs
    assert implicit((3, 4933, 16), (162, 16, 16), s=9, itemsize=8)
    assert not implicit((1, 307200, 64), (64, 64, 32), s=16)      # 64 input channels
    assert not implicit((2, 4000, 1), (4096, 1, 32), s=32, padding="SAME")   # beyond the signal
    assert not implicit((4, 1000, 8), (200, 8, 32), s=32)         # 26 outputs an element
    assert implicit((4, 1000, 8), (128, 8, 32), s=32)             # K*Cw 1024: as before
    monkeypatch.undo()
    _conv1d_matches_the_oracle(11, (2, 9000, 2), (1200, 2, 32), 256, "VALID", ("implicit", None))


def test_the_implicit_conv1d_by_the_packed_gemm(monkeypatch):
    """conv1d calls that the other rules send to BLAS, im2col or the implicit kernel (or to the
    reversed filter's tiles, from 7 taps of at most 64 input channels), with windows of at least
    192 (tap, channel) pairs, most of them on the signal, and 48 outputs a batch element (however
    many input channels: 128 beyond 64 before the thirty-fifth round) and a filter of at most
    96 MiB (16 before the thirty-sixth), run the implicit kernel
    by the packed GEMM (AVX-512's rule, checked on any machine); its blocks of channels are
    whole strips, and its items enough for the threads where the call has them (down to
    ``PACKED_MIN_ROWS`` rows an item: a call of 214 rows goes in two blocks of rows, not in
    uneven blocks of channels); such a call so computed matches the oracle."""
    monkeypatch.setattr(_plan, "SKINNY", True)

    def geometry(x, f, s=1, padding="VALID", groups=1, layout="NWC"):
        return conv1d_geometry(x, f, s, 1, padding, layout, groups)

    def packed(*args, itemsize=4, **kwargs):
        g = geometry(*args, **kwargs)
        return (_plan.implicit_packed(g, itemsize, kwargs.get("layout", "NWC"))
                and _plan.choose("conv1d", g, itemsize, kwargs.get("layout", "NWC")) == "implicit")

    assert packed((1, 10742, 14), (30, 14, 73), 4, "SAME", itemsize=8)   # 0.65x in the draws
    assert packed((1, 1265, 15), (18, 15, 1940), 3, (15, 16))
    assert packed((1, 65536, 1), (512, 1, 514), 128, "SAME")            # STFT analysis
    assert packed((1, 10742, 93), (30, 93, 73), 4, "SAME", itemsize=8)   # 93 inputs, 2686 out
    assert packed((1, 400, 93), (30, 93, 73), 4, "SAME", itemsize=8)        # ... 100 outputs
    assert not packed((1, 188, 93), (30, 93, 73), 4, "SAME", itemsize=8)    # ... 47 outputs
    assert packed((1, 400, 64), (30, 64, 73), 4, "SAME", itemsize=8)        # 64 inputs
    assert packed((4, 8192, 64), (4, 64, 128), 2, "SAME")    # the skinny implicit kernel's before
    # stride 1: in place of the reversed filter's tiles, whatever the taps (thirty-seventh
    # round: from 7 taps of at most 64 input channels before), where the windows are long enough
    monkeypatch.setattr(_plan, "TILED", True)     # the tiled kernels' rule (AVX2 and up)
    assert packed((32, 512, 32), (39, 32, 32), 1, "SAME")
    assert packed((32, 512, 32), (6, 32, 32), 1, "SAME")                  # K*Cw = 192
    assert packed((8, 500, 256), (1, 256, 512), 1)                        # one tap of 256
    assert packed((1, 3000, 80), (3, 80, 768), 1, "SAME")                 # Whisper's first
    assert _plan.choose("conv1d", geometry((32, 512, 32), (5, 32, 32), 1, "SAME")) == "flip-tiled"
    assert not packed((1, 10742, 14), (13, 14, 73), 4, "SAME", itemsize=8)   # K*Cw = 182
    assert not packed((1, 170, 14), (30, 14, 73), 4, itemsize=8)        # 36 outputs
    assert not packed((1, 400, 14), (60, 14, 73), 4, "SAME", itemsize=8)    # 85 % on the signal
    assert not packed((1, 10742, 14), (30, 14, 40))                     # 40 of 64 columns
    assert not packed((1, 10742, 28), (30, 14, 146), 4, groups=2)       # groups
    assert not packed((1, 14, 10742), (30, 14, 73), 4, layout="NCW")
    assert packed((1, 20000, 64), (200, 64, 512), 4)                    # a 25 MiB filter
    assert packed((1, 1024, 512), (16, 512, 1024), 8, (4, 4))           # 32 MiB (Oobleck's)
    assert not packed((1, 20000, 64), (800, 64, 512), 4)                # a 100 MiB filter
    # the cut by the cost model on 2 cores: an even number of items, none cheaper
    monkeypatch.setattr(_plan, "CORES", 2)
    g = geometry((1, 10742, 14), (30, 14, 300), 4)
    blocks = _plan.packed_blocking(g, 4)
    rows, channels = blocks["rows"], blocks["channels"]
    assert channels % 32 == 0 and blocks["packed"] and _plan.PACKED_MIN_ROWS <= rows <= 1024
    items = lambda r, c: -(-300 // c) * -(-g.narrow // r)
    assert items(rows, channels) % 2 == 0
    # (no straggler's half round for the packed GEMM's cut, long call as it is)
    assert _plan.macs(g) >= _plan.STRAGGLER_MIN_MACS
    cost = lambda r, c: -(-items(r, c) // 2) * r * c * (1 + _plan.BLAS_PACK / c
                                                         + _plan.BLAS_PACK / r)
    assert all(cost(rows, channels) <= cost(r, c) * (1 + 1e-12)
               for r in range(_plan.PACKED_MIN_ROWS, 1025)
               for c in {-(-10 // nc) * 32 for nc in range(1, 11)})
    # 2 x 107 rows by 96 channels (three strips): two blocks of rows, each all the channels,
    # where a floor of 128 rows left one block of rows in channel blocks of 64 and 32
    blocks = _plan.packed_blocking(geometry((2, 120, 64), (14, 64, 96), 1), 4)
    assert (blocks["rows"], blocks["channels"]) == (107, 96)
    monkeypatch.undo()
    _conv1d_matches_the_oracle(12, (2, 3000, 6), (40, 6, 48), 3, "SAME", (None,))


def test_conv1d_computes_only_the_kept_outputs_beyond_small_calls(monkeypatch):
    """The transpose's direct kernel on the reversed filter computes every output at stride 2
    and keeps one in two: only small calls take it there (their compiled plan); larger ones
    compute only the kept outputs, and with one tap read the input in place (BLAS, on the
    AVX-512 rules, checked on any machine)."""
    monkeypatch.setattr(_plan, "SKINNY", True)
    monkeypatch.setattr(_plan, "AVX2", True)

    def choose(x, f, s, d=1, itemsize=4):
        return _plan.choose("conv1d", conv1d_geometry(x, f, s, d, "VALID", "NWC", 1), itemsize)

    assert choose((1, 40, 1), (3, 1, 8), 2) == "flip-direct"          # small: 456 multiply-adds
    assert choose((1, 40, 1), (3, 1, 8), 1) == "flip-direct"          # small, stride 1
    assert choose((4, 20000, 1), (3, 1, 8), 1) == "flip-direct"       # stride 1
    for itemsize in (4, 8):
        assert choose((2, 76553, 1), (3, 1, 15), 2, itemsize=itemsize) not in (
            "flip-direct", "direct")
        assert choose((5, 45924, 1), (9, 1, 15), 2, itemsize=itemsize) not in (
            "flip-direct", "direct")
        assert choose((6, 12101, 1), (1, 1, 11), 2, itemsize=itemsize) == "blas"
        assert choose((4, 45558, 1), (1, 1, 12), 2, 6, itemsize=itemsize) == "blas"


def test_conv1d_of_few_input_channels_gathers_its_windows(rng):
    """conv1d of fewer than 32 input channels and a few outputs runs im2col (one GEMM over
    ``K*Cw`` columns) instead of BLAS's GEMM per tap of ``Cw`` (39 x 1827 samples, 3 -> 10, K=4,
    s=5: 0.45 ms so, 0.17 by im2col) from ``IM2COL_FEW_MIN_ROWS`` (batch, position) rows, at
    dilation 1 or from 5 taps; dilated pairs of taps, and fewer rows, keep BLAS. The planned
    call agrees with the reference."""
    def choose(x, f, s, d=1, padding="VALID", itemsize=4):
        return _plan.choose("conv1d", conv1d_geometry(x, f, s, d, padding, "NWC", 1), itemsize)

    taken = [((39, 1827, 3), (4, 3, 10), 5, 1, "VALID"),
             ((14, 7002, 5), (2, 5, 4), 1, 1, "SAME"),
             ((5, 11144, 1), (7, 1, 20), 8, 8, "VALID")]
    if _plan.SKINNY:     # (measured on AVX-512; AVX2 keeps its own rules)
        for x, f, s, d, padding in taken:
            for itemsize in (4, 8):
                assert choose(x, f, s, d, padding, itemsize) == "im2col", (x, f)
        assert choose((21, 690, 7), (2, 7, 26), 2, 6) == "blas"        # a dilated pair of taps
        assert choose((8, 64, 7), (2, 7, 13), 1) == "blas"             # 504 rows
    for x, f, s, d, padding in taken:
        w = random_array(rng, x, np.float64)
        k = random_array(rng, f, np.float64)
        g = conv1d_geometry(x, f, s, d, padding, "NWC", 1)
        want, bound = family_oracle("conv1d", w, k, g, "NWC")
        y = conv1dt.conv1d(w, k, s, padding, dilations=d)
        assert_family_matches(y, want, bound, f[0] * f[1], f"{x} {f}")


def test_batch_one_calls_are_split_for_the_threads(monkeypatch):
    """Work items from the shape for a batch of one: conv1d's BLAS kernel (its cost model,
    counted on 2 cores here) cuts a short signal's rows or channels into as many items as keep
    the cores busy, an even count of even blocks, blocks of at least 16 rows, but under a filter
    beyond L2 (read again by every block of rows) of at least 128 rows or all of a shorter
    signal's; the overlap-add transpose of one frame under a long filter takes all the batch
    elements in an item only as long as the items stay enough."""
    monkeypatch.setattr(_plan, "CORES", 2)
    g = conv1d_geometry((1, 1486, 766), (6, 766, 214), 6, 8, "SAME", "NWC")
    # (on AVX2 its 3.9 MiB filter for 248 rows goes to im2col, in blocks of 128 rows)
    assert _plan.choose("conv1d", g, 4) == ("im2col" if _plan.AVX2 else "blas")
    if _plan.AVX2:
        assert _plan.blocking("conv1d", "im2col", g, 4)["rows"] == 128
    items = lambda g, rows, channels: g.batch * -(-g.narrow // rows) * -(-g.narrow_channels
                                                                          // channels)
    rows, channels, _ = _plan.conv1d_blas_blocking(g, 4)
    assert rows >= 128 and items(g, rows, channels) % 2 == 0
    small = conv1d_geometry((1, 1486, 76), (6, 76, 214), 6, 8, "SAME", "NWC")    # 0.4 MiB
    rows, channels, _ = _plan.conv1d_blas_blocking(small, 4)
    assert rows >= 16 and items(small, rows, channels) % 2 == 0
    short = conv1d_geometry((1, 1100, 128), (1024, 128, 128), 1, 1, "VALID", "NWC")  # 77 rows
    assert _plan.conv1d_blas_blocking(short, 4) == (77, 64, 1)
    # Whisper's 3 MiB filter: 3 blocks of 500 rows by 4 of 128 channels (not one item a core:
    # a thread that shares its core with a busy process would hold up half the call)
    whisper = conv1d_geometry((1, 1500, 512), (3, 512, 512), 1, 1, "SAME", "NWC")
    assert _plan.conv1d_blas_blocking(whisper, 4) == (500, 128, 1)
    t = transpose_geometry((8, 1, 64), (1024, 16, 64), (8, 1024, 16), 256, 1, "VALID", "NWC")
    assert _plan.choose("transpose", t, 4) == "ola"
    width, taps, batch = _plan.ola_blocking(t, 4)
    assert -(-t.batch // batch) * -(-t.wide // width) >= _plan.MIN_ITEMS
    assert batch * min(t.narrow, 2) * taps * 16 * 4 <= _plan.SCRATCH_BYTES


def _ola_rows(g, width, taps):
    """``rows[b][t]``: the input rows of a batch element that the overlap-add multiplies for
    block ``b`` of ``width`` outputs and block ``t`` of ``taps`` taps, counted one by one: those
    with a tap of the block that lands in the block's outputs, from the first such row to the
    last (the kernel multiplies that run)."""
    out = []
    for o0 in range(0, g.wide, width):
        o1 = min(g.wide, o0 + width)
        row = []
        for k0 in range(0, g.taps, taps):
            hits = [i for i in range(g.narrow) for k in range(k0, min(g.taps, k0 + taps))
                    if o0 <= i * g.stride + k * g.dilation - g.pad_before < o1]
            row.append(max(hits) - min(hits) + 1 if hits else 0)
        out.append(row)
    return out


def test_overlap_add_cut_by_its_cost_model(monkeypatch):
    """The overlap-add's cut is the candidate (``_plan._ola_cuts``) of least modelled time, among
    those with at least ``MIN_ITEMS`` items (or the most), or among those of fewer items (2 at
    least) where they multiply at most ``OLA_FEWER_ITEMS`` as much; the model's rows per block are the
    kernel's (counted here from the definition), so that a block of outputs narrower than the
    taps' span pays again for every frame it shares with its neighbours and a block of taps
    that reach no output costs nothing. 52 x 27 frames, K=570, d=6 (27 outputs): blocks of
    taps, not blocks of 27 outputs by 72 taps each of which multiply every frame."""
    monkeypatch.setattr(_plan, "CORES", 2)
    shapes = [((52, 27, 3), (570, 8, 3), (52, 27, 8), 1, 6, "SAME"),
              ((4, 34, 78), (943, 2, 78), (4, 976, 2), 1, 1, "VALID"),
              ((9, 1, 176), (488, 1, 176), (9, 488, 1), 15, 1, "VALID"),
              ((5, 57, 402), (449, 11, 402), (5, 114, 11), 2, 1, "SAME"),
              ((2, 81, 141), (978, 13, 141), (2, 561, 13), 7, 7, "SAME")]
    for x, f, y, s, d, padding in shapes:
        g = transpose_geometry(x, f, y, s, d, padding, "NWC")
        assert _plan.choose("transpose", g, 4) == "ola", (x, f)
        cuts = _plan._ola_cuts(g, 4)
        assert len(set(cuts)) >= 2

        def modelled(cut):
            width, taps, batch = cut
            rows = _ola_rows(g, width, taps)
            ci, co, items = g.narrow_channels, g.wide_channels, []
            for b, row in enumerate(rows):
                work = width * co * batch / 4 if (b + 1) * width <= g.wide else (
                    (g.wide - b * width) * co * batch / 4)
                for t, r in enumerate(row):
                    kc = (min(g.taps, (t + 1) * taps) - t * taps) * co
                    r *= batch
                    if r:
                        work += r * kc * ci + _plan.BLAS_PACK * (r + kc) * ci + _plan.OLA_ADD * r * kc
                items.append(work)
            total = sum(items) * g.batch / batch
            return max(max(items), total / 2) + _plan.OLA_SERIAL * total

        for cut in cuts:
            assert _plan._ola_time(g, *cut) == pytest.approx(modelled(cut), rel=1e-9), (x, cut)
        items = lambda c: -(-g.batch // c[2]) * -(-g.wide // c[0])
        most = min(_plan.MIN_ITEMS, max(map(items, cuts)))
        split = [c for c in cuts if items(c) >= most]
        best = min(split, key=modelled)
        fewer = [c for c in cuts if 2 <= items(c) < items(best)]

        def multiplies(cut):
            width, taps, batch = cut
            return sum(r * (min(g.taps, (t + 1) * taps) - t * taps) for row in _ola_rows(g, width, taps)
                       for t, r in enumerate(row)) * g.batch

        got = _plan.ola_blocking(g, 4)
        if fewer and multiplies(min(fewer, key=modelled)) <= _plan.OLA_FEWER_ITEMS * multiplies(best):
            assert got in fewer and all(modelled(got) <= modelled(c) * (1 + 1e-12) for c in fewer)
        else:
            assert got in split and modelled(got) <= modelled(best) * (1 + 1e-12)
    g = transpose_geometry((52, 27, 3), (570, 8, 3), (52, 27, 8), 1, 6, "SAME", "NWC")
    width, taps, batch = _plan.ola_blocking(g, 4)
    assert taps < 72 and -(-g.batch // batch) >= 2
    # 4 x 34 frames under 943 taps: one block of all 976 outputs a batch element, 4 items
    g = transpose_geometry((4, 34, 78), (943, 2, 78), (4, 976, 2), 1, 1, "VALID", "NWC")
    assert _plan.ola_blocking(g, 4) == (976, 943, 1)


def test_conv1d_with_a_large_filter_and_few_rows():
    """On AVX2, conv1d whose filter is beyond L2 (1 MiB) for at most 512 rows in all goes to
    im2col with all the rows in one block (BLAS would pack the filter again for every block of
    16), the threads' items even blocks of about 512 output channels; a block of one or two rows
    by the skinny GEMM, streamed. Elsewhere, and with a small filter, as before."""
    g = conv1d_geometry((2, 292, 133), (13, 133, 1936), 8, 1, "SAME", "NWC")    # 13 MiB, 74 rows
    kernel = _plan.choose("conv1d", g, 4)
    blocks = _plan.blocking("conv1d", kernel, g, 4)
    if _plan.AVX2:
        assert kernel == "im2col" and blocks["rows"] == 74 and blocks["channels"] == 646  # 3 blocks
        one = conv1d_geometry((1, 787, 957), (12, 957, 57), 1000, 6, "VALID", "NWC")  # 1 row
        assert _plan.blocking("conv1d", "im2col", one, 4)["few"] == _plan.FEW_ROWS
    else:
        assert kernel == "blas"
    assert not _plan.conv1d_large_filter(g._replace(narrow=600), 4)         # 1200 rows
    assert not _plan.conv1d_large_filter(g._replace(narrow_channels=64), 4)  # 0.4 MiB
    # more than 16384 columns (K*Cw): as before
    assert not _plan.conv1d_large_filter(g._replace(taps=132), 4)


def test_avx2_overlap_add_reads_the_filter_in_place():
    """On AVX2 the overlap-add multiplies by the dot GEMM (the filter read where it is) from 128
    input channels, for 8+ outputs or at most 16 frames a batch element, and takes the
    transposes of at most 16 frames a batch element from BLAS (and from col2im with 16+
    outputs); on AVX-512 its own rule, elsewhere BLAS."""
    few = transpose_geometry((3, 5, 512), (16, 64, 512), (3, 48, 64), 8, 1, "VALID", "NWC")
    kernel = _plan.choose("transpose", few, 8)
    if _plan.AVX2:
        assert _plan._choose_transpose(few, 8) == "blas"        # the rule before this one
        assert kernel == "ola" and _plan.blocking("transpose", "ola", few, 8)["dot"]
        # one output channel and many frames: BLAS's GEMMs
        many = transpose_geometry((4, 1000, 256), (11, 1, 256), (4, 7004, 1), 7, 1, "VALID",
                                  "NWC")
        assert not _plan.ola_dot(many, 11)
        assert not _plan.ola_dot(few._replace(narrow_channels=64), 16)      # short sums
    else:
        assert kernel == _plan._choose_transpose(few, 8)


def test_few_channel_conv1d_by_blas_on_avx2():
    """conv1d of few channels where no flip, FIR or polyphase kernel applies (two channels each
    way at stride 20): BLAS's GEMM per tap on AVX2; on AVX-512 im2col's one GEMM over the taps
    (float64: 3.8 ms, BLAS 3.8, the direct gather 9.4), or BLAS's for 3+ channels and 1-2 taps
    of fewer than ``IM2COL_FEW_MIN_ROWS`` rows; the direct gather elsewhere. At stride 3 the
    polyphase kernel (float64, 1.3 ms; BLAS 2.4, the direct gather 6.9)."""
    g = conv1d_geometry((21, 149270, 2), (7, 2, 2), 20, 1, "SAME", "NWC")
    assert _plan.choose("conv1d", g, 8) == (
        "blas" if _plan.AVX2 else "im2col" if _plan.SKINNY else "direct")
    # 156,744 rows: im2col on AVX-512 (2.1 ms, BLAS 2.6 at one thread)
    g = conv1d_geometry((21, 149270, 4), (2, 4, 2), 20, 1, "SAME", "NWC")
    assert _plan.choose("conv1d", g, 8) == (
        "blas" if _plan.AVX2 else "im2col" if _plan.SKINNY else "direct")
    g = conv1d_geometry((1, 18000, 4), (2, 4, 8), 20, 1, "SAME", "NWC")        # 900 rows
    if _plan.SKINNY:
        assert _plan.choose("conv1d", g, 8) == "blas"
    g = conv1d_geometry((21, 14927, 2), (7, 2, 2), 3, 1, "SAME", "NWC")
    assert _plan.choose("conv1d", g, 8) == "polyphase"


def test_grouped_filter_gradients_of_few_channels():
    """Groups of a few channels: the filter gradient's im2col up to 16 groups (its GEMMs per
    group ran faster than the direct kernel's spread rows as a rule), the direct kernel's
    spread rows from 17 groups (its one pass over all of them)."""
    def g(groups, cwg=1, cng=4, k=5):
        return conv1d_geometry((4, 4000, groups * cwg), (k, cwg, groups * cng), 1, 1, "SAME",
                               "NWC", groups)
    bp = "backprop_filter"
    # (AVX2 has a grouped rule of its own after this one, for small GEMMs: not asserted here)
    for groups in (2, 8, 16) if not _plan.AVX2 else ():
        assert _plan.choose(bp, g(groups)) == "im2col"
        assert _plan.choose(bp, g(groups, 2, 2, k=3)) == "im2col"       # per-channel loops before
    assert _plan.choose(bp, g(32)) == "direct"                           # 32 x 4 outputs: spread rows
    assert _plan.choose(bp, g(17, 2, 2, k=3)) == "direct"


def test_small_filter_gradients_of_a_few_pairs_run_the_firs():
    """A small filter gradient (``FIR_MIN_MACS`` to ``SMALL_MACS``) of one group, 2-8 taps and
    2-8 channel pairs: the FIR kernel pair by pair, not the direct kernel; one tap, more pairs
    or a larger call keep their kernels."""
    def g(cw, cn, k, width):
        return conv1d_geometry((1, width, cw), (k, cw, cn), 1, 1, "VALID", "NWC")
    small = g(1, 2, 3, 1716)                                   # 1 -> 2, K=3: 10,284 MACs
    assert _plan.FIR_MIN_MACS <= _plan.macs(small) < _plan.SMALL_MACS
    assert _plan.choose("backprop_filter", small, 8) == "fir"
    assert _plan.choose("backprop_filter", g(2, 4, 2, 1000), 4) == "fir"          # 8 pairs
    assert _plan.choose("backprop_filter", g(3, 3, 2, 600), 4) == "direct"        # 9 pairs
    assert _plan.choose("backprop_filter", g(1, 2, 1, 6000), 4) != "fir"          # one tap
    x = np.random.default_rng(3).standard_normal((1, 1716, 1))
    dy = np.random.default_rng(4).standard_normal((1, 1714, 2))
    want, bound = family_oracle("backprop_filter", x, dy, small)
    got = conv1dt.conv1d_backprop_filter(x, [3, 1, 2], dy, 1, "VALID")
    assert_family_matches(got, want, bound, 1714, "1 -> 2, K=3")


def test_conv1d_im2col_splits_channels_for_few_rows():
    """conv1d's im2col with fewer than ``MIN_ITEMS`` blocks of rows (one output a batch
    element under a long filter) splits the output channels into even blocks of a multiple of
    16, at least 128, for the items; with enough rows, or under 256 channels, it does not."""
    g = conv1d_geometry((16, 700, 4), (700, 4, 797), 5, 1, "VALID", "NWC")
    ch = _plan.im2col_channels(g, 16)                           # 16 rows: one block
    assert ch % 16 == 0 and 128 <= ch < 797
    assert -(-797 // ch) >= min(_plan.MIN_ITEMS, 797 // 128)
    if not _plan.conv1d_large_filter(g, 4):     # (AVX2 cuts a large filter's channels itself)
        assert _plan.blocking("conv1d", "im2col", g, 4)["channels"] == ch
    many_rows = conv1d_geometry((16, 7000, 4), (700, 4, 797), 5, 1, "VALID", "NWC")
    assert _plan.im2col_channels(many_rows, _plan.blocking("conv1d", "im2col", many_rows, 4)["rows"]) == 0
    few_channels = conv1d_geometry((16, 700, 4), (700, 4, 200), 5, 1, "VALID", "NWC")
    assert _plan.im2col_channels(few_channels, 16) == 0


def test_a_filter_gradient_of_one_work_item_splits_its_channels():
    """The in-place filter gradient that one group, one block of taps and one chunk of rows
    would make one work item takes blocks of output channels instead (even, from 64, a multiple
    of 16); not with two chunks or more, one input channel, or a serial call; and the result
    matches the reference with the same bits on one thread and two."""
    G = conv1dt.Geometry
    one = G(batch=3, wide=369, narrow=123, wide_channels=12, narrow_channels=1455, taps=1,
            stride=3, dilation=1, pad_before=0)
    b = _plan.blocking("backprop_filter", "im2col", one, 8)
    assert b["inplace"] and b["chunks"] == 1 and b["channels"] == 192      # 8 blocks
    narrow = one._replace(narrow_channels=100)                              # one block of 64+
    assert _plan.blocking("backprop_filter", "im2col", narrow, 8)["channels"] == 0
    chunked = one._replace(batch=60)                                        # 7380 rows
    b = _plan.blocking("backprop_filter", "im2col", chunked, 8)
    assert b["chunks"] > 1 and b["channels"] == 0
    assert _plan.blocking("backprop_filter", "im2col",
                          one._replace(wide_channels=1), 8).get("channels", 0) == 0
    serial = one._replace(batch=1, narrow=64, wide=192, narrow_channels=130, wide_channels=2)
    assert not _plan.parallel(serial)
    b = _plan.blocking("backprop_filter", "im2col", serial, 8)
    assert b["inplace"] and b["channels"] == 0
    rng = np.random.default_rng(3)
    x = random_array(rng, (3, 368, 12), np.float64)
    dy = random_array(rng, (3, 123, 1455), np.float64)
    g = one._replace(wide=368)
    outs = []
    for n in (1, 2):
        with conv1dt.threads(n):
            outs.append(conv1dt.conv1d_backprop_filter(x, [1, 12, 1455], dy, 3, "VALID"))
    want, bound = family_oracle("backprop_filter", x, dy, g)
    assert_family_matches(outs[0], want, bound, 3 * 123 + 1, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])
    (plan,) = [p for p in _plan._cache.values() if p.geometry == g]
    assert plan.blocks["channels"] == 192


def test_a_gathered_filter_gradient_of_few_work_items_splits_its_channels(monkeypatch):
    """The gathered filter gradient whose groups, tap blocks and chunks of rows give two cores
    one item or three (a share of their time of 3/4 at most) takes blocks of output channels
    that make the items a multiple of the cores (even, from 64, a multiple of 16); not with
    two, four or five items, nor a serial call. Blocks of channels by BLAS's GEMMs and by the
    packed GEMM match the reference with the same bits on one thread and three; the packed
    GEMM runs once per block of channels (its count of runs, ``_cpu._packed_calls``, grows with
    the blocks), so the kernel takes the blocks it is given."""
    monkeypatch.setattr(_plan, "CORES", 2)
    G = conv1dt.Geometry
    three = G(batch=1, wide=86, narrow=84, wide_channels=197, narrow_channels=759, taps=3,
              stride=1, dilation=1, pad_before=0)
    b = _plan.blocking("backprop_filter", "im2col", three, 4)
    assert not b["inplace"] and b["taps"] == 1 and b["chunks"] == 1
    assert b["channels"] == 384                                  # 3 taps x 2 blocks
    five = three._replace(taps=5, wide=88)                       # 5 items: 5/6 of the cores
    assert _plan.blocking("backprop_filter", "im2col", five, 4)["channels"] == 0
    two = three._replace(taps=2, wide=85)
    assert _plan.blocking("backprop_filter", "im2col", two, 4)["channels"] == 0
    narrow = three._replace(narrow_channels=100)                 # halves of 64 at least
    assert _plan.blocking("backprop_filter", "im2col", narrow, 4)["channels"] == 0
    serial = three._replace(narrow=6, wide=8, wide_channels=8, narrow_channels=256)
    assert not _plan.parallel(serial)
    assert _plan.blocking("backprop_filter", "im2col", serial, 4)["channels"] == 0
    rng = np.random.default_rng(5)
    for dtype, cn, blocks in [(np.float32, 759, {"channels": 384}),
                              (np.float64, 759, {"channels": 256}),
                              (np.float32, 224, {"channels": 96, "packed": True}),
                              (np.float64, 224, {"channels": 64, "packed": True, "rows": 24})]:
        x = random_array(rng, (2, 86, 197), dtype)
        dy = random_array(rng, (2, 84, cn), dtype)
        g = three._replace(batch=2, narrow_channels=cn)
        blocks = {"rows": 64, "taps": 1, "chunks": 1, "skinny": False, "inplace": False,
                  "across": False, "window": False, "window_rows": 0, "packed": False,
                  "stream": False, **blocks}
        outs = []
        for n in (1, 3):
            with conv1dt.threads(n):
                outs.append(_dispatch.conv1d_backprop_filter(x, dy, g, "NWC", "im2col",
                                                             blocks=blocks))
        want, bound = family_oracle("backprop_filter", x, dy, g)
        assert_family_matches(outs[0], want, bound, 2 * 84 + 1, f"{g} {blocks}")
        np.testing.assert_array_equal(outs[0], outs[1])
        if blocks["packed"]:
            runs = []
            for channels in (0, blocks["channels"]):
                before = _cpu._packed_calls()
                _dispatch.conv1d_backprop_filter(x, dy, g, "NWC", "im2col",
                                                 blocks=dict(blocks, channels=channels))
                runs.append(_cpu._packed_calls() - before)
            assert 0 < runs[0] < runs[1], runs


def test_a_filter_gradient_of_one_work_item_splits_its_input_channels():
    """Where the output channels are too few for blocks of their own (fewer than 128), the
    in-place filter gradient that would be one work item takes blocks of its input channels
    (even, from 64, a multiple of 16, at most 4): each block's GEMMs read their columns of the input in
    place. Not beside blocks of output channels, with two chunks or more, or in a serial call;
    the result matches the reference for every block size, with the same bits on one thread
    and two."""
    G = conv1dt.Geometry
    one = G(batch=1, wide=906, narrow=302, wide_channels=611, narrow_channels=124, taps=1,
            stride=3, dilation=4, pad_before=0)
    b = _plan.blocking("backprop_filter", "im2col", one, 8)
    assert b["inplace"] and b["chunks"] == 1 and b["channels"] == 0
    assert b["wide_channels"] == 160                                         # 4 blocks
    both = one._replace(narrow_channels=1455)             # output channels' blocks instead
    b = _plan.blocking("backprop_filter", "im2col", both, 8)
    assert b["channels"] == 192 and b["wide_channels"] == 0
    assert _plan.blocking("backprop_filter", "im2col", one._replace(wide_channels=100),
                          8)["wide_channels"] == 0                           # one block of 64+
    chunked = one._replace(batch=40)
    b = _plan.blocking("backprop_filter", "im2col", chunked, 8)
    assert b["chunks"] > 1 and b["wide_channels"] == 0
    rng = np.random.default_rng(4)
    x = random_array(rng, (2, 300, 200), np.float64)
    dy = random_array(rng, (2, 100, 40), np.float64)
    g = G(batch=2, wide=300, narrow=100, wide_channels=200, narrow_channels=40, taps=1,
          stride=3, dilation=1, pad_before=0)
    want, bound = family_oracle("backprop_filter", x, dy, g)
    for wide in (0, 64, 80, 16):
        outs = []
        for threads in (1, 2):
            part = np.full((1, 1, 200, 40), np.nan)
            _gemm.backprop_filter_im2col(x, dy, part, False, 3, 1, 0, 1, 1024, 1, threads, 0,
                                         False, True, wide_channels=wide)
            outs.append(part[0])
        assert_family_matches(outs[0], want, bound, 2 * 100 + 1, f"{g} wide={wide}")
        np.testing.assert_array_equal(outs[0], outs[1])
    x = random_array(rng, (1, 906, 611), np.float64)
    dy = random_array(rng, (1, 302, 124), np.float64)
    outs = []
    for n in (1, 2):
        with conv1dt.threads(n):
            outs.append(conv1dt.conv1d_backprop_filter(x, [1, 611, 124], dy, 3, "VALID",
                                                       dilations=4))
    want, bound = family_oracle("backprop_filter", x, dy, one)
    assert_family_matches(outs[0], want, bound, 302 + 1, str(one))
    np.testing.assert_array_equal(outs[0], outs[1])
    (plan,) = [p for p in _plan._cache.values() if p.geometry == one]
    assert plan.blocks["wide_channels"] == 160


def test_a_filter_gradient_of_short_gathered_blocks_goes_in_place():
    """Where im2col's gathered blocks would hold fewer than 64 rows (a scratch-sized block of
    ``K*Cw`` columns) the filter gradient runs its GEMMs per tap in place, each summing a batch
    element's rows: from 8 input channels a group and 16 outputs a batch element (64 for one
    tap); not with fewer input channels (many small GEMMs per tap), nor fewer outputs; the
    result matches the reference with the same bits on one thread and two."""
    G = conv1dt.Geometry
    g = G(batch=2, wide=105, narrow=105, wide_channels=402, narrow_channels=201, taps=6,
          stride=1, dilation=3, pad_before=0)
    b = _plan.blocking("backprop_filter", "im2col", g, 8)
    assert _plan.choose("backprop_filter", g, 8) == "im2col" and b["inplace"]
    assert not _plan.blocking("backprop_filter", "im2col", g._replace(wide_channels=7),
                              8)["inplace"]
    assert _plan.blocking("backprop_filter", "im2col", g._replace(narrow=60, wide=60),
                          8)["inplace"]
    short = g._replace(narrow=15, wide=15)
    assert not _plan.blocking("backprop_filter", "im2col", short, 8)["inplace"]
    rng = np.random.default_rng(5)
    x = random_array(rng, (2, 105, 402), np.float64)
    dy = random_array(rng, (2, 105, 201), np.float64)
    outs = []
    for n in (1, 2):
        with conv1dt.threads(n):
            outs.append(conv1dt.conv1d_backprop_filter(
                x, [6, 402, 201], dy, 1, [[0, 0], [0, 15], [0, 0]], dilations=3))
    want, bound = family_oracle("backprop_filter", x, dy, g)
    assert_family_matches(outs[0], want, bound, 2 * 105 + 1, str(g))
    np.testing.assert_array_equal(outs[0], outs[1])
    (plan,) = [p for p in _plan._cache.values() if p.geometry == g]
    assert plan.blocks["inplace"]


def test_the_direct_transpose_gives_way_where_its_strips_are_mostly_idle():
    """The transpose's direct kernel forms a strip of at least 32 outputs a phase, each through
    its phase's taps, whatever reaches the signal: where that work is 8 times the overlap-add's
    (its GEMM's multiply-adds and its sums) the overlap-add runs instead, small calls included;
    where the strips are full (a long input) the direct kernel stays. Both results match the
    reference."""
    G = conv1dt.Geometry
    # 29 batch elements of one frame of 103 channels under K=5, d=7 -> 29 outputs of 1 channel
    one_frame = G(batch=29, wide=29, narrow=1, wide_channels=1, narrow_channels=103, taps=5,
                  stride=2, dilation=7, pad_before=0)
    assert _plan.macs(one_frame) < _plan.SMALL_MACS
    assert _plan.direct_work(one_frame) >= 8 * 2 * _plan.macs(one_frame)
    assert _plan.choose("transpose", one_frame, 8) == "ola"
    # few channels, 3 frames a batch element, K=1 at s=5: 32-output strips for 3 outputs
    strided = G(batch=50, wide=11, narrow=3, wide_channels=3, narrow_channels=21, taps=1, stride=5,
                dilation=4, pad_before=0)
    assert _plan.choose("transpose", strided, 4) == "ola"
    # larger few-channel calls the same way: one frame a batch element, K=36 (8 -> 5 channels,
    # the rows too narrow for AVX2's tiles)
    few = G(batch=40, wide=36, narrow=1, wide_channels=5, narrow_channels=8, taps=36, stride=6,
            dilation=1, pad_before=0)
    assert _plan.macs(few) >= _plan.SMALL_MACS and _plan.choose("transpose", few, 4) == "ola"
    # full strips: the direct kernel's work is the useful work
    long = G(batch=2, wide=4000, narrow=1000, wide_channels=3, narrow_channels=2, taps=4,
             stride=4, dilation=1, pad_before=0)
    assert _plan.choose("transpose", long, 4) == "direct"
    # one input channel: the overlap-add's sums are as many as its multiply-adds
    one_in = G(batch=21, wide=511, narrow=49, wide_channels=31, narrow_channels=1, taps=78,
               stride=1, dilation=6, pad_before=0)
    assert 8 * _plan.macs(one_in) <= _plan.direct_work(one_in)
    assert _plan.choose("transpose", one_in, 4) != "ola"          # (tiled on AVX2)
    rng = np.random.default_rng(5)
    for g, dtype in ((one_frame, np.float64), (strided, np.float32), (few, np.float32),
                     (long, np.float32)):
        x = random_array(rng, (g.batch, g.narrow, g.narrow_channels), dtype)
        f = random_array(rng, (g.taps, g.wide_channels, g.narrow_channels), dtype)
        y = conv1dt.conv1d_transpose(x, f, (g.batch, g.wide, g.wide_channels), g.stride, "VALID",
                                     dilations=g.dilation)
        want, bound = family_oracle("transpose", x, f, g)
        assert_family_matches(y, want, bound, g.taps * g.narrow_channels, str(g))


def test_col2im_gives_each_core_a_block(monkeypatch):
    """The transpose's col2im kernel cuts one batch element that fits one block of rows into one
    block a core where each block's overlap (the rows before it whose taps reach it, multiplied
    again) is at most a quarter of its rows, and keeps one block where the overlap is larger;
    the cut's result is the definition's, the same bits on one thread and two."""
    monkeypatch.setattr(_plan, "CORES", 2)
    rng = np.random.default_rng(7)
    cheap = transpose_geometry((1, 175, 714), (8, 14, 714), (1, 350, 14), 2, 1, "SAME", "NWC")
    dear = transpose_geometry((1, 137, 295), (48, 2, 295), (1, 411, 2), 3, 4, "SAME", "NWC")
    for g, blocks in ((cheap, 2), (dear, 1)):
        overlap = (g.taps - 1) * g.dilation // g.stride + 2
        rows = _plan.col2im_rows(g, 8)
        assert rows > 0 and -(-g.wide // (rows * g.stride)) == blocks
        assert (4 * overlap <= rows) == (blocks == 2)
    monkeypatch.setattr(_plan, "CORES", 1)
    assert -(-cheap.wide // (_plan.col2im_rows(cheap, 8) * cheap.stride)) == 1
    monkeypatch.setattr(_plan, "CORES", 2)
    g = cheap
    x = rng.standard_normal((1, 175, 714))
    f = rng.standard_normal((8, 14, 714))
    want = conv1dt.reference.conv1d_transpose(x, f, g)
    outs = []
    for threads in (1, 2):
        with conv1dt.threads(threads):
            outs.append(_dispatch.conv1d_transpose(x, f, g, "NWC", kernel="col2im"))
    # float64 sums of 4 taps x 714 channels: well within 1e-11 of the largest magnitude
    assert np.max(np.abs(outs[0] - want)) <= 1e-11 * np.max(np.abs(want))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_col2im_where_the_tiles_lanes_go_idle():
    """A transpose the tiled kernel would take runs col2im instead (AVX-512) where its panels'
    lanes exceed the output channels by a fifth or more, from 96 input channels and 2 taps: 80
    outputs fill 80 of 96 lanes, 35 of 64 (float32). Not at 96 or 160 outputs (whole panels,
    float32), nor from 64 inputs, nor for one tap. The lanes: whole panels of 4 vectors (2 on
    AVX2), a last panel of half as many where no more than half a panel is left; col2im's
    result is the definition's."""
    lanes = {"avx512": 64, "avx2": 16}.get(_cpu.tiled_isa())
    if lanes is None:
        pytest.skip("no tiled kernel on this CPU")
    channels = (1, lanes // 2, lanes // 2 + 1, lanes, 5 * lanes // 4)
    assert [_plan.tiled_lanes(c, 4) for c in channels] == [
        lanes // 2, lanes // 2, lanes, lanes, 3 * lanes // 2]
    assert _plan.tiled_lanes(2 * lanes, 8) == 4 * (lanes // 2)

    def g(cin, cout, k=5, n=16, m=200):
        return transpose_geometry((n, m, cin), (k, cout, cin), (n, m, cout), 1, 1, "SAME", "NWC")

    taken = [g(256, 80), g(512, 35, k=3), g(96, 44, k=2)]
    kept = [g(256, 96), g(256, 160), g(64, 35), g(256, 35, k=1)]
    for geo in taken + kept:
        assert _plan._tiles_wasteful(geo, 4) == (_plan.SKINNY and geo in taken), geo
        if _cpu.tiled_isa() == "avx512":   # (AVX2's tiles take fewer taps x inputs: other rules)
            want = "col2im" if _plan.SKINNY and geo in taken else "tiled"
            assert _plan.choose("transpose", geo, 4) == want, geo
    rng = np.random.default_rng(17)
    geo = g(256, 80, n=2, m=60)
    x = random_array(rng, (2, 60, 256), np.float32)
    f = random_array(rng, (5, 80, 256), np.float32)
    want, bound = family_oracle("transpose", x, f, geo)
    assert_family_matches(conv1dt.conv1d_transpose(x, f, [2, 60, 80], 1), want, bound, 5 * 256)
