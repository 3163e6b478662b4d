"""The documentation's figures, drawn at build time by matplotlib's plot directive.

Each public function draws one figure on a new matplotlib figure. The numbers come from conv1dt
itself (the compiled ``conv1d_transpose`` and ``conv1dt.reference``), so a figure cannot drift
from what the library computes. Use in a page as::

    .. plot:: figures.py scatter
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

import conv1dt
from conv1dt import reference
from conv1dt._geometry import transpose_geometry

PHASE_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
ZERO_COLOR = "#bbbbbb"


def _single(x, f, stride, padding="VALID", dilation=1, width=None):
    """conv1d_transpose of one 1-channel signal by one 1-channel filter, as a 1-D array."""
    x = np.asarray(x, dtype=float)
    f = np.asarray(f, dtype=float)
    if width is None:
        width = (len(x) - 1) * stride + (len(f) - 1) * dilation + 1
    y = conv1dt.conv1d_transpose(x.reshape(1, -1, 1), f.reshape(-1, 1, 1), [1, width, 1], stride,
                                 padding, dilations=dilation)
    return y[0, :, 0]


def _cell(ax, col, row, text, face, edge="#444444", bold=False):
    ax.add_patch(Rectangle((col, row), 1, 1, facecolor=face, edgecolor=edge, linewidth=0.8))
    ax.text(col + 0.5, row + 0.5, text, ha="center", va="center",
            fontweight="bold" if bold else "normal")


def scatter():
    """Each input sample stamps a scaled copy of the filter, every ``s`` outputs."""
    x, f, s = [1.0, 2.0, 3.0], [1.0, 10.0, 100.0], 2
    total = _single(x, f, s)
    width = len(total)
    fig, ax = plt.subplots(figsize=(7.5, 2.9))
    for i, xi in enumerate(x):
        one_hot = np.zeros(len(x))
        one_hot[i] = xi
        stamp = _single(one_hot, f, s)           # what sample i alone contributes
        for o in range(width):
            if i * s <= o < i * s + len(f):
                _cell(ax, o, len(x) - i, f"{stamp[o]:g}", PHASE_COLORS[i])
                ax.patches[-1].set_alpha(0.35)
            else:
                _cell(ax, o, len(x) - i, "", "white", edge="#dddddd")
        ax.text(-0.3, len(x) - i + 0.5, f"x[{i}] = {xi:g} stamps x[{i}]·f from o = {i * s}",
                ha="right", va="center")
    for o in range(width):
        _cell(ax, o, -0.4, f"{total[o]:g}", "#f2f2f2", bold=True)
        ax.text(o + 0.5, len(x) + 1.3, str(o), ha="center", va="center", color="#555555")
    ax.text(-0.3, len(x) + 1.3, "output o", ha="right", va="center", color="#555555")
    ax.text(-0.3, 0.1, "y = sum of the stamps", ha="right", va="center", fontweight="bold")
    ax.add_patch(Rectangle((4, -0.4), 1, len(x) + 1.4, fill=False, edgecolor="black", lw=1.8))
    ax.text(width + 0.3, 0.1, "gather: column o = 4 sums\ny[4] = x[1]·f[2] + x[2]·f[0]",
            ha="left", va="center", fontsize=8)
    ax.set_xlim(-8.5, width + 5.5)
    ax.set_ylim(-0.6, len(x) + 1.7)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("conv1d_transpose of x = [1, 2, 3] by f = [1, 10, 100], stride 2, VALID:\n"
                 "each row is a scatter (one input stamps the filter), each column a gather",
                 fontsize=9)
    return fig


def _matrix_panel(ax, C, title, row_label, col_label):
    rows, cols = C.shape
    for r in range(rows):
        for c in range(cols):
            v = int(C[r, c])
            if v:
                _cell(ax, c, rows - 1 - r, f"f{v - 1}", PHASE_COLORS[v - 1])
                ax.patches[-1].set_alpha(0.45)
            else:
                _cell(ax, c, rows - 1 - r, "", "white", edge="#dddddd")
    ax.set_xlim(0, cols)
    ax.set_ylim(0, rows)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(cols) + 0.5, [str(c) for c in range(cols)])
    ax.set_yticks(np.arange(rows) + 0.5, [str(r) for r in range(rows)][::-1])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    ax.set_title(title, fontsize=9)


def matrices():
    """conv1d's matrix C for stride 1 and 2, and C^T, which is conv1d_transpose."""
    f = np.array([1.0, 2.0, 3.0]).reshape(3, 1, 1)      # the entry value k+1 marks tap f[k]
    g1 = transpose_geometry((1, 7, 1), f.shape, (1, 9, 1), 1, 1, "VALID", "NWC")
    g2 = transpose_geometry((1, 4, 1), f.shape, (1, 9, 1), 2, 1, "VALID", "NWC")
    C1 = reference.conv1d_matrix(f, g1)
    C2 = reference.conv1d_matrix(f, g2)
    fig, axes = plt.subplots(1, 3, figsize=(9.5, 3.6), gridspec_kw={"width_ratios": [9, 9, 4]})
    _matrix_panel(axes[0], C1, "conv1d, stride 1: C (7 x 9), Toeplitz", "narrow i", "wide o")
    _matrix_panel(axes[1], C2, "conv1d, stride 2: C (4 x 9),\nthe band steps 2 columns a row",
                  "narrow i", "wide o")
    _matrix_panel(axes[2], C2.T, "conv1d_transpose,\nstride 2: C$^T$ (9 x 4)", "wide o", "narrow i")
    fig.suptitle("K = 3 taps, L = 9, VALID: entry (i, o) holds f[k] where o = i*s + k", fontsize=9)
    fig.tight_layout()
    return fig


