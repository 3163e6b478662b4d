"""Keeping SciPy's OpenBLAS single-threaded while conv1dt's own threads call it.

The BLAS kernel calls ``sgemm``/``dgemm`` from SciPy's Cython BLAS inside an OpenMP parallel loop,
one GEMM per thread at a time. A multi-threaded OpenBLAS would then start threads of its own from
each of ours and oversubscribe the cores, so for the duration of such a call its thread count is
set to 1 and restored afterwards. Where SciPy's BLAS is not an OpenBLAS we can find (another
build of SciPy), this does nothing; such a BLAS is then the user's to limit (threadpoolctl).
"""
import ctypes
import glob
import os
import threading
from contextlib import contextmanager

__all__ = ["single_threaded_blas"]

_lock = threading.Lock()
_depth = 0
_saved = None


def _find_openblas():
    """``(get, set, path)`` for the OpenBLAS behind ``scipy.linalg.cython_blas``, or Nones."""
    try:
        import scipy
    except ImportError:
        return None, None, None
    root = os.path.dirname(os.path.dirname(scipy.__file__))
    pattern = os.path.join(root, "scipy.libs", "libscipy_openblas*")
    for path in sorted(glob.glob(pattern)) + sorted(glob.glob(os.path.join(root, "scipy", ".dylibs", "libscipy_openblas*"))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas_", "openblas_"):
            try:
                get = getattr(lib, prefix + "get_num_threads")
                set_ = getattr(lib, prefix + "set_num_threads")
            except AttributeError:
                continue
            get.restype, get.argtypes = ctypes.c_int, []
            set_.restype, set_.argtypes = None, [ctypes.c_int]
            return get, set_, path
    return None, None, None


_get, _set, _path = _find_openblas()


@contextmanager
def single_threaded_blas():
    """Run the body with SciPy's OpenBLAS on one thread; nested and concurrent uses share one
    save/restore, so the user's setting comes back when the last one leaves."""
    global _depth, _saved
    if _set is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _saved = _get()
            if _saved != 1:
                _set(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved not in (None, 1):
                _set(_saved)
