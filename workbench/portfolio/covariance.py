"""Covariance and expected-return estimators over a window of asset returns.

Every estimator takes ``returns`` as a 2-D float array of shape ``(n_obs, n_assets)`` or a polars
(or pandas) DataFrame whose numeric columns are the assets (temporal columns such as ``ts`` are
ignored), and returns a numpy array: ``(n_assets, n_assets)`` for a covariance, ``(n_assets,)``
for expected returns. Estimates are per period, in the units of ``returns`` (no annualization).

>>> import numpy as np
>>> r = np.array([[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01], [0.0, -0.01]])
>>> sample_covariance(r).round(6)
array([[0.000167, 0.0001  ],
       [0.0001  , 0.000167]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, get_args

import numpy as np
import polars as pl

from workbench._validate import check_choice, check_int, check_number
from workbench.errors import DataValidationError, InvalidParameterError, did_you_mean

__all__ = [
    "CovarianceMethod",
    "sample_covariance",
    "ledoit_wolf",
    "ledoit_wolf_shrinkage",
    "ewma_covariance",
    "covariance",
    "mean_returns",
    "returns_matrix",
    "check_covariance",
]

CovarianceMethod = Literal["sample", "ledoit_wolf", "ewma"]
COVARIANCE_METHODS: tuple[str, ...] = get_args(CovarianceMethod)


def returns_matrix(
    returns: Any, *, assets: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Validate ``returns`` and return them as a C-contiguous float64 array with asset names.

    Parameters
    ----------
    returns
        A 2-D array ``(n_obs, n_assets)`` or a polars/pandas DataFrame of asset columns;
        temporal columns (``ts``, dates) are dropped.
    assets
        Names for the columns of an array (default ``asset_0, asset_1, ...``); a DataFrame's
        column names are used instead.

    Returns
    -------
    (numpy.ndarray, list[str])
        The returns and the asset names.

    Raises
    ------
    DataValidationError
        Not 2-D, non-numeric columns, NaN or infinite values, fewer than 2 observations.

    Examples
    --------
    >>> import polars as pl
    >>> x, names = returns_matrix(pl.DataFrame({"A": [0.01, 0.02], "B": [0.0, -0.01]}))
    >>> x.shape, names
    ((2, 2), ['A', 'B'])
    """
    if _is_pandas_frame(returns):
        from workbench._extras import require

        require("pandas", "pyarrow")
        returns = pl.from_pandas(returns, nan_to_null=False)
    if isinstance(returns, pl.DataFrame):
        values, names = _frame_values(returns)
    else:
        try:
            values = np.asarray(returns, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(
                f"`returns` must be a 2-D numeric array or a DataFrame of asset columns; got "
                f"{type(returns).__name__} ({exc})."
            ) from None
        if values.ndim != 2:
            raise DataValidationError(
                f"`returns` must be 2-D (n_obs, n_assets); got an array of shape {values.shape}. "
                "Reshape a single series with `x.reshape(-1, 1)`."
            )
        names = _asset_names(assets, values.shape[1])
    _check_values(values, names)
    return np.ascontiguousarray(values, dtype=np.float64), names


def _is_pandas_frame(obj: Any) -> bool:
    return type(obj).__module__.startswith("pandas") and type(obj).__name__ == "DataFrame"


def _frame_values(frame: pl.DataFrame) -> tuple[np.ndarray, list[str]]:
    keep = [c for c, t in frame.schema.items() if not t.is_temporal()]
    bad = [c for c in keep if not frame.schema[c].is_numeric()]
    if bad:
        raise DataValidationError(
            f"`returns` column {bad[0]!r} has dtype {frame.schema[bad[0]]}; every column other "
            "than the timestamps must hold numeric asset returns. Drop or pivot it first "
            "(a long frame needs `df.pivot(on='symbol', index='ts', values=...)`)."
        )
    if not keep:
        raise DataValidationError("`returns` has no numeric asset columns.")
    sub = frame.select(keep)
    nulls = [c for c, n in zip(keep, sub.null_count().row(0), strict=True) if n]
    if nulls:
        row = int(sub[nulls[0]].is_null().arg_max() or 0)
        raise DataValidationError(
            f"`returns` column {nulls[0]!r} has a missing (null) value at row {row}; fill or drop "
            "those rows before estimating (e.g. `df.drop_nulls()`)."
        )
    return sub.to_numpy().astype(np.float64, copy=False), [str(c) for c in keep]


def _asset_names(assets: Sequence[str] | None, n: int) -> list[str]:
    if assets is None:
        return [f"asset_{i}" for i in range(n)]
    names = [str(a) for a in assets]
    if len(names) != n:
        raise DataValidationError(
            f"`assets` has {len(names)} names but there are {n} asset columns."
        )
    if len(set(names)) != n:
        dup = next(a for a in names if names.count(a) > 1)
        raise DataValidationError(f"`assets` must be unique; {dup!r} appears more than once.")
    return names


def _check_values(values: np.ndarray, names: list[str]) -> None:
    n_obs, n_assets = values.shape
    if n_assets < 1:
        raise DataValidationError("`returns` has no asset columns.")
    if n_obs < 2:
        raise DataValidationError(
            f"`returns` must have at least 2 observations (rows) to estimate a covariance; got "
            f"{n_obs}. Use a longer window."
        )
    finite = np.isfinite(values)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise DataValidationError(
            f"`returns` column {names[col]!r} has a non-finite value ({values[row, col]}) at row "
            f"{row}; fill or drop NaN/inf rows before estimating."
        )


def sample_covariance(returns: Any, *, ddof: int = 1) -> np.ndarray:
    """The sample covariance matrix, normalised by ``n_obs - ddof``.

    Parameters
    ----------
    returns
        ``(n_obs, n_assets)`` returns (array or DataFrame of asset columns).
    ddof
        Delta degrees of freedom: 1 (default) for the unbiased estimate, 0 for the maximum-likelihood one.

    Returns
    -------
    numpy.ndarray
        ``(n_assets, n_assets)``, symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> sample_covariance(np.array([[0.01], [0.03]]), ddof=0)
    array([[0.0001]])
    """
    x, _ = returns_matrix(returns)
    ddof = check_int(
        "ddof", ddof, 0, x.shape[0] - 1, hint="It must be smaller than the number of observations."
    )
    centered = x - x.mean(axis=0)
    cov = centered.T @ centered / (x.shape[0] - ddof)
    return _symmetrize(cov)


def ledoit_wolf_shrinkage(returns: Any, *, assume_centered: bool = False) -> float:
    """The Ledoit-Wolf (2004) shrinkage intensity in [0, 1] towards the scaled identity.

    With ``S`` the maximum-likelihood covariance (normalised by ``n_obs``), ``m = tr(S)/p``,
    ``d² = ‖S − mI‖²/p`` and ``b² = min(d², Σₖ‖xₖxₖᵀ − S‖²/(p·n²))`` (Frobenius norms), the
    intensity is ``b²/d²`` (0 when ``S`` is already a multiple of the identity).

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01], [0.0, -0.01]])
    >>> round(ledoit_wolf_shrinkage(r), 6)
    0.444444
    """
    x, _ = returns_matrix(returns)
    n, p = x.shape
    if not assume_centered:
        x = x - x.mean(axis=0)
    s = x.T @ x / n
    mu = np.trace(s) / p
    d2 = (np.sum(s * s) - 2.0 * mu * np.trace(s) + mu * mu * p) / p
    if d2 <= 0.0:
        return 0.0
    row_sq = np.sum(x * x, axis=1)
    b2_bar = (np.sum(row_sq**2) - n * np.sum(s * s)) / (p * n * n)
    b2 = min(max(b2_bar, 0.0), d2)
    return float(b2 / d2)


def ledoit_wolf(returns: Any, *, assume_centered: bool = False) -> np.ndarray:
    """Ledoit-Wolf (2004) shrinkage covariance: ``δ·m·I + (1 − δ)·S``.

    ``S`` is the maximum-likelihood covariance (normalised by ``n_obs``, as in the paper and in
    scikit-learn's ``LedoitWolf``), ``m`` its average variance and ``δ`` the intensity of
    :func:`ledoit_wolf_shrinkage`. The result is positive definite whenever the assets do not all
    have zero variance, so it is the safe choice when ``n_obs`` is small relative to ``n_assets``.

    Parameters
    ----------
    returns
        ``(n_obs, n_assets)`` returns (array or DataFrame of asset columns).
    assume_centered
        Treat the returns as having zero mean (do not subtract the sample mean).

    Returns
    -------
    numpy.ndarray
        ``(n_assets, n_assets)``, symmetric positive (semi-)definite.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01], [0.0, -0.01]])
    >>> (ledoit_wolf(r) * 1e4).round(4)
    array([[1.25  , 0.4167],
           [0.4167, 1.25  ]])
    """
    x, _ = returns_matrix(returns)
    n, p = x.shape
    centered = x if assume_centered else x - x.mean(axis=0)
    s = centered.T @ centered / n
    delta = ledoit_wolf_shrinkage(x, assume_centered=assume_centered)
    mu = np.trace(s) / p
    cov = (1.0 - delta) * s
    cov[np.diag_indices(p)] += delta * mu
    return _symmetrize(cov)


def _ewma_weights(n: int, halflife: float) -> np.ndarray:
    decay = math.exp(math.log(0.5) / halflife)
    w = decay ** np.arange(n - 1, -1, -1, dtype=np.float64)  # oldest first, newest weight 1
    return w / w.sum()


def ewma_covariance(returns: Any, *, halflife: float = 20.0, center: bool = True) -> np.ndarray:
    """Exponentially weighted covariance: the weight of an observation halves every ``halflife`` rows.

    Weights ``wₜ ∝ λ^(n−1−t)`` with ``λ = 0.5^(1/halflife)`` are normalised to sum to one, and
    ``Σ = Σₜ wₜ (xₜ − x̄_w)(xₜ − x̄_w)ᵀ`` with ``x̄_w`` the weighted mean (or zero when
    ``center=False``, the RiskMetrics convention). This equals pandas'
    ``ewm(halflife=h).cov(bias=True)`` at the last row.

    Parameters
    ----------
    returns
        ``(n_obs, n_assets)`` returns, oldest first.
    halflife
        Half-life in observations, > 0.
    center
        Subtract the weighted mean first (default) or assume zero-mean returns.

    Returns
    -------
    numpy.ndarray
        ``(n_assets, n_assets)``.

    Examples
    --------
    >>> import numpy as np
    >>> ewma_covariance(np.array([[0.0], [0.02]]), halflife=1.0)
    array([[8.88888889e-05]])
    """
    halflife = check_number("halflife", halflife, 0, None, lo_open=True)
    x, _ = returns_matrix(returns)
    w = _ewma_weights(x.shape[0], halflife)
    centered = x - w @ x if center else x
    cov = (centered * w[:, None]).T @ centered
    return _symmetrize(cov)


def covariance(
    returns: Any, *, method: CovarianceMethod = "ledoit_wolf", **options: Any
) -> np.ndarray:
    """Estimate a covariance matrix with the estimator named by ``method``.

    Parameters
    ----------
    returns
        ``(n_obs, n_assets)`` returns (array or DataFrame of asset columns).
    method
        ``"ledoit_wolf"`` (default, :func:`ledoit_wolf`), ``"sample"`` (:func:`sample_covariance`)
        or ``"ewma"`` (:func:`ewma_covariance`).
    **options
        Keyword options of that estimator (``ddof``, ``assume_centered``, ``halflife``, ``center``).

    Raises
    ------
    InvalidParameterError
        Unknown ``method`` or an option the estimator does not take.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01], [0.0, -0.01]])
    >>> bool(np.allclose(covariance(r, method="sample", ddof=1), sample_covariance(r)))
    True
    """
    check_choice("method", method, COVARIANCE_METHODS)
    func, allowed = _ESTIMATORS[method]
    for key in options:
        if key not in allowed:
            raise InvalidParameterError(
                f"covariance method {method!r} takes no option `{key}`; its options are "
                f"{', '.join(allowed) or 'none'}.{did_you_mean(key, allowed)}"
            )
    return func(returns, **options)


_ESTIMATORS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "sample": (sample_covariance, ("ddof",)),
    "ledoit_wolf": (ledoit_wolf, ("assume_centered",)),
    "ewma": (ewma_covariance, ("halflife", "center")),
}


