"""Maintainer tool: how far the planner's pick is from the fastest kernel, on random geometries.

Draws geometries as ``python -m conv1dt.bench --sweep`` does (``conv1dt.bench.sweep.draw``, the
same for the same seed; use a seed no rule was tuned on), runs each through the public op (the
planner's kernel) and through every kernel of its op forced in its place, checks every result
against the NumPy matmul-per-tap baseline, and prints per geometry the planner's kernel, the
fastest one, the regret (planner's time over the fastest) and the speed-up over NumPy; then the
geometries whose regret passes ``--worse``. Kernels are forced by replacing the planner's choice
(``conv1dt._plan.choose``) for the call, so each runs with the blocks the planner would give it.

    python tools/planner_regret.py --seed 8 --n 150 --threads 1 --json regret.json

Times are medians of repeated calls (``conv1dt.bench.libs.repeat_times``), all of one geometry
taken back to back; on a shared machine check ``uptime`` first. A time is ``x`` where the
kernel does not take the geometry, ``WRONG`` where its result is off (a bug to report).
"""
import argparse
import json
import math
import statistics
import sys

import numpy as np

from conv1dt import _plan
from conv1dt.bench import libs, shapes, sweep
from conv1dt.bench.table import conv1dt_runner, own_threads

KERNELS = {
    "conv1d": ["direct", "blas", "im2col", "implicit", "flip-direct", "flip-tiled", "polyphase",
               "fir"],
    "conv1d_transpose": ["direct", "ola", "col2im", "tiled", "phase", "blas"],
    "conv1d_backprop_filter": ["direct", "im2col", "fir"],
}
PLAN_OP = {"conv1d": "conv1d", "conv1d_transpose": "transpose",
           "conv1d_backprop_filter": "backprop_filter"}


def kernels_of(c):
    """The kernels that may run case ``c`` (conv1d's reversed-filter kernels only where the
    identity holds: no groups, ``(K-1)*d >= pad_before``, and stride 1 for ``flip-tiled``;
    ``fir`` for one channel each way, at dilation 1 for the filter gradient)."""
    if c.groups > 1 and c.groups == c.cw == c.cn and c.op != "conv1d_backprop_filter":
        extra = ["depthwise"]
    else:
        extra = []
    if c.op == "conv1d_transpose" and c.groups > 1:
        return ["direct", "tiled", "copies"] + extra
    if c.op == "conv1d" and c.groups > 1:
        return ["direct", "blas", "im2col"] + extra
    kernels = KERNELS[c.op] + extra
    if c.op == "conv1d" and _plan.flipped_pad(shapes.geometry(c)) < 0:
        kernels = [k for k in kernels if not k.startswith("flip")]
    if c.op == "conv1d" and c.s > 1:
        kernels = [k for k in kernels if k != "flip-tiled"]
    if c.cw * c.cn != 1 or (c.op == "conv1d_backprop_filter" and c.d != 1):
        kernels = [k for k in kernels if k != "fir"]
    return kernels


def median_ms(fn, min_time):
    return statistics.median(libs.repeat_times(fn, min_time, 3)) * 1e3


def probe(c, dtype, threads, min_time=0.03):
    """``{name: ms or 'x' or 'WRONG'}`` for NumPy, the public call and each forced kernel."""
    job = shapes.job(c, dtype, threads)
    a, b = libs.operands(job)
    base = libs.numpy_op(job)
    want = base(a, b)
    scale = max(float(np.max(np.abs(want))), 1e-30) if want.size else 1.0
    tol = 1e-3 if dtype == "float32" else 1e-9
    out = {"numpy": median_ms(lambda: base(a, b), min_time)}
    planned, _ = conv1dt_runner(job)
    first = median_ms(planned, min_time)
    original = _plan.choose
    for k in kernels_of(c):
        # forced for the call's own geometry only (the per-group plans of 'copies' choose freely)
        def forced(op, g, *args, k=k, **kw):
            return k if g.groups == c.groups else original(op, g, *args, **kw)
        _plan.choose = forced
        _plan.clear_cache()
        try:
            ours, _ = conv1dt_runner(job)
            y = np.asarray(ours())
            if y.size and float(np.max(np.abs(y - want))) > tol * scale:
                out[k] = "WRONG"
                continue
            out[k] = median_ms(ours, min_time)
        except (ValueError, TypeError, KeyError, NotImplementedError):
            out[k] = "x"
        finally:
            _plan.choose = original
            _plan.clear_cache()
    # timed before and after the forced kernels: the first timing of a geometry runs slow
    out["planner"] = min(first, median_ms(planned, min_time))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python tools/planner_regret.py", description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--n", type=int, default=100, help="geometries (default 100)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--op", choices=sorted(PLAN_OP), help="only this op")
    p.add_argument("--worse", type=float, default=1.5, help="list regrets above this (1.5)")
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args(argv)
    own_threads(args.threads, pin=False)
    rows = []
    drawn = sweep.draw(args.n * (3 if args.op else 1), args.seed)
    for c, dtype in drawn:
        if args.op and c.op != args.op:
            continue
        if len(rows) == args.n:
            break
        times = probe(c, dtype, args.threads)
        g = shapes.geometry(c)
        chosen = _plan.choose(PLAN_OP[c.op], g, 4 if dtype == "float32" else 8)
        timed = {k: v for k, v in times.items() if isinstance(v, float) and k not in ("numpy", "planner")}
        best = min(timed, key=timed.get)
        regret = times["planner"] / timed[best]
        rows.append(dict(case=c._asdict(), dtype=dtype, times=times, chosen=chosen, best=best,
                         regret=regret, vs_numpy=times["numpy"] / times["planner"]))
        print(f"{len(rows):3d} {c.op:22s} {dtype} {str(list(shapes.op_terms(c))):48s} "
              f"{chosen:11s} best {best:11s} regret {regret:5.2f}  vs NumPy {rows[-1]['vs_numpy']:6.2f}"
              + "".join(f"  {k} WRONG" for k, v in times.items() if v == "WRONG"), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh)
    if not rows:
        return 0
    regrets = [r["regret"] for r in rows]
    print(f"\n{len(rows)} geometries, {args.threads} thread(s): regret median "
          f"{statistics.median(regrets):.2f}, geometric mean "
          f"{math.exp(sum(map(math.log, regrets)) / len(regrets)):.2f}, above {args.worse}: "
          f"{sum(r > args.worse for r in regrets)}; wrong results: "
          f"{sum('WRONG' in r['times'].values() for r in rows)}")
    for r in sorted(rows, key=lambda r: -r["regret"]):
        if r["regret"] <= args.worse:
            break
        c = shapes.Case(**r["case"])
        print(f"  {r['regret']:5.2f}x  {c.op} {r['dtype']} {list(shapes.op_terms(c))}: "
              f"{r['chosen']} {r['times']['planner']:.4f} ms, {r['best']} {r['times'][r['best']]:.4f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
