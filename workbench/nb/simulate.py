"""The order simulation core: one bar at a time, in two phases.

``open_phase_nb(t)`` fills what was decided before bar *t*: pending market orders at the open,
limit/stop/stop-limit orders when the bar's range touches them, and per-position stop-loss,
take-profit and trailing stops on high/low (a gap through a level fills at the open; when a stop
and a target are both inside one bar, the stop is assumed hit first — the conservative rule).

``close_phase_nb(t)`` reads the strategy's intents decided at the close of bar *t*, turns them
into orders (filled at the next open by default, or at this close when ``fill_timing`` is
``SAME_CLOSE``), marks positions to market, checks margin and records equity.

Every strategy style — vectorized signals, a Numba per-bar callback, a Python per-bar callback —
drives these same two functions, so they produce identical results on the same decisions.
The plain reference these kernels are tested against is ``tests/backtest/reference.py`` and the
peer engines backtesting.py and vectorbt.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from workbench.nb.enums import *  # noqa: F403  (field and enum constants)
from workbench.nb.enums import order_dt, trade_dt

__all__ = [
    "ROOM",
    "borrow",
    "grow_nb",
    "reset_intents_nb",
    "equity_nb",
    "gross_nb",
    "execute_nb",
    "open_phase_nb",
    "close_phase_nb",
    "mark_nb",
    "step_nb",
    "mark_open_trades_nb",
    "flex_nb",
    "setup_nb",
    "signal_bars_nb",
    "callback_bars_nb",
    "setup",
    "grow",
    "simulate_signals",
    "simulate_callback",
    "simulate_callback_py",
]

# Enum codes as int64 scalars (``np.int64``, not Python ints): Numba types a Python int constant
# as a distinct literal type, and a helper called with different literals compiles once per
# literal. With int64 codes every helper has one signature and compiles once.
_i = np.int64
BUY, SELL = _i(0), _i(1)
K_MARKET, K_LIMIT, K_STOP, K_STOP_LIMIT, K_SL, K_TP, K_TSL, K_LIQ = (_i(k) for k in range(8))
ST_FILLED, ST_REJECTED, ST_CANCELLED, ST_EXPIRED = (_i(k) for k in range(4))
R_NONE, R_NO_CASH, R_ZERO, R_SHORT, R_LEV, R_NO_PRICE = (_i(k) for k in range(6))
X_SIGNAL, X_SL, X_TP, X_TSL, X_REVERSE, X_END, X_LIQ = (_i(k) for k in range(7))
M_PCT, M_UNITS, M_VALUE, M_TARGET, M_RISK = (_i(k) for k in range(5))
P_NONE, P_ENTRY, P_EXIT, P_TARGET = (_i(k) for k in range(4))
NEXT_OPEN, SAME_CLOSE = _i(0), _i(1)
NO, YES = np.bool_(False), np.bool_(True)
EPS = 1e-12
ROOM = 8
"""Order (and trade) records one bar can add per asset: at most 4 at the open (a stop, a
reversal, the entry, a stop on the entry's own bar) and 4 at the close (a cancellation, a
reversal and the entry filled at the close, a liquidation). Drivers keep this much room."""


@intrinsic
def borrow(typingctx, arr):
    """A view of array ``arr`` without its reference-counted owner (``meminfo``).

    Numba counts references to an array with atomic increments and decrements wherever a
    variable or an argument of a called function holds it; in a per-bar loop that calls the
    event handlers those atomics cost more than the simulation itself. A borrowed view has no
    owner, so that counting is skipped. It must not outlive ``arr`` (a driver borrows its own
    arguments, which its caller keeps alive) and must never be returned to Python.
    """
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        view = context.make_array(arr)(context, builder, value=args[0])
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        return view._getvalue()

    return arr(arr), codegen


@njit(cache=True)
def grow_nb(records, count, need):
    """Return ``records`` or a copy with room for ``need`` more records after ``count``."""
    if count + need <= records.shape[0]:
        return records
    out = np.empty(max(2 * records.shape[0], count + need), dtype=records.dtype)
    for k in range(count):
        out[k] = records[k]
    return out


@njit(cache=True)
def reset_intents_nb(intent):
    """Clear the per-bar intent buffer: nothing to do, every price and size "not given"."""
    for j in range(intent.shape[0]):
        for k in range(intent.shape[1]):
            intent[j, k] = np.nan
        intent[j, I_ENTRY] = 0.0
        intent[j, I_EXIT] = 0.0
        intent[j, I_CANCEL] = 0.0


@njit(cache=True, inline="always")
def group_of_nb(cfg, j):
    return 0 if cfg["cash_sharing"] else j


@njit(cache=True, inline="always")
def equity_nb(cfg, state, cash, g):
    """Account equity of group ``g``: cash plus every position at its last price."""
    if not cfg["cash_sharing"]:
        u = state[g, S_UNITS]
        return cash[g] + (u * state[g, S_LAST_PRICE] if u != 0.0 else 0.0)
    total = cash[0]
    for j in range(state.shape[0]):
        u = state[j, S_UNITS]
        if u != 0.0:
            total += u * state[j, S_LAST_PRICE]
    return total


@njit(cache=True, inline="always")
def gross_nb(cfg, state, g, skip):
    """Gross exposure of group ``g`` (sum of |position value|), leaving out asset ``skip``."""
    total = 0.0
    lo, hi = (0, state.shape[0]) if cfg["cash_sharing"] else (g, g + 1)
    for j in range(lo, hi):
        if j != skip and state[j, S_UNITS] != 0.0:
            total += abs(state[j, S_UNITS] * state[j, S_LAST_PRICE])
    return total


@njit(cache=True)
def slipped_price_nb(cfg, price, side, kind):
    """Fill price after spread and slippage (adverse); limit and take-profit fills get no slippage."""
    sign = 1.0 if side == BUY else -1.0
    p = price * (1.0 + sign * cfg["spread"] / 2.0)
    if kind != K_LIMIT and kind != K_TP:
        p = p * (1.0 + sign * cfg["slippage"]) + sign * cfg["slippage_ticks"] * cfg["tick_size"]
    return p


@njit(cache=True)
def round_units_nb(cfg, units):
    lot = cfg["lot_size"]
    if lot > 0.0:
        return np.floor(units / lot + 1e-9) * lot
    return units


@njit(cache=True)
def add_order_nb(orders, counts, j, t, signal_bar, side, kind, size, price, fees, slip, status, reason):
    k = counts[0]
    o = orders[k]
    o["id"] = k
    o["col"] = j
    o["bar"] = t
    o["signal_bar"] = int(signal_bar)
    o["side"] = side
    o["kind"] = kind
    o["size"] = size
    o["price"] = price
    o["fees"] = fees
    o["slippage"] = slip
    o["status"] = status
    o["reason"] = reason
    counts[0] = k + 1


@njit(cache=True)
def close_trade_part_nb(trades, counts, state, j, t, units_closed, price, exit_fees, reason):
    """Book the closing of ``units_closed`` (> 0) of asset ``j``'s open trade at ``price``."""
    k = int(state[j, S_TRADE])
    total = abs(state[j, S_UNITS])
    frac = units_closed / total if total > 0 else 1.0
    direction = 1.0 if state[j, S_UNITS] > 0 else -1.0
    entry_fees = state[j, S_ENTRY_FEES] * frac
    if frac < 1.0 - 1e-12:  # partial: a closed copy for the part, the open record keeps the rest
        n = counts[1]
        trades[n] = trades[k]
        trades[n]["id"] = n
        k_closed = n
        counts[1] = n + 1
        trades[k]["size"] = total - units_closed
        trades[k]["entry_fees"] = state[j, S_ENTRY_FEES] - entry_fees
        state[j, S_ENTRY_FEES] = state[j, S_ENTRY_FEES] - entry_fees
    else:
        k_closed = k
        state[j, S_TRADE] = -1
    tr = trades[k_closed]
    tr["size"] = units_closed
    tr["entry_fees"] = entry_fees
    tr["exit_bar"] = t
    tr["exit_price"] = price
    tr["exit_fees"] = exit_fees
    tr["pnl"] = direction * units_closed * (price - state[j, S_ENTRY_PRICE]) - entry_fees - exit_fees
    cost = units_closed * state[j, S_ENTRY_PRICE]
    tr["ret"] = tr["pnl"] / cost if cost > 0 else 0.0
    tr["exit_reason"] = reason
    tr["is_open"] = False


