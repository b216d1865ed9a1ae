"""The model registry in the store: versions, aliases, promotions (tables of revision 0004).

A model is registered under a name; each registration is the next version and keeps the feature
list, the training data snapshot (content hash, date range), the hyperparameters, the CV metrics,
the artifact (XGBoost's own JSON inside the model's JSON document — never pickle) and the creation
time. Aliases ``champion`` and ``challenger`` name versions; a model loads by name and version or
alias. Promoting a version to ``champion`` needs a deflated Sharpe ratio of at least
:data:`MIN_DSR` (from an A/B comparison) unless forced; every promotion is logged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa

from workbench.errors import InvalidParameterError, StoreError, did_you_mean
from workbench.ml.model import SignalModel, xgboost_module
from workbench.store._codec import to_json_value
from workbench.store._engine import write_transaction
from workbench.store.models import MLAlias, MLModel, MLPromotion

__all__ = ["ModelRegistry", "ModelRecord", "ModelNotFoundError", "PromotionRefused", "ALIASES", "MIN_DSR"]

ALIASES = ("champion", "challenger")
MIN_DSR = 0.95
_MODELS, _ALIASES, _PROMOS = MLModel.__table__, MLAlias.__table__, MLPromotion.__table__


class ModelNotFoundError(StoreError, LookupError):
    """No model of that name, version or alias in the registry."""


class PromotionRefused(StoreError):
    """A promotion the evidence does not support (DSR below the bar) and that was not forced."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").astype(dt.datetime)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


@dataclass(frozen=True)
class ModelRecord:
    """One registered version (without its artifact): the row of ``ml_models`` and its aliases."""

    name: str
    version: int
    features: list[Any]
    dataset_hash: str
    data_start: dt.datetime | None
    data_end: dt.datetime | None
    hyperparameters: dict[str, Any]
    cv_metrics: dict[str, Any]
    xgboost_version: str
    created_at: dt.datetime
    aliases: tuple[str, ...]


