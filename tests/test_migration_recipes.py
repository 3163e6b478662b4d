"""The migration page's recipes (``docs/migration_recipes.py``, included in the page as it stands),
checked against independent NumPy/SciPy oracles of each framework's documented definition, and
against the frameworks themselves when they are installed (skipped cleanly when not).

Oracles: PyTorch's ``conv_transpose1d`` is a scatter (``y[o] += x[i] w[k]`` at
``o = i*s + k*d - padding``, ``o`` below its output width); JAX's ``conv_transpose`` with pairs
pads the zero-inserted input by ``(lo, hi)`` and correlates it at stride 1 with the flipped
(``transpose_kernel=True``) dilated kernel; Keras's JAX backend does the same with the pair its
``padding``/``output_padding`` convert to; ``scipy.signal.upfirdn`` is SciPy itself. Data are
small integers, so every sum is exact in float64 and the comparisons are exact.
"""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "docs"))
import migration_recipes as mr  # noqa: E402

rng = np.random.default_rng(17)


def ints(*shape):
    return rng.integers(-5, 6, size=shape).astype(float)


def zero_inserted(x, s):
    """x [..., M] with s - 1 zeros between samples: [..., (M-1)*s + 1]."""
    u = np.zeros(x.shape[:-1] + ((x.shape[-1] - 1) * s + 1,))
    u[..., ::s] = x
    return u


def dilated(h, d):
    out = np.zeros((len(h) - 1) * d + 1)
    out[::d] = h
    return out


def torch_oracle(x, weight, stride, padding, output_padding, groups, dilation):
    n, cin, m = x.shape
    _, cout_g, k = weight.shape
    length = (m - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    y = np.zeros((n, cout_g * groups, length))
    cin_g = cin // groups
    for ci in range(cin):
        j = ci // cin_g
        for co in range(cout_g):
            for i in range(m):
                for kk in range(k):
                    o = i * stride + kk * dilation - padding
                    if 0 <= o < length:
                        y[:, j * cout_g + co, o] += x[:, ci, i] * weight[ci, co, kk]
    return y


def pairs_oracle(x, filters, s, d, lo, hi):
    """JAX conv_transpose(transpose_kernel=True, pairs (lo, hi)), one batch, NWC: x [1, M, Cin]."""
    k, cout, cin = filters.shape
    outs = []
    for co in range(cout):
        acc = 0
        for ci in range(cin):
            u = np.pad(zero_inserted(x[0, :, ci], s), (lo, hi))
            kernel = dilated(filters[:, co, ci], d)[::-1]          # flipped: transpose_kernel
            acc = acc + np.correlate(u, kernel, "valid")
        outs.append(acc)
    return np.stack(outs, axis=-1)[None]


def test_window_reads_zeros_on_both_sides():
    full = np.arange(1.0, 5.0).reshape(1, 1, 4)
    assert mr.window(full, -2, 7).tolist() == [[[0, 0, 1, 2, 3, 4, 0]]]
    assert mr.window(full, 3, 3).tolist() == [[[4, 0, 0]]]
    assert mr.window(full, 6, 2).tolist() == [[[0, 0]]]
    # a negative length is an empty window (not a slice wrapped round from the end)
    assert mr.window(full, 1, -2).shape == (1, 1, 0)


def test_jax_pairs_the_issue_example():
    # x = [1, 2, 3], f = [1, 10, 100], s = 2, (lo, hi) = (3, 0): JAX gives [0, 1, 10, 102, 20, 203]
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    f = np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)
    got = mr.like_jax(x, f, 2, [(3, 0)], transpose_kernel=True)[0, :, 0]
    assert got.tolist() == [0, 1, 10, 102, 20, 203]
    assert pairs_oracle(x, f, 2, 1, 3, 0)[0, :, 0].tolist() == got.tolist()


