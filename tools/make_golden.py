#!/usr/bin/env python
"""Record ``tf.nn.conv1d_transpose`` on a fixed-seed set of calls, for tests that run without TF.

Usage (needs tensorflow-cpu and numpy; conv1dt is not imported)::

    cd /work/main && /work/peers/bin/python tools/make_golden.py [--seed 20260517] [--out PATH]

Importing this module does not import TensorFlow: ``tools/compare_tf.py`` reuses the generators
(:func:`random_valid_case`, :func:`random_invalid_case`), :func:`build_call`, :func:`setup_tf`,
:func:`run_tf` and :func:`classify`.

File format of ``tests/data/tf_golden.npz`` (``np.load(path, allow_pickle=False)`` reads it)
------------------------------------------------------------------------------------------------
``info``               0-d str: a JSON object: ``format`` (= 1), ``tf_version``, ``numpy_version``,
                       ``seed``, ``onednn`` (TF's float32 CPU kernel is oneDNN's), ``threads``,
                       ``deliberate`` (label -> why conv1dt differs from TF on purpose),
                       ``open`` (label -> a known disagreement nobody has decided on yet).
``meta``               1-D str array; ``meta[j]`` is a JSON object describing case ``j`` (below).
``caseNNNN_input``     the ``input`` argument exactly as passed (its dtype may be int or float16).
``caseNNNN_filters``   the ``filters`` argument exactly as passed.
``caseNNNN_tf``        TF's result, present when TF (or its equivalent route, below) returned one.

Per-case JSON object:

``id``          ``"case0017"``, the prefix of the case's array keys.
``kind``        ``"valid"`` or ``"invalid"``: the generator's intent, from conv1dt's documented
                contract (widths in range, channels/batch consistent, accepted argument forms).
``reason``      what the case exercises: ``"grid"``, ``"large"``, ``"empty"``, ``"form-0d-array"``
                for valid cases; for invalid ones ``"width-lo-1"``, ``"cin-mismatch"``, ...
``args``        the call after ``input, filters``: ``{name: ENC}`` for ``output_shape`` and
                ``strides`` (positional) and the keywords ``padding``, ``data_format``,
                ``dilations``, ``name``; a keyword absent from ``args`` is omitted from the call.
                ``ENC = {"form": F, "value": V[, "dtype": D]}`` with ``F`` one of ``int``,
                ``float``, ``bool``, ``str``, ``none``, ``list``, ``tuple`` (``V`` a list),
                ``ndarray`` (``np.array(V, dtype=D)``, ``V`` may be a scalar: a 0-d array) or
                ``npint`` (``np.dtype(D).type(V)``).
``geometry``    the nominal parameters ``N, W, Cin, Cout, K, stride, dilation, padding,
                data_format, wout`` (ints and the normalised strings); for valid cases this is
                exactly the call, so a test can build conv1dt's Geometry without parsing ``args``.
``dtype``       dtype of ``input`` (``filters_dtype`` too, when it differs).
``tf_outcome``  ``"ok"`` or the class name of what TF raised for *this* call
                (``InvalidArgumentError``, ``AbortedError``, ``UnimplementedError``, ``ValueError``,
                ``TypeError``, ...).
``tf_message``  the first line of TF's message (``""`` when ok).
``tf_route``    ``"direct"``: ``caseNNNN_tf`` is TF's answer to this very call.  For float64 calls
                that TF's CPU kernels refuse (NCW, dilation > 1): ``"nwc"``, ``"dilated-filter"`` or
                ``"nwc+dilated-filter"``: ``caseNNNN_tf`` is TF's answer to the mathematically
                identical call it supports (input/output transposed to NWC; the dilation written
                into the filter as zero taps, dilation 1), transposed back.
``tf_f64_outcome`` (some empty-input cases) TF's outcome for the same shapes in float64 NWC,
                whose kernel is not oneDNN's: evidence for the ``tf-onednn-empty-input`` label.
``expect``      what conv1dt must do: ``"ok"`` (return ``caseNNNN_tf``'s shape and dtype, values
                within the error bound) or ``"refuse"`` (raise ValueError or TypeError).
``expect_names`` for ``refuse``: the message must contain one of these argument names.
``difference``  ``null`` when ``expect`` is TF's own outcome.  Otherwise a label from
                ``info["deliberate"]`` (``expect`` is conv1dt's documented behaviour) or from
                ``info["open"]`` (``expect`` is TF's behaviour, which conv1dt does not follow
                today: tests mark these xfail(strict=True) until someone decides).
"""
import argparse
import json
import os
import re
import sys

import numpy as np

FORMAT_VERSION = 1
DEFAULT_SEED = 20260517
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests", "data",
                           "tf_golden.npz")
