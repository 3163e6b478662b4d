"""Each library's way to compute the three ops, and the worker process that times one of them.

This file imports nothing from conv1dt (only the standard library, NumPy and the library it
runs), so that it can run as a script in an interpreter where conv1dt is not installed: the
peers may live in an environment of their own (``--peers-python``). A job is a plain dict of
the geometry in the terms of :class:`conv1dt.Geometry` (``n, wide, narrow, cw, cn, k, s, d,
pb, padding, groups``; ``cw``/``cn`` the wide/narrow signal's channels) plus ``op`` and
``dtype``. Every op's operands and result, with filters ``[K, Cw/G, Cn]`` for all three:

* ``conv1d_transpose``: ``x [N, M, Cn]``, ``f`` -> ``y [N, L, Cw]``;
* ``conv1d``: ``x [N, L, Cw]``, ``f`` -> ``y [N, M, Cn]``;
* ``conv1d_backprop_filter``: ``x [N, L, Cw]``, ``dy [N, M, Cn]`` -> ``df [K, Cw/G, Cn]``.
"""
import os
import pickle
import sys
import time

OPS = ("conv1d_transpose", "conv1d", "conv1d_backprop_filter")
FRAMEWORKS = {"tf": "tensorflow", "torch": "torch", "jax": "jax"}
SAMPLE = 200_000


def keff(job):
    return (job["k"] - 1) * job["d"] + 1


