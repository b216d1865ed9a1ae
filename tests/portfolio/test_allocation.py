"""Allocation methods against skfolio (same moments, equivalent constraints) and plain references.

skfolio is given the same covariance and expected returns through ``EmpiricalPrior`` with
``EmpiricalCovariance(nearest=False)`` or ``LedoitWolf(nearest=False)`` (no nearest-PD repair),
and tight Clarabel tolerances so both sides solve the same problem to the same precision.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skfolio import RiskMeasure
from skfolio.cluster import HierarchicalClustering, LinkageMethod
from skfolio.datasets import load_sp500_dataset
from skfolio.distance import PearsonDistance
from skfolio.moments import EmpiricalCovariance, EmpiricalMu
from skfolio.moments import LedoitWolf as SkLedoitWolf
from skfolio.optimization import HierarchicalRiskParity, MeanRisk, ObjectiveFunction, RiskBudgeting
from skfolio.preprocessing import prices_to_returns
from skfolio.prior import EmpiricalPrior
from skfolio.seriation import HierarchicalSeriation

from workbench.errors import DataValidationError, InvalidParameterError, OptimizationError
from workbench.portfolio import (
    AllocationResult,
    Constraints,
    allocate,
    equal_weight,
    hierarchical_risk_parity,
    inverse_volatility,
    mean_variance,
    min_variance,
    risk_contributions,
    risk_parity,
    sample_covariance,
)

TIGHT = {
    "tol_gap_abs": 1e-12,
    "tol_gap_rel": 1e-12,
    "tol_feas": 1e-12,
    "tol_ktratio": 1e-10,
    "max_iter": 500,
}
TOL = 1e-4


@pytest.fixture(scope="module")
def sp500() -> pd.DataFrame:
    """One year of daily returns of the 20 stocks of skfolio's S&P 500 sample."""
    return prices_to_returns(load_sp500_dataset()).iloc[-250:]


def _prior(cov: str = "sample") -> EmpiricalPrior:
    estimator = (
        EmpiricalCovariance(nearest=False) if cov == "sample" else SkLedoitWolf(nearest=False)
    )
    return EmpiricalPrior(mu_estimator=EmpiricalMu(), covariance_estimator=estimator)


def _mean_risk(X: pd.DataFrame, cov: str = "sample", **kw) -> np.ndarray:
    kw.setdefault("objective_function", ObjectiveFunction.MINIMIZE_RISK)
    model = MeanRisk(
        risk_measure=RiskMeasure.VARIANCE, prior_estimator=_prior(cov), solver_params=TIGHT, **kw
    )
    return model.fit(X).weights_


def _pl(X: pd.DataFrame) -> pl.DataFrame:
    return pl.from_pandas(X.reset_index()).rename({"Date": "ts"})


# ----------------------------------------------------------------------------- skfolio: mean-variance


@pytest.mark.parametrize("cov", ["sample", "ledoit_wolf"])
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({}, {}),
        ({"min_weight": 0.02, "max_weight": 0.12}, {"min_weights": 0.02, "max_weights": 0.12}),
        (
            {"long_only": False, "min_weight": -0.1, "max_weight": 0.25},
            {"min_weights": -0.1, "max_weights": 0.25},
        ),
    ],
    ids=["long-only", "bounded", "shorts"],
)
def test_min_variance_matches_skfolio(sp500, cov, ours, theirs):
    expected = _mean_risk(sp500, cov, **theirs)
    got = allocate(
        _pl(sp500), method="min_variance", covariance=cov, constraints=Constraints(**ours)
    )
    assert np.abs(got.to_numpy() - expected).max() < TOL
    assert got.assets == list(sp500.columns)
    assert got.solver_status == "optimal"


def test_min_variance_with_per_asset_dict_bounds_matches_skfolio(sp500):
    caps = {"AAPL": 0.05, "JNJ": 0.1, "PG": 0.1, "XOM": 0.08}
    expected = _mean_risk(sp500, max_weights=caps)
    got = allocate(
        sp500, method="min_variance", covariance="sample", constraints=Constraints(max_weight=caps)
    )
    assert np.abs(got.to_numpy() - expected).max() < TOL
    assert got.to_dict()["JNJ"] <= 0.1 + 1e-8