def mean_returns(
    returns: Any, *, method: Literal["sample", "ewma"] = "sample", halflife: float = 20.0
) -> np.ndarray:
    """Expected returns per period: the sample mean, or an exponentially weighted mean.

    Parameters
    ----------
    returns
        ``(n_obs, n_assets)`` returns, oldest first.
    method
        ``"sample"`` (default) or ``"ewma"`` (weights halve every ``halflife`` rows, as in
        :func:`ewma_covariance`).
    halflife
        Half-life in observations for ``method="ewma"``.

    Returns
    -------
    numpy.ndarray
        ``(n_assets,)``.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([[0.01, 0.02], [-0.01, 0.0], [0.02, 0.01], [0.0, -0.01]])
    >>> mean_returns(r)
    array([0.005, 0.005])
    >>> mean_returns(np.array([[0.0], [0.02]]), method="ewma", halflife=1.0).round(6)
    array([0.013333])
    """
    check_choice("method", method, ("sample", "ewma"))
    x, _ = returns_matrix(returns)
    if method == "sample":
        return x.mean(axis=0)
    halflife = check_number("halflife", halflife, 0, None, lo_open=True)
    return _ewma_weights(x.shape[0], halflife) @ x


def check_covariance(cov: Any, *, n_assets: int | None = None, name: str = "cov") -> np.ndarray:
    """Validate a covariance matrix and return it as a symmetric float64 array.

    Raises
    ------
    DataValidationError
        Not square, wrong size, non-finite, not symmetric, negative variances or not positive
        semi-definite.

    Examples
    --------
    >>> check_covariance([[1.0, 0.1], [0.1, 2.0]]).shape
    (2, 2)
    >>> check_covariance([[1.0, 0.1, 0.0], [0.1, 2.0, 0.0]])
    Traceback (most recent call last):
    ...
    workbench.errors.DataValidationError: `cov` must be a square (n_assets, n_assets) matrix; got shape (2, 3).
    """
    try:
        c = np.array(cov, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            f"`{name}` must be a numeric square matrix; got {type(cov).__name__} ({exc})."
        ) from None
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] == 0:
        raise DataValidationError(
            f"`{name}` must be a square (n_assets, n_assets) matrix; got shape {c.shape}."
        )
    if n_assets is not None and c.shape[0] != n_assets:
        raise DataValidationError(
            f"`{name}` is {c.shape[0]}x{c.shape[0]} but there are {n_assets} assets."
        )
    if not np.isfinite(c).all():
        raise DataValidationError(
            f"`{name}` has NaN or infinite entries; estimate it from clean returns."
        )
    scale = max(float(np.abs(c).max()), 1e-300)
    asym = float(np.abs(c - c.T).max())
    if asym > 1e-8 * scale:
        raise DataValidationError(
            f"`{name}` is not symmetric (largest |cov - cov.T| = {asym:.3g})."
        )
    c = _symmetrize(c)
    if (np.diag(c) < 0).any():
        raise DataValidationError(
            f"`{name}` has a negative variance on its diagonal ({np.diag(c).min():.3g})."
        )
    lam_min = float(np.linalg.eigvalsh(c)[0])
    if lam_min < -1e-10 * scale:
        raise DataValidationError(
            f"`{name}` is not positive semi-definite (smallest eigenvalue {lam_min:.3g}); estimate "
            "it with workbench.portfolio.covariance() rather than assembling it by hand."
        )
    return c


def _symmetrize(c: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(0.5 * (c + c.T))
