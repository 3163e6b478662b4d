"""Other libraries' transposed convolutions, computed with conv1dt and NumPy only.

This module is the code of the migration page (``docs/migration.rst`` includes it as it stands),
and the code that ``docs/verify_migration.py`` checks against PyTorch, JAX, Flax, TensorFlow and
Keras, and ``tests/test_migration_recipes.py`` against NumPy and SciPy. Every recipe is one idea:
each framework's transposed convolution is a window of conv1dt's *full* result, the VALID result
at its narrowest width ``(M - 1)*s + Keff``, where no stamp is cut.
"""
import numpy as np

import conv1dt


def full_ncw(x, filters, s, d=1, groups=1):
    """conv1dt's VALID result at full width ``(M-1)*s + Keff``, NCW; filters ``[K, Cout/groups, Cin]``."""
    n, _, m = x.shape
    k, cout, _ = filters.shape
    width = (m - 1) * s + (k - 1) * d + 1
    return conv1dt.conv1d_transpose(x, filters, [n, cout * groups, width], s, "VALID", "NCW", d,
                                    groups=groups)


def window(full, start, length):
    """``full[..., start:start + length]`` along the last axis, with zeros wherever the window
    reaches outside ``0 <= o < full width`` (before the start, when ``start < 0``, or past the end).
    A negative ``length`` gives no samples, as the frameworks' width formulas clamp at 0."""
    length = max(length, 0)
    before = max(-start, 0)
    after = max(start + length - full.shape[-1], 0)
    padded = np.pad(full, [(0, 0)] * (full.ndim - 1) + [(before, after)])
    return padded[..., start + before:start + before + length]


# PyTorch ------------------------------------------------------------------------------------

def torch_length(m, k, stride=1, padding=0, output_padding=0, dilation=1):
    """The output width of ``torch.nn.functional.conv_transpose1d``."""
    return (m - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1


def like_torch(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """``torch.nn.functional.conv_transpose1d(x, weight, bias, stride, padding, output_padding,
    groups, dilation)`` on NumPy arrays: x ``[N, Cin, M]``, weight ``[Cin, Cout/groups, K]``."""
    length = torch_length(x.shape[-1], weight.shape[-1], stride, padding, output_padding, dilation)
    filters = weight.transpose(2, 1, 0)             # torch: weight.permute(2, 1, 0), all groups
    y = window(full_ncw(x, filters, stride, dilation, groups), padding, length)
    return y if bias is None else y + bias[:, None]


def torch_output_padding(m, k, output_size, stride=1, padding=0, dilation=1):
    """The ``output_padding`` that ``torch.nn.ConvTranspose1d.forward(x, output_size=...)``
    chooses: ``output_size`` minus the narrowest width, which must lie in ``0 .. stride - 1``."""
    smallest = torch_length(m, k, stride, padding, 0, dilation)
    if not smallest <= output_size <= smallest + stride - 1:
        raise ValueError(f"output_size {output_size} is not in {smallest}..{smallest + stride - 1}")
    return output_size - smallest


# JAX and Flax -------------------------------------------------------------------------------

def jax_string_width(m, k, s, padding, d=1):
    """The width of ``jax.lax.conv_transpose`` with ``'SAME'`` or ``'VALID'``."""
    keff = (k - 1) * d + 1
    return m * s if padding == "SAME" else m * s + max(keff - s, 0)


def like_jax(x, rhs, s, padding, d=1, transpose_kernel=False, use_consistent_padding=False):
    """``jax.lax.conv_transpose(x, rhs, (s,), padding, rhs_dilation=(d,), dimension_numbers=
    ('NWC', 'WIO', 'NWC'), transpose_kernel=..., use_consistent_padding=...)``, x ``[N, M, Cin]``.

    With ``transpose_kernel=True`` ``rhs`` is the forward conv's ``'WIO'`` kernel, conv1dt's
    filters as they are; by default it is ``[K, Cin, Cout]``, applied unflipped to the
    zero-inserted input, which is conv1dt with ``rhs[::-1].transpose(0, 2, 1)``.
    """
    filters = rhs if transpose_kernel else rhs[::-1].transpose(0, 2, 1)
    n, m, _ = x.shape
    k, cout, _ = filters.shape
    keff = (k - 1) * d + 1
    if isinstance(padding, str):                    # 'SAME' and 'VALID' mean what they mean in conv1dt
        width = jax_string_width(m, k, s, padding, d)
        return conv1dt.conv1d_transpose(x, filters, [n, width, cout], s, padding, dilations=d)
    (lo, hi), = padding
    full = full_ncw(x.transpose(0, 2, 1), filters, s, d)
    if use_consistent_padding:                      # (lo, hi): the forward conv's padding, as in torch
        start, length = lo, (m - 1) * s + keff - lo - hi
    else:                                           # (lo, hi) pads the zero-inserted input
        start, length = keff - 1 - lo, (m - 1) * s + lo + hi - keff + 2
    return window(full, start, length).transpose(0, 2, 1)


def like_flax(x, kernel, s, padding="SAME", d=1):
    """``flax.linen.ConvTranspose(features, (K,), (s,), padding, kernel_dilation=(d,))`` with its
    default ``transpose_kernel=False``: kernel ``[K, in_features, features]`` is JAX's ``rhs``."""
    return like_jax(x, kernel, s, padding, d, transpose_kernel=False)


# Keras --------------------------------------------------------------------------------------

def keras_width(m, k, s, padding, d=1, output_padding=None):
    """The output width of ``keras.layers.Conv1DTranspose``; ``padding`` is ``'same'`` or ``'valid'``."""
    keff = (k - 1) * d + 1
    if output_padding is None:
        return m * s if padding == "same" else m * s + max(keff - s, 0)
    return (m - 1) * s + (keff % 2 if padding == "same" else keff) + output_padding


def like_keras(x, kernel, s, padding="valid", d=1, output_padding=None):
    """``keras.layers.Conv1DTranspose(filters, K, s, padding, output_padding, dilation_rate=d)``,
    x ``[N, M, Cin]``, kernel ``[K, filters, in_channels]`` (conv1dt's layout): the same padding
    string, upper case, at the width Keras computes."""
    n, m, _ = x.shape
    k, cout, _ = kernel.shape
    width = keras_width(m, k, s, padding, d, output_padding)
    return conv1dt.conv1d_transpose(x, kernel, [n, width, cout], s, padding.upper(), dilations=d)


# SciPy --------------------------------------------------------------------------------------

def like_upfirdn(h, x, up):
    """``scipy.signal.upfirdn(h, x, up=up)`` of one signal: zero insertion, then the full
    convolution with ``h``, which is conv1dt's full result at stride ``up``."""
    x = np.asarray(x, dtype=float).reshape(1, 1, -1)
    h = np.asarray(h, dtype=float).reshape(-1, 1, 1)
    return full_ncw(x, h, up)[0, 0]