@pytest.mark.parametrize("cov", ["sample", "ledoit_wolf"])
@pytest.mark.parametrize(
    ("ours", "theirs", "rf"),
    [
        ({}, {}, 0.0),
        (
            {"min_weight": 0.01, "max_weight": 0.15},
            {"min_weights": 0.01, "max_weights": 0.15},
            1e-4,
        ),
        (
            {"long_only": False, "min_weight": -0.2, "max_weight": 0.4},
            {"min_weights": -0.2, "max_weights": 0.4},
            0.0,
        ),
    ],
    ids=["long-only", "bounded-rf", "shorts"],
)
def test_max_sharpe_matches_skfolio(sp500, cov, ours, theirs, rf):
    expected = _mean_risk(
        sp500, cov, objective_function=ObjectiveFunction.MAXIMIZE_RATIO, risk_free_rate=rf, **theirs
    )
    got = allocate(
        sp500,
        method="mean_variance",
        covariance=cov,
        risk_free_rate=rf,
        constraints=Constraints(**ours),
    )
    assert np.abs(got.to_numpy() - expected).max() < TOL


def test_target_return_and_target_volatility_match_skfolio(sp500):
    mu, cov = sp500.mean().to_numpy(), sample_covariance(sp500)
    target = 0.5 * (mu.max() + float(np.clip(mu, 0, None).mean()))
    expected = _mean_risk(sp500, min_return=target)
    got = mean_variance(mu, cov, objective="target_return", target_return=target)
    assert np.abs(got - expected).max() < TOL
    assert got @ mu >= target - 1e-9

    vol = 0.011
    expected = _mean_risk(
        sp500, objective_function=ObjectiveFunction.MAXIMIZE_RETURN, max_standard_deviation=vol
    )
    got = mean_variance(mu, cov, objective="target_volatility", target_volatility=vol)
    assert np.abs(got - expected).max() < TOL
    assert np.sqrt(got @ cov @ got) <= vol + 1e-9


def test_group_bounds_match_skfolio(sp500):
    names = list(sp500.columns)
    tech, banks = ["AAPL", "AMD", "MSFT"], ["BAC", "JPM"]
    labels = ["tech" if a in tech else "banks" if a in banks else "other" for a in names]
    expected = _mean_risk(
        sp500,
        objective_function=ObjectiveFunction.MAXIMIZE_RATIO,
        groups=[labels],
        linear_constraints=["tech >= 0.3", "tech <= 0.4", "banks >= 0.1"],
    )
    c = Constraints(
        groups={"tech": tech, "banks": banks},
        group_min={"tech": 0.3, "banks": 0.1},
        group_max={"tech": 0.4},
    )
    got = allocate(sp500, method="mean_variance", covariance="sample", constraints=c)
    w = got.to_dict()
    assert np.abs(got.to_numpy() - expected).max() < TOL
    assert 0.3 - 1e-8 <= sum(w[a] for a in tech) <= 0.4 + 1e-8
    assert sum(w[a] for a in banks) >= 0.1 - 1e-8


def test_leverage_matches_skfolio_max_short(sp500):
    # with net exposure 1, Σ|w| ≤ L  ⇔  Σ max(-w, 0) ≤ (L - 1) / 2
    leverage = 1.6
    expected = _mean_risk(sp500, min_weights=-1.0, max_weights=1.0, max_short=(leverage - 1) / 2)
    c = Constraints(long_only=False, min_weight=-1.0, max_weight=1.0, leverage=leverage)
    got = allocate(sp500, method="min_variance", covariance="sample", constraints=c).to_numpy()
    assert np.abs(got - expected).max() < TOL
    assert np.abs(got).sum() <= leverage + 1e-8


