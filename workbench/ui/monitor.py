"""The optimization monitor: an Optuna study or a stored sweep, watched while it runs.

:class:`StudyMonitor` (``param.Parameterized``) holds what the page knows: every finished trial,
the best so far, the parameters' importance, a two-parameter heatmap and the overfitting
statistics of the best set. :meth:`StudyMonitor.poll` reads only the trials finished since the
last poll (:class:`~workbench.ui._optuna_tail.OptunaTail` for studies,
:func:`~workbench.store.trials.trials_after` for sweeps) and returns them, so a view streams
just those rows to the browser: the payload grows with new trials, not with the study.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

import numpy as np
import param
import polars as pl

from workbench.errors import StoreError, WorkbenchError

__all__ = ["StudyMonitor", "importance", "heatmap_cells", "overfit_stats"]

_STUDY, _RUN = "study: ", "sweep: "


def importance(frame: pl.DataFrame, params: list[str], value: str = "value", *, bins: int = 10) -> dict[str, float]:
    """Each parameter's share of the objective's variance it explains (the correlation ratio
    η² of the objective grouped by the parameter's value, or by up to ``bins`` quantile bins of
    it), normalized to sum to 1 over the parameters.

    Examples
    --------
    >>> f = pl.DataFrame({"a": [1, 1, 2, 2] * 5, "b": [1, 2, 3, 4] * 5, "value": [0.0, 0.0, 1.0, 1.0] * 5})
    >>> {k: round(v, 3) for k, v in importance(f, ["a", "b"]).items()}
    {'a': 0.5, 'b': 0.5}
    """
    data = frame.filter(pl.col(value).is_not_null() & pl.col(value).is_finite())
    if data.height < 3 or not params:
        return {}
    y = data[value].to_numpy().astype(np.float64)
    total = float(np.var(y))
    raw: dict[str, float] = {}
    for p in params:
        col = data[p]
        if col.dtype.is_numeric() and col.n_unique() > bins:
            edges = np.unique(np.quantile(col.to_numpy().astype(np.float64), np.linspace(0, 1, bins + 1)))
            group = np.searchsorted(edges[1:-1], col.to_numpy(), side="right")
        else:
            group = col.cast(pl.String).rank("dense").to_numpy()
        _, inv, counts = np.unique(group, return_inverse=True, return_counts=True)
        means = np.bincount(inv, weights=y) / counts
        raw[p] = float((counts * (means - y.mean()) ** 2).sum() / len(y) / total) if total > 0 else 0.0
    s = sum(raw.values())
    return {k: (v / s if s > 0 else 0.0) for k, v in sorted(raw.items(), key=lambda kv: -kv[1])}


def heatmap_cells(frame: pl.DataFrame, x: str, y: str, value: str = "value", *, goal: str = "maximize",
                  bins: int = 20) -> pl.DataFrame:
    """The best objective per cell of parameters ``x`` × ``y`` (numeric parameters with more than
    ``bins`` values are cut into ``bins`` equal-width bins, labelled by the bin's centre)."""
    data = frame.filter(pl.col(value).is_not_null() & pl.col(value).is_finite()).drop_nulls([x, y])
    cols = []
    for name in (x, y):
        c = data[name]
        if c.dtype.is_numeric() and c.n_unique() > bins:
            lo, hi = float(c.min()), float(c.max())
            width = (hi - lo) / bins or 1.0
            cols.append(((((pl.col(name) - lo) / width).floor().clip(0, bins - 1) + 0.5) * width + lo).alias(name))
        else:
            cols.append(pl.col(name))
    agg = pl.col(value).max() if goal == "maximize" else pl.col(value).min()
    return data.select(*cols, value).group_by(x, y).agg(agg, pl.len().alias("trials")).sort(x, y)


def overfit_stats(sharpes: np.ndarray, best: float, *, n_bars: int, periods_per_year: float) -> dict[str, float]:
    """PSR, deflated Sharpe ratio, expected maximum Sharpe and minimum track record of the best
    set, from the annualized Sharpe ratios of every trial, assuming normal returns (skew 0,
    kurtosis 3: a trial records no higher moments)."""
    from workbench.optimize import overfit as of

    per = np.asarray(sharpes, dtype=np.float64)[np.isfinite(sharpes)] / math.sqrt(periods_per_year)
    sr = best / math.sqrt(periods_per_year)
    out = {"n_trials": float(per.size), "sharpe": float(best),
           "psr": float(of.probabilistic_sharpe_ratio(sharpe=sr, n=n_bars, skew=0.0, kurtosis=3.0))}
    if per.size >= 2 and float(np.var(per, ddof=1)) > 0:
        var = float(np.var(per, ddof=1))
        out["expected_max_sharpe"] = of.expected_maximum_sharpe(int(per.size), variance=var) * math.sqrt(periods_per_year)
        out["dsr"] = float(of.deflated_sharpe_ratio(sharpe=sr, n=n_bars, skew=0.0, kurtosis=3.0, trial_sharpes=per))
    if sr > 0:
        out["min_track_record_bars"] = float(of.minimum_track_record_length(sharpe=sr, skew=0.0, kurtosis=3.0))
    return out


@functools.lru_cache(maxsize=1)
def _sample_shapes() -> dict[str, tuple[int, float]]:
    import workbench as wb
    from workbench.data.hashing import content_hash

    out = {}
    for name in wb.data.samples()["name"].to_list():
        bars = wb.data.sample(name)
        out[content_hash(bars, check=False)] = (bars.height, float(wb.data.infer_frequency(bars).periods_per_year))
    return out


class StudyMonitor(param.Parameterized):
    """What the optimization monitor shows, refreshed by :meth:`poll`.

    Parameters
    ----------
    store : Store, optional
        The store whose sweeps (and, beside it, Optuna studies) are listed; default the configured one.
    study_url : str, optional
        An Optuna storage URL; default the store's (:func:`workbench.optimize.study.store_storage_url`).
    """

    source = param.Selector(default="", objects=[""], doc="the study or stored sweep watched")
    x_param = param.Selector(default="", objects=[""], doc="heatmap x axis")
    y_param = param.Selector(default="", objects=[""], doc="heatmap y axis")
    goal = param.Selector(default="maximize", objects=["maximize", "minimize"], precedence=-1)
    n_trials = param.Integer(default=0, precedence=-1)
    best = param.Dict(default={}, precedence=-1, doc="number, value and params of the best trial")
    importances = param.Dict(default={}, precedence=-1)
    overfit = param.Dict(default={}, precedence=-1)
    error = param.String(default="")

    def __init__(self, store: Any = None, *, study_url: str | None = None, **params: Any) -> None:
        self._store, self._url = store, study_url
        self._tail: Any = None
        self._cursor = 0
        self._rows: list[dict[str, Any]] = []
        self._shape: tuple[int, float] | None = None
        self._final_overfit: dict[str, Any] = {}
        self._run_params: list[str] = []
        source = params.pop("source", None)
        super().__init__(**params)
        self.refresh_sources()
        self.param.watch(lambda _e: self.open(), "source")
        if source:
            self.source = source if source in self.param.source.objects else self._match(source)

    # -- sources -------------------------------------------------------------------------------
    def _match(self, name: str) -> str:
        for label in self.param.source.objects:
            if label in (_STUDY + name, ) or (label.startswith(_RUN) and label.endswith(f"({name})")):
                return label
        self.error = (f"No study or stored sweep named {name!r}. Known: "
                      f"{', '.join(o for o in self.param.source.objects if o) or 'none'}.")
        return ""

    def refresh_sources(self) -> None:
        """List the Optuna studies and stored sweeps again."""
        from workbench.ui._optuna_tail import study_names
        from workbench.ui.runs import open_store

        labels: list[str] = []
        try:
            self._store = self._store if self._store is not None else open_store()
            if self._url is None:
                from workbench.optimize.study import store_storage_url

                self._url = store_storage_url(self._store)
            labels += [_STUDY + n for n in study_names(self._url)]
            runs = self._store.runs(kind="optimization")
            for rid, name in runs.select("id", "name").iter_rows():
                labels.append(f"{_RUN}{name or rid} ({rid})")
        except WorkbenchError as exc:
            self.error = str(exc)
        self.param.source.objects = ["", *labels]

    def open(self) -> None:
        """Start watching :attr:`source` from its first trial."""
        if self._tail is not None and hasattr(self._tail, "close"):
            self._tail.close()
        self._tail, self._cursor, self._rows = None, 0, []
        self._shape, self._final_overfit = None, {}
        self.n_trials, self.best, self.importances, self.overfit = 0, {}, {}, {}
        if not self.source:
            return
        try:
            if self.source.startswith(_STUDY):
                self._open_study(self.source[len(_STUDY):])
            else:
                self._open_run(self.source.rsplit("(", 1)[1].rstrip(")"))
            self.error = ""
        except WorkbenchError as exc:
            self._tail, self.error = None, str(exc)

    def _open_study(self, name: str) -> None:
        import sqlalchemy as sa

        from workbench.ui._optuna_tail import OptunaTail

        self._tail = OptunaTail(self._url, name)
        self.goal = "minimize" if self._tail.directions[:1] == ["minimize"] else "maximize"
        with self._tail._engine.connect() as conn:
            raw = conn.execute(sa.text("SELECT value_json FROM study_user_attributes WHERE study_id = :s "
                                       "AND key = 'workbench'"), {"s": self._tail.study_id}).scalar()
        self._set_shape(json.loads(raw).get("dataset_hash") if raw else None)

    def _open_run(self, run_id: str) -> None:
        rec = self._store.run(run_id)
        if rec.kind != "optimization":
            raise StoreError(f"Run {rec.id!r} is a {rec.kind}, not an optimization; pick a sweep or a study.")
        spec = json.loads(rec.spec_json)
        goal = spec.get("goal") or (spec.get("goals") or ["maximize"])[0]
        self.goal = "minimize" if goal == "minimize" else "maximize"
        self._tail = ("run", rec.id)
        dims = (spec.get("space") or {}).get("dims") or {}
        self._run_params = list(dims) if isinstance(dims, dict) else []
        self._final_overfit = dict(rec.metrics.get("overfit") or {})
        self._set_shape(rec.dataset_hash)

    def _set_shape(self, dataset_hash: str | None) -> None:
        if not dataset_hash:
            return
        found = self._store.datasets().filter(pl.col("content_hash") == dataset_hash)
        if found.height:
            row = found.row(0, named=True)
            self._shape = (int(row["rows"]), float(row["periods_per_year"]))
        else:
            self._shape = _sample_shapes().get(dataset_hash)

    # -- polling -------------------------------------------------------------------------------
    def poll(self) -> list[dict[str, Any]]:
        """Read the trials finished since the last poll, update the summary, return the new rows
        (each with ``seq``, its position in finishing order, and ``best``, the best so far)."""
        if self._tail is None:
            return []
        try:
            new = self._read()
        except WorkbenchError as exc:
            self.error = str(exc)
            return []
        if not new:
            return []
        better = (lambda a, b: a > b) if self.goal == "maximize" else (lambda a, b: a < b)
        best = self.best.get("value")
        for row in new:
            value = row.get("value")
            finite = value is not None and math.isfinite(value) and row["state"] == "complete"
            if finite and (best is None or better(value, best)):
                best = value
                self.best = {"number": row["number"], "value": value, "params": row["params"]}
            row["seq"], row["best"] = len(self._rows), best
            self._rows.append(row)
        self.n_trials = len(self._rows)
        self._summarize()
        return new

    def _read(self) -> list[dict[str, Any]]:
        if isinstance(self._tail, tuple):
            from workbench.store.trials import trials_after

            frame, self._cursor = trials_after(self._store, self._tail[1], self._cursor)
            params = [c for c in frame.columns if c in self._run_params]
            return [{"number": r["number"], "state": r["state"], "value": r["value"],
                     "params": {p: r[p] for p in params},
                     "metrics": {k: v for k, v in r.items() if k not in params and k not in _FIXED_TRIAL}}
                    for r in frame.iter_rows(named=True)]
        return self._tail.poll()

    @property
    def frame(self) -> pl.DataFrame:
        """Every trial seen: ``seq, number, state, value, best``, one column per parameter."""
        if not self._rows:
            return pl.DataFrame({"seq": [], "number": [], "state": [], "value": [], "best": []})
        return pl.DataFrame([{"seq": r["seq"], "number": r["number"], "state": r["state"], "value": r["value"],
                              "best": r["best"], **r["params"]} for r in self._rows], infer_schema_length=None)

    @property
    def params(self) -> list[str]:
        """The searched parameters (those taking more than one value so far)."""
        seen: dict[str, set] = {}
        for r in self._rows:
            for k, v in r["params"].items():
                seen.setdefault(k, set()).add(v)
        return [k for k, vs in seen.items() if len(vs) > 1] or list(seen)

    def _summarize(self) -> None:
        params = self.params
        if params and self.param.x_param.objects != ["", *params]:
            self.param.x_param.objects = ["", *params]
            self.param.y_param.objects = ["", *params]
            if not self.x_param and params:
                self.x_param = params[0]
            if not self.y_param and len(params) > 1:
                self.y_param = params[1]
        frame = self.frame
        self.importances = importance(frame, params) if params else {}
        self.overfit = self._overfit()

    def _overfit(self) -> dict[str, Any]:
        if self._final_overfit:
            return {"source": "final figures of the finished sweep", **self._final_overfit}
        if self._shape is None or not self.best:
            return {}
        sharpes = np.array([r["metrics"].get("sharpe_ratio", np.nan) if r["metrics"] else np.nan
                            for r in self._rows], dtype=np.float64)
        best_row = next(r for r in self._rows if r["number"] == self.best["number"])
        best_sr = (best_row["metrics"] or {}).get("sharpe_ratio")
        if best_sr is None or not np.isfinite(sharpes).any():
            return {}
        return {"source": "live, normal-returns approximation",
                **overfit_stats(sharpes, float(best_sr), n_bars=self._shape[0], periods_per_year=self._shape[1])}

    def heatmap(self) -> pl.DataFrame:
        """Cells of the current heatmap (see :func:`heatmap_cells`)."""
        if not (self.x_param and self.y_param) or self.x_param == self.y_param or not self._rows:
            return pl.DataFrame()
        return heatmap_cells(self.frame, self.x_param, self.y_param, goal=self.goal)


_FIXED_TRIAL = ("number", "state", "value", "started_at", "finished_at", "duration_s")