@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("k", [1, 2, 4])
def test_jax_pairs_against_zero_insertion(s, d, k):
    """Every pair with 0 <= lo, hi <= Keff + 2, including lo >= Keff (the page's old helper
    returned empty or wrapped slices there)."""
    m, cin, cout = 4, 2, 3
    keff = (k - 1) * d + 1
    x, f = ints(1, m, cin), ints(k, cout, cin)
    for lo in range(keff + 3):
        for hi in range(keff + 3):
            length = (m - 1) * s + lo + hi - keff + 2
            if length < 1:
                continue
            want = pairs_oracle(x, f, s, d, lo, hi)
            got = mr.like_jax(x, f, s, [(lo, hi)], d, transpose_kernel=True)
            np.testing.assert_array_equal(got, want, err_msg=f"(lo, hi) = {(lo, hi)}")
            # transpose_kernel=False: rhs [K, Cin, Cout] unflipped is conv1dt's reversed, swapped filters
            rhs = f[::-1].transpose(0, 2, 1)
            got = mr.like_jax(x, rhs, s, [(lo, hi)], d, transpose_kernel=False)
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("groups", [1, 2, 3])
@pytest.mark.parametrize("s,d", [(1, 1), (2, 1), (3, 2), (2, 3)])
def test_torch_recipe_against_the_scatter(groups, s, d):
    """The whole permuted weight with groups=g (no per-group loop), every padding and
    output_padding below max(s, d), with bias."""
    m, k = 5, 3
    keff = (k - 1) * d + 1
    x, w, b = ints(2, 2 * groups, m), ints(2 * groups, 2, k), ints(2 * groups)
    for padding in range(keff + 1):
        for output_padding in range(max(s, d)):
            if mr.torch_length(m, k, s, padding, output_padding, d) < 1:
                continue
            want = torch_oracle(x, w, s, padding, output_padding, groups, d) + b[:, None]
            got = mr.like_torch(x, w, b, s, padding, output_padding, groups, d)
            np.testing.assert_array_equal(got, want)


def test_torch_output_size():
    # ConvTranspose1d(stride=3, padding=1, K=4): widths 11..13 from M = 4
    assert [mr.torch_output_padding(4, 4, n, 3, 1) for n in (11, 12, 13)] == [0, 1, 2]
    with pytest.raises(ValueError, match="output_size 14"):
        mr.torch_output_padding(4, 4, 14, 3, 1)


def keras_jax_pair(k, s, d, padding, output_padding):
    """Keras 3's conversion of (padding, output_padding) to a JAX pair, restated."""
    keff = (k - 1) * d + 1
    if padding == "valid":
        op = max(keff, s) - keff if output_padding is None else output_padding
        return keff - 1, keff - 1 + op
    total = s + keff - 2 if output_padding is None else keff + keff % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, keff - 1)
    return left, total - left


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("s,d", [(1, 1), (2, 1), (3, 1), (4, 1), (1, 2), (1, 3)])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_keras_widths_and_windows(padding, s, d, k):
    m, cin, cout = 5, 2, 3
    x, kernel = ints(1, m, cin), ints(k, cout, cin)
    for output_padding in [None] + list(range(s)):
        width = mr.keras_width(m, k, s, padding, d, output_padding)
        lo, hi = keras_jax_pair(k, s, d, padding, output_padding)
        want = pairs_oracle(x, kernel, s, d, lo, hi)
        assert want.shape[1] == width
        if padding == "same" and output_padding is not None and width < (m - 1) * s + 1:
            continue      # below SAME's range (K even, output_padding 0): conv1dt refuses it
        np.testing.assert_array_equal(mr.like_keras(x, kernel, s, padding, d, output_padding), want)


@pytest.mark.parametrize("up", [1, 2, 3, 5])
def test_upfirdn_is_the_full_result(up):
    signal = pytest.importorskip("scipy.signal")
    h, x = ints(7), ints(9)
    np.testing.assert_array_equal(mr.like_upfirdn(h, x, up), signal.upfirdn(h, x, up=up))


# The frameworks themselves, when installed ------------------------------------------------

def _verify():
    import verify_migration
    verify_migration.failures.clear()
    return verify_migration


def test_against_torch():
    pytest.importorskip("torch")
    vm = _verify()
    vm.verify_torch(40)
    assert not vm.failures, vm.failures[:5]


def test_against_jax():
    pytest.importorskip("jax")
    vm = _verify()
    vm.verify_jax(30)
    assert not vm.failures, vm.failures[:5]


def test_against_flax():
    pytest.importorskip("flax")
    vm = _verify()
    vm.verify_flax()
    assert not vm.failures, vm.failures[:5]


def test_against_tensorflow():
    pytest.importorskip("tensorflow")
    vm = _verify()
    vm.verify_tf(10)
    assert not vm.failures, vm.failures[:5]


def test_against_keras(monkeypatch):
    import importlib.util
    if importlib.util.find_spec("tensorflow") is None and importlib.util.find_spec("jax"):
        monkeypatch.setenv("KERAS_BACKEND", "jax")      # Keras 3 on JAX when TF is absent
    pytest.importorskip("keras")
    vm = _verify()
    vm.verify_keras()
    assert not vm.failures, vm.failures[:5]
