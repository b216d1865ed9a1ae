"""Covariance and expected-return estimators against numpy, pandas and scikit-learn."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skfolio.datasets import load_sp500_dataset
from skfolio.preprocessing import prices_to_returns
from sklearn.covariance import LedoitWolf
from sklearn.covariance import ledoit_wolf_shrinkage as sk_shrinkage

from workbench.errors import DataValidationError, InvalidParameterError
from workbench.portfolio import (
    covariance,
    ewma_covariance,
    ledoit_wolf,
    ledoit_wolf_shrinkage,
    mean_returns,
    sample_covariance,
)
from workbench.portfolio.covariance import check_covariance, returns_matrix


@pytest.fixture(scope="module")
def sp500() -> pd.DataFrame:
    return prices_to_returns(load_sp500_dataset()).iloc[-300:]


def _random_returns(seed: int, n_obs: int, n_assets: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(n_assets, n_assets))
    return rng.normal(size=(n_obs, n_assets)) @ mix * 0.01 + rng.normal(size=n_assets) * 0.001


# ----------------------------------------------------------------------------- oracles


def test_sample_covariance_matches_numpy(sp500):
    x = sp500.to_numpy()
    assert np.allclose(sample_covariance(x), np.cov(x, rowvar=False), rtol=1e-12, atol=0)
    assert np.allclose(
        sample_covariance(x, ddof=0), np.cov(x, rowvar=False, ddof=0), rtol=1e-12, atol=0
    )


@pytest.mark.parametrize("assume_centered", [False, True])
def test_ledoit_wolf_matches_sklearn_on_sp500(sp500, assume_centered):
    x = sp500.to_numpy()
    oracle = LedoitWolf(assume_centered=assume_centered).fit(x)
    assert np.allclose(
        ledoit_wolf(x, assume_centered=assume_centered), oracle.covariance_, rtol=1e-10, atol=1e-18
    )
    assert ledoit_wolf_shrinkage(x, assume_centered=assume_centered) == pytest.approx(
        oracle.shrinkage_, abs=1e-12
    )


@pytest.mark.parametrize(("n_obs", "n_assets"), [(10, 30), (60, 5), (2, 3), (40, 1)])
def test_ledoit_wolf_matches_sklearn_including_fewer_rows_than_assets(n_obs, n_assets):
    x = _random_returns(n_obs * 100 + n_assets, n_obs, n_assets)
    oracle = LedoitWolf().fit(x)
    assert np.allclose(ledoit_wolf(x), oracle.covariance_, rtol=1e-10, atol=1e-18)
    assert ledoit_wolf_shrinkage(x) == pytest.approx(sk_shrinkage(x), abs=1e-12)


def test_ledoit_wolf_is_positive_definite_when_sample_is_singular():
    x = _random_returns(3, 8, 20)
    assert np.linalg.eigvalsh(sample_covariance(x))[0] < 1e-12
    assert np.linalg.eigvalsh(ledoit_wolf(x))[0] > 0


@pytest.mark.parametrize("halflife", [1.0, 5.0, 30.0])
def test_ewma_covariance_matches_pandas(sp500, halflife):
    frame = sp500.iloc[:, :6]
    oracle = frame.ewm(halflife=halflife).cov(bias=True).iloc[-6:].to_numpy()
    assert np.allclose(
        ewma_covariance(frame.to_numpy(), halflife=halflife), oracle, rtol=1e-9, atol=1e-18
    )


def test_ewma_covariance_uncentered_matches_weighted_outer_products(sp500):
    x = sp500.to_numpy()[:, :4]
    lam = 0.5 ** (1 / 10.0)
    expected = np.zeros((4, 4))
    total = 0.0
    for t, row in enumerate(x):
        weight = lam ** (len(x) - 1 - t)
        expected += weight * np.outer(row, row)
        total += weight
    assert np.allclose(
        ewma_covariance(x, halflife=10.0, center=False), expected / total, rtol=1e-10
    )


def test_ewma_with_huge_halflife_tends_to_the_biased_sample_covariance(sp500):
    x = sp500.to_numpy()
    assert np.allclose(ewma_covariance(x, halflife=1e9), np.cov(x, rowvar=False, ddof=0), rtol=1e-5)


def test_mean_returns_match_numpy_and_pandas(sp500):
    x = sp500.to_numpy()
    assert np.allclose(mean_returns(x), x.mean(axis=0), rtol=1e-12)
    oracle = sp500.ewm(halflife=7.0).mean().iloc[-1].to_numpy()
    assert np.allclose(mean_returns(x, method="ewma", halflife=7.0), oracle, rtol=1e-10)


def test_dispatcher_calls_the_named_estimator(sp500):
    x = sp500.to_numpy()
    assert np.array_equal(covariance(x), ledoit_wolf(x))
    assert np.array_equal(covariance(x, method="sample", ddof=0), sample_covariance(x, ddof=0))
    assert np.array_equal(
        covariance(x, method="ewma", halflife=3.0), ewma_covariance(x, halflife=3.0)
    )


# ----------------------------------------------------------------------------- inputs


def test_polars_frame_with_timestamps_equals_numpy(sp500):
    x = sp500.to_numpy()
    ts = [
        dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=i)
        for i in range(len(x))
    ]
    frame = pl.DataFrame({"ts": ts, **{c: sp500[c].to_numpy() for c in sp500.columns}})
    values, names = returns_matrix(frame)
    assert names == list(sp500.columns)
    assert np.array_equal(ledoit_wolf(frame), ledoit_wolf(x))
    assert np.array_equal(sample_covariance(sp500), sample_covariance(x))  # pandas input


def test_nan_in_returns_names_column_and_row():
    x = np.array([[0.01, 0.02], [np.nan, 0.0], [0.02, 0.01]])
    with pytest.raises(DataValidationError, match=r"column 'b'.*non-finite.*row 1"):
        returns_matrix(pl.DataFrame(x[:, ::-1], schema=["a", "b"]))
    with pytest.raises(DataValidationError, match=r"'asset_0'.*nan.*row 1"):
        sample_covariance(x)


def test_null_and_text_columns_are_named():
    with pytest.raises(DataValidationError, match=r"column .B. has a missing"):
        ledoit_wolf(pl.DataFrame({"A": [0.01, 0.02, 0.0], "B": [0.01, None, 0.0]}))
    with pytest.raises(DataValidationError, match=r"column 'symbol' has dtype String.*pivot"):
        ledoit_wolf(pl.DataFrame({"symbol": ["x", "y"], "r": [0.01, 0.02]}))


def test_fewer_than_two_observations_is_rejected():
    with pytest.raises(DataValidationError, match=r"at least 2 observations.*got 1"):
        ledoit_wolf(np.array([[0.01, 0.02]]))


def test_one_dimensional_returns_are_rejected_with_the_fix():
    with pytest.raises(DataValidationError, match=r"must be 2-D.*shape \(3,\).*reshape"):
        sample_covariance(np.array([0.01, 0.02, 0.03]))


def test_bad_options_are_named():
    x = _random_returns(1, 10, 3)
    with pytest.raises(
        InvalidParameterError,
        match=r"`method` must be one of.*got 'ledoitwolf'. Did you mean 'ledoit_wolf'",
    ):
        covariance(x, method="ledoitwolf")
    with pytest.raises(
        InvalidParameterError, match=r"takes no option `half_life`.*Did you mean 'halflife'"
    ):
        covariance(x, method="ewma", half_life=5)
    with pytest.raises(
        InvalidParameterError, match=r"`halflife` must be a float in \(0, inf\); got -1"
    ):
        ewma_covariance(x, halflife=-1)
    with pytest.raises(InvalidParameterError, match=r"`ddof`"):
        sample_covariance(x, ddof=10)


@pytest.mark.parametrize(
    ("matrix", "pattern"),
    [
        (np.ones((2, 3)), r"square .* got shape \(2, 3\)"),
        (np.array([[1.0, 0.5], [0.2, 1.0]]), r"not symmetric"),
        (np.array([[1.0, 2.0], [2.0, 1.0]]), r"not positive semi-definite"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), r"NaN or infinite"),
        (np.array([[-1.0, 0.0], [0.0, 1.0]]), r"negative variance"),
    ],
)
def test_check_covariance_names_the_problem(matrix, pattern):
    with pytest.raises(DataValidationError, match=pattern):
        check_covariance(matrix)


# ----------------------------------------------------------------------------- properties


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_obs=st.integers(2, 40), n_assets=st.integers(1, 12))
def test_estimators_are_symmetric_psd_and_permutation_equivariant(seed, n_obs, n_assets):
    x = _random_returns(seed, n_obs, n_assets)
    perm = np.random.default_rng(seed).permutation(n_assets)
    for method in ("sample", "ledoit_wolf", "ewma"):
        c = covariance(x, method=method)
        assert np.array_equal(c, c.T)
        assert np.linalg.eigvalsh(c)[0] >= -1e-12 * max(1.0, np.abs(c).max())
        assert np.allclose(
            covariance(x[:, perm], method=method), c[np.ix_(perm, perm)], rtol=1e-10, atol=1e-20
        )
    assert 0.0 <= ledoit_wolf_shrinkage(x) <= 1.0


def test_null_in_polars_names_row():
    with pytest.raises(
        DataValidationError, match=r"column 'B' has a missing \(null\) value at row 2"
    ):
        sample_covariance(pl.DataFrame({"A": [0.01, 0.02, 0.0, 0.01], "B": [0.01, 0.0, None, 0.0]}))
