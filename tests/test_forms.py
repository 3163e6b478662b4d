"""TensorFlow's other forms of a call: leading batch dimensions and conv1d's implicit groups.

Oracles: ``conv1dt.reference`` (the definition) through the geometry of the equivalent plain
call, slice by slice over the leading dimensions; and for the filter gradient, the sum of the
per-slice gradients (the leading dimensions are batch dimensions, summed over like the batch).
Tolerance: float64 against the float64 reference, ``1e-12`` relative to the magnitude sum is far
above the ``n * eps`` of these short sums (at most 12 products).
"""
import numpy as np
import pytest

import conv1dt
from conv1dt import reference
from conv1dt._geometry import conv1d_geometry, transpose_geometry


def nwc(a, fmt):
    return a if fmt == "NWC" else np.swapaxes(a, -1, -2)


@pytest.mark.parametrize("fmt", ["NWC", "NCW"])
@pytest.mark.parametrize("lead", [(2, 3), (1, 1, 2), (0, 2)])
def test_leading_dimensions_slice_by_slice(fmt, lead):
    rng = np.random.default_rng(len(lead) + (fmt == "NCW"))
    w_shape = lead + ((9, 4) if fmt == "NWC" else (4, 9))
    w = rng.standard_normal(w_shape)
    f = rng.standard_normal((3, 2, 6))                     # conv1d: [K, Cin/G, Cout], G = 2
    z = conv1dt.conv1d(w, f, 2, "SAME", fmt, groups=2)
    assert z.shape == lead + ((5, 6) if fmt == "NWC" else (6, 5))
    g = conv1d_geometry((1, 9, 4), f.shape, 2, 1, "SAME", "NWC", 2)
    for idx in np.ndindex(*lead):
        want = reference.conv1d(nwc(w[idx], fmt)[None], f, g)[0]
        np.testing.assert_allclose(nwc(z[idx], fmt), want, rtol=1e-12, atol=1e-12)
    # the transpose back onto w's shape, and the filter gradient summed over the leading axes
    y = conv1dt.conv1d_transpose(z, f, w.shape, 2, "SAME", fmt, groups=2)
    assert y.shape == w.shape
    df = conv1dt.conv1d_backprop_filter(w, f.shape, z, 2, "SAME", fmt, groups=2)
    want_df = np.zeros_like(f)
    for idx in np.ndindex(*lead):
        y_want = reference.conv1d_transpose(nwc(z[idx], fmt)[None], f, g)[0]
        np.testing.assert_allclose(nwc(y[idx], fmt), y_want, rtol=1e-12, atol=1e-12)
        want_df += reference.conv1d_backprop_filter(nwc(w[idx], fmt)[None],
                                                    nwc(z[idx], fmt)[None], g)
    np.testing.assert_allclose(df, want_df, rtol=1e-12, atol=1e-12)


def test_leading_dimensions_keep_dtype_and_accept_lists():
    x = np.ones((2, 2, 3, 1), np.float32)
    f = np.ones((2, 1, 1), np.float32)
    y = conv1dt.conv1d_transpose(x, f, (2, 2, 6, 1), 2)
    assert y.dtype == np.float32 and y.shape == (2, 2, 6, 1)
    z = conv1dt.conv1d(x.tolist(), f, 1, "VALID")
    assert z.dtype == np.float32 and z.shape == (2, 2, 2, 1)


@pytest.mark.parametrize("kwargs, match", [
    (dict(output_shape=[2, 10, 6]), r"input must be 3-D, or of rank r > 3 with output_shape of r elements"),
    (dict(output_shape=[3, 2, 10, 6]), r"output_shape\[:2\] is \[3, 2\], but input has leading \(batch\) dimensions \[2, 2\]"),
    (dict(output_shape=[2, 2, 12, 6]), r"output_shape\[2\] is 12, but an input of width 5"),
    (dict(filters=np.zeros((4, 6, 2))), r"filters\.shape\[2\] \(in_channels\) is 2, but input has 3 channels \(input\.shape\[3\] for"),
])
def test_leading_dimension_errors(kwargs, match):
    args = dict(input=np.zeros((2, 2, 5, 3)), filters=np.zeros((4, 6, 3)),
                output_shape=[2, 2, 10, 6], strides=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        conv1dt.conv1d_transpose(**args)


def test_backprop_filter_leading_mismatch():
    with pytest.raises(ValueError, match=r"out_backprop must have the leading \(batch\) dimensions of input"):
        conv1dt.conv1d_backprop_filter(np.zeros((2, 3, 8, 2)), [3, 2, 4], np.zeros((3, 2, 4, 4)), 2)


@pytest.mark.parametrize("fmt", ["NWC", "NCW"])
def test_implicit_groups_as_tf(fmt):
    """Filters reading 2 of the input's 6 channels: 3 groups, as tf.nn.conv1d infers them."""
    rng = np.random.default_rng(7)
    w = rng.standard_normal((2, 8, 6) if fmt == "NWC" else (2, 6, 8))
    f = rng.standard_normal((3, 2, 9))
    z = conv1dt.conv1d(w, f, 1, "VALID", fmt)
    g = conv1d_geometry((2, 8, 6), f.shape, 1, 1, "VALID", "NWC", 3)
    np.testing.assert_allclose(nwc(z, fmt), reference.conv1d(nwc(w, fmt), f, g),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(z, conv1dt.conv1d(w, f, 1, "VALID", fmt, groups=3))


def test_implicit_groups_errors_and_explicit_groups_unchanged():
    w = np.zeros((1, 8, 6))
    with pytest.raises(ValueError, match=r"filters\.shape\[2\] \(out_channels\) is 4, which the 3 groups implied"):
        conv1dt.conv1d(w, np.zeros((3, 2, 4)), 1)
    with pytest.raises(ValueError, match=r"filters\.shape\[1\] \(in_channels\) is 4, but input has 6 channels"):
        conv1dt.conv1d(w, np.zeros((3, 4, 4)), 1)
    # explicit groups are not second-guessed
    with pytest.raises(ValueError, match=r"in_channels per group\) is 2, but input has 6 channels, 3 in each of groups=2"):
        conv1dt.conv1d(w, np.zeros((3, 2, 6)), 1, groups=2)


def test_plain_calls_unchanged():
    """A rank-3 call with matching channels goes through as before (a transpose geometry)."""
    x, f = np.ones((1, 5, 3)), np.ones((4, 6, 3))
    g = transpose_geometry(x.shape, f.shape, (1, 10, 6), 2, 1, "SAME", "NWC")
    np.testing.assert_array_equal(conv1dt.conv1d_transpose(x, f, [1, 10, 6], 2),
                                  reference.conv1d_transpose(x, f, g))
