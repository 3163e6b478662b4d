r"""conv1d_transpose on Dask arrays, chunk by chunk, with overlap-add across chunk boundaries.

An optional part of conv1dt: it needs Dask (``pip install 'conv1dt[dask]'``), and ``import
conv1dt`` does not import it. Import it as ``import conv1dt.dask``.
"""
try:
    import dask.array as da
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph
except ImportError as exc:  # the optional dependency is missing
    raise ImportError(
        "conv1dt.dask needs Dask, an optional dependency of conv1dt: install it with "
        f"pip install 'conv1dt[dask]'. ({exc})"
    ) from exc
import bisect
import itertools

import numpy as np

from ._args import (as_operand, as_operands, as_shape, parse_data_format, parse_groups, parse_padding,
                    window_param)
from ._geometry import _axes, effective_filter_width, transpose_geometry
from ._overlap_add import accumulation_dtype, add_parts, full_result, full_width, signal_shape
from ._runtime import threads as _threads

__all__ = ["conv1d_transpose", "output_chunks"]


def output_chunks(width_chunks, stride, pad_before, wide):
    """The output's chunks along the width, one for each input chunk.

    Output chunk ``j`` holds the output samples ``[s*a_j - pad_before, s*a_(j+1) - pad_before)``
    clipped to ``[0, L)``, where input chunk ``j`` holds the input samples ``[a_j, a_(j+1))``;
    the first starts at 0 and the last runs on to ``L``. No later input reaches them, so they
    need input chunk ``j`` and those before it whose stamps reach this far.

    Examples
    --------
    Input chunks of 3, 1 and 2 samples, stride 2, ``pad_before = 1`` and ``L = 12`` (SAME):

    >>> from conv1dt.dask import output_chunks
    >>> output_chunks((3, 1, 2), 2, 1, 12)
    (5, 2, 5)
    """
    starts = list(itertools.accumulate((0,) + tuple(width_chunks)))[:-1]  # Python ints: exact
    edges = [min(max(a * stride - pad_before, 0), wide) for a in starts] + [wide]
    edges[0] = 0
    return tuple(int(hi - lo) for lo, hi in zip(edges[:-1], edges[1:]))


def _full_block(x, f, stride, dilation, data_format, groups):
    """The full result of one chunk alone, in the accumulation dtype of ``f``, on one thread
    unless the user has set a count with :func:`conv1dt.set_num_threads` (Dask runs a task per
    core already: all threads in each would run cores x cores threads)."""
    with _threads._limit(1):
        return full_result(np.ascontiguousarray(x, dtype=f.dtype), f, stride, dilation,
                           data_format, groups)


def _refuse_masked(a, name):
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError(f"{name} is a numpy.ma.MaskedArray: conv1dt would compute with the data "
                        f"under its mask; pass {name}.filled(0) (or another fill) instead")


