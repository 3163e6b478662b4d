"""The three ops are each other's gradients: adjoint identities and finite differences.

For conv1d ``z = C(f) w`` (linear in ``w`` and in ``f``):

* ``<conv1d(w, f), z> == <w, conv1d_transpose(z, f)>``            (conv1d_transpose is C^T)
* ``<conv1d(w, f), z> == <f, conv1d_backprop_filter(w, f.shape, z)>`` (the filter adjoint)

with the bilinear pairing ``sum(a * b)`` (no conjugation, also for complex). Both sides of an
identity are sums of the same products ``w f z``; each side's rounding error is at most
``gamma_{n + S}`` times the sum ``P`` of their magnitudes, where ``n`` is the longest inner sum and
``S`` the length of the pairing's sum, so the sides differ by at most twice that (complex: four
more terms for the decomposition and the products). Finite differences then check, in float64,
that the compositions in the docstrings are the gradients of a nonlinear loss.
"""
import numpy as np
import pytest

import conv1dt
from conv1dt import reference
from conv1dt._geometry import conv1d_geometry
from conftest import REAL, explicit, gamma, random_array, signal_shape

PADDINGS = ["SAME", "VALID", (2, 1), (0, 4)]
CASES = [  # (groups, Cin/groups, Cout/groups, K, s, d)
    (1, 3, 2, 3, 1, 1),
    (1, 2, 4, 4, 2, 1),
    (2, 2, 3, 3, 3, 2),
    (3, 1, 1, 5, 2, 1),     # depthwise
    (2, 3, 1, 2, 1, 3),
]


def pair(a, b):
    """The bilinear pairing ``sum(a * b)``, in the wider of the two dtypes."""
    return np.sum(a.astype(np.complex128 if np.iscomplexobj(a) else np.float64) * b)


def setup(rng, case, padding, data_format, dtype, n=2, wide=11):
    groups, cwg, cng, k, s, d = case
    w = random_array(rng, signal_shape(n, wide, groups * cwg, data_format), dtype)
    f = random_array(rng, (k, cwg, groups * cng), dtype)
    g = conv1d_geometry(w.shape, f.shape, s, d, padding, data_format, groups)
    z = random_array(rng, signal_shape(n, g.narrow, groups * cng, data_format), dtype)
    kw = dict(padding=explicit(padding, data_format), data_format=data_format, dilations=d, groups=groups)
    return w, f, z, g, s, kw


def magnitude(w, f, z, g, data_format):
    """``P``: the float64 sum of ``|w| |f| |z|`` over all the products of the identity."""
    nwc = (lambda a: a) if data_format == "NWC" else (lambda a: a.transpose(0, 2, 1))
    aw, af, az = (np.abs(np.asarray(a, np.complex128)) for a in (nwc(w), f, nwc(z)))
    return float(np.sum(reference.conv1d(aw, af, g) * az))


