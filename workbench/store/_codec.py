"""Canonical JSON for the store: sorted keys, compact separators, no NaN.

Specs are stored as canonical JSON text (the text a run id is hashed from); metrics, artifacts
and symbols go into JSON columns through :func:`canonical_json` as the engine's serializer, so
SQLite and PostgreSQL hold the same text.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from workbench.errors import InvalidParameterError

__all__ = ["canonical_json", "to_json_value"]


def canonical_json(value: Any) -> str:
    """Serialize ``value`` with sorted keys and compact separators; NaN/inf are refused.

    >>> canonical_json({"b": 1, "a": [1.5, None]})
    '{"a":[1.5,null],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def to_json_value(value: Any, *, name: str, nonfinite: str = "null") -> Any:
    """Return ``value`` as plain JSON data (dict/list/str/int/float/bool/None).

    numpy scalars and arrays become Python numbers and lists, dates and datetimes ISO text,
    paths strings. Non-finite floats become ``None`` when ``nonfinite="null"``, or raise when
    ``nonfinite="raise"``. Anything else raises an :class:`InvalidParameterError` naming the
    offending key path inside ``name``.

    >>> to_json_value({"sharpe": float("nan"), "n": 3}, name="metrics")
    {'sharpe': None, 'n': 3}
    >>> to_json_value({"x": object}, name="spec")
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: `spec['x']` must be JSON data (dict, list, str, number, bool, None); got <class 'type'>...
    """
    return _convert(value, name, nonfinite)


def _convert(value: Any, path: str, nonfinite: str) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        if nonfinite == "null":
            return None
        raise InvalidParameterError(
            f"`{path}` must be a finite number; got {value!r}. Encode missing values as None."
        )
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidParameterError(f"keys of `{path}` must be strings; got {key!r}.")
            out[key] = _convert(item, f"{path}[{key!r}]", nonfinite)
        return out
    if isinstance(value, (list, tuple)):
        return [_convert(item, f"{path}[{i}]", nonfinite) for i, item in enumerate(value)]
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if hasattr(value, "dtype") and hasattr(value, "tolist"):  # numpy scalar or array
        return _convert(value.tolist(), path, nonfinite)
    raise InvalidParameterError(
        f"`{path}` must be JSON data (dict, list, str, number, bool, None); got {type(value)!r} "
        f"({value!r}). Convert it to one of those types first."
    )
