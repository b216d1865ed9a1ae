"""The frozen result of a backtest: frames built on first access, stats, run identity, save, plot."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from workbench._reportable import Reportable
from workbench._version import __version__
from workbench.data.frequency import frequency_of
from workbench.nb.enums import ExitReason, OrderKind, OrderStatus, RejectReason

if TYPE_CHECKING:
    from workbench.backtesting.config import BacktestConfig
    from workbench.metrics import Stats
    from workbench.store import Store
    from workbench.strategies.base import Bars, Strategy

__all__ = ["BacktestResult", "run_id_of"]

_TS = pl.Datetime("us", "UTC")
_FILLED = int(OrderStatus.FILLED)


def _names(enum: Any) -> list[str]:
    return [m.name.lower() for m in sorted(enum, key=int)]


def _labels(codes: np.ndarray, enum: Any) -> pl.Series:
    """The lower-case names of enum ``codes`` as a String series (indexing a table of names:
    a Python object array for short series, a polars gather for long ones)."""
    names = _names(enum)
    if codes.size < 4096:
        return pl.Series(np.asarray(names, dtype=object)[codes.astype(np.int64)], dtype=pl.String)
    return pl.Series(names, dtype=pl.String).gather(codes.astype(np.int64))


def run_id_of(spec: dict[str, Any]) -> str:
    """The run id: a 16-hex-digit hash of the run spec's canonical JSON."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True, eq=False)
