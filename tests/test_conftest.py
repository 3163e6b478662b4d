"""The test suite's own oracles (conftest.py) take every padding form the API takes, and refuse
what they do not understand rather than compute something else."""
import numpy as np
import pytest

import conv1dt
from conftest import geometry, oracle, zero_insertion


@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_explicit_padding_reaches_the_oracles(data_format):
    """Explicit padding was silently taken as pad_before = 0 by conftest.geometry."""
    rng = np.random.default_rng(8)
    n, m, cin, cout, k, s, lo, hi = 2, 9, 3, 2, 4, 2, 3, 1
    wide = (m - 1) * s + k - lo - hi
    x = rng.standard_normal((n, m, cin) if data_format == "NWC" else (n, cin, m))
    f = rng.standard_normal((k, cout, cin))
    shape = [n, wide, cout] if data_format == "NWC" else [n, cout, wide]
    pairs = [[0, 0], [lo, hi], [0, 0]] if data_format == "NWC" else [[0, 0], [0, 0], [lo, hi]]
    assert geometry(x, f, shape, s, 1, pairs, data_format).pad_before == lo
    assert geometry(x, f, shape, s, 1, (lo, hi), data_format).pad_before == lo
    y = conv1dt.conv1d_transpose(x, f, shape, s, pairs, data_format)
    for want in (oracle(x, f, shape, s, 1, pairs, data_format)[0],
                 zero_insertion(x, f, shape, s, 1, pairs, data_format)):
        np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)  # 12 terms in float64


def test_an_unknown_padding_is_refused():
    x, f = np.zeros((1, 4, 1)), np.zeros((2, 1, 1))
    with pytest.raises(ValueError, match="padding"):
        geometry(x, f, [1, 8, 1], 2, 1, "same", "NWC")
