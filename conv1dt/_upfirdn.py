r"""``upfirdn``: SciPy's upsample, FIR filter, downsample, on the family's kernels.

Upsampling ``x`` by ``up`` (``up - 1`` zeros after each sample) and filtering with ``h`` is the
full VALID transposed convolution of stride ``up``: ``y[o] = sum h[k] x[i]`` over
``o = i*up + k``. Keeping one output in ``down`` is again one transposed convolution, of the
signal read as ``down / gcd(up, down)`` interleaved channels (its input phases), so only the
kept outputs are computed (:func:`_input_phases`).
"""
import math

import numpy as np

from ._ops import conv1d_transpose

__all__ = ["upfirdn"]

_DTYPES = tuple(np.dtype(t) for t in (np.float32, np.float64, np.complex64, np.complex128))
# Extension modes that are numpy.pad's own; SciPy's upfirdn extends the signal exactly as
# numpy.pad does in these (SciPy's test_modes checks it against numpy.pad).
_PAD_MODES = ("constant", "wrap", "edge", "symmetric", "reflect")
_SCIPY_ONLY_MODES = ("smooth", "antisymmetric", "antireflect", "line")


def upfirdn_length(taps, width, up, down):
    r"""The number of outputs of ``upfirdn`` for ``taps`` filter taps and an input of ``width``.

    The upsampled, filtered signal has ``(width - 1)*up + taps`` samples (the full convolution
    of ``(width - 1)*up + 1`` upsampled samples with ``taps``); keeping samples ``0, down,
    2*down, ...`` leaves

    .. math::

        \left\lfloor \frac{(\mathit{width} - 1)\,\mathit{up} + \mathit{taps} - 1}{\mathit{down}}
        \right\rfloor + 1,

    as ``scipy.signal.upfirdn`` computes it (for ``width = 0`` too).
    """
    return ((width - 1) * up + taps - 1) // down + 1


def _filters(h, channels):
    """``h`` as depthwise filters ``[K, 1, channels]`` (one copy of ``h`` per channel)."""
    return np.ascontiguousarray(np.broadcast_to(h[:, None, None], (h.size, 1, channels)))


def _upsampled(x3, h, up, offset, count):
    """Outputs ``offset .. offset + count`` of the full transposed convolution of stride ``up``
    of each channel of ``x3`` ``[N, W, C]`` with ``h`` (depthwise): explicit padding crops
    ``offset`` samples at the start and the rest at the end."""
    n, w, c = x3.shape
    full = (w - 1) * up + h.size
    padding = ("VALID" if offset == 0 and count == full
               else [[0, 0], [offset, full - offset - count], [0, 0]])
    return conv1d_transpose(x3, _filters(h, c), [n, count, c], up, padding, groups=c)


