"""conv1dt.dask.conv1d_transpose: Dask arrays in random chunkings against the in-memory result,
on the threaded scheduler and on a dask.distributed LocalCluster of two worker processes.

Oracles: the in-memory ``conv1dt.conv1d_transpose`` of the same call (tolerance ``2 gamma_n B``
from overlap_add.py, or exact equality where the summation cannot round), and
``conv1dt.reference`` for one case.
"""
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1dt
from conftest import (
    accepted_widths,
    assert_family_matches,
    explicit,
    family_oracle,
    signal_shape,
    transpose_terms,
)
from conv1dt._geometry import transpose_geometry
from overlap_add import DTYPES, assert_close_to_oneshot, operands, random_split

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
import conv1dt.dask  # noqa: E402  (after the skip: it needs dask)

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each on 127.0.0.1, no dashboard."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def chunked(x, batch_chunks, width_chunks, data_format):
    """``x`` as a Dask array with these chunks along the batch and the width (one along the
    channels)."""
    c = x.shape[2 if data_format == "NWC" else 1]
    chunks = (batch_chunks, width_chunks, c) if data_format == "NWC" else (batch_chunks, c, width_chunks)
    return da.from_array(x, chunks=chunks)


@st.composite
def dask_cases(draw):
    groups = draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["SAME", "VALID", (0, 0), (2, 1), (0, 5), (4, 0)]))
    taps, s, d, width = (draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(st.integers(1, 3)),
                         draw(st.integers(0, 30)))
    widths = list(accepted_widths(width, taps, s, d, padding))
    wide = draw(st.sampled_from(widths)) if widths else None
    return dict(
        dtype=draw(st.sampled_from(DTYPES)), data_format=draw(st.sampled_from(["NWC", "NCW"])),
        n=draw(st.integers(1, 3)), width=width, groups=groups, cin=groups * draw(st.integers(1, 2)),
        cout_g=draw(st.integers(1, 3)), taps=taps, s=s, d=d, padding=padding, wide=wide,
        seed=draw(st.integers(0, 2**32 - 1)))


def check_case(case, scheduler):
    """Compute one random case in random chunks; compare with the in-memory call."""
    if case["wide"] is None:   # explicit padding that crops more than there is
        return
    rng = np.random.default_rng(case["seed"])
    fmt, s, d, groups = case["data_format"], case["s"], case["d"], case["groups"]
    x, f = operands(rng, case["n"], case["width"], case["cin"], case["cout_g"], case["taps"],
                    case["dtype"], fmt)
    shape = list(signal_shape(case["n"], case["wide"], case["cout_g"] * groups, fmt))
    padding = explicit(case["padding"], fmt)
    want = conv1dt.conv1d_transpose(x, f, shape, s, padding, fmt, d, groups=groups)
    xd = chunked(x, tuple(v for v in random_split(rng, case["n"], 2) if v) or (0,),
                 tuple(random_split(rng, case["width"], 8)), fmt)
    y = conv1dt.dask.conv1d_transpose(xd, f, shape, s, padding, fmt, d, groups=groups)
    assert y.shape == want.shape and y.dtype == want.dtype
    got = y.compute(scheduler=scheduler)
    assert_close_to_oneshot(got, want, x, f, shape, s, padding, fmt, d, groups, str(case))


@settings(max_examples=200, deadline=None)
@given(dask_cases())
def test_random_chunks_threaded(case):
    check_case(case, "threads")