ARG_NAMES = ("input", "filters", "output_shape", "strides", "dilations", "padding", "data_format")

# Differences from TF that conv1dt makes on purpose (tests assert conv1dt's own behaviour).
DELIBERATE = {
    "window-param-batch-channel": (
        "TF ignores the batch (NWC) or channel (NCW) entry of a 3-element strides/dilations, "
        "e.g. strides=[2, s, 1]; conv1dt refuses an entry other than 1 there"),
    "tf-cpu-unimplemented": (
        "TF's CPU kernel refuses float64 with NCW or dilation > 1; conv1dt computes it, checked "
        "against TF's answer to the equivalent NWC / zero-tap-filter call"),
    # Ruled deliberate by the maintainers: conv1dt keeps one documented contract (the accepted
    # width range, float dtypes only, integer strides) where TF's kernels disagree with each other.
    "tf-accepts-int32": (
        "TF computes int32 operands; conv1dt raises TypeError for non-float dtypes"),
    "tf-accepts-non-int-window-param": (
        "TF accepts strides/dilations given as a float (2.0) or bool; conv1dt refuses them"),
    "tf-onednn-empty-input": (
        "TF's float32 (oneDNN) kernel returns zeros for an empty input (N=0 or W=0) whatever output_shape says; TF's float64 kernel refuses the same shapes; conv1dt refuses"),
    "tf-onednn-empty-output": (
        "TF's float32 (oneDNN) kernel returns an empty result for output width 0 whatever the input width; conv1dt refuses the width"),
    "tf-onednn-valid-truncation": (
        "for W=1, VALID, TF's float32 (oneDNN) kernel checks (L-Keff)/s+1 == 1 rounding toward zero, so it accepts L = Keff-s+1..Keff-1 too and returns the first L samples of the width-Keff result; conv1dt accepts Keff..Keff+s-1"),
    "tf-valid-empty-truncation": (
        "for W=0, VALID, TF's float64 kernel computes the conv1d width as (L-Keff+s)/s rounded toward zero, so it accepts L down to Keff-2s+1; conv1dt accepts Keff-s..Keff-1"),
    "tf-refuses-0d-array-window-param": (
        "TF raises TypeError for strides/dilations given as a 0-d numpy array; conv1dt accepts it"),
    "tf-onednn-grouped-channels": (
        "TF's float32 (oneDNN) kernel reads output channels = g*Cout (with Cin divisible by g) as a grouped transposed convolution of g groups; TF's float64 kernel refuses (no grouped gradients on CPU); conv1dt refuses the channel mismatch"),
}
# Disagreements found by these scripts that nobody has ruled on yet (tests: xfail, strict).
OPEN = {
    "tf-accepts-invalid": "TF accepts a call conv1dt's contract refuses (unclassified)",
    "tf-refuses-valid": "TF refuses a call conv1dt's contract accepts (unclassified)",
}


# --------------------------------------------------------------------------------------------
# Argument encoding (JSON-able) and decoding into the call.

def enc(value, form=None, dtype=None):
    """Encode a call argument as ``{"form", "value"[, "dtype"]}``."""
    if form is None:
        if value is None:
            form = "none"
        elif isinstance(value, bool):
            form = "bool"
        elif isinstance(value, int):
            form = "int"
        elif isinstance(value, float):
            form = "float"
        elif isinstance(value, str):
            form = "str"
        elif isinstance(value, tuple):
            form = "tuple"
        elif isinstance(value, list):
            form = "list"
        else:
            raise TypeError(f"cannot encode {value!r}")
    out = {"form": form, "value": list(value) if isinstance(value, tuple) else value}
    if dtype is not None:
        out["dtype"] = dtype
    return out


def dec(e):
    """Inverse of :func:`enc`: the Python/NumPy object to pass."""
    form, v = e["form"], e["value"]
    if form in ("int", "float", "bool", "str", "none", "list"):
        return v if form != "list" else list(v)
    if form == "tuple":
        return tuple(v)
    if form == "ndarray":
        return np.array(v, dtype=e["dtype"])
    if form == "npint":
        return np.dtype(e["dtype"]).type(v)
    raise ValueError(f"unknown form {form!r}")


def build_call(case):
    """``(args, kwargs)`` for ``conv1d_transpose(*args, **kwargs)`` (TF and conv1dt alike)."""
    a = case["args"]
    args = (case["input"], case["filters"], dec(a["output_shape"]), dec(a["strides"]))
    kwargs = {k: dec(a[k]) for k in ("padding", "data_format", "dilations", "name") if k in a}
    return args, kwargs


# --------------------------------------------------------------------------------------------
# Generators.

def keff(k, d):
    return (k - 1) * d + 1


