"""Conv1DTransposeStream: the pushes and the flush, concatenated, against the one-shot full result.

Oracles: the in-memory ``conv1dt.conv1d_transpose`` at the full VALID width (tolerance
``2 gamma_n B`` from overlap_add.py, or exact equality where the summation cannot round), and
``conv1dt.reference`` for two cases.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1dt
from conftest import assert_family_matches, family_oracle, transpose_terms
from conv1dt._geometry import transpose_geometry
from overlap_add import DTYPES, assert_close_to_oneshot, full_shape, operands, random_split


def run_stream(x, f, blocks, s, d=1, data_format="NWC", groups=1):
    """``(pushes, flush)``: what the stream returns for ``x`` cut into ``blocks``."""
    stream = conv1dt.Conv1DTransposeStream(f, s, d, data_format, groups)
    w_ax, pos, pushes = (1 if data_format == "NWC" else 2), 0, []
    for b in blocks:
        pushes.append(stream.push(np.take(x, range(pos, pos + b), axis=w_ax)))
        pos += b
    return pushes, stream.flush()


def streamed(x, f, blocks, s, d=1, data_format="NWC", groups=1):
    pushes, rest = run_stream(x, f, blocks, s, d, data_format, groups)
    return np.concatenate(pushes + [rest], axis=1 if data_format == "NWC" else 2)


def oneshot(x, f, s, d=1, data_format="NWC", groups=1):
    """The full VALID result of the whole signal, and its ``output_shape``."""
    w_ax, c_ax = (1, 2) if data_format == "NWC" else (2, 1)
    shape = full_shape(x.shape[0], x.shape[w_ax], f.shape[1] * groups, f.shape[0], s, d, data_format)
    return conv1dt.conv1d_transpose(x, f, shape, s, "VALID", data_format, d, groups=groups), shape


@st.composite
def stream_cases(draw):
    groups = draw(st.integers(1, 3))
    return dict(
        dtype=draw(st.sampled_from(DTYPES)), data_format=draw(st.sampled_from(["NWC", "NCW"])),
        n=draw(st.integers(0, 3)), width=draw(st.integers(1, 40)), groups=groups,
        cin=groups * draw(st.integers(1, 3)), cout_g=draw(st.integers(1, 3)),
        taps=draw(st.integers(1, 7)), s=draw(st.integers(1, 5)), d=draw(st.integers(1, 3)),
        seed=draw(st.integers(0, 2**32 - 1)))


@settings(max_examples=300, deadline=None)
@given(stream_cases())
def test_random_blocks_match_oneshot(case):
    """Random blocks (some empty, some narrower than the filter), every dtype and layout,
    groups: within ``2 gamma_n B`` of the one-shot result (overlap_add.py)."""
    rng = np.random.default_rng(case["seed"])
    fmt, s, d, groups = case["data_format"], case["s"], case["d"], case["groups"]
    x, f = operands(rng, case["n"], case["width"], case["cin"], case["cout_g"], case["taps"],
                    case["dtype"], fmt)
    want, shape = oneshot(x, f, s, d, fmt, groups)
    got = streamed(x, f, random_split(rng, case["width"], most=8), s, d, fmt, groups)
    assert_close_to_oneshot(got, want, x, f, shape, s, "VALID", fmt, d, groups, str(case))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_integer_data_is_exact_and_each_push_is_final(dtype, data_format):
    """Integer data in -3..3: every partial sum is an integer below 2**11, exact in every dtype
    (float16 included) whatever the order, so the stream equals the one-shot result to the bit.
    After ``W`` samples the pushes have returned ``W*s`` samples (``(W-1)*s + Keff`` when
    ``s > Keff``), the first samples of the one-shot results of the whole signal and of its
    first ``W`` samples alike: no later input changes them."""
    rng = np.random.default_rng(7)
    for s, d, taps, groups in [(1, 1, 3, 1), (2, 1, 4, 2), (3, 2, 5, 1), (4, 1, 2, 1), (5, 1, 3, 3),
                               (2, 3, 6, 1)]:
        keff = (taps - 1) * d + 1
        x, f = operands(rng, 2, 23, 2 * groups, 2, taps, dtype, data_format, integers=True)
        w_ax = 1 if data_format == "NWC" else 2
        want, _ = oneshot(x, f, s, d, data_format, groups)
        blocks = random_split(rng, 23, most=8)
        pushes, rest = run_stream(x, f, blocks, s, d, data_format, groups)
        seen, done = 0, 0
        for b, out in zip(blocks, pushes):
            seen += b
            done += out.shape[w_ax]
            if seen:
                assert done == (seen * s if keff >= s else (seen - 1) * s + keff)
                prefix, _ = oneshot(np.take(x, range(seen), axis=w_ax), f, s, d, data_format, groups)
                head = np.take(prefix, range(done), axis=w_ax)
                np.testing.assert_array_equal(np.take(want, range(done), axis=w_ax), head)
            assert out.dtype == dtype and out.flags.c_contiguous
        got = np.concatenate(pushes + [rest], axis=w_ax)
        np.testing.assert_array_equal(got, want, err_msg=f"s={s} d={d} K={taps} G={groups}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_product_per_output_is_exact(dtype):
    """``s >= Keff`` and one input channel per group: each output is a single product (or zero),
    rounded once in any implementation, so random data streams to the bit."""
    rng = np.random.default_rng(3)
    for s, d, taps, groups in [(3, 1, 3, 1), (5, 2, 2, 2), (4, 1, 1, 3)]:
        x, f = operands(rng, 2, 17, groups, 2, taps, dtype, "NWC")
        want, _ = oneshot(x, f, s, d, groups=groups)
        got = streamed(x, f, random_split(rng, 17), s, d, groups=groups)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype, data_format, groups", [(np.float32, "NWC", 2), (np.complex64, "NCW", 1)])
def test_against_reference(dtype, data_format, groups):
    """Against ``conv1dt.reference`` in float64 (complex128): conftest's bound with ``n`` the
    products of one output (``2P`` real products per part for complex, see overlap_add.py)."""
    rng = np.random.default_rng(11)
    s, d, taps = 3, 2, 4
    x, f = operands(rng, 2, 31, 2 * groups, 3, taps, dtype, data_format)
    _, shape = oneshot(x, f, s, d, data_format, groups)
    g = transpose_geometry(x.shape, f.shape, shape, s, d, "VALID", data_format, groups)
    want, bound = family_oracle("transpose", x, f, g, data_format)
    got = streamed(x, f, [5, 0, 1, 1, 13, 2, 9], s, d, data_format, groups)
    n = transpose_terms(g) if np.dtype(dtype).kind != "c" else 2 * transpose_terms(g)
    assert_family_matches(got, want, bound, n, "stream against the reference")


def test_flush_returns_the_tail_and_starts_a_new_signal():
    """The flush is the tail, ``max(Keff - s, 0)`` samples (the stream's whole state); after it
    the stream takes a new signal, of another batch size too."""
    rng = np.random.default_rng(5)
    for s, taps, d in [(2, 5, 1), (1, 4, 2), (4, 3, 1), (3, 3, 1)]:
        f = rng.standard_normal((taps, 2, 3))
        stream = conv1dt.Conv1DTransposeStream(f, s, d)
        for n in (2, 1):
            x = rng.standard_normal((n, 9, 3))
            pushes = [stream.push(x[:, :4]), stream.push(x[:, 4:])]
            rest = stream.flush()
            assert rest.shape == (n, max((taps - 1) * d + 1 - s, 0), 2)
            want, shape = oneshot(x, f, s, d)
            assert_close_to_oneshot(np.concatenate(pushes + [rest], axis=1), want, x, f, shape, s,
                                    d=d)


def test_empty_signals_give_empty_results():
    f = np.ones((4, 2, 3), np.float32)
    stream = conv1dt.Conv1DTransposeStream(f, 2)
    assert stream.flush().shape == (0, 0, 2)                  # no block at all
    assert stream.push(np.zeros((5, 0, 3), np.float32)).shape == (5, 0, 2)
    assert stream.flush().shape == (5, 0, 2)                  # blocks, but no sample
    ncw = conv1dt.Conv1DTransposeStream(f, 2, data_format="NCW")
    assert ncw.push(np.zeros((5, 3, 0), np.float32)).shape == (5, 2, 0)


def test_results_are_independent_of_the_caller():
    """The stream copies the filters and returns arrays it does not keep: changing either
    afterwards changes nothing that follows."""
    rng = np.random.default_rng(9)
    f = rng.standard_normal((5, 2, 3))
    x = rng.standard_normal((2, 12, 3))
    want, _ = oneshot(x, f.copy(), 2)
    stream = conv1dt.Conv1DTransposeStream(f, 2)
    first = stream.push(x[:, :6])
    f[...] = 0
    first_copy = first.copy()
    first[...] = np.nan
    got = np.concatenate([first_copy, stream.push(x[:, 6:]), stream.flush()], axis=1)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())


def test_a_list_block_takes_the_filters_dtype():
    f = np.ones((2, 1, 1), np.float32)
    out = conv1dt.Conv1DTransposeStream(f, 1).push([[[1.0], [2.0]]])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0, :, 0], [1.0, 3.0])


F = np.zeros((4, 6, 3), np.float32)
CONSTRUCTOR_ERRORS = [
    (dict(filters=np.zeros((4, 6), np.float32)), ValueError, r"filters must be 3-D"),
    (dict(filters=np.zeros((0, 6, 3), np.float32)), ValueError, r"filters must have at least one tap"),
    (dict(filters=np.zeros((4, 6, 3), np.int32)), TypeError, r"filters must have dtype float16, float32"),
    (dict(strides=0), ValueError, r"strides must be positive, got 0"),
    (dict(strides=[2, 2, 1]), ValueError, r"strides must be 1 in the batch and channel dimensions"),
    (dict(dilations=1.5), ValueError, r"dilations must be an int or a list"),
    (dict(data_format="NHWC"), ValueError, r"data_format must be 'NWC' or 'NCW'"),
    (dict(groups=2), ValueError, r"filters\.shape\[2\] \(in_channels\) is 3, which groups=2 does not divide"),
    (dict(groups=0), ValueError, r"groups must be positive"),
]


@pytest.mark.parametrize("overrides, error, message", CONSTRUCTOR_ERRORS)
def test_constructor_refusals(overrides, error, message):
    kwargs = dict(filters=F, strides=2)
    kwargs.update(overrides)
    with pytest.raises(error, match=message):
        conv1dt.Conv1DTransposeStream(**kwargs)


PUSH_ERRORS = [
    (np.zeros((2, 5), np.float32), ValueError, r"block must be 3-D, got shape \(2, 5\)"),
    (np.zeros((2, 5, 4), np.float32), ValueError, r"block\.shape\[2\] \(in_channels\) is 4, but filters\.shape\[2\] \(in_channels\) is 3"),
    (np.zeros((2, 5, 3), np.float64), TypeError, r"block and filters must have the same dtype, got float64 and float32"),
    (np.zeros((2, 5, 3), np.int64), TypeError, r"block must have dtype"),
    (np.zeros((3, 5, 3), np.float32), ValueError, r"block\.shape\[0\] is 3, but the earlier blocks of this signal have batch size 2"),
]


@pytest.mark.parametrize("block, error, message", PUSH_ERRORS)
def test_push_refusals(block, error, message):
    stream = conv1dt.Conv1DTransposeStream(F, 2)
    stream.push(np.zeros((2, 1, 3), np.float32))
    with pytest.raises(error, match=message):
        stream.push(block)
    # a refused block leaves the stream as it was
    assert stream.push(np.zeros((2, 1, 3), np.float32)).shape == (2, 2, 6)
