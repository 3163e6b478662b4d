"""The command line of ``python -m conv1dt.bench``.

Three runs, one command each:

* the peer table (default): conv1dt, the NumPy baseline, a GEMM bound, TensorFlow, PyTorch and
  JAX on the suite (``--models``: and the real-model shapes; ``--extra``; ``--shape``), for the
  ops of ``--op``, each dtype of ``--dtype`` and each thread count of ``--threads``; with
  ``--contend``, under one busy process;
* ``--sweep N --seed S``: N random geometries against the NumPy baseline and the roofline;
* ``--machine``: the machine's figures for the roofline (measured once, then cached).

Examples
--------
python -m conv1dt.bench --models --threads 1,2 --dtype float32 float64
python -m conv1dt.bench --op conv1d --only --shape 16,16000,1,514,512,128,1,VALID --peers numpy torch
python -m conv1dt.bench --sweep 300 --seed 1 --threads 1,2 --csv sweep.csv
python -m conv1dt.bench --models --contend --threads 2 --peers-python /path/to/peers/bin/python
"""
import argparse
import json
import os
import sys

from .libs import OPS
from .shapes import case, model_cases, parse_shape, suite_cases
from .table import PEERS


def parse_threads(text):
    try:
        counts = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--threads is a count or a list like 1,2, got {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"--threads must be positive, got {text!r}")
    return counts


def parser():
    p = argparse.ArgumentParser(prog="python -m conv1dt.bench",
                                description="conv1dt against its peers, on chosen and on random shapes.")
    p.add_argument("--op", nargs="+", default=list(OPS), choices=OPS + ("all",),
                   help="the ops to run (default all three)")
    p.add_argument("--shape", type=parse_shape, action="append", default=[],
                   help="extra shape N,W,Cin,Cout,K,stride,dilation,PADDING[,groups] in each op's own "
                        "terms (PADDING: SAME, VALID or lo:hi; repeatable)")
    p.add_argument("--only", action="store_true", help="run only the --shape shapes")
    p.add_argument("--models", action="store_true", help="add the real-model shapes")
    p.add_argument("--extra", action="store_true", help="add the extra shapes (OLA synthesis, 1->many, long)")
    p.add_argument("--dtype", nargs="+", default=["float32"], choices=["float32", "float64"])
    p.add_argument("--threads", type=parse_threads, default=[os.cpu_count()],
                   help="thread count, or counts like 1,2 (default all cores)")
    p.add_argument("--peers", nargs="*", default=list(PEERS), choices=PEERS)
    p.add_argument("--peers-python", metavar="PATH",
                   help="the Python interpreter that runs TensorFlow, PyTorch and JAX (an environment "
                        "of their own; conv1dt need not be installed there); default this one")
    p.add_argument("--min-time", type=float,
                   help="seconds of repeats per timing: per round in the table (default 0.3), per "
                        "library and thread count in the sweep (default 0.05)")
    p.add_argument("--rounds", type=int, default=3,
                   help="turns per library and shape, taken in turn with the other libraries; "
                        "the figure is the median of all the calls (in the sweep: rounds of "
                        "every thread count in turn, the median of the rounds)")
    p.add_argument("--settle", type=float, default=0.5,
                   help="seconds of idle before each timing, so no library's spinning threads "
                        "are still busy on the cores")
    p.add_argument("--contend", action="store_true",
                   help="time the peer table (or the sweep) with one busy process competing for the cores")
    p.add_argument("--contend-cpu", type=int, metavar="CPU",
                   help="pin the busy process of --contend to this core (default: unpinned)")
    p.add_argument("--sweep", type=int, metavar="N", help="time N random geometries instead of the table")
    p.add_argument("--seed", type=int, default=0, help="the sweep's random seed")
    p.add_argument("--max-mflop", type=float, default=500.0, help="the sweep's budget: MFLOP per call")
    p.add_argument("--max-mib", type=float, default=64.0, help="the sweep's budget: MiB of operands and result")
    p.add_argument("--machine", action="store_true",
                   help="print the machine's figures for the roofline (measured once, then cached)")
    p.add_argument("--refresh", action="store_true", help="with --machine: measure again")
    p.add_argument("--list", action="store_true",
                   help="list the cases the table would run (op, shape, MFLOP, kernel, source) and stop")
    p.add_argument("--json", help="write the rows as JSON to this file")
    p.add_argument("--csv", help="write the table as CSV to this file")
    p.add_argument("--plot", help="write a bar chart (needs matplotlib) to this PNG file")
    return p


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def cases_of(args):
    ops = list(OPS) if "all" in args.op else list(dict.fromkeys(args.op))
    cases = [] if args.only else suite_cases(ops, args.extra)
    if args.models and not args.only:
        cases += model_cases(ops)
    for shape in args.shape:
        for op in ops:
            cases.append(case(op, *shape))
    return cases


