"""TensorFlow's other forms of a call, reduced to the plain one at the argument level.

``tf.nn.conv1d`` takes an input of rank at least 3, ``[*batch_shape, in_width, in_channels]``
(NCW: ``[*batch_shape, in_channels, in_width]``), and infers channel groups from the filter's
shape when the input has more channels than the filter reads (``in_channels`` a multiple of
``filters.shape[1]``). The public ops call these helpers before anything else, so that the
geometry, the planner and the kernels only ever see the plain rank-3, explicit-groups call:

* :func:`leading_shape` tells whether a call has extra leading batch dimensions;
* :func:`with_leading` runs a rank-3 op on them (reshape to one batch axis, call, reshape back);
* :func:`implicit_groups` is ``tf.nn.conv1d``'s rule for the groups.
"""
import math
import operator
import re

import numpy as np

__all__ = ["leading_shape", "with_leading", "implicit_groups"]


def leading_shape(a):
    """The leading batch dimensions of ``a`` (a tuple) when it has rank above 3, else None.

    Arrays and objects with a ``shape`` are read without conversion; nested sequences through
    ``np.shape``. Anything that has no shape is left to the op's own checks (None).
    """
    try:
        shape = a.shape if hasattr(a, "shape") else np.shape(a)
    except (ValueError, TypeError):   # ragged nesting: the op reports it
        return None
    if len(shape) <= 3:
        return None
    return tuple(shape[:-2])


def _shape_list(shape, name):
    """``shape`` as a list (a sequence or an integer array), or a ValueError naming it."""
    if isinstance(shape, np.ndarray):
        shape = shape.tolist()
    try:
        return list(shape)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of ints, got {shape!r}") from None


def _as_array(a, other):
    """``a`` as an array; a plain sequence takes the dtype of an ``other`` array when the cast
    keeps its kind (the ops' own rule for lists, kept through the reshape)."""
    if hasattr(a, "dtype") or not hasattr(other, "dtype"):
        return np.asarray(a)
    arr = np.asarray(a)
    if arr.dtype.kind in "fc" and np.can_cast(arr.dtype, other.dtype, "same_kind"):
        return arr.astype(other.dtype)
    return arr


def with_leading(op, a, b, lead, *, shape=None, shape_name="output_shape", a_name="input",
                 b_name=None, shape_is_output=True):
    """``op`` on operands with leading batch dimensions ``lead``, through one batch axis.

    ``a`` (``input``) has shape ``[*lead, x, y]``; ``b`` is the second operand: the filters (a
    rank-3 array, left alone) or, when ``b_name`` is given, a second signal of the same leading
    dimensions (``out_backprop``), reshaped alike. ``shape``, when given and
    ``shape_is_output``, is the output's shape ``[*lead, x', y']``, and becomes
    ``[prod(lead), x', y']``; ``op(a3, b3, shape3)`` is then called, or ``op(a3, b3)`` without
    a shape. The result gets ``lead`` back when it is a signal (``shape_is_output`` or no shape);
    a filter gradient (``shape_is_output=False``: ``shape`` is passed as it is) has none.

    Reshaping a C-contiguous array this way is free; a strided one is copied once by NumPy.
    """
    a = _as_array(a, b)
    n = math.prod(lead)
    a3 = a.reshape((n,) + a.shape[-2:])
    if b_name is not None:
        b = _as_array(b, a)
        if b.ndim != a.ndim or tuple(b.shape[:-2]) != lead:
            raise ValueError(
                f"{b_name} must have the leading (batch) dimensions of {a_name}, {lead}, "
                f"got shape {b.shape}")
        b = b.reshape((n,) + b.shape[-2:])
    try:
        return _run(op, a3, b, a, lead, n, shape, shape_name, a_name, shape_is_output)
    except ValueError as exc:
        raise ValueError(_reindexed(str(exc), len(lead) - 1)) from None


_INDEXED = re.compile(r"\b(input\.shape|output_shape|out_backprop\.shape)\[(\d+)\]")


def _reindexed(message, shift):
    """A rank-3 call's message with its signal indices moved to the caller's rank: the width
    and channel axes of ``input``, ``output_shape`` and ``out_backprop`` come ``shift`` axes
    later (index 0, the batch, is the leading dimensions and is checked before)."""
    def move(m):
        j = int(m.group(2))
        return f"{m.group(1)}[{j + shift if j > 0 else j}]"
    return _INDEXED.sub(move, message)


def _run(op, a3, b, a, lead, n, shape, shape_name, a_name, shape_is_output):
    if shape is None:
        out = op(a3, b)
    elif not shape_is_output:
        return op(a3, b, shape)
    else:
        seq = _shape_list(shape, shape_name)
        if len(seq) != a.ndim:
            raise ValueError(
                f"{a_name} must be 3-D, or of rank r > 3 with {shape_name} of r elements (leading "
                f"batch dimensions); got {a_name}.shape={a.shape} and {shape_name} of {len(seq)} "
                f"elements: {shape!r}")
        try:
            given = tuple(operator.index(v) for v in seq[:-2])
        except TypeError:
            raise ValueError(f"{shape_name} must hold integers, got {shape!r}") from None
        if given != lead:
            raise ValueError(
                f"{shape_name}[:{len(lead)}] is {list(given)}, but {a_name} has leading (batch) "
                f"dimensions {list(lead)}")
        out = op(a3, b, [n] + seq[-2:])
    return out.reshape(lead + out.shape[1:])


def implicit_groups(input, filters, data_format, groups):
    """``groups``, or the groups ``tf.nn.conv1d`` infers from the shapes when ``groups`` is 1.

    With ``groups == 1``, an input of ``Cin`` channels and filters ``[K, Cf, Cout]`` with
    ``Cf < Cin`` dividing ``Cin``, TensorFlow computes a grouped convolution with ``Cin / Cf``
    groups; ``Cout`` must then be a multiple of the groups. Any other case returns ``groups`` as
    it is, for the op's own checks and messages.
    """
    if type(groups) is not int or groups != 1:
        return groups
    try:
        xs = input.shape if hasattr(input, "shape") else np.shape(input)
        fs = filters.shape if hasattr(filters, "shape") else np.shape(filters)
    except (ValueError, TypeError):
        return groups
    if len(xs) < 3 or len(fs) != 3 or data_format not in (None, "NWC", "NCW"):
        return groups
    c_ax = -1 if data_format in (None, "NWC") else -2
    cin, cf, cout = xs[c_ax], fs[1], fs[2]
    if not (0 < cf < cin and cin % cf == 0):
        return groups
    g = cin // cf
    if cout % g:
        raise ValueError(
            f"filters.shape[2] (out_channels) is {cout}, which the {g} groups implied by "
            f"input's {cin} channels and filters.shape[1] = {cf} (in_channels per group) do not "
            f"divide")
    return g
