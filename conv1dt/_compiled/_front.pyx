"""The ops' front door for repeated calls, compiled: the key of a call, its kept plan, and the
plan's quick runner on operands it can take as they are.

A repeated small call is a few microseconds of kernel; in Python, building its key, looking it up
and checking its operands cost about as much again (conv1dt/_ops.py). This module does the same
steps in C through the Python C API, with the same keys as before (they are shared with the plans
that :func:`conv1dt.plan` and the first call keep) and the same fallbacks: any argument of a type
other than the usual ones goes through :func:`frozen`, and any operand that is not a C-contiguous
aligned ndarray takes the ops' general path.
"""
cimport numpy as cnp

import numpy as np

cnp.import_array()

import itertools

from .._runtime import denormals as _denormals

# The implicit cache: plans of calls already checked, by their op and arguments (kept and
# bounded by conv1dt/_plan.py, which names them ``_cache`` and ``_clock``). A hit stamps its
# plan with the next tick of the clock (cheaper than reordering the dict: a key is a nested
# tuple, whose hash is not cached); when the cache is full, the plan with the oldest stamp goes.
cache = {}
clock = itertools.count()
cdef dict _cache = cache
cdef object _clock = clock


def frozen(v):
    """``v`` as a hashable key that keeps every type, so that ``2``, ``2.0``, ``True`` and
    ``np.int64(2)`` (equal and of equal hash in Python) are different keys. With an unhashable
    value (an array as ``output_shape``) the key does not hash: such calls are not planned.

    Inside a list or tuple a plain int stays as it is (a tagged value is a tuple, never equal
    to an int), and a pair of plain ints, a row of explicit padding, is done here rather than
    by a call of its own: ``[[0, 0], [lo, hi], [0, 0]]`` costs one call, not ten."""
    t = type(v)
    if t is not list and t is not tuple:
        return (t, v)
    key = [t]
    for e in v:
        te = type(e)
        if te is int:
            key.append(e)
        elif ((te is list or te is tuple) and len(e) == 2 and type(e[0]) is int
              and type(e[1]) is int):
            key.append((te, e[0], e[1]))
        else:
            key.append(frozen(e))
    return tuple(key)


def planned(str op, a, b, shape, strides, padding, data_format, dilations, groups):
    """``(key, plan)`` for a call of ``op`` on operands ``a`` and ``b`` with ``shape`` (the output
    or filter shape, or None) and the other arguments: the plan kept for it, or None. The key is
    None when the operands are not ndarrays, and unhashable with an unhashable argument (an array
    or a writeable memoryview as a shape): such calls are not planned. Plain ints and strings, the
    usual arguments, go into the key as they are: :func:`frozen` tags every other value with its
    type, so none can collide with them."""
    if type(a) is not np.ndarray or type(b) is not np.ndarray:
        return None, None
    if ((type(shape) is list or type(shape) is tuple) and len(shape) == 3
            and type(shape[0]) is int and type(shape[1]) is int and type(shape[2]) is int):
        shape = (shape[0], shape[1], shape[2])
    elif shape is not None:
        shape = frozen(shape)
    key = (op, a.shape, a.dtype, b.shape, b.dtype, shape,
           strides if type(strides) is int else frozen(strides),
           padding if type(padding) is str else frozen(padding),
           data_format if type(data_format) is str else frozen(data_format),
           dilations if dilations is None else frozen(dilations),
           groups if type(groups) is int else frozen(groups))
    try:
        plan = _cache.get(key)
    except (TypeError, ValueError):   # ValueError: a writeable memoryview
        return key, None
    if plan is not None:
        plan._used = next(_clock)     # the least recently used is dropped first
    return key, plan


cdef inline bint _ready(object a):
    """Whether ``a`` is an ndarray the kernels read as it is: C-contiguous and aligned."""
    return type(a) is np.ndarray and cnp.PyArray_ISCARRAY_RO(<cnp.ndarray> a)


cdef inline object _run(object run, object a, object b):
    """``run(a, b)``, or None where ``run`` is None, an operand must be copied first (not a
    C-contiguous aligned ndarray), or flush-to-zero was ever enabled (the general path sets the
    thread's mode)."""
    if run is None or not _ready(a) or not _ready(b) or _denormals.ever:
        return None
    return run(a, b)


def quick(plan, a, b):
    """``plan``'s quick runner on ``a`` and ``b`` (of the shapes and dtypes it was made for),
    or None where it cannot take them as they are (:func:`_run`)."""
    return _run(plan._quick, a, b)


def quick_plan(plan, a, b):
    """:func:`quick` for a call of ``plan`` itself (:meth:`conv1dt._plan.Plan.__call__`), whose
    operands' shapes and dtypes have not been matched by a key: None unless they are exactly
    those the plan was made for (the dtype of its kernel)."""
    run = plan._quick
    if (run is None or type(a) is not np.ndarray or type(b) is not np.ndarray
            or a.dtype != plan.dtype or b.dtype != plan.dtype
            or (a.shape, b.shape) != plan._shapes):
        return None
    return _run(run, a, b)
