"""The public operations: TF-shaped signatures, validation once, then dispatch.

The three ops are one forward convolution seen from three sides (conv1dt/_geometry.py). Each
public function parses its arguments, builds the geometry, and hands real C-contiguous operands
to conv1dt/_dispatch.py through :func:`_bilinear`, which also computes float16 (in float32) and
complex (by the real-product decomposition) for all three.
"""
import inspect

import numpy as np

from . import _bounds, _dispatch, _forms, _plan
from ._args import (
    as_operands,
    as_shape,
    c_array,
    parse_data_format,
    parse_groups,
    parse_padding,
    real_compute_dtype,
    window_param,
)
from ._geometry import backprop_filter_geometry, conv1d_geometry, transpose_geometry
from ._compiled._front import planned as _planned, quick as _quick
from ._runtime import denormals as _denormals
from ._runtime import load as _load

__all__ = ["conv1d_transpose", "conv1d", "conv1d_backprop_filter", "plan"]

# Calls already checked, by their op and arguments: the plan that runs them (conv1dt/_plan.py
# keeps them, a bounded LRU). A repeated call (same shapes, dtypes and arguments, new values)
# skips the checks it has passed before: its key, its plan and the plan's quick runner are found
# by compiled code (conv1dt/_compiled/_front.pyx), the Python layers' microseconds spared.


def _fast(plan, a, b, out):
    """``plan`` on operands whose shapes and dtypes it was made for (its key matched them, or
    they made it), under the caller's flush-to-zero setting once flushing was ever enabled."""
    if _denormals.ever:
        return _denormals.run(_fast_now, plan, a, b, out)
    return _fast_now(plan, a, b, out)


def _fast_now(plan, a, b, out):
    """:func:`_fast` under the calling thread's floating-point settings."""
    if out is None:
        if plan._quick is not None:
            return plan._quick(c_array(a), c_array(b))
    else:
        _plan.check_out(out, plan.out_shape, plan.dtype, (a, b))
    return plan._run(c_array(a), c_array(b), out)


def _into(result, out, operands):
    """``result`` (of a call with leading batch dimensions), copied into ``out`` when given."""
    if out is None:
        return result
    _plan.check_out(out, result.shape, result.dtype, [np.asarray(a) for a in operands])
    out[...] = result
    return out


def _make_plan(op, geom, data_format, a, b, dtype, out_shape, key):
    """The :class:`~conv1dt._plan.Plan` of a checked call (kept under ``key`` when there is
    one): the kernel chosen once, the runner bound to it, any dtype of the family."""
    real = real_compute_dtype(dtype)
    # a result no machine can hold is a MemoryError naming the argument that asked for it
    _bounds.check_size(out_shape, dtype, {"transpose": "output_shape", "conv1d": "the output",
                                          "backprop_filter": "filter_shape"}[op])
    wild = _bounds.takeover(geom, op, data_format)   # huge numbers, far-reaching taps
    # taps or samples without a link: the call runs on the part that has them (conv1dt/_bounds.py)
    cut = None if wild is not None else _bounds.crop(geom, op)
    inner = geom if cut is None else cut[1]
    flat = None if wild is not None or cut is not None else _plan.flattened(inner, data_format)
    inner = flat or inner
    kernel = "cropped" if wild is not None else _plan.choose(op, inner, real.itemsize,
                                                            data_format)
    blocks = _plan.blocking(op, kernel, inner, real.itemsize, data_format)
    if wild is not None:
        # computed exactly on a cropped call (conv1dt/_bounds.py); not kept: such calls are rare
        key = None

        def runner(x, y, out=None):
            res = wild(x, y)
            if out is None:
                return res
            out[...] = res
            return out
    else:
        runner = _runner(op, inner, data_format, kernel, blocks, real)
        if _plan.parallel(inner):
            runner = _load.watched(runner)     # one thread for a while if held up by the load
        if flat is not None:
            runner = _flat_runner(op, geom.batch, runner)
            blocks = dict(blocks, batch="flattened")
        if cut is not None:
            runner = _bounds.cropped(op, geom, cut, data_format, runner)
            i0, i1, k0, k1 = cut[0]
            blocks = dict(blocks, crop=f"samples {i0}:{i1}, taps {k0}:{k1}")

    def run(x, y, out=None):
        return _bilinear(runner, x, y, dtype, out, out_shape)

    plan = _plan.Plan(op, geom, data_format, dtype, (a.shape, b.shape), out_shape, run, kernel,
                      blocks)
    if a.dtype == real and b.dtype == real and dtype == real:
        # the kernel's own dtype: C-contiguous operands go straight to the runner (for a small
        # conv1d_transpose, the compiled plan of its tap table)
        plan._quick = getattr(runner, "small", runner)
    if key is not None:
        _plan.keep(key, plan)
    return plan


