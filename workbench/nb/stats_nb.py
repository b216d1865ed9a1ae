"""Every figure of a backtest's statistics in one kernel call: :func:`stats_nb`.

:func:`workbench.metrics.compute_stats` validates its inputs, calls :func:`stats_nb` once and
builds :class:`workbench.metrics.Stats` from the float64 vector it fills, whose layout is
:data:`FIELDS` (one index constant per figure, e.g. ``out[SHARPE_RATIO]``). Integer figures
(counts, streaks, durations in bars) come back as whole floats.

The kernel repeats the floating-point operations of the numpy definitions in
:mod:`workbench.metrics` in the same order, so its figures are the same numbers, NaN patterns
included (the tests hold them to 1e-12 relative, and the sums to the bit):

- sums and means use numpy's pairwise summation (:func:`_sum_nb`, the order of ``np.sum``);
  products (``np.prod``, ``np.cumprod``) and extrema run left to right, as numpy's do;
- percentiles interpolate as ``np.percentile(..., method="linear")``, between the order
  statistics it would pick; only the lowest and the highest ~5% of the returns are ever read,
  so those are selected with bounded heaps instead of sorting every return;
- a per-bar return overflowing the float range (``inf``) propagates as it does through numpy,
  and any ±inf figure is reported as NaN at the end, as ``compute_stats`` always did.

Divisions follow IEEE (``error_model="numpy"``, as numpy divides); every ratio that can meet a
zero denominator goes through ``_safe_ratio_nb`` (``0 / 0 → 0.0``, ``x / 0 → NaN``).
"""

from __future__ import annotations

import math

import numpy as np

from workbench.nb.jit import njit_ieee as njit
from workbench.nb.metrics_nb import _annualize_growth_nb, _per_period_rate_nb, _safe_ratio_nb

__all__ = ["FIELDS", "INT_FIELDS", "N_FIELDS", "OK", "BAD_EQUITY", "BAD_BENCHMARK", "BAD_EXPOSURE",
           "BAD_TRADES", "stats_nb"]

#: The figures :func:`stats_nb` writes, by position in its output vector (names of ``Stats`` fields).
FIELDS = (
    "total_return", "cagr", "annual_return", "benchmark_return", "exposure",
    "annual_volatility", "max_drawdown", "max_drawdown_duration", "average_drawdown", "ulcer_index",
    "value_at_risk", "conditional_value_at_risk", "skew", "kurtosis", "tail_ratio",
    "sharpe_ratio", "sortino_ratio", "calmar_ratio", "omega_ratio", "alpha", "beta",
    "n_trades", "n_open_trades", "win_rate", "best_trade", "worst_trade", "avg_trade", "avg_win", "avg_loss",
    "payoff_ratio", "profit_factor", "expectancy", "sqn", "kelly_criterion",
    "max_consecutive_wins", "max_consecutive_losses", "avg_trade_duration", "max_trade_duration",
)
#: The figures that are counts or bar durations: whole numbers in the output vector.
INT_FIELDS = ("max_drawdown_duration", "n_trades", "n_open_trades", "max_consecutive_wins",
              "max_consecutive_losses", "max_trade_duration")
N_FIELDS = len(FIELDS)

(TOTAL_RETURN, CAGR, ANNUAL_RETURN, BENCHMARK_RETURN, EXPOSURE,
 ANNUAL_VOLATILITY, MAX_DRAWDOWN, MAX_DRAWDOWN_DURATION, AVERAGE_DRAWDOWN, ULCER_INDEX,
 VALUE_AT_RISK, CONDITIONAL_VALUE_AT_RISK, SKEW, KURTOSIS, TAIL_RATIO,
 SHARPE_RATIO, SORTINO_RATIO, CALMAR_RATIO, OMEGA_RATIO, ALPHA, BETA,
 N_TRADES, N_OPEN_TRADES, WIN_RATE, BEST_TRADE, WORST_TRADE, AVG_TRADE, AVG_WIN, AVG_LOSS,
 PAYOFF_RATIO, PROFIT_FACTOR, EXPECTANCY, SQN, KELLY_CRITERION,
 MAX_CONSECUTIVE_WINS, MAX_CONSECUTIVE_LOSSES, AVG_TRADE_DURATION, MAX_TRADE_DURATION) = range(N_FIELDS)