def operands(job):
    """The two operands of ``job`` (the same in every process: a fixed seed)."""
    import numpy as np

    rng = np.random.default_rng(0)
    n, L, M, cw, cn, k, g = (job[key] for key in ("n", "wide", "narrow", "cw", "cn", "k", "groups"))
    dt = job["dtype"]
    if job["op"] == "conv1d_transpose":
        return (rng.standard_normal((n, M, cn)).astype(dt),
                rng.standard_normal((k, cw // g, cn)).astype(dt))
    x = rng.standard_normal((n, L, cw)).astype(dt)
    if job["op"] == "conv1d":
        return x, rng.standard_normal((k, cw // g, cn)).astype(dt)
    return x, rng.standard_normal((n, M, cn)).astype(dt)


def sample(y):
    """A fixed sample of a result (float64), enough to check agreement without the whole array."""
    import numpy as np

    flat = np.asarray(y, dtype=np.float64).ravel()
    if flat.size <= SAMPLE:
        return flat
    return flat[np.random.default_rng(1).integers(0, flat.size, SAMPLE)]


# --- NumPy: one matmul per tap, as a user writes it by hand -----------------------------------

def _padded_length(job):
    """Samples of the zero-padded wide signal every window (or stamp) fits in."""
    return max(job["pb"] + job["wide"], (job["narrow"] - 1) * job["s"] + keff(job))


def numpy_op(job):
    """``f(a, b)``: the op of ``job`` in NumPy, one (batched over groups) matmul per tap.

    Tap ``k`` links narrow sample ``i`` with sample ``i*s + k*d`` of the wide signal padded by
    ``pb`` zeros in front, a strided slice; conv1d_transpose adds ``x @ f[k].T`` into that slice,
    conv1d adds the slice times ``f[k]``, the filter gradient of tap ``k`` is the slice's
    transpose times ``dy``. With groups, the matmul is batched over the groups."""
    import numpy as np

    n, L, M, cw, cn, K, s, d, pb, G = (job[key] for key in (
        "n", "wide", "narrow", "cw", "cn", "k", "s", "d", "pb", "groups"))
    cwg, cng = cw // G, cn // G
    full = _padded_length(job)
    span = (M - 1) * s + 1
    dt = job["dtype"]

    def transpose(x, f):
        y = np.zeros((n, full, cw), dt)
        xg = x.reshape(n, M, G, cng).transpose(2, 0, 1, 3) if G > 1 else x
        for k in range(K):
            dst = y[:, k * d:k * d + span:s]
            if G == 1:
                dst += x @ f[k].T
            else:   # [G, N, M, Cn/G] @ [G, 1, Cn/G, Cw/G]
                part = xg @ f[k].reshape(cwg, G, cng).transpose(1, 2, 0)[:, None]
                dst += part.transpose(1, 2, 0, 3).reshape(n, M, cw)
        return y[:, pb:pb + L]

    def padded(x):
        xp = np.zeros((n, full, cw), dt)
        xp[:, pb:pb + L] = x
        return xp

    def conv1d(x, f):
        xp = padded(x)
        y = np.zeros((n, M, cn), dt)
        for k in range(K):
            win = xp[:, k * d:k * d + span:s]
            if G == 1:
                y += win @ f[k]
            else:   # [G, N, M, Cw/G] @ [G, 1, Cw/G, Cn/G]
                part = win.reshape(n, M, G, cwg).transpose(2, 0, 1, 3) @ \
                    f[k].reshape(cwg, G, cng).transpose(1, 0, 2)[:, None]
                y += part.transpose(1, 2, 0, 3).reshape(n, M, cn)
        return y

    def backprop_filter(x, dy):
        xp = padded(x)
        df = np.empty((K, cwg, cn), dt)
        dyg = dy.reshape(n * M, G, cng).transpose(1, 0, 2) if G > 1 else dy.reshape(n * M, cn)
        for k in range(K):
            win = xp[:, k * d:k * d + span:s].reshape(n * M, cw)
            if G == 1:
                df[k] = win.T @ dyg
            else:   # [G, Cw/G, N*M] @ [G, N*M, Cn/G]
                part = win.reshape(n * M, G, cwg).transpose(1, 2, 0) @ dyg
                df[k] = part.transpose(1, 0, 2).reshape(cwg, cn)
        return df

    return {"conv1d_transpose": transpose, "conv1d": conv1d,
            "conv1d_backprop_filter": backprop_filter}[job["op"]]


def gemm_bound(job):
    """One BLAS GEMM of the op's FLOPs, ``[N*M, Cn/G] @ [Cn/G, K*Cw]`` (a speed bound for many
    channels, not a peer)."""
    import numpy as np

    rows, inner = job["n"] * job["narrow"], job["cn"] // job["groups"]
    a = np.ones((rows, inner), job["dtype"])
    b = np.ones((inner, job["k"] * job["cw"]), job["dtype"])
    c = np.empty((rows, job["k"] * job["cw"]), job["dtype"])
    return lambda: np.matmul(a, b, out=c)


# --- the frameworks ----------------------------------------------------------------------------

def _explicit(job):
    return not isinstance(job["padding"], str)


def _tf(job, a, b):
    import tensorflow as tf

    threads = job["threads"]
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    at, bt = tf.constant(a), tf.constant(b)
    n, L, M, cw, cn, K, s, d, G = (job[key] for key in (
        "n", "wide", "narrow", "cw", "cn", "k", "s", "d", "groups"))
    pad = job["padding"]
    pad2 = pad if isinstance(pad, str) else [[0, 0], [0, 0], list(pad), [0, 0]]
    if job["op"] == "conv1d_transpose":
        if isinstance(pad, str):
            return lambda: tf.nn.conv1d_transpose(at, bt, [n, L, cw], s, pad, dilations=d)
        a4, b4 = at[:, None], bt[None]
        return lambda: tf.nn.conv2d_transpose(a4, b4, [n, 1, L, cw], [1, 1, s, 1], pad2,
                                              dilations=[1, 1, d, 1])[:, 0]
    if job["op"] == "conv1d":
        if isinstance(pad, str):
            return lambda: tf.nn.conv1d(at, bt, s, pad, dilations=d)
        a4, b4 = at[:, None], bt[None]
        return lambda: tf.nn.conv2d(a4, b4, [1, 1, s, 1], pad2, dilations=[1, 1, d, 1])[:, 0]
    a4, b4 = at[:, None], bt[:, None]
    sizes = tf.constant([1, K, cw // G, cn])
    return lambda: tf.compat.v1.nn.conv2d_backprop_filter(
        a4, sizes, b4, [1, 1, s, 1], pad2, dilations=[1, 1, d, 1])[0]


def _torch(job, a, b):
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(job["threads"])
    n, L, M, cw, cn, K, s, d, pb, G = (job[key] for key in (
        "n", "wide", "narrow", "cw", "cn", "k", "s", "d", "pb", "groups"))
    ke = keff(job)
    ncw = lambda v: torch.from_numpy(np.ascontiguousarray(v.transpose(0, 2, 1)))
    # the padding after the wide signal that conv1d's last window needs (negative: unread samples)
    after = (M - 1) * s + ke - L - pb
    if job["op"] == "conv1d_transpose":
        xt, wt = ncw(a), torch.from_numpy(np.ascontiguousarray(b.transpose(2, 1, 0)))  # [Cn, Cw/G, K]
        # torch crops `padding` from both ends and appends `output_padding` (< max(s, d))
        op = L - ((M - 1) * s - 2 * pb + ke)

        def call():
            with torch.inference_mode():
                if 0 <= op < max(s, d):
                    return F.conv_transpose1d(xt, wt, stride=s, padding=pb, output_padding=op,
                                              dilation=d, groups=G)
                y = F.conv_transpose1d(xt, wt, stride=s, dilation=d, groups=G)[:, :, pb:pb + L]
                return F.pad(y, (0, L - y.shape[2]))
        return call
    xt = ncw(a)
    if after < 0:
        xt = xt[:, :, :L + after]     # samples no window reads
    pre = (lambda v: v) if after == pb or after < 0 and pb == 0 else \
        (lambda v: F.pad(v, (pb, max(after, 0))))
    pad = pb if after == pb else 0
    if job["op"] == "conv1d":
        wt = torch.from_numpy(np.ascontiguousarray(b.transpose(2, 1, 0)))   # [Cn, Cw/G, K]

        def call():
            with torch.inference_mode():
                return F.conv1d(pre(xt), wt, stride=s, padding=pad, dilation=d, groups=G)
        return call
    dyt = ncw(b)

    def call():
        with torch.inference_mode():
            return torch.nn.grad.conv1d_weight(pre(xt), (cn, cw // G, K), dyt, stride=s,
                                               padding=pad, dilation=d, groups=G)
    return call


def _torch_result(job, r):
    r = r.numpy()
    return r.transpose(2, 1, 0) if job["op"] == "conv1d_backprop_filter" else r.transpose(0, 2, 1)


def _jax(job, a, b):
    import numpy as np

    import jax

    jax.config.update("jax_enable_x64", job["dtype"] == "float64")
    import jax.numpy as jnp

    n, L, M, cw, cn, K, s, d, pb, G = (job[key] for key in (
        "n", "wide", "narrow", "cw", "cn", "k", "s", "d", "pb", "groups"))
    ke = keff(job)
    nwc = ("NWC", "WIO", "NWC")
    aj, bj = jnp.asarray(a), jnp.asarray(b)
    if job["op"] == "conv1d_transpose":
        # zero insertion (lhs_dilation=s), pad, correlate with the flipped dilated filter, whose
        # group j maps the input's channels j*Cn/G.. to the output's j*Cw/G..: [K, Cn/G, Cw]
        lo, hi = ke - 1 - pb, L + pb - (M - 1) * s - 1
        w = b[::-1].reshape(K, cw // G, G, cn // G).transpose(0, 3, 2, 1).reshape(K, cn // G, cw)
        wj = jnp.asarray(np.ascontiguousarray(w))
        fn = jax.jit(lambda x, w: jax.lax.conv_general_dilated(
            x, w, (1,), [(lo, hi)], lhs_dilation=(s,), rhs_dilation=(d,), dimension_numbers=nwc,
            feature_group_count=G))
        return lambda: fn(aj, wj).block_until_ready()
    hi = (M - 1) * s + ke - L - pb

    def conv(x, w):
        return jax.lax.conv_general_dilated(x, w, (s,), [(pb, hi)], rhs_dilation=(d,),
                                            dimension_numbers=nwc, feature_group_count=G)
    if job["op"] == "conv1d":
        fn = jax.jit(conv)
        return lambda: fn(aj, bj).block_until_ready()
    w0 = jnp.zeros((K, cw // G, cn), a.dtype)
    fn = jax.jit(lambda x, dy: jax.vjp(lambda w: conv(x, w), w0)[1](dy)[0])
    return lambda: fn(aj, bj).block_until_ready()


def make_runner(name, job):
    """``(call, to_numpy)`` computing ``job`` with library ``name`` (``numpy``, ``gemm``, ``tf``,
    ``torch``, ``jax``); ``to_numpy`` is None for the GEMM bound, whose result is not the op's."""
    import numpy as np

    if name == "gemm":
        return gemm_bound(job), None
    a, b = operands(job)
    if name == "numpy":
        op = numpy_op(job)
        return (lambda: op(a, b)), np.asarray
    if name == "tf":
        return _tf(job, a, b), lambda r: r.numpy()
    if name == "torch":
        return _torch(job, a, b), lambda r: _torch_result(job, r)
    if name == "jax":
        return _jax(job, a, b), np.asarray
    raise ValueError(f"unknown library {name!r}")


# A call slower than this many seconds is timed once: its library's figure for the row is that
# call (a library that takes minutes on a shape, as JAX's float64 depthwise transpose, would
# otherwise hold the table up for its whole count of calls in every round).
SLOW_CALL = 2.0


def repeat_times(fn, min_time, min_repeat, max_repeat=200, warm_up=True):
    """The times of repeated calls of ``fn``, after a warm-up call (first-call set-up, JIT)
    unless ``warm_up`` is false: at least ``min_repeat`` of them, and more up to ``min_time``
    seconds; only one where it took more than ``SLOW_CALL`` seconds."""
    if warm_up:
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_repeat or (time.perf_counter() - start < min_time and len(times) < max_repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if times[-1] > SLOW_CALL:
            break
    return times


def reason(exc):
    """A short message for a library's refusal (TensorFlow's without its ``{{function_node}}``)."""
    import re

    text = re.sub(r"\{\{.*?\}\}\s*", "", str(exc)).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:100] if text else ''}"


def measure(name, job, min_time, min_repeat, runners, make=None):
    """``(times in seconds, result sample)``, or ``(None, reason)``. ``runners`` keeps each
    process's runners between the rounds of a job (no second set-up, no second JIT); ``make``
    builds a runner (default :func:`make_runner`)."""
    key = (name, tuple(sorted((k, str(v)) for k, v in job.items() if k != "threads")))
    if key not in runners:
        runners.clear()                   # one job at a time: free the previous operands
        try:
            fn, conv = (make or make_runner)(name, job)
            first = fn()                  # the warm-up call (set-up, JIT), and the result
            runners[key] = (fn, conv, sample(conv(first)) if conv is not None else None)
        except Exception as exc:          # ImportError, or the library's refusal of the case
            return None, reason(exc)
    fn, conv, result = runners[key]
    # the runner's first call (its result's sample) was the warm-up: no other in later rounds
    return repeat_times(fn, min_time, min_repeat, warm_up=False), result


# --- the worker: one library in a process of its own -------------------------------------------

def pin(threads):
    """With fewer threads than cores, this process (and the threads it starts) on ``threads``
    cores, because not every library honours its thread settings (JAX's XLA runtime does not)."""
    if hasattr(os, "sched_setaffinity") and threads < len(os.sched_getaffinity(0)):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])


def thread_env(threads, env=None):
    """``env`` (default this process's) with every library's thread settings for ``threads``,
    to be in place before any of them is imported."""
    env = dict(os.environ if env is None else env)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        env[var] = str(threads)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    flags = env.get("XLA_FLAGS", "")
    if threads == 1 and "multi_thread_eigen" not in flags:
        flags += " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    env["XLA_FLAGS"] = flags.strip()
    return env


def _encode(got, res):
    """A reply that unpickles under any NumPy version: the sample as float64 bytes."""
    if got is None or res is None:
        return got, res
    return got, ("f8", res.tobytes())


def decode(res):
    import numpy as np

    if isinstance(res, tuple) and res and res[0] == "f8":
        return np.frombuffer(res[1], dtype=np.float64)
    return res


def worker(name, threads, min_time, min_repeat):
    """Serve jobs for library ``name`` on stdin, replies on stdout (pickles), until EOF. The
    first reply is ``(available, version)``. Anything the library prints goes to stderr."""
    import importlib
    import importlib.util

    pin(threads)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    module = FRAMEWORKS.get(name, name)
    version = None
    if importlib.util.find_spec(module) is not None:
        try:
            version = str(importlib.import_module(module).__version__)
        except Exception as exc:
            version = None
            print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    pickle.dump((version is not None, version), replies)
    replies.flush()
    runners = {}
    jobs = sys.stdin.buffer
    while True:
        try:
            job = pickle.load(jobs)
        except EOFError:
            return
        if job is None:
            return
        try:
            reply = _encode(*measure(name, job, min_time, min_repeat, runners))
        except Exception as exc:
            reply = (None, reason(exc))
        pickle.dump(reply, replies)
        replies.flush()


if __name__ == "__main__":
    # python libs.py NAME THREADS MIN_TIME MIN_REPEAT (started by conv1dt.bench.table)
    worker(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
