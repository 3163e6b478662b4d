"""Time conv1dt.upfirdn against scipy.signal.upfirdn on a few typical resampling calls.

    python tools/bench_upfirdn.py [--threads N] [--rounds R]

Each call is checked against SciPy first; then SciPy and conv1dt are timed in alternation,
``R`` rounds of 5 calls each, and the median call time of each is printed with the ratio
(SciPy's time over conv1dt's). SciPy's upfirdn runs on one thread; ``--threads 1`` compares
like with like. The figures quoted in docs/doors.rst come from this script.
"""
import argparse
import statistics
import time

import numpy as np
from scipy import signal

import conv1dt


def cases(rng):
    x1 = rng.standard_normal(1_000_000)
    x1f = x1.astype(np.float32)
    return [
        ("1 x 1M, up 2, 32 taps, float64", np.hanning(32), x1, 2, 1, -1),
        ("1 x 1M, up 2, 32 taps, float32", np.hanning(32).astype(np.float32), x1f, 2, 1, -1),
        ("1 x 1M, up 3 down 2, 48 taps", np.hanning(48), x1, 3, 2, -1),
        ("1 x 1M, down 4, 64 taps", signal.firwin(64, 1 / 4), x1, 1, 4, -1),
        ("1 x 1M, down 4, 64 taps, float32", signal.firwin(64, 1 / 4).astype(np.float32), x1f,
         1, 4, -1),
        ("1 x 200k, up 2 down 3, 61 taps", signal.firwin(61, 1 / 3), x1[:200_000], 2, 3, -1),
        ("16384 x 64 along axis 0, up 2, 16 taps", np.hanning(16),
         rng.standard_normal((16384, 64)), 2, 1, 0),
        ("1 x 1M complex128, up 2 down 3, 24 taps", np.hanning(24),
         x1 + 1j * rng.standard_normal(1_000_000), 2, 3, -1),
        ("1 x 200k, up 160 down 147, 960 taps", signal.firwin(960, 1 / 160), x1[:200_000],
         160, 147, -1),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if args.threads:
        conv1dt.set_num_threads(args.threads)
    print(f"conv1dt threads: {conv1dt.get_num_threads()}")
    rng = np.random.default_rng(0)
    for name, h, x, up, down, axis in cases(rng):
        want = signal.upfirdn(h, x, up, down, axis)
        got = conv1dt.upfirdn(h, x, up, down, axis)
        assert got.shape == want.shape and got.dtype == want.dtype
        assert np.allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
        times = {"scipy": [], "conv1dt": []}
        for _ in range(args.rounds):
            for lib, fn in (("scipy", signal.upfirdn), ("conv1dt", conv1dt.upfirdn)):
                for _ in range(5):
                    t0 = time.perf_counter()
                    fn(h, x, up, down, axis)
                    times[lib].append(time.perf_counter() - t0)
        ts, tc = statistics.median(times["scipy"]), statistics.median(times["conv1dt"])
        print(f"{name:42s} scipy {ts * 1e3:8.2f} ms  conv1dt {tc * 1e3:8.2f} ms  {ts / tc:5.2f}x")


if __name__ == "__main__":
    main()
