"""content_hash(): the same bars from any source hash the same; any change of content changes it;
row order, column order, time unit and display timezone do not."""

from __future__ import annotations

import re
from datetime import timedelta

import polars as pl
import pytest

import workbench.data as wd
from workbench.errors import DataValidationError


@pytest.fixture(scope="module")
def single() -> pl.DataFrame:
    return wd.synthetic(300, seed=11)  # full-precision floats: a hard case for CSV round trips


@pytest.fixture(scope="module")
def multi() -> pl.DataFrame:
    return wd.synthetic(120, n_symbols=3, seed=12, every="1h")


def _edit(bars: pl.DataFrame, col: str, row: int, value: object) -> pl.DataFrame:
    values = bars[col].to_list()
    values[row] = value
    return bars.with_columns(pl.Series(col, values, dtype=bars.schema[col]))


def test_format_and_length(single):
    assert re.fullmatch(r"[0-9a-f]{32}", wd.content_hash(single))


@pytest.mark.parametrize("name", ["single", "multi", "goog"])
def test_same_bars_through_csv_parquet_polars_pandas(name, single, multi, tmp_path):
    bars = {"single": single, "multi": multi, "goog": wd.sample("GOOG")}[name]
    expected = wd.content_hash(bars)
    bars.write_csv(tmp_path / "polars.csv")
    bars.write_parquet(tmp_path / "polars.parquet")
    pdf = bars.to_pandas()
    pdf.to_csv(tmp_path / "pandas.csv", index=False)
    pdf.set_index("ts").to_parquet(tmp_path / "pandas.parquet")
    sources = [
        tmp_path / "polars.csv", tmp_path / "polars.parquet", tmp_path / "pandas.csv",
        tmp_path / "pandas.parquet", pdf, pdf.set_index("ts"), bars.lazy(), bars,
    ]
    for source in sources:
        assert wd.content_hash(wd.load(source)) == expected, type(source).__name__


def test_pandas_index_in_another_zone_hashes_the_same(single):
    pdf = single.to_pandas().set_index("ts")
    pdf.index = pdf.index.tz_convert("Asia/Tokyo")
    loaded = wd.load(pdf)
    assert loaded.schema["ts"].time_zone == "Asia/Tokyo"
    assert wd.content_hash(loaded) == wd.content_hash(single)


@pytest.mark.parametrize("col", ["open", "high", "low", "close", "volume"])
def test_changing_one_value_changes_the_hash(single, col):
    bars = single.with_columns(pl.col("high") * 1.01, pl.col("low") * 0.99)  # room to move any value
    base = wd.content_hash(bars)
    value = bars[col][150]
    assert wd.content_hash(_edit(bars, col, 150, value * (1 + 1e-12))) != base
    assert wd.content_hash(_edit(bars, col, 150, value)) == base


def test_changing_one_timestamp_changes_the_hash(single):
    last = single["ts"][-1]
    moved = _edit(single, "ts", single.height - 1, last + timedelta(microseconds=1))
    assert wd.content_hash(moved) != wd.content_hash(single)


def test_changing_a_symbol_name_changes_the_hash(multi):
    renamed = multi.with_columns(pl.col("symbol").replace({"S2": "S9"}))
    assert wd.content_hash(renamed) != wd.content_hash(multi)
    swapped = multi.with_columns(pl.col("symbol").replace({"S0": "S1", "S1": "S0"}))
    assert wd.content_hash(swapped) != wd.content_hash(multi)


def test_values_moved_between_columns_change_the_hash(single):
    swapped = single.with_columns(open=pl.col("close"), close=pl.col("open"))
    assert wd.content_hash(swapped) != wd.content_hash(single)


def test_adding_or_dropping_a_bar_changes_the_hash(single):
    assert wd.content_hash(single.head(299)) != wd.content_hash(single)
    assert wd.content_hash(single.tail(299)) != wd.content_hash(single)


def test_row_order_does_not_matter(single, multi):
    assert wd.content_hash(single.reverse()) == wd.content_hash(single)
    shuffled = multi.sample(fraction=1.0, shuffle=True, seed=5)
    assert wd.content_hash(shuffled) == wd.content_hash(multi)
    interleaved = multi.sort("ts", maintain_order=True)
    assert wd.content_hash(interleaved) == wd.content_hash(multi)


def test_display_timezone_time_unit_and_column_order_do_not_matter(multi):
    base = wd.content_hash(multi)
    for zone in ("America/New_York", "Asia/Kolkata", "Pacific/Chatham"):
        assert wd.content_hash(multi.with_columns(pl.col("ts").dt.convert_time_zone(zone))) == base
    assert wd.content_hash(multi.with_columns(pl.col("ts").dt.cast_time_unit("ns"))) == base
    assert wd.content_hash(multi.select(reversed(multi.columns))) == base
    assert wd.content_hash(multi.with_columns(note=pl.lit("ignored"))) == base


def test_same_wall_clock_in_another_zone_is_different_content(single):
    # replace_time_zone keeps the wall clock and moves the instants: different bars
    relabelled = single.with_columns(pl.col("ts").dt.replace_time_zone("America/New_York"))
    assert wd.content_hash(relabelled) != wd.content_hash(single)


def test_invalid_bars_are_rejected(single):
    with pytest.raises(DataValidationError, match="`close` is null, NaN or infinite"):
        wd.content_hash(_edit(single, "close", 3, float("nan")))
    with pytest.raises(DataValidationError, match="timezone-aware"):
        wd.content_hash(single.with_columns(pl.col("ts").dt.replace_time_zone(None)))
    with pytest.raises(DataValidationError, match="duplicate timestamps"):
        wd.content_hash(pl.concat([single, single.head(1)]))
