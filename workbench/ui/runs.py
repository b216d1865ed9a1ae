"""The runs page: every run in the store, filterable and sortable by kind, strategy, dataset and
any metric, and one run's detail (parameters, dataset provenance, equity, trades).

State lives in :class:`RunsBrowser` and :class:`RunDetail` (``param.Parameterized``, tested without
a browser); :func:`runs_view` lays Panel widgets over them. The table is paged on the server: the
browser receives one page of rows at a time, however many runs the store holds.
"""

from __future__ import annotations

import json
from typing import Any

import param
import polars as pl

from workbench.errors import StoreError, WorkbenchError

__all__ = ["RunsBrowser", "RunDetail", "runs_view", "open_store"]

_FIXED = ("id", "kind", "name", "strategy", "dataset", "status", "created_at", "duration_s")
_HIDDEN = ("spec", "artifacts", "error", "parent_id", "workbench_version", "started_at", "finished_at",
           "dataset_hash")


def open_store(url: str | None = None) -> Any:
    """Open the store (``url`` or the configured one); a store that cannot be opened raises
    :class:`~workbench.errors.StoreError` with the reason, for the page to show."""
    from workbench.store import Store

    try:
        return Store(url)
    except WorkbenchError:
        raise
    except Exception as exc:  # a bad URL or driver: say which store and why
        raise StoreError(f"Could not open the store {url or '(configured)'}: {type(exc).__name__}: {exc}") from None


def _runs_table(store: Any) -> pl.DataFrame:
    """The store's runs with ``strategy`` (from the spec) and ``dataset`` (registered name, else
    the hash's first 12 characters) columns, metric columns after the fixed ones."""
    frame = store.runs()
    if frame.height == 0:
        return pl.DataFrame({c: [] for c in _FIXED})
    names = {r["content_hash"]: r["name"] for r in store.datasets().select("content_hash", "name").iter_rows(named=True)}
    strategy = (pl.col("spec").str.json_path_match("$.strategy.name")
                .fill_null(pl.col("spec").str.json_path_match("$.space.strategy")))
    frame = frame.with_columns(
        strategy.str.split(".").list.last().alias("strategy"),
        pl.col("dataset_hash").replace_strict(names, default=pl.col("dataset_hash").str.slice(0, 12),
                                              return_dtype=pl.String).alias("dataset"),
    )
    metrics = [c for c, d in frame.schema.items() if c not in _FIXED and c not in _HIDDEN and d.is_numeric()]
    return frame.select(*_FIXED, *metrics)