def tolerance(w, f, z, g, data_format):
    dtype = REAL.get(w.dtype, w.dtype)
    n = g.taps * max(g.wide_channels // g.groups, 1) + g.batch * g.narrow + 4
    size = max(w.size, f.size, z.size)
    return 2 * gamma(n + size, dtype) * magnitude(w, f, z, g, data_format)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("padding", PADDINGS, ids=str)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_adjoint_identities(case, padding, data_format, dtype, rng):
    w, f, z, g, s, kw = setup(rng, case, padding, data_format, dtype)
    lhs = pair(conv1dt.conv1d(w, f, s, **kw), z)
    via_transpose = pair(w, conv1dt.conv1d_transpose(z, f, w.shape, s, **kw))
    via_filter = pair(f, conv1dt.conv1d_backprop_filter(w, f.shape, z, s, **kw))
    tol = tolerance(w, f, z, g, data_format)
    assert abs(lhs - via_transpose) <= tol, (lhs, via_transpose, tol)
    assert abs(lhs - via_filter) <= tol, (lhs, via_filter, tol)


@pytest.mark.parametrize("padding", PADDINGS, ids=str)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_hermitian_adjoints_conjugate(case, padding, rng):
    """With the conjugating inner product, the adjoint of conv1d in its input is
    conv1d_transpose with conj(f), and in its filters conv1d_backprop_filter of conj(w)."""
    w, f, z, g, s, kw = setup(rng, case, padding, "NWC", np.complex128)
    lhs = np.vdot(conv1dt.conv1d(w, f, s, **kw), z)
    tol = tolerance(w, f, z, g, "NWC")
    assert abs(lhs - np.vdot(w, conv1dt.conv1d_transpose(z, f.conj(), w.shape, s, **kw))) <= tol
    assert abs(lhs - np.vdot(f, conv1dt.conv1d_backprop_filter(w.conj(), f.shape, z, s, **kw))) <= tol
    # and without the conjugation it is not the Hermitian adjoint
    assert abs(lhs - np.vdot(w, conv1dt.conv1d_transpose(z, f, w.shape, s, **kw))) > 1e3 * tol


def test_integer_data_is_exact(rng):
    """With small integers every product and sum is exact: the identities hold to the bit."""
    w = rng.integers(-4, 5, (2, 13, 6)).astype(np.float64)
    f = rng.integers(-4, 5, (3, 2, 9)).astype(np.float64)
    kw = dict(padding=[[0, 0], [2, 1], [0, 0]], dilations=2, groups=3)
    z = rng.integers(-4, 5, conv1dt.conv1d(w, f, 2, **kw).shape).astype(np.float64)
    lhs = np.vdot(conv1dt.conv1d(w, f, 2, **kw), z)
    assert lhs == np.vdot(w, conv1dt.conv1d_transpose(z, f, w.shape, 2, **kw))
    assert lhs == np.vdot(f, conv1dt.conv1d_backprop_filter(w, f.shape, z, 2, **kw))


@pytest.mark.parametrize("padding", ["SAME", "VALID", (1, 2)], ids=str)
@pytest.mark.parametrize("case", CASES[:4], ids=str)
def test_matrix_view_with_groups(case, padding, rng):
    """conv1d is the matrix C (zero outside each group's blocks) and conv1d_transpose is C.T."""
    w, f, z, g, s, kw = setup(rng, case, padding, "NWC", np.float64, n=1, wide=7)
    C = reference.conv1d_matrix(f, g)
    np.testing.assert_allclose(conv1dt.conv1d(w, f, s, **kw).ravel(), C @ w.ravel(), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(conv1dt.conv1d_transpose(z, f, w.shape, s, **kw).ravel(), C.T @ z.ravel(),
                               rtol=1e-13, atol=1e-13)


# --- finite differences ---------------------------------------------------------------------------

def loss(a, v):
    """A nonlinear loss of an op's output ``a``: ``sum(v * tanh(a))``; its gradient is
    ``v * (1 - tanh(a)**2)``."""
    return float(np.sum(v * np.tanh(a)))


def loss_grad(a, v):
    return v * (1 - np.tanh(a) ** 2)


def directional(fn, x, e, h=1e-6):
    """Central difference of the scalar ``fn`` at ``x`` along ``e``: error ``O(h^2)``."""
    return (fn(x + h * e) - fn(x - h * e)) / (2 * h)


def assert_gradient(fn, x, grad, rng, what):
    """``<grad, e>`` against finite differences along random and coordinate directions."""
    dirs = [rng.standard_normal(x.shape) for _ in range(3)]
    for idx in list(np.ndindex(x.shape))[:: max(1, x.size // 4)]:
        e = np.zeros(x.shape)
        e[idx] = 1.0
        dirs.append(e)
    for e in dirs:
        fd = directional(fn, x, e)
        want = float(np.sum(grad * e))
        assert abs(fd - want) <= 1e-7 * (1 + abs(want)), (what, fd, want)


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("padding", PADDINGS, ids=str)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_transpose_gradients_by_finite_differences(case, padding, data_format, rng):
    """y = conv1d_transpose(x, f): dx = conv1d(dy, f), df = conv1d_backprop_filter(dy, f.shape, x)."""
    wide_y, f, x, g, s, kw = setup(rng, case, padding, data_format, np.float64)
    y_shape = wide_y.shape
    v = rng.standard_normal(y_shape)

    def ell(x_, f_):
        return loss(conv1dt.conv1d_transpose(x_, f_, y_shape, s, **kw), v)

    dy = loss_grad(conv1dt.conv1d_transpose(x, f, y_shape, s, **kw), v)
    dx = conv1dt.conv1d(dy, f, s, **kw)
    df = conv1dt.conv1d_backprop_filter(dy, f.shape, x, s, **kw)
    assert_gradient(lambda x_: ell(x_, f), x, dx, rng, "dx")
    assert_gradient(lambda f_: ell(x, f_), f, df, rng, "df")


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("padding", PADDINGS, ids=str)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv1d_gradients_by_finite_differences(case, padding, data_format, rng):
    """z = conv1d(w, f): dw = conv1d_transpose(dz, f, w.shape), df = conv1d_backprop_filter(w, f.shape, dz)."""
    w, f, v, g, s, kw = setup(rng, case, padding, data_format, np.float64)
    dz = loss_grad(conv1dt.conv1d(w, f, s, **kw), v)
    dw = conv1dt.conv1d_transpose(dz, f, w.shape, s, **kw)
    df = conv1dt.conv1d_backprop_filter(w, f.shape, dz, s, **kw)
    assert_gradient(lambda w_: loss(conv1dt.conv1d(w_, f, s, **kw), v), w, dw, rng, "dw")
    assert_gradient(lambda f_: loss(conv1dt.conv1d(w, f_, s, **kw), v), f, df, rng, "df")


@pytest.mark.parametrize("padding", PADDINGS, ids=str)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_backprop_filter_gradients_by_finite_differences(case, padding, rng):
    """F = conv1d_backprop_filter(w, shape, z): dw = conv1d_transpose(z, dF, w.shape), dz = conv1d(w, dF)."""
    w, f, z, g, s, kw = setup(rng, case, padding, "NWC", np.float64)
    v = rng.standard_normal(f.shape)
    dF = loss_grad(conv1dt.conv1d_backprop_filter(w, f.shape, z, s, **kw), v)
    dw = conv1dt.conv1d_transpose(z, dF, w.shape, s, **kw)
    dz = conv1dt.conv1d(w, dF, s, **kw)
    assert_gradient(lambda w_: loss(conv1dt.conv1d_backprop_filter(w_, f.shape, z, s, **kw), v), w, dw, rng, "dw")
    assert_gradient(lambda z_: loss(conv1dt.conv1d_backprop_filter(w, f.shape, z_, s, **kw), v), z, dz, rng, "dz")
