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
    "sma_cross_1d_nb",
    "ema_cross_1d_nb",
]

_MODE_STD = 0
_MODE_ZSCORE = 1
_MODE_BOLLINGER = 2
_EPS = 4.0 * np.finfo(np.float64).eps  # per-operation rounding bound, with margin
_BLOCK = 8  # columns copied per pass: 8 float64 = one 64-byte cache line of a row


@njit(cache=True)
def _load_cols_nb(x, j0, nc, buf):
    """Copy columns ``j0 .. j0+nc-1`` of ``(n_bars, n_assets)`` ``x`` into rows of ``buf``,
    reading ``x`` row by row, so 2-D kernels run the contiguous 1-D kernels on each column."""
    for i in range(x.shape[0]):
        for jj in range(nc):
            buf[jj, i] = x[i, j0 + jj]


@njit(cache=True)
def _store_cols_nb(buf, j0, nc, out):
    """Inverse of :func:`_load_cols_nb`: rows of ``buf`` into columns ``j0 ..`` of ``out``."""
    for i in range(out.shape[0]):
        for jj in range(nc):
            out[i, j0 + jj] = buf[jj, i]


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
    """:func:`sma_1d_nb` over each column of ``(n_bars, n_assets)`` ``x``.

    Blocks of columns go through contiguous buffers (see :func:`_load_cols_nb`).
    """
    n, m = x.shape
    width = min(m, _BLOCK)
    b_x = np.empty((width, n))
    b_out = np.empty((width, n))
    for j0 in range(0, m, width):
        nc = min(width, m - j0)
        _load_cols_nb(x, j0, nc, b_x)
        for jj in range(nc):
            sma_1d_nb(b_x[jj], window, b_out[jj])
        _store_cols_nb(b_out, j0, nc, out)


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
    """:func:`ema_1d_nb` over each column of ``(n_bars, n_assets)`` ``x``.

    Blocks of columns go through contiguous buffers (see :func:`_load_cols_nb`).
    """
    n, m = x.shape
    width = min(m, _BLOCK)
    b_x = np.empty((width, n))
    b_out = np.empty((width, n))
    for j0 in range(0, m, width):
        nc = min(width, m - j0)
        _load_cols_nb(x, j0, nc, b_x)
        for jj in range(nc):
            ema_1d_nb(b_x[jj], window, b_out[jj])
        _store_cols_nb(b_out, j0, nc, out)


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
    """:func:`wma_1d_nb` over each column of ``(n_bars, n_assets)`` ``x``.

    Blocks of columns go through contiguous buffers (see :func:`_load_cols_nb`).
    """
    n, m = x.shape
    width = min(m, _BLOCK)
    b_x = np.empty((width, n))
    b_out = np.empty((width, n))
    for j0 in range(0, m, width):
        nc = min(width, m - j0)
        _load_cols_nb(x, j0, nc, b_x)
        for jj in range(nc):
            wma_1d_nb(b_x[jj], window, b_out[jj])
        _store_cols_nb(b_out, j0, nc, out)


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
    :func:`sma_1d_nb`). The sum of squared deviations ``m2`` is computed exactly (corrected
    two-pass) when a window first fills and every ``window`` bars, and in between by the
    sliding Welford update, whose rounding error is bounded as it accumulates: when the bound
    exceeds ``1e-11 * m2`` (the variance collapsed after a large move) ``m2`` is recomputed.
    """
    n = x.shape[0]
    s = 0.0
    c = 0.0
    mean = 0.0
    m2 = 0.0
    err = 0.0
    y = 0.0
    run = 0
    same = 0
    for i in range(n):
        v = x[i]
        if np.isnan(v):
            run = 0
            s = 0.0
            c = 0.0
            out_a[i] = np.nan
            out_b[i] = np.nan
            out_c[i] = np.nan
            continue
        same = same + 1 if run > 0 and v == x[i - 1] else 1
        run += 1
        s, c = _add_nb(s, c, v)
        if run < window:
            out_a[i] = np.nan
            out_b[i] = np.nan
            out_c[i] = np.nan
            continue
        old_mean = mean
        if run > window:
            y = x[i - window]
            s, c = _add_nb(s, c, -y)
        mean = (s + c) / window
        if same >= window:
            m2 = 0.0
            err = 0.0
        elif (run - window) % window == 0:
            m2 = _exact_m2_nb(x, i, window, mean)
            err = 0.0
        else:
            m2 += (v - y) * (v - mean + y - old_mean)
            scale = abs(v) + abs(y) + abs(mean) + abs(old_mean)
            err += _EPS * (abs(v - y) * scale + abs(m2))
            if err > 1e-11 * m2:
                m2 = _exact_m2_nb(x, i, window, mean)
                err = 0.0
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
    """:func:`rolling_std_1d_nb` over each column of ``(n_bars, n_assets)`` ``x``.

    Blocks of columns go through contiguous buffers (see :func:`_load_cols_nb`).
    """
    n, m = x.shape
    width = min(m, _BLOCK)
    b_x = np.empty((width, n))
    b_out = np.empty((width, n))
    for j0 in range(0, m, width):
        nc = min(width, m - j0)
        _load_cols_nb(x, j0, nc, b_x)
        for jj in range(nc):
            rolling_std_1d_nb(b_x[jj], window, ddof, b_out[jj])
        _store_cols_nb(b_out, j0, nc, out)


@njit(cache=True)
def zscore_1d_nb(x, window, ddof, out):
    """Rolling z-score ``(x[i] - mean) / std`` over the window ending at (and including) bar
    ``i``, written into ``out``; NaN where the window's standard deviation is 0.

    Reference: ``(x - rolling_mean(window)) / rolling_std(window, ddof=ddof)`` in polars.
    """
    _rolling_moments_1d_nb(x, window, ddof, 0.0, _MODE_ZSCORE, out, out, out)


@njit(cache=True)
def zscore_nb(x, window, ddof, out):
    """:func:`zscore_1d_nb` over each column of ``(n_bars, n_assets)`` ``x``.

    Blocks of columns go through contiguous buffers (see :func:`_load_cols_nb`).
    """
    n, m = x.shape
    width = min(m, _BLOCK)
    b_x = np.empty((width, n))
    b_out = np.empty((width, n))
    for j0 in range(0, m, width):
        nc = min(width, m - j0)
        _load_cols_nb(x, j0, nc, b_x)
        for jj in range(nc):
            zscore_1d_nb(b_x[jj], window, ddof, b_out[jj])
        _store_cols_nb(b_out, j0, nc, out)


@njit(cache=True)
def bollinger_1d_nb(close, window, k, ddof, mid, upper, lower):
    """Bollinger bands of one series: ``mid`` = SMA, ``upper/lower = mid ± k * std``.

    Reference: ``rolling_mean(window)`` and ``rolling_std(window, ddof=ddof)`` in polars.
    """
    _rolling_moments_1d_nb(close, window, ddof, k, _MODE_BOLLINGER, mid, upper, lower)


@njit(cache=True)
def bollinger_nb(close, window, k, ddof, mid, upper, lower):
    """:func:`bollinger_1d_nb` over each column of ``(n_bars, n_assets)`` ``close``.

    Blocks of columns go through contiguous buffers (see :func:`_load_cols_nb`).
    """
    n, m = close.shape
    width = min(m, _BLOCK)
    b_close = np.empty((width, n))
    b_mid = np.empty((width, n))
    b_upper = np.empty((width, n))
    b_lower = np.empty((width, n))
    for j0 in range(0, m, width):
        nc = min(width, m - j0)
        _load_cols_nb(close, j0, nc, b_close)
        for jj in range(nc):
            bollinger_1d_nb(b_close[jj], window, k, ddof, b_mid[jj], b_upper[jj], b_lower[jj])
        _store_cols_nb(b_mid, j0, nc, mid)
        _store_cols_nb(b_upper, j0, nc, upper)
        _store_cols_nb(b_lower, j0, nc, lower)


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
        out[i] = 100.0 * (ag / tot) if tot > 0.0 else 50.0


@njit(cache=True)
def rsi_nb(close, window, out):
    """:func:`rsi_1d_nb` over each column of ``(n_bars, n_assets)`` ``close``.

    Blocks of columns go through contiguous buffers (see :func:`_load_cols_nb`).
    """
    n, m = close.shape
    width = min(m, _BLOCK)
    b_close = np.empty((width, n))
    b_out = np.empty((width, n))
    for j0 in range(0, m, width):
        nc = min(width, m - j0)
        _load_cols_nb(close, j0, nc, b_close)
        for jj in range(nc):
            rsi_1d_nb(b_close[jj], window, b_out[jj])
        _store_cols_nb(b_out, j0, nc, out)


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
    """:func:`atr_1d_nb` over each column of ``(n_bars, n_assets)`` arrays.

    Blocks of columns go through contiguous buffers (see :func:`_load_cols_nb`).
    """
    n, m = high.shape
    width = min(m, _BLOCK)
    b_high = np.empty((width, n))
    b_low = np.empty((width, n))
    b_close = np.empty((width, n))
    b_out = np.empty((width, n))
    for j0 in range(0, m, width):
        nc = min(width, m - j0)
        _load_cols_nb(high, j0, nc, b_high)
        _load_cols_nb(low, j0, nc, b_low)
        _load_cols_nb(close, j0, nc, b_close)
        for jj in range(nc):
            atr_1d_nb(b_high[jj], b_low[jj], b_close[jj], window, b_out[jj])
        _store_cols_nb(b_out, j0, nc, out)


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
    """:func:`macd_1d_nb` over each column of ``(n_bars, n_assets)`` ``close``.

    Blocks of columns go through contiguous buffers (see :func:`_load_cols_nb`).
    """
    n, m = close.shape
    width = min(m, _BLOCK)
    b_close = np.empty((width, n))
    b_macd_out = np.empty((width, n))
    b_signal_out = np.empty((width, n))
    b_hist_out = np.empty((width, n))
    for j0 in range(0, m, width):
        nc = min(width, m - j0)
        _load_cols_nb(close, j0, nc, b_close)
        for jj in range(nc):
            macd_1d_nb(
                b_close[jj], fast, slow, signal, b_macd_out[jj], b_signal_out[jj], b_hist_out[jj]
            )
        _store_cols_nb(b_macd_out, j0, nc, macd_out)
        _store_cols_nb(b_signal_out, j0, nc, signal_out)
        _store_cols_nb(b_hist_out, j0, nc, hist_out)


@njit(cache=True, inline="always")
def _deque_push_nb(a, q, head, size, i, window, sign):
    """Push bar ``i`` on the monotonic deque ``q`` (a ring of ``window`` indices starting at
    ``head``) whose front is the index of the max (``sign=1``) or min (``sign=-1``) of
    ``a`` over the last ``window`` bars; returns the new ``head, size``."""
    if size > 0 and q[head] <= i - window:  # the front left the window
        head = head + 1 if head + 1 < window else 0
        size -= 1
    v = sign * a[i]
    while size > 0:
        back = head + size - 1
        if back >= window:
            back -= window
        if sign * a[q[back]] > v:
            break
        size -= 1
    pos = head + size
    if pos >= window:
        pos -= window
    q[pos] = i
    return head, size + 1


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
        hmax, nmax = _deque_push_nb(high, qmax, hmax, nmax, i, window, 1.0)
        hmin, nmin = _deque_push_nb(low, qmin, hmin, nmin, i, window, -1.0)
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
    """:func:`donchian_1d_nb` over each column of ``(n_bars, n_assets)`` arrays.

    Blocks of columns go through contiguous buffers (see :func:`_load_cols_nb`).
    """
    n, m = high.shape
    width = min(m, _BLOCK)
    b_high = np.empty((width, n))
    b_low = np.empty((width, n))
    b_upper = np.empty((width, n))
    b_lower = np.empty((width, n))
    b_mid = np.empty((width, n))
    for j0 in range(0, m, width):
        nc = min(width, m - j0)
        _load_cols_nb(high, j0, nc, b_high)
        _load_cols_nb(low, j0, nc, b_low)
        for jj in range(nc):
            donchian_1d_nb(b_high[jj], b_low[jj], window, b_upper[jj], b_lower[jj], b_mid[jj])
        _store_cols_nb(b_upper, j0, nc, upper)
        _store_cols_nb(b_lower, j0, nc, lower)
        _store_cols_nb(b_mid, j0, nc, mid)


# -- moving-average crossings: both averages and their crossings in one call --------------------

@njit(cache=True, inline="always")
def _crossings_1d_nb(a, b, up, down):
    """``up[i]``: ``a`` goes from ``<= b`` at ``i-1`` to ``> b`` at ``i``; ``down[i]``: from
    ``>= b`` to ``< b`` (a comparison with NaN is False, so a NaN on either bar gives False)."""
    up[0] = False
    down[0] = False
    for i in range(1, a.shape[0]):
        up[i] = a[i] > b[i] and a[i - 1] <= b[i - 1]
        down[i] = a[i] < b[i] and a[i - 1] >= b[i - 1]


@njit(cache=True)
def sma_cross_1d_nb(x, fast, slow, up, down):
    """Where :func:`sma_1d_nb` of ``x`` over ``fast`` bars crosses above (``up``) and below
    (``down``) the one over ``slow`` bars (boolean outputs of the length of ``x``).

    Reference: ``crossed_above(sma(x, fast), sma(x, slow))`` and ``crossed_below`` of the same.
    """
    f, s = np.empty_like(x), np.empty_like(x)
    sma_1d_nb(x, fast, f)
    sma_1d_nb(x, slow, s)
    _crossings_1d_nb(f, s, up, down)


@njit(cache=True)
def ema_cross_1d_nb(x, fast, slow, up, down):
    """:func:`sma_cross_1d_nb` with :func:`ema_1d_nb` averages.

    Reference: ``crossed_above(ema(x, fast), ema(x, slow))`` and ``crossed_below`` of the same.
    """
    f, s = np.empty_like(x), np.empty_like(x)
    ema_1d_nb(x, fast, f)
    ema_1d_nb(x, slow, s)
    _crossings_1d_nb(f, s, up, down)
