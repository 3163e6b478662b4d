"""Odd but valid inputs give the reference answer; inputs are never modified."""
import numpy as np
import pytest

import conv1dt
from conftest import assert_matches, oracle, random_operands, terms_per_output

S, PAD = 3, "SAME"


def expected(x, f, shape, data_format="NWC"):
    """The call on clean C-contiguous native copies: layout must not change a single bit."""
    return conv1dt.conv1d_transpose(np.array(x), np.array(f), shape, S, PAD, data_format)


def _skewed(a):
    """A C-contiguous copy of ``a`` whose data starts one byte past an aligned address (the
    kernels read through pointers typed as aligned, so conv1dt must copy it first)."""
    v = np.empty(a.nbytes + 1, np.uint8)[1:].view(a.dtype).reshape(a.shape)
    v[...] = a
    assert not v.flags.aligned
    return v


def test_misaligned_operands_are_copied_to_aligned_memory(operands):
    """What reaches the kernels is aligned: a misaligned operand is copied (the kernels read
    through C pointers of the element type); an aligned one is passed as it is."""
    from conv1dt._args import c_array
    x, _ = operands
    skewed = _skewed(x)
    got = c_array(skewed)
    assert got.flags.aligned and got.flags.c_contiguous
    np.testing.assert_array_equal(got, x)
    assert c_array(x) is x


@pytest.fixture
def operands(rng):
    return random_operands(rng, 2, 9, 4, 3, 5, np.float64)


def test_clean_call_matches_reference(operands):
    x, f = operands
    y = conv1dt.conv1d_transpose(x, f, [2, 27, 3], S)
    y64, bound = oracle(x, f, [2, 27, 3], S)
    assert_matches(y, y64, bound, terms_per_output(f.shape, S), np.float64)


@pytest.mark.parametrize("view", [
    lambda a: a[:, ::2, :],                          # non-contiguous
    lambda a: a[:, ::-1, :],                         # negative stride
    lambda a: a[::-1, :, ::-1],
    lambda a: np.asfortranarray(a),                  # Fortran order
    lambda a: a.astype(a.dtype.newbyteorder(">")),   # big-endian
    lambda a: np.lib.stride_tricks.as_strided(a, a.shape, a.strides, writeable=False),  # read-only
    _skewed,                                         # one byte past an aligned address
], ids=["step2", "reversed", "reversed2", "fortran", "bigendian", "readonly", "misaligned"])
def test_memory_layouts(view, operands):
    x, f = operands
    xv, fv = view(x), view(f)
    wide = (xv.shape[1] - 1) * S + 1
    shape = [xv.shape[0], wide, fv.shape[1]]
    got = conv1dt.conv1d_transpose(xv, fv, shape, S)
    np.testing.assert_array_equal(got, expected(xv, fv, shape))
    y64, bound = oracle(xv, fv, shape, S)
    assert_matches(got, y64, bound, terms_per_output(fv.shape, S), np.float64)


def test_ncw_views(operands):
    x, f = operands
    x_ncw = np.transpose(x, (0, 2, 1))  # a non-contiguous view in NCW
    got = conv1dt.conv1d_transpose(x_ncw, f, [2, 3, 27], S, data_format="NCW")
    want = conv1dt.conv1d_transpose(x, f, [2, 27, 3], S)
    np.testing.assert_array_equal(got, want.transpose(0, 2, 1))
    assert got.flags.c_contiguous


def test_python_lists_and_shape_forms(operands):
    x, f = operands
    want = expected(x, f, [2, 27, 3])
    for shape in ([2, 27, 3], (2, 27, 3), np.array([2, 27, 3], np.int32),
                  np.array([2, 27, 3], np.uint8), [np.int64(2), np.int16(27), 3]):
        np.testing.assert_array_equal(conv1dt.conv1d_transpose(x, f, shape, S), want)
    np.testing.assert_array_equal(conv1dt.conv1d_transpose(x.tolist(), f.tolist(), [2, 27, 3], S), want)
    for strides in (S, [S], (1, S, 1), np.array([1, S, 1]), np.int8(S)):
        np.testing.assert_array_equal(conv1dt.conv1d_transpose(x, f, [2, 27, 3], strides), want)
    for dilations in (None, 1, [1], [1, 1, 1]):
        np.testing.assert_array_equal(
            conv1dt.conv1d_transpose(x, f, [2, 27, 3], S, dilations=dilations), want)
    assert conv1dt.conv1d_transpose(x, f, [2, 27, 3], S, data_format=None, name="op").shape == (2, 27, 3)


