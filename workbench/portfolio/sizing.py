"""Position sizing from signals: the signal's suggested weight, or the fixed-fractional rule.

An entry takes the weight its signal suggests (``Signals.weight``) when there is one; otherwise
the fixed-fractional rule risks ``risk_per_trade`` of equity over the distance to the stop:
``units = equity × risk ÷ |price − stop|``, i.e. the weight ``risk ÷ stop_fraction``. The weight
is capped by ``max_weight`` and by the account's room (free cash without leverage, the leverage
room otherwise). :func:`sized_backtest` applies the rule inside the engine's core at every entry
and records the weight used with each trade; :func:`estimate_position` previews one entry
(units, cost, risk) against an :class:`~workbench.portfolio.Account` without trading.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl

from workbench._validate import check_choice, check_number
from workbench.backtesting.config import BacktestConfig
from workbench.backtesting.engine import _flex, prepare_bars
from workbench.errors import InvalidParameterError, StrategyError
from workbench.nb.enums import order_dt, trade_dt
from workbench.nb.rebalance import simulate_sized_nb
from workbench.portfolio.account import Account
from workbench.portfolio.rebalance import resolve_benchmark, sharing_config
from workbench.portfolio.result import PortfolioResult
from workbench.strategies.base import Signals, Strategy

__all__ = ["PositionSizer", "EntrySignal", "PositionEstimate", "estimate_position", "sized_backtest"]

Rule = Literal["weight", "fixed_fractional", "none"]
Cap = Literal["none", "max_weight", "room"]


@dataclass(frozen=True)
class PositionSizer:
    """How entries are sized.

    Parameters
    ----------
    risk_per_trade
        Fraction of equity lost if the stop is hit, for entries without a suggested weight.
    max_weight
        Cap on any one position's weight of equity.

    Examples
    --------
    >>> PositionSizer(risk_per_trade=0.02).max_weight
    1.0
    >>> PositionSizer(risk_per_trade=0.5)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `risk_per_trade` must be a float in (0, 0.25]; got 0.5. It is the fraction of equity risked per trade, e.g. 0.01.
    """

    risk_per_trade: float = 0.01
    max_weight: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "risk_per_trade", check_number(
            "risk_per_trade", self.risk_per_trade, 0, 0.25, lo_open=True,
            hint="It is the fraction of equity risked per trade, e.g. 0.01."))
        object.__setattr__(self, "max_weight", check_number("max_weight", self.max_weight, 0, 100, lo_open=True))


@dataclass(frozen=True)
class EntrySignal:
    """One entry to size: ``symbol``, the expected fill ``price``, ``direction`` (+1 long, -1
    short), an optional ``stop`` (a fraction of price when ``stop_mode="percent"``, a price level
    when ``"price"``) and an optional suggested ``weight``."""

    symbol: str
    price: float
    direction: int = 1
    stop: float | None = None
    weight: float | None = None
    stop_mode: Literal["percent", "price"] = "percent"

    def __post_init__(self) -> None:
        check_number("price", self.price, 0, None, lo_open=True)
        if self.direction not in (1, -1):
            raise InvalidParameterError(f"`direction` must be 1 (long) or -1 (short); got {self.direction!r}.")
        check_choice("stop_mode", self.stop_mode, ("percent", "price"))
        if self.stop is not None:
            check_number("stop", self.stop, 0, None, lo_open=True)
        if self.weight is not None:
            check_number("weight", self.weight, 0, None)

    @property
    def stop_fraction(self) -> float:
        """Distance to the stop as a fraction of the price (NaN without a stop)."""
        if self.stop is None:
            return math.nan
        return self.stop if self.stop_mode == "percent" else abs(self.price - self.stop) / self.price


@dataclass(frozen=True)
class PositionEstimate:
    """A sized entry, previewed: ``units`` at the fill ``price`` (after spread and slippage), its
    ``value``, the ``weight`` of equity allotted to it (what the entry spends, fees included, as
    recorded in the trades), ``fees``, total ``cost`` (value + fees), the ``risk`` (cash lost if
    the stop is hit, entry fees included; NaN without a stop) and ``risk_pct`` of equity, the
    ``rule`` used and the cap that bound it (``capped_by``)."""

    symbol: str
    direction: int
    units: float
    price: float
    value: float
    weight: float
    fees: float
    cost: float
    risk: float
    risk_pct: float
    rule: Rule
    capped_by: Cap


def _weight(signal: EntrySignal, sizer: PositionSizer, room: float) -> tuple[float, Rule, Cap]:
    """The sizing rule in plain Python (the reference of ``sizing_weight_nb``)."""
    if signal.weight is not None and signal.weight > 0:
        w, rule = float(signal.weight), "weight"
    elif signal.stop_fraction > 0:
        w, rule = sizer.risk_per_trade / signal.stop_fraction, "fixed_fractional"
    else:
        return 0.0, "none", "none"
    cap: Cap = "none"
    if w > sizer.max_weight:
        w, cap = sizer.max_weight, "max_weight"
    if w > max(room, 0.0):
        w, cap = max(room, 0.0), "room"
    return w, rule, cap  # type: ignore[return-value]


def estimate_position(signal: EntrySignal | Mapping[str, Any], account: Account, *,
                      sizer: PositionSizer | None = None, config: BacktestConfig | None = None) -> PositionEstimate:
    """Preview an entry's size, cost and risk against ``account``, without trading.

    Parameters
    ----------
    signal
        An :class:`EntrySignal` (or a dict of its fields).
    account
        The :class:`~workbench.portfolio.Account` to size against (its equity, free cash, leverage).
    sizer
        The :class:`PositionSizer` (default: 1% risk per trade, no weight cap).
    config
        Costs (``fees``, ``fixed_fees``, ``slippage``, ``spread``) and ``lot_size``; default none.

    Examples
    --------
    >>> from workbench.portfolio import Account
    >>> est = estimate_position({"symbol": "AAPL", "price": 100.0, "stop": 0.05}, Account(10_000))
    >>> est.weight, est.units, est.rule, round(est.risk_pct, 6)
    (0.2, 20.0, 'fixed_fractional', 0.01)
    >>> estimate_position({"symbol": "AAPL", "price": 100.0, "weight": 0.5}, Account(10_000)).cost
    5000.0
    """
    sig = EntrySignal(**signal) if isinstance(signal, Mapping) else signal
    if not isinstance(sig, EntrySignal):
        raise InvalidParameterError(f"`signal` must be an EntrySignal or a dict; got {type(signal).__name__}.")
    if not isinstance(account, Account):
        raise InvalidParameterError(f"`account` must be a workbench.portfolio.Account; got {type(account).__name__}.")
    sizer = sizer or PositionSizer()
    cfg = config or BacktestConfig()
    eq = account.equity
    w, rule, cap = _weight(sig, sizer, account.room(sig.direction))
    d = sig.direction
    fill = sig.price * (1 + d * cfg.spread / 2) * (1 + d * cfg.slippage) + d * cfg.slippage_ticks * cfg.tick_size
    units = max((w * eq - cfg.fixed_fees) / (fill * (1 + cfg.fees)), 0.0) if w > 0 else 0.0
    if cfg.lot_size > 0:
        units = math.floor(units / cfg.lot_size + 1e-9) * cfg.lot_size
    value = units * fill
    fees = value * cfg.fees + cfg.fixed_fees if units > 0 else 0.0
    if sig.stop is None:
        risk = math.nan
    else:
        stop_price = sig.price * (1 - d * sig.stop) if sig.stop_mode == "percent" else sig.stop
        risk = units * max(d * (fill - stop_price), 0.0) + fees
    return PositionEstimate(sig.symbol, d, units, fill, value, w, fees, value + fees, risk,
                            risk / eq if eq > 0 else math.nan, rule, cap)


_BOOL = ("entries", "exits", "short_entries", "short_exits")
_FLOAT = ("sl", "tp", "tsl", "weight")


def sized_backtest(bars: pl.DataFrame | Any, strategy: Strategy, *, sizer: PositionSizer | None = None,
                   benchmark: Any = None, config: BacktestConfig | None = None, **settings: Any) -> PortfolioResult:
    """Backtest a vectorized strategy in one shared account, sizing every entry with ``sizer``.

    Each entry decided at a close gets the signal's suggested ``weight`` when present, else
    ``risk_per_trade / stop_fraction`` (the stop from the signal's ``sl`` or the ``sl`` setting),
    capped by ``max_weight`` and the room left in the account at that close (entries of the same
    bar in symbol order). The trades' ``weight`` column holds the weight used; the result's
    ``account`` frame the available and reserved cash.

    Raises
    ------
    InvalidParameterError
        A strategy that is not vectorized, a ``sizing`` other than ``"percent"``.
    StrategyError
        An entry with neither a suggested weight nor a stop (the rule needs the stop distance).

    Examples
    --------
    >>> import workbench as wb
    >>> from workbench.strategies import SmaCross
    >>> res = sized_backtest(wb.data.sample("GOOG"), SmaCross(fast=10, slow=20), sizer=PositionSizer(0.01), sl=0.05)
    >>> sorted(set(res.trades["weight"].round(6).to_list()))
    [0.2]
    """
    if settings.get("sizing", "percent") != "percent":
        raise InvalidParameterError("sized_backtest() sizes entries as a weight of equity; drop `sizing` (or use 'percent').")
    cfg = sharing_config(config, settings, "sized_backtest()").replace(sizing="percent")
    sizer = sizer or PositionSizer()
    if not isinstance(strategy, Strategy) or strategy.style != "vectorized":
        raise InvalidParameterError(
            f"sized_backtest() needs a vectorized strategy (one that defines signals()); got {strategy!r}. "
            "Per-bar strategies size their own entries with ctx.buy(weight=...)."
        )
    frame, view = prepare_bars(bars)
    sig = strategy.signals(view)
    if not isinstance(sig, Signals):
        raise StrategyError(f"{strategy.name}.signals() must return a Signals object; got {type(sig).__name__}.")
    n, m = view.n_bars, view.n_assets
    arr = {f: _flex(f, getattr(sig, f), n, m, strategy.name, boolean=True) for f in _BOOL}
    arr.update({f: _flex(f, getattr(sig, f), n, m, strategy.name, boolean=False) for f in _FLOAT})
    _check_signals(arr, cfg, strategy.name, n, m)
    stop_mode = 1 if sig.stop_mode == "price" else 0
    out = simulate_sized_nb(
        cfg.record(stop_mode=stop_mode), view.open, view.high, view.low, view.close, arr["entries"], arr["exits"],
        arr["short_entries"], arr["short_exits"], arr["sl"], arr["tp"], arr["tsl"], arr["weight"],
        sizer.risk_per_trade, sizer.max_weight, np.empty(max(16, n // 16), dtype=order_dt),
        np.empty(max(16, n // 32), dtype=trade_dt),
    )
    orders, trades, counts, equity, cash, units, _used = out
    bench, name = resolve_benchmark(benchmark, view)
    return PortfolioResult(cfg, strategy, frame, view, orders[: counts[0]], trades[: counts[1]], equity, cash, units,
                           stop_mode, benchmark_values=bench, benchmark_name=name)


def _check_signals(arr: dict[str, np.ndarray], cfg: BacktestConfig, owner: str, n: int, m: int) -> None:
    if not cfg.allow_short and arr["short_entries"].any():
        raise StrategyError(f"{owner} emits short entries but `allow_short` is False. Fix: pass allow_short=True.")
    entry = np.broadcast_to(arr["entries"] | arr["short_entries"], (n, m))
    has_weight = np.broadcast_to(np.nan_to_num(arr["weight"], nan=0.0) > 0, (n, m))
    has_stop = np.broadcast_to(~np.isnan(arr["sl"]), (n, m)) | (cfg.sl is not None)
    bad = entry & ~has_weight & ~has_stop
    if bad.any():
        t, j = (int(x) for x in np.argwhere(bad)[0])
        raise StrategyError(
            f"{owner} enters at bar {t} (asset {j}) with neither a suggested `weight` nor a stop-loss; "
            "fixed-fractional sizing needs the distance to the stop. Fix: pass sl= (a fraction of price) "
            "or emit `sl`/`weight` from the strategy."
        )
