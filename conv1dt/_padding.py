"""Output-size arithmetic for the 1-D convolution family (pure Python).

All three ops share one forward convolution: a *wide* signal of width ``L`` is correlated with a
filter of ``K`` taps at stride ``s`` and dilation ``d`` to give a *narrow* signal of width ``M``.
Narrow sample ``i`` reads wide samples ``o = i*s + k*d - pad_before`` for ``k = 0 .. K-1``
(reads outside ``0 <= o < L`` see zeros). conv1d maps L -> M; conv1d_transpose maps M -> L.

The effective filter width is ``Keff = (K - 1)*d + 1``.
"""

__all__ = [
    "effective_filter_width",
    "forward_width",
    "transposed_width_range",
    "same_pad_before",
    "pad_before",
    "pad_after",
]

PADDINGS = ("SAME", "VALID")


def effective_filter_width(taps, dilation):
    """Span of a dilated filter: ``Keff = (K - 1) * d + 1``."""
    return (taps - 1) * dilation + 1


def forward_width(wide, taps, stride, dilation, padding):
    """Width ``M`` of conv1d's output for an input of width ``L``.

    ``SAME``: ``M = ceil(L / s)``.
    ``VALID``: ``M = ceil((L - Keff + 1) / s)``, and ``0`` when ``L < Keff``
    (TensorFlow refuses a negative width; callers check that case themselves).

    Examples
    --------
    >>> forward_width(10, 3, 2, 1, "SAME"), forward_width(10, 3, 2, 1, "VALID")
    (5, 4)
    """
    if padding == "SAME":
        return -(-wide // stride)
    keff = effective_filter_width(taps, dilation)
    return max(-(-(wide - keff + 1) // stride), 0)


def transposed_width_range(narrow, taps, stride, dilation, padding):
    """Inclusive range ``(lo, hi)`` of widths ``L`` whose conv1d has width ``M = narrow``.

    conv1d forgets up to ``s - 1`` samples, so ``s`` widths map to one narrow width and
    conv1d_transpose must be told which one (its ``output_shape``):

    ``SAME``:  ``(M - 1)*s + 1 <= L <= M*s``
    ``VALID``: ``(M - 1)*s + Keff <= L <= M*s + Keff - 1``

    ``lo`` is clipped at 0 (a width is never negative).

    Examples
    --------
    >>> transposed_width_range(5, 3, 2, 1, "SAME")
    (9, 10)
    >>> transposed_width_range(5, 3, 2, 1, "VALID")
    (11, 12)
    """
    if padding == "SAME":
        lo, hi = (narrow - 1) * stride + 1, narrow * stride
    else:
        keff = effective_filter_width(taps, dilation)
        lo, hi = (narrow - 1) * stride + keff, narrow * stride + keff - 1
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
    """Leading zeros for ``padding``: :func:`same_pad_before` for SAME, ``0`` for VALID."""
    if padding == "SAME":
        return same_pad_before(wide, narrow, taps, stride, dilation)
    return 0


def pad_after(wide, narrow, taps, stride, dilation, padding):
    """Trailing zeros: ``max((M - 1)*s + Keff - L - pad_before, 0)``.

    For VALID this is ``0`` whenever ``L`` is the narrowest accepted width; wider ``L`` leave
    the last ``L - ((M - 1)*s + Keff)`` wide samples unread by conv1d (and zero in conv1d_transpose).

    Examples
    --------
    >>> pad_after(10, 5, 4, 2, 1, "SAME")
    1
    """
    before = pad_before(wide, narrow, taps, stride, dilation, padding)
    total = (narrow - 1) * stride + effective_filter_width(taps, dilation) - wide
    return max(total - before, 0)