def test_a_list_takes_the_dtype_of_the_array_beside_it(operands):
    x, f = operands
    f32 = f.astype(np.float32)
    y = conv1dt.conv1d_transpose(x.astype(np.float32).tolist(), f32, [2, 27, 3], S)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, conv1dt.conv1d_transpose(x.astype(np.float32), f32, [2, 27, 3], S))


def test_inputs_are_never_modified(operands):
    x, f = operands
    for a, b in ((x, f), (x.astype(np.float16), f.astype(np.float16)),
                 (np.transpose(x, (0, 2, 1)), f)):
        fmt = "NCW" if a.shape[1] == 4 else "NWC"
        shape = [2, 27, 3] if fmt == "NWC" else [2, 3, 27]
        a0, b0 = a.copy(), b.copy()
        y = conv1dt.conv1d_transpose(a, b, shape, S, data_format=fmt)
        np.testing.assert_array_equal(a, a0)
        np.testing.assert_array_equal(b, b0)
        assert not np.shares_memory(y, a) and not np.shares_memory(y, b)


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_empty_operands_give_zeros(padding, data_format):
    def shaped(n, w, c):
        return (n, w, c) if data_format == "NWC" else (n, c, w)
    f = np.ones((3, 2, 4))
    # N = 0
    wide = 10 if padding == "SAME" else 11
    y = conv1dt.conv1d_transpose(np.ones(shaped(0, 5, 4)), f, shaped(0, wide, 2), 2, padding, data_format)
    assert y.shape == shaped(0, wide, 2)
    # W = 0: SAME accepts only width 0; VALID accepts Keff - s .. Keff - 1
    widths = [0] if padding == "SAME" else [1, 2]
    for wide in widths:
        y = conv1dt.conv1d_transpose(np.ones(shaped(1, 0, 4)), f, shaped(1, wide, 2), 2, padding, data_format)
        np.testing.assert_array_equal(y, np.zeros(shaped(1, wide, 2)))
    # Cin = 0: empty sums are zero; Cout = 0: an empty result
    y = conv1dt.conv1d_transpose(np.ones(shaped(1, 5, 0)), np.ones((3, 2, 0)), shaped(1, 10, 2), 2, "SAME", data_format)
    np.testing.assert_array_equal(y, np.zeros(shaped(1, 10, 2)))
    y = conv1dt.conv1d_transpose(np.ones(shaped(1, 5, 4)), np.ones((3, 0, 4)), shaped(1, 10, 0), 2, "SAME", data_format)
    assert y.shape == shaped(1, 10, 0)


def test_nan_and_inf_propagate_as_in_the_reference(operands):
    x, f = operands
    x = x.copy()
    x[0, 2, 1] = np.nan
    x[1, 4, 0] = np.inf
    x[1, 5, 0] = -np.inf
    y = conv1dt.conv1d_transpose(x, f, [2, 27, 3], S)
    with np.errstate(invalid="ignore"):
        y64, _ = oracle(x, f, [2, 27, 3], S)
    assert np.isnan(y).any() and np.isinf(y).any()
    np.testing.assert_array_equal(np.isnan(y), np.isnan(y64))
    finite = np.isfinite(y64)
    np.testing.assert_array_equal(y[~finite & ~np.isnan(y64)], y64[~finite & ~np.isnan(y64)])
    np.testing.assert_allclose(y[finite], y64[finite], rtol=1e-12, atol=1e-12)
