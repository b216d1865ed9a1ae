"""Combinatorially purged cross-validation of a parameter search (López de Prado, AFML ch. 12).

Every parameter set runs once over all the bars (a strategy's decision at a bar reads only the
bars before it), giving its per-bar returns. For each split of
:class:`~workbench.optimize.CombinatorialPurgedKFold` the search picks the set with the best
metric on the split's (purged, embargoed) training bars and keeps that set's returns on the
split's test groups. The test groups recombine into ``φ`` complete out-of-sample paths, so the
search's out-of-sample Sharpe ratio comes as a distribution over paths rather than one number.

Per-bar returns of every set are held in memory (bars × sets floats); searches larger than
``max_sets`` use a uniform random sample of that many sets (always holding the full-sample best).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl

from workbench._validate import check_choice, check_int
from workbench.backtesting.config import BacktestConfig
from workbench.errors import InvalidParameterError
from workbench.optimize import _evaluate as ev
from workbench.optimize.space import search_space
from workbench.optimize.splits import CombinatorialPurgedKFold
from workbench.strategies.base import Strategy

__all__ = ["cross_validate", "CVResult"]

Selection = Literal["sharpe_ratio", "total_return", "mean_return"]


@dataclass(frozen=True, eq=False)
class CVResult:
    """The outcome of :func:`cross_validate`.

    Attributes
    ----------
    splits : polars.DataFrame
        One row per split: ``split``, ``test_groups``, the chosen parameters,
        ``train_<selection>`` and ``test_sharpe_ratio`` (annualized, on its test bars).
    path_sharpe : numpy.ndarray
        Annualized out-of-sample Sharpe ratio of each of the ``φ`` paths.
    path_returns : numpy.ndarray
        ``(n_paths, n_bars)`` out-of-sample per-bar returns of each path.
    n_sets : int
        Parameter sets the search chose from.
    """

    splits: pl.DataFrame
    path_sharpe: np.ndarray
    path_returns: np.ndarray = field(repr=False)
    selection: str
    n_sets: int
    periods_per_year: float

    @property
    def n_paths(self) -> int:
        return int(self.path_sharpe.size)

    def summary(self) -> dict[str, float]:
        """Mean, standard deviation, 5/50/95% quantiles of the paths' Sharpe ratios and the
        fraction of paths at or below zero."""
        s = self.path_sharpe
        q = np.quantile(s, [0.05, 0.5, 0.95]) if s.size else [math.nan] * 3
        return {"mean": float(s.mean()), "std": float(s.std(ddof=1)) if s.size > 1 else math.nan,
                "q05": float(q[0]), "median": float(q[1]), "q95": float(q[2]),
                "p_nonpositive": float(np.mean(s <= 0.0))}

    def __repr__(self) -> str:
        d = self.summary()
        return (f"CVResult({self.splits.height} splits, {self.n_paths} paths, {self.n_sets} sets: OOS Sharpe "
                f"mean {d['mean']:.2f}, median {d['median']:.2f}, 5-95% [{d['q05']:.2f}, {d['q95']:.2f}], "
                f"P(<=0) {d['p_nonpositive']:.2f})")


def _annual_sharpe(r: np.ndarray, ppy: float) -> np.ndarray:
    """Column-wise annualized Sharpe ratio (ddof=1); a flat column scores 0."""
    mean = r.mean(axis=0)
    std = r.std(axis=0, ddof=1) if r.shape[0] > 1 else np.zeros(r.shape[1:])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(std > 0, mean / std, 0.0)
    return out * math.sqrt(ppy)


def _score(r: np.ndarray, selection: str, ppy: float) -> np.ndarray:
    if selection == "sharpe_ratio":
        return _annual_sharpe(r, ppy)
    if selection == "mean_return":
        return r.mean(axis=0)
    return np.prod(1.0 + r, axis=0) - 1.0


def cross_validate(
    bars: Any,
    strategy: type[Strategy] | Strategy,
    *,
    cv: CombinatorialPurgedKFold | None = None,
    selection: Selection = "sharpe_ratio",
    search: Literal["grid", "random"] = "grid",
    n_sets: int = 200,
    max_sets: int = 512,
    seed: int | None = 0,
    constraint: str | Sequence[str] | None = None,
    config: BacktestConfig | None = None,
    engine: Literal["auto", "fused", "backtest"] = "auto",
    **ranges_and_settings: Any,
) -> CVResult:
    """Combinatorially purged cross-validation of a grid or random parameter search.

    Parameters
    ----------
    bars, strategy
        As for :func:`~workbench.optimize.grid`.
    cv
        The splitter (groups, test groups per split, purge, embargo); default
        ``CombinatorialPurgedKFold(6, 2)``: 15 splits, 5 paths.
    selection
        How the search ranks sets on training bars: ``"sharpe_ratio"`` (annualized),
        ``"total_return"`` (compounded) or ``"mean_return"``.
    search, n_sets, seed
        The search: every set of the grid, or ``n_sets`` random sets.
    max_sets
        At most this many sets keep their per-bar returns (a uniform sample beyond it).
    **ranges_and_settings
        Parameter ranges and backtest settings, as for :func:`~workbench.optimize.grid`.

    Examples
    --------
    >>> import workbench as wb
    >>> from workbench.strategies import SmaCross
    >>> res = cross_validate(wb.data.sample("GOOG"), SmaCross, direction="long",
    ...                      fast=range(5, 30, 5), slow=range(30, 90, 10),
    ...                      cv=CombinatorialPurgedKFold(6, 2, embargo=5))
    >>> res.splits.height, res.n_paths, res.path_returns.shape[1]
    (15, 5, 2148)
    """
    cv = cv if cv is not None else CombinatorialPurgedKFold(6, 2)
    if not isinstance(cv, CombinatorialPurgedKFold):
        raise InvalidParameterError(f"`cv` must be a CombinatorialPurgedKFold; got {cv!r}.")
    selection = check_choice("selection", selection, ["sharpe_ratio", "total_return", "mean_return"])
    search = check_choice("search", search, ["grid", "random"])
    max_sets = check_int("max_sets", max_sets, 2)
    cls = strategy if isinstance(strategy, type) else type(strategy)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise InvalidParameterError(f"`strategy` must be a Strategy class such as SmaCross (or an instance); got {strategy!r}.")
    ranges, settings = ev.split_settings(cls, ranges_and_settings)
    cfg = (config or BacktestConfig()).replace(**settings)
    space = search_space(strategy, constraint=constraint, **ranges)
    sets = space.grid() if search == "grid" else space.sample(check_int("n_sets", n_sets, 1), seed=seed)
    if sets.height > max_sets:
        pick = np.sort(np.random.default_rng(seed).choice(sets.height, size=max_sets, replace=False))
        sets = sets[pick]
    data = ev.dataset(bars, cfg)
    evaluator = ev.evaluator(data, cls, cfg, ev.objective("sharpe_ratio"), space, engine=engine)
    returns = evaluator.returns(sets)  # (n_bars, n_sets)
    n = data.n_bars
    ppy = data.periods_per_year
    splits = list(cv.split(n))
    chosen = np.empty(len(splits), dtype=np.int64)
    rows = []
    test_sharpe = np.empty(len(splits))
    for j, (train, test) in enumerate(splits):
        score = _score(returns[train], selection, ppy)
        score = np.where(np.isfinite(score), score, -np.inf)
        best = int(np.argmax(score))
        chosen[j] = best
        test_sharpe[j] = float(_annual_sharpe(returns[test, best : best + 1], ppy)[0])
        rows.append({"split": j, "test_groups": cv.test_groups()[j].tolist(), **sets.row(best, named=True),
                     f"train_{selection}": float(score[best]), "test_sharpe_ratio": test_sharpe[j]})
    bar_split = cv.paths()[:, cv.groups(n)]  # (n_paths, n_bars): the split supplying each bar
    path_returns = returns[np.arange(n)[None, :], chosen[bar_split]]
    path_sharpe = _annual_sharpe(path_returns.T, ppy)
    return CVResult(pl.DataFrame(rows), path_sharpe, path_returns, selection, sets.height, ppy)