def _input_phase_filters(h, u, v):
    r"""The filters ``[K'', 1, v]`` of :func:`_input_phases`: input phase ``p`` of ``x`` meets
    the taps ``h[k_p + n v]`` at the output lags ``e_p + n``, with ``k_p = -p u mod v`` and
    ``e_p = (p u + k_p) / v``."""
    cols = []
    for p in range(v):
        kp = (-p * u) % v
        cols.append(((p * u + kp) // v, h[kp::v]))
    f = np.zeros((max(1, max(e + t.size for e, t in cols)), 1, v), dtype=h.dtype)
    for p, (e, taps) in enumerate(cols):
        f[e:e + taps.size, 0, p] = taps
    return f


def _input_phases(x3, h, up, down, offset, count):
    r"""Outputs ``offset + j*down`` (``j < count``) of one-channel signals ``x3`` ``[N, W, 1]``
    by one transposed convolution of stride ``u`` over the ``v`` input phases as channels.

    With ``g = gcd(up, down)``, ``u = up/g`` and ``v = down/g``, only the taps ``h[::g]`` reach a
    kept output (``j down - i up`` is a multiple of ``g``); writing ``i = l v + p``, output ``j``
    of the coprime problem ``j v = i u + k`` is

    .. math::

        y[j] = \sum_{p, l, n \,:\, j = l u + e_p + n} h[k_p + n v]\, x[l v + p],

    a transposed convolution of stride ``u`` of the signal read as ``v`` channels (a reshape,
    after one copy that pads it to whole blocks of ``v`` where it needs padding) with the
    filters of :func:`_input_phase_filters`. Each output costs ``K'' v / u``
    products, ``K / up`` of them useful: the lags ``e_p`` (below ``u + 1``) are zeros. ``z``
    leading zeros make the first kept output a whole number of ``down`` steps from the start.
    """
    g = math.gcd(up, down)
    u, v = up // g, down // g
    f = _input_phase_filters(h[::g], u, v)
    z = (-(offset // g) * pow(u, -1, v)) % v if v > 1 else 0
    s0 = (offset + z * up) // down
    n, w, _ = x3.shape
    k2 = f.shape[0]
    nv = max(-(-(w + z) // v), -(-(s0 + count - k2) // u) + 1, 1)
    if z == 0 and nv * v == w:
        xp = x3                                   # whole blocks already: no copy
    else:
        xp = np.zeros((n, nv * v), dtype=x3.dtype)
        xp[:, z:z + w] = x3[:, :, 0]
    full = (nv - 1) * u + k2
    padding = [[0, 0], [s0, full - s0 - count], [0, 0]]
    return conv1d_transpose(xp.reshape(n, nv, v), f, [n, count, 1], u, padding)


def _kept(x3, h, up, down, offset, count):
    """Outputs ``offset + j*down`` for ``j < count`` of the upsampled, filtered ``x3``
    ``[N, W, C]``, each channel on its own."""
    if down == 1:
        return _upsampled(x3, h, up, offset, count)
    n, w, ch = x3.shape
    if ch == 1:
        return _input_phases(x3, h, up, down, offset, count)
    # the input phases become the channels: one signal per batch row
    xt = np.ascontiguousarray(x3.transpose(0, 2, 1)).reshape(n * ch, w, 1)
    y = _input_phases(xt, h, up, down, offset, count)
    return np.ascontiguousarray(y.reshape(n, ch, count).transpose(0, 2, 1))


def _normalize_axis(axis, ndim):
    try:
        axis = int(axis)
    except TypeError:
        raise TypeError(f"axis must be an integer, got {axis!r}") from None
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


def upfirdn(h, x, up=1, down=1, axis=-1, mode="constant", cval=0):
    r"""Upsample, FIR filter and downsample: ``scipy.signal.upfirdn`` on conv1dt's kernels.

    The same arguments, output shapes, dtypes and values as ``scipy.signal.upfirdn``: ``x`` is
    upsampled by ``up`` (``up - 1`` zeros inserted after each sample), filtered with ``h`` (a
    full convolution) and downsampled by ``down`` (every ``down``-th sample kept, the first
    one included), along ``axis``.

    Parameters
    ----------
    h : array_like
        1-D FIR filter coefficients (at least one).
    x : array_like
        Input signal array, of any number of dimensions.
    up : int, optional
        Upsampling rate (default 1).
    down : int, optional
        Downsampling rate (default 1).
    axis : int, optional
        The axis of ``x`` along which the filter runs (default -1); every other axis holds
        independent signals.
    mode : str, optional
        The signal extension beyond both ends of ``x``: ``"constant"`` (default; the value
        ``cval``), or ``numpy.pad``'s ``"wrap"``, ``"edge"``, ``"symmetric"`` or ``"reflect"``,
        as SciPy extends them. SciPy's ``"smooth"``, ``"antisymmetric"``, ``"antireflect"`` and
        ``"line"`` are refused.
    cval : float, optional
        The value beyond the ends of ``x`` with ``mode="constant"`` (default 0).

    Returns
    -------
    ndarray
        ``x``'s shape, except along ``axis``, which has :math:`\lfloor ((W - 1)\,up + K - 1) /
        down \rfloor + 1` samples for an input of ``W`` samples and ``K`` taps. Its dtype is
        ``numpy.result_type(h.dtype, x.dtype, numpy.float32)``, as in SciPy: float32 stays
        float32, integers become float64, complex stays complex.

    Raises
    ------
    ValueError
        If ``h`` is not 1-D with at least one element, ``up`` or ``down`` is below 1, or
        ``mode`` is not one of the supported modes.
    numpy.exceptions.AxisError
        If ``axis`` is out of range for ``x`` (an ``IndexError``, as in SciPy).
    TypeError
        If the result's dtype is not float32, float64, complex64 or complex128 (long double).

    See Also
    --------
    conv1dt.conv1d_transpose : the transposed convolution that ``down = 1`` is.

    Notes
    -----
    With :math:`x_\uparrow` the upsampled signal (:math:`x_\uparrow[i\,up] = x[i]`, zero
    elsewhere),

    .. math::

        y[j] = \sum_k h[k]\, x_\uparrow[j\,down - k]
             = \sum_{i, k \,:\, j\,down = i\,up + k} h[k]\, x[i].

    With ``down = 1`` this is ``conv1d_transpose`` with stride ``up``, ``VALID`` padding and the
    full output width: one call. With ``down > 1`` only the kept outputs are computed, by one
    call too: with :math:`g = \gcd(up, down)`, :math:`u = up/g` and :math:`v = down/g`, only the
    taps :math:`h[0], h[g], h[2g], \dots` reach a kept output, and splitting ``x`` into its
    :math:`v` phases, :math:`x[l v + p]`,

    .. math::

        y[j] = \sum_{p, l, n \,:\, j = l u + e_p + n} h[g (k_p + n v)]\, x[l v + p],
        \qquad k_p = (-p u) \bmod v,\quad e_p = (p u + k_p) / v,

    a transposed convolution of stride :math:`u` of ``x`` read as :math:`v` channels (a
    reshape, once padded to whole blocks of :math:`v`) whose output ``j`` is the kept output
    ``j``. Each output costs about :math:`K/up + v` products (the lags :math:`e_p` are zero
    taps), against SciPy's :math:`K/up`: the kernels' speed pays for the difference unless
    :math:`v` is large beside :math:`K/up` (ratios such as 160/147; see the docs' "Doors in"
    page for timings). Other
    extension modes extend ``x`` by :math:`\lfloor (K-1)/up \rfloor` samples at each end
    (``numpy.pad``) and crop the result.

    With ``down = 1``, signals along the other axes are computed together, as the batch (axes
    before ``axis``) and the channels (axes after it) of one call with depthwise filters, so no
    transposing copy is made; a real ``h`` filters complex ``x`` as two real channels (its real
    and imaginary parts) of one real call. With ``down > 1`` each signal is made contiguous
    first.

    References
    ----------
    .. [1] P. P. Vaidyanathan, "Multirate Systems and Filter Banks", Prentice Hall, 1993.

    Examples
    --------
    Upsampling with zeros, sample-and-hold, linear interpolation and a rate of 2/3, as in
    SciPy's examples:

    >>> import numpy as np
    >>> import conv1dt
    >>> conv1dt.upfirdn([1], [1, 2, 3], 3)
    array([1., 0., 0., 2., 0., 0., 3.])
    >>> conv1dt.upfirdn([1, 1, 1], [1, 2, 3], 3)
    array([1., 1., 1., 2., 2., 2., 3., 3., 3.])
    >>> conv1dt.upfirdn([.5, 1, .5], [1, 1, 1], 2)
    array([0.5, 1. , 1. , 1. , 1. , 1. , 0.5])
    >>> conv1dt.upfirdn([.5, 1, .5], np.arange(10), 2, 3)
    array([0. , 1. , 2.5, 4. , 5.5, 7. , 8.5])

    Along any axis, keeping float32:

    >>> x = np.arange(8, dtype=np.float32).reshape(4, 2)
    >>> conv1dt.upfirdn(np.ones(2, np.float32), x, 2, axis=0)
    array([[0., 1.],
           [0., 1.],
           [2., 3.],
           [2., 3.],
           [4., 5.],
           [4., 5.],
           [6., 7.],
           [6., 7.]], dtype=float32)

    The same as SciPy's:

    >>> from scipy import signal
    >>> h, x = np.hanning(9), np.random.default_rng(0).standard_normal((3, 50))
    >>> bool(np.allclose(conv1dt.upfirdn(h, x, 3, 2), signal.upfirdn(h, x, 3, 2)))
    True
    """
    x = np.asarray(x)
    h = np.asarray(h)
    if h.ndim != 1 or h.size == 0:
        raise ValueError("h must be 1-D with non-zero length")
    up, down = int(up), int(down)
    if up < 1 or down < 1:
        raise ValueError(f"Both up and down must be >= 1, got up={up} and down={down}")
    if not isinstance(mode, str) or mode.lower() not in _PAD_MODES:
        extra = (" (SciPy's own; use scipy.signal.upfirdn for it)"
                 if isinstance(mode, str) and mode.lower() in _SCIPY_ONLY_MODES else "")
        raise ValueError(f"mode must be one of {', '.join(map(repr, _PAD_MODES))}, got "
                         f"{mode!r}{extra}")
    mode = mode.lower()
    dtype = np.result_type(h.dtype, x.dtype, np.float32)
    if dtype not in _DTYPES:
        raise TypeError(f"upfirdn computes float32, float64, complex64 and complex128, but h "
                        f"({h.dtype}) and x ({x.dtype}) give {dtype}")
    axis = _normalize_axis(axis, x.ndim)
    width = x.shape[axis]
    count = upfirdn_length(h.size, width, up, down)
    pre, post = math.prod(x.shape[:axis]), math.prod(x.shape[axis + 1:])
    out_shape = x.shape[:axis] + (count,) + x.shape[axis + 1:]
    if count <= 0 or pre == 0 or post == 0:
        return np.zeros(out_shape, dtype=dtype)   # numpy refuses a negative count, as SciPy
    x3 = np.ascontiguousarray(x, dtype=dtype).reshape(pre, width, post)
    offset = 0
    if not (mode == "constant" and cval == 0):
        ext = (h.size - 1) // up     # the samples beyond each end that reach an output
        kw = dict(constant_values=cval) if mode == "constant" else {}
        x3 = np.pad(x3, [(0, 0), (ext, ext), (0, 0)], mode=mode, **kw).astype(dtype, copy=False)
        offset = ext * up
    if dtype.kind == "c" and h.dtype.kind != "c":
        # a real filter: the real and imaginary parts as two real channels of one call
        real = np.finfo(dtype).dtype
        y = _kept(x3.view(real), h.astype(real), up, down, offset, count)
        y = np.ascontiguousarray(y).view(dtype)
    else:
        y = _kept(x3, h.astype(dtype), up, down, offset, count)
    return y.reshape(out_shape)
