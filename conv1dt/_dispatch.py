"""The one place that picks a kernel for a call.

The rule, measured on the benchmark machine (see the docs' "How conv1dt computes it"):

* ``direct`` when ``Cin <= 16`` and ``Cout <= 32``, or the call is small: polyphase, vectorised
  along the width, each output summing only the taps that reach it, in vector registers;
* ``col2im`` when ``Cout <= 8`` and ``K*Cout >= 64`` (few outputs from many inputs and taps, as in
  overlap-add synthesis): per block one GEMM of the input rows with all taps at once, then each
  row of products added to the outputs it reaches, rows in order;
* ``tiled`` otherwise, when the CPU has AVX-512 and a phase's taps times the input channels,
  ``T*Cin``, is at most 2048: conv1dt's own micro-kernel (conv1dt/_tiled.h), tiles of 6 output
  rows by 64 channels in registers, input rows read in place (1.0x to 1.4x the speed of the
  BLAS kernels there, the most with few input channels; at ``T*Cin = 2048`` they tie); on a CPU
  with AVX2 but not AVX-512, tiles of 6 rows by 16 channels up to ``T*Cin = 768`` (1.0x to 1.5x
  OpenBLAS's Haswell kernels; at 1024 they tie in float32 and BLAS is 8 % faster in float64);
* ``phase`` when ``Cin <= 16`` and a polyphase phase has at least two taps (few inputs to many
  outputs): per block and phase one GEMM over the phase's taps stacked, inner dimension
  ``T*Cin`` instead of ``Cin`` (1.2x to 1.5x faster than ``blas`` there, slower from
  ``Cin = 32`` on, where one tap's GEMM is already long enough);
* ``blas`` otherwise (many channels): one GEMM per (block, tap) accumulating straight into the
  output rows, with leading dimension ``s*Cout``.

All of them run on conv1dt's own OpenMP threads over blocks of outputs fixed by the shape alone, so
the result does not depend on the thread count; the BLAS kernels keep SciPy's OpenBLAS on one
thread meanwhile, so the two pools never oversubscribe the cores.
"""
import math
import sys
import threading

import numpy as np

from . import _family, _kernels
from ._blas import single_threaded_blas
from ._threads import get_num_threads

__all__ = ["allocate", "choose_kernel", "conv1d_transpose", "transpose_plan", "choose_family_kernel", "conv1d",
           "conv1d_backprop_filter", "conv1d_transpose_groups"]

SERIAL_MACS = 1 << 16    # multiply-adds below which one thread does the whole call
SMALL_MACS = 1 << 14     # below this the direct kernel runs whatever the channels
COL2IM_ROWS = 256        # input rows per GEMM in the col2im kernel
TILED = _kernels.tiled_available()
# conv1d's few-channel calls by the transpose's direct kernel up to this stride, by itemsize
# (measured against conv1d's own direct kernel: beyond, the s-fold work costs more than it saves)
FLIP_MAX_STRIDE = {4: 4, 8: 2}
# the tiled kernel up to this T*Cin (measured: beyond, BLAS ties or wins)
TILED_MAX_TCIN = 2048 if _kernels.tiled_isa() == "avx512" else 768
PHASE_BUFFER = 1 << 18   # elements of input copied per thread in the phase kernel
BLAS_ROWS = 256          # output rows per GEMM block in conv1d's BLAS kernel
INT_MAX = 2**31 - 1      # BLAS takes 32-bit sizes and leading dimensions


# Large outputs come from a small pool of memory blocks that conv1dt reuses once every array
# viewing a block is gone. A fresh large array costs a page fault per page on its first write
# (about 0.1 ms per MiB here, and tens of milliseconds when the kernel compacts memory for huge
# pages); a reused block is already mapped. TensorFlow's and JAX's allocators do the same.
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


