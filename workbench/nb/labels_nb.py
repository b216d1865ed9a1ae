"""Triple-barrier labels, each entry traded alone by the engine's own order and stop handling.

:func:`triple_barrier_nb` takes every entry signal on its own (labels may overlap in time,
unlike the trades of one backtest), gives it a fresh one-asset state and drives the engine's
per-asset step (:func:`~workbench.nb.simulate.asset_step_nb`, :func:`read_intent_nb`) bar by bar:
the entry decided at the close of bar ``t`` fills at the next open (or at this close when the
configuration opts in), the stop-loss, trailing stop and take-profit work exactly as in a backtest
(gaps fill at the open, a stop and a target inside one bar: the stop first), and the time barrier
is an exit decided at the close of bar ``t + horizon`` that fills at the next open.

The plain implementation it must equal is a backtest of the same entries spaced further apart than
their horizon with ``exits`` at ``t + horizon``: ``tests/ml/test_labels.py`` holds it to that.
"""

from __future__ import annotations

import numpy as np

from workbench.nb.enums import (
    I_ENTRY,
    I_EXIT,
    I_SL,
    I_TP,
    I_TSL,
    S_UNITS,
    order_dt,
    trade_dt,
)
from workbench.nb.jit import njit_ieee as njit
from workbench.nb.simulate import (
    CLOSE_ENTRIES,
    CLOSE_EXITS,
    OPEN_ENTRIES,
    OPEN_EXITS,
    asset_step_nb,
    read_intent_nb,
    reset_intents_nb,
    setup_nb,
)

__all__ = ["triple_barrier_nb", "forward_return_nb", "TIME_BARRIER"]

TIME_BARRIER = 7
"""The exit reason of a label closed by its time barrier (beside the engine's ExitReason codes)."""


@njit(entry=False, cache=True)
def _one_label_nb(cfg, open_, high, low, close, t, j, direction, sl, tp, tsl, horizon, orders, trades):
    """Trade one entry of asset ``j`` decided at the close of bar ``t``; returns
    ``(entry_bar, exit_bar, ret, reason)`` (entry_bar -1: never filled; exit_bar -1: still open
    at the end of the data)."""
    n = open_.shape[0]
    state, intent, cash, counts, _e, _c, _u, _f = setup_nb(cfg, 1, 1)
    reset_intents_nb(intent)
    intent[0, I_ENTRY] = direction
    intent[0, I_SL] = sl
    intent[0, I_TP] = tp
    intent[0, I_TSL] = tsl
    if read_intent_nb(cfg, state, cash, orders, counts, intent, 0, t):
        asset_step_nb(cfg, state, cash, orders, trades, counts, 0, t, CLOSE_ENTRIES, close[t, j], np.nan, np.nan)
    last = t + horizon  # the time barrier's decision bar
    for s in range(t + 1, n):
        o = open_[s, j]
        if np.isnan(o):
            continue
        asset_step_nb(cfg, state, cash, orders, trades, counts, 0, s, OPEN_EXITS, o, high[s, j], low[s, j])
        if counts[1] > 0 and not trades[0]["is_open"]:
            break
        asset_step_nb(cfg, state, cash, orders, trades, counts, 0, s, OPEN_ENTRIES, o, high[s, j], low[s, j])
        if counts[1] > 0 and state[0, S_UNITS] == 0.0:
            break
        if s >= last and counts[1] > 0:
            reset_intents_nb(intent)
            intent[0, I_EXIT] = 2
            if read_intent_nb(cfg, state, cash, orders, counts, intent, 0, s):  # same-close timing
                asset_step_nb(cfg, state, cash, orders, trades, counts, 0, s, CLOSE_EXITS, close[s, j], np.nan,
                              np.nan)
                break
    if counts[1] == 0:
        return -1, -1, np.nan, -1
    tr = trades[0]
    if tr["is_open"]:
        return tr["entry_bar"], -1, np.nan, -1
    reason = TIME_BARRIER if tr["exit_reason"] == 0 else tr["exit_reason"]
    return tr["entry_bar"], tr["exit_bar"], tr["ret"], reason


@njit(cache=True)
def triple_barrier_nb(cfg, open_, high, low, close, rows, cols, direction, sl, tp, tsl, horizon,
                      entry_out, exit_out, ret_out, reason_out):
    """Label the entries at ``(rows[k], cols[k])`` (signal bar, asset) with direction
    ``direction[k]`` (+1/-1) and their own ``sl``/``tp``/``tsl`` (NaN: the configuration's),
    read by ``cfg["stop_mode"]``. Writes each entry's fill bar, exit bar (-1 when the data end
    first), net trade return and exit reason (:data:`TIME_BARRIER` for the time limit)."""
    orders = np.empty(8, dtype=order_dt)
    trades = np.empty(4, dtype=trade_dt)
    for k in range(rows.shape[0]):
        e, x, r, why = _one_label_nb(cfg, open_, high, low, close, rows[k], cols[k], direction[k], sl[k], tp[k],
                                     tsl[k], horizon, orders, trades)
        entry_out[k] = e
        exit_out[k] = x
        ret_out[k] = r
        reason_out[k] = why


@njit(cache=True)
def forward_return_nb(open_, close, rows, cols, horizon, next_open, ret_out, known_out):
    """Fixed-horizon forward return of each entry: from the fill (the next open when
    ``next_open``, else the signal bar's close) to the close of bar ``rows[k] + horizon``;
    known at that bar (-1 and NaN past the end of the data or on a missing price).

    Plain equivalent: ``close[t + h] / open[t + 1] - 1`` (or ``close[t + h] / close[t] - 1``)."""
    n = close.shape[0]
    for k in range(rows.shape[0]):
        t, j = rows[k], cols[k]
        end = t + horizon
        ret_out[k] = np.nan
        known_out[k] = -1
        if end >= n or (next_open and t + 1 >= n):
            continue
        p0 = open_[t + 1, j] if next_open else close[t, j]
        p1 = close[end, j]
        if np.isnan(p0) or np.isnan(p1):
            continue
        ret_out[k] = p1 / p0 - 1.0
        known_out[k] = end
