"""The planner: for one call of the family, the kernel, its blocking and its work items.

Every op goes through :func:`choose` (which kernel) and :func:`blocking` (its block sizes), both
functions of the geometry and the element size alone, never of the thread count, so that the bits
of a result never depend on how many threads compute it. :class:`Plan` holds the outcome for given
shapes and arguments; it is built once and called many times, and the implicit cache of
``conv1dt/_ops.py`` keeps the plans of the calls it has seen (a bounded LRU). A call whose taps
or samples are a quarter or more idle (linked to no sample) is planned on the part that has
links (``conv1dt/_bounds.py``, :func:`~conv1dt._bounds.crop`), so the geometry seen here is
that part's.

The rule, in terms of the shapes of the GEMMs (or vector loops) each kernel runs. A kernel's time
is its multiply-adds over its rate, and a GEMM's rate falls as any of its three dimensions gets
short (below about 16-32 the packing and the edges of the register tiles dominate): so each op
goes to the kernel whose GEMMs are long in all three dimensions for the shape at hand, and no
kernel is chosen where its work grows faster than the useful work (``s`` times the outputs, ``K``
squared, whole tiles of 64 channels for a few):

conv1d_transpose (``Cin`` narrow channels in, ``Cout`` wide out; ``T`` taps per polyphase phase)
    * ``direct``: small calls with at most ``SMALL_DIRECT_PRODUCTS`` channel pairs, ``blas``
      for small calls with more; ``ola`` where the direct kernel's strips would be mostly idle
      (:func:`_direct_wasteful`: a few frames a batch element, a filter far past the input);
    * ``blas`` with the dot GEMM for a few frames in all (``N*M <= DOT_MAX_ROWS``, ``Cin >=
      DOT_MIN_CIN``, ``Cout >= 16``, AVX-512): it reads each tap's filter once for all of them, where
      the kernels below would pack or lay it out for them; in float32 from ``DOT_TILED_MIN_ROWS``
      rows of ``DOT_TILED_MIN_FRAMES`` frames a batch element, ``tiled`` (:func:`_dot_tiled`);
    * ``ola`` when the whole input spans less than half a filter (``2*M < T``: a few frames
      overlap-added), where the kernels below would step through taps that reach no sample;
      with ``Cin <= 16`` and ``Cout <= 32`` only below an eighth of a filter (``8*M < T``);
      not for ``Cin <= 64`` with ``Cout >= 32`` and 2 frames or more a batch element where the
      tiled kernel runs; ``blas`` instead for ``Cin >= 32`` and ``Cout >= 64`` (any filter;
      until the thirtieth round beyond ``OLA_MAX_FILTER_BYTES``, 4 MiB), or one frame in all
      under a filter beyond it; ``tiled`` for the rest from 32 outputs where it runs
      (:func:`_few_frames_tiled`);
    * ``direct`` for ``Cin <= 16`` and ``Cout <= 32`` (vector loops along the width), ``ola``
      where its strips would be mostly idle (as for small calls);
    * few outputs (``Cout <= 8``): ``ola`` (one GEMM per block of outputs with the taps in
      cache-sized blocks, then the products overlap-added) when ``K*Cout < 64``; else
      ``col2im`` (one GEMM of a block of input rows with all taps, ``[rows, Cin] @ [Cin,
      K*Cout]``, then the rows of products added) where its block fits (:func:`col2im_rows`:
      a block of at least ``(K-1)*d/s`` rows, whose products take at most ``COLUMN_BYTES``),
      else ``blas``;
    * ``tiled`` (conv1dt's micro-kernel, tiles of 64 channels on AVX-512, 16 on AVX2) where the
      CPU has it, ``T*Cin`` is within its range and ``Cout >= 32`` (a narrower output wastes
      most of each tile); on AVX2 not one tap at a stride from ``ONE_TAP_BLAS_MAX_CIN`` input
      channels or fewer (``blas``);
    * ``phase`` (one GEMM per phase over its ``T`` taps stacked) when ``Cin <= 16`` and ``T >= 2``;
    * ``col2im`` for fewer than 32 outputs (not enough for the tiled kernel's tiles, and one
      tap's GEMM of BLAS would be narrow) with ``K*Cout >= 64``, where its block fits;
    * ``blas`` (one GEMM per tap, inner dimension ``Cin``) otherwise, its items split further by
      the residue of the output position mod ``s`` and by blocks of output channels
      (:func:`blas_blocking`) so that a batch-1 call of a few frames still spreads over threads;
    * with groups, ``_choose_transpose_groups`` (``ola`` with the groups in place for 20+
      inputs and at most 16 outputs a group, :func:`_grouped_ola`), and ``block-diagonal``
      where that gives the grouped direct kernel, the copies or the overlap-add for at most 8
      groups and 1024 channel pairs (:func:`block_diagonal`: the ungrouped kernels on the
      groups' filters laid on a diagonal).
conv1d (``Cw`` wide channels in, ``Cn`` narrow out)
    * ``fir`` for one channel each way, or one a group (depthwise) in NCW or with at most 8
      groups in NWC, from ``FIR_MIN_MACS`` multiply-adds (:func:`fir_channels`): per channel,
      block of outputs and residue of the input position mod ``s``, the residue's taps in vector
      registers along the outputs, only the kept outputs computed, only the taps that reach the
      signal;
    * ``polyphase`` without groups at a stride, not small, for at most ``POLYPHASE_MAX_CN``
      output channels and ``POLYPHASE_MAX_PRODUCTS`` channel pairs (by itemsize), a stride of
      at most ``POLYPHASE_MAX_STRIDE`` and ``s*Cw <= POLYPHASE_MAX_ROWS``, from
      ``FLIP_MIN_OUTPUTS`` outputs a batch element: only the kept
      outputs, each block's input copied by phase so that every tap reads a run of it, by the
      transpose's direct strips;
    * without groups, the transpose's kernels on the reversed filter: ``flip-direct`` for
      ``Cw*Cn <= 16`` at stride 1, and small calls at stride 2 (computing every output and
      keeping one in ``s``), from ``FLIP_MIN_OUTPUTS`` outputs a batch element;
    * ``direct``: other small calls with ``Cw/G * Cn/G <= 16`` (or one channel each way a
      group); other small calls ``im2col`` (``blas`` for one tap): one small GEMM is faster
      than the direct gather's channel loops per output and tap;
    * ``flip-tiled`` at stride 1 without groups where the tiled kernel takes ``K*Cw``, ``Cn
      >= 32`` (its tiles are 64 output channels wide on AVX-512) and there are at least
      ``FLIP_TILED_MIN_ROWS`` outputs in all (it lays out the whole filter at each call);
      on AVX2 not one tap with ``ONE_TAP_BLAS_MIN_CN`` outputs or more (a plain GEMM, BLAS's);
    * ``polyphase`` also for at most 16 channel pairs (not one each way) at a stride and a
      dilation above 1 from 4 taps a residue and 32 outputs a batch element (im2col's gather
      would copy each tap's few channels on their own);
    * ``direct`` for groups of one channel each way (depthwise with fewer than 32 channels:
      im2col's GEMM would have one column);
    * with other groups: ``im2col`` for groups of few channels (at most 8 outputs a group)
      whose output rows fill a vector, with 8 outputs a batch element and ``K >= 8*s`` (``K >=
      2*s`` for at most 4 channel pairs), for ``Cw/G < 32`` and ``Cn/G >= 32``, or ``K*Cw/G >=
      16`` from 8 taps unless ``Cw/G >= 16`` and ``Cn/G >= 8``, and for few channels from 8
      taps; else ``blas`` (one small GEMM per tap and group); on AVX2, from
      ``GROUPED_DIRECT_MIN_GROUPS`` groups, ``direct`` where that gives ``im2col`` for few
      channels (not float64 with 7+ outputs a group) or ``blas`` for a channel multiplier (one
      input a group, at most 32 outputs); ``direct`` where that gives ``blas`` or ``im2col``
      for groups of one output each from 2+ taps, at most ``GROUP_SUM_MAX_BYTES`` of inputs a
      group, a row of ``GROUP_SUM_MIN_BYTES`` and no spread (:func:`_group_sums`: each tap's
      products along the input row, then the groups' sums);
    * without groups, ``im2col`` (blocks of rows gathered for a block of taps, one GEMM with
      inner dimension ``taps*Cw/G``: only the kept outputs are computed) when ``Cw/G < 32`` (one tap's
      GEMM would be short inside) and ``K*Cw/G >= 16`` or ``Cn/G >= 32`` (the gather, one
      element per ``Cn/G`` multiply-adds, is then cheap); with the skinny GEMM and streaming
      stores for a short inner dimension into a large output (:func:`conv1d_skinny`);
    * ``implicit`` instead of ``im2col``, ``blas`` or (with fewer than 16 input channels)
      ``flip-tiled`` (on AVX2 also instead of ``direct`` and ``polyphase``) where each
      output's window is one evenly
      spaced run of the signal (NWC, one group, dilation 1 or one channel) and the skinny GEMM
      takes the shape (:func:`conv1d_implicit`): the windows multiplied where they are, all
      taps in one product, no gather and no packing (the edges through a column matrix); and,
      on AVX-512, by the packed GEMM in place of ``im2col``, ``blas`` and ``flip-tiled``
      wherever the windows are long enough and most of them on the signal
      (:func:`implicit_packed`);
    * ``dot`` before all of these (after ``fir``) for few output channels (at most 4, or 15
      from few input channels and 7+ taps) where each output's window is one run of the
      signal (NWC, one group, dilation 1, 2+ input channels, 3+ taps) of 128 pairs to 256 KiB,
      nearly every window on the signal, on AVX-512 and AVX2 (:func:`conv1d_dot`; on AVX2 not
      where ``implicit`` has two vectors of outputs): each window times the filter's rows by
      dot products along it;
    * for other few-channel calls (``Cw/G * Cn/G <= 16``) ``blas`` on AVX2, ``im2col`` on
      AVX-512 (``blas`` for 3+ input channels and 1-2 taps), ``direct`` without either;
      ``im2col`` for fewer than
      4 outputs a batch element with a filter of 2 MiB or more (the BLAS kernel would read it
      from memory once per batch element, for GEMMs of that many rows; a block of at most
      ``FEW_ROWS`` rows reads it once by the skinny GEMM, batch 1 included on AVX-512), and
      for one output a batch element whatever the filter; ``blas`` (one GEMM per tap, at a
      stride one per block of ``s`` taps) for the rest, and on AVX2 in place of ``im2col`` and
      ``implicit`` at a stride where a block of taps holds many more (tap, channel) pairs than
      there are output channels (:func:`stacked_taps_pay`).
conv1d_backprop_filter
    * ``fir`` at dilation 1 for one channel each way (not one tap at a stride: a strided dot
      product, ``im2col`` in place), and for depthwise calls with a vector of
      taps or more in NCW or with at most 8 groups (:func:`filter_fir`): per channel, block of
      taps and chunk of rows, the C layer's FIR over the gradient (the rows at the signal's
      edges term by term); and where im2col was chosen, for the pairs of a few channels each
      way (:func:`filter_pairs`), at a dilation tap by tap; at a dilation also for depthwise
      calls of few groups or in NCW (:func:`_dilated_depthwise_firs`) and for one channel each
      way under more than 8 taps (:func:`_one_channel_dilated`), tap by tap;
    * ``depthwise`` for one channel per group from 8 taps and 64 bytes of channels
      (:func:`depthwise_filter`): blocks of 8 taps in registers over chunks of positions whose
      windows the C layer copies into columns;
    * ``direct``: small calls; other depthwise calls (vector loops over the groups; not from
      16 taps with groups filling less than half a vector); from 17 groups, groups whose rows
      the kernel spreads to the outputs' channels (``_conv1d.spreads``) with at most 8 outputs
      from 1-2 input channels or 2-4 from 3-4, other groups of at most 4 channel pairs and 4
      taps;
    * ``im2col`` otherwise: per block of taps, the gathered rows' transpose times the gradient's
      rows, ``[taps*Cw/G, rows] @ [rows, Cn/G]``, summed over a fixed partition of the rows;
      work items from chunks of rows and, where too few, blocks of taps
      (:func:`filter_split_taps`); by the skinny GEMM where ``taps*Cw/G`` is short
      (:func:`filter_skinny`), or in place for one tap or few outputs (:func:`filter_blocking`).
depthwise (one channel per group, on both sides), conv1d and conv1d_transpose
    * ``fir`` in NCW, and in NWC for at most 8 groups (:func:`fir_channels`): each channel (each
      output phase of the transpose's) a FIR;
    * ``depthwise`` for at least 32 channels (conv1d: 16), in place in either layout: in NWC by the C layer,
      the outputs whose taps all reach the signal in tiles of 8 outputs by one vector of
      channels (each tap's filter vector loaded once for the 8), the others each with its own
      taps; in NCW channel by channel.
conv1d_transpose with groups
    * ``direct`` for small calls; the ``tiled`` kernel once per group, in place, where it takes
      the group and its outputs fill the tiles (two vectors of them; one with at most 2 groups
      or ``Cin/G >= 8``; half of one with ``Cin/G >= 16`` and ``K <= 4``) and there are at least
      ``max(32, 16 + 2G)`` input rows in all;
    * for ``Cin/G < 20``: ``direct`` (whole output rows in vectors) where the output rows fill a
      vector, except a few groups (``G <= 8``) of ``Cin/G >= 8`` with ``K*Cout/G >= 100``
      (each group a GEMM: ``copies``); shorter rows: ``direct`` for at most 16 channel pairs a
      group, else ``copies`` (``tiled`` for ``Cout/G >= 4`` and ``K <= 4``);
    * from ``Cin/G >= 20``: ``direct`` (its dot GEMMs) for ``K*Cout/G <= 16`` or ``Cin/G >= 64``,
      else ``copies``:
      the groups' slices through the kernels above (one copy each way).
"""
import math
import os

import numpy as np

from ._compiled import _conv1d, _cpu, _front, _transpose
from ._geometry import links_on_signal
from ._runtime import denormals as _denormals
from ._runtime import load as _load
from ._runtime.threads import get_num_threads

__all__ = ["Plan", "choose", "blocking", "clear_cache"]

SERIAL_MACS = 1 << 16    # multiply-adds below which a call is planned as one serial block
PARALLEL_MACS = 1 << 19  # about 1 MFLOP: below it one thread does the whole call (a parallel
                         # region and its barrier cost microseconds, and far more when another
                         # process holds a core the region waits for)
SMALL_MACS = 1 << 14     # below this the direct kernels run, for few enough channels:
SMALL_DIRECT_PRODUCTS = 512   # at most this many (input, output) channel pairs (transpose)
INT_MAX = 2**31 - 1      # BLAS takes 32-bit sizes and leading dimensions
TILED = _cpu.tiled_available()
TILED_MAX_TCIN = 2048 if _cpu.tiled_isa() == "avx512" else 768
SKINNY = _cpu.cpu_isa() == "avx512"   # the skinny GEMM (filter_skinny, conv1d_skinny)
SKINNY_BAND = 8          # the skinny GEMM's rows a band (SKINNY_ROWS in the C layer)
L1_FILTER_BYTES = 32 << 10   # a filter re-read for every band of the skinny GEMM from L1
AVX2 = _cpu.cpu_isa() == "avx2"
# the filter gradient's GEMMs with a short side by the skinny GEMM (filter_short_side): AVX2 and
# AVX-512 (the SSE2 build's tiles are unmeasured there)
SHORT_SIDE = AVX2 or SKINNY
# bytes of one vector register of the C layer's instruction set
VECTOR_BYTES = {"avx512": 64, "avx2": 32}.get(_cpu.cpu_isa(), 16)
# the im2col filter gradient's GEMMs with at most this many columns run on the skinny GEMM on
# AVX2 (filter_short_side)
FILTER_SHORT_SIDE = 32
# conv1d's few-channel calls by the transpose's direct kernel up to this stride, by itemsize
FLIP_MAX_STRIDE = {4: 2, 8: 2}
# fewest outputs in all (N*M) for which conv1d runs the tiled kernel on the reversed filter: it
# lays out the whole filter at each call, and below about a thousand outputs that and its edge
# tiles cost more than the other kernels' GEMMs (docs/planner.rst)
FLIP_TILED_MIN_ROWS = 1024
# ... from this many outputs a batch element, small calls apart (a strip of the direct kernel's
# vector loops: for fewer, most of each strip is computed for nothing)
FLIP_MIN_OUTPUTS = 32
# a few channels at a dilation by the stride-1 direct kernel once per residue mod s, from this
# many taps a residue
POLYPHASE_MIN_TAPS = 4
# ... and from any taps for at most this many output channels and (input, output) channel pairs
# (float32 / float64: float64's exact per-tap dot products run 2-3x slower than float32's
# multiply-adds, where the BLAS's GEMMs run at half the rate)
POLYPHASE_MAX_CN = {4: 8, 8: 4}
POLYPHASE_MAX_PRODUCTS = {4: 64, 8: 16}
# ... at most this stride and this many rows (s*Cw) of a block's input copy: at larger strides
# (STFT-like, 1 -> 8 channels at s=128) its per-tap rows spread over more than L1 and im2col's
# one GEMM over the taps ran 1.1-2x faster
POLYPHASE_MAX_STRIDE = 16
POLYPHASE_MAX_ROWS = 32
# one channel each way by the FIR kernel from this many multiply-adds (below, the direct
# kernels' compiled plans cost less than its set-up; docs/planner.rst has the measurements)
FIR_MIN_MACS = 4096
FIR_PAIRS = 4             # channel pairs of a filter gradient the fir kernel takes one by one
FIR_PAIR_BYTES = 32       # at a dilation, the pairs' sums (and dy's channels) a row at most
FIR_GRAD_REACH = 16384   # samples a block of the FIR gradient's taps spans, at most (_gemm)
FIR_PAIR_REACH = 4096     # most Cw * ((taps-1)*d + 1) of the pairs (_gemm: FIR_WINDOW // 8)
# most Cw/G * Cn/G for the direct kernels (the filter gradient's: its per-channel loops, from
# 17 groups)
DIRECT_PRODUCTS = {"conv1d": 16, "backprop_filter": 4}
ONE_TAP_BLAS_MAX_CIN = 32    # AVX2: a strided one-tap transpose by BLAS up to this many inputs
GROUPED_DIRECT_MIN_GROUPS = 9  # AVX2: grouped conv1d of few channel pairs by direct from this many
GROUPED_GEMMS_MAX_GROUPS = 16   # the filter gradient's groups of few channels: im2col up to this
SCRATCH_BYTES = 1 << 18  # a thread's column or product block: about half of a 512 KiB L2
DOT_MAX_ROWS = 128       # the transpose's GEMMs of at most this many rows skip BLAS's packing
# ... when each output sums at least this many input channels: the dot GEMM adds each output's
# lanes at the end and takes the channels short of a vector one by one, which a short sum
# cannot pay for (docs/planner.rst has the measurements)
DOT_MIN_CIN = 384
DOT_TILED_MIN_ROWS = 64       # ... but more rows than this in all (float32, _dot_tiled) ...
DOT_TILED_MIN_FRAMES = 32     # ... and at least this many a batch element to the tiled kernel
COLUMN_BYTES = 1 << 20   # conv1d's column block when one GEMM takes all its taps (about L2)
LARGE_FILTER_BYTES = 1 << 20   # a filter beyond L2 (conv1d_large_filter)
OLA_MAX_FILTER_BYTES = 4 << 20   # the transpose's overlap-add of a few frames: at most this filter
# conv1d's im2col blocks of at most this many rows (one or two outputs of a few batch elements)
# multiply by the skinny GEMM, whose tile holds them all: the filter is read once, streamed,
# where BLAS packs it for those few rows (docs/planner.rst has the measurements)
FEW_ROWS = 8
MIN_ITEMS = 8            # work items a call is split into where its shape allows
# the cores of this machine (a constant of the process, so that no plan depends on the thread
# count): the cost model of conv1d's BLAS kernel counts its rounds of items on them
CORES = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else (os.cpu_count() or 1))
BLAS_PACK = 16           # multiply-adds a packed element costs as much as, in that cost model
GROUP_TILED_MIN_MACS = 200_000   # a group's multiply-adds from which one tiled call per group pays
PARTIAL_MACS = 128       # multiply-adds per element of a partial filter gradient, at least
STREAM_MIN_BYTES = 8 << 20   # outputs written by stores that bypass the caches (far past L2)
STREAMS = VECTOR_BYTES == 64     # ... with AVX-512's vectors only (past_the_caches)
# the transpose's direct kernel gives way to the overlap-add where the products and stores it
# makes (direct_work) are this many times the overlap-add's multiply-adds and sums, and at least
# DIRECT_WORK_MIN of them (a few microseconds: about the overlap-add's set-up)
DIRECT_WASTE = 8
DIRECT_WORK_MIN = 1 << 15


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


