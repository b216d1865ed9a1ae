"""Frozen records the store hands out: snapshots of a row, detached from the database."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["DatasetRecord", "RunRecord", "RunStatus"]

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]


class DatasetRecord(BaseModel):
    """A registered dataset.

    Attributes
    ----------
    id : int
        Database id.
    name : str
        Unique name the dataset is registered under.
    source : str
        Where the bars came from (a path, a URL, ``"sample:GOOG"``...).
    content_hash : str
        Hash of the bars' content; runs refer to datasets by it.
    symbols : tuple of str
        Symbols in the dataset.
    rows : int
        Number of bars.
    start, end : datetime
        First and last timestamps (UTC-aware).
    frequency : str
        Bar frequency, e.g. ``"1d"``.
    periods_per_year : float
        Bars per year, used for annualization.
    created_at, updated_at : datetime
        When the name was first registered and last re-registered (UTC-aware).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    name: str
    source: str
    content_hash: str
    symbols: tuple[str, ...]
    rows: int
    start: dt.datetime
    end: dt.datetime
    frequency: str
    periods_per_year: float
    created_at: dt.datetime
    updated_at: dt.datetime


class RunRecord(BaseModel):
    """A stored run.

    Attributes
    ----------
    id : str
        The run id (a hash of the spec, computed by the caller).
    kind : str
        ``"backtest"``, ``"optimization"``, ``"trial"``, ``"portfolio"``...
    name : str or None
        Optional human label.
    spec : dict
        The run's specification, parsed from :attr:`spec_json`.
    spec_json : str
        The specification as canonical JSON text (sorted keys, compact).
    dataset_hash : str or None
        Content hash of the dataset the run used.
    workbench_version : str
        Version of Quant Workbench that saved the run.
    status : {"queued", "running", "succeeded", "failed", "cancelled", "interrupted"}
        Lifecycle status. ``interrupted`` is read, never written: a ``running`` run whose
        heartbeat is older than the store's ``stale_after`` (its process died); resume it with
        :attr:`resume`.
    created_at, started_at, finished_at : datetime or None
        UTC-aware timestamps (``created_at`` is when the row was last saved).
    duration_s : float or None
        ``finished_at - started_at`` in seconds, when both are known.
    metrics : dict
        Metric values; non-finite numbers (NaN, ±inf) were stored, and are read back, as ``None``.
    artifacts : dict of str to str
        Artifact name → Parquet path relative to the store's artifacts directory.
    error : str or None
        Error text of a failed run.
    parent_id : str or None
        Id of the parent run (an optimization, for its trials).
    heartbeat_at : datetime or None
        Last sign of life of a running run.
    resume : str or None
        For an ``interrupted`` run, the command that resumes it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: str
    name: str | None
    spec_json: str
    dataset_hash: str | None
    workbench_version: str
    status: RunStatus
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_s: float | None
    metrics: dict[str, Any]
    artifacts: dict[str, str]
    error: str | None
    parent_id: str | None
    heartbeat_at: dt.datetime | None = None
    resume: str | None = None

    @property
    def spec(self) -> dict[str, Any]:
        """The specification as a fresh dict (edits do not touch the record)."""
        return json.loads(self.spec_json)
