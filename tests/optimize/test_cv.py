"""Combinatorially purged cross-validation of a parameter search.

Oracles: per-set returns from ``workbench.backtest``, the splitter's own train/test indices
(purge and embargo), and a plain loop that picks each split's best set and assembles the paths
group by group.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import workbench as wb
from workbench.errors import InvalidParameterError
from workbench.metrics import simple_returns
from workbench.optimize import CombinatorialPurgedKFold, cross_validate
from workbench.strategies import SmaCross

SETS = [(f, s) for f in (5, 10, 20) for s in (40, 80)]


@pytest.fixture(scope="module")
def goog():
    return wb.data.sample("GOOG")


@pytest.fixture(scope="module")
def returns(goog):
    cols = []
    for f, s in SETS:
        eq = wb.backtest(goog, SmaCross(fast=f, slow=s, direction="both"), fees=0.001).equity["equity"].to_numpy()
        cols.append(simple_returns(eq, init_cash=10_000.0))
    return np.column_stack(cols)


def _sharpe(r):
    sd = r.std(ddof=1)
    return 0.0 if sd == 0 else r.mean() / sd * math.sqrt(252)


@pytest.mark.parametrize("selection", ["sharpe_ratio", "total_return", "mean_return"])
def test_each_split_picks_the_training_best_and_paths_reassemble(goog, returns, selection):
    cv = CombinatorialPurgedKFold(6, 2, purge=3, embargo=10)
    res = cross_validate(goog, SmaCross, fast=[5, 10, 20], slow=[40, 80], direction="both", fees=0.001, cv=cv,
                         selection=selection)
    n = goog.height
    score = {"sharpe_ratio": _sharpe, "total_return": lambda r: np.prod(1 + r) - 1, "mean_return": np.mean}[selection]
    chosen = []
    for j, (train, test) in enumerate(cv.split(n)):
        scores = [score(returns[train, k]) for k in range(len(SETS))]
        best = int(np.argmax(scores))
        chosen.append(best)
        row = res.splits.row(j, named=True)
        assert (row["fast"], row["slow"]) == SETS[best]
        assert row[f"train_{selection}"] == pytest.approx(scores[best], rel=1e-9)
        assert row["test_sharpe_ratio"] == pytest.approx(_sharpe(returns[test, best]), rel=1e-9)
        assert row["test_groups"] == cv.test_groups()[j].tolist()
    groups = cv.groups(n)
    assert res.n_paths == cv.n_paths == 5
    for p in range(cv.n_paths):
        want = np.empty(n)
        for g in range(cv.n_splits):
            rows = groups == g
            want[rows] = returns[rows, chosen[cv.paths()[p, g]]]
        assert np.allclose(res.path_returns[p], want, rtol=1e-12, atol=1e-15)
        assert res.path_sharpe[p] == pytest.approx(_sharpe(want), rel=1e-9)
    d = res.summary()
    assert d["mean"] == pytest.approx(res.path_sharpe.mean()) and 0.0 <= d["p_nonpositive"] <= 1.0


def test_large_searches_are_sampled(goog):
    res = cross_validate(goog, SmaCross, fast=range(2, 40), slow=range(40, 120, 4), direction="long", max_sets=50)
    assert res.n_sets == 50 and res.splits.height == 15


def test_bad_input(goog):
    with pytest.raises(InvalidParameterError, match="`cv` must be a CombinatorialPurgedKFold"):
        cross_validate(goog, SmaCross, cv=5)
    with pytest.raises(InvalidParameterError, match=r"`selection` must be one of .* Did you mean 'sharpe_ratio'\?"):
        cross_validate(goog, SmaCross, selection="sharpe")
