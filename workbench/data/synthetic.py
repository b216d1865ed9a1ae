"""A seeded generator of realistic synthetic OHLCV bars (geometric Brownian motion with optional
regime switches) for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import numpy as np
import polars as pl

from workbench._validate import check_int, check_number
from workbench.data.frequency import parse_every
from workbench.data.schema import BAR_COLUMNS, SYMBOL, TS
from workbench.errors import InvalidParameterError

__all__ = ["synthetic"]


def synthetic(
    n_bars: int,
    n_symbols: int = 1,
    *,
    seed: int = 0,
    start: datetime = datetime(2000, 1, 1, tzinfo=timezone.utc),
    every: str = "1d",
    mu: float = 0.05,
    sigma: float = 0.2,
    periods_per_year: float = 252.0,
    regimes: Sequence[tuple[float, float]] | None = None,
    switch_prob: float = 0.01,
    price: float = 100.0,
) -> pl.DataFrame:
    """Generate valid OHLCV bars from geometric Brownian motion.

    Parameters
    ----------
    n_bars, n_symbols
        Bars per symbol and number of symbols (named ``S0``, ``S1``…; one symbol gives no
        ``symbol`` column).
    seed
        Everything is determined by the seed.
    every
        Bar spacing as a polars duration (``"1m"``, ``"1h"``, ``"1d"``…).
    mu, sigma
        Annual drift and volatility, scaled by ``periods_per_year``.
    regimes
        Optional ``[(mu, sigma), …]`` regimes; each bar switches to a random other regime with
        probability ``switch_prob`` (a Markov chain, independent per symbol).
    price
        Starting price.

    Examples
    --------
    >>> bars = synthetic(3, seed=42)
    >>> bars.columns
    ['ts', 'open', 'high', 'low', 'close', 'volume']
    >>> bool((bars["low"] <= bars["close"]).all() and (bars["close"] <= bars["high"]).all())
    True
    >>> synthetic(3, seed=42).equals(bars)
    True
    """
    n_bars = check_int("n_bars", n_bars, 2)
    n_symbols = check_int("n_symbols", n_symbols, 1)
    seed = check_int("seed", seed, 0)
    if not isinstance(start, datetime):
        raise InvalidParameterError(f"`start` must be a datetime; got {start!r}.")
    mu = check_number("mu", mu, -10, 10)
    sigma = check_number("sigma", sigma, 0, 10)
    periods_per_year = check_number("periods_per_year", periods_per_year, 0, None, lo_open=True)
    switch_prob = check_number("switch_prob", switch_prob, 0, 1)
    check_number("price", price, 0, None, lo_open=True)
    every = str(parse_every(every))
    rng = np.random.default_rng(seed)
    table = _regime_table(regimes, mu, sigma)
    state = _regime_path(rng, n_bars, n_symbols, len(table), switch_prob)
    dt = 1.0 / periods_per_year
    m, s = table[state, 0], table[state, 1]
    z = rng.standard_normal((n_bars, n_symbols))
    log_ret = (m - 0.5 * s**2) * dt + s * np.sqrt(dt) * z
    close = price * np.exp(np.cumsum(log_ret, axis=0))
    gap = 0.2 * s * np.sqrt(dt) * rng.standard_normal((n_bars, n_symbols))
    prev = np.vstack([np.full((1, n_symbols), price), close[:-1]])
    open_ = prev * np.exp(gap)
    wick = s * np.sqrt(dt) * np.abs(rng.standard_normal((2, n_bars, n_symbols))) * 0.5
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    volume = np.round(rng.lognormal(12.0, 0.5, (n_bars, n_symbols)))
    if not (np.isfinite(high).all() and (low > 0).all()):
        raise InvalidParameterError(
            f"prices overflow or underflow over {n_bars} bars with these drifts and volatilities (mu={mu}, "
            f"sigma={sigma}, regimes={regimes!r}). Fix: use a smaller `sigma` or `mu`, or fewer bars."
        )
    ts = _timestamps(start, every, n_bars)
    frames = []
    for j in range(n_symbols):
        cols = dict(zip(BAR_COLUMNS, (open_[:, j], high[:, j], low[:, j], close[:, j], volume[:, j]), strict=True))
        frame = pl.DataFrame({TS: ts, **cols})
        if n_symbols > 1:
            frame = frame.with_columns(pl.lit(f"S{j}").alias(SYMBOL)).select([TS, SYMBOL, *BAR_COLUMNS])
        frames.append(frame)
    return pl.concat(frames) if n_symbols > 1 else frames[0]


def _regime_table(regimes: Sequence[tuple[float, float]] | None, mu: float, sigma: float) -> np.ndarray:
    try:
        table = np.asarray(regimes if regimes else [(mu, sigma)], dtype=np.float64)
    except (TypeError, ValueError):
        table = np.empty((0,))
    if table.ndim != 2 or table.shape[1] != 2 or not np.isfinite(table).all() or (table[:, 1] < 0).any():
        raise InvalidParameterError(
            f"`regimes` must be a list of finite (mu, sigma) pairs with sigma >= 0; got {regimes!r}."
        )
    return table


def _regime_path(rng: np.random.Generator, n_bars: int, n_symbols: int, n_regimes: int, p: float) -> np.ndarray:
    state = np.zeros((n_bars, n_symbols), dtype=np.int64)
    if n_regimes == 1:
        return state
    switches = rng.random((n_bars, n_symbols)) < p
    jumps = rng.integers(1, n_regimes, size=(n_bars, n_symbols))
    cur = np.zeros(n_symbols, dtype=np.int64)
    for t in range(n_bars):
        cur = np.where(switches[t], (cur + jumps[t]) % n_regimes, cur)
        state[t] = cur
    return state


def _timestamps(start: datetime, every: str, n: int) -> pl.Series:
    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    k = int("".join(ch for ch in every if ch.isdigit()))
    unit = every.lstrip("0123456789")
    end = pl.select(pl.lit(start).dt.offset_by(f"{k * (n - 1)}{unit}")).item()
    ts = pl.datetime_range(start, end, every, eager=True, time_unit="us", time_zone="UTC")
    return ts.dt.convert_time_zone("UTC")[:n]
