"""Every refusal: the exception type, and a message naming the argument the user must fix."""
import numpy as np
import pytest

import conv1dt

X = np.zeros((2, 5, 3), dtype=np.float32)      # NWC: N=2, W=5, Cin=3
F = np.zeros((4, 6, 3), dtype=np.float32)      # K=4, Cout=6, Cin=3
OK = dict(input=X, filters=F, output_shape=[2, 10, 6], strides=2)  # SAME accepts widths 9..10


def call(**overrides):
    kwargs = dict(OK)
    kwargs.update(overrides)
    return conv1dt.conv1d_transpose(**kwargs)


def test_the_baseline_call_is_valid():
    assert call().shape == (2, 10, 6)


VALUE_ERRORS = [
    # wrong rank
    (dict(input=np.zeros((5, 3), np.float32)), r"input must be 3-D"),
    (dict(input=np.zeros((1, 2, 5, 3), np.float32)), r"input must be 3-D"),
    (dict(filters=np.zeros((4, 6), np.float32)), r"filters must be 3-D"),
    (dict(input=np.float32(1.0)), r"input must be 3-D"),
    # channels, batch
    (dict(filters=np.zeros((4, 6, 2), np.float32)), r"filters\.shape\[2\] \(in_channels\) is 2, but input has 3"),
    (dict(output_shape=[3, 10, 6]), r"output_shape\[0\] is 3, but input has batch size 2"),
    (dict(output_shape=[2, 10, 5]), r"output_shape\[2\] is 5, but filters\.shape\[1\] \(output channels\) is 6"),
    (dict(filters=np.zeros((0, 6, 3), np.float32)), r"filters must have at least one tap"),
    # width out of range, both sides, both paddings
    (dict(output_shape=[2, 8, 6]), r"output_shape\[1\] is 8, but an input of width 5 with stride 2.*SAME padding gives widths 9\.\.10"),
    (dict(output_shape=[2, 11, 6]), r"output_shape\[1\] is 11.*gives widths 9\.\.10"),
    (dict(output_shape=[2, 11, 6], padding="VALID"), r"output_shape\[1\] is 11.*VALID padding gives widths 12\.\.13"),
    (dict(output_shape=[2, 14, 6], padding="VALID"), r"output_shape\[1\] is 14.*widths 12\.\.13"),
    # negative, non-integer, wrong-length output_shape
    (dict(output_shape=[2, -10, 6]), r"output_shape\[1\] must be non-negative, got -10"),
    (dict(output_shape=[-2, 10, 6]), r"output_shape\[0\] must be non-negative"),
    (dict(output_shape=[2, 10.0, 6]), r"output_shape\[1\] must be an integer"),
    (dict(output_shape=[2, "10", 6]), r"output_shape\[1\] must be an integer"),
    (dict(output_shape=[2, True, 6]), r"output_shape\[1\] must be an integer"),
    (dict(output_shape=np.array([2.0, 10.0, 6.0])), r"output_shape must hold integers"),
    (dict(output_shape=[2, 10]), r"output_shape must have 3 elements, got 2"),
    (dict(output_shape=[2, 1, 10, 6]), r"output_shape must have 3 elements, got 4"),
    (dict(output_shape=10), r"output_shape must be a sequence of 3 ints"),
    (dict(output_shape=None), r"output_shape must be a sequence of 3 ints"),
    # padding and data_format
    (dict(padding="same"), r"padding must be 'SAME' or 'VALID', got 'same'"),
    (dict(padding="FULL"), r"padding must be 'SAME' or 'VALID'"),
    (dict(padding=None), r"padding must be 'SAME' or 'VALID'"),
    (dict(padding=1), r"padding must be 'SAME' or 'VALID'"),
    (dict(data_format="NHWC"), r"data_format must be 'NWC' or 'NCW', got 'NHWC'"),
    (dict(data_format="nwc"), r"data_format must be 'NWC' or 'NCW'"),
    (dict(data_format=2), r"data_format must be 'NWC' or 'NCW'"),
    # strides and dilations
    (dict(strides=0), r"strides must be positive, got 0"),
    (dict(strides=-2), r"strides must be positive, got -2"),
    (dict(strides=2.0), r"strides must be an int or a list of 1 or 3 ints"),
    (dict(strides=True), r"strides must be an integer"),
    (dict(strides="2"), r"strides\[0\] must be an integer"),
    (dict(strides=[1, 2]), r"strides must be an int or a list of 1 or 3 ints, got length 2"),
    (dict(strides=[1, 1, 2, 1]), r"strides must be an int or a list of 1 or 3 ints, got length 4"),
    (dict(strides=[2, 2, 1]), r"strides must be 1 in the batch and channel dimensions"),
    (dict(strides=[1, 2, 2]), r"strides must be 1 in the batch and channel dimensions"),
    (dict(strides=[1, 1, 2]), r"strides must be 1 in the batch and channel dimensions for data_format='NWC'"),
    (dict(strides=[1, 0, 1]), r"strides must be positive, got 0"),
    (dict(strides=[1.0]), r"strides\[0\] must be an integer"),
    (dict(dilations=0), r"dilations must be positive, got 0"),
    (dict(dilations=[2, 1, 1]), r"dilations must be 1 in the batch and channel dimensions"),
    (dict(dilations=[1, 1]), r"dilations must be an int or a list of 1 or 3 ints"),
    (dict(dilations=1.5), r"dilations must be an int or a list of 1 or 3 ints"),
    # unreadable arrays
    (dict(input=[[[1.0, 2.0], [3.0]]]), r"input could not be read as an array"),
]


