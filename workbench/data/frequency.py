"""Inferring a dataset's bar frequency, used once for annualization everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

from workbench.data.schema import SYMBOL, TS
from workbench.errors import DataValidationError

__all__ = ["Frequency", "frequency_of", "infer_frequency", "parse_every"]

_DAY = 86_400.0
_INTRADAY = [(60, "1m"), (300, "5m"), (900, "15m"), (1800, "30m"), (3600, "1h"), (7200, "2h"),
             (14_400, "4h"), (21_600, "6h"), (43_200, "12h")]
_CALENDAR = [  # (min days, max days, label, periods per year)
    (0.9, 1.1, "1d", None), (6.5, 7.5, "1w", 52.0), (27.5, 31.5, "1mo", 12.0),
    (88.0, 93.0, "1q", 4.0), (360.0, 367.0, "1y", 1.0),
]


@dataclass(frozen=True, slots=True)
class Frequency:
    """A bar frequency: a label (``"1d"``, ``"1h"``, ``"1mo"``…), the typical bar spacing and the
    number of bars per year used to annualize returns, volatility and ratios."""

    label: str
    every: timedelta
    periods_per_year: float

    def __str__(self) -> str:
        return f"{self.label} ({self.periods_per_year:g} bars/year)"


def _median_step_seconds(ts: np.ndarray) -> float:
    us = ts.astype("datetime64[us]", copy=False).view(np.int64)
    steps = us[1:] - us[:-1]
    steps = steps[steps > 0] / 1e6
    if steps.size == 0:
        raise DataValidationError("cannot infer a frequency from fewer than two distinct timestamps. Fix: load a longer history.")
    # the median (of the middle two for an even count), as np.median gives it; a pair of kth
    # indices, because with one NumPy's selection is very slow on the many equal steps of a calendar
    k = steps.size // 2
    if steps.size % 2:
        return float(np.partition(steps, (k, k))[k])
    middle = np.partition(steps, (k - 1, k))
    return float((middle[k - 1] + middle[k]) / 2)


def infer_frequency(bars: pl.DataFrame) -> Frequency:
    """Infer the bar frequency of ``bars`` from the median spacing of timestamps (per symbol).

    Daily bars that skip weekends (equities) give 252 bars per year, daily bars on every day
    (crypto) 365. Intraday bars count the bars actually present per year, so sessions and
    weekends (FX, equities) are accounted for. Weekly 52, monthly 12, quarterly 4, yearly 1.

    Examples
    --------
    >>> import workbench.data as wd
    >>> infer_frequency(wd.sample("GOOG"))
    Frequency(label='1d', every=datetime.timedelta(days=1), periods_per_year=252.0)
    >>> infer_frequency(wd.sample("BTCUSD")).periods_per_year
    12.0
    """
    if SYMBOL in bars.columns and bars[SYMBOL].n_unique() > 1:
        first = bars[SYMBOL].mode().sort()[0]
        part = bars.filter(pl.col(SYMBOL) == first)
    else:
        part = bars
    stamps = part.get_column(TS)
    return frequency_of(stamps.to_numpy(), getattr(stamps.dtype, "time_zone", None) or "UTC")


def frequency_of(ts: np.ndarray, time_zone: str = "UTC") -> Frequency:
    """:func:`infer_frequency` of one symbol's sorted timestamps (``datetime64``, UTC) whose
    bars are dated in ``time_zone`` (which decides on which weekday a daily bar falls).

    The answers for the last few calendars of up to :data:`_MEMO_BARS` bars are kept with a copy
    of their timestamps, and given again for equal timestamps (many backtests on one dataset).

    >>> import workbench.data as wd
    >>> frequency_of(wd.sample("EURUSD")["ts"].to_numpy()).label
    '1h'
    """
    small = 1 < len(ts) <= _MEMO_BARS
    if small:
        key = (len(ts), ts[0], ts[-1], time_zone)
        kept = _MEMO.get(key)
        if kept is not None and np.array_equal(kept[0], ts):
            return kept[1]
    freq = _frequency_of(ts, time_zone)
    if small:
        if len(_MEMO) >= 8:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = (np.array(ts, copy=True), freq)
    return freq


_MEMO_BARS = 100_000
_MEMO: dict[tuple, tuple[np.ndarray, Frequency]] = {}


def _frequency_of(ts: np.ndarray, time_zone: str) -> Frequency:
    step = _median_step_seconds(ts)
    if step < 0.9 * _DAY:
        label = min(_INTRADAY, key=lambda x: abs(np.log(x[0] / step)))[1]
        if abs(np.log(dict((b, a) for a, b in _INTRADAY)[label] / step)) > 0.2:
            label = f"{step:g}s"
        span_years = (ts[-1] - ts[0]) / np.timedelta64(1, "s") / (365.25 * _DAY)
        per_year = (len(ts) - 1) / span_years if span_years > 0 else 365.25 * _DAY / step
        return Frequency(label, timedelta(seconds=step), float(round(per_year, 1)))
    days = step / _DAY
    for lo, hi, label, per_year in _CALENDAR:
        if lo <= days <= hi:
            if per_year is None:  # daily: trading days or calendar days? (weekdays in local time)
                weekend = np.count_nonzero(_weekdays(ts, time_zone) >= 6)
                per_year = 365.0 if weekend > 0.05 * len(ts) else 252.0
            return Frequency(label, timedelta(seconds=step), per_year)
    return Frequency(f"{days:g}d", timedelta(seconds=step), float(round(365.25 / days, 4)))


def _weekdays(ts: np.ndarray, time_zone: str) -> np.ndarray:
    """ISO weekdays (Monday 1 … Sunday 7) of UTC timestamps ``ts`` on the clock of ``time_zone``."""
    if time_zone != "UTC":
        local = pl.Series(ts.astype("datetime64[us]")).dt.replace_time_zone("UTC").dt.convert_time_zone(time_zone)
        return local.dt.weekday().to_numpy()
    days = ts.astype("datetime64[us]", copy=False).view(np.int64) // 86_400_000_000  # (floor: days before 1970 too)
    return (days + 3) % 7 + 1  # 1970-01-01 was a Thursday


def parse_every(every: str) -> timedelta | str:
    """Check a polars duration string (``"1d"``, ``"4h"``, ``"1w"``, ``"1mo"``, ``"1q"``, ``"1y"``).

    >>> parse_every("1w")
    '1w'
    """
    import re

    if not isinstance(every, str) or not re.fullmatch(r"\d+(ns|us|ms|s|m|h|d|w|mo|q|y)", every):
        from workbench.errors import InvalidParameterError

        raise InvalidParameterError(
            f"`every` must be a duration such as '5m', '1h', '1d', '1w', '1mo', '1q' or '1y'; got {every!r}."
        )
    return every
