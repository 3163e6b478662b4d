"""Runners: each kernel of the family on checked operands, with the block sizes the planner
(conv1dt/_plan.py) chose, and the output memory (a pool of reused blocks for large outputs).

Nothing here chooses a kernel: a runner called without one asks :func:`conv1dt._plan.choose`.
All kernels run on conv1dt's own OpenMP threads over work items fixed by the shape alone, so the
result does not depend on the thread count; the BLAS kernels keep the BLAS on one thread meanwhile,
so the two pools never oversubscribe the cores.
"""
import contextlib
import functools
import math
import os
import sys
import threading

import numpy as np

from . import _plan
from ._compiled import _conv1d, _gemm, _transpose
from ._runtime import blas_pick as _blas_pick
from ._runtime.blas_threads import single_threaded_blas
from ._plan import SERIAL_MACS, TILED, macs as _macs, phase_taps as _phase_taps, threads as _threads

__all__ = ["allocate", "conv1d_transpose", "transpose_plan", "conv1d", "conv1d_backprop_filter",
           "conv1d_transpose_groups"]

PHASE_BUFFER = 1 << 18   # elements of input copied per thread in the phase kernel

# the BLAS the kernels' GEMMs call: SciPy's or a newer OpenBLAS in the process (blas_pick.py)
_blas_pick.install((_conv1d, _gemm, _transpose))


# Large outputs come from a small pool of memory blocks that conv1dt reuses once every array
# viewing a block is gone. A fresh large array costs a page fault per page on its first write
# (and more when the kernel compacts memory for huge pages); a reused block is already mapped. TensorFlow's and JAX's allocators do the same.
# CONV1DT_OUTPUT_POOL=0 turns the pool off: every output is then a fresh np.empty
POOL_ENABLED = os.environ.get("CONV1DT_OUTPUT_POOL", "1").strip() not in ("0", "off", "false")
POOL_MIN_BYTES = 1 << 22      # outputs from 4 MiB to 128 MiB come from the pool
POOL_MAX_BYTES = 1 << 28      # blocks the pool refers to, in use or free: at most 256 MiB
_pool = []                    # 1-D uint8 blocks, least recently handed out first
_pool_lock = threading.Lock()


def _refs(blocks, j):
    return sys.getrefcount(blocks[j])


# what _refs counts for a block that only its list refers to (the same call, so the interpreter's
# own temporary references are counted alike)
_UNUSED_REFS = _refs([np.empty(1, np.uint8)], 0)


def _unused(blocks, j):
    """Whether no array views ``blocks[j]``."""
    return _refs(blocks, j) == _UNUSED_REFS


def _from_pool(nbytes):
    """A free pooled block of ``nbytes`` to ``5/4 nbytes`` bytes (marked in use by the caller's
    view of it), or a new one added to the pool. The pool refers to at most ``POOL_MAX_BYTES``
    of blocks: beyond that it lets go of the oldest, in use or not (a block in use is then
    simply the caller's array, freed with it)."""
    with _pool_lock:
        for j in range(len(_pool)):
            if nbytes <= _pool[j].size <= nbytes + nbytes // 4 and _unused(_pool, j):
                _pool.append(_pool.pop(j))
                return _pool[-1][:nbytes]
        _pool.append(np.empty(nbytes, np.uint8))
        total = sum(b.size for b in _pool)
        while total > POOL_MAX_BYTES and len(_pool) > 1:
            total -= _pool.pop(0).size
        return _pool[-1][:nbytes]


ALIGN = 64   # bytes: large outputs start on a cache line (the kernels' streaming stores need it)


def allocate(shape, dtype):
    """An uninitialised C-contiguous array (``np.empty(shape, dtype)``; from 4 MiB, starting on a
    cache line; up to 128 MiB, a view of a pooled block), or a MemoryError that says how much
    was asked for, raised before any work is done."""
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize
    for n in shape:
        nbytes *= n
    try:
        if not POOL_ENABLED or nbytes < POOL_MIN_BYTES or nbytes > POOL_MAX_BYTES // 2:
            if nbytes < POOL_MIN_BYTES:
                return np.empty(shape, dtype=dtype)
            block = np.empty(nbytes + ALIGN, np.uint8)
        else:
            block = _from_pool(nbytes + ALIGN)
        start = -block.ctypes.data % ALIGN
        return block[start:start + nbytes].view(dtype).reshape(shape)
    except (MemoryError, ValueError):  # ValueError: larger than the address space
        raise MemoryError(f"conv1dt: cannot allocate the output of shape {tuple(shape)} and dtype "
                          f"{dtype} ({nbytes / 2**30:.3g} GiB)") from None


_NO_GUARD = contextlib.nullcontext()


def _blas_on_one_thread(g):
    """``single_threaded_blas()`` around a call of geometry ``g`` whose kernel calls BLAS from
    conv1dt's threads. Nothing for a call below ``SERIAL_MACS`` multiply-adds: it runs on the
    calling thread alone, and its GEMMs are too small for a BLAS to start threads of its own
    (OpenBLAS does from ``2**18``; unguarded, a serial call of ``2**18.8`` took 13 times as long
    on 2 threads as on 1); the guard's few microseconds of save and restore were most of such
    a call's time. The choice depends on the shape alone, as the bits must."""
    return single_threaded_blas() if _plan.macs(g) >= _plan.SERIAL_MACS else _NO_GUARD


def _nwc(a, ncw):
    """``a`` in NWC, C-contiguous (a copy when it is NCW)."""
    return np.ascontiguousarray(a.transpose(0, 2, 1)) if ncw else a


def _blas(g, itemsize):
    """The BLAS kernel in the blocked kernels' signature, with the planner's blocks:
    ``(run, rows)``."""
    b = _plan.blocking("transpose", "blas", g, itemsize)

    def run(x, f, y, stride, dilation, pad_before, rows, num_threads):
        _transpose.transpose_blas(x, f, y, stride, dilation, pad_before, rows, b["channels"],
                                  b["dot"], b["batches"], num_threads)
    return run, b["rows"]


