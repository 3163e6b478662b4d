"""Hostile conditions: many threads at once, thousands of calls, huge sizes, Ctrl-C."""
import concurrent.futures
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import conv1dt
from conftest import assert_matches, oracle, random_operands, terms_per_output

# one geometry per kernel the planner picks on every instruction set, the kernel first:
# (kernel, (N, M, Cin, Cout, K, s, d, padding))
KERNEL_CASES = [
    ("direct", (2, 300, 3, 2, 7, 3, 2, "SAME")),
    ("col2im", (1, 40, 200, 1, 96, 16, 1, "SAME")),
    ("blas", (2, 200, 40, 4, 400, 2, 1, "VALID")),     # few outputs, taps over 200 rows
]
PER_KERNEL = [case for _, case in KERNEL_CASES]


@pytest.mark.parametrize("kernel,case", KERNEL_CASES, ids=[k for k, _ in KERNEL_CASES])
def test_each_case_runs_its_kernel(kernel, case):
    """The planner picks for each case the kernel it stands for (so a test over PER_KERNEL
    exercises each of them through the public call)."""
    from conv1dt import _plan
    from conv1dt._geometry import transpose_geometry
    n, m, cin, cout, k, s, d, padding = case
    wide = m * s if padding == "SAME" else (m - 1) * s + (k - 1) * d + 1
    g = transpose_geometry((n, m, cin), (k, cout, cin), (n, wide, cout), s, d, padding, "NWC")
    assert _plan.choose("transpose", g, 4) == kernel


def _call(case, x, f, wide=None):
    n, m, cin, cout, k, s, d, padding = case
    if wide is None:
        wide = m * s if padding == "SAME" else (m - 1) * s + (k - 1) * d + 1
    return conv1dt.conv1d_transpose(x, f, [n, wide, cout], s, padding, dilations=d)


@pytest.mark.parametrize("case", PER_KERNEL, ids=[k for k, _ in KERNEL_CASES])
def test_many_python_threads_get_the_serial_answer(case):
    """Eight Python threads calling at once (the GIL released in the kernels, so they really do
    run together) get the serial answer, to the bit."""
    rng = np.random.default_rng(1)
    inputs = [random_operands(rng, *case[:4], case[4], np.float32) for _ in range(4)]
    serial = [_call(case, x, f) for x, f in inputs]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [(j, pool.submit(_call, case, *inputs[j])) for _ in range(10) for j in range(4)]
        for j, fut in futures:
            np.testing.assert_array_equal(fut.result(), serial[j])


