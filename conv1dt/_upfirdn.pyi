from typing import Any

from numpy.typing import ArrayLike, NDArray

def upfirdn_length(taps: int, width: int, up: int, down: int) -> int: ...
def upfirdn(h: ArrayLike, x: ArrayLike, up: int = 1, down: int = 1, axis: int = -1,
            mode: str = "constant", cval: float = 0) -> NDArray[Any]: ...