def as_conv1d(g):
    """A stride-1 transpose's geometry as the conv1d that computes it on the reversed taps: its
    input (the transpose's narrow side) is the conv1d's wide one, the leading padding
    :func:`flipped_pad`."""
    return g._replace(wide=g.narrow, narrow=g.wide, wide_channels=g.narrow_channels,
                      narrow_channels=g.wide_channels, pad_before=flipped_pad(g))


def direct_strip(stride, cout, width):
    """Outputs per polyphase strip in the transpose's direct kernel: a block of ``stride*strip``
    outputs of ``cout`` channels should stay in L1 while its ``stride`` phases fill it in (about
    8192 elements), with strips of 32 to 256 outputs (a multiple of the kernel's 32-wide tiles),
    and no longer than a phase of the ``width`` outputs needs: a block copies (and zeroes) its
    ``Cin * strip`` input elements, whatever the outputs it has."""
    strip = max(32, min(256, 8192 // (stride * max(cout, 1))) // 32 * 32)
    return min(strip, -(-width // (32 * stride)) * 32 or 32)


def direct_work(g):
    """The products and output stores of the transpose's direct kernel on ``g``: each block of
    ``s*strip`` outputs (:func:`direct_strip`) forms ``strip`` products of all ``K*Cin*Cout``
    (tap, channel pair) terms across its phases and stores the outputs of its phases, ``strip*Cout``
    each, whether or not they lie within the signal or reach a sample: a strip is at least 32
    outputs a phase, and an output past the input's reach (a few frames under a long dilated
    filter) still steps through its phase's taps. Where half the phases or more have no tap
    (``min(K, s/gcd(s, d))`` have one) the kernel zeroes its blocks whole and stores only the
    phases with taps. The multiply-adds (:func:`macs`) are its useful part."""
    cin, cout = g.narrow_channels, g.wide_channels
    strip = direct_strip(g.stride, cout, g.wide)
    blocks = g.batch * -(-g.wide // (g.stride * strip))
    reached = min(g.taps, g.stride // math.gcd(g.stride, g.dilation))
    phases = reached if 2 * reached <= g.stride else g.stride
    return blocks * strip * (g.taps * cin * cout + phases * cout)


def _direct_wasteful(g):
    """Whether the direct kernel's work on ``g`` is mostly wasted: :func:`direct_work` at least
    ``DIRECT_WASTE`` times the overlap-add's (its GEMM's multiply-adds, :func:`macs`, and its sums,
    one per product, ``N*M*K*Cout``: as many as the multiply-adds for one input channel), and
    ``DIRECT_WORK_MIN`` or more. The overlap-add, whose GEMM forms only the products that reach a
    sample and whose sums touch only the outputs they reach, then runs instead
    (docs/planner.rst has the measurements)."""
    work = direct_work(g)
    sums = g.batch * g.narrow * g.taps * g.wide_channels
    return work >= DIRECT_WORK_MIN and work >= DIRECT_WASTE * (macs(g) + sums)


def _choose_transpose(g, itemsize=4):
    cin, cout = g.narrow_channels, g.wide_channels
    fits_blas = max(cin, g.taps * cout, g.stride * cout, 1024 * g.stride) <= INT_MAX
    if not fits_blas:
        return "direct"
    if macs(g) < SMALL_MACS:
        # a small call: the direct kernel's compiled plan, but not for many channels, whose
        # vector loops along the width it runs one channel pair at a time
        if cin * cout > SMALL_DIRECT_PRODUCTS:
            return "blas"
        return "ola" if _direct_wasteful(g) else "direct"
    if SKINNY and ((g.batch * g.narrow <= DOT_MAX_ROWS and cin >= DOT_MIN_CIN and cout >= 16)
                   or _dot_rows_few(g)):
        # a few frames in all with many input channels: the dot GEMM reads each tap's filter
        # once for all of them (the kernels below would pack or lay it out for them). Float32
        # calls of more rows and frames than that: the tiled kernel (_dot_tiled)
        if _dot_tiled(g, itemsize):
            return "tiled"
        return "blas"
    few = cin <= 16 and cout <= 32
    if (2 * g.narrow < phase_taps(g) and g.taps * cout >= 16
            and (not few or 8 * g.narrow < phase_taps(g))
            and not (TILED and cout >= 32 and cin <= 64 and g.narrow >= 2)):
        # the whole input spans less than half a filter (a few frames overlap-added): the
        # kernels below would step through every phase's taps for each output, most of them
        # reaching no sample; with few channels the direct kernel's vector loops still win
        # unless nearly all of them do (less than an eighth of a filter); with at most 64
        # inputs, 32 outputs or more and 2 frames or more a batch element the tiled kernel's
        # tiles did (the overlap-add's GEMM then has a short inner dimension). From 32 inputs
        # and 64 outputs (and one frame under a filter beyond 4 MiB): one GEMM per tap, each
        # tap's slice of the filter read once for all the frames, where the overlap-add's items
        # each read the whole filter for their few rows (on 32 random such calls with filters
        # of 0.2-3.9 MiB, seeds 1-2 of genfew.py, BLAS took 0.06-0.97x its time; until the
        # thirtieth round only beyond 4 MiB). With fewer than 32 inputs or 64 outputs each
        # tap's GEMM has a short side (35 frames of 300 -> 25, K=429, float64: 63 ms by BLAS,
        # 13 ms so)
        if ((cin >= 32 and cout >= 64)
                or (g.taps * cin * cout * itemsize > OLA_MAX_FILTER_BYTES
                    and g.batch * g.narrow == 1)):
            return "blas"
        if _few_frames_tiled(g):
            return "tiled"
        return "ola"
    if few:
        # AVX2's tiles are 16 channels wide: from 24 bytes of output channels a row the tiled
        # kernel ran 1.2-4.9x faster than the direct kernel's vector loops along the width
        # (docs/planner.rst); AVX-512's tiles of 64 channels would be mostly empty
        if _cpu.tiled_isa() == "avx2" and cout * itemsize >= 24 and _tiled_fits(g):
            return "tiled"
        return "ola" if _direct_wasteful(g) else "direct"
    if cout <= 8 and g.taps * cout < 64:
        # on AVX2, col2im's one GEMM over the taps then its sums in order beat the overlap-add's
        # blocks from 2 taps and 8 frames a batch element (1.2x on 110 random geometries; the
        # Conv-TasNet decoder 1.24x); one tap is a GEMM and its scatter, which the overlap-add
        # does without col2im's second pass; below 1 MFLOP col2im's set-up costs more
        # (docs/planner.rst)
        if (AVX2 and g.taps >= 2 and g.narrow >= 8 and parallel(g)
                and col2im_rows(g, itemsize)):
            return "col2im"
        return "ola"
    if cout <= 8:
        return "col2im" if col2im_rows(g, itemsize) else "blas"
    if (AVX2 and cout >= 512 and cout >= 16 * cin and g.narrow <= 512
            and g.taps * cin * cout * itemsize >= LARGE_FILTER_BYTES):
        # AVX2, a short input to 16 times as many outputs (512 or more) under a filter beyond
        # L2: the tiled kernel's tiles sum a short T*Cin for each load and store of their
        # outputs; BLAS's GEMM per tap was 1.2x faster (geometric mean of 19 random
        # geometries of the class, two seeds, 0.61x at worst; 10 x 31 frames, 26 -> 1231, K=10,
        # s=3, d=6, float32: 7.3 -> 4.8 ms; docs/planner.rst)
        return "blas"
    if _tiled_fits(g) and cout >= 32:
        if _tiles_wasteful(g, itemsize) and col2im_rows(g, itemsize):
            return "col2im"
        return "tiled"
    if AVX2 and cout >= 32 and cin > 16 and phase_taps(g) * cin > TILED_MAX_TCIN:
        # beyond AVX2's tiled range (T*Cin > 768; measured from 128 inputs, so few inputs keep
        # ``phase``): one GEMM per tap of BLAS has short GEMMs for short inputs; col2im's one
        # GEMM over all taps (float32; 0.3-1.0x BLAS's time on 40 random geometries, 1.4x once),
        # else the overlap-add's for many short batch elements (16 x 32 frames, 512 -> 256,
        # K=16, s=8: 78 ms BLAS, 45 either way)
        # A filter beyond 4 MiB with 64+ frames a batch element (an audio decoder's 1024 ->
        # 512, K=16): col2im packs all of it for every block of rows (1.3-2.2x the others'
        # time); BLAS's GEMM per tap reads each tap's slice once for a block's rows
        if (itemsize == 4 and g.taps * cin * cout * itemsize > OLA_MAX_FILTER_BYTES
                and g.narrow >= 64):
            return "blas"
        if itemsize == 4 and col2im_rows(g, itemsize):
            return "col2im"
        if g.batch >= 8 and g.narrow <= 32:
            return "ola"
    if cin <= 16 and phase_taps(g) >= 2 and phase_taps(g) * cin * cout <= INT_MAX:
        return "phase"
    if cout < 32 and g.taps * cout >= 64 and col2im_rows(g, itemsize):
        # too few outputs for the tiled kernel's tiles, and for BLAS's GEMMs one tap at a time
        return "col2im"
    return "blas"


TILED_WASTE = 1.2          # the tiled kernel's lanes over the output channels, at least ...
COL2IM_MIN_CIN = 96        # ... for col2im in its place, from this many input channels


def tiled_lanes(channels, itemsize):
    """The output channels the tiled kernel computes for ``channels`` of them: whole panels
    (``_cpu.tiled_panel_channels``: ``PANEL_VECTORS`` vectors, 4 on AVX-512, 2 on AVX2), the
    last one narrow (half a panel) where no more than half a panel is left
    (``src/tiled_impl.h``); ``channels`` itself without the tiles."""
    panel = _cpu.tiled_panel_channels(itemsize)
    if not panel:
        return channels
    full, left = divmod(channels, panel)
    return full * panel + (0 if not left else panel // 2 if 2 * left <= panel else panel)


def _tiles_wasteful(g, itemsize):
    """Whether a transpose the tiled kernel would take runs ``col2im`` instead: on AVX-512,
    where the tiles' lanes exceed the output channels by ``TILED_WASTE`` (80 of 96, 35 of 64:
    the tiled kernel's time grows with its lanes, col2im's GEMM over all ``K*Cout`` columns
    with the channels), with ``COL2IM_MIN_CIN`` input channels (the GEMM's inner dimension:
    with fewer, col2im's pass over its ``K*Cout`` products a row costs more than the lanes
    save) and 2 taps or more (one tap is a GEMM the tiles do without that pass). Fitted on 30
    random transposes the tiled kernel took with 8 % or more of its lanes idle (``gentc.py 1``:
    col2im 0.56-1.53x its time, the losses from fewer inputs, one tap, or 8-17 % idle lanes);
    held out on seed 2 (docs/planner.rst)."""
    return (SKINNY and g.taps >= 2 and g.narrow_channels >= COL2IM_MIN_CIN
            and tiled_lanes(g.wide_channels, itemsize) >= TILED_WASTE * g.wide_channels)


def col2im_rows(g, itemsize):
    """Input rows per block of the transpose's ``col2im`` kernel, 0 where it does not pay. Its
    scratch holds a block's products with all ``K*Cout`` (tap, channel) columns, for the block's
    rows and the ``(K-1)*d/s + 2`` rows before it whose taps reach the block (those are
    multiplied in both blocks): at most ``COLUMN_BYTES`` a thread, at most 256 rows, and at
    least as many rows as overlap (else more than twice the GEMM's work) and 16; then evened out
    over the blocks of a batch element, so that the work items are alike. Where that leaves a
    core without an item, one block a core if each block's overlap is at most a quarter of its
    rows (1 x 175 input rows, 714 -> 14, K=8, s=2: 0.40 -> 0.25 ms on two threads; on 25
    random such calls, held out, 0.78x the time at two threads, 1.02x at one; a larger overlap
    cost the one-thread call up to 1.37x; docs/planner.rst)."""
    overlap = (g.taps - 1) * g.dilation // g.stride + 2
    rows = min(256, COLUMN_BYTES // (g.taps * g.wide_channels * itemsize) - overlap)
    if rows < max(16, overlap):
        return 0
    # the blocks of a batch element evened out: 2 blocks of 251 rows and one of 1 made the
    # 2-thread inverse STFT (4 x 500 frames, K=1024, s=256) 1.5x slower than 3 blocks of 168
    blocks = -(-g.wide // (rows * g.stride))
    if g.batch * blocks < CORES and parallel(g):
        # one block a core, where each multiplies at most a quarter of its rows again
        want = -(-CORES // g.batch)
        if 4 * overlap <= -(-g.wide // (want * g.stride)):
            blocks = want
    return max(1, -(-g.wide // (blocks * g.stride)))


def _depthwise(g, least=32):
    """One channel per group on both sides, at least ``least`` of them (fewer fill too little of
    each vector; the grouped direct kernels are then as fast: for the transpose 32; conv1d's
    direct gather lost to it from 16), and enough work to matter."""
    return (g.groups == g.wide_channels == g.narrow_channels and g.groups >= least
            and macs(g) >= SMALL_MACS)


def _choose_transpose_groups(g, itemsize):
    cin, cout = g.narrow_channels // g.groups, g.wide_channels // g.groups
    if _depthwise(g):
        return "depthwise"
    if macs(g) < SMALL_MACS:
        return "direct"
    # (each group's call lays out the group's filter: more input rows for more groups)
    tiled = (TILED and phase_taps(g) * cin <= TILED_MAX_TCIN
             and g.batch * g.narrow >= max(32, 16 + 2 * g.groups)
             and g.narrow_channels < _transpose.TILED_MAX_ROW)
    # the tiled kernel once per group lays out the group's filter and fills tiles of output
    # channels: worth it for groups of two vectors of outputs, of one with few groups or 8
    # inputs, of half of one with 16 inputs and few taps
    vectors = cout * itemsize / VECTOR_BYTES
    if tiled and (vectors >= 2 or (vectors >= 1 and (g.groups <= 2 or cin >= 8))
                  or (vectors >= 0.5 and cin >= 16 and g.taps <= 4)):
        if g.groups >= 16 and (cin <= 3 or macs(g) < GROUP_TILED_MIN_MACS * g.groups):
            # many groups of 1-3 inputs, or of little work each: the tiled kernel's call per
            # group (its filter laid out, a parallel region) costs more than the grouped
            # direct kernel's one pass over all of them (fitted on 24 random geometries that
            # chose tiled, held out on 16: 2.1x faster; docs/planner.rst; 7 x 49 frames, 408 ->
            # 561, 51 groups, K=5, s=8: 2.7 ms tiled, 1.2 direct)
            return "direct"
        return "tiled"
    if cin < _transpose.GROUPED_DOT_MIN_CIN:
        # the grouped direct kernel adds whole output rows in vectors (each input row spread to
        # the output's channels): fast where a row fills vectors, unless each group is a GEMM
        # of enough channels and columns (K * Cout/G) for a few groups' copies to beat it
        if g.wide_channels >= VECTOR_BYTES // itemsize:
            if cin >= 8 and g.taps * cout >= 100 and g.groups <= 8:
                return "copies"
            return "direct"
        if cin * cout <= 16:
            return "direct"     # its per-group loops (depthwise: vector loops over the groups)
        return "tiled" if tiled and cout >= 4 and g.taps <= 4 else "copies"
    if _grouped_ola(g, itemsize):
        return "ola"
    # the grouped direct kernel's dot GEMMs (one per tap and group): for few columns a group,
    # or long sums (it also skips the taps that reach no output; each group's copy would not)
    if g.taps * cout <= 16 or cin >= 64 or _grouped_few_rows(g):
        return "direct"
    return "flip-blas" if _flip_blas(g) else "copies"


GROUP_SUM_MAX_BYTES = 96      # of input channels a group, at most, ...
GROUP_SUM_MIN_BYTES = 256     # ... and of the input row, at least


def _group_sums(g, itemsize):
    """Whether a conv1d of groups of one output channel each (2+ inputs a group) runs the
    direct kernel's elementwise path (``_conv1d_reduce``: each tap's products along the whole
    input row in a vector loop, then each group's sum) rather than BLAS's or im2col's GEMMs of
    one column per group and tap: for at most ``GROUP_SUM_MAX_BYTES`` of inputs a group (more
    make each GEMM a long enough dot product), an input row of ``GROUP_SUM_MIN_BYTES`` or
    more (a shorter one leaves the vector loop a few lanes per tap), and where the kernel does
    not spread its input rows to the outputs (``_conv1d.spreads``: that path ran 1.1-2x faster
    than the elementwise one where it applies). Not for one tap: BLAS's one GEMM per group
    then has no taps to add (1.2-2.1x faster on 5 of 14 such held-out calls). Fitted on 40
    random such calls (``gen1.py 1``, one thread: 0.13-0.88x the time where the planner took
    BLAS or im2col, one 1.27x) and 50 of seed 2 (two threads: the spread); held out on seed 3
    at two threads (docs/planner.rst)."""
    cwg = g.wide_channels // g.groups
    return (g.groups > 1 and g.narrow_channels == g.groups and cwg >= 2 and g.taps > 1
            and cwg * itemsize <= GROUP_SUM_MAX_BYTES
            and g.wide_channels * itemsize >= GROUP_SUM_MIN_BYTES
            and not _conv1d.spreads(g.groups, cwg, g.narrow_channels, itemsize, g.narrow,
                                    g.taps, g.stride, g.dilation, g.pad_before))


FLIP_BLAS_MIN_CHANNELS = 16    # inputs and outputs a group, at least ...
FLIP_BLAS_MIN_OUTPUTS = 32     # ... outputs a batch element ...
FLIP_BLAS_MIN_FRAMES = 8       # ... and input frames


def _flip_blas(g):
    """Whether a grouped transpose the planner would run a call per group (``copies``) runs
    conv1d's BLAS kernel on the reversed taps instead (``flip-blas``): at stride 1 (the
    transpose is then that conv1d, leading padding ``(K-1)*d - p`` at least 0), with
    ``FLIP_BLAS_MIN_CHANNELS`` inputs and outputs a group (each tap and group one GEMM whose
    sides are the group's channels), ``FLIP_BLAS_MIN_OUTPUTS`` outputs and
    ``FLIP_BLAS_MIN_FRAMES`` input frames a batch element (the rows of each GEMM; a few frames
    under a long filter are the overlap-add's, which each group's call runs). Its
    GEMMs read the operands in place, and its work items are blocks of groups and of rows, where
    the copies lay the operands out group-major and run each group's call, a parallel region
    each, in turn: the wav2vec 2.0 positional convolution's input gradient (1 x 250 frames,
    768 -> 768 in 16 groups, K=128) 28 -> 18 ms at one thread, 18 -> 12 at two. Fitted on 30
    random calls that took the copies (``genfb.py 1``: 0.15-3.0x their time, the losses from
    fewer than 16 outputs or inputs a group or a few outputs) and 20 of seed 2 (the frames:
    1.1-1.9x for 1-5 of them); held out on seed 3 (docs/planner.rst)."""
    return (g.stride == 1 and flipped_pad(g) >= 0 and g.wide >= FLIP_BLAS_MIN_OUTPUTS
            and g.narrow >= FLIP_BLAS_MIN_FRAMES
            and min(g.narrow_channels, g.wide_channels) >= FLIP_BLAS_MIN_CHANNELS * g.groups)


GROUPED_FEW_ROWS = 8     # input frames in all (N*M) for which the grouped direct kernel ...
GROUPED_FEW_TAPS = 2     # ... or taps


def _grouped_few_rows(g):
    """Whether a grouped transpose of 20-63 inputs and 17+ outputs a group runs the grouped
    direct kernel rather than a call per group (``copies``): at most ``GROUPED_FEW_ROWS``
    input frames in all, at most ``GROUPED_FEW_TAPS`` taps, or fewer than half of the (frame,
    tap) links on the signal. Each group's call then has little work for its own parallel
    region and filter layout, where the direct kernel's dot GEMMs (per tap and group) take
    all groups in one pass, its blocks of wide rows split for the threads
    (:func:`grouped_rows`). Fitted on 30 random calls the planner sent to ``copies``
    (``gengc.py 1``: the grouped kernel 0.41-0.95x their time there, 1.1-5.1x on the calls of
    more frames in float32); held out on seed 2: docs/planner.rst."""
    if g.batch * g.narrow <= GROUPED_FEW_ROWS or g.taps <= GROUPED_FEW_TAPS:
        return True
    links = _links(g)
    return 2 * links < g.narrow * g.taps


OLA_GROUP_MAX_COUT = 16        # output channels a group of the grouped overlap-add at most
OLA_GROUP_MIN_MACS = 4096      # its multiply-adds on the signal per (work item, group), at least


def _grouped_ola(g, itemsize):
    """Whether a grouped transpose of ``GROUPED_DOT_MIN_CIN`` or more input channels a group
    runs the overlap-add with the groups in place (``_gemm.transpose_ola``'s ``groups``: per
    work item, a block of outputs, and group, one GEMM of the rows that reach it by the
    group's block of taps, then their sums) rather than the grouped direct kernel's dot GEMMs
    (one per tap, group and block of rows, of a few columns each) or the copies (a call per
    group, each laid out and its own parallel region): at most ``OLA_GROUP_MAX_COUT`` outputs
    a group (more fill the dot GEMM's tiles), a filter spanning the stride (else most outputs
    are zeros that the direct kernel stores and the overlap-add also sums over), at least half
    of the (frame, tap) links on the signal (its GEMMs form the products of every tap of a
    block) and ``OLA_GROUP_MIN_MACS``
    multiply-adds on the signal per work item and group (else the calls per group cost more
    than their work). Found on 64 random grouped calls of 20+ inputs a group (seeds 2-4): up
    to 27x slower on the 8 us calls of one frame under a long filter that the links exclude,
    1.5-2.1x where the filter spans less than the stride or the groups have 25-32 outputs;
    held out: docs/planner.rst."""
    cin, cout = g.narrow_channels // g.groups, g.wide_channels // g.groups
    if cout > OLA_GROUP_MAX_COUT or (g.taps - 1) * g.dilation + 1 < g.stride:
        return False
    links = _links(g)
    if 2 * links < g.narrow * g.taps:
        return False
    width, _, batch = ola_blocking(g._replace(narrow_channels=cin, wide_channels=cout, groups=1),
                                   itemsize, parallel(g))
    items = -(-g.batch // batch) * -(-g.wide // width)
    return g.batch * links * cin * cout >= OLA_GROUP_MIN_MACS * items


def flattened(g, data_format):
    """The geometry of a pointwise call (one tap) whose batch elements can be laid end to end as
    one signal, or None. With one tap, narrow sample ``i`` meets wide sample ``i*s - p`` alone;
    where ``p`` is 0 and the wide signal is ``s`` times the narrow one, batch element ``n``'s
    samples are the samples ``n*M ..`` and ``n*L ..`` of the signals laid end to end (NWC: a
    reshape), so the call is one of batch 1: one GEMM over all the rows, not a small GEMM per
    batch element (48 x 320, 7 -> 3: 48 GEMMs of 320 rows took twice one of 15360)."""
    if (data_format != "NWC" or g.taps != 1 or g.batch < 2 or g.pad_before != 0
            or g.wide != g.narrow * g.stride):
        return None
    return g._replace(batch=1, wide=g.batch * g.wide, narrow=g.batch * g.narrow)


def _choose_conv1d(g, itemsize):
    cwg, cng = g.wide_channels // g.groups, g.narrow_channels // g.groups
    fits_blas = max(g.stride * g.wide_channels, g.narrow_channels, g.narrow,
                    g.taps * g.wide_channels, g.wide * g.wide_channels) <= INT_MAX
    few = cwg * cng <= DIRECT_PRODUCTS["conv1d"]
    flippable = g.groups == 1 and flipped_pad(g) >= 0 and g.narrow > 0
    small = macs(g) < SMALL_MACS
    if (g.groups == 1 and g.stride > 1 and g.taps > 1 and not small and g.narrow >= FLIP_MIN_OUTPUTS
            and g.narrow_channels <= POLYPHASE_MAX_CN[itemsize]
            and cwg * cng <= POLYPHASE_MAX_PRODUCTS[itemsize]
            and g.stride <= POLYPHASE_MAX_STRIDE and g.stride * cwg <= POLYPHASE_MAX_ROWS):
        # few channels at a stride: only the kept outputs, each block's input grouped by phase
        # so that every tap reads a run of it (flip-direct at stride 2 computed every output,
        # twice the work; im2col gathers each tap's few channels on their own). Not one tap,
        # whose outputs read one sample each: BLAS reads the input in place, rows s*Cw apart
        # (30 random such calls, one thread: 0.34x polyphase's time, 0.83x at worst)
        return "polyphase"
    if ((few or (small and cwg * cng <= SMALL_DIRECT_PRODUCTS)) and flippable
            and (g.stride == 1 or (small and g.stride <= FLIP_MAX_STRIDE[itemsize]))
            and (g.narrow >= FLIP_MIN_OUTPUTS or small)):
        # few channels at stride 1, small calls included: the transpose's direct kernel
        # (vector loops along the width) on the reversed filter; the direct gather here runs
        # short channel loops per output and tap (2-8x slower on calls of 10-100 us). A small
        # call, of up to SMALL_DIRECT_PRODUCTS channel pairs as the transpose's: its compiled
        # plan at stride 1 (1 x 64 rows, 8 -> 4, K=3: 15 us by im2col's Python path, 4 so).
        # At stride 2 it computes every output and keeps one in two: only for small calls
        # (on 40 larger random ones it ran 3.7x slower than the fastest kernel, 15x at worst,
        # the rules below 1.24x; docs/planner.rst)
        return "flip-direct"
    if not fits_blas:
        return "direct"
    if macs(g) < SMALL_MACS:
        # a small call: the direct gather for few channels; else its channel loops per output
        # and tap run slower than one small GEMM (im2col's gather, or the input itself for K=1)
        if few or cwg * cng == 1:
            return "direct"
        return "blas" if g.taps == 1 and g.groups == 1 else "im2col"
    if _depthwise(g, 16):
        return "depthwise"
    flip = flippable and macs(g) >= SERIAL_MACS
    if (flip and g.stride == 1 and TILED and g.wide > 0 and g.batch * g.narrow >= FLIP_TILED_MIN_ROWS
            and g.taps * g.wide_channels <= TILED_MAX_TCIN and g.narrow_channels >= 32
            and not (AVX2 and g.taps == 1 and g.narrow_channels >= ONE_TAP_BLAS_MIN_CN)):
        # (AVX2, one tap: a plain GEMM, OpenBLAS's own, from ONE_TAP_BLAS_MIN_CN outputs)
        return "flip-tiled"
    if (few and g.groups == 1 and g.stride > 1 and g.dilation > 1
            and phase_taps(g) >= POLYPHASE_MIN_TAPS and g.narrow >= FLIP_MIN_OUTPUTS):
        # a few channels at a dilation: im2col's gather copies each tap's few channels on
        # their own (2.3-7x slower than the residues' stride-1 calls, whatever the taps)
        # (float64 with more output channels than the rule above takes)
        return "polyphase"
    if cwg * cng == 1 and g.groups > 1:
        # one channel each way per group (depthwise, fewer than 32 channels): im2col's GEMM
        # would have one column, a gathered copy per multiply-add
        return "direct"
    if g.groups > 1:
        # groups of few channels: im2col's GEMMs per group from 8 taps, or where the output
        # rows fill a vector and each input row reaches a few outputs (8 outputs a batch
        # element, K >= 8*s; K >= 2*s for at most 4 channel pairs). These ran the direct kernel
        # until the eighteenth round (each input row spread to the output's channels, whole
        # output rows added in vectors); on 80 random grouped geometries at one thread (2-16
        # groups of 1-4 -> 1-8 channels) the choice ran 1.23x slower than the fastest of
        # direct, im2col and BLAS (geometric mean; 4.4x at worst), im2col in their place
        # 1.12x (3.3x); held out on 60 at two threads, 1.13x (2.9x) -> 1.10x (1.7x)
        # (docs/planner.rst)
        # other groups: im2col's GEMM of K*Cw/G columns for at least 8 taps, unless each tap's
        # GEMM is already large enough (Cw/G >= 16 and Cn/G >= 8); fewer taps, each a small
        # GEMM per group, were faster by the BLAS kernel than gathered first
        if ((few and (g.taps >= 8 or (cng <= 8 and g.narrow_channels * itemsize >= VECTOR_BYTES
                                      and g.narrow >= 8
                                      and (g.taps >= 8 * g.stride
                                           or (cwg * cng <= 4 and g.taps >= 2 * g.stride)))))
                or (cwg < 32 and g.taps > 1
                    and (cng >= 32 or (g.taps * cwg >= 16 and g.taps >= 8
                                       and (cwg < 16 or cng < 8))))):
            if (AVX2 and few and g.groups >= GROUPED_DIRECT_MIN_GROUPS
                    and not (itemsize == 8 and cng >= 7)):
                # AVX2, many groups of few channels: the direct kernel, each input row spread
                # to all the output's channels at once, rather than im2col's small GEMMs group
                # by group (fitted on 40 random calls, gengc.py 1, one thread; held out on 30 at
                # two, 0.50x the time; docs/planner.rst)
                return "direct"
            return "im2col"
    elif cwg < 32 and g.taps > 1 and (g.taps * cwg >= 16 or cng >= 32
                                      or (SKINNY and g.batch * g.narrow >= IM2COL_FEW_MIN_ROWS
                                          and (g.dilation == 1 or g.taps >= 5))):
        # few input channels: BLAS's GEMM per tap sums only Cw of them for each load and store
        # of its outputs, im2col's one GEMM K*Cw. Also for short windows and few outputs from
        # IM2COL_FEW_MIN_ROWS rows, at dilation 1 or from 5 taps (on 50 random such calls BLAS
        # took, seed 1: 0.76x the time, none slower by 10 %; dilated pairs and triples of
        # taps, and fewer rows, ran up to 1.6x slower by im2col; docs/planner.rst; measured
        # on AVX-512 only)
        return "im2col"
    elif few:
        # AVX2: BLAS's GEMM per tap (the input read in place) ran 2.2x faster than the direct
        # gather on 50 random few-channel geometries (seed 22, every one faster; docs/planner.rst).
        # AVX-512: the same on 40 (seed 5: 2.3x, 0.97-6.2x), and im2col's one GEMM over the
        # taps faster still except for 3+ input channels and 1-2 taps, and for one tap (the
        # input read in place, nothing gathered: 1.01-2.8x faster on the 7 of 40 random calls
        # with one tap at stride 2)
        if SKINNY:
            return "im2col" if (cwg <= 2 and g.taps > 1) or g.taps >= 3 else "blas"
        return "blas" if AVX2 else "direct"
    if ((g.narrow < 4 and (g.batch > 1 or SKINNY)
            and g.taps * cwg * g.narrow_channels * itemsize >= 2 << 20)
            or (g.narrow == 1 and g.batch > 1)):
        # a few outputs a batch element and a filter larger than L2: the BLAS kernel would read
        # it from memory once per element for GEMMs of that many rows; im2col's blocks take the
        # rows of several elements, and at most FEW_ROWS of them read it once, streamed. With
        # one output a batch element, whatever the filter: the BLAS kernel's GEMMs of one row
        # are products of a vector by a matrix, one per tap and element
        return "im2col"
    return "blas"


def _choose_backprop_filter(g, itemsize):
    cwg, cng = g.wide_channels // g.groups, g.narrow_channels // g.groups
    fits_blas = max(g.narrow_channels, g.taps * g.wide_channels, g.narrow) <= INT_MAX
    if macs(g) < SMALL_MACS or not fits_blas:
        return "direct"
    if g.groups > 1 and cwg * cng == 1:
        # depthwise: vector loops over the groups, unless they fill less than half a vector
        # and the taps are many (2 groups, K=332, s=7: 3.3 ms so, 0.92 by im2col)
        if 2 * g.groups * itemsize < VECTOR_BYTES and g.taps >= 16:
            return "im2col"
        return "depthwise" if depthwise_filter(g, itemsize) else "direct"
    # other groups of few channels: up to 16 groups im2col, whose GEMMs per group ran faster
    # than the direct kernel's rows (spread to the outputs' channels, or per-channel loops) as
    # a rule: on 160 random geometries of 2-16 groups of 1-4 -> 1-8 channels, one thread, the
    # direct kernel where it was chosen before made the choice 1.28x slower than the faster of
    # the two (geometric mean; 5.3x at worst), im2col alone 1.07x (2.3x); held out on 120 at
    # two threads, 1.34x (8.8x) and 1.03x (1.8x, on calls of 0.1 ms or less). With more
    # groups the direct kernel's one pass over all of them kept its place: on 40 of 17-256
    # groups, 1.09x with it, 1.16x (5.0x) by im2col alone (docs/planner.rst)
    if g.groups > GROUPED_GEMMS_MAX_GROUPS:
        if _conv1d.spreads(g.groups, cwg, g.narrow_channels, itemsize, g.narrow, g.taps,
                           g.stride, g.dilation, g.pad_before):
            # its rows spread to the outputs' channels: at most 8 outputs from 1-2 input
            # channels a group, or 2-4 outputs from 3-4
            if cng <= 8 and (cwg <= 2 or (cwg <= 4 and 2 <= cng <= 4)):
                return "direct"
        elif cwg * cng <= DIRECT_PRODUCTS["backprop_filter"] and g.taps <= 4:
            return "direct"       # per-channel loops
    if (AVX2 and g.groups > 1 and (g.batch * g.narrow <= 16
                                   or (g.stride <= 4 and g.taps * cwg <= 32 and g.groups >= 4))
            and not _grouped_gemms_pay(g)):
        # AVX2: each group's GEMMs are small (at most 16 rows, or 32 columns of taps at a
        # stride of at most 4, with 4+ groups): the direct kernel was 1.33x faster than im2col
        # on 120 held-out geometries (geometric mean; docs/planner.rst)
        return "direct"
    return "im2col"


def _grouped_gemms_pay(g):
    """Whether a grouped filter gradient's GEMMs are long enough for im2col where the AVX2 rule
    above would send it to the direct kernel: at most 16 groups of at least 16 output
    channels, 2 taps or more, more than 16 rows, from ``2**16`` multiply-adds (with a handful
    of rows each GEMM is a sum of a few outer products, and with one tap, fewer channels or
    more groups the direct kernel's vector loops ran faster as often as not). Fitted after the
    switch to NumPy's OpenBLAS on seeds 401-404, held out on seed 405 (docs/planner.rst)."""
    cng = g.narrow_channels // g.groups
    return (g.groups <= 16 and cng >= 16 and g.taps >= 2 and macs(g) >= SERIAL_MACS
            and g.batch * g.narrow > 16)


def fir_channels(g, itemsize, layout="NWC"):
    """Whether conv1d, or a depthwise conv1d_transpose (each output phase a stride-1 FIR), runs
    the ``fir`` kernel: one channel each way, or one channel each way a group (depthwise), from
    ``FIR_MIN_MACS`` multiply-adds: per channel, the residues' taps in vector registers along
    the outputs. Not for a small stride-1 call of one group (it keeps ``flip-direct``'s compiled
    plan), nor in NWC for groups whose channels fill a vector's worth of bytes (more than 8, or
    more than 16 bytes with fewer than 9 taps), where the depthwise and direct kernels' vectors
    run across the channels (docs/planner.rst)."""
    if g.wide_channels != g.groups or g.narrow_channels != g.groups or macs(g) < FIR_MIN_MACS:
        return False
    if g.groups == 1:
        return not (g.stride == 1 and flipped_pad(g) >= 0 and macs(g) < SERIAL_MACS)
    return layout == "NCW" or (g.groups <= 8 and (g.taps >= 9 or g.groups * itemsize <= 16))


def filter_fir(g, itemsize, layout="NWC"):
    """Whether the filter gradient runs the ``fir`` kernel: at dilation 1, one channel each way
    (the gradient of a FIR filter), or each channel of a depthwise call with at least a vector
    of taps in NCW or with at most 8 groups in NWC, from ``FIR_MIN_MACS`` multiply-adds
    (``SMALL_MACS`` for groups): the block's taps in vector registers while the gradient's rows
    run (NCW, 8 x 1000 x 256, K=33: 15 ms by the direct kernel, 9.3 so; 4 x 16000 x 4, K=64:
    15.6, 1.3). At a larger dilation, depthwise calls tap by tap
    (:func:`_dilated_depthwise_firs`)."""
    if (g.wide_channels != g.groups or g.narrow_channels != g.groups
            or macs(g) < (FIR_MIN_MACS if g.groups == 1 else SMALL_MACS)):
        return False
    if g.dilation != 1:
        return _dilated_depthwise_firs(g, itemsize, layout)
    # (its vectors run along the taps: for groups, with fewer taps than a vector's lanes the
    # direct kernel's loops across the channels were faster)
    # one tap at a stride is a strided dot product, which BLAS's (im2col in place) does faster
    # (8 x 19039, K=1, s=4: 0.080 ms so, 0.051 by im2col)
    if g.groups == 1:
        return g.taps > 1 or g.stride == 1
    return g.taps * itemsize >= VECTOR_BYTES and (layout == "NCW" or g.groups <= 8)


# AVX2: a stride-1 conv1d of one tap (a plain GEMM, [N*W, Cw] @ [Cw, Cn], the input read in place)
# by BLAS rather than the tiled kernel from this many output channels. On 25 random calls that
# the planner sent to flip-tiled (genft2.py 1, 64-768 inputs, one thread) BLAS ran 0.86x its time
# on the 12 with one tap and 40+ outputs, 1.08-1.41x on those with 32-35 (docs/planner.rst)
ONE_TAP_BLAS_MIN_CN = 40
FIR_DILATED_NWC_GROUPS = 8     # a dilated depthwise gradient by fir in NWC: groups, at most
FIR_DILATED_MIN_OUTPUTS = 64   # ... and outputs a batch element, at least (its vectors' rows)


def _dilated_depthwise_firs(g, itemsize, layout):
    """Whether a depthwise filter gradient at a dilation above 1 runs the ``fir`` kernel: each
    channel's gradient tap by tap, a dot product of the gradient's rows with the signal's
    samples ``d`` apart, vectorised along the rows. In NCW (each channel's samples one run), or
    in NWC with at most ``FIR_DILATED_NWC_GROUPS`` groups (each window gathered out of the
    interleaved rows; with more, the kernels whose vectors run across the channels gain),
    where the ``depthwise`` kernel does not run (a vector of channels or more: its blocks of
    taps in registers). The direct kernel instead adds each row's few products into the whole
    gradient, one channel at a time across a row of ``C``; im2col (few groups) gathers every
    tap. On 30 random dilated depthwise gradients (``genfird.py 1``, one thread) fir ran
    0.04-1.00x the time of the kernel chosen on the 11 calls of this class (geometric mean
    0.22x) and up to 13x slower on the others (NWC with 10-251 channels, or the depthwise
    kernel's calls); held out on 20 at two threads (``genfird2.py 2``) 0.24x (0.08-0.93x), on
    20 at one (seed 3) 0.39x, where the two calls of fewer than ``FIR_DILATED_MIN_OUTPUTS``
    outputs a batch element ran 1.2x and 2.2x slower (0.1 ms calls; now excluded), the others
    at most 1.65x (K=3 at s=4). 17 x 1763 samples, 5 channels, K=107, d=8 (the sweep's worst
    call against NumPy): 13.6 ms by the direct kernel, 1.5 so (docs/planner.rst)."""
    return (g.groups > 1 and (layout == "NCW" or g.groups <= FIR_DILATED_NWC_GROUPS)
            and g.narrow >= FIR_DILATED_MIN_OUTPUTS and not depthwise_filter(g, itemsize))


IM2COL_FEW_MIN_ROWS = 1000     # conv1d's few input channels by im2col from this many rows

IMPLICIT_FEW_CHANNELS = 32     # a longer panel for at most this many input channels ...
IMPLICIT_LONG_OUTPUTS = 32     # ... from this many outputs a batch element


def _long_few_channel_windows(g):
    """Windows of more than 1024 (tap, channel) pairs that the implicit kernel still reads in
    place (STFT-like analysis, a long FIR bank): at most ``IMPLICIT_FEW_CHANNELS`` input
    channels, every window within the signal (``(K-1)*d + 1 <= W``: no band of outputs is
    mostly edges, which it gathers) and ``IMPLICIT_LONG_OUTPUTS`` outputs a batch element. On
    30 random calls with ``K*Cw`` of 1072-7598 (``genimp.py 91``, one thread) the implicit kernel
    ran 0.43-0.92x the time of the kernels chosen before (im2col, BLAS) on the 7 this takes, and
    up to 1.8x on the others (fewer outputs, taps beyond the signal, hundreds of channels); the
    STFT row, 1 x 307200, K=4096, s=1024, 1 -> 32: 0.97 ms by im2col, 0.50 so (docs/planner.rst)."""
    return (g.wide_channels <= IMPLICIT_FEW_CHANNELS and g.narrow >= IMPLICIT_LONG_OUTPUTS
            and (g.taps - 1) * g.dilation + 1 <= g.wide)


def conv1d_implicit(g, itemsize, layout="NWC"):
    """Whether conv1d runs the ``implicit`` kernel instead of ``im2col`` or ``blas``: NWC, one
    group, dilation 1 or one input channel (each output's window of ``K*Cw`` (tap, channel)
    pairs is then one evenly spaced run of the signal, so the windows are a matrix read in place,
    rows ``s*Cw`` apart), on AVX-512 (the skinny GEMM). The skinny GEMM walks down one panel of
    the filter, ``K*Cw`` rows by two vectors of columns, per tile of 8 outputs, so the panel must
    stay near the core: ``K*Cw <= 1024`` (128 KiB; at 1536, wav2vec's 512-channel layers, BLAS
    on gathered blocks was as fast or faster). It writes whole vectors of each output row, so the
    rows must start on a vector (``Cn`` a multiple of the 16 or 8 lanes: with 514 outputs, every
    store of a row crossed a cache line) and be at least two vectors wide. In float64 it was
    kept to few input channels (``Cw <= 16``) until the thirty-sixth round, from the round-24
    machine; on this Zen 4, whose OpenBLAS runs below the skinny GEMM, it was faster than BLAS
    and im2col on held-out random float64 calls of 17-256 input channels (docs/planner.rst).

    The filter is walked once per band of at most 8 outputs of one batch element, so the kernel
    also needs 8 outputs a batch element (or one element, or a filter that stays in L1:
    ``L1_FILTER_BYTES``), and a filter within ``LARGE_FILTER_BYTES`` (beyond L2 each band
    streams it from memory), where im2col's blocks of rows across the batch elements read it
    once for many (docs/planner.rst)."""
    if not (itemsize in (4, 8) and layout == "NWC" and g.groups == 1
            and (g.dilation == 1 or g.wide_channels == 1)
            and (g.taps * g.wide_channels <= 1024 or _long_few_channel_windows(g))):
        return False
    if SKINNY:
        lanes = 64 // itemsize
        fbytes = g.taps * g.wide_channels * g.narrow_channels * itemsize
        return (g.narrow_channels >= 2 * lanes and g.narrow_channels % lanes == 0
                and (g.narrow >= SKINNY_BAND or g.batch == 1 or fbytes <= L1_FILTER_BYTES)
                and fbytes <= LARGE_FILTER_BYTES)
    # AVX2 (200 random geometries against the kernel chosen without it, float32 and float64):
    # 1.2-4x faster from a vector of float32 outputs (8) or a multiple of 4 float64 ones; slower
    # for one tap (a plain GEMM, BLAS's), for fewer than 4 outputs a batch element (im2col's
    # blocks read the filter once for several), in float64 for other output widths, and where
    # im2col's GEMM is long every way (K*Cw >= 64, 32+ outputs, more than 256 rows: an STFT,
    # 1 -> 514, K=512, s=128, 4 x 122 frames: 7.7 ms so, 5.1 by im2col; a U-Net's downsampling,
    # 2 x 8000 x 32 -> 64, K=4, s=2: 2.6 and 1.85): the skinny GEMM's panel of K*Cw rows is
    # not blocked for the cache, and re-read for every tile of outputs (docs/planner.rst)
    return (AVX2 and g.taps > 1 and not (g.narrow < 4 and g.batch > 1)
            and (g.narrow_channels >= 8 if itemsize == 4 else g.narrow_channels % 4 == 0)
            and not (g.taps * g.wide_channels >= 64 and g.batch * g.narrow > 256
                     and g.narrow_channels >= 32))


STACKED_MIN_INNER = 64       # conv1d's stacked taps: a block's s*Cw (tap, channel) pairs
STACKED_MIN_OUTPUTS = 128    # ... outputs a batch element
STACKED_MIN_CHANNELS = 16    # ... and output channels, at least
STACKED_MIN_RATIO = 4        # s*Cw over Cn, at least


def stacked_taps_pay(g, itemsize, layout="NWC"):
    """Whether a strided conv1d of few input channels runs the ``blas`` kernel's stacked taps
    instead of ``im2col`` or ``implicit`` (AVX2): at stride ``s``, dilation 1, one group, the
    taps ``k .. k+s-1`` of output ``i`` are one run of ``s*Cw`` samples and output ``i+1``'s run
    starts ``s*Cw`` later, so each block of ``s`` taps is one GEMM on the input in place, inner
    dimension ``min(s, K)*Cw``, nothing gathered; its cost over im2col's one GEMM is a load and
    store of the output per block. That pays where the block's inner dimension is at least
    ``STACKED_MIN_INNER``, there are ``STACKED_MIN_OUTPUTS`` outputs a batch element (the GEMMs
    run per element) and ``STACKED_MIN_CHANNELS`` output channels (OpenBLAS's GEMM of fewer
    columns ran slower than the skinny GEMM). NWC (the BLAS kernel copies NCW), float32 and
    float64. The ratio ``s*Cw/Cn`` (``STACKED_MIN_RATIO``) weighs the two costs: a block's
    extra pass over the output moves ``rows*Cn`` elements twice, im2col's gather copies
    ``rows*s*Cw`` of the windows. On 40 random calls of the class at one thread (``genstk.py
    1 40``) those the rule takes ran 0.87x the time by BLAS, the others up to 5.9x slower;
    held out on 20 (seed 3, two threads): 0.90x (0.79x-1.04x), on 20 (seed 4, one): 0.87x
    (0.72x-1.06x). The STFT row, 1 x 307200, 1 -> 32, K=4096, s=1024: 1.32 ms by im2col,
    1.07 so (docs/planner.rst)."""
    return (AVX2 and itemsize in (4, 8) and layout == "NWC" and g.groups == 1
            and g.dilation == 1 and g.stride > 1 and g.taps > 1
            and min(g.stride, g.taps) * g.wide_channels >= max(STACKED_MIN_INNER,
                                                               STACKED_MIN_RATIO * g.narrow_channels)
            and g.narrow >= STACKED_MIN_OUTPUTS and g.narrow_channels >= STACKED_MIN_CHANNELS
            and max(g.stride * g.wide_channels, g.narrow_channels, g.narrow) <= INT_MAX)


DOT_MAX_CHANNELS = 4          # conv1d by dot products: output channels, at most ...
DOT_FEW_CHANNELS = 15         # ... or this many, from few input channels and several taps
DOT_FEW_INPUTS = 160
DOT_FEW_TAPS = 7
DOT_MIN_WINDOW = 128          # a window of at least this many (tap, channel) pairs ...
DOT_MAX_WINDOW_BYTES = 256 << 10   # ... and bytes at most
DOT_ON_SIGNAL = 0.9           # the share of the outputs whose window lies on the signal
DOT_MIN_ROWS = 16             # outputs in all, at least


def conv1d_dot(g, itemsize, layout="NWC"):
    """Whether conv1d runs the ``dot`` kernel: each output's window of ``K*Cw`` (tap, channel)
    pairs, one run of the signal read in place, times each of the filter's ``Cn`` rows (the
    filter laid out ``[Cn, K*Cw]``) by the dot GEMM, vectorised along the window: for few output
    channels (``Cn <= DOT_MAX_CHANNELS``; up to ``DOT_FEW_CHANNELS`` from at most
    ``DOT_FEW_INPUTS`` input channels and ``DOT_FEW_TAPS`` taps), whose columns leave the other
    kernels' vectors and GEMMs mostly empty (BLAS's GEMM per tap of ``Cn`` columns is a
    matrix-vector product, the skinny GEMM's vectors run along the output channels). NWC, one
    group, dilation 1 (the window one run), 2+ input channels (one is the FIRs'), 3+ taps
    (with one or two, BLAS's GEMM per tap over the input channels was as fast), windows of
    ``DOT_MIN_WINDOW`` pairs to ``DOT_MAX_WINDOW_BYTES`` (beyond, the filter's rows are read
    from memory for every tile of outputs), ``DOT_ON_SIGNAL`` of the outputs on the signal
    (the edges' windows are gathered whole, zeros too, where the other kernels skip the taps
    that reach only padding) and ``DOT_MIN_ROWS`` outputs. AVX-512 (the dot GEMM's tiles of
    32 registers). Fitted on 40 random calls of the class (``gendot2.py 2``), held out on
    seed 4: docs/planner.rst. On AVX2 too (forty-first round: 0.61x the time of the kernels
    chosen before on 30 random calls of the rule at one thread, 0.59x held out on 30 at two),
    but not where the implicit kernel's skinny GEMM has two vectors of outputs (float64, 8
    or 12 of them: 1.76x slower by ``dot``)."""
    cw, cn, win = g.wide_channels, g.narrow_channels, g.taps * g.wide_channels
    if AVX2 and cn * itemsize >= 2 * VECTOR_BYTES and conv1d_implicit(g, itemsize, layout):
        return False
    return ((SKINNY or AVX2) and itemsize in (4, 8) and layout == "NWC" and g.groups == 1
            and g.dilation == 1 and cw >= 2 and g.taps >= 3
            and (cn <= DOT_MAX_CHANNELS or (cn <= DOT_FEW_CHANNELS and cw <= DOT_FEW_INPUTS
                                            and g.taps >= DOT_FEW_TAPS))
            and DOT_MIN_WINDOW <= win and win * itemsize <= DOT_MAX_WINDOW_BYTES
            and g.batch * g.narrow >= DOT_MIN_ROWS
            and _on_signal_outputs(g) >= DOT_ON_SIGNAL * g.narrow)


BLOCK_DIAGONAL_MAX_PRODUCTS = 1024     # Cw*Cn of the dense filter, at most
BLOCK_DIAGONAL_MAX_GROUPS = 8
BLOCK_DIAGONAL_ONE_TAP_GROUPS = 16    # ... and for one tap
BLOCK_DIAGONAL_MAX_BYTES = 256 << 10   # the dense filter, at most


def block_diagonal(op, g, itemsize):
    """Whether a grouped conv1d_transpose of few channels runs without groups on the filter made
    block-diagonal (zeros between the groups): ``G`` times the multiply-adds, but by
    the kernels of all channels at once, whose cost per multiply-add is a fraction of the grouped
    kernels' with a few channels a group (their loops over groups, channels and taps run a few
    steps each). For at most ``BLOCK_DIAGONAL_MAX_GROUPS`` groups (one tap:
    ``BLOCK_DIAGONAL_ONE_TAP_GROUPS``, a grouped matrix product, whose grouped kernel is
    slowest) and ``BLOCK_DIAGONAL_MAX_PRODUCTS`` channel pairs ``Cw*Cn`` in all; not for a
    transpose whose taps are fewer than its stride from 5 on (each output has at most one tap: the grouped
    direct kernel's rows were up to 2.2x faster), nor one channel each way a group. Measured on
    random grouped calls: docs/planner.rst. The kernel runs the grouped one instead on an input
    with an infinity or a NaN (``0 * inf`` would be NaN in the other groups' outputs), which
    it checks first: a pass over the input, which is why conv1d (whose input is the wide side)
    does not take it (on held-out random calls it was 1.18x slower than its grouped kernels)."""
    cw, cn = g.wide_channels, g.narrow_channels
    most = BLOCK_DIAGONAL_MAX_GROUPS if g.taps > 1 else BLOCK_DIAGONAL_ONE_TAP_GROUPS
    return (op == "transpose" and g.groups > 1 and g.groups <= most
            and cw * cn <= BLOCK_DIAGONAL_MAX_PRODUCTS and cw * cn > g.groups ** 2
            and g.taps * cw * cn * itemsize <= BLOCK_DIAGONAL_MAX_BYTES
            and not (g.stride >= 5 and g.taps < g.stride))


def choose(op, g, itemsize=4, layout="NWC", dense=True):
    """The kernel for ``op`` (``'transpose'``, ``'conv1d'`` or ``'backprop_filter'``) on geometry
    ``g`` with elements of ``itemsize`` bytes and operands in ``layout``: the rule in the module
    docstring. ``dense`` false: never ``'block-diagonal'`` (the grouped kernel it stands for)."""
    kernel = _choose(op, g, itemsize, layout)
    if (dense and kernel in ("direct", "copies", "flip-blas", "ola")
            and block_diagonal(op, g, itemsize)):
        return "block-diagonal"
    return kernel


def _choose(op, g, itemsize, layout):
    if op == "transpose":
        if g.groups > 1 and fir_channels(g, itemsize, layout):
            return "fir"
        if g.groups == 1:
            kernel = _choose_transpose(g, itemsize)
            if (AVX2 and (kernel == "blas" or (kernel == "col2im" and g.wide_channels >= 16))
                    and 2 <= g.narrow <= 16 and g.narrow_channels >= 128
                    and macs(g) >= SMALL_MACS):
                # AVX2: a few frames a batch element of long sums: the overlap-add's dot GEMM
                # reads the filter in place once for them, where BLAS (one GEMM per tap, or
                # col2im's over all taps for 16+ outputs) packs it for a few rows. Not for one
                # frame: each GEMM per tap is then BLAS's matrix-vector product (no packing),
                # and its blocks of outputs split over the threads where the overlap-add's one
                # block does not (docs/planner.rst)
                return "ola"
            if (AVX2 and kernel == "tiled" and g.taps == 1 and g.stride > 1
                    and g.narrow_channels <= ONE_TAP_BLAS_MAX_CIN):
                # AVX2, one tap at a stride from few input channels: BLAS's one GEMM into the
                # output rows s apart (the tiled kernel fills the rows between with zeros tile
                # by tile): held out 0.81x the time (genk1.py 2 24 2; docs/planner.rst)
                return "blas"
            return kernel
        return _choose_transpose_groups(g, itemsize)
    if op == "conv1d":
        if fir_channels(g, itemsize, layout):
            return "fir"
        if conv1d_dot(g, itemsize, layout):
            return "dot"
        kernel = _choose_conv1d(g, itemsize)
        if (AVX2 and kernel == "blas" and g.groups >= GROUPED_DIRECT_MIN_GROUPS
                and g.wide_channels == g.groups and g.narrow_channels <= 32 * g.groups):
            # AVX2, a channel multiplier (one input channel a group, up to 32 outputs) of 9+
            # groups: the direct kernel's rows spread to all the groups' outputs at once, not
            # BLAS's small GEMMs group by group and tap by tap (held out on 20 random calls at
            # two threads, 0.09-0.87x the time; gengc.py 6; docs/planner.rst)
            kernel = "direct"
        if kernel in ("blas", "im2col") and _group_sums(g, itemsize):
            kernel = "direct"
        # the reversed-filter tiled kernel reads one sample of the few input channels per
        # step of its tiles: from fewer than 16 the windows read in place were faster. AVX2:
        # also instead of polyphase, whose block copies and strips of 4 or 8 output channels
        # ran 1.4-7.7x slower than the skinny GEMM on the windows in place (all 74 random
        # calls, both dtypes, one and two threads; docs/planner.rst)
        if ((kernel in ("im2col", "blas") or (kernel == "flip-tiled" and g.wide_channels < 16)
             or (AVX2 and kernel == "direct" and macs(g) >= SERIAL_MACS)
             or (AVX2 and kernel == "polyphase"))
                and conv1d_implicit(g, itemsize, layout)):
            return "implicit"
        if kernel in ("im2col", "blas", "flip-tiled") and implicit_packed(g, itemsize, layout):
            # the packed GEMM reads each block of the filter from L2 for up to 1024 outputs;
            # the reversed-filter tiled kernel's cost grows with the taps, and with few taps of
            # many channels it ran slower on this Zen 4 too (docs/planner.rst, "Stride 1 by the
            # packed GEMM, whatever the taps")
            return "implicit"
        if kernel == "blas" and (conv1d_large_filter(g, itemsize)
                                 or im2col_across(g, itemsize, layout)):
            return "im2col"
        if kernel in ("im2col", "implicit") and stacked_taps_pay(g, itemsize, layout):
            return "blas"
        return kernel
    if op == "backprop_filter":
        if filter_fir(g, itemsize, layout):
            return "fir"
        kernel = _choose_backprop_filter(g, itemsize)
        if ((kernel == "im2col" and filter_pairs(g, itemsize, layout))
                or (kernel == "direct" and filter_small_pairs(g))):
            return "fir"
        return kernel
    raise ValueError(f"unknown op {op!r}")


# --- block sizes -------------------------------------------------------------------------------

def parallel(g):
    """Whether a call of geometry ``g`` is split into work items for threads at all: from
    ``PARALLEL_MACS`` multiply-adds (:func:`threads`). Below, one thread runs the whole call, so
    blocks made smaller or more numerous only for the threads' sake would only cost (ten GEMMs
    of 16 rows instead of one of 147)."""
    return macs(g) >= PARALLEL_MACS


def _halve_for_items(size, floor, items_of, g):
    """``size`` halved (not below ``floor``) until ``items_of(size) >= MIN_ITEMS``, for a call
    split into items (:func:`parallel`)."""
    while parallel(g) and size > floor and items_of(size) < MIN_ITEMS:
        size = max(floor, -(-size // 2))
    return size


GROUPED_ROWS = 256       # wide rows a work item of the grouped transpose's direct kernel ...
GROUPED_MIN_ROWS = 16    # ... down to this many, for MIN_ITEMS items


def grouped_rows(g):
    """Wide rows per work item of the grouped transpose's ``direct`` kernel
    (``_transpose.transpose_grouped``): ``GROUPED_ROWS``, halved down to ``GROUPED_MIN_ROWS``
    for ``MIN_ITEMS`` items where the call is split for threads (one frame of 280 inputs in 7
    groups under 221 taps had one item of 221 rows: two threads ran no faster than one). Each
    output's sum is the same in any block, so the blocks change no bits."""
    return _halve_for_items(GROUPED_ROWS, GROUPED_MIN_ROWS, lambda r: g.batch * -(-g.wide // r), g)


def im2col_blocking(g, itemsize):
    """``(rows, taps)`` for the im2col kernels: taps per block so that a column row holds at
    most 4096 elements (at least one tap), and rows so that a thread's column block is about
    ``SCRATCH_BYTES`` (16 to 512 rows), fewer for at least ``MIN_ITEMS`` work items of conv1d."""
    cwg = max(g.wide_channels // g.groups, 1)
    taps = max(1, min(g.taps, 4096 // cwg))
    rows = max(16, min(512, SCRATCH_BYTES // (itemsize * taps * cwg)))
    rows = _halve_for_items(rows, 16, lambda r: g.groups * -(-(g.batch * g.narrow) // r), g)
    return rows, taps


def _even_channels(channels, blocks):
    """Channels per block where ``channels`` are cut into ``blocks`` even blocks, rounded up to
    a multiple of 16 (a 64-byte vector of float32): the last block takes what is left."""
    return -(-(-(-channels // blocks)) // 16) * 16


PARTIAL_BYTES = 1 << 20   # the partial filters beyond the first, at most (within L2), ...
PARTIAL_BYTES_MACS = 1024  # ... unless the rows give each element this many multiply-adds


def filter_chunks(g, rows, taps, itemsize):
    """Chunks of the ``N*M`` rows for the im2col filter gradient: enough for ``MIN_ITEMS``
    work items with the groups and tap blocks, at most one per block of rows, and partial filters
    of at most 2**20 elements beyond the first, each beyond the first for at least
    ``PARTIAL_MACS`` multiply-adds per element (writing a partial filter and adding it up cost
    as much as a few dozen multiply-adds per element; docs/planner.rst), and at most
    ``PARTIAL_BYTES`` of them where the rows give each element fewer than
    ``PARTIAL_BYTES_MACS`` multiply-adds: partials beyond L2 go to memory and back. On 20
    random calls of 2-8 chunks (the sweep's draws, seed 21) one chunk ran 0.26x / 0.34x the
    time (two / one threads) with 2.9 MB of partials and 150 multiply-adds an element (15 x 10
    samples, 104 -> 16, K=222, float64), where smaller partials, or more work an element, made
    the two-thread calls 1.1-1.9x faster. A function of the shape alone."""
    if not parallel(g):
        return 1
    size = g.taps * (g.wide_channels // g.groups) * g.narrow_channels
    others = g.groups * -(-g.taps // taps)
    chunks = -(-MIN_ITEMS // others)
    chunks = min(chunks, max(1, -(-(g.batch * g.narrow) // rows)))
    while chunks > 1 and ((chunks - 1) * size > (1 << 20)
                          or ((chunks - 1) * size * itemsize > PARTIAL_BYTES
                              and macs(g) < PARTIAL_BYTES_MACS * size)
                          or (chunks - 1) * size * PARTIAL_MACS > macs(g)):
        chunks -= 1
    return max(1, chunks)


CHUNK_ROWS = 512          # (batch, position) rows per chunk of the direct filter gradient ...
MAX_CHUNKS = 64           # ... at most this many chunks ...
PARTIAL_ELEMS = 1 << 21   # ... holding at most this many partial filter elements in all


def direct_filter_chunks(g):
    """Chunks of the (batch, position) rows of the direct filter gradient (each a partial
    filter, added in chunk order), from the shape alone: about ``CHUNK_ROWS`` rows each, at most
    ``MAX_CHUNKS``, and partials of at most ``PARTIAL_ELEMS`` elements in all. A call split for
    threads (:func:`parallel`) that would be one chunk, whose rows each do much work (many taps
    or channels), is cut into up to ``MIN_ITEMS`` chunks of at least ``PARTIAL_MACS`` rows (one
    row's multiply-adds for each element of its partial filter): 1 x 737 rows, 50 groups of 1
    -> 8, K=91, s=8 ran on one thread. On 20 random such calls, held out, 0.70x the time at two
    threads, 1.04x at one (raising calls of 2 or more chunks to 8 was as often slower;
    docs/planner.rst)."""
    size = max(g.taps * (g.wide_channels // g.groups) * g.narrow_channels, 1)
    rows = g.batch * g.narrow
    want = rows // CHUNK_ROWS
    if want < CORES and parallel(g):
        want = min(MIN_ITEMS, rows // PARTIAL_MACS)
    return max(1, min(want, MAX_CHUNKS, PARTIAL_ELEMS // size))


def filter_channels(g, taps, chunks):
    """Output channels a work item of the in-place filter gradient takes of its group (0: all),
    where one group, one block of ``taps`` taps and one chunk of rows make the call one work
    item (a few taps over at most 1024 rows: no chunks, whose partial filters would cost more
    than they save): up to ``MIN_ITEMS`` even blocks of at least 64 channels (a multiple of
    16), from two input channels. Blocks of channels need no partial filters (each output is
    still one item's sum, in the same order) and re-read only the input's few columns: 3 x 369
    rows, 12 -> 1455, K=1, float64, two threads: 0.40 -> 0.33 ms (docs/planner.rst). A
    function of the shape alone."""
    # (with two chunks or more, or one input channel, whose GEMMs are GEMVs, the blocks ran up
    # to 1.6x slower: each block repeats the GEMMs of every batch element's rows)
    return _one_item_blocks(g, taps, chunks, g.narrow_channels // g.groups,
                            g.wide_channels // g.groups, MIN_ITEMS)


def _one_item_blocks(g, taps, chunks, channels, other, most):
    """Channels a block where the in-place filter gradient's ``channels`` (one side of a group)
    are cut into up to ``most`` even blocks of at least 64, if the call would otherwise be one
    work item (one group, one block of ``taps`` taps, one chunk) and the ``other`` side has
    two channels or more; else 0 (all)."""
    blocks = min(most, channels // 64)
    if (not parallel(g) or g.groups * -(-g.taps // taps) * chunks > 1 or blocks < 2
            or other < 2):
        return 0
    return _even_channels(channels, blocks)


FILTER_WIDE_BLOCKS = 4    # blocks of input channels of the in-place filter gradient, at most


def filter_wide_channels(g, taps, chunks):
    """Input channels a work item of the in-place filter gradient takes of its group (0: all),
    where its output channels are too few for :func:`filter_channels`' blocks and the call
    would be one work item: up to ``FILTER_WIDE_BLOCKS`` even blocks of at least 64 input
    channels (a multiple of 16). Each block is the GEMMs' other side (``df[k]^T [Cn/G x block]
    += dy^T @ x_k``, the input's block of columns read in place): its outputs are still one
    item's sums in the same order, with no partial filters, and each block re-reads the
    gradient ``dy`` of the rows, which is why 4 blocks and not ``MIN_ITEMS``: on 28 random
    calls of the class (``genwc.py`` 1 and 2) 4 blocks ran 0.94x the time of one at one
    thread and 0.56x at two (1.34x at worst, a 70 us call), 8 blocks 0.98x and 0.59x (1.82x).
    1 x 302 rows, 611 -> 124, K=1, s=3, float64: 1.0 ms on one thread and on two before
    (docs/planner.rst). A function of the shape alone."""
    return _one_item_blocks(g, taps, chunks, g.wide_channels // g.groups,
                            g.narrow_channels // g.groups, FILTER_WIDE_BLOCKS)


def filter_split_taps(g, itemsize, rows, taps):
    """``(rows, taps)`` of the BLAS filter gradient, its taps cut into more blocks where chunks of
    rows alone cannot give ``MIN_ITEMS`` work items: each block of taps is an item with outputs
    of its own, whereas the chunks' partial filters are bounded in memory (``filter_chunks``), so
    a large filter gets few of them. Taps per block are halved while the blocks, the groups and
    the chunks the memory allows give fewer items and a block keeps at least 64 columns
    (``taps*Cw/G``, the GEMM's short side; a shorter one runs slower); the rows then grow to
    fill the same scratch."""
    cwg = max(g.wide_channels // g.groups, 1)
    size = max(g.taps * cwg * g.narrow_channels, 1)
    chunks = min(MIN_ITEMS, 1 + (1 << 20) // size, max(1, -(-(g.batch * g.narrow) // rows)))
    while (parallel(g) and g.groups * -(-g.taps // taps) * chunks < MIN_ITEMS and taps > 1
           and -(-taps // 2) * cwg >= 64):
        taps = -(-taps // 2)
        rows = max(rows, min(512, SCRATCH_BYTES // (itemsize * taps * cwg)))
    return rows, taps


def filter_skinny(g, itemsize, taps):
    """Whether the im2col filter gradient multiplies by the C layer's skinny GEMM instead of
    BLAS's (NWC operands): float32, a block's ``taps*Cw/G`` at most 128 (the short side of each
    GEMM, ``[taps*Cw/G, rows] @ [rows, Cn/G]``) and ``Cn/G`` at least 32 (two AVX-512 vectors).
    BLAS packs the block of the gradient, ``rows x Cn/G``, for a GEMM that uses each element
    ``taps*Cw/G`` times; the skinny GEMM reads it in place, once per 8 rows of the filter, and
    asks for the next block while it computes. Only with AVX-512 (``SKINNY``): with AVX2's tiles
    of 4 rows, in float64 and with fewer output channels it has not been faster than BLAS on
    blocks of the same rows."""
    cwg, cng = g.wide_channels // g.groups, g.narrow_channels // g.groups
    return SKINNY and itemsize == 4 and taps * cwg <= 128 and cng >= 32


FILTER_WINDOW_MIN_ROWS = 16        # rows a batch element, at least, for the windows in place
FILTER_WINDOW_MAX_CHANNELS = 128   # output channels a group, at most, for filter_skinny_window


def _windows_spaced(g, across=False):
    """Whether the filter gradient can read its columns in place (``window``): each row's (tap,
    channel) columns evenly spaced on the signal, one input channel a group at any dilation or
    one group at dilation 1 (``across`` the columns: one group at dilation 1, one element
    apart), and ``FILTER_WINDOW_MIN_ROWS`` rows a batch element or more."""
    d = g.dilation if g.taps > 1 else 1     # (one tap: the kernel takes the dilation as 1)
    spaced = g.groups == 1 and d == 1
    if not across:
        spaced = spaced or g.wide_channels == g.groups
    return spaced and g.narrow >= FILTER_WINDOW_MIN_ROWS


def filter_skinny_window(g):
    """Whether the skinny filter gradient (:func:`filter_skinny`) reads the columns of the rows
    whose taps all lie on the signal in place (``window``; the rows at the edges gathered), not
    gathered block by block: where a row's (tap, channel) columns are evenly spaced on the
    signal (one input channel a group, or one group at dilation 1) and batch elements have 16
    rows or more. The gathering was a third of the time of a one-channel signal's gradient
    (EnCodec's first layer, 8 x 24000, 1 -> 32, K=7: 26 % of the samples in ``_columns``, 47 % in
    the skinny GEMM); in place, the in-place rows go in the gathered blocks' rows with the same
    request for the next block's ``dy``, so the products and their order are the same
    (docs/planner.rst, "The filter gradient's windows in place")."""
    return _windows_spaced(g) and g.narrow_channels // g.groups <= FILTER_WINDOW_MAX_CHANNELS


def conv1d_skinny(g, itemsize, taps):
    """Whether conv1d's im2col kernel multiplies by the C layer's skinny GEMM and writes the
    output with stores that bypass the caches (NWC operands; AVX-512): float32, all taps in one
    block of at most 64 columns (``K*Cw/G``: each output is then written once, by a GEMM whose
    inner dimension is that short), ``Cn/G`` at least 32, and an output of at least 8 MiB. Such
    a call (a one-channel signal analysed by a bank of short filters) moves more bytes than it
    multiplies, and a store that reads each line of the output first moves them twice."""
    cwg, cng = g.wide_channels // g.groups, g.narrow_channels // g.groups
    out_bytes = g.batch * g.narrow * g.narrow_channels * itemsize
    return (SKINNY and itemsize == 4 and taps == g.taps and taps * cwg <= 64 and cng >= 32
            and out_bytes >= STREAM_MIN_BYTES)


def skinny_rows(g):
    """Rows per block of the skinny filter gradient: a block of the gradient of about 32768
    elements (128 KiB in float32), 16 to 512 rows, a multiple of 8: the block being read and the
    one asked for next both stay in L2."""
    return max(16, min(512, (1 << 15) // max(g.narrow_channels // g.groups, 1))) // 8 * 8


OLA_ADD = 8   # multiply-adds an overlap-added product costs as much as (ola_blocking's model)
OLA_SERIAL = 0.25   # ... and this share of all items' work (_ola_time)
OLA_FEWER_ITEMS = 0.6   # fewer than MIN_ITEMS items where they multiply this share at most


def ola_blocking(g, itemsize, split=None):
    """``(width, taps, batch)`` for the overlap-add kernel: of the cuts :func:`_ola_cuts`
    lists, the one of least modelled time (:func:`_ola_time`) among those with at least
    ``MIN_ITEMS`` work items (or with the most, where none has that many); a cut of fewer items
    (``CORES`` at least) where that one's multiply-adds are at most ``OLA_FEWER_ITEMS`` of its
    (the cuts into ``MIN_ITEMS`` items then multiply most frames again in each block: 4 x 34
    frames, 78 -> 2, K=943, two blocks of 942 and 34 outputs, each multiplying all 34 frames).
    It replaced the first cut that reached ``MIN_ITEMS`` items, which could also keep blocks of
    taps most of which reach no output (52 x 27 frames, K=570, d=6, 27 outputs: 0.47 ms, 0.08
    by blocks of 9 taps). Held out on 480 random calls, the 61 whose cut changed: 0.67x the
    time at one thread, 0.70x at two (docs/planner.rst). Allowed fewer items on the model's
    word alone, it lost up to 2.6x on a fifth of the calls at two threads."""
    cuts = _ola_cuts(g, itemsize, split)
    items = lambda cut: -(-g.batch // cut[2]) * -(-g.wide // cut[0])
    most = min(MIN_ITEMS, max(map(items, cuts)))
    split = [cut for cut in cuts if items(cut) >= most]
    best = split[0] if len(split) == 1 else min(split, key=lambda cut: _ola_time(g, *cut))
    # fewer items (as many as the cores, at least) where they multiply at most 0.6 as much: the
    # cuts into MIN_ITEMS items then multiply most of the frames again in each block
    fewer = [cut for cut in cuts if CORES <= items(cut) < items(best)]
    if fewer:
        other = min(fewer, key=lambda cut: _ola_time(g, *cut))
        if _ola_time(g, *other, macs=True) <= OLA_FEWER_ITEMS * _ola_time(g, *best, macs=True):
            return other
    return best


def _ola_cuts(g, itemsize, split=None):
    """The overlap-add's candidate cuts ``(width, taps, batch)``. Taps per block: the most
    (halving) for which a block of outputs about 256 input rows wide (and at least 3 times the
    taps' span, so that at most a quarter of the rows multiplied fall outside it) needs a
    product block of at most ``SCRATCH_BYTES``. Batch elements per item: enough for about 64
    rows in each GEMM when each element has only a few (one frame under a long filter), within
    the same scratch (fewer taps per block rather than fewer elements: the filter is then read
    once per item). That cut, then, where the call is split for threads, each cut after it
    with more work items (up to ``4 * MIN_ITEMS``): narrower blocks of outputs (down to the
    taps' span), fewer taps per block (while a block's GEMM keeps 64 columns, ``taps*Cout``),
    fewer batch elements per item."""
    d, s, co = g.dilation, g.stride, g.wide_channels
    M = max(g.narrow, 1)
    taps = g.taps

    def rows_of(width, taps):
        return min(M, (width - 1 + (taps - 1) * d) // s + 2)

    while True:
        width = max(3 * (taps - 1) * d, 256 * s, 64)
        if rows_of(width, taps) * taps * co * itemsize <= SCRATCH_BYTES or taps == 1:
            break
        taps = -(-taps // 2)
    batch = max(1, min(g.batch, 64 // rows_of(width, taps)))
    while batch > 1 and batch * rows_of(width, taps) * taps * co * itemsize > SCRATCH_BYTES:
        if taps > 1:      # fewer taps per block first: the filter is then read once per batch
            taps = -(-taps // 2)
            width = max(3 * (taps - 1) * d, 256 * s, 64)
        else:
            batch = -(-batch // 2)
    width = min(width, max(g.wide, 1))
    cuts = [(width, taps, batch)]

    def items(width, batch):
        return -(-g.batch // batch) * -(-g.wide // width)

    while items(width, batch) < 4 * MIN_ITEMS and (parallel(g) if split is None else split):
        if width > max(64, (taps - 1) * d):
            width = max(64, (taps - 1) * d, -(-width // 2))
        elif taps > 1 and -(-taps // 2) * co >= 64:
            taps = -(-taps // 2)
            width = min(width, max(64, (taps - 1) * d))
        elif batch > 1:
            batch = -(-batch // 2)
        else:
            break
        cuts.append((width, taps, batch))
    return cuts


def _ola_time(g, width, taps, batch, macs=False):
    """The overlap-add cut ``(width, taps, batch)``'s modelled time, in multiply-adds: the
    largest work item's, or all of them shared by ``CORES`` cores, whichever is more, plus
    ``OLA_SERIAL`` of all of them (a narrower block multiplies again the rows its neighbours
    do: work that one thread, or a busy machine, pays in full). An item
    (``batch`` elements, a block of ``width`` outputs) multiplies, for each block of taps, the
    ``r`` input rows whose taps land in its outputs (:func:`conv1dt._compiled._gemm.
    transpose_ola`, computed here for each block) by the block's ``kc = taps*Cout`` columns:
    ``r*kc*Cin`` multiply-adds, ``BLAS_PACK*(r + kc)*Cin`` to pack both, ``OLA_ADD*r*kc`` to
    add the products to the outputs; and zeroes its outputs first. Blocks of outputs beyond
    the first and last 8 are taken to be alike (the middle one stands for them). With ``macs``,
    the multiply-adds of all items instead (``r*kc*Cin`` summed)."""
    s, d, p, M, L, K = g.stride, g.dilation, g.pad_before, g.narrow, g.wide, g.taps
    co, ci = g.wide_channels, g.narrow_channels
    nb, ntb = -(-L // width), -(-K // taps)
    if nb > 17:
        blocks = np.r_[0:8, nb // 2, nb - 8:nb]
        weight = np.r_[np.ones(8), nb - 16, np.ones(8)]
    else:
        blocks, weight = np.arange(nb), np.ones(nb)
    o0 = blocks[:, None] * width
    o1 = np.minimum(L, o0 + width)
    k0 = np.arange(ntb)[None, :] * taps
    k1 = np.minimum(K, k0 + taps)
    lo = np.maximum(0, -(((k1 - 1) * d - o0 - p) // s))     # ceil((o0 + p - (k1-1)*d) / s)
    hi = np.minimum(M, (o1 - 1 + p - k0 * d) // s + 1)
    rows = np.maximum(0, hi - lo) * float(batch)
    kc = (k1 - k0) * float(co)
    if macs:
        return float(((rows * kc).sum(axis=1) * weight).sum()) * ci * g.batch / batch
    item = np.where(rows > 0, rows * kc * ci + BLAS_PACK * (rows + kc) * ci + OLA_ADD * rows * kc,
                    0).sum(axis=1) + (o1[:, 0] - o0[:, 0]) * co * batch / 4
    total = float((item * weight).sum()) * g.batch / batch
    return max(float(item.max()), total / CORES) + OLA_SERIAL * total


def blas_blocking(g, itemsize):
    """``(rows, channels)`` for the transpose's BLAS kernel: input rows per GEMM as many as keep
    an item's output rows (``rows*Cout`` elements, one residue mod ``s``) within about 2 MiB,
    at most 1024, evened out over a batch element's blocks. Where the batch elements, their
    blocks and the residues mod ``s`` that have taps make fewer than ``MIN_ITEMS`` work items
    (a short input), the output channels are split first (into blocks of at least 64, evened
    out), the rows only after that and only to make 4 items (to 64 rows): a block of rows
    re-reads and re-packs every tap's filter, a block of channels only the block's input rows,
    which are in cache
    (1 x 352 frames, 861 -> 302, K=9, float32: 28 ms in 18 items of 59 rows x 128 channels,
    18-20 ms in 2-5 items of all 352 rows, one thread)."""
    rows = max(64, min(1024, (1 << 21) // (g.wide_channels * itemsize)))
    # each residue mod s with taps is an item of its own, reading only its taps' filter
    residues = min(g.taps, g.stride // math.gcd(g.stride, g.dilation))
    cout = g.wide_channels

    def items(rows):
        # the kernel's blocks are of outputs, rows*s of them: more than the input's blocks
        # where the filter reaches far past the input (a few frames under a long filter)
        return g.batch * -(-g.wide // (rows * g.stride)) * residues

    rows = min(rows, max(g.narrow, 1))
    channels, split = cout, 1
    if parallel(g) and items(rows) < MIN_ITEMS and cout >= 128:
        # as many blocks of 64 channels or more as make MIN_ITEMS items, evened out
        split = min(-(-MIN_ITEMS // items(rows)), cout // 64)
        channels = (-(-cout // split) + 7) & -8     # a multiple of 8
        split = -(-cout // channels)
    while parallel(g) and rows > 64 and items(rows) * split < 4:
        rows = -(-rows // 2)
    if g.narrow:
        # the blocks of a batch element evened out (75 rows in blocks of 64 left a GEMM of 11)
        rows = -(-g.narrow // -(-g.narrow // rows))
    return rows, min(channels, cout)


def blas_batches(g, rows, channels):
    """Batch elements per work item of the transpose's BLAS kernel: 1, or where a batch element
    has fewer than 64 input rows (its GEMMs that few rows), as many as make about 64 rows, so
    that each tap's block of the filter (output channels then in blocks of at most
    ``SCRATCH_BYTES``) is read from memory once for all of them; fewer while the call would
    have fewer than ``MIN_ITEMS`` items."""
    if g.narrow >= 64 or g.batch == 1:
        return 1
    per = -(-g.wide // (rows * g.stride)) * g.stride * -(-g.wide_channels // channels)
    nb = min(g.batch, 64 // max(g.narrow, 1))
    while parallel(g) and nb > 1 and -(-g.batch // nb) * per < MIN_ITEMS:
        nb = -(-nb // 2)
    return max(nb, 1)


DOT_BLAS_PACKING = 0.03   # float32 GEMMs of R rows into C channels by a BLAS of full-width
                          # kernels where 1/R + 1/C (its packing per multiply-add) is below this
DOT_FEW_ROWS = 16         # ... and of at most this many rows in all, from DOT_FEW_MIN_CIN
DOT_FEW_MIN_CIN = 128


def _tiled_fits(g):
    """Whether the tiled kernel takes a transpose of geometry ``g`` at all (one group, or a
    group's call): built for this CPU, a phase's ``T*Cin`` within its range
    (``TILED_MAX_TCIN``) and an input to tile."""
    return TILED and g.narrow > 0 and phase_taps(g) * g.narrow_channels <= TILED_MAX_TCIN


FEW_FRAMES_TILED_MIN_CIN = 8          # _few_frames_tiled: input channels, at least ...
FEW_FRAMES_TILED_MIN_MACS = 1 << 20   # ... and multiply-adds


def _few_frames_tiled(g):
    """Whether a transpose of a few frames under a long filter (the whole input spanning less
    than half of it) that the overlap-add would take runs the tiled kernel instead: 32 output
    channels or more (half a panel of its tiles) and ``T*Cin`` within its range. The overlap-add
    multiplies each item's frames by all its taps, then adds the products to the outputs in
    order; the tiled kernel writes each output once from the taps that reach it. On random calls
    of the class (``genfo2.py``, 1-32 batch elements of 1-16 frames, 8-256 inputs, 32-1024
    outputs, K 8-256, strides 1-8, cropped calls skipped; both forced, three interleaved rounds)
    it took 0.32x / 0.31x the overlap-add's time (24 float32 calls, seed 1; one / two threads),
    1.9x at worst (a 0.06 ms call of 8 frames), and 0.49x / 0.42x with the filter layout of the
    rounds before. Held out: seed 2, 20 float32 calls, 0.36x / 0.34x (0.92x at worst); seed 3,
    20 float64 calls, 0.59x / 0.47x, two slower (1.69x at worst: one frame into 668 outputs).
    Those draws had 8 inputs or more and a million multiply-adds or more; the sweep (seed 19)
    found fewer inputs and smaller calls slower by the tiled kernel (2 -> 86, one frame, K=154:
    0.007 ms by the overlap-add, 0.028 tiled; 51 -> 40, 0.84 million, float64: 1.5x; 1 -> 52,
    K=175, d=4: 1.2x), so those bound it (docs/planner.rst)."""
    return (_tiled_fits(g) and g.wide_channels >= 32
            and g.narrow_channels >= FEW_FRAMES_TILED_MIN_CIN
            and macs(g) >= FEW_FRAMES_TILED_MIN_MACS)


def _dot_tiled(g, itemsize):
    """Whether a float32 transpose that the dot GEMM would take (a few frames in all, many input
    channels) runs the tiled kernel: more than ``DOT_TILED_MIN_ROWS`` input rows in all, at least
    ``DOT_TILED_MIN_FRAMES`` a batch element, three vectors of outputs (a panel of 64 channels
    mostly full) and ``T*Cin`` within the tiled kernel's range. Since its layout of the filter is
    transposed in registers (the thirty-eighth round; it gathered before), it costs less than the
    dot GEMM's sums of lanes. On random calls of the class (``gendt.py``, float32; seeds 1-3 and
    5, the 30 with these bounds) the tiled kernel took 0.83x / 0.87x the dot GEMM's time (one /
    two threads, geometric mean), 1.28x at worst (two threads, a 0.15 ms call); with 10-23 frames
    a batch element it ran up to 1.8x slower at two threads (fewer work items), hence the frames.
    Held out (seed 6, 14 calls): 0.79x / 0.89x, at worst 0.96x / 1.33x. In float64 (seed 4) it
    gained 0.89x / 0.96x with losses to 1.18x: not taken (docs/planner.rst)."""
    return (itemsize == 4 and _tiled_fits(g) and g.batch * g.narrow > DOT_TILED_MIN_ROWS
            and g.narrow >= DOT_TILED_MIN_FRAMES
            and g.wide_channels * itemsize >= 3 * VECTOR_BYTES)


def _dot_rows_few(g):
    """A transpose of at most ``DOT_FEW_ROWS`` input rows in all, from ``DOT_FEW_MIN_CIN``
    input channels (AVX-512): reading the filter is then most of the work, and the dot GEMM
    reads each tap's filter once where the kernels of many rows pack or lay it out (30 random
    geometries, 48-384 inputs, 16-2048 outputs, one thread: 0.68x the time of the kernels
    chosen before, geometric mean; slower only below 112 inputs, up to 2x, and with 15-16 rows,
    up to 1.35x; held out on 25 others at two threads: the kernels before took 1.73x its time;
    docs/planner.rst)."""
    # (not where the taps reach far beyond the input, _bounds.spread: those calls run as they
    # are only by the overlap-add)
    return (g.batch * g.narrow <= DOT_FEW_ROWS and g.narrow_channels >= DOT_FEW_MIN_CIN
            and g.wide_channels >= 16
            and (g.taps - 1) * g.dilation // g.stride <= 4 * (g.narrow + 256))


def transpose_dot(g, itemsize, rows):
    """Whether the transpose's BLAS kernel multiplies by the C layer's dot GEMM instead of BLAS
    (AVX-512; AVX2 in float32, below): when a GEMM has at most DOT_MAX_ROWS input rows (a few frames), BLAS packs the
    filter's block for only those rows, and the packing costs about as much as the product; the
    dot GEMM reads the filter where it is, each row once (float64 too, since it walks the
    filter's rows in its outer loop). Only for sums of at least ``DOT_MIN_CIN`` input channels."""
    few = min(rows, g.narrow) <= DOT_MAX_ROWS and g.narrow_channels >= DOT_MIN_CIN
    if SKINNY and _dot_rows_few(g):
        return True
    if SKINNY and itemsize == 8 and g.wide_channels >= 32 and not _cpu.packed_on():
        # float64 where the BLAS's kernels are as wide as this CPU's vectors (the packed GEMM
        # is then off; the rule below was set on a CPU whose OpenBLAS ran narrower ones): on an
        # Intel core with OpenBLAS's SkylakeX kernels BLAS ran all 10 random float64 calls the
        # rule below took faster (0.87x the dot GEMM's time, geometric mean); held out, those
        # of more than DOT_FEW_ROWS rows 0.87-0.88x (batches) and 0.86-1.08x (one element),
        # except into fewer than 32 output channels (BLAS's tiles then mostly empty: 2 x 188
        # rows, 1696 -> 21, K=1: 1.5x slower). 1 x 86 frames, 1536 -> 768, K=16, s=8: 81 -> 49
        # ms (docs/planner.rst)
        return False
    if (SKINNY and itemsize == 4 and not _cpu.packed_on()
            and 1 / max(min(rows, g.narrow), 1) + 1 / max(g.wide_channels, 1) < DOT_BLAS_PACKING):
        # float32 on the same BLAS: for each GEMM of R rows into C output channels BLAS packs
        # (R + C)*Cin elements, for R*C*Cin multiply-adds, which its kernels then do faster than
        # the dot GEMM (whose sums across its vectors' lanes, and its rows re-read from L2 for
        # every 4 rows of the filter, cost): BLAS where 1/R + 1/C is below DOT_BLAS_PACKING. On
        # 72 random calls the rule below took (seeds 1-3, both forced, where the threshold was
        # read off): 0.90x / 0.90x the time at one / two threads on the 27 this takes, 1.02x
        # at worst; with 8-32 rows the dot GEMM was up to 2.5x faster. Held out: see
        # docs/planner.rst. 1 x 86 frames, 1536 -> 768, K=16, s=8: 54 -> 43 ms at one thread,
        # 29 -> 21.5 at two
        return False
    if AVX2:
        # float32 GEMMs of at most 32 rows with 8+ output channels (fewer: BLAS's GEMV;
        # float64's 2 x 4 tiles of 4 lanes were no faster; with more rows BLAS was as often
        # faster, an audio decoder's 75 frames 1.1-1.35x): 1.5x on 25 random geometries,
        # Oobleck's 32 frames 1.13x (docs/planner.rst)
        return (few and min(rows, g.narrow) <= 32 and itemsize == 4
                and g.wide_channels >= 8)
    return SKINNY and few


def ola_dot(g, taps, itemsize=4):
    """Whether the overlap-add kernel multiplies by the C layer's dot GEMM instead of BLAS
    (AVX-512; on AVX2 from 128 input channels, below): BLAS packs an item's block of input rows
    and its block of the filter at each call, the dot GEMM reads both where they are but adds
    each output's vector lanes at the end. So the dot GEMM for long sums: ``Cin >= 512`` (with 8 columns ``taps*Cout`` or more), ``Cin
    >= 256`` with 256 columns, ``Cin >= 128`` with 1000 (docs/planner.rst)."""
    cols, cin = taps * g.wide_channels, g.narrow_channels
    if AVX2:
        # from 128 input channels, for 8+ outputs or at most 16 frames a batch element (with
        # fewer outputs and more frames BLAS's GEMMs were up to 1.5x faster); in float64 only
        # the latter (HiFi-GAN's 16 x 32 frames, 512 -> 256: 91 ms by the dot GEMM's 2 x 4
        # tiles of 4 lanes, 68 by BLAS; docs/planner.rst)
        if itemsize == 8 and g.narrow > 16:
            return False
        return cin >= 128 and (g.wide_channels >= 8 or g.narrow <= 16)
    # also from 128 inputs to fewer than 8 columns, from 256 to fewer than 32 (a many-to-few
    # synthesis: the GEMM's few columns waste BLAS's tiles; docs/planner.rst)
    return SKINNY and ((cin >= 512 and cols >= 8) or (cin >= 256 and cols >= 256)
                       or (cin >= 128 and (cols >= 1000 or cols < 8))
                       or (cin >= 256 and cols < 32))


def _rows_within_block(rows, cols, itemsize):
    """``rows``, fewer (not below 16) where a block of ``rows x cols`` elements (the narrow side's
    block an im2col GEMM reads or writes, ``Cn/G`` wide) would pass 256 KiB: a block the size of
    L2 went to memory and back between the GEMM's passes over it."""
    return min(rows, max(16, (1 << 18) // (max(cols, 1) * itemsize)))


def filter_blocking(g, itemsize, nwc=True):
    """The filter gradient's im2col blocks: ``rows``, ``taps``, ``chunks`` and how each block is
    multiplied, ``inplace`` (no gather: one GEMM per tap reads the input where it is, NWC only)
    or ``skinny`` (:func:`filter_skinny`) or BLAS on the gathered block.

    In place when ``K = 1`` (the gather would be a copy) or when the output has few channels
    (``Cn/G <= 16``) and the input at least 8 (``Cw/G >= 8``): the GEMM then does about
    ``Cn/G`` multiply-adds per element of the input, so a gathered copy of it costs as much as
    the product. Its work items are blocks of taps (about ``MIN_ITEMS`` of them with the groups)
    and then chunks of rows. Not with fewer than 64 rows per batch element: each GEMM's inner
    dimension is one element's rows, and a short one spends more on the output than on the sum.
    Also in place where the gathered blocks would hold fewer than 64 rows (``K*Cw/G`` columns
    filling the scratch) from ``FILTER_GATHER_MIN_CHANNELS`` input channels a group and
    ``FILTER_INPLACE_MIN_OUTPUTS`` outputs a batch element (64 for one tap): each
    gathered GEMM then reads and writes its block of the gradient for an inner dimension that
    short (random calls, held out: 0.73x the time at one thread, 0.66x at two, 44 calls;
    with fewer input channels the GEMMs per tap are many and small, up to 4.8x slower)."""
    rows, taps = im2col_blocking(g, itemsize)
    cwg, cng = g.wide_channels // g.groups, g.narrow_channels // g.groups
    in_place = nwc and g.narrow >= 64 and (g.taps == 1 or (cng <= 16 and cwg >= 8))
    if nwc and not in_place and filter_gemv(g):
        # a block of the gradient that stays in L2 for the GEMVs of its few columns
        rows = max(16, min(1024, SCRATCH_BYTES // (cng * itemsize)))
        return {"rows": rows, "taps": g.taps,
                "chunks": filter_chunks(g, rows, g.taps, itemsize),
                "skinny": False, "inplace": False, "gemv": True}
    # AVX2 and AVX-512: GEMMs with a short side by the skinny GEMM (filter_short_side), ahead of
    # the in-place GEMMs per tap but for one tap of several input channels (one GEMM, BLAS's)
    split_rows, split_taps = filter_split_taps(g, itemsize, rows, taps)
    short = None
    if (nwc and SHORT_SIDE and not (in_place and g.taps == 1 and cwg > 1)
            and not (SKINNY and cng >= 8 and cwg >= 128)):
        # (AVX-512, 8 outputs or more from 128 inputs or more: the GEMMs as before ran up to
        # 2.3x faster than the skinny GEMM across the columns; docs/planner.rst)
        short = filter_short_side(g, itemsize, split_taps)
        if in_place and short and not short[2]:
            # the GEMMs per tap in place read the input where it is, where the short side's
            # GEMM on gathered blocks (no windows in place: a dilation, or groups) gathers K*Cw
            # columns a row for a few outputs (1 x 1324 rows, 165 -> 1, K=46, s=2, d=5,
            # float64: 4.4 ms gathered, 1.6 in place, NumPy 2.1). Until the eighteenth round
            # for one output channel only; on 40 random calls where both apply (up to 16
            # outputs, 8-128 inputs a group) the gathered short side took 1.36x the faster
            # one's time (geometric mean; 3.0x at worst), in place 1.04x (1.6x); held out on 40
            # at two threads, 1.66x (4.8x) -> 1.03x (1.5x) (docs/planner.rst)
            short = None
    # BLAS packs the gradient's block; in float64 the smaller blocks were as often slower as
    # faster
    gathered = _rows_within_block(split_rows, cng, itemsize) if itemsize == 4 else split_rows
    if (not in_place and not short and nwc
            and (g.narrow >= 64 or (g.narrow >= FILTER_INPLACE_MIN_OUTPUTS and g.taps > 1))
            and cwg >= FILTER_GATHER_MIN_CHANNELS and not filter_skinny(g, itemsize, taps)):
        # blocks of fewer than 64 gathered rows (a scratch-sized block of K*Cw columns): each
        # GEMM's inner dimension is that short, and it reads and writes its block of the
        # gradient for so few; the GEMMs per tap in place sum a batch element's rows at once.
        # From FILTER_INPLACE_MIN_OUTPUTS outputs a batch element for 2+ taps (thirty-first
        # round; before, 64): on 30 random calls of fewer than 64 (genbf.py 1) in place took
        # 0.5-0.97x the gathered blocks' time from 15 outputs but one tap, and up to 8.5x with
        # 1-9 (docs/planner.rst)
        in_place = gathered < 64
    if in_place and not short:
        taps = -(-g.taps // max(1, -(-MIN_ITEMS // g.groups))) if parallel(g) else g.taps
        rows = 1024
        chunks = filter_chunks(g, rows, taps, itemsize)
        channels = filter_channels(g, taps, chunks)
        return {"rows": rows, "taps": taps, "chunks": chunks, "skinny": False, "inplace": True,
                "channels": channels,
                "wide_channels": 0 if channels else filter_wide_channels(g, taps, chunks)}
    skinny = nwc and filter_skinny(g, itemsize, taps)
    if skinny:
        rows = skinny_rows(g)
    else:
        rows, taps = gathered, split_taps
    across = window = False
    if short and not skinny:
        skinny, across, window = short
    elif skinny:
        window = filter_skinny_window(g)
    chunks = filter_chunks(g, rows, taps, itemsize)
    stream = nwc and not skinny and filter_stream(g, itemsize)
    plain = nwc and not (skinny or across or window or stream)
    return {"rows": rows, "taps": taps, "chunks": chunks,
            "skinny": skinny, "inplace": False, "across": across, "window": window,
            "window_rows": 1024 if window else 0,
            "packed": nwc and not skinny and filter_packed(g, itemsize, taps),
            "stream": stream,
            "channels": filter_gathered_channels(g, taps, chunks) if plain else 0}


GATHERED_MIN_SHARE = 0.75   # the cores' busy share at most for the items' channels to be cut


def filter_gathered_channels(g, taps, chunks):
    """Output channels a work item of the gathered filter gradient takes of its group (0: all),
    where its groups, blocks of ``taps`` taps and chunks of rows give so few work items that the
    machine's ``CORES`` would be busy ``GATHERED_MIN_SHARE`` of the time at most (on two cores,
    one item or three): the fewest even blocks of at least 64 channels (a multiple of 16) that
    make the items a multiple of the cores. A gradient of a few taps of many channels (too
    large for the partial filters of more chunks) was otherwise one item or three, one thread
    taking two of three. Each block gathers its rows again (``K*Cw/G`` columns for ``2*Cn/G``
    multiply-adds each) for a GEMM half as wide: on 16 random calls (``genbc.py 1``) two
    threads ran 0.87x the time, one thread 1.06x (1.10x at worst); with five items 0.87-0.97x
    at two threads for 1.05-1.10x at one, so only the worse shares are cut. Each output is
    still one item's sum in the same order (no partial filters; docs/planner.rst, "Output
    channels as work items of the gathered filter gradient"). A function of the shape and the
    machine."""
    items = g.groups * -(-g.taps // taps) * chunks
    cng = g.narrow_channels // g.groups
    blocks = CORES // math.gcd(items, CORES)
    share = items / (CORES * -(-items // CORES))     # of the cores' time, at best
    if (not parallel(g) or items >= MIN_ITEMS or share > GATHERED_MIN_SHARE or blocks < 2
            or cng // blocks < 64):
        return 0
    return _even_channels(cng, blocks)


FILTER_STREAM_ROWS_AVX2 = 9     # ... without AVX-512, and ...
FILTER_STREAM_ROW_BYTES = 2048  # ... a row of the gradient's output channels of this many bytes
FILTER_STREAM_ROWS = 24   # (batch, position) rows in all, at most, whose GEMMs stream the gradient


def filter_stream(g, itemsize):
    """Whether the gathered filter gradient's one block of rows (at most ``FILTER_STREAM_ROWS``
    rows in all) under a gradient of ``STREAM_MIN_BYTES`` or more is multiplied by the skinny
    GEMM writing past the caches, each element once: the writes are then the whole cost, and
    BLAS's stores read each line of the gradient first. On 16 random calls of 1-64 rows
    (``genbpf.py 51``, against the code before, each in its own process): 0.15-0.88x the time
    up to 24 rows, 1.0-1.16x from 24 to 49; held out (``genbpf.py 52``, 16 calls): 0.83x / 0.85x
    at one / two threads. 3 x 1 outputs, 81 -> 1597, K=27, s=3, float64 (a 28 MB gradient): 9.1
    -> 1.7 ms at one thread (docs/planner.rst). Without AVX-512 (AVX2's skinny GEMM, tiles of 4
    rows) only for at most ``FILTER_STREAM_ROWS_AVX2`` rows into ``FILTER_STREAM_ROW_BYTES``
    of output channels or more: on 20 random calls of the AVX-512 rule (``genfs.py 1``, one
    thread) it ran 0.46-0.95x BLAS's time on those, and up to 1.44x on the others (12-24 rows:
    1.01-1.42x; fewer output channels)."""
    if not SKINNY and (g.batch * g.narrow > FILTER_STREAM_ROWS_AVX2
                       or g.narrow_channels * itemsize < FILTER_STREAM_ROW_BYTES):
        return False
    return (g.batch * g.narrow <= FILTER_STREAM_ROWS
            and g.taps * (g.wide_channels // g.groups) * g.narrow_channels * itemsize
            >= STREAM_MIN_BYTES)


FILTER_PACKED_ROWS = 4000   # (batch, position) rows from which gathered blocks take the packed GEMM


def filter_packed(g, itemsize, taps):
    """Whether the gathered blocks' GEMMs (``df [K*Cw x Cn] += col^T @ dy``, NWC, one group) run
    on the C layer's packed GEMM instead of BLAS's (AVX-512): from ``FILTER_PACKED_ROWS`` rows
    in all, fewer than 256 output channels in whole 64-byte vectors, 8 input channels and at
    least 16 columns ``taps*Cw`` a block. Each block is one GEMM of a few hundred rows into a
    small gradient; BLAS packs both operands for each, the packed GEMM lays out only the block
    of ``dy`` and broadcasts the columns where they are. Set on 40 random calls of channel
    counts 16-512 (``genpk2.py 3``): 0.87x the time at one thread, 0.82x at two (float32),
    0.82x / 0.76x (float64); held out on 30 more (``genpk3.py 6``): 0.87x / 0.87x (float32, 13
    calls), 0.82x / 0.81x (float64, 17), none over 1.1x. 64 x 1024, 32 -> 32, K=5, s=2,
    float32: 6.2 -> 4.4 ms at one thread. With fewer rows the calls were as often slower (up to
    1.3x: a few blocks, each laying out its block of ``dy`` for one GEMM), with output channels
    short of a vector or a few columns (the sweep's draws: 4-52 columns, 26-702 outputs) up to
    1.3x slower. Added after the held-out runs, from the peer table's rows: 8 input channels
    (8 x 3200, 1 -> 80, K=251: 1.10-1.12x slower) and fewer than 256 outputs (4 x 3000, 80 ->
    384, K=3: 1.02-1.05x; docs/planner.rst)."""
    cwg = g.wide_channels // g.groups
    return (SKINNY and g.groups == 1 and g.batch * g.narrow >= FILTER_PACKED_ROWS
            and g.narrow_channels % (64 // itemsize) == 0 and g.narrow_channels < 256
            and cwg >= 8 and taps * cwg >= 16)


FILTER_GATHER_MIN_CHANNELS = 8   # input channels a group from which short blocks go in place
FILTER_INPLACE_MIN_OUTPUTS = 16  # ... with at least this many outputs a batch element (2+ taps)

GEMV_COLUMNS = 3          # the gathered filter gradient's columns (taps*Cw/G) by GEMVs, at most
GEMV_MIN_CHANNELS = 128   # ... for at least this many output channels of a group


def filter_gemv(g):
    """Whether the im2col filter gradient multiplies its gathered block (NWC) by one BLAS GEMV
    per column: at most ``GEMV_COLUMNS`` columns ``K*Cw/G`` (one input channel, a few taps) and
    at least ``GEMV_MIN_CHANNELS`` output channels. The product ``df^T [Cn/G x K*Cw/G] += dy^T
    @ col`` then has a short side of a few columns, for which a GEMM (BLAS's, packing the block
    of ``dy``) or the skinny GEMM (walking down ``dy`` a line of each row at a time) runs at a
    fraction of the speed of a GEMV streaming the block, which stays in L2 for the next column:
    one input channel to 512 outputs, K=3, 16384 rows, 4.4 -> 3.2 ms; to 128, K=1, 540 rows,
    0.030 -> 0.020 ms; with 64 outputs the skinny GEMM stayed 1.5x faster; with 4 columns
    (seed 301) it was as often slower as faster (docs/planner.rst)."""
    cwg, cng = g.wide_channels // g.groups, g.narrow_channels // g.groups
    return (g.taps * cwg <= GEMV_COLUMNS and cng >= GEMV_MIN_CHANNELS
            and macs(g) >= SERIAL_MACS)


def filter_pairs(g, itemsize, layout="NWC"):
    """Whether a filter gradient of a few channels each way runs the ``fir`` kernel pair by pair
    (``Cw*Cn`` FIRs, each channel's windows gathered once for all its pairs), in place of
    im2col, with one group, 2 to 8 taps, from ``FIR_MIN_MACS`` multiply-adds: at dilation 1
    for 2 to ``FIR_PAIRS`` pairs where im2col's GEMMs have both sides shorter than a vector (on
    AVX2 no short-side way of its own, :func:`filter_short_side`); at a larger dilation for as
    many pairs as fill ``FIR_PAIR_BYTES`` (one pair included). im2col then gathers ``K*Cw``
    columns a row for a GEMM of a few elements each way: on 110 random geometries of the first
    class the pairs were 1.3-5x faster (1 -> 3, K=5, 25106 rows: 0.69 ms by im2col, 0.13 so),
    on 23 of the second 2.7x, none slower (docs/planner.rst). More taps: at a dilation, to
    one output channel (:func:`_filter_long_dilated`)."""
    cw, cn = g.wide_channels, g.narrow_channels
    if g.groups != 1 or g.taps < 2 or macs(g) < FIR_MIN_MACS:
        return False
    if g.taps > 8:
        return _filter_long_dilated(g, itemsize)
    if g.dilation > 1:
        # im2col gathers K*Cw columns a row from as many runs of the signal: the pairs win
        # from one channel each way while their sums, and the gradient's channels a row, fill
        # at most a vector, and (NWC, several channels) their windows, s*Cw samples a row
        # gathered, are not sparse (s <= 8)
        return (cw * cn * itemsize <= FIR_PAIR_BYTES and cn * itemsize < FIR_PAIR_BYTES
                and cw * ((g.taps - 1) * g.dilation + 1) <= FIR_PAIR_REACH
                and (layout == "NCW" or cw == 1 or g.stride <= 8))
    if not 1 < cw * cn <= FIR_PAIRS:
        return False
    return not (AVX2 and layout == "NWC" and filter_short_side(g, itemsize, g.taps))


FIR_LONG_SPREAD = 16  # most Cw * s of a dilated gradient to one channel with 9+ taps by fir
FIR_LONG_SIGNAL = 8   # ... whose batch elements are this many filter spans long or more


def _filter_long_dilated(g, itemsize):
    """Whether a filter gradient of more than 8 taps at a dilation runs the ``fir`` kernel pair
    by pair (:func:`filter_pairs`): 2 or more input channels to one output channel (a row's
    ``K*Cw`` columns are then not one run of the signal: im2col gathers each of them for a
    matrix-vector product, one multiply-add per element gathered), the sums of a row within
    ``FIR_PAIR_BYTES``, ``Cw * s`` at most ``FIR_LONG_SPREAD`` (the FIRs' windows, ``s*Cw``
    samples a row, dense enough), the pairs' reach within ``FIR_PAIR_REACH``, and batch
    elements of ``FIR_LONG_SIGNAL`` filter spans or more (else most rows are at the signal's
    edges, which the FIRs take term by term). On 56 random calls of 9-1024 taps (seeds 1-3,
    forced both ways) these conditions kept the calls where fir ran faster and dropped the
    rest (short signals, ``Cw*s`` of 24+, more output channels: 1.1-3.2x slower); held out
    on 14 (seed 4) fir ran 0.13-0.73x im2col's time at one thread: 3 x 225713 samples, 3 -> 1,
    K=12, d=7: 4.7 -> 0.84 ms (docs/planner.rst)."""
    cw, span = g.wide_channels, (g.taps - 1) * g.dilation + 1
    if cw == 1 and g.narrow_channels == 1:
        return _one_channel_dilated(g, itemsize)
    return (g.dilation > 1 and g.narrow_channels == 1 and cw >= 2
            and cw * itemsize <= FIR_PAIR_BYTES and cw * g.stride <= FIR_LONG_SPREAD
            and cw * span <= FIR_PAIR_REACH and g.wide >= FIR_LONG_SIGNAL * span)


FIR_ONE_SPREAD_BYTES = 48    # a dilated FIR gradient of 9+ taps by fir: s * itemsize, at most
FIR_ONE_MIN_OUTPUTS = 400    # ... and outputs a batch element, at least


def _one_channel_dilated(g, itemsize):
    """Whether the gradient of one FIR filter (one channel each way) of more than 8 taps at a
    dilation above 1 runs the ``fir`` kernel tap by tap (each tap a dot product of the
    gradient's rows with the signal's samples at lags ``i*s + k*d``) rather than im2col (a
    row's ``K`` columns ``d`` apart, gathered or read as a strided matrix for a GEMV): where
    the dot products' loads are dense enough, ``s * itemsize`` at most ``FIR_ONE_SPREAD_BYTES``
    (float32 to stride 12, float64 to 6), and there are ``FIR_ONE_MIN_OUTPUTS`` outputs a batch
    element. On 30 random calls (``genfir1.py 1``, K of 9-1024, strides 1-16, one thread) fir ran
    0.13-0.94x im2col's time on those this takes, and up to 1.6x slower on float64 at strides
    7-14 and on fewer than 400 outputs a batch element; held out on 20 at two threads
    (``genfir2.py 2``): 0.45x (0.14-0.92x), none slower (docs/planner.rst)."""
    return (g.dilation > 1 and g.stride * itemsize <= FIR_ONE_SPREAD_BYTES
            and g.narrow >= FIR_ONE_MIN_OUTPUTS)


FIR_SMALL_PAIRS = 8   # channel pairs of a small filter gradient the fir kernel takes


def filter_small_pairs(g):
    """Whether a small filter gradient (under ``SMALL_MACS`` multiply-adds, from
    ``FIR_MIN_MACS``) of one group, 2 to 8 taps and 2 to ``FIR_SMALL_PAIRS`` channel pairs runs
    the ``fir`` kernel pair by pair rather than the direct kernel, whose rows add a few products
    each into the whole gradient: on 50 random such calls (one thread) the direct kernel where
    it was chosen made the choice 1.66x slower than the fastest of direct, im2col and fir
    (geometric mean; 6.1x at worst: 1 x 1716 samples, 1 -> 2, K=3, float64, 30 us against 6),
    fir alone 1.02x (docs/planner.rst)."""
    return (g.groups == 1 and 2 <= g.taps <= 8
            and 1 < g.wide_channels * g.narrow_channels <= FIR_SMALL_PAIRS
            and FIR_MIN_MACS <= macs(g) < SMALL_MACS)


def filter_short_side(g, itemsize, taps):
    """``(skinny, across, window)`` for an im2col filter gradient on AVX2 or AVX-512 whose GEMMs
    have a short side (NWC), else None. BLAS packs both operands of a GEMM with little work per
    element, the skinny GEMM packs nothing: along the output channels (``skinny``) where the
    columns ``taps*Cw/G`` are at most ``FILTER_SHORT_SIDE`` and the channels ``Cn/G`` fill a
    vector; ``across`` the columns (``df^T += dy^T @ col``) where the channels fill less than
    two vectors and the columns are as many and fill one (each vector of channels would be
    mostly empty).
    With ``window`` the columns of the rows whose taps all read the signal are read in place
    (no gather), in blocks of 1024 rows, for batch elements of 16 rows or more and at most 1024
    columns (more: gathered blocks of fewer rows were up to 3x faster), where a row's (tap,
    channel) columns are evenly spaced on the signal (one group at dilation 1, or one input
    channel a group; across the columns, one element apart). Measured: docs/planner.rst."""
    cwg, cng = g.wide_channels // g.groups, g.narrow_channels // g.groups
    lanes = VECTOR_BYTES // itemsize
    cols = taps * cwg
    if cols <= FILTER_SHORT_SIDE and cng >= lanes and (itemsize == 4 or cng <= 64):
        # (float64 with more channels: BLAS on the peer table's one-channel analysis filter
        # gradients, 4 x 16000 x 1 -> 512, K=10, s=5: 10 ms, the skinny GEMM 17.6)
        across = False
    elif cng < 2 * lanes and cols >= max(cng, lanes):
        across = True
    else:
        return None
    # (along the channels, a window's block of the gradient, read once per tile of columns,
    # must stay near the core: 4 x 32000 x 1 -> 512, K=16, s=8: 14.0 ms in place, 7.8 gathered)
    window = (_windows_spaced(g, across) and cols <= 1024
              and (across or cng * itemsize <= 256))
    return not across, across, window


def blocking(op, kernel, g, itemsize, layout="NWC"):
    """The block sizes of ``kernel`` for ``op`` on ``g`` with operands in ``layout``, as a dict
    (empty for kernels that derive their own)."""
    if kernel == "im2col":
        if op == "backprop_filter":
            return filter_blocking(g, itemsize, layout == "NWC")
        rows, taps = im2col_blocking(g, itemsize)
        skinny = layout == "NWC" and conv1d_skinny(g, itemsize, taps)
        if not skinny and taps < g.taps:
            # several blocks of taps add into each block of the output in turn
            rows = _rows_within_block(rows, g.narrow_channels // g.groups, itemsize)
        elif not skinny:
            # all taps in one block: one GEMM reads each column block once (packing it), and
            # the longer the block the faster BLAS runs: up to COLUMN_BYTES of it
            cols = taps * (g.wide_channels // g.groups)
            rows = max(rows, min(512, COLUMN_BYTES // (itemsize * cols)))
            rows = _halve_for_items(rows, 16, lambda r: g.groups * -(-(g.batch * g.narrow) // r), g)
        # (the skinny GEMM's columns short of a vector go one by one: a group's outputs must
        # fill one)
        few = SKINNY and layout == "NWC" and g.narrow_channels // g.groups >= 64 // itemsize
        blocks = {"rows": rows, "taps": taps, "skinny": skinny, "few": FEW_ROWS if few else 0}
        # conv1d's BLAS kernel replaced by im2col's rows across the batch elements
        across = (op == "conv1d" and not conv1d_large_filter(g, itemsize)
                  and _choose_conv1d(g, itemsize) == "blas" and im2col_across(g, itemsize, layout))
        if across:
            blocks["rows"], channels = across
            blocks["channels"] = 0 if channels >= g.narrow_channels else channels
        elif conv1d_large_filter(g, itemsize):
            blocks.update(large_filter_blocking(g, itemsize, taps, layout))
        else:
            blocks["channels"] = im2col_channels(g, rows)
        return few_rows_split(g, blocks) if op == "conv1d" and layout == "NWC" else blocks
    if kernel == "blas" and op == "conv1d":
        rows, channels, groups = conv1d_blas_blocking(g, itemsize)
        return {"rows": rows, "channels": channels, "groups": groups}
    if kernel == "flip-blas":
        rows, channels, groups = conv1d_blas_blocking(as_conv1d(g), itemsize)
        return {"rows": rows, "channels": channels, "groups": groups}
    if kernel == "implicit":
        return implicit_blocking(g, itemsize)
    if kernel == "dot":
        return implicit_blocking(g, itemsize, packed=False)
    if kernel == "blas" and op == "transpose":
        rows, channels = blas_blocking(g, itemsize)
        batches = blas_batches(g, rows, channels)
        if batches > 1:
            # the block of the filter an item reads for each of its batch elements stays in L2
            fit = SCRATCH_BYTES // (max(g.narrow_channels, 1) * itemsize) // 16 * 16
            channels = min(channels, max(16, fit))
        return {"rows": rows, "channels": channels, "dot": transpose_dot(g, itemsize, rows),
                "batches": batches}
    if kernel == "ola":
        # with groups, each group's GEMMs and sums are those of its channels (the cuts' costs
        # all scale by the groups)
        split = parallel(g)        # (the whole call's work, not one group's)
        g = g._replace(narrow_channels=g.narrow_channels // g.groups,
                       wide_channels=g.wide_channels // g.groups, groups=1)
        width, taps, batch = ola_blocking(g, itemsize, split)
        return {"width": width, "taps": taps, "batch": batch, "dot": ola_dot(g, taps, itemsize)}
    if kernel == "direct" and op == "backprop_filter":
        return {"chunks": direct_filter_chunks(g)}
    if kernel == "depthwise" and op == "backprop_filter":
        return depthwise_filter_blocking(g)
    if kernel == "depthwise":
        return {"rows": depthwise_rows(g, op)}
    if kernel == "fir" and op == "backprop_filter":
        taps, chunks = fir_grad_blocking(g, itemsize)
        return {"taps": taps, "chunks": chunks}
    if kernel == "fir":
        return {"rows": fir_rows(g)}
    return {}


def im2col_channels(g, rows):
    """A group's output channels per work item of conv1d's im2col kernel (0: all of them): where
    the blocks of ``rows`` rows and the groups give fewer than ``MIN_ITEMS`` items, even blocks
    of channels (a multiple of 16, at least 128) make up the rest. Each block gathers the rows'
    columns and calls BLAS again: 16 x 700 samples, 4 -> 797, K=700, s=5 (one output a batch
    element, all 16 rows in one block) ran on one thread, 0.90 ms at two threads, 0.81 at one;
    in 6 blocks of 144 channels 0.54 and 1.01 ms (10 x 1033, 58 -> 308, K=259, s=5, d=4: 1.94
    and 1.85 ms, in 2 blocks 0.99 and 2.05; docs/planner.rst)."""
    cng = g.narrow_channels // g.groups
    items = g.groups * -(-(g.batch * g.narrow) // rows)
    if not parallel(g) or items >= MIN_ITEMS or cng < 256:
        return 0
    cuts = min(-(-MIN_ITEMS // items), cng // 128)
    return _even_channels(cng, cuts)


def conv1d_large_filter(g, itemsize):
    """Whether conv1d (one group, on AVX2) has a filter beyond L2 (``K*Cw*Cn`` of at least
    ``LARGE_FILTER_BYTES``) for at most 512 (batch, position) rows in all: BLAS packs the filter
    for each GEMM, so that blocks of rows cut small for the threads' sake (the BLAS kernel's
    per batch element and tap, im2col's halved down to 16 rows) read it from memory and pack it
    once per block, a cost as large as their products. The im2col kernel then takes all the
    rows in one block (:func:`large_filter_blocking`). Not for more than 16384 columns
    (``K*Cw``, four blocks of taps): on 40 random geometries those were as often slower (up to
    1.9x) as faster."""
    return (AVX2 and g.groups == 1 and g.batch * g.narrow <= 512
            and g.taps * g.wide_channels <= 16384
            and g.taps * g.wide_channels * g.narrow_channels * itemsize >= LARGE_FILTER_BYTES)


def large_filter_blocking(g, itemsize, taps, layout):
    """im2col blocks for :func:`conv1d_large_filter`: all the rows in one block where their
    column block (``rows x taps*Cw``) stays within ``4 * COLUMN_BYTES``, the work items then
    even blocks of output channels (about 512 each, at most ``MIN_ITEMS`` items; two from 256
    channels), or with fewer than 256 channels blocks of at least 128 rows;
    blocks of at most ``FEW_ROWS`` rows (one or two outputs a batch element) by the skinny GEMM,
    the filter streamed from memory once for them, where the channels fill a vector (NWC). A
    call of that few rows in all is split into chunks of the taps instead
    (:func:`few_rows_split`)."""
    rows = g.batch * g.narrow
    if rows * taps * g.wide_channels * itemsize > 4 * COLUMN_BYTES:
        rows = max(16, 4 * COLUMN_BYTES // (taps * g.wide_channels * itemsize))
    channels = 0
    items = -(-(g.batch * g.narrow) // rows)
    if parallel(g) and items < MIN_ITEMS:
        # blocks of output channels, evened out: about 512 each, two from 256
        cuts = min(-(-MIN_ITEMS // items), max(2, g.narrow_channels // 512))
        if g.narrow_channels >= 256:
            channels = -(-g.narrow_channels // cuts)
        else:
            # too few channels to cut: blocks of rows, at least 128 (the filter packed once each)
            rows = max(128, -(-rows // MIN_ITEMS))
    few = layout == "NWC" and g.narrow_channels * itemsize >= VECTOR_BYTES
    return {"rows": rows, "channels": channels, "few": FEW_ROWS if few else 0}


FEW_SPLIT_MACS = 1 << 21   # multiply-adds on the signal from which a few rows' taps are split


def few_rows_split(g, blocks):
    """``blocks`` (conv1d's im2col) with the taps in ``ksplit`` chunks where the call's rows
    are one block of at most ``FEW_ROWS`` (the skinny GEMM's, the filter streamed once for
    them) with ``FEW_SPLIT_MACS`` multiply-adds on the signal: ``MIN_ITEMS`` chunks of the
    taps that reach it (at most one a tap), each a work
    item that streams its own part of the filter into partial outputs, summed in order after,
    instead of blocks of output channels, each of which streams every row of the filter past
    the core for a part of it (8 x 1 output, 264 -> 133, K=95, d=4: one item, 0.80 ms at one
    thread and two; 0.44 ms at two in chunks; docs/planner.rst)."""
    if not (blocks.get("few") and g.batch * g.narrow <= FEW_ROWS and g.taps > 1):
        return blocks
    links = _links(g)
    if g.batch * links * g.wide_channels * g.narrow_channels >= FEW_SPLIT_MACS:
        # (chunks of the taps that reach the signal: a SAME call of one output under a long
        # filter reaches with a few of them)
        blocks = dict(blocks, channels=0, ksplit=min(MIN_ITEMS, -(-links // max(g.narrow, 1))))
    return blocks


def past_the_caches(nbytes):
    """Whether a kernel that can writes an output of ``nbytes`` with stores that bypass the
    caches (it will not be read back soon, so its lines need not be read first): from
    ``STREAM_MIN_BYTES``, with AVX-512 (``STREAMS``). A 64-byte vector is a whole cache line;
    AVX2's 32-byte streaming stores, half a line each, ran slower than plain stores on the AVX2
    Zen 3 in every kernel that could use them, whatever the output's size (6-400 MiB): the
    depthwise kernel's tiles, which store the two halves of a line in turn, 2.1-3.1x the time
    (8192 x 256, K=9), the implicit kernel's 1.1-1.8x (wav2vec's first layer, 1-64 x 16000),
    the tiled kernel's even (``strm.py``, fortieth round, docs/benchmarks.rst)."""
    return STREAMS and nbytes >= STREAM_MIN_BYTES


def implicit_blocking(g, itemsize, packed=None):
    """``rows`` (outputs per work item of the ``implicit`` kernel) and ``stream``: 512 rows, fewer
    while the column matrix of an item's edge outputs would exceed ``SCRATCH_BYTES`` or the call
    would have fewer than ``MIN_ITEMS`` items (at least 16); outputs of ``STREAM_MIN_BYTES`` and
    more written past the caches. With the packed GEMM (``packed``, by default
    :func:`implicit_packed`), :func:`packed_blocking`."""
    if packed is None:
        packed = implicit_packed(g, itemsize)
    if packed:
        return packed_blocking(g, itemsize)
    cols = g.taps * g.wide_channels
    rows = max(16, min(512, SCRATCH_BYTES // (itemsize * cols)))
    rows = _halve_for_items(rows, 16, lambda r: -(-(g.batch * g.narrow) // r), g)
    out_bytes = g.batch * g.narrow * g.narrow_channels * itemsize
    return {"rows": rows, "stream": past_the_caches(out_bytes)}


PACKED_ROWS = 1024        # outputs a work item of the implicit kernel by the packed GEMM, at most
PACKED_MIN_ROWS = 48      # ... and at least, where the call has that many


def packed_blocking(g, itemsize):
    """``rows``, ``channels`` and ``edge`` of the implicit kernel by the packed GEMM, from the
    cost model of conv1d's BLAS kernel (:func:`conv1d_blas_blocking`). Each work item lays out
    its block of the filter's columns once for all its rows (of up to 16 batch elements, whose
    edges' rows fit the column matrix together), and reads its rows' windows once for its
    block of columns: an item of ``r`` rows by ``c`` channels is taken to cost
    ``r*c * (1 + BLAS_PACK/c + BLAS_PACK/r)``, the call ``ceil(items / CORES)`` rounds of its
    largest item (no straggler's half round, :func:`_straggler`: each item lays out its block
    of the filter, which the model does not count, and more items cost 11-14 % quiet where
    the straggler saved 16 % under load, 4 x 2048, 256 -> 512); the cheapest cut into
    blocks of rows (at most ``PACKED_ROWS``, down to ``PACKED_MIN_ROWS`` or all of a shorter
    call's) by even blocks of whole strips of the packed GEMM (two 64-byte vectors wide). The
    floor was 128 rows: a call of 128-255 rows then ran in one block of rows, often one item
    or channel blocks of two strips and one at two threads (32 random calls whose cut the floor
    of 48 changes, ``genmin.py``: 1.02x the time at one thread, 0.79x at two). It
    replaced the cut into at least ``MIN_ITEMS`` items of channel blocks first (4 x 256 rows,
    256 -> 512, K=16, s=8 in 8 blocks of 64 channels; Whisper's 1500 rows in blocks of 1024 and
    476): on 50 random calls 0.91x the time at two threads (docs/planner.rst). The edges'
    outputs go through a column matrix of ``edge`` rows within ``SCRATCH_BYTES`` (one at
    least)."""
    cols = g.taps * g.wide_channels
    total = g.batch * g.narrow
    rows = min(PACKED_ROWS, max(total, 1))
    channels = g.narrow_channels
    if parallel(g) and total:
        width = 128 // itemsize     # a strip of the packed GEMM: two 64-byte vectors
        strips = -(-g.narrow_channels // width)
        cut = _cheapest_cut(total, 1, g.narrow_channels, PACKED_ROWS,
                            min(PACKED_MIN_ROWS, total),
                            [-(-strips // nc) * width for nc in range(1, strips + 1)], 1)
        rows, channels = cut[:2] if cut else (rows, channels)
    edge = max(1, min(rows, SCRATCH_BYTES // (itemsize * max(cols, 1))))
    out_bytes = total * g.narrow_channels * itemsize
    return {"rows": rows, "stream": past_the_caches(out_bytes), "packed": True,
            "channels": channels, "edge": edge}


PACKED_MIN_COLUMNS = 192   # K*Cw, the windows' length, at least
PACKED_MIN_OUTPUTS = 48    # outputs a batch element
PACKED_ON_SIGNAL = 0.9     # the share of them whose windows lie on the signal, at least
PACKED_MAX_FILTER_BYTES = 96 << 20   # the filter, at most (the largest measured)


def _links(g):
    """The (output, tap) links of a batch element whose sample is on the signal
    (:func:`conv1dt._geometry.links_on_signal` of ``g``)."""
    return links_on_signal(g.wide, g.narrow, g.taps, g.stride, g.dilation, g.pad_before)


def _on_signal_outputs(g):
    """How many outputs of a batch element have their whole window on the signal."""
    span = (g.taps - 1) * g.dilation
    lo = min(g.narrow, -(-g.pad_before // g.stride))
    last = g.wide - 1 + g.pad_before - span
    hi = min(g.narrow, last // g.stride + 1) if last >= 0 else 0
    return max(0, hi - lo)


def implicit_packed(g, itemsize, layout="NWC"):
    """Whether conv1d's ``implicit`` kernel runs by the packed GEMM (:func:`packed_blocking`),
    where :func:`choose` gives it, BLAS, im2col or (at stride 1) the reversed filter's tiles:
    the windows read in place as by the skinny GEMM, the filter laid out
    in blocks of 256 steps by 256 columns that stay in L2 while every output of a block of rows
    reads them (the skinny GEMM walks down the filter's whole panel for each tile of 8 outputs;
    BLAS packs the filter for each tap, im2col for each block of 16-512 gathered rows). AVX-512
    (the tiles' kernels), NWC, one group, dilation 1 or one input channel (each window one
    evenly spaced run), windows of at least ``PACKED_MIN_COLUMNS``, at least
    ``PACKED_MIN_OUTPUTS`` outputs a batch element (the filter is laid out once per work item,
    for a few batch elements at most; with more than 64 input channels it took 128, where
    BLAS's GEMM per tap, whose inner dimension is ``Cw``, ran near its peak on the round-24
    machine: on this Zen 4, whose OpenBLAS runs its GEMMs at 80-88 GFLOP/s a core,
    the calls of 48-127 outputs it now takes ran 0.87x / 0.86x the time of BLAS, one / two
    threads, 36 held-out calls, ``genrule2.py``), ``PACKED_ON_SIGNAL`` of them on the signal
    (the others are gathered into a column matrix: a few rows per GEMM when they do not all
    fit), output channels that fill the tiles'
    two vectors to three quarters or more, and a filter of at most ``PACKED_MAX_FILTER_BYTES``
    (the cap was 16 MiB while the edges' rows that did not fit the column matrix each read the
    whole filter from memory; with them a tile at a time, ``_gemm.pyx``'s ``_late_edges``,
    the packed GEMM was faster than BLAS on held-out random calls with 17-96 MiB filters, the
    largest measured: docs/planner.rst). On random calls the rule newly takes
    (``gen2.py``, held out): 0.81x (one thread) / 0.84x (two) the time of the kernels chosen
    before, 96 calls, 1.2x / 1.4x at worst (docs/planner.rst)."""
    if not (SKINNY and itemsize in (4, 8) and layout == "NWC" and g.groups == 1
            and (g.dilation == 1 or g.wide_channels == 1)):
        return False
    width = 128 // itemsize
    strips = -(-g.narrow_channels // width) * width
    fbytes = g.taps * g.wide_channels * g.narrow_channels * itemsize
    return (g.taps * g.wide_channels >= PACKED_MIN_COLUMNS and g.narrow >= PACKED_MIN_OUTPUTS
            and 4 * strips <= 5 * g.narrow_channels and fbytes <= PACKED_MAX_FILTER_BYTES
            and _on_signal_outputs(g) >= PACKED_ON_SIGNAL * g.narrow)


def conv1d_blas_blocking(g, itemsize=4):
    """``(rows, channels, groups)`` for conv1d's BLAS kernel (one GEMM per tap and group for each
    block of ``rows`` output rows, ``groups`` adjacent groups and ``channels`` of each group's
    output channels), from a cost model.

    An item of ``r`` rows by ``c`` channels does ``r*c`` multiply-adds a tap and input channel,
    for which BLAS packs its ``r`` input rows and its ``c`` columns of the tap's filter: its
    time is taken as ``r*c * (1 + BLAS_PACK/c + BLAS_PACK*L/r)``, where ``L`` is 4 under a
    group's filter beyond L2 (``LARGE_FILTER_BYTES``: each block of rows then reads its columns
    of the filter from memory again), else 1; the call's as ``ceil(items / CORES)`` rounds of
    its largest item, ``CORES`` the cores of this machine (items are handed out dynamically,
    and a count that is not a multiple of the cores leaves some idle in the last round), and,
    for calls from ``STRAGGLER_MIN_MACS`` multiply-adds, half a round more on several cores,
    for a thread that shares its core (:func:`_straggler`). The
    cut of least cost among blocks of 16 to 1024 rows (at least 128, or all of a shorter
    signal's, under a filter beyond L2, but down to one block a core where, in one group,
    neither the batch nor the channels give each core an item) and even blocks of channels,
    multiples of 16 down to 64 (all of a group's with groups); where one thread runs the call,
    all the channels and blocks of up to 1024 rows. BLAS's GEMMs run faster the wider they are
    (in cache, 128 x 512 by 128 columns: 127 GFLOP/s in float32, 57 in float64; by 1024
    columns: 137 and 74), so the model cuts into as few items as keep the cores busy: on random
    calls, held out, two threads, 0.91x the time of the cut into at least 8 items
    (docs/planner.rst). Whisper's conv1d, 1 x 1500 rows, 512 -> 512, K=3: 12 blocks of 128 rows
    packed 36 copies of a tap's filter and ran 1.2x as long as one GEMM per tap. Under a large
    filter, the floor of 128 rows had left one core idle where one batch element had fewer (1 x
    238 rows, 429 -> 9, K=84, float64: one item); on 30 random such calls, held out, one block
    a core ran 0.64x the time at two threads, 1.04x at one (each block reads the filter again;
    docs/planner.rst). With groups, an item of ``gb`` of them costs ``gb`` times one group's
    block, and the blocks of groups (:func:`blas_group_blocks`) multiply the items as the batch
    does: the cheapest cut over them, the fewest items among equal costs."""
    cng = max(g.narrow_channels // g.groups, 1)
    rows = min(1024, g.narrow) if g.narrow else 1024
    if not parallel(g) or not g.narrow:
        return rows, cng, g.groups
    filter_bytes = g.taps * (g.wide_channels // g.groups) * cng * itemsize
    large = filter_bytes >= LARGE_FILTER_BYTES
    blocks = range(2, cng // 64 + 1) if g.groups == 1 else ()
    least = min(128 if large else 16, g.narrow)
    if large and g.groups == 1 and g.batch * max(1, cng // 64) < CORES:
        # blocks of 128 rows would leave cores idle: down to one block a core (items are
        # batch elements, blocks of rows and of channels; grouped calls have their groups)
        least = min(least, max(16, -(-g.narrow // CORES)))
    widths = [cng] + [_even_channels(cng, nc) for nc in blocks]
    best = None
    for gb in blas_group_blocks(g, itemsize):
        # an item of gb groups runs each group's GEMMs in turn: gb times one group's cost
        cut = _cheapest_cut(g.narrow, g.batch * -(-g.groups // gb), cng, 1024, least, widths,
                            4 if large else 1, straggler=_straggler(g))
        if cut and (best is None or cut[2] * gb < best[2] * (1 - 1e-9)):
            best = (cut[0], cut[1], cut[2] * gb, gb)
    return (best[0], best[1], best[3]) if best else (rows, cng, g.groups)


GROUP_ROW_BYTES = 256    # of each output row a work item of some groups writes, at least
                         # (as the im2col kernels' GROUP_BYTES in _gemm.pyx)


def blas_group_blocks(g, itemsize):
    """The blocks of adjacent groups that conv1d's BLAS kernel may give each work item, most
    groups first: all of them, and every even cut (``ceil(G / n)`` groups) whose groups write
    at least ``GROUP_ROW_BYTES`` of each output row (narrower, two items would write the same
    cache lines in turn). Each group's GEMMs are the same in any item, so the groups are an
    axis of the work as free as the batch: the wav2vec 2.0 positional convolution (1 x 250
    rows, 768 -> 768 in 16 groups, K=128) had all its groups in one item, one block of rows
    under a 1.2 MiB filter a group, and ran no faster on two threads than on one."""
    cng = max(g.narrow_channels // g.groups, 1)
    sizes = dict.fromkeys(-(-g.groups // n) for n in range(1, g.groups + 1))
    return [gb for gb in sizes if gb == g.groups or gb * cng * itemsize >= GROUP_ROW_BYTES]


IM2COL_GATHER = 32        # multiply-adds a gathered element costs as much as (im2col_across)
IM2COL_ACROSS_GAIN = 0.6  # im2col_across's modelled cost against the BLAS kernel's, at most


def im2col_across(g, itemsize, layout="NWC"):
    """``(rows, channels)``, im2col's cut of conv1d where it replaces the BLAS kernel, or None.

    The BLAS kernel reads the signal in place, so each of its GEMMs takes the rows of one batch
    element, and a call of a few outputs a batch element packs each tap's filter once per
    element (11 x 16 outputs, 470 -> 575, K=5: 55 GEMMs of 16 rows, the 1 MiB of a tap's filter
    packed for each). im2col gathers the windows of rows of several batch elements into one
    column matrix, ``rows x K*Cw``, and multiplies it by the whole filter at once. Both cuts are
    costed by the model of :func:`_cheapest_cut`, im2col's with ``IM2COL_GATHER`` for each
    gathered element: AVX-512 (where it was measured; ``SKINNY``), NWC (the rows of all batch
    elements one run), one group, several batch
    elements, all taps in one column block (``K*Cw <= 4096``: several blocks of taps would add
    into each output in turn), and im2col's cost at most ``IM2COL_ACROSS_GAIN`` of BLAS's.
    Set on 40 random calls the BLAS kernel took (``genim.py 1``) and 10 more (seed 3, which
    moved the threshold from 0.8 to 0.6); held out on 120, the 17 it takes ran 0.62x the time
    at one and two threads, none slower. With more columns, or fewer output channels (the
    gather then costs as much as the product), BLAS was up to 6x faster (docs/planner.rst)."""
    cols = g.taps * g.wide_channels
    if not (SKINNY and layout == "NWC" and g.groups == 1 and g.batch > 1 and g.narrow
            and cols <= 4096 and parallel(g) and not conv1d_skinny(g, itemsize, g.taps)):
        return None
    cn = g.narrow_channels
    far = 4 if cols * cn * itemsize >= LARGE_FILTER_BYTES else 1
    widths = [cn] + [_even_channels(cn, nc) for nc in range(2, cn // 64 + 1)]
    rows, channels, _ = conv1d_blas_blocking(g, itemsize)
    # the two kernels' cuts compared on a quiet machine, as the rule was fitted (each cut is
    # chosen with the straggler)
    blas = _cut_cost(g.batch * -(-g.narrow // rows) * -(-cn // channels), rows, channels, far)
    total = g.batch * g.narrow
    most = max(16, min(1024, 4 * COLUMN_BYTES // (itemsize * cols)))
    cut = _cheapest_cut(total, 1, cn, most, min(16, total), widths, far, IM2COL_GATHER,
                        _straggler(g))
    if not cut:
        return None
    cost = _cut_cost(-(-total // cut[0]) * -(-cn // cut[1]), cut[0], cut[1], far, IM2COL_GATHER)
    # im2col multiplies every tap of every window, the BLAS kernel only the taps on the signal
    waste = g.narrow * g.taps / max(_links(g), 1)
    return cut[:2] if cost * waste <= IM2COL_ACROSS_GAIN * blas else None


# rounds of items a thread that the OS takes away (another busy process on its core) adds to a
# cut of the items over several cores: the call waits for the item it holds (_cut_cost) ...
CUT_STRAGGLER = 0.5
# ... in calls of at least this many multiply-adds (a few of the scheduler's time slices on a
# core): under load a shorter call runs on its calling thread alone whatever the cut, its other
# threads getting the CPU too late to take an item
STRAGGLER_MIN_MACS = 1 << 28


def _straggler(g):
    """The rounds of items the BLAS kernels' cut of ``g`` (:func:`conv1d_blas_blocking`,
    :func:`im2col_across`) is charged for a thread that shares its core: ``CUT_STRAGGLER`` from
    ``STRAGGLER_MIN_MACS`` multiply-adds, else none."""
    return CUT_STRAGGLER if macs(g) >= STRAGGLER_MIN_MACS else 0.0


def _cut_cost(items, rows, channels, far, gather=0, straggler=0.0):
    """The modelled cost of ``items`` work items of ``rows`` rows by ``channels`` channels
    (:func:`_cheapest_cut`), in multiply-adds a (tap, input channel) pair: ``ceil(items /
    CORES)`` rounds of an item, and ``straggler`` rounds more (:func:`_straggler`) where several
    items go to several cores (one item runs on the calling thread alone)."""
    rounds = -(-items // CORES) + (straggler if CORES > 1 and items > 1 else 0)
    return (rounds * rows * channels
            * (1 + (BLAS_PACK + gather) / channels + BLAS_PACK * far / rows))


def _cheapest_cut(total, batch, channels, most, least, widths, far, gather=0, straggler=0.0):
    """``(rows, channels, cost)``, the cut of ``batch`` times ``total`` rows by ``channels``
    output channels into work items of least modelled cost, or None where every cut has more
    than ``4 * MIN_ITEMS * CORES`` items: blocks of ``least`` to ``most`` rows (each even cut of
    ``total``), blocks of channels of the ``widths`` that cut them evenly (``ceil(channels /
    width)`` blocks, the last short). An item of ``r`` rows by ``c`` channels costs
    ``r*c * (1 + (BLAS_PACK + gather)/c + BLAS_PACK*far/r)`` (its rows packed or read once per
    block of channels, and gathered first where ``gather``; its block of the filter once per
    block of rows, ``far`` times dearer from memory), the call ``ceil(items / CORES)`` rounds of
    its largest item, and on several cores ``straggler`` (:func:`_straggler`: half) a round more:
    a thread that shares its core with another busy process holds its item that much longer,
    and a cut of one item a core then takes as long as on one (:func:`conv1d_blas_blocking`,
    :func:`packed_blocking`, :func:`im2col_across`)."""
    best = None
    for c in dict.fromkeys(widths):
        nc = -(-channels // c)
        for nb in range(-(-total // most), total // least + 2):
            r = -(-total // nb)
            if -(-total // r) != nb or r < least:
                continue
            items = batch * nb * nc
            if items > 4 * MIN_ITEMS * CORES:
                break
            cost = _cut_cost(items, r, c, far, gather, straggler)
            if best is None or cost < best[2]:
                best = (r, c, cost)
    return best


def fir_rows(g, outputs=None):
    """Outputs per work item of the FIR kernel (each item one channel of one batch element, of
    ``outputs`` outputs: conv1d's ``M`` unless given): 4096, fewer (down to 256) for at least
    ``MIN_ITEMS`` items."""
    outputs = g.narrow if outputs is None else outputs
    return _halve_for_items(4096, 256, lambda r: g.batch * g.groups * -(-outputs // r), g)


def fir_grad_blocking(g, itemsize):
    """``(taps, chunks)`` for the FIR filter gradient: blocks of 256 taps (two or four tiles of
    the C layer's FIR), halved (down to 32) and then the rows cut into chunks of at least 1024,
    for ``MIN_ITEMS`` work items (each channel a FIR's; the pairs of a few channels each way
    all in one item, which gathers each channel's windows once for all its pairs). At a
    dilation, fewer taps where a block of them would span more than ``FIR_GRAD_REACH`` samples
    of the signal (its window in the C layer: ``FIR_WINDOW // 2``)."""
    chans = g.groups
    most = min(256, g.taps, (FIR_GRAD_REACH - 1) // max(g.dilation, 1) + 1)
    taps = _halve_for_items(most, min(32, most), lambda t: chans * -(-g.taps // t), g)
    chunks = 1
    if parallel(g):
        chunks = max(1, min(-(-MIN_ITEMS // (chans * -(-g.taps // taps))),
                            g.batch * g.narrow // 1024))
    return taps, chunks


DW_FILTER_MIN_TAPS = 8


def depthwise_filter(g, itemsize):
    """Whether a depthwise filter gradient (one channel per group) runs the ``depthwise``
    kernel rather than the direct kernel's rows: from ``DW_FILTER_MIN_TAPS`` taps, 64 bytes of
    channels (a vector of AVX-512's), and positions spanning at least the filter (``M*s >=
    (K-1)*d``). Its blocks of 8 taps keep their sums in registers over a chunk of positions
    whose windows of x and dy it copies into columns, where the direct kernel adds each row's
    products into the whole gradient; with fewer taps the copies and the taps' edges cost more
    than they save, and with fewer positions than the filter spans most taps reach past the
    signal (40 random geometries, one thread: 0.28-0.85x the direct kernel's time from 8 taps,
    up to 2.9x with fewer; docs/planner.rst)."""
    return (g.taps >= DW_FILTER_MIN_TAPS and g.groups * itemsize >= 64
            and g.narrow * g.stride >= (g.taps - 1) * g.dilation)


DW_FILTER_BLOCK = 256     # channels per work item of the depthwise filter gradient ...
DW_FILTER_ITEMS = 16      # ... and the items wanted, from chunks of the rows where the
DW_FILTER_CHUNK_ROWS = 256    # channels are fewer (at least this many rows a chunk)


def depthwise_filter_blocking(g):
    """The depthwise filter gradient's blocks: ``block`` channels a work item
    (``DW_FILTER_BLOCK``), and ``chunks`` of the (batch, position) rows, each with its own
    partial gradient, enough for about ``DW_FILTER_ITEMS`` items where the channels give fewer,
    with at least ``DW_FILTER_CHUNK_ROWS`` rows a chunk. From the shape alone, so that the bits
    do not depend on the thread count."""
    blocks = -(-g.narrow_channels // DW_FILTER_BLOCK)
    rows = g.batch * g.narrow
    chunks = max(1, min(-(-DW_FILTER_ITEMS // blocks), rows // DW_FILTER_CHUNK_ROWS))
    return {"block": DW_FILTER_BLOCK, "chunks": chunks}


def depthwise_rows(g, op):
    """Output samples per work item of the depthwise kernel: 256, fewer (down to 16) for at least
    ``MIN_ITEMS`` items."""
    width = g.wide if op == "transpose" else g.narrow
    return _halve_for_items(256, 16, lambda r: g.batch * -(-width // r), g)


def threads(g):
    """One thread for a call of less than about 1 MFLOP (a parallel region would cost more than
    it saves), else the thread count in force (read at each call), or one while the recent
    parallel calls were held up by another process (:mod:`conv1dt._runtime.load`)."""
    return 1 if macs(g) < PARALLEL_MACS else _load.limit(get_num_threads())


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
        if out is None:
            res = _front.quick_plan(self, a, b)
            if res is not None:
                return res
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
    """Refuse an ``out`` that is not a writeable, C-contiguous and aligned ndarray of ``shape``
    and ``dtype`` sharing no memory with the operands."""
    if type(out) is not np.ndarray:
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape) or out.dtype != dtype:
        raise ValueError(f"out must have shape {tuple(shape)} and dtype {np.dtype(dtype)}, got "
                         f"{out.shape} and {out.dtype}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError("out must be writeable and C-contiguous")
    if not out.flags.aligned:
        raise ValueError(f"out must be aligned: its data starts at an address that is not a "
                         f"multiple of its element size ({out.dtype.alignment} bytes)")
    for a in operands:
        if np.may_share_memory(out, a):
            raise ValueError("out must not share memory with the operands")


# The implicit cache (conv1dt/_compiled/_front.pyx, whose compiled lookup serves the ops'
# repeated calls): plans of calls already checked, by their op and arguments, each stamped
# with the clock's tick at its last use; when the cache is full, the oldest stamp goes.
CACHE_MAX = 256
_cache = _front.cache
_clock = _front.clock


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