class RunsBrowser(param.Parameterized):
    """Every run of the store as one table state: filters, sort, and the selected run.

    Examples
    --------
    >>> import tempfile
    >>> from workbench.store import Store
    >>> store = Store("sqlite://", artifacts_dir=tempfile.mkdtemp())
    >>> for i in range(3):
    ...     _ = store.save_run(f"r{i}", kind="backtest", spec={"strategy": {"name": "SmaCross"}},
    ...                        metrics={"sharpe_ratio": float(i)})
    >>> b = RunsBrowser(store=store, sort_by="sharpe_ratio")
    >>> b.table["id"].to_list()
    ['r2', 'r1', 'r0']
    >>> b.min_value, b.metric = 0.5, "sharpe_ratio"
    >>> b.table.height
    2
    """

    kind = param.Selector(default="", objects=[""], doc="keep runs of this kind ('' = all)")
    strategy = param.Selector(default="", objects=[""], doc="keep runs of this strategy")
    dataset = param.Selector(default="", objects=[""], doc="keep runs on this dataset")
    status = param.Selector(default="", objects=[""], doc="keep runs with this status")
    search = param.String(default="", doc="keep runs whose id or name contains this text (plain text)")
    metric = param.Selector(default="", objects=[""], doc="metric the range filter applies to")
    min_value = param.Number(default=None, allow_None=True, doc="keep runs with metric >= this")
    max_value = param.Number(default=None, allow_None=True, doc="keep runs with metric <= this")
    sort_by = param.Selector(default="created_at", objects=list(_FIXED), doc="column to sort on")
    descending = param.Boolean(default=True)
    table = param.ClassSelector(class_=pl.DataFrame, default=None, doc="the filtered, sorted runs", precedence=-1)
    error = param.String(default="", doc="what went wrong, shown in the page")

    def __init__(self, store: Any = None, **params: Any) -> None:
        self._store = store
        self._all = pl.DataFrame()
        later = {k: params.pop(k) for k in ("kind", "strategy", "dataset", "status", "metric", "sort_by") if k in params}
        super().__init__(**params)
        self.reload()
        self.param.update(**later)  # their choices come from the store
        self._refresh()
        self.param.watch(lambda _e: self._refresh(), ["kind", "strategy", "dataset", "status", "search", "metric",
                                                      "min_value", "max_value", "sort_by", "descending"])

    @property
    def store(self) -> Any:
        if self._store is None:
            self._store = open_store()
        return self._store

    def reload(self) -> None:
        """Read the runs again from the store and rebuild the filter choices."""
        try:
            self._all = _runs_table(self.store)
        except WorkbenchError as exc:
            self._all, self.error = pl.DataFrame({c: [] for c in _FIXED}), str(exc)
            self.table = self._all
            return
        for name in ("kind", "strategy", "dataset", "status"):
            values = sorted(v for v in self._all[name].unique().to_list() if v is not None)
            self.param[name].objects = ["", *values]
        metrics = [c for c in self._all.columns if c not in _FIXED]
        self.param.metric.objects = ["", *metrics]
        self.param.sort_by.objects = [*_FIXED, *metrics]
        self._refresh()

    @property
    def metrics(self) -> list[str]:
        """Metric columns present in the store's runs."""
        return [c for c in self._all.columns if c not in _FIXED]

    def _refresh(self) -> None:
        frame = self._all
        for name in ("kind", "strategy", "dataset", "status"):
            value = getattr(self, name)
            if value:
                frame = frame.filter(pl.col(name) == value)
        if self.search:
            text = self.search.lower()
            frame = frame.filter(pl.col("id").str.to_lowercase().str.contains(text, literal=True)
                                 | pl.col("name").fill_null("").str.to_lowercase().str.contains(text, literal=True))
        if self.metric:
            if self.min_value is not None:
                frame = frame.filter(pl.col(self.metric) >= self.min_value)
            if self.max_value is not None:
                frame = frame.filter(pl.col(self.metric) <= self.max_value)
        if self.sort_by in frame.columns:
            frame = frame.sort(self.sort_by, descending=self.descending, nulls_last=True)
        self.table = frame
        self.error = ""


class RunDetail(param.Parameterized):
    """One run: its record, parameters, dataset provenance, equity and trades (from artifacts).

    An unknown id sets :attr:`error` (with the store's suggestion), never raises.
    """

    run_id = param.String(default="", doc="the run's id or a unique prefix")
    record = param.Parameter(default=None, precedence=-1)
    params = param.Dict(default={}, precedence=-1)
    provenance = param.Dict(default={}, precedence=-1)
    equity = param.Parameter(default=None, precedence=-1)
    trades = param.Parameter(default=None, precedence=-1)
    verification = param.String(default="", doc="the outcome of the last re-run and verify")
    error = param.String(default="")

    def __init__(self, store: Any = None, **params: Any) -> None:
        self._store = store
        super().__init__(**params)
        self.param.watch(lambda _e: self.load(), "run_id")
        if self.run_id:
            self.load()

    def load(self) -> None:
        """Read the run named by :attr:`run_id` (errors become :attr:`error`)."""
        self.record = self.equity = self.trades = None
        self.params, self.provenance, self.verification = {}, {}, ""
        if not self.run_id.strip():
            self.error = ""
            return
        try:
            store = self._store if self._store is not None else open_store()
            self._store = store
            rec = store.run(self.run_id.strip())
            spec = json.loads(rec.spec_json)
            self.params = dict((spec.get("strategy") or {}).get("params") or spec.get("space") or {})
            self.provenance = _provenance(store, rec.dataset_hash)
            self.equity = store.load_artifact(rec.id, "equity") if "equity" in rec.artifacts else None
            self.trades = store.load_artifact(rec.id, "trades") if "trades" in rec.artifacts else None
            self.record, self.error = rec, ""
        except WorkbenchError as exc:
            self.error = str(exc)


    def verify(self) -> None:
        """Re-execute the stored spec (:meth:`Store.verify`) and say whether every metric and
        artifact came out equal (errors become :attr:`verification` too)."""
        if self.record is None:
            self.verification = "Select a run first."
            return
        try:
            report = self._store.verify(self.record.id)
        except Exception as exc:  # a page shows why, never a server traceback
            self.verification = f"Could not re-run {self.record.id}: {type(exc).__name__}: {exc}"
            return
        if report.equal:
            self.verification = (f"Re-run of {report.run_id} reproduces it: {len(report.checks)} checks equal "
                                 f"(metrics, artifacts, id).")
        else:
            diffs = "; ".join(f"{c.what} {c.name}: {c.detail}" for c in report.differences[:10])
            self.verification = f"Re-run of {report.run_id} DIFFERS in {len(report.differences)} checks: {diffs}"


