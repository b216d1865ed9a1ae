"""infer_frequency(): labels and bars per year for intraday bars with sessions and weekends, daily
bars with and without weekends, weekly, monthly, quarterly and yearly bars, real samples."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

import workbench.data as wd
from workbench.errors import DataValidationError

WEEKS_PER_YEAR = 365.25 / 7


def _with_ts(ts: np.ndarray, *, symbol: str | None = None) -> pl.DataFrame:
    """Valid synthetic bars on the given timestamps (datetime64[us], UTC)."""
    bars = wd.synthetic(len(ts), seed=0).with_columns(
        pl.Series("ts", ts).dt.replace_time_zone("UTC").dt.cast_time_unit("us")
    )
    if symbol is not None:
        bars = bars.with_columns(symbol=pl.lit(symbol)).select(["ts", "symbol", *wd.BAR_COLUMNS])
    return wd.validate(bars)


def _session_bars(minutes: int, *, open_h: float, hours: float, weekdays: int = 5, weeks: int = 52) -> np.ndarray:
    """Bars every ``minutes`` during a daily session on the first ``weekdays`` days of each week."""
    monday = np.datetime64("2024-01-01T00:00", "us")
    days = np.array([monday + np.timedelta64(7 * w + d, "D") for w in range(weeks) for d in range(weekdays)])
    offsets = np.arange(0, int(hours * 60), minutes) + int(open_h * 60)
    return (days[:, None] + offsets[None, :].astype("timedelta64[m]")).ravel()


@pytest.mark.parametrize(
    "minutes, label, open_h, hours, weekdays",
    [
        (1, "1m", 14.5, 6.5, 5),   # US equities, one year of minute bars
        (5, "5m", 14.5, 6.5, 5),
        (15, "15m", 8.0, 8.5, 5),
        (60, "1h", 14.5, 7.0, 5),  # hourly session bars: 09:30 … 15:30
        (60, "1h", 0.0, 24.0, 5),  # FX: 24 hours, 5 days
        (60, "1h", 0.0, 24.0, 7),  # crypto: every hour
        (240, "4h", 0.0, 24.0, 7),
    ],
)
def test_intraday_with_overnight_and_weekend_gaps(minutes, label, open_h, hours, weekdays):
    ts = _session_bars(minutes, open_h=open_h, hours=hours, weekdays=weekdays)
    freq = wd.infer_frequency(_with_ts(ts))
    assert freq.label == label
    assert freq.every == timedelta(minutes=minutes)
    bars_per_week = len(ts) / 52
    expected = bars_per_week * WEEKS_PER_YEAR  # the rate at which bars actually occur
    assert freq.periods_per_year == pytest.approx(expected, rel=0.01)


def test_irregular_intraday_spacing_gets_a_seconds_label():
    ts = np.datetime64("2024-01-01T00:00", "us") + np.arange(500) * np.timedelta64(10, "m")
    freq = wd.infer_frequency(_with_ts(ts))
    assert freq.label == "600s" and freq.every == timedelta(minutes=10)
    assert freq.periods_per_year == pytest.approx(365.25 * 24 * 6, rel=0.01)


def test_daily_weekdays_only_is_252():
    ts = _session_bars(24 * 60, open_h=0, hours=24, weekdays=5, weeks=60)
    freq = wd.infer_frequency(_with_ts(ts))
    assert (freq.label, freq.every, freq.periods_per_year) == ("1d", timedelta(days=1), 252.0)


def test_daily_with_holidays_is_still_252():
    ts = _session_bars(24 * 60, open_h=0, hours=24, weekdays=5, weeks=60)
    ts = np.delete(ts, [3, 40, 41, 150, 251])  # holidays, one of them a long weekend
    assert wd.infer_frequency(_with_ts(ts)).periods_per_year == 252.0


def test_daily_every_day_is_365():
    freq = wd.infer_frequency(wd.synthetic(400, seed=1, every="1d"))
    assert (freq.label, freq.periods_per_year) == ("1d", 365.0)


def test_daily_equities_in_their_own_timezone():
    ts = _session_bars(24 * 60, open_h=16, hours=1, weekdays=5, weeks=30)  # 16:00 each weekday
    bars = _with_ts(ts).with_columns(pl.col("ts").dt.replace_time_zone(None).dt.replace_time_zone("America/New_York"))
    assert wd.infer_frequency(bars).periods_per_year == 252.0


def test_weekly_with_a_missing_week():
    ts = np.datetime64("2020-01-06", "us") + np.arange(120) * np.timedelta64(7, "D")
    freq = wd.infer_frequency(_with_ts(np.delete(ts, 30)))
    assert (freq.label, freq.periods_per_year) == ("1w", 52.0)


@pytest.mark.parametrize("anchor", ["start", "end"])
def test_monthly_irregular_month_lengths(anchor):
    starts = pl.date_range(datetime(2019, 1, 1), datetime(2024, 12, 1), "1mo", eager=True)
    dates = starts if anchor == "start" else starts.dt.month_end()
    ts = dates.cast(pl.Datetime("us")).to_numpy()
    steps = np.diff(ts).astype("timedelta64[D]").astype(int)
    assert set(steps) >= {28, 29, 30, 31}  # really irregular
    freq = wd.infer_frequency(_with_ts(ts))
    assert (freq.label, freq.periods_per_year) == ("1mo", 12.0)


@pytest.mark.parametrize("every, label, per_year", [("1q", "1q", 4.0), ("1y", "1y", 1.0), ("1w", "1w", 52.0)])
def test_calendar_frequencies(every, label, per_year):
    freq = wd.infer_frequency(wd.synthetic(40, seed=2, every=every))
    assert (freq.label, freq.periods_per_year) == (label, per_year)


def test_uncommon_multi_day_spacing():
    freq = wd.infer_frequency(wd.synthetic(100, seed=0, every="2d"))
    assert freq.label == "2d" and freq.periods_per_year == pytest.approx(365.25 / 2)


@pytest.mark.parametrize(
    "name, label, per_year",
    [("GOOG", "1d", 252.0), ("SP500", "1d", 252.0), ("BTCUSD", "1mo", 12.0), ("STOCKS20", "1d", 252.0)],
)
def test_real_samples(name, label, per_year):
    freq = wd.infer_frequency(wd.sample(name))
    assert (freq.label, freq.periods_per_year) == (label, per_year)


def test_eurusd_hourly_sample():
    bars = wd.sample("EURUSD")
    freq = wd.infer_frequency(bars)
    assert freq.label == "1h" and freq.every == timedelta(hours=1)
    # FX trades about 24 hours x 5 days a week
    assert freq.periods_per_year == pytest.approx(24 * 5 * WEEKS_PER_YEAR, rel=0.03)
    weekend = bars.filter(pl.col("ts").dt.weekday() == 6).height
    assert weekend < 0.01 * bars.height  # the sample does skip weekends


def test_long_format_uses_the_most_complete_symbol():
    daily = wd.synthetic(300, n_symbols=2, seed=3, every="1d")
    short = daily.filter((pl.col("symbol") == "S1") & (pl.int_range(pl.len()).over("symbol") % 7 < 5))
    ragged = pl.concat([daily.filter(pl.col("symbol") == "S0"), short])
    assert wd.infer_frequency(ragged).periods_per_year == 365.0


def test_frequency_str():
    assert str(wd.infer_frequency(wd.sample("GOOG"))) == "1d (252 bars/year)"


def test_needs_two_distinct_timestamps():
    bars = wd.synthetic(3, seed=0).head(1)
    with pytest.raises(DataValidationError, match="fewer than two distinct timestamps"):
        wd.infer_frequency(bars)


def test_frequency_is_frozen():
    freq = wd.infer_frequency(wd.synthetic(10, seed=0))
    with pytest.raises(AttributeError):
        freq.label = "1h"  # type: ignore[misc]
    assert freq == wd.Frequency("1d", timedelta(days=1), 365.0)



@pytest.mark.parametrize("tz", ["UTC", "Asia/Tokyo", "America/New_York"])
def test_weekdays_follow_the_clock_of_the_time_zone(tz):
    from workbench.data.frequency import _weekdays

    rng = np.random.default_rng(3)
    ts = np.sort(rng.integers(0, 2_000_000_000_000_000, 500)).astype("datetime64[us]")
    want = pl.Series(ts).dt.replace_time_zone("UTC").dt.convert_time_zone(tz).dt.weekday().to_numpy()
    np.testing.assert_array_equal(_weekdays(ts, tz), want)


def test_daily_tokyo_weekdays_are_trading_days_although_utc_dates_fall_on_sundays():
    ts = _session_bars(24 * 60, open_h=9, hours=1, weekdays=5, weeks=30)  # 09:00 Tokyo = 00:00 UTC
    bars = _with_ts(ts).with_columns(pl.col("ts").dt.replace_time_zone(None).dt.replace_time_zone("Asia/Tokyo")
                                     .dt.offset_by("-9h"))  # midnight in Tokyo: the day before in UTC
    assert (bars["ts"].dt.convert_time_zone("UTC").dt.weekday() == 7).mean() > 0.15
    assert wd.infer_frequency(bars).periods_per_year == 252.0


@pytest.mark.parametrize("n", [2, 3, 4, 5, 64, 65, 1001])
def test_median_step_equals_numpy_median_with_repeated_steps(n):
    from workbench.data.frequency import _median_step_seconds, _weekdays

    rng = np.random.default_rng(n)
    for _ in range(25):  # calendars: a few distinct gaps, many repeated (and some duplicate stamps)
        gaps = rng.choice([0, 86_400, 86_400, 86_400, 3 * 86_400, 7_200], size=n - 1) * 1_000_000
        start = np.datetime64("1965-03-01", "us").astype(np.int64)
        ts = (start + np.concatenate([[0], np.cumsum(gaps)])).astype("datetime64[us]")
        steps = np.diff(ts.astype(np.int64)) / 1e6
        if (steps > 0).any():
            assert _median_step_seconds(ts) == float(np.median(steps[steps > 0]))
        days = ts.astype("datetime64[D]").astype(object)
        assert _weekdays(ts, "UTC").tolist() == [d.isoweekday() for d in days]


def test_kept_answers_are_given_only_for_equal_timestamps():
    from workbench.data.frequency import frequency_of

    day = 86_400_000_000
    a = (np.arange(11, dtype=np.int64) * day).astype("datetime64[us]")  # ten one-day steps
    b = a.copy()
    b[1:10] = (np.arange(1, 10) * day // 24).astype("datetime64[us]")  # same ends and length: hourly inside
    first = frequency_of(a)
    assert frequency_of(a) is first  # kept
    assert frequency_of(b).label != first.label  # same ends and length, other timestamps: computed
    a_moved = a.copy()
    a_moved[5] += 1  # one stamp differs: computed again
    assert frequency_of(a_moved) is not first