def _tiled_rows(g):
    """Outputs per phase in a work item of the tiled kernel: about 192 (each filter panel then
    serves 32 tiles of 6 rows while it is in cache), fewer for at least 8 work items where the
    shape allows; then evened out over the blocks of a phase, a multiple of 6, so that the work
    items are about equal (blocks of 192 and a last one of 64 left a thread idle at the end of
    each chunk). A function of the shape alone."""
    rows = 192
    while _plan.parallel(g) and rows > 24 and g.batch * -(-g.wide // (g.stride * rows)) < 8:
        rows //= 2
    q = -(-g.wide // g.stride)                  # outputs per phase
    return -(-q // -(-q // rows) // 6) * 6 if q > 0 else rows


def _phase_rows(g):
    """Outputs per phase in a work item of the phase kernel: as many as keep the thread's copy of
    the input rows (``rows * T * Cin`` elements) within about ``PHASE_BUFFER`` elements, 16 to
    512, and at least 8 work items in the call where the shape allows. A function of the shape
    alone, never of the thread count, so the bits never depend on it."""
    rows = max(16, min(512, PHASE_BUFFER // max(_phase_taps(g) * g.narrow_channels, 1)))
    while _plan.parallel(g) and rows > 16 and g.batch * -(-g.wide // (g.stride * rows)) < 8:
        rows //= 2
    return rows


def _output(shape, dtype, out):
    """``out`` (checked by the caller) or a new array of ``shape``."""
    return allocate(shape, dtype) if out is None else out


def _past_the_caches(y):
    """Whether a kernel writing the call's output ``y`` stores it past the caches (streaming
    stores, where the kernel can): :func:`_plan.past_the_caches`."""
    return _plan.past_the_caches(y.nbytes)


def _check_shapes(a, b, geom, data_format, wide_first, b_shape):
    """A ValueError, before any kernel runs, where the operands are not the shapes ``geom``
    gives: the first the wide signal (``wide_first``) or the narrow one, in ``data_format``,
    the second of ``b_shape``. The compiled kernels trust the geometry, so an operand in
    another layout (a filter ``[K, Cin, Cout]`` for ``[K, Cout, Cin]``) would be read and
    written out of bounds; the public ops check their arguments first, this guards the
    internal callers and the tests that force kernels."""
    g = geom
    width, channels = ((g.wide, g.wide_channels) if wide_first
                       else (g.narrow, g.narrow_channels))
    a_shape = ((g.batch, channels, width) if data_format == "NCW"
               else (g.batch, width, channels))
    if a.shape != a_shape or b.shape != tuple(b_shape):
        raise ValueError(f"conv1dt: operands of shapes {a.shape} and {b.shape} for a geometry "
                         f"that takes {a_shape} and {tuple(b_shape)}")


def _check_kernel(op, kernel, g):
    """A ValueError where a kernel forced on ``op`` (tests, scripts) cannot compute geometry
    ``g``: the kernels trust their callers, and such a call would return another computation
    or read out of bounds. The planner never makes these choices."""
    one_each = g.wide_channels == g.narrow_channels == g.groups
    need = {"depthwise": (one_each, "one channel per group each way"),
            "fir": (one_each or (g.groups == 1 and (op == "backprop_filter"
                                                    or g.wide_channels == g.narrow_channels == 1)),
                    "one channel each way or one per group"),
            "polyphase": (g.groups == 1, "groups = 1"),
            "flip-direct": (g.groups == 1, "groups = 1"),
            "flip-tiled": (g.groups == 1 and g.stride == 1 and _plan.flipped_pad(g) >= 0,
                           "groups = 1, stride 1 and (K-1)*d >= pad_before")}
    ok, what = need.get(kernel, (True, ""))
    if not ok:
        raise ValueError(f"conv1dt: the {kernel!r} kernel needs {what}; not {g}")


def conv1d_transpose(x, f, geom, data_format, kernel=None, out=None):
    """Run conv1d_transpose (``groups = 1``) on checked operands; return the result in
    ``data_format`` (in ``out`` when given).

    ``x`` is ``[N, M, Cin]`` (NWC) or ``[N, Cin, M]`` (NCW), ``f`` is ``[K, Cout, Cin]``, both
    C-contiguous of one compute dtype (float32 or float64). ``kernel`` forces a kernel (tests).
    """
    _check_shapes(x, f, geom, data_format, False,
                  (geom.taps, geom.wide_channels, geom.narrow_channels))
    return transpose_plan(geom, data_format, kernel, x.dtype)(x, f, out)


def transpose_plan(geom, data_format, kernel=None, dtype=None):
    """``run(x, f, out=None)``: :func:`conv1d_transpose` on geometry ``geom`` with the kernel
    and its block sizes chosen once. With ``dtype`` (float32 or float64) the plan takes only
    operands of that dtype and calls the compiled kernel's specialisation for it directly. The
    thread count is read at each call."""
    g = geom
    cout = g.wide_channels
    ncw = data_format == "NCW"
    shape = (g.batch, cout, g.wide) if ncw else (g.batch, g.wide, cout)
    if 0 in shape:
        return lambda x, f, out=None: _output(shape, x.dtype, out)
    if dtype is not None and dtype != np.float32 and dtype != np.float64:
        dtype = None    # not a kernel's dtype: such a plan is not kept (conv1dt/_ops.py)
    itemsize = 4 if dtype is None else np.dtype(dtype).itemsize
    kernel = kernel or _plan.choose("transpose", g, itemsize)
    if kernel == "direct":
        args = (g.stride, g.dilation, g.pad_before, _plan.direct_strip(g.stride, cout, g.wide))
        direct = _transpose.transpose_direct
        if dtype is not None:
            direct = _specialised(direct, dtype)

        if _small_serial(g, shape, dtype):
            # a small serial call: nothing to decide at all, the tap table built once
            xshape = (g.batch, g.narrow_channels, g.narrow) if ncw else (g.batch, g.narrow,
                                                                        g.narrow_channels)
            small = _transpose._SmallDirect(xshape, (g.taps, cout, g.narrow_channels), shape, dtype,
                                          ncw, *args)

            def run(x, f, out=None):
                if out is None:
                    return small(x, f)
                out[...] = small(x, f)
                return out
            run.small = small
            return run

        def run(x, f, out=None):
            y = _output(shape, x.dtype, out)
            direct(x, ncw, f, y, ncw, *args, _threads(g))
            return y
        return run

    small = _small_serial(g, shape, dtype) and not ncw
    if kernel == "ola":
        blocks = _plan.blocking("transpose", "ola", g, itemsize)

        def run(x, f, out=None):
            y = _output(shape, x.dtype, out)
            with _blas_on_one_thread(g):
                _gemm.transpose_ola(x, f, y, ncw, g.stride, g.dilation, g.pad_before,
                                    blocks["width"], blocks["taps"], _threads(g), blocks["batch"],
                                    blocks["dot"])
            return y
        if small:
            run.small = _bound_small(
                _gemm.transpose_ola, dtype, shape,
                (False, g.stride, g.dilation, g.pad_before, blocks["width"], blocks["taps"], 1,
                 blocks["batch"], blocks["dot"]))
        return run

    # the other BLAS and tiled kernels work in NWC and share one signature
    blocked, rows = {
        "col2im": (_transpose.transpose_col2im, _plan.col2im_rows(g, itemsize) or 16),
        "tiled": (_transpose.transpose_tiled, _tiled_rows(g)),
        "phase": (_transpose.transpose_phase, _phase_rows(g)),
        "blas": _blas(g, itemsize),
    }[kernel]

    tiled = kernel == "tiled" and not ncw    # writes the output itself (NCW: a temporary)

    def run(x, f, out=None):
        y = _output(shape, x.dtype, out)
        xw = _nwc(x, ncw)
        yw = allocate((g.batch, g.wide, cout), x.dtype) if ncw else y
        stream = (True,) if tiled and _past_the_caches(y) else ()   # the tiled kernel's only
        with _blas_on_one_thread(g):
            blocked(xw, f, yw, g.stride, g.dilation, g.pad_before, rows, _threads(g), *stream)
        if ncw:
            y[...] = yw.transpose(0, 2, 1)
        return y
    if small and kernel == "blas":
        b = _plan.blocking("transpose", "blas", g, itemsize)
        run.small = _bound_small(_transpose.transpose_blas, dtype, shape,
                                 (g.stride, g.dilation, g.pad_before, rows, b["channels"],
                                  b["dot"], b["batches"], 1))
    elif small:
        run.small = _bound_small(blocked, dtype, shape,
                                 (g.stride, g.dilation, g.pad_before, rows, 1))
    return run


def _specialised(kernel, dtype):
    """A fused Cython kernel's specialisation for ``dtype`` (float32 or float64), so that a plan
    does not pay the fused function's dispatch at each call; ``kernel`` itself when it is not
    fused (a test's stand-in)."""
    try:
        return kernel["float" if np.dtype(dtype) == np.float32 else "double"]
    except TypeError:
        return kernel


def _bound_small(kernel, dtype, shape, args):
    """``small(x, f)``: a small serial call of ``kernel`` (a fused Cython kernel taking ``x``,
    ``f`` and a new output of ``shape``, then ``args``) on operands of ``dtype``, its
    specialisation and arguments bound once: a tiny call's Python layers (the output, the BLAS
    guard, the thread count read at each call) cost as much as its kernel. Below
    ``SERIAL_MACS`` no BLAS guard is needed (:func:`_blas_on_one_thread`)."""
    spec = _specialised(kernel, dtype)
    empty = np.empty

    def small(x, f):
        y = empty(shape, dtype)
        spec(x, f, y, *args)
        return y
    return small


# --- the rest of the family: conv1d and conv1d_backprop_filter --------------------------------

def _flipped(f):
    """conv1d's filter ``[K, Cw, Cn]`` as the transpose's ``[K, Cn, Cw]``, taps reversed."""
    return np.ascontiguousarray(f[::-1].transpose(0, 2, 1))


def _finish(y, ncw, out):
    """An NWC result ``y`` in the caller's layout, in ``out`` when given."""
    if out is None:
        return np.ascontiguousarray(y.transpose(0, 2, 1)) if ncw else y
    if out is not y:
        out[...] = y.transpose(0, 2, 1) if ncw else y
    return out


def _small_serial(g, shape, dtype):
    """Whether a call of geometry ``g`` with an output of ``shape`` gets a compiled small plan
    (``_transpose._SmallDirect``): serial (below ``SERIAL_MACS``), of a kernel dtype, and an
    output below the pool's blocks (a fresh ``np.empty`` each call)."""
    return (dtype is not None and np.dtype(dtype) in (np.float32, np.float64)
            and _macs(g) < SERIAL_MACS
            and math.prod(shape) * np.dtype(dtype).itemsize < POOL_MIN_BYTES)


def conv1d_small(geom, data_format, kernel, dtype):
    """The compiled plan of a small serial conv1d on ``flip-direct`` (the transpose's tap table
    built once, the filter reversed in C at each call), called as ``small(x, f)`` on operands
    of ``dtype``; None for other calls. A tiny call is then a few microseconds, not the Python
    path's dozen of them. At a stride ``s`` it computes the stride-1 outputs and keeps every
    ``s``-th, as the kernel's path does."""
    g = geom
    ncw = data_format == "NCW"
    if kernel in _SMALL_GATHERS:
        return _conv1d_small_gather(g, data_format, kernel, dtype)
    full = (g.narrow - 1) * g.stride + 1
    shape = (g.batch, g.narrow_channels, full) if ncw else (g.batch, full, g.narrow_channels)
    if (kernel != "flip-direct" or g.narrow == 0 or 0 in shape
            or not _small_serial(g, shape, dtype)):
        return None
    xshape = (g.batch, g.wide_channels, g.wide) if ncw else (g.batch, g.wide, g.wide_channels)
    small = _transpose._SmallDirect(xshape, (g.taps, g.narrow_channels, g.wide_channels), shape,
                                    dtype, ncw, 1, g.dilation, _plan.flipped_pad(g),
                                    _plan.direct_strip(1, g.narrow_channels, full), True)
    if g.stride == 1:
        return small
    s = g.stride

    def strided(x, f):
        y = small(x, f)
        return np.ascontiguousarray(y[:, :, ::s] if ncw else y[:, ::s])
    return strided


_SMALL_GATHERS = ("direct", "blas", "im2col")


def _conv1d_small_gather(g, data_format, kernel, dtype):
    """``run(x, f)``: a small serial conv1d (below ``SERIAL_MACS``, NWC, a kernel dtype, an
    output below the pool's blocks) by ``direct``, ``blas`` or ``im2col`` with the kernel's
    specialisation and arguments worked out once, or None for other calls. Such a call is 1-5
    microseconds of work, which the general path's layers doubled (1 x 24 -> 4, 2 -> 1 channel,
    K=1, s=6, float64: 2.6 us, its kernel 1.0). ``im2col`` keeps the general path's repair of
    the edges when the filter holds an infinity or a NaN (:func:`conv1d`)."""
    shape = (g.batch, g.narrow, g.narrow_channels)
    if (data_format != "NWC" or 0 in shape or g.wide == 0 or g.wide_channels == 0
            or not _small_serial(g, shape, dtype)):
        return None
    geo = (g.stride, g.dilation, g.pad_before, g.groups)
    if kernel == "direct":
        return _bound_small(_conv1d.conv1d_direct, dtype, shape, (*geo, 1))
    b = _plan.blocking("conv1d", kernel, g, np.dtype(dtype).itemsize, data_format)
    if kernel == "blas":
        return _bound_small(_conv1d.conv1d_blas, dtype, shape,
                            (*geo, b["rows"], 1, b["channels"]))
    im2col = _specialised(_gemm.conv1d_im2col, dtype)
    empty = np.empty
    args = (False, *geo, b["rows"], b["taps"], 1, b["skinny"], b["skinny"], False,
            b.get("few", 0), b.get("channels", 0))
    edges = _edge_rows(g) != (0, g.narrow)

    def run(x, f):
        y = empty(shape, dtype)
        im2col(x, f, y, *args)
        if edges and not _edges_clean(y, f, g, False):
            _definition_edges(x, f, y, g, False)
        return y
    return run


# conv1d's kernels that multiply the zeros past the signal (a gathered column matrix) instead
# of leaving those terms out as the definition does
_PADDED_KERNELS = frozenset({"im2col", "implicit", "dot"})


def conv1d(x, f, geom, data_format, kernel=None, out=None, blocks=None):
    """Run conv1d on checked operands; return the result in ``data_format`` (in ``out`` when
    given). A kernel that multiplies the zeros past the signal has its edge outputs computed
    again by the direct gather when the filter holds an infinity or a NaN (``0 * inf`` is NaN
    where the definition has no term).

    ``x`` is the wide signal ``[N, L, Cw]`` (NWC) or ``[N, Cw, L]`` (NCW), ``f`` is
    ``[K, Cw/G, Cn]``, both C-contiguous of one compute dtype (float32 or float64). ``kernel``
    forces a kernel (tests): ``'direct'``, ``'blas'``, ``'im2col'``, ``'implicit'`` (NWC; the
    windows read in place where they are runs of the signal, else as ``'im2col'``),
    ``'depthwise'`` (one channel per group), ``'flip-direct'`` (``groups = 1``) or
    ``'flip-tiled'`` (also stride 1 and ``(K-1)*d >= pad_before``), ``'polyphase'``
    (``groups = 1``) or ``'fir'`` (one channel each way, or one per group), ``'dot'`` (NWC, one
    group, dilation 1: each window on the signal times the filter's rows by dot products, else
    as ``'im2col'``); a kernel forced where it does not apply is refused (a ValueError,
    :func:`_check_kernel`). ``blocks`` are the plan's (:func:`conv1dt._plan.blocking`), made
    here when not given.
    """
    _check_shapes(x, f, geom, data_format, True,
                  (geom.taps, geom.wide_channels // geom.groups, geom.narrow_channels))
    if kernel:
        _check_kernel("conv1d", kernel, geom)
    kernel = kernel or _plan.choose("conv1d", geom, x.dtype.itemsize, data_format)
    z = _conv1d_kernel(x, f, geom, data_format, kernel, out, blocks)
    if (kernel in _PADDED_KERNELS and _edge_rows(geom) != (0, geom.narrow)
            and not _edges_clean(z, f, geom, data_format == "NCW")):
        _definition_edges(x, f, z, geom, data_format == "NCW")
    return z


def _edges_clean(z, f, g, ncw):
    """Whether a padded kernel's edge outputs in ``z`` (:func:`_edge_rows`) are the
    definition's. They differ only where a gathered zero met an infinity or a NaN of the filter
    ``f``, and ``0 * inf`` is NaN, which every later sum keeps: so finite edge outputs are
    right. Whichever is smaller is summed, the edge outputs or the filter (a sum is infinite or
    NaN when an element is, and costs no temporary array; one that overflows only costs the
    edges' second computation). Summing the filter of 11 x 228 x 265 float64 took 0.2 ms, as
    long as the rest of the call (2 x 2 outputs, s=13)."""
    a, b = _edge_rows(g)
    if (a + g.narrow - b) * g.batch * g.narrow_channels >= f.size:
        return _finite(f)
    return _edges_finite(z, g, ncw)


@functools.lru_cache(maxsize=256)
def _edge_rows(g):
    """``(a, b)``: conv1d's outputs ``i < a`` and ``i >= b`` have taps that reach past the signal
    (``i*s + k*d - p`` outside ``[0, L)``); those between have none."""
    s, d, p, M = g.stride, g.dilation, g.pad_before, g.narrow
    a = min(M, -(-p // s))
    b = max(a, min(M, (g.wide - 1 - (g.taps - 1) * d + p) // s + 1))
    return a, b


def _edges_finite(dy, g, ncw):
    """Whether the narrow array ``dy`` (the filter gradient's ``dy``, conv1d's output) is finite
    at the outputs whose taps reach past the signal (:func:`_edge_rows`; only there does a
    gathered zero meet it)."""
    a, b = _edge_rows(g)
    if a == 0 and b == g.narrow:
        return True
    if dy.size <= 1 << 16:
        # one sum of a small array costs less than two of its edges (an overflow only costs the
        # direct kernel's call)
        return _finite(dy)
    for r0, r1 in ((0, a), (b, g.narrow)):
        if r0 < r1 and not _finite(dy[:, :, r0:r1] if ncw else dy[:, r0:r1]):
            return False
    return True


def _definition_edges(x, f, z, g, ncw):
    """conv1d's edge outputs (:func:`_edge_rows`) of ``z`` computed again by the direct gather,
    which forms only the definition's products, each edge on the slice of the signal it reads."""
    a, b = _edge_rows(g)
    xw = _nwc(x, ncw)
    for r0, r1 in ((0, a), (b, g.narrow)):
        if r0 >= r1:
            continue
        off = r0 * g.stride - g.pad_before                  # row r0's tap 0 reads x[off]
        lo = max(off, 0)
        hi = min(g.wide, off + (r1 - r0 - 1) * g.stride + (g.taps - 1) * g.dilation + 1)
        ys = np.zeros((g.batch, r1 - r0, g.narrow_channels), z.dtype)
        if lo < hi:
            _conv1d.conv1d_direct(np.ascontiguousarray(xw[:, lo:hi]), f, ys, g.stride, g.dilation,
                                  lo - off, g.groups, 1)
        if ncw:
            z[:, :, r0:r1] = ys.transpose(0, 2, 1)
        else:
            z[:, r0:r1] = ys


def _conv1d_kernel(x, f, geom, data_format, kernel, out, blocks):
    """:func:`conv1d` by ``kernel``, as it computes it."""
    g = geom
    ncw = data_format == "NCW"
    shape = (g.batch, g.narrow_channels, g.narrow) if ncw else (g.batch, g.narrow,
                                                                g.narrow_channels)
    if kernel == "depthwise":
        z = _output(shape, x.dtype, out)
        _gemm.depthwise(x, f, z, ncw, False, g.stride, g.dilation, g.pad_before,
                        _plan.depthwise_rows(g, "conv1d"), _threads(g),
                        _past_the_caches(z))
        return z
    if kernel == "implicit" and not ncw:
        z = _output(shape, x.dtype, out)
        if z.size:
            blocks = blocks or _plan.blocking("conv1d", "implicit", g, x.dtype.itemsize)
            _gemm.conv1d_im2col(x, f, z, False, g.stride, g.dilation, g.pad_before, g.groups,
                                blocks["rows"], g.taps, _threads(g), True, blocks["stream"],
                                True, 0, blocks.get("channels", 0), blocks.get("packed", False),
                                blocks.get("edge", 0))
        return z
    if kernel == "dot" and not ncw and g.dilation == 1 and g.groups == 1:
        # each output's window (a run of the signal) times the filter's rows, by dot products
        z = _output(shape, x.dtype, out)
        if z.size:
            blocks = blocks or _plan.blocking("conv1d", "dot", g, x.dtype.itemsize)
            ft = np.ascontiguousarray(f.reshape(g.taps * g.wide_channels, g.narrow_channels).T)
            _gemm.conv1d_im2col(x, f, z, False, g.stride, g.dilation, g.pad_before, g.groups,
                                blocks["rows"], g.taps, _threads(g), True, False, True, 0, 0,
                                False, blocks.get("edge", 0), ft)
        return z
    if kernel in ("im2col", "implicit", "dot"):
        z = _output(shape, x.dtype, out)
        if z.size:
            blocks = blocks if kernel == "im2col" and blocks else _plan.blocking(
                "conv1d", "im2col", g, x.dtype.itemsize, data_format)
            ksplit = blocks.get("ksplit", 1) if not ncw else 1
            part = (allocate((ksplit, g.batch * g.narrow, g.narrow_channels), x.dtype)
                    if ksplit > 1 else None)
            with _blas_on_one_thread(g):
                _gemm.conv1d_im2col(x, f, z, ncw, g.stride, g.dilation, g.pad_before, g.groups,
                                    blocks["rows"], blocks["taps"], _threads(g),
                                    blocks["skinny"], blocks["skinny"], False,
                                    blocks.get("few", 0), blocks.get("channels", 0),
                                    ksplit=ksplit, part=part)
        return z
    if kernel == "flip-direct":
        # conv1d is conv1d_transpose with the taps reversed and the filter's channel axes
        # swapped: z[i] = sum_k w[i + k*d - p] f[k] = sum_k' w[i - k'*d + p'] f[K-1-k'],
        # p' = (K-1)*d - p. The transpose's direct kernel (polyphase, vectorised along the width)
        # runs it at stride 1; at stride s it computes the stride-1 result and keeps every s-th.
        full = (g.narrow - 1) * g.stride + 1
        if g.stride == 1:
            y = _output(shape, x.dtype, out)
        else:
            y = allocate((g.batch, g.narrow_channels, full) if ncw else
                         (g.batch, full, g.narrow_channels), x.dtype)
        _transpose.transpose_direct(x, ncw, _flipped(f), y, ncw, 1, g.dilation, _plan.flipped_pad(g),
                                    _plan.direct_strip(1, g.narrow_channels, g.narrow), _threads(g))
        if g.stride == 1:
            return y
        y = y[:, :, ::g.stride] if ncw else y[:, ::g.stride]
        if out is None:
            return np.ascontiguousarray(y)
        out[...] = y
        return out
    if kernel == "polyphase":
        # only the kept outputs, the input grouped by phase (position mod s) in blocks, in place
        # in either layout (_transpose.conv1d_strided)
        z = _output(shape, x.dtype, out)
        if z.size:
            _transpose.conv1d_strided(x, ncw, np.ascontiguousarray(f.transpose(0, 2, 1)), z, ncw,
                                      g.stride, g.dilation, g.pad_before,
                                      _polyphase_strip(g, x.dtype.itemsize), _threads(g))
        return z
    if kernel == "fir":
        # one channel each way, or each channel on its own (depthwise), in place in either layout
        z = _output(shape, x.dtype, out)
        rows = (blocks or _plan.blocking("conv1d", "fir", g, x.dtype.itemsize))["rows"]
        _gemm.conv1d_fir(x, f, z, ncw, g.stride, g.dilation, g.pad_before, rows, _threads(g))
        return z
    if kernel == "flip-tiled":
        y = allocate((g.batch, g.narrow, g.narrow_channels), x.dtype) if ncw or out is None else out
        _transpose.transpose_tiled(_nwc(x, ncw), _flipped(f), y, 1, g.dilation, _plan.flipped_pad(g),
                                   _tiled_rows(g._replace(wide=g.narrow)), _threads(g),
                                   not ncw and _past_the_caches(y))
        return _finish(y, ncw, out)
    y = allocate((g.batch, g.narrow, g.narrow_channels), x.dtype) if ncw or out is None else out
    if y.size:
        args = (_nwc(x, ncw), f, y, g.stride, g.dilation, g.pad_before, g.groups)
        if kernel == "direct":
            _conv1d.conv1d_direct(*args, _threads(g))
        else:
            blocks = blocks or _plan.blocking("conv1d", "blas", g, x.dtype.itemsize)
            with _blas_on_one_thread(g):
                _conv1d.conv1d_blas(*args, blocks["rows"], _threads(g), blocks["channels"],
                                    blocks.get("groups", 0))
    return _finish(y, ncw, out)


def _polyphase_strip(g, itemsize):
    """Outputs per work item of the ``polyphase`` kernel: 1 KiB of them a row (256 in float32,
    128 in float64: a block's input copy, ``s*Cw`` rows of about ``strip + (K-1)*d/s``
    elements, stays in L1 and L2; float64 ran 1.1-1.4x slower with 256), fewer (down to 64)
    where that leaves fewer than 8 items a thread, a multiple of the direct strips' 32-wide
    tiles."""
    strip = min(1024 // itemsize, -(-g.narrow // 32) * 32)
    while strip > 64 and g.batch * -(-g.narrow // strip) < 8 * _threads(g):
        strip //= 2
    return strip


def backprop_filter_small(geom, data_format, kernel, dtype):
    """``run(x, dy)``: a small serial filter gradient by the ``direct`` kernel (below
    ``SERIAL_MACS`` multiply-adds, NWC, one group, of a kernel dtype) with everything but the
    kernel's call worked out once, or None for other calls. Such a call is a few microseconds
    of work: the general path's checks cost as much again. Likewise a serial one by ``im2col``
    (:func:`_filter_im2col_small`)."""
    g = geom
    shape = (g.taps, g.wide_channels // g.groups, g.narrow_channels)
    if kernel == "im2col":
        return _filter_im2col_small(g, data_format, dtype, shape)
    if (kernel != "direct" or data_format != "NWC" or g.groups != 1 or math.prod(shape) == 0
            or g.batch * g.narrow == 0 or not _small_serial(g, shape, dtype)):
        return None
    return _bound_small(_conv1d.backprop_filter_direct, dtype, shape,
                        (g.stride, g.dilation, g.pad_before, 1, _plan.direct_filter_chunks(g), 1))


def _filter_im2col_small(g, data_format, dtype, shape):
    """``run(x, dy)``: a filter gradient by ``im2col`` that runs on one thread (below
    ``PARALLEL_MACS``; NWC, of a kernel dtype, an output below the pool's blocks) with its
    blocks, its guard and its arguments worked out once, or None for other calls. A call of
    5-30 microseconds spent as many again in the general path (2 x 37 rows, 11 -> 135, K=1,
    float32: 10.9 us, its kernel 3.2). Where the gathered zeros meet ``dy``'s edges, ``dy`` is
    checked there at each call, and one with an infinity or a NaN there goes the general way
    (:func:`conv1d_backprop_filter`: the direct kernel, which forms only the definition's
    products)."""
    if (data_format != "NWC" or dtype is None or np.dtype(dtype) not in (np.float32, np.float64)
            or math.prod(shape) == 0 or g.batch * g.narrow == 0 or _plan.parallel(g)
            or math.prod(shape) * np.dtype(dtype).itemsize >= POOL_MIN_BYTES):
        return None
    b = _plan.blocking("backprop_filter", "im2col", g, np.dtype(dtype).itemsize, "NWC")
    if b["chunks"] != 1:
        return None
    edges = not b["inplace"] and _edge_rows(g) != (0, g.narrow)
    guard = _filter_im2col_guard(g, b, False)
    im2col = _specialised(_gemm.backprop_filter_im2col, dtype)
    args = _filter_im2col_args(g, b, False, 1)
    part_shape = (1,) + shape
    empty = np.empty

    def run(x, dy):
        if edges and not _edges_finite(dy, g, False):
            return conv1d_backprop_filter(x, dy, g, "NWC", "im2col", None, b)
        df = empty(shape, dtype)
        with guard:
            im2col(x, dy, df.reshape(part_shape), *args)
        return df
    return run


def _filter_im2col_guard(g, blocks, ncw):
    """The BLAS guard of the im2col filter gradient with ``blocks``: none where it calls no
    BLAS (the skinny GEMM's ways of multiplying, NWC and gathered)."""
    no_blas = (not ncw and not blocks["inplace"] and not blocks.get("gemv", False)
               and (blocks["skinny"] or blocks.get("across", False)))
    return _NO_GUARD if no_blas else _blas_on_one_thread(g)


def _filter_im2col_args(g, blocks, ncw, threads):
    """``_gemm.backprop_filter_im2col``'s arguments after its three arrays, from ``blocks``."""
    return (ncw, g.stride, g.dilation, g.pad_before, g.groups, blocks["rows"], blocks["taps"],
            threads, 0, blocks["skinny"], blocks["inplace"], blocks.get("across", False),
            blocks.get("window", False), blocks.get("window_rows", 0), blocks.get("gemv", False),
            blocks.get("channels", 0), blocks.get("packed", False), blocks.get("stream", False),
            blocks.get("wide_channels", 0))


def _partials(df, chunks):
    """The partial filters of ``chunks`` chunks of rows, ``[chunks, K, Cw/G * Cn]``: ``df``
    itself for one chunk, else a new array that :func:`_add_partials` adds into ``df``."""
    flat = (df.shape[0], math.prod(df.shape[1:]))
    return df.reshape((1,) + flat) if chunks == 1 else np.empty((chunks,) + flat, df.dtype)


def _add_partials(part, df):
    """``df``, the sum of the partial filters ``part`` in chunk order (element by element)."""
    if part.shape[0] > 1:
        np.add.reduce(part, axis=0, out=df.reshape(part.shape[1:]))
    return df


def conv1d_backprop_filter(x, dy, geom, data_format, kernel=None, out=None, blocks=None):
    """Run conv1d_backprop_filter on checked operands; return ``[K, Cw/G, Cn]`` (``out`` when
    given).

    ``x`` is the wide signal and ``dy`` the narrow one, in ``data_format``, C-contiguous of one
    compute dtype (float32 or float64). ``kernel`` forces ``'direct'``, ``'im2col'``,
    ``'fir'`` (one channel each way or one per group, dilation 1) or ``'depthwise'`` (one
    channel per group; tests). ``blocks`` are the
    plan's (:func:`conv1dt._plan.blocking`), made here when not given.
    """
    g = geom
    ncw = data_format == "NCW"
    shape = (g.taps, g.wide_channels // g.groups, g.narrow_channels)
    _check_shapes(x, dy, g, data_format, True, (g.batch,) + (
        (g.narrow_channels, g.narrow) if ncw else (g.narrow, g.narrow_channels)))
    if math.prod(shape) == 0 or g.batch * g.narrow == 0:
        df = _output(shape, x.dtype, out)
        df[...] = 0
        return df
    if kernel:
        _check_kernel("backprop_filter", kernel, g)
    kernel = kernel or _plan.choose("backprop_filter", g, x.dtype.itemsize)
    direct_blocks = blocks if kernel == "direct" else None     # (im2col may pass a call on)
    if kernel == "fir":
        # one channel each way, each channel on its own (depthwise), or every pair of a few
        # channels each way (one group), in place in either layout
        blocks = blocks or _plan.blocking("backprop_filter", "fir", g, x.dtype.itemsize)
        df = _output(shape, x.dtype, out)
        part = _partials(df, blocks["chunks"])
        _gemm.backprop_filter_fir(x, dy, part, ncw, g.stride, g.pad_before, blocks["taps"],
                                  _threads(g), g.groups == 1 and part.shape[2] > 1, g.dilation)
        return _add_partials(part, df)
    if kernel == "depthwise":
        # one channel per group: blocks of channels by chunks of rows, each element's sum in
        # row order (the chunks' partials added in chunk order)
        blocks = blocks or _plan.blocking("backprop_filter", "depthwise", g, x.dtype.itemsize)
        df = _output(shape, x.dtype, out)
        part = _partials(df, blocks["chunks"])
        _gemm.backprop_filter_depthwise(_nwc(x, ncw), _nwc(dy, ncw), part, g.stride,
                                        g.dilation, g.pad_before, blocks["block"], _threads(g))
        return _add_partials(part, df)
    if kernel == "im2col":
        blocks = blocks or _plan.blocking("backprop_filter", "im2col", g, x.dtype.itemsize,
                                          data_format)
        if not (blocks["inplace"] and not ncw) and not _edges_finite(dy, g, ncw):
            # its gathered columns hold the zeros past the signal, and 0 * inf is NaN where the
            # definition has no term: the direct kernel forms only the definition's products
            # (the in-place GEMMs per tap multiply only the rows on the signal)
            kernel = "direct"
    if kernel == "im2col":
        chunks = blocks["chunks"]
        if chunks == 1:
            df = _output(shape, x.dtype, out)
            part = df.reshape((1,) + shape)
        else:
            part = np.empty((chunks,) + shape, x.dtype)
        with _filter_im2col_guard(g, blocks, ncw):
            _gemm.backprop_filter_im2col(x, dy, part,
                                         *_filter_im2col_args(g, blocks, ncw, _threads(g)))
        if chunks == 1:
            return df
        # the partials added in chunk order, element by element
        return np.add.reduce(part, axis=0, out=out)
    df = _output(shape, x.dtype, out)     # overwritten by the kernel
    args = (_nwc(x, ncw), _nwc(dy, ncw), df, g.stride, g.dilation, g.pad_before, g.groups)
    if kernel != "direct":
        raise ValueError(f"conv1dt: no conv1d_backprop_filter kernel {kernel!r}")
    if (g.groups > 1 and g.wide_channels == g.groups and g.narrow_channels > g.groups
            and 2 * g.narrow * g.taps >= g.wide
            and not _conv1d.spreads(g.groups, 1, g.narrow_channels, x.dtype.itemsize, g.narrow,
                                    g.taps, g.stride, g.dilation, g.pad_before)):
        # a channel multiplier (one input channel per group, several outputs): the input's
        # channels repeated for their outputs make it depthwise, one vector loop per tap
        # (where the repeated samples are not mostly ones no tap reads), unless the kernel
        # spreads its input rows to the outputs' channels anyway
        xm = np.repeat(args[0], g.narrow_channels // g.groups, axis=2)
        args = (xm,) + args[1:6] + (g.narrow_channels,)
    blocks = direct_blocks or _plan.blocking("backprop_filter", "direct", g, x.dtype.itemsize)
    _conv1d.backprop_filter_direct(*args, blocks["chunks"], _threads(g))
    return df


def _transpose_fir(x, f, g, ncw, out):
    """conv1d_transpose with one channel each way a group (depthwise) by the FIR kernel, one
    output phase at a time. Output ``o = q*s + r`` of phase ``r`` sums the taps ``k = k_r + j*P``
    (``P = s/gcd(s, d)``, ``k_r`` the first with ``k*d = r + p mod s``) over the inputs ``i = q +
    c_r - j*d'`` (``c_r = (r + p - k_r*d)/s``, ``d' = d/gcd(s, d)``): with the phase's taps reversed,
    a stride-1 conv1d of the input at dilation ``d'`` and padding ``(J-1)*d' - c_r``, whose outputs
    are every ``s``-th of the transpose's (computed apart and put in place at a stride above 1).
    """
    n, C, L = g.batch, g.wide_channels, g.wide
    s, d, p, K = g.stride, g.dilation, g.pad_before, g.taps
    y = _output((n, C, L) if ncw else (n, L, C), x.dtype, out)
    period, step = s // math.gcd(s, d), d // math.gcd(s, d)
    for r in range(min(s, L)):
        first = [k for k in range(min(period, K)) if (k * d - r - p) % s == 0]
        phase = y[:, :, r::s] if ncw else y[:, r::s]
        if not first:
            phase[...] = 0                      # no tap reaches this phase
            continue
        k_r = first[0]
        J = (K - 1 - k_r) // period + 1
        taps = np.ascontiguousarray(f[k_r + (J - 1 - np.arange(J)) * period])
        sub = y if s == 1 else allocate(phase.shape, x.dtype)
        width = sub.shape[2] if ncw else sub.shape[1]
        _gemm.conv1d_fir(x, taps, sub, ncw, 1, step, (J - 1) * step - (r + p - k_r * d) // s,
                         _plan.fir_rows(g, width), _threads(g))
        if sub is not y:
            phase[...] = sub
    return y


def _finite(x):
    """Whether every element of ``x`` is finite (a sum is infinite or NaN when an element is, and
    costs no temporary array; one that overflows counts as not finite). Silent: the sum's own
    overflow or ``inf - inf`` is not the caller's."""
    with np.errstate(over="ignore", invalid="ignore"):
        return math.isfinite(np.add.reduce(x, axis=None))


def _block_diagonal(f, groups):
    """A grouped transpose's filter ``[K, A, G*B]`` (``A = Cout/G``, ``B = Cin/G``) as the
    filter of all channels ``[K, G*A, G*B]``, zero between the groups: ``d[k, j*A + a, j*B + b]
    = f[k, a, j*B + b]``."""
    K, A, GB = f.shape
    B = GB // groups
    d = np.zeros((K, groups, A, groups, B), f.dtype)
    j = np.arange(groups)
    d[:, j, :, j, :] = f.reshape(K, A, groups, B).transpose(2, 0, 1, 3)
    return d.reshape(K, groups * A, groups * B)


@functools.lru_cache(maxsize=64)
def _dense_transpose(g, data_format, dtype):
    """The plan of grouped transpose ``g`` without its groups (the block-diagonal kernel)."""
    return transpose_plan(g._replace(groups=1), data_format, None, dtype)


def conv1d_transpose_groups(x, f, geom, data_format, kernel=None, out=None, blocks=None):
    """conv1d_transpose with ``groups > 1`` on checked real operands, in ``data_format`` (in
    ``out`` when given).

    ``kernel`` (forced by tests, else the planner's): ``'direct'`` runs all the groups at once in
    ``transpose_grouped``; ``'flip-blas'`` conv1d's BLAS kernel on the reversed taps, in place
    (at stride 1 with a leading padding of at most ``(K-1)*d``, else the copies); ``'ola'``
    the overlap-add with the groups in place (each work item all the groups of its block of
    outputs); ``blocks``, the plan's, when given (``'ola'``, ``'flip-blas'``); ``'tiled'``
    runs the tiled kernel once per group on the group's slices of the input, filter and output
    in place, with no copy; ``'copies'`` (also ``'blas'``)
    runs :func:`conv1d_transpose` once per group, whatever kernel the planner picks for it, on
    operands first laid out group-major (``[G, N, M, Cin/G]`` or ``[G, N, Cin/G, M]``, one copy)
    so that each group's slice is contiguous, and lays the results back out in one copy.
    """
    g = geom
    _check_shapes(x, f, g, data_format, False, (g.taps, g.wide_channels // g.groups,
                                                g.narrow_channels))
    G, n, k = g.groups, g.batch, g.taps
    cin, cout = g.narrow_channels // G, g.wide_channels // G
    ncw = data_format == "NCW"
    if kernel:
        _check_kernel("transpose", kernel, g)
    kernel = kernel or _plan.choose("transpose", g, x.dtype.itemsize)
    if kernel == "block-diagonal":
        # the zeros between the groups meet every input value, and 0 * inf is NaN where the
        # definition has no term: with an input that is not finite, a kernel of the groups. An
        # output smaller than the input is checked instead, after: finite, it met no such value
        # (an infinity would have made some output infinite or NaN)
        after = g.batch * g.wide * g.wide_channels < x.size
        if after or _finite(x):
            y = _dense_transpose(g, data_format, x.dtype)(x, _block_diagonal(f, G), out)
            if not after or _finite(y):
                return y
        kernel = _plan.choose("transpose", g, x.dtype.itemsize, dense=False)
        blocks = None                   # (the plan's were the block-diagonal kernel's)
    # the groups' slices: filter rows of all Cin channels, within what the filter layout takes
    in_place = TILED and g.narrow > 0 and g.narrow_channels < _transpose.TILED_MAX_ROW
    one = g._replace(narrow_channels=cin, wide_channels=cout, groups=1)
    if kernel == "fir":
        return _transpose_fir(x, f, g, ncw, out)
    if kernel == "ola":
        # each work item's outputs group by group, the groups' channels in place
        blocks = blocks or _plan.blocking("transpose", "ola", g, x.dtype.itemsize)
        y = _output((n, g.wide_channels, g.wide) if ncw else (n, g.wide, g.wide_channels),
                    x.dtype, out)
        with _blas_on_one_thread(g):
            _gemm.transpose_ola(x, f, y, ncw, g.stride, g.dilation, g.pad_before,
                                blocks["width"], blocks["taps"], _threads(g), blocks["batch"],
                                blocks["dot"], G)
        return y
    if kernel == "depthwise":
        y = _output((n, g.wide_channels, g.wide) if ncw else (n, g.wide, g.wide_channels),
                    x.dtype, out)
        _gemm.depthwise(x, f, y, ncw, True, g.stride, g.dilation, g.pad_before,
                        _plan.depthwise_rows(g, "transpose"), _threads(g),
                        _past_the_caches(y))
        return y
    if kernel == "flip-blas" and (g.stride > 1 or _plan.flipped_pad(g) < 0):
        kernel = "copies"               # (forced where the flip does not apply)
    if kernel == "flip-blas":
        # stride 1: conv1d's BLAS kernel on the reversed taps (the filter read in place, each
        # tap's slice transposed by the GEMM), its work items blocks of groups and rows
        blocks = blocks or _plan.blocking("transpose", "flip-blas", g, x.dtype.itemsize)
        y = allocate((n, g.wide, g.wide_channels), x.dtype) if ncw or out is None else out
        with _blas_on_one_thread(g):
            _conv1d.conv1d_blas(_nwc(x, ncw), f, y, 1, g.dilation, _plan.flipped_pad(g), G,
                                blocks["rows"], _threads(g), blocks["channels"], blocks["groups"],
                                True)
        return _finish(y, ncw, out)
    if kernel == "direct":
        y = allocate((n, g.wide, g.wide_channels), x.dtype) if ncw or out is None else out
        _transpose.transpose_grouped(_nwc(x, ncw), f, y, g.stride, g.dilation, g.pad_before, G,
                                     _threads(g), _plan.grouped_rows(g))
        return _finish(y, ncw, out)
    if kernel == "tiled" and in_place:
        xw = _nwc(x, ncw)
        y = allocate((n, g.wide, g.wide_channels), x.dtype) if ncw or out is None else out
        rows, threads = _tiled_rows(one), _threads(g)
        stream = not ncw and _past_the_caches(y)
        for j in range(G):
            _transpose.transpose_tiled(xw[:, :, j * cin:(j + 1) * cin],
                                       f[:, :, j * cin:(j + 1) * cin],
                                       y[:, :, j * cout:(j + 1) * cout], g.stride, g.dilation,
                                       g.pad_before, rows, threads, stream)
        return _finish(y, ncw, out)
    if ncw:
        xg = x.reshape(n, G, cin, g.narrow).transpose(1, 0, 2, 3)
        yg = allocate((G, n, cout, g.wide), x.dtype)
    else:
        xg = x.reshape(n, g.narrow, G, cin).transpose(2, 0, 1, 3)
        yg = allocate((G, n, g.wide, cout), x.dtype)
    xg = np.ascontiguousarray(xg)
    fg = np.ascontiguousarray(f.reshape(k, cout, G, cin).transpose(2, 0, 1, 3))   # [G, K, Cout/G, Cin/G]
    run = transpose_plan(one, data_format, None, x.dtype)    # one plan serves every group
    for j in range(G):
        run(xg[j], fg[j], yg[j])
    if ncw:
        y = yg.transpose(1, 0, 2, 3).reshape(n, G * cout, g.wide)
    else:
        y = yg.transpose(1, 2, 0, 3).reshape(n, g.wide, G * cout)
    if out is None:
        return np.ascontiguousarray(y)
    out[...] = y
    return out
