"""Shared oracles and helpers for the test suite.

Oracles, in order of independence from the code under test:
* ``zero_insertion``: the textbook "fractionally strided convolution": insert s-1 zeros between
  input samples, convolve with the dilated filter in full, crop ``pad_before`` from the start.
  It shares nothing with the library but the pad arithmetic, which TF golden data checks.
* ``im2col``: conv1d and its filter gradient from the padded input's windows (one strided slice
  per tap) and ``einsum``; like ``zero_insertion`` it shares only the pad arithmetic.
* ``conv1dt.reference``: the executable definition (a scatter over the links ``o = i*s + k*d - p``).

Tolerances come from the standard bound for a floating-point sum of n products
(Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., eq. 3.5):
``|fl(sum) - sum| <= gamma_n * sum |terms|`` with ``gamma_n = n*u / (1 - n*u)``, ``u = eps/2``.
We compare a result against a float64 oracle, so the bound is ``gamma_n(result dtype)`` plus
``gamma_n(float64)``, applied to the same sum over ``|x|`` and ``|f|``.

Complex results are computed as four real calls (the real-product decomposition), so each of the
real and imaginary parts is two real sums of ``n`` products and one subtraction or addition:
its error is at most ``gamma_{n+1}`` times ``sum |a_r b_r| + |a_i b_i|`` (or the cross terms),
which is at most ``sum |a| |b|`` term by term. The complex128 oracle adds its own rounding of each
complex product (at most ``sqrt(2) gamma_2 |a||b|``), so complex comparisons use ``n + 2``
against the bound computed from ``|a|`` and ``|b|``.
"""
import contextlib
import os
import json
import math
import zlib

import numpy as np
import pytest
from hypothesis import strategies as st

from conv1dt import reference
from conv1dt._geometry import Geometry
from conv1dt._geometry import transposed_width_range

REAL = {np.dtype(np.complex64): np.float32, np.dtype(np.complex128): np.float64}


def to_nwc(a, data_format):
    return np.asarray(a) if data_format == "NWC" else np.asarray(a).transpose(0, 2, 1)


def geometry(x, f, out_shape, s, d, padding, data_format):
    """The oracles' geometry, with ``pad_before`` from TensorFlow's formula written out here, so
    that the oracles share nothing with conv1dt's own padding arithmetic (``test_padding`` and
    the TF golden data hold that to TensorFlow). ``padding`` is ``'SAME'``, ``'VALID'``, TF's
    explicit ``[[0, 0], [lo, hi], [0, 0]]`` (in ``data_format``'s order) or a ``(lo, hi)`` pair;
    anything else raises (it used to be taken as ``pad_before = 0``)."""
    w_ax, c_ax = (1, 2) if data_format == "NWC" else (2, 1)
    n, m, cin = np.shape(x)[0], np.shape(x)[w_ax], np.shape(x)[c_ax]
    k, cout, _ = np.shape(f)
    wide = out_shape[w_ax]
    keff = (k - 1) * d + 1
    if isinstance(padding, str) and padding in ("SAME", "VALID"):
        pad = max((m - 1) * s + keff - wide, 0) // 2 if padding == "SAME" else 0
    elif np.shape(padding) == (3, 2):
        pad = int(np.asarray(padding)[w_ax][0])
    elif np.shape(padding) == (2,):
        pad = int(padding[0])
    else:
        raise ValueError(f"the oracles take SAME, VALID or explicit padding, not {padding!r}")
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
    bad = ~(err <= tol)      # a NaN (an output never written, where it starts as NaN) is bad too
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


def random_array(rng, shape, dtype):
    """Standard normal entries of ``dtype``; complex ones have independent real and imaginary parts."""
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def signal_shape(n, w, c, data_format):
    return (n, w, c) if data_format == "NWC" else (n, c, w)


def explicit(padding, data_format):
    """``padding`` as the public functions take it: strings as they are, ``(lo, hi)`` as pairs."""
    if isinstance(padding, str):
        return padding
    pairs = [[0, 0], [0, 0], [0, 0]]
    pairs[1 if data_format == "NWC" else 2] = list(padding)
    return pairs


# --- the family's oracles ------------------------------------------------------------------------