@njit(cache=True)
def open_trade_part_nb(trades, counts, state, j, t, units_added, price, fees, weight):
    """Book ``units_added`` (> 0) in the direction of asset ``j``'s (new) position."""
    if state[j, S_TRADE] < 0:
        k = counts[1]
        counts[1] = k + 1
        tr = trades[k]
        tr["id"] = k
        tr["col"] = j
        tr["direction"] = 0 if state[j, S_UNITS] > 0 else 1
        tr["size"] = units_added
        tr["entry_bar"] = t
        tr["entry_price"] = price
        tr["entry_fees"] = fees
        tr["exit_bar"] = -1
        tr["exit_price"] = np.nan
        tr["exit_fees"] = 0.0
        tr["pnl"] = 0.0
        tr["ret"] = 0.0
        tr["exit_reason"] = X_END
        tr["is_open"] = True
        tr["weight"] = weight
        state[j, S_TRADE] = k
        state[j, S_ENTRY_PRICE] = price
        state[j, S_ENTRY_BAR] = t
        state[j, S_ENTRY_FEES] = fees
        state[j, S_PEAK] = price
    else:
        k = int(state[j, S_TRADE])
        old = trades[k]["size"]
        new = old + units_added
        state[j, S_ENTRY_PRICE] = (state[j, S_ENTRY_PRICE] * old + price * units_added) / new
        state[j, S_ENTRY_FEES] += fees
        trades[k]["size"] = new
        trades[k]["entry_price"] = state[j, S_ENTRY_PRICE]
        trades[k]["entry_fees"] = state[j, S_ENTRY_FEES]


@njit(cache=True)
def set_stops_nb(cfg, state, j, sl, tp, tsl):
    """Turn the stop settings of a freshly opened position into price levels / distances."""
    long = state[j, S_UNITS] > 0
    p = state[j, S_ENTRY_PRICE]
    sl = cfg["sl"] if np.isnan(sl) else sl
    tp = cfg["tp"] if np.isnan(tp) else tp
    tsl = cfg["tsl"] if np.isnan(tsl) else tsl
    if cfg["stop_mode"] == 0:  # fractions of the entry price
        state[j, S_SL] = np.nan if np.isnan(sl) else (p * (1.0 - sl) if long else p * (1.0 + sl))
        state[j, S_TP] = np.nan if np.isnan(tp) else (p * (1.0 + tp) if long else p * (1.0 - tp))
        state[j, S_TSL] = tsl  # a fraction of the peak
    else:  # absolute levels; trailing distance in price units
        state[j, S_SL] = sl
        state[j, S_TP] = tp
        state[j, S_TSL] = tsl
    state[j, S_PEAK] = p