def list_cases(args):
    from .shapes import flops, label
    from .table import kernel_of

    for c in cases_of(args):
        print(f"{c.op:24} {label(c):46} {flops(c) / 1e6:9.1f} MFLOP  "
              f"{kernel_of(c, args.dtype[0]):28} {c.source}")


def machine(args):
    from conv1dt._runtime import machine as _machine

    figures = _machine.machine(refresh=args.refresh)
    print(f"machine figures ({_machine.cache_path()}):")
    for key in ("cpu", "cores", "when"):
        print(f"  {key}: {figures.get(key)}")
    print(f"  fma_f32: {figures['fma_f32'] / 1e9:.1f} GFLOP/s per core\n"
          f"  fma_f64: {figures['fma_f64'] / 1e9:.1f} GFLOP/s per core\n"
          f"  bandwidth: {figures['bandwidth'] / 1e9:.1f} GB/s (one core, read + write)")
    for key in ("l1", "l2", "l3"):
        print(f"  {key}: {figures[key] // 1024} KiB")
    return figures


def table(args):
    import conv1dt

    from .contend import busy
    from .table import format_table, own_threads, plot, run, start_workers, write_csv

    cases = cases_of(args)
    rows = []
    with busy(args.contend, args.contend_cpu):
        for threads in args.threads:
            # pinned only when one thread count is run: a pool started on fewer cores stays there
            own_threads(threads, pin=len(args.threads) == 1)
            min_repeat = -(-5 // args.rounds)
            workers = start_workers(set(args.peers), threads, args.min_time, min_repeat,
                                    args.peers_python, progress)
            try:
                versions = ", ".join(f"{w.name} {w.version}" for w in workers.values())
                print(f"conv1dt {conv1dt.__version__}, {threads} thread(s), median ms"
                      f"{', under one busy process' if args.contend else ''}; peers: {versions or 'none'}"
                      f"; GEMM = one BLAS GEMM of equal FLOPs (a bound, not a peer)", flush=True)
                part = run(cases, args.dtype, set(args.peers), threads, args.min_time, progress,
                           args.settle, args.rounds, workers=workers)
            finally:
                for w in workers.values():
                    w.close()
            for r in part:
                r["contend"] = bool(args.contend)
            print(format_table(part), flush=True)
            rows += part
    if len(args.threads) > 1:
        print(format_table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    if args.csv:
        write_csv(rows, args.csv)
    if args.plot:
        plot(rows, args.plot)
    return rows


def sweep(args):
    from . import sweep as sw
    from .contend import busy

    with busy(args.contend, args.contend_cpu):
        rows = sw.main(args, progress)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([{**r, "case": r["case"]._asdict()} for r in rows], fh, indent=1)
    return rows


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.sweep is not None and args.sweep < 1:
        p.error("--sweep must be at least 1")
    if args.peers_python and not os.access(args.peers_python, os.X_OK):
        p.error(f"--peers-python {args.peers_python} is not an executable")
    if args.min_time is None:
        args.min_time = 0.05 if args.sweep else 0.3
    if args.list:
        list_cases(args)
    elif args.machine:
        machine(args)
    elif args.sweep:
        sweep(args)
    else:
        table(args)
    return 0
