"""conv1dt: the 1-D transposed convolution, the transpose of conv1d, and its gradient family, on Cython kernels."""
import os as _os

# GNU OpenMP's idle threads spin for about 300,000 turns before they sleep: on a machine shared
# with other busy processes they take the cores the working threads need (the docs' planner page
# has the measurements). A short spin keeps back-to-back calls fast and yields the cores under
# load. Read by libgomp when it is loaded, so it is set before the kernels are imported, and only
# when the user has said nothing about it.
if "GOMP_SPINCOUNT" not in _os.environ and "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = "10000"

try:
    from ._compiled import _cpu  # noqa: F401  (the extensions, built or not)
except ImportError as exc:  # the source tree without its built extension
    if "one interpreter per process" in str(exc):   # Cython's extension modules, PEP 489
        raise ImportError(
            "conv1dt's compiled kernels can be loaded into one interpreter per process, and "
            "another interpreter of this process has already imported them: import conv1dt in "
            "the main interpreter only (sub-interpreters, e.g. concurrent.interpreters, cannot "
            f"share it). ({exc})"
        ) from exc
    raise ImportError(
        "conv1dt's compiled kernels (conv1dt._compiled) could not be imported. In a source "
        "checkout, build them in place with `pip install -e .`, or run Python from outside the "
        f"checkout to use an installed conv1dt. ({exc})"
    ) from exc
from ._geometry import Geometry
from ._ops import conv1d, conv1d_backprop_filter, conv1d_transpose, plan
from ._plan import Plan
from ._runtime.config import show_config
from ._runtime.denormals import flush_denormals, set_flush_denormals
from ._runtime.threads import get_num_threads, set_num_threads, threads
from ._stream import Conv1DTransposeStream
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
    "flush_denormals",
    "get_num_threads",
    "plan",
    "set_flush_denormals",
    "set_num_threads",
    "show_config",
    "threads",
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
