"""Reading each kind of result into :class:`~workbench.report._data.ReportData`: a backtest, a
portfolio, a sweep or study, a walk-forward, and a run read back from the store."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from workbench._version import __version__
from workbench.errors import InvalidParameterError, StoreError
from workbench.report import _svg
from workbench.report._data import ReportData, Section, Track, track
from workbench.report._html import frame_chart, table_html

if TYPE_CHECKING:
    from workbench.store import Store

__all__ = ["report_data", "stored_report_data"]

_TS = pl.Datetime("us", "UTC")
_RERUN_ARTIFACTS = ("strategy", "bars")


def _range(ts: pl.Series) -> str:
    if ts.len() == 0:
        return "no bars"
    return f"{ts[0]:%Y-%m-%d %H:%M} → {ts[-1]:%Y-%m-%d %H:%M} UTC ({ts.len():,} bars)"


def _settings(config: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in config.items() if v is not None)


def _backtest(result: Any) -> ReportData:
    from workbench.portfolio.result import PortfolioResult

    spec = result.strategy.spec()
    kw = {"init_cash": result.init_cash, "periods_per_year": result.periods_per_year, "risk_free": result.config.risk_free}
    is_pf = isinstance(result, PortfolioResult)
    bench_name = result.benchmark_name.replace("_", " ") if is_pf else "buy and hold"
    t = track(result.equity["ts"], result.equity_values.sum(axis=1), stats=result.stats,
              benchmark=np.array(result.benchmark_returns), benchmark_name=bench_name, trades=result.trades, **kw)
    header = [("Run id", result.run_id), ("Kind", "portfolio" if is_pf else "backtest"),
              ("Strategy", f"{spec['module']}.{spec['name']} v{spec['version']}"),
              ("Parameters", json.dumps(spec["params"], default=str)),
              ("Dataset", f"{', '.join(result.view.symbols)} ({result.view.n_assets} asset(s))"),
              ("Date range", _range(t.ts)), ("Content hash", result.dataset_hash),
              ("Engine settings", _settings(result.config.to_dict())), ("Benchmark", bench_name),
              ("Workbench version", __version__)]
    frames = {"equity": result.equity, "returns": result.returns, "orders": result.orders, "trades": result.trades,
              "positions": result.positions,
              "benchmark": pl.DataFrame({"ts": t.ts, "return": t.benchmark})}
    sections: list[Section] = []
    if is_pf:
        frames |= {"weights": result.weights, "targets": result.targets, "rebalances": result.rebalances,
                   "risk_contributions": result.risk_contributions}
        sections = _portfolio_sections(result)
    return ReportData("portfolio" if is_pf else "backtest", f"{result.strategy!r}", result.run_id, header, t,
                      sections, frames, result.stats.to_dict())


def _portfolio_sections(result: Any) -> list[Section]:
    w = result.weights
    secs = w["ts"].dt.epoch("us").to_numpy().astype(np.float64) / 1e6
    series = [(c, w[c].to_numpy()) for c in w.columns if c != "ts"]
    weights = _svg.stacked_area("Weights over time (cash on top)", secs, series)
    rc = table_html(result.risk_contributions, formats={"average_weight": "pct", "return_contribution": "pct",
                                                        "risk_contribution": "pct"})
    reb = result.rebalances
    turnover = (f'<p>Total turnover <span class="fig" data-key="turnover" data-value="{result.turnover!r}">'
                f'{result.turnover:.2%}</span> over {reb.height:,} rebalances.</p>')
    turn_chart = ""
    if reb.height:
        turn_chart = frame_chart("Turnover per rebalance", reb.with_columns(pl.col("turnover").fill_null(0.0)),
                                 "ts", ["turnover"], yfmt="pct")
    reb_table = table_html(reb, formats={"turnover": "pct", "gross": "pct", "net": "pct"}, paged=True, max_rows=5_000)
    return [Section("Weights", weights), Section("Risk contributions", rc),
            Section("Turnover and rebalances", turnover + turn_chart + reb_table)]


def _overfit_table(summary: dict[str, Any]) -> str:
    from workbench.report._html import _figure_cell

    labels = (("psr", "Probabilistic Sharpe ratio (PSR)", "num"), ("dsr", "Deflated Sharpe ratio (DSR)", "num"),
              ("pbo", "Probability of backtest overfitting (PBO)", "num"),
              ("min_track_record", "Minimum track record length (MinTRL, bars)", "num"),
              ("expected_max_sharpe", "Expected maximum Sharpe of the trials", "num"),
              ("sharpe", "Sharpe ratio of the best set", "num"), ("n_trials", "Trials", "int"))
    rows = []
    for key, label, fmt in labels:
        if key in summary:
            v = summary[key]
            v = float("nan") if v is None else v
            rows.append(f"<tr><td>{label}</td>{_figure_cell('overfit.' + key, v, fmt, 'overfit')}</tr>")
    return f'<table class="keep"><tbody>{"".join(rows)}</tbody></table>'


def _sweep_heatmap(frame: pl.DataFrame, params: tuple[str, ...], metric: str, goal: str) -> str:
    numeric = [p for p in params if frame[p].dtype.is_numeric() and frame[p].n_unique() > 1]
    if len(numeric) < 2:
        return ""
    x, y = numeric[0], numeric[1]
    agg = pl.col(metric).max() if goal == "maximize" else pl.col(metric).min()
    cells = frame.group_by(y, x).agg(agg)
    xs, ys = frame[x].unique().sort().to_list(), frame[y].unique().sort().to_list()
    if len(xs) > 40 or len(ys) > 40:
        return '<p class="note">Too many levels for a heatmap; see the sets table.</p>'
    grid = np.full((len(ys), len(xs)), np.nan)
    xi, yi = {v: i for i, v in enumerate(xs)}, {v: i for i, v in enumerate(ys)}
    for row in cells.iter_rows(named=True):
        grid[yi[row[y]], xi[row[x]]] = np.nan if row[metric] is None else row[metric]
    return _svg.heatmap(f"{metric} by {y} (rows) and {x} (columns), best over the other parameters",
                        [str(v) for v in ys], [str(v) for v in xs], grid, fmt="num", row_title=y, col_title=x)


def _history(frame: pl.DataFrame, metric: str, goal: str, *, order: str = "set") -> str:
    order = frame.sort(order)
    v = order[metric].cast(pl.Float64).fill_null(float("nan")).to_numpy()
    clean = np.where(np.isnan(v), -np.inf if goal == "maximize" else np.inf, v)
    best = np.maximum.accumulate(clean) if goal == "maximize" else np.minimum.accumulate(clean)
    best = np.where(np.isfinite(best), best, np.nan)
    n = np.arange(v.size, dtype=np.float64)
    return _svg.line_chart(f"Optimization history: {metric} per trial and best so far", n,
                           [(metric, v), ("best so far", best)], dates=False)


def _importance(study: Any) -> str:
    """Parameter importance by Optuna's own evaluator (fANOVA) over the study's finished trials."""
    import optuna

    try:
        imp = optuna.importance.get_param_importances(study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
    except (RuntimeError, ValueError) as exc:  # too few finished trials, or a parameter that never varied
        return f'<p class="note">No parameter importance: {exc}</p>'
    if not imp:
        return '<p class="note">No parameter importance: no parameter varied.</p>'
    table = pl.DataFrame({"parameter": list(imp), "importance": [float(v) for v in imp.values()]})
    return table_html(table, formats={"importance": "pct"}) + _svg.bar_chart(
        "Parameter importance (fANOVA)", list(imp), [("importance", np.array(list(imp.values())))])


def _study(study: Any) -> ReportData:
    """An Optuna study run by :func:`workbench.optimize.study`."""
    import optuna

    spec = study.user_attrs.get("workbench", {})
    names = spec.get("metrics") or ["value"]
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    rows = []
    for t in done:
        metrics = t.user_attrs.get("metrics") or {}
        rows.append({"number": t.number, **t.params, "value": t.values[0] if t.values else None,
                     **{k: v for k, v in metrics.items() if k not in t.params and k != "value"}})
    frame = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame({"number": pl.Series([], dtype=pl.Int64)})
    multi = len(study.directions) > 1
    goal = "maximize" if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else "minimize"
    header = [("Study", study.study_name), ("Kind", "study"), ("Strategy", str(spec.get("space", {}).get("strategy", ""))),
              ("Objective", ", ".join(f"{d.name.lower()} {n}" for d, n in zip(study.directions, names, strict=False))),
              ("Trials", f"{len(study.trials):,} ({len(done):,} complete)"), ("Workbench version", __version__)]
    stats: dict[str, Any] = {"n_trials": len(study.trials), "n_complete": len(done), "study_name": study.study_name}
    sections = []
    if done and not multi:
        stats |= {"best_value": study.best_value, "best_params": dict(study.best_params)}
        header.append(("Best parameters", json.dumps(study.best_params, default=str)))
        sections += [Section("Optimization history", _history(frame, "value", goal, order="number")),
                     Section("Parameter importance", _importance(study))]
    if frame.height:
        ranked = frame.sort("value", descending=goal == "maximize", nulls_last=True)
        sections.append(Section("Trials (best first)", table_html(ranked, paged=True, max_rows=5_000)))
    return ReportData("study", f"Study {study.study_name}", study.study_name, header, None, sections,
                      {"trials": frame}, stats)


def _sweep(result: Any) -> ReportData:
    summary = result.summary()
    over = summary.get("overfit", {})
    header = [("Run id", result.run_id), ("Kind", f"sweep ({result.method})"),
              ("Strategy", result.strategy.__name__), ("Parameters searched", ", ".join(result.params)),
              ("Search", f"{result.method}, {result.frame.height:,} sets, engine {result.engine}, {result.elapsed_s:.2f} s"),
              ("Objective", f"{result.goal} {result.metric}"), ("Best parameters", json.dumps(result.best_params, default=str)),
              ("Content hash", result.dataset_hash), ("Engine settings", _settings(result.config.to_dict())),
              ("Workbench version", __version__)]
    sections = [Section("Overfitting statistics", _overfit_table(over) if over else '<p class="note">Not computed.</p>')]
    heat = _sweep_heatmap(result.frame, result.params, result.metric, result.goal)
    if heat:
        sections.append(Section("Parameter heatmap", heat))
    st = result.stability()
    stab = pl.DataFrame({"figure": ["best", "neighbour mean", "neighbour worst", "neighbours", "drop", "relative drop"],
                         "value": [st.best, st.neighbour_mean, st.neighbour_worst, float(st.n_neighbours), st.drop, st.relative_drop]})
    sections.append(Section(f"Stability of {st.metric} around the best set", table_html(stab)))
    if result.method == "random":
        sections.append(Section("Search history", _history(result.frame, result.metric, result.goal)))
    sections.append(Section("Parameter sets (best first)", table_html(result.frame, paged=True, max_rows=5_000)))
    frames: dict[str, pl.DataFrame] = {"sets": result.frame}
    t = None
    if result.bars is not None:
        best = result.backtest(0)
        inner = _backtest(best)
        t = inner.track
        frames |= {f"best_{k}": v for k, v in inner.frames.items()}
        sections.insert(0, Section("The best set's backtest", f"<p>Run id {best.run_id}; its figures follow the search "
                                                             "sections below.</p>"))
    stats = {k: v for k, v in summary.items() if k not in ("best_params", "overfit")} | {"overfit": over,
                                                                                        "best_params": summary["best_params"]}
    return ReportData("sweep", f"{result.method.capitalize()} of {result.strategy.__name__}", result.run_id, header, t,
                      sections, frames, stats)


def _walk_forward(result: Any) -> ReportData:
    s = result.stats
    eq = result.equity
    t = track(eq["ts"], eq["equity"].to_numpy(), stats=s, init_cash=s.start_equity, periods_per_year=s.periods_per_year,
              risk_free=s.risk_free, benchmark=np.array(result.benchmark_returns))
    header = [("Kind", "walk-forward"), ("Folds", str(result.folds.height)), ("Objective", f"{result.goal} {result.metric}"),
              ("Parameters", ", ".join(result.params)), ("Degradation", f"{result.degradation:.4g}"),
              ("Date range (out of sample)", _range(eq["ts"])), ("Benchmark", "buy and hold"),
              ("Workbench version", __version__)]
    folds = table_html(result.folds, paged=True)
    chart = frame_chart("Stitched out-of-sample equity", eq, "ts", ["equity"])
    returns = pl.DataFrame({"ts": eq["ts"], "return": t.returns})
    frames = {"folds": result.folds, "equity": eq, "returns": returns,
              "benchmark": pl.DataFrame({"ts": eq["ts"], "return": t.benchmark})}
    return ReportData("walk_forward", "Walk-forward analysis", "", header, t,
                      [Section("Folds", folds), Section("Stitched out-of-sample equity", chart)], frames, s.to_dict())


def _batch(handle: Any) -> ReportData:
    """A batch of notebook jobs (:mod:`workbench.jobs`): its status and its results table."""
    from workbench.report._html import _figure_cell

    tally = handle.status()
    results = handle.results()
    header = [("Batch id", handle.id), ("Kind", "batch"), ("Name", handle.name or ""), ("Notebook", handle.notebook),
              ("Output directory", str(handle.output_dir)), ("Workbench version", __version__)]
    rows = "".join(f"<tr><td>{state}</td>{_figure_cell('jobs.' + state, int(n), 'int', 'batch')}</tr>"
                   for state, n in tally.items())
    sections = [Section("Jobs by state", f'<table class="keep"><tbody>{rows}</tbody></table>')]
    numeric = [c for c, d in results.schema.items() if d.is_numeric() and c not in ("number", "attempts")]
    for col in numeric[:4]:
        vals = results[col].cast(pl.Float64).to_numpy()
        if np.isfinite(vals).sum() >= 2:
            sections.append(Section(f"{col} by job", _svg.bar_chart(
                f"{col} by job number", [str(n) for n in results["number"].to_list()], [(col, vals)], yfmt="num")))
    sections.append(Section("Results", table_html(results, paged=True, max_rows=5_000)))
    return ReportData("batch", f"Batch {handle.name or handle.id}", handle.id, header, None, sections,
                      {"results": results}, {"jobs": tally})


def report_data(result: Any) -> ReportData:
    """The :class:`ReportData` of any result the workbench returns."""
    from workbench.backtesting.result import BacktestResult
    from workbench.optimize.result import SweepResult
    from workbench.optimize.walk_forward import WalkForwardResult

    if isinstance(result, BacktestResult):
        return _backtest(result)
    if isinstance(result, SweepResult):
        return _sweep(result)
    if isinstance(result, WalkForwardResult):
        return _walk_forward(result)
    if isinstance(result, ReportData):
        return result
    if type(result).__module__.startswith("optuna"):
        return _study(result)
    if type(result).__name__ == "BatchHandle":
        return _batch(result)
    raise InvalidParameterError(
        f"`result` must be a backtest, portfolio, sweep, study (optuna.Study), walk-forward or batch result; got "
        f"{type(result).__name__}. Fix: pass what workbench.backtest, grid, study or walk_forward returned."
    )


# --------------------------------------------------------------------------- stored runs

def _artifact(store: Store, run_id: str, name: str, needed: bool) -> pl.DataFrame | None:
    rec = store.run(run_id)
    if name not in rec.artifacts and not needed:
        return None
    return store.load_artifact(run_id, name)  # names a missing artifact or a deleted file


def _stored_backtest_header(rec: Any, ts: pl.Series, store: Store) -> list[tuple[str, str]]:
    """Strategy, parameters, dataset (its registered name when the store has its hash), dates and
    engine settings of a stored backtest."""
    spec = rec.spec
    strategy = spec.get("strategy") or {}
    names = []
    registered = store.datasets()
    if registered.height and rec.dataset_hash:
        names = registered.filter(pl.col("content_hash") == rec.dataset_hash)["name"].to_list()
    return [("Strategy", f"{strategy.get('module', '')}.{strategy.get('name', '')} v{strategy.get('version', '')}"),
            ("Parameters", json.dumps(strategy.get("params", {}), default=str)),
            ("Dataset", ", ".join(names) or "not registered in this store"), ("Date range", _range(ts)),
            ("Engine settings", _settings(spec.get("config") or {}))]


def _stored_search_sections(spec: dict[str, Any], metrics: dict[str, Any], trials: pl.DataFrame) -> list[Section]:
    """The sections of a stored sweep or study: overfitting figures, heatmap, history, trials."""
    sections = []
    if metrics.get("overfit"):
        sections.append(Section("Overfitting statistics", _overfit_table(metrics["overfit"])))
    if metrics.get("best_params"):
        sections.append(Section("Best parameters", f"<p>{json.dumps(metrics['best_params'], default=str)}</p>"))
    done = trials.filter(pl.col("state") == "complete") if "state" in trials.columns else trials
    metric = spec.get("metric") or (spec.get("metrics") or ["value"])[0]
    metric = metric if metric in done.columns else "value"
    goal = spec.get("goal") or "maximize"
    goal = goal if isinstance(goal, str) else goal[0]
    params = tuple(p for p in (spec.get("space", {}).get("dims") or {}) if p in done.columns)
    if done.height and metric in done.columns:
        heat = _sweep_heatmap(done, params, metric, goal)
        if heat:
            sections.append(Section("Parameter heatmap", heat))
        sections.append(Section("Optimization history", _history(done, metric, goal, order="number")))
    if trials.height:
        sections.append(Section("Trials", table_html(trials, paged=True, max_rows=5_000)))
    return sections


def _stored_batch(batch_id: str, store: Store) -> Any:
    """The batch ``batch_id`` of ``store``'s database, or None when there is none."""
    from workbench.errors import JobError
    from workbench.jobs import batch

    try:
        return batch(batch_id, url=store.engine.url.render_as_string(hide_password=False))
    except JobError:
        return None


