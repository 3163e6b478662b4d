r"""The transposed convolution of a signal that arrives block by block.

Input sample ``i`` stamps the filter onto outputs ``o = i*s + k*d`` (``k = 0 .. K-1``), so the
full result of a block of ``b`` samples, ``conv1d_transpose(block, ..., 'VALID')`` at its
narrowest width ``(b - 1)*s + Keff``, is the block's contribution to the signal's full result,
shifted by ``s`` times the block's first index. Adding those contributions where they overlap
(overlap-add) gives the full result of the whole signal. :class:`Conv1DTransposeStream` does
that in time, one block after another; :func:`conv1dt.dask.conv1d_transpose` does it in space,
across the chunks of a Dask array. Both take the pieces from ``conv1dt/_overlap_add.py``.
"""
import numpy as np

from ._args import _as_operand, as_operand, parse_data_format, parse_groups, window_param
from ._bounds import check_size
from ._geometry import _axes, effective_filter_width
from ._overlap_add import accumulation_dtype, full_result, signal_shape, width_index

__all__ = ["Conv1DTransposeStream"]


class Conv1DTransposeStream:
    r"""The transposed convolution of a signal given block by block.

    Each :meth:`push` takes the next samples of the input and returns the output samples that
    no later input can change; :meth:`flush` returns the rest. Concatenated along the width,
    everything returned equals the full (VALID) result of the whole signal at once,
    ``conv1d_transpose(x, filters, [N, (M-1)*s + Keff, Cout], s, 'VALID', dilations=d)`` for
    ``M`` input samples in all (``[N, Cout, (M-1)*s + Keff]`` for NCW).

    Parameters
    ----------
    filters : array_like
        ``[filter_width, out_channels / groups, in_channels]``, as :func:`conv1d_transpose`
        takes them; float16, float32, float64, complex64 or complex128. The blocks must have
        this dtype. The stream keeps its own copy.
    strides : int or sequence of ints
        The stride ``s``: an int, ``[s]``, or ``[1, s, 1]`` (``NWC``) / ``[1, 1, s]``
        (``NCW``).
    dilations : int or sequence of ints, optional
        The dilation ``d``, in the same forms as ``strides``; default 1.
    data_format : {'NWC', 'NCW'}, optional
        Layout of the blocks and of the results. ``None`` means ``'NWC'``.
    groups : int, optional
        Number of channel groups, as in :func:`conv1d_transpose` (default 1).

    Raises
    ------
    ValueError
        If ``filters`` is not 3-D or has no tap; ``groups`` does not divide its in_channels;
        ``data_format`` is not one of the accepted forms; or ``strides``, ``dilations`` or
        ``groups`` is not a positive int in an accepted form.
    TypeError
        If ``filters`` is not float16, float32, float64, complex64 or complex128.

    See Also
    --------
    conv1d_transpose : the whole signal at once.
    conv1dt.dask.conv1d_transpose : the same overlap-add across the chunks of a Dask array.

    Notes
    -----
    Input sample :math:`i` reaches outputs :math:`o = i s + k d`, :math:`0 \le k < K`. After
    :math:`M` input samples, outputs :math:`o < M s` are final: any later input :math:`i \ge M`
    reaches :math:`o \ge M s` only. The stream therefore holds the partial sums of the
    unfinished outputs :math:`M s \le o < (M-1) s + K_\mathrm{eff}`, a tail of
    :math:`T = \max(K_\mathrm{eff} - s, 0)` samples, with :math:`K_\mathrm{eff} = (K-1) d + 1`.
    A push of :math:`b \ge 1` samples computes the full result of the block alone (one call of
    :func:`conv1d_transpose`, :math:`(b-1) s + K_\mathrm{eff}` samples), adds the tail to its
    first :math:`T` samples, returns all but its last :math:`T` samples and keeps those as the
    new tail. So the state is :math:`N \cdot T \cdot C_\mathrm{out}` numbers, and no input is
    multiplied twice. When :math:`s > K_\mathrm{eff}` there is no tail; the
    :math:`s - K_\mathrm{eff}` zeros between the last stamp and the next input's are returned
    with that next input, so that a flush ends the result at its full width.

    After ``M`` samples the pushes have returned ``M*s`` samples when ``Keff >= s`` (one push of
    ``b`` samples returns ``b*s``), and ``(M-1)*s + Keff`` otherwise. :meth:`flush` returns the
    ``T`` samples of the tail and starts the stream afresh, ready for a new signal (of any batch
    size). A stream that was given no samples returns none.

    Partial sums are kept in the accumulation dtype: float32 for float16 blocks, which are
    rounded to float16 once, when they are returned, as :func:`conv1d_transpose` rounds its
    float32 result. Each output is a floating-point sum of the same products as in the one-shot
    call, bracketed differently where a block boundary splits it (the tail's part plus the
    block's part), so it obeys the same error bound and is equal to the bit when the
    arithmetic is exact (integer data, say) or when each output is a single product (``s >=
    Keff`` with one input channel per group).

    A stream is not thread-safe: give each thread its own.

    To get a ``'SAME'`` or explicitly padded result, crop the full one: drop its first
    ``pad_before`` samples and keep ``L``, as :func:`conv1d_transpose` does.

    References
    ----------
    .. [1] A. V. Oppenheim and R. W. Schafer, "Discrete-Time Signal Processing", 3rd ed.,
       Prentice Hall, 2010: block convolution by overlap-add.
    .. [2] V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
       arXiv:1603.07285, 2016.

    Examples
    --------
    A signal in three blocks, of 2, 0 and 1 samples, upsampled by 2 with three taps:

    >>> import numpy as np
    >>> import conv1dt
    >>> f = np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)    # [K, Cout, Cin]
    >>> stream = conv1dt.Conv1DTransposeStream(f, strides=2)
    >>> stream.push(np.array([1.0, 2.0]).reshape(1, 2, 1))[0, :, 0]
    array([  1.,  10., 102.,  20.])
    >>> stream.push(np.zeros((1, 0, 1))).shape
    (1, 0, 1)
    >>> stream.push(np.array([3.0]).reshape(1, 1, 1))[0, :, 0]
    array([203.,  30.])
    >>> stream.flush()[0, :, 0]
    array([300.])

    Together they are the one-shot full result:

    >>> x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    >>> conv1dt.conv1d_transpose(x, f, [1, 7, 1], 2, "VALID")[0, :, 0]
    array([  1.,  10., 102.,  20., 203.,  30., 300.])
    """

    def __init__(self, filters, strides, dilations=None, data_format="NWC", groups=1):
        self._format = parse_data_format(data_format)
        self._w_ax, self._c_ax = _axes(self._format)
        self._stride = window_param(strides, "strides", self._format)
        self._dilation = window_param(dilations, "dilations", self._format)
        self._groups = parse_groups(groups)
        f = _as_operand(filters, "filters")
        if f.ndim != 3:
            raise ValueError(f"filters must be 3-D, got shape {f.shape}")
        if f.shape[0] < 1:
            raise ValueError(f"filters must have at least one tap, got filters.shape={f.shape}")
        if f.shape[2] % self._groups:
            raise ValueError(f"filters.shape[2] (in_channels) is {f.shape[2]}, which "
                             f"groups={self._groups} does not divide")
        self._dtype = f.dtype.newbyteorder("=")
        self._filters = np.array(f, dtype=accumulation_dtype(self._dtype), order="C")
        keff = effective_filter_width(f.shape[0], self._dilation)
        self._keff = keff
        self._tail_width = max(keff - self._stride, 0)
        self._start()

    def _start(self):
        """Forget the signal: no samples seen, no batch size, no tail."""
        self._batch = None
        self._tail = None   # the partial sums of the unfinished outputs, once a sample is seen

    def _signal(self, width, batch=None):
        """An array of zeros ``[batch, width, Cout]`` (or NCW) in the accumulation dtype."""
        n = self._batch if batch is None else batch
        shape = signal_shape(n, width, self._filters.shape[1] * self._groups, self._format)
        return np.zeros(shape, dtype=self._filters.dtype)

    def _returned(self, y):
        """``y`` as the caller gets it: C-contiguous, in the dtype of the filters."""
        return np.ascontiguousarray(y, dtype=self._dtype)

    def _block(self, block):
        """``block`` checked against the filters and the earlier blocks, in the accumulation
        dtype."""
        x = as_operand(block, self._dtype, names=("block", "filters"))
        c_ax, cin = self._c_ax, self._filters.shape[2]
        if x.shape[c_ax] != cin:
            raise ValueError(f"block.shape[{c_ax}] (in_channels) is {x.shape[c_ax]}, but "
                             f"filters.shape[2] (in_channels) is {cin}")
        if self._batch is not None and x.shape[0] != self._batch:
            raise ValueError(f"block.shape[0] is {x.shape[0]}, but the earlier blocks of this "
                             f"signal have batch size {self._batch} (flush() to start a new one)")
        return np.ascontiguousarray(x, dtype=self._filters.dtype)

    def push(self, block):
        """Take the next samples of the signal; return the outputs that are now final.

        Parameters
        ----------
        block : array_like
            ``[batch, b, in_channels]`` (``NWC``) or ``[batch, in_channels, b]`` (``NCW``), any
            ``b >= 0``, of the dtype of the filters (a plain list takes that dtype). The batch
            size is that of the first block of the signal.

        Returns
        -------
        ndarray
            The next output samples, ``b*s`` of them once the stream has seen a sample and
            ``Keff >= s`` (see the Notes of the class for the first block and ``s > Keff``), in
            the layout of the block and the dtype of the filters.

        Raises
        ------
        ValueError
            If ``block`` is not 3-D, its channels differ from the filters' in_channels, or its
            batch size differs from that of the earlier blocks of the signal.
        TypeError
            If ``block``'s dtype is not that of the filters.

        Examples
        --------
        Stride 2 and three taps (``Keff = 3 >= s``): each push of ``b`` samples returns ``b*s``
        outputs, the ones no later sample can reach; together with :meth:`flush` they are the
        one-shot VALID result ``[1, 10, 102, 20, 203, 30, 300]``.

        >>> import numpy as np
        >>> import conv1dt
        >>> stream = conv1dt.Conv1DTransposeStream(np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1), 2)
        >>> stream.push(np.array([1.0, 2.0]).reshape(1, 2, 1))[0, :, 0]
        array([  1.,  10., 102.,  20.])
        >>> stream.push(np.array([3.0]).reshape(1, 1, 1))[0, :, 0]
        array([203.,  30.])
        """
        x = self._block(block)
        width = x.shape[self._w_ax]
        if self._batch is None:
            self._batch = x.shape[0]
        if width == 0:
            return self._returned(self._signal(0))
        s, t, fmt = self._stride, self._tail_width, self._format
        y = full_result(x, self._filters, s, self._dilation, fmt, self._groups)
        if self._tail is None:
            gap = 0
        else:
            gap = s - self._keff if s > self._keff else 0
            y[width_index(fmt, 0, t)] += self._tail
        end = y.shape[self._w_ax] - t   # (b-1)*s + min(s, Keff)
        self._tail = y[width_index(fmt, end, None)].copy()
        out = y[width_index(fmt, 0, end)]
        if gap:
            check_size(signal_shape(self._batch, gap, self._filters.shape[1] * self._groups, fmt),
                       self._dtype, "strides", f"strides={s} (s - Keff zeros between two stamps)")
            out = np.concatenate([self._signal(gap), out], axis=self._w_ax)
        return self._returned(out)

    def flush(self):
        """Return the rest of the output and start afresh.

        Returns
        -------
        ndarray
            The last ``max(Keff - s, 0)`` output samples of the signal, in the layout of its
            blocks and the dtype of the filters; no samples if the stream was given none (batch
            size 0 if it was given no block). The stream then takes a new signal.

        Examples
        --------
        >>> import numpy as np
        >>> import conv1dt
        >>> stream = conv1dt.Conv1DTransposeStream(np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1), 2)
        >>> stream.push(np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1))[0, :, 0]
        array([  1.,  10., 102.,  20., 203.,  30.])
        >>> stream.flush()[0, :, 0]                  # Keff - s = 1 sample still to come
        array([300.])
        """
        out = self._signal(0, self._batch or 0) if self._tail is None else self._tail
        self._start()
        return self._returned(out)
