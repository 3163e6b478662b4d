r"""conv1d_transpose and conv1d as SciPy linear operators, each with its exact adjoint.

Inverse problems (deconvolution, super-resolution, compressed sensing) solve for the input of a
convolution with iterative methods, LSQR, CG or CGLS, that need the operator and its adjoint and
nothing else. ``conv1d_transpose`` and ``conv1d`` are each other's transpose (conv1dt's gradient
family), so each operator here carries the other as its adjoint: no matrix is formed, and the
adjoint is exact, not an approximation (only rounding separates ``<A x, y>`` from
``<x, A^H y>``).

Load it as ``import conv1dt.linalg`` or use ``conv1dt.linalg`` after ``import conv1dt``; it needs
only SciPy, already a dependency.
"""
import math
import operator

import numpy as np
from scipy.sparse.linalg import LinearOperator

from . import _forms
from ._ops import conv1d, conv1d_transpose

__all__ = ["conv1d_transpose_operator", "conv1d_operator"]

# Vector dtypes the kernels compute; a vector of another dtype is computed in its common dtype
# with the operator's (a float32 operator applied to a float64 vector computes in float64).
_COMPUTED = tuple(np.dtype(t) for t in (np.float16, np.float32, np.float64, np.complex64,
                                         np.complex128))


def _as_shape(shape, name):
    """``shape`` as a tuple of at least 3 non-negative ints, or a ValueError naming it."""
    if isinstance(shape, np.ndarray):
        shape = shape.tolist()
    try:
        seq = list(shape)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of ints, got {shape!r}") from None
    out = []
    for j, v in enumerate(seq):
        if isinstance(v, (bool, np.bool_)):
            raise ValueError(f"{name}[{j}] must be an integer, got {v!r}")
        try:
            v = operator.index(v)
        except TypeError:
            raise ValueError(f"{name}[{j}] must be an integer, got {v!r}") from None
        if v < 0:
            raise ValueError(f"{name}[{j}] must be non-negative, got {v}")
        out.append(v)
    if len(out) < 3:
        raise ValueError(f"{name} must have at least 3 elements ([batch, width, channels] or "
                         f"[batch, channels, width], with any leading batch dimensions), got "
                         f"{shape!r}")
    return tuple(out)


def _as_filters(filters):
    """A private copy of ``filters`` (later changes to the caller's array do not reach it)."""
    try:
        return np.array(filters, copy=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"filters could not be read as an array: {exc}") from None


class _Conv1DFamilyOperator(LinearOperator):
    """A convolution of the family as a LinearOperator on flattened arrays.

    ``_forward(x3, f, n)`` and ``_backward(y3, f, n)`` compute the map and its transpose on
    rank-3 signals of batch ``n`` (the leading dimensions and the columns of a block flattened
    into one batch axis), for filters ``f`` already in the computing dtype. The adjoint is the
    transpose with the conjugated filters: every op of the family is bilinear, so
    ``conj(T(conj(y), f)) = T(y, conj(f))``.
    """

    def __init__(self, filters, in_shape, out_shape, describe):
        self._f = filters
        self._in_shape, self._out_shape = in_shape, out_shape
        self._batch = math.prod(in_shape[:-2])
        self._describe = describe
        self._cache = {}
        super().__init__(dtype=filters.dtype, shape=(math.prod(out_shape), math.prod(in_shape)))

    @property
    def input_shape(self):
        """The shape of the operator's input (its domain, before flattening)."""
        return self._in_shape

    @property
    def output_shape(self):
        """The shape of the operator's output (its range, before flattening)."""
        return self._out_shape

    @property
    def filters(self):
        """A copy of the operator's filters."""
        return self._f.copy()

    def _filters(self, dtype, conj):
        """The filters in ``dtype``, conjugated or not (kept for repeated calls)."""
        key = (dtype, conj)
        f = self._cache.get(key)
        if f is None:
            f = self._f.astype(dtype)
            f = np.conj(f) if conj else f
            self._cache[key] = f
        return f

    def _dtype(self, v):
        dt = np.result_type(self.dtype, v.dtype)
        if dt not in _COMPUTED:
            raise TypeError(f"the operator computes float16, float32, float64, complex64 or "
                            f"complex128 vectors, got {v.dtype}")
        return dt

    def _apply(self, v, columns, forward, conj):
        """The map (``forward``) or its transpose/adjoint on ``columns`` flattened vectors,
        laid out as a ``(size, columns)`` block (or one vector when ``columns`` is None)."""
        src, dst = (self._in_shape, self._out_shape) if forward else (self._out_shape,
                                                                       self._in_shape)
        dt = self._dtype(v)
        k = 1 if columns is None else columns
        n = k * self._batch
        block = v.reshape(-1) if columns is None else v.T
        a = np.asarray(block, dtype=dt).reshape((n,) + src[-2:])
        op = self._forward if forward else self._backward
        out = op(a, self._filters(dt, conj), n)
        if columns is None:
            return out.reshape(-1)
        return out.reshape(k, math.prod(dst)).T

    def _matvec(self, x):
        return self._apply(x, None, True, False)

    def _matmat(self, X):
        return self._apply(X, X.shape[1], True, False)

    def _rmatvec(self, y):
        return self._apply(y, None, False, True)

    def _rmatmat(self, Y):
        return self._apply(Y, Y.shape[1], False, True)

    def __repr__(self):
        m, n = self.shape
        return f"<{m}x{n} {self._describe} with dtype={self.dtype}>"