def stored_report_data(run_id: str, store: Store | None = None) -> ReportData:
    """The :class:`ReportData` of a run in the store (its stored metrics and artifacts), or of a
    batch of notebook jobs with that id.

    Raises
    ------
    StoreError
        No such run, or an artifact the report needs is missing (the message names it).
    """
    from workbench.store import Store as _Store

    store = store or _Store()
    try:
        rec = store.run(run_id)
    except StoreError:
        handle = _stored_batch(run_id, store)
        if handle is None:
            raise
        return _batch(handle)
    header = [("Run id", rec.id), ("Kind", rec.kind), ("Name", rec.name or ""), ("Status", rec.status),
              ("Content hash", rec.dataset_hash or ""), ("Spec", rec.spec_json),
              ("Workbench version", f"{rec.workbench_version} (saved) / {__version__} (report)"),
              ("Created", f"{rec.created_at:%Y-%m-%d %H:%M:%S} UTC")]
    # the run's outputs; its strategy code and bars (kept to re-run it) are not
    frames = {name: store.load_artifact(rec.id, name) for name in sorted(rec.artifacts) if name not in _RERUN_ARTIFACTS}
    metrics = dict(rec.metrics)
    t: Track | None = None
    sections: list[Section] = []
    if rec.kind in ("backtest", "portfolio"):
        eq = frames.get("equity")
        if eq is None:
            raise StoreError(f"Run {rec.id!r} has no artifact 'equity'; a backtest report needs it. Re-run and save it again.")
        need = ("start_equity", "periods_per_year")
        missing = [k for k in need if metrics.get(k) is None]
        if missing:
            raise StoreError(f"Run {rec.id!r} lacks the metric(s) {', '.join(missing)} its report needs. Re-run and save it again.")
        bench = frames.get("benchmark")
        header[1:1] = _stored_backtest_header(rec, eq["ts"], store)
        t = track(eq["ts"], eq["equity"].to_numpy(), stats=metrics, init_cash=metrics["start_equity"],
                  periods_per_year=metrics["periods_per_year"], risk_free=metrics.get("risk_free") or 0.0,
                  benchmark=None if bench is None else bench["return"].to_numpy(), trades=frames.get("trades"))
        if "returns" not in frames:
            frames["returns"] = pl.DataFrame({"ts": eq["ts"], "return": t.returns})
    elif rec.kind == "optimization":
        frames["trials"] = store.trials(rec.id)
        sections = _stored_search_sections(rec.spec, metrics, frames["trials"])
    return ReportData(rec.kind, rec.name or f"Run {rec.id}", rec.id, header, t, sections, frames, metrics)
