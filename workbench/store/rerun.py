"""Re-running a stored run from its spec, and verifying that it reproduces bit for bit.

A run's spec names everything that determines its result: the strategy (and the hash of its
code), its parameters, the engine settings, the content hash of the bars, and for a search its
space, metric, seed and options. :func:`rerun` rebuilds each of these from the store — the
strategy from its module when that still holds the same code, else from the source stored with
the run (executed here, and only here); the bars from the run's own copy, a registered dataset or
a sample with that hash — and runs it again. :func:`verify` compares every stored metric and
artifact with the fresh result, bit for bit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from workbench.errors import StoreError
from workbench.store._codec import to_json_value

if TYPE_CHECKING:
    from workbench.store.records import RunRecord
    from workbench.store.store import Store

__all__ = ["KEEP_DATA_CELLS", "Check", "VerifyReport", "run_artifacts", "bars_of", "rerun", "resume", "verify",
           "resume_command"]

KEEP_DATA_CELLS = 5_000_000
"""Bars with at most this many values (rows × columns) are kept with a run by default."""

_TIMINGS = frozenset({"elapsed_s"})


def run_artifacts(store: Store, strategy: type, bars: pl.DataFrame | None, dataset_hash: str, *,
                  keep_data: bool | None) -> dict[str, pl.DataFrame]:
    """The artifacts that make a run re-runnable: ``strategy`` (its code) and, when kept,
    ``bars`` (by default when they are small and not a registered dataset of ``store``)."""
    from workbench.strategies._code import code_of

    out = {"strategy": code_of(strategy).to_frame()}
    if bars is None:
        return out
    if keep_data is None:
        registered = store.datasets()
        known = registered.height and dataset_hash in registered["content_hash"].to_list()
        keep_data = not known and bars.height * bars.width <= KEEP_DATA_CELLS
    if keep_data:
        out["bars"] = bars
    return out


# -- finding what a run was made of ------------------------------------------------------------
def bars_of(store: Store, record: RunRecord) -> pl.DataFrame:
    """The bars of a stored run: its own copy, a registered dataset or a sample with its content
    hash (checked).

    Raises
    ------
    StoreError
        None of them has the run's content hash (the message names it).
    """
    import workbench.data as wd
    from workbench.store.datasets import load_registered

    digest = record.dataset_hash or record.spec.get("dataset_hash")
    if digest is None:
        raise StoreError(f"Run {record.id!r} records no dataset hash, so its bars cannot be found.")
    if "bars" in record.artifacts:
        bars = store.load_artifact(record.id, "bars")
        if wd.content_hash(bars) == digest:
            return bars
    registered = store.datasets()
    for name in registered.filter(pl.col("content_hash") == digest)["name"].to_list() if registered.height else []:
        return load_registered(store.dataset(name))
    for name in wd.samples()["name"].to_list():
        bars = wd.sample(name)
        if wd.content_hash(bars) == digest:
            return bars
    raise StoreError(
        f"The bars of run {record.id!r} (content hash {digest}) are gone: the run holds no copy, and no registered "
        f"dataset or sample has that hash. Fix: register the same bars (store.register_dataset(..., "
        f"content_hash={digest!r}) via workbench data import), or save runs with keep_data=True."
    )


def _strategy_class(store: Store, record: RunRecord, module: str, qualname: str, code: str | None) -> type:
    from workbench.errors import StrategyError
    from workbench.strategies._code import load_strategy

    if "strategy" in record.artifacts:
        row = store.load_artifact(record.id, "strategy").row(0, named=True)
        try:
            return load_strategy(row["qualname"], row["module"], row["source"], code or row["hash"],
                                 list(row["missing"] or []))
        except StrategyError as exc:
            raise StoreError(f"Run {record.id!r} cannot be re-run: {exc}") from None
    try:
        return load_strategy(qualname, module, "", code)
    except StrategyError:
        raise StoreError(
            f"Run {record.id!r} cannot be re-run: it stores no strategy source and {module}.{qualname} "
            + ("is a notebook/script class, which no other process can import." if module == "__main__" else
               "cannot be imported with the same code any more.")
        ) from None


# -- re-running ---------------------------------------------------------------------------------
def rerun(store: Store, run_id: str) -> Any:
    """Run the stored run ``run_id`` again; return the fresh result (a BacktestResult, a
    SweepResult or an ``optuna.Study``).

    Raises
    ------
    StoreError
        The run cannot be re-run (the message says why: no strategy code, a closure over notebook
        state, bars that are gone, a callable metric, a kind that cannot be re-run).
    """
    record = store.run(run_id)
    spec = record.spec
    kind, method = spec.get("kind"), spec.get("method")
    if kind == "portfolio" or kind == "backtest" and spec.get("strategy", {}).get("name") == "TargetWeights":
        raise StoreError(
            f"Run {record.id!r} is a portfolio run: its target weights and sizing are recorded only by their hash, "
            "so it cannot be re-run from the store; re-run the notebook or code that made it."
        )
    if kind == "backtest":
        return _rerun_backtest(store, record, spec)
    if kind == "optimization" and method in ("grid", "random"):
        return _rerun_sweep(store, record, spec)
    if kind == "optimization" and method == "study":
        return _rerun_study(store, record, spec)
    raise StoreError(f"Run {record.id!r} of kind {kind!r} ({method or 'no method'}) cannot be re-run from the store.")


def _rerun_backtest(store: Store, record: RunRecord, spec: dict[str, Any]) -> Any:
    from workbench.backtesting.config import BacktestConfig
    from workbench.backtesting.engine import backtest

    strat = spec["strategy"]
    cls = _strategy_class(store, record, strat["module"], strat["name"], strat.get("code"))
    return backtest(bars_of(store, record), cls(**strat["params"]), config=BacktestConfig(**spec["config"]))


def _space_args(store: Store, record: RunRecord, spec: dict[str, Any]) -> tuple[type, dict[str, Any], list[str]]:
    space = spec["space"]
    module, _, qualname = space["strategy"].rpartition(".")
    cls = _strategy_class(store, record, module, qualname, space.get("code"))
    ranges = {k: (v if isinstance(v, list) else (v["low"], v["high"])) for k, v in space["dims"].items()}
    return cls, ranges, list(space["constraints"])


def _resumable(kind: str, spec: dict[str, Any]) -> bool:
    return kind == "optimization" and spec.get("method") in ("grid", "random")


def resume_command(run_id: str, kind: str, spec_json: str) -> str:
    """The command that resumes an interrupted run."""
    if _resumable(kind, json.loads(spec_json)):
        return f"workbench runs resume {run_id}"
    return f"re-run the code that started it (its spec is in `workbench runs show {run_id}`)"


def resume(store: Store, run_id: str) -> Any:
    """Continue the stored search ``run_id`` where it stopped (the sets it has no trial for),
    in ``store``; return its result. A finished search is re-read, not re-evaluated.

    Raises
    ------
    StoreError
        The run is not a grid or random search (other runs resume by re-running their code).
    """
    record = store.run(run_id)
    if not _resumable(record.kind, record.spec):
        raise StoreError(
            f"Run {record.id!r} ({record.kind}) cannot be resumed from the store: "
            f"{resume_command(record.id, record.kind, record.spec_json)}."
        )
    return _rerun_sweep(store, record, record.spec, into=store)


def _rerun_sweep(store: Store, record: RunRecord, spec: dict[str, Any], *, into: Store | None = None) -> Any:
    from workbench.backtesting.config import BacktestConfig
    from workbench.optimize import _evaluate as ev
    from workbench.optimize.grid import run_sweep
    from workbench.optimize.space import search_space

    cls, ranges, constraints = _space_args(store, record, spec)
    obj = _objective(record, spec["metric"], spec["goal"])
    space = search_space(cls, constraint=constraints, **ranges)
    sets = space.grid() if spec["method"] == "grid" else space.sample(spec["n_sets"], seed=spec["seed"])
    cfg = BacktestConfig(**spec["config"])
    data = ev.dataset(bars_of(store, record), cfg)
    return run_sweep(data, space, sets, cfg, obj, method=spec["method"], engine=spec["engine"],
                     overfit=spec.get("overfit", True), pbo_sets=spec.get("pbo_sets", 128), store=into,
                     name=record.name, extra_spec={"n_sets": spec.get("n_sets"), "seed": spec.get("seed")})


def _objective(record: RunRecord, metric: str, goal: str) -> Any:
    from workbench.optimize import _evaluate as ev

    if metric not in ev.STATS_FIELDS:
        raise StoreError(
            f"Run {record.id!r} cannot be re-run: it ranked by the callable metric {metric!r}, which the store "
            "does not hold. Run the search again with that function."
        )
    return ev.objective(metric, goal)


def _rerun_study(store: Store, record: RunRecord, spec: dict[str, Any]) -> Any:
    import optuna

    from workbench.backtesting.config import BacktestConfig
    from workbench.optimize.study import study

    if spec.get("seed") is None or spec.get("n_trials") is None or spec.get("sampler") not in ("tpe", "cmaes", "random",
                                                                                               "nsga2", "gp"):
        raise StoreError(
            f"Run {record.id!r} cannot be re-run: a study is reproducible only with a seed and a named sampler "
            "(this one has none, or was run with an older version)."
        )
    cls, ranges, constraints = _space_args(store, record, spec)
    for m in spec["metrics"]:
        _objective(record, m, "maximize")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return study(bars_of(store, record), cls, metric=spec["metrics"], goal=spec["goals"], sampler=spec["sampler"],
                 n_trials=spec["n_trials"], seed=spec["seed"], batch_size=spec["batch_size"], constraint=constraints,
                 config=BacktestConfig(**spec["config"]), engine=spec["engine"], **ranges)


# -- verifying ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One comparison of :func:`verify`: ``what`` (``metric``, ``artifact``, ``trials``, ``id``),
    its ``name``, whether it is ``equal`` bit for bit, and where it differs first."""

    what: str
    name: str
    equal: bool
    detail: str = ""


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify` found: every metric and artifact of the stored run against the re-run.

    Attributes
    ----------
    run_id, kind : str
    checks : tuple of Check
        One per metric, artifact, the trials of a search, and the run id.
    skipped : tuple of str
        Figures that measure time (``elapsed_s``), which no re-run reproduces.
    """

    run_id: str
    kind: str
    checks: tuple[Check, ...]
    skipped: tuple[str, ...] = ()

    @property
    def equal(self) -> bool:
        """Whether every check is equal."""
        return all(c.equal for c in self.checks)

    @property
    def differences(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.equal)

    def __bool__(self) -> bool:
        return self.equal

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([c.__dict__ for c in self.checks],
                            schema={"what": pl.String, "name": pl.String, "equal": pl.Boolean, "detail": pl.String})

    def __repr__(self) -> str:
        head = f"VerifyReport({self.run_id}, {self.kind}: {len(self.checks)} checks, "
        if self.equal:
            return head + "all equal)"
        shown = "; ".join(f"{c.what} {c.name}: {c.detail}" for c in self.differences[:5])
        return head + f"{len(self.differences)} differ: {shown})"


def verify(store: Store, run_id: str) -> VerifyReport:
    """Re-run ``run_id`` and compare every stored metric and artifact with the fresh result."""
    record = store.run(run_id)
    fresh = rerun(store, record.id)
    checks: list[Check] = []
    spec = record.spec
    if spec.get("method") == "study":
        fresh_id = _study_checks(store, record, fresh, checks)
    elif spec.get("kind") == "optimization":
        fresh_id = fresh.run_id
        _metric_checks(record.metrics, fresh.summary(), checks)
        checks.append(_trials_check(store.trials(record.id), fresh.frame.rename({"set": "number"}), fresh.params))
    else:
        fresh_id = fresh.run_id
        _metric_checks(record.metrics, fresh.stats.to_dict(), checks)
        tables = fresh.tables()
        for name in sorted(set(record.artifacts) - {"strategy", "bars"}):
            stored = store.load_artifact(record.id, name)
            same = _frames_equal(stored, tables[name]) if name in tables else (False, "not made by the re-run")
            checks.append(Check("artifact", name, *same))
    checks.append(Check("id", "run_id", fresh_id == record.id, "" if fresh_id == record.id else f"re-run id {fresh_id}"))
    return VerifyReport(record.id, record.kind, tuple(checks), tuple(sorted(_TIMINGS & set(record.metrics))))


def _metric_checks(stored: dict[str, Any], fresh: dict[str, Any], checks: list[Check]) -> None:
    flat_s, flat_f = _flatten(stored), _flatten(to_json_value(fresh, name="metrics"))
    for key in sorted(set(flat_s) | set(flat_f)):
        if key.split(".")[-1] in _TIMINGS:
            continue
        a, b = flat_s.get(key, "<missing>"), flat_f.get(key, "<missing>")
        same = json.dumps(a) == json.dumps(b)
        checks.append(Check("metric", key, same, "" if same else f"stored {a!r}, re-run {b!r}"))


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _frames_equal(a: pl.DataFrame, b: pl.DataFrame) -> tuple[bool, str]:
    if a.columns != b.columns:
        return False, f"columns {a.columns} vs {b.columns}"
    if a.height != b.height:
        return False, f"{a.height} rows stored, {b.height} re-run"
    for col in a.columns:
        same, where = _series_equal(a[col], b[col])
        if not same:
            return False, f"column {col!r} first differs at row {where}"
    return True, ""


def _series_equal(a: pl.Series, b: pl.Series) -> tuple[bool, int]:
    if a.dtype.is_float() and b.dtype.is_float():
        x = np.ascontiguousarray(a.cast(pl.Float64).to_numpy()).view(np.int64)
        y = np.ascontiguousarray(b.cast(pl.Float64).to_numpy()).view(np.int64)
        nan = np.isnan(a.cast(pl.Float64).to_numpy()) & np.isnan(b.cast(pl.Float64).to_numpy())
        bad = (x != y) & ~nan
        return (not bad.any(), int(np.argmax(bad)) if bad.any() else -1)
    if a.dtype != b.dtype:
        try:
            b = b.cast(a.dtype)
        except pl.exceptions.PolarsError:
            return False, 0
    bad = ~(a == b).fill_null(False) & ~(a.is_null() & b.is_null())
    return (not bad.any(), int(bad.arg_max() or 0) if bad.any() else -1)


def _trials_check(stored: pl.DataFrame, fresh: pl.DataFrame, params: tuple[str, ...]) -> Check:
    """The stored trials (metrics as JSON: NaN read back as null) against the fresh sets."""
    fresh = fresh.sort("number")
    stored = stored.sort("number")
    cols = [c for c in fresh.columns if c in stored.columns or f"metric_{c}" in stored.columns]
    stored = stored.select([pl.col(c if c in stored.columns else f"metric_{c}").alias(c) for c in cols])
    fresh = fresh.select(cols).with_columns(pl.col(c).fill_nan(None) for c in cols if fresh[c].dtype.is_float())
    same, detail = _frames_equal(stored.with_columns(pl.col(c).cast(fresh[c].dtype) for c in cols), fresh)
    return Check("trials", f"{fresh.height} sets", same, detail)


def _study_checks(store: Store, record: RunRecord, fresh: Any, checks: list[Check]) -> str:
    from workbench.optimize.persist import study_rows

    rows = study_rows(fresh, list(record.spec["metrics"]))
    stored = store.trials(record.id).sort("number")
    cols = ["number", "state", "value", *sorted({k for r in rows for k in r["params"]})]
    frame = pl.DataFrame([{"number": r["number"], "state": r["state"], "value": r["value"], **r["params"]}
                          for r in rows]).sort("number")
    frame = frame.with_columns(pl.col("value").cast(pl.Float64).fill_nan(None))
    stored = stored.select([c for c in cols if c in stored.columns])
    same, detail = _frames_equal(stored.with_columns(pl.col(c).cast(frame[c].dtype) for c in stored.columns),
                                 frame.select(stored.columns))
    checks.append(Check("trials", f"{frame.height} trials", same, detail))
    return record.id if same else f"{record.id} (trials differ)"
