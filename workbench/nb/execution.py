"""Order execution for the simulation core: fills, costs, cash and leverage checks, order and
trade records, entry sizing, protective stops and pending-order prices.

Everything here acts on one asset ``j`` of the per-asset ``state`` array (columns ``S_*`` of
:mod:`workbench.nb.enums`) and its account ``cash``; :mod:`workbench.nb.simulate` decides when.
The plain reference these kernels are tested against is ``tests/backtesting/reference.py``
(the engine's rules written as plain Python) and the peer engines backtesting.py and vectorbt.

Compilation: enum codes are ``np.int64`` scalars, not Python ints. Numba types a Python int
constant as its own literal type, and a function called with different literals compiles once
per literal; with int64 codes every kernel has one signature and compiles once.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from workbench.nb.enums import (
    S_ENTRY_BAR,
    S_ENTRY_FEES,
    S_ENTRY_PRICE,
    S_LAST_PRICE,
    S_P_DIR,
    S_P_KIND,
    S_P_LIMIT,
    S_P_SIGNAL_BAR,
    S_P_SIZE,
    S_P_SL,
    S_P_STOP,
    S_P_TARGET,
    S_P_TP,
    S_P_TRIGGERED,
    S_P_TSL,
    S_P_WEIGHT,
    S_PEAK,
    S_SL,
    S_TP,
    S_TRADE,
    S_TSL,
    S_TSL_MODE,
    S_UNITS,
)
from workbench.nb.jit import njit_ieee as njit

__all__ = [
    "borrow",
    "equity_nb",
    "gross_nb",
    "slipped_price_nb",
    "round_units_nb",
    "add_order_nb",
    "close_trade_part_nb",
    "open_trade_part_nb",
    "set_stops_nb",
    "execute_nb",
    "entry_units_nb",
    "target_delta_nb",
    "clear_pending_nb",
    "entry_kind_nb",
    "pending_order_nb",
    "end_pending_nb",
    "pending_fill_price_nb",
    "check_stops_nb",
    "fill_entry_nb",
]

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


@intrinsic
def borrow(typingctx, arr):
    """A view of array ``arr`` without its reference-counted owner (``meminfo``).

    Numba counts references to an array with atomic increments and decrements wherever a
    variable, or an argument of a called function, holds it; in a per-bar loop that calls the
    order handlers those atomics cost more than the simulation itself. A borrowed view has no
    owner, so the counting is skipped. It must not outlive ``arr`` (a kernel borrows its own
    arguments, which its caller keeps alive) and must never be returned.
    """
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        view = context.make_array(arr)(context, builder, value=args[0])
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        return view._getvalue()

    return arr(arr), codegen


@njit(entry=False, cache=True)
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


@njit(entry=False, cache=True)
def gross_nb(cfg, state, g, skip):
    """Gross exposure of group ``g`` (sum of |position value|), leaving out asset ``skip``."""
    total = 0.0
    lo, hi = (0, state.shape[0]) if cfg["cash_sharing"] else (g, g + 1)
    for j in range(lo, hi):
        if j != skip and state[j, S_UNITS] != 0.0:
            total += abs(state[j, S_UNITS] * state[j, S_LAST_PRICE])
    return total


@njit(entry=False, cache=True)
def slipped_price_nb(cfg, price, side, kind):
    """Fill price after spread and slippage (adverse); limit and take-profit fills get no slippage."""
    sign = 1.0 if side == BUY else -1.0
    p = price * (1.0 + sign * cfg["spread"] / 2.0)
    if kind != K_LIMIT and kind != K_TP:
        p = p * (1.0 + sign * cfg["slippage"]) + sign * cfg["slippage_ticks"] * cfg["tick_size"]
    return p


@njit(entry=False, cache=True)
def round_units_nb(cfg, units):
    """``units`` rounded down to whole lots of ``lot_size`` (unchanged when it is 0)."""
    lot = cfg["lot_size"]
    if lot > 0.0:
        return np.floor(units / lot + 1e-9) * lot
    return units


@njit(entry=False, cache=True)
def add_order_nb(orders, counts, j, t, signal_bar, side, kind, size, price, fees, slip, status, reason):
    """Append one order record (the caller keeps room for it)."""
    k = counts[0]
    o = orders[k]
    o["id"] = k
    o["col"] = j
    o["bar"] = t
    o["signal_bar"] = np.int64(signal_bar)
    o["side"] = side
    o["kind"] = kind
    o["size"] = size
    o["price"] = price
    o["fees"] = fees
    o["slippage"] = slip
    o["status"] = status
    o["reason"] = reason
    counts[0] = k + 1


@njit(entry=False, cache=True)
def close_trade_part_nb(trades, counts, state, j, t, units_closed, price, exit_fees, reason):
    """Book the closing of ``units_closed`` (> 0) of asset ``j``'s open trade at ``price``."""
    k = np.int64(state[j, S_TRADE])
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


