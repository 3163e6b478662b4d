"""conv1dt: the 1-D transposed convolution, the transpose of conv1d, and its gradient family, on Cython kernels."""
try:
    from . import _kernels
except ImportError as exc:  # the source tree without its built extension
    raise ImportError(
        "conv1dt's compiled kernels (conv1dt._kernels) could not be imported. In a source "
        "checkout, build them in place with `pip install -e .`, or run Python from outside the "
        f"checkout to use an installed conv1dt. ({exc})"
    ) from exc
from ._config import show_config
from ._ops import conv1d, conv1d_backprop_filter, conv1d_transpose
from ._stream import Conv1DTransposeStream
from ._threads import get_num_threads, set_num_threads, threads
from ._version import __version__

__all__ = [
    "Conv1DTransposeStream",
    "__version__",
    "conv1d",
    "conv1d_backprop_filter",
    "conv1d_transpose",
    "get_num_threads",
    "set_num_threads",
    "show_config",
    "threads",
]
