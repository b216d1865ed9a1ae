"""Reading only the newly finished trials of an Optuna study kept in an RDB storage.

Optuna's public API reads a whole study at once (``study.trials``, ``get_all_trials``): a
monitor polling it every few hundred milliseconds would move the whole study each time. This
module reads Optuna's tables directly, with one indexed query for the trials finished since the
last poll, then their parameters, objective values and ``metrics`` user attribute. It relies on
these facts of Optuna's RDB schema (each tested in ``tests/ui/test_optuna_tail.py`` against
``study.trials``):

- ``studies(study_id, study_name)``; ``trials(trial_id, number, study_id, state,
  datetime_start, datetime_complete)`` with ``state`` the :class:`TrialState` name;
- ``trial_params(trial_id, param_name, param_value, distribution_json)`` holding the internal
  representation, turned back by the distribution's ``to_external_repr``;
- ``trial_values(trial_id, objective, value, value_type)`` with ``value_type`` ``FINITE``,
  ``INF_POS`` or ``INF_NEG``;
- ``trial_user_attributes(trial_id, key, value_json)``.

Workers commit out of order, so a trial may carry a completion time slightly older than one
already seen: each poll looks back :data:`LOOKBACK` seconds and skips trial ids it has returned.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from workbench.errors import StoreError, did_you_mean

__all__ = ["OptunaTail", "study_names", "LOOKBACK"]

LOOKBACK = dt.timedelta(seconds=30)
_FINISHED = ("COMPLETE", "PRUNED", "FAIL")
_STATE = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}


def _engine(url: str) -> sa.Engine:
    try:
        return sa.create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    except Exception as exc:
        raise StoreError(f"Could not open the Optuna storage {url!r}: {exc}") from None


def study_names(url: str) -> list[str]:
    """Names of the studies in the storage at ``url`` (empty when it holds none yet)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("studies"):
                return []
            return list(conn.execute(sa.text("SELECT study_name FROM studies ORDER BY study_id")).scalars())
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"Could not list the studies of the Optuna storage: {exc}") from None
    finally:
        engine.dispose()


class OptunaTail:
    """Newly finished trials of study ``name`` in the storage at ``url``, poll after poll.

    Raises
    ------
    StoreError
        The storage cannot be read, or holds no study of that name (the message lists them).
    """

    def __init__(self, url: str, name: str) -> None:
        self._engine = _engine(url)
        self.name = name
        try:
            with self._engine.connect() as conn:
                names = (list(conn.execute(sa.text("SELECT study_name FROM studies")).scalars())
                         if sa.inspect(conn).has_table("studies") else [])
                row = conn.execute(sa.text("SELECT study_id FROM studies WHERE study_name = :n"), {"n": name}).first()
                dirs = [] if row is None else list(conn.execute(sa.text(
                    "SELECT direction FROM study_directions WHERE study_id = :s ORDER BY objective"), {"s": row[0]}).scalars())
        except sa.exc.SQLAlchemyError as exc:
            self._engine.dispose()
            raise StoreError(f"Could not read the Optuna storage: {exc}") from None
        if row is None:
            self._engine.dispose()
            listed = ", ".join(repr(n) for n in names[:20]) or "none"
            raise StoreError(f"No study named {name!r} in the Optuna storage.{did_you_mean(name, names)} "
                             f"Studies there: {listed}.")
        self.study_id = int(row[0])
        self.directions = [str(d).lower() for d in dirs]
        self._seen: set[int] = set()
        self._mark: dt.datetime | None = None

    def close(self) -> None:
        self._engine.dispose()

    def poll(self) -> list[dict[str, Any]]:
        """Trials finished since the last poll (all finished ones the first time), each a dict:
        ``number, state, value, params, metrics, finished_at``; ordered by completion."""
        since = dt.datetime(1970, 1, 1) if self._mark is None else self._mark - LOOKBACK
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT trial_id, number, state, datetime_complete FROM trials WHERE study_id = :s "
                "AND state IN ('COMPLETE', 'PRUNED', 'FAIL') AND datetime_complete >= :t "
                "ORDER BY datetime_complete, trial_id").bindparams(sa.bindparam("t", type_=sa.DateTime()))
                .columns(sa.column("trial_id", sa.Integer()), sa.column("number", sa.Integer()),
                         sa.column("state", sa.String()), sa.column("datetime_complete", sa.DateTime())),
                {"s": self.study_id, "t": since}).all()
            rows = [r for r in rows if r[0] not in self._seen]
            if not rows:
                return []
            ids = {int(r[0]) for r in rows}
            params, values, attrs = self._details(conn, sorted(ids))
        out = []
        for tid, number, state, done in rows:
            self._seen.add(int(tid))
            self._mark = done if self._mark is None or done > self._mark else self._mark
            out.append({"number": int(number), "state": _STATE.get(str(state), str(state).lower()),
                        "value": values.get(int(tid)), "params": params.get(int(tid), {}),
                        "metrics": attrs.get(int(tid), {}), "finished_at": done})
        return out

    @staticmethod
    def _details(conn: sa.Connection, ids: list[int]) -> tuple[dict, dict, dict]:
        from optuna.distributions import json_to_distribution

        params: dict[int, dict[str, Any]] = {}
        values: dict[int, float] = {}
        attrs: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = {"ids": ids[start:start + 500]}
            q = sa.text("SELECT trial_id, param_name, param_value, distribution_json FROM trial_params "
                        "WHERE trial_id IN :ids").bindparams(sa.bindparam("ids", expanding=True))
            for tid, name, value, dist in conn.execute(q, chunk):
                params.setdefault(int(tid), {})[name] = json_to_distribution(dist).to_external_repr(value)
            q = sa.text("SELECT trial_id, value, value_type FROM trial_values WHERE trial_id IN :ids "
                        "AND objective = 0").bindparams(sa.bindparam("ids", expanding=True))
            for tid, value, kind in conn.execute(q, chunk):
                kind = str(kind)
                values[int(tid)] = (float("inf") if kind.endswith("INF_POS") else float("-inf")
                                    if kind.endswith("INF_NEG") else float(value))
            q = sa.text("SELECT trial_id, value_json FROM trial_user_attributes WHERE trial_id IN :ids "
                        "AND key = 'metrics'").bindparams(sa.bindparam("ids", expanding=True))
            for tid, value_json in conn.execute(q, chunk):
                found = json.loads(value_json)
                attrs[int(tid)] = found if isinstance(found, dict) else {}
        return params, values, attrs
