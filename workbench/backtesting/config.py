"""The settings of a backtest, validated once, frozen, and hashable into a run id."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np

from workbench._validate import check_choice, check_int, check_number
from workbench.errors import InvalidParameterError, did_you_mean
from workbench.nb.enums import FillTiming, SizeMode, sim_cfg_dt

__all__ = ["BacktestConfig", "Sizing", "Fill"]

Sizing = Literal["percent", "units", "value", "target", "risk"]
Fill = Literal["next_open", "same_close"]
_SIZING = {"percent": SizeMode.PERCENT_EQUITY, "units": SizeMode.UNITS, "value": SizeMode.VALUE,
           "target": SizeMode.TARGET_WEIGHT, "risk": SizeMode.RISK}
_FILL = {"next_open": FillTiming.NEXT_OPEN, "same_close": FillTiming.SAME_CLOSE}


@dataclass(frozen=True)
class BacktestConfig:
    """Engine settings. Every field is validated on construction; ``replace()`` returns a copy.

    Attributes
    ----------
    cash : float
        Starting cash of each account (one account per asset unless ``cash_sharing``).
    fees : float
        Commission as a fraction of traded value, per order, in [0, 0.1).
    fixed_fees : float
        Commission in cash per order.
    slippage : float
        Adverse price move on market and stop fills, as a fraction of price, in [0, 0.1).
    slippage_ticks : float
        Adverse price move on market and stop fills, in ticks of ``tick_size`` (added to
        ``slippage``).
    tick_size : float
        The price increment of one tick, for ``slippage_ticks``.
    spread : float
        Full bid-ask spread as a fraction of price; buys pay half above, sells half below.
    size : float
        Default order size, read according to ``sizing``.
    sizing : {"percent", "units", "value", "target", "risk"}
        ``percent``: fraction of equity (1.0 = all of it, after fees); ``units``: fixed units;
        ``value``: fixed cash value; ``target``: target weight of equity; ``risk``: fraction of
        equity risked per trade over the distance to the stop-loss (fixed-fractional).
    lot_size : float
        0 trades fractional units; 1 whole units; 0.01 lots of 0.01.
    allow_short : bool
        Whether short entries may open short positions.
    leverage : float
        Gross exposure allowed per unit of equity (1 = no borrowing: cash never goes negative).
    maintenance_margin : float
        Positions are liquidated at the close when equity < this fraction of gross exposure.
    fill : {"next_open", "same_close"}
        A decision at bar *t*'s close fills at bar *t+1*'s open (default) or, opted in, at the
        same close.
    reverse : bool
        An opposite entry closes the open position and opens the other way.
    accumulate : bool
        A same-direction entry adds to the position (otherwise it is ignored).
    sl : float or None
        Default stop-loss: exit when price moves this fraction against the entry (also for a
        strategy whose own stops are absolute, ``stop_mode="price"``).
    tp : float or None
        Default take-profit: exit when price moves this fraction in favour of the entry.
    tsl : float or None
        Default trailing stop: exit when price falls back this fraction from its best level
        since the entry.
    order_valid_bars : int
        Bars a limit/stop entry order stays valid (0: good till cancelled).
    cash_sharing : bool
        One account for all assets instead of one per asset.
    periods_per_year : float or None
        Annualization factor; None infers it from the data frequency.
    risk_free : float
        Annual risk-free rate used by Sharpe-type ratios.

    Examples
    --------
    >>> BacktestConfig(fees=0.001).replace(cash=50_000).cash
    50000.0
    >>> BacktestConfig(fees=-0.01)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `fees` must be a float in [0, 0.1); got -0.01.
    """

    cash: float = 10_000.0
    fees: float = 0.0
    fixed_fees: float = 0.0
    slippage: float = 0.0
    slippage_ticks: float = 0.0
    tick_size: float = 0.01
    spread: float = 0.0
    size: float = 1.0
    sizing: Sizing = "percent"
    lot_size: float = 0.0
    allow_short: bool = True
    leverage: float = 1.0
    maintenance_margin: float = 0.25
    fill: Fill = "next_open"
    reverse: bool = True
    accumulate: bool = False
    sl: float | None = None
    tp: float | None = None
    tsl: float | None = None
    order_valid_bars: int = 0
    cash_sharing: bool = False
    periods_per_year: float | None = None
    risk_free: float = 0.0

    def __post_init__(self) -> None:
        num = check_number
        set_ = object.__setattr__
        set_(self, "cash", num("cash", self.cash, 0, None, lo_open=True))
        set_(self, "fees", num("fees", self.fees, 0, 0.1, hi_open=True))
        set_(self, "fixed_fees", num("fixed_fees", self.fixed_fees, 0))
        set_(self, "slippage", num("slippage", self.slippage, 0, 0.1, hi_open=True))
        set_(self, "slippage_ticks", num("slippage_ticks", self.slippage_ticks, 0))
        set_(self, "tick_size", num("tick_size", self.tick_size, 0, None, lo_open=True))
        set_(self, "spread", num("spread", self.spread, 0, 0.1, hi_open=True))
        check_choice("sizing", self.sizing, list(_SIZING))
        check_choice("fill", self.fill, list(_FILL))
        set_(self, "leverage", num("leverage", self.leverage, 1, 100))
        set_(self, "maintenance_margin", num("maintenance_margin", self.maintenance_margin, 0, 1, hi_open=True))
        set_(self, "lot_size", num("lot_size", self.lot_size, 0))
        set_(self, "size", self._check_size())
        for name in ("allow_short", "reverse", "accumulate", "cash_sharing"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise InvalidParameterError(f"`{name}` must be True or False; got {getattr(self, name)!r}.")
            set_(self, name, bool(getattr(self, name)))  # a plain bool: the same run id for np.True_
        for name in ("sl", "tp", "tsl"):
            value = getattr(self, name)
            if value is not None:
                set_(self, name, num(name, value, 0, None, lo_open=True,
                                     hint="Give it as a fraction of price, e.g. 0.05 for 5%."))
        set_(self, "order_valid_bars", check_int("order_valid_bars", self.order_valid_bars, 0))
        if self.periods_per_year is not None:
            set_(self, "periods_per_year", num("periods_per_year", self.periods_per_year, 0, None, lo_open=True))
        set_(self, "risk_free", num("risk_free", self.risk_free, -1, 1))
        if self.sizing == "risk" and self.sl is None:
            pass  # a strategy may give per-entry stops; checked when signals are known

    def _check_size(self) -> float:
        lev = self.leverage
        if self.sizing == "percent":
            hint = "" if lev > 1 else " Fractions above 1 need leverage > 1."
            return check_number("size", self.size, 0, lev, lo_open=True, hint=hint.strip())
        if self.sizing == "target":
            return check_number("size", self.size, 0, lev, lo_open=True,
                                hint="It is the position's target weight of equity; the entry gives the side.")
        if self.sizing == "risk":
            return check_number("size", self.size, 0, 1, lo_open=True, hint="It is the fraction of equity risked per trade.")
        return check_number("size", self.size, 0, None, lo_open=True)

    def replace(self, **changes: Any) -> BacktestConfig:
        """A validated copy with some settings changed (unknown names get a "did you mean")."""
        known = _SETTINGS
        for name in changes:
            if name not in known:
                raise InvalidParameterError(
                    f"unknown backtest setting {name!r}.{did_you_mean(name, known)} "
                    f"Settings: {', '.join(sorted(known))}."
                )
        if not changes:
            return self
        try:
            return _replaced(self, tuple((k, type(v), v) for k, v in changes.items()))
        except TypeError:  # an unhashable setting (an array of sizes): not memoized
            return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def record(self, *, stop_mode: int = 0) -> np.void:
        """The settings as the kernel's ``sim_cfg_dt`` record."""
        rec = np.zeros(1, dtype=sim_cfg_dt)[0]
        rec["init_cash"] = self.cash
        for name in ("fees", "fixed_fees", "slippage", "slippage_ticks", "tick_size", "spread", "size",
                     "lot_size", "allow_short", "leverage", "maintenance_margin", "reverse", "accumulate",
                     "order_valid_bars", "cash_sharing"):
            rec[name] = getattr(self, name)
        rec["size_mode"] = int(_SIZING[self.sizing])
        rec["fill_timing"] = int(_FILL[self.fill])
        rec["stop_mode"] = stop_mode
        for name in ("sl", "tp", "tsl"):
            value = getattr(self, name)
            rec[name] = np.nan if value is None else value
        return rec


_SETTINGS = frozenset(f.name for f in fields(BacktestConfig))


@functools.lru_cache(maxsize=256)
def _replaced(config: BacktestConfig, changes: tuple[tuple[str, type, Any], ...]) -> BacktestConfig:
    """``dataclasses.replace`` memoized: configs are frozen, so equal settings give an equal config
    (keyed with each value's type too, so ``True`` and ``1`` are validated apart)."""
    return dataclasses.replace(config, **{name: value for name, _, value in changes})
