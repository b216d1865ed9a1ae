"""Overfitting statistics: PSR, DSR, MinTRL and PBO (CSCV).

Oracles: the papers' formulas evaluated directly with scipy.stats, the published numerical example
of the deflated Sharpe ratio paper, numerical integration of the expected maximum of normals, and
a plain loop implementation of combinatorially symmetric cross-validation.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from workbench.errors import DataValidationError, InvalidParameterError, OptimizationError
from workbench.optimize.overfit import (
    annualize_sharpe,
    deannualize_sharpe,
    deflated_sharpe_ratio,
    expected_maximum_sharpe,
    minimum_track_record_length,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)

EULER = 0.5772156649015329


# ----------------------------------------------------------------------------- plain references
def psr_formula(sr, n, skew, kurt, sr_star):
    """Bailey & López de Prado (2012), eq. for PSR, straight from the paper."""
    return stats.norm.cdf((sr - sr_star) * math.sqrt(n - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2))


def sample_moments(r):
    return (
        np.mean(r) / np.std(r, ddof=1),
        len(r),
        stats.skew(r, bias=True),
        stats.kurtosis(r, fisher=False, bias=True),
    )


def pbo_reference(m, s, metric):
    """CSCV by the book: one loop per combination, rows gathered explicitly, scipy ranks."""
    t, n = m.shape
    blocks = np.split(np.arange(t), s)
    logits, is_best, oos_best = [], [], []
    for combo in itertools.combinations(range(s), s // 2):
        is_rows = np.concatenate([blocks[b] for b in combo])
        oos_rows = np.concatenate([blocks[b] for b in range(s) if b not in combo])
        r_is, r_oos = metric(m[is_rows]), metric(m[oos_rows])
        star = int(np.argmax(r_is))
        w = stats.rankdata(r_oos)[star] / (n + 1)
        logits.append(math.log(w / (1 - w)))
        is_best.append(r_is[star])
        oos_best.append(r_oos[star])
    logits = np.array(logits)
    return float(np.mean(logits <= 0)), logits, np.array(is_best), np.array(oos_best)


def sharpe_cols(x):
    return x.mean(axis=0) / x.std(axis=0, ddof=1)


def mean_cols(x):
    return x.mean(axis=0)


# ----------------------------------------------------------------------------- PSR
@pytest.mark.parametrize(
    ("sr", "n", "skew", "kurt", "sr_star"),
    [
        (0.1, 250, 0.0, 3.0, 0.0),
        (0.05, 1000, -1.2, 8.0, 0.02),
        (-0.03, 60, 0.5, 4.0, 0.0),
        (0.2, 24, -2.0, 12.0, 0.1),
    ],
)
def test_psr_matches_the_formula_on_known_moments(sr, n, skew, kurt, sr_star):
    got = probabilistic_sharpe_ratio(sharpe=sr, n=n, skew=skew, kurtosis=kurt, benchmark_sharpe=sr_star)
    assert got == pytest.approx(psr_formula(sr, n, skew, kurt, sr_star), rel=1e-12)


def test_psr_from_returns_uses_sample_moments():
    r = np.random.default_rng(3).standard_t(5, size=500) * 0.01 + 0.0008
    sr, n, skew, kurt = sample_moments(r)
    assert abs(skew) > 0.01 and kurt > 3.2  # the moments matter in this case
    expected = psr_formula(sr, n, skew, kurt, 0.01)
    assert probabilistic_sharpe_ratio(r, benchmark_sharpe=0.01) == pytest.approx(expected, rel=1e-12)


def test_psr_is_one_half_at_the_benchmark():
    assert probabilistic_sharpe_ratio(sharpe=0.07, n=300, skew=-1, kurtosis=6, benchmark_sharpe=0.07) == 0.5
    r = np.random.default_rng(1).normal(0.001, 0.01, 400)
    sr = r.mean() / r.std(ddof=1)
    assert probabilistic_sharpe_ratio(r, benchmark_sharpe=sr) == pytest.approx(0.5, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    sr=st.floats(-0.5, 0.5).filter(lambda x: abs(x) > 1e-3),
    n=st.integers(3, 5000),
    extra=st.integers(1, 5000),
)
def test_psr_is_monotone_in_the_track_record_length(sr, n, extra):
    short = probabilistic_sharpe_ratio(sharpe=sr, n=n)
    long = probabilistic_sharpe_ratio(sharpe=sr, n=n + extra)
    if sr > 0:
        assert long >= short > 0.5
    else:
        assert long <= short < 0.5


def test_psr_2d_returns_give_one_value_per_column():
    m = np.random.default_rng(7).normal(0.0005, 0.01, (300, 4))
    got = probabilistic_sharpe_ratio(m, benchmark_sharpe=0.01)
    assert isinstance(got, np.ndarray) and got.shape == (4,)
    for j in range(4):
        assert got[j] == pytest.approx(probabilistic_sharpe_ratio(m[:, j], benchmark_sharpe=0.01), rel=1e-12)


def test_sharpe_annualization_round_trip():
    assert annualize_sharpe(0.1, periods_per_year=252) == pytest.approx(0.1 * math.sqrt(252))
    assert deannualize_sharpe(annualize_sharpe(0.037, periods_per_year=52), periods_per_year=52) == pytest.approx(0.037)


# ----------------------------------------------------------------------------- DSR
def test_dsr_reproduces_the_papers_example():
    # Bailey & López de Prado (2014), section 5: annual SR 2.5, T = 1250, skew -3, kurtosis 10,
    # N = 100 trials with annualized Sharpe variance 1/2 -> SR0 = 0.1132 (per day), DSR = 0.9004.
    sr = 2.5 / math.sqrt(250)
    assert expected_maximum_sharpe(100, variance=0.5 / 250) == pytest.approx(0.1132, abs=5e-5)
    dsr = deflated_sharpe_ratio(sharpe=sr, n=1250, skew=-3, kurtosis=10, n_trials=100, trials_sharpe_variance=0.5 / 250)
    assert dsr == pytest.approx(0.9004, abs=2e-4)


@pytest.mark.parametrize("n_trials", [10, 100, 1000])
def test_expected_maximum_is_close_to_the_exact_expectation(n_trials):
    # E[max of N standard normals] = integral of x * N * phi(x) * Phi(x)**(N-1)
    exact, _ = integrate.quad(
        lambda x: x * n_trials * stats.norm.pdf(x) * stats.norm.cdf(x) ** (n_trials - 1), -10, 10
    )
    approx = expected_maximum_sharpe(n_trials, variance=1.0)
    assert approx == pytest.approx(exact, rel=0.03)
    assert expected_maximum_sharpe(n_trials, variance=4.0) == pytest.approx(2 * approx)


def test_dsr_is_the_psr_against_the_expected_maximum():
    r = np.random.default_rng(11).normal(0.001, 0.01, 750)
    trials = np.random.default_rng(12).normal(0.0, 0.04, 50)
    v = np.var(trials, ddof=1)
    sr0 = math.sqrt(v) * ((1 - EULER) * stats.norm.ppf(1 - 1 / 50) + EULER * stats.norm.ppf(1 - 1 / (50 * math.e)))
    sr, n, skew, kurt = sample_moments(r)
    expected = psr_formula(sr, n, skew, kurt, sr0)
    assert deflated_sharpe_ratio(r, trial_sharpes=trials) == pytest.approx(expected, rel=1e-12)
    assert deflated_sharpe_ratio(r, n_trials=50, trials_sharpe_variance=v) == pytest.approx(expected, rel=1e-12)
    # more trials -> a higher bar -> a lower DSR
    assert deflated_sharpe_ratio(r, n_trials=500, trial_sharpes=trials) < expected


def test_one_trial_is_not_deflated():
    assert deflated_sharpe_ratio(sharpe=0.1, n=200, n_trials=1, trials_sharpe_variance=0.01) == pytest.approx(
        probabilistic_sharpe_ratio(sharpe=0.1, n=200)
    )


def _noise(seed, t=1000, n=200):
    return np.random.default_rng(seed).normal(0.0, 0.01, (t, n))


def test_a_search_over_noise_is_flagged_as_overfit():
    pbos, dsrs, psrs = [], [], []
    for seed in range(8):
        m = _noise(seed)
        pbos.append(probability_of_backtest_overfitting(m, n_splits=10).pbo)
        srs = sharpe_cols(m)
        best = int(np.argmax(srs))
        dsrs.append(deflated_sharpe_ratio(m[:, best], trial_sharpes=srs))
        psrs.append(probabilistic_sharpe_ratio(m[:, best]))
    # the IS winner is an OOS coin flip: PBO around 1/2
    assert 0.35 < np.mean(pbos) < 0.65
    assert min(pbos) > 0.15
    # the best of 200 noise strategies looks significant on its own, but not once deflated
    assert min(psrs) > 0.95
    assert max(dsrs) < 0.95
    assert np.mean(dsrs) < 0.7


def test_a_real_edge_survives():
    # one configuration earns 0.1 sigma per period; 200 noise configurations beside it.
    # (Over 2,000 periods that edge is only ~1.7 standard errors above the best-of-200 noise
    # Sharpe ratio, so its DSR is ~0.94 on average; 8,000 periods make the test decisive.)
    for seed in range(3):
        rng = np.random.default_rng(100 + seed)
        m = rng.normal(0.0, 1.0, (8000, 200))
        m[:, 17] += 0.1
        res = probability_of_backtest_overfitting(m, n_splits=10)
        srs = sharpe_cols(m)
        assert int(np.argmax(srs)) == 17
        assert res.pbo < 0.1
        assert np.all(res.best_config == 17)
        assert deflated_sharpe_ratio(m[:, 17], trial_sharpes=srs) > 0.95


# ----------------------------------------------------------------------------- MinTRL
@pytest.mark.parametrize(
    ("sr", "skew", "kurt", "sr_star", "conf"),
    [(0.1, 0.0, 3.0, 0.0, 0.95), (0.05, -1.5, 9.0, 0.01, 0.99), (0.3, 0.8, 4.0, 0.1, 0.9)],
)
def test_min_trl_is_where_psr_reaches_the_confidence(sr, skew, kurt, sr_star, conf):
    trl = minimum_track_record_length(sharpe=sr, skew=skew, kurtosis=kurt, benchmark_sharpe=sr_star, confidence=conf)
    assert psr_formula(sr, trl, skew, kurt, sr_star) == pytest.approx(conf, abs=1e-10)
    assert psr_formula(sr, trl * 1.2, skew, kurt, sr_star) > conf > psr_formula(sr, trl * 0.8, skew, kurt, sr_star)


def test_min_trl_from_returns_and_when_unreachable():
    r = np.random.default_rng(5).normal(0.001, 0.01, 400)
    sr, _, skew, kurt = sample_moments(r)
    trl = minimum_track_record_length(r, confidence=0.9)
    assert psr_formula(sr, trl, skew, kurt, 0.0) == pytest.approx(0.9, abs=1e-10)
    assert minimum_track_record_length(sharpe=0.02, benchmark_sharpe=0.02) == math.inf
    assert minimum_track_record_length(sharpe=-0.1) == math.inf


# ----------------------------------------------------------------------------- PBO
@pytest.mark.parametrize(("metric", "fn"), [("sharpe", sharpe_cols), ("mean", mean_cols)])
@pytest.mark.parametrize("s", [2, 6, 8])
def test_pbo_matches_the_plain_cscv(metric, fn, s):
    rng = np.random.default_rng(s)
    m = rng.normal(0.0, 0.01, (240, 12)) + rng.normal(0, 0.0005, 12)
    pbo, logits, is_best, oos_best = pbo_reference(m, s, fn)
    res = probability_of_backtest_overfitting(m, n_splits=s, metric=metric)
    assert res.pbo == pytest.approx(pbo)
    np.testing.assert_allclose(res.logits, logits, rtol=1e-12)
    np.testing.assert_allclose(res.is_performance, is_best, rtol=1e-9)
    np.testing.assert_allclose(res.oos_performance, oos_best, rtol=1e-9)
    assert res.n_combinations == math.comb(s, s // 2)


def test_pbo_with_a_callable_metric_equals_the_reference():
    m = np.random.default_rng(9).normal(0.0, 0.01, (120, 6))

    def sortino_like(x):
        down = np.sqrt(np.mean(np.minimum(x, 0.0) ** 2, axis=0))
        return x.mean(axis=0) / down

    pbo, logits, _, _ = pbo_reference(m, 6, sortino_like)
    res = probability_of_backtest_overfitting(m, n_splits=6, metric=sortino_like)
    assert res.pbo == pytest.approx(pbo)
    np.testing.assert_allclose(res.logits, logits, rtol=1e-12)
    assert res.metric == "sortino_like"


def test_pbo_ignores_column_order_and_scale():
    m = np.random.default_rng(21).normal(0.0, 0.01, (320, 30))
    base = probability_of_backtest_overfitting(m, n_splits=8)
    perm = np.random.default_rng(0).permutation(30)
    shuffled = probability_of_backtest_overfitting(m[:, perm] * 3.0, n_splits=8)
    np.testing.assert_allclose(shuffled.logits, base.logits)
    np.testing.assert_array_equal(perm[shuffled.best_config], base.best_config)


def test_pbo_handles_flat_configurations_and_ties():
    rng = np.random.default_rng(4)
    m = rng.normal(0.0, 0.01, (200, 5))
    m[:, 2] = 0.0  # a configuration that never trades
    m[:, 4] = m[:, 3]  # a duplicate
    res = probability_of_backtest_overfitting(m, n_splits=4)
    assert np.isfinite(res.logits).all()
    with np.errstate(invalid="ignore"):
        pbo, logits, _, _ = pbo_reference(m, 4, lambda x: np.nan_to_num(sharpe_cols(x)))
    np.testing.assert_allclose(res.logits, logits, rtol=1e-12)


def test_pbo_result_is_frozen_and_summarised():
    m = np.random.default_rng(2).normal(0.0, 0.01, (100, 4))
    res = probability_of_backtest_overfitting(m, n_splits=4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.pbo = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.logits[0] = 1.0
    d = res.to_dict()
    assert d["pbo"] == res.pbo and d["n_combinations"] == 6 and d["metric"] == "sharpe"
    assert d["probability_of_loss"] == pytest.approx(np.mean(res.oos_performance < 0))
    slope = np.polyfit(res.is_performance, res.oos_performance, 1)[0]
    assert d["degradation_slope"] == pytest.approx(slope)


def test_pbo_of_a_large_search_uses_every_combination():
    # its speed is measured by benchmarks/bench_scale.py
    m = np.random.default_rng(0).normal(0.0, 0.01, (2000, 1000))
    res = probability_of_backtest_overfitting(m, n_splits=16)
    assert res.n_combinations == 12870 == res.logits.size
    assert 0.0 <= res.pbo <= 1.0


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sharpe": 0.1, "n": 1}, InvalidParameterError, "`n` must be an integer in \\[2, inf\\); got 1"),
        ({"sharpe": float("nan"), "n": 10}, InvalidParameterError, "`sharpe`"),
        ({"sharpe": float("inf"), "n": 10}, InvalidParameterError, "`sharpe` must be finite"),
        ({"sharpe": 0.1, "n": 10, "kurtosis": 0.5}, InvalidParameterError, "`kurtosis` must be a float in \\[1, inf\\)"),
        ({"sharpe": 0.1, "n": 10, "skew": 2.0, "kurtosis": 3.0}, InvalidParameterError, "at least 1 \\+ skew\\*\\*2 = 5"),
        ({"sharpe": 0.1}, InvalidParameterError, "`n`"),
        ({}, InvalidParameterError, "`sharpe` must be given"),
        ({"returns": [0.01, 0.02], "sharpe": 0.1}, InvalidParameterError, "either `returns` or the moments"),
        ({"returns": [0.01]}, DataValidationError, "at least 2 observations; got 1"),
        ({"returns": [0.01, float("nan"), 0.02]}, DataValidationError, "must be finite; row 1"),
        ({"returns": [0.01, 0.01, 0.01]}, DataValidationError, "zero variance"),
        ({"returns": np.zeros((2, 2, 2))}, DataValidationError, "1-D"),
        ({"sharpe": 0.1, "n": 10, "benchmark_sharpe": float("inf")}, InvalidParameterError, "`benchmark_sharpe`"),
    ],
)
def test_psr_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        probabilistic_sharpe_ratio(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_trials": 10}, "exactly one of `trials_sharpe_variance` and `trial_sharpes`"),
        ({"n_trials": 10, "trials_sharpe_variance": 0.1, "trial_sharpes": [0.1, 0.2]}, "exactly one"),
        ({"n_trials": 0, "trials_sharpe_variance": 0.1}, "`n_trials` must be an integer in \\[1, inf\\); got 0"),
        ({"trials_sharpe_variance": 0.1}, "`n_trials`"),
        ({"n_trials": 5, "trials_sharpe_variance": -0.1}, "`trials_sharpe_variance` must be a float in \\[0, inf\\)"),
    ],
)
def test_dsr_rejects_bad_trial_information(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        deflated_sharpe_ratio(sharpe=0.1, n=100, **kwargs)
    with pytest.raises(DataValidationError, match="`trial_sharpes`"):
        deflated_sharpe_ratio(sharpe=0.1, n=100, trial_sharpes=[0.1, float("nan")])


def test_min_trl_rejects_bad_confidence():
    with pytest.raises(InvalidParameterError, match="`confidence` must be a float in \\(0, 1\\); got 1.0"):
        minimum_track_record_length(sharpe=0.1, confidence=1.0)


@pytest.mark.parametrize(
    ("matrix", "kwargs", "error", "match"),
    [
        (np.zeros((100, 1)), {}, OptimizationError, "at least 2 configurations"),
        (np.zeros(100), {}, DataValidationError, "must be 2-D"),
        (np.full((100, 3), np.nan), {}, DataValidationError, "must be finite; got nan at row 0, column 0"),
        (np.ones((100, 3)), {"n_splits": 7}, InvalidParameterError, "`n_splits` must be even"),
        (np.ones((100, 3)), {"n_splits": 22}, InvalidParameterError, "`n_splits` must be an integer in \\[2, 20\\]; got 22"),
        (np.ones((100, 3)), {"n_splits": 0}, InvalidParameterError, "`n_splits`"),
        (np.ones((30, 3)), {"n_splits": 16}, OptimizationError, "30 rows, too few for `n_splits`=16"),
        (np.ones((100, 3)), {"metric": "sharp"}, InvalidParameterError, "Did you mean 'sharpe'"),
        (np.ones((100, 3)), {"metric": lambda x: x.mean()}, InvalidParameterError, "`metric` must map"),
    ],
)
def test_pbo_rejects_bad_input(matrix, kwargs, error, match):
    with pytest.raises(error, match=match):
        probability_of_backtest_overfitting(matrix, **kwargs)
