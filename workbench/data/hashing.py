"""A content hash of a dataset that is stable across file formats."""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from workbench.data.schema import BAR_COLUMNS, SYMBOL, TS
from workbench.data.validate import validate

__all__ = ["content_hash"]


def content_hash(bars: pl.DataFrame, *, check: bool = True) -> str:
    """A 32-hex-digit hash of the bars' content: timestamps (as UTC instants), symbols and values.

    The same bars read from CSV, Parquet or a DataFrame hash the same; the row order of symbols
    and the timestamps' display timezone do not matter. The bars, in ``ts`` order, are validated first
    (``check=False`` skips that, for bars the caller has already checked).

    Raises
    ------
    DataValidationError
        When the bars break the contract (see :func:`workbench.data.validate`).

    Examples
    --------
    >>> import workbench.data as wd
    >>> bars = wd.synthetic(50, seed=3)
    >>> content_hash(bars) == content_hash(bars.reverse().sort("ts"))
    True
    >>> len(content_hash(bars))
    32
    """
    key = [SYMBOL] if SYMBOL in bars.columns else []
    frame = bars.sort([*key, TS]) if TS in bars.columns else bars
    if check:
        frame = validate(frame)
    h = hashlib.blake2b(digest_size=16)
    h.update(b"workbench-bars-v1")
    ts = frame[TS].dt.convert_time_zone("UTC").dt.epoch("us").to_numpy()
    h.update(np.ascontiguousarray(ts, dtype="<i8").tobytes())
    if key:
        h.update("\x00".join(frame[SYMBOL].to_list()).encode())
    for col in BAR_COLUMNS:
        values = np.ascontiguousarray(frame[col].to_numpy(), dtype="<f8")
        h.update(col.encode())
        h.update(values.tobytes())
    return h.hexdigest()
