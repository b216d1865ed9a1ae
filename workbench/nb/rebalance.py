"""Portfolio drivers of the simulation core: target-weight rebalancing and signal sizing.

Both drive the same per-bar phases as single-asset backtests (:func:`workbench.nb.simulate.step_nb`:
open = pending fills and stops, close = intents, same-close fills, marking), with one account
shared by every asset (``cash_sharing``). Only the decisions differ:

* :func:`simulate_rebalance_nb` writes target-weight intents (``intent[j, I_TARGET]``) on the
  scheduled bars and whenever a weight drifts from its target by more than a threshold; the core
  then trades each asset to ``weight × equity`` at the next fill, sells before buys.
* :func:`simulate_sized_nb` reads entry/exit signals and gives each entry a position weight
  (:func:`sizing_weight_nb`): the signal's suggested weight when present, otherwise the
  fixed-fractional rule, capped by the account's free cash or leverage room.

Plain references: ``tests/portfolio/test_rebalance.py::reference_rebalance`` (numpy) and vectorbt's
grouped target-percent simulation for the first; :func:`workbench.portfolio.estimate_position`
(plain Python) for :func:`sizing_weight_nb`.
"""

from __future__ import annotations

import numpy as np

from workbench.nb.enums import (
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
    S_LAST_PRICE,
    S_P_KIND,
    S_UNITS,
)
from workbench.nb.jit import njit
from workbench.nb.simulate import (
    equity_nb,
    flex_nb,
    gross_nb,
    grow_nb,
    mark_open_trades_nb,
    reset_intents_nb,
    setup_nb,
    step_nb,
)

__all__ = [
    "TRIGGER_NONE",
    "TRIGGER_SCHEDULE",
    "TRIGGER_DRIFT",
    "RULE_WEIGHT",
    "RULE_FIXED_FRACTIONAL",
    "CAP_NONE",
    "CAP_MAX_WEIGHT",
    "CAP_ROOM",
    "account_value_nb",
    "drift_exceeded_nb",
    "simulate_rebalance_nb",
    "sizing_weight_nb",
    "simulate_sized_nb",
]

TRIGGER_NONE, TRIGGER_SCHEDULE, TRIGGER_DRIFT = 0, 1, 2
RULE_WEIGHT, RULE_FIXED_FRACTIONAL = 0, 1
CAP_NONE, CAP_MAX_WEIGHT, CAP_ROOM = 0, 1, 2
_P_TARGET = 3  # simulate.P_TARGET: a pending target-weight order
_SAME_CLOSE = 1


@njit(entry=False, cache=True)
def account_value_nb(state, cash, prices, t):
    """Equity of the shared account with every position valued at ``prices[t]``
    (the last known price where ``prices[t, j]`` is NaN). Plain reference: ``cash + Σ units·price``."""
    total = cash[0]
    for j in range(state.shape[0]):
        u = state[j, S_UNITS]
        if u != 0.0:
            p = prices[t, j]
            total += u * (state[j, S_LAST_PRICE] if np.isnan(p) else p)
    return total


@njit(entry=False, cache=True)
def drift_exceeded_nb(state, cash, close, t, targets, row, threshold):
    """Whether any asset's weight at bar ``t``'s close differs from ``targets[row]`` by more than
    ``threshold``. Plain reference: ``max(|units·close / equity − target|) > threshold``."""
    eq = account_value_nb(state, cash, close, t)
    if not eq > 0.0:
        return False
    for j in range(state.shape[0]):
        u = state[j, S_UNITS]
        w = u * close[t, j] / eq if u != 0.0 else 0.0
        if abs(w - targets[row, j]) > threshold:
            return True
    return False


@njit(entry=False, cache=True)
def _pending_targets_nb(state):
    for j in range(state.shape[0]):
        if state[j, S_P_KIND] == _P_TARGET:
            return True
    return False


