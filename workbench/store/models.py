"""The store's tables, as SQLModel classes.

The tables are created and changed only by the Alembic migrations in
``workbench/store/migrations/versions/``; these classes describe the schema at the newest
revision and must agree with it (a test compares them). To change the schema, edit a class here
*and* add a new migration — never edit a migration that has shipped.

Timestamps are timezone-aware and stored as UTC (:class:`UTCDateTime`). JSON columns hold
canonical JSON (sorted keys, no NaN: see :mod:`workbench.store._codec`).

The store reads and writes these tables through SQLAlchemy Core and hands out frozen records
(:class:`~workbench.store.records.DatasetRecord`, :class:`~workbench.store.records.RunRecord`),
never live ORM objects.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

__all__ = [
    "UTCDateTime", "Dataset", "Run", "Trial", "Batch", "Job", "RUN_STATUSES", "TERMINAL_STATUSES",
    "TRIAL_STATES", "JOB_STATES", "MLModel", "MLAlias", "MLPromotion", "MLABRecord",
]

RUN_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
"""Every status a run can have, in lifecycle order."""

TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")
"""Statuses after which a run does not change on its own."""

TRIAL_STATES = ("complete", "failed", "pruned")
"""States of an optimization trial."""

JOB_STATES = RUN_STATUSES
"""States of a batch job: ``queued → running → succeeded | failed | cancelled``."""


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware datetime stored as UTC; read back as a UTC-aware ``datetime``.

    PostgreSQL keeps ``timestamp with time zone``; SQLite, which has no time zones, stores the
    naive UTC wall time. Naive datetimes are refused: the caller must say which zone it means.

    >>> import datetime as dt
    >>> col = UTCDateTime()
    >>> ny = dt.timezone(dt.timedelta(hours=-5))
    >>> col.process_bind_param(dt.datetime(2024, 1, 2, 9, 30, tzinfo=ny), sa.create_engine("sqlite://").dialect)
    datetime.datetime(2024, 1, 2, 14, 30)
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"expected a timezone-aware datetime; got {value!r}")
        utc = value.astimezone(dt.timezone.utc)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def _json_column(*, nullable: bool) -> sa.Column:
    return sa.Column(sa.JSON(), nullable=nullable)


class Dataset(SQLModel, table=True):
    """``datasets``: one row per named dataset (bars loaded from a source), upserted by name."""

    __tablename__ = "datasets"
    __table_args__ = (sa.UniqueConstraint("name", name="uq_datasets_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.String(255), nullable=False)
    source: str = Field(sa_type=sa.Text, nullable=False)
    content_hash: str = Field(sa_type=sa.String(128), nullable=False, index=True)
    symbols: list[str] = Field(sa_column=_json_column(nullable=False))
    rows: int = Field(sa_type=sa.BigInteger, nullable=False)
    start: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    end: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    frequency: str = Field(sa_type=sa.String(32), nullable=False)
    periods_per_year: float = Field(sa_type=sa.Float, nullable=False)
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)


class Run(SQLModel, table=True):
    """``runs``: one row per run (backtest, optimization, trial, portfolio, job...).

    ``id`` is computed by the caller from the run's spec; ``parent_id`` links child runs (an
    optimization's trials) to their parent, and deleting a parent deletes its children.
    ``heartbeat_at`` is written while a run is ``running``; a running run whose heartbeat is
    older than the store's ``stale_after`` is read back as ``interrupted``.
    """

    __tablename__ = "runs"

    id: str = Field(sa_type=sa.String(128), primary_key=True)
    kind: str = Field(sa_type=sa.String(64), nullable=False, index=True)
    name: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    spec: str = Field(sa_type=sa.Text, nullable=False)
    dataset_hash: str | None = Field(default=None, sa_type=sa.String(128), nullable=True, index=True)
    workbench_version: str = Field(sa_type=sa.String(64), nullable=False)
    status: str = Field(sa_type=sa.String(16), nullable=False, index=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    started_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    duration_s: float | None = Field(default=None, sa_type=sa.Float, nullable=True)
    metrics: dict[str, Any] = Field(sa_column=_json_column(nullable=False))
    artifacts: dict[str, str] = Field(sa_column=_json_column(nullable=False))
    error: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    parent_id: str | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.String(128),
            sa.ForeignKey("runs.id", name="fk_runs_parent_id_runs", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
    )
    heartbeat_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)  # revision 0005


class Trial(SQLModel, table=True):
    """``trials``: one row per parameter set an optimization evaluated (revision 0002).

    ``number`` is the set's position in its optimization (unique per run); ``params`` and
    ``metrics`` are JSON; ``value`` is the objective. Deleting the run deletes its trials.
    The functions in :mod:`workbench.store.trials` read and write it.
    """

    __tablename__ = "trials"
    __table_args__ = (sa.UniqueConstraint("run_id", "number", name="uq_trials_run_id_number"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(
        sa_column=sa.Column(
            sa.String(128),
            sa.ForeignKey("runs.id", name="fk_trials_run_id_runs", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
    )
    number: int = Field(sa_type=sa.BigInteger, nullable=False)
    state: str = Field(sa_type=sa.String(16), nullable=False)
    value: float | None = Field(default=None, sa_type=sa.Float, nullable=True)
    params: dict[str, Any] = Field(sa_column=_json_column(nullable=False))
    metrics: dict[str, Any] = Field(sa_column=_json_column(nullable=False))
    started_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    duration_s: float | None = Field(default=None, sa_type=sa.Float, nullable=True)


class Batch(SQLModel, table=True):
    """``batches``: one row per batch of notebook jobs (revision 0003).

    ``notebook`` is the absolute path of the input notebook, ``options`` the runner's settings
    (timeout, retries, ...), ``output_dir`` where each job's working directory lives.
    :mod:`workbench.jobs` reads and writes it.
    """

    __tablename__ = "batches"

    id: str = Field(sa_type=sa.String(64), primary_key=True)
    name: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    notebook: str = Field(sa_type=sa.Text, nullable=False)
    kernel_name: str = Field(sa_type=sa.String(255), nullable=False)
    output_dir: str = Field(sa_type=sa.Text, nullable=False)
    options: dict[str, Any] = Field(sa_column=_json_column(nullable=False))
    n_jobs: int = Field(sa_type=sa.Integer, nullable=False)
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class Job(SQLModel, table=True):
    """``jobs``: one row per parameterized notebook execution of a batch (revision 0003).

    A claimant moves a job ``queued → running`` with a conditional update that also sets a fresh
    ``claim`` token; every later write of that execution is conditional on the token, so a job
    taken away (cancelled, or re-queued after its ``heartbeat_at`` went stale) cannot be
    overwritten by the execution that lost it.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        sa.UniqueConstraint("batch_id", "number", name="uq_jobs_batch_id_number"),
        sa.Index("ix_jobs_batch_id_state", "batch_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch_id: str = Field(
        sa_column=sa.Column(
            sa.String(64),
            sa.ForeignKey("batches.id", name="fk_jobs_batch_id_batches", ondelete="CASCADE"),
            nullable=False,
        ),
    )
    number: int = Field(sa_type=sa.Integer, nullable=False)
    params: dict[str, Any] = Field(sa_column=_json_column(nullable=False))
    state: str = Field(sa_type=sa.String(16), nullable=False)
    attempts: int = Field(sa_type=sa.Integer, nullable=False)
    claim: str | None = Field(default=None, sa_type=sa.String(64), nullable=True)
    worker: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    queued_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
    started_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    heartbeat_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    duration_s: float | None = Field(default=None, sa_type=sa.Float, nullable=True)
    workdir: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    output_path: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    html_path: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    values: dict[str, Any] = Field(sa_column=_json_column(nullable=False))
    error: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    failed_cell: str | None = Field(default=None, sa_type=sa.Text, nullable=True)
    traceback: str | None = Field(default=None, sa_type=sa.Text, nullable=True)


