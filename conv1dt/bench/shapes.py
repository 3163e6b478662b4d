"""The benchmark's cases: one geometry and an op, and the tables of shapes the peer table runs.

A :class:`Case` holds the geometry in the terms of :class:`conv1dt.Geometry` (wide and narrow
widths ``L``/``M``, their channels ``Cw``/``Cn``), so that one case can be run as any op of the
family. Shapes are written, read and printed in each op's own TensorFlow terms,
``N, W, Cin, Cout, K, s, d, padding[, groups]`` with ``W`` the width of the op's ``input``:

* conv1d_transpose: ``W = M``, ``Cin = Cn``, ``Cout = Cw``; the output width is ``M*s`` for SAME,
  the widest accepted for VALID (``M*s + Keff - 1``), the narrowest for explicit padding
  (``(M-1)*s + Keff - lo - hi``, what ``torch.nn.ConvTranspose1d`` gives);
* conv1d and conv1d_backprop_filter: ``W = L``, ``Cin = Cw``, ``Cout = Cn``.

``padding`` is ``SAME``, ``VALID`` or ``lo:hi`` (explicit).
"""
import argparse
import math
from typing import NamedTuple

from .libs import OPS

__all__ = ["Case", "case", "parse_shape", "SUITE", "EXTRA", "MODELS", "model_cases"]


class Case(NamedTuple):
    op: str
    n: int
    wide: int
    narrow: int
    cw: int
    cn: int
    k: int
    s: int
    d: int
    padding: object     # "SAME", "VALID" or (lo, hi)
    groups: int = 1
    source: str = ""


def case(op, n, w, cin, cout, k, s=1, d=1, padding="SAME", groups=1, source=""):
    """The :class:`Case` of ``op`` on a shape in the op's own terms; ValueError when the shape
    has no output (a conv1d input narrower than its padded filter)."""
    from conv1dt._geometry import forward_width, transposed_width_range

    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, got {op!r}")
    padding = tuple(padding) if isinstance(padding, (list, tuple)) else padding
    if op == "conv1d_transpose":
        lo, hi = transposed_width_range(w, k, s, d, padding)
        wide = w * s if padding == "SAME" else (hi if padding == "VALID" else lo)
        if wide < max(lo, 1) or wide > hi:
            raise ValueError(f"{op} {(n, w, cin, cout, k, s, d, padding)} has no output width")
        return Case(op, n, wide, w, cout, cin, k, s, d, padding, groups, source)
    narrow = forward_width(w, k, s, d, padding)
    if narrow < 1:
        raise ValueError(f"{op} {(n, w, cin, cout, k, s, d, padding)} has no output")
    return Case(op, n, w, narrow, cin, cout, k, s, d, padding, groups, source)


def op_terms(c):
    """``(N, W, Cin, Cout, K, s, d, padding, groups)`` of case ``c`` in its op's terms."""
    if c.op == "conv1d_transpose":
        return (c.n, c.narrow, c.cn, c.cw, c.k, c.s, c.d, c.padding, c.groups)
    return (c.n, c.wide, c.cw, c.cn, c.k, c.s, c.d, c.padding, c.groups)


def padding_text(padding):
    return padding if isinstance(padding, str) else f"{padding[0]}:{padding[1]}"


def label(c):
    """``'N, W, Cin, Cout, K, s, d, PAD'`` (and ``', g=G'`` with groups) in the op's terms."""
    *ints, padding, groups = op_terms(c)
    text = ", ".join(map(str, ints)) + ", " + padding_text(padding)
    return text + (f", g={groups}" if groups > 1 else "")


def as_op(c, op):
    """The same geometry run as ``op``."""
    return c._replace(op=op)


def pad_before(c):
    from conv1dt._geometry import pad_before as pb

    return pb(c.wide, c.narrow, c.k, c.s, c.d, c.padding)


def geometry(c):
    """The :class:`conv1dt._geometry.Geometry` of case ``c``."""
    from conv1dt._geometry import Geometry

    return Geometry(c.n, c.wide, c.narrow, c.cw, c.cn, c.k, c.s, c.d, pad_before(c), c.groups)


