"""Trade statistics against a plain Python reference on hand-made and seeded trades frames."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import polars as pl
import pytest

import workbench.metrics as wm
from workbench.errors import DataValidationError

NAN = float("nan")
SCHEMA = {"pnl": pl.Float64, "ret": pl.Float64, "entry_bar": pl.Int64, "exit_bar": pl.Int64,
          "entry_fees": pl.Float64, "exit_fees": pl.Float64, "size": pl.Float64,
          "direction": pl.String, "is_open": pl.Boolean}


def frame(rows: list[tuple[float, float, int, int, bool]]) -> pl.DataFrame:
    """(pnl, ret, entry_bar, exit_bar, is_open) rows -> an engine-shaped trades frame."""
    data = {
        "pnl": [r[0] for r in rows], "ret": [r[1] for r in rows],
        "entry_bar": [r[2] for r in rows], "exit_bar": [r[3] for r in rows],
        "entry_fees": [1.0] * len(rows), "exit_fees": [1.0] * len(rows), "size": [10.0] * len(rows),
        "direction": ["long"] * len(rows), "is_open": [r[4] for r in rows],
    }
    return pl.DataFrame(data, schema=SCHEMA)


def reference(rows):
    """Plain Python: every statistic from the list of rows, closed trades in exit order."""
    closed = sorted((r for r in rows if not r[4]), key=lambda r: (r[3], r[2]))
    pnl, ret = [r[0] for r in closed], [r[1] for r in closed]
    dur = [r[3] - r[2] for r in closed]
    n = len(closed)
    win_ret = [x for p, x in zip(pnl, ret, strict=True) if p > 0]
    loss_ret = [x for p, x in zip(pnl, ret, strict=True) if p < 0]
    gross_win, gross_loss = sum(p for p in pnl if p > 0), -sum(p for p in pnl if p < 0)

    def mean(xs):
        return sum(xs) / len(xs) if xs else NAN

    def streak(flags):
        best = cur = 0
        for f in flags:
            cur = cur + 1 if f else 0
            best = max(best, cur)
        return best

    p = len(win_ret) / n if n else 0.0
    if not win_ret:
        payoff = 0.0
    elif not loss_ret:
        payoff = NAN
    else:
        payoff = mean(win_ret) / abs(mean(loss_ret))
    if gross_loss == 0:
        pf = 0.0 if gross_win == 0 else NAN
    else:
        pf = gross_win / gross_loss
    if n >= 2 and len(set(pnl)) > 1:
        sqn = math.sqrt(n) * statistics.mean(pnl) / statistics.stdev(pnl)
    else:
        sqn = 0.0 if n == 0 or mean(pnl) == 0 else NAN
    if n == 0:
        kelly = 0.0
    elif not loss_ret:
        kelly = p
    elif not win_ret:
        kelly = NAN
    else:
        kelly = p - (1 - p) / payoff
    return {
        "n_trades": n, "win_rate": p, "best_trade": max(ret, default=NAN), "worst_trade": min(ret, default=NAN),
        "avg_trade": mean(ret), "avg_win": mean(win_ret), "avg_loss": mean(loss_ret), "payoff_ratio": payoff,
        "profit_factor": pf, "expectancy": mean(pnl), "sqn": sqn, "kelly_criterion": kelly,
        "max_consecutive_wins": streak(x > 0 for x in pnl), "max_consecutive_losses": streak(x < 0 for x in pnl),
        "avg_trade_duration": mean(dur), "max_trade_duration": max(dur, default=0),
    }


def check(rows):
    trades, expected = frame(rows), reference(rows)
    stats = wm.compute_stats([100.0], init_cash=100.0, periods_per_year=252, trades=trades)
    for name, want in expected.items():
        got = getattr(wm, name)(trades)
        assert type(got) is type(want) or isinstance(want, float), name
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, err_msg=name)
        np.testing.assert_allclose(getattr(stats, name), want, rtol=1e-12, atol=0, err_msg=name)
    assert stats.n_open_trades == sum(1 for r in rows if r[4])


def seeded_rows(seed: int, n: int):
    rng = np.random.default_rng(seed)
    rows, bar = [], 0
    for _ in range(n):
        entry = bar + int(rng.integers(0, 3))
        exit_ = entry + int(rng.integers(0, 20))
        ret = float(rng.normal(0.002, 0.03))
        if rng.random() < 0.1:
            ret = 0.0
        rows.append((ret * 1_000.0, ret, entry, exit_, bool(rng.random() < 0.05)))
        bar = entry + 1
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_seeded_trades_match_reference(seed):
    check(seeded_rows(seed, 200))


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([], id="no_trades"),
        pytest.param([(5.0, 0.05, 0, 3, True)], id="only_open"),
        pytest.param([(5.0, 0.05, 0, 3, False)], id="one_win"),
        pytest.param([(-5.0, -0.05, 0, 3, False)], id="one_loss"),
        pytest.param([(0.0, 0.0, 0, 3, False)], id="one_break_even"),
        pytest.param([(5.0, 0.05, 0, 1, False), (2.0, 0.02, 1, 4, False), (2.0, 0.02, 5, 5, False)], id="all_wins"),
        pytest.param([(-5.0, -0.05, 0, 1, False), (-2.0, -0.02, 1, 4, False)], id="all_losses"),
        pytest.param([(0.0, 0.0, 0, 1, False), (0.0, 0.0, 2, 4, False)], id="all_break_even"),
        pytest.param([(3.0, 0.03, 0, 2, False), (0.0, 0.0, 2, 3, False), (3.0, 0.03, 3, 4, False)], id="break_even_ends_streak"),
        pytest.param([(3.0, 0.03, 6, 9, False), (-1.0, -0.01, 0, 2, False), (-2.0, -0.02, 2, 5, False),
                      (4.0, 0.04, 9, 12, True)], id="unsorted_with_open"),
    ],
)
def test_edge_cases_match_reference(rows):
    check(rows)


def test_edge_case_conventions_are_explicit():
    none = frame([])
    assert (wm.n_trades(none), wm.win_rate(none), wm.profit_factor(none), wm.payoff_ratio(none)) == (0, 0.0, 0.0, 0.0)
    assert (wm.sqn(none), wm.kelly_criterion(none), wm.max_trade_duration(none)) == (0.0, 0.0, 0)
    assert all(math.isnan(f(none)) for f in (wm.avg_trade, wm.avg_win, wm.avg_loss, wm.expectancy, wm.best_trade))
    wins = frame([(5.0, 0.05, 0, 1, False), (2.0, 0.02, 1, 4, False)])
    assert math.isnan(wm.profit_factor(wins)) and math.isnan(wm.payoff_ratio(wins))
    assert wm.kelly_criterion(wins) == 1.0 and wm.win_rate(wins) == 1.0
    losses = frame([(-5.0, -0.05, 0, 1, False), (-2.0, -0.02, 1, 4, False)])
    assert wm.profit_factor(losses) == 0.0 and wm.payoff_ratio(losses) == 0.0
    assert math.isnan(wm.kelly_criterion(losses)) and math.isnan(wm.avg_win(losses))
    one = frame([(5.0, 0.05, 0, 1, False)])
    assert math.isnan(wm.sqn(one))


def test_open_trades_are_ignored_even_with_missing_values():
    trades = frame([(5.0, 0.05, 0, 3, False), (NAN, NAN, 4, 9, True)])
    assert wm.n_trades(trades) == 1
    assert wm.expectancy(trades) == 5.0


def test_pandas_frames_are_accepted():
    rows = seeded_rows(9, 30)
    assert wm.sqn(frame(rows).to_pandas()) == wm.sqn(frame(rows))


def test_missing_column_names_it_and_suggests():
    trades = frame([(5.0, 0.05, 0, 3, False)]).rename({"pnl": "PnL"})
    with pytest.raises(DataValidationError, match=r"`trades` is missing column 'pnl'; it needs pnl, ret, .* Did you mean 'PnL'\?"):
        wm.win_rate(trades)


def test_bad_frames_raise_data_validation_errors():
    good = frame([(5.0, 0.05, 0, 3, False)])
    with pytest.raises(DataValidationError, match="`trades` column 'is_open' must be Boolean; got dtype Int64"):
        wm.n_trades(good.with_columns(pl.col("is_open").cast(pl.Int64)))
    with pytest.raises(DataValidationError, match="`trades` column 'entry_bar' must be an integer bar index"):
        wm.n_trades(good.with_columns(pl.col("entry_bar").cast(pl.Float64)))
    with pytest.raises(DataValidationError, match="`trades` column 'pnl' must be numeric; got dtype String"):
        wm.n_trades(good.with_columns(pl.col("pnl").cast(pl.String)))
    with pytest.raises(DataValidationError, match=r"column 'pnl' must be finite for closed trades; got nan in closed trade 0"):
        wm.n_trades(frame([(NAN, 0.05, 0, 3, False)]))
    with pytest.raises(DataValidationError, match=r"closed trade 0 exits before it enters \(exit_bar - entry_bar = -2\)"):
        wm.n_trades(frame([(1.0, 0.05, 5, 3, False)]))
    with pytest.raises(DataValidationError, match="`trades` must be a polars DataFrame; got dict"):
        wm.n_trades({"pnl": [1.0]})
    with pytest.raises(DataValidationError, match="must be finite for closed trades; got nan"):
        wm.n_trades(pd.DataFrame({"pnl": [np.nan], "ret": [0.1], "entry_bar": [0], "exit_bar": [1], "is_open": [False]}))


def test_kelly_with_a_zero_payoff_is_nan_not_a_division_error():
    trades = frame([(1.0, 0.0, 0, 1, False), (-1.0, -0.01, 1, 2, False)])  # a win by pnl with ret 0
    assert wm.payoff_ratio(trades) == 0.0
    assert math.isnan(wm.kelly_criterion(trades))
