"""conv1dt.linalg: the operators against their dense matrices and the adjoint identity.

Oracles:
* the dot test ``<A x, y> = <x, A^H y>`` (the conjugating inner product), on random geometries
  over every padding form, groups, both layouts, real and complex dtypes and leading batch
  dimensions. Tolerance: both sides are sums of ``n`` products computed in the operator's
  dtype, so they differ by at most about ``2 * n * eps * B`` with ``B = <|A| |x|, |y|>`` (the
  same sum over magnitudes, in float64) and ``n`` the products per output element plus the
  length of the inner product; a factor 4 covers the complex decomposition.
* ``conv1dt.reference.conv1d_matrix``: the dense matrix of conv1d built from the definition; the
  conv1d_transpose operator's columns must be its transpose and its ``rmatvec`` the conjugate.
* PyLops (where installed): its own ``Convolve1D`` and ``dottest``.
"""
import math

import numpy as np
import pytest

import conv1dt
import conv1dt.linalg as L
from conv1dt import reference
from conv1dt._geometry import transpose_geometry
from conftest import stable_seed

EPS = {np.dtype(t): np.finfo(t).eps for t in (np.float32, np.float64)}
EPS[np.dtype(np.complex64)] = EPS[np.dtype(np.float32)]
EPS[np.dtype(np.complex128)] = EPS[np.dtype(np.float64)]


def rand(rng, shape, dtype):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def random_transpose_case(rng, dtype):
    """A random valid conv1d_transpose geometry: (filters, input_shape, output_shape, kwargs)."""
    groups = int(rng.choice([1, 1, 2, 3]))
    cin, cout_g = groups * int(rng.integers(1, 3)), int(rng.integers(1, 3))
    k, s, d = int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(1, 3))
    m = int(rng.integers(1, 7))
    data_format = str(rng.choice(["NWC", "NCW"]))
    keff = (k - 1) * d + 1
    form = int(rng.integers(3))
    if form == 0:
        padding, lo, hi = "SAME", (m - 1) * s + 1, m * s
    elif form == 1:
        padding, lo, hi = "VALID", (m - 1) * s + keff, m * s + keff - 1
    else:
        plo, phi = int(rng.integers(0, keff)), int(rng.integers(0, keff))
        pair = [plo, phi]
        padding = [[0, 0], pair, [0, 0]] if data_format == "NWC" else [[0, 0], [0, 0], pair]
        lo = max((m - 1) * s + keff - plo - phi, 0)
        hi = m * s + keff - 1 - plo - phi
        if hi < lo:
            padding, lo, hi = "SAME", (m - 1) * s + 1, m * s
    wide = int(rng.integers(lo, hi + 1))
    lead = [(2,), (1,), (2, 3)][int(rng.integers(3))]
    sig = (lambda w, c: lead + ((w, c) if data_format == "NWC" else (c, w)))
    f = rand(rng, (k, cout_g, cin), dtype)
    kwargs = dict(padding=padding, data_format=data_format, dilations=d, groups=groups)
    return f, sig(m, cin), sig(wide, cout_g * groups), s, kwargs


def assert_dot_test(A, rng, dtype, terms):
    x = rand(rng, A.shape[1], dtype)
    y = rand(rng, A.shape[0], dtype)
    lhs, rhs = np.vdot(A @ x, y), np.vdot(x, A.rmatvec(y))
    B = np.vdot(np.abs(_abs_op(A) @ np.abs(x)), np.abs(y)).real
    n = terms + A.shape[0] + A.shape[1]
    tol = 8 * n * EPS[np.dtype(dtype)] * B + 1e-300
    assert abs(lhs - rhs) <= tol, (lhs, rhs, tol)


