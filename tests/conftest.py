"""Shared oracles and helpers for the test suite.

Oracles, in order of independence from the code under test:
* ``zero_insertion``: the textbook "fractionally strided convolution": insert s-1 zeros between
  input samples, convolve with the dilated filter in full, crop ``pad_before`` from the start.
  It shares nothing with the library but the pad arithmetic, which TF golden data checks.
* ``conv1dt.reference``: the executable definition (a scatter over the links ``o = i*s + k*d - p``).

Tolerances come from the standard bound for a floating-point sum of n products
(Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., eq. 3.5):
``|fl(sum) - sum| <= gamma_n * sum |terms|`` with ``gamma_n = n*u / (1 - n*u)``, ``u = eps/2``.
We compare a result against a float64 oracle, so the bound is ``gamma_n(result dtype)`` plus
``gamma_n(float64)``, applied to the same sum over ``|x|`` and ``|f|``.
"""
import math

import numpy as np
import pytest

from conv1dt import reference
from conv1dt._geometry import Geometry
from conv1dt._padding import transposed_width_range


def to_nwc(a, data_format):
    return np.asarray(a) if data_format == "NWC" else np.asarray(a).transpose(0, 2, 1)


def geometry(x, f, out_shape, s, d, padding, data_format):
    """The oracles' geometry, with ``pad_before`` from TensorFlow's formula written out here, so
    that the oracles share nothing with conv1dt's own padding arithmetic (``test_padding`` and
    the TF golden data hold that to TensorFlow)."""
    w_ax, c_ax = (1, 2) if data_format == "NWC" else (2, 1)
    n, m, cin = np.shape(x)[0], np.shape(x)[w_ax], np.shape(x)[c_ax]
    k, cout, _ = np.shape(f)
    wide = out_shape[w_ax]
    keff = (k - 1) * d + 1
    pad = max((m - 1) * s + keff - wide, 0) // 2 if padding == "SAME" else 0
    return Geometry(n, wide, m, cout, cin, k, s, d, pad)


def oracle(x, f, out_shape, s, d=1, padding="SAME", data_format="NWC"):
    """``(y64, bound)``: the float64 reference result and the float64 sum of ``|x| |f|`` terms."""
    g = geometry(x, f, out_shape, s, d, padding, data_format)
    x64 = to_nwc(x, data_format).astype(np.float64)
    f64 = np.asarray(f, dtype=np.float64)
    y = reference.conv1d_transpose(x64, f64, g)
    bound = reference.conv1d_transpose(np.abs(x64), np.abs(f64), g)
    back = (lambda a: a) if data_format == "NWC" else (lambda a: a.transpose(0, 2, 1))
    return back(y), back(bound)


def zero_insertion(x, f, out_shape, s, d=1, padding="SAME", data_format="NWC"):
    """Independent oracle: upsample by s with zeros, full convolution with the dilated filter, crop."""
    g = geometry(x, f, out_shape, s, d, padding, data_format)
    xn = to_nwc(x, data_format).astype(np.float64)
    f64 = np.asarray(f, dtype=np.float64)
    n, m, cin = xn.shape
    k, cout, _ = f64.shape
    up = np.zeros((n, max((m - 1) * s + 1, 0), cin))
    up[:, ::s, :] = xn
    fd = np.zeros(((k - 1) * d + 1, cout, cin))
    fd[::d] = f64
    full_len = up.shape[1] + fd.shape[0] - 1 if m else 0
    y = np.zeros((n, g.wide, cout))
    for b in range(n if m else 0):
        for co in range(cout):
            full = np.zeros(full_len)
            for ci in range(cin):
                full += np.convolve(up[b, :, ci], fd[:, co, ci])
            seg = full[g.pad_before:g.pad_before + g.wide]
            y[b, :len(seg), co] = seg
    return y if data_format == "NWC" else y.transpose(0, 2, 1)


def gamma(n, dtype):
    u = np.finfo(dtype).eps / 2
    return n * u / (1 - n * u)


def terms_per_output(f_shape, s, d=1):
    """Most products summed into one output, plus one for the final add: the taps that reach one
    output are those with the same k*d mod s, at most ceil(K / (s / gcd(s, d))), times Cin."""
    k, _, cin = f_shape
    period = s // math.gcd(s, d)
    return -(-k // period) * cin + 1


def assert_matches(y, y64, bound, n, dtype, what=""):
    """``|y - y64| <= (gamma_n(dtype) + gamma_n(float64)) * bound`` elementwise, with a report."""
    tol = (gamma(n, dtype) + gamma(n, np.float64)) * bound
    err = np.abs(y.astype(np.float64) - y64)
    bad = err > tol
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        raise AssertionError(
            f"{what}: {bad.sum()} of {y.size} elements off; first at {idx}: "
            f"got {y[idx]!r}, oracle {y64[idx]!r}, tolerance {tol[idx]:.3g}"
        )


def accepted_widths(m, k, s, d, padding):
    lo, hi = transposed_width_range(m, k, s, d, padding)
    return range(lo, hi + 1)


def random_operands(rng, n, m, cin, cout, k, dtype, data_format="NWC"):
    x = rng.standard_normal((n, m, cin) if data_format == "NWC" else (n, cin, m)).astype(dtype)
    f = rng.standard_normal((k, cout, cin)).astype(dtype)
    return x, f


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)
