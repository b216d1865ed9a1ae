"""An account with available and reserved cash, for sizing previews and position bookkeeping.

Opening a position reserves its margin (its cost over ``leverage``) out of the available cash and
debits the fees; closing releases the reserve with the profit or loss. Every operation that
would leave the available cash negative is refused (:class:`InsufficientCashError`) before
anything changes, so the available cash never goes negative.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench._validate import check_number
from workbench.errors import InvalidParameterError, WorkbenchError, did_you_mean

if TYPE_CHECKING:
    from workbench.backtesting.result import BacktestResult

__all__ = ["Account", "Position", "InsufficientCashError"]


class InsufficientCashError(WorkbenchError, ValueError):
    """An account operation needs more cash than is available."""


@dataclass
class Position:
    """An open position: signed ``units``, average ``entry_price``, the cash ``reserved`` for it
    and the ``last_price`` it is marked at."""

    units: float
    entry_price: float
    reserved: float
    last_price: float

    @property
    def value(self) -> float:
        return self.units * self.last_price

    @property
    def pnl(self) -> float:
        return self.units * (self.last_price - self.entry_price)


class Account:
    """Available and reserved cash of one trading account.

    Parameters
    ----------
    cash
        Starting cash (all available).
    leverage
        Gross exposure allowed per unit of equity; a position reserves ``|units|·price / leverage``.

    Examples
    --------
    >>> acct = Account(10_000)
    >>> acct.open_position("AAPL", 10, 100.0, fees=1.0)
    >>> acct.available, acct.reserved
    (8999.0, 1000.0)
    >>> acct.close_position("AAPL", 110.0)
    >>> acct.available, acct.reserved
    (10099.0, 0.0)
    >>> acct.open_position("AAPL", 1_000, 100.0)
    Traceback (most recent call last):
    ...
    workbench.portfolio.account.InsufficientCashError: opening 1000 units of 'AAPL' at 100 needs 100,000.00 (reserve 100,000.00 + fees 0.00) but only 10,099.00 is available.
    """

    def __init__(self, cash: float, *, leverage: float = 1.0) -> None:
        self.available = check_number("cash", cash, 0, None)
        self.leverage = check_number("leverage", leverage, 1, 100)
        self.positions: dict[str, Position] = {}

    def __repr__(self) -> str:
        return (f"Account(equity={self.equity:,.2f}, available={self.available:,.2f}, "
                f"reserved={self.reserved:,.2f}, positions={len(self.positions)})")

    # -- figures ------------------------------------------------------------------------------
    @property
    def reserved(self) -> float:
        """Cash committed to open positions."""
        return float(sum(p.reserved for p in self.positions.values()))

    @property
    def equity(self) -> float:
        """Available cash + reserves + unrealised profit and loss at the last prices."""
        return float(self.available + sum(p.reserved + p.pnl for p in self.positions.values()))

    @property
    def gross_exposure(self) -> float:
        return float(sum(abs(p.value) for p in self.positions.values()))

    def room(self, direction: int = 1) -> float:
        """The fraction of equity a new position in ``direction`` may still take: the available
        cash for a long without leverage, else the leverage room ``leverage·equity − gross``."""
        eq = self.equity
        if not eq > 0:
            return 0.0
        gross_room = (self.leverage * eq - self.gross_exposure) / eq
        if direction > 0 and self.leverage <= 1.0:
            return min(self.available / eq, gross_room)
        return gross_room

    # -- operations ---------------------------------------------------------------------------
    def mark(self, prices: Mapping[str, float]) -> None:
        """Mark positions to ``prices`` (symbols not given keep their last price)."""
        for sym, price in prices.items():
            self._position(sym).last_price = self._price(price)

    def open_position(self, symbol: str, units: float, price: float, *, fees: float = 0.0) -> None:
        """Open (or add to) a position of ``units`` (negative: short) at ``price``."""
        u = float(units)
        if not math.isfinite(u) or u == 0.0:
            raise InvalidParameterError(f"`units` must be a finite non-zero number; got {units!r}.")
        p, f = self._price(price), check_number("fees", fees, 0, None)
        need = abs(u) * p / self.leverage
        if need + f > self.available + 1e-9 * max(need, 1.0):
            raise InsufficientCashError(
                f"opening {u:g} units of {symbol!r} at {p:g} needs {need + f:,.2f} (reserve {need:,.2f} + "
                f"fees {f:,.2f}) but only {self.available:,.2f} is available."
            )
        pos = self.positions.get(symbol)
        if pos is not None and (pos.units > 0) != (u > 0):
            raise InvalidParameterError(
                f"{symbol!r} is held the other way ({pos.units:g} units); close it before opening {u:g}."
            )
        self.available = max(self.available - need - f, 0.0)
        if pos is None:
            self.positions[symbol] = Position(u, p, need, p)
        else:
            total = pos.units + u
            pos.entry_price = (pos.entry_price * pos.units + p * u) / total
            pos.units, pos.reserved, pos.last_price = total, pos.reserved + need, p

    def close_position(self, symbol: str, price: float, *, units: float | None = None, fees: float = 0.0) -> None:
        """Close ``units`` (default all) of ``symbol``'s position at ``price``, releasing its reserve."""
        pos = self._position(symbol)
        p, f = self._price(price), check_number("fees", fees, 0, None)
        size = abs(pos.units) if units is None else check_number("units", abs(float(units)), 0, abs(pos.units), lo_open=True)
        frac = size / abs(pos.units)
        released = pos.reserved * frac
        pnl = math.copysign(size, pos.units) * (p - pos.entry_price)
        after = self.available + released + pnl - f
        if after < -1e-9 * max(abs(released), 1.0):
            raise InsufficientCashError(
                f"closing {size:g} units of {symbol!r} at {p:g} loses {-(pnl - f):,.2f}, more than the "
                f"{released:,.2f} reserved plus {self.available:,.2f} available: the account cannot settle it."
            )
        self.available = float(max(after, 0.0))
        if frac >= 1.0 - 1e-12:
            del self.positions[symbol]
        else:
            pos.units -= math.copysign(size, pos.units)
            pos.reserved -= released
            pos.last_price = p

    def _position(self, symbol: str) -> Position:
        if symbol not in self.positions:
            raise InvalidParameterError(
                f"no open position in {symbol!r}.{did_you_mean(symbol, self.positions)} "
                f"Open positions: {', '.join(self.positions) or '(none)'}."
            )
        return self.positions[symbol]

    @staticmethod
    def _price(price: Any) -> float:
        return check_number("price", price, 0, None, lo_open=True)

    # -- from a backtest ----------------------------------------------------------------------
    @classmethod
    def from_result(cls, result: BacktestResult, bar: int = -1) -> Account:
        """The account of a shared-cash backtest at the close of ``bar``: each open position at its
        average entry price with its reserve, marked at that close; the available cash is the
        engine's cash plus what the positions cost beyond their reserves, so the equity matches.

        Raises
        ------
        InsufficientCashError
            When that available cash would be negative (a leveraged or short book whose
            reserves exceed the account's means).
        """
        t = bar % result.view.n_bars
        lev = result.config.leverage
        tr = result.trade_records
        live = (tr["entry_bar"] <= t) & ((tr["exit_bar"] > t) | tr["is_open"])
        positions: dict[str, Position] = {}
        for j, sym in enumerate(result.view.symbols):
            u, close = float(result.units_values[t, j]), float(result.view.close[t, j])
            if u == 0.0:
                continue
            mine = tr[live & (tr["col"] == j)]
            size = float(mine["size"].sum())
            entry = float((mine["size"] * mine["entry_price"]).sum() / size) if size > 0 else close
            positions[sym] = Position(u, entry, abs(u) * entry / lev, close)
        cash = float(result.cash_values[t].sum())
        available = cash + sum(p.units * p.entry_price - p.reserved for p in positions.values())
        if available < -1e-9 * max(abs(cash), 1.0):
            raise InsufficientCashError(
                f"at bar {t} the positions' reserves exceed the account's cash by {-available:,.2f}."
            )
        acct = cls(max(available, 0.0), leverage=lev)
        acct.positions = positions
        return acct
