"""``--sweep N --seed S``: conv1dt on random geometries across the whole space of the family.

Each geometry is drawn at random (:func:`draw`): an op, a dtype, and a shape with batch 1-64,
wide width 8 to 2^20, channels 1-2048 on each side, 1-1024 taps, stride 1-16, dilation 1-8,
SAME, VALID or explicit padding, and groups where they divide (depthwise among them); every
size is drawn log-uniformly, so small and large are alike likely. A draw beyond the size
budget (FLOPs, bytes of the operands, and the elements the NumPy baseline touches, so that one
geometry costs well under a second) is drawn again. Each geometry is timed for conv1dt and the
NumPy matmul-per-tap baseline at every thread count, the two results checked against each
other, and set against its roofline time ``max(FLOPs / (FMA rate x threads), bytes / bandwidth)``
with the machine's figures (:mod:`conv1dt._runtime.machine`).
"""
import math
import statistics
import sys
import time

from . import libs
from .shapes import Case, flops, footprint, job, label, nbytes

MAX_FLOPS = 5e8          # FLOPs of one call
MAX_BYTES = 64 << 20     # bytes of both operands and the result
MAX_TOUCH = 1e8          # elements the per-tap baseline reads and writes, K * N * M * (Cw + Cn)
MAX_DRAWS = 10_000
BIG = 50e6               # FLOPs from which 2 threads should beat 1


def log_int(rng, lo, hi):
    """An integer in ``[lo, hi]``, log-uniformly."""
    v = int(math.exp(rng.uniform(math.log(lo), math.log(hi + 1))))
    return min(max(v, lo), hi)


