"""conv1dt: the 1-D transposed convolution, the transpose of conv1d, and its gradient family, on Cython kernels."""
try:
    from . import _kernels
except ImportError as exc:  # the source tree without its built extension
    if "one interpreter per process" in str(exc):   # Cython's extension modules, PEP 489
        raise ImportError(
            "conv1dt's compiled kernels can be loaded into one interpreter per process, and "
            "another interpreter of this process has already imported them: import conv1dt in "
            "the main interpreter only (sub-interpreters, e.g. concurrent.interpreters, cannot "
            f"share it). ({exc})"
        ) from exc
    raise ImportError(
        "conv1dt's compiled kernels (conv1dt._kernels) could not be imported. In a source "
        "checkout, build them in place with `pip install -e .`, or run Python from outside the "
        f"checkout to use an installed conv1dt. ({exc})"
    ) from exc
from ._config import show_config
from ._denormals import flush_denormals, set_flush_denormals
from ._ops import conv1d, conv1d_backprop_filter, conv1d_transpose
from ._stream import Conv1DTransposeStream
from ._threads import get_num_threads, set_num_threads
from ._version import __version__

__all__ = [
    "Conv1DTransposeStream",
    "__version__",
    "conv1d",
    "conv1d_backprop_filter",
    "conv1d_transpose",
    "flush_denormals",
    "get_num_threads",
    "set_flush_denormals",
    "set_num_threads",
    "show_config",
]
