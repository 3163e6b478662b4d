"""The executable definition of the conv1d family, in plain NumPy, written to be read.

These functions are the oracle the compiled kernels are tested against. They are slow on purpose:
each is a direct transcription of one equation, with no tricks.

Every function takes a :class:`~conv1dt._geometry.Geometry` ``g`` (the one forward convolution the
family shares) and arrays in NWC layout:

* the *wide* signal ``[N, L, Cw]`` (conv1d's input, conv1d_transpose's output),
* the *narrow* signal ``[N, M, Cn]`` (conv1d's output, conv1d_transpose's input),
* filters ``f`` of shape ``[K, Cw, Cn]`` (``tf.nn.conv1d_transpose``'s ``[K, Cout, Cin]``, which is also
  ``tf.nn.conv1d``'s ``[K, in_channels, out_channels]`` for the forward map).

The one equation: narrow sample ``i`` and wide sample ``o`` are linked by tap ``k`` when

    o = i*s + k*d - pad_before,        0 <= o < L,  0 <= i < M,  0 <= k < K.

conv1d gathers along those links; conv1d_transpose scatters back along the same links.
"""
import numpy as np

__all__ = ["conv1d", "conv1d_transpose", "conv1d_matrix", "links"]


def _compute_dtype(*arrays):
    """Arithmetic dtype: the operands' common dtype, float16 promoted to float32."""
    return np.result_type(np.float32, *arrays)


def links(g):
    """Yield every ``(i, k, o)`` with ``o = i*s + k*d - pad_before`` inside both signals."""
    for i in range(g.narrow):
        for k in range(g.taps):
            o = i * g.stride + k * g.dilation - g.pad_before
            if 0 <= o < g.wide:
                yield i, k, o


def conv1d_transpose(x, f, g):
    """conv1d_transpose as a scatter: each input sample stamps a scaled filter into the output.

    ``y[n, o, co] = sum over links (i, k, o) and ci of x[n, i, ci] * f[k, co, ci]``

    Parameters
    ----------
    x : ndarray, shape (N, M, Cin)
    f : ndarray, shape (K, Cout, Cin)
    g : Geometry

    Returns
    -------
    ndarray, shape (N, L, Cout), of ``x``'s dtype
    """
    dt = _compute_dtype(x, f)
    y = np.zeros((g.batch, g.wide, g.wide_channels), dtype=dt)
    for i, k, o in links(g):
        # x[:, i, :] is [N, Cin]; f[k] is [Cout, Cin]
        y[:, o, :] += x[:, i, :].astype(dt) @ f[k].astype(dt).T
    return y.astype(x.dtype)


def conv1d(y, f, g):
    """conv1d as a gather: each output sample reads a window of the (padded) input.

    ``x[n, i, ci] = sum over links (i, k, o) and co of y[n, o, co] * f[k, co, ci]``

    This is ``tf.nn.conv1d(y, f, stride, padding)`` with ``f`` as ``[K, in_channels, out_channels]``.

    Parameters
    ----------
    y : ndarray, shape (N, L, Cw)
    f : ndarray, shape (K, Cw, Cn)
    g : Geometry

    Returns
    -------
    ndarray, shape (N, M, Cn), of ``y``'s dtype
    """
    dt = _compute_dtype(y, f)
    x = np.zeros((g.batch, g.narrow, g.narrow_channels), dtype=dt)
    for i, k, o in links(g):
        x[:, i, :] += y[:, o, :].astype(dt) @ f[k].astype(dt)
    return x.astype(y.dtype)


def conv1d_matrix(f, g):
    """The matrix ``C`` of conv1d for one batch element: ``x.ravel() = C @ y.ravel()``.

    ``C`` has shape ``(M*Cn, L*Cw)``; row ``i*Cn + ci``, column ``o*Cw + co`` holds ``f[k, co, ci]``
    for the link ``(i, k, o)``. conv1d_transpose is ``C.T``: ``y.ravel() = C.T @ x.ravel()``.
    For stride 1 the band is Toeplitz; for stride ``s`` each row block moves ``s`` column blocks on.
    """
    cn, cw = g.narrow_channels, g.wide_channels
    C = np.zeros((g.narrow * cn, g.wide * cw), dtype=_compute_dtype(f))
    for i, k, o in links(g):
        C[i * cn:(i + 1) * cn, o * cw:(o + 1) * cw] += f[k].T
    return C