def test_turnover_limit_matches_a_split_variable_reference(sp500):
    """Reference: w = w0 + u − v with u, v ≥ 0 and Σ(u + v) ≤ τ, variance as a quadratic form."""
    cov = sample_covariance(sp500)
    n = cov.shape[0]
    prev = np.full(n, 1.0 / n)
    tau = 0.3
    u, v = cp.Variable(n, nonneg=True), cp.Variable(n, nonneg=True)
    w_ref = prev + u - v
    problem = cp.Problem(
        cp.Minimize(cp.quad_form(w_ref, cp.psd_wrap(cov * 1e4))),
        [cp.sum(w_ref) == 1, w_ref >= 0, cp.sum(u + v) <= tau],
    )
    problem.solve(solver=cp.CLARABEL, **TIGHT)
    got = allocate(
        sp500,
        method="min_variance",
        covariance="sample",
        constraints=Constraints(max_turnover=tau),
        previous_weights=prev,
    )
    assert np.abs(got.to_numpy() - w_ref.value).max() < TOL
    assert got.turnover == pytest.approx(np.abs(got.to_numpy() - prev).sum())
    assert got.turnover <= tau + 1e-8


# ----------------------------------------------------------------------------- skfolio: HRP, risk parity


@pytest.mark.parametrize("linkage", ["single", "average", "complete", "ward"])
def test_hierarchical_risk_parity_matches_skfolio(sp500, linkage):
    """skfolio defaults to Ward linkage with optimal leaf ordering; López de Prado's HRP (ours) uses
    single linkage and the plain dendrogram order, so skfolio is configured to match."""
    clustering = HierarchicalClustering(linkage_method=LinkageMethod(linkage))
    model = HierarchicalRiskParity(
        risk_measure=RiskMeasure.VARIANCE,
        prior_estimator=_prior("sample"),
        distance_estimator=PearsonDistance(),
        seriation_estimator=HierarchicalSeriation(
            hierarchical_clustering_estimator=clustering, optimal_ordering=False
        ),
    ).fit(sp500)
    got = allocate(sp500, method="hierarchical_risk_parity", covariance="sample", linkage=linkage)
    assert np.abs(got.to_numpy() - model.weights_).max() < 1e-10


def test_hierarchical_risk_parity_of_uncorrelated_assets_is_inverse_variance():
    var = np.array([0.04, 0.01, 0.02, 0.05])
    expected = (1 / var) / (1 / var).sum()
    assert np.allclose(hierarchical_risk_parity(np.diag(var)), expected, rtol=1e-12)


@pytest.mark.parametrize("cov", ["sample", "ledoit_wolf"])
def test_risk_parity_equalises_risk_contributions(sp500, cov):
    got = allocate(sp500, method="risk_parity", covariance=cov)
    rc = got.weights["risk_contribution"].to_numpy()
    assert np.abs(rc - 1.0 / len(rc)).max() < 1e-6
    assert got.to_numpy().min() > 0
    expected = RiskBudgeting(
        risk_measure=RiskMeasure.VARIANCE, prior_estimator=_prior(cov), solver_params=TIGHT
    )
    assert np.abs(got.to_numpy() - expected.fit(sp500).weights_).max() < TOL


def test_risk_budgets_are_met(sp500):
    cov = sample_covariance(sp500)
    budget = np.arange(1, cov.shape[0] + 1, dtype=float)
    w = risk_parity(cov, risk_budget=budget)
    assert np.abs(risk_contributions(w, cov) - budget / budget.sum()).max() < 1e-6


def test_risk_budget_by_asset_name():
    cov = np.array([[0.04, 0.006], [0.006, 0.01]])
    w = risk_parity(cov, risk_budget={"a": 3.0, "b": 1.0}, assets=["a", "b"])
    assert np.allclose(risk_contributions(w, cov), [0.75, 0.25], atol=1e-9)


def test_inverse_volatility_and_equal_weight_reference(sp500):
    sd = sp500.std(ddof=1).to_numpy()
    got = allocate(sp500, method="inverse_volatility", covariance="sample").to_numpy()
    assert np.allclose(got, (1 / sd) / (1 / sd).sum(), rtol=1e-12)
    eq = allocate(sp500, method="equal_weight", constraints=Constraints(net_exposure=0.8))
    assert np.allclose(eq.to_numpy(), 0.8 / sp500.shape[1])
    assert equal_weight(3).sum() == pytest.approx(1.0)