class ModelRegistry:
    """The registry over a :class:`~workbench.store.Store`.

    Examples
    --------
    >>> import tempfile, workbench as wb
    >>> from workbench.ml import make_dataset, default_features, SignalModel, ModelParams
    >>> from workbench.strategies import TrendPullback
    >>> ds = make_dataset(wb.data.sample("GOOG"), TrendPullback(), default_features(5))
    >>> m = SignalModel.fit(ds.X, ds.y, ds.feature_names, ModelParams(n_estimators=10))
    >>> with wb.Store("sqlite://", artifacts_dir=tempfile.mkdtemp()) as store:
    ...     reg = ModelRegistry(store)
    ...     reg.register("pullback", m, dataset=ds), reg.register("pullback", m, dataset=ds)
    ...     reg.promote("pullback", 1, force=True, reason="first model").aliases
    ...     reg.load("pullback", alias="champion").feature_names == ds.feature_names
    (1, 2)
    ('champion',)
    True
    """

    def __init__(self, store: Any) -> None:
        self.store = store

    # -- writing -------------------------------------------------------------------------
    def register(self, name: str, model: SignalModel, *, dataset: Any = None, cv_metrics: dict[str, Any] | None = None,
                 features: list[Any] | None = None) -> int:
        """Store ``model`` as the next version of ``name``; returns the version. ``dataset`` (a
        :class:`~workbench.ml.labels.LabeledSet`) gives the data snapshot; ``features`` the
        feature declarations (default: the model's feature names)."""
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise InvalidParameterError(f"a model `name` must be a non-empty string of at most 255 characters; got {name!r}.")
        row = {
            "name": name, "features": to_json_value(features or list(model.feature_names), name="features"),
            "dataset_hash": getattr(dataset, "content_hash", "") or "",
            "data_start": _aware(getattr(dataset, "start", None)), "data_end": _aware(getattr(dataset, "end", None)),
            "hyperparameters": to_json_value(model.params.__dict__, name="hyperparameters"), "cv_metrics": to_json_value(cv_metrics or {}, name="cv_metrics"),
            "artifact": model.to_json(), "xgboost_version": xgboost_module().__version__, "created_at": _now(),
        }
        with self.store._db_errors(f"register model {name!r} in"), write_transaction(self.store.engine) as conn:
            last = conn.execute(sa.select(sa.func.max(_MODELS.c.version)).where(_MODELS.c.name == name)).scalar()
            row["version"] = int(last or 0) + 1
            conn.execute(_MODELS.insert().values(**row))
        return row["version"]

    def promote(self, name: str, version: int, *, alias: str = "champion", dsr: float | None = None,
                force: bool = False, reason: str = "") -> ModelRecord:
        """Point ``alias`` at ``version``. To ``champion``, a ``dsr`` of at least 0.95 is needed
        unless ``force``; the promotion (or forced promotion) is logged either way it happens.

        Raises
        ------
        PromotionRefused
            A champion promotion without a DSR or below 0.95, not forced.
        """
        if alias not in ALIASES:
            raise InvalidParameterError(f"`alias` must be one of {', '.join(ALIASES)}; got {alias!r}.{did_you_mean(str(alias), ALIASES)}")
        rec = self.get(name, version=version)
        if alias == "champion" and not force and (dsr is None or not dsr >= MIN_DSR):
            shown = "no DSR was given" if dsr is None else f"its deflated Sharpe ratio is {dsr:.3f}"
            raise PromotionRefused(
                f"promoting {name!r} version {version} to champion is refused: {shown}, below {MIN_DSR}. Compare it "
                "with an A/B test first, or force the promotion (force=True / --force)."
            )
        with self.store._db_errors(f"promote model {name!r} in"), write_transaction(self.store.engine) as conn:
            key = (_ALIASES.c.name == name) & (_ALIASES.c.alias == alias)
            before = conn.execute(sa.select(_ALIASES.c.version).where(key)).scalar()
            conn.execute(_ALIASES.delete().where(key))
            conn.execute(_ALIASES.insert().values(name=name, alias=alias, version=rec.version, updated_at=_now()))
            conn.execute(_PROMOS.insert().values(
                name=name, alias=alias, from_version=before, to_version=rec.version,
                dsr=None if dsr is None or not np.isfinite(dsr) else float(dsr), forced=bool(force),
                reason=reason or ("forced" if force else f"DSR {dsr:.3f} >= {MIN_DSR}" if alias == "champion" else ""),
                created_at=_now()))
        return self.get(name, version=rec.version)

    # -- reading -------------------------------------------------------------------------
    def _version(self, conn: sa.Connection, name: str, version: int | None, alias: str | None) -> int:
        names = conn.execute(sa.select(_MODELS.c.name).distinct()).scalars().all()
        if name not in names:
            raise ModelNotFoundError(f"no model named {name!r} in the registry.{did_you_mean(name, names)} "
                                     f"Models: {', '.join(sorted(names)) or '(none)'}.")
        if alias is not None:
            v = conn.execute(sa.select(_ALIASES.c.version).where(
                (_ALIASES.c.name == name) & (_ALIASES.c.alias == alias))).scalar()
            if v is None:
                have = conn.execute(sa.select(_ALIASES.c.alias).where(_ALIASES.c.name == name)).scalars().all()
                raise ModelNotFoundError(f"model {name!r} has no alias {alias!r}; its aliases: {', '.join(have) or '(none)'}. "
                                         "Set one with promote().")
            return int(v)
        versions = conn.execute(sa.select(_MODELS.c.version).where(_MODELS.c.name == name)).scalars().all()
        if version is None:
            return int(max(versions))
        if version not in versions:
            raise ModelNotFoundError(f"model {name!r} has no version {version!r}; versions: {', '.join(map(str, sorted(versions)))}.")
        return int(version)

    def get(self, name: str, *, version: int | None = None, alias: str | None = None) -> ModelRecord:
        """The record of ``name`` at ``version`` or ``alias`` (default: the newest version)."""
        with self.store._db_errors(f"read model {name!r} from"), self.store.engine.connect() as conn:
            v = self._version(conn, name, version, alias)
            row = conn.execute(sa.select(*[c for c in _MODELS.c if c.name != "artifact"]).where(
                (_MODELS.c.name == name) & (_MODELS.c.version == v))).mappings().one()
            aliases = conn.execute(sa.select(_ALIASES.c.alias).where(
                (_ALIASES.c.name == name) & (_ALIASES.c.version == v)).order_by(_ALIASES.c.alias)).scalars().all()
        return ModelRecord(row["name"], row["version"], row["features"], row["dataset_hash"], row["data_start"],
                           row["data_end"], row["hyperparameters"], row["cv_metrics"], row["xgboost_version"],
                           row["created_at"], tuple(aliases))

    def load(self, name: str, *, version: int | None = None, alias: str | None = None) -> SignalModel:
        """The trained model of ``name`` at ``version`` or ``alias`` (default: newest)."""
        with self.store._db_errors(f"read model {name!r} from"), self.store.engine.connect() as conn:
            v = self._version(conn, name, version, alias)
            text = conn.execute(sa.select(_MODELS.c.artifact).where(
                (_MODELS.c.name == name) & (_MODELS.c.version == v))).scalar_one()
        return SignalModel.from_json(text)

    def models(self, name: str | None = None) -> pl.DataFrame:
        """One row per version: name, version, created_at, aliases, dataset_hash, data range,
        number of features and the CV ROC AUC / log loss when recorded."""
        q = sa.select(_MODELS.c.name, _MODELS.c.version, _MODELS.c.created_at, _MODELS.c.dataset_hash,
                      _MODELS.c.data_start, _MODELS.c.data_end, _MODELS.c.features, _MODELS.c.cv_metrics)
        if name is not None:
            q = q.where(_MODELS.c.name == name)
        with self.store._db_errors("list models in"), self.store.engine.connect() as conn:
            rows = conn.execute(q.order_by(_MODELS.c.name, _MODELS.c.version)).mappings().all()
            alias_rows = conn.execute(sa.select(_ALIASES)).mappings().all()
        aliases: dict[tuple[str, int], list[str]] = {}
        for a in alias_rows:
            aliases.setdefault((a["name"], a["version"]), []).append(a["alias"])
        return pl.DataFrame([{
            "name": r["name"], "version": r["version"], "created_at": r["created_at"],
            "aliases": ",".join(sorted(aliases.get((r["name"], r["version"]), []))),
            "dataset_hash": r["dataset_hash"], "data_start": r["data_start"], "data_end": r["data_end"],
            "n_features": len(r["features"]), "roc_auc": _metric(r["cv_metrics"], "roc_auc"),
            "log_loss": _metric(r["cv_metrics"], "log_loss"),
        } for r in rows], schema_overrides={"roc_auc": pl.Float64, "log_loss": pl.Float64})

    def promotions(self, name: str | None = None) -> pl.DataFrame:
        """The promotion log, oldest first."""
        q = sa.select(_PROMOS).order_by(_PROMOS.c.id)
        if name is not None:
            q = q.where(_PROMOS.c.name == name)
        with self.store._db_errors("read promotions from"), self.store.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings().all()]
        return pl.DataFrame(rows, schema_overrides={"dsr": pl.Float64, "from_version": pl.Int64})


def _metric(metrics: dict[str, Any], key: str) -> float | None:
    v = (metrics.get("model") or metrics).get(key) if isinstance(metrics, dict) else None
    return None if v is None else float(v)