@njit(cache=True)
def execute_nb(cfg, state, cash, orders, trades, counts, j, t, signal_bar, delta, raw_price, kind,
               reason, weight, shrink):
    """Trade ``delta`` units (signed) of asset ``j`` at ``raw_price`` (before costs).

    Applies spread, slippage and fees, checks cash, leverage and shorting rules, books the
    order and the trade records. ``shrink`` lets an entry sized from equity shrink to what the
    account can afford (after costs) instead of being rejected. Returns the units traded.
    """
    side = BUY if delta > 0 else SELL
    if np.isnan(raw_price):
        add_order_nb(orders, counts, j, t, signal_bar, side, kind, abs(delta), np.nan, 0.0, 0.0, ST_REJECTED, R_NO_PRICE)
        return 0.0
    price = slipped_price_nb(cfg, raw_price, side, kind)
    units = state[j, S_UNITS]
    new_units = units + delta
    if not cfg["allow_short"] and new_units < -EPS:
        if units > 0:  # a sell larger than the long: sell the long only
            delta = -units
            new_units = 0.0
        else:
            add_order_nb(orders, counts, j, t, signal_bar, side, kind, abs(delta), price, 0.0, 0.0, ST_REJECTED, R_SHORT)
            return 0.0
    size = abs(delta)
    g = group_of_nb(cfg, j)
    increases = abs(new_units) > abs(units) + EPS
    if increases:
        fee_rate = cfg["fees"]
        eq = equity_nb(cfg, state, cash, g)
        other = gross_nb(cfg, state, g, j)
        # what the account may hold in this asset after the order
        room = cfg["leverage"] * eq - other
        if cfg["leverage"] <= 1.0 and side == BUY and units >= 0.0:
            room = min(room, cash[g] + abs(units) * state[j, S_LAST_PRICE])  # cash may not go negative
        avail = room - cfg["fixed_fees"] - abs(units) * price
        max_add = avail / (price * (1.0 + fee_rate)) if avail > 0 else 0.0
        if size > max_add + 1e-9 * max(size, 1.0):
            if shrink and max_add > 0:
                size = round_units_nb(cfg, max_add)
                delta = size if side == BUY else -size
                new_units = units + delta
            else:
                add_order_nb(orders, counts, j, t, signal_bar, side, kind, size, price, 0.0, 0.0, ST_REJECTED,
                             R_NO_CASH if cfg["leverage"] <= 1.0 else R_LEV)
                return 0.0
    if size <= EPS:
        add_order_nb(orders, counts, j, t, signal_bar, side, kind, size, price, 0.0, 0.0, ST_REJECTED,
                     R_NO_CASH if increases else R_ZERO)
        return 0.0
    fees = size * price * cfg["fees"] + cfg["fixed_fees"]
    slip = size * abs(price - raw_price)
    cash[g] -= delta * price + fees
    add_order_nb(orders, counts, j, t, signal_bar, side, kind, size, price, fees, slip, ST_FILLED, R_NONE)
    # trade records: close the old direction first, then open / extend the new one
    closing = 0.0
    if units != 0.0 and (np.sign(delta) != np.sign(units)):
        closing = min(size, abs(units))
    opening = size - closing
    fee_close = fees * closing / size
    if closing > 0.0:
        close_trade_part_nb(trades, counts, state, j, t, closing, price, fee_close, reason)
    state[j, S_UNITS] = new_units if abs(new_units) > EPS else 0.0
    if state[j, S_UNITS] == 0.0:
        state[j, S_TRADE] = -1
        state[j, S_SL] = np.nan
        state[j, S_TP] = np.nan
        state[j, S_TSL] = np.nan
    if opening > 0.0:
        open_trade_part_nb(trades, counts, state, j, t, opening, price, fees - fee_close, weight)
    state[j, S_LAST_PRICE] = raw_price if np.isnan(state[j, S_LAST_PRICE]) else state[j, S_LAST_PRICE]
    return size


@njit(cache=True)
def entry_units_nb(cfg, state, cash, j, size, weight, price, sl):
    """Units to open for an entry at ``price`` under the configured size mode (> 0, or 0)."""
    mode = cfg["size_mode"]
    s = cfg["size"] if np.isnan(size) else size
    if not np.isnan(weight) and mode == M_PCT:
        s = weight
    eq = equity_nb(cfg, state, cash, group_of_nb(cfg, j))
    if mode == M_PCT or mode == M_TARGET:
        units = (s * eq - cfg["fixed_fees"]) / (price * (1.0 + cfg["fees"]))
    elif mode == M_UNITS:
        units = s
    elif mode == M_VALUE:
        units = s / price
    else:  # M_RISK: risk fraction of equity over the distance to the stop
        sl = cfg["sl"] if np.isnan(sl) else sl
        dist = price * sl if cfg["stop_mode"] == 0 else abs(price - sl)
        units = s * eq / dist if dist > 0 else 0.0
    units = round_units_nb(cfg, units)
    return units if units > 0 else 0.0


@njit(cache=True)
def clear_pending_nb(state, j):
    state[j, S_P_KIND] = P_NONE
    state[j, S_P_TRIGGERED] = 0.0


@njit(cache=True)
def pending_fill_price_nb(state, j, o, h, l):
    """Price at which asset state ``s``'s pending entry fills within the bar (NaN: not this bar),
    and whether it filled at the open."""
    d = state[j, S_P_DIR]
    lim, stp = state[j, S_P_LIMIT], state[j, S_P_STOP]
    has_l, has_s = not np.isnan(lim), not np.isnan(stp)
    if not has_l and not has_s:
        return o, True
    if has_s and not state[j, S_P_TRIGGERED]:
        if (d > 0 and o >= stp) or (d < 0 and o <= stp):
            state[j, S_P_TRIGGERED] = 1.0
            if not has_l:
                return o, True
            if (d > 0 and o <= lim) or (d < 0 and o >= lim):
                return o, True
        elif (d > 0 and h >= stp) or (d < 0 and l <= stp):
            state[j, S_P_TRIGGERED] = 1.0
            if not has_l:
                return stp, False
            if (d > 0 and lim >= stp) or (d < 0 and lim <= stp):
                return stp, False
        else:
            return np.nan, False
    # a plain limit order, or a triggered stop-limit acting as a limit
    if d > 0:
        if o <= lim:
            return o, True
        if l <= lim:
            return lim, False
    else:
        if o >= lim:
            return o, True
        if h >= lim:
            return lim, False
    return np.nan, False