def test_risk_contributions_reference():
    cov = np.array([[0.04, 0.01], [0.01, 0.09]])
    w = np.array([0.6, 0.4])
    var = w @ cov @ w
    expected = [0.6 * (0.6 * 0.04 + 0.4 * 0.01) / var, 0.4 * (0.6 * 0.01 + 0.4 * 0.09) / var]
    assert np.allclose(risk_contributions(w, cov), expected, rtol=1e-12)


# ----------------------------------------------------------------------------- result


def test_result_is_frozen_and_consistent(sp500):
    res = allocate(sp500.iloc[:, :5], method="min_variance", previous_weights=[0.2] * 5)
    assert isinstance(res, AllocationResult)
    assert res.weights.schema == pl.Schema(
        {"asset": pl.String, "weight": pl.Float64, "risk_contribution": pl.Float64}
    )
    assert res.weights["risk_contribution"].sum() == pytest.approx(1.0)
    w, cov = res.to_numpy(), np.asarray(pd.DataFrame(sp500.iloc[:, :5]).cov())
    assert res.covariance_method == "ledoit_wolf"
    assert res.expected_return == pytest.approx(float(sp500.iloc[:, :5].mean().to_numpy() @ w))
    assert res.volatility > 0 and res.volatility < np.sqrt(cov.diagonal().max())
    assert res.turnover == pytest.approx(np.abs(w - 0.2).sum())
    with pytest.raises(AttributeError):
        res.method = "x"  # type: ignore[misc]


def test_min_variance_is_column_order_invariant(sp500):
    x = sp500.to_numpy()
    perm = np.random.default_rng(7).permutation(x.shape[1])
    base = allocate(x, method="min_variance").to_numpy()
    permuted = allocate(x[:, perm], method="min_variance").to_numpy()
    assert np.abs(permuted - base[perm]).max() < 1e-6


def test_precomputed_moments_are_used(sp500):
    x = sp500.to_numpy()
    cov = np.diag(np.linspace(1e-4, 4e-4, x.shape[1]))
    got = allocate(x, method="min_variance", covariance=cov)
    assert got.covariance_method == "given"
    inv = 1 / np.diag(cov)
    assert np.abs(got.to_numpy() - inv / inv.sum()).max() < 1e-6


# ----------------------------------------------------------------------------- properties


def _random_cov(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(n + 5, n)) * rng.uniform(0.005, 0.03, size=n)
    return factor.T @ factor / (n + 5)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 8),
    lo_frac=st.floats(0.0, 0.9),
    hi_frac=st.floats(1.1, 3.0),
    group_cap=st.floats(0.2, 1.0),
)
def test_long_only_weights_respect_bounds_and_groups(seed, n, lo_frac, hi_frac, group_cap):
    cov = _random_cov(seed, n)
    mu = (
        np.abs(np.random.default_rng(seed + 1).normal(0.001, 0.002, size=n)) + 1e-5
    )  # all above r_f
    names = [f"s{i}" for i in range(n)]
    lo, hi = lo_frac / n, min(hi_frac / n, 1.0)
    group = names[: max(1, n // 2)]
    group_cap = max(group_cap, lo * len(group), 1.0 - (n - len(group)) * hi + 1e-6)
    c = Constraints(min_weight=lo, max_weight=hi, groups={"g": group}, group_max={"g": group_cap})
    for w in (
        min_variance(cov, constraints=c, assets=names),
        mean_variance(mu, cov, constraints=c, assets=names),
    ):
        assert w.sum() == pytest.approx(1.0, abs=1e-8)
        assert (w >= lo - 1e-8).all() and (w <= hi + 1e-8).all()
        assert w.min() >= -1e-10
        assert w[: len(group)].sum() <= group_cap + 1e-8


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 8),
    leverage=st.floats(1.0, 3.0),
    net=st.floats(-0.5, 1.0),
)
def test_short_weights_respect_leverage_and_net_exposure(seed, n, leverage, net):
    leverage = max(leverage, abs(net))
    cov = _random_cov(seed, n)
    c = Constraints(
        long_only=False, min_weight=-1.0, max_weight=1.0, leverage=leverage, net_exposure=net
    )
    w = min_variance(cov, constraints=c)
    assert w.sum() == pytest.approx(net, abs=1e-8)
    assert np.abs(w).sum() <= leverage + 1e-8


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 10))
def test_heuristics_are_long_only_and_fully_invested(seed, n):
    cov = _random_cov(seed, n)
    for w in (
        inverse_volatility(cov),
        hierarchical_risk_parity(cov),
        risk_parity(cov),
        equal_weight(n),
    ):
        assert w.sum() == pytest.approx(1.0, abs=1e-12)
        assert w.min() >= 0


