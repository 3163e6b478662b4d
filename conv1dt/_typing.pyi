# Type aliases shared by conv1dt's stubs (a stub-only module: nothing of it exists at run time).
from typing import Any, Sequence, SupportsIndex, TypeAlias

import numpy as np
from numpy.typing import ArrayLike as ArrayLike, NDArray

# an int, [s], or [1, s, 1] / [1, 1, s]
IntOrSequence: TypeAlias = SupportsIndex | Sequence[SupportsIndex]
# 'SAME', 'VALID', or explicit [[0, 0], [lo, hi], [0, 0]]
Padding: TypeAlias = str | Sequence[Sequence[SupportsIndex]]
# output_shape, filter_shape: a list, tuple or integer array of 3 ints
Shape: TypeAlias = Sequence[SupportsIndex] | NDArray[np.integer[Any]]
Array: TypeAlias = NDArray[Any]