@njit(entry=False, cache=True)
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
        k = np.int64(state[j, S_TRADE])
        old = trades[k]["size"]
        new = old + units_added
        state[j, S_ENTRY_PRICE] = (state[j, S_ENTRY_PRICE] * old + price * units_added) / new
        state[j, S_ENTRY_FEES] += fees
        trades[k]["size"] = new
        trades[k]["entry_price"] = state[j, S_ENTRY_PRICE]
        trades[k]["entry_fees"] = state[j, S_ENTRY_FEES]


@njit(entry=False, cache=True, inline="always")
def _stop_level_nb(p, own, setting, absolute, sign):
    """A stop level of a position entered at ``p``: the entry's ``own`` stop (an absolute level
    when ``absolute``, else a fraction of ``p``), or when NaN the ``setting`` (a fraction of
    ``p``, always); ``sign`` is -1 below the entry, +1 above (NaN: no stop)."""
    if np.isnan(own):
        return p * (1.0 + sign * setting)
    return own if absolute else p * (1.0 + sign * own)


@njit(entry=False, cache=True)
def set_stops_nb(cfg, state, j, sl, tp, tsl):
    """Turn the stops of a freshly opened position into price levels and a trailing distance.

    ``sl``, ``tp``, ``tsl`` are the entry's own stops, read by ``cfg["stop_mode"]`` (0: fractions
    of price; 1: absolute levels and a trailing distance in price units); where one is NaN the
    setting ``cfg["sl"]``/``["tp"]``/``["tsl"]`` applies, which is always a fraction of price.
    The trailing distance keeps its mode in ``S_TSL_MODE``."""
    sign = 1.0 if state[j, S_UNITS] > 0 else -1.0
    p = state[j, S_ENTRY_PRICE]
    absolute = cfg["stop_mode"] != 0
    state[j, S_SL] = _stop_level_nb(p, sl, cfg["sl"], absolute, -sign)
    state[j, S_TP] = _stop_level_nb(p, tp, cfg["tp"], absolute, sign)
    if np.isnan(tsl):
        state[j, S_TSL] = cfg["tsl"]  # a fraction of the peak
        state[j, S_TSL_MODE] = 0.0
    else:
        state[j, S_TSL] = tsl
        state[j, S_TSL_MODE] = 1.0 if absolute else 0.0
    state[j, S_PEAK] = p