def _channels(rng):
    """``(Cw, Cn, groups)``: ungrouped (70 %), grouped with a common divisor (15 %), or depthwise
    (15 %: ``groups = Cw``, ``Cn`` a multiple of it)."""
    r = rng.random()
    if r < 0.7:
        return log_int(rng, 1, 2048), log_int(rng, 1, 2048), 1
    if r < 0.85:
        g = log_int(rng, 2, 256)
        return g * log_int(rng, 1, 2048 // g), g * log_int(rng, 1, 2048 // g), g
    c = log_int(rng, 1, 2048)
    return c, c * log_int(rng, 1, max(2048 // c, 1)), c


def draw_one(rng):
    """One geometry of a random op and dtype, with no regard to size: ``(Case, dtype)``."""
    from conv1dt._geometry import effective_filter_width, forward_width

    from .libs import OPS

    op = OPS[int(rng.integers(len(OPS)))]
    dtype = ("float32", "float64")[int(rng.integers(2))]
    n, k, s = log_int(rng, 1, 64), log_int(rng, 1, 1024), log_int(rng, 1, 16)
    d = 1 if rng.random() < 0.5 else int(rng.integers(2, 9))
    cw, cn, groups = _channels(rng)
    keff = effective_filter_width(k, d)
    r = rng.random()
    padding = "SAME" if r < 0.4 else "VALID" if r < 0.8 else (
        int(rng.integers(0, keff)), int(rng.integers(0, keff)))
    lo, hi = (0, 0) if isinstance(padding, str) else padding
    smallest = 1 if padding == "SAME" else max(keff - lo - hi, 1)
    wide = max(log_int(rng, 8, 1 << 20), smallest)
    narrow = forward_width(wide, k, s, d, padding)
    return Case(op, n, wide, narrow, cw, cn, k, s, d, padding, groups), dtype


def within(c, dtype, max_flops=MAX_FLOPS, max_bytes=MAX_BYTES, max_touch=MAX_TOUCH):
    """Whether case ``c`` fits the size budget."""
    itemsize = 4 if dtype == "float32" else 8
    touch = c.k * c.n * c.narrow * (c.cw + c.cn)
    return flops(c) <= max_flops and footprint(c, itemsize) <= max_bytes and touch <= max_touch


def draw(count, seed, max_flops=MAX_FLOPS, max_bytes=MAX_BYTES, max_touch=MAX_TOUCH):
    """``count`` geometries ``(Case, dtype)`` within the budget, the same for the same seed."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count * MAX_DRAWS):
        if len(out) == count:
            break
        c, dtype = draw_one(rng)
        if within(c, dtype, max_flops, max_bytes, max_touch):
            out.append((c, dtype))
    return out


def roofline_seconds(c, dtype, threads, figures):
    """``max(FLOPs / (FMA rate x threads), bytes / bandwidth)``: the fastest the machine could
    compute the case, from :func:`conv1dt._runtime.machine.machine`'s figures; ``bytes`` is
    :func:`conv1dt.bench.shapes.nbytes` (each operand's touched elements once)."""
    rate = figures["fma_f32" if dtype == "float32" else "fma_f64"] * threads
    itemsize = 4 if dtype == "float32" else 8
    return max(flops(c) / rate, nbytes(c, itemsize) / figures["bandwidth"])


def distribution(values):
    """``{'n', 'min', 'p5', 'median', 'gmean', 'p95', 'max'}`` of positive ``values``."""
    import numpy as np

    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        return {"n": 0}
    return {"n": int(v.size), "min": float(v.min()), "p5": float(np.percentile(v, 5)),
            "median": float(np.median(v)), "gmean": float(np.exp(np.mean(np.log(v)))),
            "p95": float(np.percentile(v, 95)), "max": float(v.max())}


def time_case(c, dtype, threads_list, min_time, runners_for=None, rounds=1):
    """``{threads: (conv1dt s, numpy s)}`` and the two results' largest difference relative to
    the largest magnitude of conv1dt's. Each time is the median over ``rounds`` rounds, each
    round timing every thread count in turn (so that the machine's drift from one moment to
    the next falls on every count alike, not on the ratio of two of them)."""
    import numpy as np

    from .table import conv1dt_runner, own_threads

    j = job(c, dtype, threads_list[0])
    ours, _ = conv1dt_runner(j)
    a, b = libs.operands(j)
    base = libs.numpy_op(j)
    theirs = lambda: base(a, b)
    runs = {threads: ([], []) for threads in threads_list}
    y0 = y1 = None
    for _ in range(max(1, rounds)):
        for threads in threads_list:
            own_threads(threads, pin=False)
            runs[threads][0].append(statistics.median(libs.repeat_times(ours, min_time, 3)))
            runs[threads][1].append(statistics.median(libs.repeat_times(theirs, min_time, 3)))
            if y0 is None:
                y0, y1 = np.asarray(ours()), theirs()
    times = {threads: (statistics.median(a), statistics.median(b))
             for threads, (a, b) in runs.items()}
    scale = float(np.max(np.abs(y0))) if y0.size else 1.0
    err = float(np.max(np.abs(y0.astype(np.float64) - y1))) / (scale or 1.0) if y0.size else 0.0
    return times, err


def run(geometries, threads_list, figures, min_time=0.05, progress=None, rounds=1):
    """Time every geometry at every thread count (in ``rounds`` interleaved rounds:
    :func:`time_case`); a list of row dicts."""
    from .table import kernel_of

    rows = []
    for i, (c, dtype) in enumerate(geometries):
        if progress:
            progress(f"[{i + 1}/{len(geometries)}] {c.op} {dtype} {label(c)}")
        t0 = time.perf_counter()
        try:
            times, err = time_case(c, dtype, threads_list, min_time, rounds=rounds)
        except Exception as exc:
            rows.append({"case": c, "dtype": dtype, "error": f"{type(exc).__name__}: {exc}"})
            continue
        for threads, (ours, base) in times.items():
            roof = roofline_seconds(c, dtype, threads, figures)
            rows.append({"case": c, "dtype": dtype, "threads": threads, "mflop": flops(c) / 1e6,
                         "mib": footprint(c, 4 if dtype == "float32" else 8) / 2 ** 20,
                         "conv1dt_ms": ours * 1e3, "numpy_ms": base * 1e3, "roof_ms": roof * 1e3,
                         "vs_numpy": base / ours, "vs_roof": ours / roof, "diff": err,
                         "kernel": kernel_of(c, dtype), "seconds": time.perf_counter() - t0})
    return rows


def thread_speedups(rows, big=BIG):
    """``[(row at the fewest threads, speed-up at the most)]`` for geometries over ``big`` FLOPs."""
    by_case = {}
    for r in rows:
        if "threads" in r:
            by_case.setdefault((r["case"], r["dtype"]), {})[r["threads"]] = r
    out = []
    for per in by_case.values():
        lo, hi = min(per), max(per)
        if lo != hi and per[lo]["mflop"] * 1e6 > big:
            out.append((per[lo], per[lo]["conv1dt_ms"] / per[hi]["conv1dt_ms"], hi))
    return out


def _fmt(dist, digits=3):
    keys = ("min", "p5", "median", "gmean", "p95", "max")
    return ", ".join(f"{k} {dist[k]:.{digits}g}" for k in keys if k in dist) + f" (n={dist['n']})"


def describe(r):
    c = r["case"]
    return f"{c.op} {r['dtype']} [{label(c)}] {r['mflop']:.3g} MFLOP kernel={r['kernel']}"


def report(rows, worst=10):
    """The distributions and the worst geometries, as text."""
    lines = []
    failed = [r for r in rows if "threads" not in r]
    for threads in sorted({r["threads"] for r in rows if "threads" in r}):
        part = [r for r in rows if r.get("threads") == threads]
        lines.append(f"\n{threads} thread(s), {len(part)} geometries")
        lines.append("  speed-up over NumPy matmul-per-tap (numpy ms / conv1dt ms): "
                     + _fmt(distribution(r["vs_numpy"] for r in part)))
        lines.append(f"    below 0.9x: {sum(r['vs_numpy'] < 0.9 for r in part)}")
        lines.append("  time / roofline time (1 = at the roofline): "
                     + _fmt(distribution(r["vs_roof"] for r in part)))
        lines.append(f"    above 4x: {sum(r['vs_roof'] > 4 for r in part)}")
        lines.append(f"  the {worst} worst against NumPy:")
        for r in sorted(part, key=lambda r: r["vs_numpy"])[:worst]:
            lines.append(f"    {r['vs_numpy']:.3g}x NumPy, {r['vs_roof']:.3g}x roofline, "
                         f"{r['conv1dt_ms']:.3g} ms: {describe(r)}")
        lines.append(f"  the {worst} farthest from the roofline:")
        for r in sorted(part, key=lambda r: -r["vs_roof"])[:worst]:
            lines.append(f"    {r['vs_roof']:.3g}x roofline, {r['vs_numpy']:.3g}x NumPy, "
                         f"{r['conv1dt_ms']:.3g} ms: {describe(r)}")
    speedups = thread_speedups(rows)
    if speedups:
        lo, hi = speedups[0][0]["threads"], speedups[0][2]
        lines.append(f"\n{hi}-thread / {lo}-thread speed-up, geometries over {BIG / 1e6:g} MFLOP: "
                     + _fmt(distribution(s for _, s, _ in speedups)))
        lines.append(f"  below 1.6x: {sum(s < 1.6 for _, s, _ in speedups)}")
        for r, s, _ in sorted(speedups, key=lambda t: t[1])[:worst]:
            lines.append(f"    {s:.3g}x: {describe(r)}")
    bad = [r for r in rows if "diff" in r and r["diff"] > (1e-3 if r["dtype"] == "float32" else 1e-9)]
    for r in bad:
        lines.append(f"WARNING: conv1dt and NumPy differ by {r['diff']:.2e} on {describe(r)}")
    for r in failed:
        lines.append(f"FAILED: {r['case'].op} {r['dtype']} [{label(r['case'])}]: {r['error']}")
    return "\n".join(lines)


def write_csv(rows, path):
    import csv

    from .shapes import padding_text

    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["op", "dtype", "threads", "N", "L", "M", "Cw", "Cn", "K", "s", "d", "padding",
                      "groups", "MFLOP", "MiB", "conv1dt ms", "numpy ms", "roofline ms",
                      "vs numpy", "time/roofline", "kernel", "difference"])
        for r in rows:
            if "threads" not in r:
                continue
            c = r["case"]
            out.writerow([c.op, r["dtype"], r["threads"], c.n, c.wide, c.narrow, c.cw, c.cn, c.k,
                          c.s, c.d, padding_text(c.padding), c.groups, f"{r['mflop']:.4g}",
                          f"{r['mib']:.4g}", f"{r['conv1dt_ms']:.4g}", f"{r['numpy_ms']:.4g}",
                          f"{r['roof_ms']:.4g}", f"{r['vs_numpy']:.4g}", f"{r['vs_roof']:.4g}",
                          r["kernel"], f"{r['diff']:.2e}"])


def main(args, progress=lambda m: print(m, file=sys.stderr, flush=True)):
    from conv1dt._runtime import machine as _machine

    figures = _machine.machine()
    geometries = draw(args.sweep, args.seed, args.max_mflop * 1e6, args.max_mib * 2 ** 20)
    print(f"sweep of {len(geometries)} geometries (seed {args.seed}), threads {args.threads}; "
          f"roofline: FMA {figures['fma_f32'] / 1e9:.1f} / {figures['fma_f64'] / 1e9:.1f} "
          f"GFLOP/s per core (float32 / float64), bandwidth {figures['bandwidth'] / 1e9:.1f} GB/s")
    rows = run(geometries, args.threads, figures, args.min_time, progress, args.rounds)
    print(report(rows))
    if args.csv:
        write_csv(rows, args.csv)
    return rows
