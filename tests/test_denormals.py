"""Opt-in flush-to-zero: subnormal operands and results become zeros while it is on, in every
kernel and on every thread of the call; IEEE arithmetic, exactly, when it is off (the default),
and everywhere outside conv1dt's calls.

Data: float32 ``2**-140`` (a subnormal; the grid there is ``2**-149``) times small integers, so
every product and sum is exact in IEEE arithmetic and the float64 reference, rounded, is the
IEEE answer bit for bit."""
import numpy as np
import pytest

import conv1dt
from conv1dt import reference
from conv1dt._geometry import conv1d_geometry, transpose_geometry

TINY = {np.float32: 2.0**-140, np.float64: 2.0**-1060}


def operands(dtype, shape_x, shape_f, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.integers(-3, 4, shape_x) * TINY[dtype]).astype(dtype)
    f = rng.integers(-3, 4, shape_f).astype(dtype)
    assert np.count_nonzero(x) and np.all(np.abs(x[x != 0]) < np.finfo(dtype).tiny)
    return x, f


# small (one thread) and large (two threads, several kernels) calls of each op
CASES = [(1, 16, 2, 2, 3, 2), (2, 4096, 4, 4, 8, 2), (2, 2048, 32, 32, 5, 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_flushing_gives_zeros_and_ieee_is_exact(case, dtype):
    n, m, cin, cout, k, s = case
    x, f = operands(dtype, (n, m, cin), (k, cout, cin))
    shape = [n, m * s, cout]
    g = transpose_geometry(x.shape, f.shape, shape, s, 1, "SAME", "NWC")
    want = reference.conv1d_transpose(x.astype(np.float64), f.astype(np.float64), g)
    assert np.count_nonzero(want), "the IEEE result must hold subnormals"
    try:
        conv1dt.set_num_threads(2)
        ieee = conv1dt.conv1d_transpose(x, f, shape, s)
        with conv1dt.flush_denormals():
            flushed = conv1dt.conv1d_transpose(x, f, shape, s)
            z = conv1dt.conv1d(ieee, f, s)          # a subnormal input of conv1d
            df = conv1dt.conv1d_backprop_filter(ieee, f.shape, x, s)
        again = conv1dt.conv1d_transpose(x, f, shape, s)
    finally:
        conv1dt.set_num_threads(None)
    np.testing.assert_array_equal(ieee, want.astype(dtype))        # IEEE, exactly
    assert not flushed.any() and not z.any() and not df.any()      # flushed everywhere
    np.testing.assert_array_equal(again, ieee)                     # restored after the block
    # and NumPy on this thread kept IEEE arithmetic throughout
    assert dtype(TINY[dtype]) * dtype(2) != 0


def test_flushing_is_opt_in_and_restored():
    x = np.full((1, 1, 1), 1e-20, np.float32)
    gz = conv1d_geometry(x.shape, x.shape, 1, 1, "SAME", "NWC")
    want = reference.conv1d(x.astype(np.float64), x.astype(np.float64), gz).astype(np.float32)
    assert want[0, 0, 0] != 0 and abs(want[0, 0, 0]) < np.finfo(np.float32).tiny
    np.testing.assert_array_equal(conv1dt.conv1d(x, x, 1), want)       # default: IEEE
    assert conv1dt.set_flush_denormals(True) is False
    try:
        assert conv1dt.conv1d(x, x, 1)[0, 0, 0] == 0
        with conv1dt.flush_denormals(False):
            np.testing.assert_array_equal(conv1dt.conv1d(x, x, 1), want)
        assert conv1dt.conv1d(x, x, 1)[0, 0, 0] == 0
    finally:
        assert conv1dt.set_flush_denormals(False) is True
    np.testing.assert_array_equal(conv1dt.conv1d(x, x, 1), want)


def test_complex_and_the_stream_flush_too():
    x = np.full((1, 2, 1), 1e-20 + 1e-20j, np.complex64)
    f = np.full((1, 1, 1), 1e-20 - 1e-20j, np.complex64)
    with conv1dt.flush_denormals():
        assert not conv1dt.conv1d_transpose(x, f, [1, 2, 1], 1).any()
        stream = conv1dt.Conv1DTransposeStream(f, 1)
        assert not stream.push(x).any()
    assert conv1dt.conv1d_transpose(x, f, [1, 2, 1], 1).all()


def test_the_setting_must_be_a_bool():
    with pytest.raises(TypeError, match="enabled must be True or False"):
        conv1dt.set_flush_denormals(1)
