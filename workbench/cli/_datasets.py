"""Finding bars by name: a file, a dataset registered in the store, or a sample dataset."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

import workbench.data as wd
from workbench.errors import InvalidParameterError, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    from workbench.store import DatasetRecord, Store

__all__ = ["Loaded", "resolve", "import_file", "copy_path", "check_name"]

_FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class Loaded:
    """Bars found by :func:`resolve`: the frame, a display name, where they came from, and the
    store's record when the name is registered."""

    bars: pl.DataFrame
    name: str
    source: str
    record: DatasetRecord | None = None


def check_name(name: str) -> str:
    """Return ``name`` if it can name a dataset (letters, digits, ``_.-``; it names a file too).

    >>> check_name("goog-daily")
    'goog-daily'
    >>> check_name("../x")
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `--name` must start with a letter or digit and hold only letters, digits, '_', '.' and '-' (at most 128); got '../x'.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidParameterError(
            "`--name` must start with a letter or digit and hold only letters, digits, '_', '.' and '-' "
            f"(at most 128); got {name!r}."
        )
    return name


def copy_path(name: str) -> Path:
    """Where the imported copy of dataset ``name`` is kept: ``$WORKBENCH_HOME/datasets/<name>.parquet``."""
    from workbench.store.datasets import copy_path as _copy_path

    return _copy_path(check_name(name))


def _looks_like_file(ref: str) -> bool:
    path = Path(ref).expanduser()
    return path.is_file() or path.suffix.lower() in _FILE_SUFFIXES or "/" in ref or "\\" in ref


def resolve(ref: str, *, store: Store, symbol: str | None = None, tz: str = "UTC") -> Loaded:
    """Load the bars ``ref`` names: a CSV/Parquet file, else a dataset registered in ``store``,
    else a sample dataset (case-insensitive).

    A registered dataset is read from its imported copy (or its source) and must still have the
    content hash it was registered with.

    Raises
    ------
    InvalidParameterError
        When ``ref`` is none of these (the message lists the names and the closest one).
    DataValidationError
        When the file breaks the bar contract, or a registered dataset changed.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise InvalidParameterError(f"`--data` must be a file, a dataset name or a sample name; got {ref!r}.")
    if _looks_like_file(ref):
        path = Path(ref).expanduser()
        return Loaded(wd.load(path, symbol=symbol, tz=tz), path.stem, str(path.resolve()))
    record = _registered(store, ref)
    if record is not None:
        return Loaded(_load_registered(record), record.name, record.source, record)
    if ref.upper() in wd.samples()["name"].to_list():
        name = ref.upper()
        return Loaded(wd.sample(name), name, f"sample:{name}")
    registered = store.datasets()["name"].to_list()
    choices = sorted(set(registered) | set(wd.samples()["name"].to_list()))
    raise InvalidParameterError(
        f"`--data` {ref!r} is not a file, a registered dataset or a sample.{did_you_mean(ref, choices)} "
        f"Known names: {', '.join(choices)}. Fix: give a CSV/Parquet path or one of those names "
        "(`workbench data list`)."
    )


def _registered(store: Store, name: str) -> DatasetRecord | None:
    return store.dataset(name) if name in store.datasets()["name"].to_list() else None


def _load_registered(record: DatasetRecord) -> pl.DataFrame:
    from workbench.store.datasets import load_registered

    return load_registered(record)


def import_file(store: Store, path: Path, *, name: str, symbol: str | None = None,
                tz: str = "UTC") -> tuple[DatasetRecord, Path]:
    """Load and validate the bars in ``path``, keep a Parquet copy under ``$WORKBENCH_HOME/datasets``
    and register them in ``store`` as ``name``.

    Returns
    -------
    (DatasetRecord, Path)
        The record and the copy's path.
    """
    from workbench.demo import register_bars

    check_name(name)
    path = Path(path).expanduser()
    bars = wd.load(path, symbol=symbol, tz=tz)
    copy = copy_path(name)
    copy.parent.mkdir(parents=True, exist_ok=True)
    tmp = copy.with_suffix(".parquet.tmp")
    bars.write_parquet(tmp)
    tmp.replace(copy)
    return register_bars(store, name, bars, source=str(path.resolve())), copy
