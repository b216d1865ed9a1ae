"""Listings of the store as polars DataFrames (typed even when empty)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

__all__ = ["DATASET_SCHEMA", "RUN_SCHEMA", "datasets_frame", "runs_frame", "flatten_metrics"]

_UTC = pl.Datetime("us", "UTC")

DATASET_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "name": pl.String(),
    "source": pl.String(),
    "content_hash": pl.String(),
    "symbols": pl.List(pl.String()),
    "rows": pl.Int64(),
    "start": _UTC,
    "end": _UTC,
    "frequency": pl.String(),
    "periods_per_year": pl.Float64(),
    "created_at": _UTC,
    "updated_at": _UTC,
}

RUN_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "kind": pl.String(),
    "name": pl.String(),
    "status": pl.String(),
    "parent_id": pl.String(),
    "dataset_hash": pl.String(),
    "workbench_version": pl.String(),
    "created_at": _UTC,
    "started_at": _UTC,
    "finished_at": _UTC,
    "duration_s": pl.Float64(),
    "error": pl.String(),
    "artifacts": pl.List(pl.String()),
    "spec": pl.String(),
    "heartbeat_at": _UTC,
    "resume": pl.String(),
}


def datasets_frame(rows: Sequence[Mapping[Any, Any]]) -> pl.DataFrame:
    """One row per dataset with :data:`DATASET_SCHEMA`."""
    columns = {name: [row[name] for row in rows] for name in DATASET_SCHEMA}
    return pl.DataFrame(
        [pl.Series(name, values, dtype=DATASET_SCHEMA[name]) for name, values in columns.items()]
    )


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metric dicts flattened with dotted keys.

    >>> flatten_metrics({"sharpe": 1.0, "dd": {"max": -0.2, "days": 30}})
    {'sharpe': 1.0, 'dd.max': -0.2, 'dd.days': 30}
    """
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping) and value:
            out.update(flatten_metrics(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _metric_series(name: str, values: list[Any]) -> pl.Series:
    present = [v for v in values if v is not None]
    if all(isinstance(v, bool) for v in present) and present:
        return pl.Series(name, values, dtype=pl.Boolean())
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pl.Series(name, [None if v is None else float(v) for v in values], dtype=pl.Float64())
    text = [None if v is None else v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in values]
    return pl.Series(name, text, dtype=pl.String())


def runs_frame(rows: Sequence[Mapping[Any, Any]]) -> pl.DataFrame:
    """One row per run with :data:`RUN_SCHEMA`, then one column per (flattened) metric."""
    series = []
    for name, dtype in RUN_SCHEMA.items():
        if name == "artifacts":
            values: list[Any] = [sorted(row["artifacts"]) for row in rows]
        else:
            values = [row[name] for row in rows]
        series.append(pl.Series(name, values, dtype=dtype))
    flat = [flatten_metrics(row["metrics"]) for row in rows]
    keys = list(dict.fromkeys(key for metrics in flat for key in metrics))
    used = set(RUN_SCHEMA) | set(keys)
    for key in keys:
        column = key
        while key in RUN_SCHEMA and column in used:
            column = f"metric_{column}"
        used.add(column)
        series.append(_metric_series(column, [metrics.get(key) for metrics in flat]))
    return pl.DataFrame(series)
