"""Fused parameter sweeps: indicator → signal → simulation → metric per parameter set, in one
parallel kernel.

:func:`cross_sweep_nb` runs a moving-average crossover strategy (the built-in ``SmaCross`` and
``EmaCross``) for every parameter set, ``prange`` over blocks of sets. Memory is
O(bars + parameter sets): each block keeps one equity buffer of the bars' length, and the moving
averages come either from a table of the *distinct* windows (``table``, O(bars × windows)) or,
when that table would be too large, are computed per set into the block's own buffers. No
bars × sets matrix is ever built.

The simulation inside is the engine's own state machine (:mod:`workbench.nb.simulate`) reduced to
what a crossover needs: one asset, market orders filled at the next open or at the same close,
``percent`` sizing, fees (proportional and fixed), slippage, spread, lots, leverage, reversal and
margin-call liquidation, with the same floating-point operations in the same order. Reference:
``workbench.backtest(bars, SmaCross(fast=f, slow=s, direction=d), **settings)`` per set; the
metrics are those of :func:`workbench.metrics.compute_stats` (through the scalar kernels of
:mod:`workbench.nb.metrics_nb`). Tests hold every set to the engine within 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
from numba import get_num_threads, prange

from workbench.nb.indicators_nb import ema_1d_nb, sma_1d_nb
from workbench.nb.jit import njit
from workbench.nb.metrics_nb import _annualize_growth_nb, _safe_ratio_nb

__all__ = [
    "MA_SMA", "MA_EMA", "SWEEP_PARAMS", "SWEEP_METRICS", "PATH_METRICS",
    "default_blocks", "ma_table_nb", "path_metrics_nb", "cross_set_nb", "cross_sweep_nb",
]

MA_SMA, MA_EMA = 0, 1

# positions in the float64 settings vector ``p``
P_CASH, P_FEES, P_FIXED, P_SLIP, P_TICKS, P_TICK, P_SPREAD, P_SIZE, P_LOT, P_LEV, P_MM = range(11)
P_SHORT, P_REVERSE, P_FILL, P_PPY, P_RF, P_CAGR_EXP, P_PATH = range(11, 18)
SWEEP_PARAMS = (
    "cash", "fees", "fixed_fees", "slippage", "slippage_ticks", "tick_size", "spread", "size",
    "lot_size", "leverage", "maintenance_margin", "allow_short", "reverse", "same_close",
    "periods_per_year", "risk_free", "cagr_exponent", "need_path",
)
"""Names of the entries of the settings vector ``p`` of :func:`cross_sweep_nb`, in order."""

# columns of the output matrix
M_TOTAL, M_END, M_TRADES, M_WIN, M_EXPOSURE, M_FEES, M_CAGR = range(7)
M_ANNUAL, M_VOL, M_SHARPE, M_SORTINO, M_MDD, M_CALMAR = range(7, 13)
SWEEP_METRICS = (
    "total_return", "end_equity", "n_trades", "win_rate", "exposure", "total_fees", "cagr",
    "annual_return", "annual_volatility", "sharpe_ratio", "sortino_ratio", "max_drawdown",
    "calmar_ratio",
)
"""The :class:`workbench.metrics.Stats` fields the fused sweep computes, in output column order."""
PATH_METRICS = SWEEP_METRICS[M_ANNUAL:]
"""The fields that need the per-bar equity path (computed only when ``need_path`` is set)."""

EPS = 1e-12


def default_blocks() -> int:
    """Blocks of parameter sets per sweep: a few per Numba thread, to balance the load."""
    return 8 * get_num_threads()


@njit(cache=True, parallel=True)
def ma_table_nb(close, windows, kind, out):
    """Moving average of ``close`` (1-D) for each window into the rows of ``out``.

    Reference: ``workbench.indicators.sma`` / ``ema`` (the same kernels, row by row).
    """
    for k in prange(windows.shape[0]):
        if kind == MA_SMA:
            sma_1d_nb(close, windows[k], out[k])
        else:
            ema_1d_nb(close, windows[k], out[k])


@njit(entry=False, cache=True, inline="always")
def _sign_nb(x):
    """``np.sign`` of a non-NaN float."""
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


@njit(entry=False, cache=True, inline="always")
def _slipped_nb(p, raw, buy):
    sign = 1.0 if buy else -1.0
    price = raw * (1.0 + sign * p[P_SPREAD] / 2.0)
    return price * (1.0 + sign * p[P_SLIP]) + sign * p[P_TICKS] * p[P_TICK]


@njit(entry=False, cache=True, inline="always")
def _round_nb(p, units):
    lot = p[P_LOT]
    if lot > 0.0:
        return np.floor(units / lot + 1e-9) * lot
    return units


@njit(entry=False, cache=True, inline="always")
def _execute_nb(p, acct, delta, raw, shrink):
    """Trade ``delta`` units at ``raw`` (before costs): ``simulate.execute_nb`` for one asset.

    ``acct`` holds ``[cash, units, last_price, entry_price, entry_fees, n_closed, n_wins,
    total_fees]``. Returns the units traded (0 when rejected).
    """
    buy = delta > 0
    price = _slipped_nb(p, raw, buy)
    units = acct[1]
    new_units = units + delta
    if p[P_SHORT] == 0.0 and new_units < -EPS:
        if units > 0:
            delta = -units
            new_units = 0.0
        else:
            return 0.0
    size = abs(delta)
    increases = abs(new_units) > abs(units) + EPS
    if increases:
        fee_rate = p[P_FEES]
        eq = acct[0] + (units * acct[2] if units != 0.0 else 0.0)
        room = p[P_LEV] * eq
        if p[P_LEV] <= 1.0 and buy and units >= 0.0:
            room = min(room, acct[0] + abs(units) * acct[2])
        avail = room - p[P_FIXED] - abs(units) * price
        max_add = avail / (price * (1.0 + fee_rate)) if avail > 0 else 0.0
        if size > max_add + 1e-9 * max(size, 1.0):
            if shrink and max_add > 0:
                size = _round_nb(p, max_add)
                delta = size if buy else -size
                new_units = units + delta
            else:
                return 0.0
    if size <= EPS:
        return 0.0
    fees = size * price * p[P_FEES] + p[P_FIXED]
    acct[0] -= delta * price + fees
    acct[7] += fees
    closing = 0.0
    if units != 0.0 and (delta > 0.0) != (units > 0.0):  # opposite signs (delta is never 0 here)
        closing = min(size, abs(units))
    opening = size - closing
    fee_close = fees * closing / size
    if closing > 0.0:
        total = abs(units)
        frac = closing / total if total > 0 else 1.0
        direction = 1.0 if units > 0 else -1.0
        entry_fees = acct[4] * frac
        if frac < 1.0 - 1e-12:
            acct[4] = acct[4] - entry_fees
        pnl = direction * closing * (price - acct[3]) - entry_fees - fee_close
        acct[5] += 1.0
        if pnl > 0.0:
            acct[6] += 1.0
    acct[1] = new_units if abs(new_units) > EPS else 0.0
    if opening > 0.0:
        if units == 0.0 or closing > 0.0:  # a new trade
            acct[3] = price
            acct[4] = fees - fee_close
        else:  # adding to the open trade
            old = abs(units)
            acct[3] = (acct[3] * old + price * opening) / (old + opening)
            acct[4] += fees - fee_close
    return size


@njit(entry=False, cache=True, inline="always")
def _fill_entry_nb(p, acct, d, price):
    """``simulate.fill_entry_nb`` for one asset, market kind, percent sizing."""
    u = acct[1]
    if u != 0.0 and _sign_nb(u) != d:
        _execute_nb(p, acct, -u, price, False)
    elif u != 0.0:
        return
    fill = _slipped_nb(p, price, d > 0)
    eq = acct[0] + (acct[1] * acct[2] if acct[1] != 0.0 else 0.0)
    units = _round_nb(p, (p[P_SIZE] * eq - p[P_FIXED]) / (fill * (1.0 + p[P_FEES])))
    if not units > 0:
        units = 0.0
    _execute_nb(p, acct, d * units, price, True)


@njit(entry=False, cache=True, inline="always")
def _intent_nb(direction, up, u, allow_short, reverse):
    """The pending order a cross leaves at the close (``simulate.read_intent_nb``): returns
    ``(kind, direction)`` with kind 0 none, 1 entry, 2 exit."""
    en = 0.0
    ex = 0.0
    if direction == 0:
        if up:
            en = 1.0
        else:
            ex = 1.0
    elif direction == 1:
        if not up:
            en = -1.0
        else:
            ex = -1.0
    else:
        en = 1.0 if up else -1.0
        ex = -en
    if en < 0 and not allow_short:
        en = 0.0
    wants_exit = u != 0.0 and ex != 0.0 and _sign_nb(u) == ex
    if en != 0.0 and u != 0.0:
        if _sign_nb(u) == en or not reverse:
            en = 0.0
    if en != 0.0:
        return 1, en
    if wants_exit:
        return 2, ex
    return 0, 0.0


@njit(entry=False, cache=True)
def path_metrics_nb(eq, cash0, ppy, rf, r_buf, out):
    """The path metrics of an equity curve into ``out`` (columns of :data:`SWEEP_METRICS`), with
    its per-bar returns into ``r_buf``, in two passes over the bars.

    Reference: the scalar kernels of :mod:`workbench.nb.metrics_nb` (``returns_1d_nb``,
    ``annual_return_1d_nb``, ``sharpe_ratio_1d_nb``, ``sortino_ratio_1d_nb``,
    ``max_drawdown_1d_nb``, ``calmar_ratio_1d_nb``) and the sample standard deviation of
    ``annual_volatility``: the same sums in the same order, fused into one loop.
    """
    n = eq.shape[0]
    rf_p = (1.0 + rf) ** (1.0 / ppy) - 1.0
    growth = 1.0
    s_r = 0.0
    lo_r = np.inf
    hi_r = -np.inf
    s_x = 0.0
    lo_x = np.inf
    hi_x = -np.inf
    down = 0.0
    peak = cash0
    worst = 0.0
    w_peak = 1.0
    w_worst = 0.0
    prev = cash0
    for i in range(n):
        e = eq[i]
        if i > 0:
            prev = eq[i - 1]
        r = e / prev - 1.0 if prev > 0.0 else 0.0
        r_buf[i] = r
        s_r += r
        lo_r = min(lo_r, r)
        hi_r = max(hi_r, r)
        x = r - rf_p
        s_x += x
        lo_x = min(lo_x, x)
        hi_x = max(hi_x, x)
        if x < 0.0:
            down += x * x
        peak = max(peak, e)
        worst = min(worst, max(e / peak - 1.0, -1.0) if peak > 0.0 else -1.0)
        growth *= 1.0 + r
        w_peak = max(w_peak, growth)
        w_worst = min(w_worst, max(growth / w_peak - 1.0, -1.0))
    mean_r = s_r / n
    mean_x = s_x / n
    ss_r = 0.0
    ss_x = 0.0
    for i in range(n):
        d = r_buf[i] - mean_r
        ss_r += d * d
        d = r_buf[i] - rf_p - mean_x
        ss_x += d * d
    std_r = 0.0 if n < 2 or lo_r == hi_r else math.sqrt(ss_r / (n - 1))
    std_x = 0.0 if n < 2 or lo_x == hi_x else math.sqrt(ss_x / (n - 1))
    root = math.sqrt(ppy)
    annual = _annualize_growth_nb(growth, ppy / n)
    out[M_ANNUAL] = annual
    out[M_VOL] = std_r * root
    out[M_SHARPE] = _safe_ratio_nb(mean_x, std_x) * root
    out[M_SORTINO] = _safe_ratio_nb(mean_x, math.sqrt(down / n)) * root
    out[M_MDD] = worst
    out[M_CALMAR] = _safe_ratio_nb(annual, -w_worst)
    for k in range(M_ANNUAL, M_CALMAR + 1):
        if np.isinf(out[k]):
            out[k] = np.nan


@njit(entry=False, cache=True)
def cross_set_nb(fast, slow, start, direction, open_, close, p, eq_buf, r_buf, out):
    """Simulate one crossover parameter set and write its metrics into ``out`` (see
    :data:`SWEEP_METRICS`).

    ``fast``/``slow`` are the two moving averages, valid from bar ``start``; ``direction`` is
    0 long, 1 short, 2 both. With ``p[P_PATH]`` set, the equity path goes through ``eq_buf``
    and its returns through ``r_buf`` (both of the bars' length) for the path metrics.

    Reference: ``workbench.backtest`` of ``SmaCross``/``EmaCross`` with the same settings.
    The per-bar work is a comparison of the two averages; without an equity path, a pending
    order or a margin to watch, a tight scan skips to the next bar where their order changes.
    The margin check runs only while a position can breach it (a long held with non-negative
    cash cannot: its equity is at least its gross exposure).
    """
    n = close.shape[0]
    cash0 = p[P_CASH]
    need_path = p[P_PATH] != 0.0
    same_close = p[P_FILL] != 0.0
    allow_short = p[P_SHORT] != 0.0
    reverse = p[P_REVERSE] != 0.0
    mm = p[P_MM]
    # [cash, units, last, entry_price, entry_fees, n_closed, n_wins, total_fees]
    acct = np.zeros(8)
    acct[0] = cash0
    acct[2] = np.nan
    pending = 0  # 0 none, 1 entry, 2 exit
    pdir = 0.0
    held = 0
    since = 0
    eq = cash0
    cash = cash0
    u = 0.0
    safe = True
    first = min(start + 1, n)
    if need_path:
        for t in range(first):
            eq_buf[t] = cash0
    prev = 0
    if start < n:
        prev = (1 if fast[start] > slow[start] else 0) - (1 if fast[start] < slow[start] else 0)
    scan = not need_path
    t = first - 1
    while t + 1 < n:
        t += 1
        if scan and pending == 0 and safe:  # nothing happens before the averages cross: skip to it
            if prev > 0:
                while t < n and fast[t] > slow[t]:
                    t += 1
            elif prev < 0:
                while t < n and fast[t] < slow[t]:
                    t += 1
            else:
                while t < n and fast[t] == slow[t]:
                    t += 1
            if t == n:
                break
        c = close[t]
        if pending != 0:  # next-open fill of what the previous close decided
            o = open_[t]
            acct[2] = o
            if pending == 2:
                if u != 0.0 and _sign_nb(u) == pdir:
                    _execute_nb(p, acct, -u, o, False)
            else:
                _fill_entry_nb(p, acct, pdir, o)
            pending = 0
            if (u != 0.0) != (acct[1] != 0.0):
                if u != 0.0:
                    held += t - since
                else:
                    since = t
            cash = acct[0]
            u = acct[1]
            safe = u == 0.0 or (u > 0.0 and cash >= 0.0)
        ft = fast[t]
        st = slow[t]
        cur = (1 if ft > st else 0) - (1 if ft < st else 0)
        if cur != prev:
            prev = cur
            if cur != 0:
                pending, pdir = _intent_nb(direction, cur > 0, u, allow_short, reverse)
                if same_close and pending != 0:
                    acct[2] = c
                    if pending == 2:
                        _execute_nb(p, acct, -u, c, False)
                    else:
                        _fill_entry_nb(p, acct, pdir, c)
                    pending = 0
                    if (u != 0.0) != (acct[1] != 0.0):
                        if u != 0.0:
                            held += t - since
                        else:
                            since = t
                    cash = acct[0]
                    u = acct[1]
                    safe = u == 0.0 or (u > 0.0 and cash >= 0.0)
        if not safe:  # mark to market, margin call
            eq = cash + u * c
            gross = abs(u * c)
            if gross > 0.0 and (eq <= 0.0 or eq < mm * gross):
                acct[2] = c
                _execute_nb(p, acct, -u, c, False)
                pending = 0
                cash = acct[0]
                u = acct[1]
                if u == 0.0:
                    held += t - since
                safe = u == 0.0 or (u > 0.0 and cash >= 0.0)
        if need_path:
            eq_buf[t] = cash + u * c if u != 0.0 else cash
    if u != 0.0:
        held += n - since
    if n > first:
        c = close[n - 1]
        eq = cash + u * c if u != 0.0 else cash
    out[M_TOTAL] = eq / cash0 - 1.0
    out[M_END] = eq
    out[M_TRADES] = acct[5]
    out[M_WIN] = acct[6] / acct[5] if acct[5] > 0 else 0.0
    out[M_EXPOSURE] = held / n
    out[M_FEES] = acct[7]
    cagr = _annualize_growth_nb(eq / cash0, p[P_CAGR_EXP])
    out[M_CAGR] = np.nan if np.isinf(cagr) else cagr
    if need_path:
        path_metrics_nb(eq_buf, cash0, p[P_PPY], p[P_RF], r_buf, out)
    else:
        for k in range(M_ANNUAL, M_CALMAR + 1):
            out[k] = np.nan


@njit(cache=True, parallel=True)
def cross_sweep_nb(open_, close, fast_w, slow_w, directions, kind, table, row_of, p, out, returns_out, n_blocks):
    """Crossover sweep over parameter sets ``(fast_w[k], slow_w[k], directions[k])``.

    ``open_``/``close`` are 1-D; ``out`` is ``(n_sets, len(SWEEP_METRICS))``. ``table`` holds
    the moving averages of the distinct windows (row ``row_of[w]`` for window ``w``) or has no
    rows, in which case each block computes its sets' averages into its own buffers (sets
    sorted by fast window reuse it). ``returns_out`` is ``(n_sets, n_bars)`` to also keep every
    set's per-bar returns (needs ``p[P_PATH]``), or ``(0, 0)``. The sets are cut into
    ``n_blocks`` contiguous blocks run in parallel (a few per thread balances the load).

    Reference: :func:`cross_set_nb` per set, itself held to ``workbench.backtest``.
    """
    n = close.shape[0]
    n_sets = fast_w.shape[0]
    stream = table.shape[0] == 0
    keep = returns_out.shape[0] > 0
    need_path = p[P_PATH] != 0.0
    n_blocks = max(1, min(n_sets, n_blocks))
    for b in prange(n_blocks):
        lo = b * n_sets // n_blocks
        hi = (b + 1) * n_sets // n_blocks
        eq_buf = np.empty(n if need_path else 0)
        r_buf = np.empty(n if need_path else 0)
        f_buf = np.empty(n if stream else 0)
        s_buf = np.empty(n if stream else 0)
        f_have = -1
        s_have = -1
        for k in range(lo, hi):
            fw = fast_w[k]
            sw = slow_w[k]
            start = max(fw, sw) - 1
            if stream:
                if fw != f_have:
                    if kind == MA_SMA:
                        sma_1d_nb(close, fw, f_buf)
                    else:
                        ema_1d_nb(close, fw, f_buf)
                    f_have = fw
                if sw != s_have:
                    if kind == MA_SMA:
                        sma_1d_nb(close, sw, s_buf)
                    else:
                        ema_1d_nb(close, sw, s_buf)
                    s_have = sw
                cross_set_nb(f_buf, s_buf, start, directions[k], open_, close, p, eq_buf, r_buf, out[k])
            else:
                cross_set_nb(table[row_of[fw]], table[row_of[sw]], start, directions[k], open_, close, p,
                             eq_buf, r_buf, out[k])
            if keep:
                for t in range(n):
                    returns_out[k, t] = r_buf[t]
