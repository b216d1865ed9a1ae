"""The exception hierarchy of Quant Workbench.

Every error a user can cause is raised in Python, at the boundary, as one of these classes,
with a message that names the parameter or column, the bad value and the fix::

    `fees` must be a float in [0, 0.1); got -0.01.

Domain outcomes inside the Numba kernels (an order rejected for lack of cash) are status codes
in record arrays, never exceptions.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "WorkbenchError",
    "DataValidationError",
    "InvalidParameterError",
    "StrategyError",
    "OptimizationError",
    "StoreError",
    "SchemaVersionError",
    "JobError",
    "did_you_mean",
]


class WorkbenchError(Exception):
    """Base class of every error raised by Quant Workbench."""


class DataValidationError(WorkbenchError, ValueError):
    """Input data (bars, returns, weights) break the documented contract."""


class InvalidParameterError(WorkbenchError, ValueError, TypeError):
    """A setting or strategy parameter has the wrong type or is out of range."""


class StrategyError(WorkbenchError, ValueError):
    """A strategy produced output that breaks its contract (wrong length, NaN signals...)."""


class OptimizationError(WorkbenchError, ValueError):
    """A search space, constraint or objective cannot be used."""


class StoreError(WorkbenchError):
    """The store cannot be opened, read or written."""


class SchemaVersionError(StoreError):
    """The store's schema is newer than this version of Quant Workbench."""


class JobError(WorkbenchError):
    """A batch job failed or cannot be run."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""`` when none is close.

    Examples
    --------
    >>> did_you_mean("clsoe", ["open", "high", "low", "close"])
    " Did you mean 'close'?"
    >>> did_you_mean("zzz", ["open"])
    ''
    """
    lowered = {str(c).lower(): str(c) for c in choices}
    match = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.6)
    return f" Did you mean '{lowered[match[0]]}'?" if match else ""