@njit(cache=True)
def check_stops_nb(cfg, state, cash, orders, trades, counts, j, t, o, h, l):
    """Per-position stop-loss, trailing stop and take-profit on bar ``t`` (see module docstring)."""
    u = state[j, S_UNITS]
    if u == 0.0:
        return
    long = u > 0
    stop = state[j, S_SL]
    reason, kind = X_SL, K_SL
    if not np.isnan(state[j, S_TSL]):
        dist = state[j, S_PEAK] * state[j, S_TSL] if cfg["stop_mode"] == 0 else state[j, S_TSL]
        trail = state[j, S_PEAK] - dist if long else state[j, S_PEAK] + dist
        if np.isnan(stop) or (long and trail > stop) or (not long and trail < stop):
            stop, reason, kind = trail, X_TSL, K_TSL
    tp = state[j, S_TP]
    price, why, knd = np.nan, X_SL, K_SL
    if long:
        if not np.isnan(stop) and o <= stop:
            price, why, knd = o, reason, kind
        elif not np.isnan(tp) and o >= tp:
            price, why, knd = o, X_TP, K_TP
        elif not np.isnan(stop) and l <= stop:
            price, why, knd = stop, reason, kind
        elif not np.isnan(tp) and h >= tp:
            price, why, knd = tp, X_TP, K_TP
    else:
        if not np.isnan(stop) and o >= stop:
            price, why, knd = o, reason, kind
        elif not np.isnan(tp) and o <= tp:
            price, why, knd = o, X_TP, K_TP
        elif not np.isnan(stop) and h >= stop:
            price, why, knd = stop, reason, kind
        elif not np.isnan(tp) and l <= tp:
            price, why, knd = tp, X_TP, K_TP
    if not np.isnan(price):
        execute_nb(cfg, state, cash, orders, trades, counts, j, t, float(t), -u, price, knd, why, np.nan, NO)
        return
    state[j, S_PEAK] = max(state[j, S_PEAK], h) if long else min(state[j, S_PEAK], l)


@njit(cache=True)
def fill_entry_nb(cfg, state, cash, orders, trades, counts, j, t, price, kind):
    """Fill asset ``j``'s pending entry at ``price``: close an opposite position first (reverse),
    then open or extend in the pending direction."""
    d = state[j, S_P_DIR]
    u = state[j, S_UNITS]
    sb = state[j, S_P_SIGNAL_BAR]
    if u != 0.0 and np.sign(u) != d:
        execute_nb(cfg, state, cash, orders, trades, counts, j, t, sb, -u, price, kind, X_REVERSE, np.nan, NO)
    elif u != 0.0 and not cfg["accumulate"]:
        return
    fill = slipped_price_nb(cfg, price, BUY if d > 0 else SELL, kind)
    units = entry_units_nb(cfg, state, cash, j, state[j, S_P_SIZE], state[j, S_P_WEIGHT], fill, state[j, S_P_SL])
    was_flat = state[j, S_UNITS] == 0.0
    mode = cfg["size_mode"]
    done = execute_nb(cfg, state, cash, orders, trades, counts, j, t, sb, d * units, price, kind, X_SIGNAL,
                      state[j, S_P_WEIGHT], mode == M_PCT or mode == M_RISK or mode == M_TARGET)
    if done > 0 and was_flat:
        set_stops_nb(cfg, state, j, state[j, S_P_SL], state[j, S_P_TP], state[j, S_P_TSL])


@njit(cache=True)
def target_delta_nb(cfg, state, cash, j, price):
    eq = equity_nb(cfg, state, cash, group_of_nb(cfg, j))
    target = round_units_nb(cfg, abs(state[j, S_P_TARGET]) * eq / price) * np.sign(state[j, S_P_TARGET])
    return target - state[j, S_UNITS]


@njit(cache=True)
def open_exits_nb(cfg, state, cash, orders, trades, counts, j, t, o, h, l):
    """Asset ``j`` at bar ``t``'s open, first pass: a pending exit or reduction, then the stops
    of a position held before this bar."""
    if state[j, S_P_KIND] == P_EXIT:
        u = state[j, S_UNITS]
        if u != 0.0 and (state[j, S_P_DIR] == 2 or np.sign(u) == state[j, S_P_DIR]):
            execute_nb(cfg, state, cash, orders, trades, counts, j, t, state[j, S_P_SIGNAL_BAR], -u, o, K_MARKET,
                       X_SIGNAL, np.nan, NO)
        clear_pending_nb(state, j)
    elif state[j, S_P_KIND] == P_TARGET:
        delta = target_delta_nb(cfg, state, cash, j, o)
        if delta < 0.0:
            execute_nb(cfg, state, cash, orders, trades, counts, j, t, state[j, S_P_SIGNAL_BAR], delta, o, K_MARKET,
                       X_SIGNAL, np.nan, NO)
            clear_pending_nb(state, j)
    if state[j, S_UNITS] != 0.0 and state[j, S_ENTRY_BAR] < t and has_stops_nb(state, j):
        check_stops_nb(cfg, state, cash, orders, trades, counts, j, t, o, h, l)


@njit(cache=True)
def open_entries_nb(cfg, state, cash, orders, trades, counts, j, t, o, h, l):
    """Asset ``j`` at bar ``t``'s open, second pass: a pending target increase or entry (with the
    stops of a position entered at this open)."""
    if state[j, S_P_KIND] == P_TARGET:
        delta = target_delta_nb(cfg, state, cash, j, o)
        if delta > 0.0:
            execute_nb(cfg, state, cash, orders, trades, counts, j, t, state[j, S_P_SIGNAL_BAR], delta, o, K_MARKET,
                       X_SIGNAL, np.nan, YES)
        clear_pending_nb(state, j)
    elif state[j, S_P_KIND] == P_ENTRY:
        if state[j, S_P_EXPIRY] >= 0 and t > state[j, S_P_EXPIRY]:
            add_order_nb(orders, counts, j, t, state[j, S_P_SIGNAL_BAR], BUY if state[j, S_P_DIR] > 0 else SELL,
                         entry_kind_nb(state, j), state[j, S_P_SIZE], np.nan, 0.0, 0.0, ST_EXPIRED, R_NONE)
            clear_pending_nb(state, j)
            return
        price, at_open = pending_fill_price_nb(state, j, o, h, l)
        if np.isnan(price):
            return
        fill_entry_nb(cfg, state, cash, orders, trades, counts, j, t, price, entry_kind_nb(state, j))
        clear_pending_nb(state, j)
        if at_open and state[j, S_UNITS] != 0.0 and state[j, S_ENTRY_BAR] == t:
            check_stops_nb(cfg, state, cash, orders, trades, counts, j, t, o, h, l)