@pytest.mark.parametrize("overrides,message", VALUE_ERRORS, ids=[m for _, m in VALUE_ERRORS])
def test_value_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        call(**overrides)


def test_ncw_strides_use_the_last_position():
    x = np.zeros((2, 3, 5), np.float32)
    assert conv1dt.conv1d_transpose(x, F, [2, 6, 10], [1, 1, 2], data_format="NCW").shape == (2, 6, 10)
    with pytest.raises(ValueError, match=r"strides must be 1 in the batch and channel dimensions for data_format='NCW'"):
        conv1dt.conv1d_transpose(x, F, [2, 6, 10], [1, 2, 1], data_format="NCW")


def test_ncw_messages_index_the_ncw_axes():
    x = np.zeros((2, 3, 5), np.float32)
    with pytest.raises(ValueError, match=r"output_shape\[2\] is 8"):
        conv1dt.conv1d_transpose(x, F, [2, 6, 8], 2, data_format="NCW")
    with pytest.raises(ValueError, match=r"output_shape\[1\] is 5, but filters"):
        conv1dt.conv1d_transpose(x, F, [2, 5, 10], 2, data_format="NCW")
    with pytest.raises(ValueError, match=r"input has 2 channels \(input\.shape\[1\]"):
        conv1dt.conv1d_transpose(np.zeros((2, 2, 5), np.float32), F, [2, 6, 10], 2, data_format="NCW")


def test_ncw_with_one_tap_still_checks_channels():
    """TF accepts a mismatched output_shape channel count here; we refuse it."""
    x = np.zeros((1, 3, 4), np.float32)
    f = np.zeros((1, 2, 3), np.float32)
    with pytest.raises(ValueError, match=r"output_shape\[1\] is 5"):
        conv1dt.conv1d_transpose(x, f, [1, 5, 4], 1, data_format="NCW")


TYPE_ERRORS = [
    (dict(input=X.astype(np.int32)), r"input must have dtype float16, float32, float64, complex64 or complex128, got int32"),
    (dict(input=X.astype(bool)), r"input must have dtype .* got bool"),
    (dict(input=X.astype(object)), r"input must have dtype .* got object"),
    (dict(input=np.full((2, 5, 3), "a")), r"input must have dtype .* got <U1"),
    (dict(input=X.astype(np.complex64)), r"input and filters must have the same dtype, got complex64 and float32"),
    (dict(input=X.astype(np.complex128), filters=F.astype(np.complex64)),
     r"input and filters must have the same dtype, got complex128 and complex64"),
    (dict(filters=F.astype(np.int64)), r"filters must have dtype .* got int64"),
    (dict(input=[[[1, 2, 3]] * 5] * 2), r"input must have dtype .* got int64"),
    (dict(filters=F.astype(np.float64)), r"input and filters must have the same dtype, got float32 and float64"),
    (dict(input=X.astype(np.float16)), r"input and filters must have the same dtype, got float16 and float32"),
]
if hasattr(np, "longdouble") and np.dtype(np.longdouble) != np.dtype(np.float64):
    TYPE_ERRORS.append((dict(input=X.astype(np.longdouble)), r"input must have dtype .* got float128"))
    TYPE_ERRORS.append((dict(input=X.astype(np.clongdouble)), r"input must have dtype .* got complex256"))


@pytest.mark.parametrize("overrides,message", TYPE_ERRORS, ids=[m for _, m in TYPE_ERRORS])
def test_type_errors(overrides, message):
    with pytest.raises(TypeError, match=message):
        call(**overrides)