def allocate(shape, dtype):
    """An uninitialised C-contiguous array (``np.empty(shape, dtype)``; from 4 to 128 MiB, a view
    of a pooled block), or a MemoryError that says how much was asked for, raised before any work
    is done."""
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize
    for n in shape:
        nbytes *= n
    try:
        if nbytes < POOL_MIN_BYTES or nbytes > POOL_MAX_BYTES // 2:
            return np.empty(shape, dtype=dtype)
        return _from_pool(nbytes).view(dtype).reshape(shape)
    except (MemoryError, ValueError):  # ValueError: larger than the address space
        raise MemoryError(f"conv1dt: cannot allocate the output of shape {tuple(shape)} and dtype "
                          f"{dtype} ({nbytes / 2**30:.3g} GiB)") from None


def _macs(g):
    """Multiply-adds of the forward convolution ``g`` (the same for all three ops):
    ``N * M * K * Cw/G * Cn``."""
    return g.batch * g.narrow * g.taps * (g.wide_channels // g.groups) * g.narrow_channels


def _threads(g):
    """One thread for a small call (a parallel region would cost more than it saves), else all."""
    return 1 if _macs(g) < SERIAL_MACS else get_num_threads()


def _nwc(a, ncw):
    """``a`` in NWC, C-contiguous (a copy when it is NCW)."""
    return np.ascontiguousarray(a.transpose(0, 2, 1)) if ncw else a


def _strip(stride, cout):
    """Outputs per polyphase strip in the direct kernel: a block of ``stride*strip`` outputs of
    ``cout`` channels should stay in L1 while its ``stride`` phases fill it in (about 8192
    elements), with strips of 32 to 256 outputs (a multiple of the kernel's 32-wide tiles)."""
    return max(32, min(256, 8192 // (stride * max(cout, 1))) // 32 * 32)


def _blas_rows(g, itemsize):
    """Input rows per (block, tap) GEMM in the BLAS kernel: as many as keep the block's output
    rows (``rows*s*Cout`` elements) within about 2 MiB (L2), 64 to 1024, and at least 4 blocks
    in the call where the shape allows. A function of the shape alone, never of the thread count,
    so the bits never depend on it."""
    rows = max(64, min(1024, (1 << 21) // (g.stride * g.wide_channels * itemsize)))
    while rows > 64 and g.batch * -(-g.narrow // rows) < 4:
        rows //= 2
    return rows


def _tiled_rows(g):
    """Outputs per phase in a work item of the tiled kernel: about 192 (each filter panel then
    serves 32 tiles of 6 rows while it is in cache), fewer for at least 8 work items where the
    shape allows; then evened out over the blocks of a phase, a multiple of 6, so that the work
    items are about equal (blocks of 192 and a last one of 64 left a thread idle at the end of
    each chunk: 16,1024,256,256,3,1 float32 at 2 threads 19.6 -> 18.7 ms). A function of the
    shape alone."""
    rows = 192
    while rows > 24 and g.batch * -(-g.wide // (g.stride * rows)) < 8:
        rows //= 2
    q = -(-g.wide // g.stride)                  # outputs per phase
    return -(-q // -(-q // rows) // 6) * 6 if q > 0 else rows


def _phase_taps(g):
    """The most taps one polyphase phase has: ``ceil(K / (s / gcd(s, d)))``."""
    period = g.stride // math.gcd(g.stride, g.dilation)
    return -(-g.taps // period)


def _phase_rows(g):
    """Outputs per phase in a work item of the phase kernel: as many as keep the thread's copy of
    the input rows (``rows * T * Cin`` elements) within about ``PHASE_BUFFER`` elements, 16 to
    512, and at least 8 work items in the call where the shape allows. A function of the shape
    alone, never of the thread count, so the bits never depend on it."""
    rows = max(16, min(512, PHASE_BUFFER // max(_phase_taps(g) * g.narrow_channels, 1)))
    while rows > 16 and g.batch * -(-g.wide // (g.stride * rows)) < 8:
        rows //= 2
    return rows


def choose_kernel(g, itemsize=4):
    """``'direct'``, ``'col2im'``, ``'tiled'``, ``'phase'`` or ``'blas'`` for geometry ``g`` and
    elements of ``itemsize`` bytes (the rule in the module doc)."""
    cin, cout = g.narrow_channels, g.wide_channels
    fits_blas = max(cin, g.taps * cout, g.stride * cout, 1024 * g.stride) <= INT_MAX
    if _macs(g) < SMALL_MACS or (cin <= 16 and cout <= 32) or not fits_blas:
        return "direct"
    if cout <= 8 and g.taps * cout >= 64:
        return "col2im"
    if TILED and _phase_taps(g) * cin <= TILED_MAX_TCIN and g.narrow:
        return "tiled"
    if cin <= 16 and _phase_taps(g) >= 2 and _phase_taps(g) * cin * cout <= INT_MAX:
        return "phase"
    return "blas"


def conv1d_transpose(x, f, geom, data_format, kernel=None):
    """Run conv1d_transpose on checked operands; return the result in ``data_format``.

    ``x`` is ``[N, M, Cin]`` (NWC) or ``[N, Cin, M]`` (NCW), ``f`` is ``[K, Cout, Cin]``, both
    C-contiguous of one compute dtype (float32 or float64). ``kernel`` forces a kernel (tests).
    """
    return transpose_plan(geom, data_format, kernel, x.dtype)(x, f)


def transpose_plan(geom, data_format, kernel=None, dtype=None):
    """``run(x, f)``: :func:`conv1d_transpose` on geometry ``geom`` with the kernel and its block
    sizes chosen once, so that a call repeated with new operands of the same shapes skips the
    choice (conv1dt/_ops.py keeps the plans of calls it has already checked). With ``dtype``
    (float32 or float64) the plan takes only operands of that dtype and calls the compiled
    kernel's specialisation for it directly. The thread count is read at each call."""
    g = geom
    cout = g.wide_channels
    ncw = data_format == "NCW"
    shape = (g.batch, cout, g.wide) if ncw else (g.batch, g.wide, cout)
    if 0 in shape:
        return lambda x, f: allocate(shape, x.dtype)
    if dtype is not None and dtype != np.float32 and dtype != np.float64:
        dtype = None    # not a kernel's dtype: such a plan is not kept (conv1dt/_ops.py)
    itemsize = 4 if dtype is None else np.dtype(dtype).itemsize
    kernel = kernel or choose_kernel(g, itemsize)
    if kernel == "direct":
        args = (g.stride, g.dilation, g.pad_before, _strip(g.stride, cout))
        direct = _kernels.transpose_direct
        if dtype is not None:
            direct = direct["float" if dtype == np.float32 else "double"]

        if (_macs(g) < SERIAL_MACS and dtype is not None
                and math.prod(shape) * itemsize < POOL_MIN_BYTES):
            # a small serial call: nothing to decide at all, the tap table built once
            xshape = (g.batch, g.narrow_channels, g.narrow) if ncw else (g.batch, g.narrow,
                                                                        g.narrow_channels)
            return _kernels._SmallDirect(xshape, (g.taps, cout, g.narrow_channels), shape, dtype,
                                         ncw, *args)

        def run(x, f):
            y = allocate(shape, x.dtype)
            direct(x, ncw, f, y, ncw, *args, _threads(g))
            return y
        return run

    # the BLAS and tiled kernels work in NWC and share one signature
    blocked, rows = {
        "col2im": (_kernels.transpose_col2im, COL2IM_ROWS),
        "tiled": (_kernels.transpose_tiled, _tiled_rows(g)),
        "phase": (_kernels.transpose_phase, _phase_rows(g)),
        "blas": (_kernels.transpose_blas, _blas_rows(g, itemsize)),
    }[kernel]

    def run(x, f):
        y = allocate(shape, x.dtype)
        xw = _nwc(x, ncw)
        yw = allocate((g.batch, g.wide, cout), x.dtype) if ncw else y
        with single_threaded_blas():
            blocked(xw, f, yw, g.stride, g.dilation, g.pad_before, rows, _threads(g))
        if ncw:
            y[...] = yw.transpose(0, 2, 1)
        return y
    return run


# --- the rest of the family: conv1d and conv1d_backprop_filter --------------------------------
#
# Both run on conv1dt/_family.pyx, in NWC, with groups handled inside the kernels. The rule,
# measured on the benchmark machine (2 cores, float32, N=4, L=8192):
#
# * ``direct`` when the call is small, or a group's channels are few: ``Cw/G * Cn/G`` at most 16
#   for conv1d, at most 4 for conv1d_backprop_filter (depthwise: 0.16 ms direct against 1.4 ms by
#   BLAS for 64 channels; with 4 x 4 channels the two conv1d kernels tie, and the filter
#   gradient is 6x faster by BLAS). A gather over the taps, channels innermost.
# * ``blas`` otherwise (5 to 10x faster than direct from 16 x 16 channels on): conv1d as one GEMM
#   per (block of rows, tap, group) with input leading dimension ``s*Cw``;
#   conv1d_backprop_filter as one GEMM per (tap, block of output channels, batch element).
#
# conv1d_transpose with groups > 1 follows the same rule with ``Cout/G * Cin/G`` at most 16 for
# its direct kernel (all groups at once); otherwise the tiled kernel once per group, in place,
# where the CPU has it and ``T*Cin/G <= TILED_MAX_TCIN``, else conv1d_transpose above once per
# group on group-major copies.

# most Cw/G * Cn/G for the direct kernels; "transpose" is for conv1d_transpose with groups > 1
DIRECT_PRODUCTS = {"conv1d": 16, "backprop_filter": 4, "transpose": 16}
FILTER_BLOCKS = (256, 128, 64)   # output channels per work item in backprop_filter_blas ...
FILTER_ITEMS = 4                 # ... the widest that still gives this many work items
CHUNK_ROWS = 512          # (batch, position) rows per chunk in backprop_filter_direct
MAX_CHUNKS = 64           # ... at most this many chunks ...
PARTIAL_ELEMS = 1 << 21   # ... holding at most this many partial filter elements in all


def choose_family_kernel(g, op):
    """``'direct'`` or ``'blas'`` for ``op`` (``'conv1d'``, ``'backprop_filter'`` or, with groups,
    ``'transpose'``) on geometry ``g`` (the rule above)."""
    cwg, cng = g.wide_channels // g.groups, g.narrow_channels // g.groups
    fits_blas = max(g.stride * g.wide_channels, g.narrow_channels, g.narrow) <= INT_MAX
    if _macs(g) < SMALL_MACS or cwg * cng <= DIRECT_PRODUCTS[op] or not fits_blas:
        return "direct"
    return "blas"


def _flipped(f):
    """conv1d's filter ``[K, Cw, Cn]`` as the transpose's ``[K, Cn, Cw]``, taps reversed."""
    return np.ascontiguousarray(f[::-1].transpose(0, 2, 1))


def conv1d(x, f, geom, data_format, kernel=None):
    """Run conv1d on checked operands; return the result in ``data_format``.

    ``x`` is the wide signal ``[N, L, Cw]`` (NWC) or ``[N, Cw, L]`` (NCW), ``f`` is
    ``[K, Cw/G, Cn]``, both C-contiguous of one compute dtype (float32 or float64). ``kernel``
    forces a kernel (tests).
    """
    g = geom
    ncw = data_format == "NCW"
    kernel = kernel or choose_family_kernel(g, "conv1d")
    flipped_pad = (g.taps - 1) * g.dilation - g.pad_before
    flip = g.groups == 1 and flipped_pad >= 0 and g.narrow > 0 and _macs(g) >= SERIAL_MACS
    # At stride 1, conv1d is conv1d_transpose with the taps reversed and the filter's channel axes
    # swapped: z[i] = sum_k w[i + k*d - p] f[k] = sum_k' w[i - k'*d + p'] f[K-1-k'],
    # p' = (K-1)*d - p, so the transpose's kernels run it (not a small call: reversing the
    # filter costs more there than it saves; a tiny call stays at about 3 us).
    if flip and kernel == "direct" and g.stride <= FLIP_MAX_STRIDE[x.dtype.itemsize]:
        # The direct kernel (polyphase, vectorised along the width), in either layout:
        # 8,65536,4,4,8 float32 32.7 -> 1.6 ms at 2 threads. At stride s it computes the stride-1
        # result at every output and keeps every s-th: s times the work, still faster than
        # conv1d's own direct kernel up to s = 4 in float32 (9.4 -> 3.8 ms at s = 2, 4.4 -> 2.7
        # at s = 4) and s = 2 in float64 (12 -> 7.9 ms).
        full = (g.narrow - 1) * g.stride + 1
        shape = (g.batch, g.narrow_channels, full) if ncw else (g.batch, full, g.narrow_channels)
        y = allocate(shape, x.dtype)
        _kernels.transpose_direct(x, ncw, _flipped(f), y, ncw, 1, g.dilation, flipped_pad,
                                  _strip(1, g.narrow_channels), _threads(g))
        if g.stride == 1:
            return y
        return np.ascontiguousarray(y[:, :, ::g.stride] if ncw else y[:, ::g.stride])
    if (flip and kernel == "blas" and g.stride == 1 and g.wide > 0 and TILED
            and g.taps * g.wide_channels <= TILED_MAX_TCIN):
        # The tiled kernel, with many channels: 1.2 to 1.4 times conv1d's BLAS kernel.
        y = allocate((g.batch, g.narrow, g.narrow_channels), x.dtype)
        _kernels.transpose_tiled(_nwc(x, ncw), _flipped(f), y, 1, g.dilation, flipped_pad,
                                 _tiled_rows(g._replace(wide=g.narrow)), _threads(g))
        return np.ascontiguousarray(y.transpose(0, 2, 1)) if ncw else y
    y = allocate((g.batch, g.narrow, g.narrow_channels), x.dtype)
    if y.size:
        args = (_nwc(x, ncw), f, y, g.stride, g.dilation, g.pad_before, g.groups)
        if kernel == "direct":
            _family.conv1d_direct(*args, _threads(g))
        else:
            with single_threaded_blas():
                _family.conv1d_blas(*args, BLAS_ROWS, _threads(g))
    return np.ascontiguousarray(y.transpose(0, 2, 1)) if ncw else y


def filter_chunks(g):
    """Chunks of the (batch, position) rows in backprop_filter_direct, from the shape alone:
    about ``CHUNK_ROWS`` rows each, at most ``MAX_CHUNKS``, and partials of at most
    ``PARTIAL_ELEMS`` elements in all."""
    size = max(g.taps * (g.wide_channels // g.groups) * g.narrow_channels, 1)
    return max(1, min(g.batch * g.narrow // CHUNK_ROWS, MAX_CHUNKS, PARTIAL_ELEMS // size))


def _filter_block(g):
    """Output channels per work item of backprop_filter_blas: the widest of ``FILTER_BLOCKS``
    that leaves at least ``FILTER_ITEMS`` items (taps x groups x blocks), from the shape alone.
    Wider blocks are longer GEMMs: 16,1024,256,256,3,1 float32 at 2 threads 37.2 -> 30.6 ms with
    128 instead of 64, 4,2048,512,256,16,8 26.4 -> 17.4 ms with 256."""
    cng = g.narrow_channels // g.groups
    for block in FILTER_BLOCKS:
        if g.taps * g.groups * -(-cng // block) >= FILTER_ITEMS:
            return block
    return FILTER_BLOCKS[-1]


def conv1d_backprop_filter(x, dy, geom, data_format, kernel=None):
    """Run conv1d_backprop_filter on checked operands; return ``[K, Cw/G, Cn]``.

    ``x`` is the wide signal and ``dy`` the narrow one, in ``data_format``, C-contiguous of one
    compute dtype (float32 or float64). ``kernel`` forces a kernel (tests).
    """
    g = geom
    ncw = data_format == "NCW"
    df = np.zeros((g.taps, g.wide_channels // g.groups, g.narrow_channels), dtype=x.dtype)
    if df.size == 0 or g.batch * g.narrow == 0:
        return df
    kernel = kernel or choose_family_kernel(g, "backprop_filter")
    args = (_nwc(x, ncw), _nwc(dy, ncw), df, g.stride, g.dilation, g.pad_before, g.groups)
    if kernel == "direct":
        _family.backprop_filter_direct(*args, filter_chunks(g), _threads(g))
    else:
        with single_threaded_blas():
            _family.backprop_filter_blas(*args, _filter_block(g), _threads(g))
    return df


def conv1d_transpose_groups(x, f, geom, data_format, kernel=None):
    """conv1d_transpose with ``groups > 1`` on checked real operands, in ``data_format``.

    ``kernel`` (forced by tests, else :func:`choose_family_kernel`): ``'direct'`` runs all the
    groups at once in ``transpose_grouped`` (few channels per group: 0.6 ms for 64 depthwise
    channels, N=4, M=4096, K=5, s=2, where a call per group costs 13 ms; with 8 x 8 channels per
    group the two tie); ``'blas'`` runs :func:`conv1d_transpose` once
    per group, whatever kernel that picks, on operands first laid out group-major
    (``[G, N, M, Cin/G]`` or ``[G, N, Cin/G, M]``, one copy) so that each group's slice is
    contiguous, and lays the results back out in one copy. In place of ``'blas'``, where the
    CPU has the tiled kernel and ``T*Cin/G`` is within its range (and when ``'tiled'`` is forced,
    if the input has a row), the tiled kernel runs once per group on the group's slices of the
    input, filter and output in place, with no copy: N=4, M=4096, 256 channels, K=4, s=2,
    float32, 2 threads, in 4 groups 21.5 -> 7.6 ms, in 16 groups 24 -> 8.2 ms, in 32 groups
    30 -> 11.9 ms (the direct kernel: 18.8 ms).
    """
    g = geom
    G, n, k = g.groups, g.batch, g.taps
    cin, cout = g.narrow_channels // G, g.wide_channels // G
    ncw = data_format == "NCW"
    if kernel is None:
        kernel = choose_family_kernel(g, "transpose")
        if kernel == "blas" and TILED and _phase_taps(g) * cin <= TILED_MAX_TCIN:
            kernel = "tiled"
    # the groups' slices: filter rows of all Cin channels, within what the filter layout takes
    in_place = TILED and g.narrow > 0 and g.narrow_channels < _kernels.TILED_MAX_ROW
    one = g._replace(narrow_channels=cin, wide_channels=cout, groups=1)
    if kernel == "direct":
        y = allocate((n, g.wide, g.wide_channels), x.dtype)
        _family.transpose_grouped(_nwc(x, ncw), f, y, g.stride, g.dilation, g.pad_before, G,
                                  _threads(g))
        return np.ascontiguousarray(y.transpose(0, 2, 1)) if ncw else y
    if kernel == "tiled" and in_place:
        xw = _nwc(x, ncw)
        y = allocate((n, g.wide, g.wide_channels), x.dtype)
        rows, threads = _tiled_rows(one), _threads(g)
        for j in range(G):
            _kernels.transpose_tiled(xw[:, :, j * cin:(j + 1) * cin], f[:, :, j * cin:(j + 1) * cin],
                                     y[:, :, j * cout:(j + 1) * cout], g.stride, g.dilation,
                                     g.pad_before, rows, threads)
        return np.ascontiguousarray(y.transpose(0, 2, 1)) if ncw else y
    if ncw:
        xg = x.reshape(n, G, cin, g.narrow).transpose(1, 0, 2, 3)
        yg = allocate((G, n, cout, g.wide), x.dtype)
    else:
        xg = x.reshape(n, g.narrow, G, cin).transpose(2, 0, 1, 3)
        yg = allocate((G, n, g.wide, cout), x.dtype)
    xg = np.ascontiguousarray(xg)
    fg = np.ascontiguousarray(f.reshape(k, cout, G, cin).transpose(2, 0, 1, 3))   # [G, K, Cout/G, Cin/G]
    for j in range(G):
        yg[j] = conv1d_transpose(xg[j], fg[j], one, data_format)
    if ncw:
        return np.ascontiguousarray(yg.transpose(1, 0, 2, 3)).reshape(n, G * cout, g.wide)
    return np.ascontiguousarray(yg.transpose(1, 2, 0, 3)).reshape(n, g.wide, G * cout)