@njit(cache=True, inline="always")
def open_work_nb(state, j, t):
    """Whether asset ``j`` has work at bar ``t``'s open: a pending order, or a position with stops.
    (Other assets only move their last price to the open.)"""
    return state[j, S_P_KIND] != P_NONE or (state[j, S_UNITS] != 0.0 and has_stops_nb(state, j))


@njit(cache=True)
def open_phase_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low):
    """Everything that happens from bar ``t``'s open to just before its close: exits, reductions
    and stops of every asset first (sells first), then entries and increases."""
    n = state.shape[0]
    for j in range(n):
        o = open_[t, j]
        if np.isnan(o):
            continue
        state[j, S_LAST_PRICE] = o
        if state[j, S_P_KIND] == P_EXIT or state[j, S_P_KIND] == P_TARGET or (
                state[j, S_UNITS] != 0.0 and state[j, S_ENTRY_BAR] < t and has_stops_nb(state, j)):
            open_exits_nb(cfg, state, cash, orders, trades, counts, j, t, o, high[t, j], low[t, j])
    for j in range(n):
        o = open_[t, j]
        if not np.isnan(o) and (state[j, S_P_KIND] == P_TARGET or state[j, S_P_KIND] == P_ENTRY):
            open_entries_nb(cfg, state, cash, orders, trades, counts, j, t, o, high[t, j], low[t, j])


@njit(cache=True)
def entry_kind_nb(state, j):
    has_l, has_s = not np.isnan(state[j, S_P_LIMIT]), not np.isnan(state[j, S_P_STOP])
    if has_l and has_s:
        return K_STOP_LIMIT
    if has_l:
        return K_LIMIT
    if has_s:
        return K_STOP
    return K_MARKET


@njit(cache=True)
def read_intent_nb(cfg, state, orders, counts, intent, j, t):
    """Turn asset ``j``'s intent at the close of bar ``t`` into its pending order.
    Returns True when a market order should fill at this close (SAME_CLOSE timing)."""
    u = state[j, S_UNITS]
    if intent[j, I_CANCEL] != 0 and state[j, S_P_KIND] == P_ENTRY:
        add_order_nb(orders, counts, j, t, state[j, S_P_SIGNAL_BAR], BUY if state[j, S_P_DIR] > 0 else SELL, entry_kind_nb(state, j),
                     state[j, S_P_SIZE], np.nan, 0.0, 0.0, ST_CANCELLED, R_NONE)
        clear_pending_nb(state, j)
    if not np.isnan(intent[j, I_TARGET]):
        state[j, S_P_KIND] = P_TARGET
        state[j, S_P_TARGET] = intent[j, I_TARGET]
        state[j, S_P_SIGNAL_BAR] = t
        return cfg["fill_timing"] == SAME_CLOSE
    ex, en = intent[j, I_EXIT], intent[j, I_ENTRY]
    if en != 0 and (ex == en or ex == 2):  # conflicting entry and exit: ignore both
        return False
    if en < 0 and not cfg["allow_short"]:
        en = 0
    wants_exit = u != 0.0 and (ex == 2 or (ex != 0 and np.sign(u) == ex))
    if ex != 0 and state[j, S_P_KIND] == P_ENTRY and (ex == 2 or ex == state[j, S_P_DIR]):
        clear_pending_nb(state, j)  # an exit signal withdraws an unfilled entry of that direction
    if en != 0:
        same = u != 0.0 and np.sign(u) == en
        opposite = u != 0.0 and np.sign(u) != en
        if (same and not cfg["accumulate"]) or (opposite and not cfg["reverse"]):
            en = 0
    if en != 0:
        if state[j, S_P_KIND] == P_ENTRY:
            add_order_nb(orders, counts, j, t, state[j, S_P_SIGNAL_BAR], BUY if state[j, S_P_DIR] > 0 else SELL,
                         entry_kind_nb(state, j), state[j, S_P_SIZE], np.nan, 0.0, 0.0, ST_CANCELLED, R_NONE)
        state[j, S_P_KIND] = P_ENTRY
        state[j, S_P_DIR] = en
        state[j, S_P_SIZE] = intent[j, I_SIZE]
        state[j, S_P_LIMIT] = intent[j, I_LIMIT]
        state[j, S_P_STOP] = intent[j, I_STOP]
        state[j, S_P_TRIGGERED] = 0.0
        state[j, S_P_SL] = intent[j, I_SL]
        state[j, S_P_TP] = intent[j, I_TP]
        state[j, S_P_TSL] = intent[j, I_TSL]
        state[j, S_P_WEIGHT] = intent[j, I_WEIGHT]
        state[j, S_P_SIGNAL_BAR] = t
        state[j, S_P_EXPIRY] = t + cfg["order_valid_bars"] if cfg["order_valid_bars"] > 0 else -1
        return cfg["fill_timing"] == SAME_CLOSE and np.isnan(intent[j, I_LIMIT]) and np.isnan(intent[j, I_STOP])
    if wants_exit:
        state[j, S_P_KIND] = P_EXIT
        state[j, S_P_DIR] = 2 if ex == 2 else ex
        state[j, S_P_SIGNAL_BAR] = t
        return cfg["fill_timing"] == SAME_CLOSE
    return False