@njit(cache=True)
def simulate_rebalance_nb(cfg, open_, high, low, close, targets, target_row, scheduled, drift, orders, trades):
    """Rebalance one shared account to target weights.

    Parameters
    ----------
    cfg : sim_cfg_dt record (``cash_sharing`` must be True)
    open_, high, low, close : (n_bars, n) float64
    targets : (n_rows, n) float64
        Target weights of equity; row ``target_row[t]`` is in force at bar ``t`` (-1: none yet).
    scheduled : (n_bars,) bool
        Bars whose close rebalances to the targets in force.
    drift : float
        Also rebalance when a weight drifts from its target by more than this (0: never).

    Returns
    -------
    ``(orders, trades, counts, equity, cash, units, trigger, trade_equity)``: the core's outputs,
    the reason each bar's close rebalanced (``TRIGGER_*``) and the account's equity at the fill
    prices just before each bar's rebalancing fills (NaN where nothing filled).

    Plain reference: ``tests/portfolio/test_rebalance.py::reference_rebalance`` and vectorbt's
    ``Portfolio.from_orders(size_type="targetpercent", cash_sharing=True, call_seq="auto")``.
    """
    n_bars, n = close.shape
    state, intent, cash, counts, equity_out, cash_out, units_out, fill_now = setup_nb(cfg, n_bars, n)
    trigger = np.zeros(n_bars, dtype=np.int64)
    trade_equity = np.full(n_bars, np.nan)
    same_close = cfg["fill_timing"] == _SAME_CLOSE
    for t in range(n_bars):
        if counts[0] + 4 * n > orders.shape[0]:
            orders = grow_nb(orders, counts[0], 4 * n)
        if counts[1] + 3 * n > trades.shape[0]:
            trades = grow_nb(trades, counts[1], 3 * n)
        if not same_close and _pending_targets_nb(state):
            trade_equity[t] = account_value_nb(state, cash, open_, t)
        step_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low, close, intent, equity_out, cash_out,
                units_out, fill_now, 0)
        reset_intents_nb(intent)
        row = target_row[t]
        if row >= 0:
            why = TRIGGER_SCHEDULE if scheduled[t] else TRIGGER_NONE
            if why == TRIGGER_NONE and drift > 0.0 and drift_exceeded_nb(state, cash, close, t, targets, row, drift):
                why = TRIGGER_DRIFT
            if why != TRIGGER_NONE:
                trigger[t] = why
                for j in range(n):
                    intent[j, I_TARGET] = targets[row, j]
                if same_close:
                    trade_equity[t] = account_value_nb(state, cash, close, t)
        step_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low, close, intent, equity_out, cash_out,
                units_out, fill_now, 1)
    mark_open_trades_nb(state, trades, n_bars - 1)
    return orders, trades, counts, equity_out, cash_out, units_out, trigger, trade_equity


@njit(cache=True)
def sizing_weight_nb(weight, stop_fraction, risk, max_weight, room):
    """The weight of equity an entry gets, the rule used and the cap that bound it.

    ``weight`` (the signal's suggestion) is used when finite and > 0; otherwise the
    fixed-fractional rule ``risk / stop_fraction`` (equity × risk ÷ distance to the stop, as a
    weight: the stop distance is ``stop_fraction`` of the price). The result is capped by
    ``max_weight`` and by ``room`` (the fraction of equity still free), and is never negative.
    Returns ``(weight, RULE_*, CAP_*)``.

    Plain reference: :func:`workbench.portfolio.estimate_position`.
    """
    if not np.isnan(weight) and weight > 0.0:
        w, rule = weight, RULE_WEIGHT
    elif not np.isnan(stop_fraction) and stop_fraction > 0.0:
        w, rule = risk / stop_fraction, RULE_FIXED_FRACTIONAL
    else:
        return 0.0, RULE_FIXED_FRACTIONAL, CAP_NONE
    cap = CAP_NONE
    if w > max_weight:
        w, cap = max_weight, CAP_MAX_WEIGHT
    free = room if room > 0.0 else 0.0
    if w > free:
        w, cap = free, CAP_ROOM
    return w, rule, cap


@njit(entry=False, cache=True)
def _rooms_nb(cfg, state, cash, intent):
    """Fractions of equity still free at this close: ``(cash, gross)``. ``cash`` is the cash
    (plus the positions this bar's exits will sell) a long entry may spend without leverage;
    ``gross`` is the leverage room ``leverage·equity − gross exposure`` (plus those exits)."""
    eq = equity_nb(cfg, state, cash, 0)
    if not eq > 0.0:
        return 0.0, 0.0
    freed_cash, freed_gross = 0.0, 0.0
    for j in range(state.shape[0]):
        u = state[j, S_UNITS]
        ex = intent[j, I_EXIT]
        if u != 0.0 and (ex == 2 or (ex != 0 and np.sign(u) == ex)):
            v = u * state[j, S_LAST_PRICE]
            freed_gross += abs(v)
            freed_cash += v  # selling a long frees cash; buying back a short spends it
    gross_room = cfg["leverage"] * eq - gross_nb(cfg, state, 0, -1) + freed_gross
    return (cash[0] + freed_cash) / eq, gross_room / eq


@njit(entry=False, cache=True)
def _stop_fraction_nb(cfg, sl, price):
    """The distance to the stop as a fraction of ``price`` (NaN when there is no stop): the
    entry's own ``sl`` read by ``stop_mode``, else the ``sl`` setting (always a fraction)."""
    if np.isnan(sl):
        return cfg["sl"]
    if cfg["stop_mode"] == 0:
        return sl
    return abs(price - sl) / price


