"""Keeping the BLAS single-threaded while conv1dt's own threads call it.

The BLAS kernels call ``sgemm``/``dgemm`` from SciPy's Cython BLAS inside an OpenMP parallel loop,
one GEMM per thread at a time. A multi-threaded BLAS would then start threads of its own from
each of ours and oversubscribe the cores, so for the duration of such a call its thread count is
set to 1 and restored afterwards.

The BLAS libraries are found by threadpoolctl, whatever the vendor (OpenBLAS, whether SciPy's
``scipy_openblas`` or an older ``libopenblas``; MKL; BLIS; FlexiBLAS), once, at the first guarded
call, when SciPy's BLAS is loaded. Every BLAS found then is limited, since the one behind
``scipy.linalg.cython_blas`` is among them. The save/restore itself calls each library's own
``get``/``set`` functions, not threadpoolctl's scan (which reads every loaded library, a few
milliseconds): from compiled code at their addresses (``_cpu.BlasThreads``, a fraction of a
microsecond; every guarded kernel call enters the guard), or through ctypes where a function is
not a C one. A BLAS with no thread control (Accelerate) is reported by :func:`blas_info` and
left alone.
"""
import ctypes
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = ["single_threaded_blas"]

# internal_api -> (get, set, C type of the count); OpenBLAS's names may carry a prefix ("scipy_")
# and a suffix ("64_") as in threadpoolctl's OpenBLASController; BLIS counts in dim_t (int64).
_SYMBOLS = {
    "openblas": ("openblas_get_num_threads", "openblas_set_num_threads", ctypes.c_int),
    "mkl": ("MKL_Get_Max_Threads", "MKL_Set_Num_Threads", ctypes.c_int),
    "blis": ("bli_thread_get_num_threads", "bli_thread_set_num_threads", ctypes.c_int64),
    "flexiblas": ("flexiblas_get_num_threads", "flexiblas_set_num_threads", ctypes.c_int),
}
_PREFIXES = ("", "scipy_")
_SUFFIXES = ("", "64_", "_64")

_lock = threading.Lock()
_depth = 0
_saved: List[Tuple[Callable[[int], None], int]] = []   # (set, the count before) of each changed
_libs: Optional[List[Tuple[Dict[str, Any], Optional[Callable[[], int]], Optional[Callable[[int], None]]]]] = None


def _symbol(dynlib, name):
    for prefix in _PREFIXES:
        for suffix in _SUFFIXES:
            func = getattr(dynlib, prefix + name + suffix, None)
            if func is not None:
                return func
    return None


_dynlibs: Dict[str, Any] = {}   # filepath -> the library's ctypes handle (conv1dt/_runtime/blas_pick.py)


def dynlib_of(info: Dict[str, Any]) -> Any:
    """The ctypes handle of the library that threadpoolctl described as ``info``, or None."""
    return _dynlibs.get(str(info.get("filepath")))


def _bind(controller):
    """``(info, get, set)`` for one threadpoolctl LibController; get/set are None without control."""
    info = controller.info()
    names = _SYMBOLS.get(info.get("internal_api"))
    dynlib = getattr(controller, "dynlib", None)
    if dynlib is not None and info.get("filepath"):
        _dynlibs[info["filepath"]] = dynlib
    if names is None or dynlib is None or info.get("threading_layer") == "openmp":
        # An OpenMP-threaded OpenBLAS sets the calling thread's OpenMP count, which is conv1dt's
        # own (and OpenMP runs a parallel region nested in ours on one thread anyway).
        return info, None, None
    get, set_ = _symbol(dynlib, names[0]), _symbol(dynlib, names[1])
    if get is None or set_ is None:
        return info, None, None
    get.restype, get.argtypes = names[2], []
    set_.restype, set_.argtypes = None, [names[2]]
    return info, get, set_


