"""Which BLAS the kernels' GEMMs call: SciPy's, or a newer OpenBLAS already in the process.

The kernels call ``?gemm`` and ``?gemv`` through ``scipy.linalg.cython_blas``, whatever BLAS SciPy
was built with. NumPy's wheels carry an OpenBLAS of their own (64-bit integers, symbols
``scipy_sgemm_64_``), often a newer release than SciPy's; the NumPy matmul-per-tap baseline of the
benchmark runs on it. On the machine of the benchmarks (AMD EPYC, AVX2) NumPy's OpenBLAS 0.3.31
ran the same ``sgemm`` calls as SciPy's 0.3.30 up to 1.5x faster (products with a long inner
dimension, the filter gradient's) and none slower beyond noise (docs/benchmarks.rst), so:

* the kernels call the OpenBLAS of the highest version that threadpoolctl finds loaded (NumPy's
  and SciPy's are loaded with conv1dt), when it is newer than the one behind SciPy's Cython BLAS,
  uses 64-bit integers, exports all four routines and can be held on one thread inside conv1dt's
  parallel loops (conv1dt/_runtime/blas_threads.py); else SciPy's;
* the environment variable ``CONV1DT_BLAS=scipy`` keeps SciPy's whatever is found.

The choice is made once, at import, from what is installed (never from a timing), so that a
process's results do not change from call to call. :func:`conv1dt.show_config` reports it.

Where that OpenBLAS runs kernels of a narrower vector than this CPU's (OpenBLAS picks its kernels
by the CPU model it knows: an AVX-512 AMD EPYC of a newer family than its table gets its AVX2
"Haswell" kernels, half the multiply-adds per instruction), the kernels' GEMMs run conv1dt's own
packed GEMM instead (``src/skinny_impl.h``: the skinny GEMM's AVX-512 tiles on blocks laid out
for the cache); ``CONV1DT_GEMM=blas`` or ``=packed`` forces either.
"""
import ctypes
import os
import re
from typing import Any, Dict, Optional, Tuple

from .blas_threads import _blas_libs, _symbol, dynlib_of, guard_only

__all__ = ["install", "chosen"]

_ROUTINES = ("sgemm_", "dgemm_", "sgemv_", "dgemv_")
_chosen: Optional[Dict[str, Any]] = None
_arch: Optional[str] = None    # the OpenBLAS kernels' CPU name ("Haswell", "SkylakeX", ...)
# OpenBLAS's names of the CPUs whose kernels use 512-bit vectors
_WIDE_CORES = frozenset({"skylakex", "cooperlake", "sapphirerapids"})


def _version(text) -> Tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", str(text or "")))


def _address(dynlib, name) -> Optional[int]:
    func = _symbol(dynlib, name)
    return None if func is None else ctypes.cast(func, ctypes.c_void_p).value


def _scipy_library(found):
    """The entry of ``found`` whose ``sgemm`` SciPy's Cython BLAS calls, or None."""
    import scipy.linalg.cython_blas as cython_blas

    try:
        theirs = ctypes.CDLL(cython_blas.__file__)
    except OSError:
        return None
    for info, dynlib in found:
        ours = _address(dynlib, "sgemm_")
        if ours is not None and _address(theirs, "sgemm_") == ours:
            return info
    return None


def _ilp64(dynlib) -> bool:
    config = _symbol(dynlib, "openblas_get_config")
    if config is None:
        return False
    config.restype, config.argtypes = ctypes.c_char_p, []
    return b"USE64BITINT" in (config() or b"")


def _choose() -> Optional[Dict[str, Any]]:
    """The chosen library's threadpoolctl description with ``addresses`` (of sgemm, dgemm,
    sgemv, dgemv), or None for SciPy's; sets ``_arch`` to the chosen OpenBLAS's CPU name."""
    global _arch
    found = [(info, dynlib_of(info)) for info, get, set_ in _blas_libs()
             if info.get("internal_api") == "openblas" and set_ is not None]
    found = [(info, dynlib) for info, dynlib in found if dynlib is not None]
    scipy_info = _scipy_library(found)
    if scipy_info is None:
        return None     # SciPy's BLAS not identified (another vendor): nothing to compare with
    _arch = scipy_info.get("architecture")
    if os.environ.get("CONV1DT_BLAS", "").strip().lower() == "scipy":
        return None
    best = None
    for info, dynlib in found:
        if _version(info.get("version")) <= _version(scipy_info.get("version")):
            continue
        addresses = tuple(_address(dynlib, name) for name in _ROUTINES)
        if None in addresses or not _ilp64(dynlib):
            continue
        if best is None or _version(info.get("version")) > _version(best["version"]):
            best = dict(info, addresses=addresses)
    if best is not None:
        _arch = best.get("architecture")
    return best


def _packed(isa, arch) -> bool:
    """Whether the kernels' GEMMs run the packed GEMM rather than the BLAS: forced by
    ``CONV1DT_GEMM`` (``packed`` or ``blas``), else where conv1dt's kernels run AVX-512 and the
    OpenBLAS's kernels are those of a CPU without it (its name, ``arch``, known)."""
    forced = os.environ.get("CONV1DT_GEMM", "").strip().lower()
    if forced in ("packed", "blas"):
        return forced == "packed"
    return isa == "avx512" and bool(arch) and str(arch).lower() not in _WIDE_CORES


def install(modules) -> None:
    """Choose the BLAS (once per process) and point each compiled module's kernels at it."""
    global _chosen
    if _chosen is None:
        try:
            pick = _choose()
        except Exception:   # anything unexpected in the search: SciPy's, as without it
            pick = None
        _chosen = pick or {}
        # the guard around the kernels then holds only that BLAS on one thread (each library
        # held costs two calls into it at every guarded call)
        guard_only(_chosen.get("filepath"))
    addresses = _chosen.get("addresses", (0, 0, 0, 0))
    for module in modules:
        module._use_blas64(*addresses)
    from .._compiled import _cpu

    _cpu._set_packed(_packed(_cpu.cpu_isa(), _arch))


def chosen() -> str:
    """A line for :func:`conv1dt.show_config`: the BLAS the kernels call."""
    from .._compiled import _cpu

    packed = (f"; GEMMs by conv1dt's packed GEMM ({_cpu.cpu_isa()}; the BLAS's kernels: "
              f"{_arch})" if _cpu.packed_on() else "")
    if not _chosen:
        return "SciPy's (scipy.linalg.cython_blas)" + packed
    return (f"{_chosen.get('prefix') or 'openblas'} {_chosen.get('version')} (64-bit integers): "
            f"{_chosen.get('filepath')}{packed}")
