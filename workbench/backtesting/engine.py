"""``backtest()``: validate → convert → simulate in the Numba core → wrap into a result."""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np
import polars as pl

from workbench.backtesting import views
from workbench.backtesting.config import BacktestConfig
from workbench.backtesting.result import BacktestResult
from workbench.data.arrays import BarArrays, to_arrays
from workbench.data.validate import validate
from workbench.errors import DataValidationError, InvalidParameterError, StrategyError
from workbench.nb import simulate as sim
from workbench.nb import warm
from workbench.nb.enums import I_ENTRY, order_dt, trade_dt
from workbench.strategies.base import Bars, Context, Signals, Strategy

__all__ = ["backtest", "prepare_bars", "run_signals"]

_BOOL_FIELDS = ("entries", "exits", "short_entries", "short_exits")
_FLOAT_FIELDS = ("size", "limit", "stop", "sl", "tp", "tsl", "weight")


def backtest(bars: pl.DataFrame | Any, strategy: Strategy, *, config: BacktestConfig | None = None,
             **settings: Any) -> BacktestResult:
    """Backtest ``strategy`` on ``bars``.

    Parameters
    ----------
    bars
        Canonical bars (see :func:`workbench.data.load`); several symbols in long format share
        one calendar (:func:`workbench.data.align`). Or the same bars already converted with
        :func:`workbench.data.to_arrays`, to run many backtests on a large universe without
        converting it each time.
    strategy
        A :class:`~workbench.strategies.Strategy` instance (vectorized, Numba or Python style).
    config
        A :class:`BacktestConfig`; keyword ``settings`` override its fields
        (``cash=``, ``fees=``, ``slippage=``, ``fill=``, ``sizing=``, ``size=``…).

    Returns
    -------
    BacktestResult
        Frozen: ``equity``, ``returns``, ``orders``, ``trades``, ``positions`` (polars),
        ``stats``, ``plot()``, ``save()``.

    Raises
    ------
    InvalidParameterError
        For an unknown or out-of-range setting.
    StrategyError
        When the strategy's signals have the wrong shape, NaN, non-positive sizes, prices or
        stops on an entry, or need shorting that is off; when a Numba strategy's callback is
        not compiled or cannot be compiled.
    DataValidationError
        When the bars break the bar contract.

    Examples
    --------
    >>> import workbench as wb
    >>> from workbench.strategies import SmaCross
    >>> res = wb.backtest(wb.data.sample("GOOG"), SmaCross(fast=10, slow=20, direction="both"),
    ...                   cash=10_000, fees=0.002, lot_size=1)
    >>> round(res.final_equity, 2), res.stats.n_trades
    (56263.52, 93)
    """
    if not isinstance(strategy, Strategy):
        raise InvalidParameterError(
            f"`strategy` must be a Strategy instance such as SmaCross(); got {strategy!r}."
            + (" Instantiate the class first." if isinstance(strategy, type) else "")
        )
    if config is not None and not isinstance(config, BacktestConfig):
        raise InvalidParameterError(
            f"`config` must be a BacktestConfig; got {type(config).__name__}. "
            "Fix: pass BacktestConfig(**settings), or the settings as keywords."
        )
    began = time.perf_counter()
    cfg = (config or _default_config()).replace(**settings)
    frame, view = prepare_bars(bars)
    style = strategy.style
    if style == "vectorized":
        warm.start(sim.signal_bars_nb)  # an empty kernel cache: a second process compiles part of it
        sig = strategy.signals(view)
        if not isinstance(sig, Signals):
            raise StrategyError(f"{strategy.name}.signals() must return a Signals object; got {type(sig).__name__}.")
        out, stop_mode = run_signals(cfg, view, sig, owner=strategy.name)
    else:
        out, stop_mode = _run_callback(cfg, view, strategy, style), 0
    result = BacktestResult._from_kernel(cfg, strategy, frame, view, out, stop_mode=stop_mode)
    object.__setattr__(result, "elapsed_s", time.perf_counter() - began)  # recorded as the run's duration
    return result