def accepted_widths(w, k, s, d, padding):
    """The documented preimage of conv1d's width map: the output widths conv1dt accepts."""
    if padding == "SAME":
        lo, hi = (w - 1) * s + 1, w * s
    else:
        lo, hi = (w - 1) * s + keff(k, d), w * s + keff(k, d) - 1
    return max(lo, 0), hi


def out_shape(n, wout, cout, data_format):
    return [n, wout, cout] if data_format == "NWC" else [n, cout, wout]


def in_shape(n, w, cin, data_format):
    return (n, w, cin) if data_format == "NWC" else (n, cin, w)


def operands(rng, n, w, cin, cout, k, dtype, data_format, fdtype=None):
    x = rng.standard_normal(in_shape(n, w, cin, data_format)).astype(dtype)
    f = rng.standard_normal((k, cout, cin)).astype(fdtype or dtype)
    return x, f


def window_form(rng, v, data_format, name):
    """One accepted spelling of a stride/dilation ``v``."""
    full = [1, v, 1] if data_format == "NWC" else [1, 1, v]
    choices = [
        lambda: enc(v),
        lambda: enc([v]),
        lambda: enc((v,)),
        lambda: enc(full),
        lambda: enc(tuple(full)),
        lambda: enc(int(v), "npint", str(rng.choice(["int32", "int64"]))),
        lambda: enc(full, "ndarray", "int64"),
    ]
    return choices[rng.integers(len(choices))]()


def shape_form(rng, shape):
    r = rng.integers(4)
    if r == 0:
        return enc(list(shape))
    if r == 1:
        return enc(tuple(shape))
    return enc(list(shape), "ndarray", "int32" if r == 2 else "int64")


def make_case(kind, reason, x, f, geometry, args):
    return {"kind": kind, "reason": reason, "input": x, "filters": f, "geometry": geometry,
            "args": args}


def geometry_dict(n, w, cin, cout, k, s, d, padding, data_format, wout):
    return dict(N=int(n), W=int(w), Cin=int(cin), Cout=int(cout), K=int(k), stride=int(s),
                dilation=int(d), padding=padding, data_format=data_format, wout=int(wout))


def standard_args(rng, g, shape=None):
    """Encoded args for geometry ``g``, in a random accepted form of every argument."""
    fmt = g["data_format"]
    shape = out_shape(g["N"], g["wout"], g["Cout"], fmt) if shape is None else shape
    args = {"output_shape": shape_form(rng, shape),
            "strides": window_form(rng, g["stride"], fmt, "strides")}
    if g["padding"] == "VALID" or rng.random() < 0.7:
        args["padding"] = enc(g["padding"])
    if fmt == "NCW":
        args["data_format"] = enc("NCW")
    else:
        r = rng.integers(3)
        if r == 1:
            args["data_format"] = enc("NWC")
        elif r == 2:
            args["data_format"] = enc(None)
    if g["dilation"] != 1 or rng.random() < 0.4:
        if g["dilation"] == 1 and rng.random() < 0.3:
            args["dilations"] = enc(None)
        else:
            args["dilations"] = window_form(rng, g["dilation"], fmt, "dilations")
    if rng.random() < 0.2:
        args["name"] = enc("golden")
    return args


def random_config(rng, large=False):
    """Random (N, W, Cin, Cout, K, s, d, padding, data_format, dtype) within the brief's ranges."""
    dtype = str(rng.choice(["float32", "float64"]))
    s = int(rng.integers(1, 6))
    d = int(rng.choice([1, 1, 2, 3])) if dtype == "float32" else int(rng.choice([1, 1, 1, 2, 3]))
    if large:
        n, w, cin, cout = int(rng.integers(1, 3)), 30, 16, 16
    else:
        n = int(rng.integers(1, 4))
        w = int(rng.integers(0, 10))
        cin, cout = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    return dict(N=n, W=w, Cin=cin, Cout=cout, K=int(rng.integers(1, 9)), stride=s, dilation=d,
                padding=str(rng.choice(["SAME", "VALID"])),
                data_format=str(rng.choice(["NWC", "NCW"])), dtype=dtype)


def valid_case(rng, cfg, wout, reason="grid"):
    g = geometry_dict(cfg["N"], cfg["W"], cfg["Cin"], cfg["Cout"], cfg["K"], cfg["stride"],
                      cfg["dilation"], cfg["padding"], cfg["data_format"], wout)
    x, f = operands(rng, g["N"], g["W"], g["Cin"], g["Cout"], g["K"], cfg["dtype"],
                    g["data_format"])
    return make_case("valid", reason, x, f, g, standard_args(rng, g))


