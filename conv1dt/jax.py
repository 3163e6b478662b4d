r"""conv1d_transpose and conv1d as differentiable JAX functions (``custom_vjp`` over
``pure_callback``), under ``jit``, ``grad`` and ``vmap``.

An optional part of conv1dt: it needs JAX (``pip install 'conv1dt[jax]'``), and ``import
conv1dt`` does not import it. Use it as ``import conv1dt.jax`` or ``conv1dt.jax`` after
``import conv1dt``.

The arrays go to conv1dt's kernels on the host through :func:`jax.pure_callback`; the shapes
and every argument are checked when the function is traced (on an empty batch, no work done),
so that no error is ever raised inside a callback. The vector-Jacobian products are the rest of
the family: for ``y = conv1d_transpose(x, f)`` and the cotangent ``dy``, ``dx = conv1d(dy, f)``
and ``df = conv1d_backprop_filter(dy, f.shape, x)`` (JAX's convention: the transpose, with no
conjugation, for complex arrays too).
"""
try:
    import jax
    import jax.numpy as jnp
except ImportError as exc:  # the optional dependency is missing
    raise ImportError(
        "conv1dt.jax needs JAX, an optional dependency of conv1dt: install it with "
        f"pip install 'conv1dt[jax]'. ({exc})"
    ) from exc
import numpy as np

from . import _forms
from ._ops import conv1d as _conv1d
from ._ops import conv1d_backprop_filter as _backprop_filter
from ._ops import conv1d_transpose as _conv1d_transpose

__all__ = ["conv1d_transpose", "conv1d"]


def _call(fn, like, *args):
    """``fn`` on the host as a pure callback returning an array shaped and typed as ``like``."""
    sds = jax.ShapeDtypeStruct(tuple(like.shape), like.dtype)

    def host(*arrays):
        return np.asarray(fn(*(np.asarray(a) for a in arrays)), dtype=sds.dtype)

    return jax.pure_callback(host, sds, *args, vmap_method="sequential")


def _empty(shape, dtype):
    """A NumPy array of ``shape`` with an empty first axis: the probe that checks a call."""
    return np.zeros((0,) + tuple(shape)[1:], dtype=dtype)


def _operands(input, filters):
    x, f = jnp.asarray(input), jnp.asarray(filters)
    if x.dtype != f.dtype:
        raise TypeError(f"input and filters must have the same dtype, got {x.dtype} and "
                        f"{f.dtype}")
    return x, f


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NWC",
                     dilations=None, name=None, groups=1):
    r""":func:`conv1dt.conv1d_transpose` on JAX arrays, differentiable in both operands.

    Parameters
    ----------
    input, filters : jax.Array or array_like
        As for :func:`conv1dt.conv1d_transpose`, of one dtype.
    output_shape : sequence of ints
        As for :func:`conv1dt.conv1d_transpose`; static (Python ints, not traced values).
    strides, padding, data_format, dilations, name, groups
        As for :func:`conv1dt.conv1d_transpose`; static.

    Returns
    -------
    jax.Array
        Of shape ``output_shape`` and ``input``'s dtype.

    Raises
    ------
    ValueError, TypeError
        As :func:`conv1dt.conv1d_transpose`, when the function is called or traced.

    See Also
    --------
    conv1d : its vector-Jacobian product in ``input``.

    Examples
    --------
    >>> import jax
    >>> import jax.numpy as jnp
    >>> import conv1dt.jax
    >>> x = jnp.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    >>> f = jnp.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)
    >>> conv1dt.jax.conv1d_transpose(x, f, [1, 7, 1], 2, "VALID")[0, :, 0]
    Array([  1.,  10., 102.,  20., 203.,  30., 300.], dtype=float32)

    Under ``jit`` and ``grad``: each tap meets every input sample once.

    >>> loss = jax.jit(lambda f: conv1dt.jax.conv1d_transpose(x, f, [1, 7, 1], 2, "VALID").sum())
    >>> jax.grad(loss)(f)[:, 0, 0]
    Array([6., 6., 6.], dtype=float32)
    """
    x, f = _operands(input, filters)
    out_shape = tuple(int(v) for v in np.asarray(output_shape).tolist())
    common = (strides, padding, data_format, dilations)
    _conv1d_transpose(_empty(x.shape, x.dtype), np.zeros(f.shape, f.dtype),
                      _empty(out_shape, x.dtype).shape, *common, groups=groups)
    y_like = jax.ShapeDtypeStruct(out_shape, x.dtype)
    f_shape = tuple(f.shape)

    @jax.custom_vjp
    def op(a, b):
        return _call(lambda a, b: _conv1d_transpose(a, b, out_shape, *common, groups=groups),
                     y_like, a, b)

    def fwd(a, b):
        return op(a, b), (a, b)

    def bwd(res, dy):
        a, b = res
        da = _call(lambda dy, b: _conv1d(dy, b, *common, groups=groups), a, dy, b)
        db = _call(lambda dy, a: _backprop_filter(dy, f_shape, a, *common, groups=groups),
                   b, dy, a)
        return da, db

    op.defvjp(fwd, bwd)
    return op(x, f)


def conv1d(input, filters, stride, padding="SAME", data_format="NWC", dilations=None, name=None,
           groups=1):
    r""":func:`conv1dt.conv1d` on JAX arrays, differentiable in both operands.

    Parameters
    ----------
    input, filters : jax.Array or array_like
        As for :func:`conv1dt.conv1d`, of one dtype.
    stride, padding, data_format, dilations, name, groups
        As for :func:`conv1dt.conv1d` (with the groups it infers from the filters' shape);
        static.

    Returns
    -------
    jax.Array
        conv1d's output, of ``input``'s dtype.

    Raises
    ------
    ValueError, TypeError
        As :func:`conv1dt.conv1d`, when the function is called or traced.

    See Also
    --------
    conv1d_transpose : its vector-Jacobian product in ``input``.

    Examples
    --------
    The gradient of a sum of conv1d's outputs with respect to its input counts how many windows
    each sample falls in:

    >>> import jax
    >>> import jax.numpy as jnp
    >>> import conv1dt.jax
    >>> f = jnp.ones((3, 1, 1))
    >>> loss = lambda w: conv1dt.jax.conv1d(w, f, 1, "VALID").sum()
    >>> jax.grad(loss)(jnp.zeros((1, 5, 1)))[0, :, 0]
    Array([1., 2., 3., 2., 1.], dtype=float32)
    """
    x, f = _operands(input, filters)
    common = (stride, padding, data_format, dilations)
    probe = _empty(x.shape, x.dtype)
    groups = _forms.implicit_groups(probe, f, data_format, groups)
    z_shape = (x.shape[0],) + _conv1d(probe, np.zeros(f.shape, f.dtype), *common,
                                      groups=groups).shape[1:]
    z_like = jax.ShapeDtypeStruct(z_shape, x.dtype)
    w_shape, f_shape = tuple(x.shape), tuple(f.shape)

    @jax.custom_vjp
    def op(a, b):
        return _call(lambda a, b: _conv1d(a, b, *common, groups=groups), z_like, a, b)

    def fwd(a, b):
        return op(a, b), (a, b)

    def bwd(res, dz):
        a, b = res
        da = _call(lambda dz, b: _conv1d_transpose(dz, b, w_shape, *common, groups=groups),
                   a, dz, b)
        db = _call(lambda dz, a: _backprop_filter(a, f_shape, dz, *common, groups=groups),
                   b, dz, a)
        return da, db

    op.defvjp(fwd, bwd)
    return op(x, f)
