"""Build and run-time configuration report."""
import sys

import numpy as np

from . import _kernels
from ._threads import get_num_threads
from ._version import __version__

__all__ = ["show_config"]


def show_config(file=None):
    """Print how conv1dt was built and how it will run.

    Reports the version, whether the kernels were compiled with OpenMP, the thread count the next
    call will use, the instruction set the compiled kernels run (``cpu_isa``: the best one of the
    CPU, ``cpu_isa_detected``, unless the environment variable ``CONV1DT_CPU`` names a lower one:
    ``baseline``, ``avx2`` or ``avx512``), the compiler flags, and the NumPy and Python versions.

    Parameters
    ----------
    file : file-like, optional
        Where to print; ``sys.stdout`` by default.

    Returns
    -------
    dict
        The same facts, keyed by name.

    Examples
    --------
    >>> import io
    >>> import conv1dt
    >>> out = io.StringIO()
    >>> info = conv1dt.show_config(file=out)
    >>> info["version"] == conv1dt.__version__, "openmp" in out.getvalue()
    (True, True)
    """
    info = {
        "version": __version__,
        "openmp": _kernels.have_openmp(),
        "num_threads": get_num_threads(),
        "cpu_isa": _kernels.cpu_isa(),
        "cpu_isa_detected": _kernels.cpu_isa_detected(),
        "compile_flags": _kernels.compile_flags(),
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }
    out = sys.stdout if file is None else file
    for key, value in info.items():
        print(f"{key:>16}: {value}", file=out)
    return info