# The rest of the family, each kernel: (op, call) pairs on fixed operands.
def _family_calls():
    rng = np.random.default_rng(5)
    calls = []
    for cin, cout, groups in ((2, 3, 1), (48, 40, 1), (8, 8, 8), (6, 4, 2)):
        w = rng.standard_normal((2, 300, cin * 1))           # wide signal, conv1d input
        f = rng.standard_normal((5, cin // groups, cout))    # [K, Cw/G, Cn]
        calls.append(("conv1d", lambda w=w, f=f, g=groups: conv1dt.conv1d(w, f, 2, "SAME", groups=g)))
        dz = conv1dt.conv1d(w, f, 2, "SAME", groups=groups)
        calls.append(("conv1d_backprop_filter",
                      lambda w=w, f=f, dz=dz, g=groups: conv1dt.conv1d_backprop_filter(w, f.shape, dz, 2,
                                                                                        groups=g)))
        fz = rng.standard_normal((5, cout // groups, cin)).astype(np.complex128)
        xz = (rng.standard_normal((2, 100, cin)) + 1j * rng.standard_normal((2, 100, cin)))
        if cout % groups == 0:
            calls.append(("conv1d_transpose complex",
                          lambda xz=xz, fz=fz, g=groups, c=cout: conv1dt.conv1d_transpose(
                              xz, fz, [2, 200, c], 2, groups=g)))
    return calls


FAMILY = _family_calls()


@pytest.mark.parametrize("j", range(len(FAMILY)), ids=[f"{op}-{j}" for j, (op, _) in enumerate(FAMILY)])
def test_the_family_from_many_threads(j):
    """conv1d, the filter gradient and complex/grouped transposes from eight threads at once."""
    op, call = FAMILY[j]
    serial = call()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for fut in [pool.submit(call) for _ in range(24)]:
            np.testing.assert_array_equal(fut.result(), serial)


def test_the_gil_is_released_during_compute():
    """While one thread computes a long call, another runs Python code. With the GIL held for the
    whole call, the counter could not move between the call's start and end."""
    rng = np.random.default_rng(2)
    x, f = random_operands(rng, 4, 1 << 18, 4, 4, 16, np.float32)
    started, done = threading.Event(), threading.Event()
    ticks = []

    def work():
        started.set()
        conv1dt.conv1d_transpose(x, f, [4, 1 << 20, 4], 4)
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    started.wait()
    while not done.is_set():
        ticks.append(time.perf_counter())
        time.sleep(0.0005)
    worker.join()
    assert len(ticks) >= 5, f"only {len(ticks)} ticks of the main thread during the call"


def _rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_no_memory_growth_over_thousands_of_calls():
    """Thousands of calls through every kernel of every op (and through refusals) do not grow the
    process: C scratch, tap tables and BLAS buffers are all given back."""
    rng = np.random.default_rng(3)
    small = [(c[0], 64) + tuple(c[2:]) for c in PER_KERNEL]
    ops = [(case, *random_operands(rng, case[0], 64, *case[2:4], case[4], np.float64)) for case in small]
    bad = np.ones((1, 3, 2))

    def round_():
        for case, x, f in ops:
            _call(case, x, f)
        with pytest.raises(ValueError):
            conv1dt.conv1d_transpose(bad, np.ones((2, 2, 3)), [1, 6, 2], 2)

    family = [call for _, call in FAMILY]

    def round_with_family():
        round_()
        for call in family:
            call()

    for _ in range(100):  # warm up allocator pools and BLAS buffers
        round_with_family()
    before = _rss_bytes()
    for _ in range(600):
        round_with_family()
    grown = _rss_bytes() - before
    calls = 600 * (4 + len(family))
    assert grown < 8 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over {calls} calls"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kept_scratch_is_reused_dirty_and_bounded(dtype):
    """A call's large buffers (a filter layout, the threads' scratch) are blocks the calling thread
    keeps for its next call (``src/scratch.c``). Calls of several kernels one after another, each
    on blocks the one before left full of its own numbers, all match the oracle; a block above
    16 MiB (a 32 MiB filter layout) is let go when its call is done, smaller ones are kept."""
    from conv1dt import _dispatch
    from conv1dt._compiled import _cpu
    from conv1dt._geometry import transpose_geometry
    rng = np.random.default_rng(11)
    itemsize = np.dtype(dtype).itemsize
    cases = [  # (kernel, (N, M, Cin, Cout, K, s, d)), VALID
        ("tiled", (1, 2, 512, 4096 // itemsize, 16, 2, 1)),       # a 32 MiB filter layout
        ("tiled", (2, 50, 24, 64, 5, 3, 1)),
        ("col2im", (1, 40, 200, 3, 96, 16, 1)),
        ("phase", (2, 60, 8, 40, 9, 2, 1)),
        ("direct", (2, 300, 3, 2, 7, 3, 2)),
        ("col2im", (2, 30, 64, 5, 40, 4, 1)),
        ("tiled", (1, 20, 96, 128, 7, 1, 1)),
    ]
    for kernel, (n, m, cin, cout, k, s, d) in cases:
        x, f = random_operands(rng, n, m, cin, cout, k, dtype)
        wide = (m - 1) * s + (k - 1) * d + 1
        g = transpose_geometry(x.shape, f.shape, (n, wide, cout), s, d, "VALID", "NWC")
        y = _dispatch.conv1d_transpose(x, f, g, "NWC", kernel)
        y64, bound = oracle(x, f, (n, wide, cout), s, d, "VALID")
        assert_matches(y, y64, bound, terms_per_output(f.shape, s, d), dtype, f"{kernel} {cout}")
        assert _cpu.scratch_kept() <= 16 << 20, kernel
    assert _cpu.scratch_kept() > 0


def test_an_output_too_large_to_allocate_is_a_memory_error_before_any_work():
    x = np.ones((1, 2, 1), np.float32)
    f = np.ones((1, 1, 1), np.float32)
    s = 2**40  # 2 inputs at stride 2**40: an output of 2**41 samples, 8 TiB
    with pytest.raises(MemoryError, match=r"shape \(1, 2199023255552, 1\).*float32.*8.19e\+03 GiB"):
        conv1dt.conv1d_transpose(x, f, [1, 2 * s, 1], s)
    with pytest.raises(MemoryError, match=r"cannot allocate the output"):
        conv1dt.conv1d_transpose(np.ones((1, 2, 1)), np.ones((1, 1, 1)), [1, 2**62, 1], 2**61)


LONG_CALLS = {  # each far longer than the few seconds the test allows (5e11 multiply-adds or so)
    "conv1d_transpose": """
        x = np.ones((8, 1 << 20, 4), np.float32); f = np.ones((4096, 4, 4), np.float32)
        call = lambda: conv1dt.conv1d_transpose(x, f, [8, 1 << 22, 4], 4)""",
    "conv1d": """
        x = np.ones((8, 1 << 22, 4), np.float32); f = np.ones((4096, 4, 4), np.float32)
        call = lambda: conv1dt.conv1d(x, f, 4)""",
    "conv1d_backprop_filter": """
        x = np.ones((2, 1 << 19, 64), np.float32); dy = np.ones((2, 1 << 17, 64), np.float32)
        call = lambda: conv1dt.conv1d_backprop_filter(x, (2048, 64, 64), dy, 4)""",
}


@pytest.mark.parametrize("op", sorted(LONG_CALLS))
def test_ctrl_c_interrupts_a_long_call(op):
    """SIGINT during one long call raises KeyboardInterrupt within moments (the kernels check for
    signals between chunks of work), not when the call would have ended, and leaves the
    interpreter usable."""
    # (SIGINT handled even where this process was started with it ignored, as a background job)
    script = textwrap.dedent("""
        import signal, sys, time, numpy as np, conv1dt
        signal.signal(signal.SIGINT, signal.default_int_handler)
    """) + textwrap.dedent(LONG_CALLS[op]) + textwrap.dedent("""
        print("ready", flush=True)
        try:
            call()
        except KeyboardInterrupt:
            t = time.perf_counter()
            y = conv1dt.conv1d_transpose(np.ones((1, 2, 1)), np.ones((1, 1, 1)), [1, 2, 1], 1)
            print("interrupted", t, float(y.sum()), flush=True)
            sys.exit(0)
        sys.exit(3)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0 and out.startswith("interrupted"), out
    _, when, total = out.split()
    assert float(total) == 2.0
    # perf_counter is CLOCK_MONOTONIC on Linux, shared by both processes
    assert float(when) - sent < 5.0, f"interrupted {float(when) - sent:.1f} s after SIGINT"


@pytest.mark.slow
def test_an_output_past_2_to_the_31_elements():
    """64-bit indexing end to end: an output of 2**31 + 2**20 float32 samples (8 GiB), checked
    against the reference on windows at the start, across 2**31 and at the end."""
    m = (2**31 + 2**20) // 2
    x = np.zeros((1, m, 1), np.float32)
    rng = np.random.default_rng(4)
    for i0 in (0, 2**30 - 50, m - 100):
        x[0, i0:i0 + 100, 0] = rng.standard_normal(100)
    f = rng.standard_normal((5, 1, 1)).astype(np.float32)
    y = conv1dt.conv1d_transpose(x, f, [1, 2 * m, 1], 2)
    for o0 in (0, 2**31 - 100, 2 * m - 200):
        i0 = o0 // 2 - 4
        xs = np.ascontiguousarray(x[:, max(i0, 0):o0 // 2 + 104])
        # the same window computed alone: VALID full result of the window, aligned by hand
        want = np.zeros(2 * xs.shape[1] + 3)
        for i in range(xs.shape[1]):
            want[2 * i:2 * i + 5] += xs[0, i, 0] * f[:, 0, 0].astype(np.float64)
        shift = o0 - 2 * max(i0, 0) + 1  # SAME pads 1 before: output o reads full index o + 1
        np.testing.assert_allclose(y[0, o0:o0 + 200, 0], want[shift:shift + 200][:len(y[0, o0:o0 + 200, 0])],
                                   rtol=1e-5, atol=1e-5)


def test_the_internal_entry_points_refuse_operands_of_other_shapes():
    """The dispatch's entry points (which the public ops, the cropped paths and the tests that
    force kernels call) refuse operands whose shapes are not the geometry's with a ValueError
    before any kernel runs: the compiled kernels trust the geometry, and a filter in another
    layout (``[K, Cin, Cout]`` for the transpose's ``[K, Cout, Cin]``) was read and written out
    of bounds (a forced transpose of 14 -> 27 channels ended the process with "double free or
    corruption")."""
    from conv1dt import _dispatch
    from conv1dt._args import parse_padding
    from conv1dt._geometry import conv1d_geometry
    rng = np.random.default_rng(5)
    for groups in (1, 2):
        g = conv1d_geometry((2, 100, 8), (3, 8 // groups, 14), 2, 1,
                            parse_padding("SAME", "NWC"), "NWC", groups)
        w = rng.standard_normal((2, 100, 8))
        dy = rng.standard_normal((2, g.narrow, 14))
        f = rng.standard_normal((3, 8 // groups, 14))
        transpose = _dispatch.conv1d_transpose if groups == 1 else _dispatch.conv1d_transpose_groups
        for run, a, b in [(transpose, dy, f), (_dispatch.conv1d, w, f),
                          (_dispatch.conv1d_backprop_filter, w, dy)]:
            before = (a.copy(), b.copy())
            with pytest.raises(ValueError, match="operands of shapes"):
                run(a, np.ascontiguousarray(np.swapaxes(b, 1, 2)), g, "NWC")
            with pytest.raises(ValueError, match="operands of shapes"):
                run(a[:, :-1], b, g, "NWC")
            with pytest.raises(ValueError, match="operands of shapes"):
                run(a, b, g, "NCW")
            np.testing.assert_array_equal(a, before[0])
            np.testing.assert_array_equal(b, before[1])
            run(a, b, g, "NWC")                                   # the geometry's shapes run


@pytest.mark.parametrize("groups", [1, 2])
def test_the_internal_entry_points_refuse_kernels_forced_where_they_do_not_apply(groups):
    """A kernel forced on a geometry it cannot compute (``flip-direct`` with groups ended the
    process with a segmentation fault; ``flip-tiled`` at a stride, ``depthwise`` or ``fir`` on
    several channels a group returned another computation) is refused with a ValueError naming
    the kernel, inputs unchanged; the same call by the planner's kernel matches the reference."""
    from conv1dt import _dispatch, reference
    from conv1dt._args import parse_padding
    from conv1dt._geometry import conv1d_geometry
    rng = np.random.default_rng(6)
    g = conv1d_geometry((2, 100, 8), (3, 8 // groups, 6), 2, 1, parse_padding("SAME", "NWC"),
                        "NWC", groups)
    w = rng.standard_normal((2, 100, 8))
    dy = rng.standard_normal((2, g.narrow, 6))
    f = rng.standard_normal((3, 8 // groups, 6))
    transpose = _dispatch.conv1d_transpose if groups == 1 else _dispatch.conv1d_transpose_groups
    refused = {_dispatch.conv1d: ["depthwise", "fir", "flip-tiled"]
               + (["polyphase", "flip-direct"] if groups > 1 else []),
               _dispatch.conv1d_backprop_filter: ["depthwise"] + (["fir"] if groups > 1 else []),
               transpose: ["depthwise", "fir"] if groups > 1 else []}
    for run, (a, b) in [(_dispatch.conv1d, (w, f)), (_dispatch.conv1d_backprop_filter, (w, dy)),
                        (transpose, (dy, f))]:
        before = (a.copy(), b.copy())
        for kernel in refused[run]:
            with pytest.raises(ValueError, match=f"the '{kernel}' kernel needs"):
                run(a, b, g, "NWC", kernel)
        np.testing.assert_array_equal(a, before[0])
        np.testing.assert_array_equal(b, before[1])
    want = reference.conv1d(w, f, g)
    np.testing.assert_allclose(_dispatch.conv1d(w, f, g, "NWC"), want, rtol=1e-12, atol=1e-12)
