"""Distribution metrics against empyrical, scipy and quantstats (oracles, 1e-9 relative)."""

from __future__ import annotations

import math

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
import quantstats.stats as qs
import scipy.stats

import workbench.metrics as wm
from workbench.errors import InvalidParameterError

RTOL = 1e-9


def close(ours: float, oracle: float) -> None:
    np.testing.assert_allclose(ours, oracle, rtol=RTOL, atol=0.0)


@pytest.mark.parametrize("cutoff", [0.01, 0.05, 0.1])
def test_value_at_risk_matches_empyrical(returns, cutoff):
    close(wm.value_at_risk(returns, cutoff=cutoff), ep.value_at_risk(returns, cutoff=cutoff))


@pytest.mark.parametrize("cutoff", [0.01, 0.05, 0.1])
def test_conditional_value_at_risk_matches_empyrical(returns, cutoff):
    close(wm.conditional_value_at_risk(returns, cutoff=cutoff), ep.conditional_value_at_risk(returns, cutoff=cutoff))


def test_tail_ratio_matches_empyrical_and_quantstats(returns):
    ours = wm.tail_ratio(returns)
    close(ours, ep.tail_ratio(returns))
    close(ours, qs.tail_ratio(pd.Series(returns)))


def test_skew_and_kurtosis_match_scipy(returns):
    close(wm.skew(returns), scipy.stats.skew(returns))
    close(wm.kurtosis(returns), scipy.stats.kurtosis(returns))


def test_quantstats_reports_the_adjusted_estimators_our_docstrings_name(returns):
    n = returns.size
    g1, g2 = wm.skew(returns), wm.kurtosis(returns)
    close(qs.skew(pd.Series(returns)), g1 * math.sqrt(n * (n - 1)) / (n - 2))
    close(qs.kurtosis(pd.Series(returns)), ((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3)))


def test_cvar_is_the_mean_of_the_worst_returns_plain_reference():
    r = np.arange(1.0, 21.0) / 100 - 0.1  # -0.09 ... 0.10
    # (20 - 1) * 0.1 = 1.9 -> the two lowest returns
    assert wm.conditional_value_at_risk(r, cutoff=0.1) == pytest.approx((-0.09 - 0.08) / 2, rel=1e-12)
    assert wm.value_at_risk(r, cutoff=0.1) == pytest.approx(-0.08 + 0.9 * 0.01, rel=1e-12)  # position 1.9


def test_identical_returns_have_zero_skew_and_kurtosis():
    for r in (np.full(30, 0.002), np.zeros(5), np.array([0.01])):
        assert wm.skew(r) == 0.0
        assert wm.kurtosis(r) == 0.0


def test_tail_ratio_conventions():
    assert wm.tail_ratio(np.zeros(20)) == 0.0
    assert math.isnan(wm.tail_ratio(np.r_[np.zeros(20), np.full(5, 0.01)]))  # 5th pct 0, 95th > 0
    assert wm.tail_ratio(np.r_[np.full(5, -0.01), np.zeros(20)]) == 0.0  # 95th pct 0


@pytest.mark.parametrize("cutoff", [0, 0.6, float("nan")])
def test_cutoff_is_validated(cutoff):
    with pytest.raises(InvalidParameterError, match=r"`cutoff` must be a float in \(0, 0\.5\]"):
        wm.value_at_risk([0.1, 0.2], cutoff=cutoff)


def test_spread_below_float_resolution_counts_as_identical():
    r = np.array([2.2250738585e-313, 0.0])  # distinct values whose variance underflows to 0
    assert wm.skew(r) == 0.0 and wm.kurtosis(r) == 0.0
