"""Plain reference implementations of the indicators (numpy loops and per-window numpy
reductions, written independently of the kernels) and seeded test data.

The references implement the documented gap rule directly: each indicator is computed on every
maximal run of consecutive valid bars, and is NaN elsewhere.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view


def _runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of every maximal run of True in ``valid``."""
    out, start = [], None
    for i, v in enumerate(valid):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, len(valid)))
    return out


def per_run(fn, *arrays, n_out=1):
    """Apply ``fn`` (which sees gap-free arrays) to every run of bars valid in all ``arrays``."""
    valid = np.all([~np.isnan(a) for a in arrays], axis=0)
    outs = [np.full(len(arrays[0]), np.nan) for _ in range(n_out)]
    for s, e in _runs(valid):
        res = fn(*(a[s:e] for a in arrays))
        res = res if n_out > 1 else (res,)
        for o, r in zip(outs, res, strict=True):
            o[s:e] = r
    return tuple(outs) if n_out > 1 else outs[0]


def _window_reduce(x, w, reduce):
    out = np.full(len(x), np.nan)
    if len(x) >= w:
        out[w - 1 :] = reduce(sliding_window_view(x, w))
    return out


def sma(x, w):
    return per_run(lambda a: _window_reduce(a, w, lambda v: v.mean(axis=1)), x)


def wma(x, w):
    weights = np.arange(1.0, w + 1.0)
    return per_run(lambda a: _window_reduce(a, w, lambda v: v @ weights / weights.sum()), x)


def rolling_std(x, w, ddof=0):
    return per_run(lambda a: _window_reduce(a, w, lambda v: v.std(axis=1, ddof=ddof)), x)


def _ema_run(a, w, alpha):
    out = np.full(len(a), np.nan)
    if len(a) < w:
        return out
    e = a[:w].mean()
    out[w - 1] = e
    for i in range(w, len(a)):
        e = alpha * a[i] + (1.0 - alpha) * e
        out[i] = e
    return out


def ema(x, w):
    return per_run(lambda a: _ema_run(a, w, 2.0 / (w + 1.0)), x)


def _rsi_run(a, w):
    out = np.full(len(a), np.nan)
    if len(a) < w + 1:
        return out
    d = np.diff(a)
    gains, losses = np.where(d > 0, d, 0.0), np.where(d < 0, -d, 0.0)
    ag, al = gains[:w].mean(), losses[:w].mean()

    def value(ag, al):
        if al == 0.0:
            return 50.0 if ag == 0.0 else 100.0
        return 100.0 - 100.0 / (1.0 + ag / al)

    out[w] = value(ag, al)
    for i in range(w + 1, len(a)):
        ag = (ag * (w - 1) + gains[i - 1]) / w
        al = (al * (w - 1) + losses[i - 1]) / w
        out[i] = value(ag, al)
    return out


def rsi(close, w):
    return per_run(lambda a: _rsi_run(a, w), close)


def _atr_run(h, lo, c, w):
    out = np.full(len(c), np.nan)
    tr = h - lo
    for i in range(1, len(c)):
        tr[i] = max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1]))
    if len(c) < w:
        return out
    a = tr[:w].mean()
    out[w - 1] = a
    for i in range(w, len(c)):
        a = (a * (w - 1) + tr[i]) / w
        out[i] = a
    return out


def atr(high, low, close, w):
    return per_run(lambda h, lo, c: _atr_run(h, lo, c, w), high, low, close)


def bollinger(x, w, k, ddof=0):
    mid = sma(x, w)
    sd = rolling_std(x, w, ddof)
    return mid, mid + k * sd, mid - k * sd


def zscore(x, w, ddof=0):
    sd = rolling_std(x, w, ddof)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x - sma(x, w)) / sd
    return np.where(sd > 0, z, np.nan)


def _macd_run(a, fast, slow, signal):
    line = _ema_run(a, fast, 2.0 / (fast + 1.0)) - _ema_run(a, slow, 2.0 / (slow + 1.0))
    sig = np.full(len(a), np.nan)
    if len(a) >= slow:
        sig[slow - 1 :] = _ema_run(line[slow - 1 :], signal, 2.0 / (signal + 1.0))
    return line, sig, line - sig


def macd(x, fast, slow, signal):
    return per_run(lambda a: _macd_run(a, fast, slow, signal), x, n_out=3)


def donchian(high, low, w):
    def run(h, lo):
        up = _window_reduce(h, w, lambda v: v.max(axis=1))
        dn = _window_reduce(lo, w, lambda v: v.min(axis=1))
        return up, dn, (up + dn) / 2.0

    return per_run(run, high, low, n_out=3)


def random_walk(n: int, seed: int, *, start: float = 100.0, vol: float = 0.01) -> np.ndarray:
    """A positive seeded geometric random walk of ``n`` bars."""
    rng = np.random.default_rng(seed)
    return start * np.exp(np.cumsum(rng.normal(0.0, vol, n)))


def random_bars(n: int, seed: int, *, m: int | None = None):
    """Seeded (high, low, close), 1-D or ``(n, m)``, with low <= close <= high."""
    rng = np.random.default_rng(seed)
    shape = (n,) if m is None else (n, m)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, shape), axis=0))
    high = close * (1.0 + rng.uniform(0.0, 0.02, shape))
    low = close * (1.0 - rng.uniform(0.0, 0.02, shape))
    return high, low, close


REF = SimpleNamespace(
    sma=sma,
    ema=ema,
    wma=wma,
    rolling_std=rolling_std,
    zscore=zscore,
    rsi=rsi,
    atr=atr,
    bollinger=bollinger,
    macd=macd,
    donchian=donchian,
    per_run=per_run,
    random_walk=random_walk,
    random_bars=random_bars,
)


@pytest.fixture(scope="session")
def ref() -> SimpleNamespace:
    """The reference implementations and data generators of this module."""
    return REF