@functools.cache
def _default_config() -> BacktestConfig:
    return BacktestConfig()


@functools.lru_cache(maxsize=64)
def _record(cfg: BacktestConfig, stop_mode: int) -> np.void:
    """The kernel's settings record of ``cfg`` (configs are frozen, and the kernels only read it)."""
    return cfg.record(stop_mode=stop_mode)


def prepare_bars(bars: Any) -> tuple[pl.DataFrame | None, Bars]:
    """Validate ``bars`` cheaply on arrays (the full frame validation runs only to explain a
    failure) and build the strategy's view. :class:`~workbench.data.BarArrays` are used as they
    are (no frame: ``None``). The view of a frame is kept while the frame lives unchanged
    (:mod:`workbench.backtesting.views`): later backtests on it skip the conversion and checks."""
    if isinstance(bars, BarArrays):
        return None, _view_of_arrays(bars)
    if not isinstance(bars, pl.DataFrame):
        from workbench.data.load import load

        bars = load(bars)
    view = views.kept(bars)
    if view is not None:
        return bars, view
    columns = bars.columns
    missing = [c for c in ("ts", "open", "high", "low", "close", "volume") if c not in columns]
    if missing or bars.height < 2:
        validate(bars)  # raises with the details
    view = _view_of_arrays(to_arrays(bars, check=False), bars)
    views.keep(bars, view)
    return bars, view


def _view_of_arrays(arr: BarArrays, frame: pl.DataFrame | None = None) -> Bars:
    """The strategy's view of bars as arrays (converted from ``frame``, or given): read-only
    views (a copy only of arrays that are not C-contiguous float64), so strategies cannot alter
    the bars and the kernels see one array type; checked against the bar contract, a failure
    explained by the full validation of the bars."""
    fix = "load them with workbench.data.load()" if frame is not None else "build them with workbench.data.to_arrays()"
    if not (isinstance(arr.ts, np.ndarray) and arr.ts.ndim == 1):
        raise DataValidationError(f"`bars.ts` must be a 1-D datetime64 array. Fix: {fix}.")
    n = arr.ts.shape[0]
    m = len(arr.symbols)
    cols = []
    for name in ("open", "high", "low", "close", "volume"):
        a = np.asarray(getattr(arr, name))
        if a.shape != (n, m):
            raise DataValidationError(
                f"`bars.{name}` must have shape (n_bars, n_symbols) = ({n}, {m}); got {a.shape}. Fix: {fix}."
            )
        a = np.ascontiguousarray(a, dtype=np.float64).view()
        a.flags.writeable = False  # the view only: a caller's array stays writable
        cols.append(a)
    ts = np.asarray(arr.ts).astype("datetime64[us]", copy=False)
    if n < 2 or len(set(arr.symbols)) != m or not _bars_ok(*cols, ts.view(np.int64)):
        validate(frame if frame is not None else arr.to_frame())  # raises with the details
        raise DataValidationError(f"bars break the bar contract. Fix: {fix}.")
    return Bars(*cols, ts, tuple(arr.symbols), frame, arr.time_zone)


def source_frame(frame: pl.DataFrame | None, view: Bars) -> pl.DataFrame:
    """The bars as a frame: ``frame`` itself, or the view's arrays in long format."""
    if frame is not None:
        return frame
    return BarArrays(view.ts, view.symbols, view.open, view.high, view.low, view.close, view.volume,
                     time_zone=view.time_zone).to_frame()


def _bars_ok(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray, ts: np.ndarray) -> bool:
    """Whether the arrays keep the bar contract: NumPy reductions for small inputs, one pass of
    :func:`~workbench.nb.simulate.bars_ok_nb` for large ones (same conditions)."""
    if o.size >= 1 << 16:
        return bool(sim.bars_ok_nb(o, h, lo, c, v, ts))
    # a NaN fails every comparison, and a finite high bounds the other prices: one isfinite suffices
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(h) & (lo > 0) & (h >= lo) & (o >= lo) & (o <= h) & (c >= lo) & (c <= h) & (v >= 0)
        return bool(ok.all() and (ts[1:] > ts[:-1]).all())


