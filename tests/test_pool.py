"""Large outputs come from a pool of reused memory blocks (conv1dt/_dispatch.py): a block is
handed out again only once no array views it, and the pool stays bounded.

The kernels are held to the reference elsewhere; here a pooled result is compared, bit for bit,
with the same call writing into a fresh ``np.empty`` (the pool switched off), which is what the
pool must not change."""
import threading

import numpy as np
import pytest

import conv1dt
from conv1dt import _dispatch
from conftest import assert_matches, oracle, random_operands, terms_per_output

BIG = (2, 1 << 17, 4)   # float32: 4 MiB, the pool's threshold


def unpooled(x, f, shape, s):
    saved = _dispatch.POOL_MIN_BYTES
    _dispatch.POOL_MIN_BYTES = 1 << 62
    try:
        y = conv1dt.conv1d_transpose(x, f, shape, s)
    finally:
        _dispatch.POOL_MIN_BYTES = saved
    assert y.base is None
    return y


def big_call(rng, dtype=np.float32):
    x, f = random_operands(rng, BIG[0], BIG[1] // 2, 3, BIG[2], 5, dtype)
    return x, f, conv1dt.conv1d_transpose(x, f, list(BIG), 2)


def test_outputs_alive_never_share_memory():
    rng = np.random.default_rng(0)
    outs = [big_call(rng) for _ in range(4)]
    for j, (_, _, y) in enumerate(outs):
        assert y.nbytes >= _dispatch.POOL_MIN_BYTES and y.flags.c_contiguous and y.flags.writeable
        for _, _, other in outs[j + 1:]:
            assert not np.shares_memory(y, other)
    for x, f, y in outs:   # each result is still its own, after the later calls
        np.testing.assert_array_equal(y, unpooled(x, f, list(BIG), 2))


def test_a_view_keeps_its_block_out_of_the_pool():
    rng = np.random.default_rng(1)
    x, f, y = big_call(rng)
    view, copy = y[:, ::3], y[:, ::3].copy()
    del y
    _, _, fresh = big_call(rng)
    assert not np.shares_memory(fresh, view)
    np.testing.assert_array_equal(view, copy)


def test_a_dropped_output_is_reused_and_overwritten_in_full():
    """Reuse is what the pool is for; the reused block must hold the new result entirely (no
    stale values from the old one), for every dtype and kernel that writes its output."""
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        with _dispatch._pool_lock:
            _dispatch._pool.clear()   # so that the block freed below is the only candidate
        x, f, y = big_call(rng, dtype)
        y[...] = np.nan
        address = y.__array_interface__["data"][0]
        del y
        x2, f2, y2 = big_call(rng, dtype)
        assert y2.__array_interface__["data"][0] == address
        np.testing.assert_array_equal(y2, unpooled(x2, f2, list(BIG), 2))


@pytest.mark.parametrize("kernel", ["direct", "col2im", "blas", "phase"])
def test_every_kernel_overwrites_a_reused_block(kernel):
    from conftest import geometry
    rng = np.random.default_rng(3)
    x, f = random_operands(rng, 1, 1 << 15, 16, 16, 4, np.float32)
    shape = [1, 1 << 16, 16]   # 4 MiB
    g = geometry(x, f, shape, 2, 1, "SAME", "NWC")
    with _dispatch._pool_lock:
        _dispatch._pool.clear()   # so that the block freed below is the only candidate
    y = _dispatch.conv1d_transpose(x, f, g, "NWC", kernel=kernel)
    address = y.__array_interface__["data"][0]
    y[...] = np.nan
    del y
    y = _dispatch.conv1d_transpose(x, f, g, "NWC", kernel=kernel)
    # what the pool promises: the dropped block is handed out again (not merely some pooled one),
    assert y.base is not None and y.__array_interface__["data"][0] == address
    # never a block a live array holds,
    z = _dispatch.conv1d_transpose(x, f, g, "NWC", kernel=kernel)
    assert not np.shares_memory(y, z)
    # and the kernel overwrites all of it (the NaNs left in the block are gone)
    y64, bound = oracle(x, f, shape, 2)
    for out in (y, z):
        assert_matches(out, y64, bound, terms_per_output(f.shape, 2), np.float32, kernel)


def test_the_pool_is_bounded():
    """The pool never refers to more than POOL_MAX_BYTES of blocks, in use or not, so dropping
    the results gives the memory back (beyond that bound) however many were alive at once."""
    keep = []
    for j in range(12):   # 12 outputs of 32 to 35 MiB, all alive at once, then dropped
        keep.append(_dispatch.allocate(((1 << 23) + j * (1 << 18),), np.float32))
        assert sum(b.size for b in _dispatch._pool) <= _dispatch.POOL_MAX_BYTES
    del keep
    assert sum(b.size for b in _dispatch._pool) <= _dispatch.POOL_MAX_BYTES


def test_huge_outputs_are_not_pooled():
    y = _dispatch.allocate((_dispatch.POOL_MAX_BYTES // 2 + 4,), np.uint8)
    assert not any(np.shares_memory(y, b) for b in _dispatch._pool)


@pytest.mark.parametrize("nbytes", [_dispatch.POOL_MIN_BYTES, _dispatch.POOL_MIN_BYTES + 20,
                                    _dispatch.POOL_MAX_BYTES // 2 + 4])
def test_large_outputs_start_on_a_cache_line(nbytes):
    """Outputs from 4 MiB, pooled or not, start on a 64-byte boundary (the skinny GEMM's
    streaming stores need it: without it they fall back to plain stores), and are the size asked
    for."""
    for _ in range(3):
        y = _dispatch.allocate((nbytes // 4,), np.float32)
        assert y.ctypes.data % 64 == 0 and y.nbytes == nbytes // 4 * 4 and y.flags.c_contiguous


def test_python_threads_get_blocks_of_their_own():
    rng = np.random.default_rng(4)
    x, f = random_operands(rng, BIG[0], BIG[1] // 2, 3, BIG[2], 5, np.float32)
    want = conv1dt.conv1d_transpose(x, f, list(BIG), 2)
    results, errors = [], []

    def work():
        try:
            for _ in range(6):
                y = conv1dt.conv1d_transpose(x, f, list(BIG), 2)
                results.append(y)
                if len(results) > 6:
                    results.pop(0)
                np.testing.assert_array_equal(y, want)
        except Exception as exc:  # reported below, from the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    live = list(results)
    for j, y in enumerate(live):
        np.testing.assert_array_equal(y, want)
        for other in live[j + 1:]:
            assert not np.shares_memory(y, other)


def test_the_pool_can_be_turned_off():
    """With CONV1DT_OUTPUT_POOL=0 (read at import, in a fresh interpreter) a large output is a
    fresh array of its own, whose memory no later call reuses."""
    import os
    import subprocess
    import sys
    code = """
import numpy as np
from conv1dt import _dispatch
assert not _dispatch.POOL_ENABLED
y = _dispatch.allocate((1 << 21,), np.float32)     # 8 MiB: from the pool when it is on
assert not _dispatch._pool and y.base.nbytes == y.nbytes + _dispatch.ALIGN   # its own block
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "CONV1DT_OUTPUT_POOL": "0"})
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
