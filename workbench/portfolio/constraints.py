"""Portfolio constraints: one frozen config, resolved against the asset names of a window.

>>> c = Constraints(max_weight=0.4, groups={"tech": ["AAPL", "MSFT"]}, group_max={"tech": 0.5})
>>> r = resolve(c, ["AAPL", "MSFT", "XOM"])
>>> r.lb.tolist(), r.ub.tolist(), r.groups[0][0]
([0.0, 0.0, 0.0], [0.4, 0.4, 0.4], 'tech')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from workbench.errors import (
    DataValidationError,
    InvalidParameterError,
    OptimizationError,
    did_you_mean,
)

__all__ = ["Constraints", "ResolvedConstraints", "resolve"]

Bound = float | tuple[float, ...] | dict[str, float] | None


class Constraints(BaseModel):
    """Constraints on target weights. Frozen; unknown fields are rejected.

    Parameters
    ----------
    long_only
        Forbid negative weights (default). ``False`` allows shorts down to ``min_weight``.
    min_weight, max_weight
        Per-asset bounds: a scalar for every asset, a sequence in asset order, or a dict by asset
        name (assets left out keep the default: 0 when long-only, else unbounded below; no cap).
    groups
        Named groups of assets, e.g. ``{"tech": ["AAPL", "MSFT"]}``; an asset may be in several.
    group_min, group_max
        Bounds on the summed weight of each named group.
    net_exposure
        The weights sum to this (default 1; 0 for dollar-neutral, which needs ``long_only=False``).
    leverage
        Cap on gross exposure ``Σ|wᵢ|`` (≥ ``|net_exposure|``); ``None`` for no cap.
    max_turnover
        Cap on ``Σ|wᵢ − w_prevᵢ|`` against the ``previous_weights`` given at allocation time.

    Examples
    --------
    >>> Constraints(max_weight=0.3).max_weight
    0.3
    >>> Constraints(max_wieght=0.3)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `max_wieght` is not a constraint; the constraints are long_only, min_weight, max_weight, groups, group_min, group_max, net_exposure, leverage, max_turnover. Did you mean 'max_weight'?
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    long_only: bool = True
    min_weight: Bound = None
    max_weight: Bound = None
    groups: dict[str, tuple[str, ...]] = {}
    group_min: dict[str, float] = {}
    group_max: dict[str, float] = {}
    net_exposure: float = 1.0
    leverage: float | None = None
    max_turnover: float | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _translate(exc) from None

    @field_validator("min_weight", "max_weight", mode="before")
    @classmethod
    def _arrays_to_tuples(cls, value: Any) -> Any:
        return (
            tuple(np.asarray(value, dtype=np.float64).tolist())
            if isinstance(value, np.ndarray)
            else value
        )

    @model_validator(mode="after")
    def _check(self) -> Constraints:
        if self.long_only and self.net_exposure <= 0:
            raise InvalidParameterError(
                f"`net_exposure` must be > 0 when `long_only=True`; got {self.net_exposure}. "
                "Set long_only=False for a dollar-neutral or net-short portfolio."
            )
        if self.leverage is not None and self.leverage < abs(self.net_exposure):
            raise InvalidParameterError(
                f"`leverage` must be >= |net_exposure| = {abs(self.net_exposure):g}; got {self.leverage}."
            )
        if self.max_turnover is not None and self.max_turnover < 0:
            raise InvalidParameterError(f"`max_turnover` must be >= 0; got {self.max_turnover}.")
        if self.long_only:
            for name, value in _bound_items(self.min_weight):
                if value < 0:
                    where = f" for {name!r}" if name else ""
                    raise InvalidParameterError(
                        f"`min_weight`{where} is {value:g} < 0 but `long_only=True`; "
                        "set long_only=False to allow short positions."
                    )
        for key in ("group_min", "group_max"):
            for group in getattr(self, key):
                if group not in self.groups:
                    raise InvalidParameterError(
                        f"`{key}` names group {group!r}, which is not in `groups` "
                        f"({', '.join(map(repr, self.groups)) or 'none defined'}).{did_you_mean(group, self.groups)}"
                    )
        for group, members in self.groups.items():
            if not members:
                raise InvalidParameterError(f"group {group!r} in `groups` has no assets.")
            lo, hi = self.group_min.get(group, -math.inf), self.group_max.get(group, math.inf)
            if lo > hi:
                raise InvalidParameterError(
                    f"group {group!r}: `group_min` {lo:g} is above `group_max` {hi:g}."
                )
        return self

    def active(self) -> list[str]:
        """Names of the constraints set beyond the defaults of ``long_only`` and ``net_exposure``.

        >>> Constraints(max_weight=0.5, max_turnover=0.2).active()
        ['max_weight', 'max_turnover']
        """
        names = ["min_weight", "max_weight", "groups", "leverage", "max_turnover"]
        return [n for n in names if getattr(self, n) not in (None, {})]


