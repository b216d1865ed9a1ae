"""The shipped sample datasets equal the data of the packages they come from."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

from workbench.data.samples import SAMPLE_NAMES, sample, samples
from workbench.errors import InvalidParameterError, WorkbenchError

# the package re-exports the function `samples`, which hides the module of the same name
samples_module = importlib.import_module("workbench.data.samples")

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
OHLC_SETS = ("GOOG", "EURUSD", "BTCUSD", "SP500", "NASDAQ")
SYMBOLS = {
    "GOOG": "GOOG",
    "EURUSD": "EURUSD",
    "BTCUSD": "BTCUSD",
    "SP500": "^GSPC",
    "NASDAQ": "^IXIC",
}


def _source(name: str) -> pd.DataFrame:
    """The dataset as its package ships it (the oracle)."""
    if name in ("GOOG", "EURUSD", "BTCUSD"):
        import backtesting.test

        return getattr(backtesting.test, name)
    if name == "SP500":
        from arch.data import sp500

        return sp500.load()
    if name == "NASDAQ":
        from arch.data import nasdaq

        return nasdaq.load()
    from skfolio.datasets import load_sp500_dataset

    return load_sp500_dataset()


def _utc_ns(index: pd.Index) -> np.ndarray:
    """Naive source timestamps read as UTC, as int64 nanoseconds since the epoch."""
    return pd.DatetimeIndex(index).tz_localize("UTC").as_unit("ns").asi8


def _ts_ns(frame: pl.DataFrame) -> np.ndarray:
    return frame["ts"].dt.cast_time_unit("ns").dt.epoch("ns").to_numpy()


def _stocks_long() -> pd.DataFrame:
    """skfolio's wide frame melted to (symbol, date, close), sorted by symbol then date."""
    wide = _source("STOCKS20")
    long = (
        wide.rename_axis("date")
        .reset_index()
        .melt(id_vars="date", var_name="symbol", value_name="close")
    )
    return long.sort_values(["symbol", "date"], kind="stable").reset_index(drop=True)


# --- the bars returned by sample() equal the source ------------------------------------------------


@pytest.mark.parametrize("name", OHLC_SETS)
def test_ohlc_sample_equals_source(name: str) -> None:
    src = _source(name)
    bars = sample(name)
    assert bars.columns == ["ts", "open", "high", "low", "close", "volume"]
    assert bars.schema["ts"] == pl.Datetime("us", "UTC")
    assert bars.height == len(src)
    np.testing.assert_array_equal(_ts_ns(bars), _utc_ns(src.index))
    for col in ("Open", "High", "Low", "Close", "Volume"):
        assert bars.schema[col.lower()] == pl.Float64
        np.testing.assert_array_equal(
            bars[col.lower()].to_numpy(), src[col].to_numpy(dtype="float64")
        )


def test_stocks20_equals_skfolio_melted() -> None:
    expected = _stocks_long()
    bars = sample("STOCKS20")
    assert bars.columns == ["ts", "symbol", "open", "high", "low", "close", "volume"]
    assert bars.height == 8313 * 20 == len(expected)
    assert bars["symbol"].to_list() == expected["symbol"].tolist()
    np.testing.assert_array_equal(_ts_ns(bars), _utc_ns(expected["date"]))
    np.testing.assert_array_equal(bars["close"].to_numpy(), expected["close"].to_numpy())
    # close-only data: load() sets open = high = low = close and volume = 0
    for col in ("open", "high", "low"):
        np.testing.assert_array_equal(bars[col].to_numpy(), expected["close"].to_numpy())
    assert (bars["volume"] == 0.0).all()


def test_sp500_nasdaq_adj_close_is_the_close_it_replaces() -> None:
    # the dropped `Adj Close` carries no information: it equals `Close` on every row
    for name in ("SP500", "NASDAQ"):
        src = _source(name)
        np.testing.assert_array_equal(src["Adj Close"].to_numpy(), src["Close"].to_numpy())


