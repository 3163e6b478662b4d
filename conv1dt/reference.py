"""The executable definition of the conv1d family, in plain NumPy, written to be read.

These functions are the oracle the compiled kernels are tested against. They are slow on purpose:
each is a direct transcription of one equation, with no tricks.

Every function takes a :class:`~conv1dt._geometry.Geometry` ``g`` (the one forward convolution the
family shares) and arrays in NWC layout:

* the *wide* signal ``[N, L, Cw]`` (conv1d's input, conv1d_transpose's output),
* the *narrow* signal ``[N, M, Cn]`` (conv1d's output, conv1d_transpose's input),
* filters ``f`` of shape ``[K, Cw/G, Cn]`` with ``G = g.groups`` (``tf.nn.conv1d_transpose``'s
  ``[K, Cout, Cin]``, which is also ``tf.nn.conv1d``'s ``[K, in_channels, out_channels]`` for the
  forward map).

The one equation: narrow sample ``i`` and wide sample ``o`` are linked by tap ``k`` when

    o = i*s + k*d - pad_before,        0 <= o < L,  0 <= i < M,  0 <= k < K.

conv1d gathers along those links; conv1d_transpose scatters back along the same links;
conv1d_backprop_filter sums the products of the two signals along them, per tap. With groups, the
channels are cut into ``G`` equal consecutive parts and part ``j`` of one signal meets only part
``j`` of the other, through the filter columns of part ``j`` (:func:`group_slices`).

Complex operands work as they are: every product is the plain (bilinear) product, with no
conjugation.
"""
import numpy as np

__all__ = ["conv1d", "conv1d_transpose", "conv1d_backprop_filter", "conv1d_matrix", "links", "group_slices"]


def _compute_dtype(*arrays):
    """Arithmetic dtype: the operands' common dtype, float16 promoted to float32."""
    return np.result_type(np.float32, *arrays)


def links(g):
    """Yield every ``(i, k, o)`` with ``o = i*s + k*d - pad_before`` inside both signals.

    Examples
    --------
    Three narrow samples, two taps, stride 2, SAME (``pad_before = 0`` here): each sample's
    stamp starts at ``o = 2*i``.

    >>> from conv1dt import reference
    >>> from conv1dt._geometry import transpose_geometry
    >>> g = transpose_geometry((1, 3, 1), (2, 1, 1), (1, 6, 1), 2, 1, "SAME", "NWC")
    >>> list(reference.links(g))
    [(0, 0, 0), (0, 1, 1), (1, 0, 2), (1, 1, 3), (2, 0, 4), (2, 1, 5)]"""
    for i in range(g.narrow):
        for k in range(g.taps):
            o = i * g.stride + k * g.dilation - g.pad_before
            if 0 <= o < g.wide:
                yield i, k, o


def group_slices(g):
    """Yield ``(w, c)`` for each group: its slice of the wide and of the narrow channels.

    Group ``j`` owns wide channels ``j*Cw/G .. (j+1)*Cw/G - 1`` and narrow channels
    ``j*Cn/G .. (j+1)*Cn/G - 1``; its filters are ``f[:, :, c]``, of shape ``[K, Cw/G, Cn/G]``.

    Examples
    --------
    Four wide and six narrow channels in two groups:

    >>> from conv1dt import reference
    >>> from conv1dt._geometry import transpose_geometry
    >>> g = transpose_geometry((1, 5, 6), (3, 2, 6), (1, 10, 4), 2, 1, "SAME", "NWC", groups=2)
    >>> list(reference.group_slices(g))
    [(slice(0, 2, None), slice(0, 3, None)), (slice(2, 4, None), slice(3, 6, None))]
    """
    cw, cn = g.wide_channels // g.groups, g.narrow_channels // g.groups
    for j in range(g.groups):
        yield slice(j * cw, (j + 1) * cw), slice(j * cn, (j + 1) * cn)


def conv1d_transpose(x, f, g):
    """conv1d_transpose as a scatter: each input sample stamps a scaled filter into the output.

    ``y[n, o, w] = sum over links (i, k, o) and c of x[n, i, c] * f[k, w, c]``, with ``w`` and
    ``c`` in the same group (``f[k, w, c]`` indexing ``w`` within the group).

    Parameters
    ----------
    x : ndarray, shape (N, M, Cin)
    f : ndarray, shape (K, Cout/G, Cin)
    g : Geometry

    Returns
    -------
    ndarray, shape (N, L, Cout), of ``x``'s dtype

    Examples
    --------
    The first page's example: each sample stamps ``[1, 10, 100]``, two outputs apart; the
    compiled :func:`conv1dt.conv1d_transpose` gives the same numbers.

    >>> import numpy as np
    >>> import conv1dt
    >>> from conv1dt import reference
    >>> from conv1dt._geometry import transpose_geometry
    >>> x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    >>> f = np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)
    >>> g = transpose_geometry(x.shape, f.shape, (1, 7, 1), 2, 1, "VALID", "NWC")
    >>> reference.conv1d_transpose(x, f, g)[0, :, 0]
    array([  1.,  10., 102.,  20., 203.,  30., 300.])
    >>> np.array_equal(reference.conv1d_transpose(x, f, g),
    ...                conv1dt.conv1d_transpose(x, f, [1, 7, 1], 2, "VALID"))
    True
    """
    dt = _compute_dtype(x, f)
    y = np.zeros((g.batch, g.wide, g.wide_channels), dtype=dt)
    for i, k, o in links(g):
        for w, c in group_slices(g):
            # x[:, i, c] is [N, Cin/G]; f[k, :, c] is [Cout/G, Cin/G]
            y[:, o, w] += x[:, i, c].astype(dt) @ f[k, :, c].astype(dt).T
    return y.astype(x.dtype)


