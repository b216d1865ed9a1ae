"""Statistics that say whether the best result of a parameter search is likely overfit.

* :func:`probabilistic_sharpe_ratio` — the probability that the true Sharpe ratio exceeds a
  benchmark, given the track record's length and its non-normality (Bailey & López de Prado 2012).
* :func:`deflated_sharpe_ratio` — the same probability with the benchmark raised to the Sharpe
  ratio the *best of N unskilled trials* is expected to reach (Bailey & López de Prado 2014).
* :func:`minimum_track_record_length` — how many observations make a Sharpe ratio significant.
* :func:`probability_of_backtest_overfitting` — combinatorially symmetric cross-validation
  (Bailey, Borwein, López de Prado & Zhu 2015) over the returns of every configuration tried.

Every Sharpe ratio here is **per period** (per bar), not annualized: the sampling theory behind
these statistics counts observations. Convert with :func:`deannualize_sharpe` /
:func:`annualize_sharpe` (``SR_year = SR_period * sqrt(periods_per_year)``).

Moments estimated from returns use the sample standard deviation (``ddof=1``) for the Sharpe
ratio and the population (biased) estimators for skewness ``m3 / m2**1.5`` and kurtosis
``m4 / m2**2``. Kurtosis is the plain (non-excess) kurtosis: 3 for normal returns.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from workbench._validate import check_choice, check_int, check_number
from workbench.errors import DataValidationError, InvalidParameterError, OptimizationError

__all__ = [
    "annualize_sharpe",
    "deannualize_sharpe",
    "probabilistic_sharpe_ratio",
    "expected_maximum_sharpe",
    "deflated_sharpe_ratio",
    "minimum_track_record_length",
    "PBOResult",
    "probability_of_backtest_overfitting",
]


def _ndtr(x: Any) -> Any:
    """The standard normal CDF (scipy.special, loaded on first use: a sweep that reports no
    overfitting statistics never pays for it)."""
    from scipy.special import ndtr as cdf

    return cdf(x)


def _ndtri(p: Any) -> Any:
    """The inverse of :func:`_ndtr`."""
    from scipy.special import ndtri as ppf

    return ppf(p)


EULER_GAMMA = 0.5772156649015329
_MAX_PBO_SPLITS = 20
_CHUNK_CELLS = 1 << 21  # combinations x configurations evaluated per block of work


# --------------------------------------------------------------------------- conversions
def annualize_sharpe(sharpe: float, *, periods_per_year: float) -> float:
    """Annualize a per-period Sharpe ratio: ``sharpe * sqrt(periods_per_year)``.

    Examples
    --------
    >>> round(annualize_sharpe(0.1, periods_per_year=252), 4)
    1.5875
    """
    ppy = check_number("periods_per_year", periods_per_year, 0, None, lo_open=True)
    return float(sharpe) * math.sqrt(ppy)


def deannualize_sharpe(sharpe: float, *, periods_per_year: float) -> float:
    """Turn an annualized Sharpe ratio into a per-period one: ``sharpe / sqrt(periods_per_year)``.

    Examples
    --------
    >>> round(deannualize_sharpe(2.5, periods_per_year=250), 5)
    0.15811
    """
    ppy = check_number("periods_per_year", periods_per_year, 0, None, lo_open=True)
    return float(sharpe) / math.sqrt(ppy)


# --------------------------------------------------------------------------- moments
def _returns_array(returns: Any, name: str = "returns") -> np.ndarray:
    try:
        arr = np.asarray(returns, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"`{name}` must be a 1-D or 2-D array of numeric per-period returns; got "
            f"{type(returns).__name__} ({exc})."
        ) from None
    if arr.ndim not in (1, 2):
        raise DataValidationError(
            f"`{name}` must be 1-D (one series) or 2-D (one column per series); got {arr.ndim} "
            "dimensions."
        )
    if arr.shape[0] < 2:
        raise DataValidationError(
            f"`{name}` must hold at least 2 observations; got {arr.shape[0]}. A Sharpe ratio "
            "needs a standard deviation."
        )
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr.reshape(arr.shape[0], -1)).any(axis=1))[0])
        raise DataValidationError(
            f"`{name}` must be finite; row {bad} holds {arr.reshape(arr.shape[0], -1)[bad]}. "
            "Drop or fill missing returns (e.g. with 0.0 for flat periods) first."
        )
    return arr


def _sample_moments(arr: np.ndarray) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Per-period Sharpe (ddof=1), n, skewness and (non-excess) kurtosis along axis 0."""
    n = arr.shape[0]
    mean = arr.mean(axis=0)
    dev = arr - mean
    m2 = (dev**2).mean(axis=0)
    if np.any(m2 <= 0.0):
        where = "" if arr.ndim == 1 else f" (column {int(np.flatnonzero(m2 <= 0.0)[0])})"
        raise DataValidationError(
            f"`returns`{where} have zero variance, so their Sharpe ratio is undefined; a flat "
            "series (a configuration that never trades) cannot be tested."
        )
    sharpe = mean / np.sqrt(m2 * n / (n - 1))
    skew = (dev**3).mean(axis=0) / m2**1.5
    kurt = (dev**4).mean(axis=0) / m2**2
    return sharpe, n, skew, kurt