# --- the stored files ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_file_schema_order_and_compression(name: str) -> None:
    path = DATA_DIR / f"{name}.parquet"
    frame = pl.read_parquet(path)
    value_cols = ["close"] if name == "STOCKS20" else ["open", "high", "low", "close", "volume"]
    assert frame.columns == ["ts", "symbol", *value_cols]
    assert frame.schema["ts"] == pl.Datetime("us", "UTC")
    assert frame.schema["symbol"] == pl.Utf8
    assert all(frame.schema[c] == pl.Float64 for c in value_cols)
    assert frame.equals(frame.sort("symbol", "ts"))
    meta = pq.ParquetFile(path).metadata
    codecs = {
        meta.row_group(i).column(j).compression
        for i in range(meta.num_row_groups)
        for j in range(meta.num_columns)
    }
    assert codecs == {"ZSTD"}
    if name in SYMBOLS:
        assert frame["symbol"].unique().to_list() == [SYMBOLS[name]]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_file_timestamps_strictly_increase_per_symbol(name: str) -> None:
    frame = pl.read_parquet(DATA_DIR / f"{name}.parquet")
    steps = frame.select(
        (pl.col("ts") - pl.col("ts").shift(1)).over("symbol").dt.total_seconds().alias("s")
    )
    assert steps["s"].drop_nulls().min() > 0


def test_files_are_small() -> None:
    total = sum((DATA_DIR / f"{name}.parquet").stat().st_size for name in SAMPLE_NAMES)
    assert total < 2_000_000


# --- samples() ------------------------------------------------------------------------------------


def test_samples_lists_all_six_with_source_rows_and_dates() -> None:
    cat = samples()
    assert cat["name"].to_list() == ["GOOG", "EURUSD", "BTCUSD", "SP500", "NASDAQ", "STOCKS20"]
    assert cat.columns == [
        "name",
        "description",
        "symbols",
        "rows",
        "start",
        "end",
        "frequency",
        "columns",
        "source",
    ]
    for row in cat.iter_rows(named=True):
        src = _source(row["name"])
        n_symbols = src.shape[1] if row["name"] == "STOCKS20" else 1
        assert row["rows"] == len(src) * n_symbols
        assert len(row["symbols"]) == n_symbols
        assert pd.Timestamp(row["start"]) == src.index.min().tz_localize("UTC")
        assert pd.Timestamp(row["end"]) == src.index.max().tz_localize("UTC")
    freq = dict(zip(cat["name"], cat["frequency"], strict=True))
    assert freq == {"GOOG": "daily", "EURUSD": "hourly", "BTCUSD": "monthly", "SP500": "daily",
                    "NASDAQ": "daily", "STOCKS20": "daily"}  # fmt: skip
    kinds = dict(zip(cat["name"], cat["columns"], strict=True))
    assert kinds["STOCKS20"] == "close" and {kinds[n] for n in OHLC_SETS} == {"ohlcv"}
    stocks = cat.filter(pl.col("name") == "STOCKS20")["symbols"].item().to_list()
    assert stocks == sorted(_source("STOCKS20").columns)


def test_samples_returns_a_copy() -> None:
    cat = samples()
    cat.drop_in_place("source")
    assert "source" in samples().columns


# --- sample(): names, errors, caching -------------------------------------------------------------


def test_name_is_case_insensitive() -> None:
    assert sample("goog").equals(sample("GOOG"))
    assert sample("Stocks20").equals(sample("STOCKS20"))


def test_unknown_name_lists_names_and_suggests_closest() -> None:
    with pytest.raises(InvalidParameterError) as info:
        sample("GOGL")
    msg = str(info.value)
    assert "`name`" in msg and "'GOGL'" in msg
    assert all(f"'{n}'" in msg for n in SAMPLE_NAMES)
    assert "Did you mean 'GOOG'?" in msg
    with pytest.raises(InvalidParameterError, match="Did you mean 'NASDAQ'"):
        sample("nasdq")


def test_non_string_name_is_rejected() -> None:
    with pytest.raises(InvalidParameterError, match=r"`name` must be one of .*got 3\."):
        sample(3)  # type: ignore[arg-type]


def test_each_call_returns_an_independent_frame() -> None:
    first = sample("BTCUSD")
    first.insert_column(0, pl.Series("extra", range(first.height)))
    first.drop_in_place("close")
    again = sample("BTCUSD")
    assert again.columns == ["ts", "open", "high", "low", "close", "volume"]