def polyphase():
    """Zero insertion versus the polyphase split, for stride 2 and 5 taps."""
    s = 2
    x = np.array([1.0, 3.0, 2.0, -1.0, 2.0, 1.0])
    f = np.array([1.0, 2.0, 3.0, 2.0, 1.0]) / 3
    y = _single(x, f, s)
    u = np.zeros((len(x) - 1) * s + 1)
    u[::s] = x                                        # x with s-1 zeros between its samples
    fig, axes = plt.subplots(2, 2, figsize=(9.5, 5.2))

    ax = axes[0, 0]
    pos = np.arange(len(u))
    real = pos % s == 0
    ax.stem(pos[real], u[real], basefmt=" ")
    ax.plot(pos[~real], u[~real], "x", color=ZERO_COLOR, ms=8, mew=2, label="inserted zeros")
    ax.set_title(f"(a) zero insertion: u = x with {s - 1} zero between samples\n"
                 "conv1d_transpose = u convolved with f (stride 1)", fontsize=9)
    ax.legend(loc="upper right", frameon=False)
    ax.set_xlabel("position in u")

    ax = axes[0, 1]
    for k, fk in enumerate(f):
        ax.bar(k, fk, color=PHASE_COLORS[k % s], width=0.6)
        ax.text(k, fk + 0.02, f"f[{k}]", ha="center", va="bottom")
    ax.set_title(f"(b) the filter's taps, coloured by phase k mod {s}:\n"
                 f"f[0::{s}] = taps 0, 2, 4 and f[1::{s}] = taps 1, 3", fontsize=9)
    ax.set_ylim(0, 1.25)
    ax.set_xlabel("tap k")

    ax = axes[1, 0]
    o = np.arange(len(y))
    for r in range(s):
        ax.stem(o[r::s], y[r::s], linefmt=PHASE_COLORS[r], markerfmt="o", basefmt=" ",
                label=f"phase {r}: y[{r}::{s}]")
    ax.axhline(0, color="#888888", lw=0.5)
    ax.set_title("(c) the output y, each sample coloured by its phase (o + p) mod 2, p = 0",
                 fontsize=9)
    ax.legend(loc="upper right", frameon=False)
    ax.set_xlabel("output o")

    ax = axes[1, 1]
    for r in range(s):
        part = np.convolve(x, f[r::s])                # phase r alone: an ordinary convolution
        q = np.arange(len(part))
        ax.plot(q, part, "o-", color=PHASE_COLORS[r], label=f"np.convolve(x, f[{r}::{s}])")
    ax.axhline(0, color="#888888", lw=0.5)
    ax.set_title(f"(d) polyphase: phase r is x convolved with f[r::{s}],\n"
                 "no multiplication by an inserted zero", fontsize=9)
    ax.legend(loc="upper right", frameon=False)
    ax.set_xlabel("q, where o = q*s + r")
    fig.tight_layout()
    return fig