def random_valid_case(rng, large=False):
    """A valid call: random configuration, a random accepted output width, random forms."""
    cfg = random_config(rng, large)
    lo, hi = accepted_widths(cfg["W"], cfg["K"], cfg["stride"], cfg["dilation"], cfg["padding"])
    case = valid_case(rng, cfg, int(rng.integers(lo, hi + 1)), "large" if large else "grid")
    if rng.random() < 0.01:  # rare: a 0-d ndarray stride (conv1dt accepts it; TF does not)
        case["args"]["strides"] = enc(case["geometry"]["stride"], "ndarray", "int64")
        case["reason"] = "form-0d-array"
    return case


def _invalid_base(rng, dtype=None, nwc_d1=False, w_min=1):
    """A valid configuration to spoil: float32 (any layout/dilation) or float64 NWC, d=1 (the
    combination TF's float64 CPU kernel implements, so its refusal is about the arguments)."""
    cfg = random_config(rng)
    cfg["dtype"] = dtype or str(rng.choice(["float32", "float32", "float64"]))
    if cfg["dtype"] != "float32" or nwc_d1:
        cfg["data_format"], cfg["dilation"] = "NWC", 1
    cfg["W"] = max(cfg["W"], w_min)
    lo, hi = accepted_widths(cfg["W"], cfg["K"], cfg["stride"], cfg["dilation"], cfg["padding"])
    return cfg, int(rng.integers(lo, hi + 1))


def _spoiled(rng, cfg, wout, reason, names, x=None, f=None, shape=None, **arg_over):
    g = geometry_dict(cfg["N"], cfg["W"], cfg["Cin"], cfg["Cout"], cfg["K"], cfg["stride"],
                      cfg["dilation"], cfg["padding"], cfg["data_format"], wout)
    x0, f0 = operands(rng, g["N"], g["W"], g["Cin"], g["Cout"], g["K"], cfg["dtype"],
                      g["data_format"])
    x = x0 if x is None else x
    f = f0 if f is None else f
    args = standard_args(rng, g, shape)
    for k, v in arg_over.items():
        if v is _OMIT:
            args.pop(k, None)
        else:
            args[k] = v
    case = make_case("invalid", reason, x, f, g, args)
    case["expect_names"] = list(names)
    return case


_OMIT = object()


def _inv_width(rng, side):
    for _ in range(100):
        cfg, _w = _invalid_base(rng, w_min=0)
        lo, hi = accepted_widths(cfg["W"], cfg["K"], cfg["stride"], cfg["dilation"], cfg["padding"])
        wout = lo - 1 if side < 0 else hi + 1
        if wout >= 0:  # never a negative width: TF aborts the process on one
            return _spoiled(rng, cfg, wout, "width-lo-1" if side < 0 else "width-hi+1",
                            ["output_shape"])
    raise RuntimeError("no width case found")


def _inv_cin(rng):
    cfg, wout = _invalid_base(rng)
    g = cfg
    wrong = g["Cin"] + int(rng.choice([-1, 1])) if g["Cin"] > 1 else g["Cin"] + 1
    f = rng.standard_normal((g["K"], g["Cout"], wrong)).astype(g["dtype"])
    return _spoiled(rng, cfg, wout, "cin-mismatch", ["filters", "input"], f=f)


def _inv_cout(rng):
    cfg, wout = _invalid_base(rng)
    wrong = cfg["Cout"] + 1 if cfg["Cout"] == 1 or rng.random() < 0.5 else cfg["Cout"] - 1
    return _spoiled(rng, cfg, wout, "cout-mismatch", ["output_shape", "filters"],
                    shape=out_shape(cfg["N"], wout, wrong, cfg["data_format"]))


def _inv_batch(rng):
    cfg, wout = _invalid_base(rng)
    wrong = cfg["N"] + 1 if cfg["N"] == 1 or rng.random() < 0.5 else cfg["N"] - 1
    return _spoiled(rng, cfg, wout, "batch-mismatch", ["output_shape", "input"],
                    shape=out_shape(wrong, wout, cfg["Cout"], cfg["data_format"]))


def _inv_padding(rng):
    cfg, wout = _invalid_base(rng)
    bad = [enc("same"), enc("valid"), enc("Same"), enc("FULL"), enc("EXPLICIT"), enc(""),
           enc("SAME "), enc(None)]
    return _spoiled(rng, cfg, wout, "padding-bad", ["padding"], padding=bad[rng.integers(len(bad))])


def _inv_data_format(rng):
    cfg, wout = _invalid_base(rng, dtype="float32")
    bad = ["nwc", "ncw", "NHWC", "NCHW", "WC", "NWCC"]
    return _spoiled(rng, cfg, wout, "data_format-bad", ["data_format"],
                    data_format=enc(str(rng.choice(bad))))


