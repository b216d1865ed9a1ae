"""Hypothesis property tests: invariants every indicator must keep on arbitrary input."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from workbench import indicators as ind

SETTINGS = settings(max_examples=60, deadline=None)

prices = st.integers(5, 80).flatmap(
    lambda n: arrays(np.float64, n, elements=st.floats(0.01, 1e4, allow_nan=False))
)
windows = st.integers(1, 5)


def with_nans(draw_mask, x):
    y = x.copy()
    y[draw_mask[: len(x)]] = np.nan
    return y


@SETTINGS
@given(
    value=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    n=st.integers(1, 60),
    data=st.data(),
)
def test_averages_of_a_constant_are_the_constant(value, n, data):
    x = np.full(n, value)
    w = data.draw(st.integers(1, n))
    for fn in (ind.sma, ind.ema, ind.wma):
        out = fn(x, w)
        assert np.isnan(out[: w - 1]).all()
        np.testing.assert_array_equal(out[w - 1 :], value)
    np.testing.assert_array_equal(ind.rolling_std(x, w)[w - 1 :], 0.0)


@SETTINGS
@given(x=prices, w=windows)
def test_averages_lie_within_the_window_range(x, w):
    lo = np.array([x[max(0, i - w + 1) : i + 1].min() for i in range(len(x))])
    hi = np.array([x[max(0, i - w + 1) : i + 1].max() for i in range(len(x))])
    for out in (ind.sma(x, w), ind.wma(x, w)):
        ok = ~np.isnan(out)
        tol = 1e-12 * np.abs(x).max()
        assert (out[ok] >= lo[ok] - tol).all() and (out[ok] <= hi[ok] + tol).all()
    e = ind.ema(x, w)
    ok = ~np.isnan(e)
    assert (e[ok] >= x.min() - 1e-9).all() and (e[ok] <= x.max() + 1e-9).all()


@SETTINGS
@given(x=prices, w=st.integers(1, 4), mask=arrays(np.bool_, 80))
def test_rsi_is_between_0_and_100(x, w, mask):
    if len(x) < w + 1:
        return
    out = ind.rsi(with_nans(mask, x), w)
    ok = ~np.isnan(out)
    assert ((out[ok] >= 0.0) & (out[ok] <= 100.0)).all()


@SETTINGS
@given(
    close=prices,
    spread=arrays(np.float64, 80, elements=st.floats(0, 0.2)),
    w=windows,
    data=st.data(),
)
def test_donchian_encloses_the_bars_and_atr_is_non_negative(close, spread, w, data):
    n = len(close)
    w = min(w, n)
    high = close * (1.0 + spread[:n])
    low = close * (1.0 - data.draw(arrays(np.float64, n, elements=st.floats(0, 0.2))))
    upper, lower, mid = ind.donchian(high, low, w)
    ok = ~np.isnan(upper)
    assert ok[w - 1 :].all()
    assert (lower[ok] <= close[ok]).all() and (close[ok] <= upper[ok]).all()
    assert (lower[ok] <= mid[ok]).all() and (mid[ok] <= upper[ok]).all()
    a = ind.atr(high, low, close, w)
    assert (a[w - 1 :] >= 0.0).all()


@SETTINGS
@given(x=prices, w=st.integers(2, 5), k=st.floats(0, 5), ddof=st.integers(0, 1))
def test_bollinger_is_symmetric_and_ordered(x, w, k, ddof):
    if len(x) < w:
        return
    mid, upper, lower = ind.bollinger(x, w, k=k, ddof=ddof)
    ok = ~np.isnan(mid)
    assert (lower[ok] <= mid[ok]).all() and (mid[ok] <= upper[ok]).all()
    np.testing.assert_allclose(upper[ok] - mid[ok], mid[ok] - lower[ok], rtol=1e-9, atol=1e-9)


@SETTINGS
@given(x=prices, w=windows, scale=st.floats(0.01, 100), shift=st.floats(-1e3, 1e3))
def test_affine_equivariance(x, w, scale, shift):
    # sma(a x + b) = a sma(x) + b, std(a x + b) = a std(x), zscore and rsi scale-invariant
    y = scale * x + shift
    tol = dict(rtol=1e-7, atol=1e-7 * (np.abs(y).max() + 1.0))
    np.testing.assert_allclose(ind.sma(y, w), scale * ind.sma(x, w) + shift, **tol)
    np.testing.assert_allclose(ind.ema(y, w), scale * ind.ema(x, w) + shift, **tol)
    np.testing.assert_allclose(ind.rolling_std(y, w), scale * ind.rolling_std(x, w), **tol)
    if len(x) > w:
        np.testing.assert_allclose(ind.rsi(scale * x, w), ind.rsi(x, w), rtol=1e-7, atol=1e-7)


@SETTINGS
@given(x=prices, w=windows, mask=arrays(np.bool_, 80))
def test_nan_only_affects_windows_that_contain_it(x, w, mask):
    y = with_nans(mask, x)
    out = ind.sma(y, w)
    for i in range(len(y)):
        window = y[max(0, i - w + 1) : i + 1]
        full = len(window) == w and not np.isnan(window).any()
        assert np.isnan(out[i]) != full
        if full:
            np.testing.assert_allclose(out[i], window.mean(), rtol=1e-12)


@SETTINGS
@given(x=prices, w=st.integers(1, 6), mask=arrays(np.bool_, 80), ddof=st.integers(0, 1))
def test_every_indicator_equals_its_reference_on_arbitrary_input(ref, x, w, mask, ddof):
    # repeated values, flat stretches, jumps of 6 orders of magnitude and gaps
    y = with_nans(mask, x)
    n = len(y)
    w = min(w, n)
    scale = dict(rtol=1e-9, atol=1e-9 * np.abs(x).max())

    def check(got, expected, **tol):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        np.testing.assert_allclose(got, expected, equal_nan=True, **(tol or scale))

    check(ind.sma(y, w), ref.sma(y, w))
    check(ind.ema(y, w), ref.ema(y, w))
    check(ind.wma(y, w), ref.wma(y, w))
    if w > ddof:
        check(ind.rolling_std(y, w, ddof=ddof), ref.rolling_std(y, w, ddof))
        for got, exp in zip(
            ind.bollinger(y, w, ddof=ddof), ref.bollinger(y, w, 2.0, ddof), strict=True
        ):
            check(got, exp)
    if n > w:
        check(ind.rsi(y, w), ref.rsi(y, w), rtol=1e-9, atol=1e-9)
    high, low = y * 1.01, y * 0.99
    check(ind.atr(high, low, y, w), ref.atr(high, low, y, w))
    for got, exp in zip(ind.donchian(high, low, w), ref.donchian(high, low, w), strict=True):
        check(got, exp, rtol=0, atol=0)
