"""Overlap-add: the full result of a transposed convolution assembled from the full results of
consecutive pieces of its input (pure Python), shared by the streaming class
(``conv1dt/_stream.py``, pieces in time) and ``conv1dt.dask`` (pieces in space, a Dask array's
chunks).

Input sample ``i`` stamps the filter onto outputs ``o = i*s + k*d`` (``k = 0 .. K-1``), so the
full result of a piece of ``b`` samples, ``conv1d_transpose(piece, ..., 'VALID')`` at its
narrowest width ``(b - 1)*s + Keff`` (:func:`full_result`), is the piece's contribution to the
signal's full result, shifted by ``s`` times the piece's first index; adding the contributions
where they overlap (:func:`add_parts`) gives the full result of the whole signal.
"""
import numpy as np

from ._args import real_compute_dtype
from ._geometry import _axes, effective_filter_width
from ._ops import conv1d_transpose

__all__ = ["accumulation_dtype", "add_parts", "full_width", "full_result", "signal_shape",
           "width_index"]


def accumulation_dtype(dtype):
    """The dtype partial results are kept and added in: float32 for float16 (which
    :func:`~conv1dt.conv1d_transpose` computes in float32), ``dtype`` itself otherwise."""
    return np.result_type(real_compute_dtype(dtype), dtype)


def full_width(width, taps, stride, dilation):
    """Width of the full (VALID, narrowest) result of ``width`` input samples:
    ``(width - 1)*s + Keff`` for ``width >= 1``, and ``0`` for ``width = 0``.

    Examples
    --------
    >>> full_width(3, 3, 2, 1), full_width(1, 4, 2, 2), full_width(0, 4, 2, 2)
    (7, 7, 0)
    """
    return (width - 1) * stride + effective_filter_width(taps, dilation) if width else 0


def signal_shape(n, width, channels, data_format):
    """``(n, width, channels)`` for ``'NWC'``, ``(n, channels, width)`` for ``'NCW'``."""
    return (n, width, channels) if data_format == "NWC" else (n, channels, width)


def width_index(data_format, start, stop):
    """The index tuple that takes samples ``start:stop`` along the width of a signal in
    ``data_format`` (axis 1 for ``'NWC'``, axis 2 for ``'NCW'``)."""
    span = slice(start, stop)
    return (slice(None), span) if data_format == "NWC" else (slice(None), slice(None), span)


def full_result(x, f, stride, dilation, data_format, groups):
    """The full result of ``x`` alone: :func:`~conv1dt.conv1d_transpose` with ``'VALID'``
    padding at the width :func:`full_width`, in the dtype of ``x`` and ``f`` (which must agree).

    Output ``q`` of it is ``sum x[i] f[k]`` over ``q = i*s + k*d``, with ``i`` counted from
    the first sample of ``x``. An empty ``x`` gives an empty result.
    """
    width = x.shape[_axes(data_format)[0]]
    shape = signal_shape(x.shape[0], full_width(width, f.shape[0], stride, dilation),
                         f.shape[1] * groups, data_format)
    if width == 0:
        return np.zeros(shape, dtype=x.dtype)
    return conv1d_transpose(x, f, list(shape), stride, "VALID", data_format, dilation, groups=groups)


def add_parts(shape, data_format, dtype, start, offsets, *parts):
    """Output samples ``start .. start + width`` of the full result, from the pieces' full
    results ``parts`` that reach them, which begin at the full result's samples ``offsets``;
    returned in ``dtype``, ``shape`` being ``[N, width, Cout]`` (or NCW). Each output adds the
    parts in the order given."""
    w_ax = _axes(data_format)[0]
    out = np.zeros(shape, dtype=parts[0].dtype if parts else dtype)
    width = shape[w_ax]
    for offset, part in zip(offsets, parts):
        lo, hi = max(start, offset), min(start + width, offset + part.shape[w_ax])
        out[width_index(data_format, lo - start, hi - start)] += \
            part[width_index(data_format, lo - offset, hi - offset)]
    return out.astype(dtype, copy=False)
