"""The store: the system of record of datasets and runs.

SQLite in WAL mode under ``$WORKBENCH_HOME`` by default, any SQLAlchemy URL (PostgreSQL) when
given or set in ``$WORKBENCH_DB_URL``. Large tables (equity curves, trades) are Parquet artifacts
in ``artifacts_dir/<run_id>/<name>.parquet``. Migrations run when a store opens.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from workbench._paths import workbench_home
from workbench._validate import check_choice, check_int, check_number
from workbench._version import __version__
from workbench.errors import InvalidParameterError, StoreError, WorkbenchError, did_you_mean
from workbench.store import _artifacts, _frames, _migrate
from workbench.store._codec import canonical_json, to_json_value
from workbench.store._engine import create_engine, masked_url, resolve_url, write_transaction
from workbench.store.models import RUN_STATUSES, TERMINAL_STATUSES, Dataset, Run
from workbench.store.records import DatasetRecord, RunRecord

__all__ = ["Store", "STALE_AFTER", "HEARTBEAT_EVERY"]

HEARTBEAT_EVERY = 10.0
"""Seconds between the heartbeats of a running run (:meth:`Store.beating`)."""

STALE_AFTER = 60.0
"""Seconds without a heartbeat after which a running run reads as ``interrupted``."""

_DATASETS: sa.Table = Dataset.__table__  # type: ignore[attr-defined]
_RUNS: sa.Table = Run.__table__  # type: ignore[attr-defined]
_UPDATABLE = ("status", "name", "metrics", "error", "started_at", "finished_at", "dataset_hash")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _check_text(name: str, value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        kind = "a non-empty string or None" if optional else "a non-empty string"
        raise InvalidParameterError(f"`{name}` must be {kind}; got {value!r}.")
    return value


def _check_time(name: str, value: Any, *, optional: bool = False) -> dt.datetime | None:
    if value is None and optional:
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidParameterError(
            f"`{name}` must be a timezone-aware datetime; got {value!r}. "
            f"Attach a zone, e.g. datetime(2024, 1, 2, tzinfo=timezone.utc)."
        )
    return value.astimezone(dt.timezone.utc)


def _duration(started: dt.datetime | None, finished: dt.datetime | None) -> float | None:
    if started is None or finished is None:
        return None
    if finished < started:
        raise InvalidParameterError(
            f"`finished_at` must not be before `started_at`; got started_at={started.isoformat()}, "
            f"finished_at={finished.isoformat()}."
        )
    return (finished - started).total_seconds()


def _dataset_record(row: sa.RowMapping) -> DatasetRecord:
    return DatasetRecord(**{**row, "symbols": tuple(row["symbols"])})


def _live(row: Mapping[str, Any], stale_before: dt.datetime) -> dict[str, Any]:
    """``row`` as read: a running run whose last sign of life is before ``stale_before`` is
    ``interrupted``, with the command that resumes it."""
    values = dict(row)
    values["resume"] = None
    if values["status"] == "running":
        seen = values.get("heartbeat_at") or values.get("started_at") or values["created_at"]
        if seen < stale_before:
            from workbench.store.rerun import resume_command

            values["status"] = "interrupted"
            values["resume"] = resume_command(values["id"], values["kind"], values["spec"])
    return values


def _run_record(row: Mapping[str, Any]) -> RunRecord:
    values = dict(row)
    values["spec_json"] = values.pop("spec")
    return RunRecord(**values)


class Store:
    """The system of record: datasets, runs and their Parquet artifacts.

    Parameters
    ----------
    url : str, optional
        A SQLAlchemy URL (``"postgresql+psycopg://user:pw@host/db"``, ``"sqlite:///path.db"``).
        Default: ``$WORKBENCH_DB_URL`` if set, else SQLite at ``$WORKBENCH_HOME/workbench.db``.
    artifacts_dir : Path, optional
        Where Parquet artifacts go. Default: ``$WORKBENCH_HOME/artifacts``.
    stale_after : float
        Seconds without a heartbeat after which a ``running`` run reads as ``interrupted``
        (default :data:`STALE_AFTER`; running runs beat every :data:`HEARTBEAT_EVERY` s).

    Raises
    ------
    StoreError
        The database cannot be reached or its driver is missing.
    SchemaVersionError
        The database was written by a newer version of Quant Workbench.

    Notes
    -----
    Opening a store applies any pending migration. SQLite stores use WAL mode, a 30 s busy
    timeout and foreign keys. Metric values that are NaN or ±inf are stored as JSON ``null``
    (PostgreSQL's JSON has no NaN) and read back as ``None``.

    Examples
    --------
    >>> import tempfile
    >>> store = Store("sqlite://", artifacts_dir=tempfile.mkdtemp())
    >>> rec = store.save_run("9f2c41", kind="backtest", spec={"fast": 10, "slow": 50},
    ...                      metrics={"sharpe": 1.25, "sortino": float("nan")})
    >>> store.run("9f2c").metrics
    {'sharpe': 1.25, 'sortino': None}
    >>> store.run("9f2c").spec_json
    '{"fast":10,"slow":50}'
    >>> store.close()
    """

    def __init__(self, url: str | None = None, *, artifacts_dir: Path | str | None = None,
                 stale_after: float = STALE_AFTER) -> None:
        self._engine: sa.Engine | None = None
        self.stale_after = check_number("stale_after", stale_after, 0, lo_open=True)
        self._url = resolve_url(url)
        if artifacts_dir is not None and not isinstance(artifacts_dir, (str, Path)):
            raise InvalidParameterError(f"`artifacts_dir` must be a path or None; got {artifacts_dir!r}.")
        self._artifacts_dir = Path(artifacts_dir) if artifacts_dir is not None else None
        engine = create_engine(self._url)
        try:
            with self._db_errors("open", engine):
                _migrate.upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        self._engine = engine

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The database URL with any password masked (``***``): safe to print and log."""
        return masked_url(sa.make_url(self._url))

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine, for services that add their own tables (jobs, trials)."""
        if self._engine is None:
            raise StoreError(f"The store at {self.url} is closed; open a new Store(...) to use it.")
        return self._engine

    @property
    def artifacts_dir(self) -> Path:
        """The directory holding ``<run_id>/<name>.parquet`` artifacts."""
        return self._artifacts_dir if self._artifacts_dir is not None else workbench_home() / "artifacts"

    @property
    def revision(self) -> str | None:
        """The schema revision the database is at (``None`` only for an empty database)."""
        with self._db_errors("read the schema revision"), self.engine.connect() as conn:
            return _migrate.current_revision(conn)

    def upgrade(self) -> str:
        """Apply pending migrations (a no-op at the newest revision); return the revision.

        Raises
        ------
        SchemaVersionError
            The database was written by a newer version of Quant Workbench.
        """
        with self._db_errors("upgrade"):
            return _migrate.upgrade(self.engine)

    def close(self) -> None:
        """Release the store's database connections. Idempotent."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @contextlib.contextmanager
    def _db_errors(self, action: str, engine: sa.Engine | None = None) -> Iterator[None]:
        try:
            yield
        except WorkbenchError:
            raise
        except sa.exc.SQLAlchemyError as exc:
            where = masked_url((engine or self.engine).url)
            detail = getattr(exc, "orig", None) or exc
            raise StoreError(f"Could not {action} the store at {where}: {detail}") from exc

    # -- datasets --------------------------------------------------------------------------
    def register_dataset(
        self,
        name: str,
        *,
        source: str,
        content_hash: str,
        symbols: Iterable[str],
        rows: int,
        start: dt.datetime,
        end: dt.datetime,
        frequency: str,
        periods_per_year: float,
    ) -> DatasetRecord:
        """Register (or re-register) the dataset called ``name``; an upsert by name.

        Re-registering a name replaces every field but ``created_at`` and bumps ``updated_at``.

        Parameters
        ----------
        name : str
            Unique name.
        source, content_hash, frequency : str
            Where the bars came from, the hash of their content, the bar frequency (``"1d"``).
        symbols : iterable of str
            Symbols in the dataset.
        rows : int
            Number of bars (>= 0).
        start, end : datetime
            Timezone-aware first and last timestamps; stored as UTC.
        periods_per_year : float
            Bars per year (> 0).

        Returns
        -------
        DatasetRecord

        Examples
        --------
        >>> import datetime as dt, tempfile
        >>> store = Store("sqlite://", artifacts_dir=tempfile.mkdtemp())
        >>> utc = dt.timezone.utc
        >>> rec = store.register_dataset("goog-daily", source="sample:GOOG", content_hash="ab12",
        ...     symbols=["GOOG"], rows=2148, start=dt.datetime(2004, 8, 19, tzinfo=utc),
        ...     end=dt.datetime(2013, 3, 1, tzinfo=utc), frequency="1d", periods_per_year=252.0)
        >>> store.dataset("goog-daily").symbols
        ('GOOG',)
        """
        values = self._dataset_values(
            name, source=source, content_hash=content_hash, symbols=symbols, rows=rows,
            start=start, end=end, frequency=frequency, periods_per_year=periods_per_year,
        )
        now = _now()
        with self._db_errors(f"register dataset {name!r} in"), write_transaction(self.engine) as conn:
            stmt = _upsert(conn, _DATASETS, {**values, "created_at": now, "updated_at": now},
                           key="name", keep=("created_at",))
            conn.execute(stmt)
            row = conn.execute(sa.select(_DATASETS).where(_DATASETS.c.name == name)).mappings().one()
        return _dataset_record(row)

    @staticmethod
    def _dataset_values(name: str, **kw: Any) -> dict[str, Any]:
        symbols = kw["symbols"]
        if isinstance(symbols, str) or not isinstance(symbols, Iterable):
            raise InvalidParameterError(f"`symbols` must be a list of strings; got {symbols!r}.")
        symbols = list(symbols)
        for s in symbols:
            _check_text("symbols[...]", s)
        start, end = _check_time("start", kw["start"]), _check_time("end", kw["end"])
        if end < start:  # type: ignore[operator]
            raise InvalidParameterError(f"`end` must not be before `start`; got start={start}, end={end}.")
        return {
            "name": _check_text("name", name),
            "source": _check_text("source", kw["source"]),
            "content_hash": _check_text("content_hash", kw["content_hash"]),
            "symbols": symbols,
            "rows": check_int("rows", kw["rows"], 0),
            "start": start,
            "end": end,
            "frequency": _check_text("frequency", kw["frequency"]),
            "periods_per_year": check_number("periods_per_year", kw["periods_per_year"], 0, lo_open=True),
        }

    def dataset(self, name: str) -> DatasetRecord:
        """The dataset registered as ``name``.

        Raises
        ------
        StoreError
            No dataset has that name (the message suggests the closest one).
        """
        _check_text("name", name)
        with self._db_errors(f"read dataset {name!r} from"), self.engine.connect() as conn:
            row = conn.execute(sa.select(_DATASETS).where(_DATASETS.c.name == name)).mappings().first()
            if row is None:
                names = conn.execute(sa.select(_DATASETS.c.name)).scalars().all()
        if row is None:
            listed = ", ".join(repr(n) for n in sorted(names)[:20]) or "none"
            raise StoreError(
                f"No dataset named {name!r} in the store.{did_you_mean(name, names)} Registered: "
                f"{listed}. Register it with store.register_dataset({name!r}, ...)."
            )
        return _dataset_record(row)

    def datasets(self) -> pl.DataFrame:
        """Every registered dataset, one row each, ordered by name."""
        with self._db_errors("list datasets in"), self.engine.connect() as conn:
            rows = conn.execute(sa.select(_DATASETS).order_by(_DATASETS.c.name)).mappings().all()
        return _frames.datasets_frame(rows)

    # -- runs ------------------------------------------------------------------------------
    def save_run(
        self,
        run_id: str,
        *,
        kind: str,
        spec: Mapping[str, Any],
        status: str = "succeeded",
        dataset_hash: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        artifacts: Mapping[str, pl.DataFrame] | None = None,
        started_at: dt.datetime | None = None,
        finished_at: dt.datetime | None = None,
        name: str | None = None,
        parent_id: str | None = None,
        error: str | None = None,
    ) -> RunRecord:
        """Save a run; saving an id again replaces its row and its artifacts.

        Parameters
        ----------
        run_id : str
            The run's id (a hash of its spec): letters, digits, ``_.-``, at most 128 characters.
        kind : str
            ``"backtest"``, ``"optimization"``, ``"trial"``, ``"portfolio"``...
        spec : dict
            JSON-serializable specification; stored as canonical JSON (sorted keys). NaN/inf
            are refused here: a spec must hash the same everywhere.
        status : {"queued", "running", "succeeded", "failed", "cancelled"}
            A ``running`` run gets a heartbeat now; keep it beating with :meth:`beating`.
        dataset_hash : str, optional
            Content hash of the dataset used.
        metrics : dict, optional
            Metric values (nested dicts allowed). NaN and ±inf are stored as ``null`` and read
            back as ``None``.
        artifacts : dict of str to polars.DataFrame, optional
            Tables stored as Parquet in ``artifacts_dir/<run_id>/<name>.parquet``.
        started_at, finished_at : datetime, optional
            Timezone-aware; ``duration_s`` is computed when both are given.
        name, error : str, optional
            A human label; the error text of a failed run.
        parent_id : str, optional
            Id of an existing parent run (an optimization, for its trials).

        Returns
        -------
        RunRecord

        Raises
        ------
        InvalidParameterError
            A value is malformed (the message names it).
        StoreError
            The parent run does not exist, or the database cannot be written.
        """
        values = self._run_values(
            run_id, kind=kind, spec=spec, status=status, dataset_hash=dataset_hash, metrics=metrics,
            started_at=started_at, finished_at=finished_at, name=name, parent_id=parent_id, error=error,
        )
        root = self.artifacts_dir
        staging, paths = _artifacts.stage(root, run_id, artifacts if artifacts is not None else {})
        values["artifacts"] = paths
        try:
            with self._db_errors(f"save run {run_id!r} in"), write_transaction(self.engine) as conn:
                if parent_id is not None and not _exists(conn, parent_id):
                    raise StoreError(
                        f"`parent_id` {parent_id!r} is not a run in the store; save the parent run "
                        f"before its children."
                    )
                conn.execute(_upsert(conn, _RUNS, values, key="id"))
                row = conn.execute(sa.select(_RUNS).where(_RUNS.c.id == run_id)).mappings().one()
        except BaseException:
            _artifacts.discard(staging)
            raise
        _artifacts.install(root, run_id, staging)
        return _run_record(row)

    @staticmethod
    def _run_values(run_id: str, **kw: Any) -> dict[str, Any]:
        _artifacts.check_name("run_id", run_id)
        if not isinstance(kw["spec"], Mapping):
            raise InvalidParameterError(f"`spec` must be a dict; got {type(kw['spec']).__name__}.")
        if kw["metrics"] is not None and not isinstance(kw["metrics"], Mapping):
            raise InvalidParameterError(f"`metrics` must be a dict or None; got {type(kw['metrics']).__name__}.")
        parent_id = kw["parent_id"]
        if parent_id is not None:
            _artifacts.check_name("parent_id", parent_id)
            if parent_id == run_id:
                raise InvalidParameterError(f"`parent_id` must differ from `run_id`; both are {run_id!r}.")
        started = _check_time("started_at", kw["started_at"], optional=True)
        finished = _check_time("finished_at", kw["finished_at"], optional=True)
        return {
            "id": run_id,
            "kind": _check_text("kind", kw["kind"]),
            "name": _check_text("name", kw["name"], optional=True),
            "spec": canonical_json(to_json_value(kw["spec"], name="spec", nonfinite="raise")),
            "dataset_hash": _check_text("dataset_hash", kw["dataset_hash"], optional=True),
            "workbench_version": __version__,
            "status": check_choice("status", kw["status"], RUN_STATUSES),
            "created_at": _now(),
            "started_at": started,
            "finished_at": finished,
            "duration_s": _duration(started, finished),
            "metrics": to_json_value(dict(kw["metrics"] or {}), name="metrics"),
            "error": _check_text("error", kw["error"], optional=True),
            "parent_id": parent_id,
            "heartbeat_at": _now() if kw["status"] == "running" else None,
        }

    def update_run(self, run_id: str, **fields: Any) -> RunRecord:
        """Change some fields of a stored run (status transitions, metrics, error...).

        Fields: ``status``, ``name``, ``metrics`` (replaces the dict), ``error``, ``started_at``,
        ``finished_at``, ``dataset_hash``. Moving to ``"running"`` sets ``started_at`` to now if
        it is unset; moving to ``"succeeded"``, ``"failed"`` or ``"cancelled"`` sets
        ``finished_at`` likewise. ``duration_s`` follows the two timestamps. ``run_id`` may be a
        unique prefix.

        Examples
        --------
        >>> import tempfile
        >>> store = Store("sqlite://", artifacts_dir=tempfile.mkdtemp())
        >>> _ = store.save_run("job1", kind="backtest", spec={}, status="queued")
        >>> store.update_run("job1", status="running").started_at is not None
        True
        >>> store.update_run("job1", status="failed", error="boom").status
        'failed'
        """
        changes = self._update_values(fields)
        full_id = self.run(run_id).id
        with self._db_errors(f"update run {full_id!r} in"), write_transaction(self.engine) as conn:
            query = sa.select(_RUNS).where(_RUNS.c.id == full_id).with_for_update()
            current = conn.execute(query).mappings().first()
            if current is None:
                raise StoreError(f"Run {full_id!r} was deleted while being updated.")
            now = _now()
            status = changes.get("status")
            if status == "running" and "started_at" not in changes and current["started_at"] is None:
                changes["started_at"] = now
            if status == "running":
                changes["heartbeat_at"] = now
            if status in TERMINAL_STATUSES and "finished_at" not in changes and current["finished_at"] is None:
                changes["finished_at"] = now
            started = changes.get("started_at", current["started_at"])
            finished = changes.get("finished_at", current["finished_at"])
            changes["duration_s"] = _duration(started, finished)
            conn.execute(_RUNS.update().where(_RUNS.c.id == full_id).values(**changes))
            row = conn.execute(sa.select(_RUNS).where(_RUNS.c.id == full_id)).mappings().one()
        return _run_record(row)

    @staticmethod
    def _update_values(fields: Mapping[str, Any]) -> dict[str, Any]:
        for key in fields:
            if key not in _UPDATABLE:
                listed = ", ".join(_UPDATABLE)
                raise InvalidParameterError(
                    f"`{key}` is not a field update_run can change; use one of {listed}."
                    f"{did_you_mean(key, _UPDATABLE)}"
                )
        out: dict[str, Any] = {}
        for key, value in fields.items():
            if key == "status":
                out[key] = check_choice("status", value, RUN_STATUSES)
            elif key == "metrics":
                if not isinstance(value, Mapping):
                    raise InvalidParameterError(f"`metrics` must be a dict; got {type(value).__name__}.")
                out[key] = to_json_value(dict(value), name="metrics")
            elif key in ("started_at", "finished_at"):
                out[key] = _check_time(key, value, optional=True)
            else:
                out[key] = _check_text(key, value, optional=True)
        return out

    # -- heartbeats ------------------------------------------------------------------------------
    def _stale_before(self) -> dt.datetime:
        return _now() - dt.timedelta(seconds=self.stale_after)

    def heartbeat(self, run_id: str) -> None:
        """Record that the running run ``run_id`` (the full id) is alive (one short transaction)."""
        _artifacts.check_name("run_id", run_id)
        with self._db_errors(f"record the heartbeat of run {run_id!r} in"), write_transaction(self.engine) as conn:
            conn.execute(_RUNS.update().where(_RUNS.c.id == run_id).values(heartbeat_at=_now()))

    @contextlib.contextmanager
    def beating(self, run_id: str, *, every: float = HEARTBEAT_EVERY) -> Iterator[None]:
        """Keep the heartbeat of run ``run_id`` while the block runs (a background thread).

        Examples
        --------
        >>> import tempfile
        >>> store = Store("sqlite://", artifacts_dir=tempfile.mkdtemp(), stale_after=0.001)
        >>> _ = store.save_run("sweep1", kind="optimization", spec={}, status="running")
        >>> import time; time.sleep(0.01)
        >>> store.run("sweep1").status, store.run("sweep1").resume
        ('interrupted', 're-run the code that started it (its spec is in `workbench runs show sweep1`)')
        """
        every = check_number("every", every, 0, lo_open=True)
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every):
                with contextlib.suppress(WorkbenchError):
                    self.heartbeat(run_id)

        self.heartbeat(run_id)
        thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def run(self, run_id: str) -> RunRecord:
        """The run with id ``run_id``, or the one run whose id starts with it (like git).

        Raises
        ------
        StoreError
            No run matches, or the prefix matches several (the message lists them).
        """
        _check_text("run_id", run_id)
        with self._db_errors(f"read run {run_id!r} from"), self.engine.connect() as conn:
            row = conn.execute(sa.select(_RUNS).where(_RUNS.c.id == run_id)).mappings().first()
            if row is not None:
                return _run_record(_live(row, self._stale_before()))
            like = _RUNS.c.id.startswith(run_id, autoescape=True)
            rows = conn.execute(sa.select(_RUNS).where(like).order_by(_RUNS.c.id).limit(6)).mappings().all()
            if len(rows) == 1:
                return _run_record(_live(rows[0], self._stale_before()))
            if rows:
                shown = ", ".join(repr(r["id"]) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
                raise StoreError(
                    f"Run id prefix {run_id!r} is ambiguous: it matches {shown}. Give more characters."
                )
            near = _RUNS.c.id.startswith(run_id[:2], autoescape=True)
            candidates = conn.execute(sa.select(_RUNS.c.id).where(near).limit(1000)).scalars().all()
        raise StoreError(
            f"No run with id or id prefix {run_id!r} in the store.{did_you_mean(run_id, candidates)} "
            f"List runs with store.runs()."
        )

    def runs(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        parent_id: str | None = None,
        limit: int | None = None,
    ) -> pl.DataFrame:
        """Stored runs, newest first, one row each, with each metric flattened into a column.

        Parameters
        ----------
        kind, status, parent_id : str, optional
            Keep only runs with this kind / status / parent.
        limit : int, optional
            At most this many (the newest).

        Returns
        -------
        polars.DataFrame
            The run columns (``spec`` as JSON text, ``artifacts`` as a list of names), then
            one column per metric (nested keys joined with ``.``; a key that clashes with a run
            column is prefixed ``metric_``).
        """
        query = sa.select(_RUNS).order_by(_RUNS.c.created_at.desc(), _RUNS.c.id)
        if kind is not None:
            query = query.where(_RUNS.c.kind == _check_text("kind", kind))
        if status is not None:
            wanted = check_choice("status", status, (*RUN_STATUSES, "interrupted"))
            query = query.where(_RUNS.c.status == ("running" if wanted == "interrupted" else wanted))
        if parent_id is not None:
            query = query.where(_RUNS.c.parent_id == _check_text("parent_id", parent_id))
        if limit is not None:
            query = query.limit(check_int("limit", limit, 1))
        with self._db_errors("list runs in"), self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        stale_before = self._stale_before()
        live = [_live(row, stale_before) for row in rows]
        if status in ("running", "interrupted"):
            live = [row for row in live if row["status"] == status]
        return _frames.runs_frame(live)

    def load_artifact(self, run_id: str, name: str) -> pl.DataFrame:
        """The artifact ``name`` of run ``run_id`` (a unique prefix is enough), as a DataFrame.

        Raises
        ------
        StoreError
            The run has no such artifact, or its file is missing.
        """
        record = self.run(run_id)
        if name not in record.artifacts:
            have = ", ".join(repr(n) for n in sorted(record.artifacts)) or "none"
            raise StoreError(
                f"Run {record.id!r} has no artifact {name!r}.{did_you_mean(str(name), record.artifacts)} "
                f"Its artifacts: {have}."
            )
        path = self.artifacts_dir / record.artifacts[name]
        if not path.is_file():
            raise StoreError(
                f"The artifact file {str(path)!r} of run {record.id!r} is missing. Check `artifacts_dir` "
                f"(now {str(self.artifacts_dir)!r}) or re-run and save the run again."
            )
        return pl.read_parquet(path)

    # -- optimization trials (workbench.store.trials) ----------------------------------------
    def save_trials(self, run_id: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert or replace trials of optimization ``run_id``; see :func:`workbench.store.trials.save_trials`."""
        from workbench.store import trials as _trials

        return _trials.save_trials(self, run_id, list(rows))

    def trials(self, run_id: str) -> pl.DataFrame:
        """Trials of optimization ``run_id`` as a frame; see :func:`workbench.store.trials.trials`."""
        from workbench.store import trials as _trials

        return _trials.trials(self, run_id)

    def trial_numbers(self, run_id: str) -> Any:
        """Numbers of the stored trials of ``run_id`` (sorted int64 array)."""
        from workbench.store import trials as _trials

        return _trials.trial_numbers(self, run_id)

    # -- reproducibility (workbench.store.rerun) -----------------------------------------------
    def rerun(self, run_id: str) -> Any:
        """Run the stored run ``run_id`` again from its spec; see :func:`workbench.store.rerun.rerun`.

        The strategy comes from its module when that still holds the same code, else from the
        source stored with the run, which is executed in this process (only on this call).
        """
        from workbench.store import rerun as _rerun

        return _rerun.rerun(self, run_id)

    def resume(self, run_id: str) -> Any:
        """Continue an interrupted grid or random search; see :func:`workbench.store.rerun.resume`."""
        from workbench.store import rerun as _rerun

        return _rerun.resume(self, run_id)

    def verify(self, run_id: str) -> Any:
        """Re-run ``run_id`` and compare every metric and artifact bit for bit; returns a
        :class:`~workbench.store.rerun.VerifyReport` (``report.equal``, ``report.differences``).

        Examples
        --------
        >>> import tempfile, workbench as wb
        >>> from workbench.strategies import SmaCross
        >>> store = Store("sqlite://", artifacts_dir=tempfile.mkdtemp())
        >>> run_id = wb.backtest(wb.data.sample("GOOG"), SmaCross()).save(store)
        >>> store.verify(run_id).equal
        True
        """
        from workbench.store import rerun as _rerun

        return _rerun.verify(self, run_id)

    def delete_run(self, run_id: str) -> None:
        """Delete the run ``run_id`` (the full id), its child runs and all their artifacts.

        Raises
        ------
        StoreError
            No run has exactly that id.
        """
        _artifacts.check_name("run_id", run_id)
        with self._db_errors(f"delete run {run_id!r} from"), write_transaction(self.engine) as conn:
            if not _exists(conn, run_id):
                doomed: list[str] = []
            else:
                doomed = _descendants(conn, run_id)
                for chunk in range(0, len(doomed), 500):
                    conn.execute(_RUNS.delete().where(_RUNS.c.id.in_(doomed[chunk : chunk + 500])))
        if not doomed:
            try:
                match = self.run(run_id).id
            except StoreError as exc:
                raise StoreError(f"Cannot delete run {run_id!r}: {exc}") from None
            raise StoreError(
                f"No run with id {run_id!r} in the store; delete_run needs the full id. "
                f"Did you mean {match!r}?"
            )
        for rid in doomed:
            _artifacts.remove(self.artifacts_dir, rid)


def _exists(conn: sa.Connection, run_id: str) -> bool:
    return conn.execute(sa.select(_RUNS.c.id).where(_RUNS.c.id == run_id)).first() is not None


def _descendants(conn: sa.Connection, run_id: str) -> list[str]:
    """``run_id`` and every run below it, children before parents' siblings (breadth first)."""
    found, frontier = [run_id], [run_id]
    while frontier:
        children = conn.execute(sa.select(_RUNS.c.id).where(_RUNS.c.parent_id.in_(frontier))).scalars().all()
        frontier = [c for c in children if c not in found]
        found.extend(frontier)
    return found


def _upsert(conn: sa.Connection, table: sa.Table, values: dict[str, Any], *, key: str,
            keep: tuple[str, ...] = ()) -> sa.Executable:
    """INSERT ... ON CONFLICT (key) DO UPDATE, leaving ``keep`` columns of an existing row alone."""
    name = conn.dialect.name
    if name in ("sqlite", "postgresql"):
        dialect_insert = sqlite.insert if name == "sqlite" else postgresql.insert
        stmt = dialect_insert(table).values(**values)
        update = {c: stmt.excluded[c] for c in values if c != key and c not in keep and c != "id"}
        return stmt.on_conflict_do_update(index_elements=[key], set_=update)
    exists = conn.execute(sa.select(table.c[key]).where(table.c[key] == values[key])).first()
    if exists is None:
        return table.insert().values(**values)
    update = {c: v for c, v in values.items() if c != key and c not in keep and c != "id"}
    return table.update().where(table.c[key] == values[key]).values(**update)
