"""Build and run-time configuration report."""
import ctypes
import ctypes.util
import os
import platform
import sys
from typing import IO, Any, Dict, List, Optional

import numpy as np

from .._compiled import _cpu
from .._version import __version__
from .blas_pick import chosen as chosen_blas
from .blas_threads import blas_info
from .threads import get_num_threads, placement

__all__ = ["show_config"]


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


def _defining_file(library: str, symbol: str) -> Optional[str]:
    """The file that defines ``symbol`` as ``library`` sees it (dlsym, then dladdr), or None
    (Windows, or no such symbol)."""
    try:
        address = ctypes.cast(getattr(ctypes.CDLL(library), symbol), ctypes.c_void_p).value
        try:
            dladdr = ctypes.CDLL(None).dladdr      # the process's symbols: libc (glibc >= 2.34, macOS)
        except AttributeError:
            dladdr = ctypes.CDLL(ctypes.util.find_library("dl")).dladdr
        info = _DlInfo()
        if not dladdr(ctypes.c_void_p(address), ctypes.byref(info)) or not info.dli_fname:
            return None
        return os.fsdecode(info.dli_fname)
    except (OSError, AttributeError, TypeError, ValueError):
        return None


def _openmp_runtime() -> Optional[Dict[str, Any]]:
    """threadpoolctl's description of the OpenMP runtime the kernels call (libgomp, libomp,
    libiomp, vcomp), or None without OpenMP. Where several are loaded (another package's), the
    one that defines the kernels' ``omp_get_max_threads`` is chosen."""
    if not _cpu.have_openmp():
        return None
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {"prefix": "unknown (threadpoolctl is not installed)"}
    found = [i for i in threadpool_info() if i.get("user_api") == "openmp"]
    ours = _defining_file(_cpu.__file__, "omp_get_max_threads")
    for info in found:
        if ours and os.path.realpath(info["filepath"]) == os.path.realpath(ours):
            return info
    return found[0] if found else None


def _simd() -> str:
    """The instruction set of the kernels' vector code on this CPU."""
    isa = _cpu.tiled_isa()
    return f"{isa} ({platform.machine()})" if isa else f"baseline ({platform.machine()})"


def _describe(info: Optional[Dict[str, Any]]) -> str:
    if info is None:
        return "none"
    parts = [str(info.get("prefix") or info.get("internal_api"))]
    if info.get("version"):
        parts.append(str(info["version"]))
    extra = [f"{info['num_threads']} threads"] if info.get("num_threads") is not None else []
    if info.get("threading_layer"):
        extra.append(str(info["threading_layer"]))
    if "thread_control" in info:
        extra.append("kept on one thread in conv1dt's loops" if info["thread_control"]
                     else "not limited by conv1dt")
    text = " ".join(parts) + (f" ({', '.join(extra)})" if extra else "")
    return text + (f": {info['filepath']}" if info.get("filepath") else "")


def show_config(file: Optional[IO[str]] = None) -> Dict[str, Any]:
    """Print how conv1dt was built and how it will run.

    Reports the version, whether the kernels were compiled with OpenMP, the thread count the next
    call will use, the instruction set the compiled kernels run (``cpu_isa``: the best one of the
    CPU, ``cpu_isa_detected``, unless the environment variable ``CONV1DT_CPU`` names a lower one:
    ``baseline``, ``avx2`` or ``avx512``), the compiler flags, the NumPy and Python versions, the
    OpenMP runtime loaded (``libgomp``, ``libomp``, ...), the BLAS libraries found by
    threadpoolctl (SciPy's among them) and the one the kernels call.

    Parameters
    ----------
    file : file-like, optional
        Where to print; ``sys.stdout`` by default.

    Returns
    -------
    dict
        The same facts, keyed by name: ``version``, ``openmp`` (bool), ``num_threads``,
        ``thread_placement`` (str: whether a parallel call's workers are held on CPUs other than
        the caller's while it runs; ``CONV1DT_PLACE=0`` turns it off), ``compile_flags``,
        ``numpy``, ``python``, ``openmp_runtime`` (threadpoolctl's dict for the runtime, or
        None), ``simd`` (str), ``blas`` (a list of threadpoolctl's dicts, each with
        ``thread_control``: whether conv1dt keeps it on one thread inside its parallel loops)
        and ``kernel_blas`` (str): the one the kernels' GEMMs call, SciPy's or a newer OpenBLAS
        found in the process (``CONV1DT_BLAS=scipy`` keeps SciPy's).

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
        "openmp": _cpu.have_openmp(),
        "num_threads": get_num_threads(),
        "thread_placement": placement(),
        "cpu_isa": _cpu.cpu_isa(),
        "cpu_isa_detected": _cpu.cpu_isa_detected(),
        "compile_flags": _cpu.compile_flags(),
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "openmp_runtime": _openmp_runtime(),
        "simd": _simd(),
        "blas": blas_info(),
        "kernel_blas": chosen_blas(),
    }
    out = sys.stdout if file is None else file
    for key, value in info.items():
        if key == "openmp_runtime":
            value = _describe(value)
        if key == "blas":
            value = "\n                  ".join(_describe(b) for b in value) or "none found"
        print(f"{key:>16}: {value}", file=out)
    return info
