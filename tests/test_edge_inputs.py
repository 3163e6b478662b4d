"""Inputs that surprised: masked arrays, plain lists through Dask, complex results at the edge of
memory, outputs no machine can hold."""
import tracemalloc

import numpy as np
import pytest

import conv1dt
from conv1dt import reference
from conv1dt._geometry import transpose_geometry


def masked(shape, dtype=np.float64):
    a = np.ma.masked_array(np.ones(shape, dtype), mask=np.zeros(shape, bool))
    a.mask.flat[0] = True
    return a


@pytest.mark.parametrize("which", ["input", "filters"])
def test_masked_arrays_are_refused_by_every_entry_point(which):
    x, f, dz = np.ones((1, 4, 1)), np.ones((2, 1, 1)), np.ones((1, 4, 1))
    mx, mf = (masked(x.shape), f) if which == "input" else (x, masked(f.shape))
    msg = rf"^{which} is a numpy.ma.MaskedArray"
    with pytest.raises(TypeError, match=msg):
        conv1dt.conv1d_transpose(mx, mf, [1, 4, 1], 1)
    with pytest.raises(TypeError, match=msg):
        conv1dt.conv1d(mx, mf, 1)
    if which == "input":
        with pytest.raises(TypeError, match=msg):
            conv1dt.conv1d_backprop_filter(mx, f.shape, dz, 1)
        with pytest.raises(TypeError, match=r"^out_backprop is a numpy.ma.MaskedArray"):
            conv1dt.conv1d_backprop_filter(x, f.shape, masked(dz.shape), 1)
        with pytest.raises(TypeError, match=r"^block is a numpy.ma.MaskedArray"):
            conv1dt.Conv1DTransposeStream(f, 1).push(mx)
    else:
        with pytest.raises(TypeError, match=msg):
            conv1dt.Conv1DTransposeStream(mf, 1)
    da = pytest.importorskip("dask.array")
    cdask = pytest.importorskip("conv1dt.dask")
    with pytest.raises(TypeError, match=msg):
        cdask.conv1d_transpose(mx, mf, [1, 4, 1], 1)
    if which == "input":
        with pytest.raises(TypeError, match=msg):
            cdask.conv1d_transpose(da.from_array(mx, chunks=2, asarray=False), f,
                                          [1, 4, 1], 1)


def test_dask_takes_a_plain_list_beside_float32_filters():
    cdask = pytest.importorskip("conv1dt.dask")
    x = [[[1.0], [2.0], [3.0]]]
    f = np.array([1.0, 10.0, 100.0], np.float32).reshape(3, 1, 1)
    want = conv1dt.conv1d_transpose(x, f, [1, 7, 1], 2, "VALID")
    assert want.dtype == np.float32
    y = cdask.conv1d_transpose(x, f, [1, 7, 1], 2, "VALID")
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.compute(), want)


def test_complex_results_are_written_in_place():
    """Peak memory of a complex128 call: the result and one real part (plus the operands' real
    parts), where it was the result, two parts and a temporary (about 2.5x the result). Measured
    by tracemalloc, which sees NumPy's allocations; the result is under the pool's 4 MiB."""
    rng = np.random.default_rng(0)
    n, m, cin, cout, k, s = 1, 8192, 1, 8, 4, 2        # result: 16384 x 8 complex128 = 2 MiB
    x = rng.standard_normal((n, m, cin)) + 1j * rng.standard_normal((n, m, cin))
    f = rng.standard_normal((k, cout, cin)) + 1j * rng.standard_normal((k, cout, cin))
    shape = [n, m * s, cout]
    result = 16 * np.prod(shape)
    operand_parts = 8 * (x.size + f.size) * 2
    conv1dt.conv1d_transpose(x, f, shape, s)            # warm: plans, BLAS buffers
    tracemalloc.start()
    try:
        y = conv1dt.conv1d_transpose(x, f, shape, s)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= result * 1.5 + operand_parts + 2**16, (peak, result)
    g = transpose_geometry(x.shape, f.shape, shape, s, 1, "SAME", "NWC")
    want = reference.conv1d_transpose(x, f, g)
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_an_output_no_machine_holds_is_a_memory_error_naming_output_shape_before_any_work():
    x = np.ones((1, 1, 1), np.complex128)
    f = np.ones((1, 1, 1), np.complex128)
    with pytest.raises(MemoryError, match=r"complex128.*output_shape \[1, 1152921504606846976, 1\]"):
        conv1dt.conv1d_transpose(x, f, [1, 2**60, 1], 2**60)
    # too large for this machine, not for every machine: the allocator's message, before work
    with pytest.raises(MemoryError, match=r"shape \(1, 1099511627776, 1\).*complex128"):
        conv1dt.conv1d_transpose(x, f, [1, 2**40, 1], 2**40)