def _key(name, nb, j, data_format):
    """The key of batch chunk ``nb``, width chunk ``j`` (and the one channel chunk)."""
    return (name, nb, j, 0) if data_format == "NWC" else (name, nb, 0, j)


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NWC",
                     dilations=None, name=None, groups=1):
    r"""conv1d_transpose of a Dask array, chunk by chunk: :func:`conv1dt.conv1d_transpose`,
    lazily.

    Parameters
    ----------
    input : dask.array.Array or array_like
        ``[batch, in_width, in_channels]`` (``NWC``) or ``[batch, in_channels, in_width]``
        (``NCW``), chunked along the batch and the width in any chunk sizes (a chunk may be
        narrower than the filter, or empty); float16, float32, float64, complex64 or
        complex128. Chunks along the channels are joined into one. An input that is not a Dask
        array (a NumPy array, say) is wrapped by ``dask.array.asarray``, in automatic chunks.
    filters : array_like
        ``[filter_width, out_channels / groups, in_channels]``, in memory (a Dask array is
        computed), of ``input``'s dtype. It is copied into the graph.
    output_shape, strides, padding, data_format, dilations, name, groups
        As for :func:`conv1dt.conv1d_transpose`.

    Returns
    -------
    dask.array.Array
        Of shape ``output_shape`` and ``input``'s dtype. It has ``input``'s chunks along the
        batch, one chunk along the channels, and along the width one chunk for each of
        ``input``'s chunks (:func:`output_chunks`): with stride ``s``, leading padding ``p`` and
        ``input``'s width chunk
        ``j`` starting at input sample ``a_j``, output chunk ``j`` starts at ``s*a_j - p``
        (clipped to ``[0, L]``; the first at 0) and ends where the next one starts, the last at
        ``L``. Some of them may be empty.

    Raises
    ------
    ValueError
        In the cases :func:`conv1dt.conv1d_transpose` raises it, and if ``input``'s chunk sizes
        are unknown (``nan``; call ``input.compute_chunk_sizes()`` first).
    TypeError
        As :func:`conv1dt.conv1d_transpose` raises it, for the dtypes of ``input`` and
        ``filters``.

    See Also
    --------
    conv1dt.conv1d_transpose : the in-memory function.
    conv1dt.Conv1DTransposeStream : the same overlap-add in time, block by block.

    Notes
    -----
    Input sample :math:`i` reaches the full result's samples :math:`q = i s + k d`,
    :math:`0 \le k < K`, and the output is that full result cropped: :math:`y[o] =
    \mathrm{full}[o + p]`. So each chunk of the input is transposed on its own, a task of
    ``dask.array.map_blocks`` giving its full result of :math:`(b-1) s + K_\mathrm{eff}`
    samples for a chunk of :math:`b`, which starts at sample :math:`s a_j` of the whole full
    result. Neighbouring full results overlap by :math:`K_\mathrm{eff} - s` samples when that is
    positive; one task per output chunk adds the pieces that fall into it (overlap-add) and
    crops them to the padding. Each output chunk therefore depends only on the input chunks that
    reach it: its own, and the chunks before it whose stamps reach into it (more than one when
    chunks are narrower than :math:`K_\mathrm{eff} - s`). No product is computed twice.

    float16 is computed, and the pieces added, in float32, rounded once at the end. Each output
    is a sum of the same products as in the in-memory call, bracketed differently where chunk
    boundaries split it, so it obeys the same error bound; it is equal to the bit when the
    arithmetic is exact (integer data, say) or each output is a single product (``s >= Keff``
    with one input channel per group).

    References
    ----------
    .. [1] A. V. Oppenheim and R. W. Schafer, "Discrete-Time Signal Processing", 3rd ed.,
       Prentice Hall, 2010: block convolution by overlap-add.
    .. [2] V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
       arXiv:1603.07285, 2016.

    Examples
    --------
    A signal of 7 samples in chunks of 3, 1 and 3, upsampled by 2 with SAME padding:

    >>> import numpy as np
    >>> import dask.array as da
    >>> import conv1dt
    >>> import conv1dt.dask
    >>> x = da.from_array(np.arange(1.0, 8.0).reshape(1, 7, 1), chunks=(1, (3, 1, 3), 1))
    >>> f = np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)
    >>> y = conv1dt.dask.conv1d_transpose(x, f, [1, 14, 1], 2)
    >>> y.chunks
    ((1,), (6, 2, 6), (1,))
    >>> y.compute()[0, :, 0]
    array([  1.,  10., 102.,  20., 203.,  30., 304.,  40., 405.,  50., 506.,  60., 607.,  70.])
    >>> np.array_equal(y.compute(), conv1dt.conv1d_transpose(x.compute(), f, [1, 14, 1], 2))
    True
    """
    data_format = parse_data_format(data_format)
    padding = parse_padding(padding, data_format)
    stride = window_param(strides, "strides", data_format)
    dilation = window_param(dilations, "dilations", data_format)
    groups = parse_groups(groups)
    if not isinstance(input, da.Array) and not hasattr(input, "dtype"):
        # a plain list takes the filters' dtype, as in the in-memory function
        input = as_operands(input, filters)[0]
    _refuse_masked(input, "input")
    x = input if isinstance(input, da.Array) else da.asarray(input)
    _refuse_masked(x._meta, "input")
    if x.ndim != 3:
        raise ValueError(f"input must be 3-D, got shape {x.shape}")
    f = as_operand(filters, x.dtype, names=("input", "filters"), index=1)
    dtype = f.dtype.newbyteorder("=")
    if any(np.isnan(c) for axis in x.chunks for c in axis):
        raise ValueError(f"input must have known chunk sizes, got chunks {x.chunks} (call "
                         "input.compute_chunk_sizes() first)")
    g = transpose_geometry(x.shape, f.shape, as_shape(output_shape), stride, dilation, padding,
                           data_format, groups)
    w_ax, c_ax = _axes(data_format)
    x = x.rechunk({c_ax: -1})
    acc = accumulation_dtype(dtype)
    f = np.ascontiguousarray(f, dtype=acc)

    # The full result of each chunk on its own (its width chunks are those results' widths).
    widths = x.chunks[w_ax]
    full_chunks = list(x.chunks)
    full_chunks[w_ax] = tuple(full_width(b, g.taps, stride, dilation) for b in widths)
    full_chunks[c_ax] = (g.wide_channels,)
    full = da.map_blocks(_full_block, x, f, stride, dilation, data_format, groups,
                         chunks=tuple(full_chunks), dtype=acc, meta=np.empty((0, 0, 0), acc))

    # Overlap-add: output chunk j takes the pieces of the full results that fall into it.
    keff = effective_filter_width(g.taps, dilation)
    # in Python's integers: with a huge stride or padding these pass 2**63
    edges = [a * stride for a in itertools.accumulate((0,) + widths)]
    starts = edges[:-1]                 # where each chunk's full result begins in the whole one,
    ends = [e - stride + keff for e in edges[1:]]   # and where it ends (non-decreasing, so
                                        # bisect finds the first chunk that reaches a sample)
    out_widths = output_chunks(widths, stride, g.pad_before, g.wide)
    out_starts = [a + g.pad_before for a in itertools.accumulate((0,) + out_widths)][:-1]
    name = "conv1d_transpose-overlap-add-" + tokenize(full.name, g, data_format, dtype)
    layer = {}
    for nb, n in enumerate(x.chunks[0]):
        for j, (start, width) in enumerate(zip(out_starts, out_widths)):
            first = bisect.bisect_right(ends, start)
            reach = [jj for jj in range(first, j + 1)
                     if width and widths[jj] and starts[jj] < start + width]
            layer[_key(name, nb, j, data_format)] = (
                add_parts, signal_shape(n, width, g.wide_channels, data_format), data_format,
                dtype, int(start), [int(starts[jj]) for jj in reach],
                *[_key(full.name, nb, jj, data_format) for jj in reach])
    out_chunks = [x.chunks[0], None, None]
    out_chunks[w_ax], out_chunks[c_ax] = out_widths, (g.wide_channels,)
    graph = HighLevelGraph.from_collections(name, layer, dependencies=[full])
    return da.Array(graph, name, tuple(out_chunks), meta=np.empty((0, 0, 0), dtype))
