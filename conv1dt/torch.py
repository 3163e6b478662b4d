r"""conv1d_transpose and conv1d as differentiable PyTorch functions, and a ConvTranspose1d.

An optional part of conv1dt: it needs PyTorch (``pip install 'conv1dt[torch]'``), and ``import
conv1dt`` does not import it. Use it as ``import conv1dt.torch`` or ``conv1dt.torch`` after
``import conv1dt``.

The functions take and return CPU tensors, with TensorFlow's signatures (NWC by default), and
are :class:`torch.autograd.Function`\ s whose gradients are the rest of conv1dt's family: for
``y = conv1d_transpose(x, f)`` and the gradient ``dy``, ``dx = conv1d(dy, conj(f))`` and
``df = conv1d_backprop_filter(dy, f.shape, conj(x))`` (PyTorch's convention for complex tensors,
the conjugate Wirtinger derivative; for real tensors the conjugations do nothing).
"""
try:
    import torch
except ImportError as exc:  # the optional dependency is missing
    raise ImportError(
        "conv1dt.torch needs PyTorch, an optional dependency of conv1dt: install it with "
        f"pip install 'conv1dt[torch]'. ({exc})"
    ) from exc
import numpy as np

from . import _forms
from ._ops import conv1d as _conv1d
from ._ops import conv1d_backprop_filter as _backprop_filter
from ._ops import conv1d_transpose as _conv1d_transpose

__all__ = ["conv1d_transpose", "conv1d", "ConvTranspose1d"]