def _abs_op(A):
    """The same operator on ``|f|`` in float64 (the magnitude sum ``B`` of the tolerance)."""
    cls = type(A)
    return cls(np.abs(A._f).astype(np.float64), A._in_shape, A._out_shape, A._args)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_dot_test_on_random_geometries(dtype):
    rng = np.random.default_rng(stable_seed("linalg", np.dtype(dtype).name))
    forms = set()
    for _ in range(60):
        f, in_shape, out_shape, s, kw = random_transpose_case(rng, dtype)
        A = L.conv1d_transpose_operator(f, in_shape, out_shape, s, **kw)
        assert A.shape == (math.prod(out_shape), math.prod(in_shape)) and A.dtype == dtype
        terms = f.shape[0] * f.shape[2]
        assert_dot_test(A, rng, dtype, terms)
        # the conv1d operator of the same geometry, seen from the wide side
        C = L.conv1d_operator(f, out_shape, s, **kw)
        assert C.shape == A.shape[::-1] and C.output_shape == tuple(in_shape)
        assert_dot_test(C, rng, dtype, terms)
        forms.add((kw["padding"] if isinstance(kw["padding"], str) else "explicit",
                   kw["data_format"], kw["groups"] > 1))
    assert len(forms) >= 8   # the random search reached most forms


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_dense_matrix_against_the_reference(data_format, dtype):
    """Columns of the operator = the definition's matrix C^T; the adjoint = its conjugate."""
    rng = np.random.default_rng(stable_seed("dense", data_format, np.dtype(dtype).name))
    m, cin, cout_g, groups, k, s = 4, 4, 1, 2, 3, 2
    f = rand(rng, (k, cout_g, cin), dtype)
    sig = (lambda w, c: (1, w, c) if data_format == "NWC" else (1, c, w))
    padding = [[0, 0], [1, 2], [0, 0]] if data_format == "NWC" else [[0, 0], [0, 0], [1, 2]]
    wide = (m - 1) * s + k - 3
    A = L.conv1d_transpose_operator(f, sig(m, cin), sig(wide, 2), s, padding, data_format,
                                    groups=groups)
    g = transpose_geometry((1, m, cin), f.shape, (1, wide, 2), s, 1, (1, 2), "NWC", groups)
    C = reference.conv1d_matrix(f, g)              # NWC rows/columns: (M*Cn, L*Cw)
    # permutations from the layout's flattening to NWC's
    perm_in = np.arange(m * cin).reshape(m, cin)       # NWC's flat index of (w, c)
    perm_out = np.arange(wide * 2).reshape(wide, 2)
    if data_format == "NCW":
        perm_in, perm_out = perm_in.T, perm_out.T
    perm_in, perm_out = perm_in.ravel(), perm_out.ravel()
    dense = A @ np.eye(A.shape[1], dtype=dtype)    # matmat
    want = C.T[np.ix_(perm_out, perm_in)]
    np.testing.assert_allclose(dense, want, rtol=0, atol=1e-13)
    adj = A.H @ np.eye(A.shape[0], dtype=dtype)
    np.testing.assert_allclose(adj, want.conj().T, rtol=0, atol=1e-13)
    np.testing.assert_allclose(A.rmatmat(np.eye(A.shape[0])), want.conj().T, rtol=0, atol=1e-13)
    np.testing.assert_allclose(A.T @ np.eye(A.shape[0]), want.T, rtol=0, atol=1e-13)


def test_matmat_is_matvec_per_column_and_dtypes():
    rng = np.random.default_rng(5)
    f = rand(rng, (3, 2, 2), np.float32)
    A = L.conv1d_transpose_operator(f, (2, 5, 2), (2, 10, 2), 2)
    X = rand(rng, (A.shape[1], 3), np.float32)
    Y = A @ X
    assert Y.dtype == np.float32 and Y.shape == (A.shape[0], 3)
    for j in range(3):
        np.testing.assert_array_equal(Y[:, j], A @ X[:, j])
    # a float64 vector computes in float64; a complex one in complex
    x = rand(rng, A.shape[1], np.float64)
    assert (A @ x).dtype == np.float64
    want = conv1dt.conv1d_transpose(x.reshape(2, 5, 2), f.astype(np.float64), [2, 10, 2], 2)
    np.testing.assert_array_equal(A @ x, want.ravel())
    z = rand(rng, A.shape[1], np.complex128)
    np.testing.assert_allclose(A @ z, A @ z.real + 1j * (A @ z.imag), rtol=1e-12, atol=1e-12)
    Z = A.rmatmat(rand(rng, (A.shape[0], 2), np.float32))
    assert Z.shape == (A.shape[1], 2)