def _moments(
    returns: Any, sharpe: Any, n: Any, skew: Any, kurtosis: Any, *, need_n: bool
) -> tuple[Any, int, Any, Any]:
    """Resolve ``returns`` xor explicit moments into (sharpe, n, skew, kurtosis)."""
    if returns is not None:
        moments = {"sharpe": sharpe, "n": n, "skew": skew, "kurtosis": kurtosis}
        given = [k for k, v in moments.items() if v is not None]
        if given:
            raise InvalidParameterError(
                f"pass either `returns` or the moments, not both; got `returns` and "
                f"`{given[0]}`={moments[given[0]]!r}. Moments are estimated from `returns`."
            )
        return _sample_moments(_returns_array(returns))
    if sharpe is None:
        raise InvalidParameterError(
            "`sharpe` must be given when `returns` is None; got None. Pass `returns=` or the "
            "per-period `sharpe=` (with `n=`, and optionally `skew=`, `kurtosis=`)."
        )
    sr: Any = check_number("sharpe", sharpe, hint="Pass a finite per-period Sharpe ratio.")
    if not math.isfinite(sr):
        raise InvalidParameterError(f"`sharpe` must be finite; got {sharpe!r}.")
    n_obs = 0
    if need_n:
        if n is None:
            raise InvalidParameterError(
                "`n` (the number of return observations) must be given with `sharpe`; got None."
            )
        n_obs = check_int("n", n, 2, hint="A Sharpe ratio needs at least 2 observations.")
    sk: Any = check_number("skew", 0.0 if skew is None else skew, hint="Normal returns have skew 0.")
    ku: Any = check_number(
        "kurtosis", 3.0 if kurtosis is None else kurtosis, 1.0,
        hint="Kurtosis is non-excess (normal returns have 3); it is never below 1.",
    )
    if not (math.isfinite(sk) and math.isfinite(ku)):
        raise InvalidParameterError(f"`skew` and `kurtosis` must be finite; got {sk!r}, {ku!r}.")
    if ku < 1.0 + sk * sk - 1e-12:
        raise InvalidParameterError(
            f"`kurtosis` must be at least 1 + skew**2 = {1.0 + sk * sk:g} (no distribution has "
            f"less; normal returns have 3); got {ku!r}. Kurtosis is non-excess, not Fisher's."
        )
    return sr, n_obs, sk, ku


def _sharpe_dispersion(sr: Any, skew: Any, kurt: Any) -> Any:
    """``sqrt(1 - skew*SR + (kurt - 1)/4 * SR**2)``: sqrt(n-1) times the Sharpe estimate's std."""
    var = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    if np.any(var <= 0.0):
        raise InvalidParameterError(
            "the Sharpe ratio's sampling variance 1 - skew*SR + (kurtosis-1)/4*SR**2 is not "
            "positive for these moments (a degenerate two-point distribution); check `skew` and "
            "`kurtosis`."
        )
    return np.sqrt(var)


