"""Check the conversions on the migration page against the frameworks themselves.

Not part of the docs build (the docs never import TensorFlow, PyTorch or JAX). Run it in an
environment that has them, with conv1dt importable::

    PYTHONPATH=. python docs/verify_migration.py

It draws random geometries and checks, for each framework, that the recipes of
``docs/migration_recipes.py`` (the code the migration page includes as it stands) give the
framework's result; it prints one line per framework and exits 1 if any check fails.
``tests/test_migration_recipes.py`` runs each function below when its framework is installed.
"""
import os
import sys

import numpy as np

import conv1dt
from conv1dt._geometry import transposed_width_range

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import migration_recipes as mr  # noqa: E402

rng = np.random.default_rng(20240611)
failures = []


def check(label, got, want, tol):
    err = np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1.0) if want.size else 0.0
    ok = got.shape == want.shape and err <= tol
    if not ok:
        failures.append(label)
    return ok, err


def geometries(count):
    for _ in range(count):
        yield dict(n=int(rng.integers(1, 3)), m=int(rng.integers(1, 9)),
                   cin=int(rng.integers(1, 4)), cout=int(rng.integers(1, 4)),
                   k=int(rng.integers(1, 6)), s=int(rng.integers(1, 5)), d=int(rng.integers(1, 4)))


