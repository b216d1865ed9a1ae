"""A/B tests of two model versions on the same signals, recorded in the store.

Both versions (the ``champion`` and the ``challenger`` aliases of a model) score every signal; a
deterministic split by signal id (:func:`ab_arm`: a hash, so the same id always lands in the same
arm, whatever the order or the run) at a traffic ``share`` decides which one acts. Both
confidences are recorded (table ``ml_ab_records``) and the outcomes (each entry's return) when
known. :meth:`ABTest.compare` reports each version's hit rate and information coefficient and the
deflated Sharpe ratio of the two filtered strategies (each takes the signals its confidence
approves), via :func:`workbench.optimize.overfit.deflated_sharpe_ratio`;
:meth:`ABTest.promote_challenger` promotes only on a DSR of 0.95 or more unless forced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa

from workbench._validate import check_number
from workbench.errors import DataValidationError, InvalidParameterError
from workbench.ml.registry import ModelRecord, ModelRegistry, _aware
from workbench.ml.scoring import _spearman
from workbench.optimize.overfit import deflated_sharpe_ratio
from workbench.store._engine import write_transaction
from workbench.store.models import MLABRecord

__all__ = ["ab_arm", "ab_split", "ABTest", "ABComparison"]

_AB = MLABRecord.__table__
_SCALE = float(2**64)


def ab_arm(signal_id: str, share: float, *, salt: str = "") -> str:
    """``"challenger"`` for a ``share`` of ids, ``"champion"`` for the rest, by a hash of the id.

    >>> ab_arm("GOOG-2012-01-03", 0.5), ab_arm("GOOG-2012-01-03", 0.5)
    ('champion', 'champion')
    >>> ab_arm("any", 1.0), ab_arm("any", 0.0)
    ('challenger', 'champion')
    """
    share = check_number("share", share, 0.0, 1.0)
    h = int.from_bytes(hashlib.sha256(f"{salt}\x00{signal_id}".encode()).digest()[:8], "big") / _SCALE
    return "challenger" if h < share else "champion"


def ab_split(signal_ids: Sequence[str], share: float, *, salt: str = "") -> np.ndarray:
    """True where the challenger acts, for each id (see :func:`ab_arm`)."""
    return np.array([ab_arm(str(s), share, salt=salt) == "challenger" for s in signal_ids], dtype=bool)


@dataclass(frozen=True)
class ABComparison:
    """Per version (``champion``, ``challenger``): signals approved, hit rate, IC, Sharpe and DSR
    of its filtered strategy; ``difference`` = challenger − champion."""

    table: pl.DataFrame
    n_signals: int

    def value(self, arm: str, column: str) -> float:
        return float(self.table.filter(pl.col("arm") == arm)[column][0])

    @property
    def difference(self) -> dict[str, float]:
        return {c: self.value("challenger", c) - self.value("champion", c) for c in ("hit_rate", "ic", "sharpe", "dsr")}


class ABTest:
    """An experiment between the champion and challenger of model ``name``.

    ``threshold`` is the confidence (0–100) from which a version takes a signal."""

    def __init__(self, registry: ModelRegistry, name: str, *, experiment: str | None = None, share: float = 0.5,
                 threshold: float = 50.0) -> None:
        self.registry, self.name = registry, name
        self.experiment = experiment or f"{name}:ab"
        self.share = check_number("share", share, 0.0, 1.0)
        self.threshold = check_number("threshold", threshold, 0.0, 100.0)

    def _arms(self) -> tuple[ModelRecord, ModelRecord]:
        return (self.registry.get(self.name, alias="champion"), self.registry.get(self.name, alias="challenger"))

    def score(self, signal_ids: Sequence[str], X: Any, *, ts: Sequence[Any] | None = None) -> pl.DataFrame:
        """Score the signals with both versions, decide the acting arm, record every row (a
        signal already recorded keeps its first record); returns them."""
        ids = [str(s) for s in signal_ids]
        if len(set(ids)) != len(ids):
            raise DataValidationError("`signal_ids` must be unique within one call; a signal is scored once.")
        champ, chall = self._arms()
        c1 = self.registry.load(self.name, version=champ.version).confidence(X)
        c2 = self.registry.load(self.name, version=chall.version).confidence(X)
        if c1.size != len(ids):
            raise DataValidationError(f"`X` has {c1.size} rows for {len(ids)} signal ids; give one row per signal.")
        arm = np.where(ab_split(ids, self.share, salt=self.experiment), "challenger", "champion")
        now = dt.datetime.now(dt.timezone.utc)
        rows = [{"experiment": self.experiment, "signal_id": s, "ts": None if ts is None else _aware(ts[i]),
                 "arm": str(arm[i]), "champion_version": champ.version, "challenger_version": chall.version,
                 "champion_confidence": float(c1[i]), "challenger_confidence": float(c2[i]), "outcome": None,
                 "created_at": now} for i, s in enumerate(ids)]
        st = self.registry.store
        with st._db_errors(f"record A/B scores of {self.experiment!r} in"), write_transaction(st.engine) as conn:
            seen = set(conn.execute(sa.select(_AB.c.signal_id).where(
                (_AB.c.experiment == self.experiment) & _AB.c.signal_id.in_(ids))).scalars().all())
            new = [r for r in rows if r["signal_id"] not in seen]
            if new:
                conn.execute(_AB.insert(), new)
        return pl.DataFrame(rows).drop("created_at")

    def record_outcomes(self, signal_ids: Sequence[str], outcomes: Sequence[float]) -> int:
        """Set the outcome (the entry's realized return) of recorded signals; returns how many."""
        if len(signal_ids) != len(outcomes):
            raise InvalidParameterError(f"{len(signal_ids)} signal ids but {len(outcomes)} outcomes; give one each.")
        st = self.registry.store
        n = 0
        with st._db_errors(f"record A/B outcomes of {self.experiment!r} in"), write_transaction(st.engine) as conn:
            for s, o in zip(signal_ids, outcomes, strict=True):
                n += conn.execute(_AB.update().where((_AB.c.experiment == self.experiment) & (_AB.c.signal_id == str(s)))
                                  .values(outcome=None if o is None or not np.isfinite(o) else float(o))).rowcount
        return n

    def records(self) -> pl.DataFrame:
        st = self.registry.store
        with st._db_errors(f"read A/B records of {self.experiment!r} from"), st.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(sa.select(_AB).where(_AB.c.experiment == self.experiment)
                                                  .order_by(_AB.c.ts, _AB.c.id)).mappings().all()]
        return pl.DataFrame(rows, infer_schema_length=None)

    def compare(self) -> ABComparison:
        """Compare the versions on every signal with a known outcome (both scored all of them)."""
        rec = self.records()
        if rec.height:
            rec = rec.filter(pl.col("outcome").is_not_null())
        if rec.height < 3:
            raise DataValidationError(
                f"experiment {self.experiment!r} has {rec.height} signals with known outcomes; at least 3 are needed "
                "to compare (record outcomes with record_outcomes())."
            )
        out = rec["outcome"].to_numpy().astype(np.float64)
        conf = {a: rec[f"{a}_confidence"].to_numpy().astype(np.float64) for a in ("champion", "challenger")}
        taken = {a: np.where(conf[a] >= self.threshold, out, 0.0) for a in conf}
        mat = np.column_stack([taken["champion"], taken["challenger"]])
        sharpe = np.array([_sharpe(mat[:, 0]), _sharpe(mat[:, 1])])
        finite = np.where(np.isfinite(sharpe), sharpe, 0.0)
        dsr = _dsr(mat, finite)
        rows = []
        for k, a in enumerate(("champion", "challenger")):
            picked = conf[a] >= self.threshold
            rows.append({"arm": a, "version": int(rec[f"{a}_version"][0]), "approved": int(picked.sum()),
                         "hit_rate": float((out[picked] > 0).mean()) if picked.any() else float("nan"),
                         "ic": _spearman(conf[a], out), "sharpe": float(sharpe[k]), "dsr": float(dsr[k])})
        return ABComparison(pl.DataFrame(rows), rec.height)

    def promote_challenger(self, *, force: bool = False, reason: str = "") -> ModelRecord:
        """Make the challenger the champion if its filtered strategy's DSR is at least 0.95 (or
        ``force``); the promotion is logged with the DSR."""
        cmp = self.compare()
        version = int(cmp.table.filter(pl.col("arm") == "challenger")["version"][0])
        dsr = cmp.value("challenger", "dsr")
        return self.registry.promote(self.name, version, dsr=dsr, force=force,
                                     reason=reason or f"A/B {self.experiment}: DSR {dsr:.3f}")


def _sharpe(r: np.ndarray) -> float:
    sd = r.std(ddof=1)
    return float(r.mean() / sd) if sd > 0 else float("nan")


def _dsr(mat: np.ndarray, sharpes: np.ndarray) -> np.ndarray:
    if (mat.std(axis=0, ddof=1) == 0).any():  # a strategy that never trades has no Sharpe ratio to deflate
        return np.array([float(deflated_sharpe_ratio(mat[:, k], n_trials=2, trial_sharpes=sharpes))
                         if mat[:, k].std(ddof=1) > 0 else 0.0 for k in range(2)])
    return np.asarray(deflated_sharpe_ratio(mat, n_trials=2, trial_sharpes=sharpes), dtype=np.float64)