def _out(x: Any) -> Any:
    arr = np.asarray(x, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


def _check_benchmark(benchmark_sharpe: Any) -> float:
    sr0 = check_number("benchmark_sharpe", benchmark_sharpe, hint="Use a per-period Sharpe ratio.")
    if not math.isfinite(sr0):
        raise InvalidParameterError(f"`benchmark_sharpe` must be finite; got {benchmark_sharpe!r}.")
    return sr0


# --------------------------------------------------------------------------- PSR / DSR / MinTRL
def probabilistic_sharpe_ratio(
    returns: Any = None,
    *,
    sharpe: float | None = None,
    n: int | None = None,
    skew: float | None = None,
    kurtosis: float | None = None,
    benchmark_sharpe: float = 0.0,
) -> Any:
    r"""Probabilistic Sharpe ratio: the probability that the true Sharpe ratio exceeds a benchmark.

    Bailey & López de Prado (2012), "The Sharpe Ratio Efficient Frontier":

    .. math::

        \mathrm{PSR}(SR^*) = \Phi\left(\frac{(\widehat{SR} - SR^*)\sqrt{n-1}}
        {\sqrt{1 - \gamma_3 \widehat{SR} + \frac{\gamma_4 - 1}{4}\widehat{SR}^2}}\right)

    with :math:`\widehat{SR}` the **per-period** (not annualized) Sharpe ratio of ``n``
    observations, :math:`\gamma_3` their skewness and :math:`\gamma_4` their (non-excess)
    kurtosis. Use :func:`deannualize_sharpe` to turn an annual benchmark into a per-period one.

    Parameters
    ----------
    returns
        Per-period (excess) returns: 1-D, or 2-D with one column per series (one PSR each).
        Mutually exclusive with the moment arguments.
    sharpe, n, skew, kurtosis
        The moments instead of ``returns``: per-period Sharpe ratio, number of observations
        (>= 2), skewness (default 0) and non-excess kurtosis (default 3, at least 1 + skew**2).
    benchmark_sharpe
        The per-period Sharpe ratio :math:`SR^*` to beat (default 0).

    Returns
    -------
    float or numpy.ndarray
        The probability, in [0, 1]; an array for 2-D ``returns``.

    Raises
    ------
    InvalidParameterError
        Both or neither of ``returns`` and ``sharpe``; ``n < 2``; non-finite Sharpe ratio;
        kurtosis below 1 + skew**2.
    DataValidationError
        ``returns`` hold NaN/inf, fewer than 2 observations or have zero variance.

    Examples
    --------
    >>> probabilistic_sharpe_ratio(sharpe=0.1, n=250, benchmark_sharpe=0.1)
    0.5
    >>> round(probabilistic_sharpe_ratio(sharpe=0.1, n=250), 4)
    0.9423
    >>> round(probabilistic_sharpe_ratio([0.01, -0.005, 0.02, 0.0, 0.012]), 4)
    0.9189
    """
    sr, n_obs, sk, ku = _moments(returns, sharpe, n, skew, kurtosis, need_n=True)
    sr0 = _check_benchmark(benchmark_sharpe)
    z = (sr - sr0) * math.sqrt(n_obs - 1) / _sharpe_dispersion(sr, sk, ku)
    return _out(_ndtr(z))


def expected_maximum_sharpe(n_trials: int, *, variance: float) -> float:
    r"""Expected maximum of ``n_trials`` Sharpe ratios whose true value is zero.

    Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", from the false strategy theorem:

    .. math::

        E[\max_n \widehat{SR}_n] \approx \sqrt{V}\left((1-\gamma)\Phi^{-1}\left(1-\frac1N\right)
        + \gamma\,\Phi^{-1}\left(1-\frac{1}{N e}\right)\right)

    with :math:`V` the variance of the trials' (per-period) Sharpe ratios and :math:`\gamma` the
    Euler–Mascheroni constant. One trial has nothing to select, so ``n_trials=1`` gives 0.

    Parameters
    ----------
    n_trials
        Number of (effectively independent) configurations tried, >= 1.
    variance
        Variance across trials of their per-period Sharpe ratios, >= 0.

    Returns
    -------
    float

    Examples
    --------
    >>> round(expected_maximum_sharpe(100, variance=0.5 / 250), 4)
    0.1132
    >>> expected_maximum_sharpe(1, variance=0.01)
    0.0
    """
    n_t = check_int("n_trials", n_trials, 1, hint="Count every configuration the search tried.")
    var = check_number("variance", variance, 0, hint="It is the variance of the trials' Sharpe ratios.")
    if not math.isfinite(var):
        raise InvalidParameterError(f"`variance` must be finite; got {variance!r}.")
    if n_t == 1:
        return 0.0
    z = (1.0 - EULER_GAMMA) * _ndtri(1.0 - 1.0 / n_t) + EULER_GAMMA * _ndtri(
        1.0 - 1.0 / (n_t * math.e)
    )
    return float(math.sqrt(var) * z)


def deflated_sharpe_ratio(
    returns: Any = None,
    *,
    n_trials: int | None = None,
    trials_sharpe_variance: float | None = None,
    trial_sharpes: Any = None,
    sharpe: float | None = None,
    n: int | None = None,
    skew: float | None = None,
    kurtosis: float | None = None,
) -> Any:
    r"""Deflated Sharpe ratio: the PSR against the best Sharpe ratio luck alone would produce.

    Bailey & López de Prado (2014): :math:`\mathrm{DSR} = \mathrm{PSR}(SR_0)` with
    :math:`SR_0` = :func:`expected_maximum_sharpe` ``(N, variance=V)``, the expected maximum
    per-period Sharpe ratio of ``N`` unskilled trials whose Sharpe ratios vary by ``V``. A DSR
    above 0.95 says the selected strategy's Sharpe ratio is significant after the search.

    Parameters
    ----------
    returns
        Per-period returns of the selected configuration (2-D: one DSR per column). Or give
        ``sharpe``, ``n``, ``skew``, ``kurtosis`` as in :func:`probabilistic_sharpe_ratio`.
    n_trials
        Number of (effectively independent) configurations tried. Defaults to
        ``len(trial_sharpes)``.
    trials_sharpe_variance
        Variance of the trials' per-period Sharpe ratios.
    trial_sharpes
        The trials' per-period Sharpe ratios; their sample variance (``ddof=1``) is used.
        Give exactly one of ``trials_sharpe_variance`` and ``trial_sharpes``.
    sharpe, n, skew, kurtosis
        Moments of the selected configuration, instead of ``returns``.

    Returns
    -------
    float or numpy.ndarray

    Raises
    ------
    InvalidParameterError
        Missing/ambiguous trial information, ``n_trials < 1``, bad moments.
    DataValidationError
        Non-finite ``returns`` or ``trial_sharpes``.

    Examples
    --------
    The paper's example: SR 2.5 (annual), 1,250 daily observations, skew -3, kurtosis 10,
    after 100 trials whose annualized Sharpe ratios have variance 0.5.

    >>> sr = deannualize_sharpe(2.5, periods_per_year=250)
    >>> round(deflated_sharpe_ratio(sharpe=sr, n=1250, skew=-3, kurtosis=10,
    ...                             n_trials=100, trials_sharpe_variance=0.5 / 250), 4)
    0.9003
    """
    variance, n_t = _trials_variance(n_trials, trials_sharpe_variance, trial_sharpes)
    sr0 = expected_maximum_sharpe(n_t, variance=variance)
    sr, n_obs, sk, ku = _moments(returns, sharpe, n, skew, kurtosis, need_n=True)
    z = (sr - sr0) * math.sqrt(n_obs - 1) / _sharpe_dispersion(sr, sk, ku)
    return _out(_ndtr(z))


def _trials_variance(n_trials: Any, variance: Any, trial_sharpes: Any) -> tuple[float, int]:
    if (variance is None) == (trial_sharpes is None):
        raise InvalidParameterError(
            "give exactly one of `trials_sharpe_variance` and `trial_sharpes`; got "
            f"{'both' if variance is not None else 'neither'}. The deflation needs the spread of "
            "the trials' Sharpe ratios."
        )
    if trial_sharpes is not None:
        srs = np.asarray(trial_sharpes, dtype=np.float64).ravel()
        if srs.size < 2 or not np.isfinite(srs).all():
            raise DataValidationError(
                "`trial_sharpes` must hold at least 2 finite per-period Sharpe ratios; got "
                f"{srs.size} value(s){'' if np.isfinite(srs).all() else ' with NaN/inf'}."
            )
        var = float(np.var(srs, ddof=1))
        if n_trials is None:
            n_trials = srs.size
    else:
        var = check_number(
            "trials_sharpe_variance", variance, 0,
            hint="It is the variance of the trials' per-period Sharpe ratios.",
        )
        if not math.isfinite(var):
            raise InvalidParameterError(f"`trials_sharpe_variance` must be finite; got {variance!r}.")
    if n_trials is None:
        raise InvalidParameterError(
            "`n_trials` (how many configurations the search tried) must be given; got None."
        )
    return var, check_int("n_trials", n_trials, 1, hint="Count every configuration tried.")


def minimum_track_record_length(
    returns: Any = None,
    *,
    sharpe: float | None = None,
    skew: float | None = None,
    kurtosis: float | None = None,
    benchmark_sharpe: float = 0.0,
    confidence: float = 0.95,
) -> Any:
    r"""Minimum track record length: observations needed for ``PSR(benchmark) = confidence``.

    Bailey & López de Prado (2012):

    .. math::

        \mathrm{MinTRL} = 1 + \left(1 - \gamma_3\widehat{SR} + \frac{\gamma_4-1}{4}\widehat{SR}^2
        \right)\left(\frac{\Phi^{-1}(\alpha)}{\widehat{SR} - SR^*}\right)^2

    in observations (bars) of the same frequency as the per-period Sharpe ratio. It is infinite
    when :math:`\widehat{SR} \le SR^*`: no track record makes such a Sharpe ratio beat the
    benchmark.

    Parameters
    ----------
    returns
        Per-period returns (1-D, or 2-D with one column per series), or give the moments.
    sharpe, skew, kurtosis
        Per-period Sharpe ratio, skewness (default 0), non-excess kurtosis (default 3).
    benchmark_sharpe
        Per-period Sharpe ratio to beat (default 0).
    confidence
        Required probability, in (0, 1) (default 0.95).

    Returns
    -------
    float or numpy.ndarray
        Number of observations (fractional; round up to use it), ``inf`` if unattainable.

    Examples
    --------
    >>> round(minimum_track_record_length(sharpe=0.1), 2)
    272.91
    >>> minimum_track_record_length(sharpe=0.05, benchmark_sharpe=0.1)
    inf
    """
    sr, _, sk, ku = _moments(returns, sharpe, None, skew, kurtosis, need_n=False)
    sr0 = _check_benchmark(benchmark_sharpe)
    alpha = check_number("confidence", confidence, 0, 1, lo_open=True, hi_open=True)
    disp2 = _sharpe_dispersion(sr, sk, ku) ** 2
    edge = np.asarray(sr - sr0, dtype=np.float64)
    with np.errstate(divide="ignore"):
        trl = 1.0 + disp2 * (_ndtri(alpha) / edge) ** 2
    return _out(np.where(edge > 0.0, trl, np.inf))


# --------------------------------------------------------------------------- PBO
@dataclass(frozen=True, eq=False)
class PBOResult:
    """Outcome of combinatorially symmetric cross-validation (one entry per combination).

    Attributes
    ----------
    pbo
        Probability of backtest overfitting: the fraction of combinations whose in-sample best
        configuration ranks at or below the out-of-sample median (logit <= 0).
    logits
        :math:`\\lambda_c = \\log(\\bar\\omega_c / (1 - \\bar\\omega_c))`, with
        :math:`\\bar\\omega_c` the IS-best configuration's relative OOS rank in (0, 1).
    is_performance, oos_performance
        The IS-best configuration's metric in sample and out of sample: the pairs of the
        "performance degradation" scatter.
    best_config
        Column index of the IS-best configuration in each combination (int64).
    n_splits
        Number of row blocks S; there are C(S, S/2) combinations.
    metric
        Name of the metric ranked (``"sharpe"``, ``"mean"`` or the callable's name).
    """

    pbo: float
    logits: np.ndarray
    is_performance: np.ndarray
    oos_performance: np.ndarray
    best_config: np.ndarray
    n_splits: int
    metric: str

    @property
    def n_combinations(self) -> int:
        """Number of in-sample/out-of-sample combinations evaluated."""
        return int(self.logits.size)

    @property
    def probability_of_loss(self) -> float:
        """Fraction of combinations whose IS-best configuration has an OOS metric below zero."""
        return float(np.mean(self.oos_performance < 0.0))

    @property
    def degradation_slope(self) -> float:
        """Least-squares slope of OOS on IS performance (negative: the better IS, the worse OOS)."""
        x = self.is_performance - self.is_performance.mean()
        denom = float(x @ x)
        if denom == 0.0 or not np.isfinite(denom):
            return float("nan")
        return float(x @ (self.oos_performance - self.oos_performance.mean()) / denom)

    def to_dict(self) -> dict[str, float | int | str]:
        """Scalar summary for storage and display."""
        return {
            "pbo": self.pbo,
            "probability_of_loss": self.probability_of_loss,
            "degradation_slope": self.degradation_slope,
            "n_combinations": self.n_combinations,
            "n_splits": self.n_splits,
            "metric": self.metric,
        }


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


def _block_stats(mat: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per block: row count (S,) and [sum | count*mean**2 | sum of squared deviations] (S, 3N)."""
    counts = np.diff(bounds).astype(np.float64)
    sums = np.add.reduceat(mat, bounds[:-1], axis=0)
    means = sums / counts[:, None]
    m2 = np.empty_like(sums)
    for b in range(counts.size):
        dev = mat[bounds[b] : bounds[b + 1]] - means[b]
        m2[b] = np.einsum("ij,ij->j", dev, dev)
    return counts, np.hstack([sums, sums * means, m2])


def _combined_metric(ind: np.ndarray, counts: np.ndarray, stacked: np.ndarray, metric: str) -> np.ndarray:
    """Metric of the union of the blocks selected by each row of ``ind`` (C, S) -> (C, N)."""
    n_cfg = stacked.shape[1] // 3
    m = (ind @ counts)[:, None]
    pooled = ind @ stacked
    mean = pooled[:, :n_cfg] / m
    if metric == "mean":
        return mean
    # pooled squared deviations: sum(M2_b) + sum(m_b * mean_b**2) - m * mean**2
    ss = pooled[:, 2 * n_cfg :] + pooled[:, n_cfg : 2 * n_cfg] - m * mean * mean
    std = np.sqrt(np.maximum(ss, 0.0) / (m - 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = mean / std
    flat = std == 0.0
    out[flat] = np.where(mean[flat] == 0.0, 0.0, np.copysign(np.inf, mean[flat]))
    return out


def _rank_logits(is_perf: np.ndarray, oos_perf: np.ndarray) -> tuple[np.ndarray, ...]:
    """IS argmax per row, its OOS relative rank (average rank on ties) and logit."""
    n_cfg = is_perf.shape[1]
    best = np.argmax(is_perf, axis=1)
    rows = np.arange(best.size)
    oos_best = oos_perf[rows, best]
    below = (oos_perf < oos_best[:, None]).sum(axis=1)
    equal = (oos_perf == oos_best[:, None]).sum(axis=1)
    rank = below + (equal + 1) / 2.0  # 1 = worst ... N = best
    omega = rank / (n_cfg + 1.0)
    return best, is_perf[rows, best], oos_best, np.log(omega / (1.0 - omega))


def _cscv(
    perf_of: Callable[[np.ndarray], np.ndarray], combos: np.ndarray, s: int, n_cfg: int
) -> tuple[np.ndarray, ...]:
    """Rank every combination against its complement; each metric is computed once.

    The complement of an in-sample set is another combination's in-sample set, so the
    combinations holding block 0 are paired with their complements and evaluated in chunks.
    """
    n_comb = combos.shape[0]
    masks = (np.int64(1) << combos).sum(axis=1)
    order = np.argsort(masks)
    comp = order[np.searchsorted(masks[order], (1 << s) - 1 - masks)]
    first = np.flatnonzero(combos[:, 0] == 0)
    best = np.empty(n_comb, dtype=np.int64)
    is_best, oos_best, logits = np.empty(n_comb), np.empty(n_comb), np.empty(n_comb)
    step = max(1, _CHUNK_CELLS // (2 * n_cfg))
    for start in range(0, first.size, step):
        a_idx = first[start : start + step]
        b_idx = comp[a_idx]
        perf = perf_of(np.concatenate([a_idx, b_idx]))
        k = a_idx.size
        for own, other, idx in ((perf[:k], perf[k:], a_idx), (perf[k:], perf[:k], b_idx)):
            best[idx], is_best[idx], oos_best[idx], logits[idx] = _rank_logits(own, other)
    return best, is_best, oos_best, logits


def probability_of_backtest_overfitting(
    performance_matrix: Any,
    *,
    n_splits: int = 16,
    metric: Literal["sharpe", "mean"] | Callable[[np.ndarray], np.ndarray] = "sharpe",
) -> PBOResult:
    r"""Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV).

    Bailey, Borwein, López de Prado & Zhu (2015), "The Probability of Backtest Overfitting".
    The ``T x N`` matrix holds the per-period returns of the ``N`` configurations a search
    tried. Its rows are cut into ``S = n_splits`` contiguous blocks of (near-)equal size. For
    each of the :math:`\binom{S}{S/2}` ways to choose half the blocks as in-sample (IS) — the
    rest being out-of-sample (OOS) — the configuration with the best IS metric is found, its
    relative OOS rank :math:`\bar\omega_c = r / (N + 1)` computed (``r`` from 1 = worst to
    ``N`` = best, ties averaged) and turned into the logit
    :math:`\lambda_c = \ln(\bar\omega_c / (1 - \bar\omega_c))`.
    :math:`\mathrm{PBO} = \#\{c : \lambda_c \le 0\} / \#C`: the chance that the IS winner is
    no better than the OOS median. Near 0.5 or above means the search selects noise.

    Parameters
    ----------
    performance_matrix
        Per-period returns, shape ``(T, N)``: one row per bar, one column per configuration
        (numpy array, or a polars/pandas frame with one column per configuration).
    n_splits
        Even number of row blocks S, from 2 to 20 (default 16: 12,870 combinations); every
        block needs at least 2 rows.
    metric
        Ranking metric of a block of rows: ``"sharpe"`` (mean / std, ddof=1; a flat column
        scores 0), ``"mean"``, or a callable mapping a ``(rows, N)`` array to ``N`` scores
        (evaluated per combination, so much slower).

    Returns
    -------
    PBOResult
        ``pbo``, the ``logits`` and the IS-best ``is_performance``/``oos_performance`` pairs.

    Raises
    ------
    DataValidationError
        The matrix is not 2-D numeric or holds NaN/inf.
    OptimizationError
        Fewer than 2 configurations, or too few rows for ``n_splits``.
    InvalidParameterError
        ``n_splits`` odd, < 2 or > 20; unknown ``metric``; a callable returning bad scores.

    Examples
    --------
    Configuration 1 is best in every half of the data, so nothing is overfit:

    >>> import numpy as np
    >>> m = np.array([[0.01, 0.02, 0.00], [0.00, 0.03, 0.01], [0.02, 0.04, -0.01],
    ...               [0.01, 0.05, 0.00]])
    >>> res = probability_of_backtest_overfitting(m, n_splits=2, metric="mean")
    >>> res.pbo, res.best_config.tolist()
    (0.0, [1, 1])
    """
    mat = _performance_matrix(performance_matrix)
    n_rows, n_cfg = mat.shape
    s = _check_pbo_splits(n_splits, n_rows)
    metric_name, fn = _pbo_metric(metric)
    bounds = np.linspace(0, n_rows, s + 1).round().astype(np.int64)
    combos = np.array(list(itertools.combinations(range(s), s // 2)), dtype=np.int64)
    if fn is None:
        counts, stacked = _block_stats(mat, bounds)
        ind = np.zeros((combos.shape[0], s), dtype=np.float64)
        ind[np.arange(combos.shape[0])[:, None], combos] = 1.0

        def perf_of(sets: np.ndarray) -> np.ndarray:
            return _combined_metric(ind[sets], counts, stacked, metric_name)

    else:

        def perf_of(sets: np.ndarray) -> np.ndarray:
            out = np.empty((sets.size, n_cfg))
            for j, c in enumerate(sets):
                rows = np.concatenate([np.arange(bounds[b], bounds[b + 1]) for b in combos[c]])
                out[j] = _call_metric(fn, mat[rows], n_cfg)
            return out

    best, is_best, oos_best, logits = _cscv(perf_of, combos, s, n_cfg)
    return PBOResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=_frozen(logits),
        is_performance=_frozen(is_best),
        oos_performance=_frozen(oos_best),
        best_config=_frozen(best),
        n_splits=s,
        metric=metric_name,
    )


def _performance_matrix(performance_matrix: Any) -> np.ndarray:
    try:
        mat = np.asarray(performance_matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            "`performance_matrix` must be a 2-D numeric array of per-period returns (rows = bars, "
            f"columns = configurations); got {type(performance_matrix).__name__} ({exc})."
        ) from None
    if mat.ndim != 2:
        raise DataValidationError(
            "`performance_matrix` must be 2-D (rows = bars, columns = configurations); got shape "
            f"{mat.shape}."
        )
    if mat.shape[1] < 2:
        raise OptimizationError(
            f"`performance_matrix` must hold at least 2 configurations (columns); got "
            f"{mat.shape[1]}. Overfitting is about choosing among several."
        )
    if not np.isfinite(mat).all():
        row, col = (int(v[0]) for v in np.nonzero(~np.isfinite(mat)))
        raise DataValidationError(
            f"`performance_matrix` must be finite; got {mat[row, col]} at row {row}, column {col}. "
            "Fill periods without a position with 0.0."
        )
    return np.ascontiguousarray(mat)


def _check_pbo_splits(n_splits: Any, n_rows: int) -> int:
    s = check_int("n_splits", n_splits, 2, _MAX_PBO_SPLITS,
                  hint="C(20, 10) = 184,756 combinations is the most evaluated; 16 is usual.")
    if s % 2:
        raise InvalidParameterError(
            f"`n_splits` must be even (half the blocks are in-sample); got {s}. Try {s + 1}."
        )
    if n_rows < 2 * s:
        raise OptimizationError(
            f"`performance_matrix` has {n_rows} rows, too few for `n_splits`={s} (each block needs "
            f"at least 2 rows, so at least {2 * s}); lower `n_splits` or use more periods."
        )
    return s


def _pbo_metric(metric: Any) -> tuple[str, Callable[[np.ndarray], np.ndarray] | None]:
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    return check_choice("metric", metric, ["sharpe", "mean"]), None


def _call_metric(fn: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, n_cfg: int) -> np.ndarray:
    scores = np.asarray(fn(rows), dtype=np.float64)
    if scores.shape != (n_cfg,) or np.isnan(scores).any():
        raise InvalidParameterError(
            f"`metric` must map a (rows, {n_cfg}) array to {n_cfg} non-NaN scores; got shape "
            f"{scores.shape}{' with NaN' if scores.shape == (n_cfg,) else ''}."
        )
    return scores
