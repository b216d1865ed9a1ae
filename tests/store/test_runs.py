"""Runs: save/replace, canonical JSON, NaN metrics, artifacts, prefix lookup, filters, updates,
deletion — on every backend."""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from pathlib import Path

import numpy as np
import polars as pl
import pydantic
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import workbench
from workbench.errors import InvalidParameterError, StoreError
from workbench.store import RunRecord, Store

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _raw(store: Store, column: str, run_id: str) -> str:
    """The column's text as the database holds it."""
    with store.engine.connect() as conn:
        cast = sa.cast(sa.column(column), sa.Text)
        query = sa.select(cast).select_from(sa.table("runs")).where(sa.column("id") == run_id)
        return conn.execute(query).scalar_one()


def test_save_and_read_back(store: Store):
    rec = store.save_run(
        "abc123", kind="backtest", spec={"strategy": "sma", "params": {"slow": 50, "fast": 10}},
        dataset_hash="c0ffee", metrics={"sharpe": 1.5, "trades": 12}, name="first try",
        started_at=T0, finished_at=T0 + dt.timedelta(seconds=90),
    )
    assert isinstance(rec, RunRecord)
    assert store.run("abc123") == rec
    assert rec.spec == {"strategy": "sma", "params": {"slow": 50, "fast": 10}}
    assert (rec.kind, rec.status, rec.name, rec.dataset_hash) == ("backtest", "succeeded", "first try", "c0ffee")
    assert rec.metrics == {"sharpe": 1.5, "trades": 12}
    assert rec.workbench_version == workbench.__version__
    assert rec.started_at == T0 and rec.duration_s == 90.0
    assert rec.artifacts == {} and rec.error is None and rec.parent_id is None


def test_spec_is_canonical_json_with_sorted_keys(store: Store):
    spec = {"b": [3, {"z": 1, "a": 2}], "a": "é", "c": None}
    a = store.save_run("r-a", kind="backtest", spec=spec)
    b = store.save_run("r-b", kind="backtest", spec=dict(reversed(list(spec.items()))))
    expected = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert a.spec_json == b.spec_json == expected == _raw(store, "spec", "r-a")


def test_numpy_values_become_plain_json(store: Store):
    rec = store.save_run("np1", kind="backtest", spec={"w": np.int64(5), "x": np.arange(3)},
                         metrics={"m": np.float64(0.5), "flag": np.bool_(True)})
    assert rec.spec == {"w": 5, "x": [0, 1, 2]}
    assert rec.metrics == {"m": 0.5, "flag": True}


def test_nonfinite_metrics_are_stored_as_null(store: Store):
    metrics = {"sharpe": float("nan"), "calmar": float("inf"), "sortino": -math.inf, "cagr": 0.1,
               "nested": {"x": float("nan"), "y": 2.0}}
    rec = store.save_run("nan1", kind="backtest", spec={}, metrics=metrics)
    expected = {"sharpe": None, "calmar": None, "sortino": None, "cagr": 0.1,
                "nested": {"x": None, "y": 2.0}}
    assert rec.metrics == expected == store.run("nan1").metrics
    raw = _raw(store, "metrics", "nan1")
    assert "NaN" not in raw and "Infinity" not in raw
    assert json.loads(raw) == expected


def test_nonfinite_spec_values_are_refused(store: Store):
    with pytest.raises(InvalidParameterError, match=r"`spec\['fee'\]` must be a finite number"):
        store.save_run("bad", kind="backtest", spec={"fee": float("nan")})
    with pytest.raises(InvalidParameterError, match=r"`spec\['when'\]` must be JSON data"):
        store.save_run("bad", kind="backtest", spec={"when": object()})
    assert store.runs().height == 0


