from typing import Any, Callable

from ._plan import Plan
from ._typing import Array, ArrayLike, IntOrSequence, Padding, Shape

__all__ = ["conv1d_transpose", "conv1d", "conv1d_backprop_filter", "plan"]

def conv1d_transpose(
    input: ArrayLike,
    filters: ArrayLike,
    output_shape: Shape,
    strides: IntOrSequence,
    padding: Padding = "SAME",
    data_format: str = "NWC",
    dilations: IntOrSequence | None = None,
    name: str | None = None,
    groups: int = 1,
    *,
    out: Array | None = None,
) -> Array: ...
def conv1d(
    input: ArrayLike,
    filters: ArrayLike,
    stride: IntOrSequence,
    padding: Padding = "SAME",
    data_format: str = "NWC",
    dilations: IntOrSequence | None = None,
    name: str | None = None,
    groups: int = 1,
    *,
    out: Array | None = None,
) -> Array: ...
def conv1d_backprop_filter(
    input: ArrayLike,
    filter_shape: Shape,
    out_backprop: ArrayLike,
    strides: IntOrSequence,
    padding: Padding = "SAME",
    data_format: str = "NWC",
    dilations: IntOrSequence | None = None,
    name: str | None = None,
    groups: int = 1,
    *,
    out: Array | None = None,
) -> Array: ...
def plan(op: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> Plan: ...