def test_width_error_for_empty_input_is_a_value_error():
    x = np.zeros((2, 0, 3), np.float32)
    with pytest.raises(ValueError, match=r"output_shape\[1\] is 3, but an input of width 0.*gives width 0"):
        conv1dt.conv1d_transpose(x, F, [2, 3, 6], 2)


# --- groups and explicit padding on conv1d_transpose -------------------------------------------

XG = np.zeros((2, 5, 4), dtype=np.float32)     # Cin = 4
FG = np.zeros((4, 3, 4), dtype=np.float32)     # K=4, Cout/groups = 3, Cin = 4

TRANSPOSE_FAMILY_ERRORS = [
    (dict(input=XG, filters=FG, output_shape=[2, 10, 6], groups=3), r"input\.shape\[2\] \(in_channels\) is 4, which groups=3 does not divide"),
    (dict(input=XG, filters=FG, output_shape=[2, 10, 3], groups=2), r"output_shape\[2\] is 3, but filters\.shape\[1\] \(output channels per group\) is 3, which with groups=2 gives 6"),
    (dict(input=XG, filters=FG, output_shape=[2, 10, 6], groups=0), r"groups must be positive, got 0"),
    (dict(input=XG, filters=FG, output_shape=[2, 10, 6], groups=-2), r"groups must be positive, got -2"),
    (dict(input=XG, filters=FG, output_shape=[2, 10, 6], groups=2.0), r"groups must be an integer, got 2\.0"),
    (dict(input=XG, filters=FG, output_shape=[2, 10, 6], groups=True), r"groups must be an integer, got True"),
    (dict(input=XG, filters=FG, output_shape=[2, 10, 6], groups=None), r"groups must be an integer, got None"),
    # explicit padding: (M-1)*s + Keff - lo - hi = 8 + 4 - 3 = 9 .. 10
    (dict(padding=[[0, 0], [1, 2], [0, 0]], output_shape=[2, 8, 6]), r"output_shape\[1\] is 8, but an input of width 5 with stride 2, dilation 1, 4 taps and explicit padding \(1, 2\) gives widths 9\.\.10"),
    (dict(padding=[[0, 0], [10, 10], [0, 0]], output_shape=[2, 0, 6]), r"output_shape\[1\] is 0.*explicit padding \(10, 10\) gives no width"),
    (dict(padding=[[0, 0], [-1, 2], [0, 0]]), r"padding\[1\]\[0\] must be non-negative, got -1"),
    (dict(padding=[[0, 0], [1, -2], [0, 0]]), r"padding\[1\]\[1\] must be non-negative, got -2"),
    (dict(padding=[[1, 0], [1, 2], [0, 0]]), r"padding must be \[0, 0\] in the batch and channel dimensions for data_format='NWC', got padding=\[\[1, 0\], \[1, 2\], \[0, 0\]\]"),
    (dict(padding=[[0, 0], [0, 0], [1, 2]]), r"padding must be \[0, 0\] in the batch and channel dimensions for data_format='NWC'"),
    (dict(padding=[[0, 0], [1.5, 2], [0, 0]]), r"padding\[1\]\[0\] must be an integer, got 1\.5"),
    (dict(padding=[[0, 0], [1, 2]]), r"padding must be 'SAME' or 'VALID', got \[\[0, 0\], \[1, 2\]\] \(explicit padding is written \[\[0, 0\], \[lo, hi\], \[0, 0\]\] for data_format='NWC'\)"),
    (dict(padding=[1, 2]), r"padding must be 'SAME' or 'VALID', got \[1, 2\]"),
    (dict(padding=[[0, 0], [1, 2, 3], [0, 0]]), r"padding must be 'SAME' or 'VALID'"),
    (dict(padding=np.array([[0, 0], [1.0, 2.0], [0, 0]])), r"padding must be 'SAME' or 'VALID'"),
    (dict(padding="EXPLICIT"), r"padding must be 'SAME' or 'VALID', got 'EXPLICIT'"),
]


@pytest.mark.parametrize("overrides,message", TRANSPOSE_FAMILY_ERRORS, ids=[m for _, m in TRANSPOSE_FAMILY_ERRORS])
def test_transpose_groups_and_padding_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        call(**overrides)


def test_explicit_padding_forms():
    """Lists, tuples and integer arrays are accepted; NCW pads the last position."""
    want = call(padding=[[0, 0], [1, 2], [0, 0]], output_shape=[2, 9, 6])
    for form in (((0, 0), (1, 2), (0, 0)), np.array([[0, 0], [1, 2], [0, 0]], np.int8),
                 [[0, 0], [np.int64(1), 2], [0, 0]]):
        np.testing.assert_array_equal(call(padding=form, output_shape=[2, 9, 6]), want)
    x = np.zeros((2, 3, 5), np.float32)
    assert conv1dt.conv1d_transpose(x, F, [2, 6, 9], 2, [[0, 0], [0, 0], [1, 2]], "NCW").shape == (2, 6, 9)
    with pytest.raises(ValueError, match=r"for data_format='NCW'"):
        conv1dt.conv1d_transpose(x, F, [2, 6, 9], 2, [[0, 0], [1, 2], [0, 0]], "NCW")