def _sample_frames() -> dict[str, pl.DataFrame]:
    ts = pl.datetime_range(T0, T0 + dt.timedelta(days=4), "1d", time_zone="UTC", eager=True)
    equity = pl.DataFrame({"ts": ts, "equity": [100.0, 101.5, None, 99.0, float("nan")]})
    trades = pl.DataFrame({
        "symbol": ["AAPL", "MSFT", None],
        "size": pl.Series([10, -5, 3], dtype=pl.Int64),
        "pnl": [1.25, -0.5, 0.0],
        "open": [True, False, True],
    })
    return {"equity": equity, "trades": trades}


def test_artifacts_round_trip_as_parquet(store: Store, tmp_path: Path):
    frames = _sample_frames()
    rec = store.save_run("art1", kind="backtest", spec={}, artifacts=frames)
    assert rec.artifacts == {"equity": "art1/equity.parquet", "trades": "art1/trades.parquet"}
    for name, frame in frames.items():
        path = tmp_path / "artifacts" / "art1" / f"{name}.parquet"
        assert path.is_file()
        assert_frame_equal(pl.read_parquet(path), frame)
        assert_frame_equal(store.load_artifact("art1", name), frame)
    assert store.runs()["artifacts"].to_list() == [["equity", "trades"]]


def test_resaving_an_id_replaces_row_and_artifacts(store: Store, tmp_path: Path):
    store.save_run("same", kind="backtest", spec={"v": 1}, metrics={"a": 1.0},
                   artifacts=_sample_frames(), name="old")
    new_equity = pl.DataFrame({"equity": [1.0, 2.0]})
    rec = store.save_run("same", kind="backtest", spec={"v": 2}, metrics={"b": 2.0},
                         artifacts={"equity": new_equity}, status="failed", error="boom")
    assert store.runs().height == 1
    assert store.run("same") == rec
    assert (rec.spec, rec.metrics, rec.status, rec.error, rec.name) == ({"v": 2}, {"b": 2.0}, "failed", "boom", None)
    assert rec.artifacts == {"equity": "same/equity.parquet"}
    assert_frame_equal(store.load_artifact("same", "equity"), new_equity)
    assert sorted(p.name for p in (tmp_path / "artifacts" / "same").iterdir()) == ["equity.parquet"]
    store.save_run("same", kind="backtest", spec={"v": 3})
    assert not (tmp_path / "artifacts" / "same").exists()


def test_failed_save_keeps_previous_artifacts(store: Store):
    store.save_run("keep", kind="backtest", spec={}, artifacts={"equity": pl.DataFrame({"x": [1]})})
    with pytest.raises(StoreError, match="`parent_id` 'nope' is not a run"):
        store.save_run("keep", kind="backtest", spec={}, parent_id="nope",
                       artifacts={"equity": pl.DataFrame({"x": [2]})})
    assert store.load_artifact("keep", "equity")["x"].to_list() == [1]
    staging = store.artifacts_dir / ".staging"
    assert not staging.exists() or list(staging.iterdir()) == []


def test_bad_artifacts_are_named(store: Store):
    with pytest.raises(InvalidParameterError, match="artifact `eq` must be a polars DataFrame"):
        store.save_run("a", kind="backtest", spec={}, artifacts={"eq": [1, 2]})
    with pytest.raises(InvalidParameterError, match="`artifact name` must be"):
        store.save_run("a", kind="backtest", spec={}, artifacts={"../eq": pl.DataFrame()})
    with pytest.raises(InvalidParameterError, match="`run_id` must be"):
        store.save_run("a/b", kind="backtest", spec={})


def test_unknown_artifact_name_suggests_the_closest(store: Store):
    store.save_run("art2", kind="backtest", spec={}, artifacts=_sample_frames())
    with pytest.raises(StoreError, match=r"no artifact 'equty'\. Did you mean 'equity'\?"):
        store.load_artifact("art2", "equty")


def test_missing_artifact_file_is_reported(store: Store):
    store.save_run("art3", kind="backtest", spec={}, artifacts=_sample_frames())
    (store.artifacts_dir / "art3" / "trades.parquet").unlink()
    with pytest.raises(StoreError, match="artifact file .* is missing"):
        store.load_artifact("art3", "trades")


