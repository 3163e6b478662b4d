# The compiled kernels of conv1d and conv1d_backprop_filter (conv1dt/_compiled/_conv1d.pyx): private.
from typing import Any

def __getattr__(name: str) -> Any: ...