#: Return codes of :func:`stats_nb`: OK, or which input broke the contract (the output is then
#: not filled; ``compute_stats``' validation names the problem).
OK, BAD_EQUITY, BAD_BENCHMARK, BAD_EXPOSURE, BAD_TRADES = range(5)

_CUTOFF = 0.05  # the tail of value at risk, conditional value at risk and the tail ratio
_LOW_Q = 0.05   # np.percentile's q / 100 for the 5th and 95th percentiles
_HIGH_Q = 0.95
_PW_BLOCK = 128  # numpy's PW_BLOCKSIZE
_U1, _U2, _U3, _U4, _U5, _U6, _U7, _U8 = (np.uint64(k) for k in range(1, 9))


# --------------------------------------------------------------------------- numpy's reductions

@njit(cache=True, entry=False)
def _block_sum_nb(a, lo, n):
    """Sum of ``a[lo:lo + n]``, ``n <= 128``, as numpy's ``pairwise_sum`` adds a block: in order
    below 8 values, else in 8 interleaved accumulators. (Unsigned indices spare the negative
    index checks, so LLVM can keep the 8 accumulators in vector registers: the same adds.)"""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    j = np.uint64(lo)
    stop = j + np.uint64(n - n % 8)
    r0, r1, r2, r3 = a[j], a[j + _U1], a[j + _U2], a[j + _U3]
    r4, r5, r6, r7 = a[j + _U4], a[j + _U5], a[j + _U6], a[j + _U7]
    j += _U8
    while j < stop:
        r0 += a[j]
        r1 += a[j + _U1]
        r2 += a[j + _U2]
        r3 += a[j + _U3]
        r4 += a[j + _U4]
        r5 += a[j + _U5]
        r6 += a[j + _U6]
        r7 += a[j + _U7]
        j += _U8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(lo + n - n % 8, lo + n):
        res += a[i]
    return res


@njit(cache=True, entry=False)
def _pairwise_sum_nb(a, n):
    """Sum of ``a[:n]`` in the order of numpy's pairwise summation (``pairwise_sum``).

    numpy splits a run longer than 128 values in two halves (the first a multiple of 8 long)
    and adds the sums of the halves; the tree is walked here with an explicit stack (a cached
    recursive kernel crashes when Numba loads it back). ``node`` holds the path from the root:
    start, length and how many children are done; ``part`` the sums awaiting their sibling.
    """
    if n <= _PW_BLOCK:
        return _block_sum_nb(a, np.int64(0), n)  # an int64 start: no separate Literal[int] compile
    node = np.empty((64, 3), np.int64)  # depth <= log2(n / 128) + 1 < 64
    part = np.empty(64)
    node[0, 0], node[0, 1], node[0, 2] = 0, n, 0
    depth = 1
    parts = 0
    while depth > 0:
        top = depth - 1
        lo, size, done = node[top, 0], node[top, 1], node[top, 2]
        half = size // 2
        half -= half % 8
        if size <= _PW_BLOCK or done == 2:
            if size <= _PW_BLOCK:
                value = _block_sum_nb(a, lo, size)
            else:  # both halves summed: left + right
                parts -= 2
                value = part[parts] + part[parts + 1]
            part[parts] = value
            parts += 1
            depth -= 1
        else:
            node[top, 2] = done + 1
            node[depth, 0] = lo if done == 0 else lo + half
            node[depth, 1] = half if done == 0 else size - half
            node[depth, 2] = 0
            depth += 1
    return part[0]


@njit(cache=True, entry=False)
def _sum_nb(a, n):
    """``np.sum(a[:n])`` bit for bit: numpy's reduction starts from 0.0, then sums pairwise."""
    return 0.0 + _pairwise_sum_nb(a, n)


@njit(cache=True, entry=False)
def _nan_max_nb(a, b):
    """``np.maximum(a, b)``: NaN if either is NaN."""
    if a != a or b != b:
        return np.nan
    return a if a >= b else b


@njit(cache=True, entry=False)
def _nan_min_nb(a, b):
    """``np.minimum(a, b)``: NaN if either is NaN."""
    if a != a or b != b:
        return np.nan
    return a if a <= b else b


