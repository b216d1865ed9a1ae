"""Sentiment of dated headlines, scored in [-1, 1] by an offline lexicon or an LLM endpoint.

Adapters score texts (:meth:`score`) and, over a :class:`Headlines` file, give each bar the mean
score of the headlines dated after the previous bar's date and on or before its own (a headline of
day ``d`` is known at the close of ``d``); a bar without headlines is NEUTRAL (0). No adapter
configured: NEUTRAL everywhere.

* :class:`LexiconSentiment` — VADER's compound score (its lexicon ships with the package).
* :class:`LLMSentiment` — any OpenAI-compatible ``/chat/completions`` endpoint (URL + key), with a
  timeout and a cache; a timeout, a quota or rate-limit reply, an HTTP error or an unparsable
  answer gives NEUTRAL and a warning.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from workbench._validate import check_number
from workbench._warnings import warn
from workbench.errors import DataValidationError
from workbench.strategies.base import Bars

__all__ = ["NEUTRAL", "Headlines", "LexiconSentiment", "LLMSentiment", "bar_sentiment"]

NEUTRAL = 0.0


@dataclass(frozen=True)
class Headlines:
    """Dated headlines: a frame with ``date`` (a date), ``text`` and optionally ``symbol``."""

    frame: pl.DataFrame

    @classmethod
    def read(cls, path: str | Path) -> Headlines:
        """Read a CSV (``date,text[,symbol]``; dates as ``YYYY-MM-DD``) or Parquet file.

        Raises
        ------
        DataValidationError
            Missing columns, or a date that does not parse (the error names its row and value).
        """
        path = Path(path)
        frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path, infer_schema=False)
        return cls.from_frame(frame, source=str(path))

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, *, source: str = "headlines") -> Headlines:
        missing = [c for c in ("date", "text") if c not in frame.columns]
        if missing:
            raise DataValidationError(f"{source} lacks column(s) {', '.join(missing)}; it needs date, text[, symbol].")
        if frame.schema["date"] != pl.Date:
            raw = frame["date"].cast(pl.String)
            parsed = raw.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
            bad = (parsed.is_null() & raw.is_not_null()) | raw.is_null()
            if bad.any():
                i = int(bad.arg_max())
                raise DataValidationError(
                    f"{source}: `date` in row {i + 1} is {raw[i]!r}, not a date in YYYY-MM-DD form; fix or drop that row."
                )
            frame = frame.with_columns(parsed.alias("date"))
        return cls(frame.with_columns(pl.col("text").cast(pl.String).fill_null("")).sort("date"))


def bar_sentiment(view: Bars, headlines: Headlines, scores: np.ndarray) -> np.ndarray:
    """Mean score per (bar, asset) of the headlines dated in (previous bar's date, bar's date]
    (all headlines for every asset when there is no ``symbol`` column); NEUTRAL elsewhere."""
    days = view.ts.astype("datetime64[D]")
    h = headlines.frame
    hd = h["date"].to_numpy().astype("datetime64[D]")
    pos = np.searchsorted(days, hd, side="left")  # the first bar on or after the headline's day
    out = np.full((view.n_bars, view.n_assets), NEUTRAL)
    sums = np.zeros_like(out)
    counts = np.zeros_like(out)
    cols = [list(range(view.n_assets))] * h.height
    if "symbol" in h.columns:
        index = {s: j for j, s in enumerate(view.symbols)}
        cols = [[index[s]] if s in index else [] for s in h["symbol"].to_list()]
    for k in range(h.height):
        if pos[k] < view.n_bars:
            for j in cols[k]:
                sums[pos[k], j] += scores[k]
                counts[pos[k], j] += 1
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


@dataclass(frozen=True)
class LexiconSentiment:
    """VADER's compound score of each headline.

    >>> LexiconSentiment().score(["Profits surge to a record", "Fraud probe widens, shares plunge"]).round(2).tolist()
    [0.44, -0.38]
    """

    headlines: Headlines | None = None

    def score(self, texts: list[str]) -> np.ndarray:
        from workbench._extras import require

        require("ml", "vaderSentiment")
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        sia = SentimentIntensityAnalyzer()
        return np.array([sia.polarity_scores(t)["compound"] for t in texts], dtype=np.float64)

    def scores(self, view: Bars) -> np.ndarray:
        if self.headlines is None:
            return np.full((view.n_bars, view.n_assets), NEUTRAL)
        return bar_sentiment(view, self.headlines, self.score(self.headlines.frame["text"].to_list()))


_PROMPT = ("Rate the sentiment of this financial headline for the stock's price, from -1 (very negative) to 1 "
           "(very positive). Answer with the number only.\n\nHeadline: ")
_NUMBER = re.compile(r"[-+]?\d*\.?\d+")


@dataclass(frozen=True)
class LLMSentiment:
    """An OpenAI-compatible chat-completions endpoint: ``url`` (its base, e.g.
    ``http://127.0.0.1:8000/v1``), ``api_key``, ``model``, ``timeout`` in seconds; replies are
    cached in memory and, with ``cache_path``, in a JSON file."""

    url: str
    api_key: str = ""
    model: str = "gpt-4o-mini"
    timeout: float = 10.0
    headlines: Headlines | None = None
    cache_path: Path | None = None
    _cache: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_number("timeout", self.timeout, 0.0, 600.0, lo_open=True)
        if self.cache_path is not None and Path(self.cache_path).exists():
            self._cache.update(json.loads(Path(self.cache_path).read_text()))

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model}\n{text}".encode()).hexdigest()

    def score(self, texts: list[str]) -> np.ndarray:
        out = []
        for t in texts:
            k = self._key(t)
            if k not in self._cache:
                value = self._ask(t)
                if value is None:
                    out.append(NEUTRAL)
                    continue
                self._cache[k] = value
            out.append(self._cache[k])
        if self.cache_path is not None:
            Path(self.cache_path).write_text(json.dumps(self._cache, sort_keys=True))
        return np.array(out, dtype=np.float64)

    def _ask(self, text: str) -> float | None:
        body = json.dumps({"model": self.model, "temperature": 0,
                           "messages": [{"role": "user", "content": _PROMPT + text}]}).encode()
        req = urllib.request.Request(self.url.rstrip("/") + "/chat/completions", data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {self.api_key}"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - the user's endpoint
                reply = json.loads(resp.read())
            content = reply["choices"][0]["message"]["content"]
        except urllib.error.HTTPError as exc:
            kind = "quota or rate limit" if exc.code == 429 else f"HTTP {exc.code}"
            return self._neutral(f"{kind} from {self.url}")
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            return self._neutral(f"no reply from {self.url} within {self.timeout:g} s ({exc})")
        except (ValueError, KeyError, IndexError, TypeError):
            return self._neutral("a reply that is not a chat completion")
        m = _NUMBER.search(str(content))
        if m is None or not -1.0 <= float(m.group()) <= 1.0:
            return self._neutral(f"an unparsable answer {str(content)[:40]!r}")
        return float(m.group())

    def _neutral(self, why: str) -> None:
        warn(f"LLM sentiment: {why}; the headline is scored NEUTRAL.")
        return None

    def scores(self, view: Bars) -> np.ndarray:
        if self.headlines is None:
            return np.full((view.n_bars, view.n_assets), NEUTRAL)
        return bar_sentiment(view, self.headlines, self.score(self.headlines.frame["text"].to_list()))

