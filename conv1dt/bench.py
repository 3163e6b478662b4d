"""``python -m conv1dt.bench``: conv1dt against its peers, side by side in one run.

For every shape of the suite (and any given with ``--shape``), times conv1dt, the NumPy
"one matmul per tap" baseline, one BLAS GEMM of the same FLOPs (the im2col product
``[N*W, Cin] @ [Cin, K*Cout]``, a speed bound for large channel counts), and every peer that
happens to be importable: TensorFlow, PyTorch and JAX (none is a dependency). Each peer's result is
checked against conv1dt's before it is timed. Prints a table of median milliseconds, conv1dt's
GFLOP/s and its speed-up over the fastest peer; ``--json`` and ``--plot`` save the figures.
Each library is timed in several rounds, in turn with the others (``--rounds``, default 3), and
its figure is the median of all its calls, so that the shared machine's bursts of load fall on
every library alike.

The thread count (``--threads``, default all cores) is set for every library at start-up, before
any of them is imported, so one run measures one thread count.

Examples
--------
python -m conv1dt.bench --threads 2 --dtype float32 float64
python -m conv1dt.bench --shape 1,16,1,1,3,2,1,SAME --peers numpy torch
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

# (N, W, Cin, Cout, K, stride, dilation, padding)
SUITE = [
    (4, 256, 512, 256, 16, 8, 1, "SAME"),
    (4, 4096, 128, 64, 4, 2, 1, "SAME"),
    (1, 262144, 1, 1, 64, 4, 1, "SAME"),
    (8, 65536, 4, 4, 8, 2, 1, "SAME"),
    (16, 1024, 256, 256, 3, 1, 1, "SAME"),
    (8, 4096, 64, 64, 3, 1, 4, "SAME"),
    (32, 128, 256, 128, 8, 4, 1, "VALID"),
    (64, 512, 32, 32, 5, 2, 1, "SAME"),
    (1, 16, 1, 1, 3, 2, 1, "SAME"),
]
# Shapes beyond the table: overlap-add synthesis (huge filter, huge stride, many channels to one),
# one channel to many, a very long signal.
EXTRA = [
    (1, 2048, 513, 1, 1024, 256, 1, "SAME"),
    (4, 8192, 1, 64, 9, 2, 1, "SAME"),
    (1, 4194304, 1, 1, 4, 2, 1, "SAME"),
]
PEERS = ("tf", "torch", "jax", "numpy")


def parse_shape(text):
    parts = text.split(",")
    if len(parts) != 8:
        raise argparse.ArgumentTypeError("a shape is N,W,Cin,Cout,K,stride,dilation,PADDING")
    *ints, padding = parts
    return (*map(int, ints), padding.upper())


def set_thread_env(n):
    """Thread counts for every library, before any of them is imported; and, with fewer threads
    than cores, this process and the peers' (which inherit it) pinned to ``n`` cores, because not
    every library honours its thread settings (JAX 0.10's XLA runtime does not)."""
    if hasattr(os, "sched_setaffinity") and n < len(os.sched_getaffinity(0)):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:n])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(n)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    flags = os.environ.get("XLA_FLAGS", "")
    if n == 1:
        flags += " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ["XLA_FLAGS"] = flags.strip()


def geometry(shape):
    from conv1dt._padding import pad_before, transposed_width_range

    n, m, cin, cout, k, s, d, padding = shape
    wide = transposed_width_range(m, k, s, d, padding)[1] if padding == "VALID" else m * s
    return wide, pad_before(wide, m, k, s, d, padding)


def flops(shape):
    n, m, cin, cout, k = shape[:5]
    return 2.0 * n * m * cin * cout * k


def operands(shape, dtype):
    """The same random operands in every process (a fixed seed)."""
    import numpy as np

    n, m, cin, cout, k = shape[:5]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, m, cin)).astype(dtype)
    f = rng.standard_normal((k, cout, cin)).astype(dtype)
    return x, f