def family_oracle(op, a, b, g, data_format="NWC"):
    """``(want, bound)`` from ``conv1dt.reference`` in float64 or complex128, in ``data_format``:
    ``op(a, b)`` and the same op on ``|a|, |b|`` (the sum of the magnitudes of the terms)."""
    def nwc(v):
        v = np.asarray(v)
        return v if data_format == "NWC" or v.ndim != 3 else v.transpose(0, 2, 1)
    wide = np.complex128 if np.iscomplexobj(a) else np.float64
    fn = {"conv1d": reference.conv1d, "transpose": reference.conv1d_transpose,
          "backprop_filter": reference.conv1d_backprop_filter}[op]
    # signals in NWC; the filters (conv1d, transpose) are the same in both layouts
    a_n = nwc(a).astype(wide)
    b_n = (nwc(b) if op == "backprop_filter" else np.asarray(b)).astype(wide)
    want = fn(a_n, b_n, g)
    bound = fn(np.abs(a_n), np.abs(b_n), g)
    if op != "backprop_filter":
        want, bound = nwc(want), nwc(bound)
    return want, bound


def assert_family_matches(y, want, bound, n, what=""):
    """:func:`assert_matches` for any dtype of the family: complex results part by part with
    ``n + 2`` terms (see the module docstring), float16 with the float16 rounding added."""
    if y.dtype.kind == "c":
        real = REAL[y.dtype]
        assert_matches(y.real, want.real, bound, n + 2, real, what + " (real part)")
        assert_matches(y.imag, want.imag, bound, n + 2, real, what + " (imaginary part)")
    elif y.dtype == np.float16:
        # computed in float32, then rounded once to float16 (half an ulp of the result)
        err = np.abs(y.astype(np.float64) - want)
        tol = (gamma(n, np.float32) + gamma(n, np.float64)) * bound + np.finfo(np.float16).eps / 2 * (
            np.abs(want) + gamma(n, np.float32) * bound) + np.finfo(np.float16).smallest_subnormal
        assert (err <= tol).all(), f"{what}: float16 beyond the bound by {np.max(err - tol):.3g}"
    else:
        assert_matches(y, want, bound, n, y.dtype, what)