def _provenance(store: Any, dataset_hash: str | None) -> dict[str, Any]:
    if dataset_hash is None:
        return {}
    rows = store.datasets().filter(pl.col("content_hash") == dataset_hash)
    if rows.height == 0:
        return {"content_hash": dataset_hash, "registered": "no (not in the store's datasets)"}
    row = rows.row(0, named=True)
    return {k: row[k] for k in ("name", "source", "content_hash", "rows", "start", "end", "frequency") if k in row}


def runs_view(browser: RunsBrowser, detail: RunDetail, *, page_size: int = 50) -> Any:
    """Thin Panel layout: filters, the server-paged table, the selected run's detail."""
    import panel as pn

    from workbench.ui.views import error_pane, mapping_table, series_plot

    filters = pn.Param(browser.param, parameters=["kind", "strategy", "dataset", "status", "search", "metric",
                                                  "min_value", "max_value", "sort_by", "descending"],
                       show_name=False, widgets={"min_value": pn.widgets.FloatInput,
                                                 "max_value": pn.widgets.FloatInput})
    table = pn.widgets.Tabulator(browser.table.to_pandas(), pagination="remote", page_size=page_size,
                                 disabled=True, show_index=False, sizing_mode="stretch_width", height=560,
                                 selectable=1)
    browser.param.watch(lambda e: setattr(table, "value", e.new.to_pandas()), "table")

    def pick(event: Any) -> None:
        rows = table.selection
        if rows:
            detail.run_id = str(table.value.iloc[rows[0]]["id"])

    table.param.watch(pick, "selection")
    run_input = pn.widgets.TextInput.from_param(detail.param.run_id, label="run id", width=320)
    verify = pn.widgets.Button(label="Re-run and verify", width=180)
    verify.on_click(lambda _e: detail.verify())

    @pn.depends(detail.param.verification)
    def verified(text: str) -> Any:
        if not text:
            return pn.pane.Markdown("")
        ok = "reproduces it" in text
        return pn.pane.Alert(text, alert_type="success" if ok else "danger", sizing_mode="stretch_width")

    @pn.depends(detail.param.record, detail.param.error)
    def detail_panel(record: Any, error: str) -> Any:
        if error:
            return error_pane(error)
        if record is None:
            return pn.pane.Markdown("Select a run in the table, or type its id.")
        head = {"id": record.id, "kind": record.kind, "status": record.status, "name": record.name,
                "created": str(record.created_at), "duration_s": record.duration_s, "version": record.workbench_version}
        metrics = {k: v for k, v in record.metrics.items() if not isinstance(v, (dict, list))}
        parts = [pn.pane.Markdown(f"### {record.name or record.id}"),
                 pn.Row(mapping_table("Run", head), mapping_table("Parameters", detail.params, width=220),
                        mapping_table("Dataset", detail.provenance, width=420),
                        mapping_table("Metrics", metrics, width=300))]
        if detail.equity is not None:
            parts.append(series_plot(detail.equity, "ts", "equity", title="Equity"))
        if detail.trades is not None:
            parts.append(pn.widgets.Tabulator(detail.trades.to_pandas(), pagination="remote", page_size=20,
                                              disabled=True, show_index=False, sizing_mode="stretch_width"))
        if record.error:
            parts.append(error_pane(record.error))
        return pn.Column(*parts, sizing_mode="stretch_width")

    @pn.depends(browser.param.error, browser.param.table)
    def header(error: str, table_: Any) -> Any:
        if error:
            return error_pane(error)
        return pn.pane.Markdown(f"**{table_.height:,}** of {browser._all.height:,} runs")

    return pn.Row(pn.Column("## Runs", filters, width=320),
                  pn.Column(header, table, pn.Row(run_input, verify), verified, detail_panel,
                            sizing_mode="stretch_width"),
                  sizing_mode="stretch_width")
