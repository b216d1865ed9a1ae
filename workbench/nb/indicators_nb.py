"""Technical-indicator kernels: one series (``*_1d_nb``) or the columns of a 2-D array (``*_nb``).

Every kernel reads C-contiguous float64 input, takes int64/float64 scalars and writes into
preallocated float64 outputs of the input's shape, so the 1-D kernels can be called from other
njit kernels (the fused parameter sweep calls ``sma_1d_nb(close, window, out)`` inside
``prange``). Arguments are not checked here: :mod:`workbench.indicators` validates them.

Conventions shared by all kernels
---------------------------------
* **Warm-up**: bars before an indicator has a full window are NaN.
* **NaN rule**: an indicator is computed separately on every maximal run of consecutive
  non-NaN bars (a bar of a multi-input indicator is NaN if any of its inputs is). A NaN bar is
  NaN in the output and restarts the warm-up, so a rolling window containing a NaN gives NaN
  and recursive indicators (EMA, RSI, ATR, MACD) are re-seeded after the gap. Leading NaNs (an
  asset that starts trading later) therefore just delay the first value.
* **Precision**: rolling sums are O(n) and compensated (Neumaier) or recomputed exactly every
  ``window`` bars, so long series stay within ~1e-12 (relative) of a per-window recomputation.
  A window whose values are all equal gives that value as its mean and exactly 0 as its
  standard deviation.

Examples
--------
>>> import numpy as np
>>> x = np.array([1.0, 2.0, 3.0, 4.0])
>>> out = np.empty_like(x)
>>> sma_1d_nb(x, 2, out)
>>> out
array([nan, 1.5, 2.5, 3.5])
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "sma_1d_nb",
    "sma_nb",
    "ema_1d_nb",
    "ema_nb",
    "wma_1d_nb",
    "wma_nb",
    "rolling_std_1d_nb",
    "rolling_std_nb",
    "zscore_1d_nb",
    "zscore_nb",
    "bollinger_1d_nb",
    "bollinger_nb",
    "rsi_1d_nb",
    "rsi_nb",
    "atr_1d_nb",
    "atr_nb",
    "macd_1d_nb",
    "macd_nb",
    "donchian_1d_nb",
    "donchian_nb",
]

_MODE_STD = 0
_MODE_ZSCORE = 1
_MODE_BOLLINGER = 2


@njit(cache=True, inline="always")
def _add_nb(s, c, v):
    """Neumaier-compensated ``s + v``: returns the new sum and the new compensation."""
    t = s + v
    if abs(s) >= abs(v):
        c += (s - t) + v
    else:
        c += (v - t) + s
    return t, c


@njit(cache=True)
def sma_1d_nb(x, window, out):
    """Simple moving average of one series, written into ``out``.

    ``out[i]`` is the mean of ``x[i-window+1 : i+1]``; NaN during warm-up and for windows
    containing NaN. Running Neumaier-compensated sum, O(n).

    Reference: ``polars.Series.rolling_mean(window)`` (NaN read as null).
    """
    n = x.shape[0]
    s = 0.0
    c = 0.0
    run = 0
    same = 0
    for i in range(n):
        v = x[i]
        if np.isnan(v):
            run = 0
            s = 0.0
            c = 0.0
            out[i] = np.nan
            continue
        same = same + 1 if run > 0 and v == x[i - 1] else 1
        run += 1
        s, c = _add_nb(s, c, v)
        if run > window:
            s, c = _add_nb(s, c, -x[i - window])
        if run < window:
            out[i] = np.nan
        elif same >= window:
            out[i] = v
        else:
            out[i] = (s + c) / window


@njit(cache=True)
def sma_nb(x, window, out):
    """:func:`sma_1d_nb` over each column of ``(n_bars, n_assets)`` ``x``."""
    for j in range(x.shape[1]):
        sma_1d_nb(x[:, j], window, out[:, j])


@njit(cache=True)
def _ewm_seeded_1d_nb(x, window, alpha, out):
    """EWM ``e[i] = e[i-1] + alpha * (x[i] - e[i-1])`` seeded with the mean of the first
    ``window`` values of each run of non-NaN values (that mean is the first output)."""
    n = x.shape[0]
    s = 0.0
    c = 0.0
    run = 0
    same = 0
    e = np.nan
    for i in range(n):
        v = x[i]
        if np.isnan(v):
            run = 0
            s = 0.0
            c = 0.0
            out[i] = np.nan
            continue
        same = same + 1 if run > 0 and v == x[i - 1] else 1
        run += 1
        if run < window:
            s, c = _add_nb(s, c, v)
            out[i] = np.nan
        elif run == window:
            s, c = _add_nb(s, c, v)
            e = v if same >= window else (s + c) / window
            out[i] = e
        else:
            e = e + alpha * (v - e)
            out[i] = e


@njit(cache=True)
def ema_1d_nb(x, window, out):
    """Exponential moving average of one series, written into ``out``.

    ``alpha = 2 / (window + 1)``. The first value (bar ``window - 1`` of each run of non-NaN
    values) is the simple mean of the first ``window`` values; after it
    ``ema[i] = alpha * x[i] + (1 - alpha) * ema[i-1]``.

    Reference: a plain loop of that recursion; equivalently
    ``polars.Series.ewm_mean(alpha=alpha, adjust=False)`` over the seed followed by
    ``x[window:]``.
    """
    _ewm_seeded_1d_nb(x, window, 2.0 / (window + 1.0), out)


@njit(cache=True)
def ema_nb(x, window, out):
    """:func:`ema_1d_nb` over each column of ``(n_bars, n_assets)`` ``x``."""
    for j in range(x.shape[1]):
        ema_1d_nb(x[:, j], window, out[:, j])


@njit(cache=True)
def _wma_exact_nb(x, i, window):
    """Exact (compensated) ``sum(x[i-window+1 : i+1])`` and linearly weighted sum."""
    s = 0.0
    cs = 0.0
    w = 0.0
    cw = 0.0
    for k in range(window):
        v = x[i - window + 1 + k]
        s, cs = _add_nb(s, cs, v)
        w, cw = _add_nb(w, cw, (k + 1.0) * v)
    return s + cs, w + cw


@njit(cache=True)
def wma_1d_nb(x, window, out):
    """Linearly weighted moving average of one series, written into ``out``.

    Weights ``1, 2, ..., window`` from the oldest to the newest bar, divided by
    ``window * (window + 1) / 2``. Running sums updated in O(1) per bar and recomputed exactly
    every ``window`` bars.

    Reference: ``polars.Series.rolling_mean(window, weights=[1, ..., window])`` (weights
    normalised), or ``sliding_window_view(x, window) @ w / w.sum()``.
    """
    n = x.shape[0]
    denom = window * (window + 1.0) / 2.0
    s = 0.0
    num = 0.0
    run = 0
    same = 0
    for i in range(n):
        v = x[i]
        if np.isnan(v):
            run = 0
            out[i] = np.nan
            continue
        same = same + 1 if run > 0 and v == x[i - 1] else 1
        run += 1
        if run < window:
            out[i] = np.nan
            continue
        if (run - window) % window == 0:
            s, num = _wma_exact_nb(x, i, window)
        else:
            num = num + window * v - s
            s = s + v - x[i - window]
        out[i] = v if same >= window else num / denom


@njit(cache=True)
def wma_nb(x, window, out):
    """:func:`wma_1d_nb` over each column of ``(n_bars, n_assets)`` ``x``."""
    for j in range(x.shape[1]):
        wma_1d_nb(x[:, j], window, out[:, j])


@njit(cache=True)
def _exact_m2_nb(x, i, window, mean):
    """Corrected two-pass sum of squared deviations of ``x[i-window+1 : i+1]`` about ``mean``."""
    sq = 0.0
    dev = 0.0
    for k in range(i - window + 1, i + 1):
        d = x[k] - mean
        sq += d * d
        dev += d
    return sq - dev * dev / window


@njit(cache=True)
def _rolling_moments_1d_nb(x, window, ddof, k, mode, out_a, out_b, out_c):
    """Rolling mean and standard deviation in one O(n) pass, written according to ``mode``:
    std → ``out_a``; z-score → ``out_a``; Bollinger mid/upper/lower → ``out_a/b/c``.

    The mean is a Neumaier-compensated running sum divided by ``window`` (bit-identical to
    :func:`sma_1d_nb`); the sum of squared deviations uses the Welford add / sliding-window
    update and is recomputed exactly (two-pass) every ``window`` bars.
    """
    n = x.shape[0]
    s = 0.0
    c = 0.0
    mean = 0.0
    m2 = 0.0
    run = 0
    same = 0
    for i in range(n):
        v = x[i]
        if np.isnan(v):
            run = 0
            s = 0.0
            c = 0.0
            mean = 0.0
            m2 = 0.0
            out_a[i] = np.nan
            out_b[i] = np.nan
            out_c[i] = np.nan
            continue
        same = same + 1 if run > 0 and v == x[i - 1] else 1
        run += 1
        old_mean = mean
        s, c = _add_nb(s, c, v)
        if run <= window:
            mean = (s + c) / run
            m2 += (v - old_mean) * (v - mean)
        else:
            y = x[i - window]
            s, c = _add_nb(s, c, -y)
            mean = (s + c) / window
            if (run - window) % window == 0:
                m2 = _exact_m2_nb(x, i, window, mean)
            else:
                m2 += (v - y) * (v - mean + y - old_mean)
        if run < window:
            out_a[i] = np.nan
            out_b[i] = np.nan
            out_c[i] = np.nan
            continue
        if same >= window:
            mu = v
            sd = 0.0
        else:
            mu = mean
            sd = np.sqrt(max(m2, 0.0) / (window - ddof))
        if mode == _MODE_STD:
            out_a[i] = sd
        elif mode == _MODE_ZSCORE:
            out_a[i] = (v - mu) / sd if sd > 0.0 else np.nan
        else:
            out_a[i] = mu
            out_b[i] = mu + k * sd
            out_c[i] = mu - k * sd


@njit(cache=True)
def rolling_std_1d_nb(x, window, ddof, out):
    """Rolling standard deviation of one series with ``ddof`` delta degrees of freedom
    (``ddof=0``: population, ``ddof=1``: sample), written into ``out``. Needs ``ddof < window``.

    Reference: ``polars.Series.rolling_std(window, ddof=ddof)``, or
    ``sliding_window_view(x, window).std(axis=1, ddof=ddof)``.
    """
    _rolling_moments_1d_nb(x, window, ddof, 0.0, _MODE_STD, out, out, out)


@njit(cache=True)
def rolling_std_nb(x, window, ddof, out):
    """:func:`rolling_std_1d_nb` over each column of ``(n_bars, n_assets)`` ``x``."""
    for j in range(x.shape[1]):
        rolling_std_1d_nb(x[:, j], window, ddof, out[:, j])


@njit(cache=True)
def zscore_1d_nb(x, window, ddof, out):
    """Rolling z-score ``(x[i] - mean) / std`` over the window ending at (and including) bar
    ``i``, written into ``out``; NaN where the window's standard deviation is 0.

    Reference: ``(x - rolling_mean(window)) / rolling_std(window, ddof=ddof)`` in polars.
    """
    _rolling_moments_1d_nb(x, window, ddof, 0.0, _MODE_ZSCORE, out, out, out)


@njit(cache=True)
def zscore_nb(x, window, ddof, out):
    """:func:`zscore_1d_nb` over each column of ``(n_bars, n_assets)`` ``x``."""
    for j in range(x.shape[1]):
        zscore_1d_nb(x[:, j], window, ddof, out[:, j])


@njit(cache=True)
def bollinger_1d_nb(close, window, k, ddof, mid, upper, lower):
    """Bollinger bands of one series: ``mid`` = SMA, ``upper/lower = mid ± k * std``.

    Reference: ``rolling_mean(window)`` and ``rolling_std(window, ddof=ddof)`` in polars.
    """
    _rolling_moments_1d_nb(close, window, ddof, k, _MODE_BOLLINGER, mid, upper, lower)


@njit(cache=True)
def bollinger_nb(close, window, k, ddof, mid, upper, lower):
    """:func:`bollinger_1d_nb` over each column of ``(n_bars, n_assets)`` ``close``."""
    for j in range(close.shape[1]):
        bollinger_1d_nb(close[:, j], window, k, ddof, mid[:, j], upper[:, j], lower[:, j])


@njit(cache=True)
def rsi_1d_nb(close, window, out):
    """Relative strength index with Wilder's smoothing, written into ``out``.

    Gains and losses are ``max(±(close[i] - close[i-1]), 0)``. The first averages are the
    simple means of the first ``window`` gains / losses (first RSI at bar ``window`` of a run),
    then ``avg = avg + (g - avg) / window``. ``RSI = 100 * avg_gain / (avg_gain + avg_loss)``
    (equal to ``100 - 100 / (1 + RS)``), 50 when both averages are 0; always in [0, 100].

    Reference: a plain loop of Wilder's recursion (``(prev * (window - 1) + g) / window``).
    """
    n = close.shape[0]
    run = 0
    ag = 0.0
    al = 0.0
    for i in range(n):
        v = close[i]
        if np.isnan(v):
            run = 0
            out[i] = np.nan
            continue
        run += 1
        if run == 1:
            ag = 0.0
            al = 0.0
            out[i] = np.nan
            continue
        d = v - close[i - 1]
        g = d if d > 0.0 else 0.0
        ls = -d if d < 0.0 else 0.0
        m = run - 1  # number of price changes so far in this run
        if m < window:
            ag += g
            al += ls
            out[i] = np.nan
            continue
        if m == window:
            ag = (ag + g) / window
            al = (al + ls) / window
        else:
            ag = ag + (g - ag) / window
            al = al + (ls - al) / window
        tot = ag + al
        out[i] = 100.0 * ag / tot if tot > 0.0 else 50.0


@njit(cache=True)
def rsi_nb(close, window, out):
    """:func:`rsi_1d_nb` over each column of ``(n_bars, n_assets)`` ``close``."""
    for j in range(close.shape[1]):
        rsi_1d_nb(close[:, j], window, out[:, j])


@njit(cache=True)
def atr_1d_nb(high, low, close, window, out):
    """Average true range with Wilder's smoothing, written into ``out``.

    True range ``TR[i] = max(high - low, |high - close[i-1]|, |low - close[i-1]|)``, and
    ``high - low`` on the first bar of a run. The first ATR (bar ``window - 1`` of a run) is the
    mean of the first ``window`` TRs, then ``atr = atr + (TR - atr) / window``. A bar is NaN if
    any of high, low, close is.

    Reference: a plain loop of Wilder's recursion (``(prev * (window - 1) + TR) / window``).
    """
    n = close.shape[0]
    run = 0
    a = 0.0
    for i in range(n):
        h = high[i]
        lo = low[i]
        if np.isnan(h) or np.isnan(lo) or np.isnan(close[i]):
            run = 0
            out[i] = np.nan
            continue
        tr = h - lo
        if run > 0:
            pc = close[i - 1]
            tr = max(tr, abs(h - pc), abs(lo - pc))
        run += 1
        if run < window:
            a = tr if run == 1 else a + tr
            out[i] = np.nan
            continue
        if run == window:
            a = (tr if run == 1 else a + tr) / window
        else:
            a = a + (tr - a) / window
        out[i] = a


@njit(cache=True)
def atr_nb(high, low, close, window, out):
    """:func:`atr_1d_nb` over each column of ``(n_bars, n_assets)`` arrays."""
    for j in range(close.shape[1]):
        atr_1d_nb(high[:, j], low[:, j], close[:, j], window, out[:, j])


@njit(cache=True)
def macd_1d_nb(close, fast, slow, signal, macd_out, signal_out, hist_out):
    """MACD of one series: ``macd = ema(fast) - ema(slow)``, ``signal = ema(macd, signal)``,
    ``hist = macd - signal``, all EMAs as :func:`ema_1d_nb` (SMA-seeded). Needs
    ``fast < slow``; the MACD line starts at bar ``slow - 1`` of a run, the signal line and
    histogram at bar ``slow + signal - 2``. ``hist_out`` is used as scratch.

    Reference: the composition of the plain EMA loop used for :func:`ema_1d_nb`.
    """
    ema_1d_nb(close, fast, macd_out)
    ema_1d_nb(close, slow, hist_out)
    for i in range(close.shape[0]):
        macd_out[i] = macd_out[i] - hist_out[i]
    ema_1d_nb(macd_out, signal, signal_out)
    for i in range(close.shape[0]):
        hist_out[i] = macd_out[i] - signal_out[i]


@njit(cache=True)
def macd_nb(close, fast, slow, signal, macd_out, signal_out, hist_out):
    """:func:`macd_1d_nb` over each column of ``(n_bars, n_assets)`` ``close``."""
    for j in range(close.shape[1]):
        macd_1d_nb(close[:, j], fast, slow, signal, macd_out[:, j], signal_out[:, j], hist_out[:, j])


@njit(cache=True)
def donchian_1d_nb(high, low, window, upper, lower, mid):
    """Donchian channel: ``upper`` = rolling max of ``high``, ``lower`` = rolling min of
    ``low`` over the window ending at (and including) each bar, ``mid = (upper + lower) / 2``.
    A bar is NaN if high or low is. Monotonic deques (ring buffers of ``window`` indices), O(n).

    Reference: ``polars.Series.rolling_max(window)`` / ``rolling_min(window)``.
    """
    n = high.shape[0]
    qmax = np.empty(window, dtype=np.int64)
    qmin = np.empty(window, dtype=np.int64)
    hmax = 0  # head position in the ring, and size, of each deque
    nmax = 0
    hmin = 0
    nmin = 0
    run = 0
    for i in range(n):
        h = high[i]
        lo = low[i]
        if np.isnan(h) or np.isnan(lo):
            run = 0
            nmax = 0
            nmin = 0
            upper[i] = np.nan
            lower[i] = np.nan
            mid[i] = np.nan
            continue
        run += 1
        if nmax > 0 and qmax[hmax] <= i - window:
            hmax = (hmax + 1) % window
            nmax -= 1
        while nmax > 0 and high[qmax[(hmax + nmax - 1) % window]] <= h:
            nmax -= 1
        qmax[(hmax + nmax) % window] = i
        nmax += 1
        if nmin > 0 and qmin[hmin] <= i - window:
            hmin = (hmin + 1) % window
            nmin -= 1
        while nmin > 0 and low[qmin[(hmin + nmin - 1) % window]] >= lo:
            nmin -= 1
        qmin[(hmin + nmin) % window] = i
        nmin += 1
        if run < window:
            upper[i] = np.nan
            lower[i] = np.nan
            mid[i] = np.nan
        else:
            u = high[qmax[hmax]]
            d = low[qmin[hmin]]
            upper[i] = u
            lower[i] = d
            mid[i] = 0.5 * (u + d)


@njit(cache=True)
def donchian_nb(high, low, window, upper, lower, mid):
    """:func:`donchian_1d_nb` over each column of ``(n_bars, n_assets)`` arrays."""
    for j in range(high.shape[1]):
        donchian_1d_nb(high[:, j], low[:, j], window, upper[:, j], lower[:, j], mid[:, j])
