"""Technical indicators over one series or the columns of a ``(n_bars, n_assets)`` array.

Every function accepts a 1-D or 2-D numpy array, a polars Series (1-D) or a polars DataFrame of
numeric columns (2-D, one column per asset), validates it, runs a Numba kernel of
:mod:`workbench.nb.indicators_nb` and returns float64 numpy arrays of the input's shape.

Shared conventions:

* **Warm-up** bars, before an indicator has a full window, are NaN.
* **Gaps**: NaN (or a polars null) is a gap. Each indicator is computed separately on every
  run of consecutive non-NaN bars: a rolling window containing a NaN gives NaN, and recursive
  indicators (EMA, RSI, ATR, MACD) are re-seeded after a gap. ``±inf`` is rejected.
* **Windows** include the current bar: ``sma(x, 3)[i]`` averages ``x[i-2], x[i-1], x[i]``.
  Shift the result by one bar to use it as a signal for the next bar's decision.

Examples
--------
>>> import numpy as np
>>> from workbench.indicators import sma
>>> sma(np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]), 2)
array([[ nan,  nan],
       [ 1.5, 15. ],
       [ 2.5, 25. ]])
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from workbench._validate import check_int, check_number
from workbench.errors import DataValidationError, InvalidParameterError
from workbench.nb import indicators_nb as _nb

__all__ = [
    "sma",
    "ema",
    "wma",
    "rolling_std",
    "zscore",
    "rsi",
    "atr",
    "bollinger",
    "macd",
    "donchian",
    "crossed_above",
    "crossed_below",
    "ma_crossings",
    "Bollinger",
    "MACD",
    "Donchian",
]

ArrayInput = Any
"""A 1-D/2-D numeric numpy array (or array-like), a polars Series or a numeric DataFrame."""


class Bollinger(NamedTuple):
    """Bollinger bands: middle band (SMA), upper and lower bands (``mid ± k * std``)."""

    mid: np.ndarray
    upper: np.ndarray
    lower: np.ndarray


class MACD(NamedTuple):
    """MACD line (fast EMA - slow EMA), its signal line (EMA of the MACD) and the histogram."""

    macd: np.ndarray
    signal: np.ndarray
    hist: np.ndarray


class Donchian(NamedTuple):
    """Donchian channel: rolling max of high, rolling min of low, and their midpoint."""

    upper: np.ndarray
    lower: np.ndarray
    mid: np.ndarray


def _to_numpy(name: str, x: ArrayInput) -> np.ndarray:
    """``x`` as a numpy array of numbers (polars nulls become NaN), or a clear error."""
    if isinstance(x, pl.Series):
        if not x.dtype.is_numeric():
            raise DataValidationError(
                f"`{name}` must hold numbers; got a polars Series of dtype {x.dtype}. "
                "Cast it with `.cast(pl.Float64)`."
            )
        return x.cast(pl.Float64).to_numpy()
    if isinstance(x, pl.DataFrame):
        bad = [c for c, t in x.schema.items() if not t.is_numeric()]
        if bad:
            raise DataValidationError(
                f"`{name}` must have numeric columns only; got non-numeric column(s) {bad}. "
                "Select the price columns first."
            )
        return x.cast(pl.Float64).to_numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"`{name}` must be a 1-D or 2-D array of numbers; got {type(x).__name__} ({exc})."
        ) from None
    if arr.dtype.kind not in "iuf":
        raise DataValidationError(
            f"`{name}` must hold numbers; got an array of dtype {arr.dtype}. "
            "Convert it with `.astype(float)`."
        )
    return arr


def _as_float(name: str, x: ArrayInput) -> np.ndarray:
    """Validate ``x`` and return it as a C-contiguous float64 array of shape (n,) or (n, m)."""
    arr = _to_numpy(name, x)
    if arr.ndim not in (1, 2):
        raise DataValidationError(
            f"`{name}` must be 1-D (one series) or 2-D (n_bars, n_assets); got shape {arr.shape}."
        )
    if arr.size == 0:
        raise DataValidationError(f"`{name}` must hold at least one bar; got shape {arr.shape}.")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    inf = np.isinf(arr)
    if inf.any():
        where = tuple(int(i) for i in np.argwhere(inf)[0])
        pos = where[0] if arr.ndim == 1 else where
        raise DataValidationError(
            f"`{name}` must not contain inf; got {arr[where]} at position {pos}. "
            "Replace it with NaN (a gap) or a finite value."
        )
    return arr


def _as_floats(**inputs: ArrayInput) -> list[np.ndarray]:
    """Several inputs converted with :func:`_as_float` and checked to share one shape."""
    arrays = [_as_float(name, x) for name, x in inputs.items()]
    names = list(inputs)
    for name, arr in zip(names[1:], arrays[1:], strict=True):
        if arr.shape != arrays[0].shape:
            raise DataValidationError(
                f"`{name}` must have the shape of `{names[0]}` {arrays[0].shape}; got {arr.shape}. "
                "Pass aligned arrays (same bars, same assets)."
            )
    return arrays


def _window(name: str, value: Any, n_bars: int, lo: int = 1) -> int:
    """``value`` as an int in ``[lo, n_bars]``, or an error naming ``name``."""
    if n_bars < lo:
        raise DataValidationError(
            f"the input has {n_bars} bar(s) but `{name}` needs at least {lo}; pass a longer series."
        )
    return check_int(name, value, lo, n_bars, hint=f"The input has {n_bars} bars.")


def _ddof(value: Any, window: int) -> int:
    return check_int("ddof", value, 0, window - 1, hint="It must be smaller than `window`.")


def _run(kernel_1d: Any, kernel_2d: Any, arrays: list[np.ndarray], scalars: tuple, n_out: int):
    """Allocate ``n_out`` outputs like ``arrays[0]`` and call the 1-D or 2-D kernel. A single
    column goes to the 1-D kernel as column views (the 2-D kernels run it on each column, so the
    result is the same, and a single-asset run does not compile the 2-D kernel)."""
    outs = tuple(np.empty_like(arrays[0]) for _ in range(n_out))
    if arrays[0].ndim == 2 and arrays[0].shape[1] == 1:
        kernel_1d(*(a[:, 0] for a in arrays), *scalars, *(o[:, 0] for o in outs))
    else:
        kernel = kernel_1d if arrays[0].ndim == 1 else kernel_2d
        kernel(*arrays, *scalars, *outs)
    return outs


def sma(x: ArrayInput, window: int) -> np.ndarray:
    """Simple moving average over the last ``window`` bars.

    Parameters
    ----------
    x
        Series (1-D) or ``(n_bars, n_assets)`` array; NaN marks a gap.
    window
        Number of bars, an integer in ``[1, n_bars]``.

    Returns
    -------
    numpy.ndarray
        float64, shape of ``x``; NaN for the first ``window - 1`` bars and any window with a NaN.

    Raises
    ------
    DataValidationError
        ``x`` is not a 1-D/2-D numeric array, is empty or contains inf.
    InvalidParameterError
        ``window`` is not an integer in ``[1, n_bars]``.

    Examples
    --------
    >>> import numpy as np
    >>> sma(np.array([1.0, 2.0, 3.0, 4.0]), 2)
    array([nan, 1.5, 2.5, 3.5])
    """
    (a,) = _as_floats(x=x)
    w = _window("window", window, a.shape[0])
    return _run(_nb.sma_1d_nb, _nb.sma_nb, [a], (w,), 1)[0]


def ema(x: ArrayInput, window: int) -> np.ndarray:
    """Exponential moving average with ``alpha = 2 / (window + 1)``, seeded with the SMA.

    The first value (bar ``window - 1``) is the simple mean of the first ``window`` bars; after
    it ``ema[i] = alpha * x[i] + (1 - alpha) * ema[i-1]``. Seeding with the SMA (as TA-Lib
    does) instead of with ``x[0]`` (pandas' ``ewm(adjust=False)``, vectorbt's ``MA(ewm=True)``)
    makes the early values independent of the first bar alone; the two converge as
    ``(1 - alpha) ** bars``.

    Parameters
    ----------
    x
        Series (1-D) or ``(n_bars, n_assets)`` array; NaN marks a gap (the EMA restarts after it).
    window
        Span, an integer in ``[1, n_bars]``; ``window=1`` returns ``x``.

    Returns
    -------
    numpy.ndarray
        float64, shape of ``x``; NaN for the first ``window - 1`` bars.

    Raises
    ------
    DataValidationError
        ``x`` is not a 1-D/2-D numeric array, is empty or contains inf.
    InvalidParameterError
        ``window`` is not an integer in ``[1, n_bars]``.

    Examples
    --------
    >>> import numpy as np
    >>> ema(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 3)  # alpha = 0.5, seed = mean(1, 2, 3)
    array([nan, nan,  2.,  3.,  4.])
    """
    (a,) = _as_floats(x=x)
    w = _window("window", window, a.shape[0])
    return _run(_nb.ema_1d_nb, _nb.ema_nb, [a], (w,), 1)[0]


def wma(x: ArrayInput, window: int) -> np.ndarray:
    """Linearly weighted moving average: weights ``1, ..., window`` from oldest to newest bar.

    Parameters
    ----------
    x
        Series (1-D) or ``(n_bars, n_assets)`` array; NaN marks a gap.
    window
        Number of bars, an integer in ``[1, n_bars]``.

    Returns
    -------
    numpy.ndarray
        float64, shape of ``x``; NaN for the first ``window - 1`` bars and any window with a NaN.

    Raises
    ------
    DataValidationError
        ``x`` is not a 1-D/2-D numeric array, is empty or contains inf.
    InvalidParameterError
        ``window`` is not an integer in ``[1, n_bars]``.

    Examples
    --------
    >>> import numpy as np
    >>> wma(np.array([1.0, 2.0, 4.0, 7.0]), 3)  # (1*1 + 2*2 + 3*4) / 6, (2 + 8 + 21) / 6
    array([       nan,        nan, 2.83333333, 5.16666667])
    """
    (a,) = _as_floats(x=x)
    w = _window("window", window, a.shape[0])
    return _run(_nb.wma_1d_nb, _nb.wma_nb, [a], (w,), 1)[0]


def rolling_std(x: ArrayInput, window: int, *, ddof: int = 0) -> np.ndarray:
    """Rolling standard deviation over the last ``window`` bars.

    Parameters
    ----------
    x
        Series (1-D) or ``(n_bars, n_assets)`` array; NaN marks a gap.
    window
        Number of bars, an integer in ``[1, n_bars]`` and greater than ``ddof``.
    ddof
        Delta degrees of freedom: the divisor is ``window - ddof``. ``0`` (default) is the
        population standard deviation (``numpy.std``, pandas ``std(ddof=0)``, vectorbt's
        ``MSTD``); ``1`` is the sample one (the default of pandas and polars).

    Returns
    -------
    numpy.ndarray
        float64, shape of ``x``; NaN for the first ``window - 1`` bars and any window with a NaN;
        exactly 0 for a window of equal values.

    Raises
    ------
    DataValidationError
        ``x`` is not a 1-D/2-D numeric array, is empty or contains inf.
    InvalidParameterError
        ``window`` is not an integer in ``[1, n_bars]``, or ``ddof`` not in ``[0, window - 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> rolling_std(np.array([1.0, 3.0, 3.0, 3.0]), 2)
    array([nan,  1.,  0.,  0.])
    >>> rolling_std(np.array([1.0, 3.0, 5.0]), 3, ddof=1)
    array([nan, nan,  2.])
    """
    (a,) = _as_floats(x=x)
    w = _window("window", window, a.shape[0])
    d = _ddof(ddof, w)
    return _run(_nb.rolling_std_1d_nb, _nb.rolling_std_nb, [a], (w, d), 1)[0]


def zscore(x: ArrayInput, window: int, *, ddof: int = 0) -> np.ndarray:
    """Rolling z-score ``(x - sma(x, window)) / rolling_std(x, window, ddof=ddof)``.

    The window includes the current bar. Where the window's standard deviation is 0 (all
    values equal) the z-score is NaN.

    Parameters
    ----------
    x
        Series (1-D) or ``(n_bars, n_assets)`` array; NaN marks a gap.
    window
        Number of bars, an integer in ``[2, n_bars]`` and greater than ``ddof``.
    ddof
        Delta degrees of freedom of the standard deviation (see :func:`rolling_std`).

    Returns
    -------
    numpy.ndarray
        float64, shape of ``x``; NaN for the first ``window - 1`` bars, windows with a NaN and
        flat windows.

    Raises
    ------
    DataValidationError
        ``x`` is not a 1-D/2-D numeric array, is empty, contains inf or has fewer than 2 bars.
    InvalidParameterError
        ``window`` is not an integer in ``[2, n_bars]``, or ``ddof`` not in ``[0, window - 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> zscore(np.array([1.0, 3.0, 3.0, 5.0]), 2)
    array([nan,  1., nan,  1.])
    """
    (a,) = _as_floats(x=x)
    w = _window("window", window, a.shape[0], lo=2)
    d = _ddof(ddof, w)
    return _run(_nb.zscore_1d_nb, _nb.zscore_nb, [a], (w, d), 1)[0]


def rsi(close: ArrayInput, window: int = 14) -> np.ndarray:
    """Relative strength index with Wilder's smoothing (``alpha = 1 / window``).

    The first averages of gains and losses are the simple means of the first ``window`` price
    changes (so the first RSI is at bar ``window``), then
    ``avg = (avg * (window - 1) + change) / window``.
    ``RSI = 100 - 100 / (1 + avg_gain / avg_loss)``: 100 when there are no losses, 50 when the
    price did not move at all; always in [0, 100]. vectorbt's ``RSI`` defaults to simple means
    (Cutler's RSI); its ``ewm=True`` uses ``alpha = 2 / (window + 1)`` seeded at the first bar.

    Parameters
    ----------
    close
        Close prices, series (1-D) or ``(n_bars, n_assets)``; NaN marks a gap.
    window
        Smoothing length, an integer in ``[1, n_bars - 1]``.

    Returns
    -------
    numpy.ndarray
        float64, shape of ``close``; NaN for the first ``window`` bars.

    Raises
    ------
    DataValidationError
        ``close`` is not a 1-D/2-D numeric array, contains inf or has fewer than 2 bars.
    InvalidParameterError
        ``window`` is not an integer in ``[1, n_bars - 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> rsi(np.array([1.0, 2.0, 1.0, 1.0, 3.0]), 2)  # gains 1, 0, 0, 2; losses 0, 1, 0, 0
    array([nan, nan, 50., 50., 90.])
    """
    (a,) = _as_floats(close=close)
    n = a.shape[0]
    if n < 2:
        raise DataValidationError(f"`close` must hold at least 2 bars for an RSI; got {n}.")
    w = check_int("window", window, 1, n - 1, hint=f"RSI needs window + 1 bars; the input has {n}.")
    return _run(_nb.rsi_1d_nb, _nb.rsi_nb, [a], (w,), 1)[0]


def atr(high: ArrayInput, low: ArrayInput, close: ArrayInput, window: int = 14) -> np.ndarray:
    """Average true range with Wilder's smoothing (``alpha = 1 / window``).

    ``TR = max(high - low, |high - prev_close|, |low - prev_close|)`` (``high - low`` on the
    first bar). The first ATR, at bar ``window - 1``, is the mean of the first ``window`` TRs;
    then ``atr = (atr * (window - 1) + TR) / window``. vectorbt's ``ATR(ewm=True)`` uses
    ``alpha = 2 / (window + 1)`` seeded at the first bar instead.

    Parameters
    ----------
    high, low, close
        Bar prices, all of the same shape (1-D or ``(n_bars, n_assets)``); a bar with a NaN in
        any of them is a gap.
    window
        Smoothing length, an integer in ``[1, n_bars]``.

    Returns
    -------
    numpy.ndarray
        float64, shape of ``close``; NaN for the first ``window - 1`` bars.

    Raises
    ------
    DataValidationError
        An input is not a 1-D/2-D numeric array, contains inf, or the shapes differ.
    InvalidParameterError
        ``window`` is not an integer in ``[1, n_bars]``.

    Examples
    --------
    >>> import numpy as np
    >>> high, low = np.array([11.0, 12.0, 13.0]), np.array([9.0, 10.0, 10.0])
    >>> close = np.array([10.0, 11.0, 12.0])
    >>> atr(high, low, close, 2)  # TR = 2, 2, 3
    array([nan, 2. , 2.5])
    """
    h, lo, c = _as_floats(high=high, low=low, close=close)
    w = _window("window", window, c.shape[0])
    return _run(_nb.atr_1d_nb, _nb.atr_nb, [h, lo, c], (w,), 1)[0]


def bollinger(close: ArrayInput, window: int = 20, *, k: float = 2.0, ddof: int = 0) -> Bollinger:
    """Bollinger bands: ``mid = sma(close, window)``, ``upper/lower = mid ± k * std``.

    Parameters
    ----------
    close
        Prices, series (1-D) or ``(n_bars, n_assets)``; NaN marks a gap.
    window
        Number of bars, an integer in ``[1, n_bars]`` and greater than ``ddof``.
    k
        Width of the bands in standard deviations, a finite float ≥ 0.
    ddof
        Delta degrees of freedom of the standard deviation: 0 (population, as in Bollinger's
        definition and vectorbt's ``BBANDS``) or more (see :func:`rolling_std`).

    Returns
    -------
    Bollinger
        Named tuple ``(mid, upper, lower)`` of float64 arrays shaped like ``close``.

    Raises
    ------
    DataValidationError
        ``close`` is not a 1-D/2-D numeric array, is empty or contains inf.
    InvalidParameterError
        ``window``, ``k`` or ``ddof`` is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> mid, upper, lower = bollinger(np.array([1.0, 3.0, 5.0]), 2, k=1.0)
    >>> mid, upper, lower
    (array([nan,  2.,  4.]), array([nan,  3.,  5.]), array([nan,  1.,  3.]))
    """
    (a,) = _as_floats(close=close)
    w = _window("window", window, a.shape[0])
    kk = check_number("k", k, 0)
    if not math.isfinite(kk):
        raise InvalidParameterError(f"`k` must be a finite float in [0, inf); got {k!r}.")
    d = _ddof(ddof, w)
    return Bollinger(*_run(_nb.bollinger_1d_nb, _nb.bollinger_nb, [a], (w, kk, d), 3))


def macd(close: ArrayInput, *, fast: int = 12, slow: int = 26, signal: int = 9) -> MACD:
    """Moving average convergence/divergence from SMA-seeded EMAs (see :func:`ema`).

    ``macd = ema(close, fast) - ema(close, slow)`` (first value at bar ``slow - 1``),
    ``signal = ema(macd, signal)`` (first value at bar ``slow + signal - 2``),
    ``hist = macd - signal``. vectorbt's ``MACD`` defaults to simple moving averages; with
    ``macd_ewm=signal_ewm=True`` its EMAs are seeded at the first bar, converging to these.

    Parameters
    ----------
    close
        Prices, series (1-D) or ``(n_bars, n_assets)``; NaN marks a gap.
    fast, slow
        EMA spans, integers with ``1 <= fast < slow <= n_bars``.
    signal
        Span of the signal line, an integer ≥ 1 with ``slow + signal - 1 <= n_bars``.

    Returns
    -------
    MACD
        Named tuple ``(macd, signal, hist)`` of float64 arrays shaped like ``close``.

    Raises
    ------
    DataValidationError
        ``close`` is not a 1-D/2-D numeric array, contains inf or has fewer than 2 bars.
    InvalidParameterError
        ``fast``, ``slow`` or ``signal`` is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> line, sig, hist = macd(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), fast=1, slow=3, signal=2)
    >>> line  # x - ema3: ema3 = 2, 3, 4 from bar 2
    array([nan, nan,  1.,  1.,  1.])
    >>> hist
    array([nan, nan, nan,  0.,  0.])
    """
    (a,) = _as_floats(close=close)
    n = a.shape[0]
    s = _window("slow", slow, n, lo=2)
    f = check_int("fast", fast, 1, s - 1, hint="`fast` must be shorter than `slow`.")
    g = check_int(
        "signal", signal, 1, n - s + 1, hint=f"The signal line needs slow + signal - 1 <= {n} bars."
    )
    return MACD(*_run(_nb.macd_1d_nb, _nb.macd_nb, [a], (f, s, g), 3))


def donchian(high: ArrayInput, low: ArrayInput, window: int = 20) -> Donchian:
    """Donchian channel: highest high and lowest low of the last ``window`` bars, and midpoint.

    The window includes the current bar, so ``lower <= low <= high <= upper`` on every bar; for
    a breakout rule compare the price with the previous bar's channel.

    Parameters
    ----------
    high, low
        Bar prices of the same shape (1-D or ``(n_bars, n_assets)``); a NaN in either is a gap.
    window
        Number of bars, an integer in ``[1, n_bars]``.

    Returns
    -------
    Donchian
        Named tuple ``(upper, lower, mid)`` of float64 arrays shaped like ``high``.

    Raises
    ------
    DataValidationError
        An input is not a 1-D/2-D numeric array, contains inf, or the shapes differ.
    InvalidParameterError
        ``window`` is not an integer in ``[1, n_bars]``.

    Examples
    --------
    >>> import numpy as np
    >>> upper, lower, mid = donchian(np.array([3.0, 5.0, 4.0]), np.array([1.0, 2.0, 2.0]), 2)
    >>> upper, lower, mid
    (array([nan,  5.,  5.]), array([nan,  1.,  2.]), array([nan,  3. ,  3.5]))
    """
    h, lo = _as_floats(high=high, low=low)
    w = _window("window", window, h.shape[0])
    return Donchian(*_run(_nb.donchian_1d_nb, _nb.donchian_nb, [h, lo], (w,), 3))


# -- crossings -----------------------------------------------------------------------------------

def crossed_above(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """True at bar *t* when ``a`` goes from ``<= b`` at *t-1* to ``> b`` at *t* (NaN: False).

    >>> crossed_above(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])).tolist()
    [False, False, True]
    """
    a, b = _pair(a, b)
    out = np.zeros(a.shape, dtype=np.bool_)
    with np.errstate(invalid="ignore"):
        out[1:] = (a[1:] > b[1:]) & (a[:-1] <= b[:-1])
    return out


def crossed_below(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """True at bar *t* when ``a`` goes from ``>= b`` at *t-1* to ``< b`` at *t* (NaN: False).

    >>> crossed_below(np.array([3.0, 2.0, 1.0]), 2.0).tolist()
    [False, False, True]
    """
    a, b = _pair(a, b)
    out = np.zeros(a.shape, dtype=np.bool_)
    with np.errstate(invalid="ignore"):
        out[1:] = (a[1:] < b[1:]) & (a[:-1] >= b[:-1])
    return out


def _pair(a: np.ndarray, b: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """``a`` as float64 and ``b`` as float64 broadcast to its shape (as they are when they match)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return a, (b if b.shape == a.shape else np.broadcast_to(b, a.shape))


_CROSSINGS = {"sma": (_nb.sma_cross_1d_nb, sma), "ema": (_nb.ema_cross_1d_nb, ema)}  # one series, several


def ma_crossings(x: ArrayInput, fast: int, slow: int, *, kind: str = "sma") -> tuple[np.ndarray, np.ndarray]:
    """Where the ``fast`` moving average of ``x`` crosses above and below the ``slow`` one.

    Equal to ``crossed_above(ma(x, fast), ma(x, slow))`` and ``crossed_below`` of the same, with
    ``ma`` :func:`sma` or :func:`ema` (``kind``); a single series is computed in one kernel call
    (both averages and both crossings).

    Parameters
    ----------
    x
        Series (1-D) or ``(n_bars, n_assets)`` array; NaN marks a gap.
    fast, slow
        Windows, integers in ``[1, n_bars]``.
    kind
        ``"sma"`` or ``"ema"``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(up, down)``, boolean, shape of ``x``.

    Raises
    ------
    DataValidationError
        ``x`` is not a 1-D/2-D numeric array, is empty or contains inf.
    InvalidParameterError
        A window is not an integer in ``[1, n_bars]``, or ``kind`` is neither ``"sma"`` nor ``"ema"``.

    Examples
    --------
    >>> up, down = ma_crossings(np.array([3.0, 2.0, 1.0, 2.0, 3.0, 2.0]), 1, 2)
    >>> up.tolist(), down.tolist()
    ([False, False, False, True, False, False], [False, False, False, False, False, True])
    """
    if kind not in _CROSSINGS:
        raise InvalidParameterError(f"`kind` must be 'sma' or 'ema'; got {kind!r}. Pass kind='sma' or kind='ema'.")
    (a,) = _as_floats(x=x)
    n = a.shape[0]
    f, s = _window("fast", fast, n), _window("slow", slow, n)
    kernel, ma = _CROSSINGS[kind]
    if a.ndim == 1 or a.shape[1] == 1:
        up, down = np.empty(a.shape, dtype=np.bool_), np.empty(a.shape, dtype=np.bool_)
        kernel(a.reshape(n), f, s, up.reshape(n), down.reshape(n))
        return up, down
    fa, sa = ma(a, f), ma(a, s)
    return crossed_above(fa, sa), crossed_below(fa, sa)