# --- conv1d ---------------------------------------------------------------------------------------

W = np.zeros((2, 9, 6), dtype=np.float32)      # NWC: N=2, L=9, Cin=6
FC = np.zeros((3, 6, 4), dtype=np.float32)     # K=3, Cin/groups=6, Cout=4
CONV_OK = dict(input=W, filters=FC, stride=2)


def conv(**overrides):
    kwargs = dict(CONV_OK)
    kwargs.update(overrides)
    return conv1dt.conv1d(**kwargs)


def test_conv1d_baseline_is_valid():
    assert conv().shape == (2, 5, 4)


CONV1D_VALUE_ERRORS = [
    (dict(input=np.zeros((9, 6), np.float32)), r"input must be 3-D"),
    (dict(filters=np.zeros((6, 4), np.float32)), r"filters must be 3-D"),
    (dict(filters=np.zeros((0, 6, 4), np.float32)), r"filters must have at least one tap, got filters\.shape=\(0, 6, 4\)"),
    (dict(filters=np.zeros((3, 5, 4), np.float32)), r"filters\.shape\[1\] \(in_channels\) is 5, but input has 6 channels \(input\.shape\[2\] for data_format='NWC'\)"),
    (dict(filters=np.zeros((3, 6, 4), np.float32), groups=2), r"filters\.shape\[1\] \(in_channels per group\) is 6, but input has 6 channels, 3 in each of groups=2"),
    (dict(filters=np.zeros((3, 2, 4), np.float32), groups=4), r"input\.shape\[2\] \(in_channels\) is 6, which groups=4 does not divide"),
    (dict(filters=np.zeros((3, 3, 5), np.float32), groups=2), r"filters\.shape\[2\] \(out_channels\) is 5, which groups=2 does not divide"),
    (dict(groups=0), r"groups must be positive, got 0"),
    (dict(groups=1.0), r"groups must be an integer"),
    (dict(stride=0), r"stride must be positive, got 0"),
    (dict(stride=[2, 2, 1]), r"stride must be 1 in the batch and channel dimensions"),
    (dict(stride=[1.0]), r"stride\[0\] must be an integer"),
    (dict(dilations=[1, 1]), r"dilations must be an int or a list of 1 or 3 ints"),
    (dict(padding="same"), r"padding must be 'SAME' or 'VALID', got 'same'"),
    (dict(padding=[[0, 0], [-1, 0], [0, 0]]), r"padding\[1\]\[0\] must be non-negative, got -1"),
    (dict(data_format="NCHW"), r"data_format must be 'NWC' or 'NCW', got 'NCHW'"),
    # an input narrower than Keff - s - lo - hi has a negative output width
    (dict(input=np.zeros((2, 1, 6), np.float32), filters=np.zeros((5, 6, 4), np.float32), stride=2, padding="VALID"),
     r"input\.shape\[1\] is 1, but 5 taps with dilation 1, stride 2 and VALID padding need an input width of at least 3"),
    (dict(input=np.zeros((2, 1, 6), np.float32), stride=1, dilations=3, padding=[[0, 0], [1, 1], [0, 0]]),
     r"input\.shape\[1\] is 1, but 3 taps with dilation 3, stride 1 and explicit padding \(1, 1\) need an input width of at least 4"),
    (dict(input=[[[1.0], [2.0, 3.0]]]), r"input could not be read as an array"),
]


@pytest.mark.parametrize("overrides,message", CONV1D_VALUE_ERRORS, ids=[m for _, m in CONV1D_VALUE_ERRORS])
def test_conv1d_value_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        conv(**overrides)


CONV1D_TYPE_ERRORS = [
    (dict(input=W.astype(np.int32)), r"input must have dtype float16, float32, float64, complex64 or complex128, got int32"),
    (dict(filters=FC.astype(bool)), r"filters must have dtype .* got bool"),
    (dict(input=W.astype(np.float64)), r"input and filters must have the same dtype, got float64 and float32"),
    (dict(input=W.astype(np.complex64)), r"input and filters must have the same dtype, got complex64 and float32"),
    (dict(filters=(FC + 1j).tolist()), r"input and filters must have the same dtype, got float32 and complex128"),
]


