"""Wrong uses of conv1dt's public API: mypy must flag each line marked ``# E:`` (and no other).
tests/test_typing.py checks the line numbers; this file is never run."""
import numpy as np

import conv1dt

x = np.ones((2, 5, 3))
f = np.ones((4, 2, 3))

conv1dt.conv1d_transpose(x, f, [2, 10, 2])  # E: strides is required
conv1dt.conv1d_transpose(x, f, [2, 10, 2], 2, paddin="SAME")  # E: no such argument
conv1dt.conv1d_transpose(x, f, [2, 10, 2], "2")  # E: strides is an int or ints
conv1dt.conv1d(x, f, 2, padding=3)  # E: padding is a string or pairs
conv1dt.conv1d(x, f, 2, groups="1")  # E: groups is an int
conv1dt.set_num_threads("4")  # E: a count
s: str = conv1dt.get_num_threads()  # E: returns an int
conv1dt.Conv1DTransposeStream(f, 2).push()  # E: push takes a block
with conv1dt.threads(2.5):  # E: a count
    pass
