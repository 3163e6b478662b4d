"""Output-size arithmetic for the 1-D convolution family (pure Python).

All three ops share one forward convolution: a *wide* signal of width ``L`` is correlated with a
filter of ``K`` taps at stride ``s`` and dilation ``d`` to give a *narrow* signal of width ``M``.
Narrow sample ``i`` reads wide samples ``o = i*s + k*d - pad_before`` for ``k = 0 .. K-1``
(reads outside ``0 <= o < L`` see zeros). conv1d maps L -> M; conv1d_transpose maps M -> L.

The effective filter width is ``Keff = (K - 1)*d + 1``.

``padding`` is ``'SAME'``, ``'VALID'`` or an explicit pair ``(lo, hi)`` of non-negative ints: ``lo``
zeros before the wide signal and ``hi`` after it, as TensorFlow's ``[[0, 0], [lo, hi], [0, 0]]``.
VALID is the explicit pair ``(0, 0)``; the formulas below are written for the pair.
"""

__all__ = [
    "effective_filter_width",
    "forward_width",
    "transposed_width_range",
    "same_pad_before",
    "pad_before",
    "explicit_pads",
    "describe_padding",
]

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


def pad_before(wide, narrow, taps, stride, dilation, padding):
    """Leading zeros for ``padding``: :func:`same_pad_before` for SAME, ``0`` for VALID, ``lo``
    for an explicit ``(lo, hi)``."""
    if padding == "SAME":
        return same_pad_before(wide, narrow, taps, stride, dilation)
    return explicit_pads(padding)[0]
