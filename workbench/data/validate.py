"""Validation of bars against the canonical contract, with errors that show the offending rows."""

from __future__ import annotations

import polars as pl

from workbench.data.schema import BAR_COLUMNS, PRICE_COLUMNS, SYMBOL, TS
from workbench.errors import DataValidationError

__all__ = ["validate", "offending_rows"]

_MAX_ROWS_SHOWN = 5


def offending_rows(bars: pl.DataFrame, mask: pl.Expr, columns: list[str]) -> tuple[int, str]:
    """Count the rows where ``mask`` holds and describe the first few (row number and values)."""
    cols = [c for c in (SYMBOL, TS, *columns) if c in bars.columns]
    cols = list(dict.fromkeys(cols))
    bad = bars.with_row_index("row").filter(mask)
    if bad.height == 0:
        return 0, ""
    shown = bad.head(_MAX_ROWS_SHOWN).select(["row", *cols])
    lines = []
    for rec in shown.iter_rows(named=True):
        row = rec.pop("row")
        lines.append(f"  row {row}: " + ", ".join(f"{k}={v!r}" for k, v in rec.items()))
    more = f"\n  … and {bad.height - _MAX_ROWS_SHOWN} more" if bad.height > _MAX_ROWS_SHOWN else ""
    return bad.height, "\n".join(lines) + more


def _fail(bars: pl.DataFrame, mask: pl.Expr, columns: list[str], problem: str, fix: str) -> None:
    n, rows = offending_rows(bars, mask, columns)
    if n:
        raise DataValidationError(f"{problem} in {n} row(s):\n{rows}\nFix: {fix}")


def _group_key(bars: pl.DataFrame) -> list[str]:
    return [SYMBOL] if SYMBOL in bars.columns else []


def validate(bars: pl.DataFrame) -> pl.DataFrame:
    """Check that ``bars`` follow the canonical schema and return them unchanged.

    Checks: required columns and dtypes, no empty frame, at least two bars per symbol, no
    null/NaN/inf values, prices > 0, ``low <= open, close <= high``, ``volume >= 0``, timezone-
    aware timestamps strictly increasing per symbol (no duplicates).

    Raises
    ------
    DataValidationError
        Naming the column, the first offending rows and the fix.

    Examples
    --------
    >>> import polars as pl
    >>> from datetime import datetime, timezone
    >>> ts = [datetime(2024, 1, d, tzinfo=timezone.utc) for d in (1, 2)]
    >>> bars = pl.DataFrame({"ts": ts, "open": [1.0, 2.0], "high": [2.0, 2.0],
    ...                      "low": [1.0, 1.5], "close": [2.0, 1.5], "volume": [10.0, 0.0]})
    >>> validate(bars).height
    2
    >>> validate(bars.with_columns(pl.col("high") * 0.1))
    Traceback (most recent call last):
    ...
    workbench.errors.DataValidationError: `high` is below `low` in 2 row(s):
      row 0: ts=..., high=0.2, low=1.0
      row 1: ts=..., high=0.2, low=1.5
    Fix: check the column order of the source (high and low may be swapped) or drop those rows.
    """
    missing = [c for c in (TS, *BAR_COLUMNS) if c not in bars.columns]
    if missing:
        raise DataValidationError(
            f"bars lack column(s) {missing}; have {bars.columns}. "
            "Fix: load them with workbench.data.load(), which maps common names (Date, Adj Close…)."
        )
    if bars.height == 0:
        raise DataValidationError("bars are empty (0 rows). Fix: pass a file or frame with at least 2 bars.")
    dtype = bars.schema[TS]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise DataValidationError(
            f"column `ts` must be a timezone-aware datetime; got {dtype}. "
            "Fix: load the bars with workbench.data.load(..., tz='UTC') (or the market's timezone)."
        )
    for col in BAR_COLUMNS:
        if not bars.schema[col].is_float():
            raise DataValidationError(f"column `{col}` must be Float64; got {bars.schema[col]}. Fix: cast it or load the bars with workbench.data.load().")
    _check_values(bars)
    _check_order(bars)
    return bars


def _check_values(bars: pl.DataFrame) -> None:
    _fail(bars, pl.col(TS).is_null(), [TS], "`ts` is null", "drop rows without a timestamp.")
    for col in BAR_COLUMNS:
        c = pl.col(col)
        _fail(bars, c.is_null() | c.is_nan() | c.is_infinite(), [col], f"`{col}` is null, NaN or infinite",
              "drop those rows, or pass repair=['ffill'] to workbench.data.load() to carry the last value forward.")
    for col in PRICE_COLUMNS:
        _fail(bars, pl.col(col) <= 0, [col], f"`{col}` is not positive (prices must be > 0)",
              "drop those rows; for series that can be negative (spreads, rates) shift them to positive prices.")
    _fail(bars, pl.col("high") < pl.col("low"), ["high", "low"], "`high` is below `low`",
          "check the column order of the source (high and low may be swapped) or drop those rows.")
    for col in ("open", "close"):
        outside = (pl.col(col) < pl.col("low")) | (pl.col(col) > pl.col("high"))
        _fail(bars, outside, [col, "low", "high"], f"`{col}` is outside [low, high]",
              f"correct the source, or clip `{col}` into [low, high] before loading.")
    _fail(bars, pl.col("volume") < 0, ["volume"], "`volume` is negative", "volume must be >= 0; fix or drop those rows.")


def _check_order(bars: pl.DataFrame) -> None:
    key = _group_key(bars)
    counts = bars.group_by(key).len() if key else pl.DataFrame({"len": [bars.height]})
    if counts["len"].min() < 2:
        who = f" for symbol {counts.filter(pl.col('len') < 2)[SYMBOL].sort()[0]!r}" if key else ""
        n_bars = pl.len().over(key) if key else pl.len()
        _, rows = offending_rows(bars, n_bars < 2, [TS])
        raise DataValidationError(
            f"bars have a single bar{who}; a backtest needs at least 2:\n{rows}\nFix: load a longer history."
        )
    prev = pl.col(TS).shift(1).over(key) if key else pl.col(TS).shift(1)
    _fail(bars, pl.col(TS) == prev, [TS], "duplicate timestamps" + (" (per symbol)" if key else ""),
          "drop the duplicates; pass repair=['dedupe'] to workbench.data.load() to drop exact duplicate rows.")
    _fail(bars, pl.col(TS) < prev, [TS], "timestamps are not increasing" + (" (per symbol)" if key else ""),
          "sort by timestamp; pass repair=['sort'] to workbench.data.load().")