def conv1d_widths(k, s, d, padding, widths):
    """The widths among ``widths`` that conv1d accepts: all for SAME; otherwise those whose
    output width ``floor((L + lo + hi - Keff) / s) + 1`` is not negative."""
    if padding == "SAME":
        return list(widths)
    lo, hi = (0, 0) if padding == "VALID" else padding
    keff = (k - 1) * d + 1
    return [w for w in widths if (w + lo + hi - keff) // s + 1 >= 0]


# The family's test grids: dtypes, paddings ('SAME', 'VALID' or explicit (lo, hi)), and groups as
# (groups, input channels per group, output channels per group).
FAMILY_DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
FAMILY_PADDINGS = ["SAME", "VALID", (2, 0), (1, 3)]
FAMILY_GROUPS = [(1, 3, 2), (2, 2, 3), (3, 1, 1)]


def stable_seed(*parts):
    """A seed from ``parts`` that is the same in every process (``hash`` of a str is salted)."""
    return zlib.crc32(repr(parts).encode())


def conv1d_grid(padding, widths=(0, 1, 4, 7)):
    """``(s, d, k, wide)``: strides 1..3, dilations 1..2, 1, 2 or 4 taps, and the input widths
    among ``widths`` that conv1d accepts with ``padding``."""
    for s in (1, 2, 3):
        for d in (1, 2):
            for k in (1, 2, 4):
                for wide in conv1d_widths(k, s, d, padding, widths):
                    yield s, d, k, wide


@st.composite
def conv1d_cases(draw):
    """A random conv1d-side call: ``(padding, data_format, dtype, groups, Cin/groups,
    Cout/groups, N, K, s, d, L, seed)`` with an input width conv1d accepts."""
    padding = draw(st.one_of(st.sampled_from(["SAME", "VALID"]),
                             st.tuples(st.integers(0, 4), st.integers(0, 4))))
    data_format = draw(st.sampled_from(["NWC", "NCW"]))
    dtype = draw(st.sampled_from([np.float16] + FAMILY_DTYPES))
    groups = draw(st.sampled_from([1, 1, 2, 3, 4]))
    cwg, cng = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n, k, s, d = draw(st.integers(0, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 5)), draw(st.integers(1, 3))
    wide = draw(st.sampled_from(conv1d_widths(k, s, d, padding, range(0, 25))))
    seed = draw(st.integers(0, 2**32 - 1))
    return padding, data_format, dtype, groups, cwg, cng, n, k, s, d, wide, seed


def conv1d_terms(g):
    """Most products summed into one conv1d output, plus one: every tap, the group's channels."""
    return g.taps * (g.wide_channels // g.groups) + 1


def transpose_terms(g):
    """Most products summed into one conv1d_transpose output, plus one (see terms_per_output)."""
    period = g.stride // math.gcd(g.stride, g.dilation)
    return -(-g.taps // period) * (g.narrow_channels // g.groups) + 1


def filter_terms(g):
    """Most products summed into one filter-gradient element, plus one: one per (n, i)."""
    return g.batch * g.narrow + 1


def im2col(w, g):
    """``[K, N, M, Cw]``: the wide sample (zero outside the signal) each narrow sample reads
    through each tap, ``w_padded[:, k*d + i*s]``; ``w`` is NWC."""
    n, wide, cw = w.shape
    span = (g.narrow - 1) * g.stride + (g.taps - 1) * g.dilation + 1
    after = max(span - g.pad_before - wide, 0)
    wp = np.zeros((n, g.pad_before + wide + after, cw), dtype=w.dtype)
    wp[:, g.pad_before:g.pad_before + wide] = w
    cols = np.zeros((g.taps, n, g.narrow, cw), dtype=w.dtype)
    for k in range(g.taps):
        start = k * g.dilation
        cols[k] = wp[:, start:start + (g.narrow - 1) * g.stride + 1:g.stride][:, :g.narrow]
    return cols


def im2col_conv1d(w, f, g):
    """Independent oracle for conv1d (NWC): per group, ``sum_k windows_k @ f[k]``."""
    cols = im2col(np.asarray(w, dtype=np.result_type(w, f, np.float64)), g)
    out = np.zeros((g.batch, g.narrow, g.narrow_channels), dtype=cols.dtype)
    cw, cn = g.wide_channels // g.groups, g.narrow_channels // g.groups
    for j in range(g.groups):
        out[..., j * cn:(j + 1) * cn] = np.einsum(
            "knmc,kco->nmo", cols[..., j * cw:(j + 1) * cw], f[:, :, j * cn:(j + 1) * cn])
    return out


def im2col_backprop_filter(w, dz, g):
    """Independent oracle for the filter gradient (NWC): per group, ``windows_k^T @ dz``."""
    cols = im2col(np.asarray(w, dtype=np.result_type(w, dz, np.float64)), g)
    cw, cn = g.wide_channels // g.groups, g.narrow_channels // g.groups
    df = np.zeros((g.taps, cw, g.narrow_channels), dtype=cols.dtype)
    for j in range(g.groups):
        df[..., j * cn:(j + 1) * cn] = np.einsum(
            "knmc,nmo->kco", cols[..., j * cw:(j + 1) * cw], dz[..., j * cn:(j + 1) * cn])
    return df


def load_golden(path):
    """``(info, metas, arrays)`` from a golden file written by tools/make_golden*.py (``info`` and
    each ``meta`` entry are JSON); ``(None, [], {})`` when the file is missing."""
    if not path.exists():
        return None, [], {}
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    info = json.loads(str(arrays.pop("info")))
    metas = [json.loads(s) for s in arrays.pop("meta")]
    return info, metas, arrays


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


# The environment as the suite found it, before any test module is imported.
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
_ENV_AT_START = {k: os.environ.get(k) for k in _THREAD_VARS}


@pytest.fixture(autouse=True)
def _environment_restored(monkeypatch):
    """Every test sees the thread variables as the suite found them: importing Dask's
    distributed (test_dask, at collection) sets OMP_NUM_THREADS=1 and the BLAS's in os.environ,
    which the subprocesses of later tests would inherit (their OpenMP default then 1). Later
    changes within a test are undone as well."""
    for key, value in _ENV_AT_START.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)


@pytest.fixture(autouse=True)
def _no_load_watch(monkeypatch):
    """Calls use the thread count they are given: the watch that runs parallel calls on one
    thread after another process held them up (conv1dt/_runtime/load.py) would otherwise, on a
    busy machine, turn the tests of several threads into tests of one. test_threads checks it."""
    from conv1dt._runtime import load
    monkeypatch.setattr(load, "enabled", False)
    load.reset()


@pytest.fixture(autouse=True)
def _parallel_small_calls(monkeypatch):
    """The suite's shapes are small: run calls from 2**16 multiply-adds up on every thread (the
    library waits for about 1 MFLOP), so that the tests of thread-count independence and of the
    parallel paths exercise several threads. test_planner checks the library's own threshold."""
    from conv1dt import _plan
    monkeypatch.setattr(_plan, "PARALLEL_MACS", _plan.SERIAL_MACS)


@contextlib.contextmanager
def tiles(kernel):
    """The dispatch's name for ``kernel``: ``'tiled-avx2'`` is the tiled kernel limited to its
    AVX2 tiles (on a CPU with AVX-512, so that the tests run both sets of tiles)."""
    if kernel != "tiled-avx2":
        yield kernel
        return
    from conv1dt._compiled import _cpu
    old = _cpu._limit_tiled_isa("avx2")
    try:
        yield "tiled"
    finally:
        _cpu._limit_tiled_isa(old)
