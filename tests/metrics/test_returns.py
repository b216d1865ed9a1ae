"""Return and ratio metrics against empyrical and quantstats (oracles, 1e-9 relative), and
the documented conventions where the definitions part ways."""

from __future__ import annotations

import math

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
import quantstats.stats as qs

import workbench.metrics as wm
from workbench.errors import DataValidationError, InvalidParameterError

RTOL = 1e-9


def close(ours: float, oracle: float) -> None:
    np.testing.assert_allclose(ours, oracle, rtol=RTOL, atol=0.0)


def qs_series(r: np.ndarray) -> pd.Series:
    return pd.Series(r, index=pd.date_range("2020-01-01", periods=r.size, freq="D"))


def per_period(rate: float, ppy: float) -> float:
    return (1.0 + rate) ** (1.0 / ppy) - 1.0


# --------------------------------------------------------------------------- oracles

def test_annual_return_matches_empyrical_and_quantstats(returns, ppy):
    ours = wm.annual_return(returns, periods_per_year=ppy)
    close(ours, ep.annual_return(returns, annualization=ppy))
    close(ours, ep.cagr(returns, annualization=ppy))
    close(ours, qs.cagr(qs_series(returns), periods=ppy))


def test_cagr_of_the_curve_equals_annual_return_of_its_returns(returns, ppy):
    equity = 250.0 * np.cumprod(1.0 + returns)
    close(wm.cagr(equity, init_cash=250.0, periods_per_year=ppy), ep.annual_return(returns, annualization=ppy))


def test_annual_volatility_matches_empyrical_and_quantstats(returns, ppy):
    ours = wm.annual_volatility(returns, periods_per_year=ppy)
    close(ours, ep.annual_volatility(returns, annualization=ppy))
    close(ours, qs.volatility(qs_series(returns), periods=ppy))


@pytest.mark.parametrize("risk_free", [0.0, 0.04])
def test_sharpe_matches_empyrical_and_quantstats(returns, ppy, risk_free):
    ours = wm.sharpe_ratio(returns, periods_per_year=ppy, risk_free=risk_free)
    close(ours, ep.sharpe_ratio(returns, risk_free=per_period(risk_free, ppy), annualization=ppy))
    close(ours, qs.sharpe(qs_series(returns), rf=risk_free, periods=ppy))


@pytest.mark.parametrize("risk_free", [0.0, 0.04])
def test_sortino_matches_empyrical_and_quantstats(returns, ppy, risk_free):
    ours = wm.sortino_ratio(returns, periods_per_year=ppy, risk_free=risk_free)
    close(ours, ep.sortino_ratio(returns, required_return=per_period(risk_free, ppy), annualization=ppy))
    close(ours, qs.sortino(qs_series(returns), rf=risk_free, periods=ppy))


def test_calmar_matches_empyrical_and_quantstats(returns, ppy):
    ours = wm.calmar_ratio(returns, periods_per_year=ppy)
    close(ours, ep.calmar_ratio(returns, annualization=ppy))
    close(ours, qs.calmar(qs_series(returns), periods=ppy))


@pytest.mark.parametrize("required_return", [0.0, 0.08])
def test_omega_matches_empyrical_and_quantstats(returns, ppy, required_return):
    ours = wm.omega_ratio(returns, periods_per_year=ppy, required_return=required_return)
    close(ours, ep.omega_ratio(returns, required_return=required_return, annualization=ppy))
    close(ours, qs.omega(qs_series(returns), required_return=required_return, periods=ppy))


@pytest.mark.parametrize("risk_free", [0.0, 0.04])
def test_alpha_beta_match_empyrical(returns, benchmark, ppy, risk_free):
    alpha, beta = wm.alpha_beta(returns, benchmark, periods_per_year=ppy, risk_free=risk_free)
    ep_alpha, ep_beta = ep.alpha_beta(returns, benchmark, risk_free=per_period(risk_free, ppy), annualization=ppy)
    close(beta, ep_beta)
    close(alpha, ep_alpha)


def test_total_return_and_simple_returns_against_plain_reference(returns):
    equity = 1_000.0 * np.cumprod(1.0 + returns)
    r = wm.simple_returns(equity, init_cash=1_000.0)
    expected = [equity[0] / 1_000.0 - 1.0] + [equity[i] / equity[i - 1] - 1.0 for i in range(1, equity.size)]
    np.testing.assert_allclose(r, expected, rtol=0, atol=0)
    np.testing.assert_allclose(r, returns, rtol=1e-9, atol=1e-15)
    close(wm.total_return(equity, init_cash=1_000.0), ep.cum_returns_final(returns))


def test_exposure_is_the_fraction_of_bars_held():
    rng = np.random.default_rng(3)
    held = rng.random(501) < 0.37
    assert wm.exposure(held) == sum(bool(h) for h in held) / 501
    assert wm.exposure(held.astype(float) * 2.5) == wm.exposure(held)


# --------------------------------------------------------------------------- conventions

def test_zero_returns_give_zeros_not_nan():
    flat = np.zeros(50)
    for f in (wm.sharpe_ratio, wm.sortino_ratio, wm.calmar_ratio, wm.omega_ratio,
              wm.annual_volatility, wm.annual_return):
        assert f(flat, periods_per_year=252) == 0.0, f.__name__
    assert math.isnan(ep.sharpe_ratio(flat))  # where empyrical leaves it undefined


def test_constant_positive_return_is_an_infinite_ratio_reported_as_nan():
    up = np.full(40, 0.001)
    assert wm.annual_volatility(up, periods_per_year=252) == 0.0
    for f in (wm.sharpe_ratio, wm.sortino_ratio, wm.calmar_ratio, wm.omega_ratio):
        assert math.isnan(f(up, periods_per_year=252)), f.__name__


