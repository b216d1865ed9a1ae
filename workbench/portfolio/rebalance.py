"""Target-weight rebalancing of one shared account, in the engine's Numba core.

``rebalance(bars, weights)`` validates the bars and the target weights, turns the calendar and
drift rules into arrays, runs :func:`workbench.nb.rebalance.simulate_rebalance_nb` (which drives
the same per-bar phases as every single-asset backtest) and wraps the records in a
:class:`~workbench.portfolio.result.PortfolioResult`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from workbench._validate import check_number
from workbench.backtesting.config import BacktestConfig
from workbench.backtesting.engine import prepare_bars
from workbench.backtesting.result import BacktestResult
from workbench.errors import DataValidationError, InvalidParameterError, StrategyError, did_you_mean
from workbench.nb.enums import order_dt, trade_dt
from workbench.nb.rebalance import simulate_rebalance_nb
from workbench.portfolio._schedule import (
    calendar,
    fixed_targets,
    frame_targets,
    row_of_bar,
    schedule_mask,
    time_zone,
)
from workbench.portfolio.result import PortfolioResult
from workbench.strategies.base import Bars, Signals, Strategy
from workbench.strategies.params import Param

__all__ = ["rebalance", "TargetWeights", "sharing_config", "resolve_benchmark"]

_TOL = 1e-6


class TargetWeights(Strategy):
    """The decisions of a rebalancing run: which targets, when, and how they were shaped.

    It identifies a run of :func:`rebalance` (its parameters enter the run id); it does not make
    decisions by itself, so pass it to :func:`rebalance`'s results, not to ``backtest()``.
    """

    targets = Param("", help="content hash of the target weights and the rebalancing bars")
    method = Param("fixed", help="where the targets come from: fixed, frame, or an allocation method")
    schedule = Param("monthly", help="calendar of scheduled rebalances")
    drift = Param(0.0, low=0.0, high=10.0, help="rebalance when a weight drifts more than this (0: off)")
    cash_buffer = Param(0.0, low=0.0, high=1.0, help="fraction of equity kept in cash")

    def signals(self, bars: Bars) -> Signals:
        raise StrategyError("TargetWeights records a rebalancing run; run it with workbench.portfolio.rebalance().")


def sharing_config(config: BacktestConfig | None, settings: dict[str, Any], owner: str) -> BacktestConfig:
    """The engine settings with one shared account (``cash_sharing=True``)."""
    if settings.get("cash_sharing") is False:
        raise InvalidParameterError(
            f"{owner} simulates one account shared by every asset; `cash_sharing=False` cannot apply. "
            "Drop the setting (or backtest the assets separately)."
        )
    if not isinstance(config, (BacktestConfig, type(None))):
        raise InvalidParameterError(f"`config` must be a BacktestConfig; got {type(config).__name__}.")
    return (config or BacktestConfig()).replace(**settings).replace(cash_sharing=True)


def rebalance(
    bars: pl.DataFrame | Any,
    weights: Mapping[str, float] | Sequence[float] | np.ndarray | pl.DataFrame | str | Callable[..., Any],
    *,
    schedule: Any = "monthly",
    drift: float | None = None,
    cash_buffer: float = 0.0,
    exposure: float | None = 1.0,
    max_gross: float | None = None,
    max_net: float | None = None,
    lookback: int = 252,
    allocation: Mapping[str, Any] | None = None,
    benchmark: Any = None,
    config: BacktestConfig | None = None,
    **settings: Any,
) -> PortfolioResult:
    """Hold target weights in one shared account, rebalancing on a calendar and/or drift bands.

    At the close of each rebalancing bar every asset gets a target-weight order; the core trades
    it to ``weight × equity`` at the next fill (the next open by default, this close with
    ``fill="same_close"``), sells before buys, with the engine's fees, slippage, spread and lot
    size. Each order is sized on the account's equity just before it (valued at the raw fill
    price), so the costs of earlier orders of the bar shrink later targets slightly. A buy the cash cannot pay for after costs is shrunk to what it can (keep a
    ``cash_buffer`` to leave room for costs).

    Parameters
    ----------
    bars
        Canonical bars of several symbols on one calendar (:func:`workbench.data.align`).
    weights
        The targets: a dict by symbol (others 0) or a vector in symbol order, held at every
        rebalance; a polars frame ``ts`` + one column per symbol of targets over time (each row
        takes effect at the close of its bar, which must be a bar of ``bars``); or an allocation
        method name (``"min_variance"``, ``"hrp"``, ``"max_sharpe"``… see
        :func:`~workbench.portfolio.rolling_weights`) or callable, re-estimated at each scheduled
        rebalance from the trailing ``lookback`` returns only.
    schedule
        ``"daily"``, ``"weekly"``, ``"monthly"`` (default), ``"quarterly"``, ``"yearly"`` (the first
        bar of each period), a sequence of dates (the first bar at or after each), or ``None``
        (no calendar: the initial allocation, frame rows and drift only).
    drift
        Also rebalance at any close where a weight differs from its target by more than this.
    cash_buffer
        Fraction of equity kept in cash: targets are scaled by ``1 − cash_buffer``.
    exposure
        The declared sum of every target row (1 = fully invested, 0 = dollar-neutral); rows that
        sum otherwise raise. ``None`` accepts any sum (the rest stays in cash).
    max_gross, max_net
        Limits on ``Σ|w|`` and ``|Σw|``: a row beyond them is scaled down proportionally (after
        the exposure check and the cash buffer). The gross exposure must also fit the engine's
        ``leverage``.
    lookback
        Returns in the trailing window of an allocation method.
    allocation
        Estimation settings of an allocation method: ``covariance``, ``constraints``,
        ``options`` (see :func:`~workbench.portfolio.rolling_weights`).
    benchmark
        What the stats compare against: a symbol of ``bars``, a result, or per-bar returns
        (default: the equal-weight average of the assets' returns).
    config, **settings
        Engine settings (:class:`~workbench.backtesting.BacktestConfig`: ``cash``, ``fees``,
        ``slippage``, ``spread``, ``lot_size``, ``fill``, ``leverage``, ``allow_short``…); the
        account is always shared (``cash_sharing=True``).

    Returns
    -------
    PortfolioResult

    Raises
    ------
    DataValidationError
        Bad bars (negative prices…), weights that do not sum to ``exposure``, a weights frame off
        the bars' calendar.
    InvalidParameterError
        Unknown symbols, bad settings, targets beyond ``leverage`` or needing shorts that are off,
        a ``lookback`` longer than the history.

    Examples
    --------
    >>> import workbench as wb
    >>> from workbench.portfolio import rebalance
    >>> bars = wb.data.synthetic(60, n_symbols=3, seed=1)
    >>> res = rebalance(bars, {"S0": 0.5, "S1": 0.3, "S2": 0.2}, schedule="weekly", fill="same_close")
    >>> res.rebalances.height, round(float(res.weights.row(0, named=True)["S0"]), 6)
    (10, 0.5)
    """
    cfg = sharing_config(config, settings, "rebalance()")
    frame, view = prepare_bars(bars)
    cal = calendar(view.ts, time_zone(frame["ts"]))
    mask = schedule_mask(cal, schedule)
    targets, row_bars, method = _targets(weights, frame, view, cal, mask, schedule, lookback, allocation)
    mask[row_bars] = True
    targets = shape_targets(targets, row_bars, cal, cfg, exposure=exposure, cash_buffer=cash_buffer,
                            max_gross=max_gross, max_net=max_net)
    threshold = 0.0 if drift is None else check_number("drift", drift, 0, None, lo_open=True)
    out = simulate_rebalance_nb(
        cfg.record(), view.open, view.high, view.low, view.close, np.ascontiguousarray(targets),
        row_of_bar(row_bars, view.n_bars), mask, threshold,
        np.empty(max(64, 4 * view.n_assets), dtype=order_dt), np.empty(max(64, 2 * view.n_assets), dtype=trade_dt),
    )
    orders, trades, counts, equity, cash, units, trigger, trade_equity = out
    strategy = TargetWeights(targets=_digest(targets, row_bars, mask), method=method,
                             schedule=_schedule_name(schedule), drift=threshold,
                             cash_buffer=check_number("cash_buffer", cash_buffer, 0, 1, hi_open=True))
    bench, bench_name = resolve_benchmark(benchmark, view)
    return PortfolioResult(cfg, strategy, frame, view, orders[: counts[0]], trades[: counts[1]], equity, cash,
                           units, 0, targets, row_bars, trigger, trade_equity, bench, bench_name)


def _targets(weights: Any, frame: pl.DataFrame, view: Bars, cal: pl.Series, mask: np.ndarray, schedule: Any,
             lookback: int, allocation: Mapping[str, Any] | None) -> tuple[np.ndarray, np.ndarray, str]:
    """Raw target rows, the bar each takes effect, and the method's name."""
    if isinstance(weights, pl.DataFrame):
        targets, rows = frame_targets(weights, view.symbols, cal)
        return targets, rows, "frame"
    if isinstance(weights, str) or callable(weights):
        from workbench.portfolio.rolling import estimate_targets, method_name

        extra = dict(allocation or {})
        unknown = set(extra) - {"covariance", "constraints", "options"}
        if unknown:
            raise InvalidParameterError(
                f"`allocation` takes covariance, constraints and options; got {sorted(unknown)}."
            )
        targets, rows = estimate_targets(frame, view, weights, lookback=lookback, bars_at=np.flatnonzero(mask),
                                         **extra)
        return targets, rows, method_name(weights)
    targets = fixed_targets(weights, view.symbols)
    first = np.flatnonzero(mask)
    start = int(first[0]) if (schedule is not None and first.size) else 0
    return targets, np.array([start], dtype=np.int64), "fixed"


def shape_targets(targets: np.ndarray, row_bars: np.ndarray, cal: pl.Series, cfg: BacktestConfig, *,
                  exposure: float | None, cash_buffer: float, max_gross: float | None,
                  max_net: float | None) -> np.ndarray:
    """Check the declared exposure, apply the cash buffer and the gross/net limits, and check
    the result fits the engine's leverage and shorting settings."""
    buffer = check_number("cash_buffer", cash_buffer, 0, 1, hi_open=True)
    sums = targets.sum(axis=1)
    if exposure is not None:
        exp = check_number("exposure", exposure, -100, 100)
        bad = np.flatnonzero(np.abs(sums - exp) > _TOL)
        if bad.size:
            i = int(bad[0])
            raise DataValidationError(
                f"target weights at {cal[int(row_bars[i])]} sum to {sums[i]:.6g}, but `exposure` declares "
                f"{exp:g}. Fix: normalise the weights to sum to {exp:g}, or pass exposure=None to keep "
                "the rest in cash."
            )
    out = targets * (1.0 - buffer)
    gross, net = np.abs(out).sum(axis=1), np.abs(out.sum(axis=1))
    scale = np.ones(len(out))
    if max_gross is not None:
        g = check_number("max_gross", max_gross, 0, None, lo_open=True)
        scale = np.minimum(scale, np.where(gross > g, g / np.maximum(gross, 1e-300), 1.0))
    if max_net is not None:
        m = check_number("max_net", max_net, 0, None)
        scale = np.minimum(scale, np.where(net > m, m / np.maximum(net, 1e-300), 1.0))
    out = out * scale[:, None]
    _check_feasible(out, row_bars, cal, cfg)
    return out


def _check_feasible(targets: np.ndarray, row_bars: np.ndarray, cal: pl.Series, cfg: BacktestConfig) -> None:
    gross = np.abs(targets).sum(axis=1)
    over = np.flatnonzero(gross > cfg.leverage * (1 + 1e-9))
    if over.size:
        i = int(over[0])
        raise InvalidParameterError(
            f"target weights at {cal[int(row_bars[i])]} have gross exposure {gross[i]:.6g}, above "
            f"`leverage`={cfg.leverage:g}. Fix: pass leverage={gross.max():.6g}, or max_gross= to scale them down."
        )
    if not cfg.allow_short and (targets < -1e-12).any():
        i = int(np.flatnonzero((targets < -1e-12).any(axis=1))[0])
        raise InvalidParameterError(
            f"target weights at {cal[int(row_bars[i])]} are negative (short) but `allow_short` is False. "
            "Fix: pass allow_short=True, or use long-only weights."
        )


def _digest(targets: np.ndarray, row_bars: np.ndarray, mask: np.ndarray) -> str:
    h = hashlib.blake2b(digest_size=8)
    for a in (np.ascontiguousarray(targets), row_bars.astype(np.int64), mask.astype(np.uint8)):
        h.update(a.tobytes())
    return h.hexdigest()


def _schedule_name(schedule: Any) -> str:
    if schedule is None or isinstance(schedule, str):
        return str(schedule)
    return f"{len(schedule)} dates"


def resolve_benchmark(benchmark: Any, view: Bars) -> tuple[np.ndarray | None, str]:
    """Per-bar benchmark returns and a name: a symbol of the bars, a result, or returns."""
    if benchmark is None:
        return None, "equal_weight"
    n = view.n_bars
    if isinstance(benchmark, str):
        if benchmark not in view.symbols:
            raise InvalidParameterError(
                f"`benchmark` {benchmark!r} is not a symbol of the bars ({', '.join(view.symbols)})."
                f"{did_you_mean(benchmark, view.symbols)} Pass a symbol, a result or per-bar returns."
            )
        c = view.close[:, view.symbols.index(benchmark)]
        r = np.zeros(n)
        r[1:] = c[1:] / c[:-1] - 1.0
        return r, benchmark
    if isinstance(benchmark, BacktestResult):
        if benchmark.view.n_bars != n or not np.array_equal(benchmark.view.ts, view.ts):
            raise DataValidationError(
                "misaligned calendars: the `benchmark` result was run on other bars "
                f"({benchmark.view.n_bars} bars from {benchmark.view.ts[0]}) than these ({n} from {view.ts[0]})."
            )
        return benchmark.returns["return"].to_numpy(), repr(benchmark.strategy)
    if isinstance(benchmark, pl.DataFrame):
        benchmark = benchmark["return"] if "return" in benchmark.columns else benchmark.drop("ts", strict=False).to_series()
    r = np.asarray(benchmark, dtype=np.float64).reshape(-1)
    if r.shape[0] != n or not np.isfinite(r).all():
        raise DataValidationError(
            f"`benchmark` returns must be {n} finite values (one per bar); got {r.shape[0]} values."
        )
    return r, "custom"