def verify_torch(count):
    import torch
    worst, cases = 0.0, 0
    for g in geometries(count):
        n, m, k, s, d = g["n"], g["m"], g["k"], g["s"], g["d"]
        groups = int(rng.choice([1, 2, 3]))
        cin, cout = g["cin"] * groups, g["cout"] * groups
        keff = (k - 1) * d + 1
        padding = int(rng.integers(0, keff + 1))
        output_padding = int(rng.integers(0, max(s, d)))
        length = (m - 1) * s - 2 * padding + keff + output_padding
        if length < 1:
            continue
        x = rng.standard_normal((n, cin, m))                 # torch: [N, Cin, W]
        w = rng.standard_normal((cin, cout // groups, k))    # torch: [Cin, Cout/groups, K]
        b = rng.standard_normal(cout)
        want = torch.nn.functional.conv_transpose1d(
            torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=s, padding=padding,
            output_padding=output_padding, groups=groups, dilation=d).numpy()
        # The page's recipe: the whole weight permuted, groups=groups, full VALID, a window.
        got = mr.like_torch(x, w, b, s, padding, output_padding, groups, d)
        ok, err = check(f"torch {g} groups={groups} P={padding} op={output_padding}", got, want, 1e-12)
        worst, cases = max(worst, err), cases + 1
        # When 0 <= L - (L_full - 2p) < max(s, d), a conv1dt call is torch with padding=p,
        # output_padding=L - (L_full - 2p).  Check it for conv1dt SAME outputs.
        if groups == 1:
            for width in range((m - 1) * s + 1, m * s + 1):
                total = (m - 1) * s + keff - width
                p = max(total, 0) // 2
                op = width - ((m - 1) * s + keff - 2 * p)
                if not 0 <= op < max(s, d):
                    continue
                y = conv1dt.conv1d_transpose(x, w.transpose(2, 1, 0), [n, cout, width], s, "SAME",
                                             "NCW", d)
                t = torch.nn.functional.conv_transpose1d(
                    torch.from_numpy(x), torch.from_numpy(w), stride=s, padding=p,
                    output_padding=op, dilation=d).numpy()
                ok, err = check(f"torch SAME {g} L={width}", y, t, 1e-12)
                worst, cases = max(worst, err), cases + 1
    print(f"torch {torch.__version__}: {cases} cases, worst relative error {worst:.1e}")


def verify_jax(count):
    import jax
    jax.config.update("jax_enable_x64", True)
    from jax import lax
    worst, cases = 0.0, 0
    for g in geometries(count):
        n, m, cin, cout, k, s, d = (g[key] for key in ("n", "m", "cin", "cout", "k", "s", "d"))
        keff = (k - 1) * d + 1
        x = rng.standard_normal((n, m, cin))
        f = rng.standard_normal((k, cout, cin))   # conv1dt / TF filters [K, Cout, Cin]
        for data_format in ("NWC", "NCW"):
            xx = x if data_format == "NWC" else x.transpose(0, 2, 1)
            dn = (data_format, "WIO", data_format)
            for padding in ("SAME", "VALID"):
                want = np.asarray(lax.conv_transpose(xx, f, (s,), padding, rhs_dilation=(d,),
                                                     dimension_numbers=dn, transpose_kernel=True))
                width = m * s if padding == "SAME" else m * s + max(keff - s, 0)
                shape = [n, width, cout] if data_format == "NWC" else [n, cout, width]
                got = conv1dt.conv1d_transpose(xx, f, shape, s, padding, data_format, d)
                ok, err = check(f"jax {padding} {data_format} {g}", got, want, 1e-12)
                worst, cases = max(worst, err), cases + 1
        # jax's default transpose_kernel=False: rhs [K, Cin, Cout] ('WIO'), filters = rhs[::-1] swapped.
        rhs = rng.standard_normal((k, cin, cout))
        for padding in ("SAME", "VALID"):
            want = np.asarray(lax.conv_transpose(x, rhs, (s,), padding, rhs_dilation=(d,),
                                                 dimension_numbers=("NWC", "WIO", "NWC")))
            width = m * s if padding == "SAME" else m * s + max(keff - s, 0)
            got = mr.like_jax(x, rhs, s, padding, d)
            ok, err = check(f"jax flip {padding} {g}", got, want, 1e-12)
            worst, cases = max(worst, err), cases + 1
        # Explicit pairs (lo, hi), both meanings of use_consistent_padding.
        lo, hi = (int(v) for v in rng.integers(0, keff + 4, size=2))   # lo >= Keff included
        for consistent in (False, True):
            try:
                want = np.asarray(lax.conv_transpose(
                    x, f, (s,), [(lo, hi)], rhs_dilation=(d,),
                    dimension_numbers=("NWC", "WIO", "NWC"), transpose_kernel=True,
                    use_consistent_padding=consistent))
            except TypeError:   # an older jax without use_consistent_padding
                continue
            except ValueError:  # padding wider than jax allows for this input
                continue
            got = mr.like_jax(x, f, s, [(lo, hi)], d, transpose_kernel=True,
                              use_consistent_padding=consistent)
            ok, err = check(f"jax pairs consistent={consistent} {g} {(lo, hi)}", got, want, 1e-12)
            worst, cases = max(worst, err), cases + 1
    print(f"jax {jax.__version__}: {cases} cases, worst relative error {worst:.1e}")


def verify_tf(count):
    import tensorflow as tf
    worst, cases = 0.0, 0
    for g in geometries(count):
        n, m, cin, cout, k, s, d = (g[key] for key in ("n", "m", "cin", "cout", "k", "s", "d"))
        keff = (k - 1) * d + 1
        x = rng.standard_normal((n, m, cin)).astype(np.float32)
        f = rng.standard_normal((k, cout, cin)).astype(np.float32)
        for padding in ("SAME", "VALID"):
            lo, hi = transposed_width_range(m, k, s, d, padding)
            for width in range(max(lo, 1), hi + 1):
                want = tf.nn.conv1d_transpose(x, f, [n, width, cout], s, padding,
                                              dilations=d).numpy()
                got = conv1dt.conv1d_transpose(x, f, [n, width, cout], s, padding, dilations=d)
                ok, err = check(f"tf {padding} {g} L={width}", got, want, 1e-5)
                worst, cases = max(worst, err), cases + 1
    print(f"tensorflow {tf.__version__}: {cases} cases, worst relative error {worst:.1e}")


def verify_keras():
    import keras
    worst, cases = 0.0, 0
    for k in range(1, 6):
        for s in range(1, 5):
            for d in (1, 2, 3):
                if s > 1 and d > 1:
                    continue                  # Keras refuses strides and dilations together
                for padding in ("same", "valid"):
                    for output_padding in [None] + list(range(s)):
                        n, m, cin, cout = 2, 5, 2, 3
                        width = mr.keras_width(m, k, s, padding, d, output_padding)
                        if padding == "same" and width < (m - 1) * s + 1:
                            continue          # below SAME's range: not a conv1dt SAME call
                        layer = keras.layers.Conv1DTranspose(
                            cout, k, strides=s, padding=padding, output_padding=output_padding,
                            dilation_rate=d, use_bias=False)
                        x = rng.standard_normal((n, m, cin)).astype(np.float32)
                        want = np.asarray(layer(x))
                        kernel = np.asarray(layer.kernel)          # [K, filters, in_channels]
                        got = mr.like_keras(x, kernel, s, padding, d, output_padding)
                        ok, err = check(f"keras {padding} K={k} s={s} d={d} op={output_padding}",
                                        got, want, 1e-5)
                        worst, cases = max(worst, err), cases + 1
    print(f"keras {keras.__version__}: {cases} cases, worst relative error {worst:.1e}")


def verify_flax():
    import jax
    import flax.linen as nn
    jax.config.update("jax_enable_x64", True)
    worst, cases = 0.0, 0
    for k in range(1, 5):
        for s in range(1, 4):
            for d in (1, 2):
                for padding in ("SAME", "VALID", [(1, 2)], [(k + 1, 0)]):
                    x = rng.standard_normal((1, 5, 2))
                    layer = nn.ConvTranspose(3, (k,), (s,), padding, kernel_dilation=(d,),
                                             use_bias=False, dtype=jax.numpy.float64,
                                             param_dtype=jax.numpy.float64)
                    params = layer.init(jax.random.PRNGKey(0), x)
                    want = np.asarray(layer.apply(params, x))
                    kernel = np.asarray(params["params"]["kernel"])   # [K, in_features, features]
                    got = mr.like_flax(x, kernel, s, padding, d)
                    ok, err = check(f"flax {padding} K={k} s={s} d={d}", got, want, 1e-12)
                    worst, cases = max(worst, err), cases + 1
    print(f"flax: {cases} cases, worst relative error {worst:.1e}")


def report_tf_ncw():
    """What TensorFlow's CPU build accepts beyond its documented kernels (oneDNN-dependent):
    float32 NCW, which conv1dt's page says oneDNN builds accept; printed, not asserted."""
    import tensorflow as tf
    x = rng.standard_normal((1, 2, 5)).astype(np.float32)            # NCW
    f = rng.standard_normal((3, 4, 2)).astype(np.float32)
    try:
        y = tf.nn.conv1d_transpose(x, f, [1, 4, 10], 2, "SAME", data_format="NCW").numpy()
        same = np.allclose(y, conv1dt.conv1d_transpose(x, f, [1, 4, 10], 2, "SAME", "NCW"), atol=1e-5)
        print(f"tensorflow NCW float32: accepted, equal to conv1dt: {same}")
    except Exception as exc:  # noqa: BLE001 - a report of what this build refuses
        print(f"tensorflow NCW float32: refused ({type(exc).__name__})")


if __name__ == "__main__":
    print(f"conv1dt {conv1dt.__version__}, numpy {np.__version__}")
    verify_torch(400)
    verify_jax(200)
    verify_tf(60)
    report_tf_ncw()
    verify_keras()
    try:
        verify_flax()
    except ImportError:
        print("flax not installed: skipped")
    for label in failures[:20]:
        print("FAIL", label)
    print("all conversions hold" if not failures else f"{len(failures)} FAILED")
    sys.exit(1 if failures else 0)
