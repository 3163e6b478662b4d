#!/usr/bin/env python
"""Record TensorFlow's and PyTorch's answers for the conv1d family, for tests that run without either.

Usage (needs tensorflow-cpu, torch and numpy; conv1dt is not imported)::

    cd /work/main && /work/peers/bin/python tools/make_golden_family.py [--seed 20261125] [--out PATH]

What is recorded, by op and peer:

* ``conv1d``: ``tf.nn.conv1d`` (SAME/VALID, groups, float16/32/64, NWC and NCW) and
  ``tf.nn.conv2d`` on one-high images (explicit padding); ``torch.nn.functional.conv1d`` (groups,
  complex64/128, padding by ``F.pad``).
* ``conv1d_backprop_filter``: ``tf.compat.v1.nn.conv2d_backprop_filter`` on one-high images and
  ``tf.GradientTape`` through ``tf.nn.conv1d``/``conv2d``; ``torch.autograd`` through
  ``F.conv1d`` (groups, complex: PyTorch returns the conjugate of the bilinear derivative, so the
  script conjugates it, after checking that convention against four real autograd calls).
* ``conv1d_transpose``: ``tf.nn.conv2d_transpose`` with explicit padding, and
  ``torch.nn.functional.conv_transpose1d`` with groups, padding and output_padding (complex too).
* A few invalid calls (groups that do not divide the channels, negative or too-wide explicit
  padding, an input too narrow for VALID, a wrong ``out_backprop`` width): what the peer raised.

Where a peer's CPU kernel refuses a valid call (TensorFlow: float64 with NCW, dilation in the
transposed or filter-gradient kernels, grouped float64 filter gradients), the script computes the
mathematically identical call it supports and says so in ``route``: ``+nwc`` (the NWC layout,
transposed back), ``+dilated-filter`` (the dilation written into the filter as zero taps).

File format of ``tests/data/family_golden.npz`` (``np.load(path, allow_pickle=False)``)
------------------------------------------------------------------------------------------------
``info``      0-d str: JSON: ``format`` (= 1), ``tf_version``, ``torch_version``, ``numpy_version``,
              ``seed``, ``n_cases``, ``deliberate`` (label -> why conv1dt differs on purpose).
``meta``      1-D str array; ``meta[j]`` is a JSON object for case ``j``:
  ``id``        ``"f0017"``, the prefix of the case's arrays;
  ``op``        ``"conv1d"``, ``"conv1d_transpose"`` or ``"conv1d_backprop_filter"``;
  ``source``    ``"tf"`` or ``"torch"``; ``route``: the peer's function, plus ``+nwc``,
                ``+dilated-filter``, ``+crop`` (a window of the peer's full result);
  ``kind``      ``"valid"`` or ``"invalid"`` (conv1dt's documented contract); ``reason``;
  ``call``      conv1dt's arguments after the two arrays: ``stride``, ``padding`` (``"SAME"``,
                ``"VALID"`` or the explicit ``[[0, 0], [lo, hi], [0, 0]]`` form of the layout),
                ``data_format``, ``dilations``, ``groups``, and ``output_shape`` (transpose) or
                ``filter_shape`` (filter gradient);
  ``dtype``; ``peer_outcome`` (``"ok"`` or the class the peer raised) and ``peer_message``;
  ``expect``    ``"ok"`` or ``"refuse"``; ``expect_names``: for refusals, argument names one of
                which conv1dt's message must contain;
  ``difference`` ``null`` when ``expect`` is the peer's own outcome, else a label in
                ``info["deliberate"]``.
``fNNNN_a``   the first array argument (``input``), in the call's layout.
``fNNNN_b``   the second: ``filters`` (conv1d, transpose) or ``out_backprop`` (filter gradient).
``fNNNN_want`` the peer's result (valid cases it computed).

Calls, for the replay: ``conv1d(a, b, stride, padding, data_format, dilations, groups=)``;
``conv1d_transpose(a, b, output_shape, stride, padding, data_format, dilations, groups=)``;
``conv1d_backprop_filter(a, filter_shape, b, stride, padding, data_format, dilations, groups=)``.
"""
import argparse
import json
import os
import sys

import numpy as np

from make_golden import _first_line, setup_tf  # tools/make_golden.py: importing it imports no TF