def test_lookup_by_unique_prefix_like_git(store: Store):
    store.save_run("9f2c41aa", kind="backtest", spec={})
    store.save_run("9f2d0000", kind="backtest", spec={})
    store.save_run("9f2", kind="backtest", spec={})
    assert store.run("9f2c").id == "9f2c41aa"
    assert store.run("9f2d").id == "9f2d0000"
    assert store.run("9f2").id == "9f2"  # an exact id wins over longer ids it prefixes
    with pytest.raises(StoreError) as info:
        store.run("9f")
    assert "'9f' is ambiguous" in str(info.value)
    assert "'9f2c41aa'" in str(info.value) and "'9f2d0000'" in str(info.value)


def test_prefix_wildcards_are_literal(store: Store):
    store.save_run("a_b", kind="backtest", spec={})
    store.save_run("axb1", kind="backtest", spec={})
    assert store.run("a_").id == "a_b"


def test_unknown_id_names_it_and_suggests(store: Store):
    store.save_run("9f2c41aa", kind="backtest", spec={})
    with pytest.raises(StoreError) as info:
        store.run("9f2c41ab")
    message = str(info.value)
    assert "No run with id or id prefix '9f2c41ab'" in message
    assert "Did you mean '9f2c41aa'?" in message
    with pytest.raises(StoreError, match="No run with id or id prefix 'zzz'"):
        store.run("zzz")


def test_filters_order_and_limit(store: Store):
    for i, (kind, status) in enumerate(
        [("backtest", "succeeded"), ("optimization", "running"), ("backtest", "failed"),
         ("backtest", "succeeded"), ("portfolio", "succeeded")]
    ):
        store.save_run(f"run{i}", kind=kind, spec={"i": i}, status=status, metrics={"i": i})
    assert store.runs()["id"].to_list() == ["run4", "run3", "run2", "run1", "run0"]
    assert store.runs(kind="backtest")["id"].to_list() == ["run3", "run2", "run0"]
    assert store.runs(status="succeeded")["id"].to_list() == ["run4", "run3", "run0"]
    assert store.runs(kind="backtest", status="succeeded", limit=1)["id"].to_list() == ["run3"]
    assert store.runs(kind="nothing").height == 0
    with pytest.raises(InvalidParameterError, match="Did you mean 'succeeded'"):
        store.runs(status="succeded")
    with pytest.raises(InvalidParameterError, match="`limit` must be an integer"):
        store.runs(limit=0)


def test_metrics_are_flattened_into_columns(store: Store):
    store.save_run("m1", kind="backtest", spec={}, metrics={"sharpe": 1.0, "dd": {"max": -0.2},
                                                             "status": "x", "ok": True})
    store.save_run("m2", kind="backtest", spec={}, metrics={"sharpe": float("nan"), "trades": 3})
    frame = store.runs().sort("id")
    assert frame["sharpe"].dtype == pl.Float64
    assert frame["sharpe"].to_list() == [1.0, None]
    assert frame["trades"].to_list() == [None, 3.0]
    assert frame["dd.max"].to_list() == [-0.2, None]
    assert frame["ok"].to_list() == [True, None]
    assert frame["metric_status"].to_list() == ["x", None]
    assert frame["status"].to_list() == ["succeeded", "succeeded"]
    assert frame.schema["created_at"] == pl.Datetime("us", "UTC")


def test_empty_listing_has_the_run_columns(store: Store):
    frame = store.runs()
    assert frame.height == 0
    assert frame.columns[:4] == ["id", "kind", "name", "status"]


def test_update_run_status_transitions(store: Store):
    store.save_run("job1", kind="backtest", spec={}, status="queued")
    running = store.update_run("job1", status="running")
    assert running.status == "running" and running.started_at is not None
    assert running.finished_at is None and running.duration_s is None
    done = store.update_run("job", status="succeeded", metrics={"sharpe": float("inf")})
    assert done.status == "succeeded" and done.metrics == {"sharpe": None}
    assert done.finished_at >= done.started_at == running.started_at
    assert done.duration_s == (done.finished_at - done.started_at).total_seconds()
    timed = store.update_run("job1", started_at=T0, finished_at=T0 + dt.timedelta(seconds=5))
    assert timed.duration_s == 5.0
    assert store.run("job1") == timed