def make_runner(name, shape, dtype, threads):
    """``(callable, to_numpy)`` timing ``name`` on ``shape``; ``(None, reason)`` when it cannot run."""
    import numpy as np

    n, m, cin, cout, k, s, d, padding = shape
    wide, pb = geometry(shape)
    keff = (k - 1) * d + 1
    x, f = operands(shape, dtype)
    out = [n, wide, cout]
    if name == "conv1dt":
        import conv1dt

        return (lambda: conv1dt.conv1d_transpose(x, f, out, s, padding, dilations=d)), np.asarray
    if name == "numpy":
        # the full result, and room for the zeros VALID may ask for past its last contribution
        full_len = max((m - 1) * s + keff, pb + wide)

        def numpy_per_tap():
            y = np.zeros((n, full_len, cout), dtype)
            for kk in range(k):
                y[:, kk * d: kk * d + (m - 1) * s + 1: s] += x @ f[kk].T
            return y[:, pb:pb + wide]

        return numpy_per_tap, np.asarray
    if name == "gemm":
        a = x.reshape(n * m, cin)
        b = np.ones((cin, k * cout), dtype)
        c = np.empty((n * m, k * cout), dtype)
        return (lambda: np.matmul(a, b, out=c)), None
    try:
        if name == "tf":
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
            xt, ft = tf.constant(x), tf.constant(f)
            call = lambda: tf.nn.conv1d_transpose(xt, ft, out, s, padding, dilations=d)
            call()  # TF refuses some float64 cases on CPU; such a case is left out
            return call, lambda r: r.numpy()
        if name == "torch":
            import torch
            import torch.nn.functional as F

            torch.set_num_threads(threads)
            xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))
            wt = torch.from_numpy(np.ascontiguousarray(f.transpose(2, 1, 0)))  # [Cin, Cout, K]
            # torch crops `padding` from both ends and appends `output_padding` (< max(s, d)).
            op = wide - ((m - 1) * s - 2 * pb + keff)

            def call():
                with torch.inference_mode():
                    if 0 <= op < max(s, d):
                        return F.conv_transpose1d(xt, wt, stride=s, padding=pb, output_padding=op, dilation=d)
                    return F.conv_transpose1d(xt, wt, stride=s, dilation=d)[:, :, pb:pb + wide]

            return call, lambda r: r.numpy().transpose(0, 2, 1)
        if name == "jax":
            import jax

            jax.config.update("jax_enable_x64", dtype == "float64")
            import jax.numpy as jnp

            # zero insertion (lhs_dilation=s), pad, correlate with the flipped dilated filter
            lo, hi = keff - 1 - pb, wide + pb - (m - 1) * s - 1
            xj = jnp.asarray(x)
            wj = jnp.asarray(np.ascontiguousarray(f[::-1].transpose(0, 2, 1)))  # [K, Cin, Cout]
            fn = jax.jit(lambda a, w: jax.lax.conv_general_dilated(
                a, w, window_strides=(1,), padding=[(lo, hi)], lhs_dilation=(s,), rhs_dilation=(d,),
                dimension_numbers=("NWC", "WIO", "NWC")))
            return (lambda: fn(xj, wj).block_until_ready()), np.asarray
    except Exception as exc:  # ImportError, or the peer's own refusal of the case
        return None, f"{type(exc).__name__}: {str(exc)[:60]}"
    raise ValueError(name)


def sample(y):
    """A fixed sample of a result, enough to check agreement without shipping the whole array."""
    import numpy as np

    flat = np.asarray(y, dtype=np.float64).ravel()
    if flat.size <= 200_000:
        return flat
    return flat[np.random.default_rng(1).integers(0, flat.size, 200_000)]


def measure(name, shape, dtype, threads, min_time, min_repeat, runners):
    """``(times in seconds, result sample)``, or ``(None, reason)``. ``runners`` keeps each
    process's runners between the rounds of a shape (no second set-up, no second JIT)."""
    key = (name, tuple(shape), dtype)
    if key not in runners:
        for old in [k for k in runners if k[1:] != key[1:]]:
            del runners[old]              # one shape at a time: free the previous operands
        fn, conv = make_runner(name, shape, dtype, threads)
        if fn is None:
            return None, conv
        runners[key] = (fn, conv, sample(conv(fn())) if conv is not None else None)
    fn, conv, result = runners[key]
    return repeat_times(fn, min_time, min_repeat), result


def _worker(conn, name, threads, min_time, min_repeat):
    """A peer in a process of its own: frameworks that share a process can break each other
    (TensorFlow's and PyTorch's oneDNN builds do), and none should slow another down."""
    runners = {}
    while True:
        job = conn.recv()
        if job is None:
            return
        shape, dtype = job
        try:
            conn.send(measure(name, shape, dtype, threads, min_time, min_repeat, runners))
        except Exception as exc:
            conn.send((None, f"{type(exc).__name__}: {str(exc)[:60]}"))