@pytest.mark.parametrize("overrides,message", CONV1D_TYPE_ERRORS, ids=[m for _, m in CONV1D_TYPE_ERRORS])
def test_conv1d_type_errors(overrides, message):
    with pytest.raises(TypeError, match=message):
        conv(**overrides)


def test_conv1d_ncw_messages_index_the_ncw_axes():
    w = np.zeros((2, 6, 1), np.float32)
    with pytest.raises(ValueError, match=r"input\.shape\[2\] is 1, but 3 taps"):
        conv1dt.conv1d(w, FC, 1, "VALID", "NCW", 3)
    with pytest.raises(ValueError, match=r"input has 5 channels \(input\.shape\[1\] for data_format='NCW'\)"):
        conv1dt.conv1d(np.zeros((2, 5, 9), np.float32), FC, 1, "SAME", "NCW")


# --- conv1d_backprop_filter -----------------------------------------------------------------------

DZ = np.zeros((2, 5, 4), dtype=np.float32)     # conv1d(W, FC, 2, SAME) is [2, 5, 4]
BPF_OK = dict(input=W, filter_shape=[3, 6, 4], out_backprop=DZ, strides=2)


def bpf(**overrides):
    kwargs = dict(BPF_OK)
    kwargs.update(overrides)
    return conv1dt.conv1d_backprop_filter(**kwargs)


def test_backprop_filter_baseline_is_valid():
    assert bpf().shape == (3, 6, 4)


BPF_VALUE_ERRORS = [
    (dict(out_backprop=np.zeros((5, 4), np.float32)), r"out_backprop must be 3-D"),
    (dict(filter_shape=[3, 6]), r"filter_shape must have 3 elements, got 2"),
    (dict(filter_shape=[3, -6, 4]), r"filter_shape\[1\] must be non-negative, got -6"),
    (dict(filter_shape=[3, 6.0, 4]), r"filter_shape\[1\] must be an integer"),
    (dict(filter_shape=None), r"filter_shape must be a sequence of 3 ints"),
    (dict(filter_shape=[0, 6, 4]), r"filter_shape must have at least one tap, got filter_shape=\(0, 6, 4\)"),
    (dict(filter_shape=[3, 5, 4]), r"filter_shape\[1\] \(in_channels\) is 5, but input has 6 channels"),
    (dict(filter_shape=[3, 3, 4], groups=3), r"filter_shape\[1\] \(in_channels per group\) is 3, but input has 6 channels, 2 in each of groups=3"),
    (dict(filter_shape=[3, 3, 3], groups=2, out_backprop=np.zeros((2, 5, 3), np.float32)), r"filter_shape\[2\] \(out_channels\) is 3, which groups=2 does not divide"),
    (dict(out_backprop=np.zeros((3, 5, 4), np.float32)), r"out_backprop\.shape\[0\] is 3, but input has batch size 2"),
    (dict(out_backprop=np.zeros((2, 5, 5), np.float32)), r"out_backprop\.shape\[2\] is 5, but filter_shape\[2\] \(out_channels\) is 4"),
    (dict(out_backprop=np.zeros((2, 4, 4), np.float32)), r"out_backprop\.shape\[1\] is 4, but an input of width 9 with stride 2, dilation 1, 3 taps and SAME padding gives width 5"),
    (dict(out_backprop=np.zeros((2, 5, 4), np.float32), padding="VALID"), r"out_backprop\.shape\[1\] is 5, .* VALID padding gives width 4"),
    (dict(strides=0), r"strides must be positive, got 0"),
    (dict(groups=-1), r"groups must be positive, got -1"),
    (dict(padding=[[0, 0], [0, -3], [0, 0]]), r"padding\[1\]\[1\] must be non-negative, got -3"),
]


@pytest.mark.parametrize("overrides,message", BPF_VALUE_ERRORS, ids=[m for _, m in BPF_VALUE_ERRORS])
def test_backprop_filter_value_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        bpf(**overrides)


BPF_TYPE_ERRORS = [
    (dict(out_backprop=DZ.astype(np.int64)), r"out_backprop must have dtype .* got int64"),
    (dict(out_backprop=DZ.astype(np.float64)), r"input and out_backprop must have the same dtype, got float32 and float64"),
    (dict(input=W.astype(np.complex128), out_backprop=DZ.astype(np.complex64)), r"input and out_backprop must have the same dtype, got complex128 and complex64"),
]


@pytest.mark.parametrize("overrides,message", BPF_TYPE_ERRORS, ids=[m for _, m in BPF_TYPE_ERRORS])
def test_backprop_filter_type_errors(overrides, message):
    with pytest.raises(TypeError, match=message):
        bpf(**overrides)