# ----------------------------------------------------------------------------- bad inputs


def test_max_sharpe_with_no_return_above_risk_free_names_the_fix():
    mu, cov = np.array([-0.001, 0.0002]), np.diag([0.04, 0.01])
    with pytest.raises(
        OptimizationError,
        match=r"no expected return exceeds `risk_free_rate` = 0.0005.*Lower `risk_free_rate`",
    ):
        mean_variance(mu, cov, risk_free_rate=0.0005)


def test_max_sharpe_with_bounds_forcing_a_negative_excess_return_is_explained():
    mu, cov = np.array([-0.001, 0.002]), np.diag([0.04, 0.01])
    with pytest.raises(
        OptimizationError, match=r"above `risk_free_rate`.*highest attainable is -0.0004"
    ):
        mean_variance(mu, cov, constraints=Constraints(max_weight={"asset_1": 0.2}))


def test_singular_covariance_is_an_error_unless_shrunk(sp500):
    short = sp500.iloc[:10]  # 10 observations, 20 assets
    with pytest.raises(OptimizationError, match=r"singular \(rank 9 of 20.*ledoit_wolf"):
        allocate(short, method="min_variance", covariance="sample")
    with pytest.raises(OptimizationError, match=r"singular"):
        allocate(short, method="risk_parity", covariance="sample")
    w = allocate(short, method="min_variance", covariance="ledoit_wolf").to_numpy()
    assert np.isfinite(w).all() and w.sum() == pytest.approx(1.0)


def test_zero_variance_asset_is_named():
    x = np.array([[0.01, 0.0], [-0.02, 0.0], [0.03, 0.0]])
    with pytest.raises(OptimizationError, match=r"asset 'B' has zero variance"):
        allocate(x, method="hierarchical_risk_parity", covariance="sample", assets=["A", "B"])


@pytest.mark.parametrize(
    ("constraints", "pattern"),
    [
        (Constraints(max_weight=0.04), r"`max_weight` bounds sum to only 0.8"),
        (Constraints(min_weight=0.06), r"`min_weight` bounds .* sum to 1.2"),
    ],
)
def test_bounds_that_cannot_sum_to_one_are_named(sp500, constraints, pattern):
    with pytest.raises(OptimizationError, match=pattern):
        allocate(sp500, method="min_variance", constraints=constraints)


def test_infeasible_group_bounds_name_the_constraints(sp500):
    c = Constraints(max_weight=0.1, groups={"tech": ["AAPL", "AMD"]}, group_min={"tech": 0.5})
    with pytest.raises(
        OptimizationError,
        match=r"no portfolio satisfies the constraints together \(`max_weight`, `groups`",
    ):
        allocate(sp500, method="min_variance", constraints=c)