@njit(entry=False, cache=True)
def execute_nb(cfg, state, cash, orders, trades, counts, j, t, signal_bar, delta, raw_price, kind,
               reason, weight, shrink):
    """Trade ``delta`` units (signed) of asset ``j`` at ``raw_price`` (before costs).

    Applies spread, slippage and fees, checks cash, leverage and shorting rules, books the
    order and the trade records. ``shrink`` lets an entry sized from equity shrink to what the
    account can afford (after costs) instead of being rejected. Returns the units traded.

    Only the part of the order that opens or adds exposure is checked: an order that crosses
    zero first closes the position held (freeing its cash and exposure). Exposure is valued at
    the marks (``S_LAST_PRICE``): the room is ``leverage × equity`` less the other positions and
    the units still held; without leverage a buy must also leave the cash non-negative.
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
    g = 0 if cfg["cash_sharing"] else j
    # the part that closes the position held frees cash and exposure; only the rest is checked
    closing = min(size, abs(units)) if units * delta < 0.0 else 0.0
    increases = size - closing > EPS
    if increases:
        cost = price * (1.0 + cfg["fees"])  # cash per unit bought or sold
        # leverage room: what the account may hold beyond the other assets and the units of this
        # one still held after the closing part, every position valued at its mark
        avail = cfg["leverage"] * equity_nb(cfg, state, cash, g) - gross_nb(cfg, state, g, j)
        if closing == 0.0 and units != 0.0:
            avail -= abs(units) * state[j, S_LAST_PRICE]
        if cfg["leverage"] <= 1.0 and side == BUY:  # cash may not go negative
            avail = min(avail, cash[g] - closing * cost)
        avail -= cfg["fixed_fees"]
        max_add = avail / cost if avail > 0 else 0.0
        opening = size - closing
        if opening > max_add + 1e-9 * max(opening, 1.0):
            if shrink:
                size = closing + (round_units_nb(cfg, max_add) if max_add > 0 else 0.0)
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


@njit(entry=False, cache=True)
def entry_units_nb(cfg, state, cash, j, size, weight, price, sl):
    """Units to open for an entry at ``price`` under the configured size mode (> 0, or 0)."""
    mode = cfg["size_mode"]
    s = cfg["size"] if np.isnan(size) else size
    if not np.isnan(weight) and mode == M_PCT:
        s = weight
    eq = equity_nb(cfg, state, cash, 0 if cfg["cash_sharing"] else j)
    if mode == M_PCT or mode == M_TARGET:
        units = (s * eq - cfg["fixed_fees"]) / (price * (1.0 + cfg["fees"]))
    elif mode == M_UNITS:
        units = s
    elif mode == M_VALUE:
        units = s / price
    else:  # M_RISK: risk fraction of equity over the distance to the stop (the setting is a fraction)
        if np.isnan(sl):
            dist = price * cfg["sl"]
        else:
            dist = price * sl if cfg["stop_mode"] == 0 else abs(price - sl)
        units = s * eq / dist if dist > 0 else 0.0
    units = round_units_nb(cfg, units)
    return units if units > 0 else 0.0


@njit(entry=False, cache=True)
def target_delta_nb(cfg, state, cash, j, price):
    """Units to trade for asset ``j``'s pending target weight at ``price``."""
    eq = equity_nb(cfg, state, cash, 0 if cfg["cash_sharing"] else j)
    target = round_units_nb(cfg, abs(state[j, S_P_TARGET]) * eq / price) * np.sign(state[j, S_P_TARGET])
    return target - state[j, S_UNITS]


@njit(entry=False, cache=True)
def clear_pending_nb(state, j):
    """Asset ``j`` has no pending order any more."""
    state[j, S_P_KIND] = P_NONE
    state[j, S_P_TRIGGERED] = 0.0


@njit(entry=False, cache=True)
def entry_kind_nb(state, j):
    """The order kind of asset ``j``'s pending entry: market, limit, stop or stop-limit."""
    has_l, has_s = not np.isnan(state[j, S_P_LIMIT]), not np.isnan(state[j, S_P_STOP])
    if has_l and has_s:
        return K_STOP_LIMIT
    if has_l:
        return K_LIMIT
    if has_s:
        return K_STOP
    return K_MARKET


@njit(entry=False, cache=True)
def pending_order_nb(cfg, state, cash, j):
    """Side, kind and units of asset ``j``'s pending order as it stands, for its record when it
    is cancelled or expires: an entry's units at its limit (else its stop, else the last) price
    and the current equity (as :func:`fill_entry_nb` would size it there), an exit's position,
    a target's trade at the last price."""
    u = state[j, S_UNITS]
    if state[j, S_P_KIND] == P_ENTRY:
        side = BUY if state[j, S_P_DIR] > 0 else SELL
        kind = entry_kind_nb(state, j)
        p = state[j, S_P_LIMIT]
        if np.isnan(p):
            p = state[j, S_LAST_PRICE] if np.isnan(state[j, S_P_STOP]) else state[j, S_P_STOP]
        fill = slipped_price_nb(cfg, p, side, kind)
        return side, kind, entry_units_nb(cfg, state, cash, j, state[j, S_P_SIZE], state[j, S_P_WEIGHT], fill,
                                          state[j, S_P_SL])
    if state[j, S_P_KIND] == P_EXIT:
        return (SELL if u > 0 else BUY), K_MARKET, abs(u)
    delta = target_delta_nb(cfg, state, cash, j, state[j, S_LAST_PRICE])
    return (BUY if delta > 0 else SELL), K_MARKET, abs(delta)


