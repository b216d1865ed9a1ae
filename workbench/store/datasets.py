"""Reading back the bars a dataset record or a run refers to."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from workbench._paths import workbench_home
from workbench.errors import DataValidationError

if TYPE_CHECKING:
    from workbench.store.records import DatasetRecord

__all__ = ["copy_path", "load_registered"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def copy_path(name: str) -> Path:
    """Where the imported copy of dataset ``name`` is kept: ``$WORKBENCH_HOME/datasets/<name>.parquet``."""
    return workbench_home() / "datasets" / f"{name}.parquet"


def load_registered(record: DatasetRecord) -> pl.DataFrame:
    """The bars of a registered dataset: its sample, its imported copy or its source file,
    checked against the content hash it was registered with.

    Raises
    ------
    DataValidationError
        The bars changed since they were registered (the message gives the command that
        registers them again).
    """
    import workbench.data as wd

    if record.source.startswith("sample:"):
        bars = wd.sample(record.source.removeprefix("sample:"))
    else:
        copy = copy_path(record.name) if _NAME.match(record.name) else None
        if copy is not None and copy.is_file():
            bars = wd.validate(pl.read_parquet(copy))
        else:
            bars = wd.load(record.source)
            if "symbol" not in bars.columns and len(record.symbols) == 1 and wd.content_hash(bars) != record.content_hash:
                bars = wd.load(record.source, symbol=record.symbols[0])  # imported with --symbol
    digest = wd.content_hash(bars)
    if digest != record.content_hash:
        raise DataValidationError(
            f"dataset {record.name!r} changed since it was registered: its content hash is now "
            f"{digest[:12]}, the store has {record.content_hash[:12]}. Fix: register it again with "
            f"`workbench data import {record.source} --name {record.name}`."
        )
    return bars
