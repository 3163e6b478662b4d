"""The public operations: TF-shaped signatures, validation once, then dispatch.

The three ops are one forward convolution seen from three sides (conv1dt/_geometry.py). Each
public function parses its arguments, builds the geometry, and hands real C-contiguous operands
to conv1dt/_dispatch.py through :func:`_bilinear`, which also computes float16 (in float32) and
complex (by the real-product decomposition) for all three.
"""
import numpy as np

from . import _bounds, _denormals, _dispatch
from ._geometry import backprop_filter_geometry, conv1d_geometry, transpose_geometry
from ._layout import (
    as_operands,
    as_shape,
    parse_data_format,
    parse_groups,
    parse_padding,
    real_compute_dtype,
    window_param,
)

__all__ = ["conv1d_transpose", "conv1d", "conv1d_backprop_filter"]

# Calls already checked, by their op and arguments: the plan that runs them. A repeated call (same
# shapes, dtypes and arguments, new values) skips the checks it has passed before: about 2 us
# instead of 6 on a tiny conv1d_transpose. The first call of a shape pays nothing extra.
_PLANS = {}
_PLANS_MAX = 256
_PLAN_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _frozen(v):
    """``v`` as a hashable key that keeps every type, so that ``2``, ``2.0``, ``True`` and
    ``np.int64(2)`` (equal and of equal hash in Python) are different keys. With an unhashable
    value (an array as ``output_shape``) the key does not hash: such calls are not planned."""
    t = type(v)
    if t is list or t is tuple:
        return (t, *map(_frozen, v))
    return (t, v)


