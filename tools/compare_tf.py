#!/usr/bin/env python
"""Fresh random calls through both ``tf.nn.conv1d_transpose`` and ``conv1dt.conv1d_transpose``.

Usage (needs tensorflow-cpu; conv1dt from the source tree)::

    cd /work/main && PYTHONPATH=/work/main /work/peers/bin/python tools/compare_tf.py [--n 3000]
        [--seed S] [--invalid-fraction 0.25] [--large-fraction 0.02]

The calls come from the generators of ``tools/make_golden.py`` (imported, not copied), TF's
outcome is taken and labelled by its ``run_tf``/``classify``, so a difference is judged exactly as
in the golden file. Accepted calls must agree in shape and dtype, and elementwise
``|ours - tf| <= 2 * n * eps(dtype) * B`` (``B``: ``conv1dt.reference`` on ``|x|``, ``|f|`` in
float64; ``n = ceil(K / (s / gcd(s, d))) * Cin`` products per output; the argument is in
``tests/test_golden.py``). Refused calls must raise ValueError/TypeError naming an argument.

Prints a summary and every disagreement. Exit status 1 on any failure: a TF/conv1dt acceptance
disagreement that is not one of make_golden's ``DELIBERATE`` differences, a result outside the
bound, a wrong shape/dtype, or a refusal of the wrong kind.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden as mg  # noqa: E402  (generators, TF runner and labels, shared with the golden file)


def error_bound(case, x, f):
    """``2 * n * eps * B`` elementwise in ``case``'s layout (see the module docstring)."""
    from conv1dt import reference
    from conv1dt._geometry import transpose_geometry

    g = case["geometry"]
    fmt = g["data_format"]
    shape = mg.out_shape(g["N"], g["wout"], g["Cout"], fmt)
    geom = transpose_geometry(x.shape, f.shape, shape, g["stride"], g["dilation"], g["padding"], fmt)
    xa = np.abs(x.astype(np.float64))
    xa = xa if fmt == "NWC" else xa.transpose(0, 2, 1)
    b = reference.conv1d_transpose(np.ascontiguousarray(xa), np.abs(f.astype(np.float64)), geom)
    b = b if fmt == "NWC" else b.transpose(0, 2, 1)
    taps = -(-g["K"] // (g["stride"] // math.gcd(g["stride"], g["dilation"])))
    eps = np.finfo(x.dtype).eps if x.dtype.kind == "f" else 0.0
    return 2 * taps * g["Cin"] * eps * b


def describe(case):
    """One line with everything needed to replay ``case``."""
    x, f = np.asarray(case["input"]), np.asarray(case["filters"])
    args, kwargs = mg.build_call(case)
    dt = str(x.dtype) if x.dtype == f.dtype else f"{x.dtype}/{f.dtype}"
    kw = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return (f"[{case['kind']}:{case['reason']}] input {dt}{list(x.shape)}, filters {list(f.shape)}, "
            f"output_shape={args[2]!r}, strides={args[3]!r}" + (f", {kw}" if kw else ""))


def run_ours(case):
    import conv1dt

    args, kwargs = mg.build_call(case)
    try:
        return "ok", "", conv1dt.conv1d_transpose(*args, **kwargs)
    except Exception as exc:  # anything but ValueError/TypeError is itself a failure
        return type(exc).__name__, str(exc), None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000, help="number of random calls (default 3000)")
    ap.add_argument("--seed", type=int, default=None, help="default: fresh, printed")
    ap.add_argument("--invalid-fraction", type=float, default=0.25)
    ap.add_argument("--large-fraction", type=float, default=0.02)
    opts = ap.parse_args(argv)
    seed = opts.seed if opts.seed is not None else int.from_bytes(os.urandom(4), "little")
    rng = np.random.default_rng(seed)

    tf = mg.setup_tf()
    import conv1dt

    t0 = time.time()
    n_valid = n_valid_ok = n_shape_ok = 0
    n_invalid = n_both_refused = 0
    f64 = {"direct": [0, 0], "route": [0, 0]}
    f32_rel = []
    worst = (0.0, None)
    deliberate = {}
    open_diffs = {}      # label -> [lines]
    failures = []        # lines

    for j in range(opts.n):
        if rng.random() < opts.invalid_fraction:
            case = mg.random_invalid_case(rng)
        else:
            case = mg.random_valid_case(rng, large=rng.random() < opts.large_fraction)
        case["id"] = f"#{j}"
        res = mg.run_tf(tf, case)
        difference, expect = mg.classify(case, res)
        ours, msg, y = run_ours(case)
        tf_desc = res["tf_outcome"] + (f" ({res['tf_message'][:100]})" if res["tf_message"] else "")
        if res["tf_route"] != "direct":
            tf_desc += f"; equivalent {res['tf_route']} call: ok"
        if "tf_f64_outcome" in res:
            tf_desc += f"; same shapes in float64: {res['tf_f64_outcome'][:90]}"
        our_desc = f"ok {y.shape} {y.dtype}" if ours == "ok" else f"{ours}: {msg[:110]}"
        line = f"{case['id']} {describe(case)}\n      TF: {tf_desc}\n      conv1dt: {our_desc}"
        tf_accepts = res["tf_result"] is not None
        if case["kind"] == "valid":
            n_valid += 1
        else:
            n_invalid += 1

        if ours not in ("ok", "ValueError", "TypeError"):
            failures.append(f"conv1dt raised {ours}, not ValueError/TypeError:\n    {line}")
            continue
        if difference in mg.DELIBERATE:
            deliberate[difference] = deliberate.get(difference, 0) + 1
        elif difference is not None or tf_accepts != (ours == "ok"):
            if tf_accepts != (ours == "ok"):
                open_diffs.setdefault(difference or "unlabelled", []).append(line)
                continue
        if ours != "ok":
            if expect == "ok":
                failures.append(f"conv1dt refused a call it should accept:\n    {line}")
                continue
            names = case.get("expect_names") or mg.ARG_NAMES
            if not any(nm in msg for nm in names):
                failures.append(f"message names none of {names}:\n    {line}")
            elif case["reason"] in ("int-dtype", "mixed-dtype") and ours != "TypeError":
                failures.append(f"dtype refusal is not a TypeError:\n    {line}")
            if not tf_accepts:
                n_both_refused += case["kind"] == "invalid"
            continue
        # conv1dt accepted
        if expect == "refuse":
            failures.append(f"conv1dt accepted a call it should refuse:\n    {line}")
            continue
        want = res["tf_result"]
        if want is None:  # TF refused an argument form conv1dt accepts on purpose
            continue
        if case["kind"] == "valid":
            n_valid_ok += 1
        if y.shape != want.shape or y.dtype != want.dtype:
            failures.append(f"shape/dtype differ: TF {want.shape} {want.dtype}:\n    {line}")
            continue
        n_shape_ok += 1
        x, f = np.asarray(case["input"]), np.asarray(case["filters"])
        err = np.abs(y.astype(np.float64) - want.astype(np.float64))
        tol = error_bound(case, x, f)
        if (err > tol).any() or not np.isfinite(y).all():
            idx = tuple(np.argwhere(~(err <= tol))[0])
            failures.append(f"values beyond the bound at {idx}: ours {y[idx]!r}, TF {want[idx]!r}, "
                            f"bound {tol[idx]:.3g}:\n    {line}")
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(tol > 0, err / tol, 0.0)
        if ratio.size and ratio.max() > worst[0]:
            worst = (float(ratio.max()), case)
        if y.dtype == np.float64:
            slot = f64["direct" if res["tf_route"] == "direct" else "route"]
            slot[0] += bool(np.array_equal(y, want))
            slot[1] += 1
        elif y.dtype == np.float32 and y.size and np.abs(want).max() > 0:
            f32_rel.append(float(err.max() / np.abs(want.astype(np.float64)).max()))

    n_open = sum(len(v) for v in open_diffs.values())
    print(f"compare_tf: {opts.n} random calls, seed {seed}, TF {tf.__version__}, "
          f"conv1dt {conv1dt.__version__}, {time.time() - t0:.1f} s")
    print(f"valid cases:                           {n_valid}")
    print(f"  accepted by both, TF result compared: {n_valid_ok}")
    print(f"accepted calls with equal shape/dtype:  {n_shape_ok}")
    print(f"max |ours - tf| / bound:                {worst[0]:.3g}"
          + (f"  ({describe(worst[1])})" if worst[1] is not None else ""))
    print(f"float64 bit-identical to TF:            {f64['direct'][0]} of {f64['direct'][1]} direct; "
          f"{f64['route'][0]} of {f64['route'][1]} via TF's equivalent NWC/undilated call")
    if f32_rel:
        r = np.array(f32_rel)
        print(f"float32 max|ours - tf| / max|tf|:       median {np.median(r):.2e}, max {r.max():.2e} "
              f"({r.size} cases)")
    print(f"invalid cases:                         {n_invalid}")
    print(f"  refused by both:                      {n_both_refused}")
    for label, count in sorted(deliberate.items()):
        print(f"deliberate difference {label}: {count}")
    print(f"disagreements beyond the deliberate ones: {n_open}")
    for label, lines in sorted(open_diffs.items()):
        why = mg.OPEN.get(label, "not classified")
        print(f"  {label} ({len(lines)}): {why}")
        for ln in lines:
            print(f"    {ln}")
    print(f"failures: {len(failures)}")
    for ln in failures:
        print(f"  {ln}")
    return 1 if failures or n_open else 0


if __name__ == "__main__":
    sys.exit(main())
