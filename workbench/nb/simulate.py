"""The order simulation core: one bar at a time, in two phases.

``open_phase_nb(t)`` fills what was decided before bar *t*: pending market orders at the open
(exits, reductions and the closing legs of reversals before the stops of the positions held),
limit/stop/stop-limit orders when the bar's range touches them, and per-position stop-loss,
take-profit and trailing stops on high/low (a gap through a level fills at the open; when a stop
and a target are both inside one bar, the stop is assumed hit first — the conservative rule).

``close_phase_nb(t)`` reads the strategy's intents decided at the close of bar *t*, turns them
into orders (filled at the next open by default, or at this close when ``fill_timing`` is
``SAME_CLOSE``), then ``mark_nb`` marks positions to market, checks margin and records equity.

Every strategy style — vectorized signals, a Numba per-bar callback, a Python per-bar callback —
drives these same phases, so they produce identical results on the same decisions. The plain
reference these kernels are tested against is ``tests/backtesting/reference.py`` and the peer
engines backtesting.py and vectorbt. Order execution itself is in :mod:`workbench.nb.execution`.

Speed: the bar loops (:func:`signal_bars_nb`, :func:`callback_bars_nb`) work on
:func:`~workbench.nb.execution.borrow`-ed views of their arrays, so neither the loop nor the
calls into the order handlers pay atomic reference counting. The signal loop scans each bar's
assets once and runs the phases only for the assets with work (a pending order, a protected
position, a decision, a margin call). All asset-level order handling goes through one kernel,
:func:`asset_step_nb`, which keeps the compiled call graph shallow (Numba re-optimizes a callee
inside every caller, so depth costs compile time).

With one account per asset, large runs split the assets into ranges that run on Numba's threads
(:func:`signal_chunks_nb`); records then follow a documented order that does not depend on the
number of threads (:func:`canonical_records`: orders by bar then asset, trades by entry bar then
asset).
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, prange

from workbench.nb.enums import (
    I_CANCEL,
    I_ENTRY,
    I_EXIT,
    I_LIMIT,
    I_SIZE,
    I_SL,
    I_STOP,
    I_TARGET,
    I_TP,
    I_TSL,
    I_WEIGHT,
    N_INTENT,
    N_STATE,
    S_ENTRY_BAR,
    S_ENTRY_FEES,
    S_LAST_PRICE,
    S_P_DIR,
    S_P_EXPIRY,
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
    S_SL,
    S_TP,
    S_TRADE,
    S_TSL,
    S_TSL_MODE,
    S_UNITS,
    order_dt,
    trade_dt,
)
from workbench.nb.execution import (
    BUY,
    K_LIQ,
    K_MARKET,
    NO,
    P_ENTRY,
    P_EXIT,
    P_NONE,
    P_TARGET,
    SAME_CLOSE,
    ST_CANCELLED,
    ST_EXPIRED,
    X_LIQ,
    X_REVERSE,
    X_SIGNAL,
    YES,
    borrow,
    check_stops_nb,
    clear_pending_nb,
    end_pending_nb,
    entry_kind_nb,
    equity_nb,
    execute_nb,
    fill_entry_nb,
    gross_nb,
    pending_fill_price_nb,
    pending_order_nb,
    target_delta_nb,
)
from workbench.nb.jit import njit_ieee as njit

__all__ = [
    "ROOM",
    "OPEN_EXITS",
    "OPEN_ENTRIES",
    "CLOSE_EXITS",
    "CLOSE_ENTRIES",
    "LIQUIDATE",
    "borrow",
    "equity_nb",
    "gross_nb",
    "asset_step_nb",
    "withdraw_entry_nb",
    "read_intent_nb",
    "open_phase_nb",
    "close_phase_nb",
    "liquidate_nb",
    "mark_nb",
    "step_nb",
    "grow_nb",
    "reset_intents_nb",
    "flex_nb",
    "setup_nb",
    "mark_open_trades_nb",
    "bars_ok_nb",
    "signal_events_nb",
    "signal_bars_nb",
    "signal_chunks_nb",
    "callback_bars_nb",
    "setup",
    "grow",
    "signal_codes_nb",
    "signal_codes",
    "chunks_for",
    "canonical_records",
    "simulate_signals",
    "simulate_callback",
    "simulate_callback_py",
]

ROOM = 8
"""Order (and trade) records one bar can add per asset: at most 4 at the open (a stop, a
reversal, the entry, a stop on the entry's own bar) and 4 at the close (a cancellation, then a
reversal and the entry filled at the close and a liquidation, or a liquidation and the pending
order it cancels). Drivers keep this much room."""

# the stages of asset_step_nb, in their order within a bar
OPEN_EXITS, OPEN_ENTRIES, CLOSE_EXITS, CLOSE_ENTRIES, LIQUIDATE = (np.int64(k) for k in range(5))
NONE, ZERO = np.int64(-1), np.int64(0)  # no asset; a count


def _direction(long, short, both):
    return both if (long and short) else (1 if long else (-1 if short else 0))


# the entry and exit intents of each signal code (:func:`signal_codes`): long 1, short -1, none 0
# (an entry both ways is none), an exit both ways 2
ENTRY_OF = np.array([_direction(c & 1, c & 4, 0) for c in range(16)], dtype=np.float64)
EXIT_OF = np.array([_direction(c & 2, c & 8, 2) for c in range(16)], dtype=np.float64)


# -- one asset, one stage ------------------------------------------------------------------------

@njit(entry=False, cache=True)
def asset_step_nb(cfg, state, cash, orders, trades, counts, j, t, stage, o, h, lo):
    """Asset ``j``'s part of one ``stage`` of bar ``t``: ``OPEN_EXITS`` and ``OPEN_ENTRIES`` at
    the open ``o`` (bar range ``lo``-``h``), ``CLOSE_EXITS`` and ``CLOSE_ENTRIES`` for same-close
    fills at the close ``o``, ``LIQUIDATE`` (a margin call) at the last price, which also cancels
    the pending order (with a record).

    An exit stage fills a pending exit, a target's reduction or a pending market reversal's
    closing leg (not expired: before the old position's stops, and with a shared account before
    every opening leg), then at the open the stops of a position still held from before. An
    entry stage fills a target's increase or a pending entry (at the open: when the bar reaches
    its price, with the stops of a position entered at this open). Every market order of a stage
    goes through one call of :func:`~workbench.nb.execution.execute_nb`."""
    u = state[j, S_UNITS]
    pk = state[j, S_P_KIND]
    exits = stage == OPEN_EXITS or stage == CLOSE_EXITS
    # the stage's market order: `delta` units at `price` (none when 0)
    delta, price, kind, reason, shrink, signal_bar = 0.0, o, K_MARKET, X_SIGNAL, NO, state[j, S_P_SIGNAL_BAR]
    p_side, p_kind, p_size = BUY, K_MARKET, np.nan  # a pending order's record
    stops = False  # then the stops of the position held
    if stage == LIQUIDATE:
        if u == 0.0:
            return
        if pk != P_NONE:  # described before the position goes
            p_side, p_kind, p_size = pending_order_nb(cfg, state, cash, j)
        delta, price, kind, reason, signal_bar = -u, state[j, S_LAST_PRICE], K_LIQ, X_LIQ, float(t)
    elif pk == P_TARGET:
        d = target_delta_nb(cfg, state, cash, j, o)
        if (exits and d < 0.0) or (not exits and d > 0.0):  # a reduction shrinks to the room when it crosses zero
            delta, shrink = d, YES
        if d < 0.0 or not exits:
            clear_pending_nb(state, j)
    elif pk == P_EXIT:
        if exits:
            if u != 0.0 and (state[j, S_P_DIR] == 2 or np.sign(u) == state[j, S_P_DIR]):
                delta = -u
            clear_pending_nb(state, j)
    elif pk == P_ENTRY:
        expired = state[j, S_P_EXPIRY] >= 0 and t > state[j, S_P_EXPIRY]
        if exits:
            if u != 0.0 and np.sign(u) != state[j, S_P_DIR] and entry_kind_nb(state, j) == K_MARKET and not expired:
                delta, reason = -u, X_REVERSE
        elif expired:
            p_side, p_kind, p_size = pending_order_nb(cfg, state, cash, j)
            end_pending_nb(orders, counts, state, j, t, p_side, p_kind, p_size, ST_EXPIRED)
            return
        else:
            fill, at_open = pending_fill_price_nb(state, j, o, h, lo)
            if np.isnan(fill):
                return
            fill_entry_nb(cfg, state, cash, orders, trades, counts, j, t, fill, entry_kind_nb(state, j))
            clear_pending_nb(state, j)
            # a position entered at this open
            stops = stage == OPEN_ENTRIES and at_open and state[j, S_UNITS] != 0.0 and state[j, S_ENTRY_BAR] == t
    if delta != 0.0:
        execute_nb(cfg, state, cash, orders, trades, counts, j, t, signal_bar, delta, price, kind, reason, np.nan,
                   shrink)
    if stage == LIQUIDATE and pk != P_NONE:
        end_pending_nb(orders, counts, state, j, t, p_side, p_kind, p_size, ST_CANCELLED)
    if stage == OPEN_EXITS:  # a position still held from before
        stops = state[j, S_UNITS] != 0.0 and state[j, S_ENTRY_BAR] < t and not (
            np.isnan(state[j, S_SL]) and np.isnan(state[j, S_TP]) and np.isnan(state[j, S_TSL]))
    if stops:
        check_stops_nb(cfg, state, cash, orders, trades, counts, j, t, o, h, lo)


@njit(entry=False, cache=True)
def withdraw_entry_nb(cfg, state, cash, orders, counts, j, t):
    """Withdraw asset ``j``'s pending entry, if there is one, with a 'cancelled' record."""
    if state[j, S_P_KIND] == P_ENTRY:
        side, kind, size = pending_order_nb(cfg, state, cash, j)
        end_pending_nb(orders, counts, state, j, t, side, kind, size, ST_CANCELLED)