def job(c, dtype, threads):
    """The plain dict a library runner takes (``conv1dt.bench.libs``)."""
    return dict(op=c.op, n=c.n, wide=c.wide, narrow=c.narrow, cw=c.cw, cn=c.cn, k=c.k, s=c.s,
                d=c.d, pb=pad_before(c), padding=c.padding if isinstance(c.padding, str)
                else list(c.padding), groups=c.groups, dtype=dtype, threads=threads)


def links(c):
    """The number of pairs ``(i, k)`` whose wide sample ``o = i*s + k*d - pad_before`` lies inside
    the wide signal: ``M*K`` less the taps that fall on padding. For each tap ``k``, ``i`` runs
    from ``ceil((pb - k*d) / s)`` to ``floor((pb - k*d + L - 1) / s)``, within ``0 .. M-1``."""
    from conv1dt._geometry import links_on_signal

    return links_on_signal(c.wide, c.narrow, c.k, c.s, c.d, pad_before(c))


def flops(c):
    """``2 N links Cw Cn / G`` (:func:`links`): the multiply-adds every op of the family does,
    the same for the three (``2 N M K Cw Cn / G`` when no tap falls on padding)."""
    return 2.0 * c.n * links(c) * c.cw * c.cn / c.groups


def wide_touched(c):
    """Samples of the wide signal the op must touch: all ``L`` for conv1d_transpose (it writes
    them, zeros included); for conv1d and the filter gradient the ones some window reads, at
    most ``min(L, M*K, ((M-1)*s + (K-1)*d) / gcd(s, d) + 1)`` (the windows' samples ``i*s + k*d``
    lie on multiples of ``gcd(s, d)``; with ``K*d <= s`` they do not overlap)."""
    if c.op == "conv1d_transpose":
        return c.wide
    span = ((c.narrow - 1) * c.s + (c.k - 1) * c.d) // math.gcd(c.s, c.d) + 1
    return min(c.wide, c.narrow * c.k, span)