@settings(max_examples=60, deadline=None)
@given(dask_cases())
def test_random_chunks_on_a_cluster(client, case):
    check_case(case, client)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_integer_data_is_exact_on_a_cluster(client, dtype, data_format):
    """Integer data in -3..3 (partial sums exact integers below 2**11, see test_stream.py): the
    chunked result equals the in-memory one to the bit, for every padding, with chunks of one
    sample (narrower than the filter, so an output chunk gathers several input chunks)."""
    rng = np.random.default_rng(1)
    s, d, taps, groups, width = 2, 2, 4, 2, 13
    x, f = operands(rng, 3, width, 2 * groups, 2, taps, dtype, data_format, integers=True)
    ys, wants = [], []
    for padding in ["SAME", "VALID", (3, 2), (0, 4)]:
        for wide in accepted_widths(width, taps, s, d, padding):
            shape = list(signal_shape(3, wide, 2 * groups, data_format))
            pad = explicit(padding, data_format)
            wants.append(conv1dt.conv1d_transpose(x, f, shape, s, pad, data_format, d, groups=groups))
            for width_chunks in [(1,) * width, (5, 0, 3, 5)]:
                xd = chunked(x, (2, 1), width_chunks, data_format)
                ys.append(conv1dt.dask.conv1d_transpose(xd, f, shape, s, pad, data_format, d,
                                                        groups=groups))
    got = client.compute(ys, sync=True)
    for y, want in zip(got, [w for w in wants for _ in range(2)]):
        np.testing.assert_array_equal(y, want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_product_per_output_is_exact(dtype):
    """``s >= Keff`` with one input channel per group: one product per output, to the bit."""
    rng = np.random.default_rng(2)
    x, f = operands(rng, 2, 19, 2, 3, 2, dtype, "NWC")
    for padding, wide in [("SAME", 19 * 4), ("VALID", 18 * 4 + 3), ((1, 3), 18 * 4 - 1)]:
        pad = explicit(padding, "NWC")
        want = conv1dt.conv1d_transpose(x, f, [2, wide, 6], 4, pad, dilations=2, groups=2)
        y = conv1dt.dask.conv1d_transpose(chunked(x, 1, (4, 1, 0, 9, 5), "NWC"), f, [2, wide, 6], 4,
                                          pad, dilations=2, groups=2)
        np.testing.assert_array_equal(y.compute(scheduler="threads"), want)


def test_against_reference():
    """Against ``conv1dt.reference`` in float64, conftest's bound (the products of one output)."""
    rng = np.random.default_rng(4)
    x, f = operands(rng, 2, 29, 3, 2, 5, np.float32, "NCW")
    shape = [2, 2, 29 * 3]
    g = transpose_geometry(x.shape, f.shape, shape, 3, 2, "SAME", "NCW")
    want, bound = family_oracle("transpose", x, f, g, "NCW")
    y = conv1dt.dask.conv1d_transpose(chunked(x, 1, (1, 2, 3, 20, 3), "NCW"), f, shape, 3, "SAME",
                                      "NCW", dilations=2)
    assert_family_matches(y.compute(scheduler="threads"), want, bound, transpose_terms(g),
                          "dask against the reference")


def test_output_chunks_and_their_inputs():
    """Output chunk ``j`` starts at ``s*a_j - pad_before`` (clipped, the first at 0, the last
    ending at L); it is computed from the input chunks that reach it alone: the others may
    fail without it noticing."""
    rng = np.random.default_rng(6)
    s, taps = 2, 5                                      # Keff - s = 3: a stamp spans 2 chunks of 1
    x, f = operands(rng, 1, 12, 1, 1, taps, np.float64, "NWC")
    width_chunks = (4, 1, 1, 1, 5)                      # starts 0, 4, 5, 6, 7
    shape = [1, 24, 1]                                  # SAME, pad_before = (11*2 + 5 - 24) // 2 = 1
    y = conv1dt.dask.conv1d_transpose(chunked(x, 1, width_chunks, "NWC"), f, shape, s)
    assert y.chunks == ((1,), (7, 2, 2, 2, 11), (1,))
    assert conv1dt.dask.output_chunks(width_chunks, s, 1, 24) == (7, 2, 2, 2, 11)

    def poisoned(bad):
        """x with input chunk ``bad`` replaced by a task that fails."""
        def fail():
            raise RuntimeError(f"input chunk {bad} was computed")
        blocks = [da.from_array(x[:, a:a + b], chunks=-1)
                  for a, b in zip(np.cumsum((0,) + width_chunks), width_chunks)]
        blocks[bad] = da.from_delayed(dask.delayed(fail)(), (1, width_chunks[bad], 1), x.dtype)
        return da.concatenate(blocks, axis=1)

    want = conv1dt.conv1d_transpose(x, f, shape, s)
    # Output chunk 3 is outputs 11..12, the full result's samples 12..13 (pad_before = 1),
    # reached by the inputs i with 2i <= 13 and 2i + 4 >= 12 (q = 2i + k, k < 5): i = 4, 5, 6,
    # in input chunks 1, 2 and 3; not 0 or 4.
    for bad in (0, 4):
        y = conv1dt.dask.conv1d_transpose(poisoned(bad), f, shape, s)
        np.testing.assert_allclose(y.blocks[:, 3].compute(scheduler="sync"), want[:, 11:13],
                                   rtol=1e-14, atol=1e-14)
    for bad in (1, 2, 3):
        y = conv1dt.dask.conv1d_transpose(poisoned(bad), f, shape, s)
        with pytest.raises(RuntimeError, match=f"input chunk {bad} was computed"):
            y.blocks[:, 3].compute(scheduler="sync")


def test_numpy_input_and_chunked_channels():
    """A NumPy array is wrapped in automatic chunks; chunks along the channels are joined."""
    rng = np.random.default_rng(8)
    x, f = operands(rng, 2, 10, 4, 3, 3, np.float64, "NWC", integers=True)
    want = conv1dt.conv1d_transpose(x, f, [2, 20, 3], 2)
    np.testing.assert_array_equal(conv1dt.dask.conv1d_transpose(x, f, [2, 20, 3], 2).compute(), want)
    xd = da.from_array(x, chunks=(1, 3, 2))
    y = conv1dt.dask.conv1d_transpose(xd, f, [2, 20, 3], 2)
    assert y.chunks[2] == (3,)
    np.testing.assert_array_equal(y.compute(scheduler="threads"), want)


X = da.zeros((2, 5, 3), chunks=(1, 2, 3), dtype=np.float32)
F = np.zeros((4, 6, 3), np.float32)
ERRORS = [
    (dict(output_shape=[2, 8, 6]), ValueError, r"output_shape\[1\] is 8, but an input of width 5 with stride 2.*SAME padding gives widths 9\.\.10"),
    (dict(output_shape=[3, 10, 6]), ValueError, r"output_shape\[0\] is 3, but input has batch size 2"),
    (dict(padding="same"), ValueError, r"padding must be 'SAME' or 'VALID'"),
    (dict(strides=0), ValueError, r"strides must be positive"),
    (dict(data_format="NCHW"), ValueError, r"data_format must be 'NWC' or 'NCW'"),
    (dict(groups=2), ValueError, r"which groups=2 does not divide"),
    (dict(input=da.zeros((2, 5), chunks=2)), ValueError, r"input must be 3-D, got shape \(2, 5\)"),
    (dict(filters=np.zeros((4, 6, 2), np.float32)), ValueError, r"filters\.shape\[2\] \(in_channels\) is 2, but input has 3 channels"),
    (dict(filters=F.astype(np.float64)), TypeError, r"input and filters must have the same dtype, got float32 and float64"),
    (dict(input=X.astype(np.int32)), TypeError, r"input must have dtype float16, float32"),
    (dict(input=X[X[:, 0, 0] > 0]), ValueError, r"input must have known chunk sizes.*compute_chunk_sizes"),
]


@pytest.mark.parametrize("overrides, error, message", ERRORS)
def test_refusals(overrides, error, message):
    """The refusals of conv1dt.conv1d_transpose, raised when the graph is built."""
    kwargs = dict(input=X, filters=F, output_shape=[2, 10, 6], strides=2)
    kwargs.update(overrides)
    with pytest.raises(error, match=message):
        conv1dt.dask.conv1d_transpose(**kwargs)


def test_conv1dt_imports_without_dask_and_conv1dt_dask_names_the_extra():
    code = (
        "import sys\n"
        "sys.modules['dask'] = None\n"
        "import conv1dt\n"
        "assert conv1dt.Conv1DTransposeStream\n"
        "try:\n"
        "    import conv1dt.dask\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    # run where the conv1dt under test was imported from (a checkout built in place, or
    # site-packages when testing an installed wheel or sdist): `-c` puts the cwd first on sys.path
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=pathlib.Path(conv1dt.__file__).resolve().parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'conv1dt[dask]'" in proc.stdout