@njit(entry=False, cache=True)
def read_intent_nb(cfg, state, cash, orders, counts, intent, j, t):
    """Turn asset ``j``'s intent at the close of bar ``t`` into its pending order.
    Returns True when a market order should fill at this close (SAME_CLOSE timing).

    A pending entry that the intent withdraws (``cancel``, an exit of its direction) or replaces
    (a new entry, a target, an exit) gets a 'cancelled' record."""
    u = state[j, S_UNITS]
    if intent[j, I_CANCEL] != 0:
        withdraw_entry_nb(cfg, state, cash, orders, counts, j, t)
    if not np.isnan(intent[j, I_TARGET]):
        withdraw_entry_nb(cfg, state, cash, orders, counts, j, t)
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
        withdraw_entry_nb(cfg, state, cash, orders, counts, j, t)  # an exit withdraws an entry of its direction
    if en != 0:
        same = u != 0.0 and np.sign(u) == en
        opposite = u != 0.0 and np.sign(u) != en
        if (same and not cfg["accumulate"]) or (opposite and not cfg["reverse"]):
            en = 0
    if en != 0:
        withdraw_entry_nb(cfg, state, cash, orders, counts, j, t)  # replaced by the new entry
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
        withdraw_entry_nb(cfg, state, cash, orders, counts, j, t)  # replaced by the exit
        state[j, S_P_KIND] = P_EXIT
        state[j, S_P_DIR] = 2 if ex == 2 else ex
        state[j, S_P_SIGNAL_BAR] = t
        return cfg["fill_timing"] == SAME_CLOSE
    return False


