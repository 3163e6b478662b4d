"""conv1dt.jax: vector-Jacobian products by jax.test_util.check_grads (finite differences, in
float64 and complex128) on random geometries, under jit and vmap, and values against conv1dt's
own ops. Skipped as a whole where JAX is not installed."""
import numpy as np
import pytest

jax = pytest.importorskip("jax")
from jax.test_util import check_grads  # noqa: E402

import conv1dt  # noqa: E402
import conv1dt.jax as cj  # noqa: E402
from conftest import stable_seed  # noqa: E402
from test_torch import random_case  # noqa: E402  (the same random geometries)

jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


def rand(rng, shape, dtype):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return jnp.asarray(a.astype(dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_check_grads_on_random_geometries(dtype):
    rng = np.random.default_rng(stable_seed("jax", np.dtype(dtype).name))
    for _ in range(5):
        x_shape, f_shape, out_shape, s, kw = random_case(rng)
        x, f = rand(rng, x_shape, dtype), rand(rng, f_shape, dtype)
        op = jax.jit(lambda x, f: cj.conv1d_transpose(x, f, out_shape, s, **kw))
        check_grads(op, (x, f), order=1, modes=["rev"])
        w = rand(rng, out_shape, dtype)
        check_grads(jax.jit(lambda w, f: cj.conv1d(w, f, s, **kw)), (w, f), order=1,
                    modes=["rev"])


def test_values_jit_and_vmap():
    rng = np.random.default_rng(3)
    x_shape, f_shape, out_shape, s, kw = random_case(rng)
    x, f = rand(rng, x_shape, np.float32), rand(rng, f_shape, np.float32)
    want = conv1dt.conv1d_transpose(np.asarray(x), np.asarray(f), out_shape, s, **kw)
    y = jax.jit(lambda x, f: cj.conv1d_transpose(x, f, out_shape, s, **kw))(x, f)
    assert y.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(y), want)
    xs = jnp.stack([x, 2 * x])
    ys = jax.vmap(lambda x: cj.conv1d_transpose(x, f, out_shape, s, **kw))(xs)
    np.testing.assert_allclose(np.asarray(ys[1]), 2 * want, rtol=1e-6, atol=1e-6)


def test_errors_when_traced():
    x, f = jnp.zeros((1, 5, 2)), jnp.zeros((3, 4, 2))
    with pytest.raises(ValueError, match=r"output_shape\[1\] is 12"):
        jax.jit(lambda x: cj.conv1d_transpose(x, f, [1, 12, 4], 2))(x)
    with pytest.raises(TypeError, match="same dtype"):
        cj.conv1d(x, f.astype(jnp.float32 if x.dtype != jnp.float32 else jnp.float64), 1)


def test_docstring_examples():
    """The examples run in float32, JAX's default (this module's other tests enable float64)."""
    import doctest
    jax.config.update("jax_enable_x64", False)
    try:
        result = doctest.testmod(cj, optionflags=doctest.NORMALIZE_WHITESPACE)
    finally:
        jax.config.update("jax_enable_x64", True)
    assert result.attempted > 0 and result.failed == 0
