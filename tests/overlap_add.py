"""Shared by test_stream.py and test_dask.py: operands, random splits of a width, and the
tolerance of an overlap-added result against the one-shot ``conv1dt.conv1d_transpose``.

The tolerance. The stream and the Dask path compute each output as a floating-point sum of
exactly the products the one-shot call sums (``P`` of them, at most ``transpose_terms(g) - 1``,
see conftest.py), only bracketed differently: the part from before a block or chunk boundary
is summed apart and added to the part after it. Whatever the bracketing, a sum of ``P``
rounded products is within ``gamma_P * B`` of the exact sum, ``B`` being the sum of the
products' magnitudes (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
eqs. 3.5 and 4.4: the bound of recursive summation holds for any order and bracketing). Both
results obey it, so they differ by at most ``2 * gamma_n * B``; we take ``n = P + 1`` as
conftest.py does, whose slack also covers the float64 rounding of ``B`` itself.

* complex: the real (imaginary) part is a sum of ``2P`` real products, ``a_r b_r`` and
  ``-a_i b_i`` (or the cross terms), in any bracketing (the one-shot call's real-product
  decomposition sums them in two halves; the overlap-add splits them further), so ``n = 2(P +
  1)`` in the real dtype, against ``B = sum |a| |b|``, which bounds either part's magnitudes.
* float16: both are float32 sums as above, each rounded once to float16 (half an ulp,
  ``u16 |v|``, or half the smallest subnormal below the normal range), so the bound gains
  ``u16 / (1 - u16) * (|got| + |want| + 2 eta) + 2 eta`` with ``eta`` that half-subnormal.

Where the two are equal to the bit (integer data: every partial sum is an integer well inside
the dtype's exact range, so no rounding happens in any order; one product per output: nothing
to bracket), the tests say so and use ``assert_array_equal`` instead.
"""
import numpy as np

import conv1dt
from conftest import gamma, random_array, signal_shape, transpose_terms
from conv1dt._geometry import transpose_geometry
from conv1dt._args import parse_padding

REAL = {np.dtype(np.complex64): np.dtype(np.float32), np.dtype(np.complex128): np.dtype(np.float64)}
DTYPES = [np.float16, np.float32, np.float64, np.complex64, np.complex128]


def operands(rng, n, width, cin, cout_g, taps, dtype, data_format, integers=False):
    """``(x, f)``: a signal ``[n, width, cin]`` (or NCW) and filters ``[taps, cout_g, cin]``;
    standard normal, or integers in -3..3 (complex parts too) when ``integers``."""
    def draw(shape):
        if not integers:
            return random_array(rng, shape, dtype)
        a = rng.integers(-3, 4, shape).astype(np.float64)
        if np.dtype(dtype).kind == "c":
            a = a + 1j * rng.integers(-3, 4, shape)
        return a.astype(dtype)
    return draw(signal_shape(n, width, cin, data_format)), draw((taps, cout_g, cin))


def random_split(rng, width, most=6):
    """Sizes (some of them 0) adding up to ``width``, in at most ``most + 1`` pieces."""
    cuts = np.sort(rng.integers(0, width + 1, rng.integers(0, most + 1)))
    return [int(v) for v in np.diff(np.concatenate([[0], cuts, [width]]))]


def full_shape(n, width, cout, taps, s, d, data_format):
    """``output_shape`` of the full VALID result of ``width`` input samples."""
    return list(signal_shape(n, (width - 1) * s + (taps - 1) * d + 1, cout, data_format))


def assert_close_to_oneshot(got, want, x, f, output_shape, s, padding="VALID", data_format="NWC",
                            d=1, groups=1, what=""):
    """``|got - want| <= 2 gamma_n B`` elementwise, with ``n`` and the float16 term as in the
    module docstring; ``want`` is the one-shot result of the call the arguments describe."""
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape)
    g = transpose_geometry(x.shape, f.shape, output_shape, s, d, parse_padding(padding, data_format),
                           data_format, groups)
    bound = conv1dt.conv1d_transpose(np.abs(x).astype(np.float64), np.abs(f).astype(np.float64),
                                     output_shape, s, padding, data_format, d, groups=groups)
    n = transpose_terms(g)
    dtype = got.dtype
    if dtype.kind == "c":
        n, real = 2 * n, REAL[dtype]
        tol = 2 * gamma(n, real) * bound
        for part in ("real", "imag"):
            err = np.abs(getattr(got, part).astype(np.float64) - getattr(want, part))
            assert (err <= tol).all(), f"{what} ({part} part): beyond 2 gamma_{n} B by {np.max(err - tol):.3g}"
        return
    tol = 2 * gamma(n, np.float32 if dtype == np.float16 else dtype) * bound
    if dtype == np.float16:
        u16, eta = np.finfo(np.float16).eps / 2, float(np.finfo(np.float16).smallest_subnormal) / 2
        mags = np.abs(got.astype(np.float64)) + np.abs(want.astype(np.float64))
        tol = tol + u16 / (1 - u16) * (mags + 2 * eta) + 2 * eta
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    assert (err <= tol).all(), f"{what}: beyond 2 gamma_{n} B by {np.max(err - tol):.3g}"
