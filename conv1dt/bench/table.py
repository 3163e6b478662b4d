"""The peer table: conv1dt side by side with TensorFlow, PyTorch, JAX and NumPy, one case at a time.

conv1dt, the NumPy baseline and the GEMM bound run in this process; every framework in a process
of its own (frameworks that share a process can break each other, as TensorFlow's and PyTorch's
oneDNN builds do, and none should slow another down), started with the interpreter
``python`` (default: this one) as ``python conv1dt/bench/libs.py``, so the frameworks may live in
another environment, without conv1dt. Each library is timed in ``rounds`` turns, in turn with the
others, and its figure is the median of all its calls; every result is checked against conv1dt's
on a fixed sample.
"""
import math
import pickle
import statistics
import subprocess
import sys
import time

from . import libs
from .shapes import flops, job, label, op_terms, padding_text

PEERS = ("tf", "torch", "jax", "numpy")
FRAMEWORKS = ("tf", "torch", "jax")


def conv1dt_runner(job):
    """``(call, to_numpy)`` computing ``job`` with conv1dt."""
    import numpy as np

    import conv1dt

    a, b = libs.operands(job)
    pad = job["padding"]
    pad = pad if isinstance(pad, str) else [[0, 0], list(pad), [0, 0]]
    s, d, G = job["s"], job["d"], job["groups"]
    if job["op"] == "conv1d_transpose":
        out = [job["n"], job["wide"], job["cw"]]
        return (lambda: conv1dt.conv1d_transpose(a, b, out, s, pad, dilations=d, groups=G)), np.asarray
    if job["op"] == "conv1d":
        return (lambda: conv1dt.conv1d(a, b, s, pad, dilations=d, groups=G)), np.asarray
    shape = [job["k"], job["cw"] // G, job["cn"]]
    return (lambda: conv1dt.conv1d_backprop_filter(a, shape, b, s, pad, dilations=d, groups=G)), np.asarray


def local_runner(name, job):
    return conv1dt_runner(job) if name == "conv1dt" else libs.make_runner(name, job)


def measure(name, job, min_time, min_repeat, runners):
    """A library of this process timed on ``job`` (:func:`conv1dt.bench.libs.measure`)."""
    return libs.measure(name, job, min_time, min_repeat, runners, make=local_runner)


def kernel_of(c, dtype):
    """The kernel conv1dt runs for case ``c`` in ``dtype``, as its planner decides it; ``'?'``
    when the planner's interface is not one this function knows. This is the one place that
    reads conv1dt's internals."""
    try:
        import numpy as np

        from conv1dt import _plan

        from .shapes import geometry

        op = {"conv1d_transpose": "transpose", "conv1d": "conv1d",
              "conv1d_backprop_filter": "backprop_filter"}[c.op]
        g = geometry(c)
        kernel = _plan.choose(op, g, np.dtype(dtype).itemsize)
        return f"{kernel} (groups)" if op == "transpose" and g.groups > 1 else kernel
    except Exception:
        return "?"


class Worker:
    """A framework in a process of its own, fed jobs over a pipe."""

    def __init__(self, name, threads, min_time, min_repeat, python=None):
        self.name = name
        self.proc = subprocess.Popen(
            [python or sys.executable, libs.__file__, name, str(threads), str(min_time), str(min_repeat)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=libs.thread_env(threads))
        try:
            self.available, self.version = pickle.load(self.proc.stdout)
        except Exception:                 # the process ended, or wrote what is not a reply
            self.available, self.version = False, None

    def measure(self, job):
        try:
            pickle.dump(job, self.proc.stdin)
            self.proc.stdin.flush()
            got, res = pickle.load(self.proc.stdout)
        except Exception:
            return None, f"{self.name}'s process ended (exit code {self.proc.poll()})"
        return got, libs.decode(res)

    def close(self):
        try:
            pickle.dump(None, self.proc.stdin)
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_workers(peers, threads, min_time, min_repeat, python=None, progress=None):
    """The frameworks of ``peers`` that can be imported by ``python``, each in its process."""
    workers = {}
    for name in FRAMEWORKS:
        if name in peers:
            w = Worker(name, threads, min_time, min_repeat, python)
            if w.available:
                workers[name] = w
            else:
                w.close()
                if progress:
                    progress(f"{name}: not importable by {python or sys.executable}, left out")
    return workers


def run(cases, dtypes, peers, threads, min_time, progress, settle=0.5, rounds=3, python=None,
        workers=None):
    """Time every case in every dtype: conv1dt, NumPy and the GEMM bound here, each framework in
    its own process, one case at a time so that all figures of a row are taken side by side.
    Each library is timed in ``rounds`` turns, in turn with the others (conv1dt, NumPy, GEMM, TF,
    PyTorch, JAX, conv1dt, ...), and its figure is the median of all its calls: a burst of load
    on the machine then falls on every library alike, rather than on whichever was being timed.
    A library whose call took more than ``libs.SLOW_CALL`` seconds is timed on that one call and
    left out of the row's later rounds (its figure is that call; listed in ``row["slow"]``)."""
    import numpy as np

    min_repeat = -(-5 // rounds)          # at least 5 calls in all
    own = workers is None
    if own:
        workers = start_workers(peers, threads, min_time, min_repeat, python, progress)
    local = ["conv1dt"] + (["numpy", "gemm"] if "numpy" in peers else [])
    runners = {}
    rows = []
    total = len(cases) * len(dtypes)
    try:
        for dtype in dtypes:
            for c in cases:
                progress(f"[{len(rows) + 1}/{total}] {c.op} {dtype} {threads} thread(s): {label(c)}")
                j = job(c, dtype, threads)
                *ints, pad, groups = op_terms(c)
                row = {"op": c.op, "shape": [*ints, padding_text(pad), groups], "source": c.source,
                       "dtype": dtype, "threads": threads, "gflop": flops(c) / 1e9, "ms": {},
                       "error": {}, "skipped": {}, "rounds": rounds, "kernel": kernel_of(c, dtype)}
                results, times, row["slow"] = {}, {}, []
                for _ in range(rounds):
                    for name in local + list(workers):
                        if name in row["skipped"] or name in row["slow"]:
                            continue
                        # Before each timing, let the previous library's threads go idle: OpenMP
                        # and Eigen pools spin for up to a few hundred ms after work.
                        time.sleep(settle)
                        if name in workers:
                            got, res = workers[name].measure(j)
                        else:
                            got, res = measure(name, j, min_time, min_repeat, runners)
                        if got is None:   # refused, or failed in a later round: no figure
                            row["skipped"][name] = res
                            times.pop(name, None)
                            results.pop(name, None)
                        else:
                            times.setdefault(name, []).extend(got)
                            results[name] = res
                            if max(got) > libs.SLOW_CALL:
                                row["slow"].append(name)
                runners.clear()
                for name, ts in times.items():
                    row["ms"][name] = 1e3 * statistics.median(ts)
                ours = results.get("conv1dt")
                if ours is not None:
                    scale = float(np.max(np.abs(ours))) if ours.size else 1.0
                    for name, res in results.items():
                        if name != "conv1dt" and res is not None and ours.size:
                            row["error"][name] = (float(np.max(np.abs(res - ours))) / (scale or 1.0)
                                                  if res.shape == ours.shape else float("inf"))
                # a peer whose result differs is not compared with (it computed something else)
                peer_ms = {kk: v for kk, v in row["ms"].items()
                           if kk in PEERS and row["error"].get(kk, 0.0) <= tolerance(dtype)}
                row["best_peer"] = min(peer_ms, key=peer_ms.get) if peer_ms and "conv1dt" in row["ms"] else None
                row["speedup"] = (peer_ms[row["best_peer"]] / row["ms"]["conv1dt"]
                                  if row["best_peer"] else None)
                rows.append(row)
    finally:
        if own:
            for w in workers.values():
                w.close()
    return rows


def tolerance(dtype):
    """Largest difference from conv1dt's result, relative to its largest magnitude, that still
    counts as the same computation (sums of up to ~10^6 products in float32)."""
    return 1e-3 if dtype == "float32" else 1e-9


def gmean(values):
    values = list(values)
    return math.exp(sum(map(math.log, values)) / len(values)) if values else float("nan")


def _names(rows):
    return ["conv1dt"] + [p for p in PEERS if any(p in r["ms"] for r in rows)]


def format_table(rows):
    """Markdown tables, one per op and thread count, and a summary line for each."""
    lines = []
    groups = {}
    for r in rows:
        groups.setdefault((r.get("op", "conv1d_transpose"), r["threads"]), []).append(r)
    for (op, threads), part in groups.items():
        names = _names(part)
        has_gemm = any("gemm" in r["ms"] for r in part)
        head = ["dtype", "N, W, Cin, Cout, K, s, d, pad, G"] + [f"{p} ms" for p in names] + \
               (["GEMM ms"] if has_gemm else []) + ["conv1dt GFLOP/s", "vs best peer", "kernel"]
        lines += [f"\n{op}, {threads} thread(s)\n", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in part:
            cells = [r["dtype"], ", ".join(map(str, r["shape"]))]
            cells += [f"{r['ms'][p]:.3g}" if p in r["ms"] else "-" for p in names]
            if has_gemm:
                cells.append(f"{r['ms']['gemm']:.3g}" if "gemm" in r["ms"] else "-")
            ms = r["ms"].get("conv1dt")
            cells.append(f"{r['gflop'] / ms * 1e3:.1f}" if ms else "-")
            cells.append(f"{r['speedup']:.2f}x ({r['best_peer']})" if r["speedup"] else "-")
            cells.append(r.get("kernel", "?"))
            lines.append("| " + " | ".join(cells) + " |")
        for dtype in sorted({r["dtype"] for r in part}):
            speedups = [r["speedup"] for r in part if r["speedup"] and r["dtype"] == dtype]
            if speedups:
                lines.append(f"{op} {dtype} {threads} thread(s): geometric mean speed-up over the "
                             f"fastest peer {gmean(speedups):.2f}x (min {min(speedups):.2f}x, "
                             f"{sum(v < 0.95 for v in speedups)} below 0.95x) over {len(speedups)} rows")
    speedups = [r["speedup"] for r in rows if r["speedup"]]
    if speedups:
        lines.append(f"\ngeometric mean speed-up over the fastest peer: {gmean(speedups):.2f}x "
                     f"(min {min(speedups):.2f}x) over {len(speedups)} rows")
    for r in rows:
        for name, e in r["error"].items():
            if e > tolerance(r["dtype"]):
                lines.append(f"WARNING: {name} differs from conv1dt by {e:.2e} (relative to max |y|) on "
                             f"{r.get('op', '')} {r['dtype']} {r['shape']}: not compared with")
        for name in r.get("slow", ()):
            lines.append(f"note: {name} took {r['ms'][name] / 1e3:.3g} s a call on {r.get('op', '')} "
                         f"{r['dtype']} {r['shape']}: timed once (over {libs.SLOW_CALL:g} s)")
        if "conv1dt" in r["skipped"]:
            lines.append(f"WARNING: conv1dt failed on {r.get('op', '')} {r['dtype']} {r['shape']}: "
                         f"{r['skipped']['conv1dt']}")
    return "\n".join(lines)


def write_csv(rows, path):
    """The table as CSV (what the docs' benchmarks page shows with ``csv-table``)."""
    import csv

    names = _names(rows)
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["op", "dtype", "threads", "N, W, Cin, Cout, K, s, d, pad, G"]
                     + [f"{p} ms" for p in names]
                     + ["GEMM ms", "conv1dt GFLOP/s", "vs best peer", "kernel", "source"])
        for r in rows:
            ms = r["ms"].get("conv1dt")
            out.writerow([r.get("op", "conv1d_transpose"), r["dtype"], r["threads"],
                          ", ".join(map(str, r["shape"]))]
                         + [f"{r['ms'][p]:.3g}" if p in r["ms"] else "-" for p in names]
                         + [f"{r['ms']['gemm']:.3g}" if "gemm" in r["ms"] else "-",
                            f"{r['gflop'] / ms * 1e3:.1f}" if ms else "-",
                            f"{r['speedup']:.2f}x ({r['best_peer']})" if r["speedup"] else "-",
                            r.get("kernel", "?"), r.get("source", "")])


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r.get('op', '')[:6]} {r['dtype'][5:]}:{','.join(map(str, r['shape'][:7]))}" for r in rows]
    names = _names(rows)
    fig, ax = plt.subplots(figsize=(max(8, len(rows) * 0.9), 5))
    width = 0.8 / len(names)
    for j, name in enumerate(names):
        vals = [r["gflop"] / r["ms"][name] * 1e3 if name in r["ms"] else 0 for r in rows]
        ax.bar([i + j * width for i in range(len(rows))], vals, width, label=name)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))], labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("GFLOP/s")
    ax.set_yscale("log")
    ax.set_title(f"{rows[0]['threads']} thread(s)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def own_threads(threads, pin):
    """This process's libraries on ``threads`` threads (conv1dt, and the BLAS of the NumPy
    baseline through threadpoolctl when it is installed); with ``pin``, the process on that many
    cores, as the workers are (only before any thread pool has started)."""
    import conv1dt

    if pin:
        libs.pin(threads)
    conv1dt.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:
        if not _warned:
            _warned.append(True)
            print("warning: threadpoolctl is not installed (pip install threadpoolctl, or "
                  "conv1dt[bench]); the NumPy baseline and the GEMM bound use BLAS's default "
                  "thread count", file=sys.stderr)


_warned = []