def checkerboard():
    """Uneven overlap when K is not a multiple of s: 1-D counts and their 2-D outer product."""
    m, s = 8, 2
    fig, axes = plt.subplots(2, 3, figsize=(9.5, 5.6), gridspec_kw={"height_ratios": [1, 1.6]})
    for col, k in enumerate((3, 4, 5)):
        # A constant input and a constant filter: each output counts the taps that land on it.
        y = _single(np.ones(m), np.ones(k), s, padding="SAME", width=m * s)
        p = max((m - 1) * s + k - m * s, 0) // 2           # SAME's pad_before
        ax = axes[0, col]
        colors = [PHASE_COLORS[(o + p) % s] for o in range(len(y))]
        ax.bar(np.arange(len(y)), y, color=colors, width=0.8)
        ax.set_ylim(0, 3.4)
        ax.set_xticks(range(0, len(y), 4))
        ax.set_title(f"K = {k}, s = {s}: " + ("even" if k % s == 0 else "uneven") + " overlap",
                     fontsize=9)
        ax.set_xlabel("output o")
        if col == 0:
            ax.set_ylabel("taps landing on o")
        ax = axes[1, col]
        ax.imshow(np.outer(y, y), cmap="gray", vmin=0, vmax=9, interpolation="nearest")
        ax.set_title("the same filter in 2-D\n(separable, outer product)", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"conv1d_transpose of ones({m}) by ones(K), stride {s}, SAME "
                 f"(colour: phase (o + p) mod {s})", fontsize=9)
    fig.tight_layout()
    return fig


OP_TAGS = {"conv1d": "conv1d ", "conv1d_backprop_filter": "filter grad "}   # none for the transpose


