"""Typed uses of conv1dt's public API: mypy must accept this file (tests/test_typing.py), and the
types it asserts are those the stubs give. It also runs, so every call here is a valid one."""
from typing import Any

import numpy as np
from numpy.typing import NDArray
from typing_extensions import assert_type

import conv1dt
from conv1dt import reference
from conv1dt._geometry import transpose_geometry

x = np.ones((2, 5, 3), dtype=np.float32)
f = np.ones((4, 2, 3), dtype=np.float32)

y = conv1dt.conv1d_transpose(x, f, [2, 10, 2], 2)
assert_type(y, NDArray[Any])
y = conv1dt.conv1d_transpose(x, f, (2, 10, 2), [1, 2, 1], padding="VALID".replace("VALID", "SAME"),
                             data_format="NWC", dilations=1, name="up", groups=1)
y = conv1dt.conv1d_transpose(x.tolist(), f, np.array([2, 9, 2]), [2], [[0, 0], [1, 2], [0, 0]])
dx = conv1dt.conv1d(np.ones((2, 10, 2), dtype=np.float32), f, 2)
assert_type(dx, NDArray[Any])
df = conv1dt.conv1d_backprop_filter(np.ones((2, 10, 2), dtype=np.float32), [4, 2, 3], x, strides=2)
assert_type(df, NDArray[Any])

stream = conv1dt.Conv1DTransposeStream(f, 2)
parts: list[NDArray[Any]] = [stream.push(x[:, :2]), stream.push(x[:, 2:]), stream.flush()]

conv1dt.set_num_threads(1)
conv1dt.set_num_threads(None)
n: int = conv1dt.get_num_threads()
with conv1dt.threads(1) as inside:
    assert_type(inside, int)


@conv1dt.threads(1)
def serial() -> NDArray[Any]:
    return conv1dt.conv1d(np.ones((1, 8, 2), dtype=np.float32), f, 1)


info = conv1dt.show_config(file=open("/dev/null", "w"))
assert_type(info, dict[str, Any])
version: str = conv1dt.__version__

g = transpose_geometry(x.shape, f.shape, [2, 10, 2], 2, 1, "SAME", "NWC")
want = reference.conv1d_transpose(x, f, g)
assert_type(want, NDArray[Any])
links: list[tuple[int, int, int]] = list(reference.links(g))
C = reference.conv1d_matrix(f[:, :, :], g)