_NO_SIGNAL = np.zeros((1, 1), dtype=np.bool_)
_NO_VALUE = np.full((1, 1), np.nan)  # (the kernels only read their signal and value arrays)


def _flex(name: str, value: Any, n_bars: int, n_assets: int, owner: str, *, boolean: bool) -> np.ndarray:
    if value is None:
        return _NO_SIGNAL if boolean else _NO_VALUE
    if isinstance(value, (pl.Series, pl.DataFrame)):
        value = value.to_numpy()
    a = np.asarray(value)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        if a.shape[0] != n_bars:
            raise StrategyError(
                f"{owner} returned `{name}` of length {a.shape[0]}; expected {n_bars} (one value per bar)."
            )
        a = a.reshape(-1, 1)
    elif a.ndim != 2 or a.shape[0] not in (1, n_bars) or a.shape[1] not in (1, n_assets):
        raise StrategyError(
            f"{owner} returned `{name}` of shape {a.shape}; expected ({n_bars}, {n_assets}) or a 1-D array of {n_bars}."
        )
    if boolean:
        if a.dtype != np.bool_:
            if a.dtype.kind == "f" and np.isnan(a).any():
                row = int(np.argwhere(np.isnan(a))[0][0])
                raise StrategyError(f"{owner} returned `{name}` with NaN (first at bar {row}); signals must be True/False.")
            if a.dtype.kind not in "biuf" or not np.isin(a, (0, 1)).all():
                raise StrategyError(f"{owner} returned `{name}` with values other than True/False.")
            a = a.astype(np.bool_)
        return np.ascontiguousarray(a)
    if a.dtype.kind not in "biuf":
        raise StrategyError(f"{owner} returned `{name}` of dtype {a.dtype}; expected numbers (NaN for none).")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if np.isinf(a).any():
        raise StrategyError(f"{owner} returned `{name}` with infinite values; use NaN for 'none'.")
    return a


def run_signals(cfg: BacktestConfig, view: Bars, sig: Signals, *, owner: str = "strategy") -> tuple[tuple, int]:
    """Normalise ``sig`` and run the signal kernel. Returns the kernel output and stop mode."""
    n, m = view.n_bars, view.n_assets
    arrays = {f: _flex(f, getattr(sig, f), n, m, owner, boolean=True) for f in _BOOL_FIELDS}
    arrays.update({f: _flex(f, getattr(sig, f), n, m, owner, boolean=False) for f in _FLOAT_FIELDS})
    if not cfg.allow_short and arrays["short_entries"].any():
        raise StrategyError(
            f"{owner} emits short entries but `allow_short` is False. Fix: pass allow_short=True, "
            "or configure the strategy to trade long only."
        )
    _check_levels(arrays, cfg, owner, n, m)
    if cfg.sizing == "risk" and cfg.sl is None and np.isnan(arrays["sl"]).all():
        raise InvalidParameterError("`sizing='risk'` needs a stop-loss: set `sl=` or emit `sl` from the strategy.")
    stop_mode = 1 if sig.stop_mode == "price" else 0
    if sig.stop_mode not in ("percent", "price"):
        raise StrategyError(f"{owner} returned stop_mode={sig.stop_mode!r}; expected 'percent' or 'price'.")
    out = sim.simulate_signals(
        _record(cfg, stop_mode), view.open, view.high, view.low, view.close,
        arrays["entries"], arrays["exits"], arrays["short_entries"], arrays["short_exits"],
        arrays["size"], arrays["limit"], arrays["stop"], arrays["sl"], arrays["tp"], arrays["tsl"], arrays["weight"],
    )
    return out, stop_mode


