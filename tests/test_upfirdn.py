"""conv1dt.upfirdn against scipy.signal.upfirdn, on SciPy's own test grid
(scipy/signal/tests/test_upfirdn.py: its cases rebuilt here, with SciPy itself as the oracle).

Oracles: ``scipy.signal.upfirdn`` (shape, dtype and values) and a naive NumPy upfirdn (zero
insertion, ``np.convolve``, keep every ``down``-th sample), which shares nothing with either.
Tolerance: each output is a sum of at most ``n = ceil(K / up)`` products, so two correct
results differ by at most about ``2 (n + 1) eps B`` with ``B`` the same sum over ``|h|`` and
``|x|`` (the naive oracle on magnitudes, in float64); complex parts have twice the terms.
"""
from itertools import product

import numpy as np
import pytest
from scipy import signal

import conv1dt
from conv1dt import _upfirdn

DTYPES = ("int64", "float32", "complex64", "float64", "complex128")


def naive(x, h, up, down):
    """Naive upfirdn of a 1-D ``x``: zeros inserted, full convolution, every down-th kept."""
    xu = np.zeros(len(x) * up, np.result_type(x, h, np.float64))
    xu[::up] = x
    full = np.convolve(h, xu)[: (len(x) - 1) * up + len(h)]
    return full[::down]


def naive_nd(h, x, up, down, axis):
    return np.apply_along_axis(naive, axis, x.astype(np.complex128 if np.iscomplexobj(x)
                                                     else np.float64), h, up, down)


