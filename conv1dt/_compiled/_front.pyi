# The ops' compiled front door for repeated calls (conv1dt/_compiled/_front.pyx): private.
from typing import Any

def __getattr__(name: str) -> Any: ...
