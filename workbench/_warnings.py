"""One helper for every warning Quant Workbench emits, pointing at the user's line."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

__all__ = ["WorkbenchWarning", "warn"]

_PACKAGE_DIR = str(Path(__file__).resolve().parent)


class WorkbenchWarning(UserWarning):
    """A warning about a result the user should look at (a repair made, a fallback taken)."""


def warn(message: str, category: type[Warning] = WorkbenchWarning) -> None:
    """Emit ``message`` attributed to the first stack frame outside the workbench package."""
    frame = inspect.currentframe()
    level = 1
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=max(level - 1, 1))
