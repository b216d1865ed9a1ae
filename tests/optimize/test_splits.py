"""Walk-forward and combinatorial purged K-fold splitters.

Oracles: skfolio's WalkForward and CombinatorialPurgedCV (same conventions for bar counts, purge
and embargo), pandas calendar offsets for duration windows, and plain loops over the definitions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skfolio.model_selection import CombinatorialPurgedCV, WalkForward

from workbench.errors import DataValidationError, InvalidParameterError, OptimizationError
from workbench.optimize.splits import CombinatorialPurgedKFold, walk_forward_splits


# ----------------------------------------------------------------------------- walk-forward, bars
@pytest.mark.parametrize(
    ("n", "train", "test", "anchored"),
    [(100, 30, 10, False), (100, 30, 10, True), (97, 20, 7, False), (50, 49, 1, True), (40, 10, 30, False)],
)
def test_walk_forward_matches_skfolio(n, train, test, anchored):
    ours = list(walk_forward_splits(n, train=train, test=test, anchored=anchored))
    ref = list(WalkForward(test_size=test, train_size=train, expand_train=anchored).split(np.zeros((n, 1))))
    assert len(ours) == len(ref) > 0
    for (tr, te), (rtr, rte) in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(tr, rtr)
        np.testing.assert_array_equal(te, rte)
        assert tr.dtype == np.int64 and te.dtype == np.int64


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 400),
    train=st.integers(1, 200),
    test=st.integers(1, 100),
    step=st.integers(1, 120),
    anchored=st.booleans(),
    partial=st.booleans(),
)
def test_walk_forward_windows_are_ordered_and_disjoint(n, train, test, step, anchored, partial):
    if train + test > n and not (partial and train < n):
        with pytest.raises(InvalidParameterError, match="longer than the"):
            walk_forward_splits(n, train=train, test=test, step=step, anchored=anchored, partial=partial)
        return
    windows = list(walk_forward_splits(n, train=train, test=test, step=step, anchored=anchored, partial=partial))
    assert windows
    for k, (tr, te) in enumerate(windows):
        assert tr.max() < te.min()  # never overlap, train strictly before test
        assert np.all(np.diff(tr) == 1) and np.all(np.diff(te) == 1)
        assert te[-1] < n
        assert tr[-1] + 1 == te[0]
        assert te[0] == train + k * step
        if anchored:
            assert tr[0] == 0
        else:
            assert tr.size == train and tr[0] == k * step
        last = k == len(windows) - 1
        assert te.size == test or (partial and last and te[-1] == n - 1)
    # no further complete window fits
    next_end = train + len(windows) * step + test
    assert next_end > n or (partial and windows[-1][1][-1] == n - 1)


def test_walk_forward_partial_keeps_a_short_last_window():
    windows = list(walk_forward_splits(10, train=4, test=4, partial=True))
    assert [(tr.tolist(), te.tolist()) for tr, te in windows] == [
        ([0, 1, 2, 3], [4, 5, 6, 7]),
        ([4, 5, 6, 7], [8, 9]),
    ]
    assert len(list(walk_forward_splits(10, train=4, test=4))) == 1


def test_walk_forward_too_long_window_is_a_clear_error():
    with pytest.raises(InvalidParameterError, match="`train` \\+ `test` = 80 \\+ 30 = 110 bars is longer than the 100 bars"):
        walk_forward_splits(100, train=80, test=30)


# ----------------------------------------------------------------------------- walk-forward, time
def _weekday_ts(start: str, end: str, tz: str | None = "UTC") -> pd.DatetimeIndex:
    return pd.bdate_range(start, end, tz=tz)


def _expected_time_windows(ts: pd.DatetimeIndex, train: dict, test: dict, step: dict, anchored: bool):
    """Independent reference with pandas DateOffset arithmetic and boolean masks."""
    end_of_data = ts[-1] + pd.Series(ts).diff().median()
    out = []
    for k in range(10_000):
        start = ts[0] + pd.DateOffset(**{u: v * k for u, v in step.items()})
        mid = start + pd.DateOffset(**train)
        end = mid + pd.DateOffset(**test)
        if end > end_of_data:
            return out
        tr = np.flatnonzero(((ts >= start) | anchored) & (ts < mid))
        te = np.flatnonzero((ts >= mid) & (ts < end))
        out.append((tr, te))
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("train", "test", "step", "anchored", "p_train", "p_test", "p_step"),
    [
        ("1y", "3mo", None, False, {"years": 1}, {"months": 3}, {"months": 3}),
        ("1y", "3mo", None, True, {"years": 1}, {"months": 3}, {"months": 3}),
        ("6mo", "2w", "1mo", False, {"months": 6}, {"weeks": 2}, {"months": 1}),
        ("90d", "30d", None, False, {"days": 90}, {"days": 30}, {"days": 30}),
    ],
)
def test_duration_windows_match_calendar_arithmetic(train, test, step, anchored, p_train, p_test, p_step):
    ts = _weekday_ts("2019-01-01", "2022-06-30")
    ours = list(walk_forward_splits(pl.Series(ts), train=train, test=test, step=step, anchored=anchored))
    ref = _expected_time_windows(ts, p_train, p_test, p_step, anchored)
    assert len(ours) == len(ref) > 3
    for (tr, te), (rtr, rte) in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(tr, rtr)
        np.testing.assert_array_equal(te, rte)
        assert tr.max() < te.min()
        if anchored:
            assert tr[0] == 0


def test_duration_windows_accept_numpy_pandas_and_dates():
    ts = _weekday_ts("2020-01-01", "2021-12-31", tz=None)
    ref = [(a.tolist(), b.tolist()) for a, b in walk_forward_splits(pl.Series(ts), train="6mo", test="3mo")]
    for variant in (ts, ts.to_numpy(), list(ts.to_pydatetime()), pl.Series(ts).dt.date()):
        got = [(a.tolist(), b.tolist()) for a, b in walk_forward_splits(variant, train="6mo", test="3mo")]
        assert got == ref


def test_duration_windows_partial_and_integers_on_timestamps():
    ts = _weekday_ts("2020-01-01", "2020-12-15")
    full = list(walk_forward_splits(ts, train="6mo", test="3mo"))
    part = list(walk_forward_splits(ts, train="6mo", test="3mo", partial=True))
    assert len(part) == len(full) + 1 and part[-1][1][-1] == len(ts) - 1
    by_count = list(walk_forward_splits(ts, train=100, test=20))
    ref = list(walk_forward_splits(len(ts), train=100, test=20))
    assert [(a.tolist(), b.tolist()) for a, b in by_count] == [(a.tolist(), b.tolist()) for a, b in ref]


def test_duration_window_longer_than_the_data_is_a_clear_error():
    ts = _weekday_ts("2020-01-01", "2021-06-30")
    with pytest.raises(InvalidParameterError, match="`train`='1y' \\+ `test`='1y' is longer than the data"):
        walk_forward_splits(ts, train="1y", test="1y")


@pytest.mark.parametrize(
    ("bars", "kwargs", "error", "match"),
    [
        (100, {"train": "1y", "test": "1mo"}, InvalidParameterError, "duration strings need timestamps"),
        (100, {"train": 10, "test": "1mo"}, InvalidParameterError, "must all be bar counts or all durations"),
        (100, {"train": 0, "test": 5}, InvalidParameterError, "`train` must be an integer in \\[1, inf\\); got 0"),
        (100, {"train": 10, "test": 5, "step": 0}, InvalidParameterError, "`step`"),
        ("dates", {"train": "1year", "test": "1mo"}, InvalidParameterError, "`train` must be a positive polars duration"),
        ("dates", {"train": "0d", "test": "1mo"}, InvalidParameterError, "`train` must be a positive"),
        ("dates", {"train": "1y", "test": "12h"}, InvalidParameterError, "sub-day unit"),
        ([3, 2, 1], {"train": "1d", "test": "1d"}, DataValidationError, "dates or datetimes"),
        ("unsorted", {"train": "1d", "test": "1d"}, DataValidationError, "strictly increasing"),
    ],
)
def test_walk_forward_rejects_bad_input(bars, kwargs, error, match):
    if bars == "dates":
        bars = pl.date_range(dt.date(2020, 1, 1), dt.date(2022, 1, 1), eager=True)
    elif bars == "unsorted":
        bars = [dt.date(2020, 1, 2), dt.date(2020, 1, 1), dt.date(2020, 1, 3)]
    with pytest.raises(error, match=match):
        walk_forward_splits(bars, **kwargs)


# ----------------------------------------------------------------------------- CPCV
@pytest.mark.parametrize(
    ("n_bars", "n_splits", "k", "purge", "embargo"),
    [(60, 6, 2, 0, 0), (60, 6, 2, 2, 1), (120, 10, 3, 3, 2), (48, 4, 2, 0, 4), (90, 5, 4, 1, 0)],
)
def test_cpcv_matches_skfolio(n_bars, n_splits, k, purge, embargo):
    cv = CombinatorialPurgedKFold(n_splits, k, purge=purge, embargo=embargo)
    ref = CombinatorialPurgedCV(n_folds=n_splits, n_test_folds=k, purged_size=purge, embargo_size=embargo)
    ours = list(cv.split(n_bars))
    theirs = list(ref.split(np.zeros((n_bars, 1))))
    assert len(ours) == len(theirs) == cv.n_combinations == ref.n_splits
    for (tr, te), (rtr, rtests) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(tr, rtr)
        np.testing.assert_array_equal(te, np.concatenate(rtests))
        assert tr.dtype == np.int64 and te.dtype == np.int64
    assert cv.n_paths == ref.n_test_paths
    np.testing.assert_array_equal(cv.paths().T, ref.recombined_paths)


def _reference_train(n, tg_bars, label_end, embargo):
    """Bars kept by the definition: span [i, label_end[i]] misses every [a, e + embargo]."""
    keep = []
    for i in range(n):
        ok = True
        for bars in tg_bars:
            a, e = bars[0], max(label_end[j] for j in bars)
            if not (label_end[i] < a or i > e + embargo):
                ok = False
        if ok:
            keep.append(i)
    return keep


@pytest.mark.parametrize("seed", range(4))
def test_cpcv_purges_variable_label_spans(seed):
    rng = np.random.default_rng(seed)
    n = 97
    label_end = np.minimum(np.arange(n) + rng.integers(0, 6, n), n - 1)
    cv = CombinatorialPurgedKFold(5, 2, embargo=int(rng.integers(0, 3)))
    groups = cv.groups(n)
    for (tr, te), tg in zip(cv.split(n, label_end=label_end), cv.test_groups(), strict=True):
        tg_bars = [np.flatnonzero(groups == g).tolist() for g in tg]
        assert tr.tolist() == _reference_train(n, tg_bars, label_end, cv.embargo)
        assert te.tolist() == sorted(sum(tg_bars, []))
        assert not set(tr) & set(te)


def test_cpcv_no_train_bar_in_or_next_to_a_test_group():
    purge, embargo, n = 3, 2, 200
    cv = CombinatorialPurgedKFold(8, 3, purge=purge, embargo=embargo)
    groups = cv.groups(n)
    for tr, te in cv.split(n):
        test_set = set(te.tolist())
        for g in np.unique(groups[te]):
            a, b = np.flatnonzero(groups == g)[[0, -1]]
            near = (tr >= a - purge) & (tr <= b + purge + embargo)
            assert not near.any()
        # everything not excluded is used for training
        excluded = set()
        for g in np.unique(groups[te]):
            a, b = np.flatnonzero(groups == g)[[0, -1]]
            excluded |= set(range(max(a - purge, 0), min(b + purge + embargo, n - 1) + 1))
        assert set(tr.tolist()) == set(range(n)) - excluded - test_set


@pytest.mark.parametrize(("n_splits", "k"), [(6, 2), (7, 3), (5, 1), (8, 4), (4, 3)])
def test_cpcv_paths_cover_every_bar_exactly_phi_times(n_splits, k):
    n = 53
    cv = CombinatorialPurgedKFold(n_splits, k)
    phi = cv.n_paths
    assert phi == math.comb(n_splits, k) * k // n_splits
    tests = [te for _, te in cv.split(n)]
    bar_paths = cv.paths()[:, cv.groups(n)]  # (phi, n): the split predicting each bar on each path
    assert bar_paths.shape == (phi, n)
    for p in range(phi):
        for i in range(n):
            assert i in tests[bar_paths[p, i]]  # the split assigned to this bar really tests it
    # every split's test segments are used exactly once over all paths
    counts = np.bincount(cv.paths().ravel(), minlength=cv.n_combinations)
    assert np.all(counts == k)
    appearances = np.zeros(n, dtype=int)
    for te in tests:
        appearances[te] += 1
    assert np.all(appearances == phi)  # each bar is tested in phi splits, one per path


def test_cpcv_config_is_frozen_and_validated():
    cv = CombinatorialPurgedKFold()
    assert (cv.n_splits, cv.n_test_splits, cv.purge, cv.embargo) == (6, 2, 0, 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cv.purge = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        CombinatorialPurgedKFold(6, 2, 1)  # purge and embargo are keyword-only
    assert CombinatorialPurgedKFold(6, 2, purge=1) == CombinatorialPurgedKFold(6, 2, purge=1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_splits": 1}, "`n_splits` must be an integer in \\[2, inf\\); got 1"),
        ({"n_splits": 4, "n_test_splits": 4}, "`n_test_splits` must be an integer in \\[1, 3\\]; got 4"),
        ({"n_test_splits": 0}, "`n_test_splits`"),
        ({"purge": -1}, "`purge` must be an integer in \\[0, inf\\); got -1"),
        ({"embargo": 1.5}, "`embargo`"),
    ],
)
def test_cpcv_rejects_bad_settings(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        CombinatorialPurgedKFold(**kwargs)


def test_cpcv_rejects_bad_split_input():
    cv = CombinatorialPurgedKFold(6, 2)
    with pytest.raises(InvalidParameterError, match="`n_bars` must be an integer in \\[6, inf\\); got 5"):
        cv.split(5)
    with pytest.raises(InvalidParameterError, match="shape \\(10,\\)"):
        cv.split(10, label_end=np.arange(9))
    with pytest.raises(InvalidParameterError, match="`label_end\\[3\\]` must be in \\[3, 9\\]"):
        cv.split(10, label_end=np.array([0, 1, 2, 1, 4, 5, 6, 7, 8, 9]))
    with pytest.raises(InvalidParameterError, match="either `label_end` or `purge`"):
        CombinatorialPurgedKFold(6, 2, purge=1).split(10, label_end=np.arange(10))
    with pytest.raises(OptimizationError, match="no training bars left"):
        list(CombinatorialPurgedKFold(3, 2, purge=5).split(9))
