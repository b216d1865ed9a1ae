"""A plain-Python reference simulator of one asset trading from signals, written from the
documented rules, not from the kernel (``workbench/nb/simulate.py``), which it is held to.

Scope: market orders from ``entries / exits / short_entries / short_exits``; sizing ``percent``
(of equity, after fees), ``units`` or ``value``; lot sizes; percentage and fixed fees, slippage
(fraction and ticks) and spread; fills at the next open or at the signal bar's close;
reversals; percentage stop-loss, take-profit and trailing stop; no leverage (1x); margin calls.

The rules, in the order they apply within bar ``t``:

1. **Open.** Orders decided at the previous close fill at the open, before any intrabar stop:
   an exit closes the position; an opposite entry closes it (reason ``reverse``) and opens the
   other way; an entry opens a position sized from the equity at that moment.
2. **Intrabar stops** of the position held after the open (levels from its entry fill price):
   the stop is the tighter of the stop-loss and the trailing stop (``peak × (1 ∓ tsl)``, the peak
   being the best high/low *before* this bar, starting at the entry price). If the open is
   already through the stop, or through the target, the position exits at the open; otherwise
   the stop is assumed hit before the target when the bar's range holds both; otherwise the
   peak moves to this bar's high (low for a short). A position opened at a close is first
   checked on the next bar.
3. **Close.** The signals of bar ``t`` are read: both entries at once cancel out, and so do an
   entry and an exit of the same side (or of both sides); an entry in the direction already
   held is ignored, an opposite one reverses (or is ignored with ``reverse=False``). With
   same-close fills the resulting orders fill at this close (exits before entries).
4. **Mark.** Equity is cash plus units × close; when a position's equity falls to zero or
   below the maintenance margin of its value it is liquidated at the close, and the order
   decided at that close is cancelled (recorded ``cancelled``, after the liquidation; the size
   of a cancelled order is not modelled: NaN).

Costs: a buy fills at ``p × (1 + spread/2) × (1 + slippage) + ticks × tick_size``, a sell at
``p × (1 - spread/2) × (1 - slippage) - ticks × tick_size``; a take-profit pays the spread but no
slippage. Fees are ``units × fill × fees + fixed_fees`` per order. An entry that cannot be paid
for (units or value sizing) is rejected ``no_cash``; one that rounds to no units ``zero_size``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Fill", "Trade", "Outcome", "simulate"]


@dataclass
class Fill:
    bar: int
    side: str            # "buy" | "sell"
    kind: str            # "market" | "stop_loss" | "take_profit" | "trailing_stop" | "liquidation"
    size: float
    price: float
    fees: float
    status: str = "filled"
    reason: str = "none"


@dataclass
class Trade:
    direction: str
    size: float
    entry_bar: int
    entry_price: float
    entry_fees: float
    exit_bar: int = -1
    exit_price: float = math.nan
    exit_fees: float = 0.0
    exit_reason: str = "end_of_data"
    is_open: bool = True

    @property
    def pnl(self) -> float:
        sign = 1.0 if self.direction == "long" else -1.0
        return sign * self.size * (self.exit_price - self.entry_price) - self.entry_fees - self.exit_fees


@dataclass
class Outcome:
    orders: list[Fill] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    equity: np.ndarray | None = None
    cash: np.ndarray | None = None


@dataclass
class _Pos:
    units: float = 0.0
    trade: Trade | None = None
    sl: float = math.nan
    tp: float = math.nan
    tsl: float = math.nan
    peak: float = math.nan


class _Sim:
    def __init__(self, o, h, lo, c, s):
        self.o, self.h, self.lo, self.c, self.s = o, h, lo, c, s
        self.cash = float(s["cash"])
        self.pos = _Pos()
        self.out = Outcome()

    # -- prices and costs -----------------------------------------------------------------
    def fill_price(self, raw: float, buy: bool, kind: str) -> float:
        s, sign = self.s, (1.0 if buy else -1.0)
        p = raw * (1 + sign * s["spread"] / 2)
        if kind != "take_profit":
            p = p * (1 + sign * s["slippage"]) + sign * s["slippage_ticks"] * s["tick_size"]
        return p

    def round_lot(self, units: float) -> float:
        lot = self.s["lot_size"]
        return math.floor(units / lot + 1e-9) * lot if lot > 0 else units

    # -- orders -----------------------------------------------------------------------------
    def close(self, t: int, raw: float, kind: str, reason: str) -> None:
        pos, tr = self.pos, self.pos.trade
        buy = pos.units < 0
        price = self.fill_price(raw, buy, kind)
        size = abs(pos.units)
        fees = size * price * self.s["fees"] + self.s["fixed_fees"]
        self.cash += pos.units * price - fees
        self.out.orders.append(Fill(t, "buy" if buy else "sell", kind, size, price, fees))
        tr.exit_bar, tr.exit_price, tr.exit_fees, tr.exit_reason, tr.is_open = t, price, fees, reason, False
        self.pos = _Pos()

    def open(self, t: int, raw: float, direction: int) -> None:
        s = self.s
        buy = direction > 0
        price = self.fill_price(raw, buy, "market")
        side = "buy" if buy else "sell"
        equity = self.cash  # always flat here
        if s["sizing"] == "percent":
            units = (s["size"] * equity - s["fixed_fees"]) / (price * (1 + s["fees"]))
        elif s["sizing"] == "units":
            units = s["size"]
        else:
            units = s["size"] / price
        units = self.round_lot(units)
        if units <= 1e-12:
            self.out.orders.append(Fill(t, side, "market", 0.0, price, 0.0, "rejected", "zero_size"))
            return
        fees = units * price * s["fees"] + s["fixed_fees"]
        budget = self.cash if buy else equity  # a long is paid from cash; a short is backed by equity
        if units * price * (1 + s["fees"]) + s["fixed_fees"] > budget * (1 + 1e-9) + 1e-9:
            self.out.orders.append(Fill(t, side, "market", units, price, 0.0, "rejected", "no_cash"))
            return
        self.cash -= direction * units * price + fees
        self.out.orders.append(Fill(t, side, "market", units, price, fees))
        tr = Trade("long" if buy else "short", units, t, price, fees)
        self.out.trades.append(tr)
        self.pos = _Pos(direction * units, tr)
        p = self.pos
        sl, tp, tsl = s.get("sl"), s.get("tp"), s.get("tsl")
        p.sl = math.nan if sl is None else price * (1 - direction * sl)
        p.tp = math.nan if tp is None else price * (1 + direction * tp)
        p.tsl = math.nan if tsl is None else tsl
        p.peak = price

    def stops(self, t: int) -> None:
        p = self.pos
        if p.units == 0 or (math.isnan(p.sl) and math.isnan(p.tp) and math.isnan(p.tsl)):
            return
        long = p.units > 0
        stop, kind = p.sl, "stop_loss"
        if not math.isnan(p.tsl):
            trail = p.peak * (1 - p.tsl) if long else p.peak * (1 + p.tsl)
            if math.isnan(stop) or (trail > stop if long else trail < stop):
                stop, kind = trail, "trailing_stop"
        o, h, lo = self.o[t], self.h[t], self.lo[t]
        through = (lambda level, x: x <= level) if long else (lambda level, x: x >= level)
        beyond = (lambda level, x: x >= level) if long else (lambda level, x: x <= level)
        if not math.isnan(stop) and through(stop, o):
            return self.close(t, o, kind, kind)
        if not math.isnan(p.tp) and beyond(p.tp, o):
            return self.close(t, o, "take_profit", "take_profit")
        if not math.isnan(stop) and through(stop, lo if long else h):
            return self.close(t, stop, kind, kind)
        if not math.isnan(p.tp) and beyond(p.tp, h if long else lo):
            return self.close(t, p.tp, "take_profit", "take_profit")
        p.peak = max(p.peak, h) if long else min(p.peak, lo)

    # -- decisions --------------------------------------------------------------------------
    def decide(self, t: int) -> tuple[str, int]:
        """The order the signals of bar ``t`` ask for: ("exit"|"entry"|"", direction)."""
        sig, u = self.s["signals"], self.pos.units
        el, xl, es, xs = (bool(sig[k][t]) for k in ("entries", "exits", "short_entries", "short_exits"))
        entry = 0 if (el and es) else (1 if el else (-1 if es else 0))
        exit_ = 2 if (xl and xs) else (1 if xl else (-1 if xs else 0))
        if entry and (exit_ == entry or exit_ == 2):
            return "", 0
        held = 0 if u == 0 else (1 if u > 0 else -1)
        if entry and held == entry:
            entry = 0
        if entry and held == -entry and not self.s["reverse"]:
            entry = 0
        if entry:
            return "entry", entry
        if held and (exit_ == 2 or exit_ == held):
            return "exit", held
        return "", 0

    def execute(self, t: int, order: tuple[str, int], raw: float) -> None:
        what, direction = order
        if what == "exit" and self.pos.units != 0:
            self.close(t, raw, "market", "signal")
        elif what == "entry":
            if self.pos.units != 0:
                self.close(t, raw, "market", "reverse")
            self.open(t, raw, direction)

    def cancel(self, t: int, order: tuple[str, int], held: float) -> None:
        """Record ``order`` (decided at this close) as cancelled; an exit would have closed ``held``."""
        what, direction = order
        buy = direction > 0 if what == "entry" else held < 0
        self.out.orders.append(Fill(t, "buy" if buy else "sell", "market", math.nan, math.nan, 0.0, "cancelled"))

    def mark(self, t: int) -> tuple[float, float, bool]:
        p = self.pos
        equity = self.cash + p.units * self.c[t]
        gross = abs(p.units) * self.c[t]
        if gross > 0 and (equity <= 0 or equity < self.s["maintenance_margin"] * gross):
            self.close(t, self.c[t], "liquidation", "liquidation")
            return self.cash, self.cash, True
        return equity, self.cash, False

    def run(self) -> Outcome:
        n = len(self.c)
        equity, cash = np.empty(n), np.empty(n)
        pending: tuple[str, int] = ("", 0)
        same_close = self.s["fill"] == "same_close"
        for t in range(n):
            if pending[0]:
                self.execute(t, pending, self.o[t])
                pending = ("", 0)
            self.stops(t)
            order = self.decide(t)
            if same_close:
                self.execute(t, order, self.c[t])
            else:
                pending = order
            held = self.pos.units
            equity[t], cash[t], liquidated = self.mark(t)
            if liquidated and pending[0]:
                self.cancel(t, pending, held)
                pending = ("", 0)
        for tr in self.out.trades:
            if tr.is_open:
                tr.exit_bar, tr.exit_price = n - 1, float(self.c[-1])
        self.out.equity, self.out.cash = equity, cash
        return self.out


DEFAULTS = {"cash": 10_000.0, "fees": 0.0, "fixed_fees": 0.0, "slippage": 0.0, "slippage_ticks": 0.0,
            "tick_size": 0.01, "spread": 0.0, "size": 1.0, "sizing": "percent", "lot_size": 0.0,
            "fill": "next_open", "reverse": True, "sl": None, "tp": None, "tsl": None, "maintenance_margin": 0.25}


def simulate(open_, high, low, close, signals: dict[str, np.ndarray], **settings) -> Outcome:
    """Run the reference on 1-D price arrays and boolean signal arrays (missing ones: False)."""
    n = len(close)
    s = {**DEFAULTS, **settings}
    s["signals"] = {k: np.asarray(signals.get(k, np.zeros(n, dtype=bool)), dtype=bool)
                    for k in ("entries", "exits", "short_entries", "short_exits")}
    arrays = (np.asarray(a, dtype=np.float64) for a in (open_, high, low, close))
    return _Sim(*arrays, s).run()
