r"""Huge strides, dilations, paddings and sizes, made safe before any C runs (pure Python).

The kernels index in 64-bit ``Py_ssize_t`` and size their tap tables and scratch from the stride
and the dilation. Python's ints have no limit, so a geometry can ask for ``strides=2**62`` or
``dilations=2**64``: such numbers are legal (TensorFlow takes them) and the answer is well defined,
but ``M*s``, ``(K-1)*d``, ``pad + L`` or a tap table of ``s`` entries would overflow or exhaust
memory. This module decides, in Python's exact integers, how each call runs:

1. **Crop** (:func:`link_box`): only the narrow samples ``i0 <= i < i1`` and taps ``k0 <= k < k1``
   can take part in a link ``o = i*s + k*d - p`` with ``0 <= o < L``. The rest contribute nothing
   (conv1d_transpose), or their outputs are zeros (conv1d's rows, the filter gradient's taps).
2. **Collapse**: with one narrow sample left the stride multiplies only ``i = 0``, and with one tap
   left the dilation multiplies only ``k = 0``; either is then replaced by 1.
3. **Check** (:func:`fits`): the reduced geometry's intermediates are then bounded by the sizes
   of the arrays, and proved below ``2**63`` term by term; a call whose reduced geometry still does
   not fit (several samples and several taps with both ``s`` and ``d`` huge, such as
   ``s = D, d = D + 1, p = 2D``, where the links are the anti-diagonal ``i + k = 2``) is computed
   tap by tap in NumPy with Python's integers for the indices (:func:`_by_taps`), exactly.
4. **Spread** (:func:`spread`): a conv1d_transpose whose taps reach much further than the input
   it has (``(K-1)*d/s`` input rows per block against ``M`` rows of input, or a stride beyond the
   output) would make the direct kernel zero-fill ``(K-1)*d/s`` rows per block (time growing as
   ``d**2``, minutes without a check for Ctrl-C) and the col2im kernel allocate that many rows per
   thread. It runs instead on the gather kernel ``transpose_grouped``, whose scratch is nothing and
   whose time is ``O(N * L/256 * K + links * C)``, in chunks of the output called from Python, so
   that Ctrl-C is seen between chunks. A conv1d whose taps span more than four times its input
   is cropped and run on its own kernels, never on the transpose's direct kernel with the taps
   reversed (which would zero-fill ``(K-1)*d`` rows per block the same way). Calls whose numbers
   fit and whose taps do not reach far run as they are: :func:`takeover` returns None for them
   after a few integer comparisons.

**Why the crop and collapse are exact.** Let ``(i, k)`` be a link of ``g``: ``0 <= i*s + k*d - p <
L``. Then ``k*d >= p - i*s >= p - (i1-1)*s`` and ``k*d <= p + L - 1 - i*s <= p + L - 1 - i0*s`` for
any ``i0 <= i < i1``, so ``ceil((p - (i1-1)*s)/d) <= k <= floor((p + L - 1 - i0*s)/d)``, and the
same with the roles of ``(i, s)`` and ``(k, d)`` exchanged: each round of :func:`link_box` keeps
every link inside the box. Inside the box, with ``i' = i - i0``, ``k' = k - k0`` and ``p' = p -
i0*s - k0*d``: ``i*s + k*d - p = i'*s + k'*d - p'``, the same output for the same (shifted) sample
and tap, so the cropped call has exactly the links of the original, each with its product. With
``i1 - i0 = 1``, ``i' = 0`` and ``i'*s = 0 = i'*1``; with ``k1 - k0 = 1``, ``k'*d = 0 = k'*1``.

**Why the reduced numbers fit.** Once the rounds of :func:`link_box` have settled, subtracting
its bounds gives ``(k1-k0-1)*d <= L - 1 + (i1-i0-1)*s`` and ``(i1-i0-1)*s <= L - 1 +
(k1-k0-1)*d``, so when one of ``s``, ``d`` is collapsed the other is bounded by the output width
and the sizes, and ``-L < p' <= (K'-1)*d``. Whether or not they settled,
:func:`fits` checks the total of these terms (plus the kernels' block spans, at most ``4096*s``)
against ``2**61``, so that any sum or difference of four of them, which is all a kernel forms,
stays below ``2**63``.
"""
import math

import numpy as np

