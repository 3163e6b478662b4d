"""The one geometry object every op, kernel and the reference share, and the padding arithmetic
it is built from (pure Python).

All three ops share one forward convolution: a *wide* signal of width ``L`` is correlated with a
filter of ``K`` taps at stride ``s`` and dilation ``d`` to give a *narrow* signal of width ``M``.
Narrow sample ``i`` reads wide samples ``o = i*s + k*d - pad_before`` for ``k = 0 .. K-1``
(reads outside ``0 <= o < L`` see zeros). conv1d maps L -> M; conv1d_transpose maps M -> L.

The effective filter width is ``Keff = (K - 1)*d + 1``.

``padding`` is ``'SAME'``, ``'VALID'`` or an explicit pair ``(lo, hi)`` of non-negative ints: ``lo``
zeros before the wide signal and ``hi`` after it, as TensorFlow's ``[[0, 0], [lo, hi], [0, 0]]``.
VALID is the explicit pair ``(0, 0)``; the formulas below are written for the pair.
"""
from typing import NamedTuple

__all__ = [
    "Geometry",
    "transpose_geometry",
    "conv1d_geometry",
    "backprop_filter_geometry",
    # the padding arithmetic
    "effective_filter_width",
    "forward_width",
    "transposed_width_range",
    "same_pad_before",
    "pad_before",
    "explicit_pads",
    "describe_padding",
]


# --- padding arithmetic: output widths and the zeros before the wide signal ---------------------

def effective_filter_width(taps, dilation):
    """Span of a dilated filter: ``Keff = (K - 1) * d + 1``."""
    return (taps - 1) * dilation + 1


def explicit_pads(padding):
    """``(lo, hi)`` for explicit padding, ``(0, 0)`` for VALID (SAME has no fixed pair)."""
    return (0, 0) if padding == "VALID" else tuple(padding)


def describe_padding(padding):
    """``'SAME padding'``, ``'VALID padding'`` or ``'explicit padding (lo, hi)'``, for messages."""
    if isinstance(padding, str):
        return f"{padding} padding"
    return f"explicit padding {tuple(padding)}"


