"""``python -m conv1dt``: compute a worked example, check it, and print a short report.

The example upsamples a two-channel signal by 4 with a 16-tap filter (SAME padding, as a
learned upsampler in a decoder would), then checks the compiled result against the NumPy
reference and against the adjoint identity ``<conv1d_transpose(x, f), v> = <x, conv1d(v, f)>``.
Exit status 0 when every check holds, 1 otherwise.
"""
import sys
import time

import numpy as np

import conv1dt
from conv1dt import reference
from conv1dt._geometry import transpose_geometry


def main():
    rng = np.random.default_rng(0)
    n, m, cin, cout, k, s = 4, 2048, 2, 3, 16, 4
    x = rng.standard_normal((n, m, cin))
    f = rng.standard_normal((k, cout, cin))
    out_shape = [n, m * s, cout]

    t0 = time.perf_counter()
    y = conv1dt.conv1d_transpose(x, f, out_shape, s, padding="SAME")
    elapsed = time.perf_counter() - t0

    g = transpose_geometry(x.shape, f.shape, out_shape, s, 1, "SAME", "NWC")
    want = reference.conv1d_transpose(x, f, g)
    scale = reference.conv1d_transpose(np.abs(x), np.abs(f), g)
    err = np.max(np.abs(y - want) / np.maximum(scale, np.finfo(float).tiny))

    v = rng.standard_normal(y.shape)
    lhs = np.vdot(y, v)
    rhs = np.vdot(x, reference.conv1d(v, f, g))
    adj = abs(lhs - rhs) / np.vdot(scale, np.abs(v))

    checks = [
        ("matches conv1dt.reference (max error / sum|terms|)", err, err <= 1e-14),
        ("adjoint identity <C^T x, v> = <x, C v> (relative)", adj, adj <= 1e-13),
    ]
    print(f"conv1dt {conv1dt.__version__}: transposed convolution, {conv1dt.get_num_threads()} thread(s)")
    print(f"  input  {list(x.shape)} (NWC), filters {list(f.shape)} [K, Cout, Cin], "
          f"stride {s}, SAME -> output {list(y.shape)}")
    print(f"  pad_before = {g.pad_before}; computed in {elapsed * 1e3:.2f} ms")
    print(f"  y[0, :6, 0] = {np.array2string(y[0, :6, 0], precision=4)}")
    ok = True
    for label, value, good in checks:
        print(f"  {'ok  ' if good else 'FAIL'} {label}: {value:.2e}")
        ok &= bool(good)
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
