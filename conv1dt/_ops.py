"""The public operations: TF-shaped signatures, validation once, then dispatch."""
import numpy as np

from . import _dispatch
from ._geometry import transpose_geometry
from ._layout import (
    as_operands,
    as_shape,
    parse_data_format,
    parse_padding,
    window_param,
)

__all__ = ["conv1d_transpose"]


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NWC",
                     dilations=None, name=None):
    r"""The transpose of conv1d: a drop-in for ``tf.nn.conv1d_transpose``.

    This operation is sometimes called "deconvolution" after (Zeiler et al., 2010), but it is the
    transpose (the gradient with respect to its input) of conv1d, not an inverse of it.

    Parameters
    ----------
    input : array_like
        ``[batch, in_width, in_channels]`` for ``NWC`` or ``[batch, in_channels, in_width]`` for
        ``NCW``; float16, float32 or float64.
    filters : array_like
        ``[filter_width, out_channels, in_channels]`` in both layouts, of the same dtype as
        ``input``.
    output_shape : sequence of 3 ints
        The output shape: ``[batch, out_width, out_channels]`` for ``NWC``,
        ``[batch, out_channels, out_width]`` for ``NCW``. A list, tuple or integer array.
    strides : int or sequence of ints
        The stride ``s``: an int, ``[s]``, or ``[1, s, 1]`` (``NWC``) / ``[1, 1, s]`` (``NCW``).
    padding : {'SAME', 'VALID'}, optional
        The padding of the conv1d this op is the transpose of.
    data_format : {'NWC', 'NCW'}, optional
        Layout of ``input`` and of the output. ``None`` means ``'NWC'``.
    dilations : int or sequence of ints, optional
        The dilation ``d``, in the same forms as ``strides``; default 1.
    name : str, optional
        Accepted for compatibility with TensorFlow and ignored.

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
        ``padding`` or ``data_format`` is not one of the accepted strings; or ``strides`` or
        ``dilations`` is not a positive int in an accepted form.
    TypeError
        If ``input`` or ``filters`` is not float16, float32 or float64, or their dtypes differ.

    See Also
    --------
    conv1dt.reference.conv1d_transpose : the plain NumPy definition.

    Notes
    -----
    With stride :math:`s`, dilation :math:`d`, :math:`K` taps and :math:`K_\mathrm{eff}=(K-1)d+1`,

    .. math::

        y[n, o, c_o] = \sum_{i, k, c_i \,:\, o = i s + k d - p} x[n, i, c_i]\, f[k, c_o, c_i],
        \qquad 0 \le o < L,

    where :math:`p` is the leading padding of the forward conv1d. For an input of width :math:`M`,
    ``SAME`` accepts :math:`(M-1)s + 1 \le L \le Ms` with
    :math:`p = \lfloor \max((M-1)s + K_\mathrm{eff} - L, 0) / 2 \rfloor`; ``VALID`` accepts
    :math:`(M-1)s + K_\mathrm{eff} \le L \le Ms + K_\mathrm{eff} - 1` with :math:`p = 0`. These are
    the widths :math:`L` whose conv1d has width :math:`M`; since :math:`s` of them share one
    :math:`M`, the output width must be given.

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
    """
    data_format = parse_data_format(data_format)
    padding = parse_padding(padding)
    stride = window_param(strides, "strides", data_format)
    dilation = window_param(dilations, "dilations", data_format)
    x, f, dtype = as_operands(input, filters)
    out_shape = as_shape(output_shape)
    geom = transpose_geometry(x.shape, f.shape, out_shape, stride, dilation, padding, data_format)
    compute = "float32" if dtype == "float16" else dtype
    x = np.ascontiguousarray(x, dtype=compute)
    f = np.ascontiguousarray(f, dtype=compute)
    y = _dispatch.conv1d_transpose(x, f, geom, data_format)
    return y.astype(dtype, copy=False)
