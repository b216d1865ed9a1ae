"""Each indicator against independent references: the plain numpy implementations of
conftest.py and polars' rolling / EWM expressions."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from workbench import indicators as ind

N = 3000
RTOL = 1e-10


def close_(a, b, rtol=RTOL, atol=1e-10):
    """Equal within tolerance with NaN in the same places (NaN positions must match)."""
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def with_gaps(x: np.ndarray) -> np.ndarray:
    """``x`` with leading NaNs, an isolated NaN, a block of NaNs and a trailing NaN."""
    y = x.copy()
    y[:7] = np.nan
    y[500] = np.nan
    y[1200:1230] = np.nan
    y[-1] = np.nan
    return y


def pl_series(x: np.ndarray) -> pl.Series:
    """A polars Series where NaN is null (polars' rolling functions skip nulls)."""
    return pl.Series(x).fill_nan(None)


def pl_np(s: pl.Series) -> np.ndarray:
    return s.cast(pl.Float64).fill_null(np.nan).to_numpy()


# --- moving averages and moments -----------------------------------------------------------


@pytest.mark.parametrize("window", [1, 2, 14, 200])
@pytest.mark.parametrize("gaps", [False, True])
def test_sma_matches_reference_and_polars(ref, window, gaps):
    x = ref.random_walk(N, seed=1)
    x = with_gaps(x) if gaps else x
    got = ind.sma(x, window)
    close_(got, ref.sma(x, window))
    close_(got, pl_np(pl_series(x).rolling_mean(window, min_samples=window)))


@pytest.mark.parametrize("window", [1, 3, 26, 200])
@pytest.mark.parametrize("gaps", [False, True])
def test_ema_matches_reference(ref, window, gaps):
    x = ref.random_walk(N, seed=2)
    x = with_gaps(x) if gaps else x
    close_(ind.ema(x, window), ref.ema(x, window))


@pytest.mark.parametrize("window", [1, 5, 30])
def test_ema_matches_polars_ewm_seeded_with_sma(ref, window):
    # polars' adjust=False recursion started from the SMA of the first `window` values.
    x = ref.random_walk(N, seed=3)
    seeded = np.concatenate([[x[:window].mean()], x[window:]])
    alpha = 2.0 / (window + 1.0)
    expected = np.full(N, np.nan)
    expected[window - 1 :] = pl.Series(seeded).ewm_mean(alpha=alpha, adjust=False).to_numpy()
    close_(ind.ema(x, window), expected)


@pytest.mark.parametrize("window", [1, 2, 10, 100])
@pytest.mark.parametrize("gaps", [False, True])
def test_wma_matches_reference_and_polars(ref, window, gaps):
    x = ref.random_walk(N, seed=4)
    x = with_gaps(x) if gaps else x
    got = ind.wma(x, window)
    close_(got, ref.wma(x, window))
    w = list(np.arange(1.0, window + 1.0) / (window * (window + 1.0) / 2.0))
    # polars' weighted rolling mean does not accept nulls: apply it to each gap-free run
    polars = ref.per_run(lambda a: pl.Series(a).rolling_mean(window, weights=w).to_numpy(), x)
    close_(got, polars, rtol=1e-9)


@pytest.mark.parametrize(("window", "ddof"), [(1, 0), (2, 0), (2, 1), (20, 0), (20, 1), (150, 1)])
@pytest.mark.parametrize("gaps", [False, True])
def test_rolling_std_matches_reference_and_polars(ref, window, ddof, gaps):
    x = ref.random_walk(N, seed=5)
    x = with_gaps(x) if gaps else x
    got = ind.rolling_std(x, window, ddof=ddof)
    close_(got, ref.rolling_std(x, window, ddof), rtol=1e-8)
    polars = pl_series(x).rolling_std(window, ddof=ddof, min_samples=window)
    close_(got, pl_np(polars), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize(("window", "ddof"), [(2, 0), (20, 0), (20, 1)])
@pytest.mark.parametrize("gaps", [False, True])
def test_zscore_matches_reference_and_polars(ref, window, ddof, gaps):
    x = ref.random_walk(N, seed=6)
    x = with_gaps(x) if gaps else x
    got = ind.zscore(x, window, ddof=ddof)
    close_(got, ref.zscore(x, window, ddof), rtol=1e-7, atol=1e-8)
    s = pl_series(x)
    z = (s - s.rolling_mean(window, min_samples=window)) / s.rolling_std(
        window, ddof=ddof, min_samples=window
    )
    close_(got, pl_np(z), rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize(("window", "k", "ddof"), [(20, 2.0, 0), (5, 1.5, 1), (1, 2.0, 0)])
def test_bollinger_matches_reference_and_polars(ref, window, k, ddof):
    x = with_gaps(ref.random_walk(N, seed=7))
    mid, upper, lower = ind.bollinger(x, window, k=k, ddof=ddof)
    for got, exp in zip((mid, upper, lower), ref.bollinger(x, window, k, ddof), strict=True):
        close_(got, exp, rtol=1e-9)
    s = pl_series(x)
    pmid = s.rolling_mean(window, min_samples=window)
    psd = s.rolling_std(window, ddof=ddof, min_samples=window)
    close_(upper, pl_np(pmid + k * psd), rtol=1e-9)
    close_(lower, pl_np(pmid - k * psd), rtol=1e-9)
    np.testing.assert_array_equal(mid, ind.sma(x, window))  # one algorithm for the mean


# --- oscillators and ranges ----------------------------------------------------------------


@pytest.mark.parametrize("window", [1, 2, 14, 100])
@pytest.mark.parametrize("gaps", [False, True])
def test_rsi_matches_wilder_reference(ref, window, gaps):
    x = ref.random_walk(N, seed=8)
    x = with_gaps(x) if gaps else x
    close_(ind.rsi(x, window), ref.rsi(x, window), rtol=1e-9, atol=1e-9)


def test_rsi_matches_polars_ewm_of_gains_and_losses(ref):
    # Wilder's smoothing is ewm(alpha=1/window, adjust=False) seeded with the simple mean.
    x, w = ref.random_walk(N, seed=9), 14
    d = np.diff(x)
    avgs = []
    for part in (np.where(d > 0, d, 0.0), np.where(d < 0, -d, 0.0)):
        seeded = np.concatenate([[part[:w].mean()], part[w:]])
        avgs.append(pl.Series(seeded).ewm_mean(alpha=1.0 / w, adjust=False).to_numpy())
    expected = np.full(N, np.nan)
    expected[w:] = 100.0 - 100.0 / (1.0 + avgs[0] / avgs[1])
    close_(ind.rsi(x, w), expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("window", [1, 2, 14, 60])
@pytest.mark.parametrize("gaps", [False, True])
def test_atr_matches_wilder_reference(ref, window, gaps):
    high, low, close = ref.random_bars(N, seed=10)
    if gaps:
        high, low, close = high.copy(), low.copy(), close.copy()
        high[100] = np.nan
        low[900:905] = np.nan
        close[:3] = np.nan
        close[2000] = np.nan
    close_(ind.atr(high, low, close, window), ref.atr(high, low, close, window))


@pytest.mark.parametrize(("fast", "slow", "signal"), [(12, 26, 9), (1, 2, 1), (5, 50, 20)])
@pytest.mark.parametrize("gaps", [False, True])
def test_macd_matches_reference(ref, fast, slow, signal, gaps):
    x = ref.random_walk(N, seed=11)
    x = with_gaps(x) if gaps else x
    got = ind.macd(x, fast=fast, slow=slow, signal=signal)
    for g, e in zip(got, ref.macd(x, fast, slow, signal), strict=True):
        close_(g, e, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("window", [1, 2, 20, 300])
@pytest.mark.parametrize("gaps", [False, True])
def test_donchian_matches_reference_and_polars(ref, window, gaps):
    high, low, _ = ref.random_bars(N, seed=12)
    if gaps:
        high, low = with_gaps(high), low.copy()
        low[2500:2510] = np.nan
    upper, lower, mid = ind.donchian(high, low, window)
    for g, e in zip((upper, lower, mid), ref.donchian(high, low, window), strict=True):
        close_(g, e, rtol=0, atol=0)
    valid = pl.Series(~(np.isnan(high) | np.isnan(low)))
    ph = pl_series(high).zip_with(valid, pl.Series([None] * N, dtype=pl.Float64))
    plo = pl_series(low).zip_with(valid, pl.Series([None] * N, dtype=pl.Float64))
    close_(upper, pl_np(ph.rolling_max(window, min_samples=window)), rtol=0, atol=0)
    close_(lower, pl_np(plo.rolling_min(window, min_samples=window)), rtol=0, atol=0)


# --- long series: no drift in the running sums ---------------------------------------------


def test_long_series_stay_within_1e9_of_per_window_recomputation(ref):
    rng = np.random.default_rng(13)
    n = 200_000
    x = 1e4 + np.cumsum(rng.normal(0.0, 1.0, n))  # large level, small moves: hard for sums
    w = 50
    close_(ind.sma(x, w), ref.sma(x, w), rtol=1e-12, atol=0)
    close_(ind.wma(x, w), ref.wma(x, w), rtol=1e-12, atol=0)
    close_(ind.rolling_std(x, w, ddof=1), ref.rolling_std(x, w, 1), rtol=1e-9, atol=0)
    close_(ind.zscore(x, w), ref.zscore(x, w), rtol=1e-9, atol=1e-9)


# --- short edge cases ----------------------------------------------------------------------


def test_window_equal_to_length_gives_one_value(ref):
    x = ref.random_walk(30, seed=14)
    for fn in (ind.sma, ind.ema, ind.wma, ind.rolling_std):
        out = fn(x, 30)
        assert np.isnan(out[:-1]).all() and np.isfinite(out[-1])
    np.testing.assert_allclose(ind.sma(x, 30)[-1], x.mean(), rtol=1e-14)
    np.testing.assert_allclose(ind.ema(x, 30)[-1], x.mean(), rtol=1e-14)
    np.testing.assert_allclose(ind.rolling_std(x, 30)[-1], x.std(), rtol=1e-12)
    assert np.isnan(ind.rsi(x, 29)[:-1]).all() and np.isfinite(ind.rsi(x, 29)[-1])


def test_window_one_is_identity_or_zero(ref):
    x = ref.random_walk(50, seed=15)
    np.testing.assert_array_equal(ind.sma(x, 1), x)
    np.testing.assert_array_equal(ind.ema(x, 1), x)
    np.testing.assert_array_equal(ind.wma(x, 1), x)
    np.testing.assert_array_equal(ind.rolling_std(x, 1), np.zeros(50))
    upper, lower, mid = ind.donchian(x + 1, x - 1, 1)
    np.testing.assert_array_equal(mid, x)


def test_constant_series():
    x = np.full(40, 0.1)  # 0.1 is not exactly representable: sums of it round
    for fn in (ind.sma, ind.ema, ind.wma):
        out = fn(x, 7)
        np.testing.assert_array_equal(out[6:], x[6:])
    np.testing.assert_array_equal(ind.rolling_std(x, 7)[6:], 0.0)
    assert np.isnan(ind.zscore(x, 7)).all()
    np.testing.assert_array_equal(ind.rsi(x, 5)[5:], 50.0)
    line, sig, hist = ind.macd(x, fast=3, slow=6, signal=4)
    np.testing.assert_array_equal(hist[8:], 0.0)
    np.testing.assert_array_equal(ind.atr(x, x, x, 3)[2:], 0.0)


def test_rsi_only_rises_is_100_only_falls_is_0():
    up = np.arange(1.0, 30.0)
    np.testing.assert_array_equal(ind.rsi(up, 14)[14:], 100.0)
    np.testing.assert_array_equal(ind.rsi(up[::-1].copy(), 14)[14:], 0.0)


def test_nan_rule_on_a_tiny_series():
    x = np.array([np.nan, 1.0, 2.0, 3.0, np.nan, 4.0, 5.0, 6.0, 7.0])
    np.testing.assert_array_equal(
        ind.sma(x, 2), [np.nan, np.nan, 1.5, 2.5, np.nan, np.nan, 4.5, 5.5, 6.5]
    )
    # EMA re-seeds after the gap: mean(4, 5, 6) = 5, then 5 + 0.5 * (7 - 5) = 6
    np.testing.assert_array_equal(
        ind.ema(x, 3), [np.nan, np.nan, np.nan, 2.0, np.nan, np.nan, np.nan, 5.0, 6.0]
    )


def test_all_nan_input_gives_all_nan():
    x = np.full(10, np.nan)
    for out in (
        ind.sma(x, 3),
        ind.ema(x, 3),
        ind.rsi(x, 3),
        *ind.macd(x, fast=2, slow=3, signal=2),
    ):
        assert np.isnan(out).all()


def test_rolling_std_keeps_precision_when_the_variance_collapses_after_a_jump(ref):
    # regression: the sliding update lost ~1e-7 (relative) when a large move was followed by a
    # tiny one (the variance drops by 1e7 and the update cancels); it is now recomputed
    x = np.array([178.98077056, 182.45017071, 182.44957894, 182.44957895, 1e4, 1e4 + 1e-6])
    for ddof in (0, 1):
        close_(ind.rolling_std(x, 2, ddof=ddof), ref.rolling_std(x, 2, ddof), rtol=1e-9, atol=0)
    close_(ind.zscore(x, 2), ref.zscore(x, 2), rtol=1e-9, atol=0)