def _flat_runner(op, batch, inner):
    """``run(a, b, out=None)``: a call of ``op`` with ``batch`` elements (NWC) by ``inner``, the
    runner of its flattened geometry (:func:`conv1dt._plan.flattened`): the signals' batch
    elements laid end to end as one, a reshape of the C-contiguous operands (and of ``out``)."""
    def rows(a):
        return a.reshape(1, a.shape[0] * a.shape[1], a.shape[2])

    small = getattr(inner, "small", None)
    if op == "backprop_filter":
        def run(a, b, out=None):
            return inner(rows(a), rows(b), out)
        if small is not None:
            run.small = lambda a, b: small(rows(a), rows(b))
        return run

    def run(a, b, out=None):
        o = rows(out) if out is not None and out.flags.c_contiguous else None
        res = inner(rows(a), b, o)
        if out is None:
            return res.reshape(batch, res.shape[1] // batch, res.shape[2])
        if o is None:
            out[...] = res.reshape(out.shape)
        return out
    if small is not None:
        def quick(a, b):
            res = small(rows(a), b)
            return res.reshape(batch, res.shape[1] // batch, res.shape[2])
        run.small = quick
    return run


def _runner(op, geom, data_format, kernel, blocks, real):
    """``run(x, y, out=None)``: ``op`` on geometry ``geom`` by ``kernel`` with ``blocks``, on
    real C-contiguous operands of dtype ``real``."""
    if op == "transpose" and geom.groups == 1:
        return _dispatch.transpose_plan(geom, data_format, kernel, real)
    if op == "transpose":
        def runner(x, y, out=None):
            return _dispatch.conv1d_transpose_groups(x, y, geom, data_format, kernel, out,
                                                     blocks)
        return runner
    fn = _dispatch.conv1d if op == "conv1d" else _dispatch.conv1d_backprop_filter

    def runner(x, y, out=None):      # the plan's blocks, not made again at each call
        return fn(x, y, geom, data_format, kernel, out, blocks)
    small = (_dispatch.conv1d_small(geom, data_format, kernel, real) if op == "conv1d" else
             _dispatch.backprop_filter_small(geom, data_format, kernel, real))
    if small:
        runner.small = small
    return runner


def _parse(padding, strides, dilations, data_format, groups, strides_name):
    """The arguments every op shares: ``(data_format, padding, stride, dilation, groups)``."""
    data_format = parse_data_format(data_format)
    padding = parse_padding(padding, data_format)
    stride = window_param(strides, strides_name, data_format)
    dilation = window_param(dilations, "dilations", data_format)
    return data_format, padding, stride, dilation, parse_groups(groups)


def _bilinear(op, a, b, dtype, out=None, shape=None):
    r"""``op(a, b)`` in ``dtype`` (into ``out`` when given, else a new array of ``shape``), for an
    ``op`` that is bilinear in ``a`` and ``b`` and computes C-contiguous real operands of one
    dtype (every op of the family is).

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
    real = real_compute_dtype(dtype)
    if dtype.kind != "c":
        a, b = c_array(a, dtype=real), c_array(b, dtype=real)
        if dtype == real:
            return op(a, b, out)
        res = op(a, b)
        if out is None:
            return res.astype(dtype)
        out[...] = res
        return out
    ar, ai = c_array(a.real, dtype=real), c_array(a.imag, dtype=real)
    br, bi = c_array(b.real, dtype=real), c_array(b.imag, dtype=real)
    if out is None and shape is not None:
        out = _dispatch.allocate(shape, dtype)
    part = op(ar, br)
    if out is None:
        out = _dispatch.allocate(part.shape, dtype)
    out.real = part
    del part
    out.real -= op(ai, bi)
    out.imag = op(ar, bi)
    out.imag += op(ai, br)
    return out


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NWC",
                     dilations=None, name=None, groups=1, *, out=None):
    r"""The transpose of conv1d: a drop-in for ``tf.nn.conv1d_transpose``.

    This operation is sometimes called "deconvolution" after (Zeiler et al., 2010), but it is the
    transpose (the gradient with respect to its input) of conv1d, not an inverse of it.

    Parameters
    ----------
    input : array_like
        ``[batch, in_width, in_channels]`` for ``NWC`` or ``[batch, in_channels, in_width]`` for
        ``NCW``; float16, float32, float64, complex64 or complex128. Extra leading batch
        dimensions, ``[..., in_width, in_channels]``, are accepted (``output_shape`` then has
        them too), as ``tf.nn.conv1d`` takes them.
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
    out : ndarray, optional, keyword-only
        Where to write the result: a writeable, C-contiguous, aligned array of the result's
        shape and dtype, sharing no memory with the operands (ValueError or TypeError
        otherwise). It is returned.

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
        if out is None:
            res = _quick(plan, input, filters)
            if res is not None:
                return res
        return _fast(plan, input, filters, out)
    lead = _forms.leading_shape(input)
    if lead is not None:   # leading batch dimensions [..., W, C]: one batch axis, then back
        return _into(_forms.with_leading(
            lambda a, b, s: conv1d_transpose(a, b, s, strides, padding, data_format, dilations,
                                             groups=groups), input, filters, lead,
            shape=output_shape), out, (input, filters))
    plan, x, f = _transpose_plan(key, input, filters, output_shape, strides, padding, data_format,
                                 dilations, groups)
    return _fast(plan, x, f, out)


def _transpose_plan(key, input, filters, output_shape, strides, padding, data_format, dilations,
                    groups):
    """``(plan, x, f)`` for a call of :func:`conv1d_transpose`, its operands as arrays."""
    data_format, padding, stride, dilation, groups = _parse(padding, strides, dilations,
                                                            data_format, groups, "strides")
    x, f, dtype = as_operands(input, filters)
    out_shape = as_shape(output_shape)
    geom = transpose_geometry(x.shape, f.shape, out_shape, stride, dilation, padding, data_format,
                              groups)
    return _make_plan("transpose", geom, data_format, x, f, dtype, out_shape, key), x, f


def conv1d(input, filters, stride, padding="SAME", data_format="NWC", dilations=None, name=None,
           groups=1, *, out=None):
    r"""The 1-D convolution (a cross-correlation): a drop-in for ``tf.nn.conv1d``.

    Parameters
    ----------
    input : array_like
        ``[batch, in_width, in_channels]`` for ``NWC`` or ``[batch, in_channels, in_width]`` for
        ``NCW``; float16, float32, float64, complex64 or complex128. Extra leading batch
        dimensions, ``[..., in_width, in_channels]``, are accepted, as in ``tf.nn.conv1d``.
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
        the depthwise convolution. With ``groups=1``, filters whose in_channels divide the
        input's channels make ``in_channels / filters.shape[1]`` groups, as ``tf.nn.conv1d``
        infers them.
    out : ndarray, optional, keyword-only
        Where to write the result: a writeable, C-contiguous, aligned array of the result's
        shape and dtype, sharing no memory with the operands (ValueError or TypeError
        otherwise). It is returned.

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
        if out is None:
            res = _quick(plan, input, filters)
            if res is not None:
                return res
        return _fast(plan, input, filters, out)
    groups = _forms.implicit_groups(input, filters, data_format, groups)   # as tf.nn.conv1d
    lead = _forms.leading_shape(input)
    if lead is not None:   # leading batch dimensions [..., W, C]: one batch axis, then back
        return _into(_forms.with_leading(
            lambda a, b: conv1d(a, b, stride, padding, data_format, dilations, groups=groups),
            input, filters, lead), out, (input, filters))
    plan, x, f = _conv1d_plan(key, input, filters, stride, padding, data_format, dilations, groups)
    return _fast(plan, x, f, out)


def _conv1d_plan(key, input, filters, stride, padding, data_format, dilations, groups):
    """``(plan, x, f)`` for a call of :func:`conv1d`, its operands as arrays."""
    data_format, padding, stride, dilation, groups = _parse(padding, stride, dilations,
                                                            data_format, groups, "stride")
    x, f, dtype = as_operands(input, filters)
    geom = conv1d_geometry(x.shape, f.shape, stride, dilation, padding, data_format, groups)
    out_shape = ((geom.batch, geom.narrow_channels, geom.narrow) if data_format == "NCW" else
                 (geom.batch, geom.narrow, geom.narrow_channels))
    return _make_plan("conv1d", geom, data_format, x, f, dtype, out_shape, key), x, f


def conv1d_backprop_filter(input, filter_shape, out_backprop, strides, padding="SAME",
                           data_format="NWC", dilations=None, name=None, groups=1, *, out=None):
    r"""The gradient of conv1d with respect to its filters.

    ``tf.compat.v1.nn.conv2d_backprop_filter`` on a one-high image, in one dimension: given
    conv1d's ``input`` and the gradient ``out_backprop`` of a loss with respect to conv1d's
    output, the gradient of the loss with respect to the filters.

    Parameters
    ----------
    input : array_like
        conv1d's input, ``[batch, in_width, in_channels]`` for ``NWC`` or
        ``[batch, in_channels, in_width]`` for ``NCW``; float16, float32, float64, complex64 or
        complex128. Extra leading batch dimensions (the same in ``out_backprop``) are summed
        over like the batch.
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
    out : ndarray, optional, keyword-only
        Where to write the result: a writeable, C-contiguous, aligned array of the result's
        shape and dtype, sharing no memory with the operands (ValueError or TypeError
        otherwise). It is returned.

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
        if out is None:
            res = _quick(plan, input, out_backprop)
            if res is not None:
                return res
        return _fast(plan, input, out_backprop, out)
    lead = _forms.leading_shape(input)
    if lead is not None:   # leading batch dimensions [..., W, C], summed over like the batch
        return _into(_forms.with_leading(
            lambda a, b, s: conv1d_backprop_filter(a, s, b, strides, padding, data_format,
                                                   dilations, groups=groups),
            input, out_backprop, lead, shape=filter_shape, b_name="out_backprop",
            shape_is_output=False), out, (input, out_backprop))
    plan, x, dy = _backprop_filter_plan(key, input, filter_shape, out_backprop, strides, padding,
                                        data_format, dilations, groups)
    return _fast(plan, x, dy, out)


def _backprop_filter_plan(key, input, filter_shape, out_backprop, strides, padding, data_format,
                          dilations, groups):
    """``(plan, x, dy)`` for a call of :func:`conv1d_backprop_filter`, its operands as arrays."""
    data_format, padding, stride, dilation, groups = _parse(padding, strides, dilations,
                                                            data_format, groups, "strides")
    x, dy, dtype = as_operands(input, out_backprop, names=("input", "out_backprop"))
    f_shape = as_shape(filter_shape, "filter_shape")
    geom = backprop_filter_geometry(x.shape, f_shape, dy.shape, stride, dilation, padding,
                                    data_format, groups)
    return (_make_plan("backprop_filter", geom, data_format, x, dy, dtype, f_shape, key), x, dy)


_PLANNERS = {
    "conv1d_transpose": (conv1d_transpose, "input", "filters",
                         lambda a: _transpose_plan(None, a["input"], a["filters"],
                                                   a["output_shape"], a["strides"], a["padding"],
                                                   a["data_format"], a["dilations"], a["groups"])),
    "conv1d": (conv1d, "input", "filters",
               lambda a: _conv1d_plan(None, a["input"], a["filters"], a["stride"], a["padding"],
                                      a["data_format"], a["dilations"], a["groups"])),
    "conv1d_backprop_filter": (conv1d_backprop_filter, "input", "out_backprop",
                               lambda a: _backprop_filter_plan(
                                   None, a["input"], a["filter_shape"], a["out_backprop"],
                                   a["strides"], a["padding"], a["data_format"], a["dilations"],
                                   a["groups"])),
}


def plan(op, *args, **kwargs):
    """Plan one op for operands of given shapes and dtype: check once, call many times.

    Parameters
    ----------
    op : callable or str
        :func:`conv1d_transpose`, :func:`conv1d` or :func:`conv1d_backprop_filter` (or its name).
    *args, **kwargs
        The op's arguments, as for a call (without ``out``). Of the two array arguments
        (``input`` and ``filters``, or ``input`` and ``out_backprop``) only the shapes and dtype
        are read: arrays of the right shape, such as ``np.empty(shape, dtype)``, will do.

    Returns
    -------
    Plan
        A callable ``plan(a, b, out=None)`` computing the op on new operands of the same shapes
        and dtype (``a`` and ``b`` in the op's order: ``input`` and ``filters``, or ``input``
        and ``out_backprop``), into ``out`` when given (a writeable, C-contiguous, aligned
        array of the output's shape and dtype, sharing no memory with the operands). Its
        ``kernel``, ``blocks`` and ``repr`` say which kernel runs and how its work is split;
        ``geometry`` is the call's geometry (``conv1dt.Geometry``).

    Raises
    ------
    ValueError, TypeError
        As the op itself would for these arguments; a plan then refuses operands of other shapes
        or dtypes with a ValueError.

    Notes
    -----
    The ops keep the plans of the calls they have seen (at most 256, the least recently used
    dropped first), so a repeated call already skips its checks; an explicit plan also skips
    the look-up and lets the output be written in place. ``plan.cache_clear()`` forgets the
    kept plans.

    Examples
    --------
    >>> import numpy as np
    >>> import conv1dt
    >>> x = np.ones((1, 3, 1))
    >>> f = np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)
    >>> p = conv1dt.plan(conv1dt.conv1d_transpose, x, f, [1, 7, 1], 2, padding="VALID")
    >>> p.kernel
    'direct'
    >>> y = np.empty((1, 7, 1))
    >>> p(x, f, out=y) is y
    True
    >>> y[0, :, 0]
    array([  1.,  10., 101.,  10., 101.,  10., 100.])
    """
    name = op if isinstance(op, str) else getattr(op, "__name__", None)
    if name not in _PLANNERS:
        raise ValueError(f"op must be conv1d_transpose, conv1d or conv1d_backprop_filter, got "
                         f"{op!r}")
    fn, _, _, planner = _PLANNERS[name]
    if "out" in kwargs:
        raise TypeError("plan() takes no out argument: pass out when calling the plan")
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"plan({name}, ...): {exc}") from None
    bound.apply_defaults()
    return planner(bound.arguments)[0]


plan.cache_clear = _plan.clear_cache
