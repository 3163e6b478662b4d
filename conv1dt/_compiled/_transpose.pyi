# The compiled kernels of conv1d_transpose (conv1dt/_compiled/_transpose.pyx): private.
from typing import Any

def __getattr__(name: str) -> Any: ...