def _bound_items(bound: Bound) -> list[tuple[str, float]]:
    if bound is None:
        return []
    if isinstance(bound, dict):
        return [(str(k), float(v)) for k, v in bound.items()]
    if isinstance(bound, tuple):
        return [(f"asset #{i}", float(v)) for i, v in enumerate(bound)]
    return [("", float(bound))]


def _translate(exc: ValidationError) -> InvalidParameterError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    field = str(err["loc"][0]) if err["loc"] else ""
    if err["type"] == "value_error" and isinstance(
        err.get("ctx", {}).get("error"), InvalidParameterError
    ):
        return err["ctx"]["error"]
    fields = list(Constraints.model_fields)
    if err["type"] == "extra_forbidden":
        return InvalidParameterError(
            f"`{field}` is not a constraint; the constraints are {', '.join(fields)}.{did_you_mean(field, fields)}"
        )
    return InvalidParameterError(f"`{loc}` is invalid: {err['msg']}; got {err.get('input')!r}.")


@dataclass(frozen=True)
class ResolvedConstraints:
    """Constraints as arrays over a concrete list of assets (what the solvers consume)."""

    lb: np.ndarray
    ub: np.ndarray
    groups: tuple[tuple[str, np.ndarray, float, float], ...]
    net: float
    leverage: float | None
    max_turnover: float | None
    previous: np.ndarray | None
    source: Constraints


def resolve(
    constraints: Constraints | None,
    assets: Sequence[str],
    previous_weights: Any = None,
) -> ResolvedConstraints:
    """Turn ``constraints`` into bound arrays and group index sets over ``assets``.

    Raises
    ------
    InvalidParameterError
        Unknown asset names (with a did-you-mean), bound sequences of the wrong length,
        a lower bound above an upper bound, ``max_turnover`` without ``previous_weights``.
    OptimizationError
        Per-asset or group bounds that cannot add up to ``net_exposure``.
    DataValidationError
        ``previous_weights`` of the wrong length, non-finite, or not summing to ``net_exposure``.
    """
    c = constraints if constraints is not None else Constraints()
    if not isinstance(c, Constraints):
        raise InvalidParameterError(
            f"`constraints` must be a workbench.portfolio.Constraints; got {type(c).__name__}."
        )
    names = [str(a) for a in assets]
    n = len(names)
    if n == 0:
        raise DataValidationError("there are no assets to allocate.")
    lb = _bound_array("min_weight", c.min_weight, names, 0.0 if c.long_only else -math.inf)
    ub = _bound_array("max_weight", c.max_weight, names, math.inf)
    if c.long_only:
        lb = np.maximum(lb, 0.0)
    bad = np.flatnonzero(lb > ub)
    if bad.size:
        i = bad[0]
        raise InvalidParameterError(
            f"asset {names[i]!r}: `min_weight` {lb[i]:g} is above `max_weight` {ub[i]:g}."
        )
    _check_bound_sums(lb, ub, c.net_exposure)
    groups = tuple(_resolve_group(g, members, names, c) for g, members in c.groups.items())
    prev = None if previous_weights is None else _previous(previous_weights, names, c.net_exposure)
    if c.max_turnover is not None and prev is None:
        raise InvalidParameterError(
            "`max_turnover` is set but no `previous_weights` were given; pass the current weights."
        )
    return ResolvedConstraints(lb, ub, groups, c.net_exposure, c.leverage, c.max_turnover, prev, c)


