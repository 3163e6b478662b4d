"""conv1d_transpose is the transpose of conv1d: the adjoint identity and the matrix view."""
import numpy as np
import pytest

import conv1dt
from conv1dt import reference
from conftest import accepted_widths, geometry, random_operands


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("s,d,k", [(1, 1, 3), (2, 1, 4), (3, 2, 5), (4, 3, 2), (5, 1, 1)])
def test_adjoint_identity(padding, s, d, k, rng):
    """<conv1d_transpose(u, f), v> == <u, conv1d(v, f)> for the compiled transpose and the
    reference conv1d (tf.nn.conv1d's definition, filters [K, in, out] = our [K, Cout, Cin]).

    Both sides are sums of the same N*L*Cout*K*Cin products in float64, so they agree to
    about (number of products) * eps relative to the sum of their magnitudes."""
    n, m, cin, cout = 2, 7, 3, 4
    u, f = random_operands(rng, n, m, cin, cout, k, np.float64)
    for wide in accepted_widths(m, k, s, d, padding):
        v = rng.standard_normal((n, wide, cout))
        g = geometry(u, f, [n, wide, cout], s, d, padding, "NWC")
        lhs = np.vdot(conv1dt.conv1d_transpose(u, f, [n, wide, cout], s, padding, dilations=d), v)
        rhs = np.vdot(u, reference.conv1d(v, f, g))
        scale = np.vdot(reference.conv1d_transpose(np.abs(u), np.abs(f), g), np.abs(v))
        assert abs(lhs - rhs) <= 1e-13 * scale, (wide, lhs, rhs)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("s,d,k", [(1, 1, 3), (2, 1, 4), (3, 2, 2)])
def test_matrix_view(padding, s, d, k, rng):
    """conv1d is a matrix C on the flattened signal; conv1d_transpose is C.T."""
    m, cin, cout = 4, 2, 3
    x, f = random_operands(rng, 1, m, cin, cout, k, np.float64)
    for wide in accepted_widths(m, k, s, d, padding):
        g = geometry(x, f, [1, wide, cout], s, d, padding, "NWC")
        C = reference.conv1d_matrix(f, g)
        y = conv1dt.conv1d_transpose(x, f, [1, wide, cout], s, padding, dilations=d)
        np.testing.assert_allclose(y.ravel(), C.T @ x.ravel(), rtol=1e-13, atol=1e-13)
        v = rng.standard_normal((1, wide, cout))
        np.testing.assert_allclose(reference.conv1d(v, f, g).ravel(), C @ v.ravel(),
                                   rtol=1e-13, atol=1e-13)


def test_gradient_of_conv1d_by_finite_differences(rng):
    """conv1d_transpose(u) is the gradient of v -> <u, conv1d(v)>, checked by central differences
    (exact for a linear map up to rounding, so the tolerance is rounding-sized)."""
    n, m, cin, cout, k, s, d = 1, 5, 2, 2, 3, 2, 1
    u, f = random_operands(rng, n, m, cin, cout, k, np.float64)
    wide = 10
    g = geometry(u, f, [n, wide, cout], s, d, "SAME", "NWC")
    v = rng.standard_normal((n, wide, cout))
    grad = conv1dt.conv1d_transpose(u, f, [n, wide, cout], s, "SAME")
    h = 1e-3
    fd = np.zeros_like(v)
    for idx in np.ndindex(v.shape):
        e = np.zeros_like(v)
        e[idx] = h
        fd[idx] = (np.vdot(u, reference.conv1d(v + e, f, g))
                   - np.vdot(u, reference.conv1d(v - e, f, g))) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-9, atol=1e-9)