from . import _dispatch, _plan
from ._compiled import _conv1d, _transpose
from ._runtime.blas_threads import single_threaded_blas
from ._runtime.threads import get_num_threads

__all__ = ["link_box", "reduce", "fits", "spread", "takeover", "crop", "cropped", "check_size"]

LIMIT = 1 << 61          # the reduced geometry's terms add up to less than this (see above)
BLOCK_SPAN = 4096        # the kernels' blocks span at most this many strides of output
GATHER_WORK = 1 << 22    # (block, tap) steps plus products in one chunk of the gather kernel
GATHER_BLOCK = 256       # transpose_grouped's block of wide rows (conv1dt/_compiled/_transpose.pyx)
ADDRESS_BYTES = 1 << 57  # no machine maps more (57-bit virtual addresses)


def _cdiv(a, b):
    """``ceil(a / b)`` for ``b > 0``, exactly."""
    return -(-a // b)


def link_box(g):
    """``(i0, i1, k0, k1)``: every link ``o = i*s + k*d - p`` with ``0 <= o < L`` has
    ``i0 <= i < i1`` and ``k0 <= k < k1`` (an empty range when there is no link). A few rounds
    of the bounds in the module doc, each keeping every link, each O(1)."""
    s, d, p, L = g.stride, g.dilation, g.pad_before, g.wide
    i0, i1, k0, k1 = 0, g.narrow, 0, g.taps
    for _ in range(4):
        if i0 >= i1 or k0 >= k1 or L <= 0:
            return 0, 0, 0, 0
        box = (i0, i1, k0, k1)
        k0 = max(k0, _cdiv(p - (i1 - 1) * s, d))
        k1 = min(k1, (p + L - 1 - i0 * s) // d + 1)
        if k0 >= k1:
            return 0, 0, 0, 0
        i0 = max(i0, _cdiv(p - (k1 - 1) * d, s))
        i1 = min(i1, (p + L - 1 - k0 * d) // s + 1)
        if (i0, i1, k0, k1) == box:
            break
    if i0 >= i1 or k0 >= k1:
        return 0, 0, 0, 0
    return i0, i1, k0, k1


def reduce(g, box):
    """The geometry of the cropped call (module doc, steps 1 and 2): narrow samples
    ``box[0]:box[1]``, taps ``box[2]:box[3]``, the same links and outputs."""
    i0, i1, k0, k1 = box
    return g._replace(narrow=i1 - i0, taps=k1 - k0,
                      stride=g.stride if i1 - i0 > 1 else 1,
                      dilation=g.dilation if k1 - k0 > 1 else 1,
                      pad_before=g.pad_before - i0 * g.stride - k0 * g.dilation)


def fits(g):
    """Whether every intermediate the kernels form for ``g`` is below ``2**63`` (the terms of the
    module doc total under ``2**61``)."""
    terms = ((g.narrow + BLOCK_SPAN) * g.stride + (g.taps + 1) * g.dilation + abs(g.pad_before)
             + g.wide + 1)
    return terms < LIMIT


def spread(g):
    """Whether a conv1d_transpose reaches much further than its input (module doc, step 4): more
    than ``4*(M + 256)`` input rows between its first and last tap, or a stride beyond four
    times the output (a tap table of ``s`` entries)."""
    return ((g.taps - 1) * g.dilation // g.stride > 4 * (g.narrow + 256)
            or g.stride > 4 * (g.wide + 256))


def check_size(shape, dtype, what, named=None):
    """A MemoryError naming ``what`` (the user's argument; ``named`` replaces ``'what [shape]'``
    in the message) when an array of ``shape`` and ``dtype`` cannot exist on any machine, before
    any work is done."""
    nbytes = np.dtype(dtype).itemsize * math.prod(shape)
    if nbytes >= ADDRESS_BYTES or any(n >= 2**63 for n in shape):
        named = f"{what} {list(shape)}" if named is None else named
        raise MemoryError(f"conv1dt: cannot allocate the output of shape {tuple(shape)} and dtype "
                          f"{np.dtype(dtype)} ({nbytes / 2**30:.3g} GiB) that {named} "
                          f"asks for: more than any machine can address")


def _nwc(a, ncw):
    return np.ascontiguousarray(a.transpose(0, 2, 1)) if ncw else np.ascontiguousarray(a)


def _narrow_slice(a, lo, hi, ncw):
    """Samples ``lo:hi`` of the narrow signal ``a`` (in its layout), C-contiguous."""
    return np.ascontiguousarray(a[:, :, lo:hi] if ncw else a[:, lo:hi])


def _gather_transpose(x, f, g, ncw):
    """conv1d_transpose by the gather kernel (``_transpose.transpose_grouped``), in chunks of the
    output width called one after another, so that Ctrl-C is seen between them. Each output is
    summed by the kernel alone, in its one order, whatever the chunks; ``y`` in NWC."""
    xw = _nwc(x, ncw)
    y = _dispatch.allocate((g.batch, g.wide, g.wide_channels), x.dtype)
    # an output row costs K/256 of its block's steps over the taps and, for each of its at most
    # min(K, M) links (one input sample per tap), Cn * Cw/G products
    per_row = max(1, g.taps // GATHER_BLOCK + min(g.taps, g.narrow) * g.narrow_channels
                  * (g.wide_channels // g.groups))
    width = max(GATHER_BLOCK, GATHER_WORK // per_row // GATHER_BLOCK * GATHER_BLOCK)
    # threads only for enough work in all (the blocks' steps over the taps and every link's
    # products) and chunks of several blocks: a parallel region costs more than a small call
    work = g.batch * (-(-g.wide // GATHER_BLOCK) * g.taps + g.narrow * g.taps
                      * g.narrow_channels * (g.wide_channels // g.groups))
    threads = get_num_threads() if work >= GATHER_WORK and width >= 8 * GATHER_BLOCK else 1
    for n in range(g.batch):
        for o0 in range(0, g.wide, width):
            o1 = min(o0 + width, g.wide)
            # outputs o0 .. o1 - 1 are outputs 0 .. o1 - o0 - 1 of the call with pad p + o0
            _transpose.transpose_grouped(xw[n:n + 1], f, y[n:n + 1, o0:o1], g.stride, g.dilation,
                                      g.pad_before + o0, g.groups, threads)
    return y


def _conv1d_plain(w, f, g, ncw):
    """conv1d by its own kernels (``_conv1d``, or im2col's where the planner picks it), never
    through the transpose's direct kernel with the taps reversed (``_dispatch.conv1d``'s flip),
    whose scratch spans ``(K-1)*d`` rows of the input per block: the call of a far-reaching
    conv1d after its crop."""
    kernel = _plan.choose("conv1d", g, w.dtype.itemsize)
    if kernel in ("im2col", "implicit", "dot"):
        # their scratch is a block of gathered columns, whatever the reach (1 x 4 x 214, 27
        # groups of 1 -> 18, K=325, d=7: 5.6 ms by the BLAS kernel's GEMMs of one column, 0.8
        # by im2col's)
        return _dispatch.conv1d(w, f, g, "NCW" if ncw else "NWC", kernel)
    y = _dispatch.allocate((g.batch, g.narrow, g.narrow_channels), w.dtype)
    if y.size:
        args = (_nwc(w, ncw), f, y, g.stride, g.dilation, g.pad_before, g.groups)
        threads = get_num_threads()
        if kernel not in ("blas", "flip-tiled"):
            _conv1d.conv1d_direct(*args, threads)
        else:
            rows, channels, groups = _plan.conv1d_blas_blocking(g, w.dtype.itemsize)
            with single_threaded_blas():
                _conv1d.conv1d_blas(*args, rows, threads, channels, groups)
    return np.ascontiguousarray(y.transpose(0, 2, 1)) if ncw else y


def _tap_rows(g, k):
    """``(lo, hi, o)``: tap ``k`` links narrow samples ``lo <= i < hi`` to wide samples
    ``o + (i - lo)*s`` (Python ints, exact)."""
    off = k * g.dilation - g.pad_before
    lo = max(0, _cdiv(-off, g.stride))
    hi = min(g.narrow, _cdiv(g.wide - off, g.stride))
    return lo, hi, lo * g.stride + off


def _wide_slice(g, lo, hi, o):
    """The wide samples ``o, o + s, ...`` of ``hi - lo`` links (one, or a stride below L)."""
    if hi - lo == 1:
        return slice(o, o + 1)
    return slice(o, o + (hi - lo - 1) * g.stride + 1, g.stride)


def _by_taps(op, a, b, g, box):
    """``op`` on real NWC operands, tap by tap over the box's taps, with the indices in Python's
    integers: the exact definition, vectorised over samples and channels, for geometries whose
    numbers no kernel can take. ``a``, ``b`` are the op's operands as :func:`takeover` gets
    them."""
    G = g.groups
    cw, cn = g.wide_channels // G, g.narrow_channels // G
    if op == "transpose":            # a: narrow [N, M, Cn], b: [K, Cw/G, Cn] -> wide
        out = np.zeros((g.batch, g.wide, g.wide_channels), a.dtype)
    elif op == "conv1d":             # a: wide [N, L, Cw], b: [K, Cw/G, Cn] -> narrow
        out = np.zeros((g.batch, g.narrow, g.narrow_channels), a.dtype)
    else:                            # a: wide, b: narrow -> [K, Cw/G, Cn]
        out = np.zeros((g.taps, cw, g.narrow_channels), a.dtype)
    for k in range(box[2], box[3]):
        lo, hi, o = _tap_rows(g, k)
        if lo >= hi:
            continue
        ws = _wide_slice(g, lo, hi, o)
        for j in range(G):
            wc, nc = slice(j * cw, (j + 1) * cw), slice(j * cn, (j + 1) * cn)
            if op == "transpose":
                out[:, ws, wc] += a[:, lo:hi, nc] @ b[k][:, nc].T
            elif op == "conv1d":
                out[:, lo:hi, nc] += a[:, ws, wc] @ b[k][:, nc]
            else:
                out[k][:, nc] += np.einsum("niw,nic->wc", a[:, ws, wc], b[:, lo:hi, nc])
    return out


def takeover(g, op, data_format):
    """None when the call of ``op`` (``'transpose'``, ``'conv1d'`` or ``'backprop_filter'``) on
    geometry ``g`` runs as it is; else ``run(a, b)``, which computes it exactly on real
    C-contiguous operands of one dtype in ``data_format`` (module doc). For the usual call this
    is a handful of integer operations, once per plan."""
    if fits(g):
        if op == "backprop_filter":
            return None
        if op == "conv1d" and (g.taps - 1) * g.dilation <= 4 * (g.wide + 256):
            return None
        if op == "transpose" and not spread(g):
            return None
        if op == "transpose" and spread(g) and _ola_takes(g):
            return None
    box = link_box(g)
    ncw = data_format == "NCW"
    i0, i1, k0, k1 = box
    r = reduce(g, box)

    def run(a, b):
        if op == "transpose":
            shape = (g.batch, g.wide_channels, g.wide) if ncw else (g.batch, g.wide,
                                                                     g.wide_channels)
            if i0 >= i1:                 # no link: zeros
                return np.zeros(shape, a.dtype)
            xs, fs = _narrow_slice(a, i0, i1, ncw), np.ascontiguousarray(b[k0:k1])
            if not fits(r):
                y = _by_taps(op, _nwc(a, ncw), b, g, box)
            elif spread(r):
                y = _gather_transpose(xs, fs, r, ncw)
            elif r.groups == 1:
                return _dispatch.conv1d_transpose(xs, fs, r, data_format)
            else:
                return _dispatch.conv1d_transpose_groups(xs, fs, r, data_format)
            return np.ascontiguousarray(y.transpose(0, 2, 1)) if ncw else y
        if op == "conv1d":
            shape = (g.batch, g.narrow_channels, g.narrow) if ncw else (g.batch, g.narrow,
                                                                         g.narrow_channels)
            z = np.zeros(shape, a.dtype)
            if i0 >= i1:
                return z
            if not fits(r):
                zw = _by_taps(op, _nwc(a, ncw), b, g, box)
                return np.ascontiguousarray(zw.transpose(0, 2, 1)) if ncw else zw
            part = _conv1d_plain(a, np.ascontiguousarray(b[k0:k1]), r, ncw)
            z[(slice(None), slice(None), slice(i0, i1)) if ncw else (slice(None), slice(i0, i1))] = part
            return z
        df = np.zeros((g.taps, g.wide_channels // g.groups, g.narrow_channels), a.dtype)
        if i0 >= i1:
            return df
        if not fits(r):
            return _by_taps(op, _nwc(a, ncw), _nwc(b, ncw), g, box)
        df[k0:k1] = _dispatch.conv1d_backprop_filter(a, _narrow_slice(b, i0, i1, ncw), r,
                                                     data_format)
        return df
    return run


CROP_FILL = 0.75   # crop a call whose links fill at most this fraction of its samples x taps


def crop(g, op):
    """``(box, r, lo, hi)`` for a call of ``op`` whose links leave at least a quarter of its
    narrow samples times taps idle (:func:`link_box`): taps that reach no wide sample, narrow
    samples that reach none. Such a call runs on the reduced geometry ``r`` (module doc, steps 1
    and 2), so that no kernel steps through the idle taps (the direct kernels skip them, but
    ``im2col``, ``blas`` and ``ola`` multiply them by zeros); ``[lo, hi)`` is the part of the
    wide signal the links read (conv1d and the filter gradient read that slice, at leading
    padding ``r.pad_before >= 0``). None for a call that runs as it is, and for calls under
    ``SERIAL_MACS`` multiply-adds (slicing the operands would cost more than the idle taps)."""
    if _plan.macs(g) < _plan.SERIAL_MACS:
        return None
    i0, i1, k0, k1 = box = link_box(g)
    if i0 >= i1 or (i1 - i0) * (k1 - k0) > CROP_FILL * g.narrow * g.taps:
        return None
    r = reduce(g, box)
    lo, hi = 0, g.wide
    if op != "transpose":
        # the wide samples the links read: from the first tap of sample i0 to the last of i1-1
        first = i0 * g.stride + k0 * g.dilation - g.pad_before
        lo = max(first, 0)
        hi = min(g.wide, (i1 - 1) * g.stride + (k1 - 1) * g.dilation - g.pad_before + 1)
        r = r._replace(wide=hi - lo, pad_before=lo - first)
    if not fits(r) or (op == "transpose" and spread(r)):
        return None
    return box, r, lo, hi


def cropped(op, g, cut, data_format, inner):
    """``run(a, b, out=None)``: the call of ``op`` on geometry ``g`` by ``inner``, the runner of
    the reduced geometry of ``cut`` (:func:`crop`), on the operands' slices that take part; the
    rest of the result is zeros (conv1d's rows, the filter gradient's taps without a link)."""
    (i0, i1, k0, k1), r, lo, hi = cut
    ncw = data_format == "NCW"
    rows = (slice(None), slice(None), slice(i0, i1)) if ncw else (slice(None), slice(i0, i1))
    every = (i0, i1) == (0, g.narrow)

    def narrow(a):
        return a if every else _narrow_slice(a, i0, i1, ncw)

    def wide(a):        # (the same slice along the width axis, of the wide signal)
        return a if (lo, hi) == (0, g.wide) else _narrow_slice(a, lo, hi, ncw)

    if op == "transpose":
        def run(a, b, out=None):
            return inner(narrow(a), b[k0:k1], out)
    elif op == "conv1d":
        shape = ((g.batch, g.narrow_channels, g.narrow) if ncw
                 else (g.batch, g.narrow, g.narrow_channels))

        def run(a, b, out=None):
            if every:
                return inner(wide(a), b[k0:k1], out)
            z = np.zeros(shape, a.dtype) if out is None else out
            if out is not None:
                z[...] = 0
            z[rows] = inner(wide(a), b[k0:k1])
            return z
    else:
        shape = (g.taps, g.wide_channels // g.groups, g.narrow_channels)

        def run(a, b, out=None):
            # (a new gradient is made of zeros, ``calloc``'s pages that the idle taps never
            # touch: filling them cost more than the product, 1 x 38 frames, 275 -> 303,
            # K=134, d=2: 5.2 ms so, 2.6 ms from zeros; docs/benchmarks.rst)
            if out is None:
                df = np.zeros(shape, a.dtype)
            else:
                df = out
                df[:k0] = 0
                df[k1:] = 0
            inner(wide(a), narrow(b), df[k0:k1])
            return df
    return run


def _ola_takes(g):
    """Whether the overlap-add kernel, which the planner picks for ``g``, runs it as it is:
    its scratch is bounded whatever ``K``, ``s`` and ``d``, and its steps (work items times
    blocks of taps, each a few integer operations where no input row lands) are at most
    ``2**20``."""
    if g.groups != 1 or _plan.choose("transpose", g, 8) != "ola":
        return False
    width, taps, batch = _plan.ola_blocking(g, 8)
    items = -(-g.batch // batch) * -(-g.wide // width)
    return items * -(-g.taps // taps) <= 1 << 20
