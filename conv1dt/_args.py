"""Argument normalisation at the public boundary (pure Python).

Everything here turns what a user may pass (lists, ints, views of any memory layout, any byte
order) into what the kernels take: arrays of one float or complex dtype and plain positive ints (the
public function then makes them C-contiguous and native-endian, in the user's NWC or NCW layout).
Each function raises ValueError or TypeError naming the argument.
"""
import numbers
import operator

import numpy as np

__all__ = [
    "DATA_FORMATS",
    "parse_data_format",
    "parse_padding",
    "parse_groups",
    "window_param",
    "as_operand",
    "as_operands",
    "as_shape",
    "c_array",
    "real_compute_dtype",
]

DATA_FORMATS = ("NWC", "NCW")

# The real dtype the kernels compute an operand's dtype in: float16 is accepted and computed in
# float32, as TensorFlow does; complex is computed as real products of its parts (conv1dt/_ops.py).
COMPUTE_DTYPES = {
    np.dtype(np.float16): np.dtype(np.float32),
    np.dtype(np.float32): np.dtype(np.float32),
    np.dtype(np.float64): np.dtype(np.float64),
    np.dtype(np.complex64): np.dtype(np.float32),
    np.dtype(np.complex128): np.dtype(np.float64),
}
DTYPE_NAMES = "float16, float32, float64, complex64 or complex128"


# Native-endian accepted dtypes, as the dtype objects arrays carry.
_NATIVE = tuple(COMPUTE_DTYPES)


def c_array(a, dtype=None):
    """``np.ascontiguousarray(a, dtype)``, copied as well when its data is not aligned to its
    element size (a view at an odd byte offset into a buffer): the kernels read operands through
    C pointers of the element type, which must be aligned."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.aligned else a.copy()


def real_compute_dtype(dtype):
    """The real dtype the kernels compute ``dtype`` in (a key of ``COMPUTE_DTYPES``)."""
    return COMPUTE_DTYPES[np.dtype(dtype)]


def parse_data_format(data_format):
    """Return ``'NWC'`` or ``'NCW'``; ``None`` means ``'NWC'`` (TensorFlow's default)."""
    if data_format is None:
        return "NWC"
    if not isinstance(data_format, str) or data_format not in DATA_FORMATS:
        raise ValueError(f"data_format must be 'NWC' or 'NCW', got {data_format!r}")
    return data_format


def parse_padding(padding, data_format="NWC"):
    """Return ``'SAME'``, ``'VALID'`` or an explicit ``(lo, hi)`` pair of non-negative ints.

    Explicit padding is written as TensorFlow's ``conv2d_transpose`` takes it, one pair per
    dimension of the layout: ``[[0, 0], [lo, hi], [0, 0]]`` for NWC, ``[[0, 0], [0, 0], [lo, hi]]``
    for NCW (a list, tuple or integer array), with zeros for the batch and channels. Strings are
    case-sensitive, as in TensorFlow.
    """
    if type(padding) is str and (padding == "SAME" or padding == "VALID"):
        return padding  # the common case, decided without further checks
    width_axis = 1 if data_format == "NWC" else 2
    form = [[0, 0], [0, 0], [0, 0]]
    form[width_axis] = ["lo", "hi"]
    form = str(form).replace("'", "")
    bad = ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r} (explicit padding is "
                     f"written {form} for data_format={data_format!r})")
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise bad
        return padding
    if isinstance(padding, np.ndarray):
        if padding.dtype.kind not in "iu":
            raise bad
        padding = padding.tolist()
    try:
        pairs = [list(pair) for pair in padding]
    except TypeError:
        raise bad from None
    if len(pairs) != 3 or any(len(pair) != 2 for pair in pairs):
        raise bad
    ints = [[_as_int(v, f"padding[{j}][{e}]") for e, v in enumerate(pair)] for j, pair in enumerate(pairs)]
    if any(ints[j] != [0, 0] for j in range(3) if j != width_axis):
        raise ValueError(f"padding must be [0, 0] in the batch and channel dimensions for "
                         f"data_format={data_format!r}, got padding={ints}")
    lo, hi = ints[width_axis]
    for e, v in enumerate((lo, hi)):
        if v < 0:
            raise ValueError(f"padding[{width_axis}][{e}] must be non-negative, got {v}")
    return lo, hi


