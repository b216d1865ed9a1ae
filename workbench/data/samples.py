"""Small sets of real prices shipped with the package, for examples, notebooks and tests.

The Parquet files live in the repository's ``data/`` directory (installed as
``workbench/_sample_data``); ``data/README.md`` documents where each comes from, and
``data/make_samples.py`` regenerates them from the packages that publish them.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from workbench.errors import InvalidParameterError, WorkbenchError, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    from importlib.resources.abc import Traversable

__all__ = ["sample", "samples", "SAMPLE_NAMES"]


@dataclass(frozen=True)
class _Dataset:
    description: str
    frequency: str
    source: str


_DATASETS: dict[str, _Dataset] = {
    "GOOG": _Dataset(
        "Google (GOOG) daily OHLCV, 2004-2013",
        "daily",
        "backtesting 0.6.6: backtesting.test.GOOG",
    ),
    "EURUSD": _Dataset(
        "EUR/USD hourly OHLCV, Apr 2017 - Feb 2018",
        "hourly",
        "backtesting 0.6.6: backtesting.test.EURUSD",
    ),
    "BTCUSD": _Dataset(
        "BTC/USD monthly OHLCV, 2012-2024", "monthly", "backtesting 0.6.6: backtesting.test.BTCUSD"
    ),
    "SP500": _Dataset(
        "S&P 500 index (^GSPC) daily OHLCV, 1999-2018",
        "daily",
        "arch 8.0.0: arch.data.sp500.load()",
    ),
    "NASDAQ": _Dataset(
        "NASDAQ Composite index (^IXIC) daily OHLCV, 1999-2018",
        "daily",
        "arch 8.0.0: arch.data.nasdaq.load()",
    ),
    "STOCKS20": _Dataset(
        "20 large US stocks, daily adjusted closes (close only), 1990-2022",
        "daily",
        "skfolio 1.12.2: skfolio.datasets.load_sp500_dataset()",
    ),
}

SAMPLE_NAMES: tuple[str, ...] = tuple(_DATASETS)
"""The names accepted by :func:`sample` (case-insensitive)."""


def _data_dir() -> Traversable:
    """The directory holding the Parquet files: the installed copy, else the repository's ``data/``."""
    installed = resources.files("workbench") / "_sample_data"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "data"


def _canonical_name(name: object) -> str:
    key = name.upper() if isinstance(name, str) else None
    if key in _DATASETS:
        return key
    listed = ", ".join(repr(n) for n in SAMPLE_NAMES)
    hint = did_you_mean(name, SAMPLE_NAMES) if isinstance(name, str) else ""
    raise InvalidParameterError(
        f"`name` must be one of {listed} (case-insensitive); got {name!r}.{hint} "
        "Call workbench.data.samples() to list the datasets."
    )


def _file(name: str) -> Traversable:
    path = _data_dir() / f"{name}.parquet"
    if not path.is_file():
        raise WorkbenchError(
            f"sample dataset {name!r} is missing: no file {path}. "
            "Fix: reinstall quant-workbench, or run `make samples` in a source checkout."
        )
    return path


@functools.cache
def _read(path: Traversable) -> pl.DataFrame:
    """The stored long-format frame (``ts, symbol, ...``) in ``path``, read once per file."""
    if isinstance(path, Path):
        return pl.read_parquet(path)
    return pl.read_parquet(io.BytesIO(path.read_bytes()))


@functools.cache
def _bars(path: Traversable) -> pl.DataFrame:
    """The dataset in ``path`` as canonical bars, validated by ``workbench.data.load`` once."""
    from workbench.data.load import load

    frame = _read(path)
    if frame["symbol"].n_unique() == 1:
        frame = frame.drop("symbol")
    return load(frame)


def sample(name: str) -> pl.DataFrame:
    """Load a sample dataset of real prices as canonical bars.

    Parameters
    ----------
    name : str
        One of ``"GOOG"``, ``"EURUSD"``, ``"BTCUSD"``, ``"SP500"``, ``"NASDAQ"``, ``"STOCKS20"``
        (case-insensitive); :func:`samples` describes them.

    Returns
    -------
    polars.DataFrame
        Bars validated by :func:`workbench.data.load`: ``ts`` (``Datetime("us", "UTC")``),
        ``open, high, low, close, volume`` (Float64). ``STOCKS20`` holds several assets and keeps
        a ``symbol`` column (long format, sorted by symbol then time); it has closes only, so its
        ``open``, ``high`` and ``low`` equal ``close`` and ``volume`` is 0. The other datasets
        hold one instrument and have no ``symbol`` column.

    Raises
    ------
    InvalidParameterError
        If ``name`` is not a dataset name; the message lists the names and the closest one.
    WorkbenchError
        If the dataset's file is missing from the installation.

    Examples
    --------
    >>> bars = sample("GOOG")
    >>> bars.height
    2148
    >>> bars.columns
    ['ts', 'open', 'high', 'low', 'close', 'volume']
    >>> sample("stocks20")["symbol"].n_unique()
    20
    >>> sample("GOGL")
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `name` must be one of 'GOOG', ... got 'GOGL'. Did you mean 'GOOG'? ...
    """
    key = _canonical_name(name)
    return _bars(_file(key)).clone()


def _catalog() -> pl.DataFrame:
    rows = []
    for name, info in _DATASETS.items():
        frame = _read(_file(name))
        kind = "ohlcv" if "open" in frame.columns else "close"
        rows.append(
            {
                "name": name,
                "description": info.description,
                "symbols": frame["symbol"].unique(maintain_order=True).to_list(),
                "rows": frame.height,
                "start": frame["ts"].min(),
                "end": frame["ts"].max(),
                "frequency": info.frequency,
                "columns": kind,
                "source": info.source,
            }
        )
    schema = {
        "name": pl.Utf8, "description": pl.Utf8, "symbols": pl.List(pl.Utf8), "rows": pl.Int64,
        "start": pl.Datetime("us", "UTC"), "end": pl.Datetime("us", "UTC"), "frequency": pl.Utf8,
        "columns": pl.Utf8, "source": pl.Utf8,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def samples() -> pl.DataFrame:
    """Describe the sample datasets, one row each.

    Returns
    -------
    polars.DataFrame
        Columns ``name``, ``description``, ``symbols`` (list of the instruments' symbols),
        ``rows`` (rows of the stored long-format file), ``start`` and ``end`` (first and last
        bar, UTC), ``frequency`` (``"daily"``, ``"hourly"`` or ``"monthly"``), ``columns``
        (``"ohlcv"``, or ``"close"`` for close-only data) and ``source`` (package, version and
        function the data come from; ``data/README.md`` has the full provenance).

    Examples
    --------
    >>> cat = samples()
    >>> cat.select("name", "rows", "frequency").head(3)
    shape: (3, 3)
    ┌────────┬──────┬───────────┐
    │ name   ┆ rows ┆ frequency │
    │ ---    ┆ ---  ┆ ---       │
    │ str    ┆ i64  ┆ str       │
    ╞════════╪══════╪═══════════╡
    │ GOOG   ┆ 2148 ┆ daily     │
    │ EURUSD ┆ 5000 ┆ hourly    │
    │ BTCUSD ┆ 156  ┆ monthly   │
    └────────┴──────┴───────────┘
    >>> cat.filter(pl.col("name") == "STOCKS20")["symbols"].list.len().item()
    20
    """
    return _catalog().clone()
