"""What a parameter search returns: every set with its metrics, the best one, and the
overfitting figures shown next to it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from workbench._reportable import Reportable
from workbench.errors import InvalidParameterError, WorkbenchError, did_you_mean
from workbench.optimize import overfit as _of

if TYPE_CHECKING:
    from workbench.backtesting.config import BacktestConfig
    from workbench.backtesting.result import BacktestResult
    from workbench.store import Store
    from workbench.strategies.base import Strategy

__all__ = ["OverfitReport", "Stability", "SweepResult", "overfit_report"]

_NAN = float("nan")


@dataclass(frozen=True, eq=False)
class OverfitReport:
    """How likely the best set of a search is a lucky draw.

    Attributes
    ----------
    n_trials : int
        Parameter sets tried (the deflation's N).
    n_bars : int
        Observations in the best set's track record.
    sharpe : float
        Annualized Sharpe ratio of the best set (risk-free rate 0).
    trials_sharpe_variance : float
        Variance of the per-bar Sharpe ratios of all sets (the deflation's V).
    expected_max_sharpe : float
        Annualized Sharpe ratio the best of ``n_trials`` unskilled sets is expected to reach.
    psr : float
        Probabilistic Sharpe ratio of the best set against 0.
    dsr : float
        Deflated Sharpe ratio: the PSR against ``expected_max_sharpe``. Above 0.95, the best
        set's Sharpe ratio survives the search.
    min_track_record : float
        Bars needed for the best set's Sharpe ratio to be significant at 95% (inf if not
        positive).
    pbo : PBOResult or None
        Combinatorially symmetric cross-validation over ``pbo_sets`` sets (None when too few
        sets or bars).
    pbo_sets : int
        Sets whose per-bar returns entered the CSCV: all of them up to the cap, otherwise a
        uniform random sample that always holds the best set.
    """

    n_trials: int
    n_bars: int
    sharpe: float
    trials_sharpe_variance: float
    expected_max_sharpe: float
    psr: float
    dsr: float
    min_track_record: float
    pbo: _of.PBOResult | None
    pbo_sets: int

    def to_dict(self) -> dict[str, float | int]:
        out: dict[str, float | int] = {
            "n_trials": self.n_trials, "sharpe": self.sharpe, "psr": self.psr, "dsr": self.dsr,
            "expected_max_sharpe": self.expected_max_sharpe,
            "trials_sharpe_variance": self.trials_sharpe_variance,
            "min_track_record": self.min_track_record, "pbo_sets": self.pbo_sets,
        }
        out["pbo"] = self.pbo.pbo if self.pbo is not None else _NAN
        return out

    def __repr__(self) -> str:
        pbo = "n/a" if self.pbo is None else f"{self.pbo.pbo:.2f} ({self.pbo_sets} sets)"
        return (f"OverfitReport(trials={self.n_trials}, sharpe={self.sharpe:.2f}, PSR={self.psr:.3f}, "
                f"DSR={self.dsr:.3f}, E[max SR]={self.expected_max_sharpe:.2f}, PBO={pbo}, "
                f"MinTRL={self.min_track_record:.0f} bars)")


def _safe(fn: Any, *args: Any, **kwargs: Any) -> float:
    try:
        return float(fn(*args, **kwargs))
    except WorkbenchError:  # a flat track record (no trade) has no Sharpe ratio
        return _NAN


def overfit_report(best_returns: np.ndarray, trial_sharpes: np.ndarray, *, periods_per_year: float,
                   sample_returns: np.ndarray | None = None, n_splits: int = 16) -> OverfitReport:
    """PSR, DSR, MinTRL of ``best_returns`` after ``len(trial_sharpes)`` trials, and PBO over
    ``sample_returns`` (bars × sets).

    ``trial_sharpes`` are the annualized Sharpe ratios of every set tried (NaN ignored in the
    variance, counted in N).
    """
    ppy = float(periods_per_year)
    root = math.sqrt(ppy)
    per_bar = np.asarray(trial_sharpes, dtype=np.float64) / root
    finite = per_bar[np.isfinite(per_bar)]
    n_trials = max(int(per_bar.size), 1)
    var = float(np.var(finite, ddof=1)) if finite.size >= 2 else 0.0
    r = np.asarray(best_returns, dtype=np.float64)
    sr = _safe(lambda: _of._sample_moments(r)[0])
    psr = _safe(_of.probabilistic_sharpe_ratio, r)
    dsr = _safe(_of.deflated_sharpe_ratio, r, n_trials=n_trials, trials_sharpe_variance=var)
    mintrl = _safe(_of.minimum_track_record_length, r)
    pbo = None
    n_sets = 0
    if sample_returns is not None and sample_returns.ndim == 2 and sample_returns.shape[1] >= 2:
        n_sets = int(sample_returns.shape[1])
        splits = min(n_splits, (sample_returns.shape[0] // 2) // 2 * 2)
        if splits >= 2:
            pbo = _of.probability_of_backtest_overfitting(sample_returns, n_splits=splits)
    return OverfitReport(
        n_trials=n_trials, n_bars=int(r.size), sharpe=sr * root if math.isfinite(sr) else _NAN,
        trials_sharpe_variance=var,
        expected_max_sharpe=_of.expected_maximum_sharpe(n_trials, variance=var) * root,
        psr=psr, dsr=dsr, min_track_record=mintrl, pbo=pbo, pbo_sets=n_sets,
    )


@dataclass(frozen=True, eq=False)
class Stability:
    """How the metric behaves around the best set.

    ``neighbours`` holds every set within ``radius`` grid steps of the best in each numeric
    parameter (others equal), the best excluded. ``drop`` is how much worse their mean is
    (positive = worse, in the metric's units, whatever the direction); ``relative_drop`` divides
    it by ``|best|``. A robust optimum has a small drop; a lone spike a large one.
    """

    metric: str
    best: float
    neighbour_mean: float
    neighbour_worst: float
    n_neighbours: int
    drop: float
    relative_drop: float
    neighbours: pl.DataFrame = field(repr=False)


@dataclass(frozen=True, eq=False)
class SweepResult(Reportable):
    """The outcome of :func:`~workbench.optimize.grid` or :func:`~workbench.optimize.random`.

    Attributes
    ----------
    frame : polars.DataFrame
        One row per parameter set, best first: ``set`` (its number in the search), the
        parameters, then the metrics.
    metric, goal : str
        What the search ranked by, and whether higher (``"maximize"``) is better.
    params : tuple of str
        The parameter columns.
    engine : str
        ``"fused"`` (the parallel kernel) or ``"backtest"`` (one engine run per set).
    overfit : OverfitReport or None
        PSR, DSR, PBO and MinTRL of the best set.
    run_id : str
        The optimization's id (its spec's hash), also its id in the store when saved.
    """

    frame: pl.DataFrame
    strategy: type[Strategy]
    params: tuple[str, ...]
    metric: str
    goal: str
    config: BacktestConfig
    method: str
    engine: str
    n_bars: int
    periods_per_year: float
    overfit: OverfitReport | None
    run_id: str
    dataset_hash: str
    elapsed_s: float
    spec: dict[str, Any] = field(repr=False)
    bars: pl.DataFrame | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        best = self.best_params
        value = self.best[self.metric]
        lines = [f"SweepResult({self.strategy.__name__}, {self.method}, {self.frame.height:,} sets, engine={self.engine}, "
                 f"{self.elapsed_s:.2f}s)", f"  best {self.metric} = {value:.6g} at {best}"]
        if self.overfit is not None:
            lines.append(f"  {self.overfit!r}")
        return "\n".join(lines)

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(c for c in self.frame.columns if c not in self.params and c != "set")

    @property
    def best(self) -> dict[str, Any]:
        """The best set: parameters and metrics."""
        return self.frame.row(0, named=True)

    @property
    def best_params(self) -> dict[str, Any]:
        row = self.best
        return {p: row[p] for p in self.params}

    def best_strategy(self, rank: int = 0) -> Strategy:
        """An instance of the strategy with the parameters ranked ``rank`` (0 = best)."""
        row = self.frame.row(self._rank(rank), named=True)
        return self.strategy(**{p: row[p] for p in self.params})

    def top(self, k: int = 10) -> pl.DataFrame:
        """The ``k`` best sets."""
        return self.frame.head(k)

    def _rank(self, rank: int) -> int:
        if not isinstance(rank, int) or not 0 <= rank < self.frame.height:
            raise InvalidParameterError(f"`rank` must be an integer in [0, {self.frame.height - 1}]; got {rank!r}.")
        return rank

    def backtest(self, rank: int = 0) -> BacktestResult:
        """Re-run the engine on the set ranked ``rank`` for its full records (orders, trades)."""
        from workbench.backtesting.engine import backtest

        if self.bars is None:
            raise InvalidParameterError("this result holds no bars; run the search again to inspect a set.")
        return backtest(self.bars, self.best_strategy(rank), config=self.config)

    def _metric(self, metric: str | None) -> str:
        name = metric or self.metric
        if name not in self.metrics:
            raise InvalidParameterError(
                f"`metric` must be one of this result's metrics; got {name!r}.{did_you_mean(str(name), self.metrics)} "
                f"Metrics: {', '.join(self.metrics)}."
            )
        return name

    def _param(self, name: str, arg: str) -> str:
        if name not in self.params:
            raise InvalidParameterError(
                f"`{arg}` must be a parameter of this search; got {name!r}.{did_you_mean(str(name), self.params)} "
                f"Parameters: {', '.join(self.params)}."
            )
        return name

    def stability(self, *, radius: int = 1, metric: str | None = None) -> Stability:
        """The metric's drop in the neighbourhood of the best set (see :class:`Stability`)."""
        from workbench._validate import check_int

        radius = check_int("radius", radius, 1)
        name = self._metric(metric)
        best = self.best
        cond = pl.col("set") != best["set"]
        for p in self.params:
            col = self.frame[p]
            if col.dtype.is_numeric() and col.n_unique() > 1:
                levels = col.unique().sort()
                pos = levels.search_sorted(best[p])
                lo = levels[max(0, pos - radius)]
                hi = levels[min(levels.len() - 1, pos + radius)]
                cond = cond & pl.col(p).is_between(lo, hi)
            else:
                cond = cond & (pl.col(p) == best[p])
        near = self.frame.filter(cond)
        sign = 1.0 if self.goal == "maximize" else -1.0
        vals = near[name].drop_nulls().drop_nans().to_numpy().astype(np.float64)
        b = float(best[name])
        mean = float(vals.mean()) if vals.size else _NAN
        worst = float((vals * sign).min() * sign) if vals.size else _NAN
        drop = sign * (b - mean) if vals.size else _NAN
        rel = drop / abs(b) if vals.size and b != 0 else _NAN
        return Stability(name, b, mean, worst, int(near.height), drop, rel, near)

    def heatmap(self, x: str, y: str, *, metric: str | None = None, agg: str = "max") -> Any:
        """A heatmap of the metric over two parameters (other parameters aggregated by ``agg``)."""
        from workbench.optimize.plots import heatmap

        return heatmap(self.frame, self._param(x, "x"), self._param(y, "y"), self._metric(metric), agg=agg)

    def parallel_coordinates(self, *, metric: str | None = None, top: int | None = 500) -> Any:
        """A parallel-coordinates plot of the parameters, coloured by the metric's quintile."""
        from workbench.optimize.plots import parallel_coordinates

        frame = self.frame if top is None else self.frame.head(top)
        return parallel_coordinates(frame, self.params, self._metric(metric))

    def summary(self) -> dict[str, Any]:
        """Best parameters, their metrics and the overfitting figures (JSON-ready)."""
        best = self.best
        out: dict[str, Any] = {"best_params": self.best_params,
                               "best": {k: v for k, v in best.items() if k not in self.params and k != "set"},
                               "n_sets": self.frame.height, "metric": self.metric, "goal": self.goal,
                               "engine": self.engine, "elapsed_s": self.elapsed_s}
        if self.overfit is not None:
            out["overfit"] = self.overfit.to_dict()
        return out

    def trials(self, store: Store | None = None) -> pl.DataFrame:
        """The stored trials of this optimization (see :func:`workbench.optimize.trials`)."""
        from workbench.optimize.persist import trials

        return trials(self.run_id, store=store)
