"""The Strategy contract: parameters declared once, decisions written in one of three styles.

1. **vectorized** — override :meth:`Strategy.signals` and return :class:`Signals` arrays computed
   from all bars at once (polars or numpy);
2. **Numba per-bar callback** — set ``on_bar_nb`` to an ``@njit`` function
   ``(t, open, high, low, close, volume, state, cash, intent, extra)`` that sees bars up to *t*
   only (``state[j, S_UNITS]`` is the position; it writes ``intent[j, I_ENTRY] = 1`` etc., with
   the constants of :mod:`workbench.nb.enums`), and optionally override :meth:`Strategy.prepare`
   to pass it precomputed arrays;
3. **Python per-bar callback** — override :meth:`Strategy.on_bar` and call
   ``ctx.buy()``, ``ctx.sell()``, ``ctx.close()``… on the :class:`Context` it receives.

All three drive the same simulation core, so the same decisions give identical results.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from workbench.errors import InvalidParameterError, StrategyError, did_you_mean
from workbench.nb.enums import (
    I_CANCEL,
    I_ENTRY,
    I_EXIT,
    I_LIMIT,
    I_SIZE,
    I_SL,
    I_STOP,
    I_TARGET,
    I_TP,
    I_TSL,
    I_WEIGHT,
    S_UNITS,
)
from workbench.strategies.params import Param

__all__ = ["Strategy", "Signals", "Bars", "Context"]


@dataclass(frozen=True, slots=True, eq=False)
class Bars:
    """What a strategy sees: arrays of shape ``(n_bars, n_assets)``, the timestamps (UTC), the
    symbols, the source frame (None when the bars came as arrays) and the time zone in which
    the bars are dated. ``derived`` keeps values computed from these bars (their frequency,
    buy-and-hold returns) for every backtest that uses them."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    ts: np.ndarray
    symbols: tuple[str, ...]
    frame: Any = None
    time_zone: str = "UTC"
    derived: dict[str, Any] = field(default_factory=dict, repr=False)

    def derive(self, name: str, compute: Any) -> Any:
        """``derived[name]``, computed by ``compute()`` the first time it is asked for."""
        value = self.derived.get(name)
        if value is None:
            value = self.derived[name] = compute()
        return value

    @property
    def n_bars(self) -> int:
        return int(self.close.shape[0])

    @property
    def n_assets(self) -> int:
        return int(self.close.shape[1])


@dataclass(frozen=True, slots=True, eq=False)
class Signals:
    """Decisions of a vectorized strategy, one value per bar (and asset), taken at the bar's close.

    Boolean ``entries``/``exits`` open and close longs, ``short_entries``/``short_exits`` shorts.
    The optional float arrays (NaN = none) give a per-entry ``size``, a ``limit`` and/or ``stop``
    price turning the entry into a limit, stop or stop-limit order, protective ``sl``/``tp``/``tsl``
    levels (fractions of price, or absolute prices/distances when ``stop_mode="price"``; where
    NaN, the ``sl``/``tp``/``tsl`` settings apply, always as fractions of price), and a
    suggested position ``weight``. Arrays may be 1-D (one asset) or 2-D ``(n_bars, n_assets)``;
    scalars broadcast. Values are read only on bars with an entry.

    On one bar, a long and a short entry cancel out, and so do an entry and an exit of the same
    side (or exits of both sides); an entry in the direction already held is ignored unless
    ``accumulate`` is on, and an opposite one reverses the position unless ``reverse`` is off.
    A new entry replaces a pending limit/stop entry, and an exit of its side withdraws it (both
    recorded as ``cancelled``).
    """

    entries: Any = None
    exits: Any = None
    short_entries: Any = None
    short_exits: Any = None
    size: Any = None
    limit: Any = None
    stop: Any = None
    sl: Any = None
    tp: Any = None
    tsl: Any = None
    weight: Any = None
    stop_mode: Literal["percent", "price"] = "percent"


