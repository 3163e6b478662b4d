"""A random search over everything a caller can vary: every call either matches the oracle or is
refused cleanly (ValueError/TypeError naming an argument), and never modifies its inputs.

Validity is decided here independently of conv1dt's own arithmetic: an output width is valid
exactly when a forward conv1d of that width, counted window by window, gives the input width.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import conv1dt
from conftest import assert_matches, gamma, oracle, terms_per_output

ARG_NAMES = ("input", "filters", "output_shape", "strides", "dilations", "padding", "data_format")


def forward_width(wide, k, s, d, padding):
    keff = (k - 1) * d + 1
    if padding == "SAME":
        return len(range(0, wide, s))
    if wide - keff + s < 0:  # TF's "negative output size"
        return None
    return len([start for start in range(0, wide, s) if start + keff <= wide])


VIEWS = {
    "contiguous": lambda a: a,
    "fortran": np.asfortranarray,
    "reversed": lambda a: np.ascontiguousarray(a[::-1, ::-1, ::-1])[::-1, ::-1, ::-1],
    "strided": lambda a: np.repeat(a, 2, axis=1)[:, ::2, :],
    "bigendian": lambda a: a.astype(a.dtype.newbyteorder(">")),
    "readonly": lambda a: np.lib.stride_tricks.as_strided(a, a.shape, a.strides, writeable=False),
}


@st.composite
def calls(draw):
    padding = draw(st.sampled_from(["SAME", "VALID"] * 5 + ["same", "FULL"]))
    data_format = draw(st.sampled_from(["NWC", "NCW"] * 5 + ["NHWC"]))
    dtype = draw(st.sampled_from(["float16"] + ["float32", "float64"] * 4 + ["int32", "bool"]))
    n, m = draw(st.integers(0, 3)), draw(st.integers(0, 40))
    cin, cout, k = draw(st.integers(1, 20)), draw(st.integers(1, 40)), draw(st.integers(1, 12))
    s = draw(st.sampled_from([1, 2, 3, 4, 7, 16]))
    d = draw(st.sampled_from([1, 1, 2, 3]))
    limit = m * s + (k - 1) * d + 2
    pad_name = padding.upper() if padding in ("SAME", "VALID", "same") else "SAME"
    fits = [L for L in range(limit + 1) if forward_width(L, k, s, d, pad_name) == m]
    if fits and draw(st.integers(0, 3)):  # mostly widths that fit, some that do not
        wide = draw(st.sampled_from(fits))
    else:
        wide = draw(st.integers(0, limit))
    stride_form = draw(st.sampled_from(["int", "list1", "list3"] * 3 + ["bad3", "zero"]))
    view = draw(st.sampled_from(sorted(VIEWS)))
    f_cin = cin if draw(st.integers(0, 19)) else cin + 1
    o_cout = cout if draw(st.integers(0, 19)) else cout + 1
    o_n = n if draw(st.integers(0, 19)) else n + 1
    seed = draw(st.integers(0, 2**32 - 1))
    return dict(padding=padding, data_format=data_format, dtype=dtype, n=n, m=m, cin=cin, cout=cout,
                k=k, s=s, d=d, wide=wide, stride_form=stride_form, view=view, f_cin=f_cin,
                o_cout=o_cout, o_n=o_n, seed=seed)


def run_case(c, outcomes=None):
    rng = np.random.default_rng(c["seed"])
    ncw = c["data_format"] == "NCW"
    xshape = (c["n"], c["cin"], c["m"]) if ncw else (c["n"], c["m"], c["cin"])
    x = VIEWS[c["view"]](rng.standard_normal(xshape).astype(c["dtype"]))
    f = VIEWS[c["view"]](rng.standard_normal((c["k"], c["cout"], c["f_cin"])).astype(c["dtype"]))
    out = [c["o_n"], c["o_cout"], c["wide"]] if ncw else [c["o_n"], c["wide"], c["o_cout"]]
    w_pos = 2 if ncw else 1
    strides = {"int": c["s"], "list1": [c["s"]], "zero": 0,
               "list3": [1, 1, c["s"]] if ncw else [1, c["s"], 1],
               "bad3": [c["s"], 1, 1]}[c["stride_form"]]
    x0, f0 = x.copy(), f.copy()

    fw = forward_width(c["wide"], c["k"], c["s"], c["d"], c["padding"].upper())
    valid = (c["padding"] in ("SAME", "VALID") and c["data_format"] in ("NWC", "NCW")
             and c["dtype"].startswith("float") and c["f_cin"] == c["cin"] and c["o_cout"] == c["cout"]
             and c["o_n"] == c["n"] and fw == c["m"]
             and (c["stride_form"] in ("int", "list1", "list3") or (c["stride_form"] == "bad3" and c["s"] == 1)))
    try:
        y = conv1dt.conv1d_transpose(x, f, out, strides, c["padding"], c["data_format"], c["d"])
    except (ValueError, TypeError) as err:
        if outcomes is not None:
            outcomes["refused"] += 1
        assert not valid, f"refused a valid call: {err}"
        assert any(name in str(err) for name in ARG_NAMES), str(err)
        if not c["dtype"].startswith("float") and c["padding"] in ("SAME", "VALID") \
                and c["data_format"] in ("NWC", "NCW") and c["stride_form"] in ("int", "list1", "list3"):
            assert isinstance(err, TypeError)
    else:
        if outcomes is not None:
            outcomes["computed"] += 1
        assert valid, "accepted an invalid call"
        assert y.shape == tuple(out) and y.dtype == np.dtype(c["dtype"]).newbyteorder("=")
        y64, bound = oracle(x, f, out, c["s"], c["d"], c["padding"], c["data_format"])
        n_terms = terms_per_output(f.shape, c["s"], c["d"])
        if c["dtype"] == "float16":
            # computed in float32 (error <= gamma_n(float32) * bound), then rounded once to
            # float16 (relative error <= 2**-11, or 2**-25 absolute among the subnormals)
            g32 = gamma(n_terms, np.float32) + gamma(n_terms, np.float64)
            tol = g32 * bound + 2.0**-11 * (np.abs(y64) + g32 * bound) + 2.0**-25
            err = np.abs(y.astype(np.float64) - y64)
            assert (err <= tol).all(), (str(c), float((err - tol).max()))
        else:
            assert_matches(y, y64, bound, n_terms, np.dtype(c["dtype"]), str(c))
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(f, f0)


def test_fuzz_searched_both_sides():
    """400 random calls, each right or refused as TF would; and the search exercised both
    outcomes substantially. The outcomes are counted by this test alone (they were module state
    filled by another test, so this check failed when run by itself or first)."""
    outcomes = {"computed": 0, "refused": 0}

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(calls())
    def search(c):
        run_case(c, outcomes)

    search()
    # each side at least 30 of 400: the search is random, and computed calls ranged from 58 to
    # 109 in six runs (a bar of 60 failed about one run in six)
    assert outcomes["computed"] >= 30 and outcomes["refused"] >= 30, outcomes


@pytest.mark.slow
@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls())
def test_fuzz_thousands(c):
    run_case(c)
