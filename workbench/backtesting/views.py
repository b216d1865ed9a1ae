"""Strategy views of bar frames, kept while the frames are in use and unchanged.

Research runs many backtests on one frame (parameter studies, dashboards, notebooks re-running a
cell). Converting the frame to arrays and checking the bar contract is then the same work each
time, so the view built for a frame is kept with a *stamp* of the frame: its height, column
names, dtypes and the address of every column's single buffer. A frame's data cannot change
without changing its stamp: polars buffers are shared and copied on write, and the kept view
holds the old buffers (so an in-place edit such as ``df[0, "close"] = x``, ``replace_column``
or ``extend`` gives the frame new buffers at new addresses), while a change of metadata alone
(a time zone, a reinterpreting cast) changes the dtypes. A frame that changed is converted and
checked again.

Kept: up to :data:`MAX_FRAMES` frames of up to :data:`MAX_ROWS` rows, each only while the frame
is alive (the entry holds a weak reference to it); frames whose columns come in several chunks
or without a single buffer (a string ``symbol`` column) are converted every time.

>>> import workbench.data as wd
>>> from workbench.backtesting.engine import prepare_bars
>>> bars = wd.sample("GOOG")
>>> prepare_bars(bars)[1].close is prepare_bars(bars)[1].close
True
"""

from __future__ import annotations

import weakref

import polars as pl

from workbench.strategies.base import Bars

__all__ = ["MAX_FRAMES", "MAX_ROWS", "kept", "keep", "clear"]

MAX_FRAMES = 8
"""Frames whose views are kept (the least recently kept goes first)."""
MAX_ROWS = 1 << 17
"""Largest frame (rows) whose view is kept: the arrays of a multi-symbol frame are a copy."""

_ENTRIES: dict[int, tuple[weakref.ref, tuple, Bars]] = {}


def _stamp(frame: pl.DataFrame) -> tuple | None:
    """The frame's height, names, dtypes and column buffer addresses; None when a column has
    several chunks or no single buffer."""
    try:
        ptrs = []
        for s in frame._df.get_columns():
            if s.n_chunks() != 1:
                return None
            ptrs.append(s.as_single_ptr())
    except Exception:  # noqa: BLE001  (a dtype without a single buffer, or another polars)
        return None
    return frame.height, tuple(frame.columns), tuple(frame.dtypes), tuple(ptrs)


def kept(frame: pl.DataFrame) -> Bars | None:
    """The view kept for ``frame`` if the frame has not changed since, else None."""
    entry = _ENTRIES.get(id(frame))
    if entry is None or entry[0]() is not frame or entry[1] != _stamp(frame):
        return None
    v = entry[2]
    return Bars(v.open, v.high, v.low, v.close, v.volume, v.ts, v.symbols, frame, v.time_zone, v.derived)


def keep(frame: pl.DataFrame, view: Bars) -> None:
    """Keep ``view`` (built from ``frame``) while ``frame`` lives and stays unchanged."""
    if frame.height > MAX_ROWS:
        return
    stamp = _stamp(frame)
    if stamp is None:
        return
    key = id(frame)

    def forget(ref: weakref.ref, key: int = key) -> None:
        entry = _ENTRIES.get(key)
        if entry is not None and entry[0] is ref:
            del _ENTRIES[key]

    _ENTRIES.pop(key, None)
    while len(_ENTRIES) >= MAX_FRAMES:
        _ENTRIES.pop(next(iter(_ENTRIES)))
    # the kept view holds no reference to the frame (it would never be collected)
    bare = Bars(view.open, view.high, view.low, view.close, view.volume, view.ts, view.symbols, None,
                view.time_zone, view.derived)
    _ENTRIES[key] = (weakref.ref(frame, forget), stamp, bare)


def clear() -> None:
    """Forget every kept view."""
    _ENTRIES.clear()