@njit(entry=False, cache=True)
def end_pending_nb(orders, counts, state, j, t, side, kind, size, status):
    """Withdraw asset ``j``'s pending order at bar ``t`` with a record (``status`` cancelled or
    expired; ``side``, ``kind``, ``size`` from :func:`pending_order_nb`)."""
    add_order_nb(orders, counts, j, t, state[j, S_P_SIGNAL_BAR], side, kind, size, np.nan, 0.0, 0.0, status, R_NONE)
    clear_pending_nb(state, j)


@njit(entry=False, cache=True)
def pending_fill_price_nb(state, j, o, h, lo):
    """Price at which asset ``j``'s pending entry fills within the bar (NaN: not this bar), and
    whether it filled at the open.

    A stop (or the stop of a stop-limit) triggers when the open or the bar's range reaches it; a
    stop-limit then acts as a limit. Triggered at the open, the limit applies from the open. When
    the stop triggers within the bar, a limit on the near side of the stop (buy: at or above it)
    fills at the stop; a limit beyond it (buy: below the stop) does not fill on that bar, since
    where the price went after the trigger is unknown (the bar's low may have come before it):
    it acts as a limit from the next bar."""
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
        elif (d > 0 and h >= stp) or (d < 0 and lo <= stp):
            state[j, S_P_TRIGGERED] = 1.0
            if not has_l:
                return stp, False
            if (d > 0 and lim >= stp) or (d < 0 and lim <= stp):
                return stp, False
            return np.nan, False  # a limit beyond the stop: from the next bar
        else:
            return np.nan, False
    # a plain limit order, or a triggered stop-limit acting as a limit
    if d > 0:
        if o <= lim:
            return o, True
        if lo <= lim:
            return lim, False
    else:
        if o >= lim:
            return o, True
        if h >= lim:
            return lim, False
    return np.nan, False


@njit(entry=False, cache=True)
def check_stops_nb(cfg, state, cash, orders, trades, counts, j, t, o, h, lo):
    """Per-position stop-loss, trailing stop and take-profit on bar ``t``: a gap through a level
    fills at the open; when a stop and a target are both inside the bar, the stop is assumed hit
    first (the conservative rule). Otherwise the trailing peak moves to the bar's extreme."""
    u = state[j, S_UNITS]
    if u == 0.0:
        return
    long = u > 0
    stop = state[j, S_SL]
    reason, kind = X_SL, K_SL
    if not np.isnan(state[j, S_TSL]):
        dist = state[j, S_PEAK] * state[j, S_TSL] if state[j, S_TSL_MODE] == 0.0 else state[j, S_TSL]
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
        elif not np.isnan(stop) and lo <= stop:
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
        elif not np.isnan(tp) and lo <= tp:
            price, why, knd = tp, X_TP, K_TP
    if not np.isnan(price):
        execute_nb(cfg, state, cash, orders, trades, counts, j, t, float(t), -u, price, knd, why, np.nan, NO)
        return
    state[j, S_PEAK] = max(state[j, S_PEAK], h) if long else min(state[j, S_PEAK], lo)


@njit(entry=False, cache=True)
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
    side = BUY if d > 0 else SELL
    fill = slipped_price_nb(cfg, price, side, kind)
    units = entry_units_nb(cfg, state, cash, j, state[j, S_P_SIZE], state[j, S_P_WEIGHT], fill, state[j, S_P_SL])
    if units == 0.0:  # nothing to trade: rejected with the entry's side (a zero delta has none)
        add_order_nb(orders, counts, j, t, sb, side, kind, 0.0, fill, 0.0, 0.0, ST_REJECTED, R_ZERO)
        return
    was_flat = state[j, S_UNITS] == 0.0
    mode = cfg["size_mode"]
    done = execute_nb(cfg, state, cash, orders, trades, counts, j, t, sb, d * units, price, kind, X_SIGNAL,
                      state[j, S_P_WEIGHT], mode == M_PCT or mode == M_RISK or mode == M_TARGET)
    if done > 0 and was_flat:
        set_stops_nb(cfg, state, j, state[j, S_P_SL], state[j, S_P_TP], state[j, S_P_TSL])
