"""vectorbt as a peer oracle, and the documented convention differences.

* ``vbt.MA`` (``ewm=False``), ``vbt.MSTD`` and ``vbt.BBANDS`` define the same quantities as
  ``sma``, ``rolling_std(ddof=0)`` and ``bollinger``: they must agree to rounding, gaps included.
* vectorbt's EWMs (``MA(ewm=True)``, ``MACD(macd_ewm=signal_ewm=True)``) use
  ``alpha = 2 / (window + 1)`` like ours but start the recursion at the first bar, where ours
  starts from the SMA of the first ``window`` bars; the two converge as ``(1 - alpha) ** t``.
* vectorbt's ``RSI`` defaults to simple means of gains and losses; Wilder's smoothing
  (``alpha = 1 / window``) is its ``ewm=True`` with span ``2 * window - 1``, again seeded at the
  first bar. Same for ``ATR(ewm=True)``. We compare those after a burn-in.
"""

from __future__ import annotations

import numpy as np
import pytest
import vectorbt as vbt  # a peer oracle in the [dev] extra: missing, it fails loudly

from workbench import indicators as ind

pytestmark = pytest.mark.filterwarnings(
    # vectorbt's kernels take reflected lists, which numba flags while compiling them
    "ignore::numba.core.errors.NumbaPendingDeprecationWarning"
)

N = 3000
BURN_IN = 1000  # (1 - 1/14) ** 1000 ~ 1e-32: seeding differences are gone


def vals(x):
    return np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x, dtype=np.float64)


@pytest.fixture(scope="module")
def close(ref):
    x = np.column_stack([ref.random_walk(N, seed=s) for s in (31, 32, 33)])
    x[:40, 1] = np.nan  # a late start
    x[1500:1510, 2] = np.nan  # a gap
    return np.ascontiguousarray(x)


@pytest.mark.parametrize("window", [1, 5, 20])
def test_sma_equals_vbt_ma(close, window):
    np.testing.assert_allclose(
        ind.sma(close, window), vals(vbt.MA.run(close, window).ma), rtol=1e-10, equal_nan=True
    )


@pytest.mark.parametrize("window", [2, 20])
def test_rolling_std_equals_vbt_mstd(close, window):
    expected = vals(vbt.MSTD.run(close, window).mstd)
    np.testing.assert_allclose(
        ind.rolling_std(close, window), expected, rtol=1e-8, atol=1e-10, equal_nan=True
    )


def test_bollinger_equals_vbt_bbands(close):
    bb = vbt.BBANDS.run(close, window=20, alpha=2.5)
    mid, upper, lower = ind.bollinger(close, 20, k=2.5)
    for got, exp in ((mid, bb.middle), (upper, bb.upper), (lower, bb.lower)):
        np.testing.assert_allclose(got, vals(exp), rtol=1e-10, equal_nan=True)


def test_ema_converges_to_vbt_ewm_ma_but_is_seeded_differently(close):
    w = 20
    ours = ind.ema(close[:, 0], w)
    theirs = vals(vbt.MA.run(close[:, 0], w, ewm=True).ma)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))  # same warm-up
    assert abs(ours[w - 1] - theirs[w - 1]) > 1e-6  # the seeds differ...
    np.testing.assert_allclose(ours[BURN_IN:], theirs[BURN_IN:], rtol=1e-10)  # ...then agree


def test_rsi_converges_to_vbt_rsi_with_wilder_alpha(close):
    w = 14
    theirs = vals(vbt.RSI.run(close[:, 0], window=2 * w - 1, ewm=True).rsi)
    np.testing.assert_allclose(ind.rsi(close[:, 0], w)[BURN_IN:], theirs[BURN_IN:], rtol=1e-9)


def test_rsi_differs_from_vbt_default_simple_mean_rsi(close):
    theirs = vals(vbt.RSI.run(close[:, 0], window=14).rsi)
    diff = np.abs(ind.rsi(close[:, 0], 14)[BURN_IN:] - theirs[BURN_IN:])
    assert diff.max() > 1.0  # Cutler's RSI is a different indicator


def test_atr_converges_to_vbt_atr_with_wilder_alpha(ref):
    high, low, close = ref.random_bars(N, seed=34)
    w = 14
    theirs = vals(vbt.ATR.run(high, low, close, window=2 * w - 1, ewm=True).atr)
    np.testing.assert_allclose(ind.atr(high, low, close, w)[BURN_IN:], theirs[BURN_IN:], rtol=1e-9)


def test_macd_converges_to_vbt_ewm_macd(close):
    theirs = vbt.MACD.run(close[:, 0], 12, 26, 9, macd_ewm=True, signal_ewm=True)
    ours = ind.macd(close[:, 0], fast=12, slow=26, signal=9)
    for got, exp in (
        (ours.macd, theirs.macd),
        (ours.signal, theirs.signal),
        (ours.hist, theirs.hist),
    ):
        np.testing.assert_allclose(got[BURN_IN:], vals(exp)[BURN_IN:], rtol=1e-8, atol=1e-10)
