"""Bad input: each is a ``WorkbenchError`` raised in Python whose message names the parameter,
the bad value and the valid range or the fix — never a Numba traceback."""

from __future__ import annotations

import re

import numba
import numpy as np
import polars as pl
import pytest

import workbench as wb
from workbench.backtesting import BacktestConfig
from workbench.errors import (
    DataValidationError,
    InvalidParameterError,
    StrategyError,
    WorkbenchError,
)
from workbench.strategies import Signals, SmaCross, Strategy

N = 30


@pytest.fixture(scope="module")
def bars():
    return wb.data.synthetic(N, seed=3)


def check(exc_info, error, *fragments):
    """The error is a WorkbenchError of the given class whose message holds every fragment."""
    exc = exc_info.value
    assert isinstance(exc, WorkbenchError) and isinstance(exc, error)
    assert "numba" not in type(exc).__module__
    message = str(exc)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# --------------------------------------------------------------------------- settings
@pytest.mark.parametrize(("settings", "fragments"), [
    ({"fees": -0.01}, ["`fees` must be a float in [0, 0.1); got -0.01."]),
    ({"fees": 0.1}, ["`fees`", "[0, 0.1)", "got 0.1"]),
    ({"size": 1.5}, ["`size` must be a float in (0, 1]; got 1.5.", "Fractions above 1 need leverage > 1."]),
    ({"size": 2.5, "leverage": 2}, ["`size`", "(0, 2]", "got 2.5"]),
    ({"sizing": "target", "size": -0.5}, ["`size`", "(0, 1]", "got -0.5"]),
    ({"sizing": "risk", "size": 2.0}, ["`size`", "(0, 1]", "got 2.0", "fraction of equity risked"]),
    ({"sizing": "units", "size": 0}, ["`size`", "(0, inf)", "got 0"]),
    ({"sizing": "precent"}, ["`sizing` must be one of 'percent', 'units', 'value', 'target', 'risk'; got 'precent'.",
                             "Did you mean 'percent'?"]),
    ({"fill": "next_opn"}, ["`fill`", "'next_open', 'same_close'", "got 'next_opn'", "Did you mean 'next_open'?"]),
    ({"fess": 0.001}, ["unknown backtest setting 'fess'.", "Did you mean 'fees'?", "Settings: "]),
    ({"cash": 0}, ["`cash` must be a float in (0, inf); got 0."]),
    ({"cash": "lots"}, ["`cash`", "got 'lots'"]),
    ({"leverage": 0.5}, ["`leverage` must be a float in [1, 100]; got 0.5."]),
    ({"maintenance_margin": 1.0}, ["`maintenance_margin`", "[0, 1)", "got 1.0"]),
    ({"slippage": -0.001}, ["`slippage`", "[0, 0.1)", "got -0.001"]),
    ({"spread": 0.5}, ["`spread`", "got 0.5"]),
    ({"lot_size": -1}, ["`lot_size`", "[0, inf)", "got -1"]),
    ({"tick_size": 0}, ["`tick_size`", "(0, inf)", "got 0"]),
    ({"sl": 0}, ["`sl`", "(0, inf)", "got 0", "fraction of price"]),
    ({"tp": -0.1}, ["`tp`", "got -0.1"]),
    ({"tsl": float("nan")}, ["`tsl`", "got nan"]),
    ({"order_valid_bars": -1}, ["`order_valid_bars` must be an integer in [0, inf); got -1."]),
    ({"order_valid_bars": 1.5}, ["`order_valid_bars`", "got 1.5"]),
    ({"allow_short": "yes"}, ["`allow_short` must be True or False; got 'yes'."]),
    ({"cash_sharing": 1}, ["`cash_sharing` must be True or False; got 1."]),
    ({"periods_per_year": 0}, ["`periods_per_year`", "(0, inf)", "got 0"]),
    ({"risk_free": 2}, ["`risk_free`", "[-1, 1]", "got 2"]),
])
def test_bad_settings(bars, settings, fragments):
    with pytest.raises(InvalidParameterError) as info:
        wb.backtest(bars, SmaCross(fast=3, slow=8), **settings)
    check(info, InvalidParameterError, *fragments)
    with pytest.raises(InvalidParameterError):
        BacktestConfig().replace(**settings)


