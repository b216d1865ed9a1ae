"""Moving-average crossings in one kernel call equal the crossings of the separate averages."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import indicators as ind
from workbench.errors import DataValidationError, InvalidParameterError


def plain_crossings(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A loop over the bars of each column (independent of the kernels and of crossed_above)."""
    if a.ndim == 2:
        pairs = [plain_crossings(a[:, j], b[:, j]) for j in range(a.shape[1])]
        return np.stack([p[0] for p in pairs], axis=1), np.stack([p[1] for p in pairs], axis=1)
    up, down = np.zeros(a.shape, dtype=bool), np.zeros(a.shape, dtype=bool)
    for i in range(1, a.shape[0]):  # (a comparison with NaN is False)
        up[i] = a[i] > b[i] and a[i - 1] <= b[i - 1]
        down[i] = a[i] < b[i] and a[i - 1] >= b[i - 1]
    return up, down


@settings(max_examples=60, deadline=None)
@given(n=st.integers(3, 120), m=st.sampled_from([0, 1, 3]), kind=st.sampled_from(["sma", "ema"]),
       seed=st.integers(0, 2**31), gaps=st.floats(0.0, 0.1), data=st.data())
def test_ma_crossings_equal_the_crossings_of_the_averages(n, m, kind, seed, gaps, data):
    rng = np.random.default_rng(seed)
    shape = (n,) if m == 0 else (n, m)
    x = 100.0 + np.cumsum(rng.normal(size=shape), axis=0)
    x[rng.random(shape) < gaps] = np.nan
    if rng.random() < 0.2:
        x = np.round(x)  # ties between the averages
    fast = data.draw(st.integers(1, n))
    slow = data.draw(st.integers(1, n))
    up, down = ind.ma_crossings(x, fast, slow, kind=kind)
    ma = ind.sma if kind == "sma" else ind.ema
    want_up, want_down = plain_crossings(ma(x, fast), ma(x, slow))
    assert up.shape == x.shape and up.dtype == np.bool_ and down.dtype == np.bool_
    np.testing.assert_array_equal(up, want_up)
    np.testing.assert_array_equal(down, want_down)
    np.testing.assert_array_equal(up, ind.crossed_above(ma(x, fast), ma(x, slow)))


def test_ma_crossings_reject_bad_input():
    x = np.arange(1.0, 30.0)
    with pytest.raises(InvalidParameterError, match="`kind` must be 'sma' or 'ema'; got 'wma'"):
        ind.ma_crossings(x, 2, 5, kind="wma")
    with pytest.raises(InvalidParameterError, match="`slow`"):
        ind.ma_crossings(x, 2, 500)
    with pytest.raises(DataValidationError, match="inf"):
        ind.ma_crossings(np.array([1.0, np.inf, 2.0]), 1, 2)