class BacktestResult(Reportable):
    """What a backtest produced. Immutable; frames are polars, built when first read.

    Attributes
    ----------
    config : BacktestConfig
    strategy : Strategy
    equity : polars.DataFrame
        One row per bar, at its close: ``ts`` (datetime, UTC), ``equity`` and ``cash`` (float,
        the total of all accounts), plus ``equity_<symbol>`` per asset when several assets
        trade in separate accounts.
    returns : polars.DataFrame
        ``ts``, ``return`` (float): the per-bar simple return of the total equity (the first
        against the starting cash).
    orders : polars.DataFrame
        One row per order outcome: ``id`` (int), ``ts`` and ``bar`` (int) of the fill or
        rejection, ``symbol``, ``side`` (``buy``/``sell``), ``kind`` (``market``, ``limit``,
        ``stop``, ``stop_limit``, ``stop_loss``, ``take_profit``, ``trailing_stop``,
        ``liquidation``), ``size`` (units, float; for a cancelled or expired order, the units it
        would have traded when it was withdrawn: an entry sized from equity at its limit, else
        its stop, else the last price — an estimate), ``price`` (after spread and slippage; NaN
        for cancelled and expired orders),
        ``fees``, ``slippage`` (cash cost of slippage and spread), ``status`` (``filled``,
        ``rejected``, ``cancelled``, ``expired``), ``reason`` (of a rejection: ``no_cash``,
        ``zero_size``, ``short_disabled``, ``max_leverage``, ``no_price``; else ``none``),
        ``signal_bar`` (int) and ``signal_ts`` of the decision.
    trades : polars.DataFrame
        One row per round trip: ``id``, ``symbol``, ``direction`` (``long``/``short``),
        ``size``, ``entry_bar``/``entry_ts``/``entry_price``, ``exit_bar``/``exit_ts``/
        ``exit_price``, ``pnl`` (cash, net of fees), ``ret`` (``pnl`` over the entry value),
        ``entry_fees``, ``exit_fees``, ``exit_reason`` (``signal``, ``stop_loss``,
        ``take_profit``, ``trailing_stop``, ``reverse``, ``end_of_data``, ``liquidation``),
        ``is_open`` (bool; an open trade is valued at the last close), ``weight`` (requested
        at entry, NaN if none) and ``duration_bars`` (int).
    positions : polars.DataFrame
        Long format, one row per bar and asset: ``ts``, ``symbol``, ``units`` (negative when
        short), ``value`` (units × close) and ``weight`` (value over the account's equity).
    stats : Stats
        Every figure of :mod:`workbench.metrics`, annualized with the data frequency.
    run_id : str
        16 hex digits hashing :attr:`spec` (strategy, parameters, settings, data, version).
    """

    config: BacktestConfig
    strategy: Strategy
    source: pl.DataFrame | None = field(repr=False)  # the bars as given (None: given as arrays)
    view: Bars = field(repr=False)
    order_records: np.ndarray = field(repr=False)
    trade_records: np.ndarray = field(repr=False)
    equity_values: np.ndarray = field(repr=False)   # (n_bars, n_accounts)
    cash_values: np.ndarray = field(repr=False)
    units_values: np.ndarray = field(repr=False)    # (n_bars, n_assets)
    stop_mode: int = 0

    @classmethod
    def _from_kernel(cls, cfg: BacktestConfig, strategy: Strategy, frame: pl.DataFrame, view: Bars,
                     out: tuple, *, stop_mode: int) -> BacktestResult:
        orders, trades, counts, equity, cash, units = out
        return cls(cfg, strategy, frame, view, orders[: counts[0]], trades[: counts[1]], equity, cash, units, stop_mode)

    def __repr__(self) -> str:
        return (f"BacktestResult({self.strategy!r}, bars={self.view.n_bars}, assets={self.view.n_assets}, "
                f"final_equity={self.final_equity:,.2f}, trades={len(self.trade_records)})")

    @cached_property
    def bars(self) -> pl.DataFrame:
        """The bars backtested, as a frame (rebuilt from the arrays when they came as arrays)."""
        from workbench.backtesting.engine import source_frame

        return source_frame(self.source, self.view)

    # -- scalars -----------------------------------------------------------------------------
    @property
    def final_equity(self) -> float:
        return float(self.equity_values[-1].sum())

    @property
    def init_cash(self) -> float:
        return self.config.cash * self.equity_values.shape[1]

    @cached_property
    def periods_per_year(self) -> float:
        if self.config.periods_per_year is not None:
            return self.config.periods_per_year
        view = self.view
        return view.derive("frequency", lambda: frequency_of(view.ts, view.time_zone)).periods_per_year

    # -- frames ------------------------------------------------------------------------------
    def _ts(self, index: np.ndarray) -> pl.Series:
        ts = self.view.ts
        safe = np.clip(index, 0, len(ts) - 1)
        out = pl.Series(ts[safe]).cast(_TS)
        return out.scatter(np.flatnonzero(index < 0), None) if (index < 0).any() else out

    @cached_property
    def equity(self) -> pl.DataFrame:
        total = self.equity_values.sum(axis=1)
        cols: dict[str, Any] = {"ts": self._ts(np.arange(len(total))), "equity": total,
                                "cash": self.cash_values.sum(axis=1)}
        if self.equity_values.shape[1] > 1:
            for j, sym in enumerate(self.view.symbols):
                cols[f"equity_{sym}"] = self.equity_values[:, j]
        return pl.DataFrame(cols)

    @cached_property
    def returns(self) -> pl.DataFrame:
        from workbench.metrics import simple_returns

        r = simple_returns(self.equity_values.sum(axis=1), init_cash=self.init_cash)
        return pl.DataFrame({"ts": self._ts(np.arange(len(r))), "return": r})

    @cached_property
    def orders(self) -> pl.DataFrame:
        o = self.order_records
        sym = np.asarray(self.view.symbols, dtype=object)
        return pl.DataFrame({
            "id": o["id"], "ts": self._ts(o["bar"]), "bar": o["bar"], "symbol": pl.Series(sym[o["col"]], dtype=pl.String),
            "side": np.where(o["side"] == 0, "buy", "sell"), "kind": _labels(o["kind"], OrderKind),
            "size": o["size"], "price": o["price"], "fees": o["fees"], "slippage": o["slippage"],
            "status": _labels(o["status"], OrderStatus), "reason": _labels(o["reason"], RejectReason),
            "signal_bar": o["signal_bar"], "signal_ts": self._ts(o["signal_bar"]),
        })

    @cached_property
    def trades(self) -> pl.DataFrame:
        t = self.trade_records
        sym = np.asarray(self.view.symbols, dtype=object)
        return pl.DataFrame({
            "id": t["id"], "symbol": pl.Series(sym[t["col"]], dtype=pl.String),
            "direction": np.where(t["direction"] == 0, "long", "short"), "size": t["size"],
            "entry_bar": t["entry_bar"], "entry_ts": self._ts(t["entry_bar"]), "entry_price": t["entry_price"],
            "exit_bar": t["exit_bar"], "exit_ts": self._ts(t["exit_bar"]), "exit_price": t["exit_price"],
            "pnl": t["pnl"], "ret": t["ret"], "entry_fees": t["entry_fees"], "exit_fees": t["exit_fees"],
            "exit_reason": _labels(t["exit_reason"], ExitReason), "is_open": t["is_open"], "weight": t["weight"],
            "duration_bars": t["exit_bar"] - t["entry_bar"],
        })

    @cached_property
    def positions(self) -> pl.DataFrame:
        """Long format: ``ts, symbol, units, value, weight`` (weight of the account's equity)."""
        n, m = self.units_values.shape
        close = self.view.close
        value = np.where(self.units_values != 0.0, self.units_values * close, 0.0)
        acct = self.equity_values if self.equity_values.shape[1] == m else np.repeat(self.equity_values, m, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = np.where(acct != 0, value / acct, 0.0)
        return pl.DataFrame({
            "ts": pl.concat([self._ts(np.arange(n))] * m), "symbol": np.repeat(np.asarray(self.view.symbols), n),
            "units": self.units_values.T.ravel(), "value": value.T.ravel(), "weight": weight.T.ravel(),
        })

    # -- statistics --------------------------------------------------------------------------
    @cached_property
    def benchmark_returns(self) -> np.ndarray:
        """Per-bar returns of buying and holding the assets (equal weight), read-only (computed
        once for the bars of several backtests)."""
        r = self._benchmark().view()
        r.flags.writeable = False
        return r

    def _benchmark(self) -> np.ndarray:
        """:attr:`benchmark_returns` as the statistics take it (writable, never handed out):
        buying and holding the assets, kept with the bars."""
        from workbench.metrics.returns import buy_and_hold_returns

        return self.view.derive("benchmark_returns", lambda: buy_and_hold_returns(self.view.close))

    @cached_property
    def stats(self) -> Stats:
        from workbench.metrics import stats as ms

        o, t = self.order_records, self.trade_records
        filled = o["status"] == _FILLED
        settings = {
            "init_cash": self.init_cash, "periods_per_year": self.periods_per_year,
            "fees_paid": float(o["fees"][filled].sum()), "slippage_paid": float(o["slippage"][filled].sum()),
            "risk_free": self.config.risk_free,
        }
        eq, units = self.equity_values, self.units_values
        equity = eq[:, 0] if eq.shape[1] == 1 else eq.sum(axis=1)
        held = units[:, 0] != 0 if units.shape[1] == 1 else (units != 0).any(axis=1)
        bench = self._benchmark()
        # the engine's own arrays: the kernel checks them and orders the closed trades itself
        stats = ms._stats_of_engine(equity, held=held, benchmark=bench, pnl=t["pnl"], ret=t["ret"],
                                    entry_bar=t["entry_bar"], exit_bar=t["exit_bar"], is_open=t["is_open"], **settings)
        if stats is None:  # the NumPy definitions this time, or an array the kernel refuses (named there)
            trades = ms._tr.closed_trades_of(t["pnl"], t["ret"], t["entry_bar"], t["exit_bar"], t["is_open"])
            stats = ms.compute_stats(equity, trades=trades, exposure=held, benchmark=bench, **settings)
        return stats

    # -- identity and persistence ------------------------------------------------------------
    @cached_property
    def dataset_hash(self) -> str:
        from workbench.data.hashing import content_hash

        return content_hash(self.bars, check=False)  # checked by the backtest

    @cached_property
    def spec(self) -> dict[str, Any]:
        """Everything that determines this run: strategy + version, params, settings, data, code."""
        return {"kind": "backtest", "strategy": self.strategy.spec(), "config": self.config.to_dict(),
                "dataset_hash": self.dataset_hash, "workbench_version": __version__, "seed": None}

    @cached_property
    def run_id(self) -> str:
        return run_id_of(self.spec)

    def tables(self) -> dict[str, pl.DataFrame]:
        """The tables :meth:`save` stores as Parquet artifacts (and ``Store.verify`` compares)."""
        return {"equity": self.equity, "trades": self.trades, "orders": self.orders,
                "benchmark": pl.DataFrame({"ts": self.equity["ts"], "return": self.benchmark_returns})}

    def save(self, store: Store | None = None, *, name: str | None = None, keep_data: bool | None = None) -> str:
        """Record this run in the store; returns its id.

        The run keeps its spec, metrics, equity/trades/orders as Parquet, the strategy's source
        (so :meth:`Store.rerun <workbench.store.Store.rerun>` can run it again, notebook strategies
        included) and, with ``keep_data``, the bars themselves.

        Parameters
        ----------
        store : Store, optional
            Default: ``Store()``.
        name : str, optional
            A label (default: the strategy's repr).
        keep_data : bool, optional
            Store the bars with the run. Default: when they are not a registered dataset of the
            store and hold at most :data:`KEEP_DATA_CELLS` values.
        """
        from workbench.store import Store
        from workbench.store.rerun import run_artifacts

        store = store or Store()
        now = datetime.now(timezone.utc)
        began = now - timedelta(seconds=float(getattr(self, "elapsed_s", 0.0)))
        artifacts = self.tables()
        artifacts.update(run_artifacts(store, type(self.strategy), self.bars, self.dataset_hash, keep_data=keep_data))
        store.save_run(
            self.run_id, kind=self.spec["kind"], spec=self.spec, dataset_hash=self.dataset_hash,
            metrics=self.stats.to_dict(), status="succeeded", name=name or repr(self.strategy),
            artifacts=artifacts, started_at=began, finished_at=now,
        )
        return self.run_id

    def plot(self, *, max_points: int = 5_000) -> Any:
        """Price with trade markers, equity, and drawdown (hvplot; long series are downsampled)."""
        from workbench.backtesting.plot import plot_result

        return plot_result(self, max_points=max_points)