# -- the phases of a bar, over every asset -------------------------------------------------------

@njit(entry=False, cache=True, inline="always")
def open_work_nb(state, j):
    """Whether asset ``j`` has work at the open: a pending order, or a position with stops.
    (Any other asset only moves its last price to the open.)"""
    return state[j, S_P_KIND] != P_NONE or (state[j, S_UNITS] != 0.0 and not (
        np.isnan(state[j, S_SL]) and np.isnan(state[j, S_TP]) and np.isnan(state[j, S_TSL])))


@njit(entry=False, cache=True)
def open_phase_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low):
    """Everything that happens from bar ``t``'s open to just before its close: exits, reductions,
    closing legs of reversals and stops of every asset first (sells first), then entries and
    increases."""
    n = state.shape[0]
    for j in range(n):
        o = open_[t, j]
        if np.isnan(o):
            continue
        state[j, S_LAST_PRICE] = o
        if state[j, S_P_KIND] != P_NONE or state[j, S_UNITS] != 0.0:
            asset_step_nb(cfg, state, cash, orders, trades, counts, j, t, OPEN_EXITS, o, high[t, j], low[t, j])
    for j in range(n):
        o = open_[t, j]
        if not np.isnan(o) and (state[j, S_P_KIND] == P_TARGET or state[j, S_P_KIND] == P_ENTRY):
            asset_step_nb(cfg, state, cash, orders, trades, counts, j, t, OPEN_ENTRIES, o, high[t, j], low[t, j])


@njit(entry=False, cache=True, inline="always")
def close_phase_nb(cfg, state, cash, orders, trades, counts, t, close, intent, fill_now, j0, j1):
    """Bar ``t``'s close for assets ``j0 … j1-1``: read intents and fill same-close orders (marking
    is :func:`mark_nb`). ``fill_now`` is a boolean scratch buffer of one entry per asset."""
    for j in range(j0, j1):
        c = close[t, j]
        if np.isnan(c):
            continue
        state[j, S_LAST_PRICE] = c
        # without an intent read_intent_nb does nothing: skip the call
        given = intent[j, I_ENTRY] != 0 or intent[j, I_EXIT] != 0 or intent[j, I_CANCEL] != 0 or not np.isnan(
            intent[j, I_TARGET])
        fill_now[j] = given and read_intent_nb(cfg, state, cash, orders, counts, intent, j, t)
    if cfg["fill_timing"] == SAME_CLOSE:
        for stage in (CLOSE_EXITS, CLOSE_ENTRIES):  # exits first, then entries
            for j in range(j0, j1):
                if fill_now[j]:
                    asset_step_nb(cfg, state, cash, orders, trades, counts, j, t, stage, close[t, j], np.nan, np.nan)


@njit(entry=False, cache=True, inline="always")
def liquidate_nb(cfg, state, cash, orders, trades, counts, t, g):
    """Close every position of account ``g`` at its last price (a margin call)."""
    lo, hi = (0, state.shape[0]) if cfg["cash_sharing"] else (g, g + 1)
    for j in range(lo, hi):
        asset_step_nb(cfg, state, cash, orders, trades, counts, j, t, LIQUIDATE, np.nan, np.nan, np.nan)


