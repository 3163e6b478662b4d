"""The one place that picks a kernel for a call."""
import numpy as np

from . import _kernels
from ._threads import get_num_threads

__all__ = ["conv1d_transpose"]


def conv1d_transpose(x, f, geom):
    """Run conv1d_transpose on checked NWC operands; return the NWC result of ``x.dtype``.

    ``x`` is ``[N, M, Cin]`` and ``f`` is ``[K, Cout, Cin]``, both C-contiguous of one compute
    dtype (float32 or float64). Today every call goes to the gather kernel.
    """
    y = np.empty((geom.batch, geom.wide, geom.wide_channels), dtype=x.dtype)
    _kernels.transpose_gather(
        x, f, y, geom.stride, geom.dilation, geom.pad_before, get_num_threads()
    )
    return y
