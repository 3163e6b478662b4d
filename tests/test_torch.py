"""conv1dt.torch: gradients by torch.autograd.gradcheck (finite differences, float64 and
complex128) on random geometries, results against conv1dt's own ops (themselves tested against
the reference), and the ConvTranspose1d module against PyTorch's own (values and gradients).
Skipped as a whole where PyTorch is not installed."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import conv1dt  # noqa: E402
import conv1dt.torch as ct  # noqa: E402
from conftest import stable_seed  # noqa: E402


def random_case(rng):
    """A random valid conv1d_transpose call: (x shape, f shape, output_shape, stride, kwargs)."""
    groups = int(rng.choice([1, 2]))
    cin, cout_g = groups * int(rng.integers(1, 3)), int(rng.integers(1, 3))
    k, s, d, m = (int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 3)),
                  int(rng.integers(1, 5)))
    fmt = str(rng.choice(["NWC", "NCW"]))
    keff = (k - 1) * d + 1
    pad = str(rng.choice(["SAME", "VALID", "explicit"]))
    if pad == "SAME":
        wide, padding = int(rng.integers((m - 1) * s + 1, m * s + 1)), "SAME"
    elif pad == "VALID":
        wide, padding = int(rng.integers((m - 1) * s + keff, m * s + keff)), "VALID"
    else:
        lo, hi = int(rng.integers(0, keff)), int(rng.integers(0, keff))
        lo_w, hi_w = max((m - 1) * s + keff - lo - hi, 1), m * s + keff - 1 - lo - hi
        if hi_w < lo_w:
            lo = hi = 0
            lo_w, hi_w = (m - 1) * s + keff, m * s + keff - 1
        wide = int(rng.integers(lo_w, hi_w + 1))
        padding = [[0, 0], [lo, hi], [0, 0]] if fmt == "NWC" else [[0, 0], [0, 0], [lo, hi]]
    lead = [(2,), (1, 2)][int(rng.integers(2))]
    sig = (lambda w, c: lead + ((w, c) if fmt == "NWC" else (c, w)))
    return sig(m, cin), (k, cout_g, cin), sig(wide, cout_g * groups), s, dict(
        padding=padding, data_format=fmt, dilations=d, groups=groups)


@pytest.mark.parametrize("dtype", [torch.float64, torch.complex128])
def test_gradcheck_on_random_geometries(dtype):
    rng = np.random.default_rng(stable_seed("torch", str(dtype)))
    for _ in range(8):
        x_shape, f_shape, out_shape, s, kw = random_case(rng)
        x = torch.randn(x_shape, dtype=dtype, requires_grad=True)
        f = torch.randn(f_shape, dtype=dtype, requires_grad=True)
        assert torch.autograd.gradcheck(
            lambda x, f: ct.conv1d_transpose(x, f, out_shape, s, **kw), (x, f))
        w = torch.randn(out_shape, dtype=dtype, requires_grad=True)
        assert torch.autograd.gradcheck(lambda w, f: ct.conv1d(w, f, s, **kw), (w, f))


def test_values_are_conv1dt_and_inputs_untouched():
    rng = np.random.default_rng(1)
    x_shape, f_shape, out_shape, s, kw = random_case(rng)
    x, f = torch.randn(x_shape, dtype=torch.float32), torch.randn(f_shape, dtype=torch.float32)
    x0 = x.clone()
    y = ct.conv1d_transpose(x, f, out_shape, s, **kw)
    assert y.dtype == torch.float32 and tuple(y.shape) == out_shape
    want = conv1dt.conv1d_transpose(x.numpy(), f.numpy(), out_shape, s, **kw)
    np.testing.assert_array_equal(y.numpy(), want)
    assert torch.equal(x, x0)


def test_implicit_groups_and_strided_operands():
    w = torch.randn(2, 9, 6, dtype=torch.float64, requires_grad=True)
    f = torch.randn(3, 2, 6, dtype=torch.float64, requires_grad=True)   # 3 groups implied
    assert torch.autograd.gradcheck(lambda w, f: ct.conv1d(w, f, 2), (w, f))
    wt = torch.randn(2, 6, 9, dtype=torch.float64).transpose(1, 2)     # not contiguous
    np.testing.assert_array_equal(ct.conv1d(wt, f.detach(), 1).numpy(),
                                  conv1dt.conv1d(wt.numpy(), f.detach().numpy(), 1))


def test_errors():
    x, f = torch.zeros(1, 5, 2), torch.zeros(3, 4, 2)
    with pytest.raises(TypeError, match="input must be a torch.Tensor"):
        ct.conv1d_transpose(np.zeros((1, 5, 2), np.float32), f, [1, 10, 4], 2)
    with pytest.raises(TypeError, match="bfloat16"):
        ct.conv1d_transpose(x.to(torch.bfloat16), f.to(torch.bfloat16), [1, 10, 4], 2)
    with pytest.raises(ValueError, match=r"output_shape\[1\] is 12"):
        ct.conv1d_transpose(x, f, [1, 12, 4], 2)
    with pytest.raises(ValueError, match="zeros"):
        ct.ConvTranspose1d(2, 2, 3, padding_mode="circular")


@pytest.mark.parametrize("kwargs", [
    dict(in_channels=4, out_channels=6, kernel_size=5, stride=2, padding=1, output_padding=1,
         groups=2),
    dict(in_channels=3, out_channels=2, kernel_size=4, stride=3, dilation=2, bias=False),
    dict(in_channels=2, out_channels=2, kernel_size=1),
    dict(in_channels=1, out_channels=3, kernel_size=7, stride=4, padding=3, output_padding=2),
])
def test_module_matches_pytorch(kwargs):
    """Oracle: torch.nn.ConvTranspose1d with the same state_dict, values and gradients."""
    torch.manual_seed(0)
    ours = ct.ConvTranspose1d(dtype=torch.float64, **kwargs)
    theirs = torch.nn.ConvTranspose1d(dtype=torch.float64, **kwargs)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(3, kwargs["in_channels"], 9, dtype=torch.float64, requires_grad=True)
    y, want = ours(x), theirs(x)
    assert y.shape == want.shape
    torch.testing.assert_close(y, want, rtol=1e-12, atol=1e-12)
    g = torch.randn_like(y)
    got = torch.autograd.grad(y, [x, ours.weight], g)
    exp = torch.autograd.grad(want, [x, theirs.weight], g)
    for a, b in zip(got, exp):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    # unbatched input and output_size, as PyTorch takes them
    x1 = x[0].detach()
    torch.testing.assert_close(ours(x1), theirs(x1), rtol=1e-12, atol=1e-12)
    size = [want.shape[-1]]
    torch.testing.assert_close(ours(x, output_size=size), theirs(x, output_size=size),
                               rtol=1e-12, atol=1e-12)


def test_docstring_examples():
    import doctest
    result = doctest.testmod(ct, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
