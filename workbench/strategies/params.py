"""Strategy parameters, declared once.

A :class:`Param` holds a parameter's type, default, bounds or choices, step and help text. The
one declaration validates values and generates the grid of a sweep, the Optuna search space,
dashboard widgets, CLI flags and papermill parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.errors import InvalidParameterError, did_you_mean

__all__ = ["Param"]

_TYPES = {"int": int, "float": float, "bool": bool, "str": str}


@dataclass(frozen=True)
class Param:
    """A declared strategy parameter.

    Parameters
    ----------
    default
        The default value; its type fixes the parameter's type unless ``type`` is given.
    low, high
        Inclusive bounds of numeric parameters.
    step
        Grid step of numeric parameters (ints default to 1).
    choices
        The allowed values of a categorical parameter.
    log
        Whether the search space is logarithmic (Optuna's ``log=True``).
    help
        One line shown in widgets, CLI ``--help`` and docs.

    Examples
    --------
    >>> p = Param(10, low=2, high=50, help="fast window")
    >>> p.type, p.validate("fast", 12)
    ('int', 12)
    >>> p.grid()[:3], len(p.grid())
    ([2, 3, 4], 49)
    >>> p.validate("fast", 1)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `fast` must be an integer in [2, 50]; got 1.
    """

    default: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] | None = None
    log: bool = False
    help: str = ""
    type: str = field(default="")

    def __post_init__(self) -> None:
        kind = self.type or _infer_type(self.default, self.choices)
        if kind not in _TYPES:
            raise InvalidParameterError(f"Param `type` must be one of {list(_TYPES)}; got {kind!r}.")
        object.__setattr__(self, "type", kind)
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))
        if kind == "int" and self.step is None and self.choices is None:
            object.__setattr__(self, "step", 1)
        if self.low is not None and self.high is not None and self.low > self.high:
            raise InvalidParameterError(f"Param bounds must satisfy low <= high; got low={self.low}, high={self.high}.")

    @property
    def bounded(self) -> bool:
        """Whether a search space can be built from the declaration alone."""
        return self.choices is not None or self.type == "bool" or (self.low is not None and self.high is not None)

    def validate(self, name: str, value: Any) -> Any:
        """Return ``value`` coerced to the parameter's type, or raise naming ``name`` and the range."""
        if self.choices is not None:
            if value not in self.choices:
                hint = did_you_mean(str(value), [str(c) for c in self.choices]) if isinstance(value, str) else ""
                listed = ", ".join(repr(c) for c in self.choices)
                raise InvalidParameterError(f"`{name}` must be one of {listed}; got {value!r}.{hint}")
            return value
        if self.type == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise InvalidParameterError(f"`{name}` must be True or False; got {value!r}.")
            return bool(value)
        if self.type == "str":
            if not isinstance(value, str):
                raise InvalidParameterError(f"`{name}` must be a string; got {value!r}.")
            return value
        return self._numeric(name, value)

    def _numeric(self, name: str, value: Any) -> int | float:
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        word = "an integer" if self.type == "int" else "a number"
        msg = f"`{name}` must be {word} in [{lo}, {hi}]; got {value!r}."
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise InvalidParameterError(msg)
        if self.type == "int":
            if isinstance(value, (float, np.floating)) and not float(value).is_integer():
                raise InvalidParameterError(msg)
            value = int(value)
        else:
            value = float(value)
            if math.isnan(value):
                raise InvalidParameterError(msg)
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise InvalidParameterError(msg)
        if self.step is not None and self.low is not None:
            k = (value - self.low) / self.step
            if abs(k - round(k)) > 1e-9 * max(1.0, abs(k)):
                below = self.low + math.floor(k) * self.step
                near = [v for v in (below, below + self.step) if self.high is None or v <= self.high]
                shown = " or ".join(f"{v:g}" for v in near)
                raise InvalidParameterError(
                    f"`{name}` must lie on its step {self.step:g} from {self.low:g}; got {value!r}. "
                    f"Fix: use {shown} (grids and Optuna search only those values)."
                )
        return value

    def grid(self, low: float | None = None, high: float | None = None, step: float | None = None) -> list[Any]:
        """The values of a grid sweep: choices, both booleans, or ``low..high`` by ``step``."""
        if self.choices is not None:
            return list(self.choices)
        if self.type == "bool":
            return [False, True]
        lo = self.low if low is None else low
        hi = self.high if high is None else high
        st = self.step if step is None else step
        if lo is None or hi is None or st is None:
            raise InvalidParameterError(
                "a grid needs low, high and step; this parameter declares "
                f"low={self.low}, high={self.high}, step={self.step}. Fix: pass a range for it."
            )
        n = int(math.floor((hi - lo) / st + 1e-9)) + 1
        values = [lo + i * st for i in range(max(n, 0))]
        return [int(round(v)) for v in values] if self.type == "int" else [float(v) for v in values]

    def suggest(self, trial: Any, name: str) -> Any:
        """Draw a value from an Optuna trial over the declared space."""
        if self.choices is not None:
            return trial.suggest_categorical(name, list(self.choices))
        if self.type == "bool":
            return trial.suggest_categorical(name, [False, True])
        if not self.bounded:
            raise InvalidParameterError(f"`{name}` has no bounds; declare low and high to search it.")
        if self.type == "int":
            return trial.suggest_int(name, int(self.low), int(self.high), step=1 if self.log else int(self.step or 1), log=self.log)
        step = None if self.log else self.step
        return trial.suggest_float(name, float(self.low), float(self.high), step=step, log=self.log)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (for widgets, CLI flags, papermill and docs)."""
        return {
            "type": self.type, "default": self.default, "low": self.low, "high": self.high,
            "step": self.step, "choices": list(self.choices) if self.choices else None,
            "log": self.log, "help": self.help,
        }


def _infer_type(default: Any, choices: tuple[Any, ...] | None) -> str:
    sample = default if default is not None else (choices[0] if choices else None)
    if isinstance(sample, (bool, np.bool_)):
        return "bool"
    if isinstance(sample, (int, np.integer)):
        return "int"
    if isinstance(sample, (float, np.floating)):
        return "float"
    if isinstance(sample, str):
        return "str"
    raise InvalidParameterError(f"cannot infer the type of a Param with default {default!r}; pass type='int'|'float'|'bool'|'str'.")