def _inv_window(rng, which):
    """A bad strides/dilations that TF and conv1dt should both refuse."""
    cfg, wout = _invalid_base(rng, dtype="float32")
    fmt = cfg["data_format"]
    v = cfg["stride"] if which == "strides" else cfg["dilation"]
    chan_bad = [1, v, 2] if fmt == "NWC" else [2, 1, v]  # TF refuses these positions too
    bad = [enc(0), enc(-1), enc([0]), enc([1, 2]), enc([1, v, 1, 1]), enc([]), enc(chan_bad),
           enc([1, 0, 1] if fmt == "NWC" else [1, 1, 0])]
    return _spoiled(rng, cfg, wout, f"{which}-bad", [which], **{which: bad[rng.integers(len(bad))]})


def _inv_window_batch_channel(rng):
    """Deliberate difference: TF ignores this entry (NWC: index 0; NCW: index 1)."""
    cfg, wout = _invalid_base(rng, dtype="float32")
    which = "strides" if rng.random() < 0.6 else "dilations"
    v = cfg["stride"] if which == "strides" else cfg["dilation"]
    b = int(rng.integers(2, 4))
    val = [b, v, 1] if cfg["data_format"] == "NWC" else [1, b, v]
    return _spoiled(rng, cfg, wout, f"window-param-batch-channel-{which}", [which],
                    **{which: enc(val)})


def _inv_window_non_int(rng):
    cfg, wout = _invalid_base(rng, dtype="float32")
    which = "strides" if rng.random() < 0.6 else "dilations"
    v = cfg["stride"] if which == "strides" else cfg["dilation"]
    if v == 1 and rng.random() < 0.5:
        val = enc(True)
    else:
        val = enc(float(v))
    return _spoiled(rng, cfg, wout, f"{which}-non-int", [which], **{which: val})


def _inv_int_dtype(rng):
    cfg, wout = _invalid_base(rng, dtype="float32", nwc_d1=True)
    dt = str(rng.choice(["int8", "int16", "int32", "int32", "int64", "uint8"]))
    x = rng.integers(-3, 4, in_shape(cfg["N"], cfg["W"], cfg["Cin"], "NWC")).astype(dt)
    f = rng.integers(-3, 4, (cfg["K"], cfg["Cout"], cfg["Cin"])).astype(dt)
    return _spoiled(rng, cfg, wout, "int-dtype", ["input", "filters"], x=x, f=f)


def _inv_mixed_dtype(rng):
    cfg, wout = _invalid_base(rng, dtype="float32", nwc_d1=True)
    a, b = [("float32", "float64"), ("float64", "float32"), ("float16", "float32"),
            ("float32", "float16")][rng.integers(4)]
    x, f = operands(rng, cfg["N"], cfg["W"], cfg["Cin"], cfg["Cout"], cfg["K"], a, "NWC", b)
    return _spoiled(rng, cfg, wout, "mixed-dtype", ["input", "filters"], x=x, f=f)


def _inv_empty(rng, what):
    """Empty input (N=0 or W=0) with a width (0), channel (1) or batch (2) mismatch."""
    cfg, wout = _invalid_base(rng, dtype=str(rng.choice(["float32", "float64"])), nwc_d1=True)
    if rng.random() < 0.5:
        cfg["W"] = 0
    else:
        cfg["N"] = 0
    lo, hi = accepted_widths(cfg["W"], cfg["K"], cfg["stride"], cfg["dilation"], cfg["padding"])
    if what == 0:
        wout = hi + int(rng.integers(1, 4))
        return _spoiled(rng, cfg, wout, "empty-width", ["output_shape"])
    wout = lo
    if what == 1:
        return _spoiled(rng, cfg, wout, "empty-cout-mismatch", ["output_shape", "filters"],
                        shape=out_shape(cfg["N"], wout, cfg["Cout"] + 1, "NWC"))
    return _spoiled(rng, cfg, wout, "empty-batch-mismatch", ["output_shape", "input"],
                    shape=out_shape(cfg["N"] + 1, wout, cfg["Cout"], "NWC"))


