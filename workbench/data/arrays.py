"""Conversion of validated bars into the C-contiguous float64 arrays the kernels take."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from workbench.data.schema import SYMBOL, TS
from workbench.data.validate import validate
from workbench.errors import DataValidationError

__all__ = ["BarArrays", "to_arrays"]


@dataclass(frozen=True, slots=True, eq=False)
class BarArrays:
    """Bars as arrays of shape ``(n_bars, n_assets)`` on one calendar ``ts``."""

    ts: np.ndarray          # datetime64[us] UTC, shape (n_bars,)
    symbols: tuple[str, ...]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    time_zone: str = "UTC"

    @property
    def shape(self) -> tuple[int, int]:
        return self.close.shape  # type: ignore[return-value]


def _c(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def to_arrays(bars: pl.DataFrame, *, default_symbol: str = "asset", check: bool = True) -> BarArrays:
    """Validate canonical bars and turn them into :class:`BarArrays`.

    Several symbols must share one calendar; :func:`workbench.data.align` makes one. Symbols
    are ordered by name (the columns of every array).

    ``check=False`` skips the full frame validation, for callers that check the arrays
    themselves (the backtest engine does, and explains a failure with :func:`validate`).

    Raises
    ------
    DataValidationError
        When the bars break the contract (see :func:`workbench.data.validate`) or the symbols do
        not share one calendar.

    Examples
    --------
    >>> import workbench.data as wd
    >>> arr = to_arrays(wd.synthetic(4, n_symbols=3, seed=0))
    >>> arr.close.shape, arr.symbols, arr.close.flags["C_CONTIGUOUS"]
    ((4, 3), ('S0', 'S1', 'S2'), True)
    """
    if check:
        validate(bars)
    tz = bars.schema[TS].time_zone or "UTC"  # type: ignore[union-attr]
    if SYMBOL not in bars.columns:
        ts = bars[TS].dt.epoch("us").to_numpy().view("datetime64[us]")
        cols = [_c(bars[c].to_numpy().reshape(-1, 1)) for c in ("open", "high", "low", "close", "volume")]
        return BarArrays(ts, (default_symbol,), *cols, time_zone=tz)
    symbols = tuple(sorted(bars[SYMBOL].unique().to_list()))
    n_sym = len(symbols)
    frame = bars.sort([SYMBOL, TS])
    counts = frame.group_by(SYMBOL, maintain_order=True).len()
    n = frame.height // n_sym
    ts_all = frame[TS].dt.epoch("us").to_numpy()
    aligned = counts["len"].n_unique() == 1 and bool((ts_all.reshape(n_sym, n) == ts_all[:n]).all())
    if not aligned:
        per = dict(zip(counts[SYMBOL].to_list(), counts["len"].to_list(), strict=True))
        raise DataValidationError(
            f"the {n_sym} symbols do not share one calendar (bars per symbol: {per}). "
            "Fix: align them first with workbench.data.align(bars, how='inner' or 'outer')."
        )
    first = frame[TS][:n]
    ts = first.dt.convert_time_zone("UTC").dt.replace_time_zone(None).to_numpy()
    cols = [_c(frame[c].to_numpy().reshape(n_sym, n).T) for c in ("open", "high", "low", "close", "volume")]
    return BarArrays(ts, symbols, *cols, time_zone=tz)
