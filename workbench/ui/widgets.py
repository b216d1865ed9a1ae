"""Dashboard widgets generated from a strategy's parameter declarations (:class:`Param`).

A strategy declares each parameter once; this module turns the declaration into the matching
Panel widget (slider for bounded numbers, select for choices, checkbox for booleans, input
otherwise) so adding a parameter to a strategy adds its widget with no dashboard change.
"""

from __future__ import annotations

from typing import Any

from workbench.strategies.base import Strategy
from workbench.strategies.params import Param

__all__ = ["param_widget", "param_widgets", "widget_values"]


def param_widget(name: str, param: Param, value: Any = None) -> Any:
    """The Panel widget for one declared parameter, set to ``value`` (default: the declared default).

    Examples
    --------
    >>> w = param_widget("fast", Param(10, low=2, high=200, help="fast window"))
    >>> type(w).__name__, w.start, w.end, w.value
    ('IntSlider', 2, 200, 10)
    """
    from workbench._extras import require

    require("dashboards", "panel")
    import panel as pn

    value = param.default if value is None else value
    label = name.replace("_", " ")
    if param.choices is not None:
        return pn.widgets.Select(label=label, options=list(param.choices), value=value, description=param.help or None)
    if param.type == "bool":
        return pn.widgets.Checkbox(label=label, value=bool(value))
    if param.type == "str":
        return pn.widgets.TextInput(label=label, value=str(value), description=param.help or None)
    if param.low is not None and param.high is not None:
        if param.type == "int":
            return pn.widgets.IntSlider(label=label, start=int(param.low), end=int(param.high),
                                        step=int(param.step or 1), value=int(value))
        step = param.step or (param.high - param.low) / 100
        return pn.widgets.FloatSlider(label=label, start=float(param.low), end=float(param.high),
                                      step=float(step), value=float(value))
    if param.type == "int":
        return pn.widgets.IntInput(label=label, value=int(value), description=param.help or None)
    return pn.widgets.FloatInput(label=label, value=float(value), description=param.help or None)


def param_widgets(strategy: type[Strategy] | Strategy) -> dict[str, Any]:
    """One widget per declared parameter of ``strategy`` (a class, or an instance whose values
    the widgets start from), keyed by parameter name, in declaration order.

    Examples
    --------
    >>> from workbench.strategies import SmaCross
    >>> ws = param_widgets(SmaCross(fast=5))
    >>> list(ws), ws["fast"].value, type(ws["direction"]).__name__
    (['fast', 'slow', 'direction'], 5, 'Select')
    """
    cls = strategy if isinstance(strategy, type) else type(strategy)
    current = {} if isinstance(strategy, type) else strategy.get_params()
    return {n: param_widget(n, p, current.get(n)) for n, p in cls.param_space().items()}


def widget_values(widgets: dict[str, Any]) -> dict[str, Any]:
    """The widgets' current values as strategy parameters (validate them with ``Strategy(**values)``)."""
    return {name: w.value for name, w in widgets.items()}