INVALID_KINDS = {
    "width-lo-1": lambda rng: _inv_width(rng, -1),
    "width-hi+1": lambda rng: _inv_width(rng, +1),
    "cin-mismatch": _inv_cin,
    "cout-mismatch": _inv_cout,
    "batch-mismatch": _inv_batch,
    "padding-bad": _inv_padding,
    "data_format-bad": _inv_data_format,
    "strides-bad": lambda rng: _inv_window(rng, "strides"),
    "dilations-bad": lambda rng: _inv_window(rng, "dilations"),
    "window-param-batch-channel": _inv_window_batch_channel,
    "window-non-int": _inv_window_non_int,
    "int-dtype": _inv_int_dtype,
    "mixed-dtype": _inv_mixed_dtype,
    "empty-width": lambda rng: _inv_empty(rng, 0),
    "empty-cout-mismatch": lambda rng: _inv_empty(rng, 1),
    "empty-batch-mismatch": lambda rng: _inv_empty(rng, 2),
}
# Relative frequency of each kind (the golden set cycles through them in this proportion).
INVALID_WEIGHTS = {"width-lo-1": 12, "width-hi+1": 12, "cin-mismatch": 8, "cout-mismatch": 8,
                   "batch-mismatch": 8, "padding-bad": 8, "data_format-bad": 5, "strides-bad": 8,
                   "dilations-bad": 6, "window-param-batch-channel": 6, "window-non-int": 3,
                   "int-dtype": 6, "mixed-dtype": 5, "empty-width": 3,
                   "empty-cout-mismatch": 2, "empty-batch-mismatch": 2}


def random_invalid_case(rng, kind=None):
    if kind is None:
        names = list(INVALID_WEIGHTS)
        p = np.array([INVALID_WEIGHTS[k] for k in names], float)
        kind = names[rng.choice(len(names), p=p / p.sum())]
    return INVALID_KINDS[kind](rng)


def special_cases(rng):
    """A few hand-placed valid cases: empty operands and the 0-d array stride form."""
    out = []
    for n, w, pad, fmt, dt in [(0, 3, "SAME", "NWC", "float32"), (0, 4, "VALID", "NCW", "float32"),
                               (0, 2, "SAME", "NWC", "float64"), (2, 0, "SAME", "NWC", "float64"),
                               (2, 0, "VALID", "NWC", "float32"), (1, 0, "VALID", "NWC", "float64")]:
        cfg = dict(N=n, W=w, Cin=2, Cout=3, K=3, stride=2, dilation=1, padding=pad,
                   data_format=fmt, dtype=dt)
        lo, hi = accepted_widths(w, 3, 2, 1, pad)
        for wout in range(lo, hi + 1):
            out.append(valid_case(rng, cfg, wout, "empty"))
    for dt in ("float32", "float64"):
        cfg = dict(N=2, W=4, Cin=2, Cout=3, K=3, stride=2, dilation=1, padding="SAME",
                   data_format="NWC", dtype=dt)
        case = valid_case(rng, cfg, 8, "form-0d-array")
        case["args"]["strides"] = enc(2, "ndarray", "int64")
        out.append(case)
    return out


def special_invalid_cases(rng):
    """Hand-placed invalid calls, one per disagreement with TF the random search has found."""
    def cfg(**kw):
        base = dict(N=2, W=3, Cin=2, Cout=3, K=3, stride=2, dilation=1, padding="SAME",
                    data_format="NWC", dtype="float32")
        base.update(kw)
        return base

    out = []
    c = cfg(W=1, K=3, stride=3, padding="VALID")          # accepted widths 3..5
    out.append(_spoiled(rng, c, 2, "width-lo-1", ["output_shape"]))
    c = cfg(W=1, stride=1)                                  # accepted width 1
    out.append(_spoiled(rng, c, 0, "width-lo-1", ["output_shape"]))
    c = cfg(W=0, K=5, stride=2, padding="VALID", dtype="float64")  # accepted widths 3..4
    out.append(_spoiled(rng, c, 2, "width-lo-1", ["output_shape"]))
    c = cfg(W=0, padding="VALID")                           # accepted widths 1..2
    out.append(_spoiled(rng, c, 5, "empty-width", ["output_shape"]))
    c = cfg(Cin=4, Cout=1)                                  # TF: 2 groups
    out.append(_spoiled(rng, c, 6, "cout-mismatch", ["output_shape", "filters"],
                        shape=out_shape(2, 6, 2, "NWC")))
    c = cfg()
    xi = rng.integers(-3, 4, (2, 3, 2)).astype(np.int32)
    fi = rng.integers(-3, 4, (3, 3, 2)).astype(np.int32)
    out.append(_spoiled(rng, c, 6, "int-dtype", ["input", "filters"], x=xi, f=fi))
    out.append(_spoiled(rng, c, 6, "strides-non-int", ["strides"], strides=enc(2.0)))
    c = cfg(stride=1)
    out.append(_spoiled(rng, c, 3, "strides-non-int", ["strides"], strides=enc(True)))
    return out