def _find_blas():
    """Every BLAS threadpoolctl finds in the process (empty without threadpoolctl)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # a declared dependency; without it, no limit (as before threadpoolctl)
        return []
    import scipy.linalg.cython_blas  # noqa: F401  (the BLAS our kernels call must be loaded)

    return [_bind(c) for c in ThreadpoolController().select(user_api="blas").lib_controllers]


def _blas_libs():
    global _libs
    if _libs is None:
        with _lock:
            if _libs is None:
                _libs = _find_blas()
    return _libs


def blas_info() -> List[Dict[str, Any]]:
    """The BLAS libraries found: threadpoolctl's description of each (``internal_api``,
    ``version``, ``filepath``, ``num_threads``, ...) and ``thread_control``, whether conv1dt can
    keep it on one thread inside its parallel loops."""
    out = []
    for info, get, set_ in _blas_libs():
        entry = dict(info)
        if get is not None:
            entry["num_threads"] = get()
        entry["thread_control"] = set_ is not None
        out.append(entry)
    return out


_guarded: Optional[List[Tuple[Callable[[], int], Callable[[int], None]]]] = None
_only: Optional[str] = None   # the filepath of the one BLAS the kernels call, when it is known


def guard_only(filepath: Optional[str]) -> None:
    """Have :func:`single_threaded_blas` hold only the BLAS at ``filepath`` (the one the kernels
    call, chosen by conv1dt/_runtime/blas_pick.py), or every BLAS found (None)."""
    global _only, _guarded
    with _lock:
        _only, _guarded = filepath, None


def _guarded_libs():
    """``(get, set)`` of each BLAS the guard holds on one thread."""
    global _guarded
    if _guarded is None:
        libs = [(get, set_) for info, get, set_ in _blas_libs()
                if get is not None and set_ is not None
                and (_only is None or info.get("filepath") == _only)]
        _guarded = libs
    return _guarded


def _restype(fn):
    """The C return type of a ctypes function (a library's, or made by ``CFUNCTYPE``)."""
    return getattr(fn, "restype", None) or getattr(type(fn), "_restype_", None)


# (libs, guard): the compiled guard (_cpu.BlasThreads) of this list of _guarded_libs(), which
# holds the ctypes functions whose addresses it calls, or False where there is none; one
# value, so that the guard is never used with another list than its own
_compiled: Tuple[Any, Any] = (None, False)


def _compiled_guard(libs):
    """The compiled save/restore (``_cpu.BlasThreads``) of ``libs`` when every function is a C
    function bound by ctypes (as :func:`_bind` binds them), else False (a stand-in's Python
    functions: the save/restore then runs here)."""
    global _compiled
    held, guard = _compiled
    if held is not libs:
        guard = False
        if libs and all(isinstance(fn, ctypes._CFuncPtr) for pair in libs for fn in pair):
            from .._compiled import _cpu
            guard = _cpu.BlasThreads([(ctypes.cast(get, ctypes.c_void_p).value,
                                       ctypes.cast(set_, ctypes.c_void_p).value,
                                       _restype(get) is ctypes.c_int64) for get, set_ in libs])
        _compiled = (libs, guard)
    return guard


class _SingleThreadedBlas:
    """The context of :func:`single_threaded_blas` (a class: entered on every BLAS kernel's
    call, and a generator-based context manager costs a few microseconds more)."""
    __slots__ = ()

    def __enter__(self) -> None:
        # entered on every guarded kernel call: the save/restore in C where it can be
        global _depth, _saved
        libs = _guarded if _guarded is not None else _guarded_libs()
        held, fast = _compiled
        if held is not libs:
            fast = _compiled_guard(libs)
        if fast:
            fast.enter()
            return
        with _lock:
            if _depth == 0:
                _saved = []
                for get, set_ in libs:
                    old = get()
                    if old != 1:
                        set_(1)
                        _saved.append((set_, old))
            _depth += 1

    def __exit__(self, *exc: Any) -> None:
        global _depth
        fast = _compiled[1]
        if fast and fast.depth:      # entered by the compiled guard
            fast.leave()
            return
        with _lock:
            _depth -= 1
            if _depth == 0:
                for set_, old in _saved:      # what __enter__ changed, put back
                    set_(old)


_SINGLE = _SingleThreadedBlas()


def single_threaded_blas() -> _SingleThreadedBlas:
    """Run the body with the BLAS the kernels call on one thread (every BLAS found, unless
    :func:`guard_only` named the one); nested and concurrent uses share one save/restore, so the
    user's setting comes back when the last one leaves."""
    return _SINGLE