def test_operator_keeps_its_own_filters_and_input_is_untouched():
    f = np.ones((2, 1, 1))
    A = L.conv1d_transpose_operator(f, (1, 3, 1), (1, 4, 1), 1, "VALID")
    x = np.arange(3.0)
    x0 = x.copy()
    y0 = A @ x
    f[:] = 5
    np.testing.assert_array_equal(A @ x, y0)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y0, [0, 1, 3, 2])


def test_implicit_groups_and_adjoint_types():
    rng = np.random.default_rng(2)
    f = rand(rng, (3, 2, 6), np.float64)          # conv1d filters; input of 6 channels: 3 groups
    C = L.conv1d_operator(f, (1, 8, 6), 1)
    w = rand(rng, C.shape[1], np.float64)
    want = conv1dt.conv1d(w.reshape(1, 8, 6), f, 1, groups=3).ravel()
    np.testing.assert_array_equal(C @ w, want)
    assert_dot_test(C, rng, np.float64, 6)
    assert "conv1d_transpose operator" in repr(C.H) and "conv1d operator" in repr(C.H.H)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(input_shape=(1, 5)), ValueError, r"input_shape must have at least 3 elements"),
    (dict(input_shape=(1, -5, 2)), ValueError, r"input_shape\[1\] must be non-negative"),
    (dict(input_shape=(1, 5.0, 2)), ValueError, r"input_shape\[1\] must be an integer"),
    (dict(output_shape=(2, 10, 3)), ValueError, r"output_shape\[0\]|same leading"),
    (dict(output_shape=(1, 12, 3)), ValueError, r"output_shape\[1\] is 12.*gives widths 9\.\.10"),
    (dict(output_shape=(1, 10, 4)), ValueError, r"output_shape\[2\] is 4"),
    (dict(filters=np.ones((4, 3, 2), np.int64)), TypeError, r"filters must have dtype"),
    (dict(strides=0), ValueError, r"strides must be positive"),
    (dict(padding="FULL"), ValueError, r"padding must be"),
])
def test_errors(kwargs, exc, match):
    args = dict(filters=np.ones((4, 3, 2)), input_shape=(1, 5, 2), output_shape=(1, 10, 3),
                strides=2)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        L.conv1d_transpose_operator(**args)


def test_lsqr_deconvolves():
    """LSQR recovers a signal from its noiseless transposed convolution (full column rank)."""
    from scipy.sparse.linalg import lsqr
    rng = np.random.default_rng(3)
    f = np.array([1.0, 0.6, -0.3, 0.1]).reshape(4, 1, 1)
    A = L.conv1d_transpose_operator(f, (1, 50, 1), (1, 103, 1), 2, "VALID")
    x = rng.standard_normal(50)
    res = lsqr(A, A @ x, atol=1e-12, btol=1e-12, iter_lim=500)
    assert res[1] in (1, 2)   # converged
    np.testing.assert_allclose(res[0], x, rtol=0, atol=1e-8)


def test_pylops_interop():
    pylops = pytest.importorskip("pylops")
    rng = np.random.default_rng(4)
    h = rng.standard_normal(5)
    A = L.conv1d_transpose_operator(h.reshape(5, 1, 1), (1, 40, 1), (1, 40, 1), 1)
    P = pylops.signalprocessing.Convolve1D(40, h, offset=2)   # np.convolve(x, h, "same")
    x = rng.standard_normal(40)
    np.testing.assert_allclose(A @ x, P @ x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(A.H @ x, P.H @ x, rtol=1e-12, atol=1e-12)
    Ap = pylops.aslinearoperator(A)
    assert pylops.utils.dottest(Ap, 40, 40, rtol=1e-10)
    Ac = pylops.aslinearoperator(L.conv1d_operator(h.reshape(5, 1, 1) + 1j, (2, 9, 1), 2))
    assert pylops.utils.dottest(Ac, Ac.shape[0], Ac.shape[1], rtol=1e-10, complexflag=3)


def test_docstring_examples():
    import doctest
    result = doctest.testmod(L, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
