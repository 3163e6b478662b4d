"""conv1dt: the 1-D transposed convolution, the transpose of conv1d, TF-exact on Cython kernels."""
from ._config import show_config
from ._ops import conv1d_transpose
from ._threads import get_num_threads, set_num_threads
from ._version import __version__

__all__ = [
    "__version__",
    "conv1d_transpose",
    "get_num_threads",
    "set_num_threads",
    "show_config",
]
