"""Rebalancing calendars and target-weight inputs, turned into the arrays the kernel takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import numpy as np
import polars as pl

from workbench._validate import check_choice
from workbench.errors import DataValidationError, InvalidParameterError, did_you_mean

__all__ = [
    "Schedule",
    "SCHEDULES",
    "calendar",
    "time_zone",
    "schedule_mask",
    "fixed_targets",
    "frame_targets",
    "row_of_bar",
    "to_instants",
]

Schedule = Literal["daily", "weekly", "monthly", "quarterly", "yearly"]
SCHEDULES: tuple[str, ...] = get_args(Schedule)
_EVERY = {"daily": "1d", "weekly": "1w", "monthly": "1mo", "quarterly": "1q", "yearly": "1y"}


def time_zone(series: pl.Series) -> str:
    """The time zone of a datetime series (``"UTC"`` when naive)."""
    return getattr(series.dtype, "time_zone", None) or "UTC"


def calendar(ts: np.ndarray, time_zone: str) -> pl.Series:
    """The bars' timestamps (UTC ``datetime64[us]``) as a polars series in the bars' time zone."""
    return pl.Series("ts", ts).dt.replace_time_zone("UTC").dt.convert_time_zone(time_zone)


def to_instants(values: Any, time_zone: str, name: str) -> np.ndarray:
    """Dates or datetimes (naive ones read in ``time_zone``) as int64 microseconds since the epoch (UTC)."""
    s = values if isinstance(values, pl.Series) else pl.Series(name, [_scalar(v) for v in values], strict=False)
    if s.dtype == pl.String:
        s = pl.Series(name, [_scalar(v) for v in s.to_list()])
    if s.dtype == pl.Date:
        s = s.cast(pl.Datetime("us"))
    if not isinstance(s.dtype, pl.Datetime):
        raise InvalidParameterError(
            f"`{name}` must hold dates or datetimes; got values of type {s.dtype}."
        )
    if s.null_count():
        raise DataValidationError(f"`{name}` has a missing (null) date at position {int(s.is_null().arg_max() or 0)}.")
    if getattr(s.dtype, "time_zone", None) is None:
        s = s.dt.replace_time_zone(time_zone)
    return s.dt.convert_time_zone("UTC").dt.cast_time_unit("us").dt.epoch("us").to_numpy().astype(np.int64)


def _scalar(value: Any) -> Any:
    """One date-like value as something polars reads: text parsed as ISO, numpy datetimes as
    Python datetimes."""
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[us]").astype(object)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            raise InvalidParameterError(f"cannot read {value!r} as a date; use ISO text such as '2024-01-31'.") from None
    return value


def schedule_mask(cal: pl.Series, schedule: Any) -> np.ndarray:
    """Boolean mask of the bars whose close rebalances.

    A calendar name marks the first bar of each day, week (Monday), month, quarter or year
    (the first bar of the data included); a sequence of dates marks, for each date, the first
    bar at or after it; ``None`` marks nothing.

    >>> import datetime as dt
    >>> cal = pl.Series([dt.datetime(2024, 1, 30), dt.datetime(2024, 1, 31), dt.datetime(2024, 2, 1)])
    >>> schedule_mask(cal.dt.replace_time_zone("UTC"), "monthly").tolist()
    [True, False, True]
    """
    n = cal.len()
    if schedule is None:
        return np.zeros(n, dtype=np.bool_)
    if isinstance(schedule, str):
        check_choice("schedule", schedule, SCHEDULES)
        key = cal.dt.truncate(_EVERY[schedule]).dt.epoch("us").to_numpy()
        mask = np.ones(n, dtype=np.bool_)
        mask[1:] = key[1:] != key[:-1]
        return mask
    if not isinstance(schedule, (Sequence, pl.Series, np.ndarray)):
        raise InvalidParameterError(
            f"`schedule` must be one of {', '.join(map(repr, SCHEDULES))}, a sequence of dates or None; "
            f"got {schedule!r}."
        )
    tz = time_zone(cal)
    when = to_instants(schedule, tz, "schedule")
    bars = cal.dt.epoch("us").to_numpy()
    idx = np.searchsorted(bars, when, side="left")
    late = np.flatnonzero(idx >= n)
    if late.size:
        raise DataValidationError(
            f"`schedule` date {_show(when[late[0]], tz)} is after the last bar ({cal[-1]}). "
            "Fix: drop the dates beyond the data."
        )
    mask = np.zeros(n, dtype=np.bool_)
    mask[idx] = True
    return mask


def _show(us: int, tz: str) -> str:
    return str(pl.Series([int(us)]).cast(pl.Datetime("us", "UTC")).dt.convert_time_zone(tz)[0])


def _index(symbols: Sequence[str]) -> dict[str, int]:
    return {s: i for i, s in enumerate(symbols)}


def _unknown(name: str, symbols: Sequence[str]) -> InvalidParameterError:
    return InvalidParameterError(
        f"`weights` names asset {name!r}, which is not among the bars' symbols "
        f"({', '.join(symbols)}).{did_you_mean(str(name), symbols)}"
    )


def fixed_targets(weights: Any, symbols: Sequence[str]) -> np.ndarray:
    """One row of target weights from a dict by symbol (others 0) or a vector in symbol order.

    >>> fixed_targets({"B": 0.25, "A": 0.75}, ("A", "B", "C")).tolist()
    [[0.75, 0.25, 0.0]]
    """
    n = len(symbols)
    if isinstance(weights, Mapping):
        index = _index(symbols)
        row = np.zeros(n)
        for key, value in weights.items():
            if key not in index:
                raise _unknown(key, symbols)
            row[index[key]] = _finite(value, f"weights[{key!r}]")
        return row.reshape(1, n)
    try:
        row = np.asarray(weights, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            "`weights` must be a dict by symbol, a vector in symbol order, a polars frame of "
            f"weights over time, an allocation method name or a callable; got {type(weights).__name__}."
        ) from None
    if row.shape[0] != n:
        raise InvalidParameterError(
            f"`weights` has {row.shape[0]} values but the bars have {n} symbols ({', '.join(symbols)}); "
            "give one weight per symbol in that order, or a dict by symbol."
        )
    if not np.isfinite(row).all():
        raise DataValidationError(f"`weights` has NaN or infinite values: {row.tolist()}.")
    return row.reshape(1, n)


def _finite(value: Any, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"`{name}` must be a number; got {value!r}.") from None
    if not np.isfinite(x):
        raise DataValidationError(f"`{name}` must be finite; got {value!r}.")
    return x


def frame_targets(frame: pl.DataFrame, symbols: Sequence[str], cal: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Target rows and the bar of each row from a frame ``ts`` + one column per symbol
    (symbols left out get 0). Every ``ts`` must be a bar of the calendar ``cal``."""
    if "ts" not in frame.columns:
        raise DataValidationError(
            f"a `weights` frame needs a `ts` column and one column per symbol; got columns {frame.columns}."
        )
    index = _index(symbols)
    cols = [c for c in frame.columns if c != "ts"]
    for c in cols:
        if c not in index:
            raise _unknown(c, symbols)
    if not cols or frame.height == 0:
        raise DataValidationError("the `weights` frame has no weight columns or no rows.")
    tz = time_zone(cal)
    when = to_instants(frame["ts"], tz, "weights.ts")
    order = np.argsort(when, kind="stable")
    when = when[order]
    if (np.diff(when) == 0).any():
        raise DataValidationError(f"the `weights` frame has two rows at {_show(when[1:][np.diff(when) == 0][0], tz)}.")
    bars = cal.dt.epoch("us").to_numpy()
    pos = np.clip(np.searchsorted(bars, when), 0, len(bars) - 1)
    off = np.flatnonzero(bars[pos] != when)
    if off.size:
        raise DataValidationError(
            f"misaligned calendars: `weights` row at {_show(when[off[0]], tz)} is not a bar of `bars` "
            f"(bars run from {cal[0]} to {cal[-1]}). Fix: give weights only at bar timestamps, "
            "e.g. with weights.join_asof(...) onto the bars' `ts`."
        )
    values = frame.select(cols)
    if values.null_count().sum_horizontal()[0]:
        bad = next(c for c in cols if values[c].null_count())
        raise DataValidationError(f"`weights` column {bad!r} has missing (null) values; use 0 for no position.")
    targets = np.zeros((frame.height, len(symbols)))
    for c in cols:
        targets[:, index[c]] = values[c].cast(pl.Float64).to_numpy()[order]
    if not np.isfinite(targets).all():
        raise DataValidationError("the `weights` frame has NaN or infinite values.")
    return targets, pos.astype(np.int64)


def row_of_bar(row_bars: np.ndarray, n_bars: int) -> np.ndarray:
    """For each bar, the index of the latest target row decided at or before it (-1: none).

    >>> row_of_bar(np.array([1, 3]), 5).tolist()
    [-1, 0, 0, 1, 1]
    """
    return (np.searchsorted(row_bars, np.arange(n_bars), side="right") - 1).astype(np.int64)