def nbytes(c, itemsize):
    """Bytes the op must read and write at least: the narrow signal, the filter and the wide
    signal's touched samples (:func:`wide_touched`), once each."""
    return itemsize * (c.n * wide_touched(c) * c.cw + c.n * c.narrow * c.cn
                       + c.k * c.cw // c.groups * c.cn)


def footprint(c, itemsize):
    """Bytes of both operands and the result, whole: what a call of case ``c`` holds in memory."""
    return itemsize * (c.n * c.wide * c.cw + c.n * c.narrow * c.cn + c.k * c.cw // c.groups * c.cn)


def parse_padding(text):
    text = text.strip().upper()
    if text in ("SAME", "VALID"):
        return text
    try:
        lo, hi = (int(v) for v in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"padding is SAME, VALID or lo:hi, got {text!r}") from None
    return lo, hi


def parse_shape(text):
    """``N,W,Cin,Cout,K,stride,dilation,PADDING[,groups]`` -> a tuple in the op's terms."""
    parts = text.split(",")
    if len(parts) not in (8, 9):
        raise argparse.ArgumentTypeError("a shape is N,W,Cin,Cout,K,stride,dilation,PADDING[,groups]")
    try:
        ints = [int(v) for v in parts[:7]]
        groups = int(parts[8]) if len(parts) == 9 else 1
    except ValueError:
        raise argparse.ArgumentTypeError(f"N,W,Cin,Cout,K,stride,dilation,groups are integers: {text!r}") from None
    shape = (*ints, parse_padding(parts[7]))
    return shape + ((groups,) if len(parts) == 9 else ())


# The suite of the performance issue, as conv1d_transpose shapes (N, M, Cin, Cout, K, s, d, pad);
# conv1d and the filter gradient run the same geometries in their own terms.
SUITE = [
    (4, 256, 512, 256, 16, 8, 1, "SAME"),
    (4, 4096, 128, 64, 4, 2, 1, "SAME"),
    (1, 262144, 1, 1, 64, 4, 1, "SAME"),
    (8, 65536, 4, 4, 8, 2, 1, "SAME"),
    (16, 1024, 256, 256, 3, 1, 1, "SAME"),
    (8, 4096, 64, 64, 3, 1, 4, "SAME"),
    (32, 128, 256, 128, 8, 4, 1, "VALID"),
    (64, 512, 32, 32, 5, 2, 1, "SAME"),
    (1, 16, 1, 1, 3, 2, 1, "SAME"),
]
# overlap-add synthesis (huge filter, huge stride, many channels to one), one channel to many,
# a very long signal
EXTRA = [
    (1, 2048, 513, 1, 1024, 256, 1, "SAME"),
    (4, 8192, 1, 64, 9, 2, 1, "SAME"),
    (1, 4194304, 1, 1, 4, 2, 1, "SAME"),
]


def suite_cases(ops, extra=False):
    """The suite's geometries (and the extra ones) run as each of ``ops``."""
    base = [case("conv1d_transpose", *shape) for shape in SUITE + (EXTRA if extra else [])]
    return [as_op(c, op) for op in ops for c in base]


# Real-model shapes: (op, source, N, W, Cin, Cout, K, s, d, padding, groups), in the op's terms.
# Batch and width are one training step or one inference call of the model as published; a
# weight gradient of a transposed convolution is conv1d_backprop_filter with the roles swapped
# (its upsampled output as ``input``, its narrow input as ``out_backprop``).
HIFI = "HiFi-GAN V1 generator (Kong et al. 2020), upsampling ConvTranspose1d, padding (K-s)/2"
MELGAN = "MelGAN generator (Kumar et al. 2019), upsampling ConvTranspose1d, one 4.6 s clip"
ENCODEC = "EnCodec 24 kHz SEANet decoder (Defossez et al. 2022), ratios 8,5,4,2, 1 s"
DAC = "Descript Audio Codec decoder (Kumar et al. 2023), 1536 channels, rates 8,8,4,2, 1 s"
TASNET = "Conv-TasNet (Luo & Mesgarani 2019), N=512 filters of L=16 samples, 4 s at 8 kHz"
DEMUCS = "Demucs v2 (Defossez et al. 2019), K=8 s=4, 44.1 kHz stereo, 4 sources"
UNET = "1-D U-Net for time series (e.g. U-Time, Perslev et al. 2019): up-convolution K=2 s=2"
STFT = "STFT as a convolution (e.g. nnAudio, Cheuk et al. 2020): n_fft=512, hop 128, 257 bins x re/im"
OOBLECK = "Stable Audio Open VAE (Oobleck) decoder/encoder (Evans et al. 2024), batch-1 inference"
FIR = "polyphase FIR resampling (scipy.signal.resample_poly / upfirdn), one channel"
OLA = "overlap-add synthesis of a learned filterbank, few hundred frames, long frames"
DEPTHWISE = "depthwise conv (groups=C)"
WAV2VEC = "wav2vec 2.0 feature encoder (Baevski et al. 2020), 1 s at 16 kHz"
SINCNET = "SincNet first layer (Ravanelli & Bengio 2018), 80 filters of 251 taps, 200 ms"
TCN = "TCN (Bai et al. 2018), dilated causal conv, 64 channels"
WAVENET = "WaveNet (van den Oord et al. 2016) dilated causal conv, 64 -> 2x64, d=512, 1 s at 16 kHz"
QUARTZ = "QuartzNet 5x5 (Kriman et al. 2020) depthwise time-channel separable conv"
WHISPER = "Whisper (Radford et al. 2022) audio encoder stem, 30 s of 80 mel bins"
INCEPTION = "InceptionTime (Ismail Fawaz et al. 2020), 32 filters, kernel 39"

MODELS = [
    # conv1d_transpose: (N, M, Cin, Cout, K, s, d, padding, groups)
    ("conv1d_transpose", HIFI + ", stage 1", 16, 32, 512, 256, 16, 8, 1, (4, 4), 1),
    ("conv1d_transpose", HIFI + ", stage 2", 8, 256, 256, 128, 16, 8, 1, (4, 4), 1),
    ("conv1d_transpose", HIFI + ", stage 3", 16, 2048, 128, 64, 4, 2, 1, (1, 1), 1),
    ("conv1d_transpose", HIFI + ", stage 4", 16, 4096, 64, 32, 4, 2, 1, (1, 1), 1),
    ("conv1d_transpose", MELGAN + ", stage 1", 1, 400, 512, 256, 16, 8, 1, (4, 4), 1),
    ("conv1d_transpose", ENCODEC + ", stage 2", 1, 600, 256, 128, 10, 5, 1, "VALID", 1),
    ("conv1d_transpose", ENCODEC + ", stage 3", 1, 3000, 128, 64, 8, 4, 1, "VALID", 1),
    ("conv1d_transpose", DAC + ", stage 1", 1, 86, 1536, 768, 16, 8, 1, (4, 4), 1),
    ("conv1d_transpose", TASNET + ", decoder (512 -> 1)", 4, 3999, 512, 1, 16, 8, 1, "VALID", 1),
    ("conv1d_transpose", DEMUCS + ", last decoder layer (64 -> 8)", 1, 11025, 64, 8, 8, 4, 1, "VALID", 1),
    ("conv1d_transpose", DEMUCS + ", decoder layer 128 -> 64", 1, 2756, 128, 64, 8, 4, 1, "VALID", 1),
    ("conv1d_transpose", UNET + ", 128 -> 64", 32, 512, 128, 64, 2, 2, 1, "VALID", 1),
    ("conv1d_transpose", DEPTHWISE + ": input gradient of Conv-TasNet's depthwise conv, d=8",
     4, 4000, 512, 512, 3, 1, 8, "SAME", 512),
    ("conv1d_transpose", STFT + ": inverse STFT (514 -> 1)", 1, 1251, 514, 1, 512, 128, 1, "VALID", 1),
    ("conv1d_transpose", OLA + " (513 -> 1, K=1024, s=256)", 1, 2048, 513, 1, 1024, 256, 1, "SAME", 1),
    ("conv1d_transpose", OLA + " (32 -> 1, K=4096, s=1024)", 1, 256, 32, 1, 4096, 1024, 1, "SAME", 1),
    ("conv1d_transpose", OOBLECK + ", decoder stage 1 (2048 -> 1024, K=16, s=8), 1.5 s",
     1, 32, 2048, 1024, 16, 8, 1, (4, 4), 1),
    ("conv1d_transpose", FIR + ": interpolation by 4, 256 taps", 1, 65536, 1, 1, 256, 4, 1, "SAME", 1),
    ("conv1d_transpose", FIR + ": interpolation by 8, 1024 taps, stereo (groups=2)",
     1, 16384, 2, 2, 1024, 8, 1, "SAME", 2),
    # conv1d: (N, L, Cin, Cout, K, s, d, padding, groups)
    ("conv1d", STFT + ": analysis (1 -> 514)", 16, 16000, 1, 514, 512, 128, 1, "VALID", 1),
    ("conv1d", TASNET + ", encoder (1 -> 512)", 4, 32000, 1, 512, 16, 8, 1, "VALID", 1),
    ("conv1d", TASNET + ", TCN depthwise conv, d=8", 4, 4000, 512, 512, 3, 1, 8, "SAME", 512),
    ("conv1d", TASNET + ", TCN 1x1 bottleneck", 4, 4000, 512, 128, 1, 1, 1, "SAME", 1),
    ("conv1d", ENCODEC + ", encoder stage 1 (32 -> 64, K=4, s=2)", 1, 24000, 32, 64, 4, 2, 1, "VALID", 1),
    ("conv1d", ENCODEC + ", encoder stage 4 (256 -> 512, K=16, s=8)", 1, 600, 256, 512, 16, 8, 1, "VALID", 1),
    ("conv1d", HIFI + ": resblock conv K=7, d=3", 1, 8192, 128, 128, 7, 1, 3, "SAME", 1),
    ("conv1d", WAV2VEC + ", layer 1 (1 -> 512, K=10, s=5)", 4, 16000, 1, 512, 10, 5, 1, "VALID", 1),
    ("conv1d", WAV2VEC + ", layer 2 (512 -> 512, K=3, s=2)", 1, 3199, 512, 512, 3, 2, 1, "VALID", 1),
    ("conv1d", DEMUCS + ", encoder layer 1 (2 -> 64)", 1, 88200, 2, 64, 8, 4, 1, "VALID", 1),
    ("conv1d", FIR + ": decimation by 8, 1024 taps", 1, 262144, 1, 1, 1024, 8, 1, "SAME", 1),
    ("conv1d", FIR + ": decimation by 2, 64 taps, batch 8", 8, 65536, 1, 1, 64, 2, 1, "SAME", 1),
    ("conv1d", SINCNET, 8, 3200, 1, 80, 251, 1, 1, "VALID", 1),
    ("conv1d", TCN + ", K=3, d=8", 16, 1024, 64, 64, 3, 1, 8, (16, 0), 1),
    ("conv1d", WAVENET, 1, 16000, 64, 128, 2, 1, 512, (512, 0), 1),
    ("conv1d", QUARTZ + ", K=33, 256 channels", 8, 800, 256, 256, 33, 1, 1, "SAME", 256),
    ("conv1d", WHISPER + ", conv 2 (K=3, s=2), base", 1, 3000, 512, 512, 3, 2, 1, (1, 1), 1),
    ("conv1d", INCEPTION, 32, 512, 32, 32, 39, 1, 1, "SAME", 1),
    ("conv1d", OOBLECK + ", encoder stage (512 -> 1024, K=16, s=8)", 1, 1024, 512, 1024, 16, 8, 1, (4, 4), 1),
    ("conv1d", OLA + ": framing analysis (1 -> 32, K=4096, s=1024)", 1, 307200, 1, 32, 4096, 1024, 1, "VALID", 1),
    # conv1d_backprop_filter: (N, L, Cin, Cout, K, s, d, padding, groups) of the forward conv1d
    ("conv1d_backprop_filter", HIFI + ", stage 1 weight gradient", 16, 256, 256, 512, 16, 8, 1, (4, 4), 1),
    ("conv1d_backprop_filter", HIFI + ", stage 2 weight gradient", 8, 2048, 128, 256, 16, 8, 1, (4, 4), 1),
    ("conv1d_backprop_filter", HIFI + ", resblock conv K=7, d=3", 4, 2048, 128, 128, 7, 1, 3, "SAME", 1),
    ("conv1d_backprop_filter", TASNET + ", encoder (1 -> 512)", 4, 32000, 1, 512, 16, 8, 1, "VALID", 1),
    ("conv1d_backprop_filter", TASNET + ", TCN depthwise conv, d=8", 4, 4000, 512, 512, 3, 1, 8, "SAME", 512),
    ("conv1d_backprop_filter", TASNET + ", TCN 1x1 bottleneck", 4, 4000, 512, 128, 1, 1, 1, "SAME", 1),
    ("conv1d_backprop_filter", STFT + ": a learned front-end (1 -> 514)", 16, 16000, 1, 514, 512, 128, 1, "VALID", 1),
    ("conv1d_backprop_filter", SINCNET, 8, 3200, 1, 80, 251, 1, 1, "VALID", 1),
    ("conv1d_backprop_filter", WAV2VEC + ", layer 1 (1 -> 512, K=10, s=5)", 4, 16000, 1, 512, 10, 5, 1, "VALID", 1),
    ("conv1d_backprop_filter", ENCODEC + ", encoder stage 4 (256 -> 512)", 4, 600, 256, 512, 16, 8, 1, "VALID", 1),
    ("conv1d_backprop_filter", DEMUCS + ", encoder layer 1 (2 -> 64)", 4, 44100, 2, 64, 8, 4, 1, "VALID", 1),
    ("conv1d_backprop_filter", TCN + ", K=3, d=8", 16, 1024, 64, 64, 3, 1, 8, (16, 0), 1),
    ("conv1d_backprop_filter", WAVENET, 4, 8000, 64, 128, 2, 1, 512, (512, 0), 1),
    ("conv1d_backprop_filter", QUARTZ + ", K=33, 256 channels", 8, 800, 256, 256, 33, 1, 1, "SAME", 256),
    ("conv1d_backprop_filter", WHISPER + ", conv 1 (80 -> 384, K=3), tiny", 4, 3000, 80, 384, 3, 1, 1, (1, 1), 1),
    ("conv1d_backprop_filter", INCEPTION, 32, 512, 32, 32, 39, 1, 1, "SAME", 1),
    ("conv1d_backprop_filter", UNET + ", its weight gradient (64 -> 128)", 32, 1024, 64, 128, 2, 2, 1, "VALID", 1),
    ("conv1d_backprop_filter", "adaptive FIR filter (LMS-style gradient), one channel, 1024 taps",
     1, 262144, 1, 1, 1024, 1, 1, "VALID", 1),
]


def model_cases(ops):
    """The real-model cases of ``ops``, each with its source."""
    return [case(op, *shape, source=source) for op, source, *shape in MODELS if op in ops]
