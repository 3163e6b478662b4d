from typing import Any

import numpy as np

from ._geometry import Geometry
from ._typing import Array, ArrayLike

__all__ = ["Plan", "choose", "blocking", "clear_cache"]

class Plan:
    op: str
    geometry: Geometry
    data_format: str
    dtype: np.dtype[Any]
    kernel: str
    blocks: dict[str, int]
    out_shape: tuple[int, ...]
    def __call__(self, a: ArrayLike, b: ArrayLike, out: Array | None = None) -> Array: ...

def choose(op: str, g: Geometry, itemsize: int = 4, layout: str = "NWC") -> str: ...
def blocking(
    op: str, kernel: str, g: Geometry, itemsize: int, layout: str = "NWC"
) -> dict[str, int | bool]: ...
def clear_cache() -> None: ...
def __getattr__(name: str) -> Any: ...