def _numpy(t, name):
    """A CPU tensor as a NumPy array (a view where PyTorch allows one), or a clear error."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.device.type != "cpu":
        raise ValueError(f"conv1dt.torch computes CPU tensors, but {name} is on {t.device}")
    if t.dtype not in (torch.float16, torch.float32, torch.float64, torch.complex64,
                       torch.complex128):
        raise TypeError(f"{name} must have dtype float16, float32, float64, complex64 or "
                        f"complex128, got {t.dtype}")
    return t.detach().resolve_conj().resolve_neg().numpy()


def _tensor(a):
    return torch.from_numpy(np.ascontiguousarray(a))


class _Conv1DTranspose(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, f, args):
        output_shape, strides, padding, data_format, dilations, groups = args
        ctx.args = args
        ctx.save_for_backward(x, f)
        y = _conv1d_transpose(_numpy(x, "input"), _numpy(f, "filters"), output_shape, strides,
                              padding, data_format, dilations, groups=groups)
        return _tensor(y)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dy):
        x, f = ctx.saved_tensors
        output_shape, strides, padding, data_format, dilations, groups = ctx.args
        dy = dy.detach().resolve_conj().resolve_neg().numpy()
        dx = df = None
        if ctx.needs_input_grad[0]:
            fc = np.conj(_numpy(f, "filters"))
            dx = _tensor(_conv1d(dy, fc, strides, padding, data_format, dilations, groups=groups))
        if ctx.needs_input_grad[1]:
            xc = np.conj(_numpy(x, "input"))
            df = _tensor(_backprop_filter(dy, tuple(f.shape), xc, strides, padding, data_format,
                                          dilations, groups=groups))
        return dx, df, None


class _Conv1D(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w, f, args):
        stride, padding, data_format, dilations, groups = args
        ctx.args = args
        ctx.save_for_backward(w, f)
        z = _conv1d(_numpy(w, "input"), _numpy(f, "filters"), stride, padding, data_format,
                    dilations, groups=groups)
        return _tensor(z)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dz):
        w, f = ctx.saved_tensors
        stride, padding, data_format, dilations, groups = ctx.args
        dz = dz.detach().resolve_conj().resolve_neg().numpy()
        dw = df = None
        if ctx.needs_input_grad[0]:
            fc = np.conj(_numpy(f, "filters"))
            dw = _tensor(_conv1d_transpose(dz, fc, tuple(w.shape), stride, padding, data_format,
                                           dilations, groups=groups))
        if ctx.needs_input_grad[1]:
            wc = np.conj(_numpy(w, "input"))
            df = _tensor(_backprop_filter(wc, tuple(f.shape), dz, stride, padding, data_format,
                                          dilations, groups=groups))
        return dw, df, None


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NWC",
                     dilations=None, name=None, groups=1):
    r""":func:`conv1dt.conv1d_transpose` on CPU tensors, differentiable in both operands.

    Parameters
    ----------
    input, filters : torch.Tensor
        As for :func:`conv1dt.conv1d_transpose` (``filters`` is ``[K, out_channels / groups,
        in_channels]``), on the CPU, float16 to complex128.
    output_shape, strides, padding, data_format, dilations, name, groups
        As for :func:`conv1dt.conv1d_transpose`.

    Returns
    -------
    torch.Tensor
        A new CPU tensor of shape ``output_shape``, with a ``grad_fn`` when an operand requires
        gradients.

    Raises
    ------
    TypeError
        If an operand is not a tensor of an accepted dtype (and as
        :func:`conv1dt.conv1d_transpose`).
    ValueError
        If an operand is not on the CPU (and as :func:`conv1dt.conv1d_transpose`).

    See Also
    --------
    conv1d : the forward convolution, which is this op's gradient in ``input``.
    ConvTranspose1d : the same as a ``torch.nn`` module with PyTorch's arguments.

    Notes
    -----
    The backward pass is :func:`conv1dt.conv1d` (for ``input``) and
    :func:`conv1dt.conv1d_backprop_filter` (for ``filters``) on the incoming gradient, with
    the other operand conjugated (PyTorch's convention for complex tensors). It is not itself
    differentiable (no second derivatives).

    Examples
    --------
    >>> import torch
    >>> import conv1dt.torch
    >>> x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64).reshape(1, 3, 1)
    >>> f = torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64).reshape(3, 1, 1).requires_grad_()
    >>> y = conv1dt.torch.conv1d_transpose(x, f, [1, 7, 1], 2, "VALID")
    >>> y[0, :, 0]
    tensor([  1.,  10., 102.,  20., 203.,  30., 300.], dtype=torch.float64,
           grad_fn=<SelectBackward0>)
    >>> y.sum().backward()
    >>> f.grad[:, 0, 0]                     # each tap meets every input sample once
    tensor([6., 6., 6.], dtype=torch.float64)
    """
    args = (output_shape, strides, padding, data_format, dilations, groups)
    return _Conv1DTranspose.apply(input, filters, args)


def conv1d(input, filters, stride, padding="SAME", data_format="NWC", dilations=None, name=None,
           groups=1):
    r""":func:`conv1dt.conv1d` on CPU tensors, differentiable in both operands.

    Parameters
    ----------
    input, filters : torch.Tensor
        As for :func:`conv1dt.conv1d` (``filters`` is ``[K, in_channels / groups,
        out_channels]``), on the CPU, float16 to complex128.
    stride, padding, data_format, dilations, name, groups
        As for :func:`conv1dt.conv1d` (with the groups it infers from the filters' shape).

    Returns
    -------
    torch.Tensor
        A new CPU tensor, conv1d's output.

    Raises
    ------
    TypeError
        If an operand is not a tensor of an accepted dtype (and as :func:`conv1dt.conv1d`).
    ValueError
        If an operand is not on the CPU (and as :func:`conv1dt.conv1d`).

    See Also
    --------
    conv1d_transpose : its gradient in ``input``.

    Notes
    -----
    The backward pass is :func:`conv1dt.conv1d_transpose` (for ``input``) and
    :func:`conv1dt.conv1d_backprop_filter` (for ``filters``), with the other operand
    conjugated.

    Examples
    --------
    The gradient of a sum of conv1d's outputs with respect to its input counts how many windows
    each sample falls in:

    >>> import torch
    >>> import conv1dt.torch
    >>> w = torch.zeros(1, 5, 1, dtype=torch.float64, requires_grad=True)
    >>> f = torch.ones(3, 1, 1, dtype=torch.float64)
    >>> conv1dt.torch.conv1d(w, f, 1, "VALID").sum().backward()
    >>> w.grad[0, :, 0]
    tensor([1., 2., 3., 2., 1.], dtype=torch.float64)
    """
    groups = _forms.implicit_groups(input, filters, data_format, groups)
    args = (stride, padding, data_format, dilations, groups)
    return _Conv1D.apply(input, filters, args)


class ConvTranspose1d(torch.nn.ConvTranspose1d):
    r"""``torch.nn.ConvTranspose1d`` computed by conv1dt: the same arguments, parameters and
    results.

    A subclass of ``torch.nn.ConvTranspose1d`` with its constructor, its ``weight``
    ``[in_channels, out_channels / groups, kernel_size]`` and ``bias`` (so its ``state_dict``
    loads in either), whose forward pass is :func:`conv1d_transpose` in NCW layout with the
    weight read as conv1dt's filters (``weight.permute(2, 1, 0)``, no copy).

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, output_padding
        As for ``torch.nn.ConvTranspose1d``.
    groups, bias, dilation, padding_mode, device, dtype
        As for ``torch.nn.ConvTranspose1d``. ``padding_mode`` can only be ``'zeros'``
        (PyTorch's constructor refuses others) and ``device`` must be the CPU.

    See Also
    --------
    conv1d_transpose : the function it calls.

    Notes
    -----
    PyTorch's output width is :math:`L = (M - 1) s - 2p + d (K - 1) + p_o + 1` for padding
    :math:`p` and output padding :math:`p_o`: the full transposed convolution cropped by
    :math:`p` at both ends, and :math:`p_o` more samples at the end. In conv1dt's terms that
    is explicit padding :math:`(p, p)` with output width :math:`L` (or ``output_size``'s).

    Examples
    --------
    The same result as PyTorch's module with the same parameters:

    >>> import torch
    >>> import conv1dt.torch
    >>> torch.manual_seed(0)
    <torch._C.Generator object at ...>
    >>> ours = conv1dt.torch.ConvTranspose1d(4, 6, 5, stride=2, padding=1, output_padding=1,
    ...                                      groups=2, dtype=torch.float64)
    >>> theirs = torch.nn.ConvTranspose1d(4, 6, 5, stride=2, padding=1, output_padding=1,
    ...                                   groups=2, dtype=torch.float64)
    >>> _ = theirs.load_state_dict(ours.state_dict())
    >>> x = torch.randn(3, 4, 10, dtype=torch.float64)
    >>> ours(x).shape
    torch.Size([3, 6, 22])
    >>> torch.allclose(ours(x), theirs(x))
    True
    """

    def forward(self, input, output_size=None):
        unbatched = input.dim() == 2
        x = input.unsqueeze(0) if unbatched else input
        if x.dim() != 3:
            raise ValueError(f"input must be 2-D [in_channels, width] or 3-D [batch, "
                             f"in_channels, width], got shape {tuple(input.shape)}")
        (s,), (p,), (d,), (op,) = self.stride, self.padding, self.dilation, self.output_padding
        k = self.kernel_size[0]
        width = (x.shape[2] - 1) * s - 2 * p + d * (k - 1) + op + 1
        if output_size is not None:
            width = list(output_size)[-1]
        out_shape = [x.shape[0], self.out_channels, int(width)]
        y = conv1d_transpose(x, self.weight.permute(2, 1, 0), out_shape, s,
                             [[0, 0], [0, 0], [p, p]], "NCW", d, groups=self.groups)
        if self.bias is not None:
            y = y + self.bias[None, :, None]
        return y.squeeze(0) if unbatched else y