@njit(cache=True, entry=False)
def _sample_std_nb(x, n, lo, hi, mean, buf):
    """``metrics.returns._sample_std(x[:n])`` (``np.std(ddof=1)``) given ``x``'s extremes and
    ``np.mean``; 0.0 for fewer than two or identical values."""
    if n < 2 or hi == lo:
        return 0.0
    for i in range(n):
        d = x[i] - mean
        buf[i] = d * d
    return math.sqrt(_sum_nb(buf, n) / (n - 1))


# --------------------------------------------------------------------------- order statistics

@njit(cache=True, entry=False)
def _sift_down_nb(h, start, end):
    """Restore the max-heap ``h[:end]`` below ``start``."""
    root = start
    while True:
        child = 2 * root + 1
        if child >= end:
            return
        if child + 1 < end and h[child + 1] > h[child]:
            child += 1
        if h[child] > h[root]:
            h[root], h[child] = h[child], h[root]
            root = child
        else:
            return


@njit(cache=True, entry=False)
def _heap_smallest_nb(x, m, k, h):
    """The ``k`` smallest of ``x[:m]``, ascending, in ``h[:k]``: a bounded max-heap over one
    pass, then a heap sort."""
    for i in range(k):
        h[i] = x[i]
        j = i
        while j > 0:  # sift up
            parent = (j - 1) // 2
            if h[j] > h[parent]:
                h[j], h[parent] = h[parent], h[j]
                j = parent
            else:
                break
    for i in range(k, m):
        v = x[i]
        if v < h[0]:
            h[0] = v
            _sift_down_nb(h, 0, k)
    for end in range(k - 1, 0, -1):
        h[0], h[end] = h[end], h[0]
        _sift_down_nb(h, 0, end)


@njit(cache=True, entry=False)
def _smallest_nb(x, sign, k, cand, h):
    """The ``k`` smallest of ``sign * x`` (``sign`` ±1.0; -1 gives the largest, negated),
    ascending, in ``h[:k]``; ``cand`` and ``h`` hold ``len(x)`` values.

    Equal to ``np.sort(sign * x)[:k]`` (order statistics are values, whatever the algorithm).
    For a small ``k`` of a long series, a threshold read off 64 evenly spaced values (their
    ``~1.5 k / n`` quantile) first keeps the values at or below it, ~10% of them, which hold
    the ``k`` smallest whenever there are at least ``k`` of them (else every value is kept).
    """
    n = x.shape[0]
    m = n
    if n >= 512 and 8 * k <= n:
        q = (3 * 64 * k) // (2 * n) + 4  # index of the threshold among the sorted sample
        stride = n // 64
        kept = 0  # insertion sort of the q + 1 smallest sampled values into h
        for j in range(64):
            v = sign * x[j * stride]
            if kept <= q:
                pos = kept
                kept += 1
            elif v < h[q]:
                pos = q
            else:
                continue
            while pos > 0 and h[pos - 1] > v:
                h[pos] = h[pos - 1]
                pos -= 1
            h[pos] = v
        threshold = h[q]
        m = 0
        for i in range(n):  # branch-free compaction of the values <= threshold
            v = sign * x[i]
            cand[m] = v
            m += v <= threshold
        if m < k:
            m = n
    if m == n:
        for i in range(n):
            cand[i] = sign * x[i]
    _heap_smallest_nb(cand, m, k, h)


@njit(cache=True, entry=False)
def _lerp_nb(a, b, t):
    """numpy's ``_lerp`` of the quantiles: ``a + (b - a) * t``, from ``b`` when ``t >= 0.5``."""
    diff = b - a
    if t >= 0.5:
        return b - diff * (1.0 - t)
    return a + diff * t