@njit(entry=False, cache=True, inline="always")
def mark_nb(cfg, state, cash, orders, trades, counts, t, close, equity_out, cash_out, units_out):
    """Mark positions to bar ``t``'s close, liquidate on a margin call, record the outputs."""
    n = state.shape[0]
    for j in range(n):
        c = close[t, j]
        if not np.isnan(c):
            state[j, S_LAST_PRICE] = c
    for g in range(cash.shape[0]):
        eq = equity_nb(cfg, state, cash, g)
        gross = gross_nb(cfg, state, g, NONE)
        if gross > 0.0 and (eq <= 0.0 or eq < cfg["maintenance_margin"] * gross):
            liquidate_nb(cfg, state, cash, orders, trades, counts, t, g)
            eq = equity_nb(cfg, state, cash, g)
        equity_out[t, g] = eq
        cash_out[t, g] = cash[g]
    for j in range(n):
        units_out[t, j] = state[j, S_UNITS]


@njit(entry=False, cache=True, inline="always")
def mark_own_nb(cfg, state, cash, orders, trades, counts, t, j, close, equity_out, cash_out, units_out):
    """:func:`mark_nb` for asset ``j`` in its own account."""
    if not mark_quiet_nb(cfg, state, cash, t, j, close, equity_out, cash_out, units_out):
        asset_step_nb(cfg, state, cash, orders, trades, counts, j, t, LIQUIDATE, np.nan, np.nan, np.nan)
        u = state[j, S_UNITS]
        equity_out[t, j] = cash[j] + (u * state[j, S_LAST_PRICE] if u != 0.0 else 0.0)
        cash_out[t, j] = cash[j]
        units_out[t, j] = state[j, S_UNITS]


@njit(entry=False, cache=True, inline="always")
def mark_quiet_nb(cfg, state, cash, t, j, close, equity_out, cash_out, units_out):
    """:func:`mark_own_nb` when no margin call is due; returns False, recording nothing, when
    one is (the last price has moved to the close)."""
    c = close[t, j]
    if not np.isnan(c):
        state[j, S_LAST_PRICE] = c
    u = state[j, S_UNITS]
    eq = cash[j] + 0.0
    if u != 0.0:
        v = u * state[j, S_LAST_PRICE]
        eq = cash[j] + v
        if abs(v) > 0.0 and (eq <= 0.0 or eq < cfg["maintenance_margin"] * abs(v)):
            return False
    equity_out[t, j] = eq
    cash_out[t, j] = cash[j]
    units_out[t, j] = u
    return True


@njit(cache=True, inline="always")
def step_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low, close, intent, equity_out, cash_out,
            units_out, fill_now, phase):
    """Phase 0: bar ``t``'s open (fills of pending orders and stops); phase 1: its close (intents,
    same-close fills, marking). Heavy work runs only when there is something to do.

    Inlined (``inline="always"``) so the checks of the per-bar path cost no call. A driver should
    pass :func:`borrow`-ed views: inlining copies every array argument into new variables, and
    on owned arrays each copy costs two atomic reference-count updates per call."""
    n = state.shape[0]
    if phase == 0:
        needed = False
        for j in range(n):
            o = open_[t, j]
            if not np.isnan(o):
                state[j, S_LAST_PRICE] = o
            needed = needed or open_work_nb(state, j)
        if needed:
            open_phase_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low)
    else:
        for j in range(n):
            if intent[j, I_ENTRY] != 0 or intent[j, I_EXIT] != 0 or intent[j, I_CANCEL] != 0 or not np.isnan(
                    intent[j, I_TARGET]):
                close_phase_nb(cfg, state, cash, orders, trades, counts, t, close, intent, fill_now, 0, n)
                break
        mark_nb(cfg, state, cash, orders, trades, counts, t, close, equity_out, cash_out, units_out)


# -- state, records, broadcasting ----------------------------------------------------------------

@njit(entry=False, cache=True)
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


@njit(entry=False, cache=True, inline="always")
def flex_nb(a, i, j):
    """Element ``(i, j)`` of a 2-D array broadcast to ``(n_bars, n_assets)`` without copying
    (shapes ``(1, 1)``, ``(1, n)``, ``(n, 1)`` or ``(n, m)``)."""
    return a[i if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0]


@njit(entry=False, cache=True)
def flex_at_nb(a, i, j):
    """:func:`flex_nb` as a called function (off the per-bar path; compiles once)."""
    return a[i if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0]


@njit(cache=True)
def setup_nb(cfg, n_bars, n):
    """Fresh simulation state: per-asset states, intents, cash, record counts and outputs
    (:func:`setup` is the same in NumPy)."""
    n_groups = 1 if cfg["cash_sharing"] else n
    state = np.empty((n, N_STATE))
    for j in range(n):
        for k in range(N_STATE):
            state[j, k] = np.nan
        state[j, S_UNITS] = 0.0
        state[j, S_ENTRY_BAR] = -1.0
        state[j, S_ENTRY_FEES] = 0.0
        state[j, S_TRADE] = -1.0
        state[j, S_P_KIND] = P_NONE
        state[j, S_P_DIR] = 0.0
        state[j, S_P_TRIGGERED] = 0.0
        state[j, S_TSL_MODE] = 0.0
    intent = np.zeros((n, N_INTENT))
    reset_intents_nb(intent)
    cash = np.full(n_groups, cfg["init_cash"])
    counts = np.zeros(2, dtype=np.int64)
    equity_out = np.empty((n_bars, n_groups))
    cash_out = np.empty((n_bars, n_groups))
    units_out = np.empty((n_bars, n))
    return state, intent, cash, counts, equity_out, cash_out, units_out, np.zeros(n, dtype=np.bool_)