def test_unattainable_targets_name_the_attainable_range():
    mu, cov = np.array([0.001, 0.002]), np.diag([0.04, 0.01])
    with pytest.raises(
        OptimizationError,
        match=r"`target_return` = 0.003 is above the highest attainable expected return 0.002",
    ):
        mean_variance(mu, cov, objective="target_return", target_return=0.003)
    with pytest.raises(
        OptimizationError,
        match=r"`target_volatility` = 0.01 is below the lowest attainable volatility 0.0894",
    ):
        mean_variance(mu, cov, objective="target_volatility", target_volatility=0.01)
    with pytest.raises(InvalidParameterError, match=r"needs `target_return`"):
        mean_variance(mu, cov, objective="target_return")


def test_unknown_asset_names_suggest_the_closest(sp500):
    with pytest.raises(
        InvalidParameterError, match=r"`max_weight` names asset 'APPL'.*Did you mean 'AAPL'"
    ):
        allocate(sp500, constraints=Constraints(max_weight={"APPL": 0.1}))
    with pytest.raises(
        InvalidParameterError, match=r"group 'tech' .* names asset 'MSFTT'.*Did you mean 'MSFT'"
    ):
        allocate(
            sp500,
            constraints=Constraints(groups={"tech": ["AAPL", "MSFTT"]}, group_max={"tech": 0.3}),
        )


def test_bad_returns_are_rejected(sp500):
    x = sp500.to_numpy().copy()
    x[5, 3] = np.nan
    with pytest.raises(
        DataValidationError, match=r"column .BBY. has a non-finite value \(nan\) at row 5"
    ):
        allocate(pd.DataFrame(x, columns=sp500.columns))
    with pytest.raises(DataValidationError, match=r"at least 2 observations"):
        allocate(sp500.iloc[:1])


def test_non_square_covariance_is_rejected(sp500):
    with pytest.raises(
        DataValidationError, match=r"`covariance` must be a square .* shape \(20, 19\)"
    ):
        allocate(sp500, covariance=np.eye(20)[:, :19])
    with pytest.raises(DataValidationError, match=r"`cov` must be a square"):
        min_variance(np.ones((3, 2)))


def test_previous_weights_must_sum_as_declared(sp500):
    c = Constraints(max_turnover=0.2)
    with pytest.raises(
        DataValidationError, match=r"`previous_weights` sum to 0.5 but `net_exposure` is 1"
    ):
        allocate(sp500, constraints=c, previous_weights=[0.025] * 20)
    with pytest.raises(
        InvalidParameterError, match=r"`max_turnover` is set but no `previous_weights`"
    ):
        allocate(sp500, constraints=c)


def test_options_and_methods_are_checked(sp500):
    with pytest.raises(
        InvalidParameterError, match=r"`method` must be one of.*Did you mean 'min_variance'"
    ):
        allocate(sp500, method="min_varience")
    with pytest.raises(
        InvalidParameterError, match=r"takes no option `objectve`.*Did you mean 'objective'"
    ):
        allocate(sp500, method="mean_variance", objectve="max_sharpe")
    with pytest.raises(
        InvalidParameterError, match=r"'hierarchical_risk_parity' cannot honour `max_weight`"
    ):
        allocate(sp500, method="hierarchical_risk_parity", constraints=Constraints(max_weight=0.2))


def test_constraints_config_rejects_bad_values():
    with pytest.raises(
        InvalidParameterError, match=r"`min_weight` is -0.1 < 0 but `long_only=True`"
    ):
        Constraints(min_weight=-0.1)
    with pytest.raises(
        InvalidParameterError, match=r"`leverage` must be >= \|net_exposure\| = 1; got 0.5"
    ):
        Constraints(leverage=0.5)
    with pytest.raises(
        InvalidParameterError, match=r"`group_max` names group 'tehc'.*Did you mean 'tech'"
    ):
        Constraints(groups={"tech": ["A"]}, group_max={"tehc": 0.3})
    with pytest.raises(
        InvalidParameterError, match=r"`max_weigth` is not a constraint.*Did you mean 'max_weight'"
    ):
        Constraints(max_weigth=0.3)
    with pytest.raises(
        InvalidParameterError, match=r"`min_weight` has 2 values but there are 3 assets"
    ):
        min_variance(np.eye(3), constraints=Constraints(min_weight=[0.1, 0.2]))