@njit(cache=True, entry=False)
def _tail_figures_nb(r, buf, buf2, out):
    """Value at risk, conditional value at risk and tail ratio of the returns ``r``.

    Reference: ``metrics.distribution._value_at_risk(r, 0.05)``,
    ``_conditional_value_at_risk(r, 0.05)`` and ``_tail_ratio(r)`` (``np.percentile`` with
    linear interpolation; empyrical's mean of the ``k + 1`` lowest returns).
    """
    n = r.shape[0]
    # np.percentile's virtual index (n - 1) * q, its floor and its interpolation weight; an
    # index at or beyond the last (n == 1) takes the last value with weight index + 1
    v_lo = (n - 1) * _LOW_Q
    v_hi = (n - 1) * _HIGH_Q
    k = int((n - 1) * _CUTOFF)  # conditional VaR averages the k + 1 lowest returns
    if v_hi >= n - 1:  # a single return: every quantile is that return
        out[VALUE_AT_RISK] = _lerp_nb(r[0], r[0], v_lo + 1.0)
        hi = _lerp_nb(r[0], r[0], v_hi + 1.0)
        out[CONDITIONAL_VALUE_AT_RISK] = 0.0 + r[0]  # np.sort(r)[:1].mean()
    else:
        i_lo = int(math.floor(v_lo))
        i_hi = int(math.floor(v_hi))
        n_low = max(k + 1, i_lo + 2)  # lowest order statistics read: 0 .. i_lo + 1
        _smallest_nb(r, 1.0, n_low, buf2, buf)
        out[VALUE_AT_RISK] = _lerp_nb(buf[i_lo], buf[i_lo + 1], v_lo - i_lo)
        out[CONDITIONAL_VALUE_AT_RISK] = _sum_nb(buf, k + 1) / (k + 1)
        n_high = n - i_hi  # highest order statistics read: i_hi .. n - 1
        _smallest_nb(r, -1.0, n_high, buf2, buf)  # buf[j] = -(j-th largest) = -sorted[n - 1 - j]
        hi = _lerp_nb(-buf[n - 1 - i_hi], -buf[n - 2 - i_hi], v_hi - i_hi)
    out[TAIL_RATIO] = _safe_ratio_nb(abs(hi), abs(out[VALUE_AT_RISK]))


# --------------------------------------------------------------------------- figures

@njit(cache=True, entry=False)
def _curve_figures_nb(equity, init_cash, years, r, buf, buf2, dd, out):
    """Per-bar returns into ``r``, the drawdown into ``dd``, and the figures of the curve.

    Reference: ``metrics.returns._simple_returns(equity, init_cash)``; ``total_return``,
    ``cagr`` and ``annual_return``; ``metrics.drawdown._drawdown(equity, init_cash)`` with
    ``_max_drawdown_duration``, ``_average_drawdown`` and ``_ulcer_index``. Returns the
    compounded growth ``np.prod(1 + r)`` and the maximum drawdown of ``np.cumprod(1 + r)``
    started at 1 (``metrics.returns._calmar``).

    The loops without a carried dependency (returns, drawdown) are kept apart from the scans
    (running peaks and products), so that LLVM vectorizes their divisions.
    """
    n = equity.shape[0]
    r[0] = equity[0] / init_cash - 1.0  # init_cash > 0
    for i in range(1, n):
        prev = equity[i - 1]
        r[i] = equity[i] / prev - 1.0 if prev > 0.0 else 0.0
    peak = init_cash
    growth = 1.0  # np.prod(1 + r) and np.cumprod(1 + r)[i]: the same running product
    wealth_peak = 1.0
    wealth_dd = 0.0
    for i in range(n):
        peak = max(peak, equity[i])  # finite, >= init_cash > 0
        dd[i] = peak
        growth *= 1.0 + r[i]
        # drawdown of the wealth 1 * cumprod(1 + r) (the calmar ratio's); wealth_dd <= 0 or NaN
        if growth < wealth_peak and growth > -np.inf and wealth_peak < np.inf:  # finite, no NaN
            wdd = max(growth / wealth_peak - 1.0, -1.0)
            if wdd < wealth_dd:  # a NaN wealth_dd stays NaN
                wealth_dd = wdd
        elif growth >= wealth_peak and growth < np.inf:  # a new finite peak: x / x - 1 == 0.0
            wealth_peak = growth
        else:  # an infinite or NaN wealth: np.maximum and np.min propagate NaN
            wealth_peak = _nan_max_nb(wealth_peak, growth)
            wdd = _nan_max_nb(growth / wealth_peak - 1.0, -1.0) if wealth_peak > 0.0 else -1.0
            wealth_dd = _nan_min_nb(wealth_dd, wdd)
    for i in range(n):  # the curve's drawdown, init_cash being the first peak
        d = max(equity[i] / dd[i] - 1.0, -1.0)
        dd[i] = d
        buf[i] = d * d
    dd_min = dd[0]
    run = 0
    longest = 0
    n_episodes = np.int64(0)  # int64 from the start: no Literal[int] compile of _sum_nb
    deepest = 0.0  # of the episode under way
    for i in range(n):  # episodes: runs of bars below the peak, their depths into buf2
        d = dd[i]
        dd_min = min(dd_min, d)
        if d < 0.0:
            deepest = d if run == 0 else min(deepest, d)
            run += 1
            longest = max(longest, run)
        elif run > 0:
            buf2[n_episodes] = deepest
            n_episodes += 1
            run = 0
    if run > 0:
        buf2[n_episodes] = deepest
        n_episodes += 1
    last = equity[n - 1] / init_cash
    out[TOTAL_RETURN] = last - 1.0
    out[CAGR] = _annualize_growth_nb(last, 1.0 / years)
    out[MAX_DRAWDOWN] = dd_min
    out[MAX_DRAWDOWN_DURATION] = longest
    out[AVERAGE_DRAWDOWN] = _sum_nb(buf2, n_episodes) / n_episodes if n_episodes else 0.0
    out[ULCER_INDEX] = math.sqrt(_sum_nb(buf, n) / n)
    return growth, wealth_dd


