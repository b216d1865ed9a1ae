"""`compute_stats` and `Stats`: consistency with the per-figure functions, structure, edge
cases, and hypothesis properties (never ±inf; scaling the account changes no ratio)."""

from __future__ import annotations

import dataclasses
import math
import re

import empyrical as ep
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import workbench.metrics as wm
from workbench.errors import DataValidationError, InvalidParameterError
from workbench.metrics import Stats, compute_stats

CASH_FIELDS = {"start_equity", "end_equity", "expectancy", "total_fees", "total_slippage"}


def trades_frame(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    entry = np.sort(rng.integers(0, 200, n))
    ret = rng.normal(0.003, 0.04, n)
    return pl.DataFrame({
        "pnl": ret * 1_000.0, "ret": ret, "entry_bar": entry, "exit_bar": entry + rng.integers(0, 15, n),
        "entry_fees": np.full(n, 0.5), "exit_fees": np.full(n, 0.5), "size": np.full(n, 3.0),
        "direction": ["long", "short"] * (n // 2) + ["long"] * (n % 2), "is_open": np.arange(n) == n - 1,
    })


def test_stats_equal_the_per_figure_functions(returns, benchmark, ppy):
    init_cash = 10_000.0
    equity = init_cash * np.cumprod(1.0 + returns)
    held = np.random.default_rng(1).random(returns.size) < 0.6
    trades = trades_frame(25, returns.size)
    s = compute_stats(equity, init_cash=init_cash, periods_per_year=ppy, trades=trades, exposure=held,
                      benchmark=benchmark, fees_paid=12.5, slippage_paid=3.25, risk_free=0.03)
    r = wm.simple_returns(equity, init_cash=init_cash)
    alpha, beta = wm.alpha_beta(r, benchmark, periods_per_year=ppy, risk_free=0.03)
    expected = {
        "start_equity": init_cash, "end_equity": equity[-1], "n_bars": returns.size, "periods_per_year": ppy,
        "total_return": wm.total_return(equity, init_cash=init_cash),
        "cagr": wm.cagr(equity, init_cash=init_cash, periods_per_year=ppy),
        "annual_return": wm.annual_return(r, periods_per_year=ppy),
        "benchmark_return": ep.cum_returns_final(benchmark), "exposure": wm.exposure(held),
        "annual_volatility": wm.annual_volatility(r, periods_per_year=ppy),
        "sharpe_ratio": wm.sharpe_ratio(r, periods_per_year=ppy, risk_free=0.03),
        "sortino_ratio": wm.sortino_ratio(r, periods_per_year=ppy, risk_free=0.03),
        "calmar_ratio": wm.calmar_ratio(r, periods_per_year=ppy),
        "omega_ratio": wm.omega_ratio(r, periods_per_year=ppy),
        "alpha": alpha, "beta": beta, "risk_free": 0.03, "total_fees": 12.5, "total_slippage": 3.25,
        "value_at_risk": wm.value_at_risk(r), "conditional_value_at_risk": wm.conditional_value_at_risk(r),
        "skew": wm.skew(r), "kurtosis": wm.kurtosis(r), "tail_ratio": wm.tail_ratio(r),
        "n_open_trades": 1,
    }
    for name in ("max_drawdown", "max_drawdown_duration", "average_drawdown", "ulcer_index"):
        expected[name] = getattr(wm, name)(equity, init_cash=init_cash)
    for name in ("n_trades", "win_rate", "best_trade", "worst_trade", "avg_trade", "avg_win", "avg_loss",
                 "payoff_ratio", "profit_factor", "expectancy", "sqn", "kelly_criterion", "max_consecutive_wins",
                 "max_consecutive_losses", "avg_trade_duration", "max_trade_duration"):
        expected[name] = getattr(wm, name)(trades)
    assert set(expected) == {f.name for f in dataclasses.fields(Stats)}
    for name, want in expected.items():
        np.testing.assert_allclose(getattr(s, name), want, rtol=1e-12, atol=0, err_msg=name)
    # the curve's returns are the seeded returns: the headline figures match empyrical too
    np.testing.assert_allclose(s.max_drawdown, ep.max_drawdown(returns), rtol=1e-9)
    np.testing.assert_allclose(s.annual_return, ep.annual_return(returns, annualization=ppy), rtol=1e-9)


def test_every_field_is_typed_documented_and_labelled():
    doc = Stats.__doc__
    for f in dataclasses.fields(Stats):
        assert f.type in ("float", "int"), f.name
        assert f"    {f.name} : {f.type}\n" in doc, f.name
        assert f.metadata["label"] and f.metadata["fmt"] in {"pct", "num", "int", "cash", "bars"}


def test_stats_is_frozen_slotted_and_round_trips_through_to_dict():
    s = compute_stats([101.0, 99.0, 103.0], init_cash=100.0, periods_per_year=252)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.sharpe_ratio = 1.0  # type: ignore[misc]
    assert not hasattr(s, "__dict__")
    d = s.to_dict()
    assert list(d) == [f.name for f in dataclasses.fields(Stats)]
    np.testing.assert_equal(Stats(**d).to_dict(), d)
    assert all(type(v) in (float, int) for v in d.values())


def test_repr_and_html_show_every_label_and_nan_as_na():
    s = compute_stats([100.0, 100.0], init_cash=100.0, periods_per_year=252)
    text, page = repr(s), s._repr_html_()
    for f in dataclasses.fields(Stats):
        assert f.metadata["label"] in text
        assert f.metadata["label"] in page
    assert "Sharpe ratio" in text and "n/a" in text  # alpha without a benchmark
    assert re.search(r"\n    Total return +0\.00%\n", text)
    assert page.startswith("<table") and page.count("<tr>") == len(dataclasses.fields(Stats)) + 6


def test_constant_equity_no_trades():
    s = compute_stats(np.full(100, 5_000.0), init_cash=5_000.0, periods_per_year=365)
    zeros = ("total_return", "cagr", "annual_return", "annual_volatility", "sharpe_ratio", "sortino_ratio",
             "calmar_ratio", "omega_ratio", "max_drawdown", "average_drawdown", "ulcer_index", "skew",
             "kurtosis", "tail_ratio", "value_at_risk", "win_rate", "profit_factor", "payoff_ratio", "sqn",
             "kelly_criterion")
    assert all(getattr(s, name) == 0.0 for name in zeros), {n: getattr(s, n) for n in zeros}
    assert (s.n_trades, s.max_drawdown_duration, s.max_consecutive_wins, s.max_trade_duration) == (0, 0, 0, 0)
    assert all(math.isnan(getattr(s, n)) for n in ("avg_trade", "avg_win", "expectancy", "alpha", "exposure"))


def test_one_bar():
    s = compute_stats([105.0], init_cash=100.0, periods_per_year=252)
    assert s.total_return == pytest.approx(0.05) and s.max_drawdown == 0.0 and s.annual_volatility == 0.0
    assert math.isnan(s.sharpe_ratio)  # one positive return: no spread, an infinite ratio


def test_zero_variance_growth_reports_nan_ratios_not_inf():
    equity = 100.0 * 1.001 ** np.arange(1, 51)
    s = compute_stats(equity, init_cash=100.0, periods_per_year=252)
    assert s.max_drawdown == 0.0 and math.isnan(s.calmar_ratio) and math.isnan(s.omega_ratio)


def test_wiped_out_account():
    s = compute_stats([50.0, 0.0, 0.0], init_cash=100.0, periods_per_year=252)
    assert (s.total_return, s.cagr, s.annual_return, s.max_drawdown) == (-1.0, -1.0, -1.0, -1.0)
    assert s.max_drawdown_duration == 3


def test_cagr_takes_calendar_years():
    equity = np.linspace(101.0, 121.0, 100)
    s = compute_stats(equity, init_cash=100.0, periods_per_year=252, years=2.0)
    assert s.cagr == pytest.approx(1.21**0.5 - 1.0, rel=1e-12)
    assert s.annual_return == pytest.approx(1.21 ** (252 / 100) - 1.0, rel=1e-9)


def test_misaligned_inputs_and_bad_settings_raise():
    with pytest.raises(DataValidationError, match=r"`exposure` must have one value per bar \(3\); got 2"):
        compute_stats([1.0, 2.0, 3.0], init_cash=1.0, periods_per_year=252, exposure=[True, False])
    with pytest.raises(DataValidationError, match=r"`benchmark` must have one return per bar \(3\); got 1"):
        compute_stats([1.0, 2.0, 3.0], init_cash=1.0, periods_per_year=252, benchmark=[0.1])
    with pytest.raises(InvalidParameterError, match="`fees_paid` must be a float"):
        compute_stats([1.0], init_cash=1.0, periods_per_year=252, fees_paid=float("nan"))
    with pytest.raises(InvalidParameterError, match="`periods_per_year` must be a float"):
        compute_stats([1.0], init_cash=1.0, periods_per_year=-252)
    with pytest.raises(DataValidationError, match="`equity` must be finite; got inf at index 1"):
        compute_stats([1.0, float("inf")], init_cash=1.0, periods_per_year=252)


# --------------------------------------------------------------------------- properties

def bar_returns(lowest: float = -1.0):
    return arrays(np.float64, st.integers(1, 60),
                  elements=st.floats(lowest, 3.0, allow_nan=False) | st.sampled_from([0.0, -1.0]))


def curve(r: np.ndarray, init_cash: float) -> np.ndarray:
    return init_cash * np.cumprod(1.0 + r)


@settings(max_examples=120, deadline=None)
@given(r=bar_returns(), init_cash=st.floats(1e-2, 1e9), ppy=st.sampled_from([1.0, 12.0, 252.0, 365.0, 6048.0, 1e8]),
       with_benchmark=st.booleans(), rf=st.sampled_from([0.0, 0.05]), n_trades=st.integers(0, 6))
def test_stats_never_contain_infinities(r, init_cash, ppy, with_benchmark, rf, n_trades):
    bench = np.roll(r, 1) if with_benchmark else None
    trades = trades_frame(n_trades, r.size) if n_trades else None
    s = compute_stats(curve(r, init_cash), init_cash=init_cash, periods_per_year=ppy, benchmark=bench,
                      risk_free=rf, trades=trades, exposure=r != 0)
    for name, value in s.to_dict().items():
        assert not (isinstance(value, float) and math.isinf(value)), (name, value)
    assert -1.0 <= s.max_drawdown <= 0.0


@settings(max_examples=100, deadline=None)
@given(r=bar_returns(-0.95), init_cash=st.floats(1.0, 1e6), power=st.integers(-30, 29), n_trades=st.integers(0, 6))
def test_scaling_the_account_by_a_constant_changes_no_ratio(r, init_cash, power, n_trades):
    scale = 2.0**power  # exact in binary floating point (no underflow: returns >= -0.95 or -1); init_cash * scale <= 1e15, its bound
    trades = trades_frame(n_trades, r.size) if n_trades else None
    scaled_trades = trades.with_columns(pl.col("pnl") * scale) if n_trades else None
    equity = curve(r, init_cash)
    a = compute_stats(equity, init_cash=init_cash, periods_per_year=252, trades=trades).to_dict()
    b = compute_stats(equity * scale, init_cash=init_cash * scale, periods_per_year=252, trades=scaled_trades).to_dict()
    for name in set(a) - CASH_FIELDS:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("scale", [3.7, 1e-3, 12_345.678])
def test_scaling_by_any_constant_changes_no_ratio_on_seeded_curves(returns, scale):
    equity = curve(returns, 1_000.0)
    a = compute_stats(equity, init_cash=1_000.0, periods_per_year=252).to_dict()
    b = compute_stats(equity * scale, init_cash=1_000.0 * scale, periods_per_year=252).to_dict()
    for name in set(a) - CASH_FIELDS:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-9, atol=1e-15, equal_nan=True, err_msg=name)


def test_figures_beyond_the_float_range_are_nan_without_warnings():
    s = compute_stats([1e-300, 1e300, 1.0], init_cash=1e-300, periods_per_year=252)  # a 1e600 return
    assert not any(isinstance(v, float) and math.isinf(v) for v in s.to_dict().values())
    assert math.isnan(s.annual_volatility) and math.isnan(s.sharpe_ratio)
    assert s.max_drawdown == -1.0