def check(h, x, up=1, down=1, axis=-1, mode="constant", cval=0):
    """Shape and dtype equal to SciPy's; values within the bound of both SciPy and the naive
    oracle (for mode="constant", cval=0)."""
    h, x = np.asarray(h), np.asarray(x)
    want = signal.upfirdn(h, x, up, down, axis, mode, cval)
    got = conv1dt.upfirdn(h, x, up, down, axis, mode, cval)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.dtype)
    eps = np.finfo(got.dtype).eps
    n = 2 * (-(-h.size // up) + 1) + (2 if got.dtype.kind == "c" else 0)
    if mode == "constant" and cval == 0 and x.size:
        bound = naive_nd(np.abs(h).astype(float), np.abs(x).astype(float), up, down, axis)
        ref = naive_nd(h, x, up, down, axis)
        assert ref.shape == got.shape
        tol = 2 * n * eps * bound + np.finfo(got.dtype).tiny
        assert np.all(np.abs(got - ref) <= tol)
    else:
        bound = np.abs(want).max(initial=0) + abs(cval) * np.abs(h).sum() + 1
        tol = 4 * n * eps * bound * np.abs(h).sum()
    assert np.all(np.abs(got - want) <= 2 * tol), np.abs(got - want).max()
    return got


def test_valid_input():
    with pytest.raises(ValueError, match="up and down must be >= 1"):
        conv1dt.upfirdn([1], [1], 1, 0)
    with pytest.raises(ValueError, match="h must be 1-D with non-zero length"):
        conv1dt.upfirdn([], [1], 1, 1)
    with pytest.raises(ValueError, match="h must be 1-D with non-zero length"):
        conv1dt.upfirdn([[1]], [1], 1, 1)
    with pytest.raises(IndexError):                      # as SciPy: an IndexError
        conv1dt.upfirdn([1, 2], np.zeros(3), axis=1)
    with pytest.raises(np.exceptions.AxisError):
        conv1dt.upfirdn([1, 2], np.float64(3))
    with pytest.raises(ValueError, match="SciPy's own"):
        conv1dt.upfirdn([1, 2], np.zeros(3), mode="smooth")
    with pytest.raises(ValueError, match="mode must be one of"):
        conv1dt.upfirdn([1, 2], np.zeros(3), mode="foo")
    with pytest.raises(TypeError, match="longdouble|float128|float96"):
        conv1dt.upfirdn(np.ones(2, np.longdouble), np.zeros(3))


@pytest.mark.parametrize("len_h", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("len_x", [1, 2, 3, 4, 5])
def test_singleton(len_h, len_x):
    h = np.zeros(len_h)
    h[len_h // 2] = 1.0
    x = np.ones(len_x)
    y = check(h, x, 1, 1)
    np.testing.assert_array_equal(y, np.pad(x, (len_h // 2, (len_h - 1) // 2)))


def test_shift_x():
    np.testing.assert_array_equal(check([1, 1], [1.0]), [1.0, 1.0])
    np.testing.assert_array_equal(check([1, 1], [0.0, 1.0]), [0.0, 1.0, 1.0])


@pytest.mark.parametrize("len_h, len_x, up, down, expected", [   # SciPy's, from MATLAB
    (2, 2, 5, 2, [1, 0, 0, 0]),
    (2, 3, 6, 3, [1, 0, 1, 0, 1]),
    (2, 4, 4, 3, [1, 0, 0, 0, 1]),
    (3, 2, 6, 2, [1, 0, 0, 1, 0]),
    (4, 11, 3, 5, [1, 0, 0, 1, 0, 0, 1]),
])
def test_length_factors(len_h, len_x, up, down, expected):
    h = np.zeros(len_h)
    h[0] = 1.0
    np.testing.assert_array_equal(check(h, np.ones(len_x), up, down), expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("down, want_len", [(2, 5015), (11, 912), (79, 127)])  # from MATLAB
def test_vs_convolve(down, want_len, dtype):
    rs = np.random.RandomState(17)
    x = rs.randn(10000).astype(dtype)
    if np.dtype(dtype).kind == "c":
        x += 1j * rs.randn(10000)
    h = signal.firwin(31, 1.0 / down, window="hamming")
    y = check(h, x, 1, down)
    assert y.shape == (want_len,)


def scrub_all(h, x_dtype, up, down):
    """SciPy's UpFIRDnCase: a tiny signal, ones, random, a ramp, a 3-D array along each axis,
    and a strided, transposed view of it along each axis."""
    rs = np.random.RandomState(17)
    check(h, np.ones(1, x_dtype), up, down)
    check(h, np.ones(10, x_dtype), up, down)
    x = rs.randn(10).astype(x_dtype)
    if np.dtype(x_dtype).kind == "c":
        x += 1j * rs.randn(10)
    check(h, x, up, down)
    check(h, np.arange(10).astype(x_dtype), up, down)
    x = rs.randn(2, 3, 5).astype(x_dtype)
    if np.dtype(x_dtype).kind == "c":
        x += 1j * rs.randn(2, 3, 5)
    for axis in range(3):
        check(h, x, up, down, axis)
    xv = x[:, ::2, 1::3].T
    for axis in range(3):
        check(h, xv, up, down, axis)


@pytest.mark.parametrize("x_dtype", DTYPES)
@pytest.mark.parametrize("h", (1.0, 1j))
@pytest.mark.parametrize("up, down", [(1, 1), (2, 2), (3, 2), (2, 3)])
def test_vs_naive_delta(x_dtype, h, up, down):
    scrub_all(np.atleast_1d(h), x_dtype, up, down)


@pytest.mark.parametrize("x_dtype", DTYPES)
@pytest.mark.parametrize("h_dtype", DTYPES)
@pytest.mark.parametrize("p_max, q_max", list(product((10, 100), (10, 100))))
def test_vs_naive(x_dtype, h_dtype, p_max, q_max):
    rs = np.random.RandomState(17)
    for _ in range(3):
        p = rs.randint(p_max) + (q_max if p_max > q_max else 1)
        q = rs.randint(q_max) + (p_max if q_max > p_max else 1)
        len_h = rs.randint(25) + 1
        h = np.atleast_1d(rs.randint(len_h)).astype(h_dtype)
        scrub_all(h, x_dtype, p, q)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("mode", ["constant", "wrap", "edge", "symmetric", "reflect"])
@pytest.mark.parametrize("h_len", [4, 5, 26])          # 26 > 2 * size, as in SciPy
def test_modes(h_len, mode, dtype):
    rs = np.random.RandomState(5)
    x = rs.randn(8).astype(dtype)
    if np.dtype(dtype).kind == "c":
        x += 1j * rs.randn(8)
    h = np.arange(1, 1 + h_len, dtype=x.real.dtype)
    for up, down in [(1, 1), (3, 1), (1, 3), (3, 2), (2, 5)]:
        check(h, x, up, down, mode=mode)
    check(h, x, 2, 3, mode="constant", cval=1.5)


def test_random_search_with_modes_and_axes():
    rng = np.random.default_rng(11)
    for _ in range(300):
        k, w = int(rng.integers(1, 30)), int(rng.integers(0, 15))
        up, down = int(rng.integers(1, 12)), int(rng.integers(1, 12))
        mode = str(rng.choice(["constant", "wrap", "edge", "symmetric", "reflect"]))
        if (w == 0 and mode != "constant") or (w == 1 and mode == "reflect"):
            continue     # SciPy's reflect of one sample divides by zero (a crash)
        x = rng.standard_normal((2, w, 3))
        check(rng.standard_normal(k), x, up, down, int(rng.integers(-3, 3)), mode,
              float(rng.choice([0.0, 1.5])))


def test_float32_preserved_and_inputs_untouched():
    x = np.random.default_rng(0).standard_normal((3, 40)).astype(np.float32)
    h = np.hanning(7).astype(np.float32)
    x0, h0 = x.copy(), h.copy()
    y = check(h, x, 3, 2)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(h, h0)
    assert conv1dt.upfirdn(h, x.astype(np.float16)).dtype == np.float32   # as SciPy


@pytest.mark.parametrize("up, down", [(1, 3), (3, 2), (2, 7), (5, 5), (4, 6), (1, 1), (3, 1)])
@pytest.mark.parametrize("axis", [0, 1])
def test_only_the_kept_outputs_are_computed(monkeypatch, up, down, axis):
    """The kernels are asked for exactly the kept outputs (no compute-all-and-slice): one
    conv1d_transpose call whose output width is the result's length."""
    widths = []
    real = _upfirdn.conv1d_transpose

    def counting(x, f, output_shape, *a, **k):
        out = real(x, f, output_shape, *a, **k)
        widths.append(out.shape[1])
        return out

    monkeypatch.setattr(_upfirdn, "conv1d_transpose", counting)
    h, x = np.hanning(13), np.random.default_rng(1).standard_normal((101, 3))
    y = check(h, x, up, down, axis=axis)
    assert widths == [y.shape[axis]]


def test_docstring_examples():
    import doctest
    result = doctest.testmod(_upfirdn, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