def _check_levels(arrays: dict[str, np.ndarray], cfg: BacktestConfig, owner: str, n: int, m: int) -> None:
    """Sizes, prices, stops and weights given with an entry must be positive (NaN: not given).
    Values on bars without an entry are never read, so they are not checked."""
    entry = None
    for name in _FLOAT_FIELDS:
        a = arrays[name]
        if a is _NO_VALUE or a.shape == (1, 1) and np.isnan(a[0, 0]):
            continue
        if entry is None:
            entry = np.broadcast_to(arrays["entries"], (n, m)) | np.broadcast_to(arrays["short_entries"], (n, m))
        high = cfg.leverage if name == "weight" else np.inf
        with np.errstate(invalid="ignore"):
            bad = np.broadcast_to((a <= 0.0) | (a > high), (n, m)) & entry
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            rng = f"(0, {high:g}]" if name == "weight" else "(0, inf)"
            value = float(a[row if a.shape[0] > 1 else 0, col if a.shape[1] > 1 else 0])
            raise StrategyError(
                f"{owner} returned `{name}` = {value:g} with the entry at bar {row}; it must be in {rng} "
                "(NaN for none)." + (" Weights above 1 need leverage > 1." if name == "weight" else "")
            )


def _check_numba_strategy(strategy: Strategy, view: Bars) -> tuple[Any, tuple]:
    """The compiled callback and its ``extra`` arrays, checked before Numba sees them."""
    fn = type(strategy).on_bar_nb
    if not hasattr(fn, "py_func"):
        raise StrategyError(
            f"{strategy.name}.on_bar_nb must be compiled with numba.njit; got {type(fn).__name__} {fn!r}. "
            "Fix: decorate it with @staticmethod and @numba.njit, or write the decisions in on_bar()."
        )
    extra = strategy.prepare(view)
    if not isinstance(extra, tuple) or not extra:
        raise StrategyError(
            f"{strategy.name}.prepare() must return a non-empty tuple of arrays; got {extra!r:.80}."
        )
    for i, item in enumerate(extra):
        ok = isinstance(item, np.ndarray) and item.dtype.kind in "biuf" or (
            isinstance(item, (int, float, np.integer, np.floating)) and not isinstance(item, bool))
        if not ok:
            raise StrategyError(
                f"{strategy.name}.prepare() item {i} must be a numeric numpy array or number; got "
                f"{type(item).__name__}. Fix: convert it with np.asarray(..., dtype=np.float64)."
            )
    return fn, extra


def _numba_failure(strategy: Strategy, exc: Exception) -> StrategyError:
    """A short error for a callback Numba cannot compile (its own traceback is long and internal)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    detail = [ln if len(ln) <= 240 else f"{ln[:110]} ... {ln[-110:]}" for ln in lines
              if not ln.startswith(("Failed in nopython", "During:", "File ", "<source"))][:2]
    return StrategyError(
        f"{strategy.name}.on_bar_nb cannot be compiled by Numba: {' '.join(detail) or type(exc).__name__}. "
        "Fix: it must take (t, open, high, low, close, volume, state, cash, intent, extra) and use only "
        "Numba-supported operations on numbers and the arrays of prepare()."
    )


def _run_callback(cfg: BacktestConfig, view: Bars, strategy: Strategy, style: str) -> tuple:
    rec = _record(cfg, 0)
    n = view.n_bars
    orders, trades = np.empty(max(16, n // 16), dtype=order_dt), np.empty(max(16, n // 32), dtype=trade_dt)
    if style == "numba":
        fn, extra = _check_numba_strategy(strategy, view)
        try:
            return sim.simulate_callback(rec, view.open, view.high, view.low, view.close, view.volume,
                                         fn, extra, orders, trades)
        except Exception as exc:
            if type(exc).__module__.split(".")[0] != "numba":
                raise
            raise _numba_failure(strategy, exc) from None
    holder: dict[str, Context] = {}

    def callback(t: int, state: np.ndarray, cash: np.ndarray, intent: np.ndarray) -> None:
        ctx = holder.get("ctx")
        if ctx is None:
            ctx = holder["ctx"] = Context(view, state, cash, intent, cfg.cash_sharing)
        strategy.on_bar(ctx._at(t, view))
        if not cfg.allow_short and (intent[:, I_ENTRY] < 0).any():
            raise StrategyError(f"{strategy.name} calls sell() to open a short but `allow_short` is False.")

    return sim.simulate_callback_py(rec, view.open, view.high, view.low, view.close, callback, orders, trades)