def _bound_array(key: str, bound: Bound, names: list[str], default: float) -> np.ndarray:
    n = len(names)
    out = np.full(n, default, dtype=np.float64)
    if bound is None:
        return out
    if isinstance(bound, dict):
        index = {a: i for i, a in enumerate(names)}
        for asset, value in bound.items():
            if asset not in index:
                raise InvalidParameterError(
                    f"`{key}` names asset {asset!r}, which is not among the assets "
                    f"({_listing(names)}).{did_you_mean(asset, names)}"
                )
            out[index[asset]] = value
        return out
    if isinstance(bound, tuple):
        if len(bound) != n:
            raise InvalidParameterError(
                f"`{key}` has {len(bound)} values but there are {n} assets; give one per asset, "
                "a scalar, or a dict by asset name."
            )
        return np.array(bound, dtype=np.float64)
    out[:] = bound
    return out


def _check_bound_sums(lb: np.ndarray, ub: np.ndarray, net: float) -> None:
    lo, hi = float(lb.sum()), float(ub.sum())
    if lo > net + 1e-12:
        raise OptimizationError(
            f"the per-asset bounds cannot sum to `net_exposure` = {net:g}: the `min_weight` "
            f"bounds (long_only floors included) already sum to {lo:g}. Lower `min_weight`."
        )
    if hi < net - 1e-12:
        raise OptimizationError(
            f"the per-asset bounds cannot sum to `net_exposure` = {net:g}: the `max_weight` "
            f"bounds sum to only {hi:g}. Raise `max_weight` or add assets."
        )


def _resolve_group(
    group: str, members: tuple[str, ...], names: list[str], c: Constraints
) -> tuple[str, np.ndarray, float, float]:
    index = {a: i for i, a in enumerate(names)}
    for asset in members:
        if asset not in index:
            raise InvalidParameterError(
                f"group {group!r} in `groups` names asset {asset!r}, which is not among the "
                f"assets ({_listing(names)}).{did_you_mean(asset, names)}"
            )
    idx = np.array(sorted({index[a] for a in members}), dtype=np.int64)
    return group, idx, c.group_min.get(group, -math.inf), c.group_max.get(group, math.inf)


def _previous(previous_weights: Any, names: list[str], net: float) -> np.ndarray:
    n = len(names)
    if isinstance(previous_weights, Mapping):
        out = np.zeros(n)
        index = {a: i for i, a in enumerate(names)}
        for asset, value in previous_weights.items():
            if asset not in index:
                raise InvalidParameterError(
                    f"`previous_weights` names asset {asset!r}, which is not among the assets "
                    f"({_listing(names)}).{did_you_mean(str(asset), names)}"
                )
            out[index[asset]] = float(value)
    else:
        out = np.asarray(previous_weights, dtype=np.float64).reshape(-1)
        if out.shape[0] != n:
            raise DataValidationError(
                f"`previous_weights` has {out.shape[0]} values but there are {n} assets."
            )
    if not np.isfinite(out).all():
        raise DataValidationError("`previous_weights` has NaN or infinite values.")
    if abs(out.sum() - net) > 1e-6:
        raise DataValidationError(
            f"`previous_weights` sum to {out.sum():.6g} but `net_exposure` is {net:g}; pass the "
            "current weights as fractions of equity that sum to the declared net exposure."
        )
    return out


def _listing(names: list[str]) -> str:
    shown = ", ".join(map(repr, names[:8]))
    return shown + (f", ... {len(names)} in all" if len(names) > 8 else "")
