"""Train/test splitters over bar indices: walk-forward windows and combinatorial purged K-fold.

Every splitter yields ``(train_idx, test_idx)`` pairs of sorted ``int64`` numpy arrays of bar
positions (row numbers), ready to slice returns, signals or features.

* :func:`walk_forward_splits` — rolling or anchored (expanding) windows, sized in bars or in
  calendar durations (``"3y"``, ``"6mo"``, ``"2w"``) over the bars' timestamps.
* :class:`CombinatorialPurgedKFold` — López de Prado, *Advances in Financial Machine Learning*
  (2018), ch. 12: every choice of ``k`` of ``N`` contiguous groups as the test set, with the
  training set purged of bars whose label span overlaps a test group and embargoed after it;
  the test groups recombine into :math:`\\varphi = \\frac{k}{N}\\binom{N}{k}` backtest paths.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass
from itertools import combinations
from typing import Any

import numpy as np
import polars as pl

from workbench._validate import check_int
from workbench.errors import DataValidationError, InvalidParameterError, OptimizationError

__all__ = ["walk_forward_splits", "CombinatorialPurgedKFold"]

Split = tuple[np.ndarray, np.ndarray]

_DURATION = re.compile(r"^(?:\d+(?:ns|us|ms|mo|s|m|h|d|w|q|y))+$")
_TOKEN = re.compile(r"(\d+)(ns|us|ms|mo|s|m|h|d|w|q|y)")
_SUBDAY = {"ns", "us", "ms", "s", "m", "h"}
_BATCH = 256


# --------------------------------------------------------------------------- walk-forward
def walk_forward_splits(
    bars: int | Any,
    *,
    train: int | str,
    test: int | str,
    step: int | str | None = None,
    anchored: bool = False,
    partial: bool = False,
) -> Iterator[Split]:
    """Walk-forward windows: train on a window, test on the one after it, move on by ``step``.

    Window ``k`` trains on ``[start_k, start_k + train)`` and tests on
    ``[start_k + train, start_k + train + test)``, with ``start_k = k * step`` from the first
    bar. ``anchored=True`` keeps every training window starting at the first bar (an expanding
    window). Windows are laid out from the start of the data; only complete test windows are
    produced unless ``partial=True``, which keeps a last, shorter one.

    Sizes are bar counts (ints), or polars duration strings (``"3y"``, ``"6mo"``, ``"2w"``,
    ``"1d12h"``; units ns us ms s m h d w mo q y) when ``bars`` holds timestamps. With durations,
    boundaries are calendar offsets from the first timestamp, a bar belongs to the window whose
    half-open interval ``[from, to)`` holds its timestamp, the data count as ending one bar
    interval (the median spacing) after the last timestamp, and windows with no bars on either
    side (a hole in the data) are skipped.

    Parameters
    ----------
    bars
        The number of bars (int), or the bars' timestamps: strictly increasing polars/pandas/
        numpy datetimes or dates.
    train, test
        Training and test window lengths: bar counts (>= 1) or duration strings.
    step
        How far consecutive windows move (default: ``test``, so test windows tile the data).
    anchored
        Train from the first bar every time (expanding window) instead of a rolling window.
    partial
        Keep a final test window shorter than ``test`` (default False).

    Returns
    -------
    Iterator[tuple[numpy.ndarray, numpy.ndarray]]
        ``(train_idx, test_idx)`` int64 bar positions per window, oldest first.

    Raises
    ------
    InvalidParameterError
        Non-positive sizes, malformed durations, durations without timestamps, mixed bar counts
        and durations, or a first window longer than the data.
    DataValidationError
        Timestamps that are not dates/datetimes, hold nulls, or are not strictly increasing.

    Examples
    --------
    >>> for tr, te in walk_forward_splits(10, train=4, test=3):
    ...     print(tr.tolist(), te.tolist())
    [0, 1, 2, 3] [4, 5, 6]
    [3, 4, 5, 6] [7, 8, 9]
    >>> for tr, te in walk_forward_splits(10, train=4, test=2, anchored=True):
    ...     print(tr.tolist(), te.tolist())
    [0, 1, 2, 3] [4, 5]
    [0, 1, 2, 3, 4, 5] [6, 7]
    [0, 1, 2, 3, 4, 5, 6, 7] [8, 9]

    With timestamps and calendar durations:

    >>> import datetime as dt
    >>> ts = [dt.date(2024, 1, 1) + dt.timedelta(days=7 * i) for i in range(26)]
    >>> [(len(tr), len(te)) for tr, te in walk_forward_splits(ts, train="2mo", test="1mo")]
    [(9, 4), (8, 5), (9, 4), (9, 4)]
    """
    step = test if step is None else step
    kinds = {isinstance(v, str) for v in (train, test, step)}
    if len(kinds) > 1:
        raise InvalidParameterError(
            f"`train`, `test` and `step` must all be bar counts or all durations; got "
            f"train={train!r}, test={test!r}, step={step!r}."
        )
    if kinds == {True}:
        ts = _timestamps(bars)
        unit_check = ts.dtype == pl.Date
        spans = {
            name: _duration(name, str(v), date_only=unit_check)
            for name, v in (("train", train), ("test", test), ("step", step))
        }
        bounds = _time_windows(ts, spans, anchored=anchored, partial=partial)
        if not bounds:
            raise InvalidParameterError(
                f"no window of `train`={train!r} and `test`={test!r} holds bars on both sides "
                "(the data have holes longer than the windows); use longer windows."
            )
    else:
        n_bars = _n_bars(bars)
        tr = check_int("train", train, 1, hint="It is a number of bars.")
        te = check_int("test", test, 1, hint="It is a number of bars.")
        st = check_int("step", step, 1, hint="It is a number of bars.")
        if tr + te > n_bars and not (partial and tr < n_bars):
            raise InvalidParameterError(
                f"`train` + `test` = {tr} + {te} = {tr + te} bars is longer than the {n_bars} bars "
                "of data; shorten the windows or use more data."
            )
        bounds = _bar_windows(n_bars, tr, te, st, anchored=anchored, partial=partial)
    return ((np.arange(a, b, dtype=np.int64), np.arange(b, c, dtype=np.int64)) for a, b, c in bounds)


def _n_bars(bars: Any) -> int:
    if isinstance(bars, (int, np.integer)) and not isinstance(bars, bool):
        return check_int("bars", bars, 1, hint="Pass the number of bars or their timestamps.")
    try:
        return len(bars)
    except TypeError:
        raise InvalidParameterError(
            f"`bars` must be a number of bars or an array of timestamps; got {bars!r}."
        ) from None


def _bar_windows(
    n: int, train: int, test: int, step: int, *, anchored: bool, partial: bool
) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    k = 0
    while True:
        start = k * step
        mid = start + train
        end = mid + test
        if end > n and not (partial and mid < n):
            return out
        out.append((0 if anchored else start, mid, min(end, n)))
        if end >= n:
            return out
        k += 1


def _timestamps(bars: Any) -> pl.Series:
    if isinstance(bars, (int, np.integer)):
        raise InvalidParameterError(
            f"duration strings need timestamps; `bars` is the bar count {bars!r}. Pass the bars' "
            "`ts` column, or give `train`/`test`/`step` as bar counts."
        )
    try:
        ts = bars if isinstance(bars, pl.Series) else pl.Series(bars)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"`bars` must be an array of timestamps; got {type(bars).__name__} ({exc})."
        ) from None
    if not (ts.dtype == pl.Date or isinstance(ts.dtype, pl.Datetime)):
        raise DataValidationError(
            f"`bars` must hold dates or datetimes to use durations; got dtype {ts.dtype}."
        )
    if ts.len() < 2 or ts.null_count():
        raise DataValidationError(
            f"`bars` timestamps must hold at least 2 values and no nulls; got {ts.len()} values "
            f"with {ts.null_count()} null(s)."
        )
    phys = ts.to_physical().to_numpy()
    bad = np.flatnonzero(np.diff(phys) <= 0)
    if bad.size:
        raise DataValidationError(
            f"`bars` timestamps must be strictly increasing; position {bad[0] + 1} ({ts[int(bad[0]) + 1]}) "
            f"does not follow {ts[int(bad[0])]}. Sort and de-duplicate them (one asset at a time)."
        )
    return ts


def _duration(name: str, value: str, *, date_only: bool) -> str:
    text = value.strip().lower()
    if not _DURATION.match(text) or not any(int(n) for n, _ in _TOKEN.findall(text)):
        raise InvalidParameterError(
            f"`{name}` must be a positive polars duration such as '3y', '6mo', '2w' or '1d12h' "
            f"(units ns us ms s m h d w mo q y); got {value!r}."
        )
    if date_only and any(u in _SUBDAY for _, u in _TOKEN.findall(text)):
        raise InvalidParameterError(
            f"`{name}`={value!r} uses a sub-day unit but the timestamps are dates; use d, w, mo, q "
            "or y."
        )
    return text


def _times(text: str, k: int) -> str:
    return "".join(f"{int(n) * k}{u}" for n, u in _TOKEN.findall(text))


def _time_windows(
    ts: pl.Series, spans: dict[str, str], *, anchored: bool, partial: bool
) -> list[tuple[int, int, int]]:
    phys = ts.to_physical().to_numpy().astype(np.int64)
    data_end = int(phys[-1] + np.median(np.diff(phys)))
    out: list[tuple[int, int, int]] = []
    k0 = 0
    while True:
        starts = ts.gather(np.zeros(_BATCH, dtype=np.int64)).dt.offset_by(
            pl.Series([_times(spans["step"], k) for k in range(k0, k0 + _BATCH)])
        )
        mids = starts.dt.offset_by(spans["train"])
        ends = mids.dt.offset_by(spans["test"])
        cols = (x.to_physical().to_numpy().astype(np.int64) for x in (starts, mids, ends))
        for j, (s, m, e) in enumerate(zip(*cols, strict=True)):
            complete = e <= data_end
            if not complete and not (partial and m <= phys[-1]):
                if k0 + j == 0:
                    _raise_too_long(ts, spans, ends[0])
                return out
            lo, mid, hi = np.searchsorted(phys, [s, m, e], side="left")
            if mid > lo and hi > mid:
                out.append((0 if anchored else int(lo), int(mid), int(hi)))
            if not complete:
                return out
        k0 += _BATCH


def _raise_too_long(ts: pl.Series, spans: dict[str, str], first_end: Any) -> None:
    raise InvalidParameterError(
        f"`train`={spans['train']!r} + `test`={spans['test']!r} is longer than the data: the first "
        f"window runs from {ts[0]} to {first_end}, but the data end at {ts[-1]}. Shorten the "
        "windows, use more data, or pass partial=True to accept a shorter test window."
    )


# --------------------------------------------------------------------------- CPCV
@dataclass(frozen=True)
class CombinatorialPurgedKFold:
    r"""Combinatorial purged K-fold cross-validation (López de Prado, AFML ch. 12).

    The bars are cut into ``n_splits`` (N) contiguous groups of near-equal size. Each of the
    :math:`\binom{N}{k}` choices of ``k = n_test_splits`` groups is one split's test set; the
    other groups train, minus the bars that leak information across the boundary:

    * **purge** — bar ``i``'s outcome depends on bars ``i .. label_end[i]`` (default
      ``label_end[i] = i + purge``). With a test group spanning bars ``a .. b - 1`` whose labels
      reach ``e = max(label_end[a:b])``, a training bar is dropped when its span
      ``[i, label_end[i]]`` overlaps ``[a, e]``;
    * **embargo** — bars in ``(e, e + embargo]`` after each test group are dropped as well,
      against serial correlation leaking from the test labels into later features.

    Each group is tested in :math:`\varphi = \binom{N-1}{k-1} = \frac{k}{N}\binom{N}{k}`
    splits; taking the ``p``-th of them for every group reassembles ``φ`` complete backtest
    paths (:meth:`paths`).

    Parameters
    ----------
    n_splits
        Number of groups N, >= 2 (default 6).
    n_test_splits
        Test groups per split k, 1 <= k < N (default 2).
    purge
        Label horizon in bars used when :meth:`split` gets no ``label_end`` (default 0).
    embargo
        Bars dropped from training after each test group's label horizon (default 0).

    Examples
    --------
    >>> cv = CombinatorialPurgedKFold(4, 2, purge=1)
    >>> cv.n_combinations, cv.n_paths
    (6, 3)
    >>> train, test = next(cv.split(12))
    >>> train.tolist(), test.tolist()
    ([7, 8, 9, 10, 11], [0, 1, 2, 3, 4, 5])
    >>> cv.paths().tolist()
    [[0, 0, 1, 2], [1, 3, 3, 4], [2, 4, 5, 5]]
    """

    n_splits: int = 6
    n_test_splits: int = 2
    _: KW_ONLY
    purge: int = 0
    embargo: int = 0

    def __post_init__(self) -> None:
        n = check_int("n_splits", self.n_splits, 2, hint="It is the number of groups.")
        k = check_int(
            "n_test_splits", self.n_test_splits, 1, n - 1,
            hint=f"At least one of the {n} groups must remain for training.",
        )
        purge = check_int("purge", self.purge, 0, hint="It is a label horizon in bars.")
        embargo = check_int("embargo", self.embargo, 0, hint="It is a number of bars.")
        for name, value in (("n_splits", n), ("n_test_splits", k), ("purge", purge), ("embargo", embargo)):
            object.__setattr__(self, name, value)

    @property
    def n_combinations(self) -> int:
        """Number of splits, C(N, k)."""
        return math.comb(self.n_splits, self.n_test_splits)

    @property
    def n_paths(self) -> int:
        """Number of backtest paths, φ = C(N - 1, k - 1) = k/N · C(N, k)."""
        return math.comb(self.n_splits - 1, self.n_test_splits - 1)

    def test_groups(self) -> np.ndarray:
        """The test groups of every split, shape ``(n_combinations, k)``, in :meth:`split` order.

        >>> CombinatorialPurgedKFold(3, 2).test_groups().tolist()
        [[0, 1], [0, 2], [1, 2]]
        """
        return np.array(list(combinations(range(self.n_splits), self.n_test_splits)), dtype=np.int64)

    def groups(self, n_bars: int) -> np.ndarray:
        """Group number of each bar, shape ``(n_bars,)`` (the first ``n_bars % N`` groups get
        one bar more).

        >>> CombinatorialPurgedKFold(3, 1).groups(7).tolist()
        [0, 0, 0, 1, 1, 2, 2]
        """
        n = self._check_n_bars(n_bars)
        sizes = np.full(self.n_splits, n // self.n_splits, dtype=np.int64)
        sizes[: n % self.n_splits] += 1
        return np.repeat(np.arange(self.n_splits, dtype=np.int64), sizes)

    def paths(self) -> np.ndarray:
        """Which split's test predictions make up each path, shape ``(n_paths, n_splits)``.

        Entry ``[p, g]`` is the index (in :meth:`split` order) of the split whose test set
        supplies group ``g`` of path ``p``. For bar-level assembly use
        ``cv.paths()[:, cv.groups(n_bars)]``: shape ``(n_paths, n_bars)``.

        >>> CombinatorialPurgedKFold(3, 2).paths().tolist()
        [[0, 0, 1], [1, 2, 2]]
        """
        tg = self.test_groups()
        return np.stack(
            [np.flatnonzero((tg == g).any(axis=1)) for g in range(self.n_splits)], axis=1
        ).astype(np.int64)

    def split(self, n_bars: int, *, label_end: Any = None) -> Iterator[Split]:
        """Yield ``(train_idx, test_idx)`` for every split, in :meth:`test_groups` order.

        Parameters
        ----------
        n_bars
            Number of bars, at least ``n_splits``.
        label_end
            Optional int array, shape ``(n_bars,)``: for bar ``i`` the last bar its outcome
            depends on (``i <= label_end[i] < n_bars``). Defaults to ``i + purge`` (capped at the
            last bar); give either this or ``purge``.

        Raises
        ------
        InvalidParameterError
            Too few bars, or a bad ``label_end``.
        OptimizationError
            Purging and embargo leave a split without training bars (raised when it is reached).
        """
        n = self._check_n_bars(n_bars)
        ends = self._label_end(n, label_end)
        return self._splits(n, ends)

    def _splits(self, n: int, ends: np.ndarray) -> Iterator[Split]:
        group = self.groups(n)
        starts = np.searchsorted(group, np.arange(self.n_splits), side="left")
        stops = np.searchsorted(group, np.arange(self.n_splits), side="right")
        horizon = np.maximum.reduceat(ends, starts)  # last label bar of each group
        idx = np.arange(n, dtype=np.int64)
        for j, tg in enumerate(self.test_groups()):
            keep = ~np.isin(group, tg)
            for g in tg:
                keep &= (ends < starts[g]) | (idx > horizon[g] + self.embargo)
            train = idx[keep]
            if train.size == 0:
                raise OptimizationError(
                    f"split {j} (test groups {tg.tolist()}) has no training bars left after purge "
                    f"and embargo; lower `purge`/`embargo` or `n_test_splits`, or use more bars."
                )
            test = np.concatenate([idx[starts[g] : stops[g]] for g in tg])
            yield train, test

    def _check_n_bars(self, n_bars: Any) -> int:
        return check_int(
            "n_bars", n_bars, self.n_splits, hint=f"Each of the {self.n_splits} groups needs a bar."
        )

    def _label_end(self, n: int, label_end: Any) -> np.ndarray:
        idx = np.arange(n, dtype=np.int64)
        if label_end is None:
            return np.minimum(idx + self.purge, n - 1)
        if self.purge:
            raise InvalidParameterError(
                f"give either `label_end` or `purge`, not both; got purge={self.purge}. "
                "`label_end` already sets each bar's label horizon."
            )
        ends = np.asarray(label_end)
        if ends.shape != (n,) or ends.dtype.kind not in "iu":
            raise InvalidParameterError(
                f"`label_end` must be an integer array of shape ({n},); got dtype {ends.dtype}, "
                f"shape {ends.shape}."
            )
        ends = ends.astype(np.int64)
        bad = np.flatnonzero((ends < idx) | (ends >= n))
        if bad.size:
            i = int(bad[0])
            raise InvalidParameterError(
                f"`label_end[{i}]` must be in [{i}, {n - 1}] (a label ends at or after its bar, "
                f"inside the data); got {int(ends[i])}."
            )
        return ends