def forward_width(wide, taps, stride, dilation, padding):
    """Width ``M`` of conv1d's output for an input of width ``L``.

    ``SAME``: ``M = ceil(L / s)``.
    ``(lo, hi)``: ``M = floor((L + lo + hi - Keff) / s) + 1``, the windows that fit the padded
    signal; for ``VALID`` (``(0, 0)``) this is ``ceil((L - Keff + 1) / s)``. It is ``0`` when no
    window fits (TensorFlow refuses a negative width; callers check that case themselves).

    Examples
    --------
    >>> forward_width(10, 3, 2, 1, "SAME"), forward_width(10, 3, 2, 1, "VALID")
    (5, 4)
    >>> forward_width(10, 3, 2, 1, (1, 2))
    6
    """
    if padding == "SAME":
        return -(-wide // stride)
    lo, hi = explicit_pads(padding)
    keff = effective_filter_width(taps, dilation)
    return max((wide + lo + hi - keff) // stride + 1, 0)


def transposed_width_range(narrow, taps, stride, dilation, padding):
    """Inclusive range ``(lo, hi)`` of widths ``L`` whose conv1d has width ``M = narrow``.

    conv1d forgets up to ``s - 1`` samples, so ``s`` widths map to one narrow width and
    conv1d_transpose must be told which one (its ``output_shape``):

    ``SAME``:  ``(M - 1)*s + 1 <= L <= M*s``
    ``VALID``: ``(M - 1)*s + Keff <= L <= M*s + Keff - 1``
    ``(lo, hi)``: ``(M - 1)*s + Keff - lo - hi <= L <= M*s + Keff - 1 - lo - hi``

    The narrowest explicit width is the full transposed result, ``(M - 1)*s + Keff`` samples,
    cropped by ``lo`` at the start and ``hi`` at the end. The lower end is clipped at 0 (a width
    is never negative); when the upper end is below it, no width is accepted.

    Examples
    --------
    >>> transposed_width_range(5, 3, 2, 1, "SAME")
    (9, 10)
    >>> transposed_width_range(5, 3, 2, 1, "VALID")
    (11, 12)
    >>> transposed_width_range(5, 3, 2, 1, (1, 2))
    (8, 9)
    """
    if padding == "SAME":
        lo, hi = (narrow - 1) * stride + 1, narrow * stride
    else:
        keff = effective_filter_width(taps, dilation)
        cut = sum(explicit_pads(padding))
        lo, hi = (narrow - 1) * stride + keff - cut, narrow * stride + keff - 1 - cut
    return max(lo, 0), hi


def same_pad_before(wide, narrow, taps, stride, dilation):
    """Leading zeros of SAME padding: ``max((M - 1)*s + Keff - L, 0) // 2``.

    The total padding ``(M - 1)*s + Keff - L`` is what the last window needs beyond the signal;
    SAME puts the smaller half before and the larger half after, as TensorFlow does.

    Examples
    --------
    >>> same_pad_before(10, 5, 4, 2, 1)
    1
    """
    total = (narrow - 1) * stride + effective_filter_width(taps, dilation) - wide
    return max(total, 0) // 2


def links_on_signal(wide, narrow, taps, stride, dilation, pad):
    """The pairs ``(i, k)`` of one batch element whose wide sample ``o = i*s + k*d - pad`` lies
    inside the wide signal (``pad``: the zeros before it): ``M*K`` less the taps that fall on
    padding. For each tap ``k``, ``i`` runs from ``ceil((pad - k*d) / s)`` to ``floor((pad -
    k*d + L - 1) / s)``, within ``0 .. M-1``.

    Examples
    --------
    >>> links_on_signal(6, 3, 2, 2, 1, 0)
    6
    >>> links_on_signal(5, 5, 3, 1, 1, 1)        # SAME: the first and last windows lose a tap
    13
    """
    total = 0
    for k in range(taps):
        lo = max(-((k * dilation - pad) // stride), 0)
        hi = min((pad - k * dilation + wide - 1) // stride, narrow - 1)
        total += max(hi - lo + 1, 0)
    return total


def pad_before(wide, narrow, taps, stride, dilation, padding):
    """Leading zeros for ``padding``: :func:`same_pad_before` for SAME, ``0`` for VALID, ``lo``
    for an explicit ``(lo, hi)``."""
    if padding == "SAME":
        return same_pad_before(wide, narrow, taps, stride, dilation)
    return explicit_pads(padding)[0]


# --- the geometry -------------------------------------------------------------------------------

class Geometry(NamedTuple):
    """One forward convolution, seen from any side of the family.

    Narrow sample ``i`` and wide sample ``o`` are linked through tap ``k`` when
    ``o = i*stride + k*dilation - pad_before``. conv1d maps wide -> narrow (a gather over
    ``k``), conv1d_transpose maps narrow -> wide, conv1d_backprop_filter maps (wide, narrow) ->
    filters. Internal layout is NWC; filters are ``[taps, wide_channels/groups, narrow_channels]``
    (conv1d_transpose's ``[K, Cout/groups, Cin]``, conv1d's ``[K, Cin/groups, Cout]``).

    With ``groups = G`` the channels of both signals are split into ``G`` equal consecutive
    parts, and part ``j`` of the narrow signal is linked only to part ``j`` of the wide one,
    through the filter columns ``[:, :, j*Cn/G : (j+1)*Cn/G]``.
    """

    batch: int            # N
    wide: int             # L: conv1d input width, conv1d_transpose output width
    narrow: int           # M: conv1d output width, conv1d_transpose input width
    wide_channels: int    # conv1d_transpose's Cout
    narrow_channels: int  # conv1d_transpose's Cin
    taps: int             # K
    stride: int           # s
    dilation: int         # d
    pad_before: int
    groups: int = 1       # G: both channel counts are multiples of it


def _axes(data_format):
    """(width axis, channel axis) of a signal in ``data_format``."""
    return (1, 2) if data_format == "NWC" else (2, 1)


def _accepted(lo, hi):
    """'widths 3..5', 'width 3' or 'no width', for messages."""
    return f"widths {lo}..{hi}" if lo < hi else (f"width {lo}" if lo == hi else "no width")


def _check_divides(groups, count, what):
    if count % groups:
        raise ValueError(f"{what} is {count}, which groups={groups} does not divide")


def transpose_geometry(x_shape, f_shape, out_shape, stride, dilation, padding, data_format, groups=1):
    """Check conv1d_transpose's shapes against each other and return its :class:`Geometry`.

    ``x_shape`` and ``out_shape`` are given in ``data_format``; ``f_shape`` is
    ``[K, Cout/groups, Cin]``. Messages index the arguments as the user wrote them.
    """
    w_ax, c_ax = _axes(data_format)
    n, m, cin = x_shape[0], x_shape[w_ax], x_shape[c_ax]
    k, cout_g, f_cin = f_shape
    on, wide, ocout = out_shape[0], out_shape[w_ax], out_shape[c_ax]
    if k < 1:
        raise ValueError(f"filters must have at least one tap, got filters.shape={tuple(f_shape)}")
    if f_cin != cin:
        raise ValueError(
            f"filters.shape[2] (in_channels) is {f_cin}, but input has {cin} channels "
            f"(input.shape[{c_ax}] for data_format={data_format!r})"
        )
    _check_divides(groups, cin, f"input.shape[{c_ax}] (in_channels)")
    if on != n:
        raise ValueError(f"output_shape[0] is {on}, but input has batch size {n}")
    if groups == 1 and ocout != cout_g:
        raise ValueError(
            f"output_shape[{c_ax}] is {ocout}, but filters.shape[1] (output channels) is {cout_g}"
        )
    if ocout != cout_g * groups:
        raise ValueError(
            f"output_shape[{c_ax}] is {ocout}, but filters.shape[1] (output channels per group) "
            f"is {cout_g}, which with groups={groups} gives {cout_g * groups}"
        )
    lo, hi = transposed_width_range(m, k, stride, dilation, padding)
    if not lo <= wide <= hi:
        raise ValueError(
            f"output_shape[{w_ax}] is {wide}, but an input of width {m} with stride {stride}, "
            f"dilation {dilation}, {k} taps and {describe_padding(padding)} gives {_accepted(lo, hi)}"
        )
    pad = pad_before(wide, m, k, stride, dilation, padding)
    return Geometry(n, wide, m, ocout, cin, k, stride, dilation, pad, groups)


def conv1d_geometry(x_shape, f_shape, stride, dilation, padding, data_format, groups=1,
                    f_name="filters"):
    """Check conv1d's shapes and return its :class:`Geometry`.

    ``x_shape`` (the wide signal) is given in ``data_format``; ``f_shape`` is
    ``[K, Cin/groups, Cout]``. ``f_name`` is how messages name the filter's shape:
    ``"filters"`` (conv1d) or ``"filter_shape"`` (conv1d_backprop_filter).

    The output width is ``forward_width`` (above). An input narrower than
    conv1d's smallest width, ``transposed_width_range(0, ...)[0]`` (``Keff - s - lo - hi`` for
    explicit padding), has a negative output width and is refused, as TensorFlow does.
    """
    w_ax, c_ax = _axes(data_format)
    fs = "filter_shape" if f_name == "filter_shape" else "filters.shape"
    n, wide, cin = x_shape[0], x_shape[w_ax], x_shape[c_ax]
    k, cin_g, cout = f_shape
    if k < 1:
        raise ValueError(f"{f_name} must have at least one tap, got {fs}={tuple(f_shape)}")
    _check_divides(groups, cin, f"input.shape[{c_ax}] (in_channels)")
    if cin_g * groups != cin:
        per, split = ("in_channels", "") if groups == 1 else (
            "in_channels per group", f", {cin // groups} in each of groups={groups}")
        raise ValueError(
            f"{fs}[1] ({per}) is {cin_g}, but input has {cin} channels{split} "
            f"(input.shape[{c_ax}] for data_format={data_format!r})"
        )
    _check_divides(groups, cout, f"{fs}[2] (out_channels)")
    smallest = transposed_width_range(0, k, stride, dilation, padding)[0]
    if wide < smallest:
        raise ValueError(
            f"input.shape[{w_ax}] is {wide}, but {k} taps with dilation {dilation}, stride "
            f"{stride} and {describe_padding(padding)} need an input width of at least {smallest}"
        )
    m = forward_width(wide, k, stride, dilation, padding)
    pad = pad_before(wide, m, k, stride, dilation, padding)
    return Geometry(n, wide, m, cin, cout, k, stride, dilation, pad, groups)


def backprop_filter_geometry(x_shape, filter_shape, dy_shape, stride, dilation, padding,
                             data_format, groups=1):
    """Check conv1d_backprop_filter's shapes and return its :class:`Geometry`.

    ``x_shape`` (conv1d's input, the wide signal) and ``dy_shape`` (``out_backprop``, the
    gradient of conv1d's output, the narrow signal) are given in ``data_format``;
    ``filter_shape`` is ``[K, Cin/groups, Cout]``. ``dy_shape`` must be the shape of
    ``conv1d(input, filters)``.
    """
    g = conv1d_geometry(x_shape, filter_shape, stride, dilation, padding, data_format, groups,
                        f_name="filter_shape")
    w_ax, c_ax = _axes(data_format)
    dn, dm, dc = dy_shape[0], dy_shape[w_ax], dy_shape[c_ax]
    if dn != g.batch:
        raise ValueError(f"out_backprop.shape[0] is {dn}, but input has batch size {g.batch}")
    if dc != g.narrow_channels:
        raise ValueError(
            f"out_backprop.shape[{c_ax}] is {dc}, but filter_shape[2] (out_channels) is "
            f"{g.narrow_channels}"
        )
    if dm != g.narrow:
        raise ValueError(
            f"out_backprop.shape[{w_ax}] is {dm}, but an input of width {g.wide} with stride "
            f"{stride}, dilation {dilation}, {g.taps} taps and {describe_padding(padding)} gives "
            f"width {g.narrow}"
        )
    return g
