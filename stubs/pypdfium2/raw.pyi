# pdfium's C functions and constants, through ctypes.
from typing import Any

def __getattr__(name: str) -> Any: ...