def benchmark():
    """conv1dt's speed-up over the fastest peer on each shape of the recorded benchmark
    (``docs/bench/threads*.json``, written by ``python -m conv1dt.bench --json``)."""
    import json
    import pathlib

    import matplotlib.ticker

    # the plot directive runs this file from the docs folder, without __file__
    here = pathlib.Path(globals().get("__file__", "figures.py")).resolve().parent / "bench"
    runs = [(t, json.loads((here / f"threads{t}.json").read_text())) for t in (1, 2)
            if (here / f"threads{t}.json").exists()]
    tallest = max([len(rows) for _, rows in runs] + [0])
    fig, axes = plt.subplots(1, len(runs), figsize=(6 * len(runs), max(5.5, 0.16 * tallest)),
                             sharey=True, squeeze=False)
    for ax, (threads, rows) in zip(axes[0], runs):
        rows = [r for r in rows if r["speedup"]]
        labels = [f"{OP_TAGS.get(r.get('op'), '')}f{r['dtype'][5:]}  " + ",".join(map(str, r["shape"][:7]))
                  for r in rows]
        colors = ["#2ca02c" if r["speedup"] >= 1 else "#d62728" for r in rows]
        ax.barh(range(len(rows)), [r["speedup"] for r in rows], color=colors)
        ax.axvline(1.0, color="black", lw=0.8)
        ax.set_xscale("log")
        ticks = [0.25, 0.5, 1, 2, 4, 8, 16]
        ax.set_xticks(ticks, [f"{t:g}x" for t in ticks])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_yticks(range(len(rows)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("speed-up over the fastest peer (log scale; a row: dtype, N,W,Cin,Cout,K,s,d)")
        ax.set_title(f"{threads} thread{'s' if threads > 1 else ''}")
    ops = sorted({r.get("op", "conv1d_transpose") for _, rows in runs for r in rows})
    fig.suptitle(f"{', '.join(ops)}: conv1dt against TF, PyTorch, JAX and NumPy (median times)")
    fig.tight_layout()


def _window_bar(ax, row, start, length, label, color, full_width):
    """One crop window of the full result, as a bar on row ``row`` from ``start`` (may be < 0)."""
    ax.add_patch(Rectangle((start, row), length, 0.7, facecolor=color, alpha=0.35,
                           edgecolor=color, linewidth=1.5))
    past = max(start + length - full_width, 0)
    if past:                                 # samples appended past the full result: zeros
        ax.add_patch(Rectangle((full_width, row), past, 0.7, facecolor="none", edgecolor=color,
                               hatch="///", linewidth=0))
    ax.text(-1.0, row + 0.35, label, ha="right", va="center", fontsize=9)


def crop_windows():
    """The full result on a number line, and the window each padding choice keeps of it."""
    m, k, s = 5, 4, 2
    x = np.arange(1.0, m + 1)
    f = np.arange(1.0, k + 1)
    full = _single(x, f, s)                  # VALID at its narrowest width: every stamp whole
    fw = len(full)
    fig, ax = plt.subplots(figsize=(9.5, 3.6))
    for o, v in enumerate(full):
        _cell(ax, o, 6, f"{v:g}", "#f2f2f2")
        ax.text(o + 0.5, 7.3, str(o), ha="center", va="center", color="#555555", fontsize=8)
    ax.text(-1.0, 6.5, "full result (VALID, L = 12)", ha="right", va="center", fontweight="bold")
    rows = [("SAME, L = 10: p = P // 2 = 1", 1, 10, PHASE_COLORS[0]),
            ("SAME, L = 9: p = 1", 1, 9, PHASE_COLORS[0]),
            ("VALID, L = 13: p = 0, one zero appended", 0, 13, PHASE_COLORS[1]),
            ("explicit (lo, hi) = (2, 1), L = 9: p = lo", 2, 9, PHASE_COLORS[2]),
            ("PyTorch padding=2, output_padding=1: L = 9", 2, 9, PHASE_COLORS[3])]
    for row, (label, start, length, color) in enumerate(rows):
        y_row = 4.8 - row
        _window_bar(ax, y_row, start, length, label, color, fw)
        # the bar's numbers are conv1dt's own result for that call
    ax.axvline(0, color="#888888", lw=0.6, ls=":")
    ax.axvline(fw, color="#888888", lw=0.6, ls=":")
    ax.set_xlim(-17, fw + 2.5)
    ax.set_ylim(-0.4, 7.8)
    ax.axis("off")
    ax.set_title(f"M = {m}, K = {k}, s = {s}: every accepted output is the window y = full[p : p + L] "
                 "(hatched: zeros past the full result)", fontsize=9)
    return fig


def many_widths():
    """s wide widths give one narrow width M: conv1d (SAME) of widths 9 and 10 both have 5 outputs."""
    s, k = 2, 4
    fig, axes = plt.subplots(2, 1, figsize=(8.5, 3.4))
    for ax, width in zip(axes, (9, 10)):
        m = -(-width // s)
        P = max((m - 1) * s + k - width, 0)
        p = P // 2
        for o in range(-p, width + P - p):
            inside = 0 <= o < width
            _cell(ax, o, 0, str(o) if inside else "0", "#f2f2f2" if inside else "white",
                  edge="#444444" if inside else "#bbbbbb")
        for i in range(m):
            start = i * s - p
            ax.annotate("", xy=(start + k, 1.25 + 0.22 * (i % 2)), xytext=(start, 1.25 + 0.22 * (i % 2)),
                        arrowprops=dict(arrowstyle="<->", color=PHASE_COLORS[i % 4], lw=1.4))
        ax.text(-p - 0.6, 0.5, f"L = {width}", ha="right", va="center", fontweight="bold")
        ax.text(width + P - p + 0.4, 0.5, f"-> M = ceil({width}/{s}) = {m} windows, "
                f"P = {P}, p = {p}", ha="left", va="center")
        ax.set_xlim(-5, 24)
        ax.set_ylim(-0.2, 1.8)
        ax.axis("off")
    axes[0].set_title(f"conv1d with K = {k}, s = {s}, SAME: two wide widths, one narrow width "
                      "(grey: padding zeros; arrows: the windows)", fontsize=9)
    return fig


def factorisation():
    """C_s = D_s T_f: the stride-1 Toeplitz matrix, every s-th row kept, and its transpose."""
    s, k = 2, 3
    f = np.array([1.0, 2.0, 3.0]).reshape(k, 1, 1)      # entry value k+1 marks tap f[k]
    L = 9
    m1 = L - k + 1                                      # stride-1 VALID: 7 outputs
    eye = np.eye(L).reshape(L, 1, L, 1).transpose(0, 2, 1, 3)[:, :, 0, :]   # L unit signals
    T = np.stack([conv1dt.conv1d(eye[j:j + 1], f, 1, "VALID")[0, :, 0] for j in range(L)], axis=1)
    D = np.eye(m1)[::s]                                 # keep rows 0, s, 2s, ...
    C = D @ T
    fig, axes = plt.subplots(1, 4, figsize=(11.5, 3.4),
                             gridspec_kw={"width_ratios": [4, 9, 9, 4]})
    ax = axes[0]
    for r in range(D.shape[0]):
        for c in range(D.shape[1]):
            _cell(ax, c, D.shape[0] - 1 - r, "1" if D[r, c] else "",
                  "#dddddd" if D[r, c] else "white", edge="#bbbbbb")
    ax.set_xlim(0, D.shape[1])
    ax.set_ylim(0, D.shape[0])
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"D_s ({D.shape[0]} x {D.shape[1]}):\nkeep every {s}nd row", fontsize=9)
    _matrix_panel(axes[1], T, f"T_f ({T.shape[0]} x {T.shape[1]}): stride 1,\nToeplitz", "row", "wide o")
    for r in range(0, m1):
        if r % s:
            axes[1].add_patch(Rectangle((0, m1 - 1 - r), L, 1, facecolor="white", alpha=0.65,
                                        edgecolor="none"))
    _matrix_panel(axes[2], C, f"C_s = D_s T_f ({C.shape[0]} x {C.shape[1]}):\nconv1d, stride {s}",
                  "narrow i", "wide o")
    _matrix_panel(axes[3], C.T, "C_s^T = T_f^T U_s:\nconv1d_transpose", "wide o", "narrow i")
    fig.suptitle("strided conv1d = stride-1 Toeplitz matrix, then every s-th row "
                 "(faded rows of T_f are the ones D_s drops); entry f_k is tap k", fontsize=9)
    fig.tight_layout()
    return fig


def animate_stamps(path, x, f, stride, interval=700):
    """A GIF, one frame per input sample: its stamp added to the full result, the running sum
    below it being conv1dt's output for the samples so far (Dumoulin and Visin's animations, in
    1-D). Written by ``conf.py`` at build time with matplotlib's ``PillowWriter``."""
    from matplotlib.animation import FuncAnimation, PillowWriter

    x = np.asarray(x, dtype=float)
    f = np.asarray(f, dtype=float)
    width = (len(x) - 1) * stride + len(f)
    fig, ax = plt.subplots(figsize=(0.55 * width + 2.5, 2.6))

    def frame(n):
        ax.clear()
        shown = np.zeros(len(x))
        shown[:n + 1] = x[:n + 1]
        total = _single(shown, f, stride)                   # conv1dt, samples 0..n
        for i in range(n + 1):
            for k in range(len(f)):
                _cell(ax, i * stride + k, 2.2 - 0.0 * i, "", "white", edge="#dddddd")
        for k in range(len(f)):                             # the newest stamp
            _cell(ax, n * stride + k, 2.2, f"{x[n] * f[k]:g}", PHASE_COLORS[n % 4])
            ax.patches[-1].set_alpha(0.45)
        for o in range(width):
            _cell(ax, o, 0.6, f"{total[o]:g}" if o < (n * stride + len(f)) else "",
                  "#f2f2f2", bold=True)
        ax.text(-0.3, 2.7, f"x[{n}] = {x[n]:g} stamps x[{n}]·f at o = {n}*{stride}",
                ha="right", va="center")
        ax.text(-0.3, 1.1, "running sum", ha="right", va="center", fontweight="bold")
        ax.set_xlim(-7.5, width + 0.5)
        ax.set_ylim(0.4, 3.4)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"f = {f.tolist()}, stride {stride}", fontsize=9)

    anim = FuncAnimation(fig, frame, frames=len(x), interval=interval)
    anim.save(path, writer=PillowWriter(fps=1000 / interval))
    plt.close(fig)


def transpose_product():
    """Slide-grade: y = C^T x drawn as a matrix times a vector, column i of C^T being the stamp of
    x[i] (large fonts; colour = which input sample, as in the scatter figure)."""
    f = np.array([1.0, 10.0, 100.0])
    x = np.array([1.0, 2.0, 3.0])
    s = 2
    L = (len(x) - 1) * s + len(f)
    CT = np.column_stack([_single(np.eye(len(x))[i], f, s) for i in range(len(x))])   # L x M
    y = _single(x, f, s)
    assert np.array_equal(CT @ x, y)
    with plt.rc_context({"font.size": 13}):
        fig, ax = plt.subplots(figsize=(8.5, 5.2))
        for o in range(L):
            for i in range(len(x)):
                v = CT[o, i]
                _cell(ax, i, L - 1 - o, f"{v:g}" if v else "", PHASE_COLORS[i] if v else "white",
                      edge="#444444" if v else "#dddddd")
                if v:
                    ax.patches[-1].set_alpha(0.4)
            _cell(ax, len(x) + 3.5, L - 1 - o, f"{y[o]:g}", "#f2f2f2", bold=True)
        for i in range(len(x)):
            _cell(ax, len(x) + 1, L - 1 - (2 + i), f"{x[i]:g}", PHASE_COLORS[i])
            ax.patches[-1].set_alpha(0.4)
        ax.text(len(x) + 0.5, L / 2 - 0.5, "·", fontsize=26, ha="center", va="center")
        ax.text(len(x) + 2.75, L / 2 - 0.5, "=", fontsize=22, ha="center", va="center")
        ax.text(1.5, L + 0.4, "C$^T$ (7 x 3)", ha="center")
        ax.text(len(x) + 1.5, L - 1.6, "x", ha="center")
        ax.text(len(x) + 4.0, L + 0.4, "y", ha="center")
        ax.set_xlim(-0.5, len(x) + 5)
        ax.set_ylim(-0.5, L + 1)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title("conv1d_transpose = C$^T$ x: column i is the filter [1, 10, 100]\n"
                     "starting at row i·s (s = 2); rows are the gathers")
    return fig
