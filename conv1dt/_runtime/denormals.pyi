from contextlib import AbstractContextManager
from typing import Any, Callable, TypeVar

_T = TypeVar("_T")

ever: bool

def set_flush_denormals(enabled: bool) -> bool: ...
def flush_denormals(enabled: bool = True) -> AbstractContextManager[None]: ...
def run(fn: Callable[..., _T], *args: Any) -> _T: ...
