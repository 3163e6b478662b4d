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
from ._geometry import Geometry
from ._ops import conv1d, conv1d_backprop_filter, conv1d_transpose, plan
from ._plan import Plan
from ._stream import Conv1DTransposeStream
from ._threads import get_num_threads, set_num_threads
from ._upfirdn import upfirdn
from ._version import __version__

__all__ = [
    "Conv1DTransposeStream",
    "Geometry",
    "Plan",
    "__version__",
    "conv1d",
    "conv1d_backprop_filter",
    "conv1d_transpose",
    "get_num_threads",
    "plan",
    "set_num_threads",
    "show_config",
    "upfirdn",
]

# Submodules loaded on first use, as SciPy does (PEP 562): ``conv1dt.linalg`` works after
# ``import conv1dt`` alone, and ``import conv1dt`` imports none of them, nor Dask, PyTorch or JAX.
_SUBMODULES = ("dask", "jax", "linalg", "torch")


def __getattr__(name):
    if name in _SUBMODULES:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