@njit(entry=False, cache=True)
def _size_entries_nb(cfg, state, cash, intent, close, t, risk, max_weight, used):
    """Give every entry intent of bar ``t`` its weight (:func:`sizing_weight_nb`), in asset order,
    each one reducing the room left for the next. A long entry without leverage is capped by the
    free cash, every entry by the leverage room; reversing a position frees its own value."""
    cash_room, gross_room = _rooms_nb(cfg, state, cash, intent)
    eq = equity_nb(cfg, state, cash, 0)
    for j in range(state.shape[0]):
        d = intent[j, I_ENTRY]
        if d == 0:
            continue
        u = state[j, S_UNITS]
        if u != 0.0 and np.sign(u) == d and not cfg["accumulate"]:
            continue
        if u != 0.0 and np.sign(u) != d and not cfg["reverse"]:
            continue
        own = abs(u * state[j, S_LAST_PRICE]) / eq if (u != 0.0 and np.sign(u) != d and eq > 0.0) else 0.0
        room = gross_room + own
        if d > 0 and cfg["leverage"] <= 1.0:
            room = min(room, cash_room - own)  # buying back the short spends cash first
        frac = _stop_fraction_nb(cfg, intent[j, I_SL], close[t, j])
        w, _, _ = sizing_weight_nb(intent[j, I_WEIGHT], frac, risk, max_weight, room)
        if w <= 0.0:
            intent[j, I_ENTRY] = 0
            continue
        intent[j, I_WEIGHT] = w
        used[t, j] = w
        gross_room -= w
        if d > 0:
            cash_room -= w


@njit(cache=True)
def simulate_sized_nb(cfg, open_, high, low, close, entries, exits, short_entries, short_exits, sl, tp, tsl, weight,
                      risk, max_weight, orders, trades):
    """Simulate signals (2-D, flexibly broadcast) in one shared account, sizing each entry with
    :func:`sizing_weight_nb` (``cfg`` must size in percent of equity, the weight is the fraction).

    Returns ``(orders, trades, counts, equity, cash, units, used)`` where ``used[t, j]`` is the
    weight given to an entry decided at bar ``t`` (NaN where none); the trade records carry it.

    Plain reference: :func:`workbench.portfolio.estimate_position` at each entry (the tests
    rebuild the account at the decision bar and compare).
    """
    n_bars, n = close.shape
    state, intent, cash, counts, equity_out, cash_out, units_out, fill_now = setup_nb(cfg, n_bars, n)
    used = np.full((n_bars, n), np.nan)
    for t in range(n_bars):
        if counts[0] + 4 * n > orders.shape[0]:
            orders = grow_nb(orders, counts[0], 4 * n)
        if counts[1] + 3 * n > trades.shape[0]:
            trades = grow_nb(trades, counts[1], 3 * n)
        step_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low, close, intent, equity_out, cash_out,
                units_out, fill_now, 0)
        for j in range(n):
            e_l, x_l = flex_nb(entries, t, j), flex_nb(exits, t, j)
            e_s, x_s = flex_nb(short_entries, t, j), flex_nb(short_exits, t, j)
            intent[j, I_ENTRY] = 0 if (e_l and e_s) else (1 if e_l else (-1 if e_s else 0))
            intent[j, I_EXIT] = 2 if (x_l and x_s) else (1 if x_l else (-1 if x_s else 0))
            if intent[j, I_ENTRY] != 0 and (intent[j, I_EXIT] == intent[j, I_ENTRY] or intent[j, I_EXIT] == 2):
                intent[j, I_ENTRY] = 0  # conflicting entry and exit: the core ignores both
            intent[j, I_SIZE] = np.nan
            intent[j, I_LIMIT] = np.nan
            intent[j, I_STOP] = np.nan
            intent[j, I_SL] = flex_nb(sl, t, j)
            intent[j, I_TP] = flex_nb(tp, t, j)
            intent[j, I_TSL] = flex_nb(tsl, t, j)
            intent[j, I_WEIGHT] = flex_nb(weight, t, j)
            intent[j, I_TARGET] = np.nan
        # the core's close phase sets last prices to this close before reading intents
        for j in range(n):
            if not np.isnan(close[t, j]):
                state[j, S_LAST_PRICE] = close[t, j]
        _size_entries_nb(cfg, state, cash, intent, close, t, risk, max_weight, used)
        step_nb(cfg, state, cash, orders, trades, counts, t, open_, high, low, close, intent, equity_out, cash_out,
                units_out, fill_now, 1)
    mark_open_trades_nb(state, trades, n_bars - 1)
    return orders, trades, counts, equity_out, cash_out, units_out, used
