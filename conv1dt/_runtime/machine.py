"""The machine in the terms of a cost model: FMA rate, memory bandwidth and cache sizes.

A kernel's time is bounded below by its FLOPs at the machine's multiply-add rate and by the
bytes it must move at the memory bandwidth (the roofline). This module measures the two rates
once and reads the cache sizes from the operating system, for the benchmark's roofline
(``python -m conv1dt.bench --machine``) and for any cost model that needs them:

* ``fma_f32``, ``fma_f64``: FLOP/s of one core (a multiply-add counts as two FLOPs), taken as the
  best of 20 square GEMMs (512 x 512, a few milliseconds each) of SciPy's BLAS (the BLAS conv1dt
  itself calls) held to one thread: the practical peak of a well-blocked kernel, a little under
  the instruction set's paper peak (a kernel of conv1dt's own may beat it, so a time/roofline
  ratio somewhat below 1 is possible).
* ``bandwidth``: bytes/s of one core streaming memory, the best of a few copies of an array
  several times the last-level cache (``np.copyto``; bytes read plus bytes written).
* ``l1``, ``l2``, ``l3``: data cache sizes in bytes of CPU 0 (Linux sysfs), ``0`` where unknown.

:func:`machine` measures on first use and keeps the figures in ``machine.json`` under
``$CONV1DT_CACHE_DIR``, else ``$XDG_CACHE_HOME/conv1dt``, else ``~/.cache/conv1dt``; delete the
file, or call ``machine(refresh=True)``, to measure again (after moving to another machine, or
when the first measurement ran on a busy one). The measurement takes about a second.
"""
import json
import os
import pathlib
import platform
import time

import numpy as np

__all__ = ["cache_sizes", "machine", "measure_machine", "cache_path"]

GEMM_SIZE = 512         # n of the n x n x n GEMM that measures the multiply-add rate
COPY_BYTES = 1 << 27    # bytes per array of the copy that measures the bandwidth (128 MiB)
REPEATS = 20            # best of this many timings (short ones: on a shared machine, some of
                        # them run without another process taking the core away)


def cache_sizes(root="/sys/devices/system/cpu/cpu0/cache"):
    """``{'l1': bytes, 'l2': bytes, 'l3': bytes}``: CPU 0's data and unified caches by level
    (``0`` for a level the system does not report)."""
    sizes = {"l1": 0, "l2": 0, "l3": 0}
    base = pathlib.Path(root)
    for index in sorted(base.glob("index*")) if base.is_dir() else []:
        try:
            level = int((index / "level").read_text())
            kind = (index / "type").read_text().strip()
            text = (index / "size").read_text().strip().upper()
        except (OSError, ValueError):
            continue
        if kind == "Instruction" or f"l{level}" not in sizes:
            continue
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        try:
            sizes[f"l{level}"] = int(text.rstrip("KMG")) * scale
        except ValueError:
            continue
    return sizes


def _best(fn, repeats):
    fn()                                  # first touch, BLAS start-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _gemm_rate(dtype, n, repeats):
    """FLOP/s of one ``n x n x n`` GEMM (``2 n^3`` FLOPs) on one thread of SciPy's BLAS.

    Every BLAS in the process is held to one thread (threadpoolctl): the kernels' guard
    (``blas_threads.single_threaded_blas``) holds only the BLAS the kernels call, which need
    not be SciPy's (``blas_pick``), and SciPy's on all the cores measured their rate, not one's
    (297 GFLOP/s in float32 on a 2-core machine whose core does 171)."""
    from scipy.linalg import blas
    from threadpoolctl import threadpool_limits

    gemm = blas.sgemm if dtype == np.float32 else blas.dgemm
    rng = np.random.default_rng(0)
    a = np.asfortranarray(rng.standard_normal((n, n)).astype(dtype))
    b = np.asfortranarray(rng.standard_normal((n, n)).astype(dtype))
    with threadpool_limits(1):
        return 2.0 * n ** 3 / _best(lambda: gemm(1.0, a, b), repeats)


def _copy_bandwidth(nbytes, repeats):
    """Bytes/s of ``np.copyto`` between two arrays of ``nbytes`` (read plus write)."""
    src = np.ones(nbytes // 8)
    dst = np.zeros_like(src)
    return 2.0 * src.nbytes / _best(lambda: np.copyto(dst, src), repeats)


def measure_machine(gemm_size=GEMM_SIZE, copy_bytes=COPY_BYTES, repeats=REPEATS):
    """Measure the machine now (about a second): a dict with ``fma_f32`` and ``fma_f64`` (FLOP/s
    of one core), ``bandwidth`` (bytes/s of one core), ``l1``, ``l2``, ``l3`` (bytes), and where it
    was measured (``cpu``, ``cores``, ``when``). The sizes of the GEMM and the copy can be made
    smaller for a quick, less exact figure."""
    figures = {
        "fma_f32": _gemm_rate(np.float32, gemm_size, repeats),
        "fma_f64": _gemm_rate(np.float64, gemm_size, repeats),
        "bandwidth": _copy_bandwidth(copy_bytes, repeats),
    }
    figures.update(cache_sizes())
    figures.update(method=METHOD, cpu=_cpu_name(), cores=len(os.sched_getaffinity(0)) if hasattr(
        os, "sched_getaffinity") else os.cpu_count(), when=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                          time.gmtime()))
    return figures


def _cpu_name():
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cache_path():
    """Where :func:`machine` keeps its figures."""
    base = os.environ.get("CONV1DT_CACHE_DIR")
    if not base:
        base = pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "conv1dt"
    return pathlib.Path(base) / "machine.json"


KEYS = ("fma_f32", "fma_f64", "bandwidth", "l1", "l2", "l3")
METHOD = 2    # how the figures are measured; a file of another method is measured anew (1: the
              # FMA rate of SciPy's BLAS on every core, where its thread count was not held)


def machine(refresh=False, path=None):
    """The machine's figures (:func:`measure_machine`), measured once and then read from
    :func:`cache_path` (or ``path``); ``refresh=True`` measures again and rewrites the file.
    A file that cannot be read, lacks a figure or was measured another way (``METHOD``) is
    measured anew; one that cannot be written is not an error (the figures are then measured at
    each new process)."""
    path = pathlib.Path(path) if path is not None else cache_path()
    if not refresh:
        try:
            figures = json.loads(path.read_text())
            if (figures.get("method") == METHOD
                    and all(isinstance(figures.get(k), (int, float)) for k in KEYS)):
                return figures
        except (OSError, ValueError):
            pass
    figures = measure_machine()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(figures, indent=1))
    except OSError:
        pass
    return figures
