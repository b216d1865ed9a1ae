"""Checks of user-supplied settings, each raising an error that names the parameter, the value
and the valid range (``` `fees` must be a float in [0, 0.1); got -0.01. ```)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from workbench.errors import InvalidParameterError, did_you_mean

__all__ = ["check_number", "check_int", "check_choice", "interval_text"]


def interval_text(lo: float | None, hi: float | None, *, lo_open: bool = False, hi_open: bool = False) -> str:
    """``[0, 0.1)``-style text for an interval; ``None`` bounds are infinite.

    >>> interval_text(0, 0.1, hi_open=True)
    '[0, 0.1)'
    >>> interval_text(0, None, lo_open=True)
    '(0, inf)'
    """
    left = "(" if lo_open or lo is None else "["
    right = ")" if hi_open or hi is None else "]"
    lo_s = "-inf" if lo is None else f"{lo:g}"
    hi_s = "inf" if hi is None else f"{hi:g}"
    return f"{left}{lo_s}, {hi_s}{right}"


def check_number(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
    hint: str = "",
) -> float:
    """Return ``value`` as a float, or raise naming ``name``, the value and the valid interval.

    >>> check_number("fees", 0.001, 0, 0.1, hi_open=True)
    0.001
    >>> check_number("fees", -0.01, 0, 0.1, hi_open=True)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `fees` must be a float in [0, 0.1); got -0.01.
    """
    bad = isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__")
    if not bad:
        x = float(value)
        bad = (
            math.isnan(x)
            or (lo is not None and (x < lo or (lo_open and x == lo)))
            or (hi is not None and (x > hi or (hi_open and x == hi)))
        )
    if bad:
        where = interval_text(lo, hi, lo_open=lo_open, hi_open=hi_open)
        raise InvalidParameterError(f"`{name}` must be a float in {where}; got {value!r}.{_suffix(hint)}")
    return x


def _suffix(hint: str) -> str:
    return f" {hint}" if hint else ""


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None, *, hint: str = "") -> int:
    """Return ``value`` as an int, or raise naming ``name``, the value and the valid range.

    >>> check_int("window", 20, 1)
    20
    >>> check_int("window", 2.5, 1)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `window` must be an integer in [1, inf); got 2.5.
    """
    ok_type = isinstance(value, int) and not isinstance(value, bool)
    if not ok_type and isinstance(value, float) and value.is_integer():
        ok_type, value = True, int(value)
    if not ok_type and hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu":
        ok_type, value = True, int(value)
    if not ok_type or (lo is not None and value < lo) or (hi is not None and value > hi):
        raise InvalidParameterError(f"`{name}` must be an integer in {interval_text(lo, hi)}; got {value!r}.{_suffix(hint)}")
    return int(value)


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``; otherwise raise with a "did you mean".

    >>> check_choice("fill", "next_open", ["next_open", "close"])
    'next_open'
    >>> check_choice("fill", "next_opn", ["next_open", "close"])
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `fill` must be one of 'next_open', 'close'; got 'next_opn'. Did you mean 'next_open'?
    """
    if value in choices:
        return value
    listed = ", ".join(repr(c) for c in choices)
    hint = did_you_mean(str(value), [str(c) for c in choices]) if isinstance(value, str) else ""
    raise InvalidParameterError(f"`{name}` must be one of {listed}; got {value!r}.{hint}")
