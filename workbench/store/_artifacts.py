"""Parquet artifacts of runs: ``<artifacts_dir>/<run_id>/<name>.parquet``.

A run's artifacts are written to a staging directory first and swapped into place only after
the database row is committed, so a failed save leaves the previous artifacts untouched.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from workbench.errors import InvalidParameterError

__all__ = ["check_name", "relative_path", "stage", "install", "remove", "discard"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_STAGING = ".staging"


def check_name(what: str, value: Any) -> str:
    """Return ``value`` if it is a safe file name (letters, digits, ``_.-``; at most 128 chars).

    >>> check_name("run_id", "9f2c")
    '9f2c'
    >>> check_name("artifact name", "../x")
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `artifact name` must be 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit; got '../x'.
    """
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidParameterError(
            f"`{what}` must be 1-128 letters, digits, '_', '.' or '-', starting with a letter or "
            f"digit; got {value!r}."
        )
    return value


def relative_path(run_id: str, name: str) -> str:
    """The artifact's path relative to the artifacts directory, with forward slashes."""
    return f"{run_id}/{name}.parquet"


def _as_frame(name: str, frame: Any) -> pl.DataFrame:
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if type(frame).__module__.startswith("pandas") and hasattr(frame, "columns"):
        from workbench._extras import require

        require("pandas", "pyarrow")
        return pl.from_pandas(frame)
    raise InvalidParameterError(
        f"artifact `{name}` must be a polars DataFrame; got {type(frame).__name__}. "
        f"Convert it with pl.DataFrame(...) or pl.from_pandas(...)."
    )


def stage(root: Path, run_id: str, frames: Mapping[str, Any]) -> tuple[Path | None, dict[str, str]]:
    """Write ``frames`` into a fresh staging directory; return it and name → relative path."""
    if not isinstance(frames, Mapping):
        raise InvalidParameterError(
            f"`artifacts` must be a dict of name → polars DataFrame; got {type(frames).__name__}."
        )
    converted = {check_name("artifact name", name): _as_frame(name, f) for name, f in frames.items()}
    if not converted:
        return None, {}
    staging = root / _STAGING / f"{run_id}-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        for name, frame in converted.items():
            frame.write_parquet(staging / f"{name}.parquet")
    except BaseException:
        discard(staging)
        raise
    return staging, {name: relative_path(run_id, name) for name in converted}


def install(root: Path, run_id: str, staging: Path | None) -> None:
    """Make ``staging`` the run's artifacts directory, replacing (or, if None, removing) the old one."""
    target = root / run_id
    trash = root / _STAGING / f"trash-{run_id}-{uuid.uuid4().hex}"
    if target.exists():
        trash.parent.mkdir(parents=True, exist_ok=True)
        target.rename(trash)
    if staging is not None:
        staging.rename(target)
    discard(trash)


def remove(root: Path, run_id: str) -> None:
    """Delete the run's artifacts directory, if any."""
    install(root, run_id, None)


def discard(path: Path | None) -> None:
    """Delete a staging or trash directory, ignoring one that is already gone."""
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
