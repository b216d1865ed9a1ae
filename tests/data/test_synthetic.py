"""synthetic(): determinism by seed, valid OHLC for any seed and settings, GBM statistics,
regime switches, the multi-symbol layout, and parameter errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench.data as wd
from workbench.errors import InvalidParameterError


def _log_returns(bars: pl.DataFrame) -> np.ndarray:
    return np.diff(np.log(bars["close"].to_numpy()))


def test_same_seed_same_bars_other_seed_other_bars():
    a = wd.synthetic(200, 2, seed=7)
    assert a.equals(wd.synthetic(200, 2, seed=7))
    assert not a["close"].equals(wd.synthetic(200, 2, seed=8)["close"])


def test_regime_draws_are_deterministic_too():
    kwargs = dict(seed=3, regimes=[(0.0, 0.1), (0.0, 0.6)], switch_prob=0.05)
    assert wd.synthetic(300, 3, **kwargs).equals(wd.synthetic(300, 3, **kwargs))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_bars=st.integers(2, 300),
    n_symbols=st.integers(1, 4),
    sigma=st.floats(0.0, 2.0),
    mu=st.floats(-1.0, 1.0),
    every=st.sampled_from(["1m", "1h", "1d", "1w", "1mo"]),
    regimes=st.none() | st.lists(st.tuples(st.floats(-1, 1), st.floats(0, 2)), min_size=1, max_size=3),
)
def test_bars_are_always_valid(seed, n_bars, n_symbols, sigma, mu, every, regimes):
    bars = wd.synthetic(n_bars, n_symbols, seed=seed, sigma=sigma, mu=mu, every=every, regimes=regimes, switch_prob=0.1)
    assert wd.validate(bars) is bars
    assert bars.height == n_bars * n_symbols
    o, h, lo, c, v = (bars[col].to_numpy() for col in ("open", "high", "low", "close", "volume"))
    assert (lo > 0).all() and (lo <= np.minimum(o, c)).all() and (h >= np.maximum(o, c)).all()
    assert (v >= 0).all() and np.isfinite(h).all()


def test_gbm_statistics_match_the_parameters():
    mu, sigma, ppy = 0.1, 0.3, 252.0
    r = _log_returns(wd.synthetic(20_000, seed=1, mu=mu, sigma=sigma, periods_per_year=ppy))
    assert r.std(ddof=1) * np.sqrt(ppy) == pytest.approx(sigma, rel=0.02)
    # mean log return (mu - sigma^2/2) dt; its standard error is sigma*sqrt(dt/n)
    dt = 1 / ppy
    assert abs(r.mean() - (mu - sigma**2 / 2) * dt) < 4 * sigma * np.sqrt(dt / r.size)


def test_periods_per_year_scales_the_volatility():
    r = _log_returns(wd.synthetic(10_000, seed=2, sigma=0.2, periods_per_year=365 * 24, every="1h"))
    assert r.std(ddof=1) == pytest.approx(0.2 / np.sqrt(365 * 24), rel=0.03)


def test_zero_volatility_is_a_deterministic_drift():
    bars = wd.synthetic(50, seed=0, mu=0.1, sigma=0.0, periods_per_year=100.0, price=50.0)
    expected = 50.0 * np.exp(0.1 / 100 * np.arange(1, 51))
    np.testing.assert_allclose(bars["close"].to_numpy(), expected, rtol=1e-12)
    np.testing.assert_array_equal(bars["high"].to_numpy(), bars["close"].to_numpy())


def test_every_bar_switching_alternates_two_volatilities():
    # switch_prob=1 with two regimes flips regime at every bar: odd and even bars differ
    bars = wd.synthetic(8001, seed=4, regimes=[(0.0, 0.1), (0.0, 0.9)], switch_prob=1.0)
    r = np.log(bars["close"].to_numpy() / np.r_[100.0, bars["close"].to_numpy()[:-1]])
    per_bar = np.sqrt(1 / 252)
    assert r[0::2].std() / per_bar == pytest.approx(0.9, rel=0.05)  # bar 0 is already switched
    assert r[1::2].std() / per_bar == pytest.approx(0.1, rel=0.05)


def test_no_switching_stays_in_the_first_regime():
    r = _log_returns(wd.synthetic(10_000, seed=5, regimes=[(0.0, 0.15), (0.0, 1.5)], switch_prob=0.0))
    assert r.std(ddof=1) * np.sqrt(252) == pytest.approx(0.15, rel=0.03)


def test_regime_switching_clusters_volatility():
    def abs_return_autocorr(bars: pl.DataFrame) -> float:
        a = np.abs(_log_returns(bars))
        return float(np.corrcoef(a[:-1], a[1:])[0, 1])

    plain = wd.synthetic(6000, seed=6, sigma=0.4)
    switching = wd.synthetic(6000, seed=6, regimes=[(0.0, 0.1), (0.0, 0.8)], switch_prob=0.01)
    assert abs(abs_return_autocorr(plain)) < 0.05
    assert abs_return_autocorr(switching) > 0.2
    # the rolling volatility spans both regimes
    r = _log_returns(switching)
    rolling = np.sqrt(np.convolve(r**2, np.ones(50) / 50, mode="valid") * 252)
    assert rolling.min() < 0.2 and rolling.max() > 0.6


def test_multi_symbol_layout():
    bars = wd.synthetic(30, 3, seed=9, every="1h", start=datetime(2021, 6, 1, 9, tzinfo=timezone.utc))
    assert bars.columns == ["ts", "symbol", "open", "high", "low", "close", "volume"]
    assert bars["symbol"].to_list() == ["S0"] * 30 + ["S1"] * 30 + ["S2"] * 30
    ts = bars.filter(pl.col("symbol") == "S0")["ts"]
    for sym in ("S1", "S2"):
        assert bars.filter(pl.col("symbol") == sym)["ts"].equals(ts)
    assert ts[0] == datetime(2021, 6, 1, 9, tzinfo=timezone.utc)
    assert ts.diff().drop_nulls().unique().to_list() == [timedelta(hours=1)]
    arr = wd.to_arrays(bars)
    assert arr.symbols == ("S0", "S1", "S2") and arr.close.shape == (30, 3)


def test_symbols_are_independent():
    arr = wd.to_arrays(wd.synthetic(5000, 2, seed=10))
    r = np.diff(np.log(arr.close), axis=0)
    assert abs(np.corrcoef(r.T)[0, 1]) < 0.06


def test_one_symbol_has_no_symbol_column():
    bars = wd.synthetic(5, seed=0)
    assert bars.columns == ["ts", "open", "high", "low", "close", "volume"]
    assert bars.schema["ts"] == pl.Datetime("us", "UTC")
    assert bars["ts"][0] == datetime(2000, 1, 1, tzinfo=timezone.utc)


def test_start_naive_is_utc_and_aware_keeps_the_instant():
    naive = wd.synthetic(3, seed=0, start=datetime(2020, 1, 1, 9))
    assert naive["ts"][0] == datetime(2020, 1, 1, 9, tzinfo=timezone.utc)
    minus5 = timezone(timedelta(hours=-5))
    aware = wd.synthetic(3, seed=0, start=datetime(2020, 1, 1, 9, tzinfo=minus5))
    assert aware["ts"][0] == datetime(2020, 1, 1, 14, tzinfo=timezone.utc)


def test_monthly_timestamps_follow_the_calendar():
    bars = wd.synthetic(14, seed=0, every="1mo", start=datetime(2023, 1, 31, tzinfo=timezone.utc))
    assert bars["ts"].dt.month().to_list() == [*range(1, 13), 1, 2]
    assert bars["ts"][1].day == 28  # clamped to the end of February


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(n_bars=1), r"`n_bars` must be an integer in \[2, inf\); got 1"),
        (dict(n_bars=10.5), r"`n_bars`"),
        (dict(n_symbols=0), r"`n_symbols`"),
        (dict(seed=-1), r"`seed` must be an integer in \[0, inf\); got -1"),
        (dict(seed="a"), r"`seed`"),
        (dict(sigma=-0.1), r"`sigma` must be a float in \[0, 10\]; got -0.1"),
        (dict(mu=float("nan")), r"`mu`"),
        (dict(mu="x"), r"`mu`"),
        (dict(periods_per_year=0), r"`periods_per_year`"),
        (dict(switch_prob=1.5), r"`switch_prob`"),
        (dict(price=0.0), r"`price`"),
        (dict(every="daily"), r"`every` must be a duration"),
        (dict(start="2020-01-01"), r"`start` must be a datetime; got '2020-01-01'"),
        (dict(regimes=[(0.1,)]), r"`regimes` must be a list of finite \(mu, sigma\) pairs"),
        (dict(regimes=[(0.1, -0.2)]), r"`regimes`"),
        (dict(regimes=[(0.1, float("nan"))]), r"`regimes`"),
        (dict(regimes=[(0.1, 0.2), (0.3,)]), r"`regimes`"),
        (dict(regimes=[("a", "b")]), r"`regimes`"),
    ],
)
def test_parameter_errors(kwargs, pattern):
    kwargs = {"n_bars": 10, **kwargs}
    with pytest.raises(InvalidParameterError, match=pattern) as info:
        wd.synthetic(**kwargs)
    assert isinstance(info.value, ValueError)


def test_prices_that_would_underflow_are_refused():
    with pytest.raises(InvalidParameterError, match=r"underflow.*Fix: use a smaller `sigma`"):
        wd.synthetic(20_000, seed=0, sigma=10.0)