def _planned(op, a, b, shape, strides, padding, data_format, dilations, groups):
    """``(key, plan)`` for a call of ``op`` on operands ``a`` and ``b`` with ``shape`` (the output
    or filter shape, or None) and the other arguments: the plan kept for it, or None. The key is
    None when the operands are not ndarrays, and unhashable with an unhashable argument (an array
    or a writeable memoryview as a shape): such calls are not planned. Plain ints and strings, the usual arguments, go
    into the key as they are: :func:`_frozen` tags every other value with its type, so none can
    collide with them."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray:
        return None, None
    if ((type(shape) is list or type(shape) is tuple) and len(shape) == 3
            and type(shape[0]) is int and type(shape[1]) is int and type(shape[2]) is int):
        shape = (shape[0], shape[1], shape[2])
    elif shape is not None:
        shape = _frozen(shape)
    key = (op, a.shape, a.dtype, b.shape, b.dtype, shape,
           strides if type(strides) is int else _frozen(strides),
           padding if type(padding) is str else _frozen(padding),
           data_format if type(data_format) is str else _frozen(data_format),
           dilations if dilations is None else _frozen(dilations),
           groups if type(groups) is int else _frozen(groups))
    try:
        return key, _PLANS.get(key)
    except (TypeError, ValueError):   # ValueError: a writeable memoryview
        return key, None


def _keep(key, x, b, plan):
    """Keep ``plan`` for ``key`` when the checked operands ``x`` and ``b`` are float32 or float64
    of one dtype (the kernels' own), bounding the cache."""
    if key is not None and x.dtype in _PLAN_DTYPES and b.dtype == x.dtype:
        try:
            hash(key)
        except (TypeError, ValueError):   # ValueError: a writeable memoryview
            return
        if len(_PLANS) >= _PLANS_MAX:
            _PLANS.clear()
        _PLANS[key] = plan


def _parse(padding, strides, dilations, data_format, groups, strides_name):
    """The arguments every op shares: ``(data_format, padding, stride, dilation, groups)``."""
    data_format = parse_data_format(data_format)
    padding = parse_padding(padding, data_format)
    stride = window_param(strides, strides_name, data_format)
    dilation = window_param(dilations, "dilations", data_format)
    return data_format, padding, stride, dilation, parse_groups(groups)


def _bilinear(op, a, b, dtype, shape=None, what="the output"):
    r"""``op(a, b)`` in ``dtype``, for an ``op`` that is bilinear in ``a`` and ``b`` and computes
    C-contiguous real operands of one dtype (every op of the family is).

    ``shape`` is the result's shape, ``what`` the argument that gave it (for messages): a result
    no machine can hold is a MemoryError naming it, before any work.

    float16 is computed in float32 and rounded once at the end. Complex operands go through the
    real-product decomposition, four real calls in a fixed order:

    .. math::

        \mathrm{op}(a_r + i a_i,\, b_r + i b_i) = \mathrm{op}(a_r, b_r) - \mathrm{op}(a_i, b_i)
        + i\,(\mathrm{op}(a_r, b_i) + \mathrm{op}(a_i, b_r)).

    Each part is then a sum of ``2n`` real products with error at most ``gamma_{n+1}`` times the
    sum of ``|a||b|`` over the ``n`` complex products. Gauss's three-call variant would save a
    quarter of the work but bound the error by ``(|a_r| + |a_i|)(|b_r| + |b_i|)`` instead, so it
    is not used. The complex result is allocated first and each real call is written into its
    real or imaginary part as it comes, so that memory peaks at the result plus one real part
    (and a MemoryError comes before any work).
    """
    if _denormals.ever:         # flush-to-zero enabled at some point: under its setting
        return _denormals.run(_bilinear_now, op, a, b, dtype, shape, what)
    return _bilinear_now(op, a, b, dtype, shape, what)


def _bilinear_now(op, a, b, dtype, shape, what):
    """:func:`_bilinear` under the calling thread's floating-point settings."""
    real = real_compute_dtype(dtype)
    if shape is not None:
        _bounds.check_size(shape, dtype, what)
    if dtype.kind != "c":
        out = op(np.ascontiguousarray(a, dtype=real), np.ascontiguousarray(b, dtype=real))
        return out.astype(dtype, copy=False)
    out = _dispatch.allocate(shape, dtype) if shape is not None else None
    ar, ai = np.ascontiguousarray(a.real, dtype=real), np.ascontiguousarray(a.imag, dtype=real)
    br, bi = np.ascontiguousarray(b.real, dtype=real), np.ascontiguousarray(b.imag, dtype=real)
    part = op(ar, br)
    if out is None:
        out = _dispatch.allocate(part.shape, dtype)
    out.real = part
    del part
    out.real -= op(ai, bi)
    out.imag = op(ar, bi)
    out.imag += op(ai, br)
    return out


def _transpose(x, f, g, data_format):
    """conv1d_transpose on real operands: the existing dispatch, or the grouped one."""
    if g.groups == 1:
        return _dispatch.conv1d_transpose(x, f, g, data_format)
    return _dispatch.conv1d_transpose_groups(x, f, g, data_format)


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NWC",
                     dilations=None, name=None, groups=1):
    r"""The transpose of conv1d: a drop-in for ``tf.nn.conv1d_transpose``.

    This operation is sometimes called "deconvolution" after (Zeiler et al., 2010), but it is the
    transpose (the gradient with respect to its input) of conv1d, not an inverse of it.

    Parameters
    ----------
    input : array_like
        ``[batch, in_width, in_channels]`` for ``NWC`` or ``[batch, in_channels, in_width]`` for
        ``NCW``; float16, float32, float64, complex64 or complex128.
    filters : array_like
        ``[filter_width, out_channels / groups, in_channels]`` in both layouts, of the same dtype
        as ``input``. This is PyTorch's ``ConvTranspose1d`` weight ``[in_channels,
        out_channels / groups, filter_width]`` transposed, and the same array as the filters
        ``[filter_width, out_channels / groups, in_channels]`` of the :func:`conv1d` it is the
        transpose of.
    output_shape : sequence of 3 ints
        The output shape: ``[batch, out_width, out_channels]`` for ``NWC``,
        ``[batch, out_channels, out_width]`` for ``NCW``. A list, tuple or integer array.
    strides : int or sequence of ints
        The stride ``s``: an int, ``[s]``, or ``[1, s, 1]`` (``NWC``) / ``[1, 1, s]`` (``NCW``).
    padding : {'SAME', 'VALID'} or sequence of pairs, optional
        The padding of the conv1d this op is the transpose of: a string, or explicit padding
        ``[[0, 0], [lo, hi], [0, 0]]`` (``NWC``; ``[[0, 0], [0, 0], [lo, hi]]`` for ``NCW``) as
        ``tf.nn.conv2d_transpose`` takes it.
    data_format : {'NWC', 'NCW'}, optional
        Layout of ``input`` and of the output. ``None`` means ``'NWC'``.
    dilations : int or sequence of ints, optional
        The dilation ``d``, in the same forms as ``strides``; default 1.
    name : str, optional
        Accepted for compatibility with TensorFlow and ignored.
    groups : int, optional
        Split the channels into this many equal groups (default 1); group ``j`` of the output
        comes from group ``j`` of the input alone, through ``filters[:, :, group j]``.
        ``groups = in_channels = out_channels`` is the depthwise transposed convolution.

    Returns
    -------
    ndarray
        Of shape ``output_shape`` and the dtype of ``input``. float16 is computed in float32.

    Raises
    ------
    ValueError
        If an array has the wrong rank; ``filters``' in_channels differ from ``input``'s channels;
        ``output_shape``'s batch or channels do not match; its width is outside the range that
        conv1d maps back onto ``input``'s width; a size is negative or not an integer;
        ``groups`` does not divide the channels; ``padding`` or ``data_format`` is not one of
        the accepted forms, or explicit padding is negative; or ``strides``, ``dilations`` or
        ``groups`` is not a positive int in an accepted form.
    TypeError
        If ``input`` or ``filters`` is not float16, float32, float64, complex64 or complex128, or
        their dtypes differ.

    See Also
    --------
    conv1d : the forward convolution; its gradient with respect to its input is this op.
    conv1d_backprop_filter : the gradient of conv1d, and of this op, with respect to the filters.
    conv1dt.reference.conv1d_transpose : the plain NumPy definition.

    Notes
    -----
    With stride :math:`s`, dilation :math:`d`, :math:`K` taps and :math:`K_\mathrm{eff}=(K-1)d+1`,

    .. math::

        y[n, o, c_o] = \sum_{i, k, c_i \,:\, o = i s + k d - p} x[n, i, c_i]\, f[k, c_o, c_i],
        \qquad 0 \le o < L,

    where :math:`p` is the leading padding of the forward conv1d (with groups, :math:`c_i` runs
    over the input channels of :math:`c_o`'s group and :math:`c_o` indexes the filter within its
    group). For an input of width :math:`M`, ``SAME`` accepts :math:`(M-1)s + 1 \le L \le Ms`
    with :math:`p = \lfloor \max((M-1)s + K_\mathrm{eff} - L, 0) / 2 \rfloor`; ``VALID`` accepts
    :math:`(M-1)s + K_\mathrm{eff} \le L \le Ms + K_\mathrm{eff} - 1` with :math:`p = 0`; explicit
    :math:`(l, h)` accepts :math:`(M-1)s + K_\mathrm{eff} - l - h \le L \le Ms + K_\mathrm{eff} -
    1 - l - h` with :math:`p = l`: the full result, :math:`(M-1)s + K_\mathrm{eff}` samples,
    cropped by :math:`l` at the start and :math:`h` at the end. These are the widths :math:`L`
    whose conv1d has width :math:`M`; since :math:`s` of them share one :math:`M`, the output
    width must be given.

    Complex operands are multiplied as they are, with no conjugation: this is the transpose of
    conv1d, not its Hermitian adjoint, which is this op with ``filters.conj()``. They are computed
    by the real-product decomposition, four real calls. As the gradient of ``y =
    conv1d_transpose(x, f)``, with ``dy`` the gradient of a loss with respect to ``y``:
    ``dx = conv1d(dy, f)`` and ``df = conv1d_backprop_filter(dy, f.shape, x)``, with the same
    strides, padding, dilations and groups.

    The result is the same, to the bit, for any thread count: each output element is summed by
    one thread in one fixed order. Where TensorFlow's CPU kernels refuse float64 with dilations
    or NCW, this function computes them.

    References
    ----------
    .. [1] M. D. Zeiler, D. Krishnan, G. W. Taylor and R. Fergus, "Deconvolutional networks",
       CVPR 2010.
    .. [2] V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
       arXiv:1603.07285, 2016.

    Examples
    --------
    Each input sample stamps a copy of the filter, scaled by the sample, every ``s`` outputs:

    >>> import numpy as np
    >>> import conv1dt
    >>> x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)      # [N, W, Cin]
    >>> f = np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)   # [K, Cout, Cin]
    >>> conv1dt.conv1d_transpose(x, f, [1, 7, 1], 2, padding="VALID")[0, :, 0]
    array([  1.,  10., 102.,  20., 203.,  30., 300.])

    SAME padding crops that full result to ``s`` times the input width; here the forward conv1d
    pads 0 samples before and 1 after, so the first 6 samples remain:

    >>> conv1dt.conv1d_transpose(x, f, [1, 6, 1], 2, padding="SAME")[0, :, 0]
    array([  1.,  10., 102.,  20., 203.,  30.])

    Explicit padding crops ``lo`` samples at the start and ``hi`` at the end:

    >>> conv1dt.conv1d_transpose(x, f, [1, 4, 1], 2, padding=[[0, 0], [2, 1], [0, 0]])[0, :, 0]
    array([102.,  20., 203.,  30.])

    With ``groups=2``, each half of the channels is transposed on its own (depthwise here):

    >>> x2 = np.array([[1.0, 1.0], [2.0, 0.0]]).reshape(1, 2, 2)   # two channels
    >>> f2 = np.array([[1.0, 10.0], [2.0, 20.0]]).reshape(2, 1, 2)
    >>> conv1dt.conv1d_transpose(x2, f2, [1, 3, 2], 1, "VALID", groups=2)[0]
    array([[ 1., 10.],
           [ 4., 20.],
           [ 4.,  0.]])
    """
    key, plan = _planned("transpose", input, filters, output_shape, strides, padding, data_format,
                         dilations, groups)
    if plan is not None:
        if _denormals.ever:     # flush-to-zero enabled at some point: the plan under its setting
            return _denormals.run(plan, np.ascontiguousarray(input), np.ascontiguousarray(filters))
        return plan(np.ascontiguousarray(input), np.ascontiguousarray(filters))
    data_format, padding, stride, dilation, groups = _parse(padding, strides, dilations,
                                                            data_format, groups, "strides")
    x, f, dtype = as_operands(input, filters)
    out_shape = as_shape(output_shape)
    geom = transpose_geometry(x.shape, f.shape, out_shape, stride, dilation, padding, data_format,
                              groups)
    wild = _bounds.takeover(geom, "transpose", data_format)   # huge numbers, far-reaching taps
    if wild is not None:
        return _bilinear(wild, x, f, dtype, out_shape, "output_shape")
    if groups == 1:
        _keep(key, x, f, _dispatch.transpose_plan(geom, data_format, dtype=x.dtype))
    else:
        _keep(key, x, f, lambda a, b: _dispatch.conv1d_transpose_groups(a, b, geom, data_format))
    return _bilinear(lambda a, b: _transpose(a, b, geom, data_format), x, f, dtype, out_shape,
                     "output_shape")