class Strategy:
    """Base class of every strategy.

    Declare parameters as class attributes with :class:`Param`; constructors only store
    validated values (like scikit-learn estimators); ``constraints`` are boolean expressions over
    parameter names that every parameter set must satisfy.

    Examples
    --------
    >>> class Cross(Strategy):
    ...     fast = Param(10, low=2, high=100, help="fast window")
    ...     slow = Param(30, low=3, high=400, help="slow window")
    ...     constraints = ("fast < slow",)
    >>> Cross(fast=5)
    Cross(fast=5, slow=30)
    >>> Cross(fast=50, slow=20)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: Cross parameters break the constraint 'fast < slow' (fast=50, slow=20).
    >>> Cross(fsat=5)
    Traceback (most recent call last):
    ...
    workbench.errors.InvalidParameterError: Cross has no parameter 'fsat'. Did you mean 'fast'? Parameters: fast, slow.
    """

    _params: dict[str, Any]
    version: ClassVar[str] = "1"
    constraints: ClassVar[tuple[str, ...]] = ()
    on_bar_nb: ClassVar[Any] = None

    def __init__(self, **params: Any) -> None:
        declared = self.param_space()
        for name in params:
            if name not in declared:
                raise InvalidParameterError(
                    f"{type(self).__name__} has no parameter {name!r}.{did_you_mean(name, declared)} "
                    f"Parameters: {', '.join(declared) or '(none)'}."
                )
        values = {n: p.validate(n, params.get(n, p.default)) for n, p in declared.items()}
        self.check_constraints(values)
        object.__setattr__(self, "_params", values)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; use .clone({name}=...) for other parameters.")

    # -- the parameter declaration -------------------------------------------------------
    @classmethod
    def param_space(cls) -> dict[str, Param]:
        """The declared parameters, in declaration order (base classes first)."""
        out: dict[str, Param] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                if isinstance(value, Param):
                    out[name] = value
        return out

    @classmethod
    def check_constraints(cls, values: Mapping[str, Any]) -> None:
        """Raise when ``values`` break one of the class's ``constraints``.

        Constraints are parsed by the one checker every search uses
        (:func:`workbench.optimize.space.constraint_expr`): comparisons, and/or/not, arithmetic,
        ``abs``/``min``/``max`` over parameter names; never ``eval``.
        """
        if not cls.constraints:
            return
        import polars as pl

        from workbench.optimize.space import check_rows

        row = pl.DataFrame([{k: values[k] for k in values}])
        try:
            checked = check_rows(cls.constraints, row, list(values))
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"{cls.__name__} {exc}") from None
        for expr, ok in zip(cls.constraints, checked, strict=True):
            if not ok[0]:
                shown = ", ".join(f"{k}={values[k]!r}" for k in values if k in expr)
                raise InvalidParameterError(f"{cls.__name__} parameters break the constraint {expr!r} ({shown}).")

    def get_params(self) -> dict[str, Any]:
        """The parameter values of this instance."""
        return dict(self._params)

    def clone(self, **changes: Any) -> Strategy:
        """A new instance with some parameters changed."""
        return type(self)(**{**self._params, **changes})

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def style(self) -> Literal["vectorized", "numba", "python"]:
        """How this strategy makes decisions (which method it overrides)."""
        cls = type(self)
        if cls.signals is not Strategy.signals:
            return "vectorized"
        if cls.on_bar_nb is not None:
            return "numba"
        if cls.on_bar is not Strategy.on_bar:
            return "python"
        raise StrategyError(f"{cls.__name__} defines no decisions: override signals(), on_bar(), or set on_bar_nb.")

    def spec(self) -> dict[str, Any]:
        """The JSON-ready identity of this strategy (part of a run's spec): its name, module,
        ``version``, the hash of its code (:func:`~workbench.strategies._code.code_of`: the class,
        the helpers and Numba callbacks it uses, normalised so layout does not count) and its
        parameters."""
        from workbench.strategies._code import code_of, origin_of

        cls = type(self)
        return {"name": self.name, "module": origin_of(cls), "version": self.version, "code": code_of(cls).hash,
                "params": self.get_params()}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{self.name}({inner})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._params == self._params  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self._params.items()))))

    # -- the three styles ------------------------------------------------------------------
    def signals(self, bars: Bars) -> Signals:
        """Vectorized decisions from all bars (override this, or one of the per-bar styles)."""
        raise NotImplementedError

    def prepare(self, bars: Bars) -> tuple:
        """Arrays handed to ``on_bar_nb`` as its ``extra`` argument (default: none)."""
        return (np.empty(0),)

    def on_bar(self, ctx: Context) -> None:
        """Per-bar decisions in plain Python (override this, or the other styles)."""
        raise NotImplementedError