def conv1d(y, f, g):
    """conv1d as a gather: each output sample reads a window of the (padded) input.

    ``x[n, i, c] = sum over links (i, k, o) and w of y[n, o, w] * f[k, w, c]``, with ``w`` and
    ``c`` in the same group.

    This is ``tf.nn.conv1d(y, f, stride, padding)`` with ``f`` as ``[K, in_channels/G, out_channels]``.

    Parameters
    ----------
    y : ndarray, shape (N, L, Cw)
    f : ndarray, shape (K, Cw/G, Cn)
    g : Geometry

    Returns
    -------
    ndarray, shape (N, M, Cn), of ``y``'s dtype

    Examples
    --------
    Stride 2, VALID: output ``i`` reads ``y[2i : 2i + 3]``.

    >>> import numpy as np
    >>> from conv1dt import reference
    >>> from conv1dt._geometry import conv1d_geometry
    >>> y = np.arange(1.0, 8.0).reshape(1, 7, 1)
    >>> f = np.array([1.0, 0.0, -1.0]).reshape(3, 1, 1)
    >>> g = conv1d_geometry(y.shape, f.shape, 2, 1, "VALID", "NWC")
    >>> reference.conv1d(y, f, g)[0, :, 0]
    array([-2., -2., -2.])
    """
    dt = _compute_dtype(y, f)
    x = np.zeros((g.batch, g.narrow, g.narrow_channels), dtype=dt)
    for i, k, o in links(g):
        for w, c in group_slices(g):
            x[:, i, c] += y[:, o, w].astype(dt) @ f[k, :, c].astype(dt)
    return x.astype(y.dtype)


def conv1d_backprop_filter(y, x, g):
    """The gradient of conv1d with respect to its filters: per tap, the two signals' products.

    ``df[k, w, c] = sum over n and the links (i, k, o) of y[n, o, w] * x[n, i, c]``, with ``w``
    and ``c`` in the same group: the sum over the batch of the wide signal correlated with the
    narrow one at the lag of tap ``k``.

    This is ``tf.compat.v1.nn.conv2d_backprop_filter`` on one-high images, with ``y`` as conv1d's
    input and ``x`` as the gradient of its output.

    Parameters
    ----------
    y : ndarray, shape (N, L, Cw)
    x : ndarray, shape (N, M, Cn)
    g : Geometry

    Returns
    -------
    ndarray, shape (K, Cw/G, Cn), of ``y``'s dtype

    Examples
    --------
    One channel, three taps, stride 1, VALID: tap ``k`` pairs ``y[k + i]`` with ``x[i]``.

    >>> import numpy as np
    >>> from conv1dt import reference
    >>> from conv1dt._geometry import conv1d_geometry
    >>> y = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    >>> x = np.array([1.0, -1.0]).reshape(1, 2, 1)
    >>> g = conv1d_geometry(y.shape, (3, 1, 1), 1, 1, "VALID", "NWC")
    >>> reference.conv1d_backprop_filter(y, x, g)[:, 0, 0]
    array([-1., -1., -1.])
    """
    dt = _compute_dtype(y, x)
    df = np.zeros((g.taps, g.wide_channels // g.groups, g.narrow_channels), dtype=dt)
    for i, k, o in links(g):
        for w, c in group_slices(g):
            # y[:, o, w] is [N, Cw/G]; x[:, i, c] is [N, Cn/G]: a sum over the batch
            df[k, :, c] += y[:, o, w].astype(dt).T @ x[:, i, c].astype(dt)
    return df.astype(y.dtype)


def conv1d_matrix(f, g):
    """The matrix ``C`` of conv1d for one batch element: ``x.ravel() = C @ y.ravel()``.

    ``C`` has shape ``(M*Cn, L*Cw)``; row ``i*Cn + c``, column ``o*Cw + w`` holds ``f[k, w, c]``
    for the link ``(i, k, o)`` when ``w`` and ``c`` are in the same group, and zero otherwise.
    conv1d_transpose is ``C.T``: ``y.ravel() = C.T @ x.ravel()``. For stride 1 the band is
    Toeplitz; for stride ``s`` each row block moves ``s`` column blocks on.

    Examples
    --------
    >>> import numpy as np
    >>> from conv1dt import reference
    >>> from conv1dt._geometry import transpose_geometry
    >>> f = np.array([1.0, 2.0, 3.0]).reshape(3, 1, 1)
    >>> g = transpose_geometry((1, 3, 1), f.shape, (1, 7, 1), 2, 1, "VALID", "NWC")
    >>> reference.conv1d_matrix(f, g).astype(int)
    array([[1, 2, 3, 0, 0, 0, 0],
           [0, 0, 1, 2, 3, 0, 0],
           [0, 0, 0, 0, 1, 2, 3]])
    """
    cn, cw = g.narrow_channels, g.wide_channels
    C = np.zeros((g.narrow * cn, g.wide * cw), dtype=_compute_dtype(f))
    for i, k, o in links(g):
        block = C[i * cn:(i + 1) * cn, o * cw:(o + 1) * cw]   # a view: [Cn, Cw]
        for w, c in group_slices(g):
            block[c, w] += f[k, :, c].T
    return C