@njit(cache=True, entry=False)
def _return_figures_nb(r, ppy, rf, growth, wealth_dd, buf, buf2, buf3, out):
    """Annualized, risk-adjusted and distribution figures of the per-bar returns ``r``.

    Reference: ``metrics.returns`` ``_annual_return``, ``_annual_volatility``, ``_sharpe``,
    ``_sortino``, ``_calmar``, ``_omega(r, ppy, 0.0)``; ``metrics.distribution`` ``_skew``,
    ``_kurtosis`` (and :func:`_tail_figures_nb`). ``rf`` is the per-bar risk-free rate.
    """
    n = r.shape[0]
    r_lo = np.inf
    r_hi = -np.inf
    x_lo = np.inf
    x_hi = -np.inf
    n_gain = np.int64(0)  # int64 from the start: no Literal[int] compile of _sum_nb
    n_loss = np.int64(0)
    threshold = _per_period_rate_nb(0.0, ppy)  # the omega ratio's required return
    for i in range(n):
        ri = r[i]
        r_lo = min(r_lo, ri)
        r_hi = max(r_hi, ri)
        x = ri - rf
        buf[i] = x
        x_lo = min(x_lo, x)
        x_hi = max(x_hi, x)
        d = ri - threshold
        buf2[n_gain] = d  # branch-free gathers (the sign of a return is a coin flip)
        n_gain += d > 0.0
        buf3[n_loss] = d
        n_loss += d < 0.0
    out[ANNUAL_RETURN] = _annualize_growth_nb(growth, ppy / n)
    out[OMEGA_RATIO] = _safe_ratio_nb(_sum_nb(buf2, n_gain), -_sum_nb(buf3, n_loss))
    out[CALMAR_RATIO] = _safe_ratio_nb(out[ANNUAL_RETURN], -wealth_dd)
    root_ppy = math.sqrt(ppy)
    # excess returns (buf): Sharpe and Sortino
    x_mean = _sum_nb(buf, n) / n
    for i in range(n):
        d = min(buf[i], 0.0)
        buf2[i] = d * d
    downside = math.sqrt(_sum_nb(buf2, n) / n)
    out[SORTINO_RATIO] = _safe_ratio_nb(x_mean, downside) * root_ppy
    out[SHARPE_RATIO] = _safe_ratio_nb(x_mean, _sample_std_nb(buf, n, x_lo, x_hi, x_mean, buf2)) * root_ppy
    # central moments of the returns: volatility, skew, kurtosis
    mean = _sum_nb(r, n) / n
    for i in range(n):
        d = r[i] - mean
        d2 = d * d
        buf[i] = d2
        buf2[i] = d2 * d
        buf3[i] = d2 * d2
    squares = _sum_nb(buf, n)
    m2 = squares / n
    m3 = _sum_nb(buf2, n) / n
    m4 = _sum_nb(buf3, n) / n
    out[ANNUAL_VOLATILITY] = (0.0 if n < 2 or r_hi == r_lo else math.sqrt(squares / (n - 1))) * root_ppy
    den = m2 * math.sqrt(m2)
    out[SKEW] = 0.0 if den == 0.0 or r_hi == r_lo else m3 / den
    den = m2 * m2
    out[KURTOSIS] = 0.0 if den == 0.0 or r_hi == r_lo else m4 / den - 3.0
    _tail_figures_nb(r, buf, buf2, out)


