"""Validation and conversion of the inputs every metric shares: series, rates and settings.

Each check raises an error that names the argument, the bad value and the fix; the metric
functions call these once, then work on clean C-contiguous float64 arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench._validate import check_number
from workbench.errors import DataValidationError

__all__ = [
    "as_series",
    "as_mask",
    "check_periods_per_year",
    "check_init_cash",
    "check_risk_free",
    "check_cutoff",
    "check_years",
    "per_period_rate",
    "safe_ratio",
    "runs",
]

MAX_PERIODS_PER_YEAR = 1e8  # a little above one bar per second (3.2e7 seconds a year)


def as_series(name: str, values: Any) -> np.ndarray:
    """Return ``values`` as a non-empty, finite, 1-D C-contiguous float64 array.

    >>> as_series("returns", [0.01, -0.02])
    array([ 0.01, -0.02])
    >>> as_series("equity", [1.0, float("nan")])
    Traceback (most recent call last):
    ...
    workbench.errors.DataValidationError: `equity` must be finite; got nan at index 1. Fill or drop missing bars before computing metrics.
    """
    try:
        arr = np.ascontiguousarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"`{name}` must be a 1-D sequence of numbers (numpy array, list, polars or pandas "
            f"Series); got {type(values).__name__} ({exc})."
        ) from None
    if arr.ndim != 1:
        raise DataValidationError(
            f"`{name}` must be 1-D (one series); got shape {arr.shape}. Pass one column at a time."
        )
    if arr.size == 0:
        raise DataValidationError(f"`{name}` must hold at least one value; got an empty array.")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataValidationError(
            f"`{name}` must be finite; got {float(arr[i])!r} at index {i}. "
            "Fill or drop missing bars before computing metrics."
        )
    return arr


def as_mask(name: str, values: Any, n_bars: int | None = None) -> np.ndarray:
    """Return ``values`` (bools or numbers, non-zero meaning True) as a 1-D bool array.

    >>> as_mask("exposure", [True, False, 0.5])
    array([ True, False,  True])
    """
    arr = as_series(name, values)
    if n_bars is not None and arr.size != n_bars:
        raise DataValidationError(
            f"`{name}` must have one value per bar ({n_bars}); got {arr.size}. "
            "Pass the mask aligned with `equity`."
        )
    return arr != 0.0


def check_periods_per_year(value: Any) -> float:
    """``periods_per_year`` as a float in [0.001, 1e8] (a bar per millennium to ~3 a second).

    >>> check_periods_per_year(252)
    252.0
    """
    return check_number(
        "periods_per_year", value, 1e-3, MAX_PERIODS_PER_YEAR,
        hint="Use 252 for trading days, 365 for crypto daily bars, 12 for monthly bars.",
    )


def check_init_cash(value: Any) -> float:
    """``init_cash`` (the account value before the first bar) as a positive finite float.

    >>> check_init_cash(0)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `init_cash` must be a float in (0, 1e+15]; got 0. Pass the starting cash of the account.
    """
    return check_number("init_cash", value, 0, 1e15, lo_open=True,
                        hint="Pass the starting cash of the account.")


def check_risk_free(value: Any) -> float:
    """``risk_free`` (an annual rate) as a float in (-1, 1)."""
    return check_number("risk_free", value, -1, 1, lo_open=True, hi_open=True,
                        hint="Give the annual rate as a fraction: 0.04 for 4%.")


def check_cutoff(value: Any) -> float:
    """``cutoff`` (a tail probability) as a float in (0, 0.5]."""
    return check_number("cutoff", value, 0, 0.5, lo_open=True, hint="Use 0.05 for the worst 5%.")


def check_years(value: Any) -> float:
    """``years`` (a calendar span) as a positive finite float."""
    return check_number("years", value, 0, 1e4, lo_open=True,
                        hint="Pass the time from the start to the last bar in years, or None.")


def per_period_rate(annual_rate: float, periods_per_year: float) -> float:
    """De-annualize a compound annual rate: ``(1 + annual_rate) ** (1 / periods_per_year) - 1``.

    >>> round(per_period_rate(0.1025, 2), 12)
    0.05
    """
    return (1.0 + annual_rate) ** (1.0 / periods_per_year) - 1.0


def safe_ratio(num: float, den: float) -> float:
    """``num / den``, with the conventions every ratio shares: ``0 / 0 → 0.0``, ``x / 0 → NaN``.

    A ratio is never ±inf: where the denominator vanishes and the numerator does not, the
    figure is genuinely undefined (infinite) and reported as NaN.

    >>> safe_ratio(1.0, 4.0), safe_ratio(0.0, 0.0), safe_ratio(1.0, 0.0)
    (0.25, 0.0, nan)
    """
    if den == 0.0:
        return 0.0 if num == 0.0 else float("nan")
    return float(num / den)


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) index of each run of consecutive True values.

    >>> runs(np.array([True, True, False, True]))
    (array([0, 3]), array([2, 4]))
    """
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
