"""The canonical bar schema and the column aliases recognised on load."""

from __future__ import annotations

import polars as pl

__all__ = ["TS", "SYMBOL", "PRICE_COLUMNS", "BAR_COLUMNS", "ALIASES", "DEFAULT_TZ", "canonical_name"]

TS = "ts"
SYMBOL = "symbol"
PRICE_COLUMNS = ("open", "high", "low", "close")
BAR_COLUMNS = (*PRICE_COLUMNS, "volume")
DEFAULT_TZ = "UTC"
"""Timezone given to timezone-naive timestamps unless ``tz=`` says otherwise."""

# lower-cased, stripped of spaces/underscores/dashes -> canonical name
ALIASES: dict[str, str] = {
    "ts": TS, "date": TS, "datetime": TS, "timestamp": TS, "time": TS, "dt": TS,
    "index": TS, "opentime": TS, "tradedate": TS, "day": TS,
    "symbol": SYMBOL, "ticker": SYMBOL, "asset": SYMBOL, "instrument": SYMBOL, "code": SYMBOL,
    "open": "open", "o": "open", "openprice": "open", "adjopen": "open",
    "high": "high", "h": "high", "highprice": "high", "adjhigh": "high",
    "low": "low", "l": "low", "lowprice": "low", "adjlow": "low",
    "close": "close", "c": "close", "closeprice": "close", "last": "close", "price": "close",
    "adjclose": "adj_close", "adjustedclose": "adj_close",
    "volume": "volume", "v": "volume", "vol": "volume", "adjvolume": "volume",
}

TS_DTYPE = pl.Datetime("us", DEFAULT_TZ)


def canonical_name(column: str) -> str | None:
    """The canonical name of ``column``, or ``None`` if it is not a known alias.

    >>> canonical_name("Adj Close"), canonical_name("Datetime"), canonical_name("Foo")
    ('adj_close', 'ts', None)
    """
    key = "".join(ch for ch in column.lower() if ch.isalnum())
    return ALIASES.get(key)
