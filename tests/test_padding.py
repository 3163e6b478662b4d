"""Output-size arithmetic, held to brute force over the forward convolution's windows."""
import pytest

from conv1dt import _geometry


def brute_forward_width(wide, k, s, d, padding):
    """Count forward windows directly: SAME starts a window every s samples while one fits the
    signal's ceil(L/s) positions; VALID needs the whole dilated window inside the signal."""
    keff = (k - 1) * d + 1
    if padding == "SAME":
        return len(range(0, wide, s))
    return len([start for start in range(0, wide, s) if start + keff <= wide])


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_forward_width_is_the_window_count(padding):
    for wide in range(0, 40):
        for k in range(1, 6):
            for s in range(1, 5):
                for d in range(1, 4):
                    assert _geometry.forward_width(wide, k, s, d, padding) == \
                        brute_forward_width(wide, k, s, d, padding), (wide, k, s, d)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_transposed_range_is_the_preimage_of_forward_width(padding):
    """The accepted widths are exactly the L >= 0 whose conv1d has width M (TF's check)."""
    for m in range(0, 8):
        for k in range(1, 6):
            for s in range(1, 5):
                for d in range(1, 4):
                    keff = (k - 1) * d + 1
                    # VALID: TF also refuses an L whose forward width would be negative.
                    pre = [L for L in range(0, 80)
                           if brute_forward_width(L, k, s, d, padding) == m
                           and (padding == "SAME" or (L - keff + s) // s >= 0)]
                    lo, hi = _geometry.transposed_width_range(m, k, s, d, padding)
                    assert pre == list(range(lo, hi + 1)), (m, k, s, d, pre, lo, hi)


def test_same_padding_splits_smaller_half_first():
    for wide in range(1, 30):
        for k in range(1, 6):
            for s in range(1, 4):
                m = -(-wide // s)
                total = max((m - 1) * s + k - wide, 0)
                before = _geometry.pad_before(wide, m, k, s, 1, "SAME")
                after = total - before
                assert before == total // 2 and after - before in (0, 1)


def test_valid_pads_nothing():
    assert _geometry.pad_before(12, 5, 3, 2, 1, "VALID") == 0


def brute_explicit_width(wide, k, s, d, lo, hi):
    """Windows of span Keff starting every s samples inside the signal padded by lo and hi."""
    keff = (k - 1) * d + 1
    return len([start for start in range(0, wide + lo + hi, s) if start + keff <= wide + lo + hi])


PAIRS = [(0, 0), (1, 0), (0, 1), (2, 3), (5, 1), (0, 7)]


def test_explicit_forward_width_is_the_window_count():
    for lo, hi in PAIRS:
        for wide in range(0, 30):
            for k in range(1, 5):
                for s in range(1, 4):
                    for d in range(1, 3):
                        assert _geometry.forward_width(wide, k, s, d, (lo, hi)) == \
                            brute_explicit_width(wide, k, s, d, lo, hi), (wide, k, s, d, lo, hi)


def test_explicit_transposed_range_is_the_preimage_of_forward_width():
    """As for VALID: the widths L >= 0 whose padded conv1d has width M, where that width is not
    negative (TensorFlow refuses a negative one)."""
    for lo, hi in PAIRS:
        for m in range(0, 6):
            for k in range(1, 5):
                for s in range(1, 4):
                    for d in range(1, 3):
                        keff = (k - 1) * d + 1
                        pre = [L for L in range(0, 60)
                               if brute_explicit_width(L, k, s, d, lo, hi) == m
                               and (L + lo + hi - keff + s) // s >= 0]
                        a, b = _geometry.transposed_width_range(m, k, s, d, (lo, hi))
                        assert pre == list(range(a, b + 1)), (m, k, s, d, lo, hi, pre, a, b)


def test_valid_is_the_explicit_pair_zero_zero():
    for wide in range(0, 20):
        for k, s, d in [(1, 1, 1), (3, 2, 1), (4, 3, 2)]:
            m = _geometry.forward_width(wide, k, s, d, "VALID")
            assert m == _geometry.forward_width(wide, k, s, d, (0, 0))
            assert _geometry.transposed_width_range(m, k, s, d, "VALID") == \
                _geometry.transposed_width_range(m, k, s, d, (0, 0))


def test_explicit_pads_before_and_after():
    """pad_before is lo; at the narrowest accepted width the trailing zeros are hi."""
    for lo, hi in PAIRS:
        for m, k, s, d in [(4, 3, 2, 1), (1, 5, 1, 2), (6, 2, 3, 1)]:
            narrowest = _geometry.transposed_width_range(m, k, s, d, (lo, hi))[0]
            if narrowest == 0:
                continue
            assert _geometry.pad_before(narrowest, m, k, s, d, (lo, hi)) == lo
            keff = _geometry.effective_filter_width(k, d)
            assert (m - 1) * s + keff - narrowest - lo == hi
    assert _geometry.describe_padding((1, 2)) == "explicit padding (1, 2)"
    assert _geometry.describe_padding("SAME") == "SAME padding"