def conv1d(input, filters, stride, padding="SAME", data_format="NWC", dilations=None, name=None,
           groups=1):
    r"""The 1-D convolution (a cross-correlation): a drop-in for ``tf.nn.conv1d``.

    Parameters
    ----------
    input : array_like
        ``[batch, in_width, in_channels]`` for ``NWC`` or ``[batch, in_channels, in_width]`` for
        ``NCW``; float16, float32, float64, complex64 or complex128.
    filters : array_like
        ``[filter_width, in_channels / groups, out_channels]`` in both layouts, of the same dtype
        as ``input``: the same array serves :func:`conv1d_transpose`, its transpose.
    stride : int or sequence of ints
        The stride ``s``: an int, ``[s]``, or ``[1, s, 1]`` (``NWC``) / ``[1, 1, s]`` (``NCW``).
    padding : {'SAME', 'VALID'} or sequence of pairs, optional
        ``'SAME'`` (default), ``'VALID'``, or explicit padding ``[[0, 0], [lo, hi], [0, 0]]``
        (``NWC``; ``[[0, 0], [0, 0], [lo, hi]]`` for ``NCW``): ``lo`` zeros before the input and
        ``hi`` after it, as ``tf.nn.conv2d`` takes them.
    data_format : {'NWC', 'NCW'}, optional
        Layout of ``input`` and of the output. ``None`` means ``'NWC'``.
    dilations : int or sequence of ints, optional
        The dilation ``d``, in the same forms as ``stride``; default 1.
    name : str, optional
        Accepted for compatibility with TensorFlow and ignored.
    groups : int, optional
        Split the channels into this many equal groups (default 1); output group ``j`` reads
        input group ``j`` alone. ``groups = in_channels`` with ``out_channels = in_channels`` is
        the depthwise convolution.

    Returns
    -------
    ndarray
        ``[batch, out_width, out_channels]`` (``NWC``) or ``[batch, out_channels, out_width]``
        (``NCW``), of the dtype of ``input``. float16 is computed in float32.

    Raises
    ------
    ValueError
        If an array has the wrong rank; ``filters``' in_channels times ``groups`` differ from
        ``input``'s channels; ``groups`` does not divide the channels; ``input`` is narrower
        than ``Keff - s - lo - hi`` (a negative output width); ``padding`` or ``data_format`` is
        not one of the accepted forms, or explicit padding is negative; or ``stride``,
        ``dilations`` or ``groups`` is not a positive int in an accepted form.
    TypeError
        If ``input`` or ``filters`` is not float16, float32, float64, complex64 or complex128, or
        their dtypes differ.

    See Also
    --------
    conv1d_transpose : the transpose, which is the gradient of this op with respect to ``input``.
    conv1d_backprop_filter : the gradient of this op with respect to ``filters``.
    conv1dt.reference.conv1d : the plain NumPy definition.

    Notes
    -----
    With stride :math:`s`, dilation :math:`d`, :math:`K` taps, :math:`K_\mathrm{eff}=(K-1)d+1`
    and leading padding :math:`p`,

    .. math::

        z[n, i, c_o] = \sum_{k, c_i} w[n, i s + k d - p, c_i]\, f[k, c_i, c_o],
        \qquad 0 \le i < M,

    where reads outside the input are zeros (with groups, :math:`c_i` runs over the input
    channels of :math:`c_o`'s group and indexes the filter within it). For an input of width
    :math:`L`, ``SAME`` gives :math:`M = \lceil L/s \rceil` with
    :math:`p = \lfloor \max((M-1)s + K_\mathrm{eff} - L, 0) / 2 \rfloor`; explicit :math:`(l, h)`
    gives :math:`M = \lfloor (L + l + h - K_\mathrm{eff}) / s \rfloor + 1` with :math:`p = l`;
    ``VALID`` is :math:`(0, 0)`.

    Complex operands are multiplied as they are, with no conjugation (the bilinear convolution,
    as in PyTorch), computed by the real-product decomposition, four real calls. The Hermitian
    adjoint of this op, :math:`\langle \mathrm{conv1d}(w, f), z\rangle = \langle w,
    \mathrm{adj}(z)\rangle` with the conjugating inner product, is ``conv1d_transpose`` with
    ``filters.conj()``.

    The gradients of :math:`z = \mathrm{conv1d}(w, f)`, given :math:`dz`, are
    ``dw = conv1d_transpose(dz, f, w.shape, ...)`` and
    ``df = conv1d_backprop_filter(w, f.shape, dz, ...)`` with the same strides, padding,
    dilations and groups. The result is the same, to the bit, for any thread count.

    References
    ----------
    .. [1] V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
       arXiv:1603.07285, 2016.

    Examples
    --------
    Each output is the filter laid on a window of the input, every ``s`` samples:

    >>> import numpy as np
    >>> import conv1dt
    >>> w = np.array([1.0, 2.0, 3.0, 4.0, 5.0]).reshape(1, 5, 1)   # [N, W, Cin]
    >>> f = np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)          # [K, Cin, Cout]
    >>> conv1dt.conv1d(w, f, 2, "VALID")[0, :, 0]
    array([321., 543.])

    SAME gives ``ceil(W / s)`` outputs, here with one zero before and one after the input;
    explicit padding puts ``lo`` zeros before and ``hi`` after:

    >>> conv1dt.conv1d(w, f, 2, "SAME")[0, :, 0]
    array([210., 432.,  54.])
    >>> conv1dt.conv1d(w, f, 2, [[0, 0], [2, 0], [0, 0]])[0, :, 0]
    array([100., 321., 543.])

    Complex numbers are multiplied without conjugation:

    >>> wc = np.array([1 + 1j, 2 - 1j]).reshape(1, 2, 1)
    >>> fc = np.array([1j, 1.0]).reshape(2, 1, 1)
    >>> conv1dt.conv1d(wc, fc, 1, "VALID")[0, :, 0]                # (1+1j)*1j + (2-1j)*1
    array([1.+0.j])
    """
    key, plan = _planned("conv1d", input, filters, None, stride, padding, data_format, dilations,
                         groups)
    if plan is not None:
        if _denormals.ever:     # flush-to-zero enabled at some point: the plan under its setting
            return _denormals.run(plan, np.ascontiguousarray(input), np.ascontiguousarray(filters))
        return plan(np.ascontiguousarray(input), np.ascontiguousarray(filters))
    data_format, padding, stride, dilation, groups = _parse(padding, stride, dilations,
                                                            data_format, groups, "stride")
    x, f, dtype = as_operands(input, filters)
    geom = conv1d_geometry(x.shape, f.shape, stride, dilation, padding, data_format, groups)
    z_shape = ((geom.batch, geom.narrow_channels, geom.narrow) if data_format == "NCW"
               else (geom.batch, geom.narrow, geom.narrow_channels))
    wild = _bounds.takeover(geom, "conv1d", data_format)      # huge numbers
    if wild is not None:
        return _bilinear(wild, x, f, dtype, z_shape)
    if key is not None:
        kernel = _dispatch.choose_family_kernel(geom, "conv1d")
        _keep(key, x, f, lambda a, b: _dispatch.conv1d(a, b, geom, data_format, kernel))
    return _bilinear(lambda a, b: _dispatch.conv1d(a, b, geom, data_format), x, f, dtype, z_shape)