class _Conv1DTransposeOperator(_Conv1DFamilyOperator):
    def __init__(self, filters, in_shape, out_shape, args):
        self._args = args
        s, padding, data_format, dilations, groups = args
        pad = padding if isinstance(padding, str) else "explicit padding"
        super().__init__(filters, in_shape, out_shape,
                         f"conv1d_transpose operator {in_shape} -> {out_shape}, stride {s}, {pad}, "
                         f"{data_format}, groups {groups}")

    def _forward(self, x, f, n):
        s, padding, data_format, dilations, groups = self._args
        return conv1d_transpose(x, f, (n,) + self._out_shape[-2:], s, padding, data_format,
                                dilations, groups=groups)

    def _backward(self, y, f, n):
        s, padding, data_format, dilations, groups = self._args
        return conv1d(y, f, s, padding, data_format, dilations, groups=groups)

    def _adjoint(self):
        return _Conv1DOperator(np.conj(self._f), self._out_shape, self._in_shape, self._args)

    def _transpose(self):
        return _Conv1DOperator(self._f, self._out_shape, self._in_shape, self._args)


class _Conv1DOperator(_Conv1DFamilyOperator):
    def __init__(self, filters, in_shape, out_shape, args):
        self._args = args
        s, padding, data_format, dilations, groups = args
        pad = padding if isinstance(padding, str) else "explicit padding"
        super().__init__(filters, in_shape, out_shape,
                         f"conv1d operator {in_shape} -> {out_shape}, stride {s}, {pad}, "
                         f"{data_format}, groups {groups}")

    def _forward(self, x, f, n):
        s, padding, data_format, dilations, groups = self._args
        return conv1d(x, f, s, padding, data_format, dilations, groups=groups)

    def _backward(self, y, f, n):
        s, padding, data_format, dilations, groups = self._args
        return conv1d_transpose(y, f, (n,) + self._in_shape[-2:], s, padding, data_format,
                                dilations, groups=groups)

    def _adjoint(self):
        return _Conv1DTransposeOperator(np.conj(self._f), self._out_shape, self._in_shape,
                                        self._args)

    def _transpose(self):
        return _Conv1DTransposeOperator(self._f, self._out_shape, self._in_shape, self._args)