@njit(cache=True)
def close_phase_nb(cfg, state, cash, orders, trades, counts, t, close, intent, fill_now):
    """Bar ``t``'s close: read intents and fill same-close orders (marking is :func:`mark_nb`).
    ``fill_now`` is a boolean scratch buffer of one entry per asset."""
    n = state.shape[0]
    for j in range(n):
        c = close[t, j]
        if np.isnan(c):
            continue
        state[j, S_LAST_PRICE] = c
        # without an intent read_intent_nb does nothing: skip the call
        fill_now[j] = intent_given_nb(intent, j) and read_intent_nb(cfg, state, orders, counts, intent, j, t)
    if cfg["fill_timing"] == SAME_CLOSE:
        for phase in range(2):  # exits first, then entries
            for j in range(n):
                if not fill_now[j]:
                    continue
                c = close[t, j]
                if phase == 0 and state[j, S_P_KIND] == P_EXIT:
                    execute_nb(cfg, state, cash, orders, trades, counts, j, t, float(t), -state[j, S_UNITS], c, K_MARKET,
                               X_SIGNAL, np.nan, NO)
                    clear_pending_nb(state, j)
                elif phase == 0 and state[j, S_P_KIND] == P_TARGET:
                    delta = target_delta_nb(cfg, state, cash, j, c)
                    if delta < 0.0:
                        execute_nb(cfg, state, cash, orders, trades, counts, j, t, float(t), delta, c, K_MARKET,
                                   X_SIGNAL, np.nan, NO)
                        clear_pending_nb(state, j)
                elif phase == 1 and state[j, S_P_KIND] == P_TARGET:
                    delta = target_delta_nb(cfg, state, cash, j, c)
                    if delta > 0.0:
                        execute_nb(cfg, state, cash, orders, trades, counts, j, t, float(t), delta, c, K_MARKET,
                                   X_SIGNAL, np.nan, YES)
                    clear_pending_nb(state, j)
                elif phase == 1 and state[j, S_P_KIND] == P_ENTRY:
                    fill_entry_nb(cfg, state, cash, orders, trades, counts, j, t, c, K_MARKET)
                    clear_pending_nb(state, j)


@njit(cache=True, inline="always")
def has_stops_nb(state, j):
    """Whether asset ``j``'s position has a stop-loss, take-profit or trailing stop."""
    return not (np.isnan(state[j, S_SL]) and np.isnan(state[j, S_TP]) and np.isnan(state[j, S_TSL]))


@njit(cache=True, inline="always")
def open_needed_nb(state, open_, t):
    """Whether bar ``t``'s open phase has work for any asset (:func:`open_work_nb`); when it has
    none, only the last prices move to the open."""
    needed = False
    for j in range(state.shape[0]):
        o = open_[t, j]
        if not np.isnan(o):
            state[j, S_LAST_PRICE] = o
        if open_work_nb(state, j, t):
            needed = True
    return needed


@njit(cache=True, inline="always")
def intent_given_nb(intent, j):
    """Whether asset ``j`` has an intent this bar (an entry, exit, cancel or target)."""
    return intent[j, I_ENTRY] != 0 or intent[j, I_EXIT] != 0 or intent[j, I_CANCEL] != 0 or not np.isnan(intent[j, I_TARGET])


@njit(cache=True, inline="always")
def intents_present_nb(intent):
    for j in range(intent.shape[0]):
        if intent_given_nb(intent, j):
            return True
    return False


@njit(cache=True, inline="always")
def mark_nb(cfg, state, cash, orders, trades, counts, t, close, equity_out, cash_out, units_out):
    """Mark positions to bar ``t``'s close, liquidate on a margin call, record the outputs."""
    n = state.shape[0]
    for j in range(n):
        c = close[t, j]
        if not np.isnan(c):
            state[j, S_LAST_PRICE] = c
    for g in range(cash.shape[0]):
        eq = equity_nb(cfg, state, cash, g)
        gross = gross_nb(cfg, state, g, -1)
        if gross > 0.0 and (eq <= 0.0 or eq < cfg["maintenance_margin"] * gross):
            liquidate_nb(cfg, state, cash, orders, trades, counts, t, g)
            eq = equity_nb(cfg, state, cash, g)
        equity_out[t, g] = eq
        cash_out[t, g] = cash[g]
    for j in range(n):
        units_out[t, j] = state[j, S_UNITS]


@njit(cache=True)
def liquidate_nb(cfg, state, cash, orders, trades, counts, t, g):
    n = state.shape[0]
    lo, hi = (0, n) if cfg["cash_sharing"] else (g, g + 1)
    for j in range(lo, hi):
        u = state[j, S_UNITS]
        if u != 0.0:
            execute_nb(cfg, state, cash, orders, trades, counts, j, t, float(t), -u, state[j, S_LAST_PRICE], K_LIQ, X_LIQ,
                       np.nan, NO)
            clear_pending_nb(state, j)


@njit(cache=True, inline="always")
def step_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low, close, intent, equity_out, cash_out,
            units_out, fill_now, phase):
    """Phase 0: bar ``t``'s open (fills of pending orders and stops); phase 1: its close (intents,
    same-close fills, marking). Heavy work runs only when there is something to do.

    Inlined (``inline="always"``) so the checks of the per-bar path cost no call. A driver should
    pass :func:`borrow`-ed views: inlining copies every array argument into new variables, and
    on owned arrays each copy costs two atomic reference-count updates per call."""
    if phase == 0:
        if open_needed_nb(state, open_, t):
            open_phase_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low)
    else:
        if intents_present_nb(intent):
            close_phase_nb(cfg, state, cash, orders, trades, counts, t, close, intent, fill_now)
        mark_nb(cfg, state, cash, orders, trades, counts, t, close, equity_out, cash_out, units_out)


@njit(cache=True)
def mark_open_trades_nb(state, trades, t_last):
    """Value still-open trades at the last price (``is_open`` stays True)."""
    for j in range(state.shape[0]):
        k = int(state[j, S_TRADE])
        if k >= 0:
            tr = trades[k]
            direction = 1.0 if state[j, S_UNITS] > 0 else -1.0
            tr["exit_bar"] = t_last
            tr["exit_price"] = state[j, S_LAST_PRICE]
            tr["pnl"] = direction * tr["size"] * (state[j, S_LAST_PRICE] - tr["entry_price"]) - tr["entry_fees"]
            cost = tr["size"] * tr["entry_price"]
            tr["ret"] = tr["pnl"] / cost if cost > 0 else 0.0


@njit(cache=True, inline="always")
def flex_nb(a, i, j):
    """Element ``(i, j)`` of a 2-D array broadcast to ``(n_bars, n_assets)`` without copying
    (shapes ``(1, 1)``, ``(1, n)``, ``(n, 1)`` or ``(n, m)``)."""
    return a[i if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0]


