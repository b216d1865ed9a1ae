"""The batches page: a batch's jobs with their live states, attempts, durations, executed
notebooks and, for a failed job, the failing cell.

State in :class:`BatchMonitor` (``param.Parameterized``, calls :mod:`workbench.jobs`);
:func:`batches_view` is a thin layout that polls it.
"""

from __future__ import annotations

import json
from typing import Any

import param
import polars as pl

from workbench.errors import WorkbenchError

__all__ = ["BatchMonitor", "batches_view", "JOB_COLUMNS"]

JOB_COLUMNS = ("number", "params", "state", "attempts", "duration_s", "worker", "started_at", "finished_at",
               "output_path", "html_path", "error")
"""Columns of the jobs table, in order."""


class BatchMonitor(param.Parameterized):
    """The batches of the store and the jobs of the chosen one, refreshed by :meth:`poll`.

    Parameters
    ----------
    url : str, optional
        The store's database URL (default: the configured store).
    """

    batch = param.Selector(default="", objects=[""], doc="the batch shown")
    job = param.Integer(default=None, allow_None=True, doc="number of the job whose detail is shown")
    jobs = param.ClassSelector(class_=pl.DataFrame, default=None, precedence=-1)
    counts = param.Dict(default={}, precedence=-1)
    error = param.String(default="")

    def __init__(self, url: str | None = None, **params: Any) -> None:
        self._url = url
        self._raw: list[dict[str, Any]] = []
        batch = params.pop("batch", None)
        super().__init__(**params)
        self.jobs = pl.DataFrame({c: [] for c in JOB_COLUMNS})
        self.refresh_batches(pick_newest=not batch)
        self.param.watch(lambda _e: self.poll(), "batch")
        if batch:
            self.select(batch)
        if not self.error:
            self.poll()

    def refresh_batches(self, *, pick_newest: bool = True) -> None:
        """List the store's batches again (newest first); show the newest if none is chosen."""
        import workbench.jobs as jobs

        try:
            frame = jobs.batches(url=self._url)
        except WorkbenchError as exc:
            self.error = str(exc)
            return
        self.param.batch.objects = ["", *frame["id"].to_list()]
        if pick_newest and not self.batch and frame.height:
            self.batch = frame["id"][0]

    def select(self, batch_id: str) -> None:
        """Show ``batch_id`` (an unknown id becomes :attr:`error`)."""
        if batch_id not in self.param.batch.objects:
            self.refresh_batches()
        if batch_id not in self.param.batch.objects:
            known = ", ".join(o for o in self.param.batch.objects if o)[:400] or "none"
            self.error = f"No batch with id {batch_id!r} in the store. Batches: {known}."
            return
        self.batch = batch_id

    def poll(self) -> bool:
        """Read the chosen batch's jobs; True when anything changed since the last poll."""
        import workbench.jobs as jobs

        if not self.batch:
            return False
        try:
            raw = jobs.batch(self.batch, url=self._url).jobs()
        except WorkbenchError as exc:
            self.error = str(exc)
            return False
        if raw == self._raw:
            return False
        self._raw = raw
        rows = [{**{c: r.get(c) for c in JOB_COLUMNS}, "params": json.dumps(r.get("params") or {}, sort_keys=True)}
                for r in raw]
        schema = {c: pl.String for c in JOB_COLUMNS} | {"number": pl.Int64, "attempts": pl.Int64,
                                                       "duration_s": pl.Float64}
        self.jobs = pl.DataFrame([{k: (v if k in ("number", "attempts", "duration_s") or v is None else str(v))
                                   for k, v in row.items()} for row in rows], schema=schema)
        states = [r["state"] for r in raw]
        self.counts = {s: states.count(s) for s in ("queued", "running", "succeeded", "failed", "cancelled")}
        self.error = ""
        return True

    def detail(self) -> dict[str, Any]:
        """The chosen job's row: error, failing cell and traceback of a failed job, output paths."""
        for r in self._raw:
            if r.get("number") == self.job:
                return r
        return {}


def batches_view(mon: BatchMonitor, *, period_ms: int = 500) -> Any:
    """Batch picker, job counts, the jobs table (updated live) and the chosen job's detail."""
    import panel as pn

    from workbench.ui.views import error_pane, mapping_table

    table = pn.widgets.Tabulator(mon.jobs.to_pandas(), disabled=True, show_index=False, selectable=1,
                                 sizing_mode="stretch_width", height=420, pagination="remote", page_size=100)

    def show(_event: Any = None) -> None:
        table.value = mon.jobs.to_pandas()

    mon.param.watch(show, "jobs")
    table.param.watch(lambda _e: setattr(mon, "job", int(table.value.iloc[table.selection[0]]["number"]))
                      if table.selection else None, "selection")

    @pn.depends(mon.param.counts, mon.param.error)
    def header(counts: dict[str, int], error: str) -> Any:
        if error:
            return error_pane(error)
        text = " · ".join(f"{k}: **{v}**" for k, v in counts.items()) or "No jobs."
        return pn.pane.Markdown(text, name="counts")

    @pn.depends(mon.param.job, mon.param.jobs)
    def job_detail(number: int | None, _jobs: Any) -> Any:
        row = mon.detail()
        if not row:
            return pn.pane.Markdown("Select a job to see its outputs (and the failing cell of a failed job).")
        info = {k: row.get(k) for k in ("number", "state", "attempts", "worker", "duration_s", "output_path",
                                         "html_path", "error") if row.get(k) is not None}
        parts = [mapping_table(f"Job {number}", info, width=900)]
        if row.get("failed_cell"):
            parts += [pn.pane.Markdown("**Failing cell**"), pn.pane.Str(row["failed_cell"], sizing_mode="stretch_width")]
        if row.get("traceback"):
            parts += [pn.pane.Str(row["traceback"][-4000:], sizing_mode="stretch_width")]
        return pn.Column(*parts, sizing_mode="stretch_width")

    mon.poll()
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        pn.state.add_periodic_callback(mon.poll, period=period_ms)
    picker = pn.Param(mon.param, parameters=["batch"], show_name=False, width=300)
    return pn.Row(pn.Column("## Batches", picker, width=320),
                  pn.Column(header, table, job_detail, sizing_mode="stretch_width"), sizing_mode="stretch_width")
