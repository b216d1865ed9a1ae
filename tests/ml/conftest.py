"""Shared fixtures of the ML tests: GOOG's labelled pullback entries (computed once)."""

from __future__ import annotations

import pytest

import workbench as wb
from workbench.ml import TripleBarrier, default_features, make_dataset
from workbench.strategies import TrendPullback


@pytest.fixture(scope="session")
def goog_bars():
    return wb.data.sample("GOOG")


@pytest.fixture(scope="session")
def goog_set(goog_bars):
    return make_dataset(goog_bars, TrendPullback(rsi_window=2, oversold=30.0), default_features(12),
                        method=TripleBarrier(20))