@njit(cache=True, entry=False)
def _benchmark_figures_nb(r, bench, ppy, rf, buf, buf2, out):
    """Compounded benchmark return, alpha and beta; NaN without a benchmark (``bench`` empty).

    Reference: ``metrics.stats._benchmark_figures`` (``np.prod(1 + bench) - 1`` and
    ``metrics.returns._alpha_beta(r, bench, ppy, risk_free)``). ``rf`` is the per-bar rate.
    """
    n = bench.shape[0]
    if n == 0:
        out[BENCHMARK_RETURN] = np.nan
        out[ALPHA] = np.nan
        out[BETA] = np.nan
        return
    growth = 1.0
    lo = np.inf
    hi = -np.inf
    for i in range(n):
        growth *= 1.0 + bench[i]
        y = bench[i] - rf
        buf[i] = y
        lo = min(lo, y)
        hi = max(hi, y)
    out[BENCHMARK_RETURN] = growth - 1.0
    y_mean = _sum_nb(buf, n) / n
    for i in range(n):
        c = buf[i] - y_mean
        buf2[i] = c * c
    var = _sum_nb(buf2, n) / n
    if var == 0.0 or hi == lo:
        beta = 0.0
    else:
        for i in range(n):
            buf2[i] = r[i] - rf
        x_mean = _sum_nb(buf2, n) / n
        for i in range(n):
            buf2[i] = (buf[i] - y_mean) * ((r[i] - rf) - x_mean)
        beta = _sum_nb(buf2, n) / n / var
    for i in range(n):
        buf2[i] = (r[i] - rf) - beta * buf[i]
    out[ALPHA] = _annualize_growth_nb(1.0 + _sum_nb(buf2, n) / n, ppy)
    out[BETA] = beta


@njit(cache=True, entry=False)
def _closing_order_nb(idx, entry_bar, exit_bar):
    """The trades ``idx`` sorted by ``exit_bar``, then ``entry_bar``, ties in their order: a
    bottom-up merge sort (stable, as ``np.lexsort((entry_bar[idx], exit_bar[idx]))``)."""
    m = idx.shape[0]
    src = idx.copy()
    dst = np.empty(m, np.int64)
    width = 1
    while width < m:
        for lo in range(0, m, 2 * width):
            mid = min(lo + width, m)
            hi = min(lo + 2 * width, m)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                a, b = src[i], src[j]
                if exit_bar[b] < exit_bar[a] or (exit_bar[b] == exit_bar[a] and entry_bar[b] < entry_bar[a]):
                    dst[k] = b  # strictly before: the right run's trade goes first
                    j += 1
                else:
                    dst[k] = a
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        width *= 2
    return src


@njit(cache=True, entry=False)
def _closed_trades_nb(pnl, ret, entry_bar, exit_bar, is_open):
    """The closed trades in closing order (by ``exit_bar``, then ``entry_bar``, ties kept):
    ``(pnl, ret, duration, n_open, ok)``; ``ok`` is False when a closed trade has a non-finite
    ``pnl`` or ``ret`` or exits before it enters.

    Reference: ``metrics.trades.closed_trades_of`` (``np.lexsort((entry, exit))``).
    """
    n_all = pnl.shape[0]
    n_open = 0
    for i in range(n_all):
        if is_open[i]:
            n_open += 1
    m = n_all - n_open
    idx = np.empty(m, np.int64)
    in_order = True
    j = 0
    for i in range(n_all):
        if not is_open[i]:
            if j > 0:
                p = idx[j - 1]
                if exit_bar[i] < exit_bar[p] or (exit_bar[i] == exit_bar[p] and entry_bar[i] < entry_bar[p]):
                    in_order = False
            idx[j] = i
            j += 1
    if not in_order:
        idx = _closing_order_nb(idx, entry_bar, exit_bar)
    t_pnl = np.empty(m)
    t_ret = np.empty(m)
    t_dur = np.empty(m, np.int64)
    ok = True
    for j in range(m):
        i = idx[j]
        t_pnl[j] = pnl[i]
        t_ret[j] = ret[i]
        t_dur[j] = exit_bar[i] - entry_bar[i]
        ok = ok and math.isfinite(pnl[i]) and math.isfinite(ret[i]) and t_dur[j] >= 0
    return t_pnl, t_ret, t_dur, n_open, ok


