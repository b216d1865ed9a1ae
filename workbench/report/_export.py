"""Exports of a run's frames and figures as CSV, Parquet and JSON, and the reader that gives the
same frames back.

Layout of an export directory (version 1)::

    manifest.json            {"format": "workbench-export", "version": 1, "kind", "run_id",
                              "workbench_version", "formats": [...],
                              "frames": {name: {"rows": n, "schema": {column: dtype}}}}
    <frame>.csv              header row; datetimes ISO 8601 with offset and microseconds;
                             NaN as ``NaN``, ±inf as ``inf``/``-inf``, null as an empty field
    <frame>.parquet          as polars writes it
    <frame>.json             {"format": "workbench-frame", "version": 1, "name", "schema",
                              "columns": {column: [values]}}: datetimes as integer microseconds
                             since the epoch (UTC), NaN/±inf as the strings "NaN"/"Infinity"/
                             "-Infinity", null as null

``stats`` is a frame too: one row, one column per figure (nested names joined by ``.``).
dtypes are written as ``Float64``, ``Int64``, ``Boolean``, ``String``, ``Date`` or
``Datetime[us, UTC]`` (unit, time zone or ``-`` for none).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from workbench._version import __version__
from workbench.errors import DataValidationError, InvalidParameterError, did_you_mean
from workbench.report._atomic import atomic_directory, atomic_write

__all__ = ["export_frames", "read_export", "FORMATS", "EXPORT_VERSION"]

FORMATS = ("csv", "parquet", "json")
EXPORT_VERSION = 1
_ISO = "%Y-%m-%dT%H:%M:%S%.6f"


def _dtype_name(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Datetime):
        return f"Datetime[{dtype.time_unit}, {dtype.time_zone or '-'}]"
    return str(dtype)


def _dtype_of(name: str) -> pl.DataType:
    if name.startswith("Datetime["):
        unit, tz = (p.strip() for p in name[9:-1].split(","))
        return pl.Datetime(unit, None if tz == "-" else tz)  # type: ignore[arg-type]
    try:
        return getattr(pl, name)()
    except (AttributeError, TypeError):
        raise DataValidationError(f"the export's schema names an unknown dtype {name!r}.") from None


def _flat(stats: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in stats.items():
        if isinstance(v, dict):
            out |= _flat(v, f"{prefix}{k}.")
        elif isinstance(v, (list, tuple)):
            out[f"{prefix}{k}"] = json.dumps(v, default=str)
        else:
            out[f"{prefix}{k}"] = float("nan") if v is None else v
    return out


def stats_frame(stats: dict[str, Any]) -> pl.DataFrame:
    """``stats`` as a one-row frame (nested names joined by ``.``)."""
    flat = _flat(stats)
    return pl.DataFrame({k: [v] for k, v in flat.items()}, strict=False)


def check_formats(formats: Any) -> tuple[str, ...]:
    if isinstance(formats, str):
        formats = (formats,)
    try:
        fmts = tuple(formats)
    except TypeError:
        raise InvalidParameterError(f"`formats` must be a sequence of {FORMATS}; got {formats!r}.") from None
    for f in fmts:
        if f not in FORMATS:
            raise InvalidParameterError(
                f"`formats` must name only {', '.join(FORMATS)}; got {f!r}.{did_you_mean(str(f), FORMATS)}")
    if not fmts:
        raise InvalidParameterError(f"`formats` must name at least one of {FORMATS}; got none.")
    return tuple(dict.fromkeys(fmts))


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def _frame_json(name: str, frame: pl.DataFrame) -> str:
    cols: dict[str, list[Any]] = {}
    for c in frame.columns:
        s = frame[c]
        if isinstance(s.dtype, pl.Datetime):
            s = s.dt.epoch("us")
        elif s.dtype == pl.Date:
            s = s.cast(pl.Int32)
        cols[c] = [_json_value(v) for v in s.to_list()]
    body = {"format": "workbench-frame", "version": EXPORT_VERSION, "name": name,
            "schema": {c: _dtype_name(d) for c, d in frame.schema.items()}, "columns": cols}
    return json.dumps(body, separators=(",", ":"), allow_nan=False)


def _flat_only(name: str, frame: pl.DataFrame) -> None:
    nested = [c for c, d in frame.schema.items() if d.is_nested()]
    if nested:
        raise DataValidationError(
            f"frame {name!r} has nested column(s) {', '.join(map(repr, nested))}, which CSV and JSON exports do not "
            "hold. Fix: export it with formats=('parquet',).")


def _csv_frame(frame: pl.DataFrame) -> pl.DataFrame:
    exprs = []
    for c, d in frame.schema.items():
        if isinstance(d, pl.Datetime):
            fmt = _ISO + ("%z" if d.time_zone else "")
            exprs.append(pl.col(c).dt.strftime(fmt))
        else:
            exprs.append(pl.col(c))
    return frame.select(exprs)


def export_frames(frames: dict[str, pl.DataFrame], stats: dict[str, Any], directory: Any, *,
                  formats: Iterable[str] = FORMATS, kind: str = "", run_id: str = "") -> Path:
    """Write ``frames`` and ``stats`` into ``directory`` (created; files replaced atomically)."""
    fmts = check_formats(formats)
    all_frames = dict(frames) | {"stats": stats_frame(stats)}
    for name, frame in all_frames.items():
        if "csv" in fmts or "json" in fmts:
            _flat_only(name, frame)
    with atomic_directory(directory) as root:
        for name, frame in all_frames.items():
            if "csv" in fmts:
                atomic_write(root / f"{name}.csv", lambda p, f=frame: _csv_frame(f).write_csv(p, null_value=""))
            if "parquet" in fmts:
                atomic_write(root / f"{name}.parquet", lambda p, f=frame: f.write_parquet(p))
            if "json" in fmts:
                atomic_write(root / f"{name}.json", lambda p, n=name, f=frame: Path(p).write_text(_frame_json(n, f)))
        manifest = {"format": "workbench-export", "version": EXPORT_VERSION, "kind": kind, "run_id": run_id,
                    "workbench_version": __version__, "formats": list(fmts),
                    "frames": {n: {"rows": f.height, "schema": {c: _dtype_name(d) for c, d in f.schema.items()}}
                               for n, f in all_frames.items()}}
        atomic_write(root / "manifest.json", lambda p: Path(p).write_text(json.dumps(manifest, indent=2)))
    return Path(directory)


def _from_csv(path: Path, schema: dict[str, str]) -> pl.DataFrame:
    raw = pl.read_csv(path, infer_schema=False)
    exprs = []
    for c, name in schema.items():
        d = _dtype_of(name)
        col = pl.col(c)
        if isinstance(d, pl.Datetime):
            fmt = _ISO + ("%z" if d.time_zone else "")
            e = col.str.to_datetime(fmt, time_unit=d.time_unit)
            exprs.append((e.dt.convert_time_zone(d.time_zone) if d.time_zone else e).alias(c))
        elif d == pl.Boolean:
            exprs.append(pl.when(col.is_null()).then(None).otherwise(col == "true").alias(c))
        elif d == pl.String:
            exprs.append(col)
        else:
            exprs.append(col.cast(d).alias(c))
    return raw.select(exprs) if exprs else pl.DataFrame()


def _from_json(path: Path, schema: dict[str, str]) -> pl.DataFrame:
    body = json.loads(path.read_text())
    if body.get("format") != "workbench-frame" or body.get("version") != EXPORT_VERSION:
        raise DataValidationError(f"{str(path)!r} is not a version-{EXPORT_VERSION} workbench frame.")
    special = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
    cols = {}
    for c, name in schema.items():
        d = _dtype_of(name)
        vals = body["columns"][c]
        if d.is_float():
            vals = [special.get(v, v) if isinstance(v, str) else v for v in vals]
        if isinstance(d, pl.Datetime):
            s = pl.Series(c, vals, dtype=pl.Int64).cast(pl.Datetime("us", "UTC"))
            s = s.dt.convert_time_zone(d.time_zone) if d.time_zone else s.dt.replace_time_zone(None)
            cols[c] = s.dt.cast_time_unit(d.time_unit)
        elif d == pl.Date:
            cols[c] = pl.Series(c, vals, dtype=pl.Int32).cast(pl.Date)
        else:
            cols[c] = pl.Series(c, vals, dtype=d, strict=False)
    return pl.DataFrame(cols)


def read_export(directory: Any, *, format: str | None = None) -> dict[str, pl.DataFrame]:
    """Read an export back: every frame (``stats`` included) by name, with its written dtypes.

    Parameters
    ----------
    directory : path
        A directory written by ``result.export``.
    format : {"csv", "parquet", "json"}, optional
        Which files to read (default: the first format the export holds).

    Raises
    ------
    DataValidationError
        No manifest, another layout version, or a file the manifest lists is missing.
    """
    root = Path(directory)
    mpath = root / "manifest.json"
    if not mpath.is_file():
        raise DataValidationError(f"{str(root)!r} holds no manifest.json: it is not a workbench export. "
                                  "Write one with result.export(dir) or `workbench runs export RUN_ID`.")
    manifest = json.loads(mpath.read_text())
    if manifest.get("format") != "workbench-export" or manifest.get("version") != EXPORT_VERSION:
        raise DataValidationError(f"{str(mpath)!r} is not a version-{EXPORT_VERSION} workbench export manifest.")
    fmt = format or manifest["formats"][0]
    if fmt not in manifest["formats"]:
        raise InvalidParameterError(f"`format` must be one this export holds ({', '.join(manifest['formats'])}); got {fmt!r}.")
    out = {}
    for name, info in manifest["frames"].items():
        path = root / f"{name}.{fmt}"
        if not path.is_file():
            raise DataValidationError(f"the export lists frame {name!r} but {str(path)!r} is missing.")
        if fmt == "parquet":
            out[name] = pl.read_parquet(path)
        elif fmt == "csv":
            out[name] = _from_csv(path, info["schema"])
        else:
            out[name] = _from_json(path, info["schema"])
    return out
