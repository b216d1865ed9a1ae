"""The simulation core's machinery (not its trading rules, which tests/backtesting holds to the
reference simulator and the peers): borrowed array views, the bar-contract check kernel, signal
packing, record room and growth, and the signal loop's shortcuts, each against a plain
reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from workbench.backtesting import engine as _engine
from workbench.backtesting.config import BacktestConfig
from workbench.nb import simulate as sim
from workbench.nb.enums import I_ENTRY, I_EXIT, order_dt, trade_dt
from workbench.nb.execution import borrow


@njit(cache=True)
def _fill_borrowed(a, value):
    view = borrow(a)
    for i in range(view.shape[0]):
        view[i] = value + i
    return view.sum()


def test_borrowed_view_reads_and_writes_the_array_it_borrows():
    a = np.zeros(5)
    total = _fill_borrowed(a, 2.0)
    np.testing.assert_array_equal(a, [2.0, 3.0, 4.0, 5.0, 6.0])
    assert total == 20.0


# -- bars_ok_nb against the same conditions in NumPy ---------------------------------------------

def _bars_ok_reference(o, h, lo, c, v, ts):
    with np.errstate(invalid="ignore"):
        return bool(
            np.isfinite(o).all() and np.isfinite(h).all() and np.isfinite(lo).all() and np.isfinite(c).all()
            and (lo > 0).all() and (h >= lo).all() and (o >= lo).all() and (o <= h).all()
            and (c >= lo).all() and (c <= h).all() and (v >= 0).all() and (np.diff(ts) > 0).all()
        )


_price = st.sampled_from([1.0, 2.0, 3.0, 0.0, -1.0, np.nan, np.inf])


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.data())
def test_bars_ok_equals_the_numpy_checks(n_bars, n_assets, data):
    shape = (n_bars, n_assets)
    # mostly valid bars (low 1, open/close 2, high 3), with a few arbitrary values dropped in
    o, h, lo, c = np.full(shape, 2.0), np.full(shape, 3.0), np.full(shape, 1.0), np.full(shape, 2.0)
    v = np.full(shape, 10.0)
    for arr in data.draw(st.lists(st.sampled_from(["o", "h", "lo", "c", "v"]), max_size=3)):
        a = {"o": o, "h": h, "lo": lo, "c": c, "v": v}[arr]
        a[data.draw(st.integers(0, n_bars - 1)), data.draw(st.integers(0, n_assets - 1))] = data.draw(_price)
    ts = np.cumsum(data.draw(st.lists(st.integers(-1, 2), min_size=n_bars, max_size=n_bars))).astype(np.int64)
    assert sim.bars_ok_nb(o, h, lo, c, v, ts) == _bars_ok_reference(o, h, lo, c, v, ts)
    assert _engine._bars_ok(o, h, lo, c, v, ts) == _bars_ok_reference(o, h, lo, c, v, ts)  # the small-input path


# -- signal_codes against a plain loop ----------------------------------------------------------

@pytest.mark.parametrize("shapes", [[(6, 3)] * 4, [(6, 3), (1, 1), (6, 1), (1, 3)], [(1, 1)] * 4, [(6, 1), (1, 1), (1, 1), (6, 1)]])
def test_signal_codes_pack_the_broadcast_signals(shapes):
    rng = np.random.default_rng(1)
    signals = [rng.random(s) < 0.5 for s in shapes]
    signals[0].flags.writeable = False  # (read-only signals are copied for the kernel)
    codes, k = sim.signal_codes(*signals)
    rows, cols = max(s[0] for s in shapes), max(s[1] for s in shapes)
    assert codes.shape == (rows, cols) and codes.dtype == np.uint8 and k == np.count_nonzero(codes)
    for t in range(rows):
        for j in range(cols):
            want = sum(1 << bit for bit, a in enumerate(signals) if a[t if a.shape[0] > 1 else 0, j if a.shape[1] > 1 else 0])
            assert codes[t, j] == want


# -- records: room per bar, growth ----------------------------------------------------------------

def _run(cfg: BacktestConfig, seed: int, n_bars: int, n: int, capacity: int):
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, (n_bars, n)), axis=0))
    open_ = close * (1 + rng.normal(0, 0.005, (n_bars, n)))
    high, low = np.maximum(open_, close) * 1.01, np.minimum(open_, close) * 0.99
    b = lambda p: rng.random((n_bars, n)) < p  # noqa: E731
    f = lambda p, lo, hi: np.where(rng.random((n_bars, n)) < p, rng.uniform(lo, hi, (n_bars, n)), np.nan)  # noqa: E731
    limit = np.where(rng.random((n_bars, n)) < 0.3, close * 0.99, np.nan)
    out = sim.simulate_signals(
        cfg.record(), open_, high, low, close, b(0.1), b(0.1), b(0.1), b(0.1), np.full((1, 1), np.nan), limit,
        np.full((1, 1), np.nan), f(0.5, 0.01, 0.05), f(0.3, 0.02, 0.1), f(0.2, 0.01, 0.05), np.full((1, 1), np.nan),
        np.empty(capacity, dtype=order_dt), np.empty(capacity, dtype=trade_dt),
    )
    orders, trades, counts = out[0][: out[2][0]], out[1][: out[2][1]], out[2]
    return orders, trades, counts, out[3], out[4], out[5]


_CONFIGS = [
    BacktestConfig(),
    BacktestConfig(fill="same_close", leverage=3, size=2.5, maintenance_margin=0.6),
    BacktestConfig(cash_sharing=True, size=0.4, accumulate=True),
    BacktestConfig(cash_sharing=True, fill="same_close", leverage=2, size=0.9, maintenance_margin=0.5),
]


@pytest.mark.parametrize("cfg", _CONFIGS)
def test_records_do_not_depend_on_the_initial_capacity(cfg):
    small = _run(cfg, 3, 120, 3, 1)  # grows (and resumes the bar loop) many times
    large = _run(cfg, 3, 120, 3, 10_000)
    _assert_same_run(small, large)


def _assert_same_run(one: tuple, other: tuple) -> None:
    """Records (field by field, NaN equal to NaN) and outputs of two runs are identical."""
    for a, b in zip(one, other, strict=True):
        if a.dtype.names:
            for name in a.dtype.names:
                np.testing.assert_array_equal(a[name], b[name])
        else:
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cfg", _CONFIGS)
def test_a_bar_adds_at_most_room_records_per_asset(cfg):
    orders, trades, *_ = _run(cfg, 5, 200, 3, 16)
    assert len(orders) > 50
    _, per_bar_asset = np.unique(orders["bar"] * 10 + orders["col"], return_counts=True)  # every record of bar t has bar t
    assert per_bar_asset.max() <= sim.ROOM
    assert len(trades) <= len(orders)  # a trade record comes with an order


def test_signal_loop_equals_the_generic_per_bar_steps():
    """signal_bars_nb (one pass, phases only where needed, quiet assets marked in the pass)
    against step_nb driven bar by bar with the same intents written for every asset."""
    rng = np.random.default_rng(11)
    n_bars, n = 150, 4
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, (n_bars, n)), axis=0))
    open_ = close * (1 + rng.normal(0, 0.01, (n_bars, n)))
    high, low = np.maximum(open_, close) * 1.02, np.minimum(open_, close) * 0.98
    sig = [rng.random((n_bars, n)) < p for p in (0.08, 0.08, 0.08, 0.08)]
    nan = np.full((1, 1), np.nan)
    for cfg in _CONFIGS:
        rec = cfg.record()
        fast = sim.simulate_signals(rec, open_, high, low, close, *sig, nan, nan, nan, nan, nan, nan, nan,
                                    np.empty(16, dtype=order_dt), np.empty(16, dtype=trade_dt))

        def callback(t, state, cash, intent):
            for j in range(n):
                e_l, x_l, e_s, x_s = (a[t, j] for a in sig)
                intent[j, I_ENTRY] = 0 if (e_l and e_s) else (1 if e_l else (-1 if e_s else 0))
                intent[j, I_EXIT] = 2 if (x_l and x_s) else (1 if x_l else (-1 if x_s else 0))

        slow = sim.simulate_callback_py(rec, open_, high, low, close, callback, np.empty(16, dtype=order_dt),
                                        np.empty(16, dtype=trade_dt))
        assert fast[2].tolist() == slow[2].tolist() and fast[2][0] > 20
        for name in order_dt.names:
            np.testing.assert_array_equal(fast[0][: fast[2][0]][name], slow[0][: slow[2][0]][name])
        for name in trade_dt.names:
            np.testing.assert_array_equal(fast[1][: fast[2][1]][name], slow[1][: slow[2][1]][name])
        for a, b in zip(fast[3:], slow[3:], strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("sharing", [False, True])
def test_setup_equals_setup_nb(sharing):
    rec = BacktestConfig(cash=5_000.0, cash_sharing=sharing).record()
    ours, ref = sim.setup(rec, 7, 3), sim.setup_nb(rec, 7, 3)
    for i, (a, b) in enumerate(zip(ours, ref, strict=True)):
        assert a.shape == b.shape and a.dtype == b.dtype
        if i not in (4, 5, 6):  # the outputs are uninitialized
            np.testing.assert_array_equal(a, b)


# -- independent accounts on several threads ------------------------------------------------------

@pytest.mark.parametrize("cfg", [c for c in _CONFIGS if not c.cash_sharing])
@pytest.mark.parametrize("capacity", [1, 10_000])
def test_asset_ranges_in_parallel_equal_one_pass(cfg, capacity, monkeypatch):
    """Independent accounts split into asset ranges run by signal_chunks_nb (with regions that
    must grow when the capacity is small) give the records and outputs of one pass."""
    one = _run(cfg, 9, 150, 7, capacity)
    monkeypatch.setattr(sim, "PARALLEL_MIN_STEPS", 0)
    monkeypatch.setattr(sim, "get_num_threads", lambda: 3)  # three ranges on whatever threads there are
    assert sim.chunks_for(cfg.record(), 150, 7) == 3
    split = _run(cfg, 9, 150, 7, capacity)
    assert len(one[0]) > 100 and len(one[1]) > 20
    _assert_same_run(one, split)


def test_records_of_independent_accounts_are_ordered_by_bar_then_asset():
    orders, trades, *_ = _run(_CONFIGS[0], 4, 120, 5, 64)
    key = orders["bar"] * 5 + orders["col"]
    assert (np.diff(key) >= 0).all() and orders["id"].tolist() == list(range(len(orders)))
    tkey = trades["entry_bar"] * 5 + trades["col"]
    assert (np.diff(tkey) >= 0).all() and trades["id"].tolist() == list(range(len(trades)))
