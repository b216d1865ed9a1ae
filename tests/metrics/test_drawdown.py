"""Drawdown metrics against empyrical / quantstats and a plain loop reference."""

from __future__ import annotations

import math

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
import quantstats.stats as qs
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import workbench.metrics as wm


def reference_drawdowns(equity, init_cash=None):
    """Plain loop: drawdown per bar, underwater runs (start, end, trough)."""
    peak = init_cash if init_cash is not None else -math.inf
    dd = []
    for x in equity:
        peak = max(peak, x)
        dd.append(-1.0 if peak <= 0 else max(x / peak - 1.0, -1.0))
    episodes, current = [], None
    for i, d in enumerate(dd):
        if d < 0:
            current = [i, i + 1, d] if current is None else [current[0], i + 1, min(current[2], d)]
        elif current is not None:
            episodes.append(current)
            current = None
    if current is not None:
        episodes.append(current)
    return dd, episodes


def check_against_reference(equity, init_cash=None):
    dd, episodes = reference_drawdowns([float(x) for x in equity], init_cash)
    np.testing.assert_allclose(wm.drawdown_series(equity, init_cash=init_cash), dd, rtol=1e-15, atol=0)
    assert wm.max_drawdown(equity, init_cash=init_cash) == min(dd)
    assert wm.max_drawdown_duration(equity, init_cash=init_cash) == max((e - s for s, e, _ in episodes), default=0)
    avg = sum(t for _, _, t in episodes) / len(episodes) if episodes else 0.0
    assert wm.average_drawdown(equity, init_cash=init_cash) == pytest.approx(avg, rel=1e-12, abs=0)
    ulcer = math.sqrt(sum(d * d for d in dd) / len(dd))
    assert wm.ulcer_index(equity, init_cash=init_cash) == pytest.approx(ulcer, rel=1e-12, abs=0)


def test_max_drawdown_matches_empyrical_and_quantstats(returns):
    wealth = np.cumprod(1.0 + returns)
    ours = wm.max_drawdown(wealth, init_cash=1.0)
    np.testing.assert_allclose(ours, ep.max_drawdown(returns), rtol=1e-9)
    idx = pd.date_range("2021-01-01", periods=returns.size, freq="D")
    np.testing.assert_allclose(ours, qs.max_drawdown(pd.Series(returns, index=idx)), rtol=1e-9)


def test_ulcer_index_differs_from_quantstats_by_the_documented_factor(returns):
    n = returns.size
    idx = pd.date_range("2021-01-01", periods=n, freq="D")
    ours = wm.ulcer_index(np.cumprod(1.0 + returns), init_cash=1.0)
    np.testing.assert_allclose(ours, qs.ulcer_index(pd.Series(returns, index=idx)) * math.sqrt((n - 1) / n), rtol=1e-9)


def test_drawdowns_match_the_loop_reference_on_seeded_curves(returns):
    equity = 500.0 * np.cumprod(1.0 + returns)
    check_against_reference(equity)
    check_against_reference(equity, init_cash=500.0)


def test_hand_made_curve():
    equity = [100.0, 110.0, 99.0, 104.5, 120.0, 90.0, 90.0, 95.0]
    assert wm.max_drawdown(equity) == pytest.approx(-0.25)
    assert wm.max_drawdown_duration(equity) == 3  # 90, 90, 95 below the 120 peak, never recovered
    assert wm.average_drawdown(equity) == pytest.approx((-0.1 - 0.25) / 2)
    check_against_reference(equity, init_cash=100.0)


def test_first_bar_loss_counts_only_with_init_cash():
    assert wm.max_drawdown([90.0, 100.0]) == 0.0
    assert wm.max_drawdown([90.0, 100.0], init_cash=100.0) == pytest.approx(-0.1)
    assert wm.max_drawdown_duration([90.0, 100.0], init_cash=100.0) == 1


def test_no_drawdown_gives_zeros():
    for equity in ([100.0], [100.0, 100.0, 100.0], [1.0, 2.0, 3.0]):
        assert wm.max_drawdown(equity, init_cash=equity[0]) == 0.0
        assert wm.max_drawdown_duration(equity, init_cash=equity[0]) == 0
        assert wm.average_drawdown(equity, init_cash=equity[0]) == 0.0
        assert wm.ulcer_index(equity, init_cash=equity[0]) == 0.0


def test_wiped_out_and_negative_equity_clip_at_minus_one():
    assert wm.max_drawdown([100.0, 0.0, -20.0], init_cash=100.0) == -1.0
    np.testing.assert_array_equal(wm.drawdown_series([-5.0, 10.0, -1.0]), [-1.0, 0.0, -1.0])


@settings(max_examples=150, deadline=None)
@given(
    equity=arrays(np.float64, st.integers(1, 40), elements=st.floats(-1e6, 1e6, allow_nan=False)),
    init_cash=st.none() | st.floats(1e-3, 1e6),
)
def test_max_drawdown_is_in_minus_one_zero_and_matches_reference(equity, init_cash):
    mdd = wm.max_drawdown(equity, init_cash=init_cash)
    assert -1.0 <= mdd <= 0.0
    check_against_reference(equity, init_cash)


def test_negative_equity_under_a_tiny_peak_clips_without_overflow_warning():
    assert wm.max_drawdown([2.2250738585072014e-308, -4.0]) == -1.0
