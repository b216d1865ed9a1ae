"""Optimization trials in the store: every parameter set an optimization evaluated, with its
parameters, metrics and timings (table ``trials``, migration 0002).

An optimization is a run (``kind="optimization"``); its trials hang off it by ``run_id`` and
``number`` (the set's position in the search), so a search interrupted midway knows which sets
are done and continues with the others. :class:`~workbench.store.Store` exposes these as
``store.save_trials(...)``, ``store.trials(run_id)`` and ``store.trial_numbers(run_id)``.

>>> import tempfile
>>> from workbench.store import Store
>>> with Store("sqlite://", artifacts_dir=tempfile.mkdtemp()) as store:
...     _ = store.save_run("opt1", kind="optimization", spec={}, status="running")
...     store.save_trials("opt1", [{"number": 0, "params": {"fast": 5}, "metrics": {"sharpe_ratio": 0.4},
...                                  "value": 0.4}])
...     store.trials("opt1").select("number", "fast", "sharpe_ratio").rows()
1
[(0, 5, 0.4)]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from workbench._validate import check_choice
from workbench.errors import InvalidParameterError, StoreError
from workbench.store._codec import to_json_value
from workbench.store._engine import write_transaction
from workbench.store._frames import flatten_metrics
from workbench.store.models import TRIAL_STATES, Run, Trial

if TYPE_CHECKING:
    from workbench.store.store import Store

__all__ = ["TRIAL_COLUMNS", "save_trials", "trials", "trials_after", "trial_numbers"]

_TRIALS: sa.Table = Trial.__table__  # type: ignore[attr-defined]
_RUNS: sa.Table = Run.__table__  # type: ignore[attr-defined]
_UTC = pl.Datetime("us", "UTC")
_BATCH = 2_000

TRIAL_COLUMNS: dict[str, pl.DataType] = {
    "number": pl.Int64(), "state": pl.String(), "value": pl.Float64(), "started_at": _UTC,
    "finished_at": _UTC, "duration_s": pl.Float64(),
}
"""The fixed columns of :func:`trials`; parameter and metric columns follow."""


def _time(name: str, value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise InvalidParameterError(f"trial `{name}` must be a timezone-aware datetime or None; got {value!r}.")
    return value.astimezone(dt.timezone.utc)


def _row(run_id: str, trial: Mapping[str, Any], i: int) -> dict[str, Any]:
    if "number" not in trial:
        raise InvalidParameterError(f"trial {i} has no `number`; every trial needs its position in the search.")
    number = trial["number"]
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)) or number < 0:
        raise InvalidParameterError(f"trial `number` must be an integer >= 0; got {number!r}.")
    value = trial.get("value")
    value = None if value is None or not np.isfinite(float(value)) else float(value)
    return {
        "run_id": run_id,
        "number": int(number),
        "state": check_choice("state", trial.get("state", "complete"), TRIAL_STATES),
        "value": value,
        "params": to_json_value(dict(trial.get("params") or {}), name="params"),
        "metrics": to_json_value(dict(trial.get("metrics") or {}), name="metrics"),
        "started_at": _time("started_at", trial.get("started_at")),
        "finished_at": _time("finished_at", trial.get("finished_at")),
        "duration_s": None if trial.get("duration_s") is None else float(trial["duration_s"]),
    }


def save_trials(store: Store, run_id: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert (or replace, by ``number``) trials of the optimization run ``run_id`` in one
    transaction; returns how many were written.

    Each row: ``number`` (int, required), ``params`` and ``metrics`` (dicts), ``value`` (the
    objective), ``state`` (``"complete"``, ``"failed"``, ``"pruned"``; default complete),
    ``started_at``/``finished_at`` (aware datetimes) and ``duration_s``.

    Raises
    ------
    StoreError
        ``run_id`` is not a run in the store.
    """
    values = [_row(run_id, t, i) for i, t in enumerate(rows)]
    if not values:
        return 0
    with store._db_errors(f"save trials of run {run_id!r} in"), write_transaction(store.engine) as conn:
        if conn.execute(sa.select(_RUNS.c.id).where(_RUNS.c.id == run_id)).first() is None:
            raise StoreError(f"Run {run_id!r} is not in the store; save the optimization run before its trials.")
        for start in range(0, len(values), _BATCH):
            conn.execute(_upsert(conn), values[start : start + _BATCH])
    return len(values)