FORMAT_VERSION = 1
DEFAULT_SEED = 20261125
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests", "data",
                           "family_golden.npz")
OPS = ("conv1d", "conv1d_transpose", "conv1d_backprop_filter")

DELIBERATE = {
    "tf-onednn-short-input": (
        "for an input narrower than the filter span (VALID), TF's float32 (oneDNN) conv1d returns a "
        "result of the wrong shape (the input's width and channels, or a width that ignores the "
        "stride); conv1dt returns conv1d's width, ceil((W - Keff + 1) / s) (0 here)"),
    "tf-valid-empty-truncation": (
        "TF computes conv1d's VALID width as (W - Keff + s) / s rounded toward zero, so it accepts "
        "inputs down to Keff - 2s + 1 wide with an empty result; conv1dt's narrowest input is "
        "Keff - s (the narrowest whose width floor((W - Keff) / s) + 1 is not negative)"),
}


# --------------------------------------------------------------------------------------------
# Geometry, in this script's own words (it does not import conv1dt).

def keff(k, d):
    return (k - 1) * d + 1


def same_pads(wide, k, s, d):
    """TensorFlow's SAME padding of conv1d: ``(before, after)``, the smaller half before."""
    m = -(-wide // s)
    total = max((m - 1) * s + keff(k, d) - wide, 0)
    return total // 2, total - total // 2


def conv_width(wide, k, s, d, lo, hi):
    """conv1d's output width for input width ``wide`` padded by ``lo`` and ``hi``."""
    return (wide + lo + hi - keff(k, d)) // s + 1


def explicit_form(lo, hi, data_format):
    pairs = [[0, 0], [0, 0], [0, 0]]
    pairs[1 if data_format == "NWC" else 2] = [int(lo), int(hi)]
    return pairs


def shaped(n, w, c, data_format):
    return [n, w, c] if data_format == "NWC" else [n, c, w]


def to_nwc(a, data_format):
    return a if data_format == "NWC" else np.ascontiguousarray(np.swapaxes(a, 1, 2))


def rand(rng, shape, dtype):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def dilate(f, d):
    """The filter with ``d - 1`` zero taps between taps: dilation written into the filter."""
    out = np.zeros((keff(f.shape[0], d),) + f.shape[1:], dtype=f.dtype)
    out[::d] = f
    return out


# --------------------------------------------------------------------------------------------
# Random configurations.

def random_config(rng, op, source):
    """A valid call's parameters for ``op`` computed by ``source``."""
    if source == "tf":
        dtype = str(rng.choice(["float32", "float32", "float64", "float64", "float16"]))
    else:
        dtype = str(rng.choice(["float32", "float64", "complex64", "complex128"]))
    groups = int(rng.choice([1, 1, 2, 3])) if source == "torch" or op == "conv1d" else 1
    if source == "tf" and op == "conv1d_backprop_filter" and dtype == "float32":
        groups = int(rng.choice([1, 1, 2]))       # TF has no float64 or float16 grouped filter gradient
    if op == "conv1d_transpose" and source == "tf":
        padding = "explicit"                      # SAME/VALID are in tests/data/tf_golden.npz
    else:
        padding = str(rng.choice(["SAME", "VALID", "explicit", "explicit"]))
    if source == "tf" and op == "conv1d_backprop_filter" and groups > 1:
        padding = str(rng.choice(["SAME", "VALID"]))  # TF's grouped kernel is oneDNN's, string pads only
    lo, hi = int(rng.integers(0, 4)), int(rng.integers(0, 4))
    cfg = dict(op=op, source=source, dtype=dtype, groups=groups,
               N=int(rng.integers(1, 3)), W=int(rng.integers(1, 11)),
               Cin=groups * int(rng.integers(1, 4)), Cout=groups * int(rng.integers(1, 4)),
               K=int(rng.integers(1, 6)), stride=int(rng.integers(1, 4)),
               dilation=int(rng.choice([1, 1, 2, 3])), padding=padding, lo=lo, hi=hi,
               data_format=str(rng.choice(["NWC", "NCW"])))
    return cfg


def wide_pads(cfg, wide):
    """``(lo, hi)`` of the forward conv1d for input width ``wide``."""
    if cfg["padding"] == "SAME":
        return same_pads(wide, cfg["K"], cfg["stride"], cfg["dilation"])
    if cfg["padding"] == "VALID":
        return 0, 0
    return cfg["lo"], cfg["hi"]


def padding_arg(cfg):
    if cfg["padding"] in ("SAME", "VALID"):
        return cfg["padding"]
    return explicit_form(cfg["lo"], cfg["hi"], cfg["data_format"])


def fit_wide(cfg):
    """Make conv1d's input at least as wide as the padded filter span (so every peer agrees)."""
    lo, hi = wide_pads(cfg, cfg["W"])
    need = keff(cfg["K"], cfg["dilation"]) - lo - hi
    if cfg["W"] < need:
        cfg["W"] = need + int(cfg["W"] % 3)
    return cfg


# --------------------------------------------------------------------------------------------
# The peers.

def setup_torch():
    import torch
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    return torch


def attempt(routes):
    """Run ``[(name, fn), ...]`` in order; ``(outcome, message, route, result)`` of the first that
    succeeds, else of the first failure (the direct call's)."""
    first = None
    for name, fn in routes:
        try:
            return "ok", "", name, np.asarray(fn())
        except Exception as exc:  # the peers raise many classes; we record the name
            first = first or (type(exc).__name__, _first_line(exc), name, None)
    return first


def tf_conv1d(tf, x, f, s, d, lo_hi, padding, data_format):
    """conv1d by TF: tf.nn.conv1d for SAME/VALID, tf.nn.conv2d for explicit padding."""
    if padding in ("SAME", "VALID"):
        return tf.nn.conv1d(x, f, s, padding, data_format=data_format, dilations=d)
    assert data_format == "NWC"
    pads = [[0, 0], [0, 0], list(lo_hi), [0, 0]]
    return tf.nn.conv2d(x[:, None], f[None], [1, 1, s, 1], pads, dilations=[1, 1, d, 1])[:, 0]


def run_tf(tf, cfg, a, b):
    op, s, d, fmt = cfg["op"], cfg["stride"], cfg["dilation"], cfg["data_format"]
    pad = cfg["padding"]
    lo_hi = (cfg["lo"], cfg["hi"])
    back = (lambda y: np.swapaxes(np.asarray(y), 1, 2)) if fmt == "NCW" else np.asarray
    an, bn = to_nwc(a, fmt), (to_nwc(b, fmt) if op == "conv1d_backprop_filter" else b)
    if op == "conv1d":
        routes = []
        if pad != "explicit":
            routes.append(("tf.nn.conv1d", lambda: tf_conv1d(tf, a, b, s, d, lo_hi, pad, fmt)))
        name = "tf.nn.conv1d" if pad != "explicit" else "tf.nn.conv2d"
        routes.append((name + ("+nwc" if fmt == "NCW" else ""),
                       lambda: back(tf_conv1d(tf, an, b, s, d, lo_hi, pad, "NWC"))))
        return attempt(routes)
    if op == "conv1d_backprop_filter":
        k, cin_g, cout = cfg["filter_shape"]
        pads = pad if pad != "explicit" else [[0, 0], [0, 0], list(lo_hi), [0, 0]]
        nwc = "+nwc" if fmt == "NCW" else ""

        def by_kernel(dil_filter):
            kk, dd = (keff(k, d), 1) if dil_filter else (k, d)
            df = tf.compat.v1.nn.conv2d_backprop_filter(
                an[:, None], [1, kk, cin_g, cout], bn[:, None], [1, 1, s, 1], pads,
                dilations=[1, 1, dd, 1])[0]
            return np.asarray(df)[::d] if dil_filter else df

        def by_tape():
            fv = tf.Variable(np.zeros((k, cin_g, cout), dtype=an.dtype))
            with tf.GradientTape() as tape:
                y = tf_conv1d(tf, an, fv, s, d, lo_hi, pad, "NWC")
                loss = tf.reduce_sum(y * bn)
            return tape.gradient(loss, fv)

        tape_first = cfg.get("tape", False)
        routes = [("GradientTape" + nwc, by_tape)] if tape_first else []
        routes += [("conv2d_backprop_filter" + nwc, lambda: by_kernel(False)),
                   ("conv2d_backprop_filter" + nwc + "+dilated-filter", lambda: by_kernel(True)),
                   ("GradientTape" + nwc, by_tape)]
        return attempt(routes)
    # conv1d_transpose with explicit padding
    n, wide, cout = cfg["N"], cfg["L"], cfg["Cout"]

    def by_transpose(dil_filter):
        ff = dilate(b, d) if dil_filter else b
        y = tf.nn.conv2d_transpose(an[:, None], ff[None], [n, 1, wide, cout], [1, 1, s, 1],
                                   [[0, 0], [0, 0], list(lo_hi), [0, 0]],
                                   dilations=[1, 1, 1 if dil_filter else d, 1])
        return back(np.asarray(y)[:, 0])

    nwc = "+nwc" if fmt == "NCW" else ""
    return attempt([("tf.nn.conv2d_transpose" + nwc, lambda: by_transpose(False)),
                    ("tf.nn.conv2d_transpose" + nwc + "+dilated-filter", lambda: by_transpose(True))])


def run_torch(torch, cfg, a, b):
    F = torch.nn.functional
    op, s, d, g, fmt = cfg["op"], cfg["stride"], cfg["dilation"], cfg["groups"], cfg["data_format"]
    ncw = lambda v: torch.from_numpy(np.ascontiguousarray(np.swapaxes(to_nwc(v, fmt), 1, 2)))
    back = (lambda y: y) if fmt == "NCW" else (lambda y: np.swapaxes(y, 1, 2))

    if op == "conv1d":
        lo, hi = wide_pads(cfg, cfg["W"])
        weight = torch.from_numpy(np.ascontiguousarray(b.transpose(2, 1, 0)))   # [Cout, Cin/g, K]

        def fn():
            return back(F.conv1d(F.pad(ncw(a), (lo, hi)), weight, stride=s, dilation=d, groups=g).numpy())
        return attempt([("torch.conv1d", fn)])

    if op == "conv1d_backprop_filter":
        lo, hi = wide_pads(cfg, cfg["W"])
        k, cin_g, cout = cfg["filter_shape"]

        def grad(x_np, dz_np):
            w = torch.zeros((cout, cin_g, k), dtype=torch.from_numpy(x_np).dtype, requires_grad=True)
            y = F.conv1d(F.pad(ncw(x_np), (lo, hi)), w, stride=s, dilation=d, groups=g)
            total = (y * ncw(dz_np)).sum()
            (h,) = torch.autograd.grad(total, w, grad_outputs=torch.ones_like(total))
            return h.numpy().transpose(2, 1, 0)                                  # [K, Cin/g, Cout]

        def fn():
            if np.iscomplexobj(a):
                got = np.conj(grad(a, b))
                parts = {(p, q): grad(getattr(a, p).copy(), getattr(b, q).copy())
                         for p in ("real", "imag") for q in ("real", "imag")}
                want = (parts["real", "real"] - parts["imag", "imag"]
                        + 1j * (parts["real", "imag"] + parts["imag", "real"]))
                scale = np.abs(want).max() + 1
                assert np.abs(got - want).max() <= 1e-4 * scale, "PyTorch's complex convention changed"
                return got
            return grad(a, b)
        return attempt([("torch.autograd", fn)])

    # conv1d_transpose: symmetric padding p and output_padding, or a window of the full result
    weight = torch.from_numpy(np.ascontiguousarray(b.transpose(2, 1, 0)))       # [Cin, Cout/g, K]
    m, wide = cfg["W"], cfg["L"]
    if cfg["torch_padding"] is not None:
        p, out_pad = cfg["torch_padding"]

        def fn():
            return back(F.conv_transpose1d(ncw(a), weight, stride=s, padding=p, output_padding=out_pad,
                                           groups=g, dilation=d).numpy())
        return attempt([("torch.conv_transpose1d", fn)])
    start = cfg["pad_before"]

    def cropped():
        full = back(F.conv_transpose1d(ncw(a), weight, stride=s, groups=g, dilation=d).numpy())
        full = to_nwc(full, fmt)
        out = np.zeros((full.shape[0], wide, full.shape[2]), dtype=full.dtype)
        seg = full[:, start:start + wide]
        out[:, :seg.shape[1]] = seg
        return out if fmt == "NWC" else np.swapaxes(out, 1, 2)
    return attempt([("torch.conv_transpose1d+crop", cropped)])


# --------------------------------------------------------------------------------------------
# Cases.

def valid_case(rng, op, source):
    cfg = random_config(rng, op, source)
    s, d, k, g, fmt = cfg["stride"], cfg["dilation"], cfg["K"], cfg["groups"], cfg["data_format"]
    n, dtype = cfg["N"], cfg["dtype"]
    call = dict(stride=s, padding=padding_arg(cfg), data_format=fmt, dilations=d, groups=g)
    if op in ("conv1d", "conv1d_backprop_filter"):
        fit_wide(cfg)
        lo, hi = wide_pads(cfg, cfg["W"])
        m = conv_width(cfg["W"], k, s, d, lo, hi)
        a = rand(rng, shaped(n, cfg["W"], cfg["Cin"], fmt), dtype)
        if op == "conv1d":
            b = rand(rng, (k, cfg["Cin"] // g, cfg["Cout"]), dtype)
        else:
            cfg["filter_shape"] = [k, cfg["Cin"] // g, cfg["Cout"]]
            call["filter_shape"] = cfg["filter_shape"]
            cfg["tape"] = bool(rng.random() < 0.4)
            b = rand(rng, shaped(n, m, cfg["Cout"], fmt), dtype)
        return cfg, call, a, b
    # conv1d_transpose: input width M = W, output width L from the padding
    m = cfg["W"]
    full = (m - 1) * s + keff(k, d)
    cfg["torch_padding"] = None
    if source == "torch" and cfg["padding"] != "SAME" and rng.random() < 0.6:
        p = int(rng.integers(0, min(3, (full - 1) // 2) + 1))   # PyTorch needs an output
        out_pad = int(rng.integers(0, s))                  # < stride: inside conv1dt's range
        cfg["torch_padding"] = (p, out_pad)
        cfg["padding"], cfg["lo"], cfg["hi"] = "explicit", p, p
        wide = full - 2 * p + out_pad
    elif cfg["padding"] == "SAME":
        wide = int(rng.integers((m - 1) * s + 1, m * s + 1))
    else:
        lo, hi = wide_pads(cfg, 0)
        if full - lo - hi < 1:
            cfg["lo"], cfg["hi"], lo, hi = 0, 0, 0, 0
        wide = full - lo - hi + int(rng.integers(0, s))
    cfg["L"] = wide
    lo, _ = wide_pads(cfg, wide)
    if cfg["padding"] == "SAME":
        total = max((m - 1) * s + keff(k, d) - wide, 0)
        lo = total // 2
    cfg["pad_before"] = lo
    call["padding"] = padding_arg(cfg)
    call["output_shape"] = shaped(n, wide, cfg["Cout"], fmt)
    a = rand(rng, shaped(n, m, cfg["Cin"], fmt), dtype)
    b = rand(rng, (k, cfg["Cout"] // g, cfg["Cin"]), dtype)
    return cfg, call, a, b


def short_input_cases(rng):
    """conv1d (VALID) on inputs narrower than the filter span: TF's kernels disagree with each other."""
    out = []
    for dtype in ("float32", "float64"):
        for wide in range(0, 3):                   # Keff = 3, s = 2: conv1dt accepts 1 and 2
            cfg = dict(op="conv1d", source="tf", dtype=dtype, groups=1, N=2, W=wide, Cin=2, Cout=3,
                       K=3, stride=2, dilation=1, padding="VALID", lo=0, hi=0, data_format="NWC")
            call = dict(stride=2, padding="VALID", data_format="NWC", dilations=1, groups=1)
            out.append(("valid" if wide >= 1 else "invalid", "short-input", cfg, call,
                        rand(rng, (2, wide, 2), dtype), rand(rng, (3, 2, 3), dtype)))
    return out


def invalid_cases(rng):
    """``(kind, reason, cfg, call, a, b, expect_names)`` for calls conv1dt refuses."""
    out = []

    def base(op, source, **kw):
        cfg = dict(op=op, source=source, dtype="float32", groups=1, N=2, W=8, Cin=4, Cout=6, K=3,
                   stride=2, dilation=1, padding="SAME", lo=0, hi=0, data_format="NWC")
        cfg.update(kw)
        return cfg

    for source in ("tf", "torch"):
        # groups that do not divide the input channels (TF infers groups from the filter's depth)
        cfg = base("conv1d", source, Cin=5, groups=2 if source == "torch" else 1)
        call = dict(stride=2, padding="SAME", data_format="NWC", dilations=1, groups=2)
        b = rand(rng, (3, 2, 6), "float32")
        cfg["filters_depth"] = 2
        out.append((cfg, call, rand(rng, (2, 8, 5), "float32"), b, "groups-not-dividing",
                    ["groups", "input"]))
    # explicit padding: negative, and a transposed width outside the range
    cfg = base("conv1d", "tf", padding="explicit", lo=-1, hi=1)
    call = dict(stride=2, padding=explicit_form(-1, 1, "NWC"), data_format="NWC", dilations=1, groups=1)
    out.append((cfg, call, rand(rng, (2, 8, 4), "float32"), rand(rng, (3, 4, 6), "float32"),
                "padding-negative", ["padding"]))
    for wide in (7, 12):   # accepted: (M-1)*s + Keff - lo - hi = 8 + 3 - 3 = 8 .. 9 for M = 5
        cfg = base("conv1d_transpose", "tf", padding="explicit", lo=1, hi=2, W=5, L=wide)
        call = dict(stride=2, padding=explicit_form(1, 2, "NWC"), data_format="NWC", dilations=1,
                    groups=1, output_shape=[2, wide, 6])
        out.append((cfg, call, rand(rng, (2, 5, 4), "float32"), rand(rng, (3, 6, 4), "float32"),
                    "transpose-width", ["output_shape"]))
    # an input too narrow for VALID (negative output width)
    for dtype in ("float32", "float64"):
        cfg = base("conv1d", "tf", W=1, K=5, padding="VALID", dtype=dtype)
        call = dict(stride=2, padding="VALID", data_format="NWC", dilations=1, groups=1)
        out.append((cfg, call, rand(rng, (2, 1, 4), dtype), rand(rng, (5, 4, 6), dtype),
                    "input-too-narrow", ["input"]))
    # out_backprop of the wrong width or channels
    for reason, dz_shape in (("out_backprop-width", (2, 3, 6)), ("out_backprop-channels", (2, 4, 5))):
        cfg = base("conv1d_backprop_filter", "tf", filter_shape=[3, 4, 6])
        call = dict(stride=2, padding="SAME", data_format="NWC", dilations=1, groups=1,
                    filter_shape=[3, 4, 6])
        out.append((cfg, call, rand(rng, (2, 8, 4), "float32"), rand(rng, dz_shape, "float32"),
                    reason, ["out_backprop"]))
    return out


def run_invalid(tf, torch, cfg, call, a, b):
    """The peer's outcome for an invalid call (the same arrays, the peer's own spelling)."""
    op, s = cfg["op"], cfg["stride"]
    if cfg["source"] == "torch":
        F = torch.nn.functional
        weight = torch.from_numpy(np.ascontiguousarray(b.transpose(2, 1, 0)))
        return attempt([("torch.conv1d", lambda: F.conv1d(
            torch.from_numpy(np.ascontiguousarray(a.transpose(0, 2, 1))), weight, stride=s,
            groups=call["groups"]))])
    if op == "conv1d":
        if cfg["padding"] == "explicit":
            return attempt([("tf.nn.conv2d", lambda: tf.nn.conv2d(
                a[:, None], b[None], [1, 1, s, 1], [[0, 0], [0, 0], [cfg["lo"], cfg["hi"]], [0, 0]]))])
        return attempt([("tf.nn.conv1d", lambda: tf.nn.conv1d(a, b, s, cfg["padding"]))])
    if op == "conv1d_transpose":
        return attempt([("tf.nn.conv2d_transpose", lambda: tf.nn.conv2d_transpose(
            a[:, None], b[None], [2, 1, cfg["L"], 6], [1, 1, s, 1],
            [[0, 0], [0, 0], [cfg["lo"], cfg["hi"]], [0, 0]]))])
    return attempt([("conv2d_backprop_filter", lambda: tf.compat.v1.nn.conv2d_backprop_filter(
        a[:, None], [1] + cfg["filter_shape"], b[:, None], [1, 1, s, 1], "SAME"))])


def classify(kind, reason, cfg, outcome, result):
    """``(difference, expect)``: conv1dt's contract, and the label when the peer disagrees."""
    if kind == "valid":
        if reason == "short-input" and outcome == "ok" and result.shape != (cfg["N"], 0, cfg["Cout"]):
            return "tf-onednn-short-input", "ok"
        if outcome != "ok":
            raise RuntimeError(f"the peer refused a valid call ({outcome}): {cfg}")
        return None, "ok"
    if outcome != "ok":
        return None, "refuse"
    if reason == "short-input":
        return ("tf-onednn-short-input" if cfg["dtype"] == "float32" else "tf-valid-empty-truncation"), "refuse"
    raise RuntimeError(f"the peer accepted an invalid call nobody has ruled on: {reason} {cfg}")


def golden_cases(seed):
    """``(kind, reason, cfg, call, a, b, names)`` for every case, in order."""
    rng = np.random.default_rng(seed)
    plan = [("conv1d", "tf", 110), ("conv1d", "torch", 70),
            ("conv1d_backprop_filter", "tf", 90), ("conv1d_backprop_filter", "torch", 70),
            ("conv1d_transpose", "tf", 60), ("conv1d_transpose", "torch", 110)]
    cases = []
    for op, source, count in plan:
        for _ in range(count):
            cfg, call, a, b = valid_case(rng, op, source)
            cases.append(("valid", "grid", cfg, call, a, b, None))
    for kind, reason, cfg, call, a, b in short_input_cases(rng):
        cases.append((kind, reason, cfg, call, a, b, ["input"]))
    for cfg, call, a, b, reason, names in invalid_cases(rng):
        cases.append(("invalid", reason, cfg, call, a, b, names))
    return cases


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", default=DEFAULT_OUT)
    opts = ap.parse_args(argv)

    tf, torch = setup_tf(), setup_torch()
    arrays, metas, tally = {}, [], {}
    for j, (kind, reason, cfg, call, a, b, names) in enumerate(golden_cases(opts.seed)):
        cid = f"f{j:04d}"
        if kind == "valid" and reason == "grid":
            run = run_tf if cfg["source"] == "tf" else run_torch
            outcome, message, route, result = run(tf if cfg["source"] == "tf" else torch, cfg, a, b)
        elif reason == "short-input":
            outcome, message, route, result = attempt(
                [("tf.nn.conv1d", lambda: tf.nn.conv1d(a, b, cfg["stride"], "VALID"))])
        else:
            outcome, message, route, result = run_invalid(tf, torch, cfg, call, a, b)
        difference, expect = classify(kind, reason, cfg, outcome, result)
        meta = dict(id=cid, op=cfg["op"], source=cfg["source"], route=route, kind=kind,
                    reason=reason, call=call, dtype=str(a.dtype), peer_outcome=outcome,
                    peer_message=message, expect=expect, difference=difference)
        if expect == "refuse":
            meta["expect_names"] = names
        metas.append(json.dumps(meta, sort_keys=True))
        arrays[cid + "_a"], arrays[cid + "_b"] = a, b
        if result is not None:
            arrays[cid + "_want"] = np.asarray(result)
        key = (cfg["op"], cfg["source"], kind, route if kind == "valid" else outcome, difference)
        tally[key] = tally.get(key, 0) + 1

    info = dict(format=FORMAT_VERSION, tf_version=tf.__version__, torch_version=torch.__version__,
                numpy_version=np.__version__, seed=opts.seed, n_cases=len(metas),
                deliberate=DELIBERATE, generator="tools/make_golden_family.py")
    out = os.path.abspath(opts.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    np.savez_compressed(out, info=np.array(json.dumps(info, sort_keys=True)), meta=np.array(metas),
                        **arrays)
    print(f"TF {tf.__version__}, PyTorch {torch.__version__}: wrote {len(metas)} cases to {out} "
          f"({os.path.getsize(out) / 1e6:.2f} MB)")
    for key, count in sorted(tally.items(), key=str):
        print("  " + " ".join(str(v) for v in key), count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
