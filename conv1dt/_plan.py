"""The planner: for one call of the family, the kernel, its blocking and its work items.

Every op goes through :func:`choose` (which kernel) and :func:`blocking` (its block sizes), both
functions of the geometry and the element size alone, never of the thread count, so that the bits
of a result never depend on how many threads compute it. :class:`Plan` holds the outcome for given
shapes and arguments; it is built once and called many times, and the implicit cache of
``conv1dt/_ops.py`` keeps the plans of the calls it has seen (a bounded LRU).

The rule, in terms of the shapes of the GEMMs (or vector loops) each kernel runs. A kernel's time
is its multiply-adds over its rate, and a GEMM's rate falls as any of its three dimensions gets
short (below about 16-32 the packing and the edges of the register tiles dominate): so each op
goes to the kernel whose GEMMs are long in all three dimensions for the shape at hand, and no
kernel is chosen where its work grows faster than the useful work (``s`` times the outputs, ``K``
squared, whole tiles of 64 channels for a few):

conv1d_transpose (``Cin`` narrow channels in, ``Cout`` wide out; ``T`` taps per polyphase phase)
    * ``direct``: small calls;
    * ``ola`` when the whole input spans less than one filter (``M*s < Keff``: a few frames
      overlap-added), where the kernels below would step through taps that reach no sample;
    * ``direct`` for ``Cin <= 16`` and ``Cout <= 32`` (vector loops along the width);
    * few outputs (``Cout <= 8``): ``col2im`` (one GEMM of a block of input rows with all taps,
      ``[rows, Cin] @ [Cin, K*Cout]``, then the rows of products added) when ``K*Cout >= 64``
      and ``K <= 8s`` (each output is then reached by at most 8 rows); ``ola`` (the same GEMM
      per block of outputs, with the taps in cache-sized blocks) when ``K*Cout < 64``; else
      ``blas``;
    * ``tiled`` (conv1dt's micro-kernel, tiles of 64 channels on AVX-512, 16 on AVX2) where the
      CPU has it, ``T*Cin`` is within its range and ``Cout >= 32`` (a narrower output wastes
      most of each tile);
    * ``phase`` (one GEMM per phase over its ``T`` taps stacked) when ``Cin <= 16`` and ``T >= 2``;
    * ``blas`` (one GEMM per tap, inner dimension ``Cin``) otherwise.
conv1d (``Cw`` wide channels in, ``Cn`` narrow out)
    * ``direct``: small calls;
    * at stride 1 without groups, the transpose's kernels on the reversed filter: ``flip-direct``
      for ``Cw*Cn <= 16``, ``flip-tiled`` where the tiled kernel takes ``K*Cw`` and ``Cn >= 32``
      (its tiles are 64 output channels wide on AVX-512); at stride 2,
      ``flip-direct`` still for ``Cw*Cn <= 16`` (it computes every output and keeps one in
      ``s``: twice the work, at a rate twice the im2col kernel's with one output channel);
    * ``im2col`` (blocks of rows gathered for a block of taps, one GEMM with inner dimension
      ``taps*Cw/G``: only the kept outputs are computed) when a group's ``Cw/G < 32`` (one tap's
      GEMM would be short inside) and ``K*Cw/G >= 16`` or ``Cn/G >= 32`` (the gather, one
      element per ``Cn/G`` multiply-adds, is then cheap);
    * ``direct`` for other few-channel calls (``Cw/G * Cn/G <= 16``), ``blas`` (one GEMM per tap)
      for the rest.
conv1d_backprop_filter
    * ``direct``: small calls, or groups of at most 4 channel pairs (depthwise: vector loops over
      the groups);
    * ``im2col`` otherwise: per block of taps, the gathered rows' transpose times the gradient's
      rows, ``[taps*Cw/G, rows] @ [rows, Cn/G]``, summed over a fixed partition of the rows.
depthwise (one channel per group, on both sides), conv1d and conv1d_transpose
    * ``depthwise`` for at least 32 channels: per output sample, its taps in order, each a vector
      loop across the channels (read and written in place in either layout).
conv1d_transpose with groups
    * ``direct`` (all groups at once) for ``Cout/G * Cin/G <= 16``; the ``tiled`` kernel once per
      group, in place, where it takes the group; else the groups' slices through the kernels above.
"""
import itertools
import math

import numpy as np

from ._compiled import _cpu, _transpose
from ._runtime import denormals as _denormals
from ._runtime.threads import get_num_threads

__all__ = ["Plan", "choose", "blocking", "clear_cache"]

SERIAL_MACS = 1 << 16    # multiply-adds below which a call is planned as one serial block
PARALLEL_MACS = 1 << 19  # about 1 MFLOP: below it one thread does the whole call (a parallel
                         # region and its barrier cost microseconds, and far more when another
                         # process holds a core the region waits for)