class MLModel(SQLModel, table=True):
    """``ml_models``: one row per version of a named signal model (revision 0004).

    ``artifact`` is the model's JSON document (the booster in XGBoost's own JSON format, never
    pickle); ``dataset_hash`` and ``data_start``/``data_end`` are its training data snapshot.
    :mod:`workbench.ml.registry` reads and writes it.
    """

    __tablename__ = "ml_models"
    __table_args__ = (sa.UniqueConstraint("name", "version", name="uq_ml_models_name_version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.String(255), nullable=False)
    version: int = Field(sa_type=sa.Integer, nullable=False)
    features: list[Any] = Field(sa_column=_json_column(nullable=False))
    dataset_hash: str = Field(sa_type=sa.String(128), nullable=False)
    data_start: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    data_end: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    hyperparameters: dict[str, Any] = Field(sa_column=_json_column(nullable=False))
    cv_metrics: dict[str, Any] = Field(sa_column=_json_column(nullable=False))
    artifact: str = Field(sa_type=sa.Text, nullable=False)
    xgboost_version: str = Field(sa_type=sa.String(32), nullable=False)
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)


class MLAlias(SQLModel, table=True):
    """``ml_aliases``: which version of a model an alias (``champion``, ``challenger``) names."""

    __tablename__ = "ml_aliases"

    name: str = Field(sa_type=sa.String(255), primary_key=True)
    alias: str = Field(sa_type=sa.String(32), primary_key=True)
    version: int = Field(sa_type=sa.Integer, nullable=False)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)


class MLPromotion(SQLModel, table=True):
    """``ml_promotions``: every promotion of a version to an alias, forced or not, with its DSR."""

    __tablename__ = "ml_promotions"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.String(255), nullable=False, index=True)
    alias: str = Field(sa_type=sa.String(32), nullable=False)
    from_version: int | None = Field(default=None, sa_type=sa.Integer, nullable=True)
    to_version: int = Field(sa_type=sa.Integer, nullable=False)
    dsr: float | None = Field(default=None, sa_type=sa.Float, nullable=True)
    forced: bool = Field(sa_type=sa.Boolean, nullable=False)
    reason: str = Field(sa_type=sa.Text, nullable=False)
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)


class MLABRecord(SQLModel, table=True):
    """``ml_ab_records``: one scored signal of an A/B experiment: the arm that acted, both
    versions' confidences and, once known, the outcome (the entry's return)."""

    __tablename__ = "ml_ab_records"
    __table_args__ = (sa.UniqueConstraint("experiment", "signal_id", name="uq_ml_ab_records_experiment_signal_id"),)

    id: int | None = Field(default=None, primary_key=True)
    experiment: str = Field(sa_type=sa.String(255), nullable=False)
    signal_id: str = Field(sa_type=sa.String(255), nullable=False)
    ts: dt.datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    arm: str = Field(sa_type=sa.String(16), nullable=False)
    champion_version: int = Field(sa_type=sa.Integer, nullable=False)
    challenger_version: int = Field(sa_type=sa.Integer, nullable=False)
    champion_confidence: float | None = Field(default=None, sa_type=sa.Float, nullable=True)
    challenger_confidence: float | None = Field(default=None, sa_type=sa.Float, nullable=True)
    outcome: float | None = Field(default=None, sa_type=sa.Float, nullable=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime, nullable=False)