def test_missing_file_says_how_to_regenerate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(samples_module, "_data_dir", lambda: tmp_path)
    with pytest.raises(WorkbenchError, match="make samples"):
        sample("GOOG")


def test_data_dir_falls_back_to_repository_data() -> None:
    location = samples_module._data_dir()
    assert (Path(str(location)) / "GOOG.parquet").is_file()


# --- data/make_samples.py -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", DATA_DIR / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["GOOG", "BTCUSD", "SP500"])
def test_script_regenerates_the_shipped_file(make_samples, tmp_path: Path, name: str) -> None:
    path = make_samples.build(name, tmp_path)
    assert pl.read_parquet(path).equals(pl.read_parquet(DATA_DIR / f"{name}.parquet"))


def _bars(**cols: list[float]) -> pl.DataFrame:
    n = len(next(iter(cols.values())))
    ts = pl.datetime_range(pl.datetime(2024, 1, 1, time_zone="UTC"), pl.datetime(2024, 1, n, time_zone="UTC"),
                           "1d", eager=True, time_unit="us")  # fmt: skip
    return pl.DataFrame({"ts": ts, "symbol": ["X"] * n, **cols})


def test_repair_clips_open_and_close_into_low_high(
    make_samples, capsys: pytest.CaptureFixture[str]
) -> None:
    bars = _bars(open=[10.0, 9.0, 10.0], high=[11.0, 11.0, 11.0], low=[9.5, 9.5, 9.5],
                 close=[10.5, 12.0, 10.0], volume=[1.0, 1.0, 1.0])  # fmt: skip
    fixed = make_samples.check_and_repair(bars, "X")
    assert fixed["open"].to_list() == [10.0, 9.5, 10.0]
    assert fixed["close"].to_list() == [10.5, 11.0, 10.0]
    assert fixed.drop("open", "close").equals(bars.drop("open", "close"))
    assert "1 row(s)" in capsys.readouterr().out


def test_valid_bars_pass_unchanged(make_samples, capsys: pytest.CaptureFixture[str]) -> None:
    bars = _bars(
        open=[10.0, 10.0], high=[11.0, 11.0], low=[9.0, 9.0], close=[10.0, 10.5], volume=[0.0, 5.0]
    )
    assert make_samples.check_and_repair(bars, "X").equals(bars)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"high": [11.0, 8.0]}, "high < low"),
        ({"volume": [1.0, -1.0]}, "volume < 0"),
        ({"low": [9.0, 0.0], "open": [10.0, 0.0]}, "non-positive"),
        ({"close": [10.0, float("nan")]}, "missing"),
    ],
)
def test_other_violations_are_refused(
    make_samples, change: dict[str, list[float]], problem: str
) -> None:
    cols = {
        "open": [10.0, 10.0],
        "high": [11.0, 11.0],
        "low": [9.0, 9.0],
        "close": [10.0, 10.5],
        "volume": [1.0, 1.0],
    }
    with pytest.raises(ValueError, match=problem):
        make_samples.check_and_repair(_bars(**(cols | change)), "X")


def test_unordered_timestamps_are_refused(make_samples) -> None:
    bars = _bars(
        open=[10.0, 10.0], high=[11.0, 11.0], low=[9.0, 9.0], close=[10.0, 10.5], volume=[1.0, 1.0]
    )
    with pytest.raises(ValueError, match="strictly increasing"):
        make_samples.check_and_repair(bars.reverse(), "X")


def test_canonical_closes_matches_pandas_melt(make_samples) -> None:
    wide = pd.DataFrame(
        {"B": [1.0, 2.0], "A": [3.0, 4.0]}, index=pd.to_datetime(["2024-01-02", "2024-01-03"])
    )
    long = make_samples.canonical_closes(wide)
    assert long["symbol"].to_list() == ["A", "A", "B", "B"]
    assert long["close"].to_list() == [3.0, 4.0, 1.0, 2.0]
    assert long.schema["ts"] == pl.Datetime("us", "UTC")