def test_config_object_and_overrides(bars):
    cfg = BacktestConfig(fees=0.001, cash=5_000)
    res = wb.backtest(bars, SmaCross(fast=3, slow=8), config=cfg, cash=7_000)
    assert (res.config.fees, res.config.cash) == (0.001, 7_000.0)
    with pytest.raises(InvalidParameterError) as info:
        wb.backtest(bars, SmaCross(fast=3, slow=8), config={"fees": 0.001})
    check(info, InvalidParameterError, "`config` must be a BacktestConfig; got dict.")


def test_risk_sizing_needs_a_stop(bars):
    with pytest.raises(InvalidParameterError) as info:
        wb.backtest(bars, SmaCross(fast=3, slow=8), sizing="risk", size=0.01)
    check(info, InvalidParameterError, "`sizing='risk'` needs a stop-loss", "set `sl=`")
    wb.backtest(bars, SmaCross(fast=3, slow=8), sizing="risk", size=0.01, sl=0.05)  # fine with one


# --------------------------------------------------------------------------- strategies
@pytest.mark.parametrize(("make", "fragments"), [
    (lambda: SmaCross(fast=1), ["`fast` must be an integer in [2, 200]; got 1."]),
    (lambda: SmaCross(slow=1000), ["`slow` must be an integer in [3, 400]; got 1000."]),
    (lambda: SmaCross(fast=2.5), ["`fast`", "got 2.5"]),
    (lambda: SmaCross(fast=30, slow=20), ["SmaCross parameters break the constraint 'fast < slow' (fast=30, slow=20)."]),
    (lambda: SmaCross(direction="up"), ["`direction` must be one of 'long', 'short', 'both'; got 'up'."]),
    (lambda: SmaCross(direction="bth"), ["Did you mean 'both'?"]),
    (lambda: SmaCross(fsat=5), ["SmaCross has no parameter 'fsat'. Did you mean 'fast'?", "Parameters: fast, slow, direction."]),
])
def test_bad_strategy_parameters(make, fragments):
    with pytest.raises(InvalidParameterError) as info:
        make()
    check(info, InvalidParameterError, *fragments)


def test_strategy_argument(bars):
    with pytest.raises(InvalidParameterError) as info:
        wb.backtest(bars, SmaCross)
    check(info, InvalidParameterError, "`strategy` must be a Strategy instance", "Instantiate the class first.")
    with pytest.raises(InvalidParameterError) as info:
        wb.backtest(bars, "SmaCross")
    check(info, InvalidParameterError, "got 'SmaCross'")


class Emits(Strategy):
    """Returns whatever ``make(n_bars)`` builds."""

    def __init__(self, make):
        object.__setattr__(self, "_make", make)
        super().__init__()

    def signals(self, bars):
        return self._make(bars.n_bars)


def _at0(n):
    a = np.zeros(n, dtype=bool)
    a[0] = True
    return a


@pytest.mark.parametrize(("make", "fragments"), [
    (lambda n: Signals(entries=np.zeros(n - 3, dtype=bool)), ["`entries` of length 27; expected 30 (one value per bar)."]),
    (lambda n: Signals(exits=np.zeros((n, 4), dtype=bool)), ["`exits` of shape (30, 4); expected (30, 1)"]),
    (lambda n: Signals(entries=np.r_[np.nan, np.zeros(n - 1)]), ["`entries` with NaN (first at bar 0)", "True/False"]),
    (lambda n: Signals(entries=np.full(n, 2)), ["`entries` with values other than True/False."]),
    (lambda n: Signals(entries=np.array(["x"] * n)), ["`entries` with values other than True/False."]),
    (lambda n: Signals(entries=_at0(n), size=np.full(n, np.inf)), ["`size` with infinite values; use NaN"]),
    (lambda n: Signals(entries=_at0(n), limit=np.array(["a"] * n)), ["`limit` of dtype <U1; expected numbers"]),
    (lambda n: Signals(entries=_at0(n), size=-5.0), ["`size` = -5 with the entry at bar 0; it must be in (0, inf)"]),
    (lambda n: Signals(entries=_at0(n), limit=np.r_[0.0, np.ones(n - 1)]), ["`limit` = 0 with the entry at bar 0"]),
    (lambda n: Signals(entries=_at0(n), sl=-0.05), ["`sl` = -0.05", "(0, inf)"]),
    (lambda n: Signals(entries=_at0(n), weight=1.5), ["`weight` = 1.5", "(0, 1]", "Weights above 1 need leverage > 1."]),
    (lambda n: Signals(entries=_at0(n), stop_mode="abs"), ["stop_mode='abs'; expected 'percent' or 'price'."]),
    (lambda n: Signals(short_entries=_at0(n)), ["emits short entries but `allow_short` is False", "allow_short=True"]),
    (lambda n: {"entries": _at0(n)}, ["signals() must return a Signals object; got dict."]),
])
def test_bad_signals(bars, make, fragments):
    with pytest.raises(StrategyError) as info:
        wb.backtest(bars, Emits(make), allow_short=False)
    check(info, StrategyError, "Emits", *fragments)