def test_constant_negative_return_keeps_finite_downside_ratios():
    down = np.full(40, -0.001)
    assert math.isnan(wm.sharpe_ratio(down, periods_per_year=252))  # zero variance, non-zero mean
    assert wm.sortino_ratio(down, periods_per_year=252) == pytest.approx(-math.sqrt(252), rel=1e-12)
    assert wm.omega_ratio(down, periods_per_year=252) == 0.0
    growth = 0.999**40
    expected = (growth ** (252 / 40) - 1) / (1 - growth)
    assert wm.calmar_ratio(down, periods_per_year=252) == pytest.approx(expected, rel=1e-12)


def test_single_return():
    assert wm.annual_volatility([0.01], periods_per_year=252) == 0.0
    assert math.isnan(wm.sharpe_ratio([0.01], periods_per_year=252))
    assert wm.sharpe_ratio([0.0], periods_per_year=252) == 0.0
    assert wm.annual_return([0.01], periods_per_year=1) == pytest.approx(0.01, rel=1e-12)


def test_wiped_out_account_has_annual_return_minus_one():
    assert wm.annual_return([0.1, -1.0, 0.5], periods_per_year=252) == -1.0
    assert wm.annual_return([-1.5], periods_per_year=252) == -1.0
    assert wm.cagr([0.0], init_cash=100.0, periods_per_year=252) == -1.0
    assert wm.cagr([-5.0], init_cash=100.0, periods_per_year=252) == -1.0


def test_growth_beyond_float_range_is_nan_not_inf():
    assert math.isnan(wm.annual_return([1.0], periods_per_year=1e8))
    assert math.isnan(wm.cagr([200.0], init_cash=100.0, periods_per_year=1e8))


def test_cagr_uses_calendar_years_when_given():
    assert wm.cagr([150.0] * 10, init_cash=100.0, periods_per_year=252, years=2.0) == pytest.approx(1.5**0.5 - 1)
    assert wm.cagr([150.0] * 252, init_cash=100.0, periods_per_year=252) == pytest.approx(0.5)


def test_simple_returns_after_a_wipe_out_are_zero():
    r = wm.simple_returns([50.0, 0.0, 0.0, 10.0], init_cash=100.0)
    np.testing.assert_array_equal(r, [-0.5, -1.0, 0.0, 0.0])
    np.testing.assert_array_equal(wm.simple_returns([5.0, 6.0]), [0.0, 6.0 / 5.0 - 1.0])


def test_constant_benchmark_has_zero_beta():
    r = np.array([0.01, -0.02, 0.03, 0.0])
    alpha, beta = wm.alpha_beta(r, np.full(4, 0.001), periods_per_year=252)
    assert beta == 0.0
    assert alpha == pytest.approx((1 + r.mean()) ** 252 - 1, rel=1e-12)


# --------------------------------------------------------------------------- validation

def test_bad_series_raise_with_the_argument_and_the_fix():
    with pytest.raises(DataValidationError, match=r"`returns` must be finite; got nan at index 2\. Fill"):
        wm.sharpe_ratio([0.1, 0.2, float("nan")], periods_per_year=252)
    with pytest.raises(DataValidationError, match=r"`returns` must be 1-D .*shape \(2, 2\)"):
        wm.annual_return(np.zeros((2, 2)), periods_per_year=252)
    with pytest.raises(DataValidationError, match="`equity` must hold at least one value"):
        wm.total_return([], init_cash=1.0)
    with pytest.raises(DataValidationError, match="`returns` must be a 1-D sequence of numbers"):
        wm.annual_return(["a", "b"], periods_per_year=252)
    with pytest.raises(DataValidationError, match=r"`benchmark` must have one return per bar of `returns` \(3\); got 2"):
        wm.alpha_beta([0.1, 0.2, 0.3], [0.1, 0.2], periods_per_year=252)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wm.sharpe_ratio([0.1], periods_per_year=0), r"`periods_per_year` must be a float in \[0.001, 1e\+08\]; got 0\. Use 252"),
        (lambda: wm.sharpe_ratio([0.1], periods_per_year=252, risk_free=4.0), r"`risk_free` must be a float in \(-1, 1\); got 4\.0\. Give the annual rate"),
        (lambda: wm.total_return([1.0], init_cash=-5), r"`init_cash` must be a float in \(0, 1e\+15\]; got -5\."),
        (lambda: wm.omega_ratio([0.1], periods_per_year=252, required_return=-1), r"`required_return` must be a float in \(-1, 1e\+06\]; got -1\."),
        (lambda: wm.cagr([1.0], init_cash=1.0, periods_per_year=252, years=0), r"`years` must be a float in \(0, 10000\]; got 0\."),
    ],
)
def test_bad_settings_raise_invalid_parameter(call, message):
    with pytest.raises(InvalidParameterError, match=message):
        call()


def test_accepts_polars_and_pandas_series():
    import polars as pl

    r = [0.01, -0.02, 0.03]
    expected = wm.sharpe_ratio(r, periods_per_year=252)
    assert wm.sharpe_ratio(pl.Series(r), periods_per_year=252) == expected
    assert wm.sharpe_ratio(pd.Series(r), periods_per_year=252) == expected


def test_benchmark_variance_underflow_gives_zero_beta():
    alpha, beta = wm.alpha_beta([0.01, 0.02], [0.0, 1e-300], periods_per_year=1)
    assert beta == 0.0 and alpha == pytest.approx(0.015)