def test_update_run_rejects_unknown_fields_and_values(store: Store):
    store.save_run("job2", kind="backtest", spec={}, status="queued")
    with pytest.raises(InvalidParameterError, match="`stauts` is not a field.*Did you mean 'status'"):
        store.update_run("job2", stauts="running")
    with pytest.raises(InvalidParameterError, match="`status` must be one of"):
        store.update_run("job2", status="done")
    with pytest.raises(InvalidParameterError, match="`finished_at` must not be before"):
        store.update_run("job2", started_at=T0, finished_at=T0 - dt.timedelta(seconds=1))
    with pytest.raises(StoreError, match="No run with id or id prefix 'nope'"):
        store.update_run("nope", status="running")
    assert store.run("job2").status == "queued"


def test_children_and_cascading_delete(store: Store):
    store.save_run("opt", kind="optimization", spec={}, artifacts={"grid": pl.DataFrame({"x": [1]})})
    for i in range(3):
        store.save_run(f"trial{i}", kind="trial", spec={"i": i}, parent_id="opt",
                       artifacts={"equity": pl.DataFrame({"x": [i]})})
    store.save_run("sub", kind="trial", spec={}, parent_id="trial0")
    store.save_run("other", kind="backtest", spec={})
    assert store.runs(parent_id="opt")["id"].sort().to_list() == ["trial0", "trial1", "trial2"]
    assert store.run("trial1").parent_id == "opt"
    store.delete_run("opt")
    assert store.runs()["id"].to_list() == ["other"]
    assert not any((store.artifacts_dir / rid).exists() for rid in ["opt", "trial0", "trial1"])


def test_delete_needs_the_full_id(store: Store):
    store.save_run("9f2c41aa", kind="backtest", spec={})
    with pytest.raises(StoreError, match="needs the full id. Did you mean '9f2c41aa'"):
        store.delete_run("9f2c")
    with pytest.raises(StoreError, match="Cannot delete run 'zz'"):
        store.delete_run("zz")
    assert store.runs().height == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"status": "succeded"}, "Did you mean 'succeeded'"),
        ({"kind": ""}, "`kind` must be a non-empty string"),
        ({"spec": [1]}, "`spec` must be a dict"),
        ({"metrics": 1.0}, "`metrics` must be a dict"),
        ({"started_at": dt.datetime(2024, 1, 1)}, "`started_at` must be a timezone-aware"),
        ({"parent_id": "r"}, "`parent_id` must differ from `run_id`"),
    ],
)
def test_invalid_run_fields_are_named(store: Store, kwargs: dict, match: str):
    args = {"kind": "backtest", "spec": {}, **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        store.save_run("r", **args)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_run_records_are_frozen_and_spec_is_a_copy(store: Store):
    rec = store.save_run("f1", kind="backtest", spec={"a": 1})
    with pytest.raises(pydantic.ValidationError):
        rec.status = "failed"  # type: ignore[misc]
    rec.spec["a"] = 2
    assert rec.spec == {"a": 1}


_finite_or_not = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**9, 10**9))
_metrics = st.dictionaries(st.text(min_size=1, max_size=8), _finite_or_not, max_size=6)
_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9),
                       st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
_spec = st.recursive(_json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=10)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metrics=_metrics, spec=st.dictionaries(st.text(max_size=5), _spec, max_size=4))
def test_json_round_trip_property(store: Store, metrics: dict, spec: dict):
    """Reference: a non-finite float reads back as None, everything else unchanged."""
    run_id = uuid.uuid4().hex
    rec = store.save_run(run_id, kind="backtest", spec=spec, metrics=metrics)
    expected = {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in metrics.items()}
    got = store.run(run_id)
    assert got.metrics == expected == rec.metrics
    assert got.spec == spec
    assert got.spec_json == json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