def test_levels_on_bars_without_an_entry_are_not_read(bars):
    sl = np.full(N, -1.0)
    sl[0] = 0.05
    res = wb.backtest(bars, Emits(lambda n: Signals(entries=_at0(n), sl=sl)))
    assert res.trades.height == 1


class NoDecisions(Strategy):
    pass


class PlainOnBarNb(Strategy):
    @staticmethod
    def on_bar_nb(t, open_, high, low, close, volume, state, cash, intent, extra):
        pass


@numba.njit
def _wrong_arity(t, open_, high):
    pass


class WrongArity(Strategy):
    on_bar_nb = staticmethod(_wrong_arity)


@numba.njit
def _bad_types(t, open_, high, low, close, volume, state, cash, intent, extra):
    intent[0, 0] = extra[0][t] + "a"


class BadTypes(Strategy):
    on_bar_nb = staticmethod(_bad_types)


class ListExtra(BadTypes):
    def prepare(self, bars):
        return ([1.0, 2.0],)


class ShortsInPython(Strategy):
    def on_bar(self, ctx):
        ctx.sell()


class NegativeSize(Strategy):
    def on_bar(self, ctx):
        ctx.buy(size=-3)


class UnknownAsset(Strategy):
    def on_bar(self, ctx):
        ctx.buy("GOOG")


@pytest.mark.parametrize(("strategy", "error", "fragments"), [
    (NoDecisions(), StrategyError, ["NoDecisions defines no decisions: override signals(), on_bar(), or set on_bar_nb."]),
    (PlainOnBarNb(), StrategyError, ["PlainOnBarNb.on_bar_nb must be compiled with numba.njit", "@numba.njit"]),
    (WrongArity(), StrategyError, ["WrongArity.on_bar_nb cannot be compiled by Numba", "too many positional arguments",
                                   "(t, open, high, low, close, volume, state, cash, intent, extra)"]),
    (BadTypes(), StrategyError, ["BadTypes.on_bar_nb cannot be compiled by Numba", "add(float64"]),
    (ListExtra(), StrategyError, ["ListExtra.prepare() item 0 must be a numeric numpy array or number; got list."]),
    (ShortsInPython(), StrategyError, ["ShortsInPython calls sell() to open a short but `allow_short` is False."]),
    (NegativeSize(), InvalidParameterError, ["`size` must be a positive number (or None); got -3 at bar 0."]),
    (UnknownAsset(), InvalidParameterError, ["unknown asset 'GOOG'."]),
])
def test_bad_per_bar_strategies(bars, strategy, error, fragments):
    with pytest.raises(error) as info:
        wb.backtest(bars, strategy, allow_short=False)
    check(info, error, *fragments)


# --------------------------------------------------------------------------- bars
def test_bad_bars(bars):
    broken = bars.with_columns(pl.when(pl.int_range(pl.len()) == 5).then(pl.col("low") * 2).otherwise(pl.col("low")).alias("low"))
    with pytest.raises(DataValidationError) as info:
        wb.backtest(broken, SmaCross(fast=3, slow=8))
    assert re.search(r"row 5", str(info.value))
    with pytest.raises(DataValidationError) as info:
        wb.backtest(bars.drop("close"), SmaCross(fast=3, slow=8))
    assert "close" in str(info.value)
    with pytest.raises(DataValidationError):
        wb.backtest(bars.head(1), SmaCross(fast=3, slow=8))
    unaligned = pl.concat([bars.with_columns(symbol=pl.lit("A")), bars.head(20).with_columns(symbol=pl.lit("B"))])
    with pytest.raises(DataValidationError) as info:
        wb.backtest(unaligned, SmaCross(fast=3, slow=8))
    assert "align" in str(info.value)