def _upsert(conn: sa.Connection) -> sa.Executable:
    name = conn.dialect.name
    if name not in ("sqlite", "postgresql"):
        return _TRIALS.insert()
    insert = sqlite.insert if name == "sqlite" else postgresql.insert
    stmt = insert(_TRIALS)
    keep = ("id", "run_id", "number")
    return stmt.on_conflict_do_update(
        index_elements=["run_id", "number"],
        set_={c.name: stmt.excluded[c.name] for c in _TRIALS.columns if c.name not in keep},
    )


def trial_numbers(store: Store, run_id: str) -> np.ndarray:
    """The sorted ``number`` of every trial stored for ``run_id`` (int64)."""
    query = sa.select(_TRIALS.c.number).where(_TRIALS.c.run_id == run_id).order_by(_TRIALS.c.number)
    with store._db_errors(f"read trials of run {run_id!r} from"), store.engine.connect() as conn:
        found = conn.execute(query).scalars().all()
    return np.asarray(found, dtype=np.int64)


def trials(store: Store, run_id: str) -> pl.DataFrame:
    """The trials of ``run_id`` as a polars frame ordered by ``number``: :data:`TRIAL_COLUMNS`,
    then one column per parameter, then one per metric (a metric named like a parameter or a
    fixed column is prefixed ``metric_``). Missing metric values (NaN when saved) are null."""
    query = sa.select(_TRIALS).where(_TRIALS.c.run_id == run_id).order_by(_TRIALS.c.number)
    with store._db_errors(f"read trials of run {run_id!r} from"), store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return _frame(rows)


def trials_after(store: Store, run_id: str, after: int = 0) -> tuple[pl.DataFrame, int]:
    """The trials of ``run_id`` written since row ``after`` (0: all), as :func:`trials` frames
    them, and the cursor to pass next time: a live view reads only what is new.

    A trial written again (same ``number``) keeps its row, so it is not returned twice.

    >>> import tempfile
    >>> from workbench.store import Store
    >>> with Store("sqlite://", artifacts_dir=tempfile.mkdtemp()) as store:
    ...     _ = store.save_run("opt1", kind="optimization", spec={}, status="running")
    ...     _ = store.save_trials("opt1", [{"number": 0, "value": 0.1}, {"number": 1, "value": 0.2}])
    ...     first, cursor = trials_after(store, "opt1")
    ...     _ = store.save_trials("opt1", [{"number": 2, "value": 0.3}])
    ...     new, cursor = trials_after(store, "opt1", cursor)
    ...     first.height, new["number"].to_list()
    (2, [2])
    """
    query = sa.select(_TRIALS).where(_TRIALS.c.run_id == run_id, _TRIALS.c.id > int(after)).order_by(_TRIALS.c.id)
    with store._db_errors(f"read trials of run {run_id!r} from"), store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return _frame(rows), (int(rows[-1]["id"]) if rows else int(after))


def _frame(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    fixed = [pl.Series(n, [r[n] for r in rows], dtype=d) for n, d in TRIAL_COLUMNS.items()]
    params = [dict(r["params"]) for r in rows]
    metrics = [flatten_metrics(r["metrics"]) for r in rows]
    p_keys = list(dict.fromkeys(k for p in params for k in p))
    m_keys = list(dict.fromkeys(k for m in metrics for k in m))
    cols = list(fixed)
    cols += [pl.Series(k, [p.get(k) for p in params], strict=False) for k in p_keys]
    taken = set(TRIAL_COLUMNS) | set(p_keys)
    for k in m_keys:
        name = f"metric_{k}" if k in taken else k
        vals = [m.get(k) for m in metrics]
        numeric = all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in vals)
        cols.append(pl.Series(name, [None if v is None else float(v) for v in vals], dtype=pl.Float64)
                    if numeric else pl.Series(name, [None if v is None else str(v) for v in vals], dtype=pl.String))
    return pl.DataFrame(cols)
