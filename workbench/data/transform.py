"""Resampling bars to a coarser size and aligning several symbols on one calendar."""

from __future__ import annotations

from typing import Literal

import polars as pl

from workbench.data.frequency import infer_frequency, parse_every
from workbench.data.schema import BAR_COLUMNS, SYMBOL, TS
from workbench.data.validate import validate
from workbench.errors import DataValidationError, InvalidParameterError

__all__ = ["resample", "align"]


def resample(bars: pl.DataFrame, every: str) -> pl.DataFrame:
    """Aggregate bars to a coarser bar size: first open, max high, min low, last close, summed volume.

    Each output bar is labelled with the start of its window (e.g. Monday for ``"1w"``); windows
    follow the calendar of the bars' timezone. Several symbols come back sorted by symbol, then ts.

    Examples
    --------
    >>> import workbench.data as wd
    >>> weekly = resample(wd.sample("GOOG"), "1w")
    >>> weekly.height < 2148, weekly.columns
    (True, ['ts', 'open', 'high', 'low', 'close', 'volume'])
    """
    every = str(parse_every(every))
    current = infer_frequency(bars)
    probe = pl.datetime_range(pl.datetime(2000, 1, 3), pl.datetime(2000, 1, 3).dt.offset_by(every), every, eager=True)
    target_s = (probe[-1] - probe[0]).total_seconds()
    if target_s < current.every.total_seconds() * 0.99:
        raise InvalidParameterError(
            f"`every` must be coarser than the bars' frequency {current.label!r}; got {every!r}. "
            "Fix: choose a longer bar size (resampling cannot create finer bars)."
        )
    key = [SYMBOL] if SYMBOL in bars.columns else None
    out = (
        bars.sort([*(key or []), TS])
        .group_by_dynamic(TS, every=every, group_by=key, label="left", closed="left", start_by="window")
        .agg(
            pl.col("open").first(), pl.col("high").max(), pl.col("low").min(),
            pl.col("close").last(), pl.col("volume").sum(),
        )
    )
    return validate(out.select([TS, *(key or []), *BAR_COLUMNS]).sort([*(key or []), TS]))


def align(bars: pl.DataFrame, *, how: Literal["inner", "outer"] = "inner") -> pl.DataFrame:
    """Put several symbols on a common calendar.

    ``"inner"`` keeps the timestamps every symbol has. ``"outer"`` keeps every timestamp from the
    first one at which all symbols have started; a symbol's missing bar is filled with its last
    close (open = high = low = close, volume 0), i.e. no trading happened.

    Examples
    --------
    >>> import polars as pl, workbench.data as wd
    >>> bars = wd.synthetic(5, n_symbols=2, seed=1)
    >>> ragged = bars.filter(~((pl.col("symbol") == "S0") & (pl.col("ts") == pl.col("ts").min().dt.offset_by("2d"))))
    >>> align(ragged, how="inner").height, align(ragged, how="outer").height
    (8, 10)
    """
    if SYMBOL not in bars.columns:
        raise DataValidationError("align() needs several symbols in long format; `bars` have no `symbol` column.")
    if how not in ("inner", "outer"):
        raise InvalidParameterError(f"`how` must be 'inner' or 'outer'; got {how!r}.")
    n_sym = bars[SYMBOL].n_unique()
    if how == "inner":
        common = bars.group_by(TS).len().filter(pl.col("len") == n_sym).select(TS)
        out = bars.join(common, on=TS, how="semi")
    else:
        start = bars.group_by(SYMBOL).agg(pl.col(TS).min())[TS].max()
        cal = bars.select(pl.col(TS).unique())
        grid = cal.join(bars.select(pl.col(SYMBOL).unique()), how="cross")
        out = grid.join(bars, on=[TS, SYMBOL], how="left").sort([SYMBOL, TS])
        last = pl.col("close").forward_fill().over(SYMBOL)
        out = out.with_columns(
            *(pl.col(c).fill_null(last) for c in ("open", "high", "low")),
            last.alias("close"), pl.col("volume").fill_null(0.0),
        ).filter(pl.col(TS) >= start)
    if out.height == 0:
        raise DataValidationError("the symbols share no timestamp; align(how='outer') fills gaps instead.")
    return validate(out.select([TS, SYMBOL, *BAR_COLUMNS]).sort([SYMBOL, TS]))