def conv1d_transpose_operator(filters, input_shape, output_shape, strides, padding="SAME",
                              data_format="NWC", dilations=None, groups=1):
    r"""``conv1d_transpose`` as a ``scipy.sparse.linalg.LinearOperator``, with its adjoint.

    The operator maps a flattened input of shape ``input_shape`` to the flattened
    ``conv1d_transpose(x, filters, output_shape, strides, ...)``; its ``rmatvec`` is the exact
    adjoint (the conjugate transpose), ``conv1d`` with the conjugated filters.

    Parameters
    ----------
    filters : array_like
        ``[filter_width, out_channels / groups, in_channels]``, as for
        :func:`conv1dt.conv1d_transpose`: float16, float32, float64, complex64 or complex128. The
        operator keeps a copy; its dtype is the filters'.
    input_shape : sequence of ints
        The shape of the input ``x``: ``[batch, in_width, in_channels]`` (``NWC``) or
        ``[batch, in_channels, in_width]`` (``NCW``), with any leading batch dimensions.
    output_shape : sequence of ints
        The shape of the output, as :func:`conv1dt.conv1d_transpose` takes it (the same leading
        dimensions as ``input_shape``).
    strides, padding, data_format, dilations, groups
        As for :func:`conv1dt.conv1d_transpose`.

    Returns
    -------
    scipy.sparse.linalg.LinearOperator
        Of shape ``(prod(output_shape), prod(input_shape))`` and the filters' dtype. ``matvec``
        and ``matmat`` apply the map (``matmat`` to every column in one call), ``rmatvec`` and
        ``rmatmat`` its adjoint; ``.H`` is the adjoint as a :func:`conv1d_operator` and ``.T``
        the transpose (unconjugated filters). A vector of another dtype is computed in the
        common dtype (a float32 operator applied to a float64 vector gives float64).

    Raises
    ------
    ValueError
        If a shape is not a sequence of at least 3 non-negative ints, or the leading dimensions
        of the two shapes differ; and, checked once here, every ValueError of
        :func:`conv1dt.conv1d_transpose` for these shapes and arguments (messages name the
        input as ``input``).
    TypeError
        If ``filters`` is not float16, float32, float64, complex64 or complex128.

    See Also
    --------
    conv1d_operator : the forward convolution, this operator's adjoint.
    conv1dt.conv1d_transpose : the map itself.

    Notes
    -----
    For the bilinear map :math:`y = T(x, f)` of conv1d_transpose and conv1d :math:`C`, its
    transpose, :math:`\sum_o y_o \cdot T(x, f)_o = \sum_i x_i \cdot C(y, f)_i` without
    conjugation. The adjoint for the inner product :math:`\langle u, v\rangle = \sum \bar u v`
    is therefore

    .. math::

        A^H y = \overline{C(\bar y, f)} = C(y, \bar f),

    which is what ``rmatvec`` computes: the two sides of :math:`\langle A x, y\rangle =
    \langle x, A^H y\rangle` differ by rounding only. Each application is one call of the
    compiled kernels; no matrix is formed.

    Examples
    --------
    A stride-2 transposed convolution of a 5-sample, 2-channel signal into 10 samples of 3
    channels, and the dot test of its adjoint:

    >>> import numpy as np
    >>> import conv1dt.linalg
    >>> rng = np.random.default_rng(0)
    >>> f = rng.standard_normal((4, 3, 2))                   # [K, Cout, Cin]
    >>> A = conv1dt.linalg.conv1d_transpose_operator(f, (1, 5, 2), (1, 10, 3), strides=2)
    >>> A
    <30x10 conv1d_transpose operator (1, 5, 2) -> (1, 10, 3), stride 2, SAME, NWC, groups 1 with dtype=float64>
    >>> x, y = rng.standard_normal(10), rng.standard_normal(30)
    >>> bool(np.isclose(np.vdot(A @ x, y), np.vdot(x, A.rmatvec(y))))
    True

    The map is :func:`conv1dt.conv1d_transpose` on the reshaped vector:

    >>> ref = conv1dt.conv1d_transpose(x.reshape(1, 5, 2), f, [1, 10, 3], 2).ravel()
    >>> bool(np.array_equal(A @ x, ref))
    True
    """
    f = _as_filters(filters)
    in_shape = _as_shape(input_shape, "input_shape")
    out_shape = _as_shape(output_shape, "output_shape")
    if len(in_shape) != len(out_shape) or in_shape[:-2] != out_shape[:-2]:
        raise ValueError(f"input_shape {in_shape} and output_shape {out_shape} must have the same "
                         f"leading (batch) dimensions")
    # Every check of conv1d_transpose, once, on an empty batch (no work is done).
    probe = np.zeros((0,) + in_shape[-2:], dtype=f.dtype if f.dtype.kind in "fc" else np.float64)
    conv1d_transpose(probe, f, (0,) + out_shape[-2:], strides, padding, data_format, dilations,
                     groups=groups)
    args = (strides, padding, data_format or "NWC", dilations, groups)
    return _Conv1DTransposeOperator(f, in_shape, out_shape, args)


