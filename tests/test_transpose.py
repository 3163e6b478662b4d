"""conv1d_transpose's compiled path against its oracles: a systematic grid and a random search."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import conv1dt
from conv1dt import _plan
from conftest import (
    accepted_widths,
    assert_family_matches,
    assert_matches,
    family_oracle,
    oracle,
    random_array,
    random_operands,
    terms_per_output,
    transpose_terms,
    zero_insertion,
)


@pytest.mark.parametrize("stride", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_grid_against_reference(padding, data_format, dtype, stride):
    """Every dilation 1..3, K 1..7, input width 1..5 and every accepted output width."""
    rng = np.random.default_rng(stride)
    n, cin, cout = 2, 3, 2
    cases = 0
    for d in (1, 2, 3):
        for k in range(1, 8):
            for m in (1, 2, 3, 5):
                x, f = random_operands(rng, n, m, cin, cout, k, dtype, data_format)
                for wide in accepted_widths(m, k, stride, d, padding):
                    shape = [n, wide, cout] if data_format == "NWC" else [n, cout, wide]
                    y = conv1dt.conv1d_transpose(x, f, shape, stride, padding, data_format, d)
                    assert y.shape == tuple(shape) and y.dtype == dtype
                    y64, bound = oracle(x, f, shape, stride, d, padding, data_format)
                    assert_matches(y, y64, bound, terms_per_output(f.shape, stride, d), dtype,
                                   f"d={d} K={k} M={m} L={wide}")
                    cases += 1
    assert cases >= 3 * 7 * 4  # at least one output width per (d, K, M)


def test_reference_agrees_with_zero_insertion(rng):
    """The two oracles, written independently, agree (so neither can drift alone)."""
    for padding in ("SAME", "VALID"):
        for s in (1, 2, 3):
            for d in (1, 2):
                for k in (1, 2, 4):
                    for m in (1, 4):
                        x, f = random_operands(rng, 2, m, 2, 3, k, np.float64)
                        for wide in accepted_widths(m, k, s, d, padding):
                            shape = [2, wide, 3]
                            y64, _ = oracle(x, f, shape, s, d, padding)
                            z = zero_insertion(x, f, shape, s, d, padding)
                            np.testing.assert_allclose(y64, z, rtol=1e-12, atol=1e-12)


@st.composite
def cases(draw):
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    data_format = draw(st.sampled_from(["NWC", "NCW"]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n = draw(st.integers(0, 3))
    m = draw(st.integers(0, 12))
    cin = draw(st.integers(1, 6))
    cout = draw(st.integers(1, 6))
    k = draw(st.integers(1, 9))
    s = draw(st.integers(1, 6))
    d = draw(st.integers(1, 4))
    widths = accepted_widths(m, k, s, d, padding)
    wide = draw(st.sampled_from(list(widths)))
    seed = draw(st.integers(0, 2**32 - 1))
    return padding, data_format, dtype, n, m, cin, cout, k, s, d, wide, seed


@settings(max_examples=300, deadline=None)
@given(cases())
def test_random_against_zero_insertion(case):
    padding, data_format, dtype, n, m, cin, cout, k, s, d, wide, seed = case
    rng = np.random.default_rng(seed)
    x, f = random_operands(rng, n, m, cin, cout, k, dtype, data_format)
    shape = [n, wide, cout] if data_format == "NWC" else [n, cout, wide]
    y = conv1dt.conv1d_transpose(x, f, shape, s, padding, data_format, d)
    y64, bound = oracle(x, f, shape, s, d, padding, data_format)
    assert_matches(y, y64, bound, terms_per_output(f.shape, s, d), dtype, str(case))
    np.testing.assert_allclose(y64, zero_insertion(x, f, shape, s, d, padding, data_format),
                               rtol=1e-12, atol=1e-12)


def test_larger_channels_and_long_signals(rng):
    """Sizes where several work blocks and both threads are busy."""
    for s, d, k, padding in [(1, 1, 3, "SAME"), (4, 1, 16, "SAME"), (3, 2, 5, "VALID")]:
        x, f = random_operands(rng, 3, 300, 17, 11, k, np.float32)
        wide = accepted_widths(300, k, s, d, padding)[-1]
        y = conv1dt.conv1d_transpose(x, f, [3, wide, 11], s, padding, dilations=d)
        y64, bound = oracle(x, f, [3, wide, 11], s, d, padding)
        assert_matches(y, y64, bound, terms_per_output(f.shape, s, d), np.float32)


def test_float16_is_computed_in_float32(rng):
    """float16 in, float16 out; the sum is done in float32 and rounded once at the end."""
    x, f = random_operands(rng, 2, 20, 5, 4, 5, np.float16)
    y = conv1dt.conv1d_transpose(x, f, [2, 40, 4], 2)
    assert y.dtype == np.float16
    want = conv1dt.conv1d_transpose(x.astype(np.float32), f.astype(np.float32), [2, 40, 4], 2)
    np.testing.assert_array_equal(y, want.astype(np.float16))


def test_thread_count_does_not_change_bits(rng):
    x, f = random_operands(rng, 3, 500, 7, 5, 6, np.float32)
    try:
        conv1dt.set_num_threads(1)
        one = conv1dt.conv1d_transpose(x, f, [3, 1000, 5], 2)
        conv1dt.set_num_threads(2)
        two = conv1dt.conv1d_transpose(x, f, [3, 1000, 5], 2)
    finally:
        conv1dt.set_num_threads(None)
    np.testing.assert_array_equal(one, two)


def test_the_compiled_kernels_run(monkeypatch):
    """No silent fallback: with the kernels broken, calls on either path fail."""
    from conv1dt._compiled import _gemm, _transpose

    class Broken:
        def __call__(self, *args):
            raise RuntimeError("kernel called")

        def __getitem__(self, dtype):  # a fused kernel's specialisation
            return self

    for name in ("transpose_direct", "_SmallDirect", "transpose_blas", "transpose_phase", "transpose_col2im",
                 "transpose_tiled"):
        monkeypatch.setattr(_transpose, name, Broken())
    monkeypatch.setattr(_gemm, "transpose_ola", Broken())
    _plan.clear_cache()   # plans made before hold the real kernels
    with pytest.raises(RuntimeError, match="kernel called"):
        conv1dt.conv1d_transpose(np.ones((1, 2, 1)), np.ones((1, 1, 1)), [1, 2, 1], 1)
    with pytest.raises(RuntimeError, match="kernel called"):
        conv1dt.conv1d_transpose(np.ones((2, 64, 32)), np.ones((3, 32, 32)), [2, 64, 32], 1)


def test_one_tap_at_a_stride_from_few_inputs_by_blas_on_avx2():
    """On AVX2 a one-tap transpose at a stride from at most ``ONE_TAP_BLAS_MAX_CIN`` input
    channels runs BLAS's GEMM into the output rows ``s`` apart instead of the tiled kernel (not
    at stride 1, not from more inputs); through the public op against the reference."""
    from conv1dt._geometry import transpose_geometry

    def kernel(cin, cout, s, itemsize=4):
        g = transpose_geometry((16, 425, cin), (1, cout, cin), (16, 425 * s, cout), s, 1,
                               "VALID", "NWC", 1)
        return _plan.choose("transpose", g, itemsize)
    assert kernel(1, 35, 15) == ("blas" if _plan.AVX2 else "tiled")    # 1.71 -> 0.42 ms
    assert kernel(_plan.ONE_TAP_BLAS_MAX_CIN + 1, 35, 15) == "tiled"
    assert kernel(1, 35, 1) == "tiled"
    rng = np.random.default_rng(83)
    for dtype in (np.float32, np.float64):
        x = random_array(rng, (3, 70, 9), dtype)
        f = random_array(rng, (1, 40, 9), dtype)
        shape = (3, 70 * 6 - 2, 40)
        g = transpose_geometry(x.shape, f.shape, shape, 6, 1, "VALID", "NWC", 1)
        assert _plan.choose("transpose", g, x.itemsize) == ("blas" if _plan.AVX2 else "tiled")
        want, bound = family_oracle("transpose", x, f, g, "NWC")
        y = conv1dt.conv1d_transpose(x, f, shape, 6, "VALID")
        assert_family_matches(y, want, bound, transpose_terms(g), "1 tap, s=6, 9 -> 40")