@njit(cache=True)
def setup_nb(cfg, n_bars, n):
    """Fresh simulation state: per-asset states, intents, cash, record counts and outputs."""
    n_groups = 1 if cfg["cash_sharing"] else n
    state = np.empty((n, N_STATE))
    init_state_nb(state)
    intent = np.zeros((n, N_INTENT))
    reset_intents_nb(intent)
    cash = np.full(n_groups, cfg["init_cash"])
    counts = np.zeros(2, dtype=np.int64)
    equity_out = np.empty((n_bars, n_groups))
    cash_out = np.empty((n_bars, n_groups))
    units_out = np.empty((n_bars, n))
    return state, intent, cash, counts, equity_out, cash_out, units_out, np.zeros(n, dtype=np.bool_)


@njit(cache=True)
def init_state_nb(state):
    """Flat, nothing pending: prices and stops NaN, counters zero, no open trade."""
    for j in range(state.shape[0]):
        for k in range(state.shape[1]):
            state[j, k] = np.nan
        state[j, S_UNITS] = 0.0
        state[j, S_ENTRY_BAR] = -1.0
        state[j, S_ENTRY_FEES] = 0.0
        state[j, S_TRADE] = -1.0
        state[j, S_P_KIND] = P_NONE
        state[j, S_P_DIR] = 0.0
        state[j, S_P_TRIGGERED] = 0.0


@njit(cache=True)
def entry_intent_nb(intent, t, j, size, limit, stop, sl, tp, tsl, weight):
    """The optional fields of asset ``j``'s entry at bar ``t`` (read only with an entry)."""
    intent[j, I_SIZE] = flex_nb(size, t, j)
    intent[j, I_LIMIT] = flex_nb(limit, t, j)
    intent[j, I_STOP] = flex_nb(stop, t, j)
    intent[j, I_SL] = flex_nb(sl, t, j)
    intent[j, I_TP] = flex_nb(tp, t, j)
    intent[j, I_TSL] = flex_nb(tsl, t, j)
    intent[j, I_WEIGHT] = flex_nb(weight, t, j)


@njit(cache=True, inline="always")
def mark_own_nb(cfg, state, cash, orders, trades, counts, t, close, equity_out, cash_out, units_out):
    """:func:`mark_nb` for one account per asset, in one pass over the assets."""
    mm = cfg["maintenance_margin"]
    for j in range(state.shape[0]):
        c = close[t, j]
        if not np.isnan(c):
            state[j, S_LAST_PRICE] = c
        u = state[j, S_UNITS]
        eq = cash[j] + 0.0
        if u != 0.0:
            v = u * state[j, S_LAST_PRICE]
            eq = cash[j] + v
            if abs(v) > 0.0 and (eq <= 0.0 or eq < mm * abs(v)):
                liquidate_nb(cfg, state, cash, orders, trades, counts, t, j)
                u = state[j, S_UNITS]
                eq = cash[j] + (u * state[j, S_LAST_PRICE] if u != 0.0 else 0.0)
        equity_out[t, j] = eq
        cash_out[t, j] = cash[j]
        units_out[t, j] = state[j, S_UNITS]


@njit(cache=True)
def signal_bars_nb(cfg, state, intent, cash, counts, open_, high, low, close, entries, exits, short_entries,
                   short_exits, size, limit, stop, sl, tp, tsl, weight, orders, trades, equity_out, cash_out,
                   units_out, fill_now, t0):
    """Simulate bars ``t0, t0+1, …`` from signals until the end or until the record arrays have
    less than :data:`ROOM` per asset left; returns the next bar to simulate.

    Per bar: the open phase runs only when an order is pending or a position has stops, the
    close phase only when a signal decided something, and marking always (the steps of
    :func:`step_nb`, with signals written as intents: entry and exit for every asset, the other
    fields only with an entry, cancel and target never)."""
    state, intent, cash, counts, fill_now = borrow(state), borrow(intent), borrow(cash), borrow(counts), borrow(fill_now)
    open_, high, low, close = borrow(open_), borrow(high), borrow(low), borrow(close)
    entries, exits, short_entries, short_exits = borrow(entries), borrow(exits), borrow(short_entries), borrow(short_exits)
    size, limit, stop, sl, tp, tsl, weight = borrow(size), borrow(limit), borrow(stop), borrow(sl), borrow(tp), borrow(tsl), borrow(weight)
    orders, trades = borrow(orders), borrow(trades)
    equity_out, cash_out, units_out = borrow(equity_out), borrow(cash_out), borrow(units_out)
    n_bars, n = close.shape
    sharing = cfg["cash_sharing"]
    todo = np.empty(n, dtype=np.int64)
    for t in range(t0, n_bars):
        if counts[0] + ROOM * n > orders.shape[0] or counts[1] + ROOM * n > trades.shape[0]:
            return t
        k = 0
        for j in range(n):
            o = open_[t, j]
            if not np.isnan(o):
                state[j, S_LAST_PRICE] = o
                if open_work_nb(state, j, t):
                    todo[k] = j
                    k += 1
        for i in range(k):  # open_phase_nb on the assets with work: exits first, then entries
            j = todo[i]
            open_exits_nb(cfg, state, cash, orders, trades, counts, j, t, open_[t, j], high[t, j], low[t, j])
        for i in range(k):
            j = todo[i]
            open_entries_nb(cfg, state, cash, orders, trades, counts, j, t, open_[t, j], high[t, j], low[t, j])
        decided = False
        for j in range(n):
            e_l, x_l = flex_nb(entries, t, j), flex_nb(exits, t, j)
            e_s, x_s = flex_nb(short_entries, t, j), flex_nb(short_exits, t, j)
            en = 0 if (e_l and e_s) else (1 if e_l else (-1 if e_s else 0))
            ex = 2 if (x_l and x_s) else (1 if x_l else (-1 if x_s else 0))
            intent[j, I_ENTRY] = en
            intent[j, I_EXIT] = ex
            if en != 0:
                entry_intent_nb(intent, t, j, size, limit, stop, sl, tp, tsl, weight)
            decided = decided or en != 0 or ex != 0
        if decided:
            close_phase_nb(cfg, state, cash, orders, trades, counts, t, close, intent, fill_now)
        if sharing:
            mark_nb(cfg, state, cash, orders, trades, counts, t, close, equity_out, cash_out, units_out)
        else:
            mark_own_nb(cfg, state, cash, orders, trades, counts, t, close, equity_out, cash_out, units_out)
    return n_bars