class Context:
    """What a Python per-bar strategy sees at the close of bar ``t`` and how it places orders.

    Prices and timestamps are views of bars ``0..t`` only (``ctx.close[-1]`` is this bar's
    close, ``ctx.ts[-1]`` its time), so a strategy cannot look ahead. ``asset`` arguments take an index or a symbol name.
    """

    __slots__ = ("t", "open", "high", "low", "close", "volume", "ts", "symbols", "_state", "_cash",
                 "_intent", "_index", "_sharing")

    def __init__(self, bars: Bars, state: np.ndarray, cash: np.ndarray, intent: np.ndarray, sharing: bool) -> None:
        self.symbols = bars.symbols
        self._index = {s: i for i, s in enumerate(bars.symbols)}
        self._state, self._cash, self._intent, self._sharing = state, cash, intent, sharing

    def _at(self, t: int, bars: Bars) -> Context:
        self.t = t
        self.open, self.high, self.low = bars.open[: t + 1], bars.high[: t + 1], bars.low[: t + 1]
        self.close, self.volume = bars.close[: t + 1], bars.volume[: t + 1]
        self.ts = bars.ts[: t + 1]
        return self

    def _j(self, asset: int | str) -> int:
        if isinstance(asset, str):
            if asset not in self._index:
                raise InvalidParameterError(f"unknown asset {asset!r}.{did_you_mean(asset, self._index)}")
            return self._index[asset]
        return int(asset)

    def position(self, asset: int | str = 0) -> float:
        """Units held (negative when short)."""
        return float(self._state[self._j(asset), S_UNITS])

    @property
    def cash(self) -> float:
        return float(self._cash.sum())

    @property
    def equity(self) -> float:
        """Cash plus every position marked at this bar's close."""
        units = self._state[:, S_UNITS]
        held = np.where(units != 0.0, units * self.close[-1], 0.0)
        return float(self._cash.sum() + held.sum())

    def _entry(self, j: int, direction: int, size, limit, stop, sl, tp, tsl, weight) -> None:
        it = self._intent
        given = ((I_SIZE, "size", size), (I_LIMIT, "limit", limit), (I_STOP, "stop", stop), (I_SL, "sl", sl),
                 (I_TP, "tp", tp), (I_TSL, "tsl", tsl), (I_WEIGHT, "weight", weight))
        for col, name, value in given:
            if value is None:
                it[j, col] = np.nan
                continue
            x = float(value) if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) else np.nan
            if not (x > 0.0 and math.isfinite(x)):
                raise InvalidParameterError(f"`{name}` must be a positive number (or None); got {value!r} at bar {self.t}.")
            it[j, col] = x
        it[j, I_ENTRY] = direction

    def buy(self, asset: int | str = 0, *, size: float | None = None, limit: float | None = None,
            stop: float | None = None, sl: float | None = None, tp: float | None = None,
            tsl: float | None = None, weight: float | None = None) -> None:
        """Open (or reverse into) a long position at the next fill.

        ``size`` overrides the configured size; ``limit``/``stop`` prices make it a limit, stop or
        stop-limit order; ``sl``, ``tp`` and ``tsl`` are fractions of the fill price (0.05 = 5%);
        every given value must be positive.
        """
        self._entry(self._j(asset), 1, size, limit, stop, sl, tp, tsl, weight)

    def sell(self, asset: int | str = 0, *, size: float | None = None, limit: float | None = None,
             stop: float | None = None, sl: float | None = None, tp: float | None = None,
             tsl: float | None = None, weight: float | None = None) -> None:
        """Open (or reverse into) a short position at the next fill (arguments as :meth:`buy`)."""
        self._entry(self._j(asset), -1, size, limit, stop, sl, tp, tsl, weight)

    def exit(self, asset: int | str = 0) -> None:
        """Close whatever position is open in ``asset`` at the next fill."""
        self._intent[self._j(asset), I_EXIT] = 2

    def exit_long(self, asset: int | str = 0) -> None:
        self._intent[self._j(asset), I_EXIT] = 1

    def exit_short(self, asset: int | str = 0) -> None:
        self._intent[self._j(asset), I_EXIT] = -1

    def target(self, asset: int | str, weight: float) -> None:
        """Rebalance ``asset`` to ``weight`` of equity at the next fill."""
        w = float(weight) if isinstance(weight, (int, float, np.integer, np.floating)) and not isinstance(weight, bool) else np.nan
        if not math.isfinite(w):
            raise InvalidParameterError(f"`weight` must be a finite number; got {weight!r} at bar {self.t}.")
        self._intent[self._j(asset), I_TARGET] = w

    def cancel(self, asset: int | str = 0) -> None:
        """Withdraw the pending (limit/stop) entry order of ``asset``."""
        self._intent[self._j(asset), I_CANCEL] = 1
