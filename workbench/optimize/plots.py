"""Plots of a parameter search (hvplot / HoloViews): a heatmap of the metric over two
parameters and a parallel-coordinates view of every parameter against the metric."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from workbench._validate import check_choice

__all__ = ["heatmap", "parallel_coordinates"]

_AGG = {"max": "max", "min": "min", "mean": "mean", "median": "median"}


def _require() -> None:
    from workbench._extras import require

    require("dashboards", "hvplot", "pandas", "pyarrow")


def heatmap(frame: pl.DataFrame, x: str, y: str, metric: str, *, agg: str = "max") -> Any:
    """Heatmap of ``metric`` over parameters ``x`` and ``y``; other parameters are aggregated
    with ``agg`` (``"max"``, ``"min"``, ``"mean"``, ``"median"``)."""
    _require()
    import hvplot.pandas  # noqa: F401  (registers .hvplot)

    agg = check_choice("agg", agg, list(_AGG))
    table = (frame.group_by(x, y).agg(getattr(pl.col(metric), _AGG[agg])()).sort(x, y))
    return table.to_pandas().hvplot.heatmap(
        x=x, y=y, C=metric, cmap="RdYlGn", colorbar=True, title=f"{metric} ({agg} over other parameters)",
        width=600, height=450,
    )


def parallel_coordinates(frame: pl.DataFrame, params: Sequence[str], metric: str) -> Any:
    """Parallel coordinates of the numeric parameters and ``metric`` (each axis scaled to
    [0, 1]), one line per set, coloured by the metric's quintile."""
    _require()
    import hvplot.pandas  # noqa: F401
    from hvplot.plotting import parallel_coordinates as _pc

    cols = [p for p in params if frame[p].dtype.is_numeric()] + [metric]
    table = frame.select(cols).drop_nans().drop_nulls()
    scaled = table.select([
        ((pl.col(c) - pl.col(c).min()) / (pl.col(c).max() - pl.col(c).min())).fill_nan(0.5).alias(c) for c in cols
    ])
    labels = ["bottom 20%", "20-40%", "40-60%", "60-80%", "top 20%"]
    rank = table[metric].rank("ordinal") - 1
    bucket = (rank * 5 // max(table.height, 1)).clip(0, 4).cast(pl.Int64)
    scaled = scaled.with_columns(pl.Series("quintile", [labels[int(b)] for b in bucket]))
    return _pc(scaled.to_pandas(), "quintile", cols=cols, alpha=0.4, width=700, height=400,
               title=f"parameters vs {metric}")