def conv1d_operator(filters, input_shape, stride, padding="SAME", data_format="NWC",
                    dilations=None, groups=1):
    r"""``conv1d`` as a ``scipy.sparse.linalg.LinearOperator``, with its adjoint.

    The operator maps a flattened input of shape ``input_shape`` to the flattened
    ``conv1d(w, filters, stride, ...)``; its ``rmatvec`` is the exact adjoint (the conjugate
    transpose), ``conv1d_transpose`` with the conjugated filters.

    Parameters
    ----------
    filters : array_like
        ``[filter_width, in_channels / groups, out_channels]``, as for :func:`conv1dt.conv1d`:
        float16, float32, float64, complex64 or complex128. The operator keeps a copy; its
        dtype is the filters'.
    input_shape : sequence of ints
        The shape of the input ``w``: ``[batch, in_width, in_channels]`` (``NWC``) or
        ``[batch, in_channels, in_width]`` (``NCW``), with any leading batch dimensions.
    stride, padding, data_format, dilations, groups
        As for :func:`conv1dt.conv1d` (including the groups it infers from the filters' shape).

    Returns
    -------
    scipy.sparse.linalg.LinearOperator
        Of shape ``(prod(output_shape), prod(input_shape))``, where ``output_shape`` (an
        attribute of the operator) is conv1d's output shape; the filters' dtype. ``.H`` is the
        adjoint as a :func:`conv1d_transpose_operator`.

    Raises
    ------
    ValueError
        If ``input_shape`` is not a sequence of at least 3 non-negative ints; and, checked once
        here, every ValueError of :func:`conv1dt.conv1d` for this shape and these arguments.
    TypeError
        If ``filters`` is not float16, float32, float64, complex64 or complex128.

    See Also
    --------
    conv1d_transpose_operator : the transposed convolution, this operator's adjoint.
    conv1dt.conv1d : the map itself.

    Notes
    -----
    The adjoint is :math:`A^H z = T(z, \bar f)`, conv1d_transpose with the conjugated filters
    and the output width of ``input_shape`` (see :func:`conv1d_transpose_operator`).

    Examples
    --------
    Smoothing a 2-channel signal with stride 2, VALID, and the dot test of the adjoint in
    complex arithmetic:

    >>> import numpy as np
    >>> import conv1dt.linalg
    >>> rng = np.random.default_rng(1)
    >>> f = rng.standard_normal((3, 2, 2)) + 1j * rng.standard_normal((3, 2, 2))  # [K, Cin, Cout]
    >>> A = conv1dt.linalg.conv1d_operator(f, (1, 9, 2), 2, "VALID")
    >>> A.shape, A.output_shape
    ((8, 18), (1, 4, 2))
    >>> w = rng.standard_normal(18) + 1j * rng.standard_normal(18)
    >>> z = rng.standard_normal(8) + 1j * rng.standard_normal(8)
    >>> bool(np.isclose(np.vdot(A @ w, z), np.vdot(w, A.H @ z)))
    True
    """
    f = _as_filters(filters)
    in_shape = _as_shape(input_shape, "input_shape")
    probe = np.zeros((0,) + in_shape[-2:], dtype=f.dtype if f.dtype.kind in "fc" else np.float64)
    out = conv1d(probe, f, stride, padding, data_format, dilations, groups=groups)
    groups = _forms.implicit_groups(probe, f, data_format, groups)
    out_shape = in_shape[:-2] + out.shape[1:]
    args = (stride, padding, data_format or "NWC", dilations, groups)
    return _Conv1DOperator(f, in_shape, out_shape, args)
