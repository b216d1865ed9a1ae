"""Regenerate the sample datasets in ``data/`` from the packages they come from.

Run ``make samples`` (or ``python data/make_samples.py``) with the ``[dev]`` extras installed:
backtesting, arch and skfolio ship the data; this script only reshapes it into the canonical
long format (``ts, symbol, open, high, low, close, volume``; ``ts`` as ``Datetime("us", "UTC")``)
and writes one zstd-compressed Parquet file per dataset. See ``data/README.md`` for provenance.

Timestamps: the sources' timestamps are naive. Daily and monthly bars are stamped at midnight UTC
of their date; the EURUSD hourly bars are already on a UTC clock (the FX week opens on Sunday at
21:00 during US daylight-saving time and 22:00 outside it, i.e. 17:00 New York), so they are read
as UTC unchanged.

Invariants checked on every OHLC file: no missing values, prices > 0, ``low <= open, close <= high``,
``volume >= 0``, timestamps strictly increasing per symbol. The only repair this script knows is to
clip ``open`` and ``close`` into ``[low, high]``; it prints the rows it repairs (none, for the
package versions named in the README) and refuses any other violation.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import polars as pl

__all__ = [
    "DATA_DIR",
    "BUILDERS",
    "build",
    "canonical_ohlcv",
    "canonical_closes",
    "check_and_repair",
    "main",
]

DATA_DIR = Path(__file__).resolve().parent
TS_DTYPE = pl.Datetime("us", "UTC")
OHLCV = ("open", "high", "low", "close", "volume")
_SOURCE_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Volume": "volume",
}


def canonical_ohlcv(frame: pd.DataFrame, symbol: str) -> pl.DataFrame:
    """``ts, symbol, open, high, low, close, volume`` from a pandas frame indexed by naive timestamps.

    The naive timestamps are read as UTC; any column other than Open/High/Low/Close/Volume
    (``Adj Close``) is dropped.
    """
    if frame.index.tz is not None:
        raise ValueError(f"{symbol}: expected naive timestamps; got timezone {frame.index.tz}.")
    data = {"ts": pl.Series("ts", frame.index.to_numpy(dtype="datetime64[us]"))}
    data |= {
        new: pl.Series(new, frame[old].to_numpy(dtype="float64"))
        for old, new in _SOURCE_COLUMNS.items()
    }
    out = pl.DataFrame(data).with_columns(
        pl.col("ts").dt.replace_time_zone("UTC"), pl.lit(symbol, dtype=pl.Utf8).alias("symbol")
    )
    return out.select("ts", "symbol", *OHLCV).sort("symbol", "ts")


def canonical_closes(frame: pd.DataFrame) -> pl.DataFrame:
    """``ts, symbol, close`` (long format) from a wide pandas frame of closes, one column per symbol."""
    if frame.index.tz is not None:
        raise ValueError(f"expected naive timestamps; got timezone {frame.index.tz}.")
    wide = pl.DataFrame({"ts": frame.index.to_numpy(dtype="datetime64[us]")}).with_columns(
        pl.Series(str(col), frame[col].to_numpy(dtype="float64")) for col in frame.columns
    )
    long = wide.unpivot(index="ts", variable_name="symbol", value_name="close")
    return (
        long.with_columns(pl.col("ts").dt.replace_time_zone("UTC"))
        .select("ts", "symbol", "close")
        .sort("symbol", "ts")
    )


def _check_common(bars: pl.DataFrame, name: str, prices: tuple[str, ...]) -> None:
    cols = [c for c in bars.columns if c not in ("ts", "symbol")]
    bad = bars.filter(pl.any_horizontal(pl.col(c).is_null() | pl.col(c).is_nan() for c in cols))
    if bad.height:
        raise ValueError(f"{name}: {bad.height} row(s) with missing values:\n{bad.head()}")
    bad = bars.filter(pl.any_horizontal(pl.col(c) <= 0 for c in prices))
    if bad.height:
        raise ValueError(f"{name}: {bad.height} row(s) with non-positive prices:\n{bad.head()}")
    unordered = bars.filter(pl.col("ts") <= pl.col("ts").shift(1).over("symbol"))
    if unordered.height:
        raise ValueError(
            f"{name}: timestamps not strictly increasing per symbol:\n{unordered.head()}"
        )


def check_and_repair(bars: pl.DataFrame, name: str) -> pl.DataFrame:
    """Check the bar invariants; clip ``open``/``close`` into ``[low, high]`` and report those rows.

    Any other violation (missing values, prices <= 0, ``high < low``, negative volume, unordered
    timestamps) raises ``ValueError``: those would need a decision, not a mechanical repair.
    """
    if "open" not in bars.columns:  # close-only dataset
        _check_common(bars, name, ("close",))
        return bars
    _check_common(bars, name, ("open", "high", "low", "close"))
    for problem, mask in (
        ("high < low", pl.col("high") < pl.col("low")),
        ("volume < 0", pl.col("volume") < 0),
    ):
        bad = bars.filter(mask)
        if bad.height:
            raise ValueError(f"{name}: {bad.height} row(s) with {problem}:\n{bad.head()}")
    outside = pl.any_horizontal(
        (pl.col(c) < pl.col("low")) | (pl.col(c) > pl.col("high")) for c in ("open", "close")
    )
    bad = bars.filter(outside)
    if bad.height:
        print(f"{name}: clipping open/close into [low, high] in {bad.height} row(s):")
        print(bad)
        bars = bars.with_columns(
            pl.col(c).clip(pl.col("low"), pl.col("high")) for c in ("open", "close")
        )
    return bars


def _goog() -> pl.DataFrame:
    from backtesting.test import GOOG

    return canonical_ohlcv(GOOG, "GOOG")


def _eurusd() -> pl.DataFrame:
    from backtesting.test import EURUSD

    return canonical_ohlcv(EURUSD, "EURUSD")


def _btcusd() -> pl.DataFrame:
    from backtesting.test import BTCUSD

    return canonical_ohlcv(BTCUSD, "BTCUSD")


def _sp500() -> pl.DataFrame:
    from arch.data import sp500

    return canonical_ohlcv(sp500.load(), "^GSPC")


def _nasdaq() -> pl.DataFrame:
    from arch.data import nasdaq

    return canonical_ohlcv(nasdaq.load(), "^IXIC")


def _stocks20() -> pl.DataFrame:
    from skfolio.datasets import load_sp500_dataset

    return canonical_closes(load_sp500_dataset())


BUILDERS: dict[str, Callable[[], pl.DataFrame]] = {
    "GOOG": _goog,
    "EURUSD": _eurusd,
    "BTCUSD": _btcusd,
    "SP500": _sp500,
    "NASDAQ": _nasdaq,
    "STOCKS20": _stocks20,
}
"""Dataset name -> function returning its canonical frame from the source package."""


def build(name: str, out_dir: Path = DATA_DIR) -> Path:
    """Build dataset ``name``, check (and if needed repair) it, and write ``<out_dir>/<name>.parquet``."""
    bars = check_and_repair(BUILDERS[name](), name)
    if bars.schema["ts"] != TS_DTYPE:
        raise ValueError(f"{name}: `ts` must be {TS_DTYPE}; got {bars.schema['ts']}.")
    path = out_dir / f"{name}.parquet"
    bars.write_parquet(path, compression="zstd", compression_level=22, statistics=True)
    return path


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: rebuild every dataset (or the ones named) into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"datasets to build: {', '.join(BUILDERS)} (default: all)",
    )
    parser.add_argument(
        "--out", type=Path, default=DATA_DIR, help="output directory (default: data/)"
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BUILDERS]
    if unknown:
        parser.error(f"unknown dataset(s) {unknown}; choose from {list(BUILDERS)}.")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or list(BUILDERS):
        path = build(name, args.out)
        frame = pl.read_parquet(path)
        print(
            f"{name:9s} {frame.height:7d} rows  {frame['ts'].min()} .. {frame['ts'].max()}  "
            f"{path.stat().st_size / 1024:7.1f} KiB  {path}"
        )


if __name__ == "__main__":
    main()