@njit(cache=True, entry=False)
def _trade_figures_nb(pnl, ret, duration, buf, buf2, out):
    """Every trade statistic of the closed trades (in closing order); ``buf`` and ``buf2``
    hold at least ``len(pnl)`` values.

    Reference: ``metrics.trades.trade_figures`` (``_win_rate``, ``_payoff_ratio``,
    ``_profit_factor``, ``_sqn``, ``_kelly``, ``_max_streak``...).
    """
    m = pnl.shape[0]
    out[N_TRADES] = m
    n_win = np.int64(0)  # int64 from the start: no Literal[int] compile of _sum_nb
    n_loss = np.int64(0)
    win_run = 0
    loss_run = 0
    longest_win = 0
    longest_loss = 0
    best = -np.inf
    worst = np.inf
    pnl_lo = np.inf
    pnl_hi = -np.inf
    longest = 0
    for j in range(m):
        p = pnl[j]
        if p > 0.0:
            buf[n_win] = ret[j]
            n_win += 1
            win_run += 1
            longest_win = max(longest_win, win_run)
        else:
            win_run = 0
        if p < 0.0:
            n_loss += 1
            loss_run += 1
            longest_loss = max(longest_loss, loss_run)
        else:
            loss_run = 0
        best = max(best, ret[j])
        worst = min(worst, ret[j])
        pnl_lo = min(pnl_lo, p)
        pnl_hi = max(pnl_hi, p)
        longest = max(longest, duration[j])
    out[MAX_CONSECUTIVE_WINS] = longest_win
    out[MAX_CONSECUTIVE_LOSSES] = longest_loss
    out[WIN_RATE] = _safe_ratio_nb(float(n_win), float(m))
    out[MAX_TRADE_DURATION] = longest
    # averages over the wins and the losses (ret), gross profit and loss (pnl)
    avg_win = _sum_nb(buf, n_win) / n_win if n_win else np.nan
    k = 0
    for j in range(m):
        if pnl[j] < 0.0:
            buf[k] = ret[j]
            k += 1
    avg_loss = _sum_nb(buf, n_loss) / n_loss if n_loss else np.nan
    k = 0
    for j in range(m):
        if pnl[j] > 0.0:
            buf[k] = pnl[j]
            k += 1
    profit = _sum_nb(buf, n_win)
    k = 0
    for j in range(m):
        if pnl[j] < 0.0:
            buf[k] = pnl[j]
            k += 1
    loss = -_sum_nb(buf, n_loss)
    out[AVG_WIN] = avg_win
    out[AVG_LOSS] = avg_loss
    out[PROFIT_FACTOR] = _safe_ratio_nb(profit, loss)
    if n_win == 0:
        payoff = 0.0
    elif n_loss == 0:
        payoff = np.nan
    else:
        payoff = _safe_ratio_nb(avg_win, abs(avg_loss))
    out[PAYOFF_RATIO] = payoff
    if m == 0:
        out[BEST_TRADE] = np.nan
        out[WORST_TRADE] = np.nan
        out[AVG_TRADE] = np.nan
        out[EXPECTANCY] = np.nan
        out[AVG_TRADE_DURATION] = np.nan
        out[SQN] = 0.0
        out[KELLY_CRITERION] = 0.0
        return
    out[BEST_TRADE] = best
    out[WORST_TRADE] = worst
    out[AVG_TRADE] = _sum_nb(ret, m) / m
    mean_pnl = _sum_nb(pnl, m) / m
    out[EXPECTANCY] = mean_pnl
    for j in range(m):
        buf[j] = float(duration[j])
    out[AVG_TRADE_DURATION] = _sum_nb(buf, m) / m
    out[SQN] = math.sqrt(m) * _safe_ratio_nb(mean_pnl, _sample_std_nb(pnl, m, pnl_lo, pnl_hi, mean_pnl, buf2))
    p_win = float(n_win) / m
    if n_loss == 0:
        out[KELLY_CRITERION] = p_win
    elif payoff == 0.0:
        out[KELLY_CRITERION] = np.nan
    else:
        out[KELLY_CRITERION] = p_win - (1.0 - p_win) / payoff


