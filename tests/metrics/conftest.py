"""Seeded return series shared by the metric tests: drifts up and down, fat tails, flat bars,
a short series, each annualized at 252 (trading days) and 365 (crypto days)."""

from __future__ import annotations

import numpy as np
import pytest


def _cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(20240601)
    sparse = rng.normal(0.001, 0.015, 600)
    sparse[rng.random(600) < 0.6] = 0.0
    return {
        "gaussian_up": rng.normal(0.0008, 0.012, 750),
        "gaussian_down": rng.normal(-0.0012, 0.02, 400),
        "fat_tails": 0.01 * rng.standard_t(3, 1000),
        "flat_bars": sparse,
        "short": rng.normal(0.002, 0.01, 7),
    }


CASES = _cases()


@pytest.fixture(params=sorted(CASES))
def returns(request) -> np.ndarray:
    """A seeded series of per-bar simple returns."""
    return CASES[request.param].copy()


@pytest.fixture
def benchmark(returns) -> np.ndarray:
    """Benchmark returns correlated with ``returns``."""
    rng = np.random.default_rng(returns.size)
    return 0.5 * returns + rng.normal(0.0003, 0.008, returns.size)


@pytest.fixture(params=[252.0, 365.0])
def ppy(request) -> float:
    """Periods per year."""
    return request.param