def parse_groups(groups):
    """Return ``groups`` as a positive int (the number of channel groups)."""
    if type(groups) is int and groups >= 1:
        return groups
    g = _as_int(groups, "groups")
    if g < 1:
        raise ValueError(f"groups must be positive, got {g}")
    return g


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


def _as_operand(value, name):
    """``np.asarray`` with the errors a user can act on; refuses other dtypes with TypeError,
    and masked arrays (whose hidden data would be computed as if unmasked)."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(f"{name} is a numpy.ma.MaskedArray: conv1dt would compute with the data "
                        f"under its mask; pass {name}.filled(0) (or another fill) instead")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nesting, unconvertible objects
        raise ValueError(f"{name} could not be read as an array: {exc}") from None
    _check_dtype(arr.dtype, name)
    return arr


def _check_dtype(dtype, name):
    """``dtype`` in native byte order; a TypeError naming ``name`` when conv1dt does not compute
    in it."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc" or dtype.newbyteorder("=") not in COMPUTE_DTYPES:
        raise TypeError(f"{name} must have dtype {DTYPE_NAMES}, got {dtype}")
    return dtype.newbyteorder("=")


def as_operand(value, dtype, names=("input", "filters"), index=0):
    """Return ``value``, operand ``index`` of the pair ``names``, as a 3-D array, checked as
    :func:`as_operands` checks it beside the other operand, an array of ``dtype`` (checked too):
    for one operand whose partner is known by its dtype alone (a stream's next block beside its
    filters; the filters beside a Dask array). A plain sequence takes ``dtype`` when the cast keeps
    its kind; an array of another dtype is a TypeError."""
    known = _check_dtype(dtype, names[1 - index])
    arr = _as_operand(value, names[index])
    own = arr.dtype.newbyteorder("=")
    if own != known:
        if hasattr(value, "dtype") or not np.can_cast(own, known, "same_kind"):
            pair = (own, known) if index == 0 else (known, own)
            raise TypeError(f"{names[0]} and {names[1]} must have the same dtype, got {pair[0]} and "
                            f"{pair[1]}")
        arr = arr.astype(known)
    if arr.ndim != 3:
        raise ValueError(f"{names[index]} must be 3-D, got shape {arr.shape}")
    return arr


def as_operands(input, filters, names=("input", "filters")):
    """Return ``(x, f, dtype)``: both operands as 3-D arrays of one float or complex dtype.

    A plain sequence (no dtype of its own) takes the dtype of the other operand when that is an
    array and the cast keeps its kind (a list of floats beside complex64 filters becomes complex64;
    a list of complex numbers beside float32 filters stays a dtype mismatch), so
    ``conv1d_transpose([[[1.0]]], f32_filters, ...)`` computes in float32 as TensorFlow does. Two
    arrays of different dtypes are a TypeError. ``names`` are the arguments' names for messages.
    """
    if (type(input) is np.ndarray and type(filters) is np.ndarray and input.dtype is filters.dtype
            and input.dtype in _NATIVE and input.ndim == 3 and filters.ndim == 3):
        return input, filters, input.dtype  # the common case, decided without further checks
    x = _as_operand(input, names[0])
    f = _as_operand(filters, names[1])
    xt, ft = x.dtype.newbyteorder("="), f.dtype.newbyteorder("=")
    if xt != ft:
        if not hasattr(input, "dtype") and hasattr(filters, "dtype") and np.can_cast(xt, ft, "same_kind"):
            x, xt = x.astype(ft), ft
        elif not hasattr(filters, "dtype") and hasattr(input, "dtype") and np.can_cast(ft, xt, "same_kind"):
            f, ft = f.astype(xt), xt
        else:
            raise TypeError(f"{names[0]} and {names[1]} must have the same dtype, got {xt} and {ft}")
    for arr, name in ((x, names[0]), (f, names[1])):
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
