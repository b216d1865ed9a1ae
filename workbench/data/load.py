"""Loading OHLCV bars from files and frames into the canonical schema."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

from workbench._warnings import warn
from workbench.data.schema import ALIASES, BAR_COLUMNS, PRICE_COLUMNS, SYMBOL, TS, canonical_name
from workbench.data.validate import offending_rows, validate
from workbench.errors import DataValidationError, InvalidParameterError, did_you_mean

__all__ = ["load", "Repair"]

Repair = Literal["sort", "dedupe", "ffill"]
_REPAIRS: tuple[str, ...] = ("sort", "dedupe", "ffill")
_OFFSET_RE = r"(Z|[+-]\d{2}:?\d{2})$"
_UNNAMED_INDEX = ("", "__index_level_0__", "Unnamed: 0")  # what pandas writes for an unnamed index


def load(
    source: str | Path | pl.DataFrame | pl.LazyFrame | Any,
    *,
    symbol: str | None = None,
    tz: str = "UTC",
    adjust: bool = False,
    repair: bool | Sequence[Repair] = False,
    decimal_comma: bool = False,
) -> pl.DataFrame:
    """Load OHLCV bars into the canonical schema and validate them.

    Parameters
    ----------
    source
        A CSV or Parquet path, a polars DataFrame/LazyFrame, or a pandas DataFrame (a
        DatetimeIndex becomes the ``ts`` column). Long format with a ``symbol`` column holds
        several assets.
    symbol
        Adds a ``symbol`` column with this value when the source has none.
    tz
        Timezone given to timezone-naive timestamps (default ``"UTC"``). Aware timestamps keep
        their zone.
    adjust
        When the source has an adjusted close (``Adj Close``), scale open, high, low and close by
        ``adj_close / close`` so the whole bar is adjusted. Without it the adjusted close is dropped.
    repair
        Safe repairs, applied only when asked and reported with a warning: ``"sort"`` (sort by
        timestamp), ``"dedupe"`` (drop exact duplicate rows), ``"ffill"`` (carry the last price
        forward over null/NaN values; volume becomes 0). ``True`` means all three.
    decimal_comma
        Text numbers use a decimal comma (``"10,5"``, ``"1.234,5"``). Without it, commas are
        thousands separators (``"1,234.5"``), and a value that can only be a decimal comma is
        refused rather than read ten times too large.

    Column names are matched case-insensitively with common aliases (``Date``, ``Datetime``,
    ``timestamp``, ``Open``, ``Adj Close``, ``Vol``…). A close-only series (no open, high, low) is
    accepted: open, high and low are set to the close, so next-open fills happen at the next
    close. A missing ``volume`` becomes 0. Two columns that map to one name (``close`` and
    ``Close``, ``close`` and ``price``) are refused, naming both.

    Returns
    -------
    polars.DataFrame
        ``ts`` (Datetime[us, tz]), ``symbol`` (when present), ``open, high, low, close, volume``
        (Float64), sorted by symbol (stable) then ts.

    Raises
    ------
    DataValidationError
        For missing or misspelled columns, unparseable values and every contract violation.

    Examples
    --------
    >>> import polars as pl
    >>> raw = pl.DataFrame({"Date": ["2024-01-02", "2024-01-03"], "Open": [10, 11],
    ...                     "High": [11, 12], "Low": [9, 10], "Close": [11.0, 11.5], "Volume": [100, 120]})
    >>> bars = load(raw)
    >>> bars.columns, bars.schema["ts"]
    (['ts', 'open', 'high', 'low', 'close', 'volume'], Datetime(time_unit='us', time_zone='UTC'))
    """
    repairs = _parse_repair(repair)
    _check_tz(tz)
    frame = _read(source)
    frame = _rename(frame)
    if symbol is not None and SYMBOL not in frame.columns:
        frame = frame.with_columns(pl.lit(str(symbol)).alias(SYMBOL))
    frame = _parse_ts(frame, tz)
    frame = _cast_numeric(frame, adjust=adjust, decimal_comma=decimal_comma)
    keep = [TS, *([SYMBOL] if SYMBOL in frame.columns else []), *BAR_COLUMNS]
    frame = frame.select(keep).with_columns(pl.col(SYMBOL).cast(pl.String) if SYMBOL in frame.columns else [])
    if repairs:
        frame = _repair(frame, repairs)
    frame = validate(frame)
    return frame.sort(SYMBOL, maintain_order=True) if SYMBOL in frame.columns else frame


def _check_tz(tz: Any) -> None:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(tz)
    except Exception as exc:  # unknown name, wrong type, malformed key
        raise InvalidParameterError(
            f"`tz` must be an IANA timezone such as 'UTC' or 'America/New_York'; got {tz!r}."
        ) from exc


def _parse_repair(repair: bool | Sequence[str]) -> tuple[str, ...]:
    if repair is True:
        return _REPAIRS
    if repair is False or repair is None:
        return ()
    if isinstance(repair, str):
        repair = [repair]
    if not isinstance(repair, (list, tuple, set, frozenset)):
        raise InvalidParameterError(
            f"`repair` must be True, False or a list among {list(_REPAIRS)}; got {repair!r}."
        )
    for r in repair:
        if r not in _REPAIRS:
            raise InvalidParameterError(
                f"`repair` entries must be among {list(_REPAIRS)}; got {r!r}.{did_you_mean(str(r), _REPAIRS)}"
            )
    return tuple(repair)


def _read(source: Any) -> pl.DataFrame:
    if isinstance(source, pl.LazyFrame):
        return source.collect()
    if isinstance(source, pl.DataFrame):
        return source
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if not path.exists():
            raise DataValidationError(f"file {str(path)!r} does not exist. Fix: check the path.")
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq"):
            return pl.read_parquet(path)
        if suffix in (".csv", ".txt", ".tsv"):
            sep = "\t" if suffix == ".tsv" else ","
            return pl.read_csv(path, separator=sep, infer_schema_length=10_000, try_parse_dates=False)
        raise DataValidationError(
            f"cannot read {path.name!r}: unknown file type {suffix!r}. Fix: use .csv or .parquet."
        )
    if type(source).__module__.startswith("pandas"):
        return _from_pandas(source)
    raise DataValidationError(
        f"`source` must be a path, a polars or a pandas DataFrame; got {type(source).__name__}."
    )


def _long_from_column_levels(df: Any) -> Any:
    """yfinance's layout (columns ``(Price, Ticker)``, e.g. ``("Close", "AAPL")``) in long
    format: one row per date and symbol."""
    if df.columns.nlevels != 2:
        raise DataValidationError(
            f"the frame's columns have {df.columns.nlevels} levels; expected 2 (field, symbol) as yfinance "
            "gives. Fix: select or flatten the levels so each column is one field, with a `symbol` column."
        )
    fields = [i for i in range(2) if any(str(v).lower() in ("close", "adj close") for v in df.columns.levels[i])]
    if len(fields) != 1:
        raise DataValidationError(
            f"cannot tell which column level holds the prices in {list(df.columns[:4])}; expected one level "
            "with 'Close'. Fix: df.stack(level=<the symbol level>) and name that level 'symbol'."
        )
    other = 1 - fields[0]
    stacked = df.stack(level=other, future_stack=True)
    stacked.index = stacked.index.set_names([df.index.name or "ts", "symbol"])
    return stacked.reset_index().dropna(subset=[c for c in stacked.columns if str(c).lower() == "close"])


def _from_pandas(df: Any) -> pl.DataFrame:
    from workbench._extras import require

    require("pandas", "pyarrow")
    import pandas as pd

    if isinstance(df, pd.Series):
        df = df.to_frame(name=df.name or "close")
    if isinstance(df.columns, pd.MultiIndex):
        df = _long_from_column_levels(df)
    if isinstance(df.index, pd.MultiIndex):
        if any(n is None for n in df.index.names):
            raise DataValidationError(
                f"the frame has a row MultiIndex with unnamed levels {list(df.index.names)}; name them, e.g. "
                "df.index.names = ['symbol', 'ts'], so each becomes a column."
            )
        df = df.reset_index()
    elif isinstance(df.index, pd.DatetimeIndex) or df.index.name is not None:
        df = df.reset_index()
    for col in df.columns:
        if df[col].dtype == object and len(df) and isinstance(df[col].iloc[0], datetime):
            zones = [str(v.tzinfo) if isinstance(v, datetime) and not pd.isna(v) else None for v in df[col]]
            if len(set(zones) - {None}) > 1:
                bad = [i for i, z in enumerate(zones) if z not in (zones[0], None)]
                rows = "\n".join(f"  row {i}: {col}={df[col].iloc[i]!r}" for i in bad[:5])
                raise DataValidationError(
                    f"column {col!r} mixes timezones {sorted(set(zones) - {None})}; {len(bad)} row(s) differ "
                    f"from the first row's zone {zones[0]!r}:\n{rows}\n"
                    "Fix: convert every timestamp to one zone (e.g. pd.to_datetime(col, utc=True))."
                )
            if zones[0] != "None":
                df[col] = pd.to_datetime(df[col], utc=True)
    return pl.from_pandas(df)


def _rename(frame: pl.DataFrame) -> pl.DataFrame:
    mapping: dict[str, str] = {}
    taken: dict[str, str] = {}
    for col in frame.columns:
        name = canonical_name(col)
        if name is None:
            continue
        if name in taken:
            if name == TS:
                raise DataValidationError(
                    f"columns {taken[name]!r} and {col!r} both look like the timestamp. "
                    "Fix: combine them into one datetime column or drop one before loading."
                )
            raise DataValidationError(
                f"columns {taken[name]!r} and {col!r} both map to `{name}`; keeping one silently could pick the "
                f"wrong prices. Fix: drop or rename one of them before loading."
            )
        taken[name] = col
        mapping[col] = name
    if TS not in taken:
        unnamed = [c for c in frame.columns if c in _UNNAMED_INDEX]
        if unnamed:
            mapping[unnamed[0]] = TS
    frame = frame.rename(mapping)
    unknown = [c for c in frame.columns if c not in mapping.values()]
    required = [TS, "close"]
    if any(c in frame.columns for c in ("open", "high", "low")):
        required = [TS, *PRICE_COLUMNS]
    if "close" not in frame.columns and "adj_close" in frame.columns:
        frame = frame.rename({"adj_close": "close"})
    missing = [c for c in required if c not in frame.columns]
    if missing:
        col = missing[0]
        aliases = [col, *(k for k, v in ALIASES.items() if v == col and k != col)]
        hint = next(
            (f" Column {u!r} is not a known name.{did_you_mean(u, aliases)}" for u in unknown if did_you_mean(u, aliases)),
            "",
        )
        raise DataValidationError(
            f"bars lack the `{col}` column (columns found: {list(mapping) + unknown}).{hint}"
            f" Fix: rename the column to {col!r} or one of its aliases."
        )
    return frame


def _parse_ts(frame: pl.DataFrame, tz: str) -> pl.DataFrame:
    dtype = frame.schema[TS]
    col = pl.col(TS)
    if dtype == pl.String:
        has_offset = frame.select(col.str.contains(_OFFSET_RE).alias("o"))["o"]
        if 0 < has_offset.sum() < has_offset.count():
            n, rows = offending_rows(frame, ~col.str.contains(_OFFSET_RE), [TS])
            raise DataValidationError(
                f"column `ts` mixes timestamps with and without a UTC offset ({n} rows lack one):\n{rows}\n"
                "Fix: give every timestamp the same form (all with an offset, or none and pass tz=)."
            )
        parsed = col.str.to_datetime(time_unit="us", strict=False, time_zone="UTC" if has_offset.any() else None)
        out = frame.with_columns(parsed.alias("__ts"))
        n, rows = offending_rows(out, pl.col("__ts").is_null() & col.is_not_null(), [TS])
        if n:
            raise DataValidationError(f"column `ts` has {n} value(s) that are not dates:\n{rows}\nFix: use ISO dates such as 2024-01-31 or 2024-01-31T15:30:00.")
        frame = out.drop(TS).rename({"__ts": TS})
        dtype = frame.schema[TS]
    elif dtype == pl.Date:
        frame = frame.with_columns(col.cast(pl.Datetime("us")))
        dtype = frame.schema[TS]
    if not isinstance(dtype, pl.Datetime):
        raise DataValidationError(
            f"column `ts` must hold dates or datetimes; got {dtype}. "
            "Fix: convert it, e.g. pl.from_epoch('ts', time_unit='s') for epoch seconds."
        )
    frame = frame.with_columns(col.dt.cast_time_unit("us"))
    if dtype.time_zone is None:
        try:
            local = frame.with_columns(col.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null").alias("__ts"))
        except Exception as exc:  # a zone name polars does not know
            raise InvalidParameterError(f"`tz` must be an IANA timezone such as 'UTC' or 'America/New_York'; got {tz!r}.") from exc
        n, rows = offending_rows(local, pl.col("__ts").is_null() & col.is_not_null(), [TS])
        if n:
            raise DataValidationError(
                f"column `ts` has {n} local time(s) that do not exist in {tz!r} (a daylight-saving gap):\n{rows}\n"
                "Fix: pass the timezone the times were recorded in (tz=), or timestamps with a UTC offset."
            )
        frame = local.drop(TS).rename({"__ts": TS})
    return frame


_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"


def _numbers(frame: pl.DataFrame, c: str, decimal_comma: bool) -> pl.Expr:
    """Text column ``c`` as numbers: ``1,234.5`` (thousands commas), or with ``decimal_comma``
    ``1.234,5``. A decimal comma that was not declared (``10,5``) is refused, never read as 105."""
    text = pl.col(c).cast(pl.String).str.strip_chars()
    if decimal_comma:
        return text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
    values = frame.select(text.alias("v"))["v"]
    odd = values.filter(values.str.contains(",", literal=True) & ~values.str.contains(_THOUSANDS))
    if odd.len():
        raise DataValidationError(
            f"column `{c}` holds {odd[0]!r}, which reads as a decimal comma ({odd.len()} such value(s)); it is not "
            "a thousands separator. Fix: pass decimal_comma=True, or clean the file to use '.' for decimals."
        )
    return text.str.replace_all(",", "").cast(pl.Float64, strict=False)


def _cast_numeric(frame: pl.DataFrame, *, adjust: bool, decimal_comma: bool = False) -> pl.DataFrame:
    if "open" not in frame.columns:  # close-only series
        frame = frame.with_columns(*(pl.col("close").alias(c) for c in ("open", "high", "low")))
    if "volume" not in frame.columns:
        frame = frame.with_columns(pl.lit(0.0).alias("volume"))
    cols = [*BAR_COLUMNS, *(["adj_close"] if "adj_close" in frame.columns else [])]
    for c in cols:
        if frame.schema[c].is_numeric():
            frame = frame.with_columns(pl.col(c).cast(pl.Float64))
            continue
        out = frame.with_columns(_numbers(frame, c, decimal_comma).alias("__v"))
        n, rows = offending_rows(out, pl.col("__v").is_null() & pl.col(c).is_not_null(), [c])
        if n:
            raise DataValidationError(f"column `{c}` has {n} non-numeric value(s):\n{rows}\nFix: clean or drop those rows.")
        frame = out.drop(c).rename({"__v": c})
    if adjust and "adj_close" in frame.columns:
        ratio = pl.col("adj_close") / pl.col("close")
        frame = frame.with_columns(*(pl.col(c) * ratio for c in PRICE_COLUMNS))
    return frame


def _repair(frame: pl.DataFrame, repairs: tuple[str, ...]) -> pl.DataFrame:
    key = [SYMBOL] if SYMBOL in frame.columns else []
    done: list[str] = []
    if "dedupe" in repairs:
        n0 = frame.height
        frame = frame.unique(maintain_order=True)
        if frame.height < n0:
            done.append(f"dropped {n0 - frame.height} exact duplicate row(s)")
    if "sort" in repairs:
        sorted_frame = frame.sort([*key, TS], maintain_order=True)
        if not sorted_frame.equals(frame):
            done.append("sorted the rows by " + " and ".join([*key, TS]))
        frame = sorted_frame
    if "ffill" in repairs:
        gaps = frame.select(pl.any_horizontal(pl.col(c).is_null() | pl.col(c).is_nan() for c in BAR_COLUMNS).sum()).item()
        if gaps:
            filled = [pl.col(c).fill_nan(None).forward_fill().over(key) if key else pl.col(c).fill_nan(None).forward_fill() for c in PRICE_COLUMNS]
            frame = frame.with_columns(*filled, pl.col("volume").fill_nan(None).fill_null(0.0))
            done.append(f"forward-filled {gaps} row(s) with missing values (volume set to 0)")
    if done:
        warn("workbench.data.load repaired the bars: " + "; ".join(done) + ".")
    return frame
