"""Conversion of validated bars into the C-contiguous float64 arrays the kernels take."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from workbench.data.schema import SYMBOL, TS
from workbench.data.validate import validate
from workbench.errors import DataValidationError

__all__ = ["BarArrays", "to_arrays"]

DEFAULT_SYMBOL = "asset"  # the symbol of bars without a symbol column
_PARALLEL_FROM = 1 << 20  # values per column from which columns are converted in threads


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

    def to_frame(self) -> pl.DataFrame:
        """The bars back in canonical long format, one block of rows per symbol (a single asset
        named ``"asset"``, the name :func:`to_arrays` gives bars without symbols, has no
        ``symbol`` column).

        >>> import workbench.data as wd
        >>> bars = wd.synthetic(5, n_symbols=2, seed=0)
        >>> to_arrays(bars).to_frame().equals(bars)
        True
        """
        n, m = self.close.shape
        ts = pl.Series(TS, self.ts.astype("datetime64[us]")).dt.replace_time_zone("UTC")
        ts = ts.dt.convert_time_zone(self.time_zone)
        values = {c: np.asarray(getattr(self, c)).T.ravel() for c in ("open", "high", "low", "close", "volume")}
        if m == 1 and self.symbols == (DEFAULT_SYMBOL,):
            return pl.DataFrame({TS: ts, **values})
        return pl.DataFrame({TS: pl.concat([ts] * m), SYMBOL: np.repeat(np.asarray(self.symbols), n), **values})


def _c(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def to_arrays(bars: pl.DataFrame, *, default_symbol: str = DEFAULT_SYMBOL, check: bool = True) -> BarArrays:
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
    stamps = bars.get_column(TS)
    tz = stamps.dtype.time_zone or "UTC"  # type: ignore[attr-defined]
    if SYMBOL not in bars.columns:
        ts = _epoch_us(stamps).view("datetime64[us]")
        cols = [_c(bars.get_column(c).to_numpy().reshape(-1, 1)) for c in ("open", "high", "low", "close", "volume")]
        return BarArrays(ts, (default_symbol,), *cols, time_zone=tz)
    fast = _blocked(bars, tz)
    if fast is not None:
        return fast
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


def _blocked(bars: pl.DataFrame, tz: str) -> BarArrays | None:
    """The arrays of long-format bars whose rows already come as one block per symbol, all of
    one length, with strictly increasing timestamps shared by every symbol (what ``load``,
    ``align`` and ``synthetic`` produce): no sort, one pass per column. ``None`` for any other
    layout, which the general path sorts (and explains when the calendars differ)."""
    if bars.get_column(TS).dtype.time_unit != "us":  # type: ignore[attr-defined]
        return None  # the general path keeps other units as they are
    runs = bars[SYMBOL].rle()
    lens = runs.struct.field("len").to_numpy()
    names = runs.struct.field("value").to_list()
    if any(s is None for s in names) or len(set(names)) != len(names) or (lens != lens[0]).any():
        return None
    n_sym, n = len(names), int(lens[0])
    ts_all = _epoch_us(bars[TS]).reshape(n_sym, n)
    if not (ts_all[0, 1:] > ts_all[0, :-1]).all() or not (ts_all == ts_all[0]).all():
        return None
    order = np.array(sorted(range(n_sym), key=names.__getitem__))
    ts = ts_all[0].astype("datetime64[us]")
    def column(name: str) -> np.ndarray:
        return _columns(bars.get_column(name).to_numpy().reshape(n_sym, n), order)

    names5 = ("open", "high", "low", "close", "volume")
    if n_sym * n < _PARALLEL_FROM:
        cols = [column(c) for c in names5]
    else:  # large: the copies release the GIL, so columns convert side by side
        with ThreadPoolExecutor(max_workers=min(len(names5), os.cpu_count() or 1)) as pool:
            cols = list(pool.map(column, names5))
    o, h, lo, c, v = cols
    return BarArrays(ts, tuple(names[i] for i in order), o, h, lo, c, v, time_zone=tz)


def _columns(blocks: np.ndarray, order: np.ndarray, width: int = 64) -> np.ndarray:
    """``blocks[order].T`` as a C-contiguous float64 array, transposed in bands of ``width``
    symbols (a whole-array transposed copy thrashes the TLB on large arrays)."""
    out = np.empty((blocks.shape[1], blocks.shape[0]))
    for i in range(0, blocks.shape[0], width):
        out[:, i : i + width] = blocks[order[i : i + width]].T
    return out


def _epoch_us(stamps: pl.Series) -> np.ndarray:
    """Microseconds since the epoch (UTC) as int64: the physical values of a microsecond
    column as they are (no copy), any other unit converted."""
    if stamps.dtype.time_unit == "us" and stamps.null_count() == 0:  # type: ignore[attr-defined]
        return stamps.to_numpy().view(np.int64)
    return stamps.dt.epoch("us").to_numpy()
