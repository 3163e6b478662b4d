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