SMALL_MACS = 1 << 14     # below this the direct kernels run whatever the channels
INT_MAX = 2**31 - 1      # BLAS takes 32-bit sizes and leading dimensions
TILED = _cpu.tiled_available()
TILED_MAX_TCIN = 2048 if _cpu.tiled_isa() == "avx512" else 768
# conv1d's few-channel calls by the transpose's direct kernel up to this stride, by itemsize
FLIP_MAX_STRIDE = {4: 2, 8: 2}
# most Cw/G * Cn/G for the direct kernels; "transpose" is for conv1d_transpose with groups > 1
DIRECT_PRODUCTS = {"conv1d": 16, "backprop_filter": 4, "transpose": 16}
SCRATCH_BYTES = 1 << 18  # a thread's column or product block: about half of a 512 KiB L2
MIN_ITEMS = 8            # work items a call is split into where its shape allows


def macs(g):
    """Multiply-adds of the forward convolution ``g`` (the same for all three ops):
    ``N * M * K * Cw/G * Cn``."""
    return g.batch * g.narrow * g.taps * (g.wide_channels // g.groups) * g.narrow_channels


def phase_taps(g):
    """The most taps one polyphase phase has: ``ceil(K / (s / gcd(s, d)))``."""
    period = g.stride // math.gcd(g.stride, g.dilation)
    return -(-g.taps // period)


def flipped_pad(g):
    """The leading padding of conv1d seen as a stride-1 transpose with the taps reversed:
    ``p' = (K-1)*d - p``."""
    return (g.taps - 1) * g.dilation - g.pad_before


def _choose_transpose(g):
    cin, cout = g.narrow_channels, g.wide_channels
    fits_blas = max(cin, g.taps * cout, g.stride * cout, 1024 * g.stride) <= INT_MAX
    if macs(g) < SMALL_MACS or not fits_blas:
        return "direct"
    if g.narrow * g.stride < (g.taps - 1) * g.dilation + 1 and g.taps * cout >= 16:
        # the whole input spans less than one filter (a few frames overlap-added): the kernels
        # below would step through every phase's taps for each output, most reaching no sample
        return "ola"
    if cin <= 16 and cout <= 32:
        return "direct"
    if cout <= 8:
        if g.taps * cout >= 64 and g.taps <= 8 * g.stride:
            return "col2im"
        if g.taps * cout < 64:
            return "ola"
        return "blas"
    if TILED and phase_taps(g) * cin <= TILED_MAX_TCIN and g.narrow and cout >= 32:
        return "tiled"
    if cin <= 16 and phase_taps(g) >= 2 and phase_taps(g) * cin * cout <= INT_MAX:
        return "phase"
    return "blas"


def _depthwise(g):
    """One channel per group on both sides, at least 32 of them (fewer fill too little of each
    vector; the grouped direct kernels are then as fast), and enough work to matter."""
    return (g.groups == g.wide_channels == g.narrow_channels and g.groups >= 32
            and macs(g) >= SMALL_MACS)


def _choose_transpose_groups(g):
    cin, cout = g.narrow_channels // g.groups, g.wide_channels // g.groups
    if _depthwise(g):
        return "depthwise"
    if macs(g) < SMALL_MACS or cin * cout <= DIRECT_PRODUCTS["transpose"]:
        return "direct"
    if (TILED and phase_taps(g) * cin <= TILED_MAX_TCIN and g.narrow > 0
            and g.narrow_channels < _transpose.TILED_MAX_ROW):
        return "tiled"
    return "copies"


def _choose_conv1d(g, itemsize):
    cwg, cng = g.wide_channels // g.groups, g.narrow_channels // g.groups
    fits_blas = max(g.stride * g.wide_channels, g.narrow_channels, g.narrow,
                    g.taps * g.wide_channels, g.wide * g.wide_channels) <= INT_MAX
    if macs(g) < SMALL_MACS or not fits_blas:
        return "direct"
    if _depthwise(g):
        return "depthwise"
    flip = (g.groups == 1 and flipped_pad(g) >= 0 and g.narrow > 0 and macs(g) >= SERIAL_MACS)
    if flip and g.stride == 1:
        if cwg * cng <= DIRECT_PRODUCTS["conv1d"]:
            return "flip-direct"
        if (TILED and g.wide > 0 and g.taps * g.wide_channels <= TILED_MAX_TCIN
                and g.narrow_channels >= 32):
            return "flip-tiled"
    few = cwg * cng <= DIRECT_PRODUCTS["conv1d"]
    if few and flip and g.stride <= FLIP_MAX_STRIDE[itemsize]:
        return "flip-direct"
    if cwg < 32 and g.taps > 1 and (g.taps * cwg >= 16 or cng >= 32):
        return "im2col"
    return "direct" if few else "blas"


def _choose_backprop_filter(g):
    cwg, cng = g.wide_channels // g.groups, g.narrow_channels // g.groups
    fits_blas = max(g.narrow_channels, g.taps * g.wide_channels, g.narrow) <= INT_MAX
    if macs(g) < SMALL_MACS or not fits_blas:
        return "direct"
    if g.groups > 1 and cwg * cng <= DIRECT_PRODUCTS["backprop_filter"]:
        return "direct"
    return "im2col"


def choose(op, g, itemsize=4):
    """The kernel for ``op`` (``'transpose'``, ``'conv1d'`` or ``'backprop_filter'``) on geometry
    ``g`` with elements of ``itemsize`` bytes: the rule in the module docstring."""
    if op == "transpose":
        return _choose_transpose(g) if g.groups == 1 else _choose_transpose_groups(g)
    if op == "conv1d":
        return _choose_conv1d(g, itemsize)
    if op == "backprop_filter":
        return _choose_backprop_filter(g)
    raise ValueError(f"unknown op {op!r}")


# --- block sizes -------------------------------------------------------------------------------

def _halve_for_items(size, floor, items_of):
    """``size`` halved (not below ``floor``) until ``items_of(size) >= MIN_ITEMS``."""
    while size > floor and items_of(size) < MIN_ITEMS:
        size = max(floor, -(-size // 2))
    return size


def im2col_blocking(g, itemsize):
    """``(rows, taps)`` for the im2col kernels: taps per block so that a column row holds at
    most 4096 elements (at least one tap), and rows so that a thread's column block is about
    ``SCRATCH_BYTES`` (16 to 512 rows), fewer for at least ``MIN_ITEMS`` work items of conv1d."""
    cwg = max(g.wide_channels // g.groups, 1)
    taps = max(1, min(g.taps, 4096 // cwg))
    rows = max(16, min(512, SCRATCH_BYTES // (itemsize * taps * cwg)))
    rows = _halve_for_items(rows, 16, lambda r: g.groups * -(-(g.batch * g.narrow) // r))
    return rows, taps


def filter_chunks(g, rows, taps):
    """Chunks of the ``N*M`` rows for the im2col filter gradient: enough for ``MIN_ITEMS``
    work items with the groups and tap blocks, at most one per block of rows, and partial filters
    of at most 2**20 elements beyond the first. A function of the shape alone."""
    size = g.taps * (g.wide_channels // g.groups) * g.narrow_channels
    others = g.groups * -(-g.taps // taps)
    chunks = -(-MIN_ITEMS // others)
    chunks = min(chunks, max(1, -(-(g.batch * g.narrow) // rows)))
    while chunks > 1 and (chunks - 1) * size > (1 << 20):
        chunks -= 1
    return max(1, chunks)


def ola_blocking(g, itemsize):
    """``(width, taps)`` for the overlap-add kernel: the most taps per block (halving) for which
    a block of outputs about 256 input rows wide (and at least 3 times the taps' span, so that at
    most a quarter of the rows multiplied fall outside it) needs a product block of at most
    ``SCRATCH_BYTES``; then the width halved (down to the taps' span) for ``MIN_ITEMS`` items."""
    d, s, co = g.dilation, g.stride, g.wide_channels
    taps = g.taps
    while True:
        width = max(3 * (taps - 1) * d, 256 * s, 64)
        rows = (width - 1 + (taps - 1) * d) // s + 2
        if rows * taps * co * itemsize <= SCRATCH_BYTES or taps == 1:
            break
        taps = -(-taps // 2)
    width = min(width, max(g.wide, 1))
    width = _halve_for_items(width, max(64, (taps - 1) * d),
                             lambda w: g.batch * -(-g.wide // w))
    return width, taps


def blocking(op, kernel, g, itemsize):
    """The block sizes of ``kernel`` for ``op`` on ``g``, as a dict (empty for kernels that
    derive their own)."""
    if kernel == "im2col":
        rows, taps = im2col_blocking(g, itemsize)
        if op == "backprop_filter":
            return {"rows": rows, "taps": taps, "chunks": filter_chunks(g, rows, taps)}
        return {"rows": rows, "taps": taps}
    if kernel == "ola":
        width, taps = ola_blocking(g, itemsize)
        return {"width": width, "taps": taps}
    if kernel == "depthwise":
        return {"rows": depthwise_rows(g, op)}
    return {}


def depthwise_rows(g, op):
    """Output samples per work item of the depthwise kernel: 256, fewer (down to 16) for at least
    ``MIN_ITEMS`` items."""
    width = g.wide if op == "transpose" else g.narrow
    return _halve_for_items(256, 16, lambda r: g.batch * -(-width // r))


def threads(g):
    """One thread for a call of less than about 1 MFLOP (a parallel region would cost more than
    it saves), else the thread count in force (read at each call)."""
    return 1 if macs(g) < PARALLEL_MACS else get_num_threads()


# --- plans -------------------------------------------------------------------------------------

_OPS = {"transpose": "conv1d_transpose", "conv1d": "conv1d",
        "backprop_filter": "conv1d_backprop_filter"}


class Plan:
    """One call of the family, planned: call it with new operands of the same shapes and dtype.

    Built by :func:`conv1dt.plan` (or implicitly by the ops, which keep the plans of the calls
    they have seen). It holds the geometry, the kernel and its block sizes; ``repr`` says which.
    Calling it checks only the operands' shapes and dtype.
    """

    __slots__ = ("op", "geometry", "data_format", "dtype", "kernel", "blocks", "_run", "_quick",
                 "_shapes", "out_shape", "_used")

    def __init__(self, op, geometry, data_format, dtype, shapes, out_shape, run, kernel, blocks):
        self.op = op
        self.geometry = geometry
        self.data_format = data_format
        self.dtype = np.dtype(dtype)
        self.kernel = kernel
        self.blocks = blocks
        self.out_shape = tuple(out_shape)
        self._shapes = shapes
        self._run = run
        self._quick = None     # run(a, b) on C-contiguous operands of the kernel's dtype, if any
        self._used = 0         # the cache's clock at its last use

    def __call__(self, a, b, out=None):
        """The op on operands ``a`` and ``b`` (the op's first two array arguments), into ``out``
        when given (an array of the output's shape and dtype, written in place and returned)."""
        a = np.asarray(a)
        b = np.asarray(b)
        if ((a.shape, b.shape) != self._shapes or not np.can_cast(a.dtype, self.dtype, "equiv")
                or not np.can_cast(b.dtype, self.dtype, "equiv")):
            raise ValueError(
                f"this plan computes {_OPS[self.op]} on operands of shapes {self._shapes[0]} and "
                f"{self._shapes[1]} and dtype {self.dtype}, not {a.shape} {a.dtype} and "
                f"{b.shape} {b.dtype}")
        if out is not None:
            check_out(out, self.out_shape, self.dtype, (a, b))
        if _denormals.ever:
            return _denormals.run(self._run, a, b, out)
        return self._run(a, b, out)

    def __repr__(self):
        g = self.geometry
        split = ", ".join(f"{k}={v}" for k, v in self.blocks.items())
        return (f"<conv1dt plan: {_OPS[self.op]} {self._shapes[0]} x {self._shapes[1]} -> "
                f"{self.out_shape} {self.dtype}, {self.data_format}, stride {g.stride}, dilation "
                f"{g.dilation}, pad_before {g.pad_before}, groups {g.groups}; kernel "
                f"{self.kernel!r}{' (' + split + ')' if split else ''}>")


def check_out(out, shape, dtype, operands):
    """Refuse an ``out`` that is not a writeable C-contiguous ndarray of ``shape`` and ``dtype``
    sharing no memory with the operands."""
    if type(out) is not np.ndarray:
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape) or out.dtype != dtype:
        raise ValueError(f"out must have shape {tuple(shape)} and dtype {np.dtype(dtype)}, got "
                         f"{out.shape} and {out.dtype}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError("out must be writeable and C-contiguous")
    for a in operands:
        if np.may_share_memory(out, a):
            raise ValueError("out must not share memory with the operands")


# The implicit cache: plans of calls already checked, by their op and arguments. A hit stamps
# its plan with the next tick of a clock (cheaper than reordering the dict: a key is a nested
# tuple, whose hash is not cached); when the cache is full, the plan with the oldest stamp goes.
CACHE_MAX = 256
_cache = {}
_clock = itertools.count()


def keep(key, plan):
    """Keep ``plan`` for ``key``, dropping the least recently used beyond ``CACHE_MAX``."""
    try:
        hash(key)
    except (TypeError, ValueError):
        return
    plan._used = next(_clock)
    _cache[key] = plan
    while len(_cache) > CACHE_MAX:
        try:
            oldest = min(_cache.items(), key=lambda kv: kv[1]._used)[0]
            del _cache[oldest]
        except (KeyError, ValueError, RuntimeError):   # changed meanwhile by another thread
            break


def clear_cache():
    """Forget every plan the ops have kept (they are rebuilt on the next call)."""
    _cache.clear()