def conv1d_backprop_filter(input, filter_shape, out_backprop, strides, padding="SAME",
                           data_format="NWC", dilations=None, name=None, groups=1):
    r"""The gradient of conv1d with respect to its filters.

    ``tf.compat.v1.nn.conv2d_backprop_filter`` on a one-high image, in one dimension: given
    conv1d's ``input`` and the gradient ``out_backprop`` of a loss with respect to conv1d's
    output, the gradient of the loss with respect to the filters.

    Parameters
    ----------
    input : array_like
        conv1d's input, ``[batch, in_width, in_channels]`` for ``NWC`` or
        ``[batch, in_channels, in_width]`` for ``NCW``; float16, float32, float64, complex64 or
        complex128.
    filter_shape : sequence of 3 ints
        ``[filter_width, in_channels / groups, out_channels]``, the shape of conv1d's filters and
        of the result. A list, tuple or integer array.
    out_backprop : array_like
        The gradient with respect to conv1d's output, of conv1d's output shape:
        ``[batch, out_width, out_channels]`` (``NWC``) or ``[batch, out_channels, out_width]``
        (``NCW``), of the same dtype as ``input``.
    strides : int or sequence of ints
        The stride ``s``: an int, ``[s]``, or ``[1, s, 1]`` (``NWC``) / ``[1, 1, s]`` (``NCW``).
    padding : {'SAME', 'VALID'} or sequence of pairs, optional
        conv1d's padding: a string, or explicit ``[[0, 0], [lo, hi], [0, 0]]`` (``NWC``;
        ``[[0, 0], [0, 0], [lo, hi]]`` for ``NCW``).
    data_format : {'NWC', 'NCW'}, optional
        Layout of ``input`` and ``out_backprop``. ``None`` means ``'NWC'``.
    dilations : int or sequence of ints, optional
        The dilation ``d``, in the same forms as ``strides``; default 1.
    name : str, optional
        Accepted for compatibility with TensorFlow and ignored.
    groups : int, optional
        conv1d's number of channel groups (default 1).

    Returns
    -------
    ndarray
        Of shape ``filter_shape`` and the dtype of ``input``. float16 is computed in float32.

    Raises
    ------
    ValueError
        If an array has the wrong rank; ``filter_shape`` is not 3 non-negative ints, has no tap,
        or its in_channels times ``groups`` differ from ``input``'s channels; ``groups`` does not
        divide the channels; ``out_backprop``'s batch, channels or width are not those of
        conv1d's output; ``padding`` or ``data_format`` is not one of the accepted forms, or
        explicit padding is negative; or ``strides``, ``dilations`` or ``groups`` is not a
        positive int in an accepted form.
    TypeError
        If ``input`` or ``out_backprop`` is not float16, float32, float64, complex64 or
        complex128, or their dtypes differ.

    See Also
    --------
    conv1d : the forward convolution.
    conv1d_transpose : the gradient of conv1d with respect to its input.
    conv1dt.reference.conv1d_backprop_filter : the plain NumPy definition.

    Notes
    -----
    With the links :math:`o = i s + k d - p` of conv1d (see :func:`conv1d`),

    .. math::

        df[k, c_i, c_o] = \sum_{n} \sum_{i \,:\, 0 \le o < L} w[n, i s + k d - p, c_i]\,
        dz[n, i, c_o],

    for ``w = input`` and ``dz = out_backprop`` (with groups, :math:`c_i` indexes the input
    channels of :math:`c_o`'s group). It is bilinear in ``input`` and ``out_backprop``, and the
    adjoint of conv1d in its filters:
    :math:`\langle \mathrm{conv1d}(w, f), z\rangle = \langle f, \mathrm{conv1d\_backprop\_filter}(w,
    z)\rangle`. Complex operands are multiplied without conjugation, by the real-product
    decomposition (four real calls); for the Hermitian inner product, conjugate ``input``.

    For a transposed-convolution layer ``y = conv1d_transpose(x, f, ...)``, the filter gradient
    is this op with the roles read the other way: ``df = conv1d_backprop_filter(dy, f.shape, x,
    ...)``, since ``y``'s width is conv1d's input width.

    Every filter element is summed in one fixed order (the batch and positions in a fixed
    partition, the partial sums added in order), so the result is the same, to the bit, for any
    thread count.

    References
    ----------
    .. [1] V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
       arXiv:1603.07285, 2016.

    Examples
    --------
    Tap ``k`` of the gradient correlates the input, shifted by ``k``, with ``out_backprop``:

    >>> import numpy as np
    >>> import conv1dt
    >>> w = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)    # conv1d's input
    >>> dz = np.array([1.0, -1.0]).reshape(1, 2, 1)            # d loss / d conv1d's output
    >>> conv1dt.conv1d_backprop_filter(w, [3, 1, 1], dz, 1, "VALID")[:, 0, 0]
    array([-1., -1., -1.])

    The gradients of a transposed-convolution layer, checked with the adjoint identities on
    integer data (exact): for ``y = conv1d_transpose(x, f)`` and the loss ``<y, dy>``,

    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(-3, 4, (2, 5, 3)).astype(float)       # [N, M, Cin]
    >>> f = rng.integers(-3, 4, (4, 2, 3)).astype(float)       # [K, Cout, Cin]
    >>> y = conv1dt.conv1d_transpose(x, f, [2, 10, 2], 2)
    >>> dy = rng.integers(-3, 4, y.shape).astype(float)
    >>> dx = conv1dt.conv1d(dy, f, 2)
    >>> df = conv1dt.conv1d_backprop_filter(dy, f.shape, x, 2)
    >>> float(np.vdot(y, dy)), float(np.vdot(x, dx)), float(np.vdot(f, df))
    (-32.0, -32.0, -32.0)
    """
    key, plan = _planned("backprop_filter", input, out_backprop, filter_shape, strides, padding,
                         data_format, dilations, groups)
    if plan is not None:
        if _denormals.ever:     # flush-to-zero enabled at some point: the plan under its setting
            return _denormals.run(plan, np.ascontiguousarray(input), np.ascontiguousarray(out_backprop))
        return plan(np.ascontiguousarray(input), np.ascontiguousarray(out_backprop))
    data_format, padding, stride, dilation, groups = _parse(padding, strides, dilations,
                                                            data_format, groups, "strides")
    x, dy, dtype = as_operands(input, out_backprop, names=("input", "out_backprop"))
    f_shape = as_shape(filter_shape, "filter_shape")
    geom = backprop_filter_geometry(x.shape, f_shape, dy.shape, stride, dilation, padding,
                                    data_format, groups)
    _bounds.check_size(f_shape, dtype, "filter_shape")
    wild = _bounds.takeover(geom, "backprop_filter", data_format)   # huge numbers
    if wild is not None:
        return _bilinear(wild, x, dy, dtype, f_shape, "filter_shape")
    if key is not None:
        kernel = _dispatch.choose_family_kernel(geom, "backprop_filter")
        _keep(key, x, dy, lambda a, b: _dispatch.conv1d_backprop_filter(a, b, geom, data_format,
                                                                        kernel))
    return _bilinear(lambda a, b: _dispatch.conv1d_backprop_filter(a, b, geom, data_format),
                     x, dy, dtype, f_shape, "filter_shape")