def golden_cases(seed=DEFAULT_SEED, n_valid=300, n_invalid=100):
    """The golden set: every accepted width of random configurations, a few large and special
    cases, then invalid calls cycling through :data:`INVALID_KINDS` in proportion."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(4):
        cases.append(random_valid_case(rng, large=True))
    cases.extend(special_cases(rng))
    while len(cases) < n_valid:
        cfg = random_config(rng)
        lo, hi = accepted_widths(cfg["W"], cfg["K"], cfg["stride"], cfg["dilation"], cfg["padding"])
        for wout in range(lo, hi + 1):
            cases.append(valid_case(rng, cfg, wout))
    total = sum(INVALID_WEIGHTS.values())
    for kind, wgt in INVALID_WEIGHTS.items():
        for _ in range(max(1, round(n_invalid * wgt / total))):
            cases.append(random_invalid_case(rng, kind))
    cases.extend(special_invalid_cases(rng))
    for j, case in enumerate(cases):
        case["id"] = f"case{j:04d}"
    return cases


# --------------------------------------------------------------------------------------------
# TensorFlow.

def setup_tf():
    """Import TF on the CPU, single-threaded and deterministic; return the module."""
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    tf.config.set_visible_devices([], "GPU")
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()
    return tf


def tf_info(tf):
    try:
        from tensorflow.python.util import _pywrap_util_port
        onednn = bool(_pywrap_util_port.IsMklEnabled())
    except Exception:  # pragma: no cover - depends on the TF build
        onednn = None
    return {"tf_version": tf.__version__, "numpy_version": np.__version__, "onednn": onednn,
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
            "threads": {"intra_op": 1, "inter_op": 1}, "op_determinism": True}


def _check_safe(case):
    """TF aborts the whole process on a negative width or a wrong-rank shape: never send one."""
    shape = dec(case["args"]["output_shape"])
    shape = list(np.asarray(shape).ravel())
    assert len(shape) == 3 and all(int(v) >= 0 for v in shape), shape
    assert np.ndim(case["input"]) == 3 and np.ndim(case["filters"]) == 3


def _first_line(exc):
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    msg = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", msg)
    return msg[:240]


def _tf_call(tf, args, kwargs):
    try:
        return "ok", "", np.asarray(tf.nn.conv1d_transpose(*args, **kwargs))
    except Exception as exc:  # TF raises many classes; we record the name
        return type(exc).__name__, _first_line(exc), None


def equivalent_f64_nwc(case):
    """(args, kwargs, back, route) of the float64 NWC, dilation-1 call equal to ``case``'s geometry."""
    g = case["geometry"]
    x = np.asarray(case["input"], np.float64)
    f = np.asarray(case["filters"], np.float64)
    route = []
    if g["data_format"] == "NCW":
        x = np.ascontiguousarray(x.transpose(0, 2, 1))
        route.append("nwc")
    if g["dilation"] > 1:
        fd = np.zeros((keff(g["K"], g["dilation"]),) + f.shape[1:])
        fd[::g["dilation"]] = f
        f = fd
        route.append("dilated-filter")
    shape = dec(case["args"]["output_shape"])
    shape = [int(v) for v in np.asarray(shape).ravel()]
    if g["data_format"] == "NCW":
        shape = [shape[0], shape[2], shape[1]]

    def back(y):
        return np.ascontiguousarray(y.transpose(0, 2, 1)) if g["data_format"] == "NCW" else y

    return (x, f, shape, g["stride"]), {"padding": g["padding"]}, back, "+".join(route)


def run_tf(tf, case):
    """TF's outcome for ``case``: dict(tf_outcome, tf_message, tf_route, tf_result[, tf_f64_outcome])."""
    _check_safe(case)
    args, kwargs = build_call(case)
    outcome, message, y = _tf_call(tf, args, kwargs)
    res = {"tf_outcome": outcome, "tf_message": message, "tf_route": "direct", "tf_result": y}
    g = case["geometry"]
    f64 = np.asarray(case["input"]).dtype == np.float64
    if (outcome != "ok" and case["kind"] == "valid" and f64
            and (g["data_format"] == "NCW" or g["dilation"] > 1)):
        eargs, ekw, back, route = equivalent_f64_nwc(case)
        o2, m2, y2 = _tf_call(tf, eargs, ekw)
        if o2 == "ok":
            res.update(tf_route=route, tf_result=back(y2))
        else:
            res["tf_route_outcome"] = f"{route}: {o2}: {m2}"
    if (case["kind"] == "invalid" and outcome == "ok" and np.asarray(case["input"]).size == 0
            and np.asarray(case["input"]).dtype == np.float32):
        eargs, ekw, _, _ = equivalent_f64_nwc(case)
        o2, m2, _ = _tf_call(tf, eargs, ekw)
        res["tf_f64_outcome"] = o2 if o2 == "ok" else f"{o2}: {m2}"
    return res


def classify(case, res):
    """``(difference, expect)`` for ``case`` given TF's outcome ``res`` (see the module doc).

    For a deliberate difference ``expect`` is conv1dt's contract (valid cases are computed,
    invalid ones refused); for anything else it is what TF did.
    """
    difference, expect = _classify_tf(case, res)
    if difference in DELIBERATE:
        expect = "ok" if case["kind"] == "valid" else "refuse"
    return difference, expect


