"""Maintainer tool: time conv1dt's kernels against each other on given shapes, forced through the
private entry points, each result checked against the first kernel's.

With one thread (the default) times are the calling thread's CPU time, which other busy processes
on the machine disturb far less than wall-clock time; with ``python tools/compare_kernels.py 2``
wall-clock time. Reads lines ``(op, (N, W, C1, C2, K, s, d, PAD)[, "f32"|"f64"[, [kernels]]])``
from standard input, op ``"transpose"``, ``"conv1d"`` or ``"backprop"`` (W, C1 the op's input
width and channels), e.g.::

    echo '("conv1d", (1, 64000, 1, 514, 512, 128, 1, "SAME"))' | python tools/compare_kernels.py

The block sizes of the GEMM kernels here are simple stand-ins for the planner's.
"""
import sys, time, statistics, os
RT = int(os.environ.get("RT", 256))   # output rows per overlap-add block, times s
import numpy as np
import conv1dt
from conv1dt import _dispatch, _geometry
from conv1dt._compiled import _gemm
from conv1dt._runtime.blas_threads import single_threaded_blas
conv1dt.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
clock = time.thread_time if conv1dt.get_num_threads() == 1 else time.perf_counter

def t(fn, reps=None):
    fn()
    ts = []
    tot = 0
    while len(ts) < 3 or (tot < 0.3 and len(ts) < 50):
        a = clock(); fn(); b = clock(); ts.append(b - a); tot += b - a
    return statistics.median(ts)

def run(op, shape, dtype=np.float32, kernels=None):
    N, W, C1, C2, K, s, d, pad = shape
    rng = np.random.default_rng(0)
    thr = conv1dt.get_num_threads()
    if op == "transpose":
        x = rng.standard_normal((N, W, C1)).astype(dtype); f = rng.standard_normal((K, C2, C1)).astype(dtype)
        L = W * s if pad == "SAME" else (W - 1) * s + (K - 1) * d + 1
        g = _geometry.transpose_geometry(x.shape, f.shape, (N, L, C2), s, d, pad, "NWC")
        flops = 2 * N * W * K * C1 * C2
        def mk(k):
            if k == "ola":
                w, tb = _plan_ola(g)
                def fn():
                    y = np.empty((N, L, C2), dtype)
                    with single_threaded_blas():
                        _gemm.transpose_ola(x, f, y, False, s, d, g.pad_before, w, tb, thr)
                    return y
                return fn
            return lambda: _dispatch.conv1d_transpose(x, f, g, "NWC", kernel=k)
        ks = kernels or ["direct", "col2im", "tiled", "phase", "blas", "ola"]
    elif op == "conv1d":
        x = rng.standard_normal((N, W, C1)).astype(dtype); f = rng.standard_normal((K, C1, C2)).astype(dtype)
        g = _geometry.conv1d_geometry(x.shape, f.shape, s, d, pad, "NWC")
        flops = 2 * N * g.narrow * K * C1 * C2
        def mk(k):
            if k == "im2col":
                rows, tb = _plan_im2col(g, dtype)
                def fn():
                    z = np.empty((N, g.narrow, C2), dtype)
                    with single_threaded_blas():
                        _gemm.conv1d_im2col(x, f, z, False, s, d, g.pad_before, 1, rows, tb, thr)
                    return z
                return fn
            return lambda: _dispatch.conv1d(x, f, g, "NWC", kernel=k)
        ks = kernels or ["direct", "blas", "im2col"]
    else:
        x = rng.standard_normal((N, W, C1)).astype(dtype)
        g = _geometry.conv1d_geometry(x.shape, (K, C1, C2), s, d, pad, "NWC")
        dy = rng.standard_normal((N, g.narrow, C2)).astype(dtype)
        flops = 2 * N * g.narrow * K * C1 * C2
        def mk(k):
            if k == "im2col":
                rows, tb = _plan_im2col(g, dtype)
                ch = 4
                def fn():
                    part = np.empty((ch, K, C1, C2), dtype)
                    with single_threaded_blas():
                        _gemm.backprop_filter_im2col(x, dy, part, False, s, d, g.pad_before, 1, rows, tb, thr)
                    return np.add.reduce(part, axis=0)
                return fn
            return lambda: _dispatch.conv1d_backprop_filter(x, dy, g, "NWC", kernel=k)
        ks = kernels or ["direct", "blas", "im2col"]
    res = {}
    ref = None
    for k in ks:
        try:
            fn = mk(k)
            out = fn()
            if ref is None: ref = out
            else:
                err = np.max(np.abs(out - ref)) / max(1e-30, np.max(np.abs(ref)))
                assert err < 1e-3, (k, err)
            res[k] = t(fn)
        except Exception as e:
            res[k] = repr(e)[:40]
    print(op, shape, np.dtype(dtype).name, " ".join(
        f"{k}={v*1e3:.2f}ms({flops/v/1e9:.0f}GF)" if isinstance(v, float) else f"{k}={v}" for k, v in res.items()), flush=True)

def _plan_im2col(g, dtype):
    isz = np.dtype(dtype).itemsize
    cwg = g.wide_channels // g.groups
    taps = max(1, min(g.taps, 4096 // max(cwg, 1)))
    rows = max(8, min(512, (1 << 18) // (isz * taps * cwg)))
    return rows, taps

def _plan_ola(g):
    d, s, co = g.dilation, g.stride, g.wide_channels
    tb = g.taps
    while True:
        w = max(3 * (tb - 1) * d, RT * s, 64)
        rows = (w - 1 + (tb - 1) * d) // s + 2
        if rows * tb * co <= (1 << 18) or tb == 1:
            break
        tb = (tb + 1) // 2
    return w, tb

if __name__ == "__main__":
    import ast
    for line in sys.stdin:
        if line.strip() and not line.startswith("#"):
            op, shape, *rest = ast.literal_eval(line)
            dt = np.float64 if rest and rest[0] == "f64" else np.float32
            run(op, shape, dt, rest[1] if len(rest) > 1 else None)
