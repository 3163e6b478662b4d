from typing import Any

import numpy as np

from ._typing import Array, ArrayLike, IntOrSequence, Shape

__all__ = ["Conv1DTransposeStream"]

class Conv1DTransposeStream:
    def __init__(
        self,
        filters: ArrayLike,
        strides: IntOrSequence,
        dilations: IntOrSequence | None = None,
        data_format: str = "NWC",
        groups: int = 1,
    ) -> None: ...
    def push(self, block: ArrayLike) -> Array: ...
    def flush(self) -> Array: ...