# --------------------------------------------------------------------------- the kernel

@njit(cache=True)
def stats_nb(equity, init_cash, periods_per_year, risk_free, years, bench, held,
             pnl, ret, entry_bar, exit_bar, is_open, out):
    """Write every figure of :class:`workbench.metrics.Stats` but the settings into ``out``.

    Parameters
    ----------
    equity : float64 array
        Account value at each bar's close, at least one bar.
    init_cash : float
        Account value before the first bar, > 0.
    periods_per_year : float
        Bars per year, > 0.
    risk_free : float
        Annual risk-free rate, in (-1, 1).
    years : float
        Time span of the curve for ``cagr``, > 0.
    bench : float64 array
        Per-bar benchmark returns, one per bar, or empty (no benchmark: NaN figures).
    held : bool array
        One flag per bar, True where a position is held, or empty (exposure NaN).
    pnl, ret : float64 arrays
        Every trade's cash profit and return, open trades included (any order).
    entry_bar, exit_bar : int64 arrays
        Every trade's bars; closed trades are taken by ``exit_bar``, then ``entry_bar``.
    is_open : bool array
        True for the trades still open (left out of every trade figure but ``n_open_trades``).
    out : float64 array
        At least :data:`N_FIELDS` values, filled in the order of :data:`FIELDS`.

    Returns
    -------
    int
        :data:`OK`, or the code of the input that breaks the contract (``out`` is then not
        filled): :data:`BAD_EQUITY` (not finite), :data:`BAD_BENCHMARK` (not finite, or not
        one per bar), :data:`BAD_EXPOSURE` (not one per bar), :data:`BAD_TRADES` (a closed
        trade with a non-finite ``pnl`` or ``ret``, or exiting before it enters).

    Reference: ``workbench.metrics.compute_stats`` through its numpy helpers
    (``metrics.stats._return_figures``, ``_benchmark_figures``, ``_trade_figures``), with
    ``init_cash``, ``years`` and the settings validated by the caller.

    Examples
    --------
    >>> import numpy as np
    >>> out = np.empty(N_FIELDS)
    >>> no_trade, no_bar = np.empty(0), np.empty(0, np.int64)
    >>> stats_nb(np.array([101.0, 99.0, 103.0]), 100.0, 252.0, 0.0, 3 / 252, np.empty(0),
    ...          np.empty(0, np.bool_), no_trade, no_trade, no_bar, no_bar, np.empty(0, np.bool_), out)
    0
    >>> figures = dict(zip(FIELDS, out.tolist()))
    >>> round(figures["total_return"], 12), figures["max_drawdown_duration"], figures["n_trades"]
    (0.03, 1.0, 0.0)
    """
    n = equity.shape[0]
    for i in range(n):
        if not math.isfinite(equity[i]):
            return BAD_EQUITY
    if bench.shape[0] != 0:
        if bench.shape[0] != n:
            return BAD_BENCHMARK
        for i in range(n):
            if not math.isfinite(bench[i]):
                return BAD_BENCHMARK
    if held.shape[0] != 0 and held.shape[0] != n:
        return BAD_EXPOSURE
    t_pnl, t_ret, t_dur, n_open, ok = _closed_trades_nb(pnl, ret, entry_bar, exit_bar, is_open)
    if not ok:
        return BAD_TRADES
    size = max(n, t_pnl.shape[0])
    r = np.empty(n)
    buf = np.empty(size)
    buf2 = np.empty(size)
    buf3 = np.empty(n)
    rf = _per_period_rate_nb(risk_free, periods_per_year)
    growth, wealth_dd = _curve_figures_nb(equity, init_cash, years, r, buf, buf2, buf3, out)
    _return_figures_nb(r, periods_per_year, rf, growth, wealth_dd, buf, buf2, buf3, out)
    _benchmark_figures_nb(r, bench, periods_per_year, rf, buf, buf2, out)
    _trade_figures_nb(t_pnl, t_ret, t_dur, buf, buf2, out)
    if held.shape[0] == 0:
        out[EXPOSURE] = np.nan
    else:
        count = 0
        for i in range(n):
            if held[i]:
                count += 1
        out[EXPOSURE] = count / n
    out[N_OPEN_TRADES] = n_open
    for i in range(N_FIELDS):
        if math.isinf(out[i]):
            out[i] = np.nan
    return OK