def _classify_tf(case, res):
    """``(difference, TF's outcome as an expectation)``."""
    tf_ok = res["tf_outcome"] == "ok"
    if case["kind"] == "valid":
        if tf_ok:
            return None, "ok"
        if res["tf_result"] is not None:  # an equivalent route succeeded
            return "tf-cpu-unimplemented", "ok"
        if case["reason"] == "form-0d-array":
            return "tf-refuses-0d-array-window-param", "refuse"
        return "tf-refuses-valid", "refuse"
    if not tf_ok:
        return None, "refuse"
    reason = case["reason"]
    x = np.asarray(case["input"])
    if reason.startswith("window-param-batch-channel"):
        return "window-param-batch-channel", "refuse"
    if reason == "int-dtype":
        return "tf-accepts-int32", "ok"
    if reason.endswith("-non-int"):
        return "tf-accepts-non-int-window-param", "ok"
    if x.size == 0 and x.dtype == np.float32:
        return "tf-onednn-empty-input", "ok"
    g = case["geometry"]
    if res["tf_result"].size == 0 and x.dtype == np.float32:
        return "tf-onednn-empty-output", "ok"
    if (reason == "width-lo-1" and g["padding"] == "VALID" and g["W"] == 1
            and x.dtype == np.float32):
        return "tf-onednn-valid-truncation", "ok"
    out_c = res["tf_result"].shape[1 if g["data_format"] == "NCW" else 2]
    if (reason == "cout-mismatch" and out_c % g["Cout"] == 0
            and g["Cin"] % (out_c // g["Cout"]) == 0):
        return "tf-onednn-grouped-channels", "ok"
    if x.size == 0 and g["padding"] == "VALID" and x.dtype == np.float64:
        return "tf-valid-empty-truncation", "ok"
    return "tf-accepts-invalid", "ok"


def case_meta(case, res):
    """The JSON-able record of ``case`` (everything but the arrays)."""
    difference, expect = classify(case, res)
    x, f = np.asarray(case["input"]), np.asarray(case["filters"])
    meta = {"id": case["id"], "kind": case["kind"], "reason": case["reason"], "args": case["args"],
            "geometry": case["geometry"], "dtype": str(x.dtype),
            "tf_outcome": res["tf_outcome"], "tf_message": res["tf_message"],
            "tf_route": res["tf_route"], "expect": expect, "difference": difference}
    if f.dtype != x.dtype:
        meta["filters_dtype"] = str(f.dtype)
    if expect == "refuse" or case["kind"] == "invalid":
        meta["expect_names"] = case.get("expect_names", list(ARG_NAMES))
    for k in ("tf_f64_outcome", "tf_route_outcome"):
        if k in res:
            meta[k] = res[k]
    if res["tf_result"] is not None:
        meta["tf_shape"] = list(res["tf_result"].shape)
        meta["tf_dtype"] = str(res["tf_result"].dtype)
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--n-valid", type=int, default=300)
    ap.add_argument("--n-invalid", type=int, default=100)
    opts = ap.parse_args(argv)

    tf = setup_tf()
    cases = golden_cases(opts.seed, opts.n_valid, opts.n_invalid)
    arrays, metas = {}, []
    tally = {}
    for case in cases:
        res = run_tf(tf, case)
        meta = case_meta(case, res)
        metas.append(json.dumps(meta, sort_keys=True))
        arrays[f"{case['id']}_input"] = np.asarray(case["input"])
        arrays[f"{case['id']}_filters"] = np.asarray(case["filters"])
        if res["tf_result"] is not None:
            arrays[f"{case['id']}_tf"] = res["tf_result"]
        key = (case["kind"], meta["tf_outcome"] if meta["tf_outcome"] == "ok" else "refused",
               meta["difference"])
        tally[key] = tally.get(key, 0) + 1

    info = dict(tf_info(tf), format=FORMAT_VERSION, seed=opts.seed, n_cases=len(cases),
                deliberate=DELIBERATE, open=OPEN, generator="tools/make_golden.py")
    out = os.path.abspath(opts.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    np.savez_compressed(out, info=np.array(json.dumps(info, sort_keys=True)),
                        meta=np.array(metas), **arrays)
    print(f"TF {tf.__version__} (oneDNN: {info['onednn']}); wrote {len(cases)} cases to {out} "
          f"({os.path.getsize(out) / 1e6:.2f} MB)")
    for (kind, outcome, diff), count in sorted(tally.items(), key=str):
        print(f"  {kind:8s} TF {outcome:8s} {diff or '-':34s} {count:4d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
