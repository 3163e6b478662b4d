"""The one geometry object every op, kernel and the reference share."""
from typing import NamedTuple

from ._padding import pad_before, transposed_width_range

__all__ = ["Geometry", "transpose_geometry"]


class Geometry(NamedTuple):
    """One forward convolution, seen from any side of the family.

    Narrow sample ``i`` and wide sample ``o`` are linked through tap ``k`` when
    ``o = i*stride + k*dilation - pad_before``. conv1d maps wide -> narrow (a gather over
    ``k``), conv1d_transpose maps narrow -> wide. Internal layout is NWC; filters are
    ``[taps, wide_channels, narrow_channels]`` (conv1d_transpose's ``[K, Cout, Cin]``).
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


def transpose_geometry(x_shape, f_shape, out_shape, stride, dilation, padding, data_format):
    """Check conv1d_transpose's shapes against each other and return its :class:`Geometry`.

    ``x_shape`` and ``out_shape`` are given in ``data_format``; ``f_shape`` is ``[K, Cout, Cin]``.
    Messages index the arguments as the user wrote them.
    """
    w_ax, c_ax = (1, 2) if data_format == "NWC" else (2, 1)
    n, m, cin = x_shape[0], x_shape[w_ax], x_shape[c_ax]
    k, cout, f_cin = f_shape
    on, wide, ocout = out_shape[0], out_shape[w_ax], out_shape[c_ax]
    if k < 1:
        raise ValueError(f"filters must have at least one tap, got filters.shape={tuple(f_shape)}")
    if f_cin != cin:
        raise ValueError(
            f"filters.shape[2] (in_channels) is {f_cin}, but input has {cin} channels "
            f"(input.shape[{c_ax}] for data_format={data_format!r})"
        )
    if on != n:
        raise ValueError(f"output_shape[0] is {on}, but input has batch size {n}")
    if ocout != cout:
        raise ValueError(
            f"output_shape[{c_ax}] is {ocout}, but filters.shape[1] (output channels) is {cout}"
        )
    lo, hi = transposed_width_range(m, k, stride, dilation, padding)
    if not lo <= wide <= hi:
        accepted = f"widths {lo}..{hi}" if lo < hi else (f"width {lo}" if lo == hi else "no width")
        raise ValueError(
            f"output_shape[{w_ax}] is {wide}, but an input of width {m} with stride {stride}, "
            f"dilation {dilation}, {k} taps and {padding} padding gives {accepted}"
        )
    pad = pad_before(wide, m, k, stride, dilation, padding)
    return Geometry(n, wide, m, cout, cin, k, stride, dilation, pad)
