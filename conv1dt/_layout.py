"""Argument normalisation at the public boundary (pure Python).

Everything here turns what a user may pass (lists, ints, views of any memory layout, any byte
order) into what the kernels take: arrays of one float dtype and plain positive ints (the public
function then makes them C-contiguous and native-endian, in the user's NWC or NCW layout). Each function raises ValueError or TypeError naming the argument.
"""
import numbers
import operator

import numpy as np

__all__ = [
    "DATA_FORMATS",
    "parse_data_format",
    "parse_padding",
    "window_param",
    "as_operands",
    "as_shape",
]

DATA_FORMATS = ("NWC", "NCW")

# dtype an operand is computed in: float16 is accepted and computed in float32, as TensorFlow does.
COMPUTE_DTYPES = {
    np.dtype(np.float16): np.dtype(np.float32),
    np.dtype(np.float32): np.dtype(np.float32),
    np.dtype(np.float64): np.dtype(np.float64),
}


# Native-endian float dtypes, as the dtype objects arrays carry.
_NATIVE = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def parse_data_format(data_format):
    """Return ``'NWC'`` or ``'NCW'``; ``None`` means ``'NWC'`` (TensorFlow's default)."""
    if data_format is None:
        return "NWC"
    if not isinstance(data_format, str) or data_format not in DATA_FORMATS:
        raise ValueError(f"data_format must be 'NWC' or 'NCW', got {data_format!r}")
    return data_format


def parse_padding(padding):
    """Return ``'SAME'`` or ``'VALID'``; anything else is a ValueError (TensorFlow is case-sensitive)."""
    if not isinstance(padding, str) or padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
    return padding


def _as_int(value, what):
    """``operator.index(value)`` with a ValueError naming ``what``; bools are refused."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{what} must be an integer, got {value!r}") from None


def window_param(value, name, data_format, default=1):
    """Normalise ``strides`` or ``dilations`` to one positive int.

    Accepted, as in ``tf.nn.conv1d_transpose``: an int ``v``, ``[v]``, or a length-3 sequence with
    ``v`` at the width position (``[1, v, 1]`` for NWC, ``[1, 1, v]`` for NCW) and 1 at the batch
    and channel positions. ``None`` means ``default``. TensorFlow silently accepts a batch or channel
    entry other than 1 and ignores it; we refuse it.
    """
    if value is None:
        return default
    if type(value) is int and value >= 1:  # the common case, decided without further checks
        return value
    if isinstance(value, numbers.Integral) or (isinstance(value, np.ndarray) and value.ndim == 0):
        v = _as_int(value, name)
    else:
        try:
            seq = list(value)
        except TypeError:
            raise ValueError(f"{name} must be an int or a list of 1 or 3 ints, got {value!r}") from None
        if len(seq) == 1:
            v = _as_int(seq[0], f"{name}[0]")
        elif len(seq) == 3:
            width_axis = 1 if data_format == "NWC" else 2
            ints = [_as_int(e, f"{name}[{j}]") for j, e in enumerate(seq)]
            others = [j for j in range(3) if j != width_axis and ints[j] != 1]
            if others:
                raise ValueError(
                    f"{name} must be 1 in the batch and channel dimensions for data_format="
                    f"{data_format!r}, got {name}={ints}"
                )
            v = ints[width_axis]
        else:
            raise ValueError(f"{name} must be an int or a list of 1 or 3 ints, got length {len(seq)}: {value!r}")
    if v < 1:
        raise ValueError(f"{name} must be positive, got {v}")
    return v


def _as_float_array(value, name):
    """``np.asarray`` with the errors a user can act on; refuses non-float dtypes with TypeError."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nesting, unconvertible objects
        raise ValueError(f"{name} could not be read as an array: {exc}") from None
    if arr.dtype.kind != "f" or arr.dtype.newbyteorder("=") not in COMPUTE_DTYPES:
        raise TypeError(
            f"{name} must have dtype float16, float32 or float64, got {arr.dtype}"
        )
    return arr


def as_operands(input, filters):
    """Return ``(x, f, dtype)``: both operands as arrays of one float dtype.

    A plain sequence (no dtype of its own) takes the dtype of the other operand when that is an
    array, so ``conv1d_transpose([[[1.0]]], f32_filters, ...)`` computes in float32 as TensorFlow
    does. Two arrays of different dtypes are a TypeError.
    """
    if (type(input) is np.ndarray and type(filters) is np.ndarray and input.dtype is filters.dtype
            and input.dtype in _NATIVE and input.ndim == 3 and filters.ndim == 3):
        return input, filters, input.dtype  # the common case, decided without further checks
    x = _as_float_array(input, "input")
    f = _as_float_array(filters, "filters")
    xt, ft = x.dtype.newbyteorder("="), f.dtype.newbyteorder("=")
    if xt != ft:
        if not hasattr(input, "dtype") and hasattr(filters, "dtype"):
            x, xt = x.astype(ft), ft
        elif not hasattr(filters, "dtype") and hasattr(input, "dtype"):
            f, ft = f.astype(xt), xt
        else:
            raise TypeError(f"input and filters must have the same dtype, got {xt} and {ft}")
    for arr, name in ((x, "input"), (f, "filters")):
        if arr.ndim != 3:
            raise ValueError(f"{name} must be 3-D, got shape {arr.shape}")
    return x, f, xt


def as_shape(output_shape, name="output_shape"):
    """Return ``output_shape`` as a tuple of 3 non-negative ints (list, tuple or integer array)."""
    if type(output_shape) in (list, tuple) and len(output_shape) == 3:
        a, b, c = output_shape
        if type(a) is int and type(b) is int and type(c) is int and min(a, b, c) >= 0:
            return (a, b, c)  # the common case, decided without further checks
    if isinstance(output_shape, np.ndarray):
        if output_shape.dtype.kind not in "iu":
            raise ValueError(f"{name} must hold integers, got an array of dtype {output_shape.dtype}")
        output_shape = output_shape.tolist()
    try:
        seq = list(output_shape)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of 3 ints, got {output_shape!r}") from None
    if len(seq) != 3:
        raise ValueError(f"{name} must have 3 elements, got {len(seq)}: {output_shape!r}")
    shape = tuple(_as_int(v, f"{name}[{j}]") for j, v in enumerate(seq))
    for j, v in enumerate(shape):
        if v < 0:
            raise ValueError(f"{name}[{j}] must be non-negative, got {v}")
    return shape
