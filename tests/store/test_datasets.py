"""Datasets: upsert by name, UTC timestamps, lookups and listings, on every backend."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pydantic
import pytest

from workbench.errors import InvalidParameterError, StoreError
from workbench.store import DatasetRecord, Store

UTC = dt.timezone.utc
NEW_YORK_WINTER = dt.timezone(dt.timedelta(hours=-5))


def _register(store: Store, name: str = "goog-daily", **overrides) -> DatasetRecord:
    fields = dict(
        source="sample:GOOG",
        content_hash="c0ffee",
        symbols=["GOOG"],
        rows=2148,
        start=dt.datetime(2004, 8, 19, tzinfo=UTC),
        end=dt.datetime(2013, 3, 1, tzinfo=UTC),
        frequency="1d",
        periods_per_year=252.0,
    )
    fields.update(overrides)
    return store.register_dataset(name, **fields)


def test_register_then_read_back_every_field(store: Store):
    rec = _register(store, symbols=["AAPL", "MSFT"], rows=10)
    got = store.dataset("goog-daily")
    assert got == rec
    assert (got.name, got.source, got.content_hash) == ("goog-daily", "sample:GOOG", "c0ffee")
    assert got.symbols == ("AAPL", "MSFT")
    assert (got.rows, got.frequency, got.periods_per_year) == (10, "1d", 252.0)
    assert got.start == dt.datetime(2004, 8, 19, tzinfo=UTC)
    assert got.created_at == got.updated_at
    assert got.created_at.tzinfo is not None


def test_timestamps_are_stored_as_utc_instants(store: Store):
    start = dt.datetime(2024, 1, 2, 9, 30, tzinfo=NEW_YORK_WINTER)
    end = dt.datetime(2024, 1, 2, 16, 0, tzinfo=NEW_YORK_WINTER)
    rec = _register(store, start=start, end=end)
    assert rec.start == start and rec.end == end  # same instants
    assert rec.start.utcoffset() == dt.timedelta(0)
    assert (rec.start.hour, rec.start.minute) == (14, 30)


def test_register_is_an_upsert_by_name(store: Store):
    first = _register(store)
    second = _register(store, content_hash="beef", rows=99, symbols=["GOOG", "SPY"])
    assert second.id == first.id
    assert second.created_at == first.created_at
    assert second.updated_at >= first.updated_at
    assert (second.content_hash, second.rows, second.symbols) == ("beef", 99, ("GOOG", "SPY"))
    again = _register(store, content_hash="beef", rows=99, symbols=["GOOG", "SPY"])
    assert again.model_dump(exclude={"updated_at"}) == second.model_dump(exclude={"updated_at"})
    assert store.datasets().height == 1


def test_datasets_listing_is_typed_and_sorted(store: Store):
    empty = store.datasets()
    assert empty.height == 0
    assert empty.schema["symbols"] == pl.List(pl.String)
    _register(store, "zeta", symbols=["Z"])
    _register(store, "alpha", symbols=["A", "B"], rows=5)
    frame = store.datasets()
    assert frame["name"].to_list() == ["alpha", "zeta"]
    assert frame["symbols"].to_list() == [["A", "B"], ["Z"]]
    assert frame["rows"].to_list() == [5, 2148]
    assert frame.schema["start"] == pl.Datetime("us", "UTC")
    assert frame.schema == empty.schema


def test_unknown_dataset_names_the_closest_one(store: Store):
    _register(store, "goog-daily")
    with pytest.raises(StoreError) as info:
        store.dataset("goog-dialy")
    message = str(info.value)
    assert "'goog-dialy'" in message and "Did you mean 'goog-daily'?" in message
    assert "register_dataset" in message


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("start", dt.datetime(2024, 1, 1), "`start` must be a timezone-aware datetime"),
        ("rows", -1, "`rows` must be an integer in"),
        ("periods_per_year", 0, "`periods_per_year` must be a float in"),
        ("symbols", "GOOG", "`symbols` must be a list of strings"),
        ("source", "", "`source` must be a non-empty string"),
        ("end", dt.datetime(2000, 1, 1, tzinfo=UTC), "`end` must not be before `start`"),
    ],
)
def test_invalid_dataset_fields_are_named(store: Store, field: str, value, match: str):
    with pytest.raises(InvalidParameterError, match=match):
        _register(store, **{field: value})
    assert store.datasets().height == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_dataset_records_are_frozen(store: Store):
    rec = _register(store)
    with pytest.raises(pydantic.ValidationError):
        rec.rows = 1  # type: ignore[misc]