@njit(cache=True)
def mark_open_trades_nb(state, trades, t_last):
    """Value still-open trades at the last price (``is_open`` stays True)."""
    for j in range(state.shape[0]):
        k = np.int64(state[j, S_TRADE])
        if k >= 0:
            tr = trades[k]
            direction = 1.0 if state[j, S_UNITS] > 0 else -1.0
            tr["exit_bar"] = t_last
            tr["exit_price"] = state[j, S_LAST_PRICE]
            tr["pnl"] = direction * tr["size"] * (state[j, S_LAST_PRICE] - tr["entry_price"]) - tr["entry_fees"]
            cost = tr["size"] * tr["entry_price"]
            tr["ret"] = tr["pnl"] / cost if cost > 0 else 0.0


@njit(cache=True, parallel=True)
def bars_ok_nb(open_, high, low, close, volume, ts):
    """Whether bars keep the bar contract: prices finite, ``0 < low <= open, close <= high``,
    ``volume >= 0`` and timestamps (int64) strictly increasing. Plain reference: the same
    conditions with NumPy reductions (``np.isfinite(o).all() and (low > 0).all() and …``).
    Bands of bars are checked in parallel (used for large inputs only)."""
    n = close.shape[0]
    n_bands = min(n, 64)
    ok = np.ones(n_bands, dtype=np.bool_)
    for k in prange(n_bands):
        for t in range(k * n // n_bands, (k + 1) * n // n_bands):
            if t > 0 and not ts[t] > ts[t - 1]:
                ok[k] = False
            for j in range(close.shape[1]):
                o, h, lo, c = open_[t, j], high[t, j], low[t, j], close[t, j]
                if not (np.isfinite(o) and np.isfinite(h) and np.isfinite(lo) and np.isfinite(c)):
                    ok[k] = False
                elif not (lo > 0 and h >= lo and lo <= o <= h and lo <= c <= h and volume[t, j] >= 0):
                    ok[k] = False
            if not ok[k]:
                break
    return ok.all()


# -- the bar loops ------------------------------------------------------------------------------

@njit(entry=False, cache=True)
def entry_intent_nb(intent, t, j, size, limit, stop, sl, tp, tsl, weight):
    """The optional fields of asset ``j``'s entry at bar ``t`` (read only with an entry)."""
    intent[j, I_SIZE] = flex_at_nb(size, t, j)
    intent[j, I_LIMIT] = flex_at_nb(limit, t, j)
    intent[j, I_STOP] = flex_at_nb(stop, t, j)
    intent[j, I_SL] = flex_at_nb(sl, t, j)
    intent[j, I_TP] = flex_at_nb(tp, t, j)
    intent[j, I_TSL] = flex_at_nb(tsl, t, j)
    intent[j, I_WEIGHT] = flex_at_nb(weight, t, j)


@njit(entry=False, cache=True)
def signal_events_nb(cfg, state, intent, cash, counts, open_, high, low, close, codes, size, limit, stop, sl, tp, tsl,
                     weight, orders, trades, equity_out, cash_out, units_out, fill_now, t, todo, k, acted, a, later, m,
                     j0, j1):
    """The rest of bar ``t`` after :func:`signal_bars_nb`'s scan of assets ``j0 … j1-1``: the open
    stages of the ``k`` assets with work (``todo``), the intents of the ``a`` assets with a signal
    (``acted``) and the close phase, then the marking of the ``m`` assets not marked yet
    (``later``; all of them with a shared account)."""
    for stage in (OPEN_EXITS, OPEN_ENTRIES):  # exits of every asset first, then entries
        for i in range(k):
            j = todo[i]
            asset_step_nb(cfg, state, cash, orders, trades, counts, j, t, stage, open_[t, j], high[t, j], low[t, j])
    row, per_asset = t if codes.shape[0] > 1 else 0, codes.shape[1] > 1
    decided = False
    for i in range(a):
        j = acted[i]
        code = codes[row, j if per_asset else 0]
        en, ex = ENTRY_OF[code], EXIT_OF[code]
        intent[j, I_ENTRY] = en
        intent[j, I_EXIT] = ex
        if en != 0:
            entry_intent_nb(intent, t, j, size, limit, stop, sl, tp, tsl, weight)
        decided = decided or en != 0 or ex != 0
    if decided:
        close_phase_nb(cfg, state, cash, orders, trades, counts, t, close, intent, fill_now, j0, j1)
    for i in range(a):  # back to "no intent"
        intent[acted[i], I_ENTRY] = 0.0
        intent[acted[i], I_EXIT] = 0.0
    if cfg["cash_sharing"]:
        mark_nb(cfg, state, cash, orders, trades, counts, t, close, equity_out, cash_out, units_out)
    else:
        for i in range(m):
            mark_own_nb(cfg, state, cash, orders, trades, counts, t, later[i], close, equity_out, cash_out, units_out)


@njit(cache=True)
def signal_bars_nb(cfg, state, intent, cash, counts, open_, high, low, close, codes, size, limit, stop, sl, tp, tsl,
                   weight, orders, trades, equity_out, cash_out, units_out, fill_now, scratch, t0, j0, j1, order_end,
                   trade_end):
    """Simulate assets ``j0 … j1-1`` over bars ``t0, t0+1, …`` from signals until the end or until
    the record arrays have less than :data:`ROOM` per asset left before ``order_end`` and
    ``trade_end``; returns the next bar to simulate. The caller values the trades still open at
    the end (:func:`mark_open_trades_nb`).

    With one account per asset, disjoint asset ranges are independent: each range may run on its
    own thread (:func:`signal_chunks_nb`) with its own record counts and region of the record
    arrays. With a shared account the range is every asset.

    ``codes`` holds the four boolean signals of each bar and asset as bits (:func:`signal_codes`,
    flexibly broadcast). The steps of :func:`step_nb` with the signals as intents (entry and exit
    of the assets with a signal, the other fields only with an entry, cancel and target never;
    an asset without a signal has none), the open stages run for the assets with work only, the
    close phase only when a signal decided something.

    One pass over the assets moves last prices to the open, notes the assets with work at the
    open or a signal, and marks (with one account per asset) every other asset unless a margin
    call is due; :func:`signal_events_nb` does the rest, only on bars that have any. An asset
    marked in the pass adds no record, so the order of records is unchanged. ``scratch`` is an
    int64 buffer of shape ``(3, n_assets)`` for the lists of assets."""
    state, intent, cash, counts, fill_now = borrow(state), borrow(intent), borrow(cash), borrow(counts), borrow(fill_now)
    open_, high, low, close = borrow(open_), borrow(high), borrow(low), borrow(close)
    codes = borrow(codes)
    size, limit, stop, sl, tp, tsl, weight = borrow(size), borrow(limit), borrow(stop), borrow(sl), borrow(tp), borrow(tsl), borrow(weight)
    orders, trades = borrow(orders), borrow(trades)
    equity_out, cash_out, units_out = borrow(equity_out), borrow(cash_out), borrow(units_out)
    n_bars = close.shape[0]
    sharing = cfg["cash_sharing"]
    scratch = borrow(scratch)
    todo, later, acted = scratch[0], scratch[1], scratch[2]
    per_asset = codes.shape[1] > 1
    room = ROOM * (j1 - j0)
    for t in range(t0, n_bars):
        if counts[0] + room > order_end or counts[1] + room > trade_end:
            return t
        k = m = a = ZERO  # int64 (a literal 0 would compile signal_events_nb a second time)
        row = t if codes.shape[0] > 1 else 0
        for j in range(j0, j1):
            o = open_[t, j]
            work = False
            if not np.isnan(o):
                state[j, S_LAST_PRICE] = o
                work = open_work_nb(state, j)
                if work:
                    todo[k] = j
                    k += 1
            code = codes[row, j if per_asset else 0]
            if code != 0:
                acted[a] = j
                a += 1
            if sharing or work or code != 0 or not mark_quiet_nb(cfg, state, cash, t, j, close, equity_out, cash_out,
                                                                  units_out):
                later[m] = j
                m += 1
        if m > 0:
            signal_events_nb(cfg, state, intent, cash, counts, open_, high, low, close, codes, size, limit, stop, sl,
                             tp, tsl, weight, orders, trades, equity_out, cash_out, units_out, fill_now, t, todo, k,
                             acted, a, later, m, j0, j1)
    return n_bars


@njit(cache=True, parallel=True)
def signal_chunks_nb(cfgs, state, intent, cash, counts, open_, high, low, close, codes, size, limit, stop, sl, tp,
                     tsl, weight, orders, trades, equity_out, cash_out, units_out, fill_now, scratch, next_bar, bounds,
                     order_ends, trade_ends):
    """:func:`signal_bars_nb` on the asset ranges ``bounds[c] … bounds[c+1]-1`` in parallel (one
    account per asset, so the ranges share nothing): range ``c`` resumes at ``next_bar[c]``
    (skipped when done), counts its records in ``counts[c]`` (which start at its region of the
    record arrays, ending at ``order_ends[c]``/``trade_ends[c]``) and uses ``scratch[c]``. The
    settings come as a one-record array ``cfgs`` (a record argument cannot enter a parallel loop)."""
    n_bars = close.shape[0]
    for c in prange(bounds.shape[0] - 1):
        if next_bar[c] < n_bars:
            next_bar[c] = signal_bars_nb(cfgs[0], state, intent, cash, counts[c], open_, high, low, close, codes, size,
                                         limit, stop, sl, tp, tsl, weight, orders, trades, equity_out, cash_out,
                                         units_out, fill_now, scratch[c], next_bar[c], bounds[c], bounds[c + 1],
                                         order_ends[c], trade_ends[c])


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
    mark_open_trades_nb(state, trades, n_bars - 1)
    return n_bars


# -- Python drivers: allocation and record growth in NumPy, the bars in one kernel call ---------

_FRESH_STATE = np.full(N_STATE, np.nan)  # one asset's state before the first bar (as in setup_nb)
_FRESH_STATE[[S_UNITS, S_ENTRY_FEES, S_P_DIR, S_P_TRIGGERED, S_TSL_MODE]] = 0.0
_FRESH_STATE[[S_ENTRY_BAR, S_TRADE]] = -1.0
_FRESH_STATE[S_P_KIND] = P_NONE
_NO_INTENT = np.full(N_INTENT, np.nan)  # "nothing to do" (as reset_intents_nb leaves it)
_NO_INTENT[[I_ENTRY, I_EXIT, I_CANCEL]] = 0.0


def setup(cfg, n_bars, n):
    """:func:`setup_nb` in NumPy (no compilation; large outputs get NumPy's huge-page hint)."""
    n_groups = 1 if cfg["cash_sharing"] else n
    state = np.tile(_FRESH_STATE, (n, 1))
    intent = np.tile(_NO_INTENT, (n, 1))
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


@njit(cache=True)
def signal_codes_nb(entries, exits, short_entries, short_exits, codes):
    """Fill ``codes`` with the bits of the four boolean signals (2-D, flexibly broadcast to its
    shape) and return how many are not zero. One asset runs as a flat loop (much faster in
    Numba than a 2-D loop whose inner range has one step)."""
    k = 0
    if codes.shape[1] == 1:
        e, x, se, sx, out = entries.ravel(), exits.ravel(), short_entries.ravel(), short_exits.ravel(), codes.ravel()
        n0, n1, n2, n3 = e.size > 1, x.size > 1, se.size > 1, sx.size > 1  # (else one value for every bar)
        for t in range(out.size):
            c = (np.uint8(e[t if n0 else 0]) | np.uint8(x[t if n1 else 0]) << 1 | np.uint8(se[t if n2 else 0]) << 2
                 | np.uint8(sx[t if n3 else 0]) << 3)
            out[t] = c
            k += c != 0
        return k
    for t in range(codes.shape[0]):
        for j in range(codes.shape[1]):
            c = (np.uint8(flex_nb(entries, t, j)) | np.uint8(flex_nb(exits, t, j)) << 1
                 | np.uint8(flex_nb(short_entries, t, j)) << 2 | np.uint8(flex_nb(short_exits, t, j)) << 3)
            codes[t, j] = c
            k += c != 0
    return k


def signal_codes(entries, exits, short_entries, short_exits):
    """The four boolean signal arrays (2-D, flexibly broadcast) as one array of bits: 1 long
    entry, 2 long exit, 4 short entry, 8 short exit, broadcast to their common shape; and the
    number of bars (and assets) with a signal."""
    signals = tuple(a if a.flags.writeable else a.copy() for a in (entries, exits, short_entries, short_exits))
    codes = np.empty((max(a.shape[0] for a in signals), max(a.shape[1] for a in signals)), dtype=np.uint8)
    return codes, signal_codes_nb(*signals, codes)


def simulate_signals(cfg, open_, high, low, close, entries, exits, short_entries, short_exits,
                     size, limit, stop, sl, tp, tsl, weight, orders=None, trades=None):
    """Simulate from signal arrays (all 2-D, flexibly broadcast with :func:`flex_nb`).

    ``orders`` and ``trades`` are the record arrays to start with (grown as needed); by default
    they are sized for the signals: two orders (a reversal and the entry) and one trade per bar
    and asset with a signal, and room for stops and exits.

    Returns ``(orders, trades, counts, equity, cash, units)``; ``counts`` holds the numbers of
    order and trade records.
    """
    n_bars, n = close.shape
    state, intent, cash, counts, equity_out, cash_out, units_out, fill_now = setup(cfg, n_bars, n)
    codes, k = signal_codes(entries, exits, short_entries, short_exits)
    if orders is None:
        orders = np.empty(2 * k + ROOM * n + 16, dtype=order_dt)
    if trades is None:
        trades = np.empty(k + ROOM * n + 16, dtype=trade_dt)
    args = (open_, high, low, close, codes, size, limit, stop, sl, tp, tsl, weight)
    n_chunks = chunks_for(cfg, n_bars, n)
    if n_chunks > 1:
        orders, trades, counts = _signal_chunks(cfg, state, intent, cash, args, orders, trades, equity_out, cash_out,
                                                units_out, fill_now, n_chunks)
    else:
        scratch = np.empty((3, n), dtype=np.int64)
        t = 0
        while t < n_bars:
            orders, trades = grow(orders, counts[0], ROOM * n), grow(trades, counts[1], ROOM * n)
            t = signal_bars_nb(cfg, state, intent, cash, counts, *args, orders, trades, equity_out, cash_out, units_out,
                               fill_now, scratch, t, 0, n, orders.shape[0], trades.shape[0])
        mark_open_trades_nb(state, trades, n_bars - 1)
    return (*canonical_records(cfg, n, orders, trades, counts), equity_out, cash_out, units_out)


PARALLEL_MIN_STEPS = 1 << 20
"""Bars × assets from which independent accounts run on several threads (below, one thread)."""


def chunks_for(cfg, n_bars, n):
    """How many asset ranges :func:`simulate_signals` runs in parallel: one with a shared account,
    one asset, one Numba thread or fewer than :data:`PARALLEL_MIN_STEPS` bar-asset steps."""
    if n < 2 or n_bars * n < PARALLEL_MIN_STEPS or cfg["cash_sharing"]:
        return 1
    return min(get_num_threads(), n)


def _signal_chunks(cfg, state, intent, cash, args, orders, trades, equity_out, cash_out, units_out, fill_now,
                   n_chunks):
    """Run :func:`signal_chunks_nb` until every asset range is done, giving a range that runs
    out of room a larger region (regions are moved, and the open trades' indices with them),
    and value the trades still open. Returns the records of every range, in range order, and
    their counts."""
    n_bars, n = args[3].shape
    bounds = np.linspace(0, n, n_chunks + 1).round().astype(np.int64)
    widths = np.diff(bounds)
    o_cap = widths * (orders.shape[0] // n + 2 * ROOM)
    t_cap = widths * (trades.shape[0] // n + 2 * ROOM)
    scratch = np.empty((n_chunks, 3, n), dtype=np.int64)
    cfgs = np.array([cfg], dtype=cfg.dtype)
    next_bar = np.zeros(n_chunks, dtype=np.int64)
    counts = np.zeros((n_chunks, 2), dtype=np.int64)
    orders, trades = np.empty(o_cap.sum(), dtype=orders.dtype), np.empty(t_cap.sum(), dtype=trades.dtype)
    o_base, t_base = np.cumsum(o_cap) - o_cap, np.cumsum(t_cap) - t_cap
    counts[:, 0], counts[:, 1] = o_base, t_base
    while True:
        signal_chunks_nb(cfgs, state, intent, cash, counts, *args, orders, trades, equity_out, cash_out, units_out,
                         fill_now, scratch, next_bar, bounds, o_base + o_cap, t_base + t_cap)
        short = next_bar < n_bars
        if not short.any():
            break
        o_used, t_used = counts[:, 0] - o_base, counts[:, 1] - t_base
        o_cap = np.where(short, 2 * o_cap, o_cap)
        t_cap = np.where(short, 2 * t_cap, t_cap)
        new_o, new_t = np.empty(o_cap.sum(), dtype=orders.dtype), np.empty(t_cap.sum(), dtype=trades.dtype)
        new_o_base, new_t_base = np.cumsum(o_cap) - o_cap, np.cumsum(t_cap) - t_cap
        for c in range(n_chunks):
            new_o[new_o_base[c]: new_o_base[c] + o_used[c]] = orders[o_base[c]: o_base[c] + o_used[c]]
            new_t[new_t_base[c]: new_t_base[c] + t_used[c]] = trades[t_base[c]: t_base[c] + t_used[c]]
            held = state[bounds[c]: bounds[c + 1], S_TRADE]
            held[held >= 0] += new_t_base[c] - t_base[c]
        orders, trades, o_base, t_base = new_o, new_t, new_o_base, new_t_base
        counts[:, 0], counts[:, 1] = o_base + o_used, t_base + t_used
    mark_open_trades_nb(state, trades, n_bars - 1)  # (the trades' indices point into the regions)
    o_idx = np.concatenate([np.arange(a, b) for a, b in zip(o_base, counts[:, 0], strict=True)])
    t_idx = np.concatenate([np.arange(a, b) for a, b in zip(t_base, counts[:, 1], strict=True)])
    return np.take(orders, o_idx), np.take(trades, t_idx), np.array([len(o_idx), len(t_idx)], dtype=np.int64)


def canonical_records(cfg, n, orders, trades, counts):
    """The records in their documented order, with ``counts`` as ``[n_orders, n_trades]``.

    With a shared account (or one asset) records are in the order they happened. With one
    account per asset, the order of events between assets within a bar carries no meaning, so
    orders are sorted by bar then asset, trades by entry bar then asset, each asset's own records
    keeping their order, and ids are renumbered: the same records however many threads ran the
    assets."""
    if cfg["cash_sharing"] or n < 2:
        return orders, trades, counts
    orders, trades = orders[: counts[0]], trades[: counts[1]]
    by_order = np.argsort(orders["bar"] * n + orders["col"], kind="stable")
    by_trade = np.argsort(trades["entry_bar"] * n + trades["col"], kind="stable")
    orders, trades = np.take(orders, by_order), np.take(trades, by_trade)  # (take copies records whole: fast)
    orders["id"] = np.arange(len(orders))
    trades["id"] = np.arange(len(trades))
    return orders, trades, np.array([len(orders), len(trades)], dtype=np.int64)


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
    return (*canonical_records(cfg, n, orders, trades, counts), equity_out, cash_out, units_out)


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
    return (*canonical_records(cfg, n, orders, trades, counts), equity_out, cash_out, units_out)
