# The compiled GEMM-block and depthwise kernels (conv1dt/_compiled/_gemm.pyx): private.
from typing import Any

def __getattr__(name: str) -> Any: ...