def repeat_times(fn, min_time, min_repeat, max_repeat=200):
    """The times of repeated calls of ``fn`` after a warm-up call (first-call set-up, JIT): at
    least ``min_repeat`` of them, and more up to ``min_time`` seconds."""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_repeat or (time.perf_counter() - start < min_time and len(times) < max_repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def run(shapes, dtypes, peers, threads, min_time, progress, settle=0.5, rounds=3):
    """Time every shape: conv1dt, NumPy and the GEMM bound here, each framework in its own process,
    one shape at a time so that all figures of a row are taken side by side. Each library is
    timed in ``rounds`` turns, in turn with the others (conv1dt, NumPy, GEMM, TF, PyTorch, JAX,
    conv1dt, ...), and its figure is the median of all its calls: a burst of load on the
    machine then falls on every library alike, rather than on whichever was being timed."""
    import importlib.util
    import multiprocessing as mp

    import numpy as np

    min_repeat = -(-5 // rounds)          # at least 5 calls in all
    ctx = mp.get_context("spawn")
    workers = {}
    for name in ("tf", "torch", "jax"):
        module = {"tf": "tensorflow"}.get(name, name)
        if name in peers and importlib.util.find_spec(module) is not None:
            here, there = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(there, name, threads, min_time, min_repeat),
                               daemon=True)
            proc.start()
            workers[name] = (proc, here)
    local = ["conv1dt"] + (["numpy", "gemm"] if "numpy" in peers else [])
    runners = {}
    rows = []
    total = len(shapes) * len(dtypes)
    try:
        for dtype in dtypes:
            for shape in shapes:
                progress(f"[{len(rows) + 1}/{total}] {dtype} {shape}")
                row = {"shape": list(shape), "dtype": dtype, "threads": threads, "gflop": flops(shape) / 1e9,
                       "ms": {}, "error": {}, "skipped": {}, "rounds": rounds}
                results, times = {}, {}
                for _ in range(rounds):
                    for name in local + list(workers):
                        if name in row["skipped"]:
                            continue
                        # Before each timing, let the previous library's threads go idle: OpenMP
                        # and Eigen pools spin for up to a few hundred ms after work.
                        time.sleep(settle)
                        if name in workers:
                            workers[name][1].send((shape, dtype))
                            got, res = workers[name][1].recv()
                        else:
                            got, res = measure(name, shape, dtype, threads, min_time, min_repeat,
                                               runners)
                        if got is None:   # refused, or failed in a later round: no figure
                            row["skipped"][name] = res
                            times.pop(name, None)
                            results.pop(name, None)
                        else:
                            times.setdefault(name, []).extend(got)
                            results[name] = res
                for name, ts in times.items():
                    row["ms"][name] = 1e3 * statistics.median(ts)
                ours = results["conv1dt"]
                scale = float(np.max(np.abs(ours))) if ours.size else 1.0
                for name, res in results.items():
                    if name != "conv1dt" and res is not None and ours.size:
                        row["error"][name] = (float(np.max(np.abs(res - ours))) / (scale or 1.0)
                                              if res.shape == ours.shape else float("inf"))
                peer_ms = {kk: v for kk, v in row["ms"].items() if kk in PEERS}
                row["best_peer"] = min(peer_ms, key=peer_ms.get) if peer_ms else None
                row["speedup"] = peer_ms[row["best_peer"]] / row["ms"]["conv1dt"] if peer_ms else None
                rows.append(row)
    finally:
        for proc, conn in workers.values():
            conn.send(None)
            proc.join(timeout=30)
    return rows


def format_table(rows):
    names = ["conv1dt"] + [p for p in PEERS if any(p in r["ms"] for r in rows)]
    has_gemm = any("gemm" in r["ms"] for r in rows)
    head = ["dtype", "N, W, Cin, Cout, K, s, d, pad"] + [f"{p} ms" for p in names] + \
           (["GEMM ms"] if has_gemm else []) + ["conv1dt GFLOP/s", "vs best peer"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["dtype"], ", ".join(map(str, r["shape"]))]
        for p in names:
            cells.append(f"{r['ms'][p]:.3g}" if p in r["ms"] else "-")
        if has_gemm:
            cells.append(f"{r['ms']['gemm']:.3g}" if "gemm" in r["ms"] else "-")
        cells.append(f"{r['gflop'] / r['ms']['conv1dt'] * 1e3:.1f}")
        cells.append(f"{r['speedup']:.2f}x ({r['best_peer']})" if r["speedup"] else "-")
        lines.append("| " + " | ".join(cells) + " |")
    speedups = [r["speedup"] for r in rows if r["speedup"]]
    if speedups:
        gmean = math.exp(sum(map(math.log, speedups)) / len(speedups))
        lines.append(f"\ngeometric mean speed-up over the fastest peer: {gmean:.2f}x "
                     f"(min {min(speedups):.2f}x) over {len(speedups)} rows")
    bad = [(r["dtype"], r["shape"], kk, e) for r in rows for kk, e in r["error"].items() if e > 1e-3]
    for dtype, shape, kk, e in bad:
        lines.append(f"WARNING: {kk} differs from conv1dt by {e:.2e} (relative to max |y|) on {dtype} {shape}")
    return "\n".join(lines)


def write_csv(rows, path):
    """The table as CSV (what the docs' benchmarks page shows with ``csv-table``)."""
    import csv

    names = ["conv1dt"] + [p for p in PEERS if any(p in r["ms"] for r in rows)]
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["dtype", "threads", "N, W, Cin, Cout, K, s, d, pad"] + [f"{p} ms" for p in names]
                     + ["GEMM ms", "conv1dt GFLOP/s", "vs best peer"])
        for r in rows:
            out.writerow([r["dtype"], r["threads"], ", ".join(map(str, r["shape"]))]
                         + [f"{r['ms'][p]:.3g}" if p in r["ms"] else "-" for p in names]
                         + [f"{r['ms']['gemm']:.3g}" if "gemm" in r["ms"] else "-",
                            f"{r['gflop'] / r['ms']['conv1dt'] * 1e3:.1f}",
                            f"{r['speedup']:.2f}x ({r['best_peer']})" if r["speedup"] else "-"])


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['dtype'][5:]}:{','.join(map(str, r['shape'][:7]))}" for r in rows]
    names = ["conv1dt"] + [p for p in PEERS if any(p in r["ms"] for r in rows)]
    fig, ax = plt.subplots(figsize=(max(8, len(rows) * 0.9), 5))
    width = 0.8 / len(names)
    for j, name in enumerate(names):
        vals = [r["gflop"] / r["ms"][name] * 1e3 if name in r["ms"] else 0 for r in rows]
        ax.bar([i + j * width for i in range(len(rows))], vals, width, label=name)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))], labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("GFLOP/s")
    ax.set_yscale("log")
    ax.set_title(f"conv1d_transpose, {rows[0]['threads']} thread(s)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m conv1dt.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", type=parse_shape, action="append", default=[],
                        help="extra shape N,W,Cin,Cout,K,stride,dilation,PADDING (repeatable)")
    parser.add_argument("--only", action="store_true", help="run only the --shape shapes")
    parser.add_argument("--extra", action="store_true", help="add the extra shapes (OLA synthesis, 1->many, long)")
    parser.add_argument("--dtype", nargs="+", default=["float32"], choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--peers", nargs="*", default=list(PEERS), choices=PEERS)
    parser.add_argument("--min-time", type=float, default=0.3,
                        help="seconds of repeats per timing (per round)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="turns per library and shape, taken in turn with the other libraries; "
                             "the figure is the median of all the calls")
    parser.add_argument("--settle", type=float, default=0.5,
                        help="seconds of idle before each timing, so no library's spinning threads "
                             "are still busy on the cores")
    parser.add_argument("--json", help="write the rows as JSON to this file")
    parser.add_argument("--csv", help="write the table as CSV to this file")
    parser.add_argument("--plot", help="write a bar chart (needs matplotlib) to this PNG file")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    set_thread_env(args.threads)
    import conv1dt

    # NumPy is already imported here (by conv1dt), so the environment variables came too late
    # for the BLAS of this process (the NumPy baseline, the GEMM bound): limit it directly.
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:
        print("warning: threadpoolctl is not installed; the NumPy baseline and the GEMM bound use "
              "BLAS's default thread count", file=sys.stderr)

    conv1dt.set_num_threads(args.threads)
    shapes = list(args.shape) if args.only else SUITE + (EXTRA if args.extra else []) + list(args.shape)
    rows = run(shapes, args.dtype, set(args.peers), args.threads, args.min_time,
               lambda msg: print(msg, file=sys.stderr, flush=True), args.settle, args.rounds)
    print(f"conv1dt {conv1dt.__version__}, {args.threads} thread(s), median ms; "
          f"GEMM = one BLAS GEMM of equal FLOPs (a bound, not a peer)")
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    if args.csv:
        write_csv(rows, args.csv)
    if args.plot:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