@njit
def callback_bars_nb(cfg, state, intent, cash, counts, open_, high, low, close, volume, callback, extra, orders,
                     trades, equity_out, cash_out, units_out, fill_now, t0):
    """:func:`signal_bars_nb` with a Numba strategy ``callback`` making the decisions (see
    :func:`simulate_callback`). Not cached: it is specialised for each callback."""
    state, intent, cash, counts, fill_now = borrow(state), borrow(intent), borrow(cash), borrow(counts), borrow(fill_now)
    open_, high, low, close, volume = borrow(open_), borrow(high), borrow(low), borrow(close), borrow(volume)
    orders, trades = borrow(orders), borrow(trades)
    equity_out, cash_out, units_out = borrow(equity_out), borrow(cash_out), borrow(units_out)
    n_bars, n = close.shape
    for t in range(t0, n_bars):
        if counts[0] + ROOM * n > orders.shape[0] or counts[1] + ROOM * n > trades.shape[0]:
            return t
        step_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low, close, intent, equity_out, cash_out,
                units_out, fill_now, 0)
        reset_intents_nb(intent)
        callback(t, open_[: t + 1], high[: t + 1], low[: t + 1], close[: t + 1], volume[: t + 1], state, cash,
                 intent, extra)
        step_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low, close, intent, equity_out, cash_out,
                units_out, fill_now, 1)
    return n_bars


# -- Python drivers: allocation and record growth in NumPy, the bars in one kernel call ---------

def setup(cfg, n_bars, n):
    """:func:`setup_nb` in NumPy (no compilation; large outputs get NumPy's huge-page hint)."""
    n_groups = 1 if cfg["cash_sharing"] else n
    state = np.full((n, N_STATE), np.nan)
    state[:, S_UNITS] = 0.0
    state[:, S_ENTRY_BAR] = -1.0
    state[:, S_ENTRY_FEES] = 0.0
    state[:, S_TRADE] = -1.0
    state[:, S_P_KIND] = P_NONE
    state[:, S_P_DIR] = 0.0
    state[:, S_P_TRIGGERED] = 0.0
    intent = np.full((n, N_INTENT), np.nan)
    intent[:, I_ENTRY] = 0.0
    intent[:, I_EXIT] = 0.0
    intent[:, I_CANCEL] = 0.0
    cash = np.full(n_groups, float(cfg["init_cash"]))
    counts = np.zeros(2, dtype=np.int64)
    equity_out = np.empty((n_bars, n_groups))
    cash_out = np.empty((n_bars, n_groups))
    units_out = np.empty((n_bars, n))
    return state, intent, cash, counts, equity_out, cash_out, units_out, np.zeros(n, dtype=np.bool_)


def grow(records, count, need):
    """:func:`grow_nb` in NumPy."""
    if count + need <= records.shape[0]:
        return records
    out = np.empty(max(2 * records.shape[0], count + need), dtype=records.dtype)
    out[:count] = records[:count]
    return out


def simulate_signals(cfg, open_, high, low, close, entries, exits, short_entries, short_exits,
                     size, limit, stop, sl, tp, tsl, weight, orders, trades):
    """Simulate from signal arrays (all 2-D, flexibly broadcast with :func:`flex_nb`).

    Returns ``(orders, trades, counts, equity, cash, units)``; ``counts`` holds the numbers of
    order and trade records.
    """
    n_bars, n = close.shape
    state, intent, cash, counts, equity_out, cash_out, units_out, fill_now = setup(cfg, n_bars, n)
    t = 0
    while t < n_bars:
        orders, trades = grow(orders, counts[0], ROOM * n), grow(trades, counts[1], ROOM * n)
        t = signal_bars_nb(cfg, state, intent, cash, counts, open_, high, low, close, entries, exits, short_entries,
                           short_exits, size, limit, stop, sl, tp, tsl, weight, orders, trades, equity_out, cash_out,
                           units_out, fill_now, t)
    mark_open_trades_nb(state, trades, n_bars - 1)
    return orders, trades, counts, equity_out, cash_out, units_out


def simulate_callback(cfg, open_, high, low, close, volume, callback, extra, orders, trades):
    """The per-bar loop with a Numba-compiled strategy ``callback``.

    ``callback(t, open, high, low, close, volume, state, cash, intent, extra)`` sees prices of
    bars ``0..t`` only and fills ``intent``.
    """
    n_bars, n = close.shape
    state, intent, cash, counts, equity_out, cash_out, units_out, fill_now = setup(cfg, n_bars, n)
    t = 0
    while t < n_bars:
        orders, trades = grow(orders, counts[0], ROOM * n), grow(trades, counts[1], ROOM * n)
        t = callback_bars_nb(cfg, state, intent, cash, counts, open_, high, low, close, volume, callback, extra,
                             orders, trades, equity_out, cash_out, units_out, fill_now, t)
    mark_open_trades_nb(state, trades, n_bars - 1)
    return orders, trades, counts, equity_out, cash_out, units_out


def simulate_callback_py(cfg, open_, high, low, close, callback, orders, trades):
    """Drive the same phases from Python, calling ``callback(t, state, cash, intent)`` at each
    close (a plain Python function or a Numba-compiled one; ``intent`` is reset before each
    call). Used by the Python per-bar strategy style."""
    n_bars, n = close.shape
    state, intent, cash, counts, equity_out, cash_out, units_out, fill_now = setup(cfg, n_bars, n)
    for t in range(n_bars):
        orders, trades = grow(orders, counts[0], ROOM * n), grow(trades, counts[1], ROOM * n)
        step_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low, close, intent, equity_out, cash_out,
                units_out, fill_now, 0)
        reset_intents_nb(intent)
        callback(t, state, cash, intent)
        step_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low, close, intent, equity_out, cash_out,
                units_out, fill_now, 1)
    mark_open_trades_nb(state, trades, n_bars - 1)
    return orders, trades, counts, equity_out, cash_out, units_out
